/*
 * Who reaches which record of the work on an episode, through the API:
 * the assessment, consents, documents and their content, outcome scores,
 * meetings and actions, for the keyworker, a full and a limited TAF
 * member, the keyworker's line manager, the area's coordinator, an admin
 * and a practitioner with no place on the episode. Full access reads
 * everything; a limited member is told no (403) for the case's content,
 * sees only the meetings they are invited to and the actions they own,
 * and reports progress on their own actions; no place at all (the admin
 * included) is told nothing (404). Who may write what follows the role:
 * the keyworker and their manager plan, full members add documents.
 *
 * Each test builds its own world: fresh areas, agencies, accounts and a
 * family with unique names.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "client.h"

#define ADMIN_EMAIL	"admin@example.org"
#define USER_PASSWORD	"correct-horse-battery-staple"

/* An account made by the test, signed in. */
struct person {
	const char	*who;
	char		*id;
	char		*tok;
};

/*
 * One episode, everyone around it, and one of each record: the secrets
 * are text only full access may ever see.
 */
struct world {
	char		*admin;
	char		*agency;
	char		*agency_t;
	char		*area;
	struct person	 manager;
	struct person	 keyworker;
	struct person	 full;
	struct person	 limited;
	struct person	 coord;
	struct person	 stranger;
	struct person	 admin_p;	/* the admin, as a caller */
	char		*episode;
	char		*parent_id;
	char		*meeting_all;	/* the limited member not invited */
	char		*meeting_lim;	/* the limited member invited */
	char		*action_lim;	/* owned by the limited member */
	char		*action_full;	/* owned by the full member */
	char		*document;
	char		*area_id;	/* an outcome area */
	char		 family[128];
	char		 s_assess[128];	/* in the assessment */
	char		 s_voice[128];	/* a voice */
	char		 s_consent[128];/* a consent's statement */
	char		 s_doc[128];	/* a document's content */
	char		 s_note[128];	/* a case note */
	char		 s_venue[128];	/* the meeting they are not invited to */
	char		 s_action[128];	/* the action they do not own */
};

static struct resp	*send_json(const char *, const char *, const char *,
			    const char *, const char *);
static struct resp	*get(const char *, const char *);
static char		*new_area(const char *);
static char		*new_agency(const char *);
static void		 person_new(struct person *, struct world *,
			    const char *, const char *, const char *,
			    const char *);
static void		 person_free(struct person *);
static void		 world_open(struct world *);
static void		 world_close(struct world *);
static char		*created(struct resp *, const char *);
static json_t		*find_item(json_t *, const char *, const char *);
static void		 assert_no_secrets(struct world *, struct resp *,
			    const char *, const char *);
static void		 assert_get(struct world *, struct person *,
			    const char *, long);
static struct resp	*upload(struct world *, const char *);

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
	char		*body;

	body = kwt_json("{s:s}", "name", kwt_unique());
	r = send_json("POST", "/v1/areas", admin, body, NULL);
	free(body);
	return created(r, "new area");
}

static char *
new_agency(const char *admin)
{
	struct resp	*r;
	char		*body;

	body = kwt_json("{s:s, s:s}", "name", kwt_unique(), "kind",
	    "police");
	r = send_json("POST", "/v1/agencies", admin, body, NULL);
	free(body);
	return created(r, "new agency");
}

/* Asserts 201 and frees r; the new record's id (caller frees). */
static char *
created(struct resp *r, const char *what)
{
	char	*id;

	cr_assert_eq(r->status, 201, "%s: %ld %s", what, r->status, r->raw);
	id = strdup(kwt_str(r, "id"));
	kwt_free(r);
	return id;
}

static void
person_new(struct person *p, struct world *w, const char *who,
    const char *roles, const char *agency, const char *manager)
{
	struct resp	*r;
	json_error_t	 err;
	json_t		*j;
	char		 email[160], *body;

	p->who = who;
	snprintf(email, sizeof(email), "wa-%s@test.example.org", kwt_unique());
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "email", email,
	    "name", "Work Access Tester", "password", USER_PASSWORD,
	    "agency_id", agency != NULL ? agency : w->agency,
	    "area_id", w->area, "roles", json_loads(roles, 0, &err));
	cr_assert_not_null(j);
	if (manager != NULL)
		json_object_set_new(j, "manager_id", json_string(manager));
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	r = send_json("POST", "/v1/users", w->admin, body, NULL);
	free(body);
	p->id = created(r, "new user");
	p->tok = kwt_login(email, USER_PASSWORD);
}

