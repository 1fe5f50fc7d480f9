-- keywork 0006: the operations for working an episode (see 0005): the
-- assessment and consents, meetings, the action plan, outcome scores,
-- documents, alerts, the holiday calendar, deadlines and caseloads.

------------------------------------------------------------------------------
-- Deadlines on the episode

CREATE FUNCTION kw.deadline_json(d kw.deadlines_v) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('episode_id', d.episode_id, 'kind', d.kind,
	    'subject_id', d.subject_id, 'due', d.due, 'met_at', d.met_at,
	    'met_late', d.met_at IS NOT NULL AND kw.local_date(d.met_at) > d.due,
	    'overdue', d.met_at IS NULL AND d.due < kw.today(),
	    'reminds', d.reminds, 'keyworker_id', d.keyworker_id,
	    'key', d.episode_id || ':' || replace(d.kind, '_', '-') || ':'
		|| coalesce(d.subject_id::text, ''))
$$;

-- Whether any deadline of the episode has passed unmet, whoever may see
-- its parts: a yes/no for an episode the caller sees anyway.
CREATE FUNCTION kw.episode_has_overdue(p_episode uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = kw, pg_temp
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = p_episode
	    AND (e.id = ANY (kw.my_episodes(false)) OR e.keyworker_id = ANY (kw.my_reports())
		OR e.area_id = ANY (kw.my_areas())))
	    AND EXISTS (SELECT 1 FROM kw.deadlines_v d WHERE d.episode_id = p_episode
		AND d.met_at IS NULL AND d.due < kw.today());
END
$$;

-- Every deadline of an episode the caller holds at full level, read as the
-- owner: through the view as the caller, each of its parts would apply
-- its own policies and look the caller's reach up again (19 times for one
-- episode). NULL for anyone else.
CREATE FUNCTION kw.episode_deadlines(p_episode uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = kw, pg_temp
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = p_episode
	    AND (e.id = ANY (kw.my_episodes(true)) OR e.keyworker_id = ANY (kw.my_reports())
		OR e.area_id = ANY (kw.my_areas()))) THEN
		RETURN NULL;
	END IF;
	RETURN coalesce((SELECT jsonb_agg(kw.deadline_json(d) ORDER BY d.due, d.kind, d.subject_id)
	    FROM kw.deadlines_v d WHERE d.episode_id = p_episode), '[]'::jsonb);
