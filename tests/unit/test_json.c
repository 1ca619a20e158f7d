/* core/json: parsing (values, escapes, UTF-8, numbers, limits, error
 * messages), typed getters, the emitter's escaping, round trips, and a
 * fuzz pass over random and mutated inputs that must never crash (run it
 * under ASan: make SAN=1 tests). */
#include <math.h>
#include <stdlib.h>

#include "core/json.h"
#include "test.h"

static struct json *parse_ok(const char *text)
{
    struct json *v = NULL;
    int rc = json_parse(text, strlen(text), &v);
    if (rc < 0)
        printf("  parse of '%s' failed: %s\n", text, err_msg());
    return v;
}

/* Parses text expecting an error whose message contains want. */
static void parse_fails(const char *text, size_t len, const char *want)
{
    struct json *v = (struct json *)1;
    int rc = json_parse(text, len, &v);
    if (rc >= 0 || v != NULL || !strstr(err_msg(), want)) {
        printf("  '%.60s': rc %d, message '%s', expected '%s'\n", text, rc, err_msg(), want);
        test_failed_ = 1;
    }
    if (rc >= 0)
        json_free(v);
}

#define FAILS(text, want) parse_fails(text, strlen(text), want)

static char *emit(const struct json *v)
{
    char *s = NULL;
    if (json_emit(v, &s) < 0)
        printf("  emit failed: %s\n", err_msg());
    return s;
}

static void parse_values(void)
{
    struct json *v = parse_ok(" { \"a\" : [1, -2, 3.5, true, false, null, \"x\", {}, []],"
                              "\"b\": {\"c\": \"d\"} } \r\n");
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_EQ(v->type, JSON_OBJECT);
    CHECK_EQ(v->n, 2);
    const struct json *a = json_get(v, "a");
    CHECK(a && a->type == JSON_ARRAY && a->n == 9);
    if (a && a->n == 9) {
        CHECK_EQ(a->items[0]->type, JSON_INT);
        CHECK_EQ(a->items[0]->i, 1);
        CHECK_EQ(a->items[1]->i, (uint64_t)-2);
        CHECK_EQ(a->items[2]->type, JSON_DOUBLE);
        CHECK(a->items[2]->d == 3.5);
        CHECK(a->items[3]->type == JSON_BOOL && a->items[3]->b);
        CHECK(a->items[4]->type == JSON_BOOL && !a->items[4]->b);
        CHECK_EQ(a->items[5]->type, JSON_NULL);
        CHECK_STR(a->items[6]->s, "x");
        CHECK(a->items[7]->type == JSON_OBJECT && a->items[7]->n == 0);
        CHECK(a->items[8]->type == JSON_ARRAY && a->items[8]->n == 0);
    }
    CHECK_STR(json_get(json_get(v, "b"), "c")->s, "d");
    CHECK(json_get(v, "zz") == NULL);
    CHECK(json_get(a, "a") == NULL); /* not an object */
    json_free(v);

    /* Scalars at the top level, and the last of duplicate keys. */
    v = parse_ok("\"top\"");
    CHECK(v && v->type == JSON_STRING && v->len == 3);
    json_free(v);
    v = parse_ok("{\"k\":1,\"k\":2}");
    CHECK(v && json_get(v, "k")->i == 2);
    json_free(v);
}

