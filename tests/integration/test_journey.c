/*
 * Working an episode, through the API: one family walked from registration
 * to its first review (the assessment with every member's voice, written
 * consent, the initial TAF meeting across a bank holiday, its outcomes and
 * action plan, progress on actions, outcome scores, the review meeting),
 * with every deadline's date checked on the way; then documents, alerts,
 * the oversight views and the holiday calendar, each on a family of its
 * own.
 *
 * Deadline dates come from the domain's rules, computed here: calendar
 * days in London for the assessment (21), the first TAF meeting (42) and
 * the review (42); working days, skipping weekends and bank holidays, for
 * a meeting's outcomes (3) and for sharing the plan (5).
 *
 * Tests run in parallel against shared demo data, so each makes its own
 * areas, agencies, accounts and families, with unique names.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "client.h"

#define ADMIN_EMAIL	"admin@example.org"
#define USER_PASSWORD	"correct-horse-battery-staple"
#define NO_SUCH_ID	"00000000-0000-4000-8000-000000000000"

/*
 * The initial meeting: Friday 28 August 2026, 11:00 in London. Monday 31
 * August is the Summer bank holiday, so its 3 working days to record the
 * outcomes run Tue 1, Wed 2, Thu 3 September, and the 5 to share the plan
 * Tue 1 ... Fri 4, Mon 7 September; the review falls due 42 days on.
 */
#define MEETING1_AT		"2026-08-28T10:00:00Z"
#define MEETING1_OUTCOMES_DUE	"2026-09-03"
#define MEETING1_PLAN_DUE	"2026-09-07"
#define MEETING1_REVIEW_DUE	"2026-10-09"
/*
 * The review: Thursday 8 October 2026, 10:30 in London. Outcomes by Fri 9,
 * Mon 12, Tue 13; the plan by Thu 15; the next review 42 days on.
 */
#define MEETING2_AT		"2026-10-08T09:30:00Z"
#define MEETING2_OUTCOMES_DUE	"2026-10-13"
#define MEETING2_PLAN_DUE	"2026-10-15"
#define MEETING2_REVIEW_DUE	"2026-11-19"

/* An account made by the test, signed in. */
struct person {
	char	*id;
	char	*tok;
};

/* A family and everyone around it, all fresh. */
struct world {
	char		*admin;
	char		*agency;	/* the admin's: keyworker's, lead agency */
	char		*agency_t;	/* the TAF members' */
	char		*area;
	struct person	 manager;	/* the keyworker's line manager */
	struct person	 keyworker;
	struct person	 taf;		/* full-access TAF member */
	struct person	 limited;	/* limited-access TAF member */
	struct person	 coord;		/* the area's coordinator */
	struct person	 stranger;	/* a practitioner with no place */
	char		*episode;
	char		 family[128];
	char		 parent[128];	/* the members' given names */
	char		 kid1[128];
	char		 kid2[128];
	char		*parent_id;	/* and their ids */
	char		*kid1_id;
	char		*kid2_id;
	char		 registered_at[64];
};

static struct resp	*send_json(const char *, const char *, const char *,
			    const char *, const char *);
static struct resp	*get(const char *, const char *);
static struct resp	*post_empty(const char *, const char *);
static char		*new_area(const char *);
static char		*new_agency(const char *);
static void		 person_new(struct person *, struct world *,
			    const char *, const char *, const char *);
static void		 person_free(struct person *);
static void		 world_open(struct world *);
static void		 world_close(struct world *);
static void		 add_team(struct world *, const char *, const char *);
static json_t		*episode_of(struct world *, const char *);
static json_t		*deadline(json_t *, const char *, const char *);
static int		 count_kind(json_t *, const char *);
static void		 assert_deadline(json_t *, const char *, const char *,
			    const char *, int, int);
static json_t		*find_item(json_t *, const char *, const char *);
static json_t		*find_string(json_t *, const char *);
static void		 assert_rule(struct resp *, const char *, const char *);
static char		*etag_of(struct resp *);
static time_t		 ts_epoch(const char *);
static void		 london_date(time_t, int, char *, size_t);
static void		 now_utc(int, char *, size_t);
static void		 sha256_hex(const void *, size_t, char *);
static char		*create_meeting(struct world *, const char *,
			    const char *, json_t *, char **, const char *);
static json_t		*invitee(json_t *, const char *, const char *);
static char		*upload(struct world *, const char *, const char *,
			    const void *, size_t, const char *);
static json_t		*list_all(const char *, const char *);
static json_t		*holidays_of(const char *);

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

	body = kwt_json("{s:s, s:s}", "name", kwt_unique(), "kind", "health");
	r = send_json("POST", "/v1/agencies", admin, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "new agency: %ld %s", r->status, r->raw);
	id = strdup(kwt_str(r, "id"));
	kwt_free(r);
	return id;
}

/* A new account with roles (a JSON array text), signed in. */
static void
person_new(struct person *p, struct world *w, const char *roles,
    const char *agency, const char *manager)
{
	struct resp	*r;
	json_error_t	 err;
	json_t		*j;
	char		 email[160], *body;

	snprintf(email, sizeof(email), "jr-%s@test.example.org", kwt_unique());
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "email", email,
	    "name", "Journey Tester", "password", USER_PASSWORD,
	    "agency_id", agency != NULL ? agency : w->agency,
	    "area_id", w->area, "roles", json_loads(roles, 0, &err));
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

/*
 * Fresh area and agency, the people, and a family of three (a mother and
 * two children) registered by the keyworker, with the full and the limited
 * member on its team.
 */
static void
world_open(struct world *w)
{
	struct resp	*r;
	json_t		*m;
	char		*body, when[32], u[64];
	size_t		 i;

	memset(w, 0, sizeof(*w));
	w->admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	r = get("/v1/me", w->admin);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	w->agency = strdup(kwt_str(r, "agency_id"));
	kwt_free(r);
	w->area = new_area(w->admin);
	w->agency_t = new_agency(w->admin);
	person_new(&w->manager, w, "[\"manager\"]", NULL, NULL);
	person_new(&w->keyworker, w, "[\"practitioner\"]", NULL,
	    w->manager.id);
	person_new(&w->taf, w, "[\"practitioner\"]", w->agency_t, NULL);
	person_new(&w->limited, w, "[\"practitioner\"]", w->agency_t, NULL);
	person_new(&w->coord, w, "[\"coordinator\"]", NULL, NULL);
	person_new(&w->stranger, w, "[\"practitioner\"]", NULL, NULL);

	snprintf(u, sizeof(u), "%s", kwt_unique());
	snprintf(w->family, sizeof(w->family), "Jrn%s", u);
	snprintf(w->parent, sizeof(w->parent), "Mum%s", u);
	snprintf(w->kid1, sizeof(w->kid1), "Ada%s", u);
	snprintf(w->kid2, sizeof(w->kid2), "Ben%s", u);
	now_utc(-3600, when, sizeof(when));
	body = kwt_json("{s:{s:s, s:s, s:s},"
	    " s:[{s:s, s:s, s:s, s:s, s:b}, {s:s, s:s, s:s, s:s, s:b},"
	    " {s:s, s:s, s:s, s:s, s:b}],"
	    " s:s, s:s, s:{s:s, s:s, s:s}}",
	    "family", "name", w->family, "area_id", w->area, "postcode",
	    "JR1 2NY",
	    "members",
	    "given_name", w->parent, "family_name", w->family,
	    "date_of_birth", "1988-03-04", "relationship", "mother",
	    "is_child", 0,
	    "given_name", w->kid1, "family_name", w->family,
	    "date_of_birth", "2014-05-06", "relationship", "daughter",
	    "is_child", 1,
	    "given_name", w->kid2, "family_name", w->family,
	    "date_of_birth", "2019-07-08", "relationship", "son",
	    "is_child", 1,
	    "keyworker_id", w->keyworker.id, "lead_agency_id", w->agency,
	    "verbal_consent", "obtained_at", when, "given_by", w->parent,
	    "statement", "Agreed to early help.");
	r = send_json("POST", "/v1/episodes", w->keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "register: %ld %s", r->status, r->raw);
	w->episode = strdup(kwt_str(r, "id"));
	snprintf(w->registered_at, sizeof(w->registered_at), "%s",
	    kwt_str(r, "registered_at"));
	json_array_foreach(json_object_get(r->json, "members"), i, m) {
		const char	*g = json_string_value(json_object_get(m,
				    "given_name"));
		char		*id = strdup(json_string_value(
				    json_object_get(m, "id")));

		if (strcmp(g, w->parent) == 0)
			w->parent_id = id;
		else if (strcmp(g, w->kid1) == 0)
			w->kid1_id = id;
		else if (strcmp(g, w->kid2) == 0)
			w->kid2_id = id;
		else
			free(id);
	}
	cr_assert(w->parent_id != NULL && w->kid1_id != NULL &&
	    w->kid2_id != NULL, "members: %s", r->raw);
	kwt_free(r);

	add_team(w, w->taf.id, "full");
	add_team(w, w->limited.id, "limited");
}

