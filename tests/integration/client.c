/*
 * client: see client.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <time.h>

#include <criterion/criterion.h>
#include <curl/curl.h>

#include "client.h"
#include "jsonschema.h"
#include "openapi.h"

struct buf {
	char	*data;
	size_t	 len;
};

static struct openapi	*spec;

static size_t	on_data(char *, size_t, size_t, void *);
static struct resp *perform(const char *, const char *, const char *,
		    const char *, const char *, const char *, const char *,
		    size_t, const char *const *, int);
static void	check_against_spec(const char *, const char *, struct resp *);
static struct openapi *load_spec(void);

static struct openapi *
load_spec(void)
{
	char	err[512];

	if (spec == NULL) {
		spec = openapi_load("openapi.yaml", err, sizeof(err));
		cr_assert_not_null(spec, "openapi.yaml: %s", err);
	}
	return spec;
}

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct buf	*b = arg;
	size_t		 len = size * n;

	b->data = realloc(b->data, b->len + len + 1);
	cr_assert_not_null(b->data);
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

struct resp *
kwt_request(const char *method, const char *path, const char *token,
    const char *content_type, const char *body, const char *const *headers)
{
	return kwt_request_from(NULL, method, path, token, content_type, body,
	    headers);
}

struct resp *
kwt_request_raw(const char *method, const char *path, const char *token,
    const char *content_type, const char *body, const char *const *headers)
{
	return perform(NULL, NULL, method, path, token, content_type, body,
	    body != NULL ? strlen(body) : 0, headers, 0);
}

struct resp *
kwt_request_from(const char *source, const char *method, const char *path,
    const char *token, const char *content_type, const char *body,
    const char *const *headers)
{
	return perform(NULL, source, method, path, token, content_type, body,
	    body != NULL ? strlen(body) : 0, headers, 1);
}

struct resp *
kwt_request_at(const char *base, const char *source, const char *method,
    const char *path, const char *token, const char *content_type,
    const char *body, const char *const *headers)
{
	return perform(base, source, method, path, token, content_type, body,
	    body != NULL ? strlen(body) : 0, headers, 1);
}

struct resp *
kwt_request_bin(const char *method, const char *path, const char *token,
    const char *content_type, const void *body, size_t len,
    const char *const *headers)
{
	return perform(NULL, NULL, method, path, token, content_type, body,
	    len, headers, 1);
}

struct resp *
kwt_request_internal(const char *method, const char *path)
{
	const char	*base = getenv("KEYWORK_TEST_METRICS_URL");

	cr_assert_not_null(base, "KEYWORK_TEST_METRICS_URL is not set");
	return perform(base, NULL, method, path, NULL, NULL, NULL, 0, NULL, 1);
}

static struct resp *
perform(const char *base, const char *source, const char *method,
    const char *path, const char *token, const char *content_type,
    const char *body, size_t body_len, const char *const *headers, int check)
{
	struct curl_slist	*hl = NULL;
	struct buf		 out = { NULL, 0 }, hdr = { NULL, 0 };
	struct resp		*r;
	json_error_t		 jerr;
	char			 url[4096], line[4200];
	CURL			*c;
	CURLcode		 rc;

	if (base == NULL && (base = getenv("KEYWORK_TEST_URL")) == NULL)
		base = "http://127.0.0.1:8888";
	snprintf(url, sizeof(url), "%s%s", base, path);
	c = curl_easy_init();
	cr_assert_not_null(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	/* The path as written, dot segments too: tests send what attackers do. */
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdr);
	if (source != NULL)
		curl_easy_setopt(c, CURLOPT_INTERFACE, source);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body != NULL) {
		/* Its length, not strlen(): an upload may hold NUL bytes. */
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		if (content_type == NULL)
			content_type = "application/json";
	}
	if (content_type != NULL) {
		if (*content_type == '\0')
			hl = curl_slist_append(hl, "Content-Type:");
		else {
			snprintf(line, sizeof(line), "Content-Type: %s", content_type);
			hl = curl_slist_append(hl, line);
		}
	}
	/* libcurl would otherwise wait for 100-continue on larger bodies. */
	hl = curl_slist_append(hl, "Expect:");
	if (token != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		hl = curl_slist_append(hl, line);
	}
	for (; headers != NULL && *headers != NULL; headers++)
		hl = curl_slist_append(hl, *headers);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);

	rc = curl_easy_perform(c);
	cr_assert_eq(rc, CURLE_OK, "%s %s: %s (the server must never drop "
	    "the connection)", method, path, curl_easy_strerror(rc));

	r = calloc(1, sizeof(*r));
	cr_assert_not_null(r);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &r->seconds);
	r->raw = out.data != NULL ? out.data : strdup("");
	r->len = out.len;
	r->headers = hdr.data != NULL ? hdr.data : strdup("");
	if (r->len > 0)
		r->json = json_loadb(r->raw, r->len, 0, &jerr);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);

	if (check)
		check_against_spec(method, path, r);
	return r;
}