static void parse_strings(void)
{
    struct json *v = parse_ok("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"");
    CHECK(v && strcmp(v->s, "q\" b\\ s/ \b\f\n\r\t") == 0);
    json_free(v);
    v = parse_ok("\"\\u00e9\\u20AC\\ud83d\\ude00A\"");
    CHECK(v && strcmp(v->s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" "A") == 0);
    CHECK(v && v->len == 10);
    json_free(v);
    v = parse_ok("\"raw \xc3\xa9 \xf0\x9f\x98\x80\"");
    CHECK(v && strcmp(v->s, "raw \xc3\xa9 \xf0\x9f\x98\x80") == 0);
    json_free(v);

    FAILS("\"abc", "end of input in a string");
    FAILS("\"a\\", "end of input in a string");
    FAILS("\"tab\there\"", "unescaped control character");
    FAILS("\"\\x\"", "invalid escape");
    FAILS("\"\\u12\"", "four hex digits");
    FAILS("\"\\u12g4\"", "four hex digits");
    FAILS("\"\\ud800\"", "unpaired high surrogate");
    FAILS("\"\\ud800\\u0041\"", "unpaired high surrogate");
    FAILS("\"\\udc00\"", "unpaired low surrogate");
    FAILS("\"\\u0000\"", "\\u0000 is not supported");
    FAILS("\"\xc0\x80\"", "invalid UTF-8");         /* overlong NUL */
    FAILS("\"\xed\xa0\x80\"", "invalid UTF-8");     /* a surrogate in UTF-8 */
    FAILS("\"\xe2\x82\"", "invalid UTF-8");         /* truncated */
    FAILS("\"\xf5\x80\x80\x80\"", "invalid UTF-8"); /* beyond U+10FFFF */
    FAILS("\"\xff\"", "invalid UTF-8");
}

static void parse_numbers(void)
{
    static const struct {
        const char *text;
        enum json_type type;
        int64_t i;
        double d;
    } ok[] = {
        {"0", JSON_INT, 0, 0},
        {"-0", JSON_INT, 0, 0},
        {"123456789", JSON_INT, 123456789, 0},
        {"9223372036854775807", JSON_INT, INT64_MAX, 0},
        {"-9223372036854775808", JSON_INT, INT64_MIN, 0},
        {"9223372036854775808", JSON_DOUBLE, 0, 9223372036854775808.0},
        {"-9223372036854775809", JSON_DOUBLE, 0, -9223372036854775808.0},
        {"1.5", JSON_DOUBLE, 0, 1.5},
        {"-0.25e1", JSON_DOUBLE, 0, -2.5},
        {"1E3", JSON_DOUBLE, 0, 1000},
        {"1e-2", JSON_DOUBLE, 0, 0.01},
        {"2e+2", JSON_DOUBLE, 0, 200},
    };
    for (size_t k = 0; k < sizeof(ok) / sizeof(ok[0]); k++) {
        struct json *v = parse_ok(ok[k].text);
        CHECK(v != NULL);
        if (!v)
            continue;
        if (v->type != ok[k].type || (v->type == JSON_INT && v->i != ok[k].i) ||
            (v->type == JSON_DOUBLE && v->d != ok[k].d)) {
            printf("  %s: type %s, i %lld, d %g\n", ok[k].text, json_type_name(v->type),
                   (long long)v->i, v->d);
            test_failed_ = 1;
        }
        json_free(v);
    }
    FAILS("01", "unexpected text after the value at offset 1");
    FAILS("1.", "expected a digit after '.' at offset 2");
    FAILS(".5", "expected a value at offset 0 (found '.')");
    FAILS("-", "expected a digit at offset 1");
    FAILS("+1", "expected a value");
    FAILS("1e", "expected a digit in the exponent");
    FAILS("NaN", "expected a value");
    FAILS("Infinity", "expected a value");
    FAILS("1e999", "number out of range");
    char big[JSON_MAX_NUMBER + 10];
    memset(big, '1', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    FAILS(big, "number too long");
}

static void parse_errors(void)
{
    FAILS("{\"a\" 1}", "JSON: expected ':' at offset 5 (found '1')");
    FAILS("", "JSON: expected a value at offset 0 (found the end of the input)");
    FAILS("   ", "expected a value at offset 3");
    FAILS("[1,]", "expected a value at offset 3 (found ']')");
    FAILS("[1 2]", "expected ',' or ']' at offset 3");
    FAILS("{\"a\":1,}", "expected '\"' (a key) at offset 7");
    FAILS("{1:2}", "expected '\"' (a key) at offset 1");
    FAILS("{\"a\":1", "expected ',' or '}' at offset 6 (found the end of the input)");
    FAILS("{} x", "unexpected text after the value at offset 3");
    FAILS("tru", "expected a value");
    FAILS("nul", "expected a value");
    FAILS("truex", "unexpected text after the value");
    FAILS("\x01", "found byte 0x01");
    /* A NUL inside the length ends nothing: it is an unexpected byte. */
    parse_fails("{}\0", 3, "unexpected text after the value at offset 2");
}

static void parse_limits(void)
{
    char deep[2 * JSON_MAX_DEPTH + 8];
    size_t n = 0;
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        deep[n++] = ']';
    deep[n] = 0;
    struct json *v = parse_ok(deep);
    CHECK(v != NULL);
    json_free(v);

    n = 0;
    for (int i = 0; i <= JSON_MAX_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i <= JSON_MAX_DEPTH; i++)
        deep[n++] = ']';
    deep[n] = 0;
    FAILS(deep, "nesting deeper than 64 levels at offset 64");

    /* The size limit is checked before anything is read. */
    static const char small[] = "{}";
    parse_fails(small, (size_t)JSON_MAX_INPUT + 1, "over the limit");

    /* Nesting far beyond the limit stops at the limit (no stack
     * exhaustion): 200,000 levels of {"k": */
    size_t levels = 200000, len = levels * 5;
    char *p = malloc(len);
    CHECK(p != NULL);
    if (!p)
        return;
    for (size_t i = 0; i < levels; i++)
        memcpy(p + i * 5, "{\"k\":", 5);
    parse_fails(p, len, "nesting deeper than 64 levels");
    free(p);
}

static void getters(void)
{
    struct json *v = parse_ok("{\"s\":\"str\",\"i\":-5,\"u\":7,\"d\":2.0,\"f\":2.5,\"b\":true,"
                              "\"n\":null,\"a\":[],\"o\":{},\"big\":1e30}");
    const char *s = NULL;
    int64_t i = 0;
    uint64_t u = 0;
    bool b = false;
    double d = 0;
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_EQ(json_get_str(v, "s", &s), 0);
    CHECK_STR(s, "str");
    CHECK_EQ(json_get_int(v, "i", &i), 0);
    CHECK_EQ(i, (uint64_t)-5);
    CHECK_EQ(json_get_uint(v, "u", &u), 0);
    CHECK_EQ(u, 7);
    CHECK_EQ(json_get_uint(v, "d", &u), 0); /* 2.0 is an integer */
    CHECK_EQ(u, 2);
    CHECK_EQ(json_get_bool(v, "b", &b), 0);
    CHECK(b);
    CHECK_EQ(json_get_number(v, "f", &d), 0);
    CHECK(d == 2.5);
    CHECK_EQ(json_get_number(v, "i", &d), 0);
    CHECK(d == -5);

    CHECK_EQ(json_get_str(v, "zz", &s), -ENOENT);
    CHECK_STR(err_msg(), "missing 'zz'");
    CHECK_EQ(json_get_str(v, "i", &s), -EINVAL);
    CHECK_STR(err_msg(), "'i' must be a string, not an integer");
    CHECK_EQ(json_get_int(v, "n", &i), -EINVAL);
    CHECK_STR(err_msg(), "'n' must be an integer, not null");
    CHECK_EQ(json_get_bool(v, "a", &b), -EINVAL);
    CHECK_STR(err_msg(), "'a' must be true or false, not an array");
    CHECK_EQ(json_get_number(v, "o", &d), -EINVAL);
    CHECK_STR(err_msg(), "'o' must be a number, not an object");
    CHECK_EQ(json_get_uint(v, "i", &u), -EINVAL);
    CHECK_STR(err_msg(), "'i' must not be negative (-5)");
    CHECK_EQ(json_get_int(v, "f", &i), -EINVAL);
    CHECK_STR(err_msg(), "'f' must be an integer, not 2.5");
    CHECK_EQ(json_get_int(v, "big", &i), -EINVAL);
    CHECK_EQ(json_get_uint(v, "s", &u), -EINVAL);
    CHECK_STR(err_msg(), "'s' must be an integer, not a string");
    CHECK_EQ(i, (uint64_t)-5); /* untouched by failures */
    CHECK_EQ(json_get_str(NULL, "s", &s), -ENOENT);
    json_free(v);
}

static void emitter(void)
{
    struct json_buf b;
    json_buf_init(&b);
    json_buf_obj_begin(&b);
    json_buf_key(&b, "s");
    json_buf_str(&b, "q\"\\\n\t\x01\x1f/\x7f \xc3\xa9");
    json_buf_key(&b, "bad");
    json_buf_strn(&b, "a\xff" "b\xc3", 4);
    json_buf_key(&b, "nul");
    json_buf_strn(&b, "a\0b", 3);
    json_buf_key(&b, "a");
    json_buf_arr_begin(&b);
    json_buf_int(&b, INT64_MIN);
    json_buf_uint(&b, UINT64_MAX);
    json_buf_double(&b, 0.5);
    json_buf_double(&b, 1.0);
    json_buf_double(&b, 0.1);
    json_buf_double(&b, NAN);
    json_buf_double(&b, 1e300);
    json_buf_bool(&b, true);
    json_buf_null(&b);
    json_buf_arr_begin(&b);
    json_buf_arr_end(&b);
    json_buf_obj_begin(&b);
    json_buf_obj_end(&b);
    json_buf_arr_end(&b);
    json_buf_key(&b, "k\"ey");
    json_buf_bool(&b, false);
    json_buf_obj_end(&b);
    CHECK_EQ(json_buf_finish(&b), 0);
    CHECK_STR(b.data,
              "{\"s\":\"q\\\"\\\\\\n\\t\\u0001\\u001f/\x7f \xc3\xa9\","
              "\"bad\":\"a\xef\xbf\xbd" "b\xef\xbf\xbd\",\"nul\":\"a\\u0000b\","
              "\"a\":[-9223372036854775808,18446744073709551615,0.5,1.0,0.1,null,1e+300,"
              "true,null,[],{}],\"k\\\"ey\":false}");
    /* What it emits parses back. */
    struct json *v = NULL;
    CHECK_EQ(json_parse(b.data, b.len, &v) < 0 && strstr(err_msg(), "\\u0000"), 1);
    json_buf_free(&b);

    json_buf_init(&b);
    CHECK_EQ(json_buf_finish(&b), 0);
    CHECK_STR(b.data, "");
    json_buf_free(&b);
}

static void round_trip(void)
{
    static const char *const docs[] = {
        ("{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"tcp:[::1]:4444\",\"downtime-ms\":30},"
         "\"id\":[1,\"two\",{\"three\":3.25}]}"),
        "[\"\\u00e9\\ud83d\\ude00\",-1,0,1e-07,true,false,null,\"\\\\\\\"\\n\"]",
        "{}", "[]", "\"\"", "0", "-7", "null",
    };
    for (size_t k = 0; k < sizeof(docs) / sizeof(docs[0]); k++) {
        struct json *a = parse_ok(docs[k]), *c = NULL;
        char *t1 = a ? emit(a) : NULL, *t2 = NULL;
        CHECK(t1 != NULL);
        if (t1 && json_parse(t1, strlen(t1), &c) == 0)
            t2 = emit(c);
        CHECK(t2 != NULL);
        if (t1 && t2 && strcmp(t1, t2) != 0) {
            printf("  round trip of %s: '%s' then '%s'\n", docs[k], t1, t2);
            test_failed_ = 1;
        }
        json_free(a);
        json_free(c);
        free(t1);
        free(t2);
    }
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Parses any bytes; what parses must emit and re-parse to the same text. */
static void fuzz_one(const char *buf, size_t len, unsigned *parsed)
{
    struct json *v = NULL, *w = NULL;
    if (json_parse(buf, len, &v) < 0) {
        CHECK(strncmp(err_msg(), "JSON: ", 6) == 0);
        return;
    }
    (*parsed)++;
    char *t1 = emit(v), *t2 = NULL;
    if (t1 && json_parse(t1, strlen(t1), &w) == 0)
        t2 = emit(w);
    if (!t1 || !t2 || strcmp(t1, t2) != 0) {
        printf("  fuzz: '%.*s' emitted '%s' then '%s'\n", (int)len, buf, t1 ? t1 : "?",
               t2 ? t2 : "?");
        test_failed_ = 1;
    }
    free(t1);
    free(t2);
    json_free(v);
    json_free(w);
}

static void fuzz(void)
{
    static const char alphabet[] = "{}[]\",:0123456789-+.eEtrufalsn \\u\t\n\xc3\xa9\xff";
    static const char *const seeds[] = {
        "{\"execute\":\"query-migrate\",\"id\":17}",
        "{\"a\":[1,2.5e3,-0,\"x\\u00e9\\n\",true,false,null,{\"b\":{}}]}",
        "[\"\\ud83d\\ude00\",\"\\\\\\\"\",0.000001,-9223372036854775808]",
    };
    char buf[256];
    unsigned parsed = 0, runs = 0;

    /* Random strings over JSON's own alphabet, and random bytes. */
    for (int k = 0; k < 30000; k++) {
        size_t len = rng() % 40;
        bool bytes = k % 4 == 0;
        for (size_t i = 0; i < len; i++)
            buf[i] = bytes ? (char)rng() : alphabet[rng() % (sizeof(alphabet) - 1)];
        fuzz_one(buf, len, &parsed);
        runs++;
    }
    /* Mutations of valid requests: flips, deletions, insertions, cuts. */
    for (int k = 0; k < 30000; k++) {
        const char *seed = seeds[rng() % 3];
        size_t len = strlen(seed);
        memcpy(buf, seed, len);
        int edits = 1 + (int)(rng() % 4);
        for (int e = 0; e < edits && len > 0; e++) {
            size_t at = rng() % len;
            switch (rng() % 4) {
            case 0: buf[at] ^= (char)(1u << (rng() % 8)); break;
            case 1: memmove(buf + at, buf + at + 1, len - at - 1); len--; break;
            case 2:
                if (len < sizeof(buf) - 1) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = alphabet[rng() % (sizeof(alphabet) - 1)];
                    len++;
                }
                break;
            default: len = at; break;
            }
        }
        fuzz_one(buf, len, &parsed);
        runs++;
    }
    CHECK(parsed > 100); /* the mutations kept some inputs valid */
    printf("  fuzz: %u inputs, %u parsed\n", runs, parsed);
}

static const struct test_case tests[] = {
    TEST(parse_values), TEST(parse_strings), TEST(parse_numbers), TEST(parse_errors),
    TEST(parse_limits), TEST(getters),       TEST(emitter),       TEST(round_trip),
    TEST(fuzz),
};

TEST_MAIN("json", tests)
