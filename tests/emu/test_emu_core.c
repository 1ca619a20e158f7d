/* The emu engine's core: fetch/decode/execute through the engine ops, the
 * decoded-instruction cache against self-modifying code, the dirty log,
 * paging A/D bits, MMIO and port I/O exits with their replay, and state
 * round trips. Programs are raw bytes run by tests/emu/harness.h. */
#include "emu/harness.h"
#include "engine/emu/emu.h"
#include "host/host.h"
#include "test.h"

static struct emu_h h;
static bool have_emu;

static int run64(const uint8_t *code, size_t len, struct x86_cpu_state *s)
{
    emu_h_state64(&h, s, false);
    return emu_h_run(&h, code, len, s);
}

/* Each program ends with out 0xf4, al (a PIO write exit). */
#define END 0xe6, 0xf4

static void test_mov_push_call(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    static const uint8_t code[] = {
        0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* mov rax, imm64 */
        0x50,                                                       /* push rax */
        0x5b,                                                       /* pop rbx */
        0xe8, 0x02, 0x00, 0x00, 0x00,                               /* call +2 */
        0xeb, 0x06,                                                 /* jmp +6 (to end) */
        0x48, 0x0f, 0xcb,                                           /* bswap rbx */
        0x89, 0xd9,                                                 /* mov ecx, ebx */
        0xc3,                                                       /* ret */
        0x8d, 0x14, 0x49,                                           /* lea edx, [rcx+rcx*2] */
        END,
    };
    struct x86_cpu_state s;
    int r = run64(code, sizeof(code), &s);
    CHECK_EQ(r, VM_EXIT_PIO);
    CHECK_EQ(h.exit.u.pio.port, 0xf4);
    CHECK_EQ(s.gpr[X86_RAX], 0x1122334455667788ull);
    CHECK_EQ(s.gpr[X86_RBX], 0x8877665544332211ull);
    CHECK_EQ(s.gpr[X86_RCX], 0x44332211ull); /* 32-bit write zero-extends */
    CHECK_EQ(s.gpr[X86_RDX], (0x44332211ull * 3) & 0xffffffffu);
    CHECK_EQ(s.rip, EMU_H_CODE + sizeof(code));
    CHECK_EQ(s.gpr[X86_RSP], EMU_H_STACK - 0x1000);
}

static void test_movx_loop(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    static const uint8_t prog[] = {
        0xb9, 0x05, 0x00, 0x00, 0x00,       /* mov ecx, 5 */
        0xbe, 0x00, 0x00, 0x02, 0x00,       /* mov esi, 0x20000 */
        0x48, 0x0f, 0xbe, 0x06,             /* movsx rax, byte [rsi] */
        0x0f, 0xb7, 0x5e, 0x01,             /* movzx ebx, word [rsi+1] */
        0x48, 0xff, 0xc6,                   /* inc rsi */
        0xe2, 0xf3,                         /* loop back to movsx */
        0x66, 0x98,                         /* cbw */
        0x66, 0x99,                         /* cwd */
        END,
    };
    for (unsigned i = 0; i < 8; i++)
        h.ram[EMU_H_DATA + i] = (uint8_t)(0x80 + i * 0x11);
    struct x86_cpu_state s;
    CHECK_EQ(run64(prog, sizeof(prog), &s), VM_EXIT_PIO);
    CHECK_EQ(s.gpr[X86_RCX], 0);
    CHECK_EQ(s.gpr[X86_RSI], EMU_H_DATA + 5);
    /* Last iteration read byte 4 (0xc4) and word at 5 (0xe6d5). */
    CHECK_EQ(s.gpr[X86_RAX] & ~0xffffull, 0xffffffffffff0000ull);
    CHECK_EQ(s.gpr[X86_RAX] & 0xffff, 0xffc4);   /* cbw of 0xc4 */
    CHECK_EQ(s.gpr[X86_RBX], 0xe6d5);
    CHECK_EQ(s.gpr[X86_RDX] & 0xffff, 0xffff);    /* cwd of a negative AX */
}

