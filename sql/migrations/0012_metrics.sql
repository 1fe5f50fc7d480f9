-- keywork 0012: monitoring, the scheduled worker's outbox counts for GET /metrics.
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
