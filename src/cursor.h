/*
 * cursor: opaque keyset-pagination cursors. A cursor carries the sort key of
 * the last row a page held, (created_at, id), as base64url text; clients
 * pass it back unchanged.
 */
#ifndef KEYWORK_CURSOR_H
#define KEYWORK_CURSOR_H

#include <stddef.h>

#define CURSOR_MAX 160

/* Encode (at, id) into out (CURSOR_MAX). 0, or -1 if they do not fit. */
int	cursor_encode(const char *at, const char *id, char *out, size_t outlen)
	    __attribute__((warn_unused_result));

/*
 * Decode a client's cursor into at and id (each CURSOR_MAX). Returns -1 for
 * anything that is not a cursor this module made (the caller answers 400).
 */
int	cursor_decode(const char *cursor, char *at, char *id)
	    __attribute__((warn_unused_result));

#endif
