/* dev/pit8254 driven through the PIO bus with a manual clock. Times are
 * named by input-clock tick: tick T begins at ceil(T * 1e9 / 1193182) ns,
 * and a count written during tick w loads into CE at tick w + 1. */
#include "core/bus.h"
#include "core/timerq.h"
#include "dev/pit8254.h"
#include "test.h"

#define MAX_RISES 2048

struct irqrec {
    struct timerq *q;
    int level;
    unsigned rises;
    uint64_t rise_ns[MAX_RISES];
};

static void irqrec_set(void *opaque, int pin, int level)
{
    struct irqrec *r = opaque;

    if (level && !r->level) {
        if (r->rises < MAX_RISES)
            r->rise_ns[r->rises] = timerq_now(r->q);
        r->rises++;
    }
    r->level = level;
}

struct fix {
    struct timerq q;
    struct bus pio;
    struct pit8254 *pit;
    struct irqrec rec;
};

static void fix_init(struct fix *f)
{
    struct irq_line line;

    memset(f, 0, sizeof(*f));
    timerq_init(&f->q, NULL);
    bus_init(&f->pio, "pio");
    f->rec.q = &f->q;
    line = (struct irq_line){irqrec_set, &f->rec, 0};
    CHECK_EQ(pit8254_create(&f->pit, &f->q, &line), 0);
    CHECK_EQ(pit8254_register_pio(f->pit, &f->pio), 0);
}

static void fix_fini(struct fix *f)
{
    pit8254_destroy(f->pit);
    bus_destroy(&f->pio);
}

static uint64_t tick_ns(uint64_t tick)
{
    uint64_t q = tick / 1193182, r = tick % 1193182;
    return q * 1000000000ull + (r * 1000000000ull + 1193181) / 1193182;
}

/* Moves the clock to the start of tick T (never backwards). */
static void at_tick(struct fix *f, uint64_t t)
{
    uint64_t ns = tick_ns(t);
    CHECK(ns >= timerq_now(&f->q));
    timerq_advance(&f->q, ns - timerq_now(&f->q));
}

static void outb(struct fix *f, uint16_t port, uint8_t v)
{
    CHECK_EQ(bus_write(&f->pio, port, 1, v), 0);
}

static uint8_t inb(struct fix *f, uint16_t port)
{
    uint64_t v = 0;
    CHECK_EQ(bus_read(&f->pio, port, 1, &v), 0);
    return (uint8_t)v;
}

/* Programs a channel: control word then the count in lsb-msb order. */
static void program(struct fix *f, unsigned ch, uint8_t cw, uint16_t count)
{
    outb(f, 0x43, cw);
    outb(f, (uint16_t)(0x40 + ch), (uint8_t)count);
    outb(f, (uint16_t)(0x40 + ch), (uint8_t)(count >> 8));
}

/* Latches and reads a lsb-msb channel's count. */
static uint16_t latch_read(struct fix *f, unsigned ch)
{
    uint16_t v;
    outb(f, 0x43, (uint8_t)(ch << 6));
    v = inb(f, (uint16_t)(0x40 + ch));
    return (uint16_t)(v | inb(f, (uint16_t)(0x40 + ch)) << 8);
}

static uint8_t read_status(struct fix *f, unsigned ch)
{
    outb(f, 0x43, (uint8_t)(0xe0 | 2u << ch)); /* read-back, status only */
    return inb(f, (uint16_t)(0x40 + ch));
}

static int out2(struct fix *f)
{
    return (inb(f, 0x61) & PIT8254_P61_OUT2) != 0;
}

