/*
 * jsonlimit: size limits on a parsed JSON document that a schema does not
 * express: how deeply arrays and objects nest, and how long any one array
 * is. Checked on every JSON request body before schema validation, so a
 * hostile body costs one walk bounded by the limits, not a validator's
 * work over its whole size.
 */
#ifndef KEYWORK_JSONLIMIT_H
#define KEYWORK_JSONLIMIT_H

#include <stddef.h>

#include <jansson.h>

enum jsonlimit_fault {
	JSONLIMIT_OK = 0,
	JSONLIMIT_DEPTH,	/* nested deeper than max_depth */
	JSONLIMIT_ARRAY,	/* an array longer than max_array */
};

/*
 * Walk doc (borrowed). Depth counts arrays and objects: a top-level object
 * is depth 1, an array in it depth 2; scalars add nothing. On a fault,
 * where (whose size is wherelen) gets the JSON Pointer of the first array
 * or object found over a limit, cut if it does not fit.
 */
enum jsonlimit_fault	jsonlimit_check(const json_t *doc, int max_depth,
			    size_t max_array, char *where, size_t wherelen);

#endif
