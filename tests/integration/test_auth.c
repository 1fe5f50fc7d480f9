/*
 * Sign-in, tokens and API keys: login, refresh rotation and reuse detection,
 * logout, the failure throttle per account and per address, partner API
 * keys, and how secrets are stored.
 *
 * Tests that fail sign-ins on purpose do it from a loopback address of their
 * own (kwt_request_from): failures count per address too, and the other
 * tests sign in from 127.0.0.1, which must stay under the address limit.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <libpq-fe.h>

#include "client.h"
#include "token.h"

#define ADMIN_EMAIL	"admin@example.org"
#define USER_PASSWORD	"correct-horse-battery-staple"
#define WRONG_PASSWORD	"not-the-password-at-all"

static struct resp	*login_from(const char *, const char *, const char *);
static struct resp	*refresh(const char *);
static struct resp	*get_me(const char *);
static struct resp	*logout(const char *);
static char		*new_user(const char *, char *, size_t);
static int		 retry_after(struct resp *);
static PGconn		*owner_db(void);
static long		 db_count(PGconn *, const char *, const char *);


/* One sign-in attempt from source (NULL: the default, 127.0.0.1). */
static struct resp *
login_from(const char *source, const char *email, const char *password)
{
	struct resp	*r;
	char		*body;

	body = kwt_json("{s:s, s:s}", "email", email, "password", password);
	r = kwt_request_from(source, "POST", "/v1/auth/login", NULL, NULL,
	    body, NULL);
	free(body);
	return r;
}

static struct resp *
refresh(const char *refresh_token)
{
	struct resp	*r;
	char		*body;

	body = kwt_json("{s:s}", "refresh_token", refresh_token);
	r = kwt_request("POST", "/v1/auth/refresh", NULL, NULL, body, NULL);
	free(body);
	return r;
}

static struct resp *
get_me(const char *token)
{
	return kwt_request("GET", "/v1/me", token, NULL, NULL, NULL);
}

/*
 * POST without a body, but with Content-Length: 0 as RFC 9110 asks of a
 * client: Kore itself answers 411 to a POST that has no Content-Length.
 */
static struct resp *
logout(const char *token)
{
	return kwt_request("POST", "/v1/auth/logout", token, "", "", NULL);
}

/*
 * A practitioner of the admin's agency and area, made for one test so that
 * its failures and revocations touch nobody else. The email goes to email
 * (emaillen bytes); returns the new id (caller frees).
 */
static char *
new_user(const char *admin, char *email, size_t emaillen)
{
	struct resp	*me, *r;
	char		*body, *id;

	me = get_me(admin);
	cr_assert_eq(me->status, 200, "%s", me->raw);
	snprintf(email, emaillen, "auth-%s@test.example.org", kwt_unique());
	body = kwt_json("{s:s, s:s, s:s, s:s, s:s, s:[s]}", "email", email,
	    "name", "Auth Test User", "password", USER_PASSWORD,
	    "agency_id", kwt_str(me, "agency_id"),
	    "area_id", kwt_str(me, "area_id"), "roles", "practitioner");
	r = kwt_request("POST", "/v1/users", admin, NULL, body, NULL);
	cr_assert_eq(r->status, 201, "create user: %ld %s", r->status, r->raw);
	id = strdup(kwt_str(r, "id"));
	free(body);
	kwt_free(r);
	kwt_free(me);
	return id;
}

/* The Retry-After of a 429, asserting there is one and it is a number. */
static int
retry_after(struct resp *r)
{
	const char	*h = kwt_header(r, "Retry-After");
	char		*end;
	long		 v;

	cr_assert_not_null(h, "429 without Retry-After: %s", r->raw);
	v = strtol(h, &end, 10);
	cr_assert(end != h && *end == '\0', "Retry-After is not a number: %s",
	    h);
	return (int)v;
}

/* The owner's connection, to look at what is stored. */
static PGconn *
owner_db(void)
{
	const char	*url = getenv("DATABASE_URL");
	PGconn		*c;

	cr_assert_not_null(url, "DATABASE_URL is not set");
	c = PQconnectdb(url);
	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	return c;
}

