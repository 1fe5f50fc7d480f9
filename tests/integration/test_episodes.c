/*
 * Families and their episodes through the API: registration and its rules
 * (verbal consent first, every child at home takes part unless the parents
 * refuse, a family has a child, one open episode per child), who may name
 * whom as keyworker, Idempotency-Key on registration, listing with filters
 * and keyset pages, reading one episode, and changing it with If-Match.
 *
 * Tests run in parallel against shared demo data, so each makes its own
 * accounts, areas and families, with unique names: the one-open-episode
 * rule must never match another test's child.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <curl/curl.h>

#include "client.h"

#define ADMIN_EMAIL	"admin@example.org"
#define USER_PASSWORD	"correct-horse-battery-staple"
#define NO_SUCH_ID	"00000000-0000-4000-8000-000000000000"

/* What a test needs to make accounts and families. */
struct ctx {
	char	*admin;		/* access token */
	char	*agency_id;	/* the admin's agency: lead agency of families */
	char	*area_id;	/* a fresh area of this test's own */
};

/* One of the requests race() has in flight at once. */
struct racer {
	char	*body;		/* the response's */
	size_t	 len;
	char	*headers;
	size_t	 hlen;
	long	 status;
	json_t	*json;		/* the parsed body, or NULL */
	int	 replayed;	/* Idempotent-Replayed: true */
};

/* An account made by the test, signed in. */
struct person {
	char	*id;
	char	*email;
	char	*name;
	char	*tok;
};

static struct resp	*send_json(const char *, const char *, const char *,
			    const char *, const char *);
static struct resp	*send_doc(const char *, const char *, const char *,
			    json_t *, const char *);
static struct resp	*get(const char *, const char *);
static void		 ctx_open(struct ctx *);
static void		 ctx_close(struct ctx *);
static char		*new_area(const char *);
static void		 person_new(struct person *, struct ctx *, const char *,
			    const char *, const char *);
static void		 person_free(struct person *);
static json_t		*family_new(const char *, const char *, const char *);
static const char	*family_name_of(json_t *);
static json_t		*child_of(json_t *);
static struct resp	*register_family(const char *, json_t *, const char *);
static char		*register_ok(const char *, json_t *);
static void		 add_team(const char *, const char *, const char *,
			    const char *);
static json_t		*list_all(const char *, const char *);
static int		 has_id(json_t *, const char *);
static json_t		*find_member(json_t *, const char *);
static void		 assert_rule(struct resp *, const char *, const char *);
static char		*etag_of(struct resp *);
static int		 is_uuid(const char *);
static void		 london_date_plus(const char *, int, char *, size_t);
static size_t		 race_body(char *, size_t, size_t, void *);
static size_t		 race_header(char *, size_t, size_t, void *);
static void		 race(const char *, const char *, const char *,
			    const char *, int, struct racer *);
static void		 race_free(struct racer *, int);

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
send_doc(const char *method, const char *path, const char *token, json_t *doc,
    const char *header)
{
	struct resp	*r;
	char		*body;

	body = json_dumps(doc, JSON_COMPACT);
	cr_assert_not_null(body);
	r = send_json(method, path, token, body, header);
	free(body);
	return r;
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
	kwt_free(me);
	c->area_id = new_area(c->admin);
}

static void
ctx_close(struct ctx *c)
{
	free(c->admin);
	free(c->agency_id);
	free(c->area_id);
}

/* A fresh area, so that no other test's coordinator covers it. */
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

/*
 * A new account with roles (a JSON array text) in area (the test's own when
 * NULL), managed by manager (or nobody), signed in.
 */
static void
person_new(struct person *p, struct ctx *c, const char *roles,
    const char *area, const char *manager)
{
	struct resp	*r;
	json_error_t	 err;
	json_t		*j;
	char		 buf[160];

	snprintf(buf, sizeof(buf), "ep-%s@test.example.org", kwt_unique());
	p->email = strdup(buf);
	snprintf(buf, sizeof(buf), "Episode Tester %s", kwt_unique());
	p->name = strdup(buf);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "email", p->email,
	    "name", p->name, "password", USER_PASSWORD,
	    "agency_id", c->agency_id,
	    "area_id", area != NULL ? area : c->area_id,
	    "roles", json_loads(roles, 0, &err));
	cr_assert_not_null(j);
	if (manager != NULL)
		json_object_set_new(j, "manager_id", json_string(manager));
	r = send_doc("POST", "/v1/users", c->admin, j, NULL);
	json_decref(j);
	cr_assert_eq(r->status, 201, "new user: %ld %s", r->status, r->raw);
	p->id = strdup(kwt_str(r, "id"));
	kwt_free(r);
	p->tok = kwt_login(p->email, USER_PASSWORD);
}

static void
person_free(struct person *p)
{
	free(p->id);
	free(p->email);
	free(p->name);
	free(p->tok);
}

/*
 * A registration of a family no other test has: one parent and one child
 * with unique names, verbal consent an hour ago. The caller changes it as
 * the test needs, and decrefs it.
 */
static json_t *
family_new(const char *area, const char *keyworker, const char *agency)
{
	struct tm	 tm;
	json_t		*j;
	time_t		 t = time(NULL) - 3600;
	char		 u[64], fam[128], kid[128], when[32];

	snprintf(u, sizeof(u), "%s", kwt_unique());
	snprintf(fam, sizeof(fam), "Fam%s", u);
	snprintf(kid, sizeof(kid), "Kid%s", u);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	j = json_pack("{s:{s:s, s:s, s:s},"
	    " s:[{s:s, s:s, s:s, s:s, s:b}, {s:s, s:s, s:s, s:s, s:b}],"
	    " s:s, s:s, s:{s:s, s:s, s:s}}",
	    "family", "name", fam, "area_id", area, "postcode", "NF1 2AB",
	    "members",
	    "given_name", "Pat", "family_name", fam, "date_of_birth",
	    "1985-02-03", "relationship", "mother", "is_child", 0,
	    "given_name", kid, "family_name", fam, "date_of_birth",
	    "2016-05-04", "relationship", "son", "is_child", 1,
	    "keyworker_id", keyworker, "lead_agency_id", agency,
	    "verbal_consent", "obtained_at", when, "given_by", "Pat",
	    "statement", "Agreed to early help.");
	cr_assert_not_null(j);
	return j;
}

