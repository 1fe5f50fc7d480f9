-- keywork 0004: the episode operations. Each api.* function is one request:
-- it authenticates, then reads and writes as the API role, so row-level
-- security (0003) applies to every statement. The checks here give clear
-- answers (404 for what the caller may not see, 403 for what they see but
-- may not do, 422 naming the rule); the policies hold even without them.

------------------------------------------------------------------------------
-- Helpers

-- Is p_user an active practitioner? Only whether, nothing else.
CREATE FUNCTION kw.is_practitioner(p_user uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = kw, pg_temp AS $$
	SELECT kw.signed_in() AND EXISTS (SELECT 1 FROM kw.users u
	    WHERE u.id = p_user AND u.active AND 'practitioner' = ANY (u.roles))
$$;
REVOKE ALL ON FUNCTION kw.is_practitioner(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.is_practitioner(uuid) TO keywork_api;

-- The caller's level on an episode they can see, from the kw.my_* arrays.
CREATE FUNCTION kw.access_of(p_id uuid, p_keyworker uuid, p_area uuid,
    p_full uuid[], p_reports uuid[], p_areas uuid[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p_id = ANY (p_full) OR p_keyworker = ANY (p_reports)
	    OR p_area = ANY (p_areas) THEN 'full' ELSE 'limited' END
$$;

-- The caller's level on p_id: 'full', 'limited', or NULL when they cannot
-- see it at all.
CREATE FUNCTION kw.episode_access(p_id uuid) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT kw.access_of(e.id, e.keyworker_id, e.area_id, kw.my_episodes(true),
	    kw.my_reports(), kw.my_areas())
	FROM kw.episodes e WHERE e.id = p_id
$$;

-- The keyworker or their manager: who changes the episode and its team.
CREATE FUNCTION kw.episode_writer(p_id uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM kw.episodes e WHERE e.id = p_id AND
	    (e.keyworker_id = kw.current_user_id() OR e.keyworker_id = ANY (kw.my_reports())))
$$;

-- 404 unless the caller sees the episode; 403 unless at full level. Returns
-- the episode.
CREATE FUNCTION kw.require_full(p_id uuid, p_what text) RETURNS kw.episodes
LANGUAGE plpgsql STABLE AS $$
DECLARE
	e kw.episodes;
BEGIN
	SELECT * INTO e FROM kw.episodes WHERE id = p_id;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such episode.');
	END IF;
	IF kw.episode_access(p_id) <> 'full' THEN
		RAISE EXCEPTION USING ERRCODE = 'KW403', MESSAGE = format(
		    'Limited access shows the episode summary only; full access is needed for %s.',
		    p_what);
	END IF;
	RETURN e;
END
$$;

-- 404 unless the caller sees the episode; 403 unless keyworker or manager.
CREATE FUNCTION kw.require_writer(p_id uuid, p_what text) RETURNS kw.episodes
LANGUAGE plpgsql STABLE AS $$
DECLARE
	e kw.episodes;
BEGIN
	SELECT * INTO e FROM kw.episodes WHERE id = p_id;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such episode.');
	END IF;
	IF NOT kw.episode_writer(p_id) THEN
		RAISE EXCEPTION USING ERRCODE = 'KW403', MESSAGE = format(
		    'Only the keyworker and their manager %s.', p_what);
	END IF;
	RETURN e;
END
$$;

CREATE FUNCTION kw.require_open(e kw.episodes) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF e.status = 'closed' THEN
		PERFORM kw.rule('closed_episode_read_only',
		    'The episode is closed, and a closed episode is read-only: reopen it first.');
	END IF;
END
$$;

CREATE FUNCTION kw.staff_json(p_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', s.id, 'name', s.name, 'email', s.email,
	    'agency_id', s.agency_id)
	FROM kw.staff_v s WHERE s.id = p_id
$$;

CREATE FUNCTION kw.episode_overdue(e kw.episodes) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT e.status <> 'closed' AND (
	    (e.assessment_completed_at IS NULL AND e.assessment_due < kw.today())
	    OR (e.first_taf_meeting_held_at IS NULL AND e.first_taf_meeting_due < kw.today()))
$$;

-- The summary: what every level sees.
CREATE FUNCTION kw.episode_json(e kw.episodes, p_access text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', e.id, 'status', e.status, 'access', p_access,
	    'family_id', e.family_id, 'family_name', e.family_name, 'area_id', e.area_id,
	    'keyworker_id', e.keyworker_id, 'keyworker', kw.staff_json(e.keyworker_id),
	    'lead_agency_id', e.lead_agency_id, 'registered_at', e.registered_at,
	    'assessment_due', e.assessment_due,
	    'first_taf_meeting_due', e.first_taf_meeting_due,
	    'assessment_completed_at', e.assessment_completed_at,
	    'first_taf_meeting_held_at', e.first_taf_meeting_held_at,
	    'closed_at', e.closed_at, 'overdue', kw.episode_overdue(e),
	    'created_at', e.created_at, 'updated_at', e.updated_at)
$$;

CREATE FUNCTION kw.member_json(m kw.members) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', m.id, 'episode_id', m.episode_id,
	    'given_name', m.given_name, 'family_name', m.family_name,
	    'date_of_birth', m.date_of_birth, 'relationship', m.relationship,
	    'is_child', m.is_child, 'lives_in_household', m.lives_in_household,
	    'included', m.included, 'not_included_reason', m.not_included_reason,
	    'created_at', m.created_at, 'updated_at', m.updated_at)
$$;

-- One episode as the caller may see it: the summary, and for full access
-- the family's details and its members. 404 when not visible.
CREATE FUNCTION kw.episode_out(p_id uuid, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	e kw.episodes;
	acc text;
BEGIN
	SELECT * INTO e FROM kw.episodes WHERE id = p_id;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such episode.');
	END IF;
	acc := kw.access_of(e.id, e.keyworker_id, e.area_id, kw.my_episodes(true),
	    kw.my_reports(), kw.my_areas());
	body := kw.episode_json(e, acc);
	IF acc = 'full' THEN
		body := body || jsonb_build_object(
		    'family', (SELECT jsonb_build_object('id', f.id, 'name', f.name,
			'area_id', f.area_id, 'postcode', f.postcode)
			FROM kw.families f WHERE f.id = e.family_id),
		    'members', coalesce((SELECT jsonb_agg(kw.member_json(m)
			ORDER BY m.created_at, m.id)
			FROM kw.members m WHERE m.episode_id = e.id), '[]'::jsonb));
	END IF;
	etag := kw.etag(e.version);
END
$$;

-- A child living in the household takes part unless the parents refuse,
-- and the refusal is recorded (seed 000: "unless parents specifically
-- refuse, all child siblings living within the house should be included").
CREATE FUNCTION kw.check_member(m jsonb) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF (m->>'is_child')::boolean AND coalesce((m->>'lives_in_household')::boolean, true)
	    AND NOT coalesce((m->>'included')::boolean, true)
	    AND coalesce(m->>'not_included_reason', '') = '' THEN
		PERFORM kw.rule('siblings_included_unless_parents_refuse',
		    'Every child living in the household takes part unless the parents '
		    'refuse: record their refusal in not_included_reason.');
	END IF;
	IF NOT coalesce((m->>'included')::boolean, true)
	    AND coalesce(m->>'not_included_reason', '') = '' THEN
		PERFORM kw.rule('member_not_included_reason',
		    'A member who does not take part needs not_included_reason.');
	END IF;
	IF (m->>'date_of_birth')::date > kw.today() THEN
		PERFORM kw.rule('date_of_birth_in_past', 'A date of birth cannot be in the future.');
	END IF;
END
$$;

------------------------------------------------------------------------------
-- Idempotency-Key: the first request with a key stores its response; a
-- retry with the same key and request gets that response back; the same
-- key with a different request is refused. Keys last 24 hours.

-- NULL when the request should run (and the key is now claimed by this
-- transaction), or the stored replay. A concurrent retry waits here on the
-- key's row until the first request commits or rolls back.
CREATE FUNCTION kw.idem_claim(p_key text, p_scope text, p_body jsonb)
RETURNS kw.idempotency_keys
LANGUAGE plpgsql AS $$
DECLARE
	me uuid := kw.current_principal();
	h text;
	r kw.idempotency_keys;
BEGIN
	IF p_key IS NULL THEN
		RETURN NULL;
	END IF;
	h := encode(sha256(convert_to(p_scope || E'\n' || p_body::text, 'UTF8')), 'hex');
	DELETE FROM kw.idempotency_keys WHERE principal = me AND key = p_key
	    AND created_at < now() - interval '24 hours';
	INSERT INTO kw.idempotency_keys (principal, key, request_hash)
	VALUES (me, p_key, h) ON CONFLICT DO NOTHING;
	IF FOUND THEN
		RETURN NULL;
	END IF;
	SELECT * INTO r FROM kw.idempotency_keys WHERE principal = me AND key = p_key;
	IF r.request_hash <> h OR r.response IS NULL THEN
		PERFORM kw.rule('idempotency_key_reused',
		    'This Idempotency-Key was used for a different request: '
		    'use a new key for a new request.');
	END IF;
	RETURN r;
END
$$;

CREATE FUNCTION kw.idem_store(p_key text, p_response jsonb, p_etag text) RETURNS void
LANGUAGE sql AS $$
	UPDATE kw.idempotency_keys SET response = p_response, etag = p_etag
	WHERE p_key IS NOT NULL AND principal = kw.current_principal() AND key = p_key
$$;

------------------------------------------------------------------------------
-- Registration

-- The open episode, if any, that already holds one of these children.
-- Runs as the owner (it must look beyond what the caller sees), and holds
-- a lock per child until the transaction ends, so that two registrations
-- of the same family at once cannot both pass.
CREATE FUNCTION kw.open_episode_for(p_members jsonb) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	k text;
	found_id uuid;
BEGIN
	IF NOT kw.signed_in() THEN
		RETURN NULL;
	END IF;
	FOR k IN SELECT DISTINCT lower(x->>'given_name') || '|' || lower(x->>'family_name')
	    || '|' || (x->>'date_of_birth')
	    FROM jsonb_array_elements(p_members) x
	    WHERE (x->>'is_child')::boolean ORDER BY 1 LOOP
		PERFORM pg_advisory_xact_lock(hashtextextended(k, 7201));
	END LOOP;
	SELECT m.episode_id INTO found_id
	FROM jsonb_array_elements(p_members) x
	JOIN kw.members m ON lower(m.family_name) = lower(x->>'family_name')
	    AND m.date_of_birth = (x->>'date_of_birth')::date
	    AND lower(m.given_name) = lower(x->>'given_name') AND m.is_child
	JOIN kw.episodes e ON e.id = m.episode_id AND e.status <> 'closed'
	WHERE (x->>'is_child')::boolean
	LIMIT 1;
	RETURN found_id;
END
$$;
REVOKE ALL ON FUNCTION kw.open_episode_for(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.open_episode_for(jsonb) TO keywork_api;

-- Register a family and open its episode as the current user; returns the
-- episode's id. Used by api.create_episode and the demo data.
CREATE FUNCTION kw.register_episode(p_body jsonb) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
	me uuid := kw.current_user_id();
	fam jsonb := p_body->'family';
	vc jsonb := p_body->'verbal_consent';
	keyworker uuid := (p_body->>'keyworker_id')::uuid;
	area uuid := (p_body->'family'->>'area_id')::uuid;
	agency uuid := (p_body->>'lead_agency_id')::uuid;
	v_family uuid := gen_random_uuid();
	v_episode uuid := gen_random_uuid();
	registered timestamptz := now();	-- the column's default: the transaction's start
	consent_at timestamptz;
	dup uuid;
	m jsonb;
BEGIN
	IF me IS NULL OR NOT (kw.has_role('practitioner') OR kw.has_role('manager')
	    OR kw.has_role('coordinator')) THEN
		PERFORM kw.raise('KW403', 'Registering a family needs the practitioner, '
		    'manager or coordinator role.');
	END IF;
	-- Seed 000: "Verbal consent should be obtained prior to family registration."
	IF vc IS NULL OR jsonb_typeof(vc) <> 'object' OR coalesce(vc->>'obtained_at', '') = ''
	    OR coalesce(vc->>'given_by', '') = '' THEN
		PERFORM kw.rule('verbal_consent_before_registration',
		    'Verbal consent is obtained from the family before it is registered: '
		    'give verbal_consent with obtained_at and given_by.');
	END IF;
	consent_at := (vc->>'obtained_at')::timestamptz;
	IF consent_at > registered + interval '5 minutes' THEN
		PERFORM kw.rule('verbal_consent_before_registration',
		    'Verbal consent is obtained before registration: obtained_at is in the future.');
	END IF;
	IF NOT EXISTS (SELECT 1 FROM jsonb_array_elements(p_body->'members') x
	    WHERE (x->>'is_child')::boolean) THEN
		PERFORM kw.rule('family_has_child',
		    'An early-help episode is for a family with children: list at least one child.');
	END IF;
	FOR m IN SELECT x FROM jsonb_array_elements(p_body->'members') x LOOP
		PERFORM kw.check_member(m);
	END LOOP;
	IF NOT EXISTS (SELECT 1 FROM kw.areas WHERE id = area) THEN
		PERFORM kw.rule('area_exists', 'family.area_id names no area.');
	END IF;
	IF NOT EXISTS (SELECT 1 FROM kw.agencies WHERE id = agency) THEN
		PERFORM kw.rule('agency_exists', 'lead_agency_id names no agency.');
	END IF;
	IF NOT kw.is_practitioner(keyworker) THEN
		PERFORM kw.rule('keyworker_is_practitioner',
		    'keyworker_id must name an active practitioner.');
	END IF;
	IF NOT (keyworker = me OR keyworker = ANY (kw.my_reports())
	    OR area = ANY (kw.my_areas())) THEN
		PERFORM kw.raise('KW403', 'A practitioner registers families they will keywork '
		    'themselves; a manager may name one of their practitioners, and a '
		    'coordinator any practitioner for a family in their area.');
	END IF;

	dup := kw.open_episode_for(p_body->'members');
	IF dup IS NOT NULL THEN
		-- Say which episode only to those who may see it.
		IF EXISTS (SELECT 1 FROM kw.episodes WHERE id = dup) THEN
			RAISE EXCEPTION USING ERRCODE = 'KW409',
			    MESSAGE = 'This family already has an open episode.',
			    DETAIL = jsonb_build_object('existing_episode_id', dup)::text;
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KW409',
		    MESSAGE = 'This family already has an open episode, which you cannot see: '
		    'ask the Families First coordinator for the area about it.';
	END IF;

	INSERT INTO kw.families (id, name, area_id, postcode)
	VALUES (v_family, fam->>'name', area, fam->>'postcode');
	INSERT INTO kw.episodes (id, family_id, family_name, area_id, keyworker_id,
	    lead_agency_id, registered_by, assessment_due, first_taf_meeting_due)
	VALUES (v_episode, v_family, fam->>'name', area, keyworker, agency,
	    me, kw.local_date(registered) + 21, kw.local_date(registered) + 42);
	-- Members keep the order given: lists sort by (created_at, id).
	INSERT INTO kw.members (episode_id, given_name, family_name, date_of_birth,
	    relationship, is_child, lives_in_household, included, not_included_reason,
	    created_at, updated_at)
	SELECT v_episode, x->>'given_name', x->>'family_name', (x->>'date_of_birth')::date,
	    x->>'relationship', (x->>'is_child')::boolean,
	    coalesce((x->>'lives_in_household')::boolean, true),
	    coalesce((x->>'included')::boolean, true), x->>'not_included_reason',
	    registered + n * interval '1 microsecond', registered
	FROM jsonb_array_elements(p_body->'members') WITH ORDINALITY AS t (x, n);
	INSERT INTO kw.consents (episode_id, kind, given_by, obtained_at, statement, recorded_by)
	VALUES (v_episode, 'verbal', vc->>'given_by', consent_at, vc->>'statement', me);
	RETURN v_episode;
END
$$;

CREATE FUNCTION api.create_episode(p_token text, p_rid text, p_addr text,
    p_idem_key text, p_body jsonb, OUT body jsonb, OUT etag text, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
	prior kw.idempotency_keys;
	v_episode uuid;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	prior := kw.idem_claim(p_idem_key, 'createEpisode', p_body);
	IF prior.principal IS NOT NULL THEN
		body := prior.response;
		etag := prior.etag;
		replayed := true;
		RETURN;
	END IF;
	v_episode := kw.register_episode(p_body);
	SELECT o.body, o.etag INTO body, etag FROM kw.episode_out(v_episode) o;
	replayed := false;
	PERFORM kw.idem_store(p_idem_key, body, etag);
END
$$;

------------------------------------------------------------------------------
-- Reading and changing episodes

-- The episodes the caller sees, oldest first, a page at a time. Row-level
-- security (episodes_read) decides which; this query only makes finding
-- them cheap. A plain ordered scan under that policy cannot be planned well:
-- the policy's arrays come from InitPlans, unknown when planning, so the
-- planner walks episodes_created_idx and filters every row, which for a
-- keyworker of 50 families among 100,000 episodes means tens of thousands
-- of rows per page. Instead each arm of the policy is fetched through its
-- own index, at most a page per arm (per report, per area), in list order:
--   episodes held (keyworker, TAF member, partner): by id, episodes_pkey;
--   a manager's reports' episodes: episodes_keyworker_idx, per report;
--   a coordinator's area: episodes_area_idx, per area;
-- and the page is the first p_limit of their union, duplicates dropped. The
-- arms are exactly the policy's arms, which still apply to every row, so
-- the rows are those of the plain scan. One caller is the exception: a
-- partner system holds every episode of its agency's practitioners (tens
-- of thousands), too many to fetch by id for one page, and checking each
-- against the policy's array of them would cost their number squared. It
-- gets the plain ordered scan, in which its episodes are dense. On the
-- first page the cursor is
-- (-infinity, NULL), which every row passes (created_at is never
-- -infinity): one condition for every page, an index condition in a cached
-- generic plan as well. It is a variable, not coalesce() in the query,
-- which PostgreSQL would not treat as leakproof and so would check only
-- after the policy, row by row.
CREATE FUNCTION api.list_episodes(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_at timestamptz, p_after_id uuid, p_status text,
    p_keyworker uuid, p_area uuid, p_overdue boolean)
RETURNS jsonb
LANGUAGE plpgsql
-- One plan per connection, the generic one, planned without the page size
-- or the cursor: planning this statement costs about as much as running it.
-- Left to itself, that plan's estimates favour a bitmap scan that ORs the
-- policy's own arms (all indexed) and sorts everything the caller sees in
-- an area (5,000 episodes) for each page, over the ordered index scan that
-- stops after a page. With bitmap scans off, every arm is an ordered index
-- scan (or, for the ids, a plain index scan), in any plan.
SET plan_cache_mode = force_generic_plan
SET enable_bitmapscan = off
AS $$
DECLARE
	full_ids uuid[];
	reports uuid[];
	areas uuid[];
	after_at timestamptz := coalesce(p_after_at, '-infinity');
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	full_ids := kw.my_episodes(true);
	reports := kw.my_reports();
	areas := kw.my_areas();
	IF cardinality(full_ids) > 2000 THEN
		RETURN coalesce((SELECT jsonb_agg(kw.episode_json(e, kw.access_of(e.id,
		    e.keyworker_id, e.area_id, full_ids, reports, areas))
		    ORDER BY e.created_at, e.id)
		FROM (SELECT * FROM kw.episodes x
		    WHERE (x.created_at, x.id) > (after_at, p_after_id)
			AND (p_status IS NULL OR x.status = p_status)
			AND (p_keyworker IS NULL OR x.keyworker_id = p_keyworker)
			AND (p_area IS NULL OR x.area_id = p_area)
			AND (p_overdue IS NULL OR kw.episode_overdue(x) = p_overdue)
		    ORDER BY x.created_at, x.id LIMIT p_limit) e), '[]'::jsonb);
	END IF;
	RETURN coalesce((SELECT jsonb_agg(kw.episode_json(e, kw.access_of(e.id,
	    e.keyworker_id, e.area_id, full_ids, reports, areas)) ORDER BY e.created_at, e.id)
	FROM (SELECT DISTINCT ON (v.created_at, v.id) * FROM (
	    (SELECT x.* FROM kw.episodes x
	    WHERE x.id = ANY ((SELECT kw.my_episodes(false))::uuid[])
		AND (x.created_at, x.id) > (after_at, p_after_id)
		AND (p_status IS NULL OR x.status = p_status)
		AND (p_keyworker IS NULL OR x.keyworker_id = p_keyworker)
		AND (p_area IS NULL OR x.area_id = p_area)
		AND (p_overdue IS NULL OR kw.episode_overdue(x) = p_overdue)
	    ORDER BY x.created_at, x.id LIMIT p_limit)
	    UNION ALL
	    SELECT y.* FROM unnest((SELECT kw.my_reports())::uuid[]) r (id)
	    CROSS JOIN LATERAL (SELECT x.* FROM kw.episodes x
		WHERE x.keyworker_id = r.id
		    AND (x.created_at, x.id) > (after_at, p_after_id)
		    AND (p_status IS NULL OR x.status = p_status)
		    AND (p_keyworker IS NULL OR x.keyworker_id = p_keyworker)
		    AND (p_area IS NULL OR x.area_id = p_area)
		    AND (p_overdue IS NULL OR kw.episode_overdue(x) = p_overdue)
		ORDER BY x.created_at, x.id LIMIT p_limit) y
	    UNION ALL
	    SELECT y.* FROM unnest((SELECT kw.my_areas())::uuid[]) a (id)
	    CROSS JOIN LATERAL (SELECT x.* FROM kw.episodes x
		WHERE x.area_id = a.id
		    AND (x.created_at, x.id) > (after_at, p_after_id)
		    AND (p_status IS NULL OR x.status = p_status)
		    AND (p_keyworker IS NULL OR x.keyworker_id = p_keyworker)
		    AND (p_area IS NULL OR x.area_id = p_area)
		    AND (p_overdue IS NULL OR kw.episode_overdue(x) = p_overdue)
		ORDER BY x.created_at, x.id LIMIT p_limit) y
	    ) v ORDER BY v.created_at, v.id LIMIT p_limit) e), '[]'::jsonb);
END
$$;

CREATE FUNCTION api.get_episode(p_token text, p_rid text, p_addr text, p_id uuid,
    OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	SELECT o.body, o.etag INTO body, etag FROM kw.episode_out(p_id) o;
END
$$;

CREATE FUNCTION api.update_episode(p_token text, p_rid text, p_addr text, p_id uuid,
    p_if_match text, p_body jsonb, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	e kw.episodes;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	e := kw.require_writer(p_id, 'change an episode');
	SELECT * INTO e FROM kw.episodes WHERE id = p_id FOR UPDATE;
	IF p_if_match IS DISTINCT FROM kw.etag(e.version) AND p_if_match <> '*' THEN
		PERFORM kw.raise('KW412', 'The episode has changed since it was read: read it again.');
	END IF;
	PERFORM kw.require_open(e);
	IF p_body ? 'lead_agency_id' AND NOT EXISTS (SELECT 1 FROM kw.agencies
	    WHERE id = (p_body->>'lead_agency_id')::uuid) THEN
		PERFORM kw.rule('agency_exists', 'lead_agency_id names no agency.');
	END IF;
	UPDATE kw.episodes SET
	    family_name = coalesce(p_body->'family'->>'name', family_name),
	    lead_agency_id = coalesce((p_body->>'lead_agency_id')::uuid, lead_agency_id),
	    version = version + 1,
	    updated_at = now()
	WHERE id = p_id;
	IF p_body ? 'family' THEN
		UPDATE kw.families SET
		    name = coalesce(p_body->'family'->>'name', name),
		    postcode = CASE WHEN p_body->'family' ? 'postcode'
			THEN p_body->'family'->>'postcode' ELSE postcode END
		WHERE id = e.family_id;
	END IF;
	SELECT o.body, o.etag INTO body, etag FROM kw.episode_out(p_id) o;
END
$$;

------------------------------------------------------------------------------
-- Members

CREATE FUNCTION api.list_members(p_token text, p_rid text, p_addr text, p_id uuid,
    p_limit integer, p_after_at timestamptz, p_after_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_full(p_id, 'family members');
	RETURN coalesce((SELECT jsonb_agg(kw.member_json(m) ORDER BY m.created_at, m.id)
	FROM (SELECT * FROM kw.members x WHERE x.episode_id = p_id
	    AND (p_after_at IS NULL OR (x.created_at, x.id) > (p_after_at, p_after_id))
	    ORDER BY x.created_at, x.id LIMIT p_limit) m), '[]'::jsonb);
END
$$;

CREATE FUNCTION api.create_member(p_token text, p_rid text, p_addr text, p_id uuid,
    p_body jsonb, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	e kw.episodes;
	m kw.members;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	e := kw.require_full(p_id, 'family members');
	PERFORM kw.require_open(e);
	PERFORM kw.check_member(p_body);
	INSERT INTO kw.members (episode_id, given_name, family_name, date_of_birth,
	    relationship, is_child, lives_in_household, included, not_included_reason)
	VALUES (p_id, p_body->>'given_name', p_body->>'family_name',
	    (p_body->>'date_of_birth')::date, p_body->>'relationship',
	    (p_body->>'is_child')::boolean,
	    coalesce((p_body->>'lives_in_household')::boolean, true),
	    coalesce((p_body->>'included')::boolean, true), p_body->>'not_included_reason')
	RETURNING * INTO m;
	body := kw.member_json(m);
	etag := kw.etag(m.version);
END
$$;

CREATE FUNCTION api.update_member(p_token text, p_rid text, p_addr text, p_id uuid,
    p_member_id uuid, p_if_match text, p_body jsonb, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	e kw.episodes;
	m kw.members;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	e := kw.require_full(p_id, 'family members');
	SELECT * INTO m FROM kw.members WHERE id = p_member_id AND episode_id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such member on this episode.');
	END IF;
	IF p_if_match IS DISTINCT FROM kw.etag(m.version) AND p_if_match <> '*' THEN
		PERFORM kw.raise('KW412', 'The member has changed since it was read: read it again.');
	END IF;
	PERFORM kw.require_open(e);
	PERFORM kw.check_member(kw.member_json(m) || p_body);
	UPDATE kw.members SET
	    given_name = coalesce(p_body->>'given_name', given_name),
	    family_name = coalesce(p_body->>'family_name', family_name),
	    date_of_birth = coalesce((p_body->>'date_of_birth')::date, date_of_birth),
	    relationship = coalesce(p_body->>'relationship', relationship),
	    is_child = coalesce((p_body->>'is_child')::boolean, is_child),
	    lives_in_household = coalesce((p_body->>'lives_in_household')::boolean,
		lives_in_household),
	    included = coalesce((p_body->>'included')::boolean, included),
	    not_included_reason = CASE WHEN p_body ? 'not_included_reason'
		THEN p_body->>'not_included_reason' ELSE not_included_reason END,
	    version = version + 1,
	    updated_at = now()
	WHERE id = p_member_id
	RETURNING * INTO m;
	body := kw.member_json(m);
	etag := kw.etag(m.version);
END
$$;

------------------------------------------------------------------------------
-- The team

CREATE FUNCTION kw.team_json(t kw.team_members) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('episode_id', t.episode_id, 'user_id', t.user_id,
	    'level', t.level, 'user', kw.staff_json(t.user_id), 'added_by', t.added_by,
	    'created_at', t.created_at, 'updated_at', t.updated_at)
$$;

CREATE FUNCTION api.list_team(p_token text, p_rid text, p_addr text, p_id uuid,
    p_limit integer, p_after_at timestamptz, p_after_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_full(p_id, 'the team');
	RETURN coalesce((SELECT jsonb_agg(kw.team_json(t) ORDER BY t.created_at, t.user_id)
	FROM (SELECT * FROM kw.team_members x WHERE x.episode_id = p_id
	    AND (p_after_at IS NULL OR (x.created_at, x.user_id) > (p_after_at, p_after_id))
	    ORDER BY x.created_at, x.user_id LIMIT p_limit) t), '[]'::jsonb);
END
$$;

-- Shared by adding a member and approving an access request.
CREATE FUNCTION kw.team_check_candidate(e kw.episodes, p_user uuid) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF NOT kw.is_practitioner(p_user) THEN
		PERFORM kw.rule('team_member_is_practitioner',
		    'A TAF member must be an active practitioner.');
	END IF;
	IF p_user = e.keyworker_id THEN
		PERFORM kw.raise('KW409', 'That practitioner is the episode''s keyworker.');
	END IF;
END
$$;

CREATE FUNCTION api.add_team_member(p_token text, p_rid text, p_addr text, p_id uuid,
    p_body jsonb, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	e kw.episodes;
	t kw.team_members;
	who uuid := (p_body->>'user_id')::uuid;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	e := kw.require_writer(p_id, 'manage the team');
	PERFORM kw.require_open(e);
	PERFORM kw.team_check_candidate(e, who);
	INSERT INTO kw.team_members (episode_id, user_id, level, added_by)
	VALUES (p_id, who, p_body->>'level', kw.current_user_id())
	ON CONFLICT (episode_id, user_id) DO NOTHING
	RETURNING * INTO t;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW409', 'That practitioner is already on the team: '
		    'change their level instead.');
	END IF;
	body := kw.team_json(t);
	etag := kw.etag(t.version);
END
$$;

CREATE FUNCTION api.update_team_member(p_token text, p_rid text, p_addr text,
    p_id uuid, p_user uuid, p_if_match text, p_body jsonb, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	e kw.episodes;
	t kw.team_members;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	e := kw.require_writer(p_id, 'manage the team');
	SELECT * INTO t FROM kw.team_members WHERE episode_id = p_id AND user_id = p_user
	FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'That practitioner is not on the team.');
	END IF;
	IF p_if_match IS DISTINCT FROM kw.etag(t.version) AND p_if_match <> '*' THEN
		PERFORM kw.raise('KW412', 'The team member has changed since it was read: read it again.');
	END IF;
	PERFORM kw.require_open(e);
	UPDATE kw.team_members SET level = p_body->>'level', version = version + 1,
	    updated_at = now()
	WHERE episode_id = p_id AND user_id = p_user
	RETURNING * INTO t;
	body := kw.team_json(t);
	etag := kw.etag(t.version);
END
$$;

CREATE FUNCTION api.remove_team_member(p_token text, p_rid text, p_addr text,
    p_id uuid, p_user uuid)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	e kw.episodes;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	e := kw.require_writer(p_id, 'manage the team');
	DELETE FROM kw.team_members WHERE episode_id = p_id AND user_id = p_user;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'That practitioner is not on the team.');
	END IF;
END
$$;

------------------------------------------------------------------------------
-- Access requests

-- Tell the keyworker of a request's episode, if it exists. Runs as the
-- owner because the requester cannot see the episode; it acts only on the
-- caller's own pending request.
CREATE FUNCTION kw.alert_access_request(p_request uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
	INSERT INTO kw.alerts (episode_id, user_id, kind, access_request_id, created_by)
	SELECT e.id, e.keyworker_id, 'access_request', r.id, r.requester_id
	FROM kw.access_requests r JOIN kw.episodes e ON e.id = r.episode_id
	WHERE r.id = p_request AND r.requester_id = kw.current_user_id()
	    AND r.status = 'pending'
	    AND NOT EXISTS (SELECT 1 FROM kw.alerts a WHERE a.access_request_id = r.id)
$$;
REVOKE ALL ON FUNCTION kw.alert_access_request(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.alert_access_request(uuid) TO keywork_api;

CREATE FUNCTION kw.access_request_json(r kw.access_requests) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', r.id, 'episode_id', r.episode_id,
	    'requester_id', r.requester_id, 'requester', kw.staff_json(r.requester_id),
	    'reason', r.reason, 'status', r.status, 'level', r.level,
	    'decided_by', r.decided_by, 'decided_at', r.decided_at,
	    'decision_note', r.decision_note, 'created_at', r.created_at)
$$;

-- Accepted the same way whether or not the episode exists or the caller
-- already has access: the answer reveals nothing.
CREATE FUNCTION api.request_access(p_token text, p_rid text, p_addr text, p_id uuid,
    p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	r kw.access_requests;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	IF kw.current_user_id() IS NULL OR NOT kw.has_role('practitioner') THEN
		PERFORM kw.raise('KW403', 'Access requests are made by practitioners.');
	END IF;
	INSERT INTO kw.access_requests (episode_id, requester_id, reason)
	VALUES (p_id, kw.current_user_id(), p_body->>'reason')
	RETURNING * INTO r;
	PERFORM kw.alert_access_request(r.id);
	RETURN jsonb_build_object('id', r.id, 'status', r.status, 'created_at', r.created_at);
END
$$;

CREATE FUNCTION api.list_access_requests(p_token text, p_rid text, p_addr text,
    p_id uuid, p_limit integer, p_after_at timestamptz, p_after_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_writer(p_id, 'see access requests');
	RETURN coalesce((SELECT jsonb_agg(kw.access_request_json(r) ORDER BY r.created_at, r.id)
	FROM (SELECT * FROM kw.access_requests x WHERE x.episode_id = p_id
	    AND (p_after_at IS NULL OR (x.created_at, x.id) > (p_after_at, p_after_id))
	    ORDER BY x.created_at, x.id LIMIT p_limit) r), '[]'::jsonb);
END
$$;

CREATE FUNCTION kw.decide_access_request(p_id uuid, p_approve boolean, p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	r kw.access_requests;
	e kw.episodes;
BEGIN
	SELECT * INTO r FROM kw.access_requests WHERE id = p_id;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such access request.');
	END IF;
	e := kw.require_writer(r.episode_id, 'decide access requests');
	SELECT * INTO r FROM kw.access_requests WHERE id = p_id FOR UPDATE;
	IF r.status <> 'pending' THEN
		PERFORM kw.raise('KW409', format('The request was already %s.', r.status));
	END IF;
	IF p_approve THEN
		PERFORM kw.require_open(e);
		PERFORM kw.team_check_candidate(e, r.requester_id);
		INSERT INTO kw.team_members (episode_id, user_id, level, added_by)
		VALUES (r.episode_id, r.requester_id, coalesce(p_body->>'level', 'limited'),
		    kw.current_user_id())
		ON CONFLICT (episode_id, user_id) DO UPDATE SET level = EXCLUDED.level,
		    version = kw.team_members.version + 1, updated_at = now();
	END IF;
	UPDATE kw.access_requests SET
	    status = CASE WHEN p_approve THEN 'approved' ELSE 'declined' END,
	    level = CASE WHEN p_approve THEN coalesce(p_body->>'level', 'limited') END,
	    decided_by = kw.current_user_id(), decided_at = now(),
	    decision_note = p_body->>'note'
	WHERE id = p_id
	RETURNING * INTO r;
	RETURN kw.access_request_json(r);
END
$$;

CREATE FUNCTION api.approve_access_request(p_token text, p_rid text, p_addr text,
    p_id uuid, p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	RETURN kw.decide_access_request(p_id, true, p_body);
END
$$;

CREATE FUNCTION api.decline_access_request(p_token text, p_rid text, p_addr text,
    p_id uuid, p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	RETURN kw.decide_access_request(p_id, false, p_body);
END
$$;

------------------------------------------------------------------------------
-- Case notes

-- A note as the API shows it. p_amended_by, the ids of the notes that
-- amend it, comes from the caller's own statement, written there as
--   (SELECT jsonb_agg(a.id ORDER BY a.created_at, a.id) FROM kw.notes a
--    WHERE a.amends_note_id = n.id)
-- so that this function has no query of its own and PostgreSQL inlines it:
-- a list of notes is then one statement whose row-level security is looked
-- up once, not a function call per note, each its own statement with its
-- own look-ups.
CREATE FUNCTION kw.note_json(n kw.notes, p_amended_by jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', n.id, 'episode_id', n.episode_id,
	    'author_id', n.author_id, 'author', kw.staff_json(n.author_id),
	    'kind', n.kind, 'body', n.body, 'amends_note_id', n.amends_note_id,
	    'amended_by', coalesce(p_amended_by, '[]'::jsonb),
	    'created_at', n.created_at)
$$;

-- Add a note as the current user; returns its id. The keyworker is told of
-- every note (seed 000: "alerted to ... any Case Note added"), and each
-- named member is alerted.
CREATE FUNCTION kw.add_note(p_episode uuid, p_body jsonb) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
	me uuid := kw.current_user_id();
	e kw.episodes;
	v_note uuid := gen_random_uuid();
	named uuid[];
BEGIN
	e := kw.require_full(p_episode, 'case notes');
	IF me IS NULL OR NOT (p_episode = ANY (kw.my_episodes(true))) THEN
		PERFORM kw.raise('KW403', 'Case notes are added by the keyworker and '
		    'full-access TAF members.');
	END IF;
	PERFORM kw.require_open(e);
	IF p_body->>'amends_note_id' IS NOT NULL AND NOT EXISTS (SELECT 1 FROM kw.notes
	    WHERE id = (p_body->>'amends_note_id')::uuid AND episode_id = p_episode) THEN
		PERFORM kw.rule('amends_note_of_episode',
		    'amends_note_id must name a note of this episode.');
	END IF;
	named := ARRAY(SELECT DISTINCT x::uuid
	    FROM jsonb_array_elements_text(coalesce(p_body->'alert_user_ids', '[]')) x);
	IF EXISTS (SELECT 1 FROM unnest(named) u WHERE u <> e.keyworker_id
	    AND NOT EXISTS (SELECT 1 FROM kw.team_members t WHERE t.episode_id = p_episode
		AND t.user_id = u AND t.level = 'full')) THEN
		PERFORM kw.rule('alert_team_members',
		    'alert_user_ids may name only the keyworker and full-access TAF members.');
	END IF;
	INSERT INTO kw.notes (id, episode_id, author_id, kind, body, amends_note_id)
	VALUES (v_note, p_episode, me, p_body->>'kind', p_body->>'body',
	    (p_body->>'amends_note_id')::uuid);
	INSERT INTO kw.alerts (episode_id, user_id, kind, note_id, created_by)
	SELECT p_episode, u, 'named_in_note', v_note, me FROM unnest(named) u WHERE u <> me
	UNION ALL
	SELECT p_episode, e.keyworker_id, 'case_note', v_note, me
	WHERE e.keyworker_id <> me AND NOT (e.keyworker_id = ANY (named));
	RETURN v_note;
END
$$;

CREATE FUNCTION api.create_note(p_token text, p_rid text, p_addr text, p_id uuid,
    p_idem_key text, p_body jsonb, OUT body jsonb, OUT etag text, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
	prior kw.idempotency_keys;
	v_note uuid;
	n kw.notes;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	prior := kw.idem_claim(p_idem_key, 'createNote ' || p_id, p_body);
	IF prior.principal IS NOT NULL THEN
		body := prior.response;
		replayed := true;
		RETURN;
	END IF;
	v_note := kw.add_note(p_id, p_body);
	SELECT * INTO n FROM kw.notes WHERE id = v_note;
	body := kw.note_json(n, (SELECT jsonb_agg(a.id ORDER BY a.created_at, a.id)
	    FROM kw.notes a WHERE a.amends_note_id = n.id));
	replayed := false;
	PERFORM kw.idem_store(p_idem_key, body, NULL);
END
$$;

CREATE FUNCTION api.list_notes(p_token text, p_rid text, p_addr text, p_id uuid,
    p_limit integer, p_after_at timestamptz, p_after_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	-- The cursor as in api.list_episodes: an index condition in a
	-- cached generic plan too.
	after_at timestamptz := coalesce(p_after_at, '-infinity');
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_full(p_id, 'case notes');
	RETURN coalesce((SELECT jsonb_agg(kw.note_json(n,
	    (SELECT jsonb_agg(a.id ORDER BY a.created_at, a.id)
		FROM kw.notes a WHERE a.amends_note_id = n.id)) ORDER BY n.created_at, n.id)
	FROM (SELECT * FROM kw.notes x WHERE x.episode_id = p_id
	    AND (x.created_at, x.id) > (after_at, p_after_id)
	    ORDER BY x.created_at, x.id LIMIT p_limit) n), '[]'::jsonb);
END
$$;

CREATE FUNCTION api.get_note(p_token text, p_rid text, p_addr text, p_id uuid,
    p_note_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	n kw.notes;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_full(p_id, 'case notes');
	SELECT * INTO n FROM kw.notes WHERE id = p_note_id AND episode_id = p_id;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such note on this episode.');
	END IF;
	RETURN kw.note_json(n, (SELECT jsonb_agg(a.id ORDER BY a.created_at, a.id)
	    FROM kw.notes a WHERE a.amends_note_id = n.id));
END
$$;

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO keywork_api;
