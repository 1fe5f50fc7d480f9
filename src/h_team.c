/*
 * Handlers of the "team" tag: the Team Around the Family and requests for
 * access. The keyworker and their manager manage the team; the database
 * enforces it.
 */
#include "handlers.h"

static const char *const by_id[] = { "id" };
static const char *const by_user[] = { "id", "user_id" };

int
h_list_team(struct kw_req *r)
{
	return handlers_list(r, "list_team", handlers_page_by_user, by_id, 1,
	    NULL, 0);
}

int
h_add_team_member(struct kw_req *r)
{
	return handlers_call_body(r, "add_team_member", handlers_created_etag,
	    by_id, 1, NULL, 0);
}

int
h_update_team_member(struct kw_req *r)
{
	const char	*before[1] = { kw_header(r, "If-Match") };

	return handlers_call_body(r, "update_team_member", handlers_ok_etag,
	    by_user, 2, before, 1);
}

int
h_remove_team_member(struct kw_req *r)
{
	return handlers_call(r, "remove_team_member", handlers_no_content,
	    by_user, 2, NULL, 0);
}

int
h_request_access(struct kw_req *r)
{
	return handlers_call_body(r, "request_access", handlers_accepted, by_id,
	    1, NULL, 0);
}

int
h_list_access_requests(struct kw_req *r)
{
	return handlers_list(r, "list_access_requests", handlers_page, by_id, 1,
	    NULL, 0);
}

int
h_approve_access_request(struct kw_req *r)
{
	return handlers_call_body(r, "approve_access_request", handlers_ok,
	    by_id, 1, NULL, 0);
}

int
h_decline_access_request(struct kw_req *r)
{
	return handlers_call_body(r, "decline_access_request", handlers_ok,
	    by_id, 1, NULL, 0);
}
