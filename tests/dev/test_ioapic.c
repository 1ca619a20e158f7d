/* dev/ioapic (with dev/lapic on an apic_bus): registers, edge and level
 * delivery, Remote IRR and EOI, masks, polarity, destinations, the EOI
 * register, delivery modes other than fixed. No engine. */
#include "dev/ioapic.h"
#include "dev/lapic.h"
#include "test.h"

#define NCPUS 2

struct rig {
    struct timerq q;
    struct apic_bus bus;
    struct lapic cpu[NCPUS];
    struct ioapic io;
    unsigned kicks[NCPUS];
    unsigned extint_acks;
};

static void rig_kick(void *opaque, unsigned cpu)
{
    struct rig *r = opaque;
    r->kicks[cpu]++;
}

static int rig_extint_ack(void *opaque)
{
    struct rig *r = opaque;
    r->extint_acks++;
    return 0x20;
}

static const struct apic_bus_ops rig_ops = {rig_kick, NULL, NULL, rig_extint_ack, NULL};

static void rig_setup(struct rig *r)
{
    memset(r, 0, sizeof(*r));
    timerq_init(&r->q, NULL);
    apic_bus_init(&r->bus, &rig_ops, r);
    for (unsigned i = 0; i < NCPUS; i++) {
        CHECK_EQ(lapic_create(&r->cpu[i], &r->bus, &r->q, i), 0);
        lapic_mmio_write(&r->cpu[i], LAPIC_REG_SVR, 0x1ff, 4);
    }
    ioapic_create(&r->io, &r->bus, 2);
}

static void rig_teardown(struct rig *r)
{
    ioapic_destroy(&r->io);
    for (unsigned i = 0; i < NCPUS; i++)
        lapic_destroy(&r->cpu[i]);
}

static uint32_t io_rd(struct ioapic *io, uint32_t index)
{
    ioapic_mmio_write(io, IOAPIC_REG_SELECT, index, 4);
    return (uint32_t)ioapic_mmio_read(io, IOAPIC_REG_WINDOW, 4);
}

static void io_wr(struct ioapic *io, uint32_t index, uint32_t val)
{
    ioapic_mmio_write(io, IOAPIC_REG_SELECT, index, 4);
    ioapic_mmio_write(io, IOAPIC_REG_WINDOW, val, 4);
}

/* Programs pin's redirection entry the way Linux does: high half first. */
static void set_rte(struct ioapic *io, int pin, uint64_t rte)
{
    io_wr(io, IOAPIC_INDEX_REDTBL + 2 * (uint32_t)pin + 1, (uint32_t)(rte >> 32));
    io_wr(io, IOAPIC_INDEX_REDTBL + 2 * (uint32_t)pin, (uint32_t)rte);
}

static uint64_t dest(unsigned d)
{
    return (uint64_t)d << IOAPIC_RTE_DEST_SHIFT;
}

static int irr(struct lapic *l, unsigned v)
{
    return (lapic_mmio_read(l, LAPIC_REG_IRR + (v / 32) * 0x10, 4) >> (v % 32)) & 1;
}

static int tmr(struct lapic *l, unsigned v)
{
    return (lapic_mmio_read(l, LAPIC_REG_TMR + (v / 32) * 0x10, 4) >> (v % 32)) & 1;
}

static void eoi(struct lapic *l)
{
    lapic_mmio_write(l, LAPIC_REG_EOI, 0, 4);
}

