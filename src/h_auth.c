/*
 * Handlers of the "auth" tag: sign-in, token refresh, sign-out, who am I.
 *
 * Passwords are checked here (Argon2id) between two statements: the first
 * looks the account up and applies the failure throttle, the second records
 * the outcome and, on success, stores the new tokens' hashes. The tokens
 * themselves exist only in this request and in the response.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "handlers.h"

struct login_state {
	char			access[TOKEN_LEN + 1];
	char			refresh[TOKEN_LEN + 1];
	/* For the password check on a task thread. */
	struct token_argon2	params;
	char			user_id[40];
	char			hash[TOKEN_PHC_MAX];
	char			password[1025];
	int			have_user;
};

static int	login_checked(struct kw_req *, PGresult *);
static int	login_verify(void *);
static int	login_verified(struct kw_req *, int);
static void	login_state_free(void *);
static int	login_recorded(struct kw_req *, PGresult *);
static int	refresh_done(struct kw_req *, PGresult *);
static int	tokens_reply(struct kw_req *);
static struct login_state *login_state(struct kw_req *);
static void	argon2_params(struct token_argon2 *);

static void
argon2_params(struct token_argon2 *p)
{
	p->memory_kib = (unsigned)config.argon2_memory_kib;
	p->iterations = (unsigned)config.argon2_iterations;
	p->parallelism = (unsigned)config.argon2_parallelism;
}

static struct login_state *
login_state(struct kw_req *r)
{
	if (r->arg == NULL) {
		r->arg = kore_calloc(1, sizeof(struct login_state));
		r->arg_free = login_state_free;
	}
	return r->arg;
}

/* The password copy must not linger in freed memory. */
static void
login_state_free(void *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, sizeof(struct login_state));
	kore_free(p);
}

int
h_login(struct kw_req *r)
{
	char		 acct[16], addr[16], window[16];
	const char	*args[5];

	snprintf(acct, sizeof(acct), "%d", config.login_account_failures);
	snprintf(addr, sizeof(addr), "%d", config.login_address_failures);
	snprintf(window, sizeof(window), "%d", config.login_window_seconds);
	args[0] = json_string_value(json_object_get(r->body, "email"));
	args[1] = r->addr;
	args[2] = acct;
	args[3] = addr;
	args[4] = window;
	return kw_call(r, "login_begin", 0, login_checked, 5, args);
}

/* Columns: user_id, password_hash, retry_after. */
static int
login_checked(struct kw_req *r, PGresult *res)
{
	struct login_state	*st = login_state(r);
	const char		*password;
	char			 ra[16];
	int			 retry;

	if (res == NULL || PQntuples(res) != 1 || PQnfields(res) != 3)
		return kw_reply_problem(r, 500, NULL);
	retry = atoi(PQgetvalue(res, 0, 2));
	if (retry > 0) {
		snprintf(ra, sizeof(ra), "%d", retry);
		http_response_header(r->req, "retry-after", ra);
		return kw_reply_problem(r, 429, "Too many failed sign-ins: "
		    "wait before trying again.");
	}
	st->have_user = !PQgetisnull(res, 0, 0) && !PQgetisnull(res, 0, 1);
	if (st->have_user) {
		snprintf(st->user_id, sizeof(st->user_id), "%s",
		    PQgetvalue(res, 0, 0));
		snprintf(st->hash, sizeof(st->hash), "%s", PQgetvalue(res, 0, 1));
	}
	password = json_string_value(json_object_get(r->body, "password"));
	snprintf(st->password, sizeof(st->password), "%s", password);
	argon2_params(&st->params);
	return kw_offload(r, login_verify, st, login_verified);
}

/*
 * On a task thread. An unknown account costs the same work as a known one,
 * so response times do not tell which emails exist.
 */
static int
login_verify(void *arg)
{
	struct login_state	*st = arg;
	int			 ok;

	if (!st->have_user) {
		token_password_dummy(&st->params);
		ok = 0;
	} else {
		ok = token_password_verify(st->hash, st->password) == 0;
	}
	explicit_bzero(st->password, sizeof(st->password));
	return ok;
}

