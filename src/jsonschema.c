/*
 * jsonschema: a JSON Schema (draft 7 subset) validator on Jansson.
 *
 * The instance is hostile (request bodies), and the schema may be too when
 * this runs under a fuzzer, so nothing here trusts the JSON type of a
 * keyword, and every recursion is bounded: instance nesting by
 * JS_MAX_DEPTH, schema application by JS_MAX_EVAL_DEPTH, $ref chains by
 * JS_MAX_REF_HOPS and total work by JS_MAX_STEPS. Hitting one of these
 * bounds aborts the whole validation as invalid (rather than failing one
 * branch) so that an anyOf/oneOf cannot turn "too deep to tell" into
 * "valid".
 */

#include <sys/types.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "jsonschema.h"
#include "xmalloc.h"

/* Instance nesting followed below the validated value. */
#define JS_MAX_DEPTH		64
/* Nested schema applications (properties, items, allOf, ...). */
#define JS_MAX_EVAL_DEPTH	192
/* Consecutive $ref hops without applying any other keyword. */
#define JS_MAX_REF_HOPS		32
/* Schema applications per validation; stops combinatorial blow-up. */
#define JS_MAX_STEPS		(1UL << 21)

/* Compiled pattern cache: direct-mapped, so its size is bounded. */
#define JS_PATTERN_SLOTS	64
#define JS_PATTERN_MAXLEN	8192
/* Backtracking bound for one match, against catastrophic patterns. */
#define JS_PATTERN_MATCH_LIMIT	1000000

struct js_seg {
	const char	*key;		/* NULL for an array index */
	size_t		 keylen;
	size_t		 index;
};

struct js_ctx {
	const json_t			*root;
	const char			*base;
	struct jsonschema_errors	*errs;
	/* One spare slot for the property named by required/additional. */
	struct js_seg			 path[JS_MAX_DEPTH + 1];
	size_t				 depth;
	unsigned int			 evaldepth;
	unsigned long			 steps;
	unsigned int			 quiet;
	int				 aborted;
};

struct js_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

struct js_kv {
	const char	*key;
	size_t		 keylen;
	const json_t	*value;
};

struct js_pattern {
	char		*src;
	size_t		 len;
	pcre2_code	*code;		/* NULL: did not compile */
};

typedef int (*js_keyword_fn)(struct js_ctx *, const json_t *,
    const json_t *, const json_t *);


static void	 js_buf_add(struct js_buf *, const char *, size_t);
static void	 js_buf_addstr(struct js_buf *, const char *);
static char	*js_pointer(const struct js_ctx *, const char *, size_t);
static void	 js_errors_push(struct jsonschema_errors *, char *,
		    const char *);
static int	 js_stop(const struct js_ctx *);
static void	 js_report(struct js_ctx *, const char *, size_t,
		    const char *);
static void	 js_abort(struct js_ctx *, const char *);

static int	 js_validate(struct js_ctx *, const json_t *, const json_t *);
static int	 js_descend_key(struct js_ctx *, const char *, size_t,
		    const json_t *, const json_t *);
static int	 js_descend_index(struct js_ctx *, size_t, const json_t *,
		    const json_t *);
static int	 js_too_deep(const json_t *, size_t);
static int	 js_instance_too_deep(struct js_ctx *, const json_t *);

static int	 js_streq(const json_t *, const char *);
static int	 js_is_integer(const json_t *);
static int	 js_type_is(const json_t *, const json_t *);
static void	 js_type_msg(const json_t *, char *, size_t);
static int	 js_count(const json_t *, size_t *);
static int	 js_cmp_int_real(json_int_t, double);
static int	 js_num_cmp(const json_t *, const json_t *);
static void	 js_num_str(const json_t *, char *, size_t);
static int	 js_type_rank(const json_t *);
static int	 js_cmp(const json_t *, const json_t *);
static int	 js_kv_cmp(const void *, const void *);
static int	 js_ptr_cmp(const void *, const void *);
static struct js_kv *js_sorted_kv(const json_t *);
static size_t	 js_codepoints(const char *, size_t);

static int	 js_pattern_match(const char *, size_t, const char *, size_t);
static void	 js_patterns_free(void) __attribute__((destructor));

static int	 js_digits(const char *, size_t, int *);
static int	 js_days_in_month(int, int);
static int	 js_date_ok(const char *);
static int	 js_datetime_ok(const char *);
static int	 js_uuid_ok(const char *);
static int	 js_email_local_ok(const char *, size_t);
static int	 js_hostname_ok(const char *, size_t);
static int	 js_email_ok(const char *);

static int	 js_kw_type(struct js_ctx *, const json_t *, const json_t *,
		    const json_t *);
static int	 js_kw_enum(struct js_ctx *, const json_t *, const json_t *,
		    const json_t *);
static int	 js_kw_const(struct js_ctx *, const json_t *, const json_t *,
		    const json_t *);
static int	 js_kw_format(struct js_ctx *, const json_t *, const json_t *,
		    const json_t *);
static int	 js_kw_min_length(struct js_ctx *, const json_t *,
		    const json_t *, const json_t *);
static int	 js_kw_max_length(struct js_ctx *, const json_t *,
		    const json_t *, const json_t *);
static int	 js_kw_pattern(struct js_ctx *, const json_t *,
		    const json_t *, const json_t *);
static int	 js_kw_minimum(struct js_ctx *, const json_t *,
		    const json_t *, const json_t *);
static int	 js_kw_maximum(struct js_ctx *, const json_t *,
		    const json_t *, const json_t *);
static int	 js_kw_exclusive_minimum(struct js_ctx *, const json_t *,
		    const json_t *, const json_t *);
static int	 js_kw_exclusive_maximum(struct js_ctx *, const json_t *,
		    const json_t *, const json_t *);
static int	 js_kw_min_items(struct js_ctx *, const json_t *,
		    const json_t *, const json_t *);
static int	 js_kw_max_items(struct js_ctx *, const json_t *,
		    const json_t *, const json_t *);
static int	 js_kw_unique_items(struct js_ctx *, const json_t *,
		    const json_t *, const json_t *);
static int	 js_kw_items(struct js_ctx *, const json_t *, const json_t *,
		    const json_t *);
static int	 js_kw_required(struct js_ctx *, const json_t *,
		    const json_t *, const json_t *);
static int	 js_kw_properties(struct js_ctx *, const json_t *,
		    const json_t *, const json_t *);
static int	 js_kw_additional(struct js_ctx *, const json_t *,
		    const json_t *, const json_t *);
