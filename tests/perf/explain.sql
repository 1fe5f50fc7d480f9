-- make explain: the plans of the statements the API runs to list and read
-- episodes and case notes, under row-level security, on the data set of
-- tests/perf/load.sql; then the api.* functions themselves, timed. Run by
-- scripts/scale.sh as the schema owner:
--
--   psql -X -v ON_ERROR_STOP=1 "$DATABASE_URL" -f tests/perf/explain.sql
--
-- Each statement is the one in sql/migrations/0004_api_episodes.sql, its
-- PL/pgSQL variables as parameters ($n), prepared and run as keywork_api
-- with the identity kw.authenticate would set (transaction-local settings).
-- A prepared statement is planned the way PL/pgSQL plans its statements:
-- custom plans for the first five runs in a connection, then the generic
-- plan if it is not dearer; api.list_episodes always uses the generic plan,
-- with bitmap scans off (its SET clauses), and so do its EXPLAINs here.
-- Keep these statements in step with 0004.

\set ON_ERROR_STOP 1
\pset pager off

-- The owner may switch to the API role only as a member of it (PostgreSQL
-- 15, CREATEROLE); taken back at the end.
GRANT keywork_api TO CURRENT_USER;

-- Who: a keyworker with the usual caseload (50 episodes, about 117 team
-- places), their line manager, and the coordinator of their area.
SELECT u.id AS kw_id, u.agency_id AS kw_agency, array_to_string(u.roles, ',') AS kw_roles,
    m.id AS mgr_id, m.agency_id AS mgr_agency, array_to_string(m.roles, ',') AS mgr_roles,
    c.id AS co_id, c.agency_id AS co_agency, array_to_string(c.roles, ',') AS co_roles
FROM kw.users u
JOIN kw.users m ON m.id = u.manager_id
JOIN kw.users c ON c.area_id = u.area_id AND 'coordinator' = ANY (c.roles)
    AND c.email LIKE 'perf-%'
WHERE u.email = 'perf-practitioner-0042@example.org'
\gset
-- A partner system of the keyworker's agency: it holds every episode of
-- the agency's practitioners (one practitioner in ten).
INSERT INTO kw.api_clients (name, agency_id, key_hash, created_by)
VALUES ('make explain partner', :'kw_agency',
    encode(sha256(convert_to('perf-partner-' || :'kw_agency', 'UTF8')), 'hex'), :'mgr_id')
ON CONFLICT (key_hash) DO NOTHING;
SELECT id AS pt_id, key_hash AS pt_key FROM kw.api_clients
WHERE name = 'make explain partner' AND agency_id = :'kw_agency' \gset

-- The episode: the keyworker's latest open one with a corrected note,
-- with ten notes or more if there is one.
SELECT e.id AS ep_id, e.family_id AS ep_family
FROM kw.episodes e
WHERE e.keyworker_id = :'kw_id' AND e.status <> 'closed'
    AND EXISTS (SELECT 1 FROM kw.notes n WHERE n.episode_id = e.id
	AND n.amends_note_id IS NOT NULL)
ORDER BY (SELECT count(*) FROM kw.notes n WHERE n.episode_id = e.id) >= 10 DESC,
    e.created_at DESC
LIMIT 1
\gset
SELECT (SELECT count(*) FROM kw.episodes) AS n_episodes,
    (SELECT count(*) FROM kw.notes) AS n_notes,
    (SELECT count(*) FROM kw.episodes WHERE keyworker_id = :'kw_id') AS kw_keyworks,
    (SELECT count(*) FROM kw.team_members WHERE user_id = :'kw_id') AS kw_team_places,
    (SELECT count(*) FROM kw.users WHERE manager_id = :'mgr_id') AS mgr_reports,
    (SELECT count(*) FROM kw.episodes e JOIN kw.users u ON u.id = e.keyworker_id
	WHERE u.manager_id = :'mgr_id') AS mgr_episodes,
    (SELECT count(*) FROM kw.episodes e JOIN kw.users c ON c.area_id = e.area_id
	WHERE c.id = :'co_id') AS co_area_episodes,
    (SELECT count(*) FROM kw.notes WHERE episode_id = :'ep_id') AS ep_notes;

