/* The vmstate tables of the platform devices and the vCPU (dev/ headers,
 * core/cpu_state_vms.h): every table's shape and coverage, then the
 * devices other than the LAPIC and IOAPIC (those and the vCPU are in
 * test_vms_apic_cpu.c; corrupted streams at random in test_vms_mutate.c).
 * Each device is driven through its bus ops into a non-trivial state on a
 * manual clock, saved, and loaded into a fresh device created the same way
 * on its own clock at the same virtual time.
 * Then (a) the two state structs are equal, (b) saving the loaded device
 * gives a byte-identical section, and (c) both go on to behave the same.
 * post_load rejects values the device could never hold, naming them. */
#include <stdlib.h>

#include "core/cpu_state.h"
#include "core/cpu_state_vms.h"
#include "dev/debugexit.h"
#include "dev/fwcfg.h"
#include "dev/i8042.h"
#include "dev/ioapic.h"
#include "dev/lapic.h"
#include "dev/pic8259.h"
#include "dev/pit8254.h"
#include "dev/post.h"
#include "dev/rtc.h"
#include "dev/uart16550.h"
#include "migrate/vmstate.h"
#include "test.h"
#include "vms_test.h"

/* ---- every table ---- */

struct table {
    const struct vms_desc *d;
    size_t state_size;
    size_t uncovered; /* padding and reserved bytes, which are not state */
};

static const struct table tables[] = {
    {&uart16550_vms, sizeof(struct uart16550_state), 0},
    {&pit8254_vms, sizeof(struct pit8254_state), 3 * 7 + 6},
    {&pic8259_vms, sizeof(struct pic8259_state), 0},
    {&rtc_vms, sizeof(struct rtc_state), 5},
    {&lapic_vms, sizeof(struct lapic_state), 4 + 3 /* reserved[3] */},
    {&ioapic_vms, sizeof(struct ioapic_state), 4 /* reserved */},
    {&i8042_vms, sizeof(struct i8042_state), 0},
    {&debugexit_vms, sizeof(struct debugexit_state), 3},
    {&post_vms, sizeof(struct post_state), 0},
    {&fwcfg_vms, sizeof(struct fwcfg_state), 2},
    /* 8 segments x 1, 2 dtables x 6, events 1, FXSAVE reserved1 + reserved2 */
    {&x86_cpu_vms, sizeof(struct x86_cpu_state), 8 + 12 + 1 + 1 + 96},
};

static size_t field_bytes(const struct vms_field *f)
{
    switch (f->type) {
    case VMS_T_U8:
    case VMS_T_BOOL:
        return 1;
    case VMS_T_U16:
        return 2;
    case VMS_T_U32:
        return 4;
    case VMS_T_U64:
    case VMS_T_I64:
        return 8;
    case VMS_T_BYTES:
        return f->count;
    case VMS_T_U32_ARRAY:
        return 4 * f->count;
    case VMS_T_U64_ARRAY:
        return 8 * f->count;
    }
    return 0;
}

/* Version 1, ids 1..n, snake_case names, well formed (vmstate_check_desc). */
static void tables_well_formed(void)
{
    for (size_t t = 0; t < VMS_ARRAY_SIZE(tables); t++) {
        const struct vms_desc *d = tables[t].d;
        CHECK_EQ(vmstate_check_desc(d), 0);
        CHECK_EQ(d->version, 1);
        CHECK_EQ(d->min_version, 1);
        CHECK(d->post_load != NULL);
        CHECK_EQ(d->nsubs, 0);
        for (unsigned i = 0; i < d->nfields; i++) {
            const struct vms_field *f = &d->fields[i];
            CHECK_EQ(f->id, i + 1);
            CHECK_EQ(f->since, 1);
            for (const char *c = f->name; *c; c++) {
                if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) {
                    printf("  %s: field name '%s' is not snake_case\n", d->name, f->name);
                    CHECK(0);
                    break;
                }
            }
        }
    }
}

/* No state left behind: the fields tile the state struct without overlap,
 * and only the known padding and reserved bytes stay uncovered. A random
 * state (every byte non-zero) loaded with post_load off into a zeroed one
 * copies every covered byte. */
