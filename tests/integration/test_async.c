/*
 * Asynchronous statements: a slow query on one request must not stall the
 * other requests on the same worker. scripts/test.sh runs ONE Kore worker,
 * so every request below shares one event loop.
 *
 * A genuinely slow request is made by locking an account's row from a
 * connection of our own (the schema owner's, $DATABASE_URL) and PATCHing
 * that account: the server's UPDATE waits on the lock. PostgreSQL's pg_locks
 * shows the waiting statements, which proves they are in flight, and how
 * many reached the database at once.
 *
 * Requests from other threads use libcurl directly and only record what
 * happened: Criterion's assertions may only fail on the test's own thread.
 */
#define _GNU_SOURCE
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <libpq-fe.h>

#include "client.h"

/* How long the row lock is held, and what a blocked PATCH must last. */
#define HOLD_MS		2000
#define BLOCKED_MIN_MS	1500
/* The most a request on the same worker may take meanwhile. */
#define FAST_MS		250
#define FAST_ROUNDS	20

/* A PATCH sent from a thread of its own. */
struct slow {
	pthread_t	 thread;
	char		 url[512];
	char		 if_match[128];
	char		 auth[128];
	char		 body[128];
	/* Set by the thread. */
	CURLcode	 rc;
	long		 status;
	double		 ms;
	char		*out;
	size_t		 outlen;
	int		 done;
};

static double	 now_ms(void);
static void	 sleep_ms(double);
static int	 serialize(void);
static int	 conn_max(void);
static char	*create_user(const char *, const char *, const char *,
		    char *, size_t);
static size_t	 on_body(char *, size_t, size_t, void *);
static void	*slow_patch(void *);
static void	 slow_start(struct slow *, const char *, const char *,
		    const char *, const char *);
static PGconn	*lock_users(char *const *, int);
static int	 lock_waiters(PGconn *);
static int	 wait_for_waiters(PGconn *, int, double);
static void	 exec_ok(PGconn *, const char *);
static double	 fast_requests(const char *, const char *);
static void	 assert_renamed(struct slow *, const char *, const char *,
		    const char *);

static double
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void
sleep_ms(double ms)
{
	struct timespec	ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)((ms - ts.tv_sec * 1000.0) * 1e6);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * The tests of this file measure the worker while they saturate it:
 * Criterion runs tests in parallel processes, so take turns on a lock file
 * of this run (next to the server log) for the whole test. The descriptor
 * stays open, and the lock held, until the test's process exits.
 */
static int
serialize(void)
{
	const char	*log = getenv("KEYWORK_TEST_SERVER_LOG");
	char		 path[4096];
	int		 fd;

	snprintf(path, sizeof(path), "%s.async-lock",
	    log != NULL ? log : "/tmp/keywork-test");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	cr_assert(fd != -1, "%s: %s", path, strerror(errno));
	cr_assert_eq(flock(fd, LOCK_EX), 0, "flock: %s", strerror(errno));
	return fd;
}

/*
 * The server's database connections per worker (Kore's pgsql_conn_max),
 * from the Kore configuration scripts/test.sh wrote next to the server
 * log; keywork's default otherwise.
 */
static int
conn_max(void)
{
	const char	*log = getenv("KEYWORK_TEST_SERVER_LOG");
	char		 path[4096], line[256];
	FILE		*f;
	const char	*pool = getenv("KEYWORK_TEST_DB_POOL");
	int		 n = 4;

	/*
	 * Behind a pooler (tests/pgbouncer.sh) its pool, smaller than Kore's,
	 * is what caps the statements that reach PostgreSQL at once.
	 */
	if (pool != NULL && atoi(pool) > 0)
		return atoi(pool);
	if (log == NULL)
		return n;
	snprintf(path, sizeof(path), "%s", log);
	snprintf(line, sizeof(line), "%s/kore.conf", dirname(path));
	if ((f = fopen(line, "r")) == NULL)
		return n;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " pgsql_conn_max %d", &n) == 1)
			break;
	}
	fclose(f);
	return n;
}


