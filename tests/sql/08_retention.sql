-- Retention and erasure (0014): which closed episodes are due
-- (kw.erase_due_episodes under the two settings), what erasure leaves
-- (ids, dates, statuses; no name, text, document byte or date of birth of
-- the episode anywhere in the database), that a family shared with a live
-- episode keeps its name, that an erased episode is never reopened, and
-- that the case notes' carve-out serves erasure by the owner only. Run as
-- the schema owner, in one transaction rolled back at the end (case notes
-- cannot be deleted, even by the owner); any failure raises.
--
-- Every text the fixture writes for the episodes to be erased carries a
-- word of its own ('Qx08Erase' for e, 'Qx08Sone' for s1, 'Qx08Yday' for
-- y), and the search for it after erasure covers every text, JSON, array
-- and binary column of every table in schema kw, so a column added later
-- is covered too.
--
--   e    closed 400 days ago; children of 25 (today) and 27; every case
--        table has rows of it, filled in every free-text column
--   s1   family fs, closed 400 days ago, a child of 30
--   s2   family fs, open: fs keeps its name when s1 is erased
--   k24  closed 400 days ago, youngest child 24 (25 next year)
--   y    closed yesterday, a child of 30
--   r    closed and reopened (open now), a child of 30
--   kw1  keyworker of all; mgr their manager

BEGIN;
GRANT keywork_api TO CURRENT_USER;

\set area '00000000-0000-4000-8000-000000000801'
\set agency '00000000-0000-4000-8000-000000000802'
\set mgr '00000000-0000-4000-8000-000000000811'
\set kw1 '00000000-0000-4000-8000-000000000812'
\set fe '00000000-0000-4000-8000-000000000821'
\set fs '00000000-0000-4000-8000-000000000822'
\set fk '00000000-0000-4000-8000-000000000823'
\set fy '00000000-0000-4000-8000-000000000824'
\set fr '00000000-0000-4000-8000-000000000825'
\set e '00000000-0000-4000-8000-000000000831'
\set s1 '00000000-0000-4000-8000-000000000832'
\set s2 '00000000-0000-4000-8000-000000000833'
\set k24 '00000000-0000-4000-8000-000000000834'
\set y '00000000-0000-4000-8000-000000000835'
\set r '00000000-0000-4000-8000-000000000836'
\set m1 '00000000-0000-4000-8000-000000000841'
\set m2 '00000000-0000-4000-8000-000000000842'
\set m3 '00000000-0000-4000-8000-000000000843'
\set n1 '00000000-0000-4000-8000-000000000851'
\set n2 '00000000-0000-4000-8000-000000000852'
\set mt '00000000-0000-4000-8000-000000000861'
\set a1 '00000000-0000-4000-8000-000000000862'
\set d1 '00000000-0000-4000-8000-000000000863'
\set ar '00000000-0000-4000-8000-000000000864'
\set nt '00000000-0000-4000-8000-000000000865'

SET kwtest.e = :'e';
SET kwtest.s1 = :'s1';
SET kwtest.s2 = :'s2';
SET kwtest.k24 = :'k24';
SET kwtest.y = :'y';
SET kwtest.r = :'r';
SET kwtest.fs = :'fs';
SET kwtest.kw1 = :'kw1';

INSERT INTO kw.areas (id, name) VALUES (:'area', 'Retention test 08');
INSERT INTO kw.agencies (id, name, kind)
VALUES (:'agency', 'Retention test 08 agency', 'local_authority');
INSERT INTO kw.users (id, email, name, password_hash, agency_id, area_id, roles)
VALUES (:'mgr', 'ret08-mgr@test.example.org', 'Ret 08 Manager', 'not a hash', :'agency',
    :'area', ARRAY['manager']);
INSERT INTO kw.users (id, email, name, password_hash, agency_id, area_id, roles, manager_id)
VALUES (:'kw1', 'ret08-kw1@test.example.org', 'Ret 08 Keyworker', 'not a hash', :'agency',
    :'area', ARRAY['practitioner'], :'mgr');
INSERT INTO kw.token_families (id, user_id)
VALUES ('00000000-0000-4000-8000-0000000008f1', :'kw1');
INSERT INTO kw.access_tokens (token_hash, family_id, expires_at)
VALUES ('ret08-token-kw1', '00000000-0000-4000-8000-0000000008f1', now() + interval '1 hour');

INSERT INTO kw.families (id, name, area_id, postcode) VALUES
	(:'fe', 'Qx08Erase Family', :'area', 'Qx08Erase'),
	(:'fs', 'Ret08 Shared', :'area', 'RT8 1SS'),
	(:'fk', 'Ret08 Kept', :'area', NULL),
	(:'fy', 'Qx08Yday Family', :'area', NULL),
	(:'fr', 'Ret08 Reopened', :'area', NULL);

