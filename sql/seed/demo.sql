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
-- rules and row-level security as the API). Shows every role:
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
	first_note uuid;
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
END
$$;
