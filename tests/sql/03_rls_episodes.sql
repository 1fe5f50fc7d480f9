-- Row-level security of episodes and everything on them, seen as the API
-- role: who sees which rows of the case tables, and who may write them,
-- decided by the database whatever the server does. Each identity is what
-- kw.authenticate would set: transaction-local kw.user_id, kw.agency_id and
-- kw.roles (a comma list), or kw.client_id, kw.agency_id and roles 'partner'
-- for a partner system's key. Run as the schema owner; any failure raises.
--
-- The fixture below is two episodes in two new areas, with people in every
-- position. Counts are exact, per episode, so that a policy that admits one
-- row too many (or too few) fails here:
--
--   E1  East area, keyworker kw1 (managed by mgr), team: fullm (partner
--       agency one, full level) and lim (limited level); 3 members,
--       2 consents, 2 notes, an access request by lim2, 3 alerts
--   E2  West area, keyworker kw2 (partner agency two, no manager), team:
--       lim2 (partner agency one, limited level); 2 members, 1 consent,
--       1 note, an access request by lim, 1 alert
--   mgr       manager of kw1, lives in the West area (a manager's reach is
--             their reports, never their area)
--   coord     coordinator of the East area
--   admin     admin only
--   stranger  a practitioner in the East area with no part in either

-- The owner may switch to the API role only as a member of it; taken back
-- at the end, as in 02_rls_spine.sql.
GRANT keywork_api TO CURRENT_USER;

------------------------------------------------------------------------------
-- Fixture, as the owner (its policy admits every row). Fixed ids, and ON
-- CONFLICT DO NOTHING, so that running the file twice changes nothing; the
-- writes tested further down are all undone.

\set area_east '00000000-0000-4000-8000-000000000301'
\set area_west '00000000-0000-4000-8000-000000000302'
\set agency_p1 '00000000-0000-4000-8000-000000000311'
\set agency_ff '00000000-0000-4000-8000-000000000312'
\set agency_p2 '00000000-0000-4000-8000-000000000313'
\set agency_none '00000000-0000-4000-8000-000000000314'
\set mgr '00000000-0000-4000-8000-000000000321'
\set kw1 '00000000-0000-4000-8000-000000000322'
\set kw2 '00000000-0000-4000-8000-000000000323'
\set fullm '00000000-0000-4000-8000-000000000324'
\set lim '00000000-0000-4000-8000-000000000325'
\set lim2 '00000000-0000-4000-8000-000000000326'
\set coord '00000000-0000-4000-8000-000000000327'
\set admin '00000000-0000-4000-8000-000000000328'
\set stranger '00000000-0000-4000-8000-000000000329'
\set family1 '00000000-0000-4000-8000-000000000331'
\set family2 '00000000-0000-4000-8000-000000000332'
\set e1 '00000000-0000-4000-8000-000000000341'
\set e2 '00000000-0000-4000-8000-000000000342'
\set note1 '00000000-0000-4000-8000-000000000371'
\set note2 '00000000-0000-4000-8000-000000000372'
\set note3 '00000000-0000-4000-8000-000000000373'
\set request1 '00000000-0000-4000-8000-000000000381'
\set request2 '00000000-0000-4000-8000-000000000382'
\set partner1 '00000000-0000-4000-8000-0000000003a1'
\set partner2 '00000000-0000-4000-8000-0000000003a2'

-- The DO blocks cannot see psql variables: they read these instead.
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
SET kwtest.coord = :'coord';
SET kwtest.admin = :'admin';
SET kwtest.stranger = :'stranger';
SET kwtest.family1 = :'family1';
SET kwtest.family2 = :'family2';
SET kwtest.e1 = :'e1';
SET kwtest.e2 = :'e2';
SET kwtest.note1 = :'note1';
SET kwtest.partner1 = :'partner1';
SET kwtest.partner2 = :'partner2';
-- Each user's agency, which kw.authenticate would set with their id.
SET kwtest.agency_of_mgr = :'agency_ff';
SET kwtest.agency_of_kw1 = :'agency_ff';
SET kwtest.agency_of_kw2 = :'agency_p2';
SET kwtest.agency_of_fullm = :'agency_p1';
SET kwtest.agency_of_lim = :'agency_ff';
SET kwtest.agency_of_lim2 = :'agency_p1';
SET kwtest.agency_of_coord = :'agency_ff';
SET kwtest.agency_of_admin = :'agency_ff';
SET kwtest.agency_of_stranger = :'agency_ff';

INSERT INTO kw.areas (id, name) VALUES
	(:'area_east', 'RLS test 03: East'),
	(:'area_west', 'RLS test 03: West')
ON CONFLICT DO NOTHING;

INSERT INTO kw.agencies (id, name, kind) VALUES
	(:'agency_p1', 'RLS test 03: partner agency one', 'voluntary'),
	(:'agency_ff', 'RLS test 03: Families First', 'local_authority'),
	(:'agency_p2', 'RLS test 03: partner agency two', 'health'),
	(:'agency_none', 'RLS test 03: uninvolved agency', 'housing')
ON CONFLICT DO NOTHING;

-- The manager first: a user's manager_id must name an existing manager.
INSERT INTO kw.users (id, email, name, password_hash, agency_id, area_id, roles)
VALUES (:'mgr', 'rls03-mgr@test.example.org', 'RLS 03 Manager', 'not a hash',
    :'agency_ff', :'area_west', ARRAY['manager', 'practitioner'])
ON CONFLICT DO NOTHING;

INSERT INTO kw.users (id, email, name, password_hash, agency_id, area_id, roles,
    manager_id)
SELECT v.id::uuid, v.email, v.name, 'not a hash', v.agency::uuid, v.area::uuid,
    v.roles, v.manager::uuid
