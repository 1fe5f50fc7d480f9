/*
 * handlers: see handlers.h.
 */
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "handlers.h"
#include "jsontext.h"
#include "problem.h"
#include "xmalloc.h"

const struct handler_entry handlers_table[] = {
	{ "getHealth", h_get_health },
	{ "getReady", h_get_ready },
	{ "getOpenapi", h_get_openapi },
	{ "getDocs", h_get_docs },
	{ "getDocsAsset", h_get_docs_asset },
	{ "getMetrics", h_get_metrics },
	{ "login", h_login },
	{ "refreshToken", h_refresh_token },
	{ "logout", h_logout },
	{ "getMe", h_get_me },
	{ "listAreas", h_list_areas },
	{ "createArea", h_create_area },
	{ "listAgencies", h_list_agencies },
	{ "createAgency", h_create_agency },
	{ "listUsers", h_list_users },
	{ "createUser", h_create_user },
	{ "getUser", h_get_user },
	{ "updateUser", h_update_user },
	{ "createApiClient", h_create_api_client },
	{ "revokeApiClient", h_revoke_api_client },
	{ "listEpisodes", h_list_episodes },
	{ "createEpisode", h_create_episode },
	{ "getEpisode", h_get_episode },
	{ "updateEpisode", h_update_episode },
	{ "listMembers", h_list_members },
	{ "createMember", h_create_member },
	{ "updateMember", h_update_member },
	{ "listTeam", h_list_team },
	{ "addTeamMember", h_add_team_member },
	{ "updateTeamMember", h_update_team_member },
	{ "removeTeamMember", h_remove_team_member },
	{ "requestAccess", h_request_access },
	{ "listAccessRequests", h_list_access_requests },
	{ "approveAccessRequest", h_approve_access_request },
	{ "declineAccessRequest", h_decline_access_request },
	{ "listNotes", h_list_notes },
	{ "createNote", h_create_note },
	{ "getNote", h_get_note },
	{ "getAssessment", h_get_assessment },
	{ "putAssessment", h_put_assessment },
	{ "completeAssessment", h_complete_assessment },
	{ "listConsents", h_list_consents },
	{ "createConsent", h_create_consent },
	{ "listMeetings", h_list_meetings },
	{ "createMeeting", h_create_meeting },
	{ "updateMeeting", h_update_meeting },
	{ "putAttendance", h_put_attendance },
	{ "recordOutcomes", h_record_outcomes },
	{ "listActions", h_list_actions },
	{ "createAction", h_create_action },
	{ "getAction", h_get_action },
	{ "updateAction", h_update_action },
	{ "listOutcomeScores", h_list_outcome_scores },
	{ "addOutcomeScores", h_add_outcome_scores },
	{ "listOutcomeAreas", h_list_outcome_areas },
	{ "createOutcomeArea", h_create_outcome_area },
	{ "updateOutcomeArea", h_update_outcome_area },
	{ "listDocuments", h_list_documents },
	{ "uploadDocument", h_upload_document },
	{ "getDocument", h_get_document },
	{ "getDocumentContent", h_get_document_content },
	{ "listAlerts", h_list_alerts },
	{ "acknowledgeAlert", h_acknowledge_alert },
	{ "raiseAlert", h_raise_alert },
	{ "listDeadlines", h_list_deadlines },
	{ "getCaseload", h_get_caseload },
	{ "listHolidays", h_list_holidays },
	{ "putHolidays", h_put_holidays },
	{ "listTransfers", h_list_transfers },
	{ "proposeTransfer", h_propose_transfer },
	{ "acceptTransfer", h_accept_transfer },
	{ "declineTransfer", h_decline_transfer },
	{ "completeTransfer", h_complete_transfer },
	{ "requestStepUp", h_request_step_up },
	{ "listStepUps", h_list_step_ups },
	{ "decideStepUp", h_decide_step_up },
	{ "listStepDowns", h_list_step_downs },
	{ "createStepDown", h_create_step_down },
	{ "allocateStepDown", h_allocate_step_down },
	{ "closeEpisode", h_close_episode },
	{ "reopenEpisode", h_reopen_episode },
	{ "listNotifications", h_list_notifications },
	{ "readNotification", h_read_notification },
	{ "listAudit", h_list_audit },
	{ "exportPerson", h_export_person },
	{ "listWebhooks", h_list_webhooks },
	{ "createWebhook", h_create_webhook },
	{ "deleteWebhook", h_delete_webhook },
	{ "listDeliveries", h_list_deliveries },
	{ "retryDelivery", h_retry_delivery },
	{ "listSettings", h_list_settings },
	{ "updateSetting", h_update_setting },
	{ NULL, NULL },
};

