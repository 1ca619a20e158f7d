/* Event delivery on the emu engine, checked against the Intel SDM Vol. 3A
 * chapter 6: 64-bit frames (RSP aligned to 16, SS:RSP always pushed, RF in
 * the pushed RFLAGS of faults), the privilege-change stack from the TSS,
 * IST stacks, error codes (IDT and EXT bits), #DF promotion (Table 6-5),
 * triple fault, CR2, and real-mode IVT delivery with IRET. */
#include "emu/harness.h"
#include "test.h"

static struct emu_h h;
static bool have_emu;

#define END 0xe6, 0xf4 /* out 0xf4, al: ends a program with a PIO exit */
#define RF (1ull << 16)
#define IF (1ull << 9)

/* A fresh machine for each test: tests edit the IDT, GDT and TSS. */
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

static uint16_t rd16(uint64_t a)
{
    uint16_t v;
    memcpy(&v, h.ram + a, 2);
    return v;
}

/* Edits the 64-bit IDT gate of vector v: present bit, DPL, IST. */
static void gate64(unsigned v, bool present, unsigned dpl, unsigned ist)
{
    uint8_t *g = h.ram + EMU_H_IDT + 16 * v;
    g[4] = (uint8_t)ist;
    g[5] = (uint8_t)((present ? 0x80 : 0) | (dpl << 5) | 0x0e);
}

static void test_fault_frame64(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t code[] = {0x90, 0x0f, 0x0b}; /* nop; ud2 */
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, false);
    uint64_t rsp = EMU_H_STACK - 0x1000 - 8; /* not 16-byte aligned */
    s.gpr[X86_RSP] = rsp;
    s.rflags = 0x2 | IF | 0x1;
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(emu_h_vector(&s), 6);
    uint64_t f = s.gpr[X86_RSP];
    CHECK_EQ(f, (rsp & ~0xfull) - 40);
    CHECK_EQ(rd64(f), EMU_H_CODE + 1);        /* the faulting instruction */
    CHECK_EQ(rd64(f + 8), EMU_H_CS64);
    CHECK_EQ(rd64(f + 16), 0x2 | IF | 0x1 | RF); /* faults push RF=1 */
    CHECK_EQ(rd64(f + 24), rsp);
    CHECK_EQ(rd64(f + 32), EMU_H_DS);
    CHECK_EQ(s.rflags & (IF | RF), 0);        /* interrupt gate */
    CHECK_EQ(s.seg[X86_CS].selector, EMU_H_CS64);
}

static void test_page_fault_cr2(void)
{
    if (!setup()) SKIP("emu engine not built");
    /* mov rax, [0x1000000]: 16 MiB is not mapped (the PD maps 8 MiB). */
    static const uint8_t code[] = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x01, END};
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, false);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(emu_h_vector(&s), 14);
    CHECK_EQ(s.cr2, 0x1000000);
    uint64_t f = s.gpr[X86_RSP];
    CHECK_EQ(rd64(f), 0);                     /* not present, read, supervisor */
    CHECK_EQ(rd64(f + 8), EMU_H_CODE);
}

/* INT3 at CPL3 goes to CPL0 on RSP0 with SS = null (SDM 6.14.4). */
static void test_user_to_kernel_stack(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t code[] = {0xcc, END};
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, true);
    uint64_t ursp = s.gpr[X86_RSP] - 3;
    s.gpr[X86_RSP] = ursp;
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(emu_h_vector(&s), 3);
    uint64_t f = s.gpr[X86_RSP];
    CHECK_EQ(f, EMU_H_STACK - 40);
    CHECK_EQ(rd64(f), EMU_H_CODE + 1);        /* a trap: after int3 */
    CHECK_EQ(rd64(f + 8), EMU_H_CS64_USER);
    CHECK_EQ(rd64(f + 16) & RF, 0);
    CHECK_EQ(rd64(f + 24), ursp);
    CHECK_EQ(rd64(f + 32), EMU_H_DS_USER);
    CHECK_EQ(s.seg[X86_SS].selector, 0);
    CHECK_EQ(s.seg[X86_CS].selector, EMU_H_CS64);
    CHECK_EQ(s.seg[X86_SS].dpl, 0);
}