FROM (VALUES
	(:'kw1', 'rls03-kw1@test.example.org', 'RLS 03 Keyworker One', :'agency_ff',
	    :'area_east', ARRAY['practitioner'], :'mgr'),
	(:'kw2', 'rls03-kw2@test.example.org', 'RLS 03 Keyworker Two', :'agency_p2',
	    :'area_west', ARRAY['practitioner'], NULL),
	(:'fullm', 'rls03-full@test.example.org', 'RLS 03 Full Member', :'agency_p1',
	    :'area_east', ARRAY['practitioner'], NULL),
	(:'lim', 'rls03-lim@test.example.org', 'RLS 03 Limited Member', :'agency_ff',
	    :'area_east', ARRAY['practitioner'], NULL),
	(:'lim2', 'rls03-lim2@test.example.org', 'RLS 03 Limited Member Two', :'agency_p1',
	    :'area_west', ARRAY['practitioner'], NULL),
	(:'coord', 'rls03-coord@test.example.org', 'RLS 03 Coordinator', :'agency_ff',
	    :'area_east', ARRAY['coordinator'], NULL),
	(:'admin', 'rls03-admin@test.example.org', 'RLS 03 Admin', :'agency_ff',
	    :'area_east', ARRAY['admin'], NULL),
	(:'stranger', 'rls03-stranger@test.example.org', 'RLS 03 Stranger', :'agency_ff',
	    :'area_east', ARRAY['practitioner'], NULL)
) AS v (id, email, name, agency, area, roles, manager)
ON CONFLICT DO NOTHING;

INSERT INTO kw.families (id, name, area_id, postcode) VALUES
	(:'family1', 'Eastwood', :'area_east', 'EA1 1AA'),
	(:'family2', 'Westley', :'area_west', 'WE2 2BB')
ON CONFLICT DO NOTHING;

INSERT INTO kw.episodes (id, family_id, family_name, area_id, keyworker_id,
    lead_agency_id, registered_by, assessment_due, first_taf_meeting_due)
VALUES
	(:'e1', :'family1', 'Eastwood', :'area_east', :'kw1', :'agency_ff', :'kw1',
	    current_date + 21, current_date + 42),
	(:'e2', :'family2', 'Westley', :'area_west', :'kw2', :'agency_p2', :'kw2',
	    current_date + 21, current_date + 42)
ON CONFLICT DO NOTHING;

INSERT INTO kw.members (id, episode_id, given_name, family_name, date_of_birth,
    relationship, is_child)
VALUES
	('00000000-0000-4000-8000-000000000351', :'e1', 'Pat', 'Eastwood', '1985-02-03',
	    'mother', false),
	('00000000-0000-4000-8000-000000000352', :'e1', 'Lee', 'Eastwood', '2014-05-06',
	    'son', true),
	('00000000-0000-4000-8000-000000000353', :'e1', 'Kim', 'Eastwood', '2018-07-08',
	    'daughter', true),
	('00000000-0000-4000-8000-000000000354', :'e2', 'Max', 'Westley', '1987-09-10',
	    'father', false),
	('00000000-0000-4000-8000-000000000355', :'e2', 'Ash', 'Westley', '2016-11-12',
	    'son', true)
ON CONFLICT DO NOTHING;

INSERT INTO kw.consents (id, episode_id, kind, given_by, obtained_at, recorded_by)
VALUES
	('00000000-0000-4000-8000-000000000361', :'e1', 'verbal', 'Pat Eastwood',
	    now() - interval '1 day', :'kw1'),
	('00000000-0000-4000-8000-000000000362', :'e1', 'written', 'Pat Eastwood',
	    now() - interval '1 hour', :'kw1'),
	('00000000-0000-4000-8000-000000000363', :'e2', 'verbal', 'Max Westley',
	    now() - interval '1 day', :'kw2')
ON CONFLICT DO NOTHING;

INSERT INTO kw.team_members (episode_id, user_id, level, added_by) VALUES
	(:'e1', :'fullm', 'full', :'kw1'),
	(:'e1', :'lim', 'limited', :'kw1'),
	(:'e2', :'lim2', 'limited', :'kw2')
ON CONFLICT DO NOTHING;

INSERT INTO kw.notes (id, episode_id, author_id, kind, body) VALUES
	(:'note1', :'e1', :'kw1', 'fact', 'RLS 03: first home visit.'),
	(:'note2', :'e1', :'fullm', 'opinion', 'RLS 03: settled at school.'),
	(:'note3', :'e2', :'kw2', 'fact', 'RLS 03: first home visit, west.')
ON CONFLICT DO NOTHING;

-- Each requester asks about an episode they are not on: they see their own
-- request and nothing else of that episode.
INSERT INTO kw.access_requests (id, episode_id, requester_id, reason) VALUES
	(:'request1', :'e1', :'lim2', 'RLS 03: Lee is on my caseload.'),
	(:'request2', :'e2', :'lim', 'RLS 03: Ash is on my caseload.')
ON CONFLICT DO NOTHING;

-- Alerts go to one recipient each: kw1 is told of fullm's note and of the
-- request for E1, fullm is named in kw1's note, kw2 is told of the request
-- for E2.
INSERT INTO kw.alerts (id, episode_id, user_id, kind, note_id, access_request_id,
    created_by)
VALUES
	('00000000-0000-4000-8000-000000000391', :'e1', :'kw1', 'case_note', :'note2',
	    NULL, :'fullm'),
	('00000000-0000-4000-8000-000000000392', :'e1', :'fullm', 'named_in_note', :'note1',
	    NULL, :'kw1'),
	('00000000-0000-4000-8000-000000000393', :'e1', :'kw1', 'access_request', NULL,
	    :'request1', :'lim2'),
	('00000000-0000-4000-8000-000000000394', :'e2', :'kw2', 'access_request', NULL,
	    :'request2', :'lim')
ON CONFLICT DO NOTHING;

-- Bearer tokens (their hashes, as the server passes them) for calling api.*
-- end to end, and the two partner systems' keys. Removed at the end.
INSERT INTO kw.token_families (id, user_id) VALUES
	('00000000-0000-4000-8000-0000000003f1', :'stranger'),
	('00000000-0000-4000-8000-0000000003f2', :'lim'),
	('00000000-0000-4000-8000-0000000003f3', :'admin')
ON CONFLICT DO NOTHING;
INSERT INTO kw.access_tokens (token_hash, family_id, expires_at) VALUES
	('rls03-token-stranger', '00000000-0000-4000-8000-0000000003f1', now() + interval '1 hour'),
	('rls03-token-lim', '00000000-0000-4000-8000-0000000003f2', now() + interval '1 hour'),
	('rls03-token-admin', '00000000-0000-4000-8000-0000000003f3', now() + interval '1 hour')
