/*
 * Unit tests of yamljson: scalar typing by the YAML 1.2 core schema, quoted
 * and block scalars, nesting, and every refusal with its file:line:column.
 * Run from the repository root (data under tests/unit/data).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamljson.h"

#define DATA	"tests/unit/data/"

static json_t	*load(const char *, char *, size_t);
static char	*nested(size_t, const char *, const char *);

static json_t *
load(const char *yaml, char *err, size_t errlen)
{
	return (yamljson_load_buffer(yaml, strlen(yaml), "t.yaml", err,
	    errlen));
}

/* open repeated n times, then close repeated n times. */
static char *
nested(size_t n, const char *open, const char *close)
{
	size_t	 ol, cl, i;
	char	*s;

	ol = strlen(open);
	cl = strlen(close);
	s = malloc(n * (ol + cl) + 1);
	cr_assert_not_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * ol, open, ol);
	for (i = 0; i < n; i++)
		memcpy(s + n * ol + i * cl, close, cl);
	s[n * (ol + cl)] = '\0';
	return (s);
}

/* Each plain or quoted scalar and the JSON it must become. */
struct scalar_case {
	const char	*yaml;
	const char	*json;
};

static const struct scalar_case scalar_cases[] = {
	/* null */
	{ "v: ~", "null" },
	{ "v: null", "null" },
	{ "v: Null", "null" },
	{ "v: NULL", "null" },
	{ "v:", "null" },
	{ "v: nul", "\"nul\"" },
	/* booleans: core schema only, not YAML 1.1's yes/no/on/off */
	{ "v: true", "true" },
	{ "v: True", "true" },
	{ "v: TRUE", "true" },
	{ "v: false", "false" },
	{ "v: False", "false" },
	{ "v: FALSE", "false" },
	{ "v: tRUE", "\"tRUE\"" },
	{ "v: yes", "\"yes\"" },
	{ "v: off", "\"off\"" },
	/* integers */
	{ "v: 0", "0" },
	{ "v: 42", "42" },
	{ "v: -17", "-17" },
	{ "v: +17", "17" },
	{ "v: 007", "7" },
	{ "v: 0o17", "15" },
	{ "v: 0x1F", "31" },
	{ "v: 0xff", "255" },
	{ "v: 9223372036854775807", "9223372036854775807" },
	{ "v: -9223372036854775808", "-9223372036854775808" },
	{ "v: 1_000", "\"1_000\"" },
	{ "v: 0b101", "\"0b101\"" },
	{ "v: 0o8", "\"0o8\"" },
	{ "v: -0x10", "\"-0x10\"" },
	{ "v: 12abc", "\"12abc\"" },
	{ "v: 1.2.3", "\"1.2.3\"" },
	/* floats */
	{ "v: 2.5", "2.5" },
	{ "v: -0.5", "-0.5" },
	{ "v: .5", "0.5" },
	{ "v: 5.", "5.0" },
	{ "v: 1e3", "1000.0" },
	{ "v: 1.5E-2", "0.015" },
	{ "v: +2.0", "2.0" },
	{ "v: .e5", "\".e5\"" },
	{ "v: 1e", "\"1e\"" },
	{ "v: .", "\".\"" },
	/* quoted scalars are strings whatever they look like */
	{ "v: \"42\"", "\"42\"" },
	{ "v: '42'", "\"42\"" },
	{ "v: \"true\"", "\"true\"" },
	{ "v: 'null'", "\"null\"" },
	{ "v: ''", "\"\"" },
	{ "v: \"~\"", "\"~\"" },
	{ "v: \"a\\tb\\u00e9\"", "\"a\\tb\\u00e9\"" },
	{ "v: 'it''s'", "\"it's\"" },
	/* plain strings */
	{ "v: hello world", "\"hello world\"" },
	{ "v: 3.1.0", "\"3.1.0\"" },
	{ "v: /v1/users/{id}", "\"/v1/users/{id}\"" },
	{ "v: \"#/components/schemas/X\"", "\"#/components/schemas/X\"" },
	/* explicit core tags */
	{ "v: !!str 42", "\"42\"" },
	{ "v: !!int \"12\"", "12" },
	{ "v: !!float 1", "1.0" },
	{ "v: !!bool \"true\"", "true" },
	{ "v: !!null ''", "null" },
	{ "v: ! 12", "\"12\"" },
};

