/* The vmstate tables of the LAPIC and IOAPIC (on one APIC bus) and of
 * the vCPU (dev/lapic.h, dev/ioapic.h, core/cpu_state_vms.h), as in
 * test_vms_devices.c: drive into a non-trivial state, save, load into a
 * fresh rig at the same virtual time, compare, re-save, run on alike; and
 * post_load's rejections of values no LAPIC, IOAPIC or CPU can hold. */
#include "core/cpu_state.h"
#include "core/cpu_state_vms.h"
#include "dev/ioapic.h"
#include "dev/lapic.h"
#include "migrate/vmstate.h"
#include "test.h"
#include "vms_test.h"

/* ---- LAPIC and IOAPIC ---- */

struct apic_rig {
    struct timerq q;
    struct apic_bus bus;
    struct lapic cpu;
    struct ioapic io;
};

static void rig_setup(struct apic_rig *r, uint64_t now)
{
    memset(r, 0, sizeof(*r));
    timerq_init(&r->q, NULL);
    timerq_set_manual(&r->q, now);
    apic_bus_init(&r->bus, NULL, NULL);
    CHECK_EQ(lapic_create(&r->cpu, &r->bus, &r->q, 0), 0);
    ioapic_create(&r->io, &r->bus, 2);
}

static void rig_teardown(struct apic_rig *r)
{
    ioapic_destroy(&r->io);
    lapic_destroy(&r->cpu);
}

static void lapic_wr(struct lapic *l, unsigned reg, uint32_t v)
{
    wr(&lapic_mmio_ops, l, reg, v, 4);
}

static uint32_t lapic_rd(struct lapic *l, unsigned reg)
{
    return (uint32_t)rd(&lapic_mmio_ops, l, reg, 4);
}

static void fixed_msg(struct apic_bus *bus, uint8_t vector, bool level)
{
    struct apic_msg m = {0};

    m.dest = 0;
    m.dest_mode = APIC_DEST_PHYSICAL;
    m.delivery = APIC_DM_FIXED;
    m.trigger = level ? APIC_TRIGGER_LEVEL : APIC_TRIGGER_EDGE;
    m.vector = vector;
    m.level = 1;
    m.src = -1;
    CHECK_EQ(apic_bus_deliver(bus, &m), 1);
}

static bool vec_bit(const uint32_t *a, unsigned v)
{
    return (a[v / 32] >> (v % 32)) & 1;
}

