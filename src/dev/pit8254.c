/* Intel 8254 PIT. Spec: Intel 82C54 CHMOS Programmable Interval Timer
 * datasheet (231244): "Operational Description" (control word, counter
 * latch, read-back command, status byte, null count), "Mode Definitions"
 * (modes 0-5) and the gate table; the PC/AT technical reference for port
 * 0x61. See dev/pit8254.h for the model.
 *
 * Time model: tick(t) is the number of input-clock edges in [0, t] of
 * virtual time. A count written at tick w is loaded into CE on the next
 * edge, w + 1 ("this CLK pulse does not decrement the count"), and e ticks
 * after the load a channel's CE and OUT follow from its mode, count and e. */
#include "dev/pit8254.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/vmstate.h"

#define NS_PER_SEC 1000000000ull
#define NONE UINT64_MAX

/* Ticks from virtual ns, split so that no product overflows 64 bits. */
static uint64_t pit_ticks(uint64_t ns)
{
    return ns / NS_PER_SEC * PIT8254_FREQ_HZ + ns % NS_PER_SEC * PIT8254_FREQ_HZ / NS_PER_SEC;
}

/* The first virtual ns at which pit_ticks() reaches tick. */
static uint64_t pit_tick_ns(uint64_t tick)
{
    uint64_t q = tick / PIT8254_FREQ_HZ, r = tick % PIT8254_FREQ_HZ;
    return q * NS_PER_SEC + (r * NS_PER_SEC + PIT8254_FREQ_HZ - 1) / PIT8254_FREQ_HZ;
}

static unsigned ch_mode(const struct pit8254_channel_state *c)
{
    return c->mode >= 6 ? c->mode - 4u : c->mode; /* x1x: 6 is 2, 7 is 3 */
}

static uint32_t ch_modulus(const struct pit8254_channel_state *c)
{
    return c->bcd ? 10000u : 65536u;
}

