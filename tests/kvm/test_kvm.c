/* The KVM engine (engine/kvm) against /dev/kvm: exits, completions, state
 * round trips, dirty logging, kicks, interrupt injection, MSR exits and
 * CPUID. Every test skips, saying why, where KVM cannot run.
 *
 * The guests are a few hand-assembled instructions of 32-bit flat protected
 * mode (x86_cpu_state_flat32). On this project's machines guest CPL0 is
 * emulated instruction by instruction (DESIGN.md, "KVM on this project's
 * machines"), so they stay short. A watchdog kicks any run() that takes
 * longer than RUN_TIMEOUT_NS so a confused guest fails a test instead of
 * hanging the suite. */
#include <stdlib.h>
#include <unistd.h>

#include "core/cpu_model.h"
#include "core/cpu_state.h"
#include "engine/engine.h"
#include "host/host.h"
#include "test.h"

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
static int host_is_pvm(void)
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

static void watchdog(void *arg)
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

static void tvm_destroy(struct tvm *t)
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
static const char *tvm_create(struct tvm *t, unsigned mem_flags)
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

static void tvm_code(struct tvm *t, uint32_t gpa, const uint8_t *code, size_t len)
{
    memcpy(t->mem + gpa, code, len);
}

/* Runs once; fails the test (returns -1) on an engine error or timeout. */
static int trun(struct tvm *t)
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

static int expect_pio(struct tvm *t, uint16_t port, uint8_t size, int is_write)
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

static uint32_t pio_value(const struct tvm *t)
{
    uint32_t v = 0;
    memcpy(&v, t->exit.u.pio.data, t->exit.u.pio.size);
    return v;
}

static int expect_hlt(struct tvm *t)
{
    if (trun(t) < 0)
        return -1;
    CHECK_EQ(t->exit.reason, VM_EXIT_HLT);
    return t->exit.reason == VM_EXIT_HLT ? 0 : -1;
}

/* (1) OUT to a port (8- and 32-bit) and HLT. */
static void pio_and_hlt(void)
{
    static const uint8_t code[] = {
        0xb0, 0x42,                   /* mov al, 0x42 */
        0xe6, 0x10,                   /* out 0x10, al */
        0xb8, 0xef, 0xbe, 0xad, 0xde, /* mov eax, 0xdeadbeef */
        0x66, 0xba, 0x34, 0x12,       /* mov dx, 0x1234 */
        0xef,                         /* out dx, eax */
        0xf4,                         /* hlt */
    };
    struct tvm t;
    struct x86_cpu_state s;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));

    if (expect_pio(&t, 0x10, 1, 1) == 0)
        CHECK_EQ(pio_value(&t), 0x42);
    if (expect_pio(&t, 0x1234, 4, 1) == 0)
        CHECK_EQ(pio_value(&t), 0xdeadbeef);
    if (expect_hlt(&t) == 0) {
        CHECK_EQ(K->get_state(t.cpu, &s), 0);
        CHECK_EQ(s.rip, CODE + sizeof(code));
    }
    tvm_destroy(&t);
}

/* (2) An MMIO read whose data the test supplies, written back to a port;
 * an MMIO write; a PIO read completed by get_state() before any run(). */
static void mmio_read_write(void)
{
    static const uint8_t code[] = {
        0xa1, 0x00, 0x00, 0x00, 0xd0, /* mov eax, [0xd0000000] */
        0xe7, 0x11,                   /* out 0x11, eax */
        0xa3, 0x08, 0x00, 0x00, 0xd0, /* mov [0xd0000008], eax */
        0xe4, 0x12,                   /* in al, 0x12 */
        0xf4,                         /* hlt */
    };
    struct tvm t;
    struct x86_cpu_state s;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));

    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_MMIO);
    CHECK_EQ(t.exit.u.mmio.gpa, MMIO_ADDR);
    CHECK_EQ(t.exit.u.mmio.size, 4);
    CHECK_EQ(t.exit.u.mmio.is_write, 0);
    uint32_t v = 0xcafef00d;
    memcpy(t.exit.u.mmio.data, &v, 4);
    if (expect_pio(&t, 0x11, 4, 1) == 0)
        CHECK_EQ(pio_value(&t), 0xcafef00d);
    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_MMIO);
    CHECK_EQ(t.exit.u.mmio.gpa, MMIO_ADDR + 8);
    CHECK_EQ(t.exit.u.mmio.size, 4);
    CHECK_EQ(t.exit.u.mmio.is_write, 1);
    memcpy(&v, t.exit.u.mmio.data, 4);
    CHECK_EQ(v, 0xcafef00d);
    if (expect_pio(&t, 0x12, 1, 0) < 0)
        goto out;
    t.exit.u.pio.data[0] = 0x5a;
    /* The IN is finished (AL written, EIP advanced) before the state is
     * read, without running further. */
    CHECK_EQ(K->get_state(t.cpu, &s), 0);
    CHECK_EQ(s.gpr[X86_RAX], 0xcafef05a);
    CHECK_EQ(s.rip, CODE + sizeof(code) - 1);
    expect_hlt(&t);
out:
    tvm_destroy(&t);
}

/* String I/O: REP OUTSB hands the core all bytes at once (count > 1);
 * REP INSB stores what the core puts in the data buffer. */
