/*
 * Tests for jsonschema: the official JSON Schema Test Suite (draft 7) for
 * the keywords the module supports, then focused tests of what the suite
 * does not cover (error pointers, limits, hostile input).
 */

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "jsonschema.h"

#define SUITE_DEFAULT_DIR	"/usr/share/json-schema-test-suite/tests/draft7"

static json_t	*parse(const char *);
static int	 file_exists(const char *);
static int	 schema_supported(const json_t *);
static int	 check(const char *, const char *, struct jsonschema_errors *);
static int	 has_error(const struct jsonschema_errors *, const char *,
		    const char *);
static void	 dump_errors(const struct jsonschema_errors *);
static json_t	*nested_arrays(size_t);

/* The suite files for what jsonschema supports (plus its extras). */
static const char *suite_files[] = {
	"type.json", "properties.json", "required.json",
	"additionalProperties.json", "enum.json", "const.json",
	"minLength.json", "maxLength.json", "pattern.json", "minimum.json",
	"maximum.json", "exclusiveMinimum.json", "exclusiveMaximum.json",
	"items.json", "minItems.json", "maxItems.json", "uniqueItems.json",
	"minProperties.json", "maxProperties.json",
	"allOf.json", "anyOf.json", "oneOf.json", "ref.json",
	"boolean_schema.json", "default.json",
	"optional/format/uuid.json", "optional/format/date.json",
	"optional/format/date-time.json", "optional/format/email.json",
};

/* Draft 7 keywords the validator supports or may safely ignore. */
static const char *supported_keywords[] = {
	"type", "properties", "required", "additionalProperties", "enum",
	"const", "format", "minLength", "maxLength", "pattern", "minimum",
	"maximum", "exclusiveMinimum", "exclusiveMaximum", "items",
	"minItems", "maxItems", "uniqueItems", "allOf", "anyOf", "oneOf",
	"minProperties", "maxProperties", "$ref", "definitions",
	"title", "description", "default", "examples", "$schema", "$comment",
	"readOnly", "writeOnly",
};

/*
 * Keywords of draft 7 (and neighbours) the validator does not implement.
 * Any other member of a schema object is not a keyword at all (the suite
 * uses some as $ref targets, e.g. "tilda~field"): it is ignored, but
 * still checked as a possible schema.
 */
static const char *unsupported_keywords[] = {
	"$id", "id", "multipleOf", "additionalItems", "contains",
	"patternProperties",
	"dependencies", "propertyNames", "if", "then", "else", "not",
	"contentMediaType", "contentEncoding", "$defs", "$anchor",
	"$recursiveRef", "$dynamicRef", "dependentRequired",
	"dependentSchemas", "unevaluatedProperties", "unevaluatedItems",
	"prefixItems", "minContains", "maxContains",
};

static const char *supported_formats[] = {
	"uuid", "date", "date-time", "email",
};

static json_t *
parse(const char *text)
{
	json_error_t	 err;
	json_t		*v;

	v = json_loads(text, JSON_DECODE_ANY, &err);
	cr_assert_not_null(v, "bad test JSON: %s: %s", text, err.text);
	return (v);
}

static int
file_exists(const char *path)
{
	struct stat	st;

	return (stat(path, &st) == 0);
}

static int
in_list(const char *s, const char **list, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++) {
		if (strcmp(s, list[i]) == 0)
			return (1);
	}
	return (0);
}

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Whether a suite schema stays within what jsonschema implements. */
static int
schema_supported(const json_t *s)
{
	const char	*key, *name;
	json_t		*v, *sub;
	size_t		 i;

	if (!json_is_object(s))
		return (1);

	json_object_foreach((json_t *)s, key, v) {
		if (in_list(key, unsupported_keywords,
		    NELEM(unsupported_keywords)))
			return (0);

		if (strcmp(key, "$ref") == 0) {
			/* Only local JSON Pointer refs. */
			if (json_is_string(v) &&
			    json_string_value(v)[0] != '#')
				return (0);
		} else if (strcmp(key, "format") == 0) {
			if (json_is_string(v) && !in_list(json_string_value(v),
			    supported_formats, NELEM(supported_formats)))
				return (0);
		} else if (strcmp(key, "properties") == 0 ||
		    strcmp(key, "definitions") == 0) {
			json_object_foreach(v, name, sub) {
				if (!schema_supported(sub))
					return (0);
			}
		} else if (strcmp(key, "items") == 0 ||
		    strcmp(key, "allOf") == 0 || strcmp(key, "anyOf") == 0 ||
		    strcmp(key, "oneOf") == 0) {
			if (json_is_array(v)) {
				json_array_foreach(v, i, sub) {
					if (!schema_supported(sub))
						return (0);
				}
			} else if (!schema_supported(v)) {
				return (0);
			}
		} else if (strcmp(key, "additionalProperties") == 0 ||
		    !in_list(key, supported_keywords,
		    NELEM(supported_keywords))) {
			if (!schema_supported(v))
				return (0);
		}
	}
	return (1);
}

