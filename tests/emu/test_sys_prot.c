/* 32-bit protected mode on the emu engine, against the Intel SDM Vol. 3A
 * chapters 5-6 and Vol. 2 (MOV Sreg, CALL, RET, IRET, INT n): interrupt
 * from CPL3 through a 32-bit gate with the TSS stack switch, IRET to the
 * outer level (data segments nulled), segment-load faults with their
 * error codes, a call gate that raises privilege and copies parameters
 * with RET imm16 back, conforming code, task gates refused, LTR/LLDT. */
#include "emu/harness.h"
#include "test.h"

static struct emu_h h;
static bool have_emu;

#define END 0xe6, 0xf4 /* out 0xf4, al (IOPL 3 lets CPL3 do it) */
#define IDT32 0x6000u
#define TSS32 0x5000u
#define ISR 0x20000u   /* handler code written by each test */
#define KSTACK 0x70000u
#define USTACK 0x6f000u

/* Selectors of the legacy GDT entries added after the harness's. */
#define CS3 0x43
#define DS3 0x4b
#define TSS_SEL 0x50
#define GATE 0x58
#define DS3_NP 0x60
#define CONF0 0x68
#define LDT_SEL 0x70
#define KCS 0x18
#define KDS 0x10

static uint64_t desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
    return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)flags << 52) |
           ((uint64_t)(base >> 24) << 56);
}

static uint64_t gate(uint16_t sel, uint32_t off, unsigned access, unsigned params)
{
    return (off & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)params << 32) |
           ((uint64_t)access << 40) | ((uint64_t)(off >> 16) << 48);
}

static void setdesc(unsigned sel, uint64_t d)
{
    emu_h_put64(h.ram + EMU_H_GDT + (sel & ~7u), d);
}

static uint32_t rd32(uint64_t a)
{
    uint32_t v;
    memcpy(&v, h.ram + a, 4);
    return v;
}

static bool setup(void)
{
    if (have_emu)
        emu_h_destroy(&h);
    have_emu = emu_h_init(&h) == 0;
    if (!have_emu)
        return false;
    setdesc(CS3, desc(0, 0xfffff, 0xfb, 0xc));
    setdesc(DS3, desc(0, 0xfffff, 0xf2, 0xc)); /* accessed bit clear */
    setdesc(TSS_SEL, desc(TSS32, 0x67, 0x8b, 0));
    setdesc(DS3_NP, desc(0, 0xfffff, 0x72, 0xc));
    setdesc(CONF0, desc(0, 0xfffff, 0x9f, 0xc));
    setdesc(LDT_SEL, desc(0x7000, 0xf, 0x82, 0));
    emu_h_put64(h.ram + 0x7008, desc(0, 0xfffff, 0xf3, 0xc)); /* LDT entry 1: data DPL3 */
    memcpy(h.ram + TSS32 + 4, &(uint32_t){KSTACK}, 4);
    memcpy(h.ram + TSS32 + 8, &(uint16_t){KDS}, 2);
    for (unsigned v = 0; v < 0x31; v++) {
        uint32_t a = v < 32 ? EMU_H_STUBS + 16 * v : ISR;
        emu_h_put64(h.ram + IDT32 + 8 * v, gate(KCS, a, 0xee, 0));
    }
    h.ram[ISR] = 0xf4;
    return true;
}

static void seg32(struct x86_segment *s, uint16_t sel, uint8_t type, uint8_t dpl)
{
    emu_h_seg(s, sel, type, dpl, 0, 1);
}

/* Flat 32-bit protected mode, paging off, at CPL0 or CPL3 (IOPL 3). */
static void state32(struct x86_cpu_state *s, bool user)
{
    x86_cpu_state_reset(s);
    s->cr0 = 0x11;
    seg32(&s->seg[X86_CS], user ? CS3 : KCS, 0xb, user ? 3 : 0);
    for (unsigned i = X86_ES; i <= X86_GS; i++)
        if (i != X86_CS)
            seg32(&s->seg[i], user ? DS3 : KDS, 3, user ? 3 : 0);
    memset(&s->seg[X86_TR], 0, sizeof(s->seg[X86_TR]));
    s->seg[X86_TR].selector = TSS_SEL;
    s->seg[X86_TR].base = TSS32;
    s->seg[X86_TR].limit = 0x67;
    s->seg[X86_TR].type = 0xb;
    s->seg[X86_TR].present = 1;
    memset(&s->seg[X86_LDTR], 0, sizeof(s->seg[X86_LDTR]));
    s->seg[X86_LDTR].unusable = 1;
    s->gdtr.base = EMU_H_GDT;
    s->gdtr.limit = 0x7f;
    s->idtr.base = IDT32;
    s->idtr.limit = 0x31 * 8 - 1;
    s->rip = EMU_H_CODE;
    s->gpr[X86_RSP] = user ? USTACK : KSTACK - 0x1000;
    s->rflags = 0x3002;
}