static uint16_t bcd_encode(uint32_t v)
{
    return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

static uint32_t bcd_decode(uint16_t v)
{
    return (v >> 12 & 15) * 1000u + (v >> 8 & 15) * 100u + (v >> 4 & 15) * 10u + (v & 15);
}

/* Applies what happened by tick: a pending period-end reload (modes 2/3)
 * and the load that clears null count. Idempotent; called before every
 * look at or change to a channel. */
static void ch_settle(struct pit8254_channel_state *c, uint64_t tick)
{
    if (c->pending && tick >= c->next_load_tick) {
        c->count = c->cr;
        c->load_tick = c->next_load_tick;
        c->pending = 0;
    }
    if (c->null_count && tick >= c->null_clear_tick)
        c->null_count = 0;
}

/* Ticks counted since CE was loaded, or -1 while CE holds still. */
static int64_t ch_elapsed(const struct pit8254_channel_state *c, uint64_t tick)
{
    if (c->phase == PIT8254_PAUSED)
        return (int64_t)c->paused_e;
    if (c->phase == PIT8254_RUN && tick >= c->load_tick)
        return (int64_t)(tick - c->load_tick);
    return -1;
}

/* CE as the guest reads it (BCD-encoded in BCD mode). */
static uint16_t ch_ce(const struct pit8254_channel_state *c, uint64_t tick)
{
    int64_t e = ch_elapsed(c, tick);
    uint64_t n = c->count, m = ch_modulus(c), v;

    if (e < 0)
        return c->frozen_ce;
    switch (ch_mode(c)) {
    case 2:
        v = n - (uint64_t)e % n;
        break;
    case 3: /* counts down by two, twice per period */
        v = n - (2 * (uint64_t)e) % n;
        break;
    default: /* 0, 1, 4, 5: counts down and wraps past zero */
        v = (n + m - (uint64_t)e % m) % m;
        break;
    }
    v %= m;
    return c->bcd ? bcd_encode((uint32_t)v) : (uint16_t)v;
}

static int ch_out(const struct pit8254_channel_state *c, uint64_t tick)
{
    unsigned mode = ch_mode(c);
    int64_t e;
    uint64_t n = c->count;

    if (c->phase == PIT8254_PAUSED && (mode == 2 || mode == 3))
        return 1; /* gate low sets OUT high in modes 2 and 3 */
    e = ch_elapsed(c, tick);
    if (e < 0)
        return mode != 0; /* the level a control word sets: low in mode 0 only */
    switch (mode) {
    case 0: /* high at terminal count, until reprogrammed */
    case 1: /* low from the triggered load until terminal count */
        return (uint64_t)e >= n;
    case 2: /* low for the one clock where CE is 1 */
        return (uint64_t)e % n != n - 1;
    case 3: /* high for the first (N+1)/2 clocks of each period */
        return (uint64_t)e % n < (n + 1) / 2;
    default: /* 4, 5: low for the one clock where CE is 0 */
        return (uint64_t)e != n;
    }
}

/* The next tick after tick at which OUT rises, or NONE. The interrupt
 * timer needs nothing else: falling edges never interrupt. */
static uint64_t ch_next_rise(const struct pit8254_channel_state *c, uint64_t tick)
{
    int64_t e = ch_elapsed(c, tick);
    uint64_t n = c->count, r;

    if (c->phase != PIT8254_RUN)
        return NONE;
    switch (ch_mode(c)) {
    case 0:
    case 1:
        return e < (int64_t)n ? c->load_tick + n : NONE;
    case 2:
    case 3:
        if (n < 2) /* count 1 is illegal in mode 2 and keeps OUT high in mode 3 */
            return NONE;
        r = c->load_tick + (e < 0 ? 1 : (uint64_t)e / n + 1) * n;
        return c->pending && c->next_load_tick < r ? c->next_load_tick : r;
    default:
        return e < (int64_t)n + 1 ? c->load_tick + n + 1 : NONE;
    }
}

/* The level channel 0 drives on its line: OUT in modes 0 and 1, whose
 * rising edge is the one interrupt; low in the pulsing modes 2-5. In mode 1
 * the line drops already at the trigger, so the rise at terminal count is
 * an edge even if it comes one clock early. */
static int pit_line_level(const struct pit8254_channel_state *c, uint64_t tick)
{
    unsigned mode = ch_mode(c);

    if (mode == 1 && c->phase == PIT8254_RUN && tick < c->load_tick)
        return 0;
    return mode <= 1 ? ch_out(c, tick) : 0;
}

static void pit_update_irq(struct pit8254 *p, uint64_t tick)
{
    struct pit8254_channel_state *c = &p->s.ch[0];
    int level = pit_line_level(c, tick);
    uint64_t rise = ch_next_rise(c, tick);

    if (level != p->s.irq_level) {
        p->s.irq_level = (uint8_t)level;
        irq_set(&p->irq, level);
    }
    if (rise == NONE) {
        p->s.irq_deadline_ns = NONE;
        timerq_cancel(p->tq, &p->timer);
    } else {
        p->s.irq_deadline_ns = pit_tick_ns(rise);
        /* Port reads land here too: leave an unchanged timer alone, so the
         * timer thread is not woken for nothing. */
        if (!p->timer.armed || p->timer.deadline_ns != p->s.irq_deadline_ns)
            timerq_arm(p->tq, &p->timer, p->s.irq_deadline_ns);
    }
}

static void pit_timer_fire(void *opaque, uint64_t now_ns)
{
    struct pit8254 *p = opaque;
    struct pit8254_channel_state *c = &p->s.ch[0];
    uint64_t tick = pit_ticks(now_ns);

    ch_settle(c, tick);
    /* The timer is only armed for a rising edge; in the pulsing modes that
     * edge is the interrupt. A late timer (host load) delivers one pulse for
     * the edges it missed, as a real PIC would coalesce them. */
    if (ch_mode(c) >= 2) {
        irq_pulse(&p->irq);
    }
    pit_update_irq(p, tick);
}

/* Decodes a written count register value into a count. */
static uint32_t ch_decode_count(const struct pit8254_channel_state *c, uint16_t raw)
{
    uint32_t n = c->bcd ? bcd_decode(raw) : raw;
    return n ? n : ch_modulus(c);
}

static void ch_write_count(struct pit8254_channel_state *c, uint32_t n, uint64_t tick)
{
    unsigned mode = ch_mode(c);

    c->cr = n;
    c->null_count = 1;
    switch (mode) {
    case 1:
    case 5:
        /* Loads on the next gate trigger; a one-shot in progress runs on. */
        if (c->phase == PIT8254_IDLE)
            c->phase = PIT8254_WAIT;
        c->null_clear_tick = NONE;
        return;
    case 2:
    case 3:
        if (c->phase == PIT8254_RUN && tick >= c->load_tick) {
            /* Counting: the new count takes over at the end of the period. */
            if (!c->pending) {
                c->pending = 1;
                c->next_load_tick = c->load_tick + ((tick - c->load_tick) / c->count + 1) * c->count;
            }
            c->null_clear_tick = c->next_load_tick;
            return;
        }
        break;
    default:
        break;
    }
    /* Modes 0 and 4 always, 2 and 3 when not counting: load on the next clock. */
    c->frozen_ce = ch_ce(c, tick);
    c->count = n;
    c->pending = 0;
    if (c->gate) {
        c->phase = PIT8254_RUN;
        c->load_tick = tick + 1;
        c->null_clear_tick = tick + 1;
    } else {
        /* CE loads on the next clock but does not count until the gate
         * rises (modes 2/3 then reload it again). */
        c->phase = PIT8254_PAUSED;
        c->paused_e = 0;
        c->null_clear_tick = tick + 1;
    }
}

static void ch_set_gate(struct pit8254_channel_state *c, int level, uint64_t tick)
{
    unsigned mode = ch_mode(c);
    int64_t e;

    level = level != 0;
    if (level == c->gate)
        return;
    ch_settle(c, tick);
    c->gate = (uint8_t)level;
    if (level) {
        if ((mode == 1 || mode == 5) && c->phase != PIT8254_IDLE) {
            /* Trigger: cr loads into CE on the next clock (retriggerable). */
            c->frozen_ce = ch_ce(c, tick);
            c->count = c->cr;
            c->phase = PIT8254_RUN;
            c->load_tick = tick + 1;
            c->pending = 0;
            if (c->null_count)
                c->null_clear_tick = tick + 1;
        } else if ((mode == 2 || mode == 3) && c->phase == PIT8254_PAUSED) {
            /* The rising edge reloads the count and restarts the period. */
            c->frozen_ce = ch_ce(c, tick);
            c->count = c->cr;
            c->phase = PIT8254_RUN;
            c->load_tick = tick + 1;
            if (c->null_count)
                c->null_clear_tick = tick + 1;
        } else if ((mode == 0 || mode == 4) && c->phase == PIT8254_PAUSED) {
            /* Counting resumes where it stopped. */
            c->phase = PIT8254_RUN;
            c->load_tick = tick - c->paused_e;
        }
        return;
    }
    if (c->phase != PIT8254_RUN || mode == 1 || mode == 5)
        return; /* modes 1/5 only look at rising edges */
    /* Modes 0 and 4 stop counting; modes 2 and 3 also force OUT high and
     * forget a pending count (the next rising edge loads cr anyway). */
    e = ch_elapsed(c, tick);
    c->paused_e = e < 0 ? 0 : (uint64_t)e;
    c->phase = PIT8254_PAUSED;
    c->pending = 0;
}

static void ch_write_control(struct pit8254_channel_state *c, uint8_t val, uint64_t tick)
{
    ch_settle(c, tick);
    c->frozen_ce = ch_ce(c, tick); /* CE holds its value until a count loads */
    c->rw_mode = val >> 4 & 3;
    c->mode = val >> 1 & 7;
    c->bcd = val & 1;
    c->phase = PIT8254_IDLE;
    c->pending = 0;
    c->null_count = 1;
    c->null_clear_tick = NONE;
    /* A latched count or status lasts until read or reprogrammed. */
    c->count_latched = 0;
    c->status_latched = 0;
    c->read_state = 0;
    c->write_state = 0;
}

static void ch_latch_count(struct pit8254_channel_state *c, uint64_t tick)
{
    /* A second latch before the first is read is ignored. */
    if (c->count_latched)
        return;
    c->latched_count = ch_ce(c, tick);
    c->count_latched = c->rw_mode;
}

static void ch_latch_status(struct pit8254_channel_state *c, uint64_t tick)
{
    if (c->status_latched)
        return;
    c->status = (uint8_t)((ch_out(c, tick) ? PIT8254_STATUS_OUT : 0) |
                          (c->null_count ? PIT8254_STATUS_NULL : 0) | c->rw_mode << 4 |
                          c->mode << 1 | c->bcd);
    c->status_latched = 1;
}

static uint8_t ch_read(struct pit8254_channel_state *c, uint64_t tick)
{
    uint16_t v;

    if (c->status_latched) { /* status comes before a latched count */
        c->status_latched = 0;
        return c->status;
    }
    switch (c->count_latched) {
    case 1:
        c->count_latched = 0;
        return (uint8_t)c->latched_count;
    case 2:
        c->count_latched = 0;
        return (uint8_t)(c->latched_count >> 8);
    case 3:
        c->count_latched = 2;
        return (uint8_t)c->latched_count;
    default:
        break;
    }
    v = ch_ce(c, tick);
    switch (c->rw_mode) {
    case 1:
        return (uint8_t)v;
    case 2:
        return (uint8_t)(v >> 8);
    default:
        c->read_state ^= 1;
        return c->read_state ? (uint8_t)v : (uint8_t)(v >> 8);
    }
}

static void ch_write(struct pit8254_channel_state *c, uint8_t val, uint64_t tick)
{
    uint16_t raw;

    switch (c->rw_mode) {
    case 1:
        raw = val;
        break;
    case 2:
        raw = (uint16_t)(val << 8);
        break;
    default:
        if (!c->write_state) {
            c->write_state = 1;
            c->write_latch = val;
            if (ch_mode(c) == 0) {
                /* Mode 0: the first byte stops counting and sets OUT low. */
                c->frozen_ce = ch_ce(c, tick);
                c->phase = PIT8254_WAIT;
                c->pending = 0;
            }
            return;
        }
        c->write_state = 0;
        raw = (uint16_t)(c->write_latch | val << 8);
        break;
    }
    ch_write_count(c, ch_decode_count(c, raw), tick);
}

static void pit_write_control(struct pit8254 *p, uint8_t val, uint64_t tick)
{
    unsigned sc = val >> 6;

    if (sc == 3) {
        /* Read-back: bit 5 clear latches counts, bit 4 clear latches status,
         * bits 1-3 select channels 0-2. */
        for (unsigned i = 0; i < 3; i++) {
            struct pit8254_channel_state *c = &p->s.ch[i];
            if (!(val & (2u << i)))
                continue;
            ch_settle(c, tick);
            if (!(val & 0x20))
                ch_latch_count(c, tick);
            if (!(val & 0x10))
                ch_latch_status(c, tick);
        }
        return;
    }
    ch_settle(&p->s.ch[sc], tick);
    if ((val >> 4 & 3) == 0)
        ch_latch_count(&p->s.ch[sc], tick);
    else
        ch_write_control(&p->s.ch[sc], val, tick);
    if (sc == 0)
        pit_update_irq(p, tick);
}

static uint64_t pit_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pit8254 *p = opaque;
    uint64_t tick = pit_ticks(timerq_now(p->tq));
    struct pit8254_channel_state *c;

    if (offset >= 3)
        return 0xff; /* the control word register cannot be read */
    c = &p->s.ch[offset];
    ch_settle(c, tick);
    return ch_read(c, tick);
}

