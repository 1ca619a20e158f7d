/* KVM vCPUs: creation (CPUID, TSC rate), the run loop's exits, kicks and
 * event injection with a userspace irqchip. Spec: the Linux KVM API
 * (Documentation/virt/kvm/api.rst: KVM_RUN, struct kvm_run, KVM_INTERRUPT,
 * KVM_NMI, KVM_SET_CPUID2, KVM_SET_TSC_KHZ).
 *
 * Run-loop contract with the core (see also engine/engine.h):
 * - run() is called on one thread per vCPU. The struct vm_exit it fills
 *   must stay valid until the next run(), get_state() or set_state() of that
 *   vCPU: for reads (PIO in, MMIO read, RDMSR) the core fills the data (and
 *   msr.error) in place and the engine hands it to KVM then. KVM finishes
 *   the instruction (writes the register, advances RIP; for OUT and MMIO
 *   writes too) only on the next KVM_RUN, so get_state()/set_state() first
 *   complete it with a KVM_RUN that has immediate_exit set (no guest
 *   instruction runs). If that raises a further exit (the second half of a
 *   split MMIO access), they fail with -EBUSY and the next run() returns
 *   it. A vCPU whose last run() returned VM_EXIT_INTR has nothing pending,
 *   so the core should park a vCPU for a pause only after a VM_EXIT_INTR
 *   (kick it and run it once more).
 * - Kicks: kick() sets a flag and run->immediate_exit, then signals the
 *   vCPU thread (host_thread_kick). A kick that lands before KVM_RUN is
 *   seen by immediate_exit; one that lands inside makes KVM_RUN fail with
 *   EINTR. Either way run() returns VM_EXIT_INTR once per batch of kicks;
 *   a spurious VM_EXIT_INTR is possible and harmless.
 * - Interrupts: inject(ENGINE_EVENT_INTR) only when interrupt_ready();
 *   otherwise request_interrupt_window(true) and wait for
 *   VM_EXIT_IRQ_WINDOW. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/log.h"
#include "kvm_internal.h"

/* Bits KVM itself keeps in sync with the vCPU's state (CPUID.1:ECX.OSXSAVE
 * follows CR4, CPUID.1:EDX.APIC follows IA32_APIC_BASE.EN). */
#define CPUID1_ECX_RUNTIME (1u << 27)
#define CPUID1_EDX_RUNTIME (1u << 9)

/* Reads the table back and reports, without failing, where KVM presents
 * something other than the model. Stock KVM stores what it is given; the
 * kvm_pvm hypervisor of this project's machines replaces leaf 1's EBX, ECX
 * and EDX with the host's features and adds the XSAVE leaf 0xD, because
 * guest CPL3 code runs natively there and sees the host's CPUID anyway. */
static void kvm_check_cpuid(struct engine_vcpu *v, const struct cpuid_entry *tbl, unsigned n)
{
    const unsigned max = 64;
    struct kvm_cpuid2 *g = calloc(1, sizeof(*g) + max * sizeof(g->entries[0]));
    char msg[600];
    size_t len = 0;

    if (!g)
        return;
    g->nent = max;
    if (kvm_ioctl(v->fd, KVM_GET_CPUID2, g) < 0) {
        free(g);
        return;
    }
    msg[0] = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct kvm_cpuid_entry2 *k = NULL;
        for (unsigned j = 0; j < g->nent && !k; j++)
            if (g->entries[j].function == tbl[i].function && g->entries[j].index == tbl[i].index)
                k = &g->entries[j];
        if (!k) {
            len += (size_t)snprintf(msg + len, sizeof(msg) - len, " leaf 0x%x dropped;",
                                    tbl[i].function);
        } else {
            uint32_t want[4] = {tbl[i].eax, tbl[i].ebx, tbl[i].ecx, tbl[i].edx};
            uint32_t got[4] = {k->eax, k->ebx, k->ecx, k->edx};
            static const char *const rn[4] = {"eax", "ebx", "ecx", "edx"};
            if (tbl[i].function == 1) {
                got[2] = (got[2] & ~CPUID1_ECX_RUNTIME) | (want[2] & CPUID1_ECX_RUNTIME);
                got[3] = (got[3] & ~CPUID1_EDX_RUNTIME) | (want[3] & CPUID1_EDX_RUNTIME);
            }
            for (unsigned r = 0; r < 4 && len < sizeof(msg); r++)
                if (want[r] != got[r])
                    len += (size_t)snprintf(msg + len, sizeof(msg) - len,
                                            " leaf 0x%x %s 0x%08x -> 0x%08x;", tbl[i].function,
                                            rn[r], want[r], got[r]);
        }
        if (len >= sizeof(msg))
            break;
    }
    for (unsigned j = 0; j < g->nent && len < sizeof(msg); j++) {
        bool known = false;
        for (unsigned i = 0; i < n && !known; i++)
            known = g->entries[j].function == tbl[i].function;
        if (!known && (j == 0 || g->entries[j - 1].function != g->entries[j].function))
            len += (size_t)snprintf(msg + len, sizeof(msg) - len, " leaf 0x%x added;",
                                    g->entries[j].function);
    }
    if (len && len < sizeof(msg) && msg[len - 1] == ';')
        msg[len - 1] = 0;
    if (msg[0])
        log_info("kvm", "this KVM changed the CPUID of %s (seen at CPL0):%s", v->vm->model->name,
                 msg);
    free(g);
}