-- Registered 600 days ago; the closed ones closed at closed_at.
INSERT INTO kw.episodes (id, family_id, family_name, area_id, keyworker_id,
    lead_agency_id, registered_by, registered_at, assessment_due, first_taf_meeting_due,
    status, assessment_completed_at, first_taf_meeting_held_at, closed_at)
SELECT v.id::uuid, v.family::uuid, v.name, :'area', :'kw1', :'agency', :'kw1', reg,
    kw.local_date(reg) + 21, kw.local_date(reg) + 42, v.status,
    reg + interval '10 days', reg + interval '30 days', v.closed
FROM (VALUES
	(:'e', :'fe', 'Qx08Erase Family', 'closed', now() - interval '400 days'),
	(:'s1', :'fs', 'Ret08 Shared', 'closed', now() - interval '400 days'),
	(:'s2', :'fs', 'Ret08 Shared', 'plan_in_place', NULL),
	(:'k24', :'fk', 'Ret08 Kept', 'closed', now() - interval '400 days'),
	(:'y', :'fy', 'Qx08Yday Family', 'closed', now() - interval '1 day'),
	(:'r', :'fr', 'Ret08 Reopened', 'plan_in_place', NULL)
) AS v (id, family, name, status, closed)
CROSS JOIN (SELECT now() - interval '600 days' AS reg) g;

INSERT INTO kw.members (id, episode_id, given_name, family_name, date_of_birth,
    relationship, is_child, included, not_included_reason) VALUES
	(:'m1', :'e', 'Qx08Erase Amy', 'Qx08Erase', kw.today() - interval '25 years',
	    'Qx08Erase daughter', true, true, NULL),
	(:'m2', :'e', 'Qx08Erase Ben', 'Qx08Erase', kw.today() - interval '27 years',
	    'Qx08Erase son', true, false, 'Qx08Erase parents refused'),
	(:'m3', :'e', 'Qx08Erase Cat', 'Qx08Erase', '1970-03-04', 'Qx08Erase mother', false,
	    true, NULL);
INSERT INTO kw.members (episode_id, given_name, family_name, date_of_birth,
    relationship, is_child) VALUES
	(:'s1', 'Qx08Sone Dan', 'Ret08 Shared', kw.today() - interval '30 years', 'son', true),
	(:'s2', 'Ret08 Eve', 'Ret08 Shared', kw.today() - interval '30 years', 'son', true),
	(:'k24', 'Ret08 Fay', 'Ret08 Kept', kw.today() - interval '30 years', 'daughter', true),
	(:'k24', 'Ret08 Gus', 'Ret08 Kept', kw.today() - interval '24 years', 'son', true),
	(:'y', 'Qx08Yday Hal', 'Qx08Yday', kw.today() - interval '30 years', 'son', true),
	(:'r', 'Ret08 Ivy', 'Ret08 Reopened', kw.today() - interval '30 years', 'daughter',
	    true);

-- e's content, in every case table.
INSERT INTO kw.consents (episode_id, kind, given_by, obtained_at, statement, recorded_by)
VALUES (:'e', 'written', 'Qx08Erase Cat', now() - interval '590 days',
    'Qx08Erase consent statement', :'kw1');
INSERT INTO kw.team_members (episode_id, user_id, level, added_by)
VALUES (:'e', :'mgr', 'full', :'kw1');
INSERT INTO kw.access_requests (id, episode_id, requester_id, reason, status, level,
    decided_by, decided_at, decision_note)
VALUES (:'ar', :'e', :'mgr', 'Qx08Erase reason to ask', 'approved', 'full', :'kw1',
    now() - interval '500 days', 'Qx08Erase decision');
INSERT INTO kw.notes (id, episode_id, author_id, kind, body, created_at) VALUES
	(:'n1', :'e', :'kw1', 'fact', 'Qx08Erase first note', now() - interval '550 days');
INSERT INTO kw.notes (id, episode_id, author_id, kind, body, amends_note_id, created_at)
VALUES (:'n2', :'e', :'kw1', 'opinion', 'Qx08Erase amending note', :'n1',
    now() - interval '549 days');
INSERT INTO kw.notes (episode_id, author_id, kind, body)
VALUES (:'s1', :'kw1', 'fact', 'Qx08Sone note'), (:'y', :'kw1', 'fact', 'Qx08Yday note'),
	(:'k24', :'kw1', 'fact', 'Ret08 kept note');
INSERT INTO kw.assessments (episode_id, strengths, needs, priorities, status, completed_at,
    completed_by, updated_by)
VALUES (:'e', 'Qx08Erase strengths', 'Qx08Erase needs', 'Qx08Erase priorities', 'complete',
    now() - interval '590 days', :'kw1', :'kw1');
