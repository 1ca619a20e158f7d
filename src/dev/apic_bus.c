/* The APIC message fabric; see dev/apic_bus.h.
 * Spec: Intel SDM Vol. 3A 11.6.2 "Determining IPI Destination" (physical,
 * logical flat/cluster, broadcast), 11.6.2.4 "Lowest Priority Delivery
 * Mode" (arbitration priority, focus processor), 11.8.5 (level-triggered
 * EOI to the I/O APIC). */
#include "dev/apic_bus.h"

#include <string.h>

#include "dev/ioapic.h"
#include "dev/lapic.h"

void apic_bus_init(struct apic_bus *b, const struct apic_bus_ops *ops, void *opaque)
{
    memset(b, 0, sizeof(*b));
    if (ops)
        b->ops = *ops;
    b->opaque = opaque;
}

int apic_bus_attach_lapic(struct apic_bus *b, unsigned index, struct lapic *l)
{
    if (index >= APIC_BUS_MAX_CPUS)
        return err_set(-EINVAL, "apic bus: APIC ID %u out of range (max %u)", index,
                       APIC_BUS_MAX_CPUS - 1);
    if (b->lapic[index])
        return err_set(-EEXIST, "apic bus: APIC ID %u already attached", index);
    b->lapic[index] = l;
    if (index + 1 > b->ncpus)
        b->ncpus = index + 1;
    return 0;
}

void apic_bus_detach_lapic(struct apic_bus *b, unsigned index)
{
    if (index >= APIC_BUS_MAX_CPUS)
        return;
    b->lapic[index] = NULL;
    while (b->ncpus && !b->lapic[b->ncpus - 1])
        b->ncpus--;
}

void apic_bus_attach_ioapic(struct apic_bus *b, struct ioapic *io)
{
    b->ioapic = io;
}

static bool apic_bus_targets(const struct lapic *l, unsigned i, const struct apic_msg *m)
{
    switch (m->shorthand) {
    case APIC_SH_SELF:
        return (int)i == m->src;
    case APIC_SH_ALL_INCL_SELF:
        return true;
    case APIC_SH_ALL_EXCL_SELF:
        return (int)i != m->src;
    case APIC_SH_NONE:
    default:
        return lapic_match_dest(l, m);
    }
}

int apic_bus_deliver(struct apic_bus *b, const struct apic_msg *m)
{
    struct lapic *best = NULL;
    uint8_t best_apr = 0;
    bool best_focus = false;
    int accepted = 0;

    if (m->delivery == APIC_DM_SMI)
        return 0;
    for (unsigned i = 0; i < b->ncpus; i++) {
        struct lapic *l = b->lapic[i];

        if (!l || !lapic_hw_enabled(l) || !apic_bus_targets(l, i, m))
            continue;
        if (m->delivery != APIC_DM_LOWEST) {
            accepted += lapic_accept(l, m);
            continue;
        }
        /* Lowest priority: one target among those that can accept. */
        if (!lapic_sw_enabled(l) || best_focus)
            continue;
        if (!(l->s.svr & LAPIC_SVR_FOCUS_DISABLE) && lapic_is_focus(l, m->vector)) {
            best = l;
            best_focus = true;
            continue;
        }
        if (!best || lapic_get_apr(l) < best_apr) {
            best = l;
            best_apr = lapic_get_apr(l);
        }
    }
    if (best)
        accepted += lapic_accept(best, m);
    return accepted;
}

void apic_bus_eoi(struct apic_bus *b, uint8_t vector)
{
    if (b->ioapic)
        ioapic_eoi(b->ioapic, vector);
}

void apic_bus_kick(struct apic_bus *b, unsigned cpu)
{
    if (b->ops.kick)
        b->ops.kick(b->opaque, cpu);
}

int apic_bus_extint_ack(struct apic_bus *b)
{
    if (!b->ops.extint_ack)
        return -1;
    return b->ops.extint_ack(b->opaque);
}

uint64_t apic_bus_tsc_to_ns(struct apic_bus *b, unsigned cpu, uint64_t tsc)
{
    if (!b->ops.tsc_to_ns)
        return tsc;
    return b->ops.tsc_to_ns(b->opaque, cpu, tsc);
}
