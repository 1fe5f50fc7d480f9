/*
 * http: see http.h.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "assets.h"
#include "config.h"
#include "http.h"
#include "jsonlimit.h"
#include "log.h"
#include "problem.h"
#include "ratelimit.h"

#include <openssl/rand.h>

/* Where a statement is: not yet sent, or sent and awaited. */
#define KW_ST_NEW	0
#define KW_ST_SQL	1

#define KW_DB_NAME	"db"

/* The API's answers load nothing and may not be framed. */
#define KW_API_CSP	"default-src 'none'; frame-ancestors 'none'"

struct openapi *kw_spec;
struct metrics *kw_metrics;
struct ratelimit *kw_ratelimit;
int		kw_workers;
double		kw_started_at;

/*
 * This worker's database pool, as the requests see it: Kore opens a
 * connection on first need (up to pgsql_conn_max) and keeps it until it
 * fails, and does not say how many it holds, so the connections this
 * worker has been handed and not seen fail are remembered here.
 */
static struct {
	size_t		 slot;		/* in kw_metrics */
	const void	*conns[256];	/* Kore's pgsql_conn, never dereferenced */
	int		 open;
	int		 busy;
	int		 queued;
	const char	**op_names;	/* for the exposition */
} kw_pool;

static void		 kw_req_free(struct http_request *);
static int		 kw_begin(struct kw_req *);
static int		 kw_check_body(struct kw_req *);
static int		 kw_check_upload(struct kw_req *, size_t);
static int		 kw_call_start(struct kw_req *, const char *, int,
			    kw_cont, int, const char **, const void *, size_t, int);
static int		 kw_sql_send(struct kw_req *);
static int		 kw_stream_done(struct netbuf *);
static int		 kw_check_auth(struct kw_req *);
static int		 kw_sql_step(struct kw_req *);
static int		 kw_work_step(struct kw_req *);
static int		 kw_work_entry(struct kore_task *);
static void		 kw_sql_reset(struct kw_req *);
static int		 kw_finish(struct kw_req *, int);
static void		 kw_request_id(struct kw_req *);
static void		 kw_client_addr(struct kw_req *);
static int		 kw_on_internal(struct kw_req *);
static unsigned		 kw_method_bit(int);
static u_int64_t	 kw_now_us(void);
static void		 kw_pool_publish(void);
static void		 kw_pool_acquired(struct kw_req *);
static void		 kw_pool_released(struct kw_req *);
static void		 kw_pool_failed(struct kw_req *, const void *);
static void		 kw_pool_unqueue(struct kw_req *);
static void		 kw_notice(void *, const PGresult *);
static void		 kw_notice_drop(void *, const PGresult *);
static void		 kw_notice_release(struct kw_req *);
static const char	*kw_header_cb(void *, const char *);
static void		 kw_common_headers(struct kw_req *, const char *,
			    const char *);
static int		 kw_rate_limited(struct kw_req *, const char *,
			    const void *, size_t, int, int);

int
kw_http_dispatch(struct http_request *req)
{
	struct kw_req	*r;

	if (!http_state_exists(req)) {
		r = http_state_create(req, sizeof(*r), kw_req_free);
		r->req = req;
		r->started_us = kw_now_us();
		kore_pgsql_init(&r->sql);
		return kw_finish(r, kw_begin(r));
	}
	r = http_state_get(req);
	if (r->working)
		return kw_finish(r, kw_work_step(r));
	return kw_finish(r, kw_sql_step(r));
}

int
kw_offload(struct kw_req *r, kw_work_fn fn, void *arg, kw_work_cont cont)
{
	r->work.fn = fn;
	r->work.arg = arg;
	r->work.rc = -1;
	r->work_cont = cont;
	r->working = 1;
	kore_task_create(&r->work.task, kw_work_entry);
	kore_task_bind_request(&r->work.task, r->req);
	kore_task_run(&r->work.task);
	return KW_WAIT;
}

/* On the task thread. */
static int
kw_work_entry(struct kore_task *t)
{
	struct kw_work	*w = (struct kw_work *)t;

	w->rc = w->fn(w->arg);
	return KORE_RESULT_OK;
}

static int
kw_work_step(struct kw_req *r)
{
	if (kore_task_state(&r->work.task) != KORE_TASK_STATE_FINISHED)
		return KW_WAIT;
	r->working = 0;
	kore_task_destroy(&r->work.task);
	return r->work_cont(r, r->work.rc);
}

