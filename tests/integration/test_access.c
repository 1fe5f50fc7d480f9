/*
 * Who sees what of an episode, through the API: the access matrix for
 * every kind of caller (keyworker, full and limited TAF members, the
 * keyworker's line manager, the area's coordinator and another area's,
 * an admin, an unrelated practitioner, partner systems), what limited
 * access leaves out, managing the Team Around the Family, and access
 * requests.
 *
 * Each test builds its own world: fresh areas, agencies and accounts and
 * a family with unique names, so that tests in parallel, and the demo
 * data, never see each other's episodes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "client.h"

#define ADMIN_EMAIL	"admin@example.org"
#define USER_PASSWORD	"correct-horse-battery-staple"
#define NO_SUCH_ID	"00000000-0000-4000-8000-000000000000"

/* An account made by the test, signed in. */
struct person {
	char	*id;
	char	*tok;
};

/*
 * One episode and everyone around it. The keyworker works for the admin's
 * agency; the full and the limited member each for an agency of their own,
 * with a partner system's key bound to it.
 */
struct world {
	char		*admin;
	char		*agency;	/* the admin's: keyworker's, lead agency */
	char		*area;		/* the family's, fresh */
	char		*other_area;	/* fresh, nobody's family */
	char		*agency_f;	/* the full member's, fresh */
	char		*agency_l;	/* the limited member's, fresh */
	struct person	 manager;	/* the keyworker's line manager */
	struct person	 keyworker;
	struct person	 full;
	struct person	 limited;
	struct person	 coord;		/* coordinator of area */
	struct person	 coord_other;	/* coordinator of other_area */
	struct person	 stranger;	/* a practitioner with no place */
	char		*partner_f;	/* API key of agency_f */
	char		*partner_l;	/* API key of agency_l */
	char		*episode;
	char		*note;		/* a note by the keyworker */
	char		 secret[128];	/* that note's body */
	char		 family[128];	/* the family's name */
	char		 child[128];	/* its child's given name */
};

static struct resp	*send_json(const char *, const char *, const char *,
			    const char *, const char *);
static struct resp	*get(const char *, const char *);
static char		*new_area(const char *);
static char		*new_agency(const char *);
static char		*new_partner(const char *, const char *);
static void		 person_new(struct person *, struct world *,
			    const char *, const char *, const char *,
			    const char *);
static void		 person_free(struct person *);
static void		 world_open(struct world *);
static void		 world_close(struct world *);
static struct resp	*add_team(const char *, const char *, const char *,
			    const char *);
static char		*request_access(const char *, const char *,
			    const char *);
static json_t		*find_episode(const char *, const char *);
static json_t		*find_item(json_t *, const char *, const char *);
static void		 assert_summary_only(struct world *, struct resp *,
			    const char *);
static void		 assert_sees(struct world *, const char *,
			    const char *, const char *);
static char		*etag_of(struct resp *);

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

static char *
new_area(const char *admin)
{
	struct resp	*r;
	char		*body, *id;

	body = kwt_json("{s:s}", "name", kwt_unique());
	r = send_json("POST", "/v1/areas", admin, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "new area: %ld %s", r->status, r->raw);
	id = strdup(kwt_str(r, "id"));
	kwt_free(r);
	return id;
}

static char *
new_agency(const char *admin)
{
	struct resp	*r;
	char		*body, *id;

	body = kwt_json("{s:s, s:s}", "name", kwt_unique(), "kind", "school");
	r = send_json("POST", "/v1/agencies", admin, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "new agency: %ld %s", r->status, r->raw);
	id = strdup(kwt_str(r, "id"));
	kwt_free(r);
	return id;
}

/* A partner system's API key for agency (caller frees). */
static char *
new_partner(const char *admin, const char *agency)
{
	struct resp	*r;
	char		*body, *key;

	body = kwt_json("{s:s, s:s}", "name", "Access test partner",
	    "agency_id", agency);
	r = send_json("POST", "/v1/api-clients", admin, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "new API key: %ld %s", r->status, r->raw);
	key = strdup(kwt_str(r, "api_key"));
	kwt_free(r);
	return key;
}

