/* The KVM engine (DESIGN.md, "Engines"): /dev/kvm with a userspace irqchip
 * (no KVM_CREATE_IRQCHIP: the PIC, IOAPIC and LAPIC are roam's devices) and
 * KVM_MEM_LOG_DIRTY_PAGES. Spec: the Linux KVM API,
 * Documentation/virt/kvm/api.rst. This file: probe, VM, memory, dirty log
 * and the ops table; kvm_vcpu.c runs vCPUs; kvm_state.c converts state.
 *
 * Written for real VT-x/AMD-V hosts; on this project's machines /dev/kvm is
 * the kvm_pvm nested hypervisor (DESIGN.md, "KVM on this project's
 * machines"), where the same code runs with guest CPL0 emulated. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/log.h"
#include "kvm_internal.h"

/* The KVM device; ROAM_KVM_DEVICE overrides the path (tests use it to
 * simulate a host without KVM). */
static const char *kvm_dev_path(void)
{
    const char *p = getenv("ROAM_KVM_DEVICE");
    return p && p[0] ? p : "/dev/kvm";
}

int kvm_ioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do {
        r = ioctl(fd, req, arg);
    } while (r < 0 && errno == EINTR);
    return r;
}

static int kvm_open(int *out)
{
    const char *dev = kvm_dev_path();
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            return err_set(-ENOENT, "%s not found: this host has no KVM (load "
                                    "kvm_intel/kvm_amd, or use another engine)", dev);
        if (e == EACCES || e == EPERM)
            return err_set(-e, "%s: permission denied (add your user to the 'kvm' "
                               "group: sudo usermod -aG kvm $USER)", dev);
        return err_set(-e, "%s: %s", dev, strerror(e));
    }
    *out = fd;
    return 0;
}

static const struct {
    int cap;
    const char *name;
} kvm_required_caps[] = {
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
    {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
    {KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS"},
    {KVM_CAP_DEBUGREGS, "KVM_CAP_DEBUGREGS"},
};

static int kvm_check_host(int fd)
{
    int v = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (v != KVM_API_VERSION)
        return err_set(-ENOTSUP, "%s: KVM API version %d, roam needs %d", kvm_dev_path(), v,
                       KVM_API_VERSION);
    for (unsigned i = 0; i < sizeof(kvm_required_caps) / sizeof(kvm_required_caps[0]); i++)
        if (ioctl(fd, KVM_CHECK_EXTENSION, kvm_required_caps[i].cap) <= 0)
            return err_set(-ENOTSUP, "%s: this kernel's KVM lacks %s", kvm_dev_path(),
                           kvm_required_caps[i].name);
    return 0;
}

/* kvm_pvm, the paravirtual nested KVM of some cloud VMs (this project's
 * machines among them), runs guest ring 3 natively and emulates ring 0 in
 * its instruction emulator: a loop at CPL0 ran ~10,000x slower than at
 * CPL3 there, and a stock kernel does not get far (DESIGN.md). */
static const char *kvm_ring0_caveat(void)
{
    if (access("/sys/module/kvm_pvm", F_OK) == 0)
        return "/dev/kvm here is kvm_pvm, which emulates guest ring 0 instruction by "
               "instruction: a Linux kernel would crawl";
    return NULL;
}

static int kvm_probe(void)
{
    int fd = -1, rc;

    rc = kvm_open(&fd);
    if (rc < 0)
        return rc;
    rc = kvm_check_host(fd);
    close(fd);
    return rc;
}

/* MSRs that belong to roam's LAPIC device, so that the guest's RDMSR/WRMSR
 * of them must reach user space: IA32_APIC_BASE, IA32_TSC_DEADLINE and the
 * x2APIC range. Without a filter (KVM before 5.10) KVM answers 0x1b itself
 * (its own copy, which set_state keeps equal to the LAPIC's) and makes
 * TSC_DEADLINE read 0 and ignore writes; the x2APIC MSRs still reach user
 * space as invalid accesses (see kvm_enable_user_msr). Some kernels exempt
 * the x2APIC range from filtering (kvm_msr_allowed()); the INVAL exit
 * reason brings those accesses to user space all the same. */
static int kvm_set_msr_filter(struct engine_vm *vm)
{
    static uint8_t deny[256 / 8]; /* all zero: a 0 bit denies */
    struct kvm_msr_filter f;
    const uint32_t ranges[][2] = {{0x1b, 1}, {0x6e0, 1}, {0x800, 256}};

    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER) <= 0)
        return -ENOTSUP;
    memset(&f, 0, sizeof(f));
    f.flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
    for (unsigned i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        f.ranges[i].flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE;
        f.ranges[i].base = ranges[i][0];
        f.ranges[i].nmsrs = ranges[i][1];
        f.ranges[i].bitmap = deny;
    }
    if (kvm_ioctl(vm->vm_fd, KVM_X86_SET_MSR_FILTER, &f) < 0)
        return -errno;
    return 0;
}

