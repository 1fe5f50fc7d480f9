-- The audit trail (0013): reads and writes through the api.* operations
-- leave exactly the entries expected, with the caller's identity, request id
-- and address; a write rolled back leaves none; the API role can neither
-- read nor change kw.audit, nor seal it; even the owner cannot change or
-- remove an entry while the trigger stands; sealing gives contiguous
-- positions and a chain that recomputes; data-protection officers see no
-- case work but read the trail, line managers read their reports'
-- episodes' entries, nobody else any. Run as the schema owner, calling the
-- operations as keywork_api with bearer-token hashes, as the server does.
-- Any failure raises.
--
-- The fixture is removed at the end; its audit entries stay (they cannot
-- be removed: that is the point).

GRANT keywork_api TO CURRENT_USER;
-- Checks raise; their results are not printed.
\o /dev/null

\set area '00000000-0000-4000-8000-000000000701'
\set agency '00000000-0000-4000-8000-000000000711'
\set mgr '00000000-0000-4000-8000-000000000721'
\set kw1 '00000000-0000-4000-8000-000000000722'
\set kw2 '00000000-0000-4000-8000-000000000723'
\set dpo '00000000-0000-4000-8000-000000000724'
\set other '00000000-0000-4000-8000-000000000725'
\set f1 '00000000-0000-4000-8000-000000000731'
\set f2 '00000000-0000-4000-8000-000000000732'
\set e1 '00000000-0000-4000-8000-000000000741'
\set e2 '00000000-0000-4000-8000-000000000742'
\set m1 '00000000-0000-4000-8000-000000000751'

SET kwtest.e1 = :'e1';
SET kwtest.e2 = :'e2';
SET kwtest.m1 = :'m1';
SET kwtest.kw1 = :'kw1';
SET kwtest.agency = :'agency';

INSERT INTO kw.areas (id, name) VALUES (:'area', 'Audit test 07: area')
ON CONFLICT DO NOTHING;
INSERT INTO kw.agencies (id, name, kind) VALUES (:'agency', 'Audit test 07: agency', 'other')
ON CONFLICT DO NOTHING;
INSERT INTO kw.users (id, email, name, password_hash, agency_id, area_id, roles, manager_id)
VALUES
	(:'mgr', 'audit07-mgr@test.example.org', 'Audit 07 Manager', 'not a hash', :'agency',
	    :'area', ARRAY['manager', 'practitioner'], NULL),
	(:'dpo', 'audit07-dpo@test.example.org', 'Audit 07 DPO', 'not a hash', :'agency',
	    :'area', ARRAY['data_protection'], NULL),
	(:'other', 'audit07-other@test.example.org', 'Audit 07 Other', 'not a hash', :'agency',
	    :'area', ARRAY['practitioner'], NULL)
ON CONFLICT DO NOTHING;
INSERT INTO kw.users (id, email, name, password_hash, agency_id, area_id, roles, manager_id)
VALUES
	(:'kw1', 'audit07-kw1@test.example.org', 'Audit 07 Keyworker', 'not a hash', :'agency',
	    :'area', ARRAY['practitioner'], :'mgr'),
	(:'kw2', 'audit07-kw2@test.example.org', 'Audit 07 Unmanaged', 'not a hash', :'agency',
	    :'area', ARRAY['practitioner'], NULL)
ON CONFLICT DO NOTHING;
INSERT INTO kw.families (id, name, area_id) VALUES
	(:'f1', 'Audit07 One', :'area'), (:'f2', 'Audit07 Two', :'area')
ON CONFLICT DO NOTHING;
INSERT INTO kw.episodes (id, family_id, family_name, area_id, keyworker_id, lead_agency_id,
    registered_by, assessment_due, first_taf_meeting_due)
VALUES
	(:'e1', :'f1', 'Audit07 One', :'area', :'kw1', :'agency', :'kw1',
	    kw.local_date(now()) + 21, kw.local_date(now()) + 42),
	(:'e2', :'f2', 'Audit07 Two', :'area', :'kw2', :'agency', :'kw2',
	    kw.local_date(now()) + 21, kw.local_date(now()) + 42)
