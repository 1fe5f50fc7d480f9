/*
 * Handlers of the "service" tag: liveness, readiness, metrics and the spec
 * itself.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "log.h"

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

static int	metrics_outbox(struct kw_req *, PGresult *);
static int	metrics_no_outbox(struct kw_req *, PGresult *);
static int	metrics_send(struct kw_req *, const json_t *);

/* The spec as JSON, rendered once per worker on first use. */
static char	*spec_json;
static size_t	 spec_json_len;

int
h_get_health(struct kw_req *r)
{
	return kw_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

int
h_get_ready(struct kw_req *r)
{
	r->error_status = 503;
	return kw_call(r, "ready", 0, handlers_ok, 0, NULL);
}

int
h_get_openapi(struct kw_req *r)
{
	if (spec_json == NULL) {
		spec_json = json_dumps(openapi_document(kw_spec),
		    JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (spec_json == NULL)
			abort();
		spec_json_len = strlen(spec_json);
	}
	return kw_reply_raw(r, 200, "application/json", spec_json,
	    spec_json_len);
}

/*
 * The numbers are in shared memory and come whatever the database does;
 * the scheduled worker's outbox counts are asked of the database only when
 * a connection is free at once, so that a scrape never queues behind the
 * requests it is meant to watch. Without them the outbox family is absent.
 */
int
h_get_metrics(struct kw_req *r)
{
	if (!kw_db_conn_free())
		return metrics_send(r, NULL);
	r->fail_cont = metrics_no_outbox;
	return kw_call(r, "metrics_outbox", 0, metrics_outbox, 0, NULL);
}

static int
metrics_outbox(struct kw_req *r, PGresult *res)
{
	json_t	*outbox = kw_result_json(res, NULL, 0);
	int	 rc;

	rc = metrics_send(r, json_is_object(outbox) ? outbox : NULL);
	json_decref(outbox);
	return rc;
}

static int
metrics_no_outbox(struct kw_req *r, PGresult *res)
{
	log_msg(LOG_LVL_WARN, "metrics", r->request_id,
	    "outbox counts unavailable (%s)", res != NULL ?
	    "statement failed" : "no database connection");
	return metrics_send(r, NULL);
}

static int
metrics_send(struct kw_req *r, const json_t *outbox)
{
	char	*text;
	size_t	 len;
	int	 rc;

	text = kw_metrics_text(outbox, &len);
	rc = kw_reply_raw(r, 200, METRICS_CONTENT_TYPE, text, len);
	free(text);
	return rc;
}