static void tables_cover_state(void)
{
    for (size_t t = 0; t < VMS_ARRAY_SIZE(tables); t++) {
        const struct vms_desc *d = tables[t].d;
        size_t n = tables[t].state_size, covered = 0, copied = 0;
        unsigned char *map = calloc(n, 1), *src = malloc(n), *dst = calloc(n, 1);
        struct vms_desc raw = *d;
        struct membuf mb;

        for (unsigned i = 0; i < d->nfields; i++) {
            const struct vms_field *f = &d->fields[i];
            size_t len = field_bytes(f);
            CHECK(f->offset + len <= n);
            for (size_t b = f->offset; b < f->offset + len && b < n; b++) {
                if (map[b]) {
                    printf("  %s: field '%s' overlaps another at byte %zu\n", d->name, f->name,
                           b);
                    CHECK(0);
                }
                map[b] = 1;
            }
        }
        for (size_t b = 0; b < n; b++)
            covered += map[b];
        if (n - covered != tables[t].uncovered)
            printf("  %s: %zu of %zu bytes uncovered, expected %zu\n", d->name, n - covered, n,
                   tables[t].uncovered);
        CHECK_EQ(n - covered, tables[t].uncovered);

        for (size_t b = 0; b < n; b++)
            src[b] = (unsigned char)(b * 37 + 11) | 1;
        raw.post_load = NULL;
        save(&raw, STREAM_SEC_DEVICE, 0, src, &mb);
        CHECK_EQ(load(&raw, &mb, dst, NULL), 0);
        for (size_t b = 0; b < n; b++) {
            if (map[b])
                CHECK_EQ(dst[b], src[b]);
            else
                CHECK_EQ(dst[b], 0);
            copied += dst[b] != 0;
        }
        CHECK_EQ(copied, covered);
        membuf_free(&mb);
        free(map);
        free(src);
        free(dst);
    }
}

/* stream-dump prints the field names of the tables. */
static void dump_names_fields(void)
{
    struct timerq q;
    struct pit8254 *p;
    struct membuf mb;
    struct channel ch;
    struct stream_reader r;
    struct stream_section sec;
    static struct test_text out;

    timerq_init(&q, NULL);
    CHECK_EQ(pit8254_create(&p, &q, NULL), 0);
    save(&pit8254_vms, STREAM_SEC_DEVICE, 0, &p->s, &mb);
    membuf_channel(&ch, &mb);
    stream_reader_init(&r, &ch);
    CHECK_EQ(stream_get_section(&r, &sec), 0);
    memset(&out, 0, sizeof(out));
    CHECK_EQ(vmstate_dump(&r, &pit8254_vms, sec.length, test_text_add, &out, 2), 0);
    CHECK(strstr(out.buf, "  ch0_mode = 0x3") != NULL);
    CHECK(strstr(out.buf, "  ch2_gate = 0x0") != NULL);
    CHECK(strstr(out.buf, "  irq_deadline_ns = ") != NULL);
    CHECK(strstr(out.buf, "field ") == NULL); /* every field has its name */
    membuf_free(&mb);
    pit8254_destroy(p);
}

/* ---- UART ---- */

static void uart_roundtrip(void)
{
    struct timerq q1, q2;
    struct irqrec r1, r2;
    struct irq_line l1 = irqrec_line(&r1, &q1), l2 = irqrec_line(&r2, &q2);
    struct uart16550 *a, *b;
    const struct bus_ops *ops = &uart16550_ops;
    static const uint8_t first[] = "0123456789abcdef", more[] = "WXYZ";
    char ra[32] = {0}, rb[32] = {0};

    timerq_init(&q1, NULL);
    timerq_init(&q2, NULL);
    timerq_set_manual(&q1, 5000000);
    timerq_set_manual(&q2, 5000000);
    CHECK_EQ(uart16550_create(&a, NULL, &l1, &q1), 0);
    CHECK_EQ(uart16550_create(&b, NULL, &l2, &q2), 0);

    /* 115200 8N1, FIFOs on with trigger level 14, every interrupt enabled */
    wr(ops, a, UART16550_LCR, 0x83, 1);
    wr(ops, a, UART16550_DLL, 0x01, 1);
    wr(ops, a, UART16550_DLM, 0x00, 1);
    wr(ops, a, UART16550_LCR, 0x03, 1);
    wr(ops, a, UART16550_FCR, 0xc7, 1);
    wr(ops, a, UART16550_MCR, UART16550_MCR_DTR | UART16550_MCR_RTS | UART16550_MCR_OUT2, 1);
    wr(ops, a, UART16550_IER, 0x0f, 1);
    wr(ops, a, UART16550_SCR, 0x5a, 1);
    /* 16 bytes in, 5 read, 4 more: the FIFO wraps around its end */
    CHECK_EQ(uart16550_receive(a, first, 16), 16);
    for (unsigned i = 0; i < 5; i++)
        CHECK_EQ(rd(ops, a, UART16550_RBR, 1), first[i]);
    CHECK_EQ(uart16550_receive(a, more, 4), 4);
    uart16550_set_modem_status(a, UART16550_MSR_CTS | UART16550_MSR_DSR); /* DCD drops */
    timerq_advance(&q1, 10000);
    timerq_set_manual(&q2, timerq_now(&q1));
    CHECK_EQ(a->s.rx_count, 15);
    CHECK_EQ(a->s.rx_head, 5);
    CHECK_EQ(a->s.timeout_armed, 1);
    CHECK_EQ(r1.level, 1);

    roundtrip(&uart16550_vms, STREAM_SEC_DEVICE, 0, &a->s, &b->s, b, sizeof(a->s));
    CHECK_EQ(r2.level, 1); /* post_load drove the line */
    CHECK_EQ(timerq_next_deadline(&q2), timerq_next_deadline(&q1));

    /* the character timeout fires on both, at the same time */
    both_advance(&q1, &q2, 1000000);
    CHECK(memcmp(&a->s, &b->s, sizeof(a->s)) == 0);
    CHECK_EQ(rd(ops, b, UART16550_IIR, 1), UART16550_IIR_FIFO | UART16550_IIR_CTI);
    CHECK_EQ(rd(ops, a, UART16550_IIR, 1), rd(ops, b, UART16550_IIR, 1));
    CHECK_EQ(rd(ops, a, UART16550_MSR, 1), rd(ops, b, UART16550_MSR, 1));
    CHECK_EQ(rd(ops, a, UART16550_LSR, 1), rd(ops, b, UART16550_LSR, 1));
    CHECK_EQ(rd(ops, a, UART16550_SCR, 1), rd(ops, b, UART16550_SCR, 1));
    for (unsigned i = 0; i < 15; i++) {
        ra[i] = (char)rd(ops, a, UART16550_RBR, 1);
        rb[i] = (char)rd(ops, b, UART16550_RBR, 1);
    }
    CHECK_STR(ra, "56789abcdefWXYZ");
    CHECK_STR(rb, "56789abcdefWXYZ");
    CHECK_EQ(r1.level, r2.level);
    CHECK(memcmp(&a->s, &b->s, sizeof(a->s)) == 0);
    uart16550_destroy(a);
    uart16550_destroy(b);
}

