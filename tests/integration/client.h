/*
 * client: the integration tests' HTTP client (libcurl) against the running
 * server at $KEYWORK_TEST_URL. Every response it returns has already been
 * checked against openapi.yaml: a documented status, an X-Request-Id, a
 * body matching the operation's schema for that status, and a problem+json
 * body for every error. A response that breaks the spec fails the test.
 */
#ifndef KEYWORK_TEST_CLIENT_H
#define KEYWORK_TEST_CLIENT_H

#include <stddef.h>
#include <jansson.h>

struct resp {
	long	 status;
	char	*raw;		/* body bytes, NUL-terminated */
	size_t	 len;
	json_t	*json;		/* parsed body, or NULL */
	char	*headers;	/* raw header block */
	double	 seconds;	/* total time */
};

/*
 * One request. body may be NULL. headers is a NULL-terminated list of
 * "Name: value" lines (may be NULL). token, if non-NULL, is sent as a bearer
 * token. content_type defaults to application/json when a body is given;
 * pass "" to send none.
 */
struct resp	*kwt_request(const char *method, const char *path,
		    const char *token, const char *content_type,
		    const char *body, const char *const *headers);

/*
 * The same without the spec check, for answers Kore gives itself before the
 * module sees the request (an unknown method, a URI over Kore's limit, a
 * request without Content-Length): those have an empty body and no
 * X-Request-Id. It still fails the test when the connection drops.
 */
struct resp	*kwt_request_raw(const char *method, const char *path,
		    const char *token, const char *content_type,
		    const char *body, const char *const *headers);

/* The same from a source address of the loopback range (e.g. 127.0.0.2). */
struct resp	*kwt_request_from(const char *source, const char *method,
		    const char *path, const char *token,
		    const char *content_type, const char *body,
		    const char *const *headers);

/*
 * The same to the server at base (e.g. $KEYWORK_TEST_LIMITED_URL) instead
 * of $KEYWORK_TEST_URL, from source when it is not NULL.
 */
struct resp	*kwt_request_at(const char *base, const char *source,
		    const char *method, const char *path, const char *token,
		    const char *content_type, const char *body,
		    const char *const *headers);

/*
 * kwt_request with a binary body of len bytes (NUL bytes and all), e.g. a
 * document upload; content_type as for kwt_request.
 */
struct resp	*kwt_request_bin(const char *method, const char *path,
		    const char *token, const char *content_type,
		    const void *body, size_t len, const char *const *headers);

/*
 * A request without a body to the server's internal listener (monitoring)
 * at $KEYWORK_TEST_METRICS_URL, checked against the spec like kwt_request.
 */
struct resp	*kwt_request_internal(const char *method, const char *path);

/* A response header's value (owned by resp), or NULL. Case-insensitive. */
const char	*kwt_header(struct resp *, const char *name);
void		 kwt_free(struct resp *);

/* Sign in (asserting 200) and return the access token (caller frees). */
char		*kwt_login(const char *email, const char *password);
/* Sign in and return the whole token response (caller decrefs). */
json_t		*kwt_login_json(const char *email, const char *password);

/* The demo data's password. */
#define KWT_DEMO_PASSWORD "keywork-demo"

/* A fresh unique suffix for names and emails in this test run. */
const char	*kwt_unique(void);

/* JSON field helpers: string member of the response body (asserting it is one). */
const char	*kwt_str(struct resp *, const char *member);

/* A JSON text built by json_pack's format (caller frees). */
char		*kwt_json(const char *fmt, ...);

/* The first area's and agency's ids (37 bytes each), as tok sees them. */
void		 kwt_demo_ids(const char *tok, char *area, char *agency);

#endif
