/*
 * openapi: the loaded openapi.yaml, its routing table and request-parameter
 * checks. The server routes by this table and validates path, query and
 * header parameters with it before any handler runs.
 *
 * Ownership: struct openapi owns the document and every string and schema
 * pointer reachable from its operations; they live until openapi_free.
 */
#ifndef KEYWORK_OPENAPI_H
#define KEYWORK_OPENAPI_H

#include <stddef.h>
#include <jansson.h>

#include "jsonschema.h"

/* Methods, as bits so a path's set of methods fits in one unsigned. */
#define OPENAPI_GET	0x01
#define OPENAPI_POST	0x02
#define OPENAPI_PUT	0x04
#define OPENAPI_PATCH	0x08
#define OPENAPI_DELETE	0x10
#define OPENAPI_HEAD	0x20
#define OPENAPI_OPTIONS	0x40

#define OPENAPI_IN_PATH   1
#define OPENAPI_IN_QUERY  2
#define OPENAPI_IN_HEADER 3

#define OPENAPI_MAX_PATH_PARAMS 8

struct openapi_param {
	const char	*name;	   /* header names as written in the spec */
	int		 in;	   /* OPENAPI_IN_* */
	int		 required;
	const json_t	*schema;   /* borrowed from the document, $ref resolved */
};

struct openapi_op {
	size_t			 index;	       /* in the spec's order, 0.. */
	const char		*operation_id;
	const char		*tag;	       /* first tag, or "" */
	const char		*path;	       /* the template, e.g. /v1/users/{id} */
	unsigned		 method;       /* one OPENAPI_* bit */
	int			 auth_required; /* 0 when security: [] */
	struct openapi_param	*params;       /* path-level and op-level merged */
	size_t			 nparams;
	const json_t		*body_schema;  /* application/json schema or NULL */
	int			 body_required;
	/*
	 * An upload: the body is a file, not JSON. body_media is the
	 * requestBody's content object (borrowed), whose keys are the media
	 * types accepted; each has schema {type: string, format: binary}.
	 */
	int			 body_binary;
	const json_t		*body_media;
	const json_t		*responses;    /* the operation's responses object */
	/*
	 * x-keywork-internal: true: served on the internal listener only
	 * (monitoring), never through the public one.
	 */
	int			 internal;
	void			*handler;      /* bound by the server, unused here */
};

struct openapi_match {
	unsigned	allow;	/* methods the matched path supports */
	size_t		nparams;
	struct {
		const char	*name;	 /* borrowed from the op */
		char		*value;	 /* percent-decoded, owned by the match */
	} params[OPENAPI_MAX_PATH_PARAMS];
};

struct openapi;

/*
 * Load and index the spec at path (YAML). Refuses (returns NULL, message in
 * err) a document that is not OpenAPI 3.1, an operation without an
 * operationId, a duplicate operationId, a path parameter that the template
 * does not name, or a $ref that does not resolve.
 */
struct openapi	*openapi_load(const char *path, char *err, size_t errlen);
void		 openapi_free(struct openapi *);

const json_t	*openapi_document(const struct openapi *);   /* borrowed */
size_t		 openapi_op_count(const struct openapi *);
struct openapi_op *openapi_op_at(struct openapi *, size_t);
struct openapi_op *openapi_op_find(struct openapi *, const char *operation_id);

/*
 * Whether an upload operation accepts a body of this Content-Type (its
 * media type, parameters ignored, case-insensitive).
 */
int		 openapi_body_accepts(const struct openapi_op *, const char *ct);

/* "GET" / "get" -> OPENAPI_GET; 0 when unknown. */
unsigned	 openapi_method_from_string(const char *);
/* Comma-separated "GET, POST" for an Allow header, into buf. */
void		 openapi_allow_string(unsigned allow, char *buf, size_t len);

#define OPENAPI_MATCH_OK	 0
#define OPENAPI_MATCH_NO_PATH	-1	/* 404 */
#define OPENAPI_MATCH_NO_METHOD	-2	/* 405, m->allow says what is */

/*
 * Route one request. path excludes the query string. Literal segments win
 * over templated ones. On OK, *op is set and m holds the path parameters.
 * openapi_match_cleanup frees the values in every case.
 */
int	openapi_match(struct openapi *, unsigned method, const char *path,
	    struct openapi_op **op, struct openapi_match *m);
void	openapi_match_cleanup(struct openapi_match *);

/* Look up a request header by name (case-insensitive); NULL if absent. */
typedef const char *(*openapi_header_fn)(void *ctx, const char *name);

/*
 * Check path, query and header parameters of a matched request against the
 * operation's parameter schemas. Query strings are split on '&', percent-
 * and '+'-decoded; a value is coerced to the schema's type (integer, number,
 * boolean, string) before validation. An unknown query parameter, a missing
 * required parameter, a repeated one, or a bad value is an error; pointers
 * are "/path/<name>", "/query/<name>", "/header/<Name>".
 *
 * On success returns 0 and *out is a new object
 *   {"path": {...}, "query": {...}, "header": {...}}
 * of the typed values (owned by the caller). On failure returns -1, *out is
 * NULL and errs holds the reasons.
 */
int	openapi_check_params(struct openapi *, const struct openapi_op *,
	    const struct openapi_match *, const char *query,
	    openapi_header_fn header, void *hctx, json_t **out,
	    struct jsonschema_errors *errs) __attribute__((warn_unused_result));

/*
 * The schema of op's response with this status and JSON content, or NULL
 * (used by the test suite to validate every response).
 */
const json_t *openapi_response_schema(struct openapi *, const struct openapi_op *,
	    int status);

#endif
