/*
 * Handlers of the "course" tag: changes of course. Transfers of keyworker,
 * step up and step down, closure and reopening. The rules, and the one
 * state machine every status change follows, are in the database.
 */
#include "handlers.h"

static const char *const by_id[] = { "id" };

int
h_list_transfers(struct kw_req *r)
{
	return handlers_list(r, "list_transfers", handlers_page, by_id, 1, NULL, 0);
}

int
h_propose_transfer(struct kw_req *r)
{
	return handlers_call_body(r, "propose_transfer", handlers_created, by_id,
	    1, NULL, 0);
}

int
h_accept_transfer(struct kw_req *r)
{
	return handlers_call_body(r, "accept_transfer", handlers_ok, by_id, 1,
	    NULL, 0);
}

int
h_decline_transfer(struct kw_req *r)
{
	return handlers_call_body(r, "decline_transfer", handlers_ok, by_id, 1,
	    NULL, 0);
}

int
h_complete_transfer(struct kw_req *r)
{
	return handlers_call(r, "complete_transfer", handlers_ok, by_id, 1, NULL, 0);
}

int
h_request_step_up(struct kw_req *r)
{
	return handlers_call_body(r, "request_step_up", handlers_created, by_id,
	    1, NULL, 0);
}

int
h_list_step_ups(struct kw_req *r)
{
	const char	*extra[1] = { json_string_value(kw_query(r, "status")) };

	return handlers_list(r, "list_step_ups", handlers_page, NULL, 0, extra, 1);
}

int
h_decide_step_up(struct kw_req *r)
{
	return handlers_call_body(r, "decide_step_up", handlers_ok, by_id, 1,
	    NULL, 0);
}

int
h_list_step_downs(struct kw_req *r)
{
	const char	*extra[1] = { json_string_value(kw_query(r, "status")) };

	return handlers_list(r, "list_step_downs", handlers_page, NULL, 0, extra, 1);
}

int
h_create_step_down(struct kw_req *r)
{
	return handlers_call_body(r, "create_step_down", handlers_created, NULL,
	    0, NULL, 0);
}

int
h_allocate_step_down(struct kw_req *r)
{
	return handlers_call_body(r, "allocate_step_down", handlers_ok, by_id, 1,
	    NULL, 0);
}

int
h_close_episode(struct kw_req *r)
{
	return handlers_call_body(r, "close_episode", handlers_ok, by_id, 1,
	    NULL, 0);
}

int
h_reopen_episode(struct kw_req *r)
{
	return handlers_call_body(r, "reopen_episode", handlers_ok_etag, by_id, 1,
	    NULL, 0);
}