static void
person_free(struct person *p)
{
	free(p->id);
	free(p->tok);
}

/* Upload a document with the secret content as tok; the response. */
static struct resp *
upload(struct world *w, const char *tok)
{
	char	path[256];

	snprintf(path, sizeof(path),
	    "/v1/episodes/%s/documents?filename=report.txt", w->episode);
	return kwt_request_bin("POST", path, tok, "text/plain", w->s_doc,
	    strlen(w->s_doc), NULL);
}

static void
world_open(struct world *w)
{
	struct resp	*r;
	struct tm	 tm;
	time_t		 t = time(NULL) - 3600;
	json_t		*m;
	char		*body, when[32], u[64], path[256], today[16];
	size_t		 i;

	memset(w, 0, sizeof(*w));
	w->admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	r = get("/v1/me", w->admin);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	w->agency = strdup(kwt_str(r, "agency_id"));
	w->admin_p.who = "admin";
	w->admin_p.id = strdup(kwt_str(r, "id"));
	w->admin_p.tok = strdup(w->admin);
	kwt_free(r);
	w->area = new_area(w->admin);
	w->agency_t = new_agency(w->admin);
	person_new(&w->manager, w, "line manager", "[\"manager\"]", NULL,
	    NULL);
	person_new(&w->keyworker, w, "keyworker", "[\"practitioner\"]", NULL,
	    w->manager.id);
	person_new(&w->full, w, "full member", "[\"practitioner\"]",
	    w->agency_t, NULL);
	person_new(&w->limited, w, "limited member", "[\"practitioner\"]",
	    w->agency_t, NULL);
	person_new(&w->coord, w, "coordinator", "[\"coordinator\"]", NULL,
	    NULL);
	person_new(&w->stranger, w, "stranger", "[\"practitioner\"]", NULL,
	    NULL);

	snprintf(u, sizeof(u), "%s", kwt_unique());
	snprintf(w->family, sizeof(w->family), "Wac%s", u);
	snprintf(w->s_assess, sizeof(w->s_assess), "Assessed need %s", u);
	snprintf(w->s_voice, sizeof(w->s_voice), "In my own words %s", u);
	snprintf(w->s_consent, sizeof(w->s_consent), "Consent wording %s", u);
	snprintf(w->s_doc, sizeof(w->s_doc), "Document content %s", u);
	snprintf(w->s_note, sizeof(w->s_note), "Case note %s", u);
	snprintf(w->s_venue, sizeof(w->s_venue), "Private venue %s", u);
	snprintf(w->s_action, sizeof(w->s_action), "Someone else's task %s",
	    u);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	body = kwt_json("{s:{s:s, s:s},"
	    " s:[{s:s, s:s, s:s, s:s, s:b}, {s:s, s:s, s:s, s:s, s:b}],"
	    " s:s, s:s, s:{s:s, s:s}}",
	    "family", "name", w->family, "area_id", w->area,
	    "members",
	    "given_name", "Sam", "family_name", w->family, "date_of_birth",
	    "1980-01-02", "relationship", "father", "is_child", 0,
	    "given_name", "Kit", "family_name", w->family, "date_of_birth",
	    "2015-03-04", "relationship", "son", "is_child", 1,
	    "keyworker_id", w->keyworker.id, "lead_agency_id", w->agency,
	    "verbal_consent", "obtained_at", when, "given_by", "Sam");
	r = send_json("POST", "/v1/episodes", w->keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "register: %ld %s", r->status, r->raw);
	w->episode = strdup(kwt_str(r, "id"));
	json_array_foreach(json_object_get(r->json, "members"), i, m)
		if (strcmp(json_string_value(json_object_get(m, "given_name")),
		    "Sam") == 0)
			w->parent_id = strdup(json_string_value(
			    json_object_get(m, "id")));
	cr_assert_not_null(w->parent_id);
	kwt_free(r);

	snprintf(path, sizeof(path), "/v1/episodes/%s/team", w->episode);
	body = kwt_json("{s:s, s:s}", "user_id", w->full.id, "level", "full");
	r = send_json("POST", path, w->keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "full member: %ld %s", r->status, r->raw);
	kwt_free(r);
	body = kwt_json("{s:s, s:s}", "user_id", w->limited.id, "level",
	    "limited");
	r = send_json("POST", path, w->keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "limited member: %ld %s", r->status,
	    r->raw);
	kwt_free(r);

	/* The assessment draft, with a voice. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/assessment", w->episode);
	body = kwt_json("{s:s, s:[{s:s, s:s}]}", "needs", w->s_assess,
	    "voices", "member_id", w->parent_id, "in_own_words", w->s_voice);
	r = send_json("PUT", path, w->keyworker.tok, body, "If-Match: \"0\"");
	free(body);
	cr_assert_eq(r->status, 200, "assessment: %ld %s", r->status, r->raw);
	kwt_free(r);

	/* A consent. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/consents", w->episode);
	body = kwt_json("{s:s, s:s, s:s, s:s}", "kind", "review", "given_by",
	    "Sam", "obtained_at", when, "statement", w->s_consent);
	free(created(send_json("POST", path, w->keyworker.tok, body, NULL),
	    "consent"));
	free(body);

	/* A case note, and a document. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/notes", w->episode);
	body = kwt_json("{s:s, s:s}", "body", w->s_note, "kind", "opinion");
	r = send_json("POST", path, w->keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "note: %ld %s", r->status, r->raw);
	kwt_free(r);
	w->document = created(upload(w, w->keyworker.tok), "document");

	/* An outcome score. */
	r = get("/v1/outcome-areas", w->keyworker.tok);
	cr_assert_eq(r->status, 200);
	json_array_foreach(json_object_get(r->json, "items"), i, m)
		if (json_is_true(json_object_get(m, "active"))) {
			w->area_id = strdup(json_string_value(
			    json_object_get(m, "id")));
			break;
		}
	kwt_free(r);
	cr_assert_not_null(w->area_id);
	{
		struct tm	lt;
		time_t		now = time(NULL) - 86400;

		gmtime_r(&now, &lt);
		strftime(today, sizeof(today), "%Y-%m-%d", &lt);
	}
	snprintf(path, sizeof(path), "/v1/episodes/%s/outcome-scores",
	    w->episode);
	body = kwt_json("{s:s, s:[{s:s, s:i}]}", "scored_on", today,
	    "scores", "area_id", w->area_id, "score", 4);
	r = send_json("POST", path, w->keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "scores: %ld %s", r->status, r->raw);
	kwt_free(r);

	/*
	 * Two meetings: the initial one without the limited member, a
	 * review with them.
	 */
	snprintf(path, sizeof(path), "/v1/episodes/%s/meetings", w->episode);
	body = kwt_json("{s:s, s:s, s:b, s:{s:[s, s], s:[s]}}",
	    "scheduled_at", "2030-01-07T10:00:00Z", "venue", w->s_venue,
	    "family_can_attend", 1, "invitees", "user_ids", w->keyworker.id,
	    w->full.id, "member_ids", w->parent_id);
	w->meeting_all = created(send_json("POST", path, w->keyworker.tok,
	    body, NULL), "meeting");
	free(body);
	body = kwt_json("{s:s, s:s, s:b, s:{s:[s, s], s:[s]}}",
	    "scheduled_at", "2030-02-18T10:00:00Z", "venue", "Town hall",
	    "family_can_attend", 1, "invitees", "user_ids", w->keyworker.id,
	    w->limited.id, "member_ids", w->parent_id);
	w->meeting_lim = created(send_json("POST", path, w->keyworker.tok,
	    body, NULL), "meeting");
	free(body);

	/* Two actions: one for each member. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/actions", w->episode);
	body = kwt_json("{s:s, s:s, s:s, s:s}", "what",
	    "Share the school's attendance log", "owner_user_id",
	    w->limited.id, "measure", "Log shared weekly", "due_date",
	    "2030-03-01");
	w->action_lim = created(send_json("POST", path, w->keyworker.tok,
	    body, NULL), "action");
	free(body);
	body = kwt_json("{s:s, s:s, s:s, s:s}", "what", w->s_action,
	    "owner_user_id", w->full.id, "measure", "Done", "due_date",
	    "2030-03-02");
	w->action_full = created(send_json("POST", path, w->keyworker.tok,
	    body, NULL), "action");
	free(body);
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
	person_free(&w->full);
	person_free(&w->limited);
	person_free(&w->coord);
	person_free(&w->stranger);
	person_free(&w->admin_p);
	free(w->episode);
	free(w->parent_id);
	free(w->meeting_all);
	free(w->meeting_lim);
	free(w->action_lim);
	free(w->action_full);
	free(w->document);
	free(w->area_id);
}

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

/* None of the case's content in a response to who (what: the request). */
static void
assert_no_secrets(struct world *w, struct resp *r, const char *who,
    const char *what)
{
	const char	*s[] = { w->s_assess, w->s_voice, w->s_consent,
			    w->s_doc, w->s_note, w->s_venue, w->s_action,
			    "\"strengths\"", "\"voices\"", "\"sha256\"",
			    NULL };
	int		 i;

	for (i = 0; s[i] != NULL; i++)
		cr_assert(memmem(r->raw, r->len, s[i], strlen(s[i])) == NULL,
		    "%s: %s shows %s: %s", who, what, s[i], r->raw);
}

/* GET path as p answers want; a refusal reveals nothing. */
static void
assert_get(struct world *w, struct person *p, const char *path, long want)
{
	struct resp	*r = get(path, p->tok);

	cr_assert_eq(r->status, want, "%s: GET %s: %ld (want %ld) %s", p->who,
	    path, r->status, want, r->raw);
	if (want != 200)
		assert_no_secrets(w, r, p->who, path);
	kwt_free(r);
}

/*
 * The assessment, consents, documents and scores: full access reads
 * them, limited access is refused, no place is told nothing.
 */
Test(work_access, case_records_need_full_access)
{
	struct world	 w;
	struct person	*fullp[4], *nonep[2];
	struct resp	*r;
	const char	*sub[] = { "assessment", "consents", "documents",
			    "outcome-scores", NULL };
	char		 path[256];
	int		 i, k;

	world_open(&w);
	fullp[0] = &w.keyworker;
	fullp[1] = &w.full;
	fullp[2] = &w.manager;
	fullp[3] = &w.coord;
	nonep[0] = &w.stranger;
	nonep[1] = &w.admin_p;
	for (i = 0; sub[i] != NULL; i++) {
		snprintf(path, sizeof(path), "/v1/episodes/%s/%s", w.episode,
		    sub[i]);
		for (k = 0; k < 4; k++)
			assert_get(&w, fullp[k], path, 200);
		assert_get(&w, &w.limited, path, 403);
		for (k = 0; k < 2; k++)
			assert_get(&w, nonep[k], path, 404);
	}

	/* What full access reads is really there. */
	for (k = 0; k < 4; k++) {
		snprintf(path, sizeof(path), "/v1/episodes/%s/assessment",
		    w.episode);
		r = get(path, fullp[k]->tok);
		cr_assert_not_null(strstr(r->raw, w.s_assess), "%s: %s",
		    fullp[k]->who, r->raw);
		cr_assert_not_null(strstr(r->raw, w.s_voice));
		kwt_free(r);
		snprintf(path, sizeof(path), "/v1/episodes/%s/consents",
		    w.episode);
		r = get(path, fullp[k]->tok);
		cr_assert_not_null(strstr(r->raw, w.s_consent), "%s: %s",
		    fullp[k]->who, r->raw);
		kwt_free(r);
		snprintf(path, sizeof(path), "/v1/episodes/%s/documents",
		    w.episode);
		r = get(path, fullp[k]->tok);
		cr_assert_not_null(find_item(json_object_get(r->json, "items"),
		    "id", w.document), "%s: %s", fullp[k]->who, r->raw);
		kwt_free(r);
		snprintf(path, sizeof(path), "/v1/episodes/%s/outcome-scores",
		    w.episode);
		r = get(path, fullp[k]->tok);
		cr_assert_eq(json_array_size(json_object_get(r->json,
		    "items")), 1, "%s: %s", fullp[k]->who, r->raw);
		kwt_free(r);
	}

	/*
	 * A document by its id: its details and its content for full
	 * access only. Limited access cannot list documents, so an id is
	 * a document that does not exist for them (the spec answers 404
	 * for these two operations, never 403).
	 */
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/v1/documents/%s%s", w.document,
		    i == 0 ? "" : "/content");
		for (k = 0; k < 4; k++) {
			r = get(path, fullp[k]->tok);
			cr_assert_eq(r->status, 200, "%s: GET %s: %ld %s",
			    fullp[k]->who, path, r->status, r->raw);
			if (i == 1)
				cr_assert(r->len == strlen(w.s_doc) &&
				    memcmp(r->raw, w.s_doc, r->len) == 0,
				    "%s: content: %s", fullp[k]->who, r->raw);
			kwt_free(r);
		}
		assert_get(&w, &w.limited, path, 404);
		for (k = 0; k < 2; k++)
			assert_get(&w, nonep[k], path, 404);
	}
	world_close(&w);
}

