-- Reminders and delivery (0011): each rule as a named unit on fixed dates
-- (kw.rule_deadlines over kw.reminder_deadlines_v, kw.rule_step_up_pending,
-- kw.rule_step_up_suggested), kw.working_days_back, the pass that writes
-- them once with their outbox rows (kw.plan_reminders), the outbox's worker
-- functions (claim, sent, failed, release), and, as the API role, who reaches
-- webhooks, deliveries, notifications and settings. Identities as in
-- 05_course.sql: what kw.authenticate would set, transaction-local. Run as
-- the schema owner; any failure raises.
--
-- Dates are fixed, around Christmas 2026 (kw.holidays: Fri 25 Dec and Mon
-- 28 Dec 2026, Fri 1 Jan 2027 are bank holidays):
--
--   Thu 24 | Fri 25 (hol) | Sat 26 | Sun 27 | Mon 28 (hol) | Tue 29 | Wed 30 |
--   Thu 31 | Fri 1 Jan (hol) | Sat 2 | Sun 3 | Mon 4
--
-- The base fixture, in new areas and agencies, lives while the file runs
-- and is removed at the end (it holds no case notes); what each check adds
-- (actions, alerts, transfers, step ups and downs, notes, scores, webhooks,
-- notifications, deliveries, settings) is undone with it (KWT01).
--
--   ea1  kw1's, registered Tue 8 Dec 2026: its assessment is due Tue 29 Dec
--   ea2  kw1's, registered Thu 3 Dec 2026: its assessment is due Thu 24 Dec
--   eb   kw1's, assessed: action a1 (owned by owner) is added to it
--   ec   kw1's: alerts al1 (to owner) and al2 (to gone) are added to it
--   ed   kw2's, covering kw1 (transfer tc is added to it)
--   ef   kw1's, step up requested (step up su1 is added to it)
--   eg   kw1's, plan in place (scores, actions, notes are added to it)
--   The others registered Thu 1 Oct 2026. Step down sd1 (North) is added
--   where a check needs it.
--
--   mgr     manager of kw1 (North, agency a); kw2 has no manager
--   owner   a practitioner of agency b, managed by mgrb (agency b)
--   coord1, coord2  active coordinators of the North area; coordx an
--           inactive one; coords the South area's coordinator
--   admin   admin only; gone: an inactive practitioner of agency a
--   client_a, client_b  partner systems of agency a and agency b

GRANT keywork_api TO CURRENT_USER;

------------------------------------------------------------------------------
-- Fixture, as the owner. Fixed ids and ON CONFLICT DO NOTHING, so that a run
-- stopped half way leaves nothing a second run trips on.

\set area_n '00000000-0000-4000-8000-000000000601'
\set area_s '00000000-0000-4000-8000-000000000602'
\set agency_a '00000000-0000-4000-8000-000000000611'
\set agency_b '00000000-0000-4000-8000-000000000612'
\set agency_z '00000000-0000-4000-8000-000000000613'
\set mgr '00000000-0000-4000-8000-000000000621'
\set kw1 '00000000-0000-4000-8000-000000000622'
\set kw2 '00000000-0000-4000-8000-000000000623'
\set mgrb '00000000-0000-4000-8000-000000000624'
\set owner '00000000-0000-4000-8000-000000000625'
\set coord1 '00000000-0000-4000-8000-000000000626'
\set coord2 '00000000-0000-4000-8000-000000000627'
\set coordx '00000000-0000-4000-8000-000000000628'
\set coords '00000000-0000-4000-8000-000000000629'
\set admin '00000000-0000-4000-8000-00000000062a'
\set gone '00000000-0000-4000-8000-00000000062b'
\set client_a '00000000-0000-4000-8000-0000000006a1'
\set client_b '00000000-0000-4000-8000-0000000006a2'
\set fa1 '00000000-0000-4000-8000-000000000631'
\set fa2 '00000000-0000-4000-8000-000000000632'
\set fb '00000000-0000-4000-8000-000000000633'
\set fc '00000000-0000-4000-8000-000000000634'
\set fd '00000000-0000-4000-8000-000000000635'
\set ff '00000000-0000-4000-8000-000000000636'
\set fg '00000000-0000-4000-8000-000000000637'
\set ea1 '00000000-0000-4000-8000-000000000641'
\set ea2 '00000000-0000-4000-8000-000000000642'
\set eb '00000000-0000-4000-8000-000000000643'
\set ec '00000000-0000-4000-8000-000000000644'
\set ed '00000000-0000-4000-8000-000000000645'
\set ef '00000000-0000-4000-8000-000000000646'
\set eg '00000000-0000-4000-8000-000000000647'

-- The DO blocks cannot see psql variables: they read these instead. The
-- ids of what the checks add are here too (named by pg_temp.who).
SET kwtest.area_n = :'area_n';
SET kwtest.area_s = :'area_s';
SET kwtest.agency_a = :'agency_a';
SET kwtest.agency_b = :'agency_b';
SET kwtest.agency_z = :'agency_z';
SET kwtest.mgr = :'mgr';
SET kwtest.kw1 = :'kw1';
SET kwtest.kw2 = :'kw2';
SET kwtest.mgrb = :'mgrb';
SET kwtest.owner = :'owner';
SET kwtest.coord1 = :'coord1';
SET kwtest.coord2 = :'coord2';
SET kwtest.coordx = :'coordx';
SET kwtest.coords = :'coords';
SET kwtest.admin = :'admin';
SET kwtest.gone = :'gone';
SET kwtest.client_a = :'client_a';
SET kwtest.client_b = :'client_b';
SET kwtest.ea1 = :'ea1';
SET kwtest.ea2 = :'ea2';
SET kwtest.eb = :'eb';
SET kwtest.ec = :'ec';
SET kwtest.ed = :'ed';
SET kwtest.ef = :'ef';
SET kwtest.eg = :'eg';
SET kwtest.a1 = '00000000-0000-4000-8000-000000000651';
SET kwtest.a2 = '00000000-0000-4000-8000-000000000652';
SET kwtest.a3 = '00000000-0000-4000-8000-000000000653';
SET kwtest.a4 = '00000000-0000-4000-8000-000000000654';
SET kwtest.a5 = '00000000-0000-4000-8000-000000000655';
SET kwtest.al1 = '00000000-0000-4000-8000-000000000661';
SET kwtest.al2 = '00000000-0000-4000-8000-000000000662';
SET kwtest.tc = '00000000-0000-4000-8000-000000000671';
SET kwtest.sd1 = '00000000-0000-4000-8000-000000000681';
SET kwtest.su1 = '00000000-0000-4000-8000-000000000691';
SET kwtest.su2 = '00000000-0000-4000-8000-000000000692';
SET kwtest.note1 = '00000000-0000-4000-8000-0000000006b1';
SET kwtest.note2 = '00000000-0000-4000-8000-0000000006b2';
SET kwtest.wa1 = '00000000-0000-4000-8000-0000000006c1';
SET kwtest.wa2 = '00000000-0000-4000-8000-0000000006c2';
SET kwtest.wa3 = '00000000-0000-4000-8000-0000000006c3';
SET kwtest.wb1 = '00000000-0000-4000-8000-0000000006c4';
SET kwtest.wb2 = '00000000-0000-4000-8000-0000000006c5';
SET kwtest.wz = '00000000-0000-4000-8000-0000000006c6';
SET kwtest.n1 = '00000000-0000-4000-8000-0000000006d1';
SET kwtest.n2 = '00000000-0000-4000-8000-0000000006d2';
SET kwtest.n3 = '00000000-0000-4000-8000-0000000006d3';
SET kwtest.n4 = '00000000-0000-4000-8000-0000000006d4';
SET kwtest.n5 = '00000000-0000-4000-8000-0000000006d5';
SET kwtest.d1 = '00000000-0000-4000-8000-0000000006e1';
SET kwtest.d2 = '00000000-0000-4000-8000-0000000006e2';
SET kwtest.d3 = '00000000-0000-4000-8000-0000000006e3';
SET kwtest.d4 = '00000000-0000-4000-8000-0000000006e4';
SET kwtest.d5 = '00000000-0000-4000-8000-0000000006e5';
SET kwtest.d6 = '00000000-0000-4000-8000-0000000006e6';
SET kwtest.d7 = '00000000-0000-4000-8000-0000000006e7';
-- Each user's agency, which kw.authenticate would set with their id.
SET kwtest.agency_of_mgr = :'agency_a';
SET kwtest.agency_of_kw1 = :'agency_a';
SET kwtest.agency_of_kw2 = :'agency_a';
SET kwtest.agency_of_owner = :'agency_b';
SET kwtest.agency_of_coord1 = :'agency_a';
SET kwtest.agency_of_coord2 = :'agency_a';
SET kwtest.agency_of_admin = :'agency_a';

INSERT INTO kw.areas (id, name) VALUES
	(:'area_n', 'Reminders test 06: North'),
	(:'area_s', 'Reminders test 06: South')
ON CONFLICT DO NOTHING;

INSERT INTO kw.agencies (id, name, kind) VALUES
	(:'agency_a', 'Reminders test 06: agency a', 'local_authority'),
	(:'agency_b', 'Reminders test 06: agency b', 'voluntary'),
	(:'agency_z', 'Reminders test 06: agency z', 'health')
ON CONFLICT DO NOTHING;

INSERT INTO kw.users (id, email, name, password_hash, agency_id, area_id, roles, active)
VALUES
	(:'mgr', 'rem06-mgr@test.example.org', 'Rem 06 Manager', 'not a hash', :'agency_a',
	    :'area_n', ARRAY['manager', 'practitioner'], true),
	(:'mgrb', 'rem06-mgrb@test.example.org', 'Rem 06 Manager B', 'not a hash',
	    :'agency_b', :'area_n', ARRAY['manager'], true)
ON CONFLICT DO NOTHING;

INSERT INTO kw.users (id, email, name, password_hash, agency_id, area_id, roles,
    manager_id, active)
SELECT v.id::uuid, v.email, v.name, 'not a hash', v.agency::uuid, v.area::uuid, v.roles,
    v.manager::uuid, v.active
FROM (VALUES
	(:'kw1', 'rem06-kw1@test.example.org', 'Rem 06 Keyworker One', :'agency_a', :'area_n',
	    ARRAY['practitioner'], :'mgr', true),
	(:'kw2', 'rem06-kw2@test.example.org', 'Rem 06 Keyworker Two', :'agency_a', :'area_n',
	    ARRAY['practitioner'], NULL, true),
	(:'owner', 'rem06-owner@test.example.org', 'Rem 06 Action Owner', :'agency_b',
	    :'area_n', ARRAY['practitioner'], :'mgrb', true),
	(:'coord1', 'rem06-coord1@test.example.org', 'Rem 06 Coordinator One', :'agency_a',
	    :'area_n', ARRAY['coordinator'], NULL, true),
	(:'coord2', 'rem06-coord2@test.example.org', 'Rem 06 Coordinator Two', :'agency_a',
	    :'area_n', ARRAY['coordinator'], NULL, true),
	(:'coordx', 'rem06-coordx@test.example.org', 'Rem 06 Coordinator Gone', :'agency_a',
	    :'area_n', ARRAY['coordinator'], NULL, false),
	(:'coords', 'rem06-coords@test.example.org', 'Rem 06 Coordinator South', :'agency_a',
	    :'area_s', ARRAY['coordinator'], NULL, true),
	(:'admin', 'rem06-admin@test.example.org', 'Rem 06 Admin', :'agency_a', :'area_n',
	    ARRAY['admin'], NULL, true),
	(:'gone', 'rem06-gone@test.example.org', 'Rem 06 Left The Service', :'agency_a',
	    :'area_n', ARRAY['practitioner'], NULL, false)
) AS v (id, email, name, agency, area, roles, manager, active)
ON CONFLICT DO NOTHING;

INSERT INTO kw.api_clients (id, name, agency_id, key_hash, created_by) VALUES
	(:'client_a', 'rem test 06 partner a', :'agency_a', 'rem06-key-a', :'admin'),
	(:'client_b', 'rem test 06 partner b', :'agency_b', 'rem06-key-b', :'admin')
ON CONFLICT DO NOTHING;

INSERT INTO kw.families (id, name, area_id, postcode) VALUES
	(:'fa1', 'Rem06 Ashdown', :'area_n', 'NR6 1AA'),
	(:'fa2', 'Rem06 Ashworth', :'area_n', 'NR6 2AA'),
	(:'fb', 'Rem06 Birchley', :'area_n', 'NR6 3BB'),
	(:'fc', 'Rem06 Coldwell', :'area_n', 'NR6 4CC'),
	(:'fd', 'Rem06 Dunmore', :'area_n', 'NR6 5DD'),
	(:'ff', 'Rem06 Fairfax', :'area_n', 'NR6 6FF'),
	(:'fg', 'Rem06 Greaves', :'area_n', 'NR6 7GG')
ON CONFLICT DO NOTHING;

-- Registered at 10:00 London time on fixed days (the CHECKs tie the two
-- deadlines to the local date of registration). Inserted with their state:
-- the state machine governs updates.
INSERT INTO kw.episodes (id, family_id, family_name, area_id, keyworker_id,
    lead_agency_id, registered_by, registered_at, assessment_due, first_taf_meeting_due,
    status, assessment_completed_at)
SELECT v.id::uuid, v.family::uuid, v.name, :'area_n', v.kw::uuid, :'agency_a', :'kw1',
    (v.reg || ' 10:00 Europe/London')::timestamptz, v.reg::date + 21, v.reg::date + 42,
    v.status, v.assessed::timestamptz
FROM (VALUES
	(:'ea1', :'fa1', 'Rem06 Ashdown', :'kw1', '2026-12-08', 'registered', NULL),
	(:'ea2', :'fa2', 'Rem06 Ashworth', :'kw1', '2026-12-03', 'registered', NULL),
	(:'eb', :'fb', 'Rem06 Birchley', :'kw1', '2026-10-01', 'assessed',
	    '2026-10-15 10:00 Europe/London'),
	(:'ec', :'fc', 'Rem06 Coldwell', :'kw1', '2026-10-01', 'registered', NULL),
	(:'ed', :'fd', 'Rem06 Dunmore', :'kw2', '2026-10-01', 'registered', NULL),
	(:'ef', :'ff', 'Rem06 Fairfax', :'kw1', '2026-10-01', 'step_up_requested', NULL),
	(:'eg', :'fg', 'Rem06 Greaves', :'kw1', '2026-10-01', 'plan_in_place', NULL)
) AS v (id, family, name, kw, reg, status, assessed)
ON CONFLICT DO NOTHING;

