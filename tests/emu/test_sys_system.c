/* System instructions on the emu engine in 64-bit mode, against the Intel
 * SDM Vol. 2 and Vol. 3A 2.5: CR writes (reserved bits, CPL, long-mode
 * rules, entering IA-32e mode from protected mode), DR4/DR5 aliases,
 * SYSCALL/SYSRET and SYSENTER/SYSEXIT round trips, a 64-bit call gate,
 * IRETQ to CPL3 and within CPL0 (null SS), SWAPGS, RDTSCP (#UD: not in
 * roam-v1), SGDT/LIDT, CLI/STI (IOPL, the STI shadow), HLT, and MSRs the
 * core owns (the exit, and #GP when the core refuses). */
#include "emu/harness.h"
#include "test.h"

static struct emu_h h;
static bool have_emu;

#define END 0xe6, 0xf4
#define ISR 0x20000u
#define IF (1ull << 9)
#define IOPL3 0x3000ull
#define GP_STUB (EMU_H_STUBS + 13 * 16 + 1)

static bool setup(void)
{
    if (have_emu)
        emu_h_destroy(&h);
    have_emu = emu_h_init(&h) == 0;
    return have_emu;
}

static uint64_t rd64(uint64_t a)
{
    uint64_t v;
    memcpy(&v, h.ram + a, 8);
    return v;
}

/* Runs "mov rax, v; <insn>; END" at CPL0 (or CPL3) and returns the vector
 * raised, -1 if none; *err gets the error code of vectors that have one. */
static int run_rax(const uint8_t *insn, unsigned n, uint64_t v, bool user, uint64_t *err,
                   struct x86_cpu_state *s)
{
    uint8_t code[32] = {0x48, 0xb8};
    memcpy(code + 2, &v, 8);
    memcpy(code + 10, insn, n);
    code[10 + n] = 0xe6;
    code[11 + n] = 0xf4;
    emu_h_state64(&h, s, user);
    s->rflags = 0x2 | IOPL3;
    int r = emu_h_run(&h, code, 12 + n, s);
    if (r == VM_EXIT_PIO)
        return -1;
    if (r != VM_EXIT_HLT)
        return -2;
    *err = rd64(s->gpr[X86_RSP]);
    return emu_h_vector(s);
}

static void test_cr_writes(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t to_cr0[] = {0x0f, 0x22, 0xc0}, to_cr3[] = {0x0f, 0x22, 0xd8},
                         to_cr4[] = {0x0f, 0x22, 0xe0}, to_cr8[] = {0x44, 0x0f, 0x22, 0xc0},
                         to_cr1[] = {0x0f, 0x22, 0xc8}, from_cr8[] = {0x4c, 0x0f, 0x20, 0xc3};
    struct x86_cpu_state s;
    uint64_t err = 0;

    CHECK_EQ(run_rax(to_cr4, 3, 0x6a0 | (1u << 13), false, &err, &s), 13); /* VMXE */
    CHECK_EQ(err, 0);
    CHECK_EQ(run_rax(to_cr4, 3, 0x680, false, &err, &s), 13);   /* PAE off in long mode */
    CHECK_EQ(run_rax(to_cr4, 3, 0x6a1, false, &err, &s), 13);   /* VME: not in roam-v1 */
    CHECK_EQ(run_rax(to_cr4, 3, 0x620, false, &err, &s), -1);   /* PGE off is fine */
    CHECK_EQ(s.cr4, 0x620);
    CHECK_EQ(run_rax(to_cr0, 3, 0x00050033, false, &err, &s), 13); /* PG off in 64-bit */
    CHECK_EQ(run_rax(to_cr0, 3, 0x180050033ull, false, &err, &s), 13); /* bit 32 */
    CHECK_EQ(run_rax(to_cr0, 3, 0xa0050033, false, &err, &s), 13); /* NW without CD */
    CHECK_EQ(run_rax(to_cr0, 3, 0x80050033 | 0x40, false, &err, &s), -1); /* reserved: ignored */
    CHECK_EQ(s.cr0, 0x80050033);
    CHECK_EQ(run_rax(to_cr3, 3, (1ull << 63) | EMU_H_PT, false, &err, &s), 13);
    CHECK_EQ(run_rax(to_cr3, 3, 1ull << 40, false, &err, &s), 13); /* above MAXPHYADDR 40 */
    CHECK_EQ(run_rax(to_cr8, 4, 0x10, false, &err, &s), 13);
    uint8_t cr8rw[8];
    memcpy(cr8rw, to_cr8, 4);
    memcpy(cr8rw + 4, from_cr8, 4);
    CHECK_EQ(run_rax(cr8rw, 8, 0x9, false, &err, &s), -1);
    CHECK_EQ(s.cr8, 9);
    CHECK_EQ(s.gpr[X86_RBX], 9);
    CHECK_EQ(run_rax(to_cr0, 3, 0x80050033, true, &err, &s), 13); /* CPL3 */
    CHECK_EQ(err, 0);
    CHECK_EQ(run_rax(to_cr1, 3, 0, false, &err, &s), 6);
}

