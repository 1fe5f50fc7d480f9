/*
 * Unit tests of openapi: loading and its refusals, routing (literal over
 * parameter, 404 against 405, decoding, limits), security inheritance,
 * parameter checks and response schema lookup. Run from the repository
 * root (specs under tests/unit/data).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "openapi.h"

#define DATA	"tests/unit/data/"
#define ROUTER	DATA "openapi-router.yaml"

struct hdr {
	const char	*name;
	const char	*value;
};

static struct openapi	*load_ok(const char *);
static const char	*hdr_lookup(void *, const char *);
static const char	*err_message(const struct jsonschema_errors *,
			    const char *);
static void		 assert_no_values(const struct jsonschema_errors *,
			    const char *);
static int		 check(struct openapi *, const char *, const char *,
			    const char *, const struct hdr *, json_t **,
			    struct jsonschema_errors *);

static struct openapi *
load_ok(const char *path)
{
	struct openapi	*oa;
	char		 err[512];

	oa = openapi_load(path, err, sizeof(err));
	cr_assert_not_null(oa, "%s: %s", path, err);
	return (oa);
}

/* Headers are a {NULL, NULL}-terminated list, looked up like HTTP does. */
static const char *
hdr_lookup(void *ctx, const char *name)
{
	const struct hdr	*h;

	for (h = ctx; h != NULL && h->name != NULL; h++) {
		if (strcasecmp(h->name, name) == 0)
			return (h->value);
	}
	return (NULL);
}

/* The message at pointer, or NULL. */
static const char *
err_message(const struct jsonschema_errors *errs, const char *pointer)
{
	size_t	i;

	for (i = 0; i < errs->n; i++) {
		if (strcmp(errs->items[i].pointer, pointer) == 0)
			return (errs->items[i].message);
	}
	return (NULL);
}

/* Messages may be shown to anyone: they must not echo what was sent. */
static void
assert_no_values(const struct jsonschema_errors *errs, const char *value)
{
	size_t	i;

	if (value == NULL || strlen(value) < 3)
		return;
	for (i = 0; i < errs->n; i++) {
		cr_assert(strstr(errs->items[i].message, value) == NULL,
		    "message \"%s\" echoes \"%s\"", errs->items[i].message,
		    value);
	}
}

/* Route method path, then check its parameters. */
static int
check(struct openapi *oa, const char *method, const char *path,
    const char *query, const struct hdr *hdrs, json_t **out,
    struct jsonschema_errors *errs)
{
	struct openapi_match	 m;
	struct openapi_op	*op;
	int			 rc;

	rc = openapi_match(oa, openapi_method_from_string(method), path, &op,
	    &m);
	cr_assert_eq(rc, OPENAPI_MATCH_OK, "%s %s: %d", method, path, rc);
	rc = openapi_check_params(oa, op, &m, query, hdr_lookup, (void *)hdrs,
	    out, errs);
	openapi_match_cleanup(&m);
	return (rc);
}

Test(openapi, load_indexes_operations)
{
	struct openapi		*oa;
	struct openapi_op	*op;
	size_t			 i, n;

	oa = load_ok(ROUTER);
	cr_assert_eq(openapi_op_count(oa), 14);
	cr_assert_not_null(openapi_document(oa));
	cr_assert_null(openapi_op_at(oa, 14));
	for (i = n = 0; i < openapi_op_count(oa); i++) {
		op = openapi_op_at(oa, i);
		cr_assert_eq(openapi_op_find(oa, op->operation_id), op);
		n++;
	}
	cr_assert_eq(n, 14);
	cr_assert_null(openapi_op_find(oa, "nope"));

	op = openapi_op_find(oa, "getUser");
	cr_assert_not_null(op);
	cr_assert_str_eq(op->path, "/v1/users/{id}");
	cr_assert_eq(op->method, OPENAPI_GET);
	cr_assert_str_eq(op->tag, "users");
	cr_assert_null(op->body_schema);
	cr_assert_not_null(op->responses);
	cr_assert_null(op->handler);
	/* The path-level $ref parameter, with its $ref schema resolved. */
	cr_assert_eq(op->nparams, 1);
	cr_assert_str_eq(op->params[0].name, "id");
	cr_assert_eq(op->params[0].in, OPENAPI_IN_PATH);
	cr_assert_eq(op->params[0].required, 1);
	cr_assert_str_eq(json_string_value(json_object_get(op->params[0].schema,
	    "format")), "uuid");

	op = openapi_op_find(oa, "getMe");
	cr_assert_str_eq(op->tag, "users");
	cr_assert_eq(op->nparams, 0);
	op = openapi_op_find(oa, "deleteUser");
	cr_assert_str_eq(op->tag, "");

	/* A path parameter is required even when the spec does not say so. */
	op = openapi_op_find(oa, "putItem");
	cr_assert_eq(op->params[0].required, 1);
	cr_assert_eq(op->method, OPENAPI_PUT);

	openapi_free(oa);
	openapi_free(NULL);
}

Test(openapi, parameters_merge_op_over_path_level)
{
	struct openapi		*oa;
	struct openapi_op	*op;
	const json_t		*type;
	size_t			 i;
	int			 flag, q, auth;

	oa = load_ok(ROUTER);
	op = openapi_op_find(oa, "listItems");
	cr_assert_not_null(op);
	flag = q = auth = 0;
	for (i = 0; i < op->nparams; i++) {
		if (strcmp(op->params[i].name, "flag") == 0) {
			flag++;
			type = json_object_get(op->params[i].schema, "type");
			cr_assert_str_eq(json_string_value(type), "boolean");
		}
		if (strcmp(op->params[i].name, "q") == 0)
			q++;
		if (strcasecmp(op->params[i].name, "Authorization") == 0)
			auth++;
	}
	cr_assert_eq(flag, 1, "flag must be overridden, not duplicated");
	cr_assert_eq(q, 1, "q comes from the path level");
	cr_assert_eq(auth, 0, "Authorization is ignored, as OpenAPI says");
	/* 2 path-level (1 overridden) + 10 op-level - Authorization */
	cr_assert_eq(op->nparams, 10);

	/* createItem has the path-level query parameters too. */
	op = openapi_op_find(oa, "createItem");
	cr_assert_eq(op->nparams, 2);
	openapi_free(oa);
}

