/*
 * libFuzzer target: jsontext_array_last against jansson. For any input
 * jansson parses as an array, jsontext must take it as one, with the same
 * number of elements and a last element that parses to jansson's last. For
 * any input, an answer must lie within the input. Compacted, any input
 * jansson parses must parse to the same value, and be no longer.
 */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "jsontext.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*s = (const char *)data;
	json_t		*a, *last, *c;
	size_t		 count, start, elen, clen;
	char		*out;
	int		 rc;

	rc = jsontext_array_last(s, size, &count, &start, &elen);
	if (rc == 0 && count > 0 && (start > size || elen > size - start))
		__builtin_trap();
	a = json_loadb(s, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (a != NULL && json_is_array(a)) {
		if (rc != 0 || count != json_array_size(a))
			__builtin_trap();
		if (count > 0) {
			last = json_loadb(s + start, elen, JSON_DECODE_ANY | JSON_ALLOW_NUL,
			    NULL);
			if (last == NULL || !json_equal(last, json_array_get(a, count - 1)))
				__builtin_trap();
			json_decref(last);
		}
	}
	if (a != NULL) {
		if ((out = malloc(size + 1)) == NULL)
			return 0;
		clen = jsontext_compact(s, size, out);
		c = json_loadb(out, clen, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		if (clen > size || c == NULL || !json_equal(a, c))
			__builtin_trap();
		json_decref(c);
		free(out);
	}
	json_decref(a);
	return 0;
}
