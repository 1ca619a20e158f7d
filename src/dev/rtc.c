/* CMOS RTC. Spec: Motorola MC146818A datasheet: "Address Map", "Time,
 * Calendar and Alarm Locations" (BCD/binary, 12/24-hour, alarm don't-care
 * codes), "Register A-D", "Interrupts" and "Divider Stages" (the first
 * update 500 ms after the divider leaves reset; periodic rates for a
 * 32.768 kHz time base); the IBM PC/AT technical reference for ports
 * 0x70/0x71 and the NMI mask. See dev/rtc.h for the model.
 *
 * Virtual time t maps onto the clock through base_ns: the divider's 32.768
 * kHz stages count ticks from base_ns, updates (second boundaries) happen
 * at base_ns + k * 1e9, and the time after update k is base_sec + k. */
#include "dev/rtc.h"

#include <stdlib.h>
#include <string.h>

#include "migrate/vmstate.h"

#define NS_PER_SEC 1000000000ll
#define NONE UINT64_MAX
#define RTC_HZ 32768u
/* UIP rises 244 us (8 periods of 32.768 kHz) before each update. */
#define RTC_UIP_TICKS 8u
#define RTC_FLAGS (RTC_C_PF | RTC_C_AF | RTC_C_UF)

static uint8_t reg(const struct rtc_state *s, unsigned i)
{
    return s->cmos[i];
}

/* The divider runs (time base selected, not held in reset or a test mode). */
static bool rtc_divider_on(const struct rtc_state *s)
{
    return (reg(s, RTC_REG_A) & RTC_A_DV) <= 0x20;
}

/* The clock counts: the divider runs and SET does not hold updates. */
static bool rtc_running(const struct rtc_state *s)
{
    return rtc_divider_on(s) && !(reg(s, RTC_REG_B) & RTC_B_SET);
}

/* Virtual ns since base_ns; base_ns is never after any time we look at
 * (a clock behind it, say a migrated state loaded before the clock is set,
 * counts as 0 rather than as 2^64 - d, whose seconds would overflow). */
static uint64_t rtc_elapsed(const struct rtc_state *s, uint64_t now)
{
    uint64_t base = (uint64_t)s->base_ns; /* two's complement: no signed overflow */

    if (s->base_ns < 0)
        return now + (0 - base);
    return now > base ? now - base : 0;
}

/* 32.768 kHz divider ticks since base_ns at virtual time now. */
static uint64_t rtc_ticks(const struct rtc_state *s, uint64_t now)
{
    uint64_t el = rtc_elapsed(s, now);
    return el / NS_PER_SEC * RTC_HZ + el % NS_PER_SEC * RTC_HZ / NS_PER_SEC;
}

/* The first virtual ns at which rtc_ticks() reaches tick. */
static uint64_t rtc_tick_ns(const struct rtc_state *s, uint64_t tick)
{
    uint64_t q = tick / RTC_HZ, r = tick % RTC_HZ;
    return (uint64_t)(s->base_ns + (int64_t)(q * NS_PER_SEC + (r * NS_PER_SEC + RTC_HZ - 1) / RTC_HZ));
}

/* Periodic interrupt period in divider ticks, or 0 if off (rate 0).
 * Rates 1 and 2 repeat rates 8 and 9 with a 32.768 kHz time base. */
static uint64_t rtc_period_ticks(const struct rtc_state *s)
{
    unsigned rs = reg(s, RTC_REG_A) & RTC_A_RS;

    if (rs == 0)
        return 0;
    if (rs <= 2)
        rs += 7;
    return 1ull << (rs - 1);
}

/* ---- calendar (proleptic Gregorian, H. Hinnant's days_from_civil) ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* ---- register formats ---- */

static uint8_t rtc_to_reg(const struct rtc_state *s, unsigned v)
{
    if (reg(s, RTC_REG_B) & RTC_B_DM)
        return (uint8_t)v;
    return (uint8_t)((v / 10 % 10) << 4 | v % 10);
}

