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
