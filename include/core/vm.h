/* A virtual machine: guest memory, buses, devices, vCPUs and their threads,
 * and the lifecycle (create, run, pause at a consistent point, resume,
 * stop). One mutex (vm->lock) serializes every device access and every
 * run-state change; vCPUs drop it only while the engine runs guest code. */
#ifndef ROAM_CORE_VM_H
#define ROAM_CORE_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/cpu_model.h"
#include "core/cpu_state.h"
#include "core/mem.h"
#include "core/timerq.h"
#include "engine/engine.h"
#include "host/host.h"

#define VM_MAX_CPUS 64

/* Process exit statuses (roam run). Guest debug-exit codes are odd
 * ((code << 1) | 1); roam's own statuses are even so they never collide. */
#define VM_STATUS_OK 0           /* guest stopped itself (reset/poweroff) or quit */
#define VM_STATUS_ERROR 2        /* roam failed: bad input or host error */
#define VM_STATUS_GUEST_CRASH 4  /* triple fault or engine internal error */
#define VM_STATUS_INTERRUPTED 6  /* stopped by a signal (Ctrl-C, SIGTERM) */

enum serial_mode { SERIAL_STDIO, SERIAL_FILE, SERIAL_NONE };

struct vm_config {
    uint64_t mem_size;
    unsigned ncpus;
    const char *engine;      /* "kvm", "auto", ... */
    const char *cpu_model;   /* NULL: the default model */
    const char *kernel;      /* multiboot image or Linux bzImage path */
    const char *cmdline;     /* never NULL after config defaults */
    const char *module;      /* optional multiboot module path */
    const char *initrd;      /* optional initrd path (Linux kernels) */
    enum serial_mode serial;
    const char *serial_path;
    const char *incoming;    /* migration URI to load state from instead of booting */
    const char *control;     /* control socket spec (unix:PATH, tcp:HOST:PORT) */
    bool start_paused;       /* vm_start leaves the vCPUs parked until vm_resume */
};

enum vcpu_mp_state {
    VCPU_RUNNABLE,
    VCPU_HALTED,     /* executed HLT; waits for an interrupt */
    VCPU_WAIT_SIPI,  /* an AP after INIT, or before its first SIPI */
};

struct vm;
struct lapic;

struct vcpu {
    struct vm *vm;
    unsigned index;
    struct engine_vcpu *ev;
    struct host_thread *thread;
    struct lapic *lapic;
    enum vcpu_mp_state mp_state; /* under vm->lock */
    bool init_pending;
    int sipi_vector;             /* -1 if none pending */
    bool in_engine;              /* inside engine->run (under vm->lock) */
    bool parked;                 /* acknowledged a pause request */
    uint64_t throttle_next_ns;   /* auto-converge: host time of the next hold */
    uint64_t exits;
};

struct vm_devices;

enum vm_state { VM_STATE_CREATED, VM_STATE_RUNNING, VM_STATE_PAUSED, VM_STATE_STOPPED };

struct vm {
    struct vm_config cfg;
    const struct engine_ops *eng;
    char engine_note[200]; /* why auto passed over an engine, if it did */
    bool ring0_kernel;     /* the kernel is Linux (bzImage or PVH), which lives in ring 0 */
    struct engine_vm *evm;
    const struct cpu_model *model;
    struct guest_mem mem;
    struct bus pio, mmio;
    struct timerq tq;
    struct host_mutex *lock;
    struct host_cond *cond;       /* any run-state change; vCPUs waiting in HLT/SIPI */
    struct host_cond *timer_cond; /* wakes the timer thread */
    struct host_thread *timer_thread;
    struct vm_devices *dev;
    unsigned ncpus;
    struct vcpu vcpu[VM_MAX_CPUS];

    enum vm_state state;
    bool stop_requested;
    int exit_status;
    char stop_reason[160];
    /* What the first stop request was, for roam run: a guest reset (which
     * --reboot restart turns into a fresh VM) or the user's Ctrl-A x. */
    bool reset_requested;
    bool quit_requested;
    bool pause_requested;
    unsigned parked_count;
    /* Guest TSC <-> virtual time: at virtual time tsc_anchor_ns the TSC
     * read tsc_anchor, and it advances at tsc_hz. Re-taken at start and on
     * resume, since an engine's TSC may run on while the VM is paused. */
    uint64_t tsc_anchor, tsc_anchor_ns, tsc_hz;

