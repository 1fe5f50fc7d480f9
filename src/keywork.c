/*
 * keywork: the Kore application module.
 *
 * In Kore's parent process, before any worker starts, kore_parent_configure
 * loads the configuration and openapi.yaml, binds every operation to its
 * handler, and maps the metrics that the workers share; any fault stops
 * start-up with a message, so a server whose spec and code disagree never
 * serves. Workers inherit all of it and, in kw_init, register the database
 * for Kore's asynchronous PostgreSQL.
 *
 * On SIGTERM (or SIGINT, SIGQUIT) Kore's parent signals every worker, and a
 * worker leaves its event loop at once and closes every connection, answered
 * or not. kore_worker_teardown runs just before that: it stops the listening
 * sockets, lets the requests in flight finish (up to shutdown_grace_seconds)
 * and their answers go out, and only then lets Kore close the connections
 * and the database connections, now all idle.
 */
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <kore/kore.h>
#include <kore/hooks.h>
#include <kore/http.h>
#include <kore/pgsql.h>
#include <kore/seccomp.h>

#include "config.h"
#include "handlers.h"
#include "metrics.h"
#include "http.h"
#include "log.h"
#include "ratelimit.h"

int	kw_init(int);
void	kore_worker_teardown(void);

static int	kw_draining(int *);
static void	kw_close_idle(void);

/* The API role's connection string with keywork's session options. */
static char	*db_conninfo_api;
int	kw_bench_bare(struct http_request *);

/*
 * System calls the worker needs beyond Kore's own list: glibc 2.36 stats
 * files with newfstatat when libpq first connects and reads directories
 * with getdents64. Task threads (password hashing) are started with clone3
 * where the kernel has it: answering ENOSYS makes glibc fall back to clone,
 * which Kore's list allows. A new thread registers its rseq area (glibc
 * treats a refusal as fatal once the main thread has one) and asks gettid.
 * Under AddressSanitizer (make test-asan) a new thread also reads its CPU
 * affinity; refused, the task thread is killed and its request never ends.
 * On SIGTERM the worker shuts the listening sockets down (see
 * kore_worker_teardown).
 */
KORE_SECCOMP_FILTER("keywork",
	KORE_SYSCALL_ALLOW(newfstatat),
	KORE_SYSCALL_ALLOW(getdents64),
	KORE_SYSCALL_ALLOW(getrandom),
	KORE_SYSCALL_ALLOW(rseq),
	KORE_SYSCALL_ALLOW(gettid),
	KORE_SYSCALL_ALLOW(set_robust_list),
	KORE_SYSCALL_ALLOW(sched_getaffinity),
	KORE_SYSCALL_ALLOW(shutdown),
	KORE_SYSCALL_DENY(clone3, ENOSYS)
);

void
kore_parent_configure(int argc, char **argv)
{
	const char	*path;
	char		 err[512];

	if ((path = getenv("KEYWORK_CONFIG")) == NULL)
		path = "conf/keywork.conf";
	if (config_load(&config, path, err, sizeof(err)) == -1)
		fatal("%s", err);
	log_set_level(config.log_level);

	if ((db_conninfo_api = db_conninfo(config.database_url,
	    config.statement_timeout_ms, config.db_session_options, err,
	    sizeof(err))) == NULL)
		fatal("%s", err);
	if ((kw_spec = openapi_load(config.spec_path, err, sizeof(err))) == NULL)
		fatal("%s", err);
	if (handlers_bind(kw_spec, stderr) == -1)
		fatal("%s: spec and handlers disagree (see above)",
		    config.spec_path);
	if (h_docs_load(config.docs_dir, err, sizeof(err)) == -1)
		fatal("the API reference page: %s (make docs builds it)", err);
	/*
	 * Before the workers fork: they share it. One slot per worker Kore
	 * will start: its own configuration says how many (0: one per CPU),
	 * whatever keywork's settings in this process say.
	 */
	kw_workers = worker_count > 0 ? worker_count : cpu_count;
	if (kw_workers < 1)
		kw_workers = 1;
	kw_metrics = metrics_new(openapi_op_count(kw_spec), (size_t)kw_workers);
	log_msg(LOG_LVL_DEBUG, "server", NULL, "metrics for %d workers",
	    kw_workers);
	/* The rate limits' buckets, shared the same way. */
	kw_ratelimit = ratelimit_new((size_t)config.rate_limit_table_size);
	kw_started_at = (double)time(NULL);
	log_msg(LOG_LVL_INFO, "server", NULL, "%zu operations bound from %s",
	    openapi_op_count(kw_spec), config.spec_path);
}

int
kw_init(int state)
{
	if (state != KORE_MODULE_LOAD)
		return KORE_RESULT_OK;
	/* Kore numbers the HTTP workers from 1. */
	kw_http_worker_start(worker != NULL && worker->id > 0 ?
	    (size_t)worker->id - 1 : 0);
	if (!kore_pgsql_register("db", db_conninfo_api)) {
		kore_log(LOG_ERR, "cannot register the database");
		return KORE_RESULT_ERROR;
	}
	return KORE_RESULT_OK;
}

