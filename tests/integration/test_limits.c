/*
 * Abuse limits: per-address and per-token rate limits (429 with
 * Retry-After, and served again after waiting), the security headers on
 * every kind of answer, and the JSON depth and array length limits.
 *
 * The rate limits are tested against a server of their own,
 * $KEYWORK_TEST_LIMITED_URL, which scripts/test.sh starts with two workers
 * and low limits (60 a minute; bursts of 20 per address and 5 per token),
 * each test from a loopback address no other test uses: the main server's
 * limits are far above what the suite sends.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "client.h"

#define ADDRESS_BURST	20
#define TOKEN_BURST	5

static const char	*limited_url(void);
static void		 assert_security_headers(struct resp *, const char *);
static unsigned		 retry_after(struct resp *);
static char		*login_at(const char *, const char *);
static char		*nested(int);

static const char *
limited_url(void)
{
	const char	*u = getenv("KEYWORK_TEST_LIMITED_URL");

	cr_assert_not_null(u, "KEYWORK_TEST_LIMITED_URL is not set");
	return u;
}

/* The headers every answer has; csp NULL: the API's own policy. */
static void
assert_security_headers(struct resp *r, const char *csp)
{
	static const char *const want[][2] = {
		{ "X-Content-Type-Options", "nosniff" },
		{ "X-Frame-Options", "DENY" },
		{ "Referrer-Policy", "no-referrer" },
		{ "Cross-Origin-Resource-Policy", "same-origin" },
	};
	const char	*v, *p;
	size_t		 i;
	int		 n;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		v = kwt_header(r, want[i][0]);
		cr_assert(v != NULL && strcmp(v, want[i][1]) == 0,
		    "status %ld: %s is %s", r->status, want[i][0],
		    v != NULL ? v : "missing");
	}
	cr_assert_not_null(kwt_header(r, "Cache-Control"));
	v = kwt_header(r, "Content-Security-Policy");
	if (csp == NULL)
		cr_assert(v != NULL && strcmp(v,
		    "default-src 'none'; frame-ancestors 'none'") == 0,
		    "status %ld: CSP %s", r->status, v != NULL ? v : "missing");
	else
		cr_assert(v != NULL && strstr(v, csp) != NULL, "CSP %s",
		    v != NULL ? v : "missing");
	/* Exactly one policy: two would both apply, the stricter winning. */
	for (n = 0, p = r->headers; (p = strcasestr(p,
	    "\ncontent-security-policy:")) != NULL; p++)
		n++;
	cr_assert_eq(n, 1, "%d Content-Security-Policy headers", n);
}

/* Retry-After of a 429: whole seconds, at least 1. */
static unsigned
retry_after(struct resp *r)
{
	const char	*v = kwt_header(r, "Retry-After");
	char		*end;
	unsigned long	 n;

	cr_assert_not_null(v, "429 without Retry-After");
	n = strtoul(v, &end, 10);
	cr_assert(*v != '\0' && *end == '\0' && n >= 1, "Retry-After %s", v);
	return (unsigned)n;
}

static char *
login_at(const char *source, const char *email)
{
	struct resp	*r;
	char		*body, *tok;

	body = kwt_json("{s:s, s:s}", "email", email, "password",
	    KWT_DEMO_PASSWORD);
	r = kwt_request_at(limited_url(), source, "POST", "/v1/auth/login",
	    NULL, NULL, body, NULL);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	tok = strdup(kwt_str(r, "access_token"));
	kwt_free(r);
	free(body);
	return tok;
}

