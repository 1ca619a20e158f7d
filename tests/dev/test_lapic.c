/* dev/lapic + dev/apic_bus: registers and reset values, IRR/ISR/TMR and
 * EOI, priorities, IPIs and destinations, INIT/SIPI/NMI/ExtINT, the timer
 * in its three modes, IA32_APIC_BASE, x2APIC MSRs. No engine: the tests
 * drive the devices directly with a manual virtual clock. */
#include "dev/lapic.h"
#include "test.h"

#define NCPUS 4

struct rig {
    struct timerq q;
    struct apic_bus bus;
    struct lapic cpu[NCPUS];
    unsigned kicks[NCPUS], inits[NCPUS], sipis;
    unsigned sipi_cpu, sipi_vector;
    int extint_vector;
    unsigned extint_acks;
};

static void rig_kick(void *opaque, unsigned cpu)
{
    struct rig *r = opaque;
    r->kicks[cpu]++;
}

static void rig_init(void *opaque, unsigned cpu)
{
    struct rig *r = opaque;
    r->inits[cpu]++;
}

static void rig_sipi(void *opaque, unsigned cpu, uint8_t vector)
{
    struct rig *r = opaque;
    r->sipis++;
    r->sipi_cpu = cpu;
    r->sipi_vector = vector;
}

static int rig_extint_ack(void *opaque)
{
    struct rig *r = opaque;
    r->extint_acks++;
    return r->extint_vector;
}

/* The guest TSC runs at 2 GHz from virtual time 0. */
static uint64_t rig_tsc_to_ns(void *opaque, unsigned cpu, uint64_t tsc)
{
    return tsc / 2;
}

static const struct apic_bus_ops rig_ops = {rig_kick, rig_init, rig_sipi, rig_extint_ack,
                                            rig_tsc_to_ns};

static void rig_setup(struct rig *r)
{
    memset(r, 0, sizeof(*r));
    timerq_init(&r->q, NULL);
    apic_bus_init(&r->bus, &rig_ops, r);
    for (unsigned i = 0; i < NCPUS; i++)
        CHECK_EQ(lapic_create(&r->cpu[i], &r->bus, &r->q, i), 0);
}

static void rig_teardown(struct rig *r)
{
    for (unsigned i = 0; i < NCPUS; i++)
        lapic_destroy(&r->cpu[i]);
}

static uint32_t rd(struct lapic *l, unsigned reg)
{
    return (uint32_t)lapic_mmio_read(l, reg, 4);
}

static void wr(struct lapic *l, unsigned reg, uint32_t v)
{
    lapic_mmio_write(l, reg, v, 4);
}

static void enable(struct lapic *l)
{
    wr(l, LAPIC_REG_SVR, 0x1ff);
}

static int bit256(struct lapic *l, unsigned base, unsigned v)
{
    return (rd(l, base + (v / 32) * 0x10) >> (v % 32)) & 1;
}

static int irr(struct lapic *l, unsigned v)
{
    return bit256(l, LAPIC_REG_IRR, v);
}

static int isr(struct lapic *l, unsigned v)
{
    return bit256(l, LAPIC_REG_ISR, v);
}

static int tmr(struct lapic *l, unsigned v)
{
    return bit256(l, LAPIC_REG_TMR, v);
}

static void ipi(struct lapic *l, unsigned dest, uint32_t low)
{
    wr(l, LAPIC_REG_ICR_HIGH, dest << 24);
    wr(l, LAPIC_REG_ICR_LOW, low);
}

static void eoi(struct lapic *l)
{
    wr(l, LAPIC_REG_EOI, 0);
}

/* Takes and ends every deliverable interrupt. */
static void drain(struct lapic *l)
{
    wr(l, LAPIC_REG_TPR, 0);
    while (lapic_ack(l) >= 0)
        eoi(l);
}

#define ICR_LOGICAL (1u << 11)
#define ICR_ASSERT (1u << 14)
#define ICR_LEVEL (1u << 15)
#define ICR_SELF (1u << 18)
#define ICR_ALL_INCL (2u << 18)
#define ICR_ALL_EXCL (3u << 18)
#define ICR_NMI (APIC_DM_NMI << 8)
#define ICR_INIT (APIC_DM_INIT << 8)
#define ICR_SIPI (APIC_DM_STARTUP << 8)
#define ICR_LOWEST (APIC_DM_LOWEST << 8)

static void reset_values(void)
{
    struct rig r;
    uint64_t v;

    rig_setup(&r);
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_ID), 0);
    CHECK_EQ(rd(&r.cpu[1], LAPIC_REG_ID), 1u << 24);
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_VERSION), 0x00050014);
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_TPR), 0);
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_APR), 0);
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_PPR), 0);
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_LDR), 0);
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_DFR), 0xffffffff);
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_SVR), 0xff);
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_ESR), 0);
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_ICR_LOW), 0);
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_ICR_HIGH), 0);
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_LVT_CMCI), 0);
    for (unsigned i = 0; i < 8; i++) {
        CHECK_EQ(rd(&r.cpu[1], LAPIC_REG_ISR + i * 0x10), 0);
        CHECK_EQ(rd(&r.cpu[1], LAPIC_REG_TMR + i * 0x10), 0);
        CHECK_EQ(rd(&r.cpu[1], LAPIC_REG_IRR + i * 0x10), 0);
    }
    for (unsigned reg = LAPIC_REG_LVT_TIMER; reg <= LAPIC_REG_LVT_ERROR; reg += 0x10) {
        CHECK_EQ(rd(&r.cpu[1], reg), 0x10000);
        if (reg != LAPIC_REG_LVT_LINT0)
            CHECK_EQ(rd(&r.cpu[0], reg), 0x10000);
    }
    /* The BSP's LINT0 is wired as ExtINT (virtual wire). */
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_LVT_LINT0), 0x700);
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_TIMER_INITIAL), 0);
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_TIMER_CURRENT), 0);
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_TIMER_DCR), 0);
    CHECK_EQ(lapic_msr_read(&r.cpu[0], LAPIC_MSR_APIC_BASE, &v), 0);
    CHECK_EQ(v, 0xfee00900);
    CHECK_EQ(lapic_msr_read(&r.cpu[1], LAPIC_MSR_APIC_BASE, &v), 0);
    CHECK_EQ(v, 0xfee00800);
    CHECK_EQ(lapic_base_addr(&r.cpu[1]), 0xfee00000);
    CHECK_EQ(lapic_pending(&r.cpu[0]), -1);
    CHECK_EQ(lapic_ack(&r.cpu[0]), -1);
    CHECK(!lapic_take_nmi(&r.cpu[0]));
    /* A second LAPIC at a taken index is refused. */
    {
        struct lapic dup;
        CHECK_EQ(lapic_create(&dup, &r.bus, &r.q, 1), -EEXIST);
        CHECK_EQ(lapic_create(&dup, &r.bus, &r.q, APIC_BUS_MAX_CPUS), -EINVAL);
    }
    rig_teardown(&r);
}