static int
login_verified(struct kw_req *r, int ok)
{
	struct login_state	*st = login_state(r);
	char			 ah[TOKEN_HASH_LEN + 1], rh[TOKEN_HASH_LEN + 1];
	char			 attl[16], rttl[16];
	const char		*args[8];

	if (ok == 1) {
		if (token_new(TOKEN_PREFIX_ACCESS, st->access,
		    sizeof(st->access)) == -1 ||
		    token_new(TOKEN_PREFIX_REFRESH, st->refresh,
		    sizeof(st->refresh)) == -1)
			return kw_reply_problem(r, 500, NULL);
		token_hash_hex(st->access, strlen(st->access), ah);
		token_hash_hex(st->refresh, strlen(st->refresh), rh);
	}
	snprintf(attl, sizeof(attl), "%d", config.access_token_ttl);
	snprintf(rttl, sizeof(rttl), "%d", config.refresh_token_ttl);
	args[0] = st->have_user ? st->user_id : NULL;
	args[1] = json_string_value(json_object_get(r->body, "email"));
	args[2] = r->addr;
	args[3] = ok == 1 ? "true" : "false";
	args[4] = ok == 1 ? ah : NULL;
	args[5] = ok == 1 ? rh : NULL;
	args[6] = attl;
	args[7] = rttl;
	return kw_call(r, "login_finish", 0, login_recorded, 8, args);
}

static int
login_recorded(struct kw_req *r, PGresult *res)
{
	if (res == NULL || PQntuples(res) != 1 ||
	    strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		return kw_reply_problem(r, 401,
		    "The email or password is not right.");
	}
	return tokens_reply(r);
}

static int
tokens_reply(struct kw_req *r)
{
	struct login_state	*st = login_state(r);

	return kw_reply_json(r, 200, json_pack("{s:s, s:s, s:s, s:i}",
	    "access_token", st->access, "refresh_token", st->refresh,
	    "token_type", "Bearer", "expires_in", config.access_token_ttl));
}

int
h_refresh_token(struct kw_req *r)
{
	struct login_state	*st = login_state(r);
	char			 oh[TOKEN_HASH_LEN + 1], ah[TOKEN_HASH_LEN + 1];
	char			 rh[TOKEN_HASH_LEN + 1], attl[16], rttl[16];
	const char		*args[5], *old;

	old = json_string_value(json_object_get(r->body, "refresh_token"));
	if (!token_well_formed(old) || strncmp(old, TOKEN_PREFIX_REFRESH,
	    strlen(TOKEN_PREFIX_REFRESH)) != 0)
		return kw_reply_problem(r, 401, "The refresh token is not valid.");
	if (token_new(TOKEN_PREFIX_ACCESS, st->access, sizeof(st->access)) == -1 ||
	    token_new(TOKEN_PREFIX_REFRESH, st->refresh, sizeof(st->refresh)) == -1)
		return kw_reply_problem(r, 500, NULL);
	token_hash_hex(old, strlen(old), oh);
	token_hash_hex(st->access, strlen(st->access), ah);
	token_hash_hex(st->refresh, strlen(st->refresh), rh);
	snprintf(attl, sizeof(attl), "%d", config.access_token_ttl);
	snprintf(rttl, sizeof(rttl), "%d", config.refresh_token_ttl);
	args[0] = oh;
	args[1] = ah;
	args[2] = rh;
	args[3] = attl;
	args[4] = rttl;
	return kw_call(r, "refresh", 0, refresh_done, 5, args);
}

static int
refresh_done(struct kw_req *r, PGresult *res)
{
	const char	*outcome;

	if (res == NULL || PQntuples(res) != 1)
		return kw_reply_problem(r, 500, NULL);
	outcome = PQgetvalue(res, 0, 0);
	if (strcmp(outcome, "ok") == 0)
		return tokens_reply(r);
	if (strcmp(outcome, "reused") == 0)
		return kw_reply_problem(r, 401, "This refresh token was already "
		    "used: every token of this sign-in is now revoked.");
	return kw_reply_problem(r, 401, "The refresh token is not valid or "
	    "has expired.");
}

int
h_logout(struct kw_req *r)
{
	return kw_call(r, "logout", 1, handlers_no_content, 0, NULL);
}

int
h_get_me(struct kw_req *r)
{
	return kw_call(r, "get_me", 1, handlers_ok, 0, NULL);
}
