/*
 * db: see db.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

struct db_map {
	const char	*prefix;	/* SQLSTATE, or its class */
	int		 status;
	const char	*detail;
};

static void	db_set(struct db_error *, int, const char *, const char *);
static void	db_append(char **, size_t *, size_t *, const char *, const char *);

/* First match wins: exact codes before their class. */
static const struct db_map db_maps[] = {
	{ "23505", 409, "A record with the same unique value already exists." },
	{ "23503", 422, "The request refers to a record that does not exist." },
	{ "23514", 422, "A value breaks a rule of the record." },
	{ "23502", 422, "A required value is missing." },
	{ "23P01", 409, "The request conflicts with an existing record." },
	{ "40001", 409, "The request conflicted with another one: retry it." },
	{ "40P01", 409, "The request conflicted with another one: retry it." },
	{ "42501", 403, "You are not allowed to do this." },
	{ "57014", 503, "The database took too long to answer." },
	{ "22", 400, "A value is not valid." },
	{ "08", 503, "The database is unreachable." },
	{ "53", 503, "The database is overloaded." },
	{ "57", 503, "The database is unavailable." },
	{ NULL, 0, NULL },
};

static void
db_set(struct db_error *e, int status, const char *state, const char *detail)
{
	e->status = status;
	e->extra[0] = '\0';
	snprintf(e->sqlstate, sizeof(e->sqlstate), "%s", state);
	snprintf(e->detail, sizeof(e->detail), "%s", detail);
}

int
db_statement(char *buf, size_t len, const char *fn, int nparams)
{
	size_t		 off;
	const char	*p;
	int		 i, n;

	if (nparams < 0 || nparams > DB_MAX_PARAMS || *fn == '\0')
		return -1;
	for (p = fn; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || *p == '_'))
			return -1;
	}
	n = snprintf(buf, len, "SELECT * FROM api.%s(", fn);
	if (n < 0 || (size_t)n >= len)
		return -1;
	off = (size_t)n;
	for (i = 1; i <= nparams; i++) {
		n = snprintf(buf + off, len - off, "%s$%d", i > 1 ? ", " : "", i);
		if (n < 0 || (size_t)n >= len - off)
			return -1;
		off += (size_t)n;
	}
	if (off + 2 > len)
		return -1;
	buf[off++] = ')';
	buf[off] = '\0';
	return 0;
}

void
db_error_from(const PGresult *res, struct db_error *e)
{
	if (res == NULL) {
		db_error_fields(NULL, NULL, NULL, e);
		return;
	}
	db_error_fields(PQresultErrorField(res, PG_DIAG_SQLSTATE),
	    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
	    PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL), e);
}

void
db_error_fields(const char *state, const char *msg, const char *detail,
    struct db_error *e)
{
	const struct db_map	*m;
	int			 status;

	if (state == NULL) {
		db_set(e, 503, "08000", "The database is unreachable.");
		return;
	}
	/*
	 * Raised by the SQL on purpose: KW<status>, an error status (4xx or
	 * 5xx); the message is for the caller.
	 */
	if (strncmp(state, "KW", 2) == 0 && state[2] >= '4' && state[2] <= '5' &&
	    state[3] >= '0' && state[3] <= '9' && state[4] >= '0' &&
	    state[4] <= '9') {
		status = (state[2] - '0') * 100 + (state[3] - '0') * 10 +
		    (state[4] - '0');
		db_set(e, status, state, msg != NULL ? msg : "");
		if (detail != NULL && detail[0] == '{' &&
		    strlen(detail) < sizeof(e->extra))
			memcpy(e->extra, detail, strlen(detail) + 1);
		return;
	}
	for (m = db_maps; m->prefix != NULL; m++) {
		if (strncmp(state, m->prefix, strlen(m->prefix)) == 0) {
			db_set(e, m->status, state, m->detail);
			return;
		}
	}
	db_set(e, 500, state, "The service failed to complete the request.");
}

/* Append key='value' (quotes and backslashes escaped) to a growing string. */
static void
db_append(char **buf, size_t *len, size_t *cap, const char *key,
    const char *value)
{
	size_t		need = strlen(key) + 2 * strlen(value) + 6;
	const char	*p;

	if (*len + need >= *cap) {
		*cap = (*len + need) * 2;
		if ((*buf = realloc(*buf, *cap)) == NULL)
			abort();
	}
	*len += (size_t)sprintf(*buf + *len, "%s%s='", *len > 0 ? " " : "", key);
	for (p = value; *p != '\0'; p++) {
		if (*p == '\'' || *p == '\\')
			(*buf)[(*len)++] = '\\';
		(*buf)[(*len)++] = *p;
	}
	(*buf)[(*len)++] = '\'';
	(*buf)[*len] = '\0';
}

char *
db_conninfo(const char *conninfo, int statement_timeout_ms,
    int session_options, char *err, size_t errlen)
{
	PQconninfoOption	*opts, *o;
	char			*msg = NULL, *buf = NULL;
	char			 extra[512];
	size_t			 len = 0, cap = 0;
	int			 have_options = 0;

	if ((opts = PQconninfoParse(conninfo, &msg)) == NULL) {
		snprintf(err, errlen, "database_url does not parse: %s",
		    msg != NULL ? msg : "out of memory");
		PQfreemem(msg);
		return NULL;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || strcmp(o->keyword, "options") == 0)
			continue;
		db_append(&buf, &len, &cap, o->keyword, o->val);
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || strcmp(o->keyword, "options") != 0)
			continue;
		if (session_options)
			snprintf(extra, sizeof(extra), "%s -c statement_timeout=%d"
			    " -c kw.report_identity=on", o->val,
			    statement_timeout_ms);
		else
			snprintf(extra, sizeof(extra), "%s", o->val);
		have_options = 1;
	}
	if (!have_options && session_options) {
		snprintf(extra, sizeof(extra), "-c statement_timeout=%d"
		    " -c kw.report_identity=on", statement_timeout_ms);
		have_options = 1;
	}
	if (have_options)
		db_append(&buf, &len, &cap, "options", extra);
	if (strstr(conninfo, "application_name") == NULL)
		db_append(&buf, &len, &cap, "application_name", "keywork");
	PQconninfoFree(opts);
	return buf;
}