static void reset_state(void)
{
    struct fix f;

    fix_init(&f);
    /* mode 3, lsb-msb, count 65536 from tick 1: 18.2 Hz square wave;
     * null count until the load clock */
    CHECK_EQ(read_status(&f, 0), 0x80 | 0x40 | 0x30 | 0x06);
    at_tick(&f, 1);
    CHECK_EQ(read_status(&f, 0), 0x80 | 0x30 | 0x06);
    CHECK_EQ(timerq_next_deadline(&f.q), tick_ns(1 + 65536));
    at_tick(&f, 1 + 2 * 65536);
    CHECK_EQ(f.rec.rises, 2);
    CHECK_EQ(f.rec.rise_ns[0], tick_ns(1 + 65536));
    CHECK_EQ(f.rec.rise_ns[1], tick_ns(1 + 2 * 65536));
    CHECK_EQ(f.rec.level, 0); /* pulses: the line rests low */
    /* gate 2 low: channel 2 holds and OUT2 is high */
    CHECK_EQ(inb(&f, 0x61) & (PIT8254_P61_GATE2 | PIT8254_P61_SPEAKER | PIT8254_P61_OUT2),
             PIT8254_P61_OUT2);
    fix_fini(&f);
}

static void mode2_periodic_irq(void)
{
    struct fix f;
    unsigned i;

    fix_init(&f);
    program(&f, 0, 0x34, 1000); /* tick 0: rate generator, count 1000 */
    at_tick(&f, 1 + 5 * 1000);
    CHECK_EQ(f.rec.rises, 5);
    for (i = 0; i < 5; i++)
        CHECK_EQ(f.rec.rise_ns[i], tick_ns(1 + (i + 1) * 1000ull));
    /* one timer per period, armed for the next edge only */
    CHECK_EQ(timerq_next_deadline(&f.q), tick_ns(1 + 6 * 1000));
    /* CE counts N..1 and reloads; OUT is low only while CE is 1 */
    at_tick(&f, 1 + 5000 + 250);
    CHECK_EQ(latch_read(&f, 0), 750);
    at_tick(&f, 1 + 5000 + 998);
    CHECK_EQ(read_status(&f, 0) & PIT8254_STATUS_OUT, PIT8254_STATUS_OUT);
    CHECK_EQ(latch_read(&f, 0), 2);
    at_tick(&f, 1 + 5000 + 999);
    CHECK_EQ(read_status(&f, 0) & PIT8254_STATUS_OUT, 0);
    CHECK_EQ(latch_read(&f, 0), 1);
    at_tick(&f, 1 + 6000);
    CHECK_EQ(read_status(&f, 0) & PIT8254_STATUS_OUT, PIT8254_STATUS_OUT);
    CHECK_EQ(latch_read(&f, 0), 1000);
    CHECK_EQ(f.rec.rises, 6);
    fix_fini(&f);
}

static void mode2_one_second_no_spin(void)
{
    struct fix f;

    fix_init(&f);
    program(&f, 0, 0x34, 1193); /* ~1 kHz, as a guest kernel would */
    timerq_advance(&f.q, 1000000000ull);
    /* edges at 1 + 1193k <= 1193182: k = 1..1000 */
    CHECK_EQ(f.rec.rises, 1000);
    CHECK_EQ(f.rec.rise_ns[999], tick_ns(1 + 1193 * 1000ull));
    /* the 6 (mode 6 = 2) alias behaves the same */
    program(&f, 0, 0x3c, 2000);
    CHECK_EQ(read_status(&f, 0) & 0x0e, 0x0c);
    f.rec.rises = 0;
    timerq_advance(&f.q, tick_ns(10 * 2000 + 3));
    CHECK_EQ(f.rec.rises, 10);
    fix_fini(&f);
}

static void mode2_new_count_at_period_end(void)
{
    struct fix f;

    fix_init(&f);
    program(&f, 0, 0x34, 1000); /* load tick 1 */
    at_tick(&f, 1 + 300);
    outb(&f, 0x40, 500 & 0xff);
    outb(&f, 0x40, 500 >> 8);
    /* null count stays set until the current period ends */
    CHECK_EQ(read_status(&f, 0) & PIT8254_STATUS_NULL, PIT8254_STATUS_NULL);
    CHECK_EQ(latch_read(&f, 0), 700); /* the current period runs on */
    at_tick(&f, 1 + 1000 + 10);
    CHECK_EQ(read_status(&f, 0) & PIT8254_STATUS_NULL, 0);
    CHECK_EQ(latch_read(&f, 0), 490);
    at_tick(&f, 1 + 1000 + 3 * 500);
    CHECK_EQ(f.rec.rises, 4);
    CHECK_EQ(f.rec.rise_ns[0], tick_ns(1 + 1000));
    CHECK_EQ(f.rec.rise_ns[1], tick_ns(1 + 1500));
    CHECK_EQ(f.rec.rise_ns[3], tick_ns(1 + 2500));
    fix_fini(&f);
}