ON CONFLICT DO NOTHING;
INSERT INTO kw.api_clients (id, name, agency_id, key_hash, created_by) VALUES
	(:'partner1', 'rls test 03 partner one', :'agency_p1', 'rls03-key-partner1', :'admin'),
	(:'partner2', 'rls test 03 partner two', :'agency_p2', 'rls03-key-partner2', :'admin')
ON CONFLICT DO NOTHING;

-- How many accounts there are: kw.staff_v shows them all to anyone signed in.
SELECT count(*) AS users_total FROM kw.users \gset
SET kwtest.users_total = :'users_total';

------------------------------------------------------------------------------
-- Helpers. In pg_temp (gone with the session) and not SECURITY DEFINER: they
-- run as whoever calls them, so as keywork_api they are held to its policies.

CREATE FUNCTION pg_temp.id(p_name text) RETURNS uuid
LANGUAGE sql STABLE AS $$ SELECT current_setting('kwtest.' || p_name)::uuid $$;

-- Take on a user's identity for the rest of the transaction. Every setting
-- is written, so nothing of an earlier identity in the same transaction
-- lingers.
CREATE FUNCTION pg_temp.act_as(p_user text, p_roles text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('kw.user_id', pg_temp.id(p_user)::text, true);
	PERFORM set_config('kw.client_id', '', true);
	PERFORM set_config('kw.agency_id', pg_temp.id('agency_of_' || p_user)::text, true);
	PERFORM set_config('kw.roles', p_roles, true);
END
$$;

-- A partner system's key, as kw.authenticate sets it.
CREATE FUNCTION pg_temp.act_as_partner(p_client text, p_agency text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('kw.user_id', '', true);
	PERFORM set_config('kw.client_id', pg_temp.id(p_client)::text, true);
	PERFORM set_config('kw.agency_id', pg_temp.id(p_agency)::text, true);
	PERFORM set_config('kw.roles', 'partner', true);
END
$$;

-- No identity at all.
CREATE FUNCTION pg_temp.act_as_nobody() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('kw.user_id', '', true);
	PERFORM set_config('kw.client_id', '', true);
	PERFORM set_config('kw.agency_id', '', true);
	PERFORM set_config('kw.roles', '', true);
END
$$;

-- What the caller sees of each case table, as "E1 rows/E2 rows".
CREATE FUNCTION pg_temp.visible() RETURNS text
LANGUAGE sql AS $$
	SELECT format('episodes=%s families=%s members=%s consents=%s team=%s '
	    'requests=%s notes=%s alerts=%s',
	    (SELECT count(*) FILTER (WHERE id = pg_temp.id('e1')) || '/'
		|| count(*) FILTER (WHERE id = pg_temp.id('e2')) FROM kw.episodes),
	    (SELECT count(*) FILTER (WHERE id = pg_temp.id('family1')) || '/'
		|| count(*) FILTER (WHERE id = pg_temp.id('family2')) FROM kw.families),
	    (SELECT count(*) FILTER (WHERE episode_id = pg_temp.id('e1')) || '/'
		|| count(*) FILTER (WHERE episode_id = pg_temp.id('e2')) FROM kw.members),
	    (SELECT count(*) FILTER (WHERE episode_id = pg_temp.id('e1')) || '/'
		|| count(*) FILTER (WHERE episode_id = pg_temp.id('e2')) FROM kw.consents),
	    (SELECT count(*) FILTER (WHERE episode_id = pg_temp.id('e1')) || '/'
		|| count(*) FILTER (WHERE episode_id = pg_temp.id('e2')) FROM kw.team_members),
	    (SELECT count(*) FILTER (WHERE episode_id = pg_temp.id('e1')) || '/'
		|| count(*) FILTER (WHERE episode_id = pg_temp.id('e2')) FROM kw.access_requests),
	    (SELECT count(*) FILTER (WHERE episode_id = pg_temp.id('e1')) || '/'
		|| count(*) FILTER (WHERE episode_id = pg_temp.id('e2')) FROM kw.notes),
	    (SELECT count(*) FILTER (WHERE episode_id = pg_temp.id('e1')) || '/'
		|| count(*) FILTER (WHERE episode_id = pg_temp.id('e2')) FROM kw.alerts))
$$;

-- Case rows the caller sees that are not the fixture's (the demo data's):
-- none of the identities here has any part in them.
CREATE FUNCTION pg_temp.outside() RETURNS bigint
LANGUAGE sql AS $$
	SELECT (SELECT count(*) FROM kw.episodes
		WHERE id NOT IN (pg_temp.id('e1'), pg_temp.id('e2')))
	    + (SELECT count(*) FROM kw.families
		WHERE id NOT IN (pg_temp.id('family1'), pg_temp.id('family2')))
	    + (SELECT count(*) FROM kw.members
		WHERE episode_id NOT IN (pg_temp.id('e1'), pg_temp.id('e2')))
	    + (SELECT count(*) FROM kw.consents
		WHERE episode_id NOT IN (pg_temp.id('e1'), pg_temp.id('e2')))
	    + (SELECT count(*) FROM kw.team_members
		WHERE episode_id NOT IN (pg_temp.id('e1'), pg_temp.id('e2')))
	    + (SELECT count(*) FROM kw.access_requests
		WHERE episode_id NOT IN (pg_temp.id('e1'), pg_temp.id('e2')))
	    + (SELECT count(*) FROM kw.notes
		WHERE episode_id NOT IN (pg_temp.id('e1'), pg_temp.id('e2')))
	    + (SELECT count(*) FROM kw.alerts
		WHERE episode_id NOT IN (pg_temp.id('e1'), pg_temp.id('e2')))
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
		RAISE EXCEPTION '%: sees % case rows of other episodes (the demo data)',
		    p_who, other;
	END IF;
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

-- Runs p_sql and says whether it failed with p_state; any other error, or
-- none, is returned as text for the caller to report.
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

-- The fixture is all there, seen as the owner: without it the zeros below
-- would prove nothing.
DO $$
DECLARE
	got text := pg_temp.visible();
BEGIN
	IF got <> 'episodes=1/1 families=1/1 members=3/2 consents=2/1 team=2/1 '
	    'requests=1/1 notes=2/1 alerts=3/1' THEN
		RAISE EXCEPTION 'the fixture is not as this file expects: %', got;
	END IF;
	IF pg_temp.outside() = 0 THEN
		RAISE EXCEPTION 'the demo data is missing: "nothing outside" would prove nothing';
	END IF;
END
$$;

------------------------------------------------------------------------------
-- The catalogue: every table holding case content has row-level security on
-- and FORCED (so not even the owner escapes a policy), and the API role
-- cannot bypass it. Tables that later migrations add are covered if they
-- carry an episode_id.

DO $$
DECLARE
	c record;
	n integer := 0;
BEGIN
	IF (SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = 'keywork_api') THEN
		RAISE EXCEPTION 'keywork_api has BYPASSRLS or is a superuser';
	END IF;
	FOR c IN SELECT cl.relname, cl.relrowsecurity, cl.relforcerowsecurity
	    FROM pg_class cl
	    WHERE cl.relnamespace = 'kw'::regnamespace AND cl.relkind IN ('r', 'p')
		AND (cl.relname IN ('families', 'episodes', 'members', 'consents',
		    'team_members', 'access_requests', 'notes', 'alerts', 'idempotency_keys')
		OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = cl.oid
		    AND a.attname = 'episode_id' AND NOT a.attisdropped)) LOOP
		n := n + 1;
		IF NOT c.relrowsecurity THEN
			RAISE EXCEPTION 'row-level security is off on kw.%', c.relname;
		END IF;
		IF NOT c.relforcerowsecurity THEN
			RAISE EXCEPTION 'row-level security is not forced on kw.%', c.relname;
		END IF;
	END LOOP;
	-- Guard against a vacuous pass (a table renamed, the query wrong).
	IF n < 9 THEN
		RAISE EXCEPTION 'expected at least the 9 case tables in schema kw, found %', n;
	END IF;