static void uart_rejects(void)
{
    struct timerq q;
    struct uart16550 *a, *b;
    struct uart16550_state bad;

    timerq_init(&q, NULL);
    CHECK_EQ(uart16550_create(&a, NULL, NULL, &q), 0);
    CHECK_EQ(uart16550_create(&b, NULL, NULL, &q), 0);
    wr(&uart16550_ops, a, UART16550_FCR, 0x01, 1);
    bad = a->s;
    bad.rx_count = 200;
    expect_reject(&uart16550_vms, &bad, &b->s, b, "uart16550", "rx_count 200");
    bad = a->s;
    bad.rx_head = 16;
    expect_reject(&uart16550_vms, &bad, &b->s, b, "uart16550", "rx_head 16");
    bad = a->s;
    bad.fcr = 0x00;
    bad.rx_count = 2;
    expect_reject(&uart16550_vms, &bad, &b->s, b, "uart16550", "rx_count 2");
    bad = a->s;
    bad.fcr = 0x31;
    expect_reject(&uart16550_vms, &bad, &b->s, b, "uart16550", "fcr 0x31");
    bad = a->s;
    bad.timeout_armed = 7;
    expect_reject(&uart16550_vms, &bad, &b->s, b, "uart16550", "timeout_armed 7");
    bad = a->s;
    bad.ier = 0xf0;
    expect_reject(&uart16550_vms, &bad, &b->s, b, "uart16550", "ier");
    uart16550_destroy(a);
    uart16550_destroy(b);
}

/* ---- PIT ---- */

static uint64_t pit_tick_ns(uint64_t tick)
{
    uint64_t q = tick / 1193182, r = tick % 1193182;
    return q * 1000000000ull + (r * 1000000000ull + 1193181) / 1193182;
}

static void pit_out(struct pit8254 *p, uint16_t port, uint8_t v)
{
    if (port == PIT8254_SPEAKER_PORT)
        wr(&pit8254_speaker_ops, p, 0, v, 1);
    else
        wr(&pit8254_ops, p, port - PIT8254_BASE, v, 1);
}

static uint8_t pit_in(struct pit8254 *p, uint16_t port)
{
    if (port == PIT8254_SPEAKER_PORT)
        return (uint8_t)rd(&pit8254_speaker_ops, p, 0, 1);
    return (uint8_t)rd(&pit8254_ops, p, port - PIT8254_BASE, 1);
}

static uint16_t pit_latch_read(struct pit8254 *p, unsigned ch)
{
    uint16_t v;
    pit_out(p, 0x43, (uint8_t)(ch << 6));
    v = pit_in(p, (uint16_t)(0x40 + ch));
    return (uint16_t)(v | pit_in(p, (uint16_t)(0x40 + ch)) << 8);
}

