/*
 * jsonlimit: nesting depth and array length of parsed documents, and the
 * JSON Pointer of the first place over a limit.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "jsonlimit.h"

static enum jsonlimit_fault
check(const char *text, int depth, size_t array, char *where, size_t len)
{
	json_error_t		 e;
	json_t			*doc;
	enum jsonlimit_fault	 f;

	doc = json_loads(text, JSON_DECODE_ANY, &e);
	cr_assert_not_null(doc, "%s: %s", text, e.text);
	f = jsonlimit_check(doc, depth, array, where, len);
	json_decref(doc);
	return f;
}

Test(jsonlimit, depth_counts_arrays_and_objects_only)
{
	char	w[64];

	cr_assert_eq(check("\"scalar\"", 1, 10, w, sizeof(w)), JSONLIMIT_OK);
	cr_assert_eq(check("{}", 1, 10, w, sizeof(w)), JSONLIMIT_OK);
	cr_assert_eq(check("{\"a\":1,\"b\":\"x\"}", 1, 10, w, sizeof(w)),
	    JSONLIMIT_OK);
	cr_assert_eq(check("{\"a\":[]}", 1, 10, w, sizeof(w)), JSONLIMIT_DEPTH);
	cr_assert_str_eq(w, "/a");
	cr_assert_eq(check("{\"a\":[]}", 2, 10, w, sizeof(w)), JSONLIMIT_OK);
	cr_assert_str_eq(w, "");
	cr_assert_eq(check("{\"a\":[{\"b\":{}}]}", 3, 10, w, sizeof(w)),
	    JSONLIMIT_DEPTH);
	cr_assert_str_eq(w, "/a/0/b");
	cr_assert_eq(check("{\"a\":[{\"b\":{}}]}", 4, 10, w, sizeof(w)),
	    JSONLIMIT_OK);
}

Test(jsonlimit, siblings_do_not_add_depth)
{
	char	w[64];

	cr_assert_eq(check("{\"a\":{\"x\":{}},\"b\":{\"y\":{}},\"c\":[[],[]]}",
	    3, 10, w, sizeof(w)), JSONLIMIT_OK);
	cr_assert_eq(check("{\"a\":{\"x\":{}},\"b\":{\"y\":{\"z\":[]}}}",
	    3, 10, w, sizeof(w)), JSONLIMIT_DEPTH);
	cr_assert_str_eq(w, "/b/y/z");
}

Test(jsonlimit, array_length_anywhere)
{
	char	w[64];

	cr_assert_eq(check("[1,2,3]", 5, 3, w, sizeof(w)), JSONLIMIT_OK);
	cr_assert_eq(check("[1,2,3,4]", 5, 3, w, sizeof(w)), JSONLIMIT_ARRAY);
	cr_assert_str_eq(w, "");
	cr_assert_eq(check("{\"ok\":[1],\"a/b~c\":{\"l\":[1,2,3,4]}}", 5, 3,
	    w, sizeof(w)), JSONLIMIT_ARRAY);
	cr_assert_str_eq(w, "/a~1b~0c/l");
}

Test(jsonlimit, pointer_is_cut_to_fit)
{
	char	w[6];

	cr_assert_eq(check("{\"abcdefgh\":{\"x\":[]}}", 2, 10, w, sizeof(w)),
	    JSONLIMIT_DEPTH);
	cr_assert_eq(strlen(w), 5);
	cr_assert_str_eq(w, "/abcd");
	cr_assert_eq(check("{\"a\":[]}", 1, 10, NULL, 0), JSONLIMIT_DEPTH);
}

Test(jsonlimit, deep_document_within_janssons_limit)
{
	char	*text, w[128];
	int	 i, n = 1000;

	text = malloc((size_t)n * 2 + 1);
	for (i = 0; i < n; i++) {
		text[i] = '[';
		text[n + i] = ']';
	}
	text[2 * n] = '\0';
	cr_assert_eq(check(text, 32, 10, w, sizeof(w)), JSONLIMIT_DEPTH);
	cr_assert_eq(strlen(w), 32 * 2, "%s", w);
	cr_assert_eq(check(text, 1000, 10, w, sizeof(w)), JSONLIMIT_OK);
	free(text);
}
