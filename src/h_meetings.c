/*
 * Handlers of the "meetings" tag: TAF meetings, their attendance and their
 * outcomes with the action plan.
 */
#include "handlers.h"

static const char *const by_id[] = { "id" };

int
h_list_meetings(struct kw_req *r)
{
	return handlers_list(r, "list_meetings", handlers_page, by_id, 1, NULL, 0);
}

int
h_create_meeting(struct kw_req *r)
{
	const char	*before[1] = { kw_header(r, "Idempotency-Key") };

	return handlers_call_body(r, "create_meeting", handlers_created_etag,
	    by_id, 1, before, 1);
}

int
h_update_meeting(struct kw_req *r)
{
	const char	*before[1] = { kw_header(r, "If-Match") };

	return handlers_call_body(r, "update_meeting", handlers_ok_etag, by_id, 1,
	    before, 1);
}

int
h_put_attendance(struct kw_req *r)
{
	return handlers_call_body(r, "put_attendance", handlers_ok_etag, by_id, 1,
	    NULL, 0);
}

int
h_record_outcomes(struct kw_req *r)
{
	return handlers_call_body(r, "record_outcomes", handlers_ok_etag, by_id,
	    1, NULL, 0);
}
