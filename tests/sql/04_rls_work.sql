-- Row-level security of working the episode (0005, 0006), seen as the API
-- role: the assessment and its voices, TAF meetings and their invitees, the
-- action plan and its updates, outcome scores, documents, the new alert
-- kinds, the deadlines view, and the reference data behind them (holidays,
-- settings, outcome areas). Identities as in 03_rls_episodes.sql: what
-- kw.authenticate would set, transaction-local. Run as the schema owner;
-- any failure raises.
--
-- The fixture is two episodes in two new areas, dated in 2026 so that every
-- deadline is exact. Counts are per episode, "E1/E2":
--
--   E1  East area, keyworker kw1 (managed by mgr), registered Mon 3 Aug
--       2026; team: fullm (partner agency one, full), lim and limx (both
--       limited). Members Pat, Lee, Kim and Jo (Jo not taking part).
--       Assessment complete on 20 Aug, with 3 voices. Meeting mt1 held at
--       00:30 on Fri 28 Aug (London; 23:30 on the 27th in UTC), outcomes
--       recorded, plan not shared; invitees kw1, fullm, lim, Pat. Meeting
--       mt2 scheduled; invitees kw1, fullm, Pat. Actions: a1 owned by lim
--       (2 updates), a2 by fullm (done, 1 update), a3 by Pat. 2 outcome
--       scores, 1 document, 3 alerts (2 to kw1, 1 to mgr).
--   E2  West area, keyworker kw2 (partner agency two, no manager),
--       registered Mon 2 Nov 2026; team: lim2 (partner agency one,
--       limited). No assessment. Meeting mt3 scheduled, invitees kw2 and
--       lim2. Actions: a4 owned by lim2 (1 update), a5 by kw2. 1 score,
--       1 document, 1 alert (to kw2).
--   coord     coordinator of the East area
--   admin     admin only
--   stranger  a practitioner in the East area with no part in either
--
-- Limited access shows a member the meetings they are invited to (and
-- their own invitee row), the actions they own (and those actions'
-- updates), and nothing else of these tables.

GRANT keywork_api TO CURRENT_USER;

------------------------------------------------------------------------------
-- Fixture, as the owner. Fixed ids and ON CONFLICT DO NOTHING, so that a run
-- stopped half way leaves nothing a second run trips on; the writes tested
-- below are all undone, and the fixture itself is removed at the end.

\set area_east '00000000-0000-4000-8000-000000000401'
\set area_west '00000000-0000-4000-8000-000000000402'
\set agency_p1 '00000000-0000-4000-8000-000000000411'
\set agency_ff '00000000-0000-4000-8000-000000000412'
\set agency_p2 '00000000-0000-4000-8000-000000000413'
\set agency_none '00000000-0000-4000-8000-000000000414'
\set mgr '00000000-0000-4000-8000-000000000421'
\set kw1 '00000000-0000-4000-8000-000000000422'
\set kw2 '00000000-0000-4000-8000-000000000423'
\set fullm '00000000-0000-4000-8000-000000000424'
\set lim '00000000-0000-4000-8000-000000000425'
\set lim2 '00000000-0000-4000-8000-000000000426'
\set coord '00000000-0000-4000-8000-000000000427'
\set admin '00000000-0000-4000-8000-000000000428'
\set stranger '00000000-0000-4000-8000-000000000429'
\set limx '00000000-0000-4000-8000-00000000042a'
\set family1 '00000000-0000-4000-8000-000000000431'
\set family2 '00000000-0000-4000-8000-000000000432'
\set e1 '00000000-0000-4000-8000-000000000441'
\set e2 '00000000-0000-4000-8000-000000000442'
\set pat '00000000-0000-4000-8000-000000000451'
\set lee '00000000-0000-4000-8000-000000000452'
\set kim '00000000-0000-4000-8000-000000000453'
\set jo '00000000-0000-4000-8000-000000000454'
\set max '00000000-0000-4000-8000-000000000455'
\set ash '00000000-0000-4000-8000-000000000456'
\set d1 '00000000-0000-4000-8000-000000000471'
\set d2 '00000000-0000-4000-8000-000000000472'
\set partner1 '00000000-0000-4000-8000-0000000004a1'
\set partner2 '00000000-0000-4000-8000-0000000004a2'
\set mt1 '00000000-0000-4000-8000-0000000004b1'
\set mt2 '00000000-0000-4000-8000-0000000004b2'
\set mt3 '00000000-0000-4000-8000-0000000004b3'
\set a1 '00000000-0000-4000-8000-0000000004d1'
\set a2 '00000000-0000-4000-8000-0000000004d2'
\set a3 '00000000-0000-4000-8000-0000000004d3'
\set a4 '00000000-0000-4000-8000-0000000004d4'
\set a5 '00000000-0000-4000-8000-0000000004d5'

SET kwtest.area_east = :'area_east';
SET kwtest.area_west = :'area_west';
SET kwtest.agency_p1 = :'agency_p1';
SET kwtest.agency_ff = :'agency_ff';
SET kwtest.agency_p2 = :'agency_p2';
SET kwtest.agency_none = :'agency_none';
SET kwtest.mgr = :'mgr';
SET kwtest.kw1 = :'kw1';
SET kwtest.kw2 = :'kw2';
SET kwtest.fullm = :'fullm';
SET kwtest.lim = :'lim';
SET kwtest.lim2 = :'lim2';
SET kwtest.limx = :'limx';
SET kwtest.coord = :'coord';
SET kwtest.admin = :'admin';
SET kwtest.stranger = :'stranger';
SET kwtest.e1 = :'e1';
SET kwtest.e2 = :'e2';
SET kwtest.pat = :'pat';
SET kwtest.jo = :'jo';
SET kwtest.ash = :'ash';
SET kwtest.d1 = :'d1';
SET kwtest.partner1 = :'partner1';
SET kwtest.partner2 = :'partner2';
SET kwtest.mt1 = :'mt1';
SET kwtest.mt2 = :'mt2';
SET kwtest.mt3 = :'mt3';
SET kwtest.a1 = :'a1';
SET kwtest.a2 = :'a2';
SET kwtest.a3 = :'a3';
SET kwtest.a4 = :'a4';
SET kwtest.a5 = :'a5';
-- Each user's agency, which kw.authenticate would set with their id.
SET kwtest.agency_of_mgr = :'agency_ff';
SET kwtest.agency_of_kw1 = :'agency_ff';
SET kwtest.agency_of_kw2 = :'agency_p2';
SET kwtest.agency_of_fullm = :'agency_p1';
SET kwtest.agency_of_lim = :'agency_ff';
SET kwtest.agency_of_lim2 = :'agency_p1';
SET kwtest.agency_of_limx = :'agency_ff';
SET kwtest.agency_of_coord = :'agency_ff';
SET kwtest.agency_of_admin = :'agency_ff';
SET kwtest.agency_of_stranger = :'agency_ff';

INSERT INTO kw.areas (id, name) VALUES
	(:'area_east', 'RLS test 04: East'),
	(:'area_west', 'RLS test 04: West')
ON CONFLICT DO NOTHING;

INSERT INTO kw.agencies (id, name, kind) VALUES
	(:'agency_p1', 'RLS test 04: partner agency one', 'voluntary'),
	(:'agency_ff', 'RLS test 04: Families First', 'local_authority'),
	(:'agency_p2', 'RLS test 04: partner agency two', 'health'),
	(:'agency_none', 'RLS test 04: uninvolved agency', 'housing')
ON CONFLICT DO NOTHING;

INSERT INTO kw.users (id, email, name, password_hash, agency_id, area_id, roles)
VALUES (:'mgr', 'rls04-mgr@test.example.org', 'RLS 04 Manager', 'not a hash',
    :'agency_ff', :'area_west', ARRAY['manager', 'practitioner'])
ON CONFLICT DO NOTHING;

INSERT INTO kw.users (id, email, name, password_hash, agency_id, area_id, roles,
    manager_id)
SELECT v.id::uuid, v.email, v.name, 'not a hash', v.agency::uuid, v.area::uuid,
    v.roles, v.manager::uuid
FROM (VALUES
	(:'kw1', 'rls04-kw1@test.example.org', 'RLS 04 Keyworker One', :'agency_ff',
	    :'area_east', ARRAY['practitioner'], :'mgr'),
	(:'kw2', 'rls04-kw2@test.example.org', 'RLS 04 Keyworker Two', :'agency_p2',
	    :'area_west', ARRAY['practitioner'], NULL),
	(:'fullm', 'rls04-full@test.example.org', 'RLS 04 Full Member', :'agency_p1',
	    :'area_east', ARRAY['practitioner'], NULL),
	(:'lim', 'rls04-lim@test.example.org', 'RLS 04 Limited Member', :'agency_ff',
	    :'area_east', ARRAY['practitioner'], NULL),
	(:'lim2', 'rls04-lim2@test.example.org', 'RLS 04 Limited Member Two', :'agency_p1',
	    :'area_west', ARRAY['practitioner'], NULL),
	(:'limx', 'rls04-limx@test.example.org', 'RLS 04 Limited, Uninvolved', :'agency_ff',
	    :'area_east', ARRAY['practitioner'], NULL),
	(:'coord', 'rls04-coord@test.example.org', 'RLS 04 Coordinator', :'agency_ff',
	    :'area_east', ARRAY['coordinator'], NULL),
	(:'admin', 'rls04-admin@test.example.org', 'RLS 04 Admin', :'agency_ff',
	    :'area_east', ARRAY['admin'], NULL),
	(:'stranger', 'rls04-stranger@test.example.org', 'RLS 04 Stranger', :'agency_ff',
	    :'area_east', ARRAY['practitioner'], NULL)
) AS v (id, email, name, agency, area, roles, manager)
ON CONFLICT DO NOTHING;

INSERT INTO kw.api_clients (id, name, agency_id, key_hash, created_by) VALUES
	(:'partner1', 'rls test 04 partner one', :'agency_p1', 'rls04-key-partner1', :'admin'),
	(:'partner2', 'rls test 04 partner two', :'agency_p2', 'rls04-key-partner2', :'admin')
ON CONFLICT DO NOTHING;

INSERT INTO kw.families (id, name, area_id, postcode) VALUES
	(:'family1', 'Eastwood', :'area_east', 'EA4 1AA'),
	(:'family2', 'Westley', :'area_west', 'WE4 2BB')
ON CONFLICT DO NOTHING;