/* Only the low byte of a wider access reaches this 8-bit device. */
static void pit_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pit8254 *p = opaque;
    uint64_t tick = pit_ticks(timerq_now(p->tq));
    uint8_t val = (uint8_t)value;

    if (offset == 3) {
        pit_write_control(p, val, tick);
        return;
    }
    if (offset > 3)
        return;
    ch_settle(&p->s.ch[offset], tick);
    ch_write(&p->s.ch[offset], val, tick);
    if (offset == 0)
        pit_update_irq(p, tick);
}

const struct bus_ops pit8254_ops = {pit_read, pit_write};

static uint64_t pit_speaker_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pit8254 *p = opaque;
    uint64_t now = timerq_now(p->tq), tick = pit_ticks(now);
    struct pit8254_channel_state *c = &p->s.ch[2];
    uint8_t v = p->s.port61 & 0x0e;

    ch_settle(c, tick);
    if (c->gate)
        v |= PIT8254_P61_GATE2;
    if (now / PIT8254_REFRESH_NS & 1)
        v |= PIT8254_P61_REFRESH;
    if (ch_out(c, tick))
        v |= PIT8254_P61_OUT2;
    return v;
}

static void pit_speaker_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pit8254 *p = opaque;

    p->s.port61 = (uint8_t)value & 0x0e;
    pit8254_set_gate(p, 2, (int)(value & PIT8254_P61_GATE2));
}

