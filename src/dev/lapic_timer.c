/* Local APIC timer on virtual time.
 * Spec: Intel SDM Vol. 3A 11.5.4 "APIC Timer" (one-shot and periodic
 * modes, divide configuration register, Figure 11-10) and 11.5.4.1
 * "TSC-Deadline Mode" (IA32_TSC_DEADLINE, MSR 0x6e0).
 *
 * The counter decrements once every divide-value bus cycles of a
 * LAPIC_BUS_HZ clock (1 GHz: one count per divide-value ns). Nothing ticks:
 * the state keeps the initial count, the virtual time the count was loaded
 * (timer_start_ns; for periodic mode, the start of the current period) and
 * the absolute expiry (timer_deadline_ns), and the current count is
 * computed from timerq_now(). Elapsed times are taken modulo 2^64, so a
 * start time moved "before 0" by a divide change still computes right.
 * Periodic expiries that were missed (a late timer thread) coalesce into
 * one interrupt, as the IRR holds one bit per vector anyway. */
#include "dev/lapic.h"

#define LAPIC_NS_PER_BUS_CYCLE (1000000000ull / LAPIC_BUS_HZ)

static uint32_t lapic_timer_mode(const struct lapic *l)
{
    return l->s.lvt[LAPIC_LVT_TIMER] & (3u << 17);
}

/* ns per count: the divide value (Figure 11-10) times the bus cycle. */
static uint64_t lapic_timer_ns_per_count(const struct lapic *l)
{
    unsigned v = (l->s.timer_dcr & 3) | ((l->s.timer_dcr >> 1) & 4);

    return (1ull << ((v + 1) & 7)) * LAPIC_NS_PER_BUS_CYCLE;
}

static uint64_t lapic_timer_period_ns(const struct lapic *l)
{
    uint64_t ns = (uint64_t)l->s.timer_initial * lapic_timer_ns_per_count(l);

    if (lapic_timer_mode(l) == LAPIC_LVT_TIMER_PERIODIC && ns < LAPIC_TIMER_MIN_PERIOD_NS)
        ns = LAPIC_TIMER_MIN_PERIOD_NS;
    return ns;
}

static void lapic_timer_arm(struct lapic *l, uint64_t deadline_ns)
{
    l->s.timer_armed = 1;
    l->s.timer_deadline_ns = deadline_ns;
    timerq_arm(l->tq, &l->timer, deadline_ns);
}

static void lapic_timer_disarm(struct lapic *l)
{
    l->s.timer_armed = 0;
    l->s.timer_deadline_ns = 0;
    timerq_cancel(l->tq, &l->timer);
}

void lapic_timer_reset(struct lapic *l)
{
    lapic_timer_disarm(l);
    l->s.timer_initial = 0;
    l->s.timer_dcr = 0;
    l->s.timer_start_ns = 0;
    l->s.tsc_deadline = 0;
}

uint32_t lapic_timer_current(const struct lapic *l)
{
    uint64_t elapsed;

    if (lapic_timer_mode(l) == LAPIC_LVT_TIMER_TSC_DEADLINE || !l->s.timer_armed ||
        !l->s.timer_initial)
        return 0;
    elapsed = (timerq_now(l->tq) - l->s.timer_start_ns) / lapic_timer_ns_per_count(l);
    if (lapic_timer_mode(l) == LAPIC_LVT_TIMER_PERIODIC)
        return l->s.timer_initial - (uint32_t)(elapsed % l->s.timer_initial);
    return elapsed >= l->s.timer_initial ? 0 : l->s.timer_initial - (uint32_t)elapsed;
}

void lapic_timer_write_initial(struct lapic *l, uint32_t count)
{
    uint64_t now = timerq_now(l->tq);

    if (lapic_timer_mode(l) == LAPIC_LVT_TIMER_TSC_DEADLINE)
        return; /* ignored in TSC-deadline mode */
    l->s.timer_initial = count;
    l->s.timer_start_ns = now;
    if (!count) {
        lapic_timer_disarm(l);
        return;
    }
    lapic_timer_arm(l, now + lapic_timer_period_ns(l));
}

void lapic_timer_write_dcr(struct lapic *l, uint32_t dcr)
{
    uint64_t now, per;
    uint32_t cur;

    if (lapic_timer_mode(l) == LAPIC_LVT_TIMER_TSC_DEADLINE || !l->s.timer_armed) {
        l->s.timer_dcr = dcr & 0xb;
        return;
    }
    /* Keep the current count; count on at the new rate. */
    cur = lapic_timer_current(l);
    now = timerq_now(l->tq);
    l->s.timer_dcr = dcr & 0xb;
    per = lapic_timer_ns_per_count(l);
    l->s.timer_start_ns = now - (uint64_t)(l->s.timer_initial - cur) * per;
    lapic_timer_arm(l, now + (uint64_t)cur * per);
}

void lapic_timer_write_lvt(struct lapic *l, uint32_t old_lvt)
{
    bool was_tsc = (old_lvt & (3u << 17)) == LAPIC_LVT_TIMER_TSC_DEADLINE;
    bool is_tsc = lapic_timer_mode(l) == LAPIC_LVT_TIMER_TSC_DEADLINE;

    /* Switching into or out of TSC-deadline mode disarms the timer; between
     * one-shot and periodic the count goes on and the new mode applies at
     * the next expiry. */
    if (was_tsc != is_tsc) {
        lapic_timer_disarm(l);
        l->s.timer_initial = 0;
        l->s.tsc_deadline = 0;
    }
}

void lapic_timer_write_tsc_deadline(struct lapic *l, uint64_t tsc)
{
    uint64_t ns, now;

    if (lapic_timer_mode(l) != LAPIC_LVT_TIMER_TSC_DEADLINE || !lapic_hw_enabled(l))
        return; /* writes are ignored in the other modes */
    l->s.tsc_deadline = tsc;
    if (!tsc) {
        lapic_timer_disarm(l);
        return;
    }
    ns = apic_bus_tsc_to_ns(l->bus, l->index, tsc);
    now = timerq_now(l->tq);
    if (ns <= now) {
        /* Already passed: fire now. */
        lapic_timer_disarm(l);
        l->s.tsc_deadline = 0;
        lapic_local_deliver(l, LAPIC_LVT_TIMER);
        return;
    }
    lapic_timer_arm(l, ns);
}

/* The timerq callback. */
void lapic_timer_fire(void *opaque, uint64_t now_ns)
{
    struct lapic *l = opaque;
    uint64_t deadline = l->s.timer_deadline_ns, period, next;

    if (!l->s.timer_armed)
        return;
    lapic_local_deliver(l, LAPIC_LVT_TIMER);
    switch (lapic_timer_mode(l)) {
    case LAPIC_LVT_TIMER_TSC_DEADLINE:
        l->s.tsc_deadline = 0;
        lapic_timer_disarm(l);
        break;
    case LAPIC_LVT_TIMER_PERIODIC:
        if (!l->s.timer_initial) {
            lapic_timer_disarm(l);
            break;
        }
        period = lapic_timer_period_ns(l);
        next = deadline + period;
        if (next <= now_ns) /* missed periods coalesce */
            next += ((now_ns - next) / period + 1) * period;
        l->s.timer_start_ns = next - period;
        lapic_timer_arm(l, next);
        break;
    default: /* one-shot: the count stays at 0 */
        l->s.timer_armed = 0;
        break;
    }
}

void lapic_post_load(struct lapic *l)
{
    if (l->s.timer_armed)
        timerq_arm(l->tq, &l->timer, l->s.timer_deadline_ns);
    else
        timerq_cancel(l->tq, &l->timer);
}
