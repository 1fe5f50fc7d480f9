/*
 * problem: see problem.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"

struct problem_kind {
	int		 status;
	const char	*slug;
	const char	*title;
};

static const struct problem_kind *problem_kind(int);

static const struct problem_kind problem_kinds[] = {
	{ 400, "bad-request", "Bad Request" },
	{ 401, "unauthorized", "Unauthorized" },
	{ 403, "forbidden", "Forbidden" },
	{ 404, "not-found", "Not Found" },
	{ 405, "method-not-allowed", "Method Not Allowed" },
	{ 409, "conflict", "Conflict" },
	{ 411, "length-required", "Length Required" },
	{ 412, "precondition-failed", "Precondition Failed" },
	{ 413, "content-too-large", "Content Too Large" },
	{ 415, "unsupported-media-type", "Unsupported Media Type" },
	{ 422, "unprocessable-content", "Unprocessable Content" },
	{ 428, "precondition-required", "Precondition Required" },
	{ 429, "too-many-requests", "Too Many Requests" },
	{ 500, "internal-error", "Internal Server Error" },
	{ 503, "unavailable", "Service Unavailable" },
	{ 0, "error", "Error" },
};

static const struct problem_kind *
problem_kind(int status)
{
	const struct problem_kind	*k;

	for (k = problem_kinds; k->status != 0; k++) {
		if (k->status == status)
			return k;
	}
	return k;
}

const char *
problem_status_title(int status)
{
	return problem_kind(status)->title;
}

json_t *
problem_new(int status, const char *title, const char *detail)
{
	const struct problem_kind	*k = problem_kind(status);
	json_t				*p;
	char				 type[96];

	snprintf(type, sizeof(type), "urn:keywork:problem:%s", k->slug);
	p = json_pack("{s:s, s:s, s:i}", "type", type,
	    "title", title != NULL ? title : k->title, "status", status);
	if (p == NULL)
		abort();
	if (detail != NULL)
		json_object_set_new(p, "detail", json_string(detail));
	return p;
}

void
problem_add_errors(json_t *p, const char *location,
    const struct jsonschema_errors *errs)
{
	static const char	*params[] = { "path", "query", "header", NULL };
	json_t			*list, *e;
	const char		*ptr, *loc;
	size_t			 i, j, n;

	if ((list = json_object_get(p, "errors")) == NULL) {
		list = json_array();
		json_object_set_new(p, "errors", list);
	}
	for (i = 0; i < errs->n; i++) {
		ptr = errs->items[i].pointer;
		loc = location;
		if (strcmp(location, "body") != 0) {
			for (j = 0; params[j] != NULL; j++) {
				n = strlen(params[j]);
				if (ptr[0] == '/' && strncmp(ptr + 1, params[j], n) == 0 &&
				    (ptr[n + 1] == '/' || ptr[n + 1] == '\0')) {
					loc = params[j];
					ptr += n + 1;
					break;
				}
			}
		}
		e = json_pack("{s:s, s:s, s:s}", "location", loc,
		    "pointer", ptr, "detail", errs->items[i].message);
		if (e == NULL)
			abort();
		json_array_append_new(list, e);
	}
}

void
problem_add_extra(json_t *p, const char *extra)
{
	json_t	*o;

	if (extra == NULL || extra[0] == '\0')
		return;
	if ((o = json_loads(extra, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return;
	if (json_is_object(o))
		json_object_update_missing(p, o);
	json_decref(o);
}
