/* Local APIC, xAPIC and x2APIC modes (Intel SDM Vol. 3A, chapter 11
 * "Advanced Programmable Interrupt Controller (APIC)"; x2APIC: 11.12; the
 * timer: 11.5.4; TSC-deadline mode: 11.5.4.1).
 *
 * One struct lapic per vCPU, attached to an apic_bus at its index (= its
 * initial APIC ID; index 0 is the BSP). A pure state machine: no engine, no
 * host clock; the timer runs on virtual time from the struct timerq given
 * at creation. Not thread-safe: the core serializes every call (and the
 * timerq callbacks) with the VM's device lock.
 *
 * Model choices (see also lapic.c):
 * - Version 0x00050014: version 0x14, max LVT entry 5, i.e. six LVTs
 *   (timer, thermal, performance, LINT0, LINT1, error). There is no CMCI
 *   LVT (reads 0 in xAPIC mode, #GP in x2APIC mode) and no EOI-broadcast
 *   suppression (SVR bit 12 is reserved).
 * - Timer clock: LAPIC_BUS_HZ = 1 GHz, i.e. one count per divide-value ns
 *   (as KVM). Periodic mode never fires more often than every
 *   LAPIC_TIMER_MIN_PERIOD_NS.
 * - Virtual wire: the BSP's LVT LINT0 resets to ExtINT, unmasked (what a
 *   PC BIOS sets up, and KVM's LINT0_REENABLED quirk), so the 8259's INTR
 *   reaches the CPU on a guest that never touches the APIC. While the APIC
 *   is hardware-disabled (IA32_APIC_BASE bit 11 clear) LINT0 is the CPU's
 *   INTR pin and LINT1 its NMI pin, whatever the LVTs say.
 * - A software-disabled APIC (SVR bit 8 clear) refuses fixed and lowest-
 *   priority messages, keeps its LVTs masked, and still takes NMI, INIT and
 *   SIPI; interrupts already in IRR stay deliverable (SDM 11.4.7.2).
 * - INIT and SIPI are not latched here: an INIT resets the LAPIC (INIT
 *   reset) and calls the bus's init callback, a SIPI calls its sipi
 *   callback; the core keeps the vCPU's run state.
 * - Remote IRR of the LINT0/LINT1 LVTs is not modelled (reads 0). */
#ifndef ROAM_DEV_LAPIC_H
#define ROAM_DEV_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/err.h"
#include "core/timerq.h"
#include "dev/apic_bus.h"

#define LAPIC_DEFAULT_BASE 0xfee00000ull
#define LAPIC_MMIO_SIZE 0x1000
#define LAPIC_VERSION 0x00050014u
#define LAPIC_BUS_HZ 1000000000ull
#define LAPIC_TIMER_MIN_PERIOD_NS 100000ull

/* lapic_pending() value for an interrupt whose vector the 8259 supplies. */
#define LAPIC_EXTINT 0x100

/* xAPIC register offsets in the 4 KiB page (x2APIC MSR = 0x800 + off/16). */
#define LAPIC_REG_ID 0x020
#define LAPIC_REG_VERSION 0x030
#define LAPIC_REG_TPR 0x080
#define LAPIC_REG_APR 0x090
#define LAPIC_REG_PPR 0x0a0
#define LAPIC_REG_EOI 0x0b0
#define LAPIC_REG_RRD 0x0c0
#define LAPIC_REG_LDR 0x0d0
#define LAPIC_REG_DFR 0x0e0
#define LAPIC_REG_SVR 0x0f0
#define LAPIC_REG_ISR 0x100 /* 8 registers, 0x10 apart */
#define LAPIC_REG_TMR 0x180
#define LAPIC_REG_IRR 0x200
#define LAPIC_REG_ESR 0x280
#define LAPIC_REG_LVT_CMCI 0x2f0
#define LAPIC_REG_ICR_LOW 0x300
#define LAPIC_REG_ICR_HIGH 0x310
#define LAPIC_REG_LVT_TIMER 0x320
#define LAPIC_REG_LVT_THERMAL 0x330
#define LAPIC_REG_LVT_PERF 0x340
#define LAPIC_REG_LVT_LINT0 0x350
#define LAPIC_REG_LVT_LINT1 0x360
#define LAPIC_REG_LVT_ERROR 0x370
#define LAPIC_REG_TIMER_INITIAL 0x380
#define LAPIC_REG_TIMER_CURRENT 0x390
#define LAPIC_REG_TIMER_DCR 0x3e0
#define LAPIC_REG_SELF_IPI 0x3f0 /* x2APIC only (MSR 0x83f) */

