/*
 * openapi: loads openapi.yaml, indexes its operations in a segment trie and
 * checks request parameters against their schemas.
 *
 * The trie has one node per path segment; a node has sorted literal
 * children and at most one parameter child, shared by every template that
 * has a parameter at that position (names live in the operations, not in
 * the trie). Matching cuts the request path into (pointer, length)
 * segments without copying it, walks the trie depth first, literal
 * children before the parameter child, and allocates nothing but the
 * decoded parameter values of a successful match.
 *
 * Decisions beyond the header:
 *   - a template segment is either literal or a whole "{name}"; mixed
 *     segments ("{id}.json"), "$ref" path items, trace operations, cookie
 *     parameters, parameters described with "content", object-typed
 *     parameters and non-default styles are refused at load, so that
 *     nothing in the spec is silently ignored at run time;
 *   - header parameters named Accept, Content-Type or Authorization are
 *     skipped, as OpenAPI says they SHALL be ignored;
 *   - a security requirement list that holds an empty object ({}) makes
 *     authentication optional: auth_required is 0 for it too;
 *   - every string "$ref" in the document must be local and resolve,
 *     except inside example, examples, const and enum (instance data, not
 *     schema; "default" is walked, since responses have one);
 *   - literal segments are compared as sent, without percent-decoding;
 *     only parameter values are decoded;
 *   - a query parameter without "=" has the empty string as its value;
 *     integers are "-"?[0-9]+ (no "+", no spaces); numbers are always
 *     reals; array-typed query parameters are repeated (form, explode),
 *     array-typed path and header parameters are comma-separated (simple).
 */

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "openapi.h"
#include "xmalloc.h"
#include "yamljson.h"

/* Integers are parsed against LLONG_MIN..LLONG_MAX. */
_Static_assert(sizeof(json_int_t) == sizeof(long long),
    "json_int_t is long long");

#define OA_MAX_PATH_LEN		2048
#define OA_MAX_SEGMENTS		32
#define OA_MAX_OP_PARAMS	64
#define OA_MAX_REF_HOPS		16
#define OA_NMETHODS		7

struct oa_op {
	struct openapi_op	 pub;	/* first: callers get &pub */
	/* Path parameter names in template order, as the trie yields them. */
	const char		*pnames[OPENAPI_MAX_PATH_PARAMS];
	size_t			 npnames;
};

struct oa_node {
	const char	*lit;		/* this node's literal segment */
	size_t		 litlen;
	struct oa_node	**kids;		/* literal children, sorted */
	size_t		 nkids;
	struct oa_node	*param;		/* the {name} child */
	struct oa_op	*ops[OA_NMETHODS];
	unsigned	 allow;
	const char	*path;		/* first template ending here */
};

struct openapi {
	json_t		*doc;
	struct oa_op	*ops;
	size_t		 nops;
	struct oa_node	*root;
};

struct oa_seg {
	const char	*s;
	size_t		 len;
	int		 param;
};

struct oa_load {
	struct openapi	*oa;
	const char	*file;
	char		*err;
	size_t		 errlen;
	size_t		 cap;
};

/* The state of one openapi_check_params call. */
struct oa_check {
	struct openapi			*oa;
	struct jsonschema_errors	*errs;
	int				 failed;
};

static const struct {
	const char	*name;
	unsigned	 bit;
} oa_methods[OA_NMETHODS] = {
	/* Allow-header order. */
	{ "GET", OPENAPI_GET },
	{ "HEAD", OPENAPI_HEAD },
	{ "POST", OPENAPI_POST },
	{ "PUT", OPENAPI_PUT },
	{ "PATCH", OPENAPI_PATCH },
	{ "DELETE", OPENAPI_DELETE },
	{ "OPTIONS", OPENAPI_OPTIONS },
};

static int		 oa_method_index(unsigned);
static void		 oa_err(struct oa_load *, const char *, ...)
			    __attribute__((format(printf, 2, 3)));
static const json_t	*oa_deref(const json_t *, const json_t *);
static const json_t	*oa_deref_load(struct oa_load *, const json_t *,
			    const char *);
static int		 oa_check_refs(struct oa_load *, const json_t *);
static int		 oa_load_paths(struct oa_load *, const json_t *);
static int		 oa_parse_template(struct oa_load *, const char *,
			    struct oa_seg *, size_t *);
static int		 oa_load_op(struct oa_load *, const char *, unsigned,
			    const json_t *, const json_t *,
			    const struct oa_seg *, size_t);
static int		 oa_load_params(struct oa_load *, const char *,
			    const json_t *, struct openapi_param *, size_t *);
static int		 oa_load_param(struct oa_load *, const char *,
			    const json_t *, struct openapi_param *);
static int		 oa_same_param(const struct openapi_param *,
			    const struct openapi_param *);
static int		 oa_load_body(struct oa_load *, const char *,
			    const json_t *, struct openapi_op *);
static int		 oa_load_security(struct oa_load *, const char *,
			    const json_t *, struct openapi_op *);
static const char	*oa_schema_type(const json_t *, const json_t *);
static const json_t	*oa_schema_items(const json_t *, const json_t *);
static int		 oa_trie_insert(struct oa_load *, struct oa_op *);
static struct oa_node	*oa_node_new(const char *, size_t);
static void		 oa_node_free(struct oa_node *);
static int		 oa_seg_cmp(const char *, size_t, const char *,
			    size_t);
static struct oa_node	*oa_node_kid(const struct oa_node *, const char *,
			    size_t, size_t *);
static const struct oa_node *oa_find(const struct oa_node *,
			    const struct oa_seg *, size_t, size_t, size_t *,
			    size_t, size_t *);
static int		 oa_hexval(int);
static long		 oa_decode(const char *, size_t, int, char *);
static int		 oa_utf8_ok(const char *, size_t, int);
static char		*oa_pointer(const char *, const char *);
static void		 oa_fail(struct oa_check *, const char *, const char *,
			    const char *);
static json_t		*oa_coerce(const char *, const char *, size_t,
			    const char **);
static json_t		*oa_coerce_param(struct oa_check *,
			    const struct openapi_param *, const char *,
			    const char *, const char *);
static void		 oa_validate(struct oa_check *,
			    const struct openapi_param *, const json_t *,
			    const char *);
static void		 oa_check_query(struct oa_check *,
			    const struct openapi_op *, const char *, json_t *);
static void		 oa_query_piece(struct oa_check *,
			    const struct openapi_op *, const char *, size_t,
			    json_t *, unsigned char *);




