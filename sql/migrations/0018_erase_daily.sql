-- The retention check once a day (docs/performance.md, "At 1,000,000
-- episodes: planning from what changed").
--
-- kw.erase_due_episodes looks at every closed episode past its days after
-- closure for a child still under the age: at 1,000,000 episodes 486,238
-- of them, against 3.5 million children, 3.6 s on every pass of the
-- worker, to find none due. An episode falls due at the start of a local
-- day (its closure's anniversary, or its youngest child's birthday), so
-- the first pass of each day finds every one. The check then runs on that
-- pass, and again only when a setting changes (a shorter retention period
-- takes effect at the next pass); otherwise the day's later passes skip it.
-- An episode closed with a period of 0 days, mid-day, is erased on the
-- next day's first pass. The check itself is unchanged: nothing is erased
-- sooner than before.

CREATE TABLE kw.erase_state (
	one		boolean PRIMARY KEY DEFAULT true CHECK (one),
	checked_on	date	-- the local day whose check is complete
);
INSERT INTO kw.erase_state DEFAULT VALUES;
ALTER TABLE kw.erase_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.erase_state FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON kw.erase_state TO CURRENT_USER USING (true) WITH CHECK (true);
REVOKE ALL ON kw.erase_state FROM PUBLIC, keywork_api;

-- As kw.erase_due_episodes, once the day's check is not yet complete; a
-- batch that comes back short completes it. Workers at once: each takes
-- different episodes (SKIP LOCKED), and the one whose batch comes back
-- short has seen every due episode not locked by another.
CREATE FUNCTION kw.erase_due_today(p_today date, p_limit integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	IF (SELECT checked_on FROM kw.erase_state) IS NOT DISTINCT FROM p_today THEN
		RETURN 0;
	END IF;
	n := kw.erase_due_episodes(p_today, p_limit);
	IF n < p_limit THEN
		UPDATE kw.erase_state SET checked_on = p_today;
	END IF;
	RETURN n;
END
$$;
REVOKE ALL ON FUNCTION kw.erase_due_today(date, integer) FROM PUBLIC;

-- A changed setting: the next pass checks again. Runs as the owner (an
-- admin changes settings through the API's role).
CREATE FUNCTION kw.erase_recheck() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
BEGIN
	UPDATE kw.erase_state SET checked_on = NULL;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION kw.erase_recheck() FROM PUBLIC;
CREATE TRIGGER settings_erase_recheck AFTER INSERT OR UPDATE OR DELETE ON kw.settings
	FOR EACH STATEMENT EXECUTE FUNCTION kw.erase_recheck();