/* MSRs */
#define LAPIC_MSR_APIC_BASE 0x1b
#define LAPIC_MSR_TSC_DEADLINE 0x6e0
#define LAPIC_MSR_X2APIC_FIRST 0x800
#define LAPIC_MSR_X2APIC_LAST 0x8ff

/* IA32_APIC_BASE bits */
#define LAPIC_BASE_BSP (1ull << 8)
#define LAPIC_BASE_EXTD (1ull << 10) /* x2APIC mode */
#define LAPIC_BASE_EN (1ull << 11)   /* global enable */
#define LAPIC_BASE_ADDR_MASK 0x000ffffffffff000ull

/* SVR, LVT and ESR bits */
#define LAPIC_SVR_ENABLE (1u << 8)
#define LAPIC_SVR_FOCUS_DISABLE (1u << 9)
#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_LVT_LEVEL (1u << 15)
#define LAPIC_LVT_TIMER_ONESHOT (0u << 17)
#define LAPIC_LVT_TIMER_PERIODIC (1u << 17)
#define LAPIC_LVT_TIMER_TSC_DEADLINE (2u << 17)
#define LAPIC_ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define LAPIC_ESR_RECV_ILLEGAL_VECTOR (1u << 6)

/* LVT indices in lapic_state.lvt[] */
enum lapic_lvt {
    LAPIC_LVT_TIMER,
    LAPIC_LVT_THERMAL,
    LAPIC_LVT_PERF,
    LAPIC_LVT_LINT0,
    LAPIC_LVT_LINT1,
    LAPIC_LVT_ERROR,
    LAPIC_LVT_COUNT
};

/* All migratable state, plain data with no pointers. After loading it into
 * a created LAPIC, call lapic_post_load(). */
struct lapic_state {
    uint64_t apic_base;     /* IA32_APIC_BASE */
    uint32_t id;            /* ID register: xAPIC ID in bits 31:24; x2APIC: the ID */
    uint32_t tpr;
    uint32_t ldr;
    uint32_t dfr;
    uint32_t svr;
    uint32_t isr[8];        /* 256-bit: vector v is bit v%32 of word v/32 */
    uint32_t tmr[8];
    uint32_t irr[8];
    uint32_t esr;           /* the value reads return (latched by a write) */
    uint32_t esr_pending;   /* errors seen since the last ESR write */
    uint32_t lvt[LAPIC_LVT_COUNT];
    uint32_t icr_low;
    uint32_t icr_high;      /* xAPIC: dest in 31:24; x2APIC: 32-bit dest */
    uint32_t timer_initial; /* initial count register */
    uint32_t timer_dcr;     /* divide configuration register */
    uint64_t timer_start_ns;    /* virtual time the count was (re)loaded */
    uint64_t timer_deadline_ns; /* next expiry, valid if timer_armed */
    uint64_t tsc_deadline;      /* IA32_TSC_DEADLINE */
    uint8_t timer_armed;
    uint8_t lint_level[2];  /* input levels of LINT0 (8259 INTR) and LINT1 */
    uint8_t nmi_pending;
    uint8_t extint_pending; /* an ExtINT message waits for INTA */
    uint8_t reserved[3];
};

struct lapic {
    struct lapic_state s;
    /* Wiring, not migrated. */
    struct apic_bus *bus;
    struct timerq *tq;
    struct timer timer;
    unsigned index; /* bus index = initial APIC ID = x2APIC ID */
    struct ratelimit rl;
};

/* MMIO ops over the 4 KiB APIC page; the opaque is one struct lapic. */
extern const struct bus_ops lapic_mmio_ops;

/* Initializes l at the power-on state (IA32_APIC_BASE = 0xfee00000, enabled,
 * xAPIC mode, BSP flag if index == 0) and attaches it to bus at index.
 * Fails (-EINVAL, -EEXIST) if the index is invalid or taken. */