static void string_pio(void)
{
    static const uint8_t code[] = {
        0xbe, 0x00, 0x40, 0x00, 0x00, /* mov esi, 0x4000 */
        0xb9, 0x04, 0x00, 0x00, 0x00, /* mov ecx, 4 */
        0x66, 0xba, 0x30, 0x00,       /* mov dx, 0x30 */
        0xf3, 0x6e,                   /* rep outsb */
        0xbf, 0x00, 0x50, 0x00, 0x00, /* mov edi, 0x5000 */
        0xb9, 0x03, 0x00, 0x00, 0x00, /* mov ecx, 3 */
        0xf3, 0x6c,                   /* rep insb */
        0xf4,                         /* hlt */
    };
    struct tvm t;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    memcpy(t.mem + 0x4000, "roam", 4);
    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_PIO);
    CHECK_EQ(t.exit.u.pio.port, 0x30);
    CHECK_EQ(t.exit.u.pio.is_write, 1);
    CHECK_EQ(t.exit.u.pio.size, 1);
    /* KVM may split a string over several exits; collect them. */
    char got[8] = {0};
    unsigned have = 0;
    for (;;) {
        if (t.exit.reason != VM_EXIT_PIO || t.exit.u.pio.port != 0x30)
            break;
        for (uint32_t i = 0; i < t.exit.u.pio.count && have < 4; i++)
            got[have++] = (char)t.exit.u.pio.data[i];
        if (have >= 4 || trun(&t) < 0)
            break;
    }
    CHECK_STR(got, "roam");
    unsigned filled = 0;
    for (;;) {
        if (trun(&t) < 0)
            goto out;
        if (t.exit.reason != VM_EXIT_PIO)
            break;
        CHECK_EQ(t.exit.u.pio.port, 0x30);
        CHECK_EQ(t.exit.u.pio.is_write, 0);
        for (uint32_t i = 0; i < t.exit.u.pio.count; i++)
            t.exit.u.pio.data[i] = (uint8_t)('x' + filled++);
    }
    CHECK_EQ(t.exit.reason, VM_EXIT_HLT);
    CHECK_EQ(filled, 3);
    CHECK(memcmp(t.mem + 0x5000, "xyz", 3) == 0);
out:
    tvm_destroy(&t);
}

/* A REP INSB longer than KVM's 4 KiB I/O buffer takes several exits. Read
 * the state between them: completing one part produces the next exit,
 * which get_state() cannot take, so it says so (-EBUSY) and run() hands
 * that exit over; nothing is lost or done twice. */
static void multipart_string_io(void)
{
    static const uint8_t code[] = {
        0xbf, 0x00, 0x00, 0x10, 0x00, /* mov edi, 0x100000 */
        0xb9, 0x00, 0x30, 0x00, 0x00, /* mov ecx, 0x3000 */
        0x66, 0xba, 0x31, 0x00,       /* mov dx, 0x31 */
        0xf3, 0x6c,                   /* rep insb */
        0xf4,                         /* hlt */
    };
    struct tvm t;
    struct x86_cpu_state s;
    unsigned total = 0, exits = 0, busy = 0;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    for (;;) {
        if (trun(&t) < 0)
            goto out;
        if (t.exit.reason != VM_EXIT_PIO)
            break;
        CHECK_EQ(t.exit.u.pio.port, 0x31);
        exits++;
        for (uint32_t i = 0; i < t.exit.u.pio.count; i++, total++)
            t.exit.u.pio.data[i] = (uint8_t)(total * 7);
        int rc = K->get_state(t.cpu, &s);
        if (rc == -EBUSY)
            busy++;
        else
            CHECK_EQ(rc, 0);
    }
    CHECK_EQ(t.exit.reason, VM_EXIT_HLT);
    CHECK_EQ(total, 0x3000);
    printf("  note: 0x3000 bytes of REP INSB: %u exits, get_state -EBUSY %u times\n", exits,
           busy);
    for (unsigned i = 0; i < 0x3000; i++)
        if (t.mem[0x100000 + i] != (uint8_t)(i * 7)) {
            printf("  byte %u of the buffer is 0x%02x\n", i, t.mem[0x100000 + i]);
            test_failed_ = 1;
            break;
        }
    CHECK_EQ(K->get_state(t.cpu, &s), 0);
    CHECK_EQ(s.gpr[X86_RCX], 0);
    CHECK_EQ(s.gpr[X86_RDI], 0x103000);
out:
    tvm_destroy(&t);
}

/* An MMIO read that straddles a page boundary is split by KVM into two
 * exits. get_state() between them completes the first part, which raises
 * the second exit: it returns -EBUSY and run() delivers that exit. */
static void split_mmio(void)
{
    static const uint8_t code[] = {
        0xa1, 0xfe, 0x0f, 0x00, 0xd0, /* mov eax, [0xd0000ffe] */
        0xe7, 0x11,                   /* out 0x11, eax */
        0xf4,                         /* hlt */
    };
    struct tvm t;
    struct x86_cpu_state s;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_MMIO);
    CHECK_EQ(t.exit.u.mmio.gpa, MMIO_ADDR + 0xffe);
    CHECK_EQ(t.exit.u.mmio.size, 2);
    t.exit.u.mmio.data[0] = 0x22;
    t.exit.u.mmio.data[1] = 0x11;
    int rc = K->get_state(t.cpu, &s);
    if (rc == 0) {
        printf("  note: KVM finished the split read without a second exit\n");
    } else {
        CHECK_EQ(rc, -EBUSY);
        if (trun(&t) < 0)
            goto out;
        CHECK_EQ(t.exit.reason, VM_EXIT_MMIO);
        CHECK_EQ(t.exit.u.mmio.gpa, MMIO_ADDR + 0x1000);
        CHECK_EQ(t.exit.u.mmio.size, 2);
        CHECK_EQ(t.exit.u.mmio.is_write, 0);
        t.exit.u.mmio.data[0] = 0x44;
        t.exit.u.mmio.data[1] = 0x33;
    }
    if (expect_pio(&t, 0x11, 4, 1) == 0 && rc != 0)
        CHECK_EQ(pio_value(&t), 0x33441122);
    expect_hlt(&t);
