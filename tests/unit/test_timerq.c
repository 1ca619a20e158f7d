/* core/timerq: ordering, re-arming, cancel, manual clock. */
#include "core/timerq.h"
#include "test.h"

struct rec {
    struct timerq *q;
    struct timer t;
    uint64_t fired_at[8];
    unsigned n;
    uint64_t period;
};

static void rec_cb(void *opaque, uint64_t now)
{
    struct rec *r = opaque;
    if (r->n < 8)
        r->fired_at[r->n] = now;
    r->n++;
    if (r->period)
        timerq_arm(r->q, &r->t, r->t.deadline_ns + r->period);
}

static void ordering_and_periodic(void)
{
    struct timerq q;
    struct rec a = {0}, b = {0};

    timerq_init(&q, NULL);
    a.q = b.q = &q;
    timer_init(&a.t, rec_cb, &a);
    timer_init(&b.t, rec_cb, &b);
    b.period = 100;
    timerq_arm(&q, &a.t, 250);
    timerq_arm(&q, &b.t, 100);
    CHECK_EQ(timerq_next_deadline(&q), 100);
    timerq_advance(&q, 300);
    CHECK_EQ(timerq_now(&q), 300);
    CHECK_EQ(a.n, 1);
    CHECK_EQ(a.fired_at[0], 250);
    CHECK_EQ(b.n, 3);
    CHECK_EQ(b.fired_at[0], 100);
    CHECK_EQ(b.fired_at[2], 300);
    CHECK_EQ(timerq_next_deadline(&q), 400);
    timerq_cancel(&q, &b.t);
    CHECK_EQ(timerq_next_deadline(&q), UINT64_MAX);
    timerq_advance(&q, 1000);
    CHECK_EQ(b.n, 3);
}

static void rearm_moves(void)
{
    struct timerq q;
    struct rec a = {0};

    timerq_init(&q, NULL);
    a.q = &q;
    timer_init(&a.t, rec_cb, &a);
    timerq_arm(&q, &a.t, 500);
    timerq_arm(&q, &a.t, 50);
    timerq_advance(&q, 100);
    CHECK_EQ(a.n, 1);
    CHECK_EQ(a.fired_at[0], 50);
    timerq_advance(&q, 1000);
    CHECK_EQ(a.n, 1);
}

static uint64_t fake_host_ns;
static uint64_t fake_host(void)
{
    return fake_host_ns;
}

static void freeze_and_thaw(void)
{
    struct timerq q;
    struct rec a = {0};

    fake_host_ns = 1000;
    timerq_init(&q, fake_host);
    timerq_set_now(&q, 0);
    CHECK_EQ(timerq_now(&q), 0);
    fake_host_ns = 1500;
    CHECK_EQ(timerq_now(&q), 500);
    timerq_freeze(&q);
    fake_host_ns = 9000; /* time passes on the host while frozen */
    CHECK_EQ(timerq_now(&q), 500);
    a.q = &q;
    timer_init(&a.t, rec_cb, &a);
    timerq_arm(&q, &a.t, 600);
    CHECK_EQ(timerq_run(&q), 0); /* nothing fires while frozen */
    timerq_thaw(&q);
    CHECK_EQ(timerq_now(&q), 500); /* continues from where it stood */
    fake_host_ns = 9100;
    CHECK_EQ(timerq_run(&q), 1);
    CHECK_EQ(a.fired_at[0], 600);
    timerq_freeze(&q);
    timerq_set_now(&q, 123456); /* a migrated-in clock */
    CHECK_EQ(timerq_now(&q), 123456);
    fake_host_ns = 20000;
    timerq_thaw(&q);
    fake_host_ns = 20010;
    CHECK_EQ(timerq_now(&q), 123466);
}

static void count_to_ns(void)
{
    CHECK_EQ(timerq_count_to_ns(2596096000ull * 3 + 1298048000ull, 2596096000ull), 3500000000ull);
    CHECK_EQ(timerq_count_to_ns(1000000000000000000ull, 1000000000ull), 1000000000000000000ull);
    CHECK_EQ(timerq_count_to_ns(4000000, 4000000), 1000000000ull); /* bytes at 4 MB/s */
}

static const struct test_case tests[] = {
    TEST(count_to_ns),
    TEST(freeze_and_thaw),
    TEST(ordering_and_periodic),
    TEST(rearm_moves),
};
TEST_MAIN("timerq", tests)
