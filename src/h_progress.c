/*
 * Handlers of the "progress" tag: outcome scores per area over time, and
 * the areas themselves (reference data admins keep).
 */
#include "handlers.h"

static const char *const by_id[] = { "id" };

int
h_list_outcome_scores(struct kw_req *r)
{
	return handlers_call(r, "list_outcome_scores", handlers_ok, by_id, 1,
	    NULL, 0);
}

int
h_add_outcome_scores(struct kw_req *r)
{
	return handlers_call_body(r, "add_outcome_scores", handlers_created,
	    by_id, 1, NULL, 0);
}

int
h_list_outcome_areas(struct kw_req *r)
{
	return handlers_list(r, "list_outcome_areas", handlers_page, NULL, 0,
	    NULL, 0);
}

int
h_create_outcome_area(struct kw_req *r)
{
	return handlers_call_body(r, "create_outcome_area", handlers_created_etag,
	    NULL, 0, NULL, 0);
}

int
h_update_outcome_area(struct kw_req *r)
{
	const char	*before[1] = { kw_header(r, "If-Match") };

	return handlers_call_body(r, "update_outcome_area", handlers_ok_etag,
	    by_id, 1, before, 1);
}