out:
    tvm_destroy(&t);
}

/* A pending MMIO read is completed by get_state() with the data the core
 * put in the exit, and set_state() does not let it land on the new state. */
static void completion_before_state_access(void)
{
    static const uint8_t code[] = {
        0xa1, 0x00, 0x00, 0x00, 0xd0, /* mov eax, [0xd0000000] */
        0xa1, 0x00, 0x00, 0x00, 0xd0, /* mov eax, [0xd0000000] */
        0xf4,                         /* hlt */
    };
    struct tvm t;
    struct x86_cpu_state s;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_MMIO);
    uint32_t v = 0x600df00d;
    memcpy(t.exit.u.mmio.data, &v, 4);
    CHECK_EQ(K->get_state(t.cpu, &s), 0);
    CHECK_EQ(s.gpr[X86_RAX], 0x600df00d);
    CHECK_EQ(s.rip, CODE + 5);
    /* The same again, then replace the state before running: the read
     * completes into the old state and the new one stands. */
    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_MMIO);
    memcpy(t.exit.u.mmio.data, &v, 4);
    s.gpr[X86_RAX] = 0x11111111;
    s.rip = CODE + 10;
    CHECK_EQ(K->set_state(t.cpu, &s), 0);
    if (expect_hlt(&t) == 0) {
        CHECK_EQ(K->get_state(t.cpu, &s), 0);
        CHECK_EQ(s.gpr[X86_RAX], 0x11111111);
        CHECK_EQ(s.rip, CODE + 11);
    }
out:
    tvm_destroy(&t);
}

/* A long-mode state with a non-trivial value in every field KVM keeps. */
static void fill_state(struct x86_cpu_state *s)
{
    for (unsigned i = 0; i < X86_NR_GPRS; i++)
        s->gpr[i] = 0x0101010101010101ull * (i + 1) ^ 0x8000000000000000ull;
    s->rip = 0xffffffff81000123ull;
    s->rflags = 0x2 | 0x1 | 0x4 | 0x80 | 0x200; /* CF PF SF IF */
    struct x86_segment code = {0, 0xffffffff, 0x10, 0xb, 1, 0, 1, 0, 1, 0, 1, 0};
    struct x86_segment data = {0, 0xffffffff, 0x18, 0x3, 1, 0, 1, 0, 0, 1, 1, 0};
    s->seg[X86_CS] = code;
    s->seg[X86_SS] = data;
    s->seg[X86_DS] = data;
    s->seg[X86_DS].selector = 0x2b;
    s->seg[X86_DS].dpl = 3;
    s->seg[X86_ES] = data;
    s->seg[X86_ES].avl = 1;
    s->seg[X86_FS] = data;
    s->seg[X86_FS].base = 0x7fff12345000ull;
    s->seg[X86_GS] = data;
    s->seg[X86_GS].base = 0xffff888012340000ull;
    s->seg[X86_LDTR] = (struct x86_segment){0x12345000, 0xfff, 0x28, 0x2, 0, 0, 1, 0, 0, 0, 0, 0};
    s->seg[X86_TR] =
        (struct x86_segment){0xfffffe0000003000ull, 0x4087, 0x30, 0xb, 0, 0, 1, 0, 0, 0, 0, 0};
    s->gdtr = (struct x86_dtable){0xfffffe0000001000ull, 0x7f};
    s->idtr = (struct x86_dtable){0xfffffe0000000000ull, 0xfff};
    s->cr0 = 0x80050033; /* PG WP AM NE ET MP PE */
    s->cr2 = 0x7f0012345678ull;
    s->cr3 = 0x1234000;
    s->cr4 = 0x6b8; /* OSXMMEXCPT OSFXSR PGE PAE PSE DE */
    s->cr8 = 5;
    s->dr[0] = 0x1000;
    s->dr[1] = 0x2000;
    s->dr[2] = 0xffffffff81000000ull;
    s->dr[3] = 0x7fff0000;
    s->dr6 = 0xffff0ff1;
    s->dr7 = 0x401;

    struct x86_msrs *m = &s->msr;
    m->efer = 0xd01; /* NXE LMA LME SCE */
    m->star = 0x0023001000000000ull;
    m->lstar = 0xffffffff81a00000ull;
    m->cstar = 0xffffffff81a00100ull;
    m->sfmask = 0x47700;
    m->kernel_gs_base = 0xffff888077600000ull;
    m->sysenter_cs = 0x10;
    m->sysenter_esp = 0xfffffe0000002000ull;
    m->sysenter_eip = 0xffffffff81a01000ull;
    m->pat = 0x0007010600070106ull;
    m->misc_enable = 0x1801;
    m->mtrr_def_type = 0xc06;
    for (unsigned i = 0; i < X86_MTRR_FIXED_COUNT; i++)
        m->mtrr_fixed[i] = i == 2 ? 0 : (i < 2 ? 0x0606060606060606ull : 0x0505050505050505ull);
    m->mtrr_var_base[0] = 0x80000000;
    m->mtrr_var_mask[0] = 0xff80000800ull;
    m->mtrr_var_base[1] = 0x100000006ull;
    m->mtrr_var_mask[1] = 0xff00000800ull;
    m->apic_base = 0xfee00900;

    struct x86_fxsave *f = &s->fpu;
    f->fcw = 0x27f;
    f->fsw = 0x3881;
    f->ftw = 0xc1;
    f->fop = 0x5d9;
    f->fip = 0x401000;
    f->fdp = 0x602010;
    f->mxcsr = 0x9fc0; /* FZ, DAZ, all masks, round up */
    for (unsigned i = 0; i < 8; i++)
        for (unsigned j = 0; j < 10; j++)
            f->st[i][j] = (uint8_t)(0x10 * i + j + 1);
    for (unsigned i = 0; i < 16; i++)
        for (unsigned j = 0; j < 16; j++)
            f->xmm[i][j] = (uint8_t)(0xa0 + i * 16 + j);

    s->events.interrupt_shadow = X86_SHADOW_STI;
    s->events.nmi_masked = 1;
    s->events.nmi_pending = 1;
    s->events.interrupt_injected = 1;
    s->events.interrupt_nr = 0x30;
    s->tsc = 0x123456789aull;
}

