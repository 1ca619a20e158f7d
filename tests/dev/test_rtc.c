/* dev/rtc driven through the PIO bus with a manual clock. Every test
 * starts at virtual time 0 with a fixed base time, so second boundaries
 * (updates) fall at k * 1e9 ns. */
#include "core/bus.h"
#include "core/timerq.h"
#include "dev/rtc.h"
#include "test.h"

#define SEC 1000000000ull
#define MS 1000000ull

/* calendar.timegm() of each, checked against Python. */
#define T_2026_11_26_235958 1795737598ll /* a Thursday */
#define T_2026_12_31_235959 1798761599ll
#define T_2028_02_28_235959 1835395199ll
#define T_2027_02_28_235959 1803859199ll
#define T_2099_12_31_235959 4102444799ll
#define T_2026_04_30_235959 1777593599ll
#define T_2026_11_26_125959 1795697999ll
#define T_2030_01_02_030405 1893553445ll

struct irqrec {
    struct timerq *q;
    int level;
    unsigned rises;
    uint64_t rise_ns[64];
};

static void irqrec_set(void *opaque, int pin, int level)
{
    struct irqrec *r = opaque;

    if (level && !r->level) {
        if (r->rises < 64)
            r->rise_ns[r->rises] = timerq_now(r->q);
        r->rises++;
    }
    r->level = level;
}

struct fix {
    struct timerq q;
    struct bus pio;
    struct rtc *rtc;
    struct irqrec rec;
};

static void fix_init(struct fix *f, int64_t base)
{
    struct irq_line line;

    memset(f, 0, sizeof(*f));
    timerq_init(&f->q, NULL);
    bus_init(&f->pio, "pio");
    f->rec.q = &f->q;
    line = (struct irq_line){irqrec_set, &f->rec, RTC_IRQ};
    CHECK_EQ(rtc_create(&f->rtc, &f->q, &line, base), 0);
    CHECK_EQ(rtc_register_pio(f->rtc, &f->pio), 0);
}

static void fix_fini(struct fix *f)
{
    rtc_destroy(f->rtc);
    bus_destroy(&f->pio);
}

static void at(struct fix *f, uint64_t ns)
{
    CHECK(ns >= timerq_now(&f->q));
    timerq_advance(&f->q, ns - timerq_now(&f->q));
}

static uint8_t rd(struct fix *f, uint8_t idx)
{
    uint64_t v = 0;
    CHECK_EQ(bus_write(&f->pio, 0x70, 1, idx), 0);
    CHECK_EQ(bus_read(&f->pio, 0x71, 1, &v), 0);
    return (uint8_t)v;
}

static void wr(struct fix *f, uint8_t idx, uint8_t v)
{
    CHECK_EQ(bus_write(&f->pio, 0x70, 1, idx), 0);
    CHECK_EQ(bus_write(&f->pio, 0x71, 1, v), 0);
}

/* Checks the date and time registers (values in the register format). */
static void check_time(struct fix *f, uint8_t cent, uint8_t yr, uint8_t mon, uint8_t dom,
                       uint8_t dow, uint8_t hr, uint8_t min, uint8_t sec)
{
    CHECK_EQ(rd(f, RTC_CENTURY), cent);
    CHECK_EQ(rd(f, RTC_YEAR), yr);
    CHECK_EQ(rd(f, RTC_MONTH), mon);
    CHECK_EQ(rd(f, RTC_DAY_OF_MONTH), dom);
    CHECK_EQ(rd(f, RTC_DAY_OF_WEEK), dow);
    CHECK_EQ(rd(f, RTC_HOURS), hr);
    CHECK_EQ(rd(f, RTC_MINUTES), min);
    CHECK_EQ(rd(f, RTC_SECONDS), sec);
}

