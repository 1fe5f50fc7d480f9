-- keywork 0001: roles, reference data, accounts, sign-in and the per-request
-- identity that row-level security reads.
--
-- Runs as the schema owner. The API connects as keywork_api, which owns
-- nothing, cannot bypass row-level security, and reaches sign-in secrets only
-- through SECURITY DEFINER functions in schema kw.

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'keywork_api') THEN
		CREATE ROLE keywork_api NOLOGIN NOBYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE;
	END IF;
END
$$;

CREATE SCHEMA kw;	-- tables and internal functions
CREATE SCHEMA api;	-- one function per operation, called by the server

REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA kw, api TO keywork_api;

-- Application errors: the server maps these SQLSTATEs to HTTP statuses.
--   KW400 bad input   KW401 not signed in   KW403 forbidden   KW404 not found
--   KW409 conflict    KW412 stale If-Match  KW422 domain rule  KW429 throttled

------------------------------------------------------------------------------
-- Identity of the request, set transaction-locally by kw.authenticate.

CREATE FUNCTION kw.current_user_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT nullif(current_setting('kw.user_id', true), '')::uuid
$$;

CREATE FUNCTION kw.current_client_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT nullif(current_setting('kw.client_id', true), '')::uuid
$$;

CREATE FUNCTION kw.current_agency_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT nullif(current_setting('kw.agency_id', true), '')::uuid
$$;

