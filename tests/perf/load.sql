-- A national-scale data set for measuring row-level security (make explain,
-- make bench). Run as the schema owner on a migrated database:
--
--   psql -X -v ON_ERROR_STOP=1 -v episodes=100000 "$DATABASE_URL" -f tests/perf/load.sql
--
-- episodes (default 100,000) sets the size; the rest follows from it, in
-- the proportions of a national deployment (1,000,000 episodes, 5,000,000
-- family members, 10,000,000 case notes, 50,000 practitioners):
--   20 areas, each with one coordinator
--   episodes/20 practitioners (5,000), each keyworker of 20 episodes
--   practitioners/20 managers (250), each the line manager of 20
--   practitioners, all in the manager's area
--   per episode: 4 to 6 family members (5 on average), 2 or 3 TAF
--   members (full and limited; each practitioner sits on about 47 teams),
--   1 or 2 consents, 5 to 15 case notes (10 on average: 1,000,000 notes),
--   and on one episode in eleven a correction amending its first note
-- Episodes are spread over the last three years, in the order they were
-- registered; those older than a year are closed.
--
-- Set-based inserts through the same constraints, triggers and foreign keys
-- as the API's own writes (the owner's policy admits every row), with one
-- exception: the audit trail's row triggers are off while loading, as for
-- records migrated from a previous system, whose trail starts when keywork
-- takes them over. With them on, each row costs a second insert through
-- PL/pgSQL, and 1,000,000 episodes take most of an hour instead of minutes. Loads into
-- a database that already holds the demo data too: keyworker@example.org
-- then takes the place of the first generated practitioner (a caseload of
-- 50 episodes and its team places, on top of the demo episodes). Generated
-- accounts share the demo password when the demo data is loaded; without
-- it they cannot sign in. Not idempotent: load once.

\set ON_ERROR_STOP 1
\if :{?episodes}
\else
\set episodes 100000
\endif

SELECT :episodes AS episodes, 20 AS areas, greatest(:episodes / 20, 20) AS practitioners,
    greatest(:episodes / 400, 1) AS managers
\gset
\echo load: :episodes episodes, :practitioners practitioners, :managers managers, :areas areas

BEGIN;
SET LOCAL work_mem = '256MB';
SET LOCAL maintenance_work_mem = '1GB';
-- Off until COMMIT (see above); ALTER TABLE is transactional, so a failed
-- load leaves them on.
ALTER TABLE kw.families DISABLE TRIGGER families_audit;
ALTER TABLE kw.episodes DISABLE TRIGGER episodes_audit;
ALTER TABLE kw.members DISABLE TRIGGER members_audit;
ALTER TABLE kw.consents DISABLE TRIGGER consents_audit;
ALTER TABLE kw.team_members DISABLE TRIGGER team_members_audit;
ALTER TABLE kw.notes DISABLE TRIGGER notes_audit;

-- Reference data.
INSERT INTO kw.areas (name)
SELECT format('Perf Area %s', lpad(i::text, 2, '0')) FROM generate_series(1, :areas) i;
INSERT INTO kw.agencies (name, kind)
SELECT format('Perf Agency %s', lpad(i::text, 2, '0')),
    (ARRAY['local_authority', 'school', 'health', 'social_care', 'police', 'housing',
	'voluntary', 'school', 'health', 'other'])[i]
FROM generate_series(1, 10) i;

CREATE TEMP TABLE l_area ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY name) - 1)::int AS i, id
FROM kw.areas WHERE name LIKE 'Perf Area %';
CREATE TEMP TABLE l_agency ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY name) - 1)::int AS i, id
FROM kw.agencies WHERE name LIKE 'Perf Agency %';

-- Accounts. With the demo data loaded, generated accounts sign in with the
-- demo password; otherwise with nothing ('!' is no hash).
SELECT coalesce((SELECT password_hash FROM kw.users
    WHERE lower(email) = 'keyworker@example.org'), '!') AS pw_hash \gset

CREATE TEMP TABLE l_user (kind text, i int, id uuid, area int, agency int,
    manager int, PRIMARY KEY (kind, i)) ON COMMIT DROP;
INSERT INTO l_user
SELECT 'manager', m, gen_random_uuid(), m % :areas, 0, NULL
FROM generate_series(0, :managers - 1) m;
INSERT INTO l_user
SELECT 'coordinator', c, gen_random_uuid(), c, 0, NULL
FROM generate_series(0, :areas - 1) c;
-- Practitioner p reports to manager p % managers and works in that area.
INSERT INTO l_user
SELECT 'practitioner', p, gen_random_uuid(), (p % :managers) % :areas, p % 10,
    p % :managers
FROM generate_series(0, :practitioners - 1) p;
-- The demo keyworker, if there is one, is practitioner 0.
UPDATE l_user SET id = u.id FROM kw.users u
WHERE l_user.kind = 'practitioner' AND l_user.i = 0
    AND lower(u.email) = 'keyworker@example.org';