Test(yamljson, scalars_typed_by_core_schema)
{
	char		 err[256];
	json_t		*doc, *want;
	json_error_t	 jerr;
	size_t		 i;

	for (i = 0; i < sizeof(scalar_cases) / sizeof(scalar_cases[0]); i++) {
		doc = load(scalar_cases[i].yaml, err, sizeof(err));
		cr_assert_not_null(doc, "%s: %s", scalar_cases[i].yaml, err);
		want = json_loads(scalar_cases[i].json, JSON_DECODE_ANY, &jerr);
		cr_assert_not_null(want, "bad expectation %s",
		    scalar_cases[i].json);
		cr_assert(json_equal(json_object_get(doc, "v"), want),
		    "%s: want %s", scalar_cases[i].yaml, scalar_cases[i].json);
		/* json_equal says 1 == 1.0 is false, but check the kind too */
		cr_assert_eq(json_typeof(json_object_get(doc, "v")),
		    json_typeof(want), "%s: wrong JSON type",
		    scalar_cases[i].yaml);
		json_decref(want);
		json_decref(doc);
	}
}

Test(yamljson, mapping_keys_are_strings)
{
	char	 err[256];
	json_t	*doc;

	doc = load("200: ok\ntrue: yes\n~: n\n1.5: f\n", err, sizeof(err));
	cr_assert_not_null(doc, "%s", err);
	cr_assert_str_eq(json_string_value(json_object_get(doc, "200")), "ok");
	cr_assert_str_eq(json_string_value(json_object_get(doc, "true")),
	    "yes");
	cr_assert_str_eq(json_string_value(json_object_get(doc, "~")), "n");
	cr_assert_str_eq(json_string_value(json_object_get(doc, "1.5")), "f");
	json_decref(doc);
}

Test(yamljson, nesting_block_and_flow)
{
	static const char yaml[] =
	    "openapi: 3.1.0\n"
	    "paths:\n"
	    "  /a:\n"
	    "    get:\n"
	    "      tags: [x, y]\n"
	    "      parameters:\n"
	    "        - name: id\n"
	    "          in: path\n"
	    "        - {name: q, in: query, required: false}\n"
	    "empty_map: {}\n"
	    "empty_list: []\n"
	    "list_of_lists:\n"
	    "  - - 1\n"
	    "    - 2\n"
	    "  - [3]\n";
	static const char want[] =
	    "{\"openapi\": \"3.1.0\", \"paths\": {\"/a\": {\"get\": {"
	    "\"tags\": [\"x\", \"y\"], \"parameters\": ["
	    "{\"name\": \"id\", \"in\": \"path\"},"
	    "{\"name\": \"q\", \"in\": \"query\", \"required\": false}]}}},"
	    "\"empty_map\": {}, \"empty_list\": [],"
	    "\"list_of_lists\": [[1, 2], [3]]}";
	char		 err[256];
	json_t		*doc, *expect;
	json_error_t	 jerr;

	doc = load(yaml, err, sizeof(err));
	cr_assert_not_null(doc, "%s", err);
	expect = json_loads(want, 0, &jerr);
	cr_assert_not_null(expect, "%s", jerr.text);
	cr_assert(json_equal(doc, expect));
	json_decref(expect);
	json_decref(doc);
}

Test(yamljson, block_scalars_are_strings)
{
	static const char yaml[] =
	    "literal: |\n"
	    "  line one\n"
	    "  42\n"
	    "folded: >\n"
	    "  folded\n"
	    "  text\n"
	    "stripped: |-\n"
	    "  true\n"
	    "number: |-\n"
	    "  12\n";
	char	 err[256];
	json_t	*doc;

	doc = load(yaml, err, sizeof(err));
	cr_assert_not_null(doc, "%s", err);
	cr_assert_str_eq(json_string_value(json_object_get(doc, "literal")),
	    "line one\n42\n");
	cr_assert_str_eq(json_string_value(json_object_get(doc, "folded")),
	    "folded text\n");
	cr_assert_str_eq(json_string_value(json_object_get(doc, "stripped")),
	    "true");
	cr_assert_str_eq(json_string_value(json_object_get(doc, "number")),
	    "12");
	json_decref(doc);
}

