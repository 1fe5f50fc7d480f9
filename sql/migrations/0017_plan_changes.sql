-- Reminders planned from what changed (docs/performance.md, "The scheduled
-- worker's pass").
--
-- Every pass of keywork-worker ran the rules over every open episode and
-- offered every reminder they decided to the notifications' dedupe key:
-- at 1,000,000 episodes (347,000 open) that is 1.3 million reminders,
-- nearly all written by an earlier pass, and 33 s a pass with nothing new.
-- What the rules decide for an episode changes only with the day (dates
-- are local days: a deadline becomes due, or overdue, at midnight), with
-- the episode's own records, or with something every episode depends on
-- (the settings, bank holidays, who manages whom). So:
--
--   - the first pass of each local day plans every episode, as before;
--   - any later pass that day plans only the episodes whose records changed
--     since the last pass, and everything again after a change that every
--     episode depends on.
--
-- Changes are noted by triggers, in the transaction that makes them, as
-- rows appended to kw.plan_changes (never updated, so writers never wait
-- on one another or on the worker); a pass takes the rows it sees and
-- deletes them in its own transaction, so a change committed after the
-- pass's snapshot is planned by the next pass, and none is lost if a pass
-- fails. Case notes are not watched: a note can only take a reminder
-- away (the "no recent note" suggestion), never add one.

CREATE TABLE kw.plan_changes (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	episode_id	uuid	-- NULL: something every episode depends on
);

-- The local day of the last pass that planned everything.
CREATE TABLE kw.plan_state (
	one		boolean PRIMARY KEY DEFAULT true CHECK (one),
	planned_on	date
);
INSERT INTO kw.plan_state DEFAULT VALUES;

-- The owner's alone (the worker, and the triggers' definer function); the
-- API role has no privilege and no policy on either.
ALTER TABLE kw.plan_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.plan_changes FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.plan_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.plan_state FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON kw.plan_changes TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.plan_state TO CURRENT_USER USING (true) WITH CHECK (true);
REVOKE ALL ON kw.plan_changes, kw.plan_state FROM PUBLIC, keywork_api;

-- Runs as the owner: the API's role has no privilege on kw.plan_changes.
-- Per statement, with the rows it wrote (an insert or an update: the rows
-- after; a delete: the rows before), one insert whatever their number.
-- With the argument 'all': a change every episode depends on.
CREATE FUNCTION kw.plan_note_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
BEGIN
	IF TG_NARGS > 0 AND TG_ARGV[0] = 'all' THEN
		INSERT INTO kw.plan_changes (episode_id) VALUES (NULL);
	ELSIF TG_TABLE_NAME = 'episodes' AND TG_OP = 'DELETE' THEN
		INSERT INTO kw.plan_changes (episode_id) SELECT DISTINCT id FROM old_rows;
	ELSIF TG_TABLE_NAME = 'episodes' THEN
		INSERT INTO kw.plan_changes (episode_id) SELECT DISTINCT id FROM new_rows;
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO kw.plan_changes (episode_id)
		SELECT DISTINCT episode_id FROM old_rows WHERE episode_id IS NOT NULL;
	ELSE
		INSERT INTO kw.plan_changes (episode_id)
		SELECT DISTINCT episode_id FROM new_rows WHERE episode_id IS NOT NULL;
	END IF;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION kw.plan_note_change() FROM PUBLIC;

-- An episode's records. Case notes only when one is changed or removed
-- (erasure; never in use): a new note can only take a reminder away.
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['episodes', 'consents', 'meetings', 'actions', 'alerts',
	    'transfers', 'step_ups', 'outcome_scores', 'notes'] LOOP
		IF t <> 'notes' THEN
			EXECUTE format('CREATE TRIGGER %1$s_plan_insert AFTER INSERT ON kw.%1$s '
			    'REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT '
			    'EXECUTE FUNCTION kw.plan_note_change()', t);
		END IF;
		EXECUTE format('CREATE TRIGGER %1$s_plan_update AFTER UPDATE ON kw.%1$s '
		    'REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT '
		    'EXECUTE FUNCTION kw.plan_note_change()', t);
		EXECUTE format('CREATE TRIGGER %1$s_plan_delete AFTER DELETE ON kw.%1$s '
		    'REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT '
		    'EXECUTE FUNCTION kw.plan_note_change()', t);
	END LOOP;
END
$$;

