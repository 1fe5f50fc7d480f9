/*
 * Unit tests of deliver: the webhook signature (checked against an
 * independent HMAC-SHA256, openssl dgst -hmac) and the email message's
 * framing and refusals. Sending itself is tested against real SMTP and
 * HTTP peers by tests/worker.sh.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "deliver.h"

#define SECRET	"0123456789abcdef0123456789abcdef"

Test(deliver, signature_matches_openssl)
{
	char	sig[DELIVER_SIGNATURE_LEN];
	const char *body = "{\"id\":\"e1\"}";

	/* printf '1700000000.{"id":"e1"}' | openssl dgst -sha256 -hmac SECRET */
	cr_assert_eq(deliver_sign(SECRET, 1700000000LL, body, strlen(body), sig), 0);
	cr_assert_str_eq(sig, "v1=fcadad38dca12940650f9081af7453dbfe592646a13009e74c1041db9ecc7c19");
}

Test(deliver, signature_covers_timestamp_and_body)
{
	char	a[DELIVER_SIGNATURE_LEN], b[DELIVER_SIGNATURE_LEN];

	cr_assert_eq(deliver_sign(SECRET, 1, "{}", 2, a), 0);
	cr_assert_eq(deliver_sign(SECRET, 2, "{}", 2, b), 0);
	cr_assert_str_neq(a, b);
	cr_assert_eq(deliver_sign(SECRET, 1, "{ }", 3, b), 0);
	cr_assert_str_neq(a, b);
	cr_assert_eq(deliver_sign(SECRET "x", 1, "{}", 2, b), 0);
	cr_assert_str_neq(a, b);
	cr_assert_eq(strlen(a), DELIVER_SIGNATURE_LEN - 1);
}

Test(deliver, message_headers_and_crlf_body)
{
	char	*m;

	m = deliver_email_message("keywork@example.org", "kw@example.org",
	    "Due today: the assessment", "line one\nline two", "e5e1", 0);
	cr_assert_not_null(m);
	cr_assert(strstr(m, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n") == m);
	cr_assert_not_null(strstr(m, "\r\nFrom: keywork <keywork@example.org>\r\n"));
	cr_assert_not_null(strstr(m, "\r\nTo: <kw@example.org>\r\n"));
	cr_assert_not_null(strstr(m, "\r\nSubject: Due today: the assessment\r\n"));
	cr_assert_not_null(strstr(m, "\r\nMessage-ID: <e5e1@keywork>\r\n"));
	cr_assert_not_null(strstr(m, "\r\n\r\nline one\r\nline two\r\n"));
	/* No bare LF anywhere. */
	for (const char *p = m; *p != '\0'; p++)
		if (*p == '\n')
			cr_assert(p > m && p[-1] == '\r');
	free(m);
}

Test(deliver, message_refuses_header_injection)
{
	cr_assert_null(deliver_email_message("a@x", "b@x\r\nBcc: c@x", "s", "b",
	    "e", 0));
	cr_assert_null(deliver_email_message("a@x", "b@x>", "s", "b", "e", 0));
	cr_assert_null(deliver_email_message("a@x", "b x@y", "s", "b", "e", 0));
	cr_assert_null(deliver_email_message("a@x", "", "s", "b", "e", 0));
	cr_assert_null(deliver_email_message("a@x", "nobody", "s", "b", "e", 0));
	cr_assert_null(deliver_email_message("a@x", "b@x", "s\r\nBcc: c@x", "b",
	    "e", 0));
	cr_assert_null(deliver_email_message("a@x", "b@x", "s", "b", "e>", 0));
}
