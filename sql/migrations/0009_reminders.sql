-- keywork 0009: reminders. The scheduled worker (keywork-worker) decides,
-- from kw.deadlines_v, which reminders are due and writes each as a
-- notification for its recipient, keyed so that a reminder is decided once
-- however often or by however many workers a pass runs.
--
-- The rules (domain.md's deadlines table), each a named unit:
--   deadline_ahead     reminder_lead_days before the due date: whoever the
--                      deadline reminds (the keyworker, or an action's owner)
--   deadline_due       on the due date, not met: the same
--   deadline_overdue   after the due date, not met: the same, and the
--                      escalation: the keyworker's line manager (for an
--                      action, the keyworker)

CREATE TABLE kw.notifications (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id		uuid NOT NULL REFERENCES kw.users,
	rule		text NOT NULL CHECK (rule IN ('deadline_ahead', 'deadline_due',
			    'deadline_overdue')),
	-- rule, the deadline's key, its due date and the recipient: one
	-- reminder per stage of a deadline per person, ever.
	dedupe_key	text NOT NULL UNIQUE,
	episode_id	uuid NOT NULL REFERENCES kw.episodes,
	deadline_kind	text NOT NULL,
	subject_id	uuid,
	due		date NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	read_at		timestamptz
);
CREATE INDEX notifications_user_idx ON kw.notifications (user_id, created_at, id);

ALTER TABLE kw.notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.notifications FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON kw.notifications TO CURRENT_USER USING (true) WITH CHECK (true);
-- The recipient reads and marks their own, while they can see the episode.
CREATE POLICY notifications_own ON kw.notifications FOR SELECT TO keywork_api
	USING (user_id = (SELECT kw.current_user_id())
	    AND EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = notifications.episode_id));
CREATE POLICY notifications_read ON kw.notifications FOR UPDATE TO keywork_api
	USING (user_id = (SELECT kw.current_user_id()))
	WITH CHECK (user_id = kw.current_user_id());
GRANT SELECT ON kw.notifications TO keywork_api;
GRANT UPDATE (read_at) ON kw.notifications TO keywork_api;

-- One pass of the rules for p_today: writes every reminder due and not yet
-- written, and returns how many it wrote. Concurrent passes write each
-- reminder once (the unique key; ON CONFLICT DO NOTHING). Run by the
-- worker as the schema owner; not granted to the API role.
CREATE FUNCTION kw.plan_reminders(p_today date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	lead integer := kw.setting('reminder_lead_days');
	n integer;
BEGIN
	WITH due AS (
		SELECT d.*, e.keyworker_id AS kwk,
		    (SELECT u.manager_id FROM kw.users u WHERE u.id = e.keyworker_id) AS manager
		FROM kw.deadlines_v d JOIN kw.episodes e ON e.id = d.episode_id
		WHERE d.met_at IS NULL AND d.due <= p_today + lead
	), stages AS (
		SELECT 'deadline_ahead' AS rule, due.*, due.reminds AS recipient FROM due
		WHERE due.due > p_today AND due.due <= p_today + lead
		UNION ALL
		SELECT 'deadline_due', due.*, due.reminds FROM due WHERE due.due = p_today
		UNION ALL
		SELECT 'deadline_overdue', due.*, due.reminds FROM due WHERE due.due < p_today
		UNION ALL
		SELECT 'deadline_overdue', due.*,
		    CASE WHEN due.kind = 'action_due' THEN due.kwk ELSE due.manager END
		FROM due WHERE due.due < p_today
	)
	INSERT INTO kw.notifications (user_id, rule, dedupe_key, episode_id, deadline_kind,
	    subject_id, due)
	SELECT DISTINCT ON (k) s.recipient, s.rule, k, s.episode_id, s.kind, s.subject_id, s.due
	FROM stages s
	CROSS JOIN LATERAL (SELECT s.rule || ':' || s.episode_id || ':' || s.kind || ':'
	    || coalesce(s.subject_id::text, '') || ':' || s.due || ':' || s.recipient AS k) x
	WHERE s.recipient IS NOT NULL
	ORDER BY k
	ON CONFLICT (dedupe_key) DO NOTHING;
	GET DIAGNOSTICS n = ROW_COUNT;
	-- Wake whoever delivers (in-app needs nothing more).
	IF n > 0 THEN
		PERFORM pg_notify('keywork_reminders', n::text);
	END IF;
	RETURN n;
END
$$;
REVOKE ALL ON FUNCTION kw.plan_reminders(date) FROM PUBLIC;

-- Something became due sooner than the next scheduled pass: wake the
-- worker. Sent when a deadline's inputs change (a meeting held, an action
-- planned or changed).
CREATE FUNCTION kw.wake_worker() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('keywork_due', TG_TABLE_NAME);
	RETURN NULL;
END
$$;
CREATE TRIGGER meetings_wake AFTER INSERT OR UPDATE OF status, held_at ON kw.meetings
	FOR EACH STATEMENT EXECUTE FUNCTION kw.wake_worker();
CREATE TRIGGER actions_wake AFTER INSERT OR UPDATE OF due_date, status ON kw.actions
	FOR EACH STATEMENT EXECUTE FUNCTION kw.wake_worker();

------------------------------------------------------------------------------
-- The API: the caller's notifications.

CREATE FUNCTION kw.notification_json(n kw.notifications) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', n.id, 'rule', n.rule, 'episode_id', n.episode_id,
	    'deadline_kind', n.deadline_kind, 'subject_id', n.subject_id, 'due', n.due,
	    'created_at', n.created_at, 'read_at', n.read_at)
$$;

CREATE FUNCTION api.list_notifications(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_at timestamptz, p_after_id uuid, p_unread boolean)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	RETURN coalesce((SELECT jsonb_agg(kw.notification_json(n) ORDER BY n.created_at, n.id)
	FROM (SELECT * FROM kw.notifications x WHERE x.user_id = kw.current_user_id()
	    AND (p_unread IS NULL OR (x.read_at IS NULL) = p_unread)
	    AND (p_after_at IS NULL OR (x.created_at, x.id) > (p_after_at, p_after_id))
	    ORDER BY x.created_at, x.id LIMIT p_limit) n), '[]'::jsonb);
END
$$;

CREATE FUNCTION api.read_notification(p_token text, p_rid text, p_addr text, p_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	n kw.notifications;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	UPDATE kw.notifications SET read_at = coalesce(read_at, now())
	WHERE id = p_id AND user_id = kw.current_user_id()
	RETURNING * INTO n;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such notification.');
	END IF;
	RETURN kw.notification_json(n);
END
$$;

GRANT EXECUTE ON FUNCTION api.list_notifications(text, text, text, integer, timestamptz,
    uuid, boolean), api.read_notification(text, text, text, uuid) TO keywork_api;
