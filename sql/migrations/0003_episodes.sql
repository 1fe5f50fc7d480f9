-- keywork 0003: families, episodes, members, consents, the Team Around the
-- Family, access requests, case notes and alerts; and the row-level security
-- that decides who sees each row.
--
-- Every table here holds case content. Row-level security is enabled and
-- FORCED on each, so that even the owner is held to a policy: the owner's
-- policy admits everything (migrations, SECURITY DEFINER lookups), the API
-- role's policies admit what the caller may see and nothing else.
--
-- Who sees an episode:
--   keyworker                 everything (full)
--   TAF member, full          everything (full)
--   TAF member, limited       the episode row only: the summary
--   line manager              everything on episodes their reports hold (full)
--   coordinator               everything on episodes in their area (full)
--   partner system            what its agency's practitioners hold, by level
--   admin, anyone else        nothing: the episode does not exist for them
--
-- The caller's identity is looked up once per query: policies read it
-- through the kw.my_* functions inside scalar sub-selects, which PostgreSQL
-- evaluates once, as InitPlans, and compares each row against the arrays
-- they return with = ANY, which an index can serve.

------------------------------------------------------------------------------
-- Errors that name the rule broken: KW422 with a JSON detail {"rule": ...},
-- which the server adds to the problem body.

CREATE FUNCTION kw.rule(p_rule text, p_msg text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'KW422', MESSAGE = p_msg,
	    DETAIL = jsonb_build_object('rule', p_rule)::text;
END
$$;

-- Deadlines count calendar days in the service's own time zone: a family
-- registered at 23:30 on a winter evening is registered that day.
CREATE FUNCTION kw.local_date(t timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT (t AT TIME ZONE 'Europe/London')::date
$$;

CREATE FUNCTION kw.today() RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT kw.local_date(now()) $$;

-- A user or a partner system: whoever the request acts for.
CREATE FUNCTION kw.current_principal() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT coalesce(kw.current_user_id(), kw.current_client_id())
$$;

------------------------------------------------------------------------------
-- Tables

CREATE TABLE kw.families (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	area_id		uuid NOT NULL REFERENCES kw.areas,
	postcode	text CHECK (length(postcode) BETWEEN 2 AND 10),
	created_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE kw.episodes (
	id			uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	family_id		uuid NOT NULL REFERENCES kw.families,
	-- The summary a limited-access member may see lives on this row;
	-- everything else lives in tables they cannot read.
	family_name		text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 200),
	area_id			uuid NOT NULL REFERENCES kw.areas,
	keyworker_id		uuid NOT NULL REFERENCES kw.users,
	lead_agency_id		uuid NOT NULL REFERENCES kw.agencies,
	status			text NOT NULL DEFAULT 'registered' CHECK (status IN
				    ('registered', 'assessed', 'plan_in_place',
				    'step_up_requested', 'stepped_up', 'closed')),
	registered_at		timestamptz NOT NULL DEFAULT now(),
	registered_by		uuid NOT NULL REFERENCES kw.users,
	assessment_due		date NOT NULL,
	first_taf_meeting_due	date NOT NULL,
	assessment_completed_at	timestamptz,
	first_taf_meeting_held_at timestamptz,
	closed_at		timestamptz,
	version			integer NOT NULL DEFAULT 1,
	created_at		timestamptz NOT NULL DEFAULT now(),
	updated_at		timestamptz NOT NULL DEFAULT now(),
	CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
	-- Domain step 1 to 3: the assessment within 3 weeks, the first TAF
	-- meeting within 6 weeks of registration.
	CHECK (assessment_due = kw.local_date(registered_at) + 21),
	CHECK (first_taf_meeting_due = kw.local_date(registered_at) + 42)
);
-- A family has at most one open episode (domain step 1).
CREATE UNIQUE INDEX episodes_one_open_key ON kw.episodes (family_id)
	WHERE status <> 'closed';
CREATE INDEX episodes_keyworker_idx ON kw.episodes (keyworker_id, created_at, id);
CREATE INDEX episodes_area_idx ON kw.episodes (area_id, created_at, id);
CREATE INDEX episodes_created_idx ON kw.episodes (created_at, id);
-- A family's episodes: the families policies and kw.family_open_to_me look
-- them up by family (without it, reading one family scanned every episode
-- the caller sees, and registering scanned them all).
CREATE INDEX episodes_family_idx ON kw.episodes (family_id);

CREATE TABLE kw.members (
	id			uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	episode_id		uuid NOT NULL REFERENCES kw.episodes,
	given_name		text NOT NULL CHECK (length(given_name) BETWEEN 1 AND 100),
	family_name		text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 100),
	date_of_birth		date NOT NULL CHECK (date_of_birth >= '1900-01-01'),
	relationship		text NOT NULL CHECK (length(relationship) BETWEEN 1 AND 100),
	is_child		boolean NOT NULL,
	lives_in_household	boolean NOT NULL DEFAULT true,
	-- Taking part in the episode; a member left out says why (for a
	-- child in the household: the parents refused).
	included		boolean NOT NULL DEFAULT true,
	not_included_reason	text CHECK (length(not_included_reason) BETWEEN 1 AND 1000),
	version			integer NOT NULL DEFAULT 1,
	created_at		timestamptz NOT NULL DEFAULT now(),
	updated_at		timestamptz NOT NULL DEFAULT now(),
	CHECK (included OR not_included_reason IS NOT NULL)
);
CREATE INDEX members_episode_idx ON kw.members (episode_id, created_at, id);
-- Finding the same person in another open episode.
CREATE INDEX members_person_idx ON kw.members (lower(family_name), date_of_birth);

CREATE TABLE kw.consents (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	episode_id	uuid NOT NULL REFERENCES kw.episodes,
	kind		text NOT NULL CHECK (kind IN ('verbal', 'written', 'review',
			    'withdrawal')),
	-- NULL: the whole episode; else the agency the consent concerns.
	agency_id	uuid REFERENCES kw.agencies,
	given_by	text NOT NULL CHECK (length(given_by) BETWEEN 1 AND 200),
	obtained_at	timestamptz NOT NULL,
	statement	text CHECK (length(statement) <= 10000),
	recorded_by	uuid NOT NULL REFERENCES kw.users,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consents_episode_idx ON kw.consents (episode_id, created_at, id);

CREATE TABLE kw.team_members (
	episode_id	uuid NOT NULL REFERENCES kw.episodes,
	user_id		uuid NOT NULL REFERENCES kw.users,
	level		text NOT NULL CHECK (level IN ('full', 'limited')),
	added_by	uuid NOT NULL REFERENCES kw.users,
	version		integer NOT NULL DEFAULT 1,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (episode_id, user_id)
);
CREATE INDEX team_members_user_idx ON kw.team_members (user_id, level);
CREATE INDEX team_members_page_idx ON kw.team_members (episode_id, created_at, user_id);

-- No foreign key to the episode: a request for an episode that does not
-- exist is accepted and kept like any other, so the answer reveals nothing.
CREATE TABLE kw.access_requests (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	episode_id	uuid NOT NULL,
	requester_id	uuid NOT NULL REFERENCES kw.users,
	reason		text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
	status		text NOT NULL DEFAULT 'pending' CHECK (status IN
			    ('pending', 'approved', 'declined')),
	level		text CHECK (level IN ('full', 'limited')),
	decided_by	uuid REFERENCES kw.users,
	decided_at	timestamptz,
	decision_note	text CHECK (length(decision_note) <= 2000),
	created_at	timestamptz NOT NULL DEFAULT now(),
	CHECK ((status = 'pending') = (decided_at IS NULL)),
	CHECK ((status = 'approved') = (level IS NOT NULL))
);
CREATE INDEX access_requests_episode_idx ON kw.access_requests (episode_id, created_at, id);
CREATE INDEX access_requests_requester_idx ON kw.access_requests (requester_id);

CREATE TABLE kw.notes (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	episode_id	uuid NOT NULL REFERENCES kw.episodes,
	author_id	uuid NOT NULL REFERENCES kw.users,
	kind		text NOT NULL CHECK (kind IN ('fact', 'opinion', 'mixed')),
	body		text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
	amends_note_id	uuid,
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (episode_id, id),
	-- A correction amends a note of the same episode.
	FOREIGN KEY (episode_id, amends_note_id) REFERENCES kw.notes (episode_id, id)
);
CREATE INDEX notes_episode_idx ON kw.notes (episode_id, created_at, id);
CREATE INDEX notes_amends_idx ON kw.notes (amends_note_id) WHERE amends_note_id IS NOT NULL;

-- Notes are never edited or deleted, by anyone: a correction is a new note.
CREATE FUNCTION kw.notes_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'KW422',
	    MESSAGE = 'Case notes are never changed or deleted: add a note that amends it.',
	    DETAIL = jsonb_build_object('rule', 'notes_append_only')::text;
END
$$;
CREATE TRIGGER notes_append_only BEFORE UPDATE OR DELETE ON kw.notes
	FOR EACH ROW EXECUTE FUNCTION kw.notes_append_only();
CREATE TRIGGER notes_no_truncate BEFORE TRUNCATE ON kw.notes
	FOR EACH STATEMENT EXECUTE FUNCTION kw.notes_append_only();

-- What a user must respond to. The alerts API reads these (a later
-- migration adds kinds); a case note stores them here.
CREATE TABLE kw.alerts (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	episode_id	uuid NOT NULL REFERENCES kw.episodes,
	user_id		uuid NOT NULL REFERENCES kw.users,
	kind		text NOT NULL CHECK (kind IN ('case_note', 'named_in_note',
			    'access_request')),
	note_id		uuid,
	access_request_id uuid REFERENCES kw.access_requests,
	created_by	uuid NOT NULL REFERENCES kw.users,
	created_at	timestamptz NOT NULL DEFAULT now(),
	acknowledged_at	timestamptz,
	-- An alert about a note is about a note of the same episode.
	FOREIGN KEY (episode_id, note_id) REFERENCES kw.notes (episode_id, id)
);
CREATE INDEX alerts_user_idx ON kw.alerts (user_id, created_at, id);
CREATE INDEX alerts_episode_idx ON kw.alerts (episode_id);

-- Replays of creating calls (Idempotency-Key), per caller.
CREATE TABLE kw.idempotency_keys (
	principal	uuid NOT NULL,
	key		text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
	request_hash	text NOT NULL,
	response	jsonb,
	etag		text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_age_idx ON kw.idempotency_keys (created_at);

------------------------------------------------------------------------------
-- The caller's reach, computed once per query. SECURITY DEFINER: they read
-- the team and accounts as the owner, which keeps the policies below from
-- recursing into each other, and return only what concerns the caller.
-- PL/pgSQL rather than SQL: a SQL function that cannot be inlined (these
-- cannot, being definers) is planned afresh in every statement that calls
-- it, and PL/pgSQL keeps its plan for the connection. my_episodes also
-- keeps the generic plan from the first call: left to choose, PostgreSQL
-- would plan it again on each call for p_full's value, which costs four
-- times the query (docs/performance.md). Each is one query, as before.

-- Episodes the caller holds as keyworker or TAF member (p_full: full level
-- only). A partner system holds what its agency's practitioners hold.
CREATE FUNCTION kw.my_episodes(p_full boolean) RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = kw, pg_temp
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN (SELECT coalesce(array_agg(DISTINCT s.id), '{}') FROM (
		SELECT e.id FROM kw.episodes e
		WHERE e.keyworker_id = kw.current_user_id()
		UNION ALL
		SELECT t.episode_id FROM kw.team_members t
		WHERE t.user_id = kw.current_user_id() AND (NOT p_full OR t.level = 'full')
		UNION ALL
		SELECT e.id FROM kw.episodes e JOIN kw.users u ON u.id = e.keyworker_id
		WHERE kw.has_role('partner') AND u.agency_id = kw.current_agency_id()
		UNION ALL
		SELECT t.episode_id FROM kw.team_members t JOIN kw.users u ON u.id = t.user_id
		WHERE kw.has_role('partner') AND u.agency_id = kw.current_agency_id()
		    AND (NOT p_full OR t.level = 'full')
	) s);
END
$$;

-- The practitioners a line manager manages.
CREATE FUNCTION kw.my_reports() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = kw, pg_temp AS $$
BEGIN
	RETURN (SELECT coalesce(array_agg(u.id), '{}') FROM kw.users u
	WHERE kw.has_role('manager') AND u.manager_id = kw.current_user_id());
END
$$;

-- The areas a coordinator covers: their own.
CREATE FUNCTION kw.my_areas() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = kw, pg_temp AS $$
BEGIN
	RETURN (SELECT coalesce(array_agg(u.area_id), '{}') FROM kw.users u
	WHERE kw.has_role('coordinator') AND u.id = kw.current_user_id());
END
$$;

-- A new episode may name a family only if the family has no episode yet,
-- or the caller already holds one of its episodes at full level. (A definer
-- function: the policy on episodes cannot read families, whose policy reads
-- episodes.)
CREATE FUNCTION kw.family_open_to_me(p_family uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = kw, pg_temp AS $$
	SELECT NOT EXISTS (SELECT 1 FROM kw.episodes e WHERE e.family_id = p_family)
	    OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.family_id = p_family
		AND (e.id = ANY (kw.my_episodes(true)) OR e.keyworker_id = ANY (kw.my_reports())
		    OR e.area_id = ANY (kw.my_areas())))
$$;

-- Registering needs one of these roles (admins and partners never do).
CREATE FUNCTION kw.may_register() RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT kw.current_user_id() IS NOT NULL AND (kw.has_role('practitioner')
	    OR kw.has_role('manager') OR kw.has_role('coordinator'))
$$;

REVOKE ALL ON FUNCTION kw.family_open_to_me(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.family_open_to_me(uuid) TO keywork_api;
REVOKE ALL ON FUNCTION kw.my_episodes(boolean), kw.my_reports(), kw.my_areas() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.my_episodes(boolean), kw.my_reports(), kw.my_areas()
    TO keywork_api;

-- Names and contacts of staff, for the people on an episode (keyworker,
-- team). Not the accounts themselves: no roles, no manager, no secrets.
-- Runs with the owner's rights, so any signed-in caller can read it.
CREATE VIEW kw.staff_v AS
	SELECT id, name, email, agency_id, active FROM kw.users WHERE kw.signed_in();
GRANT SELECT ON kw.staff_v TO keywork_api;

------------------------------------------------------------------------------
-- Row-level security

ALTER TABLE kw.families ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.episodes ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.members ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.consents ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.team_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.access_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.families FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.episodes FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.members FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.consents FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.team_members FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.access_requests FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.notes FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.alerts FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.idempotency_keys FORCE ROW LEVEL SECURITY;

-- The owner (migrations, the definer functions above) sees every row.
CREATE POLICY owner_all ON kw.families TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.episodes TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.members TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.consents TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.team_members TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.access_requests TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.notes TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.alerts TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.idempotency_keys TO CURRENT_USER USING (true) WITH CHECK (true);

-- Episodes: the row is the summary, visible at either level.
CREATE POLICY episodes_read ON kw.episodes FOR SELECT TO keywork_api USING (
	id = ANY ((SELECT kw.my_episodes(false))::uuid[])
	OR keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])
	OR area_id = ANY ((SELECT kw.my_areas())::uuid[]));
-- A practitioner registers families they will keywork; a manager may name
-- one of their reports, a coordinator anyone for a family in their area.
CREATE POLICY episodes_register ON kw.episodes FOR INSERT TO keywork_api WITH CHECK (
	kw.may_register() AND registered_by = kw.current_user_id()
	AND (keyworker_id = kw.current_user_id()
	    OR keyworker_id = ANY (kw.my_reports())
	    OR area_id = ANY (kw.my_areas()))
	AND kw.family_open_to_me(family_id));
-- The keyworker and their manager change it.
CREATE POLICY episodes_change ON kw.episodes FOR UPDATE TO keywork_api
	USING (keyworker_id = (SELECT kw.current_user_id())
	    OR keyworker_id = ANY ((SELECT kw.my_reports())::uuid[]))
	WITH CHECK (keyworker_id = (SELECT kw.current_user_id())
	    OR keyworker_id = ANY ((SELECT kw.my_reports())::uuid[]));

-- Full access: the content tables. The first arm (keyworker, full members,
-- partner) needs no join; managers and coordinators match on the episode.
CREATE POLICY families_read ON kw.families FOR SELECT TO keywork_api USING (
	EXISTS (SELECT 1 FROM kw.episodes e WHERE e.family_id = families.id AND (
	    e.id = ANY ((SELECT kw.my_episodes(true))::uuid[])
	    OR e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])
	    OR e.area_id = ANY ((SELECT kw.my_areas())::uuid[]))));
