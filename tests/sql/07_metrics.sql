-- api.metrics_outbox(): the scheduled worker's outbox counts for GET
-- /metrics, by channel and status, to the API's role, which cannot read the
-- outbox itself; '{}' while there is no outbox. Run as the schema owner, in
-- a transaction rolled back; any failure raises.
--
-- Where kw.deliveries does not exist yet, the test makes one of its own
-- (the columns the function reads) and fills it; where it does, the counts
-- must be the table's.
BEGIN;
GRANT keywork_api TO CURRENT_USER;
DO $$
DECLARE
	got jsonb;
	want jsonb;
	own boolean := to_regclass('kw.deliveries') IS NULL;
BEGIN
	IF own THEN
		EXECUTE 'SET LOCAL ROLE keywork_api';
		got := api.metrics_outbox();
		ASSERT got = '{}'::jsonb, format('without an outbox: %s', got);
		EXECUTE 'RESET ROLE';
		EXECUTE 'CREATE TABLE kw.deliveries (channel text NOT NULL, '
		    'status text NOT NULL, attempts integer NOT NULL DEFAULT 0)';
		EXECUTE $q$INSERT INTO kw.deliveries (channel, status, attempts)
		    VALUES ('email', 'pending', 0), ('email', 'pending', 2),
		    ('email', 'dead', 5), ('webhook', 'sent', 1)$q$;
		want := '{"email": {"pending": 2, "dead": 1}, "webhook": {"sent": 1}}';
	ELSE
		EXECUTE $q$SELECT coalesce(jsonb_object_agg(channel, s), '{}')
		    FROM (SELECT channel, jsonb_object_agg(status, n) AS s
		    FROM (SELECT channel, status, count(*) AS n FROM kw.deliveries
		    GROUP BY 1, 2) a GROUP BY 1) b$q$ INTO want;
	END IF;

	EXECUTE 'SET LOCAL ROLE keywork_api';
	got := api.metrics_outbox();
	ASSERT got = want, format('outbox counts %s, want %s', got, want);
	IF own THEN
		-- The counts, and nothing else: the table stays closed to the API.
		BEGIN
			EXECUTE 'SELECT count(*) FROM kw.deliveries';
			RAISE EXCEPTION 'keywork_api reads kw.deliveries';
		EXCEPTION WHEN insufficient_privilege THEN
			NULL;
		END;
	END IF;
	EXECUTE 'RESET ROLE';
END
$$;
ROLLBACK;

-- Only the API's sessions (kw.report_identity = on) are told who called.
DO $$
BEGIN
	ASSERT coalesce(current_setting('kw.report_identity', true), '') <> 'on',
	    'this session asks for identity notices';
	ASSERT has_function_privilege('keywork_api', 'api.metrics_outbox()',
	    'EXECUTE'), 'keywork_api cannot count the outbox';
	ASSERT NOT has_function_privilege('public', 'api.metrics_outbox()',
	    'EXECUTE'), 'everyone can count the outbox';
END
$$;