Test(yamljson, root_scalar_and_explicit_document)
{
	char	 err[256];
	json_t	*doc;

	doc = load("--- 12\n...\n", err, sizeof(err));
	cr_assert_not_null(doc, "%s", err);
	cr_assert(json_is_integer(doc));
	cr_assert_eq(json_integer_value(doc), 12);
	json_decref(doc);

	doc = load("---\n", err, sizeof(err));
	cr_assert_not_null(doc, "%s", err);
	cr_assert(json_is_null(doc));
	json_decref(doc);
}

Test(yamljson, quoted_nul_is_kept_in_the_string)
{
	char	 err[256];
	json_t	*doc;

	doc = load("v: \"a\\0b\"", err, sizeof(err));
	cr_assert_not_null(doc, "%s", err);
	cr_assert_eq(json_string_length(json_object_get(doc, "v")), 3);
	json_decref(doc);
}

/* Every refusal and the start of the message it must give. */
struct error_case {
	const char	*yaml;
	const char	*err;
};

static const struct error_case error_cases[] = {
	/* syntax, as libyaml reports it */
	{ "a:\n  b: 1\n c: 2\n", "t.yaml:3:2: did not find expected key" },
	{ "a: [1, 2\n", "t.yaml:2:1: did not find expected ',' or ']'" },
	{ "a: 'open\n", "t.yaml:2:1: found unexpected end of stream" },
	{ "a:\n\tb: 1\n", "t.yaml:2:1: found character that cannot start" },
	{ "", "t.yaml:1:1: empty document" },
	{ "# only a comment\n", "t.yaml:1:1: empty document" },
	/* our own refusals */
	{ "a: 1\nb: 2\na: 3\n", "t.yaml:3:1: duplicate mapping key \"a\"" },
	{ "a: 1\n'a': 2\n", "t.yaml:2:1: duplicate mapping key \"a\"" },
	{ "x:\n  - 1\n  - {k: 1, k: 2}\n",
	    "t.yaml:3:12: duplicate mapping key \"k\"" },
	{ "a: &x 1\nb: *x\n", "t.yaml:1:4: anchors are not supported" },
	{ "a: &x [1]\n", "t.yaml:1:4: anchors are not supported" },
	{ "a: &x {k: 1}\n", "t.yaml:1:4: anchors are not supported" },
	{ "b: *x\n", "t.yaml:1:4: aliases are not supported" },
	{ "a: .inf\n", "t.yaml:1:4: .inf and .nan have no JSON represent" },
	{ "a: -.Inf\n", "t.yaml:1:4: .inf and .nan have no JSON " },
	{ "a: +.INF\n", "t.yaml:1:4: .inf and .nan have no JSON " },
	{ "a: .nan\n", "t.yaml:1:4: .inf and .nan have no JSON " },
	{ "a: .NaN\n", "t.yaml:1:4: .inf and .nan have no JSON " },
	{ "a: 1e400\n", "t.yaml:1:4: number out of range" },
	{ "a: 9223372036854775808\n", "t.yaml:1:4: integer out of range" },
	{ "a: -9223372036854775809\n", "t.yaml:1:4: integer out of range" },
	{ "a: 0x10000000000000000\n", "t.yaml:1:4: integer out of range" },
	{ "? [a, b]\n: 1\n", "t.yaml:1:3: mapping keys must be scalars" },
	{ "{[a]: 1}\n", "t.yaml:1:2: mapping keys must be scalars" },
	{ "? {a: 1}\n: 1\n", "t.yaml:1:3: mapping keys must be scalars" },
	{ "\"a\\0\": 1\n", "t.yaml:1:1: mapping key contains NUL" },
	{ "--- 1\n--- 2\n", "t.yaml:2:1: more than one document" },
	{ "a: !foo x\n", "t.yaml:1:4: unsupported tag \"!foo\"" },
	{ "a: !!int x\n", "t.yaml:1:4: scalar does not match its tag" },
	{ "a: !!bool 1\n", "t.yaml:1:4: scalar does not match its tag" },
	{ "a: !!binary aGk=\n", "t.yaml:1:4: unsupported tag" },
	{ "a: !!map [1]\n", "t.yaml:1:4: unsupported tag" },
	{ "a: !!set {x}\n", "t.yaml:1:4: unsupported tag" },
};