-- Bearer tokens (their hashes, as the server passes them), refreshed on a
-- second run. Removed at the end.
INSERT INTO kw.token_families (id, user_id) VALUES
	('00000000-0000-4000-8000-0000000006f1', :'admin'),
	('00000000-0000-4000-8000-0000000006f2', :'kw1'),
	('00000000-0000-4000-8000-0000000006f3', :'coord1'),
	('00000000-0000-4000-8000-0000000006f4', :'coord2')
ON CONFLICT DO NOTHING;
INSERT INTO kw.access_tokens (token_hash, family_id, expires_at) VALUES
	('rem06-token-admin', '00000000-0000-4000-8000-0000000006f1', now() + interval '1 hour'),
	('rem06-token-kw1', '00000000-0000-4000-8000-0000000006f2', now() + interval '1 hour'),
	('rem06-token-coord1', '00000000-0000-4000-8000-0000000006f3', now() + interval '1 hour'),
	('rem06-token-coord2', '00000000-0000-4000-8000-0000000006f4', now() + interval '1 hour')
ON CONFLICT (token_hash) DO UPDATE SET expires_at = excluded.expires_at;

------------------------------------------------------------------------------
-- Helpers, in pg_temp and not SECURITY DEFINER (as in 05): as keywork_api
-- they are held to its policies.

CREATE FUNCTION pg_temp.id(p_name text) RETURNS uuid
LANGUAGE sql STABLE AS $$ SELECT current_setting('kwtest.' || p_name)::uuid $$;

-- The fixture's name for an id (a user, episode, record, webhook, ...), or
-- the id itself; 'nobody' for NULL.
CREATE FUNCTION pg_temp.who(p uuid) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT n FROM unnest(ARRAY['mgr', 'kw1', 'kw2', 'mgrb', 'owner',
	    'coord1', 'coord2', 'coordx', 'coords', 'admin', 'gone', 'client_a', 'client_b',
	    'agency_a', 'agency_b', 'agency_z', 'ea1', 'ea2', 'eb', 'ec', 'ed', 'ef', 'eg',
	    'a1', 'a2', 'a3', 'a4', 'a5', 'al1', 'al2', 'tc', 'sd1', 'su1', 'su2', 'wa1', 'wa2',
	    'wa3', 'wb1', 'wb2', 'wz', 'n1', 'n2', 'n3', 'n4', 'n5', 'd1', 'd2', 'd3', 'd4',
	    'd5', 'd6', 'd7']) n WHERE pg_temp.id(n) = p), p::text, 'nobody')
$$;

CREATE FUNCTION pg_temp.users() RETURNS uuid[]
LANGUAGE sql STABLE AS $$
	SELECT array_agg(pg_temp.id(n)) FROM unnest(ARRAY['mgr', 'kw1', 'kw2', 'mgrb', 'owner',
	    'coord1', 'coord2', 'coordx', 'coords', 'admin', 'gone']) n
$$;

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

-- No identity. kw.authenticate sets only the settings of the identity it
-- finds (a user's, or a partner system's), and the server runs each request
-- in a transaction of its own; calls made one after another in one
-- transaction here start from none, or a partner system's kw.client_id
-- would outlive its call.
CREATE FUNCTION pg_temp.act_as_nobody() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('kw.user_id', '', true);
	PERFORM set_config('kw.client_id', '', true);
	PERFORM set_config('kw.agency_id', '', true);
	PERFORM set_config('kw.roles', '', true);
END
$$;