END
$$;

SET ROLE keywork_api;

------------------------------------------------------------------------------
-- No identity: not one row of anything the API role may read in schema kw,
-- table or view, whatever later migrations add.

DO $$
DECLARE
	r record;
	n bigint;
	tables integer := 0;
BEGIN
	ASSERT current_user = 'keywork_api', 'not running as keywork_api';
	PERFORM pg_temp.act_as_nobody();
	FOR r IN SELECT c.oid::regclass AS rel, c.relkind
	    FROM pg_class c
	    WHERE c.relnamespace = 'kw'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
		AND has_any_column_privilege(c.oid, 'SELECT')
	    ORDER BY c.relname LOOP
		EXECUTE format('SELECT count(*) FROM %s', r.rel) INTO n;
		IF n <> 0 THEN
			RAISE EXCEPTION '% shows % rows without an identity', r.rel, n;
		END IF;
		IF r.relkind IN ('r', 'p') THEN
			tables := tables + 1;
		END IF;
	END LOOP;
	-- The spine's readable tables and the case tables, at least.
	IF tables < 13 THEN
		RAISE EXCEPTION 'only % kw tables were readable to check', tables;
	END IF;
	PERFORM pg_temp.expect('no identity', 'episodes=0/0 families=0/0 members=0/0 '
	    'consents=0/0 team=0/0 requests=0/0 notes=0/0 alerts=0/0');
	IF cardinality(kw.my_episodes(false)) <> 0 OR cardinality(kw.my_reports()) <> 0
	    OR cardinality(kw.my_areas()) <> 0 THEN
		RAISE EXCEPTION 'kw.my_* give a reach to no identity';
	END IF;
END
$$;

------------------------------------------------------------------------------
-- Who sees what: every identity against every case table, "E1/E2". Alerts
-- are read only by their recipient and access requests only by the
-- requester, the keyworker and the keyworker's manager, whatever the level.

DO $$
DECLARE
	m record;
BEGIN
	FOR m IN SELECT * FROM (VALUES
	    -- Keyworker: everything on their episode.
	    ('keyworker kw1', 'kw1', 'practitioner',
		'episodes=1/0 families=1/0 members=3/0 consents=2/0 team=2/0 '
		'requests=1/0 notes=2/0 alerts=2/0'),
	    ('keyworker kw2', 'kw2', 'practitioner',
		'episodes=0/1 families=0/1 members=0/2 consents=0/1 team=0/1 '
		'requests=0/1 notes=0/1 alerts=0/1'),
	    -- Full-access member: the whole episode, no access requests.
	    ('full member', 'fullm', 'practitioner',
		'episodes=1/0 families=1/0 members=3/0 consents=2/0 team=2/0 '
		'requests=0/0 notes=2/0 alerts=1/0'),
	    -- Limited-access member: the episode row and their own team row;
	    -- and their own request for the other episode.
	    ('limited member lim', 'lim', 'practitioner',
		'episodes=1/0 families=0/0 members=0/0 consents=0/0 team=1/0 '
		'requests=0/1 notes=0/0 alerts=0/0'),
	    ('limited member lim2', 'lim2', 'practitioner',
		'episodes=0/1 families=0/0 members=0/0 consents=0/0 team=0/1 '
		'requests=1/0 notes=0/0 alerts=0/0'),
	    -- Line manager of kw1: all of E1; nothing of E2, though E2 is in
	    -- the manager's own area.
	    ('manager of kw1', 'mgr', 'manager,practitioner',
		'episodes=1/0 families=1/0 members=3/0 consents=2/0 team=2/0 '
		'requests=1/0 notes=2/0 alerts=0/0'),
	    -- The same account without the manager role reaches nothing.
	    ('mgr without the manager role', 'mgr', 'practitioner',
		'episodes=0/0 families=0/0 members=0/0 consents=0/0 team=0/0 '
		'requests=0/0 notes=0/0 alerts=0/0'),
	    -- Coordinator of the East area: all of E1 (but its access
	    -- requests), nothing in the West.
	    ('coordinator of East', 'coord', 'coordinator',
		'episodes=1/0 families=1/0 members=3/0 consents=2/0 team=2/0 '
		'requests=0/0 notes=2/0 alerts=0/0'),
	    -- Admin: accounts, never case content.
	    ('admin', 'admin', 'admin',
		'episodes=0/0 families=0/0 members=0/0 consents=0/0 team=0/0 '
		'requests=0/0 notes=0/0 alerts=0/0'),
	    -- A practitioner of the East area with no part in E1: nothing
	    -- (an area gives reach only with the coordinator role).
	    ('unrelated practitioner', 'stranger', 'practitioner',
		'episodes=0/0 families=0/0 members=0/0 consents=0/0 team=0/0 '
		'requests=0/0 notes=0/0 alerts=0/0'),
	    -- Admin and data protection on top change nothing.
	    ('stranger with admin, data_protection', 'stranger',
		'practitioner,admin,data_protection',
		'episodes=0/0 families=0/0 members=0/0 consents=0/0 team=0/0 '
		'requests=0/0 notes=0/0 alerts=0/0')
	    ) AS v (who, usr, roles, expected) LOOP
		PERFORM pg_temp.act_as(m.usr, m.roles);
		PERFORM pg_temp.expect(m.who, m.expected);
	END LOOP;

	-- Partner systems: what their agency's practitioners hold, at their
	-- level. Agency one has fullm (full on E1) and lim2 (limited on E2);
	-- agency two has kw2, keyworker of E2.
	PERFORM pg_temp.act_as_partner('partner1', 'agency_p1');
	PERFORM pg_temp.expect('partner of agency one', 'episodes=1/1 families=1/0 '
	    'members=3/0 consents=2/0 team=2/0 requests=0/0 notes=2/0 alerts=0/0');
	PERFORM pg_temp.act_as_partner('partner2', 'agency_p2');
	PERFORM pg_temp.expect('partner of agency two', 'episodes=0/1 families=0/1 '
	    'members=0/2 consents=0/1 team=0/1 requests=0/0 notes=0/1 alerts=0/0');
	-- A partner's reach is its agency's: the same key with an agency
	-- that has no one on either episode sees nothing.
	PERFORM pg_temp.act_as_partner('partner1', 'agency_none');
	PERFORM pg_temp.expect('partner of an uninvolved agency', 'episodes=0/0 '
	    'families=0/0 members=0/0 consents=0/0 team=0/0 requests=0/0 notes=0/0 '
	    'alerts=0/0');
	-- And an agency without the partner role is not a partner.
	PERFORM set_config('kw.roles', 'practitioner', true);
	PERFORM set_config('kw.agency_id', pg_temp.id('agency_p1')::text, true);
	PERFORM pg_temp.expect('agency one without the partner role', 'episodes=0/0 '
	    'families=0/0 members=0/0 consents=0/0 team=0/0 requests=0/0 notes=0/0 '
	    'alerts=0/0');