static void register_semantics(void)
{
    struct rig r;
    struct lapic *l;

    rig_setup(&r);
    l = &r.cpu[1];
    wr(l, LAPIC_REG_SVR, 0xffffffff);
    CHECK_EQ(rd(l, LAPIC_REG_SVR), 0x3ff); /* no EOI-broadcast suppression */
    wr(l, LAPIC_REG_SVR, 0x1ff);
    wr(l, LAPIC_REG_TPR, 0x1234);
    CHECK_EQ(rd(l, LAPIC_REG_TPR), 0x34);
    wr(l, LAPIC_REG_TPR, 0);
    wr(l, LAPIC_REG_LDR, 0x12345678);
    CHECK_EQ(rd(l, LAPIC_REG_LDR), 0x12000000);
    wr(l, LAPIC_REG_DFR, 0);
    CHECK_EQ(rd(l, LAPIC_REG_DFR), 0x0fffffff);
    wr(l, LAPIC_REG_DFR, 0xffffffff);
    CHECK_EQ(rd(l, LAPIC_REG_DFR), 0xffffffff);
    wr(l, LAPIC_REG_ICR_HIGH, 0x12345678);
    CHECK_EQ(rd(l, LAPIC_REG_ICR_HIGH), 0x12000000);
    wr(l, LAPIC_REG_TIMER_DCR, 0xff);
    CHECK_EQ(rd(l, LAPIC_REG_TIMER_DCR), 0xb);
    wr(l, LAPIC_REG_ID, 0x05abcdef);
    CHECK_EQ(rd(l, LAPIC_REG_ID), 0x05000000);
    wr(l, LAPIC_REG_ID, 1u << 24);
    /* Read-only registers ignore writes. */
    wr(l, LAPIC_REG_VERSION, 0);
    CHECK_EQ(rd(l, LAPIC_REG_VERSION), LAPIC_VERSION);
    wr(l, LAPIC_REG_PPR, 0xff);
    CHECK_EQ(rd(l, LAPIC_REG_PPR), 0);
    wr(l, LAPIC_REG_IRR, 0xffffffff);
    CHECK_EQ(rd(l, LAPIC_REG_IRR), 0);
    wr(l, LAPIC_REG_TIMER_CURRENT, 5);
    CHECK_EQ(rd(l, LAPIC_REG_TIMER_CURRENT), 0);
    /* LVT writable bits; delivery status and remote IRR read 0. */
    wr(l, LAPIC_REG_LVT_LINT1, 0xffffffff);
    CHECK_EQ(rd(l, LAPIC_REG_LVT_LINT1), 0x1a7ff);
    wr(l, LAPIC_REG_LVT_ERROR, 0xffffffff);
    CHECK_EQ(rd(l, LAPIC_REG_LVT_ERROR), 0x100ff);
    wr(l, LAPIC_REG_LVT_PERF, 0xffffffff);
    CHECK_EQ(rd(l, LAPIC_REG_LVT_PERF), 0x107ff);
    wr(l, LAPIC_REG_LVT_TIMER, 0x000600ef); /* reserved mode 3 */
    CHECK_EQ(rd(l, LAPIC_REG_LVT_TIMER), 0xef);
    wr(l, LAPIC_REG_LVT_TIMER, 0x000200ef);
    CHECK_EQ(rd(l, LAPIC_REG_LVT_TIMER), 0x200ef);
    /* Software disable masks every LVT and keeps them masked. */
    wr(l, LAPIC_REG_SVR, 0xff);
    CHECK_EQ(rd(l, LAPIC_REG_LVT_TIMER), 0x300ef);
    CHECK_EQ(rd(l, LAPIC_REG_LVT_LINT1), 0x1a7ff);
    wr(l, LAPIC_REG_LVT_THERMAL, 0x20);
    CHECK_EQ(rd(l, LAPIC_REG_LVT_THERMAL), 0x10020);
    wr(&r.cpu[0], LAPIC_REG_SVR, 0xff);
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_LVT_LINT0), 0x10700);
    /* Narrow accesses: byte reads work, narrow writes are ignored. */
    CHECK_EQ(lapic_mmio_read(l, LAPIC_REG_ID + 3, 1), 1);
    CHECK_EQ(lapic_mmio_read(l, LAPIC_REG_VERSION, 2), 0x0014);
    CHECK_EQ(lapic_mmio_read(l, LAPIC_REG_VERSION + 4, 4), 0);
    lapic_mmio_write(l, LAPIC_REG_TPR, 0x55, 1);
    CHECK_EQ(rd(l, LAPIC_REG_TPR), 0);
    /* The bus_ops table reaches the same registers. */
    CHECK_EQ(lapic_mmio_ops.read(l, LAPIC_REG_ID, 4), 1u << 24);
    lapic_mmio_ops.write(l, LAPIC_REG_TPR, 0x20, 4);
    CHECK_EQ(rd(l, LAPIC_REG_TPR), 0x20);
    rig_teardown(&r);
}

static void esr_and_error_lvt(void)
{
    struct rig r;
    struct lapic *l;
    struct apic_msg m = {0};

    rig_setup(&r);
    l = &r.cpu[0];
    enable(l);
    /* Send illegal vector: nothing sent, ESR shows it after a write. */
    ipi(l, 0, ICR_SELF | 5);
    CHECK_EQ(rd(l, LAPIC_REG_IRR), 0);
    CHECK_EQ(rd(l, LAPIC_REG_ESR), 0);
    wr(l, LAPIC_REG_ESR, 0);
    CHECK_EQ(rd(l, LAPIC_REG_ESR), LAPIC_ESR_SEND_ILLEGAL_VECTOR);
    wr(l, LAPIC_REG_ESR, 0);
    CHECK_EQ(rd(l, LAPIC_REG_ESR), 0);
    /* Error LVT unmasked: an error raises its vector. */
    wr(l, LAPIC_REG_LVT_ERROR, 0x5e);
    ipi(l, 0, ICR_SELF | 3);
    CHECK(irr(l, 0x5e));
    /* Receive illegal vector on another CPU. */
    enable(&r.cpu[1]);
    m.delivery = APIC_DM_FIXED;
    m.dest = 1;
    m.vector = 7;
    m.src = -1;
    CHECK_EQ(apic_bus_deliver(&r.bus, &m), 0);
    wr(&r.cpu[1], LAPIC_REG_ESR, 0);
    CHECK_EQ(rd(&r.cpu[1], LAPIC_REG_ESR), LAPIC_ESR_RECV_ILLEGAL_VECTOR);
    CHECK_EQ(rd(&r.cpu[1], LAPIC_REG_IRR), 0);
    rig_teardown(&r);
}