/*
 * Kore calls this in a worker that has left its event loop to exit, before
 * it closes the listeners and every connection.
 */
void
kore_worker_teardown(void)
{
	struct kore_server	*srv;
	struct listener		*l;
	u_int64_t		 now, deadline;
	int			 conns;

	/*
	 * Stop accepting. The listening sockets are shared by the parent and
	 * every worker, so shutting one down stops it for all of them: from
	 * here a connection attempt is refused, not left in a backlog that
	 * nobody accepts from. Only the worker that holds Kore's accept lock
	 * polls them, and it does so here, first taking them out of its poll:
	 * another worker still polling one when it shuts would die of the
	 * error ("error on listening socket") with its requests. With no
	 * holder, the sockets stay until the parent closes them as it exits.
	 * (A worker exits only when the server stops: Kore's parent goes down
	 * when any worker leaves cleanly.)
	 */
	if (worker != NULL && worker->has_lock) {
		kore_platform_disable_accept();
		LIST_FOREACH(srv, &kore_servers, list) {
			LIST_FOREACH(l, &srv->listeners, list) {
				if (l->fd != -1)
					(void)shutdown(l->fd, SHUT_RDWR);
			}
		}
	}
	/* Every answer from now on closes its connection. */
	http_keepalive_time = 0;
	kw_close_idle();

	log_msg(LOG_LVL_INFO, "server", NULL, "worker %u stopping: %u "
	    "requests in flight", worker != NULL ? worker->id : 0,
	    http_request_count);
	sig_recv = 0;
	deadline = kore_time_ms() + (u_int64_t)config.shutdown_grace_seconds *
	    1000;
	/* Kore's event loop, without accepting, until nothing is left. */
	while (kw_draining(&conns)) {
		now = kore_time_ms();
		if (now >= deadline) {
			log_msg(LOG_LVL_WARN, "server", NULL, "worker %u: "
			    "shutdown_grace_seconds over with %u requests in "
			    "flight and %d connections sending",
			    worker != NULL ? worker->id : 0,
			    http_request_count, conns);
			return;
		}
		/* A second signal ends the wait. */
		if (sig_recv == SIGTERM || sig_recv == SIGINT ||
		    sig_recv == SIGQUIT) {
			log_msg(LOG_LVL_WARN, "server", NULL, "worker %u: "
			    "stopping at once with %u requests in flight",
			    worker != NULL ? worker->id : 0,
			    http_request_count);
			return;
		}
		sig_recv = 0;
		kore_platform_event_wait(50);
		http_process();
		now = kore_time_ms();
		kore_connection_check_timeout(now);
		kore_connection_prune(KORE_CONNECTION_PRUNE_DISCONNECT);
		kw_close_idle();
	}
	log_msg(LOG_LVL_INFO, "server", NULL, "worker %u: every request "
	    "answered", worker != NULL ? worker->id : 0);
}

/*
 * Whether the worker still has work: requests, answers being sent, or a
 * request partly received. *conns: connections still sending or receiving.
 */
static int
kw_draining(int *conns)
{
	struct connection	*c;

	*conns = 0;
	TAILQ_FOREACH(c, &connections, list) {
		/* The pipe to Kore's parent is not a client. */
		if (c->state == CONN_STATE_DISCONNECTING ||
		    c->proto == CONN_PROTO_MSG)
			continue;
		if (!TAILQ_EMPTY(&c->send_queue) ||
		    !TAILQ_EMPTY(&c->http_requests) ||
		    (c->rnb != NULL && c->rnb->s_off > 0))
			(*conns)++;
	}
	return http_request_count > 0 || *conns > 0;
}

/* Close the connections that have nothing in flight (kept alive, idle). */
static void
kw_close_idle(void)
{
	struct connection	*c, *next;

	for (c = TAILQ_FIRST(&connections); c != NULL; c = next) {
		next = TAILQ_NEXT(c, list);
		if (c->state != CONN_STATE_ESTABLISHED ||
		    c->proto == CONN_PROTO_MSG ||
		    !TAILQ_EMPTY(&c->send_queue) ||
		    !TAILQ_EMPTY(&c->http_requests) ||
		    (c->rnb != NULL && c->rnb->s_off > 0))
			continue;
		kore_connection_disconnect(c);
	}
}

/*
 * The benchmark's reference: a bare Kore route with no routing by the spec,
 * no validation and no database. Only `make bench` routes to it (its own
 * Kore configuration adds the route); the service's configuration never
 * does.
 */
int
kw_bench_bare(struct http_request *req)
{
	static const char	body[] = "{\"status\":\"ok\"}";

	http_response_header(req, "content-type", "application/json");
	http_response(req, 200, body, sizeof(body) - 1);
	return KORE_RESULT_OK;
}