CREATE FUNCTION kw.has_role(r text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT r = ANY (string_to_array(coalesce(current_setting('kw.roles', true), ''), ','))
$$;

-- Every identity kw.authenticate sets has at least one role.
CREATE FUNCTION kw.signed_in() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT coalesce(current_setting('kw.roles', true), '') <> ''
$$;

CREATE FUNCTION kw.raise(code text, msg text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = code, MESSAGE = msg;
END
$$;

CREATE FUNCTION kw.require_role(r text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF NOT kw.has_role(r) THEN
		RAISE EXCEPTION USING ERRCODE = 'KW403',
		    MESSAGE = format('This operation needs the %s role.', r);
	END IF;
END
$$;

------------------------------------------------------------------------------
-- Reference data

CREATE TABLE kw.areas (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX areas_name_key ON kw.areas (lower(name));

CREATE TABLE kw.agencies (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	kind		text NOT NULL CHECK (kind IN ('school', 'health', 'social_care',
			    'police', 'housing', 'voluntary', 'local_authority', 'other')),
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX agencies_name_key ON kw.agencies (lower(name));

CREATE TABLE kw.users (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	email		text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	password_hash	text NOT NULL,
	agency_id	uuid NOT NULL REFERENCES kw.agencies,
	area_id		uuid NOT NULL REFERENCES kw.areas,
	roles		text[] NOT NULL CHECK (cardinality(roles) >= 1 AND roles <@
			    ARRAY['practitioner', 'manager', 'coordinator', 'admin',
			    'data_protection']),
	manager_id	uuid REFERENCES kw.users CHECK (manager_id <> id),
	active		boolean NOT NULL DEFAULT true,
	version		integer NOT NULL DEFAULT 1,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON kw.users (lower(email));
CREATE INDEX users_manager_idx ON kw.users (manager_id);

-- A practitioner works under a manager: the manager must hold the manager role.
CREATE FUNCTION kw.users_check_manager() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
BEGIN
	IF NEW.manager_id IS NOT NULL AND NOT EXISTS (
	    SELECT 1 FROM kw.users WHERE id = NEW.manager_id AND 'manager' = ANY (roles)) THEN
		RAISE EXCEPTION USING ERRCODE = 'KW422',
		    MESSAGE = 'manager_id must name a user who has the manager role.';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER users_check_manager BEFORE INSERT OR UPDATE OF manager_id ON kw.users
	FOR EACH ROW EXECUTE FUNCTION kw.users_check_manager();

------------------------------------------------------------------------------
-- Sign-in: tokens are stored only as SHA-256 hex. A refresh-token family is
-- one sign-in; reusing a spent refresh token revokes the whole family.

CREATE TABLE kw.token_families (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id		uuid NOT NULL REFERENCES kw.users ON DELETE CASCADE,
	created_at	timestamptz NOT NULL DEFAULT now(),
	revoked_at	timestamptz,
	revoked_reason	text
);
CREATE INDEX token_families_user_idx ON kw.token_families (user_id);

CREATE TABLE kw.access_tokens (
	token_hash	text PRIMARY KEY,
	family_id	uuid NOT NULL REFERENCES kw.token_families ON DELETE CASCADE,
	expires_at	timestamptz NOT NULL
);
CREATE INDEX access_tokens_family_idx ON kw.access_tokens (family_id);

CREATE TABLE kw.refresh_tokens (
	token_hash	text PRIMARY KEY,
	family_id	uuid NOT NULL REFERENCES kw.token_families ON DELETE CASCADE,
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON kw.refresh_tokens (family_id);

CREATE TABLE kw.login_failures (
	id		bigserial PRIMARY KEY,
	email		text NOT NULL,		-- lower-cased
	address		text NOT NULL,
	at		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON kw.login_failures (email, at);
CREATE INDEX login_failures_address_idx ON kw.login_failures (address, at);

CREATE TABLE kw.api_clients (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	agency_id	uuid NOT NULL REFERENCES kw.agencies,
	key_hash	text NOT NULL UNIQUE,
	created_by	uuid NOT NULL REFERENCES kw.users,
	created_at	timestamptz NOT NULL DEFAULT now(),
	revoked_at	timestamptz
);

------------------------------------------------------------------------------
-- Row-level security. The API role sees rows only through these policies.
-- (Not forced: the owner's SECURITY DEFINER functions, sign-in above all,
-- must read accounts before any identity exists.)

ALTER TABLE kw.areas ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.agencies ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.api_clients ENABLE ROW LEVEL SECURITY;
-- Secrets: no policy for the API role at all; only definer functions touch them.
ALTER TABLE kw.token_families ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.access_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.login_failures ENABLE ROW LEVEL SECURITY;

CREATE POLICY areas_read ON kw.areas FOR SELECT TO keywork_api USING (kw.signed_in());
CREATE POLICY areas_admin ON kw.areas FOR INSERT TO keywork_api WITH CHECK (kw.has_role('admin'));
CREATE POLICY agencies_read ON kw.agencies FOR SELECT TO keywork_api USING (kw.signed_in());
CREATE POLICY agencies_admin ON kw.agencies FOR INSERT TO keywork_api WITH CHECK (kw.has_role('admin'));

-- Admins see every account; everyone sees their own.
CREATE POLICY users_read ON kw.users FOR SELECT TO keywork_api
	USING (kw.has_role('admin') OR id = kw.current_user_id());
CREATE POLICY users_insert ON kw.users FOR INSERT TO keywork_api
	WITH CHECK (kw.has_role('admin'));
CREATE POLICY users_update ON kw.users FOR UPDATE TO keywork_api
	USING (kw.has_role('admin')) WITH CHECK (kw.has_role('admin'));

CREATE POLICY api_clients_admin ON kw.api_clients FOR ALL TO keywork_api
	USING (kw.has_role('admin')) WITH CHECK (kw.has_role('admin'));
-- A partner system reads its own record (GET /v1/me).
CREATE POLICY api_clients_self ON kw.api_clients FOR SELECT TO keywork_api
	USING (id = kw.current_client_id());

GRANT SELECT, INSERT ON kw.areas, kw.agencies TO keywork_api;
-- The password hash is never readable by the API role.
GRANT SELECT (id, email, name, agency_id, area_id, roles, manager_id, active,
    version, created_at, updated_at) ON kw.users TO keywork_api;
GRANT INSERT (email, name, password_hash, agency_id, area_id, roles, manager_id)
    ON kw.users TO keywork_api;
GRANT UPDATE (email, name, password_hash, agency_id, area_id, roles, manager_id,
    active, version, updated_at) ON kw.users TO keywork_api;
GRANT SELECT (id, name, agency_id, created_by, created_at, revoked_at)
    ON kw.api_clients TO keywork_api;
GRANT INSERT (name, agency_id, key_hash, created_by) ON kw.api_clients TO keywork_api;
GRANT UPDATE (revoked_at) ON kw.api_clients TO keywork_api;

------------------------------------------------------------------------------
-- Authentication: turns a bearer token's hash into the request's identity,
-- set with set_config(..., true) so it lasts exactly one transaction.

CREATE FUNCTION kw.authenticate(p_token_hash text, p_request_id text, p_addr text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	u record;
	c record;
BEGIN
	PERFORM set_config('kw.request_id', coalesce(p_request_id, ''), true);
	PERFORM set_config('kw.client_addr', coalesce(p_addr, ''), true);

	SELECT us.id, us.agency_id, us.roles INTO u
	FROM kw.access_tokens t
	JOIN kw.token_families f ON f.id = t.family_id
	JOIN kw.users us ON us.id = f.user_id
	WHERE t.token_hash = p_token_hash AND t.expires_at > now()
	    AND f.revoked_at IS NULL AND us.active;
	IF FOUND THEN
		PERFORM set_config('kw.user_id', u.id::text, true);
		PERFORM set_config('kw.agency_id', u.agency_id::text, true);
		PERFORM set_config('kw.roles', array_to_string(u.roles, ','), true);
		RETURN;
	END IF;

	SELECT ac.id, ac.agency_id INTO c
	FROM kw.api_clients ac
	WHERE ac.key_hash = p_token_hash AND ac.revoked_at IS NULL;
	IF FOUND THEN
		PERFORM set_config('kw.client_id', c.id::text, true);
		PERFORM set_config('kw.agency_id', c.agency_id::text, true);
		PERFORM set_config('kw.roles', 'partner', true);
		RETURN;
	END IF;

	RAISE EXCEPTION USING ERRCODE = 'KW401',
	    MESSAGE = 'The bearer token is not valid or has expired.';
END
$$;
REVOKE ALL ON FUNCTION kw.authenticate(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.authenticate(text, text, text) TO keywork_api;

------------------------------------------------------------------------------
-- JSON representations

-- The columns of an account the API may read (never the password hash).
CREATE VIEW kw.users_v WITH (security_invoker = true) AS
	SELECT id, email, name, agency_id, area_id, roles, manager_id, active,
	    version, created_at, updated_at
	FROM kw.users;
GRANT SELECT ON kw.users_v TO keywork_api;

CREATE FUNCTION kw.user_json(u kw.users_v) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', u.id, 'email', u.email, 'name', u.name,
	    'agency_id', u.agency_id, 'area_id', u.area_id, 'roles', to_jsonb(u.roles),
	    'manager_id', u.manager_id, 'active', u.active,
	    'created_at', u.created_at, 'updated_at', u.updated_at)
$$;

CREATE FUNCTION kw.etag(version integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT '"' || version || '"' $$;
