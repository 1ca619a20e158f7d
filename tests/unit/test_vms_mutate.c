/* "The VMM never crashes on stream input": a valid saved state of each
 * device, with one to three of its bytes changed at random, is loaded into
 * a fresh device. post_load either refuses it or the device must then take
 * any guest access and any passage of time without crashing or undefined
 * behaviour (the SAN build runs this under ASan and UBSan). Deterministic:
 * a fixed xorshift seed. */
#include <stdlib.h>

#include "dev/fwcfg.h"
#include "dev/i8042.h"
#include "dev/ioapic.h"
#include "dev/lapic.h"
#include "dev/pic8259.h"
#include "dev/pit8254.h"
#include "dev/rtc.h"
#include "dev/uart16550.h"
#include "migrate/vmstate.h"
#include "test.h"
#include "vms_test.h"

#define ROUNDS 400
#define OPS 24

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* One device kind: how to build it on a timer queue, drive it into a
 * valid state worth mutating, and poke it as a guest would. */
struct kind {
    const struct vms_desc *d;
    size_t size;
    void *(*create)(struct timerq *q);
    void *(*state)(void *dev);
    void (*prime)(void *dev, struct timerq *q);
    void (*poke)(void *dev, struct timerq *q); /* one random guest action */
    void (*destroy)(void *dev);
    void *(*opaque)(void *dev); /* what post_load gets; NULL: dev itself */
};

/* Saves good with a few bytes changed, loads it into a fresh device and, if
 * post_load accepts it, pokes the device. Returns whether it was accepted. */
static bool mutate_once(const struct kind *k, const void *good)
{
    struct timerq q;
    unsigned char *buf = malloc(k->size);
    unsigned n = 1 + rnd() % 3;
    struct membuf mb;
    void *dev;
    int rc;

    memcpy(buf, good, k->size);
    for (unsigned i = 0; i < n; i++) {
        size_t at = rnd() % k->size;
        buf[at] = rnd() & 1 ? (unsigned char)rnd() : buf[at] ^ (unsigned char)(1u << (rnd() % 8));
    }
    timerq_init(&q, NULL);
    timerq_set_manual(&q, 3000000000ull);
    dev = k->create(&q);
    save(k->d, STREAM_SEC_DEVICE, 0, buf, &mb);
    rc = load(k->d, &mb, k->state(dev), k->opaque ? k->opaque(dev) : dev);
    CHECK(rc == 0 || rc == -EINVAL);
    if (rc == 0) {
        for (unsigned i = 0; i < OPS; i++)
            k->poke(dev, &q);
        timerq_advance(&q, 5000000);
    }
    k->destroy(dev);
    membuf_free(&mb);
    free(buf);
    return rc == 0;
}

static void run_kind(const struct kind *k)
{
    struct timerq q;
    void *dev, *good = malloc(k->size);
    unsigned accepted = 0;

    timerq_init(&q, NULL);
    timerq_set_manual(&q, 1000000000ull);
    dev = k->create(&q);
    k->prime(dev, &q);
    memcpy(good, k->state(dev), k->size);
    k->destroy(dev);
    for (unsigned r = 0; r < ROUNDS; r++)
        accepted += mutate_once(k, good);
    /* both outcomes must occur, or the test proves little */
    if (getenv("VMS_MUTATE_VERBOSE") || accepted == 0 || accepted == ROUNDS)
        printf("  %s: %u of %u mutated states accepted\n", k->d->name, accepted, ROUNDS);
    CHECK(accepted > 0 && accepted < ROUNDS);
    free(good);
}

static void advance_some(struct timerq *q)
{
    timerq_advance(q, rnd() % 200000);
}

/* ---- UART ---- */

static void *uart_create(struct timerq *q)
{
    struct uart16550 *u;
    CHECK_EQ(uart16550_create(&u, NULL, NULL, q), 0);
    return u;
}
static void *uart_state(void *dev) { return &((struct uart16550 *)dev)->s; }
static void uart_destroy(void *dev) { uart16550_destroy(dev); }

static void uart_prime(void *dev, struct timerq *q)
{
    static const uint8_t in[] = "0123456789abcdef";
    wr(&uart16550_ops, dev, UART16550_FCR, 0xc7, 1);
    wr(&uart16550_ops, dev, UART16550_IER, 0x0f, 1);
    wr(&uart16550_ops, dev, UART16550_MCR, 0x0b, 1);
    (void)uart16550_receive(dev, in, 16);
    for (unsigned i = 0; i < 6; i++)
        (void)rd(&uart16550_ops, dev, UART16550_RBR, 1);
    (void)uart16550_receive(dev, in, 3);
}