static void lapic_roundtrip(void)
{
    static struct apic_rig ra, rb;
    struct lapic *a = &ra.cpu, *b = &rb.cpu;

    rig_setup(&ra, 1000000);
    rig_setup(&rb, 1000000);
    lapic_wr(a, LAPIC_REG_SVR, 0x1ff);
    lapic_wr(a, LAPIC_REG_TPR, 0x10);
    lapic_wr(a, LAPIC_REG_LVT_ERROR, 0xfe);
    lapic_wr(a, LAPIC_REG_LVT_LINT1, APIC_DM_NMI << 8);
    lapic_wr(a, LAPIC_REG_TIMER_DCR, 0x3); /* divide by 16 */
    lapic_wr(a, LAPIC_REG_LVT_TIMER, LAPIC_LVT_TIMER_PERIODIC | 0x40);
    lapic_wr(a, LAPIC_REG_TIMER_INITIAL, 100000); /* 1.6 ms periods */
    fixed_msg(&ra.bus, 0x50, true);
    fixed_msg(&ra.bus, 0x60, false);
    CHECK_EQ(lapic_ack(a), 0x60);
    lapic_wr(a, LAPIC_REG_ICR_HIGH, 0);
    lapic_wr(a, LAPIC_REG_ICR_LOW, (APIC_SH_SELF << 18) | 0x70);
    lapic_wr(a, LAPIC_REG_ICR_LOW, (APIC_SH_SELF << 18) | 0x03); /* illegal: an APIC error */
    timerq_advance(&ra.q, 2500000);
    CHECK(vec_bit(a->s.irr, 0x40));
    CHECK(vec_bit(a->s.irr, 0x50) && vec_bit(a->s.tmr, 0x50));
    CHECK(vec_bit(a->s.irr, 0x70) && vec_bit(a->s.irr, 0xfe));
    CHECK(vec_bit(a->s.isr, 0x60));
    CHECK(a->s.esr_pending != 0);
    CHECK_EQ(a->s.timer_armed, 1);
    timerq_set_manual(&rb.q, timerq_now(&ra.q));

    roundtrip(&lapic_vms, STREAM_SEC_DEVICE, 0, &a->s, &b->s, b, sizeof(a->s));
    CHECK_EQ(timerq_next_deadline(&rb.q), timerq_next_deadline(&ra.q));
    CHECK_EQ(timerq_next_deadline(&rb.q), 1000000 + 2 * 1600000);
    CHECK_EQ(lapic_rd(b, LAPIC_REG_TIMER_CURRENT), lapic_rd(a, LAPIC_REG_TIMER_CURRENT));
    CHECK_EQ(lapic_rd(b, LAPIC_REG_PPR), lapic_rd(a, LAPIC_REG_PPR));
    CHECK_EQ(lapic_pending(b), lapic_pending(a));

    /* the timer fires on both at the same instant; EOI and ack alike */
    for (unsigned i = 0; i < 3; i++) {
        CHECK_EQ(lapic_ack(a), lapic_ack(b));
        both_advance(&ra.q, &rb.q, 1000000);
        lapic_wr(a, LAPIC_REG_EOI, 0);
        lapic_wr(b, LAPIC_REG_EOI, 0);
        CHECK(memcmp(&a->s, &b->s, sizeof(a->s)) == 0);
        CHECK_EQ(timerq_next_deadline(&rb.q), timerq_next_deadline(&ra.q));
    }
    lapic_wr(a, LAPIC_REG_ESR, 0);
    lapic_wr(b, LAPIC_REG_ESR, 0);
    CHECK_EQ(lapic_rd(a, LAPIC_REG_ESR), LAPIC_ESR_SEND_ILLEGAL_VECTOR);
    CHECK_EQ(lapic_rd(b, LAPIC_REG_ESR), LAPIC_ESR_SEND_ILLEGAL_VECTOR);
    rig_teardown(&ra);
    rig_teardown(&rb);
}

static void lapic_rejects(void)
{
    static struct apic_rig ra, rb;
    struct lapic_state bad;

    rig_setup(&ra, 0);
    rig_setup(&rb, 0);
    bad = ra.cpu.s;
    bad.lvt[LAPIC_LVT_TIMER] |= 3u << 17;
    expect_reject(&lapic_vms, &bad, &rb.cpu.s, &rb.cpu, "lapic", "lvt_timer mode 3");
    bad = ra.cpu.s;
    bad.lvt[LAPIC_LVT_LINT1] = 0xffffffffu;
    expect_reject(&lapic_vms, &bad, &rb.cpu.s, &rb.cpu, "lapic", "lvt_lint1");
    bad = ra.cpu.s;
    bad.apic_base = (bad.apic_base & ~LAPIC_BASE_EN) | LAPIC_BASE_EXTD;
    expect_reject(&lapic_vms, &bad, &rb.cpu.s, &rb.cpu, "lapic", "apic_base");
    bad = ra.cpu.s;
    bad.irr[0] = 1u << 3;
    expect_reject(&lapic_vms, &bad, &rb.cpu.s, &rb.cpu, "lapic", "irr has vectors 0-15");
    bad = ra.cpu.s;
    bad.timer_dcr = 0x4;
    expect_reject(&lapic_vms, &bad, &rb.cpu.s, &rb.cpu, "lapic", "timer_dcr");
    bad = ra.cpu.s;
    bad.timer_armed = 2;
    expect_reject(&lapic_vms, &bad, &rb.cpu.s, &rb.cpu, "lapic", "timer_armed 2");
    rig_teardown(&ra);
    rig_teardown(&rb);
}

static void ioapic_wr_reg(struct ioapic *io, uint32_t index, uint32_t v)
{
    wr(&ioapic_mmio_ops, io, IOAPIC_REG_SELECT, index, 4);
    wr(&ioapic_mmio_ops, io, IOAPIC_REG_WINDOW, v, 4);
}

