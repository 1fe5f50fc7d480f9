/*
 * metrics: the server's counters, histograms and gauges, shared by Kore's
 * worker processes, and their Prometheus text exposition (format 0.0.4).
 *
 * Kore serves with several worker processes and a scrape reaches one of
 * them, so the numbers live in one shared anonymous mapping that the parent
 * creates before the workers fork (metrics_new). The mapping has one slot
 * per worker; a worker writes only its own slot, with relaxed atomic adds
 * and stores, and a scrape, served by any worker, sums every slot
 * (metrics_render). A worker that is restarted keeps its slot, so counters
 * never go backwards; its gauges start again from zero (metrics_worker_start).
 *
 * Nothing here knows Kore: the module maps a worker to a slot and an
 * operation to its index in the spec. Only identifiers and numbers are
 * recorded: no path, query, body or user.
 */
#ifndef KEYWORK_METRICS_H
#define KEYWORK_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Upper bounds (seconds) of the histograms' buckets; +Inf follows. */
#define METRICS_LATENCY_BUCKETS	13
#define METRICS_DB_WAIT_BUCKETS	13
extern const double metrics_latency_bounds[METRICS_LATENCY_BUCKETS];
extern const double metrics_db_wait_bounds[METRICS_DB_WAIT_BUCKETS];

/* Statuses counted one by one; anything else is counted as 500. */
#define METRICS_STATUS_MIN	100
#define METRICS_STATUS_MAX	599

struct metrics;

/* What a scrape reports besides the counters (borrowed for the call). */
struct metrics_info {
	const char	*version;	/* the spec's info.version */
	double		 start_time;	/* server start, Unix seconds */
	int		 workers;	/* configured worker processes */
	int		 db_connections; /* configured connections per worker */
};

/*
 * A shared mapping for nops operations (indexes 0..nops-1; index nops
 * counts requests that matched no operation) and nslots workers. Must be
 * called before the workers fork. Aborts when the mapping cannot be made.
 */
struct metrics	*metrics_new(size_t nops, size_t nslots);
void		 metrics_free(struct metrics *);	/* NULL is safe */

/* Slots and operations out of range are ignored by every recorder. */

/* A worker (re)started in slot: its gauges start from zero. */
void	metrics_worker_start(struct metrics *, size_t slot);

/* One finished request: operation index, HTTP status, duration in us. */
void	metrics_request(struct metrics *, size_t slot, size_t op, int status,
	    uint64_t usec);

/* One statement got a database connection after waiting usec for it. */
void	metrics_db_wait(struct metrics *, size_t slot, uint64_t usec);

/* The worker's pool now: connections open, connections busy, requests queued. */
void	metrics_pool(struct metrics *, size_t slot, int64_t open, int64_t busy,
	    int64_t queued);

/*
 * The exposition: every slot summed, as Prometheus text. op_names holds the
 * nops operation ids (borrowed). outbox, when not NULL, is the worker
 * outbox's counts as api.metrics_outbox() returns them,
 * {"<channel>": {"<status>": <count>, ...}, ...}; see metrics_render_outbox.
 * Returns a malloc'd NUL-terminated string and its length in *len.
 */
char	*metrics_render(struct metrics *, const char *const *op_names,
	    const struct metrics_info *, const json_t *outbox, size_t *len);

/*
 * The worker outbox's family alone, keywork_outbox_deliveries{channel,
 * status}: one gauge per pair of outbox, {"<channel>": {"<status>":
 * <count>, ...}, ...}. Members that are not objects of non-negative
 * integers are skipped; an empty object renders the family with no samples.
 * Returns a malloc'd string and its length in *len.
 *
 * This is the hook for the separate keywork-worker's numbers (outbox depth,
 * deliveries sent and dead per channel): that program is not a Kore worker
 * and has no slot, so they are read from the database at scrape time
 * (api.metrics_outbox(), sql/migrations/0012_metrics.sql) and handed to
 * metrics_render.
 */
char	*metrics_render_outbox(const json_t *outbox, size_t *len);

#endif
