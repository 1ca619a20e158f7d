/* modes: transitions between the x86 operating modes (Intel SDM Vol. 3A
 * 10.8.5 "Initializing IA-32e Mode", 10.8.5.4 "Switching Out of IA-32e
 * Mode", 10.9 "Mode Switching", chapter 20 "8086 Emulation"), each mode's
 * code checking itself and printing its own PASS/FAIL lines on COM1 from
 * that mode (modes.S):
 *
 * - compat: long mode -> compatibility mode at CPL0 (a far call through an
 *   m16:32 pointer, a far return; then LRETQ in and a far jump out):
 *   opcode 0x48 is DEC, pushes and calls are 4 bytes, EFER.LMA stays set,
 *   segment bases apply (ES), ModRM disp32 is absolute (64-bit mode: RIP-
 *   relative, checked here too, with the ES base ignored);
 * - compat3: compatibility mode at CPL3 through IRETQ (CS 0x23): the same
 *   decoding checks, and DS nulled by the IRET to an outer level;
 * - legacy: long mode -> legacy protected mode (paging off, EFER.LME off,
 *   lib/legacy.S): CR0/EFER, #DE/#UD/#GP(selector) through a 32-bit IDT,
 *   IRET from a handler at CPL0 (not under the PVM hypervisor, whose
 *   emulator lacks it);
 * - pm16: a 16-bit code segment in protected mode (operand size, pushes,
 *   calls, 16-bit addressing with wraparound), entered by a far call;
 * - real: protected mode -> real mode through a 16-bit segment, and back:
 *   CR0.PE, selector * 16 bases, the 16-bit addressing forms (BP forms use
 *   SS), 64 KiB wraparound, the operand-size prefix, unreal mode (FS keeps
 *   its protected-mode limit), INT n through the IVT (at a non-zero IDTR
 *   base) with the pushed IP/CS/FLAGS and IF/TF cleared, #DE, #UD, #GP and
 *   #SS (limit) through the IVT with the faulting IP, a far call to an
 *   aliased selector:offset; then back to protected and to long mode.
 *
 * The 16-bit code is copied to 0x20000 (segment 0x2000); real mode uses
 * 0x20000-0x3ffff. */
#include "lib/check.h"
#include "lib/legacy.h"

const char guest_name[] = "modes";

#define RMBASE 0x20000ul
#define SEL_CODE16 0x60
#define SEL_DATA16 0x68
#define SEL_DATA30 0x70
#define DISP_D 0x1000000ul
#define MF_IRET 1
#define MF_PM16 2
#define MF_REAL 4

extern char rm_blob_start[], rm_blob_end[], rm_pass[], rm_fail[], rm_skip[], rm_tcgbugs[],
    rm_pvm[], modes_compat3_exit[], modes_compat3_back[], modes_legacy32[];
extern uint32_t m32_pass, m32_fail;
extern uint64_t m_rsp64;
void modes_compat0(void);
uint32_t modes_disp_probe(void);
void modes_compat3(void *results);

static uint16_t *rm_word(char *sym)
{
    return (uint16_t *)(RMBASE + (uintptr_t)(sym - rm_blob_start));
}

/* The tallies the asm parts kept while printing their own lines. */
static void add_tallies(void)
{
    check_passed += m32_pass;
    check_failed += m32_fail;
    m32_pass = m32_fail = 0;
    check_passed += *rm_word(rm_pass);
    check_failed += *rm_word(rm_fail);
    check_skipped += *rm_word(rm_skip);
    *rm_word(rm_pass) = *rm_word(rm_fail) = *rm_word(rm_skip) = 0;
}

static void compat3_ud(struct frame *f)
{
    if (f->rip == (uintptr_t)modes_compat3_exit && (f->cs & 3) == 3) {
        f->rip = (uintptr_t)modes_compat3_back;
        f->cs = KERNEL_CS;
        f->ss = KERNEL_DS;
        f->rsp = m_rsp64;
        f->rflags = 2;
        return;
    }
    if (!user_trap(f))
        fail("unexpected #UD at rip 0x%lx cs 0x%lx", f->rip, f->cs);
}

static void long_checks(void)
{
    uint32_t v, es;
    /* The same bytes as in compatibility mode: RIP-relative here. */
    v = modes_disp_probe();
    check_eq("long/modrm-disp32-rip-relative", v, 0x61d5e1a7);
    /* ES's base is ignored in 64-bit mode. */
    __asm__ volatile("movw %w1, %%es\n\tmovl %%es:0x30100, %0\n\tmovw %w2, %%es"
                     : "=&r"(es)
                     : "r"(SEL_DATA30), "r"(KERNEL_DS)
                     : "memory");
    if (!check_tcgbug(es == 0x0ba5eb06, "long/es-base-ignored",
                      "the ES base applies in 64-bit mode"))
        check_eq("long/es-base-ignored", es, 0xe5ba5e30);
}