-- Inserted before its episode exists (and without RETURNING).
CREATE POLICY families_register ON kw.families FOR INSERT TO keywork_api
	WITH CHECK (kw.may_register());
CREATE POLICY families_change ON kw.families FOR UPDATE TO keywork_api USING (
	EXISTS (SELECT 1 FROM kw.episodes e WHERE e.family_id = families.id AND (
	    e.keyworker_id = (SELECT kw.current_user_id())
	    OR e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[]))));

CREATE POLICY members_read ON kw.members FOR SELECT TO keywork_api USING (
	episode_id = ANY ((SELECT kw.my_episodes(true))::uuid[])
	OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = members.episode_id AND (
	    e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])
	    OR e.area_id = ANY ((SELECT kw.my_areas())::uuid[]))));
CREATE POLICY members_write ON kw.members FOR INSERT TO keywork_api WITH CHECK (
	episode_id = ANY (kw.my_episodes(true))
	OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = members.episode_id AND (
	    e.keyworker_id = ANY (kw.my_reports()) OR e.area_id = ANY (kw.my_areas()))));
CREATE POLICY members_change ON kw.members FOR UPDATE TO keywork_api USING (
	episode_id = ANY ((SELECT kw.my_episodes(true))::uuid[])
	OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = members.episode_id AND
	    e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])));

