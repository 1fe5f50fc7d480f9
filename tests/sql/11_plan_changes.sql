-- Reminders planned from what changed (0017): the first pass of a day plans
-- every episode; a later pass that day plans the episodes whose records
-- changed since, and every episode after a change all of them depend on.
-- Changes the triggers do not see are used to show which episodes a pass
-- planned. Run as the schema owner on the demo data, in a transaction
-- rolled back; any failure raises.

BEGIN;
CREATE FUNCTION pg_temp.action(p_episode uuid, p_owner uuid, p_due date, p_seen boolean)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
	a uuid;
BEGIN
	IF NOT p_seen THEN
		ALTER TABLE kw.actions DISABLE TRIGGER actions_plan_insert;
	END IF;
	INSERT INTO kw.actions (episode_id, what, owner_user_id, measure, due_date, created_by)
	VALUES (p_episode, 'Plan 11: book the review.', p_owner, 'Review booked.', p_due, p_owner)
	RETURNING id INTO a;
	ALTER TABLE kw.actions ENABLE TRIGGER actions_plan_insert;
	RETURN a;
END
$$;
CREATE FUNCTION pg_temp.reminded(p_action uuid, p_rule text) RETURNS boolean
LANGUAGE sql AS $$
	SELECT EXISTS (SELECT 1 FROM kw.notifications n
	    WHERE n.subject_id = p_action AND n.rule = p_rule)
$$;
CREATE FUNCTION pg_temp.changes() RETURNS text
LANGUAGE sql AS $$
	SELECT coalesce(string_agg(coalesce(episode_id::text, 'all'), ',' ORDER BY id), '')
	FROM kw.plan_changes
$$;

DO $$
DECLARE
	d date := kw.today();
	ep uuid;
	ep2 uuid;
	kw1 uuid;
	a uuid;
	n integer;