static void registers(void)
{
    struct rig r;
    struct ioapic *io;

    rig_setup(&r);
    io = &r.io;
    CHECK_EQ(io_rd(io, IOAPIC_INDEX_ID), 2u << 24);
    CHECK_EQ(io_rd(io, IOAPIC_INDEX_VERSION), 0x00170011);
    CHECK_EQ(io_rd(io, IOAPIC_INDEX_ARB), 2u << 24);
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        CHECK_EQ(io_rd(io, IOAPIC_INDEX_REDTBL + 2 * (uint32_t)pin), 0x10000);
        CHECK_EQ(io_rd(io, IOAPIC_INDEX_REDTBL + 2 * (uint32_t)pin + 1), 0);
    }
    io_wr(io, IOAPIC_INDEX_ID, 0xffffffff);
    CHECK_EQ(io_rd(io, IOAPIC_INDEX_ID), 0x0f000000);
    CHECK_EQ(io_rd(io, IOAPIC_INDEX_ARB), 0x0f000000);
    io_wr(io, IOAPIC_INDEX_VERSION, 0);
    CHECK_EQ(io_rd(io, IOAPIC_INDEX_VERSION), IOAPIC_VERSION);
    /* Writable bits; delivery status and Remote IRR are read-only. */
    io_wr(io, IOAPIC_INDEX_REDTBL + 2 * 23, 0xffffffff);
    CHECK_EQ(io_rd(io, IOAPIC_INDEX_REDTBL + 2 * 23), 0x1afff);
    io_wr(io, IOAPIC_INDEX_REDTBL + 2 * 23 + 1, 0xffffffff);
    CHECK_EQ(io_rd(io, IOAPIC_INDEX_REDTBL + 2 * 23 + 1), 0xff000000);
    CHECK_EQ(ioapic_get_rte(io, 23), 0xff0000000001afffull);
    CHECK_EQ(io_rd(io, IOAPIC_INDEX_REDTBL + 2 * 24), 0); /* past the table */
    /* IOREGSEL reads back; narrow reads of it work. */
    ioapic_mmio_write(io, IOAPIC_REG_SELECT, 0x11, 1);
    CHECK_EQ(ioapic_mmio_read(io, IOAPIC_REG_SELECT, 1), 0x11);
    CHECK_EQ(ioapic_mmio_read(io, IOAPIC_REG_WINDOW, 4), 0);
    CHECK_EQ(ioapic_mmio_ops.read(io, IOAPIC_REG_WINDOW + 3, 1), 0); /* high half of pin 0 */
    ioapic_mmio_write(io, IOAPIC_REG_SELECT, 0x01, 4);
    CHECK_EQ(ioapic_mmio_ops.read(io, IOAPIC_REG_WINDOW + 2, 1), 0x17);
    /* Reset masks everything again. */
    ioapic_reset(io);
    CHECK_EQ(ioapic_get_rte(io, 23), 0x10000);
    rig_teardown(&r);
}

static void edge(void)
{
    struct rig r;
    struct irq_line line;

    rig_setup(&r);
    set_rte(&r.io, 4, dest(1) | 0x34);
    ioapic_set_irq(&r.io, 4, 1);
    CHECK(irr(&r.cpu[1], 0x34));
    CHECK(!tmr(&r.cpu[1], 0x34));
    CHECK(!irr(&r.cpu[0], 0x34));
    CHECK_EQ(r.kicks[1], 1);
    CHECK_EQ(ioapic_get_rte(&r.io, 4) & IOAPIC_RTE_REMOTE_IRR, 0);
    CHECK_EQ(lapic_ack(&r.cpu[1]), 0x34);
    eoi(&r.cpu[1]);
    /* Holding the level high sends nothing more. */
    ioapic_set_irq(&r.io, 4, 1);
    CHECK(!irr(&r.cpu[1], 0x34));
    ioapic_set_irq(&r.io, 4, 0);
    CHECK(!irr(&r.cpu[1], 0x34));
    /* Another edge, through an irq_line. */
    line = ioapic_irq_line(&r.io, 4);
    irq_pulse(&line);
    CHECK(irr(&r.cpu[1], 0x34));
    CHECK_EQ(r.kicks[1], 2);
    rig_teardown(&r);
}

static void level_remote_irr(void)
{
    struct rig r;
    struct lapic *l;

    rig_setup(&r);
    l = &r.cpu[0];
    set_rte(&r.io, 9, dest(0) | IOAPIC_RTE_LEVEL | 0x39);
    ioapic_set_irq(&r.io, 9, 1);
    CHECK(irr(l, 0x39) && tmr(l, 0x39));
    CHECK(ioapic_get_rte(&r.io, 9) & IOAPIC_RTE_REMOTE_IRR);
    CHECK(io_rd(&r.io, IOAPIC_INDEX_REDTBL + 18) & IOAPIC_RTE_REMOTE_IRR);
    CHECK_EQ(lapic_ack(l), 0x39);
    /* Still asserted, Remote IRR set: nothing new. */
    ioapic_set_irq(&r.io, 9, 1);
    CHECK(!irr(l, 0x39));
    /* EOI while still asserted: Remote IRR clears and the interrupt comes again. */
    eoi(l);
    CHECK(irr(l, 0x39));
    CHECK(ioapic_get_rte(&r.io, 9) & IOAPIC_RTE_REMOTE_IRR);
    CHECK_EQ(lapic_ack(l), 0x39);
    /* Deasserted before the EOI: Remote IRR clears, nothing is sent. */
    ioapic_set_irq(&r.io, 9, 0);
    eoi(l);
    CHECK(!irr(l, 0x39));
    CHECK_EQ(ioapic_get_rte(&r.io, 9) & IOAPIC_RTE_REMOTE_IRR, 0);
    /* The EOI register (offset 0x40) does the same. */
    ioapic_set_irq(&r.io, 9, 1);
    CHECK_EQ(lapic_ack(l), 0x39);
    ioapic_mmio_write(&r.io, IOAPIC_REG_EOI, 0x39, 4);
    CHECK(irr(l, 0x39)); /* delivered again: still asserted */
    ioapic_set_irq(&r.io, 9, 0);
    ioapic_mmio_write(&r.io, IOAPIC_REG_EOI, 0x38, 4); /* other vector: no effect */
    CHECK(ioapic_get_rte(&r.io, 9) & IOAPIC_RTE_REMOTE_IRR);
    /* Switching the entry to edge clears Remote IRR. */
    set_rte(&r.io, 9, dest(0) | 0x39);
    CHECK_EQ(ioapic_get_rte(&r.io, 9) & IOAPIC_RTE_REMOTE_IRR, 0);
    rig_teardown(&r);
}

