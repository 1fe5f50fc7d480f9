-- keywork 0005: working the episode. The assessment (FFA) with each member's
-- voice, consents, TAF meetings with invitees and attendance, outcomes and
-- the SMART action plan, outcome scores, documents, alerts raised on a case,
-- the holiday calendar and the deadlines computed from all of them.
--
-- Every case table here is under row-level security, enabled and forced, on
-- the same model as 0003: full access reads everything; a limited member
-- sees only the meetings they are invited to and the actions they own.

------------------------------------------------------------------------------
-- Reference data: bank holidays, outcome areas, deadline settings

CREATE TABLE kw.holidays (
	day		date PRIMARY KEY,
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	created_at	timestamptz NOT NULL DEFAULT now()
);

-- England and Wales bank holidays (www.gov.uk/bank-holidays), with the
-- substitute days where one falls at a weekend.
INSERT INTO kw.holidays (day, name) VALUES
	('2026-01-01', 'New Year''s Day'), ('2026-04-03', 'Good Friday'),
	('2026-04-06', 'Easter Monday'), ('2026-05-04', 'Early May bank holiday'),
	('2026-05-25', 'Spring bank holiday'), ('2026-08-31', 'Summer bank holiday'),
	('2026-12-25', 'Christmas Day'), ('2026-12-28', 'Boxing Day (substitute day)'),
	('2027-01-01', 'New Year''s Day'), ('2027-03-26', 'Good Friday'),
	('2027-03-29', 'Easter Monday'), ('2027-05-03', 'Early May bank holiday'),
	('2027-05-31', 'Spring bank holiday'), ('2027-08-30', 'Summer bank holiday'),
	('2027-12-27', 'Christmas Day (substitute day)'),
	('2027-12-28', 'Boxing Day (substitute day)'),
	('2028-01-03', 'New Year''s Day (substitute day)'), ('2028-04-14', 'Good Friday'),
	('2028-04-17', 'Easter Monday'), ('2028-05-01', 'Early May bank holiday'),
	('2028-05-29', 'Spring bank holiday'), ('2028-08-28', 'Summer bank holiday'),
	('2028-12-25', 'Christmas Day'), ('2028-12-26', 'Boxing Day');

-- The day p_days working days after p_from: weekends and holidays skipped.
-- PL/pgSQL so that its plan is kept (a SQL function that cannot be inlined
-- is planned again on every call).
CREATE FUNCTION kw.add_working_days(p_from date, p_days integer) RETURNS date
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT d::date FROM generate_series(p_from + 1, p_from + p_days * 3 + 14,
	    interval '1 day') AS g (d)
	WHERE extract(isodow FROM d) < 6
	    AND NOT EXISTS (SELECT 1 FROM kw.holidays h WHERE h.day = d::date)
	ORDER BY d OFFSET greatest(p_days, 1) - 1 LIMIT 1);
END
$$;

