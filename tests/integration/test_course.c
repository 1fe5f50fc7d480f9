/*
 * Changes of course, through the API: consent governing sharing with each
 * agency, transfers of keyworker (in county, out of county, temporary
 * cover), step up and step down, closure and reopening, the one state
 * machine every status change follows, and requests racing one another
 * (two transfers, a transfer's changeover and a closure).
 *
 * One test per rule and per refusal; each 422 asserts its rule. Tests run
 * in parallel against shared demo data, so each makes its own areas,
 * agencies, accounts and families, with unique names.
 *
 * The scheduled worker's part (kw.end_temporary_covers(), the return of
 * the original keyworker when temporary cover ends) is not HTTP: it is
 * checked as the schema owner ($DATABASE_URL) in a transaction that is
 * rolled back, so that no other test sees it.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <libpq-fe.h>

#include "client.h"

#define ADMIN_EMAIL	"admin@example.org"
#define USER_PASSWORD	"correct-horse-battery-staple"
#define NO_SUCH_ID	"00000000-0000-4000-8000-000000000000"
#define NO_END		INT_MIN		/* transfer_body(): no ends_on */
#define AUTHORITY	"Shire County Council Early Help"

/* An account made by the test, signed in. */
struct person {
	char	*id;
	char	*tok;
};

/* Who world_open() makes besides the keyworker and their manager. */
#define W_NEWKW		0x01	/* another practitioner, same manager */
#define W_COORD		0x02	/* the area's coordinator */
#define W_COORD_OTHER	0x04	/* another area's coordinator */
#define W_STRANGER	0x08	/* a practitioner with no place */
#define W_ALL		0x0f

struct world {
	char		*admin;
	char		*agency;	/* the admin's: everyone's unless told */
	char		*area;
	char		*other_area;
	struct person	 manager;	/* line manager of keyworker and newkw */
	struct person	 keyworker;
	struct person	 newkw;
	struct person	 coord;
	struct person	 coord_other;
	struct person	 stranger;
};

/* A family registered by world_open()'s keyworker. */
struct family {
	char	*episode;
	char	 name[128];
	char	 parent[128];	/* given names */
	char	 kid[128];
	char	*parent_id;	/* member ids */
	char	*kid_id;
	json_t	*members;	/* the registration's members (MemberCreate) */
};

/* One request of a race, and what came back. */
struct rreq {
	const char	*method;
	const char	*path;
	const char	*tok;
	const char	*body;
};

struct racer {
	char	*body;
	size_t	 len;
	long	 status;
	json_t	*json;
};

static struct resp	*send_json(const char *, const char *, const char *,
			    const char *, const char *);
static struct resp	*get(const char *, const char *);
static struct resp	*post_empty(const char *, const char *);
static struct resp	*postf(const char *, const char *, const char *, ...)
			    __attribute__((format(printf, 3, 4)));
static char		*new_area(const char *);
static char		*new_agency(const char *, const char *);
static char		*new_partner(const char *, const char *);
static void		 person_new(struct person *, struct world *,
			    const char *, const char *, const char *,
			    const char *);
static void		 person_free(struct person *);
static void		 world_open(struct world *, int);
static void		 world_close(struct world *);
static void		 family_new(struct world *, struct family *);
static void		 family_free(struct family *);
static char		*episode_new(struct world *);
static void		 add_team(const char *, const char *, const char *,
			    const char *);
static char		*add_note(const char *, const char *);
static void		 add_consent(const char *, const char *, const char *,
			    const char *, int);
static void		 assess(struct world *, struct family *);
static struct resp	*episode_get(const char *, const char *);
static json_t		*episode_of(const char *, const char *);
static char		*status_of(const char *, const char *);
static void		 assert_status(const char *, const char *,
			    const char *);
static void		 assert_rule(struct resp *, const char *, const char *);
static void		 assert_conflict(struct resp *, const char *);
static void		 expect(struct resp *, long, const char *);
static json_t		*list_all(const char *, const char *);
static json_t		*find_item(json_t *, const char *, const char *);
static json_t		*find_item2(json_t *, const char *, const char *,
			    const char *, const char *);
static void		 london_date(time_t, int, char *, size_t);
static void		 today_plus(int, char *, size_t);
static void		 date_plus(const char *, int, char *, size_t);
static void		 now_utc(int, char *, size_t);
static char		*transfer_body(const char *, const char *,
			    const char *, int, int, int, int);
static struct resp	*propose(const char *, const char *, const char *);
static char		*propose_ok(const char *, const char *, const char *);
static char		*in_county(struct world *, const char *, int, int);
static void		 transfer_act(const char *, const char *,
			    const char *, long);
static char		*step_up_body(int, const char *);
static char		*step_up_ok(const char *, const char *, int);
static struct resp	*decide(const char *, const char *, const char *,
			    const char *);
static char		*stepped_up_episode(struct world *, struct family *);
static char		*close_body(const char *, const char *);
static struct resp	*close_episode(const char *, const char *,
			    const char *);
static char		*step_down_body(struct world *, json_t *,
			    const char *, const char *);
static struct resp	*create_step_down(const char *, const char *);
static json_t		*fresh_members(const char *);
static size_t		 race_body(char *, size_t, size_t, void *);
static void		 race(const struct rreq *, int, struct racer *);
static void		 race_free(struct racer *, int);
static void		 assert_racer(struct racer *, const char *);
static PGconn		*db_open(void);
static char		*db_value(PGconn *, const char *, const char *);
static void		 db_exec(PGconn *, const char *, const char *);

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

/* A POST without a body (Content-Length: 0, no Content-Type). */
static struct resp *
post_empty(const char *path, const char *token)
{
	return kwt_request("POST", path, token, "", "", NULL);
}

