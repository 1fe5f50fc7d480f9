/*
 * libFuzzer target: the YAML loader that reads openapi.yaml.
 */
#include <stdint.h>
#include <stddef.h>

#include "yamljson.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char	 err[256];
	json_t	*j;

	j = yamljson_load_buffer((const char *)d, n, "fuzz", err, sizeof(err));
	json_decref(j);
	return 0;
}