static void time_bcd_24h(void)
{
    struct fix f;

    fix_init(&f, T_2026_11_26_235958);
    CHECK_EQ(rd(&f, RTC_REG_A), 0x26);
    CHECK_EQ(rd(&f, RTC_REG_B), 0x02);
    CHECK_EQ(rd(&f, RTC_REG_D), RTC_D_VRT);
    check_time(&f, 0x20, 0x26, 0x11, 0x26, 5, 0x23, 0x59, 0x58);
    at(&f, SEC - 1);
    CHECK_EQ(rd(&f, RTC_SECONDS), 0x58);
    at(&f, SEC);
    CHECK_EQ(rd(&f, RTC_SECONDS), 0x59);
    at(&f, 2 * SEC);
    check_time(&f, 0x20, 0x26, 0x11, 0x27, 6, 0x00, 0x00, 0x00);
    CHECK_EQ(rtc_time(f.rtc), T_2026_11_26_235958 + 2);
    at(&f, 2 * SEC + 3600 * SEC + 61 * SEC);
    check_time(&f, 0x20, 0x26, 0x11, 0x27, 6, 0x01, 0x01, 0x01);
    fix_fini(&f);
}

static void rollovers(void)
{
    struct fix f;

    fix_init(&f, T_2026_12_31_235959); /* year end */
    check_time(&f, 0x20, 0x26, 0x12, 0x31, 5, 0x23, 0x59, 0x59);
    at(&f, SEC);
    check_time(&f, 0x20, 0x27, 0x01, 0x01, 6, 0x00, 0x00, 0x00);
    fix_fini(&f);

    fix_init(&f, T_2028_02_28_235959); /* leap year: Feb 29, then Mar 1 */
    at(&f, SEC);
    check_time(&f, 0x20, 0x28, 0x02, 0x29, 3, 0x00, 0x00, 0x00);
    at(&f, SEC + 86400 * SEC);
    check_time(&f, 0x20, 0x28, 0x03, 0x01, 4, 0x00, 0x00, 0x00);
    fix_fini(&f);

    fix_init(&f, T_2027_02_28_235959); /* common year: Feb 28 to Mar 1 */
    at(&f, SEC);
    check_time(&f, 0x20, 0x27, 0x03, 0x01, 2, 0x00, 0x00, 0x00);
    fix_fini(&f);

    fix_init(&f, T_2026_04_30_235959); /* 30-day month */
    at(&f, SEC);
    check_time(&f, 0x20, 0x26, 0x05, 0x01, 6, 0x00, 0x00, 0x00);
    fix_fini(&f);

    fix_init(&f, T_2099_12_31_235959); /* century (2100 is not a leap year) */
    at(&f, SEC);
    check_time(&f, 0x21, 0x00, 0x01, 0x01, 6, 0x00, 0x00, 0x00);
    at(&f, SEC + (31 + 28) * 86400 * SEC);
    check_time(&f, 0x21, 0x00, 0x03, 0x01, 2, 0x00, 0x00, 0x00);
    fix_fini(&f);
}

static void binary_mode(void)
{
    struct fix f;

    fix_init(&f, T_2026_11_26_235958);
    wr(&f, RTC_REG_B, RTC_B_DM | RTC_B_24H);
    check_time(&f, 20, 26, 11, 26, 5, 23, 59, 58);
    at(&f, 2 * SEC);
    check_time(&f, 20, 26, 11, 27, 6, 0, 0, 0);
    wr(&f, RTC_REG_B, RTC_B_24H); /* back to BCD: the same time */
    check_time(&f, 0x20, 0x26, 0x11, 0x27, 6, 0, 0, 0);
    fix_fini(&f);
}

static void twelve_hour_mode(void)
{
    struct fix f;

    fix_init(&f, T_2026_11_26_235958);
    wr(&f, RTC_REG_B, 0); /* BCD, 12-hour */
    CHECK_EQ(rd(&f, RTC_HOURS), 0x80 | 0x11); /* 11 PM */
    at(&f, 2 * SEC);
    CHECK_EQ(rd(&f, RTC_HOURS), 0x12); /* 12 AM */
    at(&f, 2 * SEC + 3600 * SEC);
    CHECK_EQ(rd(&f, RTC_HOURS), 0x01);
    wr(&f, RTC_REG_B, RTC_B_DM); /* binary, 12-hour */
    CHECK_EQ(rd(&f, RTC_HOURS), 1);
    fix_fini(&f);

    fix_init(&f, T_2026_11_26_125959);
    wr(&f, RTC_REG_B, 0);
    CHECK_EQ(rd(&f, RTC_HOURS), 0x80 | 0x12); /* 12 PM */
    at(&f, SEC);
    CHECK_EQ(rd(&f, RTC_HOURS), 0x80 | 0x01); /* 1 PM */
    wr(&f, RTC_REG_B, RTC_B_DM);
    CHECK_EQ(rd(&f, RTC_HOURS), 0x80 | 1);
    /* setting 12-hour time: 0x87 binary is 7 PM */
    wr(&f, RTC_HOURS, 0x87);
    wr(&f, RTC_REG_B, RTC_B_DM | RTC_B_24H);
    CHECK_EQ(rd(&f, RTC_HOURS), 19);
    fix_fini(&f);
}

