/*
 * Handlers of the "notes" tag: append-only case notes. Only full access
 * reads them; the database refuses the rest.
 */
#include "handlers.h"

static const char *const by_id[] = { "id" };
static const char *const by_note[] = { "id", "note_id" };

int
h_list_notes(struct kw_req *r)
{
	return handlers_list(r, "list_notes", handlers_page, by_id, 1, NULL, 0);
}

int
h_create_note(struct kw_req *r)
{
	const char	*before[1] = { kw_header(r, "Idempotency-Key") };

	return handlers_call_body(r, "create_note", handlers_created, by_id, 1,
	    before, 1);
}

int
h_get_note(struct kw_req *r)
{
	return handlers_call(r, "get_note", handlers_ok, by_note, 2, NULL, 0);
}