INSERT INTO kw.users (id, email, name, password_hash, agency_id, area_id, roles, manager_id)
SELECT u.id, format('perf-%s-%s@example.org', u.kind, lpad(u.i::text, greatest(4, length(u.i::text)), '0')),
    format('Perf %s %s', initcap(u.kind), u.i), :'pw_hash', g.id, a.id,
    ARRAY[u.kind], NULL
FROM l_user u JOIN l_area a ON a.i = u.area JOIN l_agency g ON g.i = u.agency
WHERE u.kind <> 'practitioner'
ORDER BY u.kind, u.i;
INSERT INTO kw.users (id, email, name, password_hash, agency_id, area_id, roles, manager_id)
SELECT u.id, format('perf-%s-%s@example.org', u.kind, lpad(u.i::text, greatest(4, length(u.i::text)), '0')),
    format('Perf %s %s', initcap(u.kind), u.i), :'pw_hash', g.id, a.id,
    ARRAY['practitioner'], m.id
FROM l_user u JOIN l_area a ON a.i = u.area JOIN l_agency g ON g.i = u.agency
JOIN l_user m ON m.kind = 'manager' AND m.i = u.manager
WHERE u.kind = 'practitioner'
    AND NOT EXISTS (SELECT 1 FROM kw.users x WHERE x.id = u.id)
ORDER BY u.i;

-- Episodes: n is the order of registration, over the last three years.
-- The keyworker is practitioner n % practitioners: 50 each, spread in time.
CREATE TEMP TABLE l_ep ON COMMIT DROP AS
SELECT n, gen_random_uuid() AS id, gen_random_uuid() AS family_id,
    p.id AS keyworker, p.i AS kw_i, a.id AS area, g.id AS agency,
    now() - interval '3 years' + (interval '3 years' - interval '1 day') * n / :episodes
	AS created_at,
    (ARRAY['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson',
	'Davies', 'Robinson', 'Wright', 'Thompson', 'Evans', 'Walker', 'White', 'Roberts',
	'Green', 'Hall', 'Wood', 'Jackson', 'Clarke', 'Patel', 'Khan', 'Lewis', 'James',
	'Phillips', 'Mason', 'Mitchell', 'Rose', 'Davis', 'Rodriguez', 'Cox', 'Alexander'])
	[1 + (n * 7) % 32] AS surname
FROM generate_series(0, :episodes - 1) n
JOIN l_user p ON p.kind = 'practitioner' AND p.i = n % :practitioners
JOIN l_area a ON a.i = p.area
JOIN l_agency g ON g.i = p.agency;
ALTER TABLE l_ep ADD PRIMARY KEY (n);
ANALYZE l_ep;

\echo load: families and episodes
INSERT INTO kw.families (id, name, area_id, postcode, created_at)
SELECT family_id, surname, area, format('PF%s %s', n % 30 + 1, 'AB'), created_at
FROM l_ep ORDER BY n;

INSERT INTO kw.episodes (id, family_id, family_name, area_id, keyworker_id,
    lead_agency_id, status, registered_at, registered_by, assessment_due,
    first_taf_meeting_due, assessment_completed_at, first_taf_meeting_held_at,
    closed_at, created_at, updated_at)
SELECT id, family_id, surname, area, keyworker, agency, s.status, created_at,
    keyworker, kw.local_date(created_at) + 21, kw.local_date(created_at) + 42,
    CASE WHEN s.status <> 'registered' THEN created_at + interval '14 days' END,
    CASE WHEN s.status IN ('plan_in_place', 'closed') THEN created_at + interval '30 days' END,
    CASE WHEN s.status = 'closed' THEN created_at + interval '200 days' END,
    created_at, created_at
FROM l_ep, LATERAL (SELECT CASE WHEN created_at < now() - interval '1 year' THEN 'closed'
    ELSE (ARRAY['registered', 'assessed', 'plan_in_place'])[1 + n % 3] END AS status) s
ORDER BY n;

\echo load: members, consents, team
-- 4 to 6 members: one or two parents, then the children.
INSERT INTO kw.members (episode_id, given_name, family_name, date_of_birth,
    relationship, is_child, created_at, updated_at)
SELECT e.id,
    (ARRAY['Sam', 'Alex', 'Jo', 'Chris', 'Robin', 'Charlie', 'Jamie', 'Morgan', 'Casey',
	'Riley', 'Jordan', 'Taylor', 'Avery', 'Quinn', 'Rowan', 'Skyler'])[1 + (e.n + k * 5) % 16],
    e.surname,
    CASE WHEN k <= adults THEN date '1975-01-01' + (e.n * 37 + k) % 7300
	ELSE date '2008-01-01' + (e.n * 53 + k * 400) % 5000 END,
    CASE WHEN k = 1 THEN 'mother' WHEN k <= adults THEN 'father'
	WHEN (e.n + k) % 2 = 0 THEN 'son' ELSE 'daughter' END,
    k > adults, e.created_at, e.created_at