END
$$;
REVOKE ALL ON FUNCTION kw.episode_deadlines(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.episode_deadlines(uuid) TO keywork_api;
REVOKE ALL ON FUNCTION kw.episode_has_overdue(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.episode_has_overdue(uuid) TO keywork_api;

CREATE OR REPLACE FUNCTION kw.episode_overdue(e kw.episodes) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT e.status <> 'closed' AND (
	    (e.assessment_completed_at IS NULL AND e.assessment_due < kw.today())
	    OR (e.first_taf_meeting_held_at IS NULL AND e.first_taf_meeting_due < kw.today())
	    OR kw.episode_has_overdue(e.id))
$$;

-- The full representation now carries the episode's deadlines.
CREATE OR REPLACE FUNCTION kw.episode_out(p_id uuid, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	e kw.episodes;
	acc text;
BEGIN
	SELECT * INTO e FROM kw.episodes WHERE id = p_id;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such episode.');
	END IF;
	acc := kw.access_of(e.id, e.keyworker_id, e.area_id, kw.my_episodes(true),
	    kw.my_reports(), kw.my_areas());
	body := kw.episode_json(e, acc);
	IF acc = 'full' THEN
		body := body || jsonb_build_object(
		    'family', (SELECT jsonb_build_object('id', f.id, 'name', f.name,
			'area_id', f.area_id, 'postcode', f.postcode)
			FROM kw.families f WHERE f.id = e.family_id),
		    'members', coalesce((SELECT jsonb_agg(kw.member_json(m)
			ORDER BY m.created_at, m.id)
			FROM kw.members m WHERE m.episode_id = e.id), '[]'::jsonb),
		    'deadlines', coalesce(kw.episode_deadlines(e.id), '[]'::jsonb));
	END IF;
	etag := kw.etag(e.version);
END
$$;

------------------------------------------------------------------------------
-- The assessment

CREATE FUNCTION kw.assessment_out(p_episode uuid, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	a kw.assessments;
BEGIN
	SELECT * INTO a FROM kw.assessments WHERE episode_id = p_episode;
	body := jsonb_build_object('episode_id', p_episode,
	    'status', coalesce(a.status, 'not_started'),
	    'strengths', a.strengths, 'needs', a.needs, 'priorities', a.priorities,
	    'voices', coalesce((SELECT jsonb_agg(jsonb_build_object('member_id', v.member_id,
		'in_own_words', v.in_own_words, 'given_by', v.given_by,
		'how_obtained', v.how_obtained, 'voice', v.voice) ORDER BY m.created_at, m.id)
		FROM kw.assessment_voices v JOIN kw.members m ON m.id = v.member_id
		WHERE v.episode_id = p_episode), '[]'::jsonb),
	    'voices_missing', coalesce((SELECT jsonb_agg(m.id ORDER BY m.created_at, m.id)
		FROM kw.members m WHERE m.episode_id = p_episode AND m.included
		AND NOT EXISTS (SELECT 1 FROM kw.assessment_voices v
		    WHERE v.episode_id = p_episode AND v.member_id = m.id)), '[]'::jsonb),
	    'completed_at', a.completed_at, 'completed_by', a.completed_by,
	    'updated_at', a.updated_at);
	etag := kw.etag(coalesce(a.version, 0));
END
$$;

CREATE FUNCTION api.get_assessment(p_token text, p_rid text, p_addr text, p_id uuid,
    OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_full(p_id, 'the assessment');
	SELECT o.body, o.etag INTO body, etag FROM kw.assessment_out(p_id) o;
END
$$;

-- The draft is replaced as a whole: fields left out become empty, and the
-- voices are exactly those given. If-Match "0" creates it.
CREATE FUNCTION api.put_assessment(p_token text, p_rid text, p_addr text, p_id uuid,
    p_if_match text, p_body jsonb, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	e kw.episodes;
	a kw.assessments;
	me uuid;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	me := kw.current_user_id();
	PERFORM kw.require_full(p_id, 'the assessment');
	e := kw.require_writer(p_id, 'record the assessment');
	PERFORM kw.require_open(e);
	SELECT * INTO a FROM kw.assessments WHERE episode_id = p_id FOR UPDATE;
	IF p_if_match IS DISTINCT FROM kw.etag(coalesce(a.version, 0)) AND p_if_match <> '*' THEN
		PERFORM kw.raise('KW412', 'The assessment has changed since it was read: read it again.');
	END IF;
	IF a.status = 'complete' THEN
		PERFORM kw.rule('assessment_completed',
		    'The assessment is complete and no longer changes.');
	END IF;
	IF EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(p_body->'voices', '[]')) v
	    WHERE NOT EXISTS (SELECT 1 FROM kw.members m WHERE m.episode_id = p_id
		AND m.id = (v->>'member_id')::uuid)) THEN
		PERFORM kw.rule('voice_of_family_member',
		    'Each voice must belong to a member of this family.');
	END IF;
	IF a.episode_id IS NULL THEN
		INSERT INTO kw.assessments (episode_id, strengths, needs, priorities, updated_by)
		VALUES (p_id, p_body->>'strengths', p_body->>'needs', p_body->>'priorities', me);
	ELSE
		UPDATE kw.assessments SET strengths = p_body->>'strengths',
		    needs = p_body->>'needs', priorities = p_body->>'priorities',
		    updated_by = me, version = version + 1, updated_at = now()
		WHERE episode_id = p_id;
		DELETE FROM kw.assessment_voices WHERE episode_id = p_id;
	END IF;
	INSERT INTO kw.assessment_voices (episode_id, member_id, in_own_words, given_by,
	    how_obtained, voice)
	SELECT p_id, (v->>'member_id')::uuid, v->>'in_own_words', v->>'given_by',
	    v->>'how_obtained', v->>'voice'
	FROM jsonb_array_elements(coalesce(p_body->'voices', '[]')) v;
	SELECT o.body, o.etag INTO body, etag FROM kw.assessment_out(p_id) o;
END
$$;

-- Complete only when every member taking part has a voice (seed 000:
-- "the voice of every family member"). Moves the episode to assessed and
-- makes written consent due.
CREATE FUNCTION api.complete_assessment(p_token text, p_rid text, p_addr text, p_id uuid,
    OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	e kw.episodes;
	a kw.assessments;
	missing jsonb;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_full(p_id, 'the assessment');
	e := kw.require_writer(p_id, 'complete the assessment');
	PERFORM kw.require_open(e);
	SELECT * INTO a FROM kw.assessments WHERE episode_id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM kw.rule('assessment_recorded_first',
		    'There is no assessment to complete: record it first.');
	END IF;
	IF a.status = 'complete' THEN
		PERFORM kw.raise('KW409', 'The assessment is already complete.');
	END IF;
	SELECT jsonb_agg(jsonb_build_object('member_id', m.id, 'given_name', m.given_name)
	    ORDER BY m.created_at, m.id) INTO missing
	FROM kw.members m WHERE m.episode_id = p_id AND m.included
	    AND NOT EXISTS (SELECT 1 FROM kw.assessment_voices v
		WHERE v.episode_id = p_id AND v.member_id = m.id);
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'KW422',
		    MESSAGE = format('The voice of every family member is recorded before the '
			'assessment is complete; missing: %s.',
			(SELECT string_agg(x->>'given_name', ', ') FROM jsonb_array_elements(missing) x)),
		    DETAIL = jsonb_build_object('rule', 'assessment_voice_of_every_member',
			'missing_members', missing)::text;
	END IF;
	UPDATE kw.assessments SET status = 'complete', completed_at = now(),
	    completed_by = kw.current_user_id(), updated_by = kw.current_user_id(),
	    version = version + 1, updated_at = now()
	WHERE episode_id = p_id;
	UPDATE kw.episodes SET assessment_completed_at = now(),
	    status = CASE WHEN status = 'registered' THEN 'assessed' ELSE status END,
	    version = version + 1, updated_at = now()
	WHERE id = p_id;
	SELECT o.body, o.etag INTO body, etag FROM kw.assessment_out(p_id) o;
END
$$;

------------------------------------------------------------------------------
-- Consents

CREATE FUNCTION kw.consent_json(c kw.consents) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', c.id, 'episode_id', c.episode_id, 'kind', c.kind,
	    'agency_id', c.agency_id, 'given_by', c.given_by, 'obtained_at', c.obtained_at,
	    'statement', c.statement, 'recorded_by', c.recorded_by, 'created_at', c.created_at)
$$;

CREATE FUNCTION api.list_consents(p_token text, p_rid text, p_addr text, p_id uuid,
    p_limit integer, p_after_at timestamptz, p_after_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_full(p_id, 'consents');
	RETURN coalesce((SELECT jsonb_agg(kw.consent_json(c) ORDER BY c.created_at, c.id)
	FROM (SELECT * FROM kw.consents x WHERE x.episode_id = p_id
	    AND (p_after_at IS NULL OR (x.created_at, x.id) > (p_after_at, p_after_id))
	    ORDER BY x.created_at, x.id LIMIT p_limit) c), '[]'::jsonb);
END
$$;

CREATE FUNCTION api.create_consent(p_token text, p_rid text, p_addr text, p_id uuid,
    p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	e kw.episodes;
	c kw.consents;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	e := kw.require_full(p_id, 'consents');
	PERFORM kw.require_open(e);
	IF (p_body->>'obtained_at')::timestamptz > now() + interval '5 minutes' THEN
		PERFORM kw.rule('consent_obtained_in_past', 'obtained_at cannot be in the future.');
	END IF;
	IF p_body->>'agency_id' IS NOT NULL AND NOT EXISTS (SELECT 1 FROM kw.agencies
	    WHERE id = (p_body->>'agency_id')::uuid) THEN
		PERFORM kw.rule('agency_exists', 'agency_id names no agency.');
	END IF;
	INSERT INTO kw.consents (episode_id, kind, agency_id, given_by, obtained_at,
	    statement, recorded_by)
	VALUES (p_id, p_body->>'kind', (p_body->>'agency_id')::uuid, p_body->>'given_by',
	    (p_body->>'obtained_at')::timestamptz, p_body->>'statement', kw.current_user_id())
	RETURNING * INTO c;
	RETURN kw.consent_json(c);
END
$$;

------------------------------------------------------------------------------
-- Meetings

CREATE FUNCTION kw.meeting_json(m kw.meetings) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', m.id, 'episode_id', m.episode_id,
	    'kind', m.kind,
	    'scheduled_at', m.scheduled_at, 'venue', m.venue,
	    'family_can_attend', m.family_can_attend, 'status', m.status, 'held_at', m.held_at,
	    'outcomes_recorded_at', m.outcomes_recorded_at, 'decisions', m.decisions,
	    'family_comments_meeting', m.family_comments_meeting,
	    'family_comments_actions', m.family_comments_actions,
	    'plan_shared_at', m.plan_shared_at,
	    'invitees', coalesce((SELECT jsonb_agg(jsonb_build_object('id', i.id,
		'user_id', i.user_id, 'member_id', i.member_id, 'attendance', i.attendance,
		'apologies', i.apologies, 'report', i.report) ORDER BY i.user_id, i.member_id)
		FROM kw.meeting_invitees i WHERE i.meeting_id = m.id), '[]'::jsonb),
	    'created_at', m.created_at, 'updated_at', m.updated_at)
$$;

-- Invitees are the keyworker, TAF members and the family's members.
CREATE FUNCTION kw.meeting_invite(e kw.episodes, p_meeting uuid, p_invitees jsonb)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM jsonb_array_elements_text(coalesce(p_invitees->'user_ids',
	    '[]')) u WHERE u::uuid <> e.keyworker_id AND NOT EXISTS (SELECT 1
	    FROM kw.team_members t WHERE t.episode_id = e.id AND t.user_id = u::uuid)) THEN
		PERFORM kw.rule('invitees_on_team',
		    'Invite practitioners on the team (the keyworker or TAF members).');
	END IF;
	IF EXISTS (SELECT 1 FROM jsonb_array_elements_text(coalesce(p_invitees->'member_ids',
	    '[]')) x WHERE NOT EXISTS (SELECT 1 FROM kw.members m
	    WHERE m.episode_id = e.id AND m.id = x::uuid)) THEN
		PERFORM kw.rule('invitees_of_family',
		    'member_ids must name members of this family.');
	END IF;
	INSERT INTO kw.meeting_invitees (meeting_id, episode_id, user_id)
	SELECT p_meeting, e.id, u::uuid
	FROM jsonb_array_elements_text(coalesce(p_invitees->'user_ids', '[]')) u
	ON CONFLICT DO NOTHING;
	INSERT INTO kw.meeting_invitees (meeting_id, episode_id, member_id)
	SELECT p_meeting, e.id, x::uuid
	FROM jsonb_array_elements_text(coalesce(p_invitees->'member_ids', '[]')) x
	ON CONFLICT DO NOTHING;
END
$$;

CREATE FUNCTION kw.require_meeting(p_meeting uuid, OUT m kw.meetings, OUT e kw.episodes)
LANGUAGE plpgsql STABLE AS $$
BEGIN
	SELECT * INTO m FROM kw.meetings WHERE id = p_meeting;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such meeting.');
	END IF;
	e := kw.require_writer(m.episode_id, 'arrange meetings');
END
$$;

CREATE FUNCTION api.list_meetings(p_token text, p_rid text, p_addr text, p_id uuid,
    p_limit integer, p_after_at timestamptz, p_after_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	IF kw.episode_access(p_id) IS NULL THEN
		PERFORM kw.raise('KW404', 'No such episode.');
	END IF;
	-- Row-level security leaves a limited member the meetings they are invited to.
	RETURN coalesce((SELECT jsonb_agg(kw.meeting_json(m) ORDER BY m.created_at, m.id)
	FROM (SELECT * FROM kw.meetings x WHERE x.episode_id = p_id
	    AND (p_after_at IS NULL OR (x.created_at, x.id) > (p_after_at, p_after_id))
	    ORDER BY x.created_at, x.id LIMIT p_limit) m), '[]'::jsonb);
END
$$;

CREATE FUNCTION api.create_meeting(p_token text, p_rid text, p_addr text, p_id uuid,
    p_idem_key text, p_body jsonb, OUT body jsonb, OUT etag text, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
	prior kw.idempotency_keys;
	e kw.episodes;
	m kw.meetings;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	prior := kw.idem_claim(p_idem_key, 'createMeeting ' || p_id, p_body);
	IF prior.principal IS NOT NULL THEN
		body := prior.response;
		etag := prior.etag;
		replayed := true;
		RETURN;
	END IF;
	e := kw.require_writer(p_id, 'arrange meetings');
	PERFORM kw.require_open(e);
	-- Domain step 3: check the family can attend first.
	IF NOT (p_body->>'family_can_attend')::boolean THEN
		PERFORM kw.rule('family_can_attend',
		    'Check the family can attend before arranging the meeting, and choose '
		    'a time they can make.');
	END IF;
	INSERT INTO kw.meetings (episode_id, scheduled_at, venue, family_can_attend, created_by)
	VALUES (p_id, (p_body->>'scheduled_at')::timestamptz, p_body->>'venue', true,
	    kw.current_user_id())
	RETURNING * INTO m;
	PERFORM kw.meeting_invite(e, m.id, p_body->'invitees');
	PERFORM kw.alert_keyworker(p_id, 'meeting', 'A TAF meeting was arranged.', NULL,
	    NULL, m.id, false);
	body := kw.meeting_json(m);
	etag := kw.etag(m.version);
	replayed := false;
	PERFORM kw.idem_store(p_idem_key, body, etag);
END
$$;

-- Reschedule, move, cancel, mark held (the first held meets the first TAF
-- meeting deadline), record that the plan was shared, invite more people.
CREATE FUNCTION api.update_meeting(p_token text, p_rid text, p_addr text, p_meeting uuid,
    p_if_match text, p_body jsonb, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	m kw.meetings;
	held timestamptz;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	SELECT * INTO r FROM kw.require_meeting(p_meeting);
	SELECT * INTO m FROM kw.meetings WHERE id = p_meeting FOR UPDATE;
	IF p_if_match IS DISTINCT FROM kw.etag(m.version) AND p_if_match <> '*' THEN
		PERFORM kw.raise('KW412', 'The meeting has changed since it was read: read it again.');
	END IF;
	PERFORM kw.require_open(r.e);
	IF m.status <> 'scheduled' AND (p_body ? 'scheduled_at' OR p_body ? 'status') THEN
		PERFORM kw.rule('meeting_scheduled',
		    format('The meeting is %s: only a scheduled meeting moves or changes status.',
			m.status));
	END IF;
	IF p_body->>'status' = 'held' THEN
		held := coalesce((p_body->>'held_at')::timestamptz, m.scheduled_at);
		IF held > now() + interval '5 minutes' THEN
			PERFORM kw.rule('meeting_held_in_past',
			    'A meeting is marked held once it has taken place.');
		END IF;
	END IF;
	IF p_body ? 'plan_shared_at' AND m.status <> 'held' AND p_body->>'status' IS DISTINCT FROM 'held' THEN
		PERFORM kw.rule('meeting_held_first', 'The plan is shared after the meeting is held.');
	END IF;
	UPDATE kw.meetings SET
	    scheduled_at = coalesce((p_body->>'scheduled_at')::timestamptz, scheduled_at),
	    venue = coalesce(p_body->>'venue', venue),
	    status = coalesce(p_body->>'status', status),
	    held_at = CASE WHEN p_body->>'status' = 'held' THEN held ELSE held_at END,
	    plan_shared_at = coalesce((p_body->>'plan_shared_at')::timestamptz, plan_shared_at),
	    version = version + 1, updated_at = now()
	WHERE id = p_meeting
	RETURNING * INTO m;
	IF p_body ? 'invitees' THEN
		PERFORM kw.meeting_invite(r.e, m.id, p_body->'invitees');
	END IF;
	IF m.status = 'held' THEN
		UPDATE kw.episodes SET first_taf_meeting_held_at = m.held_at,
		    version = version + 1, updated_at = now()
		WHERE id = m.episode_id AND first_taf_meeting_held_at IS NULL;
	END IF;
	PERFORM kw.alert_keyworker(m.episode_id, 'meeting', 'A TAF meeting was changed.',
	    NULL, NULL, m.id, false);
	body := kw.meeting_json(m);
	etag := kw.etag(m.version);
END
$$;

-- Attendance: who came, who sent apologies and what reports came in.
CREATE FUNCTION api.put_attendance(p_token text, p_rid text, p_addr text, p_meeting uuid,
    p_body jsonb, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	m kw.meetings;
	x jsonb;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	SELECT * INTO r FROM kw.require_meeting(p_meeting);
	PERFORM kw.require_open(r.e);
	IF (r.m).status = 'cancelled' THEN
		PERFORM kw.rule('meeting_scheduled', 'The meeting was cancelled.');
	END IF;
	FOR x IN SELECT v FROM jsonb_array_elements(p_body->'attendance') v LOOP
		UPDATE kw.meeting_invitees SET attendance = x->>'attendance',
		    apologies = x->>'apologies', report = x->>'report'
		WHERE meeting_id = p_meeting AND id = (x->>'invitee_id')::uuid;
		IF NOT FOUND THEN
			PERFORM kw.rule('invitee_of_meeting',
			    'invitee_id must name someone invited to this meeting.');
		END IF;
		IF x->>'attendance' = 'attended' AND (r.m).status = 'scheduled'
		    AND (r.m).scheduled_at > now() + interval '5 minutes' THEN
			PERFORM kw.rule('meeting_held_in_past',
			    'Attendance is recorded once the meeting has taken place.');
		END IF;
	END LOOP;
	UPDATE kw.meetings SET version = version + 1, updated_at = now() WHERE id = p_meeting
	RETURNING * INTO m;
	body := kw.meeting_json(m);
	etag := kw.etag(m.version);
END
$$;

------------------------------------------------------------------------------
-- The action plan

CREATE FUNCTION kw.action_json(a kw.actions) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', a.id, 'episode_id', a.episode_id,
	    'meeting_id', a.meeting_id, 'what', a.what, 'owner_user_id', a.owner_user_id,
	    'owner_member_id', a.owner_member_id, 'measure', a.measure, 'due_date', a.due_date,
	    'status', a.status, 'completed_at', a.completed_at,
	    'overdue', a.completed_at IS NULL AND a.due_date < kw.today(),
	    'updates', coalesce((SELECT jsonb_agg(jsonb_build_object('status', u.status,
		'progress', u.progress, 'by', u.created_by, 'at', u.created_at)
		ORDER BY u.created_at, u.id)
		FROM kw.action_updates u WHERE u.action_id = a.id), '[]'::jsonb),
	    'created_at', a.created_at, 'updated_at', a.updated_at)
$$;

-- Add one action, checked: SMART, owned by a team member or family member.
CREATE FUNCTION kw.add_action(e kw.episodes, p_meeting uuid, p_body jsonb) RETURNS kw.actions
LANGUAGE plpgsql AS $$
DECLARE
	owner_user uuid := (p_body->>'owner_user_id')::uuid;
	owner_member uuid := (p_body->>'owner_member_id')::uuid;
	a kw.actions;
BEGIN
	IF (owner_user IS NULL) = (owner_member IS NULL) THEN
		PERFORM kw.rule('action_has_one_owner',
		    'An action has one owner: owner_user_id (a TAF member) or owner_member_id '
		    '(a family member).');
	END IF;
	IF owner_user IS NOT NULL AND owner_user <> e.keyworker_id AND NOT EXISTS (
	    SELECT 1 FROM kw.team_members t WHERE t.episode_id = e.id AND t.user_id = owner_user) THEN
		PERFORM kw.rule('action_owner_on_team',
		    'owner_user_id must name the keyworker or a TAF member.');
	END IF;
	IF owner_member IS NOT NULL AND NOT EXISTS (SELECT 1 FROM kw.members m
	    WHERE m.episode_id = e.id AND m.id = owner_member) THEN
		PERFORM kw.rule('action_owner_of_family',
		    'owner_member_id must name a member of this family.');
	END IF;
	INSERT INTO kw.actions (episode_id, meeting_id, what, owner_user_id, owner_member_id,
	    measure, due_date, created_by)
	VALUES (e.id, p_meeting, p_body->>'what', owner_user, owner_member,
	    p_body->>'measure', (p_body->>'due_date')::date, kw.current_user_id())
	RETURNING * INTO a;
	RETURN a;
END
$$;

-- Outcomes of a held meeting: decisions, the family's comments on the
-- meeting and on the actions (both, every time: domain step 4), and the
-- plan's new actions.
CREATE FUNCTION api.record_outcomes(p_token text, p_rid text, p_addr text, p_meeting uuid,
    p_body jsonb, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	m kw.meetings;
	x jsonb;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	SELECT * INTO r FROM kw.require_meeting(p_meeting);
	PERFORM kw.require_open(r.e);
	SELECT * INTO m FROM kw.meetings WHERE id = p_meeting FOR UPDATE;
	IF m.status <> 'held' THEN
		PERFORM kw.rule('meeting_held_first',
		    'Outcomes are recorded for a meeting that has been held: mark it held first.');
	END IF;
	IF m.outcomes_recorded_at IS NOT NULL THEN
		PERFORM kw.raise('KW409', 'The outcomes of this meeting are already recorded.');
	END IF;
	FOR x IN SELECT v FROM jsonb_array_elements(coalesce(p_body->'actions', '[]')) v LOOP
		PERFORM kw.add_action(r.e, p_meeting, x);
	END LOOP;
	UPDATE kw.meetings SET outcomes_recorded_at = now(), decisions = p_body->>'decisions',
	    family_comments_meeting = p_body->>'family_comments_meeting',
	    family_comments_actions = p_body->>'family_comments_actions',
	    plan_shared_at = coalesce((p_body->>'plan_shared_at')::timestamptz, plan_shared_at),
	    version = version + 1, updated_at = now()
	WHERE id = p_meeting
	RETURNING * INTO m;
	UPDATE kw.episodes SET status = 'plan_in_place', version = version + 1, updated_at = now()
	WHERE id = m.episode_id AND status IN ('registered', 'assessed');
	body := kw.meeting_json(m) || jsonb_build_object('actions',
	    coalesce((SELECT jsonb_agg(kw.action_json(a) ORDER BY a.created_at, a.id)
		FROM kw.actions a WHERE a.meeting_id = p_meeting), '[]'::jsonb));
	etag := kw.etag(m.version);
END
$$;

CREATE FUNCTION api.list_actions(p_token text, p_rid text, p_addr text, p_id uuid,
    p_limit integer, p_after_at timestamptz, p_after_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	IF kw.episode_access(p_id) IS NULL THEN
		PERFORM kw.raise('KW404', 'No such episode.');
	END IF;
	-- Row-level security leaves a limited member the actions they own.
	RETURN coalesce((SELECT jsonb_agg(kw.action_json(a) ORDER BY a.created_at, a.id)
	FROM (SELECT * FROM kw.actions x WHERE x.episode_id = p_id
	    AND (p_after_at IS NULL OR (x.created_at, x.id) > (p_after_at, p_after_id))
	    ORDER BY x.created_at, x.id LIMIT p_limit) a), '[]'::jsonb);
END
$$;

CREATE FUNCTION api.create_action(p_token text, p_rid text, p_addr text, p_id uuid,
    p_body jsonb, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	e kw.episodes;
	a kw.actions;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	e := kw.require_writer(p_id, 'plan actions');
	PERFORM kw.require_open(e);
	IF p_body->>'meeting_id' IS NOT NULL AND NOT EXISTS (SELECT 1 FROM kw.meetings
	    WHERE id = (p_body->>'meeting_id')::uuid AND episode_id = p_id) THEN
		PERFORM kw.rule('meeting_of_episode', 'meeting_id must name a meeting of this episode.');
	END IF;
	a := kw.add_action(e, (p_body->>'meeting_id')::uuid, p_body);
	body := kw.action_json(a);
	etag := kw.etag(a.version);
END
$$;

-- The keyworker or manager changes anything; the owner (at any level)
-- reports progress and status on their own.
CREATE FUNCTION api.update_action(p_token text, p_rid text, p_addr text, p_action uuid,
    p_if_match text, p_body jsonb, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	a kw.actions;
	e kw.episodes;
	writer boolean;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	SELECT * INTO a FROM kw.actions WHERE id = p_action;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such action.');
	END IF;
	writer := kw.episode_writer(a.episode_id);
	IF NOT writer AND a.owner_user_id IS DISTINCT FROM kw.current_user_id() THEN
		PERFORM kw.raise('KW403', 'Only the keyworker, their manager and the action''s '
		    'owner change an action.');
	END IF;
	IF NOT writer AND (p_body ?| ARRAY['what', 'measure', 'due_date', 'owner_user_id',
	    'owner_member_id']) THEN
		PERFORM kw.raise('KW403', 'The owner of an action reports its status and '
		    'progress; the keyworker changes the rest.');
	END IF;
	SELECT * INTO e FROM kw.episodes WHERE id = a.episode_id;
	PERFORM kw.require_open(e);
	SELECT * INTO a FROM kw.actions WHERE id = p_action FOR UPDATE;
	IF p_if_match IS DISTINCT FROM kw.etag(a.version) AND p_if_match <> '*' THEN
		PERFORM kw.raise('KW412', 'The action has changed since it was read: read it again.');
	END IF;
	IF p_body ? 'owner_user_id' OR p_body ? 'owner_member_id' THEN
		IF (p_body->>'owner_user_id')::uuid IS NOT NULL
		    AND (p_body->>'owner_user_id')::uuid <> e.keyworker_id AND NOT EXISTS (
		    SELECT 1 FROM kw.team_members t WHERE t.episode_id = e.id
		    AND t.user_id = (p_body->>'owner_user_id')::uuid) THEN
			PERFORM kw.rule('action_owner_on_team',
			    'owner_user_id must name the keyworker or a TAF member.');
		END IF;
		IF (p_body->>'owner_member_id')::uuid IS NOT NULL AND NOT EXISTS (SELECT 1
		    FROM kw.members m WHERE m.episode_id = e.id
		    AND m.id = (p_body->>'owner_member_id')::uuid) THEN
			PERFORM kw.rule('action_owner_of_family',
			    'owner_member_id must name a member of this family.');
		END IF;
	END IF;
	UPDATE kw.actions SET
	    what = coalesce(p_body->>'what', what),
	    measure = coalesce(p_body->>'measure', measure),
	    due_date = coalesce((p_body->>'due_date')::date, due_date),
	    owner_user_id = CASE WHEN p_body ? 'owner_user_id' OR p_body ? 'owner_member_id'
		THEN (p_body->>'owner_user_id')::uuid ELSE owner_user_id END,
	    owner_member_id = CASE WHEN p_body ? 'owner_user_id' OR p_body ? 'owner_member_id'
		THEN (p_body->>'owner_member_id')::uuid ELSE owner_member_id END,
	    status = coalesce(p_body->>'status', status),
	    completed_at = CASE WHEN coalesce(p_body->>'status', status) IN ('done', 'dropped')
		THEN coalesce(completed_at, now()) END,
	    version = version + 1, updated_at = now()
	WHERE id = p_action
	RETURNING * INTO a;
	IF p_body ? 'status' OR p_body ? 'progress' THEN
		INSERT INTO kw.action_updates (action_id, episode_id, status, progress, created_by)
		VALUES (a.id, a.episode_id, a.status, p_body->>'progress', kw.current_user_id());
	END IF;
	body := kw.action_json(a);
	etag := kw.etag(a.version);
END
$$;

------------------------------------------------------------------------------
-- Outcome scores

CREATE FUNCTION api.list_outcome_scores(p_token text, p_rid text, p_addr text, p_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_full(p_id, 'outcome scores');
	RETURN jsonb_build_object(
	    'items', coalesce((SELECT jsonb_agg(jsonb_build_object('id', s.id,
		'area_id', s.area_id, 'score', s.score, 'scored_on', s.scored_on,
		'meeting_id', s.meeting_id, 'recorded_by', s.recorded_by,
		'created_at', s.created_at) ORDER BY s.scored_on, s.created_at, s.id)
		FROM kw.outcome_scores s WHERE s.episode_id = p_id), '[]'::jsonb),
	    'next_cursor', NULL,
	    'by_area', coalesce((SELECT jsonb_agg(jsonb_build_object('area_id', x.area_id,
		'area', x.name, 'first_score', x.first_score, 'first_on', x.first_on,
		'latest_score', x.latest_score, 'latest_on', x.latest_on,
		'change', x.latest_score - x.first_score) ORDER BY x.name)
		FROM (SELECT DISTINCT ON (s.area_id) s.area_id, oa.name,
		    first_value(s.score) OVER w AS first_score,
		    first_value(s.scored_on) OVER w AS first_on,
		    last_value(s.score) OVER w AS latest_score,
		    last_value(s.scored_on) OVER w AS latest_on
		    FROM kw.outcome_scores s JOIN kw.outcome_areas oa ON oa.id = s.area_id
		    WHERE s.episode_id = p_id
		    WINDOW w AS (PARTITION BY s.area_id ORDER BY s.scored_on, s.created_at, s.id
			ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) x),
		'[]'::jsonb));
END
$$;

CREATE FUNCTION api.add_outcome_scores(p_token text, p_rid text, p_addr text, p_id uuid,
    p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	e kw.episodes;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_full(p_id, 'outcome scores');
	e := kw.require_writer(p_id, 'record outcome scores');
	PERFORM kw.require_open(e);
	IF (p_body->>'scored_on')::date > kw.today() THEN
		PERFORM kw.rule('scored_in_past', 'scored_on cannot be in the future.');
	END IF;
	IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_body->'scores') x WHERE NOT EXISTS (
	    SELECT 1 FROM kw.outcome_areas oa WHERE oa.id = (x->>'area_id')::uuid AND oa.active)) THEN
		PERFORM kw.rule('outcome_area_active', 'Each area_id must name an active outcome area.');
	END IF;
	IF p_body->>'meeting_id' IS NOT NULL AND NOT EXISTS (SELECT 1 FROM kw.meetings
	    WHERE id = (p_body->>'meeting_id')::uuid AND episode_id = p_id) THEN
		PERFORM kw.rule('meeting_of_episode', 'meeting_id must name a meeting of this episode.');
	END IF;
	INSERT INTO kw.outcome_scores (episode_id, area_id, score, scored_on, meeting_id,
	    recorded_by)
	SELECT p_id, (x->>'area_id')::uuid, (x->>'score')::integer,
	    (p_body->>'scored_on')::date, (p_body->>'meeting_id')::uuid, kw.current_user_id()
	FROM jsonb_array_elements(p_body->'scores') x;
	RETURN (SELECT o FROM api.list_outcome_scores(p_token, p_rid, p_addr, p_id) o);
END
$$;

CREATE FUNCTION kw.outcome_area_json(a kw.outcome_areas) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', a.id, 'name', a.name, 'active', a.active,
	    'created_at', a.created_at, 'updated_at', a.updated_at)
$$;

CREATE FUNCTION api.list_outcome_areas(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_at timestamptz, p_after_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	RETURN coalesce((SELECT jsonb_agg(kw.outcome_area_json(a) ORDER BY a.created_at, a.id)
	FROM (SELECT * FROM kw.outcome_areas x
	    WHERE p_after_at IS NULL OR (x.created_at, x.id) > (p_after_at, p_after_id)
	    ORDER BY x.created_at, x.id LIMIT p_limit) a), '[]'::jsonb);
END
$$;

CREATE FUNCTION api.create_outcome_area(p_token text, p_rid text, p_addr text,
    p_body jsonb, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	a kw.outcome_areas;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_role('admin');
	INSERT INTO kw.outcome_areas (name) VALUES (p_body->>'name') RETURNING * INTO a;
	body := kw.outcome_area_json(a);
	etag := kw.etag(a.version);
END
$$;

CREATE FUNCTION api.update_outcome_area(p_token text, p_rid text, p_addr text, p_id uuid,
    p_if_match text, p_body jsonb, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	a kw.outcome_areas;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_role('admin');
	SELECT * INTO a FROM kw.outcome_areas WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such outcome area.');
	END IF;
	IF p_if_match IS DISTINCT FROM kw.etag(a.version) AND p_if_match <> '*' THEN
		PERFORM kw.raise('KW412', 'The outcome area has changed since it was read: read it again.');
	END IF;
	UPDATE kw.outcome_areas SET name = coalesce(p_body->>'name', name),
	    active = coalesce((p_body->>'active')::boolean, active),
	    version = version + 1, updated_at = now()
	WHERE id = p_id RETURNING * INTO a;
	body := kw.outcome_area_json(a);
	etag := kw.etag(a.version);
END
$$;

------------------------------------------------------------------------------
-- Documents

CREATE FUNCTION kw.document_json(d kw.documents) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', d.id, 'episode_id', d.episode_id,
	    'filename', d.filename, 'content_type', d.content_type,
	    'size_bytes', d.size_bytes, 'sha256', d.sha256, 'uploaded_by', d.uploaded_by,
	    'created_at', d.created_at)
$$;

CREATE FUNCTION api.list_documents(p_token text, p_rid text, p_addr text, p_id uuid,
    p_limit integer, p_after_at timestamptz, p_after_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_full(p_id, 'documents');
	RETURN coalesce((SELECT jsonb_agg(kw.document_json(d) ORDER BY d.created_at, d.id)
	FROM (SELECT id, episode_id, filename, content_type, size_bytes, sha256, ''::bytea,
		uploaded_by, created_at FROM kw.documents x WHERE x.episode_id = p_id
	    AND (p_after_at IS NULL OR (x.created_at, x.id) > (p_after_at, p_after_id))
	    ORDER BY x.created_at, x.id LIMIT p_limit) d), '[]'::jsonb);
END
$$;

-- p_content arrives as a binary parameter: no encoding, no copy beyond
-- the statement's own buffer.
CREATE FUNCTION api.upload_document(p_token text, p_rid text, p_addr text, p_id uuid,
    p_idem_key text, p_filename text, p_content_type text, p_content bytea,
    OUT body jsonb, OUT etag text, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
	prior kw.idempotency_keys;
	e kw.episodes;
	d kw.documents;
	digest text := encode(sha256(p_content), 'hex');
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	prior := kw.idem_claim(p_idem_key, 'uploadDocument ' || p_id, jsonb_build_object(
	    'filename', p_filename, 'content_type', p_content_type, 'sha256', digest));
	IF prior.principal IS NOT NULL THEN
		body := prior.response;
		replayed := true;
		RETURN;
	END IF;
	e := kw.require_full(p_id, 'documents');
	IF NOT (p_id = ANY (kw.my_episodes(true))) OR kw.current_user_id() IS NULL THEN
		PERFORM kw.raise('KW403', 'Documents are added by the keyworker and '
		    'full-access TAF members.');
	END IF;
	PERFORM kw.require_open(e);
	INSERT INTO kw.documents (episode_id, filename, content_type, size_bytes, sha256,
	    content, uploaded_by)
	VALUES (p_id, p_filename, p_content_type, octet_length(p_content), digest, p_content,
	    kw.current_user_id())
	RETURNING id, episode_id, filename, content_type, size_bytes, sha256, ''::bytea,
	    uploaded_by, created_at INTO d;
	PERFORM kw.alert_keyworker(p_id, 'document', 'A document was added.', NULL, d.id,
	    NULL, false);
	body := kw.document_json(d);
	replayed := false;
	PERFORM kw.idem_store(p_idem_key, body, NULL);
END
$$;

CREATE FUNCTION api.get_document(p_token text, p_rid text, p_addr text, p_doc uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	d kw.documents;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	SELECT id, episode_id, filename, content_type, size_bytes, sha256, ''::bytea,
	    uploaded_by, created_at INTO d FROM kw.documents WHERE id = p_doc;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such document.');
	END IF;
	RETURN kw.document_json(d);
END
$$;

-- The content, for a binary result: content, content_type, filename, sha256.
CREATE FUNCTION api.document_content(p_token text, p_rid text, p_addr text, p_doc uuid,
    OUT content bytea, OUT content_type text, OUT filename text, OUT sha256 text)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	SELECT d.content, d.content_type, d.filename, d.sha256
	INTO content, content_type, filename, sha256
	FROM kw.documents d WHERE d.id = p_doc;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such document.');
	END IF;
END
$$;

------------------------------------------------------------------------------
-- Alerts

CREATE FUNCTION kw.alert_json(a kw.alerts) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', a.id, 'episode_id', a.episode_id, 'kind', a.kind,
	    'detail', a.detail, 'note_id', a.note_id, 'document_id', a.document_id,
	    'meeting_id', a.meeting_id, 'access_request_id', a.access_request_id,
	    'raised_by_user_id', a.created_by, 'raised_by_client_id', a.created_by_client,
	    'created_at', a.created_at, 'acknowledged_at', a.acknowledged_at,
	    'response', a.response)
$$;

CREATE FUNCTION api.list_alerts(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_at timestamptz, p_after_id uuid, p_unacknowledged boolean)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	RETURN coalesce((SELECT jsonb_agg(kw.alert_json(a) ORDER BY a.created_at, a.id)
	FROM (SELECT * FROM kw.alerts x WHERE x.user_id = kw.current_user_id()
	    AND (p_unacknowledged IS NULL OR (x.acknowledged_at IS NULL) = p_unacknowledged)
	    AND (p_after_at IS NULL OR (x.created_at, x.id) > (p_after_at, p_after_id))
	    ORDER BY x.created_at, x.id LIMIT p_limit) a), '[]'::jsonb);
END
$$;

CREATE FUNCTION api.acknowledge_alert(p_token text, p_rid text, p_addr text, p_alert uuid,
    p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	a kw.alerts;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	SELECT * INTO a FROM kw.alerts WHERE id = p_alert FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such alert.');
	END IF;
	IF a.acknowledged_at IS NOT NULL THEN
		PERFORM kw.raise('KW409', 'The alert is already acknowledged.');
	END IF;
	UPDATE kw.alerts SET acknowledged_at = now(), response = p_body->>'response'
	WHERE id = p_alert RETURNING * INTO a;
	RETURN kw.alert_json(a);
END
$$;

-- Raise an alert on an episode the caller sees (a practitioner at any
-- level, or a partner system): a contact to children's services, a
-- domestic-violence notification, a referral. It reaches the keyworker at
-- once; a domestic-violence notification reaches their manager too.
CREATE FUNCTION api.raise_alert(p_token text, p_rid text, p_addr text, p_id uuid,
    p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	IF kw.episode_access(p_id) IS NULL THEN
		PERFORM kw.raise('KW404', 'No such episode.');
	END IF;
	PERFORM kw.alert_keyworker(p_id, p_body->>'kind', p_body->>'detail', NULL, NULL, NULL,
	    p_body->>'kind' = 'domestic_violence');
	RETURN jsonb_build_object('episode_id', p_id, 'kind', p_body->>'kind',
	    'status', 'sent', 'sent_at', now());
END
$$;

------------------------------------------------------------------------------
-- The holiday calendar (admins)

CREATE FUNCTION api.list_holidays(p_token text, p_rid text, p_addr text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	RETURN jsonb_build_object('holidays', coalesce((SELECT jsonb_agg(jsonb_build_object(
	    'date', h.day, 'name', h.name) ORDER BY h.day) FROM kw.holidays h), '[]'::jsonb));
END
$$;

-- Replaces the calendar with the list given.
CREATE FUNCTION api.put_holidays(p_token text, p_rid text, p_addr text, p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_role('admin');
	DELETE FROM kw.holidays;
	INSERT INTO kw.holidays (day, name)
	SELECT (x->>'date')::date, x->>'name' FROM jsonb_array_elements(p_body->'holidays') x;
	RETURN (SELECT o FROM api.list_holidays(p_token, p_rid, p_addr) o);
END
$$;

------------------------------------------------------------------------------
-- Oversight

-- Deadlines the caller may see (row-level security on the parts), soonest
-- first; keyset on (due, key).
CREATE FUNCTION api.list_deadlines(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_due date, p_after_key text, p_due_before date,
    p_overdue boolean, p_keyworker uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	RETURN coalesce((SELECT jsonb_agg(p.j ORDER BY p.due, p.key)
	FROM (SELECT x.j, x.due, x.key FROM (
		SELECT kw.deadline_json(d) || jsonb_build_object('family_name', e.family_name)
		    AS j, d.due
		FROM kw.deadlines_v d JOIN kw.episodes e ON e.id = d.episode_id
		WHERE d.met_at IS NULL
		    AND (p_due_before IS NULL OR d.due < p_due_before)
		    AND (p_overdue IS NULL OR (d.due < kw.today()) = p_overdue)
		    AND (p_keyworker IS NULL OR d.keyworker_id = p_keyworker)) y
	    CROSS JOIN LATERAL (SELECT y.j, y.due, y.j->>'key' AS key) x
	    WHERE p_after_due IS NULL OR (x.due, x.key) > (p_after_due, p_after_key)
	    ORDER BY x.due, x.key LIMIT p_limit) p), '[]'::jsonb);
END
$$;

-- Unacknowledged alerts per practitioner the caller oversees (their reports,
-- or everyone in an area they coordinate): counts only.
CREATE FUNCTION kw.oversight_alert_counts() RETURNS TABLE (user_id uuid, n bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = kw, pg_temp AS $$
	SELECT a.user_id, count(*) FROM kw.alerts a JOIN kw.users u ON u.id = a.user_id
	WHERE a.acknowledged_at IS NULL AND (u.id = ANY (kw.my_reports())
	    OR u.area_id = ANY (kw.my_areas()) OR u.id = kw.current_user_id())
	GROUP BY a.user_id
$$;
REVOKE ALL ON FUNCTION kw.oversight_alert_counts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.oversight_alert_counts() TO keywork_api;

-- A manager's caseload, per practitioner they manage (and their own); a
-- coordinator's, per area. Counts of open episodes, deadlines due in the
-- next 7 days, overdue ones, unacknowledged alerts.
CREATE FUNCTION api.get_caseload(p_token text, p_rid text, p_addr text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	people uuid[];
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	IF kw.current_user_id() IS NULL THEN
		PERFORM kw.raise('KW403', 'Caseloads are for managers, coordinators and practitioners.');
	END IF;
	people := kw.my_reports() || kw.current_user_id();
	RETURN jsonb_build_object(
	    'practitioners', coalesce((SELECT jsonb_agg(jsonb_build_object(
		'user_id', s.id, 'name', s.name,
		'open_episodes', (SELECT count(*) FROM kw.episodes e
		    WHERE e.keyworker_id = s.id AND e.status <> 'closed'),
		'due_this_week', (SELECT count(*) FROM kw.deadlines_v d
		    WHERE d.keyworker_id = s.id AND d.met_at IS NULL
		    AND d.due BETWEEN kw.today() AND kw.today() + 6),
		'overdue', (SELECT count(*) FROM kw.deadlines_v d
		    WHERE d.keyworker_id = s.id AND d.met_at IS NULL AND d.due < kw.today()),
		'unacknowledged_alerts', coalesce((SELECT c.n FROM kw.oversight_alert_counts() c
		    WHERE c.user_id = s.id), 0)) ORDER BY s.name, s.id)
		FROM kw.staff_v s WHERE s.id = ANY (people)), '[]'::jsonb),
	    'areas', coalesce((SELECT jsonb_agg(jsonb_build_object(
		'area_id', ar.id, 'name', ar.name,
		'open_episodes', (SELECT count(*) FROM kw.episodes e
		    WHERE e.area_id = ar.id AND e.status <> 'closed'),
		'due_this_week', (SELECT count(*) FROM kw.deadlines_v d
		    JOIN kw.episodes e ON e.id = d.episode_id
		    WHERE e.area_id = ar.id AND d.met_at IS NULL
		    AND d.due BETWEEN kw.today() AND kw.today() + 6),
		'overdue', (SELECT count(*) FROM kw.deadlines_v d
		    JOIN kw.episodes e ON e.id = d.episode_id
		    WHERE e.area_id = ar.id AND d.met_at IS NULL AND d.due < kw.today()))
		ORDER BY ar.name)
		FROM kw.areas ar WHERE ar.id = ANY (kw.my_areas())), '[]'::jsonb));
END
$$;

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO keywork_api;
