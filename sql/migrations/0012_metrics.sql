-- keywork 0012: monitoring: the scheduled worker's outbox counts for GET
-- /metrics, and the caller's identity for the access log.
--
-- keywork-worker is not a Kore worker and shares no memory with the API,
-- so what it has delivered is read from its outbox, kw.deliveries, when
-- /metrics is scraped. The API's role has no grant on that table: this
-- function, owned by the schema owner, hands out counts and nothing else.
-- It is written before the outbox exists, and answers '{}' without it.

CREATE FUNCTION api.metrics_outbox() RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	counts jsonb;
BEGIN
	IF to_regclass('kw.deliveries') IS NULL THEN
		RETURN '{}'::jsonb;
	END IF;
	-- Dynamic, so that the function is valid while the table is absent.
	EXECUTE $q$
		SELECT coalesce(jsonb_object_agg(channel, by_status), '{}'::jsonb)
		FROM (
			SELECT channel, jsonb_object_agg(status, n) AS by_status
			FROM (
				SELECT channel, status, count(*) AS n
				FROM kw.deliveries
				GROUP BY channel, status
			) per_status
			GROUP BY channel
		) per_channel
	$q$ INTO counts;
	RETURN counts;
END
$$;
REVOKE ALL ON FUNCTION api.metrics_outbox() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.metrics_outbox() TO keywork_api;

------------------------------------------------------------------------------
-- The caller's identity for the access log. The API's sessions set
-- kw.report_identity = on (a connection option, see src/db.c); for them,
-- kw.authenticate also sends a NOTICE "kw.identity" whose DETAIL is
-- "user:<id>" or "client:<id>", which the server reads off the statement's
-- answer for the request's access line. Other sessions (psql, the scheduled
-- worker) get no such notice. The body is otherwise 0001's.

CREATE OR REPLACE FUNCTION kw.authenticate(p_token_hash text, p_request_id text,
    p_addr text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	u record;
	c record;
	report boolean := coalesce(current_setting('kw.report_identity', true), '') = 'on';
BEGIN
	PERFORM set_config('kw.request_id', coalesce(p_request_id, ''), true);
	PERFORM set_config('kw.client_addr', coalesce(p_addr, ''), true);
	-- The identity it does not set is cleared (as 0011 does).
	PERFORM set_config('kw.user_id', '', true);
	PERFORM set_config('kw.client_id', '', true);
	PERFORM set_config('kw.agency_id', '', true);
	PERFORM set_config('kw.roles', '', true);

	SELECT us.id, us.agency_id, us.roles INTO u
	FROM kw.access_tokens t
	JOIN kw.token_families f ON f.id = t.family_id
	JOIN kw.users us ON us.id = f.user_id
	WHERE t.token_hash = p_token_hash AND t.expires_at > now()
	    AND f.revoked_at IS NULL AND us.active;
	IF FOUND THEN
		PERFORM set_config('kw.user_id', u.id::text, true);
		PERFORM set_config('kw.agency_id', u.agency_id::text, true);
		PERFORM set_config('kw.roles', array_to_string(u.roles, ','), true);
		IF report THEN
			RAISE NOTICE USING MESSAGE = 'kw.identity',
			    DETAIL = 'user:' || u.id;
		END IF;
		RETURN;
	END IF;

	SELECT ac.id, ac.agency_id INTO c
	FROM kw.api_clients ac
	WHERE ac.key_hash = p_token_hash AND ac.revoked_at IS NULL;
	IF FOUND THEN
		PERFORM set_config('kw.client_id', c.id::text, true);
		PERFORM set_config('kw.agency_id', c.agency_id::text, true);
		PERFORM set_config('kw.roles', 'partner', true);
		IF report THEN
			RAISE NOTICE USING MESSAGE = 'kw.identity',
			    DETAIL = 'client:' || c.id;
		END IF;
		RETURN;
	END IF;

	RAISE EXCEPTION USING ERRCODE = 'KW401',
	    MESSAGE = 'The bearer token is not valid or has expired.';
END
$$;