static void irr_isr_eoi(void)
{
    struct rig r;
    struct lapic *l;

    rig_setup(&r);
    l = &r.cpu[0];
    enable(l);
    ipi(l, 0, ICR_SELF | 0x40);
    CHECK(irr(l, 0x40));
    CHECK(!tmr(l, 0x40));
    CHECK_EQ(r.kicks[0], 1);
    CHECK_EQ(lapic_pending(l), 0x40);
    CHECK_EQ(lapic_ack(l), 0x40);
    CHECK(!irr(l, 0x40));
    CHECK(isr(l, 0x40));
    CHECK_EQ(rd(l, LAPIC_REG_PPR), 0x40);
    CHECK_EQ(lapic_pending(l), -1);
    eoi(l);
    CHECK(!isr(l, 0x40));
    CHECK_EQ(rd(l, LAPIC_REG_PPR), 0);
    eoi(l); /* nothing in service: no effect */

    /* Highest first; a lower class waits behind one in service. */
    ipi(l, 0, ICR_SELF | 0x41);
    ipi(l, 0, ICR_SELF | 0x80);
    CHECK_EQ(lapic_ack(l), 0x80);
    CHECK_EQ(lapic_pending(l), -1);
    eoi(l);
    CHECK_EQ(lapic_ack(l), 0x41);
    /* Nesting: a higher class interrupts the one in service. */
    ipi(l, 0, ICR_SELF | 0x90);
    CHECK_EQ(lapic_pending(l), 0x90);
    CHECK_EQ(lapic_ack(l), 0x90);
    CHECK(isr(l, 0x41) && isr(l, 0x90));
    CHECK_EQ(rd(l, LAPIC_REG_PPR), 0x90);
    eoi(l);
    CHECK(isr(l, 0x41) && !isr(l, 0x90));
    eoi(l);
    CHECK_EQ(rd(l, LAPIC_REG_ISR + 0x20), 0);

    /* A level-triggered message sets TMR; an edge one clears it. */
    {
        struct apic_msg m = {0};
        m.delivery = APIC_DM_FIXED;
        m.trigger = APIC_TRIGGER_LEVEL;
        m.dest = 0;
        m.vector = 0x61;
        m.src = -1;
        CHECK_EQ(apic_bus_deliver(&r.bus, &m), 1);
        CHECK(irr(l, 0x61) && tmr(l, 0x61));
        CHECK_EQ(lapic_ack(l), 0x61);
        eoi(l); /* no IOAPIC on this bus: the broadcast goes nowhere */
        m.trigger = APIC_TRIGGER_EDGE;
        CHECK_EQ(apic_bus_deliver(&r.bus, &m), 1);
        CHECK(irr(l, 0x61) && !tmr(l, 0x61));
    }
    rig_teardown(&r);
}

static void priority_tpr(void)
{
    struct rig r;
    struct lapic *l;

    rig_setup(&r);
    l = &r.cpu[0];
    enable(l);
    wr(l, LAPIC_REG_TPR, 0x60);
    CHECK_EQ(rd(l, LAPIC_REG_PPR), 0x60);
    ipi(l, 0, ICR_SELF | 0x55);
    CHECK_EQ(lapic_pending(l), -1);
    ipi(l, 0, ICR_SELF | 0x65);
    CHECK_EQ(lapic_pending(l), -1); /* same class as TPR: held */
    CHECK_EQ(lapic_ack(l), -1);
    CHECK_EQ(rd(l, LAPIC_REG_APR), 0x60);
    ipi(l, 0, ICR_SELF | 0x71);
    CHECK_EQ(lapic_pending(l), 0x71);
    CHECK_EQ(rd(l, LAPIC_REG_APR), 0x70);
    CHECK_EQ(lapic_ack(l), 0x71);
    CHECK_EQ(rd(l, LAPIC_REG_PPR), 0x70);
    eoi(l);
    CHECK_EQ(lapic_get_cr8(l), 6);
    lapic_set_cr8(l, 2);
    CHECK_EQ(rd(l, LAPIC_REG_TPR), 0x20);
    CHECK_EQ(lapic_get_cr8(l), 2);
    CHECK_EQ(lapic_pending(l), 0x65);
    /* APR: TPR when nothing pending or in service is above it. */
    CHECK_EQ(lapic_ack(l), 0x65);
    CHECK_EQ(lapic_pending(l), -1); /* 0x55 is below the 0x65 in service */
    eoi(l);
    CHECK_EQ(lapic_ack(l), 0x55);
    eoi(l);
    wr(l, LAPIC_REG_TPR, 0x2f);
    CHECK_EQ(rd(l, LAPIC_REG_APR), 0x2f);
    CHECK_EQ(rd(l, LAPIC_REG_PPR), 0x2f);
    rig_teardown(&r);
}

static void fixed_ipi_two_cpus(void)
{
    struct rig r;

    rig_setup(&r);
    enable(&r.cpu[0]);
    ipi(&r.cpu[0], 1, 0x50);
    CHECK_EQ(rd(&r.cpu[1], LAPIC_REG_IRR + 0x20), 0); /* software-disabled: refused */
    enable(&r.cpu[1]);
    ipi(&r.cpu[0], 1, 0x50);
    CHECK(irr(&r.cpu[1], 0x50));
    CHECK(!irr(&r.cpu[0], 0x50));
    CHECK_EQ(r.kicks[1], 1);
    CHECK_EQ(r.kicks[0], 0);
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_ICR_LOW), 0x50); /* delivery status idle */
    CHECK_EQ(rd(&r.cpu[0], LAPIC_REG_ICR_HIGH), 1u << 24);
    CHECK_EQ(lapic_ack(&r.cpu[1]), 0x50);
    /* A changed xAPIC ID is what physical destinations match. */
    wr(&r.cpu[1], LAPIC_REG_ID, 9u << 24);
    ipi(&r.cpu[0], 9, 0x51);
    CHECK(irr(&r.cpu[1], 0x51));
    /* Physical broadcast 0xff. */
    enable(&r.cpu[2]);
    ipi(&r.cpu[0], 0xff, 0x52);
    CHECK(irr(&r.cpu[0], 0x52) && irr(&r.cpu[1], 0x52) && irr(&r.cpu[2], 0x52));
    CHECK(!irr(&r.cpu[3], 0x52));
    rig_teardown(&r);
}

static void shorthands(void)
{
    struct rig r;

    rig_setup(&r);
    for (unsigned i = 0; i < NCPUS; i++)
        enable(&r.cpu[i]);
    ipi(&r.cpu[1], 3, ICR_SELF | 0x31); /* destination field ignored */
    CHECK(irr(&r.cpu[1], 0x31));
    CHECK(!irr(&r.cpu[0], 0x31) && !irr(&r.cpu[2], 0x31) && !irr(&r.cpu[3], 0x31));
    ipi(&r.cpu[1], 0, ICR_ALL_INCL | 0x32);
    for (unsigned i = 0; i < NCPUS; i++)
        CHECK(irr(&r.cpu[i], 0x32));
    ipi(&r.cpu[1], 0, ICR_ALL_EXCL | 0x33);
    CHECK(irr(&r.cpu[0], 0x33) && !irr(&r.cpu[1], 0x33) && irr(&r.cpu[2], 0x33) &&
          irr(&r.cpu[3], 0x33));
    /* Self with a mode other than fixed is invalid and goes nowhere. */
    ipi(&r.cpu[1], 0, ICR_SELF | ICR_NMI);
    CHECK(!lapic_take_nmi(&r.cpu[1]));
    rig_teardown(&r);
}