static void mode3_square_wave(void)
{
    struct fix f;
    uint64_t w;
    unsigned i, high = 0;

    fix_init(&f);
    at_tick(&f, 100);
    outb(&f, 0x61, PIT8254_P61_GATE2 | PIT8254_P61_SPEAKER);
    program(&f, 2, 0xb6, 100); /* tick 100: loads at 101 */
    w = 101;
    for (i = 0; i < 100; i++) {
        at_tick(&f, w + i);
        high += out2(&f);
        if (i == 49)
            CHECK_EQ(out2(&f), 1);
        if (i == 50)
            CHECK_EQ(out2(&f), 0);
    }
    CHECK_EQ(high, 50);
    at_tick(&f, w + 100);
    CHECK_EQ(out2(&f), 1);
    at_tick(&f, w + 110);
    CHECK_EQ(latch_read(&f, 2), 80); /* counts down by two */
    /* an odd count is high one clock longer than low */
    program(&f, 2, 0xb6, 101);
    w = 1 + 110 + 101; /* written at tick w - 1 */
    high = 0;
    for (i = 0; i < 101; i++) {
        at_tick(&f, w + i);
        high += out2(&f);
    }
    CHECK_EQ(high, 51);
    /* channel 0 in mode 3 interrupts once per period */
    program(&f, 0, 0x36, 400);
    f.rec.rises = 0;
    at_tick(&f, w + 101 + 1 + 4 * 400);
    CHECK_EQ(f.rec.rises, 4);
    fix_fini(&f);
}

static void mode0_terminal_count(void)
{
    struct fix f;
    uint16_t a, b;

    fix_init(&f);
    at_tick(&f, 10);
    program(&f, 0, 0x30, 500); /* tick 10: loads at 11, terminal count at 511 */
    CHECK_EQ(f.rec.level, 0);
    CHECK_EQ(read_status(&f, 0), 0x30 | 0x40); /* OUT low, null count, not loaded yet */
    at_tick(&f, 11);
    CHECK_EQ(read_status(&f, 0), 0x30);
    at_tick(&f, 510);
    CHECK_EQ(f.rec.level, 0);
    CHECK_EQ(latch_read(&f, 0), 1);
    at_tick(&f, 511);
    CHECK_EQ(f.rec.rises, 1);
    CHECK_EQ(f.rec.rise_ns[0], tick_ns(511));
    CHECK_EQ(f.rec.level, 1); /* OUT stays high */
    CHECK_EQ(timerq_next_deadline(&f.q), UINT64_MAX); /* nothing more to do */
    at_tick(&f, 521);
    CHECK_EQ(latch_read(&f, 0), 65526); /* CE wraps and keeps counting */
    CHECK_EQ(f.rec.rises, 1);
    /* the first byte of a new count stops counting and drops OUT */
    outb(&f, 0x40, 0x00);
    CHECK_EQ(f.rec.level, 0);
    a = latch_read(&f, 0);
    at_tick(&f, 600);
    b = latch_read(&f, 0);
    CHECK_EQ(a, b);
    outb(&f, 0x40, 0x01); /* count 256 at tick 600: terminal count at 857 */
    at_tick(&f, 856);
    CHECK_EQ(f.rec.rises, 1);
    at_tick(&f, 857);
    CHECK_EQ(f.rec.rises, 2);
    /* a control word drops OUT at once */
    outb(&f, 0x43, 0x30);
    CHECK_EQ(f.rec.level, 0);
    fix_fini(&f);
}