-- The numbers behind the deadlines (domain.md's table); admins change them.
CREATE TABLE kw.settings (
	name		text PRIMARY KEY,
	value		integer NOT NULL,
	minimum		integer NOT NULL,
	maximum		integer NOT NULL,
	description	text NOT NULL,
	updated_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (value BETWEEN minimum AND maximum)
);
INSERT INTO kw.settings (name, value, minimum, maximum, description) VALUES
	('outcomes_working_days', 3, 2, 3,
	    'Working days after a TAF meeting to record its outcomes and action plan.'),
	('plan_shared_working_days', 5, 1, 20,
	    'Working days after a TAF meeting to share a copy of the plan with the family.'),
	('review_interval_days', 42, 7, 84,
	    'Days from the last TAF meeting to the next review.'),
	('alert_ack_days', 2, 1, 14,
	    'Days an alert may stay unacknowledged before the keyworker''s manager is told.'),
	('step_up_pending_days', 10, 1, 60,
	    'Days a step-up request may wait for a decision.'),
	('stalled_no_note_days', 28, 7, 180,
	    'Days without a case note after which a step up is suggested.'),
	('reminder_lead_days', 3, 0, 14,
	    'Days before a deadline that its first reminder goes out.'),
	('step_down_allocation_days', 7, 1, 30,
	    'Days after a step-down decision to allocate a keyworker.');

CREATE FUNCTION kw.setting(p_name text) RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = kw, pg_temp AS $$
BEGIN
	RETURN (SELECT value FROM kw.settings WHERE name = p_name);
END
$$;

-- Areas of family life that outcome scores are given for (an outcomes
-- star's spokes).
CREATE TABLE kw.outcome_areas (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	active		boolean NOT NULL DEFAULT true,
	version		integer NOT NULL DEFAULT 1,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX outcome_areas_name_key ON kw.outcome_areas (lower(name));
INSERT INTO kw.outcome_areas (name) VALUES
	('Physical health'), ('Well-being'), ('Meeting emotional needs'),
	('Keeping children safe'), ('Social networks'), ('Education and learning'),
	('Boundaries and behaviour'), ('Family routine'), ('Home and money'),
	('Progress to work');

------------------------------------------------------------------------------
-- The assessment (FFA)

CREATE TABLE kw.assessments (
	episode_id	uuid PRIMARY KEY REFERENCES kw.episodes,
	strengths	text CHECK (length(strengths) <= 20000),
	needs		text CHECK (length(needs) <= 20000),
	priorities	text CHECK (length(priorities) <= 20000),
	status		text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'complete')),
	completed_at	timestamptz,
	completed_by	uuid REFERENCES kw.users,
	updated_by	uuid NOT NULL REFERENCES kw.users,
	version		integer NOT NULL DEFAULT 1,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	CHECK ((status = 'complete') = (completed_at IS NOT NULL))
);

-- Each member's voice: in their own words, or, where they could not be
-- met, which professional gave it and how it was obtained.
CREATE TABLE kw.assessment_voices (
	episode_id	uuid NOT NULL REFERENCES kw.assessments,
	member_id	uuid NOT NULL REFERENCES kw.members,
	in_own_words	text CHECK (length(in_own_words) BETWEEN 1 AND 20000),
	given_by	text CHECK (length(given_by) BETWEEN 1 AND 200),
	how_obtained	text CHECK (length(how_obtained) BETWEEN 1 AND 2000),
	voice		text CHECK (length(voice) BETWEEN 1 AND 20000),
	PRIMARY KEY (episode_id, member_id),
	CHECK (in_own_words IS NOT NULL OR
	    (given_by IS NOT NULL AND how_obtained IS NOT NULL AND voice IS NOT NULL))
);

------------------------------------------------------------------------------
-- TAF meetings

CREATE TABLE kw.meetings (
	id			uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	episode_id		uuid NOT NULL REFERENCES kw.episodes,
	-- The first meeting of an episode is the initial TAF meeting, later
	-- ones are reviews: set on insert (kw.meetings_kind).
	kind			text NOT NULL DEFAULT 'review' CHECK (kind IN ('initial', 'review')),
	scheduled_at		timestamptz NOT NULL,
	venue			text NOT NULL CHECK (length(venue) BETWEEN 1 AND 500),
	family_can_attend	boolean NOT NULL,
	status			text NOT NULL DEFAULT 'scheduled' CHECK (status IN
				    ('scheduled', 'held', 'cancelled')),
	held_at			timestamptz,
	outcomes_recorded_at	timestamptz,
	decisions		text CHECK (length(decisions) <= 20000),
	family_comments_meeting	text CHECK (length(family_comments_meeting) <= 20000),
	family_comments_actions	text CHECK (length(family_comments_actions) <= 20000),
	plan_shared_at		timestamptz,
	created_by		uuid NOT NULL REFERENCES kw.users,
	version			integer NOT NULL DEFAULT 1,
	created_at		timestamptz NOT NULL DEFAULT now(),
	updated_at		timestamptz NOT NULL DEFAULT now(),
	UNIQUE (episode_id, id),
	CHECK ((status = 'held') = (held_at IS NOT NULL)),
	CHECK (outcomes_recorded_at IS NULL OR status = 'held')
);
CREATE INDEX meetings_episode_idx ON kw.meetings (episode_id, created_at, id);

-- Decided from every meeting of the episode, seen or not (a limited member
-- invited only to a review must still see it called a review).
CREATE FUNCTION kw.meetings_kind() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
BEGIN
	NEW.kind := CASE WHEN EXISTS (SELECT 1 FROM kw.meetings m
	    WHERE m.episode_id = NEW.episode_id AND m.status <> 'cancelled')
	    THEN 'review' ELSE 'initial' END;
	RETURN NEW;
END
$$;
CREATE TRIGGER meetings_kind BEFORE INSERT ON kw.meetings
	FOR EACH ROW EXECUTE FUNCTION kw.meetings_kind();

-- Who is invited: a practitioner (user_id) or a family member (member_id).
CREATE TABLE kw.meeting_invitees (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	meeting_id	uuid NOT NULL,
	episode_id	uuid NOT NULL,
	user_id		uuid REFERENCES kw.users,
	member_id	uuid REFERENCES kw.members,
	attendance	text NOT NULL DEFAULT 'invited' CHECK (attendance IN
			    ('invited', 'attended', 'apologies', 'absent')),
	apologies	text CHECK (length(apologies) <= 2000),
	report		text CHECK (length(report) <= 20000),
	FOREIGN KEY (episode_id, meeting_id) REFERENCES kw.meetings (episode_id, id),
	CHECK ((user_id IS NULL) <> (member_id IS NULL)),
	UNIQUE (meeting_id, user_id),
	UNIQUE (meeting_id, member_id)
);
CREATE INDEX meeting_invitees_user_idx ON kw.meeting_invitees (user_id) WHERE user_id IS NOT NULL;

------------------------------------------------------------------------------
-- The action plan

CREATE TABLE kw.actions (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	episode_id	uuid NOT NULL REFERENCES kw.episodes,
	meeting_id	uuid,
	what		text NOT NULL CHECK (length(what) BETWEEN 1 AND 2000),
	owner_user_id	uuid REFERENCES kw.users,
	owner_member_id	uuid REFERENCES kw.members,
	measure		text NOT NULL CHECK (length(measure) BETWEEN 1 AND 2000),
	due_date	date NOT NULL,
	status		text NOT NULL DEFAULT 'not_started' CHECK (status IN
			    ('not_started', 'in_progress', 'done', 'dropped')),
	completed_at	timestamptz,
	created_by	uuid NOT NULL REFERENCES kw.users,
	version		integer NOT NULL DEFAULT 1,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	FOREIGN KEY (episode_id, meeting_id) REFERENCES kw.meetings (episode_id, id),
	CHECK ((owner_user_id IS NULL) <> (owner_member_id IS NULL)),
	CHECK ((status IN ('done', 'dropped')) = (completed_at IS NOT NULL))
);
CREATE INDEX actions_episode_idx ON kw.actions (episode_id, created_at, id);
CREATE INDEX actions_owner_idx ON kw.actions (owner_user_id) WHERE owner_user_id IS NOT NULL;

CREATE TABLE kw.action_updates (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	action_id	uuid NOT NULL REFERENCES kw.actions,
	episode_id	uuid NOT NULL REFERENCES kw.episodes,
	status		text NOT NULL,
	progress	text CHECK (length(progress) BETWEEN 1 AND 5000),
	created_by	uuid NOT NULL REFERENCES kw.users,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX action_updates_action_idx ON kw.action_updates (action_id, created_at);

------------------------------------------------------------------------------
-- Progress: outcome scores per area over time

CREATE TABLE kw.outcome_scores (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	episode_id	uuid NOT NULL REFERENCES kw.episodes,
	area_id		uuid NOT NULL REFERENCES kw.outcome_areas,
	score		integer NOT NULL CHECK (score BETWEEN 1 AND 10),
	scored_on	date NOT NULL,
	meeting_id	uuid,
	recorded_by	uuid NOT NULL REFERENCES kw.users,
	created_at	timestamptz NOT NULL DEFAULT now(),
	FOREIGN KEY (episode_id, meeting_id) REFERENCES kw.meetings (episode_id, id)
);
CREATE INDEX outcome_scores_episode_idx ON kw.outcome_scores (episode_id, area_id, scored_on);

------------------------------------------------------------------------------
-- Documents: the content in the row, with its SHA-256.

CREATE TABLE kw.documents (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	episode_id	uuid NOT NULL REFERENCES kw.episodes,
	filename	text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
	content_type	text NOT NULL CHECK (length(content_type) BETWEEN 3 AND 200),
	size_bytes	bigint NOT NULL CHECK (size_bytes >= 0),
	sha256		text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	content		bytea NOT NULL,
	uploaded_by	uuid NOT NULL REFERENCES kw.users,
	created_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (size_bytes = octet_length(content))
);
CREATE INDEX documents_episode_idx ON kw.documents (episode_id, created_at, id);
-- Stored as received: already-compressed formats gain nothing from TOAST
-- compression, and the size check reads the length cheaply.
ALTER TABLE kw.documents ALTER COLUMN content SET STORAGE EXTERNAL;

------------------------------------------------------------------------------
-- Alerts: more kinds, raised by partner systems too, answered.

ALTER TABLE kw.alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE kw.alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN (
	'case_note', 'named_in_note', 'access_request', 'document', 'meeting',
	'children_services_contact', 'domestic_violence', 'referral', 'other'));
ALTER TABLE kw.alerts ALTER COLUMN created_by DROP NOT NULL;
ALTER TABLE kw.alerts
	ADD COLUMN created_by_client uuid REFERENCES kw.api_clients,
	ADD COLUMN detail text CHECK (length(detail) <= 5000),
	ADD COLUMN document_id uuid REFERENCES kw.documents,
	ADD COLUMN meeting_id uuid REFERENCES kw.meetings,
	ADD COLUMN response text CHECK (length(response) BETWEEN 1 AND 5000),
	ADD CONSTRAINT alerts_raised_by CHECK ((created_by IS NULL) <> (created_by_client IS NULL)),
	ADD CONSTRAINT alerts_answered CHECK ((acknowledged_at IS NULL) = (response IS NULL));

-- Tell the keyworker of p_episode (and, for p_manager_too, their manager)
-- of something on the case. Runs as the owner: whoever acts may not be
-- able to write alerts for others, but may only alert about an episode
-- they see.
CREATE FUNCTION kw.alert_keyworker(p_episode uuid, p_kind text, p_detail text,
    p_note uuid, p_document uuid, p_meeting uuid, p_manager_too boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	e kw.episodes;
	mgr uuid;
BEGIN
	SELECT * INTO e FROM kw.episodes WHERE id = p_episode;
	IF NOT FOUND OR NOT (e.id = ANY (kw.my_episodes(false))
	    OR e.keyworker_id = ANY (kw.my_reports()) OR e.area_id = ANY (kw.my_areas())) THEN
		RETURN;
	END IF;
	IF e.keyworker_id IS DISTINCT FROM kw.current_user_id() THEN
		INSERT INTO kw.alerts (episode_id, user_id, kind, detail, note_id, document_id,
		    meeting_id, created_by, created_by_client)
		VALUES (e.id, e.keyworker_id, p_kind, p_detail, p_note, p_document, p_meeting,
		    kw.current_user_id(), kw.current_client_id());
	END IF;
	IF p_manager_too THEN
		SELECT manager_id INTO mgr FROM kw.users WHERE id = e.keyworker_id;
		IF mgr IS NOT NULL AND mgr IS DISTINCT FROM kw.current_user_id() THEN
			INSERT INTO kw.alerts (episode_id, user_id, kind, detail, note_id,
			    document_id, meeting_id, created_by, created_by_client)
			VALUES (e.id, mgr, p_kind, p_detail, p_note, p_document, p_meeting,
			    kw.current_user_id(), kw.current_client_id());
		END IF;
	END IF;
END
$$;
REVOKE ALL ON FUNCTION kw.alert_keyworker(uuid, text, text, uuid, uuid, uuid, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.alert_keyworker(uuid, text, text, uuid, uuid, uuid, boolean)
    TO keywork_api;

-- A manager reads the alerts of their practitioners' episodes addressed to
-- them; the recipient sees theirs as before (0003).

------------------------------------------------------------------------------
-- Deadlines, computed from the records (domain.md's table). One row per
-- deadline: what, its subject, when due, when met, who it reminds.

CREATE VIEW kw.deadlines_v WITH (security_invoker = true) AS
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
	    kw.add_working_days(kw.local_date(m.held_at), kw.setting('outcomes_working_days')),
	    m.outcomes_recorded_at, e.keyworker_id, e.keyworker_id
	FROM kw.meetings m JOIN kw.episodes e ON e.id = m.episode_id
	WHERE m.status = 'held' AND e.status <> 'closed'
	UNION ALL
	SELECT m.episode_id, 'plan_shared', m.id,
	    kw.add_working_days(kw.local_date(m.held_at), kw.setting('plan_shared_working_days')),
	    m.plan_shared_at, e.keyworker_id, e.keyworker_id
	FROM kw.meetings m JOIN kw.episodes e ON e.id = m.episode_id
	WHERE m.status = 'held' AND e.status <> 'closed'
	UNION ALL
	-- The next review falls due after the latest meeting held; a later
	-- meeting held meets it.
	SELECT m.episode_id, 'plan_review', m.id,
	    kw.local_date(m.held_at) + kw.setting('review_interval_days'), NULL,
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
GRANT SELECT ON kw.deadlines_v TO keywork_api;

------------------------------------------------------------------------------
-- Row-level security

ALTER TABLE kw.holidays ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.outcome_areas ENABLE ROW LEVEL SECURITY;
CREATE POLICY holidays_read ON kw.holidays FOR SELECT TO keywork_api USING (kw.signed_in());
CREATE POLICY holidays_admin ON kw.holidays FOR ALL TO keywork_api
	USING (kw.has_role('admin')) WITH CHECK (kw.has_role('admin'));
CREATE POLICY settings_read ON kw.settings FOR SELECT TO keywork_api USING (kw.signed_in());
CREATE POLICY settings_admin ON kw.settings FOR UPDATE TO keywork_api
	USING (kw.has_role('admin')) WITH CHECK (kw.has_role('admin'));
CREATE POLICY outcome_areas_read ON kw.outcome_areas FOR SELECT TO keywork_api
	USING (kw.signed_in());
CREATE POLICY outcome_areas_admin ON kw.outcome_areas FOR ALL TO keywork_api
	USING (kw.has_role('admin')) WITH CHECK (kw.has_role('admin'));
GRANT SELECT, INSERT, DELETE ON kw.holidays TO keywork_api;
GRANT SELECT ON kw.settings TO keywork_api;
GRANT UPDATE (value, updated_at) ON kw.settings TO keywork_api;
GRANT SELECT, INSERT ON kw.outcome_areas TO keywork_api;
GRANT UPDATE (name, active, version, updated_at) ON kw.outcome_areas TO keywork_api;

ALTER TABLE kw.assessments ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.assessment_voices ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.meetings ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.meeting_invitees ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.actions ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.action_updates ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.outcome_scores ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.assessments FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.assessment_voices FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.meetings FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.meeting_invitees FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.actions FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.action_updates FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.outcome_scores FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.documents FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON kw.assessments TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.assessment_voices TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.meetings TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.meeting_invitees TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.actions TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.action_updates TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.outcome_scores TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.documents TO CURRENT_USER USING (true) WITH CHECK (true);

-- The policies repeat three predicates on the row's episode_id:
--   full:    keyworker, full members, partner at full level (the array),
--            or the keyworker's manager, or the area's coordinator;
--   writer:  the keyworker or their manager;
--   member:  the keyworker and full members (those who add content).
-- They are spelled out per table (PostgreSQL cannot inline a function
-- holding sub-selects into a policy).

-- Assessment: full access reads; the keyworker and manager write.
CREATE POLICY assessments_read ON kw.assessments FOR SELECT TO keywork_api USING (
	episode_id = ANY ((SELECT kw.my_episodes(true))::uuid[])
	OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = assessments.episode_id AND (
	    e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])
	    OR e.area_id = ANY ((SELECT kw.my_areas())::uuid[]))));
CREATE POLICY assessments_write ON kw.assessments FOR ALL TO keywork_api
	USING (EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = assessments.episode_id AND (
	    e.keyworker_id = (SELECT kw.current_user_id())
	    OR e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[]))))
	WITH CHECK (updated_by = kw.current_user_id() AND
	    EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = assessments.episode_id AND (
	    e.keyworker_id = kw.current_user_id() OR e.keyworker_id = ANY (kw.my_reports()))));