static void logical_destinations(void)
{
    struct rig r;

    rig_setup(&r);
    for (unsigned i = 0; i < NCPUS; i++)
        enable(&r.cpu[i]);
    /* Flat model (DFR 0xffffffff): LDR bit per CPU. */
    wr(&r.cpu[0], LAPIC_REG_LDR, 0x01000000);
    wr(&r.cpu[1], LAPIC_REG_LDR, 0x02000000);
    wr(&r.cpu[2], LAPIC_REG_LDR, 0x04000000);
    wr(&r.cpu[3], LAPIC_REG_LDR, 0x08000000);
    ipi(&r.cpu[0], 0x06, ICR_LOGICAL | 0x40);
    CHECK(!irr(&r.cpu[0], 0x40) && irr(&r.cpu[1], 0x40) && irr(&r.cpu[2], 0x40) &&
          !irr(&r.cpu[3], 0x40));
    ipi(&r.cpu[0], 0x00, ICR_LOGICAL | 0x41);
    for (unsigned i = 0; i < NCPUS; i++)
        CHECK(!irr(&r.cpu[i], 0x41));
    ipi(&r.cpu[0], 0xff, ICR_LOGICAL | 0x42);
    for (unsigned i = 0; i < NCPUS; i++)
        CHECK(irr(&r.cpu[i], 0x42));

    /* Cluster model (DFR 0x0fffffff): cluster in LDR 31:28, members 27:24. */
    for (unsigned i = 0; i < NCPUS; i++)
        wr(&r.cpu[i], LAPIC_REG_DFR, 0x0fffffff);
    wr(&r.cpu[0], LAPIC_REG_LDR, 0x11000000);
    wr(&r.cpu[1], LAPIC_REG_LDR, 0x12000000);
    wr(&r.cpu[2], LAPIC_REG_LDR, 0x21000000);
    wr(&r.cpu[3], LAPIC_REG_LDR, 0x22000000);
    ipi(&r.cpu[0], 0x13, ICR_LOGICAL | 0x50);
    CHECK(irr(&r.cpu[0], 0x50) && irr(&r.cpu[1], 0x50) && !irr(&r.cpu[2], 0x50) &&
          !irr(&r.cpu[3], 0x50));
    ipi(&r.cpu[0], 0x22, ICR_LOGICAL | 0x51);
    CHECK(!irr(&r.cpu[0], 0x51) && !irr(&r.cpu[1], 0x51) && !irr(&r.cpu[2], 0x51) &&
          irr(&r.cpu[3], 0x51));
    ipi(&r.cpu[0], 0x31, ICR_LOGICAL | 0x52);
    for (unsigned i = 0; i < NCPUS; i++)
        CHECK(!irr(&r.cpu[i], 0x52));
    rig_teardown(&r);
}

static void lowest_priority(void)
{
    struct rig r;

    rig_setup(&r);
    for (unsigned i = 0; i < 3; i++) {
        enable(&r.cpu[i]);
        wr(&r.cpu[i], LAPIC_REG_LDR, (1u << i) << 24);
    }
    wr(&r.cpu[0], LAPIC_REG_TPR, 0x40);
    wr(&r.cpu[1], LAPIC_REG_TPR, 0x10);
    wr(&r.cpu[2], LAPIC_REG_TPR, 0x20);
    ipi(&r.cpu[0], 0x07, ICR_LOGICAL | ICR_LOWEST | 0x60);
    CHECK(!irr(&r.cpu[0], 0x60) && irr(&r.cpu[1], 0x60) && !irr(&r.cpu[2], 0x60));
    /* Focus: a CPU that already has the vector pending takes it again. */
    ipi(&r.cpu[0], 2, 0x61);
    ipi(&r.cpu[0], 0x07, ICR_LOGICAL | ICR_LOWEST | 0x61);
    CHECK(!irr(&r.cpu[1], 0x61) && irr(&r.cpu[2], 0x61));
    /* ... unless it disables focus checking (SVR bit 9). */
    drain(&r.cpu[1]);
    wr(&r.cpu[2], LAPIC_REG_SVR, 0x3ff);
    ipi(&r.cpu[0], 0x07, ICR_LOGICAL | ICR_LOWEST | 0x61);
    CHECK(irr(&r.cpu[1], 0x61));
    /* Ties go to the lowest index; software-disabled CPUs are skipped. */
    for (unsigned i = 0; i < 3; i++) {
        drain(&r.cpu[i]);
        wr(&r.cpu[i], LAPIC_REG_TPR, 0);
    }
    wr(&r.cpu[0], LAPIC_REG_SVR, 0xff);
    ipi(&r.cpu[1], 0x07, ICR_LOGICAL | ICR_LOWEST | 0x70);
    CHECK(!irr(&r.cpu[0], 0x70) && irr(&r.cpu[1], 0x70) && !irr(&r.cpu[2], 0x70));
    rig_teardown(&r);
}