/*
 * Meetings and actions: a limited member sees the meetings they are
 * invited to and the actions they own; full access sees them all.
 */
Test(work_access, limited_members_see_their_meetings_and_actions)
{
	struct world	 w;
	struct person	*fullp[4], *nonep[2];
	struct resp	*r;
	json_t		*items, *m;
	char		 path[256];
	int		 k;

	world_open(&w);
	fullp[0] = &w.keyworker;
	fullp[1] = &w.full;
	fullp[2] = &w.manager;
	fullp[3] = &w.coord;
	nonep[0] = &w.stranger;
	nonep[1] = &w.admin_p;

	snprintf(path, sizeof(path), "/v1/episodes/%s/meetings", w.episode);
	for (k = 0; k < 4; k++) {
		r = get(path, fullp[k]->tok);
		cr_assert_eq(r->status, 200, "%s: %ld %s", fullp[k]->who,
		    r->status, r->raw);
		items = json_object_get(r->json, "items");
		cr_assert_eq(json_array_size(items), 2, "%s: %s",
		    fullp[k]->who, r->raw);
		m = find_item(items, "id", w.meeting_lim);
		cr_assert_eq(json_array_size(json_object_get(m, "invitees")),
		    3, "%s: %s", fullp[k]->who, r->raw);
		kwt_free(r);
	}
	r = get(path, w.limited.tok);
	cr_assert_eq(r->status, 200, "limited: %ld %s", r->status, r->raw);
	items = json_object_get(r->json, "items");
	cr_assert_eq(json_array_size(items), 1, "limited: %s", r->raw);
	m = find_item(items, "id", w.meeting_lim);
	cr_assert_not_null(m, "limited: %s", r->raw);
	/* Invited only to the review, they still see it called a review. */
	cr_assert_str_eq(json_string_value(json_object_get(m, "kind")),
	    "review", "%s", r->raw);
	/* Of the invitees, only themselves. */
	cr_assert_eq(json_array_size(json_object_get(m, "invitees")), 1,
	    "%s", r->raw);
	cr_assert_not_null(find_item(json_object_get(m, "invitees"),
	    "user_id", w.limited.id), "%s", r->raw);
	assert_no_secrets(&w, r, "limited", path);
	cr_assert_null(strstr(r->raw, w.meeting_all), "%s", r->raw);
	cr_assert_null(strstr(r->raw, w.parent_id),
	    "limited sees the family's invitees: %s", r->raw);
	cr_assert_null(strstr(r->raw, w.keyworker.id),
	    "limited sees the other invitees: %s", r->raw);
	kwt_free(r);
	for (k = 0; k < 2; k++)
		assert_get(&w, nonep[k], path, 404);

	snprintf(path, sizeof(path), "/v1/episodes/%s/actions", w.episode);
	for (k = 0; k < 4; k++) {
		r = get(path, fullp[k]->tok);
		cr_assert_eq(r->status, 200, "%s: %ld %s", fullp[k]->who,
		    r->status, r->raw);
		cr_assert_eq(json_array_size(json_object_get(r->json,
		    "items")), 2, "%s: %s", fullp[k]->who, r->raw);
		kwt_free(r);
	}
	r = get(path, w.limited.tok);
	cr_assert_eq(r->status, 200, "limited: %ld %s", r->status, r->raw);
	items = json_object_get(r->json, "items");
	cr_assert_eq(json_array_size(items), 1, "limited: %s", r->raw);
	cr_assert_not_null(find_item(items, "id", w.action_lim), "%s", r->raw);
	assert_no_secrets(&w, r, "limited", path);
	kwt_free(r);
	for (k = 0; k < 2; k++)
		assert_get(&w, nonep[k], path, 404);
	world_close(&w);
}