END
$$;

-- The partner identity above is the one kw.authenticate sets for a real
-- key: signing in with partner one's key sees the same.
DO $$
BEGIN
	PERFORM kw.authenticate('rls03-key-partner1', 'sql-test', 'local');
	IF kw.current_client_id() IS DISTINCT FROM pg_temp.id('partner1')
	    OR kw.current_user_id() IS NOT NULL OR NOT kw.has_role('partner') THEN
		RAISE EXCEPTION 'kw.authenticate set another partner identity';
	END IF;
	PERFORM pg_temp.expect('partner one by its key', 'episodes=1/1 families=1/0 '
	    'members=3/0 consents=2/0 team=2/0 requests=0/0 notes=2/0 alerts=0/0');
	IF kw.episode_access(pg_temp.id('e1')) <> 'full'
	    OR kw.episode_access(pg_temp.id('e2')) <> 'limited' THEN
		RAISE EXCEPTION 'partner one''s levels are %/%, not full/limited',
		    kw.episode_access(pg_temp.id('e1')), kw.episode_access(pg_temp.id('e2'));
	END IF;
END
$$;

------------------------------------------------------------------------------
-- The limited member, more closely: the summary on the episode row, and
-- nothing behind it, by join or by helper.

DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	o record;
	err text;
BEGIN
	PERFORM pg_temp.act_as('lim', 'practitioner');
	IF (SELECT family_name FROM kw.episodes WHERE id = e1) IS DISTINCT FROM 'Eastwood' THEN
		RAISE EXCEPTION 'a limited member cannot read the summary';
	END IF;
	IF (SELECT count(*) FROM kw.episodes e JOIN kw.families f ON f.id = e.family_id) <> 0
	    OR (SELECT count(*) FROM kw.episodes e JOIN kw.members m ON m.episode_id = e.id) <> 0
	    OR (SELECT count(*) FROM kw.episodes e JOIN kw.notes n ON n.episode_id = e.id) <> 0 THEN
		RAISE EXCEPTION 'a limited member reaches content through a join';
	END IF;
	-- Their own team row, not the full member's.
	IF (SELECT count(*) FROM kw.team_members WHERE user_id <> kw.current_user_id()) <> 0 THEN
		RAISE EXCEPTION 'a limited member sees other team members';
	END IF;
	IF kw.episode_access(e1) <> 'limited' OR e1 = ANY (kw.my_episodes(true))
	    OR NOT e1 = ANY (kw.my_episodes(false)) THEN
		RAISE EXCEPTION 'kw.episode_access/kw.my_episodes give a limited member more';
	END IF;
	SELECT * INTO o FROM kw.episode_out(e1);
	IF o.body->>'access' <> 'limited' OR o.body ? 'family' OR o.body ? 'members'
	    OR o.body->>'family_name' <> 'Eastwood' THEN
		RAISE EXCEPTION 'kw.episode_out for a limited member: %', o.body;
	END IF;
	err := pg_temp.fails_with(format('SELECT kw.require_full(%L, %L)', e1, 'notes'), 'KW403');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'kw.require_full for a limited member %', err;
	END IF;
	err := pg_temp.fails_with(format(
	    'SELECT kw.add_note(%L, %L)', e1, '{"kind": "fact", "body": "x"}'), 'KW403');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'kw.add_note by a limited member %', err;
	END IF;
END
$$;

-- The same through the operations, with a bearer token: the summary, and
-- 403 for notes, members and the team.
DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	o record;
	err text;
	f text;
BEGIN
	SELECT * INTO o FROM api.get_episode('rls03-token-lim', 'sql-test', 'local', e1);
	IF o.body->>'access' <> 'limited' OR o.body ? 'family' OR o.body ? 'members' THEN
		RAISE EXCEPTION 'api.get_episode for a limited member: %', o.body;
	END IF;
	FOREACH f IN ARRAY ARRAY['list_notes', 'list_members', 'list_team'] LOOP
		err := pg_temp.fails_with(format('SELECT api.%I(%L, %L, %L, %L, 50, NULL, NULL)',
		    f, 'rls03-token-lim', 'sql-test', 'local', e1), 'KW403');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'api.% for a limited member %', f, err;
		END IF;
	END LOOP;