static void init_sipi(void)
{
    struct rig r;

    rig_setup(&r);
    enable(&r.cpu[0]);
    enable(&r.cpu[1]);
    wr(&r.cpu[1], LAPIC_REG_TPR, 0x30);
    wr(&r.cpu[1], LAPIC_REG_LDR, 0x02000000);
    ipi(&r.cpu[0], 1, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
    CHECK_EQ(r.inits[1], 1);
    CHECK_EQ(r.inits[0] + r.inits[2] + r.inits[3], 0);
    /* INIT reset: registers back to reset values, ID and base kept. */
    CHECK_EQ(rd(&r.cpu[1], LAPIC_REG_SVR), 0xff);
    CHECK_EQ(rd(&r.cpu[1], LAPIC_REG_TPR), 0);
    CHECK_EQ(rd(&r.cpu[1], LAPIC_REG_LDR), 0);
    CHECK_EQ(rd(&r.cpu[1], LAPIC_REG_ID), 1u << 24);
    CHECK_EQ(lapic_get_apic_base(&r.cpu[1]), 0xfee00800);
    /* INIT level de-assert is ignored. */
    ipi(&r.cpu[0], 1, ICR_INIT | ICR_LEVEL);
    CHECK_EQ(r.inits[1], 1);
    /* SIPI reaches a software-disabled LAPIC. */
    ipi(&r.cpu[0], 1, ICR_SIPI | 0x9a);
    CHECK_EQ(r.sipis, 1);
    CHECK_EQ(r.sipi_cpu, 1);
    CHECK_EQ(r.sipi_vector, 0x9a);
    /* The usual broadcast INIT-SIPI-SIPI to all but self. */
    ipi(&r.cpu[0], 0, ICR_ALL_EXCL | ICR_INIT | ICR_ASSERT);
    CHECK_EQ(r.inits[0], 0);
    CHECK_EQ(r.inits[1], 2);
    CHECK_EQ(r.inits[2], 1);
    CHECK_EQ(r.inits[3], 1);
    ipi(&r.cpu[0], 0, ICR_ALL_EXCL | ICR_SIPI | 0x10);
    CHECK_EQ(r.sipis, 4);
    CHECK_EQ(r.sipi_vector, 0x10);
    rig_teardown(&r);
}

static void nmi(void)
{
    struct rig r;

    rig_setup(&r);
    enable(&r.cpu[0]);
    ipi(&r.cpu[0], 1, ICR_NMI); /* NMI reaches a software-disabled APIC */
    CHECK_EQ(r.kicks[1], 1);
    CHECK(lapic_take_nmi(&r.cpu[1]));
    CHECK(!lapic_take_nmi(&r.cpu[1]));
    /* LINT1 as NMI: edges only. */
    wr(&r.cpu[0], LAPIC_REG_LVT_LINT1, APIC_DM_NMI << 8);
    lapic_set_lint(&r.cpu[0], 1, 1);
    CHECK(lapic_take_nmi(&r.cpu[0]));
    lapic_set_lint(&r.cpu[0], 1, 1);
    CHECK(!lapic_take_nmi(&r.cpu[0]));
    lapic_set_lint(&r.cpu[0], 1, 0);
    lapic_set_lint(&r.cpu[0], 1, 1);
    CHECK(lapic_take_nmi(&r.cpu[0]));
    lapic_set_lint(&r.cpu[0], 1, 0);
    wr(&r.cpu[0], LAPIC_REG_LVT_LINT1, LAPIC_LVT_MASKED | APIC_DM_NMI << 8);
    lapic_set_lint(&r.cpu[0], 1, 1);
    CHECK(!lapic_take_nmi(&r.cpu[0]));
    /* LINT1 as a fixed interrupt. */
    lapic_set_lint(&r.cpu[0], 1, 0);
    wr(&r.cpu[0], LAPIC_REG_LVT_LINT1, 0x66);
    lapic_set_lint(&r.cpu[0], 1, 1);
    CHECK(irr(&r.cpu[0], 0x66));
    rig_teardown(&r);
}

static void extint(void)
{
    struct rig r;
    struct apic_msg m = {0};

    rig_setup(&r);
    r.extint_vector = 0x21;
    /* Reset BSP: LINT0 is ExtINT, so the 8259's INTR gets through. */
    lapic_set_lint(&r.cpu[0], 0, 1);
    CHECK_EQ(r.kicks[0], 1);
    CHECK_EQ(lapic_pending(&r.cpu[0]), LAPIC_EXTINT);
    CHECK_EQ(lapic_ack(&r.cpu[0]), 0x21);
    CHECK_EQ(r.extint_acks, 1);
    CHECK_EQ(lapic_pending(&r.cpu[0]), LAPIC_EXTINT); /* level: INTR still high */
    lapic_set_lint(&r.cpu[0], 0, 0);
    CHECK_EQ(lapic_pending(&r.cpu[0]), -1);
    /* An AP's LINT0 is masked. */
    lapic_set_lint(&r.cpu[1], 0, 1);
    CHECK_EQ(lapic_pending(&r.cpu[1]), -1);
    CHECK_EQ(r.kicks[1], 0);
    /* ExtINT goes before the APIC's own interrupts. */
    enable(&r.cpu[0]);
    ipi(&r.cpu[0], 0, ICR_SELF | 0x40);
    lapic_set_lint(&r.cpu[0], 0, 1);
    CHECK_EQ(lapic_pending(&r.cpu[0]), LAPIC_EXTINT);
    CHECK_EQ(lapic_ack(&r.cpu[0]), 0x21);
    lapic_set_lint(&r.cpu[0], 0, 0);
    CHECK_EQ(lapic_ack(&r.cpu[0]), 0x40);
    eoi(&r.cpu[0]);
    /* An ExtINT message (an IOAPIC pin in ExtINT mode) waits for one INTA. */
    m.delivery = APIC_DM_EXTINT;
    m.dest = 1;
    m.src = -1;
    CHECK_EQ(apic_bus_deliver(&r.bus, &m), 1);
    CHECK_EQ(lapic_pending(&r.cpu[1]), LAPIC_EXTINT);
    r.extint_vector = 0x27;
    CHECK_EQ(lapic_ack(&r.cpu[1]), 0x27);
    CHECK_EQ(lapic_pending(&r.cpu[1]), -1);
    /* Software-disabling masks LINT0: INTR no longer gets through. */
    wr(&r.cpu[0], LAPIC_REG_SVR, 0xff);
    lapic_set_lint(&r.cpu[0], 0, 1);
    CHECK_EQ(lapic_pending(&r.cpu[0]), -1);
    rig_teardown(&r);
}

static void timer_oneshot(void)
{
    struct rig r;
    struct lapic *l;

    rig_setup(&r);
    l = &r.cpu[0];
    timerq_set_manual(&r.q, 1000000);
    enable(l);
    wr(l, LAPIC_REG_TIMER_DCR, 0x3); /* divide by 16 */
    wr(l, LAPIC_REG_LVT_TIMER, 0x40);
    wr(l, LAPIC_REG_TIMER_INITIAL, 1000);
    CHECK_EQ(rd(l, LAPIC_REG_TIMER_CURRENT), 1000);
    CHECK_EQ(timerq_next_deadline(&r.q), 1000000 + 16000);
    timerq_advance(&r.q, 8000);
    CHECK_EQ(rd(l, LAPIC_REG_TIMER_CURRENT), 500);
    CHECK(!irr(l, 0x40));
    timerq_advance(&r.q, 7999);
    CHECK_EQ(rd(l, LAPIC_REG_TIMER_CURRENT), 1);
    CHECK(!irr(l, 0x40));
    timerq_advance(&r.q, 1);
    CHECK(irr(l, 0x40));
    CHECK_EQ(r.kicks[0], 1);
    CHECK_EQ(rd(l, LAPIC_REG_TIMER_CURRENT), 0);
    CHECK_EQ(rd(l, LAPIC_REG_TIMER_INITIAL), 1000);
    CHECK_EQ(lapic_ack(l), 0x40);
    eoi(l);
    timerq_advance(&r.q, 1000000);
    CHECK(!irr(l, 0x40));
    CHECK_EQ(timerq_next_deadline(&r.q), UINT64_MAX);
    /* Masked: counts down, delivers nothing. */
    wr(l, LAPIC_REG_LVT_TIMER, LAPIC_LVT_MASKED | 0x40);
    wr(l, LAPIC_REG_TIMER_INITIAL, 10);
    timerq_advance(&r.q, 1000);
    CHECK(!irr(l, 0x40));
    CHECK_EQ(rd(l, LAPIC_REG_TIMER_CURRENT), 0);
    /* Writing 0 stops the count. */
    wr(l, LAPIC_REG_LVT_TIMER, 0x40);
    wr(l, LAPIC_REG_TIMER_INITIAL, 100);
    wr(l, LAPIC_REG_TIMER_INITIAL, 0);
    timerq_advance(&r.q, 100000);
    CHECK(!irr(l, 0x40));
    rig_teardown(&r);
}

static void timer_periodic(void)
{
    struct rig r;
    struct lapic *l;

    rig_setup(&r);
    l = &r.cpu[1];
    enable(l);
    wr(l, LAPIC_REG_TIMER_DCR, 0xb); /* divide by 1 */
    wr(l, LAPIC_REG_LVT_TIMER, LAPIC_LVT_TIMER_PERIODIC | 0x41);
    wr(l, LAPIC_REG_TIMER_INITIAL, 200000); /* 200 us */
    for (unsigned k = 1; k <= 5; k++) {
        timerq_advance(&r.q, 50000);
        CHECK_EQ(rd(l, LAPIC_REG_TIMER_CURRENT), 150000);
        timerq_advance(&r.q, 50000);
        CHECK_EQ(rd(l, LAPIC_REG_TIMER_CURRENT), 100000);
        timerq_advance(&r.q, 99999);
        CHECK_EQ(rd(l, LAPIC_REG_TIMER_CURRENT), 1);
        CHECK(!irr(l, 0x41));
        timerq_advance(&r.q, 1);
        CHECK(irr(l, 0x41));
        CHECK_EQ(rd(l, LAPIC_REG_TIMER_CURRENT), 200000);
        CHECK_EQ(timerq_next_deadline(&r.q), (k + 1) * 200000ull);
        CHECK_EQ(lapic_ack(l), 0x41);
        eoi(l);
    }
    CHECK_EQ(r.kicks[1], 5);
    /* Periodic -> one-shot: this period ends, then the timer stops. */
    timerq_advance(&r.q, 10000);
    wr(l, LAPIC_REG_LVT_TIMER, 0x41);
    timerq_advance(&r.q, 190000);
    CHECK(irr(l, 0x41));
    CHECK_EQ(lapic_ack(l), 0x41);
    eoi(l);
    timerq_advance(&r.q, 1000000);
    CHECK(!irr(l, 0x41));
    /* Tiny periods are clamped to LAPIC_TIMER_MIN_PERIOD_NS. */
    wr(l, LAPIC_REG_LVT_TIMER, LAPIC_LVT_TIMER_PERIODIC | 0x41);
    wr(l, LAPIC_REG_TIMER_INITIAL, 10);
    CHECK_EQ(timerq_next_deadline(&r.q) - timerq_now(&r.q), LAPIC_TIMER_MIN_PERIOD_NS);
    wr(l, LAPIC_REG_TIMER_INITIAL, 0);
    CHECK_EQ(timerq_next_deadline(&r.q), UINT64_MAX);
    /* A late timer thread (timerq_run long after the deadline): missed
     * periods coalesce into one interrupt and the next deadline stays on
     * the period grid. */
    wr(l, LAPIC_REG_TIMER_INITIAL, 200000);
    {
        uint64_t t0 = timerq_now(&r.q);
        timerq_set_manual(&r.q, t0 + 1000000 + 5000);
        CHECK_EQ(timerq_run(&r.q), 1);
        CHECK(irr(l, 0x41));
        CHECK_EQ(timerq_next_deadline(&r.q), t0 + 1200000);
        CHECK_EQ(rd(l, LAPIC_REG_TIMER_CURRENT), 195000);
    }
    rig_teardown(&r);
}

static void timer_divide(void)
{
    static const struct { uint32_t dcr; uint64_t div; } table[] = {
        {0x0, 2}, {0x1, 4}, {0x2, 8}, {0x3, 16}, {0x8, 32}, {0x9, 64}, {0xa, 128}, {0xb, 1},
    };
    struct rig r;
    struct lapic *l;

    rig_setup(&r);
    l = &r.cpu[0];
    enable(l);
    wr(l, LAPIC_REG_LVT_TIMER, 0x40);
    for (unsigned i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        wr(l, LAPIC_REG_TIMER_DCR, table[i].dcr);
        wr(l, LAPIC_REG_TIMER_INITIAL, 1000);
        CHECK_EQ(timerq_next_deadline(&r.q) - timerq_now(&r.q), 1000 * table[i].div);
        timerq_advance(&r.q, 100 * table[i].div);
        CHECK_EQ(rd(l, LAPIC_REG_TIMER_CURRENT), 900);
    }
    /* Changing the divide mid-count keeps the count and changes the rate. */
    wr(l, LAPIC_REG_TIMER_DCR, 0xb);
    wr(l, LAPIC_REG_TIMER_INITIAL, 1000);
    timerq_advance(&r.q, 400);
    CHECK_EQ(rd(l, LAPIC_REG_TIMER_CURRENT), 600);
    wr(l, LAPIC_REG_TIMER_DCR, 0x0); /* divide by 2 */
    CHECK_EQ(rd(l, LAPIC_REG_TIMER_CURRENT), 600);
    CHECK_EQ(timerq_next_deadline(&r.q) - timerq_now(&r.q), 1200);
    timerq_advance(&r.q, 600);
    CHECK_EQ(rd(l, LAPIC_REG_TIMER_CURRENT), 300);
    CHECK(!irr(l, 0x40));
    timerq_advance(&r.q, 600);
    CHECK(irr(l, 0x40));
    rig_teardown(&r);
}

static void timer_tsc_deadline(void)
{
    struct rig r;
    struct lapic *l;
    uint64_t v;

    rig_setup(&r);
    l = &r.cpu[0];
    enable(l);
    /* Outside TSC-deadline mode the MSR reads 0 and ignores writes. */
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_TSC_DEADLINE, 1000), 0);
    CHECK_EQ(lapic_msr_read(l, LAPIC_MSR_TSC_DEADLINE, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(timerq_next_deadline(&r.q), UINT64_MAX);

    wr(l, LAPIC_REG_LVT_TIMER, LAPIC_LVT_TIMER_TSC_DEADLINE | 0x42);
    wr(l, LAPIC_REG_TIMER_INITIAL, 1000); /* ignored in this mode */
    CHECK_EQ(rd(l, LAPIC_REG_TIMER_INITIAL), 0);
    CHECK_EQ(timerq_next_deadline(&r.q), UINT64_MAX);
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_TSC_DEADLINE, 2000000), 0); /* 1 ms at 2 GHz */
    CHECK_EQ(lapic_msr_read(l, LAPIC_MSR_TSC_DEADLINE, &v), 0);
    CHECK_EQ(v, 2000000);
    CHECK_EQ(timerq_next_deadline(&r.q), 1000000);
    CHECK_EQ(rd(l, LAPIC_REG_TIMER_CURRENT), 0);
    timerq_advance(&r.q, 999999);
    CHECK(!irr(l, 0x42));
    timerq_advance(&r.q, 1);
    CHECK(irr(l, 0x42));
    CHECK_EQ(lapic_msr_read(l, LAPIC_MSR_TSC_DEADLINE, &v), 0);
    CHECK_EQ(v, 0); /* disarmed after firing */
    CHECK_EQ(lapic_ack(l), 0x42);
    eoi(l);
    /* A deadline in the past fires at once. */
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_TSC_DEADLINE, 10), 0);
    CHECK(irr(l, 0x42));
    CHECK_EQ(lapic_ack(l), 0x42);
    eoi(l);
    /* Rewriting moves it; 0 disarms. */
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_TSC_DEADLINE, 4000000), 0);
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_TSC_DEADLINE, 6000000), 0);
    CHECK_EQ(timerq_next_deadline(&r.q), 3000000);
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_TSC_DEADLINE, 0), 0);
    CHECK_EQ(timerq_next_deadline(&r.q), UINT64_MAX);
    /* Leaving TSC-deadline mode disarms it. */
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_TSC_DEADLINE, 4000000), 0);
    wr(l, LAPIC_REG_LVT_TIMER, 0x42);
    CHECK_EQ(timerq_next_deadline(&r.q), UINT64_MAX);
    CHECK_EQ(lapic_msr_read(l, LAPIC_MSR_TSC_DEADLINE, &v), 0);
    CHECK_EQ(v, 0);
    timerq_advance(&r.q, 5000000);
    CHECK(!irr(l, 0x42));
    /* ... and entering it stops a one-shot count. */
    wr(l, LAPIC_REG_TIMER_INITIAL, 1000);
    wr(l, LAPIC_REG_LVT_TIMER, LAPIC_LVT_TIMER_TSC_DEADLINE | 0x42);
    CHECK_EQ(rd(l, LAPIC_REG_TIMER_INITIAL), 0);
    CHECK_EQ(timerq_next_deadline(&r.q), UINT64_MAX);
    rig_teardown(&r);
}

