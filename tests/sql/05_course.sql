-- Changes of course (0007, 0008), seen as the API role and as the owner:
-- consent governing sharing with each agency, the episode's state machine,
-- transfers of keyworker and temporary cover, and who sees (and may act on)
-- transfers, step ups, step downs, closures and the transitions. Identities
-- as in 03_rls_episodes.sql: what kw.authenticate would set,
-- transaction-local. Run as the schema owner; any failure raises.
--
-- The fixture is three episodes in two new areas. Counts are per episode,
-- "E1/E2/E3" (step downs per area, "East/West"):
--
--   E1  East, keyworker kw1 (agency ff, managed by mgr), registered; team:
--       fullm (partner agency one, full), fullb (agency three, full), lim
--       (agency ff, limited). 3 members, 2 consents (for the whole
--       episode), 2 notes, 2 alerts (one to fullm, one to kw1). Transfers:
--       t1 out of county, declined; t2 in county to newkw, proposed, its
--       changeover today. Step up s1, declined. Closure c0, reopened.
--   E2  West, keyworker kw2 (agency two, no manager), step up requested
--       (s2 pending); team: lim2 (partner agency one, limited). 2 members,
--       1 consent, 1 note. Transfer t3 to kw1, declined.
--   E3  East, keyworker kw1, registered by coord, closed 10 days ago (c1)
--       after a step up (s3) was accepted. 1 member, 1 consent.
--   Step downs: sd1 (East) sent by the social care partner system from E3;
--   sd2 (East) by coord; sd3 (West) by coordw.
--
--   mgr       manager of kw1, in the West area
--   coord     coordinator of the East area; coordw of the West area
--   newkw     a practitioner proposed as E1's new keyworker (t2)
--   admin     admin only; stranger: an East practitioner with no part
--   partner1  system of agency one (fullm, lim2); partner2 of agency two
--             (kw2); partnerff of agency ff (kw1, lim); partnersc of a
--             social care agency (it sent sd1)
--
-- Where work resumes after a step up is declined or an episode reopened is
-- derived from the work done (kw.working_status), not remembered. One
-- "Known limit:" note records what the database does not enforce by
-- design, asserted as it is.

GRANT keywork_api TO CURRENT_USER;