END
$$;

------------------------------------------------------------------------------
-- The unrelated practitioner, more closely: nothing by join, nothing from
-- the helpers (404: the episode does not exist for them), and kw.staff_v,
-- which shows names of staff to anyone signed in, leads nowhere.

DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	e2 uuid := pg_temp.id('e2');
	err text;
	q text;
BEGIN
	PERFORM pg_temp.act_as('stranger', 'practitioner');
	IF (SELECT count(*) FROM kw.staff_v)
	    <> current_setting('kwtest.users_total')::bigint THEN
		RAISE EXCEPTION 'kw.staff_v shows a signed-in practitioner % of % accounts',
		    (SELECT count(*) FROM kw.staff_v), current_setting('kwtest.users_total');
	END IF;
	FOREACH q IN ARRAY ARRAY[
	    'SELECT count(*) FROM kw.notes n JOIN kw.episodes e ON e.id = n.episode_id',
	    'SELECT count(*) FROM kw.notes n LEFT JOIN kw.episodes e ON e.id = n.episode_id',
	    'SELECT count(*) FROM kw.episodes e RIGHT JOIN kw.members m ON m.episode_id = e.id',
	    'SELECT count(*) FROM kw.team_members t JOIN kw.staff_v s ON s.id = t.user_id',
	    'SELECT count(*) FROM kw.staff_v s JOIN kw.episodes e ON e.keyworker_id = s.id',
	    'SELECT count(*) FROM kw.staff_v s WHERE EXISTS (SELECT 1 FROM kw.notes n '
		'WHERE n.author_id = s.id)',
	    'SELECT count(*) FROM kw.alerts a JOIN kw.notes n ON n.id = a.note_id',
	    'SELECT count(*) FROM kw.families f JOIN kw.episodes e ON e.family_id = f.id'] LOOP
		IF pg_temp.run_count(q) <> 0 THEN
			RAISE EXCEPTION 'an unrelated practitioner sees rows through: %', q;
		END IF;
	END LOOP;
	IF e1 = ANY (kw.my_episodes(false)) OR e2 = ANY (kw.my_episodes(false))
	    OR cardinality(kw.my_reports()) <> 0 OR cardinality(kw.my_areas()) <> 0 THEN
		RAISE EXCEPTION 'kw.my_* list a fixture episode for an unrelated practitioner';
	END IF;
	IF kw.episode_access(e1) IS NOT NULL OR kw.episode_writer(e1) THEN
		RAISE EXCEPTION 'kw.episode_access/kw.episode_writer give an unrelated practitioner a level';
	END IF;
	FOREACH q IN ARRAY ARRAY[
	    format('SELECT kw.episode_out(%L)', e1),
	    format('SELECT kw.require_full(%L, %L)', e1, 'notes'),
	    format('SELECT kw.require_writer(%L, %L)', e1, 'change it'),
	    format('SELECT kw.add_note(%L, %L)', e1, '{"kind": "fact", "body": "x"}'),
	    format('SELECT api.get_episode(%L, %L, %L, %L)',
		'rls03-token-stranger', 'sql-test', 'local', e1),
	    format('SELECT api.list_notes(%L, %L, %L, %L, 50, NULL, NULL)',
		'rls03-token-stranger', 'sql-test', 'local', e1),
	    format('SELECT api.list_members(%L, %L, %L, %L, 50, NULL, NULL)',
		'rls03-token-stranger', 'sql-test', 'local', e1),
	    format('SELECT api.list_team(%L, %L, %L, %L, 50, NULL, NULL)',
		'rls03-token-stranger', 'sql-test', 'local', e1),
	    format('SELECT api.list_access_requests(%L, %L, %L, %L, 50, NULL, NULL)',
		'rls03-token-stranger', 'sql-test', 'local', e1),
	    format('SELECT api.get_note(%L, %L, %L, %L, %L)',
		'rls03-token-stranger', 'sql-test', 'local', e1, pg_temp.id('note1'))] LOOP
		-- api.* authenticate anew, so the identity is set again for each.
		PERFORM pg_temp.act_as('stranger', 'practitioner');
		err := pg_temp.fails_with(q, 'KW404');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'for an unrelated practitioner, % %', q, err;
		END IF;
	END LOOP;
	-- The list of episodes does not include it either.
	IF (SELECT count(*) FROM jsonb_array_elements(api.list_episodes('rls03-token-stranger',
	    'sql-test', 'local', 100, NULL, NULL, NULL, NULL, NULL, NULL))) <> 0 THEN
		RAISE EXCEPTION 'api.list_episodes lists episodes to an unrelated practitioner';
	END IF;
END
$$;

-- An admin sees every account and no case content: 404 as for anyone else.
DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	err text;
BEGIN
	PERFORM pg_temp.act_as('admin', 'admin');
	IF (SELECT count(*) FROM kw.users) <> current_setting('kwtest.users_total')::bigint THEN
		RAISE EXCEPTION 'an admin does not see every account: the check proves nothing';
	END IF;
	err := pg_temp.fails_with(format('SELECT kw.episode_out(%L)', e1), 'KW404');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'kw.episode_out for an admin %', err;
	END IF;
	err := pg_temp.fails_with(format('SELECT api.get_episode(%L, %L, %L, %L)',
	    'rls03-token-admin', 'sql-test', 'local', e1), 'KW404');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'api.get_episode for an admin %', err;
	END IF;
END
$$;

-- The manager and the coordinator see E1 in full, and E2 not at all.
DO $$
DECLARE
	o record;
	err text;
	who text;
BEGIN
	FOREACH who IN ARRAY ARRAY['mgr', 'coord'] LOOP
		PERFORM pg_temp.act_as(who,
		    CASE who WHEN 'mgr' THEN 'manager,practitioner' ELSE 'coordinator' END);
		SELECT * INTO o FROM kw.episode_out(pg_temp.id('e1'));
		IF o.body->>'access' <> 'full' OR jsonb_array_length(o.body->'members') <> 3
		    OR o.body->'family'->>'postcode' <> 'EA1 1AA' THEN
			RAISE EXCEPTION 'kw.episode_out of E1 for %: %', who, o.body;
		END IF;
		err := pg_temp.fails_with(format('SELECT kw.episode_out(%L)', pg_temp.id('e2')),
		    'KW404');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'kw.episode_out of E2 for % %', who, err;
		END IF;
	END LOOP;
