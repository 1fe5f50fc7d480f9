/*
 * handlers: the table binding each operationId of openapi.yaml to its C
 * handler. One file of handlers per OpenAPI tag (h_<tag>.c). Handlers are
 * thin: the request is already routed, authenticated in shape and validated
 * against the spec; they pick out arguments, call one api.* statement and
 * serialise its result.
 */
#ifndef KEYWORK_HANDLERS_H
#define KEYWORK_HANDLERS_H

#include <stdio.h>

#include "http.h"

struct handler_entry {
	const char	*operation_id;
	kw_handler	 fn;
};

/*
 * Bind every operation of spec to its handler. Refuses (-1, one line per
 * fault to err) an operation without a handler and a handler without an
 * operation: spec and code cannot drift.
 */
int	handlers_bind(struct openapi *spec, FILE *err)
	    __attribute__((warn_unused_result));

/* The table itself (NULL-terminated), for tests. */
extern const struct handler_entry handlers_table[];

/* service */
int	h_get_health(struct kw_req *);
int	h_get_ready(struct kw_req *);
int	h_get_openapi(struct kw_req *);
/* docs */
int	h_get_docs(struct kw_req *);
int	h_get_docs_asset(struct kw_req *);
/*
 * Read the reference page's files from dir (in Kore's parent, before the
 * workers fork). 0, or -1 with the file and the reason in err.
 */