static void set_mode(void)
{
    struct fix f;

    fix_init(&f, T_2026_11_26_235958);
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
    rd(&f, RTC_REG_C);
    at(&f, 300 * MS);
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_UIE | RTC_B_SET);
    CHECK_EQ(rd(&f, RTC_REG_B), RTC_B_24H | RTC_B_SET); /* SET clears UIE */
    /* with SET the time holds and the registers take what is written */
    wr(&f, RTC_SECONDS, 0x05);
    wr(&f, RTC_MINUTES, 0x04);
    wr(&f, RTC_HOURS, 0x03);
    wr(&f, RTC_DAY_OF_MONTH, 0x02);
    wr(&f, RTC_MONTH, 0x01);
    wr(&f, RTC_YEAR, 0x30);
    wr(&f, RTC_CENTURY, 0x20);
    at(&f, 5 * SEC + 300 * MS);
    CHECK_EQ(rd(&f, RTC_SECONDS), 0x05);
    CHECK_EQ(rd(&f, RTC_MINUTES), 0x04);
    CHECK_EQ(rtc_time(f.rtc), T_2030_01_02_030405);
    /* no update happened while SET held them; the periodic divider ran */
    CHECK_EQ(rd(&f, RTC_REG_C), RTC_C_PF);
    CHECK_EQ(rd(&f, RTC_REG_A) & RTC_A_UIP, 0);
    /* release SET: the new time runs, on the divider's old phase */
    wr(&f, RTC_REG_B, RTC_B_24H);
    CHECK_EQ(rtc_time(f.rtc), T_2030_01_02_030405);
    at(&f, 6 * SEC - 1);
    CHECK_EQ(rd(&f, RTC_SECONDS), 0x05);
    at(&f, 6 * SEC);
    check_time(&f, 0x20, 0x30, 0x01, 0x02, 4, 0x03, 0x04, 0x06); /* a Wednesday */
    CHECK_EQ(f.rec.rises, 0);
    fix_fini(&f);
}

static void write_time_while_running(void)
{
    struct fix f;

    fix_init(&f, T_2026_11_26_235958);
    at(&f, 500 * MS);
    wr(&f, RTC_MINUTES, 0x30);
    check_time(&f, 0x20, 0x26, 0x11, 0x26, 5, 0x23, 0x30, 0x58);
    at(&f, SEC);
    CHECK_EQ(rd(&f, RTC_SECONDS), 0x59);
    CHECK_EQ(rtc_time(f.rtc), T_2026_11_26_235958 + 1 - 29 * 60);
    fix_fini(&f);
}

static void divider_reset(void)
{
    struct fix f;

    fix_init(&f, T_2026_11_26_235958);
    at(&f, 200 * MS);
    wr(&f, RTC_REG_A, 0x70 | 0x06); /* divider held in reset */
    at(&f, 3 * SEC + 200 * MS);
    CHECK_EQ(rd(&f, RTC_SECONDS), 0x58);
    rd(&f, RTC_REG_C);
    at(&f, 4 * SEC);
    CHECK_EQ(rd(&f, RTC_REG_C), 0); /* no periodic flag either */
    wr(&f, RTC_REG_A, 0x26); /* released at 4 s: first update at 4.5 s */
    at(&f, 4 * SEC + 500 * MS - 1);
    CHECK_EQ(rd(&f, RTC_SECONDS), 0x58);
    at(&f, 4 * SEC + 500 * MS);
    CHECK_EQ(rd(&f, RTC_SECONDS), 0x59);
    at(&f, 5 * SEC + 500 * MS);
    CHECK_EQ(rd(&f, RTC_SECONDS), 0x00);
    fix_fini(&f);
}

