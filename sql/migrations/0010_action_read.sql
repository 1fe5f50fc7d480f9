-- keywork 0010: one action, with its ETag, for the If-Match of the next
-- change (actions made by a meeting's outcomes had no read of their own).

CREATE FUNCTION api.get_action(p_token text, p_rid text, p_addr text, p_id uuid,
    OUT body jsonb, OUT etag text)
LANGUAGE plpgsql AS $$
DECLARE
	a kw.actions;
BEGIN
	PERFORM kw.authenticate(p_token, p_rid, p_addr);
	-- Row-level security: full access, or the member who owns it.
	SELECT * INTO a FROM kw.actions WHERE id = p_id;
	IF NOT FOUND THEN
		PERFORM kw.raise('KW404', 'No such action.');
	END IF;
	body := kw.action_json(a);
	etag := kw.etag(a.version);
END
$$;
GRANT EXECUTE ON FUNCTION api.get_action(text, text, text, uuid) TO keywork_api;