static void apic_base_disable_enable(void)
{
    struct rig r;
    struct lapic *l;
    uint64_t v;

    rig_setup(&r);
    l = &r.cpu[0];
    enable(l);
    enable(&r.cpu[1]);
    wr(l, LAPIC_REG_TPR, 0x20);
    wr(l, LAPIC_REG_LDR, 0x01000000);
    wr(l, LAPIC_REG_LVT_TIMER, 0x40);
    wr(l, LAPIC_REG_TIMER_INITIAL, 1000);
    ipi(l, 0, ICR_SELF | 0x50);
    /* Hardware disable. */
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_APIC_BASE, 0xfee00100), 0);
    CHECK(!lapic_hw_enabled(l));
    CHECK_EQ(lapic_msr_read(l, LAPIC_MSR_APIC_BASE, &v), 0);
    CHECK_EQ(v, 0xfee00100);
    CHECK_EQ(rd(l, LAPIC_REG_VERSION), 0xffffffff); /* page not decoded */
    CHECK_EQ(timerq_next_deadline(&r.q), UINT64_MAX);
    /* No messages; LINT0 is INTR and LINT1 is NMI directly. */
    ipi(&r.cpu[1], 0, 0x51);
    CHECK_EQ(lapic_pending(l), -1);
    r.extint_vector = 0x08;
    lapic_set_lint(l, 0, 1);
    CHECK_EQ(lapic_pending(l), LAPIC_EXTINT);
    CHECK_EQ(lapic_ack(l), 0x08);
    lapic_set_lint(l, 0, 0);
    lapic_set_lint(l, 1, 1);
    CHECK(lapic_take_nmi(l));
    lapic_set_lint(l, 1, 0);
    /* Re-enable: the reset state, BSP flag kept (bit 8 is read-only). */
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_APIC_BASE, 0xfee00800), 0);
    CHECK_EQ(lapic_msr_read(l, LAPIC_MSR_APIC_BASE, &v), 0);
    CHECK_EQ(v, 0xfee00900);
    CHECK_EQ(rd(l, LAPIC_REG_SVR), 0xff);
    CHECK_EQ(rd(l, LAPIC_REG_TPR), 0);
    CHECK_EQ(rd(l, LAPIC_REG_LDR), 0);
    CHECK_EQ(rd(l, LAPIC_REG_IRR + 0x20), 0);
    CHECK_EQ(rd(l, LAPIC_REG_LVT_TIMER), 0x10000);
    CHECK_EQ(rd(l, LAPIC_REG_LVT_LINT0), 0x700);
    CHECK_EQ(rd(l, LAPIC_REG_TIMER_INITIAL), 0);
    /* Invalid values and transitions raise #GP. */
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_APIC_BASE, 0xfee00801), -1); /* reserved bit */
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_APIC_BASE, 0xfee00400), -1); /* EXTD without EN */
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_APIC_BASE, 0xfee00000), 0);  /* disable */
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_APIC_BASE, 0xfee00c00), -1); /* disabled -> x2APIC */
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_APIC_BASE, 0xfee00800), 0);
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_APIC_BASE, 0xfee00c00), 0); /* xAPIC -> x2APIC */
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_APIC_BASE, 0xfee00800), -1); /* x2APIC -> xAPIC */
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_APIC_BASE, 0xfee00000), 0);
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_APIC_BASE, 0xfee00800), 0);
    CHECK(!lapic_x2apic_mode(l));
    CHECK_EQ(rd(l, LAPIC_REG_ID), 0);
    /* Relocation. */
    CHECK_EQ(lapic_msr_write(l, LAPIC_MSR_APIC_BASE, 0xfed00800), 0);
    CHECK_EQ(lapic_base_addr(l), 0xfed00000);
    CHECK_EQ(lapic_msr_read(l, 0x10, &v), -1); /* not an APIC MSR */
    CHECK_EQ(lapic_msr_write(l, 0x10, 0), -1);
    rig_teardown(&r);
}