-- api.list_episodes: its one statement. $1 p_limit, $2 after_at (p_after_at,
-- or -infinity for the first page), $3 p_after_id, $4 p_status, $5 p_keyworker, $6 p_area, $7 p_overdue,
-- $8 full_ids, $9 reports, $10 areas (the function's own kw.my_* calls).
PREPARE list_episodes (integer, timestamptz, uuid, text, uuid, uuid, boolean,
    uuid[], uuid[], uuid[]) AS
SELECT coalesce((SELECT jsonb_agg(kw.episode_json(e, kw.access_of(e.id,
    e.keyworker_id, e.area_id, $8, $9, $10)) ORDER BY e.created_at, e.id)
FROM (SELECT DISTINCT ON (v.created_at, v.id) * FROM (
    (SELECT x.* FROM kw.episodes x
    WHERE x.id = ANY ((SELECT kw.my_episodes(false))::uuid[])
	AND (x.created_at, x.id) > ($2, $3)
	AND ($4 IS NULL OR x.status = $4)
	AND ($5 IS NULL OR x.keyworker_id = $5)
	AND ($6 IS NULL OR x.area_id = $6)
	AND ($7 IS NULL OR kw.episode_overdue(x) = $7)
    ORDER BY x.created_at, x.id LIMIT $1)
    UNION ALL
    SELECT y.* FROM unnest((SELECT kw.my_reports())::uuid[]) r (id)
    CROSS JOIN LATERAL (SELECT x.* FROM kw.episodes x
	WHERE x.keyworker_id = r.id
	    AND (x.created_at, x.id) > ($2, $3)
	    AND ($4 IS NULL OR x.status = $4)
	    AND ($5 IS NULL OR x.keyworker_id = $5)
	    AND ($6 IS NULL OR x.area_id = $6)
	    AND ($7 IS NULL OR kw.episode_overdue(x) = $7)
	ORDER BY x.created_at, x.id LIMIT $1) y
    UNION ALL
    SELECT y.* FROM unnest((SELECT kw.my_areas())::uuid[]) a (id)
    CROSS JOIN LATERAL (SELECT x.* FROM kw.episodes x
	WHERE x.area_id = a.id
	    AND (x.created_at, x.id) > ($2, $3)
	    AND ($4 IS NULL OR x.status = $4)
	    AND ($5 IS NULL OR x.keyworker_id = $5)
	    AND ($6 IS NULL OR x.area_id = $6)
	    AND ($7 IS NULL OR kw.episode_overdue(x) = $7)
	ORDER BY x.created_at, x.id LIMIT $1) y
    ) v ORDER BY v.created_at, v.id LIMIT $1) e), '[]'::jsonb);

-- api.list_episodes for a caller holding more than 2,000 episodes at full
-- level (a partner system): the plain ordered scan.
PREPARE list_episodes_wide (integer, timestamptz, uuid, text, uuid, uuid, boolean,
    uuid[], uuid[], uuid[]) AS
SELECT coalesce((SELECT jsonb_agg(kw.episode_json(e, kw.access_of(e.id,
    e.keyworker_id, e.area_id, $8, $9, $10))
    ORDER BY e.created_at, e.id)
FROM (SELECT * FROM kw.episodes x
    WHERE (x.created_at, x.id) > ($2, $3)
	AND ($4 IS NULL OR x.status = $4)
	AND ($5 IS NULL OR x.keyworker_id = $5)
	AND ($6 IS NULL OR x.area_id = $6)
	AND ($7 IS NULL OR kw.episode_overdue(x) = $7)
    ORDER BY x.created_at, x.id LIMIT $1) e), '[]'::jsonb);

-- api.list_notes: its statement ($1 p_id, $2 p_limit, $3 after_at,
-- $4 p_after_id), after kw.require_full (the statements of GET below).
PREPARE list_notes (uuid, integer, timestamptz, uuid) AS
SELECT coalesce((SELECT jsonb_agg(kw.note_json(n,
    (SELECT jsonb_agg(a.id ORDER BY a.created_at, a.id)
	FROM kw.notes a WHERE a.amends_note_id = n.id)) ORDER BY n.created_at, n.id)
FROM (SELECT * FROM kw.notes x WHERE x.episode_id = $1
    AND (x.created_at, x.id) > ($3, $4)
    ORDER BY x.created_at, x.id LIMIT $2) n), '[]'::jsonb);

-- api.get_episode (kw.episode_out): the episode row, then for full access
-- the family and the members ($1 e.id, $2 e.family_id).
PREPARE get_episode_row (uuid) AS
SELECT * FROM kw.episodes WHERE id = $1;
PREPARE get_episode_full (uuid, uuid) AS
SELECT jsonb_build_object(
    'family', (SELECT jsonb_build_object('id', f.id, 'name', f.name,
	'area_id', f.area_id, 'postcode', f.postcode)
	FROM kw.families f WHERE f.id = $2),
    'members', coalesce((SELECT jsonb_agg(kw.member_json(m)
	ORDER BY m.created_at, m.id)
	FROM kw.members m WHERE m.episode_id = $1), '[]'::jsonb));

-- A server's connections are long-lived: warm this one the same way (the
-- kw.my_* functions keep their plans after the first call), so that the
-- InitPlans below show what a look-up costs there, not the first one.
BEGIN;
SET LOCAL ROLE keywork_api;
SELECT set_config('kw.user_id', :'kw_id', true), set_config('kw.roles', :'kw_roles', true),
    set_config('kw.agency_id', :'kw_agency', true) \g /dev/null