static void test_ist_stack(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t code[] = {0x0f, 0x0b};
    gate64(6, true, 3, 2);
    emu_h_put64(h.ram + EMU_H_TSS + 0x24 + 8, 0x60008); /* IST2 */
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, false);
    uint64_t rsp = s.gpr[X86_RSP];
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(emu_h_vector(&s), 6);
    CHECK_EQ(s.gpr[X86_RSP], 0x60000 - 40);   /* IST aligned down to 16 */
    CHECK_EQ(rd64(0x60000 - 16), rsp);
    CHECK_EQ(rd64(0x60000 - 8), EMU_H_DS);    /* same CPL: SS kept */
    CHECK_EQ(s.seg[X86_SS].selector, EMU_H_DS);
}

/* INT n through a gate with DPL < CPL: #GP(vector * 8 + 2), no EXT, and
 * the saved RIP is the INT instruction's. */
static void test_soft_int_dpl(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t code[] = {0x90, 0xcd, 0x05, END};
    gate64(5, true, 0, 0);
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, true);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(emu_h_vector(&s), 13);
    uint64_t f = s.gpr[X86_RSP];
    CHECK_EQ(rd64(f), 5 * 8 + 2);
    CHECK_EQ(rd64(f + 8), EMU_H_CODE + 1);
    CHECK_EQ(rd64(f + 16), EMU_H_CS64_USER);
}

static void test_gate_not_present(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t code[] = {0xcd, 0x07, END};
    gate64(7, false, 3, 0);
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, false);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(emu_h_vector(&s), 11);
    CHECK_EQ(rd64(s.gpr[X86_RSP]), 7 * 8 + 2);
}

/* An external interrupt beyond the IDT limit: #GP with IDT and EXT bits. */
static void test_external_beyond_idt(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t code[] = {0x90, 0x90, 0x90, END};
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, false);
    s.rflags = 0x2 | IF;
    CHECK(h.ops->set_state(h.vcpu, &s) == 0);
    CHECK(h.ops->inject(h.vcpu, ENGINE_EVENT_INTR, 0x40) == 0);
    CHECK(h.ops->get_state(h.vcpu, &s) == 0);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(emu_h_vector(&s), 13);
    uint64_t f = s.gpr[X86_RSP];
    CHECK_EQ(rd64(f), 0x40 * 8 + 2 + 1);
    CHECK_EQ(rd64(f + 8), EMU_H_CODE);
}

static void test_nmi(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t code[] = {0x90, END};
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, false);
    CHECK(h.ops->set_state(h.vcpu, &s) == 0);
    CHECK(h.ops->inject(h.vcpu, ENGINE_EVENT_NMI, 2) == 0);
    CHECK(h.ops->get_state(h.vcpu, &s) == 0);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(emu_h_vector(&s), 2);
    CHECK_EQ(s.events.nmi_masked, 1);
    CHECK_EQ(rd64(s.gpr[X86_RSP]), EMU_H_CODE);
}

/* #GP whose gate is not present: #NP during delivery, contributory twice:
 * #DF with error 0 (Table 6-5). */
static void test_double_fault(void)
{
    if (!setup()) SKIP("emu engine not built");
    /* mov rax, [rbx] with a non-canonical rbx: #GP(0). */
    static const uint8_t code[] = {0x48, 0x8b, 0x03, END};
    gate64(13, false, 0, 0);
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, false);
    s.gpr[X86_RBX] = 0x8000000000000000ull;
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(emu_h_vector(&s), 8);
    uint64_t f = s.gpr[X86_RSP];
    CHECK_EQ(rd64(f), 0);
    CHECK_EQ(rd64(f + 8), EMU_H_CODE);
}

static void test_triple_fault(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t code[] = {0x48, 0x8b, 0x03, END};
    gate64(13, false, 0, 0);
    gate64(8, false, 0, 0);
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, false);
    s.gpr[X86_RBX] = 0x8000000000000000ull;
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_SHUTDOWN);
}

/* A benign fault (#UD) whose frame cannot be pushed (#PF), then a #PF
 * while delivering that #PF: #DF, taken on an IST stack. CR2 holds the
 * address of the first push. A benign #UD + #NP is delivered serially. */
