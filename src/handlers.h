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

/* Continuations shared by handlers. */
int	handlers_ok(struct kw_req *, PGresult *);	   /* 200 + jsonb */
int	handlers_created(struct kw_req *, PGresult *);	   /* 201 + jsonb */
int	handlers_ok_etag(struct kw_req *, PGresult *);	   /* 200 + jsonb, ETag */
int	handlers_created_etag(struct kw_req *, PGresult *); /* 201 + jsonb, ETag */
int	handlers_no_content(struct kw_req *, PGresult *);  /* 204 */
int	handlers_page(struct kw_req *, PGresult *);	   /* {items, next_cursor} */

/* The body as text for SQL, without the members named (NULL-terminated). */
char	*handlers_body_text(struct kw_req *, const char *const *omit);

/* Shared by list handlers: limit and cursor into SQL arguments. */
int	handlers_page_args(struct kw_req *, char *limit, size_t limitlen,
	    char *at, char *id);

#endif
