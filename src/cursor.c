/*
 * cursor: see cursor.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"

static const char cursor_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int	cursor_b64_value(int);

static int
cursor_b64_value(int c)
{
	const char	*p;

	if (c == '\0' || (p = strchr(cursor_b64, c)) == NULL)
		return -1;
	return (int)(p - cursor_b64);
}

int
cursor_encode(const char *at, const char *id, char *out, size_t outlen)
{
	char		 raw[CURSOR_MAX];
	size_t		 i, o = 0, n;
	unsigned	 v;
	int		 len;

	len = snprintf(raw, sizeof(raw), "%s|%s", at, id);
	if (len < 0 || (size_t)len >= sizeof(raw) || (size_t)len * 4 / 3 + 4 > outlen)
		return -1;
	n = (size_t)len;
	for (i = 0; i < n; i += 3) {
		v = (unsigned)(unsigned char)raw[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)(unsigned char)raw[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned)(unsigned char)raw[i + 2];
		out[o++] = cursor_b64[(v >> 18) & 63];
		out[o++] = cursor_b64[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = cursor_b64[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = cursor_b64[v & 63];
	}
	out[o] = '\0';
	return 0;
}

int
cursor_decode(const char *cursor, char *at, char *id)
{
	char		 raw[CURSOR_MAX];
	const char	*bar;
	size_t		 len, i, o = 0;
	unsigned	 v;
	int		 k, c, bits = 0;

	len = strlen(cursor);
	if (len == 0 || len > CURSOR_MAX || len % 4 == 1)
		return -1;
	v = 0;
	for (i = 0; i < len; i++) {
		if ((k = cursor_b64_value((unsigned char)cursor[i])) < 0)
			return -1;
		v = (v << 6) | (unsigned)k;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= sizeof(raw) - 1)
				return -1;
			raw[o++] = (char)((v >> bits) & 0xff);
		}
	}
	raw[o] = '\0';
	if (strlen(raw) != o || (bar = strchr(raw, '|')) == NULL)
		return -1;
	/* Only the characters a timestamp and a uuid are made of. */
	for (i = 0; i < o; i++) {
		c = (unsigned char)raw[i];
		if (!isalnum(c) && strchr("-:.+ |T", c) == NULL)
			return -1;
	}
	/* The key after the bar: a uuid, or a composite key of such parts. */
	if ((size_t)(bar - raw) >= CURSOR_MAX || strlen(bar + 1) == 0 ||
	    strlen(bar + 1) >= CURSOR_MAX)
		return -1;
	memcpy(at, raw, (size_t)(bar - raw));
	at[bar - raw] = '\0';
	snprintf(id, CURSOR_MAX, "%s", bar + 1);
	return 0;
}
