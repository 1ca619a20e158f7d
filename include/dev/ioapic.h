/* I/O APIC (Intel 82093AA I/O Advanced Programmable Interrupt Controller
 * datasheet, order number 290566-001): 24 input pins, each with a 64-bit
 * redirection entry that turns an edge or level on the pin into an
 * interrupt message on the apic_bus.
 *
 * Registers: IOREGSEL at offset 0x00, IOWIN at 0x10 (the indirect
 * registers ID 0x00, version 0x01 = 0x00170011, arbitration 0x02,
 * redirection entries 0x10-0x3f), and the EOI register at 0x40 of later
 * (version 0x20) I/O APICs, accepted as an extension.
 *
 * Pin levels are electrical levels: with the polarity bit set (active low)
 * a pin is asserted while its level is 0. Boards should describe their
 * interrupts as active high in ACPI / MP tables (as QEMU does) so that a
 * device's irq_line can pass 1 = asserted.
 *
 * Not thread-safe: the core serializes every call with the device lock. */
#ifndef ROAM_DEV_IOAPIC_H
#define ROAM_DEV_IOAPIC_H

#include <stdint.h>

#include "core/bus.h"
#include "core/irq.h"
#include "dev/apic_bus.h"

#define IOAPIC_DEFAULT_BASE 0xfec00000ull
#define IOAPIC_MMIO_SIZE 0x1000
#define IOAPIC_NUM_PINS 24
#define IOAPIC_VERSION 0x00170011u /* max redirection entry 23, version 0x11 */

/* MMIO offsets */
#define IOAPIC_REG_SELECT 0x00
#define IOAPIC_REG_WINDOW 0x10
#define IOAPIC_REG_EOI 0x40

/* Indirect register indices (IOREGSEL) */
#define IOAPIC_INDEX_ID 0x00
#define IOAPIC_INDEX_VERSION 0x01
#define IOAPIC_INDEX_ARB 0x02
#define IOAPIC_INDEX_REDTBL 0x10 /* + 2 * pin (low), + 2 * pin + 1 (high) */

/* Redirection entry bits */
#define IOAPIC_RTE_DEST_LOGICAL (1ull << 11)
#define IOAPIC_RTE_DELIVERY_STATUS (1ull << 12)
#define IOAPIC_RTE_ACTIVE_LOW (1ull << 13)
#define IOAPIC_RTE_REMOTE_IRR (1ull << 14)
#define IOAPIC_RTE_LEVEL (1ull << 15)
#define IOAPIC_RTE_MASKED (1ull << 16)
#define IOAPIC_RTE_DEST_SHIFT 56

/* All migratable state, plain data with no pointers. */
struct ioapic_state {
    uint32_t id;        /* 4-bit I/O APIC ID (register bits 27:24) */
    uint32_t ioregsel;  /* selected indirect register */
    uint64_t redtbl[IOAPIC_NUM_PINS]; /* Remote IRR lives in bit 14 */
    uint32_t pin_level; /* bit n: electrical level of pin n */
    uint32_t reserved;
};

struct ioapic {
    struct ioapic_state s;
    /* Wiring, not migrated. */
    struct apic_bus *bus;
    struct ratelimit rl;
};

/* MMIO ops over IOAPIC_MMIO_SIZE bytes at IOAPIC_DEFAULT_BASE. */
extern const struct bus_ops ioapic_mmio_ops;

/* Initializes io at its reset state (every entry masked) with the given
 * I/O APIC ID, and attaches it to bus. */
void ioapic_create(struct ioapic *io, struct apic_bus *bus, uint8_t id);
void ioapic_destroy(struct ioapic *io);
/* Masks every entry and clears the registers; keeps the pin levels (they
 * belong to the devices) and the ID. */
void ioapic_reset(struct ioapic *io);

uint64_t ioapic_mmio_read(struct ioapic *io, uint64_t offset, unsigned size);
void ioapic_mmio_write(struct ioapic *io, uint64_t offset, uint64_t value, unsigned size);

/* Drives input pin (0..23) to level. Edge-triggered entries deliver on the
 * transition to asserted; a masked edge is lost. Level-triggered entries
 * deliver while asserted and Remote IRR is clear, and set Remote IRR; a
 * masked level stays pending and is delivered when unmasked. */
void ioapic_set_irq(struct ioapic *io, int pin, int level);
/* irq_line sink: opaque is the struct ioapic. */
void ioapic_line_set(void *opaque, int pin, int level);
/* An irq_line that drives pin. */
struct irq_line ioapic_irq_line(struct ioapic *io, int pin);

/* EOI of vector (from a LAPIC through the bus, or the EOI register):
 * clears Remote IRR of the level entries with that vector and delivers
 * again those whose pin is still asserted. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

/* The redirection entry of pin (for the core's debugging and tests). */
uint64_t ioapic_get_rte(const struct ioapic *io, int pin);

/* The migratable state (migrate/vmstate.h): struct ioapic_state (the
 * reserved word excepted): ID, IOREGSEL, the 24 redirection entries with
 * their Remote IRR bits, and the pin levels. vmstate_load's state is
 * &io->s, its opaque io; post_load only checks the values (the IOAPIC has
 * no timer and no output line: what it sent is in the LAPICs' IRRs). */
struct vms_desc;
extern const struct vms_desc ioapic_vms;

#endif
