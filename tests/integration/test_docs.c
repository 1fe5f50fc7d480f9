/*
 * The API reference page: GET /docs and the files it names, their types,
 * caching and Content-Security-Policy, and names that try to leave the
 * page's folder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "client.h"

#define DOCS_MAX_FILES	16

/* The Content-Type a file of the page must have, by its name's ending. */
static const char *
type_for(const char *name)
{
	static const struct {
		const char	*ext;
		const char	*type;
	} types[] = {
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".png", "image/png" },
	};
	size_t	i, n = strlen(name), e;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		e = strlen(types[i].ext);
		if (n > e && strcmp(name + n - e, types[i].ext) == 0)
			return types[i].type;
	}
	return NULL;
}

/*
 * The paths under /docs/ that the page's HTML refers to (src="/docs/..."
 * and href="/docs/..."), into out; returns how many.
 */
static size_t
page_files(const char *html, char out[][128], size_t max)
{
	const char	*p = html, *q;
	size_t		 n = 0, len;

	while (n < max && (p = strstr(p, "=\"/docs/")) != NULL) {
		p += 2;
		if ((q = strchr(p, '"')) == NULL)
			break;
		len = (size_t)(q - p);
		cr_assert_lt(len, 128);
		memcpy(out[n], p, len);
		out[n][len] = '\0';
		n++;
		p = q;
	}
	return n;
}

Test(docs, page_is_html_with_a_strict_policy)
{
	struct resp	*r = kwt_request("GET", "/docs", NULL, NULL, NULL, NULL);
	const char	*csp;

	cr_assert_eq(r->status, 200, "%s", r->raw);
	cr_assert_str_eq(kwt_header(r, "Content-Type"), "text/html; charset=utf-8");
	cr_assert_not_null(strstr(r->raw, "<div id=\"swagger-ui\">"));
	cr_assert_str_eq(kwt_header(r, "Cache-Control"), "no-cache");
	cr_assert_not_null(kwt_header(r, "ETag"));
	cr_assert_eq(kwt_header(r, "ETag")[0], '"');
	csp = kwt_header(r, "Content-Security-Policy");
	cr_assert_not_null(csp);
	cr_assert_not_null(strstr(csp, "default-src 'none'"), "%s", csp);
	cr_assert_not_null(strstr(csp, "script-src 'self';"), "%s", csp);
	cr_assert_null(strstr(csp, "unsafe-"), "%s", csp);
	cr_assert_null(strstr(csp, "http"), "%s", csp);
	/* Nothing from elsewhere: every script and style sheet is the server's. */
	cr_assert_null(strstr(r->raw, "src=\"http"));
	cr_assert_null(strstr(r->raw, "href=\"http"));
	cr_assert_null(strstr(r->raw, "src=\"//"));
	cr_assert_null(strstr(r->raw, "href=\"//"));
	kwt_free(r);
}

Test(docs, every_file_the_page_names_is_served_with_its_type)
{
	struct resp	*page, *r;
	char		 files[DOCS_MAX_FILES][128];
	const char	*want;
	size_t		 i, n, js = 0, css = 0;

	page = kwt_request("GET", "/docs", NULL, NULL, NULL, NULL);
	cr_assert_eq(page->status, 200);
	n = page_files(page->raw, files, DOCS_MAX_FILES);
	kwt_free(page);
	cr_assert_geq(n, 5, "the page names %zu files", n);

	for (i = 0; i < n; i++) {
		want = type_for(files[i]);
		cr_assert_not_null(want, "%s: unexpected kind of file", files[i]);
		js += strstr(want, "javascript") != NULL;
		css += strstr(want, "css") != NULL;
		r = kwt_request("GET", files[i], NULL, NULL, NULL, NULL);
		cr_assert_eq(r->status, 200, "%s: %ld", files[i], r->status);
		cr_assert_str_eq(kwt_header(r, "Content-Type"), want, "%s",
		    files[i]);
		cr_assert_gt(r->len, 0, "%s is empty", files[i]);
		cr_assert_str_eq(kwt_header(r, "Cache-Control"), "no-cache");
		cr_assert_not_null(kwt_header(r, "ETag"), "%s", files[i]);
		cr_assert_str_eq(kwt_header(r, "X-Content-Type-Options"),
		    "nosniff");
		kwt_free(r);
	}
	cr_assert_geq(js, 2, "Swagger UI's bundle and the page's script");
	cr_assert_geq(css, 1);
}

