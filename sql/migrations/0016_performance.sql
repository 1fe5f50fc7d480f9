-- Performance at national scale (docs/performance.md).
--
-- No JIT compilation for this database's sessions. keywork's statements
-- are short lookups through indexes, but row-level security and the views
-- they read make plans whose estimated cost passes jit_above_cost, and
-- compiling them costs far more than running them: GET /v1/caseload for a
-- line manager took 2 s, of which 1.6 s was JIT, and 53 ms without it.
-- The setting is the database's, so the API, the worker and any pool in
-- front of them get it at connection. Only the database's owner may set it;
-- under another migrating role it is left to the administrator, who is told.
DO $$
BEGIN
	IF pg_has_role(current_user, (SELECT datdba FROM pg_database
	    WHERE datname = current_database()), 'USAGE') THEN
		EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
	ELSE
		RAISE WARNING 'jit is on in database %: set it off (ALTER DATABASE % SET jit = off)',
		    current_database(), current_database();
	END IF;
END
$$;

------------------------------------------------------------------------------
-- Deadlines the caller may see, as before (0006), found from the episodes
-- the caller sees rather than from every open episode. Under the policies
-- alone, each part of kw.deadlines_v reads every open episode and checks
-- each against the policy: 5,000 at 10,000 episodes, 330,000 at 1,000,000.
-- Instead the open episodes the caller sees are found first, through the
-- policy's own arms, each by its index (the episodes held, by id; a
-- manager's reports', by keyworker; a coordinator's areas', by area), and
-- only their deadlines are read. The policies still apply to every row, so
-- the rows are those of the plain query.
CREATE OR REPLACE FUNCTION kw.list_deadlines_unaudited(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_due date, p_after_key text, p_due_before date,
    p_overdue boolean, p_keyworker uuid)
