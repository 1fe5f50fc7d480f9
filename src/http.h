/*
 * http: keywork's HTTP layer on Kore.
 *
 * One Kore route takes every request. kw_http_dispatch routes it by
 * openapi.yaml, and before any handler runs checks what every request needs:
 * body size, content type, JSON syntax, the body's schema, path, query and
 * header parameters, and the shape of the bearer token. Then it calls the
 * operation's handler. A handler either replies, or starts one statement
 * with kw_call and names the continuation that receives its result; the
 * request sleeps meanwhile, so a worker never waits on the database.
 */
#ifndef KEYWORK_HTTP_H
#define KEYWORK_HTTP_H

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/pgsql.h>
#include <kore/tasks.h>

#include <jansson.h>

#include "db.h"
#include "metrics.h"
#include "openapi.h"
#include "token.h"

/* What handlers and continuations return. */
#define KW_DONE	0	/* a response has been set */
#define KW_WAIT	1	/* a statement is in flight */

struct kw_req;

typedef int (*kw_handler)(struct kw_req *);
/* Receives the statement's successful result (borrowed, freed after). */
typedef int (*kw_cont)(struct kw_req *, PGresult *);

/*
 * CPU-heavy work (password hashing) run on one of Kore's task threads so
 * that the worker's event loop goes on serving. It must not touch Kore,
 * Jansson values shared with the request, or the request itself.
 */
typedef int (*kw_work_fn)(void *arg);
/* Resumes the request with the work's return value. */
typedef int (*kw_work_cont)(struct kw_req *, int rc);

struct kw_work {
	struct kore_task	 task;	/* first: the thread is handed &task */
	kw_work_fn		 fn;
	void			*arg;
	int			 rc;
};

struct kw_req {
	struct http_request	*req;
	struct openapi_op	*op;
	json_t			*params;	/* owned: {path, query, header} */
	json_t			*body;		/* owned: the JSON body or NULL */
	char			 request_id[72];
	char			 addr[64];
	char			 token_hash[TOKEN_HASH_LEN + 1];
	/* "user:<id>" or "client:<id>" once authenticated, for the log. */
	char			 caller[48];

	/* The statement in flight. */
	struct kore_pgsql	 sql;
	int			 sql_bound;
	int			 sql_state;
	char			 stmt[256];
	int			 nparams;
	char			*vals[DB_MAX_PARAMS];	/* owned copies */
	kw_cont			 cont;
	/*
	 * When set (before kw_call; it holds for every statement of the
	 * request), a failed statement calls this with the error result
	 * (borrowed), or NULL when there was no connection, instead of
	 * replying with the error.
	 */
	kw_cont			 fail_cont;
	PGresult		*result;	/* kept until the statement ends */
	int			 failed;
	/* One binary parameter (borrowed: the request's body), and results in
	 * binary format; see kw_call_blob. */
	const void		*blob;
	int			 blob_len;
	int			 blob_at;
	int			 binary_result;
	/* Set by a continuation that keeps the result past its return. */
	int			 result_taken;

	/* Work on a task thread. */
	struct kw_work		 work;
	int			 working;
	kw_work_cont		 work_cont;

	/* Handler scratch space, freed with the request. */
	void			*arg;
	void			(*arg_free)(void *);

	int			 status;
	int			 error_status;	/* non-zero: every database error answers this */
	u_int64_t		 started_us;	/* monotonic, at arrival */
	u_int64_t		 queued_us;	/* since when it waits for a connection, or 0 */
	int			 conn_held;	/* the statement holds a connection */
	const void		*db_conn;	/* which (Kore's; identity only) */
};

/* The Kore route handler for every path (see the generated Kore config). */
int	kw_http_dispatch(struct http_request *);

/*
 * The Kore server (listener) name of the internal listener. Operations
 * marked x-keywork-internal in the spec are served on it only, and only
 * they are: every other request there, and theirs elsewhere, is a 404.
 */
#define KW_INTERNAL_SERVER	"internal"

