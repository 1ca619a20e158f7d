/* I/O APIC.
 * Spec: Intel 82093AA I/O Advanced Programmable Interrupt Controller
 * (IOAPIC) datasheet, order number 290566-001: 3.0 "Register Description"
 * (IOREGSEL, IOWIN, IOAPICID, IOAPICVER, IOAPICARB, IOREDTBL[0:23]); the
 * EOI register (offset 0x40) is from the version 0x20 I/O APICs of later
 * chipsets. Messages go out on the apic_bus (dev/apic_bus.h). */
#include "dev/ioapic.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "migrate/vmstate.h"

/* Writable bits: vector, delivery mode, destination mode, polarity,
 * trigger mode, mask (low half); destination (high half). Delivery status
 * and Remote IRR are read-only. */
#define RTE_WRITABLE_LOW 0x0001afffull
#define RTE_WRITABLE_HIGH 0xff00000000000000ull

PRINTF_LIKE(2, 3)
static void ioapic_log_guest(struct ioapic *io, const char *fmt, ...)
{
    char msg[160];
    va_list ap;

    if (log_get_level() < LOG_DEBUG || !ratelimit_allow(&io->rl))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_debug("ioapic", "%s", msg);
}

static unsigned rte_delivery(uint64_t rte)
{
    return (unsigned)(rte >> 8) & 7;
}

/* Level semantics (Remote IRR) apply to fixed and lowest-priority entries;
 * NMI, SMI, INIT and ExtINT are edge-triggered whatever bit 15 says. */
static bool rte_is_level(uint64_t rte)
{
    unsigned dm = rte_delivery(rte);

    return (rte & IOAPIC_RTE_LEVEL) && (dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST);
}

static bool ioapic_asserted(const struct ioapic *io, unsigned pin)
{
    bool level = (io->s.pin_level >> pin) & 1;

    return (io->s.redtbl[pin] & IOAPIC_RTE_ACTIVE_LOW) ? !level : level;
}

/* Sends pin's interrupt message; sets Remote IRR for a level interrupt
 * that a LAPIC accepted. */
static void ioapic_deliver(struct ioapic *io, unsigned pin)
{
    uint64_t rte = io->s.redtbl[pin];
    struct apic_msg m;
    int n;

    memset(&m, 0, sizeof(m));
    m.dest = (uint32_t)(rte >> IOAPIC_RTE_DEST_SHIFT);
    m.dest_mode = (rte & IOAPIC_RTE_DEST_LOGICAL) ? APIC_DEST_LOGICAL : APIC_DEST_PHYSICAL;
    m.delivery = (enum apic_delivery)rte_delivery(rte);
    m.vector = (uint8_t)rte;
    m.trigger = rte_is_level(rte) ? APIC_TRIGGER_LEVEL : APIC_TRIGGER_EDGE;
    m.shorthand = APIC_SH_NONE;
    m.level = 1;
    m.src = -1;
    if (m.delivery == 3 || m.delivery == APIC_DM_STARTUP) {
        ioapic_log_guest(io, "pin %u: reserved delivery mode %d", pin, (int)m.delivery);
        return;
    }
    n = apic_bus_deliver(io->bus, &m);
    if (n > 0 && m.trigger == APIC_TRIGGER_LEVEL)
        io->s.redtbl[pin] |= IOAPIC_RTE_REMOTE_IRR;
}

/* Delivers a pending level interrupt if nothing holds it back. */
static void ioapic_service_level(struct ioapic *io, unsigned pin)
{
    uint64_t rte = io->s.redtbl[pin];

    if (rte_is_level(rte) && !(rte & IOAPIC_RTE_MASKED) && !(rte & IOAPIC_RTE_REMOTE_IRR) &&
        ioapic_asserted(io, pin))
        ioapic_deliver(io, pin);
}