static void pit_roundtrip(void)
{
    struct timerq q1, q2;
    struct irqrec r1, r2;
    struct irq_line l1 = irqrec_line(&r1, &q1), l2 = irqrec_line(&r2, &q2);
    struct pit8254 *a, *b;

    timerq_init(&q1, NULL);
    timerq_init(&q2, NULL);
    timerq_set_manual(&q1, pit_tick_ns(100));
    timerq_set_manual(&q2, pit_tick_ns(100));
    CHECK_EQ(pit8254_create(&a, &q1, &l1), 0);
    CHECK_EQ(pit8254_create(&b, &q2, &l2), 0);

    /* ch0: mode 2, count 1000, loads at tick 101 */
    pit_out(a, 0x43, 0x34);
    pit_out(a, 0x40, 1000 & 0xff);
    pit_out(a, 0x40, 1000 >> 8);
    /* ch1: mode 0, count 5000 */
    pit_out(a, 0x43, 0x70);
    pit_out(a, 0x41, 5000 & 0xff);
    pit_out(a, 0x41, 5000 >> 8);
    /* ch2: gate on, speaker on, mode 3, count 300 */
    pit_out(a, 0x61, PIT8254_P61_GATE2 | PIT8254_P61_SPEAKER);
    pit_out(a, 0x43, 0xb6);
    pit_out(a, 0x42, 300 & 0xff);
    pit_out(a, 0x42, 300 >> 8);
    /* mid-count in ch0's third period: a new count waits for its end */
    timerq_advance(&q1, pit_tick_ns(101 + 2500) - timerq_now(&q1));
    CHECK_EQ(r1.rises, 2);
    pit_out(a, 0x40, 700 & 0xff);
    pit_out(a, 0x40, 700 >> 8);
    CHECK_EQ(a->s.ch[0].pending, 1);
    /* ch1: a latched count half read; ch2: a latched status */
    pit_out(a, 0x43, 0x40);
    (void)pit_in(a, 0x41);
    CHECK_EQ(a->s.ch[1].count_latched, 2);
    pit_out(a, 0x43, 0xe8);
    CHECK_EQ(a->s.ch[2].status_latched, 1);
    timerq_set_manual(&q2, timerq_now(&q1));

    roundtrip(&pit8254_vms, STREAM_SEC_DEVICE, 0, &a->s, &b->s, b, sizeof(a->s));
    CHECK_EQ(timerq_next_deadline(&q2), timerq_next_deadline(&q1));
    CHECK_EQ(timerq_next_deadline(&q2), pit_tick_ns(101 + 3000));

    /* the latches read the same, then the periods run on alike */
    CHECK_EQ(pit_in(a, 0x41), pit_in(b, 0x41));
    CHECK_EQ(pit_in(a, 0x42), pit_in(b, 0x42));
    CHECK_EQ(pit_in(a, 0x61), pit_in(b, 0x61));
    both_advance(&q1, &q2, pit_tick_ns(101 + 3000 + 3 * 700) - timerq_now(&q1));
    CHECK_EQ(r1.rises, 2 + 4);
    CHECK_EQ(r2.rises, 4);
    for (unsigned i = 0; i < 4; i++)
        CHECK_EQ(r2.rise_ns[i], r1.rise_ns[2 + i]);
    CHECK_EQ(r2.rise_ns[0], pit_tick_ns(101 + 3000));
    CHECK_EQ(r2.rise_ns[3], pit_tick_ns(101 + 3000 + 3 * 700));
    both_advance(&q1, &q2, pit_tick_ns(123));
    CHECK_EQ(pit_latch_read(a, 0), pit_latch_read(b, 0));
    CHECK_EQ(pit_latch_read(a, 1), pit_latch_read(b, 1));
    CHECK_EQ(pit_latch_read(a, 2), pit_latch_read(b, 2));
    CHECK_EQ(pit_in(a, 0x61), pit_in(b, 0x61));
    CHECK(memcmp(&a->s, &b->s, sizeof(a->s)) == 0);
    pit8254_destroy(a);
    pit8254_destroy(b);
}

static void pit_rejects(void)
{
    struct timerq q;
    struct pit8254 *a, *b;
    struct pit8254_state bad;

    timerq_init(&q, NULL);
    CHECK_EQ(pit8254_create(&a, &q, NULL), 0);
    CHECK_EQ(pit8254_create(&b, &q, NULL), 0);
    bad = a->s;
    bad.ch[1].mode = 9;
    expect_reject(&pit8254_vms, &bad, &b->s, b, "pit8254", "channel 1 mode 9 is invalid");
    bad = a->s;
    bad.ch[0].count = 0; /* would divide by zero */
    expect_reject(&pit8254_vms, &bad, &b->s, b, "pit8254", "channel 0 count 0");
    bad = a->s;
    bad.ch[2].cr = 65537;
    expect_reject(&pit8254_vms, &bad, &b->s, b, "pit8254", "channel 2 cr 65537");
    bad = a->s;
    bad.ch[2].rw_mode = 0;
    expect_reject(&pit8254_vms, &bad, &b->s, b, "pit8254", "channel 2 rw_mode 0");
    bad = a->s;
    bad.ch[0].phase = 4;
    expect_reject(&pit8254_vms, &bad, &b->s, b, "pit8254", "channel 0 phase 4");
    bad = a->s;
    bad.ch[1].count_latched = 4;
    expect_reject(&pit8254_vms, &bad, &b->s, b, "pit8254", "count_latched 4");
    bad = a->s;
    bad.port61 = 0xff;
    expect_reject(&pit8254_vms, &bad, &b->s, b, "pit8254", "port61");
    pit8254_destroy(a);
    pit8254_destroy(b);
}