BEGIN
	SELECT e.id, e.keyworker_id INTO ep, kw1 FROM kw.episodes e
	WHERE e.status IN ('registered', 'assessed', 'plan_in_place') ORDER BY e.id LIMIT 1;
	SELECT e.id INTO ep2 FROM kw.episodes e
	WHERE e.status <> 'closed' AND e.id <> ep ORDER BY e.id LIMIT 1;
	ASSERT ep IS NOT NULL AND ep2 IS NOT NULL, 'the demo data has two open episodes';

	-- The first pass of the day plans everything: after it, every reminder
	-- the rules decide today is written, and the changes are taken.
	UPDATE kw.plan_state SET planned_on = NULL;
	PERFORM kw.plan_reminders(d);
	ASSERT (SELECT planned_on FROM kw.plan_state) = d, 'the full pass is recorded';
	ASSERT pg_temp.changes() = '', format('changes left after a pass: %s', pg_temp.changes());
	ASSERT NOT EXISTS (
		SELECT 1 FROM (SELECT * FROM kw.rule_deadlines(d)
		    UNION ALL SELECT * FROM kw.rule_step_up_pending(d)
		    UNION ALL SELECT * FROM kw.rule_step_up_suggested(d)) c
		WHERE c.recipient IS NOT NULL AND NOT EXISTS (SELECT 1 FROM kw.notifications x
		    WHERE x.rule = c.rule AND x.user_id = c.recipient
			AND x.due = c.due AND x.deadline_kind = c.kind
			AND x.reason IS NOT DISTINCT FROM c.reason
			AND x.episode_id IS NOT DISTINCT FROM c.episode_id
			AND x.subject_id IS NOT DISTINCT FROM c.subject_id)),
	    'a reminder the rules decide today is missing after the full pass';

	-- An action due today, added as the API adds one: its episode is noted,
	-- and the next pass the same day reminds its owner.
	a := pg_temp.action(ep, kw1, d, true);
	ASSERT pg_temp.changes() = ep::text, format('changes noted: %s', pg_temp.changes());
	n := kw.plan_reminders(d);
	ASSERT pg_temp.reminded(a, 'deadline_due'), 'a new action due today is reminded the same day';
	ASSERT n >= 1, format('the pass wrote %s', n);

	-- One the triggers do not see, on another episode: the next pass that
	-- day plans only the episodes changed, so it is not reminded ...
	a := pg_temp.action(ep2, kw1, d, false);
	PERFORM pg_temp.action(ep, kw1, d + 30, true);
	n := kw.plan_reminders(d);
	ASSERT NOT pg_temp.reminded(a, 'deadline_due'),
	    'a pass later in the day planned an episode that had not changed';
	-- ... until a change every episode depends on: a setting.
	UPDATE kw.settings SET value = value WHERE name = 'reminder_lead_days';
	ASSERT pg_temp.changes() = 'all', format('a setting changed: %s', pg_temp.changes());
	n := kw.plan_reminders(d);
	ASSERT pg_temp.reminded(a, 'deadline_due'), 'a changed setting did not plan everything';

	-- Or the next day: the first pass of it plans everything.
	a := pg_temp.action(ep2, kw1, d + 1, false);
	n := kw.plan_reminders(d);
	ASSERT NOT pg_temp.reminded(a, 'deadline_due'), 'planned without a change, the same day';
	n := kw.plan_reminders(d + 1);
	ASSERT pg_temp.reminded(a, 'deadline_due'), 'the first pass of the next day missed one';
	ASSERT (SELECT planned_on FROM kw.plan_state) = d + 1, 'the next day''s full pass';

	-- A new case note notes nothing (it can only take a reminder away); a
	-- sign-in's kind of account change notes nothing; a change of manager,
	-- role or activity notes everything; so does a bank holiday.
	INSERT INTO kw.notes (episode_id, author_id, kind, body)
	VALUES (ep, kw1, 'fact', 'Plan 11: phoned the family.');
	UPDATE kw.users SET updated_at = now() WHERE id = kw1;
	ASSERT pg_temp.changes() = '', format('a note or a sign-in noted: %s', pg_temp.changes());
	UPDATE kw.users SET active = active WHERE id = kw1;
	UPDATE kw.holidays SET name = name WHERE day = (SELECT min(day) FROM kw.holidays);
	ASSERT pg_temp.changes() = 'all,all', format('an account or a holiday: %s',
	    pg_temp.changes());
	-- Each kind of record of an episode is watched, by insert, update and
	-- delete.
	DELETE FROM kw.plan_changes;
	UPDATE kw.episodes SET updated_at = updated_at WHERE id = ep2;
	UPDATE kw.actions SET due_date = due_date WHERE id = a;
	DELETE FROM kw.actions WHERE id = a;
	ASSERT pg_temp.changes() = format('%s,%s,%s', ep2, ep2, ep2),
	    format('an episode and an action changed: %s', pg_temp.changes());
	ASSERT (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
	    WHERE t.tgname LIKE '%\_plan\_%' AND NOT t.tgisinternal) = 8 * 3 + 2 + 4,
	    'the plan triggers: 8 tables by insert, update and delete, notes by update and '
	    'delete, settings, holidays, step downs and accounts';

	-- Whatever the passes planned in between, a full pass now finds nothing
	-- left to write.
	UPDATE kw.plan_state SET planned_on = NULL;
	n := kw.plan_reminders(d + 1);
	ASSERT n = 0, format('a full pass after the others wrote %s', n);
END
$$;

-- The API's role has no privilege on the changes or the state.
DO $$
BEGIN
	ASSERT NOT has_table_privilege('keywork_api', 'kw.plan_changes', 'SELECT, INSERT, DELETE'),
	    'keywork_api may touch kw.plan_changes';
	ASSERT NOT has_table_privilege('keywork_api', 'kw.plan_state', 'SELECT, UPDATE'),
	    'keywork_api may touch kw.plan_state';
	ASSERT NOT has_function_privilege('keywork_api', 'kw.rule_deadlines(date, uuid[])',
	    'EXECUTE'), 'keywork_api may run the rules';
END
$$;
ROLLBACK;