static void test_int_user_to_kernel(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t code[] = {0xcd, 0x30, END};
    struct x86_cpu_state s;
    state32(&s, true);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(s.rip, ISR + 1);
    CHECK_EQ(s.gpr[X86_RSP], KSTACK - 20);
    CHECK_EQ(rd32(KSTACK - 20), EMU_H_CODE + 2);
    CHECK_EQ(rd32(KSTACK - 16), CS3);
    CHECK_EQ(rd32(KSTACK - 12), 0x3002);
    CHECK_EQ(rd32(KSTACK - 8), USTACK);
    CHECK_EQ(rd32(KSTACK - 4), DS3);
    CHECK_EQ(s.seg[X86_SS].selector, KDS);
    CHECK_EQ(s.seg[X86_CS].selector, KCS);
    CHECK_EQ(s.seg[X86_DS].selector, DS3); /* not a VM86 interrupt: kept */
}

/* The handler loads a DPL0 DS and returns: IRET to CPL3 pops SS:ESP and
 * nulls DS; ES (DPL3) stays. */
static void test_iret_outer(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t isr[] = {0x66, 0xb8, KDS, 0x00, 0x8e, 0xd8, 0xcf}; /* mov ds; iret */
    static const uint8_t code[] = {0xcd, 0x30, 0xbb, 0x01, 0x00, 0x00, 0x00, END};
    memcpy(h.ram + ISR, isr, sizeof(isr));
    struct x86_cpu_state s;
    state32(&s, true);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_PIO);
    CHECK_EQ(s.gpr[X86_RBX], 1);
    CHECK_EQ(s.seg[X86_CS].selector, CS3);
    CHECK_EQ(s.seg[X86_SS].selector, DS3);
    CHECK_EQ(s.gpr[X86_RSP], USTACK);
    CHECK_EQ(s.seg[X86_DS].selector, 0);
    CHECK_EQ(s.seg[X86_DS].unusable, 1);
    CHECK_EQ(s.seg[X86_ES].selector, DS3);
    CHECK_EQ(s.rflags & 0x3000, 0x3000);
}

/* Runs mov sreg, ax at CPL3 and returns the exception vector (or -1 if
 * none); *err gets the error code. */
static int load_fault(unsigned sreg, uint16_t sel, uint32_t *err, struct x86_cpu_state *s)
{
    uint8_t code[] = {0x66, 0xb8, (uint8_t)sel, (uint8_t)(sel >> 8), 0x8e,
                      (uint8_t)(0xc0 | (sreg << 3)), END};
    state32(s, true);
    int r = emu_h_run(&h, code, sizeof(code), s);
    if (r == VM_EXIT_PIO)
        return -1;
    if (r != VM_EXIT_HLT)
        return -2;
    *err = rd32(s->gpr[X86_RSP]);
    return (int)((s->rip - 1 - EMU_H_STUBS) / 16);
}

static void test_segment_load_faults(void)
{
    if (!setup()) SKIP("emu engine not built");
    struct x86_cpu_state s;
    uint32_t err = 0xdead;

    CHECK_EQ(load_fault(X86_DS, KDS, &err, &s), 13);     /* DPL0 data at CPL3 */
    CHECK_EQ(err, KDS);
    CHECK_EQ(load_fault(X86_SS, 0, &err, &s), 13);       /* null SS */
    CHECK_EQ(err, 0);
    CHECK_EQ(load_fault(X86_DS, 0x1f8, &err, &s), 13);   /* beyond the GDT limit */
    CHECK_EQ(err, 0x1f8);
    CHECK_EQ(load_fault(X86_DS, DS3_NP | 3, &err, &s), 11);
    CHECK_EQ(err, DS3_NP);
    CHECK_EQ(load_fault(X86_SS, DS3 & ~3, &err, &s), 13); /* RPL != CPL */
    CHECK_EQ(err, DS3 & ~3);
    CHECK_EQ(load_fault(X86_SS, DS3_NP | 3, &err, &s), 12); /* #SS for SS */
    CHECK_EQ(err, DS3_NP);
    CHECK_EQ(load_fault(X86_DS, TSS_SEL, &err, &s), 13);  /* a system segment */
    CHECK_EQ(err, TSS_SEL);
    CHECK_EQ(load_fault(X86_SS, CS3, &err, &s), 13);      /* code into SS */
    CHECK_EQ(err, CS3 & ~3);
    CHECK_EQ(load_fault(X86_DS, 0x0c, &err, &s), 13);     /* LDT selector, null LDTR */
    CHECK_EQ(err, 0x0c);
    /* A valid load sets the accessed bit; null into DS is fine. */
    CHECK_EQ(h.ram[EMU_H_GDT + DS3 - 3 + 5], 0xf2);
    CHECK_EQ(load_fault(X86_ES, DS3, &err, &s), -1);
    CHECK_EQ(h.ram[EMU_H_GDT + DS3 - 3 + 5], 0xf3);
    CHECK_EQ(load_fault(X86_FS, 0, &err, &s), -1);
    CHECK_EQ(s.seg[X86_FS].unusable, 1);
    CHECK_EQ(load_fault(X86_CS, DS3, &err, &s), 6);       /* mov cs: #UD */
}