INSERT INTO kw.assessment_voices (episode_id, member_id, in_own_words, given_by,
    how_obtained, voice) VALUES
	(:'e', :'m1', 'Qx08Erase in my words', NULL, NULL, NULL),
	(:'e', :'m2', NULL, 'Qx08Erase teacher', 'Qx08Erase at school', 'Qx08Erase his voice');
INSERT INTO kw.meetings (id, episode_id, scheduled_at, venue, family_can_attend, status,
    held_at, outcomes_recorded_at, decisions, family_comments_meeting,
    family_comments_actions, plan_shared_at, created_by)
VALUES (:'mt', :'e', now() - interval '570 days', 'Qx08Erase family home', true, 'held',
    now() - interval '570 days', now() - interval '569 days', 'Qx08Erase decisions',
    'Qx08Erase said at meeting', 'Qx08Erase said of actions', now() - interval '568 days',
    :'kw1');
INSERT INTO kw.meeting_invitees (meeting_id, episode_id, user_id, member_id, attendance,
    apologies, report) VALUES
	(:'mt', :'e', :'mgr', NULL, 'apologies', 'Qx08Erase apologies', 'Qx08Erase report'),
	(:'mt', :'e', NULL, :'m3', 'attended', NULL, NULL);
INSERT INTO kw.actions (id, episode_id, meeting_id, what, owner_member_id, measure,
    due_date, status, completed_at, created_by)
VALUES (:'a1', :'e', :'mt', 'Qx08Erase what to do', :'m3', 'Qx08Erase measure',
    kw.today() - 540, 'done', now() - interval '541 days', :'kw1');
INSERT INTO kw.action_updates (action_id, episode_id, status, progress, created_by)
VALUES (:'a1', :'e', 'done', 'Qx08Erase progress', :'kw1');
INSERT INTO kw.outcome_scores (episode_id, area_id, score, scored_on, meeting_id,
    recorded_by)
SELECT :'e', id, 4, kw.today() - 570, :'mt', :'kw1' FROM kw.outcome_areas LIMIT 2;
INSERT INTO kw.documents (id, episode_id, filename, content_type, size_bytes, sha256,
    content, uploaded_by)
SELECT :'d1', :'e', 'Qx08Erase letter.txt', 'text/x-Qx08Erase', octet_length(c),
    encode(sha256(c), 'hex'), c, :'kw1'
FROM (SELECT convert_to('Dear Qx08Erase family, a letter.', 'UTF8') AS c) x;
INSERT INTO kw.alerts (episode_id, user_id, kind, note_id, document_id, meeting_id,
    created_by, detail, acknowledged_at, response) VALUES
	(:'e', :'kw1', 'case_note', :'n1', NULL, NULL, :'mgr', 'Qx08Erase alert detail',
	    now() - interval '548 days', 'Qx08Erase alert response'),
	(:'e', :'kw1', 'document', NULL, :'d1', :'mt', :'mgr', NULL, NULL, NULL);
INSERT INTO kw.transfers (episode_id, kind, reason, from_keyworker_id, to_keyworker_id,
    receiving_authority, family_told_at, changeover_on, status, note, proposed_by,
    decided_at) VALUES
	(:'e', 'out_of_county', 'moving_out_of_county', :'kw1', NULL, 'Qx08Erase County',
	    now() - interval '450 days', kw.today() - 440, 'declined', 'Qx08Erase transfer note',
	    :'kw1', now() - interval '445 days');
INSERT INTO kw.step_ups (episode_id, area_id, unmet_needs, what_was_tried,
    more_within_resources, impact_so_far, evidence_higher_level, advice_sought, status,
    decision_note, requested_by, decided_by, decided_at)
VALUES (:'e', :'area', 'Qx08Erase unmet', 'Qx08Erase tried', 'Qx08Erase more',
    'Qx08Erase impact', 'Qx08Erase evidence', 'Qx08Erase advice', 'declined',
    'Qx08Erase decision note', :'kw1', :'mgr', now() - interval '460 days');
INSERT INTO kw.step_downs (area_id, family, needs, consent_given_by, consent_obtained_at,
    status, decided_on, allocated_agency_id, allocated_keyworker_id, episode_id,
    created_by, allocated_by, allocated_at)
VALUES (:'area', '{"family": {"name": "Qx08Erase Family"}, "members": [{"given_name":
    "Qx08Erase Amy", "date_of_birth": "2001-01-01"}]}', 'Qx08Erase needs stepping down',
    'Qx08Erase Cat', now() - interval '601 days', 'allocated', kw.today() - 601, :'agency',
    :'kw1', :'e', :'mgr', :'mgr', now() - interval '600 days');
