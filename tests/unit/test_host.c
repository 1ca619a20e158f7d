/* host/: memory, threads and synchronisation, clocks, files, terminal and
 * kicks, through the portable host API only (no OS headers). */
#include <stdlib.h>

#include "host/host.h"
#include "test.h"

static void memory_reserve_commit_release(void)
{
    size_t ps = host_page_size();
    CHECK(ps >= 4096);
    CHECK((ps & (ps - 1)) == 0);

    void *base = NULL;
    CHECK_EQ(host_mem_reserve(64 * ps, &base), 0);
    CHECK(base != NULL);
    if (!base)
        return;
    CHECK_EQ((uintptr_t)base % ps, 0);

    unsigned char *p = (unsigned char *)base + 8 * ps;
    CHECK_EQ(host_mem_commit(p, 4 * ps), 0);
    size_t nonzero = 0;
    for (size_t i = 0; i < 4 * ps; i++)
        nonzero += p[i] != 0;
    CHECK_EQ(nonzero, 0);
    for (size_t i = 0; i < 4 * ps; i++)
        p[i] = (unsigned char)(i * 7 + 1);
    size_t bad = 0;
    for (size_t i = 0; i < 4 * ps; i++)
        bad += p[i] != (unsigned char)(i * 7 + 1);
    CHECK_EQ(bad, 0);

    /* A second, adjacent range commits independently and is zeroed too. */
    unsigned char *q = p + 4 * ps;
    CHECK_EQ(host_mem_commit(q, ps), 0);
    CHECK_EQ(q[0], 0);
    CHECK_EQ(q[ps - 1], 0);
    q[ps - 1] = 0xaa;
    CHECK_EQ(p[4 * ps - 1], (unsigned char)((4 * ps - 1) * 7 + 1));

    CHECK(host_mem_commit((char *)p + 1, ps) < 0);
    host_mem_release(base, 64 * ps);
}

static void memory_alloc_and_errors(void)
{
    size_t size = 1 << 20;
    unsigned char *p = NULL;
    void *v = NULL;
    CHECK_EQ(host_mem_alloc(size, &v), 0);
    p = v;
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK_EQ(p[0], 0);
    CHECK_EQ(p[size / 2], 0);
    CHECK_EQ(p[size - 1], 0);
    p[0] = 1;
    p[size - 1] = 2;
    CHECK_EQ(p[0] + p[size - 1], 3);
    host_mem_release(p, size);

    v = (void *)1;
    CHECK(host_mem_reserve(0, &v) < 0);
    CHECK(v == NULL);
    CHECK(err_msg()[0] != 0);
}

static void memory_total(void)
{
    uint64_t total = host_mem_total();
    CHECK(total > 0);
    CHECK_EQ(total % host_page_size(), 0);
}

/* ---- threads ---- */

struct counter {
    struct host_mutex *m;
    uint64_t value;
};

#define COUNTER_THREADS 4
#define COUNTER_ITERS 20000

static void counter_fn(void *arg)
{
    struct counter *c = arg;
    for (int i = 0; i < COUNTER_ITERS; i++) {
        host_mutex_lock(c->m);
        c->value++;
        host_mutex_unlock(c->m);
    }
}

static void threads_mutex_counter(void)
{
    struct counter c = {0};
    struct host_thread *t[COUNTER_THREADS];
    CHECK_EQ(host_mutex_create(&c.m), 0);
    if (!c.m)
        return;
    for (int i = 0; i < COUNTER_THREADS; i++) {
        /* The name is longer than Linux's 15 characters: it is truncated. */
        CHECK_EQ(host_thread_create(&t[i], counter_fn, &c, "roam-test-counter-thread"), 0);
    }
    for (int i = 0; i < COUNTER_THREADS; i++)
        host_thread_join(t[i]);
    CHECK_EQ(c.value, (uint64_t)COUNTER_THREADS * COUNTER_ITERS);
    host_mutex_destroy(c.m);
}

struct handoff {
    struct host_mutex *m;
    struct host_cond *c;
    int stage;
    struct host_thread_id id;
};

static void handoff_fn(void *arg)
{
    struct handoff *h = arg;
    host_mutex_lock(h->m);
    while (h->stage != 1)
        host_cond_wait(h->c, h->m);
    h->stage = 2;
    host_cond_broadcast(h->c);
    host_mutex_unlock(h->m);
}

