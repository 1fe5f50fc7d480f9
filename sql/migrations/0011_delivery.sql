-- keywork 0011: every deadline of domain.md's table, the step-up rules, and
-- delivery beyond the API: email and webhooks through an outbox.
--
-- The rules, each a named unit (a function returning the reminders it
-- decides for a day; kw.plan_reminders writes their union once):
--   kw.rule_deadlines(day)       deadline_ahead, deadline_due and
--                                deadline_overdue (with escalation) over
--                                kw.reminder_deadlines_v: the deadlines of
--                                0005 plus alerts not acknowledged,
--                                temporary covers ending and keyworker
--                                allocation after a step down
--   kw.rule_step_up_pending(day) a step up with no decision after
--                                step_up_pending_days: triage (the area's
--                                coordinators) is reminded, the keyworker
--                                is told to keep working
--   kw.rule_step_up_suggested(day)
--                                progress stalled (outcome scores not
--                                improving between the last two reviews,
--                                stalled_overdue_actions actions overdue,
--                                no case note for stalled_no_note_days):
--                                the keyworker and their line manager
--
-- Delivery: a reminder written for a recipient also writes, in the same
-- statement, one kw.deliveries row per further channel (email when the
-- worker has SMTP set up; one per webhook of the recipient's agency that
-- subscribes to the reminder's event type). Workers claim rows with
-- FOR UPDATE SKIP LOCKED, under a lease, and retry failures with
-- exponential backoff and jitter until delivery_max_attempts, then mark
-- them dead with the last error.

INSERT INTO kw.settings (name, value, minimum, maximum, description) VALUES
	('escalate_after_working_days', 0, 0, 20,
	    'Working days a deadline may be overdue before its escalation (0: at once).'),
	('stalled_overdue_actions', 2, 1, 50,
	    'Actions overdue at once on an episode that suggest a step up.');
UPDATE kw.settings SET description =
    'Working days before a deadline that its first reminder goes out (0: on the day only).'
WHERE name = 'reminder_lead_days';

------------------------------------------------------------------------------
-- Notifications: the new rules and kinds. A reminder to allocate a
-- keyworker after a step down has no episode yet.

ALTER TABLE kw.notifications DROP CONSTRAINT notifications_rule_check;
ALTER TABLE kw.notifications ADD CONSTRAINT notifications_rule_check CHECK (rule IN
    ('deadline_ahead', 'deadline_due', 'deadline_overdue', 'step_up_pending',
    'step_up_keep_working', 'step_up_suggested'));
ALTER TABLE kw.notifications ALTER COLUMN episode_id DROP NOT NULL;
ALTER TABLE kw.notifications ADD COLUMN reason text CHECK (reason IN
    ('scores_not_improving', 'actions_overdue', 'no_recent_note'));
ALTER TABLE kw.notifications ADD CHECK ((rule = 'step_up_suggested') = (reason IS NOT NULL));

DROP POLICY notifications_own ON kw.notifications;
CREATE POLICY notifications_own ON kw.notifications FOR SELECT TO keywork_api
	USING (user_id = (SELECT kw.current_user_id())
	    AND (episode_id IS NULL
		OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = notifications.episode_id)));

CREATE OR REPLACE FUNCTION kw.notification_json(n kw.notifications) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', n.id, 'rule', n.rule, 'episode_id', n.episode_id,
	    'deadline_kind', n.deadline_kind, 'subject_id', n.subject_id, 'due', n.due,
	    'reason', n.reason, 'created_at', n.created_at, 'read_at', n.read_at)
$$;

------------------------------------------------------------------------------
-- The deadlines of 0005 as before, each setting read once per query (an
-- InitPlan) rather than once per row.

