/* Local APIC: registers (xAPIC page and x2APIC MSRs), IA32_APIC_BASE,
 * interrupt acceptance and priority, EOI, IPIs, LINT pins.
 * Spec: Intel SDM Vol. 3A, chapter 11 "Advanced Programmable Interrupt
 * Controller (APIC)": 11.4 (enabling, IA32_APIC_BASE, reset state), 11.5
 * (LVT, ESR), 11.6 (ICR, IPIs, destinations), 11.8 (IRR/ISR/TMR, TPR, PPR,
 * APR, EOI), 11.9 (spurious vector), 11.12 (x2APIC). The timer is in
 * lapic_timer.c. See dev/lapic.h for the model choices. */
#include "dev/lapic.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "migrate/vmstate.h"

/* Writable bits of each LVT (SDM Figure 11-8); bit 12 (delivery status)
 * and bit 14 (remote IRR) read 0. */
static const uint32_t lapic_lvt_mask[LAPIC_LVT_COUNT] = {
    [LAPIC_LVT_TIMER] = 0x000700ff,   /* vector, mask, timer mode */
    [LAPIC_LVT_THERMAL] = 0x000107ff, /* vector, delivery mode, mask */
    [LAPIC_LVT_PERF] = 0x000107ff,
    [LAPIC_LVT_LINT0] = 0x0001a7ff, /* + polarity, trigger */
    [LAPIC_LVT_LINT1] = 0x0001a7ff,
    [LAPIC_LVT_ERROR] = 0x000100ff,
};

#define ICR_LOW_MASK 0x000ccfffu /* vector, mode, dest mode, level, trigger, shorthand */
#define X2APIC_ICR_RESERVED 0x00000000fff32000ull /* bits 31:20, 17:16, 13 */
#define DFR_FLAT 0xfu

PRINTF_LIKE(2, 3)
static void lapic_log_guest(struct lapic *l, const char *fmt, ...)
{
    char msg[160];
    va_list ap;

    if (log_get_level() < LOG_DEBUG || !ratelimit_allow(&l->rl))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_debug("lapic", "cpu %u: %s", l->index, msg);
}

/* ---- 256-bit vector registers ---- */

static bool vec_test(const uint32_t *a, unsigned v)
{
    return (a[v >> 5] >> (v & 31)) & 1;
}

static void vec_set(uint32_t *a, unsigned v)
{
    a[v >> 5] |= 1u << (v & 31);
}

static void vec_clear(uint32_t *a, unsigned v)
{
    a[v >> 5] &= ~(1u << (v & 31));
}

/* Highest set vector, or -1. */
static int vec_highest(const uint32_t *a)
{
    for (int w = 7; w >= 0; w--) {
        if (!a[w])
            continue;
        for (int b = 31; b >= 0; b--) {
            if ((a[w] >> b) & 1)
                return w * 32 + b;
        }
    }
    return -1;
}

/* ---- modes ---- */

bool lapic_hw_enabled(const struct lapic *l)
{
    return (l->s.apic_base & LAPIC_BASE_EN) != 0;
}

bool lapic_x2apic_mode(const struct lapic *l)
{
    return (l->s.apic_base & (LAPIC_BASE_EN | LAPIC_BASE_EXTD)) ==
           (LAPIC_BASE_EN | LAPIC_BASE_EXTD);
}

bool lapic_sw_enabled(const struct lapic *l)
{
    return lapic_hw_enabled(l) && (l->s.svr & LAPIC_SVR_ENABLE);
}

uint64_t lapic_get_apic_base(const struct lapic *l)
{
    return l->s.apic_base;
}

uint64_t lapic_base_addr(const struct lapic *l)
{
    return l->s.apic_base & LAPIC_BASE_ADDR_MASK;
}

static uint32_t lapic_x2apic_ldr(uint32_t id)
{
    return ((id >> 4) << 16) | (1u << (id & 15));
}

/* ---- priorities (SDM 11.8.3.1, 11.6.2.4) ---- */

uint8_t lapic_get_ppr(const struct lapic *l)
{
    int isrv = vec_highest(l->s.isr);
    uint8_t tpr = (uint8_t)l->s.tpr;
    uint8_t isr_class = isrv < 0 ? 0 : (uint8_t)(isrv & 0xf0);

    if ((tpr & 0xf0) >= isr_class)
        return tpr;
    return isr_class;
}