/* From flat 32-bit protected mode: CR4.PAE, CR3, EFER.LME, CR0.PG gives
 * EFER.LMA (compatibility mode), then a far jump to 64-bit code. */
static void test_enter_long_mode(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t code[] = {
        0xb8, 0x20, 0x00, 0x00, 0x00, 0x0f, 0x22, 0xe0, /* mov eax, PAE; mov cr4, eax */
        0xb8, 0x00, 0x80, 0x00, 0x00, 0x0f, 0x22, 0xd8, /* mov eax, PT; mov cr3, eax */
        0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32,       /* mov ecx, EFER; rdmsr */
        0x0d, 0x00, 0x01, 0x00, 0x00, 0x0f, 0x30,       /* or eax, LME; wrmsr */
        0x0f, 0x20, 0xc0, 0x0d, 0x00, 0x00, 0x00, 0x80, /* mov eax, cr0; or eax, PG */
        0x0f, 0x22, 0xc0,                               /* mov cr0, eax */
        0x0f, 0x20, 0xe3,                               /* mov ebx, cr4 (compat mode) */
        0xea, 0x33, 0x00, 0x01, 0x00, EMU_H_CS64, 0x00, /* jmp 0x08:CODE+0x33 */
        0x48, 0x8d, 0x35, 0x00, 0x00, 0x00, 0x00,       /* 0x33: lea rsi, [rip] */
        END,
    };
    struct x86_cpu_state s;
    x86_cpu_state_reset(&s);
    s.cr0 = 0x11;
    emu_h_seg(&s.seg[X86_CS], EMU_H_CS32, 0xb, 0, 0, 1);
    for (unsigned i = X86_ES; i <= X86_GS; i++)
        if (i != X86_CS)
            emu_h_seg(&s.seg[i], EMU_H_DS, 3, 0, 0, 1);
    s.gdtr.base = EMU_H_GDT;
    s.gdtr.limit = 0x3f;
    s.rip = EMU_H_CODE;
    s.gpr[X86_RSP] = EMU_H_STACK - 0x1000;
    s.rflags = 2;
    CHECK_EQ(sizeof(code) - 2, 0x3a);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_PIO);
    CHECK_EQ(s.msr.efer & 0x500, 0x500);
    CHECK_EQ(s.cr0 & 0x80000000u, 0x80000000u);
    CHECK_EQ(s.gpr[X86_RBX], 0x20);
    CHECK_EQ(s.seg[X86_CS].selector, EMU_H_CS64);
    CHECK_EQ(s.gpr[X86_RSI], EMU_H_CODE + 0x3a);
}

static void test_mov_dr(void)
{
    if (!setup()) SKIP("emu engine not built");
    /* mov dr7, rax; mov rbx, dr4 (= DR6); mov rcx, dr5 (= DR7) */
    static const uint8_t insn[] = {0x0f, 0x23, 0xf8, 0x0f, 0x21, 0xe3, 0x0f, 0x21, 0xe9};
    struct x86_cpu_state s;
    uint64_t err;
    CHECK_EQ(run_rax(insn, sizeof(insn), 0x3, false, &err, &s), -1);
    CHECK_EQ(s.gpr[X86_RBX], 0xffff0ff0u);
    CHECK_EQ(s.gpr[X86_RCX], 0x403);
    CHECK_EQ(s.dr7, 0x403);
    /* mov dr7 with bits 63:32: #GP(0); DR4 with CR4.DE: #UD. */
    CHECK_EQ(run_rax(insn, 3, 1ull << 32, false, &err, &s), 13);
    static const uint8_t de[] = {0x0f, 0x22, 0xe0, 0x0f, 0x21, 0xe3}; /* mov cr4, rax; mov rbx, dr4 */
    CHECK_EQ(run_rax(de, sizeof(de), 0x6a8, false, &err, &s), 6);
    /* DR7.GD: the next MOV DR is a #DB fault with DR6.BD, and GD clears. */
    static const uint8_t gd[] = {0x0f, 0x23, 0xf8, 0x0f, 0x21, 0xc3}; /* mov dr7, rax; mov rbx, dr0 */
    CHECK_EQ(run_rax(gd, sizeof(gd), 0x2400, false, &err, &s), 1);
    CHECK_EQ(err, EMU_H_CODE + 13);
    CHECK_EQ(s.dr6 & 0x2000, 0x2000);
    CHECK_EQ(s.dr7, 0x400);
}