SELECT kw.my_episodes(false), kw.my_episodes(true), kw.my_reports(), kw.my_areas() \g /dev/null
COMMIT;

\echo
\echo '==== (a) keyworker: GET /v1/episodes, first page (limit 50)'
BEGIN;
SET LOCAL ROLE keywork_api;
SET LOCAL enable_bitmapscan = off;
SET LOCAL plan_cache_mode = force_generic_plan;
SELECT set_config('kw.user_id', :'kw_id', true), set_config('kw.roles', :'kw_roles', true),
    set_config('kw.agency_id', :'kw_agency', true) \g /dev/null
-- The cursor of a later page: after the 100th visible episode (page 3).
SELECT created_at AS kw_after_at, id AS kw_after_id FROM (SELECT e.created_at, e.id
    FROM kw.episodes e ORDER BY e.created_at, e.id LIMIT 100) s
ORDER BY created_at DESC, id DESC LIMIT 1 \gset
SELECT count(*) AS visible_episodes FROM kw.episodes;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON)
EXECUTE list_episodes(50, '-infinity', NULL, NULL, NULL, NULL, NULL,
    kw.my_episodes(true), kw.my_reports(), kw.my_areas());
\echo '==== (a) keyworker: GET /v1/episodes?cursor=... (page 3: after the 100th)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON)
EXECUTE list_episodes(50, :'kw_after_at', :'kw_after_id', NULL, NULL, NULL, NULL,
    kw.my_episodes(true), kw.my_reports(), kw.my_areas());
COMMIT;

\echo
\echo '==== (b) line manager: GET /v1/episodes, first page'
BEGIN;
SET LOCAL ROLE keywork_api;
SET LOCAL enable_bitmapscan = off;
SET LOCAL plan_cache_mode = force_generic_plan;
SELECT set_config('kw.user_id', :'mgr_id', true), set_config('kw.roles', :'mgr_roles', true),
    set_config('kw.agency_id', :'mgr_agency', true) \g /dev/null
SELECT created_at AS mgr_after_at, id AS mgr_after_id FROM (SELECT e.created_at, e.id
    FROM kw.episodes e ORDER BY e.created_at, e.id LIMIT 500) s
ORDER BY created_at DESC, id DESC LIMIT 1 \gset
SELECT count(*) AS visible_episodes FROM kw.episodes;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON)
EXECUTE list_episodes(50, '-infinity', NULL, NULL, NULL, NULL, NULL,
    kw.my_episodes(true), kw.my_reports(), kw.my_areas());
\echo '==== (b) line manager: page 11 (after the 500th)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON)
EXECUTE list_episodes(50, :'mgr_after_at', :'mgr_after_id', NULL, NULL, NULL, NULL,
    kw.my_episodes(true), kw.my_reports(), kw.my_areas());
COMMIT;