/* Index into oa_methods and oa_node.ops, or -1 unless exactly one bit. */
static int
oa_method_index(unsigned method)
{
	int	i;

	for (i = 0; i < OA_NMETHODS; i++) {
		if (oa_methods[i].bit == method)
			return (i);
	}
	return (-1);
}

unsigned
openapi_method_from_string(const char *s)
{
	int	i;

	if (s == NULL)
		return (0);
	for (i = 0; i < OA_NMETHODS; i++) {
		if (strcasecmp(s, oa_methods[i].name) == 0)
			return (oa_methods[i].bit);
	}
	return (0);
}

void
openapi_allow_string(unsigned allow, char *buf, size_t len)
{
	size_t	off;
	int	i, n;

	if (len == 0)
		return;
	buf[0] = '\0';
	off = 0;
	for (i = 0; i < OA_NMETHODS; i++) {
		if (!(allow & oa_methods[i].bit))
			continue;
		n = snprintf(buf + off, len - off, "%s%s",
		    off > 0 ? ", " : "", oa_methods[i].name);
		/* Whole methods only: a cut "PO" would mislead. */
		if (n < 0 || (size_t)n >= len - off) {
			buf[off] = '\0';
			return;
		}
		off += n;
	}
}

static void
oa_err(struct oa_load *ld, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	n = snprintf(ld->err, ld->errlen, "%s: ", ld->file);
	if (n < 0 || (size_t)n >= ld->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->errlen - n, fmt, ap);
	va_end(ap);
}

/*
 * Follow "$ref" while v is a reference object, or NULL when a reference
 * does not resolve or the chain loops. Load time already checked every
 * reference, so run-time callers can rely on this.
 */
static const json_t *
oa_deref(const json_t *doc, const json_t *v)
{
	const json_t	*ref;
	int		 hops;

	for (hops = 0; json_is_object(v); hops++) {
		if ((ref = json_object_get(v, "$ref")) == NULL)
			return (v);
		if (hops == OA_MAX_REF_HOPS || !json_is_string(ref))
			return (NULL);
		v = jsonschema_resolve_ref(doc, json_string_value(ref));
	}
	return (v);
}

static const json_t *
oa_deref_load(struct oa_load *ld, const json_t *v, const char *where)
{
	const json_t	*r;

	if ((r = oa_deref(ld->oa->doc, v)) == NULL)
		oa_err(ld, "%s: $ref does not resolve or loops", where);
	return (r);
}

struct openapi *
openapi_load(const char *path, char *err, size_t errlen)
{
	struct oa_load	 ld;
	struct openapi	*oa;
	const json_t	*v;
	const char	*s;
	size_t		 i;

	oa = xcalloc(1, sizeof(*oa));
	memset(&ld, 0, sizeof(ld));
	ld.oa = oa;
	ld.file = path;
	ld.err = err;
	ld.errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';

	if ((oa->doc = yamljson_load_file(path, err, errlen)) == NULL)
		goto fail;
	if (!json_is_object(oa->doc)) {
		oa_err(&ld, "the document is not a mapping");
		goto fail;
	}
	v = json_object_get(oa->doc, "openapi");
	s = json_string_value(v);
	if (s == NULL || strncmp(s, "3.1", 3) != 0 ||
	    (s[3] != '\0' && s[3] != '.')) {
		oa_err(&ld, "\"openapi\" must be a 3.1.x version string");
		goto fail;
	}

	if (oa_check_refs(&ld, oa->doc) == -1)
		goto fail;

	v = json_object_get(oa->doc, "paths");
	if (v != NULL && !json_is_object(v)) {
		oa_err(&ld, "\"paths\" must be a mapping");
		goto fail;
	}
	if (v != NULL && oa_load_paths(&ld, v) == -1)
		goto fail;

	/* The ops array is final now: the trie may point into it. */
	oa->root = oa_node_new("", 0);
	for (i = 0; i < oa->nops; i++) {
		if (oa_trie_insert(&ld, &oa->ops[i]) == -1)
			goto fail;
	}
	return (oa);

fail:
	openapi_free(oa);
	return (NULL);
}

void
openapi_free(struct openapi *oa)
{
	size_t	i;

	if (oa == NULL)
		return;
	for (i = 0; i < oa->nops; i++)
		free(oa->ops[i].pub.params);
	free(oa->ops);
	oa_node_free(oa->root);
	json_decref(oa->doc);
	free(oa);
}

const json_t *
openapi_document(const struct openapi *oa)
{
	return (oa->doc);
}

size_t
openapi_op_count(const struct openapi *oa)
{
	return (oa->nops);
}

struct openapi_op *
openapi_op_at(struct openapi *oa, size_t i)
{
	if (i >= oa->nops)
		return (NULL);
	return (&oa->ops[i].pub);
}

struct openapi_op *
openapi_op_find(struct openapi *oa, const char *operation_id)
{
	size_t	i;

	for (i = 0; i < oa->nops; i++) {
		if (strcmp(oa->ops[i].pub.operation_id, operation_id) == 0)
			return (&oa->ops[i].pub);
	}
	return (NULL);
}

/*
 * Every "$ref" string must be local and resolve, so that nothing fails
 * later at request time. yamljson bounds the depth of the recursion.
 */
static int
oa_check_refs(struct oa_load *ld, const json_t *v)
{
	const char	*key, *ref;
	json_t		*kid;
	size_t		 i;

	if (json_is_array(v)) {
		json_array_foreach((json_t *)v, i, kid) {
			if (oa_check_refs(ld, kid) == -1)
				return (-1);
		}
		return (0);
	}
	if (!json_is_object(v))
		return (0);

	json_object_foreach((json_t *)v, key, kid) {
		if (strcmp(key, "$ref") == 0 && json_is_string(kid)) {
			ref = json_string_value(kid);
			if (ref[0] != '#') {
				oa_err(ld, "$ref \"%.200s\": only local "
				    "references (#/...) are supported", ref);
				return (-1);
			}
			if (jsonschema_resolve_ref(ld->oa->doc, ref) == NULL) {
				oa_err(ld, "$ref \"%.200s\" does not resolve",
				    ref);
				return (-1);
			}
			continue;
		}
		/* Instance data: a "$ref" in there is not a reference. */
		if (strcmp(key, "example") == 0 ||
		    strcmp(key, "examples") == 0 ||
		    strcmp(key, "const") == 0 || strcmp(key, "enum") == 0)
			continue;
		if (oa_check_refs(ld, kid) == -1)
			return (-1);
	}
	return (0);
}