uint8_t lapic_get_apr(const struct lapic *l)
{
    int isrv = vec_highest(l->s.isr), irrv = vec_highest(l->s.irr);
    uint8_t tpr = (uint8_t)l->s.tpr;
    uint8_t isr_class = isrv < 0 ? 0 : (uint8_t)(isrv & 0xf0);
    uint8_t irr_class = irrv < 0 ? 0 : (uint8_t)(irrv & 0xf0);
    uint8_t apr = tpr & 0xf0;

    if ((tpr & 0xf0) >= irr_class && (tpr & 0xf0) > isr_class)
        return tpr;
    if (isr_class > apr)
        apr = isr_class;
    if (irr_class > apr)
        apr = irr_class;
    return apr;
}

bool lapic_is_focus(const struct lapic *l, uint8_t vector)
{
    return vec_test(l->s.irr, vector) || vec_test(l->s.isr, vector);
}

/* ---- the CPU side ---- */

static bool lapic_lint0_extint(const struct lapic *l)
{
    uint32_t lvt = l->s.lvt[LAPIC_LVT_LINT0];

    return !(lvt & LAPIC_LVT_MASKED) && ((lvt >> 8) & 7) == APIC_DM_EXTINT &&
           l->s.lint_level[0];
}

int lapic_pending(struct lapic *l)
{
    int v;

    if (!lapic_hw_enabled(l)) /* no APIC: LINT0 is the CPU's INTR pin */
        return l->s.lint_level[0] ? LAPIC_EXTINT : -1;
    if (l->s.extint_pending || lapic_lint0_extint(l))
        return LAPIC_EXTINT;
    v = vec_highest(l->s.irr);
    if (v < 0 || (v & 0xf0) <= (lapic_get_ppr(l) & 0xf0))
        return -1;
    return v;
}

int lapic_ack(struct lapic *l)
{
    int v = lapic_pending(l);

    if (v < 0)
        return -1;
    if (v == LAPIC_EXTINT) {
        l->s.extint_pending = 0;
        return apic_bus_extint_ack(l->bus);
    }
    vec_clear(l->s.irr, (unsigned)v);
    vec_set(l->s.isr, (unsigned)v);
    return v;
}

bool lapic_take_nmi(struct lapic *l)
{
    bool nmi = l->s.nmi_pending != 0;

    l->s.nmi_pending = 0;
    return nmi;
}

void lapic_set_cr8(struct lapic *l, uint64_t cr8)
{
    l->s.tpr = (uint32_t)(cr8 & 0xf) << 4;
}

uint64_t lapic_get_cr8(const struct lapic *l)
{
    return (l->s.tpr >> 4) & 0xf;
}

static void lapic_kick_if_pending(struct lapic *l)
{
    if (lapic_pending(l) >= 0)
        apic_bus_kick(l->bus, l->index);
}

static void lapic_nmi(struct lapic *l)
{
    l->s.nmi_pending = 1;
    apic_bus_kick(l->bus, l->index);
}

/* ---- acceptance ---- */

static bool lapic_accept_vector(struct lapic *l, unsigned vector, bool level);

/* An APIC error (SDM 11.5.3): latched into esr_pending, signalled through
 * the error LVT. An illegal error vector only records another error. */
static void lapic_error(struct lapic *l, uint32_t bits)
{
    uint32_t lvt = l->s.lvt[LAPIC_LVT_ERROR];

    l->s.esr_pending |= bits;
    if (lvt & LAPIC_LVT_MASKED)
        return;
    if ((lvt & 0xff) < 16)
        l->s.esr_pending |= LAPIC_ESR_RECV_ILLEGAL_VECTOR;
    else
        lapic_accept_vector(l, lvt & 0xff, false);
}

static bool lapic_accept_vector(struct lapic *l, unsigned vector, bool level)
{
    if (vector < 16) {
        lapic_error(l, LAPIC_ESR_RECV_ILLEGAL_VECTOR);
        return false;
    }
    vec_set(l->s.irr, vector);
    if (level)
        vec_set(l->s.tmr, vector);
    else
        vec_clear(l->s.tmr, vector);
    lapic_kick_if_pending(l);
    return true;
}

static void lapic_reset_regs(struct lapic *l);

static void lapic_do_init(struct lapic *l)
{
    lapic_reset_regs(l);
    if (l->bus->ops.init)
        l->bus->ops.init(l->bus->opaque, l->index);
}