static void mode4_software_strobe(void)
{
    struct fix f;

    fix_init(&f);
    program(&f, 0, 0x38, 300); /* tick 0: loads at 1 */
    at_tick(&f, 300);
    CHECK_EQ(read_status(&f, 0) & PIT8254_STATUS_OUT, PIT8254_STATUS_OUT);
    at_tick(&f, 301); /* CE reaches 0: OUT low for one clock */
    CHECK_EQ(read_status(&f, 0) & PIT8254_STATUS_OUT, 0);
    CHECK_EQ(f.rec.rises, 0);
    at_tick(&f, 302); /* ...and its rise interrupts */
    CHECK_EQ(read_status(&f, 0) & PIT8254_STATUS_OUT, PIT8254_STATUS_OUT);
    CHECK_EQ(f.rec.rises, 1);
    CHECK_EQ(f.rec.rise_ns[0], tick_ns(302));
    CHECK_EQ(f.rec.level, 0);
    CHECK_EQ(timerq_next_deadline(&f.q), UINT64_MAX);
    at_tick(&f, 100000);
    CHECK_EQ(f.rec.rises, 1); /* a one-shot: no reload */
    fix_fini(&f);
}

static void mode1_gate_triggered_one_shot(void)
{
    struct fix f;

    fix_init(&f);
    program(&f, 2, 0xb2, 200); /* gate 2 is low: waits for a trigger */
    CHECK_EQ(out2(&f), 1);
    at_tick(&f, 1000);
    CHECK_EQ(out2(&f), 1);
    CHECK_EQ(read_status(&f, 2) & PIT8254_STATUS_NULL, PIT8254_STATUS_NULL);
    outb(&f, 0x61, PIT8254_P61_GATE2); /* trigger at tick 1000: loads at 1001 */
    CHECK_EQ(out2(&f), 1);
    at_tick(&f, 1001);
    CHECK_EQ(out2(&f), 0);
    CHECK_EQ(read_status(&f, 2) & PIT8254_STATUS_NULL, 0);
    CHECK_EQ(latch_read(&f, 2), 200);
    /* a new count does not disturb the one-shot in progress */
    outb(&f, 0x42, 50);
    outb(&f, 0x42, 0);
    at_tick(&f, 1001 + 199);
    CHECK_EQ(out2(&f), 0);
    CHECK_EQ(latch_read(&f, 2), 1);
    at_tick(&f, 1001 + 200);
    CHECK_EQ(out2(&f), 1);
    /* retrigger: the new count (50) loads on the next clock */
    outb(&f, 0x61, 0);
    at_tick(&f, 2000);
    outb(&f, 0x61, PIT8254_P61_GATE2);
    at_tick(&f, 2001);
    CHECK_EQ(out2(&f), 0);
    CHECK_EQ(latch_read(&f, 2), 50);
    /* retriggering in mid-count restarts it */
    at_tick(&f, 2021);
    outb(&f, 0x61, 0);
    outb(&f, 0x61, PIT8254_P61_GATE2);
    at_tick(&f, 2022 + 49);
    CHECK_EQ(out2(&f), 0);
    at_tick(&f, 2022 + 50);
    CHECK_EQ(out2(&f), 1);
    fix_fini(&f);
}

static void mode5_hardware_strobe(void)
{
    struct fix f;

    fix_init(&f);
    program(&f, 2, 0xba, 50);
    at_tick(&f, 500);
    CHECK_EQ(out2(&f), 1);
    outb(&f, 0x61, PIT8254_P61_GATE2); /* trigger at 500: loads at 501 */
    at_tick(&f, 501 + 49);
    CHECK_EQ(out2(&f), 1);
    at_tick(&f, 501 + 50);
    CHECK_EQ(out2(&f), 0);
    at_tick(&f, 501 + 51);
    CHECK_EQ(out2(&f), 1);
    CHECK_EQ(read_status(&f, 2) & 0x0e, 0x0a);
    fix_fini(&f);
}