    /* Migration (migrate/migrate.c) and its vCPU throttle (auto-converge):
     * each vCPU is held throttle_pct percent of the time. */
    struct migration *mig;
    unsigned throttle_pct;
};

struct vms_desc;

/* One piece of device state that migrates: its description, the instance
 * (the vCPU index for per-CPU devices), the state struct and the opaque
 * post_load receives. */
struct vm_state_part {
    const struct vms_desc *desc;
    uint32_t instance;
    void *state;
    void *opaque;
};
#define VM_MAX_STATE_PARTS (VM_MAX_CPUS + 16)

/* Builds the VM: engine, memory, devices, loaded kernel. Does not start it. */
MUST_CHECK int vm_create(struct vm **out, const struct vm_config *cfg);
/* Starts the vCPU and timer threads and returns. */
MUST_CHECK int vm_start(struct vm *vm);
/* Waits until the VM stops and returns its exit status (VM_STATUS_* or the
 * guest's debug-exit status). */
int vm_wait(struct vm *vm);
/* Requests a stop (from any thread, with vm->lock held or not: see _locked). */
void vm_request_stop(struct vm *vm, int status, const char *reason);
void vm_request_stop_locked(struct vm *vm, int status, const char *reason);
/* Brings every vCPU out of the engine to a consistent point and keeps it
 * there; the virtual clock stops. Returns when all are parked. */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
void vm_destroy(struct vm *vm);
/* Sets the virtual clock (a paused or not yet started VM): timers and the
 * TSC anchor continue from now_ns. */
void vm_set_clock(struct vm *vm, uint64_t now_ns);
/* Parks the vCPU thread for the throttle share of each 10 ms period. */
void vm_set_throttle(struct vm *vm, unsigned pct);

/* Makes a vCPU re-evaluate its state soon (pending interrupt, INIT, pause):
 * kicks it out of the engine or wakes it. Call with vm->lock held. */
void vcpu_kick_locked(struct vcpu *v);

/* Virtual time (ns) at which the guest TSC reads tsc. */
uint64_t vm_tsc_to_ns(const struct vm *vm, uint64_t tsc);

/* Picks the engine for cfg->engine ("auto" tries each in engine_list, and
 * for a ring-0 kernel passes over one whose ring 0 would crawl). */
MUST_CHECK int vm_select_engine(const char *name, bool ring0_kernel, const struct engine_ops **out,
                                 char *note, size_t note_len);

/* Device model wiring (core/vm_devices.c). */
/* The IOAPIC's ID follows the CPUs' APIC IDs, as MP-table firmware does;
 * it is 4 bits wide. The device and the ACPI MADT both use it. */
static inline uint8_t vm_ioapic_id(const struct vm *vm)
{
    return (uint8_t)(vm->ncpus & 0xf);
}

MUST_CHECK int vm_devices_create(struct vm *vm);
void vm_devices_destroy(struct vm *vm);
/* Lists every device's migratable state, in a fixed order. */
unsigned vm_devices_state_parts(struct vm *vm, struct vm_state_part *out, unsigned max);
/* The state description of the device section called name, or NULL. */
const struct vms_desc *vm_devices_find_desc(const char *name);
/* Handles the stdin -> serial path and other periodic host I/O. */
void vm_devices_poll_host(struct vm *vm);
/* Interrupt acknowledge for a vCPU: returns a vector to inject or -1. */
int vm_devices_pending_interrupt(struct vcpu *v, bool ack);
/* Whether an NMI is pending for the vCPU; take consumes it. */
bool vm_devices_nmi_pending(struct vcpu *v, bool take);
/* MMIO/MSR accesses that belong to the vCPU's own LAPIC. */
bool vm_devices_lapic_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val);
int vm_devices_msr(struct vcpu *v, uint32_t index, bool write, uint64_t *val);

#endif
