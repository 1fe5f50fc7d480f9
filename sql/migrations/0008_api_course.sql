-- keywork 0008: the operations for changes of course (see 0007). Each
-- refusal is a 422 naming its rule, or a 409 for a state that does not
-- allow it. Changes that cross what the caller may write (a new keyworker,
-- a coordinator's decision on someone else's episode) are made by SECURITY
-- DEFINER functions after the invoker-side checks, and touch only the row
-- they were checked for.

GRANT UPDATE (closed_at) ON kw.episodes TO keywork_api;

-- Status changes made for the caller once the operation has checked them.
-- The state machine trigger still holds them to the allowed transitions.
CREATE FUNCTION kw.episode_set(p_episode uuid, p_status text, p_keyworker uuid,
    p_closed boolean)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
	UPDATE kw.episodes SET
	    status = coalesce(p_status, status),
	    keyworker_id = coalesce(p_keyworker, keyworker_id),
	    closed_at = CASE WHEN p_closed IS NULL THEN closed_at
		WHEN p_closed THEN now() ELSE NULL END,
	    version = version + 1, updated_at = now()
	WHERE id = p_episode
$$;
REVOKE ALL ON FUNCTION kw.episode_set(uuid, text, uuid, boolean) FROM PUBLIC;
-- Not granted to the API role: only the definer operations below call it.

------------------------------------------------------------------------------
-- Closure and reopening

CREATE FUNCTION kw.closure_json(c kw.closures) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', c.id, 'episode_id', c.episode_id, 'reason', c.reason,
	    'family_views', c.family_views, 'children_views', c.children_views,
	    'feedback', c.feedback, 'closed_by', c.closed_by, 'closed_at', c.closed_at,
	    'reopened_by', c.reopened_by, 'reopened_at', c.reopened_at,
	    'reopen_reason', c.reopen_reason)
$$;

-- Close as the caller (keyworker or manager, checked by the caller).
CREATE FUNCTION kw.close_episode(e kw.episodes, p_body jsonb) RETURNS kw.closures
LANGUAGE plpgsql AS $$
DECLARE
	c kw.closures;
BEGIN
	INSERT INTO kw.closures (episode_id, reason, family_views, children_views, feedback,
	    closed_by)
	VALUES (e.id, p_body->>'reason', p_body->>'family_views', p_body->>'children_views',
	    p_body->>'feedback', kw.current_user_id())
	RETURNING * INTO c;
	UPDATE kw.episodes SET status = 'closed', closed_at = now(),
	    version = version + 1, updated_at = now()
	WHERE id = e.id;
	-- A step up still pending goes with the closure.
	PERFORM kw.withdraw_step_ups(e.id);
	RETURN c;
END
$$;