static void state_roundtrip_one(struct tvm *t, const struct x86_cpu_state *want)
{
    struct x86_cpu_state a, b;
    char what[160];

    if (K->set_state(t->cpu, want) < 0) {
        printf("  set_state: %s\n", err_msg());
        test_failed_ = 1;
        return;
    }
    CHECK_EQ(K->get_state(t->cpu, &a), 0);
    /* What KVM kept of what was set (the TSC moves on by itself). */
    if (!(a.tsc >= want->tsc && a.tsc - want->tsc < 10ull * 1000 * 1000 * 1000)) {
        printf("  %s: tsc set 0x%llx, read back 0x%llx\n",
               host_is_pvm() ? "note: kvm_pvm ignores TSC writes" : "tsc not set",
               (unsigned long long)want->tsc, (unsigned long long)a.tsc);
        if (!host_is_pvm())
            test_failed_ = 1;
    }
    a.tsc = want->tsc;
    if (!x86_cpu_state_equal(want, &a, what, sizeof(what))) {
        printf("  set -> get differs at %s\n", what);
        test_failed_ = 1;
    }
    /* get -> set -> get is the identity. */
    CHECK_EQ(K->get_state(t->cpu, &a), 0);
    CHECK_EQ(K->set_state(t->cpu, &a), 0);
    CHECK_EQ(K->get_state(t->cpu, &b), 0);
    CHECK(b.tsc >= a.tsc && b.tsc - a.tsc < 10ull * 1000 * 1000 * 1000);
    b.tsc = a.tsc;
    if (!x86_cpu_state_equal(&a, &b, what, sizeof(what))) {
        printf("  get -> set -> get differs at %s\n", what);
        test_failed_ = 1;
    }
}

/* (3) get -> set -> get of the full canonical state. */
static void state_roundtrip(void)
{
    struct tvm t;
    struct x86_cpu_state s, init;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);

    CHECK_EQ(K->get_state(t.cpu, &init), 0);
    /* The flat32 state itself. */
    state_roundtrip_one(&t, &init);

    memset(&s, 0, sizeof(s));
    s.fpu.mxcsr_mask = init.fpu.mxcsr_mask; /* the host's, read-only */
    fill_state(&s);
    state_roundtrip_one(&t, &s);

    /* An injected exception (#PF with error code) instead of the
     * interrupt, and a MOV SS shadow. */
    s.events.interrupt_injected = 0;
    s.events.interrupt_nr = 0;
    s.events.nmi_pending = 0;
    s.events.interrupt_shadow = X86_SHADOW_MOV_SS;
    s.events.exception_injected = 1;
    s.events.exception_nr = 14;
    s.events.exception_has_error_code = 1;
    s.events.exception_error_code = 0x2;
    state_roundtrip_one(&t, &s);

    /* The architectural reset state. */
    x86_cpu_state_reset(&s);
    s.fpu.mxcsr_mask = init.fpu.mxcsr_mask;
    state_roundtrip_one(&t, &s);
    tvm_destroy(&t);
}

/* (4) Dirty logging: the pages the guest writes, and only those. */
static void dirty_log(void)
{
    static const uint8_t code[] = {
        0xa3, 0x00, 0x00, 0x01, 0x00, /* mov [0x10000], eax */
        0xa3, 0x04, 0x30, 0x02, 0x00, /* mov [0x23004], eax */
        0xa3, 0xfc, 0xff, 0x1f, 0x00, /* mov [0x1ffffc], eax */
        0xf4,                         /* hlt */
    };
    uint64_t bitmap[MEM_SIZE / 4096 / 64];
    const unsigned want[] = {0x10, 0x23, 0x1ff};
    struct tvm t;
    const char *why = tvm_create(&t, ENGINE_MEM_DIRTY_LOG);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    CHECK_EQ(K->dirty_log(t.vm, 0, bitmap), 0);
    if (expect_hlt(&t) < 0)
        goto out;
    memset(bitmap, 0, sizeof(bitmap));
    CHECK_EQ(K->dirty_log(t.vm, 0, bitmap), 0);
    for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (!(bitmap[want[i] / 64] >> (want[i] % 64) & 1)) {
            printf("  page 0x%x written by the guest is not dirty\n", want[i]);
            test_failed_ = 1;
        }
        bitmap[want[i] / 64] &= ~(1ull << (want[i] % 64));
    }
    for (unsigned i = 0; i < MEM_SIZE / 4096; i++)
        if (bitmap[i / 64] >> (i % 64) & 1)
            printf("  note: page 0x%x is dirty too (not written by the guest program)\n", i);
    /* Reading cleared it. */
    CHECK_EQ(K->dirty_log(t.vm, 0, bitmap), 0);
    for (unsigned i = 0; i < MEM_SIZE / 4096 / 64; i++)
        CHECK_EQ(bitmap[i], 0);
    /* A slot mapped without logging refuses. */
    CHECK(K->set_memory_region(t.vm, 1, 0x400000, 0x10000, t.mem + 0x100000, 0) == 0);
    CHECK(K->dirty_log(t.vm, 1, bitmap) < 0);