/* A new account, signed in; agency and area default to the world's. */
static void
person_new(struct person *p, struct world *w, const char *roles,
    const char *agency, const char *area, const char *manager)
{
	struct resp	*r;
	json_error_t	 err;
	json_t		*j;
	char		 email[160], *body;

	snprintf(email, sizeof(email), "acc-%s@test.example.org", kwt_unique());
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "email", email,
	    "name", "Access Tester", "password", USER_PASSWORD,
	    "agency_id", agency != NULL ? agency : w->agency,
	    "area_id", area != NULL ? area : w->area,
	    "roles", json_loads(roles, 0, &err));
	cr_assert_not_null(j);
	if (manager != NULL)
		json_object_set_new(j, "manager_id", json_string(manager));
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	r = send_json("POST", "/v1/users", w->admin, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "new user: %ld %s", r->status, r->raw);
	p->id = strdup(kwt_str(r, "id"));
	kwt_free(r);
	p->tok = kwt_login(email, USER_PASSWORD);
}

static void
person_free(struct person *p)
{
	free(p->id);
	free(p->tok);
}

static void
world_open(struct world *w)
{
	struct resp	*r;
	struct tm	 tm;
	time_t		 t = time(NULL) - 3600;
	char		*body, when[32], u[64], path[128];

	memset(w, 0, sizeof(*w));
	w->admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	r = get("/v1/me", w->admin);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	w->agency = strdup(kwt_str(r, "agency_id"));
	kwt_free(r);
	w->area = new_area(w->admin);
	w->other_area = new_area(w->admin);
	w->agency_f = new_agency(w->admin);
	w->agency_l = new_agency(w->admin);
	person_new(&w->manager, w, "[\"manager\"]", NULL, NULL, NULL);
	person_new(&w->keyworker, w, "[\"practitioner\"]", NULL, NULL,
	    w->manager.id);
	person_new(&w->full, w, "[\"practitioner\"]", w->agency_f, NULL, NULL);
	person_new(&w->limited, w, "[\"practitioner\"]", w->agency_l, NULL,
	    NULL);
	person_new(&w->coord, w, "[\"coordinator\"]", NULL, NULL, NULL);
	person_new(&w->coord_other, w, "[\"coordinator\"]", NULL,
	    w->other_area, NULL);
	person_new(&w->stranger, w, "[\"practitioner\"]", NULL, NULL, NULL);
	w->partner_f = new_partner(w->admin, w->agency_f);
	w->partner_l = new_partner(w->admin, w->agency_l);

	snprintf(u, sizeof(u), "%s", kwt_unique());
	snprintf(w->family, sizeof(w->family), "Acc%s", u);
	snprintf(w->child, sizeof(w->child), "Child%s", u);
	snprintf(w->secret, sizeof(w->secret), "Secret observation %s", u);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	body = kwt_json("{s:{s:s, s:s, s:s},"
	    " s:[{s:s, s:s, s:s, s:s, s:b}, {s:s, s:s, s:s, s:s, s:b}],"
	    " s:s, s:s, s:{s:s, s:s}}",
	    "family", "name", w->family, "area_id", w->area, "postcode",
	    "AC1 2CD",
	    "members",
	    "given_name", "Robin", "family_name", w->family, "date_of_birth",
	    "1984-06-07", "relationship", "father", "is_child", 0,
	    "given_name", w->child, "family_name", w->family, "date_of_birth",
	    "2017-08-09", "relationship", "daughter", "is_child", 1,
	    "keyworker_id", w->keyworker.id, "lead_agency_id", w->agency,
	    "verbal_consent", "obtained_at", when, "given_by", "Robin");
	r = send_json("POST", "/v1/episodes", w->keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "register: %ld %s", r->status, r->raw);
	w->episode = strdup(kwt_str(r, "id"));
	kwt_free(r);

	kwt_free(add_team(w->keyworker.tok, w->episode, w->full.id, "full"));
	kwt_free(add_team(w->keyworker.tok, w->episode, w->limited.id,
	    "limited"));

	snprintf(path, sizeof(path), "/v1/episodes/%s/notes", w->episode);
	body = kwt_json("{s:s, s:s}", "body", w->secret, "kind", "opinion");
	r = send_json("POST", path, w->keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "note: %ld %s", r->status, r->raw);
	w->note = strdup(kwt_str(r, "id"));
	kwt_free(r);
}

