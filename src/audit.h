/*
 * audit: the canonical text and hash of an audit entry, as kw.audit_canon
 * and kw.audit_seal define them in sql/migrations/0013_audit.sql, built
 * here independently of SQL so that `keywork-admin audit verify` checks the
 * chain with its own code.
 *
 * Canonical text: the fields below in order, joined by '|'; a NULL field is
 * \N; in text, '\' is written \\ and '|' \|; the time as integer
 * microseconds since 1970-01-01 UTC; uuids in lower case; an array as its
 * elements joined by ','. An entry's hash is SHA-256(previous hash ||
 * canonical text); the first entry's previous hash is 32 zero bytes.
 */
#ifndef KEYWORK_AUDIT_H
#define KEYWORK_AUDIT_H

#include <stddef.h>

#define AUDIT_HASH_LEN 32

/*
 * An entry as PostgreSQL's text output gives its columns (borrowed
 * strings; NULL for SQL NULL). at is a timestamptz's text in ISO style,
 * e.g. "2026-05-01 09:30:00.123456+00"; record_ids an array's, "{a,b}".
 */
struct audit_entry {
	const char	*seq;
	const char	*id;
	const char	*at;
	const char	*user_id;
	const char	*client_id;
	const char	*agency_id;
	const char	*roles;
	const char	*action;
	const char	*entity;
	const char	*record_id;
	const char	*record_ids;
	const char	*episode_id;
	const char	*request_id;
	const char	*client_addr;
};

/* Microseconds since 1970-01-01 UTC of a timestamptz's text: 0, or -1. */
int	audit_time_us(const char *at, long long *us)
	    __attribute__((warn_unused_result));

/*
 * The canonical text of e, NUL-terminated, in a buffer the caller frees;
 * NULL if a field is malformed (seq, id or at missing or unreadable).
 */
char	*audit_canon(const struct audit_entry *e);

/* out = SHA-256(prev || canonical text of e): 0, or -1 as audit_canon. */
int	audit_hash(const unsigned char prev[AUDIT_HASH_LEN],
	    const struct audit_entry *e, unsigned char out[AUDIT_HASH_LEN])
	    __attribute__((warn_unused_result));

#endif
