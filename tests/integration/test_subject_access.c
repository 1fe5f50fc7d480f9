/*
 * Subject access through the API: the data-protection officer exports a
 * member the keyworker has just read; the export (checked against the
 * PersonExport schema by the client) holds that member and their episode,
 * and lists the keyworker's read under its X-Request-Id; nobody else may
 * export (403); an unknown id is 404; the export shows in the audit trail.
 * Demo accounts: keyworker@ (a practitioner), admin@, dpo@.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client.h"

static struct resp	*get_rid(const char *, const char *, const char *);
static void		 keyworker_reads_members(char *, char *, char *, char *);
static const char	*member_str(json_t *, const char *);

static struct resp *
get_rid(const char *path, const char *token, const char *rid)
{
	char		 line[128];
	const char	*h[2] = { line, NULL };

	snprintf(line, sizeof(line), "X-Request-Id: %s", rid);
	return kwt_request("GET", path, token, NULL, NULL, h);
}

static const char *
member_str(json_t *o, const char *name)
{
	const char	*s = json_string_value(json_object_get(o, name));

	return s != NULL ? s : "";
}

/*
 * keyworker@ lists the members of one of their episodes (request id rid):
 * the episode in episode, its first member in member, the keyworker's id
 * in who (37 bytes each).
 */
static void
keyworker_reads_members(char *episode, char *member, char *who, char *rid)
{
	struct resp	*r;
	char		*tok = kwt_login("keyworker@example.org", KWT_DEMO_PASSWORD);
	char		 path[128];

	snprintf(rid, 64, "sar-members-%s", kwt_unique());
	r = kwt_request("GET", "/v1/me", tok, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	snprintf(who, 37, "%s", kwt_str(r, "id"));
	kwt_free(r);
	r = kwt_request("GET", "/v1/episodes?limit=5", tok, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_gt(json_array_size(json_object_get(r->json, "items")), 0);
	snprintf(episode, 37, "%s", member_str(json_array_get(
	    json_object_get(r->json, "items"), 0), "id"));
	kwt_free(r);
	snprintf(path, sizeof(path), "/v1/episodes/%s/members", episode);
	r = get_rid(path, tok, rid);
	cr_assert_eq(r->status, 200);
	cr_assert_gt(json_array_size(json_object_get(r->json, "items")), 0);
	snprintf(member, 37, "%s", member_str(json_array_get(
	    json_object_get(r->json, "items"), 0), "id"));
	kwt_free(r);
	free(tok);
}

Test(subject_access, the_officer_exports_a_member_with_who_read_them)
{
	struct resp	*r;
	char		 episode[40], member[40], who[40], rid[64], rid_export[64];
	char		 path[160];
	char		*dpo = kwt_login("dpo@example.org", KWT_DEMO_PASSWORD);
	json_t		*e;
	size_t		 i;
	int		 found_episode = 0, found_read = 0;

	keyworker_reads_members(episode, member, who, rid);
	snprintf(rid_export, sizeof(rid_export), "sar-export-%s", kwt_unique());
	snprintf(path, sizeof(path), "/v1/people/%s/export", member);
	r = get_rid(path, dpo, rid_export);
	cr_assert_eq(r->status, 200, "export: %ld %s", r->status, r->raw);
	cr_assert_str_eq(kwt_str(r, "member_id"), member);
	cr_assert_str_eq(member_str(json_array_get(json_object_get(r->json,
	    "members"), 0), "id"), member);
	json_array_foreach(json_object_get(r->json, "episodes"), i, e) {
		if (strcmp(member_str(json_object_get(e, "episode"), "id"),
		    episode) == 0)
			found_episode = 1;
	}
	cr_assert(found_episode, "the member's episode %s is not in the export",
	    episode);
	json_array_foreach(json_object_get(r->json, "accessed_by"), i, e) {
		if (strcmp(member_str(e, "request_id"), rid) != 0)
			continue;
		cr_assert_str_eq(member_str(e, "action"), "read");
		cr_assert_str_eq(member_str(e, "entity"), "member");
		cr_assert_str_eq(member_str(e, "user_id"), who);
		cr_assert_str_eq(member_str(e, "episode_id"), episode);
		found_read = 1;
	}
	cr_assert(found_read, "the keyworker's read %s is not in accessed_by",
	    rid);
	kwt_free(r);

	/* The export itself is in the trail, a read of the person. */
	r = kwt_request("GET", "/v1/me", dpo, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	snprintf(who, sizeof(who), "%s", kwt_str(r, "id"));
	kwt_free(r);
	snprintf(path, sizeof(path), "/v1/audit?user_id=%s&limit=50", who);
	r = kwt_request("GET", path, dpo, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	found_read = 0;
	json_array_foreach(json_object_get(r->json, "items"), i, e) {
		if (strcmp(member_str(e, "request_id"), rid_export) != 0)
			continue;
		cr_assert_str_eq(member_str(e, "action"), "read");
		cr_assert_str_eq(member_str(e, "entity"), "person");
		cr_assert_str_eq(member_str(e, "record_id"), member);
		found_read++;
	}
	cr_assert_eq(found_read, 1, "%d entries for the export %s", found_read,
	    rid_export);
	kwt_free(r);
	free(dpo);
}

Test(subject_access, only_the_officer_exports)
{
	struct resp	*r;
	char		 episode[40], member[40], who[40], rid[64], path[160];
	char		*tok;
	const char	*const others[] = { "keyworker@example.org",
	    "admin@example.org", "manager@example.org" };
	size_t		 i;

	keyworker_reads_members(episode, member, who, rid);
	snprintf(path, sizeof(path), "/v1/people/%s/export", member);
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		tok = kwt_login(others[i], KWT_DEMO_PASSWORD);
		r = kwt_request("GET", path, tok, NULL, NULL, NULL);
		cr_assert_eq(r->status, 403, "%s: %ld", others[i], r->status);
		kwt_free(r);
		free(tok);
	}
	r = kwt_request("GET", path, NULL, NULL, NULL, NULL);
	cr_assert_eq(r->status, 401);
	kwt_free(r);

	tok = kwt_login("dpo@example.org", KWT_DEMO_PASSWORD);
	r = kwt_request("GET",
	    "/v1/people/7c0d2a4e-1b3f-4d5a-9e8c-000000000000/export", tok, NULL,
	    NULL, NULL);
	cr_assert_eq(r->status, 404);
	kwt_free(r);
	r = kwt_request("GET", "/v1/people/not-a-uuid/export", tok, NULL, NULL,
	    NULL);
	cr_assert_eq(r->status, 400);
	kwt_free(r);
	free(tok);
}