CREATE OR REPLACE VIEW kw.deadlines_v WITH (security_invoker = true) AS
	SELECT e.id AS episode_id, 'assessment'::text AS kind, NULL::uuid AS subject_id,
	    e.assessment_due AS due, e.assessment_completed_at AS met_at,
	    e.keyworker_id AS reminds, e.keyworker_id
	FROM kw.episodes e WHERE e.status <> 'closed'
	UNION ALL
	SELECT e.id, 'written_consent', NULL, kw.local_date(e.assessment_completed_at),
	    (SELECT min(c.created_at) FROM kw.consents c WHERE c.episode_id = e.id
		AND c.kind = 'written' AND c.created_at >= e.assessment_completed_at),
	    e.keyworker_id, e.keyworker_id
	FROM kw.episodes e
	WHERE e.status <> 'closed' AND e.assessment_completed_at IS NOT NULL
	UNION ALL
	SELECT e.id, 'first_taf_meeting', NULL, e.first_taf_meeting_due,
	    e.first_taf_meeting_held_at, e.keyworker_id, e.keyworker_id
	FROM kw.episodes e WHERE e.status <> 'closed'
	UNION ALL
	SELECT m.episode_id, 'meeting_outcomes', m.id,
	    kw.add_working_days(kw.local_date(m.held_at), (SELECT kw.setting('outcomes_working_days'))),
	    m.outcomes_recorded_at, e.keyworker_id, e.keyworker_id
	FROM kw.meetings m JOIN kw.episodes e ON e.id = m.episode_id
	WHERE m.status = 'held' AND e.status <> 'closed'
	UNION ALL
	SELECT m.episode_id, 'plan_shared', m.id,
	    kw.add_working_days(kw.local_date(m.held_at), (SELECT kw.setting('plan_shared_working_days'))),
	    m.plan_shared_at, e.keyworker_id, e.keyworker_id
	FROM kw.meetings m JOIN kw.episodes e ON e.id = m.episode_id
	WHERE m.status = 'held' AND e.status <> 'closed'
	UNION ALL
	-- The next review falls due after the latest meeting held; a later
	-- meeting held meets it.
	SELECT m.episode_id, 'plan_review', m.id,
	    kw.local_date(m.held_at) + (SELECT kw.setting('review_interval_days')), NULL,
	    e.keyworker_id, e.keyworker_id
	FROM kw.meetings m JOIN kw.episodes e ON e.id = m.episode_id
	WHERE m.status = 'held' AND e.status <> 'closed'
	    AND NOT EXISTS (SELECT 1 FROM kw.meetings l WHERE l.episode_id = m.episode_id
		AND l.status = 'held' AND l.held_at > m.held_at)
	UNION ALL
	SELECT a.episode_id, 'action_due', a.id, a.due_date, a.completed_at,
	    a.owner_user_id, e.keyworker_id
	FROM kw.actions a JOIN kw.episodes e ON e.id = a.episode_id
	WHERE e.status <> 'closed';

------------------------------------------------------------------------------
-- What the rules watch beyond kw.deadlines_v, and whom each escalates to.
-- Owner only (the worker); the API's deadline views are unchanged.
--   overdue_reminds  whether the reminded person hears again once overdue
--   escalate_to      who is told when it is overdue (NULL: nobody)

CREATE VIEW kw.reminder_deadlines_v AS
	SELECT d.episode_id, d.kind, d.subject_id, d.due, d.met_at, d.reminds,
	    true AS overdue_reminds,
	    CASE WHEN d.kind = 'action_due' THEN d.keyworker_id
		ELSE (SELECT u.manager_id FROM kw.users u WHERE u.id = d.keyworker_id) END
		AS escalate_to
	FROM kw.deadlines_v d
	UNION ALL
	-- An alert not acknowledged: its recipient, then the keyworker's manager.
	SELECT a.episode_id, 'alert_acknowledged', a.id,
	    kw.local_date(a.created_at) + (SELECT kw.setting('alert_ack_days')), a.acknowledged_at,
	    a.user_id, true, (SELECT u.manager_id FROM kw.users u WHERE u.id = e.keyworker_id)
	FROM kw.alerts a JOIN kw.episodes e ON e.id = a.episode_id
	WHERE e.status <> 'closed' AND a.acknowledged_at IS NULL
	UNION ALL
	-- A temporary cover ending: both keyworkers, ahead and on the day (the
	-- worker ends the cover on the day). Not once the episode is closed
	-- (closing leaves a running cover as it is).
	SELECT t.episode_id, 'temporary_cover_ends', t.id, t.ends_on, NULL, k.u, false, NULL
	FROM kw.transfers t JOIN kw.episodes e ON e.id = t.episode_id
	CROSS JOIN LATERAL (VALUES (t.from_keyworker_id), (t.to_keyworker_id)) k (u)
	WHERE t.kind = 'temporary' AND e.status <> 'closed' AND (t.status = 'completed'
	    OR (t.status = 'ended' AND kw.local_date(t.ended_at) >= t.ends_on))
	UNION ALL
	-- A stepped-down family waiting for a keyworker: the area's coordinators.
	SELECT NULL, 'keyworker_allocation', s.id,
	    s.decided_on + (SELECT kw.setting('step_down_allocation_days')), s.allocated_at, c.id,
	    true, NULL
	FROM kw.step_downs s
	JOIN kw.users c ON c.area_id = s.area_id AND 'coordinator' = ANY (c.roles) AND c.active
	WHERE s.status = 'received';