/*
 * In a worker, once at start: its metrics slot (Kore's worker id less one)
 * and a fresh database pool account.
 */
void	kw_http_worker_start(size_t slot);

/*
 * The exposition of the server's metrics, with the outbox counts (borrowed,
 * may be NULL): see metrics_render. Returns a malloc'd string.
 */
char	*kw_metrics_text(const json_t *outbox, size_t *len);

/* Whether a statement could start now without waiting for a connection. */
int	kw_db_conn_free(void);

/*
 * Start "SELECT * FROM api.<fn>(...)". With auth, the first three arguments
 * are the caller's token hash, the request id and the client address, and
 * nargs more follow from args (NULL elements are SQL NULL). Copies the
 * arguments. Returns KW_WAIT, or KW_DONE after replying 500 itself.
 */
int	kw_call(struct kw_req *, const char *fn, int auth, kw_cont cont,
	    int nargs, const char **args);

/*
 * kw_call with one more argument, blob (blob_len bytes), sent as a binary
 * parameter after args: no copy, no encoding. blob must live as long as
 * the request (the request's own body does). With binary_result, the
 * result comes in binary format (bytea as raw bytes).
 */
int	kw_call_blob(struct kw_req *, const char *fn, kw_cont cont, int nargs,
	    const char **args, const void *blob, size_t blob_len,
	    int binary_result);

/*
 * Send len bytes at data as the response without copying them, then
 * PQclear(res), which must hold them: the continuation that calls this
 * hands res over (it is not freed when the continuation returns).
 */
int	kw_reply_result(struct kw_req *, int status, const char *content_type,
	    PGresult *res, const void *data, size_t len);

/* The request body as received (uploads), and its length. */
const void	*kw_body_raw(struct kw_req *, size_t *len);

/*
 * Run fn(arg) on a task thread; the request sleeps until it is done, then
 * cont runs with fn's return value. arg must stay valid until then (keep it
 * in r->arg). Returns KW_WAIT.
 */
int	kw_offload(struct kw_req *, kw_work_fn fn, void *arg, kw_work_cont cont);

/* Replies. Each returns KW_DONE. body is stolen (decref'd). */
int	kw_reply_json(struct kw_req *, int status, json_t *body);
int	kw_reply_empty(struct kw_req *, int status);
int	kw_reply_raw(struct kw_req *, int status, const char *content_type,
	    const void *data, size_t len);
int	kw_reply_problem(struct kw_req *, int status, const char *detail);

/*
 * A file held in memory for the life of the worker, sent without a copy:
 * 200 with its ETag and Cache-Control no-cache (a browser asks again each
 * time, and gets 304 with no body while If-None-Match names etag), and the
 * Content-Security-Policy csp unless it is NULL.
 */
int	kw_reply_static(struct kw_req *, const char *content_type,
	    const char *etag, const char *csp, const void *data, size_t len);
int	kw_reply_db_error(struct kw_req *, const struct db_error *);

/* Typed views of validated parameters; NULL when absent. */
const char	*kw_path(struct kw_req *, const char *name);
json_t		*kw_query(struct kw_req *, const char *name);	/* borrowed */
const char	*kw_header(struct kw_req *, const char *name);	/* raw request header */

/*
 * The statement's single jsonb column 0 of row 0 parsed (owned), or NULL
 * for SQL NULL / no row. Column 1, if present and not NULL, is an ETag,
 * copied into etag (at least 64 bytes) when etag is non-NULL.
 */
json_t	*kw_result_json(PGresult *, char *etag, size_t etaglen);

/* The server's loaded spec (set at start-up). */
extern struct openapi *kw_spec;

/* Shared by the workers; made in the parent at start-up (see metrics.h). */
extern struct metrics *kw_metrics;
/* The rate limits' buckets, shared by the workers (see ratelimit.h). */
extern struct ratelimit *kw_ratelimit;
/* Kore's worker processes, each with its slot (set in the parent). */
extern int kw_workers;
/* When the server started, Unix seconds (set in the parent). */
extern double kw_started_at;

#endif
