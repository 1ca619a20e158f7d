/* Execution engines (DESIGN.md, "Engines"): an ops table. An engine runs
 * vCPUs over guest memory and reports normalized exits; it never sees a
 * device, and devices never see it. core/ dispatches exits to the buses. */
#ifndef ROAM_ENGINE_ENGINE_H
#define ROAM_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cpu_model.h"
#include "core/cpu_state.h"
#include "core/err.h"

enum vm_exit_reason {
    VM_EXIT_NONE,
    VM_EXIT_PIO,        /* port I/O; for reads fill pio.data before the next run */
    VM_EXIT_MMIO,       /* memory-mapped I/O outside RAM; same for mmio.data */
    VM_EXIT_MSR_READ,   /* RDMSR of an MSR the engine does not keep itself */
    VM_EXIT_MSR_WRITE,
    VM_EXIT_HLT,        /* the vCPU executed HLT with no interrupt to take */
    VM_EXIT_IRQ_WINDOW, /* the vCPU can now take an external interrupt */
    VM_EXIT_INTR,       /* run() was interrupted by kick() */
    VM_EXIT_SHUTDOWN,   /* triple fault */
    VM_EXIT_INTERNAL,   /* the engine could not continue; see internal.desc */
};

struct vm_exit {
    enum vm_exit_reason reason;
    union {
        struct {
            uint16_t port;
            uint8_t size;     /* 1, 2 or 4 */
            uint8_t is_write;
            uint32_t count;   /* > 1 for string I/O */
            uint8_t *data;    /* size * count bytes, engine-owned */
        } pio;
        struct {
            uint64_t gpa;
            uint8_t size;     /* 1, 2, 4 or 8 */
            uint8_t is_write;
            uint8_t data[8];
        } mmio;
        struct {
            uint32_t index;
            uint64_t data;
            uint8_t error;    /* set by core: the access raises #GP */
        } msr;
        struct {
            char desc[160];
        } internal;
    } u;
};

struct engine_vm;
struct engine_vcpu;

struct engine_vm_config {
    unsigned ncpus;
    const struct cpu_model *model;
};

#define ENGINE_MEM_DIRTY_LOG 1u

enum engine_event_type { ENGINE_EVENT_INTR, ENGINE_EVENT_NMI };

struct engine_ops {
    const char *name;
    /* Guest RAM in transparent huge pages helps this engine: its
     * second-level page tables map 2 MiB at a time (KVM). An engine that
     * reaches RAM through its own TLB gains nothing from them and pays for
     * them where the host is slow to zero a fresh one (a migration's
     * destination touches a scattered few pages of each). */
    bool huge_pages;
    /* Optional: why guest ring 0 would crawl here (a nested hypervisor that
     * emulates it instruction by instruction), or NULL when it runs at
     * speed. Under --engine auto a kernel that lives in ring 0 (Linux) then
     * goes to the next engine. */
    const char *(*ring0_caveat)(void);
    /* 0 if the engine can run on this host, else an error saying why. */
    MUST_CHECK int (*probe)(void);
    MUST_CHECK int (*create_vm)(const struct engine_vm_config *cfg, struct engine_vm **out);
    MUST_CHECK int (*create_vcpu)(struct engine_vm *vm, unsigned index, struct engine_vcpu **out);
    /* Maps host memory at a guest-physical address in the given slot. */
    MUST_CHECK int (*set_memory_region)(struct engine_vm *vm, unsigned slot, uint64_t gpa,
                                        uint64_t size, void *hva, unsigned flags);
    /* Runs the vCPU on the calling thread until an exit or a kick. A vCPU
     * must always be run by the same thread. */
    MUST_CHECK int (*run)(struct engine_vcpu *vcpu, struct vm_exit *exit);
    /* Callable from any thread: makes run() return VM_EXIT_INTR soon. */
    void (*kick)(struct engine_vcpu *vcpu);
    /* get_state/set_state first finish the instruction behind the last
     * exit (with the data the core put in that struct vm_exit, which must
     * still be valid). If finishing it raises another exit, they return
     * -EBUSY and the next run() returns that exit; after a VM_EXIT_INTR
     * nothing is pending. */
    MUST_CHECK int (*get_state)(struct engine_vcpu *vcpu, struct x86_cpu_state *s);
    MUST_CHECK int (*set_state)(struct engine_vcpu *vcpu, const struct x86_cpu_state *s);
    /* Copies the slot's dirty bitmap (1 bit per 4 KiB page) into bitmap and
     * clears it. The region must have been mapped with ENGINE_MEM_DIRTY_LOG. */
    MUST_CHECK int (*dirty_log)(struct engine_vm *vm, unsigned slot, uint64_t *bitmap);
    /* True if an external interrupt can be injected now (IF=1, no shadow,
     * no event in delivery). */
    bool (*interrupt_ready)(struct engine_vcpu *vcpu);
    /* Asks for a VM_EXIT_IRQ_WINDOW when interrupt_ready becomes true. */
    void (*request_interrupt_window)(struct engine_vcpu *vcpu, bool on);
    MUST_CHECK int (*inject)(struct engine_vcpu *vcpu, enum engine_event_type type, uint8_t vector);
    /* The rate, in Hz, at which this vCPU's TSC advances (the CPU model's
     * rate where the engine can provide it, else the host's). */
    uint64_t (*tsc_hz)(struct engine_vcpu *vcpu);
    /* Optional: the VM is paused (on = false; no vCPU runs guest code) or
     * runs (on = true). An engine that can stops the guest TSC meanwhile,
     * as the core's virtual clock stops. A VM is created with it running. */
    void (*clock_run)(struct engine_vm *vm, bool on);
    void (*destroy_vcpu)(struct engine_vcpu *vcpu);
    void (*destroy_vm)(struct engine_vm *vm);
};

/* The engines built into this binary, NULL-terminated. */
extern const struct engine_ops *const engine_list[];
const struct engine_ops *engine_find(const char *name);

#endif