static void
world_close(struct world *w)
{
	free(w->admin);
	free(w->agency);
	free(w->agency_t);
	free(w->area);
	person_free(&w->manager);
	person_free(&w->keyworker);
	person_free(&w->taf);
	person_free(&w->limited);
	person_free(&w->coord);
	person_free(&w->stranger);
	free(w->episode);
	free(w->parent_id);
	free(w->kid1_id);
	free(w->kid2_id);
}

static void
add_team(struct world *w, const char *user, const char *level)
{
	struct resp	*r;
	char		*body, path[128];

	snprintf(path, sizeof(path), "/v1/episodes/%s/team", w->episode);
	body = kwt_json("{s:s, s:s}", "user_id", user, "level", level);
	r = send_json("POST", path, w->keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "add to team: %ld %s", r->status, r->raw);
	kwt_free(r);
}

/* GET /v1/episodes/{id} as tok, asserting 200 (caller decrefs). */
static json_t *
episode_of(struct world *w, const char *tok)
{
	struct resp	*r;
	json_t		*j;
	char		 path[128];

	snprintf(path, sizeof(path), "/v1/episodes/%s", w->episode);
	r = get(path, tok);
	cr_assert_eq(r->status, 200, "GET episode: %ld %s", r->status, r->raw);
	cr_assert(json_is_array(json_object_get(r->json, "deadlines")),
	    "full access without deadlines: %s", r->raw);
	j = json_incref(r->json);
	kwt_free(r);
	return j;
}

/*
 * The deadline of kind (about subject, or about none when NULL) in the
 * episode's deadlines (borrowed), or NULL. Asserts there is at most one.
 */
static json_t *
deadline(json_t *ep, const char *kind, const char *subject)
{
	json_t		*d, *found = NULL;
	const char	*s;
	size_t		 i;

	json_array_foreach(json_object_get(ep, "deadlines"), i, d) {
		if (strcmp(json_string_value(json_object_get(d, "kind")),
		    kind) != 0)
			continue;
		s = json_string_value(json_object_get(d, "subject_id"));
		if (subject == NULL ? s != NULL :
		    s == NULL || strcmp(s, subject) != 0)
			continue;
		cr_assert_null(found, "two %s deadlines", kind);
		found = d;
	}
	return found;
}

static int
count_kind(json_t *ep, const char *kind)
{
	json_t	*d;
	size_t	 i;
	int	 n = 0;

	json_array_foreach(json_object_get(ep, "deadlines"), i, d)
		if (strcmp(json_string_value(json_object_get(d, "kind")),
		    kind) == 0)
			n++;
	return n;
}

/*
 * The episode has the deadline kind/subject due on due; met (1) or not
 * (0), and when met, late (1) or not (0).
 */