static void
world_close(struct world *w)
{
	free(w->admin);
	free(w->agency);
	free(w->area);
	free(w->other_area);
	free(w->agency_f);
	free(w->agency_l);
	person_free(&w->manager);
	person_free(&w->keyworker);
	person_free(&w->full);
	person_free(&w->limited);
	person_free(&w->coord);
	person_free(&w->coord_other);
	person_free(&w->stranger);
	free(w->partner_f);
	free(w->partner_l);
	free(w->episode);
	free(w->note);
}

/* POST /v1/episodes/{episode}/team as tok; asserts 201 unless told. */
static struct resp *
add_team(const char *tok, const char *episode, const char *user,
    const char *level)
{
	struct resp	*r;
	char		*body, path[128];

	snprintf(path, sizeof(path), "/v1/episodes/%s/team", episode);
	body = kwt_json("{s:s, s:s}", "user_id", user, "level", level);
	r = send_json("POST", path, tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "add to team: %ld %s", r->status, r->raw);
	return r;
}

/* Ask for access to episode as tok, asserting 202; the request's id. */
static char *
request_access(const char *tok, const char *episode, const char *reason)
{
	struct resp	*r;
	char		*body, *id, path[128];

	snprintf(path, sizeof(path), "/v1/episodes/%s/access-requests",
	    episode);
	body = kwt_json("{s:s}", "reason", reason);
	r = send_json("POST", path, tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 202, "request access: %ld %s", r->status,
	    r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "pending");
	id = strdup(kwt_str(r, "id"));
	kwt_free(r);
	return id;
}

/*
 * The item for episode in GET /v1/episodes as tok, following next_cursor
 * (caller decrefs), or NULL. Every page must be summaries only: limited
 * or full, no list item carries the family or its members.
 */
static json_t *
find_episode(const char *tok, const char *episode)
{
	struct resp	*r;
	json_t		*found = NULL, *cur = NULL, *item;
	char		 path[512];
	int		 pages;

	for (pages = 0; pages < 1000; pages++) {
		snprintf(path, sizeof(path), "/v1/episodes?limit=200%s%s",
		    cur != NULL ? "&cursor=" : "",
		    cur != NULL ? json_string_value(cur) : "");
		json_decref(cur);
		r = get(path, tok);
		cr_assert_eq(r->status, 200, "%s: %ld %s", path, r->status,
		    r->raw);
		item = find_item(json_object_get(r->json, "items"), "id",
		    episode);
		if (item != NULL) {
			cr_assert_null(found, "listed twice");
			found = json_incref(item);
		}
		cur = json_incref(json_object_get(r->json, "next_cursor"));
		kwt_free(r);
		if (!json_is_string(cur)) {
			json_decref(cur);
			return found;
		}
	}
	cr_assert_fail("paging did not end");
	return NULL;
}

/* The first item of items whose member is value (borrowed), or NULL. */
static json_t *
find_item(json_t *items, const char *member, const char *value)
{
	json_t		*item;
	const char	*v;
	size_t		 i;

	json_array_foreach(items, i, item) {
		v = json_string_value(json_object_get(item, member));
		if (v != NULL && strcmp(v, value) == 0)
			return item;
	}
	return NULL;
}

/* Nothing beyond the summary anywhere in the raw body. */
static void
assert_summary_only(struct world *w, struct resp *r, const char *who)
{
	const char	*hidden[] = { "\"members\"", "\"family\"",
			    "date_of_birth", "postcode", "AC1 2CD", "Robin",
			    "\"deadlines\"",
			    NULL };
	int		 i;

	for (i = 0; hidden[i] != NULL; i++)
		cr_assert_null(strstr(r->raw, hidden[i]),
		    "%s: limited access shows %s: %s", who, hidden[i], r->raw);
	cr_assert_null(strstr(r->raw, w->secret), "%s: a note shows: %s", who,
	    r->raw);
	cr_assert_null(strstr(r->raw, w->child), "%s: the child shows: %s",
	    who, r->raw);
}