ON CONFLICT DO NOTHING;
INSERT INTO kw.members (id, episode_id, given_name, family_name, date_of_birth,
    relationship, is_child)
VALUES (:'m1', :'e1', 'Ada', 'One', '2016-03-01', 'daughter', true)
ON CONFLICT DO NOTHING;
-- What a run stopped half way added.
DELETE FROM kw.members WHERE episode_id = :'e1' AND id <> :'m1';

INSERT INTO kw.token_families (id, user_id) VALUES
	('00000000-0000-4000-8000-0000000007f1', :'mgr'),
	('00000000-0000-4000-8000-0000000007f2', :'kw1'),
	('00000000-0000-4000-8000-0000000007f3', :'kw2'),
	('00000000-0000-4000-8000-0000000007f4', :'dpo'),
	('00000000-0000-4000-8000-0000000007f5', :'other')
ON CONFLICT DO NOTHING;
INSERT INTO kw.access_tokens (token_hash, family_id, expires_at) VALUES
	('audit07-mgr', '00000000-0000-4000-8000-0000000007f1', now() + interval '1 hour'),
	('audit07-kw1', '00000000-0000-4000-8000-0000000007f2', now() + interval '1 hour'),
	('audit07-kw2', '00000000-0000-4000-8000-0000000007f3', now() + interval '1 hour'),
	('audit07-dpo', '00000000-0000-4000-8000-0000000007f4', now() + interval '1 hour'),
	('audit07-other', '00000000-0000-4000-8000-0000000007f5', now() + interval '1 hour')
ON CONFLICT (token_hash) DO UPDATE SET expires_at = excluded.expires_at;

-- Request ids unique to this run, so that a second run finds only its own.
SELECT 'a07-' || md5(random()::text) AS run \gset
SET kwtest.run = :'run';