Test(jsonschema, official_suite_draft7)
{
	const char	*dir, *env, *gdesc;
	char		 path[4096], suite[2048];
	json_t		*doc, *group, *schema, *tests, *t, *data;
	json_error_t	 err;
	struct jsonschema_errors errs;
	size_t		 f, g, i;
	int		 valid, expect, rc;
	unsigned int	 passed, total, excluded, fpassed, ftotal, fexcl;
	unsigned int	 failed, missing;

	env = getenv("JSONSCHEMA_SUITE_DIR");
	dir = (env != NULL && *env != '\0') ? env : SUITE_DEFAULT_DIR;

	/* Accept the suite's root as well as its tests/draft7 directory. */
	(void)snprintf(path, sizeof(path), "%s/tests/draft7/type.json", dir);
	if (file_exists(path))
		(void)snprintf(suite, sizeof(suite), "%s/tests/draft7", dir);
	else
		(void)snprintf(suite, sizeof(suite), "%s", dir);

	(void)snprintf(path, sizeof(path), "%s/type.json", suite);
	if (!file_exists(path)) {
		cr_assert_fail("JSON Schema Test Suite not found at %s "
		    "(install the Debian package json-schema-test-suite or "
		    "set JSONSCHEMA_SUITE_DIR to its tests/draft7 directory)",
		    suite);
	}

	passed = total = excluded = failed = missing = 0;
	for (f = 0; f < NELEM(suite_files); f++) {
		(void)snprintf(path, sizeof(path), "%s/%s", suite,
		    suite_files[f]);
		if (!file_exists(path)) {
			if (strncmp(suite_files[f], "optional/", 9) == 0) {
				printf("  %-32s skipped: not in this suite "
				    "version\n", suite_files[f]);
			} else {
				printf("  %-32s MISSING\n", suite_files[f]);
				missing++;
			}
			continue;
		}

		doc = json_load_file(path, 0, &err);
		cr_assert_not_null(doc, "%s: %s", path, err.text);
		cr_assert(json_is_array(doc), "%s: not an array", path);

		fpassed = ftotal = fexcl = 0;
		json_array_foreach(doc, g, group) {
			schema = json_object_get(group, "schema");
			tests = json_object_get(group, "tests");
			gdesc = json_string_value(json_object_get(group,
			    "description"));
			if (!schema_supported(schema)) {
				printf("  %-32s excluded group: %s\n",
				    suite_files[f], gdesc);
				fexcl++;
				continue;
			}
			json_array_foreach(tests, i, t) {
				data = json_object_get(t, "data");
				expect = json_is_true(json_object_get(t,
				    "valid"));
				jsonschema_errors_init(&errs);
				rc = jsonschema_validate(schema, schema, data,
				    "", &errs);
				valid = rc == 0;
				ftotal++;
				if (valid == expect && (rc == 0) ==
				    (errs.n == 0)) {
					fpassed++;
				} else {
					failed++;
					printf("  FAIL %s: %s: %s (expected "
					    "%s, got %s, %zu errors)\n",
					    suite_files[f], gdesc,
					    json_string_value(json_object_get(
					    t, "description")),
					    expect ? "valid" : "invalid",
					    valid ? "valid" : "invalid",
					    errs.n);
				}
				jsonschema_errors_cleanup(&errs);
			}
		}
		printf("  %-32s %u/%u cases passed, %u groups excluded\n",
		    suite_files[f], fpassed, ftotal, fexcl);
		passed += fpassed;
		total += ftotal;
		excluded += fexcl;
		json_decref(doc);
	}

	printf("JSON Schema Test Suite draft7: %u/%u cases passed (%.1f%%), "
	    "%u groups excluded as unsupported\n", passed, total,
	    total > 0 ? 100.0 * passed / total : 0.0, excluded);
	fflush(stdout);

	cr_assert_eq(missing, 0, "%u suite files missing under %s", missing,
	    suite);
	cr_assert_gt(total, 0, "no suite cases ran");
	cr_assert_eq(failed, 0, "%u of %u suite cases failed", failed, total);
}

/* Validate instance text against schema text (root = schema). */
static int
check(const char *schema_text, const char *inst_text,
    struct jsonschema_errors *errs)
{
	json_t		*schema, *inst;
	int		 rc;

	schema = parse(schema_text);
	inst = parse(inst_text);
	rc = jsonschema_validate(schema, schema, inst, "", errs);
	json_decref(schema);
	json_decref(inst);
	return (rc);
}

static int
has_error(const struct jsonschema_errors *errs, const char *pointer,
    const char *msgpart)
{
	size_t		i;

	for (i = 0; i < errs->n; i++) {
		if (strcmp(errs->items[i].pointer, pointer) == 0 &&
		    (msgpart == NULL ||
		    strstr(errs->items[i].message, msgpart) != NULL))
			return (1);
	}
	return (0);
}

static void
dump_errors(const struct jsonschema_errors *errs)
{
	size_t		i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "    '%s': %s\n", errs->items[i].pointer,
		    errs->items[i].message);
}

#define EXPECT_ERROR(errs, ptr, msg)					\
	do {								\
		if (!has_error((errs), (ptr), (msg)))			\
			dump_errors(errs);				\
		cr_expect(has_error((errs), (ptr), (msg)),		\
		    "expected error at '%s' containing '%s'", (ptr),	\
		    (msg) != NULL ? (msg) : "");			\
	} while (0)

Test(jsonschema, required_pointer)
{
	struct jsonschema_errors errs;

	jsonschema_errors_init(&errs);
	cr_assert_eq(check("{\"type\":\"object\",\"properties\":{\"family\":"
	    "{\"type\":\"object\",\"required\":[\"name\",\"size\"],"
	    "\"properties\":{\"name\":{\"type\":\"string\"}}}}}",
	    "{\"family\":{\"size\":3}}", &errs), -1);
	cr_expect_eq(errs.n, 1);
	EXPECT_ERROR(&errs, "/family/name", "required");
	jsonschema_errors_cleanup(&errs);
	cr_expect_eq(errs.n, 0);
}

Test(jsonschema, additional_properties_pointer)
{
	struct jsonschema_errors errs;

	jsonschema_errors_init(&errs);
	cr_assert_eq(check("{\"properties\":{\"a\":{}},"
	    "\"additionalProperties\":false}",
	    "{\"a\":1,\"b\":2,\"c\":3}", &errs), -1);
	cr_expect_eq(errs.n, 2);
	EXPECT_ERROR(&errs, "/b", "not allowed");
	EXPECT_ERROR(&errs, "/c", "not allowed");
	jsonschema_errors_cleanup(&errs);

	/* additionalProperties as a schema reports inside the property. */
	cr_assert_eq(check("{\"properties\":{\"a\":{}},"
	    "\"additionalProperties\":{\"type\":\"integer\"}}",
	    "{\"a\":\"x\",\"b\":2,\"c\":\"y\"}", &errs), -1);
	cr_expect_eq(errs.n, 1);
	EXPECT_ERROR(&errs, "/c", "must be integer");
	jsonschema_errors_cleanup(&errs);
}

