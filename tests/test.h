/* A minimal unit-test harness. Each test file defines test functions and
 * ends with TEST_MAIN(list). Every test prints one line:
 *   PASS: <suite>/<name>
 *   FAIL: <suite>/<name>           (after the failing checks' messages)
 *   SKIP: <suite>/<name>: <reason>
 * tests/run.sh counts those lines over all test programs. */
#ifndef ROAM_TESTS_TEST_H
#define ROAM_TESTS_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct test_case {
    const char *name;
    void (*fn)(void);
};

static int test_failed_;
static char test_skip_reason_[256];

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);              \
            test_failed_ = 1;                                                             \
        }                                                                                 \
    } while (0)

#define CHECK_EQ(a, b)                                                                    \
    do {                                                                                  \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);    \
        if (a_ != b_) {                                                                   \
            printf("  %s:%d: CHECK_EQ(%s, %s) failed: 0x%llx != 0x%llx\n", __FILE__,       \
                   __LINE__, #a, #b, a_, b_);                                             \
            test_failed_ = 1;                                                             \
        }                                                                                 \
    } while (0)

#define CHECK_STR(a, b)                                                                   \
    do {                                                                                  \
        const char *a_ = (a), *b_ = (b);                                                  \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                          \
            printf("  %s:%d: CHECK_STR(%s, %s) failed: \"%s\" != \"%s\"\n", __FILE__,      \
                   __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");             \
            test_failed_ = 1;                                                             \
        }                                                                                 \
    } while (0)

/* Stops the current test, counting it as skipped with the reason. */
#define SKIP(...)                                                                         \
    do {                                                                                  \
        snprintf(test_skip_reason_, sizeof(test_skip_reason_), __VA_ARGS__);              \
        return;                                                                           \
    } while (0)

#define TEST(fn) { #fn, fn }

/* Collects what a line printer (stream_dump, vmstate_dump) prints, one
 * "line\n" after another, for a test to compare. */
struct test_text {
    char buf[16384];
    size_t len;
    unsigned lines;
};

static inline void test_text_add(void *ctx, const char *line)
{
    struct test_text *t = ctx;
    int n = snprintf(t->buf + t->len, sizeof(t->buf) - t->len, "%s\n", line);
    if (n > 0 && (size_t)n < sizeof(t->buf) - t->len)
        t->len += (size_t)n;
    t->lines++;
}

static inline int test_run_all_(const char *suite, const struct test_case *tests, size_t n,
                                int argc, char **argv)
{
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (argc > 1 && !strstr(tests[i].name, argv[1]))
            continue;
        test_failed_ = 0;
        test_skip_reason_[0] = 0;
        fflush(stdout);
        tests[i].fn();
        if (test_failed_) {
            printf("FAIL: %s/%s\n", suite, tests[i].name);
            failed = 1;
        } else if (test_skip_reason_[0]) {
            printf("SKIP: %s/%s: %s\n", suite, tests[i].name, test_skip_reason_);
        } else {
            printf("PASS: %s/%s\n", suite, tests[i].name);
        }
        fflush(stdout);
    }
    return failed;
}

#define TEST_MAIN(suite, list)                                                            \
    int main(int argc, char **argv)                                                       \
    {                                                                                     \
        return test_run_all_(suite, list, sizeof(list) / sizeof(list[0]), argc, argv);    \
    }

#endif