/* ---- PIC ---- */

static void pic_out(struct pic8259 *p, uint16_t port, uint8_t v)
{
    if (port >= PIC8259_ELCR_BASE)
        wr(&pic8259_elcr_ops, p, port - PIC8259_ELCR_BASE, v, 1);
    else if (port >= PIC8259_SLAVE_BASE)
        wr(&pic8259_slave_ops, p, port - PIC8259_SLAVE_BASE, v, 1);
    else
        wr(&pic8259_master_ops, p, port - PIC8259_MASTER_BASE, v, 1);
}

static uint8_t pic_in(struct pic8259 *p, uint16_t port)
{
    if (port >= PIC8259_SLAVE_BASE)
        return (uint8_t)rd(&pic8259_slave_ops, p, port - PIC8259_SLAVE_BASE, 1);
    return (uint8_t)rd(&pic8259_master_ops, p, port - PIC8259_MASTER_BASE, 1);
}

static void pic_roundtrip(void)
{
    struct irqrec r1, r2;
    struct irq_line l1 = irqrec_line(&r1, NULL), l2 = irqrec_line(&r2, NULL);
    struct pic8259 *a, *b;

    CHECK_EQ(pic8259_create(&a, &l1), 0);
    CHECK_EQ(pic8259_create(&b, &l2), 0);
    /* ICW1-4 as a PC BIOS: vectors 0x20 and 0x28, cascade on IR2 */
    pic_out(a, 0x20, 0x11);
    pic_out(a, 0x21, 0x20);
    pic_out(a, 0x21, 0x04);
    pic_out(a, 0x21, 0x01);
    pic_out(a, 0xa0, 0x11);
    pic_out(a, 0xa1, 0x28);
    pic_out(a, 0xa1, 0x02);
    pic_out(a, 0xa1, 0x01);
    pic_out(a, 0x21, 0xb8); /* masked: IR3, 4, 5, 7 */
    pic_out(a, 0xa1, 0xf0); /* masked: IRQ 12-15 */
    pic_out(a, 0x4d1, 0x06); /* IRQ 9 and 10 level triggered */
    /* IRQ 0 taken and in service; IRQ 1 and 9 (level, held) wait below it;
     * IRQ 4 masked */
    pic8259_set_irq(a, 0, 1);
    CHECK_EQ(r1.level, 1);
    CHECK_EQ(pic8259_ack(a), 0x20);
    pic8259_set_irq(a, 0, 0);
    pic8259_set_irq(a, 1, 1);
    pic8259_set_irq(a, 9, 1);
    pic8259_set_irq(a, 4, 1);
    pic_out(a, 0x20, 0x0b); /* OCW3: reads give ISR */
    CHECK_EQ(r1.level, 0);
    CHECK_EQ(a->s.chip[0].isr, 0x01);
    CHECK_EQ(a->s.chip[0].irr, 0x16);
    CHECK_EQ(a->s.chip[1].irr, 0x02);

    roundtrip(&pic8259_vms, STREAM_SEC_DEVICE, 0, &a->s, &b->s, b, sizeof(a->s));
    CHECK_EQ(r2.level, r1.level);
    CHECK_EQ(pic_in(a, 0x20), pic_in(b, 0x20));
    CHECK_EQ(pic_in(a, 0x21), pic_in(b, 0x21));
    CHECK_EQ(pic_in(a, 0xa1), pic_in(b, 0xa1));
    /* EOI: IRQ 1 then the slave's IRQ 9 come out of both, in order */
    pic_out(a, 0x20, 0x20);
    pic_out(b, 0x20, 0x20);
    CHECK_EQ(r1.level, 1);
    CHECK_EQ(r2.level, 1);
    CHECK_EQ(pic8259_ack(a), 0x21);
    CHECK_EQ(pic8259_ack(b), 0x21);
    pic_out(a, 0x20, 0x20);
    pic_out(b, 0x20, 0x20);
    CHECK_EQ(pic8259_ack(a), 0x29);
    CHECK_EQ(pic8259_ack(b), 0x29);
    pic_out(a, 0x21, 0xa8); /* unmask IRQ 4 */
    pic_out(b, 0x21, 0xa8);
    CHECK_EQ(pic8259_has_interrupt(a), pic8259_has_interrupt(b));
    CHECK(memcmp(&a->s, &b->s, sizeof(a->s)) == 0);
    pic8259_destroy(a);
    pic8259_destroy(b);
}