/* POST body (may be NULL: none) to a path built by fmt. */
static struct resp *
postf(const char *token, const char *body, const char *fmt, ...)
{
	va_list	 ap;
	char	 path[512];

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (body == NULL)
		return post_empty(path, token);
	return send_json("POST", path, token, body, NULL);
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
new_agency(const char *admin, const char *kind)
{
	struct resp	*r;
	char		*body, *id;

	body = kwt_json("{s:s, s:s}", "name", kwt_unique(), "kind", kind);
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

	body = kwt_json("{s:s, s:s}", "name", "Course test partner",
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

	snprintf(email, sizeof(email), "co-%s@test.example.org", kwt_unique());
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "email", email,
	    "name", "Course Tester", "password", USER_PASSWORD,
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

/* A fresh area, the keyworker and their manager, and whoever who asks. */
static void
world_open(struct world *w, int who)
{
	struct resp	*r;

	memset(w, 0, sizeof(*w));
	w->admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	r = get("/v1/me", w->admin);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	w->agency = strdup(kwt_str(r, "agency_id"));
	kwt_free(r);
	w->area = new_area(w->admin);
	person_new(&w->manager, w, "[\"manager\"]", NULL, NULL, NULL);
	person_new(&w->keyworker, w, "[\"practitioner\"]", NULL, NULL,
	    w->manager.id);
	if (who & W_NEWKW)
		person_new(&w->newkw, w, "[\"practitioner\"]", NULL, NULL,
		    w->manager.id);
	if (who & W_COORD)
		person_new(&w->coord, w, "[\"coordinator\"]", NULL, NULL, NULL);
	if (who & W_COORD_OTHER) {
		w->other_area = new_area(w->admin);
		person_new(&w->coord_other, w, "[\"coordinator\"]", NULL,
		    w->other_area, NULL);
	}
	if (who & W_STRANGER)
		person_new(&w->stranger, w, "[\"practitioner\"]", NULL, NULL,
		    NULL);
}

static void
world_close(struct world *w)
{
	free(w->admin);
	free(w->agency);
	free(w->area);
	free(w->other_area);
	person_free(&w->manager);
	person_free(&w->keyworker);
	person_free(&w->newkw);
	person_free(&w->coord);
	person_free(&w->coord_other);
	person_free(&w->stranger);
}

/* MemberCreate items for a family no other test has: a mother and a son. */
static json_t *
fresh_members(const char *u)
{
	char	fam[128], mum[128], kid[128];

	snprintf(fam, sizeof(fam), "Crs%s", u);
	snprintf(mum, sizeof(mum), "Mum%s", u);
	snprintf(kid, sizeof(kid), "Kid%s", u);
	return json_pack("[{s:s, s:s, s:s, s:s, s:b},"
	    " {s:s, s:s, s:s, s:s, s:b}]",
	    "given_name", mum, "family_name", fam, "date_of_birth",
	    "1986-04-05", "relationship", "mother", "is_child", 0,
	    "given_name", kid, "family_name", fam, "date_of_birth",
	    "2015-06-07", "relationship", "son", "is_child", 1);
}

/* Register a fresh family in the world's area, keyworked by its keyworker. */
static void
family_new(struct world *w, struct family *f)
{
	struct resp	*r;
	json_t		*j, *m;
	char		*body, when[32], u[64];
	size_t		 i;

	memset(f, 0, sizeof(*f));
	snprintf(u, sizeof(u), "%s", kwt_unique());
	snprintf(f->name, sizeof(f->name), "Crs%s", u);
	snprintf(f->parent, sizeof(f->parent), "Mum%s", u);
	snprintf(f->kid, sizeof(f->kid), "Kid%s", u);
	f->members = fresh_members(u);
	cr_assert_not_null(f->members);
	now_utc(-3600, when, sizeof(when));
	j = json_pack("{s:{s:s, s:s, s:s}, s:O, s:s, s:s, s:{s:s, s:s, s:s}}",
	    "family", "name", f->name, "area_id", w->area, "postcode",
	    "CR1 2SE", "members", f->members,
	    "keyworker_id", w->keyworker.id, "lead_agency_id", w->agency,
	    "verbal_consent", "obtained_at", when, "given_by", f->parent,
	    "statement", "Agreed to early help.");
	cr_assert_not_null(j);
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	r = send_json("POST", "/v1/episodes", w->keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "register: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "registered");
	f->episode = strdup(kwt_str(r, "id"));
	json_array_foreach(json_object_get(r->json, "members"), i, m) {
		const char	*g = json_string_value(json_object_get(m,
				    "given_name"));
		const char	*id = json_string_value(json_object_get(m,
				    "id"));

		if (strcmp(g, f->parent) == 0)
			f->parent_id = strdup(id);
		else if (strcmp(g, f->kid) == 0)
			f->kid_id = strdup(id);
	}
	cr_assert(f->parent_id != NULL && f->kid_id != NULL, "members: %s",
	    r->raw);
	kwt_free(r);
}

static void
family_free(struct family *f)
{
	free(f->episode);
	free(f->parent_id);
	free(f->kid_id);
	json_decref(f->members);
}

/* A fresh family's episode id (caller frees). */
static char *
episode_new(struct world *w)
{
	struct family	 f;
	char		*id;

	family_new(w, &f);
	id = strdup(f.episode);
	family_free(&f);
	return id;
}

/* tok (the keyworker) puts user on the team at level. */
static void
add_team(const char *tok, const char *episode, const char *user,
    const char *level)
{
	struct resp	*r;
	char		*body;

	body = kwt_json("{s:s, s:s}", "user_id", user, "level", level);
	r = postf(tok, body, "/v1/episodes/%s/team", episode);
	free(body);
	cr_assert_eq(r->status, 201, "add to team: %ld %s", r->status, r->raw);
	kwt_free(r);
}

/* A case note by tok, asserting 201; its id (caller frees). */
static char *
add_note(const char *tok, const char *episode)
{
	struct resp	*r;
	char		*body, *id;

	body = kwt_json("{s:s, s:s}", "body", "Home visit: the family are "
	    "managing the morning routine better.", "kind", "fact");
	r = postf(tok, body, "/v1/episodes/%s/notes", episode);
	free(body);
	cr_assert_eq(r->status, 201, "note: %ld %s", r->status, r->raw);
	id = strdup(kwt_str(r, "id"));
	kwt_free(r);
	return id;
}

/*
 * A consent of kind (for agency, or none when NULL), obtained offset
 * seconds from now, recorded by tok; asserts 201.
 */
static void
add_consent(const char *tok, const char *episode, const char *kind,
    const char *agency, int offset)
{
	struct resp	*r;
	json_t		*j;
	char		*body, when[32];

	now_utc(offset, when, sizeof(when));
	j = json_pack("{s:s, s:s, s:s, s:s}", "kind", kind, "given_by",
	    "Mum", "obtained_at", when, "statement", "Recorded at a home visit.");
	cr_assert_not_null(j);
	if (agency != NULL)
		json_object_set_new(j, "agency_id", json_string(agency));
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	r = postf(tok, body, "/v1/episodes/%s/consents", episode);
	free(body);
	cr_assert_eq(r->status, 201, "consent %s: %ld %s", kind, r->status,
	    r->raw);
	cr_assert_str_eq(kwt_str(r, "kind"), kind);
	if (agency != NULL)
		cr_assert_str_eq(kwt_str(r, "agency_id"), agency);
	kwt_free(r);
}

/* Every member's voice, then complete: the episode is assessed. */
static void
assess(struct world *w, struct family *f)
{
	struct resp	*r;
	char		*body, path[128];

	body = kwt_json("{s:s, s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}]}",
	    "strengths", "A close family.", "needs", "School attendance.",
	    "priorities", "Mornings.", "voices",
	    "member_id", f->parent_id, "in_own_words", "Mornings are hard.",
	    "member_id", f->kid_id, "in_own_words", "I like football.");
	snprintf(path, sizeof(path), "/v1/episodes/%s/assessment", f->episode);
	r = send_json("PUT", path, w->keyworker.tok, body, "If-Match: \"0\"");
	free(body);
	cr_assert_eq(r->status, 200, "assessment: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = postf(w->keyworker.tok, NULL, "/v1/episodes/%s/assessment/complete",
	    f->episode);
	cr_assert_eq(r->status, 200, "complete assessment: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	assert_status(w->keyworker.tok, f->episode, "assessed");
}

static struct resp *
episode_get(const char *tok, const char *episode)
{
	char	path[128];

	snprintf(path, sizeof(path), "/v1/episodes/%s", episode);
	return get(path, tok);
}

/* GET /v1/episodes/{id} as tok, asserting 200 (caller decrefs). */
static json_t *
episode_of(const char *tok, const char *episode)
{
	struct resp	*r;
	json_t		*j;

	r = episode_get(tok, episode);
	cr_assert_eq(r->status, 200, "GET episode: %ld %s", r->status, r->raw);
	j = json_incref(r->json);
	kwt_free(r);
	return j;
}

/* The episode's status as tok sees it (caller frees). */
static char *
status_of(const char *tok, const char *episode)
{
	json_t	*j = episode_of(tok, episode);
	char	*s;

	s = strdup(json_string_value(json_object_get(j, "status")));
	json_decref(j);
	return s;
}

static void
assert_status(const char *tok, const char *episode, const char *status)
{
	char	*s = status_of(tok, episode);

	cr_assert_str_eq(s, status, "episode %s: status %s, not %s", episode,
	    s, status);
	free(s);
}

static void
assert_rule(struct resp *r, const char *rule, const char *what)
{
	const char	*got;

	cr_assert_eq(r->status, 422, "%s: %ld %s", what, r->status, r->raw);
	got = json_string_value(json_object_get(r->json, "rule"));
	cr_assert(got != NULL && strcmp(got, rule) == 0,
	    "%s: rule should be %s: %s", what, rule, r->raw);
}

/*
 * 409 for a state that does not allow the request. A rule, when the
 * answer names one, is the state machine's (or the closed episode's).
 */
static void
assert_conflict(struct resp *r, const char *what)
{
	const char	*rule;

	cr_assert_eq(r->status, 409, "%s: %ld %s", what, r->status, r->raw);
	rule = json_string_value(json_object_get(r->json, "rule"));
	cr_assert(rule == NULL || strcmp(rule, "episode_state_machine") == 0 ||
	    strcmp(rule, "closed_episode_read_only") == 0,
	    "%s: unexpected rule: %s", what, r->raw);
}

/* Assert the status, then free the response. */
static void
expect(struct resp *r, long status, const char *what)
{
	cr_assert_eq(r->status, status, "%s: %ld, not %ld: %s", what,
	    r->status, status, r->raw);
	kwt_free(r);
}

/* Every item of a list, following next_cursor (caller decrefs). */
static json_t *
list_all(const char *path, const char *tok)
{
	struct resp	*r;
	json_t		*all, *cur = NULL;
	char		 p[1024];
	int		 pages;

	all = json_array();
	for (pages = 0; pages < 1000; pages++) {
		snprintf(p, sizeof(p), "%s%slimit=200%s%s", path,
		    strchr(path, '?') != NULL ? "&" : "?",
		    cur != NULL ? "&cursor=" : "",
		    cur != NULL ? json_string_value(cur) : "");
		json_decref(cur);
		r = get(p, tok);
		cr_assert_eq(r->status, 200, "%s: %ld %s", p, r->status,
		    r->raw);
		json_array_extend(all, json_object_get(r->json, "items"));
		cur = json_incref(json_object_get(r->json, "next_cursor"));
		kwt_free(r);
		if (!json_is_string(cur)) {
			json_decref(cur);
			return all;
		}
	}
	cr_assert_fail("%s: paging did not end", path);
	return NULL;
}

/* The first item of items whose member is value (borrowed), or NULL. */
static json_t *
find_item(json_t *items, const char *member, const char *value)
{
	return find_item2(items, member, value, NULL, NULL);
}

/* The same, matching two members (the second ignored when NULL). */
static json_t *
find_item2(json_t *items, const char *m1, const char *v1, const char *m2,
    const char *v2)
{
	json_t		*item;
	const char	*v;
	size_t		 i;

	json_array_foreach(items, i, item) {
		v = json_string_value(json_object_get(item, m1));
		if (v == NULL || strcmp(v, v1) != 0)
			continue;
		if (m2 != NULL) {
			v = json_string_value(json_object_get(item, m2));
			if (v == NULL || strcmp(v, v2) != 0)
				continue;
		}
		return item;
	}
	return NULL;
}

/* The calendar day t falls on in London, plus days, as YYYY-MM-DD. */
static void
london_date(time_t t, int days, char *out, size_t outlen)
{
	struct tm	tm;

	setenv("TZ", "Europe/London", 1);
	tzset();
	cr_assert_not_null(localtime_r(&t, &tm));
	tm.tm_mday += days;
	tm.tm_hour = 12;
	tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = 0;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%d", &tm);
}

/* Today in London (the service's own time zone) plus days. */
static void
today_plus(int days, char *out, size_t outlen)
{
	london_date(time(NULL), days, out, outlen);
}

/* A YYYY-MM-DD date plus days. */
static void
date_plus(const char *ymd, int days, char *out, size_t outlen)
{
	struct tm	tm;
	time_t		t;

	memset(&tm, 0, sizeof(tm));
	cr_assert_eq(sscanf(ymd, "%d-%d-%d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday), 3, "not a date: %s", ymd);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_mday += days;
	tm.tm_hour = 12;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%d", &tm);
}

/* Now plus offset seconds, RFC 3339 in UTC. */
static void
now_utc(int offset, char *out, size_t outlen)
{
	struct tm	tm;
	time_t		t = time(NULL) + offset;

	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * A TransferCreate: kind, to (new keyworker, or NULL), authority (or
 * NULL), the family told told_offset seconds from now, the changeover
 * changeover_days from today, ends_on ends_days from today (NO_END: none),
 * keep_former_on_team keep (-1: not given). Caller frees.
 */
static char *
transfer_body(const char *kind, const char *to, const char *authority,
    int told_offset, int changeover_days, int ends_days, int keep)
{
	json_t		*j;
	const char	*reason;
	char		*body, told[32], day[16];

	reason = strcmp(kind, "out_of_county") == 0 ? "moving_out_of_county" :
	    strcmp(kind, "temporary") == 0 ? "keyworker_unavailable" :
	    "keyworker_changing_role";
	now_utc(told_offset, told, sizeof(told));
	today_plus(changeover_days, day, sizeof(day));
	j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", kind, "reason",
	    reason, "family_told_at", told, "changeover_on", day, "note",
	    "Agreed with the family at a home visit.");
	cr_assert_not_null(j);
	if (to != NULL)
		json_object_set_new(j, "to_keyworker_id", json_string(to));
	if (authority != NULL)
		json_object_set_new(j, "receiving_authority",
		    json_string(authority));
	if (ends_days != NO_END) {
		today_plus(ends_days, day, sizeof(day));
		json_object_set_new(j, "ends_on", json_string(day));
	}
	if (keep >= 0)
		json_object_set_new(j, "keep_former_on_team",
		    json_boolean(keep));
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	cr_assert_not_null(body);
	return body;
}

static struct resp *
propose(const char *tok, const char *episode, const char *body)
{
	return postf(tok, body, "/v1/episodes/%s/transfers", episode);
}

/* Propose, asserting 201 and status proposed; the transfer's id. */
static char *
propose_ok(const char *tok, const char *episode, const char *body)
{
	struct resp	*r;
	char		*id;

	r = propose(tok, episode, body);
	cr_assert_eq(r->status, 201, "propose: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "proposed");
	cr_assert_str_eq(kwt_str(r, "episode_id"), episode);
	id = strdup(kwt_str(r, "id"));
	kwt_free(r);
	return id;
}

/*
 * The keyworker proposes an in-county transfer to newkw, changing over
 * changeover_days from today; keep_former_on_team keep (-1: default).
 */
static char *
in_county(struct world *w, const char *episode, int changeover_days,
    int keep)
{
	char	*body, *id;

	body = transfer_body("in_county", w->newkw.id, NULL, -60,
	    changeover_days, NO_END, keep);
	id = propose_ok(w->keyworker.tok, episode, body);
	free(body);
	return id;
}

/* POST /v1/transfers/{id}/{what} as tok, asserting status. */
static void
transfer_act(const char *tok, const char *transfer, const char *what,
    long status)
{
	struct resp	*r;

	r = postf(tok, NULL, "/v1/transfers/%s/%s", transfer, what);
	cr_assert_eq(r->status, status, "%s transfer: %ld, not %ld: %s", what,
	    r->status, status, r->raw);
	kwt_free(r);
}

/* The six answers, less omit (or none when NULL). Caller frees. */
static char *
step_up_body(int safeguarding, const char *omit)
{
	json_t	*j;
	char	*body;

	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}",
	    "unmet_needs", "Neglect concerns persist despite support.",
	    "what_was_tried", "Routines plan, school attendance support.",
	    "more_within_resources", "Nothing more within early help.",
	    "impact_so_far", "Attendance unchanged at 70%.",
	    "evidence_higher_level", "Two school referrals this term.",
	    "advice_sought", "Discussed with the team manager.",
	    "safeguarding_referral_made", safeguarding);
	cr_assert_not_null(j);
	if (omit != NULL)
		json_object_del(j, omit);
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return body;
}

/* tok requests a step up, asserting 201 pending; its id (caller frees). */
static char *
step_up_ok(const char *tok, const char *episode, int safeguarding)
{
	struct resp	*r;
	char		*body, *id;

	body = step_up_body(safeguarding, NULL);
	r = postf(tok, body, "/v1/episodes/%s/step-ups", episode);
	free(body);
	cr_assert_eq(r->status, 201, "step up: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "pending");
	cr_assert_str_eq(kwt_str(r, "episode_id"), episode);
	id = strdup(kwt_str(r, "id"));
	kwt_free(r);
	return id;
}

/* A decision on a step up; meeting_at may be NULL. */
static struct resp *
decide(const char *tok, const char *step_up, const char *decision,
    const char *meeting_at)
{
	struct resp	*r;
	json_t		*j;
	char		*body;

	j = json_pack("{s:s, s:s}", "decision", decision, "note",
	    "Discussed at triage.");
	if (meeting_at != NULL)
		json_object_set_new(j, "action_impact_meeting_at",
		    json_string(meeting_at));
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	r = postf(tok, body, "/v1/step-ups/%s/decision", step_up);
	free(body);
	return r;
}

/* A fresh family stepped up: a note, the request, accepted by coord. */
static char *
stepped_up_episode(struct world *w, struct family *f)
{
	struct resp	*r;
	char		*su, *n, at[32];

	family_new(w, f);
	n = add_note(w->keyworker.tok, f->episode);
	free(n);
	su = step_up_ok(w->keyworker.tok, f->episode, 0);
	now_utc(3 * 86400, at, sizeof(at));
	r = decide(w->coord.tok, su, "accepted", at);
	cr_assert_eq(r->status, 200, "accept step up: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	assert_status(w->keyworker.tok, f->episode, "stepped_up");
	return su;
}

/* A ClosureCreate with reason, less omit (or none). Caller frees. */
static char *
close_body(const char *reason, const char *omit)
{
	json_t	*j;
	char	*body;

	j = json_pack("{s:s, s:s, s:s, s:s}", "reason", reason,
	    "family_views", "We feel more confident now.",
	    "children_views", "School is better.",
	    "feedback", "Thank you.");
	cr_assert_not_null(j);
	if (omit != NULL)
		json_object_del(j, omit);
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return body;
}

static struct resp *
close_episode(const char *tok, const char *episode, const char *reason)
{
	struct resp	*r;
	char		*body;

	body = close_body(reason, NULL);
	r = postf(tok, body, "/v1/episodes/%s/close", episode);
	free(body);
	return r;
}

/*
 * A StepDownCreate for the world's area: members (borrowed), needs, from
 * (an episode, or NULL). Caller frees.
 */
static char *
step_down_body(struct world *w, json_t *members, const char *needs,
    const char *from)
{
	json_t	*j;
	char	*body, when[32], name[128];

	now_utc(-7200, when, sizeof(when));
	snprintf(name, sizeof(name), "%s", json_string_value(json_object_get(
	    json_array_get(members, 0), "family_name")));
	j = json_pack("{s:s, s:{s:s, s:s}, s:O, s:s, s:{s:s, s:s}}",
	    "area_id", w->area, "family", "name", name, "postcode", "SD1 2WN",
	    "members", members, "needs", needs,
	    "consent", "given_by", "Mum", "obtained_at", when);
	cr_assert_not_null(j);
	if (from != NULL)
		json_object_set_new(j, "from_episode_id", json_string(from));
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return body;
}

static struct resp *
create_step_down(const char *tok, const char *body)
{
	return send_json("POST", "/v1/step-downs", tok, body, NULL);
}

static size_t
race_body(char *p, size_t size, size_t n, void *arg)
{
	struct racer	*rc = arg;
	size_t		 len = size * n;

	rc->body = realloc(rc->body, rc->len + len + 1);
	cr_assert_not_null(rc->body);
	memcpy(rc->body + rc->len, p, len);
	rc->len += len;
	rc->body[rc->len] = '\0';
	return len;
}

/*
 * The n requests in flight at once through curl's multi interface, each
 * on a connection of its own: kwt_request waits for each answer, and a
 * race needs them together. A NULL body is an empty POST.
 */
static void
race(const struct rreq *req, int n, struct racer *out)
{
	struct curl_slist	*hl[16];
	const char		*base;
	CURLM			*m;
	CURL			*c[16];
	char			 url[1024], auth[512];
	int			 i, running;

	cr_assert_leq(n, 16);
	if ((base = getenv("KEYWORK_TEST_URL")) == NULL)
		base = "http://127.0.0.1:8888";
	m = curl_multi_init();
	cr_assert_not_null(m);
	memset(out, 0, sizeof(*out) * (size_t)n);
	for (i = 0; i < n; i++) {
		snprintf(url, sizeof(url), "%s%s", base, req[i].path);
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		    req[i].tok);
		hl[i] = curl_slist_append(NULL, auth);
		hl[i] = curl_slist_append(hl[i], "Expect:");
		if (req[i].body != NULL)
			hl[i] = curl_slist_append(hl[i],
			    "Content-Type: application/json");
		c[i] = curl_easy_init();
		cr_assert_not_null(c[i]);
		curl_easy_setopt(c[i], CURLOPT_URL, url);
		curl_easy_setopt(c[i], CURLOPT_CUSTOMREQUEST, req[i].method);
		curl_easy_setopt(c[i], CURLOPT_TIMEOUT, 30L);
		curl_easy_setopt(c[i], CURLOPT_HTTPHEADER, hl[i]);
		curl_easy_setopt(c[i], CURLOPT_POSTFIELDS,
		    req[i].body != NULL ? req[i].body : "");
		curl_easy_setopt(c[i], CURLOPT_POSTFIELDSIZE,
		    req[i].body != NULL ? (long)strlen(req[i].body) : 0L);
		curl_easy_setopt(c[i], CURLOPT_WRITEFUNCTION, race_body);
		curl_easy_setopt(c[i], CURLOPT_WRITEDATA, &out[i]);
		/* A connection each, not one after another on a shared one. */
		curl_easy_setopt(c[i], CURLOPT_FRESH_CONNECT, 1L);
		curl_multi_add_handle(m, c[i]);
	}
	do {
		cr_assert_eq(curl_multi_perform(m, &running), CURLM_OK);
		if (running > 0)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	} while (running > 0);
	for (i = 0; i < n; i++) {
		curl_easy_getinfo(c[i], CURLINFO_RESPONSE_CODE, &out[i].status);
		cr_assert_neq(out[i].status, 0, "%s %s got no answer",
		    req[i].method, req[i].path);
		if (out[i].body != NULL)
			out[i].json = json_loadb(out[i].body, out[i].len, 0,
			    NULL);
		curl_multi_remove_handle(m, c[i]);
		curl_easy_cleanup(c[i]);
		curl_slist_free_all(hl[i]);
	}
	curl_multi_cleanup(m);
}

static void
race_free(struct racer *rc, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		free(rc[i].body);
		json_decref(rc[i].json);
	}
}

/* What every answer in a race must be: never a 5xx; a problem for a 4xx. */
static void
assert_racer(struct racer *rc, const char *what)
{
	cr_assert_lt(rc->status, 500, "%s: %ld %s", what, rc->status,
	    rc->body != NULL ? rc->body : "");
	cr_assert_not_null(rc->json, "%s: %ld, body is not JSON: %s", what,
	    rc->status, rc->body != NULL ? rc->body : "");
	if (rc->status >= 400)
		cr_assert_eq(json_integer_value(json_object_get(rc->json,
		    "status")), rc->status, "%s: %s", what, rc->body);
}

/* The schema owner's connection, or NULL without $DATABASE_URL. */
static PGconn *
db_open(void)
{
	const char	*url = getenv("DATABASE_URL");
	PGconn		*db;

	if (url == NULL)
		return NULL;
	db = PQconnectdb(url);
	cr_assert_eq(PQstatus(db), CONNECTION_OK, "%s", PQerrorMessage(db));
	return db;
}

/* The first value of a query with one text parameter (caller frees). */
static char *
db_value(PGconn *db, const char *sql, const char *param)
{
	PGresult	*res;
	const char	*params[1] = { param };
	char		*v = NULL;

	res = PQexecParams(db, sql, param != NULL ? 1 : 0, NULL, params, NULL,
	    NULL, 0);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(db));
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		v = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

static void
db_exec(PGconn *db, const char *sql, const char *param)
{
	PGresult	*res;
	const char	*params[1] = { param };

	res = PQexecParams(db, sql, param != NULL ? 1 : 0, NULL, params, NULL,
	    NULL, 0);
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s: %s", sql,
	    PQerrorMessage(db));
	PQclear(res);
}

/* ------------------------------------------------------------------ */
/* Consent governs sharing */

Test(course, withdrawn_consent_hides_the_episode_from_that_agency)
{
	struct world	 w;
	struct person	 ma, mb;
	struct resp	*r;
	json_t		*all, *c1, *c2;
	char		*agency_a, *agency_b, *partner_a, *ep, *note;
	char		 notes[160];
	size_t		 i;
	int		 wi = -1, wr = -1;

	world_open(&w, 0);
	agency_a = new_agency(w.admin, "school");
	agency_b = new_agency(w.admin, "health");
	person_new(&ma, &w, "[\"practitioner\"]", agency_a, NULL, NULL);
	person_new(&mb, &w, "[\"practitioner\"]", agency_b, NULL, NULL);
	partner_a = new_partner(w.admin, agency_a);
	ep = episode_new(&w);
	add_team(w.keyworker.tok, ep, ma.id, "full");
	add_team(w.keyworker.tok, ep, mb.id, "full");
	note = add_note(w.keyworker.tok, ep);
	snprintf(notes, sizeof(notes), "/v1/episodes/%s/notes", ep);

	/* Before: agency A's member and partner system see it in full. */
	r = episode_get(ma.tok, ep);
	cr_assert_eq(r->status, 200, "member A before: %ld %s", r->status,
	    r->raw);
	cr_assert_str_eq(kwt_str(r, "access"), "full");
	kwt_free(r);
	expect(get(notes, ma.tok), 200, "member A's notes before");
	all = list_all("/v1/episodes", ma.tok);
	cr_assert_not_null(find_item(all, "id", ep), "not in A's list");
	json_decref(all);
	expect(episode_get(partner_a, ep), 200, "partner A before");

	/* The family withdraws consent to share with agency A. */
	add_consent(w.keyworker.tok, ep, "withdrawal", agency_a, -60);

	/* The very next request of A's member: no such episode. */
	expect(episode_get(ma.tok, ep), 404, "member A after withdrawal");
	expect(get(notes, ma.tok), 404, "member A's notes after withdrawal");
	all = list_all("/v1/episodes", ma.tok);
	cr_assert_null(find_item(all, "id", ep), "still in A's list");
	json_decref(all);
	expect(episode_get(partner_a, ep), 404, "partner A after withdrawal");
	all = list_all("/v1/episodes", partner_a);
	cr_assert_null(find_item(all, "id", ep), "still in partner A's list");
	json_decref(all);
	/* Agency B's member, and the keyworker, keep theirs. */
	r = episode_get(mb.tok, ep);
	cr_assert_eq(r->status, 200, "member B: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "access"), "full");
	kwt_free(r);
	expect(get(notes, mb.tok), 200, "member B's notes");
	expect(episode_get(w.keyworker.tok, ep), 200, "keyworker");

	/* Written consent for agency A again: access restored. */
	add_consent(w.keyworker.tok, ep, "written", agency_a, -30);
	r = episode_get(ma.tok, ep);
	cr_assert_eq(r->status, 200, "member A restored: %ld %s", r->status,
	    r->raw);
	cr_assert_str_eq(kwt_str(r, "access"), "full");
	kwt_free(r);
	expect(get(notes, ma.tok), 200, "member A's notes restored");
	all = list_all("/v1/episodes", ma.tok);
	cr_assert_not_null(find_item(all, "id", ep), "not back in A's list");
	json_decref(all);
	expect(episode_get(partner_a, ep), 200, "partner A restored");

	/* The consents keep the whole history, the withdrawal included. */
	snprintf(notes, sizeof(notes), "/v1/episodes/%s/consents", ep);
	all = list_all(notes, w.keyworker.tok);
	json_array_foreach(all, i, c1) {
		const char	*k = json_string_value(json_object_get(c1,
				    "kind"));
		const char	*a = json_string_value(json_object_get(c1,
				    "agency_id"));

		if (a == NULL || strcmp(a, agency_a) != 0)
			continue;
		if (strcmp(k, "withdrawal") == 0)
			wi = (int)i;
		else if (strcmp(k, "written") == 0)
			wr = (int)i;
	}
	c1 = wi >= 0 ? json_array_get(all, (size_t)wi) : NULL;
	c2 = wr >= 0 ? json_array_get(all, (size_t)wr) : NULL;
	cr_assert(c1 != NULL && c2 != NULL && wi < wr,
	    "history should keep the withdrawal, then the written consent: %s",
	    json_dumps(all, 0));
	json_decref(all);

	free(agency_a);
	free(agency_b);
	free(partner_a);
	free(ep);
	free(note);
	person_free(&ma);
	person_free(&mb);
	world_close(&w);
}

/*
 * The family's latest word decides: a written consent obtained before the
 * withdrawal, but recorded after it (a paper form filed late), does not
 * undo the withdrawal.
 */
Test(course, consent_recorded_late_does_not_undo_a_later_withdrawal)
{
	struct world	 w;
	struct person	 ma;
	char		*agency_a, *ep;

	world_open(&w, 0);
	agency_a = new_agency(w.admin, "school");
	person_new(&ma, &w, "[\"practitioner\"]", agency_a, NULL, NULL);
	ep = episode_new(&w);
	add_team(w.keyworker.tok, ep, ma.id, "full");
	expect(episode_get(ma.tok, ep), 200, "member A before");
	/* Withdrawn an hour ago ... */
	add_consent(w.keyworker.tok, ep, "withdrawal", agency_a, -3600);
	expect(episode_get(ma.tok, ep), 404, "member A after withdrawal");
	/* ... then a written consent of ten days ago is filed. */
	add_consent(w.keyworker.tok, ep, "written", agency_a, -10 * 86400);
	expect(episode_get(ma.tok, ep), 404, "member A after a consent older "
	    "than the withdrawal was recorded");
	free(agency_a);
	free(ep);
	person_free(&ma);
	world_close(&w);
}

/* ------------------------------------------------------------------ */
/* Transfers of keyworker */

Test(course, transfer_needs_a_recent_consent_review)
{
	struct world	 w;
	struct resp	*r;
	char		*ep, *body, *t;

	world_open(&w, W_NEWKW);
	ep = episode_new(&w);
	body = transfer_body("in_county", w.newkw.id, NULL, -60, 0, NO_END, -1);
	r = propose(w.keyworker.tok, ep, body);
	assert_rule(r, "transfer_consent_reviewed", "no review");
	kwt_free(r);
	/* A review twenty days ago is not recent (14 days). */
	add_consent(w.keyworker.tok, ep, "review", NULL, -20 * 86400);
	r = propose(w.keyworker.tok, ep, body);
	assert_rule(r, "transfer_consent_reviewed", "old review");
	kwt_free(r);
	/* Nor does written consent stand for a review. */
	add_consent(w.keyworker.tok, ep, "written", NULL, -60);
	r = propose(w.keyworker.tok, ep, body);
	assert_rule(r, "transfer_consent_reviewed", "written, not review");
	kwt_free(r);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	t = propose_ok(w.keyworker.tok, ep, body);
	free(body);
	free(t);
	free(ep);
	world_close(&w);
}

Test(course, transfer_family_told_in_the_future_is_refused)
{
	struct world	 w;
	struct resp	*r;
	char		*ep, *body;

	world_open(&w, W_NEWKW);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	body = transfer_body("in_county", w.newkw.id, NULL, 86400, 3, NO_END,
	    -1);
	r = propose(w.keyworker.tok, ep, body);
	assert_rule(r, "family_told_before_changeover", "told tomorrow");
	kwt_free(r);
	free(body);
	free(ep);
	world_close(&w);
}

Test(course, transfer_changeover_before_the_family_is_told_is_refused)
{
	struct world	 w;
	struct resp	*r;
	char		*ep, *body;

	world_open(&w, W_NEWKW);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	/* Told a minute ago; the changeover two days ago. */
	body = transfer_body("in_county", w.newkw.id, NULL, -60, -2, NO_END,
	    -1);
	r = propose(w.keyworker.tok, ep, body);
	assert_rule(r, "family_told_before_changeover",
	    "changeover before told");
	kwt_free(r);
	free(body);
	free(ep);
	world_close(&w);
}

Test(course, transfer_names_its_receiver)
{
	struct world	 w;
	struct resp	*r;
	char		*ep, *body;

	world_open(&w, W_NEWKW);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);

	body = transfer_body("out_of_county", NULL, NULL, -60, 0, NO_END, -1);
	r = propose(w.keyworker.tok, ep, body);
	assert_rule(r, "transfer_receiver", "out of county, no authority");
	kwt_free(r);
	free(body);

	body = transfer_body("in_county", NULL, NULL, -60, 0, NO_END, -1);
	r = propose(w.keyworker.tok, ep, body);
	assert_rule(r, "transfer_receiver", "in county, no new keyworker");
	kwt_free(r);
	free(body);

	body = transfer_body("out_of_county", w.newkw.id, AUTHORITY, -60, 0,
	    NO_END, -1);
	r = propose(w.keyworker.tok, ep, body);
	assert_rule(r, "transfer_receiver", "out of county with a keyworker");
	kwt_free(r);
	free(body);

	body = transfer_body("in_county", w.newkw.id, AUTHORITY, -60, 0,
	    NO_END, -1);
	r = propose(w.keyworker.tok, ep, body);
	assert_rule(r, "transfer_receiver", "in county with an authority");
	kwt_free(r);
	free(body);
	free(ep);
	world_close(&w);
}

Test(course, temporary_cover_has_an_end_date)
{
	struct world	 w;
	struct resp	*r;
	char		*ep, *body;

	world_open(&w, W_NEWKW);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);

	body = transfer_body("temporary", w.newkw.id, NULL, -60, 0, NO_END,
	    -1);
	r = propose(w.keyworker.tok, ep, body);
	assert_rule(r, "temporary_cover_ends", "cover without ends_on");
	kwt_free(r);
	free(body);

	body = transfer_body("temporary", w.newkw.id, NULL, -60, 2, 2, -1);
	r = propose(w.keyworker.tok, ep, body);
	assert_rule(r, "temporary_cover_ends", "cover ending at changeover");
	kwt_free(r);
	free(body);

	body = transfer_body("in_county", w.newkw.id, NULL, -60, 0, 14, -1);
	r = propose(w.keyworker.tok, ep, body);
	assert_rule(r, "temporary_cover_ends", "in county with ends_on");
	kwt_free(r);
	free(body);
	free(ep);
	world_close(&w);
}

Test(course, transfer_goes_to_another_practitioner)
{
	struct world	 w;
	struct resp	*r;
	char		*ep, *body;

	world_open(&w, W_COORD);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);

	body = transfer_body("in_county", w.manager.id, NULL, -60, 0, NO_END,
	    -1);
	r = propose(w.keyworker.tok, ep, body);
	assert_rule(r, "keyworker_is_practitioner", "to a manager");
	kwt_free(r);
	free(body);

	body = transfer_body("temporary", w.coord.id, NULL, -60, 0, 7, -1);
	r = propose(w.keyworker.tok, ep, body);
	assert_rule(r, "keyworker_is_practitioner", "cover by a coordinator");
	kwt_free(r);
	free(body);

	body = transfer_body("in_county", w.keyworker.id, NULL, -60, 0, NO_END,
	    -1);
	r = propose(w.keyworker.tok, ep, body);
	assert_rule(r, "keyworker_is_practitioner", "to the keyworker");
	kwt_free(r);
	free(body);

	body = transfer_body("in_county", NO_SUCH_ID, NULL, -60, 0, NO_END, -1);
	r = propose(w.keyworker.tok, ep, body);
	assert_rule(r, "keyworker_is_practitioner", "to nobody");
	kwt_free(r);
	free(body);
	free(ep);
	world_close(&w);
}

Test(course, one_transfer_in_progress_at_a_time)
{
	struct world	 w;
	struct resp	*r;
	char		*ep, *t, *t2, *body, path[128];
	json_t		*all;

	world_open(&w, W_NEWKW | W_STRANGER);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	t = in_county(&w, ep, 0, -1);
	body = transfer_body("temporary", w.stranger.id, NULL, -60, 0, 7, -1);
	r = propose(w.keyworker.tok, ep, body);
	cr_assert_eq(r->status, 409, "second while proposed: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	/* Nor once accepted, and not by the manager either. */
	transfer_act(w.newkw.tok, t, "accept", 200);
	r = propose(w.manager.tok, ep, body);
	cr_assert_eq(r->status, 409, "second while accepted: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	snprintf(path, sizeof(path), "/v1/episodes/%s/transfers", ep);
	all = list_all(path, w.keyworker.tok);
	cr_assert_eq(json_array_size(all), 1, "%s", json_dumps(all, 0));
	json_decref(all);
	/* Once it is done, another may be proposed. */
	transfer_act(w.keyworker.tok, t, "complete", 200);
	t2 = propose_ok(w.manager.tok, ep, body);
	free(body);
	free(t);
	free(t2);
	free(ep);
	world_close(&w);
}

Test(course, transfer_completed_only_once_accepted)
{
	struct world	 w;
	struct resp	*r;
	json_t		*ep_j;
	char		*ep, *t;

	world_open(&w, W_NEWKW);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	t = in_county(&w, ep, 0, -1);
	r = postf(w.keyworker.tok, NULL, "/v1/transfers/%s/complete", t);
	assert_rule(r, "transfer_accepted_first", "complete a proposal");
	kwt_free(r);
	r = postf(w.newkw.tok, NULL, "/v1/transfers/%s/complete", t);
	assert_rule(r, "transfer_accepted_first",
	    "new keyworker completes a proposal");
	kwt_free(r);
	ep_j = episode_of(w.keyworker.tok, ep);
	cr_assert_str_eq(json_string_value(json_object_get(ep_j,
	    "keyworker_id")), w.keyworker.id);
	json_decref(ep_j);
	free(t);
	free(ep);
	world_close(&w);
}

Test(course, only_the_proposed_keyworker_accepts)
{
	struct world	 w;
	struct resp	*r;
	char		*ep, *t;

	world_open(&w, W_ALL);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	t = in_county(&w, ep, 0, -1);

	/* Those who see the transfer but are not the new keyworker: 403. */
	transfer_act(w.keyworker.tok, t, "accept", 403);
	transfer_act(w.manager.tok, t, "accept", 403);
	transfer_act(w.coord.tok, t, "accept", 403);
	transfer_act(w.keyworker.tok, t, "decline", 403);
	/* Those who cannot see it: 404. */
	transfer_act(w.stranger.tok, t, "accept", 404);
	transfer_act(w.coord_other.tok, t, "accept", 404);
	transfer_act(w.newkw.tok, NO_SUCH_ID, "accept", 404);

	/* The new keyworker does not see the episode before changeover. */
	expect(episode_get(w.newkw.tok, ep), 404, "new keyworker before");
	r = postf(w.newkw.tok, "{\"note\":\"Happy to take this on.\"}",
	    "/v1/transfers/%s/accept", t);
	cr_assert_eq(r->status, 200, "accept: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "accepted");
	cr_assert_str_eq(kwt_str(r, "to_keyworker_id"), w.newkw.id);
	cr_assert_str_eq(kwt_str(r, "note"), "Happy to take this on.");
	cr_assert(json_is_string(json_object_get(r->json, "decided_at")),
	    "%s", r->raw);
	kwt_free(r);
	/* Decided once. */
	transfer_act(w.newkw.tok, t, "accept", 409);
	transfer_act(w.newkw.tok, t, "decline", 409);
	free(t);
	free(ep);
	world_close(&w);
}

Test(course, transfer_completes_on_or_after_the_changeover_date)
{
	struct world	 w;
	struct resp	*r;
	json_t		*ep_j;
	char		*ep, *t;

	world_open(&w, W_NEWKW);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	t = in_county(&w, ep, 3, -1);
	transfer_act(w.newkw.tok, t, "accept", 200);
	r = postf(w.keyworker.tok, NULL, "/v1/transfers/%s/complete", t);
	assert_rule(r, "changeover_date", "complete before the changeover");
	kwt_free(r);
	r = postf(w.newkw.tok, NULL, "/v1/transfers/%s/complete", t);
	assert_rule(r, "changeover_date",
	    "new keyworker completes before the changeover");
	kwt_free(r);
	ep_j = episode_of(w.keyworker.tok, ep);
	cr_assert_str_eq(json_string_value(json_object_get(ep_j,
	    "keyworker_id")), w.keyworker.id);
	json_decref(ep_j);
	free(t);
	free(ep);
	world_close(&w);
}

/*
 * The changeover hands the episode to an active practitioner: one whose
 * account was deactivated after accepting does not become the keyworker.
 */
Test(course, transfer_completes_only_to_an_active_practitioner)
{
	struct world	 w;
	struct resp	*r;
	json_t		*ep_j;
	char		*ep, *t, *etag, path[128];
	const char	*rule;

	world_open(&w, W_NEWKW);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	t = in_county(&w, ep, 0, -1);
	transfer_act(w.newkw.tok, t, "accept", 200);

	snprintf(path, sizeof(path), "/v1/users/%s", w.newkw.id);
	r = get(path, w.admin);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	etag = strdup(kwt_header(r, "ETag"));
	kwt_free(r);
	{
		char	h[160];

		snprintf(h, sizeof(h), "If-Match: %s", etag);
		r = send_json("PATCH", path, w.admin, "{\"active\":false}", h);
	}
	free(etag);
	cr_assert_eq(r->status, 200, "deactivate: %ld %s", r->status, r->raw);
	kwt_free(r);

	r = postf(w.keyworker.tok, NULL, "/v1/transfers/%s/complete", t);
	cr_assert(r->status == 409 || r->status == 422,
	    "complete to a deactivated account: %ld %s", r->status, r->raw);
	if (r->status == 422) {
		rule = json_string_value(json_object_get(r->json, "rule"));
		cr_assert(rule != NULL && strcmp(rule,
		    "keyworker_is_practitioner") == 0, "%s", r->raw);
	}
	kwt_free(r);
	ep_j = episode_of(w.keyworker.tok, ep);
	cr_assert_str_eq(json_string_value(json_object_get(ep_j,
	    "keyworker_id")), w.keyworker.id);
	json_decref(ep_j);
	free(t);
	free(ep);
	world_close(&w);
}

Test(course, in_county_transfer_changes_the_keyworker)
{
	struct world	 w;
	struct resp	*r;
	json_t		*ep_j, *all, *m;
	char		*ep, *t, *n, path[128], today[16];

	world_open(&w, W_NEWKW | W_STRANGER);
	ep = episode_new(&w);
	/* The new keyworker was a limited member of the team. */
	add_team(w.keyworker.tok, ep, w.newkw.id, "limited");
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	t = in_county(&w, ep, 0, -1);
	transfer_act(w.newkw.tok, t, "accept", 200);
	/* Only the keyworker, their manager or the new keyworker completes. */
	transfer_act(w.stranger.tok, t, "complete", 404);

	r = postf(w.keyworker.tok, NULL, "/v1/transfers/%s/complete", t);
	cr_assert_eq(r->status, 200, "complete: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "completed");
	cr_assert_str_eq(kwt_str(r, "from_keyworker_id"), w.keyworker.id);
	cr_assert_str_eq(kwt_str(r, "to_keyworker_id"), w.newkw.id);
	cr_assert(json_is_true(json_object_get(r->json,
	    "keep_former_on_team")), "%s", r->raw);
	cr_assert(json_is_string(json_object_get(r->json, "completed_at")),
	    "%s", r->raw);
	today_plus(0, today, sizeof(today));
	cr_assert_str_eq(kwt_str(r, "changeover_on"), today);
	kwt_free(r);
	/* Completed once. */
	r = postf(w.newkw.tok, NULL, "/v1/transfers/%s/complete", t);
	assert_rule(r, "transfer_accepted_first", "complete twice");
	kwt_free(r);

	/* The new keyworker's episode now, with full access. */
	ep_j = episode_of(w.newkw.tok, ep);
	cr_assert_str_eq(json_string_value(json_object_get(ep_j,
	    "keyworker_id")), w.newkw.id);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    ep_j, "keyworker"), "id")), w.newkw.id);
	cr_assert_str_eq(json_string_value(json_object_get(ep_j, "access")),
	    "full");
	cr_assert_str_eq(json_string_value(json_object_get(ep_j, "status")),
	    "registered", "a transfer in county does not change the status");
	json_decref(ep_j);
	n = add_note(w.newkw.tok, ep);
	free(n);

	/* The former keyworker stays on the team with full access. */
	ep_j = episode_of(w.keyworker.tok, ep);
	cr_assert_str_eq(json_string_value(json_object_get(ep_j, "access")),
	    "full");
	cr_assert_str_eq(json_string_value(json_object_get(ep_j,
	    "keyworker_id")), w.newkw.id);
	json_decref(ep_j);
	snprintf(path, sizeof(path), "/v1/episodes/%s/team", ep);
	all = list_all(path, w.newkw.tok);
	m = find_item(all, "user_id", w.keyworker.id);
	cr_assert_not_null(m, "former keyworker not on the team: %s",
	    json_dumps(all, 0));
	cr_assert_str_eq(json_string_value(json_object_get(m, "level")),
	    "full");
	cr_assert_null(find_item(all, "user_id", w.newkw.id),
	    "the keyworker is not a team member: %s", json_dumps(all, 0));
	json_decref(all);
	/* ... but no longer writes as keyworker. */
	r = close_episode(w.keyworker.tok, ep, "outcomes_met");
	cr_assert_eq(r->status, 403, "former keyworker closes: %ld %s",
	    r->status, r->raw);
	kwt_free(r);

	snprintf(path, sizeof(path), "/v1/episodes/%s/transfers", ep);
	all = list_all(path, w.newkw.tok);
	cr_assert_eq(json_array_size(all), 1, "%s", json_dumps(all, 0));
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(all,
	    0), "status")), "completed");
	json_decref(all);
	free(t);
	free(ep);
	world_close(&w);
}