static void gate_stops_counting(void)
{
    struct fix f;

    fix_init(&f);
    outb(&f, 0x61, PIT8254_P61_GATE2);
    /* mode 2: gate low forces OUT high and freezes CE; rise reloads */
    program(&f, 2, 0xb4, 100); /* tick 0: loads at 1 */
    at_tick(&f, 1 + 30);
    CHECK_EQ(latch_read(&f, 2), 70);
    outb(&f, 0x61, 0);
    at_tick(&f, 1 + 99 + 1000); /* would be a CE=1 clock if it kept counting */
    CHECK_EQ(out2(&f), 1);
    CHECK_EQ(latch_read(&f, 2), 70);
    at_tick(&f, 5000);
    outb(&f, 0x61, PIT8254_P61_GATE2); /* reload at 5001 */
    at_tick(&f, 5001 + 10);
    CHECK_EQ(latch_read(&f, 2), 90);
    at_tick(&f, 5001 + 99);
    CHECK_EQ(out2(&f), 0);
    /* mode 0: gate low pauses counting; rise resumes it */
    program(&f, 2, 0xb0, 1000); /* written at 5100: loads at 5101 */
    at_tick(&f, 5101 + 100);
    outb(&f, 0x61, 0);
    CHECK_EQ(latch_read(&f, 2), 900);
    at_tick(&f, 9000);
    CHECK_EQ(latch_read(&f, 2), 900);
    CHECK_EQ(out2(&f), 0);
    outb(&f, 0x61, PIT8254_P61_GATE2);
    at_tick(&f, 9000 + 899);
    CHECK_EQ(latch_read(&f, 2), 1);
    CHECK_EQ(out2(&f), 0);
    at_tick(&f, 9000 + 900);
    CHECK_EQ(out2(&f), 1);
    /* mode 3: gate low holds OUT high */
    program(&f, 2, 0xb6, 10);
    outb(&f, 0x61, 0);
    at_tick(&f, 20000);
    CHECK_EQ(out2(&f), 1);
    /* channel 0 obeys pit8254_set_gate too: no interrupts while low */
    program(&f, 0, 0x34, 100);
    f.rec.rises = 0;
    pit8254_set_gate(f.pit, 0, 0);
    CHECK_EQ(timerq_next_deadline(&f.q), UINT64_MAX);
    at_tick(&f, 30000);
    CHECK_EQ(f.rec.rises, 0);
    pit8254_set_gate(f.pit, 0, 1);
    at_tick(&f, 30001 + 100);
    CHECK_EQ(f.rec.rises, 1);
    fix_fini(&f);
}

static void access_modes(void)
{
    struct fix f;

    fix_init(&f);
    /* lsb only: the count's msb is 0, reads return the lsb */
    outb(&f, 0x43, 0x54); /* channel 1, lsb, mode 2 */
    outb(&f, 0x41, 0x80); /* count 128 at tick 0 */
    at_tick(&f, 1 + 28);
    CHECK_EQ(inb(&f, 0x41), 100);
    CHECK_EQ(inb(&f, 0x41), 100); /* no byte toggle */
    CHECK_EQ(read_status(&f, 1), 0x80 | 0x10 | 0x04);
    /* msb only: the count's lsb is 0, reads return the msb */
    outb(&f, 0x43, 0x64); /* channel 1, msb, mode 2 */
    outb(&f, 0x41, 0x02); /* count 512 at tick 29: loads at 30 */
    at_tick(&f, 30 + 100);
    CHECK_EQ(inb(&f, 0x41), 412 >> 8);
    at_tick(&f, 30 + 300);
    CHECK_EQ(inb(&f, 0x41), 212 >> 8);
    /* lsb then msb without latching: consecutive reads give lsb, msb */
    outb(&f, 0x43, 0x74); /* channel 1, lsb-msb, mode 2, at tick 330 */
    outb(&f, 0x41, 0x34);
    outb(&f, 0x41, 0x12); /* loads at 331; until then CE holds 212 */
    CHECK_EQ(inb(&f, 0x41), 212);
    CHECK_EQ(inb(&f, 0x41), 0);
    at_tick(&f, 1000);
    CHECK_EQ(inb(&f, 0x41), (0x1234 - (1000 - 331)) & 0xff);
    CHECK_EQ(inb(&f, 0x41), (0x1234 - (1000 - 331)) >> 8);
    fix_fini(&f);
}

