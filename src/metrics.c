/*
 * metrics: see metrics.h.
 *
 * A slot is an array of 64-bit words laid out as below; every word is
 * written with relaxed atomics by one worker and read the same way by any.
 * Histograms keep one word per bucket (not cumulative) plus one for +Inf,
 * and their _count is the sum of those words, so a scrape that races a
 * request still renders a histogram whose +Inf bucket equals its count.
 */
#include <sys/mman.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "xmalloc.h"

#define NSTATUS		(METRICS_STATUS_MAX - METRICS_STATUS_MIN + 1)
#define NLAT		(METRICS_LATENCY_BUCKETS + 1)	/* with +Inf */
#define NDBW		(METRICS_DB_WAIT_BUCKETS + 1)

/* The fixed words at the start of a slot. */
enum {
	W_STARTS,
	W_OPEN,
	W_BUSY,
	W_QUEUED,
	W_DBW_SUM,
	W_DBW,			/* NDBW words */
	W_FIXED = W_DBW + NDBW,
};

const double metrics_latency_bounds[METRICS_LATENCY_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
const double metrics_db_wait_bounds[METRICS_DB_WAIT_BUCKETS] = {
	0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5,
};

struct metrics {
	size_t		 nops;		/* operations, plus one for "unmatched" */
	size_t		 nslots;
	size_t		 words;		/* per slot */
	/* Offsets (in words) of the per-operation arrays within a slot. */
	size_t		 off_req;	/* nops * NSTATUS */
	size_t		 off_lat;	/* nops * NLAT */
	size_t		 off_lat_sum;	/* nops */
	uint64_t	*base;		/* the shared mapping */
	size_t		 maplen;
};

struct mbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static uint64_t	*m_slot(struct metrics *, size_t);
static void	 m_add(uint64_t *, uint64_t);
static uint64_t	 m_load(const uint64_t *);
static size_t	 m_bucket(const double *, size_t, uint64_t);
static void	 mb_printf(struct mbuf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 mb_label(struct mbuf *, const char *);
static void	 mb_family(struct mbuf *, const char *, const char *,
		    const char *);
static void	 mb_labels(struct mbuf *, const char *, const char *,
		    const char *);
static void	 mb_histogram(struct mbuf *, const char *, const char *,
		    const char *, const double *, size_t, const uint64_t *,
		    uint64_t);
static void	 mb_outbox(struct mbuf *, const json_t *);

struct metrics *
metrics_new(size_t nops, size_t nslots)
{
	struct metrics	*m;
	void		*p;

	m = xcalloc(1, sizeof(*m));
	m->nops = nops + 1;
	m->nslots = nslots;
	m->off_req = W_FIXED;
	m->off_lat = m->off_req + m->nops * NSTATUS;
	m->off_lat_sum = m->off_lat + m->nops * NLAT;
	m->words = m->off_lat_sum + m->nops;
	m->maplen = m->words * nslots * sizeof(uint64_t);
	if (m->maplen == 0)
		m->maplen = sizeof(uint64_t);
	/* Shared with the workers forked after this; zero-filled. */
	p = mmap(NULL, m->maplen, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		abort();
	m->base = p;
	return (m);
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	munmap(m->base, m->maplen);
	free(m);
}

static uint64_t *
m_slot(struct metrics *m, size_t slot)
{
	if (m == NULL || slot >= m->nslots)
		return (NULL);
	return (m->base + slot * m->words);
}

static void
m_add(uint64_t *w, uint64_t v)
{
	__atomic_fetch_add(w, v, __ATOMIC_RELAXED);
}

static uint64_t
m_load(const uint64_t *w)
{
	return (__atomic_load_n(w, __ATOMIC_RELAXED));
}

/* The bucket of usec: the first bound it does not exceed, or +Inf's. */
static size_t
m_bucket(const double *bounds, size_t n, uint64_t usec)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if ((double)usec <= bounds[i] * 1e6)
			return (i);
	}
	return (n);
}

void
metrics_worker_start(struct metrics *m, size_t slot)
{
	uint64_t	*s;

	if ((s = m_slot(m, slot)) == NULL)
		return;
	__atomic_store_n(&s[W_OPEN], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s[W_BUSY], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s[W_QUEUED], 0, __ATOMIC_RELAXED);
	m_add(&s[W_STARTS], 1);
}

void
metrics_request(struct metrics *m, size_t slot, size_t op, int status,
    uint64_t usec)
{
	uint64_t	*s;

	if ((s = m_slot(m, slot)) == NULL || op >= m->nops)
		return;
	if (status < METRICS_STATUS_MIN || status > METRICS_STATUS_MAX)
		status = 500;
	m_add(&s[m->off_req + op * NSTATUS + (status - METRICS_STATUS_MIN)], 1);
	m_add(&s[m->off_lat + op * NLAT + m_bucket(metrics_latency_bounds,
	    METRICS_LATENCY_BUCKETS, usec)], 1);
	m_add(&s[m->off_lat_sum + op], usec);
}

void
metrics_db_wait(struct metrics *m, size_t slot, uint64_t usec)
{
	uint64_t	*s;

	if ((s = m_slot(m, slot)) == NULL)
		return;
	m_add(&s[W_DBW + m_bucket(metrics_db_wait_bounds,
	    METRICS_DB_WAIT_BUCKETS, usec)], 1);
	m_add(&s[W_DBW_SUM], usec);
}

void
metrics_pool(struct metrics *m, size_t slot, int64_t open, int64_t busy,
    int64_t queued)
{
	uint64_t	*s;

	if ((s = m_slot(m, slot)) == NULL)
		return;
	__atomic_store_n(&s[W_OPEN], (uint64_t)open, __ATOMIC_RELAXED);
	__atomic_store_n(&s[W_BUSY], (uint64_t)busy, __ATOMIC_RELAXED);
	__atomic_store_n(&s[W_QUEUED], (uint64_t)queued, __ATOMIC_RELAXED);
}

static void
mb_printf(struct mbuf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (b->p == NULL) {
		b->cap = 4096;
		b->p = xmalloc(b->cap);
	}
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
}

/* A label value, escaped as the format asks: \\, \" and \n. */
static void
mb_label(struct mbuf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			mb_printf(b, "\\\\");
		else if (*v == '"')
			mb_printf(b, "\\\"");
		else if (*v == '\n')
			mb_printf(b, "\\n");
		else
			mb_printf(b, "%c", *v);
	}
}