Test(limits, per_address_429_with_retry_after_then_served_again)
{
	const char	*src = "127.0.0.9";
	struct resp	*r;
	unsigned	 allowed = 0, wait;
	const char	*d;

	/* Without a token: 401, answered before any database work. */
	for (;;) {
		r = kwt_request_at(limited_url(), src, "GET", "/v1/me", NULL,
		    NULL, NULL, NULL);
		if (r->status == 429)
			break;
		cr_assert_eq(r->status, 401, "%s", r->raw);
		kwt_free(r);
		allowed++;
		cr_assert_lt(allowed, 60, "never limited");
	}
	/* The burst, plus what refilled meanwhile (one a second). */
	cr_assert(allowed >= ADDRESS_BURST && allowed <= ADDRESS_BURST + 3,
	    "%u allowed", allowed);
	d = json_string_value(json_object_get(r->json, "detail"));
	cr_assert(d != NULL && strstr(d, "address") != NULL, "%s", r->raw);
	wait = retry_after(r);
	cr_assert_eq(wait, 1, "at 60 a minute one more comes each second");
	assert_security_headers(r, NULL);
	kwt_free(r);

	/* Still limited: a 404 too, whatever the path. */
	r = kwt_request_at(limited_url(), src, "GET", "/v1/no-such", NULL,
	    NULL, NULL, NULL);
	cr_assert_eq(r->status, 429, "%s", r->raw);
	kwt_free(r);

	/* Health checks are never limited. */
	r = kwt_request_at(limited_url(), src, "GET", "/healthz", NULL, NULL,
	    NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	kwt_free(r);

	/* Another address has its own bucket. */
	r = kwt_request_at(limited_url(), "127.0.0.10", "GET", "/v1/me", NULL,
	    NULL, NULL, NULL);
	cr_assert_eq(r->status, 401, "%s", r->raw);
	kwt_free(r);

	/* After Retry-After, served again: one request, then limited. */
	sleep(wait);
	r = kwt_request_at(limited_url(), src, "GET", "/v1/me", NULL, NULL,
	    NULL, NULL);
	cr_assert_eq(r->status, 401, "%s", r->raw);
	kwt_free(r);
}

Test(limits, per_token_429_with_retry_after_then_served_again)
{
	const char	*src = "127.0.0.11";
	struct resp	*r;
	char		*tok, *tok2;
	unsigned	 allowed = 0, wait;
	const char	*d;

	tok = login_at(src, "keyworker@example.org");
	for (;;) {
		r = kwt_request_at(limited_url(), src, "GET", "/v1/me", tok,
		    NULL, NULL, NULL);
		if (r->status == 429)
			break;
		cr_assert_eq(r->status, 200, "%s", r->raw);
		kwt_free(r);
		allowed++;
		cr_assert_lt(allowed, 15, "never limited");
	}
	cr_assert(allowed >= TOKEN_BURST && allowed <= TOKEN_BURST + 2,
	    "%u allowed", allowed);
	d = json_string_value(json_object_get(r->json, "detail"));
	cr_assert(d != NULL && strstr(d, "token") != NULL, "%s", r->raw);
	wait = retry_after(r);
	cr_assert_eq(wait, 1);
	assert_security_headers(r, NULL);
	kwt_free(r);

	/* Another token from the same address is served. */
	tok2 = login_at(src, "keyworker@example.org");
	r = kwt_request_at(limited_url(), src, "GET", "/v1/me", tok2, NULL,
	    NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	kwt_free(r);

	sleep(wait);
	r = kwt_request_at(limited_url(), src, "GET", "/v1/me", tok, NULL,
	    NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	kwt_free(r);
	free(tok);
	free(tok2);
}

Test(limits, security_headers_on_every_kind_of_answer)
{
	struct resp	*r;
	char		*tok = kwt_login("keyworker@example.org",
			    KWT_DEMO_PASSWORD);

	r = kwt_request("GET", "/v1/me", tok, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	assert_security_headers(r, NULL);
	kwt_free(r);

	r = kwt_request("GET", "/healthz", NULL, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	assert_security_headers(r, NULL);
	kwt_free(r);

	r = kwt_request("GET", "/v1/no-such-thing", NULL, NULL, NULL, NULL);
	cr_assert_eq(r->status, 404);
	assert_security_headers(r, NULL);
	kwt_free(r);

	r = kwt_request("POST", "/v1/auth/login", NULL, NULL, "{\"x\":", NULL);
	cr_assert_eq(r->status, 400);
	assert_security_headers(r, NULL);
	kwt_free(r);

	r = kwt_request("GET", "/v1/me", NULL, NULL, NULL, NULL);
	cr_assert_eq(r->status, 401);
	assert_security_headers(r, NULL);
	kwt_free(r);

	/* The reference page keeps its own policy, and only that one. */
	r = kwt_request("GET", "/docs", NULL, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	assert_security_headers(r, "script-src");
	kwt_free(r);
	free(tok);
}

/* {"email": ..., "password": ..., "x": [[[...]]]} with depth levels in all. */
static char *
nested(int depth)
{
	size_t	 n = (size_t)depth - 1, i;
	char	*s, *p;

	s = malloc(n * 2 + 128);
	p = s + sprintf(s, "{\"email\":\"a@example.org\",\"password\":\"x\","
	    "\"x\":");
	for (i = 0; i < n; i++)
		*p++ = '[';
	for (i = 0; i < n; i++)
		*p++ = ']';
	strcpy(p, "}");
	return s;
}

Test(limits, json_depth_and_array_length_are_400_naming_the_limit)
{
	struct resp	*r;
	json_t		*e;
	char		*body;
	const char	*d, *ptr;
	size_t		 i;
	json_t		*arr, *doc;

	/* 33 levels (the object and 32 arrays) against the default 32. */
	body = nested(33);
	r = kwt_request("POST", "/v1/auth/login", NULL, NULL, body, NULL);
	cr_assert_eq(r->status, 400, "%s", r->raw);
	d = json_string_value(json_object_get(r->json, "detail"));
	cr_assert(d != NULL && strstr(d, "32 levels") != NULL, "%s", r->raw);
	e = json_array_get(json_object_get(r->json, "errors"), 0);
	ptr = json_string_value(json_object_get(e, "pointer"));
	cr_assert(ptr != NULL && strncmp(ptr, "/x/0/0", 6) == 0, "%s", r->raw);
	cr_assert_str_eq(json_string_value(json_object_get(e, "location")),
	    "body");
	kwt_free(r);
	free(body);

	/* 32 levels pass this check: the schema answers (unknown "x"). */
	body = nested(32);
	r = kwt_request("POST", "/v1/auth/login", NULL, NULL, body, NULL);
	cr_assert_eq(r->status, 400, "%s", r->raw);
	d = json_string_value(json_object_get(r->json, "detail"));
	cr_assert(d != NULL && strstr(d, "levels") == NULL, "%s", r->raw);
	kwt_free(r);
	free(body);

	/* An array of 10,001 numbers against the default 10,000. */
	arr = json_array();
	for (i = 0; i < 10001; i++)
		json_array_append_new(arr, json_integer((json_int_t)i));
	doc = json_pack("{s:s, s:s, s:o}", "email", "a@example.org",
	    "password", "x", "list", arr);
	body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	r = kwt_request("POST", "/v1/auth/login", NULL, NULL, body, NULL);
	cr_assert_eq(r->status, 400, "%s", r->raw);
	d = json_string_value(json_object_get(r->json, "detail"));
	cr_assert(d != NULL && strstr(d, "10000 elements") != NULL, "%s",
	    r->raw);
	e = json_array_get(json_object_get(r->json, "errors"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(e, "pointer")),
	    "/list");
	kwt_free(r);
	free(body);
}