-- A check: p_got must equal p_want.
CREATE FUNCTION pg_temp.expect(p_what text, p_got text, p_want text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF p_got IS DISTINCT FROM p_want THEN
		RAISE EXCEPTION E'%:\n  expected [%]\n  got      [%]', p_what, p_want, p_got;
	END IF;
END
$$;

CREATE FUNCTION pg_temp.fails_with(p_sql text, p_state text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_temp.act_as_nobody();
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
	PERFORM pg_temp.act_as_nobody();
	BEGIN
		EXECUTE p_sql;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
		IF SQLSTATE = 'KW422' AND detail = jsonb_build_object('rule', p_rule)::text THEN
			RETURN NULL;
		END IF;
		RETURN format('failed with %s (%s; %s), not KW422 %s', SQLSTATE, SQLERRM, detail,
		    p_rule);
	END;
	RETURN format('succeeded, where KW422 %s was expected', p_rule);
END
$$;

-- p_sql must fail with p_state (or, with p_rule, KW422 naming it).
CREATE FUNCTION pg_temp.expect_error(p_what text, p_sql text, p_state text,
    p_rule text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	wrong text;
BEGIN
	wrong := CASE WHEN p_rule IS NULL THEN pg_temp.fails_with(p_sql, p_state)
	    ELSE pg_temp.fails_rule(p_sql, p_rule) END;
	IF wrong IS NOT NULL THEN
		RAISE EXCEPTION '%: %', p_what, wrong;
	END IF;
END
$$;

-- An UPDATE or INSERT that must change nothing: refused (42501), or no row
-- in reach.
CREATE FUNCTION pg_temp.expect_no_effect(p_what text, p_sql text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	BEGIN
		EXECUTE p_sql;
		GET DIAGNOSTICS n = ROW_COUNT;
	EXCEPTION WHEN OTHERS THEN
		IF SQLSTATE = '42501' THEN
			RETURN;
		END IF;
		RAISE EXCEPTION '%: failed with % (%), not 42501 or 0 rows', p_what, SQLSTATE,
		    SQLERRM;
	END;
	IF n <> 0 THEN
		RAISE EXCEPTION '%: changed % rows', p_what, n;
	END IF;
END
$$;

-- A query's one value, read as the owner whatever the caller's role, which
-- is restored. The identity settings are untouched.
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

CREATE FUNCTION pg_temp.set(p_name text, p_value integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE kw.settings SET value = p_value WHERE name = p_name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'there is no setting %', p_name;
	END IF;
END
$$;

-- What a rule (kw.<p_fn>) decides for p_day about one part of the fixture
-- (rows whose episode_id or subject_id is p_scope's; of kind p_kind when
-- given): "rule recipient due[ reason]", sorted, comma-separated.
CREATE FUNCTION pg_temp.rule_rows(p_fn text, p_day date, p_scope text, p_kind text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	got text;
BEGIN
	EXECUTE format('SELECT coalesce(string_agg(x, '', '' ORDER BY x), '''') FROM ('
	    'SELECT r.rule || '' '' || pg_temp.who(r.recipient) || '' '' || r.due '
	    '|| coalesce('' '' || r.reason, '''') AS x FROM kw.%I($1) r '
	    'WHERE (r.episode_id = $2 OR r.subject_id = $2) '
	    'AND ($3::text IS NULL OR r.kind = $3)) s', p_fn)
	INTO got USING p_day, pg_temp.id(p_scope), p_kind;
	RETURN got;
END
$$;

-- One check per day of p_expected ({"day": "rows"}): what the rule decides
-- that day, under the settings in force.
CREATE FUNCTION pg_temp.expect_rules(p_fn text, p_scope text, p_kind text,
    p_expected jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	d text;
	want text;
	got text;
BEGIN
	FOR d, want IN SELECT key, value FROM jsonb_each_text(p_expected) ORDER BY key LOOP
		got := pg_temp.rule_rows(p_fn, d::date, p_scope, p_kind);
		IF got <> want THEN
			RAISE EXCEPTION '%', format('kw.%s(%s) for %s (%s; %s):' || E'\n'
			    || E'  expected [%s]\n  got      [%s]', p_fn, d, p_scope,
			    coalesce(p_kind, 'every kind'), (SELECT string_agg(name || ' ' || value,
				', ' ORDER BY name) FROM kw.settings WHERE name = ANY (CASE p_fn
				WHEN 'rule_deadlines' THEN ARRAY['reminder_lead_days',
				    'escalate_after_working_days', 'alert_ack_days',
				    'step_down_allocation_days']
				WHEN 'rule_step_up_pending' THEN ARRAY['step_up_pending_days']
				ELSE ARRAY['stalled_no_note_days', 'stalled_overdue_actions'] END)),
			    want, got);
		END IF;
	END LOOP;
END
$$;

-- A reminder as this file names it: "rule kind recipient due reason
-- episode subject".
CREATE FUNCTION pg_temp.reminder(p_rule text, p_kind text, p_user uuid, p_due date,
    p_reason text, p_episode uuid, p_subject uuid) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT concat_ws(' ', p_rule, p_kind, pg_temp.who(p_user), p_due,
	    coalesce(p_reason, '-'), coalesce(pg_temp.who(p_episode), '-'),
	    coalesce(pg_temp.who(p_subject), '-'))
$$;

-- Every reminder the three rules decide on any of p_days for this file's
-- users, each once, sorted.
CREATE FUNCTION pg_temp.decided(p_days date[]) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce(string_agg(DISTINCT x, E'\n    ' ORDER BY x), '') FROM (
		SELECT pg_temp.reminder(c.rule, c.kind, c.recipient, c.due, c.reason,
		    c.episode_id, c.subject_id) AS x
		FROM unnest(p_days) d (day)
		CROSS JOIN LATERAL (SELECT * FROM kw.rule_deadlines(d.day)
		    UNION ALL SELECT * FROM kw.rule_step_up_pending(d.day)
		    UNION ALL SELECT * FROM kw.rule_step_up_suggested(d.day)) c
		WHERE c.recipient = ANY (pg_temp.users())) s
$$;

-- The notifications written for this file's users, named as above, sorted.
CREATE FUNCTION pg_temp.written() RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce(string_agg(x, E'\n    ' ORDER BY x), '') FROM (
		SELECT pg_temp.reminder(n.rule, n.deadline_kind, n.user_id, n.due, n.reason,
		    n.episode_id, n.subject_id) AS x
		FROM kw.notifications n WHERE n.user_id = ANY (pg_temp.users())) s
$$;

-- A notification's outbox rows: "email", "webhook:<name>", sorted.
CREATE FUNCTION pg_temp.channels(p_notification uuid) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce(string_agg(x, ', ' ORDER BY x), '') FROM (
		SELECT d.channel || CASE WHEN d.webhook_id IS NOT NULL
		    THEN ':' || pg_temp.who(d.webhook_id) ELSE '' END AS x
		FROM kw.deliveries d WHERE d.notification_id = p_notification) s
$$;

-- What a notification's outbox rows should be: an email when p_email and
-- the recipient is active; one per webhook of the recipient's agency, not
-- deleted, that subscribes to the reminder's event type.
CREATE FUNCTION pg_temp.channels_due(p_notification uuid, p_email boolean) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce(string_agg(x, ', ' ORDER BY x), '') FROM (
		SELECT 'email' AS x FROM kw.notifications n JOIN kw.users u ON u.id = n.user_id
		WHERE n.id = p_notification AND p_email AND u.active
		UNION ALL
		SELECT 'webhook:' || pg_temp.who(w.id)
		FROM kw.notifications n JOIN kw.users u ON u.id = n.user_id
		JOIN kw.webhooks w ON w.agency_id = u.agency_id
		WHERE n.id = p_notification AND w.deleted_at IS NULL
		    AND 'reminder.' || n.rule = ANY (w.event_types)) s
$$;

-- The one notification of this file with that rule, kind, recipient and
-- scope (its episode or its subject); raises unless there is exactly one.
CREATE FUNCTION pg_temp.notification(p_rule text, p_kind text, p_user text, p_scope text)
RETURNS kw.notifications
LANGUAGE plpgsql AS $$
DECLARE
	n kw.notifications;
	c integer;
BEGIN
	SELECT count(*) INTO c FROM kw.notifications x
	WHERE x.rule = p_rule AND x.deadline_kind = p_kind AND x.user_id = pg_temp.id(p_user)
	    AND (x.episode_id = pg_temp.id(p_scope) OR x.subject_id = pg_temp.id(p_scope));
	IF c <> 1 THEN
		RAISE EXCEPTION 'notifications % % to % about %: % of them, not 1', p_rule, p_kind,
		    p_user, p_scope, c;
	END IF;
	SELECT * INTO n FROM kw.notifications x
	WHERE x.rule = p_rule AND x.deadline_kind = p_kind AND x.user_id = pg_temp.id(p_user)
	    AND (x.episode_id = pg_temp.id(p_scope) OR x.subject_id = pg_temp.id(p_scope));
	RETURN n;
END
$$;

-- The scenario of kw.plan_reminders, as the owner: action a1 of eb (owned
-- by owner, due Wed 30 Dec), alerts al1 and al2 of ec (to owner and to
-- gone, raised Mon 21 Dec), kw2's temporary cover of ed ending Tue 29 Dec,
-- step up su1 of ef (requested Thu 10 Dec), step down sd1 (decided Thu 17
-- Dec).
CREATE FUNCTION pg_temp.add_action_a1() RETURNS void
LANGUAGE sql AS $$
	INSERT INTO kw.actions (id, episode_id, what, owner_user_id, measure, due_date,
	    created_by)
	VALUES (pg_temp.id('a1'), pg_temp.id('eb'), 'Rem 06: book the school meeting.',
	    pg_temp.id('owner'), 'Meeting booked.', '2026-12-30', pg_temp.id('kw1'))
$$;
CREATE FUNCTION pg_temp.add_alerts() RETURNS void
LANGUAGE sql AS $$
	INSERT INTO kw.alerts (id, episode_id, user_id, kind, detail, created_by, created_at)
	VALUES (pg_temp.id('al1'), pg_temp.id('ec'), pg_temp.id('owner'), 'other',
	    'Rem 06: please call the family.', pg_temp.id('kw1'),
	    '2026-12-21 10:00 Europe/London'),
	    (pg_temp.id('al2'), pg_temp.id('ec'), pg_temp.id('gone'), 'other',
	    'Rem 06: please call the school.', pg_temp.id('kw1'),
	    '2026-12-21 10:00 Europe/London')
$$;
CREATE FUNCTION pg_temp.add_cover() RETURNS void
LANGUAGE sql AS $$
	INSERT INTO kw.transfers (id, episode_id, kind, reason, from_keyworker_id,
	    to_keyworker_id, family_told_at, changeover_on, ends_on, status, proposed_by,
	    decided_at, completed_at)
	VALUES (pg_temp.id('tc'), pg_temp.id('ed'), 'temporary', 'keyworker_unavailable',
	    pg_temp.id('kw1'), pg_temp.id('kw2'), '2026-11-25 10:00 Europe/London',
	    '2026-12-01', '2026-12-29', 'completed', pg_temp.id('kw1'),
	    '2026-11-26 10:00 Europe/London', '2026-12-01 09:00 Europe/London')
$$;
CREATE FUNCTION pg_temp.add_step_up(p_id text, p_episode text, p_status text,
    p_created timestamptz) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO kw.step_ups (id, episode_id, area_id, unmet_needs, what_was_tried,
	    more_within_resources, impact_so_far, evidence_higher_level, advice_sought,
	    status, requested_by, decided_by, decided_at, created_at)
	VALUES (pg_temp.id(p_id), pg_temp.id(p_episode), pg_temp.id('area_n'), 'Rem 06: needs.',
	    'Rem 06: tried.', 'Rem 06: no.', 'Rem 06: little.', 'Rem 06: evidence.',
	    'Rem 06: advice.', p_status, pg_temp.id('kw1'),
	    CASE WHEN p_status <> 'pending' THEN pg_temp.id('coord1') END,
	    CASE WHEN p_status <> 'pending' THEN p_created + interval '1 day' END, p_created)
$$;
CREATE FUNCTION pg_temp.add_step_down() RETURNS void
LANGUAGE sql AS $$
	INSERT INTO kw.step_downs (id, area_id, family, needs, consent_given_by,
	    consent_obtained_at, decided_on, created_by, created_at)
	VALUES (pg_temp.id('sd1'), pg_temp.id('area_n'),
	    '{"family": {"name": "Rem06 Hollis", "postcode": "NR6 8HH"}, "members": []}',
	    'Rem 06: needs after social care.', 'Jo Hollis', '2026-12-16 10:00 Europe/London',
	    '2026-12-17', pg_temp.id('coord1'), '2026-12-17 10:00 Europe/London')
$$;
CREATE FUNCTION pg_temp.add_webhook(p_id text, p_agency text, p_types text[],
    p_deleted boolean) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO kw.webhooks (id, agency_id, url, secret, event_types, created_by, deleted_at)
	VALUES (pg_temp.id(p_id), pg_temp.id(p_agency),
	    'https://hooks.rem06.example.org/' || p_id, 'rem06-secret-' || p_id || '-0123456789abcdef',
	    (SELECT array_agg('reminder.' || t) FROM unnest(p_types) t), pg_temp.id('admin'),
	    CASE WHEN p_deleted THEN now() END)
$$;
-- A notification written directly (the outbox and access checks).
CREATE FUNCTION pg_temp.add_notification(p_id text, p_user text, p_rule text,
    p_episode text, p_kind text, p_subject text, p_due date, p_reason text) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO kw.notifications (id, user_id, rule, dedupe_key, episode_id, deadline_kind,
	    subject_id, due, reason)
	VALUES (pg_temp.id(p_id), pg_temp.id(p_user), p_rule, 'rem06:' || p_id,
	    CASE WHEN p_episode IS NOT NULL THEN pg_temp.id(p_episode) END, p_kind,
	    CASE WHEN p_subject IS NOT NULL THEN pg_temp.id(p_subject) END, p_due, p_reason)
$$;
CREATE FUNCTION pg_temp.add_delivery(p_id text, p_channel text, p_notification text,
    p_webhook text, p_status text, p_next timestamptz) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO kw.deliveries (id, channel, notification_id, webhook_id, status, attempts,
	    next_attempt_at, last_error, sent_at, dead_at)
	VALUES (pg_temp.id(p_id), p_channel, pg_temp.id(p_notification),
	    CASE WHEN p_webhook IS NOT NULL THEN pg_temp.id(p_webhook) END, p_status,
	    CASE p_status WHEN 'pending' THEN 0 ELSE 3 END, p_next,
	    CASE WHEN p_status = 'dead' THEN 'Rem 06: the receiver answered HTTP 500' END,
	    CASE WHEN p_status = 'sent' THEN now() - interval '1 day' END,
	    CASE WHEN p_status = 'dead' THEN now() - interval '1 day' END)
$$;

-- The settings as they were at the start: compared at the end.
DO $$
BEGIN
	PERFORM set_config('kwtest.settings_before', (SELECT string_agg(name || '=' || value,
	    ',' ORDER BY name) FROM kw.settings), false);
END
$$;

------------------------------------------------------------------------------
-- The catalogue: the outbox tables under row-level security, enabled and
-- forced; the webhook's secret writable but never readable by the API role,
-- nor which worker holds a delivery; the worker's functions, the rules'
-- view and the pass not the API role's.

DO $$
DECLARE
	t text;
	f text;
BEGIN
	FOREACH t IN ARRAY ARRAY['webhooks', 'deliveries', 'notifications'] LOOP
		IF NOT (SELECT relrowsecurity AND relforcerowsecurity FROM pg_class
		    WHERE oid = ('kw.' || t)::regclass) THEN
			RAISE EXCEPTION 'row-level security is not on and forced on kw.%', t;
		END IF;
	END LOOP;
	IF has_column_privilege('keywork_api', 'kw.webhooks', 'secret', 'SELECT') THEN
		RAISE EXCEPTION 'keywork_api may read kw.webhooks.secret';
	END IF;
	IF NOT has_column_privilege('keywork_api', 'kw.webhooks', 'secret', 'INSERT') THEN
		RAISE EXCEPTION 'keywork_api may not write kw.webhooks.secret (creating a webhook)';
	END IF;
	IF has_column_privilege('keywork_api', 'kw.webhooks', 'secret', 'UPDATE')
	    OR has_column_privilege('keywork_api', 'kw.webhooks', 'agency_id', 'UPDATE') THEN
		RAISE EXCEPTION 'keywork_api may change a webhook''s secret or agency';
	END IF;
	IF has_column_privilege('keywork_api', 'kw.deliveries', 'claimed_by', 'SELECT')
	    OR has_column_privilege('keywork_api', 'kw.deliveries', 'claimed_by', 'UPDATE') THEN
		RAISE EXCEPTION 'keywork_api may read or set which worker holds a delivery';
	END IF;
	IF has_table_privilege('keywork_api', 'kw.deliveries', 'INSERT')
	    OR has_table_privilege('keywork_api', 'kw.deliveries', 'DELETE')
	    OR has_table_privilege('keywork_api', 'kw.webhooks', 'DELETE')
	    OR has_table_privilege('keywork_api', 'kw.notifications', 'INSERT') THEN
		RAISE EXCEPTION 'keywork_api may add or remove outbox rows, webhooks or notifications';
	END IF;
	IF has_table_privilege('keywork_api', 'kw.reminder_deadlines_v', 'SELECT') THEN
		RAISE EXCEPTION 'keywork_api may read kw.reminder_deadlines_v';
	END IF;
	FOREACH f IN ARRAY ARRAY['kw.plan_reminders(date, boolean)',
	    'kw.claim_deliveries(text, text[], integer, integer)', 'kw.delivery_sent(uuid, text)',
	    'kw.delivery_failed(uuid, text, text, integer, integer, integer)',
	    'kw.release_deliveries(text, uuid[])'] LOOP
		IF has_function_privilege('keywork_api', f, 'EXECUTE') THEN
			RAISE EXCEPTION 'keywork_api may run %', f;
		END IF;
	END LOOP;
	IF to_regprocedure('kw.plan_reminders(date)') IS NOT NULL THEN
		RAISE EXCEPTION 'the old kw.plan_reminders(date) of 0009 is still there';
	END IF;
END
$$;

------------------------------------------------------------------------------
-- Working days back: the p_days-th working day counting back from p_day
-- (p_day the first when it is one), weekends and bank holidays skipped.

DO $$
DECLARE
	c record;
BEGIN
	FOR c IN SELECT * FROM (VALUES
		('2026-12-29'::date, 1, '2026-12-29'::date),	-- a working day: itself
		('2026-12-29', 2, '2026-12-24'),		-- back over Mon 28 (hol), the weekend, Fri 25 (hol)
		('2026-12-30', 2, '2026-12-29'),
		('2026-12-28', 1, '2026-12-24'),		-- a bank holiday: the working day before
		('2027-01-03', 1, '2026-12-31'),		-- Sunday, Sat 2, Fri 1 Jan (hol)
		('2027-01-04', 3, '2026-12-30'),
		('2026-12-24', 5, '2026-12-18')
	) v (day, n, want) LOOP
		PERFORM pg_temp.expect(format('kw.working_days_back(%s, %s)', c.day, c.n),
		    kw.working_days_back(c.day, c.n)::text, c.want::text);
	END LOOP;
END
$$;

------------------------------------------------------------------------------
-- kw.rule_deadlines: the assessment. ea1's is due Tue 29 Dec: with a lead
-- of 2 working days the ahead reminder first goes out on Wed 23 (Thu 24 and
-- Tue 29 are the two working days before it; Fri 25, the weekend and Mon 28
-- are not), on the day, then overdue to kw1 and, escalated, to mgr: at once
-- (escalate_after_working_days 0) or after 2 working days overdue (Thu 31).

DO $$
BEGIN
	BEGIN
		PERFORM pg_temp.set('reminder_lead_days', 2);
		PERFORM pg_temp.set('escalate_after_working_days', 0);
		PERFORM pg_temp.expect_rules('rule_deadlines', 'ea1', 'assessment', '{
		    "2026-12-21": "",
		    "2026-12-22": "",
		    "2026-12-23": "deadline_ahead kw1 2026-12-29",
		    "2026-12-24": "deadline_ahead kw1 2026-12-29",
		    "2026-12-26": "deadline_ahead kw1 2026-12-29",
		    "2026-12-28": "deadline_ahead kw1 2026-12-29",
		    "2026-12-29": "deadline_due kw1 2026-12-29",
		    "2026-12-30": "deadline_overdue kw1 2026-12-29, deadline_overdue mgr 2026-12-29",
		    "2027-01-04": "deadline_overdue kw1 2026-12-29, deadline_overdue mgr 2026-12-29"
		}');
		PERFORM pg_temp.set('escalate_after_working_days', 2);
		PERFORM pg_temp.expect_rules('rule_deadlines', 'ea1', 'assessment', '{
		    "2026-12-29": "deadline_due kw1 2026-12-29",
		    "2026-12-30": "deadline_overdue kw1 2026-12-29",
		    "2026-12-31": "deadline_overdue kw1 2026-12-29, deadline_overdue mgr 2026-12-29",
		    "2027-01-02": "deadline_overdue kw1 2026-12-29, deadline_overdue mgr 2026-12-29"
		}');
		-- A lead of 1: the working day before (Thu 24, over the holidays).
		PERFORM pg_temp.set('reminder_lead_days', 1);
		PERFORM pg_temp.expect_rules('rule_deadlines', 'ea1', 'assessment', '{
		    "2026-12-23": "",
		    "2026-12-24": "deadline_ahead kw1 2026-12-29"
		}');
		-- A lead of 0: on the day only.
		PERFORM pg_temp.set('reminder_lead_days', 0);
		PERFORM pg_temp.expect_rules('rule_deadlines', 'ea1', 'assessment', '{
		    "2026-12-24": "",
		    "2026-12-28": "",
		    "2026-12-29": "deadline_due kw1 2026-12-29"
		}');
		-- Met: nothing more. Closed: nothing at all.
		PERFORM pg_temp.set('reminder_lead_days', 2);
		UPDATE kw.episodes SET assessment_completed_at = '2026-12-29 16:00 Europe/London'
		WHERE id = pg_temp.id('ea1');
		PERFORM pg_temp.expect_rules('rule_deadlines', 'ea1', 'assessment', '{
		    "2026-12-23": "",
		    "2026-12-31": ""
		}');
		UPDATE kw.episodes SET assessment_completed_at = NULL, status = 'closed',
		    closed_at = '2026-12-20 10:00 Europe/London'
		WHERE id = pg_temp.id('ea1');
		PERFORM pg_temp.expect_rules('rule_deadlines', 'ea1', NULL, '{
		    "2026-12-23": "",
		    "2026-12-31": ""
		}');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

-- ea2's assessment is due Thu 24 Dec: overdue from Fri 25 (a holiday) to
-- kw1 alone until it is escalate_after_working_days working days overdue:
-- 1 working day on Tue 29, 2 on Wed 30 (Fri 25, the weekend, Mon 28 do not
-- count).

DO $$
BEGIN
	BEGIN
		PERFORM pg_temp.set('reminder_lead_days', 2);
		PERFORM pg_temp.set('escalate_after_working_days', 2);
		PERFORM pg_temp.expect_rules('rule_deadlines', 'ea2', 'assessment', '{
		    "2026-12-21": "",
		    "2026-12-22": "deadline_ahead kw1 2026-12-24",
		    "2026-12-24": "deadline_due kw1 2026-12-24",
		    "2026-12-25": "deadline_overdue kw1 2026-12-24",
		    "2026-12-27": "deadline_overdue kw1 2026-12-24",
		    "2026-12-28": "deadline_overdue kw1 2026-12-24",
		    "2026-12-29": "deadline_overdue kw1 2026-12-24",
		    "2026-12-30": "deadline_overdue kw1 2026-12-24, deadline_overdue mgr 2026-12-24"
		}');
		PERFORM pg_temp.set('escalate_after_working_days', 1);
		PERFORM pg_temp.expect_rules('rule_deadlines', 'ea2', 'assessment', '{
		    "2026-12-25": "deadline_overdue kw1 2026-12-24",
		    "2026-12-28": "deadline_overdue kw1 2026-12-24",
		    "2026-12-29": "deadline_overdue kw1 2026-12-24, deadline_overdue mgr 2026-12-24"
		}');
		PERFORM pg_temp.set('escalate_after_working_days', 0);
		PERFORM pg_temp.expect_rules('rule_deadlines', 'ea2', 'assessment', '{
		    "2026-12-24": "deadline_due kw1 2026-12-24",
		    "2026-12-25": "deadline_overdue kw1 2026-12-24, deadline_overdue mgr 2026-12-24"
		}');
		-- A keyworker with no manager: no one to escalate to.
		UPDATE kw.episodes SET keyworker_id = pg_temp.id('kw2') WHERE id = pg_temp.id('ea2');
		PERFORM pg_temp.expect_rules('rule_deadlines', 'ea2', 'assessment', '{
		    "2026-12-25": "deadline_overdue kw2 2026-12-24"
		}');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

-- An action due Wed 30 Dec, owned by owner (of another agency, with a
-- manager of their own): its owner is reminded (ahead from Thu 24: Tue 29
-- and Wed 30 are the two working days after it), and it escalates to the
-- keyworker (kw1), never to a manager; with 2 working days, on Mon 4 Jan
-- (Thu 31 and Mon 4: Fri 1 Jan is a holiday).

DO $$
BEGIN
	BEGIN
		PERFORM pg_temp.add_action_a1();
		PERFORM pg_temp.set('reminder_lead_days', 2);
		PERFORM pg_temp.set('escalate_after_working_days', 0);
		PERFORM pg_temp.expect_rules('rule_deadlines', 'a1', 'action_due', '{
		    "2026-12-23": "",
		    "2026-12-24": "deadline_ahead owner 2026-12-30",
		    "2026-12-29": "deadline_ahead owner 2026-12-30",
		    "2026-12-30": "deadline_due owner 2026-12-30",
		    "2026-12-31": "deadline_overdue kw1 2026-12-30, deadline_overdue owner 2026-12-30"
		}');
		PERFORM pg_temp.set('escalate_after_working_days', 2);
		PERFORM pg_temp.expect_rules('rule_deadlines', 'a1', 'action_due', '{
		    "2026-12-31": "deadline_overdue owner 2026-12-30",
		    "2027-01-01": "deadline_overdue owner 2026-12-30",
		    "2027-01-03": "deadline_overdue owner 2026-12-30",
		    "2027-01-04": "deadline_overdue kw1 2026-12-30, deadline_overdue owner 2026-12-30"
		}');
		-- Done: nothing more.
		UPDATE kw.actions SET status = 'done', completed_at = '2026-12-30 15:00 Europe/London'
		WHERE id = pg_temp.id('a1');
		PERFORM pg_temp.expect_rules('rule_deadlines', 'a1', 'action_due', '{
		    "2026-12-30": "",
		    "2027-01-04": ""
		}');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

-- An alert not acknowledged: raised Mon 21 Dec to owner, due alert_ack_days
-- (2) days later, Wed 23; its recipient is reminded, and the keyworker's
-- manager (mgr, not the recipient's own manager mgrb) is told once it is
-- overdue. Acknowledged, or on a closed episode: nothing.

DO $$
BEGIN
	BEGIN
		PERFORM pg_temp.add_alerts();
		PERFORM pg_temp.set('reminder_lead_days', 2);
		PERFORM pg_temp.set('escalate_after_working_days', 0);
		PERFORM pg_temp.set('alert_ack_days', 2);
		PERFORM pg_temp.expect_rules('rule_deadlines', 'al1', 'alert_acknowledged', '{
		    "2026-12-18": "",
		    "2026-12-21": "deadline_ahead owner 2026-12-23",
		    "2026-12-23": "deadline_due owner 2026-12-23",
		    "2026-12-24": "deadline_overdue mgr 2026-12-23, deadline_overdue owner 2026-12-23"
		}');
		PERFORM pg_temp.set('alert_ack_days', 3);
		PERFORM pg_temp.expect_rules('rule_deadlines', 'al1', 'alert_acknowledged', '{
		    "2026-12-24": "deadline_due owner 2026-12-24"
		}');
		UPDATE kw.alerts SET acknowledged_at = '2026-12-22 09:00 Europe/London',
		    response = 'Rem 06: called.'
		WHERE id = pg_temp.id('al1');
		PERFORM pg_temp.expect_rules('rule_deadlines', 'al1', 'alert_acknowledged', '{
		    "2026-12-21": "",
		    "2026-12-24": "",
		    "2026-12-29": ""
		}');
		-- al2 (not acknowledged) on a closed episode.
		UPDATE kw.episodes SET status = 'closed', closed_at = '2026-12-22 10:00 Europe/London'
		WHERE id = pg_temp.id('ec');
		PERFORM pg_temp.expect_rules('rule_deadlines', 'al2', 'alert_acknowledged', '{
		    "2026-12-24": "",
		    "2026-12-29": ""
		}');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

-- A temporary cover ending Tue 29 Dec: both keyworkers (kw1 covered, kw2
-- covering), ahead and on the day; never overdue nor escalated. Ended by
-- the worker on the day: still reminded on the day; ended early: not.

DO $$
BEGIN
	BEGIN
		PERFORM pg_temp.add_cover();
		PERFORM pg_temp.set('reminder_lead_days', 2);
		PERFORM pg_temp.set('escalate_after_working_days', 0);
		PERFORM pg_temp.expect_rules('rule_deadlines', 'tc', 'temporary_cover_ends', '{
		    "2026-12-22": "",
		    "2026-12-23": "deadline_ahead kw1 2026-12-29, deadline_ahead kw2 2026-12-29",
		    "2026-12-29": "deadline_due kw1 2026-12-29, deadline_due kw2 2026-12-29",
		    "2026-12-30": "",
		    "2027-01-04": ""
		}');
		UPDATE kw.transfers SET status = 'ended', ended_at = '2026-12-29 06:00 Europe/London'
		WHERE id = pg_temp.id('tc');
		PERFORM pg_temp.expect_rules('rule_deadlines', 'tc', 'temporary_cover_ends', '{
		    "2026-12-29": "deadline_due kw1 2026-12-29, deadline_due kw2 2026-12-29",
		    "2026-12-30": ""
		}');
		UPDATE kw.transfers SET ended_at = '2026-12-20 10:00 Europe/London'
		WHERE id = pg_temp.id('tc');
		PERFORM pg_temp.expect_rules('rule_deadlines', 'tc', 'temporary_cover_ends', '{
		    "2026-12-23": "",
		    "2026-12-29": ""
		}');
		-- Still running when the episode is closed (closing does not end a
		-- cover): nothing, as for every other deadline of a closed episode.
		UPDATE kw.transfers SET status = 'completed', ended_at = NULL
		WHERE id = pg_temp.id('tc');
		UPDATE kw.episodes SET status = 'closed', closed_at = '2026-12-21 10:00 Europe/London'
		WHERE id = pg_temp.id('ed');
		PERFORM pg_temp.expect_rules('rule_deadlines', 'tc', 'temporary_cover_ends', '{
		    "2026-12-23": "",
		    "2026-12-29": ""
		}');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

-- A step down decided Thu 17 Dec waits for a keyworker:
-- step_down_allocation_days (7) later, Thu 24, the area's active
-- coordinators (coord1, coord2; not the inactive coordx, nor coords of the
-- South) are reminded, with no episode; overdue to them, escalated to no
-- one. Allocated: nothing.

DO $$
DECLARE
	n integer;
BEGIN
	BEGIN
		PERFORM pg_temp.add_step_down();
		PERFORM pg_temp.set('reminder_lead_days', 2);
		PERFORM pg_temp.set('escalate_after_working_days', 0);
		PERFORM pg_temp.set('step_down_allocation_days', 7);
		PERFORM pg_temp.expect_rules('rule_deadlines', 'sd1', 'keyworker_allocation', '{
		    "2026-12-21": "",
		    "2026-12-22": "deadline_ahead coord1 2026-12-24, deadline_ahead coord2 2026-12-24",
		    "2026-12-24": "deadline_due coord1 2026-12-24, deadline_due coord2 2026-12-24",
		    "2026-12-29": "deadline_overdue coord1 2026-12-24, deadline_overdue coord2 2026-12-24"
		}');
		SELECT count(*) INTO n FROM kw.rule_deadlines('2026-12-29') r
		WHERE r.subject_id = pg_temp.id('sd1') AND r.episode_id IS NOT NULL;
		PERFORM pg_temp.expect('kw.rule_deadlines: allocation reminders naming an episode',
		    n::text, '0');
		PERFORM pg_temp.set('step_down_allocation_days', 10);
		PERFORM pg_temp.expect_rules('rule_deadlines', 'sd1', 'keyworker_allocation', '{
		    "2026-12-24": "deadline_ahead coord1 2026-12-27, deadline_ahead coord2 2026-12-27"
		}');
		UPDATE kw.step_downs SET status = 'allocated', episode_id = pg_temp.id('ea1'),
		    allocated_keyworker_id = pg_temp.id('kw1'), allocated_by = pg_temp.id('coord1'),
		    allocated_at = '2026-12-23 10:00 Europe/London'
		WHERE id = pg_temp.id('sd1');
		PERFORM pg_temp.expect_rules('rule_deadlines', 'sd1', NULL, '{
		    "2026-12-24": "",
		    "2026-12-29": ""
		}');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

------------------------------------------------------------------------------
-- kw.rule_step_up_pending: su1, requested Thu 10 Dec (12:00 London), waits
-- step_up_pending_days (10): from Sun 20 Dec the step up's area's active
-- coordinators are reminded (step_up_pending) and the keyworker told to
-- keep working (step_up_keep_working), about the decision on su1; nothing
-- before, nothing once decided.

DO $$
DECLARE
	bad integer;
BEGIN
	BEGIN
		PERFORM pg_temp.add_step_up('su1', 'ef', 'pending', '2026-12-10 12:00 Europe/London');
		PERFORM pg_temp.set('step_up_pending_days', 10);
		PERFORM pg_temp.expect_rules('rule_step_up_pending', 'su1', NULL, '{
		    "2026-12-10": "",
		    "2026-12-19": "",
		    "2026-12-20": "step_up_keep_working kw1 2026-12-20, step_up_pending coord1 2026-12-20, step_up_pending coord2 2026-12-20",
		    "2026-12-29": "step_up_keep_working kw1 2026-12-20, step_up_pending coord1 2026-12-20, step_up_pending coord2 2026-12-20"
		}');
		SELECT count(*) INTO bad FROM kw.rule_step_up_pending('2026-12-29') r
		WHERE r.subject_id = pg_temp.id('su1') AND (r.kind <> 'step_up_decision'
		    OR r.episode_id IS DISTINCT FROM pg_temp.id('ef') OR r.reason IS NOT NULL);
		PERFORM pg_temp.expect('kw.rule_step_up_pending: rows not about the decision on su1 '
		    'of ef', bad::text, '0');
		PERFORM pg_temp.set('step_up_pending_days', 5);
		PERFORM pg_temp.expect_rules('rule_step_up_pending', 'su1', NULL, '{
		    "2026-12-14": "",
		    "2026-12-15": "step_up_keep_working kw1 2026-12-15, step_up_pending coord1 2026-12-15, step_up_pending coord2 2026-12-15"
		}');
		-- The step up's area decides who triages: the South's coordinator.
		UPDATE kw.step_ups SET area_id = pg_temp.id('area_s') WHERE id = pg_temp.id('su1');
		PERFORM pg_temp.expect_rules('rule_step_up_pending', 'su1', NULL, '{
		    "2026-12-15": "step_up_keep_working kw1 2026-12-15, step_up_pending coords 2026-12-15"
		}');
		UPDATE kw.step_ups SET status = 'more_information', decided_by = pg_temp.id('coord1'),
		    decided_at = '2026-12-16 10:00 Europe/London'
		WHERE id = pg_temp.id('su1');
		PERFORM pg_temp.expect_rules('rule_step_up_pending', 'su1', NULL, '{
		    "2026-12-20": "",
		    "2026-12-29": ""
		}');
		UPDATE kw.step_ups SET status = 'declined' WHERE id = pg_temp.id('su1');
		PERFORM pg_temp.expect_rules('rule_step_up_pending', 'su1', NULL, '{
		    "2026-12-29": ""
		}');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

------------------------------------------------------------------------------
-- kw.rule_step_up_suggested, one reason at a time, on eg (kw1's, managed by
-- mgr, plan in place, registered Thu 1 Oct). Each check below quiets the
-- other reasons: a case note on Tue 1 Dec keeps no_recent_note away until
-- Tue 29 Dec (stalled_no_note_days 28).

-- no_recent_note: no note at all counts from registration (1 Oct + 28 = 29
-- Oct); then from the latest note.
DO $$
DECLARE
	bad integer;
BEGIN
	BEGIN
		PERFORM pg_temp.set('stalled_no_note_days', 28);
		PERFORM pg_temp.set('stalled_overdue_actions', 2);
		PERFORM pg_temp.expect_rules('rule_step_up_suggested', 'eg', NULL, '{
		    "2026-10-28": "",
		    "2026-10-29": "step_up_suggested kw1 2026-10-29 no_recent_note, step_up_suggested mgr 2026-10-29 no_recent_note",
		    "2026-12-18": "step_up_suggested kw1 2026-10-29 no_recent_note, step_up_suggested mgr 2026-10-29 no_recent_note"
		}');
		SELECT count(*) INTO bad FROM kw.rule_step_up_suggested('2026-12-18') r
		WHERE r.episode_id = pg_temp.id('eg') AND (r.kind <> 'stalled_progress'
		    OR r.subject_id IS NOT NULL);
		PERFORM pg_temp.expect('kw.rule_step_up_suggested: rows not of kind stalled_progress '
		    'with no subject', bad::text, '0');
		INSERT INTO kw.notes (id, episode_id, author_id, kind, body, created_at)
		VALUES (pg_temp.id('note1'), pg_temp.id('eg'), pg_temp.id('kw1'), 'fact',
		    'Rem 06: home visit.', '2026-11-20 10:00 Europe/London');
		PERFORM pg_temp.expect_rules('rule_step_up_suggested', 'eg', NULL, '{
		    "2026-12-17": "",
		    "2026-12-18": "step_up_suggested kw1 2026-12-18 no_recent_note, step_up_suggested mgr 2026-12-18 no_recent_note"
		}');
		INSERT INTO kw.notes (id, episode_id, author_id, kind, body, created_at)
		VALUES (pg_temp.id('note2'), pg_temp.id('eg'), pg_temp.id('kw1'), 'fact',
		    'Rem 06: school visit.', '2026-12-01 10:00 Europe/London');
		PERFORM pg_temp.expect_rules('rule_step_up_suggested', 'eg', NULL, '{
		    "2026-12-18": "",
		    "2026-12-28": "",
		    "2026-12-29": "step_up_suggested kw1 2026-12-29 no_recent_note, step_up_suggested mgr 2026-12-29 no_recent_note"
		}');
		PERFORM pg_temp.set('stalled_no_note_days', 7);
		PERFORM pg_temp.expect_rules('rule_step_up_suggested', 'eg', NULL, '{
		    "2026-12-07": "",
		    "2026-12-08": "step_up_suggested kw1 2026-12-08 no_recent_note, step_up_suggested mgr 2026-12-08 no_recent_note"
		}');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

-- actions_overdue: stalled_overdue_actions (3) open actions overdue at once;
-- due the day after the third fell due. Actions due 10, 14, 16 and 21 Dec.
DO $$
BEGIN
	BEGIN
		PERFORM pg_temp.set('stalled_no_note_days', 28);
		PERFORM pg_temp.set('stalled_overdue_actions', 3);
		INSERT INTO kw.notes (id, episode_id, author_id, kind, body, created_at)
		VALUES (pg_temp.id('note2'), pg_temp.id('eg'), pg_temp.id('kw1'), 'fact',
		    'Rem 06: school visit.', '2026-12-01 10:00 Europe/London');
		INSERT INTO kw.actions (id, episode_id, what, owner_user_id, measure, due_date,
		    created_by)
		SELECT pg_temp.id(v.a), pg_temp.id('eg'), 'Rem 06: ' || v.a, pg_temp.id('kw1'),
		    'Done.', v.due::date, pg_temp.id('kw1')
		FROM (VALUES ('a2', '2026-12-10'), ('a3', '2026-12-14'), ('a4', '2026-12-16'),
		    ('a5', '2026-12-21')) v (a, due);
		PERFORM pg_temp.expect_rules('rule_step_up_suggested', 'eg', NULL, '{
		    "2026-12-16": "",
		    "2026-12-17": "step_up_suggested kw1 2026-12-17 actions_overdue, step_up_suggested mgr 2026-12-17 actions_overdue",
		    "2026-12-21": "step_up_suggested kw1 2026-12-17 actions_overdue, step_up_suggested mgr 2026-12-17 actions_overdue",
		    "2026-12-22": "step_up_suggested kw1 2026-12-17 actions_overdue, step_up_suggested mgr 2026-12-17 actions_overdue"
		}');
		-- One fewer overdue (a3 done): not until a5 falls overdue too.
		UPDATE kw.actions SET status = 'done', completed_at = '2026-12-15 10:00 Europe/London'
		WHERE id = pg_temp.id('a3');
		PERFORM pg_temp.expect_rules('rule_step_up_suggested', 'eg', NULL, '{
		    "2026-12-18": "",
		    "2026-12-21": "",
		    "2026-12-22": "step_up_suggested kw1 2026-12-22 actions_overdue, step_up_suggested mgr 2026-12-22 actions_overdue"
		}');
		PERFORM pg_temp.set('stalled_overdue_actions', 2);
		PERFORM pg_temp.expect_rules('rule_step_up_suggested', 'eg', NULL, '{
		    "2026-12-16": "",
		    "2026-12-17": "step_up_suggested kw1 2026-12-17 actions_overdue, step_up_suggested mgr 2026-12-17 actions_overdue"
		}');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

-- scores_not_improving: of the areas scored at both of the last two
-- scoring dates, none improved; due the last scoring date.
DO $$
DECLARE
	a_phys uuid := (SELECT id FROM kw.outcome_areas WHERE name = 'Physical health');
	a_well uuid := (SELECT id FROM kw.outcome_areas WHERE name = 'Well-being');
BEGIN
	BEGIN
		PERFORM pg_temp.set('stalled_no_note_days', 28);
		PERFORM pg_temp.set('stalled_overdue_actions', 2);
		INSERT INTO kw.notes (id, episode_id, author_id, kind, body, created_at)
		VALUES (pg_temp.id('note2'), pg_temp.id('eg'), pg_temp.id('kw1'), 'fact',
		    'Rem 06: school visit.', '2026-12-01 10:00 Europe/London');
		-- One scoring date: nothing to compare.
		INSERT INTO kw.outcome_scores (episode_id, area_id, score, scored_on, recorded_by)
		VALUES (pg_temp.id('eg'), a_phys, 5, '2026-11-02', pg_temp.id('kw1')),
		    (pg_temp.id('eg'), a_well, 5, '2026-11-02', pg_temp.id('kw1'));
		PERFORM pg_temp.expect_rules('rule_step_up_suggested', 'eg', NULL, '{
		    "2026-12-18": ""
		}');
		-- Two: one the same, one worse.
		INSERT INTO kw.outcome_scores (episode_id, area_id, score, scored_on, recorded_by)
		VALUES (pg_temp.id('eg'), a_phys, 5, '2026-12-01', pg_temp.id('kw1')),
		    (pg_temp.id('eg'), a_well, 4, '2026-12-01', pg_temp.id('kw1'));
		PERFORM pg_temp.expect_rules('rule_step_up_suggested', 'eg', NULL, '{
		    "2026-12-18": "step_up_suggested kw1 2026-12-01 scores_not_improving, step_up_suggested mgr 2026-12-01 scores_not_improving"
		}');
		-- One area improved: nothing.
		UPDATE kw.outcome_scores SET score = 6
		WHERE episode_id = pg_temp.id('eg') AND area_id = a_well AND scored_on = '2026-12-01';
		PERFORM pg_temp.expect_rules('rule_step_up_suggested', 'eg', NULL, '{
		    "2026-12-18": ""
		}');
		-- Only the last two dates count: a later review with no area improved
		-- since 1 Dec stalls again (the improvement before it is history).
		INSERT INTO kw.outcome_scores (episode_id, area_id, score, scored_on, recorded_by)
		VALUES (pg_temp.id('eg'), a_phys, 5, '2026-12-10', pg_temp.id('kw1')),
		    (pg_temp.id('eg'), a_well, 6, '2026-12-10', pg_temp.id('kw1'));
		PERFORM pg_temp.expect_rules('rule_step_up_suggested', 'eg', NULL, '{
		    "2026-12-18": "step_up_suggested kw1 2026-12-10 scores_not_improving, step_up_suggested mgr 2026-12-10 scores_not_improving"
		}');
		-- The last two dates share no area: nothing to compare.
		DELETE FROM kw.outcome_scores WHERE episode_id = pg_temp.id('eg')
		    AND scored_on = '2026-12-10' AND area_id = a_phys;
		DELETE FROM kw.outcome_scores WHERE episode_id = pg_temp.id('eg')
		    AND scored_on = '2026-12-01' AND area_id = a_well;
		PERFORM pg_temp.expect_rules('rule_step_up_suggested', 'eg', NULL, '{
		    "2026-12-18": ""
		}');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

-- The recipients: the keyworker and their manager (a keyworker with none:
-- alone). None while a step up is pending, nor once it is requested,
-- stepped up or closed.
DO $$
BEGIN
	BEGIN
		PERFORM pg_temp.set('stalled_no_note_days', 28);
		PERFORM pg_temp.set('stalled_overdue_actions', 2);
		UPDATE kw.episodes SET keyworker_id = pg_temp.id('kw2') WHERE id = pg_temp.id('eg');
		PERFORM pg_temp.expect_rules('rule_step_up_suggested', 'eg', NULL, '{
		    "2026-12-18": "step_up_suggested kw2 2026-10-29 no_recent_note"
		}');
		UPDATE kw.episodes SET keyworker_id = pg_temp.id('kw1') WHERE id = pg_temp.id('eg');
		-- A pending step up (whatever the status says).
		PERFORM pg_temp.add_step_up('su2', 'eg', 'pending', '2026-12-10 12:00 Europe/London');
		PERFORM pg_temp.expect_rules('rule_step_up_suggested', 'eg', NULL, '{
		    "2026-12-18": ""
		}');
		UPDATE kw.episodes SET status = 'step_up_requested' WHERE id = pg_temp.id('eg');
		PERFORM pg_temp.expect_rules('rule_step_up_suggested', 'eg', NULL, '{
		    "2026-12-18": ""
		}');
		-- Accepted: stepped up, no longer suggested.
		UPDATE kw.step_ups SET status = 'accepted', decided_by = pg_temp.id('coord1'),
		    decided_at = '2026-12-11 10:00 Europe/London'
		WHERE id = pg_temp.id('su2');
		UPDATE kw.episodes SET status = 'stepped_up' WHERE id = pg_temp.id('eg');
		PERFORM pg_temp.expect_rules('rule_step_up_suggested', 'eg', NULL, '{
		    "2026-12-18": ""
		}');
		UPDATE kw.episodes SET status = 'closed', closed_at = '2026-12-12 10:00 Europe/London'
		WHERE id = pg_temp.id('eg');
		PERFORM pg_temp.expect_rules('rule_step_up_suggested', 'eg', NULL, '{
		    "2026-12-18": ""
		}');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

------------------------------------------------------------------------------
-- kw.plan_reminders: on Wed 23, Wed 30 and Thu 31 Dec, with the whole
-- scenario. Each reminder the rules decide for this file's users is written
-- once, whatever the days it is decided on; a second pass on a day writes
-- nothing; each new one gets an email (when asked, to an active recipient)
-- and one delivery per webhook of the recipient's agency, not deleted,
-- subscribed to its type. Webhooks: wa1 (agency a: due, overdue), wa2
-- (agency a: ahead; deleted), wa3 (agency a: step_up_pending,
-- step_up_suggested), wb1 (agency b: overdue), wz (agency z, no one's:
-- every type).

DO $$
DECLARE
	old_ids uuid[];
	n integer;
	c bigint;
	before_n bigint;
	before_d bigint;
	r record;
	x kw.notifications;
	pass record;
BEGIN
	BEGIN
		PERFORM pg_temp.set('reminder_lead_days', 2);
		PERFORM pg_temp.set('escalate_after_working_days', 0);
		PERFORM pg_temp.set('alert_ack_days', 2);
		PERFORM pg_temp.set('step_up_pending_days', 10);
		PERFORM pg_temp.set('stalled_no_note_days', 28);
		PERFORM pg_temp.set('stalled_overdue_actions', 2);
		PERFORM pg_temp.set('step_down_allocation_days', 7);
		PERFORM pg_temp.add_action_a1();
		PERFORM pg_temp.add_alerts();
		PERFORM pg_temp.add_cover();
		PERFORM pg_temp.add_step_up('su1', 'ef', 'pending', '2026-12-10 12:00 Europe/London');
		PERFORM pg_temp.add_step_down();
		PERFORM pg_temp.add_webhook('wa1', 'agency_a', ARRAY['deadline_due', 'deadline_overdue'],
		    false);
		PERFORM pg_temp.add_webhook('wa2', 'agency_a', ARRAY['deadline_ahead'], true);
		PERFORM pg_temp.add_webhook('wa3', 'agency_a', ARRAY['step_up_pending',
		    'step_up_suggested'], false);
		PERFORM pg_temp.add_webhook('wb1', 'agency_b', ARRAY['deadline_overdue'], false);
		PERFORM pg_temp.add_webhook('wz', 'agency_z', ARRAY['deadline_ahead', 'deadline_due',
		    'deadline_overdue', 'step_up_pending', 'step_up_keep_working',
		    'step_up_suggested'], false);
		PERFORM pg_temp.expect('notifications of this file''s users before the first pass',
		    pg_temp.written(), '');

		FOR pass IN SELECT * FROM (VALUES (1, '2026-12-23'::date, true),
		    (2, '2026-12-30', true), (3, '2026-12-31', false)) v (i, day, email)
		    ORDER BY i LOOP
			SELECT array_agg(id) INTO old_ids FROM kw.notifications;
			before_n := (SELECT count(*) FROM kw.notifications);
			before_d := (SELECT count(*) FROM kw.deliveries);
			n := kw.plan_reminders(pass.day, pass.email);
			PERFORM pg_temp.expect(format('kw.plan_reminders(%s, %s): its count against the '
			    'notifications written', pass.day, pass.email), n::text,
			    ((SELECT count(*) FROM kw.notifications) - before_n)::text);
			IF n = 0 THEN
				RAISE EXCEPTION 'kw.plan_reminders(%) wrote nothing', pass.day;
			END IF;
			-- Exactly what the rules decided, over every day run so far.
			PERFORM pg_temp.expect(format('notifications after kw.plan_reminders on %s',
			    pass.day), pg_temp.written(), pg_temp.decided((SELECT array_agg(v.day)
				FROM (VALUES (1, '2026-12-23'::date), (2, '2026-12-30'),
				(3, '2026-12-31')) v (i, day) WHERE v.i <= pass.i)));
			-- Every new notification (anyone's): its outbox rows, and no others.
			FOR r IN SELECT nn.id, nn.user_id, nn.rule FROM kw.notifications nn
			    WHERE nn.id <> ALL (coalesce(old_ids, '{}')) LOOP
				PERFORM pg_temp.expect(format('outbox rows of %s''s new %s (pass on %s, '
				    'email %s)', pg_temp.who(r.user_id), r.rule, pass.day, pass.email),
				    pg_temp.channels(r.id), pg_temp.channels_due(r.id, pass.email));
			END LOOP;
			-- Nothing added for reminders written before.
			c := (SELECT count(*) FROM kw.deliveries d
			    WHERE d.notification_id = ANY (coalesce(old_ids, '{}')));
			PERFORM pg_temp.expect(format('deliveries of earlier reminders after the pass on '
			    '%s, against all deliveries before it', pass.day), c::text, before_d::text);
			-- Run again: nothing.
			before_n := (SELECT count(*) FROM kw.notifications);
			before_d := (SELECT count(*) FROM kw.deliveries);
			n := kw.plan_reminders(pass.day, pass.email);
			PERFORM pg_temp.expect(format('a second kw.plan_reminders(%s)', pass.day),
			    n::text, '0');
			PERFORM pg_temp.expect(format('notifications and deliveries after a second pass '
			    'on %s', pass.day),
			    (SELECT count(*) FROM kw.notifications) || '/'
				|| (SELECT count(*) FROM kw.deliveries),
			    before_n || '/' || before_d);

			-- Named cases, each pass.
			IF pass.i = 1 THEN
				-- Ahead: only the deleted webhook subscribes: an email only.
				x := pg_temp.notification('deadline_ahead', 'assessment', 'kw1', 'ea1');
				PERFORM pg_temp.expect('ahead of ea1''s assessment to kw1, on Wed 23',
				    x.due || ' ' || pg_temp.channels(x.id), '2026-12-29 email');
				-- Due to owner (agency b): wb1 takes overdue only.
				x := pg_temp.notification('deadline_due', 'alert_acknowledged', 'owner', 'al1');
				PERFORM pg_temp.expect('al1 due to owner, on Wed 23',
				    pg_temp.channels(x.id), 'email');
				-- To gone (inactive): no email; agency a's webhook for due.
				x := pg_temp.notification('deadline_due', 'alert_acknowledged', 'gone', 'al2');
				PERFORM pg_temp.expect('al2 due to gone (inactive), on Wed 23',
				    pg_temp.channels(x.id), 'webhook:wa1');
				x := pg_temp.notification('step_up_pending', 'step_up_decision', 'coord1',
				    'su1');
				PERFORM pg_temp.expect('su1 pending to coord1, on Wed 23',
				    x.due || ' ' || pg_temp.channels(x.id), '2026-12-20 email, webhook:wa3');
				x := pg_temp.notification('step_up_keep_working', 'step_up_decision', 'kw1',
				    'su1');
				PERFORM pg_temp.expect('su1 keep working to kw1, on Wed 23',
				    pg_temp.channels(x.id), 'email');
				x := pg_temp.notification('deadline_ahead', 'keyworker_allocation', 'coord2',
				    'sd1');
				PERFORM pg_temp.expect('sd1 ahead to coord2, on Wed 23: episode, channels',
				    coalesce(x.episode_id::text, 'none') || ' ' || pg_temp.channels(x.id),
				    'none email');
			ELSIF pass.i = 2 THEN
				x := pg_temp.notification('deadline_overdue', 'alert_acknowledged', 'owner',
				    'al1');
				PERFORM pg_temp.expect('al1 overdue to owner, on Wed 30',
				    pg_temp.channels(x.id), 'email, webhook:wb1');
				x := pg_temp.notification('deadline_overdue', 'alert_acknowledged', 'mgr',
				    'al1');
				PERFORM pg_temp.expect('al1 escalated to mgr, on Wed 30',
				    pg_temp.channels(x.id), 'email, webhook:wa1');
				x := pg_temp.notification('deadline_due', 'action_due', 'owner', 'a1');
				PERFORM pg_temp.expect('a1 due to owner, on Wed 30',
				    pg_temp.channels(x.id), 'email');
				x := pg_temp.notification('deadline_overdue', 'keyworker_allocation', 'coord1',
				    'sd1');
				PERFORM pg_temp.expect('sd1 overdue to coord1, on Wed 30: episode, channels',
				    coalesce(x.episode_id::text, 'none') || ' ' || pg_temp.channels(x.id),
				    'none email, webhook:wa1');
				x := pg_temp.notification('step_up_suggested', 'stalled_progress', 'mgr', 'eg');
				PERFORM pg_temp.expect('a step up suggested for eg to mgr, on Wed 30',
				    x.due || ' ' || x.reason || ' ' || pg_temp.channels(x.id),
				    '2026-10-29 no_recent_note email, webhook:wa3');
				-- Decided again on Wed 30, written on Wed 23: not again.
				PERFORM pg_temp.notification('step_up_pending', 'step_up_decision', 'coord1',
				    'su1');
			ELSE
				-- Without email: the webhooks only.
				x := pg_temp.notification('deadline_overdue', 'action_due', 'owner', 'a1');
				PERFORM pg_temp.expect('a1 overdue to owner, on Thu 31 without email',
				    pg_temp.channels(x.id), 'webhook:wb1');
				x := pg_temp.notification('deadline_overdue', 'action_due', 'kw1', 'a1');
				PERFORM pg_temp.expect('a1 escalated to kw1, on Thu 31 without email',
				    pg_temp.channels(x.id), 'webhook:wa1');
			END IF;
		END LOOP;
		-- Never the deleted webhook, nor one of an agency no recipient is in.
		PERFORM pg_temp.expect('deliveries to wa2 (deleted) and wz (agency z)',
		    (SELECT count(*) FROM kw.deliveries WHERE webhook_id IN (pg_temp.id('wa2'),
			pg_temp.id('wz')))::text, '0');
		-- Each reminder once: the rows are unique by their key's parts.
		SELECT count(*) INTO c FROM (SELECT 1 FROM kw.notifications
		    WHERE user_id = ANY (pg_temp.users())
		    GROUP BY rule, episode_id, deadline_kind, subject_id, due, user_id, reason
		    HAVING count(*) > 1) s;
		PERFORM pg_temp.expect('reminders written more than once', c::text, '0');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

------------------------------------------------------------------------------
-- The outbox, as the workers use it (as the owner). Other pending rows are
-- put out of reach first, so the claims see this file's only:
--   d1  email of n1 (kw1's due reminder), due 3 minutes ago
--   d2  email of n2 (owner's), due 2 minutes ago
--   d3  email of n3 (mgr's), due in an hour
--   d4  webhook wb1 of n2, due 4 minutes ago
--   d5  webhook wb2 of n2, due a minute ago
--   d6  email of n4, sent;  d7  email of n5, dead

DO $$
DECLARE
	j jsonb;
	e jsonb;
	b jsonb;
	ok boolean;
	st text;
	lag float8;
	lo float8 := 1e9;
	hi float8 := 0;
	i integer;
	d kw.deliveries;
BEGIN
	BEGIN
		UPDATE kw.deliveries SET next_attempt_at = now() + interval '100 years'
		WHERE status = 'pending';
		PERFORM pg_temp.add_webhook('wb1', 'agency_b', ARRAY['deadline_overdue'], false);
		PERFORM pg_temp.add_webhook('wb2', 'agency_b', ARRAY['deadline_overdue'], false);
		PERFORM pg_temp.add_notification('n1', 'kw1', 'deadline_due', 'ea1', 'assessment',
		    NULL, '2026-12-29', NULL);
		PERFORM pg_temp.add_notification('n2', 'owner', 'deadline_overdue', 'eb',
		    'action_due', 'a1', '2026-12-30', NULL);
		PERFORM pg_temp.add_notification('n3', 'mgr', 'deadline_overdue', 'ea1', 'assessment',
		    NULL, '2026-12-29', NULL);
		PERFORM pg_temp.add_notification('n4', 'coord1', 'deadline_due', NULL,
		    'keyworker_allocation', 'sd1', '2026-12-24', NULL);
		PERFORM pg_temp.add_notification('n5', 'kw2', 'step_up_suggested', 'eg',
		    'stalled_progress', NULL, '2026-12-01', 'scores_not_improving');
		PERFORM pg_temp.add_delivery('d1', 'email', 'n1', NULL, 'pending',
		    now() - interval '3 minutes');
		PERFORM pg_temp.add_delivery('d2', 'email', 'n2', NULL, 'pending',
		    now() - interval '2 minutes');
		PERFORM pg_temp.add_delivery('d3', 'email', 'n3', NULL, 'pending',
		    now() + interval '1 hour');
		PERFORM pg_temp.add_delivery('d4', 'webhook', 'n2', 'wb1', 'pending',
		    now() - interval '4 minutes');
		PERFORM pg_temp.add_delivery('d5', 'webhook', 'n2', 'wb2', 'pending',
		    now() - interval '1 minute');
		PERFORM pg_temp.add_delivery('d6', 'email', 'n4', NULL, 'sent', now());
		PERFORM pg_temp.add_delivery('d7', 'email', 'n5', NULL, 'dead', now());

		-- Worker A claims email: the due ones only (not d3, d6, d7, nor webhooks).
		SELECT jsonb_agg(to_jsonb(c) ORDER BY c.id) INTO j
		FROM kw.claim_deliveries('wA', ARRAY['email'], 10, 60) c;
		PERFORM pg_temp.expect('claim of email by wA',
		    (SELECT string_agg(pg_temp.who((x->>'id')::uuid), ', ')
			FROM jsonb_array_elements(j) x), 'd1, d2');
		e := j->0;
		PERFORM pg_temp.expect('what the claim gives for d1 (an email)',
		    concat_ws(' | ', e->>'channel', e->>'event_type', e->>'attempts', e->>'email',
			coalesce(e->>'url', 'no url'), coalesce(e->>'secret', 'no secret'),
			e->>'subject'),
		    'email | reminder.deadline_due | 1 | rem06-kw1@test.example.org | no url | '
			'no secret | Due today: the assessment');
		IF (e->>'event_id')::uuid <> (SELECT event_id FROM kw.deliveries
		    WHERE id = pg_temp.id('d1')) THEN
			RAISE EXCEPTION 'the claim of d1 gives another event id: %', e->>'event_id';
		END IF;
		IF position(pg_temp.id('ea1')::text IN e->>'body') = 0
		    OR position('Rem06' IN e->>'body') > 0 OR position('Rem 06' IN e->>'body') > 0 THEN
			RAISE EXCEPTION 'the email body of d1 lacks the episode or carries a name: %',
			    e->>'body';
		END IF;
		SELECT * INTO d FROM kw.deliveries WHERE id = pg_temp.id('d1');
		PERFORM pg_temp.expect('d1 once claimed by wA: attempts, holder, lease',
		    concat_ws(' ', d.attempts, d.claimed_by, d.status,
			d.next_attempt_at = now() + interval '60 seconds'), '1 wA pending t');

		-- Webhooks, one at most: the one due longest (d4).
		SELECT jsonb_agg(to_jsonb(c)) INTO j
		FROM kw.claim_deliveries('wA', ARRAY['webhook'], 1, 60) c;
		PERFORM pg_temp.expect('claim of one webhook by wA',
		    (SELECT string_agg(pg_temp.who((x->>'id')::uuid), ', ')
			FROM jsonb_array_elements(j) x), 'd4');
		e := j->0;
		b := (e->>'body')::jsonb;
		PERFORM pg_temp.expect('what the claim gives for d4 (a webhook)',
		    concat_ws(' | ', e->>'event_type', e->>'url', e->>'secret',
			coalesce(e->>'email', 'no email') = 'rem06-owner@test.example.org'),
		    'reminder.deadline_overdue | https://hooks.rem06.example.org/wb1 | '
			'rem06-secret-wb1-0123456789abcdef | t');
		PERFORM pg_temp.expect('the signed body of d4',
		    concat_ws(' | ', b->>'id' = e->>'event_id', b->>'type',
			pg_temp.who((b->'data'->>'recipient_id')::uuid),
			pg_temp.who((b->'data'->>'episode_id')::uuid), b->'data'->>'rule',
			b->'data'->>'deadline_kind', pg_temp.who((b->'data'->>'id')::uuid),
			b->'data' ? 'read_at'),
		    't | reminder.deadline_overdue | owner | eb | deadline_overdue | action_due | '
			'n2 | f');

		-- Worker B, both channels: only d5 (the rest held or not due).
		SELECT jsonb_agg(to_jsonb(c)) INTO j
		FROM kw.claim_deliveries('wB', ARRAY['email', 'webhook'], 10, 60) c;
		PERFORM pg_temp.expect('claim of both channels by wB while wA holds its leases',
		    (SELECT string_agg(pg_temp.who((x->>'id')::uuid), ', ')
			FROM jsonb_array_elements(j) x), 'd5');
		PERFORM pg_temp.expect('a second claim by wB',
		    (SELECT count(*) FROM kw.claim_deliveries('wB', ARRAY['email', 'webhook'], 10,
			60))::text, '0');

		-- Sent: only by the worker that holds it, once.
		ok := kw.delivery_sent(pg_temp.id('d1'), 'wB');
		PERFORM pg_temp.expect('kw.delivery_sent(d1) by wB, which does not hold it',
		    ok::text || ' ' || (SELECT status || ' ' || claimed_by FROM kw.deliveries
			WHERE id = pg_temp.id('d1')), 'false pending wA');
		ok := kw.delivery_sent(pg_temp.id('d1'), 'wA');
		SELECT * INTO d FROM kw.deliveries WHERE id = pg_temp.id('d1');
		PERFORM pg_temp.expect('kw.delivery_sent(d1) by wA',
		    concat_ws(' ', ok, d.status, d.sent_at = now(), coalesce(d.claimed_by, 'free'),
			d.attempts), 't sent t free 1');
		PERFORM pg_temp.expect('kw.delivery_sent(d1) by wA again',
		    kw.delivery_sent(pg_temp.id('d1'), 'wA')::text, 'false');

		-- wA's lease on d2 runs out: wB claims it (a second attempt); wA can
		-- no longer mark it sent, failed or give it back.
		UPDATE kw.deliveries SET next_attempt_at = now() - interval '1 second'
		WHERE id = pg_temp.id('d2');
		PERFORM pg_temp.expect('claim of email by wB once wA''s lease on d2 ran out',
		    (SELECT string_agg(pg_temp.who(c.id) || ' ' || c.attempts, ', ')
			FROM kw.claim_deliveries('wB', ARRAY['email'], 10, 60) c), 'd2 2');
		PERFORM pg_temp.expect('wA on d2 after losing it: sent, failed, released',
		    concat_ws(' ', kw.delivery_sent(pg_temp.id('d2'), 'wA'),
			coalesce(kw.delivery_failed(pg_temp.id('d2'), 'wA', 'late', 5, 30, 600), 'null'),
			kw.release_deliveries('wA', ARRAY[pg_temp.id('d2')])),
		    'f null 0');

		-- Failed on the 2nd attempt: retried after 30 * 2^1 s, of which a
		-- random half: 30 to 60 s.
		st := kw.delivery_failed(pg_temp.id('d2'), 'wB', 'SMTP 451 try later', 5, 30, 600);
		SELECT * INTO d FROM kw.deliveries WHERE id = pg_temp.id('d2');
		lag := extract(epoch FROM d.next_attempt_at - now());
		PERFORM pg_temp.expect('kw.delivery_failed(d2) at attempt 2',
		    concat_ws(' | ', st, d.status, coalesce(d.claimed_by, 'free'), d.last_error,
			coalesce(d.dead_at::text, 'alive')),
		    'pending | pending | free | SMTP 451 try later | alive');
		IF lag < 30 OR lag > 60 THEN
			RAISE EXCEPTION 'backoff after attempt 2 (base 30 s): % s, not within [30, 60]',
			    lag;
		END IF;
		PERFORM pg_temp.expect('claim of email while d2 backs off',
		    (SELECT count(*) FROM kw.claim_deliveries('wC', ARRAY['email'], 10, 60))::text,
		    '0');
		-- Attempts 3 and 4: 30 * 4 and 30 * 8 s, capped at 100: 50 to 100 s.
		FOR i IN 3..4 LOOP
			UPDATE kw.deliveries SET next_attempt_at = now() - interval '1 second'
			WHERE id = pg_temp.id('d2');
			PERFORM pg_temp.expect(format('claim of d2 for attempt %s', i),
			    (SELECT string_agg(pg_temp.who(c.id) || ' ' || c.attempts, ', ')
				FROM kw.claim_deliveries('wB', ARRAY['email'], 10, 60) c), 'd2 ' || i);
			st := kw.delivery_failed(pg_temp.id('d2'), 'wB', 'SMTP 451', 5, 30, 100);
			lag := extract(epoch FROM (SELECT next_attempt_at FROM kw.deliveries
			    WHERE id = pg_temp.id('d2')) - now());
			IF st <> 'pending' OR lag < 50 OR lag > 100 THEN
				RAISE EXCEPTION 'kw.delivery_failed at attempt % (base 30, max 100): %, '
				    'retried in % s, not within [50, 100]', i, st, lag;
			END IF;
		END LOOP;
		-- Attempt 5 of 5: dead, with the error cut to 500 characters.
		UPDATE kw.deliveries SET next_attempt_at = now() - interval '1 second'
		WHERE id = pg_temp.id('d2');
		PERFORM kw.claim_deliveries('wB', ARRAY['email'], 10, 60);
		st := kw.delivery_failed(pg_temp.id('d2'), 'wB', repeat('e', 600), 5, 30, 100);
		SELECT * INTO d FROM kw.deliveries WHERE id = pg_temp.id('d2');
		PERFORM pg_temp.expect('kw.delivery_failed(d2) at attempt 5 of 5',
		    concat_ws(' ', st, d.status, d.attempts, d.dead_at = now(),
			coalesce(d.claimed_by, 'free'), length(d.last_error)),
		    'dead dead 5 t free 500');
		UPDATE kw.deliveries SET next_attempt_at = now() - interval '1 second'
		WHERE id = pg_temp.id('d2');
		PERFORM pg_temp.expect('claim of email with d2 dead',
		    (SELECT count(*) FROM kw.claim_deliveries('wC', ARRAY['email'], 10, 60))::text,
		    '0');

		-- The jitter: 40 first failures of d5 (base 10 s) fall in [5, 10] s,
		-- and not all at one point.
		FOR i IN 1..40 LOOP
			IF i > 1 THEN
				UPDATE kw.deliveries SET attempts = 0,
				    next_attempt_at = now() - interval '1 second'
				WHERE id = pg_temp.id('d5');
				PERFORM pg_temp.expect('claim of d5 for the jitter',
				    (SELECT string_agg(pg_temp.who(c.id) || ' ' || c.attempts, ', ')
					FROM kw.claim_deliveries('wB', ARRAY['webhook'], 10, 60) c), 'd5 1');
			END IF;
			st := kw.delivery_failed(pg_temp.id('d5'), 'wB', 'HTTP 500', 99, 10, 1000);
			lag := extract(epoch FROM (SELECT next_attempt_at FROM kw.deliveries
			    WHERE id = pg_temp.id('d5')) - now());
			lo := least(lo, lag);
			hi := greatest(hi, lag);
		END LOOP;
		IF lo < 5 OR hi > 10 OR hi <= lo THEN
			RAISE EXCEPTION 'backoff after a first failure (base 10 s) ranged over [%, %] s, '
			    'not within [5, 10] and spread', lo, hi;
		END IF;

		-- Released: back at once, the claim not counted; only by its holder.
		PERFORM pg_temp.expect('kw.release_deliveries of d4 by wB (wA holds it)',
		    kw.release_deliveries('wB', ARRAY[pg_temp.id('d4')])::text, '0');
		PERFORM pg_temp.expect('kw.release_deliveries of d4 and d5 by wA (d5 is not its)',
		    kw.release_deliveries('wA', ARRAY[pg_temp.id('d4'), pg_temp.id('d5')])::text,
		    '1');
		SELECT * INTO d FROM kw.deliveries WHERE id = pg_temp.id('d4');
		PERFORM pg_temp.expect('d4 released',
		    concat_ws(' ', d.status, d.attempts, coalesce(d.claimed_by, 'free'),
			d.next_attempt_at = now()), 'pending 0 free t');
		PERFORM pg_temp.expect('claim of webhooks by wC after the release',
		    (SELECT string_agg(pg_temp.who(c.id) || ' ' || c.attempts, ', ')
			FROM kw.claim_deliveries('wC', ARRAY['webhook'], 10, 60) c), 'd4 1');
		-- Sent and dead rows stay as they were.
		PERFORM pg_temp.expect('d6 (sent) and d7 (dead) after the claims',
		    (SELECT string_agg(pg_temp.who(id) || ' ' || status || ' ' || attempts, ', '
			ORDER BY id) FROM kw.deliveries WHERE id IN (pg_temp.id('d6'),
			pg_temp.id('d7'))), 'd6 sent 3, d7 dead 3');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

------------------------------------------------------------------------------
-- Access, as keywork_api. Set up as the owner: webhooks wa1 (agency a),
-- wa2 (agency a, deleted), wb1 (agency b); notifications n1 (kw1's, on
-- ea1) and n4 (coord1's allocation reminder, no episode); deliveries d1
-- (email of n4, pending), d4 (wa1 of n1, pending), d6 (email of n1, sent),
-- d7 (wa1 of n4, dead).

DO $$
DECLARE
	j jsonb;
	tok_admin text := 'rem06-token-admin';
	tok_kw1 text := 'rem06-token-kw1';
	tok_coord1 text := 'rem06-token-coord1';
	tok_coord2 text := 'rem06-token-coord2';
	key_a text := 'rem06-key-a';
	key_b text := 'rem06-key-b';
	mine text := 'SELECT coalesce(string_agg(pg_temp.who((x->>''id'')::uuid), '', '' '
	    'ORDER BY pg_temp.who((x->>''id'')::uuid)), '''') FROM jsonb_array_elements($1) x '
	    'WHERE pg_temp.who((x->>''id'')::uuid) !~ ''-''';
	got text;
	w record;
BEGIN
	BEGIN
		PERFORM pg_temp.add_webhook('wa1', 'agency_a', ARRAY['deadline_due', 'deadline_overdue'],
		    false);
		PERFORM pg_temp.add_webhook('wa2', 'agency_a', ARRAY['deadline_ahead'], true);
		PERFORM pg_temp.add_webhook('wb1', 'agency_b', ARRAY['deadline_overdue'], false);
		PERFORM pg_temp.add_notification('n1', 'kw1', 'deadline_due', 'ea1', 'assessment',
		    NULL, '2026-12-29', NULL);
		PERFORM pg_temp.add_notification('n4', 'coord1', 'deadline_due', NULL,
		    'keyworker_allocation', 'sd1', '2026-12-24', NULL);
		PERFORM pg_temp.add_delivery('d1', 'email', 'n4', NULL, 'pending', now());
		PERFORM pg_temp.add_delivery('d4', 'webhook', 'n1', 'wa1', 'pending', now());
		PERFORM pg_temp.add_delivery('d6', 'email', 'n1', NULL, 'sent', now());
		PERFORM pg_temp.add_delivery('d7', 'webhook', 'n4', 'wa1', 'dead', now());
		EXECUTE 'SET LOCAL ROLE keywork_api';
		ASSERT current_user = 'keywork_api', 'not running as keywork_api';

		-- Webhooks: admins see every agency's, a partner system its own
		-- agency's, practitioners none. The list leaves out deleted ones.
		PERFORM pg_temp.act_as_nobody();
		j := api.list_webhooks(tok_admin, 'sql-test', 'local', 1000, NULL, NULL);
		EXECUTE mine INTO got USING j;
		PERFORM pg_temp.expect('api.list_webhooks as admin', got, 'wa1, wb1');
		IF EXISTS (SELECT 1 FROM jsonb_array_elements(j) x WHERE x ? 'secret') THEN
			RAISE EXCEPTION 'api.list_webhooks shows a secret';
		END IF;
		PERFORM pg_temp.act_as_nobody();
		j := api.list_webhooks(key_a, 'sql-test', 'local', 1000, NULL, NULL);
		EXECUTE mine INTO got USING j;
		PERFORM pg_temp.expect('api.list_webhooks as partner a', got, 'wa1');
		PERFORM pg_temp.act_as_nobody();
		j := api.list_webhooks(key_b, 'sql-test', 'local', 1000, NULL, NULL);
		EXECUTE mine INTO got USING j;
		PERFORM pg_temp.expect('api.list_webhooks as partner b', got, 'wb1');
		PERFORM pg_temp.expect_error('api.list_webhooks as a practitioner',
		    format('SELECT api.list_webhooks(%L, ''t'', ''l'', 10, NULL, NULL)', tok_kw1),
		    'KW403');
		PERFORM pg_temp.expect_error('api.list_webhooks as a coordinator',
		    format('SELECT api.list_webhooks(%L, ''t'', ''l'', 10, NULL, NULL)', tok_coord1),
		    'KW403');
		FOR w IN SELECT * FROM (VALUES ('admin', 'wa1, wa2, wb1'), ('client_a', 'wa1, wa2'),
		    ('client_b', 'wb1'), ('kw1', ''), ('coord1', '')) v (who, want) LOOP
			IF w.who LIKE 'client_%' THEN
				PERFORM pg_temp.act_as_partner(w.who,
				    'agency_' || right(w.who, 1));
			ELSE
				PERFORM pg_temp.act_as(w.who, CASE w.who WHEN 'admin' THEN 'admin'
				    WHEN 'coord1' THEN 'coordinator' ELSE 'practitioner' END);
			END IF;
			PERFORM pg_temp.expect(format('kw.webhooks rows of this file seen by %s', w.who),
			    (SELECT coalesce(string_agg(pg_temp.who(id), ', ' ORDER BY pg_temp.who(id)), '')
				FROM kw.webhooks WHERE agency_id IN (pg_temp.id('agency_a'),
				pg_temp.id('agency_b'))), w.want);
			-- The secret: never, for anyone on the API role.
			PERFORM pg_temp.expect_error(format('SELECT secret FROM kw.webhooks as %s', w.who),
			    'SELECT secret FROM kw.webhooks', '42501');
			PERFORM pg_temp.expect_error(format('SELECT * FROM kw.webhooks as %s', w.who),
			    'SELECT * FROM kw.webhooks', '42501');
		END LOOP;

		-- Creating: a partner system for its own agency only; https unless
		-- allowed; an admin names the agency; practitioners not at all.
		PERFORM pg_temp.expect_error('api.create_webhook by partner a for agency b',
		    format('SELECT api.create_webhook(%L, ''t'', ''l'', %L, %L, false)', key_a,
			jsonb_build_object('agency_id', pg_temp.id('agency_b'), 'url',
			'https://hooks.rem06.example.org/x', 'event_types',
			ARRAY['reminder.deadline_due']), repeat('s', 40)), 'KW403');
		PERFORM pg_temp.act_as_nobody();
		j := api.create_webhook(key_a, 't', 'l', jsonb_build_object('url',
		    'https://hooks.rem06.example.org/new-a', 'event_types',
		    ARRAY['reminder.deadline_due', 'reminder.deadline_due', 'reminder.deadline_ahead']),
		    repeat('s', 40), false);
		PERFORM pg_temp.expect('api.create_webhook by partner a',
		    concat_ws(' | ', pg_temp.who((j->>'agency_id')::uuid), j->>'url',
			j->'event_types', j ? 'secret'),
		    'agency_a | https://hooks.rem06.example.org/new-a | '
			'["reminder.deadline_ahead", "reminder.deadline_due"] | f');
		PERFORM pg_temp.expect('the stored webhook of partner a (as the owner)',
		    pg_temp.as_owner(format('SELECT concat_ws('' '', created_by IS NULL, '
			'created_by_client = %L, secret = %L, deleted_at IS NULL) FROM kw.webhooks '
			'WHERE id = %L', pg_temp.id('client_a'), repeat('s', 40), j->>'id')),
		    't t t t');
		PERFORM pg_temp.expect_error('api.create_webhook by partner a with an http URL',
		    format('SELECT api.create_webhook(%L, ''t'', ''l'', %L, %L, false)', key_a,
			jsonb_build_object('url', 'http://hooks.rem06.example.org/plain',
			'event_types', ARRAY['reminder.deadline_due']), repeat('s', 40)),
		    'KW422', 'webhook_url_https');
		PERFORM pg_temp.act_as_nobody();
		j := api.create_webhook(key_a, 't', 'l', jsonb_build_object('url',
		    'http://hooks.rem06.example.org/plain', 'event_types',
		    ARRAY['reminder.deadline_due']), repeat('s', 40), true);
		PERFORM pg_temp.expect('api.create_webhook by partner a with an http URL, allowed',
		    j->>'url', 'http://hooks.rem06.example.org/plain');
		PERFORM pg_temp.expect_error('api.create_webhook by an admin naming no agency',
		    format('SELECT api.create_webhook(%L, ''t'', ''l'', %L, %L, false)', tok_admin,
			jsonb_build_object('url', 'https://hooks.rem06.example.org/y',
			'event_types', ARRAY['reminder.deadline_due']), repeat('s', 40)),
		    'KW422', 'webhook_names_agency');
		PERFORM pg_temp.act_as_nobody();
		j := api.create_webhook(tok_admin, 't', 'l', jsonb_build_object('agency_id',
		    pg_temp.id('agency_b'), 'url', 'https://hooks.rem06.example.org/by-admin',
		    'event_types', ARRAY['reminder.step_up_pending']), repeat('t', 40), false);
		PERFORM pg_temp.expect('api.create_webhook by an admin for agency b',
		    pg_temp.who((j->>'agency_id')::uuid) || ' ' || pg_temp.as_owner(format(
			'SELECT created_by = %L AND created_by_client IS NULL FROM kw.webhooks '
			'WHERE id = %L', pg_temp.id('admin'), j->>'id')), 'agency_b true');
		PERFORM pg_temp.expect_error('api.create_webhook by a practitioner',
		    format('SELECT api.create_webhook(%L, ''t'', ''l'', %L, %L, false)', tok_kw1,
			jsonb_build_object('agency_id', pg_temp.id('agency_a'), 'url',
			'https://hooks.rem06.example.org/z', 'event_types',
			ARRAY['reminder.deadline_due']), repeat('s', 40)), 'KW403');

		-- Deliveries: admins only, never which worker holds one.
		PERFORM pg_temp.act_as_nobody();
		j := api.list_deliveries(tok_admin, 't', 'l', 1000, NULL, NULL, NULL, NULL);
		EXECUTE mine INTO got USING j;
		PERFORM pg_temp.expect('api.list_deliveries as admin', got, 'd1, d4, d6, d7');
		IF EXISTS (SELECT 1 FROM jsonb_array_elements(j) x WHERE x ? 'claimed_by') THEN
			RAISE EXCEPTION 'api.list_deliveries shows which worker holds a delivery';
		END IF;
		PERFORM pg_temp.act_as_nobody();
		j := api.list_deliveries(tok_admin, 't', 'l', 1000, NULL, NULL, 'dead', 'webhook');
		EXECUTE mine INTO got USING j;
		PERFORM pg_temp.expect('api.list_deliveries as admin, dead webhooks', got, 'd7');
		PERFORM pg_temp.act_as_nobody();
		j := api.list_deliveries(tok_admin, 't', 'l', 1000, NULL, NULL, NULL, 'email');
		EXECUTE mine INTO got USING j;
		PERFORM pg_temp.expect('api.list_deliveries as admin, email', got, 'd1, d6');
		PERFORM pg_temp.expect_error('api.list_deliveries as a practitioner',
		    format('SELECT api.list_deliveries(%L, ''t'', ''l'', 10, NULL, NULL, NULL, NULL)',
			tok_kw1), 'KW403');
		PERFORM pg_temp.expect_error('api.list_deliveries as a partner system',
		    format('SELECT api.list_deliveries(%L, ''t'', ''l'', 10, NULL, NULL, NULL, NULL)',
			key_a), 'KW403');
		PERFORM pg_temp.act_as('kw1', 'practitioner');
		PERFORM pg_temp.expect('kw.deliveries rows a practitioner sees',
		    (SELECT count(*) FROM kw.deliveries)::text, '0');
		PERFORM pg_temp.expect_no_effect('UPDATE of a dead delivery by a practitioner',
		    format('UPDATE kw.deliveries SET status = ''pending'', dead_at = NULL '
			'WHERE id = %L', pg_temp.id('d7')));
		PERFORM pg_temp.act_as_partner('client_a', 'agency_a');
		PERFORM pg_temp.expect('kw.deliveries rows a partner system sees',
		    (SELECT count(*) FROM kw.deliveries)::text, '0');
		PERFORM pg_temp.act_as('admin', 'admin');
		PERFORM pg_temp.expect_error('SELECT claimed_by FROM kw.deliveries as admin',
		    'SELECT claimed_by FROM kw.deliveries', '42501');
		PERFORM pg_temp.expect_no_effect('an admin marking a dead delivery sent directly',
		    format('UPDATE kw.deliveries SET status = ''sent'' WHERE id = %L',
			pg_temp.id('d7')));
		PERFORM pg_temp.expect_no_effect('an admin changing a pending delivery directly',
		    format('UPDATE kw.deliveries SET attempts = 0 WHERE id = %L', pg_temp.id('d1')));
		PERFORM pg_temp.expect_no_effect('an admin adding a delivery directly',
		    format('INSERT INTO kw.deliveries (channel, notification_id) VALUES '
			'(''email'', %L)', pg_temp.id('n1')));

		-- Retry: a dead one only, by an admin.
		PERFORM pg_temp.expect_error('api.retry_delivery by a practitioner',
		    format('SELECT api.retry_delivery(%L, ''t'', ''l'', %L)', tok_kw1,
			pg_temp.id('d7')), 'KW403');
		PERFORM pg_temp.expect_error('api.retry_delivery of a pending delivery',
		    format('SELECT api.retry_delivery(%L, ''t'', ''l'', %L)', tok_admin,
			pg_temp.id('d1')), 'KW409');
		PERFORM pg_temp.expect_error('api.retry_delivery of a sent delivery',
		    format('SELECT api.retry_delivery(%L, ''t'', ''l'', %L)', tok_admin,
			pg_temp.id('d6')), 'KW409');
		PERFORM pg_temp.expect_error('api.retry_delivery of no delivery',
		    format('SELECT api.retry_delivery(%L, ''t'', ''l'', %L)', tok_admin,
			gen_random_uuid()), 'KW404');
		PERFORM pg_temp.act_as_nobody();
		j := api.retry_delivery(tok_admin, 't', 'l', pg_temp.id('d7'));
		PERFORM pg_temp.expect('api.retry_delivery of d7 (dead)',
		    concat_ws(' ', j->>'status', j->>'attempts', j->>'dead_at' IS NULL,
			j->>'next_attempt_at' IS NOT NULL), 'pending 0 t t');
		PERFORM pg_temp.expect('d7 after the retry, as the owner',
		    pg_temp.as_owner(format('SELECT concat_ws('' '', status, attempts, dead_at IS NULL, '
			'next_attempt_at <= now()) FROM kw.deliveries WHERE id = %L', pg_temp.id('d7'))),
		    'pending 0 t t');
		PERFORM pg_temp.expect_error('api.retry_delivery of d7 again (pending now)',
		    format('SELECT api.retry_delivery(%L, ''t'', ''l'', %L)', tok_admin,
			pg_temp.id('d7')), 'KW409');

		-- Deleting: a partner system its own agency's; the subscription's
		-- pending deliveries die with it.
		PERFORM pg_temp.expect_error('api.delete_webhook of wa1 by partner b',
		    format('SELECT api.delete_webhook(%L, ''t'', ''l'', %L)', key_b, pg_temp.id('wa1')),
		    'KW404');
		PERFORM pg_temp.expect_error('api.delete_webhook of wb1 by a practitioner',
		    format('SELECT api.delete_webhook(%L, ''t'', ''l'', %L)', tok_kw1,
			pg_temp.id('wb1')), 'KW404');
		PERFORM pg_temp.act_as_nobody();
		PERFORM api.delete_webhook(key_a, 't', 'l', pg_temp.id('wa1'));
		PERFORM pg_temp.expect('wa1 and its deliveries after partner a deleted it',
		    pg_temp.as_owner(format('SELECT (SELECT deleted_at IS NOT NULL FROM kw.webhooks '
			'WHERE id = %L) || '' '' || string_agg(id::text || '' '' || status || '' '' '
			'|| coalesce(last_error, ''-''), '', '' ORDER BY id) FROM kw.deliveries '
			'WHERE webhook_id = %L', pg_temp.id('wa1'), pg_temp.id('wa1'))),
		    format('true %s dead the webhook subscription was deleted, %s dead the webhook '
			'subscription was deleted', pg_temp.id('d4'), pg_temp.id('d7')));
		PERFORM pg_temp.expect_error('api.delete_webhook of wa1 again',
		    format('SELECT api.delete_webhook(%L, ''t'', ''l'', %L)', key_a, pg_temp.id('wa1')),
		    'KW404');
		PERFORM pg_temp.act_as_nobody();
		j := api.list_webhooks(key_a, 't', 'l', 1000, NULL, NULL);
		EXECUTE mine INTO got USING j;
		PERFORM pg_temp.expect('api.list_webhooks as partner a after deleting wa1', got, '');

		-- Notifications: the recipient sees their allocation reminder (no
		-- episode); no one else does.
		FOR w IN SELECT * FROM (VALUES ('coord1', 'coordinator', 'n4'),
		    ('coord2', 'coordinator', ''), ('kw1', 'practitioner', 'n1'),
		    ('admin', 'admin', '')) v (who, roles, want) LOOP
			PERFORM pg_temp.act_as(w.who, w.roles);
			PERFORM pg_temp.expect(format('kw.notifications of this file seen by %s', w.who),
			    (SELECT coalesce(string_agg(pg_temp.who(id), ', '), '') FROM kw.notifications
				WHERE id IN (pg_temp.id('n1'), pg_temp.id('n4'))), w.want);
		END LOOP;
		PERFORM pg_temp.act_as_nobody();
		j := api.list_notifications(tok_coord1, 't', 'l', 1000, NULL, NULL, NULL);
		PERFORM pg_temp.expect('api.list_notifications as coord1',
		    (SELECT string_agg(concat_ws(' ', pg_temp.who((x->>'id')::uuid),
			coalesce(x->>'episode_id', 'none'), x->>'deadline_kind',
			pg_temp.who((x->>'subject_id')::uuid)), ', ') FROM jsonb_array_elements(j) x),
		    'n4 none keyworker_allocation sd1');
		PERFORM pg_temp.act_as_nobody();
		j := api.list_notifications(tok_coord2, 't', 'l', 1000, NULL, NULL, NULL);
		PERFORM pg_temp.expect('api.list_notifications as coord2', j::text, '[]');

		-- Settings: every signed-in caller reads them; admins change them,
		-- within their bounds.
		PERFORM pg_temp.act_as_nobody();
		j := api.list_settings(tok_kw1, 't', 'l');
		PERFORM pg_temp.expect('api.list_settings as a practitioner: how many',
		    jsonb_array_length(j->'items')::text,
		    pg_temp.as_owner('SELECT count(*) FROM kw.settings'));
		PERFORM pg_temp.expect('api.list_settings as a practitioner: the two of 0011',
		    (SELECT string_agg(concat_ws(' ', x->>'name', x->>'minimum', x->>'maximum'), ', '
			ORDER BY x->>'name') FROM jsonb_array_elements(j->'items') x
			WHERE x->>'name' IN ('escalate_after_working_days', 'stalled_overdue_actions')),
		    'escalate_after_working_days 0 20, stalled_overdue_actions 1 50');
		PERFORM pg_temp.act_as_nobody();
		j := api.list_settings(key_b, 't', 'l');
		PERFORM pg_temp.expect('api.list_settings as a partner system: how many',
		    jsonb_array_length(j->'items')::text,
		    pg_temp.as_owner('SELECT count(*) FROM kw.settings'));
		PERFORM pg_temp.expect_error('api.list_settings with no valid token',
		    'SELECT api.list_settings(''rem06-no-such-token'', ''t'', ''l'')', 'KW401');
		PERFORM pg_temp.expect_error('api.update_setting by a practitioner',
		    format('SELECT api.update_setting(%L, ''t'', ''l'', ''reminder_lead_days'', '
			'''{"value": 5}'')', tok_kw1), 'KW403');
		PERFORM pg_temp.expect_error('api.update_setting by a coordinator',
		    format('SELECT api.update_setting(%L, ''t'', ''l'', ''reminder_lead_days'', '
			'''{"value": 5}'')', tok_coord1), 'KW403');
		PERFORM pg_temp.expect_error('api.update_setting by a partner system',
		    format('SELECT api.update_setting(%L, ''t'', ''l'', ''reminder_lead_days'', '
			'''{"value": 5}'')', key_a), 'KW403');
		PERFORM pg_temp.act_as_nobody();
		j := api.update_setting(tok_admin, 't', 'l', 'reminder_lead_days', '{"value": 5}');
		PERFORM pg_temp.expect('api.update_setting of reminder_lead_days to 5 by an admin',
		    (j->>'value') || ' ' || pg_temp.as_owner('SELECT value FROM kw.settings '
			'WHERE name = ''reminder_lead_days'''), '5 5');
		PERFORM pg_temp.act_as_nobody();
		PERFORM pg_temp.expect('api.update_setting to its minimum (0)',
		    api.update_setting(tok_admin, 't', 'l', 'reminder_lead_days',
			'{"value": 0}')->>'value', '0');
		PERFORM pg_temp.act_as_nobody();
		PERFORM pg_temp.expect('api.update_setting to its maximum (14)',
		    api.update_setting(tok_admin, 't', 'l', 'reminder_lead_days',
			'{"value": 14}')->>'value', '14');
		PERFORM pg_temp.expect_error('api.update_setting above its maximum',
		    format('SELECT api.update_setting(%L, ''t'', ''l'', ''reminder_lead_days'', '
			'''{"value": 15}'')', tok_admin), 'KW422', 'setting_in_bounds');
		PERFORM pg_temp.expect_error('api.update_setting below its minimum',
		    format('SELECT api.update_setting(%L, ''t'', ''l'', ''stalled_overdue_actions'', '
			'''{"value": 0}'')', tok_admin), 'KW422', 'setting_in_bounds');
		PERFORM pg_temp.expect_error('api.update_setting of no setting',
		    format('SELECT api.update_setting(%L, ''t'', ''l'', ''rem06_no_such'', '
			'''{"value": 1}'')', tok_admin), 'KW404');
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

------------------------------------------------------------------------------
-- Every write above was undone: the settings as they were, nothing of this
-- file in the notifications, the outbox or the webhooks. Then the fixture
-- goes, with the sign-in secrets, the partner keys and the owner's
-- membership of the API role.

DO $$
BEGIN
	ASSERT current_user <> 'keywork_api', 'still running as keywork_api';
	PERFORM pg_temp.expect('the settings at the end, against the start',
	    (SELECT string_agg(name || '=' || value, ',' ORDER BY name) FROM kw.settings),
	    current_setting('kwtest.settings_before'));
	PERFORM pg_temp.expect('rows of this file left in notifications, webhooks, step ups, '
	    'step downs, transfers, alerts, actions, notes',
	    concat_ws('/', (SELECT count(*) FROM kw.notifications
		WHERE user_id = ANY (pg_temp.users())),
	    (SELECT count(*) FROM kw.webhooks WHERE agency_id IN (pg_temp.id('agency_a'),
		pg_temp.id('agency_b'), pg_temp.id('agency_z'))),
	    (SELECT count(*) FROM kw.step_ups WHERE area_id IN (pg_temp.id('area_n'),
		pg_temp.id('area_s'))),
	    (SELECT count(*) FROM kw.step_downs WHERE area_id IN (pg_temp.id('area_n'),
		pg_temp.id('area_s'))),
	    (SELECT count(*) FROM kw.transfers t JOIN kw.episodes e ON e.id = t.episode_id
		WHERE e.area_id = pg_temp.id('area_n')),
	    (SELECT count(*) FROM kw.alerts a JOIN kw.episodes e ON e.id = a.episode_id
		WHERE e.area_id = pg_temp.id('area_n')),
	    (SELECT count(*) FROM kw.actions a JOIN kw.episodes e ON e.id = a.episode_id
		WHERE e.area_id = pg_temp.id('area_n')),
	    (SELECT count(*) FROM kw.notes n JOIN kw.episodes e ON e.id = n.episode_id
		WHERE e.area_id = pg_temp.id('area_n'))), '0/0/0/0/0/0/0/0');
END
$$;

DELETE FROM kw.token_families WHERE user_id IN (:'admin', :'kw1', :'coord1', :'coord2');
DELETE FROM kw.api_clients WHERE id IN (:'client_a', :'client_b');
DELETE FROM kw.episodes WHERE id IN (:'ea1', :'ea2', :'eb', :'ec', :'ed', :'ef', :'eg');
DELETE FROM kw.families WHERE id IN (:'fa1', :'fa2', :'fb', :'fc', :'fd', :'ff', :'fg');
DELETE FROM kw.users WHERE id IN (:'mgr', :'kw1', :'kw2', :'mgrb', :'owner', :'coord1',
    :'coord2', :'coordx', :'coords', :'admin', :'gone');
DELETE FROM kw.agencies WHERE id IN (:'agency_a', :'agency_b', :'agency_z');
DELETE FROM kw.areas WHERE id IN (:'area_n', :'area_s');
REVOKE keywork_api FROM CURRENT_USER;