int
handlers_bind(struct openapi *spec, FILE *err)
{
	const struct handler_entry	*h;
	struct openapi_op		*op;
	size_t				 i;
	int				 rc = 0;

	for (i = 0; i < openapi_op_count(spec); i++) {
		op = openapi_op_at(spec, i);
		for (h = handlers_table; h->operation_id != NULL; h++) {
			if (strcmp(h->operation_id, op->operation_id) == 0)
				break;
		}
		if (h->fn == NULL) {
			fprintf(err, "openapi.yaml: operation %s (%s) has no "
			    "handler\n", op->operation_id, op->path);
			rc = -1;
			continue;
		}
		op->handler = (void *)h->fn;
	}
	for (h = handlers_table; h->operation_id != NULL; h++) {
		if (openapi_op_find(spec, h->operation_id) == NULL) {
			fprintf(err, "handler for %s has no operation in "
			    "openapi.yaml\n", h->operation_id);
			rc = -1;
		}
	}
	return rc;
}

int
handlers_page_args(struct kw_req *r, char *limit, size_t limitlen, char *at,
    char *id)
{
	json_t		*l = kw_query(r, "limit");
	json_t		*c = kw_query(r, "cursor");

	snprintf(limit, limitlen, "%lld",
	    l != NULL ? (long long)json_integer_value(l) : 50LL);
	at[0] = id[0] = '\0';
	if (c != NULL && cursor_decode(json_string_value(c), at, id) == -1) {
		kw_reply_problem(r, 400, "The cursor is not one this service "
		    "gave out.");
		return -1;
	}
	return 0;
}

static int	handlers_reply(struct kw_req *, PGresult *, int, int);
static int	handlers_page_keyed(struct kw_req *, PGresult *, const char *,
		    const char *);

int
handlers_call(struct kw_req *r, const char *fn, kw_cont cont,
    const char *const *path, int npath, const char *const *extra, int nextra)
{
	const char	*args[DB_MAX_PARAMS];
	int		 i, n = 0;

	if (npath + nextra > DB_MAX_PARAMS - 3)
		return kw_reply_problem(r, 500, NULL);
	for (i = 0; i < npath; i++)
		args[n++] = kw_path(r, path[i]);
	for (i = 0; i < nextra; i++)
		args[n++] = extra[i];
	return kw_call(r, fn, 1, cont, n, args);
}

int
handlers_call_body(struct kw_req *r, const char *fn, kw_cont cont,
    const char *const *path, int npath, const char *const *before, int nbefore)
{
	const char	*extra[DB_MAX_PARAMS];
	char		*body;
	int		 i, rc;

	if (nbefore + 1 > DB_MAX_PARAMS)
		return kw_reply_problem(r, 500, NULL);
	for (i = 0; i < nbefore; i++)
		extra[i] = before[i];
	body = handlers_body_text(r, NULL);
	extra[nbefore] = body;
	rc = handlers_call(r, fn, cont, path, npath, extra, nbefore + 1);
	free(body);
	return rc;
}

int
handlers_list(struct kw_req *r, const char *fn, kw_cont cont,
    const char *const *path, int npath, const char *const *extra, int nextra)
{
	char		 limit[24], at[CURSOR_MAX], id[CURSOR_MAX];
	const char	*args[DB_MAX_PARAMS];
	int		 i, n = 0;

	if (npath + nextra + 3 > DB_MAX_PARAMS - 3)
		return kw_reply_problem(r, 500, NULL);
	if (handlers_page_args(r, limit, sizeof(limit), at, id) == -1)
		return KW_DONE;
	for (i = 0; i < npath; i++)
		args[n++] = kw_path(r, path[i]);
	args[n++] = limit;
	args[n++] = at[0] != '\0' ? at : NULL;
	args[n++] = id[0] != '\0' ? id : NULL;
	for (i = 0; i < nextra; i++)
		args[n++] = extra[i];
	return kw_call(r, fn, 1, cont, n, args);
}

/*
 * The function's JSON as the database wrote it, less the spaces jsonb's
 * text puts between tokens: the statement returns jsonb, whose text is well
 * formed, so it goes out without being parsed and written again.
 */
static int
handlers_reply(struct kw_req *r, PGresult *res, int status, int with_etag)
{
	char	*body;
	size_t	 len;
	int	 col, rc;

	if (res == NULL || PQntuples(res) < 1 || PQnfields(res) < 1 ||
	    PQgetisnull(res, 0, 0))
		return kw_reply_problem(r, 500, NULL);
	if (with_etag && PQnfields(res) > 1 && !PQgetisnull(res, 0, 1))
		http_response_header(r->req, "etag", PQgetvalue(res, 0, 1));
	col = PQfnumber(res, "replayed");
	if (col >= 0 && !PQgetisnull(res, 0, col) &&
	    strcmp(PQgetvalue(res, 0, col), "t") == 0)
		http_response_header(r->req, "idempotent-replayed", "true");
	len = (size_t)PQgetlength(res, 0, 0);
	body = xmalloc(len + 1);
	len = jsontext_compact(PQgetvalue(res, 0, 0), len, body);
	rc = kw_reply_raw(r, status, "application/json", body, len);
	free(body);
	return rc;
}

