/* exceptions: raises exceptions at CPL0 and CPL3 and checks, for each, the
 * vector, the error code, the saved RIP and CS and (for #PF) CR2, through
 * IDT handlers that record the fault and resume after the instruction
 * (Intel SDM Vol. 3A 6.15 "Exception and Interrupt Reference"; #PF error
 * codes: 4.7). The page-fault cases use 2 MiB pages in the second GiB that
 * this guest remaps: not present, read-only, supervisor-only, no-execute.
 * bp0=1 adds int3 at CPL0, which KVM's instruction emulator cannot do
 * (KVM_EXIT_INTERNAL_ERROR where CPL0 is emulated, as under PVM). "int 0x81"
 * at CPL3 must raise #GP with error code 0x40a (IDT, vector 0x81); under
 * KVM's PVM hypervisor it raises #UD, which prints a "skip -" line unless
 * intn=on; intn=off leaves it out (QEMU 7.2's TCG reports 0x812, a bug
 * fixed later in QEMU). */
#include "lib/guest.h"

const char guest_name[] = "exceptions";

extern uint64_t pd0[];
#define PD1 (pd0 + 512) /* the second GiB */

#define VA_NOTPRESENT 0x40000000ul
#define VA_READONLY 0x40200000ul
#define VA_SUPERVISOR 0x40400000ul
#define VA_NOEXEC 0x40600000ul
#define PA_SCRATCH 0x600000ul /* 2 MiB of RAM behind the remapped pages */

#define PF_P 1u
#define PF_W 2u
#define PF_U 4u
#define PF_I 16u

static unsigned checks;
static int nx;

/* Checks the last fault against what was expected. rip is the expected
 * saved RIP (the faulting instruction, or the next one for a trap). */
static void expect_fault(const char *what, uint64_t count0, unsigned vector, int has_err,
                         uint64_t err, uint64_t rip, unsigned cpl, int check_cr2, uint64_t cr2)
{
    EXPECT(last_fault.count == count0 + 1, "%s: no exception (expected %s)", what,
           exception_name(vector));
    EXPECT(last_fault.vector == vector, "%s: got %s (vector %lu), expected %s", what,
           exception_name((unsigned)last_fault.vector), last_fault.vector, exception_name(vector));
    if (has_err)
        EXPECT(last_fault.error == err, "%s: error code 0x%lx, expected 0x%lx", what,
               last_fault.error, err);
    EXPECT(last_fault.rip == rip, "%s: saved RIP 0x%lx, expected 0x%lx", what, last_fault.rip,
           rip);
    EXPECT((last_fault.cs & 3) == cpl, "%s: saved CS 0x%lx, expected CPL %u", what,
           last_fault.cs, cpl);
    if (check_cr2)
        EXPECT(last_fault.cr2 == cr2, "%s: CR2 0x%lx, expected 0x%lx", what, last_fault.cr2,
               cr2);
    printf("ok - %s: %s", what, exception_name(vector));
    if (has_err)
        printf(" error 0x%lx", err);
    if (check_cr2)
        printf(" cr2 0x%lx", cr2);
    printf("\n");
    checks++;
}

/* ---- the faulting instructions, shared by CPL0 and CPL3 ---- */

static void do_de(void)
{
    __asm__ volatile("xorl %%edx, %%edx\n\tmovl $1, %%eax\n\txorl %%ecx, %%ecx\n\t" FAULT_BEGIN
                     "divl %%ecx" FAULT_END
                     :
                     :
                     : "rax", "rcx", "rdx", "r11", "memory");
}

static void do_ud(void)
{
    __asm__ volatile(FAULT_BEGIN "ud2" FAULT_END ::: "r11", "memory");
}

static void do_bp(void)
{
    __asm__ volatile(FAULT_BEGIN "int3" FAULT_END ::: "r11", "memory");
}

static void do_load(uint64_t va)
{
    __asm__ volatile(FAULT_BEGIN "movq (%0), %%rax" FAULT_END : : "r"(va) : "rax", "r11", "memory");
}

static void do_store(uint64_t va)
{
    __asm__ volatile(FAULT_BEGIN "movq %%rax, (%0)" FAULT_END : : "r"(va) : "rax", "r11", "memory");
}

static void do_jump(uint64_t va)
{
    __asm__ volatile(FAULT_BEGIN "jmp *%0" FAULT_END : : "r"(va) : "r11", "memory");
}

static void do_hlt(void)
{
    __asm__ volatile(FAULT_BEGIN "hlt" FAULT_END ::: "r11", "memory");
}

static void do_inb(void)
{
    __asm__ volatile(FAULT_BEGIN "inb $0x80, %%al" FAULT_END ::: "rax", "r11", "memory");
}

static void do_int81(void)
{
    __asm__ volatile(FAULT_BEGIN "int $0x81" FAULT_END ::: "r11", "memory");
}

/* ---- CPL3 part: runs without IOPL; records into results for CPL0 ---- */

struct user_result {
    struct fault_record f;
    uint64_t insn, fixup;
};
static struct user_result ures[8];
enum { U_DE, U_BP, U_HLT, U_INB, U_INT81, U_NP, U_RO, U_SUP };

static void save(struct user_result *r)
{
    r->f = last_fault;
    r->insn = fault_insn;
    r->fixup = fault_fixup;
}

