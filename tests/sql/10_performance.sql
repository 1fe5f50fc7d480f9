-- What 0016 changed for speed gives the same answers: the deadlines list
-- found through the caller's episodes, the caseload counted in one pass,
-- and kw.my_episodes kept for the rest of the transaction. Run as the
-- schema owner on the demo data, in a transaction rolled back, as the API
-- role with the demo identities' own tokens; any failure raises.

-- No JIT in this database (a new session, as the API's are).
DO $$
BEGIN
	ASSERT current_setting('jit') = 'off', format('jit is %s', current_setting('jit'));
END
$$;

BEGIN;
GRANT keywork_api TO CURRENT_USER;
CREATE TEMP TABLE perf_who ON COMMIT DROP AS
SELECT split_part(email, '@', 1) AS name, id,
    encode(sha256(convert_to('perf-test-' || id, 'UTF8')), 'hex') AS tok
FROM kw.users WHERE email IN ('keyworker@example.org', 'teacher@example.org',
    'manager@example.org', 'coordinator@example.org', 'healthvisitor@example.org');
WITH f AS (INSERT INTO kw.token_families (user_id) SELECT id FROM perf_who
    RETURNING id, user_id)
INSERT INTO kw.access_tokens (token_hash, family_id, expires_at)
SELECT w.tok, f.id, now() + interval '1 hour' FROM f JOIN perf_who w ON w.id = f.user_id;
GRANT SELECT ON perf_who TO keywork_api;

-- Deadlines: the list (one page as large as it goes) holds exactly the
-- unmet deadlines the policies show the caller, all of them and by
-- keyworker; the caseload's counts are those of the plain queries.
DO $$
DECLARE
	w record;
	p jsonb;
	got integer;
	want integer;
	total integer := 0;
BEGIN
	FOR w IN SELECT * FROM perf_who ORDER BY name LOOP
		EXECUTE 'SET LOCAL ROLE keywork_api';
		got := jsonb_array_length(kw.list_deadlines_unaudited(w.tok, 'perf-test',
		    '127.0.0.1', 1000, NULL, NULL, NULL, NULL, NULL));
		SELECT count(*) INTO want FROM kw.deadlines_v d
		    JOIN kw.episodes e ON e.id = d.episode_id WHERE d.met_at IS NULL;
		ASSERT got = want, format('%s: %s deadlines listed, %s visible', w.name, got, want);
		total := total + want;
		got := jsonb_array_length(kw.list_deadlines_unaudited(w.tok, 'perf-test',
		    '127.0.0.1', 1000, NULL, NULL, NULL, NULL, w.id));
		SELECT count(*) INTO want FROM kw.deadlines_v d
		    JOIN kw.episodes e ON e.id = d.episode_id
		    WHERE d.met_at IS NULL AND d.keyworker_id = w.id;
		ASSERT got = want, format('%s, own: %s deadlines listed, %s visible',
		    w.name, got, want);

		FOR p IN SELECT x FROM jsonb_array_elements(
		    api.get_caseload(w.tok, 'perf-test', '127.0.0.1')->'practitioners') x LOOP
			SELECT count(*) INTO want FROM kw.episodes e
			    WHERE e.keyworker_id = (p->>'user_id')::uuid AND e.status <> 'closed';
			ASSERT (p->>'open_episodes')::integer = want,
			    format('%s: open episodes %s, want %s', w.name, p, want);
			SELECT count(*) INTO want FROM kw.deadlines_v d
			    WHERE d.keyworker_id = (p->>'user_id')::uuid AND d.met_at IS NULL
			    AND d.due BETWEEN kw.today() AND kw.today() + 6;
			ASSERT (p->>'due_this_week')::integer = want,
			    format('%s: due this week %s, want %s', w.name, p, want);
			SELECT count(*) INTO want FROM kw.deadlines_v d
			    WHERE d.keyworker_id = (p->>'user_id')::uuid AND d.met_at IS NULL
			    AND d.due < kw.today();
			ASSERT (p->>'overdue')::integer = want,
			    format('%s: overdue %s, want %s', w.name, p, want);
		END LOOP;
		EXECUTE 'RESET ROLE';
	END LOOP;
	ASSERT total > 0, 'no deadline in the demo data: the comparison shows nothing';
END
$$;

-- kw.my_episodes within one transaction: a team place given, then taken
-- away, shows at once; another identity gets its own answer, the same as
-- one worked out afresh.
DO $$
DECLARE
	kw_tok text := (SELECT tok FROM perf_who WHERE name = 'keyworker');
	kw_id uuid := (SELECT id FROM perf_who WHERE name = 'keyworker');
	t_tok text := (SELECT tok FROM perf_who WHERE name = 'teacher');
	mgr uuid := (SELECT id FROM perf_who WHERE name = 'manager');
	oakes uuid := (SELECT id FROM kw.episodes WHERE family_name = 'Oakes' LIMIT 1);
	a uuid[];
	b uuid[];
BEGIN
	ASSERT oakes IS NOT NULL, 'the demo data has no Oakes episode';
	EXECUTE 'SET LOCAL ROLE keywork_api';
	PERFORM kw.authenticate(kw_tok, 'perf-test', '127.0.0.1');
	a := kw.my_episodes(false);
	ASSERT NOT oakes = ANY (a), 'keyworker@ already holds Oakes';
	ASSERT kw.my_episodes(false) = a, 'a second call differs';
	EXECUTE 'RESET ROLE';
	INSERT INTO kw.team_members (episode_id, user_id, level, added_by)
	VALUES (oakes, kw_id, 'limited', mgr);
	EXECUTE 'SET LOCAL ROLE keywork_api';
	ASSERT oakes = ANY (kw.my_episodes(false)), 'a team place given is not seen';
	ASSERT NOT oakes = ANY (kw.my_episodes(true)), 'a limited place counts as full';
	EXECUTE 'RESET ROLE';
	DELETE FROM kw.team_members WHERE episode_id = oakes AND user_id = kw_id;
	EXECUTE 'SET LOCAL ROLE keywork_api';
	ASSERT NOT oakes = ANY (kw.my_episodes(false)), 'a team place taken away is still seen';

	PERFORM kw.authenticate(t_tok, 'perf-test', '127.0.0.1');
	ASSERT oakes = ANY (kw.my_episodes(false)), 'teacher@ does not see the episode they keywork';
	a := kw.my_episodes(false);
	PERFORM set_config('kw.my_episodes_all', '', true);
	b := kw.my_episodes(false);
	ASSERT a = b, format('kept %s, worked out afresh %s', a, b);
	EXECUTE 'RESET ROLE';
END
$$;
ROLLBACK;
