/*
 * Webhook subscriptions (admins, and partner systems for their own
 * agency), the delivery outbox (admins) and the reminder settings, through
 * the API. Delivery itself, to a real receiver that checks signatures, is
 * tests/delivery.sh's.
 *
 * Agencies and API keys are made by each test, so tests running in
 * parallel never share a subscription.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client.h"

#define ADMIN_EMAIL	"admin@example.org"
#define KEYWORKER_EMAIL	"keyworker@example.org"
#define NO_SUCH_ID	"00000000-0000-4000-8000-000000000000"

static char	*new_agency(const char *);
static char	*new_partner_key(const char *, const char *);
static int	 listed(const char *, const char *);
static char	*subscribe(const char *, const char *, const char *, char **);

/* A new agency's id (caller frees). */
static char *
new_agency(const char *admin)
{
	struct resp	*r;
	char		*body, *id;
	char		 name[128];

	snprintf(name, sizeof(name), "Webhook partner %s", kwt_unique());
	body = kwt_json("{s:s, s:s}", "name", name, "kind", "voluntary");
	r = kwt_request("POST", "/v1/agencies", admin, NULL, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->raw);
	id = strdup(kwt_str(r, "id"));
	kwt_free(r);
	free(body);
	return id;
}

/* A partner system's API key for agency (caller frees). */
static char *
new_partner_key(const char *admin, const char *agency)
{
	struct resp	*r;
	char		*body, *key;

	body = kwt_json("{s:s, s:s}", "name", "Partner MIS", "agency_id", agency);
	r = kwt_request("POST", "/v1/api-clients", admin, NULL, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->raw);
	key = strdup(kwt_str(r, "api_key"));
	kwt_free(r);
	free(body);
	return key;
}

/* Subscribe (asserting 201); the id, and the secret in *secret. */
static char *
subscribe(const char *tok, const char *agency, const char *url, char **secret)
{
	struct resp	*r;
	char		*body, *id;

	if (agency != NULL)
		body = kwt_json("{s:s, s:[s], s:s}", "url", url, "event_types",
		    "reminder.deadline_overdue", "agency_id", agency);
	else
		body = kwt_json("{s:s, s:[s]}", "url", url, "event_types",
		    "reminder.deadline_overdue");
	r = kwt_request("POST", "/v1/webhooks", tok, NULL, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->raw);
	id = strdup(kwt_str(r, "id"));
	if (secret != NULL)
		*secret = strdup(kwt_str(r, "secret"));
	kwt_free(r);
	free(body);
	return id;
}

/* Whether GET /v1/webhooks, as tok, lists id (walking every page). */
static int
listed(const char *tok, const char *id)
{
	struct resp	*r;
	char		 path[512];
	const char	*next = NULL;
	char		*cursor = NULL;
	int		 found = 0;

	for (;;) {
		if (cursor == NULL)
			snprintf(path, sizeof(path), "/v1/webhooks?limit=100");
		else
			snprintf(path, sizeof(path), "/v1/webhooks?limit=100&cursor=%s",
			    cursor);
		r = kwt_request("GET", path, tok, NULL, NULL, NULL);
		cr_assert_eq(r->status, 200, "%s", r->raw);
		cr_assert_null(strstr(r->raw, "\"secret\""), "a list shows a secret");
		if (strstr(r->raw, id) != NULL)
			found = 1;
		free(cursor);
		cursor = NULL;
		next = json_string_value(json_object_get(r->json, "next_cursor"));
		if (next != NULL)
			cursor = strdup(next);
		kwt_free(r);
		if (cursor == NULL || found)
			break;
	}
	free(cursor);
	return found;
}