static void
mb_family(struct mbuf *b, const char *name, const char *type,
    const char *help)
{
	mb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* `{lname="lvalue"le="..."}` or `{le="..."}`: lname NULL for none. */
static void
mb_labels(struct mbuf *b, const char *lname, const char *lvalue,
    const char *le)
{
	if (lname == NULL && le == NULL)
		return;
	mb_printf(b, "{");
	if (lname != NULL) {
		mb_printf(b, "%s=\"", lname);
		mb_label(b, lvalue);
		mb_printf(b, "\"%s", le != NULL ? "," : "");
	}
	if (le != NULL)
		mb_printf(b, "le=\"%s\"", le);
	mb_printf(b, "}");
}

/*
 * The samples of one histogram: cumulative buckets from the per-bucket
 * words w (n bounds, then +Inf), _sum from sum_us, _count from the words.
 * lname and lvalue are its one label, or NULL for none.
 */
static void
mb_histogram(struct mbuf *b, const char *name, const char *lname,
    const char *lvalue, const double *bounds, size_t n, const uint64_t *w,
    uint64_t sum_us)
{
	uint64_t	cum = 0;
	size_t		i;
	char		le[32];

	for (i = 0; i <= n; i++) {
		cum += w[i];
		if (i < n)
			snprintf(le, sizeof(le), "%g", bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		mb_printf(b, "%s_bucket", name);
		mb_labels(b, lname, lvalue, le);
		mb_printf(b, " %llu\n", (unsigned long long)cum);
	}
	mb_printf(b, "%s_sum", name);
	mb_labels(b, lname, lvalue, NULL);
	mb_printf(b, " %.6f\n", (double)sum_us / 1e6);
	mb_printf(b, "%s_count", name);
	mb_labels(b, lname, lvalue, NULL);
	mb_printf(b, " %llu\n", (unsigned long long)cum);
}

static void
mb_outbox(struct mbuf *b, const json_t *outbox)
{
	const char	*channel, *status;
	json_t		*byst, *n;

	mb_family(b, "keywork_outbox_deliveries", "gauge", "Deliveries in the "
	    "scheduled worker's outbox, by channel and status (pending: "
	    "waiting to be sent; sent; dead: given up).");
	json_object_foreach((json_t *)outbox, channel, byst) {
		if (!json_is_object(byst))
			continue;
		json_object_foreach(byst, status, n) {
			if (!json_is_integer(n) || json_integer_value(n) < 0)
				continue;
			mb_printf(b, "keywork_outbox_deliveries{channel=\"");
			mb_label(b, channel);
			mb_printf(b, "\",status=\"");
			mb_label(b, status);
			mb_printf(b, "\"} %lld\n",
			    (long long)json_integer_value(n));
		}
	}
}

char *
metrics_render_outbox(const json_t *outbox, size_t *len)
{
	struct mbuf	b = { NULL, 0, 0 };

	mb_outbox(&b, outbox);
	*len = b.len;
	return (b.p);
}

char *
metrics_render(struct metrics *m, const char *const *op_names,
    const struct metrics_info *info, const json_t *outbox, size_t *len)
{
	struct mbuf	 b = { NULL, 0, 0 };
	uint64_t	*sum, *s, v, total;
	size_t		 i, j, op;
	const char	*name;

	/* A snapshot: every slot summed, word by word. */
	sum = xcalloc(m->words, sizeof(*sum));
	for (i = 0; i < m->nslots; i++) {
		s = m_slot(m, i);
		for (j = 0; j < m->words; j++)
			sum[j] += m_load(&s[j]);
	}

	mb_family(&b, "keywork_http_requests_total", "counter",
	    "HTTP requests answered, by operation (operationId, or "
	    "\"unmatched\" when no operation matched) and status.");
	for (op = 0; op < m->nops; op++) {
		name = op < m->nops - 1 ? op_names[op] : "unmatched";
		for (j = 0; j < NSTATUS; j++) {
			v = sum[m->off_req + op * NSTATUS + j];
			if (v == 0)
				continue;
			mb_printf(&b, "keywork_http_requests_total{operation=\"");
			mb_label(&b, name);
			mb_printf(&b, "\",status=\"%zu\"} %llu\n",
			    j + METRICS_STATUS_MIN, (unsigned long long)v);
		}
	}

	mb_family(&b, "keywork_http_request_duration_seconds", "histogram",
	    "Time from a request's arrival in the module to its answer, by "
	    "operation.");
	for (op = 0; op < m->nops; op++) {
		for (j = 0, total = 0; j < NLAT; j++)
			total += sum[m->off_lat + op * NLAT + j];
		if (total == 0)
			continue;
		name = op < m->nops - 1 ? op_names[op] : "unmatched";
		mb_histogram(&b, "keywork_http_request_duration_seconds",
		    "operation", name, metrics_latency_bounds,
		    METRICS_LATENCY_BUCKETS, &sum[m->off_lat + op * NLAT],
		    sum[m->off_lat_sum + op]);
	}

	mb_family(&b, "keywork_db_connection_wait_seconds", "histogram",
	    "Time a statement waited for a free database connection.");
	mb_histogram(&b, "keywork_db_connection_wait_seconds", NULL, NULL,
	    metrics_db_wait_bounds, METRICS_DB_WAIT_BUCKETS, &sum[W_DBW],
	    sum[W_DBW_SUM]);

	mb_family(&b, "keywork_db_connections_open", "gauge",
	    "Database connections open, all workers.");
	mb_printf(&b, "keywork_db_connections_open %lld\n",
	    (long long)sum[W_OPEN]);
	mb_family(&b, "keywork_db_connections_busy", "gauge",
	    "Database connections running a statement, all workers.");
	mb_printf(&b, "keywork_db_connections_busy %lld\n",
	    (long long)sum[W_BUSY]);
	mb_family(&b, "keywork_db_connections_max", "gauge",
	    "Database connections the workers may open, all workers.");
	mb_printf(&b, "keywork_db_connections_max %lld\n",
	    (long long)info->workers * info->db_connections);
	mb_family(&b, "keywork_db_requests_queued", "gauge",
	    "Requests waiting for a free database connection, all workers.");
	mb_printf(&b, "keywork_db_requests_queued %lld\n",
	    (long long)sum[W_QUEUED]);

	mb_family(&b, "keywork_build_info", "gauge",
	    "The API's version (the spec's info.version), as a label.");
	mb_printf(&b, "keywork_build_info{version=\"");
	mb_label(&b, info->version != NULL ? info->version : "");
	mb_printf(&b, "\"} 1\n");
	mb_family(&b, "process_start_time_seconds", "gauge",
	    "Start time of the server (Kore's parent process), Unix seconds.");
	mb_printf(&b, "process_start_time_seconds %.3f\n", info->start_time);
	mb_family(&b, "keywork_workers", "gauge",
	    "Worker processes configured.");
	mb_printf(&b, "keywork_workers %d\n", info->workers);
	mb_family(&b, "keywork_worker_starts_total", "counter",
	    "Worker processes started, restarts included.");
	mb_printf(&b, "keywork_worker_starts_total %llu\n",
	    (unsigned long long)sum[W_STARTS]);

	if (outbox != NULL)
		mb_outbox(&b, outbox);

	free(sum);
	*len = b.len;
	return (b.p);
}
