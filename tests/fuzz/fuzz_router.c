/*
 * libFuzzer target: routing and parameter checks against the real
 * openapi.yaml. The first byte picks the method; the rest is
 * "path\nquery\nheader value", the header value answering every header
 * lookup.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "openapi.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct openapi	*spec;

static const char *
header(void *ctx, const char *name)
{
	return ctx;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct jsonschema_errors	 errs;
	struct openapi_match		 m;
	struct openapi_op		*op;
	char				 err[512], *buf, *q, *h;
	json_t				*out;

	if (spec == NULL && (spec = openapi_load("openapi.yaml", err,
	    sizeof(err))) == NULL)
		abort();
	if (n < 1)
		return 0;
	if ((buf = malloc(n)) == NULL)
		abort();
	memcpy(buf, d + 1, n - 1);
	buf[n - 1] = '\0';
	if ((q = strchr(buf, '\n')) != NULL)
		*q++ = '\0';
	h = q != NULL ? strchr(q, '\n') : NULL;
	if (h != NULL)
		*h++ = '\0';
	memset(&m, 0, sizeof(m));
	if (openapi_match(spec, 1u << (d[0] % 7), buf, &op, &m) ==
	    OPENAPI_MATCH_OK) {
		jsonschema_errors_init(&errs);
		if (openapi_check_params(spec, op, &m, q, header, h, &out,
		    &errs) == 0)
			json_decref(out);
		jsonschema_errors_cleanup(&errs);
	}
	openapi_match_cleanup(&m);
	free(buf);
	return 0;
}