Test(webhooks, admin_subscribes_an_agency_and_the_secret_is_shown_once)
{
	char		*admin, *agency, *id, *secret;
	struct resp	*r;
	char		 path[128];

	admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	agency = new_agency(admin);
	id = subscribe(admin, agency, "https://mis.partner.example/keywork", &secret);
	cr_assert_eq(strncmp(secret, "kws_", 4), 0, "secret %s", secret);
	cr_assert_geq(strlen(secret), 40);
	cr_assert(listed(admin, id));

	/* An admin must name the agency; http is refused; types are checked. */
	r = kwt_request("POST", "/v1/webhooks", admin, NULL,
	    "{\"url\":\"https://x.example/h\",\"event_types\":[\"reminder.deadline_due\"]}",
	    NULL);
	cr_assert_eq(r->status, 422, "%s", r->raw);
	cr_assert_str_eq(kwt_str(r, "rule"), "webhook_names_agency");
	kwt_free(r);
	snprintf(path, sizeof(path), "{\"url\":\"http://x.example/h\",\"event_types\":"
	    "[\"reminder.deadline_due\"],\"agency_id\":\"%s\"}", agency);
	r = kwt_request("POST", "/v1/webhooks", admin, NULL, path, NULL);
	cr_assert_eq(r->status, 422, "%s", r->raw);
	cr_assert_str_eq(kwt_str(r, "rule"), "webhook_url_https");
	kwt_free(r);
	snprintf(path, sizeof(path), "{\"url\":\"https://x.example/h\",\"event_types\":"
	    "[\"episode.opened\"],\"agency_id\":\"%s\"}", agency);
	r = kwt_request("POST", "/v1/webhooks", admin, NULL, path, NULL);
	cr_assert_eq(r->status, 400, "%s", r->raw);
	kwt_free(r);

	/* Deleted: gone from the list; a second delete is 404. */
	snprintf(path, sizeof(path), "/v1/webhooks/%s", id);
	r = kwt_request("DELETE", path, admin, NULL, NULL, NULL);
	cr_assert_eq(r->status, 204, "%s", r->raw);
	kwt_free(r);
	cr_assert_not(listed(admin, id));
	r = kwt_request("DELETE", path, admin, NULL, NULL, NULL);
	cr_assert_eq(r->status, 404, "%s", r->raw);
	kwt_free(r);
	free(admin);
	free(agency);
	free(id);
	free(secret);
}

Test(webhooks, a_partner_system_manages_its_own_agency_only)
{
	char		*admin, *a1, *a2, *k1, *k2, *mine, *theirs, *secret;
	struct resp	*r;
	char		 body[256], path[128];

	admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	a1 = new_agency(admin);
	a2 = new_agency(admin);
	k1 = new_partner_key(admin, a1);
	k2 = new_partner_key(admin, a2);

	mine = subscribe(k1, NULL, "https://one.example/hook", &secret);
	theirs = subscribe(k2, a2, "https://two.example/hook", NULL);
	cr_assert(listed(k1, mine));
	cr_assert_not(listed(k1, theirs), "a partner sees another agency's webhook");
	cr_assert(listed(admin, theirs));

	/* Not for another agency, and not another agency's to delete. */
	snprintf(body, sizeof(body), "{\"url\":\"https://one.example/h\",\"event_types\":"
	    "[\"reminder.deadline_due\"],\"agency_id\":\"%s\"}", a2);
	r = kwt_request("POST", "/v1/webhooks", k1, NULL, body, NULL);
	cr_assert_eq(r->status, 403, "%s", r->raw);
	kwt_free(r);
	snprintf(path, sizeof(path), "/v1/webhooks/%s", theirs);
	r = kwt_request("DELETE", path, k1, NULL, NULL, NULL);
	cr_assert_eq(r->status, 404, "%s", r->raw);
	kwt_free(r);
	cr_assert(listed(k2, theirs), "the other agency's webhook was deleted");
	r = kwt_request("DELETE", path, k2, NULL, NULL, NULL);
	cr_assert_eq(r->status, 204, "%s", r->raw);
	kwt_free(r);

	free(admin); free(a1); free(a2); free(k1); free(k2);
	free(mine); free(theirs); free(secret);
}