Test(openapi, request_bodies)
{
	struct openapi		*oa;
	struct openapi_op	*op;
	const json_t		*doc, *item;

	oa = load_ok(ROUTER);
	doc = openapi_document(oa);
	item = json_object_get(json_object_get(json_object_get(doc,
	    "components"), "requestBodies"), "Item");

	op = openapi_op_find(oa, "createItem");
	cr_assert_eq(op->body_required, 1);
	cr_assert_eq(op->body_schema, json_object_get(json_object_get(
	    json_object_get(item, "content"), "application/json"), "schema"));

	op = openapi_op_find(oa, "putItem");
	cr_assert_eq(op->body_required, 0);
	cr_assert_str_eq(json_string_value(json_object_get(op->body_schema,
	    "$ref")), "#/components/schemas/Item");
	openapi_free(oa);
}

Test(openapi, security_inheritance)
{
	static const struct {
		const char	*file;
		const char	*op;
		int		 auth;
	} cases[] = {
		{ ROUTER, "getMe", 1 },		/* document-level bearer */
		{ ROUTER, "getUser", 1 },
		{ ROUTER, "root", 0 },		/* security: [] */
		{ ROUTER, "ping", 0 },
		{ ROUTER, "listItems", 1 },	/* its own, non-empty */
		{ ROUTER, "optionalAuth", 0 },	/* [bearer, {}] */
		/* no security at either level */
		{ DATA "openapi-minimal.yaml", "open", 0 },
		{ DATA "openapi-minimal.yaml", "closed", 1 },
	};
	struct openapi		*oa;
	struct openapi_op	*op;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		oa = load_ok(cases[i].file);
		op = openapi_op_find(oa, cases[i].op);
		cr_assert_not_null(op, "%s", cases[i].op);
		cr_assert_eq(op->auth_required, cases[i].auth, "%s",
		    cases[i].op);
		openapi_free(oa);
	}
}

Test(openapi, load_refusals)
{
	static const struct {
		const char	*file;
		const char	*err;
	} cases[] = {
		{ "openapi-bad-version.yaml",
		    "\"openapi\" must be a 3.1.x version string" },
		{ "openapi-bad-no-operation-id.yaml",
		    "GET /a: missing operationId" },
		{ "openapi-bad-duplicate-operation-id.yaml",
		    "POST /b: duplicate operationId \"same\"" },
		{ "openapi-bad-template-unnamed.yaml",
		    "GET /users/{id}: no path parameter for {id}" },
		{ "openapi-bad-template-extra.yaml",
		    "GET /users/{id}: path parameter \"other\" is not in the "
		    "template" },
		{ "openapi-bad-ref.yaml",
		    "$ref \"#/components/parameters/Missing\" does not "
		    "resolve" },
		{ "openapi-bad-schema-ref.yaml",
		    "$ref \"#/components/schemas/Nope\" does not resolve" },
		{ "openapi-bad-default-ref.yaml",
		    "$ref \"#/components/responses/Gone\" does not resolve" },
		{ "openapi-bad-external-ref.yaml",
		    "$ref \"common.yaml#/Thing\": only local references" },
		{ "openapi-bad-ref-loop.yaml",
		    "GET /a: $ref does not resolve or loops" },
		{ "openapi-bad-path-ref.yaml",
		    "/a: $ref path items are not supported" },
		{ "openapi-bad-cookie.yaml",
		    "parameter \"session\": in: cookie is not supported" },
		{ "openapi-bad-mixed-segment.yaml",
		    "a segment must be literal or a whole {name}" },
		{ "openapi-bad-trailing-slash.yaml",
		    "has an empty segment or a trailing slash" },
		{ "openapi-bad-conflict.yaml", "GET /a/{y}: conflicts with "
		    "/a/{x}" },
		{ "openapi-bad-body.yaml",
		    "POST /a: requestBody text/plain needs schema {type: string, "
		    "format: binary}" },
		{ "openapi-bad-object-param.yaml",
		    "object parameters are not supported" },
		{ "openapi-bad-yaml.yaml", "openapi-bad-yaml.yaml:7:6: did "
		    "not find expected key" },
		{ "openapi-bad-not-mapping.yaml",
		    "the document is not a mapping" },
		{ "no-such-spec.yaml", "No such file or directory" },
	};
	struct openapi	*oa;
	char		 path[256], err[512];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), DATA "%s", cases[i].file);
		err[0] = '\0';
		oa = openapi_load(path, err, sizeof(err));
		cr_assert_null(oa, "%s was accepted", cases[i].file);
		cr_assert(strncmp(err, path, strlen(path)) == 0,
		    "%s: error does not name the file: %s", cases[i].file,
		    err);
		cr_assert(strstr(err, cases[i].err) != NULL,
		    "%s: want \"%s\" in \"%s\"", cases[i].file, cases[i].err,
		    err);
	}
}

/* One request and where it must land. */
struct route_case {
	const char	*method;
	const char	*path;
	int		 rc;
	const char	*op;		/* on OK */
	unsigned	 allow;		/* on OK and NO_METHOD */
	const char	*p0, *v0;	/* first path parameter */
	const char	*p1, *v1;
};

#define U "/v1/users/"
#define UUID "5f0c2a8e-1b2c-4d3e-8f90-a1b2c3d4e5f6"

#define OK(m, p, op, allow) \
	{ m, p, OPENAPI_MATCH_OK, op, allow, NULL, NULL, NULL, NULL }
#define OK1(m, p, op, allow, p0, v0) \
	{ m, p, OPENAPI_MATCH_OK, op, allow, p0, v0, NULL, NULL }
#define OK2(m, p, op, allow, p0, v0, p1, v1) \
	{ m, p, OPENAPI_MATCH_OK, op, allow, p0, v0, p1, v1 }
#define NO_METHOD(m, p, allow) \
	{ m, p, OPENAPI_MATCH_NO_METHOD, NULL, allow, NULL, NULL, NULL, NULL }
#define NO_PATH(m, p) \
	{ m, p, OPENAPI_MATCH_NO_PATH, NULL, 0, NULL, NULL, NULL, NULL }

#define GD	(OPENAPI_GET | OPENAPI_DELETE)
#define GP	(OPENAPI_GET | OPENAPI_POST)
#define GH	(OPENAPI_GET | OPENAPI_HEAD)

