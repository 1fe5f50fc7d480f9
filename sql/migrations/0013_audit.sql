-- keywork 0013: the audit trail. Every read and every write of case content
-- leaves one entry in kw.audit: who (user or partner system, agency,
-- roles), what (read, create, update, delete of which kind of record),
-- which record or records, which episode, when, the request id and the
-- client's address. Entries are written in the transaction that reads or
-- changes the content, so a change that is not audited does not happen.
--
-- kw.audit is append-only for every role, the owner included (a trigger
-- refuses UPDATE, DELETE and TRUNCATE), and tamper-evident: a sealer
-- (kw.audit_seal, run by keywork-worker) gives each committed entry its
-- place in a hash chain, hash = SHA-256(previous hash || canonical text),
-- and `keywork-admin audit verify` recomputes the chain outside SQL.
--
-- Kinds of record (entity): episode, family, member, consent, team_member,
-- access_request, note, alert, assessment, voice, meeting, invitee,
-- action, action_update, outcome_score, document, transfer, step_up,
-- step_down, closure; and, read only, deadline.

------------------------------------------------------------------------------
-- The trail

CREATE TABLE kw.audit (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT clock_timestamp(),
	user_id		uuid,
	client_id	uuid,
	agency_id	uuid,
	-- As kw.roles had them, comma-separated; 'system' for the owner's
	-- own writes (the worker, migrations, fixtures), which carry no
	-- identity.
	roles		text NOT NULL,
	action		text NOT NULL CHECK (action IN ('read', 'create', 'update', 'delete')),
	entity		text NOT NULL CHECK (entity IN ('episode', 'family', 'member',
			    'consent', 'team_member', 'access_request', 'note', 'alert',
			    'assessment', 'voice', 'meeting', 'invitee', 'action',
			    'action_update', 'outcome_score', 'document', 'transfer',
			    'step_up', 'step_down', 'closure', 'deadline')),
	record_id	uuid,		-- one record; NULL for a list
	record_ids	uuid[],		-- a list read: the ids it returned
	episode_id	uuid,
	request_id	text,
	client_addr	text,
	-- The chain: NULL until sealed, then set once.
	seq		bigint,
	prev_hash	bytea,
	hash		bytea,
	CHECK ((seq IS NULL) = (hash IS NULL) AND (seq IS NULL) = (prev_hash IS NULL))
);
-- Chain positions are unique; partial, so that appending an entry (seq
-- still NULL) costs this index nothing.
CREATE UNIQUE INDEX audit_seq_key ON kw.audit (seq) WHERE seq IS NOT NULL;
-- GET /v1/audit, newest first, by episode or by actor; who touched a record.
CREATE INDEX audit_episode_idx ON kw.audit (episode_id, id) WHERE episode_id IS NOT NULL;
CREATE INDEX audit_user_idx ON kw.audit (user_id, id) WHERE user_id IS NOT NULL;
CREATE INDEX audit_record_idx ON kw.audit (record_id) WHERE record_id IS NOT NULL;
CREATE INDEX audit_record_ids_idx ON kw.audit USING gin (record_ids)
	WHERE record_ids IS NOT NULL;
-- What the sealer has still to do.
CREATE INDEX audit_unsealed_idx ON kw.audit (id) WHERE seq IS NULL;

-- The chain's head: the last sealed position and its hash (32 zero bytes
-- before the first entry). One row; the sealer locks it.
CREATE TABLE kw.audit_head (
	only_row	boolean PRIMARY KEY DEFAULT true CHECK (only_row),
	seq		bigint NOT NULL DEFAULT 0,
	hash		bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'
);
INSERT INTO kw.audit_head DEFAULT VALUES;

ALTER TABLE kw.audit ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.audit FORCE ROW LEVEL SECURITY;
ALTER TABLE kw.audit_head ENABLE ROW LEVEL SECURITY;
ALTER TABLE kw.audit_head FORCE ROW LEVEL SECURITY;
-- Only the owner's definer functions touch them; the API role has no
-- privilege and no policy on either.
CREATE POLICY owner_all ON kw.audit TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY owner_all ON kw.audit_head TO CURRENT_USER USING (true) WITH CHECK (true);
REVOKE ALL ON kw.audit, kw.audit_head FROM PUBLIC, keywork_api;