MUST_CHECK int lapic_create(struct lapic *l, struct apic_bus *bus, struct timerq *tq,
                            unsigned index);
/* Cancels the timer and detaches l from its bus. */
void lapic_destroy(struct lapic *l);
/* Power-on reset (RESET#): IA32_APIC_BASE and ID back to their defaults. */
void lapic_reset(struct lapic *l);
/* Re-arms the timer from l->s after a migration load. */
void lapic_post_load(struct lapic *l);

/* The migratable state (migrate/vmstate.h): struct lapic_state (reserved
 * bytes excepted), one section per vCPU with the LAPIC's index as the
 * instance. vmstate_load's state is &l->s, its opaque l; post_load checks
 * the register bits, IA32_APIC_BASE and the 0/1 flags before it calls
 * lapic_post_load(). */
struct vms_desc;
extern const struct vms_desc lapic_vms;

/* The xAPIC page. Reads and writes are ignored (reads all-ones) while the
 * APIC is hardware-disabled or in x2APIC mode. */
uint64_t lapic_mmio_read(struct lapic *l, uint64_t offset, unsigned size);
void lapic_mmio_write(struct lapic *l, uint64_t offset, uint64_t value, unsigned size);

/* RDMSR/WRMSR of IA32_APIC_BASE (0x1b), IA32_TSC_DEADLINE (0x6e0) and the
 * x2APIC range 0x800-0x8ff. Return 0, or -1 where the CPU raises #GP
 * (x2APIC registers outside x2APIC mode, reserved or read-only registers,
 * reserved bits, invalid APIC_BASE transitions, any other MSR). */
int lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *value);
int lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t value);

/* IA32_APIC_BASE and the page's guest-physical address (the core routes
 * that page to this LAPIC while this LAPIC's vCPU runs). */
uint64_t lapic_get_apic_base(const struct lapic *l);
uint64_t lapic_base_addr(const struct lapic *l);
bool lapic_hw_enabled(const struct lapic *l);
bool lapic_x2apic_mode(const struct lapic *l);

/* The CPU side. lapic_pending(): the vector the CPU would take now if
 * interrupts were enabled, LAPIC_EXTINT if the 8259 supplies it, or -1.
 * lapic_ack(): the interrupt acknowledge (IRR -> ISR, or the 8259's INTA
 * through the bus's extint_ack); returns the vector to inject, or -1 if
 * nothing is pending. */
int lapic_pending(struct lapic *l);
int lapic_ack(struct lapic *l);
/* Returns true once per NMI received (and clears it). */
bool lapic_take_nmi(struct lapic *l);
/* CR8 is TPR[7:4]. */
void lapic_set_cr8(struct lapic *l, uint64_t cr8);
uint64_t lapic_get_cr8(const struct lapic *l);

/* LINT0/LINT1 input pins (pin 0 or 1): LINT0 carries the 8259's INTR. */
void lapic_set_lint(struct lapic *l, int pin, int level);

/* Bus side, used by apic_bus.c. */
bool lapic_match_dest(const struct lapic *l, const struct apic_msg *m);
bool lapic_accept(struct lapic *l, const struct apic_msg *m);
uint8_t lapic_get_apr(const struct lapic *l);
uint8_t lapic_get_ppr(const struct lapic *l);
/* Vector v in IRR or ISR (for lowest-priority focus). */
bool lapic_is_focus(const struct lapic *l, uint8_t vector);
bool lapic_sw_enabled(const struct lapic *l);

/* Internal, shared by lapic.c and lapic_timer.c. */
void lapic_timer_reset(struct lapic *l);
void lapic_timer_write_initial(struct lapic *l, uint32_t count);
void lapic_timer_write_dcr(struct lapic *l, uint32_t dcr);
void lapic_timer_write_lvt(struct lapic *l, uint32_t old_lvt);
uint32_t lapic_timer_current(const struct lapic *l);
void lapic_timer_write_tsc_deadline(struct lapic *l, uint64_t tsc);
void lapic_timer_fire(void *opaque, uint64_t now_ns);
void lapic_local_deliver(struct lapic *l, enum lapic_lvt lvt);

#endif