void ioapic_set_irq(struct ioapic *io, int pin, int level)
{
    bool was, now;
    uint64_t rte;

    if (pin < 0 || pin >= IOAPIC_NUM_PINS)
        return;
    was = ioapic_asserted(io, (unsigned)pin);
    if (level)
        io->s.pin_level |= 1u << pin;
    else
        io->s.pin_level &= ~(1u << pin);
    now = ioapic_asserted(io, (unsigned)pin);
    rte = io->s.redtbl[pin];
    if (rte & IOAPIC_RTE_MASKED)
        return; /* an edge is lost; a level stays pending in pin_level */
    if (rte_is_level(rte))
        ioapic_service_level(io, (unsigned)pin);
    else if (now && !was)
        ioapic_deliver(io, (unsigned)pin);
}

void ioapic_line_set(void *opaque, int pin, int level)
{
    ioapic_set_irq(opaque, pin, level);
}

struct irq_line ioapic_irq_line(struct ioapic *io, int pin)
{
    struct irq_line line = {ioapic_line_set, io, pin};

    return line;
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
    for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        uint64_t rte = io->s.redtbl[pin];

        if ((uint8_t)rte != vector || !(rte & IOAPIC_RTE_REMOTE_IRR))
            continue;
        io->s.redtbl[pin] = rte & ~IOAPIC_RTE_REMOTE_IRR;
        ioapic_service_level(io, pin);
    }
}

uint64_t ioapic_get_rte(const struct ioapic *io, int pin)
{
    if (pin < 0 || pin >= IOAPIC_NUM_PINS)
        return 0;
    return io->s.redtbl[pin];
}

/* ---- registers ---- */

static uint32_t ioapic_read_indirect(struct ioapic *io)
{
    uint32_t idx = io->s.ioregsel;

    switch (idx) {
    case IOAPIC_INDEX_ID:
    case IOAPIC_INDEX_ARB: /* the arbitration ID is loaded from the ID */
        return (io->s.id & 0xf) << 24;
    case IOAPIC_INDEX_VERSION:
        return IOAPIC_VERSION;
    default:
        break;
    }
    if (idx >= IOAPIC_INDEX_REDTBL && idx < IOAPIC_INDEX_REDTBL + 2 * IOAPIC_NUM_PINS) {
        uint64_t rte = io->s.redtbl[(idx - IOAPIC_INDEX_REDTBL) >> 1];
        return (idx & 1) ? (uint32_t)(rte >> 32) : (uint32_t)rte;
    }
    ioapic_log_guest(io, "read of reserved register 0x%x", idx);
    return 0;
}

static void ioapic_write_indirect(struct ioapic *io, uint32_t val)
{
    uint32_t idx = io->s.ioregsel;
    unsigned pin;
    uint64_t rte;

    if (idx == IOAPIC_INDEX_ID) {
        io->s.id = (val >> 24) & 0xf;
        return;
    }
    if (idx < IOAPIC_INDEX_REDTBL || idx >= IOAPIC_INDEX_REDTBL + 2 * IOAPIC_NUM_PINS) {
        ioapic_log_guest(io, "write to read-only or reserved register 0x%x", idx);
        return;
    }
    pin = (idx - IOAPIC_INDEX_REDTBL) >> 1;
    rte = io->s.redtbl[pin];
    if (idx & 1)
        rte = (rte & ~RTE_WRITABLE_HIGH) | (((uint64_t)val << 32) & RTE_WRITABLE_HIGH);
    else
        rte = (rte & ~RTE_WRITABLE_LOW) | (val & RTE_WRITABLE_LOW);
    if (!rte_is_level(rte))
        rte &= ~IOAPIC_RTE_REMOTE_IRR;
    io->s.redtbl[pin] = rte;
    /* A level interrupt held back by the mask goes out now. */
    ioapic_service_level(io, pin);
}