out:
    tvm_destroy(&t);
}

struct kicker {
    struct engine_vcpu *cpu;
    uint64_t delay_ns;
    uint64_t kicked_at;
};

static void kicker_thread(void *arg)
{
    struct kicker *k = arg;
    host_sleep_ns(k->delay_ns);
    k->kicked_at = host_time_ns();
    K->kick(k->cpu);
}

/* (5) A kick from another thread ends run() while the guest spins; a kick
 * before run() is not lost. */
static void kick(void)
{
    static const uint8_t code[] = {0xeb, 0xfe}; /* jmp $ */
    struct tvm t;
    struct host_thread *th;
    struct kicker k;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));

    /* Before the first run: immediate_exit catches it. */
    K->kick(t.cpu);
    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_INTR);

    for (int i = 0; i < 3; i++) {
        k = (struct kicker){t.cpu, 50ull * 1000 * 1000, 0};
        if (host_thread_create(&th, kicker_thread, &k, "kicker") < 0) {
            printf("  thread: %s\n", err_msg());
            test_failed_ = 1;
            goto out;
        }
        uint64_t t0 = host_time_ns();
        int rc = trun(&t);
        uint64_t t1 = host_time_ns();
        host_thread_join(th);
        if (rc < 0)
            goto out;
        CHECK_EQ(t.exit.reason, VM_EXIT_INTR);
        CHECK(t1 - t0 >= 40ull * 1000 * 1000);
        if (i == 0)
            printf("  note: kick to return from run(): %llu us\n",
                   (unsigned long long)((t1 - k.kicked_at) / 1000));
    }
    /* The guest is still at its loop. */
    struct x86_cpu_state s;
    CHECK_EQ(K->get_state(t.cpu, &s), 0);
    CHECK_EQ(s.rip, CODE);
    /* After the INTR, no stale kick remains: the next run waits for one. */
    k = (struct kicker){t.cpu, 100ull * 1000 * 1000, 0};
    CHECK(host_thread_create(&th, kicker_thread, &k, "kicker") == 0);
    uint64_t t0 = host_time_ns();
    if (trun(&t) == 0) {
        CHECK_EQ(t.exit.reason, VM_EXIT_INTR);
        CHECK(host_time_ns() - t0 >= 80ull * 1000 * 1000);
    }
    host_thread_join(th);
out:
    tvm_destroy(&t);
}

static void idt_gate(struct tvm *t, unsigned vec, uint32_t handler)
{
    uint64_t gate = (handler & 0xffffull) | (0x08ull << 16) | (0x8eull << 40) |
                    ((uint64_t)(handler >> 16) << 48);
    memcpy(t->mem + IDT + vec * 8, &gate, 8);
}

/* (6) Interrupt injection in protected mode, through the interrupt window
 * and after HLT. The handlers end in HLT, not IRET: KVM's instruction
 * emulator implements IRET only in real mode, and on this project's
 * machines every CPL0 instruction goes through it (real_mode_interrupt
 * below covers IRET). */
static void interrupt_injection(void)
{
    static const uint8_t code[] = {
        0xb0, 0x01, 0xe6, 0x14, /* mov al, 1; out 0x14, al */
        0xfb,                   /* sti */
        0xeb, 0xfe,             /* jmp $: the window opens here */
    };
    static const uint8_t handler20[] = {
        0xb0, 0x77, 0xe6, 0x13, /* mov al, 0x77; out 0x13, al */
        0xfb, 0xf4,             /* sti; hlt */
        0xeb, 0xfe,             /* jmp $ */
    };
    static const uint8_t handler21[] = {
        0xb0, 0x78, 0xe6, 0x15, /* mov al, 0x78; out 0x15, al */
        0xf4,                   /* hlt */
    };
    struct tvm t;
    struct x86_cpu_state s;
    uint32_t frame[6];
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    tvm_code(&t, HANDLER, handler20, sizeof(handler20));
    tvm_code(&t, HANDLER + 0x100, handler21, sizeof(handler21));
    idt_gate(&t, 0x20, HANDLER);
    idt_gate(&t, 0x21, HANDLER + 0x100);

    /* IF=0: not ready; ask for the window. */
    CHECK(!K->interrupt_ready(t.cpu));
    K->request_interrupt_window(t.cpu, true);
    if (expect_pio(&t, 0x14, 1, 1) < 0)
        goto out;
    CHECK(!K->interrupt_ready(t.cpu));
    uint64_t t0 = host_time_ns();
    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_IRQ_WINDOW);
    printf("  note: the interrupt window exit came %llu us after the run started\n",
           (unsigned long long)((host_time_ns() - t0) / 1000));
    CHECK(K->interrupt_ready(t.cpu));
    K->request_interrupt_window(t.cpu, false);
    CHECK_EQ(K->inject(t.cpu, ENGINE_EVENT_INTR, 0x20), 0);
    CHECK(!K->interrupt_ready(t.cpu)); /* one is queued */
    if (expect_pio(&t, 0x13, 1, 1) < 0)
        goto out;
    CHECK_EQ(pio_value(&t), 0x77);
    if (expect_hlt(&t) < 0)
        goto out;
    CHECK(K->interrupt_ready(t.cpu));
    CHECK_EQ(K->inject(t.cpu, ENGINE_EVENT_INTR, 0x21), 0);
    if (expect_pio(&t, 0x15, 1, 1) < 0)
        goto out;
    CHECK_EQ(pio_value(&t), 0x78);
    if (expect_hlt(&t) < 0)
        goto out;
    /* Two interrupt frames (EIP, CS, EFLAGS) on the stack: the second
     * returns to after the first handler's HLT, the first to the loop. */
    CHECK_EQ(K->get_state(t.cpu, &s), 0);
    CHECK_EQ(s.gpr[X86_RSP], STACK_TOP - 24);
    memcpy(frame, t.mem + STACK_TOP - 24, sizeof(frame));
    CHECK_EQ(frame[0], HANDLER + 6);
    CHECK_EQ(frame[1], 0x08);
    CHECK_EQ(frame[3], CODE + 5);
    CHECK_EQ(frame[4], 0x08);
    CHECK(frame[5] & 0x200); /* IF was set */