Test(docs, the_bundle_is_served_whole)
{
	struct resp	*r = kwt_request("GET", "/docs/swagger-ui-bundle.js",
			    NULL, NULL, NULL, NULL);
	const char	*cl;

	cr_assert_eq(r->status, 200);
	/* Over a megabyte, sent from memory without a copy: all of it arrives. */
	cr_assert_gt(r->len, 1000000, "%zu bytes", r->len);
	cl = kwt_header(r, "Content-Length");
	cr_assert_not_null(cl);
	cr_assert_eq((size_t)strtoull(cl, NULL, 10), r->len);
	cr_assert_not_null(strstr(r->raw, "SwaggerUIBundle"));
	kwt_free(r);
}

Test(docs, a_current_copy_is_answered_304)
{
	struct resp	*r;
	char		 etag[128], line[200];
	const char	*h[2] = { line, NULL };

	r = kwt_request("GET", "/docs/keywork-docs.js", NULL, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	snprintf(etag, sizeof(etag), "%s", kwt_header(r, "ETag"));
	kwt_free(r);

	snprintf(line, sizeof(line), "If-None-Match: %s", etag);
	r = kwt_request("GET", "/docs/keywork-docs.js", NULL, NULL, NULL, h);
	cr_assert_eq(r->status, 304, "%ld", r->status);
	cr_assert_eq(r->len, 0);
	cr_assert_str_eq(kwt_header(r, "ETag"), etag);
	kwt_free(r);

	/* One of a list, and weak: still the same file. */
	snprintf(line, sizeof(line), "If-None-Match: \"other\", W/%s", etag);
	r = kwt_request("GET", "/docs/keywork-docs.js", NULL, NULL, NULL, h);
	cr_assert_eq(r->status, 304, "%ld", r->status);
	kwt_free(r);

	/* Another file's tag is not this one's. */
	r = kwt_request("GET", "/docs", NULL, NULL, NULL, h);
	cr_assert_eq(r->status, 200, "%ld", r->status);
	cr_assert_str_neq(kwt_header(r, "ETag"), etag);
	kwt_free(r);

	snprintf(line, sizeof(line), "If-None-Match: \"0123456789abcdef\"");
	r = kwt_request("GET", "/docs/keywork-docs.js", NULL, NULL, NULL, h);
	cr_assert_eq(r->status, 200, "%ld", r->status);
	cr_assert_gt(r->len, 0);
	kwt_free(r);
}

Test(docs, names_outside_the_page_are_404)
{
	/*
	 * The page's folder is build/docs (or build-asan/docs): each of these
	 * would reach a real file if the name were joined to a path.
	 */
	static const char *const paths[] = {
		"/docs/..%2Fkeywork.so",
		"/docs/..%2F..%2Fopenapi.yaml",
		"/docs/%2E%2E%2F%2E%2E%2Fopenapi.yaml",
		"/docs/..%2F..%2Fconf%2Fkeywork.conf",
		"/docs/..%5C..%5Copenapi.yaml",
		"/docs/%2Fetc%2Fpasswd",
		"/docs/%2F%2Fetc%2Fpasswd",
		"/docs/.%2Findex.html",
		"/docs/index.html%2F",
		"/docs/..",
		"/docs/.",
		"/docs/../openapi.yaml",
		"/docs/../../openapi.yaml",
		"/docs//etc/passwd",
		"/docs/index.html/..",
		"/docs/swagger-ui.css%00",
		"/docs/swagger-ui.css%00.png",
		/* Files beside the page's, or in the package, not served. */
		"/docs/swagger-ui-bundle.js.map",
		"/docs/package.json",
		"/docs/index.js",
		"/docs/oauth2-redirect.html",
		"/docs/.package-lock.json",
		"/docs/INDEX.HTML",
		"/docs/nothing",
		NULL,
	};
	struct resp	*r;
	size_t		 i;

	cr_assert_eq(access("openapi.yaml", R_OK), 0, "run from the work tree");
	for (i = 0; paths[i] != NULL; i++) {
		r = kwt_request("GET", paths[i], NULL, NULL, NULL, NULL);
		cr_expect_eq(r->status, 404, "%s: %ld %s", paths[i], r->status,
		    r->raw);
		cr_expect_null(strstr(r->raw, "openapi:"), "%s", paths[i]);
		cr_expect_null(strstr(r->raw, "root:"), "%s", paths[i]);
		kwt_free(r);
	}
}

Test(docs, only_get_is_allowed)
{
	struct resp	*r;

	r = kwt_request("POST", "/docs", NULL, NULL, "{}", NULL);
	cr_assert_eq(r->status, 405, "%ld", r->status);
	cr_assert_not_null(kwt_header(r, "Allow"));
	kwt_free(r);
	r = kwt_request("DELETE", "/docs/swagger-ui.css", NULL, NULL, NULL,
	    NULL);
	cr_assert_eq(r->status, 405, "%ld", r->status);
	kwt_free(r);
}
