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

static const struct test_case tests[] = {
    TEST(ordering_and_periodic),
    TEST(rearm_moves),
};
TEST_MAIN("timerq", tests)