static int kvm_set_cpuid(struct engine_vcpu *v)
{
    struct cpuid_entry tbl[CPU_MODEL_MAX_CPUID];
    struct kvm_cpuid2 *c;
    unsigned n = cpu_model_cpuid(v->vm->model, v->index, v->vm->ncpus, tbl, CPU_MODEL_MAX_CPUID);
    int rc = 0;

    if (n > CPU_MODEL_MAX_CPUID)
        return err_set(-EOVERFLOW, "kvm: CPU model %s has too many CPUID leaves",
                       v->vm->model->name);
    c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
    if (!c)
        return err_set(-ENOMEM, "kvm: out of memory");
    c->nent = n;
    for (unsigned i = 0; i < n; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        e->function = tbl[i].function;
        e->index = tbl[i].index;
        e->flags = (tbl[i].flags & CPUID_FLAG_SIGNIFICANT_INDEX) ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX
                                                                 : 0;
        e->eax = tbl[i].eax;
        e->ebx = tbl[i].ebx;
        e->ecx = tbl[i].ecx;
        e->edx = tbl[i].edx;
    }
    if (kvm_ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
        rc = err_set(-errno, "KVM_SET_CPUID2 (CPU model %s): %s", v->vm->model->name,
                     strerror(errno));
    free(c);
    if (rc == 0 && v->index == 0)
        kvm_check_cpuid(v, tbl, n);
    return rc;
}

/* The model's TSC frequency. KVM runs the guest TSC at the host's rate
 * unless the CPU can scale it (KVM_CAP_TSC_CONTROL: VMX TSC scaling, AMD
 * TscRateMsr). Without scaling, KVM_SET_TSC_KHZ either fails (rate below
 * the host's) or turns on "always catch up" mode (rate above), which only
 * nudges the TSC forward at each entry; roam does not ask for that and
 * reports instead. Never fatal: the guest calibrates its TSC. */
static void kvm_set_tsc_rate(struct engine_vcpu *v)
{
    struct engine_vm *vm = v->vm;
    unsigned long want = (unsigned long)(vm->model->tsc_hz / 1000);
    int host_khz = -1;

    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_GET_TSC_KHZ) > 0)
        host_khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
    v->tsc_hz = host_khz > 0 ? (uint64_t)host_khz * 1000 : vm->model->tsc_hz;
    if (host_khz > 0 && (unsigned long)host_khz == want)
        return;
    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_CONTROL) <= 0) {
        if (v->index == 0)
            log_info("kvm", "no TSC scaling on this host (KVM_CAP_TSC_CONTROL absent): the guest "
                            "TSC runs at %d kHz, not %s's %lu kHz",
                     host_khz, vm->model->name, want);
        return;
    }
    if (ioctl(v->fd, KVM_SET_TSC_KHZ, want) < 0) {
        if (v->index == 0)
            log_warn("kvm", "KVM_SET_TSC_KHZ(%lu): %s: the guest TSC runs at %d kHz", want,
                     strerror(errno), host_khz);
    } else {
        v->tsc_hz = vm->model->tsc_hz;
    }
}