\echo
\echo '==== (c) coordinator: GET /v1/episodes, first page'
BEGIN;
SET LOCAL ROLE keywork_api;
SET LOCAL enable_bitmapscan = off;
SET LOCAL plan_cache_mode = force_generic_plan;
SELECT set_config('kw.user_id', :'co_id', true), set_config('kw.roles', :'co_roles', true),
    set_config('kw.agency_id', :'co_agency', true) \g /dev/null
SELECT created_at AS co_after_at, id AS co_after_id FROM (SELECT e.created_at, e.id
    FROM kw.episodes e ORDER BY e.created_at, e.id LIMIT 2500) s
ORDER BY created_at DESC, id DESC LIMIT 1 \gset
SELECT count(*) AS visible_episodes FROM kw.episodes;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON)
EXECUTE list_episodes(50, '-infinity', NULL, NULL, NULL, NULL, NULL,
    kw.my_episodes(true), kw.my_reports(), kw.my_areas());
\echo '==== (c) coordinator: page 51 (after the 2,500th)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON)
EXECUTE list_episodes(50, :'co_after_at', :'co_after_id', NULL, NULL, NULL, NULL,
    kw.my_episodes(true), kw.my_reports(), kw.my_areas());
COMMIT;

\echo
\echo '==== (c) partner system: GET /v1/episodes, first page'
BEGIN;
SET LOCAL ROLE keywork_api;
SET LOCAL enable_bitmapscan = off;
SET LOCAL plan_cache_mode = force_generic_plan;
SELECT set_config('kw.client_id', :'pt_id', true), set_config('kw.roles', 'partner', true),
    set_config('kw.agency_id', :'kw_agency', true) \g /dev/null
SELECT cardinality(kw.my_episodes(false)) AS held_episodes,
    cardinality(kw.my_episodes(true)) AS held_in_full;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON)
EXECUTE list_episodes_wide(50, '-infinity', NULL, NULL, NULL, NULL, NULL,
    kw.my_episodes(true), kw.my_reports(), kw.my_areas());
COMMIT;

\echo
\echo '==== (d) keyworker: GET /v1/episodes/{id}/notes'
BEGIN;
SET LOCAL ROLE keywork_api;
SELECT set_config('kw.user_id', :'kw_id', true), set_config('kw.roles', :'kw_roles', true),
    set_config('kw.agency_id', :'kw_agency', true) \g /dev/null
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON)
EXECUTE list_notes(:'ep_id', 50, '-infinity', NULL);
COMMIT;
\echo '==== (d) line manager: GET /v1/episodes/{id}/notes'
BEGIN;
SET LOCAL ROLE keywork_api;
SELECT set_config('kw.user_id', :'mgr_id', true), set_config('kw.roles', :'mgr_roles', true),
    set_config('kw.agency_id', :'mgr_agency', true) \g /dev/null
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON)
EXECUTE list_notes(:'ep_id', 50, '-infinity', NULL);
COMMIT;

\echo
\echo '==== (e) keyworker: GET /v1/episodes/{id}: the episode row'
BEGIN;
SET LOCAL ROLE keywork_api;
SELECT set_config('kw.user_id', :'kw_id', true), set_config('kw.roles', :'kw_roles', true),
    set_config('kw.agency_id', :'kw_agency', true) \g /dev/null
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON)
EXECUTE get_episode_row(:'ep_id');
\echo '==== (e) keyworker: GET /v1/episodes/{id}: family and members (full access)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON)
EXECUTE get_episode_full(:'ep_id', :'ep_family');
COMMIT;

\echo
\echo '==== (f) what one kw.my_episodes(false) call runs (as the owner, for the keyworker)'
BEGIN;
SELECT set_config('kw.user_id', :'kw_id', true), set_config('kw.roles', :'kw_roles', true),
    set_config('kw.agency_id', :'kw_agency', true) \g /dev/null
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON)
SELECT coalesce(array_agg(DISTINCT s.id), '{}') FROM (
	SELECT e.id FROM kw.episodes e
	WHERE e.keyworker_id = kw.current_user_id()
	UNION ALL
	SELECT t.episode_id FROM kw.team_members t
	WHERE t.user_id = kw.current_user_id() AND (NOT false OR t.level = 'full')
	UNION ALL
	SELECT e.id FROM kw.episodes e JOIN kw.users u ON u.id = e.keyworker_id
	WHERE kw.has_role('partner') AND u.agency_id = kw.current_agency_id()
	UNION ALL
	SELECT t.episode_id FROM kw.team_members t JOIN kw.users u ON u.id = t.user_id
	WHERE kw.has_role('partner') AND u.agency_id = kw.current_agency_id()
	    AND (NOT false OR t.level = 'full')
) s;
COMMIT;

