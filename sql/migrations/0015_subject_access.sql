-- keywork 0015: subject access. A data-protection officer exports
-- everything held about one person, across episodes, as one JSON document,
-- with the audit entries about their records: who read or changed them,
-- when, from where.
--
-- One person: the member record asked for (kw.members.id) and the member
-- records of other episodes with the same given name, family name and date
-- of birth, names compared case-insensitively, as registration's duplicate
-- check (kw.open_episode_for) recognises a child already known. Members of
-- erased episodes are not matched: erasure replaced their names and dates
-- of birth, so nothing recognises them any more. Asked for directly, an
-- erased member is exported alone, with its episode's markers.
--
-- Per episode the export holds what is about the person and what is about
-- the family as a whole: the episode and family, the team, consents, every
-- case note (a note is about the family; nothing records which people it
-- names), alerts and access requests, the assessment, the person's own
-- voice, the meetings the person was invited to, the actions the person
-- owns with their progress, outcome scores, documents (metadata and
-- SHA-256, not content), transfers, step ups, step downs and closures.
--
-- Data-protection officers see no case work through row-level security
-- (0003), so the export reads as the schema owner: a SECURITY DEFINER
-- function that checks the caller's role first, from the identity
-- kw.authenticate has just set from the bearer token. The export is
-- recorded in the audit trail as a read of entity 'person'.

------------------------------------------------------------------------------
-- The trail learns one more kind of record. A wider check: every entry
-- already written satisfies it.

ALTER TABLE kw.audit DROP CONSTRAINT audit_entity_check;
ALTER TABLE kw.audit ADD CONSTRAINT audit_entity_check CHECK (entity IN ('episode',
    'family', 'member', 'consent', 'team_member', 'access_request', 'note', 'alert',
    'assessment', 'voice', 'meeting', 'invitee', 'action', 'action_update',
    'outcome_score', 'document', 'transfer', 'step_up', 'step_down', 'closure',
    'deadline', 'person'));

------------------------------------------------------------------------------
-- The member records that are one person: p_member first, then the others
-- in the order they were recorded. Owner only (it reads every episode).

CREATE FUNCTION kw.person_members(p_member uuid) RETURNS uuid[]
LANGUAGE sql STABLE AS $$
	SELECT ARRAY(SELECT s.id FROM (
	    SELECT me.id, 0 AS o, me.created_at FROM kw.members me WHERE me.id = p_member
	    UNION ALL
	    -- The same person elsewhere (members_person_idx finds them).
	    SELECT m.id, 1, m.created_at
	    FROM kw.members me
	    JOIN kw.episodes me_e ON me_e.id = me.episode_id AND me_e.erased_at IS NULL
	    JOIN kw.members m ON lower(m.family_name) = lower(me.family_name)
		AND m.date_of_birth = me.date_of_birth
		AND lower(m.given_name) = lower(me.given_name) AND m.id <> me.id
	    JOIN kw.episodes e ON e.id = m.episode_id AND e.erased_at IS NULL
	    WHERE me.id = p_member) s
	ORDER BY s.o, s.created_at, s.id)
$$;
REVOKE ALL ON FUNCTION kw.person_members(uuid) FROM PUBLIC;

CREATE FUNCTION kw.staff_name(p_id uuid) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT u.name FROM kw.users u WHERE u.id = p_id
$$;
REVOKE ALL ON FUNCTION kw.staff_name(uuid) FROM PUBLIC;

