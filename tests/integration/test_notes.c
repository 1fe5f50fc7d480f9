/*
 * Case notes through the API: who adds them, their kind (fact, opinion or
 * mixed), corrections as new notes that amend earlier ones, no change or
 * deletion of any note, whom a note may alert, Idempotency-Key, and pages.
 *
 * Each test makes its own accounts and episodes (unique family and child
 * names), so notes counted here are this test's only.
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
 * A keyworker's two episodes; on the first, a full and a limited TAF
 * member; the keyworker's manager; a practitioner with no place.
 */
struct world {
	char		*admin;
	char		*agency;
	char		*area;
	struct person	 manager, keyworker, full, limited, stranger;
	char		*episode;	/* with the team */
	char		*other;		/* the keyworker's second episode */
	char		 notes[128];	/* /v1/episodes/{episode}/notes */
};

static struct resp	*send_json(const char *, const char *, const char *,
			    const char *, const char *);
static struct resp	*get(const char *, const char *);
static void		 person_new(struct person *, struct world *,
			    const char *, const char *);
static void		 person_free(struct person *);
static char		*new_episode(struct world *);
static void		 add_team(struct world *, const char *, const char *);
static void		 world_open(struct world *);
static void		 world_close(struct world *);
static struct resp	*add_note(const char *, const char *, const char *,
			    const char *, const char *);
static char		*add_note_ok(const char *, const char *, const char *);
static json_t		*list_notes(const char *, const char *);
static void		 assert_rule(struct resp *, const char *, const char *);

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