/* A store into the next instruction's bytes must be seen (SDM 11.6). */
static void test_self_modifying(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    uint8_t code[64];
    unsigned n = 0;
    const uint64_t imm_at = EMU_H_CODE + 11;
    code[n++] = 0xbb; code[n++] = 0; code[n++] = 0; code[n++] = 0; code[n++] = 0; /* mov ebx,0 */
    code[n++] = 0xb9; code[n++] = 3; code[n++] = 0; code[n++] = 0; code[n++] = 0; /* mov ecx,3 */
    /* loop at +10: mov edx, imm32 (imm at +11), patched by the store below */
    code[n++] = 0xba; code[n++] = 1; code[n++] = 0; code[n++] = 0; code[n++] = 0;
    code[n++] = 0x8d; code[n++] = 0x1c; code[n++] = 0x13;        /* lea ebx, [rbx+rdx] */
    /* mov byte [imm_at], 0x10 via absolute moffs-free form: mov byte [rip+disp], imm8 */
    int32_t disp = (int32_t)(imm_at - (EMU_H_CODE + n + 7));
    code[n++] = 0xc6; code[n++] = 0x05;
    memcpy(code + n, &disp, 4); n += 4;
    code[n++] = 0x10;
    code[n++] = 0xe2; code[n] = (uint8_t)(int8_t)(10 - (int)(n + 1)); n++; /* loop to +10 */
    code[n++] = 0xe6; code[n++] = 0xf4;
    struct x86_cpu_state s;
    CHECK_EQ(run64(code, n, &s), VM_EXIT_PIO);
    /* Round 1 adds 1, rounds 2 and 3 add the patched 0x10. */
    CHECK_EQ(s.gpr[X86_RBX], 1 + 0x10 + 0x10);
}

/* RET to a non-canonical address: #GP(0) before the pop commits (SDM Vol.
 * 2B RET, 64-bit mode), from the block loop's inline form too. */
