-- Row-level security of the spine, seen as the API role: the database itself
-- limits what each identity reads and writes, whatever the server does. The
-- identity is what kw.authenticate would set: transaction-local settings
-- kw.user_id and kw.roles. Run as the schema owner; any failure raises.

-- The owner may switch to the API role only as a member of it. With
-- CREATEROLE, PostgreSQL 15 lets the owner grant that to itself; it is taken
-- back at the end so the test leaves the roles as the migrations made them.
GRANT keywork_api TO CURRENT_USER;

-- Facts the API role cannot look up, read first as the owner.
SELECT id AS keyworker_id FROM kw.users WHERE email = 'keyworker@example.org' \gset
SELECT id AS admin_id FROM kw.users WHERE email = 'admin@example.org' \gset
SET kwtest.keyworker_id = :'keyworker_id';
SET kwtest.admin_id = :'admin_id';

-- Without row-level security the counts below would not be 0: there is
-- demo data to hide.
DO $$
BEGIN
	IF (SELECT count(*) FROM kw.areas) = 0 OR (SELECT count(*) FROM kw.users) < 2
	    OR (SELECT count(*) FROM kw.agencies) = 0 THEN
		RAISE EXCEPTION 'the demo data is missing: the checks below would prove nothing';
	END IF;
END
$$;

-- Two partner systems' keys, to see that each reads only its own record.
INSERT INTO kw.api_clients (id, name, agency_id, key_hash, created_by)
SELECT v.id, 'rls test partner', (SELECT min(id::text)::uuid FROM kw.agencies),
    v.hash, :'admin_id'
FROM (VALUES ('00000000-0000-4000-8000-0000000000a1'::uuid, repeat('a', 64)),
    ('00000000-0000-4000-8000-0000000000a2'::uuid, repeat('b', 64))) AS v (id, hash)
ON CONFLICT DO NOTHING;

SET ROLE keywork_api;

-- No identity: nothing is visible.
DO $$
BEGIN
	ASSERT current_user = 'keywork_api', 'not running as keywork_api';
	IF (SELECT count(*) FROM kw.areas) <> 0 THEN
		RAISE EXCEPTION 'areas are visible without an identity';
	END IF;
	IF (SELECT count(*) FROM kw.agencies) <> 0 THEN
		RAISE EXCEPTION 'agencies are visible without an identity';
	END IF;
	IF (SELECT count(*) FROM kw.users) <> 0 THEN
		RAISE EXCEPTION 'users are visible without an identity';
	END IF;
	IF (SELECT count(*) FROM kw.users_v) <> 0 THEN
		RAISE EXCEPTION 'users are visible through kw.users_v without an identity';
	END IF;
END
$$;

-- A practitioner sees reference data and only their own account.
DO $$
DECLARE
	me uuid := current_setting('kwtest.keyworker_id')::uuid;
	n integer;
BEGIN
	PERFORM set_config('kw.user_id', me::text, true);
	PERFORM set_config('kw.roles', 'practitioner', true);
	IF (SELECT count(*) FROM kw.areas) = 0 THEN
		RAISE EXCEPTION 'a signed-in practitioner cannot see areas';
	END IF;
	SELECT count(*) INTO n FROM kw.users;
	IF n <> 1 THEN
		RAISE EXCEPTION 'a practitioner sees % user rows, not just their own', n;
	END IF;
	IF (SELECT id FROM kw.users) <> me THEN
		RAISE EXCEPTION 'the one user row a practitioner sees is not their own';
	END IF;
	-- Nor can they change someone else's (the row is simply not there).
	UPDATE kw.users SET name = 'changed' WHERE id = current_setting('kwtest.admin_id')::uuid;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n <> 0 THEN
		RAISE EXCEPTION 'a practitioner changed another account';
	END IF;
	IF (SELECT count(*) FROM kw.api_clients) <> 0 THEN
		RAISE EXCEPTION 'a practitioner sees API clients';
	END IF;
END
$$;

-- A practitioner cannot add an area: the policy refuses the row.
DO $$
BEGIN
	PERFORM set_config('kw.user_id', current_setting('kwtest.keyworker_id'), true);
	PERFORM set_config('kw.roles', 'practitioner', true);
	BEGIN
		INSERT INTO kw.areas (name) VALUES ('rls test: practitioner area');
	EXCEPTION WHEN insufficient_privilege THEN
		RETURN;	-- refused, as it must be
	END;
	RAISE EXCEPTION 'a practitioner inserted into kw.areas';