/* RDMSR/WRMSR that KVM cannot complete go to user space instead of raising
 * #GP in the guest, so the core decides (it answers error = 1 for an MSR it
 * does not know, and the guest gets its #GP). UNKNOWN: MSRs KVM does not
 * implement; FILTER: the filter above; INVAL: MSRs KVM knows but refuses,
 * which includes the x2APIC MSRs when the APIC is not in the kernel. */
static void kvm_enable_user_msr(struct engine_vm *vm)
{
    struct kvm_enable_cap cap;
    const uint64_t reasons[] = {
        KVM_MSR_EXIT_REASON_UNKNOWN | KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_INVAL,
        KVM_MSR_EXIT_REASON_UNKNOWN | KVM_MSR_EXIT_REASON_FILTER,
    };

    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_USER_SPACE_MSR) <= 0) {
        log_warn("kvm", "KVM_CAP_X86_USER_SPACE_MSR is missing: MSRs unknown to KVM raise #GP "
                        "in the guest and roam's LAPIC MSRs are not reachable");
        return;
    }
    for (unsigned i = 0; i < 2 && !vm->user_msr; i++) {
        memset(&cap, 0, sizeof(cap));
        cap.cap = KVM_CAP_X86_USER_SPACE_MSR;
        cap.args[0] = reasons[i];
        vm->user_msr = kvm_ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) == 0;
    }
    if (!vm->user_msr) {
        log_warn("kvm", "KVM_ENABLE_CAP(KVM_CAP_X86_USER_SPACE_MSR): %s", strerror(errno));
        return;
    }
    int rc = kvm_set_msr_filter(vm);
    vm->msr_filter = rc == 0;
    if (rc < 0)
        log_warn("kvm", "KVM_X86_SET_MSR_FILTER: %s: KVM answers IA32_APIC_BASE and "
                        "IA32_TSC_DEADLINE itself",
                 strerror(-rc));
}

static int kvm_create_vm(const struct engine_vm_config *cfg, struct engine_vm **out)
{
    struct engine_vm *vm;
    uint64_t identity = KVM_IDENTITY_MAP_ADDR;
    int rc, r;

    *out = NULL;
    vm = calloc(1, sizeof(*vm));
    if (!vm)
        return err_set(-ENOMEM, "kvm: out of memory");
    vm->kvm_fd = vm->vm_fd = -1;
    vm->ncpus = cfg->ncpus;
    vm->model = cfg->model ? cfg->model : cpu_model_default();
    rc = host_kick_init();
    if (rc < 0)
        goto fail;
    rc = kvm_open(&vm->kvm_fd);
    if (rc < 0)
        goto fail;
    rc = kvm_check_host(vm->kvm_fd);
    if (rc < 0)
        goto fail;
    do {
        vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
    } while (vm->vm_fd < 0 && errno == EINTR);
    if (vm->vm_fd < 0) {
        rc = err_set(-errno, "KVM_CREATE_VM: %s", strerror(errno));
        goto fail;
    }
    vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (vm->run_size < (int)sizeof(struct kvm_run)) {
        rc = err_set(-EINVAL, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
        goto fail;
    }
    /* Must precede vCPU creation. */
    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
        kvm_ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0) {
        rc = err_set(-errno, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
        goto fail;
    }
    if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0) {
        rc = err_set(-errno, "KVM_SET_TSS_ADDR: %s", strerror(errno));
        goto fail;
    }
    vm->has_xsave = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
    r = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
    vm->xsave_size = r > 0 ? (r < (int)sizeof(struct kvm_xsave) ? (int)sizeof(struct kvm_xsave) : r)
                           : 0;
    kvm_enable_user_msr(vm);
    *out = vm;
    return 0;
fail:
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    if (vm->kvm_fd >= 0)
        close(vm->kvm_fd);
    free(vm);
    return rc;
}