static void
assert_deadline(json_t *ep, const char *kind, const char *subject,
    const char *due, int met, int late)
{
	json_t		*d = deadline(ep, kind, subject);
	char		*dump;
	char		 key[256];

	dump = json_dumps(json_object_get(ep, "deadlines"), JSON_COMPACT);
	cr_assert_not_null(d, "no %s deadline (%s): %s", kind,
	    subject != NULL ? subject : "episode", dump);
	cr_assert_str_eq(json_string_value(json_object_get(d, "due")), due,
	    "%s due: %s", kind, dump);
	cr_assert_str_eq(json_string_value(json_object_get(d, "episode_id")),
	    json_string_value(json_object_get(ep, "id")));
	cr_assert_str_eq(json_string_value(json_object_get(d, "keyworker_id")),
	    json_string_value(json_object_get(ep, "keyworker_id")));
	if (met) {
		cr_assert(json_is_string(json_object_get(d, "met_at")),
		    "%s should be met: %s", kind, dump);
		cr_assert_eq(json_is_true(json_object_get(d, "met_late")),
		    late, "%s met_late should be %d: %s", kind, late, dump);
		cr_assert(json_is_false(json_object_get(d, "overdue")),
		    "%s is met, not overdue: %s", kind, dump);
	} else {
		cr_assert(json_is_null(json_object_get(d, "met_at")),
		    "%s should not be met: %s", kind, dump);
		cr_assert(json_is_false(json_object_get(d, "met_late")),
		    "%s: %s", kind, dump);
	}
	/* The key names the episode, the kind and the subject. */
	snprintf(key, sizeof(key), "%s:", json_string_value(
	    json_object_get(ep, "id")));
	cr_assert(strncmp(json_string_value(json_object_get(d, "key")), key,
	    strlen(key)) == 0, "%s key: %s", kind, dump);
	if (subject != NULL)
		cr_assert_not_null(strstr(json_string_value(json_object_get(d,
		    "key")), subject), "%s key: %s", kind, dump);
	free(dump);
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

/* The string value in array items (borrowed), or NULL. */
static json_t *
find_string(json_t *items, const char *value)
{
	json_t	*item;
	size_t	 i;

	json_array_foreach(items, i, item)
		if (json_is_string(item) && strcmp(json_string_value(item),
		    value) == 0)
			return item;
	return NULL;
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

/* The response's ETag (caller frees), asserting it has one. */
static char *
etag_of(struct resp *r)
{
	const char	*e = kwt_header(r, "ETag");

	cr_assert(e != NULL && *e != '\0', "no ETag: %s", r->headers);
	return strdup(e);
}

/* An RFC 3339 time as seconds since the epoch. */
static time_t
ts_epoch(const char *ts)
{
	struct tm	 tm;
	const char	*p;
	int		 y, mo, d, h, mi, s, n = 0, oh = 0, om = 0, sign = 0;

	cr_assert_not_null(ts);
	cr_assert_eq(sscanf(ts, "%d-%d-%dT%d:%d:%d%n", &y, &mo, &d, &h, &mi,
	    &s, &n), 6, "not a time: %s", ts);
	p = ts + n;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		cr_assert_eq(sscanf(p + 1, "%d:%d", &oh, &om), 2, "%s", ts);
	} else
		cr_assert(*p == 'Z' || *p == 'z', "no offset: %s", ts);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm) - sign * (oh * 3600 + om * 60);
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

/* Now plus offset seconds, RFC 3339 in UTC. */
static void
now_utc(int offset, char *out, size_t outlen)
{
	struct tm	tm;
	time_t		t = time(NULL) + offset;

	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
sha256_hex(const void *p, size_t len, char *out)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0, i;

	cr_assert_eq(EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL), 1);
	cr_assert_eq(mdlen, 32);
	for (i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/*
 * POST /v1/episodes/{id}/meetings as tok at `at`, inviting invitees (a
 * JSON object, stolen); asserts 201 and kind. The meeting's id and, in
 * *etag, its ETag (caller frees both).
 */
static char *
create_meeting(struct world *w, const char *tok, const char *at,
    json_t *invitees, char **etag, const char *kind)
{
	struct resp	*r;
	json_t		*j;
	char		*body, *id, path[128];

	snprintf(path, sizeof(path), "/v1/episodes/%s/meetings", w->episode);
	j = json_pack("{s:s, s:s, s:b, s:o}", "scheduled_at", at,
	    "venue", "Children's centre, room 2", "family_can_attend", 1,
	    "invitees", invitees);
	cr_assert_not_null(j);
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	r = send_json("POST", path, tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "meeting: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "kind"), kind, "%s", r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "scheduled");
	cr_assert_eq(ts_epoch(kwt_str(r, "scheduled_at")), ts_epoch(at));
	id = strdup(kwt_str(r, "id"));
	*etag = etag_of(r);
	kwt_free(r);
	return id;
}

/* The invitee of meeting m for user (or member, when user is NULL). */
static json_t *
invitee(json_t *m, const char *user, const char *member)
{
	json_t	*i = user != NULL ?
		    find_item(json_object_get(m, "invitees"), "user_id", user) :
		    find_item(json_object_get(m, "invitees"), "member_id",
		    member);

	cr_assert_not_null(i, "not invited: %s", json_dumps(m, 0));
	return i;
}

/*
 * Upload len bytes as tok with content type ct, asserting 201 and the
 * SHA-256; the document's id (caller frees). header: one extra, or NULL.
 */
static char *
upload(struct world *w, const char *tok, const char *ct, const void *data,
    size_t len, const char *header)
{
	struct resp	*r;
	const char	*h[2] = { header, NULL };
	char		 path[256], sha[65], *id;

	snprintf(path, sizeof(path),
	    "/v1/episodes/%s/documents?filename=ffa-report_1.pdf", w->episode);
	r = kwt_request_bin("POST", path, tok, ct, data, len,
	    header != NULL ? h : NULL);
	cr_assert_eq(r->status, 201, "upload: %ld %s", r->status, r->raw);
	sha256_hex(data, len, sha);
	cr_assert_str_eq(kwt_str(r, "sha256"), sha);
	cr_assert_eq(json_integer_value(json_object_get(r->json,
	    "size_bytes")), (json_int_t)len, "%s", r->raw);
	id = strdup(kwt_str(r, "id"));
	kwt_free(r);
	return id;
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

/* GET /v1/calendar/holidays as tok, asserting 200 (caller decrefs). */
static json_t *
holidays_of(const char *tok)
{
	struct resp	*r;
	json_t		*j;

	r = get("/v1/calendar/holidays", tok);
	cr_assert_eq(r->status, 200, "holidays: %ld %s", r->status, r->raw);
	j = json_incref(json_object_get(r->json, "holidays"));
	kwt_free(r);
	return j;
}

Test(journey, one_family_from_registration_to_review, .timeout = 300)
{
	struct world	 w;
	struct resp	*r;
	json_t		*ep, *j, *m, *a, *voices, *miss, *areas, *area_a, *area_b;
	const char	*h1[2] = { NULL, NULL };
	char		 path[256], ipath[256], due[16], today[16], now[32];
	char		 action_due1[16], action_due2[16], hdr[128];
	char		 area1[37], area2[37];
	char		*body, *etag, *m1, *m1_etag, *m2, *m2_etag, *act1, *act2;
	char		*act1_etag;
	size_t		 i;

	world_open(&w);
	london_date(time(NULL), 0, today, sizeof(today));

	/*
	 * Registered: the assessment due in 21 days, the first TAF meeting
	 * in 42, both unmet, and nothing else due yet.
	 */
	ep = episode_of(&w, w.keyworker.tok);
	cr_assert_str_eq(json_string_value(json_object_get(ep, "status")),
	    "registered");
	london_date(ts_epoch(w.registered_at), 21, due, sizeof(due));
	assert_deadline(ep, "assessment", NULL, due, 0, 0);
	cr_assert_str_eq(json_string_value(json_object_get(ep,
	    "assessment_due")), due);
	london_date(ts_epoch(w.registered_at), 42, due, sizeof(due));
	assert_deadline(ep, "first_taf_meeting", NULL, due, 0, 0);
	cr_assert_str_eq(json_string_value(json_object_get(ep,
	    "first_taf_meeting_due")), due);
	cr_assert_eq(json_array_size(json_object_get(ep, "deadlines")), 2,
	    "%s", json_dumps(ep, 0));
	j = deadline(ep, "assessment", NULL);
	cr_assert_str_eq(json_string_value(json_object_get(j, "reminds")),
	    w.keyworker.id);
	cr_assert(json_is_false(json_object_get(j, "overdue")));
	json_decref(ep);

	/* The assessment, not started: ETag "0", everyone's voice missing. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/assessment", w.episode);
	r = get(path, w.keyworker.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "not_started");
	cr_assert_str_eq(kwt_header(r, "ETag"), "\"0\"");
	cr_assert_str_eq(kwt_str(r, "episode_id"), w.episode);
	cr_assert_eq(json_array_size(json_object_get(r->json, "voices")), 0);
	cr_assert_eq(json_array_size(json_object_get(r->json,
	    "voices_missing")), 3, "%s", r->raw);
	kwt_free(r);

	/* A draft with the mother's voice: the children's still missing. */
	body = kwt_json("{s:s, s:s, s:s, s:[{s:s, s:s}]}",
	    "strengths", "Warm relationships; a supportive grandmother.",
	    "needs", "Ada's school attendance; housing damp.",
	    "priorities", "Attendance first, then the housing repair.",
	    "voices", "member_id", w.parent_id, "in_own_words",
	    "I want the mornings to be less of a battle.");
	r = send_json("PUT", path, w.keyworker.tok, body, "If-Match: \"0\"");
	free(body);
	cr_assert_eq(r->status, 200, "draft: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "draft");
	cr_assert_str_eq(kwt_str(r, "needs"),
	    "Ada's school attendance; housing damp.");
	miss = json_object_get(r->json, "voices_missing");
	cr_assert_eq(json_array_size(miss), 2, "%s", r->raw);
	cr_assert_not_null(find_string(miss, w.kid1_id), "%s", r->raw);
	cr_assert_not_null(find_string(miss, w.kid2_id), "%s", r->raw);
	cr_assert_null(find_string(miss, w.parent_id), "%s", r->raw);
	cr_assert(json_is_null(json_object_get(r->json, "completed_at")));
	etag = etag_of(r);
	cr_assert_str_neq(etag, "\"0\"");
	kwt_free(r);

	/* Not complete without every member's voice: who is missing. */
	snprintf(ipath, sizeof(ipath), "/v1/episodes/%s/assessment/complete",
	    w.episode);
	r = post_empty(ipath, w.keyworker.tok);
	assert_rule(r, "assessment_voice_of_every_member", "complete early");
	miss = json_object_get(r->json, "missing_members");
	cr_assert(json_is_array(miss) && json_array_size(miss) == 2,
	    "missing_members: %s", r->raw);
	cr_assert_not_null(find_item(miss, "member_id", w.kid1_id), "%s",
	    r->raw);
	cr_assert_not_null(find_item(miss, "member_id", w.kid2_id), "%s",
	    r->raw);
	cr_assert_null(find_item(miss, "member_id", w.parent_id), "%s",
	    r->raw);
	kwt_free(r);

	/* A stale If-Match is refused. */
	body = kwt_json("{s:s}", "strengths", "stale");
	r = send_json("PUT", path, w.keyworker.tok, body, "If-Match: \"0\"");
	free(body);
	cr_assert_eq(r->status, 412, "stale: %ld %s", r->status, r->raw);
	kwt_free(r);

	/*
	 * Every voice: the little one's given by a professional, with how
	 * it was obtained.
	 */
	j = json_pack("{s:s, s:s, s:s, s:["
	    "{s:s, s:s}, {s:s, s:s}, {s:s, s:s, s:s, s:s}]}",
	    "strengths", "Warm relationships; a supportive grandmother.",
	    "needs", "Ada's school attendance; housing damp.",
	    "priorities", "Attendance first, then the housing repair.",
	    "voices",
	    "member_id", w.parent_id, "in_own_words",
	    "I want the mornings to be less of a battle.",
	    "member_id", w.kid1_id, "in_own_words", "School is boring.",
	    "member_id", w.kid2_id, "given_by", "Health visitor",
	    "how_obtained", "Play session at home", "voice",
	    "Ben drew his family and said he likes his bed.");
	cr_assert_not_null(j);
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	snprintf(hdr, sizeof(hdr), "If-Match: %s", etag);
	r = send_json("PUT", path, w.keyworker.tok, body, hdr);
	free(body);
	free(etag);
	cr_assert_eq(r->status, 200, "all voices: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "draft");
	cr_assert_eq(json_array_size(json_object_get(r->json,
	    "voices_missing")), 0, "%s", r->raw);
	voices = json_object_get(r->json, "voices");
	cr_assert_eq(json_array_size(voices), 3, "%s", r->raw);
	j = find_item(voices, "member_id", w.kid2_id);
	cr_assert_not_null(j);
	cr_assert_str_eq(json_string_value(json_object_get(j, "given_by")),
	    "Health visitor");
	cr_assert_str_eq(json_string_value(json_object_get(j,
	    "how_obtained")), "Play session at home");
	cr_assert_str_eq(json_string_value(json_object_get(j, "voice")),
	    "Ben drew his family and said he likes his bed.");
	etag = etag_of(r);
	kwt_free(r);

	r = post_empty(ipath, w.keyworker.tok);
	cr_assert_eq(r->status, 200, "complete: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "complete");
	cr_assert_str_eq(kwt_str(r, "completed_by"), w.keyworker.id);
	snprintf(now, sizeof(now), "%s", kwt_str(r, "completed_at"));
	free(etag);
	etag = etag_of(r);
	kwt_free(r);
	r = post_empty(ipath, w.keyworker.tok);
	cr_assert_eq(r->status, 409, "complete twice: %ld %s", r->status,
	    r->raw);
	kwt_free(r);

	/* A completed assessment no longer changes. */
	body = kwt_json("{s:s}", "strengths", "rewritten");
	snprintf(hdr, sizeof(hdr), "If-Match: %s", etag);
	r = send_json("PUT", path, w.keyworker.tok, body, hdr);
	free(body);
	free(etag);
	assert_rule(r, "assessment_completed", "PUT after completion");
	kwt_free(r);

	/*
	 * Assessed: the assessment deadline met on time, written consent
	 * now due, on the day of completion.
	 */
	ep = episode_of(&w, w.keyworker.tok);
	cr_assert_str_eq(json_string_value(json_object_get(ep, "status")),
	    "assessed");
	cr_assert(json_is_string(json_object_get(ep,
	    "assessment_completed_at")));
	london_date(ts_epoch(w.registered_at), 21, due, sizeof(due));
	assert_deadline(ep, "assessment", NULL, due, 1, 0);
	london_date(ts_epoch(now), 0, due, sizeof(due));
	cr_assert_str_eq(due, today, "completed today");
	assert_deadline(ep, "written_consent", NULL, today, 0, 0);
	json_decref(ep);

	snprintf(path, sizeof(path), "/v1/episodes/%s/consents", w.episode);
	now_utc(-60, now, sizeof(now));
	body = kwt_json("{s:s, s:s, s:s, s:s}", "kind", "written",
	    "given_by", w.parent, "obtained_at", now, "statement",
	    "Signed the consent form for sharing with the TAF.");
	r = send_json("POST", path, w.keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "consent: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "kind"), "written");
	cr_assert_str_eq(kwt_str(r, "recorded_by"), w.keyworker.id);
	cr_assert_str_eq(kwt_str(r, "episode_id"), w.episode);
	kwt_free(r);
	j = list_all(path, w.keyworker.tok);
	cr_assert_not_null(find_item(j, "kind", "written"), "%s",
	    json_dumps(j, 0));
	json_decref(j);
	ep = episode_of(&w, w.keyworker.tok);
	assert_deadline(ep, "written_consent", NULL, today, 1, 0);
	json_decref(ep);

	/*
	 * The initial TAF meeting: not before the family is asked whether
	 * they can attend.
	 */
	snprintf(path, sizeof(path), "/v1/episodes/%s/meetings", w.episode);
	body = kwt_json("{s:s, s:s, s:b, s:{s:[s]}}", "scheduled_at",
	    MEETING1_AT, "venue", "Children's centre", "family_can_attend", 0,
	    "invitees", "user_ids", w.keyworker.id);
	r = send_json("POST", path, w.keyworker.tok, body, NULL);
	free(body);
	assert_rule(r, "family_can_attend", "family cannot attend");
	kwt_free(r);
	m1 = create_meeting(&w, w.keyworker.tok, MEETING1_AT,
	    json_pack("{s:[s, s], s:[s]}", "user_ids", w.keyworker.id,
	    w.taf.id, "member_ids", w.parent_id), &m1_etag, "initial");

	/* Held, on the day it was scheduled: the first meeting is met. */
	snprintf(path, sizeof(path), "/v1/meetings/%s", m1);
	r = send_json("PATCH", path, w.keyworker.tok, "{\"status\":\"held\"}",
	    "If-Match: \"999\"");
	cr_assert_eq(r->status, 412, "stale meeting: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	snprintf(hdr, sizeof(hdr), "If-Match: %s", m1_etag);
	r = send_json("PATCH", path, w.keyworker.tok, "{\"status\":\"held\"}",
	    hdr);
	cr_assert_eq(r->status, 200, "held: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "held");
	cr_assert_eq(ts_epoch(kwt_str(r, "held_at")), ts_epoch(MEETING1_AT));
	kwt_free(r);
	ep = episode_of(&w, w.keyworker.tok);
	london_date(ts_epoch(w.registered_at), 42, due, sizeof(due));
	assert_deadline(ep, "first_taf_meeting", NULL, due, 1, 0);
	cr_assert_eq(ts_epoch(json_string_value(json_object_get(ep,
	    "first_taf_meeting_held_at"))), ts_epoch(MEETING1_AT));
	json_decref(ep);

	/* Attendance: the TAF member sent apologies and a report. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/meetings", w.episode);
	j = list_all(path, w.keyworker.tok);
	m = find_item(j, "id", m1);
	cr_assert_not_null(m);
	cr_assert_eq(json_array_size(json_object_get(m, "invitees")), 3);
	body = kwt_json("{s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s, s:s, s:s}]}",
	    "attendance",
	    "invitee_id", json_string_value(json_object_get(invitee(m,
	    w.keyworker.id, NULL), "id")), "attendance", "attended",
	    "invitee_id", json_string_value(json_object_get(invitee(m, NULL,
	    w.parent_id), "id")), "attendance", "attended",
	    "invitee_id", json_string_value(json_object_get(invitee(m,
	    w.taf.id, NULL), "id")), "attendance", "apologies",
	    "apologies", "Clinic overran.", "report",
	    "Ben's weight is on track; immunisations up to date.");
	json_decref(j);
	snprintf(path, sizeof(path), "/v1/meetings/%s/attendance", m1);
	r = send_json("PUT", path, w.keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 200, "attendance: %ld %s", r->status, r->raw);
	j = invitee(r->json, w.taf.id, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(j, "attendance")),
	    "apologies");
	cr_assert_str_eq(json_string_value(json_object_get(j, "apologies")),
	    "Clinic overran.");
	cr_assert_str_eq(json_string_value(json_object_get(j, "report")),
	    "Ben's weight is on track; immunisations up to date.");
	j = invitee(r->json, NULL, w.parent_id);
	cr_assert_str_eq(json_string_value(json_object_get(j, "attendance")),
	    "attended");
	kwt_free(r);

	/*
	 * Held on Friday 28 August: outcomes due three working days on,
	 * over the bank holiday (Thu 3 Sep), the plan shared within five
	 * (Mon 7 Sep), the review 42 days on (Fri 9 Oct). Long past: the
	 * outcomes are overdue.
	 */
	ep = episode_of(&w, w.keyworker.tok);
	assert_deadline(ep, "meeting_outcomes", m1, MEETING1_OUTCOMES_DUE, 0,
	    0);
	cr_assert(json_is_true(json_object_get(deadline(ep,
	    "meeting_outcomes", m1), "overdue")));
	assert_deadline(ep, "plan_shared", m1, MEETING1_PLAN_DUE, 0, 0);
	assert_deadline(ep, "plan_review", m1, MEETING1_REVIEW_DUE, 0, 0);
	cr_assert(json_is_true(json_object_get(ep, "overdue")));
	json_decref(ep);

	/* Outcomes need the family's comments (the schema says so). */
	snprintf(path, sizeof(path), "/v1/meetings/%s/outcomes", m1);
	body = kwt_json("{s:s, s:[]}", "decisions", "Plan agreed.",
	    "actions");
	r = send_json("POST", path, w.keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 400, "no family comments: %ld %s", r->status,
	    r->raw);
	kwt_free(r);

	london_date(time(NULL), 30, action_due1, sizeof(action_due1));
	london_date(time(NULL), 60, action_due2, sizeof(action_due2));
	body = kwt_json("{s:s, s:s, s:s, s:["
	    "{s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}]}",
	    "decisions", "Focus on attendance; refer the damp to housing.",
	    "family_comments_meeting", "It helped to have everyone there.",
	    "family_comments_actions", "The morning routine will be hard.",
	    "actions",
	    "what", "Weekly health check-in with Ben", "owner_user_id",
	    w.taf.id, "measure", "Four check-ins logged", "due_date",
	    action_due1,
	    "what", "Morning routine chart on the fridge", "owner_member_id",
	    w.parent_id, "measure", "Ada at school by 8:50 for 4 weeks",
	    "due_date", action_due2);
	r = send_json("POST", path, w.keyworker.tok, body, NULL);
	cr_assert_eq(r->status, 200, "outcomes: %ld %s", r->status, r->raw);
	cr_assert(json_is_string(json_object_get(r->json,
	    "outcomes_recorded_at")));
	cr_assert_str_eq(kwt_str(r, "family_comments_meeting"),
	    "It helped to have everyone there.");
	cr_assert_str_eq(kwt_str(r, "family_comments_actions"),
	    "The morning routine will be hard.");
	a = json_object_get(r->json, "actions");
	cr_assert_eq(json_array_size(a), 2, "%s", r->raw);
	j = find_item(a, "owner_user_id", w.taf.id);
	cr_assert_not_null(j, "%s", r->raw);
	act1 = strdup(json_string_value(json_object_get(j, "id")));
	cr_assert_str_eq(json_string_value(json_object_get(j, "meeting_id")),
	    m1);
	cr_assert_str_eq(json_string_value(json_object_get(j, "status")),
	    "not_started");
	cr_assert_str_eq(json_string_value(json_object_get(j, "due_date")),
	    action_due1);
	j = find_item(a, "owner_member_id", w.parent_id);
	cr_assert_not_null(j, "%s", r->raw);
	act2 = strdup(json_string_value(json_object_get(j, "id")));
	cr_assert(json_is_null(json_object_get(j, "owner_user_id")));
	free(m1_etag);
	m1_etag = etag_of(r);
	kwt_free(r);

	/* Recorded once only. */
	r = send_json("POST", path, w.keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 409, "outcomes twice: %ld %s", r->status,
	    r->raw);
	kwt_free(r);

	/*
	 * A plan in place. The outcomes deadline is met, late; each action
	 * is due on its date, reminding its owner.
	 */
	ep = episode_of(&w, w.keyworker.tok);
	cr_assert_str_eq(json_string_value(json_object_get(ep, "status")),
	    "plan_in_place");
	assert_deadline(ep, "meeting_outcomes", m1, MEETING1_OUTCOMES_DUE, 1,
	    1);
	assert_deadline(ep, "plan_shared", m1, MEETING1_PLAN_DUE, 0, 0);
	assert_deadline(ep, "action_due", act1, action_due1, 0, 0);
	assert_deadline(ep, "action_due", act2, action_due2, 0, 0);
	cr_assert_str_eq(json_string_value(json_object_get(deadline(ep,
	    "action_due", act1), "reminds")), w.taf.id);
	json_decref(ep);

	/* The plan shared with the family (today: late). */
	snprintf(path, sizeof(path), "/v1/meetings/%s", m1);
	now_utc(-60, now, sizeof(now));
	body = kwt_json("{s:s}", "plan_shared_at", now);
	snprintf(hdr, sizeof(hdr), "If-Match: %s", m1_etag);
	r = send_json("PATCH", path, w.keyworker.tok, body, hdr);
	free(body);
	cr_assert_eq(r->status, 200, "plan shared: %ld %s", r->status, r->raw);
	cr_assert_eq(ts_epoch(kwt_str(r, "plan_shared_at")), ts_epoch(now));
	kwt_free(r);
	ep = episode_of(&w, w.keyworker.tok);
	assert_deadline(ep, "plan_shared", m1, MEETING1_PLAN_DUE, 1, 1);
	json_decref(ep);

	/*
	 * Progress on the actions: the TAF member who owns one reports it
	 * (with the ETag a new action has: nothing else gives one), the
	 * keyworker marks it done.
	 */
	snprintf(path, sizeof(path), "/v1/episodes/%s/actions", w.episode);
	j = list_all(path, w.keyworker.tok);
	cr_assert_eq(json_array_size(j), 2, "%s", json_dumps(j, 0));
	cr_assert_not_null(find_item(j, "id", act1));
	cr_assert_not_null(find_item(j, "id", act2));
	json_decref(j);
	snprintf(path, sizeof(path), "/v1/actions/%s", act1);
	body = kwt_json("{s:s, s:s}", "status", "in_progress", "progress",
	    "First two check-ins done.");
	r = send_json("PATCH", path, w.taf.tok, body, "If-Match: \"1\"");
	cr_assert_eq(r->status, 200, "progress: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "in_progress");
	cr_assert(json_is_null(json_object_get(r->json, "completed_at")));
	a = json_object_get(r->json, "updates");
	cr_assert_eq(json_array_size(a), 1, "%s", r->raw);
	j = json_array_get(a, 0);
	cr_assert_str_eq(json_string_value(json_object_get(j, "status")),
	    "in_progress");
	cr_assert_str_eq(json_string_value(json_object_get(j, "progress")),
	    "First two check-ins done.");
	cr_assert_str_eq(json_string_value(json_object_get(j, "by")),
	    w.taf.id);
	act1_etag = etag_of(r);
	kwt_free(r);
	r = send_json("PATCH", path, w.keyworker.tok, body, "If-Match: \"1\"");
	free(body);
	cr_assert_eq(r->status, 412, "stale action: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	body = kwt_json("{s:s, s:s}", "status", "done", "progress",
	    "All four check-ins done.");
	snprintf(hdr, sizeof(hdr), "If-Match: %s", act1_etag);
	r = send_json("PATCH", path, w.keyworker.tok, body, hdr);
	free(body);
	cr_assert_eq(r->status, 200, "done: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "done");
	cr_assert(json_is_string(json_object_get(r->json, "completed_at")),
	    "%s", r->raw);
	cr_assert(json_is_false(json_object_get(r->json, "overdue")));
	cr_assert_eq(json_array_size(json_object_get(r->json, "updates")), 2);
	kwt_free(r);
	ep = episode_of(&w, w.keyworker.tok);
	assert_deadline(ep, "action_due", act1, action_due1, 1, 0);
	assert_deadline(ep, "action_due", act2, action_due2, 0, 0);
	json_decref(ep);

	/*
	 * Outcome scores: at the initial meeting, and better ones later;
	 * per area the first, the latest and the change.
	 */
	/*
	 * Two areas of this test's own (an admin adds them), so that no
	 * other test retiring one can get in the way; everyone lists them.
	 */
	for (i = 0; i < 2; i++) {
		snprintf(hdr, sizeof(hdr), "Area %s", kwt_unique());
		body = kwt_json("{s:s}", "name", hdr);
		r = send_json("POST", "/v1/outcome-areas", w.admin, body, NULL);
		free(body);
		cr_assert_eq(r->status, 201, "outcome area: %ld %s", r->status,
		    r->raw);
		snprintf(i == 0 ? area1 : area2, 37, "%s", kwt_str(r, "id"));
		kwt_free(r);
	}
	areas = list_all("/v1/outcome-areas", w.keyworker.tok);
	area_a = find_item(areas, "id", area1);
	area_b = find_item(areas, "id", area2);
	cr_assert(area_a != NULL && area_b != NULL, "areas not listed: %s",
	    json_dumps(areas, 0));
	cr_assert(json_is_true(json_object_get(area_a, "active")));
	snprintf(path, sizeof(path), "/v1/episodes/%s/outcome-scores",
	    w.episode);
	body = kwt_json("{s:s, s:s, s:[{s:s, s:i}, {s:s, s:i}]}",
	    "scored_on", "2026-08-28", "meeting_id", m1, "scores",
	    "area_id", json_string_value(json_object_get(area_a, "id")),
	    "score", 3,
	    "area_id", json_string_value(json_object_get(area_b, "id")),
	    "score", 5);
	r = send_json("POST", path, w.keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "scores: %ld %s", r->status, r->raw);
	kwt_free(r);
	london_date(time(NULL), -1, due, sizeof(due));
	body = kwt_json("{s:s, s:[{s:s, s:i}, {s:s, s:i}]}",
	    "scored_on", due, "scores",
	    "area_id", json_string_value(json_object_get(area_a, "id")),
	    "score", 6,
	    "area_id", json_string_value(json_object_get(area_b, "id")),
	    "score", 7);
	r = send_json("POST", path, w.keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "scores: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = get(path, w.keyworker.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 4,
	    "%s", r->raw);
	a = json_object_get(r->json, "by_area");
	cr_assert_eq(json_array_size(a), 2, "%s", r->raw);
	j = find_item(a, "area_id", json_string_value(json_object_get(area_a,
	    "id")));
	cr_assert_not_null(j, "%s", r->raw);
	cr_assert_eq(json_integer_value(json_object_get(j, "first_score")), 3);
	cr_assert_str_eq(json_string_value(json_object_get(j, "first_on")),
	    "2026-08-28");
	cr_assert_eq(json_integer_value(json_object_get(j, "latest_score")), 6);
	cr_assert_str_eq(json_string_value(json_object_get(j, "latest_on")),
	    due);
	cr_assert_eq(json_integer_value(json_object_get(j, "change")), 3);
	cr_assert_str_eq(json_string_value(json_object_get(j, "area")),
	    json_string_value(json_object_get(area_a, "name")));
	j = find_item(a, "area_id", json_string_value(json_object_get(area_b,
	    "id")));
	cr_assert_not_null(j, "%s", r->raw);
	cr_assert_eq(json_integer_value(json_object_get(j, "change")), 2);
	kwt_free(r);
	json_decref(areas);

	/*
	 * The review, arranged by the line manager: a review, not another
	 * initial meeting. Held, it meets the first meeting's review and
	 * sets the next one 42 days on.
	 */
	m2 = create_meeting(&w, w.manager.tok, MEETING2_AT,
	    json_pack("{s:[s], s:[s]}", "user_ids", w.keyworker.id,
	    "member_ids", w.parent_id), &m2_etag, "review");
	snprintf(path, sizeof(path), "/v1/meetings/%s", m2);
	snprintf(hdr, sizeof(hdr), "If-Match: %s", m2_etag);
	h1[0] = hdr;
	r = kwt_request("PATCH", path, w.manager.tok, NULL,
	    "{\"status\":\"held\"}", h1);
	cr_assert_eq(r->status, 200, "review held: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "kind"), "review");
	kwt_free(r);
	ep = episode_of(&w, w.keyworker.tok);
	cr_assert_null(deadline(ep, "plan_review", m1),
	    "the first meeting's review is met by the review: %s",
	    json_dumps(json_object_get(ep, "deadlines"), 0));
	cr_assert_eq(count_kind(ep, "plan_review"), 1);
	assert_deadline(ep, "plan_review", m2, MEETING2_REVIEW_DUE, 0, 0);
	assert_deadline(ep, "meeting_outcomes", m2, MEETING2_OUTCOMES_DUE, 0,
	    0);
	assert_deadline(ep, "plan_shared", m2, MEETING2_PLAN_DUE, 0, 0);
	/* The first meeting's are still there, met. */
	assert_deadline(ep, "meeting_outcomes", m1, MEETING1_OUTCOMES_DUE, 1,
	    1);
	assert_deadline(ep, "plan_shared", m1, MEETING1_PLAN_DUE, 1, 1);
	/* The first TAF meeting stays met by the first meeting. */
	cr_assert_eq(ts_epoch(json_string_value(json_object_get(ep,
	    "first_taf_meeting_held_at"))), ts_epoch(MEETING1_AT));
	json_decref(ep);

	/* Both meetings listed, each with its kind. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/meetings", w.episode);
	j = list_all(path, w.keyworker.tok);
	cr_assert_eq(json_array_size(j), 2);
	cr_assert_str_eq(json_string_value(json_object_get(find_item(j, "id",
	    m1), "kind")), "initial");
	cr_assert_str_eq(json_string_value(json_object_get(find_item(j, "id",
	    m2), "kind")), "review");
	json_decref(j);

	free(m1);
	free(m1_etag);
	free(m2);
	free(m2_etag);
	free(act1);
	free(act2);
	free(act1_etag);
	world_close(&w);
}

/*
 * Documents: stored as sent, NUL bytes and all, with their SHA-256; only
 * accepted types, only up to document_max_bytes; an Idempotency-Key
 * replays an upload.
 */
Test(journey, documents_are_stored_byte_for_byte, .timeout = 300)
{
	struct world	 w;
	struct resp	*r;
	json_t		*j;
	unsigned char	*data, *big;
	json_t		*v2;
	const char	*v, *h[2] = { NULL, NULL };
	char		 path[256], sha[65], key[160], hdr[200];
	char		*doc, *doc2;
	size_t		 len = 4099, i, before;

	world_open(&w);
	data = malloc(len);
	cr_assert_not_null(data);
	memcpy(data, "%PDF-1.7\n", 9);
	for (i = 9; i < len; i++)
		data[i] = (unsigned char)((i * 7) % 256);	/* NULs too */
	cr_assert(memchr(data, 0, len) != NULL);
	sha256_hex(data, len, sha);

	doc = upload(&w, w.keyworker.tok, "application/pdf", data, len, NULL);

	snprintf(path, sizeof(path), "/v1/documents/%s", doc);
	r = get(path, w.keyworker.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "id"), doc);
	cr_assert_str_eq(kwt_str(r, "episode_id"), w.episode);
	cr_assert_str_eq(kwt_str(r, "filename"), "ffa-report_1.pdf");
	cr_assert_str_eq(kwt_str(r, "content_type"), "application/pdf");
	cr_assert_str_eq(kwt_str(r, "sha256"), sha);
	cr_assert_str_eq(kwt_str(r, "uploaded_by"), w.keyworker.id);
	cr_assert_eq(json_integer_value(json_object_get(r->json,
	    "size_bytes")), (json_int_t)len);
	kwt_free(r);

	/* Downloaded byte for byte, with its digest and its name. */
	snprintf(path, sizeof(path), "/v1/documents/%s/content", doc);
	r = get(path, w.taf.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert_eq(r->len, len, "downloaded %zu bytes of %zu", r->len, len);
	cr_assert(memcmp(r->raw, data, len) == 0, "content differs");
	v = kwt_header(r, "X-Content-SHA256");
	cr_assert(v != NULL && strcmp(v, sha) == 0, "X-Content-SHA256: %s",
	    v != NULL ? v : "none");
	v = kwt_header(r, "Content-Type");
	cr_assert(v != NULL && strncmp(v, "application/pdf", 15) == 0,
	    "Content-Type: %s", v != NULL ? v : "none");
	v = kwt_header(r, "Content-Disposition");
	cr_assert(v != NULL && strstr(v, "attachment") != NULL &&
	    strstr(v, "ffa-report_1.pdf") != NULL, "Content-Disposition: %s",
	    v != NULL ? v : "none");
	kwt_free(r);

	/* Listed, details only. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/documents", w.episode);
	j = list_all(path, w.keyworker.tok);
	cr_assert_not_null(find_item(j, "id", doc));
	json_array_foreach(j, i, v2)
		cr_assert_null(json_object_get(v2, "content"), "listed with "
		    "its content");
	before = json_array_size(j);
	json_decref(j);

	/* A type not accepted: 415, and nothing stored. */
	snprintf(path, sizeof(path),
	    "/v1/episodes/%s/documents?filename=setup.exe", w.episode);
	r = kwt_request_bin("POST", path, w.keyworker.tok,
	    "application/x-msdownload", data, len, NULL);
	cr_assert_eq(r->status, 415, "exe: %ld %s", r->status, r->raw);
	kwt_free(r);

	/*
	 * One byte over document_max_bytes (10 MiB by default): 413 with a
	 * problem of keywork's own, not Kore's empty answer.
	 */
	big = calloc(1, 10 * 1024 * 1024 + 1);
	cr_assert_not_null(big);
	memcpy(big, "%PDF-1.7\n", 9);
	snprintf(path, sizeof(path),
	    "/v1/episodes/%s/documents?filename=big.pdf", w.episode);
	r = kwt_request_bin("POST", path, w.keyworker.tok, "application/pdf",
	    big, 10 * 1024 * 1024 + 1, NULL);
	cr_assert_eq(r->status, 413, "too big: %ld %s", r->status, r->raw);
	v = kwt_header(r, "Content-Type");
	cr_assert(v != NULL && strncmp(v, "application/problem+json", 24) == 0,
	    "413 as %s", v != NULL ? v : "none");
	cr_assert_not_null(strstr(r->raw, "10485760"), "%s", r->raw);
	kwt_free(r);
	/* Exactly the limit is accepted. */
	doc2 = upload(&w, w.keyworker.tok, "application/pdf", big,
	    10 * 1024 * 1024, NULL);
	free(doc2);
	free(big);

	/* A media type with parameters: the type alone is kept. */
	snprintf(path, sizeof(path),
	    "/v1/episodes/%s/documents?filename=notes.txt", w.episode);
	r = kwt_request_bin("POST", path, w.taf.tok,
	    "text/plain; charset=utf-8", "plain\0text", 10, NULL);
	cr_assert_eq(r->status, 201, "text: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "content_type"), "text/plain");
	cr_assert_str_eq(kwt_str(r, "uploaded_by"), w.taf.id);
	kwt_free(r);

	/* An upload retried with its Idempotency-Key: stored once. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/documents", w.episode);
	j = list_all(path, w.keyworker.tok);
	before = json_array_size(j);
	json_decref(j);
	snprintf(key, sizeof(key), "upload-%s", kwt_unique());
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
	free(doc);
	doc = upload(&w, w.keyworker.tok, "application/pdf", data, len, hdr);
	snprintf(path, sizeof(path),
	    "/v1/episodes/%s/documents?filename=ffa-report_1.pdf", w.episode);
	h[0] = hdr;
	r = kwt_request_bin("POST", path, w.keyworker.tok, "application/pdf",
	    data, len, h);
	cr_assert_eq(r->status, 201, "replay: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "id"), doc);
	cr_assert_str_eq(kwt_str(r, "sha256"), sha);
	v = kwt_header(r, "Idempotent-Replayed");
	cr_assert(v != NULL && strcmp(v, "true") == 0,
	    "Idempotent-Replayed: %s", v != NULL ? v : "none");
	kwt_free(r);
	/* The same key with other content is a different request: 422. */
	data[len - 1] ^= 0xff;
	r = kwt_request_bin("POST", path, w.keyworker.tok, "application/pdf",
	    data, len, h);
	cr_assert_eq(r->status, 422, "key reused: %ld %s", r->status, r->raw);
	kwt_free(r);
	data[len - 1] ^= 0xff;
	snprintf(path, sizeof(path), "/v1/episodes/%s/documents", w.episode);
	j = list_all(path, w.keyworker.tok);
	cr_assert_eq(json_array_size(j), before + 1, "stored twice: %s",
	    json_dumps(j, 0));
	json_decref(j);

	free(doc);
	free(data);
	world_close(&w);
}

/* The keyworker's alerts: what others did on the case, and what they raise. */
Test(journey, alerts_reach_the_keyworker_and_their_manager)
{
	struct world	 w;
	struct resp	*r;
	json_t		*all, *al, *dv_kw, *dv_mgr;
	char		 path[256], at[32];
	char		*body, *note, *doc, *meeting, *dv_id;
	size_t		 i;

	world_open(&w);

	/* The TAF member writes a note and adds a document. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/notes", w.episode);
	body = kwt_json("{s:s, s:s}", "body", "Saw Ben at clinic.", "kind",
	    "fact");
	r = send_json("POST", path, w.taf.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "note: %ld %s", r->status, r->raw);
	note = strdup(kwt_str(r, "id"));
	kwt_free(r);
	doc = upload(&w, w.taf.tok, "application/pdf", "%PDF-1.7\n\0x", 11,
	    NULL);
	/* The line manager arranges a meeting. */
	now_utc(7 * 86400, at, sizeof(at));
	snprintf(path, sizeof(path), "/v1/episodes/%s/meetings", w.episode);
	body = kwt_json("{s:s, s:s, s:b, s:{s:[s]}}", "scheduled_at", at,
	    "venue", "Family home", "family_can_attend", 1, "invitees",
	    "user_ids", w.keyworker.id);
	r = send_json("POST", path, w.manager.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "meeting: %ld %s", r->status, r->raw);
	meeting = strdup(kwt_str(r, "id"));
	kwt_free(r);

	all = list_all("/v1/alerts", w.keyworker.tok);
	al = find_item(all, "kind", "case_note");
	cr_assert_not_null(al, "no case_note alert: %s", json_dumps(all, 0));
	cr_assert_str_eq(json_string_value(json_object_get(al, "note_id")),
	    note);
	cr_assert_str_eq(json_string_value(json_object_get(al,
	    "raised_by_user_id")), w.taf.id);
	cr_assert_str_eq(json_string_value(json_object_get(al, "episode_id")),
	    w.episode);
	al = find_item(all, "kind", "document");
	cr_assert_not_null(al, "no document alert: %s", json_dumps(all, 0));
	cr_assert_str_eq(json_string_value(json_object_get(al,
	    "document_id")), doc);
	cr_assert_str_eq(json_string_value(json_object_get(al,
	    "raised_by_user_id")), w.taf.id);
	al = find_item(all, "kind", "meeting");
	cr_assert_not_null(al, "no meeting alert: %s", json_dumps(all, 0));
	cr_assert_str_eq(json_string_value(json_object_get(al, "meeting_id")),
	    meeting);
	cr_assert_str_eq(json_string_value(json_object_get(al,
	    "raised_by_user_id")), w.manager.id);
	json_array_foreach(all, i, al)
		cr_assert(json_is_null(json_object_get(al, "acknowledged_at")));
	json_decref(all);

	/*
	 * A domestic-violence notification from the limited member: to the
	 * keyworker and to their line manager, at once.
	 */
	snprintf(path, sizeof(path), "/v1/episodes/%s/alerts", w.episode);
	body = kwt_json("{s:s, s:s}", "kind", "domestic_violence", "detail",
	    "Police notification received overnight.");
	r = send_json("POST", path, w.limited.tok, body, NULL);
	cr_assert_eq(r->status, 201, "raise: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "sent");
	cr_assert_str_eq(kwt_str(r, "kind"), "domestic_violence");
	cr_assert_str_eq(kwt_str(r, "episode_id"), w.episode);
	kwt_free(r);
	/* Someone with no place on the episode cannot raise one. */
	r = send_json("POST", path, w.stranger.tok, body, NULL);
	cr_assert_eq(r->status, 404, "stranger raises: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	free(body);

	all = list_all("/v1/alerts", w.keyworker.tok);
	dv_kw = json_incref(find_item(all, "kind", "domestic_violence"));
	json_decref(all);
	cr_assert_not_null(dv_kw, "keyworker has no domestic_violence alert");
	cr_assert_str_eq(json_string_value(json_object_get(dv_kw, "detail")),
	    "Police notification received overnight.");
	cr_assert_str_eq(json_string_value(json_object_get(dv_kw,
	    "raised_by_user_id")), w.limited.id);
	all = list_all("/v1/alerts", w.manager.tok);
	dv_mgr = json_incref(find_item(all, "kind", "domestic_violence"));
	json_decref(all);
	cr_assert_not_null(dv_mgr, "manager has no domestic_violence alert");
	cr_assert_str_eq(json_string_value(json_object_get(dv_mgr,
	    "episode_id")), w.episode);
	cr_assert_str_neq(json_string_value(json_object_get(dv_mgr, "id")),
	    json_string_value(json_object_get(dv_kw, "id")));

	/*
	 * The manager's caseload counts the keyworker's unacknowledged
	 * alerts: the note, the document, the meeting, the notification.
	 */
	r = get("/v1/caseload", w.manager.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	al = find_item(json_object_get(r->json, "practitioners"), "user_id",
	    w.keyworker.id);
	cr_assert_not_null(al, "%s", r->raw);
	cr_assert_eq(json_integer_value(json_object_get(al,
	    "unacknowledged_alerts")), 4, "%s", r->raw);
	kwt_free(r);

	/* Only its recipient acknowledges an alert. */
	dv_id = strdup(json_string_value(json_object_get(dv_kw, "id")));
	snprintf(path, sizeof(path), "/v1/alerts/%s/acknowledge", dv_id);
	body = kwt_json("{s:s}", "response", "Spoke to mum; safety plan made.");
	r = send_json("POST", path, w.manager.tok, body, NULL);
	cr_assert_eq(r->status, 404, "someone else's alert: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	r = send_json("POST", path, w.keyworker.tok, body, NULL);
	cr_assert_eq(r->status, 200, "acknowledge: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "response"),
	    "Spoke to mum; safety plan made.");
	cr_assert(json_is_string(json_object_get(r->json, "acknowledged_at")));
	kwt_free(r);
	r = send_json("POST", path, w.keyworker.tok, body, NULL);
	cr_assert_eq(r->status, 409, "twice: %ld %s", r->status, r->raw);
	kwt_free(r);
	free(body);

	all = list_all("/v1/alerts?unacknowledged=true", w.keyworker.tok);
	cr_assert_null(find_item(all, "id", dv_id), "acknowledged, listed");
	cr_assert_not_null(find_item(all, "kind", "case_note"));
	json_array_foreach(all, i, al)
		cr_assert(json_is_null(json_object_get(al, "acknowledged_at")));
	json_decref(all);
	all = list_all("/v1/alerts?unacknowledged=false", w.keyworker.tok);
	cr_assert_not_null(find_item(all, "id", dv_id));
	json_array_foreach(all, i, al)
		cr_assert(json_is_string(json_object_get(al,
		    "acknowledged_at")));
	json_decref(all);
	r = get("/v1/caseload", w.manager.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	al = find_item(json_object_get(r->json, "practitioners"), "user_id",
	    w.keyworker.id);
	cr_assert_eq(json_integer_value(json_object_get(al,
	    "unacknowledged_alerts")), 3, "%s", r->raw);
	kwt_free(r);
	/* The manager's own copy is still waiting. */
	all = list_all("/v1/alerts?unacknowledged=true", w.manager.tok);
	cr_assert_not_null(find_item(all, "id", json_string_value(
	    json_object_get(dv_mgr, "id"))));
	json_decref(all);

	json_decref(dv_kw);
	json_decref(dv_mgr);
	free(dv_id);
	free(note);
	free(doc);
	free(meeting);
	world_close(&w);
}

/*
 * Oversight: the deadlines not yet met, filtered and paged; caseloads per
 * practitioner for a manager, per area for a coordinator.
 */
Test(journey, oversight_shows_deadlines_and_caseloads)
{
	struct world	 w;
	struct resp	*r;
	json_t		*all, *page, *seen, *d, *p, *cur;
	const char	*key;
	char		 path[512], due[16], soon[16], hdr[64];
	char		*m1, *etag, *body;
	size_t		 i, n;
	int		 pages;

	world_open(&w);
	/* A meeting held long ago, its outcomes and plan never done. */
	m1 = create_meeting(&w, w.keyworker.tok, MEETING1_AT,
	    json_pack("{s:[s]}", "user_ids", w.keyworker.id), &etag, "initial");
	snprintf(path, sizeof(path), "/v1/meetings/%s", m1);
	snprintf(hdr, sizeof(hdr), "If-Match: %s", etag);
	r = send_json("PATCH", path, w.keyworker.tok, "{\"status\":\"held\"}",
	    hdr);
	cr_assert_eq(r->status, 200, "held: %ld %s", r->status, r->raw);
	kwt_free(r);
	/* An action of the keyworker's, due this week. */
	london_date(time(NULL), 2, soon, sizeof(soon));
	snprintf(path, sizeof(path), "/v1/episodes/%s/actions", w.episode);
	body = kwt_json("{s:s, s:s, s:s, s:s}", "what", "Book the GP visit",
	    "owner_user_id", w.keyworker.id, "measure", "Booked", "due_date",
	    soon);
	r = send_json("POST", path, w.keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "action: %ld %s", r->status, r->raw);
	kwt_free(r);

	/*
	 * Unmet: the outcomes, the plan and the review (all overdue), the
	 * action (in 2 days), the assessment (in 21). The first meeting is
	 * met, so not listed.
	 */
	all = list_all("/v1/deadlines", w.keyworker.tok);
	cr_assert_eq(json_array_size(all), 5, "%s", json_dumps(all, 0));
	london_date(ts_epoch(w.registered_at), 21, due, sizeof(due));
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(all,
	    0), "kind")), "meeting_outcomes");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(all,
	    0), "due")), MEETING1_OUTCOMES_DUE);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(all,
	    1), "due")), MEETING1_PLAN_DUE);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(all,
	    2), "due")), MEETING1_REVIEW_DUE);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(all,
	    3), "kind")), "action_due");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(all,
	    3), "due")), soon);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(all,
	    3), "reminds")), w.keyworker.id);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(all,
	    4), "kind")), "assessment");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(all,
	    4), "due")), due);
	json_array_foreach(all, i, d) {
		cr_assert_str_eq(json_string_value(json_object_get(d,
		    "episode_id")), w.episode);
		cr_assert_str_eq(json_string_value(json_object_get(d,
		    "family_name")), w.family);
		cr_assert(json_is_null(json_object_get(d, "met_at")));
		cr_assert_eq(json_is_true(json_object_get(d, "overdue")), i < 3,
		    "%s", json_dumps(d, 0));
	}

	/* Filters: overdue, due_before, keyworker_id. */
	page = list_all("/v1/deadlines?overdue=true", w.keyworker.tok);
	cr_assert_eq(json_array_size(page), 3, "%s", json_dumps(page, 0));
	json_decref(page);
	page = list_all("/v1/deadlines?overdue=false", w.keyworker.tok);
	cr_assert_eq(json_array_size(page), 2, "%s", json_dumps(page, 0));
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(page,
	    1), "kind")), "assessment");
	json_decref(page);
	page = list_all("/v1/deadlines?due_before=2026-09-05", w.keyworker.tok);
	cr_assert_eq(json_array_size(page), 1, "%s", json_dumps(page, 0));
	json_decref(page);
	page = list_all("/v1/deadlines?due_before=" MEETING1_PLAN_DUE,
	    w.keyworker.tok);
	cr_assert_eq(json_array_size(page), 1, "due_before is exclusive: %s",
	    json_dumps(page, 0));
	json_decref(page);
	snprintf(path, sizeof(path), "/v1/deadlines?keyworker_id=%s",
	    w.keyworker.id);
	page = list_all(path, w.manager.tok);
	cr_assert(json_equal(page, all), "the manager's view of the "
	    "keyworker's: %s", json_dumps(page, 0));
	json_decref(page);
	snprintf(path, sizeof(path), "/v1/deadlines?keyworker_id=%s",
	    w.manager.id);
	page = list_all(path, w.manager.tok);
	cr_assert_eq(json_array_size(page), 0, "%s", json_dumps(page, 0));
	json_decref(page);
	page = list_all("/v1/deadlines", w.coord.tok);
	cr_assert(json_equal(page, all), "the coordinator's: %s",
	    json_dumps(page, 0));
	json_decref(page);
	page = list_all("/v1/deadlines", w.stranger.tok);
	cr_assert_eq(json_array_size(page), 0, "a stranger's: %s",
	    json_dumps(page, 0));
	json_decref(page);

	/* One at a time, following next_cursor: each once, in order. */
	seen = json_array();
	cur = NULL;
	for (pages = 0; pages < 20; pages++) {
		snprintf(path, sizeof(path), "/v1/deadlines?limit=1%s%s",
		    cur != NULL ? "&cursor=" : "",
		    cur != NULL ? json_string_value(cur) : "");
		json_decref(cur);
		r = get(path, w.keyworker.tok);
		cr_assert_eq(r->status, 200, "%s: %ld %s", path, r->status,
		    r->raw);
		n = json_array_size(json_object_get(r->json, "items"));
		cr_assert(n <= 1, "%s", r->raw);
		json_array_extend(seen, json_object_get(r->json, "items"));
		cur = json_incref(json_object_get(r->json, "next_cursor"));
		kwt_free(r);
		if (!json_is_string(cur))
			break;
	}
	json_decref(cur);
	cr_assert(json_equal(seen, all), "paged one by one: %s",
	    json_dumps(seen, 0));
	json_array_foreach(seen, i, d) {
		key = json_string_value(json_object_get(d, "key"));
		for (n = 0; n < i; n++)
			cr_assert_str_neq(json_string_value(json_object_get(
			    json_array_get(seen, n), "key")), key,
			    "twice: %s", key);
	}
	json_decref(seen);
	json_decref(all);

	/* The manager's caseload: the keyworker, with the counts. */
	r = get("/v1/caseload", w.manager.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	p = find_item(json_object_get(r->json, "practitioners"), "user_id",
	    w.keyworker.id);
	cr_assert_not_null(p, "keyworker not in caseload: %s", r->raw);
	cr_assert_eq(json_integer_value(json_object_get(p, "open_episodes")),
	    1, "%s", r->raw);
	cr_assert_eq(json_integer_value(json_object_get(p, "overdue")), 3,
	    "%s", r->raw);
	cr_assert_eq(json_integer_value(json_object_get(p, "due_this_week")),
	    1, "%s", r->raw);
	cr_assert_eq(json_integer_value(json_object_get(p,
	    "unacknowledged_alerts")), 0, "%s", r->raw);
	cr_assert_null(find_item(json_object_get(r->json, "practitioners"),
	    "user_id", w.stranger.id), "%s", r->raw);
	cr_assert_eq(json_array_size(json_object_get(r->json, "areas")), 0,
	    "a manager coordinates no area: %s", r->raw);
	kwt_free(r);

	/* The coordinator's: the area. */
	r = get("/v1/caseload", w.coord.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	p = find_item(json_object_get(r->json, "areas"), "area_id", w.area);
	cr_assert_not_null(p, "area not in caseload: %s", r->raw);
	cr_assert_eq(json_integer_value(json_object_get(p, "open_episodes")),
	    1, "%s", r->raw);
	cr_assert_eq(json_integer_value(json_object_get(p, "overdue")), 3,
	    "%s", r->raw);
	cr_assert_eq(json_integer_value(json_object_get(p, "due_this_week")),
	    1, "%s", r->raw);
	kwt_free(r);

	/* The keyworker's own. */
	r = get("/v1/caseload", w.keyworker.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert_eq(json_array_size(json_object_get(r->json,
	    "practitioners")), 1, "%s", r->raw);
	cr_assert_not_null(find_item(json_object_get(r->json,
	    "practitioners"), "user_id", w.keyworker.id));
	kwt_free(r);

	free(m1);
	free(etag);
	world_close(&w);
}

/*
 * The holiday calendar working days skip: everyone reads it, admins only
 * replace it. The shared server's calendar is left exactly as it was.
 */
Test(journey, the_holiday_calendar)
{
	struct world	 w;
	struct resp	*r;
	json_t		*before, *after, *bad, *doc;
	char		*body;

	world_open(&w);
	before = holidays_of(w.keyworker.tok);
	cr_assert_not_null(find_item(before, "date", "2026-08-31"), "%s",
	    json_dumps(before, 0));
	cr_assert_str_eq(json_string_value(json_object_get(find_item(before,
	    "date", "2026-08-31"), "name")), "Summer bank holiday");

	doc = json_pack("{s:O}", "holidays", before);
	body = json_dumps(doc, JSON_COMPACT);
	r = send_json("PUT", "/v1/calendar/holidays", w.keyworker.tok, body,
	    NULL);
	cr_assert_eq(r->status, 403, "practitioner: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = send_json("PUT", "/v1/calendar/holidays", w.manager.tok, body,
	    NULL);
	cr_assert_eq(r->status, 403, "manager: %ld %s", r->status, r->raw);
	kwt_free(r);

	/* An admin puts back the very same list. */
	r = send_json("PUT", "/v1/calendar/holidays", w.admin, body, NULL);
	cr_assert_eq(r->status, 200, "admin: %ld %s", r->status, r->raw);
	cr_assert(json_equal(json_object_get(r->json, "holidays"), before),
	    "%s", r->raw);
	kwt_free(r);
	free(body);
	json_decref(doc);

	/* Two names for one day: refused whole, nothing changed. */
	bad = json_deep_copy(before);
	json_array_append_new(bad, json_pack("{s:s, s:s}", "date",
	    "2026-08-31", "name", "Another name"));
	doc = json_pack("{s:o}", "holidays", bad);
	body = json_dumps(doc, JSON_COMPACT);
	r = send_json("PUT", "/v1/calendar/holidays", w.admin, body, NULL);
	cr_assert_eq(r->status, 409, "one day twice: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	free(body);
	json_decref(doc);
	after = holidays_of(w.keyworker.tok);
	cr_assert(json_equal(after, before), "the calendar changed: %s",
	    json_dumps(after, 0));
	json_decref(after);
	json_decref(before);
	world_close(&w);
}
