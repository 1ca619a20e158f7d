/* JSON (RFC 8259) parser and emitter for the control socket; see
 * core/json.h for the rules and limits. Hand-written on purpose: roam must
 * link statically for Windows with mingw-w64, and Debian ships no mingw
 * build of a JSON library. The parser is a recursive descent with a depth
 * limit and bounds checks on every byte read, so any input is either a
 * tree or an error message; it never reads past text + len. */
#include "core/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct json_parser {
    const char *start, *p, *end;
    int depth;
};

static size_t json_off(const struct json_parser *ps)
{
    return (size_t)(ps->p - ps->start);
}

static int json_fail(const struct json_parser *ps, const char *what)
{
    return err_set(-EINVAL, "JSON: %s at offset %zu", what, json_off(ps));
}

/* "expected X at offset N (found 'x')", naming the byte at p or the end
 * of the input. */
static int json_unexpected(const struct json_parser *ps, const char *expected)
{
    if (ps->p >= ps->end)
        return err_set(-EINVAL, "JSON: expected %s at offset %zu (found the end of the input)",
                       expected, json_off(ps));
    unsigned char c = (unsigned char)*ps->p;
    if (c >= 0x20 && c < 0x7f)
        return err_set(-EINVAL, "JSON: expected %s at offset %zu (found '%c')", expected,
                       json_off(ps), c);
    return err_set(-EINVAL, "JSON: expected %s at offset %zu (found byte 0x%02x)", expected,
                   json_off(ps), c);
}

static void json_skip_ws(struct json_parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

const char *json_type_name(enum json_type t)
{
    switch (t) {
    case JSON_NULL: return "null";
    case JSON_BOOL: return "boolean";
    case JSON_INT: return "integer";
    case JSON_DOUBLE: return "number";
    case JSON_STRING: return "string";
    case JSON_ARRAY: return "array";
    case JSON_OBJECT: return "object";
    }
    return "?";
}

void json_free(struct json *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        json_free(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->s);
    free(v);
}

static int json_oom(const struct json_parser *ps)
{
    return err_set(-ENOMEM, "JSON: out of memory at offset %zu", json_off(ps));
}

/* Length of the valid UTF-8 sequence at p (at most n bytes there), or 0. */
static size_t json_utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    unsigned min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static size_t json_put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Four hex digits at p (bounds already checked), or -1. */
static int json_hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

/* Parses a string at ps->p (the opening quote) into a malloc'ed buffer. */
static int json_parse_string(struct json_parser *ps, char **out, size_t *out_len)
{
    const char *q = ps->p + 1;
    /* Find the closing quote first: the decoded string is never longer
     * than its source, so one allocation of that size does. */
    while (q < ps->end && *q != '"')
        q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
    if (q >= ps->end) {
        ps->p = ps->end;
        return json_fail(ps, "unexpected end of input in a string");
    }
    char *buf = malloc((size_t)(q - ps->p));
    size_t n = 0;
    if (!buf)
        return json_oom(ps);
    ps->p++;
    while (ps->p < q) {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) {
            free(buf);
            return json_fail(ps, "unescaped control character in a string");
        }
        if (c >= 0x80) {
            size_t l = json_utf8_len((const unsigned char *)ps->p, (size_t)(q - ps->p));
            if (!l) {
                free(buf);
                return json_fail(ps, "invalid UTF-8 in a string");
            }
            memcpy(buf + n, ps->p, l);
            n += l;
            ps->p += l;
            continue;
        }
        if (c != '\\') {
            buf[n++] = (char)c;
            ps->p++;
            continue;
        }
        /* An escape; q is beyond its second character. */
        char e = ps->p[1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char repl[] = "\"\\/\b\f\n\r\t";
            buf[n++] = repl[simple - "\"\\/bfnrt"];
            ps->p += 2;
            continue;
        }
        if (e != 'u') {
            free(buf);
            return json_fail(ps, "invalid escape in a string");
        }
        int hi = q - ps->p >= 6 ? json_hex4(ps->p + 2) : -1;
        if (hi < 0) {
            free(buf);
            return json_fail(ps, "bad \\u escape (four hex digits expected)");
        }
        unsigned cp = (unsigned)hi;
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            free(buf);
            return json_fail(ps, "unpaired low surrogate in a \\u escape");
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            int lo = q - ps->p >= 12 && ps->p[6] == '\\' && ps->p[7] == 'u'
                         ? json_hex4(ps->p + 8) : -1;
            if (lo < 0xdc00 || lo > 0xdfff) {
                free(buf);
                return json_fail(ps, "unpaired high surrogate in a \\u escape");
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + ((unsigned)lo - 0xdc00);
            ps->p += 6;
        }
        if (cp == 0) {
            free(buf);
            return json_fail(ps, "\\u0000 is not supported in strings");
        }
        n += json_put_utf8(buf + n, cp);
        ps->p += 6;
    }
    buf[n] = 0;
    ps->p = q + 1;
    *out = buf;
    *out_len = n;
    return 0;
}

