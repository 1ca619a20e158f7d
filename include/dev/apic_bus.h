/* The APIC message fabric: it connects the local APICs (one per vCPU) and
 * the I/O APIC, and carries interrupt messages between them the way the
 * system bus does on P6 and later processors (Intel SDM Vol. 3A, chapter 11
 * "Advanced Programmable Interrupt Controller": 11.6 "Issuing
 * Interprocessor Interrupts", 11.6.2 "Determining IPI Destination",
 * 11.6.2.4 "Lowest Priority Delivery Mode"; x2APIC: 11.12.10).
 *
 * The bus also holds the callbacks through which the VMM core learns what
 * the interrupt controllers need of a vCPU (wake it, INIT it, start it) and
 * through which an ExtINT acknowledge reaches the 8259 PIC.
 *
 * Not thread-safe: the core serializes every call into the bus, the LAPICs
 * and the IOAPIC with one device lock, and the callbacks run with that lock
 * held (so they must not take it again). */
#ifndef ROAM_DEV_APIC_BUS_H
#define ROAM_DEV_APIC_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct lapic;
struct ioapic;

/* LAPICs are indexed by their initial APIC ID, 0..APIC_BUS_MAX_CPUS-1
 * (0xff is the xAPIC broadcast ID, so at most 255 CPUs). */
#define APIC_BUS_MAX_CPUS 255

/* Delivery modes (ICR, LVT and redirection-entry bits 10:8). */
enum apic_delivery {
    APIC_DM_FIXED = 0,
    APIC_DM_LOWEST = 1,
    APIC_DM_SMI = 2,
    APIC_DM_NMI = 4,
    APIC_DM_INIT = 5,
    APIC_DM_STARTUP = 6,
    APIC_DM_EXTINT = 7,
};

enum apic_dest_mode { APIC_DEST_PHYSICAL = 0, APIC_DEST_LOGICAL = 1 };
enum apic_trigger { APIC_TRIGGER_EDGE = 0, APIC_TRIGGER_LEVEL = 1 };
/* ICR bits 19:18. */
enum apic_shorthand {
    APIC_SH_NONE = 0,
    APIC_SH_SELF = 1,
    APIC_SH_ALL_INCL_SELF = 2,
    APIC_SH_ALL_EXCL_SELF = 3,
};

/* One interrupt message. */
struct apic_msg {
    /* Physical: an APIC ID. Logical: a message destination address that
     * each LAPIC compares with its LDR (flat or cluster model per its DFR;
     * x2APIC: cluster in bits 31:16, member bitmap in bits 15:0). With
     * x2apic == 0 the destination is 8 bits wide and 0xff broadcasts; with
     * x2apic == 1 it is 32 bits wide and 0xffffffff broadcasts. */
    uint32_t dest;
    enum apic_dest_mode dest_mode;
    enum apic_delivery delivery;
    enum apic_trigger trigger;
    enum apic_shorthand shorthand;
    uint8_t vector;
    uint8_t level;  /* ICR bit 14; 0 only in the INIT level de-assert IPI */
    uint8_t x2apic; /* 1: 32-bit x2APIC destination (from an x2APIC's ICR) */
    int src;        /* sending LAPIC's index for SELF / ALL_EXCL_SELF; -1 if none */
};

/* What the VMM core provides. Every member may be NULL (then the event is
 * dropped, ExtINT acknowledges return -1, TSC = virtual ns). */
struct apic_bus_ops {
    /* cpu's LAPIC now has something to deliver (an interrupt above its PPR,
     * an NMI or an ExtINT): wake the vCPU if it halts, kick it out of the
     * engine if it runs, so that it calls lapic_pending(). May be called
     * for the calling vCPU itself. */
    void (*kick)(void *opaque, unsigned cpu);
    /* An INIT reached cpu. The LAPIC has already reset itself (INIT reset,
     * SDM 11.4.7.3); the core resets the vCPU and puts it in
     * wait-for-SIPI. */
    void (*init)(void *opaque, unsigned cpu);
    /* A start-up IPI reached cpu. If the vCPU waits for a SIPI, the core
     * starts it in real mode at CS = vector << 8, IP = 0; otherwise the
     * SIPI is ignored (SDM 8.4.4.1). */
    void (*sipi)(void *opaque, unsigned cpu, uint8_t vector);
    /* The CPU acknowledges an ExtINT: run the 8259's INTA cycle and return
     * the vector it supplies (the core wires this to pic8259_ack), or -1. */
    int (*extint_ack)(void *opaque);
    /* Guest TSC -> virtual time, for the TSC-deadline timer: the virtual
     * time (ns) at which cpu's TSC reads tsc (values in the past may return
     * anything <= now). */
    uint64_t (*tsc_to_ns)(void *opaque, unsigned cpu, uint64_t tsc);
};

struct apic_bus {
    struct lapic *lapic[APIC_BUS_MAX_CPUS]; /* by index; NULL if absent */
    unsigned ncpus;                         /* highest attached index + 1 */
    struct ioapic *ioapic;                  /* may be NULL */
    struct apic_bus_ops ops;
    void *opaque; /* passed to every op */
};

/* ops may be NULL (no callbacks). */
void apic_bus_init(struct apic_bus *b, const struct apic_bus_ops *ops, void *opaque);

/* Attaching: lapic_create() and ioapic_create() call these. Attaching a
 * LAPIC fails with -EINVAL (index >= APIC_BUS_MAX_CPUS) or -EEXIST. */
MUST_CHECK int apic_bus_attach_lapic(struct apic_bus *b, unsigned index, struct lapic *l);
void apic_bus_detach_lapic(struct apic_bus *b, unsigned index);
void apic_bus_attach_ioapic(struct apic_bus *b, struct ioapic *io);

/* Delivers m to every LAPIC it addresses (shorthand, or physical/logical
 * destination). Lowest-priority delivery picks one target: the focus
 * processor if one already has the vector in IRR or ISR (unless the
 * target disables focus checking, SVR bit 9), otherwise the target with
 * the lowest arbitration priority (APR), ties going to the lowest index.
 * LAPICs that are hardware-disabled (IA32_APIC_BASE bit 11 clear) take no
 * messages. SMI is ignored. Returns how many LAPICs accepted the message
 * (a fixed interrupt is refused by a software-disabled LAPIC). */
int apic_bus_deliver(struct apic_bus *b, const struct apic_msg *m);

/* A LAPIC's EOI of a level-triggered vector: broadcast it to the IOAPIC,
 * which clears Remote IRR of the matching entries and delivers again while
 * the pin stays asserted. Called by the LAPIC. */
void apic_bus_eoi(struct apic_bus *b, uint8_t vector);

/* Callback helpers used by the devices. */
void apic_bus_kick(struct apic_bus *b, unsigned cpu);
int apic_bus_extint_ack(struct apic_bus *b);
uint64_t apic_bus_tsc_to_ns(struct apic_bus *b, unsigned cpu, uint64_t tsc);

#endif