static unsigned rtc_from_reg(const struct rtc_state *s, uint8_t v)
{
    if (reg(s, RTC_REG_B) & RTC_B_DM)
        return v;
    return (v >> 4) * 10u + (v & 15);
}

static uint8_t rtc_hour_to_reg(const struct rtc_state *s, unsigned h)
{
    if (reg(s, RTC_REG_B) & RTC_B_24H)
        return rtc_to_reg(s, h);
    /* 12-hour: 12, 1, ..., 11 with PM in bit 7 */
    return (uint8_t)(rtc_to_reg(s, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0));
}

static unsigned rtc_hour_from_reg(const struct rtc_state *s, uint8_t v)
{
    if (reg(s, RTC_REG_B) & RTC_B_24H)
        return rtc_from_reg(s, v);
    return rtc_from_reg(s, v & 0x7f) % 12 + (v & 0x80 ? 12 : 0);
}

/* Writes wall-clock second t into the time registers, in the current format. */
static void rtc_encode_time(struct rtc_state *s, int64_t t)
{
    int64_t days = floor_div(t, 86400), y;
    unsigned tod = (unsigned)(t - days * 86400), m, d;

    civil_from_days(days, &y, &m, &d);
    s->cmos[RTC_SECONDS] = rtc_to_reg(s, tod % 60);
    s->cmos[RTC_MINUTES] = rtc_to_reg(s, tod / 60 % 60);
    s->cmos[RTC_HOURS] = rtc_hour_to_reg(s, tod / 3600);
    /* 1970-01-01 was a Thursday; the register counts Sunday as 1. */
    s->cmos[RTC_DAY_OF_WEEK] = rtc_to_reg(s, (unsigned)(((days + 4) % 7 + 7) % 7) + 1);
    s->cmos[RTC_DAY_OF_MONTH] = rtc_to_reg(s, d);
    s->cmos[RTC_MONTH] = rtc_to_reg(s, m);
    s->cmos[RTC_YEAR] = rtc_to_reg(s, (unsigned)(((y % 100) + 100) % 100));
    s->cmos[RTC_CENTURY] = rtc_to_reg(s, (unsigned)floor_div(y, 100));
}

/* The wall-clock second the time registers hold. The day of week is not
 * an input: like QEMU, the date alone defines the time. */
static int64_t rtc_decode_time(const struct rtc_state *s)
{
    int64_t y = (int64_t)rtc_from_reg(s, reg(s, RTC_CENTURY)) * 100 +
                rtc_from_reg(s, reg(s, RTC_YEAR));
    int64_t days = days_from_civil(y, rtc_from_reg(s, reg(s, RTC_MONTH)),
                                   rtc_from_reg(s, reg(s, RTC_DAY_OF_MONTH)));

    return days * 86400 + rtc_hour_from_reg(s, reg(s, RTC_HOURS)) * 3600ll +
           rtc_from_reg(s, reg(s, RTC_MINUTES)) * 60ll + rtc_from_reg(s, reg(s, RTC_SECONDS));
}

static int64_t rtc_now_sec(const struct rtc_state *s, uint64_t now)
{
    return s->base_sec + (int64_t)(rtc_elapsed(s, now) / NS_PER_SEC);
}

/* Brings the time registers up to date while the clock runs. */
static void rtc_refresh_time(struct rtc_state *s, uint64_t now)
{
    if (rtc_running(s))
        rtc_encode_time(s, rtc_now_sec(s, now));
}

/* The time registers were set while the divider runs: they become the
 * time of the current second, keeping the divider's phase (the next update
 * comes when it would have). */
static void rtc_set_base(struct rtc_state *s, uint64_t now)
{
    s->base_ns = (int64_t)now - (int64_t)(rtc_elapsed(s, now) % NS_PER_SEC);
    s->base_sec = rtc_decode_time(s);
}

/* ---- flags, interrupt and timer ---- */