/* CALL through a 32-bit call gate (DPL3 -> DPL0 code, 2 parameters):
 * TSS stack, SS:ESP and the parameters copied in order, then CS:EIP; RET 8
 * returns to CPL3 releasing the parameters on both stacks. */
static void test_call_gate_params(void)
{
    if (!setup()) SKIP("emu engine not built");
    setdesc(GATE, gate(KCS, ISR, 0xec, 2));
    static const uint8_t isr[] = {0x8b, 0x44, 0x24, 0x08, 0xca, 0x08, 0x00}; /* mov eax,[esp+8]; retf 8 */
    static const uint8_t code[] = {
        0x68, 0x11, 0x11, 0x11, 0x11,             /* push 0x11111111 */
        0x68, 0x22, 0x22, 0x22, 0x22,             /* push 0x22222222 */
        0x9a, 0x00, 0x00, 0x00, 0x00, GATE | 3, 0, /* call GATE:0 */
        END,
    };
    memcpy(h.ram + ISR, isr, sizeof(isr));
    struct x86_cpu_state s;
    state32(&s, true);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_PIO);
    CHECK_EQ(s.gpr[X86_RAX], 0x22222222);
    CHECK_EQ(s.gpr[X86_RSP], USTACK);
    CHECK_EQ(s.seg[X86_CS].selector, CS3);
    CHECK_EQ(s.seg[X86_SS].selector, DS3);
    CHECK_EQ(rd32(KSTACK - 4), DS3);
    CHECK_EQ(rd32(KSTACK - 8), USTACK - 8);
    CHECK_EQ(rd32(KSTACK - 12), 0x11111111);
    CHECK_EQ(rd32(KSTACK - 16), 0x22222222);
    CHECK_EQ(rd32(KSTACK - 20), CS3);
    CHECK_EQ(rd32(KSTACK - 24), EMU_H_CODE + 17);
}

/* A gate whose DPL is below CPL: #GP(gate selector). */
static void test_call_gate_dpl(void)
{
    if (!setup()) SKIP("emu engine not built");
    setdesc(GATE, gate(KCS, ISR, 0x8c, 0));
    static const uint8_t code[] = {0x9a, 0, 0, 0, 0, GATE | 3, 0, END};
    struct x86_cpu_state s;
    state32(&s, true);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(s.rip, EMU_H_STUBS + 13 * 16 + 1);
    CHECK_EQ(rd32(s.gpr[X86_RSP]), GATE);
}

/* JMP to conforming DPL0 code keeps CPL3; to non-conforming DPL0: #GP. */
static void test_conforming(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t code[] = {0xea, 0x07, 0x00, 0x01, 0x00, CONF0 | 3, 0, END};
    struct x86_cpu_state s;
    state32(&s, true);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_PIO);
    CHECK_EQ(s.seg[X86_CS].selector, CONF0 | 3);
    CHECK_EQ(s.seg[X86_SS].dpl, 3);

    setup();
    static const uint8_t bad[] = {0xea, 0x07, 0x00, 0x01, 0x00, KCS, 0, END};
    state32(&s, true);
    CHECK_EQ(emu_h_run(&h, bad, sizeof(bad), &s), VM_EXIT_HLT);
    CHECK_EQ(s.rip, EMU_H_STUBS + 13 * 16 + 1);
    CHECK_EQ(rd32(s.gpr[X86_RSP]), KCS);
}