static const struct route_case route_cases[] = {
	OK("GET", "/", "root", OPENAPI_GET),
	OK("GET", U "me", "getMe", OPENAPI_GET),
	OK1("GET", U UUID, "getUser", GD, "id", UUID),
	OK1("DELETE", U "x", "deleteUser", GD, "id", "x"),
	/* the literal path wins, so DELETE /v1/users/me is not deleteUser */
	NO_METHOD("DELETE", U "me", OPENAPI_GET),
	/* ... but the walk backtracks into the parameter when it must */
	OK1("GET", U "me/posts", "listPosts", OPENAPI_GET, "id", "me"),
	OK1("GET", U "42/posts", "listPosts", OPENAPI_GET, "id", "42"),
	NO_METHOD("POST", U "42", GD),
	OK2("GET", "/v1/a/one/b/2", "getAB", OPENAPI_GET, "x", "one",
	    "y", "2"),
	OK("GET", "/v1/items", "listItems", GP),
	OK("POST", "/v1/items", "createItem", GP),
	NO_METHOD("PUT", "/v1/items", GP),
	OK1("PUT", "/v1/items/7", "putItem", OPENAPI_PUT | OPENAPI_PATCH,
	    "itemId", "7"),
	OK1("PATCH", "/v1/items/7", "patchItem", OPENAPI_PUT | OPENAPI_PATCH,
	    "itemId", "7"),
	/* HEAD only where the spec has it */
	OK("HEAD", "/v1/ping", "pingHead", GH),
	NO_METHOD("HEAD", U "me", OPENAPI_GET),
	NO_METHOD("OPTIONS", "/v1/ping", GH),
	NO_METHOD("BREW", "/v1/ping", GH),
	/* unknown paths, and the shapes that never match */
	NO_PATH("GET", "/v1"),
	NO_PATH("GET", "/v1/users"),
	NO_PATH("GET", "/v1/nope"),
	NO_PATH("GET", U "me/"),
	NO_PATH("GET", U "me/posts/"),
	NO_PATH("GET", U "me/posts/x"),
	NO_PATH("GET", "/v1//users/me"),
	NO_PATH("GET", U),
	NO_PATH("GET", "//"),
	NO_PATH("GET", ""),
	NO_PATH("GET", "v1/users/me"),
	NO_PATH("GET", "/V1/users/me"),
	NO_PATH("GET", "/v1/a/one/b"),
	/* literal segments are compared as sent */
	OK1("GET", U "m%65", "getUser", GD, "id", "me"),
	/* parameter values are percent-decoded; '+' is not a space here */
	OK1("GET", "/v1/files/a%20b", "getFile", OPENAPI_GET, "name", "a b"),
	OK1("GET", "/v1/files/a%2Fb", "getFile", OPENAPI_GET, "name", "a/b"),
	OK1("GET", "/v1/files/a+b", "getFile", OPENAPI_GET, "name", "a+b"),
	OK1("GET", "/v1/files/%C3%A9t%c3%a9", "getFile", OPENAPI_GET, "name",
	    "\xc3\xa9t\xc3\xa9"),
	NO_PATH("GET", "/v1/files/%zz"),
	NO_PATH("GET", "/v1/files/a%2"),
	NO_PATH("GET", "/v1/files/a%"),
	NO_PATH("GET", "/v1/files/%00"),
	NO_PATH("GET", "/v1/files/a%g0"),
	/* a bad escape is a 404 even where the method would be a 405 */
	NO_PATH("DELETE", "/v1/files/%zz"),
};


Test(openapi, routing)
{
	const struct route_case	*c;
	struct openapi		*oa;
	struct openapi_op	*op;
	struct openapi_match	 m;
	size_t			 i;
	int			 rc;

	oa = load_ok(ROUTER);
	for (i = 0; i < sizeof(route_cases) / sizeof(route_cases[0]); i++) {
		c = &route_cases[i];
		op = (struct openapi_op *)1;
		rc = openapi_match(oa, openapi_method_from_string(c->method),
		    c->path, &op, &m);
		cr_assert_eq(rc, c->rc, "%s %s: rc %d, want %d", c->method,
		    c->path, rc, c->rc);
		if (rc == OPENAPI_MATCH_OK) {
			cr_assert_str_eq(op->operation_id, c->op, "%s %s",
			    c->method, c->path);
		} else {
			cr_assert_null(op, "%s %s", c->method, c->path);
			cr_assert_eq(m.nparams, 0);
		}
		cr_assert_eq(m.allow, rc == OPENAPI_MATCH_NO_PATH ? 0 :
		    c->allow, "%s %s: allow %#x", c->method, c->path, m.allow);
		if (rc == OPENAPI_MATCH_OK) {
			cr_assert_eq(m.nparams, (c->p0 != NULL) +
			    (c->p1 != NULL), "%s %s", c->method, c->path);
		}
		if (rc == OPENAPI_MATCH_OK && c->p0 != NULL) {
			cr_assert_str_eq(m.params[0].name, c->p0);
			cr_assert_str_eq(m.params[0].value, c->v0, "%s %s",
			    c->method, c->path);
		}
		if (rc == OPENAPI_MATCH_OK && c->p1 != NULL) {
			cr_assert_str_eq(m.params[1].name, c->p1);
			cr_assert_str_eq(m.params[1].value, c->v1);
		}
		openapi_match_cleanup(&m);
		/* twice is harmless */
		openapi_match_cleanup(&m);
	}
	openapi_free(oa);
}

Test(openapi, long_paths)
{
	struct openapi		*oa;
	struct openapi_op	*op;
	struct openapi_match	 m;
	char			 path[4096];
	size_t			 i, n;
	int			 rc;

	oa = load_ok(ROUTER);

	/* 2048 bytes is still a path. */
	n = strlen("/v1/files/");
	memcpy(path, "/v1/files/", n);
	memset(path + n, 'a', 2048 - n);
	path[2048] = '\0';
	rc = openapi_match(oa, OPENAPI_GET, path, &op, &m);
	cr_assert_eq(rc, OPENAPI_MATCH_OK);
	cr_assert_eq(strlen(m.params[0].value), 2048 - n);
	openapi_match_cleanup(&m);

	/* 2049 is not. */
	memset(path + n, 'a', 2049 - n);
	path[2049] = '\0';
	rc = openapi_match(oa, OPENAPI_GET, path, &op, &m);
	cr_assert_eq(rc, OPENAPI_MATCH_NO_PATH);
	openapi_match_cleanup(&m);

	/* Far longer, unterminated within the limit scan. */
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	rc = openapi_match(oa, OPENAPI_GET, path, &op, &m);
	cr_assert_eq(rc, OPENAPI_MATCH_NO_PATH);
	openapi_match_cleanup(&m);

	/* Too many segments, even short ones. */
	for (i = 0; i < 40; i++)
		memcpy(path + i * 2, "/a", 2);
	path[80] = '\0';
	rc = openapi_match(oa, OPENAPI_GET, path, &op, &m);
	cr_assert_eq(rc, OPENAPI_MATCH_NO_PATH);
	openapi_match_cleanup(&m);

	rc = openapi_match(oa, OPENAPI_GET, NULL, &op, &m);
	cr_assert_eq(rc, OPENAPI_MATCH_NO_PATH);
	openapi_match_cleanup(&m);
	openapi_free(oa);
}