const struct bus_ops pit8254_speaker_ops = {pit_speaker_read, pit_speaker_write};

void pit8254_set_gate(struct pit8254 *p, unsigned channel, int level)
{
    uint64_t tick = pit_ticks(timerq_now(p->tq));

    if (channel > 2)
        return;
    ch_set_gate(&p->s.ch[channel], level, tick);
    if (channel == 0)
        pit_update_irq(p, tick);
}

int pit8254_create(struct pit8254 **out, struct timerq *tq, const struct irq_line *irq)
{
    struct pit8254 *p;

    *out = NULL;
    if (!tq)
        return err_set(-EINVAL, "pit8254: needs a timer queue");
    p = calloc(1, sizeof(*p));
    if (!p)
        return err_set(-ENOMEM, "pit8254: out of memory");
    p->tq = tq;
    if (irq)
        p->irq = *irq;
    timer_init(&p->timer, pit_timer_fire, p);
    pit8254_reset(p);
    *out = p;
    return 0;
}

void pit8254_destroy(struct pit8254 *p)
{
    if (!p)
        return;
    timerq_cancel(p->tq, &p->timer);
    free(p);
}

int pit8254_register_pio(struct pit8254 *p, struct bus *pio)
{
    int rc = bus_register(pio, PIT8254_BASE, PIT8254_NR_PORTS, &pit8254_ops, p, "pit");

    if (rc < 0)
        return rc;
    return bus_register(pio, PIT8254_SPEAKER_PORT, 1, &pit8254_speaker_ops, p, "port61");
}