static void update_in_progress(void)
{
    struct fix f;

    fix_init(&f, T_2026_11_26_235958);
    /* UIP is set from 8 divider ticks (244.14 us) before each update */
    at(&f, 999755859);
    CHECK_EQ(rd(&f, RTC_REG_A), 0x26);
    at(&f, 999755860);
    CHECK_EQ(rd(&f, RTC_REG_A), RTC_A_UIP | 0x26);
    CHECK_EQ(rd(&f, RTC_SECONDS), 0x58); /* the update has not happened */
    at(&f, SEC - 1);
    CHECK_EQ(rd(&f, RTC_REG_A), RTC_A_UIP | 0x26);
    at(&f, SEC);
    CHECK_EQ(rd(&f, RTC_REG_A), 0x26);
    CHECK_EQ(rd(&f, RTC_SECONDS), 0x59);
    wr(&f, RTC_REG_A, 0xa6); /* UIP is read-only */
    CHECK_EQ(rd(&f, RTC_REG_A), 0x26);
    fix_fini(&f);
}

static void update_interrupt(void)
{
    struct fix f;

    fix_init(&f, T_2026_11_26_235958);
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
    CHECK_EQ(f.rec.rises, 0);
    at(&f, SEC);
    CHECK_EQ(f.rec.rises, 1);
    CHECK_EQ(f.rec.rise_ns[0], SEC);
    CHECK_EQ(f.rec.level, 1);
    CHECK_EQ(rd(&f, RTC_SECONDS), 0x59); /* the handler sees the new second */
    CHECK_EQ(rd(&f, RTC_REG_C), RTC_C_IRQF | RTC_C_UF | RTC_C_PF);
    CHECK_EQ(f.rec.level, 0);
    at(&f, 2 * SEC);
    CHECK_EQ(f.rec.rises, 2);
    CHECK_EQ(f.rec.rise_ns[1], 2 * SEC);
    /* until C is read the line stays high: no new edges */
    at(&f, 5 * SEC + 100);
    CHECK_EQ(f.rec.rises, 2);
    CHECK_EQ(rd(&f, RTC_REG_C) & (RTC_C_IRQF | RTC_C_UF), RTC_C_IRQF | RTC_C_UF);
    at(&f, 6 * SEC);
    CHECK_EQ(f.rec.rises, 3);
    CHECK_EQ(f.rec.rise_ns[2], 6 * SEC);
    fix_fini(&f);
}

/* Enables the periodic interrupt at rate rs and returns the period seen
 * between two interrupts (reading C in between, as a handler does). */
