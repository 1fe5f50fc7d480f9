/*
 * problem: RFC 9457 bodies and the errors list.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "problem.h"

Test(problem, has_type_title_status_detail)
{
	json_t	*p = problem_new(404, NULL, "No such resource.");

	cr_assert_str_eq(json_string_value(json_object_get(p, "type")),
	    "urn:keywork:problem:not-found");
	cr_assert_str_eq(json_string_value(json_object_get(p, "title")), "Not Found");
	cr_assert_eq(json_integer_value(json_object_get(p, "status")), 404);
	cr_assert_str_eq(json_string_value(json_object_get(p, "detail")),
	    "No such resource.");
	json_decref(p);
	p = problem_new(599, NULL, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(p, "title")), "Error");
	cr_assert_null(json_object_get(p, "detail"));
	json_decref(p);
}

Test(problem, errors_split_parameter_locations)
{
	struct jsonschema_errors	 errs;
	json_t				*p, *e;

	jsonschema_errors_init(&errs);
	jsonschema_errors_add(&errs, "/query/limit", "must be at most 200");
	jsonschema_errors_add(&errs, "/path/id", "must be a uuid");
	jsonschema_errors_add(&errs, "/header/If-Match", "is required");
	p = problem_new(400, NULL, "bad");
	problem_add_errors(p, "parameter", &errs);
	e = json_object_get(p, "errors");
	cr_assert_eq(json_array_size(e), 3);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(e, 0),
	    "location")), "query");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(e, 0),
	    "pointer")), "/limit");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(e, 1),
	    "location")), "path");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(e, 2),
	    "pointer")), "/If-Match");
	jsonschema_errors_cleanup(&errs);
	json_decref(p);
}

Test(problem, body_pointers_are_kept_whole)
{
	struct jsonschema_errors	 errs;
	json_t				*p, *e;

	jsonschema_errors_init(&errs);
	jsonschema_errors_add(&errs, "/query/x", "is required");
	p = problem_new(400, NULL, "bad");
	problem_add_errors(p, "body", &errs);
	e = json_array_get(json_object_get(p, "errors"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(e, "location")), "body");
	cr_assert_str_eq(json_string_value(json_object_get(e, "pointer")), "/query/x");
	jsonschema_errors_cleanup(&errs);
	json_decref(p);
}