bool lapic_accept(struct lapic *l, const struct apic_msg *m)
{
    if (!lapic_hw_enabled(l))
        return false;
    switch (m->delivery) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        if (!lapic_sw_enabled(l))
            return false;
        return lapic_accept_vector(l, m->vector, m->trigger == APIC_TRIGGER_LEVEL);
    case APIC_DM_NMI:
        lapic_nmi(l);
        return true;
    case APIC_DM_INIT:
        if (m->trigger == APIC_TRIGGER_LEVEL && !m->level)
            return false; /* INIT level de-assert: no effect on P4 and later */
        lapic_do_init(l);
        return true;
    case APIC_DM_STARTUP:
        if (l->bus->ops.sipi)
            l->bus->ops.sipi(l->bus->opaque, l->index, m->vector);
        return true;
    case APIC_DM_EXTINT:
        l->s.extint_pending = 1;
        apic_bus_kick(l->bus, l->index);
        return true;
    case APIC_DM_SMI:
    default:
        lapic_log_guest(l, "ignoring delivery mode %d", (int)m->delivery);
        return false;
    }
}

bool lapic_match_dest(const struct lapic *l, const struct apic_msg *m)
{
    uint32_t bcast = m->x2apic ? 0xffffffffu : 0xffu;
    uint32_t dest = m->x2apic ? m->dest : (m->dest & 0xff);

    if (dest == bcast)
        return true;
    if (lapic_x2apic_mode(l)) {
        if (m->dest_mode == APIC_DEST_PHYSICAL)
            return dest == l->s.id;
        return (dest >> 16) == (l->s.ldr >> 16) && (dest & l->s.ldr & 0xffff) != 0;
    }
    if (m->dest_mode == APIC_DEST_PHYSICAL)
        return dest == (l->s.id >> 24);
    {
        uint8_t ldr = (uint8_t)(l->s.ldr >> 24), d = (uint8_t)dest;
        if ((l->s.dfr >> 28) == DFR_FLAT)
            return (ldr & d) != 0;
        return (d >> 4) == (ldr >> 4) && (d & ldr & 0xf) != 0;
    }
}

/* Delivers the interrupt an LVT describes (SDM 11.5.1). */
void lapic_local_deliver(struct lapic *l, enum lapic_lvt idx)
{
    uint32_t lvt = l->s.lvt[idx];
    unsigned mode = (lvt >> 8) & 7;

    if (!lapic_hw_enabled(l) || (lvt & LAPIC_LVT_MASKED))
        return;
    if (idx == LAPIC_LVT_TIMER || idx == LAPIC_LVT_ERROR)
        mode = APIC_DM_FIXED;
    switch (mode) {
    case APIC_DM_FIXED:
        lapic_accept_vector(l, lvt & 0xff,
                            (idx == LAPIC_LVT_LINT0 || idx == LAPIC_LVT_LINT1) &&
                                (lvt & LAPIC_LVT_LEVEL));
        break;
    case APIC_DM_NMI:
        lapic_nmi(l);
        break;
    case APIC_DM_INIT:
        lapic_do_init(l);
        break;
    case APIC_DM_EXTINT:
        l->s.extint_pending = 1;
        apic_bus_kick(l->bus, l->index);
        break;
    default:
        lapic_log_guest(l, "LVT %d: ignoring delivery mode %u", (int)idx, mode);
        break;
    }
}

void lapic_set_lint(struct lapic *l, int pin, int level)
{
    uint32_t lvt;
    int old, asserted, was;

    if (pin < 0 || pin > 1)
        return;
    level = level != 0;
    old = l->s.lint_level[pin];
    l->s.lint_level[pin] = (uint8_t)level;
    if (!lapic_hw_enabled(l)) {
        /* No APIC: LINT0 is INTR (level), LINT1 is NMI (edge). */
        if (pin == 0 && level)
            apic_bus_kick(l->bus, l->index);
        else if (pin == 1 && level && !old)
            lapic_nmi(l);
        return;
    }
    lvt = l->s.lvt[LAPIC_LVT_LINT0 + pin];
    if (lvt & LAPIC_LVT_MASKED)
        return;
    if (((lvt >> 8) & 7) == APIC_DM_EXTINT) {
        /* Level-sensitive; lapic_pending() looks at the pin. */
        if (level)
            apic_bus_kick(l->bus, l->index);
        return;
    }
    /* Polarity (bit 13): 1 = active low. */
    asserted = level ^ (int)((lvt >> 13) & 1);
    was = old ^ (int)((lvt >> 13) & 1);
    if (asserted && !was)
        lapic_local_deliver(l, (enum lapic_lvt)(LAPIC_LVT_LINT0 + pin));
}

/* ---- EOI and IPIs ---- */