END
$$;

------------------------------------------------------------------------------
-- Writing notes: the keyworker and full members, as themselves; a limited
-- member or a stranger is refused by the policy itself (42501), whatever
-- the API's own checks. Each block undoes its writes by raising KWT01 and
-- catching it.

DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	ins text := 'INSERT INTO kw.notes (episode_id, author_id, kind, body) '
	    'VALUES (%L, %L, %L, %L)';
	err text;
	who text;
BEGIN
	FOREACH who IN ARRAY ARRAY['lim', 'stranger', 'lim2'] LOOP
		PERFORM pg_temp.act_as(who, 'practitioner');
		err := pg_temp.fails_with(format(ins, e1, pg_temp.id(who), 'fact', 'no'), '42501');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'a note on E1 by % %', who, err;
		END IF;
	END LOOP;
	-- Nor may a full member write as someone else.
	PERFORM pg_temp.act_as('fullm', 'practitioner');
	err := pg_temp.fails_with(format(ins, e1, pg_temp.id('kw1'), 'fact', 'no'), '42501');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'a full member''s note as the keyworker %', err;
	END IF;
	-- Nor may a manager or coordinator: they read, and do not write notes.
	PERFORM pg_temp.act_as('coord', 'coordinator');
	err := pg_temp.fails_with(format(ins, e1, pg_temp.id('coord'), 'fact', 'no'), '42501');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'a note by the coordinator %', err;
	END IF;
	-- A partner system has no user to write as.
	PERFORM pg_temp.act_as_partner('partner1', 'agency_p1');
	err := pg_temp.fails_with(format(ins, e1, pg_temp.id('fullm'), 'fact', 'no'), '42501');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'a note by a partner system %', err;
	END IF;

	BEGIN
		PERFORM pg_temp.act_as('fullm', 'practitioner');
		EXECUTE format(ins, e1, pg_temp.id('fullm'), 'fact', 'RLS 03: a full member''s note');
		IF (SELECT count(*) FROM kw.notes WHERE episode_id = e1) <> 3 THEN
			RAISE EXCEPTION 'the full member''s new note is not visible to them';
		END IF;
		PERFORM pg_temp.act_as('kw1', 'practitioner');
		EXECUTE format(ins, e1, pg_temp.id('kw1'), 'fact', 'RLS 03: the keyworker''s note');
		IF (SELECT count(*) FROM kw.notes WHERE episode_id = e1) <> 4 THEN
			RAISE EXCEPTION 'the keyworker does not see both new notes';
		END IF;
		-- The limited member still sees none of them.
		PERFORM pg_temp.act_as('lim', 'practitioner');
		IF (SELECT count(*) FROM kw.notes) <> 0 THEN
			RAISE EXCEPTION 'a limited member sees the new notes';
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

-- No one changes or deletes a note through the API role: not even its
-- author, the keyworker (no UPDATE or DELETE privilege; the trigger would
-- refuse besides).
DO $$
DECLARE
	err text;
	q text;
BEGIN
	PERFORM pg_temp.act_as('kw1', 'manager,coordinator,admin,practitioner');
	FOREACH q IN ARRAY ARRAY[
	    format('UPDATE kw.notes SET body = %L WHERE id = %L', 'changed', pg_temp.id('note1')),
	    format('DELETE FROM kw.notes WHERE id = %L', pg_temp.id('note1')),
	    'TRUNCATE kw.notes, kw.alerts'] LOOP
		err := pg_temp.fails_with(q, '42501');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'as the API role, % %', q, err;
		END IF;
	END LOOP;
END
$$;

------------------------------------------------------------------------------
-- The team: the keyworker and their manager add to it; a full member may
-- not, and no member may raise their own level or remove anyone.

DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	ins text := 'INSERT INTO kw.team_members (episode_id, user_id, level, added_by) '
	    'VALUES (%L, %L, %L, %L)';
	err text;
	n integer;
BEGIN
	PERFORM pg_temp.act_as('fullm', 'practitioner');
	err := pg_temp.fails_with(format(ins, e1, pg_temp.id('stranger'), 'full',
	    pg_temp.id('fullm')), '42501');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'a full member adding to the team %', err;
	END IF;
	DELETE FROM kw.team_members WHERE episode_id = e1;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n <> 0 THEN
		RAISE EXCEPTION 'a full member removed % team members', n;
	END IF;

	PERFORM pg_temp.act_as('lim', 'practitioner');
	UPDATE kw.team_members SET level = 'full' WHERE user_id = kw.current_user_id();
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n <> 0 THEN
		RAISE EXCEPTION 'a limited member raised their own level';
	END IF;
	err := pg_temp.fails_with(format(ins, e1, pg_temp.id('lim2'), 'full',
	    pg_temp.id('lim')), '42501');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'a limited member adding to the team %', err;
	END IF;

	-- The coordinator reads the whole team but does not manage it.
	PERFORM pg_temp.act_as('coord', 'coordinator');
	err := pg_temp.fails_with(format(ins, e1, pg_temp.id('stranger'), 'full',
	    pg_temp.id('coord')), '42501');
	IF err IS NOT NULL THEN
		RAISE EXCEPTION 'the coordinator adding to the team %', err;
	END IF;

	BEGIN
		PERFORM pg_temp.act_as('kw1', 'practitioner');
		EXECUTE format(ins, e1, pg_temp.id('stranger'), 'limited', pg_temp.id('kw1'));
		PERFORM pg_temp.act_as('mgr', 'manager,practitioner');
		EXECUTE format(ins, e1, pg_temp.id('lim2'), 'full', pg_temp.id('mgr'));
		-- At once, the stranger sees the summary, and lim2 all of E1.
		PERFORM pg_temp.act_as('stranger', 'practitioner');
		PERFORM pg_temp.expect('stranger just added at limited level', 'episodes=1/0 '
		    'families=0/0 members=0/0 consents=0/0 team=1/0 requests=0/0 notes=0/0 '
		    'alerts=0/0');
		PERFORM pg_temp.act_as('lim2', 'practitioner');
		PERFORM pg_temp.expect('lim2 just added to E1 at full level', 'episodes=1/1 '
		    'families=1/0 members=3/0 consents=2/0 team=4/1 requests=1/0 notes=2/0 '
		    'alerts=0/0');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

