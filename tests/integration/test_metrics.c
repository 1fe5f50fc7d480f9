/*
 * GET /metrics on the running server: served on the internal listener only,
 * valid Prometheus text (read by the strict reader of tests/common), and
 * its numbers move by exactly what the test did: requests by operation and
 * status, their durations, the database pool's gauges while statements are
 * held by a lock, and the wait for a connection.
 *
 * Exact counts need the server to itself: scripts/test.sh runs this suite
 * on its own, after the others, one test at a time, against one worker
 * (KEYWORK_WORKERS=1).
 */
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <libpq-fe.h>

#include "client.h"
#include "../common/promtext.h"

#define REQS	"keywork_http_requests_total"
#define DUR	"keywork_http_request_duration_seconds"
#define WAIT	"keywork_db_connection_wait_seconds"

struct poster {
	pthread_t	 thread;
	char		 url[512];
	char		 auth[512];
	char		 body[256];
	long		 status;
	int		 rc;
};

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Scrape, assert the answer's form, parse strictly into d. */
static void
scrape(struct prom_doc *d)
{
	struct resp	*r;
	const char	*ct;
	char		 err[512];

	r = kwt_request_internal("GET", "/metrics");
	cr_assert_eq(r->status, 200, "%s", r->raw);
	ct = kwt_header(r, "Content-Type");
	cr_assert(ct != NULL && strcmp(ct,
	    "text/plain; version=0.0.4; charset=utf-8") == 0,
	    "content type %s", ct != NULL ? ct : "none");
	cr_assert_eq(prom_parse(r->raw, r->len, d, err, sizeof(err)), 0,
	    "/metrics is not valid exposition: %s", err);
	kwt_free(r);
}

/* A value that may be absent (never happened): absent reads 0. */
static double
val(const struct prom_doc *d, const char *name, const char *labels)
{
	double	v = prom_get(d, name, labels);

	return v < 0 ? 0 : v;
}

static double
delta(const struct prom_doc *a, const struct prom_doc *b, const char *name,
    const char *labels)
{
	return val(b, name, labels) - val(a, name, labels);
}

static void
expect_count(const struct prom_doc *a, const struct prom_doc *b,
    const char *op, int status, double want)
{
	char	labels[256];

	snprintf(labels, sizeof(labels), "operation=\"%s\",status=\"%d\"", op,
	    status);
	cr_expect_eq(delta(a, b, REQS, labels), want,
	    REQS "{%s} moved by %g, not %g", labels, delta(a, b, REQS, labels),
	    want);
}

static void
expect_durations(const struct prom_doc *a, const struct prom_doc *b,
    const char *op, double want)
{
	char	labels[256];

	snprintf(labels, sizeof(labels), "operation=\"%s\"", op);
	cr_expect_eq(delta(a, b, DUR "_count", labels), want,
	    DUR "_count{%s} moved by %g, not %g", labels,
	    delta(a, b, DUR "_count", labels), want);
}

static PGconn *
db_open(void)
{
	const char	*url = getenv("DATABASE_URL");
	PGconn		*db;

	cr_assert_not_null(url, "DATABASE_URL is not set");
	db = PQconnectdb(url);
	cr_assert_eq(PQstatus(db), CONNECTION_OK, "%s", PQerrorMessage(db));
	return db;
}

static void
db_exec(PGconn *db, const char *sql)
{
	PGresult	*res = PQexec(db, sql);

	cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(db));
	PQclear(res);
}

static int
db_int(PGconn *db, const char *sql)
{
	PGresult	*res = PQexec(db, sql);
	int		 n;

	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(db));
	n = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/* The server's database connections per worker, from its Kore config. */
static int
conn_max(void)
{
	const char	*log = getenv("KEYWORK_TEST_SERVER_LOG");
	char		 path[4096], line[256];
	FILE		*f;
	int		 n = -1;

	cr_assert_not_null(log, "KEYWORK_TEST_SERVER_LOG is not set");
	snprintf(path, sizeof(path), "%s", log);
	snprintf(line, sizeof(line), "%s/kore.conf", dirname(path));
	f = fopen(line, "r");
	cr_assert_not_null(f, "%s: %s", line, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " pgsql_conn_max %d", &n) == 1)
			break;
	}
	fclose(f);
	cr_assert_gt(n, 0, "no pgsql_conn_max in the server's config");
	return n;
}