static uint64_t periodic_period(struct fix *f, uint8_t rs)
{
    uint64_t a;

    wr(f, RTC_REG_A, (uint8_t)(0x20 | rs));
    wr(f, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
    rd(f, RTC_REG_C);
    f->rec.rises = 0;
    at(f, timerq_next_deadline(&f->q));
    CHECK_EQ(f->rec.rises, 1);
    CHECK_EQ(rd(f, RTC_REG_C) & (RTC_C_IRQF | RTC_C_PF), RTC_C_IRQF | RTC_C_PF);
    a = timerq_now(&f->q);
    at(f, timerq_next_deadline(&f->q));
    CHECK_EQ(f->rec.rises, 2);
    CHECK_EQ(rd(f, RTC_REG_C) & (RTC_C_IRQF | RTC_C_PF), RTC_C_IRQF | RTC_C_PF);
    return timerq_now(&f->q) - a;
}

static void periodic_interrupt(void)
{
    struct fix f;

    fix_init(&f, T_2026_11_26_235958);
    wr(&f, RTC_HOURS_ALARM, 0x24); /* keep the alarm out of it */
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_PIE); /* 1024 Hz (A = 0x26) */
    at(&f, 976562);
    CHECK_EQ(f.rec.rises, 0);
    at(&f, 976563); /* 32 ticks of 32.768 kHz = 976562.5 ns */
    CHECK_EQ(f.rec.rises, 1);
    CHECK_EQ(rd(&f, RTC_REG_C), RTC_C_IRQF | RTC_C_PF);
    CHECK_EQ(f.rec.level, 0);
    at(&f, 1953125);
    CHECK_EQ(f.rec.rises, 2);
    CHECK_EQ(rd(&f, RTC_REG_C), RTC_C_IRQF | RTC_C_PF);
    /* the rate select */
    CHECK_EQ(periodic_period(&f, 0x0f), 500 * MS);         /* 2 Hz */
    CHECK_EQ(periodic_period(&f, 0x06), 976562);           /* 1024 Hz, ns rounding */
    CHECK_EQ(periodic_period(&f, 0x03) / 10, 122070 / 10); /* 8192 Hz */
    CHECK_EQ(periodic_period(&f, 0x01), 3906250);          /* 256 Hz, like rate 8 */
    CHECK_EQ(periodic_period(&f, 0x02), 7812500);          /* 128 Hz, like rate 9 */
    CHECK_EQ(periodic_period(&f, 0x08), 3906250);
    /* rate 0 turns it off */
    wr(&f, RTC_REG_A, 0x20);
    rd(&f, RTC_REG_C);
    CHECK_EQ(timerq_next_deadline(&f.q), UINT64_MAX);
    at(&f, timerq_now(&f.q) + 100 * MS);
    CHECK_EQ(rd(&f, RTC_REG_C) & RTC_C_PF, 0);
    /* without PIE the flag is still set, with no interrupt */
    wr(&f, RTC_REG_A, 0x26);
    wr(&f, RTC_REG_B, RTC_B_24H);
    rd(&f, RTC_REG_C);
    f.rec.rises = 0;
    at(&f, timerq_now(&f.q) + 10 * MS);
    CHECK_EQ(rd(&f, RTC_REG_C) & (RTC_C_IRQF | RTC_C_PF), RTC_C_PF);
    CHECK_EQ(f.rec.rises, 0);
    fix_fini(&f);
}