static uint64_t user_faults(uint64_t arg)
{
    (void)arg;
    do_de();
    save(&ures[U_DE]);
    do_bp();
    save(&ures[U_BP]);
    do_hlt();
    save(&ures[U_HLT]);
    do_inb();
    save(&ures[U_INB]);
    do_int81();
    save(&ures[U_INT81]);
    do_load(VA_NOTPRESENT + 0x88);
    save(&ures[U_NP]);
    do_store(VA_READONLY + 0x1230);
    save(&ures[U_RO]);
    do_load(VA_SUPERVISOR + 0x8);
    save(&ures[U_SUP]);
    return read_cs() & 3;
}

static void check_user(const char *what, int i, uint64_t count0, unsigned vector, uint64_t err,
                       int trap, int check_cr2, uint64_t cr2)
{
    last_fault = ures[i].f;
    expect_fault(what, count0 + (uint64_t)i, vector, vector == 13 || vector == 14, err,
                 trap ? ures[i].fixup : ures[i].insn, 3, check_cr2, cr2);
}

static void remap(void)
{
    PD1[0] = 0;                                               /* not present */
    PD1[1] = PA_SCRATCH | PTE_P | PTE_U | PTE_PS;             /* read-only */
    PD1[2] = PA_SCRATCH | PTE_P | PTE_W | PTE_PS;             /* supervisor only */
    PD1[3] = PA_SCRATCH | PTE_P | PTE_W | PTE_U | PTE_PS | (nx ? PTE_NX : 0); /* no-exec */
    write_cr3(read_cr3());
}

void guest_main(void)
{
    uint64_t c, r;

    int intn = cmdline_mode("intn");

    nx = (rdmsr(MSR_EFER) & EFER_NXE) != 0;
    remap();

    /* CPL0 */
    c = last_fault.count;
    do_de();
    expect_fault("div by zero at CPL0", c, 0, 0, 0, fault_insn, 0, 0, 0);
    c = last_fault.count;
    do_ud();
    expect_fault("ud2 at CPL0", c, 6, 0, 0, fault_insn, 0, 0, 0);
    if (cmdline_u64("bp0", 0)) {
        c = last_fault.count;
        do_bp();
        expect_fault("int3 at CPL0", c, 3, 0, 0, fault_fixup, 0, 0, 0);
    }
    c = last_fault.count;
    do_load(0x8000000000000000ul);
    expect_fault("non-canonical load at CPL0", c, 13, 1, 0, fault_insn, 0, 0, 0);
    c = last_fault.count;
    do_load(VA_NOTPRESENT + 0x10);
    expect_fault("read of a not-present page at CPL0", c, 14, 1, 0, fault_insn, 0, 1,
                 VA_NOTPRESENT + 0x10);
    c = last_fault.count;
    do_store(VA_NOTPRESENT + 0x1ff8);
    expect_fault("write to a not-present page at CPL0", c, 14, 1, PF_W, fault_insn, 0, 1,
                 VA_NOTPRESENT + 0x1ff8);
    c = last_fault.count;
    do_store(VA_READONLY + 0x40);
    expect_fault("write to a read-only page at CPL0 (CR0.WP)", c, 14, 1, PF_P | PF_W, fault_insn,
                 0, 1, VA_READONLY + 0x40);
    if (nx) {
        c = last_fault.count;
        do_jump(VA_NOEXEC + 0x100);
        expect_fault("fetch from a no-execute page at CPL0", c, 14, 1, PF_P | PF_I,
                     VA_NOEXEC + 0x100, 0, 1, VA_NOEXEC + 0x100);
    } else {
        printf("skip - no-execute: the CPU has no NX\n");
    }
    /* The remapped pages do work where allowed. */
    *(volatile uint64_t *)(VA_SUPERVISOR + 0x1000) = 0x5a5a5a5a;
    EXPECT(*(volatile uint64_t *)(VA_READONLY + 0x1000) == 0x5a5a5a5a,
           "the read-only alias does not show the supervisor alias's write");

    hold_point("cpl3");
    /* CPL3, IOPL 0 */
    c = last_fault.count;
    r = user_run(user_faults, 0, 0);
    EXPECT(r == 3, "user code ran at CPL %lu", r);
    check_user("div by zero at CPL3", U_DE, c, 0, 0, 0, 0, 0);
    check_user("int3 at CPL3", U_BP, c, 3, 0, 1, 0, 0);
    check_user("hlt at CPL3", U_HLT, c, 13, 0, 0, 0, 0);
    check_user("in at CPL3 with IOPL 0", U_INB, c, 13, 0, 0, 0, 0);
    if (intn == MODE_OFF) {
        printf("skip - int 0x81 at CPL3: intn=off\n");
    } else if (ures[U_INT81].f.vector == 6 && intn == MODE_AUTO) {
        printf("skip - int 0x81 (DPL 0 gate) at CPL3 raised #UD, not #GP(0x40a), as under "
               "KVM's PVM hypervisor (intn=on makes this a failure)\n");
    } else {
        check_user("int 0x81 (DPL 0 gate) at CPL3", U_INT81, c, 13, (0x81u << 3) | 2, 0, 0, 0);
    }
    check_user("read of a not-present page at CPL3", U_NP, c, 14, PF_U, 0, 1, VA_NOTPRESENT + 0x88);
    check_user("write to a read-only page at CPL3", U_RO, c, 14, PF_U | PF_W | PF_P, 0, 1,
               VA_READONLY + 0x1230);
    check_user("read of a supervisor page at CPL3", U_SUP, c, 14, PF_U | PF_P, 0, 1,
               VA_SUPERVISOR + 0x8);
    printf("%u exception checks\n", checks);
}
