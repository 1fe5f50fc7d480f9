/*
 * problem: RFC 9457 problem details bodies (application/problem+json).
 * Pure functions over Jansson, shared by the server and the tests.
 */
#ifndef KEYWORK_PROBLEM_H
#define KEYWORK_PROBLEM_H

#include <jansson.h>

#include "jsonschema.h"

/*
 * A new problem object {type, title, status, detail}. type is derived from
 * status ("urn:keywork:problem:<slug>"), title is the standard text for it
 * unless title is non-NULL. detail may be NULL. Returns an owned reference.
 */
json_t		*problem_new(int status, const char *title, const char *detail);

/*
 * Add an "errors" list to p: one {location, pointer, detail} per entry of
 * errs. location is where the fault is ("body", "path", "query", "header");
 * entries whose pointer starts with "/path/", "/query/" or "/header/" are
 * split into that location and the rest of the pointer (e.g. "/query/limit"
 * becomes location "query", pointer "/limit") unless location is "body".
 */
void		 problem_add_errors(json_t *p, const char *location,
		    const struct jsonschema_errors *errs);

/*
 * Add the members of extra (a JSON object's text, e.g. {"rule": ...}) that
 * p does not have yet: type, title, status and detail always stay. Text
 * that is not a JSON object is ignored.
 */
void		 problem_add_extra(json_t *p, const char *extra);

/* The standard reason phrase for a status ("Not Found"), or "Error". */
const char	*problem_status_title(int status);

#endif