/* A fresh account of our own; its id (caller frees) and ETag as read. */
static char *
create_user(const char *tok, const char *area, const char *agency,
    char *etag, size_t etaglen)
{
	struct resp	*r;
	json_t		*j;
	char		*body, *id, path[128];
	const char	*e;

	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s]}", "email", "",
	    "name", "Async Test", "password", "async-test-password",
	    "agency_id", agency, "area_id", area, "roles", "practitioner");
	json_object_set_new(j, "email", json_sprintf("async-%s@example.org",
	    kwt_unique()));
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	r = kwt_request("POST", "/v1/users", tok, NULL, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "%s", r->raw);
	id = strdup(kwt_str(r, "id"));
	kwt_free(r);

	snprintf(path, sizeof(path), "/v1/users/%s", id);
	r = kwt_request("GET", path, tok, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	e = kwt_header(r, "ETag");
	cr_assert_not_null(e, "no ETag");
	snprintf(etag, etaglen, "%s", e);
	kwt_free(r);
	return id;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct slow	*s = arg;
	size_t		 len = size * n;
	char		*grown;

	if ((grown = realloc(s->out, s->outlen + len + 1)) == NULL)
		return 0;	/* libcurl reports the write error */
	s->out = grown;
	memcpy(s->out + s->outlen, p, len);
	s->outlen += len;
	s->out[s->outlen] = '\0';
	return len;
}

/* On a thread of its own: no assertions here, only a record. */
static void *
slow_patch(void *arg)
{
	struct slow		*s = arg;
	struct curl_slist	*hl = NULL;
	double			 t0;
	CURL			*c;

	if ((c = curl_easy_init()) == NULL) {
		s->rc = CURLE_FAILED_INIT;
		__atomic_store_n(&s->done, 1, __ATOMIC_SEQ_CST);
		return NULL;
	}
	hl = curl_slist_append(hl, "Content-Type: application/json");
	hl = curl_slist_append(hl, "Expect:");
	hl = curl_slist_append(hl, s->auth);
	hl = curl_slist_append(hl, s->if_match);
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PATCH");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, s->body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	t0 = now_ms();
	s->rc = curl_easy_perform(c);
	s->ms = now_ms() - t0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	__atomic_store_n(&s->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void
slow_start(struct slow *s, const char *tok, const char *id,
    const char *etag, const char *name)
{
	const char	*base = getenv("KEYWORK_TEST_URL");

	memset(s, 0, sizeof(*s));
	snprintf(s->url, sizeof(s->url), "%s/v1/users/%s",
	    base != NULL ? base : "http://127.0.0.1:8888", id);
	snprintf(s->auth, sizeof(s->auth), "Authorization: Bearer %s", tok);
	snprintf(s->if_match, sizeof(s->if_match), "If-Match: %s", etag);
	snprintf(s->body, sizeof(s->body), "{\"name\":\"%s\"}", name);
	cr_assert_eq(pthread_create(&s->thread, NULL, slow_patch, s), 0);
}

static void
exec_ok(PGconn *db, const char *sql)
{
	PGresult	*res = PQexec(db, sql);

	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s: %s", sql,
	    PQerrorMessage(db));
	PQclear(res);
}

/* As the schema owner, in a transaction left open: lock these accounts. */
static PGconn *
lock_users(char *const *user_ids, int n)
{
	const char	*url = getenv("DATABASE_URL"), *params[1];
	PGresult	*res;
	PGconn		*db;
	char		*arr, *p;
	int		 i;

	cr_assert_not_null(url, "DATABASE_URL is not set");
	db = PQconnectdb(url);
	cr_assert_eq(PQstatus(db), CONNECTION_OK, "%s", PQerrorMessage(db));
	exec_ok(db, "BEGIN");

	/* A uuid[] literal: {id,id,...} */
	arr = strdup("{");
	for (i = 0; i < n; i++) {
		cr_assert(asprintf(&p, "%s%s%s", arr, i > 0 ? "," : "",
		    user_ids[i]) != -1);
		free(arr);
		arr = p;
	}
	cr_assert(asprintf(&p, "%s}", arr) != -1);
	free(arr);
	params[0] = p;
	res = PQexecParams(db, "SELECT 1 FROM kw.users WHERE id = ANY($1::uuid[]) "
	    "FOR UPDATE", 1, NULL, params, NULL, NULL, 0);
	free(p);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s",
	    PQerrorMessage(db));
	cr_assert_eq(PQntuples(res), n, "not every account was locked");
	PQclear(res);
	return db;
}

