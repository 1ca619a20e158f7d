/* Virtual time and device timers; see core/timerq.h. */
#include "core/timerq.h"

#include <stddef.h>

void timerq_init(struct timerq *q, uint64_t (*host_now)(void))
{
    q->head = NULL;
    q->manual = host_now == NULL;
    q->manual_now_ns = 0;
    q->host_now = host_now;
    q->offset_ns = 0;
    q->frozen = false;
    q->frozen_ns = 0;
    q->rearm_notify = NULL;
    q->notify_opaque = NULL;
}

void timerq_set_manual(struct timerq *q, uint64_t now_ns)
{
    q->manual = true;
    q->manual_now_ns = now_ns;
}

uint64_t timerq_now(const struct timerq *q)
{
    if (q->manual)
        return q->manual_now_ns;
    if (q->frozen)
        return q->frozen_ns;
    return q->host_now() + (uint64_t)q->offset_ns;
}

void timerq_freeze(struct timerq *q)
{
    if (!q->frozen && !q->manual) {
        q->frozen_ns = timerq_now(q);
        q->frozen = true;
    }
}

void timerq_thaw(struct timerq *q)
{
    if (q->frozen) {
        q->offset_ns = (int64_t)(q->frozen_ns - q->host_now());
        q->frozen = false;
    }
}

void timerq_set_now(struct timerq *q, uint64_t now_ns)
{
    if (q->manual)
        q->manual_now_ns = now_ns;
    else if (q->frozen)
        q->frozen_ns = now_ns;
    else
        q->offset_ns = (int64_t)(now_ns - q->host_now());
}

void timer_init(struct timer *t, void (*cb)(void *opaque, uint64_t now_ns), void *opaque)
{
    t->deadline_ns = 0;
    t->armed = false;
    t->cb = cb;
    t->opaque = opaque;
    t->next = NULL;
}

static void timerq_unlink(struct timerq *q, struct timer *t)
{
    struct timer **pp;

    for (pp = &q->head; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->next = NULL;
    t->armed = false;
}

void timerq_arm(struct timerq *q, struct timer *t, uint64_t deadline_ns)
{
    struct timer **pp;

    if (t->armed)
        timerq_unlink(q, t);
    t->deadline_ns = deadline_ns;
    t->armed = true;
    for (pp = &q->head; *pp && (*pp)->deadline_ns <= deadline_ns; pp = &(*pp)->next)
        ;
    t->next = *pp;
    *pp = t;
    if (q->head == t && q->rearm_notify)
        q->rearm_notify(q->notify_opaque);
}

void timerq_cancel(struct timerq *q, struct timer *t)
{
    if (t->armed)
        timerq_unlink(q, t);
}

uint64_t timerq_next_deadline(const struct timerq *q)
{
    return q->head ? q->head->deadline_ns : UINT64_MAX;
}

unsigned timerq_run(struct timerq *q)
{
    unsigned fired = 0;
    uint64_t now = timerq_now(q);

    while (q->head && q->head->deadline_ns <= now) {
        struct timer *t = q->head;
        q->head = t->next;
        t->next = NULL;
        t->armed = false;
        t->cb(t->opaque, now);
        fired++;
        /* A periodic callback that re-arms at or before now would spin;
         * bound the work done in one call. */
        if (fired > 100000)
            break;
    }
    return fired;
}

void timerq_advance(struct timerq *q, uint64_t ns)
{
    uint64_t end = q->manual_now_ns + ns;

    while (q->head && q->head->deadline_ns <= end) {
        struct timer *t = q->head;
        if (t->deadline_ns > q->manual_now_ns)
            q->manual_now_ns = t->deadline_ns;
        q->head = t->next;
        t->next = NULL;
        t->armed = false;
        t->cb(t->opaque, q->manual_now_ns);
    }
    q->manual_now_ns = end;
}

uint64_t timerq_count_to_ns(uint64_t count, uint64_t hz)
{
    return count / hz * 1000000000u + count % hz * 1000000000u / hz;
}