void pit8254_reset(struct pit8254 *p)
{
    uint64_t tick = pit_ticks(timerq_now(p->tq));

    timerq_cancel(p->tq, &p->timer);
    memset(&p->s, 0, sizeof(p->s));
    for (unsigned i = 0; i < 3; i++) {
        struct pit8254_channel_state *c = &p->s.ch[i];
        c->gate = i != 2; /* gate 2 follows port 0x61, which resets to 0 */
        ch_write_control(c, 0x36, tick); /* lsb then msb, mode 3, binary */
        ch_write_count(c, 65536, tick);
    }
    p->s.irq_deadline_ns = NONE;
    irq_set(&p->irq, 0);
    pit_update_irq(p, tick);
}

void pit8254_post_load(struct pit8254 *p)
{
    irq_set(&p->irq, p->s.irq_level);
    if (p->s.irq_deadline_ns == NONE)
        timerq_cancel(p->tq, &p->timer);
    else
        timerq_arm(p->tq, &p->timer, p->s.irq_deadline_ns);
}

/* ---- migration ---- */

/* One channel's fields; channel n takes ids id0 .. id0 + 20. */
#define PIT_CH_FIELDS(n, id0)                                                              \
    VMS_U64((id0) + 0, "ch" #n "_load_tick", struct pit8254_state, ch[n].load_tick, 1),    \
    VMS_U64((id0) + 1, "ch" #n "_next_load_tick", struct pit8254_state, ch[n].next_load_tick, \
            1),                                                                            \
    VMS_U64((id0) + 2, "ch" #n "_null_clear_tick", struct pit8254_state,                   \
            ch[n].null_clear_tick, 1),                                                     \
    VMS_U64((id0) + 3, "ch" #n "_paused_e", struct pit8254_state, ch[n].paused_e, 1),      \
    VMS_U32((id0) + 4, "ch" #n "_cr", struct pit8254_state, ch[n].cr, 1),                  \
    VMS_U32((id0) + 5, "ch" #n "_count", struct pit8254_state, ch[n].count, 1),            \
    VMS_U16((id0) + 6, "ch" #n "_frozen_ce", struct pit8254_state, ch[n].frozen_ce, 1),    \
    VMS_U16((id0) + 7, "ch" #n "_latched_count", struct pit8254_state, ch[n].latched_count, \
            1),                                                                            \
    VMS_U8((id0) + 8, "ch" #n "_count_latched", struct pit8254_state, ch[n].count_latched, 1), \
    VMS_U8((id0) + 9, "ch" #n "_status_latched", struct pit8254_state, ch[n].status_latched, \
           1),                                                                             \
    VMS_U8((id0) + 10, "ch" #n "_status", struct pit8254_state, ch[n].status, 1),          \
    VMS_U8((id0) + 11, "ch" #n "_read_state", struct pit8254_state, ch[n].read_state, 1),  \
    VMS_U8((id0) + 12, "ch" #n "_write_state", struct pit8254_state, ch[n].write_state, 1), \
    VMS_U8((id0) + 13, "ch" #n "_write_latch", struct pit8254_state, ch[n].write_latch, 1), \
    VMS_U8((id0) + 14, "ch" #n "_rw_mode", struct pit8254_state, ch[n].rw_mode, 1),        \
    VMS_U8((id0) + 15, "ch" #n "_mode", struct pit8254_state, ch[n].mode, 1),              \
    VMS_U8((id0) + 16, "ch" #n "_bcd", struct pit8254_state, ch[n].bcd, 1),                \
    VMS_U8((id0) + 17, "ch" #n "_gate", struct pit8254_state, ch[n].gate, 1),              \
    VMS_U8((id0) + 18, "ch" #n "_phase", struct pit8254_state, ch[n].phase, 1),            \
    VMS_U8((id0) + 19, "ch" #n "_pending", struct pit8254_state, ch[n].pending, 1),        \
    VMS_U8((id0) + 20, "ch" #n "_null_count", struct pit8254_state, ch[n].null_count, 1)

static const struct vms_field pit8254_vms_fields[] = {
    PIT_CH_FIELDS(0, 1),
    PIT_CH_FIELDS(1, 22),
    PIT_CH_FIELDS(2, 43),
    VMS_U64(64, "irq_deadline_ns", struct pit8254_state, irq_deadline_ns, 1),
    VMS_U8(65, "irq_level", struct pit8254_state, irq_level, 1),
    VMS_U8(66, "port61", struct pit8254_state, port61, 1),
};

static int pit_check(unsigned ch, const char *what, unsigned v, unsigned lo, unsigned hi)
{
    if (v < lo || v > hi)
        return err_set(-EINVAL, "channel %u %s %u is invalid (%u..%u)", ch, what, v,
                       lo, hi);
    return 0;
}

/* Every value the channel logic divides by or switches on must be one it
 * can produce itself: counts 1..65536 (ch_ce and ch_next_rise divide by
 * count), modes 0-7, rw modes 1-3, phases, and 0/1 flags. */
static int pit_check_channel(unsigned i, const struct pit8254_channel_state *c)
{
    int rc = 0;

    if (!rc)
        rc = pit_check(i, "mode", c->mode, 0, 7);
    if (!rc)
        rc = pit_check(i, "rw_mode", c->rw_mode, 1, 3);
    if (!rc)
        rc = pit_check(i, "phase", c->phase, PIT8254_IDLE, PIT8254_PAUSED);
    if (!rc)
        rc = pit_check(i, "count", c->count, 1, 65536);
    if (!rc)
        rc = pit_check(i, "cr", c->cr, 1, 65536);
    if (!rc)
        rc = pit_check(i, "count_latched", c->count_latched, 0, 3);
    if (!rc)
        rc = pit_check(i, "status_latched", c->status_latched, 0, 1);
    if (!rc)
        rc = pit_check(i, "read_state", c->read_state, 0, 1);
    if (!rc)
        rc = pit_check(i, "write_state", c->write_state, 0, 1);
    if (!rc)
        rc = pit_check(i, "bcd", c->bcd, 0, 1);
    if (!rc)
        rc = pit_check(i, "gate", c->gate, 0, 1);
    if (!rc)
        rc = pit_check(i, "pending", c->pending, 0, 1);
    if (!rc)
        rc = pit_check(i, "null_count", c->null_count, 0, 1);
    return rc;
}

static int pit8254_vms_post_load(void *opaque)
{
    struct pit8254 *p = opaque;
    int rc;

    for (unsigned i = 0; i < 3; i++) {
        rc = pit_check_channel(i, &p->s.ch[i]);
        if (rc < 0)
            return rc;
    }
    if (p->s.irq_level > 1)
        return err_set(-EINVAL, "irq_level %u is invalid", p->s.irq_level);
    if (p->s.port61 & ~0x0eu)
        return err_set(-EINVAL, "port61 0x%02x has bits outside 0x0e", p->s.port61);
    pit8254_post_load(p);
    return 0;
}

const struct vms_desc pit8254_vms = {
    .name = "pit8254",
    .version = 1,
    .min_version = 1,
    .fields = pit8254_vms_fields,
    .nfields = VMS_ARRAY_SIZE(pit8254_vms_fields),
    .post_load = pit8254_vms_post_load,
};