Test(jsonschema, type_messages_hide_values)
{
	struct jsonschema_errors errs;
	size_t		i;

	jsonschema_errors_init(&errs);
	cr_assert_eq(check("{\"properties\":{\"age\":{\"type\":\"integer\"},"
	    "\"nick\":{\"type\":[\"string\",\"null\"]},"
	    "\"pin\":{\"enum\":[\"1234\"]},\"code\":{\"pattern\":\"^[0-9]+$\"},"
	    "\"mail\":{\"format\":\"email\"},\"n\":{\"maximum\":10}}}",
	    "{\"age\":\"SecretAge\",\"nick\":42,\"pin\":\"SecretPin\","
	    "\"code\":\"SecretCode\",\"mail\":\"SecretMail\",\"n\":12345}",
	    &errs), -1);
	cr_expect_eq(errs.n, 6);
	EXPECT_ERROR(&errs, "/age", "must be integer");
	EXPECT_ERROR(&errs, "/nick", "must be string or null");
	EXPECT_ERROR(&errs, "/pin", "allowed values");
	EXPECT_ERROR(&errs, "/code", "pattern");
	EXPECT_ERROR(&errs, "/mail", "email");
	EXPECT_ERROR(&errs, "/n", "less than or equal to 10");
	for (i = 0; i < errs.n; i++) {
		cr_expect_null(strstr(errs.items[i].message, "Secret"),
		    "message leaks the value: %s", errs.items[i].message);
		cr_expect_null(strstr(errs.items[i].message, "12345"),
		    "message leaks the value: %s", errs.items[i].message);
	}
	jsonschema_errors_cleanup(&errs);

	/* A real with a zero fraction is an integer; 1.5 is not. */
	cr_expect_eq(check("{\"type\":\"integer\"}", "1.0", NULL), 0);
	cr_expect_eq(check("{\"type\":\"integer\"}", "1.5", NULL), -1);
	cr_expect_eq(check("{\"type\":\"integer\"}", "1e300", NULL), 0);
	cr_expect_eq(check("{\"type\":\"number\"}", "3", NULL), 0);
	cr_expect_eq(check("{\"type\":\"null\"}", "null", NULL), 0);
	cr_expect_eq(check("{\"type\":\"boolean\"}", "0", NULL), -1);
}

Test(jsonschema, nested_array_pointer)
{
	struct jsonschema_errors errs;

	jsonschema_errors_init(&errs);
	cr_assert_eq(check("{\"type\":\"object\",\"properties\":{\"members\":"
	    "{\"type\":\"array\",\"items\":{\"type\":\"object\","
	    "\"required\":[\"name\"],\"properties\":{\"date_of_birth\":"
	    "{\"type\":\"string\",\"format\":\"date\"}}}}}}",
	    "{\"members\":[{\"name\":\"a\",\"date_of_birth\":\"2001-01-01\"},"
	    "{\"name\":\"b\"},{\"name\":\"c\",\"date_of_birth\":\"2026-02-30\"},"
	    "{}]}", &errs), -1);
	cr_expect_eq(errs.n, 2);
	EXPECT_ERROR(&errs, "/members/2/date_of_birth", "date");
	EXPECT_ERROR(&errs, "/members/3/name", "required");
	jsonschema_errors_cleanup(&errs);

	/* Tuple-form items. */
	cr_assert_eq(check("{\"items\":[{\"type\":\"string\"},"
	    "{\"type\":\"integer\"}]}", "[\"a\",\"b\",\"c\"]", &errs), -1);
	cr_expect_eq(errs.n, 1);
	EXPECT_ERROR(&errs, "/1", "must be integer");
	jsonschema_errors_cleanup(&errs);
}

Test(jsonschema, base_pointer)
{
	struct jsonschema_errors errs;
	json_t		*schema, *inst;

	jsonschema_errors_init(&errs);
	schema = parse("{\"properties\":{\"age\":{\"type\":\"integer\"}},"
	    "\"required\":[\"name\"]}");
	inst = parse("{\"age\":true}");
	cr_assert_eq(jsonschema_validate(schema, schema, inst, "/body",
	    &errs), -1);
	cr_expect_eq(errs.n, 2);
	EXPECT_ERROR(&errs, "/body/age", "must be integer");
	EXPECT_ERROR(&errs, "/body/name", "required");
	json_decref(schema);
	json_decref(inst);

	/* A parameter checked on its own: the error sits at the base. */
	schema = parse("{\"type\":\"integer\",\"minimum\":1,"
	    "\"maximum\":100}");
	inst = parse("1000");
	cr_assert_eq(jsonschema_validate(schema, schema, inst,
	    "/query/limit", &errs), -1);
	cr_expect_eq(errs.n, 3, "errors accumulate across validations");
	EXPECT_ERROR(&errs, "/query/limit", "less than or equal to 100");
	json_decref(inst);

	/* NULL base pointer means the root. */
	inst = parse("0");
	cr_assert_eq(jsonschema_validate(schema, schema, inst, NULL,
	    &errs), -1);
	EXPECT_ERROR(&errs, "", "greater than or equal to 1");
	json_decref(inst);
	json_decref(schema);
	jsonschema_errors_cleanup(&errs);
}

Test(jsonschema, pointer_escaping)
{
	struct jsonschema_errors errs;

	jsonschema_errors_init(&errs);
	cr_assert_eq(check("{\"properties\":{\"a/b~c\":{\"type\":\"integer\"},"
	    "\"o\":{\"required\":[\"x/y\",\"~\"]}},"
	    "\"additionalProperties\":{\"properties\":{\"~1\":false}}}",
	    "{\"a/b~c\":\"s\",\"o\":{},\"p/q\":{\"~1\":0}}", &errs), -1);
	cr_expect_eq(errs.n, 4);
	EXPECT_ERROR(&errs, "/a~1b~0c", "must be integer");
	EXPECT_ERROR(&errs, "/o/x~1y", "required");
	EXPECT_ERROR(&errs, "/o/~0", "required");
	EXPECT_ERROR(&errs, "/p~1q/~01", "not allowed");
	jsonschema_errors_cleanup(&errs);

	cr_assert_eq(check("{\"additionalProperties\":false}",
	    "{\"\":1}", &errs), -1);
	EXPECT_ERROR(&errs, "/", "not allowed");
	jsonschema_errors_cleanup(&errs);
}