-- Registered on fixed days: the assessment is due 21 days on, the first TAF
-- meeting 42 (the table's CHECKs hold them to that).
INSERT INTO kw.episodes (id, family_id, family_name, area_id, keyworker_id,
    lead_agency_id, registered_by, registered_at, assessment_due, first_taf_meeting_due,
    status, assessment_completed_at, first_taf_meeting_held_at)
VALUES
	(:'e1', :'family1', 'Eastwood', :'area_east', :'kw1', :'agency_ff', :'kw1',
	    '2026-08-03 09:00:00+01', '2026-08-24', '2026-09-14', 'plan_in_place',
	    '2026-08-20 15:00:00+01', '2026-08-27 23:30:00+00'),
	(:'e2', :'family2', 'Westley', :'area_west', :'kw2', :'agency_p2', :'kw2',
	    '2026-11-02 10:00:00+00', '2026-11-23', '2026-12-14', 'registered', NULL, NULL)
ON CONFLICT DO NOTHING;

INSERT INTO kw.members (id, episode_id, given_name, family_name, date_of_birth,
    relationship, is_child, included, not_included_reason)
VALUES
	(:'pat', :'e1', 'Pat', 'Eastwood', '1985-02-03', 'mother', false, true, NULL),
	(:'lee', :'e1', 'Lee', 'Eastwood', '2014-05-06', 'son', true, true, NULL),
	(:'kim', :'e1', 'Kim', 'Eastwood', '2018-07-08', 'daughter', true, true, NULL),
	(:'jo', :'e1', 'Jo', 'Eastwood', '1960-01-02', 'grandmother', false, false,
	    'Lives elsewhere.'),
	(:'max', :'e2', 'Max', 'Westley', '1987-09-10', 'father', false, true, NULL),
	(:'ash', :'e2', 'Ash', 'Westley', '2016-11-12', 'son', true, true, NULL)
ON CONFLICT DO NOTHING;

-- Written consent: one before the assessment was complete (which does not
-- meet the deadline), one the day after (which does).
INSERT INTO kw.consents (id, episode_id, kind, given_by, obtained_at, recorded_by,
    created_at)
VALUES
	('00000000-0000-4000-8000-000000000461', :'e1', 'verbal', 'Pat Eastwood',
	    '2026-08-03 09:00:00+01', :'kw1', '2026-08-03 09:05:00+01'),
	('00000000-0000-4000-8000-000000000462', :'e1', 'written', 'Pat Eastwood',
	    '2026-08-10 10:00:00+01', :'kw1', '2026-08-10 10:05:00+01'),
	('00000000-0000-4000-8000-000000000463', :'e1', 'written', 'Pat Eastwood',
	    '2026-08-21 10:00:00+01', :'kw1', '2026-08-21 10:05:00+01'),
	('00000000-0000-4000-8000-000000000464', :'e2', 'verbal', 'Max Westley',
	    '2026-11-02 10:00:00+00', :'kw2', '2026-11-02 10:05:00+00')
ON CONFLICT DO NOTHING;

INSERT INTO kw.team_members (episode_id, user_id, level, added_by) VALUES
	(:'e1', :'fullm', 'full', :'kw1'),
	(:'e1', :'lim', 'limited', :'kw1'),
	(:'e1', :'limx', 'limited', :'kw1'),
	(:'e2', :'lim2', 'limited', :'kw2')
ON CONFLICT DO NOTHING;

INSERT INTO kw.assessments (episode_id, strengths, needs, priorities, status,
    completed_at, completed_by, updated_by)
VALUES (:'e1', 'RLS 04: close family.', 'RLS 04: school attendance.',
    'RLS 04: mornings.', 'complete', '2026-08-20 15:00:00+01', :'kw1', :'kw1')
ON CONFLICT DO NOTHING;
INSERT INTO kw.assessment_voices (episode_id, member_id, in_own_words, given_by,
    how_obtained, voice)
VALUES
	(:'e1', :'pat', 'RLS 04: mornings are hard.', NULL, NULL, NULL),
	(:'e1', :'lee', 'RLS 04: I like football.', NULL, NULL, NULL),
	(:'e1', :'kim', NULL, 'Class teacher', 'Talking at school', 'RLS 04: happy at school.')
ON CONFLICT DO NOTHING;

INSERT INTO kw.meetings (id, episode_id, scheduled_at, venue, family_can_attend,
    status, held_at, outcomes_recorded_at, decisions, created_by, created_at)
VALUES
	(:'mt1', :'e1', '2026-08-27 23:30:00+00', 'RLS 04: family home', true, 'held',
	    '2026-08-27 23:30:00+00', '2026-09-02 16:00:00+01', 'RLS 04: a plan.', :'kw1',
	    '2026-08-10 12:00:00+01'),
	(:'mt2', :'e1', '2027-01-15 10:00:00+00', 'RLS 04: school', true, 'scheduled',
	    NULL, NULL, NULL, :'kw1', '2026-09-02 16:00:00+01'),
	(:'mt3', :'e2', '2027-01-20 10:00:00+00', 'RLS 04: children''s centre', true,
	    'scheduled', NULL, NULL, NULL, :'kw2', '2026-11-03 10:00:00+00')
ON CONFLICT DO NOTHING;

INSERT INTO kw.meeting_invitees (id, meeting_id, episode_id, user_id, member_id,
    attendance)
VALUES
	('00000000-0000-4000-8000-0000000004c1', :'mt1', :'e1', :'kw1', NULL, 'attended'),
	('00000000-0000-4000-8000-0000000004c2', :'mt1', :'e1', :'fullm', NULL, 'attended'),
	('00000000-0000-4000-8000-0000000004c3', :'mt1', :'e1', :'lim', NULL, 'apologies'),
	('00000000-0000-4000-8000-0000000004c4', :'mt1', :'e1', NULL, :'pat', 'attended'),
	('00000000-0000-4000-8000-0000000004c5', :'mt2', :'e1', :'kw1', NULL, 'invited'),
	('00000000-0000-4000-8000-0000000004c6', :'mt2', :'e1', :'fullm', NULL, 'invited'),
	('00000000-0000-4000-8000-0000000004c7', :'mt2', :'e1', NULL, :'pat', 'invited'),
	('00000000-0000-4000-8000-0000000004c8', :'mt3', :'e2', :'kw2', NULL, 'invited'),
	('00000000-0000-4000-8000-0000000004c9', :'mt3', :'e2', :'lim2', NULL, 'invited')
ON CONFLICT DO NOTHING;

INSERT INTO kw.actions (id, episode_id, meeting_id, what, owner_user_id,
    owner_member_id, measure, due_date, status, completed_at, created_by)
VALUES
	(:'a1', :'e1', :'mt1', 'RLS 04: a school place for Kim.', :'lim', NULL,
	    'A start date.', '2026-09-30', 'in_progress', NULL, :'kw1'),
	(:'a2', :'e1', :'mt1', 'RLS 04: a GP appointment.', :'fullm', NULL,
	    'Seen by the GP.', '2026-09-15', 'done', '2026-09-10 12:00:00+01', :'kw1'),
	(:'a3', :'e1', :'mt1', 'RLS 04: a morning routine.', NULL, :'pat',
	    'On time five days running.', '2026-10-01', 'not_started', NULL, :'kw1'),
	(:'a4', :'e2', NULL, 'RLS 04: a health visitor.', :'lim2', NULL,
	    'A first visit.', '2026-12-31', 'not_started', NULL, :'kw2'),
	(:'a5', :'e2', NULL, 'RLS 04: a budget.', :'kw2', NULL,
	    'A budget agreed.', '2027-01-31', 'not_started', NULL, :'kw2')
ON CONFLICT DO NOTHING;

INSERT INTO kw.action_updates (id, action_id, episode_id, status, progress, created_by)
VALUES
	('00000000-0000-4000-8000-0000000004e1', :'a1', :'e1', 'in_progress',
	    'RLS 04: school contacted.', :'lim'),
	('00000000-0000-4000-8000-0000000004e2', :'a1', :'e1', 'in_progress',
	    'RLS 04: chased.', :'kw1'),
	('00000000-0000-4000-8000-0000000004e3', :'a2', :'e1', 'done', 'RLS 04: seen.', :'fullm'),
	('00000000-0000-4000-8000-0000000004e4', :'a4', :'e2', 'not_started',
	    'RLS 04: referred.', :'lim2')
ON CONFLICT DO NOTHING;

INSERT INTO kw.outcome_scores (id, episode_id, area_id, score, scored_on, meeting_id,
    recorded_by)
SELECT v.id::uuid, v.episode::uuid, oa.id, v.score, v.scored_on::date, v.meeting::uuid,
    v.recorded_by::uuid
FROM (VALUES
	('00000000-0000-4000-8000-0000000004f1', :'e1', 'Well-being', 4, '2026-08-28', :'mt1',
	    :'kw1'),
	('00000000-0000-4000-8000-0000000004f2', :'e1', 'Family routine', 3, '2026-08-28',
	    :'mt1', :'kw1'),
	('00000000-0000-4000-8000-0000000004f3', :'e2', 'Well-being', 6, '2026-11-03', NULL,
	    :'kw2')
) AS v (id, episode, area, score, scored_on, meeting, recorded_by)
JOIN kw.outcome_areas oa ON oa.name = v.area
ON CONFLICT DO NOTHING;

INSERT INTO kw.documents (id, episode_id, filename, content_type, size_bytes, sha256,
    content, uploaded_by)
SELECT v.id::uuid, v.episode::uuid, v.filename, 'text/plain', octet_length(v.body),
    encode(sha256(v.body), 'hex'), v.body, v.uploaded_by::uuid
FROM (VALUES
	(:'d1', :'e1', 'rls04-east.txt', convert_to('RLS 04: school report.', 'UTF8'),
	    :'fullm'),
	(:'d2', :'e2', 'rls04-west.txt', convert_to('RLS 04: health report.', 'UTF8'), :'kw2')
) AS v (id, episode, filename, body, uploaded_by)
ON CONFLICT DO NOTHING;

-- The new kinds: a document added by a full member, a domestic-violence
-- notification from a partner system (to the keyworker and their manager),
-- a referral raised by a limited member.
INSERT INTO kw.alerts (id, episode_id, user_id, kind, detail, document_id, meeting_id,
    created_by, created_by_client)
VALUES
	('00000000-0000-4000-8000-000000000491', :'e1', :'kw1', 'document',
	    'A document was added.', :'d1', NULL, :'fullm', NULL),
	('00000000-0000-4000-8000-000000000492', :'e1', :'kw1', 'domestic_violence',
	    'RLS 04: a notification.', NULL, NULL, NULL, :'partner1'),
	('00000000-0000-4000-8000-000000000493', :'e1', :'mgr', 'domestic_violence',
	    'RLS 04: a notification.', NULL, NULL, NULL, :'partner1'),
	('00000000-0000-4000-8000-000000000494', :'e2', :'kw2', 'referral',
	    'RLS 04: a referral.', NULL, NULL, :'lim2', NULL)
ON CONFLICT DO NOTHING;

-- Bearer tokens for calling api.* end to end. Removed at the end.
INSERT INTO kw.token_families (id, user_id) VALUES
	('00000000-0000-4000-8000-000000000481', :'lim'),
	('00000000-0000-4000-8000-000000000482', :'stranger')
ON CONFLICT DO NOTHING;
INSERT INTO kw.access_tokens (token_hash, family_id, expires_at) VALUES
	('rls04-token-lim', '00000000-0000-4000-8000-000000000481', now() + interval '1 hour'),
	('rls04-token-stranger', '00000000-0000-4000-8000-000000000482',
	    now() + interval '1 hour')
ON CONFLICT DO NOTHING;

-- The reference data as it stands: every signed-in caller reads all of it.
SELECT count(*) AS holidays_total FROM kw.holidays \gset
SELECT count(*) AS settings_total FROM kw.settings \gset
SELECT count(*) AS outcome_areas_total FROM kw.outcome_areas \gset
SELECT id AS wellbeing FROM kw.outcome_areas WHERE name = 'Well-being' \gset
SET kwtest.holidays_total = :'holidays_total';
SET kwtest.settings_total = :'settings_total';
SET kwtest.outcome_areas_total = :'outcome_areas_total';
SET kwtest.wellbeing = :'wellbeing';

------------------------------------------------------------------------------
-- Helpers, in pg_temp and not SECURITY DEFINER (as in 03).

CREATE FUNCTION pg_temp.id(p_name text) RETURNS uuid
LANGUAGE sql STABLE AS $$ SELECT current_setting('kwtest.' || p_name)::uuid $$;

CREATE FUNCTION pg_temp.act_as(p_user text, p_roles text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('kw.user_id', pg_temp.id(p_user)::text, true);
	PERFORM set_config('kw.client_id', '', true);
	PERFORM set_config('kw.agency_id', pg_temp.id('agency_of_' || p_user)::text, true);
	PERFORM set_config('kw.roles', p_roles, true);
END
$$;

CREATE FUNCTION pg_temp.act_as_partner(p_client text, p_agency text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('kw.user_id', '', true);
	PERFORM set_config('kw.client_id', pg_temp.id(p_client)::text, true);
	PERFORM set_config('kw.agency_id', pg_temp.id(p_agency)::text, true);
	PERFORM set_config('kw.roles', 'partner', true);
END
$$;

CREATE FUNCTION pg_temp.act_as_nobody() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('kw.user_id', '', true);
	PERFORM set_config('kw.client_id', '', true);
	PERFORM set_config('kw.agency_id', '', true);
	PERFORM set_config('kw.roles', '', true);
END
$$;

-- The tables this file is about, with the alerts and the deadlines view:
-- each has an episode_id.
CREATE FUNCTION pg_temp.work_tables() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
	SELECT ARRAY['assessments', 'assessment_voices', 'meetings', 'meeting_invitees',
	    'actions', 'action_updates', 'outcome_scores', 'documents', 'alerts', 'deadlines_v']
$$;

-- What the caller sees of each, as "E1 rows/E2 rows".
CREATE FUNCTION pg_temp.visible() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	t text;
	n text;
	parts text[] := '{}';
BEGIN
	FOREACH t IN ARRAY pg_temp.work_tables() LOOP
		EXECUTE format('SELECT count(*) FILTER (WHERE episode_id = $1) || ''/'' '
		    '|| count(*) FILTER (WHERE episode_id = $2) FROM kw.%I', t)
		INTO n USING pg_temp.id('e1'), pg_temp.id('e2');
		parts := parts || (CASE t WHEN 'assessment_voices' THEN 'voices'
		    WHEN 'meeting_invitees' THEN 'invitees' WHEN 'action_updates' THEN 'updates'
		    WHEN 'outcome_scores' THEN 'scores' WHEN 'deadlines_v' THEN 'deadlines'
		    ELSE t END || '=' || n);
	END LOOP;
	RETURN array_to_string(parts, ' ');
END
$$;

-- Rows the caller sees of other episodes (the demo data's, 03's fixture):
-- none of the identities here has any part in them.
CREATE FUNCTION pg_temp.outside() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	t text;
	n bigint;
	total bigint := 0;
BEGIN
	FOREACH t IN ARRAY pg_temp.work_tables() LOOP
		EXECUTE format('SELECT count(*) FROM kw.%I WHERE episode_id <> ALL ($1)', t)
		INTO n USING ARRAY[pg_temp.id('e1'), pg_temp.id('e2')];
		total := total + n;
	END LOOP;
	RETURN total;
END
$$;

CREATE FUNCTION pg_temp.expect(p_who text, p_expected text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	got text := pg_temp.visible();
	other bigint := pg_temp.outside();
BEGIN
	IF got <> p_expected THEN
		RAISE EXCEPTION E'%:\n  expected %\n  got      %', p_who, p_expected, got;
	END IF;
	IF other <> 0 THEN
		RAISE EXCEPTION '%: sees % rows of other episodes', p_who, other;
	END IF;
END
$$;

-- A fixture id's name, for reading deadlines.
CREATE FUNCTION pg_temp.label(p_id uuid) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT n FROM unnest(ARRAY['mt1', 'mt2', 'mt3', 'a1', 'a2', 'a3',
	    'a4', 'a5']) n WHERE pg_temp.id(n) = p_id), p_id::text)
$$;

-- The episode's deadlines the caller sees, soonest first: "kind[:subject]
-- due[ met]".
CREATE FUNCTION pg_temp.deadlines(p_episode text) RETURNS text
LANGUAGE sql AS $$
	SELECT coalesce(string_agg(d.kind || coalesce(':' || pg_temp.label(d.subject_id), '')
	    || ' ' || to_char(d.due, 'YYYY-MM-DD')
	    || CASE WHEN d.met_at IS NULL THEN '' ELSE ' met' END,
	    ', ' ORDER BY d.due, d.kind, d.subject_id), '')
	FROM kw.deadlines_v d WHERE d.episode_id = pg_temp.id(p_episode)
$$;

CREATE FUNCTION pg_temp.fails_with(p_sql text, p_state text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		EXECUTE p_sql;
	EXCEPTION WHEN OTHERS THEN
		IF SQLSTATE = p_state THEN
			RETURN NULL;
		END IF;
		RETURN format('failed with %s (%s), not %s', SQLSTATE, SQLERRM, p_state);
	END;
	RETURN format('succeeded, where %s was expected', p_state);
END
$$;

-- An UPDATE or DELETE that must change nothing: refused (42501), or no row
-- in reach. Anything else is returned as text.
CREATE FUNCTION pg_temp.no_effect(p_sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	BEGIN
		EXECUTE p_sql;
		GET DIAGNOSTICS n = ROW_COUNT;
	EXCEPTION WHEN OTHERS THEN
		IF SQLSTATE = '42501' THEN
			RETURN NULL;
		END IF;
		RETURN format('failed with %s (%s), not 42501 or 0 rows', SQLSTATE, SQLERRM);
	END;
	IF n = 0 THEN
		RETURN NULL;
	END IF;
	RETURN format('changed %s rows', n);
END
$$;

-- The count a query returns, for queries kept in a list.
CREATE FUNCTION pg_temp.run_count(p_sql text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE p_sql INTO n;
	RETURN n;
END
$$;

-- Runs p_sql and returns how many rows it changed; errors propagate.
CREATE FUNCTION pg_temp.changes(p_sql text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE p_sql;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

-- The fixture is all there, seen as the owner.
DO $$
DECLARE
	got text := pg_temp.visible();
BEGIN
	IF got <> 'assessments=1/0 voices=3/0 meetings=2/1 invitees=7/2 actions=3/2 '
	    'updates=3/1 scores=2/1 documents=1/1 alerts=3/1 deadlines=9/4' THEN
		RAISE EXCEPTION 'the fixture is not as this file expects: %', got;
	END IF;
	IF pg_temp.outside() = 0 THEN
		RAISE EXCEPTION 'no rows outside the fixture: "nothing outside" would prove nothing';
	END IF;
END
$$;

------------------------------------------------------------------------------
-- The catalogue: every new case table has row-level security on and forced;
-- the reference tables have it on; the deadlines view runs with the
-- caller's rights (without security_invoker it would read as the owner and
-- show every deadline to anyone); the API role may truncate nothing in kw
-- (TRUNCATE passes by row-level security).

DO $$
DECLARE
	c record;
	n integer := 0;
BEGIN
	FOR c IN SELECT v.t, cl.relname, cl.relrowsecurity, cl.relforcerowsecurity
	    FROM unnest(ARRAY['assessments', 'assessment_voices', 'meetings',
		'meeting_invitees', 'actions', 'action_updates', 'outcome_scores',
		'documents', 'alerts']) AS v (t)
	    LEFT JOIN pg_class cl ON cl.relname = v.t AND cl.relnamespace = 'kw'::regnamespace
		AND cl.relkind = 'r' LOOP
		IF c.relname IS NULL THEN
			RAISE EXCEPTION 'there is no table kw.%', c.t;
		END IF;
		IF NOT c.relrowsecurity THEN
			RAISE EXCEPTION 'row-level security is off on kw.%', c.t;
		END IF;
		IF NOT c.relforcerowsecurity THEN
			RAISE EXCEPTION 'row-level security is not forced on kw.%', c.t;
		END IF;
		n := n + 1;
	END LOOP;
	ASSERT n = 9, 'not every case table was checked';
	FOR c IN SELECT v.t, cl.relrowsecurity
	    FROM unnest(ARRAY['holidays', 'settings', 'outcome_areas']) AS v (t)
	    LEFT JOIN pg_class cl ON cl.relname = v.t AND cl.relnamespace = 'kw'::regnamespace
		AND cl.relkind = 'r' LOOP
		IF c.relrowsecurity IS DISTINCT FROM true THEN
			RAISE EXCEPTION 'row-level security is off on kw.% (or no such table)', c.t;
		END IF;
	END LOOP;
	IF NOT coalesce((SELECT 'security_invoker=true' = ANY (reloptions) FROM pg_class
	    WHERE oid = 'kw.deadlines_v'::regclass), false) THEN
		RAISE EXCEPTION 'kw.deadlines_v does not run with the caller''s rights';
	END IF;
	FOR c IN SELECT cl.relname FROM pg_class cl
	    WHERE cl.relnamespace = 'kw'::regnamespace AND cl.relkind IN ('r', 'p')
		AND has_table_privilege('keywork_api', cl.oid, 'TRUNCATE') LOOP
		RAISE EXCEPTION 'keywork_api may truncate kw.%', c.relname;
	END LOOP;
END
$$;

SET ROLE keywork_api;

------------------------------------------------------------------------------
-- No identity: not one row of any relation in kw with an episode_id, nor of
-- the reference data.

DO $$
DECLARE
	r record;
	n bigint;
	seen text[] := '{}';
	missing text[];
BEGIN
	ASSERT current_user = 'keywork_api', 'not running as keywork_api';
	PERFORM pg_temp.act_as_nobody();
	FOR r IN SELECT c.oid::regclass AS rel, c.relname
	    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
		AND a.attname = 'episode_id' AND NOT a.attisdropped
	    WHERE c.relnamespace = 'kw'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
		AND has_column_privilege(c.oid, a.attnum, 'SELECT')
	    ORDER BY c.relname LOOP
		EXECUTE format('SELECT count(*) FROM %s', r.rel) INTO n;
		IF n <> 0 THEN
			RAISE EXCEPTION '% shows % rows without an identity', r.rel, n;
		END IF;
		seen := seen || r.relname::text;
	END LOOP;
	-- The loop covered this file's tables (else a grant was lost, or the
	-- query is wrong, and the zeros prove nothing).
	SELECT array_agg(t) INTO missing FROM unnest(pg_temp.work_tables()) t
	WHERE t <> ALL (seen);
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'not checked without an identity: %', missing;
	END IF;
	FOREACH r.relname IN ARRAY ARRAY['holidays', 'settings', 'outcome_areas'] LOOP
		EXECUTE format('SELECT count(*) FROM kw.%I', r.relname) INTO n;
		IF n <> 0 THEN
			RAISE EXCEPTION 'kw.% shows % rows without an identity', r.relname, n;
		END IF;
	END LOOP;
	PERFORM pg_temp.expect('no identity', 'assessments=0/0 voices=0/0 meetings=0/0 '
	    'invitees=0/0 actions=0/0 updates=0/0 scores=0/0 documents=0/0 alerts=0/0 '
	    'deadlines=0/0');
END
$$;

------------------------------------------------------------------------------
-- Who sees what: every identity against every table, "E1/E2".

DO $$
DECLARE
	m record;
	e1_full text := 'assessments=1/0 voices=3/0 meetings=2/0 invitees=7/0 actions=3/0 '
	    'updates=3/0 scores=2/0 documents=1/0';
	nothing text := 'assessments=0/0 voices=0/0 meetings=0/0 invitees=0/0 actions=0/0 '
	    'updates=0/0 scores=0/0 documents=0/0 alerts=0/0 deadlines=0/0';
BEGIN
	FOR m IN SELECT * FROM (VALUES
	    -- Keyworkers: everything on their episode; alerts addressed to them.
	    ('keyworker kw1', 'kw1', 'practitioner', e1_full || ' alerts=2/0 deadlines=9/0'),
	    ('keyworker kw2', 'kw2', 'practitioner',
		'assessments=0/0 voices=0/0 meetings=0/1 invitees=0/2 actions=0/2 updates=0/1 '
		'scores=0/1 documents=0/1 alerts=0/1 deadlines=0/4'),
	    -- Full member: the whole episode (no alert is addressed to them).
	    ('full member', 'fullm', 'practitioner', e1_full || ' alerts=0/0 deadlines=9/0'),
	    -- Limited, invited to mt1 and owner of a1: that meeting and their own
	    -- invitee row, that action and its 2 updates; no assessment, voices,
	    -- scores or documents. Deadlines: the episode's own three, mt1's
	    -- three, a1's.
	    ('limited member lim', 'lim', 'practitioner',
		'assessments=0/0 voices=0/0 meetings=1/0 invitees=1/0 actions=1/0 updates=2/0 '
		'scores=0/0 documents=0/0 alerts=0/0 deadlines=7/0'),
	    -- Limited, invited to nothing and owning nothing: only the episode's
	    -- own deadlines.
	    ('limited member limx', 'limx', 'practitioner',
		'assessments=0/0 voices=0/0 meetings=0/0 invitees=0/0 actions=0/0 updates=0/0 '
		'scores=0/0 documents=0/0 alerts=0/0 deadlines=3/0'),
	    ('limited member lim2', 'lim2', 'practitioner',
		'assessments=0/0 voices=0/0 meetings=0/1 invitees=0/1 actions=0/1 updates=0/1 '
		'scores=0/0 documents=0/0 alerts=0/0 deadlines=0/3'),
	    -- Line manager of kw1: all of E1 and the alert addressed to them;
	    -- nothing of E2, though it lies in the manager's own area.
	    ('manager of kw1', 'mgr', 'manager,practitioner',
		e1_full || ' alerts=1/0 deadlines=9/0'),
	    ('mgr without the manager role', 'mgr', 'practitioner', nothing),
	    ('coordinator of East', 'coord', 'coordinator', e1_full || ' alerts=0/0 deadlines=9/0'),
	    ('admin', 'admin', 'admin', nothing),
	    ('unrelated practitioner', 'stranger', 'practitioner', nothing),
	    ('stranger with admin, data_protection', 'stranger',
		'practitioner,admin,data_protection', nothing)
	    ) AS v (who, usr, roles, expected) LOOP
		PERFORM pg_temp.act_as(m.usr, m.roles);
		PERFORM pg_temp.expect(m.who, m.expected);
	END LOOP;

	-- Partner systems: agency one holds E1 at full level (fullm) and E2 at
	-- limited (lim2): all of E1, and of E2 only the episode's deadlines (a
	-- system is invited to nothing and owns nothing). Agency two is kw2's.
	PERFORM pg_temp.act_as_partner('partner1', 'agency_p1');
	PERFORM pg_temp.expect('partner of agency one', e1_full || ' alerts=0/0 deadlines=9/2');
	PERFORM pg_temp.act_as_partner('partner2', 'agency_p2');
	PERFORM pg_temp.expect('partner of agency two',
	    'assessments=0/0 voices=0/0 meetings=0/1 invitees=0/2 actions=0/2 updates=0/1 '
	    'scores=0/1 documents=0/1 alerts=0/0 deadlines=0/4');
	PERFORM pg_temp.act_as_partner('partner1', 'agency_none');
	PERFORM pg_temp.expect('partner of an uninvolved agency', nothing);
	PERFORM set_config('kw.roles', 'practitioner', true);
	PERFORM set_config('kw.agency_id', pg_temp.id('agency_p1')::text, true);
	PERFORM pg_temp.expect('agency one without the partner role', nothing);
END
$$;

-- The limited member, more closely: exactly their own rows, and nothing
-- behind them by join.
DO $$
DECLARE
	q text;
BEGIN
	PERFORM pg_temp.act_as('lim', 'practitioner');
	IF (SELECT array_agg(id) FROM kw.meetings) IS DISTINCT FROM ARRAY[pg_temp.id('mt1')]
	    OR (SELECT array_agg(user_id) FROM kw.meeting_invitees)
		IS DISTINCT FROM ARRAY[pg_temp.id('lim')]
	    OR (SELECT array_agg(id) FROM kw.actions) IS DISTINCT FROM ARRAY[pg_temp.id('a1')]
	    OR EXISTS (SELECT 1 FROM kw.action_updates WHERE action_id <> pg_temp.id('a1')) THEN
		RAISE EXCEPTION 'a limited member sees other meetings, invitees or actions';
	END IF;
	FOREACH q IN ARRAY ARRAY[
	    'SELECT count(*) FROM kw.meetings m JOIN kw.meeting_invitees i ON i.meeting_id = m.id '
		'WHERE i.user_id IS DISTINCT FROM kw.current_user_id()',
	    'SELECT count(*) FROM kw.actions a JOIN kw.meetings m ON m.id = a.meeting_id '
		'JOIN kw.actions b ON b.meeting_id = m.id WHERE b.id <> a.id',
	    'SELECT count(*) FROM kw.action_updates u JOIN kw.actions a ON a.id = u.action_id '
		'WHERE a.owner_user_id IS DISTINCT FROM kw.current_user_id()',
	    'SELECT count(*) FROM kw.meetings m JOIN kw.assessments s ON s.episode_id = m.episode_id',
	    'SELECT count(*) FROM kw.episodes e JOIN kw.documents d ON d.episode_id = e.id',
	    'SELECT count(*) FROM kw.episodes e JOIN kw.outcome_scores s ON s.episode_id = e.id',
	    'SELECT count(*) FROM kw.outcome_areas oa JOIN kw.outcome_scores s ON s.area_id = oa.id',
	    'SELECT count(*) FROM kw.alerts a JOIN kw.documents d ON d.id = a.document_id'] LOOP
		IF pg_temp.run_count(q) <> 0 THEN
			RAISE EXCEPTION 'a limited member sees rows through: %', q;
		END IF;
	END LOOP;
END
$$;

------------------------------------------------------------------------------
-- Deadlines. mt1 was held at 00:30 London time on Fri 28 Aug 2026 (23:30 on
-- the 27th in UTC: the local date counts). Its outcomes are due 3 working
-- days on (Mon 31 Aug is a bank holiday): Thu 3 Sep; the plan shared 5
-- working days on: Mon 7 Sep; the next review 42 days on: Fri 9 Oct. The
-- written consent is due on the day the assessment was completed (20 Aug),
-- met by the one recorded on the 21st, not by the earlier one.

DO $$
DECLARE
	who text;
	o record;
BEGIN
	FOREACH who IN ARRAY ARRAY['kw1', 'mgr', 'coord', 'fullm'] LOOP
		PERFORM pg_temp.act_as(who, CASE who WHEN 'mgr' THEN 'manager,practitioner'
		    WHEN 'coord' THEN 'coordinator' ELSE 'practitioner' END);
		IF pg_temp.deadlines('e1') <> 'written_consent 2026-08-20 met, '
		    'assessment 2026-08-24 met, meeting_outcomes:mt1 2026-09-03 met, '
		    'plan_shared:mt1 2026-09-07, first_taf_meeting 2026-09-14 met, '
		    'action_due:a2 2026-09-15 met, action_due:a1 2026-09-30, '
		    'action_due:a3 2026-10-01, plan_review:mt1 2026-10-09' THEN
			RAISE EXCEPTION 'deadlines of E1 for %: %', who, pg_temp.deadlines('e1');
		END IF;
	END LOOP;
	PERFORM pg_temp.act_as('kw1', 'practitioner');
	-- Who each reminds: the keyworker, but the owner for an owned action.
	IF (SELECT reminds FROM kw.deadlines_v WHERE subject_id = pg_temp.id('a1'))
	    IS DISTINCT FROM pg_temp.id('lim')
	    OR (SELECT reminds FROM kw.deadlines_v WHERE kind = 'plan_shared'
		AND episode_id = pg_temp.id('e1')) IS DISTINCT FROM pg_temp.id('kw1')
	    OR (SELECT reminds FROM kw.deadlines_v WHERE subject_id = pg_temp.id('a3'))
		IS NOT NULL THEN
		RAISE EXCEPTION 'kw.deadlines_v reminds the wrong people';
	END IF;
	-- The full representation carries them.
	SELECT * INTO o FROM kw.episode_out(pg_temp.id('e1'));
	IF jsonb_array_length(o.body->'deadlines') <> 9 THEN
		RAISE EXCEPTION 'kw.episode_out of E1 carries % deadlines, not 9',
		    jsonb_array_length(o.body->'deadlines');
	END IF;

	PERFORM pg_temp.act_as('kw2', 'practitioner');
	IF pg_temp.deadlines('e2') <> 'assessment 2026-11-23, first_taf_meeting 2026-12-14, '
	    'action_due:a4 2026-12-31, action_due:a5 2027-01-31' THEN
		RAISE EXCEPTION 'deadlines of E2 for kw2: %', pg_temp.deadlines('e2');
	END IF;

	-- The view is security_invoker: a limited member gets its rows only
	-- from what they may read. The episode's own (from the episode row,
	-- their summary), those of mt1 (a meeting they are invited to, whose
	-- held_at, outcomes_recorded_at and plan_shared_at they read anyway)
	-- and a1 (theirs): never a2 or a3. The written consent shows unmet to
	-- them: they cannot read consents, so the view cannot find it.
	PERFORM pg_temp.act_as('lim', 'practitioner');
	IF pg_temp.deadlines('e1') <> 'written_consent 2026-08-20, '
	    'assessment 2026-08-24 met, meeting_outcomes:mt1 2026-09-03 met, '
	    'plan_shared:mt1 2026-09-07, first_taf_meeting 2026-09-14 met, '
	    'action_due:a1 2026-09-30, plan_review:mt1 2026-10-09' THEN
		RAISE EXCEPTION 'deadlines of E1 for the limited member: %', pg_temp.deadlines('e1');
	END IF;
	IF EXISTS (SELECT 1 FROM kw.deadlines_v d WHERE d.subject_id IS NOT NULL
	    AND d.subject_id NOT IN (SELECT id FROM kw.meetings UNION ALL SELECT id FROM kw.actions)) THEN
		RAISE EXCEPTION 'a limited member sees deadlines of meetings or actions they cannot read';
	END IF;
	SELECT * INTO o FROM kw.episode_out(pg_temp.id('e1'));
	IF o.body ? 'deadlines' THEN
		RAISE EXCEPTION 'kw.episode_out gives a limited member the deadlines';
	END IF;
	PERFORM pg_temp.act_as('limx', 'practitioner');
	IF pg_temp.deadlines('e1') <> 'written_consent 2026-08-20, assessment 2026-08-24 met, '
	    'first_taf_meeting 2026-09-14 met' THEN
		RAISE EXCEPTION 'deadlines of E1 for limx: %', pg_temp.deadlines('e1');
	END IF;
	PERFORM pg_temp.act_as('lim2', 'practitioner');
	IF pg_temp.deadlines('e2') <> 'assessment 2026-11-23, first_taf_meeting 2026-12-14, '
	    'action_due:a4 2026-12-31' THEN
		RAISE EXCEPTION 'deadlines of E2 for lim2: %', pg_temp.deadlines('e2');
	END IF;
	PERFORM pg_temp.act_as_partner('partner1', 'agency_p1');
	IF pg_temp.deadlines('e2') <> 'assessment 2026-11-23, first_taf_meeting 2026-12-14' THEN
		RAISE EXCEPTION 'deadlines of E2 for partner one: %', pg_temp.deadlines('e2');
	END IF;
END
$$;

-- Whether an episode has an overdue deadline is answered by a definer
-- function, over every deadline of the episode. (The plan for mt1 was due
-- to be shared on 7 Sep 2026 and never was: overdue from the 8th.)
DO $$
DECLARE
	overdue boolean := kw.today() > '2026-09-07';
BEGIN
	PERFORM pg_temp.act_as('lim', 'practitioner');
	IF kw.episode_has_overdue(pg_temp.id('e1')) IS DISTINCT FROM overdue THEN
		RAISE EXCEPTION 'kw.episode_has_overdue(E1) for the limited member is not %', overdue;
	END IF;
	-- kw.episode_has_overdue runs as the owner: it must answer only for an
	-- episode the caller sees (regression: it once answered anyone).
	PERFORM pg_temp.act_as('stranger', 'practitioner');
	IF kw.episode_has_overdue(pg_temp.id('e1')) IS DISTINCT FROM false THEN
		RAISE EXCEPTION 'kw.episode_has_overdue answers a stranger about E1';
	END IF;
	PERFORM pg_temp.act_as_nobody();
	IF kw.episode_has_overdue(pg_temp.id('e1')) IS DISTINCT FROM false THEN
		RAISE EXCEPTION 'kw.episode_has_overdue answers without an identity';
	END IF;
END
$$;

------------------------------------------------------------------------------
-- Working days, as the API role and signed in (the function reads
-- kw.holidays with the caller's rights). England and Wales bank holidays.

DO $$
DECLARE
	c record;
	got date;
BEGIN
	PERFORM pg_temp.act_as('stranger', 'practitioner');
	FOR c IN SELECT * FROM (VALUES
	    -- Fri 28 Aug 2026; Mon 31 Aug is the summer bank holiday.
	    ('2026-08-28', 1, '2026-09-01'), ('2026-08-28', 2, '2026-09-02'),
	    ('2026-08-28', 3, '2026-09-03'), ('2026-08-28', 5, '2026-09-07'),
	    -- Wed 23 Dec 2026; Fri 25 Dec, and Mon 28 Dec for Boxing Day.
	    ('2026-12-23', 1, '2026-12-24'), ('2026-12-23', 2, '2026-12-29'),
	    ('2026-12-23', 3, '2026-12-30'),
	    -- And on past New Year's Day 2027 (a Friday), 20 working days.
	    ('2026-12-23', 20, '2027-01-25'),
	    -- Thu 23 Dec 2027: Christmas and Boxing Day fall at the weekend, so
	    -- Mon 27 and Tue 28 Dec are the holidays.
	    ('2027-12-23', 1, '2027-12-24'), ('2027-12-23', 2, '2027-12-29'),
	    -- Fri 31 Dec 2027: New Year's Day 2028 is a Saturday, Mon 3 Jan off.
	    ('2027-12-31', 1, '2028-01-04'),
	    -- Thu 25 Mar 2027: Good Friday and Easter Monday.
	    ('2027-03-25', 1, '2027-03-30'),
	    -- A weekend and no holiday: October 2026.
	    ('2026-10-02', 1, '2026-10-05'), ('2026-10-03', 1, '2026-10-05'),
	    ('2026-10-04', 1, '2026-10-05'), ('2026-10-02', 5, '2026-10-09'),
	    ('2026-10-05', 5, '2026-10-12'), ('2026-10-05', 1, '2026-10-06')
	    ) AS v (from_day, n, expected) LOOP
		got := kw.add_working_days(c.from_day::date, c.n);
		IF got IS DISTINCT FROM c.expected::date THEN
			RAISE EXCEPTION 'kw.add_working_days(%, %) is %, not %', c.from_day, c.n, got,
			    c.expected;
		END IF;
	END LOOP;
END
$$;

------------------------------------------------------------------------------
-- Writing the assessment, meetings, invitees, actions and scores: the
-- keyworker and their manager only. Everyone else who may read E1 (a full
-- member, the coordinator, a partner system), and everyone who may not, is
-- refused: an INSERT with 42501, an UPDATE or DELETE with 42501 (no
-- privilege) or by changing no row.

DO $$
DECLARE
	who record;
	q text;
	err text;
	me uuid;
BEGIN
	FOR who IN SELECT * FROM (VALUES
	    ('fullm', 'practitioner'), ('lim', 'practitioner'), ('limx', 'practitioner'),
	    ('lim2', 'practitioner'), ('kw2', 'practitioner'), ('coord', 'coordinator'),
	    ('admin', 'admin'), ('stranger', 'practitioner,admin,data_protection'),
	    ('mgr', 'practitioner'), ('partner1', NULL), ('nobody', NULL)
	    ) AS v (usr, roles) LOOP
		IF who.usr = 'partner1' THEN
			PERFORM pg_temp.act_as_partner('partner1', 'agency_p1');
		ELSIF who.usr = 'nobody' THEN
			PERFORM pg_temp.act_as_nobody();
		ELSE
			PERFORM pg_temp.act_as(who.usr, who.roles);
		END IF;
		-- As themselves; a system or no one writes in the keyworker's name.
		me := coalesce(kw.current_user_id(), pg_temp.id('kw1'));
		FOREACH q IN ARRAY ARRAY[
		    'INSERT INTO kw.assessments (episode_id, updated_by) VALUES (%1$L, %2$L)',
		    'INSERT INTO kw.assessment_voices (episode_id, member_id, in_own_words) '
			'VALUES (%1$L, %4$L, ''no'')',
		    'INSERT INTO kw.meetings (episode_id, scheduled_at, venue, family_can_attend, '
			'created_by) VALUES (%1$L, now() + interval ''7 days'', ''no'', true, %2$L)',
		    'INSERT INTO kw.meeting_invitees (meeting_id, episode_id, member_id) '
			'VALUES (%3$L, %1$L, %4$L)',
		    'INSERT INTO kw.actions (episode_id, what, owner_member_id, measure, due_date, '
			'created_by) VALUES (%1$L, ''no'', %6$L, ''no'', ''2027-01-01'', %2$L)',
		    'INSERT INTO kw.outcome_scores (episode_id, area_id, score, scored_on, '
			'recorded_by) VALUES (%1$L, %5$L, 5, ''2026-09-01'', %2$L)'] LOOP
			q := format(q, pg_temp.id('e1'), me, pg_temp.id('mt2'), pg_temp.id('jo'),
			    pg_temp.id('wellbeing'), pg_temp.id('pat'));
			err := pg_temp.fails_with(q, '42501');
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'as % (%): % %', who.usr, who.roles, q, err;
			END IF;
		END LOOP;
		FOREACH q IN ARRAY ARRAY[
		    'UPDATE kw.assessments SET strengths = ''changed'', updated_by = %2$L '
			'WHERE episode_id = %1$L',
		    'UPDATE kw.assessments SET status = ''draft'', completed_at = NULL '
			'WHERE episode_id = %1$L',
		    'DELETE FROM kw.assessments WHERE episode_id = %1$L',
		    'UPDATE kw.assessment_voices SET in_own_words = ''changed'' '
			'WHERE episode_id = %1$L',
		    'DELETE FROM kw.assessment_voices WHERE episode_id = %1$L',
		    'UPDATE kw.meetings SET venue = ''changed'' WHERE episode_id = %1$L',
		    'UPDATE kw.meetings SET status = ''cancelled'' WHERE episode_id = %1$L '
			'AND status = ''scheduled''',
		    'DELETE FROM kw.meetings WHERE episode_id = %1$L',
		    'UPDATE kw.meeting_invitees SET attendance = ''attended'' '
			'WHERE episode_id = %1$L',
		    'UPDATE kw.meeting_invitees SET report = ''changed'' '
			'WHERE episode_id = %1$L AND user_id = kw.current_user_id()',
		    'DELETE FROM kw.meeting_invitees WHERE episode_id = %1$L',
		    'DELETE FROM kw.meeting_invitees WHERE episode_id = %1$L '
			'AND user_id = kw.current_user_id()',
		    -- Their own action aside (the owner updates it: below).
		    'UPDATE kw.actions SET status = ''dropped'', completed_at = now() '
			'WHERE episode_id = %1$L '
			'AND owner_user_id IS DISTINCT FROM kw.current_user_id()',
		    'DELETE FROM kw.actions WHERE episode_id = %1$L',
		    'UPDATE kw.action_updates SET progress = ''changed'' WHERE episode_id = %1$L',
		    'DELETE FROM kw.action_updates WHERE episode_id = %1$L',
		    'UPDATE kw.outcome_scores SET score = 1 WHERE episode_id = %1$L',
		    'DELETE FROM kw.outcome_scores WHERE episode_id = %1$L',
		    'UPDATE kw.documents SET filename = ''changed.txt'' WHERE episode_id = %1$L',
		    'DELETE FROM kw.documents WHERE episode_id = %1$L',
		    -- The dates 0005 lets the API role move on the episode.
		    'UPDATE kw.episodes SET first_taf_meeting_held_at = NULL, '
			'assessment_completed_at = NULL, status = ''registered'' WHERE id = %1$L'] LOOP
			q := format(q, pg_temp.id('e1'), me);
			err := pg_temp.no_effect(q);
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'as % (%): % %', who.usr, who.roles, q, err;
			END IF;
		END LOOP;
	END LOOP;
END
$$;

-- The keyworker and their manager write all of it, as themselves. What
-- they add shows at once to the keyworker, and to a limited member only as
-- far as it invites them or is theirs. Undone.
DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	who record;
	n bigint;
	err text;
	new_meeting uuid;
BEGIN
	BEGIN
		FOR who IN SELECT * FROM (VALUES ('kw1', 'practitioner'),
		    ('mgr', 'manager,practitioner')) AS v (usr, roles) LOOP
			PERFORM pg_temp.act_as(who.usr, who.roles);
			n := pg_temp.changes(format('UPDATE kw.assessments SET priorities = %L, '
			    'updated_by = %L, version = version + 1 WHERE episode_id = %L',
			    'RLS 04: by ' || who.usr, pg_temp.id(who.usr), e1));
			IF n <> 1 THEN
				RAISE EXCEPTION '% could not update the assessment', who.usr;
			END IF;
			-- ... but not in someone else's name.
			err := pg_temp.fails_with(format('UPDATE kw.assessments SET updated_by = %L '
			    'WHERE episode_id = %L', pg_temp.id('fullm'), e1), '42501');
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'the assessment updated by % as fullm %', who.usr, err;
			END IF;
			INSERT INTO kw.assessment_voices (episode_id, member_id, in_own_words)
			VALUES (e1, pg_temp.id('jo'), 'RLS 04: by ' || who.usr);
			DELETE FROM kw.assessment_voices WHERE episode_id = e1
			    AND member_id = pg_temp.id('jo');
			GET DIAGNOSTICS n = ROW_COUNT;
			IF n <> 1 THEN
				RAISE EXCEPTION '% could not delete a voice', who.usr;
			END IF;
			INSERT INTO kw.meetings (episode_id, scheduled_at, venue, family_can_attend,
			    created_by)
			VALUES (e1, '2027-02-01 10:00:00+00', 'RLS 04: by ' || who.usr, true,
			    pg_temp.id(who.usr))
			RETURNING id INTO new_meeting;
			INSERT INTO kw.meeting_invitees (meeting_id, episode_id, user_id)
			VALUES (new_meeting, e1, pg_temp.id('limx'));
			INSERT INTO kw.meeting_invitees (meeting_id, episode_id, member_id)
			VALUES (new_meeting, e1, pg_temp.id('jo'));
			IF pg_temp.changes(format('UPDATE kw.meeting_invitees SET attendance = %L '
			    'WHERE meeting_id = %L AND user_id IS NOT NULL', 'apologies',
			    pg_temp.id('mt2'))) <> 2
			    OR pg_temp.changes(format('UPDATE kw.meetings SET venue = %L WHERE id = %L',
				'RLS 04: moved', pg_temp.id('mt2'))) <> 1
			    OR pg_temp.changes(format('DELETE FROM kw.meeting_invitees '
				'WHERE meeting_id = %L AND member_id IS NOT NULL', new_meeting)) <> 1
			    OR pg_temp.changes(format('UPDATE kw.actions SET status = %L '
				'WHERE id = %L', 'in_progress', pg_temp.id('a3'))) <> 1 THEN
				RAISE EXCEPTION '% could not change meetings, invitees or actions', who.usr;
			END IF;
			INSERT INTO kw.actions (episode_id, meeting_id, what, owner_user_id, measure,
			    due_date, created_by)
			VALUES (e1, new_meeting, 'RLS 04: by ' || who.usr, pg_temp.id('limx'), 'x',
			    '2027-03-01', pg_temp.id(who.usr));
			INSERT INTO kw.outcome_scores (episode_id, area_id, score, scored_on, recorded_by)
			VALUES (e1, pg_temp.id('wellbeing'), 7, '2026-10-01', pg_temp.id(who.usr));
			-- A score in someone else's name is refused.
			err := pg_temp.fails_with(format('INSERT INTO kw.outcome_scores (episode_id, '
			    'area_id, score, scored_on, recorded_by) VALUES (%L, %L, 7, %L, %L)', e1,
			    pg_temp.id('wellbeing'), '2026-10-01', pg_temp.id('fullm')), '42501');
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'a score by % as fullm %', who.usr, err;
			END IF;
			-- The episode's working dates move with the work.
			IF pg_temp.changes(format('UPDATE kw.episodes SET first_taf_meeting_held_at = '
			    'first_taf_meeting_held_at WHERE id = %L', e1)) <> 1 THEN
				RAISE EXCEPTION '% could not update the episode''s dates', who.usr;
			END IF;
		END LOOP;
		-- Two meetings and two actions more, both seen by the keyworker;
		-- limx, invited to both and owner of both actions, sees them too,
		-- and still no assessment or scores.
		PERFORM pg_temp.act_as('kw1', 'practitioner');
		PERFORM pg_temp.expect('keyworker after the writes', 'assessments=1/0 voices=3/0 '
		    'meetings=4/0 invitees=9/0 actions=5/0 updates=3/0 scores=4/0 documents=1/0 '
		    'alerts=2/0 deadlines=11/0');
		PERFORM pg_temp.act_as('limx', 'practitioner');
		PERFORM pg_temp.expect('limx invited and given actions', 'assessments=0/0 voices=0/0 '
		    'meetings=2/0 invitees=2/0 actions=2/0 updates=0/0 scores=0/0 documents=0/0 '
		    'alerts=0/0 deadlines=5/0');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

-- On E2, which has no manager: only kw2 starts the assessment; the East
-- manager and coordinator cannot, nor can partner two, which reads all of
-- E2. Undone.
DO $$
DECLARE
	e2 uuid := pg_temp.id('e2');
	ins text := 'INSERT INTO kw.assessments (episode_id, strengths, updated_by) '
	    'VALUES (%L, %L, %L)';
	err text;
	c record;
BEGIN
	FOR c IN SELECT * FROM (VALUES ('mgr', 'manager,practitioner'), ('coord', 'coordinator'),
	    ('lim2', 'practitioner'), ('kw1', 'practitioner'), ('stranger', 'practitioner'),
	    ('admin', 'admin')) AS v (usr, roles) LOOP
		PERFORM pg_temp.act_as(c.usr, c.roles);
		err := pg_temp.fails_with(format(ins, e2, 'no', pg_temp.id(c.usr)), '42501');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'an assessment of E2 by % %', c.usr, err;
		END IF;
	END LOOP;
	PERFORM pg_temp.act_as_partner('partner2', 'agency_p2');
	err := pg_temp.fails_with(format(ins, e2, 'no', pg_temp.id('kw2')), '42501');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'an assessment of E2 by partner two %', err;
	END IF;
	-- Nor in someone else's name.
	PERFORM pg_temp.act_as('kw2', 'practitioner');
	err := pg_temp.fails_with(format(ins, e2, 'no', pg_temp.id('lim2')), '42501');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'an assessment of E2 by kw2 as lim2 %', err;
	END IF;
	BEGIN
		EXECUTE format(ins, e2, 'RLS 04: strengths.', pg_temp.id('kw2'));
		INSERT INTO kw.assessment_voices (episode_id, member_id, in_own_words)
		VALUES (e2, pg_temp.id('ash'), 'RLS 04: fine.');
		PERFORM pg_temp.expect('kw2 after starting the assessment', 'assessments=0/1 '
		    'voices=0/1 meetings=0/1 invitees=0/2 actions=0/2 updates=0/1 scores=0/1 '
		    'documents=0/1 alerts=0/1 deadlines=0/4');
		PERFORM pg_temp.act_as_partner('partner2', 'agency_p2');
		PERFORM pg_temp.expect('partner two after kw2 started the assessment',
		    'assessments=0/1 voices=0/1 meetings=0/1 invitees=0/2 actions=0/2 updates=0/1 '
		    'scores=0/1 documents=0/1 alerts=0/0 deadlines=0/4');
		PERFORM pg_temp.act_as('lim2', 'practitioner');
		PERFORM pg_temp.expect('lim2 after kw2 started the assessment', 'assessments=0/0 '
		    'voices=0/0 meetings=0/1 invitees=0/1 actions=0/1 updates=0/1 scores=0/0 '
		    'documents=0/0 alerts=0/0 deadlines=0/3');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

------------------------------------------------------------------------------
-- Actions: the owner, even at limited level, updates their own; no other
-- limited member, nor a full member who does not own it, does; the owner
-- cannot hand it on (the row would leave their reach). Undone.

DO $$
DECLARE
	upd text := 'UPDATE kw.actions SET status = %L, version = version + 1 WHERE id = %L';
	err text;
	c record;
BEGIN
	FOR c IN SELECT * FROM (VALUES
	    ('limx', 'practitioner', 'a1'), ('lim2', 'practitioner', 'a1'),
	    ('fullm', 'practitioner', 'a1'), ('coord', 'coordinator', 'a1'),
	    ('lim', 'practitioner', 'a2'), ('lim', 'practitioner', 'a3'),
	    ('lim', 'practitioner', 'a4'), ('stranger', 'practitioner', 'a1')
	    ) AS v (usr, roles, action) LOOP
		PERFORM pg_temp.act_as(c.usr, c.roles);
		err := pg_temp.no_effect(format(upd, 'in_progress', pg_temp.id(c.action)));
		IF err IS NOT NULL THEN
			RAISE EXCEPTION '% updating action % %', c.usr, c.action, err;
		END IF;
	END LOOP;
	PERFORM pg_temp.act_as_partner('partner1', 'agency_p1');
	err := pg_temp.no_effect(format(upd, 'in_progress', pg_temp.id('a2')));
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'partner one updating fullm''s action %', err;
	END IF;

	BEGIN
		PERFORM pg_temp.act_as('lim', 'practitioner');
		IF pg_temp.changes(format('UPDATE kw.actions SET status = %L, completed_at = now(), '
		    'version = version + 1 WHERE id = %L', 'done', pg_temp.id('a1'))) <> 1 THEN
			RAISE EXCEPTION 'the limited owner could not update their action';
		END IF;
		err := pg_temp.fails_with(format('UPDATE kw.actions SET owner_user_id = %L '
		    'WHERE id = %L', pg_temp.id('limx'), pg_temp.id('a1')), '42501');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'the limited owner handing their action on %', err;
		END IF;
		PERFORM pg_temp.act_as('lim2', 'practitioner');
		IF pg_temp.changes(format(upd, 'in_progress', pg_temp.id('a4'))) <> 1 THEN
			RAISE EXCEPTION 'lim2 could not update their action';
		END IF;
		PERFORM pg_temp.act_as('fullm', 'practitioner');
		IF pg_temp.changes(format(upd, 'done', pg_temp.id('a2'))) <> 1 THEN
			RAISE EXCEPTION 'the full member could not update their own action';
		END IF;
		-- The keyworker sees the owner's change.
		PERFORM pg_temp.act_as('kw1', 'practitioner');
		IF (SELECT status FROM kw.actions WHERE id = pg_temp.id('a1')) <> 'done' THEN
			RAISE EXCEPTION 'the owner''s change is not what the keyworker sees';
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

-- Progress updates on an action: by its owner, the keyworker and the
-- manager, as themselves. Undone.
DO $$
DECLARE
	ins text := 'INSERT INTO kw.action_updates (action_id, episode_id, status, progress, '
	    'created_by) VALUES (%L, %L, %L, %L, %L)';
	err text;
	c record;
BEGIN
	-- Refused: those who cannot see the action, an update on an action
	-- of another episode, and anyone in another's name.
	FOR c IN SELECT * FROM (VALUES
	    ('limx', 'practitioner', 'a1', 'e1', 'limx'),
	    ('lim2', 'practitioner', 'a1', 'e1', 'lim2'),
	    ('stranger', 'practitioner', 'a1', 'e1', 'stranger'),
	    ('admin', 'admin', 'a1', 'e1', 'admin'),
	    ('lim', 'practitioner', 'a2', 'e1', 'lim'),
	    ('lim', 'practitioner', 'a1', 'e2', 'lim'),
	    ('lim', 'practitioner', 'a1', 'e1', 'kw1'),
	    ('kw1', 'practitioner', 'a1', 'e1', 'lim')
	    ) AS v (usr, roles, action, episode, author) LOOP
		PERFORM pg_temp.act_as(c.usr, c.roles);
		err := pg_temp.fails_with(format(ins, pg_temp.id(c.action), pg_temp.id(c.episode),
		    'in_progress', 'no', pg_temp.id(c.author)), '42501');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'an update of % on % by % as % %', c.action, c.episode, c.usr,
			    c.author, err;
		END IF;
	END LOOP;
	PERFORM pg_temp.act_as_partner('partner1', 'agency_p1');
	err := pg_temp.fails_with(format(ins, pg_temp.id('a2'), pg_temp.id('e1'),
	    'in_progress', 'no', pg_temp.id('fullm')), '42501');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'an action update by partner one %', err;
	END IF;

	BEGIN
		PERFORM pg_temp.act_as('lim', 'practitioner');
		EXECUTE format(ins, pg_temp.id('a1'), pg_temp.id('e1'), 'in_progress',
		    'RLS 04: by the owner', pg_temp.id('lim'));
		PERFORM pg_temp.act_as('kw1', 'practitioner');
		EXECUTE format(ins, pg_temp.id('a1'), pg_temp.id('e1'), 'in_progress',
		    'RLS 04: by the keyworker', pg_temp.id('kw1'));
		PERFORM pg_temp.act_as('mgr', 'manager,practitioner');
		EXECUTE format(ins, pg_temp.id('a3'), pg_temp.id('e1'), 'in_progress',
		    'RLS 04: by the manager', pg_temp.id('mgr'));
		PERFORM pg_temp.act_as('lim', 'practitioner');
		IF (SELECT count(*) FROM kw.action_updates) <> 4 THEN
			RAISE EXCEPTION 'the owner sees % updates of their action, not 4',
			    (SELECT count(*) FROM kw.action_updates);
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;

	-- Progress on an action is reported by its owner, the keyworker or the
	-- manager: not by a full member who does not own it, nor the
	-- coordinator (regression: the policy once admitted anyone who could
	-- see the action).
	FOR c IN SELECT * FROM (VALUES ('fullm', 'practitioner'), ('coord', 'coordinator'))
	    AS v (usr, roles) LOOP
		BEGIN
			PERFORM pg_temp.act_as(c.usr, c.roles);
			err := pg_temp.fails_with(format(ins, pg_temp.id('a1'), pg_temp.id('e1'),
			    'in_progress', 'RLS 04: not theirs', pg_temp.id(c.usr)), '42501');
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'an update of a1 by %: %', c.usr, err;
			END IF;
			RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
		EXCEPTION WHEN SQLSTATE 'KWT01' THEN
			NULL;
		END;
	END LOOP;
END
$$;

------------------------------------------------------------------------------
-- Documents: the keyworker and full members add them, as themselves; no one
-- changes or removes one through the API role. Undone.

DO $$
DECLARE
	ins text := 'INSERT INTO kw.documents (episode_id, filename, content_type, size_bytes, '
	    'sha256, content, uploaded_by) VALUES (%L, %L, %L, 2, '
	    'encode(sha256(''\x0102''::bytea), ''hex''), ''\x0102''::bytea, %L)';
	err text;
	c record;
BEGIN
	FOR c IN SELECT * FROM (VALUES
	    ('lim', 'practitioner', 'e1', 'lim'), ('limx', 'practitioner', 'e1', 'limx'),
	    ('mgr', 'manager,practitioner', 'e1', 'mgr'), ('coord', 'coordinator', 'e1', 'coord'),
	    ('admin', 'admin', 'e1', 'admin'), ('stranger', 'practitioner', 'e1', 'stranger'),
	    ('fullm', 'practitioner', 'e1', 'kw1'), ('kw1', 'practitioner', 'e1', 'fullm'),
	    ('kw1', 'practitioner', 'e2', 'kw1'), ('lim2', 'practitioner', 'e2', 'lim2')
	    ) AS v (usr, roles, episode, uploader) LOOP
		PERFORM pg_temp.act_as(c.usr, c.roles);
		err := pg_temp.fails_with(format(ins, pg_temp.id(c.episode), 'no.bin',
		    'application/octet-stream', pg_temp.id(c.uploader)), '42501');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'a document on % by % as % %', c.episode, c.usr, c.uploader, err;
		END IF;
	END LOOP;
	-- A partner system reads E1 in full but has no user to upload as.
	PERFORM pg_temp.act_as_partner('partner1', 'agency_p1');
	err := pg_temp.fails_with(format(ins, pg_temp.id('e1'), 'no.bin',
	    'application/octet-stream', pg_temp.id('fullm')), '42501');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'a document by partner one %', err;
	END IF;

	BEGIN
		PERFORM pg_temp.act_as('fullm', 'practitioner');
		EXECUTE format(ins, pg_temp.id('e1'), 'rls04-full.bin', 'application/octet-stream',
		    pg_temp.id('fullm'));
		PERFORM pg_temp.act_as('kw1', 'practitioner');
		EXECUTE format(ins, pg_temp.id('e1'), 'rls04-kw1.bin', 'application/octet-stream',
		    pg_temp.id('kw1'));
		IF (SELECT count(*) FROM kw.documents) <> 3 THEN
			RAISE EXCEPTION 'the keyworker does not see the new documents';
		END IF;
		PERFORM pg_temp.act_as('lim', 'practitioner');
		IF (SELECT count(*) FROM kw.documents) <> 0 THEN
			RAISE EXCEPTION 'a limited member sees the new documents';
		END IF;
		PERFORM pg_temp.act_as('kw1', 'manager,coordinator,admin,practitioner');
		FOREACH err IN ARRAY ARRAY['UPDATE kw.documents SET filename = ''x''',
		    'DELETE FROM kw.documents'] LOOP
			IF pg_temp.fails_with(err, '42501') IS NOT NULL THEN
				RAISE EXCEPTION 'the keyworker may: %', err;
			END IF;
		END LOOP;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

------------------------------------------------------------------------------
-- Alerts of the new kinds: read and answered by their recipient only;
-- raised directly only by a full-access user, as themselves, for the
-- keyworker or a full member; raised through kw.alert_keyworker by anyone
-- who sees the episode (a limited member, a partner system), and by no one
-- else. Undone.

DO $$
DECLARE
	ins text := 'INSERT INTO kw.alerts (episode_id, user_id, kind, detail, created_by, '
	    'created_by_client) VALUES (%L, %L, %L, %L, %L, %L)';
	err text;
	c record;
	n bigint;
BEGIN
	FOR c IN SELECT * FROM (VALUES
	    ('lim', 'practitioner', 'kw1', 'lim'), ('limx', 'practitioner', 'kw1', 'limx'),
	    ('coord', 'coordinator', 'kw1', 'coord'), ('stranger', 'practitioner', 'kw1', 'stranger'),
	    ('admin', 'admin', 'kw1', 'admin'),
	    -- A full member, but to someone who is neither keyworker nor full
	    -- member, or in another's name.
	    ('fullm', 'practitioner', 'mgr', 'fullm'), ('fullm', 'practitioner', 'lim', 'fullm'),
	    ('fullm', 'practitioner', 'kw1', 'kw1')
	    ) AS v (usr, roles, recipient, author) LOOP
		PERFORM pg_temp.act_as(c.usr, c.roles);
		err := pg_temp.fails_with(format(ins, pg_temp.id('e1'), pg_temp.id(c.recipient),
		    'domestic_violence', 'no', pg_temp.id(c.author), NULL), '42501');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'an alert to % by % as % %', c.recipient, c.usr, c.author, err;
		END IF;
	END LOOP;
	-- A partner system raises through the definer function only.
	PERFORM pg_temp.act_as_partner('partner1', 'agency_p1');
	err := pg_temp.fails_with(format(ins, pg_temp.id('e1'), pg_temp.id('kw1'),
	    'domestic_violence', 'no', NULL, pg_temp.id('partner1')), '42501');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'an alert inserted by partner one %', err;
	END IF;
	-- No one answers another's alert, nor readdresses one.
	FOR c IN SELECT * FROM (VALUES ('fullm', 'practitioner'), ('lim', 'practitioner'),
	    ('coord', 'coordinator'), ('mgr', 'manager,practitioner'))
	    AS v (usr, roles) LOOP
		PERFORM pg_temp.act_as(c.usr, c.roles);
		err := pg_temp.no_effect(format('UPDATE kw.alerts SET response = %L, '
		    'acknowledged_at = now() WHERE user_id = %L', 'no', pg_temp.id('kw1')));
		IF err IS NOT NULL THEN
			RAISE EXCEPTION '% answering kw1''s alerts %', c.usr, err;
		END IF;
	END LOOP;
	PERFORM pg_temp.act_as('kw1', 'practitioner');
	err := pg_temp.fails_with(format('UPDATE kw.alerts SET user_id = %L',
	    pg_temp.id('fullm')), '42501');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'the keyworker readdressing an alert %', err;
	END IF;

	BEGIN
		-- The recipient answers theirs.
		PERFORM pg_temp.act_as('kw1', 'practitioner');
		IF pg_temp.changes(format('UPDATE kw.alerts SET response = %L, acknowledged_at = '
		    'now() WHERE episode_id = %L', 'RLS 04: seen.', pg_temp.id('e1'))) <> 2 THEN
			RAISE EXCEPTION 'the keyworker could not answer their alerts';
		END IF;
		-- A full member raises one directly for the keyworker.
		PERFORM pg_temp.act_as('fullm', 'practitioner');
		EXECUTE format(ins, pg_temp.id('e1'), pg_temp.id('kw1'), 'children_services_contact',
		    'RLS 04: by fullm', pg_temp.id('fullm'), NULL);
		IF (SELECT count(*) FROM kw.alerts) <> 0 THEN
			RAISE EXCEPTION 'the full member sees the alert they raised for another';
		END IF;
		-- A limited member, partner one, an unrelated practitioner, an
		-- admin and no identity each go through kw.alert_keyworker (a
		-- domestic-violence notification: manager too): only the first two
		-- reach anyone.
		PERFORM pg_temp.act_as('lim', 'practitioner');
		PERFORM kw.alert_keyworker(pg_temp.id('e1'), 'domestic_violence', 'RLS 04: by lim',
		    NULL, NULL, NULL, true);
		IF (SELECT count(*) FROM kw.alerts) <> 0 THEN
			RAISE EXCEPTION 'the limited member sees the alert they raised';
		END IF;
		PERFORM pg_temp.act_as_partner('partner1', 'agency_p1');
		PERFORM kw.alert_keyworker(pg_temp.id('e1'), 'referral', 'RLS 04: by partner one',
		    NULL, NULL, NULL, false);
		PERFORM pg_temp.act_as('stranger', 'practitioner');
		PERFORM kw.alert_keyworker(pg_temp.id('e1'), 'other', 'RLS 04: by a stranger',
		    NULL, NULL, NULL, true);
		PERFORM pg_temp.act_as('admin', 'admin');
		PERFORM kw.alert_keyworker(pg_temp.id('e1'), 'other', 'RLS 04: by an admin',
		    NULL, NULL, NULL, true);
		PERFORM pg_temp.act_as('lim2', 'practitioner');
		PERFORM kw.alert_keyworker(pg_temp.id('e1'), 'other', 'RLS 04: by lim2',
		    NULL, NULL, NULL, true);
		PERFORM pg_temp.act_as_nobody();
		PERFORM kw.alert_keyworker(pg_temp.id('e1'), 'other', 'RLS 04: by nobody',
		    NULL, NULL, NULL, true);

		PERFORM pg_temp.act_as('kw1', 'practitioner');
		IF (SELECT string_agg(coalesce(detail, kind), ', ' ORDER BY created_at, detail)
		    FROM kw.alerts WHERE created_at = now()) IS DISTINCT FROM
		    'RLS 04: by fullm, RLS 04: by lim, RLS 04: by partner one' THEN
			RAISE EXCEPTION 'the keyworker got these new alerts: %', (SELECT string_agg(
			    coalesce(detail, kind), ', ' ORDER BY detail) FROM kw.alerts
			    WHERE created_at = now());
		END IF;
		IF (SELECT created_by_client FROM kw.alerts WHERE detail = 'RLS 04: by partner one')
		    IS DISTINCT FROM pg_temp.id('partner1') THEN
			RAISE EXCEPTION 'the partner''s alert does not name the partner';
		END IF;
		PERFORM pg_temp.act_as('mgr', 'manager,practitioner');
		SELECT count(*) INTO n FROM kw.alerts WHERE created_at = now();
		IF n <> 1 OR (SELECT detail FROM kw.alerts WHERE created_at = now())
		    <> 'RLS 04: by lim' THEN
			RAISE EXCEPTION 'the manager got % new alerts, not the one notification', n;
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

------------------------------------------------------------------------------
-- Reference data: every signed-in caller reads it all; only an admin
-- changes it; without an identity it is not there.

DO $$
DECLARE
	c record;
	q text;
	err text;
BEGIN
	FOR c IN SELECT * FROM (VALUES
	    ('kw1', 'practitioner'), ('lim', 'practitioner'), ('fullm', 'practitioner'),
	    ('mgr', 'manager,practitioner'), ('coord', 'coordinator'), ('admin', 'admin'),
	    ('stranger', 'data_protection'), ('partner1', NULL)) AS v (usr, roles) LOOP
		IF c.usr = 'partner1' THEN
			PERFORM pg_temp.act_as_partner('partner1', 'agency_p1');
		ELSE
			PERFORM pg_temp.act_as(c.usr, c.roles);
		END IF;
		IF (SELECT count(*) FROM kw.holidays) <> current_setting('kwtest.holidays_total')::bigint
		    OR (SELECT count(*) FROM kw.settings)
			<> current_setting('kwtest.settings_total')::bigint
		    OR (SELECT count(*) FROM kw.outcome_areas)
			<> current_setting('kwtest.outcome_areas_total')::bigint THEN
			RAISE EXCEPTION '% (%) does not read all the reference data', c.usr, c.roles;
		END IF;
		IF c.usr = 'admin' THEN
			CONTINUE;
		END IF;
		FOREACH q IN ARRAY ARRAY[
		    'INSERT INTO kw.holidays (day, name) VALUES (''2026-09-02'', ''no'')',
		    'INSERT INTO kw.settings (name, value, minimum, maximum, description) '
			'VALUES (''rls04'', 1, 1, 1, ''no'')',
		    'INSERT INTO kw.outcome_areas (name) VALUES (''RLS 04: no'')'] LOOP
			err := pg_temp.fails_with(q, '42501');
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'as % (%): % %', c.usr, c.roles, q, err;
			END IF;
		END LOOP;
		FOREACH q IN ARRAY ARRAY[
		    'UPDATE kw.holidays SET name = ''changed''',
		    'DELETE FROM kw.holidays',
		    'UPDATE kw.settings SET value = minimum',
		    'UPDATE kw.settings SET value = value, updated_at = now()',
		    'DELETE FROM kw.settings',
		    'UPDATE kw.outcome_areas SET active = false',
		    'UPDATE kw.outcome_areas SET name = name || '' (changed)''',
		    'DELETE FROM kw.outcome_areas'] LOOP
			err := pg_temp.no_effect(q);
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'as % (%): % %', c.usr, c.roles, q, err;
			END IF;
		END LOOP;
	END LOOP;
END
$$;

-- An admin changes them, and the deadlines follow at once: outcomes due 2
-- working days after mt1 (Wed 2 Sep); then a holiday on Wed 2 Sep, and 3
-- working days again: Fri 4 Sep. What has no grant stays out of reach even
-- for an admin. Undone.
DO $$
DECLARE
	n bigint;
	err text;
	q text;
	outcomes_due text := 'SELECT due FROM kw.deadlines_v WHERE kind = ''meeting_outcomes'' '
	    'AND subject_id = current_setting(''kwtest.mt1'')::uuid';
BEGIN
	PERFORM pg_temp.act_as('admin', 'admin');
	FOREACH q IN ARRAY ARRAY[
	    'UPDATE kw.holidays SET name = ''changed''',
	    'UPDATE kw.settings SET minimum = 0',
	    'INSERT INTO kw.settings (name, value, minimum, maximum, description) '
		'VALUES (''rls04'', 1, 1, 1, ''no'')',
	    'DELETE FROM kw.settings',
	    'DELETE FROM kw.outcome_areas'] LOOP
		err := pg_temp.fails_with(q, '42501');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'as an admin: % %', q, err;
		END IF;
	END LOOP;
	-- The bounds hold too.
	err := pg_temp.fails_with('UPDATE kw.settings SET value = 4 '
	    'WHERE name = ''outcomes_working_days''', '23514');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'outcomes_working_days set to 4 %', err;
	END IF;

	BEGIN
		IF pg_temp.changes('UPDATE kw.settings SET value = 2, updated_at = now() '
		    'WHERE name = ''outcomes_working_days''') <> 1 THEN
			RAISE EXCEPTION 'an admin could not change a setting';
		END IF;
		PERFORM pg_temp.act_as('kw1', 'practitioner');
		IF pg_temp.run_count('SELECT (' || outcomes_due || ') - ''2026-09-02''::date') <> 0 THEN
			RAISE EXCEPTION 'outcomes with the setting at 2 are not due on 2 Sep';
		END IF;
		PERFORM pg_temp.act_as('admin', 'admin');
		UPDATE kw.settings SET value = 3 WHERE name = 'outcomes_working_days';
		INSERT INTO kw.holidays (day, name) VALUES ('2026-09-02', 'RLS 04: a holiday');
		PERFORM pg_temp.act_as('kw1', 'practitioner');
		IF pg_temp.run_count('SELECT (' || outcomes_due || ') - ''2026-09-04''::date') <> 0 THEN
			RAISE EXCEPTION 'outcomes with a holiday on 2 Sep are not due on 4 Sep';
		END IF;
		PERFORM pg_temp.act_as('admin', 'admin');
		DELETE FROM kw.holidays WHERE day >= '2026-01-01' AND day < '2027-01-01';
		GET DIAGNOSTICS n = ROW_COUNT;
		IF n <> 9 THEN
			RAISE EXCEPTION 'an admin deleted % holidays of 2026, not 9', n;
		END IF;
		INSERT INTO kw.outcome_areas (name) VALUES ('RLS 04: a new area');
		IF pg_temp.changes('UPDATE kw.outcome_areas SET active = false, '
		    'version = version + 1 WHERE name = ''RLS 04: a new area''') <> 1 THEN
			RAISE EXCEPTION 'an admin could not change an outcome area';
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
	IF (SELECT count(*) FROM kw.holidays) <> current_setting('kwtest.holidays_total')::bigint
	    OR (SELECT value FROM kw.settings WHERE name = 'outcomes_working_days') <> 3 THEN
		RAISE EXCEPTION 'the reference data was not restored';
	END IF;
END
$$;

------------------------------------------------------------------------------
-- A limited member's reach follows the team and the invitation from the
-- very next statement; owning an action without being on the team gives
-- nothing. Undone.

DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	n integer;
BEGIN
	BEGIN
		-- kw1 hands an action to the stranger (the API would refuse: not on
		-- the team; the policy lets the keyworker), and invites them.
		PERFORM pg_temp.act_as('kw1', 'practitioner');
		INSERT INTO kw.actions (episode_id, what, owner_user_id, measure, due_date,
		    created_by)
		VALUES (e1, 'RLS 04: for the stranger', pg_temp.id('stranger'), 'x', '2027-01-01',
		    pg_temp.id('kw1'));
		INSERT INTO kw.meeting_invitees (meeting_id, episode_id, user_id)
		VALUES (pg_temp.id('mt2'), e1, pg_temp.id('stranger'));
		PERFORM pg_temp.act_as('stranger', 'practitioner');
		PERFORM pg_temp.expect('owner and invitee, not on the team', 'assessments=0/0 '
		    'voices=0/0 meetings=0/0 invitees=0/0 actions=0/0 updates=0/0 scores=0/0 '
		    'documents=0/0 alerts=0/0 deadlines=0/0');
		IF pg_temp.changes('UPDATE kw.actions SET status = ''in_progress''') <> 0 THEN
			RAISE EXCEPTION 'an owner not on the team updated their action';
		END IF;

		-- lim is removed from the team: their meeting, action and its
		-- updates go with the episode.
		PERFORM pg_temp.act_as('kw1', 'practitioner');
		DELETE FROM kw.team_members WHERE episode_id = e1 AND user_id = pg_temp.id('lim');
		GET DIAGNOSTICS n = ROW_COUNT;
		IF n <> 1 THEN
			RAISE EXCEPTION 'the keyworker could not remove lim (% rows)', n;
		END IF;
		PERFORM pg_temp.act_as('lim', 'practitioner');
		PERFORM pg_temp.expect('lim just removed from the team', 'assessments=0/0 '
		    'voices=0/0 meetings=0/0 invitees=0/0 actions=0/0 updates=0/0 scores=0/0 '
		    'documents=0/0 alerts=0/0 deadlines=0/0');
		IF pg_temp.changes(format('UPDATE kw.actions SET status = %L WHERE id = %L',
		    'done', pg_temp.id('a1'))) <> 0 THEN
			RAISE EXCEPTION 'a removed owner updated their action';
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;

	BEGIN
		-- lim raised to full level: everything, at once.
		PERFORM pg_temp.act_as('kw1', 'practitioner');
		UPDATE kw.team_members SET level = 'full' WHERE episode_id = e1
		    AND user_id = pg_temp.id('lim');
		PERFORM pg_temp.act_as('lim', 'practitioner');
		PERFORM pg_temp.expect('lim just raised to full', 'assessments=1/0 voices=3/0 '
		    'meetings=2/0 invitees=7/0 actions=3/0 updates=3/0 scores=2/0 documents=1/0 '
		    'alerts=0/0 deadlines=9/0');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
	PERFORM pg_temp.act_as('lim', 'practitioner');
	PERFORM pg_temp.expect('lim after the undo', 'assessments=0/0 voices=0/0 meetings=1/0 '
	    'invitees=1/0 actions=1/0 updates=2/0 scores=0/0 documents=0/0 alerts=0/0 '
	    'deadlines=7/0');
END
$$;

-- The same across transactions, as the server runs them: one request takes
-- lim's invitation away, their next sees the meeting gone (and its
-- deadlines), their action still there. Rolled back.
BEGIN;
DO $$
BEGIN
	PERFORM pg_temp.act_as('kw1', 'practitioner');
	DELETE FROM kw.meeting_invitees
	WHERE meeting_id = pg_temp.id('mt1') AND user_id = pg_temp.id('lim');
END
$$;
DO $$
BEGIN
	PERFORM pg_temp.act_as('lim', 'practitioner');
	PERFORM pg_temp.expect('lim in the statement after losing the invitation',
	    'assessments=0/0 voices=0/0 meetings=0/0 invitees=0/0 actions=1/0 updates=2/0 '
	    'scores=0/0 documents=0/0 alerts=0/0 deadlines=4/0');
END
$$;
ROLLBACK;

------------------------------------------------------------------------------
-- Through the operations, with bearer tokens: a limited member gets their
-- meeting and action, 403 for what needs full access, 404 for a document;
-- an unrelated practitioner gets 404 throughout.

DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	j jsonb;
	err text;
	q text;
BEGIN
	j := api.list_meetings('rls04-token-lim', 'sql-test', 'local', e1, 50, NULL, NULL);
	IF jsonb_array_length(j) <> 1 OR (j->0->>'id')::uuid <> pg_temp.id('mt1')
	    OR jsonb_array_length(j->0->'invitees') <> 1 THEN
		RAISE EXCEPTION 'api.list_meetings for a limited member: %', j;
	END IF;
	j := api.list_actions('rls04-token-lim', 'sql-test', 'local', e1, 50, NULL, NULL);
	IF jsonb_array_length(j) <> 1 OR (j->0->>'id')::uuid <> pg_temp.id('a1')
	    OR jsonb_array_length(j->0->'updates') <> 2 THEN
		RAISE EXCEPTION 'api.list_actions for a limited member: %', j;
	END IF;
	-- Unmet deadlines: the consent (unmet as they see it), the plan to
	-- share, a1, the review.
	j := api.list_deadlines('rls04-token-lim', 'sql-test', 'local', 100, NULL, NULL, NULL,
	    NULL, NULL);
	IF (SELECT string_agg(x->>'kind', ',' ORDER BY x->>'due') FROM jsonb_array_elements(j) x)
	    IS DISTINCT FROM 'written_consent,plan_shared,action_due,plan_review' THEN
		RAISE EXCEPTION 'api.list_deadlines for a limited member: %', j;
	END IF;
	FOREACH q IN ARRAY ARRAY[
	    format('SELECT api.get_assessment(%L, %L, %L, %L)', 'rls04-token-lim', 'sql-test',
		'local', e1),
	    format('SELECT api.list_documents(%L, %L, %L, %L, 50, NULL, NULL)', 'rls04-token-lim',
		'sql-test', 'local', e1),
	    format('SELECT api.list_outcome_scores(%L, %L, %L, %L)', 'rls04-token-lim',
		'sql-test', 'local', e1),
	    format('SELECT api.update_action(%L, %L, %L, %L, %L, %L)', 'rls04-token-lim',
		'sql-test', 'local', pg_temp.id('a1'), '*', '{"due_date": "2027-01-01"}')] LOOP
		err := pg_temp.fails_with(q, 'KW403');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'for a limited member, % %', q, err;
		END IF;
	END LOOP;
	FOREACH q IN ARRAY ARRAY[
	    format('SELECT api.get_document(%L, %L, %L, %L)', 'rls04-token-lim', 'sql-test',
		'local', pg_temp.id('d1')),
	    format('SELECT api.document_content(%L, %L, %L, %L)', 'rls04-token-lim', 'sql-test',
		'local', pg_temp.id('d1')),
	    format('SELECT api.update_action(%L, %L, %L, %L, %L, %L)', 'rls04-token-lim',
		'sql-test', 'local', pg_temp.id('a2'), '*', '{"status": "done"}'),
	    format('SELECT api.list_meetings(%L, %L, %L, %L, 50, NULL, NULL)',
		'rls04-token-stranger', 'sql-test', 'local', e1),
	    format('SELECT api.list_actions(%L, %L, %L, %L, 50, NULL, NULL)',
		'rls04-token-stranger', 'sql-test', 'local', e1),
	    format('SELECT api.get_assessment(%L, %L, %L, %L)', 'rls04-token-stranger',
		'sql-test', 'local', e1),
	    format('SELECT api.get_document(%L, %L, %L, %L)', 'rls04-token-stranger', 'sql-test',
		'local', pg_temp.id('d1')),
	    format('SELECT api.update_action(%L, %L, %L, %L, %L, %L)', 'rls04-token-stranger',
		'sql-test', 'local', pg_temp.id('a1'), '*', '{"status": "done"}'),
	    format('SELECT api.raise_alert(%L, %L, %L, %L, %L)', 'rls04-token-stranger',
		'sql-test', 'local', e1, '{"kind": "referral", "detail": "no"}')] LOOP
		err := pg_temp.fails_with(q, 'KW404');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION '% %', q, err;
		END IF;
	END LOOP;
	IF jsonb_array_length(api.list_deadlines('rls04-token-stranger', 'sql-test', 'local',
	    100, NULL, NULL, NULL, NULL, NULL)) <> 0 THEN
		RAISE EXCEPTION 'api.list_deadlines lists deadlines to an unrelated practitioner';
	END IF;

	-- The owner reports progress on their action. Undone.
	BEGIN
		j := (SELECT o.body FROM api.update_action('rls04-token-lim', 'sql-test', 'local',
		    pg_temp.id('a1'), '*', '{"status": "done", "progress": "RLS 04: done."}') o);
		IF j->>'status' <> 'done' OR jsonb_array_length(j->'updates') <> 3 THEN
			RAISE EXCEPTION 'api.update_action by the owner: %', j;
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

RESET ROLE;

------------------------------------------------------------------------------
-- The fixture is as it was: every write above was undone. Then it goes,
-- with the sign-in secrets, the partner keys and the owner's membership of
-- the API role.

DO $$
DECLARE
	got text;
BEGIN
	ASSERT current_user <> 'keywork_api', 'still running as keywork_api';
	got := pg_temp.visible();
	IF got <> 'assessments=1/0 voices=3/0 meetings=2/1 invitees=7/2 actions=3/2 '
	    'updates=3/1 scores=2/1 documents=1/1 alerts=3/1 deadlines=9/4' THEN
		RAISE EXCEPTION 'the fixture changed during the test: %', got;
	END IF;
	IF (SELECT count(*) FROM kw.holidays) <> current_setting('kwtest.holidays_total')::bigint
	    OR (SELECT count(*) FROM kw.outcome_areas)
		<> current_setting('kwtest.outcome_areas_total')::bigint
	    OR (SELECT value FROM kw.settings WHERE name = 'outcomes_working_days') <> 3 THEN
		RAISE EXCEPTION 'the reference data changed during the test';
	END IF;
END
$$;

DELETE FROM kw.token_families WHERE user_id IN (:'lim', :'stranger');
DELETE FROM kw.alerts WHERE episode_id IN (:'e1', :'e2');
DELETE FROM kw.action_updates WHERE episode_id IN (:'e1', :'e2');
DELETE FROM kw.actions WHERE episode_id IN (:'e1', :'e2');
DELETE FROM kw.outcome_scores WHERE episode_id IN (:'e1', :'e2');
DELETE FROM kw.documents WHERE episode_id IN (:'e1', :'e2');
DELETE FROM kw.meeting_invitees WHERE episode_id IN (:'e1', :'e2');
DELETE FROM kw.meetings WHERE episode_id IN (:'e1', :'e2');
DELETE FROM kw.assessment_voices WHERE episode_id IN (:'e1', :'e2');
DELETE FROM kw.assessments WHERE episode_id IN (:'e1', :'e2');
DELETE FROM kw.consents WHERE episode_id IN (:'e1', :'e2');
DELETE FROM kw.team_members WHERE episode_id IN (:'e1', :'e2');
DELETE FROM kw.members WHERE episode_id IN (:'e1', :'e2');
DELETE FROM kw.episodes WHERE id IN (:'e1', :'e2');
DELETE FROM kw.families WHERE id IN (:'family1', :'family2');
DELETE FROM kw.api_clients WHERE id IN (:'partner1', :'partner2');
DELETE FROM kw.users WHERE id IN (:'kw1', :'kw2', :'fullm', :'lim', :'lim2', :'limx',
    :'coord', :'admin', :'stranger', :'mgr');
DELETE FROM kw.agencies WHERE id IN (:'agency_p1', :'agency_ff', :'agency_p2', :'agency_none');
DELETE FROM kw.areas WHERE id IN (:'area_east', :'area_west');
REVOKE keywork_api FROM CURRENT_USER;