static int	 js_kw_all_of(struct js_ctx *, const json_t *, const json_t *,
		    const json_t *);
static int	 js_kw_any_of(struct js_ctx *, const json_t *, const json_t *,
		    const json_t *);
static int	 js_kw_one_of(struct js_ctx *, const json_t *, const json_t *,
		    const json_t *);
static int	 js_kw_min_properties(struct js_ctx *, const json_t *,
		    const json_t *, const json_t *);
static int	 js_kw_max_properties(struct js_ctx *, const json_t *,
		    const json_t *, const json_t *);

static const struct {
	const char	*name;
	js_keyword_fn	 check;
} js_keywords[] = {
	{ "type",			js_kw_type },
	{ "enum",			js_kw_enum },
	{ "const",			js_kw_const },
	{ "format",			js_kw_format },
	{ "minLength",			js_kw_min_length },
	{ "maxLength",			js_kw_max_length },
	{ "pattern",			js_kw_pattern },
	{ "minimum",			js_kw_minimum },
	{ "maximum",			js_kw_maximum },
	{ "exclusiveMinimum",		js_kw_exclusive_minimum },
	{ "exclusiveMaximum",		js_kw_exclusive_maximum },
	{ "minItems",			js_kw_min_items },
	{ "maxItems",			js_kw_max_items },
	{ "uniqueItems",		js_kw_unique_items },
	{ "items",			js_kw_items },
	{ "required",			js_kw_required },
	{ "minProperties",		js_kw_min_properties },
	{ "maxProperties",		js_kw_max_properties },
	{ "properties",			js_kw_properties },
	{ "additionalProperties",	js_kw_additional },
	{ "allOf",			js_kw_all_of },
	{ "anyOf",			js_kw_any_of },
	{ "oneOf",			js_kw_one_of },
};

/* Bit order is also the order names appear in "must be x or y". */
static const char *js_type_names[] = {
	"object", "array", "string", "integer", "number", "boolean", "null",
};

static const struct {
	const char	*name;
	int		(*ok)(const char *);
	const char	*message;
} js_formats[] = {
	{ "uuid", js_uuid_ok, "must be a valid uuid" },
	{ "date", js_date_ok, "must be a valid date (YYYY-MM-DD)" },
	{ "date-time", js_datetime_ok, "must be a valid RFC 3339 date-time" },
	{ "email", js_email_ok, "must be a valid email address" },
};

static struct js_pattern		 js_patterns[JS_PATTERN_SLOTS];
static pcre2_compile_context	*js_pcre_cctx;
static pcre2_match_context	*js_pcre_mctx;
/* Kore tasks run in threads; the cache is shared process-wide. */
static pthread_mutex_t	js_patterns_lock = PTHREAD_MUTEX_INITIALIZER;

void
jsonschema_errors_init(struct jsonschema_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
}

void
jsonschema_errors_cleanup(struct jsonschema_errors *errs)
{
	size_t		i;

	if (errs == NULL)
		return;

	for (i = 0; i < errs->n && i < JSONSCHEMA_MAX_ERRORS; i++) {
		free(errs->items[i].pointer);
		free(errs->items[i].message);
		errs->items[i].pointer = NULL;
		errs->items[i].message = NULL;
	}
	errs->n = 0;
}

void
jsonschema_errors_add(struct jsonschema_errors *errs, const char *pointer,
    const char *message)
{
	if (errs == NULL || errs->n >= JSONSCHEMA_MAX_ERRORS)
		return;

	js_errors_push(errs, xstrdup(pointer != NULL ? pointer : ""),
	    message != NULL ? message : "is invalid");
}

int
jsonschema_validate(const json_t *root, const json_t *schema,
    const json_t *instance, const char *base_pointer,
    struct jsonschema_errors *errs)
{
	struct js_ctx	*ctx;
	size_t		 before;
	int		 rc;

	/* The path array makes this too big to want on a task's stack. */
	ctx = xcalloc(1, sizeof(*ctx));
	ctx->root = root != NULL ? root : schema;
	ctx->base = base_pointer != NULL ? base_pointer : "";
	ctx->errs = errs;
	before = errs != NULL ? errs->n : 0;

	if (schema == NULL) {
		js_report(ctx, NULL, 0, "has no schema to be checked against");
		rc = -1;
	} else if (instance == NULL) {
		js_report(ctx, NULL, 0, "is missing");
		rc = -1;
	} else {
		rc = js_validate(ctx, schema, instance);
	}

	if (ctx->aborted)
		rc = -1;

	/* Keep the promise that an invalid result comes with an error. */
	if (rc == -1 && errs != NULL && errs->n == before &&
	    errs->n < JSONSCHEMA_MAX_ERRORS)
		jsonschema_errors_add(errs, ctx->base, "is invalid");

	free(ctx);
	return (rc);
}

const json_t *
jsonschema_resolve_ref(const json_t *root, const char *ref)
{
	const json_t	*cur, *found;
	char		*buf;
	const char	*p;
	size_t		 len, n, i, r, w, idx;
	int		 hi, lo;

	if (root == NULL || ref == NULL || ref[0] != '#')
		return (NULL);

	found = NULL;
	len = strlen(ref + 1);
	buf = xmalloc(len + 1);

	/* A fragment is percent-encoded before it is a JSON Pointer. */
	p = ref + 1;
	for (r = 0, n = 0; r < len; r++) {
		if (p[r] != '%') {
			buf[n++] = p[r];
			continue;
		}
		if (r + 2 >= len)
			goto out;
		hi = p[r + 1];
		lo = p[r + 2];
		hi = (hi >= '0' && hi <= '9') ? hi - '0' :
		    (hi >= 'a' && hi <= 'f') ? hi - 'a' + 10 :
		    (hi >= 'A' && hi <= 'F') ? hi - 'A' + 10 : -1;
		lo = (lo >= '0' && lo <= '9') ? lo - '0' :
		    (lo >= 'a' && lo <= 'f') ? lo - 'a' + 10 :
		    (lo >= 'A' && lo <= 'F') ? lo - 'A' + 10 : -1;
		/* NUL would silently cut the key short. */
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			goto out;
		buf[n++] = (char)(hi * 16 + lo);
		r += 2;
	}
	buf[n] = '\0';

	cur = root;
	if (n == 0) {
		found = cur;
		goto out;
	}
	if (buf[0] != '/')
		goto out;

	i = 1;
	for (;;) {
		/* Unescape the token in place: it only ever shrinks. */
		r = i;
		w = i;
		while (r < n && buf[r] != '/') {
			if (buf[r] == '~') {
				if (r + 1 >= n)
					goto out;
				if (buf[r + 1] == '0')
					buf[w++] = '~';
				else if (buf[r + 1] == '1')
					buf[w++] = '/';
				else
					goto out;
				r += 2;
				continue;
			}
			buf[w++] = buf[r++];
		}

		if (json_is_object(cur)) {
			cur = json_object_getn(cur, buf + i, w - i);
		} else if (json_is_array(cur)) {
			if (w == i || (w - i > 1 && buf[i] == '0'))
				goto out;
			idx = 0;
			for (p = buf + i; p < buf + w; p++) {
				if (*p < '0' || *p > '9')
					goto out;
				if (idx > (SIZE_MAX - 9) / 10)
					goto out;
				idx = idx * 10 + (size_t)(*p - '0');
			}
			cur = json_array_get(cur, idx);
		} else {
			goto out;
		}
		if (cur == NULL)
			goto out;

		if (r >= n)
			break;
		i = r + 1;
	}
	found = cur;

out:
	free(buf);
	return (found);
}