static int kvm_set_memory_region(struct engine_vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
                                 void *hva, unsigned flags)
{
    struct kvm_userspace_memory_region r;

    if (slot >= KVM_MAX_SLOTS)
        return err_set(-EINVAL, "kvm: memory slot %u out of range (max %u)", slot,
                       KVM_MAX_SLOTS - 1);
    if ((gpa | size | (uintptr_t)hva) & 0xfff)
        return err_set(-EINVAL, "kvm: memory region gpa 0x%llx size 0x%llx is not page aligned",
                       (unsigned long long)gpa, (unsigned long long)size);
    memset(&r, 0, sizeof(r));
    r.slot = slot;
    r.flags = (flags & ENGINE_MEM_DIRTY_LOG) ? KVM_MEM_LOG_DIRTY_PAGES : 0;
    r.guest_phys_addr = gpa;
    r.memory_size = size; /* 0 deletes the slot */
    r.userspace_addr = (uintptr_t)hva;
    if (kvm_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
        return err_set(-errno, "KVM_SET_USER_MEMORY_REGION slot %u gpa 0x%llx size 0x%llx: %s",
                       slot, (unsigned long long)gpa, (unsigned long long)size,
                       strerror(errno));
    vm->slot[slot] = (struct kvm_slot){size != 0, gpa, size, flags};
    return 0;
}

/* Without KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 enabled (roam does not enable
 * it), KVM_GET_DIRTY_LOG returns the bitmap and clears it, re-protecting
 * the pages, in one step. The bitmap is an array of longs, 64-bit and
 * little-endian on x86-64: the same layout as uint64_t[]. */
static int kvm_dirty_log(struct engine_vm *vm, unsigned slot, uint64_t *bitmap)
{
    struct kvm_dirty_log d;

    if (slot >= KVM_MAX_SLOTS || !vm->slot[slot].used)
        return err_set(-EINVAL, "kvm: dirty log of unmapped slot %u", slot);
    if (!(vm->slot[slot].flags & ENGINE_MEM_DIRTY_LOG))
        return err_set(-EINVAL, "kvm: slot %u was mapped without dirty logging", slot);
    memset(&d, 0, sizeof(d));
    d.slot = slot;
    d.dirty_bitmap = bitmap;
    if (kvm_ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &d) < 0)
        return err_set(-errno, "KVM_GET_DIRTY_LOG slot %u: %s", slot, strerror(errno));
    return 0;
}

static void kvm_destroy_vm(struct engine_vm *vm)
{
    if (!vm)
        return;
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    if (vm->kvm_fd >= 0)
        close(vm->kvm_fd);
    free(vm);
}

const struct engine_ops kvm_engine_ops = {
    .name = "kvm",
    .huge_pages = true,
    .ring0_caveat = kvm_ring0_caveat,
    .probe = kvm_probe,
    .create_vm = kvm_create_vm,
    .create_vcpu = kvm_create_vcpu,
    .set_memory_region = kvm_set_memory_region,
    .run = kvm_run,
    .kick = kvm_kick,
    .get_state = kvm_vcpu_get_state,
    .set_state = kvm_vcpu_set_state,
    .dirty_log = kvm_dirty_log,
    .interrupt_ready = kvm_interrupt_ready,
    .request_interrupt_window = kvm_request_interrupt_window,
    .inject = kvm_inject,
    .tsc_hz = kvm_tsc_hz,
    .destroy_vcpu = kvm_destroy_vcpu,
    .destroy_vm = kvm_destroy_vm,
};