Test(openapi, methods_and_allow_strings)
{
	char	buf[64];

	cr_assert_eq(openapi_method_from_string("GET"), OPENAPI_GET);
	cr_assert_eq(openapi_method_from_string("get"), OPENAPI_GET);
	cr_assert_eq(openapi_method_from_string("Delete"), OPENAPI_DELETE);
	cr_assert_eq(openapi_method_from_string("OPTIONS"), OPENAPI_OPTIONS);
	cr_assert_eq(openapi_method_from_string("HEAD"), OPENAPI_HEAD);
	cr_assert_eq(openapi_method_from_string("TRACE"), 0);
	cr_assert_eq(openapi_method_from_string("GETX"), 0);
	cr_assert_eq(openapi_method_from_string(""), 0);
	cr_assert_eq(openapi_method_from_string(NULL), 0);

	openapi_allow_string(OPENAPI_GET | OPENAPI_POST, buf, sizeof(buf));
	cr_assert_str_eq(buf, "GET, POST");
	openapi_allow_string(0x7f, buf, sizeof(buf));
	cr_assert_str_eq(buf, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
	openapi_allow_string(OPENAPI_DELETE | OPENAPI_GET | OPENAPI_HEAD, buf,
	    sizeof(buf));
	cr_assert_str_eq(buf, "GET, HEAD, DELETE");
	openapi_allow_string(0, buf, sizeof(buf));
	cr_assert_str_eq(buf, "");
	/* too small: truncated at a whole method, still terminated */
	openapi_allow_string(OPENAPI_GET | OPENAPI_POST, buf, 6);
	cr_assert_str_eq(buf, "GET");
	openapi_allow_string(OPENAPI_GET, buf, 0);
}

Test(openapi, check_params_types_every_value)
{
	static const struct hdr hdrs[] = {
		{ "x-request-id", UUID },
		{ "X-Trace", "-12" },
		{ NULL, NULL }
	};
	static const char want[] =
	    "{\"path\": {}, \"header\": {\"X-Request-Id\": \"" UUID "\","
	    "  \"X-Trace\": -12},"
	    " \"query\": {\"limit\": 10, \"flag\": true, \"ratio\": 0.5,"
	    "  \"tags\": [\"red\", \"blue\"], \"ids\": [1, -2],"
	    "  \"since\": \"2024-02-29\", \"q\": \"a b&c\","
	    "  \"X-Nullable\": 5}}";
	struct openapi			*oa;
	struct jsonschema_errors	 errs;
	json_t				*out, *expect;
	json_error_t			 jerr;
	int				 rc;

	oa = load_ok(ROUTER);
	jsonschema_errors_init(&errs);
	rc = check(oa, "GET", "/v1/items", "&&limit=10&flag=true&ratio=0.5&"
	    "tags=red&tags=blue&ids=1&ids=-2&since=2024-02-29&q=a+b%26c&"
	    "X-Nullable=5&", hdrs, &out, &errs);
	cr_assert_eq(rc, 0, "%zu errors, first %s %s", errs.n,
	    errs.n ? errs.items[0].pointer : "", errs.n ?
	    errs.items[0].message : "");
	cr_assert_eq(errs.n, 0);
	expect = json_loads(want, 0, &jerr);
	cr_assert_not_null(expect, "%s", jerr.text);
	cr_assert(json_equal(out, expect), "got %s",
	    json_dumps(out, JSON_SORT_KEYS));
	json_decref(expect);
	json_decref(out);
	jsonschema_errors_cleanup(&errs);
	openapi_free(oa);
}

Test(openapi, check_params_path_values)
{
	struct openapi			*oa;
	struct jsonschema_errors	 errs;
	json_t				*out;
	int				 rc;

	oa = load_ok(ROUTER);
	jsonschema_errors_init(&errs);

	rc = check(oa, "GET", U UUID, NULL, NULL, &out, &errs);
	cr_assert_eq(rc, 0);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(out,
	    "path"), "id")), UUID);
	json_decref(out);

	/* uuid format, through a $ref'd parameter and a $ref'd schema */
	rc = check(oa, "GET", U "not-a-uuid", "", NULL, &out, &errs);
	cr_assert_eq(rc, -1);
	cr_assert_null(out);
	cr_assert_eq(errs.n, 1);
	cr_assert_str_eq(errs.items[0].pointer, "/path/id");
	cr_assert_str_eq(errs.items[0].message, "must be a valid uuid");
	assert_no_values(&errs, "not-a-uuid");
	jsonschema_errors_cleanup(&errs);

	/* integer path parameters are coerced, then bounded */
	rc = check(oa, "GET", "/v1/a/one/b/5", NULL, NULL, &out, &errs);
	cr_assert_eq(rc, 0);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(out,
	    "path"), "y")), 5);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(out,
	    "path"), "x")), "one");
	json_decref(out);

	rc = check(oa, "GET", "/v1/a/one/b/0", NULL, NULL, &out, &errs);
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(errs.items[0].pointer, "/path/y");
	jsonschema_errors_cleanup(&errs);

	rc = check(oa, "GET", "/v1/a/one/b/five", NULL, NULL, &out, &errs);
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(err_message(&errs, "/path/y"), "must be integer");
	jsonschema_errors_cleanup(&errs);

	/* a decoded value that is not UTF-8 */
	rc = check(oa, "GET", "/v1/files/%ff", NULL, NULL, &out, &errs);
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(err_message(&errs, "/path/name"),
	    "is not valid UTF-8");
	jsonschema_errors_cleanup(&errs);

	/* maxLength 64 on a decoded value */
	rc = check(oa, "GET", "/v1/files/%41%41%41%41%41%41%41%41%41%41%41%41"
	    "%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, NULL, &out, &errs);
	cr_assert_eq(rc, 0);
	json_decref(out);
	rc = check(oa, "GET", "/v1/files/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, NULL, &out, &errs);
	cr_assert_eq(rc, -1);
	cr_assert_not_null(err_message(&errs, "/path/name"));
	jsonschema_errors_cleanup(&errs);
	openapi_free(oa);
}

/* A query for listItems (with a valid header) and the one error expected. */
struct query_case {
	const char	*query;
	const char	*pointer;
	const char	*message;	/* NULL: any message */
	const char	*secret;	/* must not appear in any message */
};

#define SINCE "since=2024-01-01&"

#define Q(q, p, msg)		{ q, p, msg, NULL }
#define QS(q, p, msg, secret)	{ q, p, msg, secret }

static const struct query_case query_cases[] = {
	/* integers: strict decimal, bounded by the schema */
	QS(SINCE "limit=abc", "/query/limit", "must be integer", "abc"),
	Q(SINCE "limit=", "/query/limit", "must be integer"),
	Q(SINCE "limit", "/query/limit", "must be integer"),
	Q(SINCE "limit=+5", "/query/limit", "must be integer"),
	Q(SINCE "limit=%205", "/query/limit", "must be integer"),
	Q(SINCE "limit=5+", "/query/limit", "must be integer"),
	Q(SINCE "limit=1.0", "/query/limit", "must be integer"),
	Q(SINCE "limit=0x10", "/query/limit", "must be integer"),
	Q(SINCE "limit=-", "/query/limit", "must be integer"),
	QS(SINCE "limit=99999999999999999999", "/query/limit",
	    "is out of range", "99999999999999999999"),
	Q(SINCE "limit=9223372036854775808", "/query/limit", "is out of range"),
	Q(SINCE "limit=0", "/query/limit",
	    "must be greater than or equal to 1"),
	Q(SINCE "limit=101", "/query/limit",
	    "must be less than or equal to 100"),
	Q(SINCE "limit=-9223372036854775808", "/query/limit",
	    "must be greater than or equal to 1"),
	/* numbers, booleans */
	Q(SINCE "ratio=abc", "/query/ratio", "must be number"),
	Q(SINCE "ratio=inf", "/query/ratio", "must be number"),
	Q(SINCE "ratio=nan", "/query/ratio", "must be number"),
	Q(SINCE "ratio=1e999", "/query/ratio", "must be number"),
	Q(SINCE "ratio=0x1p3", "/query/ratio", "must be number"),
	Q(SINCE "ratio=+", "/query/ratio", "must be number"),
	Q(SINCE "ratio=1.5", "/query/ratio", "must be less than or equal to 1"),
	Q(SINCE "flag=1", "/query/flag", "must be boolean"),
	Q(SINCE "flag=TRUE", "/query/flag", "must be boolean"),
	Q(SINCE "flag=", "/query/flag", "must be boolean"),
	/* unknown, repeated, missing */
	Q(SINCE "foo=1", "/query/foo", "is not a known parameter"),
	Q(SINCE "Limit=1", "/query/Limit", "is not a known parameter"),
	Q(SINCE "a%2Fb~c=1", "/query/a~1b~0c", "is not a known parameter"),
	Q(SINCE "limit=1&limit=2", "/query/limit", "must not be repeated"),
	Q(SINCE "limit=1&limit=2&limit=3", "/query/limit",
	    "must not be repeated"),
	Q(SINCE "since=2024-01-02", "/query/since", "must not be repeated"),
	Q("limit=5", "/query/since", "is required"),
	Q("", "/query/since", "is required"),
	Q(SINCE "X-Request-Id=" UUID, "/query/X-Request-Id",
	    "is not a known parameter"),
	/* formats and string bounds from the schema */
	QS("since=2024-02-30", "/query/since",
	    "must be a valid date (YYYY-MM-DD)", "2024-02-30"),
	QS(SINCE "q=abcdefghijk", "/query/q", NULL, "abcdefghijk"),
	/* escapes */
	Q(SINCE "q=%zz", "/query/q", "has a malformed escape"),
	Q(SINCE "q=%4", "/query/q", "has a malformed escape"),
	Q(SINCE "q=abc%", "/query/q", "has a malformed escape"),
	Q(SINCE "q=%00", "/query/q", "has a malformed escape"),
	Q(SINCE "q=%ff", "/query/q", "is not valid UTF-8"),
	Q(SINCE "q=%C0%80", "/query/q", "is not valid UTF-8"),
	Q(SINCE "q=%ED%A0%80", "/query/q", "is not valid UTF-8"),
	Q(SINCE "%zz=1", "/query", "has a malformed escape"),
	Q(SINCE "%00=1", "/query", "has a malformed escape"),
	Q(SINCE "%ff=1", "/query", "has a malformed parameter name"),
	Q(SINCE "%0A=1", "/query", "has a malformed parameter name"),
	Q(SINCE "=1", "/query", "has a malformed parameter name"),
	/* arrays: each item coerced, the whole validated */
	Q(SINCE "ids=1&ids=x", "/query/ids", "must be integer"),
	Q(SINCE "ids=x&ids=1", "/query/ids", "must be integer"),
	QS(SINCE "tags=purple", "/query/tags/0",
	    "must be one of the allowed values", "purple"),
	Q(SINCE "tags=red&tags=red&tags=red&tags=red", "/query/tags",
	    "must have at most 3 items"),
	/* a type list takes its non-null member */
	Q(SINCE "X-Nullable=x", "/query/X-Nullable", "must be integer"),
};

Test(openapi, check_params_query_errors)
{
	static const struct hdr hdrs[] = {
		{ "X-Request-Id", UUID },
		{ NULL, NULL }
	};
	const struct query_case		*c;
	struct openapi			*oa;
	struct jsonschema_errors	 errs;
	json_t				*out;
	const char			*msg;
	size_t				 i;
	int				 rc;

	oa = load_ok(ROUTER);
	for (i = 0; i < sizeof(query_cases) / sizeof(query_cases[0]); i++) {
		c = &query_cases[i];
		jsonschema_errors_init(&errs);
		out = (json_t *)1;
		rc = check(oa, "GET", "/v1/items", c->query, hdrs, &out, &errs);
		cr_assert_eq(rc, -1, "%s: accepted", c->query);
		cr_assert_null(out);
		cr_assert_eq(errs.n, 1, "%s: %zu errors, first %s %s",
		    c->query, errs.n, errs.items[0].pointer,
		    errs.items[0].message);
		msg = err_message(&errs, c->pointer);
		cr_assert_not_null(msg, "%s: no error at %s but at %s: %s",
		    c->query, c->pointer, errs.items[0].pointer,
		    errs.items[0].message);
		if (c->message != NULL)
			cr_assert_str_eq(msg, c->message, "%s", c->query);
		assert_no_values(&errs, c->secret);
		jsonschema_errors_cleanup(&errs);
	}
	openapi_free(oa);
}

Test(openapi, check_params_headers)
{
	static const struct hdr missing[] = {
		{ "X-Trace", "1" },
		{ NULL, NULL }
	};
	static const struct hdr bad[] = {
		{ "X-Request-Id", "nope-nope" },
		{ "X-Trace", "one" },
		{ NULL, NULL }
	};
	static const struct hdr binary[] = {
		{ "X-Request-Id", UUID },
		{ "X-Trace", "\xff" },
		{ NULL, NULL }
	};
	struct openapi			*oa;
	struct jsonschema_errors	 errs;
	json_t				*out;
	int				 rc;

	oa = load_ok(ROUTER);
	jsonschema_errors_init(&errs);

	rc = check(oa, "GET", "/v1/items", SINCE, missing, &out, &errs);
	cr_assert_eq(rc, -1);
	cr_assert_eq(errs.n, 1);
	cr_assert_str_eq(errs.items[0].pointer, "/header/X-Request-Id");
	cr_assert_str_eq(errs.items[0].message, "is required");
	jsonschema_errors_cleanup(&errs);

	/* no header callback at all: every header is absent */
	rc = openapi_check_params(oa, openapi_op_find(oa, "listItems"), NULL,
	    SINCE, NULL, NULL, &out, &errs);
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(err_message(&errs, "/header/X-Request-Id"),
	    "is required");
	jsonschema_errors_cleanup(&errs);

	/* both header errors are reported, with the spec's spelling */
	rc = check(oa, "GET", "/v1/items", SINCE, bad, &out, &errs);
	cr_assert_eq(rc, -1);
	cr_assert_eq(errs.n, 2);
	cr_assert_str_eq(err_message(&errs, "/header/X-Request-Id"),
	    "must be a valid uuid");
	cr_assert_str_eq(err_message(&errs, "/header/X-Trace"),
	    "must be integer");
	assert_no_values(&errs, "nope-nope");
	jsonschema_errors_cleanup(&errs);

	rc = check(oa, "GET", "/v1/items", SINCE, binary, &out, &errs);
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(err_message(&errs, "/header/X-Trace"),
	    "is not valid UTF-8");
	jsonschema_errors_cleanup(&errs);
	openapi_free(oa);
}

Test(openapi, check_params_collects_several_errors)
{
	struct openapi			*oa;
	struct jsonschema_errors	 errs;
	json_t				*out;
	int				 rc;

	oa = load_ok(ROUTER);
	jsonschema_errors_init(&errs);
	rc = check(oa, "GET", "/v1/items", "limit=0&foo=1&flag=maybe", NULL,
	    &out, &errs);
	cr_assert_eq(rc, -1);
	cr_assert_eq(errs.n, 5);
	cr_assert_not_null(err_message(&errs, "/query/limit"));
	cr_assert_str_eq(err_message(&errs, "/query/foo"),
	    "is not a known parameter");
	cr_assert_str_eq(err_message(&errs, "/query/flag"), "must be boolean");
	cr_assert_str_eq(err_message(&errs, "/query/since"), "is required");
	cr_assert_str_eq(err_message(&errs, "/header/X-Request-Id"),
	    "is required");
	jsonschema_errors_cleanup(&errs);
	openapi_free(oa);
}

Test(openapi, check_params_hostile_query_is_bounded)
{
	struct openapi			*oa;
	struct jsonschema_errors	 errs;
	json_t				*out;
	char				*q;
	size_t				 i;
	int				 rc;

	oa = load_ok(ROUTER);
	q = malloc(100000 * 4 + 1);
	cr_assert_not_null(q);
	for (i = 0; i < 100000; i++)
		memcpy(q + i * 4, "x=1&", 4);
	q[100000 * 4] = '\0';
	jsonschema_errors_init(&errs);
	rc = check(oa, "GET", "/v1/items", q, NULL, &out, &errs);
	cr_assert_eq(rc, -1);
	cr_assert_eq(errs.n, JSONSCHEMA_MAX_ERRORS);
	jsonschema_errors_cleanup(&errs);

	/* a long array is collected, then refused by maxItems */
	for (i = 0; i < 40000; i++)
		memcpy(q + i * 9, "tags=red&", 9);
	q[40000 * 9 - 1] = '\0';
	rc = check(oa, "GET", "/v1/items", q, NULL, &out, &errs);
	cr_assert_eq(rc, -1);
	jsonschema_errors_cleanup(&errs);
	free(q);
	openapi_free(oa);
}

Test(openapi, check_params_without_any_parameters)
{
	struct openapi			*oa;
	struct jsonschema_errors	 errs;
	json_t				*out;
	int				 rc;

	oa = load_ok(ROUTER);
	jsonschema_errors_init(&errs);
	rc = check(oa, "GET", U "me", NULL, NULL, &out, &errs);
	cr_assert_eq(rc, 0);
	cr_assert_eq(json_object_size(json_object_get(out, "path")), 0);
	cr_assert_eq(json_object_size(json_object_get(out, "query")), 0);
	cr_assert_eq(json_object_size(json_object_get(out, "header")), 0);
	json_decref(out);

	rc = check(oa, "GET", U "me", "&&&", NULL, &out, &errs);
	cr_assert_eq(rc, 0);
	json_decref(out);

	rc = check(oa, "GET", U "me", "limit=5", NULL, &out, &errs);
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(err_message(&errs, "/query/limit"),
	    "is not a known parameter");
	jsonschema_errors_cleanup(&errs);
	openapi_free(oa);
}

Test(openapi, response_schemas)
{
	static const struct {
		const char	*op;
		int		 status;
		const char	*ref;	/* the schema's $ref, or "" */
		const char	*title;	/* else its title; both NULL: none */
	} cases[] = {
		{ "getUser", 200, "#/components/schemas/User", NULL },
		/* through #/components/responses, problem+json */
		{ "getUser", 404, "#/components/schemas/Problem", NULL },
		/* 4XX range */
		{ "getUser", 409, "#/components/schemas/Problem", NULL },
		{ "getUser", 400, "#/components/schemas/Problem", NULL },
		/* default */
		{ "getUser", 500, NULL, "fallback" },
		{ "getUser", 201, NULL, "fallback" },
		/* a response without content, and none at all */
		{ "deleteUser", 204, NULL, NULL },
		{ "deleteUser", 200, NULL, NULL },
		{ "createItem", 201, "#/components/schemas/Item", NULL },
		{ "listItems", 200, NULL, NULL },	/* {type: array} */
	};
	struct openapi		*oa;
	struct openapi_op	*op;
	const json_t		*s;
	size_t			 i;

	oa = load_ok(ROUTER);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		op = openapi_op_find(oa, cases[i].op);
		cr_assert_not_null(op);
		s = openapi_response_schema(oa, op, cases[i].status);
		if (strcmp(cases[i].op, "listItems") == 0) {
			cr_assert_str_eq(json_string_value(json_object_get(s,
			    "type")), "array");
			continue;
		}
		if (cases[i].ref == NULL && cases[i].title == NULL) {
			cr_assert_null(s, "%s %d", cases[i].op,
			    cases[i].status);
			continue;
		}
		cr_assert_not_null(s, "%s %d", cases[i].op, cases[i].status);
		if (cases[i].ref != NULL)
			cr_assert_str_eq(json_string_value(json_object_get(s,
			    "$ref")), cases[i].ref, "%s %d", cases[i].op,
			    cases[i].status);
		else
			cr_assert_str_eq(json_string_value(json_object_get(s,
			    "title")), cases[i].title);
	}
	openapi_free(oa);
}