/* SYSCALL to LSTAR with SFMASK, SYSRETQ back (CS = STAR[63:48] + 16). */
static void test_syscall_sysret(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t isr[] = {
        0x9c, 0x58,             /* pushfq; pop rax */
        0x48, 0x89, 0xcb,       /* mov rbx, rcx */
        0x4c, 0x89, 0xda,       /* mov rdx, r11 */
        0x8c, 0xce,             /* mov esi, cs */
        0x48, 0x0f, 0x07,       /* sysretq */
    };
    static const uint8_t code[] = {0x0f, 0x05, 0x8c, 0xcf, END}; /* syscall; mov edi, cs */
    memcpy(h.ram + ISR, isr, sizeof(isr));
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, true);
    s.msr.star = (0x13ull << 48) | (0x08ull << 32);
    s.msr.lstar = ISR;
    s.msr.sfmask = IF | 0x100;
    s.rflags = 0x2 | IOPL3 | IF | 0x1;
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_PIO);
    CHECK_EQ(s.gpr[X86_RAX] & (IF | 0x1), 0x1);
    CHECK_EQ(s.gpr[X86_RBX], EMU_H_CODE + 2);
    CHECK_EQ(s.gpr[X86_RDX], 0x2 | IOPL3 | IF | 0x1);
    CHECK_EQ(s.gpr[X86_RSI], 0x08);
    CHECK_EQ(s.gpr[X86_RDI], 0x23);
    CHECK_EQ(s.seg[X86_CS].selector, 0x23);
    CHECK_EQ(s.seg[X86_SS].selector, 0x1b);
    CHECK_EQ(s.seg[X86_SS].dpl, 3);
    CHECK_EQ(s.rflags, 0x2 | IOPL3 | IF | 0x1);

    /* SYSRET to a non-canonical RCX: #GP(0) at CPL0 (as Intel). */
    setup();
    static const uint8_t bad[] = {0x48, 0x0f, 0xba, 0xe9, 0x3f, 0x48, 0x0f, 0x07}; /* bts rcx, 63; sysretq */
    memcpy(h.ram + ISR, bad, sizeof(bad));
    emu_h_state64(&h, &s, true);
    s.msr.star = (0x13ull << 48) | (0x08ull << 32);
    s.msr.lstar = ISR;
    s.rflags = 0x2 | IOPL3;
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(s.rip, GP_STUB);
    CHECK_EQ(rd64(s.gpr[X86_RSP]), 0);
    CHECK_EQ(rd64(s.gpr[X86_RSP] + 8), ISR + 5);
    CHECK_EQ(rd64(s.gpr[X86_RSP] + 16), EMU_H_CS64);

    /* Without EFER.SCE: #UD. */
    setup();
    emu_h_state64(&h, &s, true);
    s.msr.efer &= ~1ull;
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(emu_h_vector(&s), 6);
}

/* SYSCALL from compatibility mode at CPL3 goes to CSTAR (the AMD form,
 * kept for every vendor: see system.c); SYSRETL returns to 32-bit code. */
/* roam-v1 is an Intel CPU: SYSCALL in compatibility mode is #UD there
 * (SDM SYSCALL: "If not 64-bit mode: #UD"), and CSTAR is never used. */
static void test_syscall_compat(void)
{
    if (!setup()) SKIP("emu engine not built");
    emu_h_put64(h.ram + EMU_H_GDT + 0x40, 0x00cffb000000ffffull); /* code32, DPL3 */
    static const uint8_t code[] = {0x0f, 0x05, END};
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, true);
    emu_h_seg(&s.seg[X86_CS], 0x43, 0xb, 3, 0, 1);
    s.gdtr.limit = 0x4f;
    s.gpr[X86_RSP] &= 0xffffffffu;
    s.msr.star = (0x40ull << 48) | (0x08ull << 32);
    s.msr.lstar = 0xdead;
    s.msr.cstar = ISR;
    s.rflags = 0x2 | IOPL3;
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(emu_h_vector(&s), 6);
}