static void test_page_fault_in_delivery(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t code[] = {0x0f, 0x0b};
    gate64(8, true, 0, 1);
    emu_h_put64(h.ram + EMU_H_TSS + 0x24, 0x60000); /* IST1 */
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, false);
    s.gpr[X86_RSP] = 0x1000000;
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(emu_h_vector(&s), 8);
    CHECK_EQ(s.gpr[X86_RSP], 0x60000 - 48);
    CHECK_EQ(rd64(0x60000 - 48), 0);
    CHECK_EQ(s.cr2, 0x1000000 - 8);

    setup();
    gate64(6, false, 0, 0);
    emu_h_state64(&h, &s, false);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(emu_h_vector(&s), 11);
    CHECK_EQ(rd64(s.gpr[X86_RSP]), 6 * 8 + 2 + 1);
}

/* INTO traps only with OF; INT1 (F1) is a #DB trap without the DPL check. */
static void test_into_int1(void)
{
    if (!setup()) SKIP("emu engine not built");
    static const uint8_t code[] = {0xf1, END};
    gate64(1, true, 0, 0);
    struct x86_cpu_state s;
    emu_h_state64(&h, &s, true);
    CHECK_EQ(emu_h_run(&h, code, sizeof(code), &s), VM_EXIT_HLT);
    CHECK_EQ(emu_h_vector(&s), 1);
    CHECK_EQ(rd64(s.gpr[X86_RSP]), EMU_H_CODE + 1);
}

/* Real mode: INT n through the IVT pushes FLAGS, CS, IP (16 bits each) and
 * clears IF/TF; IRET returns (SDM Vol. 3A 20.1.4). */
static void test_real_mode_int_iret(void)
{
    if (!setup()) SKIP("emu engine not built");
    /* At 1000:0000: int 0x21; mov bx, 0x1234; out 0xf4, al.
     * Handler at 2000:0010: mov ax, 0x5678; iret. */
    static const uint8_t code[] = {0xcd, 0x21, 0xbb, 0x34, 0x12, END};
    static const uint8_t isr[] = {0xb8, 0x78, 0x56, 0xcf};
    memcpy(h.ram + 0x20010, isr, sizeof(isr));
    h.ram[0x21 * 4 + 0] = 0x10;
    h.ram[0x21 * 4 + 1] = 0x00;
    h.ram[0x21 * 4 + 2] = 0x00;
    h.ram[0x21 * 4 + 3] = 0x20;
    struct x86_cpu_state s;
    x86_cpu_state_reset(&s);
    s.seg[X86_CS].selector = 0x1000;
    s.seg[X86_CS].base = 0x10000;
    s.seg[X86_SS].selector = 0x7000;
    s.seg[X86_SS].base = 0x70000;
    s.rip = 0;
    s.gpr[X86_RSP] = 0xfff0;
    s.rflags = 0x2 | IF | 0x100 * 0;
    s.idtr.base = 0;
    s.idtr.limit = 0x3ff;
    int r = emu_h_run(&h, code, sizeof(code), &s);
    CHECK_EQ(r, VM_EXIT_PIO);
    CHECK_EQ(s.gpr[X86_RAX] & 0xffff, 0x5678);
    CHECK_EQ(s.gpr[X86_RBX] & 0xffff, 0x1234);
    CHECK_EQ(s.gpr[X86_RSP], 0xfff0);
    CHECK_EQ(s.seg[X86_CS].selector, 0x1000);
    CHECK_EQ(s.rflags & IF, IF);
    /* The frame the interrupt left below SP. */
    CHECK_EQ(rd16(0x70000 + 0xfff0 - 2), 0x2 | IF);
    CHECK_EQ(rd16(0x70000 + 0xfff0 - 4), 0x1000);
    CHECK_EQ(rd16(0x70000 + 0xfff0 - 6), 2);
}

int main(int argc, char **argv)
{
    static const struct test_case tests[] = {
        TEST(test_fault_frame64),
        TEST(test_page_fault_cr2),
        TEST(test_user_to_kernel_stack),
        TEST(test_ist_stack),
        TEST(test_soft_int_dpl),
        TEST(test_gate_not_present),
        TEST(test_external_beyond_idt),
        TEST(test_nmi),
        TEST(test_double_fault),
        TEST(test_triple_fault),
        TEST(test_page_fault_in_delivery),
        TEST(test_into_int1),
        TEST(test_real_mode_int_iret),
    };
    int rc = test_run_all_("emu_sys_deliver", tests, sizeof(tests) / sizeof(tests[0]), argc,
                           argv);
    if (have_emu)
        emu_h_destroy(&h);
    return rc;
}