/* Accounts in register C for what happened in (synced_ns, now]. */
static void rtc_sync(struct rtc_state *s, uint64_t now)
{
    uint64_t t0, t1, period;

    if (now <= s->synced_ns)
        return;
    if (rtc_divider_on(s)) {
        t0 = rtc_ticks(s, s->synced_ns);
        t1 = rtc_ticks(s, now);
        period = rtc_period_ticks(s);
        if (period && t1 / period > t0 / period)
            s->cmos[RTC_REG_C] |= RTC_C_PF;
        if (rtc_running(s) && t1 / RTC_HZ > t0 / RTC_HZ)
            s->cmos[RTC_REG_C] |= RTC_C_UF;
    }
    if (s->alarm_ns <= now) {
        s->cmos[RTC_REG_C] |= RTC_C_AF;
        s->alarm_ns = NONE;
    }
    s->synced_ns = now;
}

/* IRQF is set while any flag has its enable bit; the line follows IRQF. */
static void rtc_update_irq(struct rtc *r)
{
    struct rtc_state *s = &r->s;
    uint8_t flags = reg(s, RTC_REG_C) & RTC_FLAGS;
    uint8_t irqf = (flags & reg(s, RTC_REG_B) & RTC_FLAGS) ? RTC_C_IRQF : 0;

    s->cmos[RTC_REG_C] = flags | irqf;
    if ((irqf != 0) != s->irq_level) {
        s->irq_level = irqf != 0;
        irq_set(&r->irq, s->irq_level);
    }
}

static bool alarm_match(uint8_t alarm, uint8_t value)
{
    return (alarm & RTC_ALARM_DONT_CARE) == RTC_ALARM_DONT_CARE || alarm == value;
}

/* The virtual ns of the next update after now whose time matches the
 * alarm registers, or NONE if no time of day can match. */
static uint64_t rtc_next_alarm(const struct rtc_state *s, uint64_t now)
{
    uint8_t secs[60], mins[60], hours[24];
    unsigned ns = 0, nm = 0, nh = 0, i;
    int64_t k = (int64_t)(rtc_elapsed(s, now) / NS_PER_SEC), t = s->base_sec + k;
    int64_t tod = t - floor_div(t, 86400) * 86400;

    for (i = 0; i < 60; i++) {
        if (alarm_match(reg(s, RTC_SECONDS_ALARM), rtc_to_reg(s, i)))
            secs[ns++] = (uint8_t)i;
        if (alarm_match(reg(s, RTC_MINUTES_ALARM), rtc_to_reg(s, i)))
            mins[nm++] = (uint8_t)i;
        if (i < 24 && alarm_match(reg(s, RTC_HOURS_ALARM), rtc_hour_to_reg(s, i)))
            hours[nh++] = (uint8_t)i;
    }
    if (!ns || !nm || !nh)
        return NONE;
    /* The earliest matching second of today after tod, else tomorrow's first. */
    for (unsigned h = 0; h < nh; h++) {
        int64_t hs = hours[h] * 3600ll;
        if (hs + 3599 <= tod)
            continue;
        for (unsigned m = 0; m < nm; m++) {
            int64_t ms = hs + mins[m] * 60ll;
            if (ms + 59 <= tod)
                continue;
            for (unsigned sc = 0; sc < ns; sc++) {
                if (ms + secs[sc] > tod)
                    return (uint64_t)(s->base_ns + (k + ms + secs[sc] - tod) * NS_PER_SEC);
            }
        }
    }
    return (uint64_t)(s->base_ns +
                      (k + 86400 + hours[0] * 3600ll + mins[0] * 60ll + secs[0] - tod) * NS_PER_SEC);
}

/* Arms the one timer for the earliest event that changes what the guest
 * can see: an enabled interrupt whose flag is clear, or the alarm flag.
 * Events whose flag is already set are left to rtc_sync(). */
