/*
 * deliver: see deliver.h.
 *
 * One CURL handle per channel is reused across deliveries, so a batch to
 * the same SMTP server or receiver keeps its connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "deliver.h"
#include "xmalloc.h"

struct deliver_upload {
	const char	*data;
	size_t		 len;
	size_t		 off;
};

static size_t	deliver_read(char *, size_t, size_t, void *);
static size_t	deliver_discard(char *, size_t, size_t, void *);
static int	deliver_clean_address(const char *);
static void	deliver_curl_error(CURLcode, const char *, char *, size_t);

int
deliver_sign(const char *secret, long long timestamp, const char *body,
    size_t bodylen, char out[DELIVER_SIGNATURE_LEN])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 mac[EVP_MAX_MD_SIZE];
	unsigned int		 maclen = 0, i;
	char			 ts[32];
	unsigned char		*msg;
	size_t			 tslen;
	int			 n;

	n = snprintf(ts, sizeof(ts), "%lld.", timestamp);
	if (n < 0 || (size_t)n >= sizeof(ts))
		return -1;
	tslen = (size_t)n;
	msg = xmalloc(tslen + bodylen + 1);
	memcpy(msg, ts, tslen);
	memcpy(msg + tslen, body, bodylen);
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, tslen + bodylen,
	    mac, &maclen) == NULL || maclen != 32) {
		free(msg);
		return -1;
	}
	free(msg);
	memcpy(out, "v1=", 3);
	for (i = 0; i < maclen; i++) {
		out[3 + 2 * i] = hex[mac[i] >> 4];
		out[3 + 2 * i + 1] = hex[mac[i] & 0xf];
	}
	out[3 + 2 * maclen] = '\0';
	return 0;
}

/* An address fit for a header and an SMTP envelope: no controls, no <>. */
static int
deliver_clean_address(const char *a)
{
	const unsigned char	*p;

	if (a == NULL || *a == '\0' || strchr(a, '@') == NULL)
		return 0;
	for (p = (const unsigned char *)a; *p != '\0'; p++) {
		if (*p < 0x21 || *p == 0x7f || *p == '<' || *p == '>' || *p == ',')
			return 0;
	}
	return 1;
}

char *
deliver_email_message(const char *from, const char *to, const char *subject,
    const char *body, const char *event_id, time_t now)
{
	struct tm	 tm;
	char		 date[64];
	char		*msg, *w;
	const char	*p;
	size_t		 len;
	int		 n;

	if (!deliver_clean_address(from) || !deliver_clean_address(to) ||
	    strpbrk(subject, "\r\n") != NULL ||
	    strpbrk(event_id, "\r\n<>@") != NULL)
		return NULL;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);

	/* Headers, then the body with every LF made CRLF. */
	len = strlen(date) + strlen(from) + strlen(to) + strlen(subject) +
	    2 * strlen(event_id) + 512 + 2 * strlen(body);
	msg = xmalloc(len);
	n = snprintf(msg, len,
	    "Date: %s\r\n"
	    "From: keywork <%s>\r\n"
	    "To: <%s>\r\n"
	    "Subject: %s\r\n"
	    "Message-ID: <%s@keywork>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "X-Keywork-Event-Id: %s\r\n"
	    "\r\n", date, from, to, subject, event_id, event_id);
	if (n < 0 || (size_t)n >= len) {
		free(msg);
		return NULL;
	}
	w = msg + n;
	for (p = body; *p != '\0'; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n')
			*w++ = '\r';
		*w++ = *p;
	}
	if (w == msg + n || w[-1] != '\n') {
		*w++ = '\r';
		*w++ = '\n';
	}
	*w = '\0';
	return msg;
}

static size_t
deliver_read(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct deliver_upload	*u = arg;
	size_t			 n = size * nmemb;

	if (n > u->len - u->off)
		n = u->len - u->off;
	memcpy(buf, u->data + u->off, n);
	u->off += n;
	return n;
}

static size_t
deliver_discard(char *buf, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

static void
deliver_curl_error(CURLcode rc, const char *detail, char *err, size_t errlen)
{
	if (detail != NULL && *detail != '\0')
		snprintf(err, errlen, "%s: %s", curl_easy_strerror(rc), detail);
	else
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
}

int
deliver_email(CURL *c, const struct deliver_smtp *smtp, const char *to,
    const char *subject, const char *body, const char *event_id, char *err,
    size_t errlen)
{
	struct deliver_upload	 up;
	struct curl_slist	*rcpt = NULL;
	char			 errbuf[CURL_ERROR_SIZE] = "";
	char			 addr[300];
	char			*msg;
	CURLcode		 rc;
	int			 ret = -1;

	msg = deliver_email_message(smtp->from, to, subject, body, event_id,
	    time(NULL));
	if (msg == NULL) {
		snprintf(err, errlen, "the recipient or sender address is not "
		    "fit for mail");
		return -1;
	}
	snprintf(addr, sizeof(addr), "<%s>", to);
	rcpt = curl_slist_append(NULL, addr);
	snprintf(addr, sizeof(addr), "<%s>", smtp->from);

	up.data = msg;
	up.len = strlen(msg);
	up.off = 0;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, smtp->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, addr);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, deliver_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.len);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, smtp->timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, smtp->timeout);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (smtp->starttls)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (smtp->ca_file != NULL && *smtp->ca_file != '\0')
		curl_easy_setopt(c, CURLOPT_CAINFO, smtp->ca_file);
	if (smtp->username != NULL && *smtp->username != '\0') {
		curl_easy_setopt(c, CURLOPT_USERNAME, smtp->username);
		curl_easy_setopt(c, CURLOPT_PASSWORD,
		    smtp->password != NULL ? smtp->password : "");
	}
	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		deliver_curl_error(rc, errbuf, err, errlen);
		goto out;
	}
	ret = 0;
out:
	curl_slist_free_all(rcpt);
	free(msg);
	return ret;
}

int
deliver_webhook(CURL *c, const char *url, const char *secret,
    const char *event_id, const char *event_type, const char *body,
    long timeout, int allow_http, char *err, size_t errlen)
{
	struct curl_slist	*h = NULL;
	char			 sig[DELIVER_SIGNATURE_LEN];
	char			 line[160], errbuf[CURL_ERROR_SIZE] = "";
	long long		 now = (long long)time(NULL);
	long			 status = 0;
	CURLcode		 rc;
	int			 ret = -1;

	if (deliver_sign(secret, now, body, strlen(body), sig) == -1) {
		snprintf(err, errlen, "cannot sign the body");
		return -1;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "User-Agent: keywork-worker");
	h = curl_slist_append(h, "Expect:");
	snprintf(line, sizeof(line), "Keywork-Event-Id: %s", event_id);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "Keywork-Event-Type: %s", event_type);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "Keywork-Timestamp: %lld", now);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "Keywork-Signature: %s", sig);
	h = curl_slist_append(h, line);

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, allow_http ? "http,https" :
	    "https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, deliver_discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		deliver_curl_error(rc, errbuf, err, errlen);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		snprintf(err, errlen, "the receiver answered HTTP %ld", status);
		goto out;
	}
	ret = 0;
out:
	curl_slist_free_all(h);
	return ret;
}