Test(jsonschema, error_cap)
{
	struct jsonschema_errors errs;
	json_t		*schema, *inst;
	char		 key[32];
	int		 i;

	schema = parse("{\"additionalProperties\":false}");
	inst = json_object();
	for (i = 0; i < 100; i++) {
		(void)snprintf(key, sizeof(key), "k%d", i);
		json_object_set_new(inst, key, json_integer(i));
	}
	jsonschema_errors_init(&errs);
	cr_assert_eq(jsonschema_validate(schema, schema, inst, "", &errs),
	    -1);
	cr_expect_eq(errs.n, JSONSCHEMA_MAX_ERRORS);
	EXPECT_ERROR(&errs, "/k0", "not allowed");

	/* A full list still reports invalid (and adds nothing). */
	cr_expect_eq(jsonschema_validate(schema, schema, inst, "", &errs),
	    -1);
	cr_expect_eq(errs.n, JSONSCHEMA_MAX_ERRORS);
	jsonschema_errors_add(&errs, "/x", "extra");
	cr_expect_eq(errs.n, JSONSCHEMA_MAX_ERRORS);
	jsonschema_errors_cleanup(&errs);

	/* Without an error list the result is still right. */
	cr_expect_eq(jsonschema_validate(schema, schema, inst, "", NULL), -1);
	json_decref(inst);
	json_decref(schema);

	jsonschema_errors_add(&errs, "/query/x", "is not a known parameter");
	jsonschema_errors_add(&errs, NULL, NULL);
	cr_expect_eq(errs.n, 2);
	EXPECT_ERROR(&errs, "/query/x", "known parameter");
	EXPECT_ERROR(&errs, "", NULL);
	jsonschema_errors_cleanup(&errs);
}

Test(jsonschema, ref_into_root_document)
{
	struct jsonschema_errors errs;
	json_t		*root, *schema, *inst;

	root = parse("{\"openapi\":\"3.1.0\",\"components\":{\"schemas\":{"
	    "\"Person\":{\"type\":\"object\",\"required\":[\"name\"],"
	    "\"additionalProperties\":false,\"properties\":{"
	    "\"name\":{\"type\":\"string\",\"minLength\":1},"
	    "\"family\":{\"$ref\":\"#/components/schemas/Family\"}}},"
	    "\"Family\":{\"type\":\"object\",\"properties\":{\"members\":"
	    "{\"type\":\"array\",\"items\":"
	    "{\"$ref\":\"#/components/schemas/Person\"}}}},"
	    "\"a/b\":{\"type\":\"string\"},\"c%d\":{\"type\":\"integer\"},"
	    "\"list\":[{\"type\":\"null\"},{\"type\":\"boolean\"}]}}}");

	cr_expect_eq(jsonschema_resolve_ref(root, "#"), root);
	cr_expect_eq(jsonschema_resolve_ref(root,
	    "#/components/schemas/Person"),
	    json_object_get(json_object_get(json_object_get(root,
	    "components"), "schemas"), "Person"));
	cr_expect_not_null(jsonschema_resolve_ref(root,
	    "#/components/schemas/a~1b"));
	cr_expect_not_null(jsonschema_resolve_ref(root,
	    "#/components/schemas/c%25d"));
	cr_expect_not_null(jsonschema_resolve_ref(root,
	    "#/components/schemas/list/1"));
	cr_expect_not_null(jsonschema_resolve_ref(root,
	    "#/components%2Fschemas/list/0"), "%%2F decodes to a separator");
	cr_expect_null(jsonschema_resolve_ref(root,
	    "#/components/schemas/list/01"));
	cr_expect_null(jsonschema_resolve_ref(root,
	    "#/components/schemas/list/2"));
	cr_expect_null(jsonschema_resolve_ref(root,
	    "#/components/schemas/list/-"));
	cr_expect_null(jsonschema_resolve_ref(root,
	    "#/components/schemas/list/99999999999999999999999"));
	cr_expect_null(jsonschema_resolve_ref(root,
	    "#/components/schemas/Nope"));
	cr_expect_null(jsonschema_resolve_ref(root, "#/components/~2"));
	cr_expect_null(jsonschema_resolve_ref(root, "#/components/~"));
	cr_expect_null(jsonschema_resolve_ref(root, "#/components/%zz"));
	cr_expect_null(jsonschema_resolve_ref(root, "#/components/%2"));
	cr_expect_null(jsonschema_resolve_ref(root, "#/components/%00"));
	cr_expect_null(jsonschema_resolve_ref(root, "#/openapi/x"));
	cr_expect_null(jsonschema_resolve_ref(root, "#components"));
	cr_expect_null(jsonschema_resolve_ref(root,
	    "other.yaml#/components"));
	cr_expect_null(jsonschema_resolve_ref(root, "http://x/y#"));
	cr_expect_null(jsonschema_resolve_ref(root, ""));
	cr_expect_null(jsonschema_resolve_ref(NULL, "#"));
	cr_expect_null(jsonschema_resolve_ref(root, NULL));

	schema = parse("{\"$ref\":\"#/components/schemas/Person\"}");
	jsonschema_errors_init(&errs);

	inst = parse("{\"name\":\"A\",\"family\":{\"members\":["
	    "{\"name\":\"B\"},{\"name\":\"C\",\"family\":{}}]}}");
	cr_expect_eq(jsonschema_validate(root, schema, inst, "", &errs), 0);
	cr_expect_eq(errs.n, 0);
	json_decref(inst);

	inst = parse("{\"name\":\"A\",\"family\":{\"members\":["
	    "{\"name\":\"B\"},{\"name\":\"\",\"x\":1},{}]}}");
	cr_expect_eq(jsonschema_validate(root, schema, inst, "/body", &errs),
	    -1);
	cr_expect_eq(errs.n, 3);
	EXPECT_ERROR(&errs, "/body/family/members/1/name", "at least 1");
	EXPECT_ERROR(&errs, "/body/family/members/1/x", "not allowed");
	EXPECT_ERROR(&errs, "/body/family/members/2/name", "required");
	json_decref(inst);
	jsonschema_errors_cleanup(&errs);

	/* Draft 7: keywords beside $ref are ignored. */
	json_decref(schema);
	schema = parse("{\"$ref\":\"#/components/schemas/a~1b\","
	    "\"maxLength\":1}");
	inst = parse("\"long string\"");
	cr_expect_eq(jsonschema_validate(root, schema, inst, "", &errs), 0);
	json_decref(inst);

	/* A dangling ref is an error, not a crash and not a pass. */
	json_decref(schema);
	schema = parse("{\"$ref\":\"#/components/schemas/Nope\"}");
	inst = parse("{}");
	cr_expect_eq(jsonschema_validate(root, schema, inst, "", &errs), -1);
	EXPECT_ERROR(&errs, "", "reference");
	jsonschema_errors_cleanup(&errs);
	json_decref(inst);

	json_decref(schema);
	json_decref(root);
}

