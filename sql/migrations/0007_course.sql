-- keywork 0007: changes of course. Consent governing sharing with each
-- agency, transfers of keyworker, step up, step down, closure and
-- reopening, and the one state machine every status change follows.

------------------------------------------------------------------------------
-- The episode's state machine, held here so that no path (nor two requests
-- racing) reaches a state it does not allow. docs/episode-states.md draws it.

CREATE TABLE kw.episode_transitions (
	from_status	text NOT NULL,
	to_status	text NOT NULL,
	why		text NOT NULL,
	PRIMARY KEY (from_status, to_status)
);
INSERT INTO kw.episode_transitions (from_status, to_status, why) VALUES
	('registered', 'assessed', 'the assessment is complete'),
	('registered', 'plan_in_place', 'a TAF meeting''s outcomes are recorded'),
	('assessed', 'plan_in_place', 'a TAF meeting''s outcomes are recorded'),
	('registered', 'step_up_requested', 'step up requested'),
	('assessed', 'step_up_requested', 'step up requested'),
	('plan_in_place', 'step_up_requested', 'step up requested'),
	('step_up_requested', 'registered', 'step up declined or more information asked'),
	('step_up_requested', 'assessed', 'step up declined or more information asked'),
	('step_up_requested', 'plan_in_place', 'step up declined or more information asked'),
	('step_up_requested', 'stepped_up', 'step up accepted'),
	('registered', 'closed', 'closed'),
	('assessed', 'closed', 'closed'),
	('plan_in_place', 'closed', 'closed'),
	('step_up_requested', 'closed', 'closed'),
	('stepped_up', 'closed', 'closed'),
	('closed', 'registered', 'reopened'),
	('closed', 'assessed', 'reopened'),
	('closed', 'plan_in_place', 'reopened');
ALTER TABLE kw.episode_transitions ENABLE ROW LEVEL SECURITY;
CREATE POLICY transitions_read ON kw.episode_transitions FOR SELECT TO keywork_api
	USING (kw.signed_in());
GRANT SELECT ON kw.episode_transitions TO keywork_api;

