/*
 * metrics: recording into worker slots, summing them, and the Prometheus
 * text exposition, read back with the strict reader of tests/common.
 * Also the reader itself, on documents it must refuse, and the example of
 * GET /metrics in openapi.yaml.
 */
#include <sys/wait.h>

#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "metrics.h"
#include "openapi.h"
#include "../common/promtext.h"

static const char *const ops[] = { "getHealth", "createNote", "listEpisodes" };

static const struct metrics_info info = {
	.version = "1.2.3",
	.start_time = 1700000000.5,
	.workers = 2,
	.db_connections = 4,
};

/* Render m and parse the text strictly; the caller frees doc. */
static void
render_parse(struct metrics *m, const json_t *outbox, struct prom_doc *doc)
{
	char	*text, err[256];
	size_t	 len;

	text = metrics_render(m, ops, &info, outbox, &len);
	cr_assert_not_null(text);
	cr_assert_eq(strlen(text), len);
	cr_assert_eq(prom_parse(text, len, doc, err, sizeof(err)), 0,
	    "%s\n%s", err, text);
	free(text);
}

Test(metrics, fresh_renders_every_family_and_parses)
{
	struct metrics	*m = metrics_new(3, 2);
	struct prom_doc	 d;

	render_parse(m, NULL, &d);
	cr_assert_str_eq(prom_family(&d, "keywork_http_requests_total")->type,
	    "counter");
	cr_assert_str_eq(prom_family(&d,
	    "keywork_http_request_duration_seconds")->type, "histogram");
	cr_assert_str_eq(prom_family(&d,
	    "keywork_db_connection_wait_seconds")->type, "histogram");
	cr_assert_eq(prom_get(&d, "keywork_http_requests_total",
	    "operation=\"getHealth\",status=\"200\""), -1,
	    "no sample for what never happened");
	cr_assert_eq(prom_get(&d, "keywork_db_connection_wait_seconds_count",
	    ""), 0);
	cr_assert_eq(prom_get(&d, "keywork_db_connections_max", ""), 8);
	cr_assert_eq(prom_get(&d, "keywork_workers", ""), 2);
	cr_assert_eq(prom_get(&d, "keywork_build_info",
	    "version=\"1.2.3\""), 1);
	cr_assert_float_eq(prom_get(&d, "process_start_time_seconds", ""),
	    1700000000.5, 1e-3);
	cr_assert_null(prom_family(&d, "keywork_outbox_deliveries"));
	prom_free(&d);
	metrics_free(m);
}

Test(metrics, requests_are_summed_over_slots_by_operation_and_status)
{
	struct metrics	*m = metrics_new(3, 2);
	struct prom_doc	 d;

	metrics_request(m, 0, 1, 201, 3000);	/* 3 ms */
	metrics_request(m, 1, 1, 201, 500);	/* 0.5 ms */
	metrics_request(m, 1, 1, 404, 20000000); /* 20 s: +Inf only */
	metrics_request(m, 0, 0, 200, 1000);	/* exactly 1 ms: le="0.001" */
	metrics_request(m, 0, 3, 404, 100);	/* no operation matched */
	render_parse(m, NULL, &d);

	cr_assert_eq(prom_get(&d, "keywork_http_requests_total",
	    "operation=\"createNote\",status=\"201\""), 2);
	cr_assert_eq(prom_get(&d, "keywork_http_requests_total",
	    "operation=\"createNote\",status=\"404\""), 1);
	cr_assert_eq(prom_get(&d, "keywork_http_requests_total",
	    "operation=\"getHealth\",status=\"200\""), 1);
	cr_assert_eq(prom_get(&d, "keywork_http_requests_total",
	    "operation=\"unmatched\",status=\"404\""), 1);
	cr_assert_eq(prom_get(&d, "keywork_http_requests_total",
	    "operation=\"listEpisodes\",status=\"200\""), -1);

#define DUR "keywork_http_request_duration_seconds"
#define CN "operation=\"createNote\""
	cr_assert_eq(prom_bucket(&d, DUR "_bucket", CN, "0.001"), 1);
	cr_assert_eq(prom_bucket(&d, DUR "_bucket", CN, "0.0025"), 1);
	cr_assert_eq(prom_bucket(&d, DUR "_bucket", CN, "0.005"), 2);
	cr_assert_eq(prom_bucket(&d, DUR "_bucket", CN, "10"), 2);
	cr_assert_eq(prom_bucket(&d, DUR "_bucket", CN, "+Inf"), 3);
	cr_assert_eq(prom_get(&d, DUR "_count", CN), 3);
	cr_assert_float_eq(prom_get(&d, DUR "_sum", CN), 20.0035, 1e-9);
	cr_assert_eq(prom_bucket(&d, DUR "_bucket",
	    "operation=\"getHealth\"", "0.001"), 1);
	cr_assert_eq(prom_get(&d, DUR "_count", "operation=\"listEpisodes\""),
	    -1, "no histogram for an operation never called");
#undef CN
#undef DUR
	prom_free(&d);
	metrics_free(m);
}