CREATE POLICY voices_read ON kw.assessment_voices FOR SELECT TO keywork_api USING (
	episode_id = ANY ((SELECT kw.my_episodes(true))::uuid[])
	OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = assessment_voices.episode_id AND (
	    e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])
	    OR e.area_id = ANY ((SELECT kw.my_areas())::uuid[]))));
CREATE POLICY voices_write ON kw.assessment_voices FOR ALL TO keywork_api
	USING (EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = assessment_voices.episode_id AND (
	    e.keyworker_id = (SELECT kw.current_user_id())
	    OR e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[]))))
	WITH CHECK (EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = assessment_voices.episode_id
	    AND (e.keyworker_id = kw.current_user_id() OR e.keyworker_id = ANY (kw.my_reports()))));

-- Meetings: full access, and a limited member invited to it.
CREATE POLICY meetings_read ON kw.meetings FOR SELECT TO keywork_api USING (
	episode_id = ANY ((SELECT kw.my_episodes(true))::uuid[])
	OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = meetings.episode_id AND (
	    e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])
	    OR e.area_id = ANY ((SELECT kw.my_areas())::uuid[])))
	OR (episode_id = ANY ((SELECT kw.my_episodes(false))::uuid[])
	    AND EXISTS (SELECT 1 FROM kw.meeting_invitees i WHERE i.meeting_id = meetings.id
		AND i.user_id = (SELECT kw.current_user_id()))));