static void rtc_rearm(struct rtc *r, uint64_t now)
{
    struct rtc_state *s = &r->s;
    uint8_t b = reg(s, RTC_REG_B), c = reg(s, RTC_REG_C);
    uint64_t dl = NONE, period = rtc_period_ticks(s), t;

    s->alarm_ns = NONE;
    if (rtc_running(s)) {
        if (!(c & RTC_C_AF))
            s->alarm_ns = rtc_next_alarm(s, now);
        if ((b & RTC_B_UIE) && !(c & RTC_C_UF))
            dl = (uint64_t)s->base_ns +
                 (rtc_elapsed(s, now) / NS_PER_SEC + 1) * (uint64_t)NS_PER_SEC;
    }
    if (rtc_divider_on(s) && period && (b & RTC_B_PIE) && !(c & RTC_C_PF)) {
        t = rtc_tick_ns(s, (rtc_ticks(s, now) / period + 1) * period);
        if (t < dl)
            dl = t;
    }
    if (s->alarm_ns < dl)
        dl = s->alarm_ns;
    s->timer_deadline_ns = dl;
    if (dl == NONE)
        timerq_cancel(r->tq, &r->timer);
    else if (!r->timer.armed || r->timer.deadline_ns != dl)
        timerq_arm(r->tq, &r->timer, dl); /* unchanged: do not wake the timer thread */
}

static void rtc_timer_fire(void *opaque, uint64_t now_ns)
{
    struct rtc *r = opaque;

    rtc_sync(&r->s, now_ns);
    rtc_update_irq(r);
    rtc_rearm(r, now_ns);
}

/* ---- registers ---- */

static bool rtc_is_time_reg(unsigned i)
{
    return i == RTC_SECONDS || i == RTC_MINUTES || i == RTC_HOURS ||
           (i >= RTC_DAY_OF_WEEK && i <= RTC_YEAR) || i == RTC_CENTURY;
}

static uint8_t rtc_read_reg(struct rtc *r, unsigned i, uint64_t now)
{
    struct rtc_state *s = &r->s;
    uint8_t v;

    switch (i) {
    case RTC_REG_A:
        v = reg(s, RTC_REG_A) & ~RTC_A_UIP;
        if (rtc_running(s) && rtc_ticks(s, now) % RTC_HZ >= RTC_HZ - RTC_UIP_TICKS)
            v |= RTC_A_UIP;
        return v;
    case RTC_REG_C:
        /* Reading C clears every flag and releases the interrupt. A flag
         * found only now (a late timer) is reported without a new edge. */
        rtc_sync(s, now);
        v = reg(s, RTC_REG_C) & RTC_FLAGS;
        if (v & reg(s, RTC_REG_B))
            v |= RTC_C_IRQF;
        s->cmos[RTC_REG_C] = 0;
        rtc_update_irq(r);
        rtc_rearm(r, now);
        return v;
    case RTC_REG_D:
        return RTC_D_VRT;
    default:
        if (rtc_is_time_reg(i))
            rtc_refresh_time(s, now);
        return reg(s, i);
    }
}

static void rtc_write_a(struct rtc *r, uint8_t val, uint64_t now)
{
    struct rtc_state *s = &r->s;
    bool was_on = rtc_divider_on(s);

    s->cmos[RTC_REG_A] = val & ~RTC_A_UIP;
    if (!was_on && rtc_divider_on(s)) {
        /* Out of divider reset: the first update comes 500 ms later. */
        s->base_ns = (int64_t)now - NS_PER_SEC / 2;
        if (!(reg(s, RTC_REG_B) & RTC_B_SET))
            s->base_sec = rtc_decode_time(s);
    }
}

static void rtc_write_b(struct rtc *r, uint8_t val, uint64_t now)
{
    struct rtc_state *s = &r->s;
    bool was_set = reg(s, RTC_REG_B) & RTC_B_SET;

    if (val & RTC_B_SET)
        val &= (uint8_t)~RTC_B_UIE; /* SET going high clears UIE */
    s->cmos[RTC_REG_B] = val;
    /* SET released: the registers as the guest left them (in the format
     * now selected) become the time, from the current second. */
    if (was_set && !(val & RTC_B_SET) && rtc_divider_on(s))
        rtc_set_base(s, now);
}