/* Random requests: no crash, no leak, nothing under the sanitizers. */
Test(openapi, random_requests_are_harmless)
{
	static const char alphabet[] = "/%+=&{}?~.aemsuv019AFfzx\xff\xc3\xa9";
	static const char *const methods[] = { "GET", "POST", "DELETE", "X" };
	struct openapi			*oa;
	struct openapi_op		*op;
	struct openapi_match		 m;
	struct jsonschema_errors	 errs;
	json_t				*out;
	char				 path[80], rnd[64], query[64];
	unsigned			 seed;
	size_t				 i, j, n;
	int				 rc;

	oa = load_ok(ROUTER);
	seed = 12345;
	for (i = 0; i < 20000; i++) {
		n = (seed = seed * 1103515245 + 12345) >> 16 & 63;
		for (j = 0; j < n; j++) {
			seed = seed * 1103515245 + 12345;
			rnd[j] = alphabet[(seed >> 16) %
			    (sizeof(alphabet) - 1)];
		}
		rnd[n] = '\0';
		/* Most aim at a real route, to reach the checks. */
		if (i % 3 == 0)
			snprintf(path, sizeof(path), "/v1/items");
		else if (i % 3 == 1)
			snprintf(path, sizeof(path), "/v1/users/%s", rnd);
		else
			snprintf(path, sizeof(path), "/%s", rnd);
		n = (seed = seed * 1103515245 + 12345) >> 16 & 63;
		for (j = 0; j < n; j++) {
			seed = seed * 1103515245 + 12345;
			query[j] = alphabet[(seed >> 16) %
			    (sizeof(alphabet) - 1)];
		}
		query[n] = '\0';
		rc = openapi_match(oa, openapi_method_from_string(
		    methods[i % 4]), path, &op, &m);
		if (rc == OPENAPI_MATCH_OK) {
			jsonschema_errors_init(&errs);
			out = NULL;
			if (openapi_check_params(oa, op, &m, query, NULL, NULL,
			    &out, &errs) == 0)
				cr_assert_not_null(out);
			else
				cr_assert_gt(errs.n, 0);
			json_decref(out);
			jsonschema_errors_cleanup(&errs);
		}
		openapi_match_cleanup(&m);
	}
	openapi_free(oa);
}