static void uart_poke(void *dev, struct timerq *q)
{
    uint8_t b[4] = {(uint8_t)rnd(), 1, 2, 3};
    switch (rnd() % 4) {
    case 0: wr(&uart16550_ops, dev, rnd() % 8, rnd() & 0xff, 1); break;
    case 1: (void)rd(&uart16550_ops, dev, rnd() % 8, 1); break;
    case 2: (void)uart16550_receive(dev, b, 1 + rnd() % 4); break;
    default: advance_some(q); break;
    }
}

/* ---- PIT ---- */

static void *pit_create(struct timerq *q)
{
    struct pit8254 *p;
    CHECK_EQ(pit8254_create(&p, q, NULL), 0);
    return p;
}
static void *pit_state(void *dev) { return &((struct pit8254 *)dev)->s; }
static void pit_destroy(void *dev) { pit8254_destroy(dev); }

static void pit_prime(void *dev, struct timerq *q)
{
    wr(&pit8254_ops, dev, 3, 0x34, 1);
    wr(&pit8254_ops, dev, 0, 0x10, 1);
    wr(&pit8254_ops, dev, 0, 0x01, 1);
    wr(&pit8254_speaker_ops, dev, 0, 0x03, 1);
    wr(&pit8254_ops, dev, 3, 0xb2, 1); /* ch2 mode 1 */
    wr(&pit8254_ops, dev, 2, 0x40, 1);
    wr(&pit8254_ops, dev, 2, 0x00, 1);
    timerq_advance(q, 300000);
    wr(&pit8254_ops, dev, 0, 0x20, 1);
    wr(&pit8254_ops, dev, 0, 0x00, 1);
    wr(&pit8254_ops, dev, 3, 0x40, 1);
    (void)rd(&pit8254_ops, dev, 1, 1);
}

static void pit_poke(void *dev, struct timerq *q)
{
    switch (rnd() % 5) {
    case 0: wr(&pit8254_ops, dev, rnd() % 4, rnd() & 0xff, 1); break;
    case 1: (void)rd(&pit8254_ops, dev, rnd() % 4, 1); break;
    case 2: wr(&pit8254_speaker_ops, dev, 0, rnd() & 0xff, 1); break;
    case 3: (void)rd(&pit8254_speaker_ops, dev, 0, 1); break;
    default: advance_some(q); break;
    }
}

/* ---- PIC ---- */

static void *pic_create(struct timerq *q)
{
    struct pic8259 *p;
    CHECK_EQ(pic8259_create(&p, NULL), 0);
    return p;
}
static void *pic_state(void *dev) { return &((struct pic8259 *)dev)->s; }
static void pic_destroy(void *dev) { pic8259_destroy(dev); }

static void pic_prime(void *dev, struct timerq *q)
{
    static const uint8_t icw[2][4] = {{0x11, 0x20, 0x04, 0x01}, {0x11, 0x28, 0x02, 0x01}};
    const struct bus_ops *ops[2] = {&pic8259_master_ops, &pic8259_slave_ops};
    for (unsigned c = 0; c < 2; c++) {
        wr(ops[c], dev, 0, icw[c][0], 1);
        for (unsigned i = 1; i < 4; i++)
            wr(ops[c], dev, 1, icw[c][i], 1);
    }
    wr(&pic8259_elcr_ops, dev, 1, 0x06, 1);
    pic8259_set_irq(dev, 0, 1);
    (void)pic8259_ack(dev);
    pic8259_set_irq(dev, 1, 1);
    pic8259_set_irq(dev, 10, 1);
}

static void pic_poke(void *dev, struct timerq *q)
{
    const struct bus_ops *ops[3] = {&pic8259_master_ops, &pic8259_slave_ops, &pic8259_elcr_ops};
    switch (rnd() % 4) {
    case 0: wr(ops[rnd() % 3], dev, rnd() % 2, rnd() & 0xff, 1); break;
    case 1: (void)rd(ops[rnd() % 3], dev, rnd() % 2, 1); break;
    case 2: pic8259_set_irq(dev, (int)(rnd() % 16), (int)(rnd() % 2)); break;
    default: (void)pic8259_ack(dev); break;
    }
}

/* ---- RTC ---- */