RETURNS jsonb
LANGUAGE plpgsql
-- Planning the deadlines query (seven parts, each under its policies)
-- costs more than running it (20 ms against 16 ms for a manager): one
-- plan per connection, the generic one. Bitmap scans off: the generic
-- plan otherwise ANDs each id with a bitmap of every open episode.
SET plan_cache_mode = force_generic_plan
SET enable_bitmapscan = off
AS $$
DECLARE
	reports uuid[];
	areas uuid[];
	open_ids uuid[];
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	reports := kw.my_reports();
	areas := kw.my_areas();
	-- Each arm only when it holds anything: in the one generic plan, an arm
	-- over an empty array would otherwise be planned for a typical one (an
	-- area's episodes: a sequential scan).
	open_ids := ARRAY(SELECT x.id FROM kw.episodes x
	    WHERE x.id = ANY ((SELECT kw.my_episodes(false))::uuid[]) AND x.status <> 'closed'
		AND (p_keyworker IS NULL OR x.keyworker_id = p_keyworker));
	IF cardinality(reports) > 0 THEN
		open_ids := open_ids || ARRAY(SELECT x.id FROM unnest(reports) r (id)
		    JOIN kw.episodes x ON x.keyworker_id = r.id
		    WHERE x.status <> 'closed'
			AND (p_keyworker IS NULL OR x.keyworker_id = p_keyworker));
	END IF;
	IF cardinality(areas) > 0 THEN
		open_ids := open_ids || ARRAY(SELECT x.id FROM unnest(areas) a (id)
		    JOIN kw.episodes x ON x.area_id = a.id
		    WHERE x.status <> 'closed'
			AND (p_keyworker IS NULL OR x.keyworker_id = p_keyworker));
	END IF;
	RETURN coalesce((SELECT jsonb_agg(p.j ORDER BY p.due, p.key)
	FROM (SELECT x.j, x.due, x.key FROM (
		SELECT kw.deadline_json(d) || jsonb_build_object('family_name', e.family_name)
		    AS j, d.due
		FROM kw.deadlines_v d JOIN kw.episodes e ON e.id = d.episode_id
		WHERE d.episode_id = ANY (open_ids) AND e.id = ANY (open_ids)
		    AND d.met_at IS NULL
		    AND (p_due_before IS NULL OR d.due < p_due_before)
		    AND (p_overdue IS NULL OR (d.due < kw.today()) = p_overdue)
		    AND (p_keyworker IS NULL OR d.keyworker_id = p_keyworker)) y
	    CROSS JOIN LATERAL (SELECT y.j, y.due, y.j->>'key' AS key) x
	    WHERE p_after_due IS NULL OR (x.due, x.key) > (p_after_due, p_after_key)
	    ORDER BY x.due, x.key LIMIT p_limit) p), '[]'::jsonb);
END
$$;

------------------------------------------------------------------------------
-- A caseload, as before (0006), with each practitioner's counts from one
-- pass over their open episodes instead of three queries per practitioner
-- (60 for a manager of 19), and the deadlines read only for those episodes.
-- The policies apply to every row read, as before, so the counts are the
-- same. The areas part (coordinators) is unchanged.
CREATE OR REPLACE FUNCTION api.get_caseload(p_token text, p_rid text, p_addr text)
RETURNS jsonb
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_bitmapscan = off
AS $$
DECLARE
	people uuid[];
	open_ids uuid[];
	today date;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	IF kw.current_user_id() IS NULL THEN
		PERFORM kw.raise('KW403', 'Caseloads are for managers, coordinators and practitioners.');
	END IF;
	people := kw.my_reports() || kw.current_user_id();
	today := kw.today();
	open_ids := ARRAY(SELECT e.id FROM kw.episodes e
	    WHERE e.keyworker_id = ANY (people) AND e.status <> 'closed');
	RETURN jsonb_build_object(
	    'practitioners', coalesce((SELECT jsonb_agg(jsonb_build_object(
		'user_id', s.id, 'name', s.name,
		'open_episodes', coalesce(o.n, 0),
		'due_this_week', coalesce(d.due_this_week, 0),
		'overdue', coalesce(d.overdue, 0),
		'unacknowledged_alerts', coalesce(a.n, 0)) ORDER BY s.name, s.id)
		FROM kw.staff_v s
		LEFT JOIN (SELECT e.keyworker_id, count(*) AS n FROM kw.episodes e
		    WHERE e.id = ANY (open_ids) GROUP BY e.keyworker_id) o ON o.keyworker_id = s.id
		LEFT JOIN (SELECT x.keyworker_id,
			count(*) FILTER (WHERE x.due BETWEEN today AND today + 6) AS due_this_week,
			count(*) FILTER (WHERE x.due < today) AS overdue
		    FROM kw.deadlines_v x
		    WHERE x.episode_id = ANY (open_ids) AND x.met_at IS NULL
			AND x.keyworker_id = ANY (people) AND x.due <= today + 6
		    GROUP BY x.keyworker_id) d ON d.keyworker_id = s.id
		LEFT JOIN kw.oversight_alert_counts() a ON a.user_id = s.id
		WHERE s.id = ANY (people)), '[]'::jsonb),
	    'areas', coalesce((SELECT jsonb_agg(jsonb_build_object(
		'area_id', ar.id, 'name', ar.name,
		'open_episodes', (SELECT count(*) FROM kw.episodes e
		    WHERE e.area_id = ar.id AND e.status <> 'closed'),
		'due_this_week', (SELECT count(*) FROM kw.deadlines_v d
		    JOIN kw.episodes e ON e.id = d.episode_id
		    WHERE e.area_id = ar.id AND d.met_at IS NULL
		    AND d.due BETWEEN today AND today + 6),
		'overdue', (SELECT count(*) FROM kw.deadlines_v d
		    JOIN kw.episodes e ON e.id = d.episode_id
		    WHERE e.area_id = ar.id AND d.met_at IS NULL AND d.due < today))
		ORDER BY ar.name)
		FROM kw.areas ar WHERE ar.id = ANY (kw.my_areas())), '[]'::jsonb));
END
$$;

------------------------------------------------------------------------------
-- The episodes the caller holds, worked out once per transaction instead of
-- once per statement. Every policy on a case table starts from
-- kw.my_episodes, and one request runs it in each of its statements: 7
-- times to read one episode, each 0.13 ms for a keyworker on 67 episodes,
-- tens of milliseconds for a partner system. The first call in a
-- transaction stores the answer, transaction-locally, under the identity it
-- was worked out for; later calls with the same identity read it back. A
-- change to what it is worked out from (an episode, a team, a withdrawal of
-- consent, an account) forgets it, after each statement that makes one, so
-- a request that registers an episode and then reads it back sees it.
CREATE OR REPLACE FUNCTION kw.my_episodes(p_full boolean) RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = kw, pg_temp
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
	k text := CASE WHEN p_full THEN 'kw.my_episodes_full' ELSE 'kw.my_episodes_all' END;
	who text := concat_ws('/', current_setting('kw.user_id', true),
	    current_setting('kw.client_id', true), current_setting('kw.agency_id', true),
	    current_setting('kw.roles', true)) || '=';
	kept text := current_setting(k, true);
	r uuid[];
BEGIN
	IF kept IS NOT NULL AND starts_with(kept, who) THEN
		RETURN substr(kept, length(who) + 1)::uuid[];
	END IF;
	r := (SELECT coalesce(array_agg(DISTINCT s.id), '{}') FROM (
		SELECT e.id FROM kw.episodes e
		WHERE e.keyworker_id = kw.current_user_id()
		UNION ALL
		SELECT t.episode_id FROM kw.team_members t
		WHERE t.user_id = kw.current_user_id() AND (NOT p_full OR t.level = 'full')
		    AND NOT EXISTS (SELECT 1 FROM kw.consent_withdrawals w
			WHERE w.episode_id = t.episode_id AND w.agency_id = kw.current_agency_id())
		UNION ALL
		SELECT e.id FROM kw.episodes e JOIN kw.users u ON u.id = e.keyworker_id
		WHERE kw.has_role('partner') AND u.agency_id = kw.current_agency_id()
		    AND NOT EXISTS (SELECT 1 FROM kw.consent_withdrawals w
			WHERE w.episode_id = e.id AND w.agency_id = kw.current_agency_id())
		UNION ALL
		SELECT t.episode_id FROM kw.team_members t JOIN kw.users u ON u.id = t.user_id
		WHERE kw.has_role('partner') AND u.agency_id = kw.current_agency_id()
		    AND (NOT p_full OR t.level = 'full')
		    AND NOT EXISTS (SELECT 1 FROM kw.consent_withdrawals w
			WHERE w.episode_id = t.episode_id AND w.agency_id = kw.current_agency_id())
	) s);
	PERFORM set_config(k, who || r::text, true);
	RETURN r;
END
$$;

CREATE FUNCTION kw.my_episodes_forget() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('kw.my_episodes_full', '', true);
	PERFORM set_config('kw.my_episodes_all', '', true);
	RETURN NULL;
END
$$;

CREATE TRIGGER episodes_my_episodes_forget AFTER INSERT OR UPDATE OR DELETE ON kw.episodes
	FOR EACH STATEMENT EXECUTE FUNCTION kw.my_episodes_forget();
CREATE TRIGGER team_members_my_episodes_forget
	AFTER INSERT OR UPDATE OR DELETE ON kw.team_members
	FOR EACH STATEMENT EXECUTE FUNCTION kw.my_episodes_forget();
CREATE TRIGGER consent_withdrawals_my_episodes_forget
	AFTER INSERT OR UPDATE OR DELETE ON kw.consent_withdrawals
	FOR EACH STATEMENT EXECUTE FUNCTION kw.my_episodes_forget();
CREATE TRIGGER users_my_episodes_forget AFTER INSERT OR UPDATE OR DELETE ON kw.users
	FOR EACH STATEMENT EXECUTE FUNCTION kw.my_episodes_forget();