int kvm_create_vcpu(struct engine_vm *vm, unsigned index, struct engine_vcpu **out)
{
    struct engine_vcpu *v;
    int rc;

    *out = NULL;
    v = calloc(1, sizeof(*v));
    if (!v)
        return err_set(-ENOMEM, "kvm: out of memory");
    v->vm = vm;
    v->index = index;
    v->run = MAP_FAILED;
    do {
        v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
    } while (v->fd < 0 && errno == EINTR);
    if (v->fd < 0) {
        rc = err_set(-errno, "KVM_CREATE_VCPU %u: %s", index, strerror(errno));
        goto fail;
    }
    v->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (v->run == MAP_FAILED) {
        rc = err_set(-errno, "kvm: mmap of vCPU %u's kvm_run: %s", index, strerror(errno));
        goto fail;
    }
    if (vm->has_xsave) {
        size_t n = vm->xsave_size ? (size_t)vm->xsave_size : sizeof(struct kvm_xsave);
        v->xsave = calloc(1, n);
        if (!v->xsave) {
            rc = err_set(-ENOMEM, "kvm: out of memory");
            goto fail;
        }
    }
    rc = kvm_set_cpuid(v);
    if (rc < 0)
        goto fail;
    kvm_set_tsc_rate(v);
    *out = v;
    return 0;
fail:
    kvm_destroy_vcpu(v);
    return rc;
}

void kvm_destroy_vcpu(struct engine_vcpu *v)
{
    if (!v)
        return;
    if (v->run != MAP_FAILED)
        munmap(v->run, (size_t)v->vm->run_size);
    if (v->fd >= 0)
        close(v->fd);
    free(v->xsave);
    free(v);
}

/* ---- kicks ---- */

void kvm_kick(struct engine_vcpu *v)
{
    __atomic_store_n(&v->kick_pending, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&v->tid_valid, __ATOMIC_ACQUIRE))
        host_thread_kick(&v->tid);
}

/* Clears immediate_exit after a KVM_RUN, unless a kick is still pending.
 * Ordering (seq_cst): kick() stores kick_pending then immediate_exit; this
 * stores immediate_exit = 0 then reads kick_pending, so a kick whose flag
 * is not seen here stores immediate_exit = 1 after our store. */