-- Append-only, for everyone: no entry is changed or removed. The one
-- change allowed is the sealer's, once: filling seq, prev_hash and hash of
-- an unsealed entry, every other column as it was.
CREATE FUNCTION kw.audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
	    AND (NEW.id, NEW.at, NEW.user_id, NEW.client_id, NEW.agency_id, NEW.roles,
		NEW.action, NEW.entity, NEW.record_id, NEW.record_ids, NEW.episode_id,
		NEW.request_id, NEW.client_addr)
	    IS NOT DISTINCT FROM (OLD.id, OLD.at, OLD.user_id, OLD.client_id,
		OLD.agency_id, OLD.roles, OLD.action, OLD.entity, OLD.record_id,
		OLD.record_ids, OLD.episode_id, OLD.request_id, OLD.client_addr) THEN
		RETURN NEW;
	END IF;
	RAISE EXCEPTION USING ERRCODE = 'KW422',
	    MESSAGE = 'The audit trail is append-only: entries are never changed or removed.',
	    DETAIL = jsonb_build_object('rule', 'audit_append_only')::text;
END
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON kw.audit
	FOR EACH ROW EXECUTE FUNCTION kw.audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON kw.audit
	FOR EACH STATEMENT EXECUTE FUNCTION kw.audit_append_only();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON kw.audit_head
	FOR EACH STATEMENT EXECUTE FUNCTION kw.audit_append_only();

------------------------------------------------------------------------------
-- Writing entries