INSERT INTO kw.closures (episode_id, reason, family_views, children_views, feedback,
    closed_by, closed_at, reopened_by, reopened_at, reopen_reason) VALUES
	(:'e', 'other', 'Qx08Erase first views', 'Qx08Erase first children', NULL, :'kw1',
	    now() - interval '420 days', :'kw1', now() - interval '419 days',
	    'Qx08Erase reopened because'),
	(:'e', 'outcomes_met', 'Qx08Erase family views', 'Qx08Erase children views',
	    'Qx08Erase feedback', :'kw1', now() - interval '400 days', NULL, NULL, NULL),
	(:'y', 'outcomes_met', 'Qx08Yday views', 'Qx08Yday children', NULL, :'kw1',
	    now() - interval '1 day', NULL, NULL, NULL),
	(:'r', 'outcomes_met', 'Ret08 views', 'Ret08 children', NULL, :'kw1',
	    now() - interval '400 days', :'kw1', now() - interval '399 days', 'Ret08 back');
INSERT INTO kw.idempotency_keys (principal, key, request_hash, response)
VALUES (:'kw1', 'ret08-key', 'x', jsonb_build_object('episode_id', :'e', 'body',
    'Qx08Erase stored reply'));
INSERT INTO kw.notifications (id, user_id, rule, dedupe_key, episode_id, deadline_kind,
    due)
VALUES (:'nt', :'kw1', 'deadline_overdue', 'ret08:' || :'e', :'e', 'assessment',
    kw.today() - 570);
INSERT INTO kw.deliveries (channel, notification_id, last_error)
VALUES ('email', :'nt', 'connection refused');

------------------------------------------------------------------------------
-- Helpers

CREATE FUNCTION pg_temp.id(p_name text) RETURNS uuid
LANGUAGE sql STABLE AS $$ SELECT current_setting('kwtest.' || p_name)::uuid $$;

CREATE FUNCTION pg_temp.expect(p_what text, p_got text, p_want text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF p_got IS DISTINCT FROM p_want THEN
		RAISE EXCEPTION E'%:\n  expected [%]\n  got      [%]', p_what, p_want, p_got;
	END IF;
END
$$;

-- p_sql must fail with p_state (and, given, the rule its detail names).
CREATE FUNCTION pg_temp.expect_error(p_what text, p_sql text, p_state text,
    p_rule text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	detail text;
BEGIN
	BEGIN
		EXECUTE p_sql;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
		IF SQLSTATE = p_state AND (p_rule IS NULL
		    OR detail = jsonb_build_object('rule', p_rule)::text) THEN
			RETURN;
		END IF;
		RAISE EXCEPTION '%: failed with % (%; %), not % %', p_what, SQLSTATE, SQLERRM,
		    detail, p_state, coalesce(p_rule, '');
	END;
	RAISE EXCEPTION '%: succeeded, where % % was expected', p_what, p_state,
	    coalesce(p_rule, '');
END
$$;

-- Every column of every table in schema kw that holds p_word (text, JSON and
-- arrays as text, case-insensitively; binary content byte for byte), as
-- table.column, sorted.
CREATE FUNCTION pg_temp.holding(p_word text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	c record;
	found boolean;
	out text[] := '{}';
BEGIN
	FOR c IN SELECT col.table_name AS t, col.column_name AS n, col.data_type AS ty
	    FROM information_schema.columns col
	    JOIN information_schema.tables tb ON tb.table_schema = col.table_schema
		AND tb.table_name = col.table_name AND tb.table_type = 'BASE TABLE'
	    WHERE col.table_schema = 'kw' AND col.data_type IN ('text', 'character varying',
		'jsonb', 'json', 'ARRAY', 'bytea', 'USER-DEFINED')
	    ORDER BY 1, 2
	LOOP
		IF c.ty = 'bytea' THEN
			EXECUTE format('SELECT EXISTS (SELECT 1 FROM kw.%I WHERE '
			    'position(convert_to($1, ''UTF8'') IN %I) > 0)', c.t, c.n)
			    INTO found USING p_word;
		ELSE
			EXECUTE format('SELECT EXISTS (SELECT 1 FROM kw.%I WHERE %I::text ILIKE '
			    '''%%'' || $1 || ''%%'')', c.t, c.n) INTO found USING p_word;
		END IF;
		IF found THEN
			out := out || (c.t || '.' || c.n);
		END IF;
	END LOOP;
	RETURN array_to_string(out, ' ');
END
$$;

-- Is column p_col of table kw.p_table an enumeration (a CHECK lists its
-- values)? Statuses, kinds and levels are text of this sort.
CREATE FUNCTION pg_temp.is_enum(p_table text, p_col text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM pg_constraint k
	    WHERE k.conrelid = ('kw.' || quote_ident(p_table))::regclass AND k.contype = 'c'
		AND pg_get_constraintdef(k.oid) ~ ('\m' || p_col || ' = ANY \(ARRAY\['))
$$;

-- What erasure must leave as it was, for episode p_ep: in every table with
-- an episode_id (and the episode itself), each row's columns other than
-- free text, JSON and binary content (enumerations included), less the
-- date of birth, a document's size and erased_at. One line per table:
-- table, rows, digest.
CREATE FUNCTION pg_temp.shape(p_ep uuid) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	t record;
	cols text;
	part text;
	out text[] := '{}';
BEGIN
	FOR t IN SELECT c.table_name AS name, CASE WHEN c.table_name = 'episodes' THEN 'id'
		ELSE 'episode_id' END AS key
	    FROM information_schema.columns c
	    JOIN information_schema.tables tb ON tb.table_schema = c.table_schema
		AND tb.table_name = c.table_name AND tb.table_type = 'BASE TABLE'
	    WHERE c.table_schema = 'kw' AND (c.column_name = 'episode_id'
		OR (c.table_name = 'episodes' AND c.column_name = 'id'))
		-- The audit trail grows with the erasure itself (checked below),
		-- and so do the changes the worker's next pass plans from (0017).
		AND c.table_name NOT IN ('audit', 'plan_changes')
	    ORDER BY 1
	LOOP
		SELECT string_agg(quote_ident(c.column_name), ', ' ORDER BY c.ordinal_position)
		INTO cols FROM information_schema.columns c
		WHERE c.table_schema = 'kw' AND c.table_name = t.name
		    AND (c.data_type NOT IN ('text', 'character varying', 'jsonb', 'json',
			'ARRAY', 'bytea') OR pg_temp.is_enum(t.name, c.column_name))
		    AND t.name || '.' || c.column_name NOT IN ('members.date_of_birth',
			'documents.size_bytes', 'episodes.erased_at');
		EXECUTE format('SELECT count(*) || '' '' || coalesce(md5(string_agg(row(%s)::text, '
		    '''|'' ORDER BY row(%s)::text)), ''-'') FROM kw.%I WHERE %I = $1',
		    cols, cols, t.name, t.key) INTO part USING p_ep;
		out := out || (t.name || ' ' || part);
	END LOOP;
	RETURN array_to_string(out, E'\n');