int
handlers_ok(struct kw_req *r, PGresult *res)
{
	return handlers_reply(r, res, 200, 0);
}

int
handlers_created(struct kw_req *r, PGresult *res)
{
	return handlers_reply(r, res, 201, 0);
}

int
handlers_ok_etag(struct kw_req *r, PGresult *res)
{
	return handlers_reply(r, res, 200, 1);
}

int
handlers_created_etag(struct kw_req *r, PGresult *res)
{
	return handlers_reply(r, res, 201, 1);
}

int
handlers_accepted(struct kw_req *r, PGresult *res)
{
	return handlers_reply(r, res, 202, 0);
}

int
handlers_no_content(struct kw_req *r, PGresult *res)
{
	return kw_reply_empty(r, 204);
}

char *
handlers_body_text(struct kw_req *r, const char *const *omit)
{
	json_t	*copy;
	char	*s;

	copy = r->body != NULL ? json_copy(r->body) : json_object();
	for (; omit != NULL && *omit != NULL; omit++)
		json_object_del(copy, *omit);
	if ((s = json_dumps(copy, JSON_COMPACT)) == NULL)
		abort();
	json_decref(copy);
	return s;
}

int
handlers_page(struct kw_req *r, PGresult *res)
{
	return handlers_page_keyed(r, res, "created_at", "id");
}

int
handlers_page_by_user(struct kw_req *r, PGresult *res)
{
	return handlers_page_keyed(r, res, "created_at", "user_id");
}

int
handlers_page_by_due(struct kw_req *r, PGresult *res)
{
	return handlers_page_keyed(r, res, "due", "key");
}

int
handlers_page_by_at(struct kw_req *r, PGresult *res)
{
	return handlers_page_keyed(r, res, "at", "id");
}

/*
 * A page whose cursor is the last item's (at_key, key) members; key is a
 * string or an integer.
 */
static int
handlers_page_keyed(struct kw_req *r, PGresult *res, const char *at_key,
    const char *key)
{
	json_t		*last, *l, *k;
	const char	*items, *keyval;
	char		 next[CURSOR_MAX], num[24], *body;
	size_t		 len, n, start, elen, blen, o;
	long long	 limit;
	int		 rc;

	/*
	 * The items as the database wrote them, a page of up to limit (a page
	 * of 50 episodes is about 50 KB): counted, and only the last one
	 * parsed, for the cursor.
	 */
	if (res == NULL || PQntuples(res) < 1 || PQnfields(res) < 1 ||
	    PQgetisnull(res, 0, 0))
		return kw_reply_problem(r, 500, NULL);
	items = PQgetvalue(res, 0, 0);
	len = (size_t)PQgetlength(res, 0, 0);
	if (jsontext_array_last(items, len, &n, &start, &elen) == -1)
		return kw_reply_problem(r, 500, NULL);
	l = kw_query(r, "limit");
	limit = l != NULL ? json_integer_value(l) : 50;
	next[0] = '\0';
	if (n > 0 && (long long)n >= limit) {
		if ((last = json_loadb(items + start, elen, 0, NULL)) == NULL)
			return kw_reply_problem(r, 500, NULL);
		k = json_object_get(last, key);
		if (json_is_integer(k)) {
			snprintf(num, sizeof(num), "%lld",
			    (long long)json_integer_value(k));
			keyval = num;
		} else
			keyval = json_string_value(k);
		if (keyval == NULL || cursor_encode(json_string_value(
		    json_object_get(last, at_key)), keyval, next,
		    sizeof(next)) == -1)
			next[0] = '\0';
		json_decref(last);
	}
	/* A cursor is base64url: nothing in it needs escaping. */
	blen = len + strlen(next) + 40;
	body = xmalloc(blen);
	memcpy(body, "{\"items\":", 9);
	o = 9 + jsontext_compact(items, len, body + 9);
	rc = snprintf(body + o, blen - o, ",\"next_cursor\":%s%s%s}",
	    next[0] != '\0' ? "\"" : "null", next, next[0] != '\0' ? "\"" : "");
	if (rc < 0 || (size_t)rc >= blen - o) {
		free(body);
		return kw_reply_problem(r, 500, NULL);
	}
	rc = kw_reply_raw(r, 200, "application/json", body, o + (size_t)rc);
	free(body);
	return rc;
}