-- What every episode depends on: the settings, bank holidays, step downs
-- (their coordinators' reminders have no episode), and accounts' roles,
-- areas, managers and whether they are active (sign-ins change none).
CREATE TRIGGER settings_plan_all AFTER INSERT OR UPDATE OR DELETE ON kw.settings
	FOR EACH STATEMENT EXECUTE FUNCTION kw.plan_note_change('all');
CREATE TRIGGER holidays_plan_all AFTER INSERT OR UPDATE OR DELETE ON kw.holidays
	FOR EACH STATEMENT EXECUTE FUNCTION kw.plan_note_change('all');
CREATE TRIGGER step_downs_plan_all AFTER INSERT OR UPDATE OR DELETE ON kw.step_downs
	FOR EACH STATEMENT EXECUTE FUNCTION kw.plan_note_change('all');
CREATE TRIGGER users_plan_all
	AFTER INSERT OR DELETE OR UPDATE OF roles, area_id, agency_id, manager_id, active
	ON kw.users FOR EACH STATEMENT EXECUTE FUNCTION kw.plan_note_change('all');

------------------------------------------------------------------------------
-- The rules of 0011, for the episodes given (NULL: all). One custom plan
-- per call, so that "all" plans as before and a list of episodes reaches
-- each part of the deadlines by its index.

DROP FUNCTION kw.rule_deadlines(date);
CREATE FUNCTION kw.rule_deadlines(p_today date, p_episodes uuid[] DEFAULT NULL)
RETURNS TABLE (rule text, recipient uuid, episode_id uuid, kind text, subject_id uuid,
    due date, reason text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
DECLARE
	lead integer := kw.setting('reminder_lead_days');
	esc integer := kw.setting('escalate_after_working_days');
	horizon date;
	escalate_by date;
BEGIN
	horizon := CASE WHEN lead > 0 THEN kw.add_working_days(p_today, lead) ELSE p_today END;
	escalate_by := CASE WHEN esc > 0 THEN kw.working_days_back(p_today, esc) - 1
	    ELSE p_today - 1 END;
	RETURN QUERY
	WITH unmet AS (
		SELECT * FROM kw.reminder_deadlines_v d WHERE d.met_at IS NULL AND d.due <= horizon
		    AND (p_episodes IS NULL OR d.episode_id = ANY (p_episodes))
	)
	SELECT 'deadline_ahead', o.reminds, o.episode_id, o.kind, o.subject_id, o.due, NULL::text
	FROM unmet o WHERE o.due > p_today
	UNION ALL
	SELECT 'deadline_due', o.reminds, o.episode_id, o.kind, o.subject_id, o.due, NULL
	FROM unmet o WHERE o.due = p_today
	UNION ALL
	SELECT 'deadline_overdue', o.reminds, o.episode_id, o.kind, o.subject_id, o.due, NULL
	FROM unmet o WHERE o.due < p_today AND o.overdue_reminds
	UNION ALL
	SELECT 'deadline_overdue', o.escalate_to, o.episode_id, o.kind, o.subject_id, o.due, NULL
	FROM unmet o WHERE o.due <= escalate_by AND o.escalate_to IS NOT NULL;
END
$$;

DROP FUNCTION kw.rule_step_up_suggested(date);
CREATE FUNCTION kw.rule_step_up_suggested(p_today date, p_episodes uuid[] DEFAULT NULL)
RETURNS TABLE (rule text, recipient uuid, episode_id uuid, kind text, subject_id uuid,
    due date, reason text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
BEGIN
	RETURN QUERY
	WITH live AS (
		SELECT e.id, e.keyworker_id, e.registered_at,
		    (SELECT u.manager_id FROM kw.users u WHERE u.id = e.keyworker_id) AS manager
		FROM kw.episodes e
		WHERE e.status IN ('registered', 'assessed', 'plan_in_place')
		    AND (p_episodes IS NULL OR e.id = ANY (p_episodes))
	), reviews AS (
		SELECT o.id, r.days[1] AS last_day, r.days[2] AS prev_day
		FROM live o
		CROSS JOIN LATERAL (SELECT array_agg(x.scored_on ORDER BY x.scored_on DESC) AS days
		    FROM (SELECT DISTINCT s.scored_on FROM kw.outcome_scores s
			WHERE s.episode_id = o.id ORDER BY s.scored_on DESC LIMIT 2) x) r
		WHERE cardinality(r.days) = 2
	), stalled AS (
		SELECT v.id, 'scores_not_improving' AS reason, v.last_day AS due
		FROM reviews v
		WHERE EXISTS (SELECT 1 FROM kw.outcome_scores a JOIN kw.outcome_scores b
			ON b.episode_id = a.episode_id AND b.area_id = a.area_id
		    WHERE a.episode_id = v.id AND a.scored_on = v.last_day
			AND b.scored_on = v.prev_day)
		    AND NOT EXISTS (SELECT 1 FROM kw.outcome_scores a JOIN kw.outcome_scores b
			ON b.episode_id = a.episode_id AND b.area_id = a.area_id
		    WHERE a.episode_id = v.id AND a.scored_on = v.last_day
			AND b.scored_on = v.prev_day AND a.score > b.score)
		UNION ALL
		SELECT x.episode_id, 'actions_overdue', x.due_date + 1
		FROM (SELECT a.episode_id, a.due_date,
			row_number() OVER (PARTITION BY a.episode_id ORDER BY a.due_date) AS nth
		    FROM kw.actions a
		    WHERE a.completed_at IS NULL AND a.due_date < p_today
			AND (p_episodes IS NULL OR a.episode_id = ANY (p_episodes))) x
		WHERE x.nth = (SELECT kw.setting('stalled_overdue_actions'))
		UNION ALL
		SELECT o.id, 'no_recent_note', l.day + (SELECT kw.setting('stalled_no_note_days'))
		FROM live o
		CROSS JOIN LATERAL (SELECT kw.local_date(coalesce((SELECT max(n.created_at)
		    FROM kw.notes n WHERE n.episode_id = o.id), o.registered_at)) AS day) l
		WHERE l.day + (SELECT kw.setting('stalled_no_note_days')) <= p_today
	)
	SELECT 'step_up_suggested'::text, r.u, s.id, 'stalled_progress'::text, NULL::uuid, s.due,
	    s.reason
	FROM stalled s JOIN live o ON o.id = s.id
	CROSS JOIN LATERAL (VALUES (o.keyworker_id), (o.manager)) r (u)
	WHERE r.u IS NOT NULL
	    AND NOT EXISTS (SELECT 1 FROM kw.step_ups p WHERE p.episode_id = s.id
		AND p.status = 'pending');
END
$$;

------------------------------------------------------------------------------
-- The pass, as in 0011, over every episode on the first pass of a day (or
-- after a change every episode depends on) and otherwise over the episodes
-- changed since the last pass. One planner at a time: another waits for
-- the plan state's lock, then sees what the first wrote and took.
CREATE OR REPLACE FUNCTION kw.plan_reminders(p_today date, p_email boolean DEFAULT false)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer;
	planned date;
	everything boolean;
	eps uuid[];
BEGIN
	SELECT planned_on INTO planned FROM kw.plan_state FOR UPDATE;
	WITH taken AS (DELETE FROM kw.plan_changes RETURNING episode_id)
	SELECT coalesce(bool_or(t.episode_id IS NULL), false),
	    coalesce(array_agg(DISTINCT t.episode_id) FILTER (WHERE t.episode_id IS NOT NULL), '{}')
	INTO everything, eps FROM taken t;
	IF everything OR planned IS DISTINCT FROM p_today THEN
		eps := NULL;
		UPDATE kw.plan_state SET planned_on = p_today;
	END IF;

	WITH cand AS (
		SELECT * FROM kw.rule_deadlines(p_today, eps)
		UNION ALL SELECT * FROM kw.rule_step_up_pending(p_today)
		UNION ALL SELECT * FROM kw.rule_step_up_suggested(p_today, eps)
	), ins AS (
		INSERT INTO kw.notifications (user_id, rule, dedupe_key, episode_id,
		    deadline_kind, subject_id, due, reason)
		SELECT DISTINCT ON (k) c.recipient, c.rule, k, c.episode_id, c.kind,
		    c.subject_id, c.due, c.reason
		FROM cand c
		CROSS JOIN LATERAL (SELECT c.rule || ':' || coalesce(c.episode_id::text, '')
		    || ':' || c.kind || ':' || coalesce(c.subject_id::text, '') || ':'
		    || c.due || ':' || c.recipient
		    || coalesce(':' || c.reason, '') AS k) x
		WHERE c.recipient IS NOT NULL
		ORDER BY k
		ON CONFLICT (dedupe_key) DO NOTHING
		RETURNING id, user_id, rule
	), mail AS (
		INSERT INTO kw.deliveries (channel, notification_id)
		SELECT 'email', i.id FROM ins i JOIN kw.users u ON u.id = i.user_id
		WHERE p_email AND u.active
		RETURNING 1
	), hooks AS (
		INSERT INTO kw.deliveries (channel, notification_id, webhook_id)
		SELECT 'webhook', i.id, w.id
		FROM ins i JOIN kw.users u ON u.id = i.user_id
		JOIN kw.webhooks w ON w.agency_id = u.agency_id AND w.deleted_at IS NULL
		    AND 'reminder.' || i.rule = ANY (w.event_types)
		RETURNING 1
	)
	SELECT count(*) INTO n FROM ins;
	IF n > 0 THEN
		PERFORM pg_notify('keywork_reminders', n::text);
	END IF;
	RETURN n;
END
$$;
REVOKE ALL ON FUNCTION kw.rule_deadlines(date, uuid[]),
    kw.rule_step_up_suggested(date, uuid[]) FROM PUBLIC;