static void lapic_eoi(struct lapic *l)
{
    int v = vec_highest(l->s.isr);

    if (v < 0)
        return;
    vec_clear(l->s.isr, (unsigned)v);
    if (vec_test(l->s.tmr, (unsigned)v))
        apic_bus_eoi(l->bus, (uint8_t)v);
}

/* Sends the IPI that a write of ICR (low half) describes (SDM 11.6.1). */
static void lapic_send_ipi(struct lapic *l, uint32_t low, uint32_t dest, bool x2apic)
{
    struct apic_msg m;

    memset(&m, 0, sizeof(m));
    m.vector = (uint8_t)low;
    m.delivery = (enum apic_delivery)((low >> 8) & 7);
    m.dest_mode = (enum apic_dest_mode)((low >> 11) & 1);
    m.level = (uint8_t)((low >> 14) & 1);
    m.trigger = (enum apic_trigger)((low >> 15) & 1);
    m.shorthand = (enum apic_shorthand)((low >> 18) & 3);
    m.dest = dest;
    m.x2apic = x2apic;
    m.src = (int)l->index;

    switch (m.delivery) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        if (m.vector < 16) {
            lapic_error(l, LAPIC_ESR_SEND_ILLEGAL_VECTOR);
            return;
        }
        break;
    case APIC_DM_INIT:
        if (m.trigger == APIC_TRIGGER_LEVEL && !m.level)
            return; /* INIT level de-assert */
        break;
    case APIC_DM_SMI:
    case APIC_DM_NMI:
    case APIC_DM_STARTUP:
        break;
    default:
        lapic_log_guest(l, "IPI with reserved delivery mode %d ignored", (int)m.delivery);
        return;
    }
    if (m.shorthand == APIC_SH_SELF && m.delivery != APIC_DM_FIXED) {
        lapic_log_guest(l, "self IPI with delivery mode %d ignored", (int)m.delivery);
        return;
    }
    /* IPIs are edge-triggered (the ICR trigger bit only tells the INIT
     * de-assert apart). */
    m.trigger = APIC_TRIGGER_EDGE;
    apic_bus_deliver(l->bus, &m);
}

/* ---- registers ---- */

static void lapic_write_svr(struct lapic *l, uint32_t val)
{
    l->s.svr = val & 0x3ff;
    if (!(val & LAPIC_SVR_ENABLE)) {
        for (int i = 0; i < LAPIC_LVT_COUNT; i++)
            l->s.lvt[i] |= LAPIC_LVT_MASKED;
    }
}

static void lapic_write_lvt(struct lapic *l, enum lapic_lvt idx, uint32_t val)
{
    uint32_t old = l->s.lvt[idx];

    val &= lapic_lvt_mask[idx];
    if (!lapic_sw_enabled(l))
        val |= LAPIC_LVT_MASKED;
    if (idx == LAPIC_LVT_TIMER && (val & (3u << 17)) == (3u << 17))
        val &= ~(3u << 17); /* reserved mode: one-shot */
    l->s.lvt[idx] = val;
    if (idx == LAPIC_LVT_TIMER)
        lapic_timer_write_lvt(l, old);
}

/* Reads the register at reg (a multiple of 0x10). Returns false for a
 * register that does not exist, or cannot be read, in the current mode. */