static void alarm_interrupt(void)
{
    struct fix f;

    fix_init(&f, T_2026_11_26_235958);
    wr(&f, RTC_SECONDS_ALARM, 0x01);
    wr(&f, RTC_MINUTES_ALARM, 0x00);
    wr(&f, RTC_HOURS_ALARM, 0x00);
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
    at(&f, 3 * SEC - 1);
    CHECK_EQ(f.rec.rises, 0);
    at(&f, 3 * SEC); /* 00:00:01 */
    CHECK_EQ(f.rec.rises, 1);
    CHECK_EQ(f.rec.rise_ns[0], 3 * SEC);
    CHECK_EQ(rd(&f, RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF | RTC_C_PF);
    /* don't-care: any hour, any minute, second 30 */
    wr(&f, RTC_SECONDS_ALARM, 0x30);
    wr(&f, RTC_MINUTES_ALARM, 0xff);
    wr(&f, RTC_HOURS_ALARM, 0xc0);
    at(&f, 40 * SEC);
    CHECK_EQ(f.rec.rises, 2);
    CHECK_EQ(f.rec.rise_ns[1], 32 * SEC); /* 00:00:30 */
    rd(&f, RTC_REG_C);
    at(&f, 100 * SEC);
    CHECK_EQ(f.rec.rises, 3);
    CHECK_EQ(f.rec.rise_ns[2], 92 * SEC); /* 00:01:30 */
    rd(&f, RTC_REG_C);
    /* all don't-care: every second */
    wr(&f, RTC_SECONDS_ALARM, 0xc0);
    at(&f, 101 * SEC);
    CHECK_EQ(f.rec.rises, 4);
    rd(&f, RTC_REG_C);
    at(&f, 102 * SEC);
    CHECK_EQ(f.rec.rises, 5);
    /* an alarm no time matches (hour 0x24) never fires */
    rd(&f, RTC_REG_C);
    wr(&f, RTC_SECONDS_ALARM, 0x00);
    wr(&f, RTC_HOURS_ALARM, 0x24);
    CHECK_EQ(timerq_next_deadline(&f.q), UINT64_MAX);
    at(&f, 3 * 86400 * SEC);
    CHECK_EQ(f.rec.rises, 5);
    fix_fini(&f);

    /* 12-hour mode compares the PM bit too: 1 PM */
    fix_init(&f, T_2026_11_26_125959);
    wr(&f, RTC_REG_B, RTC_B_AIE);
    wr(&f, RTC_SECONDS_ALARM, 0x00);
    wr(&f, RTC_MINUTES_ALARM, 0x00);
    wr(&f, RTC_HOURS_ALARM, 0x81);
    at(&f, SEC);
    CHECK_EQ(f.rec.rises, 1);
    CHECK_EQ(rd(&f, RTC_HOURS), 0x81);
    rd(&f, RTC_REG_C);
    /* next match is 1 PM tomorrow, not 1 AM */
    CHECK_EQ(timerq_next_deadline(&f.q), SEC + 86400 * SEC);
    fix_fini(&f);

    /* with AIE off the flag is set and nothing is raised */
    fix_init(&f, T_2026_11_26_235958);
    wr(&f, RTC_REG_A, 0x20); /* no periodic rate, so C shows AF and UF only */
    rd(&f, RTC_REG_C);
    at(&f, 3 * SEC);
    CHECK_EQ(rd(&f, RTC_REG_C), RTC_C_AF | RTC_C_UF); /* 00:00:00 matched at 2 s */
    CHECK_EQ(f.rec.rises, 0);
    fix_fini(&f);
}

static void register_c(void)
{
    struct fix f;

    fix_init(&f, T_2026_11_26_235958);
    wr(&f, RTC_HOURS_ALARM, 0x24); /* keep the alarm out of it */
    at(&f, 1500 * MS);
    CHECK_EQ(rd(&f, RTC_REG_C), RTC_C_UF | RTC_C_PF);
    CHECK_EQ(rd(&f, RTC_REG_C), 0); /* cleared by the read */
    wr(&f, RTC_REG_C, 0xf0);         /* read-only */
    CHECK_EQ(rd(&f, RTC_REG_C), 0);
    wr(&f, RTC_REG_D, 0x00);
    CHECK_EQ(rd(&f, RTC_REG_D), RTC_D_VRT);
    /* enabling an interrupt whose flag is already set raises it at once */
    at(&f, 2500 * MS);
    CHECK_EQ(f.rec.rises, 0);
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
    CHECK_EQ(f.rec.rises, 1);
    CHECK_EQ(f.rec.rise_ns[0], 2500 * MS);
    /* disabling it releases the line; the flag stays */
    wr(&f, RTC_REG_B, RTC_B_24H);
    CHECK_EQ(f.rec.level, 0);
    CHECK_EQ(rd(&f, RTC_REG_C), RTC_C_UF | RTC_C_PF);
    /* the line goes low on the read of C */
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
    at(&f, 3 * SEC);
    CHECK_EQ(f.rec.level, 1);
    CHECK_EQ(rd(&f, RTC_REG_C), RTC_C_IRQF | RTC_C_UF | RTC_C_PF);
    CHECK_EQ(f.rec.level, 0);
    fix_fini(&f);
}

static void no_timer_unless_needed(void)
{
    struct fix f;

    fix_init(&f, T_2026_11_26_235958);
    wr(&f, RTC_HOURS_ALARM, 0x24);
    CHECK_EQ(timerq_next_deadline(&f.q), UINT64_MAX); /* flags are computed on read */
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_PIE | RTC_B_UIE);
    CHECK_EQ(timerq_next_deadline(&f.q), 976563);
    at(&f, 976563);
    /* PF pending and unread: only the update is still worth a timer */
    CHECK_EQ(timerq_next_deadline(&f.q), SEC);
    at(&f, SEC);
    CHECK_EQ(timerq_next_deadline(&f.q), UINT64_MAX);
    at(&f, 10 * SEC);
    CHECK_EQ(f.rec.rises, 1);
    rd(&f, RTC_REG_C);
    CHECK_EQ(timerq_next_deadline(&f.q), 10 * SEC + 976563);
    fix_fini(&f);
}