static void counter_latch(void)
{
    struct fix f;

    fix_init(&f);
    program(&f, 0, 0x34, 1000);
    at_tick(&f, 1 + 100);
    outb(&f, 0x43, 0x00); /* latch channel 0 */
    at_tick(&f, 1 + 200);
    outb(&f, 0x43, 0x00); /* ignored: the first latch is unread */
    CHECK_EQ(inb(&f, 0x40), 900 & 0xff);
    at_tick(&f, 1 + 250);
    CHECK_EQ(inb(&f, 0x40), 900 >> 8); /* still the latched value */
    at_tick(&f, 1 + 300);
    CHECK_EQ(latch_read(&f, 0), 700); /* released: a new latch works */
    /* a control word discards a latched count */
    outb(&f, 0x43, 0x00);
    program(&f, 0, 0x34, 5000);
    at_tick(&f, 1 + 300 + 1 + 10);
    CHECK_EQ(inb(&f, 0x40), (4990 & 0xff));
    CHECK_EQ(inb(&f, 0x40), (4990 >> 8));
    fix_fini(&f);
}

static void read_back(void)
{
    struct fix f;

    fix_init(&f);
    outb(&f, 0x43, 0x34);
    /* control word written, no count: OUT high (mode 2), null count */
    CHECK_EQ(read_status(&f, 0), 0x80 | 0x40 | 0x30 | 0x04);
    outb(&f, 0x40, 0xe8);
    outb(&f, 0x40, 0x03); /* 1000 at tick 0 */
    CHECK_EQ(read_status(&f, 0), 0x80 | 0x40 | 0x34);
    at_tick(&f, 1);
    CHECK_EQ(read_status(&f, 0), 0x80 | 0x34);
    /* count and status: status first, then the count's two bytes */
    at_tick(&f, 1 + 10);
    outb(&f, 0x43, 0xc2);
    CHECK_EQ(inb(&f, 0x40), 0xb4);
    CHECK_EQ(inb(&f, 0x40), 990 & 0xff);
    CHECK_EQ(inb(&f, 0x40), 990 >> 8);
    /* a second status latch before the read is ignored */
    outb(&f, 0x43, 0xe2);
    at_tick(&f, 1 + 999);
    outb(&f, 0x43, 0xe2);
    CHECK_EQ(inb(&f, 0x40), 0xb4); /* OUT as at the first latch */
    CHECK_EQ(read_status(&f, 0), 0x34);
    /* several channels in one command; BCD shows in the status */
    outb(&f, 0x43, 0x71); /* channel 1: lsb-msb, mode 0, BCD */
    outb(&f, 0x41, 0x34);
    outb(&f, 0x41, 0x12);
    outb(&f, 0x43, 0xce); /* latch count and status of 0, 1 and 2 */
    CHECK_EQ(inb(&f, 0x40), 0x34);
    CHECK_EQ(inb(&f, 0x41), 0x40 | 0x31); /* OUT low, null count, BCD */
    CHECK_EQ(inb(&f, 0x42), 0x80 | 0x36); /* reset state: loaded, held by gate 2 */
    CHECK_EQ(inb(&f, 0x40), 1);
    CHECK_EQ(inb(&f, 0x40), 0);
    fix_fini(&f);
}