static int
oa_load_paths(struct oa_load *ld, const json_t *paths)
{
	struct oa_seg	 segs[OA_MAX_SEGMENTS];
	const char	*tmpl;
	const json_t	*item, *op, *plevel;
	size_t		 nsegs, j;
	char		 lower[8];
	int		 i;

	json_object_foreach((json_t *)paths, tmpl, item) {
		if (oa_parse_template(ld, tmpl, segs, &nsegs) == -1)
			return (-1);
		if (!json_is_object(item)) {
			oa_err(ld, "%.200s: path item must be a mapping", tmpl);
			return (-1);
		}
		if (json_object_get(item, "$ref") != NULL) {
			oa_err(ld, "%.200s: $ref path items are not supported",
			    tmpl);
			return (-1);
		}
		if (json_object_get(item, "trace") != NULL) {
			oa_err(ld, "%.200s: trace operations are not "
			    "supported", tmpl);
			return (-1);
		}
		plevel = json_object_get(item, "parameters");
		if (plevel != NULL && !json_is_array(plevel)) {
			oa_err(ld, "%.200s: parameters must be a list", tmpl);
			return (-1);
		}
		for (i = 0; i < OA_NMETHODS; i++) {
			for (j = 0; oa_methods[i].name[j] != '\0'; j++)
				lower[j] = oa_methods[i].name[j] - 'A' + 'a';
			lower[j] = '\0';
			if ((op = json_object_get(item, lower)) == NULL)
				continue;
			if (oa_load_op(ld, tmpl, oa_methods[i].bit, op, plevel,
			    segs, nsegs) == -1)
				return (-1);
		}
	}
	return (0);
}

static int
oa_parse_template(struct oa_load *ld, const char *tmpl, struct oa_seg *segs,
    size_t *nsegs)
{
	const char	*p, *end;
	size_t		 n, np, i, j, len;

	*nsegs = 0;
	len = strlen(tmpl);
	if (tmpl[0] != '/' || len > OA_MAX_PATH_LEN) {
		oa_err(ld, "path \"%.200s\" must start with / and be at most "
		    "%d bytes", tmpl, OA_MAX_PATH_LEN);
		return (-1);
	}
	if (len == 1)
		return (0);

	n = np = 0;
	for (p = tmpl + 1;; p = end + 1) {
		if ((end = strchr(p, '/')) == NULL)
			end = tmpl + len;
		if (end == p) {
			oa_err(ld, "path \"%.200s\" has an empty segment or a "
			    "trailing slash", tmpl);
			return (-1);
		}
		if (n == OA_MAX_SEGMENTS) {
			oa_err(ld, "path \"%.200s\" has more than %d segments",
			    tmpl, OA_MAX_SEGMENTS);
			return (-1);
		}
		segs[n].s = p;
		segs[n].len = end - p;
		segs[n].param = 0;
		if (*p == '{' && end[-1] == '}' && end - p > 2 &&
		    memchr(p + 1, '{', end - p - 2) == NULL &&
		    memchr(p + 1, '}', end - p - 2) == NULL) {
			segs[n].s = p + 1;
			segs[n].len = end - p - 2;
			segs[n].param = 1;
			np++;
		} else if (memchr(p, '{', end - p) != NULL ||
		    memchr(p, '}', end - p) != NULL) {
			oa_err(ld, "path \"%.200s\": a segment must be literal "
			    "or a whole {name}", tmpl);
			return (-1);
		}
		n++;
		if (*end == '\0')
			break;
	}
	if (np > OPENAPI_MAX_PATH_PARAMS) {
		oa_err(ld, "path \"%.200s\" has more than %d parameters", tmpl,
		    OPENAPI_MAX_PATH_PARAMS);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		for (j = i + 1; segs[i].param && j < n; j++) {
			if (segs[j].param && segs[j].len == segs[i].len &&
			    memcmp(segs[j].s, segs[i].s, segs[i].len) == 0) {
				oa_err(ld, "path \"%.200s\" names a parameter "
				    "twice", tmpl);
				return (-1);
			}
		}
	}
	*nsegs = n;
	return (0);
}

static int
oa_load_op(struct oa_load *ld, const char *tmpl, unsigned method,
    const json_t *jop, const json_t *plevel, const struct oa_seg *segs,
    size_t nsegs)
{
	struct openapi_param	 pp[OA_MAX_OP_PARAMS], op_p[OA_MAX_OP_PARAMS];
	struct openapi_param	 merged[OA_MAX_OP_PARAMS];
	struct openapi		*oa;
	struct oa_op		*o;
	const json_t		*v;
	const char		*id;
	char			 where[OA_MAX_PATH_LEN + 16];
	size_t			 npp, nop, nm, i, j, k;
	int			 found;

	oa = ld->oa;
	snprintf(where, sizeof(where), "%s %s",
	    oa_methods[oa_method_index(method)].name, tmpl);

	if (!json_is_object(jop)) {
		oa_err(ld, "%s: operation must be a mapping", where);
		return (-1);
	}
	v = json_object_get(jop, "operationId");
	if ((id = json_string_value(v)) == NULL || id[0] == '\0') {
		oa_err(ld, "%s: missing operationId", where);
		return (-1);
	}
	if (openapi_op_find(oa, id) != NULL) {
		oa_err(ld, "%s: duplicate operationId \"%.200s\"", where, id);
		return (-1);
	}

	npp = nop = 0;
	if (plevel != NULL && oa_load_params(ld, where, plevel, pp, &npp) == -1)
		return (-1);
	v = json_object_get(jop, "parameters");
	if (v != NULL && !json_is_array(v)) {
		oa_err(ld, "%s: parameters must be a list", where);
		return (-1);
	}
	if (v != NULL && oa_load_params(ld, where, v, op_p, &nop) == -1)
		return (-1);

	/* Operation-level parameters override path-level ones. */
	nm = 0;
	for (i = 0; i < npp; i++) {
		for (j = 0; j < nop; j++) {
			if (oa_same_param(&pp[i], &op_p[j]))
				break;
		}
		if (j == nop)
			merged[nm++] = pp[i];
	}
	for (j = 0; j < nop; j++) {
		if (nm == OA_MAX_OP_PARAMS) {
			oa_err(ld, "%s: more than %d parameters", where,
			    OA_MAX_OP_PARAMS);
			return (-1);
		}
		merged[nm++] = op_p[j];
	}

	if (oa->nops == ld->cap) {
		ld->cap = ld->cap == 0 ? 16 : ld->cap * 2;
		oa->ops = xreallocarray(oa->ops, ld->cap, sizeof(*oa->ops));
	}
	o = &oa->ops[oa->nops];
	memset(o, 0, sizeof(*o));
	o->pub.index = oa->nops;
	o->pub.operation_id = id;
	o->pub.path = tmpl;
	o->pub.method = method;
	o->pub.tag = "";
	v = json_array_get(json_object_get(jop, "tags"), 0);
	if (json_is_string(v))
		o->pub.tag = json_string_value(v);
	/* Counted now so that openapi_free releases params on any error. */
	oa->nops++;
	if (nm > 0) {
		o->pub.params = xcalloc(nm, sizeof(*o->pub.params));
		memcpy(o->pub.params, merged, nm * sizeof(*merged));
		o->pub.nparams = nm;
	}

	/* Each {name} needs its path parameter, and each one its {name}. */
	for (i = 0; i < nsegs; i++) {
		if (!segs[i].param)
			continue;
		found = 0;
		for (k = 0; k < nm; k++) {
			if (merged[k].in == OPENAPI_IN_PATH &&
			    strlen(merged[k].name) == segs[i].len &&
			    memcmp(merged[k].name, segs[i].s,
			    segs[i].len) == 0) {
				o->pnames[o->npnames++] = merged[k].name;
				found = 1;
				break;
			}
		}
		if (!found) {
			oa_err(ld, "%s: no path parameter for {%.*s}", where,
			    (int)segs[i].len, segs[i].s);
			return (-1);
		}
	}
	for (k = 0; k < nm; k++) {
		if (merged[k].in != OPENAPI_IN_PATH)
			continue;
		for (i = 0; i < o->npnames; i++) {
			if (o->pnames[i] == merged[k].name)
				break;
		}
		if (i == o->npnames) {
			oa_err(ld, "%s: path parameter \"%.200s\" is not in "
			    "the template", where, merged[k].name);
			return (-1);
		}
	}

	if (oa_load_body(ld, where, json_object_get(jop, "requestBody"),
	    &o->pub) == -1)
		return (-1);
	if (oa_load_security(ld, where, json_object_get(jop, "security"),
	    &o->pub) == -1)
		return (-1);

	v = json_object_get(jop, "responses");
	if (v != NULL && !json_is_object(v)) {
		oa_err(ld, "%s: responses must be a mapping", where);
		return (-1);
	}
	o->pub.responses = v;

	v = json_object_get(jop, "x-keywork-internal");
	if (v != NULL && !json_is_boolean(v)) {
		oa_err(ld, "%s: x-keywork-internal must be true or false",
		    where);
		return (-1);
	}
	o->pub.internal = json_is_true(v);
	return (0);
}