static bool lapic_reg_read(struct lapic *l, unsigned reg, uint32_t *val)
{
    bool x2 = lapic_x2apic_mode(l);

    *val = 0;
    if (reg >= LAPIC_REG_ISR && reg < LAPIC_REG_ISR + 0x80) {
        *val = l->s.isr[(reg - LAPIC_REG_ISR) >> 4];
        return true;
    }
    if (reg >= LAPIC_REG_TMR && reg < LAPIC_REG_TMR + 0x80) {
        *val = l->s.tmr[(reg - LAPIC_REG_TMR) >> 4];
        return true;
    }
    if (reg >= LAPIC_REG_IRR && reg < LAPIC_REG_IRR + 0x80) {
        *val = l->s.irr[(reg - LAPIC_REG_IRR) >> 4];
        return true;
    }
    if (reg >= LAPIC_REG_LVT_TIMER && reg <= LAPIC_REG_LVT_ERROR) {
        *val = l->s.lvt[(reg - LAPIC_REG_LVT_TIMER) >> 4];
        return true;
    }
    switch (reg) {
    case LAPIC_REG_ID:
        *val = l->s.id;
        return true;
    case LAPIC_REG_VERSION:
        *val = LAPIC_VERSION;
        return true;
    case LAPIC_REG_TPR:
        *val = l->s.tpr;
        return true;
    case LAPIC_REG_APR:
        *val = lapic_get_apr(l);
        return !x2;
    case LAPIC_REG_PPR:
        *val = lapic_get_ppr(l);
        return true;
    case LAPIC_REG_LDR:
        *val = l->s.ldr;
        return true;
    case LAPIC_REG_DFR:
        *val = l->s.dfr;
        return !x2;
    case LAPIC_REG_SVR:
        *val = l->s.svr;
        return true;
    case LAPIC_REG_ESR:
        *val = l->s.esr;
        return true;
    case LAPIC_REG_ICR_LOW:
        *val = l->s.icr_low; /* delivery status: always idle */
        return true;
    case LAPIC_REG_ICR_HIGH:
        *val = l->s.icr_high;
        return !x2;
    case LAPIC_REG_TIMER_INITIAL:
        *val = l->s.timer_initial;
        return true;
    case LAPIC_REG_TIMER_CURRENT:
        *val = lapic_timer_current(l);
        return true;
    case LAPIC_REG_TIMER_DCR:
        *val = l->s.timer_dcr;
        return true;
    default: /* EOI, RRD, CMCI, SELF IPI, reserved */
        return false;
    }
}

/* Writes a register. Returns false for a register that does not exist or
 * is read-only in the current mode (the write is then ignored). */
static bool lapic_reg_write(struct lapic *l, unsigned reg, uint32_t val)
{
    bool x2 = lapic_x2apic_mode(l);

    if (reg >= LAPIC_REG_LVT_TIMER && reg <= LAPIC_REG_LVT_ERROR) {
        lapic_write_lvt(l, (enum lapic_lvt)((reg - LAPIC_REG_LVT_TIMER) >> 4), val);
        return true;
    }
    switch (reg) {
    case LAPIC_REG_ID:
        if (x2)
            return false;
        l->s.id = val & 0xff000000u;
        return true;
    case LAPIC_REG_TPR:
        l->s.tpr = val & 0xff;
        return true;
    case LAPIC_REG_EOI:
        lapic_eoi(l);
        return true;
    case LAPIC_REG_LDR:
        if (x2)
            return false;
        l->s.ldr = val & 0xff000000u;
        return true;
    case LAPIC_REG_DFR:
        if (x2)
            return false;
        l->s.dfr = (val & 0xf0000000u) | 0x0fffffffu;
        return true;
    case LAPIC_REG_SVR:
        lapic_write_svr(l, val);
        return true;
    case LAPIC_REG_ESR:
        /* Write-then-read: a write latches the errors seen so far. */
        l->s.esr = l->s.esr_pending;
        l->s.esr_pending = 0;
        return true;
    case LAPIC_REG_ICR_LOW:
        if (x2)
            return false; /* x2APIC: the 64-bit MSR 0x830 */
        l->s.icr_low = val & ICR_LOW_MASK;
        lapic_send_ipi(l, l->s.icr_low, l->s.icr_high >> 24, false);
        return true;
    case LAPIC_REG_ICR_HIGH:
        if (x2)
            return false;
        l->s.icr_high = val & 0xff000000u;
        return true;
    case LAPIC_REG_TIMER_INITIAL:
        lapic_timer_write_initial(l, val);
        return true;
    case LAPIC_REG_TIMER_DCR:
        lapic_timer_write_dcr(l, val);
        return true;
    case LAPIC_REG_SELF_IPI:
        if (!x2)
            return false;
        lapic_send_ipi(l, (val & 0xff) | (APIC_SH_SELF << 18), 0, true);
        return true;
    default: /* read-only or reserved */
        return false;
    }
}

/* ---- MMIO (xAPIC) ---- */

uint64_t lapic_mmio_read(struct lapic *l, uint64_t offset, unsigned size)
{
    unsigned reg = (unsigned)(offset & 0xff0), byte = (unsigned)(offset & 0xf);
    uint64_t mask = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
    uint32_t v;

    if (!lapic_hw_enabled(l) || lapic_x2apic_mode(l) || offset >= LAPIC_MMIO_SIZE)
        return mask; /* page not decoded */
    if (!lapic_reg_read(l, reg, &v))
        lapic_log_guest(l, "read of reserved register 0x%x", reg);
    if (byte >= 4)
        return 0;
    return ((uint64_t)v >> (byte * 8)) & mask;
}