static void level_not_accepted(void)
{
    struct rig r;

    rig_setup(&r);
    lapic_mmio_write(&r.cpu[1], LAPIC_REG_SVR, 0xff, 4); /* software-disabled */
    set_rte(&r.io, 10, dest(1) | IOAPIC_RTE_LEVEL | 0x3a);
    ioapic_set_irq(&r.io, 10, 1);
    CHECK_EQ(ioapic_get_rte(&r.io, 10) & IOAPIC_RTE_REMOTE_IRR, 0);
    /* Once the target can take it, re-programming the entry delivers it. */
    lapic_mmio_write(&r.cpu[1], LAPIC_REG_SVR, 0x1ff, 4);
    set_rte(&r.io, 10, dest(1) | IOAPIC_RTE_LEVEL | 0x3a);
    CHECK(irr(&r.cpu[1], 0x3a));
    CHECK(ioapic_get_rte(&r.io, 10) & IOAPIC_RTE_REMOTE_IRR);
    rig_teardown(&r);
}

static void masks(void)
{
    struct rig r;
    struct lapic *l;

    rig_setup(&r);
    l = &r.cpu[0];
    /* A masked edge is lost. */
    set_rte(&r.io, 3, dest(0) | IOAPIC_RTE_MASKED | 0x33);
    ioapic_set_irq(&r.io, 3, 1);
    ioapic_set_irq(&r.io, 3, 0);
    set_rte(&r.io, 3, dest(0) | 0x33);
    CHECK(!irr(l, 0x33));
    /* Masked while high, then unmasked: still no edge. */
    set_rte(&r.io, 3, dest(0) | IOAPIC_RTE_MASKED | 0x33);
    ioapic_set_irq(&r.io, 3, 1);
    set_rte(&r.io, 3, dest(0) | 0x33);
    CHECK(!irr(l, 0x33));
    /* A masked level stays pending and goes out on unmask. */
    set_rte(&r.io, 11, dest(0) | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED | 0x3b);
    ioapic_set_irq(&r.io, 11, 1);
    CHECK(!irr(l, 0x3b));
    CHECK_EQ(ioapic_get_rte(&r.io, 11) & IOAPIC_RTE_REMOTE_IRR, 0);
    set_rte(&r.io, 11, dest(0) | IOAPIC_RTE_LEVEL | 0x3b);
    CHECK(irr(l, 0x3b) && tmr(l, 0x3b));
    CHECK(ioapic_get_rte(&r.io, 11) & IOAPIC_RTE_REMOTE_IRR);
    /* Masked, deasserted and unmasked: nothing. */
    CHECK_EQ(lapic_ack(l), 0x3b);
    set_rte(&r.io, 11, dest(0) | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED | 0x3b);
    ioapic_set_irq(&r.io, 11, 0);
    eoi(l);
    set_rte(&r.io, 11, dest(0) | IOAPIC_RTE_LEVEL | 0x3b);
    CHECK(!irr(l, 0x3b));
    rig_teardown(&r);
}