-- One episode's content, as far as it concerns the members p_members.
CREATE FUNCTION kw.export_episode(p_episode uuid, p_members uuid[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
	    'episode', jsonb_build_object('id', e.id, 'status', e.status,
		'family_id', e.family_id, 'family_name', e.family_name,
		'area_id', e.area_id, 'area', (SELECT a.name FROM kw.areas a WHERE a.id = e.area_id),
		'keyworker_id', e.keyworker_id, 'keyworker', kw.staff_name(e.keyworker_id),
		'lead_agency_id', e.lead_agency_id,
		'registered_at', e.registered_at, 'registered_by', e.registered_by,
		'assessment_due', e.assessment_due,
		'first_taf_meeting_due', e.first_taf_meeting_due,
		'assessment_completed_at', e.assessment_completed_at,
		'first_taf_meeting_held_at', e.first_taf_meeting_held_at,
		'closed_at', e.closed_at, 'erased_at', e.erased_at,
		'created_at', e.created_at, 'updated_at', e.updated_at),
	    'family', (SELECT jsonb_build_object('id', f.id, 'name', f.name,
		'postcode', f.postcode, 'area_id', f.area_id, 'created_at', f.created_at)
		FROM kw.families f WHERE f.id = e.family_id),
	    'member_ids', to_jsonb(ARRAY(SELECT m.id FROM kw.members m
		WHERE m.episode_id = e.id AND m.id = ANY (p_members)
		ORDER BY m.created_at, m.id)),
	    'team', coalesce((SELECT jsonb_agg(jsonb_build_object('user_id', t.user_id,
		'name', kw.staff_name(t.user_id), 'level', t.level,
		'added_by', t.added_by, 'created_at', t.created_at)
		ORDER BY t.created_at, t.user_id)
		FROM kw.team_members t WHERE t.episode_id = e.id), '[]'),
	    'consents', coalesce((SELECT jsonb_agg(jsonb_build_object('id', c.id,
		'kind', c.kind, 'agency_id', c.agency_id, 'given_by', c.given_by,
		'obtained_at', c.obtained_at, 'statement', c.statement,
		'recorded_by', c.recorded_by, 'created_at', c.created_at)
		ORDER BY c.created_at, c.id)
		FROM kw.consents c WHERE c.episode_id = e.id), '[]'),
	    'notes', coalesce((SELECT jsonb_agg(jsonb_build_object('id', n.id,
		'author_id', n.author_id, 'author', kw.staff_name(n.author_id),
		'kind', n.kind, 'body', n.body, 'amends_note_id', n.amends_note_id,
		'created_at', n.created_at)
		ORDER BY n.created_at, n.id)
		FROM kw.notes n WHERE n.episode_id = e.id), '[]'),
	    'alerts', coalesce((SELECT jsonb_agg(jsonb_build_object('id', al.id,
		'kind', al.kind, 'user_id', al.user_id, 'detail', al.detail,
		'response', al.response, 'note_id', al.note_id,
		'document_id', al.document_id, 'meeting_id', al.meeting_id,
		'created_by', al.created_by, 'created_by_client', al.created_by_client,
		'created_at', al.created_at, 'acknowledged_at', al.acknowledged_at)
		ORDER BY al.created_at, al.id)
		FROM kw.alerts al WHERE al.episode_id = e.id), '[]'),
	    'access_requests', coalesce((SELECT jsonb_agg(jsonb_build_object('id', r.id,
		'requester_id', r.requester_id, 'reason', r.reason, 'status', r.status,
		'level', r.level, 'decided_by', r.decided_by, 'decided_at', r.decided_at,
		'decision_note', r.decision_note, 'created_at', r.created_at)
		ORDER BY r.created_at, r.id)
		FROM kw.access_requests r WHERE r.episode_id = e.id), '[]'),
	    'assessment', (SELECT jsonb_build_object('status', s.status,
		'strengths', s.strengths, 'needs', s.needs, 'priorities', s.priorities,
		'completed_at', s.completed_at, 'completed_by', s.completed_by,
		'created_at', s.created_at, 'updated_at', s.updated_at)
		FROM kw.assessments s WHERE s.episode_id = e.id),
	    'voices', coalesce((SELECT jsonb_agg(jsonb_build_object('member_id', v.member_id,
		'in_own_words', v.in_own_words, 'given_by', v.given_by,
		'how_obtained', v.how_obtained, 'voice', v.voice)
		ORDER BY v.member_id)
		FROM kw.assessment_voices v
		WHERE v.episode_id = e.id AND v.member_id = ANY (p_members)), '[]'),
	    'meetings', coalesce((SELECT jsonb_agg(jsonb_build_object('id', mt.id,
		'kind', mt.kind, 'scheduled_at', mt.scheduled_at, 'venue', mt.venue,
		'family_can_attend', mt.family_can_attend, 'status', mt.status,
		'held_at', mt.held_at, 'outcomes_recorded_at', mt.outcomes_recorded_at,
		'decisions', mt.decisions,
		'family_comments_meeting', mt.family_comments_meeting,
		'family_comments_actions', mt.family_comments_actions,
		'plan_shared_at', mt.plan_shared_at, 'member_id', i.member_id,
		'attendance', i.attendance, 'apologies', i.apologies, 'report', i.report)
		ORDER BY mt.scheduled_at, mt.id, i.member_id)
		FROM kw.meeting_invitees i JOIN kw.meetings mt ON mt.id = i.meeting_id
		WHERE i.episode_id = e.id AND i.member_id = ANY (p_members)), '[]'),
	    'actions', coalesce((SELECT jsonb_agg(jsonb_build_object('id', ac.id,
		'meeting_id', ac.meeting_id, 'owner_member_id', ac.owner_member_id,
		'what', ac.what, 'measure', ac.measure, 'due_date', ac.due_date,
		'status', ac.status, 'completed_at', ac.completed_at,
		'created_by', ac.created_by, 'created_at', ac.created_at,
		'updated_at', ac.updated_at,
		'updates', coalesce((SELECT jsonb_agg(jsonb_build_object('id', u.id,
		    'status', u.status, 'progress', u.progress, 'created_by', u.created_by,
		    'created_at', u.created_at) ORDER BY u.created_at, u.id)
		    FROM kw.action_updates u WHERE u.action_id = ac.id), '[]'))
		ORDER BY ac.created_at, ac.id)
		FROM kw.actions ac
		WHERE ac.episode_id = e.id AND ac.owner_member_id = ANY (p_members)), '[]'),
	    'outcome_scores', coalesce((SELECT jsonb_agg(jsonb_build_object('id', o.id,
		'area_id', o.area_id, 'area', oa.name, 'score', o.score,
		'scored_on', o.scored_on, 'meeting_id', o.meeting_id,
		'recorded_by', o.recorded_by, 'created_at', o.created_at)
		ORDER BY o.scored_on, oa.name, o.id)
		FROM kw.outcome_scores o JOIN kw.outcome_areas oa ON oa.id = o.area_id
		WHERE o.episode_id = e.id), '[]'),
	    'documents', coalesce((SELECT jsonb_agg(jsonb_build_object('id', d.id,
		'filename', d.filename, 'content_type', d.content_type,
		'size_bytes', d.size_bytes, 'sha256', d.sha256,
		'uploaded_by', d.uploaded_by, 'created_at', d.created_at)
		ORDER BY d.created_at, d.id)
		FROM kw.documents d WHERE d.episode_id = e.id), '[]'),
	    'transfers', coalesce((SELECT jsonb_agg(jsonb_build_object('id', t.id,
		'kind', t.kind, 'reason', t.reason, 'status', t.status,
		'from_keyworker_id', t.from_keyworker_id, 'to_keyworker_id', t.to_keyworker_id,
		'receiving_authority', t.receiving_authority,
		'family_told_at', t.family_told_at, 'changeover_on', t.changeover_on,
		'ends_on', t.ends_on, 'note', t.note, 'proposed_by', t.proposed_by,
		'decided_at', t.decided_at, 'completed_at', t.completed_at,
		'ended_at', t.ended_at, 'created_at', t.created_at)
		ORDER BY t.created_at, t.id)
		FROM kw.transfers t WHERE t.episode_id = e.id), '[]'),
	    'step_ups', coalesce((SELECT jsonb_agg(jsonb_build_object('id', su.id,
		'status', su.status, 'unmet_needs', su.unmet_needs,
		'what_was_tried', su.what_was_tried,
		'more_within_resources', su.more_within_resources,
		'impact_so_far', su.impact_so_far,
		'evidence_higher_level', su.evidence_higher_level,
		'advice_sought', su.advice_sought,
		'safeguarding_referral_made', su.safeguarding_referral_made,
		'decision_note', su.decision_note,
		'action_impact_meeting_at', su.action_impact_meeting_at,
		'requested_by', su.requested_by, 'decided_by', su.decided_by,
		'decided_at', su.decided_at, 'created_at', su.created_at)
		ORDER BY su.created_at, su.id)
		FROM kw.step_ups su WHERE su.episode_id = e.id), '[]'),
	    'step_downs', coalesce((SELECT jsonb_agg(jsonb_build_object('id', sd.id,
		'from_episode_id', sd.from_episode_id, 'episode_id', sd.episode_id,
		'status', sd.status, 'family', sd.family, 'needs', sd.needs,
		'consent_given_by', sd.consent_given_by,
		'consent_obtained_at', sd.consent_obtained_at, 'decided_on', sd.decided_on,
		'allocated_keyworker_id', sd.allocated_keyworker_id,
		'allocated_at', sd.allocated_at, 'created_at', sd.created_at)
		ORDER BY sd.created_at, sd.id)
		FROM kw.step_downs sd
		WHERE sd.episode_id = e.id OR sd.from_episode_id = e.id), '[]'),
	    'closures', coalesce((SELECT jsonb_agg(jsonb_build_object('id', c.id,
		'reason', c.reason, 'family_views', c.family_views,
		'children_views', c.children_views, 'feedback', c.feedback,
		'closed_by', c.closed_by, 'closed_at', c.closed_at,
		'reopened_by', c.reopened_by, 'reopened_at', c.reopened_at,
		'reopen_reason', c.reopen_reason)
		ORDER BY c.closed_at, c.id)
		FROM kw.closures c WHERE c.episode_id = e.id), '[]'))
	FROM kw.episodes e WHERE e.id = p_episode
$$;
REVOKE ALL ON FUNCTION kw.export_episode(uuid, uuid[]) FROM PUBLIC;

-- The audit entries about the episodes p_episodes and their records, oldest
-- first: every entry naming one of the episodes, and every entry without
-- an episode (lists of episodes, alerts, step ups and downs; the family;
-- earlier exports) naming one of the records p_records. A list's ids are
-- cut to those records, so that the export shows nothing of other
-- families.
CREATE FUNCTION kw.export_accesses(p_episodes uuid[], p_records uuid[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('id', a.id, 'at', a.at,
	    'user_id', a.user_id, 'user', kw.staff_name(a.user_id),
	    'client_id', a.client_id,
	    'client', (SELECT c.name FROM kw.api_clients c WHERE c.id = a.client_id),
	    'agency_id', a.agency_id,
	    'agency', (SELECT g.name FROM kw.agencies g WHERE g.id = a.agency_id),
	    'roles', to_jsonb(string_to_array(a.roles, ',')),
	    'action', a.action, 'entity', a.entity, 'record_id', a.record_id,
	    'record_ids', CASE WHEN a.episode_id = ANY (p_episodes) THEN to_jsonb(a.record_ids)
		ELSE to_jsonb(ARRAY(SELECT x FROM unnest(a.record_ids) x
		    WHERE x = ANY (p_records))) END,
	    'episode_id', a.episode_id, 'request_id', a.request_id,
	    'client_addr', a.client_addr) ORDER BY a.id), '[]')
	FROM kw.audit a
	WHERE a.episode_id = ANY (p_episodes) OR a.record_id = ANY (p_records)
	    OR a.record_ids && p_records
$$;
REVOKE ALL ON FUNCTION kw.export_accesses(uuid[], uuid[]) FROM PUBLIC;

------------------------------------------------------------------------------
-- GET /v1/people/{id}/export

CREATE FUNCTION api.export_person(p_token text, p_rid text, p_addr text, p_member uuid)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	mids uuid[];
	eps uuid[];
	recs uuid[];
	r jsonb;
BEGIN
	-- The identity comes from the token, here: kw.authenticate sets the
	-- roles afresh or raises, whatever settings the caller made before.
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	IF kw.current_user_id() IS NULL OR NOT kw.has_role('data_protection') THEN
		PERFORM kw.raise('KW403', 'Subject access exports are for data-protection officers.');
	END IF;
	mids := kw.person_members(p_member);
	IF cardinality(mids) = 0 THEN
		PERFORM kw.raise('KW404', 'No such member.');
	END IF;
	eps := ARRAY(SELECT DISTINCT m.episode_id FROM kw.members m WHERE m.id = ANY (mids));
	-- The records an entry without an episode may name: the episodes, their
	-- families, members, alerts, step ups and step downs.
	recs := eps || ARRAY(SELECT e.family_id FROM kw.episodes e WHERE e.id = ANY (eps))
	    || ARRAY(SELECT m.id FROM kw.members m WHERE m.episode_id = ANY (eps))
	    || ARRAY(SELECT al.id FROM kw.alerts al WHERE al.episode_id = ANY (eps))
	    || ARRAY(SELECT su.id FROM kw.step_ups su WHERE su.episode_id = ANY (eps))
	    || ARRAY(SELECT sd.id FROM kw.step_downs sd
		WHERE sd.episode_id = ANY (eps) OR sd.from_episode_id = ANY (eps));
	r := jsonb_build_object('member_id', p_member, 'generated_at', now(),
	    'members', (SELECT jsonb_agg(jsonb_build_object('id', m.id,
		'episode_id', m.episode_id, 'given_name', m.given_name,
		'family_name', m.family_name, 'date_of_birth', m.date_of_birth,
		'relationship', m.relationship, 'is_child', m.is_child,
		'lives_in_household', m.lives_in_household, 'included', m.included,
		'not_included_reason', m.not_included_reason,
		'created_at', m.created_at, 'updated_at', m.updated_at)
		ORDER BY array_position(mids, m.id))
		FROM kw.members m WHERE m.id = ANY (mids)),
	    'episodes', (SELECT jsonb_agg(kw.export_episode(e.id, mids)
		ORDER BY e.registered_at, e.id)
		FROM kw.episodes e WHERE e.id = ANY (eps)),
	    'accessed_by', kw.export_accesses(eps, recs));
	-- Recorded after it is gathered: this export is in the next one.
	PERFORM kw.audit_read('person', p_member, mids, NULL);
	RETURN r;
END
$$;
REVOKE ALL ON FUNCTION api.export_person(text, text, text, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.export_person(text, text, text, uuid) TO keywork_api;
