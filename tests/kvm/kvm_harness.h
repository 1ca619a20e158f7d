/* Shared by the KVM engine tests (test_kvm.c, test_kvm_state.c): a VM with
 * 2 MiB of RAM and one vCPU, hand-assembled guest code, and run() under a
 * watchdog that kicks any run() taking longer than RUN_TIMEOUT_NS, so a
 * confused guest fails a test instead of hanging the suite. Include after
 * test.h. */
#ifndef ROAM_TESTS_KVM_HARNESS_H
#define ROAM_TESTS_KVM_HARNESS_H

#include <stdlib.h>
#include <unistd.h>

#include "core/cpu_model.h"
#include "core/cpu_state.h"
#include "engine/engine.h"
#include "host/host.h"

extern const struct engine_ops kvm_engine_ops;
static const struct engine_ops *const K = &kvm_engine_ops;

#define MEM_SIZE (2u << 20)
#define CODE 0x1000u
#define HANDLER 0x2000u
#define IDT 0x3000u
#define GDT 0x500u
#define STACK_TOP 0x8000u
#define MMIO_ADDR 0xd0000000u
#define RUN_TIMEOUT_NS (20ull * 1000 * 1000 * 1000)

/* The kvm_pvm nested hypervisor of this project's machines (DESIGN.md,
 * "KVM on this project's machines") departs from stock KVM in ways the
 * tests name: guest TSC = host TSC (writes are ignored), and CPUID leaf 1
 * at CPL0 carries the host's features. */
static inline int host_is_pvm(void)
{
    return access("/sys/module/kvm_pvm", F_OK) == 0;
}

struct tvm {
    struct engine_vm *vm;
    struct engine_vcpu *cpu;
    uint8_t *mem;
    struct vm_exit exit;
    /* watchdog */
    struct host_thread *wd;
    struct host_mutex *lock;
    struct host_cond *cond;
    uint64_t deadline; /* 0: not running */
    int stop, timed_out;
};

static inline void watchdog(void *arg)
{
    struct tvm *t = arg;
    host_mutex_lock(t->lock);
    while (!t->stop) {
        uint64_t now = host_time_ns();
        if (t->deadline && now >= t->deadline) {
            t->timed_out = 1;
            t->deadline = 0;
            K->kick(t->cpu);
        }
        host_cond_wait_until(t->cond, t->lock, now + 10 * 1000 * 1000);
    }
    host_mutex_unlock(t->lock);
}

static inline void tvm_destroy(struct tvm *t)
{
    if (t->wd) {
        host_mutex_lock(t->lock);
        t->stop = 1;
        host_cond_signal(t->cond);
        host_mutex_unlock(t->lock);
        host_thread_join(t->wd);
    }
    if (t->cond)
        host_cond_destroy(t->cond);
    if (t->lock)
        host_mutex_destroy(t->lock);
    if (t->cpu)
        K->destroy_vcpu(t->cpu);
    if (t->vm)
        K->destroy_vm(t->vm);
    if (t->mem)
        host_mem_release(t->mem, MEM_SIZE);
    memset(t, 0, sizeof(*t));
}

/* Returns NULL with the skip reason set, or a VM with 2 MiB of RAM at 0,
 * one vCPU in flat 32-bit mode at CODE, a GDT (08h code, 10h data) and an
 * empty IDT. */
static inline const char *tvm_create(struct tvm *t, unsigned mem_flags)
{
    static char why[300];
    struct engine_vm_config cfg = {1, cpu_model_default()};
    struct x86_cpu_state s;
    static const uint64_t gdt[] = {0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull};

    memset(t, 0, sizeof(*t));
    if (K->probe() < 0) {
        snprintf(why, sizeof(why), "KVM unavailable: %s", err_msg());
        return why;
    }
    if (K->create_vm(&cfg, &t->vm) < 0 || host_mem_alloc(MEM_SIZE, (void **)&t->mem) < 0 ||
        K->set_memory_region(t->vm, 0, 0, MEM_SIZE, t->mem, mem_flags) < 0 ||
        K->create_vcpu(t->vm, 0, &t->cpu) < 0 || host_mutex_create(&t->lock) < 0 ||
        host_cond_create(&t->cond) < 0 ||
        host_thread_create(&t->wd, watchdog, t, "kvm-watchdog") < 0) {
        snprintf(why, sizeof(why), "setting up a KVM VM failed: %s", err_msg());
        tvm_destroy(t);
        return why;
    }
    memcpy(t->mem + GDT, gdt, sizeof(gdt));
    x86_cpu_state_flat32(&s, CODE, 0, 0);
    s.gdtr.base = GDT;
    s.gdtr.limit = sizeof(gdt) - 1;
    s.idtr.base = IDT;
    s.idtr.limit = 0x3ff;
    s.gpr[X86_RSP] = STACK_TOP;
    if (K->set_state(t->cpu, &s) < 0) {
        snprintf(why, sizeof(why), "set_state of the flat32 state failed: %s", err_msg());
        tvm_destroy(t);
        return why;
    }
    return NULL;
}