int
jsonschema_format_ok(const char *format, const char *value)
{
	size_t		i;

	if (format == NULL)
		return (1);
	if (value == NULL)
		return (0);

	for (i = 0; i < sizeof(js_formats) / sizeof(js_formats[0]); i++) {
		if (strcmp(format, js_formats[i].name) == 0)
			return (js_formats[i].ok(value));
	}

	/* JSON Schema treats unknown formats as annotations. */
	return (1);
}





static void
js_buf_add(struct js_buf *b, const char *s, size_t len)
{
	if (len >= SIZE_MAX / 2 - b->len)
		abort();
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
}

static void
js_buf_addstr(struct js_buf *b, const char *s)
{
	js_buf_add(b, s, strlen(s));
}

/*
 * The instance location as an RFC 6901 pointer, with extra (a property
 * name, may be NULL) appended as one more token.
 */
static char *
js_pointer(const struct js_ctx *ctx, const char *extra, size_t extralen)
{
	struct js_buf	 b;
	char		 num[32];
	const char	*key;
	size_t		 i, j, len, n;

	memset(&b, 0, sizeof(b));
	js_buf_addstr(&b, ctx->base);

	n = ctx->depth + (extra != NULL ? 1 : 0);
	for (i = 0; i < n; i++) {
		if (i < ctx->depth) {
			key = ctx->path[i].key;
			len = ctx->path[i].keylen;
		} else {
			key = extra;
			len = extralen;
		}

		js_buf_add(&b, "/", 1);
		if (key == NULL) {
			(void)snprintf(num, sizeof(num), "%zu",
			    ctx->path[i].index);
			js_buf_addstr(&b, num);
			continue;
		}
		for (j = 0; j < len; j++) {
			if (key[j] == '~')
				js_buf_add(&b, "~0", 2);
			else if (key[j] == '/')
				js_buf_add(&b, "~1", 2);
			else if (key[j] == '\0')
				/* A C string cannot carry it: U+FFFD. */
				js_buf_add(&b, "\xef\xbf\xbd", 3);
			else
				js_buf_add(&b, key + j, 1);
		}
	}

	if (b.p == NULL)
		return (xstrdup(""));
	return (b.p);
}

/* Takes ownership of pointer. */
static void
js_errors_push(struct jsonschema_errors *errs, char *pointer,
    const char *message)
{
	if (errs->n >= JSONSCHEMA_MAX_ERRORS) {
		free(pointer);
		return;
	}
	errs->items[errs->n].pointer = pointer;
	errs->items[errs->n].message = xstrdup(message);
	errs->n++;
}

/*
 * Whether the first failure settles the result: nobody is listening for
 * more errors, so the remaining keywords need not be evaluated.
 */
static int
js_stop(const struct js_ctx *ctx)
{
	return (ctx->aborted || ctx->quiet > 0 || ctx->errs == NULL ||
	    ctx->errs->n >= JSONSCHEMA_MAX_ERRORS);
}

static void
js_report(struct js_ctx *ctx, const char *extra, size_t extralen,
    const char *message)
{
	if (ctx->quiet > 0 || ctx->errs == NULL ||
	    ctx->errs->n >= JSONSCHEMA_MAX_ERRORS)
		return;
	js_errors_push(ctx->errs, js_pointer(ctx, extra, extralen), message);
}

/*
 * A resource bound was hit. Reported even inside anyOf/oneOf, whose own
 * error would otherwise hide why validation stopped.
 */
static void
js_abort(struct js_ctx *ctx, const char *message)
{
	if (ctx->aborted)
		return;
	ctx->aborted = 1;
	if (ctx->errs == NULL || ctx->errs->n >= JSONSCHEMA_MAX_ERRORS)
		return;
	js_errors_push(ctx->errs, js_pointer(ctx, NULL, 0), message);
}

static int
js_validate(struct js_ctx *ctx, const json_t *schema, const json_t *inst)
{
	const json_t	*s, *kw, *ref;
	size_t		 i;
	int		 hops, rc;

	if (ctx->aborted)
		return (-1);
	if (++ctx->steps > JS_MAX_STEPS) {
		js_abort(ctx, "is too complex to validate");
		return (-1);
	}
	if (ctx->evaldepth >= JS_MAX_EVAL_DEPTH) {
		js_abort(ctx, "needs too deeply nested schemas to validate");
		return (-1);
	}

	/* Draft 7: a $ref replaces the whole schema it appears in. */
	s = schema;
	hops = 0;
	while (json_is_object(s) &&
	    json_is_string(ref = json_object_get(s, "$ref"))) {
		if (++hops > JS_MAX_REF_HOPS) {
			js_abort(ctx, "needs too many schema references "
			    "to validate");
			return (-1);
		}
		if ((s = jsonschema_resolve_ref(ctx->root,
		    json_string_value(ref))) == NULL) {
			js_report(ctx, NULL, 0,
			    "has a schema reference that cannot be resolved");
			return (-1);
		}
	}

	if (json_is_true(s))
		return (0);
	if (json_is_false(s)) {
		js_report(ctx, NULL, 0, "is not allowed");
		return (-1);
	}
	if (!json_is_object(s)) {
		js_report(ctx, NULL, 0, "has an invalid schema");
		return (-1);
	}

	rc = 0;
	ctx->evaldepth++;
	for (i = 0; i < sizeof(js_keywords) / sizeof(js_keywords[0]); i++) {
		if ((kw = json_object_get(s, js_keywords[i].name)) == NULL)
			continue;
		if (js_keywords[i].check(ctx, s, kw, inst) == -1) {
			rc = -1;
			if (js_stop(ctx))
				break;
		}
	}
	ctx->evaldepth--;

	return (rc);
}