/* Map a handler's answer to Kore's: retry while a statement is in flight. */
static int
kw_finish(struct kw_req *r, int rc)
{
	u_int64_t	us;

	if (rc == KW_WAIT)
		return KORE_RESULT_RETRY;
	us = kw_now_us() - r->started_us;
	metrics_request(kw_metrics, kw_pool.slot, r->op != NULL ? r->op->index :
	    openapi_op_count(kw_spec), r->status, us);
	log_request(r->request_id, http_method_text(r->req->method),
	    r->op != NULL ? r->op->operation_id : NULL, r->status,
	    (double)us / 1000.0, r->caller[0] != '\0' ? r->caller : NULL);
	return KORE_RESULT_OK;
}

static u_int64_t
kw_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u_int64_t)ts.tv_sec * 1000000 + (u_int64_t)ts.tv_nsec / 1000;
}

void
kw_http_worker_start(size_t slot)
{
	memset(&kw_pool, 0, sizeof(kw_pool));
	kw_pool.slot = slot;
	metrics_worker_start(kw_metrics, slot);
}

int
kw_db_conn_free(void)
{
	return kw_pool.queued == 0 && kw_pool.busy < pgsql_conn_max;
}

char *
kw_metrics_text(const json_t *outbox, size_t *len)
{
	struct metrics_info	 info;
	size_t			 i, n = openapi_op_count(kw_spec);

	if (kw_pool.op_names == NULL) {
		kw_pool.op_names = kore_calloc(n + 1, sizeof(char *));
		for (i = 0; i < n; i++)
			kw_pool.op_names[i] =
			    openapi_op_at(kw_spec, i)->operation_id;
	}
	memset(&info, 0, sizeof(info));
	info.version = json_string_value(json_object_get(json_object_get(
	    openapi_document(kw_spec), "info"), "version"));
	info.start_time = kw_started_at;
	info.workers = kw_workers;
	info.db_connections = pgsql_conn_max;
	return metrics_render(kw_metrics, kw_pool.op_names, &info, outbox, len);
}

static void
kw_pool_publish(void)
{
	metrics_pool(kw_metrics, kw_pool.slot, kw_pool.open, kw_pool.busy,
	    kw_pool.queued);
}

/* The statement has its connection: count it, and the wait for it. */
static void
kw_pool_acquired(struct kw_req *r)
{
	u_int64_t	now = kw_now_us();
	int		i;

	metrics_db_wait(kw_metrics, kw_pool.slot,
	    r->queued_us != 0 ? now - r->queued_us : 0);
	kw_pool_unqueue(r);
	r->conn_held = 1;
	r->db_conn = r->sql.conn;
	kw_pool.busy++;
	for (i = 0; i < kw_pool.open; i++) {
		if (kw_pool.conns[i] == r->sql.conn)
			break;
	}
	if (i == kw_pool.open && kw_pool.open < (int)(sizeof(kw_pool.conns) /
	    sizeof(kw_pool.conns[0])))
		kw_pool.conns[kw_pool.open++] = r->sql.conn;
	kw_pool_publish();
	/* Notices on this connection are for this request until released. */
	PQsetNoticeReceiver(r->sql.conn->db, kw_notice, r);
}

/*
 * A NOTICE on the request's connection. kw.authenticate names the caller
 * in one (see sql/migrations/0012_metrics.sql); any other notice is
 * dropped, not printed: its text may quote data.
 */
static void
kw_notice(void *arg, const PGresult *res)
{
	struct kw_req	*r = arg;
	const char	*msg, *detail, *p;

	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	if (msg == NULL || strcmp(msg, "kw.identity") != 0 || detail == NULL ||
	    strlen(detail) >= sizeof(r->caller))
		return;
	for (p = detail; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != ':')
			return;
	}
	memcpy(r->caller, detail, strlen(detail) + 1);
}

static void
kw_notice_drop(void *arg, const PGresult *res)
{
}

/* Before the connection goes back to the pool. */
static void
kw_notice_release(struct kw_req *r)
{
	if (r->sql.conn != NULL && r->sql.conn->db != NULL)
		PQsetNoticeReceiver(r->sql.conn->db, kw_notice_drop, NULL);
}

static void
kw_pool_released(struct kw_req *r)
{
	if (!r->conn_held)
		return;
	r->conn_held = 0;
	kw_pool.busy--;
	kw_pool_publish();
}

/* Kore closed the connection the statement held (conn, now gone). */
static void
kw_pool_failed(struct kw_req *r, const void *conn)
{
	int	i;

	kw_pool_released(r);
	for (i = 0; i < kw_pool.open; i++) {
		if (kw_pool.conns[i] == conn) {
			kw_pool.conns[i] = kw_pool.conns[--kw_pool.open];
			break;
		}
	}
	kw_pool_publish();
}

