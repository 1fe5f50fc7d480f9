/*
 * Reference data and accounts, managed by admins: areas, agencies, users,
 * who may see and change what, ETags and If-Match, and pagination.
 *
 * Every account changed here is made by the test itself: the demo accounts
 * are shared by tests running in parallel.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client.h"
#include "cursor.h"

#define ADMIN_EMAIL	"admin@example.org"
#define KEYWORKER_EMAIL	"keyworker@example.org"
#define MANAGER_EMAIL	"manager@example.org"
#define USER_PASSWORD	"correct-horse-battery-staple"
#define NO_SUCH_ID	"00000000-0000-4000-8000-000000000000"

/* What a test needs to make users: the admin and where they work. */
struct ctx {
	char	*admin;		/* access token */
	char	*agency_id;
	char	*area_id;
};

static struct resp	*send_json(const char *, const char *, const char *,
			    const char *, const char *);
static struct resp	*get(const char *, const char *);
static void		 ctx_open(struct ctx *);
static void		 ctx_close(struct ctx *);
static char		*me_id(const char *);
static struct resp	*create_user(struct ctx *, const char *, const char *,
			    const char *);
static char		*new_user(struct ctx *, char *, size_t);
static struct resp	*patch_user(const char *, const char *, const char *,
			    const char *);
static char		*etag_of(struct resp *);
static int		 is_uuid(const char *);
static struct resp	*create_area(const char *, const char *);


/* method path with a JSON body and optional extra header (one line). */
static struct resp *
send_json(const char *method, const char *path, const char *token,
    const char *body, const char *header)
{
	const char	*h[2] = { header, NULL };

	return kwt_request(method, path, token, NULL, body,
	    header != NULL ? h : NULL);
}

static struct resp *
get(const char *path, const char *token)
{
	return kwt_request("GET", path, token, NULL, NULL, NULL);
}

static void
ctx_open(struct ctx *c)
{
	struct resp	*me;

	c->admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	me = get("/v1/me", c->admin);
	cr_assert_eq(me->status, 200, "%s", me->raw);
	c->agency_id = strdup(kwt_str(me, "agency_id"));
	c->area_id = strdup(kwt_str(me, "area_id"));
	kwt_free(me);
}

static void
ctx_close(struct ctx *c)
{
	free(c->admin);
	free(c->agency_id);
	free(c->area_id);
}

/* The id of a demo account, from its own /v1/me (caller frees). */
static char *
me_id(const char *email)
{
	struct resp	*me;
	char		*tok, *id;

	tok = kwt_login(email, KWT_DEMO_PASSWORD);
	me = get("/v1/me", tok);
	cr_assert_eq(me->status, 200, "%s", me->raw);
	id = strdup(kwt_str(me, "id"));
	kwt_free(me);
	free(tok);
	return id;
}

/* POST /v1/users for email with roles (a JSON array text) and manager_id. */
static struct resp *
create_user(struct ctx *c, const char *email, const char *roles,
    const char *manager_id)
{
	struct resp	*r;
	json_error_t	 err;
	json_t		*j;
	char		*body;

	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "email", email,
	    "name", "Admin Test User", "password", USER_PASSWORD,
	    "agency_id", c->agency_id, "area_id", c->area_id,
	    "roles", json_loads(roles, 0, &err));
	cr_assert_not_null(j);
	if (manager_id != NULL)
		json_object_set_new(j, "manager_id", json_string(manager_id));
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	r = send_json("POST", "/v1/users", c->admin, body, NULL);
	free(body);
	return r;
}

/* A fresh practitioner; email filled in; returns the id (caller frees). */
static char *
new_user(struct ctx *c, char *email, size_t emaillen)
{
	struct resp	*r;
	char		*id;

	snprintf(email, emaillen, "admin-%s@test.example.org", kwt_unique());
	r = create_user(c, email, "[\"practitioner\"]", NULL);
	cr_assert_eq(r->status, 201, "create user: %ld %s", r->status, r->raw);
	id = strdup(kwt_str(r, "id"));
	kwt_free(r);
	return id;
}

static struct resp *
patch_user(const char *token, const char *id, const char *etag,
    const char *body)
{
	char	path[128], h[160];

	snprintf(path, sizeof(path), "/v1/users/%s", id);
	snprintf(h, sizeof(h), "If-Match: %s", etag);
	return send_json("PATCH", path, token, body, h);
}

