/*
 * promtext: a strict reader of the Prometheus text exposition format
 * (version 0.0.4), for tests. Header-only, included by the unit tests of
 * src/metrics.c and by the integration tests that scrape /metrics.
 *
 * Stricter than Prometheus itself, so that what passes here any scraper
 * takes: every line ends in '\n' and none is blank; comments are only
 * "# HELP name text" and "# TYPE name type", at most one of each per family,
 * the TYPE before the family's first sample; every sample is
 * `name{label="value",...} value` with no timestamp, of a family declared by
 * TYPE, and a family's samples are contiguous; label names are unique
 * within a sample, values are escaped (\\, \", \n only); counters are not
 * negative. Each histogram series (its labels but le) has buckets in
 * ascending le, cumulative, ending with le="+Inf" whose value equals its
 * _count, and a _sum.
 */
#ifndef KEYWORK_TEST_PROMTEXT_H
#define KEYWORK_TEST_PROMTEXT_H

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROM_NAME_MAX	128
#define PROM_LABELS_MAX	512

struct prom_sample {
	char	family[PROM_NAME_MAX];
	char	name[PROM_NAME_MAX];
	/* Labels as written, le left out: `a="x",b="y"` (escapes kept). */
	char	labels[PROM_LABELS_MAX];
	char	le[32];		/* a bucket's le, else "" */
	double	value;
};

struct prom_family {
	char	name[PROM_NAME_MAX];
	char	type[16];
	int	has_help;
	int	has_samples;
	int	closed;		/* another family's samples came after */
};

struct prom_doc {
	struct prom_sample	*s;
	size_t			 n;
	struct prom_family	*f;
	size_t			 nf;
};

static inline int
prom_fail(char *err, size_t errlen, size_t line, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	n = snprintf(err, errlen, "line %zu: ", line);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return (-1);
}

static inline int
prom_is_name(const char *s, size_t len, int label)
{
	size_t	i;

	if (len == 0 || len >= PROM_NAME_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		if (isalpha((unsigned char)s[i]) || s[i] == '_' ||
		    (!label && s[i] == ':'))
			continue;
		if (i > 0 && isdigit((unsigned char)s[i]))
			continue;
		return (0);
	}
	return (1);
}

static inline struct prom_family *
prom_family_find(struct prom_doc *d, const char *name)
{
	size_t	i;

	for (i = 0; i < d->nf; i++) {
		if (strcmp(d->f[i].name, name) == 0)
			return (&d->f[i]);
	}
	return (NULL);
}