static void pic_rejects(void)
{
    struct pic8259 *a, *b;
    struct pic8259_state bad;

    CHECK_EQ(pic8259_create(&a, NULL), 0);
    CHECK_EQ(pic8259_create(&b, NULL), 0);
    bad = a->s;
    bad.chip[1].init_state = 7;
    expect_reject(&pic8259_vms, &bad, &b->s, b, "pic8259", "slave init_state 7");
    bad = a->s;
    bad.chip[0].priority_add = 8;
    expect_reject(&pic8259_vms, &bad, &b->s, b, "pic8259", "master priority_add 8");
    bad = a->s;
    bad.chip[0].irq_base = 0x21;
    expect_reject(&pic8259_vms, &bad, &b->s, b, "pic8259", "irq_base 0x21");
    bad = a->s;
    bad.chip[0].elcr = 0x01; /* IRQ 0 is always edge */
    expect_reject(&pic8259_vms, &bad, &b->s, b, "pic8259", "master elcr");
    bad = a->s;
    bad.chip[1].poll = 2;
    expect_reject(&pic8259_vms, &bad, &b->s, b, "pic8259", "slave poll 2");
    pic8259_destroy(a);
    pic8259_destroy(b);
}

/* ---- RTC ---- */

static void rtc_out(struct rtc *r, uint16_t port, uint8_t v)
{
    wr(&rtc_ops, r, port - RTC_BASE, v, 1);
}

static uint8_t rtc_in(struct rtc *r, uint8_t index)
{
    rtc_out(r, 0x70, index);
    return (uint8_t)rd(&rtc_ops, r, 1, 1);
}

#define RTC_T0 1700000000ll /* 2023-11-14 22:13:20 UTC */

static void rtc_roundtrip(void)
{
    struct timerq q1, q2;
    struct irqrec r1, r2;
    struct irq_line l1 = irqrec_line(&r1, &q1), l2 = irqrec_line(&r2, &q2);
    struct rtc *a, *b;

    timerq_init(&q1, NULL);
    timerq_init(&q2, NULL);
    CHECK_EQ(rtc_create(&a, &q1, &l1, RTC_T0), 0);
    CHECK_EQ(rtc_create(&b, &q2, &l2, RTC_T0), 0);
    timerq_advance(&q1, 250000000);
    /* alarm at hh:mm:23 (BCD), any hour and minute; AIE on */
    rtc_out(a, 0x70, RTC_SECONDS_ALARM);
    rtc_out(a, 0x71, 0x23);
    rtc_out(a, 0x70, RTC_MINUTES_ALARM);
    rtc_out(a, 0x71, RTC_ALARM_DONT_CARE);
    rtc_out(a, 0x70, RTC_HOURS_ALARM);
    rtc_out(a, 0x71, RTC_ALARM_DONT_CARE);
    rtc_out(a, 0x70, RTC_REG_B);
    rtc_out(a, 0x71, RTC_B_24H | RTC_B_AIE);
    rtc_out(a, 0x70, 0x40); /* CMOS RAM */
    rtc_out(a, 0x71, 0x5a);
    rtc_out(a, 0x70, 0x80 | RTC_REG_C); /* NMI masked, C selected */
    CHECK_EQ(a->s.alarm_ns, 3000000000ull);
    CHECK_EQ(timerq_next_deadline(&q1), 3000000000ull);
    timerq_set_manual(&q2, timerq_now(&q1));

    roundtrip(&rtc_vms, STREAM_SEC_DEVICE, 0, &a->s, &b->s, b, sizeof(a->s));
    CHECK_EQ(timerq_next_deadline(&q2), 3000000000ull);
    CHECK(rtc_nmi_masked(b));
    CHECK_EQ(rtc_time(b), rtc_time(a));

    both_advance(&q1, &q2, 3000000000ull - 250000000);
    CHECK_EQ(r1.rises, 1);
    CHECK_EQ(r2.rises, 1);
    CHECK_EQ(r2.rise_ns[0], 3000000000ull);
    CHECK_EQ(r2.rise_ns[0], r1.rise_ns[0]);
    /* C was selected: the alarm, and the update and periodic flags found on reading */
    CHECK_EQ((uint8_t)rd(&rtc_ops, a, 1, 1), RTC_C_IRQF | RTC_C_PF | RTC_C_AF | RTC_C_UF);
    CHECK_EQ((uint8_t)rd(&rtc_ops, b, 1, 1), RTC_C_IRQF | RTC_C_PF | RTC_C_AF | RTC_C_UF);
    CHECK_EQ(r1.level, 0);
    CHECK_EQ(r2.level, 0);
    CHECK_EQ(rtc_in(a, RTC_SECONDS), 0x23);
    CHECK_EQ(rtc_in(b, RTC_SECONDS), 0x23);
    CHECK_EQ(rtc_in(a, 0x40), 0x5a);
    CHECK_EQ(rtc_in(b, 0x40), 0x5a);
    CHECK_EQ(timerq_next_deadline(&q1), timerq_next_deadline(&q2));
    CHECK(memcmp(&a->s, &b->s, sizeof(a->s)) == 0);
    rtc_destroy(a);
    rtc_destroy(b);
}