static void x2apic_msrs(void)
{
    struct rig r;
    struct lapic *a, *b;
    uint64_t v;

    rig_setup(&r);
    a = &r.cpu[0];
    b = &r.cpu[1];
    /* x2APIC MSRs #GP in xAPIC mode. */
    CHECK_EQ(lapic_msr_read(b, 0x802, &v), -1);
    CHECK_EQ(lapic_msr_write(b, 0x808, 0), -1);
    CHECK_EQ(lapic_msr_write(a, LAPIC_MSR_APIC_BASE, 0xfee00d00), 0);
    CHECK_EQ(lapic_msr_write(b, LAPIC_MSR_APIC_BASE, 0xfee00c00), 0);
    CHECK(lapic_x2apic_mode(b));
    /* The xAPIC page is gone. */
    CHECK_EQ(rd(b, LAPIC_REG_ID), 0xffffffff);
    wr(b, LAPIC_REG_TPR, 0x40);
    CHECK_EQ(lapic_msr_read(b, 0x808, &v), 0);
    CHECK_EQ(v, 0);
    /* ID, version, LDR derived from the ID. */
    CHECK_EQ(lapic_msr_read(b, 0x802, &v), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(lapic_msr_read(b, 0x803, &v), 0);
    CHECK_EQ(v, LAPIC_VERSION);
    CHECK_EQ(lapic_msr_read(b, 0x80d, &v), 0);
    CHECK_EQ(v, 0x2);
    CHECK_EQ(lapic_msr_read(a, 0x80d, &v), 0);
    CHECK_EQ(v, 0x1);
    CHECK_EQ(lapic_msr_read(b, 0x80f, &v), 0);
    CHECK_EQ(v, 0xff);
    /* Registers that do not exist in x2APIC mode. */
    CHECK_EQ(lapic_msr_read(b, 0x80e, &v), -1); /* DFR */
    CHECK_EQ(lapic_msr_read(b, 0x809, &v), -1); /* APR */
    CHECK_EQ(lapic_msr_read(b, 0x831, &v), -1); /* ICR high */
    CHECK_EQ(lapic_msr_read(b, 0x82f, &v), -1); /* CMCI: max LVT 5 */
    CHECK_EQ(lapic_msr_read(b, 0x8ff, &v), -1);
    CHECK_EQ(lapic_msr_write(b, 0x80e, 0), -1);
    /* Read-only and write-only registers. */
    CHECK_EQ(lapic_msr_write(b, 0x802, 5), -1);
    CHECK_EQ(lapic_msr_write(b, 0x803, 0), -1);
    CHECK_EQ(lapic_msr_write(b, 0x80d, 0), -1);
    CHECK_EQ(lapic_msr_write(b, 0x80a, 0), -1);
    CHECK_EQ(lapic_msr_write(b, 0x820, 0), -1);
    CHECK_EQ(lapic_msr_write(b, 0x839, 0), -1);
    CHECK_EQ(lapic_msr_read(b, 0x80b, &v), -1); /* EOI */
    CHECK_EQ(lapic_msr_read(b, 0x83f, &v), -1); /* SELF IPI */
    /* Reserved bits. */
    CHECK_EQ(lapic_msr_write(b, 0x80b, 1), -1);
    CHECK_EQ(lapic_msr_write(b, 0x828, 1), -1);
    CHECK_EQ(lapic_msr_write(b, 0x808, 0x100), -1);
    CHECK_EQ(lapic_msr_write(b, 0x80f, 1ull << 32), -1);
    CHECK_EQ(lapic_msr_write(b, 0x83f, 0x140), -1);
    /* Enable, SELF IPI, EOI. */
    CHECK_EQ(lapic_msr_write(a, 0x80f, 0x1ff), 0);
    CHECK_EQ(lapic_msr_write(b, 0x80f, 0x1ff), 0);
    CHECK_EQ(lapic_msr_write(b, 0x83f, 0x45), 0);
    CHECK_EQ(lapic_msr_read(b, 0x822, &v), 0); /* IRR 64-95 */
    CHECK_EQ(v, 1u << 5);
    CHECK_EQ(lapic_ack(b), 0x45);
    CHECK_EQ(lapic_msr_read(b, 0x812, &v), 0); /* ISR 64-95 */
    CHECK_EQ(v, 1u << 5);
    CHECK_EQ(lapic_msr_write(b, 0x80b, 0), 0);
    CHECK_EQ(lapic_msr_read(b, 0x812, &v), 0);
    CHECK_EQ(v, 0);
    /* ICR as one 64-bit MSR with a 32-bit destination. */
    CHECK_EQ(lapic_msr_write(a, 0x830, (1ull << 32) | 0x51), 0);
    CHECK_EQ(lapic_msr_read(b, 0x822, &v), 0);
    CHECK_EQ(v, 1u << 17);
    CHECK_EQ(lapic_msr_read(a, 0x830, &v), 0);
    CHECK_EQ(v, (1ull << 32) | 0x51);
    CHECK_EQ(lapic_msr_write(a, 0x830, (1ull << 32) | (1u << 13) | 0x51), -1);
    /* Logical (cluster 0, member bit 1 = CPU 1) and broadcast. */
    CHECK_EQ(lapic_msr_write(a, 0x830, (2ull << 32) | ICR_LOGICAL | 0x52), 0);
    CHECK_EQ(lapic_msr_read(b, 0x822, &v), 0);
    CHECK_EQ(v, (1u << 17) | (1u << 18));
    CHECK_EQ(lapic_msr_write(a, 0x830, (0x10002ull << 32) | ICR_LOGICAL | 0x53), 0);
    CHECK_EQ(lapic_msr_read(b, 0x822, &v), 0);
    CHECK_EQ(v, (1u << 17) | (1u << 18)); /* cluster 1: nobody */
    CHECK_EQ(lapic_msr_write(a, 0x830, (0xffffffffull << 32) | 0x54), 0);
    CHECK_EQ(lapic_msr_read(b, 0x822, &v), 0);
    CHECK_EQ(v, (1u << 17) | (1u << 18) | (1u << 20));
    CHECK_EQ(lapic_msr_read(a, 0x822, &v), 0);
    CHECK_EQ(v, 1u << 20);
    /* An xAPIC CPU still gets an 8-bit destination from an x2APIC one. */
    enable(&r.cpu[2]);
    CHECK_EQ(lapic_msr_write(a, 0x830, (2ull << 32) | 0x55), 0);
    CHECK(irr(&r.cpu[2], 0x55));
    /* Timer registers through MSRs. */
    CHECK_EQ(lapic_msr_write(b, 0x83e, 0xb), 0);
    CHECK_EQ(lapic_msr_write(b, 0x832, 0x60), 0);
    CHECK_EQ(lapic_msr_write(b, 0x838, 1000), 0);
    timerq_advance(&r.q, 250);
    CHECK_EQ(lapic_msr_read(b, 0x839, &v), 0);
    CHECK_EQ(v, 750);
    /* ESR is write-then-read through the MSR too. */
    CHECK_EQ(lapic_msr_write(b, 0x83f, 0x05), 0);
    CHECK_EQ(lapic_msr_write(b, 0x828, 0), 0);
    CHECK_EQ(lapic_msr_read(b, 0x828, &v), 0);
    CHECK_EQ(v, LAPIC_ESR_SEND_ILLEGAL_VECTOR);
    /* INIT keeps x2APIC mode and the ID. */
    CHECK_EQ(lapic_msr_write(a, 0x830, (1ull << 32) | ICR_INIT | ICR_ASSERT), 0);
    CHECK_EQ(r.inits[1], 1);
    CHECK(lapic_x2apic_mode(b));
    CHECK_EQ(lapic_msr_read(b, 0x802, &v), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(lapic_msr_read(b, 0x80d, &v), 0);
    CHECK_EQ(v, 2);
    rig_teardown(&r);
}

/* Migration: the state struct alone re-creates the LAPIC, timer included. */
static void state_round_trip(void)
{
    struct rig r, d;
    struct lapic *l;

    rig_setup(&r);
    l = &r.cpu[0];
    enable(l);
    wr(l, LAPIC_REG_TPR, 0x10);
    ipi(l, 0, ICR_SELF | 0x80);
    CHECK_EQ(lapic_ack(l), 0x80);
    ipi(l, 0, ICR_SELF | 0x70);
    wr(l, LAPIC_REG_TIMER_DCR, 0xb);
    wr(l, LAPIC_REG_LVT_TIMER, LAPIC_LVT_TIMER_PERIODIC | 0x90);
    wr(l, LAPIC_REG_TIMER_INITIAL, 300000);
    timerq_advance(&r.q, 100000);

    rig_setup(&d);
    timerq_set_manual(&d.q, timerq_now(&r.q));
    d.cpu[0].s = r.cpu[0].s;
    lapic_post_load(&d.cpu[0]);
    l = &d.cpu[0];
    CHECK_EQ(rd(l, LAPIC_REG_TIMER_CURRENT), 200000);
    CHECK(isr(l, 0x80) && irr(l, 0x70));
    CHECK_EQ(lapic_pending(l), -1);
    CHECK_EQ(timerq_next_deadline(&d.q), 300000);
    timerq_advance(&d.q, 200000);
    CHECK(irr(l, 0x90));
    CHECK_EQ(timerq_next_deadline(&d.q), 600000);
    rig_teardown(&r);
    rig_teardown(&d);
}

static const struct test_case tests[] = {
    TEST(reset_values),
    TEST(register_semantics),
    TEST(esr_and_error_lvt),
    TEST(irr_isr_eoi),
    TEST(priority_tpr),
    TEST(fixed_ipi_two_cpus),
    TEST(shorthands),
    TEST(logical_destinations),
    TEST(lowest_priority),
    TEST(init_sipi),
    TEST(nmi),
    TEST(extint),
    TEST(timer_oneshot),
    TEST(timer_periodic),
    TEST(timer_divide),
    TEST(timer_tsc_deadline),
    TEST(apic_base_disable_enable),
    TEST(x2apic_msrs),
    TEST(state_round_trip),
};
TEST_MAIN("lapic", tests)