CREATE POLICY meetings_write ON kw.meetings FOR ALL TO keywork_api
	USING (EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = meetings.episode_id AND (
	    e.keyworker_id = (SELECT kw.current_user_id())
	    OR e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[]))))
	WITH CHECK (EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = meetings.episode_id AND (
	    e.keyworker_id = kw.current_user_id() OR e.keyworker_id = ANY (kw.my_reports()))));
CREATE POLICY invitees_read ON kw.meeting_invitees FOR SELECT TO keywork_api USING (
	episode_id = ANY ((SELECT kw.my_episodes(true))::uuid[])
	OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = meeting_invitees.episode_id AND (
	    e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])
	    OR e.area_id = ANY ((SELECT kw.my_areas())::uuid[])))
	OR (user_id = (SELECT kw.current_user_id())
	    AND episode_id = ANY ((SELECT kw.my_episodes(false))::uuid[])));
CREATE POLICY invitees_write ON kw.meeting_invitees FOR ALL TO keywork_api
	USING (EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = meeting_invitees.episode_id AND (
	    e.keyworker_id = (SELECT kw.current_user_id())
	    OR e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[]))))
	WITH CHECK (EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = meeting_invitees.episode_id
	    AND (e.keyworker_id = kw.current_user_id() OR e.keyworker_id = ANY (kw.my_reports()))));