Test(metrics, out_of_range_is_ignored_or_counted_as_500)
{
	struct metrics	*m = metrics_new(3, 2);
	struct prom_doc	 d;

	metrics_request(m, 2, 0, 200, 1);	/* no such slot */
	metrics_request(m, 0, 4, 200, 1);	/* no such operation */
	metrics_request(m, 0, 0, 0, 1);		/* no status */
	metrics_request(m, 0, 0, 700, 1);
	metrics_db_wait(m, 9, 1);
	metrics_pool(m, 9, 1, 1, 1);
	metrics_worker_start(m, 9);
	metrics_request(NULL, 0, 0, 200, 1);
	render_parse(m, NULL, &d);
	cr_assert_eq(prom_get(&d, "keywork_http_requests_total",
	    "operation=\"getHealth\",status=\"500\""), 2);
	cr_assert_eq(prom_get(&d, "keywork_http_requests_total",
	    "operation=\"getHealth\",status=\"200\""), -1);
	cr_assert_eq(prom_get(&d, "keywork_db_connection_wait_seconds_count",
	    ""), 0);
	cr_assert_eq(prom_get(&d, "keywork_db_connections_open", ""), 0);
	cr_assert_eq(prom_get(&d, "keywork_worker_starts_total", ""), 0);
	prom_free(&d);
	metrics_free(m);
	metrics_free(NULL);
}

Test(metrics, database_wait_and_pool_gauges)
{
	struct metrics	*m = metrics_new(3, 2);
	struct prom_doc	 d;

	metrics_worker_start(m, 0);
	metrics_worker_start(m, 1);
	metrics_db_wait(m, 0, 0);
	metrics_db_wait(m, 1, 0);
	metrics_db_wait(m, 1, 30000);		/* 30 ms */
	metrics_pool(m, 0, 4, 3, 7);
	metrics_pool(m, 1, 2, 1, 0);
	render_parse(m, NULL, &d);
#define W "keywork_db_connection_wait_seconds"
	cr_assert_eq(prom_bucket(&d, W "_bucket", "", "0.0001"), 2);
	cr_assert_eq(prom_bucket(&d, W "_bucket", "", "0.025"), 2);
	cr_assert_eq(prom_bucket(&d, W "_bucket", "", "0.05"), 3);
	cr_assert_eq(prom_get(&d, W "_count", ""), 3);
	cr_assert_float_eq(prom_get(&d, W "_sum", ""), 0.03, 1e-9);
#undef W
	cr_assert_eq(prom_get(&d, "keywork_db_connections_open", ""), 6);
	cr_assert_eq(prom_get(&d, "keywork_db_connections_busy", ""), 4);
	cr_assert_eq(prom_get(&d, "keywork_db_requests_queued", ""), 7);
	cr_assert_eq(prom_get(&d, "keywork_worker_starts_total", ""), 2);
	prom_free(&d);

	/* A restarted worker: its gauges start again, its counters do not. */
	metrics_worker_start(m, 0);
	render_parse(m, NULL, &d);
	cr_assert_eq(prom_get(&d, "keywork_db_connections_open", ""), 2);
	cr_assert_eq(prom_get(&d, "keywork_db_requests_queued", ""), 0);
	cr_assert_eq(prom_get(&d, "keywork_worker_starts_total", ""), 3);
	cr_assert_eq(prom_get(&d, "keywork_db_connection_wait_seconds_count",
	    ""), 3);
	prom_free(&d);
	metrics_free(m);
}