/*
 * tok (who) sees the world's episode at access "full" or "limited", or
 * (NULL) not at all: the episode, its place in the list, its notes, one
 * note, its members and its team.
 */
static void
assert_sees(struct world *w, const char *who, const char *tok,
    const char *access)
{
	struct resp	*r;
	json_t		*item;
	const char	*sub[] = { "notes", "members", "team", NULL };
	char		 path[256];
	long		 want;
	int		 i;

	snprintf(path, sizeof(path), "/v1/episodes/%s", w->episode);
	r = get(path, tok);
	if (access == NULL) {
		cr_assert_eq(r->status, 404, "%s: GET episode: %ld %s", who,
		    r->status, r->raw);
		cr_assert_null(strstr(r->raw, w->family), "%s: %s", who,
		    r->raw);
	} else {
		cr_assert_eq(r->status, 200, "%s: GET episode: %ld %s", who,
		    r->status, r->raw);
		cr_assert_str_eq(kwt_str(r, "access"), access, "%s", who);
		cr_assert_str_eq(kwt_str(r, "id"), w->episode);
		cr_assert_str_eq(kwt_str(r, "family_name"), w->family);
		cr_assert_str_eq(kwt_str(r, "keyworker_id"), w->keyworker.id);
		if (strcmp(access, "limited") == 0)
			assert_summary_only(w, r, who);
		else {
			cr_assert(json_is_object(json_object_get(r->json,
			    "family")), "%s: %s", who, r->raw);
			cr_assert_not_null(strstr(r->raw, w->child),
			    "%s: no members: %s", who, r->raw);
		}
	}
	kwt_free(r);

	item = find_episode(tok, w->episode);
	if (access == NULL)
		cr_assert_null(item, "%s: listed an episode they cannot see",
		    who);
	else {
		cr_assert_not_null(item, "%s: not listed", who);
		cr_assert_str_eq(json_string_value(json_object_get(item,
		    "access")), access, "%s: listed as", who);
	}
	json_decref(item);

	/* Limited access is told no (403); no access is told nothing (404). */
	want = access == NULL ? 404 : strcmp(access, "full") == 0 ? 200 : 403;
	for (i = 0; sub[i] != NULL; i++) {
		snprintf(path, sizeof(path), "/v1/episodes/%s/%s", w->episode,
		    sub[i]);
		r = get(path, tok);
		cr_assert_eq(r->status, want, "%s: GET %s: %ld %s", who,
		    sub[i], r->status, r->raw);
		if (want != 200)
			assert_summary_only(w, r, who);
		kwt_free(r);
	}
	snprintf(path, sizeof(path), "/v1/episodes/%s/notes/%s", w->episode,
	    w->note);
	r = get(path, tok);
	cr_assert_eq(r->status, want, "%s: GET note: %ld %s", who, r->status,
	    r->raw);
	if (want == 200)
		cr_assert_str_eq(kwt_str(r, "body"), w->secret);
	else
		assert_summary_only(w, r, who);
	kwt_free(r);
}

/* The response's ETag (caller frees), asserting it has one. */
static char *
etag_of(struct resp *r)
{
	const char	*e = kwt_header(r, "ETag");

	cr_assert(e != NULL && *e != '\0', "no ETag: %s", r->headers);
	return strdup(e);
}

Test(access, each_caller_sees_what_their_place_allows)
{
	struct world	 w;

	world_open(&w);
	assert_sees(&w, "keyworker", w.keyworker.tok, "full");
	assert_sees(&w, "full member", w.full.tok, "full");
	assert_sees(&w, "limited member", w.limited.tok, "limited");
	assert_sees(&w, "line manager", w.manager.tok, "full");
	assert_sees(&w, "area coordinator", w.coord.tok, "full");
	assert_sees(&w, "other area's coordinator", w.coord_other.tok, NULL);
	assert_sees(&w, "admin", w.admin, NULL);
	assert_sees(&w, "unrelated practitioner", w.stranger.tok, NULL);
	/* A partner system holds what its agency's practitioners hold. */
	assert_sees(&w, "partner of the full member", w.partner_f, "full");
	assert_sees(&w, "partner of the limited member", w.partner_l,
	    "limited");
	world_close(&w);
}