/* The response's ETag (caller frees), asserting it has one. */
static char *
etag_of(struct resp *r)
{
	const char	*e = kwt_header(r, "ETag");

	cr_assert(e != NULL && *e != '\0', "no ETag: %s", r->headers);
	return strdup(e);
}

static int
is_uuid(const char *s)
{
	size_t	i;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (strchr("0123456789abcdef", s[i]) == NULL)
			return 0;
	}
	return 1;
}

static struct resp *
create_area(const char *token, const char *name)
{
	struct resp	*r;
	char		*body;

	body = kwt_json("{s:s}", "name", name);
	r = send_json("POST", "/v1/areas", token, body, NULL);
	free(body);
	return r;
}

Test(admin, area_is_created_and_its_name_is_unique_in_any_case)
{
	struct resp	*r;
	char		*admin, name[128], upper[128];
	size_t		 i;

	admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	snprintf(name, sizeof(name), "Area %s", kwt_unique());
	r = create_area(admin, name);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->raw);
	cr_assert(is_uuid(kwt_str(r, "id")), "%s", r->raw);
	cr_assert_str_eq(kwt_str(r, "name"), name);
	kwt_free(r);

	for (i = 0; name[i] != '\0'; i++)
		upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ?
		    name[i] - 'a' + 'A' : name[i]);
	upper[i] = '\0';
	r = create_area(admin, upper);
	cr_assert_eq(r->status, 409, "same name in capitals: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	r = create_area(admin, name);
	cr_assert_eq(r->status, 409, "same name: %ld %s", r->status, r->raw);
	kwt_free(r);
	free(admin);
}

Test(admin, agency_is_created_with_its_kind)
{
	struct resp	*r;
	char		*admin, *body, name[128];

	admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	snprintf(name, sizeof(name), "Agency %s", kwt_unique());
	body = kwt_json("{s:s, s:s}", "name", name, "kind", "school");
	r = send_json("POST", "/v1/agencies", admin, body, NULL);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->raw);
	cr_assert(is_uuid(kwt_str(r, "id")));
	cr_assert_str_eq(kwt_str(r, "name"), name);
	cr_assert_str_eq(kwt_str(r, "kind"), "school");
	kwt_free(r);
	r = send_json("POST", "/v1/agencies", admin, body, NULL);
	cr_assert_eq(r->status, 409, "duplicate agency: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	free(body);

	body = kwt_json("{s:s, s:s}", "name", name, "kind", "bakery");
	r = send_json("POST", "/v1/agencies", admin, body, NULL);
	cr_assert_eq(r->status, 400, "unknown kind: %ld %s", r->status, r->raw);
	kwt_free(r);
	free(body);
	free(admin);
}

Test(admin, user_is_created_signs_in_and_has_their_roles)
{
	struct ctx	 c;
	struct resp	*r, *me;
	json_t		*roles;
	char		*manager, *tok, *etag, email[128];

	ctx_open(&c);
	manager = me_id(MANAGER_EMAIL);
	snprintf(email, sizeof(email), "new-%s@test.example.org", kwt_unique());
	r = create_user(&c, email, "[\"practitioner\", \"coordinator\"]",
	    manager);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->raw);
	etag = etag_of(r);
	cr_assert(is_uuid(kwt_str(r, "id")));
	cr_assert_str_eq(kwt_str(r, "email"), email);
	cr_assert_str_eq(kwt_str(r, "name"), "Admin Test User");
	cr_assert_str_eq(kwt_str(r, "agency_id"), c.agency_id);
	cr_assert_str_eq(kwt_str(r, "area_id"), c.area_id);
	cr_assert_str_eq(kwt_str(r, "manager_id"), manager);
	cr_assert(json_is_true(json_object_get(r->json, "active")));
	cr_assert_null(json_object_get(r->json, "password"));
	cr_assert_null(json_object_get(r->json, "password_hash"));
	roles = json_object_get(r->json, "roles");
	cr_assert_eq(json_array_size(roles), 2, "%s", r->raw);
	cr_assert_str_eq(json_string_value(json_array_get(roles, 0)),
	    "practitioner");
	cr_assert_str_eq(json_string_value(json_array_get(roles, 1)),
	    "coordinator");

	tok = kwt_login(email, USER_PASSWORD);
	me = get("/v1/me", tok);
	cr_assert_eq(me->status, 200, "%s", me->raw);
	cr_assert_str_eq(kwt_str(me, "kind"), "user");
	cr_assert_str_eq(kwt_str(me, "id"), kwt_str(r, "id"));
	cr_assert_str_eq(kwt_str(me, "manager_id"), manager);
	cr_assert(json_equal(json_object_get(me->json, "roles"), roles),
	    "%s", me->raw);
	kwt_free(me);
	kwt_free(r);
	free(tok);
	free(etag);
	free(manager);
	ctx_close(&c);
}