static void polarity(void)
{
    struct rig r;
    struct lapic *l;

    rig_setup(&r);
    l = &r.cpu[0];
    /* Active-low edge: the falling edge asserts. */
    ioapic_set_irq(&r.io, 5, 1);
    set_rte(&r.io, 5, dest(0) | IOAPIC_RTE_ACTIVE_LOW | 0x35);
    CHECK(!irr(l, 0x35));
    ioapic_set_irq(&r.io, 5, 0);
    CHECK(irr(l, 0x35));
    CHECK_EQ(lapic_ack(l), 0x35);
    eoi(l);
    ioapic_set_irq(&r.io, 5, 1);
    CHECK(!irr(l, 0x35));
    /* Active-low level: asserted while the pin is 0. */
    ioapic_set_irq(&r.io, 6, 1);
    set_rte(&r.io, 6, dest(0) | IOAPIC_RTE_LEVEL | IOAPIC_RTE_ACTIVE_LOW | 0x36);
    CHECK(!irr(l, 0x36));
    ioapic_set_irq(&r.io, 6, 0);
    CHECK(irr(l, 0x36));
    CHECK_EQ(lapic_ack(l), 0x36);
    eoi(l); /* still low: delivered again */
    CHECK(irr(l, 0x36));
    CHECK_EQ(lapic_ack(l), 0x36);
    ioapic_set_irq(&r.io, 6, 1);
    eoi(l);
    CHECK(!irr(l, 0x36));
    /* An unprogrammed active-low level pin idles at 0, i.e. asserted:
     * unmasking delivers at once (why boards declare active high). */
    set_rte(&r.io, 7, dest(0) | IOAPIC_RTE_LEVEL | IOAPIC_RTE_ACTIVE_LOW | 0x37);
    CHECK(irr(l, 0x37));
    rig_teardown(&r);
}

static void logical_destination(void)
{
    struct rig r;

    rig_setup(&r);
    lapic_mmio_write(&r.cpu[0], LAPIC_REG_LDR, 0x01000000, 4);
    lapic_mmio_write(&r.cpu[1], LAPIC_REG_LDR, 0x02000000, 4);
    set_rte(&r.io, 12, dest(0x02) | IOAPIC_RTE_DEST_LOGICAL | 0x4c);
    ioapic_set_irq(&r.io, 12, 1);
    CHECK(!irr(&r.cpu[0], 0x4c) && irr(&r.cpu[1], 0x4c));
    set_rte(&r.io, 13, dest(0x03) | IOAPIC_RTE_DEST_LOGICAL | 0x4d);
    ioapic_set_irq(&r.io, 13, 1);
    CHECK(irr(&r.cpu[0], 0x4d) && irr(&r.cpu[1], 0x4d));
    /* Lowest priority among 0 and 1: CPU 0 has the higher TPR. */
    lapic_mmio_write(&r.cpu[0], LAPIC_REG_TPR, 0x50, 4);
    set_rte(&r.io, 14, dest(0x03) | IOAPIC_RTE_DEST_LOGICAL | (APIC_DM_LOWEST << 8) | 0x8e);
    ioapic_set_irq(&r.io, 14, 1);
    CHECK(!irr(&r.cpu[0], 0x8e) && irr(&r.cpu[1], 0x8e));
    /* Physical broadcast. */
    set_rte(&r.io, 15, dest(0xff) | 0x4f);
    ioapic_set_irq(&r.io, 15, 1);
    CHECK(irr(&r.cpu[0], 0x4f) && irr(&r.cpu[1], 0x4f));
    rig_teardown(&r);
}

static void other_delivery_modes(void)
{
    struct rig r;

    rig_setup(&r);
    /* ExtINT (the 8259 through the IOAPIC, virtual wire via pin 0). */
    set_rte(&r.io, 0, dest(0) | (APIC_DM_EXTINT << 8));
    ioapic_set_irq(&r.io, 0, 1);
    CHECK_EQ(lapic_pending(&r.cpu[0]), LAPIC_EXTINT);
    CHECK_EQ(lapic_ack(&r.cpu[0]), 0x20);
    CHECK_EQ(r.extint_acks, 1);
    CHECK_EQ(lapic_pending(&r.cpu[0]), -1);
    /* NMI; a level NMI entry still behaves as edge (no Remote IRR). */
    set_rte(&r.io, 2, dest(1) | IOAPIC_RTE_LEVEL | (APIC_DM_NMI << 8));
    ioapic_set_irq(&r.io, 2, 1);
    CHECK(lapic_take_nmi(&r.cpu[1]));
    CHECK_EQ(ioapic_get_rte(&r.io, 2) & IOAPIC_RTE_REMOTE_IRR, 0);
    ioapic_set_irq(&r.io, 2, 1);
    CHECK(!lapic_take_nmi(&r.cpu[1]));
    /* Out-of-range pins are ignored. */
    ioapic_set_irq(&r.io, -1, 1);
    ioapic_set_irq(&r.io, IOAPIC_NUM_PINS, 1);
    CHECK_EQ(r.io.s.pin_level, (1u << 0) | (1u << 2));
    rig_teardown(&r);
}

static const struct test_case tests[] = {
    TEST(registers),
    TEST(edge),
    TEST(level_remote_irr),
    TEST(level_not_accepted),
    TEST(masks),
    TEST(polarity),
    TEST(logical_destination),
    TEST(other_delivery_modes),
};
TEST_MAIN("ioapic", tests)