static void compat3_checks(void)
{
    static volatile uint32_t res[8];
    for (int i = 0; i < 8; i++)
        res[i] = 0xdeadbeef;
    set_handler(6, compat3_ud);
    modes_compat3((void *)res);
    set_handler(6, 0);
    check_eq("compat3/cs", res[0], USER_CS32);
    check_eq("compat3/opcode-48-is-dec", res[1], 4);
    check_eq("compat3/push-is-4-bytes", res[2], 4);
    check_eq("compat3/ss", res[3], USER_DS);
    check_eq("compat3/modrm-disp32-absolute", res[4], 0xab5d1590);
    if (pvm() && res[5] != 0)
        check_skip("compat3/iret-nulls-dpl0-ds",
                   "DS 0x%x after IRETQ to CPL3: " PVM_REASON " keeps it", res[5]);
    else
        check_eq("compat3/iret-nulls-dpl0-ds", res[5], 0);
    check_eq("compat3/32-bit-add-carries", res[6], 1);
    check((read_cs() & 3) == 0, "compat3/back-at-cpl0", "CS 0x%x", read_cs());
}

void guest_main(void)
{
    size_t blob = (size_t)(rm_blob_end - rm_blob_start);
    int p = pvm();

    EXPECT(blob < 0x8000, "the 16-bit code is 0x%lx bytes, more than 0x8000", blob);
    memcpy((void *)RMBASE, rm_blob_start, blob);
    *rm_word(rm_tcgbugs) = (uint16_t)tcgbugs();
    *rm_word(rm_pvm) = (uint16_t)p;
    gdt_extend();
    gdt_big[SEL_CODE16 >> 3] = seg_desc(RMBASE, 0xffff, 0x9b, 0);
    gdt_big[SEL_DATA16 >> 3] = seg_desc(RMBASE, 0xffff, 0x93, 0);
    gdt_big[SEL_DATA30 >> 3] = seg_desc(0x30000, 0xffff, 0x93, 0);
    /* What the ES-base and disp32 checks read. */
    *(volatile uint32_t *)0x30100 = 0xe5ba5e30;
    *(volatile uint32_t *)0x60100 = 0x0ba5eb06; /* 0x30100 + the ES base */
    *(volatile uint32_t *)DISP_D = 0xab5d1590;
    *(volatile uint32_t *)((uintptr_t)modes_disp_probe + 6 + DISP_D) = 0x61d5e1a7;

    if (check_group("compat")) {
        modes_compat0();
        add_tallies();
        check((read_cs()) == KERNEL_CS, "compat/back-in-64-bit-mode", "CS 0x%x", read_cs());
    }
    if (check_group("long"))
        long_checks();
    if (check_group("compat3"))
        compat3_checks();
    if (check_group("legacy")) {
        struct legacy_cfg cfg = {
            .cr0 = (uint32_t)(CR0_PE | CR0_NE | CR0_MP | CR0_ET),
            .cr3 = 0,
            .cr4 = (uint32_t)(CR4_OSFXSR | CR4_OSXMMEXCPT),
            .efer = (uint32_t)rdmsr(MSR_EFER),
            .flags = 0,
        };
        uint32_t flags = MF_PM16 | MF_REAL | (p ? 0 : MF_IRET), r;
        if (cmdline_u64("nopm16", 0))
            flags &= ~MF_PM16;
        if (cmdline_u64("noreal", 0))
            flags &= ~MF_REAL;
        r = legacy_call(modes_legacy32, flags, &cfg);
        add_tallies();
        if ((r & 0xffff0000u) == LEGACY_UNEXPECTED)
            check_fail("legacy/run", "unexpected %s (vector %u) error 0x%x at eip 0x%x cs 0x%x",
                       exception_name(legacy_fault.vector), legacy_fault.vector,
                       legacy_fault.error, legacy_fault.eip, legacy_fault.cs);
        else
            check_eq("legacy/run", r, 0x600d);
        if (p) {
            check_skip("legacy/iret-from-handler",
                       "needs IRET in protected mode, which " PVM_REASON " cannot do");
            check_skip("real/ud", "KVM's instruction emulator cannot do UD2 in real mode "
                                  "(emulation failure under " PVM_REASON ")");
        }
        check(read_cs() == KERNEL_CS && (rdmsr(MSR_EFER) & EFER_LMA) && (read_cr0() & CR0_PG),
              "legacy/back-in-long-mode", "CS 0x%x EFER 0x%lx CR0 0x%lx", read_cs(),
              rdmsr(MSR_EFER), read_cr0());
    }
    check_finish();
}
