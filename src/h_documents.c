/*
 * Handlers of the "documents" tag. An upload's body is the file itself,
 * already checked against the spec's accepted types and document_max_bytes
 * by the dispatcher; it goes to PostgreSQL as one binary parameter, read
 * in place from Kore's buffer. A download streams the bytea from the
 * statement's result without copying it.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "handlers.h"

static const char *const by_id[] = { "id" };

static int	content_ready(struct kw_req *, PGresult *);
static void	disposition(const char *, char *, size_t);

int
h_list_documents(struct kw_req *r)
{
	return handlers_list(r, "list_documents", handlers_page, by_id, 1, NULL, 0);
}

int
h_upload_document(struct kw_req *r)
{
	const char	*args[4], *ct = NULL;
	const void	*data;
	char		 media[201];
	size_t		 len, i, n;

	(void)http_request_header(r->req, "content-type", &ct);
	/* The media type alone, lower case: parameters are not kept. */
	n = ct != NULL ? strcspn(ct, "; \t") : 0;
	if (n >= sizeof(media))
		n = sizeof(media) - 1;
	for (i = 0; i < n; i++)
		media[i] = (char)tolower((unsigned char)ct[i]);
	media[n] = '\0';
	data = kw_body_raw(r, &len);
	args[0] = kw_path(r, "id");
	args[1] = kw_header(r, "Idempotency-Key");
	args[2] = json_string_value(kw_query(r, "filename"));
	args[3] = media;
	return kw_call_blob(r, "upload_document", handlers_created, 4, args,
	    data, len, 0);
}

int
h_get_document(struct kw_req *r)
{
	return handlers_call(r, "get_document", handlers_ok, by_id, 1, NULL, 0);
}

int
h_get_document_content(struct kw_req *r)
{
	const char	*args[1] = { kw_path(r, "id") };

	return kw_call_blob(r, "document_content", content_ready, 1, args, NULL,
	    0, 1);
}

/* attachment; filename*=UTF-8''<percent-encoded>: safe for any name. */
static void
disposition(const char *name, char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	size_t			 o;

	o = (size_t)snprintf(out, outlen, "attachment; filename*=UTF-8''");
	for (p = (const unsigned char *)name; *p != '\0' && o + 4 < outlen; p++) {
		if (isalnum(*p) || strchr("-._~", *p) != NULL) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 0xf];
		}
	}
	out[o] = '\0';
}

/* Columns, in binary format: content, content_type, filename, sha256. */
static int
content_ready(struct kw_req *r, PGresult *res)
{
	char	cd[1024];

	if (PQntuples(res) != 1 || PQnfields(res) != 4 || PQgetisnull(res, 0, 0))
		return kw_reply_problem(r, 500, NULL);
	disposition(PQgetvalue(res, 0, 2), cd, sizeof(cd));
	http_response_header(r->req, "content-disposition", cd);
	http_response_header(r->req, "x-content-sha256", PQgetvalue(res, 0, 3));
	return kw_reply_result(r, 200, PQgetvalue(res, 0, 1), res,
	    PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}