static bool json_digit(const struct json_parser *ps, const char *p)
{
    return p < ps->end && *p >= '0' && *p <= '9';
}

static int json_parse_number(struct json_parser *ps, struct json *v)
{
    const char *s = ps->p, *p = s;
    bool integral = true;
    if (p < ps->end && *p == '-')
        p++;
    if (!json_digit(ps, p)) {
        ps->p = p;
        return json_unexpected(ps, "a digit");
    }
    if (*p == '0')
        p++;
    else
        while (json_digit(ps, p))
            p++;
    if (p < ps->end && *p == '.') {
        integral = false;
        p++;
        if (!json_digit(ps, p)) {
            ps->p = p;
            return json_unexpected(ps, "a digit after '.'");
        }
        while (json_digit(ps, p))
            p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        integral = false;
        p++;
        if (p < ps->end && (*p == '+' || *p == '-'))
            p++;
        if (!json_digit(ps, p)) {
            ps->p = p;
            return json_unexpected(ps, "a digit in the exponent");
        }
        while (json_digit(ps, p))
            p++;
    }
    if (p - s > JSON_MAX_NUMBER)
        return json_fail(ps, "number too long");

    char tmp[JSON_MAX_NUMBER + 1];
    memcpy(tmp, s, (size_t)(p - s));
    tmp[p - s] = 0;
    if (integral) {
        /* Accumulate as a negative number: -INT64_MIN does not fit. */
        const char *d = tmp + (tmp[0] == '-');
        int64_t acc = 0;
        bool overflow = false;
        for (; *d; d++) {
            int dig = *d - '0';
            if (acc < (INT64_MIN + dig) / 10) {
                overflow = true;
                break;
            }
            acc = acc * 10 - dig;
        }
        if (!overflow && (tmp[0] == '-' || acc != INT64_MIN)) {
            v->type = JSON_INT;
            v->i = tmp[0] == '-' ? acc : -acc;
            v->d = (double)v->i;
            ps->p = p;
            return 0;
        }
    }
    /* The grammar was checked above, so strtod consumes all of tmp (the C
     * locale's decimal point: roam never calls setlocale). */
    double d = strtod(tmp, NULL);
    if (!isfinite(d))
        return json_fail(ps, "number out of range");
    v->type = JSON_DOUBLE;
    v->d = d;
    ps->p = p;
    return 0;
}

static int json_parse_value(struct json_parser *ps, struct json **out);

/* Appends item (and key, for objects) to v, growing its arrays. */
static int json_append(struct json_parser *ps, struct json *v, struct json *item, char *key,
                       size_t *cap)
{
    if (v->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        struct json **ni = realloc(v->items, ncap * sizeof(*ni));
        if (!ni)
            return json_oom(ps);
        v->items = ni;
        if (v->type == JSON_OBJECT) {
            char **nk = realloc(v->keys, ncap * sizeof(*nk));
            if (!nk)
                return json_oom(ps);
            v->keys = nk;
        }
        *cap = ncap;
    }
    v->items[v->n] = item;
    if (v->type == JSON_OBJECT)
        v->keys[v->n] = key;
    v->n++;
    return 0;
}