/* Task gates are outside roam-v1: #GP with the IDT error code. */
static void test_task_gate(void)
{
    if (!setup()) SKIP("emu engine not built");
    emu_h_put64(h.ram + IDT32 + 8 * 0x30, gate(TSS_SEL, 0, 0xe5, 0));
    static const uint8_t code[] = {0xcd, 0x30, END};
    struct x86_cpu_state s;
    state32(&s, false);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(s.rip, EMU_H_STUBS + 13 * 16 + 1);
    CHECK_EQ(rd32(s.gpr[X86_RSP]), 0x30 * 8 + 2);
}

/* LTR marks the TSS busy; LLDT then an LDT selector load. */
static void test_ltr_lldt(void)
{
    if (!setup()) SKIP("emu engine not built");
    setdesc(TSS_SEL, desc(TSS32, 0x67, 0x89, 0)); /* available */
    static const uint8_t code[] = {
        0x66, 0xb8, TSS_SEL, 0x00, 0x0f, 0x00, 0xd8, /* mov ax, TSS; ltr ax */
        0x66, 0xb8, LDT_SEL, 0x00, 0x0f, 0x00, 0xd0, /* mov ax, LDT; lldt ax */
        0x66, 0xb8, 0x0f, 0x00, 0x8e, 0xe0,          /* mov ax, 0x0f; mov fs, ax */
        0x0f, 0x00, 0xc9,                            /* str cx */
        0x0f, 0x00, 0xc2,                            /* sldt dx */
        END,
    };
    struct x86_cpu_state s;
    state32(&s, false);
    memset(&s.seg[X86_TR], 0, sizeof(s.seg[X86_TR]));
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_PIO);
    CHECK_EQ(h.ram[EMU_H_GDT + TSS_SEL + 5], 0x8b);
    CHECK_EQ(s.seg[X86_TR].type, 0xb);
    CHECK_EQ(s.seg[X86_TR].base, TSS32);
    CHECK_EQ(s.seg[X86_LDTR].base, 0x7000);
    CHECK_EQ(s.seg[X86_FS].selector, 0x0f);
    CHECK_EQ(s.seg[X86_FS].dpl, 3);
    CHECK_EQ(s.gpr[X86_RCX], TSS_SEL);
    CHECK_EQ(s.gpr[X86_RDX], LDT_SEL);

    /* LTR of a busy TSS: #GP(selector). */
    setup();
    state32(&s, false);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(s.rip, EMU_H_STUBS + 13 * 16 + 1);
    CHECK_EQ(rd32(s.gpr[X86_RSP]), TSS_SEL);
}

/* LAR, LSL, VERR, VERW from CPL3. */
static void test_lar_lsl_verr(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t code[] = {
        0xb9, DS3, 0, 0, 0,       /* mov ecx, DS3 */
        0x0f, 0x02, 0xc1,         /* lar eax, ecx */
        0x0f, 0x03, 0xd9,         /* lsl ebx, ecx */
        0x9c,                     /* pushf */
        0xba, KDS, 0, 0, 0,       /* mov edx, KDS */
        0x0f, 0x02, 0xf2,         /* lar esi, edx: DPL0 from CPL3, ZF=0 */
        0x9c,                     /* pushf */
        0x0f, 0x00, 0xe1,         /* verr cx */
        0x9c,
        0x0f, 0x00, 0xea,         /* verw dx */
        0x9c,
        END,
    };
    struct x86_cpu_state s;
    state32(&s, true);
    s.gpr[X86_RSI] = 0x5555;
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_PIO);
    CHECK_EQ(s.gpr[X86_RAX], 0x00c0f200);
    CHECK_EQ(s.gpr[X86_RBX], 0xffffffff);
    CHECK_EQ(s.gpr[X86_RSI], 0x5555);
    CHECK_EQ(rd32(USTACK - 4) & 0x40, 0x40);
    CHECK_EQ(rd32(USTACK - 8) & 0x40, 0);
    CHECK_EQ(rd32(USTACK - 12) & 0x40, 0x40);
    CHECK_EQ(rd32(USTACK - 16) & 0x40, 0);
}

/* INT n from CPL3 whose TSS gives a bad SS0 (RPL 3 for DPL 0): #TS(SS0),
 * taken through a gate to conforming code, which runs at CPL3 on the
 * user stack (no stack switch, SDM Vol. 3A 6.12.1.1). */
