-- The demo data set loaded by `make run` (keywork-admin seed-demo). Every
-- account's password is keywork-demo (kw.demo_password_hash). Idempotent.

INSERT INTO kw.areas (name) VALUES ('North District'), ('South District')
ON CONFLICT DO NOTHING;

INSERT INTO kw.agencies (name, kind) VALUES
	('Families First Team', 'local_authority'),
	('Northfield Primary School', 'school'),
	('Health Visiting Service', 'health'),
	('Children''s Services', 'social_care')
ON CONFLICT DO NOTHING;

INSERT INTO kw.users (email, name, password_hash, agency_id, area_id, roles, manager_id)
SELECT v.email, v.name, current_setting('kw.demo_password_hash'),
    (SELECT id FROM kw.agencies WHERE name = v.agency),
    (SELECT id FROM kw.areas WHERE name = v.area), v.roles, NULL
FROM (VALUES
	('admin@example.org', 'Demo Admin', 'Families First Team', 'North District',
	    ARRAY['admin']),
	('manager@example.org', 'Demo Manager', 'Families First Team', 'North District',
	    ARRAY['manager', 'practitioner']),
	('coordinator@example.org', 'Demo Coordinator', 'Families First Team',
	    'North District', ARRAY['coordinator']),
	('dpo@example.org', 'Demo Data Protection Officer', 'Families First Team',
	    'North District', ARRAY['data_protection'])
) AS v (email, name, agency, area, roles)
ON CONFLICT DO NOTHING;

INSERT INTO kw.users (email, name, password_hash, agency_id, area_id, roles, manager_id)
SELECT v.email, v.name, current_setting('kw.demo_password_hash'),
    (SELECT id FROM kw.agencies WHERE name = v.agency),
    (SELECT id FROM kw.areas WHERE name = 'North District'), ARRAY['practitioner'],
    (SELECT id FROM kw.users WHERE lower(email) = 'manager@example.org')
FROM (VALUES
	('keyworker@example.org', 'Demo Keyworker', 'Families First Team'),
	('teacher@example.org', 'Demo Teacher', 'Northfield Primary School'),
	('healthvisitor@example.org', 'Demo Health Visitor', 'Health Visiting Service')
) AS v (email, name, agency)
ON CONFLICT DO NOTHING;

-- Episodes, as the practitioners would register them (through the same
-- rules and row-level security as the API), one at each stage of an
-- episode's life: Oakes registered, Brook assessed, Hale with a plan in
-- place, Rivers under review. Shows every role:
--   keyworker@      keyworker of the Rivers family (North District)
--   teacher@        full-access TAF member there, keyworker of the Oakes family
--   healthvisitor@  limited-access TAF member of the Rivers family; has asked
--                   for access to the Oakes family
--   manager@        line manager of the three practitioners: reads both
--   coordinator@    North District coordinator: reads both
--   admin@, dpo@    no case content
DO $$
DECLARE
	d record;
	rivers uuid;
	oakes uuid;
	brook uuid;
	hale uuid;
	ep uuid;
	first_note uuid;
	meeting uuid;