Test(jsonschema, formats)
{
	static const char *uuid_ok[] = {
		"2eb8aa08-aa98-11ea-b4aa-73b441d16380",
		"2EB8AA08-AA98-11EA-B4AA-73B441D16380",
		"00000000-0000-0000-0000-000000000000",
		"2eb8aa08-AA98-11ea-B4Aa-73B441D16380",
		"99c17cbb-656f-f64a-940f-1a4568f03487",
	};
	static const char *uuid_bad[] = {
		"", "2eb8aa08aa9811eab4aa73b441d16380",
		"2eb8aa08-aa98-11ea-b4aa-73b441d1638",
		"2eb8aa08-aa98-11ea-b4aa-73b441d163800",
		"2eb8aa0-8aa98-11ea-b4aa-73b441d16380",
		"zzzzzzzz-aa98-11ea-b4aa-73b441d16380",
		"{2eb8aa08-aa98-11ea-b4aa-73b441d16380}",
		"urn:uuid:2eb8aa08-aa98-11ea-b4aa-73b441d16380",
		"2eb8aa08-aa98-11ea-b4aa-73b441d16380-",
		"2eb8aa08-aa98-11ea-b4ga-73b441d16380",
	};
	static const char *date_ok[] = {
		"1963-06-19", "2024-02-29", "2000-02-29", "2026-12-31",
		"2026-01-31", "2026-04-30",
	};
	static const char *date_bad[] = {
		"2026-02-30", "2023-02-29", "1900-02-29", "2026-04-31",
		"2026-13-01", "2026-00-10", "2026-01-00", "2026-1-01",
		"2026-01-1", "06/19/1963", "2013-350", "20260101",
		"2026-01-01T00:00:00Z", "2026-01-01 ", "",
		"1963-06-1\xe0\xa7\xaa",
	};
	static const char *datetime_ok[] = {
		"1963-06-19T08:30:06.283185Z", "1963-06-19T08:30:06Z",
		"1937-01-01T12:00:27.87+00:20", "1990-12-31T15:59:50.123-08:00",
		"1963-06-19t08:30:06.283185z", "1998-12-31T23:59:60Z",
		"1998-12-31T15:59:60.123-08:00", "2024-02-29T00:00:00+14:00",
		"1985-04-12T00:59:59.999999999999999Z", "0400-02-29T00:00:00Z",
		"1998-12-31T23:59:60+00:00", "1999-01-01T00:59:60+01:00",
	};
	static const char *datetime_bad[] = {
		"1963-06-19T08:30:06", "1963-06-19T08:30:06.283185",
		"1990-02-31T15:59:59.123-08:00", "1990-12-31T15:59:59-24:00",
		"1990-12-31T15:59:59+00:60", "06/19/1963 08:30:06 PST",
		"2013-350T01:01:01", "1963-06-19 08:30:06Z",
		"1963-06-19T24:00:00Z", "1963-06-19T08:60:00Z",
		"1963-06-19T08:30:61Z", "1998-12-31T22:59:60Z",
		"1998-12-31T23:58:60Z", "1963-06-19T08:30:06.Z",
		"1963-06-19T08:30:06+0100", "1963-06-19T08:30:06Z ",
		"1963-06-19T8:30:06Z", "", "+11963-06-19T08:30:06.283185Z",
		"1985-04-12T23:20:50+01", "2016-12-31T24:59:60+01:00",
		"1985-04-12T23:20:50Z\n", "1963-06-19T08:30:06.28123+01:00Z",
		"0100-02-29T00:00:00Z", "1985-04-12T23:20Z",
		"1963-06-11T0\xe0\xa7\xaa:00:00Z",
	};
	static const char *email_ok[] = {
		"joe.bloggs@example.com", "te~st@example.com",
		"~test@example.com", "test~@example.com",
		"\"joe bloggs\"@example.com", "\"joe..bloggs\"@example.com",
		"te.s.t@example.com", "joe.bloggs@[127.0.0.1]",
		"joe.bloggs@[IPv6:::1]", "a+tag@sub.example.org",
		"user@localhost", "joe.bloggs@123.24-7-examples.com",
	};
	static const char *email_bad[] = {
		"2962", "", "@example.com", "joe@", ".test@example.com",
		"test.@example.com", "te..st@example.com",
		"joe.bloggs@invalid=domain.com", "joe.bloggs@[127.0.0.300]",
		"joe bloggs@example.com", "joe@-example.com",
		"joe@example-.com", "joe@example..com", "j\xc3\xb6@example.com",
	};
	size_t		i;

	for (i = 0; i < NELEM(uuid_ok); i++)
		cr_expect_eq(jsonschema_format_ok("uuid", uuid_ok[i]), 1,
		    "%s", uuid_ok[i]);
	for (i = 0; i < NELEM(uuid_bad); i++)
		cr_expect_eq(jsonschema_format_ok("uuid", uuid_bad[i]), 0,
		    "%s", uuid_bad[i]);
	for (i = 0; i < NELEM(date_ok); i++)
		cr_expect_eq(jsonschema_format_ok("date", date_ok[i]), 1,
		    "%s", date_ok[i]);
	for (i = 0; i < NELEM(date_bad); i++)
		cr_expect_eq(jsonschema_format_ok("date", date_bad[i]), 0,
		    "%s", date_bad[i]);
	for (i = 0; i < NELEM(datetime_ok); i++)
		cr_expect_eq(jsonschema_format_ok("date-time",
		    datetime_ok[i]), 1, "%s", datetime_ok[i]);
	for (i = 0; i < NELEM(datetime_bad); i++)
		cr_expect_eq(jsonschema_format_ok("date-time",
		    datetime_bad[i]), 0, "%s", datetime_bad[i]);
	for (i = 0; i < NELEM(email_ok); i++)
		cr_expect_eq(jsonschema_format_ok("email", email_ok[i]), 1,
		    "%s", email_ok[i]);
	for (i = 0; i < NELEM(email_bad); i++)
		cr_expect_eq(jsonschema_format_ok("email", email_bad[i]), 0,
		    "%s", email_bad[i]);

	/* Unknown formats are annotations. */
	cr_expect_eq(jsonschema_format_ok("hostname", "-"), 1);
	cr_expect_eq(jsonschema_format_ok(NULL, "x"), 1);
	cr_expect_eq(jsonschema_format_ok("date", NULL), 0);

	/* Through the validator; non-strings are not format-checked. */
	cr_expect_eq(check("{\"format\":\"date\"}", "\"2026-02-28\"", NULL),
	    0);
	cr_expect_eq(check("{\"format\":\"date\"}", "\"2026-02-30\"", NULL),
	    -1);
	cr_expect_eq(check("{\"format\":\"date\"}", "20260230", NULL), 0);
	cr_expect_eq(check("{\"format\":\"date-time\"}",
	    "\"2026-01-01T10:00:00\"", NULL), -1);
	cr_expect_eq(check("{\"format\":\"uuid\"}",
	    "\"not-a-uuid\"", NULL), -1);
	cr_expect_eq(check("{\"format\":\"no-such-format\"}", "\"x\"", NULL),
	    0);
}