static int
oa_load_params(struct oa_load *ld, const char *where, const json_t *list,
    struct openapi_param *out, size_t *nout)
{
	struct openapi_param	 p;
	const json_t		*v;
	size_t			 i, j;
	int			 rc;

	*nout = 0;
	json_array_foreach(list, i, v) {
		if ((rc = oa_load_param(ld, where, v, &p)) == -1)
			return (-1);
		if (rc == 1)
			continue;
		for (j = 0; j < *nout; j++) {
			if (oa_same_param(&out[j], &p)) {
				oa_err(ld, "%s: parameter \"%.200s\" is "
				    "declared twice", where, p.name);
				return (-1);
			}
		}
		if (*nout == OA_MAX_OP_PARAMS) {
			oa_err(ld, "%s: more than %d parameters", where,
			    OA_MAX_OP_PARAMS);
			return (-1);
		}
		out[(*nout)++] = p;
	}
	return (0);
}

/* 0 with *out filled, 1 for a parameter OpenAPI says to ignore, -1. */
static int
oa_load_param(struct oa_load *ld, const char *where, const json_t *raw,
    struct openapi_param *out)
{
	const json_t	*p, *v, *schema;
	const char	*name, *in, *type, *style;

	if ((p = oa_deref_load(ld, raw, where)) == NULL)
		return (-1);
	if (!json_is_object(p)) {
		oa_err(ld, "%s: a parameter must be a mapping", where);
		return (-1);
	}
	name = json_string_value(json_object_get(p, "name"));
	if (name == NULL || name[0] == '\0') {
		oa_err(ld, "%s: a parameter has no name", where);
		return (-1);
	}
	in = json_string_value(json_object_get(p, "in"));
	if (in == NULL) {
		oa_err(ld, "%s: parameter \"%.200s\" has no \"in\"", where,
		    name);
		return (-1);
	}
	memset(out, 0, sizeof(*out));
	out->name = name;
	if (strcmp(in, "path") == 0) {
		out->in = OPENAPI_IN_PATH;
	} else if (strcmp(in, "query") == 0) {
		out->in = OPENAPI_IN_QUERY;
	} else if (strcmp(in, "header") == 0) {
		out->in = OPENAPI_IN_HEADER;
		if (strcasecmp(name, "Accept") == 0 ||
		    strcasecmp(name, "Content-Type") == 0 ||
		    strcasecmp(name, "Authorization") == 0)
			return (1);
	} else {
		oa_err(ld, "%s: parameter \"%.200s\": in: %.20s is not "
		    "supported", where, name, in);
		return (-1);
	}

	if (json_object_get(p, "content") != NULL) {
		oa_err(ld, "%s: parameter \"%.200s\": content is not "
		    "supported, use schema", where, name);
		return (-1);
	}
	v = json_object_get(p, "required");
	if (v != NULL && !json_is_boolean(v)) {
		oa_err(ld, "%s: parameter \"%.200s\": required must be a "
		    "boolean", where, name);
		return (-1);
	}
	out->required = out->in == OPENAPI_IN_PATH || json_is_true(v);

	style = json_string_value(json_object_get(p, "style"));
	if (style != NULL && strcmp(style, out->in == OPENAPI_IN_QUERY ?
	    "form" : "simple") != 0) {
		oa_err(ld, "%s: parameter \"%.200s\": style %.20s is not "
		    "supported", where, name, style);
		return (-1);
	}
	if (out->in == OPENAPI_IN_QUERY &&
	    json_is_false(json_object_get(p, "explode"))) {
		oa_err(ld, "%s: parameter \"%.200s\": explode: false is not "
		    "supported", where, name);
		return (-1);
	}

	if ((schema = json_object_get(p, "schema")) == NULL) {
		oa_err(ld, "%s: parameter \"%.200s\" has no schema", where,
		    name);
		return (-1);
	}
	/*
	 * A schema that is nothing but a $ref is stored resolved, so the type
	 * is at hand; one with siblings is kept whole so none is lost.
	 */
	if (json_is_object(schema) && json_object_size(schema) == 1 &&
	    json_object_get(schema, "$ref") != NULL) {
		if ((schema = oa_deref_load(ld, schema, where)) == NULL)
			return (-1);
	}
	if (!json_is_object(schema) && !json_is_boolean(schema)) {
		oa_err(ld, "%s: parameter \"%.200s\": schema must be a "
		    "mapping", where, name);
		return (-1);
	}
	type = oa_schema_type(ld->oa->doc, schema);
	if (type != NULL && strcmp(type, "object") == 0) {
		oa_err(ld, "%s: parameter \"%.200s\": object parameters are "
		    "not supported", where, name);
		return (-1);
	}
	out->schema = schema;
	return (0);
}