CREATE FUNCTION api.close_episode(p_token text, p_rid text, p_addr text, p_id uuid,
    p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	e kw.episodes;
	c kw.closures;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	e := kw.require_writer(p_id, 'close an episode');
	SELECT * INTO e FROM kw.episodes WHERE id = p_id FOR UPDATE;
	IF e.status = 'closed' THEN
		PERFORM kw.raise('KW409', 'The episode is already closed.');
	END IF;
	IF p_body->>'reason' = 'stepped_up' AND e.status <> 'stepped_up' THEN
		PERFORM kw.rule('closed_stepped_up_after_acceptance',
		    'An episode is closed as stepped up only once the step up is accepted.');
	END IF;
	IF EXISTS (SELECT 1 FROM kw.transfers t WHERE t.episode_id = p_id
	    AND t.status IN ('proposed', 'accepted')) THEN
		PERFORM kw.rule('no_transfer_in_progress',
		    'A transfer is in progress: complete or decline it before closing.');
	END IF;
	c := kw.close_episode(e, p_body);
	RETURN kw.closure_json(c) || jsonb_build_object('episode',
	    (SELECT o.body FROM kw.episode_out(p_id) o));
END
$$;

CREATE FUNCTION api.reopen_episode(p_token text, p_rid text, p_addr text, p_id uuid,
    p_body jsonb, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	e kw.episodes;
	c kw.closures;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	e := kw.require_writer(p_id, 'reopen an episode');
	SELECT * INTO e FROM kw.episodes WHERE id = p_id FOR UPDATE;
	IF e.status <> 'closed' THEN
		PERFORM kw.raise('KW409', 'The episode is open.');
	END IF;
	SELECT * INTO c FROM kw.closures WHERE episode_id = p_id AND reopened_at IS NULL
	ORDER BY closed_at DESC LIMIT 1;
	IF c.reason = 'transferred_out' THEN
		PERFORM kw.rule('transferred_out_not_reopened',
		    'The family moved out of county: register it again if it returns.');
	END IF;
	IF e.closed_at < now() - make_interval(days => kw.setting('reopen_days')) THEN
		PERFORM kw.rule('reopen_within_period', format(
		    'An episode can be reopened within %s days of closure: register the family again.',
		    kw.setting('reopen_days')));
	END IF;
	UPDATE kw.episodes SET status = kw.working_status(p_id), closed_at = NULL,
	    version = version + 1, updated_at = now()
	WHERE id = p_id;
	UPDATE kw.closures SET reopened_by = kw.current_user_id(), reopened_at = now(),
	    reopen_reason = p_body->>'reason'
	WHERE id = c.id;
	SELECT o.body, o.etag INTO body, etag FROM kw.episode_out(p_id) o;
END
$$;
GRANT UPDATE (reopened_by, reopened_at, reopen_reason) ON kw.closures TO keywork_api;
GRANT INSERT ON kw.closures TO keywork_api;
CREATE POLICY closures_add ON kw.closures FOR INSERT TO keywork_api WITH CHECK (
	closed_by = kw.current_user_id() AND kw.episode_writer(episode_id));
CREATE POLICY closures_reopen ON kw.closures FOR UPDATE TO keywork_api
	USING (kw.episode_writer(episode_id));

------------------------------------------------------------------------------
-- Transfers

CREATE FUNCTION kw.transfer_json(t kw.transfers) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', t.id, 'episode_id', t.episode_id, 'kind', t.kind,
	    'reason', t.reason, 'from_keyworker_id', t.from_keyworker_id,
	    'to_keyworker_id', t.to_keyworker_id, 'receiving_authority', t.receiving_authority,
	    'family_told_at', t.family_told_at, 'changeover_on', t.changeover_on,
	    'ends_on', t.ends_on, 'keep_former_on_team', t.keep_former_on_team,
	    'status', t.status, 'note', t.note, 'proposed_by', t.proposed_by,
	    'decided_at', t.decided_at, 'completed_at', t.completed_at,
	    'ended_at', t.ended_at, 'created_at', t.created_at)
$$;

CREATE FUNCTION api.propose_transfer(p_token text, p_rid text, p_addr text, p_id uuid,
    p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	e kw.episodes;
	t kw.transfers;
	to_kw uuid := (p_body->>'to_keyworker_id')::uuid;
	days integer := kw.setting('transfer_consent_review_days');
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	e := kw.require_writer(p_id, 'propose a transfer');
	SELECT * INTO e FROM kw.episodes WHERE id = p_id FOR UPDATE;
	PERFORM kw.require_open(e);
	-- Seed 004: consent is reviewed before information goes to a new keyworker.
	IF NOT EXISTS (SELECT 1 FROM kw.consents c WHERE c.episode_id = p_id
	    AND c.kind = 'review' AND c.obtained_at >= now() - make_interval(days => days)) THEN
		PERFORM kw.rule('transfer_consent_reviewed', format(
		    'Review the family''s consent (a consent of kind review) within %s days '
		    'before proposing a transfer.', days));
	END IF;
	IF (p_body->>'family_told_at')::timestamptz > now() + interval '5 minutes' THEN
		PERFORM kw.rule('family_told_before_changeover',
		    'The family is told before the transfer is proposed: family_told_at is in the future.');
	END IF;
	IF (p_body->>'changeover_on')::date < kw.local_date((p_body->>'family_told_at')::timestamptz) THEN
		PERFORM kw.rule('family_told_before_changeover',
		    'The family is told before the changeover date.');
	END IF;
	IF (p_body->>'kind' = 'out_of_county') <> (to_kw IS NULL) THEN
		PERFORM kw.rule('transfer_receiver',
		    'An out-of-county transfer names the receiving authority; any other names '
		    'the new keyworker (to_keyworker_id).');
	END IF;
	IF (p_body->>'kind' = 'out_of_county') <> (p_body->>'receiving_authority' IS NOT NULL) THEN
		PERFORM kw.rule('transfer_receiver',
		    'receiving_authority is given for an out-of-county transfer only.');
	END IF;
	IF (p_body->>'kind' = 'temporary') <> (p_body->>'ends_on' IS NOT NULL) THEN
		PERFORM kw.rule('temporary_cover_ends',
		    'Temporary cover has an end date (ends_on), and only temporary cover has one.');
	END IF;
	IF (p_body->>'ends_on')::date <= (p_body->>'changeover_on')::date THEN
		PERFORM kw.rule('temporary_cover_ends', 'ends_on is after changeover_on.');
	END IF;
	IF to_kw IS NOT NULL AND (NOT kw.is_practitioner(to_kw) OR to_kw = e.keyworker_id) THEN
		PERFORM kw.rule('keyworker_is_practitioner',
		    'to_keyworker_id must name an active practitioner other than the keyworker.');
	END IF;
	IF EXISTS (SELECT 1 FROM kw.transfers x WHERE x.episode_id = p_id
	    AND x.status IN ('proposed', 'accepted')) THEN
		PERFORM kw.raise('KW409', 'A transfer is already in progress for this episode.');
	END IF;
	INSERT INTO kw.transfers (episode_id, kind, reason, from_keyworker_id, to_keyworker_id,
	    receiving_authority, family_told_at, changeover_on, ends_on, keep_former_on_team,
	    note, proposed_by)
	VALUES (p_id, p_body->>'kind', p_body->>'reason', e.keyworker_id, to_kw,
	    p_body->>'receiving_authority', (p_body->>'family_told_at')::timestamptz,
	    (p_body->>'changeover_on')::date, (p_body->>'ends_on')::date,
	    coalesce((p_body->>'keep_former_on_team')::boolean, true), p_body->>'note',
	    kw.current_user_id())
	RETURNING * INTO t;
	RETURN kw.transfer_json(t);
END
$$;
GRANT INSERT ON kw.transfers TO keywork_api;
CREATE POLICY transfers_propose ON kw.transfers FOR INSERT TO keywork_api WITH CHECK (
	proposed_by = kw.current_user_id() AND kw.episode_writer(episode_id));

-- The decision on a transfer: the new keyworker accepts or declines (for an
-- out-of-county transfer, the keyworker records the receiving authority's).
CREATE FUNCTION kw.transfer_decide(p_transfer uuid, p_accept boolean, p_note text)
RETURNS kw.transfers
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	t kw.transfers;
	e kw.episodes;
BEGIN
	SELECT * INTO t FROM kw.transfers WHERE id = p_transfer FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such transfer.');
	END IF;
	SELECT * INTO e FROM kw.episodes WHERE id = t.episode_id;
	-- Written with coalesce: an out-of-county transfer has no new keyworker,
	-- and a NULL comparison must not let anyone through.
	IF NOT coalesce(t.to_keyworker_id = kw.current_user_id()
	    OR (t.to_keyworker_id IS NULL AND (e.keyworker_id = kw.current_user_id()
		OR e.keyworker_id = ANY (kw.my_reports()))), false) THEN
		IF NOT coalesce(t.to_keyworker_id = kw.current_user_id(), false)
		    AND NOT coalesce(e.id = ANY (kw.my_episodes(true))
			OR e.keyworker_id = ANY (kw.my_reports())
			OR e.area_id = ANY (kw.my_areas()), false) THEN
			PERFORM kw.raise('KW404', 'No such transfer.');
		END IF;
		PERFORM kw.raise('KW403', 'The proposed keyworker accepts or declines a transfer.');
	END IF;
	IF t.status <> 'proposed' THEN
		PERFORM kw.raise('KW409', format('The transfer was already %s.', t.status));
	END IF;
	UPDATE kw.transfers SET status = CASE WHEN p_accept THEN 'accepted' ELSE 'declined' END,
	    decided_at = now(), note = coalesce(p_note, note), version = version + 1
	WHERE id = p_transfer RETURNING * INTO t;
	RETURN t;
END
$$;
REVOKE ALL ON FUNCTION kw.transfer_decide(uuid, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.transfer_decide(uuid, boolean, text) TO keywork_api;

CREATE FUNCTION api.accept_transfer(p_token text, p_rid text, p_addr text, p_id uuid,
    p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	RETURN kw.transfer_json(kw.transfer_decide(p_id, true, p_body->>'note'));
END
$$;

CREATE FUNCTION api.decline_transfer(p_token text, p_rid text, p_addr text, p_id uuid,
    p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	RETURN kw.transfer_json(kw.transfer_decide(p_id, false, p_body->>'note'));
END
$$;

-- The changeover: the keyworker changes in one statement with the episode
-- row locked, so that the episode is never without one and two changeovers
-- (or a changeover and a closure) cannot interleave.
CREATE FUNCTION kw.transfer_complete(p_transfer uuid) RETURNS kw.transfers
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	t kw.transfers;
	e kw.episodes;
BEGIN
	SELECT * INTO t FROM kw.transfers WHERE id = p_transfer;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such transfer.');
	END IF;
	-- Lock order: the episode, then the transfer (as every writer here).
	SELECT * INTO e FROM kw.episodes WHERE id = t.episode_id FOR UPDATE;
	SELECT * INTO t FROM kw.transfers WHERE id = p_transfer FOR UPDATE;
	IF NOT coalesce(e.keyworker_id = kw.current_user_id()
	    OR e.keyworker_id = ANY (kw.my_reports())
	    OR t.to_keyworker_id = kw.current_user_id(), false) THEN
		IF NOT coalesce(e.id = ANY (kw.my_episodes(true))
		    OR e.area_id = ANY (kw.my_areas()), false) THEN
			PERFORM kw.raise('KW404', 'No such transfer.');
		END IF;
		PERFORM kw.raise('KW403', 'The keyworker, their manager or the new keyworker '
		    'completes a transfer.');
	END IF;
	IF t.status <> 'accepted' THEN
		PERFORM kw.rule('transfer_accepted_first', format(
		    'Only an accepted transfer is completed; this one is %s.', t.status));
	END IF;
	IF e.status = 'closed' THEN
		PERFORM kw.rule('closed_episode_read_only', 'The episode is closed.');
	END IF;
	IF kw.today() < t.changeover_on THEN
		PERFORM kw.rule('changeover_date', format(
		    'The changeover is agreed for %s: complete the transfer on or after it.',
		    t.changeover_on));
	END IF;
	IF e.keyworker_id <> t.from_keyworker_id THEN
		PERFORM kw.raise('KW409', 'The keyworker changed since this transfer was proposed.');
	END IF;
	IF t.to_keyworker_id IS NOT NULL AND NOT kw.is_practitioner_any(t.to_keyworker_id) THEN
		PERFORM kw.rule('keyworker_is_practitioner',
		    'The new keyworker is no longer an active practitioner.');
	END IF;
	IF t.kind = 'out_of_county' THEN
		INSERT INTO kw.closures (episode_id, reason, family_views, children_views, feedback,
		    closed_by)
		VALUES (e.id, 'transferred_out', 'Transferred to ' || t.receiving_authority || '.',
		    'Transferred to ' || t.receiving_authority || '.', NULL, kw.current_user_id());
		PERFORM kw.episode_set(e.id, 'closed', NULL, true);
		PERFORM kw.withdraw_step_ups(e.id);
	ELSE
		DELETE FROM kw.team_members WHERE episode_id = e.id AND user_id = t.to_keyworker_id;
		PERFORM kw.episode_set(e.id, NULL, t.to_keyworker_id, NULL);
		IF t.keep_former_on_team OR t.kind = 'temporary' THEN
			INSERT INTO kw.team_members (episode_id, user_id, level, added_by)
			VALUES (e.id, t.from_keyworker_id, 'full', kw.current_user_id())
			ON CONFLICT (episode_id, user_id) DO UPDATE SET level = 'full',
			    version = kw.team_members.version + 1, updated_at = now();
		END IF;
	END IF;
	UPDATE kw.transfers SET status = 'completed', completed_at = now(), version = version + 1
	WHERE id = p_transfer RETURNING * INTO t;
	RETURN t;
END
$$;
REVOKE ALL ON FUNCTION kw.transfer_complete(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.transfer_complete(uuid) TO keywork_api;

CREATE FUNCTION api.complete_transfer(p_token text, p_rid text, p_addr text, p_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	RETURN kw.transfer_json(kw.transfer_complete(p_id));
END
$$;

-- Temporary cover whose end date has passed: the original keyworker
-- returns, and the cover stays on the team. Run by the scheduled worker
-- (as the owner); returns how many covers ended.
CREATE FUNCTION kw.end_temporary_covers() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	t kw.transfers;
	e kw.episodes;
	n integer := 0;
BEGIN
	FOR t IN SELECT * FROM kw.transfers WHERE kind = 'temporary' AND status = 'completed'
	    AND ends_on <= kw.today() ORDER BY episode_id LOOP
		SELECT * INTO e FROM kw.episodes WHERE id = t.episode_id FOR UPDATE;
		IF e.status <> 'closed' AND e.keyworker_id = t.to_keyworker_id
		    AND kw.is_practitioner_any(t.from_keyworker_id) THEN
			DELETE FROM kw.team_members WHERE episode_id = e.id
			    AND user_id = t.from_keyworker_id;
			UPDATE kw.episodes SET keyworker_id = t.from_keyworker_id,
			    version = version + 1, updated_at = now()
			WHERE id = e.id;
			INSERT INTO kw.team_members (episode_id, user_id, level, added_by)
			VALUES (e.id, t.to_keyworker_id, 'full', t.from_keyworker_id)
			ON CONFLICT (episode_id, user_id) DO NOTHING;
		END IF;
		UPDATE kw.transfers SET status = 'ended', ended_at = now(), version = version + 1
		WHERE id = t.id;
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;
REVOKE ALL ON FUNCTION kw.end_temporary_covers() FROM PUBLIC;

-- Whether p_user is an active practitioner, whoever asks (the worker).
CREATE FUNCTION kw.is_practitioner_any(p_user uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = kw, pg_temp AS $$
	SELECT EXISTS (SELECT 1 FROM kw.users u
	    WHERE u.id = p_user AND u.active AND 'practitioner' = ANY (u.roles))
$$;
REVOKE ALL ON FUNCTION kw.is_practitioner_any(uuid) FROM PUBLIC;

CREATE FUNCTION api.list_transfers(p_token text, p_rid text, p_addr text, p_id uuid,
    p_limit integer, p_after_at timestamptz, p_after_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_full(p_id, 'transfers');
	RETURN coalesce((SELECT jsonb_agg(kw.transfer_json(t) ORDER BY t.created_at, t.id)
	FROM (SELECT * FROM kw.transfers x WHERE x.episode_id = p_id
	    AND (p_after_at IS NULL OR (x.created_at, x.id) > (p_after_at, p_after_id))
	    ORDER BY x.created_at, x.id LIMIT p_limit) t), '[]'::jsonb);
END
$$;

------------------------------------------------------------------------------
-- Step up

CREATE FUNCTION kw.step_up_json(s kw.step_ups) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', s.id, 'episode_id', s.episode_id, 'area_id', s.area_id,
	    'unmet_needs', s.unmet_needs, 'what_was_tried', s.what_was_tried,
	    'more_within_resources', s.more_within_resources,
	    'impact_so_far', s.impact_so_far, 'evidence_higher_level', s.evidence_higher_level,
	    'advice_sought', s.advice_sought,
	    'safeguarding_referral_made', s.safeguarding_referral_made, 'status', s.status,
	    'decision_note', s.decision_note,
	    'action_impact_meeting_at', s.action_impact_meeting_at,
	    'requested_by', s.requested_by, 'decided_by', s.decided_by,
	    'decided_at', s.decided_at, 'created_at', s.created_at)
$$;

-- Alert the keyworker's manager and the area's coordinators at once of an
-- immediate safeguarding concern.
CREATE FUNCTION kw.alert_safeguarding(p_episode uuid, p_detail text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	e kw.episodes;
BEGIN
	SELECT * INTO e FROM kw.episodes WHERE id = p_episode;
	IF NOT FOUND OR NOT (e.keyworker_id = kw.current_user_id()
	    OR e.keyworker_id = ANY (kw.my_reports())) THEN
		RETURN;
	END IF;
	INSERT INTO kw.alerts (episode_id, user_id, kind, detail, created_by)
	SELECT e.id, u.id, 'children_services_contact', p_detail, kw.current_user_id()
	FROM kw.users u
	WHERE u.active AND u.id <> kw.current_user_id()
	    AND (u.id = (SELECT k.manager_id FROM kw.users k WHERE k.id = e.keyworker_id)
		OR ('coordinator' = ANY (u.roles) AND u.area_id = e.area_id));
END
$$;
REVOKE ALL ON FUNCTION kw.alert_safeguarding(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.alert_safeguarding(uuid, text) TO keywork_api;

CREATE FUNCTION api.request_step_up(p_token text, p_rid text, p_addr text, p_id uuid,
    p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	e kw.episodes;
	s kw.step_ups;
	days integer := kw.setting('step_up_notes_days');
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	e := kw.require_writer(p_id, 'request a step up');
	SELECT * INTO e FROM kw.episodes WHERE id = p_id FOR UPDATE;
	PERFORM kw.require_open(e);
	IF e.status IN ('step_up_requested', 'stepped_up') THEN
		PERFORM kw.raise('KW409', 'A step up is already pending or accepted.');
	END IF;
	-- Domain step 9: the case notes go with the request, so they must be current.
	IF NOT EXISTS (SELECT 1 FROM kw.notes n WHERE n.episode_id = p_id
	    AND n.created_at >= now() - make_interval(days => days)) THEN
		PERFORM kw.rule('step_up_notes_current', format(
		    'Bring the case notes up to date (a note within %s days) before requesting '
		    'a step up: they go with the request.', days));
	END IF;
	INSERT INTO kw.step_ups (episode_id, area_id, unmet_needs, what_was_tried,
	    more_within_resources, impact_so_far, evidence_higher_level, advice_sought,
	    safeguarding_referral_made, requested_by)
	VALUES (p_id, e.area_id, p_body->>'unmet_needs', p_body->>'what_was_tried',
	    p_body->>'more_within_resources', p_body->>'impact_so_far',
	    p_body->>'evidence_higher_level', p_body->>'advice_sought',
	    coalesce((p_body->>'safeguarding_referral_made')::boolean, false),
	    kw.current_user_id())
	RETURNING * INTO s;
	-- Work does not stop: the episode stays open and workable meanwhile.
	UPDATE kw.episodes SET status = 'step_up_requested',
	    version = version + 1, updated_at = now()
	WHERE id = p_id;
	IF s.safeguarding_referral_made THEN
		PERFORM kw.alert_safeguarding(p_id,
		    'A safeguarding referral was made: an immediate concern.');
	END IF;
	RETURN kw.step_up_json(s);
END
$$;
GRANT INSERT ON kw.step_ups TO keywork_api;
CREATE POLICY step_ups_request ON kw.step_ups FOR INSERT TO keywork_api WITH CHECK (
	requested_by = kw.current_user_id() AND kw.episode_writer(episode_id));

-- The triage queue: a coordinator's area, pending first.
CREATE FUNCTION api.list_step_ups(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_at timestamptz, p_after_id uuid, p_status text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	RETURN coalesce((SELECT jsonb_agg(kw.step_up_json(s) ORDER BY s.created_at, s.id)
	FROM (SELECT * FROM kw.step_ups x
	    WHERE (p_status IS NULL OR x.status = p_status)
		AND (p_after_at IS NULL OR (x.created_at, x.id) > (p_after_at, p_after_id))
	    ORDER BY x.created_at, x.id LIMIT p_limit) s), '[]'::jsonb);
END
$$;

-- A coordinator of the area decides.
CREATE FUNCTION kw.step_up_decide(p_step_up uuid, p_body jsonb) RETURNS kw.step_ups
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	s kw.step_ups;
	e kw.episodes;
	decision text := p_body->>'decision';
BEGIN
	SELECT * INTO s FROM kw.step_ups WHERE id = p_step_up;
	IF NOT FOUND OR NOT coalesce(s.area_id = ANY (kw.my_areas())
	    OR s.episode_id = ANY (kw.my_episodes(true))
	    OR s.requested_by = kw.current_user_id() OR EXISTS (SELECT 1 FROM kw.episodes x
		WHERE x.id = s.episode_id AND x.keyworker_id = ANY (kw.my_reports())), false) THEN
		PERFORM kw.raise('KW404', 'No such step up.');
	END IF;
	IF NOT (s.area_id = ANY (kw.my_areas())) THEN
		PERFORM kw.raise('KW403', 'The area''s coordinators decide step ups.');
	END IF;
	SELECT * INTO e FROM kw.episodes WHERE id = s.episode_id FOR UPDATE;
	SELECT * INTO s FROM kw.step_ups WHERE id = p_step_up FOR UPDATE;
	IF s.status <> 'pending' THEN
		PERFORM kw.raise('KW409', format('The step up was already decided: %s.', s.status));
	END IF;
	IF decision = 'accepted' AND p_body->>'action_impact_meeting_at' IS NULL THEN
		PERFORM kw.rule('action_impact_meeting',
		    'Accepting a step up sets the Action and Impact meeting date.');
	END IF;
	UPDATE kw.step_ups SET status = decision, decision_note = p_body->>'note',
	    action_impact_meeting_at = (p_body->>'action_impact_meeting_at')::timestamptz,
	    decided_by = kw.current_user_id(), decided_at = now()
	WHERE id = p_step_up RETURNING * INTO s;
	IF e.status = 'step_up_requested' THEN
		IF decision = 'accepted' THEN
			PERFORM kw.episode_set(e.id, 'stepped_up', NULL, NULL);
		ELSE
			PERFORM kw.episode_set(e.id, kw.working_status(e.id), NULL, NULL);
		END IF;
	END IF;
	PERFORM kw.alert_keyworker_of(e.id, 'referral', format('Step up %s.', decision));
	RETURN s;
END
$$;
REVOKE ALL ON FUNCTION kw.step_up_decide(uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.step_up_decide(uuid, jsonb) TO keywork_api;

-- Tell the keyworker (definer context only).
CREATE FUNCTION kw.alert_keyworker_of(p_episode uuid, p_kind text, p_detail text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
	INSERT INTO kw.alerts (episode_id, user_id, kind, detail, created_by)
	SELECT e.id, e.keyworker_id, p_kind, p_detail, kw.current_user_id()
	FROM kw.episodes e WHERE e.id = p_episode AND e.keyworker_id <> kw.current_user_id()
$$;
REVOKE ALL ON FUNCTION kw.alert_keyworker_of(uuid, text, text) FROM PUBLIC;

CREATE FUNCTION api.decide_step_up(p_token text, p_rid text, p_addr text, p_id uuid,
    p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	RETURN kw.step_up_json(kw.step_up_decide(p_id, p_body));
END
$$;

------------------------------------------------------------------------------
-- Step down

CREATE FUNCTION kw.step_down_json(s kw.step_downs) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', s.id, 'area_id', s.area_id,
	    'family', s.family, 'needs', s.needs, 'consent_given_by', s.consent_given_by,
	    'consent_obtained_at', s.consent_obtained_at, 'from_episode_id', s.from_episode_id,
	    'suggested_keyworker_id', s.suggested_keyworker_id, 'status', s.status,
	    'decided_on', s.decided_on,
	    'allocation_due', s.decided_on + kw.setting('step_down_allocation_days'),
	    'allocated_agency_id', s.allocated_agency_id,
	    'allocated_keyworker_id', s.allocated_keyworker_id, 'episode_id', s.episode_id,
	    'allocated_at', s.allocated_at, 'created_at', s.created_at)
$$;

-- The former keyworker of the episode a family was stepped up from.
-- Told only to a coordinator of the episode's area (who reads it anyway).
CREATE FUNCTION kw.former_keyworker(p_episode uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = kw, pg_temp AS $$
	SELECT e.keyworker_id FROM kw.episodes e
	WHERE e.id = p_episode AND e.status IN ('stepped_up', 'closed')
	    AND e.area_id = ANY (kw.my_areas())
$$;

-- Pending step ups of an episode being closed are withdrawn with it; only
-- for the keyworker or their manager, who close it.
CREATE FUNCTION kw.withdraw_step_ups(p_episode uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
	UPDATE kw.step_ups s SET status = 'withdrawn', decided_at = now(),
	    decision_note = 'The episode was closed.'
	FROM kw.episodes e
	WHERE s.episode_id = p_episode AND s.status = 'pending' AND e.id = p_episode
	    AND (e.keyworker_id = kw.current_user_id() OR e.keyworker_id = ANY (kw.my_reports()))
$$;
REVOKE ALL ON FUNCTION kw.withdraw_step_ups(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.withdraw_step_ups(uuid) TO keywork_api;
REVOKE ALL ON FUNCTION kw.former_keyworker(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.former_keyworker(uuid) TO keywork_api;

-- From statutory services: a coordinator, or a partner system of a
-- children's social care agency.
CREATE FUNCTION api.create_step_down(p_token text, p_rid text, p_addr text, p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	s kw.step_downs;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	IF NOT (kw.has_role('coordinator') OR (kw.has_role('partner') AND EXISTS (
	    SELECT 1 FROM kw.agencies a WHERE a.id = kw.current_agency_id()
	    AND a.kind = 'social_care'))) THEN
		PERFORM kw.raise('KW403', 'Step downs come from coordinators or the partner '
		    'systems of statutory (social care) services.');
	END IF;
	IF (p_body->'consent'->>'obtained_at')::timestamptz > now() + interval '5 minutes' THEN
		PERFORM kw.rule('step_down_consent', 'The family''s consent is obtained before the step down.');
	END IF;
	INSERT INTO kw.step_downs (area_id, family, needs, consent_given_by, consent_obtained_at,
	    from_episode_id, suggested_keyworker_id, created_by, created_by_client)
	VALUES ((p_body->>'area_id')::uuid,
	    jsonb_build_object('family', p_body->'family', 'members', p_body->'members'),
	    p_body->>'needs', p_body->'consent'->>'given_by',
	    (p_body->'consent'->>'obtained_at')::timestamptz,
	    (p_body->>'from_episode_id')::uuid,
	    kw.former_keyworker((p_body->>'from_episode_id')::uuid),
	    kw.current_user_id(), kw.current_client_id())
	RETURNING * INTO s;
	RETURN kw.step_down_json(s);
END
$$;
GRANT INSERT ON kw.step_downs TO keywork_api;
GRANT UPDATE (status, allocated_agency_id, allocated_keyworker_id, episode_id, allocated_by,
    allocated_at) ON kw.step_downs TO keywork_api;
CREATE POLICY step_downs_receive ON kw.step_downs FOR INSERT TO keywork_api WITH CHECK (
	(created_by = kw.current_user_id() AND area_id = ANY (kw.my_areas()))
	OR created_by_client = kw.current_client_id());
CREATE POLICY step_downs_allocate ON kw.step_downs FOR UPDATE TO keywork_api
	USING (area_id = ANY ((SELECT kw.my_areas())::uuid[]));

CREATE FUNCTION api.list_step_downs(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_at timestamptz, p_after_id uuid, p_status text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	RETURN coalesce((SELECT jsonb_agg(kw.step_down_json(s) ORDER BY s.created_at, s.id)
	FROM (SELECT * FROM kw.step_downs x
	    WHERE (p_status IS NULL OR x.status = p_status)
		AND (p_after_at IS NULL OR (x.created_at, x.id) > (p_after_at, p_after_id))
	    ORDER BY x.created_at, x.id LIMIT p_limit) s), '[]'::jsonb);
END
$$;

-- The new episode's assessment draft starts from the needs the statutory
-- service identified. As the owner: the allocating coordinator is not the
-- episode's keyworker; it acts only for a step down of their own area
-- whose episode was just opened.
CREATE FUNCTION kw.assessment_from_step_down(p_episode uuid, p_step_down uuid)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
	INSERT INTO kw.assessments (episode_id, needs, updated_by)
	SELECT p_episode, s.needs, kw.current_user_id()
	FROM kw.step_downs s JOIN kw.episodes e ON e.id = p_episode
	WHERE s.id = p_step_down AND s.area_id = ANY (kw.my_areas())
	    AND e.area_id = s.area_id AND e.registered_by = kw.current_user_id()
	ON CONFLICT (episode_id) DO NOTHING
$$;
REVOKE ALL ON FUNCTION kw.assessment_from_step_down(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.assessment_from_step_down(uuid, uuid) TO keywork_api;

-- Allocate to an agency and keyworker: opens the episode (registered by
-- the coordinator, with the family's consent as its verbal consent), and
-- its assessment draft starts from the needs identified.
CREATE FUNCTION api.allocate_step_down(p_token text, p_rid text, p_addr text, p_id uuid,
    p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	s kw.step_downs;
	ep uuid;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	SELECT * INTO s FROM kw.step_downs WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such step down.');
	END IF;
	IF NOT (s.area_id = ANY (kw.my_areas())) THEN
		PERFORM kw.raise('KW403', 'The area''s coordinators allocate step downs.');
	END IF;
	IF s.status <> 'received' THEN
		PERFORM kw.raise('KW409', 'The step down is already allocated.');
	END IF;
	ep := kw.register_episode(jsonb_build_object(
	    'family', (s.family->'family') || jsonb_build_object('area_id', s.area_id),
	    'members', s.family->'members',
	    'keyworker_id', p_body->>'keyworker_id', 'lead_agency_id', p_body->>'agency_id',
	    'verbal_consent', jsonb_build_object('obtained_at', s.consent_obtained_at,
		'given_by', s.consent_given_by,
		'statement', 'Consent given at step down from statutory services.')));
	PERFORM kw.assessment_from_step_down(ep, s.id);
	UPDATE kw.step_downs SET status = 'allocated',
	    allocated_agency_id = (p_body->>'agency_id')::uuid,
	    allocated_keyworker_id = (p_body->>'keyworker_id')::uuid, episode_id = ep,
	    allocated_by = kw.current_user_id(), allocated_at = now()
	WHERE id = p_id RETURNING * INTO s;
	RETURN kw.step_down_json(s);
END
$$;

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO keywork_api;