Test(yamljson, errors_name_line_and_column)
{
	char	 err[256];
	json_t	*doc;
	size_t	 i;

	for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		err[0] = '\0';
		doc = load(error_cases[i].yaml, err, sizeof(err));
		cr_assert_null(doc, "case %zu: %s: accepted", i,
		    error_cases[i].yaml);
		cr_assert(strncmp(err, error_cases[i].err,
		    strlen(error_cases[i].err)) == 0,
		    "case %zu: want \"%s\", got \"%s\"", i, error_cases[i].err,
		    err);
	}
}

Test(yamljson, invalid_utf8_is_refused)
{
	static const char bad[] = "a: \xff\xfe\n";
	char	 err[256];
	json_t	*doc;

	doc = yamljson_load_buffer(bad, sizeof(bad) - 1, "t.yaml", err,
	    sizeof(err));
	cr_assert_null(doc);
	cr_assert(strncmp(err, "t.yaml:", 7) == 0, "%s", err);
}

Test(yamljson, buffer_need_not_be_nul_terminated)
{
	char	 err[256];
	json_t	*doc;

	/* Only the first 4 bytes are the document. */
	doc = yamljson_load_buffer("a: 1234", 4, "t.yaml", err, sizeof(err));
	cr_assert_not_null(doc, "%s", err);
	cr_assert_eq(json_integer_value(json_object_get(doc, "a")), 1);
	json_decref(doc);
}

Test(yamljson, nesting_depth_is_bounded)
{
	char	 err[256];
	char	*s;
	json_t	*doc;

	/* 256 levels are fine, flow or block. */
	s = nested(256, "[", "]");
	doc = load(s, err, sizeof(err));
	cr_assert_not_null(doc, "%s", err);
	json_decref(doc);
	free(s);

	s = nested(257, "[", "]");
	doc = load(s, err, sizeof(err));
	cr_assert_null(doc);
	cr_assert_str_eq(err, "t.yaml:1:257: nesting deeper than 256 levels");
	free(s);

	s = nested(300, "{a: ", "}");
	doc = load(s, err, sizeof(err));
	cr_assert_null(doc);
	cr_assert(strstr(err, "nesting deeper than 256 levels") != NULL,
	    "%s", err);
	free(s);

	/* Deep enough to hurt a recursive consumer, refused without leaks. */
	s = nested(100000, "[", "]");
	doc = load(s, err, sizeof(err));
	cr_assert_null(doc);
	cr_assert(strstr(err, "nesting deeper than 256 levels") != NULL,
	    "%s", err);
	free(s);
}

Test(yamljson, block_nesting_depth_is_bounded)
{
	char	 err[256];
	char	*s, *p;
	json_t	*doc;
	size_t	 i, depth;

	depth = 300;
	s = malloc(depth * (depth * 2 + 4) + 8);
	cr_assert_not_null(s);
	p = s;
	for (i = 0; i < depth; i++) {
		memset(p, ' ', i * 2);
		p += i * 2;
		memcpy(p, "k:\n", 3);
		p += 3;
	}
	*p = '\0';
	doc = load(s, err, sizeof(err));
	cr_assert_null(doc);
	cr_assert_str_eq(err, "t.yaml:257:513: nesting deeper than 256 levels");
	free(s);
}

Test(yamljson, file_loading_and_missing_file)
{
	char	 err[256];
	json_t	*doc;

	doc = yamljson_load_file(DATA "openapi-router.yaml", err, sizeof(err));
	cr_assert_not_null(doc, "%s", err);
	cr_assert_str_eq(json_string_value(json_object_get(doc, "openapi")),
	    "3.1.0");
	json_decref(doc);

	doc = yamljson_load_file(DATA "no-such-file.yaml", err, sizeof(err));
	cr_assert_null(doc);
	cr_assert_str_eq(err, DATA "no-such-file.yaml: No such file or "
	    "directory");

	doc = yamljson_load_file(DATA "openapi-bad-yaml.yaml", err,
	    sizeof(err));
	cr_assert_null(doc);
	cr_assert_str_eq(err, DATA "openapi-bad-yaml.yaml:7:6: did not find "
	    "expected key (while parsing a block mapping at line 5)");
}

Test(yamljson, tiny_error_buffers_are_safe)
{
	char	 err[8];
	json_t	*doc;

	doc = load("a: *x", err, sizeof(err));
	cr_assert_null(doc);
	cr_assert_eq(strlen(err), sizeof(err) - 1);
	doc = load("a: *x", err, 0);
	cr_assert_null(doc);
}
