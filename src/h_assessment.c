/*
 * Handlers of the "assessment" tag: the Families First Assessment and the
 * family's consents. The rules (every member's voice before completion,
 * who may record) live in the api.* functions and row-level security.
 */
#include "handlers.h"

static const char *const by_id[] = { "id" };

int
h_get_assessment(struct kw_req *r)
{
	return handlers_call(r, "get_assessment", handlers_ok_etag, by_id, 1,
	    NULL, 0);
}

int
h_put_assessment(struct kw_req *r)
{
	const char	*before[1] = { kw_header(r, "If-Match") };

	return handlers_call_body(r, "put_assessment", handlers_ok_etag, by_id, 1,
	    before, 1);
}

int
h_complete_assessment(struct kw_req *r)
{
	return handlers_call(r, "complete_assessment", handlers_ok_etag, by_id,
	    1, NULL, 0);
}

int
h_list_consents(struct kw_req *r)
{
	return handlers_list(r, "list_consents", handlers_page, by_id, 1, NULL, 0);
}

int
h_create_consent(struct kw_req *r)
{
	return handlers_call_body(r, "create_consent", handlers_created, by_id, 1,
	    NULL, 0);
}