CREATE FUNCTION pg_temp.expect(p_what text, p_got text, p_want text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF p_got IS DISTINCT FROM p_want THEN
		RAISE EXCEPTION E'%:\n  expected [%]\n  got      [%]', p_what, p_want, p_got;
	END IF;
END
$$;

-- The entries of one request, as text: action entity record episode user
-- client agency roles addr record_ids, one per line in id order.
CREATE FUNCTION pg_temp.entries(p_rid text) RETURNS text
LANGUAGE sql AS $$
	SELECT string_agg(concat_ws(' ', a.action, a.entity, coalesce(a.record_id::text, '-'),
	    coalesce(a.episode_id::text, '-'), coalesce(a.user_id::text, '-'),
	    coalesce(a.client_id::text, '-'), coalesce(a.agency_id::text, '-'), a.roles,
	    coalesce(a.client_addr, '-'), coalesce(a.record_ids::text, '-')), E'\n' ORDER BY a.id)
	FROM kw.audit a WHERE a.request_id = current_setting('kwtest.run') || p_rid
$$;

-- p_sql (run as keywork_api) must fail with p_state.
CREATE FUNCTION pg_temp.api_fails(p_what text, p_sql text, p_state text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		SET LOCAL ROLE keywork_api;
		EXECUTE p_sql;
	EXCEPTION WHEN OTHERS THEN
		IF SQLSTATE = p_state THEN
			RETURN;
		END IF;
		RAISE EXCEPTION '%: failed with % (%), not %', p_what, SQLSTATE, SQLERRM, p_state;
	END;
	RAISE EXCEPTION '%: succeeded, where % was expected', p_what, p_state;
END
$$;

------------------------------------------------------------------------------
-- A read of one record, a list, a write: one entry each, as the caller.

SET ROLE keywork_api;
SELECT 1 FROM api.get_episode('audit07-kw1', :'run' || '-get', '198.51.100.7', :'e1');
SELECT 1 FROM api.list_members('audit07-kw1', :'run' || '-list', '198.51.100.7', :'e1',
    50, NULL, NULL);
SELECT (api.create_member('audit07-kw1', :'run' || '-write', '198.51.100.8', :'e1',
    '{"given_name": "Bo", "family_name": "One", "date_of_birth": "2018-05-02",
      "relationship": "son", "is_child": true}')).body->>'id' AS m2 \gset
RESET ROLE;

DO $$
DECLARE
	who text := current_setting('kwtest.kw1') || ' - ' || current_setting('kwtest.agency')
	    || ' practitioner';
	e1 text := current_setting('kwtest.e1');
BEGIN
	PERFORM pg_temp.expect('GET an episode: one read of it',
	    pg_temp.entries('-get'),
	    format('read episode %s %s %s 198.51.100.7 -', e1, e1, who));
	PERFORM pg_temp.expect('a list of members: one read naming what it returned',
	    pg_temp.entries('-list'),
	    format('read member - %s %s 198.51.100.7 {%s}', e1, who,
		current_setting('kwtest.m1')));
END
$$;
SELECT pg_temp.expect('a new member: one create of it, nothing else',
    pg_temp.entries('-write'),
    format('create member %s %s %s - %s practitioner 198.51.100.8 -', :'m2', :'e1', :'kw1',
	:'agency'));

-- Written in the request's transaction: rolled back with it.
DO $$
BEGIN
	BEGIN
		SET LOCAL ROLE keywork_api;
		PERFORM api.create_member('audit07-kw1', current_setting('kwtest.run') || '-undone',
		    '198.51.100.9', current_setting('kwtest.e1')::uuid,
		    '{"given_name": "Cy", "family_name": "One", "date_of_birth": "2019-01-02",
		      "relationship": "son", "is_child": true}');
		IF (SELECT count(*) FROM kw.members WHERE given_name = 'Cy'
		    AND episode_id = current_setting('kwtest.e1')::uuid) <> 1 THEN
			RAISE EXCEPTION 'the member was not written';
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT07';
	EXCEPTION WHEN SQLSTATE 'KWT07' THEN
		NULL;
	END;
	RESET ROLE;
	PERFORM pg_temp.expect('a write rolled back leaves no entry',
	    pg_temp.entries('-undone'), NULL);
END
$$;
-- A refused read (403, 404) returns nothing and records nothing.
SELECT pg_temp.api_fails('another practitioner reading the episode',
    format('SELECT api.get_episode(%L, %L, %L, %L)', 'audit07-other', :'run' || '-refused',
	'198.51.100.9', :'e1'), 'KW404');
SELECT pg_temp.expect('a refused read leaves no entry', pg_temp.entries('-refused'), NULL);

------------------------------------------------------------------------------
-- Append-only: the API role reaches the trail only by appending a read.

SELECT pg_temp.api_fails('API role reads kw.audit', 'SELECT count(*) FROM kw.audit', '42501');
SELECT pg_temp.api_fails('API role inserts into kw.audit',
    'INSERT INTO kw.audit (roles, action, entity) VALUES (''x'', ''read'', ''note'')', '42501');
SELECT pg_temp.api_fails('API role updates kw.audit', 'UPDATE kw.audit SET roles = ''x''',
    '42501');
SELECT pg_temp.api_fails('API role deletes from kw.audit', 'DELETE FROM kw.audit', '42501');
SELECT pg_temp.api_fails('API role truncates kw.audit', 'TRUNCATE kw.audit', '42501');
SELECT pg_temp.api_fails('API role reads the head', 'SELECT * FROM kw.audit_head', '42501');
SELECT pg_temp.api_fails('API role seals', 'SELECT kw.audit_seal(10)', '42501');
SELECT pg_temp.api_fails('API role appends a write',
    'SELECT kw.audit_add(''delete'', ''note'', NULL, NULL, NULL)', '42501');

-- The owner neither: the trigger refuses, whatever the change.
DO $$
DECLARE
	one bigint := (SELECT min(id) FROM kw.audit
	    WHERE request_id = current_setting('kwtest.run') || '-get');
	st text;
BEGIN
	BEGIN
		UPDATE kw.audit SET roles = 'admin' WHERE id = one;
		RAISE EXCEPTION 'the owner changed an entry';
	EXCEPTION WHEN SQLSTATE 'KW422' THEN NULL;
	END;
	BEGIN
		DELETE FROM kw.audit WHERE id = one;
		RAISE EXCEPTION 'the owner removed an entry';
	EXCEPTION WHEN SQLSTATE 'KW422' THEN NULL;
	END;
	BEGIN
		TRUNCATE kw.audit;
		RAISE EXCEPTION 'the owner truncated the trail';
	EXCEPTION WHEN SQLSTATE 'KW422' THEN NULL;
	END;
	-- Sealing fills the chain once and changes nothing else.
	BEGIN
		UPDATE kw.audit SET seq = -1, prev_hash = '\x00', hash = '\x00',
		    client_addr = 'elsewhere' WHERE id = one;
		RAISE EXCEPTION 'a seal changed another column';
	EXCEPTION WHEN SQLSTATE 'KW422' THEN NULL;
	END;
END
$$;

------------------------------------------------------------------------------
-- Sealing: every committed entry gets the next place; the chain recomputes.

DO $$
DECLARE
	before bigint := (SELECT seq FROM kw.audit_head);
	n integer;
	bad bigint;
BEGIN
	LOOP
		n := kw.audit_seal(1000);
		EXIT WHEN n < 1000;
	END LOOP;
	PERFORM pg_temp.expect('nothing left unsealed',
	    (SELECT count(*) FROM kw.audit WHERE seq IS NULL)::text, '0');
	PERFORM pg_temp.expect('positions 1..head without a gap',
	    (SELECT count(*) || ' ' || min(seq) || ' ' || max(seq) FROM kw.audit),
	    (SELECT seq || ' 1 ' || seq FROM kw.audit_head));
	IF (SELECT seq FROM kw.audit_head) <= before THEN
		RAISE EXCEPTION 'the head did not move';
	END IF;
	SELECT a.seq INTO bad FROM kw.audit a
	LEFT JOIN kw.audit p ON p.seq = a.seq - 1
	WHERE a.prev_hash IS DISTINCT FROM coalesce(p.hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
	    OR a.hash IS DISTINCT FROM sha256(a.prev_hash || convert_to(kw.audit_canon(a), 'UTF8'))
	ORDER BY a.seq LIMIT 1;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'the chain breaks at seq %', bad;
	END IF;
	PERFORM pg_temp.expect('the head is the last hash',
	    (SELECT encode(hash, 'hex') FROM kw.audit_head),
	    (SELECT encode(hash, 'hex') FROM kw.audit ORDER BY seq DESC LIMIT 1));
	-- A sealed entry is not sealed again.
	BEGIN
		UPDATE kw.audit SET seq = seq + 1000000
		WHERE seq = (SELECT seq FROM kw.audit_head);
		RAISE EXCEPTION 'a sealed entry was moved';
	EXCEPTION WHEN SQLSTATE 'KW422' THEN NULL;
	END;
	PERFORM pg_temp.expect('a second seal finds nothing', kw.audit_seal(1000)::text, '0');
END
$$;

------------------------------------------------------------------------------
-- Who reads the trail. Data protection: everything, and no case work.

SET ROLE keywork_api;
SELECT api.list_episodes('audit07-dpo', :'run' || '-dpo', '198.51.100.10', 200, NULL, NULL,
    NULL, NULL, NULL, NULL) AS dpo_episodes \gset
SELECT api.list_audit('audit07-dpo', :'run' || '-dpo', '198.51.100.10', 200, NULL, NULL,
    :'e1', NULL, NULL, NULL) AS dpo_audit \gset
SELECT api.list_audit('audit07-mgr', :'run' || '-mgr', '198.51.100.11', 200, NULL, NULL,
    NULL, NULL, NULL, NULL) AS mgr_audit \gset
SELECT api.list_audit('audit07-mgr', :'run' || '-mgr', '198.51.100.11', 200, NULL, NULL,
    :'e2', NULL, NULL, NULL) AS mgr_audit_e2 \gset
SELECT api.list_audit('audit07-dpo', :'run' || '-dpo', '198.51.100.10', 1, NULL, NULL,
    :'e1', :'kw1', NULL, NULL) AS dpo_page1 \gset
RESET ROLE;

SELECT pg_temp.expect('data protection sees no episodes', :'dpo_episodes', '[]');
SELECT pg_temp.api_fails('data protection opens an episode',
    format('SELECT api.get_episode(%L, %L, %L, %L)', 'audit07-dpo', 'x', 'x', :'e1'), 'KW404');
SELECT pg_temp.api_fails('data protection lists members',
    format('SELECT api.list_members(%L, %L, %L, %L, 50, NULL, NULL)', 'audit07-dpo', 'x',
	'x', :'e1'), 'KW404');
DO $$
DECLARE
	t text;
	n bigint;
BEGIN
	SET LOCAL ROLE keywork_api;
	PERFORM set_config('kw.user_id', '00000000-0000-4000-8000-000000000724', true);
	PERFORM set_config('kw.agency_id', current_setting('kwtest.agency'), true);
	PERFORM set_config('kw.roles', 'data_protection', true);
	FOREACH t IN ARRAY ARRAY['episodes', 'families', 'members', 'consents', 'team_members',
	    'notes', 'alerts', 'assessments', 'assessment_voices', 'meetings',
	    'meeting_invitees', 'actions', 'action_updates', 'outcome_scores', 'documents',
	    'transfers', 'step_ups', 'step_downs', 'closures'] LOOP
		EXECUTE format('SELECT count(*) FROM kw.%I', t) INTO n;
		IF n <> 0 THEN
			RAISE EXCEPTION 'data protection sees % rows of kw.%', n, t;
		END IF;
	END LOOP;
END
$$;

SELECT pg_temp.expect('data protection reads the episode''s entries, these among them',
    (SELECT string_agg(x->>'request_id', ' ' ORDER BY (x->>'id')::bigint)
     FROM jsonb_array_elements(:'dpo_audit'::jsonb) x
     WHERE x->>'request_id' LIKE :'run' || '%'),
    :'run' || '-get ' || :'run' || '-list ' || :'run' || '-write');
SELECT pg_temp.expect('newest first, sealed, and the filters hold',
    (SELECT string_agg(concat_ws(' ', x->>'user_id', x->>'episode_id', x->>'seq' IS NOT NULL,
	length(x->>'hash')), ',') FROM jsonb_array_elements(:'dpo_page1'::jsonb) x),
    :'kw1' || ' ' || :'e1' || ' t 64');
SELECT pg_temp.expect('the first page is the newest',
    (:'dpo_page1'::jsonb)->0->>'request_id', :'run' || '-write');

-- A line manager: their report's episode, not another's.
SELECT pg_temp.expect('the manager reads their report''s episode''s entries',
    (SELECT string_agg(DISTINCT x->>'episode_id', ' ') FROM jsonb_array_elements(:'mgr_audit'::jsonb) x
     WHERE x->>'request_id' LIKE :'run' || '%'), :'e1');
SELECT pg_temp.expect('the manager reads nothing of an episode not their reports''',
    :'mgr_audit_e2', '[]');
SELECT pg_temp.api_fails('a practitioner reads the trail',
    format('SELECT api.list_audit(%L, %L, %L, 50, NULL, NULL, NULL, NULL, NULL, NULL)',
	'audit07-kw1', 'x', 'x'), 'KW403');
SELECT pg_temp.api_fails('a partner-less, role-less caller reads the trail',
    format('SELECT api.list_audit(%L, %L, %L, 50, NULL, NULL, NULL, NULL, NULL, NULL)',
	'no such token', 'x', 'x'), 'KW401');

------------------------------------------------------------------------------
-- The fixture goes; its entries stay.

DELETE FROM kw.members WHERE episode_id IN (:'e1', :'e2');
DELETE FROM kw.episodes WHERE id IN (:'e1', :'e2');
DELETE FROM kw.families WHERE id IN (:'f1', :'f2');
DELETE FROM kw.token_families WHERE user_id IN (:'mgr', :'kw1', :'kw2', :'dpo', :'other');
DELETE FROM kw.users WHERE id IN (:'kw1', :'kw2');
DELETE FROM kw.users WHERE id IN (:'mgr', :'dpo', :'other');
DELETE FROM kw.agencies WHERE id = :'agency';
DELETE FROM kw.areas WHERE id = :'area';
SELECT pg_temp.expect('the entries outlive the records',
    (SELECT count(*) FROM kw.audit WHERE request_id LIKE :'run' || '%' AND action = 'read'
	AND entity = 'episode' AND record_id = :'e1')::text, '1');