int	h_docs_load(const char *dir, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
int	h_get_metrics(struct kw_req *);
/* auth */
int	h_login(struct kw_req *);
int	h_refresh_token(struct kw_req *);
int	h_logout(struct kw_req *);
int	h_get_me(struct kw_req *);
/* admin */
int	h_list_areas(struct kw_req *);
int	h_create_area(struct kw_req *);
int	h_list_agencies(struct kw_req *);
int	h_create_agency(struct kw_req *);
int	h_list_users(struct kw_req *);
int	h_create_user(struct kw_req *);
int	h_get_user(struct kw_req *);
int	h_update_user(struct kw_req *);
int	h_create_api_client(struct kw_req *);
int	h_revoke_api_client(struct kw_req *);
int	h_list_deliveries(struct kw_req *);
int	h_retry_delivery(struct kw_req *);
int	h_list_settings(struct kw_req *);
int	h_update_setting(struct kw_req *);

/* episodes */
int	h_list_episodes(struct kw_req *);
int	h_create_episode(struct kw_req *);
int	h_get_episode(struct kw_req *);
int	h_update_episode(struct kw_req *);
int	h_list_members(struct kw_req *);
int	h_create_member(struct kw_req *);
int	h_update_member(struct kw_req *);
/* team */
int	h_list_team(struct kw_req *);
int	h_add_team_member(struct kw_req *);
int	h_update_team_member(struct kw_req *);
int	h_remove_team_member(struct kw_req *);
int	h_request_access(struct kw_req *);
int	h_list_access_requests(struct kw_req *);
int	h_approve_access_request(struct kw_req *);
int	h_decline_access_request(struct kw_req *);
/* notes */
int	h_list_notes(struct kw_req *);
int	h_create_note(struct kw_req *);
int	h_get_note(struct kw_req *);
/* assessment */
int	h_get_assessment(struct kw_req *);
int	h_put_assessment(struct kw_req *);
int	h_complete_assessment(struct kw_req *);
int	h_list_consents(struct kw_req *);
int	h_create_consent(struct kw_req *);
/* meetings */
int	h_list_meetings(struct kw_req *);
int	h_create_meeting(struct kw_req *);
int	h_update_meeting(struct kw_req *);
int	h_put_attendance(struct kw_req *);
int	h_record_outcomes(struct kw_req *);
/* actions */
int	h_list_actions(struct kw_req *);
int	h_create_action(struct kw_req *);
int	h_get_action(struct kw_req *);
int	h_update_action(struct kw_req *);
/* progress */
int	h_list_outcome_scores(struct kw_req *);
int	h_add_outcome_scores(struct kw_req *);
int	h_list_outcome_areas(struct kw_req *);
int	h_create_outcome_area(struct kw_req *);
int	h_update_outcome_area(struct kw_req *);
/* documents */
int	h_list_documents(struct kw_req *);
int	h_upload_document(struct kw_req *);
int	h_get_document(struct kw_req *);
int	h_get_document_content(struct kw_req *);
/* alerts */
int	h_list_alerts(struct kw_req *);
int	h_acknowledge_alert(struct kw_req *);
int	h_raise_alert(struct kw_req *);
/* oversight */
int	h_list_deadlines(struct kw_req *);
int	h_get_caseload(struct kw_req *);
/* course */
int	h_list_transfers(struct kw_req *);
int	h_propose_transfer(struct kw_req *);
int	h_accept_transfer(struct kw_req *);
int	h_decline_transfer(struct kw_req *);
int	h_complete_transfer(struct kw_req *);
int	h_request_step_up(struct kw_req *);
int	h_list_step_ups(struct kw_req *);
int	h_decide_step_up(struct kw_req *);
int	h_list_step_downs(struct kw_req *);
int	h_create_step_down(struct kw_req *);
int	h_allocate_step_down(struct kw_req *);
int	h_close_episode(struct kw_req *);
int	h_reopen_episode(struct kw_req *);
/* notifications */
int	h_list_notifications(struct kw_req *);
int	h_read_notification(struct kw_req *);
/* audit */
int	h_list_audit(struct kw_req *);
int	h_export_person(struct kw_req *);
/* webhooks */
int	h_list_webhooks(struct kw_req *);
int	h_create_webhook(struct kw_req *);
int	h_delete_webhook(struct kw_req *);
/* admin: the holiday calendar */
int	h_list_holidays(struct kw_req *);
int	h_put_holidays(struct kw_req *);

/*
 * Continuations shared by handlers. Those answering a body take it from
 * column 0 (jsonb) and an ETag from column 1; a result column "replayed"
 * that is true (an Idempotency-Key replay) adds Idempotent-Replayed: true.
 */
int	handlers_ok(struct kw_req *, PGresult *);	   /* 200 + jsonb */
int	handlers_created(struct kw_req *, PGresult *);	   /* 201 + jsonb */
int	handlers_ok_etag(struct kw_req *, PGresult *);	   /* 200 + jsonb, ETag */
int	handlers_created_etag(struct kw_req *, PGresult *); /* 201 + jsonb, ETag */
int	handlers_no_content(struct kw_req *, PGresult *);  /* 204 */
int	handlers_accepted(struct kw_req *, PGresult *);	   /* 202 + jsonb */
int	handlers_page(struct kw_req *, PGresult *);	   /* {items, next_cursor} */
/* A page whose rows are keyed by (created_at, user_id) rather than id. */
int	handlers_page_by_user(struct kw_req *, PGresult *);
/* A page of deadlines, keyed by (due, key). */
int	handlers_page_by_due(struct kw_req *, PGresult *);
/* A page keyed by (at, id), id an integer (the audit trail). */
int	handlers_page_by_at(struct kw_req *, PGresult *);

/* The body as text for SQL, without the members named (NULL-terminated). */
char	*handlers_body_text(struct kw_req *, const char *const *omit);

/* Shared by list handlers: limit and cursor into SQL arguments. */
int	handlers_page_args(struct kw_req *, char *limit, size_t limitlen,
	    char *at, char *id);

/*
 * Call api.<fn>(path values..., limit, after_at, after_id, extra...) and
 * answer a page through cont. path names the path parameters and extra
 * holds values that follow (NULL elements are SQL NULL); each list is
 * given with its length.
 */
int	handlers_list(struct kw_req *, const char *fn, kw_cont cont,
	    const char *const *path, int npath, const char *const *extra,
	    int nextra);

/*
 * Call api.<fn>(path values..., before..., body) with the request's body
 * as text, and continue with cont.
 */
int	handlers_call_body(struct kw_req *, const char *fn, kw_cont cont,
	    const char *const *path, int npath, const char *const *before,
	    int nbefore);

/* Call api.<fn>(path values..., extra...) and continue with cont. */
int	handlers_call(struct kw_req *, const char *fn, kw_cont cont,
	    const char *const *path, int npath, const char *const *extra,
	    int nextra);

#endif