Test(webhooks, practitioners_manage_none)
{
	char		*kw;
	struct resp	*r;

	kw = kwt_login(KEYWORKER_EMAIL, KWT_DEMO_PASSWORD);
	r = kwt_request("GET", "/v1/webhooks", kw, NULL, NULL, NULL);
	cr_assert_eq(r->status, 403, "%s", r->raw);
	kwt_free(r);
	r = kwt_request("POST", "/v1/webhooks", kw, NULL,
	    "{\"url\":\"https://x.example/h\",\"event_types\":[\"reminder.deadline_due\"]}",
	    NULL);
	cr_assert_eq(r->status, 403, "%s", r->raw);
	kwt_free(r);
	r = kwt_request("GET", "/v1/webhooks", NULL, NULL, NULL, NULL);
	cr_assert_eq(r->status, 401, "%s", r->raw);
	kwt_free(r);
	free(kw);
}

Test(webhooks, the_outbox_is_for_admins)
{
	char		*admin, *kw;
	struct resp	*r;
	char		 path[128];

	admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	kw = kwt_login(KEYWORKER_EMAIL, KWT_DEMO_PASSWORD);
	r = kwt_request("GET", "/v1/deliveries?status=dead&channel=email", admin, NULL,
	    NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	kwt_free(r);
	r = kwt_request("GET", "/v1/deliveries?status=lost", admin, NULL, NULL, NULL);
	cr_assert_eq(r->status, 400, "%s", r->raw);
	kwt_free(r);
	r = kwt_request("GET", "/v1/deliveries", kw, NULL, NULL, NULL);
	cr_assert_eq(r->status, 403, "%s", r->raw);
	kwt_free(r);
	snprintf(path, sizeof(path), "/v1/deliveries/%s/retry", NO_SUCH_ID);
	r = kwt_request("POST", path, admin, "", "", NULL);
	cr_assert_eq(r->status, 404, "%s", r->raw);
	kwt_free(r);
	free(admin);
	free(kw);
}

Test(webhooks, settings_are_read_by_all_and_changed_by_admins_within_bounds)
{
	char		*admin, *kw;
	struct resp	*r;
	json_t		*item;
	size_t		 i;
	int		 found = 0;

	admin = kwt_login(ADMIN_EMAIL, KWT_DEMO_PASSWORD);
	kw = kwt_login(KEYWORKER_EMAIL, KWT_DEMO_PASSWORD);
	r = kwt_request("GET", "/v1/settings", kw, NULL, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	json_array_foreach(json_object_get(r->json, "items"), i, item) {
		if (strcmp(json_string_value(json_object_get(item, "name")),
		    "step_up_pending_days") == 0)
			found = 1;
	}
	cr_assert(found, "step_up_pending_days is not listed");
	kwt_free(r);

	r = kwt_request("PATCH", "/v1/settings/step_up_pending_days", kw, NULL,
	    "{\"value\":5}", NULL);
	cr_assert_eq(r->status, 403, "%s", r->raw);
	kwt_free(r);
	r = kwt_request("PATCH", "/v1/settings/step_up_pending_days", admin, NULL,
	    "{\"value\":61}", NULL);
	cr_assert_eq(r->status, 422, "%s", r->raw);
	cr_assert_str_eq(kwt_str(r, "rule"), "setting_in_bounds");
	kwt_free(r);
	r = kwt_request("PATCH", "/v1/settings/no_such_setting", admin, NULL,
	    "{\"value\":1}", NULL);
	cr_assert_eq(r->status, 404, "%s", r->raw);
	kwt_free(r);
	/* The same value back: a change that leaves the others' runs alone. */
	r = kwt_request("PATCH", "/v1/settings/step_up_pending_days", admin, NULL,
	    "{\"value\":10}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->raw);
	cr_assert_eq(json_integer_value(json_object_get(r->json, "value")), 10);
	kwt_free(r);
	free(admin);
	free(kw);
}