static void
kw_pool_unqueue(struct kw_req *r)
{
	if (r->queued_us == 0)
		return;
	r->queued_us = 0;
	kw_pool.queued--;
	kw_pool_publish();
}

static void
kw_req_free(struct http_request *req)
{
	struct kw_req	*r = http_state_get(req);

	if (r == NULL)
		return;
	/* Kore may call this twice when a task outlives its client. */
	kw_sql_reset(r);
	json_decref(r->params);
	json_decref(r->body);
	r->params = r->body = NULL;
	/* A task still running keeps using r->arg: the next call frees it. */
	if (r->working && r->work.task.state != KORE_TASK_STATE_FINISHED)
		return;
	if (r->arg_free != NULL)
		r->arg_free(r->arg);
	r->arg = NULL;
	r->arg_free = NULL;
}

static void
kw_sql_reset(struct kw_req *r)
{
	int	i;

	kw_pool_unqueue(r);
	kw_pool_released(r);
	kw_notice_release(r);
	if (r->sql_bound) {
		kore_pgsql_cleanup(&r->sql);
		r->sql_bound = 0;
	}
	PQclear(r->result);
	r->result = NULL;
	r->failed = 0;
	kore_pgsql_init(&r->sql);
	for (i = 0; i < r->nparams; i++) {
		kore_free(r->vals[i]);
		r->vals[i] = NULL;
	}
	r->nparams = 0;
	r->blob = NULL;
	r->blob_len = 0;
	r->blob_at = -1;
	r->binary_result = 0;
}

/* The checks every request needs, in order, then the operation's handler. */
static int
kw_begin(struct kw_req *r)
{
	struct jsonschema_errors	 errs;
	struct openapi_match		 m;
	json_t				*p;
	char				 allow[96];
	int				 rc;

	kw_request_id(r);
	kw_client_addr(r);
	memset(&m, 0, sizeof(m));

	/*
	 * Rate limits come first, so a flood costs no database time. Health
	 * checks and the internal listener are the operators' own.
	 */
	if (!kw_on_internal(r) && strcmp(r->req->path, "/healthz") != 0 &&
	    strcmp(r->req->path, "/readyz") != 0 &&
	    kw_rate_limited(r, "addr", r->addr, strlen(r->addr),
	    config.rate_limit_per_address, config.rate_limit_address_burst))
		return KW_DONE;

	rc = openapi_match(kw_spec, kw_method_bit(r->req->method),
	    r->req->path, &r->op, &m);
	/* The internal listener serves its own operations and nothing else. */
	if (rc == OPENAPI_MATCH_NO_PATH ||
	    (rc == OPENAPI_MATCH_NO_METHOD && kw_on_internal(r))) {
		openapi_match_cleanup(&m);
		return kw_reply_problem(r, 404, "No such resource.");
	}
	if (rc == OPENAPI_MATCH_NO_METHOD) {
		openapi_allow_string(m.allow, allow, sizeof(allow));
		openapi_match_cleanup(&m);
		http_response_header(r->req, "allow", allow);
		return kw_reply_problem(r, 405,
		    "This resource does not support that method.");
	}

	/* Monitoring and the API each on their own listener only. */
	if (r->op->internal != kw_on_internal(r)) {
		r->op = NULL;
		openapi_match_cleanup(&m);
		return kw_reply_problem(r, 404, "No such resource.");
	}

	if (r->op->auth_required && (kw_check_auth(r) == -1 ||
	    kw_rate_limited(r, "token", r->token_hash, strlen(r->token_hash),
	    config.rate_limit_per_token, config.rate_limit_token_burst))) {
		openapi_match_cleanup(&m);
		return KW_DONE;
	}

	jsonschema_errors_init(&errs);
	if (openapi_check_params(kw_spec, r->op, &m, r->req->query_string,
	    kw_header_cb, r, &r->params, &errs) == -1) {
		openapi_match_cleanup(&m);
		p = problem_new(400, NULL, "A parameter is missing or not valid.");
		problem_add_errors(p, "parameter", &errs);
		jsonschema_errors_cleanup(&errs);
		return kw_reply_json(r, 400, p);
	}
	openapi_match_cleanup(&m);
	jsonschema_errors_cleanup(&errs);

	if (kw_check_body(r) == -1)
		return KW_DONE;

	return ((kw_handler)r->op->handler)(r);
}

/*
 * Take a request from the bucket of kind and value (len bytes); when it is
 * empty, answer 429 with Retry-After and return 1.
 */