static void ioapic_roundtrip(void)
{
    static struct apic_rig ra, rb;
    struct ioapic *a = &ra.io, *b = &rb.io;
    struct membuf m1, m2;

    rig_setup(&ra, 0);
    rig_setup(&rb, 0);
    lapic_wr(&ra.cpu, LAPIC_REG_SVR, 0x1ff);
    /* pin 5: level, vector 0x35, to APIC 0; pin 7: edge, masked; pin 9:
     * level, active low, unmasked, idle (high) */
    ioapic_set_irq(a, 9, 1); /* before its entry is unmasked: pin 9 idles high */
    ioapic_wr_reg(a, IOAPIC_INDEX_REDTBL + 2 * 5, 0x35 | (uint32_t)IOAPIC_RTE_LEVEL);
    ioapic_wr_reg(a, IOAPIC_INDEX_REDTBL + 2 * 5 + 1, 0);
    ioapic_wr_reg(a, IOAPIC_INDEX_REDTBL + 2 * 7, 0x37 | (uint32_t)IOAPIC_RTE_MASKED);
    ioapic_wr_reg(a, IOAPIC_INDEX_REDTBL + 2 * 9,
                  0x39 | (uint32_t)(IOAPIC_RTE_LEVEL | IOAPIC_RTE_ACTIVE_LOW));
    ioapic_set_irq(a, 5, 1);
    ioapic_set_irq(a, 7, 1);
    CHECK_EQ(lapic_ack(&ra.cpu), 0x35);
    wr(&ioapic_mmio_ops, a, IOAPIC_REG_SELECT, IOAPIC_INDEX_REDTBL + 2 * 5, 4);
    CHECK(a->s.redtbl[5] & IOAPIC_RTE_REMOTE_IRR);
    CHECK_EQ(a->s.pin_level, (1u << 5) | (1u << 7) | (1u << 9));

    /* migrate the LAPIC with it, as the VM does */
    roundtrip(&lapic_vms, STREAM_SEC_DEVICE, 0, &ra.cpu.s, &rb.cpu.s, &rb.cpu, sizeof(ra.cpu.s));
    roundtrip(&ioapic_vms, STREAM_SEC_DEVICE, 0, &a->s, &b->s, b, sizeof(a->s));
    CHECK_EQ(rd(&ioapic_mmio_ops, b, IOAPIC_REG_WINDOW, 4),
             rd(&ioapic_mmio_ops, a, IOAPIC_REG_WINDOW, 4));
    CHECK(rd(&ioapic_mmio_ops, b, IOAPIC_REG_WINDOW, 4) & IOAPIC_RTE_REMOTE_IRR);

    /* EOI with the pin still high: delivered again on both */
    lapic_wr(&ra.cpu, LAPIC_REG_EOI, 0);
    lapic_wr(&rb.cpu, LAPIC_REG_EOI, 0);
    CHECK(vec_bit(rb.cpu.s.irr, 0x35));
    CHECK(b->s.redtbl[5] & IOAPIC_RTE_REMOTE_IRR);
    CHECK_EQ(lapic_ack(&ra.cpu), lapic_ack(&rb.cpu));
    ioapic_set_irq(a, 5, 0);
    ioapic_set_irq(b, 5, 0);
    lapic_wr(&ra.cpu, LAPIC_REG_EOI, 0);
    lapic_wr(&rb.cpu, LAPIC_REG_EOI, 0);
    CHECK(!(b->s.redtbl[5] & IOAPIC_RTE_REMOTE_IRR));
    /* pin 9 goes active (low): an interrupt on both */
    ioapic_set_irq(a, 9, 0);
    ioapic_set_irq(b, 9, 0);
    CHECK_EQ(lapic_pending(&rb.cpu), 0x39);
    CHECK(memcmp(&a->s, &b->s, sizeof(a->s)) == 0);
    CHECK(memcmp(&ra.cpu.s, &rb.cpu.s, sizeof(ra.cpu.s)) == 0);
    save(&ioapic_vms, STREAM_SEC_DEVICE, 0, &a->s, &m1);
    save(&ioapic_vms, STREAM_SEC_DEVICE, 0, &b->s, &m2);
    CHECK(same_bytes(&m1, &m2));
    membuf_free(&m1);
    membuf_free(&m2);
    rig_teardown(&ra);
    rig_teardown(&rb);
}