static void test_sysenter_sysexit(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t isr[] = {0x48, 0x89, 0xe0, 0x48, 0x0f, 0x35}; /* mov rax, rsp; sysexitq */
    static const uint8_t code[] = {
        0x48, 0x8d, 0x15, 0x05, 0x00, 0x00, 0x00, /* lea rdx, [rip + 5] */
        0x48, 0x89, 0xe1,                         /* mov rcx, rsp */
        0x0f, 0x34,                               /* sysenter */
        END,
    };
    memcpy(h.ram + ISR, isr, sizeof(isr));
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, true);
    uint64_t ursp = s.gpr[X86_RSP];
    s.msr.sysenter_cs = 0x08;
    s.msr.sysenter_esp = 0x70000;
    s.msr.sysenter_eip = ISR;
    s.rflags = 0x2 | IOPL3 | IF;
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_PIO);
    CHECK_EQ(s.gpr[X86_RAX], 0x70000);
    CHECK_EQ(s.gpr[X86_RSP], ursp);
    CHECK_EQ(s.seg[X86_CS].selector, 0x2b);
    CHECK_EQ(s.seg[X86_SS].selector, 0x33);
    CHECK_EQ(s.seg[X86_SS].dpl, 3);
    CHECK_EQ(s.rflags & IF, 0); /* SYSENTER cleared IF; SYSEXIT does not set it */
}

/* CALL m16:64 through a 16-byte call gate from CPL3 to CPL0, RETFQ back. */
static void test_call_gate64(void)
{
    if (!setup()) SKIP("emu engine not built");
    uint64_t lo = (ISR & 0xffff) | ((uint64_t)EMU_H_CS64 << 16) | (0xecull << 40) |
                  ((uint64_t)(ISR >> 16) << 48);
    emu_h_put64(h.ram + EMU_H_GDT + 0x40, lo);
    emu_h_put64(h.ram + EMU_H_GDT + 0x48, 0);
    static const uint8_t isr[] = {0x8c, 0xd0, 0x48, 0xcb}; /* mov eax, ss; retfq */
    uint8_t code[32] = {0x48, 0xff, 0x1d, 0x09, 0x00, 0x00, 0x00, END}; /* call far [rip+9] */
    emu_h_put64(code + 16, 0x1234);
    code[24] = 0x43;
    code[25] = 0;
    memcpy(h.ram + ISR, isr, sizeof(isr));
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, true);
    s.gdtr.limit = 0x4f;
    s.rflags = 0x2 | IOPL3;
    uint64_t ursp = s.gpr[X86_RSP];
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_PIO);
    CHECK_EQ(s.gpr[X86_RAX], 0);              /* SS was null in the gate's target */
    CHECK_EQ(s.gpr[X86_RSP], ursp);
    CHECK_EQ(s.seg[X86_CS].selector, EMU_H_CS64_USER);
    CHECK_EQ(s.seg[X86_SS].selector, EMU_H_DS_USER);
    CHECK_EQ(rd64(EMU_H_STACK - 8), EMU_H_DS_USER);
    CHECK_EQ(rd64(EMU_H_STACK - 16), ursp);
    CHECK_EQ(rd64(EMU_H_STACK - 24), EMU_H_CS64_USER);
    CHECK_EQ(rd64(EMU_H_STACK - 32), EMU_H_CODE + 7);
}

/* IRETQ from CPL0 to CPL3 (the guests' user_call), and within CPL0 to a
 * null SS. */
static void test_iretq(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t code[] = {
        0x6a, EMU_H_DS_USER,                       /* push ss */
        0x68, 0x00, 0x00, 0x07, 0x00,              /* push 0x70000 */
        0x68, 0x02, 0x30, 0x00, 0x00,              /* push 0x3002 */
        0x6a, EMU_H_CS64_USER,                     /* push cs */
        0x68, 0x15, 0x00, 0x01, 0x00,              /* push CODE+0x15 */
        0x48, 0xcf,                                /* iretq */
        END,
    };
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, false);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_PIO);
    CHECK_EQ(s.seg[X86_CS].selector, EMU_H_CS64_USER);
    CHECK_EQ(s.seg[X86_SS].selector, EMU_H_DS_USER);
    CHECK_EQ(s.seg[X86_SS].dpl, 3);
    CHECK_EQ(s.gpr[X86_RSP], 0x70000);
    CHECK_EQ(s.rflags, 0x3002);

    setup();
    static const uint8_t same[] = {
        0x6a, 0x00, 0x68, 0x00, 0x00, 0x07, 0x00, 0x68, 0x02, 0x00, 0x00, 0x00,
        0x6a, EMU_H_CS64, 0x68, 0x15, 0x00, 0x01, 0x00, 0x48, 0xcf, END,
    };
    emu_h_state64(&h, &s, false);
    CHECK_EQ(emu_h_run(&h, same, sizeof(same), &s), VM_EXIT_PIO);
    CHECK_EQ(s.seg[X86_SS].selector, 0);
    CHECK_EQ(s.seg[X86_SS].dpl, 0);
    CHECK_EQ(s.gpr[X86_RSP], 0x70000);
}