-- Actions: full access, and the practitioner who owns one (at any level).
-- The keyworker and manager write them; an owner updates their own.
CREATE POLICY actions_read ON kw.actions FOR SELECT TO keywork_api USING (
	episode_id = ANY ((SELECT kw.my_episodes(true))::uuid[])
	OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = actions.episode_id AND (
	    e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])
	    OR e.area_id = ANY ((SELECT kw.my_areas())::uuid[])))
	OR (owner_user_id = (SELECT kw.current_user_id())
	    AND episode_id = ANY ((SELECT kw.my_episodes(false))::uuid[])));
CREATE POLICY actions_plan ON kw.actions FOR INSERT TO keywork_api WITH CHECK (
	created_by = kw.current_user_id() AND
	EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = actions.episode_id AND (
	    e.keyworker_id = kw.current_user_id() OR e.keyworker_id = ANY (kw.my_reports()))));
CREATE POLICY actions_change ON kw.actions FOR UPDATE TO keywork_api
	USING (EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = actions.episode_id AND (
	    e.keyworker_id = (SELECT kw.current_user_id())
	    OR e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])))
	    OR (owner_user_id = (SELECT kw.current_user_id())
		AND episode_id = ANY ((SELECT kw.my_episodes(false))::uuid[])));
CREATE POLICY action_updates_read ON kw.action_updates FOR SELECT TO keywork_api USING (
	EXISTS (SELECT 1 FROM kw.actions a WHERE a.id = action_updates.action_id));
