-- keywork 0002: the operations of the service spine. Each api.* function is
-- one operation, runs as the caller (keywork_api, under row-level security)
-- in the single transaction of its statement, and starts by establishing the
-- caller's identity. Values always arrive as bound parameters.

-- Common arguments of every signed-in operation:
--   p_token	SHA-256 hex of the bearer token
--   p_rid	the request id (for audit)
--   p_addr	the client's address (for audit)

------------------------------------------------------------------------------
-- Sign-in. These run as definer: they read and write secrets the API role
-- cannot see, and they run before anyone is signed in.

-- Look up an account for sign-in and decide whether the attempt may go on.
-- Failures slow the next attempt (1, 2, 4... seconds after the second) and,
-- past the limit within the window, refuse until the window has passed.
CREATE FUNCTION api.login_begin(p_email text, p_addr text, p_account_max integer,
    p_address_max integer, p_window integer,
    OUT user_id uuid, OUT password_hash text, OUT retry_after integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	n_acct integer;
	n_addr integer;
	last_fail timestamptz;
	first_fail timestamptz;
	wait integer;
BEGIN
	retry_after := 0;
	SELECT count(*), max(at), min(at) INTO n_acct, last_fail, first_fail
	FROM kw.login_failures
	WHERE email = lower(p_email) AND at > now() - make_interval(secs => p_window);
	SELECT count(*) INTO n_addr
	FROM kw.login_failures
	WHERE address = p_addr AND at > now() - make_interval(secs => p_window);

	IF n_acct >= p_account_max THEN
		retry_after := greatest(1, ceil(extract(epoch FROM
		    first_fail + make_interval(secs => p_window) - now()))::integer);
	ELSIF n_addr >= p_address_max THEN
		SELECT greatest(1, ceil(extract(epoch FROM
		    min(at) + make_interval(secs => p_window) - now()))::integer)
		INTO retry_after
		FROM kw.login_failures
		WHERE address = p_addr AND at > now() - make_interval(secs => p_window);
	ELSIF n_acct >= 2 THEN
		wait := 1 << least(n_acct - 2, 10);
		retry_after := greatest(0, ceil(extract(epoch FROM
		    last_fail + make_interval(secs => wait) - now()))::integer);
	END IF;
	IF retry_after > 0 THEN
		RETURN;
	END IF;

	SELECT u.id, u.password_hash INTO user_id, password_hash
	FROM kw.users u WHERE lower(u.email) = lower(p_email) AND u.active;
END
$$;

-- Record the outcome of a sign-in. On success create a token family with its
-- first access and refresh tokens and forget the account's failures.
CREATE FUNCTION api.login_finish(p_user_id uuid, p_email text, p_addr text,
    p_ok boolean, p_access_hash text, p_refresh_hash text,
    p_access_ttl integer, p_refresh_ttl integer)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	fam uuid;
BEGIN
	IF NOT p_ok OR p_user_id IS NULL THEN
		INSERT INTO kw.login_failures (email, address) VALUES (lower(p_email), p_addr);
		RETURN false;
	END IF;
	DELETE FROM kw.login_failures WHERE email = lower(p_email);
	INSERT INTO kw.token_families (user_id) VALUES (p_user_id) RETURNING id INTO fam;
	INSERT INTO kw.access_tokens VALUES (p_access_hash, fam,
	    now() + make_interval(secs => p_access_ttl));
	INSERT INTO kw.refresh_tokens VALUES (p_refresh_hash, fam,
	    now() + make_interval(secs => p_refresh_ttl));
	RETURN true;
END
$$;

-- Rotate a refresh token. Returns 'ok', 'invalid', or 'reused' (the family is
-- then revoked, and that must commit, so it is a result and not an error).
CREATE FUNCTION api.refresh(p_refresh_hash text, p_access_hash text,
    p_new_refresh_hash text, p_access_ttl integer, p_refresh_ttl integer)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	t record;
BEGIN
	SELECT r.family_id, r.used_at, r.expires_at, f.revoked_at, u.active INTO t
	FROM kw.refresh_tokens r
	JOIN kw.token_families f ON f.id = r.family_id
	JOIN kw.users u ON u.id = f.user_id
	WHERE r.token_hash = p_refresh_hash
	FOR UPDATE OF r, f;
	IF NOT FOUND OR t.revoked_at IS NOT NULL OR NOT t.active THEN
		RETURN 'invalid';
	END IF;
	IF t.used_at IS NOT NULL THEN
		UPDATE kw.token_families SET revoked_at = now(),
		    revoked_reason = 'refresh token reused'
		WHERE id = t.family_id;
		RETURN 'reused';
	END IF;
	IF t.expires_at <= now() THEN
		RETURN 'invalid';
	END IF;
	UPDATE kw.refresh_tokens SET used_at = now() WHERE token_hash = p_refresh_hash;
	INSERT INTO kw.access_tokens VALUES (p_access_hash, t.family_id,
	    now() + make_interval(secs => p_access_ttl));
	INSERT INTO kw.refresh_tokens VALUES (p_new_refresh_hash, t.family_id,
	    now() + make_interval(secs => p_refresh_ttl));
	RETURN 'ok';
END
$$;

-- Sign out: revoke the sign-in (token family) the access token belongs to.
CREATE FUNCTION api.logout(p_token text, p_rid text, p_addr text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	UPDATE kw.token_families f SET revoked_at = now(), revoked_reason = 'signed out'
	FROM kw.access_tokens t
	WHERE t.token_hash = p_token AND f.id = t.family_id AND f.revoked_at IS NULL;
END
$$;

REVOKE ALL ON FUNCTION api.login_begin(text, text, integer, integer, integer),
    api.login_finish(uuid, text, text, boolean, text, text, integer, integer),
    api.refresh(text, text, text, integer, integer),
    api.logout(text, text, text) FROM PUBLIC;

------------------------------------------------------------------------------
-- Who am I

CREATE FUNCTION api.get_me(p_token text, p_rid text, p_addr text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	r jsonb;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	IF kw.current_client_id() IS NOT NULL THEN
		SELECT jsonb_build_object('kind', 'api_client', 'id', c.id, 'name', c.name,
		    'email', NULL, 'agency_id', c.agency_id, 'area_id', NULL,
		    'manager_id', NULL, 'roles', '[]'::jsonb) INTO r
		FROM kw.api_clients c WHERE c.id = kw.current_client_id();
		RETURN r;
	END IF;
	SELECT jsonb_build_object('kind', 'user', 'id', u.id, 'name', u.name,
	    'email', u.email, 'agency_id', u.agency_id, 'area_id', u.area_id,
	    'manager_id', u.manager_id, 'roles', to_jsonb(u.roles)) INTO r
	FROM kw.users_v u WHERE u.id = kw.current_user_id();
	RETURN r;
END
$$;

------------------------------------------------------------------------------
-- Keyset pagination: the cursor is the last row's (created_at, id), encoded
-- by the server; here it arrives as two nullable values.

CREATE FUNCTION api.list_areas(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_at timestamptz, p_after_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	RETURN coalesce((SELECT jsonb_agg(jsonb_build_object('id', a.id, 'name', a.name,
	    'created_at', a.created_at) ORDER BY a.created_at, a.id)
	FROM (SELECT * FROM kw.areas
	    WHERE p_after_at IS NULL OR (created_at, id) > (p_after_at, p_after_id)
	    ORDER BY created_at, id LIMIT p_limit) a), '[]'::jsonb);
END
$$;

CREATE FUNCTION api.create_area(p_token text, p_rid text, p_addr text, p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	a kw.areas;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_role('admin');
	INSERT INTO kw.areas (name) VALUES (p_body->>'name') RETURNING * INTO a;
	RETURN jsonb_build_object('id', a.id, 'name', a.name, 'created_at', a.created_at);
END
$$;

CREATE FUNCTION api.list_agencies(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_at timestamptz, p_after_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	RETURN coalesce((SELECT jsonb_agg(jsonb_build_object('id', a.id, 'name', a.name,
	    'kind', a.kind, 'created_at', a.created_at) ORDER BY a.created_at, a.id)
	FROM (SELECT * FROM kw.agencies
	    WHERE p_after_at IS NULL OR (created_at, id) > (p_after_at, p_after_id)
	    ORDER BY created_at, id LIMIT p_limit) a), '[]'::jsonb);
END
$$;

CREATE FUNCTION api.create_agency(p_token text, p_rid text, p_addr text, p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	a kw.agencies;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_role('admin');
	INSERT INTO kw.agencies (name, kind) VALUES (p_body->>'name', p_body->>'kind')
	RETURNING * INTO a;
	RETURN jsonb_build_object('id', a.id, 'name', a.name, 'kind', a.kind,
	    'created_at', a.created_at);
END
$$;

------------------------------------------------------------------------------
-- Accounts (admins only; row-level security enforces it as well)

CREATE FUNCTION api.list_users(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_at timestamptz, p_after_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_role('admin');
	RETURN coalesce((SELECT jsonb_agg(kw.user_json(u) ORDER BY u.created_at, u.id)
	FROM (SELECT * FROM kw.users_v
	    WHERE p_after_at IS NULL OR (created_at, id) > (p_after_at, p_after_id)
	    ORDER BY created_at, id LIMIT p_limit) u), '[]'::jsonb);
END
$$;

-- p_password_hash is computed by the server (Argon2id) from the body's password.
CREATE FUNCTION api.create_user(p_token text, p_rid text, p_addr text, p_body jsonb,
    p_password_hash text, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	new_id uuid;
	u kw.users_v;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_role('admin');
	INSERT INTO kw.users (email, name, password_hash, agency_id, area_id, roles, manager_id)
	VALUES (p_body->>'email', p_body->>'name', p_password_hash,
	    (p_body->>'agency_id')::uuid, (p_body->>'area_id')::uuid,
	    ARRAY(SELECT jsonb_array_elements_text(p_body->'roles')),
	    (p_body->>'manager_id')::uuid)
	RETURNING id INTO new_id;
	SELECT * INTO u FROM kw.users_v WHERE id = new_id;
	body := kw.user_json(u);
	etag := kw.etag(u.version);
END
$$;

CREATE FUNCTION api.get_user(p_token text, p_rid text, p_addr text, p_id uuid,
    OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	u kw.users_v;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	SELECT * INTO u FROM kw.users_v WHERE id = p_id;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such user.');
	END IF;
	body := kw.user_json(u);
	etag := kw.etag(u.version);
END
$$;

-- A password change arrives hashed in p_password_hash (NULL: unchanged).
CREATE FUNCTION api.update_user(p_token text, p_rid text, p_addr text, p_id uuid,
    p_if_match text, p_body jsonb, p_password_hash text, OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	u kw.users_v;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_role('admin');
	-- Lock the row in the table: FOR UPDATE through the view would need
	-- UPDATE on the view, which the API role does not have.
	PERFORM 1 FROM kw.users WHERE id = p_id FOR UPDATE;
	SELECT * INTO u FROM kw.users_v WHERE id = p_id;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such user.');
	END IF;
	IF p_if_match IS DISTINCT FROM kw.etag(u.version) AND p_if_match <> '*' THEN
		PERFORM kw.raise('KW412', 'The user has changed since it was read: read it again.');
	END IF;
	UPDATE kw.users SET
	    email = coalesce(p_body->>'email', email),
	    name = coalesce(p_body->>'name', name),
	    agency_id = coalesce((p_body->>'agency_id')::uuid, agency_id),
	    area_id = coalesce((p_body->>'area_id')::uuid, area_id),
	    roles = CASE WHEN p_body ? 'roles'
		THEN ARRAY(SELECT jsonb_array_elements_text(p_body->'roles')) ELSE roles END,
	    manager_id = CASE WHEN p_body ? 'manager_id'
		THEN (p_body->>'manager_id')::uuid ELSE manager_id END,
	    active = coalesce((p_body->>'active')::boolean, active),
	    version = version + 1,
	    updated_at = now()
	WHERE id = p_id;
	-- Written apart: coalesce() with the old value would read the hash,
	-- which the API role may not.
	IF p_password_hash IS NOT NULL THEN
		UPDATE kw.users SET password_hash = p_password_hash WHERE id = p_id;
	END IF;
	-- Deactivating an account or changing its password ends its sign-ins.
	IF (p_body->>'active')::boolean IS FALSE OR p_password_hash IS NOT NULL THEN
		PERFORM kw.revoke_user_tokens(p_id);
	END IF;
	SELECT * INTO u FROM kw.users_v WHERE id = p_id;
	body := kw.user_json(u);
	etag := kw.etag(u.version);
END
$$;

CREATE FUNCTION kw.revoke_user_tokens(p_user uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
BEGIN
	IF NOT kw.has_role('admin') THEN
		RAISE EXCEPTION USING ERRCODE = 'KW403', MESSAGE = 'Admins only.';
	END IF;
	UPDATE kw.token_families SET revoked_at = now(), revoked_reason = 'account changed'
	WHERE user_id = p_user AND revoked_at IS NULL;
END
$$;
REVOKE ALL ON FUNCTION kw.revoke_user_tokens(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.revoke_user_tokens(uuid) TO keywork_api;

------------------------------------------------------------------------------
-- Partner API keys: shown once, stored hashed, revocable.

CREATE FUNCTION api.create_api_client(p_token text, p_rid text, p_addr text,
    p_body jsonb, p_key_hash text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	c record;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_role('admin');
	INSERT INTO kw.api_clients (name, agency_id, key_hash, created_by)
	VALUES (p_body->>'name', (p_body->>'agency_id')::uuid, p_key_hash, kw.current_user_id())
	RETURNING id, name, agency_id, created_at INTO c;
	RETURN jsonb_build_object('id', c.id, 'name', c.name, 'agency_id', c.agency_id,
	    'created_at', c.created_at);
END
$$;

CREATE FUNCTION api.revoke_api_client(p_token text, p_rid text, p_addr text, p_id uuid)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	PERFORM kw.require_role('admin');
	UPDATE kw.api_clients SET revoked_at = now() WHERE id = p_id AND revoked_at IS NULL;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such API client, or it is already revoked.');
	END IF;
END
$$;

------------------------------------------------------------------------------
-- Readiness: the database answers and the schema is in place.

CREATE FUNCTION api.ready() RETURNS jsonb
LANGUAGE sql STABLE AS $$ SELECT jsonb_build_object('status', 'ready') $$;

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO keywork_api;