static int json_parse_container(struct json_parser *ps, struct json *v)
{
    bool obj = *ps->p == '{';
    char close = obj ? '}' : ']';
    size_t cap = 0;
    int rc;

    if (++ps->depth > JSON_MAX_DEPTH) {
        char what[64];
        snprintf(what, sizeof(what), "nesting deeper than %d levels", JSON_MAX_DEPTH);
        return json_fail(ps, what);
    }
    v->type = obj ? JSON_OBJECT : JSON_ARRAY;
    ps->p++;
    json_skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        struct json *item = NULL;
        size_t klen;
        json_skip_ws(ps);
        if (obj) {
            if (ps->p >= ps->end || *ps->p != '"')
                return json_unexpected(ps, "'\"' (a key)");
            if ((rc = json_parse_string(ps, &key, &klen)) < 0)
                return rc;
            json_skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                return json_unexpected(ps, "':'");
            }
            ps->p++;
        }
        if ((rc = json_parse_value(ps, &item)) < 0 ||
            (rc = json_append(ps, v, item, key, &cap)) < 0) {
            json_free(item);
            free(key);
            return rc;
        }
        json_skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            ps->depth--;
            return 0;
        }
        return json_unexpected(ps, obj ? "',' or '}'" : "',' or ']'");
    }
}

static bool json_literal(struct json_parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return false;
    ps->p += n;
    return true;
}

static int json_parse_value(struct json_parser *ps, struct json **out)
{
    struct json *v = calloc(1, sizeof(*v));
    int rc = 0;
    *out = NULL;
    if (!v)
        return json_oom(ps);
    json_skip_ws(ps);
    if (ps->p >= ps->end) {
        rc = json_unexpected(ps, "a value");
    } else if (*ps->p == '{' || *ps->p == '[') {
        rc = json_parse_container(ps, v);
    } else if (*ps->p == '"') {
        v->type = JSON_STRING;
        rc = json_parse_string(ps, &v->s, &v->len);
    } else if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
        rc = json_parse_number(ps, v);
    } else if (json_literal(ps, "true")) {
        v->type = JSON_BOOL;
        v->b = true;
    } else if (json_literal(ps, "false")) {
        v->type = JSON_BOOL;
    } else if (json_literal(ps, "null")) {
        v->type = JSON_NULL;
    } else {
        rc = json_unexpected(ps, "a value");
    }
    if (rc < 0) {
        json_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

int json_parse(const char *text, size_t len, struct json **out)
{
    struct json_parser ps = {text, text, text + len, 0};
    struct json *v;
    int rc;

    *out = NULL;
    if (len > JSON_MAX_INPUT)
        return err_set(-E2BIG, "JSON: input of %zu bytes is over the limit of %u", len,
                       JSON_MAX_INPUT);
    if ((rc = json_parse_value(&ps, &v)) < 0)
        return rc;
    json_skip_ws(&ps);
    if (ps.p < ps.end) {
        json_free(v);
        return json_fail(&ps, "unexpected text after the value");
    }
    *out = v;
    return 0;
}

const struct json *json_get(const struct json *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT)
        return NULL;
    for (size_t i = obj->n; i-- > 0;)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->items[i];
    return NULL;
}

static int json_member(const struct json *obj, const char *key, const struct json **v)
{
    *v = json_get(obj, key);
    if (!*v)
        return err_set(-ENOENT, "missing '%s'", key);
    return 0;
}

static int json_wrong_type(const char *key, const char *want, const struct json *v)
{
    const char *article = "a ";
    if (v->type == JSON_NULL)
        article = "";
    else if (v->type == JSON_INT || v->type == JSON_ARRAY || v->type == JSON_OBJECT)
        article = "an ";
    return err_set(-EINVAL, "'%s' must be %s, not %s%s", key, want, article,
                   json_type_name(v->type));
}

int json_get_str(const struct json *obj, const char *key, const char **out)
{
    const struct json *v;
    int rc = json_member(obj, key, &v);
    if (rc < 0)
        return rc;
    if (v->type != JSON_STRING)
        return json_wrong_type(key, "a string", v);
    *out = v->s;
    return 0;
}

int json_get_bool(const struct json *obj, const char *key, bool *out)
{
    const struct json *v;
    int rc = json_member(obj, key, &v);
    if (rc < 0)
        return rc;
    if (v->type != JSON_BOOL)
        return json_wrong_type(key, "true or false", v);
    *out = v->b;
    return 0;
}