void lapic_mmio_write(struct lapic *l, uint64_t offset, uint64_t value, unsigned size)
{
    unsigned reg = (unsigned)(offset & 0xff0);

    if (!lapic_hw_enabled(l) || lapic_x2apic_mode(l) || offset >= LAPIC_MMIO_SIZE)
        return;
    if ((offset & 0xf) != 0 || size < 4) {
        lapic_log_guest(l, "ignoring %u-byte write at 0x%llx", size, (unsigned long long)offset);
        return;
    }
    if (!lapic_reg_write(l, reg, (uint32_t)value))
        lapic_log_guest(l, "write to read-only or reserved register 0x%x", reg);
}

static uint64_t lapic_ops_read(void *opaque, uint64_t offset, unsigned size)
{
    return lapic_mmio_read(opaque, offset, size);
}

static void lapic_ops_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    lapic_mmio_write(opaque, offset, value, size);
}

const struct bus_ops lapic_mmio_ops = {lapic_ops_read, lapic_ops_write};

/* ---- MSRs ---- */

/* IA32_APIC_BASE (SDM 11.4.4, 11.12.5 "x2APIC State Transitions"). */
static int lapic_set_apic_base(struct lapic *l, uint64_t val)
{
    uint64_t old = l->s.apic_base;
    bool old_en = old & LAPIC_BASE_EN, old_x2 = (old & LAPIC_BASE_EXTD) && old_en;
    bool en = val & LAPIC_BASE_EN, x2 = val & LAPIC_BASE_EXTD;

    if (val & ~(LAPIC_BASE_ADDR_MASK | LAPIC_BASE_BSP | LAPIC_BASE_EXTD | LAPIC_BASE_EN))
        return -1;
    if (x2 && !en)
        return -1; /* invalid state */
    if (old_x2 && en && !x2)
        return -1; /* x2APIC -> xAPIC must go through disabled */
    if (!old_en && x2)
        return -1; /* disabled -> x2APIC must go through xAPIC */
    l->s.apic_base = (val & ~LAPIC_BASE_BSP) | (old & LAPIC_BASE_BSP);
    if (old_en && !en) {
        /* Disabling: the APIC returns to its reset state (SDM 11.4.3). */
        l->s.id = l->index << 24;
        lapic_reset_regs(l);
    } else if (!old_x2 && x2) {
        /* xAPIC -> x2APIC: the x2APIC ID and the derived LDR (11.12.5.1). */
        l->s.id = l->index;
        l->s.ldr = lapic_x2apic_ldr(l->index);
    }
    return 0;
}

int lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *value)
{
    unsigned reg;
    uint32_t v;

    *value = 0;
    if (msr == LAPIC_MSR_APIC_BASE) {
        *value = l->s.apic_base;
        return 0;
    }
    if (msr == LAPIC_MSR_TSC_DEADLINE) {
        if ((l->s.lvt[LAPIC_LVT_TIMER] & (3u << 17)) == LAPIC_LVT_TIMER_TSC_DEADLINE)
            *value = l->s.tsc_deadline;
        return 0;
    }
    if (msr < LAPIC_MSR_X2APIC_FIRST || msr > LAPIC_MSR_X2APIC_LAST || !lapic_x2apic_mode(l))
        return -1;
    reg = (msr - LAPIC_MSR_X2APIC_FIRST) << 4;
    if (reg == LAPIC_REG_ICR_LOW) {
        *value = ((uint64_t)l->s.icr_high << 32) | l->s.icr_low;
        return 0;
    }
    if (!lapic_reg_read(l, reg, &v))
        return -1;
    *value = v;
    return 0;
}

int lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t value)
{
    unsigned reg;

    if (msr == LAPIC_MSR_APIC_BASE)
        return lapic_set_apic_base(l, value);
    if (msr == LAPIC_MSR_TSC_DEADLINE) {
        lapic_timer_write_tsc_deadline(l, value);
        return 0;
    }
    if (msr < LAPIC_MSR_X2APIC_FIRST || msr > LAPIC_MSR_X2APIC_LAST || !lapic_x2apic_mode(l))
        return -1;
    reg = (msr - LAPIC_MSR_X2APIC_FIRST) << 4;
    if (reg == LAPIC_REG_ICR_LOW) {
        if (value & X2APIC_ICR_RESERVED)
            return -1;
        l->s.icr_low = (uint32_t)value & ICR_LOW_MASK;
        l->s.icr_high = (uint32_t)(value >> 32);
        lapic_send_ipi(l, l->s.icr_low, l->s.icr_high, true);
        return 0;
    }
    if (value >> 32)
        return -1;
    switch (reg) {
    case LAPIC_REG_EOI:
    case LAPIC_REG_ESR:
        if (value)
            return -1;
        break;
    case LAPIC_REG_SELF_IPI:
        if (value & ~0xffull)
            return -1;
        break;
    case LAPIC_REG_TPR:
        if (value & ~0xffull)
            return -1;
        break;
    default:
        break;
    }
    return lapic_reg_write(l, reg, (uint32_t)value) ? 0 : -1;
}