-- Progress is reported by the action's owner, or the keyworker or manager.
CREATE POLICY action_updates_add ON kw.action_updates FOR INSERT TO keywork_api WITH CHECK (
	created_by = kw.current_user_id()
	AND EXISTS (SELECT 1 FROM kw.actions a WHERE a.id = action_updates.action_id
	    AND a.episode_id = action_updates.episode_id
	    AND (a.owner_user_id = kw.current_user_id() OR EXISTS (SELECT 1
		FROM kw.episodes e WHERE e.id = a.episode_id AND (
		e.keyworker_id = kw.current_user_id()
		OR e.keyworker_id = ANY (kw.my_reports()))))));

-- Outcome scores: full access reads; the keyworker and manager record.
CREATE POLICY scores_read ON kw.outcome_scores FOR SELECT TO keywork_api USING (
	episode_id = ANY ((SELECT kw.my_episodes(true))::uuid[])
	OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = outcome_scores.episode_id AND (
	    e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])
	    OR e.area_id = ANY ((SELECT kw.my_areas())::uuid[]))));
CREATE POLICY scores_add ON kw.outcome_scores FOR INSERT TO keywork_api WITH CHECK (
	recorded_by = kw.current_user_id() AND
	EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = outcome_scores.episode_id AND (
	    e.keyworker_id = kw.current_user_id() OR e.keyworker_id = ANY (kw.my_reports()))));

