/*
 * Handlers of the "audit" tag: the audit trail, for data-protection
 * officers and line managers (api.list_audit decides who sees what), and
 * subject access exports, for data-protection officers only
 * (api.export_person).
 */
#include "handlers.h"

int
h_list_audit(struct kw_req *r)
{
	static const char *const names[] = { "episode_id", "user_id", "from", "to" };
	const char	*extra[4];
	json_t		*v;
	size_t		 i;

	for (i = 0; i < 4; i++) {
		v = kw_query(r, names[i]);
		extra[i] = v != NULL ? json_string_value(v) : NULL;
	}
	return handlers_list(r, "list_audit", handlers_page_by_at, NULL, 0,
	    extra, 4);
}

int
h_export_person(struct kw_req *r)
{
	static const char *const by_id[] = { "id" };

	return handlers_call(r, "export_person", handlers_ok, by_id, 1, NULL, 0);
}