static void kvm_rearm_immediate_exit(struct engine_vcpu *v, bool consume_kick)
{
    __atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
    if (consume_kick)
        __atomic_store_n(&v->kick_pending, 0, __ATOMIC_SEQ_CST);
    else if (__atomic_load_n(&v->kick_pending, __ATOMIC_SEQ_CST))
        __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

/* The first run() identifies the vCPU thread for kicks and makes sure the
 * kick signal is not blocked there (KVM_RUN only notices unblocked ones). */
static void kvm_bind_thread(struct engine_vcpu *v)
{
    sigset_t set;

    if (__atomic_load_n(&v->tid_valid, __ATOMIC_ACQUIRE))
        return;
    sigemptyset(&set);
    sigaddset(&set, host_kick_signal());
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    host_thread_self(&v->tid);
    __atomic_store_n(&v->tid_valid, 1, __ATOMIC_RELEASE);
}

/* ---- completions ---- */

/* Hands the core's answer to the last exit to KVM: kvm_run is where KVM
 * reads it on the next KVM_RUN. PIO reads need nothing (exit->u.pio.data
 * points into kvm_run). Once staged, the answer lives in kvm_run, which
 * only KVM_RUN consumes, so the core's struct vm_exit may be reused. */
static void kvm_stage_completion(struct engine_vcpu *v)
{
    const struct vm_exit *e = v->last_exit;
    struct kvm_run *run = v->run;

    switch (v->pending) {
    case KVM_PENDING_MMIO_READ:
        memcpy(run->mmio.data, e->u.mmio.data, sizeof(run->mmio.data));
        break;
    case KVM_PENDING_MSR_READ:
        run->msr.error = e->u.msr.error ? 1 : 0;
        run->msr.data = e->u.msr.error ? 0 : e->u.msr.data;
        break;
    case KVM_PENDING_MSR_WRITE:
        run->msr.error = e->u.msr.error ? 1 : 0;
        break;
    case KVM_PENDING_IO:
    case KVM_PENDING_NONE:
        return;
    }
    v->pending = KVM_PENDING_IO;
}

/* ---- run ---- */

static const char *kvm_suberror_name(uint32_t s)
{
    switch (s) {
    case KVM_INTERNAL_ERROR_EMULATION:
        return "emulation failure";
    case KVM_INTERNAL_ERROR_SIMUL_EX:
        return "exception while delivering an exception";
    case KVM_INTERNAL_ERROR_DELIVERY_EV:
        return "exit while delivering an event";
    case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
        return "unexpected hardware exit reason";
    default:
        return "unknown suberror";
    }
}

static void kvm_describe_internal(struct engine_vcpu *v, struct vm_exit *exit)
{
    struct kvm_run *run = v->run;
    char *d = exit->u.internal.desc;
    size_t len = sizeof(exit->u.internal.desc), n;
    struct kvm_regs regs;
    bool have_rip = ioctl(v->fd, KVM_GET_REGS, &regs) == 0;

    exit->reason = VM_EXIT_INTERNAL;
    switch (run->exit_reason) {
    case KVM_EXIT_INTERNAL_ERROR:
        n = (size_t)snprintf(d, len, "KVM_EXIT_INTERNAL_ERROR suberror %u (%s)",
                             run->internal.suberror, kvm_suberror_name(run->internal.suberror));
        for (uint32_t i = 0; i < run->internal.ndata && i < 4 && n < len; i++)
            n += (size_t)snprintf(d + n, len - n, "%s0x%llx", i ? " " : ", data ",
                                  (unsigned long long)run->internal.data[i]);
        break;
    case KVM_EXIT_FAIL_ENTRY:
        n = (size_t)snprintf(d, len, "KVM_EXIT_FAIL_ENTRY: hardware entry failure reason 0x%llx",
                             (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        break;
    case KVM_EXIT_UNKNOWN:
        n = (size_t)snprintf(d, len, "KVM_EXIT_UNKNOWN: hardware exit reason 0x%llx",
                             (unsigned long long)run->hw.hardware_exit_reason);
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        n = (size_t)snprintf(d, len, "KVM_EXIT_SYSTEM_EVENT type %u", run->system_event.type);
        break;
    default:
        n = (size_t)snprintf(d, len, "unexpected KVM exit reason %u", run->exit_reason);
        break;
    }
    if (have_rip && n < len)
        snprintf(d + n, len - n, " at rip 0x%llx", (unsigned long long)regs.rip);
}

/* Translates the exit KVM left in kvm_run. */
static void kvm_translate_exit(struct engine_vcpu *v, struct vm_exit *exit)
{
    struct kvm_run *run = v->run;

    memset(&exit->u, 0, sizeof(exit->u));
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        exit->reason = VM_EXIT_PIO;
        exit->u.pio.port = run->io.port;
        exit->u.pio.size = run->io.size;
        exit->u.pio.is_write = run->io.direction == KVM_EXIT_IO_OUT;
        exit->u.pio.count = run->io.count;
        exit->u.pio.data = (uint8_t *)run + run->io.data_offset;
        v->pending = KVM_PENDING_IO;
        return;
    case KVM_EXIT_MMIO:
        exit->reason = VM_EXIT_MMIO;
        exit->u.mmio.gpa = run->mmio.phys_addr;
        exit->u.mmio.size = (uint8_t)run->mmio.len;
        exit->u.mmio.is_write = run->mmio.is_write;
        if (run->mmio.is_write) {
            memcpy(exit->u.mmio.data, run->mmio.data, sizeof(exit->u.mmio.data));
            v->pending = KVM_PENDING_IO;
        } else {
            v->pending = KVM_PENDING_MMIO_READ;
        }
        return;
    case KVM_EXIT_X86_RDMSR:
        exit->reason = VM_EXIT_MSR_READ;
        exit->u.msr.index = run->msr.index;
        v->pending = KVM_PENDING_MSR_READ;
        return;
    case KVM_EXIT_X86_WRMSR:
        exit->reason = VM_EXIT_MSR_WRITE;
        exit->u.msr.index = run->msr.index;
        exit->u.msr.data = run->msr.data;
        v->pending = KVM_PENDING_MSR_WRITE;
        return;
    case KVM_EXIT_HLT:
        exit->reason = VM_EXIT_HLT;
        return;
    case KVM_EXIT_IRQ_WINDOW_OPEN:
        exit->reason = VM_EXIT_IRQ_WINDOW;
        return;
    case KVM_EXIT_SHUTDOWN:
        exit->reason = VM_EXIT_SHUTDOWN;
        return;
    case KVM_EXIT_INTR:
        exit->reason = VM_EXIT_INTR;
        return;
    case KVM_EXIT_SET_TPR:
        /* MOV to CR8 lowered the TPR (userspace irqchip only): an interrupt
         * the TPR held back may now be deliverable. The core re-evaluates
         * as after a kick; get_state() reports the new CR8. */
        exit->reason = VM_EXIT_INTR;
        return;
    default:
        kvm_describe_internal(v, exit);
        return;
    }
}

/* KVM finishes the instruction behind an I/O or MSR exit at the start of
 * the next KVM_RUN, before it looks at immediate_exit or signals
 * (api.rst: "The kernel side will first finish incomplete operations and
 * then check for pending signals"; x86 has done so since immediate_exit
 * exists). So a KVM_RUN with immediate_exit set completes it without
 * running guest code. Finishing one part of a REP INS/OUTS, or of an MMIO
 * access KVM splits, can need the next part from user space: KVM_RUN then
 * returns that exit. It is kept for the next run() and the caller gets
 * -EBUSY; the state is architecturally consistent (the string instruction
 * restarts with the remaining count) but the core should run() the vCPU
 * until VM_EXIT_INTR before relying on it. */
int kvm_vcpu_flush_pending(struct engine_vcpu *v)
{
    int r, e;

    if (v->has_stash)
        return err_set(-EBUSY, "kvm: vCPU %u is inside a multi-part I/O instruction: run() it "
                               "until VM_EXIT_INTR first", v->index);
    if (v->pending == KVM_PENDING_NONE)
        return 0;
    kvm_stage_completion(v);
    v->run->cr8 = v->cr8;
    __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    r = ioctl(v->fd, KVM_RUN, 0);
    e = errno;
    kvm_rearm_immediate_exit(v, false);
    v->irq_queued = false;
    v->cr8 = v->run->cr8;
    if (r < 0 && e == EINTR) {
        v->pending = KVM_PENDING_NONE;
        return 0;
    }
    if (r < 0)
        return err_set(-e, "kvm: completing vCPU %u's last exit: KVM_RUN: %s", v->index,
                       strerror(e));
    v->pending = KVM_PENDING_NONE;
    kvm_translate_exit(v, &v->stash);
    v->last_exit = &v->stash;
    v->has_stash = true;
    return err_set(-EBUSY, "kvm: vCPU %u is inside a multi-part I/O instruction: run() it until "
                           "VM_EXIT_INTR first", v->index);
}

int kvm_run(struct engine_vcpu *v, struct vm_exit *exit)
{
    struct kvm_run *run = v->run;
    int r, e;

    kvm_bind_thread(v);
    if (v->has_stash) {
        /* An exit that completing the previous one produced (above). */
        *exit = v->stash;
        v->last_exit = exit;
        v->has_stash = false;
        return 0;
    }
    kvm_stage_completion(v);
    run->request_interrupt_window = v->want_window;
    /* With a userspace irqchip KVM_RUN loads CR8 from here. */
    run->cr8 = v->cr8;
    r = ioctl(v->fd, KVM_RUN, 0);
    e = errno;
    v->irq_queued = false;
    v->cr8 = run->cr8;
    if (r < 0) {
        if (e != EINTR)
            return err_set(-e, "KVM_RUN (vCPU %u): %s", v->index, strerror(e));
        /* Kicked (or another signal). KVM finished any pending completion
         * before it noticed (see kvm_vcpu_flush_pending). */
        kvm_rearm_immediate_exit(v, true);
        v->pending = KVM_PENDING_NONE;
        memset(&exit->u, 0, sizeof(exit->u));
        exit->reason = VM_EXIT_INTR;
        v->last_exit = exit;
        return 0;
    }
    v->pending = KVM_PENDING_NONE;
    kvm_translate_exit(v, exit);
    v->last_exit = exit;
    return 0;
}

bool kvm_interrupt_ready(struct engine_vcpu *v)
{
    return !v->irq_queued && v->run->ready_for_interrupt_injection && v->run->if_flag;
}

void kvm_request_interrupt_window(struct engine_vcpu *v, bool on)
{
    v->want_window = on;
}

int kvm_inject(struct engine_vcpu *v, enum engine_event_type type, uint8_t vector)
{
    if (type == ENGINE_EVENT_NMI) {
        if (kvm_ioctl(v->fd, KVM_NMI, NULL) < 0)
            return err_set(-errno, "KVM_NMI (vCPU %u): %s", v->index, strerror(errno));
        return 0;
    }
    struct kvm_interrupt irq = {.irq = vector};
    if (kvm_ioctl(v->fd, KVM_INTERRUPT, &irq) < 0)
        return err_set(-errno, "KVM_INTERRUPT vector 0x%x (vCPU %u): %s", vector, v->index,
                       strerror(errno));
    v->irq_queued = true;
    return 0;
}

uint64_t kvm_tsc_hz(struct engine_vcpu *v)
{
    return v->tsc_hz;
}
