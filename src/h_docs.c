/*
 * Handlers of the "docs" tag: this API's reference as a web page, Swagger
 * UI over GET /openapi.json. `make docs` puts the page and its files in
 * docs_dir; the server reads them at start-up (assets.h) and serves only
 * the names listed here. The page loads nothing from elsewhere, and its
 * Content-Security-Policy holds it to that.
 */
#include <string.h>

#include "assets.h"
#include "handlers.h"

static const struct asset_spec docs_files[] = {
	{ "index.html", "text/html; charset=utf-8" },
	{ "keywork-docs.css", "text/css; charset=utf-8" },
	{ "keywork-docs.js", "text/javascript; charset=utf-8" },
	{ "swagger-ui.css", "text/css; charset=utf-8" },
	{ "swagger-ui-bundle.js", "text/javascript; charset=utf-8" },
	{ "favicon-32x32.png", "image/png" },
	{ NULL, NULL }
};

/*
 * Scripts, styles, images and requests from this origin only. Swagger UI
 * draws some icons as data: images; it needs neither eval nor inline
 * scripts or style sheets (tests/browser.sh fails on any violation).
 */
#define DOCS_CSP	"default-src 'none'; script-src 'self'; "	\
			"style-src 'self'; img-src 'self' data:; "	\
			"connect-src 'self'; base-uri 'none'; "		\
			"form-action 'none'; frame-ancestors 'none'"

/* Loaded in Kore's parent before the workers fork; read-only after. */
static struct assets	*docs;

static int	docs_reply(struct kw_req *, const char *);

int
h_docs_load(const char *dir, char *err, size_t errlen)
{
	assets_free(docs);
	docs = assets_load(dir, docs_files, err, errlen);
	return docs != NULL ? 0 : -1;
}

int
h_get_docs(struct kw_req *r)
{
	return docs_reply(r, "index.html");
}

int
h_get_docs_asset(struct kw_req *r)
{
	return docs_reply(r, kw_path(r, "asset"));
}

static int
docs_reply(struct kw_req *r, const char *name)
{
	const struct asset	*a;

	if ((a = assets_find(docs, name)) == NULL)
		return kw_reply_problem(r, 404, "No such file.");
	return kw_reply_static(r, a->content_type, a->etag, DOCS_CSP, a->data,
	    a->len);
}