/* A new account in the world's agency and area, signed in. */
static void
person_new(struct person *p, struct world *w, const char *roles,
    const char *manager)
{
	struct resp	*r;
	json_error_t	 err;
	json_t		*j;
	char		 email[160], *body;

	snprintf(email, sizeof(email), "note-%s@test.example.org",
	    kwt_unique());
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "email", email,
	    "name", "Notes Tester", "password", USER_PASSWORD,
	    "agency_id", w->agency, "area_id", w->area,
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

/* A family of the world's keyworker, unique to this call; its id. */
static char *
new_episode(struct world *w)
{
	struct resp	*r;
	struct tm	 tm;
	time_t		 t = time(NULL) - 3600;
	char		*body, *id, u[64], fam[128], kid[128], when[32];

	snprintf(u, sizeof(u), "%s", kwt_unique());
	snprintf(fam, sizeof(fam), "Notes%s", u);
	snprintf(kid, sizeof(kid), "Kid%s", u);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	body = kwt_json("{s:{s:s, s:s}, s:[{s:s, s:s, s:s, s:s, s:b}],"
	    " s:s, s:s, s:{s:s, s:s}}",
	    "family", "name", fam, "area_id", w->area,
	    "members", "given_name", kid, "family_name", fam, "date_of_birth",
	    "2015-11-12", "relationship", "son", "is_child", 1,
	    "keyworker_id", w->keyworker.id, "lead_agency_id", w->agency,
	    "verbal_consent", "obtained_at", when, "given_by", "His mother");
	r = send_json("POST", "/v1/episodes", w->keyworker.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "register: %ld %s", r->status, r->raw);
	id = strdup(kwt_str(r, "id"));
	kwt_free(r);
	return id;
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

static void
world_open(struct world *w)
{
	struct resp	*r;
	char		*body;

	memset(w, 0, sizeof(*w));
	w->admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	r = get("/v1/me", w->admin);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	w->agency = strdup(kwt_str(r, "agency_id"));
	kwt_free(r);
	/* An area of the test's own: no other test's coordinator reads it. */
	body = kwt_json("{s:s}", "name", kwt_unique());
	r = send_json("POST", "/v1/areas", w->admin, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "new area: %ld %s", r->status, r->raw);
	w->area = strdup(kwt_str(r, "id"));
	kwt_free(r);

	person_new(&w->manager, w, "[\"manager\"]", NULL);
	person_new(&w->keyworker, w, "[\"practitioner\"]", w->manager.id);
	person_new(&w->full, w, "[\"practitioner\"]", NULL);
	person_new(&w->limited, w, "[\"practitioner\"]", NULL);
	person_new(&w->stranger, w, "[\"practitioner\"]", NULL);
	w->episode = new_episode(w);
	w->other = new_episode(w);
	add_team(w, w->full.id, "full");
	add_team(w, w->limited.id, "limited");
	snprintf(w->notes, sizeof(w->notes), "/v1/episodes/%s/notes",
	    w->episode);
}

static void
world_close(struct world *w)
{
	free(w->admin);
	free(w->agency);
	free(w->area);
	person_free(&w->manager);
	person_free(&w->keyworker);
	person_free(&w->full);
	person_free(&w->limited);
	person_free(&w->stranger);
	free(w->episode);
	free(w->other);
}

/* POST a note (body, kind) to path as tok, with an Idempotency-Key if any. */
static struct resp *
add_note(const char *tok, const char *path, const char *text,
    const char *kind, const char *key)
{
	struct resp	*r;
	char		*body, h[256];

	body = kwt_json("{s:s, s:s}", "body", text, "kind", kind);
	snprintf(h, sizeof(h), "Idempotency-Key: %s", key != NULL ? key : "");
	r = send_json("POST", path, tok, body, key != NULL ? h : NULL);
	free(body);
	return r;
}

/* Add a fact, asserting 201; its id (caller frees). */
static char *
add_note_ok(const char *tok, const char *path, const char *text)
{
	struct resp	*r;
	char		*id;

	r = add_note(tok, path, text, "fact", NULL);
	cr_assert_eq(r->status, 201, "add note: %ld %s", r->status, r->raw);
	id = strdup(kwt_str(r, "id"));
	kwt_free(r);
	return id;
}

/* Every note at path as tok, in order, following next_cursor. */
static json_t *
list_notes(const char *tok, const char *path)
{
	struct resp	*r;
	json_t		*all, *cur = NULL;
	char		 p[512];
	int		 pages;

	all = json_array();
	for (pages = 0; pages < 1000; pages++) {
		snprintf(p, sizeof(p), "%s?limit=200%s%s", path,
		    cur != NULL ? "&cursor=" : "",
		    cur != NULL ? json_string_value(cur) : "");
		json_decref(cur);
		r = get(p, tok);
		cr_assert_eq(r->status, 200, "%s: %ld %s", p, r->status, r->raw);
		json_array_extend(all, json_object_get(r->json, "items"));
		cur = json_incref(json_object_get(r->json, "next_cursor"));
		kwt_free(r);
		if (!json_is_string(cur)) {
			json_decref(cur);
			return all;
		}
	}
	cr_assert_fail("paging did not end");
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

/*
 * The keyworker and full-access members write notes; the manager and the
 * coordinator read but do not write, a limited member is refused and a
 * stranger does not find the episode.
 */
Test(notes, the_keyworker_and_full_members_add_notes)
{
	struct world	 w;
	struct person	 coord;
	struct resp	*r;
	json_t		*items;
	char		*k, *f;

	world_open(&w);
	person_new(&coord, &w, "[\"coordinator\"]", NULL);
	r = add_note(w.keyworker.tok, w.notes, "Visited; all well.", "fact",
	    NULL);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "body"), "Visited; all well.");
	cr_assert_str_eq(kwt_str(r, "kind"), "fact");
	cr_assert_str_eq(kwt_str(r, "episode_id"), w.episode);
	cr_assert_str_eq(kwt_str(r, "author_id"), w.keyworker.id);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    r->json, "author"), "id")), w.keyworker.id);
	cr_assert(json_is_null(json_object_get(r->json, "amends_note_id")));
	cr_assert_eq(json_array_size(json_object_get(r->json, "amended_by")),
	    0);
	k = strdup(kwt_str(r, "id"));
	kwt_free(r);

	r = add_note(w.full.tok, w.notes, "Seems happier at school.",
	    "opinion", NULL);
	cr_assert_eq(r->status, 201, "full member: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "body"), "Seems happier at school.");
	cr_assert_str_eq(kwt_str(r, "kind"), "opinion");
	cr_assert_str_eq(kwt_str(r, "author_id"), w.full.id);
	f = strdup(kwt_str(r, "id"));
	kwt_free(r);

	r = add_note(w.limited.tok, w.notes, "Limited.", "fact", NULL);
	cr_assert_eq(r->status, 403, "limited member: %ld %s", r->status,
	    r->raw);
	kwt_free(r);
	r = add_note(w.manager.tok, w.notes, "Manager.", "fact", NULL);
	cr_assert_eq(r->status, 403, "manager: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = add_note(coord.tok, w.notes, "Coordinator.", "fact", NULL);
	cr_assert_eq(r->status, 403, "coordinator: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = add_note(w.stranger.tok, w.notes, "Stranger.", "fact", NULL);
	cr_assert_eq(r->status, 404, "stranger: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = add_note(w.admin, w.notes, "Admin.", "fact", NULL);
	cr_assert_eq(r->status, 404, "admin: %ld %s", r->status, r->raw);
	kwt_free(r);

	/* Exactly the two, oldest first, for everyone with full access. */
	items = list_notes(w.manager.tok, w.notes);
	cr_assert_eq(json_array_size(items), 2, "%s", json_dumps(items, 0));
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    items, 0), "id")), k);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    items, 1), "id")), f);
	json_decref(items);
	items = list_notes(coord.tok, w.notes);
	cr_assert_eq(json_array_size(items), 2);
	json_decref(items);

	free(k);
	free(f);
	person_free(&coord);
	world_close(&w);
}