static void test_swapgs_rdtscp(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t swapgs[] = {0x0f, 0x01, 0xf8};
    struct x86_cpu_state s;
    uint64_t err;
    emu_h_state64(&h, &s, false);
    uint8_t code[] = {0x0f, 0x01, 0xf8, END};
    s.seg[X86_GS].base = 0x1111;
    s.msr.kernel_gs_base = 0x2222;
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_PIO);
    CHECK_EQ(s.seg[X86_GS].base, 0x2222);
    CHECK_EQ(s.msr.kernel_gs_base, 0x1111);
    CHECK_EQ(run_rax(swapgs, 3, 0, true, &err, &s), 13);
    static const uint8_t rdtscp[] = {0x0f, 0x01, 0xf9};
    CHECK_EQ(run_rax(rdtscp, 3, 0, false, &err, &s), 6);
    static const uint8_t monitor[] = {0x0f, 0x01, 0xc8};
    CHECK_EQ(run_rax(monitor, 3, 0, false, &err, &s), 6);
}

static void test_descriptor_tables(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t code[] = {
        0x0f, 0x01, 0x04, 0x25, 0x00, 0x00, 0x02, 0x00, /* sgdt [0x20000] */
        0x0f, 0x01, 0x1c, 0x25, 0x10, 0x00, 0x02, 0x00, /* lidt [0x20010] */
        0x0f, 0x01, 0x0c, 0x25, 0x20, 0x00, 0x02, 0x00, /* sidt [0x20020] */
        0x0f, 0x01, 0xe0,                               /* smsw eax */
        END,
    };
    uint8_t idt[10] = {0x23, 0x01};
    uint64_t base = 0xffff800000001000ull;
    memcpy(idt + 2, &base, 8);
    memcpy(h.ram + 0x20010, idt, 10);
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, false);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_PIO);
    CHECK_EQ(h.ram[0x20000] | h.ram[0x20001] << 8, 0x3f);
    CHECK_EQ(rd64(0x20002), EMU_H_GDT);
    CHECK_EQ(s.idtr.limit, 0x123);
    CHECK_EQ(s.idtr.base, base);
    CHECK(memcmp(h.ram + 0x20020, idt, 10) == 0);
    CHECK_EQ(s.gpr[X86_RAX], 0x80050033);

    /* A non-canonical base: #GP(0); LIDT at CPL3: #GP(0). */
    setup();
    base = 0x8000000000000000ull;
    memcpy(idt + 2, &base, 8);
    memcpy(h.ram + 0x20010, idt, 10);
    uint64_t err;
    CHECK_EQ(run_rax(code + 8, 8, 0, false, &err, &s), 13);
    CHECK_EQ(s.idtr.base, EMU_H_IDT);
    CHECK_EQ(run_rax(code + 8, 8, 0, true, &err, &s), 13);
}