static void rtc_rejects(void)
{
    struct timerq q;
    struct rtc *a, *b;
    struct rtc_state bad;

    timerq_init(&q, NULL);
    timerq_advance(&q, 5000000000ull);
    CHECK_EQ(rtc_create(&a, &q, NULL, RTC_T0), 0);
    CHECK_EQ(rtc_create(&b, &q, NULL, RTC_T0), 0);
    bad = a->s;
    bad.index = 0x80; /* would index past cmos[] */
    expect_reject(&rtc_vms, &bad, &b->s, b, "rtc", "index 0x80");
    bad = a->s;
    bad.base_ns = (int64_t)bad.synced_ns + 1;
    expect_reject(&rtc_vms, &bad, &b->s, b, "rtc", "base_ns");
    bad = a->s;
    bad.base_ns = INT64_MIN;
    expect_reject(&rtc_vms, &bad, &b->s, b, "rtc", "base_ns");
    bad = a->s;
    bad.base_sec = INT64_MAX;
    expect_reject(&rtc_vms, &bad, &b->s, b, "rtc", "base_sec");
    bad = a->s;
    bad.irq_level = 3;
    expect_reject(&rtc_vms, &bad, &b->s, b, "rtc", "irq_level 3");
    rtc_destroy(a);
    rtc_destroy(b);
}

/* A consistent state whose time base lies ahead of the loading side's
 * clock (a stream from a VM that ran longer) is accepted; the clock counts
 * as standing at the base rather than 2^64 ns past it, so the calendar
 * arithmetic stays in range (UBSan watches it in the SAN build). */
static void rtc_clock_behind_base(void)
{
    struct timerq q1, q2;
    struct rtc *a, *b;
    struct membuf mb;

    timerq_init(&q1, NULL);
    timerq_init(&q2, NULL);
    timerq_set_manual(&q1, 4000000000000000000ull); /* about 127 years */
    CHECK_EQ(rtc_create(&a, &q1, NULL, RTC_T0), 0);
    CHECK_EQ(rtc_create(&b, &q2, NULL, RTC_T0), 0);
    rtc_out(a, 0x70, RTC_REG_B);
    rtc_out(a, 0x71, RTC_B_24H | RTC_B_AIE | RTC_B_UIE);
    save(&rtc_vms, STREAM_SEC_DEVICE, 0, &a->s, &mb);
    CHECK_EQ(load(&rtc_vms, &mb, &b->s, b), 0);
    CHECK_EQ(rtc_time(b), RTC_T0);
    CHECK_EQ(rtc_in(b, RTC_SECONDS), 0x20);
    CHECK_EQ(rtc_in(b, RTC_REG_C), 0);
    rtc_out(b, 0x70, RTC_SECONDS_ALARM);
    rtc_out(b, 0x71, 0x30);
    timerq_advance(&q2, 2000000000);
    CHECK_EQ(rtc_in(b, RTC_SECONDS), 0x20);
    membuf_free(&mb);
    rtc_destroy(a);
    rtc_destroy(b);
}
/* ---- i8042, fw_cfg, POST, debug-exit ---- */

static void i8042_roundtrip(void)
{
    struct irqrec r1, r2;
    struct irq_line l1 = irqrec_line(&r1, NULL), l2 = irqrec_line(&r2, NULL);
    struct i8042 *a, *b;
    struct i8042_state bad;

    CHECK_EQ(i8042_create(&a, NULL, NULL), 0);
    CHECK_EQ(i8042_create(&b, NULL, NULL), 0);
    i8042_set_irq(a, &l1);
    i8042_set_irq(b, &l2);
    wr(&i8042_cmd_ops, a, 0, 0x65, 1); /* RAM byte 5 */
    wr(&i8042_data_ops, a, 0, 0x77, 1);
    wr(&i8042_cmd_ops, a, 0, I8042_CMD_SELF_TEST, 1);
    wr(&i8042_cmd_ops, a, 0, I8042_CMD_WRITE_OUTPORT, 1); /* waits for its data byte */
    CHECK_EQ(a->s.pending_cmd, I8042_CMD_WRITE_OUTPORT);
    CHECK_EQ(r1.level, 1);

    roundtrip(&i8042_vms, STREAM_SEC_DEVICE, 0, &a->s, &b->s, b, sizeof(a->s));
    CHECK_EQ(r2.level, 1);
    CHECK_EQ(rd(&i8042_cmd_ops, b, 0, 1), rd(&i8042_cmd_ops, a, 0, 1));
    CHECK_EQ(rd(&i8042_data_ops, a, 0, 1), 0x55);
    CHECK_EQ(rd(&i8042_data_ops, b, 0, 1), 0x55);
    CHECK_EQ(r2.level, 0);
    wr(&i8042_data_ops, a, 0, 0xcd, 1); /* the output port, A20 off */
    wr(&i8042_data_ops, b, 0, 0xcd, 1);
    CHECK(!i8042_a20(b));
    wr(&i8042_cmd_ops, a, 0, 0x25, 1);
    wr(&i8042_cmd_ops, b, 0, 0x25, 1);
    CHECK_EQ(rd(&i8042_data_ops, a, 0, 1), 0x77);
    CHECK_EQ(rd(&i8042_data_ops, b, 0, 1), 0x77);
    CHECK(memcmp(&a->s, &b->s, sizeof(a->s)) == 0);

    bad = a->s;
    bad.pending_cmd = I8042_CMD_SELF_TEST;
    expect_reject(&i8042_vms, &bad, &b->s, b, "i8042", "pending_cmd 0xaa");
    bad = a->s;
    bad.status = 0xff;
    expect_reject(&i8042_vms, &bad, &b->s, b, "i8042", "status 0xff");
    i8042_destroy(a);
    i8042_destroy(b);
}

