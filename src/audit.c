/*
 * audit: canonical text and chained hash of audit entries (see audit.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "audit.h"
#include "xmalloc.h"

struct sbuf {
	char	*p;
	size_t	 len, cap;
};

static void	sb_put(struct sbuf *, const char *, size_t);
static void	sb_field(struct sbuf *, const char *, int);
static void	sb_array(struct sbuf *, const char *);
static int	two_digits(const char *, int *);

static void
sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 256;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* One field, preceded by the separator unless first. */
static void
sb_field(struct sbuf *b, const char *v, int first)
{
	if (!first)
		sb_put(b, "|", 1);
	if (v == NULL) {
		sb_put(b, "\\N", 2);
		return;
	}
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '|')
			sb_put(b, "\\", 1);
		sb_put(b, v, 1);
	}
}

/*
 * An array's text "{a,b}" as "a,b" (escaped as a field). Its elements
 * here are uuids, which PostgreSQL never quotes; NULL elements are left
 * out, as array_to_string does.
 */
static void
sb_array(struct sbuf *b, const char *v)
{
	struct sbuf	 t = { NULL, 0, 0 };
	const char	*p, *end;
	size_t		 n;
	int		 any = 0;

	if (v == NULL) {
		sb_field(b, NULL, 0);
		return;
	}
	sb_put(&t, "", 0);
	p = v + (*v == '{');
	end = v + strlen(v);
	if (end > p && end[-1] == '}')
		end--;
	while (p < end) {
		n = strcspn(p, ",");
		if (p + n > end)
			n = (size_t)(end - p);
		if (!(n == 4 && strncmp(p, "NULL", 4) == 0)) {
			if (any)
				sb_put(&t, ",", 1);
			sb_put(&t, p, n);
			any = 1;
		}
		p += n + 1;
	}
	sb_field(b, t.p, 0);
	free(t.p);
}

static int
two_digits(const char *s, int *v)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return -1;
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return 0;
}

int
audit_time_us(const char *at, long long *us)
{
	struct tm	 tm;
	const char	*p;
	long long	 frac = 0, scale = 1000000, secs;
	int		 year, mon, day, hh, mi, ss, n, sign, oh = 0, om = 0, os = 0;

	if (at == NULL || sscanf(at, "%4d-%2d-%2d %2d:%2d:%2d%n", &year, &mon,
	    &day, &hh, &mi, &ss, &n) != 6 || n != 19)
		return -1;
	p = at + n;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++) {
			if (scale == 1)
				return -1;
			scale /= 10;
			frac += (*p - '0') * scale;
		}
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (two_digits(p, &oh) == -1)
		return -1;
	p += 2;
	if (*p == ':') {
		if (two_digits(p + 1, &om) == -1)
			return -1;
		p += 3;
		if (*p == ':') {
			if (two_digits(p + 1, &os) == -1)
				return -1;
			p += 3;
		}
	}
	if (*p != '\0')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mi;
	tm.tm_sec = ss;
	secs = (long long)timegm(&tm) - sign * (oh * 3600LL + om * 60LL + os);
	*us = secs * 1000000LL + frac;
	return 0;
}

char *
audit_canon(const struct audit_entry *e)
{
	struct sbuf	 b = { NULL, 0, 0 };
	char		 t[32];
	long long	 us;

	if (e->seq == NULL || e->id == NULL || audit_time_us(e->at, &us) == -1)
		return NULL;
	snprintf(t, sizeof(t), "%lld", us);
	sb_field(&b, e->seq, 1);
	sb_field(&b, e->id, 0);
	sb_field(&b, t, 0);
	sb_field(&b, e->user_id, 0);
	sb_field(&b, e->client_id, 0);
	sb_field(&b, e->agency_id, 0);
	sb_field(&b, e->roles, 0);
	sb_field(&b, e->action, 0);
	sb_field(&b, e->entity, 0);
	sb_field(&b, e->record_id, 0);
	sb_array(&b, e->record_ids);
	sb_field(&b, e->episode_id, 0);
	sb_field(&b, e->request_id, 0);
	sb_field(&b, e->client_addr, 0);
	return b.p;
}

int
audit_hash(const unsigned char prev[AUDIT_HASH_LEN], const struct audit_entry *e,
    unsigned char out[AUDIT_HASH_LEN])
{
	EVP_MD_CTX	*ctx;
	char		*canon;
	unsigned	 n = 0;
	int		 rc = -1;

	if ((canon = audit_canon(e)) == NULL)
		return -1;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		abort();
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, prev, AUDIT_HASH_LEN) == 1 &&
	    EVP_DigestUpdate(ctx, canon, strlen(canon)) == 1 &&
	    EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == AUDIT_HASH_LEN)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	free(canon);
	return rc;
}