/* Statements of other sessions waiting for this transaction's locks. */
static int
lock_waiters(PGconn *db)
{
	PGresult	*res;
	int		 n;

	res = PQexec(db, "SELECT count(*) FROM pg_locks WHERE locktype = "
	    "'transactionid' AND NOT granted AND transactionid = "
	    "pg_current_xact_id()::xid");
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s",
	    PQerrorMessage(db));
	n = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/* Poll until want statements wait on our locks; returns how many do. */
static int
wait_for_waiters(PGconn *db, int want, double timeout_ms)
{
	double	end = now_ms() + timeout_ms;
	int	n;

	while ((n = lock_waiters(db)) < want && now_ms() < end)
		sleep_ms(20);
	return n;
}

/*
 * FAST_ROUNDS requests to path in a row, each asserting 200 within
 * FAST_MS; returns the slowest, in milliseconds.
 */
static double
fast_requests(const char *path, const char *tok)
{
	struct resp	*r;
	double		 ms, max = 0;
	int		 i;

	for (i = 0; i < FAST_ROUNDS; i++) {
		r = kwt_request("GET", path, tok, NULL, NULL, NULL);
		cr_assert_eq(r->status, 200, "%s: %s", path, r->raw);
		ms = r->seconds * 1000.0;
		cr_assert_lt(ms, FAST_MS, "GET %s took %.1f ms while a slow "
		    "request was in flight on the same worker", path, ms);
		if (ms > max)
			max = ms;
		kwt_free(r);
	}
	return max;
}