/* ---- life cycle ---- */

/* Resets everything but IA32_APIC_BASE, the ID and the LINT pin levels:
 * the INIT reset (SDM 11.4.7.3), also used on hardware disable. */
static void lapic_reset_regs(struct lapic *l)
{
    struct lapic_state *s = &l->s;

    lapic_timer_reset(l);
    s->tpr = 0;
    s->ldr = lapic_x2apic_mode(l) ? lapic_x2apic_ldr(l->index) : 0;
    s->dfr = 0xffffffffu;
    s->svr = 0xff;
    memset(s->isr, 0, sizeof(s->isr));
    memset(s->tmr, 0, sizeof(s->tmr));
    memset(s->irr, 0, sizeof(s->irr));
    s->esr = 0;
    s->esr_pending = 0;
    for (int i = 0; i < LAPIC_LVT_COUNT; i++)
        s->lvt[i] = LAPIC_LVT_MASKED;
    /* Virtual wire on the BSP: what firmware would set up (see lapic.h). */
    if (s->apic_base & LAPIC_BASE_BSP)
        s->lvt[LAPIC_LVT_LINT0] = APIC_DM_EXTINT << 8;
    s->icr_low = 0;
    s->icr_high = 0;
    s->nmi_pending = 0;
    s->extint_pending = 0;
}

void lapic_reset(struct lapic *l)
{
    l->s.apic_base = LAPIC_DEFAULT_BASE | LAPIC_BASE_EN | (l->index == 0 ? LAPIC_BASE_BSP : 0);
    l->s.id = l->index << 24;
    lapic_reset_regs(l);
}

int lapic_create(struct lapic *l, struct apic_bus *bus, struct timerq *tq, unsigned index)
{
    int rc;

    memset(l, 0, sizeof(*l));
    l->bus = bus;
    l->tq = tq;
    l->index = index;
    timer_init(&l->timer, lapic_timer_fire, l);
    rc = apic_bus_attach_lapic(bus, index, l);
    if (rc < 0)
        return rc;
    lapic_reset(l);
    return 0;
}

void lapic_destroy(struct lapic *l)
{
    timerq_cancel(l->tq, &l->timer);
    if (l->bus && l->index < APIC_BUS_MAX_CPUS && l->bus->lapic[l->index] == l)
        apic_bus_detach_lapic(l->bus, l->index);
}

/* ---- migration ---- */

static const struct vms_field lapic_vms_fields[] = {
    VMS_U64(1, "apic_base", struct lapic_state, apic_base, 1),
    VMS_U32(2, "id", struct lapic_state, id, 1),
    VMS_U32(3, "tpr", struct lapic_state, tpr, 1),
    VMS_U32(4, "ldr", struct lapic_state, ldr, 1),
    VMS_U32(5, "dfr", struct lapic_state, dfr, 1),
    VMS_U32(6, "svr", struct lapic_state, svr, 1),
    VMS_U32_ARRAY(7, "isr", struct lapic_state, isr, 1),
    VMS_U32_ARRAY(8, "tmr", struct lapic_state, tmr, 1),
    VMS_U32_ARRAY(9, "irr", struct lapic_state, irr, 1),
    VMS_U32(10, "esr", struct lapic_state, esr, 1),
    VMS_U32(11, "esr_pending", struct lapic_state, esr_pending, 1),
    VMS_U32(12, "lvt_timer", struct lapic_state, lvt[LAPIC_LVT_TIMER], 1),
    VMS_U32(13, "lvt_thermal", struct lapic_state, lvt[LAPIC_LVT_THERMAL], 1),
    VMS_U32(14, "lvt_perf", struct lapic_state, lvt[LAPIC_LVT_PERF], 1),
    VMS_U32(15, "lvt_lint0", struct lapic_state, lvt[LAPIC_LVT_LINT0], 1),
    VMS_U32(16, "lvt_lint1", struct lapic_state, lvt[LAPIC_LVT_LINT1], 1),
    VMS_U32(17, "lvt_error", struct lapic_state, lvt[LAPIC_LVT_ERROR], 1),
    VMS_U32(18, "icr_low", struct lapic_state, icr_low, 1),
    VMS_U32(19, "icr_high", struct lapic_state, icr_high, 1),
    VMS_U32(20, "timer_initial", struct lapic_state, timer_initial, 1),
    VMS_U32(21, "timer_dcr", struct lapic_state, timer_dcr, 1),
    VMS_U64(22, "timer_start_ns", struct lapic_state, timer_start_ns, 1),
    VMS_U64(23, "timer_deadline_ns", struct lapic_state, timer_deadline_ns, 1),
    VMS_U64(24, "tsc_deadline", struct lapic_state, tsc_deadline, 1),
    VMS_U8(25, "timer_armed", struct lapic_state, timer_armed, 1),
    VMS_U8(26, "lint0_level", struct lapic_state, lint_level[0], 1),
    VMS_U8(27, "lint1_level", struct lapic_state, lint_level[1], 1),
    VMS_U8(28, "nmi_pending", struct lapic_state, nmi_pending, 1),
    VMS_U8(29, "extint_pending", struct lapic_state, extint_pending, 1),
};