/* What a full read shows is exactly what a limited read leaves out. */
Test(access, limited_access_is_the_summary_only)
{
	struct world	 w;
	struct resp	*full, *lim;
	json_t		*expect;
	const char	*key;
	json_t		*v;
	char		 path[128];

	world_open(&w);
	snprintf(path, sizeof(path), "/v1/episodes/%s", w.episode);
	full = get(path, w.keyworker.tok);
	lim = get(path, w.limited.tok);
	cr_assert_eq(full->status, 200);
	cr_assert_eq(lim->status, 200, "%ld %s", lim->status, lim->raw);
	assert_summary_only(&w, lim, "limited member");
	expect = json_deep_copy(full->json);
	json_object_del(expect, "family");
	json_object_del(expect, "members");
	json_object_del(expect, "deadlines");
	json_object_set_new(expect, "access", json_string("limited"));
	json_object_foreach(expect, key, v)
		cr_assert(json_equal(v, json_object_get(lim->json, key)),
		    "limited read differs on %s: %s", key, lim->raw);
	cr_assert_eq(json_object_size(lim->json), json_object_size(expect),
	    "limited read has more: %s", lim->raw);
	json_decref(expect);
	kwt_free(full);
	kwt_free(lim);

	/* The limited member's list: the summary too. */
	lim = get("/v1/episodes", w.limited.tok);
	cr_assert_eq(lim->status, 200);
	cr_assert_eq(json_array_size(json_object_get(lim->json, "items")), 1,
	    "%s", lim->raw);
	assert_summary_only(&w, lim, "limited member's list");
	kwt_free(lim);
	lim = get("/v1/episodes", w.partner_l);
	cr_assert_eq(lim->status, 200);
	assert_summary_only(&w, lim, "limited partner's list");
	kwt_free(lim);
	world_close(&w);
}

/*
 * The keyworker manages the team; a change of level or a removal takes
 * effect on the member's very next request. Members do not manage it.
 */