static int
js_descend_key(struct js_ctx *ctx, const char *key, size_t keylen,
    const json_t *schema, const json_t *inst)
{
	int	rc;

	if (ctx->depth >= JS_MAX_DEPTH) {
		js_abort(ctx, "is nested too deeply");
		return (-1);
	}
	ctx->path[ctx->depth].key = key;
	ctx->path[ctx->depth].keylen = keylen;
	ctx->path[ctx->depth].index = 0;
	ctx->depth++;
	rc = js_validate(ctx, schema, inst);
	ctx->depth--;
	return (rc);
}

static int
js_descend_index(struct js_ctx *ctx, size_t index, const json_t *schema,
    const json_t *inst)
{
	int	rc;

	if (ctx->depth >= JS_MAX_DEPTH) {
		js_abort(ctx, "is nested too deeply");
		return (-1);
	}
	ctx->path[ctx->depth].key = NULL;
	ctx->path[ctx->depth].keylen = 0;
	ctx->path[ctx->depth].index = index;
	ctx->depth++;
	rc = js_validate(ctx, schema, inst);
	ctx->depth--;
	return (rc);
}

/* Recursion here is bounded by budget, never by the value. */
static int
js_too_deep(const json_t *v, size_t budget)
{
	const char	*key;
	const json_t	*child;
	size_t		 i;

	if (!json_is_array(v) && !json_is_object(v))
		return (0);
	if (budget == 0)
		return (1);

	if (json_is_array(v)) {
		json_array_foreach(v, i, child) {
			if (js_too_deep(child, budget - 1))
				return (1);
		}
	} else {
		json_object_foreach((json_t *)v, key, child) {
			if (js_too_deep(child, budget - 1))
				return (1);
		}
	}
	return (0);
}

/*
 * Comparisons recurse into the instance, so check its depth first; the
 * comparison itself then cannot go deeper than the instance does.
 */
static int
js_instance_too_deep(struct js_ctx *ctx, const json_t *inst)
{
	if (js_too_deep(inst, JS_MAX_DEPTH - ctx->depth)) {
		js_abort(ctx, "is nested too deeply");
		return (1);
	}
	return (0);
}

static int
js_streq(const json_t *v, const char *s)
{
	return (json_is_string(v) && json_string_length(v) == strlen(s) &&
	    strcmp(json_string_value(v), s) == 0);
}

/* JSON Schema: a number with a zero fractional part is an integer. */
static int
js_is_integer(const json_t *v)
{
	double		d;

	if (json_is_integer(v))
		return (1);
	if (!json_is_real(v))
		return (0);
	d = json_real_value(v);
	/* Past 2^53 every double is integral (Jansson has no inf/nan). */
	if (d >= 9007199254740992.0 || d <= -9007199254740992.0)
		return (1);
	return (d == (double)(json_int_t)d);
}

static int
js_type_is(const json_t *name, const json_t *inst)
{
	if (js_streq(name, "object"))
		return (json_is_object(inst));
	if (js_streq(name, "array"))
		return (json_is_array(inst));
	if (js_streq(name, "string"))
		return (json_is_string(inst));
	if (js_streq(name, "integer"))
		return (js_is_integer(inst));
	if (js_streq(name, "number"))
		return (json_is_number(inst));
	if (js_streq(name, "boolean"))
		return (json_is_boolean(inst));
	if (js_streq(name, "null"))
		return (json_is_null(inst));
	return (0);
}

/* Only known type names reach the message, whatever the schema holds. */
static void
js_type_msg(const json_t *kw, char *buf, size_t len)
{
	const json_t	*t;
	const char	*sep;
	size_t		 i, ntypes, n, seen;
	unsigned int	 mask;

	ntypes = sizeof(js_type_names) / sizeof(js_type_names[0]);
	mask = 0;
	if (json_is_array(kw)) {
		json_array_foreach(kw, i, t) {
			for (n = 0; n < ntypes; n++) {
				if (js_streq(t, js_type_names[n]))
					mask |= 1U << n;
			}
		}
	} else {
		for (n = 0; n < ntypes; n++) {
			if (js_streq(kw, js_type_names[n]))
				mask |= 1U << n;
		}
	}

	if (mask == 0) {
		(void)snprintf(buf, len, "has a type the schema cannot accept");
		return;
	}

	(void)snprintf(buf, len, "must be");
	for (n = 0, seen = 0; n < ntypes; n++) {
		if (!(mask & (1U << n)))
			continue;
		seen++;
		mask &= ~(1U << n);
		sep = seen == 1 ? " " : (mask == 0 ? " or " : ", ");
		(void)strncat(buf, sep, len - strlen(buf) - 1);
		(void)strncat(buf, js_type_names[n], len - strlen(buf) - 1);
	}
}

/* A non-negative integer keyword (minLength, ...); -1 if malformed. */
static int
js_count(const json_t *kw, size_t *out)
{
	double		d;

	if (json_is_integer(kw)) {
		if (json_integer_value(kw) < 0)
			return (-1);
		if ((unsigned long long)json_integer_value(kw) > SIZE_MAX)
			*out = SIZE_MAX;
		else
			*out = (size_t)json_integer_value(kw);
		return (0);
	}
	if (json_is_real(kw) && js_is_integer(kw)) {
		d = json_real_value(kw);
		if (d < 0)
			return (-1);
		/* 2^63 keeps the conversion defined; beyond it is "huge". */
		if (d >= 9223372036854775808.0)
			*out = SIZE_MAX;
		else if ((unsigned long long)d > SIZE_MAX)
			*out = SIZE_MAX;
		else
			*out = (size_t)d;
		return (0);
	}
	return (-1);
}

/* Exact: converting either side to the other's type could round. */
static int
js_cmp_int_real(json_int_t i, double d)
{
	json_int_t	t;

	if (d < -9223372036854775808.0)
		return (1);
	if (d >= 9223372036854775808.0)
		return (-1);
	t = (json_int_t)d;
	if (i < t)
		return (-1);
	if (i > t)
		return (1);
	/* |d| < 2^63 and t is d truncated, so (double)t is exact. */
	if (d > (double)t)
		return (-1);
	if (d < (double)t)
		return (1);
	return (0);
}

