/*
 * handlers: see handlers.h.
 */
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "handlers.h"
#include "problem.h"

const struct handler_entry handlers_table[] = {
	{ "getHealth", h_get_health },
	{ "getReady", h_get_ready },
	{ "getOpenapi", h_get_openapi },
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

static int
handlers_reply(struct kw_req *r, PGresult *res, int status, int with_etag)
{
	json_t	*body;
	char	 etag[80];

	if ((body = kw_result_json(res, etag, sizeof(etag))) == NULL)
		return kw_reply_problem(r, 500, NULL);
	if (with_etag && etag[0] != '\0')
		http_response_header(r->req, "etag", etag);
	return kw_reply_json(r, status, body);
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
	json_t		*items, *last, *l;
	char		 next[CURSOR_MAX];
	size_t		 n;
	long long	 limit;

	if ((items = kw_result_json(res, NULL, 0)) == NULL || !json_is_array(items)) {
		json_decref(items);
		return kw_reply_problem(r, 500, NULL);
	}
	l = kw_query(r, "limit");
	limit = l != NULL ? json_integer_value(l) : 50;
	n = json_array_size(items);
	next[0] = '\0';
	if (n > 0 && (long long)n >= limit) {
		last = json_array_get(items, n - 1);
		if (cursor_encode(json_string_value(json_object_get(last,
		    "created_at")), json_string_value(json_object_get(last, "id")),
		    next, sizeof(next)) == -1)
			next[0] = '\0';
	}
	return kw_reply_json(r, 200, json_pack("{s:o, s:o}", "items", items,
	    "next_cursor", next[0] != '\0' ? json_string(next) : json_null()));
}
