/*
 * Handlers of the "actions" tag: the SMART action plan. A limited-access
 * owner sees and updates their own actions; the database decides.
 */
#include "handlers.h"

static const char *const by_id[] = { "id" };

int
h_list_actions(struct kw_req *r)
{
	return handlers_list(r, "list_actions", handlers_page, by_id, 1, NULL, 0);
}

int
h_create_action(struct kw_req *r)
{
	return handlers_call_body(r, "create_action", handlers_created_etag,
	    by_id, 1, NULL, 0);
}

int
h_get_action(struct kw_req *r)
{
	return handlers_call(r, "get_action", handlers_ok_etag, by_id, 1, NULL, 0);
}

int
h_update_action(struct kw_req *r)
{
	const char	*before[1] = { kw_header(r, "If-Match") };

	return handlers_call_body(r, "update_action", handlers_ok_etag, by_id, 1,
	    before, 1);
}