static void cond_signal_wakes_waiter(void)
{
    struct handoff h = {0};
    struct host_thread *t;
    CHECK_EQ(host_mutex_create(&h.m), 0);
    CHECK_EQ(host_cond_create(&h.c), 0);
    CHECK_EQ(host_thread_create(&t, handoff_fn, &h, "handoff"), 0);

    host_mutex_lock(h.m);
    h.stage = 1;
    host_cond_signal(h.c);
    /* Waits for the thread's answer with a generous deadline: it must not
     * time out. */
    uint64_t deadline = host_time_ns() + 10ull * 1000000000ull;
    bool timed_out = false;
    while (h.stage != 2 && !timed_out)
        timed_out = host_cond_wait_until(h.c, h.m, deadline);
    host_mutex_unlock(h.m);
    CHECK(!timed_out);
    CHECK_EQ(h.stage, 2);

    host_thread_join(t);
    host_cond_destroy(h.c);
    host_mutex_destroy(h.m);
}

static void cond_wait_until_times_out(void)
{
    struct host_mutex *m;
    struct host_cond *c;
    CHECK_EQ(host_mutex_create(&m), 0);
    CHECK_EQ(host_cond_create(&c), 0);

    uint64_t start = host_time_ns();
    uint64_t deadline = start + 20 * 1000000ull;
    bool timed_out = false;
    host_mutex_lock(m);
    for (int i = 0; i < 1000 && !timed_out; i++)
        timed_out = host_cond_wait_until(c, m, deadline);
    host_mutex_unlock(m);
    uint64_t now = host_time_ns();
    CHECK(timed_out);
    CHECK(now >= deadline);

    /* A deadline in the past times out at once. */
    host_mutex_lock(m);
    CHECK(host_cond_wait_until(c, m, start));
    host_mutex_unlock(m);

    host_cond_destroy(c);
    host_mutex_destroy(m);
}

/* ---- time ---- */

static void clocks(void)
{
    uint64_t prev = host_time_ns();
    int backwards = 0;
    for (int i = 0; i < 100000; i++) {
        uint64_t now = host_time_ns();
        backwards += now < prev;
        prev = now;
    }
    CHECK_EQ(backwards, 0);

    uint64_t t0 = host_time_ns();
    host_sleep_ns(5 * 1000000ull);
    uint64_t t1 = host_time_ns();
    CHECK(t1 - t0 >= 5 * 1000000ull);

    /* The wall clock is past 2020-01-01 and before 2200. */
    uint64_t wall = host_wallclock_ns();
    CHECK(wall > 1577836800ull * 1000000000ull);
    CHECK(wall < 7258118400ull * 1000000000ull);
}

/* ---- files ---- */

static void temp_path(char *buf, size_t len, const char *tag)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = getenv("TEMP");
    if (!dir || !*dir)
        dir = "/tmp";
    snprintf(buf, len, "%s/roam-test-host-%s-%llu", dir, tag,
             (unsigned long long)host_time_ns());
}

static void file_roundtrip(void)
{
    char path[512];
    temp_path(path, sizeof(path), "rw");
    struct host_file *f;
    CHECK_EQ(host_file_open(&f, path, HOST_FILE_WRITE | HOST_FILE_CREATE | HOST_FILE_TRUNC), 0);
    if (!f)
        return;
    CHECK_EQ(host_file_write(f, "hello ", 6), 0);
    CHECK_EQ(host_file_write(f, "world", 5), 0);
    host_file_close(f);

    CHECK_EQ(host_file_open(&f, path, HOST_FILE_READ | HOST_FILE_WRITE), 0);
    if (!f)
        return;
    uint64_t size = 0;
    CHECK_EQ(host_file_size(f, &size), 0);
    CHECK_EQ(size, 11);
    char buf[16] = {0};
    CHECK_EQ(host_file_pread(f, buf, 5, 6), 0);
    CHECK_STR(buf, "world");
    CHECK_EQ(host_file_pwrite(f, "HELLO", 5, 0), 0);
    /* A read past the end is an error that names the file. */
    CHECK(host_file_pread(f, buf, 8, 6) < 0);
    CHECK(strstr(err_msg(), path) != NULL);
    /* pwrite past the end extends the file. */
    CHECK_EQ(host_file_pwrite(f, "!", 1, 11), 0);
    CHECK_EQ(host_file_size(f, &size), 0);
    CHECK_EQ(size, 12);
    host_file_close(f);

    void *data = NULL;
    size_t len = 0;
    CHECK_EQ(host_file_read_all(path, &data, &len), 0);
    CHECK_EQ(len, 12);
    CHECK(data && memcmp(data, "HELLO world!", 12) == 0);
    free(data);

    CHECK_EQ(host_file_open(&f, path, HOST_FILE_APPEND), 0);
    if (f) {
        CHECK_EQ(host_file_write(f, "+", 1), 0);
        host_file_close(f);
    }
    CHECK_EQ(host_file_read_all(path, &data, &len), 0);
    CHECK_EQ(len, 13);
    CHECK(data && memcmp(data, "HELLO world!+", 13) == 0);
    free(data);

    remove(path);
}