static void rtc_write_reg(struct rtc *r, unsigned i, uint8_t val, uint64_t now)
{
    struct rtc_state *s = &r->s;

    if (i == RTC_REG_C || i == RTC_REG_D)
        return; /* read-only */
    if (i > RTC_REG_D && !rtc_is_time_reg(i)) {
        s->cmos[i] = val; /* plain RAM */
        return;
    }
    /* Account for everything up to now under the old settings, and pin
     * the time registers, before anything that moves the time base. */
    rtc_sync(s, now);
    rtc_refresh_time(s, now);
    if (i == RTC_REG_A) {
        rtc_write_a(r, val, now);
    } else if (i == RTC_REG_B) {
        rtc_write_b(r, val, now);
    } else {
        s->cmos[i] = val;
        /* Setting the time while the clock runs (as QEMU allows) takes
         * effect at once; with SET it waits for SET to be released. */
        if (rtc_is_time_reg(i) && rtc_running(s))
            rtc_set_base(s, now);
    }
    rtc_update_irq(r);
    rtc_rearm(r, now);
}

static uint64_t rtc_read(void *opaque, uint64_t offset, unsigned size)
{
    struct rtc *r = opaque;

    if (offset == 0)
        return 0xff; /* the index register is write-only */
    return rtc_read_reg(r, r->s.index, timerq_now(r->tq));
}

static void rtc_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct rtc *r = opaque;

    if (offset == 0) {
        r->s.index = value & 0x7f;
        r->s.nmi_masked = (value & 0x80) != 0;
        return;
    }
    rtc_write_reg(r, r->s.index, (uint8_t)value, timerq_now(r->tq));
}

const struct bus_ops rtc_ops = {rtc_read, rtc_write};

/* ---- lifecycle and core API ---- */

int rtc_create(struct rtc **out, struct timerq *tq, const struct irq_line *irq, int64_t base_sec)
{
    struct rtc *r;
    uint64_t now;

    *out = NULL;
    if (!tq)
        return err_set(-EINVAL, "rtc: needs a timer queue");
    r = calloc(1, sizeof(*r));
    if (!r)
        return err_set(-ENOMEM, "rtc: out of memory");
    r->tq = tq;
    if (irq)
        r->irq = *irq;
    timer_init(&r->timer, rtc_timer_fire, r);
    now = timerq_now(tq);
    r->s.cmos[RTC_REG_A] = 0x26;
    r->s.cmos[RTC_REG_B] = RTC_B_24H;
    r->s.cmos[RTC_REG_D] = RTC_D_VRT;
    r->s.base_sec = base_sec;
    r->s.base_ns = (int64_t)now;
    r->s.synced_ns = now;
    r->s.alarm_ns = NONE;
    r->s.timer_deadline_ns = NONE;
    rtc_encode_time(&r->s, base_sec);
    rtc_rearm(r, now);
    *out = r;
    return 0;
}

void rtc_destroy(struct rtc *r)
{
    if (!r)
        return;
    timerq_cancel(r->tq, &r->timer);
    free(r);
}

int rtc_register_pio(struct rtc *r, struct bus *pio)
{
    return bus_register(pio, RTC_BASE, RTC_NR_PORTS, &rtc_ops, r, "rtc");
}

void rtc_reset(struct rtc *r)
{
    struct rtc_state *s = &r->s;
    uint64_t now = timerq_now(r->tq);

    rtc_sync(s, now);
    s->cmos[RTC_REG_B] &= (uint8_t)~(RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE);
    s->cmos[RTC_REG_C] = 0;
    rtc_update_irq(r);
    rtc_rearm(r, now);
}

bool rtc_nmi_masked(const struct rtc *r)
{
    return r->s.nmi_masked;
}