END
$$;

CREATE FUNCTION pg_temp.erased(p_name text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT erased_at IS NOT NULL FROM kw.episodes WHERE id = pg_temp.id(p_name)
$$;

-- Which of the fixture's episodes are erased, by name.
CREATE FUNCTION pg_temp.erased_list() RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT string_agg(n, ' ' ORDER BY n) FROM unnest(ARRAY['e', 's1', 's2', 'k24', 'y', 'r']) n
	WHERE pg_temp.erased(n)
$$;

------------------------------------------------------------------------------
-- Before: the settings' defaults, and the fixture's words where planted.

DO $$
BEGIN
	PERFORM pg_temp.expect('the retention settings: defaults and bounds',
	    (SELECT string_agg(format('%s=%s [%s..%s]', name, value, minimum, maximum), ' '
		ORDER BY name) FROM kw.settings WHERE name LIKE 'retention%'),
	    'retention_child_age_years=25 [0..100] retention_days_after_closure=365 [0..3650]');
	PERFORM pg_temp.expect('where e''s word is before erasure (every free text)',
	    pg_temp.holding('Qx08Erase'),
	    'access_requests.decision_note access_requests.reason action_updates.progress '
	    'actions.measure actions.what alerts.detail alerts.response '
	    'assessment_voices.given_by assessment_voices.how_obtained '
	    'assessment_voices.in_own_words assessment_voices.voice assessments.needs '
	    'assessments.priorities assessments.strengths closures.children_views '
	    'closures.family_views closures.feedback closures.reopen_reason consents.given_by '
	    'consents.statement documents.content documents.content_type documents.filename '
	    'episodes.family_name families.name families.postcode idempotency_keys.response '
	    'meeting_invitees.apologies meeting_invitees.report '
	    'meetings.decisions meetings.family_comments_actions '
	    'meetings.family_comments_meeting meetings.venue members.family_name '
	    'members.given_name members.not_included_reason members.relationship notes.body '
	    'step_downs.consent_given_by step_downs.family step_downs.needs '
	    'step_ups.advice_sought step_ups.decision_note step_ups.evidence_higher_level '
	    'step_ups.impact_so_far step_ups.more_within_resources step_ups.unmet_needs '
	    'step_ups.what_was_tried transfers.note transfers.receiving_authority');
	PERFORM set_config('kwtest.shape_e', pg_temp.shape(pg_temp.id('e')), true);
	PERFORM set_config('kwtest.shape_y', pg_temp.shape(pg_temp.id('y')), true);
	PERFORM pg_temp.expect('no episode of the fixture is erased yet',
	    pg_temp.erased_list(), NULL);
END
$$;

------------------------------------------------------------------------------
-- Once a day (0018): the worker's kw.erase_due_today checks until a batch
-- comes back short, then not again that day, unless a setting changes.
-- Undone at the end, for the blocks below.

DO $$
BEGIN
	BEGIN
		UPDATE kw.erase_state SET checked_on = kw.today();
		PERFORM pg_temp.expect('a later pass the same day looks at nothing',
		    kw.erase_due_today(kw.today(), 1000000) || ' '
			|| coalesce(pg_temp.erased_list(), '-'), '0 -');
		UPDATE kw.settings SET value = value WHERE name = 'retention_days_after_closure';
		PERFORM pg_temp.expect('after a setting changed, a batch of one',
		    kw.erase_due_today(kw.today(), 1)::text, '1');
		PERFORM pg_temp.expect('a full batch leaves the day''s check open',
		    coalesce((SELECT checked_on FROM kw.erase_state)::text, 'open'), 'open');
		PERFORM kw.erase_due_today(kw.today(), 1000000);
		PERFORM pg_temp.expect('a short batch completes it, having erased those due',
		    (SELECT checked_on FROM kw.erase_state) || ' ' || pg_temp.erased_list(),
		    kw.today() || ' e s1');
		PERFORM kw.erase_due_today(kw.today() + 1, 1000000);
		PERFORM pg_temp.expect('the next day checks again',
		    (SELECT checked_on FROM kw.erase_state)::text, (kw.today() + 1)::text);
		RAISE EXCEPTION 'ret08: undo the daily check';
	EXCEPTION WHEN raise_exception THEN
		IF SQLERRM <> 'ret08: undo the daily check' THEN
			RAISE;
		END IF;
	END;
	PERFORM pg_temp.expect('undone', coalesce(pg_temp.erased_list(), '-'), '-');
END
$$;

------------------------------------------------------------------------------
-- The defaults (25 years, 365 days): e (youngest child 25 today) and s1
-- (30) are due; k24 (24), y (closed yesterday), r and s2 (open) are not.

DO $$
DECLARE
	n integer;
	before bigint := (SELECT count(*) FROM kw.episodes WHERE erased_at IS NOT NULL);
BEGIN
	-- A batch at a time: p_limit of those due.
	n := kw.erase_due_episodes(kw.today(), 1);
	PERFORM pg_temp.expect('a batch of one: erased, and episodes erased in all',
	    n || ' ' || (SELECT count(*) FROM kw.episodes WHERE erased_at IS NOT NULL) - before,
	    '1 1');
	n := kw.erase_due_episodes(kw.today(), 1000000);
	PERFORM pg_temp.expect('erased by the defaults', pg_temp.erased_list(), 'e s1');
	PERFORM pg_temp.expect('the passes count what they erased (e and s1 at least)',
	    (n + 1 = (SELECT count(*) FROM kw.episodes WHERE erased_at IS NOT NULL) - before
		AND n >= 1)::text, 'true');
	PERFORM pg_temp.expect('a second pass erases nothing more',
	    kw.erase_due_episodes(kw.today(), 1000000)::text, '0');
	PERFORM pg_temp.expect('kw.erase_episode on an erased episode',
	    kw.erase_episode(pg_temp.id('e'))::text, 'false');

	PERFORM pg_temp.expect('where e''s and s1''s words are after erasure',
	    pg_temp.holding('Qx08Erase') || '|' || pg_temp.holding('Qx08Sone'), '|');
	PERFORM pg_temp.expect('ids, dates, statuses and kinds of e, as they were',
	    pg_temp.shape(pg_temp.id('e')), current_setting('kwtest.shape_e'));
	PERFORM pg_temp.expect('the erasure of e is in the audit trail, as the system''s',
	    (SELECT count(*) > 0 FROM kw.audit WHERE episode_id = pg_temp.id('e')
		AND action = 'update' AND entity = 'note' AND roles = 'system')::text, 'true');
	PERFORM pg_temp.expect('e''s dates of birth',
	    (SELECT string_agg(DISTINCT date_of_birth::text, ' ') FROM kw.members
		WHERE episode_id = pg_temp.id('e')), '1900-01-01');
	PERFORM pg_temp.expect('e''s document: empty, with the digest of nothing',
	    (SELECT format('%s %s %s %s %s', filename, content_type, size_bytes,
		octet_length(content), sha256) FROM kw.documents WHERE episode_id = pg_temp.id('e')),
	    'erased application/octet-stream 0 0 '
	    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
	PERFORM pg_temp.expect('e''s notes read the marker',
	    (SELECT string_agg(DISTINCT body, ' ') FROM kw.notes
		WHERE episode_id = pg_temp.id('e')), 'erased');
	PERFORM pg_temp.expect('empty text stays empty (an alert with no detail)',
	    (SELECT count(*) FROM kw.alerts WHERE episode_id = pg_temp.id('e')
		AND detail IS NULL)::text, '1');
	PERFORM pg_temp.expect('e''s stored replies are gone',
	    (SELECT count(*) FROM kw.idempotency_keys WHERE key = 'ret08-key')::text, '0');
	PERFORM pg_temp.expect('e''s family (no other episode) is erased',
	    (SELECT name || ' ' || postcode FROM kw.families f JOIN kw.episodes e
		ON e.family_id = f.id WHERE e.id = pg_temp.id('e')), 'erased erased');
	PERFORM pg_temp.expect('the family shared with open s2 keeps its name; s1''s own '
	    'copy is erased, s2''s is not',
	    (SELECT f.name || ' ' || f.postcode FROM kw.families f WHERE f.id = pg_temp.id('fs'))
	    || ' / ' || (SELECT string_agg(family_name, ' ' ORDER BY id) FROM kw.episodes
		WHERE family_id = pg_temp.id('fs')), 'Ret08 Shared RT8 1SS / erased Ret08 Shared');
	PERFORM pg_temp.expect('what s2, k24, y and r hold is untouched',
	    (SELECT string_agg(given_name, ' ' ORDER BY given_name) FROM kw.members
		WHERE episode_id IN (pg_temp.id('s2'), pg_temp.id('k24'), pg_temp.id('y'),
		    pg_temp.id('r'))), 'Qx08Yday Hal Ret08 Eve Ret08 Fay Ret08 Gus Ret08 Ivy');
END
$$;

------------------------------------------------------------------------------
-- The period after closure: 30 days keeps y (closed yesterday); 1 day
-- erases it. The child's age at 0 (rule off) erases k24.

DO $$
BEGIN
	UPDATE kw.settings SET value = 30 WHERE name = 'retention_days_after_closure';
	PERFORM kw.erase_due_episodes(kw.today(), 1000000);
	PERFORM pg_temp.expect('30 days after closure', pg_temp.erased_list(), 'e s1');
	UPDATE kw.settings SET value = 1 WHERE name = 'retention_days_after_closure';
	PERFORM kw.erase_due_episodes(kw.today(), 1000000);
	PERFORM pg_temp.expect('1 day after closure', pg_temp.erased_list(), 'e s1 y');
	PERFORM pg_temp.expect('where y''s word is after erasure', pg_temp.holding('Qx08Yday'),
	    '');
	PERFORM pg_temp.expect('ids, dates, statuses and kinds of y, as they were',
	    pg_temp.shape(pg_temp.id('y')), current_setting('kwtest.shape_y'));
	UPDATE kw.settings SET value = 0 WHERE name = 'retention_child_age_years';
	PERFORM kw.erase_due_episodes(kw.today(), 1000000);
	PERFORM pg_temp.expect('no age rule, 1 day after closure', pg_temp.erased_list(),
	    'e k24 s1 y');
	UPDATE kw.settings SET value = 0 WHERE name = 'retention_days_after_closure';
	PERFORM pg_temp.expect('a second pass erases nothing more; open and reopened '
	    'episodes never',
	    kw.erase_due_episodes(kw.today(), 1000000) || ' ' || pg_temp.erased_list(),
	    '0 e k24 s1 y');
	PERFORM pg_temp.expect_error('kw.erase_episode of an open episode',
	    format('SELECT kw.erase_episode(%L)', pg_temp.id('r')), 'KW422', 'erase_closed_only');
END
$$;

------------------------------------------------------------------------------
-- An erased episode is never reopened, by the API (the rule comes first,
-- even within reopen_days, and before the period has run out) or by SQL;
-- it stays read-only.

DO $$
DECLARE
	j jsonb;
BEGIN
	PERFORM pg_temp.expect_error('reopening e (closed 400 days ago) through the API',
	    format('SELECT api.reopen_episode(''ret08-token-kw1'', ''t'', ''l'', %L, '
		'''{"reason": "back"}'')', pg_temp.id('e')), 'KW422',
	    'erased_episode_cannot_reopen');
	PERFORM pg_temp.expect_error('reopening y (closed yesterday) through the API',
	    format('SELECT api.reopen_episode(''ret08-token-kw1'', ''t'', ''l'', %L, '
		'''{"reason": "back"}'')', pg_temp.id('y')), 'KW422',
	    'erased_episode_cannot_reopen');
	PERFORM pg_temp.expect_error('reopening y by SQL, as the owner',
	    format('UPDATE kw.episodes SET status = ''registered'', closed_at = NULL '
		'WHERE id = %L', pg_temp.id('y')), 'KW422', 'erased_episode_cannot_reopen');
	PERFORM pg_temp.expect_error('a note on erased e through the API',
	    format('SELECT api.create_note(''ret08-token-kw1'', ''t'', ''l'', %L, NULL, '
		'''{"kind": "fact", "body": "more"}'')', pg_temp.id('e')), 'KW422',
	    'closed_episode_read_only');
	PERFORM pg_temp.expect_error('un-erasing e by SQL, as the owner',
	    format('UPDATE kw.episodes SET erased_at = NULL WHERE id = %L', pg_temp.id('e')),
	    'KW409');
	PERFORM pg_temp.expect_error('marking an episode erased outside erasure',
	    format('UPDATE kw.episodes SET erased_at = now() WHERE id = %L', pg_temp.id('r')),
	    'KW409');

	-- What the keyworker reads: ids, dates and statuses, the markers, when.
	SELECT body INTO j FROM api.get_episode('ret08-token-kw1', 't', 'l', pg_temp.id('e'));
	PERFORM pg_temp.expect('GET the erased episode',
	    format('%s %s %s %s %s %s', j->>'status', j->>'family_name', j->'family'->>'name',
		(j->>'erased_at')::timestamptz IS NOT NULL, j->'members'->0->>'given_name',
		j->'members'->0->>'date_of_birth'),
	    'closed erased erased t erased 1900-01-01');
	SELECT body INTO j FROM api.get_episode('ret08-token-kw1', 't', 'l', pg_temp.id('r'));
	PERFORM pg_temp.expect('GET an episode not erased', (j ? 'erased_at')::text || ' '
	    || coalesce(j->>'erased_at', 'null'), 'true null');
END
$$;

------------------------------------------------------------------------------
-- The notes' carve-out: the owner, erasing that note's episode, turning the
-- body into the marker, and nothing else. k24's note is not erased yet.

INSERT INTO kw.notes (episode_id, author_id, kind, body)
VALUES (:'s2', :'kw1', 'fact', 'Ret08 live note');

DO $$
BEGIN
	PERFORM set_config('kw.erasing', pg_temp.id('s2')::text, true);
	PERFORM pg_temp.expect_error('the owner, erasing, writing other text',
	    format('UPDATE kw.notes SET body = ''changed'' WHERE episode_id = %L',
		pg_temp.id('s2')), 'KW422', 'notes_append_only');
	PERFORM pg_temp.expect_error('the owner, erasing, changing the kind too',
	    format('UPDATE kw.notes SET body = ''erased'', kind = ''opinion'' '
		'WHERE episode_id = %L', pg_temp.id('s2')), 'KW422', 'notes_append_only');
	PERFORM pg_temp.expect_error('the owner, erasing, deleting',
	    format('DELETE FROM kw.notes WHERE episode_id = %L', pg_temp.id('s2')), 'KW422',
	    'notes_append_only');
	PERFORM set_config('kw.erasing', pg_temp.id('e')::text, true);
	PERFORM pg_temp.expect_error('the owner, erasing another episode',
	    format('UPDATE kw.notes SET body = ''erased'' WHERE episode_id = %L',
		pg_temp.id('s2')), 'KW422', 'notes_append_only');
	PERFORM set_config('kw.erasing', '', true);

	-- The API role, with the setting set: refused at every door.
	SET ROLE keywork_api;
	PERFORM set_config('kw.erasing', pg_temp.id('s2')::text, true);
	PERFORM pg_temp.expect_error('the API role updating notes, erasing set',
	    format('UPDATE kw.notes SET body = ''erased'' WHERE episode_id = %L',
		pg_temp.id('s2')), '42501');
	PERFORM pg_temp.expect_error('the API role calling kw.erase_episode',
	    format('SELECT kw.erase_episode(%L)', pg_temp.id('s2')), '42501');
	PERFORM pg_temp.expect_error('the API role calling kw.erase_due_episodes',
	    'SELECT kw.erase_due_episodes(kw.today(), 10)', '42501');
	PERFORM pg_temp.expect_error('the API role calling kw.erase_due_today',
	    'SELECT kw.erase_due_today(kw.today(), 10)', '42501');
	RESET ROLE;

	-- Even were it granted UPDATE on notes and a policy to reach them, the
	-- trigger refuses the API role: it is not the owner. (Undone.)
	BEGIN
		GRANT UPDATE (body) ON kw.notes TO keywork_api;
		CREATE POLICY ret08_notes_update ON kw.notes FOR UPDATE TO keywork_api
		    USING (true) WITH CHECK (true);
		SET ROLE keywork_api;
		PERFORM set_config('kw.erasing', pg_temp.id('s2')::text, true);
		PERFORM pg_temp.expect_error('the API role, granted UPDATE, erasing set',
		    format('UPDATE kw.notes SET body = ''erased'' WHERE episode_id = %L',
			pg_temp.id('s2')), 'KW422', 'notes_append_only');
		RESET ROLE;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
	PERFORM set_config('kw.erasing', '', true);
	PERFORM pg_temp.expect('s2''s note after all that',
	    (SELECT string_agg(body, ' ') FROM kw.notes WHERE episode_id = pg_temp.id('s2')),
	    'Ret08 live note');
END
$$;

ROLLBACK;