-- The working day p_days working days before p_day (p_day itself counting
-- as the first when it is one): a deadline due on or before the day before
-- it is p_days working days overdue on p_day.
CREATE FUNCTION kw.working_days_back(p_day date, p_days integer) RETURNS date
LANGUAGE sql STABLE AS $$
	SELECT d::date FROM generate_series(p_day, p_day - p_days * 3 - 14, interval '-1 day') g (d)
	WHERE extract(isodow FROM d) < 6
	    AND NOT EXISTS (SELECT 1 FROM kw.holidays h WHERE h.day = d::date)
	ORDER BY d DESC OFFSET p_days - 1 LIMIT 1
$$;

-- Open actions by due date: the overdue ones, for kw.rule_step_up_suggested.
CREATE INDEX actions_open_due_idx ON kw.actions (due_date, episode_id)
	WHERE completed_at IS NULL;

------------------------------------------------------------------------------
-- The rules. Each returns (rule, recipient, episode_id, kind, subject_id,
-- due, reason); kw.plan_reminders keys each row so it is written once.

-- Deadlines: ahead (within reminder_lead_days working days), on the day,
-- and overdue, to whom each reminds; overdue by escalate_after_working_days
-- working days, also to whom it escalates to.
CREATE FUNCTION kw.rule_deadlines(p_today date)
RETURNS TABLE (rule text, recipient uuid, episode_id uuid, kind text, subject_id uuid,
    due date, reason text)
LANGUAGE plpgsql STABLE AS $$
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

-- A step up waiting step_up_pending_days for a decision: the area's
-- coordinators (triage), and the keyworker, told to keep working.
CREATE FUNCTION kw.rule_step_up_pending(p_today date)
RETURNS TABLE (rule text, recipient uuid, episode_id uuid, kind text, subject_id uuid,
    due date, reason text)
LANGUAGE sql STABLE AS $$
	WITH waiting AS (
		SELECT s.id, s.episode_id, s.area_id, e.keyworker_id,
		    kw.local_date(s.created_at) + (SELECT kw.setting('step_up_pending_days')) AS due
		FROM kw.step_ups s JOIN kw.episodes e ON e.id = s.episode_id
		WHERE s.status = 'pending'
	)
	SELECT 'step_up_pending', c.id, w.episode_id, 'step_up_decision', w.id, w.due, NULL::text
	FROM waiting w
	JOIN kw.users c ON c.area_id = w.area_id AND 'coordinator' = ANY (c.roles) AND c.active
	WHERE w.due <= p_today
	UNION ALL
	SELECT 'step_up_keep_working', w.keyworker_id, w.episode_id, 'step_up_decision', w.id,
	    w.due, NULL
	FROM waiting w WHERE w.due <= p_today
$$;

-- Progress stalled on an open episode with no step up pending: a step up is
-- suggested to the keyworker and their line manager, once per occasion:
--   scores_not_improving  of the outcome areas scored at both of the last
--                         two reviews (scoring dates), none improved; due:
--                         the last review
--   actions_overdue       stalled_overdue_actions actions are overdue; due:
--                         the day after the last of them fell due
--   no_recent_note        no case note for stalled_no_note_days (counted
--                         from registration when there is none); due: the
--                         day that period ended
CREATE FUNCTION kw.rule_step_up_suggested(p_today date)
RETURNS TABLE (rule text, recipient uuid, episode_id uuid, kind text, subject_id uuid,
    due date, reason text)
LANGUAGE sql STABLE AS $$
	WITH live AS (
		SELECT e.id, e.keyworker_id, e.registered_at,
		    (SELECT u.manager_id FROM kw.users u WHERE u.id = e.keyworker_id) AS manager
		FROM kw.episodes e
		WHERE e.status IN ('registered', 'assessed', 'plan_in_place')
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
		    WHERE a.completed_at IS NULL AND a.due_date < p_today) x
		WHERE x.nth = (SELECT kw.setting('stalled_overdue_actions'))
		UNION ALL
		SELECT o.id, 'no_recent_note', l.day + (SELECT kw.setting('stalled_no_note_days'))
		FROM live o
		CROSS JOIN LATERAL (SELECT kw.local_date(coalesce((SELECT max(n.created_at)
		    FROM kw.notes n WHERE n.episode_id = o.id), o.registered_at)) AS day) l
		WHERE l.day + (SELECT kw.setting('stalled_no_note_days')) <= p_today
	)
	SELECT 'step_up_suggested', r.u, s.id, 'stalled_progress', NULL::uuid, s.due, s.reason
	FROM stalled s JOIN live o ON o.id = s.id
	CROSS JOIN LATERAL (VALUES (o.keyworker_id), (o.manager)) r (u)
	WHERE r.u IS NOT NULL
	    AND NOT EXISTS (SELECT 1 FROM kw.step_ups p WHERE p.episode_id = s.id
		AND p.status = 'pending')
