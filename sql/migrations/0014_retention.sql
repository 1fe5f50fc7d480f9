-- keywork 0014: retention and erasure. Once an episode has been closed long
-- enough, the scheduled worker erases its content: every name and free
-- text becomes the marker 'erased', dates of birth a fixed date, documents
-- empty; ids, record dates and statuses stay, so the episode still counts
-- and its history still reads (who did what, when), with nothing of who
-- the family was or what was written.
--
-- An episode is due for erasure when it is closed (a reopened episode is
-- not), has not been erased, and both periods have passed:
--   retention_child_age_years     the youngest child on the episode
--                                 (members with is_child) has reached this
--                                 age (0: the rule is off)
--   retention_days_after_closure  this many days have passed since closure
--
-- Erasure runs as the schema owner (kw.erase_episode; the worker calls
-- kw.erase_due_episodes each pass). Case notes are append-only for
-- everyone (0003): their trigger lets one change through, the note's body
-- becoming the marker, and only for the schema owner while it erases that
-- note's episode (kw.erasing). The API role can set the setting, but it is
-- not the owner, and it cannot update notes at all.

INSERT INTO kw.settings (name, value, minimum, maximum, description) VALUES
	('retention_child_age_years', 25, 0, 100,
	    'Age the youngest child on a closed episode reaches before its content is '
	    'erased (0: no age rule).'),
	('retention_days_after_closure', 365, 0, 3650,
	    'Days after closure before a closed episode''s content is erased.');

ALTER TABLE kw.episodes ADD COLUMN erased_at timestamptz;
ALTER TABLE kw.episodes ADD CONSTRAINT episodes_erased_closed
	CHECK (erased_at IS NULL OR status = 'closed');
-- The worker's candidates: closed and not erased yet.
CREATE INDEX episodes_erasable_idx ON kw.episodes (closed_at)
	WHERE status = 'closed' AND erased_at IS NULL;

------------------------------------------------------------------------------
-- The marker, and the carve-out

