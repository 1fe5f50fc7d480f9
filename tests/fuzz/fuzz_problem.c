/*
 * libFuzzer target: the problem+json error path. The first byte picks the
 * path:
 *   even: a database error's fields ("sqlstate\nmessage\ndetail") mapped
 *         to a status (db_error_fields) and a problem body with the
 *         DETAIL's members (problem_add_extra);
 *   odd:  the rest is a request body, parsed as the server parses it and
 *         validated against the request schema of the operation the
 *         second byte picks from openapi.yaml, its errors added to a 400
 *         problem (problem_add_errors).
 * Either way the body must serialise to JSON that parses back with the
 * status, type and title intact.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "openapi.h"
#include "problem.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct openapi	*spec;

static void
check(json_t *p, int status)
{
	json_t	*back;
	char	*s;

	if ((s = json_dumps(p, JSON_COMPACT)) == NULL)
		__builtin_trap();
	if ((back = json_loads(s, 0, NULL)) == NULL)
		__builtin_trap();
	if (json_integer_value(json_object_get(back, "status")) != status ||
	    strncmp(json_string_value(json_object_get(back, "type")),
	    "urn:keywork:problem:", 20) != 0 ||
	    !json_is_string(json_object_get(back, "title")))
		__builtin_trap();
	json_decref(back);
	free(s);
}

static void
db_path(const char *s)
{
	struct db_error	 e;
	char		*buf, *msg = NULL, *detail = NULL, *nl;
	json_t		*p;

	buf = strdup(s);
	if ((nl = strchr(buf, '\n')) != NULL) {
		*nl = '\0';
		msg = nl + 1;
		if ((nl = strchr(msg, '\n')) != NULL) {
			*nl = '\0';
			detail = nl + 1;
		}
	}
	memset(&e, 0, sizeof(e));
	db_error_fields(buf[0] == '\0' ? NULL : buf, msg, detail, &e);
	if (e.status < 400 || e.status > 599)
		__builtin_trap();
	p = problem_new(e.status, NULL, e.detail);
	problem_add_extra(p, e.extra);
	check(p, e.status);
	json_decref(p);
	free(buf);
}

static void
body_path(uint8_t pick, const uint8_t *d, size_t n)
{
	struct jsonschema_errors	 errs;
	struct openapi_op		*op = NULL;
	json_error_t			 jerr;
	json_t				*body, *p;
	size_t				 i, count;

	count = openapi_op_count(spec);
	for (i = 0; i < count && op == NULL; i++) {
		op = openapi_op_at(spec, (pick + i) % count);
		if (op->body_schema == NULL)
			op = NULL;
	}
	if (op == NULL)
		return;
	body = json_loadb((const char *)d, n, JSON_REJECT_DUPLICATES, &jerr);
	if (body == NULL) {
		p = problem_new(400, NULL, jerr.text);
		check(p, 400);
		json_decref(p);
		return;
	}
	jsonschema_errors_init(&errs);
	if (jsonschema_validate(openapi_document(spec), op->body_schema, body, "",
	    &errs) == -1) {
		p = problem_new(400, NULL, "The body does not match.");
		problem_add_errors(p, "body", &errs);
		check(p, 400);
		json_decref(p);
	}
	jsonschema_errors_cleanup(&errs);
	json_decref(body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char	err[512], *s;

	if (spec == NULL && (spec = openapi_load("openapi.yaml", err,
	    sizeof(err))) == NULL)
		abort();
	if (n < 2)
		return 0;
	if ((d[0] & 1) == 0) {
		if ((s = malloc(n)) == NULL)
			abort();
		memcpy(s, d + 1, n - 1);
		s[n - 1] = '\0';
		db_path(s);
		free(s);
	} else
		body_path(d[1], d + 2, n - 2);
	return 0;
}