static int
js_num_cmp(const json_t *a, const json_t *b)
{
	json_int_t	ia, ib;
	double		da, db;

	if (json_is_integer(a) && json_is_integer(b)) {
		ia = json_integer_value(a);
		ib = json_integer_value(b);
		return (ia < ib ? -1 : ia > ib ? 1 : 0);
	}
	if (json_is_integer(a))
		return (js_cmp_int_real(json_integer_value(a),
		    json_real_value(b)));
	if (json_is_integer(b))
		return (-js_cmp_int_real(json_integer_value(b),
		    json_real_value(a)));
	da = json_real_value(a);
	db = json_real_value(b);
	return (da < db ? -1 : da > db ? 1 : 0);
}

/* The shortest text that reads back as the same number. */
static void
js_num_str(const json_t *v, char *buf, size_t len)
{
	int	prec;

	if (json_is_integer(v)) {
		(void)snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		(void)snprintf(buf, len, "%.*g", prec, json_real_value(v));
		if (strtod(buf, NULL) == json_real_value(v))
			return;
	}
}

static int
js_type_rank(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_NULL:
		return (0);
	case JSON_FALSE:
	case JSON_TRUE:
		return (1);
	case JSON_INTEGER:
	case JSON_REAL:
		return (2);
	case JSON_STRING:
		return (3);
	case JSON_ARRAY:
		return (4);
	case JSON_OBJECT:
	default:
		return (5);
	}
}

/*
 * A total order consistent with JSON Schema equality (1 == 1.0, objects
 * unordered), so uniqueItems can sort instead of comparing all pairs.
 * Callers bound the depth of at least one side beforehand.
 */
static int
js_cmp(const json_t *a, const json_t *b)
{
	struct js_kv	*ka, *kb;
	size_t		 i, na, nb, la, lb;
	int		 ra, rb, c;

	ra = js_type_rank(a);
	rb = js_type_rank(b);
	if (ra != rb)
		return (ra < rb ? -1 : 1);

	switch (ra) {
	case 0:
		return (0);
	case 1:
		return (json_is_true(a) - json_is_true(b));
	case 2:
		return (js_num_cmp(a, b));
	case 3:
		la = json_string_length(a);
		lb = json_string_length(b);
		c = memcmp(json_string_value(a), json_string_value(b),
		    la < lb ? la : lb);
		if (c != 0)
			return (c < 0 ? -1 : 1);
		return (la < lb ? -1 : la > lb ? 1 : 0);
	case 4:
		na = json_array_size(a);
		nb = json_array_size(b);
		if (na != nb)
			return (na < nb ? -1 : 1);
		for (i = 0; i < na; i++) {
			c = js_cmp(json_array_get(a, i), json_array_get(b, i));
			if (c != 0)
				return (c);
		}
		return (0);
	default:
		break;
	}

	na = json_object_size(a);
	nb = json_object_size(b);
	if (na != nb)
		return (na < nb ? -1 : 1);
	if (na == 0)
		return (0);

	ka = js_sorted_kv(a);
	kb = js_sorted_kv(b);
	c = 0;
	for (i = 0; i < na && c == 0; i++)
		c = js_kv_cmp(&ka[i], &kb[i]);
	for (i = 0; i < na && c == 0; i++)
		c = js_cmp(ka[i].value, kb[i].value);
	free(ka);
	free(kb);
	return (c);
}

static int
js_kv_cmp(const void *va, const void *vb)
{
	const struct js_kv	*a = va, *b = vb;
	int			 c;

	c = memcmp(a->key, b->key, a->keylen < b->keylen ?
	    a->keylen : b->keylen);
	if (c != 0)
		return (c < 0 ? -1 : 1);
	return (a->keylen < b->keylen ? -1 : a->keylen > b->keylen ? 1 : 0);
}

static int
js_ptr_cmp(const void *va, const void *vb)
{
	const json_t *const	*a = va, *const *b = vb;

	return (js_cmp(*a, *b));
}

/* The object's members sorted by key; the caller frees the array. */
static struct js_kv *
js_sorted_kv(const json_t *obj)
{
	struct js_kv	*kv;
	const char	*key;
	json_t		*value;
	size_t		 keylen, n;

	kv = xcalloc(json_object_size(obj), sizeof(*kv));
	n = 0;
	json_object_keylen_foreach((json_t *)obj, key, keylen, value) {
		kv[n].key = key;
		kv[n].keylen = keylen;
		kv[n].value = value;
		n++;
	}
	qsort(kv, n, sizeof(*kv), js_kv_cmp);
	return (kv);
}

/* Jansson strings are valid UTF-8: count the non-continuation bytes. */
static size_t
js_codepoints(const char *s, size_t len)
{
	size_t		i, n;

	for (i = 0, n = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	}
	return (n);
}

/*
 * 1 when pattern (ECMA-262 as far as PCRE2 agrees) is found anywhere in
 * subject, 0 when not, -1 when the pattern is invalid or the match ran
 * into its limits.
 */
static int
js_pattern_match(const char *pat, size_t patlen, const char *subject,
    size_t sublen)
{
	struct js_pattern	*slot;
	pcre2_match_data	*md;
	PCRE2_SIZE		 erroff;
	uint64_t		 h;
	size_t			 i;
	int			 errcode, rc;

	/* FNV-1a, kept in 64 bits so it never relies on wrapping. */
	h = 2166136261U;
	for (i = 0; i < patlen; i++)
		h = ((h ^ (unsigned char)pat[i]) * 16777619U) & 0xffffffffU;

	if (pthread_mutex_lock(&js_patterns_lock) != 0)
		abort();

	if (js_pcre_cctx == NULL) {
		if ((js_pcre_cctx = pcre2_compile_context_create(NULL)) ==
		    NULL)
			abort();
		(void)pcre2_set_max_pattern_length(js_pcre_cctx,
		    JS_PATTERN_MAXLEN);
		/* ECMA-262 \u{hhhh} as well as \uhhhh. */
		(void)pcre2_set_compile_extra_options(js_pcre_cctx,
		    PCRE2_EXTRA_ALT_BSUX);
		if ((js_pcre_mctx = pcre2_match_context_create(NULL)) == NULL)
			abort();
		(void)pcre2_set_match_limit(js_pcre_mctx,
		    JS_PATTERN_MATCH_LIMIT);
	}

	slot = &js_patterns[h % JS_PATTERN_SLOTS];
	if (slot->src == NULL || slot->len != patlen ||
	    memcmp(slot->src, pat, patlen) != 0) {
		free(slot->src);
		pcre2_code_free(slot->code);
		slot->src = xmalloc(patlen);
		memcpy(slot->src, pat, patlen);
		slot->len = patlen;
		/*
		 * ALT_BSUX and DOLLAR_ENDONLY bring \u, \x and $ closer to
		 * ECMA-262; MATCH_INVALID_UTF keeps a bad subject from being
		 * undefined behaviour in case one ever gets past Jansson.
		 */
		slot->code = pcre2_compile((PCRE2_SPTR)pat, patlen,
		    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_ALT_BSUX |
		    PCRE2_DOLLAR_ENDONLY, &errcode, &erroff, js_pcre_cctx);
	}

	if (slot->code == NULL) {
		rc = -1;
		goto out;
	}

	if ((md = pcre2_match_data_create_from_pattern(slot->code,
	    NULL)) == NULL)
		abort();
	rc = pcre2_match(slot->code, (PCRE2_SPTR)subject, sublen, 0, 0, md,
	    js_pcre_mctx);
	pcre2_match_data_free(md);

	if (rc >= 0)
		rc = 1;
	else if (rc == PCRE2_ERROR_NOMATCH)
		rc = 0;
	else
		rc = -1;

out:
	if (pthread_mutex_unlock(&js_patterns_lock) != 0)
		abort();
	return (rc);
}