-- What erased text reads: the marker where there was text, NULL where
-- there was none (so a field that was empty still reads empty).
CREATE FUNCTION kw.erased(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN t IS NULL THEN NULL ELSE 'erased' END
$$;

-- Is the owner of table p_table erasing episode p_episode in this
-- transaction? Both must hold: kw.erase_episode sets kw.erasing
-- transaction-locally, and only the table's owner runs it. Anyone can set
-- a setting; only the owner is the owner. (Anyone may ask: the triggers
-- below ask it as whoever updates.)
CREATE FUNCTION kw.erasing(p_episode uuid, p_table oid) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT coalesce(current_setting('kw.erasing', true), '') = p_episode::text
	    AND (SELECT c.relowner FROM pg_class c WHERE c.oid = p_table)
		= (SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user)
$$;

-- Notes stay append-only (0003), less one change: erasure turns a body
-- into the marker and touches nothing else of the note.
CREATE OR REPLACE FUNCTION kw.notes_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND kw.erasing(OLD.episode_id, TG_RELID)
	    AND NEW.body = kw.erased(OLD.body)
	    AND to_jsonb(NEW) - 'body' = to_jsonb(OLD) - 'body' THEN
		RETURN NEW;
	END IF;
	RAISE EXCEPTION USING ERRCODE = 'KW422',
	    MESSAGE = 'Case notes are never changed or deleted: add a note that amends it.',
	    DETAIL = jsonb_build_object('rule', 'notes_append_only')::text;
END
$$;

-- The state machine (0007), and: an erased episode stays closed and
-- erased; erasure, and only erasure, changes a closed episode's name and
-- marks it erased, and nothing else of it.
CREATE OR REPLACE FUNCTION kw.episodes_state_machine() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.erased_at IS NOT NULL AND NEW.status IS DISTINCT FROM OLD.status THEN
		RAISE EXCEPTION USING ERRCODE = 'KW422',
		    MESSAGE = 'The episode''s content has been erased: it cannot be reopened. '
			'Register the family again.',
		    DETAIL = jsonb_build_object('rule', 'erased_episode_cannot_reopen')::text;
	END IF;
	IF NEW.erased_at IS DISTINCT FROM OLD.erased_at THEN
		IF OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL
		    AND kw.erasing(OLD.id, TG_RELID) AND NEW.family_name = kw.erased(OLD.family_name)
		    AND to_jsonb(NEW) - ARRAY['family_name', 'erased_at']
			= to_jsonb(OLD) - ARRAY['family_name', 'erased_at'] THEN
			RETURN NEW;
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KW409',
		    MESSAGE = 'Only erasure marks an episode erased, and nothing undoes it.';
	END IF;
	IF NEW.status IS DISTINCT FROM OLD.status AND NOT EXISTS (SELECT 1
	    FROM kw.episode_transitions t
	    WHERE t.from_status = OLD.status AND t.to_status = NEW.status) THEN
		RAISE EXCEPTION USING ERRCODE = 'KW409',
		    MESSAGE = format('An episode cannot go from %s to %s.', OLD.status, NEW.status),
		    DETAIL = jsonb_build_object('rule', 'episode_state_machine')::text;
	END IF;
	-- A closed episode is read-only: only reopening changes it.
	IF OLD.status = 'closed' AND NEW.status = 'closed' THEN
		RAISE EXCEPTION USING ERRCODE = 'KW409',
		    MESSAGE = 'The episode is closed, and a closed episode is read-only: reopen it first.',
		    DETAIL = jsonb_build_object('rule', 'closed_episode_read_only')::text;
	END IF;
	IF NEW.keyworker_id IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'KW409',
		    MESSAGE = 'An episode always has a keyworker.';
	END IF;
	RETURN NEW;
END
$$;

------------------------------------------------------------------------------
-- Erasure. Owner only: not granted to the API role.

-- Erase one closed episode's content. Returns false when it was erased
-- already. Every case table holding the episode's rows is here; ids, the
-- people who acted (staff), record dates, statuses, kinds and scores stay.
-- The family's own name and postcode go only when no other episode of the
-- family still needs them (one open, or closed and not erased).
CREATE FUNCTION kw.erase_episode(p_episode uuid) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	e kw.episodes;
BEGIN
	SELECT * INTO e FROM kw.episodes WHERE id = p_episode FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such episode.');
	END IF;
	IF e.erased_at IS NOT NULL THEN
		RETURN false;
	END IF;
	IF e.status <> 'closed' THEN
		PERFORM kw.rule('erase_closed_only', 'Only a closed episode is erased.');
	END IF;
	PERFORM set_config('kw.erasing', p_episode::text, true);

	UPDATE kw.members SET given_name = kw.erased(given_name),
	    family_name = kw.erased(family_name), date_of_birth = '1900-01-01',
	    relationship = kw.erased(relationship),
	    not_included_reason = kw.erased(not_included_reason)
	WHERE episode_id = p_episode;
	UPDATE kw.consents SET given_by = kw.erased(given_by), statement = kw.erased(statement)
	WHERE episode_id = p_episode;
	UPDATE kw.access_requests SET reason = kw.erased(reason),
	    decision_note = kw.erased(decision_note)
	WHERE episode_id = p_episode;
	UPDATE kw.notes SET body = kw.erased(body)
	WHERE episode_id = p_episode AND body IS DISTINCT FROM kw.erased(body);
	UPDATE kw.alerts SET detail = kw.erased(detail), response = kw.erased(response)
	WHERE episode_id = p_episode;
	UPDATE kw.assessments SET strengths = kw.erased(strengths), needs = kw.erased(needs),
	    priorities = kw.erased(priorities)
	WHERE episode_id = p_episode;
	UPDATE kw.assessment_voices SET in_own_words = kw.erased(in_own_words),
	    given_by = kw.erased(given_by), how_obtained = kw.erased(how_obtained),
	    voice = kw.erased(voice)
	WHERE episode_id = p_episode;
	UPDATE kw.meetings SET venue = kw.erased(venue), decisions = kw.erased(decisions),
	    family_comments_meeting = kw.erased(family_comments_meeting),
	    family_comments_actions = kw.erased(family_comments_actions)
	WHERE episode_id = p_episode;
	UPDATE kw.meeting_invitees SET apologies = kw.erased(apologies),
	    report = kw.erased(report)
	WHERE episode_id = p_episode;
	UPDATE kw.actions SET what = kw.erased(what), measure = kw.erased(measure)
	WHERE episode_id = p_episode;
	UPDATE kw.action_updates SET progress = kw.erased(progress)
	WHERE episode_id = p_episode;
	-- Empty content, its true size and digest; the type goes with it.
	UPDATE kw.documents SET filename = 'erased', content_type = 'application/octet-stream',
	    content = ''::bytea, size_bytes = 0, sha256 = encode(sha256(''::bytea), 'hex')
	WHERE episode_id = p_episode;
	UPDATE kw.transfers SET receiving_authority = kw.erased(receiving_authority),
	    note = kw.erased(note)
	WHERE episode_id = p_episode;
	UPDATE kw.step_ups SET unmet_needs = kw.erased(unmet_needs),
	    what_was_tried = kw.erased(what_was_tried),
	    more_within_resources = kw.erased(more_within_resources),
	    impact_so_far = kw.erased(impact_so_far),
	    evidence_higher_level = kw.erased(evidence_higher_level),
	    advice_sought = kw.erased(advice_sought), decision_note = kw.erased(decision_note)
	WHERE episode_id = p_episode;
	-- A step down goes with the episode it became (one still waiting for a
	-- keyworker is live work, whatever episode it came from).
	UPDATE kw.step_downs SET family = '{}'::jsonb, needs = kw.erased(needs),
	    consent_given_by = kw.erased(consent_given_by)
	WHERE episode_id = p_episode;
	UPDATE kw.closures SET family_views = kw.erased(family_views),
	    children_views = kw.erased(children_views), feedback = kw.erased(feedback),
	    reopen_reason = kw.erased(reopen_reason)
	WHERE episode_id = p_episode;
	-- Stored replies of creating calls (Idempotency-Key) that name it.
	DELETE FROM kw.idempotency_keys WHERE response::text LIKE '%' || p_episode::text || '%';

	IF NOT EXISTS (SELECT 1 FROM kw.episodes o WHERE o.family_id = e.family_id
	    AND o.id <> p_episode AND o.erased_at IS NULL) THEN
		UPDATE kw.families SET name = kw.erased(name), postcode = kw.erased(postcode)
		WHERE id = e.family_id;
	END IF;
	UPDATE kw.episodes SET family_name = kw.erased(family_name), erased_at = now()
	WHERE id = p_episode;

	PERFORM set_config('kw.erasing', '', true);
	RETURN true;
END
$$;
REVOKE ALL ON FUNCTION kw.erase_episode(uuid) FROM PUBLIC;

-- The episodes due for erasure on p_today (see the top of this file),
-- oldest closure first.
CREATE FUNCTION kw.episodes_due_for_erasure(p_today date)
RETURNS TABLE (id uuid, closed_at timestamptz)
LANGUAGE sql STABLE AS $$
	SELECT e.id, e.closed_at FROM kw.episodes e
	WHERE e.status = 'closed' AND e.erased_at IS NULL
	    AND kw.local_date(e.closed_at)
		+ (SELECT kw.setting('retention_days_after_closure')) <= p_today
	    AND NOT EXISTS (SELECT 1 FROM kw.members m
		WHERE m.episode_id = e.id AND m.is_child
		    AND (SELECT kw.setting('retention_child_age_years')) > 0
		    AND m.date_of_birth + make_interval(years =>
			(SELECT kw.setting('retention_child_age_years'))) > p_today)
$$;
REVOKE ALL ON FUNCTION kw.episodes_due_for_erasure(date) FROM PUBLIC;

-- Erase up to p_limit episodes due on p_today; returns how many. Workers
-- running at once take different episodes (SKIP LOCKED); the worker calls
-- it until it erases fewer than p_limit.
CREATE FUNCTION kw.erase_due_episodes(p_today date, p_limit integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	ep uuid;
	n integer := 0;
BEGIN
	FOR ep IN
		SELECT e.id FROM kw.episodes e
		WHERE e.id IN (SELECT d.id FROM kw.episodes_due_for_erasure(p_today) d)
		ORDER BY e.closed_at, e.id
		LIMIT p_limit
		FOR UPDATE SKIP LOCKED
	LOOP
		IF kw.erase_episode(ep) THEN
			n := n + 1;
		END IF;
	END LOOP;
	RETURN n;
END
$$;
REVOKE ALL ON FUNCTION kw.erase_due_episodes(date, integer) FROM PUBLIC;

------------------------------------------------------------------------------
-- The API: the episode says when it was erased; an erased episode is never
-- reopened.

CREATE OR REPLACE FUNCTION kw.episode_json(e kw.episodes, p_access text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', e.id, 'status', e.status, 'access', p_access,
	    'family_id', e.family_id, 'family_name', e.family_name, 'area_id', e.area_id,
	    'keyworker_id', e.keyworker_id, 'keyworker', kw.staff_json(e.keyworker_id),
	    'lead_agency_id', e.lead_agency_id, 'registered_at', e.registered_at,
	    'assessment_due', e.assessment_due,
	    'first_taf_meeting_due', e.first_taf_meeting_due,
	    'assessment_completed_at', e.assessment_completed_at,
	    'first_taf_meeting_held_at', e.first_taf_meeting_held_at,
	    'closed_at', e.closed_at, 'erased_at', e.erased_at,
	    'overdue', kw.episode_overdue(e),
	    'created_at', e.created_at, 'updated_at', e.updated_at)
$$;

-- As 0008, and an erased episode is refused first, whatever else holds.
CREATE OR REPLACE FUNCTION api.reopen_episode(p_token text, p_rid text, p_addr text,
    p_id uuid, p_body jsonb, OUT body jsonb, OUT etag text)
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
	IF e.erased_at IS NOT NULL THEN
		PERFORM kw.rule('erased_episode_cannot_reopen',
		    'The episode''s content has been erased: it cannot be reopened. '
		    'Register the family again.');
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
