/*
 * jsontext_array_last: element counts and last elements of arrays as the
 * database writes them (jsonb's text, with spaces), and text that is not
 * an array or does not balance.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "jsontext.h"

static void
expect_last(const char *s, size_t want_count, const char *want_last)
{
	size_t	count = 99, start = 0, elen = 0;

	cr_assert_eq(jsontext_array_last(s, strlen(s), &count, &start, &elen), 0,
	    "not taken as an array: %s", s);
	cr_expect_eq(count, want_count, "%s: %zu elements, want %zu", s, count,
	    want_count);
	if (want_last != NULL)
		cr_expect(elen == strlen(want_last) &&
		    memcmp(s + start, want_last, elen) == 0,
		    "%s: last is '%.*s', want '%s'", s, (int)elen, s + start, want_last);
}

static void
expect_refused(const char *s)
{
	size_t	count, start, elen;

	cr_expect_eq(jsontext_array_last(s, strlen(s), &count, &start, &elen), -1,
	    "taken as an array: %s", s);
}

Test(jsontext, arrays)
{
	expect_last("[]", 0, NULL);
	expect_last(" [ ] ", 0, NULL);
	expect_last("[1]", 1, "1");
	expect_last("[1, 2, 3]", 3, "3");
	expect_last("[{\"id\": \"a\"}, {\"id\": \"b\", \"n\": [1, 2]}]", 2,
	    "{\"id\": \"b\", \"n\": [1, 2]}");
	expect_last("[\"a,b\", \"c]d\", \"e\\\"],f\"]", 3, "\"e\\\"],f\"");
	expect_last("[[1, [2, 3]], {\"k\": {\"l\": []}}]", 2, "{\"k\": {\"l\": []}}");
	expect_last("\n[ null ,\ttrue ]\n", 2, "true");
	expect_last("[\"\\\\\", \"x\"]", 2, "\"x\"");
}

Test(jsontext, refused)
{
	expect_refused("");
	expect_refused("{}");
	expect_refused("1");
	expect_refused("[");
	expect_refused("[1");
	expect_refused("[1, [2]");
	expect_refused("[\"a]");
	expect_refused("[1]]");
	expect_refused("[1] x");
	expect_refused("[,1]");
	expect_refused("[1,,2]");
	expect_refused("[1,]");
	expect_refused("[1, }");
}

/* Against jansson, on the same texts: the count and the last element. */
Test(jsontext, agrees_with_jansson)
{
	const char *texts[] = {
		"[]", "[0]", "[1, 2]", "[{\"a\": [1, {\"b\": \"]\"}]}, \"x\", 3.5e2]",
		"[[], [[]], {}]", "[\"\\u005d\", \"\\\"\"]",
	};
	size_t	i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		json_t		*a, *last, *want;
		size_t		 count, start, elen;

		a = json_loads(texts[i], 0, NULL);
		cr_assert_not_null(a, "%s", texts[i]);
		cr_assert_eq(jsontext_array_last(texts[i], strlen(texts[i]), &count,
		    &start, &elen), 0);
		cr_expect_eq(count, json_array_size(a), "%s", texts[i]);
		if (count > 0) {
			last = json_loadb(texts[i] + start, elen, JSON_DECODE_ANY, NULL);
			want = json_array_get(a, json_array_size(a) - 1);
			cr_expect(last != NULL && json_equal(last, want), "%s", texts[i]);
			json_decref(last);
		}
		json_decref(a);
	}
}

Test(jsontext, compact)
{
	const char	*in = "{\"a\": [1, 2, {\"b c\": \"d, e: f\"}], \"g\": \"\\\" x\", \"h\": null}";
	const char	*want = "{\"a\":[1,2,{\"b c\":\"d, e: f\"}],\"g\":\"\\\" x\",\"h\":null}";
	char		 out[128];
	size_t		 n;

	n = jsontext_compact(in, strlen(in), out);
	cr_expect(n == strlen(want) && memcmp(out, want, n) == 0, "got '%.*s'", (int)n, out);
	in = " [ \"\\\\\" , 1 ] ";
	n = jsontext_compact(in, strlen(in), out);
	cr_expect(n == 8 && memcmp(out, "[\"\\\\\",1]", 8) == 0, "got '%.*s'", (int)n, out);
}
