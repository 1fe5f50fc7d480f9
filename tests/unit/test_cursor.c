/*
 * cursor: opaque keyset cursors round-trip and refuse anything else.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "cursor.h"

Test(cursor, round_trip)
{
	char	c[CURSOR_MAX], at[CURSOR_MAX], id[CURSOR_MAX];

	cr_assert_eq(cursor_encode("2026-11-23T01:06:05.05934+00:00",
	    "1dfe31a1-a2f6-493a-99b2-62405332ff93", c, sizeof(c)), 0);
	cr_assert(strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == strlen(c), "not base64url: %s", c);
	cr_assert_eq(cursor_decode(c, at, id), 0);
	cr_assert_str_eq(at, "2026-11-23T01:06:05.05934+00:00");
	cr_assert_str_eq(id, "1dfe31a1-a2f6-493a-99b2-62405332ff93");
}

Test(cursor, refuses_foreign_cursors)
{
	static const char *const bad[] = {
		"", "a", "!!!!", "bm90IGEgY3Vyc29y",	/* "not a cursor" */
		"eHw",					/* "x|" */
		/* "x|' OR 1=1 --...": characters a cursor never holds */
		"eHwnIE9SIDE9MSAtLWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh",
		NULL,
	};
	char	at[CURSOR_MAX], id[CURSOR_MAX], longc[400];
	size_t	i;

	for (i = 0; bad[i] != NULL; i++)
		cr_assert_eq(cursor_decode(bad[i], at, id), -1, "%s", bad[i]);
	memset(longc, 'A', sizeof(longc) - 1);
	longc[sizeof(longc) - 1] = '\0';
	cr_assert_eq(cursor_decode(longc, at, id), -1);
}

Test(cursor, refuses_values_that_do_not_fit)
{
	char	c[16], big[200];

	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(cursor_encode("2026-01-01", "x", c, sizeof(c)), -1);
	cr_assert_eq(cursor_encode(big, "x", c, sizeof(c)), -1);
}
