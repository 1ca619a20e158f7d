/* Private to the KVM engine (the files in engine/kvm): the VM and vCPU
 * structures behind struct engine_vm / struct engine_vcpu. Linux-only. */
#ifndef ROAM_ENGINE_KVM_INTERNAL_H
#define ROAM_ENGINE_KVM_INTERNAL_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"
#include "host/host.h"

/* Fixed addresses KVM needs in the guest-physical space on Intel hosts
 * without unrestricted guest (real mode runs in vm86 with a private TSS and
 * identity page table). As QEMU: three pages at 0xfeffc000, inside the
 * MMIO hole below 4 GiB, which the core must keep free of RAM and devices. */
#define KVM_IDENTITY_MAP_ADDR 0xfeffc000ull
#define KVM_TSS_ADDR (KVM_IDENTITY_MAP_ADDR + 0x1000)

#define KVM_MAX_SLOTS 512

struct kvm_slot {
    bool used;
    uint64_t gpa, size;
    unsigned flags; /* ENGINE_MEM_* */
};

struct engine_vm {
    int kvm_fd, vm_fd;
    int run_size;          /* mmap size of a vCPU's kvm_run area */
    int xsave_size;        /* bytes for KVM_GET_XSAVE2, or 0 to use KVM_GET_XSAVE */
    bool has_xsave;        /* else KVM_GET/SET_FPU */
    bool user_msr;         /* KVM_CAP_X86_USER_SPACE_MSR enabled */
    bool msr_filter;       /* the LAPIC MSRs reach user space */
    unsigned ncpus;
    const struct cpu_model *model;
    struct kvm_slot slot[KVM_MAX_SLOTS];
};

/* What the last KVM_RUN left for the next one to complete. */
enum kvm_pending {
    KVM_PENDING_NONE,
    KVM_PENDING_IO,        /* PIO or MMIO write, PIO read: data already in kvm_run */
    KVM_PENDING_MMIO_READ, /* copy the core's exit->u.mmio.data to run->mmio.data */
    KVM_PENDING_MSR_READ,  /* copy data and error */
    KVM_PENDING_MSR_WRITE, /* copy error */
};

struct engine_vcpu {
    struct engine_vm *vm;
    unsigned index;
    int fd;
    struct kvm_run *run;
    /* The thread that runs the vCPU, recorded on its first run(). */
    struct host_thread_id tid;
    int tid_valid;         /* atomic: set once tid is written */
    int kick_pending;      /* atomic: a kick not yet answered by VM_EXIT_INTR */
    enum kvm_pending pending;
    struct vm_exit *last_exit; /* the exit the pending completion reads */
    struct vm_exit stash;  /* an exit produced while completing one (flush) */
    bool has_stash;
    bool want_window;      /* request_interrupt_window(on) */
    bool irq_queued;       /* KVM_INTERRUPT done since the last KVM_RUN */
    uint64_t cr8;          /* what KVM_RUN loads into CR8 (run->cr8) */
    void *xsave;           /* scratch buffer for KVM_GET/SET_XSAVE(2) */
    uint64_t tsc_hz;       /* the guest TSC's rate (KVM_GET_TSC_KHZ) */
};

/* kvm_state.c */
MUST_CHECK int kvm_vcpu_get_state(struct engine_vcpu *v, struct x86_cpu_state *s);
MUST_CHECK int kvm_vcpu_set_state(struct engine_vcpu *v, const struct x86_cpu_state *s);
/* Completes an I/O or MSR access left by the last KVM_RUN without running
 * guest code, so that the register state is consistent. */
MUST_CHECK int kvm_vcpu_flush_pending(struct engine_vcpu *v);

extern const struct engine_ops kvm_engine_ops;

/* kvm_vcpu.c */
MUST_CHECK int kvm_create_vcpu(struct engine_vm *vm, unsigned index, struct engine_vcpu **out);
MUST_CHECK int kvm_run(struct engine_vcpu *v, struct vm_exit *exit);
void kvm_kick(struct engine_vcpu *v);
uint64_t kvm_tsc_hz(struct engine_vcpu *v);
bool kvm_interrupt_ready(struct engine_vcpu *v);
void kvm_request_interrupt_window(struct engine_vcpu *v, bool on);
MUST_CHECK int kvm_inject(struct engine_vcpu *v, enum engine_event_type type, uint8_t vector);
void kvm_destroy_vcpu(struct engine_vcpu *v);

/* kvm.c */
/* ioctl() that retries on EINTR where the call has no side effect. */
int kvm_ioctl(int fd, unsigned long req, void *arg);

#endif