static int
oa_same_param(const struct openapi_param *a, const struct openapi_param *b)
{
	if (a->in != b->in)
		return (0);
	if (a->in == OPENAPI_IN_HEADER)
		return (strcasecmp(a->name, b->name) == 0);
	return (strcmp(a->name, b->name) == 0);
}

static int
oa_load_body(struct oa_load *ld, const char *where, const json_t *raw,
    struct openapi_op *op)
{
	const json_t	*rb, *v, *content, *s;
	const char	*media;
	json_t		*mt;

	if (raw == NULL)
		return (0);
	if ((rb = oa_deref_load(ld, raw, where)) == NULL)
		return (-1);
	if (!json_is_object(rb)) {
		oa_err(ld, "%s: requestBody must be a mapping", where);
		return (-1);
	}
	v = json_object_get(rb, "required");
	if (v != NULL && !json_is_boolean(v)) {
		oa_err(ld, "%s: requestBody required must be a boolean", where);
		return (-1);
	}
	op->body_required = json_is_true(v);

	/* A body we could not validate must not reach a handler. */
	content = json_object_get(rb, "content");
	v = json_object_get(content, "application/json");
	if (v == NULL && json_is_object(content) && json_object_size(content) > 0) {
		/* An upload: every media type must be a binary string. */
		json_object_foreach((json_t *)content, media, mt) {
			s = json_object_get(mt, "schema");
			if (strchr(media, '*') != NULL ||
			    !json_is_string(json_object_get(s, "format")) ||
			    strcmp(json_string_value(json_object_get(s,
			    "format")), "binary") != 0) {
				oa_err(ld, "%s: requestBody %s needs schema "
				    "{type: string, format: binary}", where, media);
				return (-1);
			}
		}
		op->body_binary = 1;
		op->body_media = content;
		return (0);
	}
	if (v == NULL || (v = json_object_get(v, "schema")) == NULL) {
		oa_err(ld, "%s: requestBody needs an application/json schema",
		    where);
		return (-1);
	}
	op->body_schema = v;
	return (0);
}

int
openapi_body_accepts(const struct openapi_op *op, const char *ct)
{
	const char	*media;
	json_t		*mt;
	size_t		 n;

	if (!op->body_binary || ct == NULL)
		return (0);
	n = strcspn(ct, "; \t");
	json_object_foreach((json_t *)op->body_media, media, mt) {
		if (strlen(media) == n && strncasecmp(media, ct, n) == 0)
			return (1);
	}
	return (0);
}

static int
oa_load_security(struct oa_load *ld, const char *where, const json_t *sec,
    struct openapi_op *op)
{
	const json_t	*req;
	size_t		 i;

	if (sec == NULL)
		sec = json_object_get(ld->oa->doc, "security");
	op->auth_required = 0;
	if (sec == NULL)
		return (0);
	if (!json_is_array(sec)) {
		oa_err(ld, "%s: security must be a list", where);
		return (-1);
	}
	json_array_foreach(sec, i, req) {
		if (!json_is_object(req)) {
			oa_err(ld, "%s: a security requirement must be a "
			    "mapping", where);
			return (-1);
		}
	}
	op->auth_required = json_array_size(sec) > 0;
	/* {} among the alternatives lets anonymous requests through. */
	json_array_foreach(sec, i, req) {
		if (json_object_size(req) == 0)
			op->auth_required = 0;
	}
	return (0);
}

/*
 * The type a parameter value is coerced to: "type" (the first non-"null"
 * of a list), through a bare $ref if need be; NULL when none is said.
 */
static const char *
oa_schema_type(const json_t *doc, const json_t *schema)
{
	const json_t	*t, *v;
	const char	*s;
	size_t		 i;
	int		 hops;

	for (hops = 0; json_is_object(schema) && hops < OA_MAX_REF_HOPS;
	    hops++) {
		t = json_object_get(schema, "type");
		if (json_is_string(t))
			return (json_string_value(t));
		if (json_is_array(t)) {
			json_array_foreach(t, i, v) {
				s = json_string_value(v);
				if (s != NULL && strcmp(s, "null") != 0)
					return (s);
			}
			return (NULL);
		}
		s = json_string_value(json_object_get(schema, "$ref"));
		if (s == NULL)
			return (NULL);
		schema = jsonschema_resolve_ref(doc, s);
	}
	return (NULL);
}

/* "items" of an array schema, through a bare $ref; NULL when none. */
static const json_t *
oa_schema_items(const json_t *doc, const json_t *schema)
{
	const json_t	*items;
	const char	*s;
	int		 hops;

	for (hops = 0; json_is_object(schema) && hops < OA_MAX_REF_HOPS;
	    hops++) {
		if ((items = json_object_get(schema, "items")) != NULL)
			return (items);
		s = json_string_value(json_object_get(schema, "$ref"));
		if (s == NULL)
			return (NULL);
		schema = jsonschema_resolve_ref(doc, s);
	}
	return (NULL);
}

static struct oa_node *
oa_node_new(const char *lit, size_t len)
{
	struct oa_node	*n;

	n = xcalloc(1, sizeof(*n));
	n->lit = lit;
	n->litlen = len;
	return (n);
}

static void
oa_node_free(struct oa_node *n)
{
	size_t	i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		oa_node_free(n->kids[i]);
	free(n->kids);
	oa_node_free(n->param);
	free(n);
}

/* Literal children are ordered by length, then bytes. */
static int
oa_seg_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return (alen < blen ? -1 : 1);
	return (memcmp(a, b, alen));
}

/* The literal child for s, or NULL with *pos where it would go. */
static struct oa_node *
oa_node_kid(const struct oa_node *n, const char *s, size_t len, size_t *pos)
{
	size_t	lo, hi, mid;
	int	c;

	lo = 0;
	hi = n->nkids;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = oa_seg_cmp(s, len, n->kids[mid]->lit, n->kids[mid]->litlen);
		if (c == 0)
			return (n->kids[mid]);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (pos != NULL)
		*pos = lo;
	return (NULL);
}

