/*
 * Handlers of the "oversight" tag: deadlines and caseloads, over the
 * episodes the caller may see.
 */
#include "handlers.h"

int
h_list_deadlines(struct kw_req *r)
{
	const char	*extra[3];
	json_t		*overdue = kw_query(r, "overdue");

	extra[0] = json_string_value(kw_query(r, "due_before"));
	extra[1] = overdue == NULL ? NULL : json_is_true(overdue) ? "true" : "false";
	extra[2] = json_string_value(kw_query(r, "keyworker_id"));
	return handlers_list(r, "list_deadlines", handlers_page_by_due, NULL, 0,
	    extra, 3);
}

int
h_get_caseload(struct kw_req *r)
{
	return handlers_call(r, "get_caseload", handlers_ok, NULL, 0, NULL, 0);
}
