/*
 * Handlers of the "webhooks" tag: partner systems' subscriptions to
 * reminder events. The signing secret is made here, shown once in the
 * creating response, and kept by the database for the worker alone.
 */
#include <string.h>

#include "config.h"
#include "handlers.h"
#include "token.h"

static int	webhook_created(struct kw_req *, PGresult *);

int
h_list_webhooks(struct kw_req *r)
{
	return handlers_list(r, "list_webhooks", handlers_page, NULL, 0, NULL, 0);
}

int
h_create_webhook(struct kw_req *r)
{
	const char	*args[3];
	char		*body;
	int		 rc;

	r->arg = kore_calloc(1, TOKEN_LEN + 1);
	r->arg_free = kore_free;
	if (token_new(TOKEN_PREFIX_WEBHOOK, r->arg, TOKEN_LEN + 1) == -1)
		return kw_reply_problem(r, 500, NULL);
	body = handlers_body_text(r, NULL);
	args[0] = body;
	args[1] = r->arg;
	args[2] = config.webhook_allow_http ? "true" : "false";
	rc = kw_call(r, "create_webhook", 1, webhook_created, 3, args);
	free(body);
	return rc;
}

static int
webhook_created(struct kw_req *r, PGresult *res)
{
	json_t	*body;

	if ((body = kw_result_json(res, NULL, 0)) == NULL)
		return kw_reply_problem(r, 500, NULL);
	json_object_set_new(body, "secret", json_string(r->arg));
	return kw_reply_json(r, 201, body);
}

int
h_delete_webhook(struct kw_req *r)
{
	const char	*args[1] = { kw_path(r, "id") };

	return kw_call(r, "delete_webhook", 1, handlers_no_content, 1, args);
}