static int
kw_rate_limited(struct kw_req *r, const char *kind, const void *value,
    size_t len, int per_minute, int burst)
{
	struct ratelimit_key	 key;
	unsigned		 retry;
	char			 detail[160], secs[16];

	if (per_minute <= 0 || kw_ratelimit == NULL)
		return 0;
	ratelimit_key(&key, kind, value, len);
	if (ratelimit_take(kw_ratelimit, &key, (unsigned)per_minute,
	    (unsigned)burst, kw_now_us(), &retry) == 0)
		return 0;
	snprintf(secs, sizeof(secs), "%u", retry);
	snprintf(detail, sizeof(detail), "Too many requests from this %s: "
	    "wait %u s before trying again.", strcmp(kind, "token") == 0 ?
	    "token" : "address", retry);
	http_response_header(r->req, "retry-after", secs);
	kw_reply_problem(r, 429, detail);
	return 1;
}

/*
 * The bearer token must be present and well formed before anything costs a
 * database round trip; whether it is valid is decided in the statement.
 */
static int
kw_check_auth(struct kw_req *r)
{
	const char	*h, *tok;

	if (!http_request_header(r->req, "authorization", &h) ||
	    strncasecmp(h, "Bearer ", 7) != 0) {
		http_response_header(r->req, "www-authenticate", "Bearer");
		kw_reply_problem(r, 401, "This operation needs a bearer token.");
		return -1;
	}
	for (tok = h + 7; *tok == ' '; tok++)
		;
	if (!token_well_formed(tok)) {
		http_response_header(r->req, "www-authenticate",
		    "Bearer error=\"invalid_token\"");
		kw_reply_problem(r, 401, "The bearer token is not valid.");
		return -1;
	}
	token_hash_hex(tok, strlen(tok), r->token_hash);
	return 0;
}

/* An upload: a file of an accepted type within document_max_bytes. */
static int
kw_check_upload(struct kw_req *r, size_t len)
{
	const char	*ct = NULL;
	char		 detail[160];

	if (len > (size_t)config.document_max_bytes) {
		snprintf(detail, sizeof(detail), "The file is larger than the "
		    "limit of %d bytes.", config.document_max_bytes);
		kw_reply_problem(r, 413, detail);
		return -1;
	}
	if (len == 0 || r->req->http_body == NULL) {
		kw_reply_problem(r, 400, "This operation needs the file as its body.");
		return -1;
	}
	(void)http_request_header(r->req, "content-type", &ct);
	if (!openapi_body_accepts(r->op, ct)) {
		kw_reply_problem(r, 415, "This type of file is not accepted: "
		    "see the operation's request body for the types that are.");
		return -1;
	}
	return 0;
}

const void *
kw_body_raw(struct kw_req *r, size_t *len)
{
	if (r->req->http_body == NULL) {
		*len = 0;
		return NULL;
	}
	/* Kore leaves the body's read offset at 0: read it from its buffer. */
	*len = r->req->content_length;
	return r->req->http_body->data;
}

