/*
 * db: the data-access conventions, independent of Kore.
 *
 * Every operation is one statement, "SELECT * FROM api.<fn>($1, ...)", run
 * in autocommit: the statement is the request's one transaction, and the
 * function sets the caller's identity transaction-locally before anything
 * else. This module builds those statements and turns a failed result into
 * a service error; it never replies and never logs.
 */
#ifndef KEYWORK_DB_H
#define KEYWORK_DB_H

#include <stddef.h>
#include <libpq-fe.h>

#define DB_MAX_PARAMS 16

struct db_error {
	int	status;		/* HTTP status to answer */
	char	detail[256];	/* safe to show the caller */
	char	sqlstate[6];
	/*
	 * For errors the SQL raised on purpose (KWnnn): its DETAIL when that
	 * is a JSON object, whose members the problem body carries (e.g.
	 * {"rule": ...}); else empty.
	 */
	char	extra[512];
};

/*
 * "SELECT * FROM api.<fn>($1, ..., $n)" into buf. fn must be a plain
 * identifier ([a-z_]+). Returns 0, or -1 if it does not fit or fn is bad.
 */
int	db_statement(char *buf, size_t len, const char *fn, int nparams)
	    __attribute__((warn_unused_result));

/*
 * Map a failed result (or, with res NULL, a connection failure) to e.
 * Application errors raised by the SQL (SQLSTATE KWnnn) keep their message;
 * constraint violations become 409/422 with a generic message; anything the
 * caller cannot fix is 500 (or 503 when the database is unreachable or the
 * statement timed out).
 */
void	db_error_from(const PGresult *res, struct db_error *e);

/*
 * The same from the error's fields: SQLSTATE (NULL: the database is
 * unreachable), primary message and DETAIL (either may be NULL).
 */
void	db_error_fields(const char *sqlstate, const char *message,
	    const char *detail, struct db_error *e);

/*
 * The API's connection string: conninfo (key=value or URI form) with the
 * application name added, and, when session_options is set, the statement
 * timeout and kw.report_identity=on (kw.authenticate then names the caller
 * in a NOTICE, for the access log) added as connection options, so every
 * session starts with them. Without session_options the conninfo's own
 * options, if any, pass unchanged: a pooler such as PgBouncer refuses the
 * options startup parameter, and the role's settings in the database must
 * supply both (docs/scaling.md). Returns a malloc'd string, or NULL with a
 * reason in err when conninfo does not parse.
 */
char	*db_conninfo(const char *conninfo, int statement_timeout_ms,
	    int session_options, char *err, size_t errlen);

#endif