Test(notes, a_note_is_fact_opinion_or_mixed)
{
	struct world	 w;
	struct resp	*r;
	json_t		*items;
	const char	*bad[] = { "rumour", "Fact", "", NULL };
	int		 i;

	world_open(&w);
	r = add_note(w.keyworker.tok, w.notes, "Both.", "mixed", NULL);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "kind"), "mixed");
	kwt_free(r);
	for (i = 0; bad[i] != NULL; i++) {
		r = add_note(w.keyworker.tok, w.notes, "Hm.", bad[i], NULL);
		cr_assert_eq(r->status, 400, "kind \"%s\": %ld %s", bad[i],
		    r->status, r->raw);
		kwt_free(r);
	}
	r = send_json("POST", w.notes, w.keyworker.tok, "{\"body\":\"No kind.\"}",
	    NULL);
	cr_assert_eq(r->status, 400, "no kind: %ld %s", r->status, r->raw);
	kwt_free(r);
	r = add_note(w.keyworker.tok, w.notes, "", "fact", NULL);
	cr_assert_eq(r->status, 400, "empty body: %ld %s", r->status, r->raw);
	kwt_free(r);
	items = list_notes(w.keyworker.tok, w.notes);
	cr_assert_eq(json_array_size(items), 1, "refused notes were kept");
	json_decref(items);
	world_close(&w);
}

/* A correction is a new note; the original lists it and is unchanged. */
Test(notes, a_correction_amends_a_note_of_the_same_episode)
{
	struct world	 w;
	struct resp	*r;
	json_t		*amended;
	char		*n1, *n2, *elsewhere, *body, path[256];

	world_open(&w);
	n1 = add_note_ok(w.keyworker.tok, w.notes, "Met both parents.");
	body = kwt_json("{s:s, s:s, s:s}", "body", "Correction: the mother "
	    "only.", "kind", "fact", "amends_note_id", n1);
	r = send_json("POST", w.notes, w.full.tok, body, NULL);
	free(body);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "amends_note_id"), n1);
	n2 = strdup(kwt_str(r, "id"));
	kwt_free(r);

	snprintf(path, sizeof(path), "%s/%s", w.notes, n1);
	r = get(path, w.keyworker.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "body"), "Met both parents.");
	amended = json_object_get(r->json, "amended_by");
	cr_assert_eq(json_array_size(amended), 1, "%s", r->raw);
	cr_assert_str_eq(json_string_value(json_array_get(amended, 0)), n2);
	kwt_free(r);

	/* Only a note of this episode: not another's, not one that is not. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/notes", w.other);
	elsewhere = add_note_ok(w.keyworker.tok, path, "On the other family.");
	body = kwt_json("{s:s, s:s, s:s}", "body", "Amends another family.",
	    "kind", "fact", "amends_note_id", elsewhere);
	r = send_json("POST", w.notes, w.keyworker.tok, body, NULL);
	assert_rule(r, "amends_note_of_episode", "a note of another episode");
	kwt_free(r);
	free(body);
	body = kwt_json("{s:s, s:s, s:s}", "body", "Amends nothing.", "kind",
	    "fact", "amends_note_id", NO_SUCH_ID);
	r = send_json("POST", w.notes, w.keyworker.tok, body, NULL);
	assert_rule(r, "amends_note_of_episode", "no such note");
	kwt_free(r);
	free(body);

	/* The other episode's note was not marked amended either. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/notes/%s", w.other,
	    elsewhere);
	r = get(path, w.keyworker.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert_eq(json_array_size(json_object_get(r->json, "amended_by")),
	    0, "%s", r->raw);
	kwt_free(r);
	/* And a note is read under its own episode only. */
	snprintf(path, sizeof(path), "%s/%s", w.notes, elsewhere);
	r = get(path, w.keyworker.tok);
	cr_assert_eq(r->status, 404, "a note under another episode: %ld %s",
	    r->status, r->raw);
	kwt_free(r);

	free(elsewhere);
	free(n1);
	free(n2);
	world_close(&w);
}