static int
oa_trie_insert(struct oa_load *ld, struct oa_op *o)
{
	struct oa_seg	 segs[OA_MAX_SEGMENTS];
	struct oa_node	*n, *kid;
	size_t		 nsegs, i, pos;
	int		 idx;

	/* Parsed once already at load; this cannot fail now. */
	if (oa_parse_template(ld, o->pub.path, segs, &nsegs) == -1)
		return (-1);

	n = ld->oa->root;
	for (i = 0; i < nsegs; i++) {
		if (segs[i].param) {
			if (n->param == NULL)
				n->param = oa_node_new("", 0);
			n = n->param;
			continue;
		}
		if ((kid = oa_node_kid(n, segs[i].s, segs[i].len, &pos)) ==
		    NULL) {
			kid = oa_node_new(segs[i].s, segs[i].len);
			n->kids = xreallocarray(n->kids, n->nkids + 1,
			    sizeof(*n->kids));
			memmove(&n->kids[pos + 1], &n->kids[pos],
			    (n->nkids - pos) * sizeof(*n->kids));
			n->kids[pos] = kid;
			n->nkids++;
		}
		n = kid;
	}

	idx = oa_method_index(o->pub.method);
	if (n->ops[idx] != NULL) {
		oa_err(ld, "%s %.200s: conflicts with %.200s",
		    oa_methods[idx].name, o->pub.path, n->path);
		return (-1);
	}
	n->ops[idx] = o;
	n->allow |= o->pub.method;
	if (n->path == NULL)
		n->path = o->pub.path;
	return (0);
}

/*
 * Depth first, literal before parameter, so /users/me beats /users/{id}
 * but /users/me/posts still reaches /users/{id}/posts. Each trie node is
 * visited at most once, so the walk is bounded by the trie's size.
 */
static const struct oa_node *
oa_find(const struct oa_node *n, const struct oa_seg *segs, size_t nsegs,
    size_t depth, size_t *pidx, size_t np, size_t *npout)
{
	const struct oa_node	*kid, *r;

	if (depth == nsegs) {
		if (n->allow == 0)
			return (NULL);
		*npout = np;
		return (n);
	}
	kid = oa_node_kid(n, segs[depth].s, segs[depth].len, NULL);
	if (kid != NULL &&
	    (r = oa_find(kid, segs, nsegs, depth + 1, pidx, np, npout)) != NULL)
		return (r);
	if (n->param != NULL && np < OPENAPI_MAX_PATH_PARAMS) {
		pidx[np] = depth;
		return (oa_find(n->param, segs, nsegs, depth + 1, pidx, np + 1,
		    npout));
	}
	return (NULL);
}

int
openapi_match(struct openapi *oa, unsigned method, const char *path,
    struct openapi_op **op, struct openapi_match *m)
{
	struct oa_seg		 segs[OA_MAX_SEGMENTS];
	const struct oa_node	*n;
	struct oa_op		*o;
	const char		*p, *end;
	size_t			 len, nsegs, pidx[OPENAPI_MAX_PATH_PARAMS], np;
	size_t			 i;
	long			 dlen;
	int			 idx;

	m->allow = 0;
	m->nparams = 0;
	*op = NULL;
	if (path == NULL || path[0] != '/')
		return (OPENAPI_MATCH_NO_PATH);
	if ((len = strnlen(path, OA_MAX_PATH_LEN + 1)) > OA_MAX_PATH_LEN)
		return (OPENAPI_MATCH_NO_PATH);

	nsegs = 0;
	if (len > 1) {
		for (p = path + 1;; p = end + 1) {
			if ((end = memchr(p, '/', path + len - p)) == NULL)
				end = path + len;
			if (end == p || nsegs == OA_MAX_SEGMENTS)
				return (OPENAPI_MATCH_NO_PATH);
			segs[nsegs].s = p;
			segs[nsegs].len = end - p;
			nsegs++;
			if (end == path + len)
				break;
		}
	}

	np = 0;
	if ((n = oa_find(oa->root, segs, nsegs, 0, pidx, 0, &np)) == NULL)
		return (OPENAPI_MATCH_NO_PATH);
	/* A malformed parameter means no such resource, whatever the method. */
	for (i = 0; i < np; i++) {
		if (oa_decode(segs[pidx[i]].s, segs[pidx[i]].len, 0, NULL) < 0)
			return (OPENAPI_MATCH_NO_PATH);
	}

	m->allow = n->allow;
	if ((idx = oa_method_index(method)) == -1 || n->ops[idx] == NULL)
		return (OPENAPI_MATCH_NO_METHOD);
	o = n->ops[idx];
	for (i = 0; i < np; i++) {
		m->params[i].name = o->pnames[i];
		m->params[i].value = xmalloc(segs[pidx[i]].len + 1);
		dlen = oa_decode(segs[pidx[i]].s, segs[pidx[i]].len, 0,
		    m->params[i].value);
		m->params[i].value[dlen] = '\0';
	}
	m->nparams = np;
	*op = &o->pub;
	return (OPENAPI_MATCH_OK);
}

void
openapi_match_cleanup(struct openapi_match *m)
{
	size_t	i;

	for (i = 0; i < m->nparams && i < OPENAPI_MAX_PATH_PARAMS; i++) {
		free(m->params[i].value);
		m->params[i].value = NULL;
	}
	m->nparams = 0;
}

static int
oa_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * Percent-decode (and with plus, '+' to space) src into dst, which holds
 * len bytes; dst NULL only checks. The decoded length, or -1 for a bad
 * escape or a decoded NUL (which no C consumer could see past).
 */
static long
oa_decode(const char *src, size_t len, int plus, char *dst)
{
	size_t	i, o;
	int	hi, lo, c;

	for (i = o = 0; i < len; i++, o++) {
		c = (unsigned char)src[i];
		if (c == '%') {
			if (len - i < 3 || (hi = oa_hexval(src[i + 1])) < 0 ||
			    (lo = oa_hexval(src[i + 2])) < 0)
				return (-1);
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c == '\0')
			return (-1);
		if (dst != NULL)
			dst[o] = (char)c;
	}
	return ((long)o);
}

/*
 * Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF),
 * since every value ends up in JSON. With names, control characters are
 * refused too: a name lands in an error pointer.
 */