-- Removing a member, or lowering their level, holds from the very next
-- statement: nothing of the earlier reach is cached.
DO $$
DECLARE
	e1 uuid := pg_temp.id('e1');
	n integer;
BEGIN
	BEGIN
		PERFORM pg_temp.act_as('fullm', 'practitioner');
		PERFORM pg_temp.expect('full member before the change', 'episodes=1/0 '
		    'families=1/0 members=3/0 consents=2/0 team=2/0 requests=0/0 notes=2/0 '
		    'alerts=1/0');
		PERFORM pg_temp.act_as('kw1', 'practitioner');
		UPDATE kw.team_members SET level = 'limited', version = version + 1
		WHERE episode_id = e1 AND user_id = pg_temp.id('fullm');
		GET DIAGNOSTICS n = ROW_COUNT;
		IF n <> 1 THEN
			RAISE EXCEPTION 'the keyworker could not lower a level (% rows)', n;
		END IF;
		PERFORM pg_temp.act_as('fullm', 'practitioner');
		PERFORM pg_temp.expect('full member just lowered to limited', 'episodes=1/0 '
		    'families=0/0 members=0/0 consents=0/0 team=1/0 requests=0/0 notes=0/0 '
		    'alerts=1/0');
		IF (SELECT o.body->>'access' FROM kw.episode_out(e1) o) <> 'limited' THEN
			RAISE EXCEPTION 'kw.episode_out still gives full access after lowering';
		END IF;
		IF pg_temp.fails_with(format('INSERT INTO kw.notes (episode_id, author_id, kind, '
		    'body) VALUES (%L, %L, %L, %L)', e1, pg_temp.id('fullm'), 'fact', 'no'),
		    '42501') IS NOT NULL THEN
			RAISE EXCEPTION 'a member just lowered to limited can still add a note';
		END IF;
		-- The partner's reach follows its practitioner's level too.
		PERFORM pg_temp.act_as_partner('partner1', 'agency_p1');
		PERFORM pg_temp.expect('partner one after full was lowered', 'episodes=1/1 '
		    'families=0/0 members=0/0 consents=0/0 team=0/0 requests=0/0 notes=0/0 '
		    'alerts=0/0');

		PERFORM pg_temp.act_as('kw1', 'practitioner');
		DELETE FROM kw.team_members WHERE episode_id = e1 AND user_id = pg_temp.id('fullm');
		GET DIAGNOSTICS n = ROW_COUNT;
		IF n <> 1 THEN
			RAISE EXCEPTION 'the keyworker could not remove a member (% rows)', n;
		END IF;
		PERFORM pg_temp.act_as('fullm', 'practitioner');
		-- The episode is gone for them, and with it their alerts on it.
		PERFORM pg_temp.expect('full member just removed', 'episodes=0/0 '
		    'families=0/0 members=0/0 consents=0/0 team=0/0 requests=0/0 notes=0/0 '
		    'alerts=0/0');
		IF pg_temp.fails_with(format('SELECT kw.episode_out(%L)', e1), 'KW404') IS NOT NULL THEN
			RAISE EXCEPTION 'kw.episode_out still answers a removed member';
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
	-- Undone: full access again.
	PERFORM pg_temp.act_as('fullm', 'practitioner');
	PERFORM pg_temp.expect('full member after the undo', 'episodes=1/0 '
	    'families=1/0 members=3/0 consents=2/0 team=2/0 requests=0/0 notes=2/0 '
	    'alerts=1/0');
END
$$;

-- The same across transactions, as the server runs them: one request
-- removes the member, the member's next request sees nothing. Rolled back
-- at the end.
BEGIN;
DO $$
BEGIN
	PERFORM pg_temp.act_as('kw1', 'practitioner');
	DELETE FROM kw.team_members
	WHERE episode_id = pg_temp.id('e1') AND user_id = pg_temp.id('fullm');
END
$$;
DO $$
BEGIN
	PERFORM pg_temp.act_as('fullm', 'practitioner');
	PERFORM pg_temp.expect('full member in the statement after removal', 'episodes=0/0 '
	    'families=0/0 members=0/0 consents=0/0 team=0/0 requests=0/0 notes=0/0 '
	    'alerts=0/0');
END
$$;
ROLLBACK;

RESET ROLE;

------------------------------------------------------------------------------
-- Not even the owner, whose policy admits every row, changes or deletes a
-- note: the trigger refuses (KW422), and the note is as it was.

DO $$
DECLARE
	err text;
	q text;
BEGIN
	ASSERT current_user <> 'keywork_api', 'still running as keywork_api';
	FOREACH q IN ARRAY ARRAY[
	    format('UPDATE kw.notes SET body = %L WHERE id = %L', 'changed', pg_temp.id('note1')),
	    format('DELETE FROM kw.notes WHERE id = %L', pg_temp.id('note1')),
	    -- With alerts too: their foreign key would stop notes alone first.
	    'TRUNCATE kw.notes, kw.alerts'] LOOP
		err := pg_temp.fails_with(q, 'KW422');
		IF err IS NOT NULL THEN
			RAISE EXCEPTION 'as the owner, % %', q, err;
		END IF;
	END LOOP;
	IF (SELECT body FROM kw.notes WHERE id = pg_temp.id('note1'))
	    IS DISTINCT FROM 'RLS 03: first home visit.' THEN
		RAISE EXCEPTION 'note1 changed';
	END IF;
END
$$;

-- The fixture is as it was: every write above was undone.
DO $$
DECLARE
	got text := pg_temp.visible();
BEGIN
	IF got <> 'episodes=1/1 families=1/1 members=3/2 consents=2/1 team=2/1 '
	    'requests=1/1 notes=2/1 alerts=3/1' THEN
		RAISE EXCEPTION 'the fixture changed during the test: %', got;
	END IF;
END
$$;

-- The sign-in secrets made above go; the case fixture stays (notes cannot
-- be deleted, so neither can their episodes).
DELETE FROM kw.token_families WHERE user_id IN (:'stranger', :'lim', :'admin');
DELETE FROM kw.api_clients WHERE id IN (:'partner1', :'partner2');
REVOKE keywork_api FROM CURRENT_USER;