/* Append-only: no method changes or deletes a note, nor the list. */
Test(notes, a_note_is_never_changed_or_deleted)
{
	struct world	 w;
	struct resp	*r;
	const char	*methods[] = { "PUT", "PATCH", "DELETE", NULL };
	const char	*allow, *body;
	char		*n, path[256];
	int		 i;

	world_open(&w);
	n = add_note_ok(w.keyworker.tok, w.notes, "As written.");
	snprintf(path, sizeof(path), "%s/%s", w.notes, n);
	/*
	 * PUT and PATCH carry a body: without one (no Content-Length) Kore
	 * answers itself, before the module could say 405.
	 */
	for (i = 0; methods[i] != NULL; i++) {
		body = strcmp(methods[i], "DELETE") == 0 ? NULL :
		    "{\"body\":\"Rewritten.\",\"kind\":\"fact\"}";
		r = kwt_request(methods[i], path, w.keyworker.tok, NULL, body,
		    NULL);
		cr_assert_eq(r->status, 405, "%s a note: %ld %s", methods[i],
		    r->status, r->raw);
		allow = kwt_header(r, "Allow");
		cr_assert(allow != NULL && strstr(allow, "GET") != NULL,
		    "%s: Allow: %s", methods[i], allow);
		kwt_free(r);
		r = kwt_request(methods[i], w.notes, w.keyworker.tok, NULL,
		    body, NULL);
		cr_assert_eq(r->status, 405, "%s the notes: %ld %s",
		    methods[i], r->status, r->raw);
		kwt_free(r);
	}
	r = get(path, w.keyworker.tok);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "body"), "As written.");
	kwt_free(r);
	free(n);
	world_close(&w);
}

/*
 * A note may alert the keyworker and full-access members; naming anyone
 * else (a limited member, a stranger) refuses the whole note.
 */
Test(notes, a_note_alerts_only_the_keyworker_and_full_members)
{
	struct world	 w;
	struct resp	*r;
	json_t		*items;
	char		*body;

	world_open(&w);
	body = kwt_json("{s:s, s:s, s:[s]}", "body", "For the limited member.",
	    "kind", "fact", "alert_user_ids", w.limited.id);
	r = send_json("POST", w.notes, w.keyworker.tok, body, NULL);
	assert_rule(r, "alert_team_members", "a limited member named");
	kwt_free(r);
	free(body);
	body = kwt_json("{s:s, s:s, s:[s, s]}", "body", "For a stranger.",
	    "kind", "fact", "alert_user_ids", w.full.id, w.stranger.id);
	r = send_json("POST", w.notes, w.keyworker.tok, body, NULL);
	assert_rule(r, "alert_team_members", "a stranger named");
	kwt_free(r);
	free(body);
	body = kwt_json("{s:s, s:s, s:[s]}", "body", "For the manager.",
	    "kind", "fact", "alert_user_ids", w.manager.id);
	r = send_json("POST", w.notes, w.keyworker.tok, body, NULL);
	assert_rule(r, "alert_team_members", "the manager named");
	kwt_free(r);
	free(body);
	items = list_notes(w.keyworker.tok, w.notes);
	cr_assert_eq(json_array_size(items), 0, "a refused note was kept: %s",
	    json_dumps(items, 0));
	json_decref(items);

	body = kwt_json("{s:s, s:s, s:[s, s]}", "body", "For the team.",
	    "kind", "mixed", "alert_user_ids", w.keyworker.id, w.full.id);
	r = send_json("POST", w.notes, w.full.tok, body, NULL);
	cr_assert_eq(r->status, 201, "keyworker and full member: %ld %s",
	    r->status, r->raw);
	kwt_free(r);
	free(body);
	world_close(&w);
}

/*
 * A retried note with the same Idempotency-Key is the same note: answered
 * again, added once. The key for another note is refused.
 */
