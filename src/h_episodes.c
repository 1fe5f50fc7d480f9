/*
 * Handlers of the "episodes" tag: registering a family, reading and
 * changing its episode, and its members. Who may see and do what is
 * decided in the database (row-level security and the api.* functions);
 * these only carry arguments there and results back.
 */
#include "handlers.h"

static const char *const by_id[] = { "id" };
static const char *const by_member[] = { "id", "member_id" };

int
h_list_episodes(struct kw_req *r)
{
	const char	*extra[4];
	json_t		*overdue = kw_query(r, "overdue");

	extra[0] = json_string_value(kw_query(r, "status"));
	extra[1] = json_string_value(kw_query(r, "keyworker_id"));
	extra[2] = json_string_value(kw_query(r, "area_id"));
	extra[3] = overdue == NULL ? NULL : json_is_true(overdue) ? "true" : "false";
	return handlers_list(r, "list_episodes", handlers_page, NULL, 0, extra, 4);
}

int
h_create_episode(struct kw_req *r)
{
	const char	*before[1] = { kw_header(r, "Idempotency-Key") };

	return handlers_call_body(r, "create_episode", handlers_created_etag,
	    NULL, 0, before, 1);
}

int
h_get_episode(struct kw_req *r)
{
	return handlers_call(r, "get_episode", handlers_ok_etag, by_id, 1, NULL, 0);
}

int
h_update_episode(struct kw_req *r)
{
	const char	*before[1] = { kw_header(r, "If-Match") };

	return handlers_call_body(r, "update_episode", handlers_ok_etag, by_id, 1,
	    before, 1);
}

int
h_list_members(struct kw_req *r)
{
	return handlers_list(r, "list_members", handlers_page, by_id, 1, NULL, 0);
}

int
h_create_member(struct kw_req *r)
{
	return handlers_call_body(r, "create_member", handlers_created_etag,
	    by_id, 1, NULL, 0);
}

int
h_update_member(struct kw_req *r)
{
	const char	*before[1] = { kw_header(r, "If-Match") };

	return handlers_call_body(r, "update_member", handlers_ok_etag, by_member,
	    2, before, 1);
}