out:
    tvm_destroy(&t);
}

/* (6b) Real mode (as after RESET or SIPI): an interrupt through the IVT
 * wakes HLT, and the handler's IRET returns after it. */
static void real_mode_interrupt(void)
{
    static const uint8_t code[] = {
        0xfb, 0xf4,             /* sti; hlt */
        0xb0, 0x03, 0xe6, 0x15, /* mov al, 3; out 0x15, al */
        0xf4,                   /* hlt */
    };
    static const uint8_t handler[] = {
        0xb0, 0x77, 0xe6, 0x13, /* mov al, 0x77; out 0x13, al */
        0xcf,                   /* iret */
    };
    const uint32_t ivt = HANDLER; /* segment 0, offset HANDLER */
    struct tvm t;
    struct x86_cpu_state s;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    tvm_code(&t, HANDLER, handler, sizeof(handler));
    memcpy(t.mem + 0x20 * 4, &ivt, 4);
    x86_cpu_state_reset(&s);
    s.seg[X86_CS].selector = 0;
    s.seg[X86_CS].base = 0;
    s.rip = CODE;
    s.gpr[X86_RSP] = STACK_TOP;
    if (K->set_state(t.cpu, &s) < 0) {
        printf("  set_state: %s\n", err_msg());
        test_failed_ = 1;
        goto out;
    }
    if (expect_hlt(&t) < 0)
        goto out;
    CHECK(K->interrupt_ready(t.cpu));
    CHECK_EQ(K->inject(t.cpu, ENGINE_EVENT_INTR, 0x20), 0);
    if (expect_pio(&t, 0x13, 1, 1) == 0)
        CHECK_EQ(pio_value(&t), 0x77);
    if (expect_pio(&t, 0x15, 1, 1) == 0)
        CHECK_EQ(pio_value(&t), 3);
    if (expect_hlt(&t) == 0) {
        CHECK_EQ(K->get_state(t.cpu, &s), 0);
        CHECK_EQ(s.gpr[X86_RSP], STACK_TOP);
        CHECK_EQ(s.rip, CODE + sizeof(code));
    }
out:
    tvm_destroy(&t);
}

/* NMI injection: it wakes HLT even with IF=0. */
static void nmi_injection(void)
{
    static const uint8_t code[] = {0xfa, 0xf4, 0xeb, 0xfe}; /* cli; hlt; jmp $ */
    static const uint8_t handler[] = {
        0xb0, 0x02, 0xe6, 0x13, /* mov al, 2; out 0x13, al */
        0xf4,                   /* hlt */
    };
    struct tvm t;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    tvm_code(&t, HANDLER, handler, sizeof(handler));
    idt_gate(&t, 2, HANDLER);
    if (expect_hlt(&t) < 0)
        goto out;
    CHECK(!K->interrupt_ready(t.cpu)); /* IF=0 */
    CHECK_EQ(K->inject(t.cpu, ENGINE_EVENT_NMI, 2), 0);
    if (expect_pio(&t, 0x13, 1, 1) == 0)
        CHECK_EQ(pio_value(&t), 2);
    expect_hlt(&t);
out:
    tvm_destroy(&t);
}

/* The core refusing an MSR (msr.error = 1) gives the guest #GP(0). */
static void msr_error_gp(void)
{
    static const uint8_t code[] = {
        0xb9, 0x30, 0x08, 0x00, 0x00, /* mov ecx, 0x830 */
        0x0f, 0x32,                   /* rdmsr */
        0xf4,                         /* hlt (not reached) */
    };
    static const uint8_t handler[] = {
        0x58,             /* pop eax: the error code */
        0xe7, 0x13,       /* out 0x13, eax */
        0x58,             /* pop eax: the faulting EIP */
        0xe7, 0x14,       /* out 0x14, eax */
        0xf4,             /* hlt */
    };
    struct tvm t;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    tvm_code(&t, HANDLER, handler, sizeof(handler));
    idt_gate(&t, 13, HANDLER);
    if (trun(&t) < 0)
        goto out;
    if (t.exit.reason != VM_EXIT_MSR_READ) {
        int reason = (int)t.exit.reason;
        tvm_destroy(&t);
        SKIP("RDMSR 0x830 did not reach user space (exit %d)", reason);
    }
    t.exit.u.msr.error = 1;
    if (expect_pio(&t, 0x13, 4, 1) == 0)
        CHECK_EQ(pio_value(&t), 0);
    if (expect_pio(&t, 0x14, 4, 1) == 0)
        CHECK_EQ(pio_value(&t), CODE + 5);
    expect_hlt(&t);
out:
    tvm_destroy(&t);
}