static const char *
family_name_of(json_t *reg)
{
	return json_string_value(json_object_get(json_object_get(reg,
	    "family"), "name"));
}

/* The registration's first child. */
static json_t *
child_of(json_t *reg)
{
	return json_array_get(json_object_get(reg, "members"), 1);
}

/* POST /v1/episodes, with an Idempotency-Key when key is not NULL. */
static struct resp *
register_family(const char *tok, json_t *reg, const char *key)
{
	char	h[256];

	if (key == NULL)
		return send_doc("POST", "/v1/episodes", tok, reg, NULL);
	snprintf(h, sizeof(h), "Idempotency-Key: %s", key);
	return send_doc("POST", "/v1/episodes", tok, reg, h);
}

/* Register, asserting 201; the episode's id (caller frees). */
static char *
register_ok(const char *tok, json_t *reg)
{
	struct resp	*r;
	char		*id;

	r = register_family(tok, reg, NULL);
	cr_assert_eq(r->status, 201, "register: %ld %s", r->status, r->raw);
	id = strdup(kwt_str(r, "id"));
	kwt_free(r);
	return id;
}

/* The keyworker (tok) puts user on the team at level. */
static void
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
	kwt_free(r);
}

/*
 * Every episode tok sees on GET /v1/episodes?query (NULL: no filter),
 * following next_cursor; the items in order (caller decrefs).
 */
static json_t *
list_all(const char *tok, const char *query)
{
	struct resp	*r;
	json_t		*all, *cur = NULL;
	char		 path[1024];
	int		 pages;

	all = json_array();
	for (pages = 0; pages < 1000; pages++) {
		snprintf(path, sizeof(path), "/v1/episodes?limit=200%s%s%s%s",
		    query != NULL ? "&" : "", query != NULL ? query : "",
		    cur != NULL ? "&cursor=" : "",
		    cur != NULL ? json_string_value(cur) : "");
		json_decref(cur);
		r = get(path, tok);
		cr_assert_eq(r->status, 200, "%s: %ld %s", path, r->status,
		    r->raw);
		json_array_extend(all, json_object_get(r->json, "items"));
		cur = json_incref(json_object_get(r->json, "next_cursor"));
		kwt_free(r);
		if (!json_is_string(cur)) {
			json_decref(cur);
			return all;
		}
	}
	cr_assert_fail("GET /v1/episodes?%s: paging did not end", query);
	return NULL;
}

static int
has_id(json_t *items, const char *id)
{
	json_t	*item;
	size_t	 i;
	int	 n = 0;

	json_array_foreach(items, i, item)
		if (strcmp(json_string_value(json_object_get(item, "id")),
		    id) == 0)
			n++;
	return n;
}

