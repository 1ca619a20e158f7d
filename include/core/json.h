/* A small JSON library for the control socket (docs/control.md): a parser
 * that turns one line into a tree, lookups with typed getters whose error
 * messages name the member, and an emitter (a growable string builder that
 * escapes properly). Hand-written on purpose: roam links statically for
 * Windows with mingw-w64, and Debian ships no mingw build of a JSON library
 * (cJSON, jansson, json-c), so a dependency would have to be vendored.
 *
 * Parsing follows RFC 8259 strictly (no comments, no trailing commas, no
 * NaN), with limits: JSON_MAX_INPUT bytes, JSON_MAX_DEPTH levels of
 * nesting, numbers of at most JSON_MAX_NUMBER characters. Strings must be
 * valid UTF-8; \uXXXX escapes (surrogate pairs included) become UTF-8;
 * \u0000 is refused, so every string is also a C string. Integers that
 * fit int64_t are JSON_INT, other numbers JSON_DOUBLE. In an object with a
 * key twice, lookups find the last (as in JavaScript). Errors read
 * "JSON: expected ':' at offset 12". */
#ifndef ROAM_CORE_JSON_H
#define ROAM_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define JSON_MAX_INPUT (16u << 20)
#define JSON_MAX_DEPTH 64
#define JSON_MAX_NUMBER 512

enum json_type { JSON_NULL, JSON_BOOL, JSON_INT, JSON_DOUBLE, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
    enum json_type type;
    bool b;              /* JSON_BOOL */
    int64_t i;           /* JSON_INT */
    double d;            /* JSON_DOUBLE, and JSON_INT's value as a double */
    char *s;             /* JSON_STRING: UTF-8, NUL-terminated */
    size_t len;          /* JSON_STRING: bytes */
    size_t n;            /* JSON_ARRAY, JSON_OBJECT: element count */
    struct json **items; /* the elements; an object's values */
    char **keys;         /* JSON_OBJECT: the keys, parallel to items */
};

/* Parses text[0..len) (one JSON value with optional whitespace around it)
 * into a tree that json_free() releases. */
MUST_CHECK int json_parse(const char *text, size_t len, struct json **out);
void json_free(struct json *v);
/* "null", "boolean", "integer", "number", "string", "array", "object". */
const char *json_type_name(enum json_type t);

/* The member key of an object (NULL if v is not an object or lacks it). */
const struct json *json_get(const struct json *obj, const char *key);

/* Typed getters for object members. They return 0, -ENOENT if the member
 * is absent ("missing 'key'"), or -EINVAL if it has the wrong type or
 * range ("'key' must be a string, not an integer"); *out is unchanged
 * unless they return 0. Integer getters take a number with no fraction
 * (5 or 5.0 or 5e0). */
MUST_CHECK int json_get_str(const struct json *obj, const char *key, const char **out);
MUST_CHECK int json_get_int(const struct json *obj, const char *key, int64_t *out);
MUST_CHECK int json_get_uint(const struct json *obj, const char *key, uint64_t *out);
MUST_CHECK int json_get_bool(const struct json *obj, const char *key, bool *out);
MUST_CHECK int json_get_number(const struct json *obj, const char *key, double *out);

/* The emitter. Separators are automatic: a value or key after another gets
 * its comma. Strings are escaped ("\"", "\\", control characters), and
 * bytes that are not valid UTF-8 become U+FFFD, so the output is always
 * valid JSON; non-finite doubles become null. Out of memory is sticky and
 * reported by json_buf_finish(). */
struct json_buf {
    char *data; /* NUL-terminated while not out of memory */
    size_t len, cap;
    bool oom;
};

void json_buf_init(struct json_buf *b);
void json_buf_free(struct json_buf *b);
void json_buf_obj_begin(struct json_buf *b);
void json_buf_obj_end(struct json_buf *b);
void json_buf_arr_begin(struct json_buf *b);
void json_buf_arr_end(struct json_buf *b);
void json_buf_key(struct json_buf *b, const char *key);
void json_buf_str(struct json_buf *b, const char *s);
void json_buf_strn(struct json_buf *b, const char *s, size_t len);
void json_buf_int(struct json_buf *b, int64_t v);
void json_buf_uint(struct json_buf *b, uint64_t v);
void json_buf_double(struct json_buf *b, double v);
void json_buf_bool(struct json_buf *b, bool v);
void json_buf_null(struct json_buf *b);
/* Emits a parsed value (compactly). */
void json_buf_value(struct json_buf *b, const struct json *v);
/* 0, or -ENOMEM (with a message) if any step ran out of memory. */
MUST_CHECK int json_buf_finish(struct json_buf *b);

/* Serializes v into a malloc'ed string. */
MUST_CHECK int json_emit(const struct json *v, char **out);

#endif