static void test_cli_sti_hlt(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t cli[] = {0xfa}, hlt[] = {0xf4};
    struct x86_cpu_state s;
    uint64_t err;
    /* run_rax gives IOPL 3: CLI works at CPL3. */
    CHECK_EQ(run_rax(cli, 1, 0, true, &err, &s), -1);
    CHECK_EQ(run_rax(hlt, 1, 0, true, &err, &s), 13);
    uint8_t code[] = {0xfa, END};
    emu_h_state64(&h, &s, true);
    s.rflags = 0x2 | IF;
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(emu_h_vector(&s), 13);

    /* STI holds an interrupt off for one more instruction. */
    setup();
    static const uint8_t sti[] = {0x90, 0xfb, 0x90, 0x90, END};
    emu_h_state64(&h, &s, false);
    CHECK(h.ops->set_state(h.vcpu, &s) == 0);
    CHECK(h.ops->inject(h.vcpu, ENGINE_EVENT_INTR, 0x1f) == 0);
    CHECK(h.ops->get_state(h.vcpu, &s) == 0);
    CHECK_EQ(emu_h_run(&h, sti, sizeof(sti), &s), VM_EXIT_HLT);
    CHECK_EQ(emu_h_vector(&s), 0x1f);
    CHECK_EQ(rd64(s.gpr[X86_RSP]), EMU_H_CODE + 3);

    /* HLT at CPL0 halts after the instruction. */
    setup();
    emu_h_state64(&h, &s, false);
    CHECK_EQ(emu_h_run(&h, hlt, 1, &s), VM_EXIT_HLT);
    CHECK_EQ(s.rip, EMU_H_CODE + 1);
}

/* An MSR the engine does not keep: the core answers (or refuses: #GP). */
static void test_msr_core(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t code[] = {
        0xb9, 0x1b, 0x00, 0x00, 0x00, 0x0f, 0x32, /* mov ecx, APIC_BASE; rdmsr */
        0xb9, 0x45, 0x23, 0x01, 0x00, 0x0f, 0x32, /* mov ecx, 0x12345; rdmsr */
        END,
    };
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, false);
    /* Not emu_h_run: its get_state would finish the RDMSR unanswered. */
    memcpy(h.ram + EMU_H_CODE, code, sizeof(code));
    CHECK(h.ops->set_state(h.vcpu, &s) == 0);
    CHECK(h.ops->run(h.vcpu, &h.exit) == 0);
    CHECK_EQ(h.exit.reason, VM_EXIT_MSR_READ);
    CHECK_EQ(h.exit.u.msr.index, 0x1b);
    h.exit.u.msr.data = 0xfee00900ull | (5ull << 32);
    h.exit.u.msr.error = 0;
    CHECK(h.ops->run(h.vcpu, &h.exit) == 0);
    CHECK_EQ(h.exit.reason, VM_EXIT_MSR_READ);
    CHECK_EQ(h.exit.u.msr.index, 0x12345);
    h.exit.u.msr.error = 1;
    CHECK(h.ops->run(h.vcpu, &h.exit) == 0);
    CHECK_EQ(h.exit.reason, VM_EXIT_HLT);
    CHECK(h.ops->get_state(h.vcpu, &s) == 0);
    CHECK_EQ(s.gpr[X86_RAX], 0xfee00900u);
    CHECK_EQ(s.gpr[X86_RDX], 5);
    CHECK_EQ(s.rip, GP_STUB);
    CHECK_EQ(rd64(s.gpr[X86_RSP] + 8), EMU_H_CODE + 12);

    /* Kept MSRs: STAR written and read back. */
    static const uint8_t star[] = {
        0xb9, 0x81, 0x00, 0x00, 0xc0, 0xb8, 0x44, 0x33, 0x22, 0x11, /* mov ecx, STAR; mov eax */
        0xba, 0x88, 0x77, 0x66, 0x55, 0x0f, 0x30,                   /* mov edx; wrmsr */
        0x31, 0xc0, 0x31, 0xd2, 0x0f, 0x32, END,                    /* xor; xor; rdmsr */
    };
    setup();
    emu_h_state64(&h, &s, false);
    CHECK_EQ(emu_h_run(&h, star, sizeof(star), &s), VM_EXIT_PIO);
    CHECK_EQ(s.msr.star, 0x5566778811223344ull);
    CHECK_EQ(s.gpr[X86_RAX], 0x11223344);
    CHECK_EQ(s.gpr[X86_RDX], 0x55667788);
}

int main(int argc, char **argv)
{
    static const struct test_case tests[] = {
        TEST(test_cr_writes),
        TEST(test_enter_long_mode),
        TEST(test_mov_dr),
        TEST(test_syscall_sysret),
        TEST(test_syscall_compat),
        TEST(test_sysenter_sysexit),
        TEST(test_call_gate64),
        TEST(test_iretq),
        TEST(test_swapgs_rdtscp),
        TEST(test_descriptor_tables),
        TEST(test_cli_sti_hlt),
        TEST(test_msr_core),
    };
    int rc = test_run_all_("emu_sys_system", tests, sizeof(tests) / sizeof(tests[0]), argc,
                           argv);
    if (have_emu)
        emu_h_destroy(&h);
    return rc;
}