static void nmi_mask_and_ram(void)
{
    struct fix f;
    uint64_t v = 0;
    unsigned i;

    fix_init(&f, T_2026_11_26_235958);
    CHECK(!rtc_nmi_masked(f.rtc));
    wr(&f, 0x80 | 0x0f, 0xab); /* index 0x0f with NMI masked */
    CHECK(rtc_nmi_masked(f.rtc));
    CHECK_EQ(rtc_cmos_get(f.rtc, 0x0f), 0xab);
    CHECK_EQ(rd(&f, 0x0f), 0xab);
    CHECK(!rtc_nmi_masked(f.rtc));
    CHECK_EQ(bus_read(&f.pio, 0x70, 1, &v), 0);
    CHECK_EQ(v, 0xff); /* the index port is write-only */
    for (i = 0x0e; i < RTC_CMOS_SIZE; i++)
        if (i != RTC_CENTURY)
            wr(&f, (uint8_t)i, (uint8_t)(i * 7));
    for (i = 0x0e; i < RTC_CMOS_SIZE; i++)
        if (i != RTC_CENTURY)
            CHECK_EQ(rd(&f, (uint8_t)i), (uint8_t)(i * 7));
    CHECK_EQ(rtc_cmos_set(f.rtc, 0x15, 0x80), 0);
    CHECK_EQ(rd(&f, 0x15), 0x80);
    CHECK_EQ(rtc_cmos_set(f.rtc, RTC_REG_B, 0), -EINVAL);
    CHECK_EQ(rtc_cmos_set(f.rtc, RTC_CENTURY, 0), -EINVAL);
    CHECK_EQ(rtc_cmos_set(f.rtc, 0x80, 0), -EINVAL);
    CHECK_EQ(rd(&f, RTC_REG_B), 0x02);
    fix_fini(&f);
}

static void reset_keeps_time(void)
{
    struct fix f;

    fix_init(&f, T_2026_11_26_235958);
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_UIE | RTC_B_PIE | RTC_B_AIE | RTC_B_SQWE);
    at(&f, SEC);
    CHECK_EQ(f.rec.level, 1);
    rtc_reset(f.rtc);
    CHECK_EQ(f.rec.level, 0);
    CHECK_EQ(rd(&f, RTC_REG_B), RTC_B_24H);
    CHECK_EQ(rd(&f, RTC_REG_C), 0);
    CHECK_EQ(rd(&f, RTC_REG_A), 0x26);
    CHECK_EQ(rd(&f, RTC_SECONDS), 0x59);
    fix_fini(&f);
}

static void post_load_resumes(void)
{
    struct fix f;
    struct rtc *b;
    struct irqrec rec2 = {0};
    struct irq_line line;

    fix_init(&f, T_2026_11_26_235958);
    wr(&f, RTC_HOURS_ALARM, 0x24);
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
    at(&f, 1500 * MS);
    rd(&f, RTC_REG_C);
    rec2.q = &f.q;
    line = (struct irq_line){irqrec_set, &rec2, RTC_IRQ};
    CHECK_EQ(rtc_create(&b, &f.q, &line, 0), 0);
    b->s = f.rtc->s;
    rtc_destroy(f.rtc);
    f.rtc = b;
    rtc_post_load(b);
    CHECK_EQ(timerq_next_deadline(&f.q), 2 * SEC);
    at(&f, 2 * SEC);
    CHECK_EQ(rec2.rises, 1);
    CHECK_EQ(rtc_time(b), T_2026_11_26_235958 + 2);
    fix_fini(&f);
}

static const struct test_case tests[] = {
    TEST(time_bcd_24h),
    TEST(rollovers),
    TEST(binary_mode),
    TEST(twelve_hour_mode),
    TEST(set_mode),
    TEST(write_time_while_running),
    TEST(divider_reset),
    TEST(update_in_progress),
    TEST(update_interrupt),
    TEST(periodic_interrupt),
    TEST(alarm_interrupt),
    TEST(register_c),
    TEST(no_timer_unless_needed),
    TEST(nmi_mask_and_ram),
    TEST(reset_keeps_time),
    TEST(post_load_resumes),
};
TEST_MAIN("rtc", tests)