static const char *const lapic_lvt_names[LAPIC_LVT_COUNT] = {
    "lvt_timer", "lvt_thermal", "lvt_perf", "lvt_lint0", "lvt_lint1", "lvt_error",
};

/* Every register may hold only what a guest write can leave in it. */
static int lapic_vms_post_load(void *opaque)
{
    struct lapic *l = opaque;
    const struct lapic_state *s = &l->s;
    uint64_t base = s->apic_base;
    const uint8_t flags[] = {s->timer_armed, s->lint_level[0], s->lint_level[1],
                             s->nmi_pending, s->extint_pending};
    static const char *const flag_names[] = {"timer_armed", "lint0_level", "lint1_level",
                                             "nmi_pending", "extint_pending"};
    const uint32_t *vecs[3] = {s->isr, s->tmr, s->irr};
    static const char *const vec_names[3] = {"isr", "tmr", "irr"};

    if (base & ~(LAPIC_BASE_ADDR_MASK | LAPIC_BASE_BSP | LAPIC_BASE_EXTD | LAPIC_BASE_EN) ||
        (base & (LAPIC_BASE_EXTD | LAPIC_BASE_EN)) == LAPIC_BASE_EXTD)
        return err_set(-EINVAL, "apic_base 0x%llx is invalid", (unsigned long long)base);
    if (s->tpr & ~0xffu)
        return err_set(-EINVAL, "tpr 0x%x has reserved bits", s->tpr);
    if (s->svr & ~0x3ffu)
        return err_set(-EINVAL, "svr 0x%x has reserved bits", s->svr);
    if ((s->dfr & 0x0fffffffu) != 0x0fffffffu)
        return err_set(-EINVAL, "dfr 0x%x has reserved bits clear", s->dfr);
    for (unsigned i = 0; i < 3; i++) {
        if (vecs[i][0] & 0xffffu) /* vectors 0-15 are never accepted */
            return err_set(-EINVAL, "%s has vectors 0-15 set (0x%x)", vec_names[i], vecs[i][0]);
    }
    for (unsigned i = 0; i < LAPIC_LVT_COUNT; i++) {
        if (s->lvt[i] & ~lapic_lvt_mask[i])
            return err_set(-EINVAL, "%s 0x%x has reserved bits", lapic_lvt_names[i], s->lvt[i]);
    }
    if ((s->lvt[LAPIC_LVT_TIMER] & (3u << 17)) == (3u << 17))
        return err_set(-EINVAL, "lvt_timer mode 3 is invalid");
    if (s->icr_low & ~ICR_LOW_MASK)
        return err_set(-EINVAL, "icr_low 0x%x has reserved bits", s->icr_low);
    if (s->timer_dcr & ~0xbu)
        return err_set(-EINVAL, "timer_dcr 0x%x has reserved bits", s->timer_dcr);
    for (unsigned i = 0; i < sizeof(flags); i++) {
        if (flags[i] > 1)
            return err_set(-EINVAL, "%s %u is not 0 or 1", flag_names[i],
                           flags[i]);
    }
    lapic_post_load(l);
    return 0;
}

const struct vms_desc lapic_vms = {
    .name = "lapic",
    .version = 1,
    .min_version = 1,
    .fields = lapic_vms_fields,
    .nfields = VMS_ARRAY_SIZE(lapic_vms_fields),
    .post_load = lapic_vms_post_load,
};