CREATE POLICY consents_read ON kw.consents FOR SELECT TO keywork_api USING (
	episode_id = ANY ((SELECT kw.my_episodes(true))::uuid[])
	OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = consents.episode_id AND (
	    e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])
	    OR e.area_id = ANY ((SELECT kw.my_areas())::uuid[]))));
CREATE POLICY consents_write ON kw.consents FOR INSERT TO keywork_api WITH CHECK (
	recorded_by = kw.current_user_id() AND (
	episode_id = ANY (kw.my_episodes(true))
	OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = consents.episode_id AND (
	    e.keyworker_id = ANY (kw.my_reports()) OR e.area_id = ANY (kw.my_areas())))));

CREATE POLICY notes_read ON kw.notes FOR SELECT TO keywork_api USING (
	episode_id = ANY ((SELECT kw.my_episodes(true))::uuid[])
	OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = notes.episode_id AND (
	    e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])
	    OR e.area_id = ANY ((SELECT kw.my_areas())::uuid[]))));
-- Only the keyworker and full members write notes, as themselves.
CREATE POLICY notes_write ON kw.notes FOR INSERT TO keywork_api WITH CHECK (
	author_id = kw.current_user_id() AND episode_id = ANY (kw.my_episodes(true)));

-- The team: members see their own place; full access sees the whole team;
-- the keyworker and their manager manage it.
CREATE POLICY team_read ON kw.team_members FOR SELECT TO keywork_api USING (
	user_id = (SELECT kw.current_user_id())
	OR episode_id = ANY ((SELECT kw.my_episodes(true))::uuid[])
	OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = team_members.episode_id AND (
	    e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])
	    OR e.area_id = ANY ((SELECT kw.my_areas())::uuid[]))));