Test(jsonschema, format_embedded_nul)
{
	json_t		*schema, *inst;

	/* The tail after a NUL must not escape the format check. */
	schema = parse("{\"format\":\"date\"}");
	inst = json_stringn("2026-01-01\0junk", 15);
	cr_assert_not_null(inst);
	cr_expect_eq(jsonschema_validate(schema, schema, inst, "", NULL), -1);
	json_decref(inst);
	json_decref(schema);
}

Test(jsonschema, length_in_code_points)
{
	/* "é" is 2 bytes, "€" 3, U+1F600 4: lengths count code points. */
	cr_expect_eq(check("{\"maxLength\":3}", "\"\xc3\xa9\xc3\xa9\xc3\xa9\"",
	    NULL), 0);
	cr_expect_eq(check("{\"minLength\":4}", "\"\xc3\xa9\xc3\xa9\xc3\xa9\"",
	    NULL), -1);
	cr_expect_eq(check("{\"minLength\":3,\"maxLength\":3}",
	    "\"a\xe2\x82\xac\xf0\x9f\x98\x80\"", NULL), 0);
	cr_expect_eq(check("{\"maxLength\":1}", "\"\\ud83d\\ude00\"", NULL),
	    0);
	cr_expect_eq(check("{\"minLength\":2}", "\"\\ud83d\\ude00\"", NULL),
	    -1);
	cr_expect_eq(check("{\"maxLength\":2.0}", "\"abc\"", NULL), -1);
	cr_expect_eq(check("{\"minLength\":0}", "\"\"", NULL), 0);
}

Test(jsonschema, patterns)
{
	struct jsonschema_errors errs;
	char		schema[64];
	int		i;

	cr_expect_eq(check("{\"pattern\":\"b+\"}", "\"abbc\"", NULL), 0);
	cr_expect_eq(check("{\"pattern\":\"^b+$\"}", "\"abbc\"", NULL), -1);
	cr_expect_eq(check("{\"pattern\":\"^.$\"}", "\"\xc3\xa9\"", NULL), 0);
	cr_expect_eq(check("{\"pattern\":\"^\\\\u00e9$\"}", "\"\xc3\xa9\"",
	    NULL), 0);
	/* ECMA-262: $ is the very end, not before a final newline. */
	cr_expect_eq(check("{\"pattern\":\"^a$\"}", "\"a\\n\"", NULL), -1);
	cr_expect_eq(check("{\"pattern\":\"^a\"}", "5", NULL), 0);

	jsonschema_errors_init(&errs);
	cr_expect_eq(check("{\"pattern\":\"(\"}", "\"x\"", &errs), -1);
	EXPECT_ERROR(&errs, "", "pattern");
	jsonschema_errors_cleanup(&errs);

	/* Catastrophic backtracking hits the match limit, not the CPU. */
	cr_expect_eq(check("{\"pattern\":\"^(a+)+$\"}",
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"",
	    NULL), -1);

	/* More distinct patterns than cache slots, twice over. */
	for (i = 0; i < 300; i++) {
		(void)snprintf(schema, sizeof(schema),
		    "{\"pattern\":\"^x{%d}$\"}", i % 150);
		cr_expect_eq(check(schema, "\"xxx\"", NULL),
		    i % 150 == 3 ? 0 : -1, "%s", schema);
	}
}

Test(jsonschema, equality_and_uniqueness)
{
	cr_expect_eq(check("{\"const\":1}", "1.0", NULL), 0);
	cr_expect_eq(check("{\"const\":1.0}", "1", NULL), 0);
	cr_expect_eq(check("{\"const\":1}", "1.5", NULL), -1);
	cr_expect_eq(check("{\"const\":9007199254740993}",
	    "9007199254740992.0", NULL), -1);
	cr_expect_eq(check("{\"enum\":[\"a\",{\"x\":[1,2]}]}",
	    "{\"x\":[1.0,2]}", NULL), 0);
	cr_expect_eq(check("{\"enum\":[]}", "1", NULL), -1);
	cr_expect_eq(check("{\"const\":{\"a\":1,\"b\":2}}",
	    "{\"b\":2,\"a\":1}", NULL), 0);
	cr_expect_eq(check("{\"const\":{\"a\":1,\"b\":2}}",
	    "{\"b\":2,\"c\":1}", NULL), -1);
	cr_expect_eq(check("{\"const\":false}", "0", NULL), -1);
	cr_expect_eq(check("{\"const\":null}", "null", NULL), 0);

	cr_expect_eq(check("{\"uniqueItems\":true}", "[1,\"1\",true,null,"
	    "[1],{\"a\":1},1.5]", NULL), 0);
	cr_expect_eq(check("{\"uniqueItems\":true}", "[1,2,1.0]", NULL), -1);
	cr_expect_eq(check("{\"uniqueItems\":true}",
	    "[{\"a\":1,\"b\":[2]},{\"b\":[2.0],\"a\":1}]", NULL), -1);
	cr_expect_eq(check("{\"uniqueItems\":true}", "[[1,2],[2,1]]", NULL),
	    0);
	cr_expect_eq(check("{\"uniqueItems\":false}", "[1,1]", NULL), 0);

	/* Exact comparison between integers and reals at 2^53 + 1. */
	cr_expect_eq(check("{\"maximum\":9007199254740992.0}",
	    "9007199254740993", NULL), -1);
	cr_expect_eq(check("{\"minimum\":9007199254740993}",
	    "9007199254740992.0", NULL), -1);
	cr_expect_eq(check("{\"exclusiveMinimum\":0}", "0", NULL), -1);
	cr_expect_eq(check("{\"exclusiveMinimum\":0}", "0.001", NULL), 0);
	cr_expect_eq(check("{\"exclusiveMaximum\":1.5}", "1", NULL), 0);
	cr_expect_eq(check("{\"minimum\":-9223372036854775808}",
	    "-1e300", NULL), -1);
}

