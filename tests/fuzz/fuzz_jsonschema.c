/*
 * libFuzzer target: the JSON Schema validator. The input is a schema and an
 * instance separated by a 0x01 byte; both are validated against each other
 * with the schema as its own $ref root.
 */
#include <stdint.h>
#include <string.h>

#include "jsonschema.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct jsonschema_errors	 errs;
	const uint8_t			*sep;
	json_t				*s, *i;
	size_t				 k;
	int				 rc;

	if ((sep = memchr(d, 0x01, n)) == NULL)
		return 0;
	s = json_loadb((const char *)d, (size_t)(sep - d),
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	i = json_loadb((const char *)sep + 1, n - (size_t)(sep - d) - 1,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (s != NULL && i != NULL) {
		jsonschema_errors_init(&errs);
		rc = jsonschema_validate(s, s, i, "/b", &errs);
		/* Invalid exactly when there are errors, each fully formed. */
		if ((rc == 0) != (errs.n == 0))
			__builtin_trap();
		for (k = 0; k < errs.n; k++) {
			if (errs.items[k].pointer == NULL ||
			    errs.items[k].message == NULL)
				__builtin_trap();
		}
		jsonschema_errors_cleanup(&errs);
		if (json_is_string(i)) {
			(void)jsonschema_format_ok("date-time", json_string_value(i));
			(void)jsonschema_format_ok("email", json_string_value(i));
			(void)jsonschema_format_ok("uuid", json_string_value(i));
		}
	}
	json_decref(s);
	json_decref(i);
	return 0;
}