------------------------------------------------------------------------------
-- The api.* functions themselves, as the server calls them (a bearer
-- token's hash first), each 25 times in one connection: the first call
-- plans from scratch, later ones reuse the connection's cached plans, as a
-- Kore worker's long-lived connections do.

\echo
\echo '==== api.* functions, 25 calls each in one connection (ms)'
-- One access token for each of the three, as a sign-in would store it.
CREATE TEMP TABLE perf_who (who text PRIMARY KEY, user_id uuid, token_hash text);
INSERT INTO perf_who VALUES
    ('keyworker', :'kw_id', encode(sha256(convert_to('perf-' || :'kw_id', 'UTF8')), 'hex')),
    ('manager', :'mgr_id', encode(sha256(convert_to('perf-' || :'mgr_id', 'UTF8')), 'hex')),
    ('coordinator', :'co_id', encode(sha256(convert_to('perf-' || :'co_id', 'UTF8')), 'hex'));
WITH f AS (INSERT INTO kw.token_families (user_id) SELECT user_id FROM perf_who
    RETURNING id, user_id)
INSERT INTO kw.access_tokens (token_hash, family_id, expires_at)
SELECT w.token_hash, f.id, now() + interval '1 hour'
FROM f JOIN perf_who w ON w.user_id = f.user_id
ON CONFLICT (token_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at;
CREATE TEMP TABLE perf_times (k integer, call text, n integer, ms numeric, result_items integer);
GRANT SELECT ON perf_who TO keywork_api;
GRANT INSERT ON perf_times TO keywork_api;
SET kwperf.ep_id = :'ep_id';
SET kwperf.pt_key = :'pt_key';
SET kwperf.kw_after_at = :'kw_after_at';
SET kwperf.kw_after_id = :'kw_after_id';
SET kwperf.co_after_at = :'co_after_at';
SET kwperf.co_after_id = :'co_after_id';

SET ROLE keywork_api;
DO $$
DECLARE
	pt text := current_setting('kwperf.pt_key');
	kw text := (SELECT token_hash FROM perf_who WHERE who = 'keyworker');
	mgr text := (SELECT token_hash FROM perf_who WHERE who = 'manager');
	co text := (SELECT token_hash FROM perf_who WHERE who = 'coordinator');
	ep uuid := current_setting('kwperf.ep_id')::uuid;
	t0 timestamptz;
	r jsonb;
	c record;
BEGIN
	FOR c IN SELECT * FROM (VALUES
	    (1, 'list_episodes keyworker, first page'),
	    (2, 'list_episodes keyworker, page 3'),
	    (3, 'list_episodes manager, first page'),
	    (4, 'list_episodes coordinator, first page'),
	    (5, 'list_episodes coordinator, page 51'),
	    (11, 'list_episodes partner, first page'),
	    (6, 'list_notes keyworker'),
	    (7, 'list_notes manager'),
	    (8, 'get_episode keyworker'),
	    (9, 'get_episode manager'),
	    (10, 'create_note keyworker')) AS v (k, label) LOOP
		FOR i IN 1..25 LOOP
			t0 := clock_timestamp();
			CASE c.k
			WHEN 1 THEN r := api.list_episodes(kw, 'perf', '127.0.0.1', 50,
			    NULL, NULL, NULL, NULL, NULL, NULL);
			WHEN 2 THEN r := api.list_episodes(kw, 'perf', '127.0.0.1', 50,
			    current_setting('kwperf.kw_after_at')::timestamptz,
			    current_setting('kwperf.kw_after_id')::uuid, NULL, NULL, NULL, NULL);
			WHEN 3 THEN r := api.list_episodes(mgr, 'perf', '127.0.0.1', 50,
			    NULL, NULL, NULL, NULL, NULL, NULL);
			WHEN 4 THEN r := api.list_episodes(co, 'perf', '127.0.0.1', 50,
			    NULL, NULL, NULL, NULL, NULL, NULL);
			WHEN 5 THEN r := api.list_episodes(co, 'perf', '127.0.0.1', 50,
			    current_setting('kwperf.co_after_at')::timestamptz,
			    current_setting('kwperf.co_after_id')::uuid, NULL, NULL, NULL, NULL);
			WHEN 11 THEN r := api.list_episodes(pt, 'perf', '127.0.0.1', 50,
			    NULL, NULL, NULL, NULL, NULL, NULL);
			WHEN 6 THEN r := api.list_notes(kw, 'perf', '127.0.0.1', ep, 50,
			    NULL, NULL);
			WHEN 7 THEN r := api.list_notes(mgr, 'perf', '127.0.0.1', ep, 50,
			    NULL, NULL);
			WHEN 8 THEN SELECT o.body INTO r FROM api.get_episode(kw, 'perf',
			    '127.0.0.1', ep) o;
			WHEN 9 THEN SELECT o.body INTO r FROM api.get_episode(mgr, 'perf',
			    '127.0.0.1', ep) o;
			WHEN 10 THEN SELECT o.body INTO r FROM api.create_note(kw, 'perf',
			    '127.0.0.1', ep, NULL, jsonb_build_object('kind', 'fact',
			    'body', 'Timed note from make explain.')) o;
			END CASE;
			INSERT INTO perf_times VALUES (c.k, c.label, i,
			    extract(epoch FROM clock_timestamp() - t0) * 1000,
			    CASE WHEN jsonb_typeof(r) = 'array' THEN jsonb_array_length(r)
				ELSE 1 END);
		END LOOP;
	END LOOP;
END
$$;
RESET ROLE;

SELECT call, max(result_items) AS items,
    round(min(ms) FILTER (WHERE n = 1), 2) AS first,
    round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE n > 5)::numeric, 2)
	AS "median 6-25",
    round(min(ms) FILTER (WHERE n > 5), 2) AS "min 6-25",
    round(max(ms) FILTER (WHERE n > 5), 2) AS "max 6-25"