static void file_empty(void)
{
    char path[512];
    temp_path(path, sizeof(path), "empty");
    struct host_file *f;
    CHECK_EQ(host_file_open(&f, path, HOST_FILE_WRITE | HOST_FILE_CREATE), 0);
    host_file_close(f);
    void *data = NULL;
    size_t len = 99;
    CHECK_EQ(host_file_read_all(path, &data, &len), 0);
    CHECK_EQ(len, 0);
    free(data);
    remove(path);
}

static void file_missing_names_path(void)
{
    char path[512];
    temp_path(path, sizeof(path), "missing");
    strcat(path, "/kernel.elf");
    struct host_file *f = (struct host_file *)&f;
    err_clear();
    CHECK(host_file_open(&f, path, HOST_FILE_READ) < 0);
    CHECK(f == NULL);
    CHECK(strstr(err_msg(), path) != NULL);

    void *data = (void *)1;
    size_t len = 1;
    err_clear();
    CHECK(host_file_read_all(path, &data, &len) == -ENOENT);
    CHECK(data == NULL);
    CHECK(strstr(err_msg(), path) != NULL);
    CHECK(strstr(err_msg(), "kernel.elf: ") != NULL);
}

/* ---- terminal and standard streams ---- */

static void term_not_a_tty(void)
{
    CHECK(!host_isatty(-1));
    if (host_isatty(0))
        SKIP("stdin is a terminal; raw mode is not tried on a user's terminal");
    CHECK_EQ(host_term_raw(), 0);
    host_term_restore();
    host_term_restore();
}

static void stdio_write(void)
{
    CHECK_EQ(host_stdio_write(1, "", 0), 0);
    CHECK(host_stdio_write(7, "x", 1) < 0);
}

/* ---- kicks ---- */

static void kick_sleeper_fn(void *arg)
{
    struct handoff *h = arg;
    host_mutex_lock(h->m);
    host_thread_self(&h->id);
    h->stage = 1;
    host_cond_broadcast(h->c);
    host_mutex_unlock(h->m);
    /* host_sleep_ns resumes after the interruption: the kick only
     * interrupts the call, it does not end the thread or the process. */
    host_sleep_ns(100 * 1000000ull);
    host_mutex_lock(h->m);
    h->stage = 2;
    host_mutex_unlock(h->m);
}

static void kick_is_harmless(void)
{
    CHECK_EQ(host_kick_init(), 0);
    CHECK_EQ(host_kick_init(), 0); /* idempotent */
    CHECK(host_kick_signal() >= 0);

    struct handoff h = {0};
    struct host_thread *t;
    CHECK_EQ(host_mutex_create(&h.m), 0);
    CHECK_EQ(host_cond_create(&h.c), 0);
    CHECK_EQ(host_thread_create(&t, kick_sleeper_fn, &h, "kick-target"), 0);
    host_mutex_lock(h.m);
    while (h.stage == 0)
        host_cond_wait(h.c, h.m);
    host_mutex_unlock(h.m);

    for (int i = 0; i < 10; i++) {
        host_thread_kick(&h.id);
        host_sleep_ns(1000000);
    }
    host_thread_join(t);
    CHECK_EQ(h.stage, 2);

    /* Kicking oneself is also harmless. */
    struct host_thread_id self;
    host_thread_self(&self);
    host_thread_kick(&self);

    host_cond_destroy(h.c);
    host_mutex_destroy(h.m);
}

static void mem_untouched(void)
{
    size_t size = 64 * 4096;
    uint64_t bitmap[1] = {0};
    uint8_t *p;
    int rc;

    CHECK_EQ(host_mem_alloc(size, (void **)&p), 0);
    p[3 * 4096] = 1;           /* written */
    p[10 * 4096 + 17] = 0;     /* written, even with a zero */
    rc = host_mem_untouched(p, size, bitmap);
    if (rc == -ENOSYS) {
        host_mem_release(p, size);
        SKIP("this host cannot tell untouched pages: %.200s", err_msg());
    }
    CHECK_EQ(rc, 0);
    CHECK_EQ(bitmap[0] >> 3 & 1, 0);
    CHECK_EQ(bitmap[0] >> 10 & 1, 0);
    CHECK_EQ(bitmap[0] >> 0 & 1, 1);
    CHECK_EQ(bitmap[0] >> 63 & 1, 1);
    CHECK_EQ(__builtin_popcountll(bitmap[0]), 62);
    host_mem_release(p, size);
}

static const struct test_case tests[] = {
    TEST(mem_untouched),
    TEST(memory_reserve_commit_release),
    TEST(memory_alloc_and_errors),
    TEST(memory_total),
    TEST(threads_mutex_counter),
    TEST(cond_signal_wakes_waiter),
    TEST(cond_wait_until_times_out),
    TEST(clocks),
    TEST(file_roundtrip),
    TEST(file_empty),
    TEST(file_missing_names_path),
    TEST(term_not_a_tty),
    TEST(stdio_write),
    TEST(kick_is_harmless),
};

TEST_MAIN("host", tests)