$$;

------------------------------------------------------------------------------
-- Webhooks: an agency's subscription to event types, its URL and secret.
-- The secret signs each delivery (HMAC-SHA256); it is shown once, when the
-- subscription is made, and the API's role can write it but never read it.

CREATE TABLE kw.webhooks (
	id			uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	agency_id		uuid NOT NULL REFERENCES kw.agencies,
	url			text NOT NULL CHECK (length(url) <= 2000
				    AND url ~ '^https?://[^[:space:]/?#@]+(/[^[:space:]#]*)?$'),
	secret			text NOT NULL CHECK (length(secret) >= 32),
	event_types		text[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 6
				    AND event_types <@ ARRAY['reminder.deadline_ahead',
				    'reminder.deadline_due', 'reminder.deadline_overdue',
				    'reminder.step_up_pending', 'reminder.step_up_keep_working',
				    'reminder.step_up_suggested']),
	created_by		uuid REFERENCES kw.users,
	created_by_client	uuid REFERENCES kw.api_clients,
	created_at		timestamptz NOT NULL DEFAULT now(),
	deleted_at		timestamptz,
	CHECK ((created_by IS NULL) <> (created_by_client IS NULL))
);
CREATE INDEX webhooks_agency_idx ON kw.webhooks (agency_id) WHERE deleted_at IS NULL;
CREATE INDEX webhooks_list_idx ON kw.webhooks (created_at, id);

ALTER TABLE kw.webhooks ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.webhooks FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON kw.webhooks TO CURRENT_USER USING (true) WITH CHECK (true);
-- Admins manage every agency's; a partner system its own agency's.
CREATE POLICY webhooks_read ON kw.webhooks FOR SELECT TO keywork_api
	USING ((SELECT kw.has_role('admin')) OR (kw.current_client_id() IS NOT NULL
	    AND agency_id = (SELECT kw.current_agency_id())));
CREATE POLICY webhooks_add ON kw.webhooks FOR INSERT TO keywork_api
	WITH CHECK (deleted_at IS NULL AND (
	    (kw.has_role('admin') AND created_by = kw.current_user_id())
	    OR (kw.current_client_id() IS NOT NULL AND agency_id = kw.current_agency_id()
		AND created_by_client = kw.current_client_id())));
CREATE POLICY webhooks_delete ON kw.webhooks FOR UPDATE TO keywork_api
	USING ((SELECT kw.has_role('admin')) OR (kw.current_client_id() IS NOT NULL
	    AND agency_id = (SELECT kw.current_agency_id())))
	WITH CHECK (deleted_at IS NOT NULL);
GRANT SELECT (id, agency_id, url, event_types, created_by, created_by_client, created_at,
    deleted_at) ON kw.webhooks TO keywork_api;
GRANT INSERT (agency_id, url, secret, event_types, created_by, created_by_client)
    ON kw.webhooks TO keywork_api;
GRANT UPDATE (deleted_at) ON kw.webhooks TO keywork_api;

------------------------------------------------------------------------------
-- The outbox: one row per reminder per further channel, written with the
-- reminder. event_id names the delivery to its receiver (a webhook
-- re-delivered after a crash carries the same one; an email's Message-ID
-- is made from it). While a worker holds a row, next_attempt_at is the end
-- of its lease: a worker that dies leaves the row to be claimed again.

CREATE TABLE kw.deliveries (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	event_id	uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
	channel		text NOT NULL CHECK (channel IN ('email', 'webhook')),
	notification_id	uuid NOT NULL REFERENCES kw.notifications,
	webhook_id	uuid REFERENCES kw.webhooks,
	status		text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent',
			    'dead')),
	attempts	integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at	timestamptz NOT NULL DEFAULT now(),
	claimed_by	text,
	last_error	text CHECK (length(last_error) <= 500),
	created_at	timestamptz NOT NULL DEFAULT now(),
	sent_at		timestamptz,
	dead_at		timestamptz,
	CHECK ((channel = 'webhook') = (webhook_id IS NOT NULL)),
	CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
	CHECK ((status = 'dead') = (dead_at IS NOT NULL)),
	UNIQUE NULLS NOT DISTINCT (notification_id, channel, webhook_id)
);
CREATE INDEX deliveries_due_idx ON kw.deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_status_idx ON kw.deliveries (status, created_at, id);