/*
 * The owner of an action reports its status and progress, at any level;
 * the rest of it is the keyworker's. An action someone cannot see does
 * not exist for them.
 */
Test(work_access, an_owner_reports_progress_on_their_own_action)
{
	struct world	 w;
	struct resp	*r;
	char		 path[256], path2[256], hdr[64];
	char		*etag;

	world_open(&w);
	snprintf(path, sizeof(path), "/v1/actions/%s", w.action_lim);
	snprintf(path2, sizeof(path2), "/v1/actions/%s", w.action_full);

	/* Each reads what they may, with its ETag for the next change. */
	r = get(path2, w.limited.tok);
	cr_assert_eq(r->status, 404, "limited reads another's action: %ld",
	    r->status);
	kwt_free(r);
	r = get(path, w.stranger.tok);
	cr_assert_eq(r->status, 404, "stranger reads an action: %ld", r->status);
	kwt_free(r);
	r = get(path2, w.full.tok);
	cr_assert_eq(r->status, 200, "full member reads an action: %ld",
	    r->status);
	kwt_free(r);
	r = get(path, w.limited.tok);
	cr_assert_eq(r->status, 200, "owner reads their action: %ld %s",
	    r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "id"), w.action_lim);
	snprintf(hdr, sizeof(hdr), "If-Match: %s", kwt_header(r, "ETag"));
	kwt_free(r);

	r = send_json("PATCH", path, w.limited.tok,
	    "{\"status\":\"in_progress\",\"progress\":\"Week one sent.\"}",
	    hdr);
	cr_assert_eq(r->status, 200, "owner's progress: %ld %s", r->status,
	    r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "in_progress");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(r->json, "updates"), 0), "by")), w.limited.id);
	assert_no_secrets(&w, r, "limited", path);
	etag = strdup(kwt_header(r, "ETag"));
	kwt_free(r);
	snprintf(hdr, sizeof(hdr), "If-Match: %s", etag);
	r = send_json("PATCH", path, w.limited.tok,
	    "{\"progress\":\"Week two sent.\"}", hdr);
	cr_assert_eq(r->status, 200, "progress only: %ld %s", r->status,
	    r->raw);
	free(etag);
	etag = strdup(kwt_header(r, "ETag"));
	kwt_free(r);
	snprintf(hdr, sizeof(hdr), "If-Match: %s", etag);

	/* Not what it is, nor when it is due. */
	r = send_json("PATCH", path, w.limited.tok, "{\"what\":\"Nothing\"}",
	    hdr);
	cr_assert_eq(r->status, 403, "owner changes what: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	r = send_json("PATCH", path, w.limited.tok,
	    "{\"due_date\":\"2031-01-01\"}", hdr);
	cr_assert_eq(r->status, 403, "owner moves due date: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	r = send_json("PATCH", path, w.limited.tok,
	    "{\"status\":\"done\",\"due_date\":\"2031-01-01\"}", hdr);
	cr_assert_eq(r->status, 403, "status with due date: %ld %s",
	    r->status, r->raw);
	kwt_free(r);

	/* Someone else's action: not there for a limited member. */
	r = send_json("PATCH", path2, w.limited.tok,
	    "{\"status\":\"done\"}", "If-Match: \"1\"");
	cr_assert_eq(r->status, 404, "another's action: %ld %s", r->status,
	    r->raw);
	assert_no_secrets(&w, r, "limited", path2);
	kwt_free(r);
	/* A full member sees it, but it is not theirs to report. */
	r = send_json("PATCH", path, w.full.tok, "{\"status\":\"done\"}", hdr);
	cr_assert_eq(r->status, 403, "full member, not owner: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	r = send_json("PATCH", path, w.stranger.tok, "{\"status\":\"done\"}",
	    hdr);
	cr_assert_eq(r->status, 404, "stranger: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = send_json("PATCH", path, w.admin, "{\"status\":\"done\"}", hdr);
	cr_assert_eq(r->status, 404, "admin: %ld %s", r->status, r->raw);
	kwt_free(r);

	/* Nothing the refusals tried took effect; the keyworker moves it. */
	r = send_json("PATCH", path, w.keyworker.tok,
	    "{\"due_date\":\"2030-04-01\"}", hdr);
	cr_assert_eq(r->status, 200, "keyworker: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "status"), "in_progress");
	cr_assert_str_eq(kwt_str(r, "what"),
	    "Share the school's attendance log");
	cr_assert_str_eq(kwt_str(r, "due_date"), "2030-04-01");
	cr_assert_eq(json_array_size(json_object_get(r->json, "updates")), 2,
	    "%s", r->raw);
	kwt_free(r);
	free(etag);
	world_close(&w);
}

/*
 * Writing: documents come from the keyworker and full members; meetings,
 * the assessment and scores from the keyworker and their manager.
 */
Test(work_access, who_may_add_documents_meetings_and_plans)
{
	struct world	 w;
	struct resp	*r;
	char		 path[256], *body;
	struct person	*no[5];
	int		 k;

	world_open(&w);

	/* Documents. */
	r = upload(&w, w.full.tok);
	cr_assert_eq(r->status, 201, "full member uploads: %ld %s", r->status,
	    r->raw);
	cr_assert_str_eq(kwt_str(r, "uploaded_by"), w.full.id);
	kwt_free(r);
	no[0] = &w.manager;
	no[1] = &w.limited;
	no[2] = &w.coord;
	for (k = 0; k < 3; k++) {
		r = upload(&w, no[k]->tok);
		cr_assert_eq(r->status, 403, "%s uploads: %ld %s", no[k]->who,
		    r->status, r->raw);
		kwt_free(r);
	}
	r = upload(&w, w.stranger.tok);
	cr_assert_eq(r->status, 404, "stranger uploads: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	r = upload(&w, w.admin);
	cr_assert_eq(r->status, 404, "admin uploads: %ld %s", r->status,
	    r->raw);
	kwt_free(r);

	/* Meetings: the keyworker's and the manager's. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/meetings", w.episode);
	body = kwt_json("{s:s, s:s, s:b, s:{s:[s]}}", "scheduled_at",
	    "2030-05-06T10:00:00Z", "venue", "School", "family_can_attend", 1,
	    "invitees", "user_ids", w.keyworker.id);
	no[0] = &w.full;
	no[1] = &w.limited;
	no[2] = &w.coord;
	for (k = 0; k < 3; k++) {
		r = send_json("POST", path, no[k]->tok, body, NULL);
		cr_assert_eq(r->status, 403, "%s arranges: %ld %s", no[k]->who,
		    r->status, r->raw);
		kwt_free(r);
	}
	r = send_json("POST", path, w.stranger.tok, body, NULL);
	cr_assert_eq(r->status, 404, "stranger arranges: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	r = send_json("POST", path, w.admin, body, NULL);
	cr_assert_eq(r->status, 404, "admin arranges: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	r = send_json("POST", path, w.manager.tok, body, NULL);
	cr_assert_eq(r->status, 201, "manager arranges: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	free(body);

	/* A meeting's changes: the keyworker's and the manager's. */
	snprintf(path, sizeof(path), "/v1/meetings/%s", w.meeting_lim);
	for (k = 0; k < 3; k++) {
		r = send_json("PATCH", path, no[k]->tok,
		    "{\"venue\":\"Elsewhere\"}", "If-Match: \"1\"");
		cr_assert_eq(r->status, 403, "%s changes a meeting: %ld %s",
		    no[k]->who, r->status, r->raw);
		kwt_free(r);
	}

	/* The assessment, scores and consents. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/assessment", w.episode);
	for (k = 0; k < 3; k++) {
		r = send_json("PUT", path, no[k]->tok, "{\"needs\":\"x\"}",
		    "If-Match: \"1\"");
		cr_assert_eq(r->status, 403, "%s writes the assessment: %ld %s",
		    no[k]->who, r->status, r->raw);
		assert_no_secrets(&w, r, no[k]->who, path);
		kwt_free(r);
	}
	snprintf(path, sizeof(path), "/v1/episodes/%s/assessment/complete",
	    w.episode);
	r = kwt_request("POST", path, w.full.tok, "", "", NULL);
	cr_assert_eq(r->status, 403, "full member completes: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	snprintf(path, sizeof(path), "/v1/episodes/%s/outcome-scores",
	    w.episode);
	body = kwt_json("{s:s, s:[{s:s, s:i}]}", "scored_on", "2026-01-05",
	    "scores", "area_id", w.area_id, "score", 9);
	for (k = 0; k < 2; k++) {
		r = send_json("POST", path, no[k]->tok, body, NULL);
		cr_assert_eq(r->status, 403, "%s scores: %ld %s", no[k]->who,
		    r->status, r->raw);
		kwt_free(r);
	}
	r = send_json("POST", path, w.admin, body, NULL);
	cr_assert_eq(r->status, 404, "admin scores: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	free(body);
	snprintf(path, sizeof(path), "/v1/episodes/%s/consents", w.episode);
	body = kwt_json("{s:s, s:s, s:s}", "kind", "written", "given_by",
	    "Sam", "obtained_at", "2026-01-05T10:00:00Z");
	r = send_json("POST", path, w.limited.tok, body, NULL);
	cr_assert_eq(r->status, 403, "limited records consent: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	r = send_json("POST", path, w.admin, body, NULL);
	cr_assert_eq(r->status, 404, "admin records consent: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	free(body);

	/* Actions: planned by the keyworker and their manager. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/actions", w.episode);
	body = kwt_json("{s:s, s:s, s:s, s:s}", "what", "Call the GP",
	    "owner_user_id", w.full.id, "measure", "Called", "due_date",
	    "2030-06-01");
	for (k = 0; k < 3; k++) {
		r = send_json("POST", path, no[k]->tok, body, NULL);
		cr_assert_eq(r->status, 403, "%s plans: %ld %s", no[k]->who,
		    r->status, r->raw);
		kwt_free(r);
	}
	r = send_json("POST", path, w.manager.tok, body, NULL);
	cr_assert_eq(r->status, 201, "manager plans: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	free(body);
	world_close(&w);
}

/*
 * An admin runs the service, not the cases: every record of the work on
 * an episode is out of their sight.
 */
Test(work_access, an_admin_sees_no_case_content)
{
	struct world	 w;
	char		 path[256];
	const char	*paths[] = { "/v1/episodes/%s/assessment",
			    "/v1/episodes/%s/consents",
			    "/v1/episodes/%s/meetings",
			    "/v1/episodes/%s/actions",
			    "/v1/episodes/%s/documents",
			    "/v1/episodes/%s/outcome-scores", NULL };
	int		 i;

	world_open(&w);
	for (i = 0; paths[i] != NULL; i++) {
		snprintf(path, sizeof(path), paths[i], w.episode);
		assert_get(&w, &w.admin_p, path, 404);
	}
	snprintf(path, sizeof(path), "/v1/documents/%s", w.document);
	assert_get(&w, &w.admin_p, path, 404);
	snprintf(path, sizeof(path), "/v1/documents/%s/content", w.document);
	assert_get(&w, &w.admin_p, path, 404);
	snprintf(path, sizeof(path), "/v1/episodes/%s/alerts", w.episode);
	{
		struct resp	*r = send_json("POST", path, w.admin,
				    "{\"kind\":\"other\",\"detail\":\"x\"}",
				    NULL);

		cr_assert_eq(r->status, 404, "admin raises: %ld %s",
		    r->status, r->raw);
		kwt_free(r);
	}
	snprintf(path, sizeof(path), "/v1/meetings/%s/attendance",
	    w.meeting_all);
	{
		struct resp	*r = send_json("PUT", path, w.admin,
				    "{\"attendance\":[{\"invitee_id\":"
				    "\"00000000-0000-4000-8000-000000000000\","
				    "\"attendance\":\"absent\"}]}", NULL);

		cr_assert_eq(r->status, 404, "admin attendance: %ld %s",
		    r->status, r->raw);
		assert_no_secrets(&w, r, "admin", path);
		kwt_free(r);
	}
	world_close(&w);
}
