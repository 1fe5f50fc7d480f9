/*
 * keywork: the Kore application module.
 *
 * In Kore's parent process, before any worker starts, kore_parent_configure
 * loads the configuration and openapi.yaml and binds every operation to its
 * handler; any fault stops start-up with a message, so a server whose spec
 * and code disagree never serves. Workers inherit all of it and, in kw_init,
 * register the database for Kore's asynchronous PostgreSQL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <kore/kore.h>
#include <kore/hooks.h>
#include <kore/http.h>
#include <kore/pgsql.h>
#include <kore/seccomp.h>

#include "config.h"
#include "handlers.h"
#include "http.h"
#include "log.h"

int	kw_init(int);

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
 */
KORE_SECCOMP_FILTER("keywork",
	KORE_SYSCALL_ALLOW(newfstatat),
	KORE_SYSCALL_ALLOW(getdents64),
	KORE_SYSCALL_ALLOW(getrandom),
	KORE_SYSCALL_ALLOW(rseq),
	KORE_SYSCALL_ALLOW(gettid),
	KORE_SYSCALL_ALLOW(set_robust_list),
	KORE_SYSCALL_ALLOW(sched_getaffinity),
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
	    config.statement_timeout_ms, err, sizeof(err))) == NULL)
		fatal("%s", err);
	if ((kw_spec = openapi_load(config.spec_path, err, sizeof(err))) == NULL)
		fatal("%s", err);
	if (handlers_bind(kw_spec, stderr) == -1)
		fatal("%s: spec and handlers disagree (see above)",
		    config.spec_path);
	if (h_docs_load(config.docs_dir, err, sizeof(err)) == -1)
		fatal("the API reference page: %s (make docs builds it)", err);
	log_msg(LOG_LVL_INFO, "server", NULL, "%zu operations bound from %s",
	    openapi_op_count(kw_spec), config.spec_path);
}

int
kw_init(int state)
{
	if (state != KORE_MODULE_LOAD)
		return KORE_RESULT_OK;
	if (!kore_pgsql_register("db", db_conninfo_api)) {
		kore_log(LOG_ERR, "cannot register the database");
		return KORE_RESULT_ERROR;
	}
	return KORE_RESULT_OK;
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