FROM l_ep e, LATERAL (SELECT 1 + e.n % 2 AS adults) a,
    LATERAL generate_series(1, 4 + e.n % 3) k
ORDER BY e.n, k;

INSERT INTO kw.consents (episode_id, kind, given_by, obtained_at, statement,
    recorded_by, created_at)
SELECT e.id, c.kind, 'Parent ' || e.surname, e.created_at + c.after,
    c.kind || ' consent to share information with the Team Around the Family.',
    e.keyworker, e.created_at + c.after
FROM l_ep e, LATERAL (VALUES ('verbal', interval '0'), ('written', interval '7 days')) c (kind, after)
WHERE c.kind = 'verbal' OR e.n % 2 = 0
ORDER BY e.n, c.after;

-- 2 or 3 TAF members, never the keyworker: full, limited, then full.
CREATE TEMP TABLE l_team ON COMMIT DROP AS
SELECT e.n, j, e.id AS episode_id, t.id AS user_id,
    CASE WHEN j = 2 THEN 'limited' ELSE 'full' END AS level, e.keyworker, e.created_at
FROM l_ep e CROSS JOIN LATERAL generate_series(1, 2 + (e.n % 3 = 0)::int) j
JOIN l_user t ON t.kind = 'practitioner' AND t.i = (e.kw_i + j * 37) % :practitioners;
INSERT INTO kw.team_members (episode_id, user_id, level, added_by, created_at, updated_at)
SELECT episode_id, user_id, level, keyworker, created_at + interval '10 days',
    created_at + interval '10 days'
FROM l_team ORDER BY n, j;
CREATE INDEX ON l_team (n, j);
ANALYZE l_team;

\echo load: notes
-- 5 to 15 notes per episode (10 on average), through the episode's life
-- (200 days for a closed one, to now for an open one), written by the
-- keyworker and the first full TAF member in turn; inserted in time order.
INSERT INTO kw.notes (episode_id, author_id, kind, body, created_at)
SELECT e.id,
    CASE WHEN k % 2 = 1 THEN e.keyworker ELSE coalesce(t.user_id, e.keyworker) END,
    (ARRAY['fact', 'opinion', 'mixed'])[1 + (e.n + k) % 3],
    format('Visit %s with the %s family: %s', k, e.surname, repeat(
	'Spoke with both parents about school attendance and the plan. ', 1 + (e.n + k) % 5)),
    e.created_at + least(interval '200 days', now() - e.created_at) * k / (c.cnt + 1)
FROM l_ep e
CROSS JOIN LATERAL (SELECT 5 + (e.n * 7) % 11 AS cnt) c
CROSS JOIN LATERAL generate_series(1, c.cnt) k
LEFT JOIN l_team t ON t.n = e.n AND t.j = 1
ORDER BY 5;

-- On one episode in eleven (those with 15 notes), a correction: a note
-- amending the first note.
INSERT INTO kw.notes (episode_id, author_id, kind, body, amends_note_id, created_at)
SELECT e.id, e.keyworker, 'fact', 'Correction: the first visit was with the mother only.',
    f.id, f.created_at + interval '1 day'
FROM l_ep e
CROSS JOIN LATERAL (SELECT n.id, n.created_at FROM kw.notes n WHERE n.episode_id = e.id
    ORDER BY n.created_at, n.id LIMIT 1) f
WHERE 5 + (e.n * 7) % 11 = 15;

ALTER TABLE kw.families ENABLE TRIGGER families_audit;
ALTER TABLE kw.episodes ENABLE TRIGGER episodes_audit;
ALTER TABLE kw.members ENABLE TRIGGER members_audit;
ALTER TABLE kw.consents ENABLE TRIGGER consents_audit;
ALTER TABLE kw.team_members ENABLE TRIGGER team_members_audit;
ALTER TABLE kw.notes ENABLE TRIGGER notes_audit;
-- The changes the load noted for the worker (0017): its next pass is the
-- first of a day and plans every episode anyway.
DELETE FROM kw.plan_changes;
UPDATE kw.plan_state SET planned_on = NULL;
COMMIT;

-- As autovacuum would leave it: statistics, and the visibility map that
-- lets index-only scans skip the heap.
\echo load: vacuum analyze
VACUUM (ANALYZE) kw.areas, kw.agencies, kw.users, kw.families, kw.episodes,
    kw.members, kw.consents, kw.team_members, kw.notes, kw.alerts, kw.access_requests;

SELECT (SELECT count(*) FROM kw.episodes) AS episodes,
    (SELECT count(*) FROM kw.notes) AS notes,
    (SELECT count(*) FROM kw.members) AS members,
    (SELECT count(*) FROM kw.team_members) AS team_members,
    (SELECT count(*) FROM kw.consents) AS consents,
    (SELECT count(*) FROM kw.users) AS users;
