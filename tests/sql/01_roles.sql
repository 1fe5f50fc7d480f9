-- The API's database role can do no more than its grants and policies allow:
-- no superuser or BYPASSRLS, no ownership (an owner skips row-level security
-- and may change its own grants), row-level security on every table, and no
-- read access to secrets. Run as the schema owner; any failure raises.

-- The role's attributes.
DO $$
DECLARE
	r pg_roles;
BEGIN
	SELECT * INTO r FROM pg_roles WHERE rolname = 'keywork_api';
	IF NOT FOUND THEN
		RAISE EXCEPTION 'role keywork_api does not exist';
	END IF;
	IF r.rolsuper THEN
		RAISE EXCEPTION 'keywork_api is a superuser';
	END IF;
	IF r.rolbypassrls THEN
		RAISE EXCEPTION 'keywork_api has BYPASSRLS';
	END IF;
	IF r.rolcreaterole OR r.rolcreatedb THEN
		RAISE EXCEPTION 'keywork_api may create roles or databases';
	END IF;
	-- Membership in a role that has any of these would be as bad.
	IF EXISTS (SELECT 1 FROM pg_roles g
	    WHERE pg_has_role('keywork_api', g.oid, 'USAGE')
	    AND g.rolname <> 'keywork_api'
	    AND (g.rolsuper OR g.rolbypassrls)) THEN
		RAISE EXCEPTION 'keywork_api inherits superuser or BYPASSRLS';
	END IF;
END
$$;

-- It owns nothing in this database: no relation, schema or function.
DO $$
DECLARE
	api oid := 'keywork_api'::regrole;
	owned text;
BEGIN
	SELECT string_agg(c.oid::regclass::text, ', ') INTO owned
	FROM pg_class c WHERE c.relowner = api;
	IF owned IS NOT NULL THEN
		RAISE EXCEPTION 'keywork_api owns relations: %', owned;
	END IF;
	SELECT string_agg(n.nspname, ', ') INTO owned
	FROM pg_namespace n WHERE n.nspowner = api;
	IF owned IS NOT NULL THEN
		RAISE EXCEPTION 'keywork_api owns schemas: %', owned;
	END IF;
	SELECT string_agg(p.oid::regprocedure::text, ', ') INTO owned
	FROM pg_proc p WHERE p.proowner = api;
	IF owned IS NOT NULL THEN
		RAISE EXCEPTION 'keywork_api owns functions: %', owned;
	END IF;
	IF (SELECT datdba FROM pg_database WHERE datname = current_database()) = api THEN
		RAISE EXCEPTION 'keywork_api owns the database';
	END IF;
END
$$;

-- Row-level security is on for every table in schema kw, whatever tables
-- later migrations add: a table without it would be open to the API role
-- as far as its grants go.
DO $$
DECLARE
	n integer;
	missing text;
BEGIN
	SELECT count(*), string_agg(c.relname, ', ') FILTER (WHERE NOT c.relrowsecurity)
	INTO n, missing
	FROM pg_class c
	WHERE c.relnamespace = 'kw'::regnamespace AND c.relkind IN ('r', 'p');
	-- Guard against a vacuous pass (schema renamed, query wrong).
	IF n < 8 THEN
		RAISE EXCEPTION 'expected the spine''s tables in schema kw, found %', n;
	END IF;
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'row-level security is off on kw tables: %', missing;
	END IF;
END
$$;

-- Secrets. The password hash column is not readable (the other columns of
-- kw.users are, which shows the check itself works); sign-in tables are not
-- reachable at all, and neither is an API key's hash.
DO $$
DECLARE
	t text;
	a record;
BEGIN
	IF NOT has_column_privilege('keywork_api', 'kw.users', 'email', 'SELECT') THEN
		RAISE EXCEPTION 'keywork_api cannot read kw.users.email: the check below proves nothing';
	END IF;
	IF has_column_privilege('keywork_api', 'kw.users', 'password_hash', 'SELECT') THEN
		RAISE EXCEPTION 'keywork_api can read kw.users.password_hash';
	END IF;
	IF has_column_privilege('keywork_api', 'kw.api_clients', 'key_hash', 'SELECT') THEN
		RAISE EXCEPTION 'keywork_api can read kw.api_clients.key_hash';
	END IF;
	FOREACH t IN ARRAY ARRAY['kw.access_tokens', 'kw.refresh_tokens',
	    'kw.login_failures', 'kw.token_families'] LOOP
		IF has_any_column_privilege('keywork_api', t, 'SELECT, INSERT, UPDATE, REFERENCES')
		    OR has_table_privilege('keywork_api', t, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE') THEN
			RAISE EXCEPTION 'keywork_api has privileges on %', t;
		END IF;
		-- Column by column too, to name the column that leaks.
		FOR a IN SELECT attname FROM pg_attribute
		    WHERE attrelid = t::regclass AND attnum > 0 AND NOT attisdropped LOOP
			IF has_column_privilege('keywork_api', t, a.attname, 'SELECT') THEN
				RAISE EXCEPTION 'keywork_api can read %.%', t, a.attname;
			END IF;
		END LOOP;
	END LOOP;
END
$$;
