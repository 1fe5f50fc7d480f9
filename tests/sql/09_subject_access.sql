-- Subject access (0015): api.export_person gathers one person across
-- episodes (same given name, family name and date of birth, names in any
-- case), with each episode's content as far as it concerns them, and not
-- a different person's; its accessed_by lists the reads other users made
-- through the api.* operations, oldest first, and not reads of unrelated
-- episodes; only a data-protection officer may export (403 for anyone
-- else), an unknown id is 404; the export is itself one audit entry, of
-- entity 'person', and shows in the next export; an erased episode is
-- exported with its markers and is no longer matched by name. Run as the
-- schema owner in one transaction rolled back at the end (audit entries and
-- case notes cannot be removed), calling the operations as keywork_api
-- with bearer-token hashes, as the server does. Any failure raises.
--
--   e1  family f1, keyworker kw1: p1 Ada Lovelace 2012-12-10, her brother
--   e2  family f2, keyworker kw2: p2 ADA LOVELACE 2012-12-10 (the same
--       person), Adam Lovelace 2012-12-10 (not her)
--   e3  family f3, keyworker kw3: p3 Ada Lovelace 2012-12-11 (not her)
--   e4  family f4, closed long ago and erased: p4 Ada Lovelace 2012-12-10
--   e5  family f5, closed long ago and erased: Grace Hopper (after erasure
--       her record reads as p4's does)

BEGIN;
GRANT keywork_api TO CURRENT_USER;
-- Checks raise; their results are not printed.
\o /dev/null

\set area '00000000-0000-4000-8000-000000000901'
\set agency '00000000-0000-4000-8000-000000000902'
\set kw1 '00000000-0000-4000-8000-000000000911'
\set kw2 '00000000-0000-4000-8000-000000000912'
\set kw3 '00000000-0000-4000-8000-000000000913'
\set mgr '00000000-0000-4000-8000-000000000914'
\set adm '00000000-0000-4000-8000-000000000915'
\set dpo '00000000-0000-4000-8000-000000000916'
\set f1 '00000000-0000-4000-8000-000000000921'
\set f2 '00000000-0000-4000-8000-000000000922'
\set f3 '00000000-0000-4000-8000-000000000923'
\set f4 '00000000-0000-4000-8000-000000000924'
\set f5 '00000000-0000-4000-8000-000000000925'
\set e1 '00000000-0000-4000-8000-000000000931'
\set e2 '00000000-0000-4000-8000-000000000932'
\set e3 '00000000-0000-4000-8000-000000000933'
\set e4 '00000000-0000-4000-8000-000000000934'
\set e5 '00000000-0000-4000-8000-000000000935'
\set p1 '00000000-0000-4000-8000-000000000941'
\set p2 '00000000-0000-4000-8000-000000000942'
\set p3 '00000000-0000-4000-8000-000000000943'
\set p4 '00000000-0000-4000-8000-000000000944'
\set sib '00000000-0000-4000-8000-000000000945'
\set adam '00000000-0000-4000-8000-000000000946'
\set mt '00000000-0000-4000-8000-000000000951'
\set act '00000000-0000-4000-8000-000000000952'
\set doc '00000000-0000-4000-8000-000000000953'

SET kwtest.p1 = :'p1';
SET kwtest.p2 = :'p2';

INSERT INTO kw.areas (id, name) VALUES (:'area', 'Subject access test 09');
INSERT INTO kw.agencies (id, name, kind)
VALUES (:'agency', 'Subject access test 09 agency', 'local_authority');
INSERT INTO kw.users (id, email, name, password_hash, agency_id, area_id, roles) VALUES
	(:'mgr', 'sa09-mgr@test.example.org', 'Sa09 Manager', 'not a hash', :'agency', :'area',
	    ARRAY['manager']),
	(:'adm', 'sa09-adm@test.example.org', 'Sa09 Admin', 'not a hash', :'agency', :'area',
	    ARRAY['admin']),
	(:'dpo', 'sa09-dpo@test.example.org', 'Sa09 DPO', 'not a hash', :'agency', :'area',
	    ARRAY['data_protection']);
INSERT INTO kw.users (id, email, name, password_hash, agency_id, area_id, roles, manager_id)
VALUES
	(:'kw1', 'sa09-kw1@test.example.org', 'Sa09 Keyworker One', 'not a hash', :'agency',
	    :'area', ARRAY['practitioner'], :'mgr'),
	(:'kw2', 'sa09-kw2@test.example.org', 'Sa09 Keyworker Two', 'not a hash', :'agency',
	    :'area', ARRAY['practitioner'], :'mgr'),
	(:'kw3', 'sa09-kw3@test.example.org', 'Sa09 Keyworker Three', 'not a hash', :'agency',
	    :'area', ARRAY['practitioner'], :'mgr');
INSERT INTO kw.token_families (id, user_id) VALUES
	('00000000-0000-4000-8000-0000000009f1', :'kw1'),
	('00000000-0000-4000-8000-0000000009f2', :'kw2'),
	('00000000-0000-4000-8000-0000000009f3', :'kw3'),
	('00000000-0000-4000-8000-0000000009f4', :'mgr'),
	('00000000-0000-4000-8000-0000000009f5', :'adm'),
	('00000000-0000-4000-8000-0000000009f6', :'dpo');
INSERT INTO kw.access_tokens (token_hash, family_id, expires_at) VALUES
	('sa09-kw1', '00000000-0000-4000-8000-0000000009f1', now() + interval '1 hour'),
	('sa09-kw2', '00000000-0000-4000-8000-0000000009f2', now() + interval '1 hour'),
	('sa09-kw3', '00000000-0000-4000-8000-0000000009f3', now() + interval '1 hour'),
	('sa09-mgr', '00000000-0000-4000-8000-0000000009f4', now() + interval '1 hour'),
	('sa09-adm', '00000000-0000-4000-8000-0000000009f5', now() + interval '1 hour'),
	('sa09-dpo', '00000000-0000-4000-8000-0000000009f6', now() + interval '1 hour');

INSERT INTO kw.families (id, name, area_id, postcode) VALUES
	(:'f1', 'Sa09 Lovelace One', :'area', 'SA9 1AA'),
	(:'f2', 'Sa09 Lovelace Two', :'area', NULL),
	(:'f3', 'Sa09 Lovelace Three', :'area', NULL),
	(:'f4', 'Sa09 Lovelace Four', :'area', NULL),
	(:'f5', 'Sa09 Hopper', :'area', NULL);
INSERT INTO kw.episodes (id, family_id, family_name, area_id, keyworker_id, lead_agency_id,
    registered_by, registered_at, assessment_due, first_taf_meeting_due, status, closed_at)
SELECT v.id::uuid, v.f::uuid, v.name, :'area', v.k::uuid, :'agency', v.k::uuid, v.reg,
    kw.local_date(v.reg) + 21, kw.local_date(v.reg) + 42, v.status, v.closed
FROM (VALUES
	(:'e1', :'f1', 'Sa09 Lovelace One', :'kw1', now() - interval '20 days', 'registered',
	    NULL::timestamptz),
	(:'e2', :'f2', 'Sa09 Lovelace Two', :'kw2', now() - interval '10 days', 'registered',
	    NULL),
	(:'e3', :'f3', 'Sa09 Lovelace Three', :'kw3', now() - interval '5 days', 'registered',
	    NULL),
	(:'e4', :'f4', 'Sa09 Lovelace Four', :'kw1', now() - interval '900 days', 'closed',
	    now() - interval '800 days'),
	(:'e5', :'f5', 'Sa09 Hopper', :'kw1', now() - interval '900 days', 'closed',
	    now() - interval '800 days')
) AS v (id, f, name, k, reg, status, closed);
INSERT INTO kw.members (id, episode_id, given_name, family_name, date_of_birth,
    relationship, is_child, created_at) VALUES
	(:'p1', :'e1', 'Ada', 'Lovelace', '2012-12-10', 'daughter', true, now() - interval '20 days'),
	(:'sib', :'e1', 'Byron', 'Lovelace', '2014-01-02', 'son', true, now() - interval '20 days'),
	(:'p2', :'e2', 'ADA', 'LOVELACE', '2012-12-10', 'niece', true, now() - interval '10 days'),
	(:'adam', :'e2', 'Adam', 'Lovelace', '2012-12-10', 'nephew', true,
	    now() - interval '10 days'),
	(:'p3', :'e3', 'Ada', 'Lovelace', '2012-12-11', 'daughter', true, now() - interval '5 days'),
	(:'p4', :'e4', 'Ada', 'Lovelace', '2012-12-10', 'daughter', true,
	    now() - interval '900 days'),
	(gen_random_uuid(), :'e5', 'Grace', 'Hopper', '1996-12-09', 'daughter', true,
	    now() - interval '900 days');

-- Content of e1 about Ada (and some not about her); notes on each episode.
INSERT INTO kw.notes (episode_id, author_id, kind, body) VALUES
	(:'e1', :'kw1', 'fact', 'Sa09 note on one'),
	(:'e2', :'kw2', 'fact', 'Sa09 note on two'),
	(:'e3', :'kw3', 'fact', 'Sa09 note on three'),
	(:'e4', :'kw1', 'fact', 'Sa09 note on four');
INSERT INTO kw.consents (episode_id, kind, given_by, obtained_at, statement, recorded_by)
VALUES (:'e1', 'verbal', 'Sa09 Mother', now() - interval '20 days', 'Sa09 agreed', :'kw1');
INSERT INTO kw.assessments (episode_id, strengths, status, updated_by)
VALUES (:'e1', 'Sa09 strengths', 'draft', :'kw1');
INSERT INTO kw.assessment_voices (episode_id, member_id, in_own_words) VALUES
	(:'e1', :'p1', 'Sa09 Ada in her words'),
	(:'e1', :'sib', 'Sa09 Byron in his words');
INSERT INTO kw.meetings (id, episode_id, scheduled_at, venue, family_can_attend, created_by)
VALUES (:'mt', :'e1', now() + interval '3 days', 'Sa09 school', true, :'kw1');
INSERT INTO kw.meeting_invitees (meeting_id, episode_id, member_id) VALUES (:'mt', :'e1', :'p1');
INSERT INTO kw.actions (id, episode_id, what, owner_member_id, measure, due_date, created_by)
VALUES
	(:'act', :'e1', 'Sa09 Ada joins a club', :'p1', 'Sa09 goes weekly', kw.today() + 30,
	    :'kw1'),
	(gen_random_uuid(), :'e1', 'Sa09 Byron reads nightly', :'sib', 'Sa09 a book a week',
	    kw.today() + 30, :'kw1');
INSERT INTO kw.action_updates (action_id, episode_id, status, progress, created_by)
VALUES (:'act', :'e1', 'in_progress', 'Sa09 went once', :'kw1');
INSERT INTO kw.outcome_scores (episode_id, area_id, score, scored_on, recorded_by)
SELECT :'e1', id, 6, kw.today(), :'kw1' FROM kw.outcome_areas ORDER BY name LIMIT 1;
INSERT INTO kw.documents (id, episode_id, filename, content_type, size_bytes, sha256,
    content, uploaded_by)
SELECT :'doc', :'e1', 'sa09.txt', 'text/plain', octet_length(c), encode(sha256(c), 'hex'), c,
    :'kw1'
FROM (SELECT convert_to('Sa09 document content', 'UTF8') AS c) x;
INSERT INTO kw.closures (episode_id, reason, family_views, children_views, closed_by,
    closed_at)
VALUES (:'e4', 'outcomes_met', 'Sa09 family views', 'Sa09 children views', :'kw1',
    now() - interval '800 days');
SELECT kw.erase_episode(:'e4'), kw.erase_episode(:'e5');

CREATE FUNCTION pg_temp.expect(p_what text, p_got text, p_want text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF p_got IS DISTINCT FROM p_want THEN
		RAISE EXCEPTION E'%:\n  expected [%]\n  got      [%]', p_what, p_want, p_got;
	END IF;
END
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
-- Other users read the records through the API (each read is audited).

SET ROLE keywork_api;
SELECT 1 FROM api.get_episode('sa09-kw1', 'sa09-kw1-get', '198.51.100.91', :'e1');
SELECT 1 FROM api.list_members('sa09-kw1', 'sa09-kw1-members', '198.51.100.91', :'e1', 50,
    NULL, NULL);
SELECT 1 FROM api.list_notes('sa09-kw2', 'sa09-kw2-notes', '198.51.100.92', :'e2', 50,
    NULL, NULL);
-- The manager of all three keyworkers lists every episode.
SELECT 1 FROM api.list_episodes('sa09-mgr', 'sa09-mgr-episodes', '198.51.100.94', 50, NULL,
    NULL, NULL, NULL, NULL, NULL);
SELECT 1 FROM api.get_episode('sa09-kw3', 'sa09-kw3-get', '198.51.100.93', :'e3');
SELECT 1 FROM api.list_members('sa09-kw3', 'sa09-kw3-members', '198.51.100.93', :'e3', 50,
    NULL, NULL);
RESET ROLE;

SELECT count(*) AS audit_before FROM kw.audit \gset
SET ROLE keywork_api;
SELECT api.export_person('sa09-dpo', 'sa09-export-1', '198.51.100.99', :'p1') AS x \gset
RESET ROLE;
SET kwtest.x = :'x';

------------------------------------------------------------------------------
-- One person: Ada in e1 and e2, nobody else.

SELECT pg_temp.expect('the member asked for', :'x'::jsonb->>'member_id', :'p1');
SELECT pg_temp.expect('her member records, the one asked for first',
    (SELECT string_agg(m->>'id', ' ' ORDER BY o) FROM jsonb_array_elements(:'x'::jsonb->'members')
	WITH ORDINALITY AS t (m, o)),
    :'p1' || ' ' || :'p2');
SELECT pg_temp.expect('each record as held',
    (SELECT string_agg(concat_ws('/', m->>'given_name', m->>'family_name', m->>'date_of_birth',
	m->>'relationship', m->>'episode_id', m->>'included', m->>'lives_in_household'), ' '
	ORDER BY o) FROM jsonb_array_elements(:'x'::jsonb->'members') WITH ORDINALITY AS t (m, o)),
    format('Ada/Lovelace/2012-12-10/daughter/%s/true/true ADA/LOVELACE/2012-12-10/niece/%s/true/true',
	:'e1', :'e2'));
SELECT pg_temp.expect('her two episodes, oldest first',
    (SELECT string_agg(e->'episode'->>'id', ' ' ORDER BY o)
     FROM jsonb_array_elements(:'x'::jsonb->'episodes') WITH ORDINALITY AS t (e, o)),
    :'e1' || ' ' || :'e2');
SELECT pg_temp.expect('each episode names her record in it',
    (SELECT string_agg(e->>'member_ids', ' ' ORDER BY o)
     FROM jsonb_array_elements(:'x'::jsonb->'episodes') WITH ORDINALITY AS t (e, o)),
    format('["%s"] ["%s"]', :'p1', :'p2'));
SELECT pg_temp.expect('the episode, its area and keyworker by name',
    (SELECT concat_ws('/', e->'episode'->>'status', e->'episode'->>'keyworker',
	e->'episode'->>'area', e->'episode'->>'erased_at', e->'family'->>'name',
	e->'family'->>'postcode')
     FROM jsonb_array_elements(:'x'::jsonb->'episodes') e WHERE e->'episode'->>'id' = :'e1'),
    'registered/Sa09 Keyworker One/Subject access test 09/Sa09 Lovelace One/SA9 1AA');
SELECT pg_temp.expect('every note of both episodes, and none of another',
    (SELECT string_agg(n->>'body' || ' by ' || (n->>'author'), ', ' ORDER BY n->>'body')
     FROM jsonb_array_elements(:'x'::jsonb->'episodes') e,
	jsonb_array_elements(e->'notes') n),
    'Sa09 note on one by Sa09 Keyworker One, Sa09 note on two by Sa09 Keyworker Two');
SELECT pg_temp.expect('nothing of the other Adas, or about Byron only, anywhere in it',
    (SELECT string_agg(v, ', ') FROM (VALUES (:'p3'), (:'e3'), (:'f3'), (:'p4'), (:'e4'),
	('three'), ('four'), ('byron in his words'), ('byron reads nightly')) w (v)
     WHERE position(v IN lower(:'x')) > 0),
    NULL);
SELECT pg_temp.expect('the content of e1 as far as it concerns her',
    (SELECT concat_ws(' | ',
	e->'consents'->0->>'given_by', e->'assessment'->>'strengths',
	(SELECT string_agg(v->>'in_own_words', ',') FROM jsonb_array_elements(e->'voices') v),
	(SELECT string_agg(m->>'venue' || '/' || (m->>'attendance'), ',')
	    FROM jsonb_array_elements(e->'meetings') m),
	(SELECT string_agg(a->>'what' || '/' || (a->'updates'->0->>'progress'), ',')
	    FROM jsonb_array_elements(e->'actions') a),
	jsonb_array_length(e->'outcome_scores'),
	(SELECT string_agg(d->>'filename' || '/' || (d->>'size_bytes') || '/' || (d->>'sha256'), ',')
	    FROM jsonb_array_elements(e->'documents') d),
	(e->'documents'->0 ? 'content')::text)
     FROM jsonb_array_elements(:'x'::jsonb->'episodes') e WHERE e->'episode'->>'id' = :'e1'),
    'Sa09 Mother | Sa09 strengths | Sa09 Ada in her words | Sa09 school/invited | '
	|| 'Sa09 Ada joins a club/Sa09 went once | 1 | sa09.txt/21/'
	|| encode(sha256(convert_to('Sa09 document content', 'UTF8')), 'hex') || ' | false');
SELECT pg_temp.expect('e2 has no assessment',
    (SELECT e->>'assessment' FROM jsonb_array_elements(:'x'::jsonb->'episodes') e
     WHERE e->'episode'->>'id' = :'e2'), NULL);

------------------------------------------------------------------------------
-- Who accessed her records: the reads above of e1 and e2, oldest first;
-- not those of e3.

SELECT pg_temp.expect('the reads of her episodes, in order, by whom, from where',
    (SELECT string_agg(concat_ws('/', a->>'request_id', a->>'action', a->>'entity',
	a->>'user', a->>'agency', a->>'client_addr'), ', ' ORDER BY (a->>'id')::bigint)
     FROM jsonb_array_elements(:'x'::jsonb->'accessed_by') a
     WHERE a->>'request_id' LIKE 'sa09-%'),
    'sa09-kw1-get/read/episode/Sa09 Keyworker One/Subject access test 09 agency/198.51.100.91, '
    'sa09-kw1-members/read/member/Sa09 Keyworker One/Subject access test 09 agency/198.51.100.91, '
    'sa09-kw2-notes/read/note/Sa09 Keyworker Two/Subject access test 09 agency/198.51.100.92, '
    'sa09-mgr-episodes/read/episode/Sa09 Manager/Subject access test 09 agency/198.51.100.94');
SELECT pg_temp.expect('oldest first throughout',
    (SELECT bool_and(o = r)::text FROM (SELECT o, row_number() OVER (ORDER BY (a->>'id')::bigint) r
     FROM jsonb_array_elements(:'x'::jsonb->'accessed_by') WITH ORDINALITY AS t (a, o)) s),
    'true');
SELECT pg_temp.expect('a list read names the records of her episodes',
    (SELECT a->>'record_ids' FROM jsonb_array_elements(:'x'::jsonb->'accessed_by') a
     WHERE a->>'request_id' = 'sa09-kw1-members'),
    format('["%s", "%s"]', least(:'p1', :'sib'), greatest(:'p1', :'sib')));
SELECT pg_temp.expect('a list of every episode names only hers',
    (SELECT string_agg(r, ' ' ORDER BY r) FROM jsonb_array_elements(:'x'::jsonb->'accessed_by') a,
	jsonb_array_elements_text(a->'record_ids') r
     WHERE a->>'request_id' = 'sa09-mgr-episodes'),
    :'e1' || ' ' || :'e2');
SELECT pg_temp.expect('the writes are there too (the fixture''s, by the system)',
    (SELECT count(*) > 0 FROM jsonb_array_elements(:'x'::jsonb->'accessed_by') a
     WHERE a->>'action' = 'create' AND a->>'entity' = 'note'
	AND a->>'episode_id' = :'e1')::text, 'true');
SELECT pg_temp.expect('nothing about e3 or e4',
    (SELECT count(*) FROM jsonb_array_elements(:'x'::jsonb->'accessed_by') a
     WHERE a->>'episode_id' IN (:'e3', :'e4') OR a->>'request_id' LIKE 'sa09-kw3-%')::text, '0');

------------------------------------------------------------------------------
-- The export is one audit entry, of a person, by the officer.

SELECT pg_temp.expect('the export added exactly one entry',
    ((SELECT count(*) FROM kw.audit) - :audit_before)::text, '1');
SELECT pg_temp.expect('a read of the person, naming every record matched',
    (SELECT concat_ws(' ', a.action, a.entity, a.record_id, a.record_ids::text, a.user_id,
	a.roles, a.client_addr, coalesce(a.episode_id::text, '-'))
     FROM kw.audit a WHERE a.request_id = 'sa09-export-1'),
    format('read person %s {%s,%s} %s data_protection 198.51.100.99 -', :'p1', :'p1', :'p2',
	:'dpo'));
SELECT pg_temp.expect('the export is not in itself',
    (SELECT count(*) FROM jsonb_array_elements(:'x'::jsonb->'accessed_by') a
     WHERE a->>'request_id' = 'sa09-export-1')::text, '0');

SET ROLE keywork_api;
SELECT api.export_person('sa09-dpo', 'sa09-export-2', '198.51.100.99', :'p2') AS x2 \gset
RESET ROLE;
SELECT pg_temp.expect('asked through her other record: the same person, that one first',
    (SELECT string_agg(m->>'id', ' ' ORDER BY o) FROM jsonb_array_elements(:'x2'::jsonb->'members')
	WITH ORDINALITY AS t (m, o)),
    :'p2' || ' ' || :'p1');
SELECT pg_temp.expect('the first export is in the next',
    (SELECT concat_ws(' ', a->>'entity', a->>'record_id', a->>'user')
     FROM jsonb_array_elements(:'x2'::jsonb->'accessed_by') a
     WHERE a->>'request_id' = 'sa09-export-1'),
    'person ' || :'p1' || ' Sa09 DPO');

------------------------------------------------------------------------------
-- Only a data-protection officer; an unknown id is 404 to them.

SELECT pg_temp.api_fails('her keyworker exports',
    format('SELECT api.export_person(%L, %L, %L, %L)', 'sa09-kw1', 'x', 'x', :'p1'), 'KW403');
SELECT pg_temp.api_fails('a manager exports',
    format('SELECT api.export_person(%L, %L, %L, %L)', 'sa09-mgr', 'x', 'x', :'p1'), 'KW403');
SELECT pg_temp.api_fails('an admin exports',
    format('SELECT api.export_person(%L, %L, %L, %L)', 'sa09-adm', 'x', 'x', :'p1'), 'KW403');
SELECT pg_temp.api_fails('a practitioner exports an unknown id: still 403',
    format('SELECT api.export_person(%L, %L, %L, %L)', 'sa09-kw1', 'x', 'x',
	gen_random_uuid()), 'KW403');
SELECT pg_temp.api_fails('no token',
    format('SELECT api.export_person(%L, %L, %L, %L)', 'no such token', 'x', 'x', :'p1'),
    'KW401');
SELECT pg_temp.api_fails('the officer asks for an unknown id',
    format('SELECT api.export_person(%L, %L, %L, %L)', 'sa09-dpo', 'x', 'x',
	gen_random_uuid()), 'KW404');
-- Settings the caller made before do not make them an officer: the token
-- decides.
DO $$
BEGIN
	BEGIN
		SET LOCAL ROLE keywork_api;
		PERFORM set_config('kw.roles', 'data_protection', true);
		PERFORM set_config('kw.user_id', '00000000-0000-4000-8000-000000000916', true);
		PERFORM api.export_person('sa09-kw1', 'x', 'x', current_setting('kwtest.p1')::uuid);
		RAISE EXCEPTION 'a practitioner with forged settings exported';
	EXCEPTION WHEN SQLSTATE 'KW403' THEN
		NULL;
	END;
	RESET ROLE;
END
$$;
-- The helpers read as the owner: the API role cannot call them.
SELECT pg_temp.api_fails('the API role calling kw.export_episode',
    format('SELECT kw.export_episode(%L, ARRAY[%L]::uuid[])', :'e1', :'p1'), '42501');
SELECT pg_temp.api_fails('the API role calling kw.export_accesses',
    format('SELECT kw.export_accesses(ARRAY[%L]::uuid[], ARRAY[%L]::uuid[])', :'e1', :'p1'),
    '42501');
SELECT pg_temp.api_fails('the API role calling kw.person_members',
    format('SELECT kw.person_members(%L)', :'p1'), '42501');

------------------------------------------------------------------------------
-- An erased episode: exported with its markers when asked for directly, and
-- no longer recognised by name.

SET ROLE keywork_api;
SELECT api.export_person('sa09-dpo', 'sa09-export-3', '198.51.100.99', :'p4') AS x4 \gset
RESET ROLE;
SELECT pg_temp.expect('the erased member alone (not every erased record), erased',
    (SELECT string_agg(concat_ws('/', m->>'id', m->>'given_name', m->>'family_name',
	m->>'date_of_birth', m->>'relationship'), ' ')
     FROM jsonb_array_elements(:'x4'::jsonb->'members') m),
    :'p4' || '/erased/erased/1900-01-01/erased');
SELECT pg_temp.expect('its episode with erased_at and markers',
    (SELECT concat_ws('/', e->'episode'->>'id', e->'episode'->>'status',
	(e->'episode'->>'erased_at' IS NOT NULL)::text, e->'episode'->>'family_name',
	e->'family'->>'name', e->'notes'->0->>'body', e->'closures'->0->>'family_views')
     FROM jsonb_array_elements(:'x4'::jsonb->'episodes') e),
    :'e4' || '/closed/true/erased/erased/erased/erased');
SELECT pg_temp.expect('Ada''s export does not find the erased episode',
    (SELECT count(*) FROM jsonb_array_elements(:'x'::jsonb->'episodes') e
     WHERE e->'episode'->>'id' = :'e4')::text, '0');

ROLLBACK;