/* (7) RDMSR/WRMSR of MSRs that belong to roam's LAPIC reach the core, and
 * the data it supplies lands in EDX:EAX. */
static void msr_exits(void)
{
    static const uint8_t code[] = {
        0xb9, 0x30, 0x08, 0x00, 0x00, /* mov ecx, 0x830 (x2APIC ICR) */
        0x0f, 0x32,                   /* rdmsr */
        0xe7, 0x16,                   /* out 0x16, eax */
        0x89, 0xd0,                   /* mov eax, edx */
        0xe7, 0x17,                   /* out 0x17, eax */
        0xb9, 0xe0, 0x06, 0x00, 0x00, /* mov ecx, 0x6e0 (TSC_DEADLINE) */
        0xb8, 0x44, 0x33, 0x22, 0x11, /* mov eax, 0x11223344 */
        0xba, 0x88, 0x77, 0x66, 0x55, /* mov edx, 0x55667788 */
        0x0f, 0x30,                   /* wrmsr */
        0xb9, 0x1b, 0x00, 0x00, 0x00, /* mov ecx, 0x1b (APIC_BASE) */
        0x0f, 0x32,                   /* rdmsr */
        0xe7, 0x18,                   /* out 0x18, eax */
        0xf4,                         /* hlt */
    };
    struct tvm t;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));

    if (trun(&t) < 0)
        goto out;
    if (t.exit.reason != VM_EXIT_MSR_READ) {
        int reason = (int)t.exit.reason;
        tvm_destroy(&t);
        SKIP("RDMSR 0x830 did not reach user space (exit %d): this KVM lacks "
             "KVM_CAP_X86_USER_SPACE_MSR",
             reason);
    }
    CHECK_EQ(t.exit.u.msr.index, 0x830);
    t.exit.u.msr.data = 0x1122334455667788ull;
    if (expect_pio(&t, 0x16, 4, 1) == 0)
        CHECK_EQ(pio_value(&t), 0x55667788);
    if (expect_pio(&t, 0x17, 4, 1) == 0)
        CHECK_EQ(pio_value(&t), 0x11223344);
    if (trun(&t) < 0)
        goto out;
    if (t.exit.reason != VM_EXIT_MSR_WRITE) {
        printf("  note: WRMSR 0x6e0 stayed in KVM (exit %d): no MSR filter\n", t.exit.reason);
        goto out;
    }
    CHECK_EQ(t.exit.u.msr.index, 0x6e0);
    CHECK_EQ(t.exit.u.msr.data, 0x5566778811223344ull);
    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_MSR_READ);
    CHECK_EQ(t.exit.u.msr.index, 0x1b);
    t.exit.u.msr.data = 0xfee00900;
    if (expect_pio(&t, 0x18, 4, 1) == 0)
        CHECK_EQ(pio_value(&t), 0xfee00900);
    expect_hlt(&t);
out:
    tvm_destroy(&t);
}

/* (8) CPUID at CPL0 answers with roam-v1 (KVM_SET_CPUID2). */
static void cpuid_cpl0(void)
{
    static const uint8_t code[] = {
        0x31, 0xc0, 0x0f, 0xa2,       /* xor eax, eax; cpuid */
        0x89, 0xd8, 0xe7, 0x20,       /* mov eax, ebx; out 0x20, eax */
        0xb8, 0x01, 0x00, 0x00, 0x00, /* mov eax, 1 */
        0x0f, 0xa2,                   /* cpuid */
        0xe7, 0x21,                   /* out 0x21, eax */
        0x89, 0xd8, 0xe7, 0x22,       /* mov eax, ebx; out 0x22, eax */
        0x89, 0xc8, 0xe7, 0x23,       /* mov eax, ecx; out 0x23, eax */
        0x89, 0xd0, 0xe7, 0x24,       /* mov eax, edx; out 0x24, eax */
        0xb8, 0x00, 0x00, 0x00, 0x40, /* mov eax, 0x40000000 */
        0x0f, 0xa2,                   /* cpuid */
        0x89, 0xd8, 0xe7, 0x25,       /* mov eax, ebx; out 0x25, eax */
        0xb8, 0x01, 0x00, 0x00, 0x80, /* mov eax, 0x80000001 */
        0x0f, 0xa2,                   /* cpuid */
        0x89, 0xd0, 0xe7, 0x26,       /* mov eax, edx; out 0x26, eax */
        0xf4,                         /* hlt */
    };
    struct cpuid_entry tbl[CPU_MODEL_MAX_CPUID];
    unsigned n = cpu_model_cpuid(cpu_model_default(), 0, 1, tbl, CPU_MODEL_MAX_CPUID);
    uint32_t l0[4], l1[4], h[4], e1[4], got[7] = {0};
    struct tvm t;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    cpu_model_cpuid_lookup(tbl, n, 0, 0, l0);
    cpu_model_cpuid_lookup(tbl, n, 1, 0, l1);
    cpu_model_cpuid_lookup(tbl, n, 0x40000000, 0, h);
    cpu_model_cpuid_lookup(tbl, n, 0x80000001, 0, e1);

    for (unsigned i = 0; i < 7; i++) {
        if (expect_pio(&t, (uint16_t)(0x20 + i), 4, 1) < 0)
            goto out;
        got[i] = pio_value(&t);
    }
    expect_hlt(&t);
    CHECK_EQ(got[0], l0[1]); /* "Genu" */
    CHECK_EQ(got[1], l1[0]); /* signature */
    CHECK_EQ(got[5], h[1]);  /* "roam" */
    CHECK_EQ(got[6], e1[3]); /* SYSCALL NX LM */
    CHECK_EQ(got[2], l1[1]); /* CLFLUSH size, count, APIC ID */
    if (got[3] != l1[2] || got[4] != l1[3]) {
        if (!host_is_pvm()) {
            printf("  leaf 1 ecx/edx 0x%08x 0x%08x, roam-v1 says 0x%08x 0x%08x\n", got[3],
                   got[4], l1[2], l1[3]);
            test_failed_ = 1;
            goto out;
        }
        if (test_failed_)
            goto out;
        tvm_destroy(&t);
        SKIP("kvm_pvm presents the host's CPUID.1 ECX/EDX at CPL0 (0x%08x 0x%08x; roam-v1 says "
             "0x%08x 0x%08x: no SSE3, hypervisor bit); leaves 0, 0x40000000, 0x80000001 and "
             "1.EAX/EBX match roam-v1",
             got[3], got[4], l1[2], l1[3]);
    }
    CHECK((got[3] & 1) == 0); /* no SSE3 */
    CHECK(got[3] >> 31 == 1); /* hypervisor */
out:
    tvm_destroy(&t);
}