static void ioapic_rejects(void)
{
    static struct apic_rig ra, rb;
    struct ioapic_state bad;

    rig_setup(&ra, 0);
    rig_setup(&rb, 0);
    bad = ra.io.s;
    bad.redtbl[3] |= IOAPIC_RTE_REMOTE_IRR; /* an edge entry */
    expect_reject(&ioapic_vms, &bad, &rb.io.s, &rb.io, "ioapic", "redtbl[3] has Remote IRR");
    bad = ra.io.s;
    bad.redtbl[23] |= IOAPIC_RTE_DELIVERY_STATUS;
    expect_reject(&ioapic_vms, &bad, &rb.io.s, &rb.io, "ioapic", "redtbl[23]");
    bad = ra.io.s;
    bad.id = 16;
    expect_reject(&ioapic_vms, &bad, &rb.io.s, &rb.io, "ioapic", "id 16");
    bad = ra.io.s;
    bad.pin_level = 1u << 24;
    expect_reject(&ioapic_vms, &bad, &rb.io.s, &rb.io, "ioapic", "pin_level");
    bad = ra.io.s;
    bad.ioregsel = 0x100;
    expect_reject(&ioapic_vms, &bad, &rb.io.s, &rb.io, "ioapic", "ioregsel");
    rig_teardown(&ra);
    rig_teardown(&rb);
}

/* ---- the vCPU ---- */

/* Distinctive values in every field; segment and event fields in range. */
static void cpu_fill(struct x86_cpu_state *s)
{
    uint8_t k = 1;

    memset(s, 0, sizeof(*s));
    for (unsigned i = 0; i < X86_NR_GPRS; i++)
        s->gpr[i] = 0x0101010101010101ull * (i + 1) + 0x1000000000000000ull;
    s->rip = 0xffffffff81000123ull;
    s->rflags = 0x246;
    for (unsigned i = 0; i < X86_NR_SEGS; i++) {
        struct x86_segment *g = &s->seg[i];
        g->base = 0x1000000000ull * (i + 1) + i;
        g->limit = 0xfff00 + i;
        g->selector = (uint16_t)(0x10 * i + 3);
        g->type = (uint8_t)(i + 3);
        g->s = i & 1;
        g->dpl = (uint8_t)(i & 3);
        g->present = 1;
        g->avl = (i >> 1) & 1;
        g->l = i == X86_CS;
        g->db = i != X86_CS;
        g->g = 1;
        g->unusable = i == X86_LDTR;
    }
    s->gdtr = (struct x86_dtable){0xfffffe0000001000ull, 0x7f};
    s->idtr = (struct x86_dtable){0xfffffe0000000000ull, 0xfff};
    s->cr0 = 0x80050033;
    s->cr2 = 0x7fffdeadbeefull;
    s->cr3 = 0x1234000;
    s->cr4 = 0x3706f0;
    s->cr8 = 0xf;
    for (unsigned i = 0; i < 4; i++)
        s->dr[i] = 0xdd00 + i;
    s->dr6 = 0xffff0ff0;
    s->dr7 = 0x401;
    s->msr.efer = 0xd01;
    s->msr.star = 0x0023001000000000ull;
    s->msr.lstar = 0xffffffff81a00000ull;
    s->msr.cstar = 0xffffffff81a00100ull;
    s->msr.sfmask = 0x47700;
    s->msr.kernel_gs_base = 0xffff888000001000ull;
    s->msr.sysenter_cs = 0x10;
    s->msr.sysenter_esp = 0xfffffe0000002000ull;
    s->msr.sysenter_eip = 0xffffffff81a01000ull;
    s->msr.pat = 0x0007040600070406ull;
    s->msr.misc_enable = 0x850089;
    s->msr.mtrr_def_type = 0xc06;
    for (unsigned i = 0; i < X86_MTRR_FIXED_COUNT; i++)
        s->msr.mtrr_fixed[i] = 0x0606060606060606ull + i;
    for (unsigned i = 0; i < X86_MTRR_VAR_COUNT; i++) {
        s->msr.mtrr_var_base[i] = 0x80000006ull + (i << 20);
        s->msr.mtrr_var_mask[i] = 0xff80000800ull + (i << 12);
    }
    s->msr.apic_base = 0xfee00900;
    s->fpu.fcw = 0x37f;
    s->fpu.fsw = 0x3800;
    s->fpu.ftw = 0x81;
    s->fpu.fop = 0x7ff;
    s->fpu.fip = 0xffffffff81234567ull;
    s->fpu.fdp = 0x7ffc12345678ull;
    s->fpu.mxcsr = 0x1fa0;
    s->fpu.mxcsr_mask = 0xffff;
    for (unsigned i = 0; i < 8; i++)
        for (unsigned j = 0; j < 16; j++)
            s->fpu.st[i][j] = k++;
    for (unsigned i = 0; i < 16; i++)
        for (unsigned j = 0; j < 16; j++)
            s->fpu.xmm[i][j] = k++;
    s->events = (struct x86_events){
        .exception_injected = 1,
        .exception_pending = 0,
        .exception_nr = 14,
        .exception_has_error_code = 1,
        .exception_error_code = 0x6,
        .interrupt_injected = 1,
        .interrupt_nr = 0xec,
        .interrupt_soft = 0,
        .nmi_injected = 0,
        .nmi_pending = 1,
        .nmi_masked = 1,
        .interrupt_shadow = X86_SHADOW_MOV_SS,
    };
    s->tsc = 0x123456789abcdefull;
}