int rtc_cmos_set(struct rtc *r, unsigned index, uint8_t value)
{
    if (index < 0x0e || index >= RTC_CMOS_SIZE || index == RTC_CENTURY)
        return err_set(-EINVAL, "rtc: CMOS index 0x%x is not RAM", index);
    r->s.cmos[index] = value;
    return 0;
}

uint8_t rtc_cmos_get(const struct rtc *r, unsigned index)
{
    return index < RTC_CMOS_SIZE ? r->s.cmos[index] : 0xff;
}

int64_t rtc_time(const struct rtc *r)
{
    if (rtc_running(&r->s))
        return rtc_now_sec(&r->s, timerq_now(r->tq));
    return rtc_decode_time(&r->s);
}

void rtc_post_load(struct rtc *r)
{
    irq_set(&r->irq, r->s.irq_level);
    if (r->s.timer_deadline_ns == NONE)
        timerq_cancel(r->tq, &r->timer);
    else
        timerq_arm(r->tq, &r->timer, r->s.timer_deadline_ns);
}

/* ---- migration ---- */

static const struct vms_field rtc_vms_fields[] = {
    VMS_BYTES(1, "cmos", struct rtc_state, cmos, 1),
    VMS_I64(2, "base_sec", struct rtc_state, base_sec, 1),
    VMS_I64(3, "base_ns", struct rtc_state, base_ns, 1),
    VMS_U64(4, "synced_ns", struct rtc_state, synced_ns, 1),
    VMS_U64(5, "alarm_ns", struct rtc_state, alarm_ns, 1),
    VMS_U64(6, "timer_deadline_ns", struct rtc_state, timer_deadline_ns, 1),
    VMS_U8(7, "index", struct rtc_state, index, 1),
    VMS_U8(8, "nmi_masked", struct rtc_state, nmi_masked, 1),
    VMS_U8(9, "irq_level", struct rtc_state, irq_level, 1),
};

/* About 8.9 million years either side of 1970: the calendar arithmetic on
 * base_sec + elapsed seconds stays far from int64 overflow. */
#define RTC_BASE_SEC_LIMIT (1ll << 48)

static int rtc_vms_post_load(void *opaque)
{
    struct rtc *r = opaque;
    const struct rtc_state *s = &r->s;

    if (s->index >= RTC_CMOS_SIZE)
        return err_set(-EINVAL, "index 0x%02x is past the %u CMOS bytes", s->index,
                       RTC_CMOS_SIZE);
    if (s->nmi_masked > 1)
        return err_set(-EINVAL, "nmi_masked %u is not 0 or 1", s->nmi_masked);
    if (s->irq_level > 1)
        return err_set(-EINVAL, "irq_level %u is not 0 or 1", s->irq_level);
    if (s->base_sec < -RTC_BASE_SEC_LIMIT || s->base_sec > RTC_BASE_SEC_LIMIT)
        return err_set(-EINVAL, "base_sec %lld is out of range", (long long)s->base_sec);
    /* The time base is a virtual time the clock has passed: at most 1 s
     * before 0 (the divider's first update comes 500 ms after a start), and
     * never after the last time register C was brought up to date. */
    if (s->synced_ns > TIMERQ_NOW_MAX)
        return err_set(-EINVAL, "synced_ns %llu is out of range",
                       (unsigned long long)s->synced_ns);
    if (s->base_ns < -NS_PER_SEC || s->base_ns > (int64_t)s->synced_ns)
        return err_set(-EINVAL, "base_ns %lld is outside -1 s .. synced_ns %llu",
                       (long long)s->base_ns, (unsigned long long)s->synced_ns);
    rtc_post_load(r);
    return 0;
}

const struct vms_desc rtc_vms = {
    .name = "rtc",
    .version = 1,
    .min_version = 1,
    .fields = rtc_vms_fields,
    .nfields = VMS_ARRAY_SIZE(rtc_vms_fields),
    .post_load = rtc_vms_post_load,
};
