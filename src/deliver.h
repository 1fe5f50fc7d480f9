/*
 * deliver: sending one reminder by email (SMTP through libcurl) or by
 * webhook (an HTTP POST signed with HMAC-SHA256). No database here: the
 * worker claims deliveries and records what happened.
 *
 * Webhook signature: the receiver recomputes
 *   hex(HMAC-SHA256(secret, timestamp "." body))
 * and compares it with the Keywork-Signature header ("v1=" hex), and checks
 * Keywork-Timestamp (Unix seconds) is recent. Keywork-Event-Id names the
 * event; a re-delivery carries the same one.
 */
#ifndef KEYWORK_DELIVER_H
#define KEYWORK_DELIVER_H

#include <stddef.h>
#include <time.h>

#include <curl/curl.h>

/* "v1=" + 64 hex digits + NUL */
#define DELIVER_SIGNATURE_LEN	(3 + 64 + 1)

struct deliver_smtp {
	const char	*url;		/* smtp://host:port or smtps://... */
	int		 starttls;	/* require TLS on smtp:// */
	const char	*username;	/* "" or NULL: no AUTH */
	const char	*password;
	const char	*from;
	const char	*ca_file;	/* "" or NULL: the system's CAs */
	long		 timeout;	/* seconds */
};

/* Write "v1=<hex>" for timestamp and body into out. Returns 0 or -1. */
int	deliver_sign(const char *secret, long long timestamp, const char *body,
	    size_t bodylen, char out[DELIVER_SIGNATURE_LEN]);

/*
 * Build the RFC 5322 message of a reminder: CRLF line ends, Message-ID
 * made of event_id. Returns a malloc'd string, or NULL when an argument
 * would break the message (CR, LF or angle brackets in an address,
 * CR or LF in the subject).
 */
char	*deliver_email_message(const char *from, const char *to,
	    const char *subject, const char *body, const char *event_id,
	    time_t now);

/*
 * Send one message to one recipient. Returns 0 when the server accepted
 * it, or -1 with a reason (no address, no content) in err.
 */
int	deliver_email(CURL *, const struct deliver_smtp *, const char *to,
	    const char *subject, const char *body, const char *event_id,
	    char *err, size_t errlen);

/*
 * POST body to url, signed. allow_http: plain http:// is allowed.
 * Returns 0 on a 2xx answer, or -1 with a reason in err.
 */
int	deliver_webhook(CURL *, const char *url, const char *secret,
	    const char *event_id, const char *event_type, const char *body,
	    long timeout, int allow_http, char *err, size_t errlen);

#endif