static int
kw_check_body(struct kw_req *r)
{
	struct jsonschema_errors	 errs;
	struct http_request		*req = r->req;
	json_error_t			 jerr;
	const char			*ct;
	char				 detail[320], where[128];
	json_t				*p;
	size_t				 n, len;

	/* Kore sets content_length only for requests that carry a body. */
	len = req->http_body != NULL ? req->content_length : 0;
	if (r->op->body_binary)
		return kw_check_upload(r, len);
	if (len > (size_t)config.body_max_bytes) {
		snprintf(detail, sizeof(detail), "The body is larger than the "
		    "limit of %d bytes.", config.body_max_bytes);
		kw_reply_problem(r, 413, detail);
		return -1;
	}
	if (r->op->body_schema == NULL) {
		if (len > 0) {
			kw_reply_problem(r, 415, "This operation takes no body.");
			return -1;
		}
		return 0;
	}
	if (len == 0 || req->http_body == NULL) {
		if (!r->op->body_required)
			return 0;
		kw_reply_problem(r, 400, "This operation needs a JSON body.");
		return -1;
	}
	if (!http_request_header(req, "content-type", &ct)) {
		kw_reply_problem(r, 415, "The body must be application/json.");
		return -1;
	}
	n = strcspn(ct, "; \t");
	if (n != strlen("application/json") ||
	    strncasecmp(ct, "application/json", n) != 0 ||
	    (ct[n] != '\0' && strcasestr(ct + n, "charset") != NULL &&
	    strcasestr(ct + n, "utf-8") == NULL)) {
		kw_reply_problem(r, 415, "The body must be application/json "
		    "in UTF-8.");
		return -1;
	}
	/* Kore leaves the body's read offset at 0: read it from its buffer. */
	r->body = json_loadb((const char *)req->http_body->data, len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (r->body == NULL) {
		/* jerr.text may quote the body: it goes back to its sender only. */
		snprintf(detail, sizeof(detail), "The body is not a valid JSON "
		    "object or array (line %d, column %d): %s.", jerr.line,
		    jerr.column, jerr.text);
		kw_reply_problem(r, 400, detail);
		return -1;
	}
	switch (jsonlimit_check(r->body, config.json_max_depth,
	    (size_t)config.json_max_array, where, sizeof(where))) {
	case JSONLIMIT_OK:
		detail[0] = '\0';
		break;
	case JSONLIMIT_DEPTH:
		snprintf(detail, sizeof(detail), "The body nests arrays and "
		    "objects deeper than the limit of %d levels.",
		    config.json_max_depth);
		break;
	case JSONLIMIT_ARRAY:
		snprintf(detail, sizeof(detail), "The body has an array longer "
		    "than the limit of %d elements.", config.json_max_array);
		break;
	}
	if (detail[0] != '\0') {
		jsonschema_errors_init(&errs);
		jsonschema_errors_add(&errs, where, detail);
		p = problem_new(400, NULL, detail);
		problem_add_errors(p, "body", &errs);
		jsonschema_errors_cleanup(&errs);
		kw_reply_json(r, 400, p);
		return -1;
	}
	jsonschema_errors_init(&errs);
	if (jsonschema_validate(openapi_document(kw_spec), r->op->body_schema,
	    r->body, "", &errs) == -1) {
		p = problem_new(400, NULL, "The body does not match the "
		    "operation's schema.");
		problem_add_errors(p, "body", &errs);
		jsonschema_errors_cleanup(&errs);
		kw_reply_json(r, 400, p);
		return -1;
	}
	jsonschema_errors_cleanup(&errs);
	return 0;
}

int
kw_call(struct kw_req *r, const char *fn, int auth, kw_cont cont, int nargs,
    const char **args)
{
	return kw_call_start(r, fn, auth, cont, nargs, args, NULL, 0, 0);
}

int
kw_call_blob(struct kw_req *r, const char *fn, kw_cont cont, int nargs,
    const char **args, const void *blob, size_t blob_len, int binary_result)
{
	if (blob_len > INT_MAX)
		return kw_reply_problem(r, 413, NULL);
	return kw_call_start(r, fn, 1, cont, nargs, args, blob, blob_len,
	    binary_result);
}

static int
kw_call_start(struct kw_req *r, const char *fn, int auth, kw_cont cont,
    int nargs, const char **args, const void *blob, size_t blob_len,
    int binary_result)
{
	int	i, total = nargs + (auth ? 3 : 0) + (blob != NULL ? 1 : 0);

	kw_sql_reset(r);
	if (total > DB_MAX_PARAMS ||
	    db_statement(r->stmt, sizeof(r->stmt), fn, total) == -1) {
		log_msg(LOG_LVL_ERROR, "http", r->request_id,
		    "cannot build the statement for %s", fn);
		return kw_reply_problem(r, 500, NULL);
	}
	if (auth) {
		r->vals[r->nparams++] = kore_strdup(r->token_hash);
		r->vals[r->nparams++] = kore_strdup(r->request_id);
		r->vals[r->nparams++] = kore_strdup(r->addr);
	}
	for (i = 0; i < nargs; i++)
		r->vals[r->nparams++] = args[i] != NULL ? kore_strdup(args[i]) : NULL;
	if (blob != NULL) {
		r->blob = blob;
		r->blob_len = (int)blob_len;
		r->blob_at = r->nparams++;
	}
	r->binary_result = binary_result;
	r->cont = cont;
	r->sql_state = KW_ST_NEW;
	kore_pgsql_bind_request(&r->sql, r->req);
	r->sql_bound = 1;
	return kw_sql_step(r);
}

/*
 * Drive the statement: get a connection (or queue for one), send, and wait
 * for the result with the request asleep. Returns KW_WAIT until the
 * continuation or an error reply has run.
 */
static int
kw_sql_step(struct kw_req *r)
{
	struct db_error	 e;
	PGresult	*res;
	int		 rc, failed, broken;

	for (;;) {
		if (r->sql_state == KW_ST_NEW) {
			if (!kore_pgsql_setup(&r->sql, KW_DB_NAME,
			    KORE_PGSQL_ASYNC)) {
				if (r->sql.state == KORE_PGSQL_STATE_INIT) {
					/* Queued for a connection. */
					if (r->queued_us == 0) {
						r->queued_us = kw_now_us();
						kw_pool.queued++;
						kw_pool_publish();
					}
					return KW_WAIT;
				}
				log_msg(LOG_LVL_WARN, "db", r->request_id,
				    "no database connection");
				kw_sql_reset(r);
				if (r->fail_cont != NULL)
					return r->fail_cont(r, NULL);
				return kw_reply_problem(r, 503,
				    "The database is unavailable.");
			}
			kw_pool_acquired(r);
			if (!kw_sql_send(r)) {
				db_error_from(NULL, &e);
				kw_sql_reset(r);
				if (r->fail_cont != NULL)
					return r->fail_cont(r, NULL);
				return kw_reply_db_error(r, &e);
			}
			r->sql_state = KW_ST_SQL;
			continue;
		}

		switch (r->sql.state) {
		case KORE_PGSQL_STATE_WAIT:
			return KW_WAIT;
		case KORE_PGSQL_STATE_RESULT:
		case KORE_PGSQL_STATE_ERROR:
			if (r->sql.conn == NULL) {
				/* The connection itself failed: Kore freed it. */
				kw_pool_failed(r, r->db_conn);
				kw_sql_reset(r);
				if (r->fail_cont != NULL)
					return r->fail_cont(r, NULL);
				db_error_from(NULL, &e);
				return kw_reply_db_error(r, &e);
			}
			/*
			 * Keep the statement's one result (or error) and read on
			 * to the end, so the connection goes back to the pool
			 * idle: releasing it mid-result would cancel and drain it
			 * with blocking calls.
			 */
			broken = r->sql.conn != NULL &&
			    (PQstatus(r->sql.conn->db) == CONNECTION_BAD ||
			    (r->sql.state == KORE_PGSQL_STATE_ERROR &&
			    r->sql.result == NULL));
			if (r->result == NULL && r->sql.result != NULL) {
				r->result = r->sql.result;
				r->failed = r->sql.state == KORE_PGSQL_STATE_ERROR;
			} else {
				PQclear(r->sql.result);
			}
			r->sql.result = NULL;
			/*
			 * A connection that broke (PostgreSQL stopped or
			 * restarted) answers every read with the same error:
			 * reading on would spin forever, and back in the pool
			 * it would fail every later request. Drop it, as Kore
			 * does when the socket hangs up; the next request
			 * connects afresh.
			 */
			if (broken)
				kore_pgsql_handle(r->sql.conn, 1);
			if (r->sql.conn == NULL) {
				/*
				 * The connection itself failed. Only the end of
				 * the statement proves its commit, so a result
				 * that came before the failure is not an answer.
				 */
				res = r->failed ? r->result : NULL;
				if (!r->failed)
					PQclear(r->result);
				r->result = NULL;
				kw_pool_failed(r, r->db_conn);
				kw_sql_reset(r);
				db_error_from(res, &e);
				PQclear(res);
				log_msg(LOG_LVL_WARN, "db", r->request_id,
				    "database connection lost, sqlstate %s",
				    e.sqlstate);
				if (r->fail_cont != NULL)
					return r->fail_cont(r, NULL);
				return kw_reply_db_error(r, &e);
			}
			kore_pgsql_continue(&r->sql);
			continue;
		case KORE_PGSQL_STATE_DONE:
			kw_notice_release(r);
			kore_pgsql_continue(&r->sql);	/* releases the connection */
			kw_pool_released(r);
			continue;
		case KORE_PGSQL_STATE_COMPLETE:
			res = r->result;
			failed = r->failed;
			r->result = NULL;
			kw_sql_reset(r);
			if (failed && r->fail_cont != NULL) {
				rc = r->fail_cont(r, res);
				PQclear(res);
				return rc;
			}
			if (failed) {
				db_error_from(res, &e);
				PQclear(res);
				if (e.status >= 500) {
					log_msg(LOG_LVL_ERROR, "db", r->request_id,
					    "statement failed, sqlstate %s",
					    e.sqlstate);
				}
				return kw_reply_db_error(r, &e);
			}
			r->result_taken = 0;
			rc = r->cont(r, res);
			if (!r->result_taken)
				PQclear(res);
			r->result_taken = 0;
			return rc;
		default:
			fatal("unexpected pgsql state %d", r->sql.state);
		}
	}
}

/* Send the statement: text parameters, and the blob as binary if any. */
static int
kw_sql_send(struct kw_req *r)
{
	const char	*vals[DB_MAX_PARAMS];
	int		 lens[DB_MAX_PARAMS], fmts[DB_MAX_PARAMS], i;

	if (r->blob == NULL)
		return kore_pgsql_query_param_fields(&r->sql, r->stmt,
		    r->binary_result, r->nparams, (const char **)r->vals, NULL, NULL);
	for (i = 0; i < r->nparams; i++) {
		vals[i] = r->vals[i];
		lens[i] = r->vals[i] != NULL ? (int)strlen(r->vals[i]) : 0;
		fmts[i] = 0;
	}
	vals[r->blob_at] = r->blob;
	lens[r->blob_at] = r->blob_len;
	fmts[r->blob_at] = 1;
	return kore_pgsql_query_param_fields(&r->sql, r->stmt, r->binary_result,
	    r->nparams, vals, lens, fmts);
}

/* Kore calls this when a streamed response is sent, or its connection goes. */
static int
kw_stream_done(struct netbuf *nb)
{
	PQclear(nb->extra);
	return KORE_RESULT_OK;
}

int
kw_reply_result(struct kw_req *r, int status, const char *content_type,
    PGresult *res, const void *data, size_t len)
{
	kw_common_headers(r, "no-store", NULL);
	http_response_header(r->req, "content-type", content_type);
	r->result_taken = 1;
	http_response_stream(r->req, status, (void *)data, len, kw_stream_done, res);
	r->status = status;
	return KW_DONE;
}

json_t *
kw_result_json(PGresult *res, char *etag, size_t etaglen)
{
	json_error_t	 jerr;

	if (res == NULL || PQntuples(res) < 1 || PQnfields(res) < 1)
		return NULL;
	if (etag != NULL) {
		etag[0] = '\0';
		if (PQnfields(res) > 1 && !PQgetisnull(res, 0, 1))
			snprintf(etag, etaglen, "%s", PQgetvalue(res, 0, 1));
	}
	if (PQgetisnull(res, 0, 0))
		return NULL;
	return json_loadb(PQgetvalue(res, 0, 0),
	    (size_t)PQgetlength(res, 0, 0), JSON_DECODE_ANY, &jerr);
}

/*
 * Headers of every response. Kore 4.1 adds a header as often as it is set,
 * so the cache policy and the content security policy (NULL: the API's,
 * which loads nothing) are set here once, and nowhere else.
 */
static void
kw_common_headers(struct kw_req *r, const char *cache_control,
    const char *csp)
{
	http_response_header(r->req, "x-request-id", r->request_id);
	http_response_header(r->req, "cache-control", cache_control);
	http_response_header(r->req, "content-security-policy",
	    csp != NULL ? csp : KW_API_CSP);
	http_response_header(r->req, "x-content-type-options", "nosniff");
	http_response_header(r->req, "x-frame-options", "DENY");
	http_response_header(r->req, "referrer-policy", "no-referrer");
	http_response_header(r->req, "cross-origin-resource-policy",
	    "same-origin");
}

int
kw_reply_json(struct kw_req *r, int status, json_t *body)
{
	char		*s;
	const char	*ct;

	ct = status >= 400 && json_object_get(body, "status") != NULL ?
	    "application/problem+json" : "application/json";
	if ((s = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		fatal("json_dumps failed");
	json_decref(body);
	kw_common_headers(r, "no-store", NULL);
	http_response_header(r->req, "content-type", ct);
	http_response(r->req, status, s, strlen(s));
	free(s);
	r->status = status;
	return KW_DONE;
}

int
kw_reply_raw(struct kw_req *r, int status, const char *content_type,
    const void *data, size_t len)
{
	kw_common_headers(r, "no-store", NULL);
	http_response_header(r->req, "content-type", content_type);
	http_response(r->req, status, data, len);
	r->status = status;
	return KW_DONE;
}

int
kw_reply_static(struct kw_req *r, const char *content_type, const char *etag,
    const char *csp, const void *data, size_t len)
{
	const char	*inm;

	kw_common_headers(r, "no-cache", csp);
	http_response_header(r->req, "etag", etag);
	if (http_request_header(r->req, "if-none-match", &inm) &&
	    assets_etag_matches(inm, etag)) {
		http_response(r->req, 304, NULL, 0);
		r->status = 304;
		return KW_DONE;
	}
	http_response_header(r->req, "content-type", content_type);
	/* No callback: the bytes are not the request's to free. */
	http_response_stream(r->req, 200, (void *)data, len, NULL, NULL);
	r->status = 200;
	return KW_DONE;
}

int
kw_reply_empty(struct kw_req *r, int status)
{
	kw_common_headers(r, "no-store", NULL);
	http_response(r->req, status, NULL, 0);
	r->status = status;
	return KW_DONE;
}

int
kw_reply_problem(struct kw_req *r, int status, const char *detail)
{
	return kw_reply_json(r, status, problem_new(status, NULL, detail));
}

int
kw_reply_db_error(struct kw_req *r, const struct db_error *e)
{
	json_t	*p;

	if (r->error_status != 0)
		return kw_reply_problem(r, r->error_status, e->status >= 500 ?
		    "The database is not ready." : e->detail);
	if (e->status == 401)
		http_response_header(r->req, "www-authenticate",
		    "Bearer error=\"invalid_token\"");
	p = problem_new(e->status, NULL, e->detail);
	problem_add_extra(p, e->extra);
	return kw_reply_json(r, e->status, p);
}

const char *
kw_path(struct kw_req *r, const char *name)
{
	return json_string_value(json_object_get(
	    json_object_get(r->params, "path"), name));
}

json_t *
kw_query(struct kw_req *r, const char *name)
{
	return json_object_get(json_object_get(r->params, "query"), name);
}

const char *
kw_header(struct kw_req *r, const char *name)
{
	return kw_header_cb(r, name);
}

static const char *
kw_header_cb(void *ctx, const char *name)
{
	struct kw_req	*r = ctx;
	const char	*v;
	char		 lower[128];
	size_t		 i;

	/* Kore stores header names as sent; its lookup is case-insensitive. */
	for (i = 0; name[i] != '\0' && i < sizeof(lower) - 1; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[i] = '\0';
	if (!http_request_header(r->req, lower, &v))
		return NULL;
	return v;
}

/* Echo a client's request id when it is safe to, otherwise make one. */
static void
kw_request_id(struct kw_req *r)
{
	const char	*h, *p;
	unsigned char	 rnd[16];
	size_t		 i;

	if (http_request_header(r->req, "x-request-id", &h)) {
		for (p = h; *p != '\0' && p - h < 64; p++) {
			if (!isalnum((unsigned char)*p) && *p != '-' &&
			    *p != '_' && *p != '.' && *p != ':')
				break;
		}
		if (*p == '\0' && p != h) {
			snprintf(r->request_id, sizeof(r->request_id), "%s", h);
			return;
		}
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		fatal("RAND_bytes failed");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(r->request_id + i * 2, 3, "%02x", rnd[i]);
}

/*
 * The client's address: the peer's, unless the peer is one of
 * trusted_proxies and says in X-Forwarded-For whom it forwards for. Only
 * the last entry counts: it is the one the proxy itself added (nginx sets
 * the header to its $remote_addr), while anything before it came from the
 * client and proves nothing.
 */
static void
kw_client_addr(struct kw_req *r)
{
	struct connection	*c = r->req->owner;
	const void		*peer;
	const char		*h, *last, *e;
	unsigned char		 a[sizeof(struct in6_addr)];
	char			 text[INET6_ADDRSTRLEN];
	size_t			 n;
	int			 family;

	r->addr[0] = '\0';
	if (c->family == AF_INET)
		peer = &c->addr.ipv4.sin_addr;
	else if (c->family == AF_INET6)
		peer = &c->addr.ipv6.sin6_addr;
	else {
		snprintf(r->addr, sizeof(r->addr), "local");
		return;
	}
	inet_ntop(c->family, peer, r->addr, sizeof(r->addr));

	if (!config_proxy_trusted(&config, c->family, peer) ||
	    !http_request_header(r->req, "x-forwarded-for", &h))
		return;

	last = strrchr(h, ',');
	last = last != NULL ? last + 1 : h;
	last += strspn(last, " \t");
	for (e = last + strlen(last); e > last && (e[-1] == ' ' ||
	    e[-1] == '\t'); e--)
		;
	n = (size_t)(e - last);
	if (n == 0 || n >= sizeof(text))
		return;
	memcpy(text, last, n);
	text[n] = '\0';

	/* Stored as inet_ntop writes it, so one address has one spelling. */
	if (inet_pton(AF_INET, text, a) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, text, a) == 1)
		family = AF_INET6;
	else
		return;
	inet_ntop(family, a, r->addr, sizeof(r->addr));
}

/* Whether the request came through the internal listener. */
static int
kw_on_internal(struct kw_req *r)
{
	struct connection	*c = r->req->owner;

	return c->owner != NULL && c->owner->server != NULL &&
	    strcmp(c->owner->server->name, KW_INTERNAL_SERVER) == 0;
}

static unsigned
kw_method_bit(int method)
{
	switch (method) {
	case HTTP_METHOD_GET:
		return OPENAPI_GET;
	case HTTP_METHOD_POST:
		return OPENAPI_POST;
	case HTTP_METHOD_PUT:
		return OPENAPI_PUT;
	case HTTP_METHOD_PATCH:
		return OPENAPI_PATCH;
	case HTTP_METHOD_DELETE:
		return OPENAPI_DELETE;
	case HTTP_METHOD_HEAD:
		return OPENAPI_HEAD;
	case HTTP_METHOD_OPTIONS:
		return OPENAPI_OPTIONS;
	default:
		return 0;
	}
}