-- One entry with the transaction's identity (set by kw.authenticate).
-- PL/pgSQL, so that each connection plans the INSERT once.
CREATE FUNCTION kw.audit_add(p_action text, p_entity text, p_record uuid,
    p_records uuid[], p_episode uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
BEGIN
	INSERT INTO kw.audit (user_id, client_id, agency_id, roles, action, entity,
	    record_id, record_ids, episode_id, request_id, client_addr)
	VALUES (nullif(current_setting('kw.user_id', true), '')::uuid,
	    nullif(current_setting('kw.client_id', true), '')::uuid,
	    nullif(current_setting('kw.agency_id', true), '')::uuid,
	    coalesce(nullif(current_setting('kw.roles', true), ''), 'system'),
	    p_action, p_entity, p_record, p_records, p_episode,
	    nullif(current_setting('kw.request_id', true), ''),
	    nullif(current_setting('kw.client_addr', true), ''));
END
$$;
REVOKE ALL ON FUNCTION kw.audit_add(text, text, uuid, uuid[], uuid) FROM PUBLIC;

-- A read: the API role may append one (only a read, with the identity
-- its request set), never read, change or remove the trail.
CREATE FUNCTION kw.audit_read(p_entity text, p_record uuid, p_records uuid[],
    p_episode uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
BEGIN
	PERFORM kw.audit_add('read', p_entity, p_record, p_records, p_episode);
END
$$;
REVOKE ALL ON FUNCTION kw.audit_read(text, uuid, uuid[], uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kw.audit_read(text, uuid, uuid[], uuid) TO keywork_api;

-- The ids of a list the API returned (its items' "id", or p_key).
CREATE FUNCTION kw.audit_ids(p_items jsonb, p_key text DEFAULT 'id') RETURNS uuid[]
LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(array_agg((x->>p_key)::uuid), '{}')
	FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_items) = 'array'
	    THEN p_items ELSE '[]'::jsonb END) x
	WHERE x->>p_key IS NOT NULL
$$;

-- Writes: one entry per row changed, from an AFTER row trigger on each
-- case table, so in the same transaction by construction. TG_ARGV[0] is
-- the kind of record; the record's id and its episode come from the row.
CREATE FUNCTION kw.audit_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	r record;
	rid uuid;
	ep uuid;
BEGIN
	IF TG_OP = 'DELETE' THEN
		r := OLD;
	ELSE
		r := NEW;
	END IF;
	CASE TG_TABLE_NAME
	WHEN 'episodes' THEN
		rid := r.id; ep := r.id;
	WHEN 'families' THEN
		rid := r.id; ep := NULL;
	WHEN 'assessments' THEN
		rid := r.episode_id; ep := r.episode_id;
	WHEN 'assessment_voices' THEN
		rid := r.member_id; ep := r.episode_id;
	WHEN 'team_members' THEN
		rid := r.user_id; ep := r.episode_id;
	WHEN 'step_downs' THEN
		rid := r.id; ep := coalesce(r.episode_id, r.from_episode_id);
	ELSE
		rid := r.id; ep := r.episode_id;
	END CASE;
	PERFORM kw.audit_add(CASE TG_OP WHEN 'INSERT' THEN 'create'
	    WHEN 'UPDATE' THEN 'update' ELSE 'delete' END, TG_ARGV[0], rid, NULL, ep);
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION kw.audit_write() FROM PUBLIC;

DO $$
DECLARE
	t record;
BEGIN
	FOR t IN SELECT * FROM (VALUES ('episodes', 'episode'), ('families', 'family'),
	    ('members', 'member'), ('consents', 'consent'), ('team_members', 'team_member'),
	    ('access_requests', 'access_request'), ('notes', 'note'), ('alerts', 'alert'),
	    ('assessments', 'assessment'), ('assessment_voices', 'voice'),
	    ('meetings', 'meeting'), ('meeting_invitees', 'invitee'), ('actions', 'action'),
	    ('action_updates', 'action_update'), ('outcome_scores', 'outcome_score'),
	    ('documents', 'document'), ('transfers', 'transfer'), ('step_ups', 'step_up'),
	    ('step_downs', 'step_down'), ('closures', 'closure')) v (tbl, entity) LOOP
		EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON kw.%I '
		    'FOR EACH ROW EXECUTE FUNCTION kw.audit_write(%L)',
		    t.tbl || '_audit', t.tbl, t.entity);
	END LOOP;
END
$$;

------------------------------------------------------------------------------
-- The chain

-- The canonical text of an entry, which its hash covers. keywork-admin's
-- verifier builds the same text in C (src/audit.c): fields in this order,
-- joined by '|'; NULL is \N; in text, '\' is written \\ and '|' \|; the
-- time as integer microseconds since 1970-01-01 UTC; uuids in lower case;
-- an array as its elements joined by ','.
CREATE FUNCTION kw.audit_esc(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN p IS NULL THEN '\N'
	    ELSE replace(replace(p, '\', '\\'), '|', '\|') END
$$;

CREATE FUNCTION kw.audit_canon(a kw.audit) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT concat_ws('|', a.seq::text, a.id::text,
	    (extract(epoch FROM a.at) * 1000000)::bigint::text,
	    kw.audit_esc(a.user_id::text), kw.audit_esc(a.client_id::text),
	    kw.audit_esc(a.agency_id::text), kw.audit_esc(a.roles),
	    kw.audit_esc(a.action), kw.audit_esc(a.entity),
	    kw.audit_esc(a.record_id::text),
	    kw.audit_esc(array_to_string(a.record_ids, ',')),
	    kw.audit_esc(a.episode_id::text), kw.audit_esc(a.request_id),
	    kw.audit_esc(a.client_addr))
$$;

-- Seal up to p_limit committed entries, in id order, after the head; returns
-- how many. The head's row lock makes sealers take turns, and each
-- statement here sees only committed entries: an entry whose transaction
-- is still running is sealed by a later pass, so the chain's order is the
-- order entries were sealed, not quite the order of their ids.
CREATE FUNCTION kw.audit_seal(p_limit integer) RETURNS integer
LANGUAGE plpgsql SET search_path = kw, pg_temp AS $$
DECLARE
	h kw.audit_head;
	a kw.audit;
	ids bigint[] := '{}';
	seqs bigint[] := '{}';
	prevs bytea[] := '{}';
	hashes bytea[] := '{}';
BEGIN
	SELECT * INTO h FROM kw.audit_head FOR UPDATE;
	-- Hashes chain one on the next, so they are computed in order here;
	-- the rows are then written by one UPDATE, not one per entry.
	FOR a IN SELECT * FROM kw.audit WHERE seq IS NULL ORDER BY id LIMIT p_limit LOOP
		a.seq := h.seq + 1;
		a.prev_hash := h.hash;
		a.hash := sha256(h.hash || convert_to(kw.audit_canon(a), 'UTF8'));
		ids := ids || a.id;
		seqs := seqs || a.seq;
		prevs := prevs || a.prev_hash;
		hashes := hashes || a.hash;
		h.seq := a.seq;
		h.hash := a.hash;
	END LOOP;
	IF cardinality(ids) > 0 THEN
		UPDATE kw.audit x SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash
		FROM unnest(ids, seqs, prevs, hashes) AS v (id, seq, prev_hash, hash)
		WHERE x.id = v.id;
		UPDATE kw.audit_head SET seq = h.seq, hash = h.hash;
	END IF;
	RETURN cardinality(ids);
END
$$;
REVOKE ALL ON FUNCTION kw.audit_seal(integer) FROM PUBLIC;

------------------------------------------------------------------------------
-- Reads: each operation that returns case content appends one entry for
-- the request (one INSERT, whatever the number of rows), naming the record
-- it returned or, for a list, the ids of the records on the page. The
-- operation itself moves to kw.<name>_read; api.<name> calls it and then
-- records the read. A read that fails (404, 403) rolls back and records
-- nothing: it returned nothing.

ALTER FUNCTION api.get_episode(text, text, text, uuid) RENAME TO get_episode_unaudited;
ALTER FUNCTION api.get_episode_unaudited(text, text, text, uuid) SET SCHEMA kw;
CREATE FUNCTION api.get_episode(p_token text, p_rid text, p_addr text, p_id uuid,
    OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT o.body, o.etag INTO body, etag
	FROM kw.get_episode_unaudited(p_token, p_rid, p_addr, p_id) o;
	PERFORM kw.audit_read('episode', p_id, NULL, p_id);
END
$$;

ALTER FUNCTION api.list_episodes(text, text, text, integer, timestamptz, uuid, text,
    uuid, uuid, boolean) RENAME TO list_episodes_unaudited;
ALTER FUNCTION api.list_episodes_unaudited(text, text, text, integer, timestamptz, uuid,
    text, uuid, uuid, boolean) SET SCHEMA kw;
CREATE FUNCTION api.list_episodes(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_at timestamptz, p_after_id uuid, p_status text,
    p_keyworker uuid, p_area uuid, p_overdue boolean)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	r jsonb := kw.list_episodes_unaudited(p_token, p_rid, p_addr, p_limit, p_after_at,
	    p_after_id, p_status, p_keyworker, p_area, p_overdue);
BEGIN
	PERFORM kw.audit_read('episode', NULL, kw.audit_ids(r), NULL);
	RETURN r;
END
$$;

-- The per-episode lists: (name, entity, key of the items' ids).
DO $do$
DECLARE
	f record;
BEGIN
	FOR f IN SELECT * FROM (VALUES ('list_members', 'member', 'id'),
	    ('list_team', 'team_member', 'user_id'),
	    ('list_access_requests', 'access_request', 'id'),
	    ('list_notes', 'note', 'id'), ('list_consents', 'consent', 'id'),
	    ('list_meetings', 'meeting', 'id'), ('list_actions', 'action', 'id'),
	    ('list_documents', 'document', 'id'), ('list_transfers', 'transfer', 'id'))
	    v (fn, entity, key) LOOP
		EXECUTE format('ALTER FUNCTION api.%I(text, text, text, uuid, integer, '
		    'timestamptz, uuid) RENAME TO %I', f.fn, f.fn || '_unaudited');
		EXECUTE format('ALTER FUNCTION api.%I(text, text, text, uuid, integer, '
		    'timestamptz, uuid) SET SCHEMA kw', f.fn || '_unaudited');
		EXECUTE format($f$
CREATE FUNCTION api.%I(p_token text, p_rid text, p_addr text, p_id uuid,
    p_limit integer, p_after_at timestamptz, p_after_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $b$
DECLARE
	r jsonb := kw.%I(p_token, p_rid, p_addr, p_id, p_limit, p_after_at, p_after_id);
BEGIN
	PERFORM kw.audit_read(%L, NULL, kw.audit_ids(r, %L), p_id);
	RETURN r;
END
$b$$f$, f.fn, f.fn || '_unaudited', f.entity, f.key);
	END LOOP;
END
$do$;

ALTER FUNCTION api.get_note(text, text, text, uuid, uuid) RENAME TO get_note_unaudited;
ALTER FUNCTION api.get_note_unaudited(text, text, text, uuid, uuid) SET SCHEMA kw;
CREATE FUNCTION api.get_note(p_token text, p_rid text, p_addr text, p_id uuid,
    p_note_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	r jsonb := kw.get_note_unaudited(p_token, p_rid, p_addr, p_id, p_note_id);
BEGIN
	PERFORM kw.audit_read('note', p_note_id, NULL, p_id);
	RETURN r;
END
$$;

ALTER FUNCTION api.get_assessment(text, text, text, uuid) RENAME TO get_assessment_unaudited;
ALTER FUNCTION api.get_assessment_unaudited(text, text, text, uuid) SET SCHEMA kw;
CREATE FUNCTION api.get_assessment(p_token text, p_rid text, p_addr text, p_id uuid,
    OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT o.body, o.etag INTO body, etag
	FROM kw.get_assessment_unaudited(p_token, p_rid, p_addr, p_id) o;
	PERFORM kw.audit_read('assessment', p_id, NULL, p_id);
END
$$;

ALTER FUNCTION api.get_action(text, text, text, uuid) RENAME TO get_action_unaudited;
ALTER FUNCTION api.get_action_unaudited(text, text, text, uuid) SET SCHEMA kw;
CREATE FUNCTION api.get_action(p_token text, p_rid text, p_addr text, p_id uuid,
    OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT o.body, o.etag INTO body, etag
	FROM kw.get_action_unaudited(p_token, p_rid, p_addr, p_id) o;
	PERFORM kw.audit_read('action', p_id, NULL, (body->>'episode_id')::uuid);
END
$$;

ALTER FUNCTION api.list_outcome_scores(text, text, text, uuid)
    RENAME TO list_outcome_scores_unaudited;
ALTER FUNCTION api.list_outcome_scores_unaudited(text, text, text, uuid) SET SCHEMA kw;
CREATE FUNCTION api.list_outcome_scores(p_token text, p_rid text, p_addr text, p_id uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	r jsonb := kw.list_outcome_scores_unaudited(p_token, p_rid, p_addr, p_id);
BEGIN
	PERFORM kw.audit_read('outcome_score', NULL, kw.audit_ids(r->'items'), p_id);
	RETURN r;
END
$$;

ALTER FUNCTION api.get_document(text, text, text, uuid) RENAME TO get_document_unaudited;
ALTER FUNCTION api.get_document_unaudited(text, text, text, uuid) SET SCHEMA kw;
CREATE FUNCTION api.get_document(p_token text, p_rid text, p_addr text, p_doc uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	r jsonb := kw.get_document_unaudited(p_token, p_rid, p_addr, p_doc);
BEGIN
	PERFORM kw.audit_read('document', p_doc, NULL, (r->>'episode_id')::uuid);
	RETURN r;
END
$$;

ALTER FUNCTION api.document_content(text, text, text, uuid)
    RENAME TO document_content_unaudited;
ALTER FUNCTION api.document_content_unaudited(text, text, text, uuid) SET SCHEMA kw;
CREATE FUNCTION api.document_content(p_token text, p_rid text, p_addr text, p_doc uuid,
    OUT content bytea, OUT content_type text, OUT filename text, OUT sha256 text)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT o.content, o.content_type, o.filename, o.sha256
	INTO content, content_type, filename, sha256
	FROM kw.document_content_unaudited(p_token, p_rid, p_addr, p_doc) o;
	-- The caller has just read it, so row-level security shows its episode.
	PERFORM kw.audit_read('document', p_doc, NULL,
	    (SELECT d.episode_id FROM kw.documents d WHERE d.id = p_doc));
END
$$;

ALTER FUNCTION api.list_alerts(text, text, text, integer, timestamptz, uuid, boolean)
    RENAME TO list_alerts_unaudited;
ALTER FUNCTION api.list_alerts_unaudited(text, text, text, integer, timestamptz, uuid,
    boolean) SET SCHEMA kw;
CREATE FUNCTION api.list_alerts(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_at timestamptz, p_after_id uuid, p_unacknowledged boolean)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	r jsonb := kw.list_alerts_unaudited(p_token, p_rid, p_addr, p_limit, p_after_at,
	    p_after_id, p_unacknowledged);
BEGIN
	PERFORM kw.audit_read('alert', NULL, kw.audit_ids(r), NULL);
	RETURN r;
END
$$;

-- Deadlines name families and their dates: recorded with the episodes on
-- the page.
ALTER FUNCTION api.list_deadlines(text, text, text, integer, date, text, date, boolean, uuid)
    RENAME TO list_deadlines_unaudited;
ALTER FUNCTION api.list_deadlines_unaudited(text, text, text, integer, date, text, date,
    boolean, uuid) SET SCHEMA kw;
CREATE FUNCTION api.list_deadlines(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_due date, p_after_key text, p_due_before date,
    p_overdue boolean, p_keyworker uuid)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	r jsonb := kw.list_deadlines_unaudited(p_token, p_rid, p_addr, p_limit, p_after_due,
	    p_after_key, p_due_before, p_overdue, p_keyworker);
BEGIN
	PERFORM kw.audit_read('deadline', NULL, ARRAY(SELECT DISTINCT e
	    FROM unnest(kw.audit_ids(r, 'episode_id')) e), NULL);
	RETURN r;
END
$$;

DO $do$
DECLARE
	f record;
BEGIN
	FOR f IN SELECT * FROM (VALUES ('list_step_ups', 'step_up'),
	    ('list_step_downs', 'step_down')) v (fn, entity) LOOP
		EXECUTE format('ALTER FUNCTION api.%I(text, text, text, integer, '
		    'timestamptz, uuid, text) RENAME TO %I', f.fn, f.fn || '_unaudited');
		EXECUTE format('ALTER FUNCTION api.%I(text, text, text, integer, '
		    'timestamptz, uuid, text) SET SCHEMA kw', f.fn || '_unaudited');
		EXECUTE format($f$
CREATE FUNCTION api.%I(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_at timestamptz, p_after_id uuid, p_status text)
RETURNS jsonb
LANGUAGE plpgsql AS $b$
DECLARE
	r jsonb := kw.%I(p_token, p_rid, p_addr, p_limit, p_after_at, p_after_id, p_status);
BEGIN
	PERFORM kw.audit_read(%L, NULL, kw.audit_ids(r), NULL);
	RETURN r;
END
$b$$f$, f.fn, f.fn || '_unaudited', f.entity);
	END LOOP;
END
$do$;

-- The API role keeps EXECUTE on the kw.*_unaudited operations, which the
-- api.* wrappers call as the caller: like the tables themselves, they are
-- reachable by the role, and the server calls only api.*.

------------------------------------------------------------------------------
-- GET /v1/audit: data-protection officers see every entry; a line manager
-- sees the entries about episodes their practitioners keywork; nobody else
-- sees any. Reading the trail is not itself recorded in it: entries are
-- not case content.

CREATE FUNCTION kw.audit_json(a kw.audit, p_records uuid[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', a.id, 'at', a.at, 'user_id', a.user_id,
	    'client_id', a.client_id, 'agency_id', a.agency_id,
	    'roles', to_jsonb(string_to_array(a.roles, ',')), 'action', a.action,
	    'entity', a.entity, 'record_id', a.record_id, 'record_ids', to_jsonb(p_records),
	    'episode_id', a.episode_id, 'request_id', a.request_id,
	    'client_addr', a.client_addr, 'seq', a.seq,
	    'hash', CASE WHEN a.hash IS NOT NULL THEN encode(a.hash, 'hex') END)
$$;

-- Newest first; the cursor is the last entry's (at, id), and id alone
-- orders the pages.
CREATE FUNCTION api.list_audit(p_token text, p_rid text, p_addr text,
    p_limit integer, p_after_at timestamptz, p_after_id bigint, p_episode uuid,
    p_user uuid, p_from timestamptz, p_to timestamptz)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = kw, pg_temp AS $$
DECLARE
	dpo boolean;
	eps uuid[];
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	dpo := kw.current_user_id() IS NOT NULL AND kw.has_role('data_protection');
	IF NOT dpo AND NOT (kw.current_user_id() IS NOT NULL AND kw.has_role('manager')) THEN
		PERFORM kw.raise('KW403', 'The audit trail is for data-protection officers, '
		    'and for line managers about their practitioners'' episodes.');
	END IF;
	IF NOT dpo THEN
		eps := ARRAY(SELECT e.id FROM kw.episodes e
		    WHERE e.keyworker_id = ANY (kw.my_reports()));
	END IF;
	RETURN coalesce((SELECT jsonb_agg(kw.audit_json(a, CASE WHEN dpo
		OR a.episode_id = ANY (eps) THEN a.record_ids
		ELSE ARRAY(SELECT x FROM unnest(a.record_ids) x WHERE x = ANY (eps)) END)
	    ORDER BY a.id DESC)
	FROM (SELECT * FROM kw.audit x
	    WHERE (dpo OR x.episode_id = ANY (eps)
		OR (x.record_ids && eps AND x.entity IN ('episode', 'deadline')))
		AND (p_after_id IS NULL OR x.id < p_after_id)
		AND (p_episode IS NULL OR x.episode_id = p_episode
		    OR (x.record_ids @> ARRAY[p_episode] AND x.entity IN ('episode', 'deadline')))
		AND (p_user IS NULL OR x.user_id = p_user)
		AND (p_from IS NULL OR x.at >= p_from)
		AND (p_to IS NULL OR x.at < p_to)
	    ORDER BY x.id DESC LIMIT p_limit) a), '[]'::jsonb);
END
$$;
REVOKE ALL ON FUNCTION api.list_audit(text, text, text, integer, timestamptz, bigint,
    uuid, uuid, timestamptz, timestamptz) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION api.get_episode(text, text, text, uuid),
    api.list_episodes(text, text, text, integer, timestamptz, uuid, text, uuid, uuid, boolean),
    api.list_members(text, text, text, uuid, integer, timestamptz, uuid),
    api.list_team(text, text, text, uuid, integer, timestamptz, uuid),
    api.list_access_requests(text, text, text, uuid, integer, timestamptz, uuid),
    api.list_notes(text, text, text, uuid, integer, timestamptz, uuid),
    api.list_consents(text, text, text, uuid, integer, timestamptz, uuid),
    api.list_meetings(text, text, text, uuid, integer, timestamptz, uuid),
    api.list_actions(text, text, text, uuid, integer, timestamptz, uuid),
    api.list_documents(text, text, text, uuid, integer, timestamptz, uuid),
    api.list_transfers(text, text, text, uuid, integer, timestamptz, uuid),
    api.get_note(text, text, text, uuid, uuid),
    api.get_assessment(text, text, text, uuid),
    api.get_action(text, text, text, uuid),
    api.list_outcome_scores(text, text, text, uuid),
    api.get_document(text, text, text, uuid),
    api.document_content(text, text, text, uuid),
    api.list_alerts(text, text, text, integer, timestamptz, uuid, boolean),
    api.list_deadlines(text, text, text, integer, date, text, date, boolean, uuid),
    api.list_step_ups(text, text, text, integer, timestamptz, uuid, text),
    api.list_step_downs(text, text, text, integer, timestamptz, uuid, text),
    api.list_audit(text, text, text, integer, timestamptz, bigint, uuid, uuid,
	timestamptz, timestamptz)
    TO keywork_api;