Test(access, the_keyworker_manages_the_team)
{
	struct world	 w;
	struct person	 x, y;
	struct resp	*r;
	char		*t1, *t2, path[256], epath[128], npath[128], h[160];
	char		*body;

	world_open(&w);
	person_new(&x, &w, "[\"practitioner\"]", NULL, NULL, NULL);
	person_new(&y, &w, "[\"practitioner\"]", NULL, NULL, NULL);
	snprintf(epath, sizeof(epath), "/v1/episodes/%s", w.episode);
	snprintf(npath, sizeof(npath), "/v1/episodes/%s/notes", w.episode);
	snprintf(path, sizeof(path), "/v1/episodes/%s/team/%s", w.episode,
	    x.id);

	r = get(epath, x.tok);
	cr_assert_eq(r->status, 404, "not yet on the team: %ld", r->status);
	kwt_free(r);
	r = add_team(w.keyworker.tok, w.episode, x.id, "full");
	t1 = etag_of(r);
	cr_assert_str_eq(kwt_str(r, "user_id"), x.id);
	cr_assert_str_eq(kwt_str(r, "episode_id"), w.episode);
	cr_assert_str_eq(kwt_str(r, "level"), "full");
	cr_assert_str_eq(kwt_str(r, "added_by"), w.keyworker.id);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    r->json, "user"), "id")), x.id);
	kwt_free(r);
	r = get(npath, x.tok);
	cr_assert_eq(r->status, 200, "full member reads notes: %ld %s",
	    r->status, r->raw);
	kwt_free(r);

	/* On the team already, or the keyworker: a conflict. */
	body = kwt_json("{s:s, s:s}", "user_id", x.id, "level", "limited");
	snprintf(h, sizeof(h), "/v1/episodes/%s/team", w.episode);
	r = send_json("POST", h, w.keyworker.tok, body, NULL);
	cr_assert_eq(r->status, 409, "twice: %ld %s", r->status, r->raw);
	kwt_free(r);
	free(body);
	body = kwt_json("{s:s, s:s}", "user_id", w.keyworker.id, "level",
	    "full");
	r = send_json("POST", h, w.keyworker.tok, body, NULL);
	cr_assert_eq(r->status, 409, "the keyworker: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	free(body);

	/* Members, full or limited, do not manage the team; others see none. */
	body = kwt_json("{s:s, s:s}", "user_id", y.id, "level", "limited");
	r = send_json("POST", h, w.full.tok, body, NULL);
	cr_assert_eq(r->status, 403, "full member adds: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	r = send_json("POST", h, w.limited.tok, body, NULL);
	cr_assert_eq(r->status, 403, "limited member adds: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	r = send_json("POST", h, w.stranger.tok, body, NULL);
	cr_assert_eq(r->status, 404, "stranger adds: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	r = get(epath, y.tok);
	cr_assert_eq(r->status, 404, "a refused add let them in: %ld",
	    r->status);
	kwt_free(r);
	free(body);

	/* Lowered to limited: the very next read of notes is refused. */
	snprintf(h, sizeof(h), "If-Match: %s", t1);
	r = send_json("PATCH", path, w.full.tok, "{\"level\":\"limited\"}", h);
	cr_assert_eq(r->status, 403, "full member changes a level: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	r = send_json("PATCH", path, w.keyworker.tok, "{\"level\":\"limited\"}",
	    h);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "level"), "limited");
	t2 = etag_of(r);
	cr_assert_str_neq(t1, t2, "the ETag did not change");
	kwt_free(r);
	r = get(npath, x.tok);
	cr_assert_eq(r->status, 403, "lowered member reads notes: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	r = get(epath, x.tok);
	cr_assert_eq(r->status, 200);
	cr_assert_str_eq(kwt_str(r, "access"), "limited");
	kwt_free(r);
	r = send_json("PATCH", path, w.keyworker.tok, "{\"level\":\"full\"}",
	    h);
	cr_assert_eq(r->status, 412, "stale If-Match: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	r = get(npath, x.tok);
	cr_assert_eq(r->status, 403, "a stale change took effect");
	kwt_free(r);

	/* Removed: the very next read finds nothing. */
	r = kwt_request("DELETE", path, w.full.tok, NULL, NULL, NULL);
	cr_assert_eq(r->status, 403, "full member removes: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	r = kwt_request("DELETE", path, w.keyworker.tok, NULL, NULL, NULL);
	cr_assert_eq(r->status, 204, "%ld %s", r->status, r->raw);
	kwt_free(r);
	r = get(epath, x.tok);
	cr_assert_eq(r->status, 404, "removed member reads: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	r = kwt_request("DELETE", path, w.keyworker.tok, NULL, NULL, NULL);
	cr_assert_eq(r->status, 404, "second removal: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	snprintf(h, sizeof(h), "If-Match: %s", t2);
	r = send_json("PATCH", path, w.keyworker.tok, "{\"level\":\"full\"}",
	    h);
	cr_assert_eq(r->status, 404, "change of a removed member: %ld %s",
	    r->status, r->raw);
	kwt_free(r);

	/* The keyworker's manager manages the team too. */
	kwt_free(add_team(w.manager.tok, w.episode, y.id, "limited"));
	r = get(epath, y.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "access"), "limited");
	kwt_free(r);

	free(t1);
	free(t2);
	person_free(&x);
	person_free(&y);
	world_close(&w);
}

/*
 * Asking for access is answered the same whether or not the episode
 * exists: the answer reveals nothing.
 */
Test(access, an_access_request_reveals_nothing)
{
	struct world	 w;
	struct resp	*none, *real;
	const char	*key;
	json_t		*v;
	char		*body, path[128];
	int		 i;

	world_open(&w);
	body = kwt_json("{s:s}", "reason", "On my caseload.");
	snprintf(path, sizeof(path), "/v1/episodes/%s/access-requests",
	    NO_SUCH_ID);
	none = send_json("POST", path, w.stranger.tok, body, NULL);
	cr_assert_eq(none->status, 202, "no such episode: %ld %s",
	    none->status, none->raw);
	snprintf(path, sizeof(path), "/v1/episodes/%s/access-requests",
	    w.episode);
	real = send_json("POST", path, w.stranger.tok, body, NULL);
	cr_assert_eq(real->status, 202, "a real episode: %ld %s", real->status,
	    real->raw);
	cr_assert_eq(json_object_size(none->json), json_object_size(real->json),
	    "%s\n%s", none->raw, real->raw);
	json_object_foreach(real->json, key, v) {
		cr_assert_not_null(json_object_get(none->json, key),
		    "only a real episode's answer has %s", key);
		cr_assert_eq(json_typeof(v), json_typeof(json_object_get(
		    none->json, key)), "%s differs in type", key);
	}
	cr_assert_str_eq(kwt_str(none, "status"), "pending");
	cr_assert_str_eq(kwt_str(real, "status"), "pending");
	cr_assert_str_neq(kwt_str(none, "id"), kwt_str(real, "id"));
	cr_assert_null(strstr(real->raw, w.family), "%s", real->raw);
	cr_assert_null(strstr(real->raw, w.keyworker.id), "%s", real->raw);
	kwt_free(real);

	/* Nor whether the caller has access already. */
	for (i = 0; i < 2; i++) {
		real = send_json("POST", path, i == 0 ? w.keyworker.tok :
		    w.limited.tok, body, NULL);
		cr_assert_eq(real->status, 202, "%s: %ld %s", i == 0 ?
		    "keyworker" : "limited member", real->status, real->raw);
		cr_assert_eq(json_object_size(none->json),
		    json_object_size(real->json), "%s\n%s", none->raw,
		    real->raw);
		cr_assert_str_eq(kwt_str(real, "status"), "pending");
		kwt_free(real);
	}
	kwt_free(none);

	/* Asking gives nothing by itself. */
	snprintf(path, sizeof(path), "/v1/episodes/%s", w.episode);
	real = get(path, w.stranger.tok);
	cr_assert_eq(real->status, 404, "%ld %s", real->status, real->raw);
	kwt_free(real);
	free(body);
	world_close(&w);
}

/*
 * The keyworker sees the requests for their episode and approves (the
 * requester joins at the level given, limited by default) or declines;
 * a decided request stays decided, and nobody decides their own.
 */
Test(access, the_keyworker_decides_access_requests)
{
	struct world	 w;
	struct person	 s2, s3;
	struct resp	*r;
	json_t		*item;
	char		*r1, *r2, *r3, path[256], epath[128], lpath[128];

	world_open(&w);
	person_new(&s2, &w, "[\"practitioner\"]", NULL, NULL, NULL);
	person_new(&s3, &w, "[\"practitioner\"]", NULL, NULL, NULL);
	snprintf(epath, sizeof(epath), "/v1/episodes/%s", w.episode);
	snprintf(lpath, sizeof(lpath), "/v1/episodes/%s/access-requests",
	    w.episode);
	r1 = request_access(w.stranger.tok, w.episode, "School nurse for her.");
	r2 = request_access(s2.tok, w.episode, "Just curious.");
	r3 = request_access(s3.tok, w.episode, "Housing officer.");
	free(request_access(w.stranger.tok, NO_SUCH_ID, "Elsewhere."));

	r = get(lpath, w.keyworker.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 3,
	    "%s", r->raw);
	item = find_item(json_object_get(r->json, "items"), "id", r1);
	cr_assert_not_null(item, "%s", r->raw);
	cr_assert_str_eq(json_string_value(json_object_get(item,
	    "requester_id")), w.stranger.id);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    item, "requester"), "id")), w.stranger.id);
	cr_assert_str_eq(json_string_value(json_object_get(item, "reason")),
	    "School nurse for her.");
	cr_assert_str_eq(json_string_value(json_object_get(item, "status")),
	    "pending");
	cr_assert_str_eq(json_string_value(json_object_get(item,
	    "episode_id")), w.episode);
	cr_assert(json_is_null(json_object_get(item, "level")));
	kwt_free(r);
	r = get(lpath, w.manager.tok);
	cr_assert_eq(r->status, 200, "manager: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = get(lpath, w.full.tok);
	cr_assert_eq(r->status, 403, "full member: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = get(lpath, w.limited.tok);
	cr_assert_eq(r->status, 403, "limited member: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	r = get(lpath, w.stranger.tok);
	cr_assert_eq(r->status, 404, "requester: %ld %s", r->status, r->raw);
	kwt_free(r);

	/* Nobody approves their own request. */
	snprintf(path, sizeof(path), "/v1/access-requests/%s/approve", r1);
	r = send_json("POST", path, w.stranger.tok, "{\"level\":\"full\"}",
	    NULL);
	cr_assert(r->status == 403 || r->status == 404, "own request: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	/* A full member sees the episode but not its requests: 404 or 403. */
	r = send_json("POST", path, w.full.tok, "{\"level\":\"full\"}", NULL);
	cr_assert(r->status == 403 || r->status == 404,
	    "full member approves: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = get(epath, w.stranger.tok);
	cr_assert_eq(r->status, 404, "a refused approval let them in");
	kwt_free(r);

	r = send_json("POST", path, w.keyworker.tok, "{\"level\":\"full\"}",
	    NULL);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "approved");
	cr_assert_str_eq(kwt_str(r, "level"), "full");
	cr_assert_str_eq(kwt_str(r, "decided_by"), w.keyworker.id);
	cr_assert_str_eq(kwt_str(r, "requester_id"), w.stranger.id);
	kwt_free(r);
	r = get(epath, w.stranger.tok);
	cr_assert_eq(r->status, 200, "approved requester: %ld %s", r->status,
	    r->raw);
	cr_assert_str_eq(kwt_str(r, "access"), "full");
	kwt_free(r);
	snprintf(path, sizeof(path), "/v1/episodes/%s/notes", w.episode);
	r = get(path, w.stranger.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	kwt_free(r);

	/* Decided once, for good. */
	snprintf(path, sizeof(path), "/v1/access-requests/%s/approve", r1);
	r = send_json("POST", path, w.keyworker.tok, "{\"level\":\"full\"}",
	    NULL);
	cr_assert_eq(r->status, 409, "second approval: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	snprintf(path, sizeof(path), "/v1/access-requests/%s/decline", r1);
	r = send_json("POST", path, w.keyworker.tok, "{}", NULL);
	cr_assert_eq(r->status, 409, "decline after approval: %ld %s",
	    r->status, r->raw);
	kwt_free(r);

	/* Declined: still nothing to see. */
	snprintf(path, sizeof(path), "/v1/access-requests/%s/decline", r2);
	r = send_json("POST", path, w.keyworker.tok,
	    "{\"note\":\"Not involved with the family.\"}", NULL);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "declined");
	cr_assert(json_is_null(json_object_get(r->json, "level")), "%s",
	    r->raw);
	cr_assert_str_eq(kwt_str(r, "decision_note"),
	    "Not involved with the family.");
	kwt_free(r);
	r = get(epath, s2.tok);
	cr_assert_eq(r->status, 404, "declined requester: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	snprintf(path, sizeof(path), "/v1/access-requests/%s/approve", r2);
	r = send_json("POST", path, w.keyworker.tok, "{}", NULL);
	cr_assert_eq(r->status, 409, "approval after decline: %ld %s",
	    r->status, r->raw);
	kwt_free(r);

	/*
	 * Approved without a level: limited. By the manager, this time. (An
	 * empty object: a POST with no body at all has no Content-Length,
	 * which Kore answers itself.)
	 */
	snprintf(path, sizeof(path), "/v1/access-requests/%s/approve", r3);
	r = send_json("POST", path, w.manager.tok, "{}", NULL);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "level"), "limited");
	kwt_free(r);
	r = get(epath, s3.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "access"), "limited");
	kwt_free(r);

	r = send_json("POST", "/v1/access-requests/" NO_SUCH_ID "/approve",
	    w.keyworker.tok, "{}", NULL);
	cr_assert_eq(r->status, 404, "no such request: %ld %s", r->status,
	    r->raw);
	kwt_free(r);

	free(r1);
	free(r2);
	free(r3);
	person_free(&s2);
	person_free(&s3);
	world_close(&w);
}
