/*
 * jsonlimit: see jsonlimit.h.
 */
#include <stdio.h>
#include <string.h>

#include "jsonlimit.h"

static enum jsonlimit_fault	jl_walk(const json_t *, int, int, size_t,
				    char *, size_t, size_t);
static size_t			jl_append(char *, size_t, size_t, const char *);

/*
 * Append "/" and seg, escaped as a JSON Pointer asks (~0, ~1), at where +
 * at; returns the new length, cut to what fits.
 */
static size_t
jl_append(char *where, size_t wherelen, size_t at, const char *seg)
{
	const char	*p;

	if (wherelen == 0)
		return 0;
	if (at + 1 < wherelen)
		where[at++] = '/';
	for (p = seg; *p != '\0'; p++) {
		if (*p == '~' || *p == '/') {
			if (at + 2 >= wherelen)
				break;
			where[at++] = '~';
			where[at++] = *p == '~' ? '0' : '1';
		} else {
			if (at + 1 >= wherelen)
				break;
			where[at++] = *p;
		}
	}
	where[at] = '\0';
	return at;
}

static enum jsonlimit_fault
jl_walk(const json_t *v, int depth, int max_depth, size_t max_array,
    char *where, size_t wherelen, size_t at)
{
	enum jsonlimit_fault	 f;
	const char		*k;
	json_t			*m;
	size_t			 i, next;
	char			 idx[24];

	if (!json_is_array(v) && !json_is_object(v))
		return JSONLIMIT_OK;
	if (depth > max_depth)
		return JSONLIMIT_DEPTH;
	if (json_is_array(v)) {
		if (json_array_size(v) > max_array)
			return JSONLIMIT_ARRAY;
		json_array_foreach(v, i, m) {
			if (!json_is_array(m) && !json_is_object(m))
				continue;
			snprintf(idx, sizeof(idx), "%zu", i);
			next = jl_append(where, wherelen, at, idx);
			f = jl_walk(m, depth + 1, max_depth, max_array, where,
			    wherelen, next);
			if (f != JSONLIMIT_OK)
				return f;
		}
	} else {
		json_object_foreach((json_t *)v, k, m) {
			if (!json_is_array(m) && !json_is_object(m))
				continue;
			next = jl_append(where, wherelen, at, k);
			f = jl_walk(m, depth + 1, max_depth, max_array, where,
			    wherelen, next);
			if (f != JSONLIMIT_OK)
				return f;
		}
	}
	if (wherelen > 0)
		where[at] = '\0';
	return JSONLIMIT_OK;
}

enum jsonlimit_fault
jsonlimit_check(const json_t *doc, int max_depth, size_t max_array,
    char *where, size_t wherelen)
{
	if (wherelen > 0)
		where[0] = '\0';
	return jl_walk(doc, 1, max_depth, max_array, where, wherelen, 0);
}
