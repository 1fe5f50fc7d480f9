/*
 * audit: the canonical text and chained hash agree with kw.audit_canon and
 * kw.audit_seal. The expected values were computed by PostgreSQL from the
 * same entry (sql/migrations/0013_audit.sql), with a separator and a
 * backslash in a text field, NULLs, and a two-element array.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "audit.h"

static const struct audit_entry entry = {
	.seq = "7",
	.id = "41",
	.at = "2026-09-04 09:12:31.2045+00",
	.user_id = "3c6f2a8e-9b1d-4e5f-8a7c-2d1e0f9b8a76",
	.client_id = NULL,
	.agency_id = "0ee3deeb-190f-4c84-8068-64ab8ee998c2",
	.roles = "practitioner,manager",
	.action = "read",
	.entity = "note",
	.record_id = NULL,
	.record_ids = "{7a1e3c55-2b4d-4c6f-8e9a-1b2c3d4e5f60,"
	    "25bd77fd-5a4c-4b8e-9d1f-2c3b4a5d6e7f}",
	.episode_id = "25bd77fd-5a4c-4b8e-9d1f-2c3b4a5d6e7f",
	.request_id = "req|1\\x",
	.client_addr = "203.0.113.24",
};

static void
hex(const unsigned char *h, char *out)
{
	int	i;

	for (i = 0; i < AUDIT_HASH_LEN; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

Test(audit, canonical_text_as_sql)
{
	char	*c = audit_canon(&entry);

	cr_assert_not_null(c);
	cr_assert_str_eq(c, "7|41|1788513151204500|"
	    "3c6f2a8e-9b1d-4e5f-8a7c-2d1e0f9b8a76|\\N|"
	    "0ee3deeb-190f-4c84-8068-64ab8ee998c2|practitioner,manager|read|note|"
	    "\\N|7a1e3c55-2b4d-4c6f-8e9a-1b2c3d4e5f60,"
	    "25bd77fd-5a4c-4b8e-9d1f-2c3b4a5d6e7f|"
	    "25bd77fd-5a4c-4b8e-9d1f-2c3b4a5d6e7f|req\\|1\\\\x|203.0.113.24");
	free(c);
}

Test(audit, hash_chains_on_the_previous_hash)
{
	unsigned char	prev[AUDIT_HASH_LEN], h[AUDIT_HASH_LEN];
	char		s[2 * AUDIT_HASH_LEN + 1];

	memset(prev, 0, sizeof(prev));
	cr_assert_eq(audit_hash(prev, &entry, h), 0);
	hex(h, s);
	cr_assert_str_eq(s, "548d91d5bebf8bc9607bfa699bf6546771b298c47776409ca305a4de7ec0a77b");
	memset(prev, 0xab, sizeof(prev));
	cr_assert_eq(audit_hash(prev, &entry, h), 0);
	hex(h, s);
	cr_assert_str_eq(s, "3634e69b5d6ec702d73a4864858d4cbc9e9fca8b397678adbdef5bfbcb5e06e1");
}

Test(audit, times_in_any_offset_and_precision)
{
	long long	us;

	cr_assert_eq(audit_time_us("1970-01-01 00:00:00+00", &us), 0);
	cr_assert_eq(us, 0);
	cr_assert_eq(audit_time_us("2026-09-04 10:12:31.2045+01", &us), 0);
	cr_assert_eq(us, 1788513151204500LL);
	cr_assert_eq(audit_time_us("2026-09-04 03:42:31.204500-05:30", &us), 0);
	cr_assert_eq(us, 1788513151204500LL);
	cr_assert_eq(audit_time_us("1969-12-31 23:59:59.999999+00", &us), 0);
	cr_assert_eq(us, -1);
}

Test(audit, refuses_what_it_cannot_read)
{
	struct audit_entry	e = entry;
	long long		us;

	cr_assert_eq(audit_time_us("2026-09-04T09:12:31Z", &us), -1);
	cr_assert_eq(audit_time_us("2026-09-04 09:12:31.1234567+00", &us), -1);
	cr_assert_eq(audit_time_us("2026-09-04 09:12:31+00x", &us), -1);
	cr_assert_eq(audit_time_us(NULL, &us), -1);
	e.seq = NULL;
	cr_assert_null(audit_canon(&e));
	e = entry;
	e.at = "yesterday";
	cr_assert_null(audit_canon(&e));
}

Test(audit, empty_and_null_arrays_differ)
{
	struct audit_entry	e = entry;
	char			*a, *b;

	e.record_ids = "{}";
	a = audit_canon(&e);
	e.record_ids = NULL;
	b = audit_canon(&e);
	cr_assert_not_null(strstr(a, "|note|\\N||25bd"));
	cr_assert_not_null(strstr(b, "|note|\\N|\\N|25bd"));
	free(a);
	free(b);
}