Test(course, former_keyworker_leaves_unless_kept_on_the_team)
{
	struct world	 w;
	json_t		*ep_j;
	char		*ep, *t;

	world_open(&w, W_NEWKW);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	t = in_county(&w, ep, 0, 0);
	transfer_act(w.newkw.tok, t, "accept", 200);
	transfer_act(w.newkw.tok, t, "complete", 200);
	expect(episode_get(w.keyworker.tok, ep), 404, "former keyworker");
	ep_j = episode_of(w.newkw.tok, ep);
	cr_assert_str_eq(json_string_value(json_object_get(ep_j,
	    "keyworker_id")), w.newkw.id);
	json_decref(ep_j);
	/* Their manager still sees it: the new keyworker reports to them. */
	expect(episode_get(w.manager.tok, ep), 200, "manager");
	free(t);
	free(ep);
	world_close(&w);
}

Test(course, proposed_keyworker_declines)
{
	struct world	 w;
	struct resp	*r;
	json_t		*ep_j;
	char		*ep, *t, *t2;

	world_open(&w, W_NEWKW);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	t = in_county(&w, ep, 0, -1);
	r = postf(w.newkw.tok, "{\"note\":\"My caseload is full.\"}",
	    "/v1/transfers/%s/decline", t);
	cr_assert_eq(r->status, 200, "decline: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "declined");
	cr_assert(json_is_string(json_object_get(r->json, "decided_at")),
	    "%s", r->raw);
	kwt_free(r);
	transfer_act(w.newkw.tok, t, "accept", 409);
	transfer_act(w.newkw.tok, t, "decline", 409);
	r = postf(w.keyworker.tok, NULL, "/v1/transfers/%s/complete", t);
	assert_rule(r, "transfer_accepted_first", "complete a declined one");
	kwt_free(r);
	ep_j = episode_of(w.keyworker.tok, ep);
	cr_assert_str_eq(json_string_value(json_object_get(ep_j,
	    "keyworker_id")), w.keyworker.id);
	json_decref(ep_j);
	expect(episode_get(w.newkw.tok, ep), 404, "declined keyworker");
	/* A declined transfer is no longer in progress. */
	t2 = in_county(&w, ep, 0, -1);
	free(t);
	free(t2);
	free(ep);
	world_close(&w);
}

Test(course, out_of_county_transfer_closes_the_episode)
{
	struct world	 w;
	struct resp	*r;
	json_t		*ep_j;
	PGconn		*db;
	char		*ep, *t, *body, *reason;

	world_open(&w, 0);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	body = transfer_body("out_of_county", NULL, AUTHORITY, -60, 0, NO_END,
	    -1);
	t = propose_ok(w.keyworker.tok, ep, body);
	free(body);
	/* Nobody is named: the keyworker records the authority's answer. */
	r = postf(w.keyworker.tok, NULL, "/v1/transfers/%s/accept", t);
	cr_assert_eq(r->status, 200, "accept: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "accepted");
	cr_assert(json_is_null(json_object_get(r->json, "to_keyworker_id")));
	cr_assert_str_eq(kwt_str(r, "receiving_authority"), AUTHORITY);
	kwt_free(r);
	transfer_act(w.keyworker.tok, t, "complete", 200);

	ep_j = episode_of(w.keyworker.tok, ep);
	cr_assert_str_eq(json_string_value(json_object_get(ep_j, "status")),
	    "closed");
	cr_assert(json_is_string(json_object_get(ep_j, "closed_at")));
	cr_assert_str_eq(json_string_value(json_object_get(ep_j,
	    "keyworker_id")), w.keyworker.id);
	json_decref(ep_j);

	if ((db = db_open()) != NULL) {
		reason = db_value(db, "SELECT reason FROM kw.closures WHERE "
		    "episode_id = $1::uuid ORDER BY closed_at DESC LIMIT 1", ep);
		cr_assert_not_null(reason, "no closure recorded");
		cr_assert_str_eq(reason, "transferred_out");
		free(reason);
		PQfinish(db);
	}

	r = postf(w.keyworker.tok, "{\"reason\":\"The family came back.\"}",
	    "/v1/episodes/%s/reopen", ep);
	assert_rule(r, "transferred_out_not_reopened", "reopen");
	kwt_free(r);
	assert_status(w.keyworker.tok, ep, "closed");
	free(t);
	free(ep);
	world_close(&w);
}

/*
 * An out-of-county transfer names no new keyworker: only the keyworker
 * (or their manager) records the receiving authority's answer. Someone
 * who cannot see the episode gets 404, whatever the transfer's id.
 */
Test(course, out_of_county_transfer_decided_only_by_keyworker_or_manager)
{
	struct world	 w;
	struct resp	*r;
	char		*ep, *t, *body;

	world_open(&w, W_STRANGER | W_COORD_OTHER);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	body = transfer_body("out_of_county", NULL, AUTHORITY, -60, 0, NO_END,
	    -1);
	t = propose_ok(w.keyworker.tok, ep, body);
	free(body);
	r = postf(w.stranger.tok, NULL, "/v1/transfers/%s/decline", t);
	cr_assert_eq(r->status, 404, "a stranger declines an out-of-county "
	    "transfer: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = postf(w.coord_other.tok, NULL, "/v1/transfers/%s/accept", t);
	cr_assert_eq(r->status, 404, "another area's coordinator accepts an "
	    "out-of-county transfer: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = postf(w.stranger.tok, NULL, "/v1/transfers/%s/accept", t);
	cr_assert_eq(r->status, 404, "a stranger accepts an out-of-county "
	    "transfer: %ld %s", r->status, r->raw);
	kwt_free(r);
	/* Still proposed: the manager records the decision. */
	r = postf(w.manager.tok, NULL, "/v1/transfers/%s/accept", t);
	cr_assert_eq(r->status, 200, "manager accepts: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	free(t);
	free(ep);
	world_close(&w);
}

/* Nor does anyone else complete it, which would close the episode. */
Test(course, out_of_county_transfer_completed_only_by_keyworker_or_manager)
{
	struct world	 w;
	struct resp	*r;
	char		*ep, *t, *body;

	world_open(&w, W_STRANGER);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	body = transfer_body("out_of_county", NULL, AUTHORITY, -60, 0, NO_END,
	    -1);
	t = propose_ok(w.keyworker.tok, ep, body);
	free(body);
	transfer_act(w.keyworker.tok, t, "accept", 200);
	r = postf(w.stranger.tok, NULL, "/v1/transfers/%s/complete", t);
	cr_assert_eq(r->status, 404, "a stranger completes an out-of-county "
	    "transfer: %ld %s", r->status, r->raw);
	kwt_free(r);
	assert_status(w.keyworker.tok, ep, "registered");
	transfer_act(w.manager.tok, t, "complete", 200);
	assert_status(w.keyworker.tok, ep, "closed");
	free(t);
	free(ep);
	world_close(&w);
}

Test(course, temporary_cover_keyworks_until_it_ends)
{
	struct world	 w;
	struct resp	*r;
	json_t		*ep_j, *all, *m;
	PGconn		*db;
	char		*ep, *t, *body, *v, path[128], ends[16];

	world_open(&w, W_NEWKW);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	/* Cover by newkw from today for a fortnight; keep_former ignored. */
	body = transfer_body("temporary", w.newkw.id, NULL, -60, 0, 14, 0);
	t = propose_ok(w.keyworker.tok, ep, body);
	free(body);
	transfer_act(w.newkw.tok, t, "accept", 200);
	r = postf(w.newkw.tok, NULL, "/v1/transfers/%s/complete", t);
	cr_assert_eq(r->status, 200, "complete: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "completed");
	cr_assert_str_eq(kwt_str(r, "kind"), "temporary");
	today_plus(14, ends, sizeof(ends));
	cr_assert_str_eq(kwt_str(r, "ends_on"), ends);
	kwt_free(r);

	ep_j = episode_of(w.newkw.tok, ep);
	cr_assert_str_eq(json_string_value(json_object_get(ep_j,
	    "keyworker_id")), w.newkw.id);
	json_decref(ep_j);
	/* The original keyworker is kept, in full, whatever was asked. */
	ep_j = episode_of(w.keyworker.tok, ep);
	cr_assert_str_eq(json_string_value(json_object_get(ep_j, "access")),
	    "full");
	json_decref(ep_j);
	snprintf(path, sizeof(path), "/v1/episodes/%s/team", ep);
	all = list_all(path, w.newkw.tok);
	m = find_item(all, "user_id", w.keyworker.id);
	cr_assert_not_null(m, "original keyworker not on the team: %s",
	    json_dumps(all, 0));
	cr_assert_str_eq(json_string_value(json_object_get(m, "level")),
	    "full");
	json_decref(all);

	/*
	 * The scheduled worker's return of the original keyworker, with the
	 * cover's dates moved into the past: in a transaction rolled back.
	 */
	if ((db = db_open()) == NULL) {
		cr_log_warn("DATABASE_URL not set: the end of cover is not "
		    "checked");
		goto out;
	}
	db_exec(db, "BEGIN", NULL);
	db_exec(db, "UPDATE kw.transfers SET changeover_on = kw.today() - 2, "
	    "ends_on = kw.today() - 1 WHERE id = $1::uuid", t);
	v = db_value(db, "SELECT kw.end_temporary_covers()", NULL);
	cr_assert(v != NULL && atoi(v) >= 1, "no cover ended: %s", v);
	free(v);
	v = db_value(db, "SELECT keyworker_id FROM kw.episodes WHERE id = "
	    "$1::uuid", ep);
	cr_assert_str_eq(v, w.keyworker.id, "the original keyworker returns");
	free(v);
	v = db_value(db, "SELECT status FROM kw.transfers WHERE id = $1::uuid",
	    t);
	cr_assert_str_eq(v, "ended");
	free(v);
	v = db_value(db, "SELECT level FROM kw.team_members WHERE episode_id "
	    "= $1::uuid AND user_id = (SELECT to_keyworker_id FROM "
	    "kw.transfers WHERE episode_id = $1::uuid AND kind = 'temporary')",
	    ep);
	cr_assert(v != NULL && strcmp(v, "full") == 0,
	    "the cover stays on the team: %s", v);
	free(v);
	v = db_value(db, "SELECT count(*) FROM kw.team_members WHERE "
	    "episode_id = $1::uuid AND user_id = (SELECT keyworker_id FROM "
	    "kw.episodes WHERE id = $1::uuid)", ep);
	cr_assert_str_eq(v, "0", "the keyworker is not also a team member");
	free(v);
	db_exec(db, "ROLLBACK", NULL);
	PQfinish(db);
out:
	free(t);
	free(ep);
	world_close(&w);
}

/* ------------------------------------------------------------------ */
/* Requests racing one another */

Test(course, racing_transfer_proposals_one_wins, .timeout = 120)
{
	struct world	 w;
	struct racer	 rc[4];
	struct rreq	 req[4];
	json_t		*all;
	char		*ep, *body, path[128], what[64];
	int		 round, i, created, conflicts;

	world_open(&w, W_NEWKW);
	for (round = 0; round < 3; round++) {
		ep = episode_new(&w);
		add_consent(w.keyworker.tok, ep, "review", NULL, -60);
		body = transfer_body("in_county", w.newkw.id, NULL, -60, 0,
		    NO_END, -1);
		snprintf(path, sizeof(path), "/v1/episodes/%s/transfers", ep);
		for (i = 0; i < 4; i++) {
			req[i].method = "POST";
			req[i].path = path;
			/* The keyworker and their manager, at once. */
			req[i].tok = i % 2 == 0 ? w.keyworker.tok :
			    w.manager.tok;
			req[i].body = body;
		}
		race(req, 4, rc);
		created = conflicts = 0;
		for (i = 0; i < 4; i++) {
			snprintf(what, sizeof(what), "round %d proposal %d",
			    round, i);
			assert_racer(&rc[i], what);
			if (rc[i].status == 201)
				created++;
			else if (rc[i].status == 409)
				conflicts++;
			else
				cr_assert_fail("%s: %ld %s", what,
				    rc[i].status, rc[i].body);
		}
		cr_assert_eq(created, 1, "round %d: %d proposals made", round,
		    created);
		cr_assert_eq(conflicts, 3, "round %d", round);
		race_free(rc, 4);
		all = list_all(path, w.keyworker.tok);
		cr_assert_eq(json_array_size(all), 1, "round %d: %s", round,
		    json_dumps(all, 0));
		json_decref(all);
		free(body);
		free(ep);
	}
	world_close(&w);
}

Test(course, transfer_changeover_racing_a_closure, .timeout = 120)
{
	struct world	 w;
	struct racer	 rc[2];
	struct rreq	 req[2];
	json_t		*ep_j;
	const char	*kw, *status, *rule;
	char		*ep, *t, *body, cpath[128], xpath[128];
	int		 round;

	world_open(&w, W_NEWKW);
	body = close_body("outcomes_met", NULL);
	for (round = 0; round < 4; round++) {
		ep = episode_new(&w);
		add_consent(w.keyworker.tok, ep, "review", NULL, -60);
		t = in_county(&w, ep, 0, -1);
		transfer_act(w.newkw.tok, t, "accept", 200);
		snprintf(cpath, sizeof(cpath), "/v1/transfers/%s/complete", t);
		snprintf(xpath, sizeof(xpath), "/v1/episodes/%s/close", ep);
		req[0] = (struct rreq){ "POST", cpath, w.newkw.tok, NULL };
		/* Closed by the manager (writer after the change too), or by
		 * the keyworker (who no longer is, once it is done). */
		req[1] = (struct rreq){ "POST", xpath, round % 2 == 0 ?
		    w.manager.tok : w.keyworker.tok, body };
		if (round >= 2) {
			struct rreq	x = req[0];

			req[0] = req[1];
			req[1] = x;
		}
		race(req, 2, rc);
		if (round >= 2) {
			struct racer	x = rc[0];

			rc[0] = rc[1];
			rc[1] = x;
		}
		assert_racer(&rc[0], "changeover");
		assert_racer(&rc[1], "closure");
		cr_log_info("race %d: changeover %ld, closure by the %s %ld",
		    round, rc[0].status, round % 2 == 0 ? "manager" :
		    "former keyworker", rc[1].status);
		cr_assert(rc[0].status == 200 || rc[0].status == 409 ||
		    rc[0].status == 422, "round %d changeover: %ld %s", round,
		    rc[0].status, rc[0].body);
		cr_assert(rc[1].status == 200 || rc[1].status == 403 ||
		    rc[1].status == 409 || rc[1].status == 422,
		    "round %d closure: %ld %s", round, rc[1].status,
		    rc[1].body);
		cr_assert(rc[0].status == 200 || rc[1].status == 200,
		    "round %d: neither succeeded: %s / %s", round,
		    rc[0].body, rc[1].body);
		if (rc[1].status == 422) {
			rule = json_string_value(json_object_get(rc[1].json,
			    "rule"));
			cr_assert(rule != NULL && strcmp(rule,
			    "no_transfer_in_progress") == 0,
			    "round %d closure: %s", round, rc[1].body);
		}
		if (rc[0].status == 422) {
			rule = json_string_value(json_object_get(rc[0].json,
			    "rule"));
			cr_assert(rule != NULL && strcmp(rule,
			    "closed_episode_read_only") == 0,
			    "round %d changeover: %s", round, rc[0].body);
		}

		/* The manager sees it whoever keyworks it. */
		ep_j = episode_of(w.manager.tok, ep);
		kw = json_string_value(json_object_get(ep_j, "keyworker_id"));
		status = json_string_value(json_object_get(ep_j, "status"));
		cr_assert_not_null(kw, "round %d: an episode without a "
		    "keyworker: %s", round, json_dumps(ep_j, 0));
		cr_assert_str_eq(kw, rc[0].status == 200 ? w.newkw.id :
		    w.keyworker.id, "round %d: keyworker", round);
		cr_assert_str_eq(status, rc[1].status == 200 ? "closed" :
		    "registered", "round %d: status", round);
		json_decref(ep_j);
		race_free(rc, 2);
		free(t);
		free(ep);
	}
	free(body);
	world_close(&w);
}

Test(course, racing_closures_one_wins, .timeout = 60)
{
	struct world	 w;
	struct racer	 rc[3];
	struct rreq	 req[3];
	char		*ep, *body, path[128];
	int		 round, i, closed;

	world_open(&w, 0);
	body = close_body("family_disengaged", NULL);
	for (round = 0; round < 2; round++) {
		ep = episode_new(&w);
		snprintf(path, sizeof(path), "/v1/episodes/%s/close", ep);
		for (i = 0; i < 3; i++)
			req[i] = (struct rreq){ "POST", path, i == 1 ?
			    w.manager.tok : w.keyworker.tok, body };
		race(req, 3, rc);
		closed = 0;
		for (i = 0; i < 3; i++) {
			assert_racer(&rc[i], "closure");
			if (rc[i].status == 200)
				closed++;
			else
				cr_assert_eq(rc[i].status, 409, "closure: %ld %s",
				    rc[i].status, rc[i].body);
		}
		cr_assert_eq(closed, 1, "round %d: %d closures", round, closed);
		race_free(rc, 3);
		assert_status(w.keyworker.tok, ep, "closed");
		free(ep);
	}
	free(body);
	world_close(&w);
}

/* ------------------------------------------------------------------ */
/* Step up */

Test(course, step_up_needs_the_six_answers)
{
	static const char *const answers[] = { "unmet_needs",
	    "what_was_tried", "more_within_resources", "impact_so_far",
	    "evidence_higher_level", "advice_sought" };
	struct world	 w;
	struct resp	*r;
	json_t		*j;
	char		*ep, *n, *body;
	size_t		 i;

	world_open(&w, 0);
	ep = episode_new(&w);
	n = add_note(w.keyworker.tok, ep);
	for (i = 0; i < 6; i++) {
		body = step_up_body(0, answers[i]);
		r = postf(w.keyworker.tok, body, "/v1/episodes/%s/step-ups", ep);
		free(body);
		cr_assert_eq(r->status, 400, "without %s: %ld %s", answers[i],
		    r->status, r->raw);
		kwt_free(r);
	}
	/* An empty answer is no answer. */
	body = step_up_body(0, NULL);
	j = json_loads(body, 0, NULL);
	free(body);
	json_object_set_new(j, "impact_so_far", json_string(""));
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	r = postf(w.keyworker.tok, body, "/v1/episodes/%s/step-ups", ep);
	free(body);
	cr_assert_eq(r->status, 400, "empty answer: %ld %s", r->status, r->raw);
	kwt_free(r);
	assert_status(w.keyworker.tok, ep, "registered");
	free(n);
	free(ep);
	world_close(&w);
}

Test(course, step_up_needs_current_case_notes)
{
	struct world	 w;
	struct resp	*r;
	char		*ep, *body, *n, *su;

	world_open(&w, 0);
	ep = episode_new(&w);
	body = step_up_body(0, NULL);
	r = postf(w.keyworker.tok, body, "/v1/episodes/%s/step-ups", ep);
	assert_rule(r, "step_up_notes_current", "no case notes");
	kwt_free(r);
	free(body);
	assert_status(w.keyworker.tok, ep, "registered");
	n = add_note(w.keyworker.tok, ep);
	su = step_up_ok(w.keyworker.tok, ep, 0);
	free(su);
	free(n);
	free(ep);
	world_close(&w);
}

Test(course, step_up_request_keeps_the_episode_workable)
{
	struct world	 w;
	struct resp	*r;
	char		*ep, *n, *n2, *body, at[32];

	world_open(&w, W_STRANGER);
	ep = episode_new(&w);
	n = add_note(w.keyworker.tok, ep);
	/* Only the keyworker and their manager ask. */
	body = step_up_body(0, NULL);
	r = postf(w.stranger.tok, body, "/v1/episodes/%s/step-ups", ep);
	cr_assert_eq(r->status, 404, "stranger: %ld %s", r->status, r->raw);
	kwt_free(r);

	r = postf(w.keyworker.tok, body, "/v1/episodes/%s/step-ups", ep);
	cr_assert_eq(r->status, 201, "step up: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "pending");
	cr_assert_str_eq(kwt_str(r, "area_id"), w.area);
	cr_assert_str_eq(kwt_str(r, "requested_by"), w.keyworker.id);
	cr_assert(json_is_false(json_object_get(r->json,
	    "safeguarding_referral_made")), "%s", r->raw);
	cr_assert(json_is_null(json_object_get(r->json, "decided_at")));
	kwt_free(r);
	assert_status(w.keyworker.tok, ep, "step_up_requested");

	/* Work goes on meanwhile. */
	n2 = add_note(w.keyworker.tok, ep);
	now_utc(5 * 86400, at, sizeof(at));
	free(body);
	body = kwt_json("{s:s, s:s, s:b, s:{s:[s]}}", "scheduled_at", at,
	    "venue", "Family home", "family_can_attend", 1, "invitees",
	    "user_ids", w.keyworker.id);
	r = postf(w.keyworker.tok, body, "/v1/episodes/%s/meetings", ep);
	cr_assert_eq(r->status, 201, "meeting while pending: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	free(body);
	add_consent(w.keyworker.tok, ep, "written", NULL, -60);
	assert_status(w.keyworker.tok, ep, "step_up_requested");

	/* One request at a time. */
	body = step_up_body(0, NULL);
	r = postf(w.manager.tok, body, "/v1/episodes/%s/step-ups", ep);
	assert_conflict(r, "second step up");
	kwt_free(r);
	free(body);
	free(n);
	free(n2);
	free(ep);
	world_close(&w);
}

Test(course, safeguarding_referral_alerts_manager_and_coordinators)
{
	struct world	 w;
	struct person	 coord2;
	json_t		*all, *a;
	char		*ep, *ep2, *n, *su, *su2;

	world_open(&w, W_COORD | W_COORD_OTHER);
	person_new(&coord2, &w, "[\"coordinator\"]", NULL, NULL, NULL);
	ep = episode_new(&w);
	ep2 = episode_new(&w);
	n = add_note(w.keyworker.tok, ep);
	free(n);
	n = add_note(w.keyworker.tok, ep2);
	su = step_up_ok(w.keyworker.tok, ep, 1);
	su2 = step_up_ok(w.keyworker.tok, ep2, 0);

	all = list_all("/v1/alerts", w.manager.tok);
	a = find_item2(all, "episode_id", ep, "kind",
	    "children_services_contact");
	cr_assert_not_null(a, "manager not alerted: %s", json_dumps(all, 0));
	cr_assert_str_eq(json_string_value(json_object_get(a,
	    "raised_by_user_id")), w.keyworker.id);
	cr_assert(json_is_null(json_object_get(a, "acknowledged_at")));
	cr_assert_null(find_item2(all, "episode_id", ep2, "kind",
	    "children_services_contact"), "no concern on the other: %s",
	    json_dumps(all, 0));
	json_decref(all);
	all = list_all("/v1/alerts", w.coord.tok);
	cr_assert_not_null(find_item2(all, "episode_id", ep, "kind",
	    "children_services_contact"), "coordinator not alerted: %s",
	    json_dumps(all, 0));
	json_decref(all);
	all = list_all("/v1/alerts", coord2.tok);
	cr_assert_not_null(find_item2(all, "episode_id", ep, "kind",
	    "children_services_contact"), "second coordinator not alerted: %s",
	    json_dumps(all, 0));
	json_decref(all);
	all = list_all("/v1/alerts", w.coord_other.tok);
	cr_assert_null(find_item(all, "episode_id", ep),
	    "another area's coordinator alerted: %s", json_dumps(all, 0));
	json_decref(all);
	free(n);
	free(su);
	free(su2);
	free(ep);
	free(ep2);
	person_free(&coord2);
	world_close(&w);
}

Test(course, step_up_triage_queue_is_the_area_coordinators)
{
	struct world	 w;
	json_t		*all, *s;
	char		*ep, *n, *su;

	world_open(&w, W_COORD | W_COORD_OTHER | W_STRANGER);
	ep = episode_new(&w);
	n = add_note(w.keyworker.tok, ep);
	su = step_up_ok(w.keyworker.tok, ep, 0);

	all = list_all("/v1/step-ups", w.coord.tok);
	s = find_item(all, "id", su);
	cr_assert_not_null(s, "not in the coordinator's queue: %s",
	    json_dumps(all, 0));
	cr_assert_str_eq(json_string_value(json_object_get(s, "episode_id")),
	    ep);
	json_decref(all);
	all = list_all("/v1/step-ups?status=pending", w.coord.tok);
	cr_assert_not_null(find_item(all, "id", su), "pending filter: %s",
	    json_dumps(all, 0));
	json_decref(all);
	all = list_all("/v1/step-ups?status=accepted", w.coord.tok);
	cr_assert_null(find_item(all, "id", su), "accepted filter: %s",
	    json_dumps(all, 0));
	json_decref(all);
	all = list_all("/v1/step-ups", w.keyworker.tok);
	cr_assert_not_null(find_item(all, "id", su), "keyworker's own: %s",
	    json_dumps(all, 0));
	json_decref(all);
	all = list_all("/v1/step-ups", w.coord_other.tok);
	cr_assert_null(find_item(all, "id", su), "another area's: %s",
	    json_dumps(all, 0));
	json_decref(all);
	all = list_all("/v1/step-ups", w.stranger.tok);
	cr_assert_null(find_item(all, "id", su), "a stranger's: %s",
	    json_dumps(all, 0));
	json_decref(all);
	free(n);
	free(su);
	free(ep);
	world_close(&w);
}

Test(course, step_up_decided_by_the_area_coordinator)
{
	struct world	 w;
	struct resp	*r;
	json_t		*all;
	char		*ep, *n, *su, at[32];

	world_open(&w, W_ALL);
	ep = episode_new(&w);
	n = add_note(w.keyworker.tok, ep);
	su = step_up_ok(w.keyworker.tok, ep, 0);
	now_utc(3 * 86400, at, sizeof(at));
	/* Those who see it but are not the area's coordinators: 403. */
	r = decide(w.keyworker.tok, su, "accepted", at);
	cr_assert_eq(r->status, 403, "keyworker decides: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	/* The keyworker's manager sees it in the queue, and may not decide. */
	all = list_all("/v1/step-ups", w.manager.tok);
	cr_assert_not_null(find_item(all, "id", su), "manager's list: %s",
	    json_dumps(all, 0));
	json_decref(all);
	r = decide(w.manager.tok, su, "declined", NULL);
	cr_assert_eq(r->status, 403, "manager decides: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	/* Those who cannot see it: 404. */
	r = decide(w.coord_other.tok, su, "accepted", at);
	cr_assert_eq(r->status, 404, "another area's coordinator: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	r = decide(w.stranger.tok, su, "accepted", at);
	cr_assert_eq(r->status, 404, "stranger: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = decide(w.coord.tok, NO_SUCH_ID, "accepted", at);
	cr_assert_eq(r->status, 404, "no such step up: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	assert_status(w.keyworker.tok, ep, "step_up_requested");
	r = decide(w.coord.tok, su, "accepted", at);
	cr_assert_eq(r->status, 200, "coordinator: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "decided_by"), w.coord.id);
	kwt_free(r);
	free(n);
	free(su);
	free(ep);
	world_close(&w);
}

Test(course, accepting_a_step_up_sets_the_action_and_impact_meeting)
{
	struct world	 w;
	struct resp	*r;
	char		*ep, *n, *su, at[32];

	world_open(&w, W_COORD);
	ep = episode_new(&w);
	n = add_note(w.keyworker.tok, ep);
	su = step_up_ok(w.keyworker.tok, ep, 0);
	r = decide(w.coord.tok, su, "accepted", NULL);
	assert_rule(r, "action_impact_meeting", "accept without the meeting");
	kwt_free(r);
	assert_status(w.keyworker.tok, ep, "step_up_requested");
	now_utc(4 * 86400, at, sizeof(at));
	r = decide(w.coord.tok, su, "accepted", at);
	cr_assert_eq(r->status, 200, "accept: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "accepted");
	cr_assert(json_is_string(json_object_get(r->json,
	    "action_impact_meeting_at")), "%s", r->raw);
	cr_assert(json_is_string(json_object_get(r->json, "decided_at")));
	kwt_free(r);
	assert_status(w.keyworker.tok, ep, "stepped_up");
	free(n);
	free(su);
	free(ep);
	world_close(&w);
}

Test(course, declined_step_up_returns_the_episode_where_it_was)
{
	struct world	 w;
	struct family	 f;
	struct resp	*r;
	json_t		*all;
	char		*n, *su;

	world_open(&w, W_COORD);
	family_new(&w, &f);
	assess(&w, &f);
	n = add_note(w.keyworker.tok, f.episode);
	su = step_up_ok(w.keyworker.tok, f.episode, 0);
	assert_status(w.keyworker.tok, f.episode, "step_up_requested");
	r = decide(w.coord.tok, su, "declined", NULL);
	cr_assert_eq(r->status, 200, "decline: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "declined");
	cr_assert_str_eq(kwt_str(r, "decision_note"), "Discussed at triage.");
	kwt_free(r);
	assert_status(w.keyworker.tok, f.episode, "assessed");
	/* The keyworker hears of the decision. */
	all = list_all("/v1/alerts", w.keyworker.tok);
	cr_assert_not_null(find_item2(all, "episode_id", f.episode, "kind",
	    "referral"), "keyworker not told: %s", json_dumps(all, 0));
	json_decref(all);
	free(n);
	free(su);
	family_free(&f);
	world_close(&w);
}

/*
 * The episode stays workable while a step up is pending; work done
 * meanwhile is kept when it is declined: an assessment completed while
 * pending leaves the episode assessed, not registered.
 */
Test(course, work_done_while_a_step_up_is_pending_is_kept)
{
	struct world	 w;
	struct family	 f;
	struct resp	*r;
	json_t		*ep_j;
	char		*n, *su, *body, path[128];

	world_open(&w, W_COORD);
	family_new(&w, &f);
	n = add_note(w.keyworker.tok, f.episode);
	su = step_up_ok(w.keyworker.tok, f.episode, 0);
	body = kwt_json("{s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "needs",
	    "School attendance.", "voices",
	    "member_id", f.parent_id, "in_own_words", "Mornings are hard.",
	    "member_id", f.kid_id, "in_own_words", "I like football.");
	snprintf(path, sizeof(path), "/v1/episodes/%s/assessment", f.episode);
	r = send_json("PUT", path, w.keyworker.tok, body, "If-Match: \"0\"");
	free(body);
	cr_assert_eq(r->status, 200, "assessment: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = postf(w.keyworker.tok, NULL, "/v1/episodes/%s/assessment/complete",
	    f.episode);
	cr_assert_eq(r->status, 200, "complete while pending: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	assert_status(w.keyworker.tok, f.episode, "step_up_requested");

	r = decide(w.coord.tok, su, "declined", NULL);
	cr_assert_eq(r->status, 200, "decline: %ld %s", r->status, r->raw);
	kwt_free(r);
	ep_j = episode_of(w.keyworker.tok, f.episode);
	cr_assert(json_is_string(json_object_get(ep_j,
	    "assessment_completed_at")), "%s", json_dumps(ep_j, 0));
	cr_assert_str_eq(json_string_value(json_object_get(ep_j, "status")),
	    "assessed", "declined after the assessment was completed: the "
	    "episode is assessed: %s", json_dumps(ep_j, 0));
	json_decref(ep_j);
	free(n);
	free(su);
	family_free(&f);
	world_close(&w);
}

Test(course, more_information_returns_the_episode_where_it_was)
{
	struct world	 w;
	struct resp	*r;
	char		*ep, *n, *su, *su2;

	world_open(&w, W_COORD);
	ep = episode_new(&w);
	n = add_note(w.keyworker.tok, ep);
	su = step_up_ok(w.keyworker.tok, ep, 0);
	r = decide(w.coord.tok, su, "more_information", NULL);
	cr_assert_eq(r->status, 200, "more information: %ld %s", r->status,
	    r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "more_information");
	kwt_free(r);
	assert_status(w.keyworker.tok, ep, "registered");
	/* Asked again, with the information. */
	su2 = step_up_ok(w.keyworker.tok, ep, 0);
	assert_status(w.keyworker.tok, ep, "step_up_requested");
	free(n);
	free(su);
	free(su2);
	free(ep);
	world_close(&w);
}

Test(course, step_up_decided_once)
{
	struct world	 w;
	struct family	 f;
	struct resp	*r;
	char		*su, *body, at[32];

	world_open(&w, W_COORD);
	su = stepped_up_episode(&w, &f);
	now_utc(5 * 86400, at, sizeof(at));
	r = decide(w.coord.tok, su, "accepted", at);
	assert_conflict(r, "accept twice");
	kwt_free(r);
	r = decide(w.coord.tok, su, "declined", NULL);
	assert_conflict(r, "decline after accepting");
	kwt_free(r);
	assert_status(w.keyworker.tok, f.episode, "stepped_up");
	/* A stepped-up episode is not stepped up again. */
	body = step_up_body(0, NULL);
	r = postf(w.keyworker.tok, body, "/v1/episodes/%s/step-ups",
	    f.episode);
	assert_conflict(r, "step up a stepped-up episode");
	kwt_free(r);
	free(body);
	free(su);
	family_free(&f);
	world_close(&w);
}

/* ------------------------------------------------------------------ */
/* Step down */

Test(course, step_down_comes_from_statutory_services)
{
	struct world	 w;
	struct resp	*r;
	json_t		*members;
	char		*school, *partner, *body;

	world_open(&w, W_COORD_OTHER);
	school = new_agency(w.admin, "school");
	partner = new_partner(w.admin, school);
	members = fresh_members(kwt_unique());
	body = step_down_body(&w, members, "Needs identified at CIN review.",
	    NULL);
	r = create_step_down(w.keyworker.tok, body);
	cr_assert_eq(r->status, 403, "practitioner: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = create_step_down(w.manager.tok, body);
	cr_assert_eq(r->status, 403, "manager: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = create_step_down(partner, body);
	cr_assert_eq(r->status, 403, "a school's partner system: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	/* A coordinator, for their own area only. */
	r = create_step_down(w.coord_other.tok, body);
	cr_assert(r->status == 403 || r->status == 422,
	    "another area's coordinator: %ld %s", r->status, r->raw);
	kwt_free(r);
	free(body);
	json_decref(members);
	free(school);
	free(partner);
	world_close(&w);
}

Test(course, step_down_consent_is_obtained_first)
{
	struct world	 w;
	struct resp	*r;
	json_t		*members, *j;
	char		*body, when[32];

	world_open(&w, W_COORD);
	members = fresh_members(kwt_unique());
	body = step_down_body(&w, members, "Needs.", NULL);
	j = json_loads(body, 0, NULL);
	free(body);
	now_utc(86400, when, sizeof(when));
	json_object_set_new(json_object_get(j, "consent"), "obtained_at",
	    json_string(when));
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	r = create_step_down(w.coord.tok, body);
	assert_rule(r, "step_down_consent", "consent tomorrow");
	kwt_free(r);
	free(body);
	json_decref(members);
	world_close(&w);
}

Test(course, step_down_received_from_a_coordinator_or_social_care)
{
	struct world	 w;
	struct resp	*r;
	json_t		*members, *all;
	char		*sc, *partner, *body, *sd1, *sd2, due[16], today[16];

	world_open(&w, W_COORD | W_COORD_OTHER);
	sc = new_agency(w.admin, "social_care");
	partner = new_partner(w.admin, sc);
	today_plus(0, today, sizeof(today));

	members = fresh_members(kwt_unique());
	body = step_down_body(&w, members, "Neglect concerns now reduced.",
	    NULL);
	r = create_step_down(w.coord.tok, body);
	free(body);
	json_decref(members);
	cr_assert_eq(r->status, 201, "coordinator: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "received");
	cr_assert_str_eq(kwt_str(r, "area_id"), w.area);
	cr_assert_str_eq(kwt_str(r, "needs"), "Neglect concerns now reduced.");
	cr_assert_str_eq(kwt_str(r, "decided_on"), today);
	date_plus(kwt_str(r, "decided_on"), 7, due, sizeof(due));
	cr_assert_str_eq(kwt_str(r, "allocation_due"), due);
	cr_assert(json_is_null(json_object_get(r->json, "episode_id")));
	cr_assert(json_is_null(json_object_get(r->json,
	    "suggested_keyworker_id")));
	sd1 = strdup(kwt_str(r, "id"));
	kwt_free(r);

	members = fresh_members(kwt_unique());
	body = step_down_body(&w, members, "Domestic abuse support needed.",
	    NULL);
	r = create_step_down(partner, body);
	free(body);
	json_decref(members);
	cr_assert_eq(r->status, 201, "social care partner: %ld %s", r->status,
	    r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "received");
	date_plus(kwt_str(r, "decided_on"), 7, due, sizeof(due));
	cr_assert_str_eq(kwt_str(r, "allocation_due"), due);
	sd2 = strdup(kwt_str(r, "id"));
	kwt_free(r);

	/* The area's coordinator sees both; the partner its own. */
	all = list_all("/v1/step-downs", w.coord.tok);
	cr_assert_not_null(find_item(all, "id", sd1), "%s", json_dumps(all, 0));
	cr_assert_not_null(find_item(all, "id", sd2), "%s", json_dumps(all, 0));
	json_decref(all);
	all = list_all("/v1/step-downs?status=received", w.coord.tok);
	cr_assert_not_null(find_item(all, "id", sd2), "%s", json_dumps(all, 0));
	json_decref(all);
	all = list_all("/v1/step-downs", partner);
	cr_assert_not_null(find_item(all, "id", sd2), "%s", json_dumps(all, 0));
	cr_assert_null(find_item(all, "id", sd1), "%s", json_dumps(all, 0));
	json_decref(all);
	all = list_all("/v1/step-downs", w.coord_other.tok);
	cr_assert_null(find_item(all, "id", sd1), "%s", json_dumps(all, 0));
	cr_assert_null(find_item(all, "id", sd2), "%s", json_dumps(all, 0));
	json_decref(all);
	all = list_all("/v1/step-downs", w.keyworker.tok);
	cr_assert_null(find_item(all, "id", sd1), "%s", json_dumps(all, 0));
	json_decref(all);
	free(sd1);
	free(sd2);
	free(sc);
	free(partner);
	world_close(&w);
}

Test(course, step_down_suggests_the_former_keyworker)
{
	struct world	 w;
	struct family	 f;
	struct resp	*r;
	json_t		*members;
	char		*su, *body, *ep;

	world_open(&w, W_COORD);
	su = stepped_up_episode(&w, &f);
	members = fresh_members(kwt_unique());
	body = step_down_body(&w, members, "Back to early help.", f.episode);
	r = create_step_down(w.coord.tok, body);
	free(body);
	cr_assert_eq(r->status, 201, "step down: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "from_episode_id"), f.episode);
	cr_assert_str_eq(kwt_str(r, "suggested_keyworker_id"), w.keyworker.id);
	kwt_free(r);

	/* An episode never stepped up suggests nobody. */
	ep = episode_new(&w);
	body = step_down_body(&w, members, "Back to early help.", ep);
	r = create_step_down(w.coord.tok, body);
	free(body);
	cr_assert_eq(r->status, 201, "step down: %ld %s", r->status, r->raw);
	cr_assert(json_is_null(json_object_get(r->json,
	    "suggested_keyworker_id")), "%s", r->raw);
	kwt_free(r);
	json_decref(members);
	free(ep);
	free(su);
	family_free(&f);
	world_close(&w);
}

Test(course, step_down_allocation_opens_an_episode)
{
	struct world	 w;
	struct resp	*r;
	json_t		*members, *ep_j;
	char		*body, *sd, *ep, *alloc, needs[128], path[128];

	world_open(&w, W_NEWKW | W_COORD | W_COORD_OTHER);
	members = fresh_members(kwt_unique());
	snprintf(needs, sizeof(needs), "Needs at step down %s", kwt_unique());
	body = step_down_body(&w, members, needs, NULL);
	r = create_step_down(w.coord.tok, body);
	free(body);
	cr_assert_eq(r->status, 201, "step down: %ld %s", r->status, r->raw);
	sd = strdup(kwt_str(r, "id"));
	kwt_free(r);

	alloc = kwt_json("{s:s, s:s}", "agency_id", w.agency, "keyworker_id",
	    w.newkw.id);
	/* Not another area's coordinator, nor a practitioner. */
	r = postf(w.coord_other.tok, alloc, "/v1/step-downs/%s/allocate", sd);
	cr_assert(r->status == 404 || r->status == 403,
	    "another area's coordinator: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = postf(w.newkw.tok, alloc, "/v1/step-downs/%s/allocate", sd);
	cr_assert(r->status == 404 || r->status == 403,
	    "practitioner: %ld %s", r->status, r->raw);
	kwt_free(r);

	/* To a practitioner, of an agency that exists. */
	body = kwt_json("{s:s, s:s}", "agency_id", w.agency, "keyworker_id",
	    w.manager.id);
	r = postf(w.coord.tok, body, "/v1/step-downs/%s/allocate", sd);
	free(body);
	assert_rule(r, "keyworker_is_practitioner", "allocate to a manager");
	kwt_free(r);
	body = kwt_json("{s:s, s:s}", "agency_id", NO_SUCH_ID, "keyworker_id",
	    w.newkw.id);
	r = postf(w.coord.tok, body, "/v1/step-downs/%s/allocate", sd);
	free(body);
	assert_rule(r, "agency_exists", "allocate to no agency");
	kwt_free(r);

	r = postf(w.coord.tok, alloc, "/v1/step-downs/%s/allocate", sd);
	cr_assert_eq(r->status, 200, "allocate: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "allocated");
	cr_assert_str_eq(kwt_str(r, "allocated_keyworker_id"), w.newkw.id);
	cr_assert_str_eq(kwt_str(r, "allocated_agency_id"), w.agency);
	cr_assert(json_is_string(json_object_get(r->json, "allocated_at")));
	ep = strdup(kwt_str(r, "episode_id"));
	kwt_free(r);

	/* The new episode: registered, keyworked by whom was allocated. */
	ep_j = episode_of(w.newkw.tok, ep);
	cr_assert_str_eq(json_string_value(json_object_get(ep_j, "status")),
	    "registered");
	cr_assert_str_eq(json_string_value(json_object_get(ep_j,
	    "keyworker_id")), w.newkw.id);
	cr_assert_str_eq(json_string_value(json_object_get(ep_j, "area_id")),
	    w.area);
	cr_assert_eq(json_array_size(json_object_get(ep_j, "members")), 2,
	    "%s", json_dumps(ep_j, 0));
	json_decref(ep_j);
	expect(episode_get(w.coord.tok, ep), 200, "coordinator sees it");
	/* Its assessment draft starts from the needs identified. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/assessment", ep);
	r = get(path, w.newkw.tok);
	cr_assert_eq(r->status, 200, "assessment: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "draft");
	cr_assert_str_eq(kwt_str(r, "needs"), needs);
	kwt_free(r);

	/* Allocated once. */
	r = postf(w.coord.tok, alloc, "/v1/step-downs/%s/allocate", sd);
	assert_conflict(r, "allocate twice");
	kwt_free(r);
	free(alloc);
	free(sd);
	free(ep);
	json_decref(members);
	world_close(&w);
}

Test(course, step_down_of_a_family_already_open_is_refused)
{
	struct world	 w;
	struct family	 f;
	struct resp	*r;
	json_t		*all;
	char		*body, *sd, *alloc;

	world_open(&w, W_NEWKW | W_COORD);
	family_new(&w, &f);
	body = step_down_body(&w, f.members, "Needs at step down.", NULL);
	r = create_step_down(w.coord.tok, body);
	free(body);
	cr_assert_eq(r->status, 201, "step down: %ld %s", r->status, r->raw);
	sd = strdup(kwt_str(r, "id"));
	kwt_free(r);
	alloc = kwt_json("{s:s, s:s}", "agency_id", w.agency, "keyworker_id",
	    w.newkw.id);
	r = postf(w.coord.tok, alloc, "/v1/step-downs/%s/allocate", sd);
	cr_assert_eq(r->status, 409, "child in an open episode: %ld %s",
	    r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "existing_episode_id"), f.episode);
	kwt_free(r);
	all = list_all("/v1/step-downs?status=received", w.coord.tok);
	cr_assert_not_null(find_item(all, "id", sd), "still received: %s",
	    json_dumps(all, 0));
	json_decref(all);
	free(alloc);
	free(sd);
	family_free(&f);
	world_close(&w);
}

/* ------------------------------------------------------------------ */
/* Closure and reopening */

Test(course, closure_needs_reason_and_views)
{
	static const char *const parts[] = { "reason", "family_views",
	    "children_views" };
	struct world	 w;
	struct resp	*r;
	char		*ep, *body;
	size_t		 i;

	world_open(&w, 0);
	ep = episode_new(&w);
	for (i = 0; i < 3; i++) {
		body = close_body("outcomes_met", parts[i]);
		r = postf(w.keyworker.tok, body, "/v1/episodes/%s/close", ep);
		free(body);
		cr_assert_eq(r->status, 400, "without %s: %ld %s", parts[i],
		    r->status, r->raw);
		kwt_free(r);
	}
	/* Transferred out is the changeover's to record, not the caller's. */
	r = close_episode(w.keyworker.tok, ep, "transferred_out");
	cr_assert_eq(r->status, 400, "transferred_out: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	assert_status(w.keyworker.tok, ep, "registered");
	free(ep);
	world_close(&w);
}

Test(course, closed_as_stepped_up_only_after_acceptance)
{
	struct world	 w;
	struct family	 f;
	struct resp	*r;
	json_t		*e;
	char		*ep, *n, *su, *su2;

	world_open(&w, W_COORD);
	ep = episode_new(&w);
	r = close_episode(w.keyworker.tok, ep, "stepped_up");
	assert_rule(r, "closed_stepped_up_after_acceptance", "registered");
	kwt_free(r);
	n = add_note(w.keyworker.tok, ep);
	su = step_up_ok(w.keyworker.tok, ep, 0);
	r = close_episode(w.keyworker.tok, ep, "stepped_up");
	assert_rule(r, "closed_stepped_up_after_acceptance", "still pending");
	kwt_free(r);
	assert_status(w.keyworker.tok, ep, "step_up_requested");

	su2 = stepped_up_episode(&w, &f);
	r = close_episode(w.keyworker.tok, f.episode, "stepped_up");
	cr_assert_eq(r->status, 200, "close stepped up: %ld %s", r->status,
	    r->raw);
	cr_assert_str_eq(kwt_str(r, "reason"), "stepped_up");
	e = json_object_get(r->json, "episode");
	cr_assert_str_eq(json_string_value(json_object_get(e, "status")),
	    "closed", "%s", r->raw);
	kwt_free(r);
	free(n);
	free(su);
	free(su2);
	free(ep);
	family_free(&f);
	world_close(&w);
}

Test(course, no_closure_while_a_transfer_is_in_progress)
{
	struct world	 w;
	struct resp	*r;
	char		*ep, *t;

	world_open(&w, W_NEWKW);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	t = in_county(&w, ep, 2, -1);
	r = close_episode(w.keyworker.tok, ep, "outcomes_met");
	assert_rule(r, "no_transfer_in_progress", "proposed");
	kwt_free(r);
	transfer_act(w.newkw.tok, t, "accept", 200);
	r = close_episode(w.manager.tok, ep, "outcomes_met");
	assert_rule(r, "no_transfer_in_progress", "accepted");
	kwt_free(r);
	assert_status(w.keyworker.tok, ep, "registered");
	free(t);

	/* Declined, it is no longer in progress. */
	free(ep);
	ep = episode_new(&w);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	t = in_county(&w, ep, 0, -1);
	transfer_act(w.newkw.tok, t, "decline", 200);
	r = close_episode(w.keyworker.tok, ep, "outcomes_met");
	cr_assert_eq(r->status, 200, "close: %ld %s", r->status, r->raw);
	kwt_free(r);
	free(t);
	free(ep);
	world_close(&w);
}

Test(course, closed_episode_is_read_only)
{
	struct world	 w;
	struct person	 taf;
	struct resp	*r;
	json_t		*e;
	char		*ep, *n, *body, *etag, hdr[128], path[128], at[32];

	world_open(&w, W_STRANGER);
	person_new(&taf, &w, "[\"practitioner\"]", NULL, NULL, NULL);
	ep = episode_new(&w);
	n = add_note(w.keyworker.tok, ep);
	/* Only the keyworker and their manager close it. */
	r = close_episode(w.stranger.tok, ep, "outcomes_met");
	cr_assert_eq(r->status, 404, "stranger: %ld %s", r->status, r->raw);
	kwt_free(r);

	r = close_episode(w.keyworker.tok, ep, "outcomes_met");
	cr_assert_eq(r->status, 200, "close: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "reason"), "outcomes_met");
	cr_assert_str_eq(kwt_str(r, "closed_by"), w.keyworker.id);
	cr_assert_str_eq(kwt_str(r, "episode_id"), ep);
	cr_assert_str_eq(kwt_str(r, "family_views"),
	    "We feel more confident now.");
	cr_assert_str_eq(kwt_str(r, "children_views"), "School is better.");
	cr_assert(json_is_null(json_object_get(r->json, "reopened_at")));
	e = json_object_get(r->json, "episode");
	cr_assert_str_eq(json_string_value(json_object_get(e, "status")),
	    "closed", "%s", r->raw);
	kwt_free(r);

	/* Every write refused. */
	body = kwt_json("{s:s, s:s}", "body", "After closure.", "kind", "fact");
	r = postf(w.keyworker.tok, body, "/v1/episodes/%s/notes", ep);
	free(body);
	assert_rule(r, "closed_episode_read_only", "note");
	kwt_free(r);

	snprintf(path, sizeof(path), "/v1/episodes/%s", ep);
	r = get(path, w.keyworker.tok);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	etag = strdup(kwt_header(r, "ETag"));
	kwt_free(r);
	snprintf(hdr, sizeof(hdr), "If-Match: %s", etag);
	r = send_json("PATCH", path, w.keyworker.tok,
	    "{\"family\":{\"name\":\"Renamed\"}}", hdr);
	assert_rule(r, "closed_episode_read_only", "PATCH");
	kwt_free(r);
	free(etag);

	body = kwt_json("{s:s, s:s}", "user_id", taf.id, "level", "full");
	r = postf(w.keyworker.tok, body, "/v1/episodes/%s/team", ep);
	free(body);
	assert_rule(r, "closed_episode_read_only", "team add");
	kwt_free(r);

	now_utc(3 * 86400, at, sizeof(at));
	body = kwt_json("{s:s, s:s, s:b, s:{s:[s]}}", "scheduled_at", at,
	    "venue", "Family home", "family_can_attend", 1, "invitees",
	    "user_ids", w.keyworker.id);
	r = postf(w.keyworker.tok, body, "/v1/episodes/%s/meetings", ep);
	free(body);
	assert_rule(r, "closed_episode_read_only", "meeting");
	kwt_free(r);

	now_utc(-60, at, sizeof(at));
	body = kwt_json("{s:s, s:s, s:s}", "kind", "written", "given_by",
	    "Mum", "obtained_at", at);
	r = postf(w.keyworker.tok, body, "/v1/episodes/%s/consents", ep);
	free(body);
	assert_rule(r, "closed_episode_read_only", "consent");
	kwt_free(r);

	/* Closed once. */
	r = close_episode(w.manager.tok, ep, "outcomes_met");
	assert_conflict(r, "close twice");
	kwt_free(r);
	assert_status(w.keyworker.tok, ep, "closed");
	free(n);
	free(ep);
	person_free(&taf);
	world_close(&w);
}

Test(course, reopen_restores_the_status_and_history)
{
	struct world	 w;
	struct family	 f;
	struct resp	*r;
	json_t		*all;
	char		*n, path[128];

	world_open(&w, W_STRANGER);
	family_new(&w, &f);
	assess(&w, &f);
	n = add_note(w.keyworker.tok, f.episode);

	/* An open episode is not reopened. */
	r = postf(w.keyworker.tok, "{\"reason\":\"Never closed.\"}",
	    "/v1/episodes/%s/reopen", f.episode);
	assert_conflict(r, "reopen an open episode");
	kwt_free(r);

	r = close_episode(w.keyworker.tok, f.episode, "family_disengaged");
	cr_assert_eq(r->status, 200, "close: %ld %s", r->status, r->raw);
	kwt_free(r);
	/* A reason, and the keyworker or their manager. */
	r = postf(w.keyworker.tok, "{}", "/v1/episodes/%s/reopen", f.episode);
	cr_assert_eq(r->status, 400, "no reason: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = postf(w.stranger.tok, "{\"reason\":\"x\"}",
	    "/v1/episodes/%s/reopen", f.episode);
	cr_assert_eq(r->status, 404, "stranger: %ld %s", r->status, r->raw);
	kwt_free(r);

	r = postf(w.manager.tok, "{\"reason\":\"The family re-engaged.\"}",
	    "/v1/episodes/%s/reopen", f.episode);
	cr_assert_eq(r->status, 200, "reopen: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "assessed",
	    "the status before closure");
	cr_assert(json_is_null(json_object_get(r->json, "closed_at")), "%s",
	    r->raw);
	cr_assert_str_eq(kwt_str(r, "keyworker_id"), w.keyworker.id);
	cr_assert_not_null(kwt_header(r, "ETag"));
	cr_assert(json_is_string(json_object_get(r->json,
	    "assessment_completed_at")), "%s", r->raw);
	kwt_free(r);
	assert_status(w.keyworker.tok, f.episode, "assessed");

	/* History intact: the note, the assessment, and writable again. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/notes", f.episode);
	all = list_all(path, w.keyworker.tok);
	cr_assert_not_null(find_item(all, "id", n), "note lost: %s",
	    json_dumps(all, 0));
	json_decref(all);
	snprintf(path, sizeof(path), "/v1/episodes/%s/assessment", f.episode);
	r = get(path, w.keyworker.tok);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "complete");
	kwt_free(r);
	free(n);
	n = add_note(w.keyworker.tok, f.episode);

	/* Reopened once. */
	r = postf(w.keyworker.tok, "{\"reason\":\"Again.\"}",
	    "/v1/episodes/%s/reopen", f.episode);
	assert_conflict(r, "reopen twice");
	kwt_free(r);
	free(n);
	family_free(&f);
	world_close(&w);
}

/*
 * Reopening is for a recent closure (reopen_days, 90): an episode closed
 * longer ago is registered again instead. The old closure is made as the
 * schema owner, on this test's own episode.
 */
Test(course, reopened_only_within_the_reopen_period)
{
	struct world	 w;
	struct resp	*r;
	PGconn		*db;
	char		*ep;

	if ((db = db_open()) == NULL)
		cr_skip_test("DATABASE_URL not set");
	world_open(&w, 0);
	ep = episode_new(&w);
	db_exec(db, "BEGIN", NULL);
	db_exec(db, "INSERT INTO kw.closures (episode_id, reason, family_views, "
	    "children_views, closed_by, closed_at) SELECT id, 'outcomes_met', "
	    "'Doing well.', 'Happy.', keyworker_id, now() - interval '91 days' "
	    "FROM kw.episodes WHERE id = $1::uuid", ep);
	db_exec(db, "UPDATE kw.episodes SET status = 'closed', closed_at = "
	    "now() - interval '91 days' WHERE id = $1::uuid", ep);
	db_exec(db, "COMMIT", NULL);
	PQfinish(db);
	assert_status(w.keyworker.tok, ep, "closed");
	r = postf(w.keyworker.tok, "{\"reason\":\"The family asked again.\"}",
	    "/v1/episodes/%s/reopen", ep);
	assert_rule(r, "reopen_within_period", "closed 91 days ago");
	kwt_free(r);
	assert_status(w.keyworker.tok, ep, "closed");
	free(ep);
	world_close(&w);
}

/* ------------------------------------------------------------------ */
/* The state machine */

/*
 * Moves the state machine does not allow, through the API: each is
 * refused before any status changes, and the answer says why (the closed
 * episode's rule first, where the episode is closed). No API request
 * reaches the database trigger itself with a move it refuses: the
 * operations check first.
 */
Test(course, refused_transitions_surface_as_the_api_says)
{
	struct world	 w;
	struct family	 f;
	struct resp	*r;
	char		*ep, *n, *su, *su2, *body, at[32];

	world_open(&w, W_NEWKW | W_COORD);

	/* closed -> step_up_requested: the closed rule. */
	ep = episode_new(&w);
	n = add_note(w.keyworker.tok, ep);
	add_consent(w.keyworker.tok, ep, "review", NULL, -60);
	expect(close_episode(w.keyworker.tok, ep, "outcomes_met"), 200,
	    "close");
	body = step_up_body(0, NULL);
	r = postf(w.keyworker.tok, body, "/v1/episodes/%s/step-ups", ep);
	assert_rule(r, "closed_episode_read_only", "step up a closed episode");
	kwt_free(r);
	free(body);
	/* A transfer of a closed episode: the same. */
	body = transfer_body("in_county", w.newkw.id, NULL, -60, 0, NO_END,
	    -1);
	r = propose(w.keyworker.tok, ep, body);
	assert_rule(r, "closed_episode_read_only", "transfer a closed episode");
	kwt_free(r);
	free(body);
	assert_status(w.keyworker.tok, ep, "closed");
	free(n);
	free(ep);

	/* stepped_up -> step_up_requested: 409. */
	su = stepped_up_episode(&w, &f);
	body = step_up_body(0, NULL);
	r = postf(w.manager.tok, body, "/v1/episodes/%s/step-ups", f.episode);
	assert_conflict(r, "step up a stepped-up episode");
	kwt_free(r);
	free(body);
	/* stepped_up -> closed (as stepped up) -> reopened: not stepped_up. */
	expect(close_episode(w.keyworker.tok, f.episode, "stepped_up"), 200,
	    "close stepped up");
	r = postf(w.keyworker.tok, "{\"reason\":\"Stepped down again.\"}",
	    "/v1/episodes/%s/reopen", f.episode);
	cr_assert_eq(r->status, 200, "reopen: %ld %s", r->status, r->raw);
	cr_assert(strcmp(kwt_str(r, "status"), "registered") == 0 ||
	    strcmp(kwt_str(r, "status"), "assessed") == 0 ||
	    strcmp(kwt_str(r, "status"), "plan_in_place") == 0,
	    "reopened as %s", kwt_str(r, "status"));
	kwt_free(r);
	free(su);
	family_free(&f);

	/*
	 * step_up_requested -> closed is allowed; the pending step up's
	 * decision afterwards leaves the episode closed.
	 */
	ep = episode_new(&w);
	n = add_note(w.keyworker.tok, ep);
	su2 = step_up_ok(w.keyworker.tok, ep, 0);
	expect(close_episode(w.keyworker.tok, ep, "moved_away"), 200,
	    "close while step up pending");
	now_utc(3 * 86400, at, sizeof(at));
	r = decide(w.coord.tok, su2, "accepted", at);
	cr_assert(r->status == 200 || r->status == 409 || r->status == 422,
	    "decide on a closed episode: %ld %s", r->status, r->raw);
	cr_log_info("step up decided on a closed episode: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	assert_status(w.keyworker.tok, ep, "closed");
	free(su2);
	free(n);
	free(ep);
	world_close(&w);
}