/* Only so leak checkers see a clean exit; the cache is bounded anyway. */
static void
js_patterns_free(void)
{
	size_t		i;

	for (i = 0; i < JS_PATTERN_SLOTS; i++) {
		free(js_patterns[i].src);
		pcre2_code_free(js_patterns[i].code);
		js_patterns[i].src = NULL;
		js_patterns[i].code = NULL;
	}
	pcre2_compile_context_free(js_pcre_cctx);
	pcre2_match_context_free(js_pcre_mctx);
	js_pcre_cctx = NULL;
	js_pcre_mctx = NULL;
}

/* Exactly n ASCII digits (isdigit() would follow the locale). */
static int
js_digits(const char *s, size_t n, int *out)
{
	size_t		i;
	int		v;

	for (i = 0, v = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (0);
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return (1);
}

static int
js_days_in_month(int year, int month)
{
	static const int	days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (month == 2 && ((year % 4 == 0 && year % 100 != 0) ||
	    year % 400 == 0))
		return (29);
	return (days[month - 1]);
}

/* RFC 3339 full-date: YYYY-MM-DD. */
static int
js_date_ok(const char *s)
{
	int	y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return (0);
	if (!js_digits(s, 4, &y) || !js_digits(s + 5, 2, &m) ||
	    !js_digits(s + 8, 2, &d))
		return (0);
	if (m < 1 || m > 12 || d < 1 || d > js_days_in_month(y, m))
		return (0);
	return (1);
}

/*
 * RFC 3339 date-time: full-date "T" HH:MM:SS[.frac] ("Z" / +HH:MM /
 * -HH:MM), T and Z in either case. A leap second (:60) is only real at
 * 23:59 UTC, so the offset is applied before accepting it.
 */
static int
js_datetime_ok(const char *s)
{
	char		 date[11];
	const char	*p;
	int		 hh, mm, ss, oh, om, utc;

	if (strlen(s) < 20)
		return (0);
	memcpy(date, s, 10);
	date[10] = '\0';
	if (!js_date_ok(date))
		return (0);
	if (s[10] != 'T' && s[10] != 't')
		return (0);

	p = s + 11;
	if (!js_digits(p, 2, &hh) || p[2] != ':' ||
	    !js_digits(p + 3, 2, &mm) || p[5] != ':' ||
	    !js_digits(p + 6, 2, &ss))
		return (0);
	if (hh > 23 || mm > 59 || ss > 60)
		return (0);
	p += 8;

	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return (0);
		while (*p >= '0' && *p <= '9')
			p++;
	}

	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		oh = om = 0;
	} else if (*p == '+' || *p == '-') {
		if (!js_digits(p + 1, 2, &oh) || p[3] != ':' ||
		    !js_digits(p + 4, 2, &om) || p[6] != '\0')
			return (0);
		if (oh > 23 || om > 59)
			return (0);
		if (*p == '-') {
			oh = -oh;
			om = -om;
		}
	} else {
		return (0);
	}

	if (ss == 60) {
		utc = ((hh * 60 + mm - (oh * 60 + om)) % 1440 + 1440) % 1440;
		if (utc != 23 * 60 + 59)
			return (0);
	}
	return (1);
}

/* 8-4-4-4-12 hex digits, any case, any version. */
static int
js_uuid_ok(const char *s)
{
	size_t		i;

	if (strlen(s) != 36)
		return (0);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return (0);
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') ||
		    (s[i] >= 'A' && s[i] <= 'F'))) {
			return (0);
		}
	}
	return (1);
}

/* RFC 5322 dot-atom or quoted-string, ASCII only (not idn-email). */
static int
js_email_local_ok(const char *s, size_t len)
{
	size_t		i;
	char		c;

	if (len == 0 || len > 64)
		return (0);

	if (s[0] == '"') {
		if (len < 2 || s[len - 1] != '"')
			return (0);
		for (i = 1; i < len - 1; i++) {
			c = s[i];
			if (c == '\\') {
				if (++i >= len - 1)
					return (0);
				c = s[i];
				if (c < 0x20 || c > 0x7e)
					return (0);
				continue;
			}
			if (c < 0x20 || c > 0x7e || c == '"')
				return (0);
		}
		return (1);
	}

	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '.') {
			if (i == 0 || i == len - 1 || s[i - 1] == '.')
				return (0);
			continue;
		}
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL)
			continue;
		return (0);
	}
	return (1);
}

/* LDH labels of 1..63, no leading or trailing hyphen. */
static int
js_hostname_ok(const char *s, size_t len)
{
	size_t		i, label;
	char		c;

	if (len == 0 || len > 253)
		return (0);

	label = 0;
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return (0);
			label = 0;
			continue;
		}
		if (c == '-') {
			if (label == 0)
				return (0);
		} else if (!((c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
			return (0);
		}
		if (++label > 63)
			return (0);
	}
	return (label > 0 && s[len - 1] != '-');
}

/*
 * Pragmatic: local@domain, where domain is a hostname or an address
 * literal ([192.0.2.1], [IPv6:2001:db8::1]). Deliverability is the
 * mail system's business.
 */