static void *rtc_create_k(struct timerq *q)
{
    struct rtc *r;
    CHECK_EQ(rtc_create(&r, q, NULL, 1700000000), 0);
    return r;
}
static void *rtc_state(void *dev) { return &((struct rtc *)dev)->s; }
static void rtc_destroy_k(void *dev) { rtc_destroy(dev); }

static void rtc_prime(void *dev, struct timerq *q)
{
    static const uint8_t w[][2] = {{RTC_SECONDS_ALARM, 0x30}, {RTC_MINUTES_ALARM, 0xc0},
                                   {RTC_HOURS_ALARM, 0xc0},   {RTC_REG_B, 0x32},
                                   {0x50, 0xaa},              {RTC_REG_A, 0x2a}};
    for (unsigned i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        wr(&rtc_ops, dev, 0, w[i][0], 1);
        wr(&rtc_ops, dev, 1, w[i][1], 1);
    }
    timerq_advance(q, 1500000000);
}

static void rtc_poke(void *dev, struct timerq *q)
{
    switch (rnd() % 4) {
    case 0: wr(&rtc_ops, dev, 0, rnd() & 0xff, 1); break;
    case 1: wr(&rtc_ops, dev, 1, rnd() & 0xff, 1); break;
    case 2: (void)rd(&rtc_ops, dev, rnd() % 2, 1); break;
    default: advance_some(q); break;
    }
}

/* ---- i8042 and fw_cfg ---- */

static void *kbc_create(struct timerq *q)
{
    struct i8042 *k;
    CHECK_EQ(i8042_create(&k, NULL, NULL), 0);
    return k;
}
static void *kbc_state(void *dev) { return &((struct i8042 *)dev)->s; }
static void kbc_destroy(void *dev) { i8042_destroy(dev); }

static void kbc_prime(void *dev, struct timerq *q)
{
    wr(&i8042_cmd_ops, dev, 0, I8042_CMD_SELF_TEST, 1);
    wr(&i8042_cmd_ops, dev, 0, 0x61, 1);
}

static void kbc_poke(void *dev, struct timerq *q)
{
    switch (rnd() % 4) {
    case 0: wr(&i8042_cmd_ops, dev, 0, rnd() & 0xff, 1); break;
    case 1: wr(&i8042_data_ops, dev, 0, rnd() & 0xff, 1); break;
    case 2: (void)rd(&i8042_cmd_ops, dev, 0, 1); break;
    default: (void)rd(&i8042_data_ops, dev, 0, 1); break;
    }
}

static void *fw_create(struct timerq *q)
{
    struct fwcfg *f;
    CHECK_EQ(fwcfg_create(&f), 0);
    return f;
}
static void *fw_state(void *dev) { return &((struct fwcfg *)dev)->s; }
static void fw_destroy(void *dev) { fwcfg_destroy(dev); }

static void fw_prime(void *dev, struct timerq *q)
{
    wr(&fwcfg_ops, dev, 0, FWCFG_KEY_ID, 2);
    (void)rd(&fwcfg_ops, dev, 1, 1);
}

static void fw_poke(void *dev, struct timerq *q)
{
    if (rnd() % 4 == 0)
        wr(&fwcfg_ops, dev, 0, rnd() % 3, 2);
    else
        (void)rd(&fwcfg_ops, dev, 1, 1);
}

/* ---- LAPIC and IOAPIC (one rig each, so the bus has both) ---- */

struct rig {
    struct apic_bus bus;
    struct lapic cpu;
    struct ioapic io;
};

static void *rig_create(struct timerq *q)
{
    struct rig *r = calloc(1, sizeof(*r));
    apic_bus_init(&r->bus, NULL, NULL);
    CHECK_EQ(lapic_create(&r->cpu, &r->bus, q, 0), 0);
    ioapic_create(&r->io, &r->bus, 1);
    return r;
}
static void rig_destroy(void *dev)
{
    struct rig *r = dev;
    ioapic_destroy(&r->io);
    lapic_destroy(&r->cpu);
    free(r);
}
static void *lapic_state(void *dev) { return &((struct rig *)dev)->cpu.s; }
static void *ioapic_state(void *dev) { return &((struct rig *)dev)->io.s; }
static void *lapic_of(void *dev) { return &((struct rig *)dev)->cpu; }
static void *ioapic_of(void *dev) { return &((struct rig *)dev)->io; }