/* The member of members with given_name (borrowed), or NULL. */
static json_t *
find_member(json_t *members, const char *given_name)
{
	json_t		*m;
	const char	*v;
	size_t		 i;

	json_array_foreach(members, i, m) {
		v = json_string_value(json_object_get(m, "given_name"));
		if (v != NULL && strcmp(v, given_name) == 0)
			return m;
	}
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

/*
 * days after the calendar day the RFC 3339 time ts falls on in London,
 * the service's own time zone: deadlines count from the local date, so a
 * family registered at 23:30 on a summer evening is registered that day.
 */
static void
london_date_plus(const char *ts, int days, char *out, size_t outlen)
{
	struct tm	 tm;
	const char	*p;
	time_t		 t;
	int		 y, mo, d, h, mi, s, n = 0, oh = 0, om = 0, sign = 0;

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
	t = timegm(&tm) - sign * (oh * 3600 + om * 60);

	setenv("TZ", "Europe/London", 1);
	tzset();
	cr_assert_not_null(localtime_r(&t, &tm));
	/* Calendar arithmetic only: noon UTC of the day, plus days. */
	tm.tm_mday += days;
	tm.tm_hour = 12;
	tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = 0;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%d", &tm);
}

static size_t
race_body(char *p, size_t size, size_t n, void *arg)
{
	struct racer	*rc = arg;

	rc->body = realloc(rc->body, rc->len + size * n + 1);
	cr_assert_not_null(rc->body);
	memcpy(rc->body + rc->len, p, size * n);
	rc->len += size * n;
	rc->body[rc->len] = '\0';
	return size * n;
}

static size_t
race_header(char *p, size_t size, size_t n, void *arg)
{
	struct racer	*rc = arg;

	rc->headers = realloc(rc->headers, rc->hlen + size * n + 1);
	cr_assert_not_null(rc->headers);
	memcpy(rc->headers + rc->hlen, p, size * n);
	rc->hlen += size * n;
	rc->headers[rc->hlen] = '\0';
	return size * n;
}

/*
 * n POSTs of the same body to path as tok (and header, if any), all in
 * flight at once through curl's multi interface: kwt_request waits for
 * each answer, and a race needs them together. Outside the spec check,
 * so the caller asserts what each answer must be.
 */
static void
race(const char *path, const char *tok, const char *body, const char *header,
    int n, struct racer *out)
{
	struct curl_slist	*hl = NULL;
	const char		*base;
	CURLM			*m;
	CURL			*c[16];
	char			 url[1024], auth[512];
	int			 i, running;

	cr_assert_leq(n, 16);
	if ((base = getenv("KEYWORK_TEST_URL")) == NULL)
		base = "http://127.0.0.1:8888";
	snprintf(url, sizeof(url), "%s%s", base, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	hl = curl_slist_append(hl, auth);
	hl = curl_slist_append(hl, "Content-Type: application/json");
	hl = curl_slist_append(hl, "Expect:");
	if (header != NULL)
		hl = curl_slist_append(hl, header);
	m = curl_multi_init();
	cr_assert_not_null(m);
	memset(out, 0, sizeof(*out) * (size_t)n);
	for (i = 0; i < n; i++) {
		c[i] = curl_easy_init();
		cr_assert_not_null(c[i]);
		curl_easy_setopt(c[i], CURLOPT_URL, url);
		curl_easy_setopt(c[i], CURLOPT_TIMEOUT, 30L);
		curl_easy_setopt(c[i], CURLOPT_HTTPHEADER, hl);
		curl_easy_setopt(c[i], CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c[i], CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		curl_easy_setopt(c[i], CURLOPT_WRITEFUNCTION, race_body);
		curl_easy_setopt(c[i], CURLOPT_WRITEDATA, &out[i]);
		curl_easy_setopt(c[i], CURLOPT_HEADERFUNCTION, race_header);
		curl_easy_setopt(c[i], CURLOPT_HEADERDATA, &out[i]);
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
		cr_assert_neq(out[i].status, 0, "request %d got no answer", i);
		if (out[i].body != NULL)
			out[i].json = json_loadb(out[i].body, out[i].len, 0,
			    NULL);
		out[i].replayed = out[i].headers != NULL &&
		    strcasestr(out[i].headers, "\nIdempotent-Replayed: true") !=
		    NULL;
		curl_multi_remove_handle(m, c[i]);
		curl_easy_cleanup(c[i]);
	}
	curl_multi_cleanup(m);
	curl_slist_free_all(hl);
}

static void
race_free(struct racer *rc, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		free(rc[i].body);
		free(rc[i].headers);
		json_decref(rc[i].json);
	}
}

Test(episodes, registration_opens_an_episode_with_its_deadlines)
{
	struct ctx	 c;
	struct person	 k;
	struct resp	*r, *g;
	json_t		*reg, *fam, *members, *kw, *m;
	char		*etag, *id, due[16], path[128];

	ctx_open(&c);
	person_new(&k, &c, "[\"practitioner\"]", NULL, NULL);
	reg = family_new(c.area_id, k.id, c.agency_id);
	r = register_family(k.tok, reg, NULL);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->raw);
	etag = etag_of(r);
	cr_assert_null(kwt_header(r, "Idempotent-Replayed"),
	    "a first request is no replay");
	id = strdup(kwt_str(r, "id"));
	cr_assert(is_uuid(id), "%s", r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "registered");
	cr_assert_str_eq(kwt_str(r, "access"), "full");
	cr_assert_str_eq(kwt_str(r, "keyworker_id"), k.id);
	kw = json_object_get(r->json, "keyworker");
	cr_assert_str_eq(json_string_value(json_object_get(kw, "id")), k.id);
	cr_assert_str_eq(json_string_value(json_object_get(kw, "email")),
	    k.email);
	cr_assert_str_eq(kwt_str(r, "family_name"), family_name_of(reg));
	cr_assert_str_eq(kwt_str(r, "area_id"), c.area_id);
	cr_assert_str_eq(kwt_str(r, "lead_agency_id"), c.agency_id);
	cr_assert(json_is_false(json_object_get(r->json, "overdue")), "%s",
	    r->raw);
	cr_assert(json_is_null(json_object_get(r->json, "closed_at")));
	cr_assert(json_is_null(json_object_get(r->json,
	    "assessment_completed_at")));
	cr_assert(json_is_null(json_object_get(r->json,
	    "first_taf_meeting_held_at")));

	/* Deadlines: 21 and 42 days from the local date of registration. */
	london_date_plus(kwt_str(r, "registered_at"), 21, due, sizeof(due));
	cr_assert_str_eq(kwt_str(r, "assessment_due"), due, "registered %s",
	    kwt_str(r, "registered_at"));
	london_date_plus(kwt_str(r, "registered_at"), 42, due, sizeof(due));
	cr_assert_str_eq(kwt_str(r, "first_taf_meeting_due"), due,
	    "registered %s", kwt_str(r, "registered_at"));

	/* Full access: the family and its members come with it. */
	fam = json_object_get(r->json, "family");
	cr_assert(json_is_object(fam), "%s", r->raw);
	cr_assert_str_eq(json_string_value(json_object_get(fam, "name")),
	    family_name_of(reg));
	cr_assert_str_eq(json_string_value(json_object_get(fam, "postcode")),
	    "NF1 2AB");
	cr_assert_str_eq(json_string_value(json_object_get(fam, "area_id")),
	    c.area_id);
	/* Members made together share created_at: no order is promised. */
	members = json_object_get(r->json, "members");
	cr_assert_eq(json_array_size(members), 2, "%s", r->raw);
	m = find_member(members, json_string_value(json_object_get(
	    child_of(reg), "given_name")));
	cr_assert_not_null(m, "the child is missing: %s", r->raw);
	cr_assert(json_is_true(json_object_get(m, "is_child")));
	cr_assert(json_is_true(json_object_get(m, "included")),
	    "a child takes part by default: %s", r->raw);
	cr_assert(json_is_true(json_object_get(m, "lives_in_household")));
	cr_assert(json_is_null(json_object_get(m, "not_included_reason")));
	cr_assert_str_eq(json_string_value(json_object_get(m,
	    "date_of_birth")), "2016-05-04");
	cr_assert_str_eq(json_string_value(json_object_get(m, "episode_id")),
	    id);
	cr_assert_not_null(find_member(members, "Pat"), "%s", r->raw);

	/* The episode as read is the one registered, same version. */
	snprintf(path, sizeof(path), "/v1/episodes/%s", id);
	g = get(path, k.tok);
	cr_assert_eq(g->status, 200, "%ld %s", g->status, g->raw);
	cr_assert_str_eq(kwt_header(g, "ETag"), etag);
	cr_assert(json_equal(g->json, r->json), "read %s\nregistered %s",
	    g->raw, r->raw);
	kwt_free(g);

	kwt_free(r);
	json_decref(reg);
	free(etag);
	free(id);
	person_free(&k);
	ctx_close(&c);
}

Test(episodes, registration_needs_verbal_consent_first)
{
	struct ctx	 c;
	struct person	 k;
	struct resp	*r;
	struct tm	 tm;
	json_t		*reg;
	time_t		 t;
	char		 when[32];

	ctx_open(&c);
	person_new(&k, &c, "[\"practitioner\"]", NULL, NULL);
	reg = family_new(c.area_id, k.id, c.agency_id);
	json_object_del(reg, "verbal_consent");
	r = register_family(k.tok, reg, NULL);
	assert_rule(r, "verbal_consent_before_registration", "no consent");
	kwt_free(r);

	/* Consent "obtained" tomorrow was not obtained before registering. */
	t = time(NULL) + 86400;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(reg, "verbal_consent", json_pack("{s:s, s:s}",
	    "obtained_at", when, "given_by", "Pat"));
	r = register_family(k.tok, reg, NULL);
	assert_rule(r, "verbal_consent_before_registration",
	    "consent in the future");
	kwt_free(r);

	/* Neither left an episode behind. */
	json_decref(reg);
	reg = list_all(k.tok, NULL);
	cr_assert_eq(json_array_size(reg), 0, "refused registrations "
	    "were kept");
	json_decref(reg);
	person_free(&k);
	ctx_close(&c);
}

Test(episodes, a_child_at_home_is_left_out_only_when_the_parents_refuse)
{
	struct ctx	 c;
	struct person	 k;
	struct resp	*r;
	json_t		*reg, *child, *m;
	const char	*reason = "Parents refused: Alex is in respite care.";
	char		*id, path[128];
	size_t		 i;
	int		 found = 0;

	ctx_open(&c);
	person_new(&k, &c, "[\"practitioner\"]", NULL, NULL);
	reg = family_new(c.area_id, k.id, c.agency_id);
	child = child_of(reg);
	json_object_set_new(child, "included", json_false());
	r = register_family(k.tok, reg, NULL);
	assert_rule(r, "siblings_included_unless_parents_refuse",
	    "a child left out without a reason");
	kwt_free(r);

	json_object_set_new(child, "not_included_reason", json_string(reason));
	id = register_ok(k.tok, reg);
	snprintf(path, sizeof(path), "/v1/episodes/%s/members", id);
	r = get(path, k.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	json_array_foreach(json_object_get(r->json, "items"), i, m) {
		if (strcmp(json_string_value(json_object_get(m, "given_name")),
		    json_string_value(json_object_get(child, "given_name"))) != 0)
			continue;
		found++;
		cr_assert(json_is_false(json_object_get(m, "included")), "%s",
		    r->raw);
		cr_assert_str_eq(json_string_value(json_object_get(m,
		    "not_included_reason")), reason);
		cr_assert(json_is_true(json_object_get(m, "is_child")));
		cr_assert_str_eq(json_string_value(json_object_get(m,
		    "episode_id")), id);
	}
	cr_assert_eq(found, 1, "the child is not stored: %s", r->raw);
	kwt_free(r);

	json_decref(reg);
	free(id);
	person_free(&k);
	ctx_close(&c);
}

Test(episodes, a_family_without_a_child_is_refused)
{
	struct ctx	 c;
	struct person	 k;
	struct resp	*r;
	json_t		*reg;

	ctx_open(&c);
	person_new(&k, &c, "[\"practitioner\"]", NULL, NULL);
	reg = family_new(c.area_id, k.id, c.agency_id);
	json_array_remove(json_object_get(reg, "members"), 1);
	r = register_family(k.tok, reg, NULL);
	assert_rule(r, "family_has_child", "adults only");
	kwt_free(r);
	json_decref(reg);
	person_free(&k);
	ctx_close(&c);
}

/*
 * A child already in an open episode is not registered again: the 409
 * names the open episode to those who may see it, and to anyone else says
 * nothing of it (no id, no family, no keyworker).
 */
Test(episodes, a_child_in_an_open_episode_is_not_registered_twice)
{
	struct ctx	 c;
	struct person	 m, k, s;
	struct resp	*r;
	json_t		*reg, *again, *child, *items;
	const char	*kid;
	char		*first, upper[128];
	size_t		 i;

	ctx_open(&c);
	person_new(&m, &c, "[\"manager\"]", NULL, NULL);
	person_new(&k, &c, "[\"practitioner\"]", NULL, m.id);
	person_new(&s, &c, "[\"practitioner\"]", NULL, NULL);
	reg = family_new(c.area_id, k.id, c.agency_id);
	first = register_ok(k.tok, reg);

	/*
	 * The same child in another household's registration (a new family
	 * name for the adult, the child's name in other letter case).
	 */
	kid = json_string_value(json_object_get(child_of(reg), "given_name"));
	for (i = 0; kid[i] != '\0' && i < sizeof(upper) - 1; i++)
		upper[i] = (char)toupper((unsigned char)kid[i]);
	upper[i] = '\0';
	again = json_deep_copy(reg);
	json_object_set_new(json_object_get(again, "family"), "name",
	    json_string("Another Household"));
	child = child_of(again);
	json_object_set_new(child, "given_name", json_string(upper));

	r = register_family(k.tok, again, NULL);
	cr_assert_eq(r->status, 409, "keyworker again: %ld %s", r->status,
	    r->raw);
	cr_assert_str_eq(kwt_str(r, "existing_episode_id"), first);
	kwt_free(r);

	/* The keyworker's manager sees the episode too. */
	json_object_set_new(again, "keyworker_id", json_string(k.id));
	r = register_family(m.tok, again, NULL);
	cr_assert_eq(r->status, 409, "manager: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "existing_episode_id"), first);
	kwt_free(r);

	/* Someone with no place on it learns only that there is one. */
	json_object_set_new(again, "keyworker_id", json_string(s.id));
	r = register_family(s.tok, again, NULL);
	cr_assert_eq(r->status, 409, "stranger: %ld %s", r->status, r->raw);
	cr_assert_null(json_object_get(r->json, "existing_episode_id"),
	    "a hidden episode's id leaked: %s", r->raw);
	cr_assert_null(strstr(r->raw, first), "%s", r->raw);
	cr_assert_null(strstr(r->raw, family_name_of(reg)), "%s", r->raw);
	cr_assert_null(strcasestr(r->raw, kid), "%s", r->raw);
	cr_assert_null(strstr(r->raw, k.id), "%s", r->raw);
	cr_assert_null(strstr(r->raw, k.email), "%s", r->raw);
	cr_assert_null(strstr(r->raw, k.name), "%s", r->raw);
	kwt_free(r);
	items = list_all(s.tok, NULL);
	cr_assert_eq(json_array_size(items), 0, "a refused registration "
	    "was kept");
	json_decref(items);

	/* A sibling never registered is no duplicate. */
	json_object_set_new(child, "given_name", json_string("Sibling"));
	json_object_set_new(child, "date_of_birth", json_string("2018-01-02"));
	r = register_family(s.tok, again, NULL);
	cr_assert_eq(r->status, 201, "another child: %ld %s", r->status,
	    r->raw);
	kwt_free(r);

	json_decref(again);
	json_decref(reg);
	free(first);
	person_free(&m);
	person_free(&k);
	person_free(&s);
	ctx_close(&c);
}

/*
 * The same child registered by several requests at once: the lock on the
 * child makes exactly one of them open an episode; the others are 409,
 * naming it (the caller is its keyworker).
 */
Test(episodes, simultaneous_registrations_of_a_child_open_one_episode)
{
	struct ctx	 c;
	struct person	 k;
	struct racer	 rc[8];
	json_t		*reg, *items;
	const char	*id = NULL, *dup;
	char		*body;
	int		 i, created = 0;

	ctx_open(&c);
	person_new(&k, &c, "[\"practitioner\"]", NULL, NULL);
	reg = family_new(c.area_id, k.id, c.agency_id);
	body = json_dumps(reg, JSON_COMPACT);
	race("/v1/episodes", k.tok, body, NULL, 8, rc);
	for (i = 0; i < 8; i++) {
		cr_assert(rc[i].status == 201 || rc[i].status == 409,
		    "request %d: %ld %s", i, rc[i].status, rc[i].body);
		if (rc[i].status == 201) {
			created++;
			id = json_string_value(json_object_get(rc[i].json,
			    "id"));
		}
	}
	cr_assert_eq(created, 1, "%d of 8 opened an episode", created);
	for (i = 0; i < 8; i++) {
		if (rc[i].status != 409)
			continue;
		dup = json_string_value(json_object_get(rc[i].json,
		    "existing_episode_id"));
		cr_assert(dup != NULL && strcmp(dup, id) == 0,
		    "request %d: %s", i, rc[i].body);
	}
	items = list_all(k.tok, NULL);
	cr_assert_eq(json_array_size(items), 1, "%zu episodes",
	    json_array_size(items));
	json_decref(items);
	race_free(rc, 8);
	free(body);
	json_decref(reg);
	person_free(&k);
	ctx_close(&c);
}

/*
 * Retries with one Idempotency-Key arriving together: one registers, the
 * others wait for it and answer its response, replayed.
 */
Test(episodes, simultaneous_retries_with_one_key_register_once)
{
	struct ctx	 c;
	struct person	 k;
	struct racer	 rc[6];
	json_t		*reg, *items;
	char		*body, h[160];
	int		 i, fresh = 0;

	ctx_open(&c);
	person_new(&k, &c, "[\"practitioner\"]", NULL, NULL);
	reg = family_new(c.area_id, k.id, c.agency_id);
	body = json_dumps(reg, JSON_COMPACT);
	snprintf(h, sizeof(h), "Idempotency-Key: race-%s", kwt_unique());
	race("/v1/episodes", k.tok, body, h, 6, rc);
	for (i = 0; i < 6; i++) {
		cr_assert_eq(rc[i].status, 201, "request %d: %ld %s", i,
		    rc[i].status, rc[i].body);
		cr_assert(json_equal(rc[i].json, rc[0].json), "%s\n%s",
		    rc[i].body, rc[0].body);
		if (!rc[i].replayed)
			fresh++;
	}
	cr_assert_eq(fresh, 1, "%d of 6 were not replays", fresh);
	items = list_all(k.tok, NULL);
	cr_assert_eq(json_array_size(items), 1, "%zu episodes",
	    json_array_size(items));
	json_decref(items);
	race_free(rc, 6);
	free(body);
	json_decref(reg);
	person_free(&k);
	ctx_close(&c);
}

Test(episodes, an_idempotency_key_replays_the_registration)
{
	struct ctx	 c;
	struct person	 k;
	struct resp	*r1, *r2, *r;
	json_t		*reg, *items;
	const char	*h;
	char		 key[128], *e1;

	ctx_open(&c);
	person_new(&k, &c, "[\"practitioner\"]", NULL, NULL);
	reg = family_new(c.area_id, k.id, c.agency_id);
	snprintf(key, sizeof(key), "register-%s", kwt_unique());

	r1 = register_family(k.tok, reg, key);
	cr_assert_eq(r1->status, 201, "%ld %s", r1->status, r1->raw);
	cr_assert_null(kwt_header(r1, "Idempotent-Replayed"));
	e1 = etag_of(r1);
	/* A retry (a lost response, say) answers the same and makes nothing. */
	r2 = register_family(k.tok, reg, key);
	cr_assert_eq(r2->status, 201, "retry: %ld %s", r2->status, r2->raw);
	h = kwt_header(r2, "Idempotent-Replayed");
	cr_assert(h != NULL && strcmp(h, "true") == 0, "%s", r2->headers);
	cr_assert(json_equal(r1->json, r2->json), "first %s\nretry %s",
	    r1->raw, r2->raw);
	cr_assert_str_eq(kwt_header(r2, "ETag"), e1);
	items = list_all(k.tok, NULL);
	cr_assert_eq(json_array_size(items), 1, "episodes: %zu",
	    json_array_size(items));
	cr_assert_eq(has_id(items, kwt_str(r1, "id")), 1);
	json_decref(items);

	/* The same key for another request is a client's mistake. */
	json_object_set_new(json_object_get(reg, "family"), "postcode",
	    json_string("ZZ9 9ZZ"));
	r = register_family(k.tok, reg, key);
	assert_rule(r, "idempotency_key_reused", "same key, other body");
	kwt_free(r);
	items = list_all(k.tok, NULL);
	cr_assert_eq(json_array_size(items), 1);
	json_decref(items);

	kwt_free(r1);
	kwt_free(r2);
	free(e1);
	json_decref(reg);
	person_free(&k);
	ctx_close(&c);
}

/*
 * A manager reads the episodes of both their practitioners; each filter
 * keeps exactly what it names.
 */
Test(episodes, list_filters_keep_what_they_name)
{
	struct ctx	 c;
	struct person	 m, k1, k2;
	json_t		*reg, *items, *item;
	char		*area2, *e1, *e2, q[256];
	size_t		 i;

	ctx_open(&c);
	area2 = new_area(c.admin);
	person_new(&m, &c, "[\"manager\"]", NULL, NULL);
	person_new(&k1, &c, "[\"practitioner\"]", NULL, m.id);
	person_new(&k2, &c, "[\"practitioner\"]", NULL, m.id);
	reg = family_new(c.area_id, k1.id, c.agency_id);
	e1 = register_ok(k1.tok, reg);
	json_decref(reg);
	reg = family_new(area2, k2.id, c.agency_id);
	e2 = register_ok(k2.tok, reg);
	json_decref(reg);

	items = list_all(m.tok, NULL);
	cr_assert_eq(json_array_size(items), 2, "%s", json_dumps(items, 0));
	cr_assert(has_id(items, e1) && has_id(items, e2));
	json_array_foreach(items, i, item)
		cr_assert_str_eq(json_string_value(json_object_get(item,
		    "access")), "full");
	json_decref(items);

	snprintf(q, sizeof(q), "keyworker_id=%s", k1.id);
	items = list_all(m.tok, q);
	cr_assert(json_array_size(items) == 1 && has_id(items, e1), "%s",
	    json_dumps(items, 0));
	json_decref(items);
	snprintf(q, sizeof(q), "keyworker_id=%s", k2.id);
	items = list_all(m.tok, q);
	cr_assert(json_array_size(items) == 1 && has_id(items, e2), "%s",
	    json_dumps(items, 0));
	json_decref(items);
	snprintf(q, sizeof(q), "area_id=%s", area2);
	items = list_all(m.tok, q);
	cr_assert(json_array_size(items) == 1 && has_id(items, e2), "%s",
	    json_dumps(items, 0));
	json_decref(items);
	snprintf(q, sizeof(q), "area_id=%s&keyworker_id=%s", area2, k1.id);
	items = list_all(m.tok, q);
	cr_assert_eq(json_array_size(items), 0, "%s", json_dumps(items, 0));
	json_decref(items);

	items = list_all(m.tok, "status=registered");
	cr_assert_eq(json_array_size(items), 2, "%s", json_dumps(items, 0));
	json_decref(items);
	items = list_all(m.tok, "status=closed");
	cr_assert_eq(json_array_size(items), 0, "%s", json_dumps(items, 0));
	json_decref(items);
	/* Registered today, nothing is due yet. */
	items = list_all(m.tok, "overdue=false");
	cr_assert_eq(json_array_size(items), 2, "%s", json_dumps(items, 0));
	json_array_foreach(items, i, item)
		cr_assert(json_is_false(json_object_get(item, "overdue")));
	json_decref(items);
	items = list_all(m.tok, "overdue=true");
	cr_assert_eq(json_array_size(items), 0, "%s", json_dumps(items, 0));
	json_decref(items);

	/* A keyworker sees their own only, whatever the filter asks. */
	snprintf(q, sizeof(q), "keyworker_id=%s", k2.id);
	items = list_all(k1.tok, q);
	cr_assert_eq(json_array_size(items), 0, "%s", json_dumps(items, 0));
	json_decref(items);

	free(area2);
	free(e1);
	free(e2);
	person_free(&m);
	person_free(&k1);
	person_free(&k2);
	ctx_close(&c);
}

Test(episodes, list_filters_are_validated)
{
	struct resp	*r;
	char		*tok;
	const char	*bad[] = { "status=open", "overdue=maybe",
			    "keyworker_id=nobody", "area_id=1", "limit=0",
			    "limit=201", "cursor=garbage!!", NULL };
	char		 path[256];
	int		 i;

	tok = kwt_login("keyworker@example.org", KWT_DEMO_PASSWORD);
	for (i = 0; bad[i] != NULL; i++) {
		snprintf(path, sizeof(path), "/v1/episodes?%s", bad[i]);
		r = get(path, tok);
		cr_assert_eq(r->status, 400, "%s: %ld %s", path, r->status,
		    r->raw);
		kwt_free(r);
	}
	free(tok);
}

/*
 * limit=1 walks the keyworker's episodes one page at a time, oldest first,
 * each exactly once, with and without a filter, until next_cursor is null.
 */
Test(episodes, list_pages_follow_next_cursor)
{
	struct ctx	 c;
	struct person	 k;
	struct resp	*r;
	json_t		*reg, *items, *cur;
	char		*ids[3], path[512], q[128];
	const char	*query;
	size_t		 n;
	int		 pass, pages;

	ctx_open(&c);
	person_new(&k, &c, "[\"practitioner\"]", NULL, NULL);
	for (n = 0; n < 3; n++) {
		reg = family_new(c.area_id, k.id, c.agency_id);
		ids[n] = register_ok(k.tok, reg);
		json_decref(reg);
	}
	snprintf(q, sizeof(q), "&keyworker_id=%s&status=registered", k.id);
	for (pass = 0; pass < 2; pass++) {
		query = pass == 0 ? "" : q;
		cur = NULL;
		n = 0;
		for (pages = 0; pages < 10; pages++) {
			snprintf(path, sizeof(path), "/v1/episodes?limit=1%s%s%s",
			    query, cur != NULL ? "&cursor=" : "",
			    cur != NULL ? json_string_value(cur) : "");
			json_decref(cur);
			r = get(path, k.tok);
			cr_assert_eq(r->status, 200, "%s: %ld %s", path,
			    r->status, r->raw);
			items = json_object_get(r->json, "items");
			cr_assert_leq(json_array_size(items), 1, "%s", r->raw);
			if (json_array_size(items) == 1) {
				cr_assert_lt(n, 3, "more than 3 pages: %s",
				    r->raw);
				cr_assert_str_eq(json_string_value(
				    json_object_get(json_array_get(items, 0),
				    "id")), ids[n], "page %zu out of order", n);
				n++;
			}
			cur = json_incref(json_object_get(r->json,
			    "next_cursor"));
			kwt_free(r);
			if (!json_is_string(cur))
				break;
		}
		json_decref(cur);
		cr_assert_eq(n, 3, "pass %d saw %zu of 3", pass, n);
		cr_assert_lt(pages, 4, "pass %d: %d pages for 3 items", pass,
		    pages + 1);
	}
	for (n = 0; n < 3; n++)
		free(ids[n]);
	person_free(&k);
	ctx_close(&c);
}

Test(episodes, an_episode_is_read_by_those_who_have_a_place_on_it)
{
	struct ctx	 c;
	struct person	 k, s;
	struct resp	*r;
	json_t		*reg;
	char		*id, path[128];

	ctx_open(&c);
	person_new(&k, &c, "[\"practitioner\"]", NULL, NULL);
	person_new(&s, &c, "[\"practitioner\"]", NULL, NULL);
	reg = family_new(c.area_id, k.id, c.agency_id);
	id = register_ok(k.tok, reg);
	snprintf(path, sizeof(path), "/v1/episodes/%s", id);

	r = get(path, k.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "id"), id);
	cr_assert_str_eq(kwt_str(r, "access"), "full");
	free(etag_of(r));
	kwt_free(r);

	/* Not there for a stranger, just like an id that was never used. */
	r = get(path, s.tok);
	cr_assert_eq(r->status, 404, "stranger: %ld %s", r->status, r->raw);
	cr_assert_null(strstr(r->raw, family_name_of(reg)), "%s", r->raw);
	kwt_free(r);
	r = get("/v1/episodes/" NO_SUCH_ID, k.tok);
	cr_assert_eq(r->status, 404, "no such id: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = get("/v1/episodes/not-a-uuid", k.tok);
	cr_assert_eq(r->status, 400, "malformed id: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = get(path, NULL);
	cr_assert_eq(r->status, 401, "no token: %ld %s", r->status, r->raw);
	kwt_free(r);

	json_decref(reg);
	free(id);
	person_free(&k);
	person_free(&s);
	ctx_close(&c);
}

/*
 * Only the keyworker and their manager change an episode, and only from
 * its current version: a limited or full TAF member sees it but may not
 * (403), a stranger does not see it (404).
 */
Test(episodes, a_change_needs_the_current_etag_and_the_keyworker)
{
	struct ctx	 c;
	struct person	 m, k, f, l, s;
	struct resp	*r;
	json_t		*reg;
	char		*id, *e1, *e2, *body, path[128], h[160], name[128];

	ctx_open(&c);
	person_new(&m, &c, "[\"manager\"]", NULL, NULL);
	person_new(&k, &c, "[\"practitioner\"]", NULL, m.id);
	person_new(&f, &c, "[\"practitioner\"]", NULL, NULL);
	person_new(&l, &c, "[\"practitioner\"]", NULL, NULL);
	person_new(&s, &c, "[\"practitioner\"]", NULL, NULL);
	reg = family_new(c.area_id, k.id, c.agency_id);
	id = register_ok(k.tok, reg);
	add_team(k.tok, id, f.id, "full");
	add_team(k.tok, id, l.id, "limited");
	snprintf(path, sizeof(path), "/v1/episodes/%s", id);
	r = get(path, k.tok);
	cr_assert_eq(r->status, 200);
	e1 = etag_of(r);
	kwt_free(r);

	snprintf(name, sizeof(name), "Renamed%s", kwt_unique());
	body = kwt_json("{s:{s:s, s:s}}", "family", "name", name, "postcode",
	    "ZZ9 9ZZ");
	snprintf(h, sizeof(h), "If-Match: %s", e1);
	r = send_json("PATCH", path, k.tok, body, h);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	e2 = etag_of(r);
	cr_assert_str_neq(e1, e2, "the ETag did not change");
	cr_assert_str_eq(kwt_str(r, "family_name"), name);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    r->json, "family"), "name")), name);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    r->json, "family"), "postcode")), "ZZ9 9ZZ");
	cr_assert_str_eq(kwt_str(r, "keyworker_id"), k.id, "%s", r->raw);
	kwt_free(r);
	r = get(path, k.tok);
	cr_assert_str_eq(kwt_header(r, "ETag"), e2);
	cr_assert_str_eq(kwt_str(r, "family_name"), name);
	kwt_free(r);

	/* Read before that change: read again first. */
	r = send_json("PATCH", path, k.tok, body, h);
	cr_assert_eq(r->status, 412, "stale If-Match: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	r = send_json("PATCH", path, k.tok, body, NULL);
	cr_assert_eq(r->status, 400, "no If-Match: %ld %s", r->status, r->raw);
	kwt_free(r);

	snprintf(h, sizeof(h), "If-Match: %s", e2);
	r = send_json("PATCH", path, l.tok, body, h);
	cr_assert_eq(r->status, 403, "limited member: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	r = send_json("PATCH", path, f.tok, body, h);
	cr_assert_eq(r->status, 403, "full member: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = send_json("PATCH", path, s.tok, body, h);
	cr_assert_eq(r->status, 404, "stranger: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = send_json("PATCH", path, c.admin, body, h);
	cr_assert_eq(r->status, 404, "admin: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = get(path, k.tok);
	cr_assert_str_eq(kwt_header(r, "ETag"), e2, "a refused change "
	    "changed the episode");
	kwt_free(r);

	/* The keyworker's manager may. */
	free(body);
	body = kwt_json("{s:{s:n}}", "family", "postcode");
	r = send_json("PATCH", path, m.tok, body, h);
	cr_assert_eq(r->status, 200, "manager: %ld %s", r->status, r->raw);
	cr_assert(json_is_null(json_object_get(json_object_get(r->json,
	    "family"), "postcode")), "%s", r->raw);
	cr_assert_str_eq(kwt_str(r, "family_name"), name);
	kwt_free(r);

	free(body);
	json_decref(reg);
	free(id);
	free(e1);
	free(e2);
	person_free(&m);
	person_free(&k);
	person_free(&f);
	person_free(&l);
	person_free(&s);
	ctx_close(&c);
}

/*
 * A practitioner registers families they will keywork themselves; a
 * manager may name one of their practitioners, a coordinator any
 * practitioner for a family in their area; an admin registers nobody.
 */
Test(episodes, who_may_name_whom_as_keyworker)
{
	struct ctx	 c;
	struct person	 p, q, m, coord;
	struct resp	*r;
	json_t		*reg;
	char		*area2, *body, *partner;

	ctx_open(&c);
	area2 = new_area(c.admin);
	person_new(&m, &c, "[\"manager\"]", NULL, NULL);
	person_new(&p, &c, "[\"practitioner\"]", NULL, m.id);
	person_new(&q, &c, "[\"practitioner\"]", NULL, NULL);
	person_new(&coord, &c, "[\"coordinator\"]", NULL, NULL);

	reg = family_new(c.area_id, q.id, c.agency_id);
	r = register_family(p.tok, reg, NULL);
	cr_assert_eq(r->status, 403, "practitioner naming another: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	r = register_family(m.tok, reg, NULL);
	cr_assert_eq(r->status, 403, "manager naming a stranger: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	r = register_family(c.admin, reg, NULL);
	cr_assert_eq(r->status, 403, "admin: %ld %s", r->status, r->raw);
	kwt_free(r);
	/* Nor does a partner system, whose practitioners register. */
	body = kwt_json("{s:s, s:s}", "name", kwt_unique(), "kind", "health");
	r = send_json("POST", "/v1/agencies", c.admin, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->raw);
	body = kwt_json("{s:s, s:s}", "name", "Episode test partner",
	    "agency_id", kwt_str(r, "id"));
	kwt_free(r);
	r = send_json("POST", "/v1/api-clients", c.admin, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->raw);
	partner = strdup(kwt_str(r, "api_key"));
	kwt_free(r);
	r = register_family(partner, reg, NULL);
	cr_assert_eq(r->status, 403, "partner: %ld %s", r->status, r->raw);
	kwt_free(r);
	free(partner);
	json_decref(reg);

	/* A coordinator: anyone, for a family in their own area only. */
	reg = family_new(area2, q.id, c.agency_id);
	r = register_family(coord.tok, reg, NULL);
	cr_assert_eq(r->status, 403, "coordinator, other area: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	json_decref(reg);
	reg = family_new(c.area_id, q.id, c.agency_id);
	r = register_family(coord.tok, reg, NULL);
	cr_assert_eq(r->status, 201, "coordinator, own area: %ld %s",
	    r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "keyworker_id"), q.id);
	cr_assert_str_eq(kwt_str(r, "access"), "full");
	kwt_free(r);
	json_decref(reg);

	/* A manager: one of their practitioners. */
	reg = family_new(c.area_id, p.id, c.agency_id);
	r = register_family(m.tok, reg, NULL);
	cr_assert_eq(r->status, 201, "manager naming a report: %ld %s",
	    r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "keyworker_id"), p.id);
	kwt_free(r);
	json_decref(reg);

	/* The keyworker must be a practitioner, whoever names them. */
	reg = family_new(c.area_id, coord.id, c.agency_id);
	r = register_family(coord.tok, reg, NULL);
	assert_rule(r, "keyworker_is_practitioner", "a coordinator as keyworker");
	kwt_free(r);
	json_decref(reg);

	free(area2);
	person_free(&p);
	person_free(&q);
	person_free(&m);
	person_free(&coord);
	ctx_close(&c);
}