Test(jsonschema, uniqueness_of_a_large_array)
{
	json_t		*schema, *inst;
	size_t		 i;

	/* Quadratic pairwise comparison would take minutes here. */
	schema = parse("{\"uniqueItems\":true}");
	inst = json_array();
	for (i = 0; i < 200000; i++)
		json_array_append_new(inst, json_integer((json_int_t)i));
	cr_expect_eq(jsonschema_validate(schema, schema, inst, "", NULL), 0);
	json_array_append_new(inst, json_real(777.0));
	cr_expect_eq(jsonschema_validate(schema, schema, inst, "", NULL), -1);
	json_decref(inst);
	json_decref(schema);
}

Test(jsonschema, combinators_report_once)
{
	struct jsonschema_errors errs;

	jsonschema_errors_init(&errs);
	cr_assert_eq(check("{\"properties\":{\"x\":{\"anyOf\":["
	    "{\"type\":\"string\",\"minLength\":5},"
	    "{\"type\":\"object\",\"required\":[\"a\",\"b\"]}]}}}",
	    "{\"x\":{\"z\":1}}", &errs), -1);
	cr_expect_eq(errs.n, 1);
	EXPECT_ERROR(&errs, "/x", "at least one");
	jsonschema_errors_cleanup(&errs);

	cr_assert_eq(check("{\"oneOf\":[{\"type\":\"integer\"},"
	    "{\"minimum\":2}]}", "3", &errs), -1);
	cr_expect_eq(errs.n, 1);
	EXPECT_ERROR(&errs, "", "exactly one");
	jsonschema_errors_cleanup(&errs);

	cr_expect_eq(check("{\"oneOf\":[{\"type\":\"integer\"},"
	    "{\"minimum\":2}]}", "1", NULL), 0);

	/* allOf branches do report their own errors. */
	cr_assert_eq(check("{\"allOf\":[{\"required\":[\"a\"]},"
	    "{\"required\":[\"b\"]}]}", "{}", &errs), -1);
	cr_expect_eq(errs.n, 2);
	EXPECT_ERROR(&errs, "/a", "required");
	EXPECT_ERROR(&errs, "/b", "required");
	jsonschema_errors_cleanup(&errs);
}

/* Built in place: Jansson's parser refuses this depth, on purpose. */
static json_t *
nested_arrays(size_t depth)
{
	json_t		*v, *outer;
	size_t		 i;

	v = json_array();
	for (i = 1; i < depth; i++) {
		outer = json_array();
		json_array_append_new(outer, v);
		v = outer;
	}
	return (v);
}

Test(jsonschema, deep_instance)
{
	static const char *schemas[] = {
		"{\"items\":{\"$ref\":\"#\"}}",
		"{\"type\":\"array\",\"items\":{\"items\":{\"$ref\":\"#\"}}}",
		"{\"anyOf\":[{\"type\":\"string\"},{\"items\":{\"$ref\":\"#\"}}]}",
		"{\"oneOf\":[{\"items\":{\"$ref\":\"#\"}},{\"type\":\"array\"}]}",
		"{\"uniqueItems\":true,\"items\":{\"$ref\":\"#\"}}",
		"{\"enum\":[1,[2]]}",
		"{\"const\":[[[[1]]]]}",
	};
	struct jsonschema_errors errs;
	json_t		*schema, *inst, *pair;
	size_t		 i;
	int		 rc;

	inst = nested_arrays(10000);
	for (i = 0; i < NELEM(schemas); i++) {
		schema = parse(schemas[i]);
		jsonschema_errors_init(&errs);
		rc = jsonschema_validate(schema, schema, inst, "", &errs);
		cr_expect_eq(rc, -1, "%s", schemas[i]);
		cr_expect_geq(errs.n, 1);
		jsonschema_errors_cleanup(&errs);
		json_decref(schema);
	}

	/* The error names where validation stopped. */
	schema = parse("{\"items\":{\"$ref\":\"#\"}}");
	jsonschema_errors_init(&errs);
	cr_assert_eq(jsonschema_validate(schema, schema, inst, "", &errs), -1);
	cr_expect_eq(errs.n, 1);
	cr_expect_not_null(strstr(errs.items[0].message, "too deep"));
	cr_expect_eq(strlen(errs.items[0].pointer), 64 * 2);
	jsonschema_errors_cleanup(&errs);
	json_decref(schema);

	/* A schema that does not descend does not care. */
	schema = parse("{\"type\":\"array\",\"minItems\":1}");
	cr_expect_eq(jsonschema_validate(schema, schema, inst, "", NULL), 0);
	json_decref(schema);

	/* Comparing two equally deep values must not recurse unbounded. */
	schema = parse("{\"uniqueItems\":true}");
	pair = json_array();
	json_array_append(pair, inst);
	json_array_append_new(pair, nested_arrays(10000));
	cr_expect_eq(jsonschema_validate(schema, schema, pair, "", NULL), -1);
	json_decref(schema);
	schema = json_pack("{s:O}", "const", inst);
	cr_expect_eq(jsonschema_validate(schema, schema, inst, "", NULL), -1);
	json_decref(schema);
	json_decref(pair);

	/* Modest nesting is fine. */
	json_decref(inst);
	inst = nested_arrays(40);
	schema = parse("{\"items\":{\"$ref\":\"#\"},\"uniqueItems\":true}");
	cr_expect_eq(jsonschema_validate(schema, schema, inst, "", NULL), 0);
	json_decref(schema);
	json_decref(inst);
}