END
$$;

-- Nor may a practitioner make themselves an admin.
DO $$
DECLARE
	n integer;
BEGIN
	PERFORM set_config('kw.user_id', current_setting('kwtest.keyworker_id'), true);
	PERFORM set_config('kw.roles', 'practitioner', true);
	UPDATE kw.users SET roles = ARRAY['admin'] WHERE id = kw.current_user_id();
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n <> 0 THEN
		RAISE EXCEPTION 'a practitioner changed their own roles';
	END IF;
END
$$;

-- An admin can add an area and sees every account. (The block is one
-- transaction: the area is rolled back by raising at the end and catching.)
DO $$
DECLARE
	n integer;
BEGIN
	PERFORM set_config('kw.user_id', current_setting('kwtest.admin_id'), true);
	PERFORM set_config('kw.roles', 'admin', true);
	BEGIN
		INSERT INTO kw.areas (name) VALUES ('rls test: admin area');
		SELECT count(*) INTO n FROM kw.areas WHERE name = 'rls test: admin area';
		IF n <> 1 THEN
			RAISE EXCEPTION 'the admin''s new area is not visible';
		END IF;
		IF (SELECT count(*) FROM kw.users) < 2 THEN
			RAISE EXCEPTION 'an admin does not see every account';
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'KWT01', MESSAGE = 'undo';
	EXCEPTION WHEN SQLSTATE 'KWT01' THEN
		NULL;
	END;
END
$$;

-- Secrets stay out of reach even with the strongest identity.
DO $$
DECLARE
	t text;
BEGIN
	PERFORM set_config('kw.user_id', current_setting('kwtest.admin_id'), true);
	PERFORM set_config('kw.roles', 'admin', true);
	FOREACH t IN ARRAY ARRAY['kw.access_tokens', 'kw.refresh_tokens',
	    'kw.login_failures', 'kw.token_families'] LOOP
		BEGIN
			EXECUTE format('SELECT count(*) FROM %s', t);
		EXCEPTION WHEN insufficient_privilege THEN
			CONTINUE;
		END;
		RAISE EXCEPTION 'keywork_api can read % as an admin', t;
	END LOOP;
	BEGIN
		PERFORM password_hash FROM kw.users;
	EXCEPTION WHEN insufficient_privilege THEN
		RETURN;
	END;
	RAISE EXCEPTION 'keywork_api can read kw.users.password_hash';
END
$$;

-- A partner system sees its own record and nothing else of the kind, and
-- no accounts.
DO $$
DECLARE
	n integer;
BEGIN
	PERFORM set_config('kw.client_id', '00000000-0000-4000-8000-0000000000a1', true);
	PERFORM set_config('kw.roles', 'partner', true);
	SELECT count(*) INTO n FROM kw.api_clients;
	IF n <> 1 OR (SELECT id FROM kw.api_clients) <> '00000000-0000-4000-8000-0000000000a1' THEN
		RAISE EXCEPTION 'a partner sees % API client rows, not just its own', n;
	END IF;
	IF (SELECT count(*) FROM kw.users) <> 0 THEN
		RAISE EXCEPTION 'a partner sees accounts';
	END IF;
	UPDATE kw.api_clients SET revoked_at = now();
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n <> 0 THEN
		RAISE EXCEPTION 'a partner revoked an API key';
	END IF;
END
$$;

-- The identity is transaction-local: after the blocks above, none is left.
DO $$
BEGIN
	IF kw.signed_in() OR kw.current_user_id() IS NOT NULL
	    OR kw.current_client_id() IS NOT NULL THEN
		RAISE EXCEPTION 'an identity outlived its transaction';
	END IF;
	IF (SELECT count(*) FROM kw.users) <> 0 THEN
		RAISE EXCEPTION 'users are visible after the identity''s transaction';
	END IF;
END
$$;

-- An operation with a token that is no token is refused with KW401
-- (the server answers 401).
DO $$
BEGIN
	BEGIN
		PERFORM api.get_me(repeat('0', 64), 'sql-test', 'local');
	EXCEPTION WHEN SQLSTATE 'KW401' THEN
		RETURN;
	END;
	RAISE EXCEPTION 'api.get_me with a garbage token did not raise KW401';
END
$$;

RESET ROLE;
DELETE FROM kw.api_clients WHERE name = 'rls test partner';
REVOKE keywork_api FROM CURRENT_USER;