static inline struct prom_family *
prom_family_get(struct prom_doc *d, const char *name)
{
	struct prom_family	*f;

	if ((f = prom_family_find(d, name)) != NULL)
		return (f);
	d->f = realloc(d->f, (d->nf + 1) * sizeof(*d->f));
	if (d->f == NULL)
		abort();
	f = &d->f[d->nf++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	return (f);
}

/* The family a sample name belongs to (histograms: _bucket, _sum, _count). */
static inline struct prom_family *
prom_family_of(struct prom_doc *d, const char *name, const char **suffix)
{
	static const char	*const sfx[] = { "_bucket", "_sum", "_count" };
	struct prom_family	*f;
	char			 base[PROM_NAME_MAX];
	size_t			 i, n, k;

	*suffix = "";
	if ((f = prom_family_find(d, name)) != NULL && f->type[0] != '\0' &&
	    strcmp(f->type, "histogram") != 0)
		return (f);
	n = strlen(name);
	for (i = 0; i < 3; i++) {
		k = strlen(sfx[i]);
		if (n <= k || strcmp(name + n - k, sfx[i]) != 0)
			continue;
		snprintf(base, sizeof(base), "%.*s", (int)(n - k), name);
		f = prom_family_find(d, base);
		if (f != NULL && strcmp(f->type, "histogram") == 0) {
			*suffix = sfx[i];
			return (f);
		}
	}
	return (NULL);
}

/* Parse one float as the format writes it. */
static inline int
prom_value(const char *s, size_t len, double *out)
{
	char	buf[64], *end;

	if (len == 0 || len >= sizeof(buf))
		return (-1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strcmp(buf, "+Inf") == 0) {
		*out = INFINITY;
		return (0);
	}
	if (strcmp(buf, "-Inf") == 0) {
		*out = -INFINITY;
		return (0);
	}
	if (strcmp(buf, "NaN") == 0) {
		*out = NAN;
		return (0);
	}
	if (!(isdigit((unsigned char)buf[0]) || buf[0] == '-' ||
	    buf[0] == '+' || buf[0] == '.'))
		return (-1);
	*out = strtod(buf, &end);
	return (*end == '\0' ? 0 : -1);
}

/*
 * Labels from p (just after '{') to the closing '}': into s->labels (le
 * apart). Returns the position after '}', or NULL.
 */
static inline const char *
prom_labels(const char *p, const char *end, struct prom_sample *s,
    char *why, size_t whylen)
{
	char		 names[16][PROM_NAME_MAX], value[PROM_LABELS_MAX];
	const char	*n0;
	size_t		 nn = 0, i, ln, vl, off = 0;

	for (;;) {
		if (p < end && *p == '}')
			return (p + 1);
		n0 = p;
		while (p < end && *p != '=')
			p++;
		ln = (size_t)(p - n0);
		if (p == end || !prom_is_name(n0, ln, 1)) {
			snprintf(why, whylen, "bad label name");
			return (NULL);
		}
		for (i = 0; i < nn; i++) {
			if (strlen(names[i]) == ln &&
			    memcmp(names[i], n0, ln) == 0) {
				snprintf(why, whylen, "label %.*s repeated",
				    (int)ln, n0);
				return (NULL);
			}
		}
		if (nn == 16) {
			snprintf(why, whylen, "too many labels");
			return (NULL);
		}
		snprintf(names[nn++], PROM_NAME_MAX, "%.*s", (int)ln, n0);
		if (++p >= end || *p != '"') {
			snprintf(why, whylen, "label value not quoted");
			return (NULL);
		}
		p++;
		vl = 0;
		while (p < end && *p != '"') {
			if (*p == '\\') {
				if (p + 1 >= end || (p[1] != '\\' &&
				    p[1] != '"' && p[1] != 'n')) {
					snprintf(why, whylen, "bad escape");
					return (NULL);
				}
				if (vl + 2 < sizeof(value)) {
					value[vl++] = p[0];
					value[vl++] = p[1];
				}
				p += 2;
				continue;
			}
			if (vl + 1 < sizeof(value))
				value[vl++] = *p;
			p++;
		}
		if (p == end) {
			snprintf(why, whylen, "unterminated label value");
			return (NULL);
		}
		value[vl] = '\0';
		p++;
		if (strcmp(names[nn - 1], "le") == 0) {
			if (vl >= sizeof(s->le)) {
				snprintf(why, whylen, "le too long");
				return (NULL);
			}
			memcpy(s->le, value, vl + 1);
		} else {
			i = (size_t)snprintf(s->labels + off,
			    sizeof(s->labels) - off, "%s%s=\"%s\"",
			    off > 0 ? "," : "", names[nn - 1], value);
			off += i;
			if (off >= sizeof(s->labels)) {
				snprintf(why, whylen, "labels too long");
				return (NULL);
			}
		}
		if (p < end && *p == ',')
			p++;
		else if (p >= end || *p != '}') {
			snprintf(why, whylen, "expected ',' or '}'");
			return (NULL);
		}
	}
}

static inline int
prom_comment(struct prom_doc *d, const char *p, size_t len, size_t line,
    char *err, size_t errlen)
{
	struct prom_family	*f;
	const char		*n0, *end = p + len;
	char			 name[PROM_NAME_MAX], type[16];
	size_t			 ln;
	int			 help;

	if (len > 7 && memcmp(p, "# HELP ", 7) == 0)
		help = 1;
	else if (len > 7 && memcmp(p, "# TYPE ", 7) == 0)
		help = 0;
	else
		return (prom_fail(err, errlen, line, "comment is neither "
		    "HELP nor TYPE"));
	p += 7;
	n0 = p;
	while (p < end && *p != ' ')
		p++;
	ln = (size_t)(p - n0);
	if (!prom_is_name(n0, ln, 0) || p == end)
		return (prom_fail(err, errlen, line, "bad metric name"));
	snprintf(name, sizeof(name), "%.*s", (int)ln, n0);
	p++;
	f = prom_family_get(d, name);
	if (f->has_samples)
		return (prom_fail(err, errlen, line, "%s after %s's samples",
		    help ? "HELP" : "TYPE", name));
	if (help) {
		if (f->has_help)
			return (prom_fail(err, errlen, line, "second HELP "
			    "for %s", name));
		f->has_help = 1;
		return (0);
	}
	if (f->type[0] != '\0')
		return (prom_fail(err, errlen, line, "second TYPE for %s",
		    name));
	snprintf(type, sizeof(type), "%.*s", (int)(end - p), p);
	if (strcmp(type, "counter") != 0 && strcmp(type, "gauge") != 0 &&
	    strcmp(type, "histogram") != 0 && strcmp(type, "summary") != 0 &&
	    strcmp(type, "untyped") != 0)
		return (prom_fail(err, errlen, line, "unknown type %s", type));
	snprintf(f->type, sizeof(f->type), "%s", type);
	return (0);
}

/* *last: the index of the family of the sample before, (size_t)-1 if none. */
static inline int
prom_sample_line(struct prom_doc *d, const char *p, size_t len, size_t line,
    size_t *last, char *err, size_t errlen)
{
	struct prom_sample	 s;
	struct prom_family	*f;
	const char		*n0, *end = p + len, *suffix;
	char			 why[128];
	size_t			 i;

	memset(&s, 0, sizeof(s));
	n0 = p;
	while (p < end && *p != '{' && *p != ' ')
		p++;
	if (!prom_is_name(n0, (size_t)(p - n0), 0))
		return (prom_fail(err, errlen, line, "bad metric name"));
	snprintf(s.name, sizeof(s.name), "%.*s", (int)(p - n0), n0);
	if (p < end && *p == '{') {
		if ((p = prom_labels(p + 1, end, &s, why, sizeof(why))) == NULL)
			return (prom_fail(err, errlen, line, "%s", why));
	}
	if (p >= end || *p != ' ')
		return (prom_fail(err, errlen, line, "no value"));
	p++;
	if (memchr(p, ' ', (size_t)(end - p)) != NULL)
		return (prom_fail(err, errlen, line, "a timestamp or junk "
		    "after the value"));
	if (prom_value(p, (size_t)(end - p), &s.value) == -1)
		return (prom_fail(err, errlen, line, "bad value"));

	if ((f = prom_family_of(d, s.name, &suffix)) == NULL ||
	    f->type[0] == '\0')
		return (prom_fail(err, errlen, line, "%s has no TYPE before "
		    "it", s.name));
	if (f->closed)
		return (prom_fail(err, errlen, line, "%s's samples are not "
		    "together", f->name));
	if (*last < d->nf && &d->f[*last] != f)
		d->f[*last].closed = 1;
	*last = (size_t)(f - d->f);
	f->has_samples = 1;
	if ((strcmp(suffix, "_bucket") == 0) != (s.le[0] != '\0'))
		return (prom_fail(err, errlen, line, "le on a sample that is "
		    "not a bucket, or a bucket without le"));
	if ((strcmp(f->type, "counter") == 0 || suffix[0] != '\0') &&
	    !(s.value >= 0))
		return (prom_fail(err, errlen, line, "negative count"));
	snprintf(s.family, sizeof(s.family), "%s", f->name);
	for (i = 0; i < d->n; i++) {
		if (strcmp(d->s[i].name, s.name) == 0 &&
		    strcmp(d->s[i].labels, s.labels) == 0 &&
		    strcmp(d->s[i].le, s.le) == 0)
			return (prom_fail(err, errlen, line, "%s{%s} twice",
			    s.name, s.labels));
	}
	d->s = realloc(d->s, (d->n + 1) * sizeof(*d->s));
	if (d->s == NULL)
		abort();
	d->s[d->n++] = s;
	return (0);
}

/* Each histogram series: ascending le, cumulative, +Inf == _count, _sum. */
static inline int
prom_check_histograms(struct prom_doc *d, char *err, size_t errlen)
{
	const struct prom_sample	*b, *x;
	size_t				 i, j;
	double				 le, prev_le, prev_v, count;
	int				 have_count, have_sum, inf;
	char				 name[PROM_NAME_MAX + 16];

	for (i = 0; i < d->n; i++) {
		b = &d->s[i];
		if (b->le[0] == '\0')
			continue;
		/* The first bucket of its series only. */
		for (j = 0; j < i; j++) {
			if (d->s[j].le[0] != '\0' &&
			    strcmp(d->s[j].family, b->family) == 0 &&
			    strcmp(d->s[j].labels, b->labels) == 0)
				break;
		}
		if (j < i)
			continue;
		prev_le = -INFINITY;
		prev_v = 0;
		inf = 0;
		for (j = i; j < d->n; j++) {
			x = &d->s[j];
			if (x->le[0] == '\0' || strcmp(x->family,
			    b->family) != 0 || strcmp(x->labels, b->labels) != 0)
				continue;
			if (inf || prom_value(x->le, strlen(x->le), &le) == -1)
				return (prom_fail(err, errlen, 0, "%s{%s}: "
				    "bucket after +Inf or bad le", b->family,
				    b->labels));
			if (!(le > prev_le) || x->value < prev_v)
				return (prom_fail(err, errlen, 0, "%s{%s}: "
				    "buckets not ascending or not cumulative "
				    "at le=%s", b->family, b->labels, x->le));
			inf = isinf(le) && le > 0;
			prev_le = le;
			prev_v = x->value;
		}
		if (!inf)
			return (prom_fail(err, errlen, 0, "%s{%s}: no +Inf "
			    "bucket", b->family, b->labels));
		have_count = have_sum = 0;
		count = -1;
		for (j = 0; j < d->n; j++) {
			x = &d->s[j];
			if (strcmp(x->labels, b->labels) != 0)
				continue;
			snprintf(name, sizeof(name), "%s_count", b->family);
			if (strcmp(x->name, name) == 0) {
				have_count = 1;
				count = x->value;
			}
			snprintf(name, sizeof(name), "%s_sum", b->family);
			if (strcmp(x->name, name) == 0)
				have_sum = 1;
		}
		if (!have_count || !have_sum || count != prev_v)
			return (prom_fail(err, errlen, 0, "%s{%s}: _count "
			    "(%g) missing or not the +Inf bucket (%g), or no "
			    "_sum", b->family, b->labels, count, prev_v));
	}
	return (0);
}

/* Parse text (len bytes). 0, or -1 with the first fault in err. */
static inline int
prom_parse(const char *text, size_t len, struct prom_doc *d, char *err,
    size_t errlen)
{
	size_t			 last = (size_t)-1;
	const char		*p = text, *end = text + len, *nl;
	size_t			 line = 0;

	memset(d, 0, sizeof(*d));
	if (len == 0)
		return (prom_fail(err, errlen, 0, "empty"));
	if (text[len - 1] != '\n')
		return (prom_fail(err, errlen, 0, "no final newline"));
	while (p < end) {
		line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == p)
			return (prom_fail(err, errlen, line, "blank line"));
		if (memchr(p, '\0', (size_t)(nl - p)) != NULL ||
		    memchr(p, '\r', (size_t)(nl - p)) != NULL)
			return (prom_fail(err, errlen, line, "NUL or CR"));
		if (*p == '#') {
			if (prom_comment(d, p, (size_t)(nl - p), line, err,
			    errlen) == -1)
				return (-1);
		} else if (prom_sample_line(d, p, (size_t)(nl - p), line,
		    &last, err, errlen) == -1) {
			return (-1);
		}
		p = nl + 1;
	}
	return (prom_check_histograms(d, err, errlen));
}

/* A sample's value by name and labels (as written, le apart), or -1. */
static inline double
prom_get(const struct prom_doc *d, const char *name, const char *labels)
{
	size_t	i;

	for (i = 0; i < d->n; i++) {
		if (strcmp(d->s[i].name, name) == 0 &&
		    strcmp(d->s[i].labels, labels) == 0 && d->s[i].le[0] == '\0')
			return (d->s[i].value);
	}
	return (-1);
}

/* A bucket's value, or -1. */
static inline double
prom_bucket(const struct prom_doc *d, const char *name, const char *labels,
    const char *le)
{
	size_t	i;

	for (i = 0; i < d->n; i++) {
		if (strcmp(d->s[i].name, name) == 0 &&
		    strcmp(d->s[i].labels, labels) == 0 &&
		    strcmp(d->s[i].le, le) == 0)
			return (d->s[i].value);
	}
	return (-1);
}

static inline const struct prom_family *
prom_family(const struct prom_doc *d, const char *name)
{
	return (prom_family_find((struct prom_doc *)d, name));
}

static inline void
prom_free(struct prom_doc *d)
{
	free(d->s);
	free(d->f);
	memset(d, 0, sizeof(*d));
}

#endif