------------------------------------------------------------------------------
-- Fixture, as the owner. Fixed ids and ON CONFLICT DO NOTHING, so that a
-- second run changes nothing; the writes tested below are all undone. Notes
-- cannot be deleted, so the case fixture stays (as 03's does); the
-- secrets and the step downs (which name a partner key) go at the end.

\set area_east '00000000-0000-4000-8000-000000000501'
\set area_west '00000000-0000-4000-8000-000000000502'
\set agency_p1 '00000000-0000-4000-8000-000000000511'
\set agency_ff '00000000-0000-4000-8000-000000000512'
\set agency_p2 '00000000-0000-4000-8000-000000000513'
\set agency_none '00000000-0000-4000-8000-000000000514'
\set agency_sc '00000000-0000-4000-8000-000000000515'
\set agency_p3 '00000000-0000-4000-8000-000000000516'
\set mgr '00000000-0000-4000-8000-000000000521'
\set kw1 '00000000-0000-4000-8000-000000000522'
\set kw2 '00000000-0000-4000-8000-000000000523'
\set fullm '00000000-0000-4000-8000-000000000524'
\set lim '00000000-0000-4000-8000-000000000525'
\set lim2 '00000000-0000-4000-8000-000000000526'
\set coord '00000000-0000-4000-8000-000000000527'
\set admin '00000000-0000-4000-8000-000000000528'
\set stranger '00000000-0000-4000-8000-000000000529'
\set newkw '00000000-0000-4000-8000-00000000052a'
\set coordw '00000000-0000-4000-8000-00000000052b'
\set fullb '00000000-0000-4000-8000-00000000052c'
\set family1 '00000000-0000-4000-8000-000000000531'
\set family2 '00000000-0000-4000-8000-000000000532'
\set family3 '00000000-0000-4000-8000-000000000533'
\set e1 '00000000-0000-4000-8000-000000000541'
\set e2 '00000000-0000-4000-8000-000000000542'
\set e3 '00000000-0000-4000-8000-000000000543'
\set note1 '00000000-0000-4000-8000-000000000571'
\set note2 '00000000-0000-4000-8000-000000000572'
\set note3 '00000000-0000-4000-8000-000000000573'
\set partner1 '00000000-0000-4000-8000-0000000005a1'
\set partner2 '00000000-0000-4000-8000-0000000005a2'
\set partnerff '00000000-0000-4000-8000-0000000005a3'
\set partnersc '00000000-0000-4000-8000-0000000005a4'
\set t1 '00000000-0000-4000-8000-0000000005b1'
\set t2 '00000000-0000-4000-8000-0000000005b2'
\set t3 '00000000-0000-4000-8000-0000000005b3'
\set s1 '00000000-0000-4000-8000-0000000005c1'
\set s2 '00000000-0000-4000-8000-0000000005c2'
\set s3 '00000000-0000-4000-8000-0000000005c3'
\set sd1 '00000000-0000-4000-8000-0000000005d1'
\set sd2 '00000000-0000-4000-8000-0000000005d2'
\set sd3 '00000000-0000-4000-8000-0000000005d3'
\set c0 '00000000-0000-4000-8000-0000000005e1'
\set c1 '00000000-0000-4000-8000-0000000005e2'

-- The DO blocks cannot see psql variables: they read these instead.
SET kwtest.area_east = :'area_east';
SET kwtest.area_west = :'area_west';
SET kwtest.agency_p1 = :'agency_p1';
SET kwtest.agency_ff = :'agency_ff';
SET kwtest.agency_p2 = :'agency_p2';
SET kwtest.agency_none = :'agency_none';
SET kwtest.agency_sc = :'agency_sc';
SET kwtest.agency_p3 = :'agency_p3';
SET kwtest.mgr = :'mgr';
SET kwtest.kw1 = :'kw1';
SET kwtest.kw2 = :'kw2';
SET kwtest.fullm = :'fullm';
SET kwtest.fullb = :'fullb';
SET kwtest.lim = :'lim';
SET kwtest.lim2 = :'lim2';
SET kwtest.coord = :'coord';
SET kwtest.coordw = :'coordw';
SET kwtest.admin = :'admin';
SET kwtest.stranger = :'stranger';
SET kwtest.newkw = :'newkw';
SET kwtest.family1 = :'family1';
SET kwtest.family2 = :'family2';
SET kwtest.family3 = :'family3';
SET kwtest.e1 = :'e1';
SET kwtest.e2 = :'e2';
SET kwtest.e3 = :'e3';
SET kwtest.note1 = :'note1';
SET kwtest.partner1 = :'partner1';
SET kwtest.partner2 = :'partner2';
SET kwtest.partnerff = :'partnerff';
SET kwtest.partnersc = :'partnersc';
SET kwtest.t1 = :'t1';
SET kwtest.t2 = :'t2';
SET kwtest.t3 = :'t3';
SET kwtest.s1 = :'s1';
SET kwtest.s2 = :'s2';
SET kwtest.s3 = :'s3';
SET kwtest.sd1 = :'sd1';
SET kwtest.sd2 = :'sd2';
SET kwtest.sd3 = :'sd3';
SET kwtest.c1 = :'c1';
-- Each user's agency, which kw.authenticate would set with their id.
SET kwtest.agency_of_mgr = :'agency_ff';
SET kwtest.agency_of_kw1 = :'agency_ff';
SET kwtest.agency_of_kw2 = :'agency_p2';
SET kwtest.agency_of_fullm = :'agency_p1';
SET kwtest.agency_of_fullb = :'agency_p3';
SET kwtest.agency_of_lim = :'agency_ff';
SET kwtest.agency_of_lim2 = :'agency_p1';
SET kwtest.agency_of_coord = :'agency_ff';
SET kwtest.agency_of_coordw = :'agency_ff';
SET kwtest.agency_of_admin = :'agency_ff';
SET kwtest.agency_of_stranger = :'agency_ff';
SET kwtest.agency_of_newkw = :'agency_ff';

INSERT INTO kw.areas (id, name) VALUES
	(:'area_east', 'RLS test 05: East'),
	(:'area_west', 'RLS test 05: West')
ON CONFLICT DO NOTHING;

INSERT INTO kw.agencies (id, name, kind) VALUES
	(:'agency_p1', 'RLS test 05: partner agency one', 'voluntary'),
	(:'agency_ff', 'RLS test 05: Families First', 'local_authority'),
	(:'agency_p2', 'RLS test 05: partner agency two', 'health'),
	(:'agency_none', 'RLS test 05: uninvolved agency', 'housing'),
	(:'agency_sc', 'RLS test 05: children''s social care', 'social_care'),
	(:'agency_p3', 'RLS test 05: agency three', 'school')
ON CONFLICT DO NOTHING;

INSERT INTO kw.users (id, email, name, password_hash, agency_id, area_id, roles)
VALUES (:'mgr', 'rls05-mgr@test.example.org', 'RLS 05 Manager', 'not a hash',
    :'agency_ff', :'area_west', ARRAY['manager', 'practitioner'])
ON CONFLICT DO NOTHING;

INSERT INTO kw.users (id, email, name, password_hash, agency_id, area_id, roles,
    manager_id)
SELECT v.id::uuid, v.email, v.name, 'not a hash', v.agency::uuid, v.area::uuid,
    v.roles, v.manager::uuid
FROM (VALUES
	(:'kw1', 'rls05-kw1@test.example.org', 'RLS 05 Keyworker One', :'agency_ff',
	    :'area_east', ARRAY['practitioner'], :'mgr'),
	(:'kw2', 'rls05-kw2@test.example.org', 'RLS 05 Keyworker Two', :'agency_p2',
	    :'area_west', ARRAY['practitioner'], NULL),
	(:'fullm', 'rls05-full@test.example.org', 'RLS 05 Full Member', :'agency_p1',
	    :'area_east', ARRAY['practitioner'], NULL),
	(:'fullb', 'rls05-fullb@test.example.org', 'RLS 05 Full Member, Agency Three',
	    :'agency_p3', :'area_east', ARRAY['practitioner'], NULL),
	(:'lim', 'rls05-lim@test.example.org', 'RLS 05 Limited Member', :'agency_ff',
	    :'area_east', ARRAY['practitioner'], NULL),
	(:'lim2', 'rls05-lim2@test.example.org', 'RLS 05 Limited Member Two', :'agency_p1',
	    :'area_west', ARRAY['practitioner'], NULL),
	(:'coord', 'rls05-coord@test.example.org', 'RLS 05 Coordinator East', :'agency_ff',
	    :'area_east', ARRAY['coordinator'], NULL),
	(:'coordw', 'rls05-coordw@test.example.org', 'RLS 05 Coordinator West', :'agency_ff',
	    :'area_west', ARRAY['coordinator'], NULL),
	(:'admin', 'rls05-admin@test.example.org', 'RLS 05 Admin', :'agency_ff',
	    :'area_east', ARRAY['admin'], NULL),
	(:'stranger', 'rls05-stranger@test.example.org', 'RLS 05 Stranger', :'agency_ff',
	    :'area_east', ARRAY['practitioner'], NULL),
	(:'newkw', 'rls05-newkw@test.example.org', 'RLS 05 New Keyworker', :'agency_ff',
	    :'area_east', ARRAY['practitioner'], NULL)
) AS v (id, email, name, agency, area, roles, manager)
ON CONFLICT DO NOTHING;

INSERT INTO kw.api_clients (id, name, agency_id, key_hash, created_by) VALUES
	(:'partner1', 'rls test 05 partner one', :'agency_p1', 'rls05-key-partner1', :'admin'),
	(:'partner2', 'rls test 05 partner two', :'agency_p2', 'rls05-key-partner2', :'admin'),
	(:'partnerff', 'rls test 05 partner ff', :'agency_ff', 'rls05-key-partnerff', :'admin'),
	(:'partnersc', 'rls test 05 social care', :'agency_sc', 'rls05-key-partnersc', :'admin')
ON CONFLICT DO NOTHING;

INSERT INTO kw.families (id, name, area_id, postcode) VALUES
	(:'family1', 'Eastwood', :'area_east', 'EA5 1AA'),
	(:'family2', 'Westley', :'area_west', 'WE5 2BB'),
	(:'family3', 'Easton', :'area_east', 'EA5 3CC')
ON CONFLICT DO NOTHING;

-- Registered some days ago (the CHECKs hold the deadlines to the local date
-- of registration). Inserted with their state: the state machine governs
-- updates.
INSERT INTO kw.episodes (id, family_id, family_name, area_id, keyworker_id,
    lead_agency_id, registered_by, registered_at, assessment_due, first_taf_meeting_due,
    status, closed_at)
SELECT v.id::uuid, v.family::uuid, v.name, v.area::uuid, v.kw::uuid, v.agency::uuid,
    v.reg_by::uuid, now() - v.age, kw.local_date(now() - v.age) + 21,
    kw.local_date(now() - v.age) + 42, v.status, v.closed
FROM (VALUES
	(:'e1', :'family1', 'Eastwood', :'area_east', :'kw1', :'agency_ff', :'kw1',
	    interval '90 days', 'registered', NULL::timestamptz),
	(:'e2', :'family2', 'Westley', :'area_west', :'kw2', :'agency_p2', :'kw2',
	    interval '30 days', 'step_up_requested', NULL),
	(:'e3', :'family3', 'Easton', :'area_east', :'kw1', :'agency_ff', :'coord',
	    interval '200 days', 'closed', now() - interval '10 days')
) AS v (id, family, name, area, kw, agency, reg_by, age, status, closed)
ON CONFLICT DO NOTHING;

INSERT INTO kw.members (id, episode_id, given_name, family_name, date_of_birth,
    relationship, is_child)
VALUES
	('00000000-0000-4000-8000-000000000551', :'e1', 'Pat', 'Eastwood', '1985-02-03',
	    'mother', false),
	('00000000-0000-4000-8000-000000000552', :'e1', 'Lee', 'Eastwood', '2014-05-06',
	    'son', true),
	('00000000-0000-4000-8000-000000000553', :'e1', 'Kim', 'Eastwood', '2018-07-08',
	    'daughter', true),
	('00000000-0000-4000-8000-000000000554', :'e2', 'Max', 'Westley', '1987-09-10',
	    'father', false),
	('00000000-0000-4000-8000-000000000555', :'e2', 'Ash', 'Westley', '2016-11-12',
	    'son', true),
	('00000000-0000-4000-8000-000000000556', :'e3', 'Sam', 'Easton', '1990-01-01',
	    'mother', false)
ON CONFLICT DO NOTHING;

-- Consent for the whole episode (no agency): sharing with every agency.
INSERT INTO kw.consents (id, episode_id, kind, given_by, obtained_at, recorded_by,
    created_at)
VALUES
	('00000000-0000-4000-8000-000000000561', :'e1', 'verbal', 'Pat Eastwood',
	    now() - interval '90 days', :'kw1', now() - interval '90 days'),
	('00000000-0000-4000-8000-000000000562', :'e1', 'written', 'Pat Eastwood',
	    now() - interval '80 days', :'kw1', now() - interval '80 days'),
	('00000000-0000-4000-8000-000000000563', :'e2', 'verbal', 'Max Westley',
	    now() - interval '30 days', :'kw2', now() - interval '30 days'),
	('00000000-0000-4000-8000-000000000564', :'e3', 'verbal', 'Sam Easton',
	    now() - interval '200 days', :'coord', now() - interval '200 days')
ON CONFLICT DO NOTHING;

INSERT INTO kw.team_members (episode_id, user_id, level, added_by) VALUES
	(:'e1', :'fullm', 'full', :'kw1'),
	(:'e1', :'fullb', 'full', :'kw1'),
	(:'e1', :'lim', 'limited', :'kw1'),
	(:'e2', :'lim2', 'limited', :'kw2')
ON CONFLICT DO NOTHING;

INSERT INTO kw.notes (id, episode_id, author_id, kind, body) VALUES
	(:'note1', :'e1', :'kw1', 'fact', 'RLS 05: first home visit.'),
	(:'note2', :'e1', :'fullm', 'opinion', 'RLS 05: settled at school.'),
	(:'note3', :'e2', :'kw2', 'fact', 'RLS 05: first home visit, west.')
ON CONFLICT DO NOTHING;

INSERT INTO kw.alerts (id, episode_id, user_id, kind, note_id, created_by) VALUES
	('00000000-0000-4000-8000-000000000591', :'e1', :'fullm', 'named_in_note', :'note1',
	    :'kw1'),
	('00000000-0000-4000-8000-000000000592', :'e1', :'kw1', 'case_note', :'note2', :'fullm')
ON CONFLICT DO NOTHING;

INSERT INTO kw.transfers (id, episode_id, kind, reason, from_keyworker_id,
    to_keyworker_id, receiving_authority, family_told_at, changeover_on, ends_on,
    keep_former_on_team, status, note, proposed_by, decided_at)
VALUES
	(:'t1', :'e1', 'out_of_county', 'moving_out_of_county', :'kw1', NULL,
	    'Northshire County Council', now() - interval '40 days', kw.today() - 30, NULL,
	    true, 'declined', 'RLS 05: the move fell through.', :'kw1',
	    now() - interval '35 days'),
	(:'t2', :'e1', 'in_county', 'keyworker_changing_role', :'kw1', :'newkw', NULL,
	    now() - interval '1 day', kw.today(), NULL, true, 'proposed', NULL, :'kw1', NULL),
	(:'t3', :'e2', 'in_county', 'change_of_setting', :'kw2', :'kw1', NULL,
	    now() - interval '10 days', kw.today() - 5, NULL, true, 'declined', NULL, :'kw2',
	    now() - interval '8 days')
ON CONFLICT DO NOTHING;

INSERT INTO kw.step_ups (id, episode_id, area_id, unmet_needs, what_was_tried,
    more_within_resources, impact_so_far, evidence_higher_level, advice_sought, status,
    decision_note, action_impact_meeting_at, requested_by, decided_by, decided_at,
    created_at)
VALUES
	(:'s1', :'e1', :'area_east', 'RLS 05: needs.', 'RLS 05: tried.', 'RLS 05: no.',
	    'RLS 05: little.', 'RLS 05: evidence.', 'RLS 05: advice.', 'declined',
	    'RLS 05: keep working.', NULL, :'kw1', :'coord', now() - interval '50 days',
	    now() - interval '52 days'),
	(:'s2', :'e2', :'area_west', 'RLS 05: needs.', 'RLS 05: tried.', 'RLS 05: no.',
	    'RLS 05: little.', 'RLS 05: evidence.', 'RLS 05: advice.', 'pending',
	    NULL, NULL, :'kw2', NULL, NULL, now() - interval '2 days'),
	(:'s3', :'e3', :'area_east', 'RLS 05: needs.', 'RLS 05: tried.', 'RLS 05: no.',
	    'RLS 05: little.', 'RLS 05: evidence.', 'RLS 05: advice.', 'accepted',
	    'RLS 05: statutory services.', now() - interval '15 days', :'kw1', :'coord',
	    now() - interval '20 days', now() - interval '25 days')
ON CONFLICT DO NOTHING;

INSERT INTO kw.closures (id, episode_id, reason, family_views, children_views,
    closed_by, closed_at, reopened_by, reopened_at, reopen_reason)
VALUES
	(:'c0', :'e1', 'family_disengaged', 'RLS 05: not now.', 'RLS 05: fine.', :'kw1',
	    now() - interval '30 days', :'kw1', now() - interval '20 days',
	    'RLS 05: the family asked again.'),
	(:'c1', :'e3', 'stepped_up', 'RLS 05: relieved.', 'RLS 05: fine.', :'kw1',
	    now() - interval '10 days', NULL, NULL, NULL)
ON CONFLICT DO NOTHING;

INSERT INTO kw.step_downs (id, area_id, family, needs, consent_given_by,
    consent_obtained_at, from_episode_id, suggested_keyworker_id, created_by,
    created_by_client)
VALUES
	(:'sd1', :'area_east', '{"family": {"name": "Easton", "postcode": "EA5 3CC"}, '
	    '"members": []}', 'RLS 05: needs from social care.', 'Sam Easton',
	    now() - interval '2 days', :'e3', :'kw1', NULL, :'partnersc'),
	(:'sd2', :'area_east', '{"family": {"name": "Norris", "postcode": "EA5 4DD"}, '
	    '"members": []}', 'RLS 05: needs, east.', 'Jo Norris', now() - interval '3 days',
	    NULL, NULL, :'coord', NULL),
	(:'sd3', :'area_west', '{"family": {"name": "Wells", "postcode": "WE5 5EE"}, '
	    '"members": []}', 'RLS 05: needs, west.', 'Vi Wells', now() - interval '3 days',
	    NULL, NULL, :'coordw', NULL)
ON CONFLICT DO NOTHING;

-- Bearer tokens (their hashes, as the server passes them). Removed at the end.
INSERT INTO kw.token_families (id, user_id) VALUES
	('00000000-0000-4000-8000-0000000005f1', :'kw1'),
	('00000000-0000-4000-8000-0000000005f2', :'newkw'),
	('00000000-0000-4000-8000-0000000005f3', :'fullm'),
	('00000000-0000-4000-8000-0000000005f4', :'stranger'),
	('00000000-0000-4000-8000-0000000005f5', :'coordw'),
	('00000000-0000-4000-8000-0000000005f6', :'kw2'),
	('00000000-0000-4000-8000-0000000005f7', :'coord')
ON CONFLICT DO NOTHING;
INSERT INTO kw.access_tokens (token_hash, family_id, expires_at) VALUES
	('rls05-token-kw1', '00000000-0000-4000-8000-0000000005f1', now() + interval '1 hour'),
	('rls05-token-newkw', '00000000-0000-4000-8000-0000000005f2', now() + interval '1 hour'),
	('rls05-token-fullm', '00000000-0000-4000-8000-0000000005f3', now() + interval '1 hour'),
	('rls05-token-stranger', '00000000-0000-4000-8000-0000000005f4',
	    now() + interval '1 hour'),
	('rls05-token-coordw', '00000000-0000-4000-8000-0000000005f5', now() + interval '1 hour'),
	('rls05-token-kw2', '00000000-0000-4000-8000-0000000005f6', now() + interval '1 hour'),
	('rls05-token-coord', '00000000-0000-4000-8000-0000000005f7', now() + interval '1 hour')
ON CONFLICT DO NOTHING;

------------------------------------------------------------------------------
-- Helpers, in pg_temp and not SECURITY DEFINER (as in 03): as keywork_api
-- they are held to its policies.

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

-- The identities of the matrices by name: a user with their roles, a
-- partner system with its agency, or no one.
CREATE FUNCTION pg_temp.act(p_who text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	CASE p_who
	WHEN 'nobody' THEN PERFORM pg_temp.act_as_nobody();
	WHEN 'partner1' THEN PERFORM pg_temp.act_as_partner('partner1', 'agency_p1');
	WHEN 'partner2' THEN PERFORM pg_temp.act_as_partner('partner2', 'agency_p2');
	WHEN 'partnerff' THEN PERFORM pg_temp.act_as_partner('partnerff', 'agency_ff');
	WHEN 'partnersc' THEN PERFORM pg_temp.act_as_partner('partnersc', 'agency_sc');
	WHEN 'mgr' THEN PERFORM pg_temp.act_as('mgr', 'manager,practitioner');
	WHEN 'coord' THEN PERFORM pg_temp.act_as('coord', 'coordinator');
	WHEN 'coordw' THEN PERFORM pg_temp.act_as('coordw', 'coordinator');
	WHEN 'admin' THEN PERFORM pg_temp.act_as('admin', 'admin');
	ELSE PERFORM pg_temp.act_as(p_who, 'practitioner');
	END CASE;
END
$$;

-- "a/b/c": the rows of kw.<table> whose <column> is each of three ids.
CREATE FUNCTION pg_temp.per3(p_table text, p_col text, a uuid, b uuid, c uuid)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	n text;
BEGIN
	EXECUTE format('SELECT count(*) FILTER (WHERE %1$I = $1) || ''/'' '
	    '|| count(*) FILTER (WHERE %1$I = $2) || ''/'' '
	    '|| count(*) FILTER (WHERE %1$I = $3) FROM kw.%2$I', p_col, p_table)
	INTO n USING a, b, c;
	RETURN n;
END
$$;

-- What the caller sees of the case tables, "E1/E2/E3".
CREATE FUNCTION pg_temp.case_visible() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	e2 uuid := pg_temp.id('e2');
	e3 uuid := pg_temp.id('e3');
BEGIN
	RETURN format('episodes=%s families=%s members=%s consents=%s team=%s notes=%s '
	    'alerts=%s',
	    pg_temp.per3('episodes', 'id', e1, e2, e3),
	    pg_temp.per3('families', 'id', pg_temp.id('family1'), pg_temp.id('family2'),
		pg_temp.id('family3')),
	    pg_temp.per3('members', 'episode_id', e1, e2, e3),
	    pg_temp.per3('consents', 'episode_id', e1, e2, e3),
	    pg_temp.per3('team_members', 'episode_id', e1, e2, e3),
	    pg_temp.per3('notes', 'episode_id', e1, e2, e3),
	    pg_temp.per3('alerts', 'episode_id', e1, e2, e3));
END
$$;

-- What the caller sees of this file's tables: transfers, step ups and
-- closures "E1/E2/E3", step downs "East/West", and how many transitions.
CREATE FUNCTION pg_temp.course_visible() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	e2 uuid := pg_temp.id('e2');
	e3 uuid := pg_temp.id('e3');
BEGIN
	RETURN format('transfers=%s step_ups=%s closures=%s step_downs=%s transitions=%s',
	    pg_temp.per3('transfers', 'episode_id', e1, e2, e3),
	    pg_temp.per3('step_ups', 'episode_id', e1, e2, e3),
	    pg_temp.per3('closures', 'episode_id', e1, e2, e3),
	    (SELECT count(*) FILTER (WHERE area_id = pg_temp.id('area_east')) || '/'
		|| count(*) FILTER (WHERE area_id = pg_temp.id('area_west')) FROM kw.step_downs),
	    (SELECT count(*) FROM kw.episode_transitions));
END
$$;

-- Rows the caller sees that are not the fixture's (the demo data's, 03's):
-- none of the identities here has any part in them.
CREATE FUNCTION pg_temp.outside() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	eps uuid[] := ARRAY[pg_temp.id('e1'), pg_temp.id('e2'), pg_temp.id('e3')];
	t text;
	n bigint;
	total bigint := 0;
BEGIN
	FOREACH t IN ARRAY ARRAY['members', 'consents', 'team_members', 'notes', 'alerts',
	    'transfers', 'step_ups', 'closures'] LOOP
		EXECUTE format('SELECT count(*) FROM kw.%I WHERE episode_id <> ALL ($1)', t)
		INTO n USING eps;
		total := total + n;
	END LOOP;
	RETURN total
	    + (SELECT count(*) FROM kw.episodes WHERE id <> ALL (eps))
	    + (SELECT count(*) FROM kw.families WHERE id NOT IN (pg_temp.id('family1'),
		pg_temp.id('family2'), pg_temp.id('family3')))
	    + (SELECT count(*) FROM kw.step_downs WHERE area_id NOT IN (pg_temp.id('area_east'),
		pg_temp.id('area_west')));
END
$$;

CREATE FUNCTION pg_temp.expect_case(p_who text, p_expected text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	got text := pg_temp.case_visible();
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

CREATE FUNCTION pg_temp.expect_course(p_who text, p_expected text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	got text := pg_temp.course_visible();
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

-- As pg_temp.fails_with, for a KW422 that names p_rule.
CREATE FUNCTION pg_temp.fails_rule(p_sql text, p_rule text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	detail text;
BEGIN
	BEGIN
		EXECUTE p_sql;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
		IF SQLSTATE = 'KW422' THEN
			IF detail = jsonb_build_object('rule', p_rule)::text THEN
				RETURN NULL;
			END IF;
		END IF;
		RETURN format('failed with %s (%s; %s), not KW422 %s', SQLSTATE, SQLERRM, detail,
		    p_rule);
	END;
	RETURN format('succeeded, where KW422 %s was expected', p_rule);
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

-- A query's one value, read as the owner (whose policy admits every row),
-- whatever the role of the caller, which is restored. The identity
-- settings are untouched.
CREATE FUNCTION pg_temp.as_owner(p_sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	prev text := current_user;
	v text;
BEGIN
	EXECUTE 'RESET ROLE';
	EXECUTE p_sql INTO v;
	EXECUTE format('SET ROLE %I', prev);
	RETURN v;
END
$$;

-- The episode's current keyworker, its status, and the sharing withdrawn,
-- as the owner sees them.
CREATE FUNCTION pg_temp.keyworker_of(p_episode text) RETURNS uuid
LANGUAGE sql AS $$
	SELECT pg_temp.as_owner(format('SELECT keyworker_id FROM kw.episodes WHERE id = %L',
	    pg_temp.id(p_episode)))::uuid
$$;
CREATE FUNCTION pg_temp.status_of(p_episode text) RETURNS text
LANGUAGE sql AS $$
	SELECT pg_temp.as_owner(format('SELECT status FROM kw.episodes WHERE id = %L',
	    pg_temp.id(p_episode)))
$$;
-- "agency since" (UTC) per withdrawn agency of E1, in agency order.
CREATE FUNCTION pg_temp.withdrawals() RETURNS text
LANGUAGE sql AS $$
	SELECT coalesce(pg_temp.as_owner(format('SELECT string_agg(agency_id || '' '' '
	    '|| to_char(since AT TIME ZONE ''UTC'', ''YYYY-MM-DD HH24:MI''), '', '' '
	    'ORDER BY agency_id) FROM kw.consent_withdrawals WHERE episode_id = %L',
	    pg_temp.id('e1'))), '')
$$;

-- The fixture is all there, seen as the owner.
DO $$
DECLARE
	got text;
BEGIN
	got := pg_temp.case_visible();
	IF got <> 'episodes=1/1/1 families=1/1/1 members=3/2/1 consents=2/1/1 team=3/1/0 '
	    'notes=2/1/0 alerts=2/0/0' THEN
		RAISE EXCEPTION 'the case fixture is not as this file expects: %', got;
	END IF;
	got := pg_temp.course_visible();
	IF got <> 'transfers=2/1/0 step_ups=1/1/1 closures=1/0/1 step_downs=2/1 '
	    'transitions=18' THEN
		RAISE EXCEPTION 'the course fixture is not as this file expects: %', got;
	END IF;
	IF pg_temp.outside() = 0 THEN
		RAISE EXCEPTION 'the demo data is missing: "nothing outside" would prove nothing';
	END IF;
	IF pg_temp.withdrawals() <> '' THEN
		RAISE EXCEPTION 'E1 starts with sharing withdrawn: %', pg_temp.withdrawals();
	END IF;
	IF (SELECT status FROM kw.transfers WHERE id = pg_temp.id('t2')) <> 'proposed'
	    OR (SELECT status FROM kw.step_ups WHERE id = pg_temp.id('s2')) <> 'pending' THEN
		RAISE EXCEPTION 'a fixture transfer or step up is not in its starting state';
	END IF;
END
$$;

------------------------------------------------------------------------------
-- The catalogue. The new case tables have row-level security on and forced;
-- the transitions (reference data) have it on (not forced: the owner reads
-- them freely, as it does the other reference data); the API role may not read
-- kw.consent_withdrawals at all (only the definer functions do). The state
-- machine and the consent trigger fire for every role, the owner included.
-- Definer functions pin their search_path; those only the operations may
-- call are not granted to the API role.

DO $$
DECLARE
	c record;
	n integer := 0;
BEGIN
	FOR c IN SELECT v.t, cl.relname, cl.relrowsecurity, cl.relforcerowsecurity
	    FROM unnest(ARRAY['transfers', 'step_ups', 'step_downs', 'closures',
		'consent_withdrawals']) AS v (t)
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
	ASSERT n = 5, 'not every new case table was checked';
	IF (SELECT relrowsecurity FROM pg_class WHERE oid = 'kw.episode_transitions'::regclass)
	    IS DISTINCT FROM true THEN
		RAISE EXCEPTION 'row-level security is off on kw.episode_transitions';
	END IF;
	IF has_table_privilege('keywork_api', 'kw.consent_withdrawals',
	    'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
	    OR has_any_column_privilege('keywork_api', 'kw.consent_withdrawals',
		'SELECT, INSERT, UPDATE, REFERENCES') THEN
		RAISE EXCEPTION 'keywork_api has a privilege on kw.consent_withdrawals';
	END IF;
	IF has_table_privilege('keywork_api', 'kw.episode_transitions',
	    'INSERT, UPDATE, DELETE, TRUNCATE')
	    OR has_table_privilege('keywork_api', 'kw.transfers', 'UPDATE, DELETE, TRUNCATE')
	    OR has_table_privilege('keywork_api', 'kw.step_ups', 'UPDATE, DELETE, TRUNCATE')
	    OR has_table_privilege('keywork_api', 'kw.closures', 'DELETE, TRUNCATE')
	    OR has_table_privilege('keywork_api', 'kw.step_downs', 'DELETE, TRUNCATE')
	    OR has_column_privilege('keywork_api', 'kw.episodes', 'keyworker_id', 'UPDATE')
	    OR has_column_privilege('keywork_api', 'kw.episodes', 'area_id', 'UPDATE') THEN
		RAISE EXCEPTION 'keywork_api may change transitions, transfers, step ups, '
		    'closures or step downs beyond what the operations need, or the keyworker';
	END IF;
	-- Both triggers are there, fire in every session (not only on a
	-- replica, not disabled), and the state machine is BEFORE UPDATE FOR
	-- EACH ROW.
	FOR c IN SELECT v.tbl, v.name, t.tgenabled, t.tgtype
	    FROM (VALUES ('kw.episodes', 'episodes_state_machine'),
		('kw.consents', 'consents_sharing')) AS v (tbl, name)
	    LEFT JOIN pg_trigger t ON t.tgrelid = v.tbl::regclass AND t.tgname = v.name LOOP
		IF c.tgenabled IS DISTINCT FROM 'O' THEN
			RAISE EXCEPTION 'trigger % on % is missing or not always enabled (%)',
			    c.name, c.tbl, c.tgenabled;
		END IF;
	END LOOP;
	IF (SELECT tgtype & (1 | 2 | 16) FROM pg_trigger
	    WHERE tgname = 'episodes_state_machine') <> (1 | 2 | 16) THEN
		RAISE EXCEPTION 'episodes_state_machine is not BEFORE UPDATE FOR EACH ROW';
	END IF;
	FOR c IN SELECT p.oid::regprocedure AS f FROM pg_proc p
	    WHERE p.prosecdef AND p.pronamespace IN ('kw'::regnamespace, 'api'::regnamespace)
		AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) s WHERE s LIKE 'search_path=%')
	    LOOP
		RAISE EXCEPTION 'the definer function % does not pin its search_path', c.f;
	END LOOP;
	FOR c IN SELECT v.f FROM unnest(ARRAY[
	    'kw.episode_set(uuid, text, uuid, boolean)', 'kw.end_temporary_covers()',
	    'kw.alert_keyworker_of(uuid, text, text)', 'kw.is_practitioner_any(uuid)']) AS v (f)
	    WHERE has_function_privilege('keywork_api', v.f::regprocedure, 'EXECUTE') LOOP
		RAISE EXCEPTION 'keywork_api may execute %', c.f;
	END LOOP;
	FOR c IN SELECT v.f FROM unnest(ARRAY[
	    'kw.transfer_decide(uuid, boolean, text)', 'kw.transfer_complete(uuid)',
	    'kw.step_up_decide(uuid, jsonb)', 'kw.alert_safeguarding(uuid, text)',
	    'kw.former_keyworker(uuid)', 'kw.assessment_from_step_down(uuid, uuid)',
	    'kw.working_status(uuid)', 'kw.withdraw_step_ups(uuid)']) AS v (f)
	    WHERE NOT has_function_privilege('keywork_api', v.f::regprocedure, 'EXECUTE') LOOP
		RAISE EXCEPTION 'keywork_api may not execute % (the operations call it)', c.f;
	END LOOP;
	-- Those the API role calls answer for the caller, so run as the owner.
	FOR c IN SELECT v.f FROM unnest(ARRAY['kw.working_status(uuid)',
	    'kw.withdraw_step_ups(uuid)', 'kw.former_keyworker(uuid)']) AS v (f)
	    WHERE NOT (SELECT prosecdef FROM pg_proc WHERE oid = v.f::regprocedure) LOOP
		RAISE EXCEPTION '% is not SECURITY DEFINER', c.f;
	END LOOP;
	-- Where work resumes is derived from the work, not remembered: no column
	-- holds it, and kw.episode_set has no parameter for it.
	IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'kw.episodes'::regclass
	    AND attname = 'resume_status' AND NOT attisdropped)
	    OR to_regprocedure('kw.episode_set(uuid, text, uuid, text, boolean)') IS NOT NULL THEN
		RAISE EXCEPTION 'kw.episodes.resume_status or the five-argument kw.episode_set '
		    'is still there';
	END IF;
END
$$;

-- kw.episode_transitions is the diagram in docs/episode-states.md, edge for
-- edge (the start arrow aside): 18 moves, no more, no fewer. The diagram is
-- read from the file (psql runs from the repository root, as
-- scripts/test.sh does), so the two cannot drift apart.
\set states_doc `cat docs/episode-states.md`
SET kwtest.states_doc = :'states_doc';

DO $$
DECLARE
	doc text := current_setting('kwtest.states_doc');
	edges text[];
	missing text;
	extra text;
BEGIN
	SELECT array_agg(m[1] || ' -> ' || m[2]) INTO edges
	FROM regexp_matches(doc, '^\s*([a-z_]+) --> ([a-z_]+)', 'gn') AS m;
	IF coalesce(cardinality(edges), 0) <> 18 THEN
		RAISE EXCEPTION 'docs/episode-states.md draws % moves, not 18 (is psql running '
		    'from the repository root?)', coalesce(cardinality(edges), 0);
	END IF;
	SELECT string_agg(d, ', ') INTO missing FROM unnest(edges) d
	WHERE d NOT IN (SELECT t.from_status || ' -> ' || t.to_status
	    FROM kw.episode_transitions t);
	SELECT string_agg(t.from_status || ' -> ' || t.to_status, ', ') INTO extra
	FROM kw.episode_transitions t WHERE t.from_status || ' -> ' || t.to_status <> ALL (edges);
	IF missing IS NOT NULL OR extra IS NOT NULL
	    OR (SELECT count(*) FROM kw.episode_transitions) <> 18 THEN
		RAISE EXCEPTION 'kw.episode_transitions is not the documented diagram: missing %, '
		    'not documented %', missing, extra;
	END IF;
END
$$;

SET ROLE keywork_api;

------------------------------------------------------------------------------
-- No identity: not one row of any relation in kw the API role may read
-- (the new tables among them), and kw.consent_withdrawals not even then.

DO $$
DECLARE
	r record;
	n bigint;
	seen text[] := '{}';
	missing text[];
	err text;
BEGIN
	ASSERT current_user = 'keywork_api', 'not running as keywork_api';
	PERFORM pg_temp.act_as_nobody();
	FOR r IN SELECT c.oid::regclass AS rel, c.relname
	    FROM pg_class c
	    WHERE c.relnamespace = 'kw'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
		AND has_any_column_privilege(c.oid, 'SELECT')
	    ORDER BY c.relname LOOP
		EXECUTE format('SELECT count(*) FROM %s', r.rel) INTO n;
		IF n <> 0 THEN
			RAISE EXCEPTION '% shows % rows without an identity', r.rel, n;
		END IF;
		seen := seen || r.relname::text;
	END LOOP;
	SELECT array_agg(t) INTO missing
	FROM unnest(ARRAY['transfers', 'step_ups', 'step_downs', 'closures',
	    'episode_transitions', 'episodes', 'consents']) t
	WHERE t <> ALL (seen);
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'not checked without an identity: %', missing;
	END IF;
	err := pg_temp.fails_with('SELECT count(*) FROM kw.consent_withdrawals', '42501');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'kw.consent_withdrawals without an identity %', err;
	END IF;
	PERFORM pg_temp.expect_course('no identity', 'transfers=0/0/0 step_ups=0/0/0 '
	    'closures=0/0/0 step_downs=0/0 transitions=0');
END
$$;

------------------------------------------------------------------------------
-- Who sees the changes of course: every identity, "E1/E2/E3". Transfers,
-- step ups and closures go with full access to the episode (keyworker, full
-- members, a partner at full level, the keyworker's manager, the area's
-- coordinator); a transfer also to its proposed new keyworker (who cannot
-- see the episode until the changeover), and a step up to the coordinators
-- of its area. Step downs: the area's coordinators and the partner system
-- that sent it, nobody else. The transitions: anyone signed in. Nobody
-- reads kw.consent_withdrawals.

DO $$
DECLARE
	m record;
	nothing text := 'transfers=0/0/0 step_ups=0/0/0 closures=0/0/0 step_downs=0/0 '
	    'transitions=18';
	err text;
BEGIN
	FOR m IN SELECT * FROM (VALUES
	    -- kw1 keyworks E1 and E3, and was proposed (and declined) for E2.
	    ('kw1', 'transfers=2/1/0 step_ups=1/0/1 closures=1/0/1 step_downs=0/0 '
		'transitions=18'),
	    ('kw2', 'transfers=0/1/0 step_ups=0/1/0 closures=0/0/0 step_downs=0/0 '
		'transitions=18'),
	    ('fullm', 'transfers=2/0/0 step_ups=1/0/0 closures=1/0/0 step_downs=0/0 '
		'transitions=18'),
	    ('fullb', 'transfers=2/0/0 step_ups=1/0/0 closures=1/0/0 step_downs=0/0 '
		'transitions=18'),
	    -- Limited access: none of it.
	    ('lim', nothing),
	    ('lim2', nothing),
	    -- The manager of kw1: E1 and E3; no step downs (not a coordinator).
	    ('mgr', 'transfers=2/0/0 step_ups=1/0/1 closures=1/0/1 step_downs=0/0 '
		'transitions=18'),
	    ('coord', 'transfers=2/0/0 step_ups=1/0/1 closures=1/0/1 step_downs=2/0 '
		'transitions=18'),
	    ('coordw', 'transfers=0/1/0 step_ups=0/1/0 closures=0/0/0 step_downs=0/1 '
		'transitions=18'),
	    ('admin', nothing),
	    ('stranger', nothing),
	    -- The proposed keyworker: their transfer, before the changeover.
	    ('newkw', 'transfers=1/0/0 step_ups=0/0/0 closures=0/0/0 step_downs=0/0 '
		'transitions=18'),
	    -- Partner systems hold what their agency's practitioners hold.
	    ('partner1', 'transfers=2/0/0 step_ups=1/0/0 closures=1/0/0 step_downs=0/0 '
		'transitions=18'),
	    ('partner2', 'transfers=0/1/0 step_ups=0/1/0 closures=0/0/0 step_downs=0/0 '
		'transitions=18'),
	    ('partnerff', 'transfers=2/0/0 step_ups=1/0/1 closures=1/0/1 step_downs=0/0 '
		'transitions=18'),
	    -- The social care system: the step down it sent, nothing else.
	    ('partnersc', 'transfers=0/0/0 step_ups=0/0/0 closures=0/0/0 step_downs=1/0 '
		'transitions=18'),
	    ('nobody', 'transfers=0/0/0 step_ups=0/0/0 closures=0/0/0 step_downs=0/0 '
		'transitions=0')
	    ) AS v (who, expected) LOOP
		PERFORM pg_temp.act(m.who);
		PERFORM pg_temp.expect_course(m.who, m.expected);
		err := pg_temp.fails_with('SELECT count(*) FROM kw.consent_withdrawals', '42501');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'kw.consent_withdrawals for % %', m.who, err;
		END IF;
	END LOOP;
	-- Roles, not accounts, give the reach: mgr without the manager role,
	-- coord without the coordinator role, reach nothing.
	PERFORM pg_temp.act_as('mgr', 'practitioner');
	PERFORM pg_temp.expect_course('mgr as a practitioner only', nothing);
	PERFORM pg_temp.act_as('coord', 'practitioner');
	PERFORM pg_temp.expect_course('coord as a practitioner only', nothing);
END
$$;

-- Exactly which rows: the proposed keyworker sees t2 and nothing of E1
-- itself; kw1 sees t3 (proposed to them) but not E2; the social care
-- system sees sd1 only; the coordinators their area's step downs.
DO $$
DECLARE
	err text;
BEGIN
	PERFORM pg_temp.act('newkw');
	IF (SELECT array_agg(id) FROM kw.transfers) IS DISTINCT FROM ARRAY[pg_temp.id('t2')] THEN
		RAISE EXCEPTION 'the proposed keyworker sees other transfers';
	END IF;
	PERFORM pg_temp.expect_case('the proposed keyworker before the changeover',
	    'episodes=0/0/0 families=0/0/0 members=0/0/0 consents=0/0/0 team=0/0/0 '
	    'notes=0/0/0 alerts=0/0/0');
	err := pg_temp.fails_with(format('SELECT kw.episode_out(%L)', pg_temp.id('e1')), 'KW404');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'kw.episode_out of E1 for the proposed keyworker %', err;
	END IF;
	PERFORM pg_temp.act('kw1');
	IF (SELECT array_agg(id) FROM kw.transfers WHERE episode_id = pg_temp.id('e2'))
	    IS DISTINCT FROM ARRAY[pg_temp.id('t3')]
	    OR EXISTS (SELECT 1 FROM kw.episodes WHERE id = pg_temp.id('e2')) THEN
		RAISE EXCEPTION 'kw1 does not see just the transfer proposed to them on E2';
	END IF;
	PERFORM pg_temp.act('partnersc');
	IF (SELECT array_agg(id) FROM kw.step_downs) IS DISTINCT FROM ARRAY[pg_temp.id('sd1')] THEN
		RAISE EXCEPTION 'the social care system sees other step downs';
	END IF;
	PERFORM pg_temp.act('coord');
	IF (SELECT array_agg(id ORDER BY id) FROM kw.step_downs)
	    IS DISTINCT FROM ARRAY[pg_temp.id('sd1'), pg_temp.id('sd2')] THEN
		RAISE EXCEPTION 'the East coordinator does not see exactly sd1 and sd2';
	END IF;
	PERFORM pg_temp.act('coordw');
	IF (SELECT array_agg(id) FROM kw.step_downs) IS DISTINCT FROM ARRAY[pg_temp.id('sd3')]
	    OR (SELECT array_agg(id) FROM kw.step_ups) IS DISTINCT FROM ARRAY[pg_temp.id('s2')] THEN
		RAISE EXCEPTION 'the West coordinator does not see exactly sd3 and s2';
	END IF;
END
$$;

------------------------------------------------------------------------------
-- Consent governs sharing. One transaction, statement by statement as the
-- server would run them; rolled back at the end. The keyworker records,
-- through kw.consents itself, that the family withdraws consent to share
-- with partner agency one (fullm's, and partner1's): from the very next
-- statement fullm and partner1 lose E1. fullb (agency three) and lim
-- (agency ff) keep theirs. A later written or review consent for agency
-- one gives it back.

BEGIN;

-- Before: fullm holds E1 in full, partner1 too (and E2's summary, through
-- lim2), fullb in full, lim its summary.
DO $$
BEGIN
	PERFORM pg_temp.act('fullm');
	PERFORM pg_temp.expect_case('full member of agency one before', 'episodes=1/0/0 '
	    'families=1/0/0 members=3/0/0 consents=2/0/0 team=3/0/0 notes=2/0/0 alerts=1/0/0');
	PERFORM pg_temp.act('partner1');
	PERFORM pg_temp.expect_case('partner one before', 'episodes=1/1/0 families=1/0/0 '
	    'members=3/0/0 consents=2/0/0 team=3/0/0 notes=2/0/0 alerts=0/0/0');
	PERFORM pg_temp.act('fullb');
	PERFORM pg_temp.expect_case('full member of agency three before', 'episodes=1/0/0 '
	    'families=1/0/0 members=3/0/0 consents=2/0/0 team=3/0/0 notes=2/0/0 alerts=0/0/0');
	PERFORM pg_temp.act('lim');
	PERFORM pg_temp.expect_case('limited member of agency ff before', 'episodes=1/0/0 '
	    'families=0/0/0 members=0/0/0 consents=0/0/0 team=1/0/0 notes=0/0/0 alerts=0/0/0');
END
$$;

-- The withdrawal; and in the very next statement, fullm sees none of E1.
DO $$
BEGIN
	PERFORM pg_temp.act('kw1');
	INSERT INTO kw.consents (episode_id, kind, agency_id, given_by, obtained_at, statement,
	    recorded_by)
	VALUES (pg_temp.id('e1'), 'withdrawal', pg_temp.id('agency_p1'), 'Pat Eastwood',
	    '2026-01-10 10:00:00+00', 'RLS 05: no more sharing with agency one.',
	    pg_temp.id('kw1'));
	PERFORM pg_temp.act('fullm');
	-- Their own team row stays readable (team_read admits a member's own
	-- place whatever the episode's state); the episode it names does not.
	PERFORM pg_temp.expect_case('full member of agency one after the withdrawal',
	    'episodes=0/0/0 families=0/0/0 members=0/0/0 consents=0/0/0 team=1/0/0 '
	    'notes=0/0/0 alerts=0/0/0');
END
$$;

DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	r record;
	n bigint;
	seen text[] := '{}';
	err text;
BEGIN
	PERFORM pg_temp.act('fullm');
	-- The one row left is their own place, and it carries no case content:
	-- across every relation with an episode_id, nothing else of E1.
	IF (SELECT array_agg(user_id) FROM kw.team_members) IS DISTINCT FROM
	    ARRAY[pg_temp.id('fullm')] THEN
		RAISE EXCEPTION 'a withdrawn member sees other team rows';
	END IF;
	FOR r IN SELECT c.oid::regclass AS rel, c.relname
	    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
		AND a.attname = 'episode_id' AND NOT a.attisdropped
	    WHERE c.relnamespace = 'kw'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
		AND has_column_privilege(c.oid, a.attnum, 'SELECT') LOOP
		EXECUTE format('SELECT count(*) FROM %s WHERE episode_id = $1', r.rel) INTO n
		USING e1;
		IF n <> (CASE r.relname WHEN 'team_members' THEN 1 ELSE 0 END) THEN
			RAISE EXCEPTION 'a withdrawn member sees % rows of E1 in %', n, r.rel;
		END IF;
		seen := seen || r.relname::text;
	END LOOP;
	-- The episode row itself and the family are checked by expect_case.
	IF NOT seen @> ARRAY['members', 'consents', 'team_members', 'notes', 'alerts',
	    'assessments', 'meetings', 'actions', 'documents', 'deadlines_v', 'transfers',
	    'step_ups', 'step_downs', 'closures'] THEN
		RAISE EXCEPTION 'not every relation with an episode_id was checked: only %', seen;
	END IF;
	IF e1 = ANY (kw.my_episodes(false)) OR e1 = ANY (kw.my_episodes(true))
	    OR kw.episode_access(e1) IS NOT NULL THEN
		RAISE EXCEPTION 'kw.my_episodes/kw.episode_access still give the withdrawn member E1';
	END IF;
	err := pg_temp.fails_with(format('SELECT kw.episode_out(%L)', e1), 'KW404');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'kw.episode_out for the withdrawn member %', err;
	END IF;
	err := pg_temp.fails_with(format('INSERT INTO kw.notes (episode_id, author_id, kind, body) '
	    'VALUES (%L, %L, %L, %L)', e1, pg_temp.id('fullm'), 'fact', 'no'), '42501');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'a note by the withdrawn member %', err;
	END IF;
	-- Through the operations, with their token: 404.
	err := pg_temp.fails_with(format('SELECT api.get_episode(%L, %L, %L, %L)',
	    'rls05-token-fullm', 'sql-test', 'local', e1), 'KW404');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'api.get_episode for the withdrawn member %', err;
	END IF;
	IF EXISTS (SELECT 1 FROM jsonb_array_elements(api.list_episodes('rls05-token-fullm',
	    'sql-test', 'local', 100, NULL, NULL, NULL, NULL, NULL, NULL)) x
	    WHERE (x->>'id')::uuid = e1) THEN
		RAISE EXCEPTION 'api.list_episodes still lists E1 to the withdrawn member';
	END IF;

	-- partner1 loses E1 too; E2 (through lim2, no withdrawal there) stays.
	PERFORM pg_temp.act('partner1');
	PERFORM pg_temp.expect_case('partner one after the withdrawal', 'episodes=0/1/0 '
	    'families=0/0/0 members=0/0/0 consents=0/0/0 team=0/0/0 notes=0/0/0 alerts=0/0/0');
	PERFORM pg_temp.expect_course('partner one after the withdrawal', 'transfers=0/0/0 '
	    'step_ups=0/0/0 closures=0/0/0 step_downs=0/0 transitions=18');
	IF e1 = ANY (kw.my_episodes(false)) THEN
		RAISE EXCEPTION 'kw.my_episodes still lists E1 for partner one';
	END IF;
	-- Agency three's full member and agency ff's limited member keep theirs.
	PERFORM pg_temp.act('fullb');
	PERFORM pg_temp.expect_case('full member of agency three after', 'episodes=1/0/0 '
	    'families=1/0/0 members=3/0/0 consents=3/0/0 team=3/0/0 notes=2/0/0 alerts=0/0/0');
	PERFORM pg_temp.act('lim');
	PERFORM pg_temp.expect_case('limited member of agency ff after', 'episodes=1/0/0 '
	    'families=0/0/0 members=0/0/0 consents=0/0/0 team=1/0/0 notes=0/0/0 alerts=0/0/0');
	PERFORM pg_temp.act('kw1');
	PERFORM pg_temp.expect_case('keyworker after the withdrawal', 'episodes=1/0/1 '
	    'families=1/0/1 members=3/0/1 consents=3/0/1 team=3/0/0 notes=2/0/0 alerts=1/0/0');
	-- The state is kept from the event.
	IF pg_temp.withdrawals() <> format('%s 2026-01-10 10:00', pg_temp.id('agency_p1')) THEN
		RAISE EXCEPTION 'kw.consent_withdrawals after the withdrawal: %', pg_temp.withdrawals();
	END IF;
END
$$;

-- A written consent for agency one gives it back, at once.
DO $$
BEGIN
	PERFORM pg_temp.act('kw1');
	INSERT INTO kw.consents (episode_id, kind, agency_id, given_by, obtained_at, recorded_by)
	VALUES (pg_temp.id('e1'), 'written', pg_temp.id('agency_p1'), 'Pat Eastwood',
	    '2026-01-20 10:00:00+00', pg_temp.id('kw1'));
	PERFORM pg_temp.act('fullm');
	PERFORM pg_temp.expect_case('full member after written consent again', 'episodes=1/0/0 '
	    'families=1/0/0 members=3/0/0 consents=4/0/0 team=3/0/0 notes=2/0/0 alerts=1/0/0');
	PERFORM pg_temp.act('partner1');
	PERFORM pg_temp.expect_case('partner one after written consent again', 'episodes=1/1/0 '
	    'families=1/0/0 members=3/0/0 consents=4/0/0 team=3/0/0 notes=2/0/0 alerts=0/0/0');
	IF pg_temp.withdrawals() <> '' THEN
		RAISE EXCEPTION 'kw.consent_withdrawals after written consent: %',
		    pg_temp.withdrawals();
	END IF;
END
$$;

-- Withdrawn again (since the new event), then a review gives it back.
DO $$
BEGIN
	PERFORM pg_temp.act('kw1');
	INSERT INTO kw.consents (episode_id, kind, agency_id, given_by, obtained_at, recorded_by)
	VALUES (pg_temp.id('e1'), 'withdrawal', pg_temp.id('agency_p1'), 'Pat Eastwood',
	    '2026-02-01 10:00:00+00', pg_temp.id('kw1'));
	IF pg_temp.withdrawals() <> format('%s 2026-02-01 10:00', pg_temp.id('agency_p1')) THEN
		RAISE EXCEPTION 'kw.consent_withdrawals after the second withdrawal: %',
		    pg_temp.withdrawals();
	END IF;
	PERFORM pg_temp.act('fullm');
	PERFORM pg_temp.expect_case('full member withdrawn again', 'episodes=0/0/0 '
	    'families=0/0/0 members=0/0/0 consents=0/0/0 team=1/0/0 notes=0/0/0 alerts=0/0/0');
	PERFORM pg_temp.act('kw1');
	INSERT INTO kw.consents (episode_id, kind, agency_id, given_by, obtained_at, recorded_by)
	VALUES (pg_temp.id('e1'), 'review', pg_temp.id('agency_p1'), 'Pat Eastwood',
	    '2026-02-15 10:00:00+00', pg_temp.id('kw1'));
	PERFORM pg_temp.act('fullm');
	PERFORM pg_temp.expect_case('full member after the review', 'episodes=1/0/0 '
	    'families=1/0/0 members=3/0/0 consents=6/0/0 team=3/0/0 notes=2/0/0 alerts=1/0/0');
	IF pg_temp.withdrawals() <> '' THEN
		RAISE EXCEPTION 'kw.consent_withdrawals after the review: %', pg_temp.withdrawals();
	END IF;
END
$$;

-- The history is all there, in order, and no one changes it through the
-- API role (no privilege), not even the keyworker.
DO $$
DECLARE
	q text;
	err text;
BEGIN
	PERFORM pg_temp.act('kw1');
	IF (SELECT string_agg(kind || coalesce('@' || CASE agency_id
	    WHEN pg_temp.id('agency_p1') THEN 'p1' END, ''), ',' ORDER BY created_at, obtained_at)
	    FROM kw.consents WHERE episode_id = pg_temp.id('e1'))
	    IS DISTINCT FROM 'verbal,written,withdrawal@p1,written@p1,withdrawal@p1,review@p1' THEN
		RAISE EXCEPTION 'the consent history of E1: %', (SELECT string_agg(kind, ','
		    ORDER BY created_at, obtained_at) FROM kw.consents
		    WHERE episode_id = pg_temp.id('e1'));
	END IF;
	FOREACH q IN ARRAY ARRAY[
	    format('UPDATE kw.consents SET kind = %L WHERE episode_id = %L', 'written',
		pg_temp.id('e1')),
	    format('DELETE FROM kw.consents WHERE episode_id = %L', pg_temp.id('e1')),
	    'TRUNCATE kw.consents'] LOOP
		err := pg_temp.fails_with(q, '42501');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'the keyworker: % %', q, err;
		END IF;
	END LOOP;
END
$$;

-- A withdrawal for the keyworker's own agency (ff): the keyworker is not
-- cut off. kw.my_episodes checks withdrawals on the team and partner arms
-- only, never on "keyworker_id = me"; nor do kw.my_reports and kw.my_areas
-- (docs/security.md: the keyworker, their manager and the area's
-- coordinator keep access). Agency ff's limited member and its partner
-- system lose E1; the partner keeps E3 (no withdrawal there).
DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
BEGIN
	PERFORM pg_temp.act('kw1');
	INSERT INTO kw.consents (episode_id, kind, agency_id, given_by, obtained_at, recorded_by)
	VALUES (e1, 'withdrawal', pg_temp.id('agency_ff'), 'Pat Eastwood',
	    '2026-03-01 10:00:00+00', pg_temp.id('kw1'));
	PERFORM pg_temp.act('kw1');
	PERFORM pg_temp.expect_case('keyworker after a withdrawal for their own agency',
	    'episodes=1/0/1 families=1/0/1 members=3/0/1 consents=7/0/1 team=3/0/0 notes=2/0/0 '
	    'alerts=1/0/0');
	IF NOT e1 = ANY (kw.my_episodes(true)) OR NOT kw.episode_writer(e1)
	    OR kw.episode_access(e1) <> 'full' THEN
		RAISE EXCEPTION 'the keyworker lost reach on E1 by a withdrawal for their agency';
	END IF;
	PERFORM pg_temp.act('mgr');
	PERFORM pg_temp.expect_case('manager (agency ff) after', 'episodes=1/0/1 '
	    'families=1/0/1 members=3/0/1 consents=7/0/1 team=3/0/0 notes=2/0/0 alerts=0/0/0');
	PERFORM pg_temp.act('coord');
	PERFORM pg_temp.expect_case('coordinator (agency ff) after', 'episodes=1/0/1 '
	    'families=1/0/1 members=3/0/1 consents=7/0/1 team=3/0/0 notes=2/0/0 alerts=0/0/0');
	PERFORM pg_temp.act('lim');
	PERFORM pg_temp.expect_case('limited member of agency ff after its withdrawal',
	    'episodes=0/0/0 families=0/0/0 members=0/0/0 consents=0/0/0 team=1/0/0 notes=0/0/0 '
	    'alerts=0/0/0');
	PERFORM pg_temp.act('partnerff');
	PERFORM pg_temp.expect_case('partner of agency ff after its withdrawal',
	    'episodes=0/0/1 families=0/0/1 members=0/0/1 consents=0/0/1 team=0/0/0 notes=0/0/0 '
	    'alerts=0/0/0');
	PERFORM pg_temp.expect_course('partner of agency ff after its withdrawal',
	    'transfers=0/0/0 step_ups=0/0/1 closures=0/0/1 step_downs=0/0 transitions=18');
	PERFORM pg_temp.act('fullm');
	PERFORM pg_temp.expect_case('full member of agency one, ff withdrawn', 'episodes=1/0/0 '
	    'families=1/0/0 members=3/0/0 consents=7/0/0 team=3/0/0 notes=2/0/0 alerts=1/0/0');
END
$$;

-- A withdrawal with no agency (the whole episode) changes no one's reach:
-- the trigger acts on consents that name an agency only. (The family
-- withdrawing altogether is a closure, reason consent_withdrawn.)
DO $$
BEGIN
	PERFORM pg_temp.act('kw1');
	INSERT INTO kw.consents (episode_id, kind, given_by, obtained_at, recorded_by)
	VALUES (pg_temp.id('e1'), 'withdrawal', 'Pat Eastwood', '2026-03-02 10:00:00+00',
	    pg_temp.id('kw1'));
	IF pg_temp.withdrawals() <> format('%s 2026-03-01 10:00', pg_temp.id('agency_ff')) THEN
		RAISE EXCEPTION 'kw.consent_withdrawals after a whole-episode withdrawal: %',
		    pg_temp.withdrawals();
	END IF;
	PERFORM pg_temp.act('fullb');
	PERFORM pg_temp.expect_case('agency three after a whole-episode withdrawal',
	    'episodes=1/0/0 families=1/0/0 members=3/0/0 consents=8/0/0 team=3/0/0 notes=2/0/0 '
	    'alerts=0/0/0');
END
$$;

-- The family's latest word is the event obtained last, whenever it was
-- recorded. A consent recorded late but obtained before the withdrawal
-- (paperwork signed on 1 March, the family withdrew on 5 March, the form
-- filed on the 6th) does not give the agency its access back: the
-- withdrawal stands, since 5 March.
DO $$
BEGIN
	PERFORM pg_temp.act('kw1');
	INSERT INTO kw.consents (episode_id, kind, agency_id, given_by, obtained_at, recorded_by)
	VALUES (pg_temp.id('e1'), 'withdrawal', pg_temp.id('agency_p1'), 'Pat Eastwood',
	    '2026-03-05 10:00:00+00', pg_temp.id('kw1'));
	INSERT INTO kw.consents (episode_id, kind, agency_id, given_by, obtained_at, recorded_by)
	VALUES (pg_temp.id('e1'), 'written', pg_temp.id('agency_p1'), 'Pat Eastwood',
	    '2026-03-01 09:00:00+00', pg_temp.id('kw1'));
	PERFORM pg_temp.act('fullm');
	PERFORM pg_temp.expect_case('full member after an older consent recorded late',
	    'episodes=0/0/0 families=0/0/0 members=0/0/0 consents=0/0/0 team=1/0/0 notes=0/0/0 '
	    'alerts=0/0/0');
	PERFORM pg_temp.act('partner1');
	IF EXISTS (SELECT 1 FROM kw.episodes WHERE id = pg_temp.id('e1')) THEN
		RAISE EXCEPTION 'an older consent recorded late gave partner one E1 back';
	END IF;
	IF pg_temp.withdrawals() <> format('%s 2026-03-05 10:00, %s 2026-03-01 10:00',
	    pg_temp.id('agency_p1'), pg_temp.id('agency_ff')) THEN
		RAISE EXCEPTION 'kw.consent_withdrawals after an older consent recorded late: %',
		    pg_temp.withdrawals();
	END IF;
END
$$;

-- And the other way about: a review obtained on 10 March gives agency one
-- its access back; a withdrawal obtained on 8 March, recorded after it,
-- does not take it away again (the review is the later word).
DO $$
BEGIN
	PERFORM pg_temp.act('kw1');
	INSERT INTO kw.consents (episode_id, kind, agency_id, given_by, obtained_at, recorded_by)
	VALUES (pg_temp.id('e1'), 'review', pg_temp.id('agency_p1'), 'Pat Eastwood',
	    '2026-03-10 10:00:00+00', pg_temp.id('kw1'));
	IF pg_temp.withdrawals() <> format('%s 2026-03-01 10:00', pg_temp.id('agency_ff')) THEN
		RAISE EXCEPTION 'kw.consent_withdrawals after the review of 10 March: %',
		    pg_temp.withdrawals();
	END IF;
	INSERT INTO kw.consents (episode_id, kind, agency_id, given_by, obtained_at, recorded_by)
	VALUES (pg_temp.id('e1'), 'withdrawal', pg_temp.id('agency_p1'), 'Pat Eastwood',
	    '2026-03-08 10:00:00+00', pg_temp.id('kw1'));
	IF pg_temp.withdrawals() <> format('%s 2026-03-01 10:00', pg_temp.id('agency_ff')) THEN
		RAISE EXCEPTION 'kw.consent_withdrawals after an older withdrawal recorded late: %',
		    pg_temp.withdrawals();
	END IF;
	PERFORM pg_temp.act('fullm');
	IF NOT EXISTS (SELECT 1 FROM kw.episodes WHERE id = pg_temp.id('e1')) THEN
		RAISE EXCEPTION 'an older withdrawal recorded late took E1 from agency one';
	END IF;
END
$$;

ROLLBACK;

-- Rolled back: the consents and the sharing are as they were.
DO $$
BEGIN
	PERFORM pg_temp.act('fullm');
	PERFORM pg_temp.expect_case('full member after the rollback', 'episodes=1/0/0 '
	    'families=1/0/0 members=3/0/0 consents=2/0/0 team=3/0/0 notes=2/0/0 alerts=1/0/0');
	IF pg_temp.withdrawals() <> '' THEN
		RAISE EXCEPTION 'withdrawals left after the rollback: %', pg_temp.withdrawals();
	END IF;
END
$$;

------------------------------------------------------------------------------
-- The state machine, as the API role. The keyworker moves E1 along allowed
-- transitions directly (0005 and 0008 grant status and closed_at); every
-- other move is refused with KW409 by the trigger, whichever statement
-- tries it. A closed episode is read-only but for reopening. Undone.

DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	upd text := 'UPDATE kw.episodes SET %s WHERE id = %L';
	err text;
	q text;
	c record;
BEGIN
	PERFORM pg_temp.act('kw1');
	-- From registered: not to stepped_up (a step up is requested, then
	-- accepted), nor to a state that is not one (the trigger answers
	-- before the CHECK).
	FOREACH q IN ARRAY ARRAY['status = ''stepped_up''', 'status = ''bogus''',
	    'status = ''stepped_up'', closed_at = NULL'] LOOP
		err := pg_temp.fails_with(format(upd, q, e1), 'KW409');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'E1 registered, the keyworker setting % %', q, err;
		END IF;
	END LOOP;
	BEGIN
		FOR c IN SELECT * FROM (VALUES
		    -- (set, expected: 'ok' or the SQLSTATE)
		    ('status = ''assessed''', 'ok'),
		    ('status = ''registered''', 'KW409'),
		    ('status = ''plan_in_place''', 'ok'),
		    ('status = ''registered''', 'KW409'),
		    ('status = ''assessed''', 'KW409'),
		    ('status = ''stepped_up''', 'KW409'),
		    ('status = ''closed'', closed_at = now()', 'ok'),
		    -- Closed: read-only, whatever the column, even a no-op.
		    ('family_name = ''Changed''', 'KW409'),
		    ('lead_agency_id = lead_agency_id', 'KW409'),
		    ('closed_at = now()', 'KW409'),
		    ('assessment_completed_at = now()', 'KW409'),
		    ('version = version + 1', 'KW409'),
		    ('status = ''closed''', 'KW409'),
		    ('status = ''stepped_up'', closed_at = NULL', 'KW409'),
		    ('status = ''step_up_requested'', closed_at = NULL', 'KW409'),
		    -- Reopening is the one way out.
		    ('status = ''plan_in_place'', closed_at = NULL', 'ok'),
		    ('family_name = ''Eastwood'', version = version + 1', 'ok'),
		    ('status = ''step_up_requested''', 'ok'),
		    ('status = ''plan_in_place''', 'ok')
		    ) AS v (set, expected) LOOP
			IF c.expected = 'ok' THEN
				IF pg_temp.changes(format(upd, c.set, e1)) <> 1 THEN
					RAISE EXCEPTION 'the keyworker could not set % (now %)', c.set,
					    pg_temp.status_of('e1');
				END IF;
			ELSE
				err := pg_temp.fails_with(format(upd, c.set, e1), c.expected);
				IF err IS NOT NULL THEN
					RAISE EXCEPTION 'E1 % , the keyworker setting % %',
					    pg_temp.status_of('e1'), c.set, err;
				END IF;
			END IF;
		END LOOP;
		IF pg_temp.status_of('e1') <> 'plan_in_place' THEN
			RAISE EXCEPTION 'E1 ended the walk as %', pg_temp.status_of('e1');
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
	IF pg_temp.status_of('e1') <> 'registered' THEN
		RAISE EXCEPTION 'E1 was not restored';
	END IF;
END
$$;

-- E3, closed: every change refused but reopening, which the keyworker (or
-- their manager) may do directly. Undone.
DO $$
DECLARE
	e3 uuid := pg_temp.id('e3');
	upd text := 'UPDATE kw.episodes SET %s WHERE id = %L';
	q text;
	who text;
	err text;
BEGIN
	FOREACH who IN ARRAY ARRAY['kw1', 'mgr'] LOOP
		PERFORM pg_temp.act(who);
		FOREACH q IN ARRAY ARRAY['family_name = ''Changed''',
		    'closed_at = now()', 'status = ''closed''',
		    'status = ''stepped_up'', closed_at = NULL',
		    'status = ''step_up_requested'', closed_at = NULL',
		    'first_taf_meeting_held_at = now()', 'updated_at = now()'] LOOP
			err := pg_temp.fails_with(format(upd, q, e3), 'KW409');
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'E3 closed, % setting % %', who, q, err;
			END IF;
		END LOOP;
		BEGIN
			IF pg_temp.changes(format(upd, 'status = ''assessed'', closed_at = NULL', e3))
			    <> 1 OR pg_temp.status_of('e3') <> 'assessed' THEN
				RAISE EXCEPTION '% could not reopen E3', who;
			END IF;
			RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
		EXCEPTION WHEN SQLSTATE 'KWT01' THEN
			NULL;
		END;
	END LOOP;
	IF pg_temp.status_of('e3') <> 'closed' THEN
		RAISE EXCEPTION 'E3 was not restored';
	END IF;
END
$$;

-- The keyworker is changed only by a transfer: the API role has no
-- privilege on keyworker_id (42501), so no one sets it directly, not to
-- someone else, not to NULL, not even the keyworker or their manager (the
-- episodes_change policy alone would let them name themselves). And no
-- one but the keyworker and their manager changes the status at all: for
-- everyone else the row is out of reach (0 rows).
DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	who text;
	q text;
	err text;
BEGIN
	FOREACH who IN ARRAY ARRAY['kw1', 'mgr', 'coord', 'newkw', 'fullm'] LOOP
		PERFORM pg_temp.act(who);
		FOREACH q IN ARRAY ARRAY[
		    format('UPDATE kw.episodes SET keyworker_id = %L WHERE id = %L',
			pg_temp.id('newkw'), e1),
		    format('UPDATE kw.episodes SET keyworker_id = NULL WHERE id = %L', e1),
		    format('UPDATE kw.episodes SET keyworker_id = keyworker_id WHERE id = %L', e1),
		    format('UPDATE kw.episodes SET area_id = %L WHERE id = %L',
			pg_temp.id('area_west'), e1)] LOOP
			err := pg_temp.fails_with(q, '42501');
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'as %: % %', who, q, err;
			END IF;
		END LOOP;
	END LOOP;
	FOREACH who IN ARRAY ARRAY['fullm', 'fullb', 'lim', 'coord', 'coordw', 'newkw',
	    'stranger', 'admin', 'lim2', 'partner1', 'partner2', 'partnerff', 'nobody'] LOOP
		PERFORM pg_temp.act(who);
		FOREACH q IN ARRAY ARRAY[
		    format('UPDATE kw.episodes SET status = %L WHERE id = %L', 'assessed', e1),
		    format('UPDATE kw.episodes SET status = %L, closed_at = now() WHERE id = %L',
			'closed', e1),
		    format('UPDATE kw.episodes SET status = %L, closed_at = NULL WHERE id = %L',
			'registered', pg_temp.id('e3')),
		    format('UPDATE kw.episodes SET status = %L WHERE id = %L', 'stepped_up',
			pg_temp.id('e2'))] LOOP
			err := pg_temp.no_effect(q);
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'as %: % %', who, q, err;
			END IF;
		END LOOP;
	END LOOP;
END
$$;

-- Known limit: the status grant (0005) lets the keyworker or their manager
-- set an allowed status directly, around the operations. E2 has a step up
-- pending (s2), which the West coordinator decides through
-- kw.step_up_decide; kw2 sets E2 to stepped_up directly, and s2 stays
-- pending. In the same way the keyworker may close without a closure
-- record (nor are pending step ups withdrawn), or reopen past reopen_days
-- or after a transfer out of county. The state machine still holds: only
-- the allowed transitions are made, whoever makes them, and stepped_up
-- leads only to closed. The operations (api.close_episode,
-- api.reopen_episode, kw.step_up_decide), not the grant, enforce the
-- closure record, the reopen period and the coordinator's decision.
-- Undone.
DO $$
DECLARE
	n bigint;
	st text;
	err text;
	closures text := format('SELECT count(*) FROM kw.closures WHERE episode_id = %L',
	    current_setting('kwtest.e2'));
BEGIN
	BEGIN
		PERFORM pg_temp.act('kw2');
		n := pg_temp.changes(format('UPDATE kw.episodes SET status = %L WHERE id = %L',
		    'stepped_up', pg_temp.id('e2')));
		IF n <> 1 OR pg_temp.status_of('e2') <> 'stepped_up'
		    OR (SELECT status FROM kw.step_ups WHERE id = pg_temp.id('s2')) <> 'pending' THEN
			RAISE EXCEPTION 'the keyworker setting stepped_up directly: % rows, E2 %, s2 %',
			    n, pg_temp.status_of('e2'), (SELECT status FROM kw.step_ups
				WHERE id = pg_temp.id('s2'));
		END IF;
		-- The state machine still holds: no way back from stepped_up.
		FOREACH st IN ARRAY ARRAY['registered', 'plan_in_place', 'step_up_requested'] LOOP
			err := pg_temp.fails_with(format('UPDATE kw.episodes SET status = %L WHERE id = %L',
			    st, pg_temp.id('e2')), 'KW409');
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'E2 stepped up, the keyworker going back %', err;
			END IF;
		END LOOP;
		-- Closed directly: no closure record.
		n := pg_temp.changes(format('UPDATE kw.episodes SET status = %L, closed_at = now() '
		    'WHERE id = %L', 'closed', pg_temp.id('e2')));
		IF n <> 1 OR pg_temp.status_of('e2') <> 'closed' OR pg_temp.as_owner(closures) <> '0'
		THEN
			RAISE EXCEPTION 'the keyworker closing E2 directly: % rows, E2 %, % closures', n,
			    pg_temp.status_of('e2'), pg_temp.as_owner(closures);
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
	IF pg_temp.status_of('e2') <> 'step_up_requested' THEN
		RAISE EXCEPTION 'E2 was not restored';
	END IF;
END
$$;

------------------------------------------------------------------------------
-- Transfers. One open transfer per episode: a second is refused by the
-- unique index (23505) if inserted directly, by the operation (KW409)
-- through the API. Only the keyworker and their manager propose, as
-- themselves (42501). Undone.

DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	ins text := 'INSERT INTO kw.transfers (episode_id, kind, reason, from_keyworker_id, '
	    'to_keyworker_id, family_told_at, changeover_on, proposed_by) '
	    'VALUES (%L, %L, %L, %L, %L, now(), kw.today() + 7, %L)';
	err text;
	c record;
BEGIN
	PERFORM pg_temp.act('kw1');
	err := pg_temp.fails_with(format(ins, e1, 'in_county', 'other', pg_temp.id('kw1'),
	    pg_temp.id('fullb'), pg_temp.id('kw1')), '23505');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'a second open transfer of E1 %', err;
	END IF;
	PERFORM pg_temp.act('mgr');
	err := pg_temp.fails_with(format(ins, e1, 'in_county', 'other', pg_temp.id('kw1'),
	    pg_temp.id('fullb'), pg_temp.id('mgr')), '23505');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'a second open transfer of E1 by the manager %', err;
	END IF;
	FOR c IN SELECT * FROM (VALUES ('fullm', 'fullm'), ('coord', 'coord'),
	    ('newkw', 'newkw'), ('stranger', 'stranger'), ('lim2', 'lim2'),
	    ('coordw', 'coordw'), ('kw1', 'mgr'),
	    ('partnerff', 'kw1'), ('nobody', 'kw1')) AS v (usr, proposer) LOOP
		PERFORM pg_temp.act(c.usr);
		-- E2 has no open transfer: only the policy stands in the way.
		err := pg_temp.fails_with(format(ins, pg_temp.id('e2'), 'in_county', 'other',
		    pg_temp.id('kw2'), pg_temp.id('lim2'), pg_temp.id(c.proposer)), '42501');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'a transfer of E2 by % as % %', c.usr, c.proposer, err;
		END IF;
	END LOOP;
	BEGIN
		-- Through the operation, after the consent review it asks for.
		PERFORM pg_temp.act('kw1');
		INSERT INTO kw.consents (episode_id, kind, given_by, obtained_at, recorded_by)
		VALUES (e1, 'review', 'Pat Eastwood', now() - interval '1 day', pg_temp.id('kw1'));
		err := pg_temp.fails_with(format('SELECT api.propose_transfer(%L, %L, %L, %L, %L)',
		    'rls05-token-kw1', 'sql-test', 'local', e1, jsonb_build_object(
			'kind', 'in_county', 'reason', 'other', 'to_keyworker_id', pg_temp.id('fullb'),
			'family_told_at', now() - interval '1 hour', 'changeover_on', kw.today() + 7)),
		    'KW409');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'api.propose_transfer with t2 open %', err;
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

-- Deciding and completing t2 (E1 to newkw, proposed): for a caller who
-- cannot see the transfer, 404 (the transfer does not exist for them),
-- partner systems of other agencies and no identity among them; for one
-- who sees it but may not act, 403, a partner system that reads E1's
-- transfers too (no user is ever the proposed keyworker); for the
-- keyworker or manager before it is accepted, 422. Nothing changes.
DO $$
DECLARE
	c record;
	err text;
BEGIN
	FOR c IN SELECT * FROM (VALUES
	    ('stranger', 'KW404', 'KW404'), ('lim', 'KW404', 'KW404'), ('lim2', 'KW404', 'KW404'),
	    ('coordw', 'KW404', 'KW404'), ('admin', 'KW404', 'KW404'), ('kw2', 'KW404', 'KW404'),
	    ('partner2', 'KW404', 'KW404'), ('partnersc', 'KW404', 'KW404'),
	    ('nobody', 'KW404', 'KW404'),
	    ('fullm', 'KW403', 'KW403'), ('fullb', 'KW403', 'KW403'), ('coord', 'KW403', 'KW403'),
	    ('partner1', 'KW403', 'KW403'), ('partnerff', 'KW403', 'KW403'),
	    ('kw1', 'KW403', 'KW422'), ('mgr', 'KW403', 'KW422'),
	    -- The proposed keyworker completes too, once accepted.
	    ('newkw', NULL, 'KW422')
	    ) AS v (usr, decide, complete) LOOP
		PERFORM pg_temp.act(c.usr);
		IF c.decide IS NOT NULL THEN
			FOREACH err IN ARRAY ARRAY['true', 'false'] LOOP
				err := pg_temp.fails_with(format('SELECT kw.transfer_decide(%L, %s, NULL)',
				    pg_temp.id('t2'), err), c.decide);
				IF err IS NOT NULL THEN
					RAISE EXCEPTION 'kw.transfer_decide(t2) by % %', c.usr, err;
				END IF;
			END LOOP;
		END IF;
		err := pg_temp.fails_with(format('SELECT kw.transfer_complete(%L)', pg_temp.id('t2')),
		    c.complete);
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'kw.transfer_complete(t2) by % %', c.usr, err;
		END IF;
		-- A transfer that does not exist: 404 for everyone.
		err := pg_temp.fails_with(format('SELECT kw.transfer_decide(%L, true, NULL)',
		    gen_random_uuid()), 'KW404');
		IF err IS NULL THEN
			err := pg_temp.fails_with(format('SELECT kw.transfer_complete(%L)',
			    gen_random_uuid()), 'KW404');
		END IF;
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'an unknown transfer for % %', c.usr, err;
		END IF;
	END LOOP;
	-- Through the operations too, with a token.
	err := pg_temp.fails_with(format('SELECT api.accept_transfer(%L, %L, %L, %L, %L)',
	    'rls05-token-stranger', 'sql-test', 'local', pg_temp.id('t2'), '{}'), 'KW404');
	IF err IS NULL THEN
		err := pg_temp.fails_with(format('SELECT api.complete_transfer(%L, %L, %L, %L)',
		    'rls05-token-coordw', 'sql-test', 'local', pg_temp.id('t2')), 'KW404');
	END IF;
	IF err IS NULL THEN
		err := pg_temp.fails_with(format('SELECT api.list_transfers(%L, %L, %L, %L, 50, '
		    'NULL, NULL)', 'rls05-token-stranger', 'sql-test', 'local', pg_temp.id('e1')),
		    'KW404');
	END IF;
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'the transfer operations for a caller without reach %', err;
	END IF;
	-- Decided already: 409, even for the one it was proposed to.
	PERFORM pg_temp.act('kw1');
	err := pg_temp.fails_with(format('SELECT kw.transfer_decide(%L, true, NULL)',
	    pg_temp.id('t3')), 'KW409');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'kw.transfer_decide(t3, declined) by kw1 %', err;
	END IF;
	err := pg_temp.fails_with(format('SELECT kw.transfer_complete(%L)', pg_temp.id('t1')),
	    'KW422');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'kw.transfer_complete(t1, declined) by kw1 %', err;
	END IF;
	IF pg_temp.keyworker_of('e1') <> pg_temp.id('kw1')
	    OR pg_temp.as_owner(format('SELECT status FROM kw.transfers WHERE id = %L',
		pg_temp.id('t2'))) <> 'proposed' THEN
		RAISE EXCEPTION 'a refused call changed E1 or t2';
	END IF;
END
$$;

-- The changeover, end to end with tokens: newkw accepts, kw1 completes.
-- The keyworker changes at once and in one step: newkw holds E1 in full,
-- kw1 stays on the team at full level (keep_former_on_team), kw1's manager
-- loses E1 (newkw has none). Undone.
DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	j jsonb;
	err text;
BEGIN
	BEGIN
		j := api.accept_transfer('rls05-token-newkw', 'sql-test', 'local', pg_temp.id('t2'),
		    '{"note": "RLS 05: glad to."}');
		IF j->>'status' <> 'accepted' OR j->>'note' <> 'RLS 05: glad to.' THEN
			RAISE EXCEPTION 'api.accept_transfer by the proposed keyworker: %', j;
		END IF;
		-- Accepted is not yet changed over: newkw still sees nothing of E1.
		PERFORM pg_temp.act('newkw');
		IF EXISTS (SELECT 1 FROM kw.episodes WHERE id = e1) THEN
			RAISE EXCEPTION 'the new keyworker sees E1 before the changeover';
		END IF;
		err := pg_temp.fails_with(format('SELECT api.accept_transfer(%L, %L, %L, %L, %L)',
		    'rls05-token-newkw', 'sql-test', 'local', pg_temp.id('t2'), '{}'), 'KW409');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'accepting t2 twice %', err;
		END IF;

		j := api.complete_transfer('rls05-token-kw1', 'sql-test', 'local', pg_temp.id('t2'));
		IF j->>'status' <> 'completed' OR j->>'completed_at' IS NULL THEN
			RAISE EXCEPTION 'api.complete_transfer by the keyworker: %', j;
		END IF;
		IF pg_temp.keyworker_of('e1') <> pg_temp.id('newkw') THEN
			RAISE EXCEPTION 'E1''s keyworker after the changeover is %',
			    pg_temp.keyworker_of('e1');
		END IF;
		PERFORM pg_temp.act('newkw');
		PERFORM pg_temp.expect_case('the new keyworker after the changeover',
		    'episodes=1/0/0 families=1/0/0 members=3/0/0 consents=2/0/0 team=4/0/0 '
		    'notes=2/0/0 alerts=0/0/0');
		IF NOT kw.episode_writer(e1) THEN
			RAISE EXCEPTION 'the new keyworker may not write E1';
		END IF;
		PERFORM pg_temp.act('kw1');
		IF (SELECT level FROM kw.team_members WHERE episode_id = e1
		    AND user_id = pg_temp.id('kw1')) IS DISTINCT FROM 'full'
		    OR kw.episode_writer(e1) OR kw.episode_access(e1) <> 'full' THEN
			RAISE EXCEPTION 'the former keyworker is not a full member only';
		END IF;
		IF pg_temp.changes(format('UPDATE kw.episodes SET status = %L WHERE id = %L',
		    'assessed', e1)) <> 0 THEN
			RAISE EXCEPTION 'the former keyworker still changes E1';
		END IF;
		PERFORM pg_temp.act('mgr');
		IF EXISTS (SELECT 1 FROM kw.episodes WHERE id = e1) THEN
			RAISE EXCEPTION 'kw1''s manager still sees E1 after the changeover';
		END IF;
		-- Done: a second changeover is refused.
		err := pg_temp.fails_with(format('SELECT api.complete_transfer(%L, %L, %L, %L)',
		    'rls05-token-newkw', 'sql-test', 'local', pg_temp.id('t2')), 'KW422');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'completing t2 twice %', err;
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
	IF pg_temp.keyworker_of('e1') <> pg_temp.id('kw1') THEN
		RAISE EXCEPTION 'E1''s keyworker was not restored';
	END IF;
END
$$;

-- Reach is tested with no NULL let through: the caller's id is NULL for a
-- partner system or no identity, the new keyworker for a transfer out of
-- county, and neither opens a transfer to anyone. Once t2 is accepted,
-- only the keyworker, their manager and the new keyworker complete it:
-- 404 for those who cannot see it, 403 for those who see it (a partner
-- system of the keyworker's agency among them), through the operations
-- too. And the new keyworker must still be an active practitioner at the
-- changeover (422 keyworker_is_practitioner). Undone.
DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	t2 uuid := pg_temp.id('t2');
	c record;
	who text;
	err text;
BEGIN
	BEGIN
		err := pg_temp.fails_with(format('SELECT api.accept_transfer(%L, %L, %L, %L, %L)',
		    'rls05-key-partnerff', 'sql-test', 'local', t2, '{}'), 'KW403');
		IF err IS NULL THEN
			err := pg_temp.fails_with(format('SELECT api.decline_transfer(%L, %L, %L, %L, '
			    '%L)', 'rls05-key-partnerff', 'sql-test', 'local', t2, '{}'), 'KW403');
		END IF;
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'a partner system deciding t2 through the operations %', err;
		END IF;
		PERFORM pg_temp.act('newkw');
		PERFORM kw.transfer_decide(t2, true, NULL);
		FOR c IN SELECT * FROM (VALUES
		    ('stranger', 'KW404'), ('lim', 'KW404'), ('lim2', 'KW404'), ('coordw', 'KW404'),
		    ('admin', 'KW404'), ('kw2', 'KW404'), ('partner2', 'KW404'),
		    ('partnersc', 'KW404'), ('nobody', 'KW404'),
		    ('fullm', 'KW403'), ('fullb', 'KW403'), ('coord', 'KW403'),
		    ('partner1', 'KW403'), ('partnerff', 'KW403')) AS v (usr, expected) LOOP
			PERFORM pg_temp.act(c.usr);
			err := pg_temp.fails_with(format('SELECT kw.transfer_complete(%L)', t2),
			    c.expected);
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'kw.transfer_complete(t2, accepted) by % %', c.usr, err;
			END IF;
		END LOOP;
		err := pg_temp.fails_with(format('SELECT api.complete_transfer(%L, %L, %L, %L)',
		    'rls05-key-partnerff', 'sql-test', 'local', t2), 'KW403');
		IF err IS NULL THEN
			err := pg_temp.fails_with(format('SELECT api.complete_transfer(%L, %L, %L, %L)',
			    'rls05-key-partner2', 'sql-test', 'local', t2), 'KW404');
		END IF;
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'a partner system completing t2 through the operation %', err;
		END IF;
		IF pg_temp.keyworker_of('e1') <> pg_temp.id('kw1')
		    OR pg_temp.as_owner(format('SELECT status FROM kw.transfers WHERE id = %L', t2))
			<> 'accepted'
		    OR pg_temp.as_owner(format('SELECT count(*) FROM kw.team_members '
			'WHERE episode_id = %L', e1)) <> '3' THEN
			RAISE EXCEPTION 'a refused completion changed E1, t2 or the team';
		END IF;

		-- The new keyworker left, or is no longer a practitioner: 422, for
		-- the keyworker and the manager alike.
		PERFORM pg_temp.as_owner(format('UPDATE kw.users SET active = false WHERE id = %L '
		    'RETURNING id', pg_temp.id('newkw')));
		FOREACH who IN ARRAY ARRAY['kw1', 'mgr'] LOOP
			PERFORM pg_temp.act(who);
			err := pg_temp.fails_rule(format('SELECT kw.transfer_complete(%L)', t2),
			    'keyworker_is_practitioner');
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'completing t2 to an inactive keyworker, as % %', who, err;
			END IF;
		END LOOP;
		PERFORM pg_temp.as_owner(format('UPDATE kw.users SET active = true, '
		    'roles = ARRAY[%L] WHERE id = %L RETURNING id', 'coordinator',
		    pg_temp.id('newkw')));
		PERFORM pg_temp.act('kw1');
		err := pg_temp.fails_rule(format('SELECT kw.transfer_complete(%L)', t2),
		    'keyworker_is_practitioner');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'completing t2 to a keyworker no longer a practitioner %', err;
		END IF;
		IF pg_temp.keyworker_of('e1') <> pg_temp.id('kw1')
		    OR pg_temp.as_owner(format('SELECT status FROM kw.transfers WHERE id = %L', t2))
			<> 'accepted' THEN
			RAISE EXCEPTION 'a refused changeover changed E1 or t2';
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
	IF pg_temp.as_owner(format('SELECT active AND roles = ARRAY[%L] FROM kw.users '
	    'WHERE id = %L', 'practitioner', pg_temp.id('newkw'))) <> 'true' THEN
		RAISE EXCEPTION 'newkw was not restored';
	END IF;
END
$$;

-- No identity decides or completes nothing: newkw declines t2, kw1 proposes
-- t5 to newkw (the former keyworker not kept on the team). With no identity
-- it is 404 to decide it and, once newkw accepts it, 404 to complete it; a
-- partner system of another agency gets 404, the keyworker's agency's 403.
-- newkw completes it: E1 is theirs, kw1 off the team. Undone.
DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	c record;
	err text;
	t5 uuid;
BEGIN
	BEGIN
		PERFORM pg_temp.act('newkw');
		PERFORM kw.transfer_decide(pg_temp.id('t2'), false, NULL);
		PERFORM pg_temp.act('kw1');
		INSERT INTO kw.transfers (episode_id, kind, reason, from_keyworker_id,
		    to_keyworker_id, family_told_at, changeover_on, keep_former_on_team,
		    proposed_by)
		VALUES (e1, 'in_county', 'other', pg_temp.id('kw1'), pg_temp.id('newkw'),
		    now() - interval '1 hour', kw.today(), false, pg_temp.id('kw1'))
		RETURNING id INTO t5;
		PERFORM pg_temp.act_as_nobody();
		FOREACH err IN ARRAY ARRAY['true', 'false'] LOOP
			err := pg_temp.fails_with(format('SELECT kw.transfer_decide(%L, %s, NULL)', t5,
			    err), 'KW404');
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'kw.transfer_decide(t5) with no identity %', err;
			END IF;
		END LOOP;
		PERFORM pg_temp.act('newkw');
		PERFORM kw.transfer_decide(t5, true, NULL);
		FOR c IN SELECT * FROM (VALUES ('nobody', 'KW404'), ('partner2', 'KW404'),
		    ('partnerff', 'KW403')) AS v (usr, expected) LOOP
			PERFORM pg_temp.act(c.usr);
			err := pg_temp.fails_with(format('SELECT kw.transfer_complete(%L)', t5),
			    c.expected);
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'kw.transfer_complete(t5) by % %', c.usr, err;
			END IF;
		END LOOP;
		IF pg_temp.keyworker_of('e1') <> pg_temp.id('kw1') THEN
			RAISE EXCEPTION 'a refused completion of t5 changed E1''s keyworker';
		END IF;
		PERFORM pg_temp.act('newkw');
		IF (kw.transfer_complete(t5)).status <> 'completed'
		    OR pg_temp.keyworker_of('e1') <> pg_temp.id('newkw')
		    OR pg_temp.as_owner(format('SELECT count(*) FROM kw.team_members '
			'WHERE episode_id = %L AND user_id = %L', e1, pg_temp.id('kw1'))) <> '0' THEN
			RAISE EXCEPTION 'newkw completing t5: E1''s keyworker is %',
			    pg_temp.keyworker_of('e1');
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
	IF pg_temp.keyworker_of('e1') <> pg_temp.id('kw1') THEN
		RAISE EXCEPTION 'E1''s keyworker was not restored';
	END IF;
END
$$;

-- Out of county (t6: no new keyworker): only the keyworker or their
-- manager records the receiving authority's decision and completes it; a
-- stranger or the West coordinator (who cannot see it) get 404, those who
-- see E1 403. Completed by the manager, it closes E1 as transferred out
-- and withdraws the step up pending on E1, which the coordinator can no
-- longer decide. Undone.
DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	c record;
	err text;
	t6 uuid;
	s4 uuid;
	s kw.step_ups;
BEGIN
	BEGIN
		PERFORM pg_temp.act('newkw');
		PERFORM kw.transfer_decide(pg_temp.id('t2'), false, NULL);
		PERFORM pg_temp.act('kw1');
		INSERT INTO kw.step_ups (episode_id, area_id, unmet_needs, what_was_tried,
		    more_within_resources, impact_so_far, evidence_higher_level, advice_sought,
		    requested_by)
		VALUES (e1, pg_temp.id('area_east'), 'RLS 05: needs.', 'RLS 05: tried.',
		    'RLS 05: no.', 'RLS 05: little.', 'RLS 05: evidence.', 'RLS 05: advice.',
		    pg_temp.id('kw1'))
		RETURNING id INTO s4;
		UPDATE kw.episodes SET status = 'step_up_requested' WHERE id = e1;
		INSERT INTO kw.transfers (episode_id, kind, reason, from_keyworker_id,
		    receiving_authority, family_told_at, changeover_on, proposed_by)
		VALUES (e1, 'out_of_county', 'moving_out_of_county', pg_temp.id('kw1'),
		    'Southshire County Council', now() - interval '1 hour', kw.today(),
		    pg_temp.id('kw1'))
		RETURNING id INTO t6;
		PERFORM pg_temp.act('stranger');
		IF EXISTS (SELECT 1 FROM kw.transfers WHERE id = t6) THEN
			RAISE EXCEPTION 'the stranger sees t6: the check proves nothing';
		END IF;
		FOR c IN SELECT * FROM (VALUES ('stranger', 'KW404'), ('coordw', 'KW404'),
		    ('newkw', 'KW404'), ('admin', 'KW404'), ('partner2', 'KW404'), ('nobody', 'KW404'),
		    ('coord', 'KW403'), ('fullm', 'KW403'), ('partnerff', 'KW403')
		    ) AS v (usr, expected) LOOP
			PERFORM pg_temp.act(c.usr);
			err := pg_temp.fails_with(format('SELECT kw.transfer_decide(%L, true, NULL)', t6),
			    c.expected);
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'kw.transfer_decide(t6) by % %', c.usr, err;
			END IF;
		END LOOP;
		PERFORM pg_temp.act('kw1');
		PERFORM kw.transfer_decide(t6, true, 'RLS 05: Southshire agreed.');
		FOR c IN SELECT * FROM (VALUES ('stranger', 'KW404'), ('coordw', 'KW404'),
		    ('newkw', 'KW404'), ('admin', 'KW404'), ('partner2', 'KW404'), ('nobody', 'KW404'),
		    ('coord', 'KW403'), ('fullm', 'KW403'), ('partnerff', 'KW403')
		    ) AS v (usr, expected) LOOP
			PERFORM pg_temp.act(c.usr);
			err := pg_temp.fails_with(format('SELECT kw.transfer_complete(%L)', t6),
			    c.expected);
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'kw.transfer_complete(t6) by % %', c.usr, err;
			END IF;
		END LOOP;
		IF pg_temp.status_of('e1') <> 'step_up_requested'
		    OR pg_temp.as_owner(format('SELECT status FROM kw.step_ups WHERE id = %L', s4))
			<> 'pending' THEN
			RAISE EXCEPTION 'a refused completion of t6 changed E1 or its step up';
		END IF;

		PERFORM pg_temp.act('mgr');
		IF (kw.transfer_complete(t6)).status <> 'completed' THEN
			RAISE EXCEPTION 't6 is not completed';
		END IF;
		IF pg_temp.status_of('e1') <> 'closed' OR pg_temp.as_owner(format(
		    'SELECT closed_by FROM kw.closures WHERE episode_id = %L AND reason = %L', e1,
		    'transferred_out'))::uuid IS DISTINCT FROM pg_temp.id('mgr') THEN
			RAISE EXCEPTION 'E1 is % after the manager completed t6',
			    pg_temp.status_of('e1');
		END IF;
		SELECT * INTO s FROM kw.step_ups WHERE id = s4;
		IF s.status <> 'withdrawn' OR s.decided_at IS NULL THEN
			RAISE EXCEPTION 'the step up pending on E1 after t6: % decided at %',
			    s.status, s.decided_at;
		END IF;
		PERFORM pg_temp.act('coord');
		err := pg_temp.fails_with(format('SELECT kw.step_up_decide(%L, %L)', s4,
		    '{"decision": "declined"}'), 'KW409');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'deciding a withdrawn step up %', err;
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
	IF pg_temp.keyworker_of('e1') <> pg_temp.id('kw1') OR pg_temp.status_of('e1') <> 'registered'
	    OR pg_temp.as_owner(format('SELECT status FROM kw.transfers WHERE id = %L',
		pg_temp.id('t2'))) <> 'proposed' THEN
		RAISE EXCEPTION 'E1 or t2 was not restored';
	END IF;
END
$$;

------------------------------------------------------------------------------
-- Step ups. kw.step_up_decide: 404 to whoever cannot see the step up (a
-- partner system that reads E2 at limited level only, and no identity,
-- among them: no NULL lets anyone through), 403 to those who see it but
-- are not the area's coordinators (the keyworker's manager, who reads s1,
-- among them), 409 once decided. Nothing changes.

DO $$
DECLARE
	c record;
	err text;
BEGIN
	PERFORM pg_temp.act('mgr');
	IF NOT EXISTS (SELECT 1 FROM kw.step_ups WHERE id = pg_temp.id('s1')) THEN
		RAISE EXCEPTION 'the manager does not read s1: the check proves nothing';
	END IF;
	PERFORM pg_temp.act('partner1');
	IF EXISTS (SELECT 1 FROM kw.step_ups WHERE id = pg_temp.id('s2'))
	    OR NOT EXISTS (SELECT 1 FROM kw.episodes WHERE id = pg_temp.id('e2')) THEN
		RAISE EXCEPTION 'partner one does not read E2 but not s2: the check proves nothing';
	END IF;
	FOR c IN SELECT * FROM (VALUES
	    ('s2', 'stranger', 'KW404'), ('s2', 'lim', 'KW404'), ('s2', 'lim2', 'KW404'),
	    ('s2', 'coord', 'KW404'), ('s2', 'admin', 'KW404'), ('s2', 'kw1', 'KW404'),
	    ('s2', 'fullm', 'KW404'), ('s2', 'mgr', 'KW404'), ('s2', 'newkw', 'KW404'),
	    ('s2', 'partner1', 'KW404'), ('s2', 'partnersc', 'KW404'),
	    ('s2', 'partnerff', 'KW404'), ('s2', 'nobody', 'KW404'),
	    ('s2', 'kw2', 'KW403'), ('s2', 'partner2', 'KW403'),
	    ('s1', 'coordw', 'KW404'), ('s1', 'lim', 'KW404'), ('s1', 'stranger', 'KW404'),
	    ('s1', 'kw2', 'KW404'), ('s1', 'partner2', 'KW404'), ('s1', 'nobody', 'KW404'),
	    ('s1', 'fullm', 'KW403'), ('s1', 'kw1', 'KW403'), ('s1', 'mgr', 'KW403'),
	    ('s1', 'partner1', 'KW403'), ('s1', 'partnerff', 'KW403'),
	    ('s1', 'coord', 'KW409'), ('s3', 'coord', 'KW409')
	    ) AS v (step_up, usr, expected) LOOP
		PERFORM pg_temp.act(c.usr);
		err := pg_temp.fails_with(format('SELECT kw.step_up_decide(%L, %L)',
		    pg_temp.id(c.step_up), '{"decision": "declined", "note": "no"}'), c.expected);
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'kw.step_up_decide(%) by % %', c.step_up, c.usr, err;
		END IF;
	END LOOP;
	PERFORM pg_temp.act('coordw');
	err := pg_temp.fails_with(format('SELECT kw.step_up_decide(%L, %L)', gen_random_uuid(),
	    '{"decision": "declined"}'), 'KW404');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'an unknown step up %', err;
	END IF;
	IF pg_temp.status_of('e2') <> 'step_up_requested' THEN
		RAISE EXCEPTION 'a refused decision changed E2';
	END IF;
END
$$;

-- The West coordinator decides s2. Accepting needs the Action and Impact
-- meeting (422); accepted, E2 is stepped up and kw2 is told; declined or
-- sent back for more information, E2 resumes where its work has got to
-- (kw.working_status), counting work done while the step up was pending:
-- registered, or assessed once the assessment is completed meanwhile, or
-- plan_in_place once a meeting's outcomes are recorded. Undone.
DO $$
DECLARE
	s record;
	err text;
	c record;
	decision text;
BEGIN
	PERFORM pg_temp.act('coordw');
	err := pg_temp.fails_with(format('SELECT kw.step_up_decide(%L, %L)', pg_temp.id('s2'),
	    '{"decision": "accepted"}'), 'KW422');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'accepting without the meeting %', err;
	END IF;
	FOR c IN SELECT * FROM (VALUES ('accepted', NULL, 'stepped_up'),
	    ('declined', NULL, 'registered'), ('more_information', NULL, 'registered'),
	    ('declined', 'assessment', 'assessed'), ('more_information', 'assessment', 'assessed'),
	    ('declined', 'meeting', 'plan_in_place'), ('accepted', 'meeting', 'stepped_up')
	    ) AS v (decision, work, resumes) LOOP
		decision := c.decision;
		BEGIN
			IF c.work = 'assessment' THEN
				-- The keyworker completes the assessment while s2 is pending.
				PERFORM pg_temp.act('kw2');
				IF pg_temp.changes(format('UPDATE kw.episodes SET assessment_completed_at '
				    '= now() WHERE id = %L', pg_temp.id('e2'))) <> 1 THEN
					RAISE EXCEPTION 'kw2 could not complete E2''s assessment';
				END IF;
			ELSIF c.work = 'meeting' THEN
				PERFORM pg_temp.as_owner(format('INSERT INTO kw.meetings (episode_id, '
				    'scheduled_at, venue, family_can_attend, status, held_at, '
				    'outcomes_recorded_at, created_by) VALUES (%L, now() - interval '
				    '''1 day'', %L, true, %L, now() - interval ''1 day'', now(), %L) '
				    'RETURNING id', pg_temp.id('e2'), 'RLS 05: the school', 'held',
				    pg_temp.id('kw2')));
			END IF;
			IF pg_temp.status_of('e2') <> 'step_up_requested' THEN
				RAISE EXCEPTION 'the work done moved E2 on from step_up_requested';
			END IF;
			PERFORM pg_temp.act('coordw');
			SELECT * INTO s FROM kw.step_up_decide(pg_temp.id('s2'), jsonb_build_object(
			    'decision', decision, 'note', 'RLS 05: decided.',
			    'action_impact_meeting_at', now() + interval '7 days'));
			IF s.status <> decision OR s.decided_by <> pg_temp.id('coordw') THEN
				RAISE EXCEPTION 'kw.step_up_decide returned % by %', s.status, s.decided_by;
			END IF;
			IF pg_temp.status_of('e2') <> c.resumes THEN
				RAISE EXCEPTION 'E2 is % after the step up was % (work done: %), not %',
				    pg_temp.status_of('e2'), decision, c.work, c.resumes;
			END IF;
			err := pg_temp.fails_with(format('SELECT kw.step_up_decide(%L, %L)',
			    pg_temp.id('s2'), '{"decision": "declined"}'), 'KW409');
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'deciding s2 twice %', err;
			END IF;
			PERFORM pg_temp.act('kw2');
			IF (SELECT string_agg(kind || ': ' || detail, ', ') FROM kw.alerts
			    WHERE episode_id = pg_temp.id('e2'))
			    IS DISTINCT FROM format('referral: Step up %s.', decision) THEN
				RAISE EXCEPTION 'kw2 was not told of the decision';
			END IF;
			RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
		EXCEPTION WHEN SQLSTATE 'KWT01' THEN
			NULL;
		END;
	END LOOP;
	IF pg_temp.status_of('e2') <> 'step_up_requested' THEN
		RAISE EXCEPTION 'E2 was not restored';
	END IF;
END
$$;

------------------------------------------------------------------------------
-- kw.working_status: where work resumes, from the work done. It answers
-- only for an episode the caller can see (at any level, or as the
-- keyworker's manager or the area's coordinator), NULL otherwise; "E1/E2/E3",
-- "-" for NULL. None of the fixture's episodes has an assessment completed
-- or a meeting held: registered, whatever their status.

DO $$
DECLARE
	m record;
	got text;
BEGIN
	FOR m IN SELECT * FROM (VALUES
	    ('kw1', 'registered/-/registered'), ('mgr', 'registered/-/registered'),
	    ('coord', 'registered/-/registered'), ('partnerff', 'registered/-/registered'),
	    ('fullm', 'registered/-/-'), ('fullb', 'registered/-/-'), ('lim', 'registered/-/-'),
	    ('kw2', '-/registered/-'), ('lim2', '-/registered/-'), ('coordw', '-/registered/-'),
	    ('partner2', '-/registered/-'), ('partner1', 'registered/registered/-'),
	    ('stranger', '-/-/-'), ('admin', '-/-/-'), ('newkw', '-/-/-'), ('partnersc', '-/-/-'),
	    ('nobody', '-/-/-')) AS v (who, expected) LOOP
		PERFORM pg_temp.act(m.who);
		got := concat_ws('/', coalesce(kw.working_status(pg_temp.id('e1')), '-'),
		    coalesce(kw.working_status(pg_temp.id('e2')), '-'),
		    coalesce(kw.working_status(pg_temp.id('e3')), '-'));
		IF got <> m.expected THEN
			RAISE EXCEPTION 'kw.working_status for %: %, not %', m.who, got, m.expected;
		END IF;
	END LOOP;
	IF kw.working_status(gen_random_uuid()) IS NOT NULL THEN
		RAISE EXCEPTION 'kw.working_status of no episode';
	END IF;
END
$$;

-- It follows the work: assessed once the assessment is complete; a
-- meeting scheduled changes nothing, one whose outcomes are recorded makes
-- it plan_in_place. The status itself is left alone. Undone.
DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	meeting_sql text := 'INSERT INTO kw.meetings (episode_id, scheduled_at, venue, '
	    'family_can_attend, status, held_at, outcomes_recorded_at, created_by) '
	    'VALUES (%L, %L, %L, true, %L, %L, %L, %L) RETURNING id';
BEGIN
	BEGIN
		PERFORM pg_temp.act('kw1');
		IF pg_temp.changes(format('UPDATE kw.episodes SET assessment_completed_at = now() '
		    'WHERE id = %L', e1)) <> 1 THEN
			RAISE EXCEPTION 'kw1 could not complete E1''s assessment';
		END IF;
		IF kw.working_status(e1) IS DISTINCT FROM 'assessed' THEN
			RAISE EXCEPTION 'kw.working_status(E1) assessed: %', kw.working_status(e1);
		END IF;
		PERFORM pg_temp.as_owner(format(meeting_sql, e1, now() + interval '1 day',
		    'RLS 05: the library', 'scheduled', NULL, NULL, pg_temp.id('kw1')));
		PERFORM pg_temp.as_owner(format(meeting_sql, e1, now() - interval '1 day',
		    'RLS 05: the school', 'held', now() - interval '1 day', NULL, pg_temp.id('kw1')));
		IF kw.working_status(e1) IS DISTINCT FROM 'assessed' THEN
			RAISE EXCEPTION 'kw.working_status(E1) with no outcomes recorded: %',
			    kw.working_status(e1);
		END IF;
		PERFORM pg_temp.as_owner(format(meeting_sql, e1, now() - interval '2 days',
		    'RLS 05: the school', 'held', now() - interval '2 days', now(),
		    pg_temp.id('kw1')));
		PERFORM pg_temp.act('coord');
		IF kw.working_status(e1) IS DISTINCT FROM 'plan_in_place' THEN
			RAISE EXCEPTION 'kw.working_status(E1) with outcomes recorded: %',
			    kw.working_status(e1);
		END IF;
		PERFORM pg_temp.act('stranger');
		IF kw.working_status(e1) IS NOT NULL THEN
			RAISE EXCEPTION 'kw.working_status(E1) answers the stranger';
		END IF;
		IF pg_temp.status_of('e1') <> 'registered' THEN
			RAISE EXCEPTION 'the work moved E1 to %', pg_temp.status_of('e1');
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

------------------------------------------------------------------------------
-- Closing through the operation withdraws the pending step up with the
-- episode: kw2 closes E2 (s2 pending, the assessment completed meanwhile);
-- s2 is withdrawn, which the West coordinator can no longer decide.
-- Reopened, E2 resumes where its work got to (assessed), and s2 stays
-- withdrawn. kw1 reopens E3, closed as stepped up with nothing done:
-- registered. Undone.

DO $$
DECLARE
	e2 uuid := pg_temp.id('e2');
	j jsonb;
	s kw.step_ups;
	err text;
BEGIN
	BEGIN
		PERFORM pg_temp.act('kw2');
		PERFORM pg_temp.changes(format('UPDATE kw.episodes SET assessment_completed_at = '
		    'now() WHERE id = %L', e2));
		PERFORM pg_temp.act_as_nobody();
		j := api.close_episode('rls05-token-kw2', 'sql-test', 'local', e2, jsonb_build_object(
		    'reason', 'family_disengaged', 'family_views', 'RLS 05: not now.',
		    'children_views', 'RLS 05: fine.'));
		IF j->>'reason' <> 'family_disengaged' OR (j->>'closed_by')::uuid <> pg_temp.id('kw2')
		    OR j->'episode'->>'status' <> 'closed' THEN
			RAISE EXCEPTION 'api.close_episode by the keyworker: %', j;
		END IF;
		SELECT * INTO s FROM kw.step_ups WHERE id = pg_temp.id('s2');
		IF s.status <> 'withdrawn' OR s.decided_at IS NULL THEN
			RAISE EXCEPTION 's2 after E2 was closed: % decided at %', s.status, s.decided_at;
		END IF;
		PERFORM pg_temp.act('coordw');
		err := pg_temp.fails_with(format('SELECT kw.step_up_decide(%L, %L)',
		    pg_temp.id('s2'), '{"decision": "declined"}'), 'KW409');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'deciding s2 once E2 is closed %', err;
		END IF;
		PERFORM pg_temp.act_as_nobody();
		SELECT body INTO j FROM api.reopen_episode('rls05-token-kw2', 'sql-test', 'local', e2,
		    '{"reason": "RLS 05: the family asked again."}');
		IF j->>'status' <> 'assessed' OR pg_temp.status_of('e2') <> 'assessed' THEN
			RAISE EXCEPTION 'E2 reopened is %: %', pg_temp.status_of('e2'), j;
		END IF;
		IF pg_temp.as_owner(format('SELECT status FROM kw.step_ups WHERE id = %L',
		    pg_temp.id('s2'))) <> 'withdrawn' THEN
			RAISE EXCEPTION 'reopening E2 brought s2 back';
		END IF;
		PERFORM pg_temp.act_as_nobody();
		SELECT body INTO j FROM api.reopen_episode('rls05-token-kw1', 'sql-test', 'local',
		    pg_temp.id('e3'), '{"reason": "RLS 05: back from statutory services."}');
		IF j->>'status' <> 'registered' OR pg_temp.status_of('e3') <> 'registered'
		    OR pg_temp.as_owner(format('SELECT reopened_by FROM kw.closures WHERE id = %L',
			current_setting('kwtest.c1')))::uuid IS DISTINCT FROM pg_temp.id('kw1') THEN
			RAISE EXCEPTION 'E3 reopened is %: %', pg_temp.status_of('e3'), j;
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
	IF pg_temp.status_of('e2') <> 'step_up_requested' OR pg_temp.status_of('e3') <> 'closed'
	    OR pg_temp.as_owner(format('SELECT status FROM kw.step_ups WHERE id = %L',
		pg_temp.id('s2'))) <> 'pending' THEN
		RAISE EXCEPTION 'E2, E3 or s2 was not restored';
	END IF;
END
$$;

-- kw.withdraw_step_ups (which the closing operations call) acts only for
-- the episode's keyworker or their manager: for anyone else, whether or
-- not they see the step up, it changes nothing, and says nothing. On E2
-- (s2) only kw2 withdraws it (kw2 has no manager); on E1, given a pending
-- step up, only kw1 and mgr. Undone.
DO $$
DECLARE
	who text;
	s4 uuid;
	status_sql text := 'SELECT status FROM kw.step_ups WHERE id = %L';
BEGIN
	BEGIN
		FOREACH who IN ARRAY ARRAY['stranger', 'coordw', 'coord', 'lim2', 'kw1', 'mgr', 'admin',
		    'partner1', 'partner2', 'partnersc', 'nobody'] LOOP
			PERFORM pg_temp.act(who);
			PERFORM kw.withdraw_step_ups(pg_temp.id('e2'));
			IF pg_temp.as_owner(format(status_sql, pg_temp.id('s2'))) <> 'pending' THEN
				RAISE EXCEPTION 'kw.withdraw_step_ups(E2) by % withdrew s2', who;
			END IF;
		END LOOP;
		PERFORM pg_temp.act('kw2');
		PERFORM kw.withdraw_step_ups(pg_temp.id('e2'));
		IF pg_temp.as_owner(format(status_sql, pg_temp.id('s2'))) <> 'withdrawn' THEN
			RAISE EXCEPTION 'kw.withdraw_step_ups(E2) by the keyworker left s2 %',
			    pg_temp.as_owner(format(status_sql, pg_temp.id('s2')));
		END IF;

		PERFORM pg_temp.act('kw1');
		INSERT INTO kw.step_ups (episode_id, area_id, unmet_needs, what_was_tried,
		    more_within_resources, impact_so_far, evidence_higher_level, advice_sought,
		    requested_by)
		VALUES (pg_temp.id('e1'), pg_temp.id('area_east'), 'RLS 05: needs.',
		    'RLS 05: tried.', 'RLS 05: no.', 'RLS 05: little.', 'RLS 05: evidence.',
		    'RLS 05: advice.', pg_temp.id('kw1'))
		RETURNING id INTO s4;
		FOREACH who IN ARRAY ARRAY['stranger', 'coord', 'coordw', 'fullm', 'fullb', 'lim',
		    'newkw', 'kw2', 'partner1', 'partnerff', 'nobody'] LOOP
			PERFORM pg_temp.act(who);
			PERFORM kw.withdraw_step_ups(pg_temp.id('e1'));
			IF pg_temp.as_owner(format(status_sql, s4)) <> 'pending' THEN
				RAISE EXCEPTION 'kw.withdraw_step_ups(E1) by % withdrew its step up', who;
			END IF;
		END LOOP;
		PERFORM pg_temp.act('mgr');
		PERFORM kw.withdraw_step_ups(pg_temp.id('e1'));
		IF pg_temp.as_owner(format(status_sql, s4)) <> 'withdrawn'
		    OR pg_temp.as_owner(format(status_sql, pg_temp.id('s1'))) <> 'declined' THEN
			RAISE EXCEPTION 'kw.withdraw_step_ups(E1) by the manager: %, s1 %',
			    pg_temp.as_owner(format(status_sql, s4)),
			    pg_temp.as_owner(format(status_sql, pg_temp.id('s1')));
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
	IF pg_temp.as_owner(format(status_sql, pg_temp.id('s2'))) <> 'pending' THEN
		RAISE EXCEPTION 's2 was not restored';
	END IF;
END
$$;

------------------------------------------------------------------------------
-- kw.alert_safeguarding alerts the keyworker's manager and the area's
-- coordinators, when called by the keyworker or their manager; for anyone
-- else it does nothing, and says nothing (no error either way). Undone.

DO $$
DECLARE
	who text;
	n text;
BEGIN
	BEGIN
		FOREACH who IN ARRAY ARRAY['stranger', 'lim', 'fullm', 'fullb', 'coord', 'coordw',
		    'admin', 'newkw', 'kw2', 'partner1', 'partnerff', 'nobody'] LOOP
			PERFORM pg_temp.act(who);
			PERFORM kw.alert_safeguarding(pg_temp.id('e1'), 'RLS 05: by ' || who);
		END LOOP;
		-- Nor does the keyworker of another episode reach E2's people.
		PERFORM pg_temp.act('kw1');
		PERFORM kw.alert_safeguarding(pg_temp.id('e2'), 'RLS 05: kw1 on E2');
		n := pg_temp.as_owner(format('SELECT count(*) FROM kw.alerts WHERE detail LIKE %L',
		    'RLS 05: %'));
		IF n <> '0' THEN
			RAISE EXCEPTION 'kw.alert_safeguarding raised % alerts for callers without reach',
			    n;
		END IF;
		PERFORM kw.alert_safeguarding(pg_temp.id('e1'), 'RLS 05: by kw1');
		PERFORM pg_temp.act('mgr');
		PERFORM kw.alert_safeguarding(pg_temp.id('e1'), 'RLS 05: by mgr');
		n := pg_temp.as_owner(format('SELECT string_agg(u.email || '' '' || a.detail, '', '' '
		    'ORDER BY a.detail, u.email) FROM kw.alerts a JOIN kw.users u ON u.id = a.user_id '
		    'WHERE a.detail LIKE %L', 'RLS 05: %'));
		IF n IS DISTINCT FROM 'rls05-coord@test.example.org RLS 05: by kw1, '
		    'rls05-mgr@test.example.org RLS 05: by kw1, '
		    'rls05-coord@test.example.org RLS 05: by mgr' THEN
			RAISE EXCEPTION 'kw.alert_safeguarding alerted: %', n;
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

------------------------------------------------------------------------------
-- kw.former_keyworker answers with the keyworker of a stepped up or closed
-- episode, for a step down to suggest them, and only to a coordinator of
-- that episode's area (who reads it anyway); NULL for anyone else, the
-- keyworker and their manager included, the other area's coordinator, an
-- admin, any partner system and no identity, and for an open episode. So
-- api.create_step_down suggests kw1 to the East coordinator from E3, and
-- no one to the West coordinator or the social care system. Undone.
DO $$
DECLARE
	who text;
	j jsonb;
	step_down jsonb := jsonb_build_object('from_episode_id', pg_temp.id('e3'),
	    'needs', 'RLS 05: needs.', 'family', '{"name": "Easton", "postcode": "EA5 9ZZ"}'::jsonb,
	    'members', '[]'::jsonb, 'consent', jsonb_build_object('given_by', 'Sam Easton',
		'obtained_at', now() - interval '1 hour'));
BEGIN
	PERFORM pg_temp.act('coord');
	IF kw.former_keyworker(pg_temp.id('e3')) IS DISTINCT FROM pg_temp.id('kw1') THEN
		RAISE EXCEPTION 'kw.former_keyworker(E3) for the East coordinator: %',
		    kw.former_keyworker(pg_temp.id('e3'));
	END IF;
	FOREACH who IN ARRAY ARRAY['kw1', 'mgr', 'stranger', 'coordw', 'admin', 'lim', 'lim2',
	    'fullm', 'newkw', 'kw2', 'partner1', 'partner2', 'partnerff', 'partnersc',
	    'nobody'] LOOP
		PERFORM pg_temp.act(who);
		IF kw.former_keyworker(pg_temp.id('e3')) IS NOT NULL THEN
			RAISE EXCEPTION 'kw.former_keyworker(E3) answers %', who;
		END IF;
	END LOOP;
	FOREACH who IN ARRAY ARRAY['coord', 'coordw', 'kw1', 'kw2', 'stranger', 'nobody'] LOOP
		PERFORM pg_temp.act(who);
		IF kw.former_keyworker(pg_temp.id('e1')) IS NOT NULL
		    OR kw.former_keyworker(pg_temp.id('e2')) IS NOT NULL THEN
			RAISE EXCEPTION 'kw.former_keyworker answers % for an open episode', who;
		END IF;
	END LOOP;
	BEGIN
		-- A fresh transaction's identity: kw.authenticate sets a user's
		-- settings and leaves kw.client_id as it finds it.
		PERFORM pg_temp.act_as_nobody();
		j := api.create_step_down('rls05-token-coord', 'sql-test', 'local',
		    step_down || jsonb_build_object('area_id', pg_temp.id('area_east')));
		IF (j->>'suggested_keyworker_id')::uuid IS DISTINCT FROM pg_temp.id('kw1') THEN
			RAISE EXCEPTION 'api.create_step_down by the East coordinator from E3: %', j;
		END IF;
		PERFORM pg_temp.act_as_nobody();
		j := api.create_step_down('rls05-token-coordw', 'sql-test', 'local',
		    step_down || jsonb_build_object('area_id', pg_temp.id('area_west')));
		IF j->'suggested_keyworker_id' <> 'null'::jsonb THEN
			RAISE EXCEPTION 'api.create_step_down by the West coordinator from E3: %', j;
		END IF;
		PERFORM pg_temp.act_as_nobody();
		j := api.create_step_down('rls05-key-partnersc', 'sql-test', 'local',
		    step_down || jsonb_build_object('area_id', pg_temp.id('area_east')));
		IF j->'suggested_keyworker_id' <> 'null'::jsonb THEN
			RAISE EXCEPTION 'api.create_step_down by the social care system from E3: %', j;
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

------------------------------------------------------------------------------
-- kw.assessment_from_step_down writes, as the owner, the assessment draft
-- of an episode just opened from a step down: only for the coordinator of
-- the step down's area who registered that episode. E3 was registered by
-- coord; for anyone else, or another pairing, it does nothing. Undone.

DO $$
DECLARE
	c record;
	n text;
	count_sql text := format('SELECT count(*) FROM kw.assessments WHERE episode_id IN '
	    '(%L, %L, %L)', pg_temp.id('e1'), pg_temp.id('e2'), pg_temp.id('e3'));
BEGIN
	BEGIN
		FOR c IN SELECT * FROM (VALUES
		    ('stranger', 'e3', 'sd2'), ('coordw', 'e3', 'sd3'), ('coordw', 'e3', 'sd2'),
		    ('coordw', 'e2', 'sd3'), ('kw1', 'e1', 'sd1'), ('kw1', 'e3', 'sd2'),
		    ('kw2', 'e2', 'sd3'), ('coord', 'e1', 'sd1'), ('coord', 'e3', 'sd3'),
		    ('partnersc', 'e3', 'sd1'), ('nobody', 'e3', 'sd2'), ('admin', 'e3', 'sd2')
		    ) AS v (usr, episode, step_down) LOOP
			PERFORM pg_temp.act(c.usr);
			PERFORM kw.assessment_from_step_down(pg_temp.id(c.episode),
			    pg_temp.id(c.step_down));
			n := pg_temp.as_owner(count_sql);
			IF n <> '0' THEN
				RAISE EXCEPTION 'kw.assessment_from_step_down(%, %) by % wrote an assessment',
				    c.episode, c.step_down, c.usr;
			END IF;
		END LOOP;
		PERFORM pg_temp.act('coord');
		PERFORM kw.assessment_from_step_down(pg_temp.id('e3'), pg_temp.id('sd2'));
		n := pg_temp.as_owner(format('SELECT string_agg(needs, '','') FROM kw.assessments '
		    'WHERE episode_id = %L', pg_temp.id('e3')));
		IF n IS DISTINCT FROM 'RLS 05: needs, east.' THEN
			RAISE EXCEPTION 'kw.assessment_from_step_down by the coordinator: %', n;
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

-- What only the operations (as the owner) or the worker call, the API role
-- may not call at all: kw.episode_set changes status and keyworker of any
-- episode, and would bypass every check.
DO $$
DECLARE
	who text;
	q text;
	err text;
BEGIN
	FOREACH who IN ARRAY ARRAY['kw1', 'mgr', 'coord', 'admin', 'partnerff', 'nobody'] LOOP
		PERFORM pg_temp.act(who);
		FOREACH q IN ARRAY ARRAY[
		    format('SELECT kw.episode_set(%L, NULL, %L, NULL)', pg_temp.id('e1'),
			pg_temp.id('newkw')),
		    format('SELECT kw.episode_set(%L, %L, NULL, NULL)', pg_temp.id('e2'),
			'stepped_up'),
		    'SELECT kw.end_temporary_covers()',
		    format('SELECT kw.alert_keyworker_of(%L, %L, %L)', pg_temp.id('e1'), 'other', 'no'),
		    format('SELECT kw.is_practitioner_any(%L)', pg_temp.id('kw1'))] LOOP
			err := pg_temp.fails_with(q, '42501');
			IF err IS NOT NULL THEN
				RAISE EXCEPTION 'as %: % %', who, q, err;
			END IF;
		END LOOP;
	END LOOP;
END
$$;

RESET ROLE;

------------------------------------------------------------------------------
-- The owner is held to the state machine too: the trigger is no policy,
-- and applies to every role.

DO $$
DECLARE
	c record;
	err text;
BEGIN
	ASSERT current_user <> 'keywork_api', 'still running as keywork_api';
	FOR c IN SELECT * FROM (VALUES
	    ('e1', 'status = ''stepped_up'''),
	    ('e1', 'status = ''registered'', keyworker_id = NULL'),
	    ('e1', 'keyworker_id = NULL'),
	    ('e2', 'status = ''assessed'', keyworker_id = NULL'),
	    ('e3', 'family_name = ''Changed'''),
	    ('e3', 'keyworker_id = ''' || current_setting('kwtest.newkw') || ''''),
	    ('e3', 'status = ''stepped_up'', closed_at = NULL'),
	    ('e3', 'status = ''closed'''),
	    ('e3', 'version = version')) AS v (episode, set) LOOP
		err := pg_temp.fails_with(format('UPDATE kw.episodes SET %s WHERE id = %L', c.set,
		    pg_temp.id(c.episode)), 'KW409');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'as the owner, % on % %', c.set, c.episode, err;
		END IF;
	END LOOP;
	-- And allowed where the diagram allows it. Undone.
	BEGIN
		UPDATE kw.episodes SET status = 'assessed' WHERE id = pg_temp.id('e1');
		UPDATE kw.episodes SET status = 'registered' WHERE id = pg_temp.id('e2');
		UPDATE kw.episodes SET status = 'plan_in_place', closed_at = NULL
		WHERE id = pg_temp.id('e3');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

-- Temporary cover ends by itself: kw.end_temporary_covers (the worker, as
-- the owner) gives E2 back to kw2 once ends_on has come, keeps the cover on
-- the team at full level, marks the transfer ended, and leaves a cover
-- whose end has not come. A second run finds nothing. Undone.
DO $$
DECLARE
	e2 uuid := pg_temp.id('e2');
	cover uuid := gen_random_uuid();
	later uuid := gen_random_uuid();
	n integer;
	t record;
BEGIN
	BEGIN
		-- E2 as a completed cover leaves it: newkw keyworks, kw2 on the team.
		UPDATE kw.episodes SET keyworker_id = pg_temp.id('newkw') WHERE id = e2;
		INSERT INTO kw.team_members (episode_id, user_id, level, added_by)
		VALUES (e2, pg_temp.id('kw2'), 'full', pg_temp.id('kw2'));
		INSERT INTO kw.transfers (id, episode_id, kind, reason, from_keyworker_id,
		    to_keyworker_id, family_told_at, changeover_on, ends_on, status, proposed_by,
		    decided_at, completed_at)
		VALUES (cover, e2, 'temporary', 'keyworker_unavailable', pg_temp.id('kw2'),
		    pg_temp.id('newkw'), now() - interval '20 days', kw.today() - 14,
		    kw.today() - 1, 'completed', pg_temp.id('kw2'), now() - interval '15 days',
		    now() - interval '14 days');
		-- And a cover of E1 that runs on for a week.
		INSERT INTO kw.transfers (id, episode_id, kind, reason, from_keyworker_id,
		    to_keyworker_id, family_told_at, changeover_on, ends_on, status, proposed_by,
		    decided_at, completed_at)
		VALUES (later, pg_temp.id('e1'), 'temporary', 'keyworker_unavailable',
		    pg_temp.id('kw1'), pg_temp.id('fullb'), now() - interval '3 days',
		    kw.today() - 2, kw.today() + 7, 'completed', pg_temp.id('kw1'),
		    now() - interval '3 days', now() - interval '2 days');

		n := kw.end_temporary_covers();
		IF n <> 1 THEN
			RAISE EXCEPTION 'kw.end_temporary_covers ended % covers, not 1', n;
		END IF;
		IF (SELECT keyworker_id FROM kw.episodes WHERE id = e2) <> pg_temp.id('kw2') THEN
			RAISE EXCEPTION 'kw2 is not E2''s keyworker again';
		END IF;
		IF (SELECT string_agg(user_id || ':' || level, ',' ORDER BY user_id)
		    FROM kw.team_members WHERE episode_id = e2)
		    IS DISTINCT FROM format('%s:limited,%s:full', pg_temp.id('lim2'),
			pg_temp.id('newkw')) THEN
			RAISE EXCEPTION 'E2''s team after the cover ended: %', (SELECT string_agg(
			    user_id || ':' || level, ',') FROM kw.team_members WHERE episode_id = e2);
		END IF;
		SELECT * INTO t FROM kw.transfers WHERE id = cover;
		IF t.status <> 'ended' OR t.ended_at IS NULL THEN
			RAISE EXCEPTION 'the cover is %, ended at %', t.status, t.ended_at;
		END IF;
		IF (SELECT status FROM kw.transfers WHERE id = later) <> 'completed' THEN
			RAISE EXCEPTION 'a cover whose end has not come was ended';
		END IF;
		-- Idempotent.
		n := kw.end_temporary_covers();
		IF n <> 0 THEN
			RAISE EXCEPTION 'a second run of kw.end_temporary_covers ended % covers', n;
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

------------------------------------------------------------------------------
-- The fixture is as it was: every write above was undone. The sign-in
-- secrets and the partner keys go (with the step downs, which name one);
-- the case fixture stays (notes cannot be deleted, so neither can their
-- episodes).

DO $$
DECLARE
	got text;
BEGIN
	got := pg_temp.case_visible();
	IF got <> 'episodes=1/1/1 families=1/1/1 members=3/2/1 consents=2/1/1 team=3/1/0 '
	    'notes=2/1/0 alerts=2/0/0' THEN
		RAISE EXCEPTION 'the case fixture changed during the test: %', got;
	END IF;
	got := pg_temp.course_visible();
	IF got <> 'transfers=2/1/0 step_ups=1/1/1 closures=1/0/1 step_downs=2/1 '
	    'transitions=18' THEN
		RAISE EXCEPTION 'the course fixture changed during the test: %', got;
	END IF;
	IF (SELECT string_agg(status, ',' ORDER BY id) FROM kw.episodes WHERE id IN
	    (pg_temp.id('e1'), pg_temp.id('e2'), pg_temp.id('e3')))
	    <> 'registered,step_up_requested,closed'
	    OR (SELECT string_agg(status, ',' ORDER BY id) FROM kw.transfers WHERE episode_id IN
		(pg_temp.id('e1'), pg_temp.id('e2'))) <> 'declined,proposed,declined'
	    OR (SELECT string_agg(status, ',' ORDER BY id) FROM kw.step_ups WHERE episode_id IN
		(pg_temp.id('e1'), pg_temp.id('e2'), pg_temp.id('e3')))
		<> 'declined,pending,accepted'
	    OR (SELECT keyworker_id FROM kw.episodes WHERE id = pg_temp.id('e1'))
		<> pg_temp.id('kw1')
	    OR EXISTS (SELECT 1 FROM kw.consent_withdrawals WHERE episode_id IN
		(pg_temp.id('e1'), pg_temp.id('e2'), pg_temp.id('e3'))) THEN
		RAISE EXCEPTION 'a status, keyworker or withdrawal of the fixture changed';
	END IF;
END
$$;

DELETE FROM kw.token_families WHERE user_id IN (:'kw1', :'newkw', :'fullm', :'stranger',
    :'coordw', :'kw2', :'coord');
DELETE FROM kw.step_downs WHERE id IN (:'sd1', :'sd2', :'sd3');
DELETE FROM kw.api_clients WHERE id IN (:'partner1', :'partner2', :'partnerff',
    :'partnersc');
REVOKE keywork_api FROM CURRENT_USER;