static void rig_prime(void *dev, struct timerq *q)
{
    struct rig *r = dev;
    wr(&lapic_mmio_ops, &r->cpu, LAPIC_REG_SVR, 0x1ff, 4);
    wr(&lapic_mmio_ops, &r->cpu, LAPIC_REG_LVT_TIMER, LAPIC_LVT_TIMER_PERIODIC | 0x40, 4);
    wr(&lapic_mmio_ops, &r->cpu, LAPIC_REG_TIMER_INITIAL, 500000, 4);
    wr(&ioapic_mmio_ops, &r->io, IOAPIC_REG_SELECT, IOAPIC_INDEX_REDTBL + 2 * 4, 4);
    wr(&ioapic_mmio_ops, &r->io, IOAPIC_REG_WINDOW, 0x34 | (uint32_t)IOAPIC_RTE_LEVEL, 4);
    ioapic_set_irq(&r->io, 4, 1);
    ioapic_set_irq(&r->io, 6, 1);
    (void)lapic_ack(&r->cpu);
    timerq_advance(q, 700000);
}

static void rig_poke(void *dev, struct timerq *q)
{
    struct rig *r = dev;
    uint64_t v;
    switch (rnd() % 8) {
    case 0: wr(&lapic_mmio_ops, &r->cpu, (rnd() % 0x40) << 4, rnd(), 4); break;
    case 1: (void)rd(&lapic_mmio_ops, &r->cpu, (rnd() % 0x40) << 4, 4); break;
    case 2: (void)lapic_ack(&r->cpu); break;
    case 3:
        if (lapic_msr_read(&r->cpu, 0x800 + rnd() % 0x40, &v) == 0)
            (void)lapic_msr_write(&r->cpu, 0x800 + rnd() % 0x40, v);
        break;
    case 4: wr(&ioapic_mmio_ops, &r->io, (rnd() % 2) << 4, rnd() % 0x40, 4); break;
    case 5: (void)rd(&ioapic_mmio_ops, &r->io, (rnd() % 2) << 4, 4); break;
    case 6: ioapic_set_irq(&r->io, (int)(rnd() % 24), (int)(rnd() % 2)); break;
    default:
        wr(&lapic_mmio_ops, &r->cpu, LAPIC_REG_EOI, 0, 4);
        advance_some(q);
        break;
    }
}

/* ---- tests ---- */

static void mutated_uart(void)
{
    static const struct kind k = {&uart16550_vms, sizeof(struct uart16550_state), uart_create,
                                  uart_state, uart_prime, uart_poke, uart_destroy, NULL};
    run_kind(&k);
}

static void mutated_pit(void)
{
    static const struct kind k = {&pit8254_vms, sizeof(struct pit8254_state), pit_create,
                                  pit_state, pit_prime, pit_poke, pit_destroy, NULL};
    run_kind(&k);
}

static void mutated_pic(void)
{
    static const struct kind k = {&pic8259_vms, sizeof(struct pic8259_state), pic_create,
                                  pic_state, pic_prime, pic_poke, pic_destroy, NULL};
    run_kind(&k);
}

static void mutated_rtc(void)
{
    static const struct kind k = {&rtc_vms, sizeof(struct rtc_state), rtc_create_k, rtc_state,
                                  rtc_prime, rtc_poke, rtc_destroy_k, NULL};
    run_kind(&k);
}

static void mutated_i8042(void)
{
    static const struct kind k = {&i8042_vms, sizeof(struct i8042_state), kbc_create,
                                  kbc_state, kbc_prime, kbc_poke, kbc_destroy, NULL};
    run_kind(&k);
}

static void mutated_fwcfg(void)
{
    static const struct kind k = {&fwcfg_vms, sizeof(struct fwcfg_state), fw_create, fw_state,
                                  fw_prime, fw_poke, fw_destroy, NULL};
    run_kind(&k);
}

static void mutated_lapic(void)
{
    static const struct kind k = {&lapic_vms, sizeof(struct lapic_state), rig_create,
                                  lapic_state, rig_prime, rig_poke, rig_destroy, lapic_of};
    run_kind(&k);
}

static void mutated_ioapic(void)
{
    static const struct kind k = {&ioapic_vms, sizeof(struct ioapic_state), rig_create,
                                  ioapic_state, rig_prime, rig_poke, rig_destroy, ioapic_of};
    run_kind(&k);
}

static const struct test_case tests[] = {
    TEST(mutated_uart),  TEST(mutated_pit),   TEST(mutated_pic),   TEST(mutated_rtc),
    TEST(mutated_i8042), TEST(mutated_fwcfg), TEST(mutated_lapic), TEST(mutated_ioapic),
};
TEST_MAIN("vms_mutate", tests)