CREATE POLICY team_add ON kw.team_members FOR INSERT TO keywork_api WITH CHECK (
	added_by = kw.current_user_id() AND
	EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = team_members.episode_id AND (
	    e.keyworker_id = kw.current_user_id() OR e.keyworker_id = ANY (kw.my_reports()))));
CREATE POLICY team_change ON kw.team_members FOR UPDATE TO keywork_api
	USING (EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = team_members.episode_id AND (
	    e.keyworker_id = (SELECT kw.current_user_id())
	    OR e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[]))));
CREATE POLICY team_remove ON kw.team_members FOR DELETE TO keywork_api
	USING (EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = team_members.episode_id AND (
	    e.keyworker_id = (SELECT kw.current_user_id())
	    OR e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[]))));

-- Access requests: the requester sees their own; the keyworker and their
-- manager see and decide those for the episode.
CREATE POLICY access_requests_own ON kw.access_requests FOR SELECT TO keywork_api
	USING (requester_id = (SELECT kw.current_user_id()));
CREATE POLICY access_requests_ask ON kw.access_requests FOR INSERT TO keywork_api
	WITH CHECK (requester_id = kw.current_user_id() AND status = 'pending');
CREATE POLICY access_requests_episode ON kw.access_requests FOR SELECT TO keywork_api
	USING (EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = access_requests.episode_id AND (
	    e.keyworker_id = (SELECT kw.current_user_id())
	    OR e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[]))));