uint64_t ioapic_mmio_read(struct ioapic *io, uint64_t offset, unsigned size)
{
    uint64_t mask = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
    unsigned byte = (unsigned)(offset & 3);
    uint32_t v;

    if (offset < 4)
        v = io->s.ioregsel;
    else if (offset >= IOAPIC_REG_WINDOW && offset < IOAPIC_REG_WINDOW + 4)
        v = ioapic_read_indirect(io);
    else
        return 0;
    return ((uint64_t)v >> (byte * 8)) & mask;
}

void ioapic_mmio_write(struct ioapic *io, uint64_t offset, uint64_t value, unsigned size)
{
    if (offset == IOAPIC_REG_SELECT) {
        io->s.ioregsel = (uint32_t)value & 0xff;
    } else if (offset == IOAPIC_REG_WINDOW && size >= 4) {
        ioapic_write_indirect(io, (uint32_t)value);
    } else if (offset == IOAPIC_REG_EOI) {
        ioapic_eoi(io, (uint8_t)value);
    } else {
        ioapic_log_guest(io, "ignoring %u-byte write at 0x%llx", size,
                         (unsigned long long)offset);
    }
}

static uint64_t ioapic_ops_read(void *opaque, uint64_t offset, unsigned size)
{
    return ioapic_mmio_read(opaque, offset, size);
}

static void ioapic_ops_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    ioapic_mmio_write(opaque, offset, value, size);
}

const struct bus_ops ioapic_mmio_ops = {ioapic_ops_read, ioapic_ops_write};

/* ---- life cycle ---- */

void ioapic_reset(struct ioapic *io)
{
    io->s.ioregsel = 0;
    for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++)
        io->s.redtbl[pin] = IOAPIC_RTE_MASKED;
}

void ioapic_create(struct ioapic *io, struct apic_bus *bus, uint8_t id)
{
    memset(io, 0, sizeof(*io));
    io->bus = bus;
    io->s.id = id & 0xf;
    ioapic_reset(io);
    apic_bus_attach_ioapic(bus, io);
}

void ioapic_destroy(struct ioapic *io)
{
    if (io->bus && io->bus->ioapic == io)
        apic_bus_attach_ioapic(io->bus, NULL);
}

/* ---- migration ---- */

static const struct vms_field ioapic_vms_fields[] = {
    VMS_U32(1, "id", struct ioapic_state, id, 1),
    VMS_U32(2, "ioregsel", struct ioapic_state, ioregsel, 1),
    VMS_U64_ARRAY(3, "redtbl", struct ioapic_state, redtbl, 1),
    VMS_U32(4, "pin_level", struct ioapic_state, pin_level, 1),
};

static int ioapic_vms_post_load(void *opaque)
{
    struct ioapic *io = opaque;
    const struct ioapic_state *s = &io->s;

    if (s->id > 0xf)
        return err_set(-EINVAL, "id %u is over 15", s->id);
    if (s->ioregsel > 0xff)
        return err_set(-EINVAL, "ioregsel 0x%x is over 0xff", s->ioregsel);
    if (s->pin_level >> IOAPIC_NUM_PINS)
        return err_set(-EINVAL, "pin_level 0x%x has pins past %u", s->pin_level,
                       IOAPIC_NUM_PINS - 1);
    for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        uint64_t rte = s->redtbl[pin];

        if (rte & ~(RTE_WRITABLE_LOW | RTE_WRITABLE_HIGH | IOAPIC_RTE_REMOTE_IRR))
            return err_set(-EINVAL, "redtbl[%u] 0x%016llx has reserved bits", pin,
                           (unsigned long long)rte);
        if ((rte & IOAPIC_RTE_REMOTE_IRR) && !rte_is_level(rte))
            return err_set(-EINVAL, "redtbl[%u] has Remote IRR on an edge entry", pin);
    }
    return 0;
}

const struct vms_desc ioapic_vms = {
    .name = "ioapic",
    .version = 1,
    .min_version = 1,
    .fields = ioapic_vms_fields,
    .nfields = VMS_ARRAY_SIZE(ioapic_vms_fields),
    .post_load = ioapic_vms_post_load,
};