/* A new episode of keyworker@'s, for notes; its id (caller frees). */
static char *
episode_new(const char *tok)
{
	struct resp	*r;
	struct tm	 tm;
	time_t		 t = time(NULL) - 3600;
	char		*body, *id, me_id[40], area[40], agency[40], when[32];
	char		 fam[96];

	r = kwt_request("GET", "/v1/me", tok, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	snprintf(me_id, sizeof(me_id), "%s", kwt_str(r, "id"));
	snprintf(area, sizeof(area), "%s", kwt_str(r, "area_id"));
	snprintf(agency, sizeof(agency), "%s", kwt_str(r, "agency_id"));
	kwt_free(r);

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(fam, sizeof(fam), "Quillfeather%s", kwt_unique());
	body = kwt_json("{s:{s:s, s:s}, s:[{s:s, s:s, s:s, s:s, s:b}],"
	    " s:s, s:s, s:{s:s, s:s}}",
	    "family", "name", fam, "area_id", area,
	    "members", "given_name", "Marigold", "family_name", fam,
	    "date_of_birth", "2016-04-02", "relationship", "daughter",
	    "is_child", 1,
	    "keyworker_id", me_id, "lead_agency_id", agency,
	    "verbal_consent", "obtained_at", when, "given_by", "Her father");
	r = kwt_request("POST", "/v1/episodes", tok, NULL, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "register: %ld %s", r->status, r->raw);
	id = strdup(kwt_str(r, "id"));
	kwt_free(r);
	return id;
}

static void
note_ok(const char *tok, const char *episode, const char *text)
{
	struct resp	*r;
	char		*body, path[128];

	snprintf(path, sizeof(path), "/v1/episodes/%s/notes", episode);
	body = kwt_json("{s:s, s:s}", "kind", "fact", "body", text);
	r = kwt_request("POST", path, tok, NULL, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "%s", r->raw);
	kwt_free(r);
}

Test(metrics, counts_move_by_what_was_asked)
{
	struct prom_doc	 a, b;
	struct resp	*r;
	PGconn		*db;
	PGresult	*res;
	const char	*workers = getenv("KEYWORK_WORKERS");
	char		*tok, *ep, labels[256];
	double		 start;
	int		 i;

	tok = kwt_login("keyworker@example.org", KWT_DEMO_PASSWORD);
	scrape(&a);

	for (i = 0; i < 3; i++) {
		r = kwt_request("GET", "/healthz", NULL, NULL, NULL, NULL);
		cr_assert_eq(r->status, 200);
		kwt_free(r);
	}
	for (i = 0; i < 2; i++) {
		r = kwt_request("GET", "/v1/episodes", NULL, NULL, NULL, NULL);
		cr_assert_eq(r->status, 401);
		kwt_free(r);
	}
	r = kwt_request("GET", "/v1/episodes?limit=1", tok, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	kwt_free(r);
	/* Three requests no operation answers: */
	r = kwt_request("GET", "/v1/no-such-thing", NULL, NULL, NULL, NULL);
	cr_assert_eq(r->status, 404);
	kwt_free(r);
	/* ... the metrics through the public listener, */
	r = kwt_request("GET", "/metrics", NULL, NULL, NULL, NULL);
	cr_assert_eq(r->status, 404, "/metrics is public: %s", r->raw);
	cr_assert_null(strstr(r->raw, REQS));
	kwt_free(r);
	/* ... and the API through the internal one. */
	r = kwt_request_internal("GET", "/healthz");
	cr_assert_eq(r->status, 404, "the internal listener serves the API");
	kwt_free(r);
	ep = episode_new(tok);		/* getMe, createEpisode */
	note_ok(tok, ep, "Metrics note: Marigold Quillfeather drew a lighthouse.");
	note_ok(tok, ep, "Metrics note: the Quillfeather kitchen was tidy.");

	scrape(&b);
	expect_count(&a, &b, "getHealth", 200, 3);
	expect_count(&a, &b, "listEpisodes", 401, 2);
	expect_count(&a, &b, "listEpisodes", 200, 1);
	expect_count(&a, &b, "unmatched", 404, 3);
	expect_count(&a, &b, "getMe", 200, 1);
	expect_count(&a, &b, "createEpisode", 201, 1);
	expect_count(&a, &b, "createNote", 201, 2);
	/* The first scrape is counted once it is answered. */
	expect_count(&a, &b, "getMetrics", 200, 1);
	expect_count(&a, &b, "login", 200, 0);
	expect_durations(&a, &b, "getHealth", 3);
	expect_durations(&a, &b, "listEpisodes", 3);
	expect_durations(&a, &b, "unmatched", 3);
	expect_durations(&a, &b, "createNote", 2);
	cr_expect_gt(delta(&a, &b, DUR "_sum", "operation=\"createNote\""), 0);
	cr_expect_lt(delta(&a, &b, DUR "_sum", "operation=\"createNote\""), 60);
	/* At least one statement each: listEpisodes, getMe, createEpisode,
	 * two createNote and the first scrape's outbox counts. */
	cr_expect_geq(delta(&a, &b, WAIT "_count", ""), 6);

	/* Process information. */
	cr_assert_not_null(workers, "KEYWORK_WORKERS is not set");
	cr_expect_eq(val(&b, "keywork_workers", ""), atoi(workers));
	cr_expect_geq(val(&b, "keywork_worker_starts_total", ""), atoi(workers));
	cr_expect_eq(val(&b, "keywork_db_connections_max", ""),
	    atoi(workers) * conn_max());
	start = val(&b, "process_start_time_seconds", "");
	cr_expect(start > (double)time(NULL) - 3600 && start <= (double)time(NULL),
	    "process_start_time_seconds %f", start);
	cr_expect_eq(prom_family(&b, "keywork_build_info")->type[0], 'g');

	/* The outbox: the worker's deliveries once that table exists. */
	cr_assert_not_null(prom_family(&b, "keywork_outbox_deliveries"));
	db = db_open();
	if (db_int(db, "SELECT (to_regclass('kw.deliveries') IS NOT NULL)::int")) {
		res = PQexec(db, "SELECT channel, status, count(*) FROM "
		    "kw.deliveries GROUP BY 1, 2");
		cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s",
		    PQerrorMessage(db));
		for (i = 0; i < PQntuples(res); i++) {
			snprintf(labels, sizeof(labels),
			    "channel=\"%s\",status=\"%s\"",
			    PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
			cr_expect_eq(prom_get(&b, "keywork_outbox_deliveries",
			    labels), atof(PQgetvalue(res, i, 2)), "%s", labels);
		}
		PQclear(res);
	} else {
		for (i = 0; (size_t)i < b.n; i++)
			cr_expect_str_neq(b.s[i].family,
			    "keywork_outbox_deliveries", "outbox samples "
			    "without an outbox");
	}
	PQfinish(db);
	prom_free(&a);
	prom_free(&b);
	free(ep);
	free(tok);
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	return size * n;
}

/* On a thread of its own: no assertions here, only a record. */
static void *
post_note(void *arg)
{
	struct poster		*p = arg;
	struct curl_slist	*hl = NULL;
	CURL			*c;

	if ((c = curl_easy_init()) == NULL) {
		p->rc = CURLE_FAILED_INIT;
		return NULL;
	}
	hl = curl_slist_append(hl, "Content-Type: application/json");
	hl = curl_slist_append(hl, "Expect:");
	hl = curl_slist_append(hl, p->auth);
	curl_easy_setopt(c, CURLOPT_URL, p->url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	p->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &p->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return NULL;
}

/*
 * Statements held by a lock: every connection busy, the rest of the
 * requests queued, and a scrape answered meanwhile without the database.
 * Then the queued requests' wait shows in the histogram.
 */
Test(metrics, pool_gauges_and_the_wait_for_a_connection)
{
	struct prom_doc	 a, held, b;
	struct poster	*p;
	PGconn		*db;
	const char	*base = getenv("KEYWORK_TEST_URL");
	const char	*workers = getenv("KEYWORK_WORKERS");
	char		*tok, *ep;
	double		 t0, slow;
	int		 max, n, i;

	cr_assert(workers != NULL && atoi(workers) == 1, "this test needs "
	    "the server to run one worker (KEYWORK_WORKERS=1)");
	cr_assert_not_null(base);
	max = conn_max();
	n = max + 2;
	tok = kwt_login("keyworker@example.org", KWT_DEMO_PASSWORD);
	ep = episode_new(tok);
	scrape(&a);

	/* Every new note waits for this transaction. */
	db = db_open();
	db_exec(db, "BEGIN");
	db_exec(db, "LOCK TABLE kw.notes IN EXCLUSIVE MODE");

	p = calloc((size_t)n, sizeof(*p));
	cr_assert_not_null(p);
	for (i = 0; i < n; i++) {
		snprintf(p[i].url, sizeof(p[i].url), "%s/v1/episodes/%s/notes",
		    base, ep);
		snprintf(p[i].auth, sizeof(p[i].auth),
		    "Authorization: Bearer %s", tok);
		snprintf(p[i].body, sizeof(p[i].body), "{\"kind\":\"fact\","
		    "\"body\":\"Metrics note %d: Marigold Quillfeather waited.\"}",
		    i);
		cr_assert_eq(pthread_create(&p[i].thread, NULL, post_note,
		    &p[i]), 0);
	}
	/* Until every connection's statement waits on the lock. */
	t0 = now_s();
	while (db_int(db, "SELECT count(*) FROM pg_locks WHERE NOT granted "
	    "AND relation = 'kw.notes'::regclass") < max &&
	    now_s() - t0 < 10)
		sleep_ms(20);
	/* Until the others are queued for a connection, as /metrics says. */
	for (;;) {
		scrape(&held);
		if (val(&held, "keywork_db_requests_queued", "") >= n - max ||
		    now_s() - t0 > 10)
			break;
		prom_free(&held);
		sleep_ms(50);
	}
	cr_expect_eq(val(&held, "keywork_db_connections_busy", ""), max);
	cr_expect_eq(val(&held, "keywork_db_connections_open", ""), max);
	cr_expect_eq(val(&held, "keywork_db_requests_queued", ""), n - max);
	cr_expect_null(prom_family(&held, "keywork_outbox_deliveries"),
	    "the scrape asked the database while no connection was free");
	sleep_ms(400);
	db_exec(db, "COMMIT");
	for (i = 0; i < n; i++) {
		cr_assert_eq(pthread_join(p[i].thread, NULL), 0);
		cr_expect_eq(p[i].rc, CURLE_OK, "%s", curl_easy_strerror(p[i].rc));
		cr_expect_eq(p[i].status, 201);
	}
	cr_expect_eq(db_int(db, "SELECT count(*) FROM kw.notes WHERE body "
	    "LIKE 'Metrics note %: Marigold Quillfeather waited.'") >= n, 1);

	scrape(&b);
	cr_expect_eq(val(&b, "keywork_db_connections_busy", ""), 0);
	cr_expect_eq(val(&b, "keywork_db_requests_queued", ""), 0);
	cr_expect_eq(val(&b, "keywork_db_connections_open", ""), max);
	expect_count(&a, &b, "createNote", 201, n);
	cr_expect_geq(delta(&a, &b, WAIT "_count", ""), n);
	/* The queued ones waited at least the 400 ms the lock was held after
	 * they were seen queued: past the 0.25 s bucket. */
	slow = delta(&a, &b, WAIT "_count", "") -
	    (prom_bucket(&b, WAIT "_bucket", "", "0.25") -
	    prom_bucket(&a, WAIT "_bucket", "", "0.25"));
	cr_expect_eq(slow, n - max, "%g waits over 0.25 s, not %d", slow,
	    n - max);
	cr_expect_geq(delta(&a, &b, WAIT "_sum", ""), 0.4 * (n - max));

	PQfinish(db);
	free(p);
	prom_free(&a);
	prom_free(&held);
	prom_free(&b);
	free(ep);
	free(tok);
}