/* The property the server relies on: workers forked after metrics_new. */
Test(metrics, slots_are_shared_with_forked_processes)
{
	struct metrics	*m = metrics_new(3, 2);
	struct prom_doc	 d;
	pid_t		 pid[2];
	int		 i, j, st;

	for (i = 0; i < 2; i++) {
		if ((pid[i] = fork()) == 0) {
			for (j = 0; j < 1000; j++)
				metrics_request(m, (size_t)i, 2, 200, 50);
			_exit(0);
		}
		cr_assert_gt(pid[i], 0);
	}
	for (i = 0; i < 2; i++) {
		cr_assert_eq(waitpid(pid[i], &st, 0), pid[i]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	render_parse(m, NULL, &d);
	cr_assert_eq(prom_get(&d, "keywork_http_requests_total",
	    "operation=\"listEpisodes\",status=\"200\""), 2000);
	cr_assert_eq(prom_get(&d, "keywork_http_request_duration_seconds_count",
	    "operation=\"listEpisodes\""), 2000);
	prom_free(&d);
	metrics_free(m);
}

Test(metrics, label_values_are_escaped)
{
	static const char *const odd[] = { "a\"b", "c\\d", "e\nf" };
	struct metrics	*m = metrics_new(3, 1);
	struct prom_doc	 d;
	char		*text, err[256];
	size_t		 len;

	metrics_request(m, 0, 0, 200, 1);
	metrics_request(m, 0, 1, 200, 1);
	metrics_request(m, 0, 2, 200, 1);
	text = metrics_render(m, odd, &info, NULL, &len);
	cr_assert_eq(prom_parse(text, len, &d, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(prom_get(&d, "keywork_http_requests_total",
	    "operation=\"a\\\"b\",status=\"200\""), 1);
	cr_assert_eq(prom_get(&d, "keywork_http_requests_total",
	    "operation=\"c\\\\d\",status=\"200\""), 1);
	cr_assert_eq(prom_get(&d, "keywork_http_request_duration_seconds_count",
	    "operation=\"e\\nf\""), 1);
	prom_free(&d);
	free(text);
	metrics_free(m);
}

Test(metrics, outbox_counts_by_channel_and_status)
{
	struct metrics	*m = metrics_new(3, 1);
	struct prom_doc	 d;
	json_t		*outbox;
	char		*text, err[256];
	size_t		 len;

	outbox = json_pack("{s:{s:i,s:i,s:i},s:{s:i},s:s,s:{s:s,s:i}}",
	    "email", "pending", 3, "sent", 10, "dead", 1,
	    "webhook", "pending", 0,
	    "junk", "x",
	    "sms", "sent", "many", "dead", -1);
	render_parse(m, outbox, &d);
	cr_assert_str_eq(prom_family(&d, "keywork_outbox_deliveries")->type,
	    "gauge");
#define OB "keywork_outbox_deliveries"
	cr_assert_eq(prom_get(&d, OB, "channel=\"email\",status=\"pending\""), 3);
	cr_assert_eq(prom_get(&d, OB, "channel=\"email\",status=\"sent\""), 10);
	cr_assert_eq(prom_get(&d, OB, "channel=\"email\",status=\"dead\""), 1);
	cr_assert_eq(prom_get(&d, OB, "channel=\"webhook\",status=\"pending\""),
	    0);
	cr_assert_eq(prom_get(&d, OB, "channel=\"sms\",status=\"sent\""), -1);
	cr_assert_eq(prom_get(&d, OB, "channel=\"sms\",status=\"dead\""), -1);
#undef OB
	prom_free(&d);
	json_decref(outbox);

	/* No outbox table: the family, without samples. */
	outbox = json_object();
	text = metrics_render_outbox(outbox, &len);
	cr_assert_eq(prom_parse(text, len, &d, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(d.n, 0);
	cr_assert_not_null(prom_family(&d, "keywork_outbox_deliveries"));
	prom_free(&d);
	free(text);
	json_decref(outbox);
	metrics_free(m);
}

/* The reader must be able to fail: each of these is refused. */
Test(promtext, refuses_what_a_scraper_would_not_take)
{
	static const char *const bad[] = {
		"",
		"# TYPE a counter\na 1",			/* no newline */
		"a 1\n",					/* no TYPE */
		"# TYPE a counter\n\na 1\n",			/* blank line */
		"# TYPE a counter\na 1 1700000000\n",		/* timestamp */
		"# TYPE a counter\na -1\n",
		"# TYPE a counter\na{x=\"1\",x=\"2\"} 1\n",
		"# TYPE a counter\na{x=\"\\t\"} 1\n",
		"# TYPE a counter\na{x=1} 1\n",
		"# TYPE a counter\na{x=\"1\"} one\n",
		"# TYPE a counter\n# TYPE a gauge\na 1\n",
		"# TYPE a counter\n# TYPE b gauge\na 1\nb 1\na{x=\"1\"} 1\n",
		"# TYPE a counter\na 1\na 1\n",
		"# TYPE a counter\na 1\n# HELP a late\n",
		"# a comment\n",
		"# TYPE a whatever\na 1\n",
		/* histograms */
		"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\n"
		    "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n",
		"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
		"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
		    "h_sum 1\nh_count 3\n",
		"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n",
		"# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
		    "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
		"# TYPE h histogram\nh_sum{le=\"1\"} 1\n",
		NULL,
	};
	static const char good[] =
	    "# HELP a A counter.\n# TYPE a counter\na{x=\"1\",y=\"\\\"\"} 1\n"
	    "a 2.5e3\n# TYPE g gauge\ng -3\n# TYPE h histogram\n"
	    "h_bucket{k=\"v\",le=\"0.5\"} 1\nh_bucket{k=\"v\",le=\"+Inf\"} 2\n"
	    "h_sum{k=\"v\"} 0.7\nh_count{k=\"v\"} 2\n";
	struct prom_doc	 d;
	char		 err[256];
	size_t		 i;

	for (i = 0; bad[i] != NULL; i++) {
		cr_expect_eq(prom_parse(bad[i], strlen(bad[i]), &d, err,
		    sizeof(err)), -1, "accepted bad document %zu:\n%s", i,
		    bad[i]);
		prom_free(&d);
	}
	cr_assert_eq(prom_parse(good, strlen(good), &d, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_eq(prom_get(&d, "a", ""), 2500);
	cr_assert_eq(prom_get(&d, "a", "x=\"1\",y=\"\\\"\""), 1);
	cr_assert_eq(prom_bucket(&d, "h_bucket", "k=\"v\"", "+Inf"), 2);
	prom_free(&d);
}

/* The spec's example of GET /metrics is itself valid exposition. */
Test(metrics, openapi_example_parses)
{
	struct openapi		*oa;
	struct openapi_op	*op;
	const json_t		*ex;
	struct prom_doc		 d;
	char			 err[512];
	const char		*text;

	oa = openapi_load("openapi.yaml", err, sizeof(err));
	cr_assert_not_null(oa, "%s", err);
	op = openapi_op_find(oa, "getMetrics");
	cr_assert_not_null(op);
	cr_assert(op->internal, "getMetrics is served on the internal "
	    "listener only");
	ex = json_object_get(json_object_get(json_object_get(
	    json_object_get(op->responses, "200"), "content"), "text/plain"),
	    "example");
	cr_assert(json_is_string(ex));
	text = json_string_value(ex);
	cr_assert_eq(prom_parse(text, strlen(text), &d, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_geq(prom_get(&d, "keywork_http_requests_total",
	    "operation=\"getEpisode\",status=\"200\""), 0);
	prom_free(&d);
	openapi_free(oa);
}