/* The count(*) of sql with one text parameter. */
static long
db_count(PGconn *c, const char *sql, const char *arg)
{
	PGresult	*res;
	long		 n;

	res = PQexecParams(c, sql, 1, NULL, &arg, NULL, NULL, 0);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

Test(auth, login_gives_tokens_and_me_is_the_caller)
{
	struct resp	*r, *me;
	json_t		*roles;
	const char	*access, *refresh_token;

	r = login_from(NULL, ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	cr_assert_str_eq(kwt_str(r, "token_type"), "Bearer");
	cr_assert_eq(json_integer_value(json_object_get(r->json, "expires_in")),
	    900);
	access = kwt_str(r, "access_token");
	refresh_token = kwt_str(r, "refresh_token");
	cr_assert_eq(strncmp(access, "kwa_", 4), 0, "%s", access);
	cr_assert_eq(strncmp(refresh_token, "kwr_", 4), 0, "%s", refresh_token);
	cr_assert_str_neq(access + 4, refresh_token + 4);

	me = get_me(access);
	cr_assert_eq(me->status, 200, "%s", me->raw);
	cr_assert_str_eq(kwt_str(me, "kind"), "user");
	cr_assert_str_eq(kwt_str(me, "email"), ADMIN_EMAIL);
	roles = json_object_get(me->json, "roles");
	cr_assert_eq(json_array_size(roles), 1, "%s", me->raw);
	cr_assert_str_eq(json_string_value(json_array_get(roles, 0)), "admin");
	kwt_free(me);

	/* A refresh token is not an access token. */
	me = get_me(refresh_token);
	cr_assert_eq(me->status, 401, "%s", me->raw);
	kwt_free(me);
	kwt_free(r);
}

Test(auth, me_needs_a_valid_token)
{
	struct resp	*r;

	r = get_me(NULL);
	cr_assert_eq(r->status, 401);
	kwt_free(r);
	/* Well formed, but never issued. */
	r = get_me("kwa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	cr_assert_eq(r->status, 401);
	kwt_free(r);
}

Test(auth, wrong_password_and_unknown_email_answer_alike)
{
	struct resp	*wrong, *unknown;
	char		 email[128];

	wrong = login_from("127.0.10.1", "keyworker@example.org",
	    WRONG_PASSWORD);
	cr_assert_eq(wrong->status, 401, "%s", wrong->raw);
	snprintf(email, sizeof(email), "nobody-%s@test.example.org",
	    kwt_unique());
	unknown = login_from("127.0.10.1", email, WRONG_PASSWORD);
	cr_assert_eq(unknown->status, 401, "%s", unknown->raw);
	/* Nothing in the answer may tell which emails have accounts. */
	cr_assert_str_eq(kwt_str(unknown, "detail"), kwt_str(wrong, "detail"));
	cr_assert_str_eq(kwt_str(unknown, "title"), kwt_str(wrong, "title"));
	kwt_free(wrong);
	kwt_free(unknown);
}

Test(auth, refresh_rotates_and_reuse_revokes_the_sign_in)
{
	struct resp	*r1, *r2, *r;
	json_t		*other;
	char		*a1, *f1, *a2, *f2;

	r1 = login_from(NULL, "keyworker@example.org", KWT_DEMO_PASSWORD);
	cr_assert_eq(r1->status, 200, "%s", r1->raw);
	a1 = strdup(kwt_str(r1, "access_token"));
	f1 = strdup(kwt_str(r1, "refresh_token"));
	kwt_free(r1);
	/* A second sign-in of the same person, which must be left alone. */
	other = kwt_login_json("keyworker@example.org", KWT_DEMO_PASSWORD);

	r2 = refresh(f1);
	cr_assert_eq(r2->status, 200, "%s", r2->raw);
	cr_assert_str_eq(kwt_str(r2, "token_type"), "Bearer");
	a2 = strdup(kwt_str(r2, "access_token"));
	f2 = strdup(kwt_str(r2, "refresh_token"));
	kwt_free(r2);
	cr_assert_eq(strncmp(a2, "kwa_", 4), 0);
	cr_assert_eq(strncmp(f2, "kwr_", 4), 0);
	cr_assert_str_neq(a2, a1);
	cr_assert_str_neq(f2, f1);

	r = get_me(a2);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	cr_assert_str_eq(kwt_str(r, "email"), "keyworker@example.org");
	kwt_free(r);

	/* The spent refresh token again: someone else may hold it. */
	r = refresh(f1);
	cr_assert_eq(r->status, 401, "%s", r->raw);
	kwt_free(r);
	/* Every token of that sign-in is now dead, the newest included. */
	r = get_me(a2);
	cr_assert_eq(r->status, 401, "newest access token still works: %s",
	    r->raw);
	kwt_free(r);
	r = get_me(a1);
	cr_assert_eq(r->status, 401, "first access token still works");
	kwt_free(r);
	r = refresh(f2);
	cr_assert_eq(r->status, 401, "newest refresh token still works: %s",
	    r->raw);
	kwt_free(r);

	r = get_me(json_string_value(json_object_get(other, "access_token")));
	cr_assert_eq(r->status, 200, "another sign-in was revoked too: %s",
	    r->raw);
	kwt_free(r);
	r = refresh(json_string_value(json_object_get(other, "refresh_token")));
	cr_assert_eq(r->status, 200, "%s", r->raw);
	kwt_free(r);

	json_decref(other);
	free(a1);
	free(f1);
	free(a2);
	free(f2);
}

Test(auth, refresh_refuses_what_is_not_a_refresh_token)
{
	struct resp	*r;
	json_t		*t;

	t = kwt_login_json("teacher@example.org", KWT_DEMO_PASSWORD);
	r = refresh(json_string_value(json_object_get(t, "access_token")));
	cr_assert_eq(r->status, 401, "%s", r->raw);
	kwt_free(r);
	r = refresh("kwr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	cr_assert_eq(r->status, 401, "%s", r->raw);
	kwt_free(r);
	json_decref(t);
}

Test(auth, logout_revokes_this_sign_in_only)
{
	struct resp	*r;
	json_t		*mine, *other;
	const char	*access;

	mine = kwt_login_json("healthvisitor@example.org", KWT_DEMO_PASSWORD);
	other = kwt_login_json("healthvisitor@example.org", KWT_DEMO_PASSWORD);
	access = json_string_value(json_object_get(mine, "access_token"));

	r = logout(access);
	cr_assert_eq(r->status, 204, "%s", r->raw);
	cr_assert_eq(r->len, 0);
	kwt_free(r);

	r = get_me(access);
	cr_assert_eq(r->status, 401, "access token works after logout");
	kwt_free(r);
	r = refresh(json_string_value(json_object_get(mine, "refresh_token")));
	cr_assert_eq(r->status, 401, "refresh token works after logout");
	kwt_free(r);
	r = logout(access);
	cr_assert_eq(r->status, 401, "logout twice: %s", r->raw);
	kwt_free(r);

	r = get_me(json_string_value(json_object_get(other, "access_token")));
	cr_assert_eq(r->status, 200, "another sign-in was signed out: %s",
	    r->raw);
	kwt_free(r);
	json_decref(mine);
	json_decref(other);
}

/*
 * Two failures, then the account must wait: a third attempt at once is
 * refused even with the right password. After the wait the right password
 * works, and that success forgets the failures.
 */
Test(auth, throttle_slows_an_account_after_two_failures)
{
	const char	*src = "127.0.10.2";
	struct resp	*r;
	char		*admin, *id, email[128];
	int		 i, wait;

	admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	id = new_user(admin, email, sizeof(email));

	for (i = 0; i < 2; i++) {
		r = login_from(src, email, WRONG_PASSWORD);
		cr_assert_eq(r->status, 401, "failure %d: %ld %s", i + 1,
		    r->status, r->raw);
		kwt_free(r);
	}
	r = login_from(src, email, USER_PASSWORD);
	cr_assert_eq(r->status, 429, "third attempt at once: %ld %s",
	    r->status, r->raw);
	wait = retry_after(r);
	cr_assert_eq(wait, 1, "Retry-After %d after two failures", wait);
	kwt_free(r);

	sleep((unsigned)wait);
	r = login_from(src, email, USER_PASSWORD);
	cr_assert_eq(r->status, 200, "after Retry-After: %ld %s", r->status,
	    r->raw);
	kwt_free(r);

	/*
	 * Had the success not cleared them, the failures would now number
	 * three, and the next attempt would have to wait.
	 */
	for (i = 0; i < 2; i++) {
		r = login_from(src, email, WRONG_PASSWORD);
		cr_assert_eq(r->status, 401, "failure %d after a success: %ld %s",
		    i + 1, r->status, r->raw);
		kwt_free(r);
	}
	r = login_from(src, email, WRONG_PASSWORD);
	cr_assert_eq(r->status, 429, "%s", r->raw);
	kwt_free(r);
	free(id);
	free(admin);
}

/*
 * Failures 3, 4 and 5 each come after the growing wait (1, 2, 4 s); at five
 * the account is shut for the rest of the window, from any address.
 */
Test(auth, throttle_shuts_an_account_after_five_failures)
{
	const char	*src = "127.0.10.3";
	struct resp	*r;
	char		*admin, *id, email[128];
	int		 k, wait, expect;

	admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	id = new_user(admin, email, sizeof(email));

	for (k = 1; k <= 5; k++) {
		if (k >= 3) {
			/* At once: too soon, even with the right password. */
			expect = 1 << (k - 3);
			r = login_from(src, email, USER_PASSWORD);
			cr_assert_eq(r->status, 429, "before failure %d: %ld %s",
			    k, r->status, r->raw);
			wait = retry_after(r);
			/* Rounded up from a little less than the full wait. */
			cr_assert(wait >= 1 && wait <= expect &&
			    wait > expect / 2, "before failure %d: Retry-After "
			    "%d, expected about %d", k, wait, expect);
			kwt_free(r);
			sleep((unsigned)wait);
		}
		r = login_from(src, email, WRONG_PASSWORD);
		cr_assert_eq(r->status, 401, "failure %d: %ld %s", k, r->status,
		    r->raw);
		kwt_free(r);
	}

	/* The window is 900 s: the wait is now of that order. */
	r = login_from(src, email, USER_PASSWORD);
	cr_assert_eq(r->status, 429, "after five failures: %ld %s", r->status,
	    r->raw);
	wait = retry_after(r);
	cr_assert(wait > 60 && wait <= 900, "Retry-After %d", wait);
	kwt_free(r);
	/* The account is shut, not the address. */
	r = login_from(NULL, email, USER_PASSWORD);
	cr_assert_eq(r->status, 429, "from another address: %ld %s", r->status,
	    r->raw);
	cr_assert(retry_after(r) > 60);
	kwt_free(r);
	free(id);
	free(admin);
}

/*
 * Twenty failures from one address, each for a different (unknown) email so
 * that no account's own throttle is what answers: that address is refused,
 * for every account, while other addresses sign in as before.
 */
Test(auth, throttle_shuts_an_address_after_twenty_failures)
{
	const char	*src = "127.0.0.77";
	struct resp	*r;
	char		*admin, *id, email[128], nobody[128];
	int		 i;

	admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	id = new_user(admin, email, sizeof(email));

	for (i = 1; i <= 20; i++) {
		snprintf(nobody, sizeof(nobody), "nobody-%s-%d@test.example.org",
		    kwt_unique(), i);
		r = login_from(src, nobody, WRONG_PASSWORD);
		cr_assert_eq(r->status, 401, "failure %d: %ld %s", i, r->status,
		    r->raw);
		kwt_free(r);
	}
	snprintf(nobody, sizeof(nobody), "nobody-%s-21@test.example.org",
	    kwt_unique());
	r = login_from(src, nobody, WRONG_PASSWORD);
	cr_assert_eq(r->status, 429, "21st attempt: %ld %s", r->status, r->raw);
	cr_assert(retry_after(r) > 60, "Retry-After %d", retry_after(r));
	kwt_free(r);
	/* A good account with its right password is refused from there too. */
	r = login_from(src, email, USER_PASSWORD);
	cr_assert_eq(r->status, 429, "%ld %s", r->status, r->raw);
	kwt_free(r);
	/* And not from anywhere else. */
	r = login_from("127.0.0.1", email, USER_PASSWORD);
	cr_assert_eq(r->status, 200, "from 127.0.0.1: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	free(id);
	free(admin);
}

Test(auth, api_key_is_shown_once_bound_to_an_agency_and_revocable)
{
	struct resp	*me, *r;
	char		*admin, *body, *key, *cid, path[128];
	const char	*agency;
	json_t		*roles;

	admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	me = get_me(admin);
	cr_assert_eq(me->status, 200);
	agency = kwt_str(me, "agency_id");

	body = kwt_json("{s:s, s:s}", "name", "Partner system", "agency_id",
	    agency);
	r = kwt_request("POST", "/v1/api-clients", admin, NULL, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->raw);
	key = strdup(kwt_str(r, "api_key"));
	cid = strdup(kwt_str(r, "id"));
	cr_assert_eq(strncmp(key, "kwk_", 4), 0, "%s", key);
	cr_assert_str_eq(kwt_str(r, "agency_id"), agency);
	cr_assert_str_eq(kwt_str(r, "name"), "Partner system");
	kwt_free(r);

	r = get_me(key);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "kind"), "api_client");
	cr_assert_str_eq(kwt_str(r, "id"), cid);
	cr_assert_str_eq(kwt_str(r, "agency_id"), agency);
	cr_assert(json_is_null(json_object_get(r->json, "email")));
	roles = json_object_get(r->json, "roles");
	cr_assert(json_is_array(roles) && json_array_size(roles) == 0, "%s",
	    r->raw);
	kwt_free(r);

	/* A partner system is not an admin. */
	body = kwt_json("{s:s}", "name", "Partner area");
	r = kwt_request("POST", "/v1/areas", key, NULL, body, NULL);
	cr_assert_eq(r->status, 403, "%ld %s", r->status, r->raw);
	kwt_free(r);
	r = kwt_request("GET", "/v1/users", key, NULL, NULL, NULL);
	cr_assert_eq(r->status, 403, "%ld %s", r->status, r->raw);
	kwt_free(r);

	snprintf(path, sizeof(path), "/v1/api-clients/%s", cid);
	r = kwt_request("DELETE", path, admin, NULL, NULL, NULL);
	cr_assert_eq(r->status, 204, "%ld %s", r->status, r->raw);
	kwt_free(r);
	r = get_me(key);
	cr_assert_eq(r->status, 401, "revoked key still works: %s", r->raw);
	kwt_free(r);
	r = kwt_request("POST", "/v1/areas", key, NULL, body, NULL);
	cr_assert_eq(r->status, 401, "%s", r->raw);
	kwt_free(r);
	r = kwt_request("DELETE", path, admin, NULL, NULL, NULL);
	cr_assert_eq(r->status, 404, "second revoke: %ld %s", r->status, r->raw);
	kwt_free(r);

	free(body);
	free(key);
	free(cid);
	kwt_free(me);
	free(admin);
}

Test(auth, only_admins_manage_api_keys)
{
	struct resp	*me, *r;
	char		*admin, *user, *body, path[128];

	admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	user = kwt_login("keyworker@example.org", KWT_DEMO_PASSWORD);
	me = get_me(user);
	cr_assert_eq(me->status, 200);
	body = kwt_json("{s:s, s:s}", "name", "Sneaky", "agency_id",
	    kwt_str(me, "agency_id"));
	r = kwt_request("POST", "/v1/api-clients", user, NULL, body, NULL);
	cr_assert_eq(r->status, 403, "%ld %s", r->status, r->raw);
	kwt_free(r);
	free(body);

	/* An admin's key for some agency, which the practitioner cannot revoke. */
	body = kwt_json("{s:s, s:s}", "name", "Partner", "agency_id",
	    kwt_str(me, "agency_id"));
	r = kwt_request("POST", "/v1/api-clients", admin, NULL, body, NULL);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->raw);
	snprintf(path, sizeof(path), "/v1/api-clients/%s", kwt_str(r, "id"));
	kwt_free(r);
	r = kwt_request("DELETE", path, user, NULL, NULL, NULL);
	cr_assert_eq(r->status, 403, "%ld %s", r->status, r->raw);
	kwt_free(r);
	free(body);

	/* An agency that does not exist. */
	body = kwt_json("{s:s, s:s}", "name", "Nowhere", "agency_id",
	    "00000000-0000-4000-8000-000000000000");
	r = kwt_request("POST", "/v1/api-clients", admin, NULL, body, NULL);
	cr_assert_eq(r->status, 422, "%ld %s", r->status, r->raw);
	kwt_free(r);
	free(body);

	kwt_free(me);
	free(user);
	free(admin);
}

/*
 * The database holds the SHA-256 of every token and key, never the token:
 * a copy of the database does not sign anyone in.
 */
Test(auth, tokens_and_keys_are_stored_only_as_hashes)
{
	struct resp	*me, *r;
	json_t		*t;
	PGconn		*db;
	char		*admin, *body, *key, hash[TOKEN_HASH_LEN + 1];
	const char	*tok[3], *table[3];
	int		 i;

	admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	me = get_me(admin);
	cr_assert_eq(me->status, 200);
	body = kwt_json("{s:s, s:s}", "name", "Hash check", "agency_id",
	    kwt_str(me, "agency_id"));
	r = kwt_request("POST", "/v1/api-clients", admin, NULL, body, NULL);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->raw);
	key = strdup(kwt_str(r, "api_key"));
	kwt_free(r);
	free(body);
	t = kwt_login_json("coordinator@example.org", KWT_DEMO_PASSWORD);

	tok[0] = json_string_value(json_object_get(t, "access_token"));
	table[0] = "kw.access_tokens";
	tok[1] = json_string_value(json_object_get(t, "refresh_token"));
	table[1] = "kw.refresh_tokens";
	tok[2] = key;
	table[2] = "kw.api_clients";

	db = owner_db();
	for (i = 0; i < 3; i++) {
		char	sql[256];

		/* The plaintext appears nowhere in any row. */
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s x "
		    "WHERE strpos(x::text, $1) > 0", table[i]);
		cr_assert_eq(db_count(db, sql, tok[i]), 0,
		    "%s holds a token in plaintext", table[i]);
		/* Its hex SHA-256 is there, exactly once. */
		token_hash_hex(tok[i], strlen(tok[i]), hash);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE %s = $1",
		    table[i], i < 2 ? "token_hash" : "key_hash");
		cr_assert_eq(db_count(db, sql, hash), 1,
		    "%s does not hold the token's SHA-256", table[i]);
	}
	PQfinish(db);

	json_decref(t);
	free(key);
	kwt_free(me);
	free(admin);
}

Test(auth, passwords_are_stored_as_argon2id)
{
	PGconn		*db;
	PGresult	*res;
	const char	*hash;
	char		*admin, *id, email[128];

	admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	id = new_user(admin, email, sizeof(email));
	db = owner_db();
	res = PQexecParams(db, "SELECT password_hash FROM kw.users WHERE id = $1",
	    1, NULL, (const char *const *)&id, NULL, NULL, 0);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s",
	    PQerrorMessage(db));
	cr_assert_eq(PQntuples(res), 1);
	hash = PQgetvalue(res, 0, 0);
	cr_assert_eq(strncmp(hash, "$argon2id$", 10), 0, "stored: %.20s", hash);
	cr_assert_null(strstr(hash, USER_PASSWORD));
	PQclear(res);
	PQfinish(db);
	free(id);
	free(admin);
}
