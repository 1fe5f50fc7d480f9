/*
 * yamljson: loads a YAML 1.2 document (the JSON-compatible subset that
 * OpenAPI files use: mappings, sequences, scalars, anchors/aliases refused)
 * into a Jansson value with libyaml.
 *
 * Plain scalars are typed as YAML's core schema says: null/~/empty -> null,
 * true/false -> boolean, integers -> integer, floats -> real, everything else
 * (and every quoted scalar) -> string. Mapping keys are always strings.
 */
#ifndef KEYWORK_YAMLJSON_H
#define KEYWORK_YAMLJSON_H

#include <stddef.h>
#include <jansson.h>

/*
 * Parse the file at path. Returns a new reference (owned by the caller), or
 * NULL with a message naming file:line:column in err.
 */
json_t *yamljson_load_file(const char *path, char *err, size_t errlen);

/* The same for a buffer; name is used in error messages. */
json_t *yamljson_load_buffer(const char *buf, size_t len, const char *name,
    char *err, size_t errlen);

#endif
