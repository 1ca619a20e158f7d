/* Virtual time and device timers. Devices never read a host clock: they ask
 * timerq_now() and arm timers on the queue. The VM runs the queue from a
 * thread driven by the host's monotonic clock; tests drive it by hand with
 * a manual clock (timerq_set_manual + timerq_advance), which makes timer
 * devices deterministic to test.
 *
 * Virtual time is in nanoseconds. Callbacks run with the queue's caller
 * holding whatever lock protects the devices (the VM's device lock). */
#ifndef ROAM_CORE_TIMERQ_H
#define ROAM_CORE_TIMERQ_H

#include <stdbool.h>
#include <stdint.h>

struct timer {
    uint64_t deadline_ns;
    bool armed;
    void (*cb)(void *opaque, uint64_t now_ns);
    void *opaque;
    struct timer *next; /* queue link, owned by timerq */
};

struct timerq {
    struct timer *head; /* armed timers, sorted by deadline */
    /* Clock: manual (tests) or host monotonic + offset. */
    bool manual;
    uint64_t manual_now_ns;
    uint64_t (*host_now)(void);
    int64_t offset_ns; /* virtual = host_now() + offset_ns */
    bool frozen;       /* the clock stands still at frozen_ns (a paused VM) */
    uint64_t frozen_ns;
    /* Called when the earliest deadline moved earlier, so the thread that
     * sleeps until it can wake up (may be NULL). */
    void (*rearm_notify)(void *opaque);
    void *notify_opaque;
};

/* host_now may be NULL for a manual clock starting at 0. */
void timerq_init(struct timerq *q, uint64_t (*host_now)(void));
void timerq_set_manual(struct timerq *q, uint64_t now_ns);
uint64_t timerq_now(const struct timerq *q);

/* Stops the (host-driven) clock at its current value, and restarts it from
 * there: a paused VM's timers neither fire nor drift. */
void timerq_freeze(struct timerq *q);
void timerq_thaw(struct timerq *q);
/* Sets the current virtual time (frozen or not). */
void timerq_set_now(struct timerq *q, uint64_t now_ns);
/* The furthest a VM's virtual clock may stand, about 146 years of running:
 * a migration stream that says more is refused, and device arithmetic on
 * such a time plus a few days stays clear of int64 overflow. */
#define TIMERQ_NOW_MAX (1ull << 62)

/* Nanoseconds that count events take at hz events per second, without
 * overflowing for large counts (TSC ticks, stream bytes). */
uint64_t timerq_count_to_ns(uint64_t count, uint64_t hz);

void timer_init(struct timer *t, void (*cb)(void *opaque, uint64_t now_ns), void *opaque);
/* (Re)arms t at an absolute virtual deadline. */
void timerq_arm(struct timerq *q, struct timer *t, uint64_t deadline_ns);
void timerq_cancel(struct timerq *q, struct timer *t);
/* Earliest armed deadline, or UINT64_MAX. */
uint64_t timerq_next_deadline(const struct timerq *q);
/* Fires every timer whose deadline is <= now (in deadline order; a callback
 * may re-arm its timer). Returns how many fired. */
unsigned timerq_run(struct timerq *q);
/* Manual clock only: moves time forward to now+ns, firing timers on the way
 * at their own deadlines (timerq_now() equals each deadline in its callback). */
void timerq_advance(struct timerq *q, uint64_t ns);

#endif