static inline void tvm_code(struct tvm *t, uint32_t gpa, const uint8_t *code, size_t len)
{
    memcpy(t->mem + gpa, code, len);
}

/* Runs once; fails the test (returns -1) on an engine error or timeout. */
static inline int trun(struct tvm *t)
{
    int rc;
    host_mutex_lock(t->lock);
    t->deadline = host_time_ns() + RUN_TIMEOUT_NS;
    t->timed_out = 0;
    host_mutex_unlock(t->lock);
    rc = K->run(t->cpu, &t->exit);
    host_mutex_lock(t->lock);
    t->deadline = 0;
    int to = t->timed_out;
    host_mutex_unlock(t->lock);
    if (rc < 0) {
        printf("  run() failed: %s\n", err_msg());
        test_failed_ = 1;
        return -1;
    }
    if (to) {
        printf("  run() took longer than %llu s; the watchdog kicked it\n",
               RUN_TIMEOUT_NS / 1000000000ull);
        test_failed_ = 1;
        return -1;
    }
    if (t->exit.reason == VM_EXIT_INTERNAL)
        printf("  internal exit: %s\n", t->exit.u.internal.desc);
    return 0;
}

static inline int expect_pio(struct tvm *t, uint16_t port, uint8_t size, int is_write)
{
    if (trun(t) < 0)
        return -1;
    CHECK_EQ(t->exit.reason, VM_EXIT_PIO);
    if (t->exit.reason != VM_EXIT_PIO)
        return -1;
    CHECK_EQ(t->exit.u.pio.port, port);
    CHECK_EQ(t->exit.u.pio.size, size);
    CHECK_EQ(t->exit.u.pio.is_write, is_write);
    CHECK_EQ(t->exit.u.pio.count, 1);
    return 0;
}

static inline uint32_t pio_value(const struct tvm *t)
{
    uint32_t v = 0;
    memcpy(&v, t->exit.u.pio.data, t->exit.u.pio.size);
    return v;
}

static inline int expect_hlt(struct tvm *t)
{
    if (trun(t) < 0)
        return -1;
    CHECK_EQ(t->exit.reason, VM_EXIT_HLT);
    return t->exit.reason == VM_EXIT_HLT ? 0 : -1;
}

static inline void idt_gate(struct tvm *t, unsigned vec, uint32_t handler)
{
    uint64_t gate = (handler & 0xffffull) | (0x08ull << 16) | (0x8eull << 40) |
                    ((uint64_t)(handler >> 16) << 48);
    memcpy(t->mem + IDT + vec * 8, &gate, 8);
}

/* Puts the vCPU in 64-bit mode at CPL3 (IOPL 3, so OUT works) at rip, with
 * the first 2 MiB identity-mapped by one user-accessible large page. */
static inline int tvm_user64(struct tvm *t, uint64_t rip)
{
    const uint64_t pml4e = 0x11000 | 7, pdpte = 0x12000 | 7, pde = 0x87; /* P RW US (PS) */
    struct x86_cpu_state s;
    struct x86_segment code = {0, 0xffffffff, 0x2b, 0xb, 1, 3, 1, 0, 1, 0, 1, 0};
    struct x86_segment data = {0, 0xffffffff, 0x23, 0x3, 1, 3, 1, 0, 0, 1, 1, 0};

    memcpy(t->mem + 0x10000, &pml4e, 8);
    memcpy(t->mem + 0x11000, &pdpte, 8);
    memcpy(t->mem + 0x12000, &pde, 8);
    x86_cpu_state_reset(&s);
    s.cr0 = 0x80010031; /* PG WP NE ET PE */
    s.cr3 = 0x10000;
    s.cr4 = 0x620; /* OSXMMEXCPT OSFXSR PAE */
    s.msr.efer = 0xd01;
    s.seg[X86_CS] = code;
    for (unsigned i = X86_ES; i <= X86_GS; i++)
        if (i != X86_CS)
            s.seg[i] = data;
    s.seg[X86_TR] = (struct x86_segment){0x13000, 0x67, 0x30, 0xb, 0, 0, 1, 0, 0, 0, 0, 0};
    s.seg[X86_LDTR] = (struct x86_segment){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    s.gdtr = (struct x86_dtable){GDT, 0x3f};
    s.idtr = (struct x86_dtable){IDT, 0xfff};
    s.rip = rip;
    s.rflags = 0x3002;
    s.gpr[X86_RSP] = STACK_TOP;
    if (K->set_state(t->cpu, &s) < 0) {
        printf("  set_state (64-bit CPL3): %s\n", err_msg());
        test_failed_ = 1;
        return -1;
    }
    return 0;
}

#endif