-- Documents: full access reads; the keyworker and full members upload.
CREATE POLICY documents_read ON kw.documents FOR SELECT TO keywork_api USING (
	episode_id = ANY ((SELECT kw.my_episodes(true))::uuid[])
	OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = documents.episode_id AND (
	    e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])
	    OR e.area_id = ANY ((SELECT kw.my_areas())::uuid[]))));
CREATE POLICY documents_add ON kw.documents FOR INSERT TO keywork_api WITH CHECK (
	uploaded_by = kw.current_user_id() AND episode_id = ANY (kw.my_episodes(true)));

GRANT SELECT, INSERT ON kw.assessments TO keywork_api;
GRANT UPDATE (strengths, needs, priorities, status, completed_at, completed_by,
    updated_by, version, updated_at) ON kw.assessments TO keywork_api;
GRANT SELECT, INSERT, DELETE ON kw.assessment_voices TO keywork_api;
GRANT SELECT, INSERT ON kw.meetings TO keywork_api;
GRANT UPDATE (scheduled_at, venue, family_can_attend, status, held_at,
    outcomes_recorded_at, decisions, family_comments_meeting, family_comments_actions,
    plan_shared_at, version, updated_at) ON kw.meetings TO keywork_api;
GRANT SELECT, INSERT, DELETE ON kw.meeting_invitees TO keywork_api;
GRANT UPDATE (attendance, apologies, report) ON kw.meeting_invitees TO keywork_api;
GRANT SELECT, INSERT ON kw.actions TO keywork_api;
GRANT UPDATE (what, owner_user_id, owner_member_id, measure, due_date, status,
    completed_at, version, updated_at) ON kw.actions TO keywork_api;
GRANT SELECT, INSERT ON kw.action_updates TO keywork_api;
GRANT SELECT, INSERT ON kw.outcome_scores TO keywork_api;
GRANT SELECT, INSERT ON kw.documents TO keywork_api;
GRANT UPDATE (response) ON kw.alerts TO keywork_api;

-- The episode's service-kept dates move with the work: the assessment's
-- completion and the first meeting held (0003 kept them out of reach).
GRANT UPDATE (status, assessment_completed_at, first_taf_meeting_held_at)
    ON kw.episodes TO keywork_api;