-- Where work resumes after a step up is declined or a closure undone: from
-- what has been done, not from a status remembered at the time (work goes
-- on while a step up is pending, and may move the episode on).
CREATE FUNCTION kw.working_status(p_episode uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = kw, pg_temp AS $$
	SELECT CASE
	    WHEN EXISTS (SELECT 1 FROM kw.meetings m WHERE m.episode_id = p_episode
		AND m.outcomes_recorded_at IS NOT NULL) THEN 'plan_in_place'
	    WHEN e.assessment_completed_at IS NOT NULL THEN 'assessed'
	    ELSE 'registered' END
	FROM kw.episodes e WHERE e.id = p_episode
	    AND (e.id = ANY (kw.my_episodes(false)) OR e.keyworker_id = ANY (kw.my_reports())
		OR e.area_id = ANY (kw.my_areas()))
$$;
REVOKE ALL ON FUNCTION kw.working_status(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.working_status(uuid) TO keywork_api;

CREATE FUNCTION kw.episodes_state_machine() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.status IS DISTINCT FROM OLD.status AND NOT EXISTS (SELECT 1
	    FROM kw.episode_transitions t
	    WHERE t.from_status = OLD.status AND t.to_status = NEW.status) THEN
		RAISE EXCEPTION USING ERRCODE = 'KW409',
		    MESSAGE = format('An episode cannot go from %s to %s.', OLD.status, NEW.status),
		    DETAIL = jsonb_build_object('rule', 'episode_state_machine')::text;
	END IF;
	-- A closed episode is read-only: only reopening changes it.
	IF OLD.status = 'closed' AND NEW.status = 'closed' THEN
		RAISE EXCEPTION USING ERRCODE = 'KW409',
		    MESSAGE = 'The episode is closed, and a closed episode is read-only: reopen it first.',
		    DETAIL = jsonb_build_object('rule', 'closed_episode_read_only')::text;
	END IF;
	IF NEW.keyworker_id IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'KW409',
		    MESSAGE = 'An episode always has a keyworker.';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER episodes_state_machine BEFORE UPDATE ON kw.episodes
	FOR EACH ROW EXECUTE FUNCTION kw.episodes_state_machine();

------------------------------------------------------------------------------
-- Consent governs sharing: the latest consent event per agency decides
-- whether that agency's members may see the episode.

-- Kept by trigger from kw.consents (whose rows are the history): an agency
-- is here while the family's latest word on sharing with it is a withdrawal.
CREATE TABLE kw.consent_withdrawals (
	episode_id	uuid NOT NULL REFERENCES kw.episodes,
	agency_id	uuid NOT NULL REFERENCES kw.agencies,
	since		timestamptz NOT NULL,
	PRIMARY KEY (episode_id, agency_id)
);
ALTER TABLE kw.consent_withdrawals ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.consent_withdrawals FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON kw.consent_withdrawals TO CURRENT_USER USING (true) WITH CHECK (true);

-- The family's latest word is the consent event obtained last (a consent
-- recorded late does not undo a withdrawal obtained after it).
CREATE FUNCTION kw.consents_sharing() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	latest kw.consents;
BEGIN
	IF NEW.agency_id IS NULL THEN
		RETURN NULL;
	END IF;
	SELECT * INTO latest FROM kw.consents
	WHERE episode_id = NEW.episode_id AND agency_id = NEW.agency_id
	ORDER BY obtained_at DESC, created_at DESC, id DESC LIMIT 1;
	DELETE FROM kw.consent_withdrawals
	WHERE episode_id = NEW.episode_id AND agency_id = NEW.agency_id;
	IF latest.kind = 'withdrawal' THEN
		INSERT INTO kw.consent_withdrawals (episode_id, agency_id, since)
		VALUES (NEW.episode_id, NEW.agency_id, latest.obtained_at);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER consents_sharing AFTER INSERT ON kw.consents
	FOR EACH ROW EXECUTE FUNCTION kw.consents_sharing();

-- As 0003, less the episodes on which the family has withdrawn consent to
-- share with the caller's agency (for a team member) or the partner's.
CREATE OR REPLACE FUNCTION kw.my_episodes(p_full boolean) RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = kw, pg_temp
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN (SELECT coalesce(array_agg(DISTINCT s.id), '{}') FROM (
		SELECT e.id FROM kw.episodes e
		WHERE e.keyworker_id = kw.current_user_id()
		UNION ALL
		SELECT t.episode_id FROM kw.team_members t
		WHERE t.user_id = kw.current_user_id() AND (NOT p_full OR t.level = 'full')
		    AND NOT EXISTS (SELECT 1 FROM kw.consent_withdrawals w
			WHERE w.episode_id = t.episode_id AND w.agency_id = kw.current_agency_id())
		UNION ALL
		SELECT e.id FROM kw.episodes e JOIN kw.users u ON u.id = e.keyworker_id
		WHERE kw.has_role('partner') AND u.agency_id = kw.current_agency_id()
		    AND NOT EXISTS (SELECT 1 FROM kw.consent_withdrawals w
			WHERE w.episode_id = e.id AND w.agency_id = kw.current_agency_id())
		UNION ALL
		SELECT t.episode_id FROM kw.team_members t JOIN kw.users u ON u.id = t.user_id
		WHERE kw.has_role('partner') AND u.agency_id = kw.current_agency_id()
		    AND (NOT p_full OR t.level = 'full')
		    AND NOT EXISTS (SELECT 1 FROM kw.consent_withdrawals w
			WHERE w.episode_id = t.episode_id AND w.agency_id = kw.current_agency_id())
	) s);
END
$$;

------------------------------------------------------------------------------
-- Transfers of keyworker

CREATE TABLE kw.transfers (
	id			uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	episode_id		uuid NOT NULL REFERENCES kw.episodes,
	kind			text NOT NULL CHECK (kind IN ('in_county', 'out_of_county',
				    'temporary')),
	reason			text NOT NULL CHECK (reason IN ('moving_within_county',
				    'moving_out_of_county', 'change_of_setting',
				    'keyworker_changing_role', 'needs_escalated',
				    'family_request', 'family_not_engaging',
				    'keyworker_unavailable', 'other')),
	from_keyworker_id	uuid NOT NULL REFERENCES kw.users,
	to_keyworker_id		uuid REFERENCES kw.users,
	receiving_authority	text CHECK (length(receiving_authority) BETWEEN 1 AND 200),
	family_told_at		timestamptz NOT NULL,
	changeover_on		date NOT NULL,
	ends_on			date,
	keep_former_on_team	boolean NOT NULL DEFAULT true,
	status			text NOT NULL DEFAULT 'proposed' CHECK (status IN
				    ('proposed', 'accepted', 'declined', 'completed', 'ended')),
	note			text CHECK (length(note) <= 5000),
	proposed_by		uuid NOT NULL REFERENCES kw.users,
	decided_at		timestamptz,
	completed_at		timestamptz,
	ended_at		timestamptz,
	version			integer NOT NULL DEFAULT 1,
	created_at		timestamptz NOT NULL DEFAULT now(),
	CHECK ((kind = 'out_of_county') = (to_keyworker_id IS NULL)),
	CHECK ((kind = 'out_of_county') = (receiving_authority IS NOT NULL)),
	CHECK ((kind = 'temporary') = (ends_on IS NOT NULL)),
	CHECK (ends_on IS NULL OR ends_on > changeover_on)
);
CREATE INDEX transfers_episode_idx ON kw.transfers (episode_id, created_at, id);
CREATE INDEX transfers_to_idx ON kw.transfers (to_keyworker_id) WHERE status = 'proposed';
-- One transfer in progress per episode at a time.
CREATE UNIQUE INDEX transfers_one_open_key ON kw.transfers (episode_id)
	WHERE status IN ('proposed', 'accepted');
-- One temporary cover running at a time.
CREATE UNIQUE INDEX transfers_one_cover_key ON kw.transfers (episode_id)
	WHERE kind = 'temporary' AND status = 'completed';

------------------------------------------------------------------------------
-- Step up

CREATE TABLE kw.step_ups (
	id				uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	episode_id			uuid NOT NULL REFERENCES kw.episodes,
	area_id				uuid NOT NULL REFERENCES kw.areas,
	-- The six questions (domain step 9).
	unmet_needs			text NOT NULL CHECK (length(unmet_needs) BETWEEN 1 AND 10000),
	what_was_tried			text NOT NULL CHECK (length(what_was_tried) BETWEEN 1 AND 10000),
	more_within_resources		text NOT NULL CHECK (length(more_within_resources) BETWEEN 1 AND 10000),
	impact_so_far			text NOT NULL CHECK (length(impact_so_far) BETWEEN 1 AND 10000),
	evidence_higher_level		text NOT NULL CHECK (length(evidence_higher_level) BETWEEN 1 AND 10000),
	advice_sought			text NOT NULL CHECK (length(advice_sought) BETWEEN 1 AND 10000),
	safeguarding_referral_made	boolean NOT NULL DEFAULT false,
	status				text NOT NULL DEFAULT 'pending' CHECK (status IN
					    ('pending', 'accepted', 'declined', 'more_information',
					    'withdrawn')),
	decision_note			text CHECK (length(decision_note) <= 10000),
	action_impact_meeting_at	timestamptz,
	requested_by			uuid NOT NULL REFERENCES kw.users,
	decided_by			uuid REFERENCES kw.users,
	decided_at			timestamptz,
	created_at			timestamptz NOT NULL DEFAULT now(),
	CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE INDEX step_ups_area_idx ON kw.step_ups (area_id, status, created_at, id);
CREATE UNIQUE INDEX step_ups_one_pending_key ON kw.step_ups (episode_id) WHERE status = 'pending';

------------------------------------------------------------------------------
-- Step down: statutory services hand a family back to Families First.

CREATE TABLE kw.step_downs (
	id			uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	area_id			uuid NOT NULL REFERENCES kw.areas,
	family			jsonb NOT NULL,	-- as POST /episodes: family, members
	needs			text NOT NULL CHECK (length(needs) BETWEEN 1 AND 20000),
	consent_given_by	text NOT NULL CHECK (length(consent_given_by) BETWEEN 1 AND 200),
	consent_obtained_at	timestamptz NOT NULL,
	from_episode_id		uuid REFERENCES kw.episodes,
	suggested_keyworker_id	uuid REFERENCES kw.users,
	status			text NOT NULL DEFAULT 'received' CHECK (status IN
				    ('received', 'allocated')),
	decided_on		date NOT NULL DEFAULT kw.today(),
	allocated_agency_id	uuid REFERENCES kw.agencies,
	allocated_keyworker_id	uuid REFERENCES kw.users,
	episode_id		uuid REFERENCES kw.episodes,
	created_by		uuid REFERENCES kw.users,
	created_by_client	uuid REFERENCES kw.api_clients,
	allocated_by		uuid REFERENCES kw.users,
	allocated_at		timestamptz,
	created_at		timestamptz NOT NULL DEFAULT now(),
	CHECK ((created_by IS NULL) <> (created_by_client IS NULL)),
	CHECK ((status = 'allocated') = (episode_id IS NOT NULL))
);
CREATE INDEX step_downs_area_idx ON kw.step_downs (area_id, status, created_at, id);

------------------------------------------------------------------------------
-- Closure

CREATE TABLE kw.closures (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	episode_id	uuid NOT NULL REFERENCES kw.episodes,
	reason		text NOT NULL CHECK (reason IN ('outcomes_met', 'stepped_up',
			    'moved_away', 'transferred_out', 'consent_withdrawn',
			    'family_disengaged', 'other')),
	family_views	text NOT NULL CHECK (length(family_views) BETWEEN 1 AND 20000),
	children_views	text NOT NULL CHECK (length(children_views) BETWEEN 1 AND 20000),
	feedback	text CHECK (length(feedback) <= 20000),
	closed_by	uuid NOT NULL REFERENCES kw.users,
	closed_at	timestamptz NOT NULL DEFAULT now(),
	reopened_by	uuid REFERENCES kw.users,
	reopened_at	timestamptz,
	reopen_reason	text CHECK (length(reopen_reason) <= 5000)
);
CREATE INDEX closures_episode_idx ON kw.closures (episode_id, closed_at);

INSERT INTO kw.settings (name, value, minimum, maximum, description) VALUES
	('transfer_consent_review_days', 14, 1, 90,
	    'Days before proposing a transfer within which consent must have been reviewed.'),
	('step_up_notes_days', 14, 1, 90,
	    'Days within which the case notes must have been updated to request a step up.'),
	('reopen_days', 90, 1, 730,
	    'Days after closure during which an episode can be reopened.');

------------------------------------------------------------------------------
-- Row-level security for the new tables: full access reads; who writes is
-- checked by the operations and held here.

ALTER TABLE kw.transfers ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.step_ups ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.step_downs ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.closures ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.transfers FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.step_ups FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.step_downs FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.closures FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON kw.transfers TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.step_ups TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.step_downs TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.closures TO CURRENT_USER USING (true) WITH CHECK (true);

-- Transfers: full access to the episode, and the proposed new keyworker
-- (who may not see the episode until the changeover).
CREATE POLICY transfers_read ON kw.transfers FOR SELECT TO keywork_api USING (
	to_keyworker_id = (SELECT kw.current_user_id())
	OR episode_id = ANY ((SELECT kw.my_episodes(true))::uuid[])
	OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = transfers.episode_id AND (
	    e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])
	    OR e.area_id = ANY ((SELECT kw.my_areas())::uuid[]))));

CREATE POLICY step_ups_read ON kw.step_ups FOR SELECT TO keywork_api USING (
	area_id = ANY ((SELECT kw.my_areas())::uuid[])
	OR episode_id = ANY ((SELECT kw.my_episodes(true))::uuid[])
	OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = step_ups.episode_id
	    AND e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])));

-- Step downs: the area's coordinators, and the partner system that sent it.
CREATE POLICY step_downs_read ON kw.step_downs FOR SELECT TO keywork_api USING (
	area_id = ANY ((SELECT kw.my_areas())::uuid[])
	OR created_by_client = (SELECT kw.current_client_id()));

CREATE POLICY closures_read ON kw.closures FOR SELECT TO keywork_api USING (
	episode_id = ANY ((SELECT kw.my_episodes(true))::uuid[])
	OR EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = closures.episode_id AND (
	    e.keyworker_id = ANY ((SELECT kw.my_reports())::uuid[])
	    OR e.area_id = ANY ((SELECT kw.my_areas())::uuid[]))));

GRANT SELECT ON kw.transfers, kw.step_ups, kw.step_downs, kw.closures TO keywork_api;