FROM perf_times GROUP BY k, call
ORDER BY CASE k WHEN 11 THEN 5.5 ELSE k END;

-- The same rows in the same order as the plain ordered scan under the
-- policy (the statement api.list_episodes replaced), for each caller,
-- three pages deep, following the cursor as a client would.
\echo
\echo '==== api.list_episodes against the plain ordered scan, three pages each'
SET ROLE keywork_api;
DO $$
DECLARE
	c record;
	r jsonb;
	got uuid[];
	want uuid[];
	after_at timestamptz;
	after_id uuid;
BEGIN
	FOR c IN SELECT who, token_hash FROM perf_who
	    UNION ALL SELECT 'partner', current_setting('kwperf.pt_key') LOOP
		after_at := NULL;
		after_id := NULL;
		FOR page IN 1..3 LOOP
			r := api.list_episodes(c.token_hash, 'perf', '127.0.0.1', 50,
			    after_at, after_id, NULL, NULL, NULL, NULL);
			got := ARRAY(SELECT (x->>'id')::uuid FROM jsonb_array_elements(r) x);
			want := ARRAY(SELECT e.id FROM kw.episodes e
			    WHERE after_at IS NULL OR (e.created_at, e.id) > (after_at, after_id)
			    ORDER BY e.created_at, e.id LIMIT 50);
			IF got IS DISTINCT FROM want OR cardinality(got) <> 50 THEN
				RAISE EXCEPTION '% page %: api.list_episodes gave % episodes, the plain scan %',
				    c.who, page, cardinality(got), cardinality(want);
			END IF;
			after_at := (r->-1->>'created_at')::timestamptz;
			after_id := (r->-1->>'id')::uuid;
		END LOOP;
		RAISE NOTICE 'ok - %: pages 1 to 3 as the plain scan', c.who;
	END LOOP;
END
$$;
RESET ROLE;

DROP TABLE perf_times, perf_who;
RESET kwperf.ep_id;
REVOKE keywork_api FROM CURRENT_USER;