CREATE POLICY access_requests_decide ON kw.access_requests FOR UPDATE TO keywork_api
	USING (EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = access_requests.episode_id AND (
	    e.keyworker_id = (SELECT kw.current_user_id())
	    OR e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[]))))
	WITH CHECK (decided_by = kw.current_user_id());

-- Alerts: the recipient reads and acknowledges them; whoever writes a note
-- on an episode they hold at full level raises them.
-- Alerts: the recipient reads and acknowledges them while they can still see
-- the episode; whoever writes on an episode they hold at full level raises
-- them, for its keyworker and full-access members only.
CREATE POLICY alerts_own ON kw.alerts FOR SELECT TO keywork_api
	USING (user_id = (SELECT kw.current_user_id())
	    AND EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = alerts.episode_id));
CREATE POLICY alerts_ack ON kw.alerts FOR UPDATE TO keywork_api
	USING (user_id = (SELECT kw.current_user_id()))
	WITH CHECK (user_id = kw.current_user_id());
CREATE POLICY alerts_raise ON kw.alerts FOR INSERT TO keywork_api WITH CHECK (
	created_by = kw.current_user_id() AND episode_id = ANY (kw.my_episodes(true))
	AND EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = alerts.episode_id
	    AND (e.keyworker_id = alerts.user_id OR EXISTS (SELECT 1 FROM kw.team_members t
		WHERE t.episode_id = e.id AND t.user_id = alerts.user_id
		AND t.level = 'full'))));