static void bcd_counting(void)
{
    struct fix f;

    fix_init(&f);
    program(&f, 1, 0x71, 0x1000); /* BCD 1000 at tick 0 */
    at_tick(&f, 1 + 5);
    CHECK_EQ(latch_read(&f, 1), 0x0995);
    program(&f, 1, 0x71, 0x0005); /* BCD 5 at tick 6: wraps through 0 to 9999 */
    at_tick(&f, 7 + 9);
    CHECK_EQ(latch_read(&f, 1), 0x9996);
    CHECK_EQ(read_status(&f, 1) & PIT8254_STATUS_OUT, PIT8254_STATUS_OUT);
    program(&f, 1, 0x71, 0x0000); /* 0 is 10000 in BCD */
    at_tick(&f, 17 + 1);
    CHECK_EQ(latch_read(&f, 1), 0x9999);
    /* periodic BCD: count 0x0100 is 100 clocks */
    program(&f, 0, 0x35, 0x0100);
    f.rec.rises = 0;
    at_tick(&f, 19 + 5 * 100);
    CHECK_EQ(f.rec.rises, 5);
    CHECK_EQ(f.rec.rise_ns[0], tick_ns(119));
    at_tick(&f, 19 + 5 * 100 + 37);
    CHECK_EQ(latch_read(&f, 0), 0x0063);
    fix_fini(&f);
}

static void speaker_port(void)
{
    struct fix f;
    uint8_t v;

    fix_init(&f);
    CHECK_EQ(inb(&f, 0x61) & PIT8254_P61_REFRESH, 0);
    timerq_advance(&f.q, PIT8254_REFRESH_NS);
    CHECK_EQ(inb(&f, 0x61) & PIT8254_P61_REFRESH, PIT8254_P61_REFRESH);
    timerq_advance(&f.q, PIT8254_REFRESH_NS);
    CHECK_EQ(inb(&f, 0x61) & PIT8254_P61_REFRESH, 0);
    outb(&f, 0x61, 0x0f); /* gate, speaker, and bits 2-3 read back */
    v = inb(&f, 0x61);
    CHECK_EQ(v & 0x0f, 0x0f);
    CHECK_EQ(v & 0xc0, 0);
    outb(&f, 0x61, 0x02);
    CHECK_EQ(inb(&f, 0x61) & 0x0f, 0x02);
    /* control port reads float */
    CHECK_EQ(inb(&f, 0x43), 0xff);
    fix_fini(&f);
}

static void post_load_resumes(void)
{
    struct fix f;
    struct pit8254 *b;
    struct irqrec rec2 = {0};
    struct irq_line line;

    fix_init(&f);
    program(&f, 0, 0x34, 1000);
    at_tick(&f, 1 + 2500);
    CHECK_EQ(f.rec.rises, 2);
    /* a second instance takes over the state, as a migration would */
    rec2.q = &f.q;
    line = (struct irq_line){irqrec_set, &rec2, 0};
    CHECK_EQ(pit8254_create(&b, &f.q, &line), 0);
    b->s = f.pit->s;
    pit8254_destroy(f.pit);
    f.pit = b;
    pit8254_post_load(b);
    CHECK_EQ(timerq_next_deadline(&f.q), tick_ns(1 + 3000));
    at_tick(&f, 1 + 4000);
    CHECK_EQ(rec2.rises, 2);
    CHECK_EQ(rec2.rise_ns[0], tick_ns(1 + 3000));
    CHECK_EQ(rec2.rise_ns[1], tick_ns(1 + 4000));
    CHECK_EQ(f.rec.rises, 2);
    fix_fini(&f);
}

static const struct test_case tests[] = {
    TEST(reset_state),
    TEST(mode2_periodic_irq),
    TEST(mode2_one_second_no_spin),
    TEST(mode2_new_count_at_period_end),
    TEST(mode3_square_wave),
    TEST(mode0_terminal_count),
    TEST(mode4_software_strobe),
    TEST(mode1_gate_triggered_one_shot),
    TEST(mode5_hardware_strobe),
    TEST(gate_stops_counting),
    TEST(access_modes),
    TEST(counter_latch),
    TEST(read_back),
    TEST(bcd_counting),
    TEST(speaker_port),
    TEST(post_load_resumes),
};
TEST_MAIN("pit8254", tests)