BEGIN
	-- Looked up while still acting as admin, who reads accounts.
	SELECT (SELECT id FROM kw.users WHERE email = 'keyworker@example.org') AS keyworker,
	    (SELECT id FROM kw.users WHERE email = 'teacher@example.org') AS teacher,
	    (SELECT id FROM kw.users WHERE email = 'healthvisitor@example.org') AS hv,
	    (SELECT id FROM kw.areas WHERE name = 'North District') AS north,
	    (SELECT id FROM kw.agencies WHERE name = 'Families First Team') AS ff,
	    (SELECT id FROM kw.agencies WHERE name = 'Northfield Primary School') AS school
	INTO d;
	PERFORM set_config('kw.roles', 'practitioner', true);
	PERFORM set_config('kw.user_id', d.keyworker::text, true);
	IF EXISTS (SELECT 1 FROM kw.episodes) THEN
		RETURN;		-- loaded before
	END IF;
	rivers := kw.register_episode(jsonb_build_object(
	    'family', jsonb_build_object('name', 'Rivers', 'area_id', d.north,
		'postcode', 'NF1 2AB'),
	    'keyworker_id', d.keyworker, 'lead_agency_id', d.ff,
	    'verbal_consent', jsonb_build_object('obtained_at', now() - interval '1 hour',
		'given_by', 'Sam Rivers'),
	    'members', jsonb_build_array(
		jsonb_build_object('given_name', 'Sam', 'family_name', 'Rivers',
		    'date_of_birth', '1988-04-02', 'relationship', 'mother', 'is_child', false),
		jsonb_build_object('given_name', 'Alex', 'family_name', 'Rivers',
		    'date_of_birth', '2015-09-14', 'relationship', 'son', 'is_child', true),
		jsonb_build_object('given_name', 'Jo', 'family_name', 'Rivers',
		    'date_of_birth', '2019-01-30', 'relationship', 'daughter', 'is_child', true))));
	INSERT INTO kw.team_members (episode_id, user_id, level, added_by)
	VALUES (rivers, d.teacher, 'full', d.keyworker), (rivers, d.hv, 'limited', d.keyworker);
	first_note := kw.add_note(rivers, jsonb_build_object('kind', 'fact',
	    'body', 'Home visit: met the family; both children at home.'));

	PERFORM set_config('kw.user_id', d.teacher::text, true);
	PERFORM kw.add_note(rivers, jsonb_build_object('kind', 'opinion',
	    'body', 'Alex seems more settled in class this week.'));
	PERFORM kw.add_note(rivers, jsonb_build_object('kind', 'fact',
	    'body', 'Correction: the visit was with the mother and Jo only.',
	    'amends_note_id', first_note));
	oakes := kw.register_episode(jsonb_build_object(
	    'family', jsonb_build_object('name', 'Oakes', 'area_id', d.north),
	    'keyworker_id', d.teacher, 'lead_agency_id', d.school,
	    'verbal_consent', jsonb_build_object('obtained_at', now() - interval '2 hours',
		'given_by', 'Chris Oakes'),
	    'members', jsonb_build_array(
		jsonb_build_object('given_name', 'Chris', 'family_name', 'Oakes',
		    'date_of_birth', '1990-07-21', 'relationship', 'father', 'is_child', false),
		jsonb_build_object('given_name', 'Robin', 'family_name', 'Oakes',
		    'date_of_birth', '2016-03-03', 'relationship', 'son', 'is_child', true))));

	PERFORM set_config('kw.user_id', d.hv::text, true);
	INSERT INTO kw.access_requests (episode_id, requester_id, reason)
	VALUES (oakes, d.hv, 'Robin is on my caseload for a health review.');

	-- The keyworker's other families, further along.
	PERFORM set_config('kw.user_id', d.keyworker::text, true);
	brook := kw.register_episode(jsonb_build_object(
	    'family', jsonb_build_object('name', 'Brook', 'area_id', d.north),
	    'keyworker_id', d.keyworker, 'lead_agency_id', d.ff,
	    'verbal_consent', jsonb_build_object('obtained_at', now() - interval '3 hours',
		'given_by', 'Lee Brook'),
	    'members', jsonb_build_array(
		jsonb_build_object('given_name', 'Lee', 'family_name', 'Brook',
		    'date_of_birth', '1985-02-11', 'relationship', 'mother', 'is_child', false),
		jsonb_build_object('given_name', 'Max', 'family_name', 'Brook',
		    'date_of_birth', '2013-05-19', 'relationship', 'son', 'is_child', true))));
	hale := kw.register_episode(jsonb_build_object(
	    'family', jsonb_build_object('name', 'Hale', 'area_id', d.north),
	    'keyworker_id', d.keyworker, 'lead_agency_id', d.ff,
	    'verbal_consent', jsonb_build_object('obtained_at', now() - interval '4 hours',
		'given_by', 'Ash Hale'),
	    'members', jsonb_build_array(
		jsonb_build_object('given_name', 'Ash', 'family_name', 'Hale',
		    'date_of_birth', '1979-10-01', 'relationship', 'father', 'is_child', false),
		jsonb_build_object('given_name', 'Kit', 'family_name', 'Hale',
		    'date_of_birth', '2012-12-12', 'relationship', 'daughter', 'is_child', true))));

	-- Assessed: Brook, Hale and Rivers, every member's voice, written consent.
	FOREACH ep IN ARRAY ARRAY[brook, hale, rivers] LOOP
		INSERT INTO kw.assessments (episode_id, strengths, needs, priorities, updated_by)
		VALUES (ep, 'A close family; the children are attached to school staff.',
		    'Routines at home; school attendance.', 'Morning routine first.', d.keyworker);
		INSERT INTO kw.assessment_voices (episode_id, member_id, in_own_words)
		SELECT ep, m.id, 'We want mornings to be calmer.'
		FROM kw.members m WHERE m.episode_id = ep AND m.included;
		UPDATE kw.assessments SET status = 'complete', completed_at = now(),
		    completed_by = d.keyworker, version = version + 1
		WHERE episode_id = ep;
		UPDATE kw.episodes SET status = 'assessed', assessment_completed_at = now(),
		    version = version + 1
		WHERE id = ep;
		INSERT INTO kw.consents (episode_id, kind, given_by, obtained_at, statement, recorded_by)
		SELECT ep, 'written', e.family_name || ' family', now(),
		    'Agreed to share information with the Team Around the Family.', d.keyworker
		FROM kw.episodes e WHERE e.id = ep;
	END LOOP;

	-- A plan in place: Hale and Rivers held their initial TAF meeting today,
	-- with outcomes, the family's comments and SMART actions.
	FOREACH ep IN ARRAY ARRAY[hale, rivers] LOOP
		INSERT INTO kw.meetings (episode_id, scheduled_at, venue, family_can_attend,
		    status, held_at, outcomes_recorded_at, decisions, family_comments_meeting,
		    family_comments_actions, plan_shared_at, created_by)
		VALUES (ep, now(), 'Northfield Primary School, meeting room 2', true, 'held',
		    now(), now(), 'Work on the morning routine; a school attendance plan.',
		    'The family felt listened to.', 'Happy with the actions; wants a review in six weeks.',
		    now(), d.keyworker)
		RETURNING id INTO meeting;
		INSERT INTO kw.meeting_invitees (meeting_id, episode_id, user_id, attendance)
		VALUES (meeting, ep, d.keyworker, 'attended');
		INSERT INTO kw.meeting_invitees (meeting_id, episode_id, member_id, attendance)
		SELECT meeting, ep, m.id, 'attended' FROM kw.members m
		WHERE m.episode_id = ep AND NOT m.is_child;
		INSERT INTO kw.actions (episode_id, meeting_id, what, owner_member_id, measure,
		    due_date, created_by)
		SELECT ep, meeting, 'Keep a morning routine chart on the fridge', m.id,
		    'Chart filled in on 4 school days a week', kw.today() + 14, d.keyworker
		FROM kw.members m WHERE m.episode_id = ep AND NOT m.is_child LIMIT 1;
		INSERT INTO kw.actions (episode_id, meeting_id, what, owner_user_id, measure,
		    due_date, created_by)
		VALUES (ep, meeting, 'Arrange a school attendance review',
		    d.keyworker, 'Review meeting held with the school', kw.today() + 21, d.keyworker);
		UPDATE kw.episodes SET status = 'plan_in_place', first_taf_meeting_held_at = now(),
		    version = version + 1
		WHERE id = ep;
		INSERT INTO kw.outcome_scores (episode_id, area_id, score, scored_on, meeting_id,
		    recorded_by)
		SELECT ep, a.id, 4, kw.today(), meeting, d.keyworker
		FROM kw.outcome_areas a WHERE a.name IN ('Family routine', 'Education and learning');
	END LOOP;

	-- Reminders for the scheduled worker to write: one action overdue, one
	-- due in two days.
	INSERT INTO kw.actions (episode_id, what, owner_user_id, measure, due_date, created_by)
	VALUES (brook, 'Book a school nurse appointment for Max', d.keyworker,
	    'Appointment booked', kw.today() - 2, d.keyworker),
	    (hale, 'Send the family a copy of the plan', d.keyworker,
	    'Copy received by the family', kw.today() + 2, d.keyworker);

	-- Under review: Rivers' review meeting is arranged, the health visitor
	-- (limited access) invited and owning an action, and a document filed.
	INSERT INTO kw.meetings (episode_id, scheduled_at, venue, family_can_attend, created_by)
	VALUES (rivers, now() + interval '6 weeks', 'Family home', true, d.keyworker)
	RETURNING id INTO meeting;
	INSERT INTO kw.meeting_invitees (meeting_id, episode_id, user_id)
	VALUES (meeting, rivers, d.keyworker), (meeting, rivers, d.teacher), (meeting, rivers, d.hv);
	INSERT INTO kw.actions (episode_id, what, owner_user_id, measure, due_date, created_by)
	VALUES (rivers, 'Offer Jo a developmental review at the clinic', d.hv,
	    'Review appointment attended', kw.today() + 28, d.keyworker);
	PERFORM set_config('kw.user_id', d.teacher::text, true);
	INSERT INTO kw.documents (episode_id, filename, content_type, size_bytes, sha256,
	    content, uploaded_by)
	SELECT rivers, 'attendance-summary.txt', 'text/plain', octet_length(c),
	    encode(sha256(c), 'hex'), c, d.teacher
	FROM (SELECT convert_to('Attendance this term: 91%. No unauthorised absences since the plan began.',
	    'UTF8') AS c) x;
END
$$;
