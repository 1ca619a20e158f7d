/* The KVM engine (engine/kvm) against /dev/kvm: the canonical CPU state
 * (get -> set -> get), dirty logging, native CPL3 code, and what exits and
 * state calls cost. Every test skips, saying why, where KVM cannot run. */
#include "test.h"

#include "kvm_harness.h"

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

static const struct test_case tests[] = {
    TEST(state_roundtrip),
    TEST(dirty_log),
    TEST(user64_native),
    TEST(exit_cost),
};

TEST_MAIN("kvm", tests)