ALTER TABLE kw.deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON kw.deliveries TO CURRENT_USER USING (true) WITH CHECK (true);
-- Admins see the outbox (never the content) and put dead rows back.
CREATE POLICY deliveries_admin ON kw.deliveries FOR SELECT TO keywork_api
	USING ((SELECT kw.has_role('admin')));
CREATE POLICY deliveries_retry ON kw.deliveries FOR UPDATE TO keywork_api
	USING ((SELECT kw.has_role('admin')) AND status = 'dead')
	WITH CHECK (status = 'pending');
GRANT SELECT (id, event_id, channel, notification_id, webhook_id, status, attempts,
    next_attempt_at, last_error, created_at, sent_at, dead_at) ON kw.deliveries
    TO keywork_api;
GRANT UPDATE (status, attempts, next_attempt_at, last_error, dead_at) ON kw.deliveries
    TO keywork_api;

------------------------------------------------------------------------------
-- One pass: the rules for p_today, each reminder written once with its
-- deliveries (email when p_email; the recipient agency's webhooks that
-- subscribe). Concurrent passes write each reminder once (the unique key).
-- Returns the reminders written. Run by the worker as the schema owner.

DROP FUNCTION kw.plan_reminders(date);
CREATE FUNCTION kw.plan_reminders(p_today date, p_email boolean DEFAULT false)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	WITH cand AS (
		SELECT * FROM kw.rule_deadlines(p_today)
		UNION ALL SELECT * FROM kw.rule_step_up_pending(p_today)
		UNION ALL SELECT * FROM kw.rule_step_up_suggested(p_today)
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
REVOKE ALL ON FUNCTION kw.plan_reminders(date, boolean) FROM PUBLIC;

-- What a reminder says, without names: a subject line and plain text.
CREATE FUNCTION kw.reminder_text(n kw.notifications, OUT subject text, OUT body text)
LANGUAGE sql STABLE AS $$
	WITH w AS (SELECT CASE n.deadline_kind
		WHEN 'assessment' THEN 'the assessment'
		WHEN 'written_consent' THEN 'written consent after the assessment'
		WHEN 'first_taf_meeting' THEN 'the initial TAF meeting'
		WHEN 'meeting_outcomes' THEN 'a TAF meeting''s outcomes and action plan'
		WHEN 'plan_shared' THEN 'sharing the plan with the family'
		WHEN 'plan_review' THEN 'the plan review'
		WHEN 'action_due' THEN 'an action'
		WHEN 'alert_acknowledged' THEN 'acknowledging an alert'
		WHEN 'temporary_cover_ends' THEN 'the end of a temporary cover'
		WHEN 'keyworker_allocation' THEN 'allocating a keyworker after a step down'
		WHEN 'step_up_decision' THEN 'a decision on a step-up request'
		ELSE 'progress on an episode' END AS what)
	SELECT s, s || E'\n\n'
	    || 'Episode: ' || coalesce(n.episode_id::text, '(none yet)') || E'\n'
	    || CASE WHEN n.subject_id IS NULL THEN '' ELSE 'Record: ' || n.subject_id || E'\n' END
	    || 'Date: ' || n.due || E'\n'
	    || 'Rule: ' || n.rule || coalesce(' (' || n.reason || ')', '') || E'\n\n'
	    || E'Sign in to keywork to see the details. Reminders carry no names.\n'
	FROM w CROSS JOIN LATERAL (SELECT CASE n.rule
		WHEN 'deadline_ahead' THEN 'Due soon (' || n.due || '): ' || w.what
		WHEN 'deadline_due' THEN 'Due today: ' || w.what
		WHEN 'deadline_overdue' THEN 'Overdue since ' || n.due || ': ' || w.what
		WHEN 'step_up_pending' THEN 'A step-up request awaits a decision'
		WHEN 'step_up_keep_working' THEN
		    'The step up is still pending: keep working with the family'
		ELSE 'Progress has stalled: consider a step up (' || replace(n.reason, '_', ' ')
		    || ')' END AS s) x
$$;

-- Claim up to p_limit deliveries that are due on p_channels, for
-- p_lease_seconds, for worker p_worker. Each claim counts as an attempt. Returns what sending
-- needs: the recipient's address, or the webhook's URL and secret and the
-- signed body.
CREATE FUNCTION kw.claim_deliveries(p_worker text, p_channels text[], p_limit integer,
    p_lease_seconds integer)
RETURNS TABLE (id uuid, event_id uuid, channel text, event_type text, attempts integer,
    email text, url text, secret text, subject text, body text)
LANGUAGE sql AS $$
	WITH c AS (
		SELECT d.id FROM kw.deliveries d
		WHERE d.status = 'pending' AND d.next_attempt_at <= now()
		    AND d.channel = ANY (p_channels)
		ORDER BY d.next_attempt_at
		LIMIT p_limit
		FOR UPDATE SKIP LOCKED
	), u AS (
		UPDATE kw.deliveries d SET attempts = d.attempts + 1, claimed_by = p_worker,
		    next_attempt_at = now() + make_interval(secs => p_lease_seconds)
		FROM c WHERE d.id = c.id
		RETURNING d.*
	)
	SELECT u.id, u.event_id, u.channel, 'reminder.' || n.rule, u.attempts, us.email, w.url,
	    w.secret,
	    t.subject,
	    CASE WHEN u.channel = 'email' THEN t.body
		ELSE jsonb_build_object('id', u.event_id, 'type', 'reminder.' || n.rule,
		    'created_at', n.created_at,
		    'data', kw.notification_json(n) - 'read_at'
			|| jsonb_build_object('recipient_id', n.user_id))::text END
	FROM u JOIN kw.notifications n ON n.id = u.notification_id
	JOIN kw.users us ON us.id = n.user_id
	LEFT JOIN kw.webhooks w ON w.id = u.webhook_id
	CROSS JOIN LATERAL kw.reminder_text(n) t
	ORDER BY u.next_attempt_at, u.id
$$;

-- A delivery sent: done, if this worker still holds it.
CREATE FUNCTION kw.delivery_sent(p_id uuid, p_worker text) RETURNS boolean
LANGUAGE sql AS $$
	WITH u AS (
		UPDATE kw.deliveries SET status = 'sent', sent_at = now(), claimed_by = NULL,
		    last_error = NULL
		WHERE id = p_id AND claimed_by = p_worker AND status = 'pending'
		RETURNING 1
	)
	SELECT EXISTS (SELECT 1 FROM u)
$$;

-- A delivery failed: retried after min(p_max, p_base * 2^(attempts-1))
-- seconds, of which a random half (jitter), or dead after p_max_attempts.
-- Returns the new status, or NULL when this worker no longer holds it.
CREATE FUNCTION kw.delivery_failed(p_id uuid, p_worker text, p_error text,
    p_max_attempts integer, p_base integer, p_max integer)
RETURNS text
LANGUAGE sql AS $$
	UPDATE kw.deliveries SET claimed_by = NULL, last_error = left(p_error, 500),
	    status = CASE WHEN attempts >= p_max_attempts THEN 'dead' ELSE 'pending' END,
	    dead_at = CASE WHEN attempts >= p_max_attempts THEN now() END,
	    next_attempt_at = now() + make_interval(secs =>
		least(p_max::float8, p_base * power(2, attempts - 1)) * (0.5 + random() / 2))
	WHERE id = p_id AND claimed_by = p_worker AND status = 'pending'
	RETURNING status
$$;

-- Give back what this worker claimed and did not try (stopping, or its
-- lease running out): due at once, the claim not counted as an attempt.
CREATE FUNCTION kw.release_deliveries(p_worker text, p_ids uuid[]) RETURNS integer
LANGUAGE sql AS $$
	WITH u AS (
		UPDATE kw.deliveries SET claimed_by = NULL, next_attempt_at = now(),
		    attempts = attempts - 1
		WHERE id = ANY (p_ids) AND claimed_by = p_worker AND status = 'pending'
		RETURNING 1
	)
	SELECT count(*)::integer FROM u
$$;
REVOKE ALL ON FUNCTION kw.claim_deliveries(text, text[], integer, integer),
    kw.delivery_sent(uuid, text),
    kw.delivery_failed(uuid, text, text, integer, integer, integer),
    kw.release_deliveries(text, uuid[]) FROM PUBLIC;

------------------------------------------------------------------------------
-- The API: webhooks (admins, and partner systems for their own agency) and
-- the outbox (admins). A webhook is built column by column: the API role
-- may not read a whole row (the secret).

CREATE FUNCTION api.list_webhooks(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_at timestamptz, p_after_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	IF NOT kw.has_role('admin') AND kw.current_client_id() IS NULL THEN
		PERFORM kw.raise('KW403', 'Webhooks are managed by admins and partner systems.');
	END IF;
	RETURN coalesce((SELECT jsonb_agg(jsonb_build_object('id', w.id, 'agency_id',
	    w.agency_id, 'url', w.url, 'event_types', to_jsonb(w.event_types),
	    'created_at', w.created_at) ORDER BY w.created_at, w.id)
	FROM (SELECT x.id, x.agency_id, x.url, x.event_types, x.created_at FROM kw.webhooks x
	    WHERE x.deleted_at IS NULL
		AND (p_after_at IS NULL OR (x.created_at, x.id) > (p_after_at, p_after_id))
	    ORDER BY x.created_at, x.id LIMIT p_limit) w), '[]'::jsonb);
END
$$;

-- p_secret is made by the server and shown once, in its response.
-- p_allow_http: plain http URLs are accepted (webhook_allow_http).
CREATE FUNCTION api.create_webhook(p_token text, p_rid text, p_addr text, p_body jsonb,
    p_secret text, p_allow_http boolean)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	agency uuid;
	w_id uuid;
	w_at timestamptz;
	types text[];
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	IF kw.current_client_id() IS NOT NULL THEN
		agency := kw.current_agency_id();
		IF p_body ? 'agency_id' AND (p_body->>'agency_id')::uuid <> agency THEN
			PERFORM kw.raise('KW403',
			    'A partner system subscribes for its own agency only.');
		END IF;
	ELSIF kw.has_role('admin') THEN
		IF NOT p_body ? 'agency_id' THEN
			PERFORM kw.rule('webhook_names_agency',
			    'An admin names the agency the webhook is for (agency_id).');
		END IF;
		agency := (p_body->>'agency_id')::uuid;
	ELSE
		PERFORM kw.raise('KW403', 'Webhooks are managed by admins and partner systems.');
	END IF;
	IF NOT p_allow_http AND p_body->>'url' NOT LIKE 'https://%' THEN
		PERFORM kw.rule('webhook_url_https', 'A webhook URL must use https.');
	END IF;
	SELECT array_agg(DISTINCT t ORDER BY t) INTO types
	FROM jsonb_array_elements_text(p_body->'event_types') t;
	INSERT INTO kw.webhooks (agency_id, url, secret, event_types, created_by,
	    created_by_client)
	VALUES (agency, p_body->>'url', p_secret, types,
	    CASE WHEN kw.current_client_id() IS NULL THEN kw.current_user_id() END,
	    kw.current_client_id())
	RETURNING kw.webhooks.id, kw.webhooks.created_at INTO w_id, w_at;
	RETURN jsonb_build_object('id', w_id, 'agency_id', agency, 'url', p_body->>'url',
	    'event_types', to_jsonb(types), 'created_at', w_at);
END
$$;

-- Deleting a subscription stops its deliveries: those not yet sent are
-- marked dead (by the owner's function below).
CREATE FUNCTION api.delete_webhook(p_token text, p_rid text, p_addr text, p_id uuid)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	UPDATE kw.webhooks SET deleted_at = now() WHERE id = p_id AND deleted_at IS NULL;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such webhook.');
	END IF;
	PERFORM kw.webhook_deliveries_stop(p_id);
END
$$;

CREATE FUNCTION kw.webhook_deliveries_stop(p_webhook uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
	UPDATE kw.deliveries SET status = 'dead', dead_at = now(), claimed_by = NULL,
	    last_error = 'the webhook subscription was deleted'
	WHERE webhook_id = p_webhook AND status = 'pending'
	    AND EXISTS (SELECT 1 FROM kw.webhooks w WHERE w.id = p_webhook
		AND w.deleted_at IS NOT NULL)
$$;
REVOKE ALL ON FUNCTION kw.webhook_deliveries_stop(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.webhook_deliveries_stop(uuid) TO keywork_api;

-- The outbox as admins see it: never the content, nor which worker holds it.
CREATE VIEW kw.deliveries_v WITH (security_invoker = true) AS
	SELECT d.id, d.event_id, d.channel, d.notification_id, d.webhook_id, d.status,
	    d.attempts, d.next_attempt_at, d.last_error, d.created_at, d.sent_at, d.dead_at
	FROM kw.deliveries d;
GRANT SELECT ON kw.deliveries_v TO keywork_api;

CREATE FUNCTION kw.delivery_json(d kw.deliveries_v) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', d.id, 'event_id', d.event_id, 'channel', d.channel,
	    'notification_id', d.notification_id, 'webhook_id', d.webhook_id,
	    'status', d.status, 'attempts', d.attempts,
	    'next_attempt_at', CASE WHEN d.status = 'pending' THEN d.next_attempt_at END,
	    'last_error', d.last_error, 'created_at', d.created_at, 'sent_at', d.sent_at,
	    'dead_at', d.dead_at)
$$;

CREATE FUNCTION api.list_deliveries(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_at timestamptz, p_after_id uuid, p_status text,
    p_channel text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_role('admin');
	RETURN coalesce((SELECT jsonb_agg(kw.delivery_json(d) ORDER BY d.created_at, d.id)
	FROM (SELECT * FROM kw.deliveries_v x
	    WHERE (p_status IS NULL OR x.status = p_status)
		AND (p_channel IS NULL OR x.channel = p_channel)
		AND (p_after_at IS NULL OR (x.created_at, x.id) > (p_after_at, p_after_id))
	    ORDER BY x.created_at, x.id LIMIT p_limit) d), '[]'::jsonb);
END
$$;

-- An admin puts a dead delivery back: tried again at once, attempts anew.
CREATE FUNCTION api.retry_delivery(p_token text, p_rid text, p_addr text, p_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_role('admin');
	IF EXISTS (SELECT 1 FROM kw.deliveries d JOIN kw.webhooks w ON w.id = d.webhook_id
	    WHERE d.id = p_id AND w.deleted_at IS NOT NULL) THEN
		PERFORM kw.raise('KW409', 'The webhook subscription was deleted.');
	END IF;
	UPDATE kw.deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(),
	    dead_at = NULL
	WHERE id = p_id AND status = 'dead';
	IF NOT FOUND THEN
		IF EXISTS (SELECT 1 FROM kw.deliveries WHERE id = p_id) THEN
			PERFORM kw.raise('KW409', 'Only a dead delivery can be retried.');
		END IF;
		PERFORM kw.raise('KW404', 'No such delivery.');
	END IF;
	RETURN (SELECT kw.delivery_json(d) FROM kw.deliveries_v d WHERE d.id = p_id);
END
$$;

GRANT EXECUTE ON FUNCTION api.list_webhooks(text, text, text, integer, timestamptz, uuid),
    api.create_webhook(text, text, text, jsonb, text, boolean),
    api.delete_webhook(text, text, text, uuid),
    api.list_deliveries(text, text, text, integer, timestamptz, uuid, text, text),
    api.retry_delivery(text, text, text, uuid) TO keywork_api;

------------------------------------------------------------------------------
-- The API: the numbers behind deadlines and reminders (kw.settings). Every
-- signed-in user reads them; admins change them, within their bounds.

CREATE FUNCTION kw.setting_json(s kw.settings) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('name', s.name, 'value', s.value, 'minimum', s.minimum,
	    'maximum', s.maximum, 'description', s.description, 'updated_at', s.updated_at)
$$;

CREATE FUNCTION api.list_settings(p_token text, p_rid text, p_addr text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	RETURN jsonb_build_object('items', coalesce((SELECT jsonb_agg(kw.setting_json(s)
	    ORDER BY s.name) FROM kw.settings s), '[]'::jsonb));
END
$$;

CREATE FUNCTION api.update_setting(p_token text, p_rid text, p_addr text, p_name text,
    p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	s kw.settings;
	v integer;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_role('admin');
	v := (p_body->>'value')::integer;
	SELECT * INTO s FROM kw.settings WHERE name = p_name;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such setting.');
	END IF;
	IF v NOT BETWEEN s.minimum AND s.maximum THEN
		PERFORM kw.rule('setting_in_bounds', format('%s takes a value from %s to %s.',
		    s.name, s.minimum, s.maximum));
	END IF;
	UPDATE kw.settings SET value = v, updated_at = now() WHERE name = p_name
	RETURNING * INTO s;
	RETURN kw.setting_json(s);
END
$$;

GRANT EXECUTE ON FUNCTION api.list_settings(text, text, text),
    api.update_setting(text, text, text, text, jsonb) TO keywork_api;

------------------------------------------------------------------------------
-- Authentication clears the identity it does not set: a transaction that
-- authenticates twice (the API never does; a test or a pooled session
-- might) never keeps a partner's client id beside a user's, or the other
-- way round. Otherwise as in 0001.

CREATE OR REPLACE FUNCTION kw.authenticate(p_token_hash text, p_request_id text, p_addr text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	u record;
	c record;
BEGIN
	PERFORM set_config('kw.request_id', coalesce(p_request_id, ''), true);
	PERFORM set_config('kw.client_addr', coalesce(p_addr, ''), true);
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
		RETURN;
	END IF;

	SELECT ac.id, ac.agency_id INTO c
	FROM kw.api_clients ac
	WHERE ac.key_hash = p_token_hash AND ac.revoked_at IS NULL;
	IF FOUND THEN
		PERFORM set_config('kw.client_id', c.id::text, true);
		PERFORM set_config('kw.agency_id', c.agency_id::text, true);
		PERFORM set_config('kw.roles', 'partner', true);
		RETURN;
	END IF;

	RAISE EXCEPTION USING ERRCODE = 'KW401',
	    MESSAGE = 'The bearer token is not valid or has expired.';
END
$$;
