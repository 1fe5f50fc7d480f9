/*
 * yamljson: libyaml's event stream folded into Jansson values.
 *
 * The event API (not the document API) is used so that nothing but the
 * result is ever built: each container is attached to its parent as soon as
 * it starts, and a small explicit stack tracks where the next value goes.
 * On any error the root is released, which releases everything under it.
 *
 * Decisions beyond the header:
 *   - anchors, aliases and multi-document streams are refused;
 *   - a mapping key that is not a scalar, or that repeats (after unquoting),
 *     is refused; keys containing NUL are refused;
 *   - an integer that does not fit json_int_t is an error, not a real, so a
 *     value is never silently rounded;
 *   - .inf, -.inf and .nan are errors (JSON has no such numbers), as is a
 *     float whose magnitude overflows a double;
 *   - explicit core tags (!!str, !!int, !!float, !!bool, !!null, !!map,
 *     !!seq) are honoured, the non-specific "!" means string, other tags
 *     are refused;
 *   - an empty stream (no document at all) is an error.
 */

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "xmalloc.h"
#include "yamljson.h"

/*
 * Nothing legitimate nests this deep, and the bound keeps every later
 * recursive walk over the result (schema validation, dumps) safe.
 */
#define YJ_MAX_DEPTH	256

/* Integers are parsed against LLONG_MIN..LLONG_MAX. */
_Static_assert(sizeof(json_int_t) == sizeof(long long),
    "json_int_t is long long");

#define YJ_TAG_PREFIX	"tag:yaml.org,2002:"

enum yj_kind {
	YJ_ANY,		/* plain scalar: resolve by the core schema */
	YJ_STR,
	YJ_NULL,
	YJ_BOOL,
	YJ_INT,
	YJ_FLOAT
};

struct yj_frame {
	json_t	*node;	/* borrowed: owned by its parent, or by ctx->root */
	char	*key;	/* in a mapping, the key awaiting its value */
};

struct yj_ctx {
	const char	*name;
	char		*err;
	size_t		 errlen;
	json_t		*root;
	int		 ndocs;
	size_t		 depth;
	struct yj_frame	 stack[YJ_MAX_DEPTH];
};

