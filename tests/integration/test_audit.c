/*
 * The audit trail through the API: requests the test makes appear under
 * their X-Request-Id for the data-protection officer, and for the
 * keyworker's line manager on their report's episode; a practitioner may
 * not read the trail (403); the data-protection officer sees no case work.
 * Demo accounts: keyworker@ (managed by manager@), teacher@, dpo@.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client.h"

static struct resp	*get_rid(const char *, const char *, const char *);
static int		 has_request(json_t *, const char *, const char *,
			    const char *);
static void		 keyworker_reads(char *, size_t, char *, char *, char *);

static struct resp *
get_rid(const char *path, const char *token, const char *rid)
{
	char		 line[128];
	const char	*h[2] = { line, NULL };

	snprintf(line, sizeof(line), "X-Request-Id: %s", rid);
	return kwt_request("GET", path, token, NULL, NULL, h);
}

/* Is there an entry of request rid, action read, of entity, in the page? */
static int
has_request(json_t *page, const char *rid, const char *entity,
    const char *record)
{
	json_t	*e;
	size_t	 i;

	json_array_foreach(json_object_get(page, "items"), i, e) {
		if (strcmp(json_string_value(json_object_get(e, "request_id")) ?
		    json_string_value(json_object_get(e, "request_id")) : "",
		    rid) != 0)
			continue;
		if (strcmp(json_string_value(json_object_get(e, "action")), "read") != 0 ||
		    strcmp(json_string_value(json_object_get(e, "entity")), entity) != 0)
			continue;
		if (record != NULL && (json_string_value(json_object_get(e,
		    "record_id")) == NULL || strcmp(json_string_value(
		    json_object_get(e, "record_id")), record) != 0))
			continue;
		return 1;
	}
	return 0;
}

/*
 * keyworker@ lists episodes and opens the first: its id in episode, the
 * keyworker's id in who, the two request ids in rid_list and rid_get.
 */
static void
keyworker_reads(char *episode, size_t len, char *who, char *rid_list,
    char *rid_get)
{
	struct resp	*r;
	char		*tok = kwt_login("keyworker@example.org", KWT_DEMO_PASSWORD);
	char		 path[128];

	snprintf(rid_list, 64, "audit-list-%s", kwt_unique());
	snprintf(rid_get, 64, "audit-get-%s", kwt_unique());
	r = kwt_request("GET", "/v1/me", tok, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	snprintf(who, 37, "%s", kwt_str(r, "id"));
	kwt_free(r);
	r = get_rid("/v1/episodes?limit=5", tok, rid_list);
	cr_assert_eq(r->status, 200);
	cr_assert_gt(json_array_size(json_object_get(r->json, "items")), 0);
	snprintf(episode, len, "%s", json_string_value(json_object_get(
	    json_array_get(json_object_get(r->json, "items"), 0), "id")));
	kwt_free(r);
	snprintf(path, sizeof(path), "/v1/episodes/%s", episode);
	r = get_rid(path, tok, rid_get);
	cr_assert_eq(r->status, 200);
	kwt_free(r);
	free(tok);
}

Test(audit, data_protection_reads_the_requests)
{
	struct resp	*r, *r2;
	char		 episode[64], who[40], rid_list[64], rid_get[64], path[256];
	char		*dpo = kwt_login("dpo@example.org", KWT_DEMO_PASSWORD);
	json_t		*first;

	keyworker_reads(episode, sizeof(episode), who, rid_list, rid_get);
	snprintf(path, sizeof(path), "/v1/audit?user_id=%s&limit=200", who);
	r = kwt_request("GET", path, dpo, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert(has_request(r->json, rid_list, "episode", NULL),
	    "no entry for the list request %s", rid_list);
	cr_assert(has_request(r->json, rid_get, "episode", episode),
	    "no entry for the read request %s", rid_get);
	first = json_array_get(json_object_get(r->json, "items"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(first, "user_id")), who);
	kwt_free(r);

	/* The episode's filter, and pages newest first. */
	snprintf(path, sizeof(path), "/v1/audit?episode_id=%s&limit=1", episode);
	r = kwt_request("GET", path, dpo, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 1);
	cr_assert(json_is_string(json_object_get(r->json, "next_cursor")));
	snprintf(path, sizeof(path), "/v1/audit?episode_id=%s&limit=1&cursor=%s",
	    episode, json_string_value(json_object_get(r->json, "next_cursor")));
	r2 = kwt_request("GET", path, dpo, NULL, NULL, NULL);
	cr_assert_eq(r2->status, 200);
	cr_assert_lt(json_integer_value(json_object_get(json_array_get(
	    json_object_get(r2->json, "items"), 0), "id")),
	    json_integer_value(json_object_get(json_array_get(
	    json_object_get(r->json, "items"), 0), "id")));
	kwt_free(r2);
	kwt_free(r);
	free(dpo);
}

Test(audit, the_line_manager_reads_their_reports_episodes)
{
	struct resp	*r;
	char		 episode[64], who[40], rid_list[64], rid_get[64], path[256];
	char		*mgr = kwt_login("manager@example.org", KWT_DEMO_PASSWORD);

	keyworker_reads(episode, sizeof(episode), who, rid_list, rid_get);
	snprintf(path, sizeof(path), "/v1/audit?episode_id=%s&limit=200", episode);
	r = kwt_request("GET", path, mgr, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert(has_request(r->json, rid_get, "episode", episode),
	    "the manager does not see the read %s", rid_get);
	cr_assert(has_request(r->json, rid_list, "episode", NULL),
	    "the manager does not see the list %s naming the episode", rid_list);
	kwt_free(r);
	free(mgr);
}

Test(audit, a_practitioner_may_not_read_the_trail)
{
	struct resp	*r;
	char		*tok = kwt_login("teacher@example.org", KWT_DEMO_PASSWORD);

	r = kwt_request("GET", "/v1/audit", tok, NULL, NULL, NULL);
	cr_assert_eq(r->status, 403);
	kwt_free(r);
	free(tok);
	tok = kwt_login("admin@example.org", KWT_DEMO_PASSWORD);
	r = kwt_request("GET", "/v1/audit", tok, NULL, NULL, NULL);
	cr_assert_eq(r->status, 403);
	kwt_free(r);
	free(tok);
}

Test(audit, data_protection_sees_no_case_work)
{
	struct resp	*r;
	char		 episode[64], who[40], rid_list[64], rid_get[64], path[128];
	char		*dpo = kwt_login("dpo@example.org", KWT_DEMO_PASSWORD);

	keyworker_reads(episode, sizeof(episode), who, rid_list, rid_get);
	r = kwt_request("GET", "/v1/episodes", dpo, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 0);
	kwt_free(r);
	snprintf(path, sizeof(path), "/v1/episodes/%s", episode);
	r = kwt_request("GET", path, dpo, NULL, NULL, NULL);
	cr_assert_eq(r->status, 404);
	kwt_free(r);
	snprintf(path, sizeof(path), "/v1/episodes/%s/notes", episode);
	r = kwt_request("GET", path, dpo, NULL, NULL, NULL);
	cr_assert_eq(r->status, 404);
	kwt_free(r);
	free(dpo);
}