/* The PATCH answered 200, after waiting on the lock, and took effect. */
static void
assert_renamed(struct slow *s, const char *tok, const char *id,
    const char *name)
{
	struct resp	*r;
	json_t		*j;
	char		 path[128];

	cr_assert_eq(s->rc, CURLE_OK, "PATCH %s: %s (the server must never "
	    "drop the connection)", id, curl_easy_strerror(s->rc));
	cr_assert_eq(s->status, 200, "PATCH %s: %ld %s", id, s->status,
	    s->out != NULL ? s->out : "");
	cr_assert_geq(s->ms, BLOCKED_MIN_MS, "PATCH %s took only %.0f ms: it "
	    "did not wait on the lock", id, s->ms);
	j = json_loads(s->out != NULL ? s->out : "", 0, NULL);
	cr_assert_not_null(j, "PATCH %s: body is not JSON", id);
	cr_assert_str_eq(json_string_value(json_object_get(j, "id")), id);
	cr_assert_str_eq(json_string_value(json_object_get(j, "name")), name);
	json_decref(j);

	snprintf(path, sizeof(path), "/v1/users/%s", id);
	r = kwt_request("GET", path, tok, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	cr_assert_str_eq(kwt_str(r, "name"), name);
	kwt_free(r);
}

Test(async, slow_query_does_not_stall_the_worker, .timeout = 60)
{
	char		 area[37], agency[37], etag[100], *tok, *id;
	struct slow	 s;
	PGconn		*db;
	double		 locked, me_max, health_max;
	int		 fd;

	fd = serialize();
	tok = kwt_login("admin@example.org", KWT_DEMO_PASSWORD);
	kwt_demo_ids(tok, area, agency);
	id = create_user(tok, area, agency, etag, sizeof(etag));

	db = lock_users(&id, 1);
	locked = now_ms();
	slow_start(&s, tok, id, etag, "Slow");
	sleep_ms(300);

	/* The PATCH has reached PostgreSQL and waits there. */
	cr_assert_eq(wait_for_waiters(db, 1, 3000), 1,
	    "the PATCH is not waiting on the lock");
	cr_assert(!__atomic_load_n(&s.done, __ATOMIC_SEQ_CST),
	    "the PATCH finished under the lock: %ld %s", s.status,
	    s.out != NULL ? s.out : "");

	me_max = fast_requests("/v1/me", tok);
	health_max = fast_requests("/healthz", NULL);
	cr_log_info("one slow request in flight: %d x GET /v1/me, slowest "
	    "%.1f ms; %d x GET /healthz, slowest %.1f ms", FAST_ROUNDS, me_max,
	    FAST_ROUNDS, health_max);

	/* All of that happened while the PATCH was still waiting. */
	cr_assert(!__atomic_load_n(&s.done, __ATOMIC_SEQ_CST),
	    "the PATCH finished before the lock was released");
	cr_assert_eq(lock_waiters(db), 1);

	sleep_ms(HOLD_MS - (now_ms() - locked));
	exec_ok(db, "COMMIT");
	PQfinish(db);

	cr_assert_eq(pthread_join(s.thread, NULL), 0);
	cr_log_info("the slow PATCH took %.0f ms", s.ms);
	assert_renamed(&s, tok, id, "Slow");

	free(s.out);
	free(id);
	free(tok);
	close(fd);
}

/*
 * More slow requests than the worker has database connections: the excess
 * queue in Kore for a connection (they never reach PostgreSQL until one is
 * free), while a request that needs no database is answered at once.
 * (GET /v1/me would queue behind them too, so /healthz here.)
 */
#define NSLOW	8

Test(async, slow_queries_beyond_the_pool_queue_without_stalling,
    .timeout = 90)
{
	char		 area[37], agency[37], etag[NSLOW][100], name[32];
	char		*tok, *user_ids[NSLOW];
	struct slow	 s[NSLOW];
	PGconn		*db;
	double		 locked, health_max, min_ms = 1e9, max_ms = 0;
	int		 fd, i, pool, want, waiting, done;

	fd = serialize();
	pool = conn_max();
	cr_assert_lt(pool, NSLOW, "pgsql_conn_max %d: %d requests cannot "
	    "exceed the pool", pool, NSLOW);
	tok = kwt_login("admin@example.org", KWT_DEMO_PASSWORD);
	kwt_demo_ids(tok, area, agency);
	for (i = 0; i < NSLOW; i++)
		user_ids[i] = create_user(tok, area, agency, etag[i],
		    sizeof(etag[i]));

	db = lock_users(user_ids, NSLOW);
	locked = now_ms();
	for (i = 0; i < NSLOW; i++) {
		snprintf(name, sizeof(name), "Slow %d", i);
		slow_start(&s[i], tok, user_ids[i], etag[i], name);
	}
	sleep_ms(300);

	/*
	 * Exactly a pool's worth reach PostgreSQL and wait on the locks; the
	 * rest are queued in Kore. Give stragglers time to show up, then
	 * look again: the count must not grow past the pool.
	 */
	want = pool;
	waiting = wait_for_waiters(db, want, 3000);
	cr_assert_eq(waiting, want, "%d statements wait on the locks, "
	    "expected %d (pgsql_conn_max)", waiting, want);

	health_max = fast_requests("/healthz", NULL);
	cr_log_info("%d slow requests in flight, %d of them queued for a "
	    "connection: %d x GET /healthz, slowest %.1f ms", NSLOW,
	    NSLOW - pool, FAST_ROUNDS, health_max);

	cr_assert_eq(lock_waiters(db), want, "the queue leaked past the pool");
	for (i = 0, done = 0; i < NSLOW; i++)
		done += __atomic_load_n(&s[i].done, __ATOMIC_SEQ_CST);
	cr_assert_eq(done, 0, "%d PATCHes finished under the locks", done);

	sleep_ms(HOLD_MS - (now_ms() - locked));
	exec_ok(db, "COMMIT");
	PQfinish(db);

	for (i = 0; i < NSLOW; i++) {
		cr_assert_eq(pthread_join(s[i].thread, NULL), 0);
		snprintf(name, sizeof(name), "Slow %d", i);
		assert_renamed(&s[i], tok, user_ids[i], name);
		if (s[i].ms < min_ms)
			min_ms = s[i].ms;
		if (s[i].ms > max_ms)
			max_ms = s[i].ms;
		free(s[i].out);
		free(user_ids[i]);
	}
	cr_log_info("the %d slow PATCHes took %.0f to %.0f ms", NSLOW, min_ms,
	    max_ms);
	free(tok);
	close(fd);
}
