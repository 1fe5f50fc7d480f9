/*
 * Service endpoints: liveness, readiness, the spec, request ids.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "client.h"

Test(service, healthz_answers_ok)
{
	struct resp	*r = kwt_request("GET", "/healthz", NULL, NULL, NULL, NULL);

	cr_assert_eq(r->status, 200);
	cr_assert_str_eq(kwt_str(r, "status"), "ok");
	kwt_free(r);
}

Test(service, readyz_answers_ready_when_the_database_is_up)
{
	struct resp	*r = kwt_request("GET", "/readyz", NULL, NULL, NULL, NULL);

	cr_assert_eq(r->status, 200, "%s", r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "ready");
	kwt_free(r);
}

Test(service, openapi_json_is_the_spec)
{
	struct resp	*r = kwt_request("GET", "/openapi.json", NULL, NULL, NULL,
			    NULL);

	cr_assert_eq(r->status, 200);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "openapi")),
	    "3.1.0");
	cr_assert_not_null(json_object_get(json_object_get(r->json, "paths"),
	    "/v1/auth/login"));
	kwt_free(r);
}

Test(service, request_id_is_echoed_or_made)
{
	const char	*h[] = { "X-Request-Id: test-abc.123", NULL };
	const char	*bad[] = { "X-Request-Id: bad id with spaces", NULL };
	struct resp	*r;

	r = kwt_request("GET", "/healthz", NULL, NULL, NULL, h);
	cr_assert_str_eq(kwt_header(r, "X-Request-Id"), "test-abc.123");
	kwt_free(r);
	r = kwt_request("GET", "/healthz", NULL, NULL, NULL, bad);
	cr_assert_str_neq(kwt_header(r, "X-Request-Id"), "bad id with spaces");
	cr_assert_eq(strlen(kwt_header(r, "X-Request-Id")), 32);
	kwt_free(r);
}