/* An upload names its media types; each must be a binary string. */
Test(openapi, upload_media_types)
{
	struct openapi		*oa;
	struct openapi_op	*op;
	char			 err[512];

	oa = openapi_load("openapi.yaml", err, sizeof(err));
	cr_assert_not_null(oa, "%s", err);
	op = openapi_op_find(oa, "uploadDocument");
	cr_assert_not_null(op);
	cr_expect(op->body_binary);
	cr_expect_null(op->body_schema);
	cr_expect(openapi_body_accepts(op, "application/pdf"));
	cr_expect(openapi_body_accepts(op, "Application/PDF; name=x"));
	cr_expect(openapi_body_accepts(op, "image/png"));
	cr_expect_not(openapi_body_accepts(op, "application/pdfx"));
	cr_expect_not(openapi_body_accepts(op, "application/x-msdownload"));
	cr_expect_not(openapi_body_accepts(op, ""));
	cr_expect_not(openapi_body_accepts(op, NULL));
	op = openapi_op_find(oa, "createNote");
	cr_expect_not(op->body_binary);
	cr_expect_not(openapi_body_accepts(op, "application/json"));
	openapi_free(oa);
}

/*
 * Examples in openapi.yaml: every operation shows its use, and no example
 * misleads. An operation with a JSON request body has an example of it,
 * one with a 2xx JSON answer an example of that, and every operation an
 * example of at least one problem. Every example (an inline "example", or
 * the "value" of each "examples" entry, through a $ref to
 * components/examples) must validate against its media type's schema; a
 * problem's "status" must be the status it is the example of. Binary media
 * types (uploads, downloads) have no JSON example and are skipped.
 */