int json_get_number(const struct json *obj, const char *key, double *out)
{
    const struct json *v;
    int rc = json_member(obj, key, &v);
    if (rc < 0)
        return rc;
    if (v->type != JSON_INT && v->type != JSON_DOUBLE)
        return json_wrong_type(key, "a number", v);
    *out = v->d;
    return 0;
}

int json_get_int(const struct json *obj, const char *key, int64_t *out)
{
    const struct json *v;
    int rc = json_member(obj, key, &v);
    if (rc < 0)
        return rc;
    if (v->type == JSON_INT) {
        *out = v->i;
        return 0;
    }
    if (v->type != JSON_DOUBLE)
        return json_wrong_type(key, "an integer", v);
    /* 2^63 is exactly representable; anything in [-2^63, 2^63) converts,
     * and converts back unchanged only if it has no fraction. (No floor():
     * roam links without libm.) */
    if (!(v->d >= -9223372036854775808.0 && v->d < 9223372036854775808.0) ||
        (double)(int64_t)v->d != v->d)
        return err_set(-EINVAL, "'%s' must be an integer, not %g", key, v->d);
    *out = (int64_t)v->d;
    return 0;
}

int json_get_uint(const struct json *obj, const char *key, uint64_t *out)
{
    const struct json *v;
    int rc = json_member(obj, key, &v);
    if (rc < 0)
        return rc;
    if (v->type == JSON_INT) {
        if (v->i < 0)
            return err_set(-EINVAL, "'%s' must not be negative (%lld)", key, (long long)v->i);
        *out = (uint64_t)v->i;
        return 0;
    }
    if (v->type != JSON_DOUBLE)
        return json_wrong_type(key, "an integer", v);
    if (!(v->d >= 0 && v->d < 18446744073709551616.0) || (double)(uint64_t)v->d != v->d)
        return err_set(-EINVAL, "'%s' must be a non-negative integer, not %g", key, v->d);
    *out = (uint64_t)v->d;
    return 0;
}

/* ---- the emitter ---- */

void json_buf_init(struct json_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void json_buf_free(struct json_buf *b)
{
    free(b->data);
    json_buf_init(b);
}

static void json_buf_put(struct json_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (n + 1 > b->cap - b->len || !b->data) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n + 1) {
            if (cap > SIZE_MAX / 2) {
                b->oom = true;
                return;
            }
            cap *= 2;
        }
        char *d = realloc(b->data, cap);
        if (!d) {
            b->oom = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

/* A comma before a value or key that follows another. */
static void json_buf_sep(struct json_buf *b)
{
    if (b->oom || b->len == 0)
        return;
    char last = b->data[b->len - 1];
    if (last != '[' && last != '{' && last != ':')
        json_buf_put(b, ",", 1);
}

void json_buf_obj_begin(struct json_buf *b)
{
    json_buf_sep(b);
    json_buf_put(b, "{", 1);
}

void json_buf_obj_end(struct json_buf *b)
{
    json_buf_put(b, "}", 1);
}

void json_buf_arr_begin(struct json_buf *b)
{
    json_buf_sep(b);
    json_buf_put(b, "[", 1);
}

void json_buf_arr_end(struct json_buf *b)
{
    json_buf_put(b, "]", 1);
}

static void json_buf_quoted(struct json_buf *b, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    json_buf_put(b, "\"", 1);
    while (p < end) {
        const unsigned char *run = p;
        /* Copy plain printable ASCII and valid UTF-8 in runs. */
        for (;;) {
            if (p >= end || *p < 0x20 || *p == '"' || *p == '\\')
                break;
            if (*p < 0x80) {
                p++;
                continue;
            }
            size_t l = json_utf8_len(p, (size_t)(end - p));
            if (!l)
                break;
            p += l;
        }
        json_buf_put(b, (const char *)run, (size_t)(p - run));
        if (p >= end)
            break;
        char esc[8];
        switch (*p) {
        case '"': json_buf_put(b, "\\\"", 2); break;
        case '\\': json_buf_put(b, "\\\\", 2); break;
        case '\n': json_buf_put(b, "\\n", 2); break;
        case '\r': json_buf_put(b, "\\r", 2); break;
        case '\t': json_buf_put(b, "\\t", 2); break;
        case '\b': json_buf_put(b, "\\b", 2); break;
        case '\f': json_buf_put(b, "\\f", 2); break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof(esc), "\\u%04x", *p);
                json_buf_put(b, esc, 6);
            } else {
                json_buf_put(b, "\xef\xbf\xbd", 3); /* not UTF-8: U+FFFD */
            }
        }
        p++;
    }
    json_buf_put(b, "\"", 1);
}