Test(jsonschema, ref_cycles_terminate)
{
	static const char *schemas[] = {
		"{\"$ref\":\"#\"}",
		"{\"allOf\":[{\"$ref\":\"#\"}]}",
		"{\"anyOf\":[{\"$ref\":\"#\"},{\"$ref\":\"#\"}]}",
		"{\"oneOf\":[{\"$ref\":\"#\"},{\"$ref\":\"#\"},{\"$ref\":\"#\"}]}",
		"{\"definitions\":{\"a\":{\"$ref\":\"#/definitions/b\"},"
		    "\"b\":{\"$ref\":\"#/definitions/a\"}},"
		    "\"$ref\":\"#/definitions/a\"}",
		"{\"properties\":{\"a\":{\"$ref\":\"#\"}},"
		    "\"allOf\":[{\"$ref\":\"#\"}]}",
		"{\"anyOf\":[{\"anyOf\":[{\"$ref\":\"#\"},{\"$ref\":\"#\"}]},"
		    "{\"anyOf\":[{\"$ref\":\"#\"},{\"$ref\":\"#\"}]}]}",
	};
	struct jsonschema_errors errs;
	json_t		*inst, *schema;
	size_t		 i;
	int		 rc;

	inst = parse("{\"a\":{\"a\":{\"a\":[[[{\"a\":1}]]]}}}");
	for (i = 0; i < NELEM(schemas); i++) {
		schema = parse(schemas[i]);
		jsonschema_errors_init(&errs);
		rc = jsonschema_validate(schema, schema, inst, "", &errs);
		cr_expect_eq(rc, -1, "%s", schemas[i]);
		cr_expect_geq(errs.n, 1, "%s", schemas[i]);
		jsonschema_errors_cleanup(&errs);
		json_decref(schema);
	}
	json_decref(inst);
}

Test(jsonschema, malformed_schemas)
{
	static const char *schemas[] = {
		"{\"required\":5}", "{\"required\":[1,null,\"a\"]}",
		"{\"properties\":[]}", "{\"properties\":{\"a\":5}}",
		"{\"properties\":{\"a\":null}}", "{\"type\":5}",
		"{\"type\":[]}", "{\"type\":[5,\"bogus\"]}",
		"{\"type\":\"bogus\"}", "{\"items\":\"x\"}",
		"{\"items\":[5,null]}", "{\"minLength\":\"3\"}",
		"{\"minLength\":-1}", "{\"maxLength\":1e300}",
		"{\"maxItems\":-5.0}", "{\"minItems\":0.5}",
		"{\"pattern\":5}", "{\"pattern\":\"(\"}", "{\"pattern\":\"\"}",
		"{\"pattern\":\"[\"}", "{\"enum\":5}", "{\"enum\":{}}",
		"{\"allOf\":{}}", "{\"anyOf\":[]}", "{\"oneOf\":5}",
		"{\"allOf\":[5]}", "{\"anyOf\":[null]}", "{\"$ref\":5}",
		"{\"$ref\":\"#/nope\"}", "{\"$ref\":\"\"}",
		"{\"$ref\":\"#/%zz\"}", "{\"$ref\":\"#/a~2\"}",
		"{\"$ref\":\"#/$ref\"}", "{\"additionalProperties\":5}",
		"{\"additionalProperties\":null}", "{\"format\":5}",
		"{\"format\":\"date\",\"type\":\"string\"}",
		"{\"uniqueItems\":\"yes\"}", "{\"minimum\":\"1\"}",
		"{\"maximum\":null}", "{\"exclusiveMinimum\":true}",
		"{\"const\":{\"a\":[]}}", "5", "null", "\"string\"", "[]",
		"{}", "true", "false",
	};
	static const char *instances[] = {
		"null", "true", "0", "-1.5", "\"\"", "\"abc\"",
		"\"2026-01-01\"", "[]", "[1,[2],{\"a\":3}]", "{}",
		"{\"a\":{\"a\":1},\"$ref\":[]}", "[[[]],[[]]]",
	};
	struct jsonschema_errors errs;
	json_t		*schema, *inst;
	size_t		 i, j;
	int		 rc;

	for (i = 0; i < NELEM(schemas); i++) {
		schema = parse(schemas[i]);
		for (j = 0; j < NELEM(instances); j++) {
			inst = parse(instances[j]);
			jsonschema_errors_init(&errs);
			rc = jsonschema_validate(schema, schema, inst, "/p",
			    &errs);
			cr_expect(rc == 0 || rc == -1);
			cr_expect_eq(rc == 0, errs.n == 0, "%s vs %s",
			    schemas[i], instances[j]);
			jsonschema_errors_cleanup(&errs);
			json_decref(inst);
		}
		json_decref(schema);
	}

	/* Fail closed on what cannot be a schema. */
	cr_expect_eq(check("{\"properties\":{\"a\":5}}", "{\"a\":1}", NULL),
	    -1);
	cr_expect_eq(check("5", "1", NULL), -1);
	/* Keywords of the wrong type are ignored. */
	cr_expect_eq(check("{\"required\":5,\"properties\":[]}", "{}", NULL),
	    0);

	/* NULL arguments. */
	inst = parse("{}");
	jsonschema_errors_init(&errs);
	cr_expect_eq(jsonschema_validate(NULL, NULL, inst, "", &errs), -1);
	cr_expect_eq(errs.n, 1);
	schema = parse("{}");
	cr_expect_eq(jsonschema_validate(NULL, schema, NULL, "", &errs), -1);
	cr_expect_eq(errs.n, 2);
	cr_expect_eq(jsonschema_validate(NULL, schema, inst, NULL, &errs), 0);
	jsonschema_errors_cleanup(&errs);
	jsonschema_errors_cleanup(NULL);
	json_decref(schema);
	json_decref(inst);
}

Test(jsonschema, complexity_is_bounded)
{
	json_t		*schema, *inst;
	char		*text;
	size_t		 i, len;

	/*
	 * Twenty nested two-way anyOfs whose branches all fail late would
	 * be 2^20 walks of the instance; the step budget ends it.
	 */
	len = 0;
	text = malloc(64 * 1024);
	cr_assert_not_null(text);
	text[0] = '\0';
	for (i = 0; i < 20; i++)
		len += (size_t)sprintf(text + len, "{\"anyOf\":[");
	len += (size_t)sprintf(text + len, "{\"items\":{\"type\":\"string\"}}");
	for (i = 0; i < 20; i++)
		len += (size_t)sprintf(text + len,
		    ",{\"items\":{\"type\":\"string\"}}]}");
	schema = parse(text);
	free(text);

	inst = json_array();
	for (i = 0; i < 100; i++)
		json_array_append_new(inst, json_string("s"));
	json_array_append_new(inst, json_integer(1));
	cr_expect_eq(jsonschema_validate(schema, schema, inst, "", NULL), -1);
	json_decref(inst);
	json_decref(schema);
}