struct ex_walk {
	const json_t	*doc;
	json_t		*used;		/* components/examples refs seen */
	size_t		 checked;
};

static const json_t	*ex_deref(const json_t *, const json_t *);
static const char	*ex_method(unsigned);
static int		 ex_binary(const json_t *, const json_t *);
static size_t		 ex_media(struct ex_walk *, const char *, const char *,
			    const char *, const json_t *);
static void		 ex_validate(struct ex_walk *, const char *,
			    const char *, const char *, const char *,
			    const json_t *, const json_t *);

/* Follow a reference object; NULL when it does not resolve. */
static const json_t *
ex_deref(const json_t *doc, const json_t *v)
{
	const char	*ref;
	int		 hops;

	for (hops = 0; v != NULL && hops < 16; hops++) {
		ref = json_string_value(json_object_get(v, "$ref"));
		if (ref == NULL)
			return (v);
		v = jsonschema_resolve_ref(doc, ref);
	}
	return (NULL);
}

static const char *
ex_method(unsigned m)
{
	switch (m) {
	case OPENAPI_GET:	return ("get");
	case OPENAPI_POST:	return ("post");
	case OPENAPI_PUT:	return ("put");
	case OPENAPI_PATCH:	return ("patch");
	case OPENAPI_DELETE:	return ("delete");
	case OPENAPI_HEAD:	return ("head");
	case OPENAPI_OPTIONS:	return ("options");
	}
	return ("?");
}

/* A file, not JSON: {type: string, format: binary}. */
static int
ex_binary(const json_t *doc, const json_t *media)
{
	const json_t	*s;
	const char	*f;

	s = ex_deref(doc, json_object_get(media, "schema"));
	f = json_string_value(json_object_get(s, "format"));
	return (f != NULL && strcmp(f, "binary") == 0);
}

static void
ex_validate(struct ex_walk *w, const char *op, const char *where,
    const char *mt, const char *name, const json_t *schema,
    const json_t *value)
{
	struct jsonschema_errors	 errs;
	const json_t			*st;
	int				 rc;

	w->checked++;
	jsonschema_errors_init(&errs);
	rc = jsonschema_validate(w->doc, schema, value, "", &errs);
	cr_expect_eq(rc, 0, "%s %s %s %s: not valid against its schema: "
	    "\"%s\" %s", op, where, mt, name, errs.n > 0 ?
	    errs.items[0].pointer : "", errs.n > 0 ? errs.items[0].message :
	    "");
	jsonschema_errors_cleanup(&errs);

	/* A problem says the status it is the example of. */
	if (strcmp(mt, "application/problem+json") == 0 &&
	    strlen(where) == 3 && where[0] >= '1' && where[0] <= '5' &&
	    strspn(where, "0123456789") == 3) {
		st = json_object_get(value, "status");
		cr_expect(json_is_integer(st) && json_integer_value(st) ==
		    atoi(where), "%s %s %s %s: \"status\" is not %s", op, where,
		    mt, name, where);
	}
}

