/*
 * Handlers of the "alerts" tag: the caller's alerts, acknowledging them,
 * and raising one on an episode.
 */
#include "handlers.h"

static const char *const by_id[] = { "id" };

int
h_list_alerts(struct kw_req *r)
{
	const char	*extra[1];
	json_t		*u = kw_query(r, "unacknowledged");

	extra[0] = u == NULL ? NULL : json_is_true(u) ? "true" : "false";
	return handlers_list(r, "list_alerts", handlers_page, NULL, 0, extra, 1);
}

int
h_acknowledge_alert(struct kw_req *r)
{
	return handlers_call_body(r, "acknowledge_alert", handlers_ok, by_id, 1,
	    NULL, 0);
}

int
h_raise_alert(struct kw_req *r)
{
	return handlers_call_body(r, "raise_alert", handlers_created, by_id, 1,
	    NULL, 0);
}