static void cpu_roundtrip(void)
{
    static struct x86_cpu_state a, b;
    char what[64];

    cpu_fill(&a);
    memset(&b, 0, sizeof(b));
    roundtrip(&x86_cpu_vms, STREAM_SEC_CPU, 3, &a, &b, &b, sizeof(a));
    CHECK(x86_cpu_state_equal(&a, &b, what, sizeof(what)));
    /* a reset state round-trips too */
    x86_cpu_state_reset(&a);
    memset(&b, 0xff, sizeof(b));
    b.fpu.reserved1 = 0;
    memset(b.fpu.reserved2, 0, sizeof(b.fpu.reserved2));
    {
        struct membuf mb;
        save(&x86_cpu_vms, STREAM_SEC_CPU, 0, &a, &mb);
        CHECK_EQ(load(&x86_cpu_vms, &mb, &b, &b), 0);
        CHECK(x86_cpu_state_equal(&a, &b, what, sizeof(what)));
        membuf_free(&mb);
    }
}

static void cpu_rejects(void)
{
    static struct x86_cpu_state good, bad, dst;

    cpu_fill(&good);
    bad = good;
    bad.seg[X86_CS].dpl = 5;
    expect_reject(&x86_cpu_vms, &bad, &dst, &dst, "x86_cpu", "cs_dpl 5");
    bad = good;
    bad.seg[X86_TR].type = 16;
    expect_reject(&x86_cpu_vms, &bad, &dst, &dst, "x86_cpu", "tr_type 16");
    bad = good;
    bad.seg[X86_SS].present = 2;
    expect_reject(&x86_cpu_vms, &bad, &dst, &dst, "x86_cpu", "ss_present 2");
    bad = good;
    bad.events.exception_nr = 40;
    expect_reject(&x86_cpu_vms, &bad, &dst, &dst, "x86_cpu", "exception_nr 40");
    bad = good;
    bad.events.interrupt_shadow = 4;
    expect_reject(&x86_cpu_vms, &bad, &dst, &dst, "x86_cpu", "interrupt_shadow");
    bad = good;
    bad.events.nmi_pending = 3;
    expect_reject(&x86_cpu_vms, &bad, &dst, &dst, "x86_cpu", "nmi_pending 3");
}

static const struct test_case tests[] = {
    TEST(lapic_roundtrip),
    TEST(lapic_rejects),
    TEST(ioapic_roundtrip),
    TEST(ioapic_rejects),
    TEST(cpu_roundtrip),
    TEST(cpu_rejects),
};
TEST_MAIN("vms_apic_cpu", tests)