/* Check the examples of one media type object; returns how many it has. */
static size_t
ex_media(struct ex_walk *w, const char *op, const char *where,
    const char *mt, const json_t *media)
{
	const json_t	*schema, *ex, *exs, *e, *v;
	const char	*key, *ref;
	char		 name[160];
	size_t		 n = 0;

	schema = json_object_get(media, "schema");
	cr_assert_not_null(schema, "%s %s %s: no schema", op, where, mt);
	if ((ex = json_object_get(media, "example")) != NULL) {
		ex_validate(w, op, where, mt, "example", schema, ex);
		n++;
	}
	if ((exs = json_object_get(media, "examples")) == NULL)
		return (n);
	cr_assert(json_is_object(exs), "%s %s %s: examples is not a map", op,
	    where, mt);
	json_object_foreach((json_t *)exs, key, e) {
		snprintf(name, sizeof(name), "examples/%s", key);
		ref = json_string_value(json_object_get(e, "$ref"));
		if (ref != NULL) {
			cr_expect(strncmp(ref, "#/components/examples/",
			    22) == 0, "%s %s %s %s: $ref \"%s\" is not a "
			    "components example", op, where, mt, name, ref);
			json_object_set_new(w->used, ref, json_true());
		}
		e = ex_deref(w->doc, e);
		cr_assert_not_null(e, "%s %s %s %s: $ref does not resolve", op,
		    where, mt, name);
		v = json_object_get(e, "value");
		cr_assert_not_null(v, "%s %s %s %s: no value", op, where, mt,
		    name);
		ex_validate(w, op, where, mt, name, schema, v);
		n++;
	}
	return (n);
}

Test(openapi, every_operation_has_valid_examples)
{
	struct openapi		*oa;
	struct openapi_op	*op;
	struct ex_walk		 w;
	const json_t		*jop, *rb, *content, *media, *r, *exs;
	const char		*id, *mt, *status;
	char			 err[512], ref[256];
	size_t			 i, n, ok, problems;
	int			 json_ok;

	oa = openapi_load("openapi.yaml", err, sizeof(err));
	cr_assert_not_null(oa, "%s", err);
	w.doc = openapi_document(oa);
	w.used = json_object();
	w.checked = 0;

	for (i = 0; i < openapi_op_count(oa); i++) {
		op = openapi_op_at(oa, i);
		id = op->operation_id;
		jop = json_object_get(json_object_get(json_object_get(w.doc,
		    "paths"), op->path), ex_method(op->method));
		cr_assert_not_null(jop, "%s: not found in paths", id);

		/* The request body. */
		rb = ex_deref(w.doc, json_object_get(jop, "requestBody"));
		content = json_object_get(rb, "content");
		json_object_foreach((json_t *)content, mt, media) {
			if (ex_binary(w.doc, media))
				continue;
			n = ex_media(&w, id, "requestBody", mt, media);
			cr_expect_gt(n, 0, "%s: its %s request body has no "
			    "example", id, mt);
		}
		if (op->body_schema != NULL)
			cr_expect_not_null(json_object_get(content,
			    "application/json"), "%s", id);

		/* The responses. */
		ok = problems = 0;
		json_ok = 0;
		json_object_foreach((json_t *)op->responses, status, r) {
			r = ex_deref(w.doc, r);
			cr_assert_not_null(r, "%s %s: $ref does not resolve",
			    id, status);
			content = json_object_get(r, "content");
			json_object_foreach((json_t *)content, mt, media) {
				if (ex_binary(w.doc, media))
					continue;
				n = ex_media(&w, id, status, mt, media);
				if (status[0] == '2' &&
				    strcmp(mt, "application/json") == 0) {
					json_ok = 1;
					ok += n;
					cr_expect_gt(n, 0, "%s %s: its JSON "
					    "answer has no example", id,
					    status);
				} else if (status[0] == '4' ||
				    status[0] == '5' ||
				    strcmp(status, "default") == 0) {
					problems += n;
				}
			}
		}
		if (json_ok)
			cr_expect_gt(ok, 0, "%s: no example of its answer", id);
		cr_expect_gt(problems, 0, "%s: no example of a problem", id);
	}

	/* Every reusable example is used, so every one was validated. */
	exs = json_object_get(json_object_get(w.doc, "components"),
	    "examples");
	json_object_foreach((json_t *)exs, id, r) {
		snprintf(ref, sizeof(ref), "#/components/examples/%s", id);
		cr_expect_not_null(json_object_get(w.used, ref),
		    "components/examples/%s is not used", id);
	}
	cr_expect_geq(w.checked, openapi_op_count(oa) * 2);
	json_decref(w.used);
	openapi_free(oa);
}

/*
 * Keywords the validator does not implement must not appear in the spec:
 * it would accept what the schema meant to refuse. Walks every schema-like
 * object; the keys of "properties" maps are names, and examples are data.
 */
static const char *const unimplemented[] = {
	"multipleOf", "additionalItems", "contains", "patternProperties",
	"dependencies", "propertyNames", "if", "then", "else", "not",
	"dependentRequired", "dependentSchemas", "unevaluatedProperties",
	"unevaluatedItems", "prefixItems", "minContains", "maxContains", NULL,
};

static int
uses_unimplemented(const json_t *v, const char *where)
{
	const char	*key;
	json_t		*m;
	size_t		 i;
	int		 n = 0, k;

	if (json_is_array(v)) {
		json_array_foreach(v, i, m)
			n += uses_unimplemented(m, where);
		return n;
	}
	if (!json_is_object(v))
		return 0;
	json_object_foreach((json_t *)v, key, m) {
		if (strcmp(key, "example") == 0 || strcmp(key, "examples") == 0)
			continue;
		for (k = 0; unimplemented[k] != NULL; k++) {
			if (strcmp(key, unimplemented[k]) == 0) {
				cr_log_error("%s: %s is not implemented", where, key);
				n++;
			}
		}
		if (strcmp(key, "properties") == 0 && json_is_object(m)) {
			const char	*name;
			json_t		*p;

			json_object_foreach(m, name, p)
				n += uses_unimplemented(p, name);
		} else
			n += uses_unimplemented(m, key);
	}
	return n;
}

Test(openapi, spec_uses_only_implemented_keywords)
{
	struct openapi	*oa;
	char		 err[512];

	oa = openapi_load("openapi.yaml", err, sizeof(err));
	cr_assert_not_null(oa, "%s", err);
	cr_expect_eq(uses_unimplemented(openapi_document(oa), "openapi.yaml"), 0);
	openapi_free(oa);
}