static int
js_email_ok(const char *s)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	char		 lit[64];
	const char	*at, *dom;
	size_t		 len, dlen;

	len = strlen(s);
	if (len > 254 || (at = strrchr(s, '@')) == NULL)
		return (0);
	if (!js_email_local_ok(s, (size_t)(at - s)))
		return (0);

	dom = at + 1;
	dlen = strlen(dom);
	if (dlen >= 2 && dom[0] == '[' && dom[dlen - 1] == ']') {
		if (dlen - 2 >= sizeof(lit))
			return (0);
		memcpy(lit, dom + 1, dlen - 2);
		lit[dlen - 2] = '\0';
		if (strncmp(lit, "IPv6:", 5) == 0)
			return (inet_pton(AF_INET6, lit + 5, &a6) == 1);
		return (inet_pton(AF_INET, lit, &a4) == 1);
	}
	return (js_hostname_ok(dom, dlen));
}

static int
js_kw_type(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	const json_t	*t;
	char		 msg[128];
	size_t		 i;

	if (json_is_string(kw)) {
		if (js_type_is(kw, inst))
			return (0);
	} else if (json_is_array(kw)) {
		json_array_foreach(kw, i, t) {
			if (js_type_is(t, inst))
				return (0);
		}
	} else {
		return (0);
	}

	js_type_msg(kw, msg, sizeof(msg));
	js_report(ctx, NULL, 0, msg);
	return (-1);
}

static int
js_kw_enum(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	const json_t	*v;
	size_t		 i;

	if (!json_is_array(kw))
		return (0);
	if (js_instance_too_deep(ctx, inst))
		return (-1);

	json_array_foreach(kw, i, v) {
		if (js_cmp(v, inst) == 0)
			return (0);
	}
	js_report(ctx, NULL, 0, "must be one of the allowed values");
	return (-1);
}

static int
js_kw_const(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	if (js_instance_too_deep(ctx, inst))
		return (-1);
	if (js_cmp(kw, inst) == 0)
		return (0);
	js_report(ctx, NULL, 0, "must be equal to the allowed value");
	return (-1);
}

static int
js_kw_format(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	const char	*v;
	size_t		 i;

	if (!json_is_string(kw) || !json_is_string(inst))
		return (0);

	for (i = 0; i < sizeof(js_formats) / sizeof(js_formats[0]); i++) {
		if (!js_streq(kw, js_formats[i].name))
			continue;
		v = json_string_value(inst);
		/* An embedded NUL would hide a tail from the check. */
		if (strlen(v) == json_string_length(inst) &&
		    js_formats[i].ok(v))
			return (0);
		js_report(ctx, NULL, 0, js_formats[i].message);
		return (-1);
	}
	return (0);
}

static int
js_kw_min_length(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	char		msg[96];
	size_t		n;

	if (!json_is_string(inst) || js_count(kw, &n) == -1)
		return (0);
	if (js_codepoints(json_string_value(inst),
	    json_string_length(inst)) >= n)
		return (0);
	(void)snprintf(msg, sizeof(msg), "must be at least %zu characters "
	    "long", n);
	js_report(ctx, NULL, 0, msg);
	return (-1);
}

static int
js_kw_max_length(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	char		msg[96];
	size_t		n;

	if (!json_is_string(inst) || js_count(kw, &n) == -1)
		return (0);
	if (js_codepoints(json_string_value(inst),
	    json_string_length(inst)) <= n)
		return (0);
	(void)snprintf(msg, sizeof(msg), "must be at most %zu characters "
	    "long", n);
	js_report(ctx, NULL, 0, msg);
	return (-1);
}

static int
js_kw_pattern(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	int	rc;

	if (!json_is_string(kw) || !json_is_string(inst))
		return (0);

	rc = js_pattern_match(json_string_value(kw), json_string_length(kw),
	    json_string_value(inst), json_string_length(inst));
	if (rc == 1)
		return (0);
	if (rc == 0)
		js_report(ctx, NULL, 0, "must match the required pattern");
	else
		js_report(ctx, NULL, 0,
		    "cannot be checked against the schema pattern");
	return (-1);
}

static int
js_kw_minimum(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	char	num[64], msg[128];

	if (!json_is_number(kw) || !json_is_number(inst))
		return (0);
	if (js_num_cmp(inst, kw) >= 0)
		return (0);
	js_num_str(kw, num, sizeof(num));
	(void)snprintf(msg, sizeof(msg),
	    "must be greater than or equal to %s", num);
	js_report(ctx, NULL, 0, msg);
	return (-1);
}

static int
js_kw_maximum(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	char	num[64], msg[128];

	if (!json_is_number(kw) || !json_is_number(inst))
		return (0);
	if (js_num_cmp(inst, kw) <= 0)
		return (0);
	js_num_str(kw, num, sizeof(num));
	(void)snprintf(msg, sizeof(msg),
	    "must be less than or equal to %s", num);
	js_report(ctx, NULL, 0, msg);
	return (-1);
}

static int
js_kw_exclusive_minimum(struct js_ctx *ctx, const json_t *s,
    const json_t *kw, const json_t *inst)
{
	char	num[64], msg[128];

	if (!json_is_number(kw) || !json_is_number(inst))
		return (0);
	if (js_num_cmp(inst, kw) > 0)
		return (0);
	js_num_str(kw, num, sizeof(num));
	(void)snprintf(msg, sizeof(msg), "must be greater than %s", num);
	js_report(ctx, NULL, 0, msg);
	return (-1);
}

static int
js_kw_exclusive_maximum(struct js_ctx *ctx, const json_t *s,
    const json_t *kw, const json_t *inst)
{
	char	num[64], msg[128];

	if (!json_is_number(kw) || !json_is_number(inst))
		return (0);
	if (js_num_cmp(inst, kw) < 0)
		return (0);
	js_num_str(kw, num, sizeof(num));
	(void)snprintf(msg, sizeof(msg), "must be less than %s", num);
	js_report(ctx, NULL, 0, msg);
	return (-1);
}

static int
js_kw_min_properties(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	char		msg[96];
	size_t		n;

	if (!json_is_object(inst) || js_count(kw, &n) == -1)
		return (0);
	if (json_object_size(inst) >= n)
		return (0);
	(void)snprintf(msg, sizeof(msg), "must have at least %zu members", n);
	js_report(ctx, NULL, 0, msg);
	return (-1);
}

static int
js_kw_max_properties(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	char		msg[96];
	size_t		n;

	if (!json_is_object(inst) || js_count(kw, &n) == -1)
		return (0);
	if (json_object_size(inst) <= n)
		return (0);
	(void)snprintf(msg, sizeof(msg), "must have at most %zu members", n);
	js_report(ctx, NULL, 0, msg);
	return (-1);
}