static void fwcfg_roundtrip(void)
{
    struct fwcfg *a, *b;
    struct fwcfg_state bad;
    char sa[3] = {0}, sb[3] = {0};

    CHECK_EQ(fwcfg_create(&a), 0);
    CHECK_EQ(fwcfg_create(&b), 0);
    wr(&fwcfg_ops, a, 0, FWCFG_KEY_SIGNATURE | FWCFG_WRITE_CHANNEL, 2);
    CHECK_EQ(rd(&fwcfg_ops, a, 1, 1), 'Q');
    CHECK_EQ(rd(&fwcfg_ops, a, 1, 1), 'E');
    wr(&fwcfg_ops, b, 0, FWCFG_KEY_ID, 2); /* dst elsewhere: the load moves it */

    roundtrip(&fwcfg_vms, STREAM_SEC_DEVICE, 0, &a->s, &b->s, b, sizeof(a->s));
    for (unsigned i = 0; i < 2; i++) {
        sa[i] = (char)rd(&fwcfg_ops, a, 1, 1);
        sb[i] = (char)rd(&fwcfg_ops, b, 1, 1);
    }
    CHECK_STR(sa, "MU");
    CHECK_STR(sb, "MU");
    CHECK_EQ(rd(&fwcfg_ops, b, 1, 1), 0); /* past the end */

    bad = a->s;
    bad.offset = 5; /* the signature is 4 bytes */
    expect_reject(&fwcfg_vms, &bad, &b->s, b, "fwcfg", "offset 5");
    bad = a->s;
    bad.selector = 0x1234; /* no such item */
    bad.offset = 1;
    expect_reject(&fwcfg_vms, &bad, &b->s, b, "fwcfg", "item 0x1234");
    bad = a->s;
    bad.selector = FWCFG_WRITE_CHANNEL;
    bad.offset = 0;
    expect_reject(&fwcfg_vms, &bad, &b->s, b, "fwcfg", "write-channel");
    fwcfg_destroy(a);
    fwcfg_destroy(b);
}

static void post_debugexit_roundtrip(void)
{
    struct post *pa, *pb;
    struct debugexit *da, *db;
    struct post_state pbad;
    struct debugexit_state dbad;

    CHECK_EQ(post_create(&pa), 0);
    CHECK_EQ(post_create(&pb), 0);
    wr(&post_ops, pa, 0, 0x42, 1);
    roundtrip(&post_vms, STREAM_SEC_DEVICE, 0, &pa->s, &pb->s, pb, sizeof(pa->s));
    CHECK_EQ(post_code(pb), 0x42);
    pbad = pa->s;
    pbad.valid = 9;
    expect_reject(&post_vms, &pbad, &pb->s, pb, "post", "valid 9");

    CHECK_EQ(debugexit_create(&da, NULL, NULL), 0);
    CHECK_EQ(debugexit_create(&db, NULL, NULL), 0);
    wr(&debugexit_ops, da, 0, 0x1234, 2);
    roundtrip(&debugexit_vms, STREAM_SEC_DEVICE, 0, &da->s, &db->s, db, sizeof(da->s));
    CHECK_EQ(db->s.code, 0x1234);
    CHECK_EQ(db->s.exited, 1);
    dbad = da->s;
    dbad.exited = 2;
    expect_reject(&debugexit_vms, &dbad, &db->s, db, "debugexit", "exited 2");
    post_destroy(pa);
    post_destroy(pb);
    debugexit_destroy(da);
    debugexit_destroy(db);
}

static const struct test_case tests[] = {
    TEST(tables_well_formed),
    TEST(tables_cover_state),
    TEST(dump_names_fields),
    TEST(uart_roundtrip),
    TEST(uart_rejects),
    TEST(pit_roundtrip),
    TEST(pit_rejects),
    TEST(pic_roundtrip),
    TEST(pic_rejects),
    TEST(rtc_roundtrip),
    TEST(rtc_rejects),
    TEST(rtc_clock_behind_base),
    TEST(i8042_roundtrip),
    TEST(fwcfg_roundtrip),
    TEST(post_debugexit_roundtrip),
};
TEST_MAIN("vms_devices", tests)
