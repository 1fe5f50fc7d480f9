/*
 * jsonschema: validates a JSON instance against a JSON Schema, on Jansson.
 *
 * Supported keywords (what openapi.yaml uses): type (string or array, incl.
 * "null"), properties, required, additionalProperties (boolean or schema),
 * enum, const, format (uuid, date, date-time, email), minLength, maxLength
 * (in code points), pattern (ECMA-262 subset via PCRE2), minimum, maximum,
 * items (schema or array of schemas), minItems, maxItems, uniqueItems,
 * allOf, anyOf, oneOf, $ref (local JSON Pointer refs: "#", "#/a/b"), boolean
 * schemas. Annotations (title, description, examples, default, $schema,
 * definitions, $defs, readOnly, writeOnly, deprecated) are ignored. Other
 * keywords are ignored, so callers must only rely on the list above.
 *
 * Ownership: every json_t passed in is borrowed. Error strings in a
 * jsonschema_errors are owned by it and freed by jsonschema_errors_cleanup.
 */
#ifndef KEYWORK_JSONSCHEMA_H
#define KEYWORK_JSONSCHEMA_H

#include <stddef.h>
#include <jansson.h>

/* At most this many errors are collected for one validation. */
#define JSONSCHEMA_MAX_ERRORS 32

struct jsonschema_error {
	char *pointer; /* RFC 6901 pointer into the instance, "" for the root */
	char *message; /* a short English sentence, no instance data in it */
};

struct jsonschema_errors {
	size_t n;
	struct jsonschema_error items[JSONSCHEMA_MAX_ERRORS];
};

void jsonschema_errors_init(struct jsonschema_errors *);
void jsonschema_errors_cleanup(struct jsonschema_errors *);

/*
 * Append one error (used by callers that check things beside a schema, such
 * as request parameters). prefix is prepended to pointer.
 */
void jsonschema_errors_add(struct jsonschema_errors *, const char *pointer,
    const char *message);

/*
 * Validate instance against schema. root is the document "#..." refs
 * resolve in (for openapi.yaml, the whole spec; for a standalone schema, the
 * schema itself). base_pointer is prepended to every error pointer (e.g.
 * "/query/limit" or ""), may be NULL.
 *
 * Returns 0 when valid, -1 when invalid (errs has at least one entry).
 * Never crashes on hostile input: recursion is bounded (a too-deep instance
 * or a $ref cycle is reported as an error, not followed forever).
 */
int jsonschema_validate(const json_t *root, const json_t *schema,
    const json_t *instance, const char *base_pointer,
    struct jsonschema_errors *errs) __attribute__((warn_unused_result));

/* Resolve a local "$ref" ("#/components/schemas/X") in root; NULL if absent. */
const json_t *jsonschema_resolve_ref(const json_t *root, const char *ref);

/* Format checks, exported for parameter validation and tests: 1 valid, 0 not. */
int jsonschema_format_ok(const char *format, const char *value);

#endif