/* What every response must be, whatever the test asserts on top. */
static void
check_against_spec(const char *method, const char *path, struct resp *r)
{
	struct jsonschema_errors	 errs;
	struct openapi_match		 m;
	struct openapi_op		*op = NULL;
	const json_t			*schema = NULL, *doc;
	const char			*ct;
	char				 p[4096];
	size_t				 i;

	load_spec();
	doc = openapi_document(spec);
	cr_assert_neq(r->status, 500, "%s %s answered 500: %s", method, path,
	    r->raw);
	cr_assert_not_null(kwt_header(r, "X-Request-Id"),
	    "%s %s: no X-Request-Id", method, path);

	snprintf(p, sizeof(p), "%s", path);
	p[strcspn(p, "?")] = '\0';
	memset(&m, 0, sizeof(m));
	if (openapi_match(spec, openapi_method_from_string(method), p, &op,
	    &m) != OPENAPI_MATCH_OK)
		op = NULL;
	openapi_match_cleanup(&m);

	ct = kwt_header(r, "Content-Type");
	if (r->status >= 400) {
		cr_assert(ct != NULL && strncmp(ct, "application/problem+json",
		    24) == 0, "%s %s: error %ld is not problem+json (%s)",
		    method, path, r->status, ct != NULL ? ct : "none");
		schema = jsonschema_resolve_ref(doc, "#/components/schemas/Problem");
		cr_assert_not_null(r->json, "%s %s: problem body is not JSON",
		    method, path);
		cr_assert_eq(json_integer_value(json_object_get(r->json,
		    "status")), r->status, "problem status differs from HTTP");
	}
	if (op != NULL) {
		const json_t	*resps = op->responses;
		char		 code[8];

		snprintf(code, sizeof(code), "%ld", r->status);
		cr_assert(json_object_get(resps, code) != NULL ||
		    json_object_get(resps, "default") != NULL,
		    "%s %s: status %ld is not documented", method, path,
		    r->status);
		if (r->status < 400)
			schema = openapi_response_schema(spec, op, (int)r->status);
	}
	if (schema == NULL || r->status == 204 || strcmp(method, "HEAD") == 0)
		return;
	cr_assert_not_null(r->json, "%s %s: body is not JSON: %s", method,
	    path, r->raw);
	jsonschema_errors_init(&errs);
	if (jsonschema_validate(doc, schema, r->json, "", &errs) == -1) {
		for (i = 0; i < errs.n; i++)
			cr_log_error("%s %s: response %s: %s", method, path,
			    errs.items[i].pointer, errs.items[i].message);
		jsonschema_errors_cleanup(&errs);
		cr_assert_fail("%s %s: %ld response does not match the spec: %s",
		    method, path, r->status, r->raw);
	}
	jsonschema_errors_cleanup(&errs);
}

const char *
kwt_header(struct resp *r, const char *name)
{
	static char	 value[1024];
	const char	*line = r->headers, *eol, *colon;
	size_t		 n = strlen(name), vlen;

	while (line != NULL && *line != '\0') {
		eol = strstr(line, "\r\n");
		colon = strchr(line, ':');
		if (colon != NULL && (eol == NULL || colon < eol) &&
		    (size_t)(colon - line) == n && strncasecmp(line, name, n) == 0) {
			colon++;
			while (*colon == ' ')
				colon++;
			vlen = eol != NULL ? (size_t)(eol - colon) : strlen(colon);
			if (vlen >= sizeof(value))
				vlen = sizeof(value) - 1;
			memcpy(value, colon, vlen);
			value[vlen] = '\0';
			return value;
		}
		line = eol != NULL ? eol + 2 : NULL;
	}
	return NULL;
}

void
kwt_free(struct resp *r)
{
	if (r == NULL)
		return;
	free(r->raw);
	free(r->headers);
	json_decref(r->json);
	free(r);
}

json_t *
kwt_login_json(const char *email, const char *password)
{
	struct resp	*r;
	json_t		*out, *req;
	char		*body;

	req = json_pack("{s:s, s:s}", "email", email, "password", password);
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	r = kwt_request("POST", "/v1/auth/login", NULL, NULL, body, NULL);
	free(body);
	cr_assert_eq(r->status, 200, "login %s: %ld %s", email, r->status,
	    r->raw);
	out = json_incref(r->json);
	kwt_free(r);
	return out;
}

char *
kwt_login(const char *email, const char *password)
{
	json_t	*j = kwt_login_json(email, password);
	char	*tok = strdup(json_string_value(json_object_get(j,
		    "access_token")));

	json_decref(j);
	return tok;
}

const char *
kwt_unique(void)
{
	static char	buf[64];
	static int	n;

	snprintf(buf, sizeof(buf), "%ld-%d-%d", (long)time(NULL), (int)getpid(),
	    n++);
	return buf;
}

const char *
kwt_str(struct resp *r, const char *member)
{
	const char	*s = json_string_value(json_object_get(r->json, member));

	cr_assert_not_null(s, "response has no string %s: %s", member, r->raw);
	return s;
}

char *
kwt_json(const char *fmt, ...)
{
	json_error_t	 err;
	json_t		*j;
	va_list		 ap;
	char		*s;

	va_start(ap, fmt);
	j = json_vpack_ex(&err, 0, fmt, ap);
	va_end(ap);
	cr_assert_not_null(j, "json_pack: %s", err.text);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	cr_assert_not_null(s);
	return s;
}

void
kwt_demo_ids(const char *tok, char *area, char *agency)
{
	struct resp	*r;
	const char	*id;

	r = kwt_request("GET", "/v1/areas", tok, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	id = json_string_value(json_object_get(json_array_get(
	    json_object_get(r->json, "items"), 0), "id"));
	cr_assert_not_null(id, "no area: %s", r->raw);
	snprintf(area, 37, "%s", id);
	kwt_free(r);
	r = kwt_request("GET", "/v1/agencies", tok, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	id = json_string_value(json_object_get(json_array_get(
	    json_object_get(r->json, "items"), 0), "id"));
	cr_assert_not_null(id, "no agency: %s", r->raw);
	snprintf(agency, 37, "%s", id);
	kwt_free(r);
}