Test(admin, user_email_is_unique_in_any_case)
{
	struct ctx	 c;
	struct resp	*r;
	char		*id, email[128], *at;
	size_t		 i;

	ctx_open(&c);
	id = new_user(&c, email, sizeof(email));
	r = create_user(&c, email, "[\"practitioner\"]", NULL);
	cr_assert_eq(r->status, 409, "same email: %ld %s", r->status, r->raw);
	kwt_free(r);
	/* Upper-case the local part only: the address is the same. */
	at = strchr(email, '@');
	for (i = 0; email + i < at; i++)
		if (email[i] >= 'a' && email[i] <= 'z')
			email[i] = (char)(email[i] - 'a' + 'A');
	r = create_user(&c, email, "[\"practitioner\"]", NULL);
	cr_assert_eq(r->status, 409, "same email in capitals: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	free(id);
	ctx_close(&c);
}

Test(admin, user_must_refer_to_existing_records)
{
	struct ctx	 c;
	struct resp	*r;
	char		*keep, email[128];

	ctx_open(&c);
	keep = c.agency_id;
	c.agency_id = NO_SUCH_ID;
	snprintf(email, sizeof(email), "noagency-%s@test.example.org",
	    kwt_unique());
	r = create_user(&c, email, "[\"practitioner\"]", NULL);
	cr_assert_eq(r->status, 422, "unknown agency: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	c.agency_id = keep;

	keep = c.area_id;
	c.area_id = NO_SUCH_ID;
	r = create_user(&c, email, "[\"practitioner\"]", NULL);
	cr_assert_eq(r->status, 422, "unknown area: %ld %s", r->status, r->raw);
	kwt_free(r);
	c.area_id = keep;
	ctx_close(&c);
}

Test(admin, manager_must_hold_the_manager_role)
{
	struct ctx	 c;
	struct resp	*r;
	char		*keyworker, *manager, email[128];

	ctx_open(&c);
	keyworker = me_id(KEYWORKER_EMAIL);
	manager = me_id(MANAGER_EMAIL);
	snprintf(email, sizeof(email), "managed-%s@test.example.org",
	    kwt_unique());
	r = create_user(&c, email, "[\"practitioner\"]", keyworker);
	cr_assert_eq(r->status, 422, "a practitioner as manager: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	r = create_user(&c, email, "[\"practitioner\"]", NO_SUCH_ID);
	cr_assert_eq(r->status, 422, "no such manager: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	r = create_user(&c, email, "[\"practitioner\"]", manager);
	cr_assert_eq(r->status, 201, "a real manager: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	free(keyworker);
	free(manager);
	ctx_close(&c);
}

Test(admin, non_admins_are_refused_but_may_read_reference_data)
{
	struct ctx	 c;
	struct resp	*r;
	char		*tok, *body, email[128];

	ctx_open(&c);
	tok = kwt_login(KEYWORKER_EMAIL, KWT_DEMO_PASSWORD);

	body = kwt_json("{s:s}", "name", "Not allowed");
	r = send_json("POST", "/v1/areas", tok, body, NULL);
	cr_assert_eq(r->status, 403, "POST /v1/areas: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	free(body);
	body = kwt_json("{s:s, s:s}", "name", "Not allowed", "kind", "other");
	r = send_json("POST", "/v1/agencies", tok, body, NULL);
	cr_assert_eq(r->status, 403, "POST /v1/agencies: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	free(body);
	snprintf(email, sizeof(email), "sneaky-%s@test.example.org",
	    kwt_unique());
	body = kwt_json("{s:s, s:s, s:s, s:s, s:s, s:[s]}", "email", email,
	    "name", "Sneaky", "password", USER_PASSWORD, "agency_id",
	    c.agency_id, "area_id", c.area_id, "roles", "admin");
	r = send_json("POST", "/v1/users", tok, body, NULL);
	cr_assert_eq(r->status, 403, "POST /v1/users: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	free(body);
	r = get("/v1/users", tok);
	cr_assert_eq(r->status, 403, "GET /v1/users: %ld %s", r->status, r->raw);
	kwt_free(r);

	/* Reference data is for everyone signed in... */
	r = get("/v1/areas", tok);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	cr_assert_gt(json_array_size(json_object_get(r->json, "items")), 0);
	kwt_free(r);
	r = get("/v1/agencies", tok);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	cr_assert_gt(json_array_size(json_object_get(r->json, "items")), 0);
	kwt_free(r);
	/* ...and nobody else. */
	r = get("/v1/areas", NULL);
	cr_assert_eq(r->status, 401);
	kwt_free(r);

	free(tok);
	ctx_close(&c);
}

Test(admin, users_are_listed_for_admins)
{
	struct ctx	 c;
	struct resp	*r;

	ctx_open(&c);
	r = get("/v1/users?limit=1", c.admin);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 1);
	/* The demo data alone has more than one account. */
	cr_assert(json_is_string(json_object_get(r->json, "next_cursor")),
	    "%s", r->raw);
	kwt_free(r);
	ctx_close(&c);
}

Test(admin, a_user_is_read_by_admins_and_by_themselves_only)
{
	struct ctx	 c;
	struct resp	*r;
	char		*id, *tok, *other, *etag, email[128], path[128];

	ctx_open(&c);
	id = new_user(&c, email, sizeof(email));
	snprintf(path, sizeof(path), "/v1/users/%s", id);

	r = get(path, c.admin);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	etag = etag_of(r);
	cr_assert_str_eq(kwt_str(r, "id"), id);
	cr_assert_str_eq(kwt_str(r, "email"), email);
	kwt_free(r);

	tok = kwt_login(email, USER_PASSWORD);
	r = get(path, tok);
	cr_assert_eq(r->status, 200, "reading themselves: %ld %s", r->status,
	    r->raw);
	cr_assert_str_eq(kwt_str(r, "id"), id);
	kwt_free(r);

	/* Someone else's account is, to a non-admin, not there at all. */
	other = me_id(KEYWORKER_EMAIL);
	snprintf(path, sizeof(path), "/v1/users/%s", other);
	r = get(path, tok);
	cr_assert_eq(r->status, 404, "reading another: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	snprintf(path, sizeof(path), "/v1/users/%s", NO_SUCH_ID);
	r = get(path, c.admin);
	cr_assert_eq(r->status, 404, "%ld %s", r->status, r->raw);
	kwt_free(r);

	free(other);
	free(etag);
	free(tok);
	free(id);
	ctx_close(&c);
}

Test(admin, update_needs_the_current_etag)
{
	struct ctx	 c;
	struct resp	*r;
	char		*id, *tok, *e1, *e2, email[128], path[128];

	ctx_open(&c);
	id = new_user(&c, email, sizeof(email));
	snprintf(path, sizeof(path), "/v1/users/%s", id);
	r = get(path, c.admin);
	cr_assert_eq(r->status, 200);
	e1 = etag_of(r);
	kwt_free(r);

	r = patch_user(c.admin, id, e1, "{\"name\":\"Renamed Once\"}");
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	e2 = etag_of(r);
	cr_assert_str_neq(e1, e2, "the ETag did not change");
	cr_assert_str_eq(kwt_str(r, "name"), "Renamed Once");
	cr_assert_str_eq(kwt_str(r, "email"), email, "other fields changed");
	kwt_free(r);

	/* A writer who read before that change must read again. */
	r = patch_user(c.admin, id, e1, "{\"name\":\"Renamed Stale\"}");
	cr_assert_eq(r->status, 412, "stale If-Match: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	r = get(path, c.admin);
	cr_assert_str_eq(kwt_str(r, "name"), "Renamed Once");
	cr_assert_str_eq(kwt_header(r, "ETag"), e2);
	kwt_free(r);

	/* Only admins change accounts, even their own. */
	tok = kwt_login(email, USER_PASSWORD);
	r = patch_user(tok, id, e2, "{\"name\":\"Self Renamed\"}");
	cr_assert_eq(r->status, 403, "%ld %s", r->status, r->raw);
	kwt_free(r);
	r = patch_user(c.admin, NO_SUCH_ID, e2, "{\"name\":\"Nobody\"}");
	cr_assert_eq(r->status, 404, "%ld %s", r->status, r->raw);
	kwt_free(r);

	free(tok);
	free(e1);
	free(e2);
	free(id);
	ctx_close(&c);
}

Test(admin, deactivating_an_account_ends_its_sign_ins)
{
	struct ctx	 c;
	struct resp	*r;
	json_t		*t;
	char		*id, *etag, email[128], path[128], body[256];

	ctx_open(&c);
	id = new_user(&c, email, sizeof(email));
	t = kwt_login_json(email, USER_PASSWORD);
	snprintf(path, sizeof(path), "/v1/users/%s", id);
	r = get(path, c.admin);
	etag = etag_of(r);
	kwt_free(r);

	r = patch_user(c.admin, id, etag, "{\"active\":false}");
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert(json_is_false(json_object_get(r->json, "active")));
	free(etag);
	etag = etag_of(r);
	kwt_free(r);

	r = get("/v1/me", json_string_value(json_object_get(t, "access_token")));
	cr_assert_eq(r->status, 401, "token of a deactivated account: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}",
	    json_string_value(json_object_get(t, "refresh_token")));
	r = kwt_request("POST", "/v1/auth/refresh", NULL, NULL, body, NULL);
	cr_assert_eq(r->status, 401, "refresh of a deactivated account");
	kwt_free(r);
	/* A failure on purpose: from an address of its own. */
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}",
	    email, USER_PASSWORD);
	r = kwt_request_from("127.0.11.1", "POST", "/v1/auth/login", NULL, NULL,
	    body, NULL);
	cr_assert_eq(r->status, 401, "sign-in of a deactivated account: %ld %s",
	    r->status, r->raw);
	kwt_free(r);

	/* Back on: a new sign-in works, the old one stays ended. */
	r = patch_user(c.admin, id, etag, "{\"active\":true}");
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	kwt_free(r);
	free(kwt_login(email, USER_PASSWORD));
	r = get("/v1/me", json_string_value(json_object_get(t, "access_token")));
	cr_assert_eq(r->status, 401, "an ended sign-in came back");
	kwt_free(r);

	json_decref(t);
	free(etag);
	free(id);
	ctx_close(&c);
}

Test(admin, a_new_password_ends_sign_ins_and_replaces_the_old)
{
	struct ctx	 c;
	struct resp	*r;
	char		*id, *tok, *etag, email[128], path[128], body[256];
	const char	*newpw = "a-brand-new-long-password";

	ctx_open(&c);
	id = new_user(&c, email, sizeof(email));
	tok = kwt_login(email, USER_PASSWORD);
	snprintf(path, sizeof(path), "/v1/users/%s", id);
	r = get(path, c.admin);
	etag = etag_of(r);
	kwt_free(r);

	snprintf(body, sizeof(body), "{\"password\":\"%s\"}", newpw);
	r = patch_user(c.admin, id, etag, body);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	kwt_free(r);

	r = get("/v1/me", tok);
	cr_assert_eq(r->status, 401, "token from before the new password: %ld",
	    r->status);
	kwt_free(r);
	free(tok);
	tok = kwt_login(email, newpw);
	r = get("/v1/me", tok);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	kwt_free(r);
	/* A failure on purpose: from an address of its own. */
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}",
	    email, USER_PASSWORD);
	r = kwt_request_from("127.0.11.2", "POST", "/v1/auth/login", NULL, NULL,
	    body, NULL);
	cr_assert_eq(r->status, 401, "the old password still works: %ld",
	    r->status);
	kwt_free(r);

	free(tok);
	free(etag);
	free(id);
	ctx_close(&c);
}

/*
 * Following next_cursor visits every area once: five made here are each
 * found exactly once, and no item comes back twice.
 */
Test(admin, area_pages_follow_next_cursor)
{
	struct resp	*r;
	json_t		*seen, *items, *item, *cur;
	char		*admin, prefix[64], name[128], *mine[5], path[512];
	const char	*id, *nm;
	size_t		 i, k;
	int		 pages, found[5] = { 0 };

	admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	snprintf(prefix, sizeof(prefix), "Paged %s ", kwt_unique());
	for (k = 0; k < 5; k++) {
		snprintf(name, sizeof(name), "%s%zu", prefix, k);
		r = create_area(admin, name);
		cr_assert_eq(r->status, 201, "%s", r->raw);
		mine[k] = strdup(kwt_str(r, "id"));
		kwt_free(r);
	}

	seen = json_object();
	cur = NULL;
	for (pages = 0; pages < 10000; pages++) {
		if (cur == NULL)
			snprintf(path, sizeof(path), "/v1/areas?limit=2");
		else
			snprintf(path, sizeof(path), "/v1/areas?limit=2&cursor=%s",
			    json_string_value(cur));
		json_decref(cur);
		r = get(path, admin);
		cr_assert_eq(r->status, 200, "%s: %ld %s", path, r->status,
		    r->raw);
		items = json_object_get(r->json, "items");
		cr_assert_leq(json_array_size(items), 2, "%s", r->raw);
		json_array_foreach(items, i, item) {
			id = json_string_value(json_object_get(item, "id"));
			nm = json_string_value(json_object_get(item, "name"));
			cr_assert_null(json_object_get(seen, id),
			    "area %s came back twice", id);
			json_object_set_new(seen, id, json_true());
			for (k = 0; k < 5; k++) {
				if (strcmp(id, mine[k]) == 0) {
					found[k]++;
					cr_assert_eq(strncmp(nm, prefix,
					    strlen(prefix)), 0);
				}
			}
		}
		cur = json_incref(json_object_get(r->json, "next_cursor"));
		kwt_free(r);
		if (json_is_null(cur)) {
			json_decref(cur);
			cur = NULL;
			break;
		}
		cr_assert(json_is_string(cur));
	}
	cr_assert_null(cur, "paging did not end");
	for (k = 0; k < 5; k++) {
		cr_assert_eq(found[k], 1, "area %s found %d times", mine[k],
		    found[k]);
		free(mine[k]);
	}
	/* All of them, at least the demo data's and these. */
	cr_assert_geq(json_object_size(seen), 7);
	json_decref(seen);
	free(admin);
}

Test(admin, a_cursor_not_given_out_is_400)
{
	struct resp	*r;
	char		*admin, cursor[CURSOR_MAX], path[512];
	const char	*bad[] = { "garbage!!", "Zm9v", "AAAA", NULL };
	int		 i;

	admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	for (i = 0; bad[i] != NULL; i++) {
		snprintf(path, sizeof(path), "/v1/areas?cursor=%s", bad[i]);
		r = get(path, admin);
		cr_assert_eq(r->status, 400, "cursor %s: %ld %s", bad[i],
		    r->status, r->raw);
		kwt_free(r);
	}
	/* Well encoded, but what it carries is no time. */
	cr_assert_eq(cursor_encode("notatime", NO_SUCH_ID, cursor,
	    sizeof(cursor)), 0);
	snprintf(path, sizeof(path), "/v1/areas?cursor=%s", cursor);
	r = get(path, admin);
	cr_assert_eq(r->status, 400, "cursor %s: %ld %s", cursor, r->status,
	    r->raw);
	kwt_free(r);
	free(admin);
}

Test(admin, list_limit_defaults_to_50_and_is_bounded)
{
	struct resp	*r;
	char		*admin, name[128];
	int		 k;

	admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	/* Enough areas that a default page cannot hold them all. */
	for (k = 0; k < 51; k++) {
		snprintf(name, sizeof(name), "Many %s %d", kwt_unique(), k);
		r = create_area(admin, name);
		cr_assert_eq(r->status, 201, "%s", r->raw);
		kwt_free(r);
	}
	r = get("/v1/areas", admin);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 50);
	cr_assert(json_is_string(json_object_get(r->json, "next_cursor")));
	kwt_free(r);

	r = get("/v1/areas?limit=0", admin);
	cr_assert_eq(r->status, 400, "limit=0: %ld", r->status);
	kwt_free(r);
	r = get("/v1/areas?limit=201", admin);
	cr_assert_eq(r->status, 400, "limit=201: %ld", r->status);
	kwt_free(r);
	free(admin);
}