static void test_ret_noncanonical(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    static const uint8_t code[] = {
        0x31, 0xc9,                                                 /* xor ecx, ecx */
        0x48, 0xb8, 0, 0, 0, 0, 0, 0x80, 0, 0,                      /* mov rax, 1 << 47 */
        0x50,                                                       /* push rax */
        0xff, 0xc1,                                                 /* inc ecx */
        0xc3,                                                       /* ret */
        END,
    };
    struct x86_cpu_state s;
    CHECK_EQ(run64(code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(emu_h_vector(&s), 13);
    CHECK_EQ(s.gpr[X86_RCX], 1);
    /* The handler's frame sits on the same stack (CPL0): the pushed target
     * is still where RET read it. */
    CHECK_EQ(h.ram[EMU_H_STACK - 0x1000 - 8 + 5], 0x80);
}

/* More code than the block arena holds, twice over: the cache empties when
 * the arena is full and the blocks decoded again run as the first time. */
static void test_block_arena_full(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    enum { NBLK = EMU_BLOCK_ARENA / EMU_BLOCK_MAX + 400, PER = EMU_BLOCK_MAX - 1 };
    size_t cap = 16 + (size_t)NBLK * (2 * PER + 2) + 16, n = 0;
    uint8_t *code = malloc(cap);
    CHECK(code != NULL);
    if (!code)
        return;
    code[n++] = 0x31; code[n++] = 0xc0;                          /* xor eax, eax */
    code[n++] = 0xb9; code[n++] = 1; code[n++] = 0; code[n++] = 0; code[n++] = 0; /* ecx = 1 */
    code[n++] = 0xba; code[n++] = 2; code[n++] = 0; code[n++] = 0; code[n++] = 0; /* edx = 2 */
    size_t top = n;
    for (unsigned b = 0; b < NBLK; b++) {
        for (unsigned i = 0; i < PER; i++) {
            code[n++] = 0x01; code[n++] = 0xc8;                  /* add eax, ecx */
        }
        code[n++] = 0xeb; code[n++] = 0x00;                      /* jmp to the next */
    }
    code[n++] = 0xff; code[n++] = 0xca;                          /* dec edx */
    int32_t back = (int32_t)top - (int32_t)(n + 6);
    code[n++] = 0x0f; code[n++] = 0x85;                          /* jnz top */
    memcpy(code + n, &back, 4); n += 4;
    code[n++] = 0xe6; code[n++] = 0xf4;                          /* out 0xf4, al */
    CHECK(EMU_H_CODE + n < EMU_H_STACK - 0x1000);
    uint64_t flushes = h.vcpu->cpu.block_flushes;
    struct x86_cpu_state s;
    CHECK_EQ(run64(code, n, &s), VM_EXIT_PIO);
    CHECK_EQ(s.gpr[X86_RAX], 2ull * NBLK * PER);
    CHECK_EQ(s.gpr[X86_RDX], 0);
    CHECK(h.vcpu->cpu.block_flushes >= flushes + 2);
    free(code);
}

static void test_paging_ad_and_dirty_log(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    /* Map 0x400000-0x5fffff with a 4K page table instead of a 2M page so
     * that the leaf PTE's A and D bits can be checked. */
    uint64_t pt = 0xc000, pte_page = 0x400000;
    emu_h_put64(h.ram + EMU_H_PT + 0x2000 + 8 * 2, pt | 7);
    for (unsigned i = 0; i < 512; i++)
        emu_h_put64(h.ram + pt + 8 * i, (pte_page + 4096ull * i) | 7);
    static const uint8_t prog[] = {
        0xbe, 0x00, 0x00, 0x40, 0x00,   /* mov esi, 0x400000 */
        0x8b, 0x06,                     /* mov eax, [rsi] */
        0x89, 0x86, 0x00, 0x10, 0x00, 0x00, /* mov [rsi+0x1000], eax */
        END,
    };
    uint64_t bm[64];
    CHECK(h.ops->dirty_log(h.vm, 0, bm) == 0); /* clear */
    h.ram[0x400000] = 0x5a;
    struct x86_cpu_state s;
    CHECK_EQ(run64(prog, sizeof(prog), &s), VM_EXIT_PIO);
    uint64_t pte0, pte1;
    memcpy(&pte0, h.ram + pt, 8);
    memcpy(&pte1, h.ram + pt + 8, 8);
    CHECK_EQ(pte0 & 0x60, 0x20); /* read: accessed, not dirty */
    CHECK_EQ(pte1 & 0x60, 0x60); /* written: accessed and dirty */
    CHECK_EQ(h.ram[0x401000], 0x5a);
    CHECK(h.ops->dirty_log(h.vm, 0, bm) == 0);
    CHECK((bm[0x401000 >> 18] >> ((0x401000 >> 12) & 63)) & 1);
    CHECK(!((bm[0x400000 >> 18] >> ((0x400000 >> 12) & 63)) & 1));
    /* The page-table page itself was written (A/D bits): dirty too. */
    CHECK((bm[pt >> 18] >> ((pt >> 12) & 63)) & 1);
    /* A second read of the log is empty: the store went through a TLB
     * entry made before the first read, which the read dropped. */
    CHECK(h.ops->dirty_log(h.vm, 0, bm) == 0);
    CHECK(!((bm[0x401000 >> 18] >> ((0x401000 >> 12) & 63)) & 1));
    emu_h_put64(h.ram + EMU_H_PT + 0x2000 + 8 * 2, (2ull << 21) | 0x87);
}

/* An MMIO read exits; the answer completes the instruction on the next
 * run; a port read does the same. */
static void test_mmio_pio_replay(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    /* 0x900000 is beyond RAM (8 MiB): map it with a 2M page. */
    emu_h_put64(h.ram + EMU_H_PT + 0x2000 + 8 * 4, (4ull << 21) | 0x87);
    static const uint8_t prog[] = {
        0xbe, 0x10, 0x00, 0x90, 0x00,   /* mov esi, 0x900010 */
        0x8b, 0x1e,                     /* mov ebx, [rsi] */
        0x89, 0x5e, 0x04,               /* mov [rsi+4], ebx */
        0x66, 0xba, 0x71, 0x00,         /* mov dx, 0x71 */
        0xec,                           /* in al, dx */
        END,
    };
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, false);
    memcpy(h.ram + EMU_H_CODE, prog, sizeof(prog));
    CHECK(h.ops->set_state(h.vcpu, &s) == 0);
    CHECK(h.ops->run(h.vcpu, &h.exit) == 0);
    CHECK_EQ(h.exit.reason, VM_EXIT_MMIO);
    CHECK_EQ(h.exit.u.mmio.gpa, 0x900010);
    CHECK_EQ(h.exit.u.mmio.is_write, 0);
    CHECK_EQ(h.exit.u.mmio.size, 4);
    uint32_t v = 0xcafef00d;
    memcpy(h.exit.u.mmio.data, &v, 4);
    CHECK(h.ops->run(h.vcpu, &h.exit) == 0);
    CHECK_EQ(h.exit.reason, VM_EXIT_MMIO);
    CHECK_EQ(h.exit.u.mmio.gpa, 0x900014);
    CHECK_EQ(h.exit.u.mmio.is_write, 1);
    memcpy(&v, h.exit.u.mmio.data, 4);
    CHECK_EQ(v, 0xcafef00d);
    CHECK(h.ops->run(h.vcpu, &h.exit) == 0);
    CHECK_EQ(h.exit.reason, VM_EXIT_PIO);
    CHECK_EQ(h.exit.u.pio.port, 0x71);
    CHECK_EQ(h.exit.u.pio.is_write, 0);
    h.exit.u.pio.data[0] = 0x42;
    /* get_state finishes the IN with the answer (engine.h contract). */
    CHECK(h.ops->get_state(h.vcpu, &s) == 0);
    CHECK_EQ(s.gpr[X86_RAX] & 0xff, 0x42);
    CHECK_EQ(s.gpr[X86_RBX], 0xcafef00d);
    CHECK_EQ(s.rip, EMU_H_CODE + sizeof(prog) - 2);
    emu_h_put64(h.ram + EMU_H_PT + 0x2000 + 8 * 4, 0);
}

static void test_state_roundtrip(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    struct x86_cpu_state a, b;
    char what[64];
    emu_h_state64(&h, &a, true);
    for (unsigned i = 0; i < 16; i++)
        a.gpr[i] = 0x0101010101010101ull * (i + 1);
    a.rflags = 0x2 | 0x1 | 0x40 | 0x800 | 0x200;
    a.fpu.fcw = 0x27f;
    a.fpu.fsw = 0x3800;
    a.fpu.ftw = 0x80;
    a.fpu.st[0][0] = 0x12;
    a.fpu.st[0][9] = 0x3f;
    a.fpu.xmm[15][3] = 0x77;
    a.fpu.mxcsr = 0x9fc0;
    a.msr.lstar = 0xffffffff81000000ull;
    a.events.interrupt_shadow = 1;
    a.tsc = 1000000;
    CHECK(h.ops->set_state(h.vcpu, &a) == 0);
    CHECK(h.ops->get_state(h.vcpu, &b) == 0);
    CHECK(b.tsc >= a.tsc);
    b.tsc = a.tsc;
    a.fpu.mxcsr_mask = b.fpu.mxcsr_mask;
    bool eq = x86_cpu_state_equal(&a, &b, what, sizeof(what));
    if (!eq)
        printf("  differs: %s\n", what);
    CHECK(eq);
}

/* One TSC per VM: the VMM's sets within a second of the running value join
 * it (vCPUs created or restored one after the other), ahead moves it with
 * every vCPU on it, far off sets exactly (cpu.c, emu_tsc_set). */
static void test_tsc_sync(void)
{
    struct engine_vm_config cfg = {2, cpu_model_default()};
    struct engine_vm *vm;
    struct engine_vcpu *v[2];
    struct x86_cpu_state s[2];

    if (!have_emu)
        return;
    CHECK(h.ops->create_vm(&cfg, &vm) == 0);
    CHECK(h.ops->create_vcpu(vm, 0, &v[0]) == 0);
    CHECK(h.ops->create_vcpu(vm, 1, &v[1]) == 0);
    for (unsigned i = 0; i < 2; i++) {
        x86_cpu_state_reset(&s[i]);
        s[i].tsc = 0;
        CHECK(h.ops->set_state(v[i], &s[i]) == 0);
        uint64_t t0 = host_time_ns();
        while (host_time_ns() - t0 < 2000000) /* 2 ms = 4M cycles apart */
            ;
    }
    CHECK(h.ops->get_state(v[0], &s[0]) == 0);
    CHECK(h.ops->get_state(v[1], &s[1]) == 0);
    /* Read second, so not behind; unsynchronized it would be 4M behind. */
    CHECK(s[1].tsc >= s[0].tsc);
    CHECK(s[1].tsc - s[0].tsc < 1000000);

    uint64_t x = 100ull * 2000000000u; /* 100 s: far from the running TSC */
    s[0].tsc = x;
    CHECK(h.ops->set_state(v[0], &s[0]) == 0);
    s[1].tsc = x + 3000000;
    CHECK(h.ops->set_state(v[1], &s[1]) == 0); /* ahead: both move to it */
    CHECK(h.ops->get_state(v[0], &s[0]) == 0);
    CHECK(s[0].tsc >= x + 3000000);
    CHECK(h.ops->get_state(v[1], &s[1]) == 0);
    CHECK(s[1].tsc >= s[0].tsc && s[1].tsc - s[0].tsc < 1000000);

    s[1].tsc = 5; /* far behind: exactly that */
    CHECK(h.ops->set_state(v[1], &s[1]) == 0);
    CHECK(h.ops->get_state(v[1], &s[1]) == 0);
    CHECK(s[1].tsc >= 5 && s[1].tsc < 2000000000u);
    h.ops->destroy_vcpu(v[1]);
    h.ops->destroy_vcpu(v[0]);
    h.ops->destroy_vm(vm);
}

/* The shortcuts of the per-condition Jcc handlers (emu_cond_sub after
 * CMP/SUB, emu_cond_logic after TEST and the logic ops, and emu_cond_fast
 * that SETcc and CMOVcc use) answer as
 * emu_cond does, for every condition and size, at the boundaries where
 * signed and unsigned orders part. */
static void test_cond_fast_paths(void)
{
    static const uint64_t v[] = {
        0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
        0xffffffff, 0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
        0xffffffffffffffffull, 0x123456789abcdef0ull, 0xfedcba9876543210ull,
    };
    static struct emu_cpu cpu;
    unsigned n = sizeof(v) / sizeof(v[0]), bad = 0, checked = 0;
    for (unsigned size = 1; size <= 8; size *= 2)
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = 0; j < n; j++)
                for (unsigned cc = 0; cc < 16; cc++) {
                    uint64_t a = v[i] & emu_mask(size), b = v[j] & emu_mask(size);
                    emu_lazy_set(&cpu, EMU_LF_SUB, size, a - b, a, b, 0);
                    bad += emu_cond_sub(&cpu.lf, cc) != emu_cond(&cpu, cc);
                    bad += emu_cond_fast(&cpu, cc) != emu_cond(&cpu, cc);
                    emu_lazy_set(&cpu, EMU_LF_LOGIC, size, a & b, a, b, 0);
                    bad += emu_cond_logic(&cpu.lf, cc) != emu_cond(&cpu, cc);
                    emu_lazy_set(&cpu, EMU_LF_LOGIC, size, a ^ b, a, b, 0);
                    bad += emu_cond_logic(&cpu.lf, cc) != emu_cond(&cpu, cc);
                    checked += 4;
                }
    CHECK_EQ(checked, 4u * n * n * 16 * 4);
    CHECK_EQ(bad, 0);
}

int main(int argc, char **argv)
{
    have_emu = emu_h_init(&h) == 0;
    static const struct test_case tests[] = {
        {"mov_push_call", test_mov_push_call},
        {"movx_loop", test_movx_loop},
        {"self_modifying", test_self_modifying},
        {"block_arena_full", test_block_arena_full},
        {"ret_noncanonical", test_ret_noncanonical},
        {"paging_ad_and_dirty_log", test_paging_ad_and_dirty_log},
        {"mmio_pio_replay", test_mmio_pio_replay},
        {"state_roundtrip", test_state_roundtrip},
        {"tsc_sync", test_tsc_sync},
        {"cond_fast_paths", test_cond_fast_paths},
    };
    int rc = test_run_all_("emu_core", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
    emu_h_destroy(&h);
    return rc;
}