Test(notes, an_idempotency_key_replays_a_note)
{
	struct world	 w;
	struct resp	*r1, *r2, *r;
	json_t		*items;
	const char	*h;
	char		 key[128], path[128];

	world_open(&w);
	snprintf(key, sizeof(key), "note-%s", kwt_unique());
	r1 = add_note(w.keyworker.tok, w.notes, "Phoned the school.", "fact",
	    key);
	cr_assert_eq(r1->status, 201, "%ld %s", r1->status, r1->raw);
	cr_assert_null(kwt_header(r1, "Idempotent-Replayed"));
	r2 = add_note(w.keyworker.tok, w.notes, "Phoned the school.", "fact",
	    key);
	cr_assert_eq(r2->status, 201, "retry: %ld %s", r2->status, r2->raw);
	h = kwt_header(r2, "Idempotent-Replayed");
	cr_assert(h != NULL && strcmp(h, "true") == 0, "%s", r2->headers);
	cr_assert_str_eq(kwt_str(r2, "id"), kwt_str(r1, "id"));
	cr_assert(json_equal(r1->json, r2->json), "first %s\nretry %s",
	    r1->raw, r2->raw);
	items = list_notes(w.keyworker.tok, w.notes);
	cr_assert_eq(json_array_size(items), 1, "%s", json_dumps(items, 0));
	json_decref(items);

	r = add_note(w.keyworker.tok, w.notes, "Phoned the GP.", "fact", key);
	assert_rule(r, "idempotency_key_reused", "same key, other note");
	kwt_free(r);
	/* The same note for another episode is another request too. */
	snprintf(path, sizeof(path), "/v1/episodes/%s/notes", w.other);
	r = add_note(w.keyworker.tok, path, "Phoned the school.", "fact", key);
	assert_rule(r, "idempotency_key_reused", "same key, other episode");
	kwt_free(r);
	items = list_notes(w.keyworker.tok, w.notes);
	cr_assert_eq(json_array_size(items), 1);
	json_decref(items);
	items = list_notes(w.keyworker.tok, path);
	cr_assert_eq(json_array_size(items), 0);
	json_decref(items);

	/* Keys are per caller: another author's same key is theirs. */
	r = add_note(w.full.tok, w.notes, "Phoned the school.", "fact", key);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->raw);
	cr_assert_null(kwt_header(r, "Idempotent-Replayed"));
	cr_assert_str_neq(kwt_str(r, "id"), kwt_str(r1, "id"));
	kwt_free(r);

	kwt_free(r1);
	kwt_free(r2);
	world_close(&w);
}

/* limit=2 walks seven notes oldest first, each once, in four pages. */
Test(notes, note_pages_follow_next_cursor)
{
	struct world	 w;
	struct resp	*r;
	json_t		*items, *cur = NULL;
	char		*ids[7], text[64], path[512];
	size_t		 i, n = 0;
	int		 pages;

	world_open(&w);
	for (i = 0; i < 7; i++) {
		snprintf(text, sizeof(text), "Note number %zu.", i);
		ids[i] = add_note_ok(i % 2 ? w.full.tok : w.keyworker.tok,
		    w.notes, text);
	}
	for (pages = 0; pages < 10; pages++) {
		snprintf(path, sizeof(path), "%s?limit=2%s%s", w.notes,
		    cur != NULL ? "&cursor=" : "",
		    cur != NULL ? json_string_value(cur) : "");
		json_decref(cur);
		r = get(path, w.manager.tok);
		cr_assert_eq(r->status, 200, "%s: %ld %s", path, r->status,
		    r->raw);
		items = json_object_get(r->json, "items");
		cr_assert_leq(json_array_size(items), 2, "%s", r->raw);
		for (i = 0; i < json_array_size(items); i++, n++) {
			cr_assert_lt(n, 7, "more than seven: %s", r->raw);
			cr_assert_str_eq(json_string_value(json_object_get(
			    json_array_get(items, i), "id")), ids[n],
			    "note %zu out of order or twice", n);
		}
		cur = json_incref(json_object_get(r->json, "next_cursor"));
		kwt_free(r);
		if (!json_is_string(cur))
			break;
	}
	json_decref(cur);
	cr_assert_eq(n, 7, "saw %zu of 7", n);
	cr_assert_eq(pages, 3, "%d pages for 7 notes at 2 a page", pages + 1);
	for (i = 0; i < 7; i++)
		free(ids[i]);
	world_close(&w);
}