void json_buf_key(struct json_buf *b, const char *key)
{
    json_buf_sep(b);
    json_buf_quoted(b, key, strlen(key));
    json_buf_put(b, ":", 1);
}

void json_buf_strn(struct json_buf *b, const char *s, size_t len)
{
    json_buf_sep(b);
    json_buf_quoted(b, s, len);
}

void json_buf_str(struct json_buf *b, const char *s)
{
    json_buf_strn(b, s, strlen(s));
}

void json_buf_int(struct json_buf *b, int64_t v)
{
    char t[24];
    json_buf_sep(b);
    json_buf_put(b, t, (size_t)snprintf(t, sizeof(t), "%lld", (long long)v));
}

void json_buf_uint(struct json_buf *b, uint64_t v)
{
    char t[24];
    json_buf_sep(b);
    json_buf_put(b, t, (size_t)snprintf(t, sizeof(t), "%llu", (unsigned long long)v));
}

void json_buf_double(struct json_buf *b, double v)
{
    char t[40];
    if (!isfinite(v)) {
        json_buf_null(b);
        return;
    }
    json_buf_sep(b);
    /* The shortest of %.15g and %.17g that reads back as the same value;
     * one that prints as an integer gets ".0" so it reads back as a double. */
    int n = snprintf(t, sizeof(t), "%.15g", v);
    if (strtod(t, NULL) != v)
        n = snprintf(t, sizeof(t), "%.17g", v);
    if (!strpbrk(t, ".eEn"))
        n += snprintf(t + n, sizeof(t) - (size_t)n, ".0");
    json_buf_put(b, t, (size_t)n);
}

void json_buf_bool(struct json_buf *b, bool v)
{
    json_buf_sep(b);
    json_buf_put(b, v ? "true" : "false", v ? 4 : 5);
}

void json_buf_null(struct json_buf *b)
{
    json_buf_sep(b);
    json_buf_put(b, "null", 4);
}

void json_buf_value(struct json_buf *b, const struct json *v)
{
    switch (v->type) {
    case JSON_NULL: json_buf_null(b); break;
    case JSON_BOOL: json_buf_bool(b, v->b); break;
    case JSON_INT: json_buf_int(b, v->i); break;
    case JSON_DOUBLE: json_buf_double(b, v->d); break;
    case JSON_STRING: json_buf_strn(b, v->s, v->len); break;
    case JSON_ARRAY:
        json_buf_arr_begin(b);
        for (size_t i = 0; i < v->n; i++)
            json_buf_value(b, v->items[i]);
        json_buf_arr_end(b);
        break;
    case JSON_OBJECT:
        json_buf_obj_begin(b);
        for (size_t i = 0; i < v->n; i++) {
            json_buf_key(b, v->keys[i]);
            json_buf_value(b, v->items[i]);
        }
        json_buf_obj_end(b);
        break;
    }
}

int json_buf_finish(struct json_buf *b)
{
    if (b->oom)
        return err_set(-ENOMEM, "JSON: out of memory building %zu bytes of text", b->len);
    if (!b->data)
        json_buf_put(b, "", 0);
    return b->oom ? err_set(-ENOMEM, "JSON: out of memory") : 0;
}

int json_emit(const struct json *v, char **out)
{
    struct json_buf b;
    int rc;
    *out = NULL;
    json_buf_init(&b);
    json_buf_value(&b, v);
    if ((rc = json_buf_finish(&b)) < 0) {
        json_buf_free(&b);
        return rc;
    }
    *out = b.data;
    return 0;
}