static int
js_kw_min_items(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	char		msg[96];
	size_t		n;

	if (!json_is_array(inst) || js_count(kw, &n) == -1)
		return (0);
	if (json_array_size(inst) >= n)
		return (0);
	(void)snprintf(msg, sizeof(msg), "must have at least %zu items", n);
	js_report(ctx, NULL, 0, msg);
	return (-1);
}

static int
js_kw_max_items(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	char		msg[96];
	size_t		n;

	if (!json_is_array(inst) || js_count(kw, &n) == -1)
		return (0);
	if (json_array_size(inst) <= n)
		return (0);
	(void)snprintf(msg, sizeof(msg), "must have at most %zu items", n);
	js_report(ctx, NULL, 0, msg);
	return (-1);
}

static int
js_kw_unique_items(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	const json_t	**v;
	size_t		  i, n;
	int		  rc;

	if (!json_is_true(kw) || !json_is_array(inst))
		return (0);
	if ((n = json_array_size(inst)) < 2)
		return (0);
	if (js_instance_too_deep(ctx, inst))
		return (-1);

	/* Sorting keeps a hostile array from costing n^2 comparisons. */
	v = xcalloc(n, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = json_array_get(inst, i);
	qsort(v, n, sizeof(*v), js_ptr_cmp);

	rc = 0;
	for (i = 1; i < n; i++) {
		if (js_cmp(v[i - 1], v[i]) == 0) {
			rc = -1;
			break;
		}
	}
	free(v);

	if (rc == -1)
		js_report(ctx, NULL, 0, "must not contain duplicate items");
	return (rc);
}

static int
js_kw_items(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	size_t		i, n;
	int		rc;

	if (!json_is_array(inst))
		return (0);

	rc = 0;
	if (json_is_array(kw)) {
		/* Tuple form; items past the tuple are not constrained. */
		n = json_array_size(inst);
		if (json_array_size(kw) < n)
			n = json_array_size(kw);
		for (i = 0; i < n; i++) {
			if (js_descend_index(ctx, i, json_array_get(kw, i),
			    json_array_get(inst, i)) == -1) {
				rc = -1;
				if (js_stop(ctx))
					break;
			}
		}
	} else if (json_is_object(kw) || json_is_boolean(kw)) {
		for (i = 0; i < json_array_size(inst); i++) {
			if (js_descend_index(ctx, i, kw,
			    json_array_get(inst, i)) == -1) {
				rc = -1;
				if (js_stop(ctx))
					break;
			}
		}
	}
	return (rc);
}

static int
js_kw_required(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	const json_t	*name;
	size_t		 i;
	int		 rc;

	if (!json_is_array(kw) || !json_is_object(inst))
		return (0);

	rc = 0;
	json_array_foreach(kw, i, name) {
		if (!json_is_string(name))
			continue;
		if (json_object_getn(inst, json_string_value(name),
		    json_string_length(name)) != NULL)
			continue;
		js_report(ctx, json_string_value(name),
		    json_string_length(name), "is required");
		rc = -1;
		if (js_stop(ctx))
			break;
	}
	return (rc);
}

static int
js_kw_properties(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	const char	*key;
	const json_t	*v;
	json_t		*sub;
	size_t		 keylen;
	int		 rc;

	if (!json_is_object(kw) || !json_is_object(inst))
		return (0);

	rc = 0;
	json_object_keylen_foreach((json_t *)kw, key, keylen, sub) {
		if ((v = json_object_getn(inst, key, keylen)) == NULL)
			continue;
		if (js_descend_key(ctx, key, keylen, sub, v) == -1) {
			rc = -1;
			if (js_stop(ctx))
				break;
		}
	}
	return (rc);
}

static int
js_kw_additional(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	const json_t	*props;
	const char	*key;
	json_t		*v;
	size_t		 keylen;
	int		 rc;

	if (!json_is_object(inst) || json_is_true(kw))
		return (0);
	if (!json_is_object(kw) && !json_is_false(kw))
		return (0);

	props = json_object_get(s, "properties");
	if (!json_is_object(props))
		props = NULL;

	rc = 0;
	json_object_keylen_foreach((json_t *)inst, key, keylen, v) {
		if (props != NULL &&
		    json_object_getn(props, key, keylen) != NULL)
			continue;
		if (json_is_false(kw)) {
			js_report(ctx, key, keylen, "is not allowed");
			rc = -1;
		} else if (js_descend_key(ctx, key, keylen, kw, v) == -1) {
			rc = -1;
		}
		if (rc == -1 && js_stop(ctx))
			break;
	}
	return (rc);
}

static int
js_kw_all_of(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	const json_t	*sub;
	size_t		 i;
	int		 rc;

	if (!json_is_array(kw))
		return (0);

	rc = 0;
	json_array_foreach(kw, i, sub) {
		if (js_validate(ctx, sub, inst) == -1) {
			rc = -1;
			if (js_stop(ctx))
				break;
		}
	}
	return (rc);
}

/*
 * Branch errors are not reported: they are mostly noise about branches
 * the client never meant, and one error at the location says enough.
 */
static int
js_kw_any_of(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	const json_t	*sub;
	size_t		 i;
	int		 found;

	if (!json_is_array(kw))
		return (0);

	found = 0;
	ctx->quiet++;
	json_array_foreach(kw, i, sub) {
		if (js_validate(ctx, sub, inst) == 0) {
			found = 1;
			break;
		}
		if (ctx->aborted)
			break;
	}
	ctx->quiet--;

	if (ctx->aborted)
		return (-1);
	if (found)
		return (0);
	js_report(ctx, NULL, 0, "must match at least one of the allowed "
	    "schemas");
	return (-1);
}

static int
js_kw_one_of(struct js_ctx *ctx, const json_t *s, const json_t *kw,
    const json_t *inst)
{
	const json_t	*sub;
	size_t		 i;
	int		 found;

	if (!json_is_array(kw))
		return (0);

	found = 0;
	ctx->quiet++;
	json_array_foreach(kw, i, sub) {
		if (js_validate(ctx, sub, inst) == 0 && ++found > 1)
			break;
		if (ctx->aborted)
			break;
	}
	ctx->quiet--;

	if (ctx->aborted)
		return (-1);
	if (found == 1)
		return (0);
	js_report(ctx, NULL, 0, "must match exactly one of the allowed "
	    "schemas");
	return (-1);
}