static json_t	*yj_load(yaml_parser_t *, const char *, char *, size_t);
static void	 yj_error(struct yj_ctx *, const yaml_mark_t *, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
static void	 yj_parser_error(struct yj_ctx *, const yaml_parser_t *);
static int	 yj_event(struct yj_ctx *, const yaml_event_t *);
static int	 yj_key(struct yj_ctx *, const yaml_event_t *);
static int	 yj_attach(struct yj_ctx *, json_t *, const yaml_mark_t *);
static int	 yj_start(struct yj_ctx *, const yaml_event_t *, int);
static int	 yj_tag_kind(const char *, int, enum yj_kind *);
static json_t	*yj_scalar(struct yj_ctx *, const yaml_event_t *);
static int	 yj_is_null(const char *, size_t);
static int	 yj_bool(const char *, size_t, int *);
static int	 yj_int(const char *, size_t, json_int_t *);
static int	 yj_float(const char *, size_t, double *);


json_t *
yamljson_load_file(const char *path, char *err, size_t errlen)
{
	yaml_parser_t	 parser;
	FILE		*fp;
	json_t		*root;

	if ((fp = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_file(&parser, fp);
	root = yj_load(&parser, path, err, errlen);
	yaml_parser_delete(&parser);
	fclose(fp);
	return (root);
}

json_t *
yamljson_load_buffer(const char *buf, size_t len, const char *name,
    char *err, size_t errlen)
{
	yaml_parser_t	 parser;
	json_t		*root;

	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	root = yj_load(&parser, name, err, errlen);
	yaml_parser_delete(&parser);
	return (root);
}

static json_t *
yj_load(yaml_parser_t *parser, const char *name, char *err, size_t errlen)
{
	struct yj_ctx		*ctx;
	yaml_event_t		 ev;
	yaml_event_type_t	 type;
	json_t			*root;
	size_t			 i;
	int			 rc;

	/* The frame stack is a few kilobytes: keep it off the C stack. */
	ctx = xmalloc(sizeof(*ctx));
	memset(ctx, 0, sizeof(*ctx));
	ctx->name = name;
	ctx->err = err;
	ctx->errlen = errlen;
	root = NULL;
	if (errlen > 0)
		err[0] = '\0';

	for (;;) {
		if (!yaml_parser_parse(parser, &ev)) {
			yj_parser_error(ctx, parser);
			goto out;
		}
		rc = yj_event(ctx, &ev);
		type = ev.type;
		yaml_event_delete(&ev);
		if (rc == -1)
			goto out;
		if (type == YAML_STREAM_END_EVENT)
			break;
	}

	if (ctx->ndocs == 0) {
		snprintf(err, errlen, "%s:1:1: empty document", name);
		goto out;
	}
	root = ctx->root;
	ctx->root = NULL;

out:
	for (i = 0; i < ctx->depth; i++)
		free(ctx->stack[i].key);
	json_decref(ctx->root);
	free(ctx);
	return (root);
}

static void
yj_error(struct yj_ctx *ctx, const yaml_mark_t *mark, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	n = snprintf(ctx->err, ctx->errlen, "%s:%zu:%zu: ", ctx->name,
	    mark->line + 1, mark->column + 1);
	if (n < 0 || (size_t)n >= ctx->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(ctx->err + n, ctx->errlen - n, fmt, ap);
	va_end(ap);
}

static void
yj_parser_error(struct yj_ctx *ctx, const yaml_parser_t *p)
{
	const char	*problem;

	problem = p->problem != NULL ? p->problem : "cannot parse";
	switch (p->error) {
	case YAML_MEMORY_ERROR:
		abort();
	case YAML_READER_ERROR:
		/* The reader only knows a byte offset, not a line. */
		snprintf(ctx->err, ctx->errlen, "%s:%zu:%zu: %s (byte %zu)",
		    ctx->name, p->mark.line + 1, p->mark.column + 1, problem,
		    p->problem_offset);
		break;
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		if (p->context != NULL) {
			yj_error(ctx, &p->problem_mark, "%s (%s at line %zu)",
			    problem, p->context, p->context_mark.line + 1);
		} else {
			yj_error(ctx, &p->problem_mark, "%s", problem);
		}
		break;
	default:
		yj_error(ctx, &p->mark, "%s", problem);
		break;
	}
}

static int
yj_event(struct yj_ctx *ctx, const yaml_event_t *ev)
{
	struct yj_frame	*top;
	json_t		*v;

	top = ctx->depth > 0 ? &ctx->stack[ctx->depth - 1] : NULL;

	switch (ev->type) {
	case YAML_STREAM_START_EVENT:
	case YAML_STREAM_END_EVENT:
	case YAML_DOCUMENT_END_EVENT:
	case YAML_NO_EVENT:
		return (0);
	case YAML_DOCUMENT_START_EVENT:
		if (ctx->ndocs++ > 0) {
			yj_error(ctx, &ev->start_mark,
			    "more than one document in the stream");
			return (-1);
		}
		return (0);
	case YAML_ALIAS_EVENT:
		yj_error(ctx, &ev->start_mark, "aliases are not supported");
		return (-1);
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor != NULL) {
			yj_error(ctx, &ev->start_mark,
			    "anchors are not supported");
			return (-1);
		}
		if (top != NULL && json_is_object(top->node) &&
		    top->key == NULL)
			return (yj_key(ctx, ev));
		if ((v = yj_scalar(ctx, ev)) == NULL)
			return (-1);
		return (yj_attach(ctx, v, &ev->start_mark));
	case YAML_SEQUENCE_START_EVENT:
		return (yj_start(ctx, ev, 0));
	case YAML_MAPPING_START_EVENT:
		return (yj_start(ctx, ev, 1));
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		/* libyaml guarantees balance; the check guards our stack. */
		if (ctx->depth == 0) {
			yj_error(ctx, &ev->start_mark, "unbalanced end");
			return (-1);
		}
		ctx->depth--;
		free(ctx->stack[ctx->depth].key);
		ctx->stack[ctx->depth].key = NULL;
		return (0);
	}

	yj_error(ctx, &ev->start_mark, "unexpected event");
	return (-1);
}

static int
yj_key(struct yj_ctx *ctx, const yaml_event_t *ev)
{
	struct yj_frame	*top;
	const char	*s;
	size_t		 len;

	top = &ctx->stack[ctx->depth - 1];
	s = (const char *)ev->data.scalar.value;
	len = ev->data.scalar.length;

	if (memchr(s, '\0', len) != NULL) {
		yj_error(ctx, &ev->start_mark, "mapping key contains NUL");
		return (-1);
	}
	if (json_object_get(top->node, s) != NULL) {
		yj_error(ctx, &ev->start_mark,
		    "duplicate mapping key \"%.64s\"", s);
		return (-1);
	}
	top->key = xmalloc(len + 1);
	memcpy(top->key, s, len);
	top->key[len] = '\0';
	return (0);
}

/* Takes the reference to v whatever happens. */
static int
yj_attach(struct yj_ctx *ctx, json_t *v, const yaml_mark_t *mark)
{
	struct yj_frame	*top;
	int		 rc;

	if (ctx->depth == 0) {
		/* One document, so one root; anything else is a bug. */
		if (ctx->root != NULL) {
			json_decref(v);
			yj_error(ctx, mark, "more than one root node");
			return (-1);
		}
		ctx->root = v;
		return (0);
	}

	top = &ctx->stack[ctx->depth - 1];
	if (json_is_array(top->node)) {
		if (json_array_append_new(top->node, v) == -1)
			abort();
		return (0);
	}

	rc = json_object_set_new(top->node, top->key, v);
	free(top->key);
	top->key = NULL;
	if (rc == -1) {
		yj_error(ctx, mark, "mapping key is not valid UTF-8");
		return (-1);
	}
	return (0);
}

static int
yj_start(struct yj_ctx *ctx, const yaml_event_t *ev, int mapping)
{
	struct yj_frame	*top;
	const char	*anchor, *tag;
	json_t		*v;

	if (mapping) {
		anchor = (const char *)ev->data.mapping_start.anchor;
		tag = (const char *)ev->data.mapping_start.tag;
	} else {
		anchor = (const char *)ev->data.sequence_start.anchor;
		tag = (const char *)ev->data.sequence_start.tag;
	}
	if (anchor != NULL) {
		yj_error(ctx, &ev->start_mark, "anchors are not supported");
		return (-1);
	}
	if (tag != NULL && strcmp(tag, "!") != 0 &&
	    strcmp(tag, mapping ? YJ_TAG_PREFIX "map" :
	    YJ_TAG_PREFIX "seq") != 0) {
		yj_error(ctx, &ev->start_mark, "unsupported tag \"%.64s\"",
		    tag);
		return (-1);
	}

	top = ctx->depth > 0 ? &ctx->stack[ctx->depth - 1] : NULL;
	if (top != NULL && json_is_object(top->node) && top->key == NULL) {
		yj_error(ctx, &ev->start_mark,
		    "mapping keys must be scalars");
		return (-1);
	}
	if (ctx->depth == YJ_MAX_DEPTH) {
		yj_error(ctx, &ev->start_mark, "nesting deeper than %d levels",
		    YJ_MAX_DEPTH);
		return (-1);
	}

	if ((v = mapping ? json_object() : json_array()) == NULL)
		abort();
	if (yj_attach(ctx, v, &ev->start_mark) == -1)
		return (-1);
	/* v is now owned by its parent (or is the root); keep a borrow. */
	ctx->stack[ctx->depth].node = v;
	ctx->stack[ctx->depth].key = NULL;
	ctx->depth++;
	return (0);
}

/* 0 and *kind set, or -1 for a tag we do not handle. */
static int
yj_tag_kind(const char *tag, int plain, enum yj_kind *kind)
{
	static const struct {
		const char	*name;
		enum yj_kind	 kind;
	} tags[] = {
		{ YJ_TAG_PREFIX "str", YJ_STR },
		{ YJ_TAG_PREFIX "null", YJ_NULL },
		{ YJ_TAG_PREFIX "bool", YJ_BOOL },
		{ YJ_TAG_PREFIX "int", YJ_INT },
		{ YJ_TAG_PREFIX "float", YJ_FLOAT },
	};
	size_t	i;

	if (tag == NULL) {
		*kind = plain ? YJ_ANY : YJ_STR;
		return (0);
	}
	if (strcmp(tag, "!") == 0) {
		*kind = YJ_STR;
		return (0);
	}
	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		if (strcmp(tag, tags[i].name) == 0) {
			*kind = tags[i].kind;
			return (0);
		}
	}
	return (-1);
}

static json_t *
yj_scalar(struct yj_ctx *ctx, const yaml_event_t *ev)
{
	const char	*s, *tag;
	enum yj_kind	 kind;
	json_t		*v;
	json_int_t	 i;
	double		 d;
	size_t		 len;
	int		 b, rc;

	s = (const char *)ev->data.scalar.value;
	len = ev->data.scalar.length;
	tag = (const char *)ev->data.scalar.tag;

	if (yj_tag_kind(tag, ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE,
	    &kind) == -1) {
		yj_error(ctx, &ev->start_mark, "unsupported tag \"%.64s\"",
		    tag);
		return (NULL);
	}

	if (kind == YJ_ANY || kind == YJ_NULL) {
		if (yj_is_null(s, len))
			return (json_null());
	}
	if (kind == YJ_ANY || kind == YJ_BOOL) {
		if (yj_bool(s, len, &b) == 0)
			return (json_boolean(b));
	}
	if (kind == YJ_ANY || kind == YJ_INT) {
		rc = yj_int(s, len, &i);
		if (rc == 0) {
			if ((v = json_integer(i)) == NULL)
				abort();
			return (v);
		}
		if (rc == -1) {
			yj_error(ctx, &ev->start_mark,
			    "integer out of range");
			return (NULL);
		}
	}
	if (kind == YJ_ANY || kind == YJ_FLOAT) {
		rc = yj_float(s, len, &d);
		if (rc == 0) {
			if ((v = json_real(d)) == NULL)
				abort();
			return (v);
		}
		if (rc < 0) {
			yj_error(ctx, &ev->start_mark, "%s", rc == -1 ?
			    ".inf and .nan have no JSON representation" :
			    "number out of range");
			return (NULL);
		}
	}
	if (kind != YJ_ANY && kind != YJ_STR) {
		yj_error(ctx, &ev->start_mark,
		    "scalar does not match its tag \"%.64s\"", tag);
		return (NULL);
	}

	/* libyaml emits UTF-8; NULL here means it was not valid after all. */
	if ((v = json_stringn(s, len)) == NULL) {
		yj_error(ctx, &ev->start_mark, "string is not valid UTF-8");
		return (NULL);
	}
	return (v);
}

static int
yj_is_null(const char *s, size_t len)
{
	if (len == 0)
		return (1);
	if (len == 1)
		return (s[0] == '~');
	if (len == 4)
		return (memcmp(s, "null", 4) == 0 ||
		    memcmp(s, "Null", 4) == 0 || memcmp(s, "NULL", 4) == 0);
	return (0);
}

static int
yj_bool(const char *s, size_t len, int *b)
{
	if (len == 4 && (memcmp(s, "true", 4) == 0 ||
	    memcmp(s, "True", 4) == 0 || memcmp(s, "TRUE", 4) == 0)) {
		*b = 1;
		return (0);
	}
	if (len == 5 && (memcmp(s, "false", 5) == 0 ||
	    memcmp(s, "False", 5) == 0 || memcmp(s, "FALSE", 5) == 0)) {
		*b = 0;
		return (0);
	}
	return (-1);
}

/*
 * Core schema integers: [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+.
 * 0 with *out set, 1 when s is not an integer, -1 when it does not fit.
 */
static int
yj_int(const char *s, size_t len, json_int_t *out)
{
	unsigned long long	 v, limit;
	unsigned		 base, digit;
	size_t			 i;
	int			 neg;

	neg = 0;
	base = 10;
	i = 0;
	if (len > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
		base = s[1] == 'o' ? 8 : 16;
		i = 2;
	} else if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == len)
		return (1);

	limit = neg ? (unsigned long long)LLONG_MAX + 1 :
	    (unsigned long long)LLONG_MAX;
	v = 0;
	for (; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digit = s[i] - '0';
		else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
			digit = s[i] - 'a' + 10;
		else if (base == 16 && s[i] >= 'A' && s[i] <= 'F')
			digit = s[i] - 'A' + 10;
		else
			return (1);
		if (digit >= base)
			return (1);
		/* Keep scanning after an overflow: "12x" is a string. */
		if (v > (limit - digit) / base)
			v = limit + 1;
		else if (v <= limit)
			v = v * base + digit;
	}
	if (v > limit)
		return (-1);
	if (neg)
		*out = v == (unsigned long long)LLONG_MAX + 1 ?
		    LLONG_MIN : -(json_int_t)v;
	else
		*out = (json_int_t)v;
	return (0);
}

/*
 * Core schema floats:
 *   [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
 *   [-+]?\.(inf|Inf|INF), \.(nan|NaN|NAN)
 * 0 with *out set, 1 when s is not a float, -1 for the infinities and
 * NaN, -2 when it overflows a double (JSON can hold none of these).
 */
static int
yj_float(const char *s, size_t len, double *out)
{
	const char	*p, *end, *sp;
	char		*ep;
	size_t		 ndig;

	p = s;
	end = s + len;
	if (p < end && (*p == '-' || *p == '+'))
		p++;
	sp = p;
	if (end - p == 4 && p[0] == '.' && (memcmp(p + 1, "inf", 3) == 0 ||
	    memcmp(p + 1, "Inf", 3) == 0 || memcmp(p + 1, "INF", 3) == 0))
		return (-1);
	if (len == 4 && (memcmp(s, ".nan", 4) == 0 ||
	    memcmp(s, ".NaN", 4) == 0 || memcmp(s, ".NAN", 4) == 0))
		return (-1);

	ndig = 0;
	while (p < end && *p >= '0' && *p <= '9') {
		p++;
		ndig++;
	}
	if (p < end && *p == '.') {
		p++;
		while (p < end && *p >= '0' && *p <= '9') {
			p++;
			ndig++;
		}
	}
	if (ndig == 0)
		return (1);
	/* ".e5" has digits only in the exponent: not a float. */
	if (sp[0] == '.' && (sp + 1 == end || sp[1] < '0' || sp[1] > '9'))
		return (1);
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '-' || *p == '+'))
			p++;
		ndig = 0;
		while (p < end && *p >= '0' && *p <= '9') {
			p++;
			ndig++;
		}
		if (ndig == 0)
			return (1);
	}
	if (p != end)
		return (1);

	/* libyaml NUL-terminates scalar values, so strtod stops at end. */
	errno = 0;
	*out = strtod(s, &ep);
	if (ep != end)
		return (1);
	if (!isfinite(*out))
		return (-2);
	return (0);
}