static void test_ts_bad_ss0(void)
{
    if (!setup()) SKIP("emu engine not built");
    memcpy(h.ram + TSS32 + 8, &(uint16_t){DS3}, 2);
    emu_h_put64(h.ram + IDT32 + 8 * 10, gate(CONF0, 0x21000, 0xee, 0));
    h.ram[0x21000] = 0xe6; /* out 0xf4, al */
    h.ram[0x21001] = 0xf4;
    static const uint8_t code[] = {0x90, 0xcd, 0x30, END};
    struct x86_cpu_state s;
    state32(&s, true);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_PIO);
    CHECK_EQ(s.seg[X86_CS].selector, CONF0 | 3);
    CHECK_EQ(s.gpr[X86_RSP], USTACK - 16);
    CHECK_EQ(rd32(USTACK - 16), DS3 & ~3);
    CHECK_EQ(rd32(USTACK - 12), EMU_H_CODE + 1);
    CHECK_EQ(rd32(USTACK - 8), CS3);
}

/* IRETD at CPL0 with VM=1 enters virtual-8086 mode (SDM Vol. 3A 20.2.5);
 * INT n there (IOPL 3) returns to CPL0 pushing GS, FS, DS, ES first and
 * nulling them (20.3.1.1); with IOPL < 3 INT n is #GP(0). */
static void run_vm86(uint32_t eflags, struct x86_cpu_state *s)
{
    static const uint8_t code[] = {
        0x6a, 0x00, 0x6a, 0x00, 0x68, 0x00, 0x40, 0x00, 0x00, 0x6a, 0x00, /* gs fs ds es */
        0x68, 0x00, 0x50, 0x00, 0x00, 0x68, 0xf0, 0xff, 0x00, 0x00,       /* ss esp */
        0x68, 0, 0, 0, 0,                                                 /* eflags */
        0x68, 0x00, 0x30, 0x00, 0x00, 0x6a, 0x00, 0xcf,                   /* cs eip; iretd */
    };
    static const uint8_t v86[] = {0xb8, 0x34, 0x12, 0xcd, 0x30}; /* mov ax, 0x1234; int 0x30 */
    uint8_t c[sizeof(code)];
    memcpy(c, code, sizeof(code));
    memcpy(c + 22, &eflags, 4);
    memcpy(h.ram + 0x30000, v86, sizeof(v86));
    state32(s, false);
    CHECK_EQ(emu_h_run(&h, c, sizeof(c), s), VM_EXIT_HLT);
}

static void test_vm86(void)
{
    if (!setup()) SKIP("emu engine not built");
    struct x86_cpu_state s;
    run_vm86(0x23202, &s);
    CHECK_EQ(s.rip, ISR + 1);
    CHECK_EQ(s.gpr[X86_RAX] & 0xffff, 0x1234);
    CHECK_EQ(s.rflags & (1u << 17), 0);
    CHECK_EQ(s.seg[X86_CS].selector, KCS);
    CHECK_EQ(s.seg[X86_SS].selector, KDS);
    CHECK_EQ(s.seg[X86_DS].selector, 0);
    CHECK_EQ(s.seg[X86_DS].unusable, 1);
    CHECK_EQ(s.gpr[X86_RSP], KSTACK - 36);
    static const uint32_t frame[9] = {5, 0x3000, 0x23202, 0xfff0, 0x5000, 0, 0x4000, 0, 0};
    for (unsigned i = 0; i < 9; i++)
        CHECK_EQ(rd32(KSTACK - 36 + 4 * i), frame[i]);

    setup();
    run_vm86(0x20202, &s);
    CHECK_EQ(s.rip, EMU_H_STUBS + 13 * 16 + 1);
    CHECK_EQ(rd32(s.gpr[X86_RSP]), 0);
    CHECK_EQ(rd32(s.gpr[X86_RSP] + 4), 3);
    CHECK_EQ(rd32(s.gpr[X86_RSP] + 8), 0x3000);
}

int main(int argc, char **argv)
{
    static const struct test_case tests[] = {
        TEST(test_int_user_to_kernel),
        TEST(test_iret_outer),
        TEST(test_segment_load_faults),
        TEST(test_call_gate_params),
        TEST(test_call_gate_dpl),
        TEST(test_conforming),
        TEST(test_task_gate),
        TEST(test_ltr_lldt),
        TEST(test_lar_lsl_verr),
        TEST(test_ts_bad_ss0),
        TEST(test_vm86),
    };
    int rc = test_run_all_("emu_sys_prot", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
    if (have_emu)
        emu_h_destroy(&h);
    return rc;
}