static int
oa_utf8_ok(const char *s, size_t len, int name)
{
	const unsigned char	*p, *end;
	unsigned		 cp, need, min;

	p = (const unsigned char *)s;
	end = p + len;
	while (p < end) {
		if (*p < 0x80) {
			if (name && (*p < 0x20 || *p == 0x7f))
				return (0);
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			cp = *p & 0x1f;
			need = 1;
			min = 0x80;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			need = 2;
			min = 0x800;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p & 0x07;
			need = 3;
			min = 0x10000;
		} else {
			return (0);
		}
		if ((size_t)(end - p) <= need)
			return (0);
		for (p++; need > 0; need--, p++) {
			if ((*p & 0xc0) != 0x80)
				return (0);
			cp = (cp << 6) | (*p & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return (0);
		if (name && cp >= 0x80 && cp <= 0x9f)
			return (0);
	}
	return (1);
}

/* prefix followed by name escaped as an RFC 6901 reference token. */
static char *
oa_pointer(const char *prefix, const char *name)
{
	char	*buf, *o;
	size_t	 plen, nlen;

	plen = strlen(prefix);
	nlen = strlen(name);
	buf = xmalloc(plen + 2 * nlen + 1);
	memcpy(buf, prefix, plen);
	o = buf + plen;
	for (; *name != '\0'; name++) {
		if (*name == '~') {
			*o++ = '~';
			*o++ = '0';
		} else if (*name == '/') {
			*o++ = '~';
			*o++ = '1';
		} else {
			*o++ = *name;
		}
	}
	*o = '\0';
	return (buf);
}

/* An error at prefix + name (name may be NULL). */
static void
oa_fail(struct oa_check *ck, const char *prefix, const char *name,
    const char *message)
{
	char	*ptr;

	ck->failed = 1;
	if (name == NULL) {
		jsonschema_errors_add(ck->errs, prefix, message);
		return;
	}
	ptr = oa_pointer(prefix, name);
	jsonschema_errors_add(ck->errs, ptr, message);
	free(ptr);
}

/*
 * s (len bytes, NUL-terminated, valid UTF-8) as a JSON value of type, or
 * NULL with *why saying what it should have been.
 */
static json_t *
oa_coerce(const char *type, const char *s, size_t len, const char **why)
{
	unsigned long long	 v, limit;
	json_t			*j;
	double			 d;
	size_t			 i;
	char			*end;
	int			 neg;

	if (type == NULL || strcmp(type, "string") == 0) {
		j = json_stringn(s, len);
	} else if (strcmp(type, "integer") == 0) {
		*why = "must be integer";
		neg = len > 0 && s[0] == '-';
		i = neg;
		if (i == len)
			return (NULL);
		limit = neg ? (unsigned long long)LLONG_MAX + 1 :
		    (unsigned long long)LLONG_MAX;
		v = 0;
		for (; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return (NULL);
			if (v > (limit - (s[i] - '0')) / 10) {
				*why = "is out of range";
				return (NULL);
			}
			v = v * 10 + (s[i] - '0');
		}
		if (neg)
			j = json_integer(v == limit ? LLONG_MIN :
			    -(json_int_t)v);
		else
			j = json_integer((json_int_t)v);
	} else if (strcmp(type, "number") == 0) {
		*why = "must be number";
		/* strtod alone would take spaces, hex, inf and nan. */
		if (len == 0 || strspn(s, "0123456789+-.eE") != len)
			return (NULL);
		d = strtod(s, &end);
		if (end != s + len || !isfinite(d))
			return (NULL);
		j = json_real(d);
	} else if (strcmp(type, "boolean") == 0) {
		*why = "must be boolean";
		if (strcmp(s, "true") == 0)
			j = json_true();
		else if (strcmp(s, "false") == 0)
			j = json_false();
		else
			return (NULL);
	} else if (strcmp(type, "null") == 0) {
		*why = "must be null";
		if (len != 0 && strcmp(s, "null") != 0)
			return (NULL);
		j = json_null();
	} else {
		/* Arrays come item by item; objects are refused at load. */
		*why = "has an unsupported type";
		return (NULL);
	}
	if (j == NULL)
		abort();
	return (j);
}

/*
 * A path or header value coerced per p's schema (an array type splits on
 * ','). NULL after recording an error at ptr.
 */
static json_t *
oa_coerce_param(struct oa_check *ck, const struct openapi_param *p,
    const char *ptr, const char *s, const char *itemsep)
{
	const json_t	*doc;
	const char	*type, *itype, *why, *end;
	json_t		*v, *arr;
	size_t		 len;
	char		*item;

	doc = ck->oa->doc;
	len = strlen(s);
	if (!oa_utf8_ok(s, len, 0)) {
		oa_fail(ck, ptr, NULL, "is not valid UTF-8");
		return (NULL);
	}
	type = oa_schema_type(doc, p->schema);
	if (type == NULL || strcmp(type, "array") != 0) {
		if ((v = oa_coerce(type, s, len, &why)) == NULL)
			oa_fail(ck, ptr, NULL, why);
		return (v);
	}

	itype = oa_schema_type(doc, oa_schema_items(doc, p->schema));
	if ((arr = json_array()) == NULL)
		abort();
	for (;;) {
		end = strchr(s, itemsep[0]);
		len = end != NULL ? (size_t)(end - s) : strlen(s);
		item = xmalloc(len + 1);
		memcpy(item, s, len);
		item[len] = '\0';
		v = oa_coerce(itype, item, len, &why);
		free(item);
		if (v == NULL) {
			oa_fail(ck, ptr, NULL, why);
			json_decref(arr);
			return (NULL);
		}
		if (json_array_append_new(arr, v) == -1)
			abort();
		if (end == NULL)
			break;
		s = end + 1;
	}
	return (arr);
}

static void
oa_validate(struct oa_check *ck, const struct openapi_param *p,
    const json_t *v, const char *ptr)
{
	if (jsonschema_validate(ck->oa->doc, p->schema, v, ptr, ck->errs) != 0)
		ck->failed = 1;
}

int
openapi_check_params(struct openapi *oa, const struct openapi_op *op,
    const struct openapi_match *m, const char *query,
    openapi_header_fn header, void *hctx, json_t **out,
    struct jsonschema_errors *errs)
{
	struct oa_check			 ck;
	const struct openapi_param	*p;
	const char			*s, *prefix;
	json_t				*res, *po, *qo, *ho, *v;
	char				*ptr;
	size_t				 i, j;

	*out = NULL;
	ck.oa = oa;
	ck.errs = errs;
	ck.failed = 0;

	if ((res = json_object()) == NULL || (po = json_object()) == NULL ||
	    (qo = json_object()) == NULL || (ho = json_object()) == NULL)
		abort();
	if (json_object_set_new(res, "path", po) == -1 ||
	    json_object_set_new(res, "query", qo) == -1 ||
	    json_object_set_new(res, "header", ho) == -1)
		abort();

	for (i = 0; i < op->nparams; i++) {
		p = &op->params[i];
		if (p->in == OPENAPI_IN_QUERY)
			continue;
		s = NULL;
		if (p->in == OPENAPI_IN_PATH) {
			prefix = "/path/";
			for (j = 0; m != NULL && j < m->nparams &&
			    j < OPENAPI_MAX_PATH_PARAMS; j++) {
				if (m->params[j].name != NULL &&
				    strcmp(m->params[j].name, p->name) == 0) {
					s = m->params[j].value;
					break;
				}
			}
		} else {
			prefix = "/header/";
			if (header != NULL)
				s = header(hctx, p->name);
		}
		ptr = oa_pointer(prefix, p->name);
		if (s == NULL) {
			if (p->required)
				oa_fail(&ck, ptr, NULL, "is required");
		} else if ((v = oa_coerce_param(&ck, p, ptr, s, ",")) != NULL) {
			oa_validate(&ck, p, v, ptr);
			if (json_object_set_new(p->in == OPENAPI_IN_PATH ?
			    po : ho, p->name, v) == -1)
				abort();
		}
		free(ptr);
	}

	oa_check_query(&ck, op, query, qo);

	if (ck.failed) {
		json_decref(res);
		return (-1);
	}
	*out = res;
	return (0);
}

static void
oa_check_query(struct oa_check *ck, const struct openapi_op *op,
    const char *query, json_t *qo)
{
	const struct openapi_param	*p;
	unsigned char			 seen[OA_MAX_OP_PARAMS];
	const char			*s, *end;
	json_t				*v;
	char				*ptr;
	size_t				 i;

	memset(seen, 0, sizeof(seen));
	for (s = query; s != NULL && *s != '\0'; s = *end ? end + 1 : end) {
		if ((end = strchr(s, '&')) == NULL)
			end = s + strlen(s);
		if (end > s)
			oa_query_piece(ck, op, s, end - s, qo, seen);
		/* Enough said: a hostile query cannot make us work on. */
		if (ck->errs->n >= JSONSCHEMA_MAX_ERRORS)
			break;
	}

	for (i = 0; i < op->nparams && i < OA_MAX_OP_PARAMS; i++) {
		p = &op->params[i];
		if (p->in != OPENAPI_IN_QUERY)
			continue;
		ptr = oa_pointer("/query/", p->name);
		if (!seen[i] && p->required)
			oa_fail(ck, ptr, NULL, "is required");
		if (seen[i] == 1 && (v = json_object_get(qo, p->name)) != NULL)
			oa_validate(ck, p, v, ptr);
		free(ptr);
	}
}

/*
 * One name[=value] piece. seen[i]: 0 absent, 1 present and well-formed,
 * 2 present but already reported.
 */
static void
oa_query_piece(struct oa_check *ck, const struct openapi_op *op,
    const char *s, size_t len, json_t *qo, unsigned char *seen)
{
	const struct openapi_param	*p;
	const json_t			*doc;
	const char			*eq, *type, *why;
	json_t				*v, *arr;
	char				*name, *value, *ptr;
	size_t				 nlen, vlen, i;
	long				 dlen;
	int				 isarray;

	doc = ck->oa->doc;
	name = value = ptr = NULL;
	eq = memchr(s, '=', len);
	nlen = eq != NULL ? (size_t)(eq - s) : len;
	vlen = eq != NULL ? len - nlen - 1 : 0;

	name = xmalloc(nlen + 1);
	if ((dlen = oa_decode(s, nlen, 1, name)) < 0) {
		oa_fail(ck, "/query", NULL, "has a malformed escape");
		goto out;
	}
	name[dlen] = '\0';
	if (dlen == 0 || !oa_utf8_ok(name, dlen, 1)) {
		oa_fail(ck, "/query", NULL, "has a malformed parameter name");
		goto out;
	}
	ptr = oa_pointer("/query/", name);

	p = NULL;
	for (i = 0; i < op->nparams && i < OA_MAX_OP_PARAMS; i++) {
		if (op->params[i].in == OPENAPI_IN_QUERY &&
		    strcmp(op->params[i].name, name) == 0) {
			p = &op->params[i];
			break;
		}
	}
	if (p == NULL) {
		oa_fail(ck, ptr, NULL, "is not a known parameter");
		goto out;
	}

	type = oa_schema_type(doc, p->schema);
	isarray = type != NULL && strcmp(type, "array") == 0;
	if (seen[i] != 0 && !isarray) {
		if (seen[i] == 1) {
			json_object_del(qo, p->name);
			oa_fail(ck, ptr, NULL, "must not be repeated");
		}
		seen[i] = 2;
		goto out;
	}
	if (seen[i] == 2)
		goto out;
	seen[i] = 2;

	value = xmalloc(vlen + 1);
	if ((dlen = oa_decode(eq != NULL ? eq + 1 : s + len, vlen, 1,
	    value)) < 0) {
		oa_fail(ck, ptr, NULL, "has a malformed escape");
		goto out;
	}
	value[dlen] = '\0';
	if (!oa_utf8_ok(value, dlen, 0)) {
		oa_fail(ck, ptr, NULL, "is not valid UTF-8");
		goto out;
	}

	if (isarray)
		type = oa_schema_type(doc, oa_schema_items(doc, p->schema));
	if ((v = oa_coerce(type, value, dlen, &why)) == NULL) {
		oa_fail(ck, ptr, NULL, why);
		json_object_del(qo, p->name);
		goto out;
	}
	if (isarray) {
		if ((arr = json_object_get(qo, p->name)) == NULL) {
			if ((arr = json_array()) == NULL)
				abort();
			if (json_object_set_new(qo, p->name, arr) == -1)
				abort();
		}
		if (json_array_append_new(arr, v) == -1)
			abort();
	} else if (json_object_set_new(qo, p->name, v) == -1) {
		abort();
	}
	seen[i] = 1;

out:
	free(name);
	free(value);
	free(ptr);
}

const json_t *
openapi_response_schema(struct openapi *oa, const struct openapi_op *op,
    int status)
{
	const json_t	*r, *content, *media;
	char		 key[16];

	if (op->responses == NULL)
		return (NULL);
	snprintf(key, sizeof(key), "%d", status);
	r = json_object_get(op->responses, key);
	if (r == NULL && status >= 100 && status <= 599) {
		snprintf(key, sizeof(key), "%dXX", status / 100);
		r = json_object_get(op->responses, key);
		if (r == NULL) {
			key[1] = key[2] = 'x';
			r = json_object_get(op->responses, key);
		}
	}
	if (r == NULL)
		r = json_object_get(op->responses, "default");
	if ((r = oa_deref(oa->doc, r)) == NULL)
		return (NULL);

	content = json_object_get(r, "content");
	if ((media = json_object_get(content, "application/json")) == NULL)
		media = json_object_get(content, "application/problem+json");
	return (json_object_get(media, "schema"));
}
