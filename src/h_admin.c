/*
 * Handlers of the "admin" tag: areas, agencies, users and partner API keys.
 * Only admins may change them; the SQL checks the role and row-level
 * security enforces it again.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "handlers.h"

static const char *const no_password[] = { "password", NULL };

static int	create_plain(struct kw_req *, const char *);
static int	hash_password(struct kw_req *, kw_work_cont);
static int	password_hash_work(void *);
static void	password_work_free(void *);
static const char *hashed_password(struct kw_req *);
static int	create_user_hashed(struct kw_req *, int);
static int	update_user_hashed(struct kw_req *, int);
static int	api_client_created(struct kw_req *, PGresult *);

static int
create_plain(struct kw_req *r, const char *fn)
{
	const char	*args[1];
	char		*body;
	int		 rc;

	body = handlers_body_text(r, NULL);
	args[0] = body;
	rc = kw_call(r, fn, 1, handlers_created, 1, args);
	free(body);
	return rc;
}

/* A password being hashed on a task thread, and the hash it gives. */
struct password_work {
	struct token_argon2	params;
	char			password[1025];
	char			hash[TOKEN_PHC_MAX];
};

static void
password_work_free(void *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, sizeof(struct password_work));
	kore_free(p);
}

/* On a task thread. */
static int
password_hash_work(void *arg)
{
	struct password_work	*w = arg;
	int			 rc;

	rc = token_password_hash(w->password, &w->params, w->hash,
	    sizeof(w->hash));
	explicit_bzero(w->password, sizeof(w->password));
	return rc;
}

/*
 * Hash the body's password off the event loop, then run cont. Returns 0
 * (and does nothing) when the body has no password.
 */
static int
hash_password(struct kw_req *r, kw_work_cont cont)
{
	struct password_work	*w;
	const char		*pw;

	if ((pw = json_string_value(json_object_get(r->body, "password"))) == NULL)
		return 0;
	w = kore_calloc(1, sizeof(*w));
	r->arg = w;
	r->arg_free = password_work_free;
	w->params.memory_kib = (unsigned)config.argon2_memory_kib;
	w->params.iterations = (unsigned)config.argon2_iterations;
	w->params.parallelism = (unsigned)config.argon2_parallelism;
	snprintf(w->password, sizeof(w->password), "%s", pw);
	return kw_offload(r, password_hash_work, w, cont);
}

static const char *
hashed_password(struct kw_req *r)
{
	struct password_work	*w = r->arg;

	return w != NULL ? w->hash : NULL;
}

int
h_list_areas(struct kw_req *r)
{
	return handlers_list(r, "list_areas", handlers_page, NULL, 0, NULL, 0);
}

int
h_create_area(struct kw_req *r)
{
	return create_plain(r, "create_area");
}

int
h_list_agencies(struct kw_req *r)
{
	return handlers_list(r, "list_agencies", handlers_page, NULL, 0, NULL, 0);
}

int
h_create_agency(struct kw_req *r)
{
	return create_plain(r, "create_agency");
}

int
h_list_users(struct kw_req *r)
{
	return handlers_list(r, "list_users", handlers_page, NULL, 0, NULL, 0);
}

int
h_create_user(struct kw_req *r)
{
	return hash_password(r, create_user_hashed);
}

static int
create_user_hashed(struct kw_req *r, int rc)
{
	const char	*args[2];
	char		*body;

	if (rc != 0)
		return kw_reply_problem(r, 500, NULL);
	body = handlers_body_text(r, no_password);
	args[0] = body;
	args[1] = hashed_password(r);
	rc = kw_call(r, "create_user", 1, handlers_created_etag, 2, args);
	free(body);
	return rc;
}

int
h_get_user(struct kw_req *r)
{
	const char	*args[1] = { kw_path(r, "id") };

	return kw_call(r, "get_user", 1, handlers_ok_etag, 1, args);
}

int
h_update_user(struct kw_req *r)
{
	if (json_object_get(r->body, "password") != NULL)
		return hash_password(r, update_user_hashed);
	return update_user_hashed(r, 0);
}

static int
update_user_hashed(struct kw_req *r, int rc)
{
	const char	*args[4];
	char		*body;

	if (rc != 0)
		return kw_reply_problem(r, 500, NULL);
	body = handlers_body_text(r, no_password);
	args[0] = kw_path(r, "id");
	args[1] = kw_header(r, "If-Match");
	args[2] = body;
	args[3] = hashed_password(r);
	rc = kw_call(r, "update_user", 1, handlers_ok_etag, 4, args);
	free(body);
	return rc;
}

/* The key is shown once, in this response; only its hash is stored. */
int
h_create_api_client(struct kw_req *r)
{
	char		 hash[TOKEN_HASH_LEN + 1];
	const char	*args[2];
	char		*body;
	int		 rc;

	r->arg = kore_calloc(1, TOKEN_LEN + 1);
	r->arg_free = kore_free;
	if (token_new(TOKEN_PREFIX_APIKEY, r->arg, TOKEN_LEN + 1) == -1)
		return kw_reply_problem(r, 500, NULL);
	token_hash_hex(r->arg, strlen(r->arg), hash);
	body = handlers_body_text(r, NULL);
	args[0] = body;
	args[1] = hash;
	rc = kw_call(r, "create_api_client", 1, api_client_created, 2, args);
	free(body);
	return rc;
}

static int
api_client_created(struct kw_req *r, PGresult *res)
{
	json_t	*body;

	if ((body = kw_result_json(res, NULL, 0)) == NULL)
		return kw_reply_problem(r, 500, NULL);
	json_object_set_new(body, "api_key", json_string(r->arg));
	return kw_reply_json(r, 201, body);
}

int
h_list_holidays(struct kw_req *r)
{
	return handlers_call(r, "list_holidays", handlers_ok, NULL, 0, NULL, 0);
}

int
h_put_holidays(struct kw_req *r)
{
	return handlers_call_body(r, "put_holidays", handlers_ok, NULL, 0, NULL, 0);
}

int
h_revoke_api_client(struct kw_req *r)
{
	const char	*args[1] = { kw_path(r, "id") };

	return kw_call(r, "revoke_api_client", 1, handlers_no_content, 1, args);
}

/* The outbox of email and webhook deliveries, filtered by status and channel. */
int
h_list_deliveries(struct kw_req *r)
{
	const char	*extra[2];
	json_t		*v;

	extra[0] = (v = kw_query(r, "status")) != NULL ? json_string_value(v) : NULL;
	extra[1] = (v = kw_query(r, "channel")) != NULL ? json_string_value(v) : NULL;
	return handlers_list(r, "list_deliveries", handlers_page, NULL, 0, extra, 2);
}

int
h_retry_delivery(struct kw_req *r)
{
	static const char *const	by_id[] = { "id" };

	return handlers_call(r, "retry_delivery", handlers_ok, by_id, 1, NULL, 0);
}

int
h_list_settings(struct kw_req *r)
{
	return handlers_call(r, "list_settings", handlers_ok, NULL, 0, NULL, 0);
}

int
h_update_setting(struct kw_req *r)
{
	static const char *const	by_name[] = { "name" };

	return handlers_call_body(r, "update_setting", handlers_ok, by_name, 1,
	    NULL, 0);
}
