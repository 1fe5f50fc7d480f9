/*
 * Handlers of the "service" tag: liveness, readiness and the spec itself.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

/* The spec as JSON, rendered once per worker on first use. */
static char	*spec_json;
static size_t	 spec_json_len;

int
h_get_health(struct kw_req *r)
{
	return kw_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

int
h_get_ready(struct kw_req *r)
{
	r->error_status = 503;
	return kw_call(r, "ready", 0, handlers_ok, 0, NULL);
}

int
h_get_openapi(struct kw_req *r)
{
	if (spec_json == NULL) {
		spec_json = json_dumps(openapi_document(kw_spec),
		    JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (spec_json == NULL)
			abort();
		spec_json_len = strlen(spec_json);
	}
	return kw_reply_raw(r, 200, "application/json", spec_json,
	    spec_json_len);
}