CREATE POLICY idempotency_own ON kw.idempotency_keys FOR ALL TO keywork_api
	USING (principal = kw.current_principal())
	WITH CHECK (principal = kw.current_principal());

GRANT SELECT, INSERT ON kw.families TO keywork_api;
GRANT UPDATE (name, postcode) ON kw.families TO keywork_api;
-- Status, dates kept by the service and the keyworker change only through
-- the operations that own them (later migrations grant them there).
GRANT SELECT ON kw.episodes TO keywork_api;
GRANT INSERT (id, family_id, family_name, area_id, keyworker_id, lead_agency_id,
    registered_by, assessment_due, first_taf_meeting_due) ON kw.episodes TO keywork_api;
GRANT UPDATE (family_name, lead_agency_id, version, updated_at) ON kw.episodes TO keywork_api;
GRANT SELECT, INSERT ON kw.members TO keywork_api;
GRANT UPDATE (given_name, family_name, date_of_birth, relationship, is_child,
    lives_in_household, included, not_included_reason, version, updated_at)
    ON kw.members TO keywork_api;
GRANT SELECT, INSERT ON kw.consents TO keywork_api;
GRANT SELECT, INSERT, DELETE ON kw.team_members TO keywork_api;
GRANT UPDATE (level, version, updated_at) ON kw.team_members TO keywork_api;
GRANT SELECT, INSERT ON kw.access_requests TO keywork_api;
GRANT UPDATE (status, level, decided_by, decided_at, decision_note)
    ON kw.access_requests TO keywork_api;
GRANT SELECT, INSERT ON kw.notes TO keywork_api;
GRANT SELECT, INSERT ON kw.alerts TO keywork_api;
GRANT UPDATE (acknowledged_at) ON kw.alerts TO keywork_api;
GRANT SELECT, INSERT, DELETE ON kw.idempotency_keys TO keywork_api;
GRANT UPDATE (response, etag) ON kw.idempotency_keys TO keywork_api;