/* Puts the vCPU in 64-bit mode at CPL3 (IOPL 3, so OUT works) at rip, with
 * the first 2 MiB identity-mapped by one user-accessible large page. */
static int tvm_user64(struct tvm *t, uint64_t rip)
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

/* 64-bit user-mode code: ten million loop iterations, then OUT. Guest CPL3
 * runs natively under KVM (on this project's machines too), so this takes
 * milliseconds; the same loop at CPL0 would take minutes there. */
static void user64_native(void)
{
    static const uint8_t code[] = {
        0xb9, 0x80, 0x96, 0x98, 0x00, /* mov ecx, 10000000 */
        0xff, 0xc9,                   /* dec ecx */
        0x75, 0xfc,                   /* jnz back */
        0xb0, 0x55, 0xe6, 0x10,       /* mov al, 0x55; out 0x10, al */
        0xf4,                         /* hlt: #GP at CPL3 */
    };
    struct tvm t;
    struct x86_cpu_state s;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    if (tvm_user64(&t, CODE) < 0)
        goto out;
    uint64_t t0 = host_time_ns();
    if (expect_pio(&t, 0x10, 1, 1) == 0) {
        printf("  note: 10M iterations of dec/jnz at CPL3: %.1f ms\n",
               (double)(host_time_ns() - t0) / 1e6);
        CHECK_EQ(pio_value(&t), 0x55);
        CHECK_EQ(K->get_state(t.cpu, &s), 0);
        CHECK_EQ(s.gpr[X86_RCX], 0);
        CHECK_EQ(s.rip, CODE + sizeof(code) - 1);
    }
out:
    tvm_destroy(&t);
}

/* Not a check: what an exit to user space and the state calls cost here
 * (OUT in a loop, at CPL0 and at CPL3). */
static void exit_cost(void)
{
    static const uint8_t code[] = {
        0xe6, 0x10, /* out 0x10, al */
        0xeb, 0xfc, /* jmp back */
    };
    const unsigned n = 2000;
    struct tvm t;
    struct x86_cpu_state s;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    for (int cpl3 = 0; cpl3 < 2; cpl3++) {
        if (cpl3 && tvm_user64(&t, CODE) < 0)
            goto out;
        uint64_t t0 = host_time_ns();
        for (unsigned i = 0; i < n; i++)
            if (expect_pio(&t, 0x10, 1, 1) < 0)
                goto out;
        uint64_t t1 = host_time_ns();
        printf("  note: %u PIO exits (out + jmp at CPL%d): %.1f us each\n", n, cpl3 ? 3 : 0,
               (double)(t1 - t0) / n / 1000.0);
    }
    uint64_t t0 = host_time_ns();
    for (unsigned i = 0; i < 200; i++)
        CHECK_EQ(K->get_state(t.cpu, &s), 0);
    uint64_t t1 = host_time_ns();
    for (unsigned i = 0; i < 200; i++)
        CHECK_EQ(K->set_state(t.cpu, &s), 0);
    uint64_t t2 = host_time_ns();
    printf("  note: get_state %.1f us, set_state %.1f us\n", (double)(t1 - t0) / 200 / 1000.0,
           (double)(t2 - t1) / 200 / 1000.0);
out:
    tvm_destroy(&t);
}

static void probe_message(void)
{
    if (K->probe() < 0)
        SKIP("KVM unavailable: %s", err_msg());
    CHECK_STR(K->name, "kvm");
}

static const struct test_case tests[] = {
    TEST(probe_message), TEST(pio_and_hlt), TEST(mmio_read_write), TEST(string_pio),
    TEST(multipart_string_io), TEST(split_mmio), TEST(completion_before_state_access),
    TEST(state_roundtrip),
    TEST(dirty_log),     TEST(kick),        TEST(interrupt_injection), TEST(real_mode_interrupt),
    TEST(nmi_injection), TEST(msr_exits), TEST(msr_error_gp),
    TEST(cpuid_cpl0),    TEST(user64_native), TEST(exit_cost),
};

TEST_MAIN("kvm", tests)
