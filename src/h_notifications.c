/*
 * Handlers of the "notifications" tag: the reminders the scheduled worker
 * wrote for the caller.
 */
#include "handlers.h"

static const char *const by_id[] = { "id" };

int
h_list_notifications(struct kw_req *r)
{
	const char	*extra[1];
	json_t		*u = kw_query(r, "unread");

	extra[0] = u == NULL ? NULL : json_is_true(u) ? "true" : "false";
	return handlers_list(r, "list_notifications", handlers_page, NULL, 0,
	    extra, 1);
}

int
h_read_notification(struct kw_req *r)
{
	return handlers_call(r, "read_notification", handlers_ok, by_id, 1, NULL, 0);
}
