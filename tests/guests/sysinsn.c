/* sysinsn: system instructions (Intel SDM Vol. 2 and Vol. 3A chapters 2,
 * 5, 6 and 18):
 *
 * - cpuid: what any x86-64 CPU this guest runs on has (leaf 1 and
 *   0x80000001 features), CPL0 and CPL3 agreeing; with cpuid=roam the
 *   exact roam-v1 model (src/core/cpu_model.c, DESIGN.md "CPU model"):
 *   leaves 0, 1, 0x15, 0x40000000, 0x80000000-0x80000008, the brand string
 *   and the out-of-range rule;
 * - msr: RDMSR/WRMSR round trips of the model's MSRs, #GP(0) for an MSR
 *   that does not exist (0x12345678) and for reserved values (EFER, PAT,
 *   MTRRdefType, non-canonical bases), for writing MTRRcap, and at CPL3;
 * - cr: CR4 reserved and unsupported-feature bits, CR4.PAE and EFER.LME
 *   in long mode, CR0 PG without PE and NW without CD, CR3 bits above
 *   MAXPHYADDR (#GP(0)); MOV to CR1/CR5 (#UD); CR2 reads back;
 * - dr: MOV DR read-back, DR6's fixed bits, DR4 with CR4.DE (#UD) and
 *   without (an alias of DR6), #GP for upper bits and at CPL3; data and
 *   instruction breakpoints; single-stepping with TF, and the MOV SS
 *   shadow that delays the single-step trap by one instruction;
 * - swapgs: GS base and KERNEL_GS_BASE swap, #GP at CPL3;
 * - tsc: RDTSC increasing, CR4.TSD at CPL3, RDTSCP and TSC_AUX where
 *   CPUID has RDTSCP, else #UD (and #GP for TSC_AUX);
 * - syscall: SYSCALL/SYSRET from 64-bit and compatibility mode (RCX, R11,
 *   CS/SS from STAR, SFMASK, RFLAGS from R11), #UD with EFER.SCE = 0, SYSRET
 *   at CPL3 #GP(0);
 * - sysenter: SYSENTER/SYSEXIT (64-bit and 32-bit returns), #GP(0) with
 *   SYSENTER_CS = 0 and for SYSEXIT at CPL3; on an AMD vendor SYSENTER in
 *   64-bit mode is #UD instead;
 * - hlt: HLT wakes on an interrupt (the LAPIC timer);
 * - shadow: an interrupt pending at STI is taken after the next
 *   instruction (after HLT, after a NOP), and at once after POPF.
 *
 * Under KVM's PVM hypervisor (docs/kvm.md) CPL3 runs natively on the host
 * (an AMD CPU with its own CPUID, SYSCALL, SYSENTER and debug registers)
 * and CPL0 is emulated by KVM's instruction emulator: the checks that
 * depend on either are skipped there, saying why. tcgbugs=1 turns what
 * QEMU 7.2's TCG gets wrong into SKIPs. */
#include "lib/check.h"

const char guest_name[] = "sysinsn";

#define MSR_TSC 0x10u
#define MSR_MTRRCAP 0xfeu
#define MSR_SYSENTER_CS 0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u
#define MSR_MISC_ENABLE 0x1a0u
#define MSR_MTRR_BASE0 0x200u
#define MSR_MTRR_MASK0 0x201u
#define MSR_MTRR_FIX64K 0x250u
#define MSR_PAT 0x277u
#define MSR_MTRR_DEF 0x2ffu
#define MSR_CSTAR 0xc0000083u
#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u
#define MSR_KGS_BASE 0xc0000102u
#define MSR_TSC_AUX 0xc0000103u
#define CR0_NW (1ul << 29)
#define CR0_CD (1ul << 30)
#define CR4_TSD (1ul << 2)
#define CR4_DE (1ul << 3)

extern uint64_t sys_rec[16], sys_rsp64, sys_kstack_top;
extern uint8_t sys_exit32, sys_ret32;
extern char sys_lstar[], sys_cstar[], sys_sysenter[], sys_compat3_exit[], sys_compat3_back[],
    sys_compat3_syscall[];
static volatile uint64_t compat_syscall_ud;
uint64_t sys_user_syscall(uint64_t out);
uint64_t sys_user_sysenter(uint64_t out);
void sys_compat3(uint32_t which, uint64_t *out);

static int p, intel, maxphy, roam_model;
static uint8_t kstack[4096] __attribute__((aligned(16)));

/* ---- helpers that record a fault ---- */
static uint64_t rdmsr_f(uint32_t msr, uint64_t *v)
{
    uint32_t lo = 0, hi = 0;
    uint64_t c = last_fault.count;
    __asm__ volatile(FAULT_BEGIN "rdmsr" FAULT_END : "+a"(lo), "+d"(hi) : "c"(msr)
                     : "r11", "memory");
    *v = lo | (uint64_t)hi << 32;
    return last_fault.count - c;
}

static uint64_t wrmsr_f(uint32_t msr, uint64_t v)
{
    uint64_t c = last_fault.count;
    __asm__ volatile(FAULT_BEGIN "wrmsr" FAULT_END
                     :
                     : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
                     : "r11", "memory");
    return last_fault.count - c;
}

#define DEF_CR_WRITE(n)                                                                        \
    static uint64_t write_cr##n##_f(uint64_t v)                                                \
    {                                                                                          \
        uint64_t c = last_fault.count;                                                         \
        __asm__ volatile(FAULT_BEGIN "mov %0, %%cr" #n FAULT_END : : "r"(v) : "r11", "memory"); \
        return last_fault.count - c;                                                           \
    }
DEF_CR_WRITE(0)
DEF_CR_WRITE(2)
DEF_CR_WRITE(3)
DEF_CR_WRITE(4)
#undef DEF_CR_WRITE

static int is_fault(const char *name, uint64_t n, unsigned vector, uint64_t err)
{
    if (n != 1) {
        check_fail(name, "%lu exceptions, expected %s(0x%lx)", n, exception_name(vector), err);
        return 0;
    }
    if (last_fault.vector != vector || last_fault.error != err) {
        check_fail(name, "%s error 0x%lx, expected %s error 0x%lx",
                   exception_name((unsigned)last_fault.vector), last_fault.error,
                   exception_name(vector), err);
        return 0;
    }
    check_pass(name, "%s(0x%lx)", exception_name(vector), err);
    return 1;
}

/* A #GP(0) that QEMU 7.2's TCG does not raise. */
static void gp_or_tcgbug(const char *name, uint64_t n, const char *bug)
{
    if (n == 0 && check_tcgbug(1, name, bug))
        return;
    is_fault(name, n, 13, 0);
}

/* ---- cpuid ---- */
static void cpuid_checks(void)
{
    uint32_t r[4], u[4];
    cpuid(0, 0, r);
    check(r[0] >= 1, "cpuid/leaf0-max-at-least-1", "EAX 0x%x", r[0]);
    cpuid(1, 0, r);
    {
        uint32_t need = (1u << 0) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 9) |
                        (1u << 15) | (1u << 24) | (1u << 25) | (1u << 26);
        check((r[3] & need) == need, "cpuid/leaf1-edx-x86-64-baseline",
              "EDX 0x%x lacks 0x%x", r[3], need & ~r[3]);
    }
    cpuid(0x80000000, 0, r);
    check(r[0] >= 0x80000001, "cpuid/extended-max", "EAX 0x%x", r[0]);
    cpuid(0x80000001, 0, r);
    check((r[3] & (1u << 29)) != 0, "cpuid/80000001-lm", "EDX 0x%x", r[3]);

    if (roam_model) {
        static const char brand[48] = "roam virtual CPU (roam-v1)";
        uint32_t b[12];
        const uint32_t edx1 = 0x0789bb7d; /* FPU DE PSE TSC MSR PAE CX8 APIC SEP MTRR PGE
                                             CMOV PAT CLFLUSH MMX FXSR SSE SSE2 */
        cpuid(0, 0, r);
        check(r[0] == 0x16 && r[1] == 0x756e6547 && r[3] == 0x49656e69 && r[2] == 0x6c65746e,
              "cpuid/roam-leaf0", "0x%x 0x%x 0x%x 0x%x", r[0], r[1], r[2], r[3]);
        cpuid(1, 0, r);
        check_eq("cpuid/roam-leaf1-eax-signature", r[0], 0x6f1);
        check((r[1] & 0xff00ffff) == (8u << 8), "cpuid/roam-leaf1-ebx-clflush-apic-id",
              "EBX 0x%x", r[1]);
        if (p) {
            check_skip("cpuid/roam-leaf1-ecx-edx", "leaf 1 ECX/EDX are the host's at CPL0 "
                                                   "under " PVM_REASON);
        } else {
            check_eq("cpuid/roam-leaf1-ecx-hypervisor-only", r[2], 0x80000000u);
            check((r[3] & ~(1u << 28)) == edx1 &&
                      ((r[3] >> 28 & 1) == ((r[1] >> 16 & 0xff) > 1)),
                  "cpuid/roam-leaf1-edx", "EDX 0x%x, expected 0x%x (HTT only with >1 CPU)",
                  r[3], edx1);
        }
        cpuid(0x40000000, 0, r);
        check(r[0] == 0x40000000 && r[1] == 0x6d616f72 && r[2] == 0x6d616f72 &&
                  r[3] == 0x6d616f72,
              "cpuid/roam-hypervisor-leaf", "0x%x 0x%x 0x%x 0x%x", r[0], r[1], r[2], r[3]);
        cpuid(0x80000000, 0, r);
        check_eq("cpuid/roam-extended-max", r[0], 0x80000008);
        cpuid(0x80000001, 0, r);
        check(r[0] == 0 && r[1] == 0 && r[2] == 0 &&
                  r[3] == ((1u << 11) | (1u << 20) | (1u << 29)),
              "cpuid/roam-80000001", "0x%x 0x%x 0x%x 0x%x", r[0], r[1], r[2], r[3]);
        for (unsigned i = 0; i < 3; i++)
            cpuid(0x80000002 + i, 0, &b[4 * i]);
        check(memcmp(b, brand, 48) == 0, "cpuid/roam-brand-string", "differs");
        cpuid(0x80000008, 0, r);
        check_eq("cpuid/roam-address-sizes", r[0], 0x3028);
        /* TSC = 1 GHz crystal * 2 / 1 (roam-v1 version 2). */
        cpuid(0x15, 0, u);
        check(u[0] == 1 && u[1] == 2 && u[2] == 1000000000u, "cpuid/roam-tsc-leaf-15",
              "EAX %u EBX %u ECX %u", u[0], u[1], u[2]);
        cpuid(0x16, 0, u);
        cpuid(5, 0, r);
        check((r[0] | r[1] | r[2] | r[3]) == 0, "cpuid/roam-in-range-absent-leaf-zero",
              "leaf 5 EAX 0x%x EBX 0x%x", r[0], r[1]);
        cpuid(0x17, 0, r);
        check(r[0] == u[0] && r[1] == u[1], "cpuid/roam-out-of-range-basic-is-leaf16",
              "leaf 0x17 EAX 0x%x EBX 0x%x", r[0], r[1]);
        cpuid(0x80000009, 0, r);
        check(r[0] == u[0] && r[1] == u[1], "cpuid/roam-out-of-range-extended-is-leaf16",
              "leaf 0x80000009 EAX 0x%x EBX 0x%x", r[0], r[1]);
    } else {
        check_skip("cpuid/roam", "the exact roam-v1 values need cpuid=roam");
    }
}

static uint64_t user_cpuid(uint64_t arg)
{
    uint32_t *r = (uint32_t *)arg;
    cpuid(0, 0, r);
    cpuid(1, 0, r + 4);
    cpuid(0x80000001, 0, r + 8);
    return 0;
}

static void cpuid_cpl3_checks(void)
{
    static uint32_t u[12];
    uint32_t k[12];
    if (p) {
        check_skip("cpuid/cpl3-matches-cpl0", "CPUID at CPL3 is the host's under " PVM_REASON);
        return;
    }
    cpuid(0, 0, k);
    cpuid(1, 0, k + 4);
    cpuid(0x80000001, 0, k + 8);
    user_run(user_cpuid, (uintptr_t)u, 0);
    check(memcmp(u, k, 16) == 0 && u[4] == k[4] && u[6] == k[6] && u[7] == k[7] &&
              u[11] == k[11],
          "cpuid/cpl3-matches-cpl0", "leaf 1 EAX 0x%x/0x%x ECX 0x%x/0x%x EDX 0x%x/0x%x", u[4],
          k[4], u[6], k[6], u[7], k[7]);
}

/* ---- msr ---- */
static void msr_roundtrip(const char *name, uint32_t msr, uint64_t v)
{
    uint64_t old, got;
    if (rdmsr_f(msr, &old)) {
        check_fail(name, "RDMSR 0x%x raised %s", msr, exception_name((unsigned)last_fault.vector));
        return;
    }
    if (wrmsr_f(msr, v)) {
        check_fail(name, "WRMSR 0x%x = 0x%lx raised %s(0x%lx)", msr, v,
                   exception_name((unsigned)last_fault.vector), last_fault.error);
        return;
    }
    rdmsr_f(msr, &got);
    wrmsr_f(msr, old);
    check(got == v, name, "MSR 0x%x reads 0x%lx after writing 0x%lx", msr, got, v);
}

static uint64_t user_msr(uint64_t arg)
{
    uint64_t *r = (uint64_t *)arg, v;
    r[0] = rdmsr_f(MSR_EFER, &v);
    r[1] = last_fault.vector;
    r[2] = last_fault.error;
    r[3] = wrmsr_f(MSR_STAR, 0);
    r[4] = last_fault.vector;
    r[5] = last_fault.error;
    return 0;
}

static void msr_checks(void)
{
    uint64_t v, n, old;
    uint64_t mask = ((1ul << maxphy) - 1) & ~0xffful;

    msr_roundtrip("msr/star", MSR_STAR, 0x0023001000000000ul);
    msr_roundtrip("msr/lstar", MSR_LSTAR, 0xffff800012345000ul);
    msr_roundtrip("msr/cstar", MSR_CSTAR, 0x12345000ul);
    msr_roundtrip("msr/sfmask", MSR_SFMASK, 0x47700);
    msr_roundtrip("msr/kernel-gs-base", MSR_KGS_BASE, 0xffff8000deadb000ul);
    msr_roundtrip("msr/fs-base", MSR_FS_BASE, 0x123456789000ul);
    msr_roundtrip("msr/gs-base", MSR_GS_BASE, 0xffff812345678000ul);
    msr_roundtrip("msr/sysenter-cs", MSR_SYSENTER_CS, 0x10);
    msr_roundtrip("msr/sysenter-esp", MSR_SYSENTER_ESP, 0xffff800000001000ul);
    msr_roundtrip("msr/sysenter-eip", MSR_SYSENTER_EIP, 0xffff800000002000ul);
    msr_roundtrip("msr/pat", MSR_PAT, 0x0007010600070106ul);
    msr_roundtrip("msr/mtrr-def-type", MSR_MTRR_DEF, 0xc06);
    msr_roundtrip("msr/mtrr-phys-base0", MSR_MTRR_BASE0, 0x10000006ul);
    msr_roundtrip("msr/mtrr-phys-mask0", MSR_MTRR_MASK0, (mask & ~0xffffffful) | 0x800);
    msr_roundtrip("msr/mtrr-fix64k", MSR_MTRR_FIX64K, 0x0606060606060606ul);
    n = rdmsr_f(MSR_EFER, &v);
    check(n == 0 && (v & (EFER_LME | EFER_LMA | EFER_SCE)) == (EFER_LME | EFER_LMA | EFER_SCE),
          "msr/efer-reads-lme-lma-sce", "0x%lx", v);
    n = rdmsr_f(MSR_APIC_BASE, &v);
    check(n == 0 && (v & 0xffffff000ul) == 0xfee00000 && (v & 0x100), "msr/apic-base",
          "0x%lx", v);
    check(rdmsr_f(MSR_MISC_ENABLE, &v) == 0, "msr/misc-enable-reads", "%s",
          exception_name((unsigned)last_fault.vector));
    check(rdmsr_f(MSR_MTRRCAP, &v) == 0, "msr/mtrrcap-reads", "%s",
          exception_name((unsigned)last_fault.vector));
    if (roam_model) {
        /* roam-v1: 8 variable MTRRs and the fixed ones (include/core/
         * cpu_state.h); IA32_MISC_ENABLE resets to fast strings only
         * (src/core/cpu_state.c). */
        rdmsr_f(MSR_MTRRCAP, &v);
        check((v & 0xff) == 8 && (v & 0x100), "msr/roam-mtrrcap-8-variable-and-fixed",
              "MTRRcap 0x%lx", v);
        rdmsr_f(MSR_MISC_ENABLE, &v);
        check_eq("msr/roam-misc-enable-reset-value", v, 1);
    }
    if (p) {
        check_skip("msr/tsc-write", "TSC writes are ignored under " PVM_REASON);
    } else {
        uint64_t t0 = rdtsc(), t1;
        n = wrmsr_f(MSR_TSC, 0x100000000000ul);
        t1 = rdtsc();
        if (!check_tcgbug(n == 0 && t1 < 0x100000000000ul, "msr/tsc-write",
                          "TSC writes are ignored"))
            check(n == 0 && t1 >= 0x100000000000ul && t1 < 0x100000000000ul + 0x10000000000ul,
                  "msr/tsc-write", "TSC 0x%lx after writing 0x100000000000", t1);
        wrmsr_f(MSR_TSC, t0 + (t1 - 0x100000000000ul));
    }

    /* What must fault. */
    gp_or_tcgbug("msr/rdmsr-nonexistent-gp", rdmsr_f(0x12345678, &v),
                 "an MSR that does not exist reads 0");
    gp_or_tcgbug("msr/wrmsr-nonexistent-gp", wrmsr_f(0x12345678, 0),
                 "writes to an MSR that does not exist are ignored");
    gp_or_tcgbug("msr/wrmsr-mtrrcap-gp", wrmsr_f(MSR_MTRRCAP, 0), "MTRRcap is writable");
    rdmsr_f(MSR_EFER, &old);
    gp_or_tcgbug("msr/efer-reserved-bit-gp", wrmsr_f(MSR_EFER, old | 2),
                 "EFER's reserved bits are ignored");
    wrmsr_f(MSR_EFER, old);
    rdmsr_f(MSR_PAT, &old);
    n = wrmsr_f(MSR_PAT, (old & ~7ul) | 2);
    if (p && n == 0)
        check_skip("msr/pat-invalid-type-gp", "PAT takes any value under " PVM_REASON);
    else
        gp_or_tcgbug("msr/pat-invalid-type-gp", n, "PAT takes any value");
    wrmsr_f(MSR_PAT, old);
    rdmsr_f(MSR_MTRR_DEF, &old);
    gp_or_tcgbug("msr/mtrr-def-invalid-type-gp", wrmsr_f(MSR_MTRR_DEF, 0xc02),
                 "MTRRdefType takes any type");
    wrmsr_f(MSR_MTRR_DEF, old);
    rdmsr_f(MSR_LSTAR, &old);
    gp_or_tcgbug("msr/lstar-noncanonical-gp", wrmsr_f(MSR_LSTAR, 0x0000800000000000ul),
                 "LSTAR takes a non-canonical address");
    wrmsr_f(MSR_LSTAR, old);
    rdmsr_f(MSR_FS_BASE, &old);
    gp_or_tcgbug("msr/fs-base-noncanonical-gp", wrmsr_f(MSR_FS_BASE, 0x8000000000000000ul),
                 "FS_BASE takes a non-canonical address");
    wrmsr_f(MSR_FS_BASE, old);

    {
        static uint64_t u[6];
        user_run(user_msr, (uintptr_t)u, 0);
        check(u[0] == 1 && u[1] == 13 && u[2] == 0, "msr/rdmsr-cpl3-gp",
              "%lu exceptions, vector %lu error 0x%lx", u[0], u[1], u[2]);
        check(u[3] == 1 && u[4] == 13 && u[5] == 0, "msr/wrmsr-cpl3-gp",
              "%lu exceptions, vector %lu error 0x%lx", u[3], u[4], u[5]);
    }
    syscall_init(); /* STAR, LSTAR, SFMASK as lib/user.c wants them */
}

/* ---- control registers ---- */
/* A MOV to CRn that must raise #GP(0). QEMU 7.2's TCG re-executes such a
 * MOV to CR3 or CR4 forever, and takes the CR0 ones: with tcgbugs=1 they
 * are not run. */
static void cr_gp(const char *name, int cr, uint64_t v, const char *pvm_skip)
{
    uint64_t n;
    if (p && pvm_skip) {
        check_skip(name, "%s under " PVM_REASON, pvm_skip);
        return;
    }
    if (check_tcgbug(1, name, cr == 0 ? "a MOV to CR0 that must raise #GP is done"
                                      : "a MOV to CR3/CR4 that must raise #GP hangs"))
        return;
    n = cr == 0 ? write_cr0_f(v) : cr == 3 ? write_cr3_f(v) : write_cr4_f(v);
    is_fault(name, n, 13, 0);
}

static void cr_checks(void)
{
    uint64_t cr0 = read_cr0(), cr4 = read_cr4(), cr3 = read_cr3(), efer = rdmsr(MSR_EFER), n, v;
    uint32_t r[4];

    cr_gp("cr/cr4-reserved-bit63-gp", 4, cr4 | (1ul << 63),
          "the upper 32 bits are dropped (no #GP)");
    cr_gp("cr/cr4-reserved-bit31-gp", 4, cr4 | (1ul << 31), 0);
    cpuid(1, 0, r);
    if (!(r[2] & (1u << 26)))
        cr_gp("cr/cr4-osxsave-without-xsave-gp", 4, cr4 | (1ul << 18), 0);
    if (!(r[2] & (1u << 17)))
        cr_gp("cr/cr4-pcide-without-pcid-gp", 4, cr4 | (1ul << 17), 0);
    cpuid(0, 0, r);
    if (r[0] < 7)
        cr_gp("cr/cr4-smep-without-smep-gp", 4, cr4 | (1ul << 20),
              "CR4.SMEP is taken (the host has SMEP)");
    cr_gp("cr/cr4-clear-pae-in-long-mode-gp", 4, cr4 & ~CR4_PAE, 0);
    check_eq("cr/cr4-unchanged", read_cr4(), cr4);
    cr_gp("cr/cr0-pg-without-pe-gp", 0, cr0 & ~CR0_PE, 0);
    cr_gp("cr/cr0-nw-without-cd-gp", 0, (cr0 & ~CR0_CD) | CR0_NW, 0);
    cr_gp("cr/cr0-upper-bit-gp", 0, cr0 | (1ul << 32), "the upper 32 bits are dropped (no #GP)");
    check_eq("cr/cr0-unchanged", read_cr0(), cr0);
    cr_gp("cr/cr3-above-maxphyaddr-gp", 3, cr3 | (1ul << 51), 0);
    write_cr3(cr3);
    n = wrmsr_f(MSR_EFER, efer & ~EFER_LME);
    if (!(n == 0 && check_tcgbug(1, "cr/efer-clear-lme-while-paging-gp",
                                 "EFER.LME clears with paging on")))
        is_fault("cr/efer-clear-lme-while-paging-gp", n, 13, 0);
    wrmsr(MSR_EFER, efer);
    {
        uint64_t c = last_fault.count;
        __asm__ volatile(FAULT_BEGIN "mov %0, %%cr1" FAULT_END : : "r"(0ul) : "r11", "memory");
        is_fault("cr/mov-to-cr1-ud", last_fault.count - c, 6, 0);
        c = last_fault.count;
        __asm__ volatile(FAULT_BEGIN "mov %%cr5, %0" FAULT_END : "=r"(v) : : "r11", "memory");
        is_fault("cr/mov-from-cr5-ud", last_fault.count - c, 6, 0);
    }
    write_cr2_f(0x123456789abcul);
    check_eq("cr/cr2-reads-back", read_cr2(), 0x123456789abcul);
}

/* ---- debug registers ---- */
#define DR_READ(n)                                                                              \
    static uint64_t read_dr##n(void)                                                            \
    {                                                                                           \
        uint64_t v;                                                                             \
        __asm__ volatile("mov %%dr" #n ", %0" : "=r"(v));                                       \
        return v;                                                                               \
    }                                                                                           \
    static uint64_t write_dr##n##_f(uint64_t v)                                                 \
    {                                                                                           \
        uint64_t c = last_fault.count;                                                          \
        __asm__ volatile(FAULT_BEGIN "mov %0, %%dr" #n FAULT_END : : "r"(v) : "r11", "memory"); \
        return last_fault.count - c;                                                            \
    }
DR_READ(0)
DR_READ(1)
DR_READ(2)
DR_READ(3)
DR_READ(6)
DR_READ(7)
#undef DR_READ

struct db_rec {
    uint64_t count, rip, dr6, rflags;
};
static volatile struct db_rec db;

static void db_handler(struct frame *f)
{
    if (!fault_armed) {
        /* A #DB we asked for: record it, stop single-stepping and
         * breakpoints, go on. */
        db.count++;
        db.rip = f->rip;
        db.dr6 = read_dr6();
        db.rflags = f->rflags;
        f->rflags &= ~0x100ul;
        __asm__ volatile("mov %0, %%dr7\n\tmov %1, %%dr6" : : "r"(0x400ul), "r"(0ul));
        return;
    }
    last_fault.vector = 1;
    last_fault.count++;
    fault_armed = 0;
    f->rip = fault_fixup;
}

static volatile uint32_t db_var;

/* Single-steps: TF set by POPF, the trap after the next instruction.
 * mov_ss: a MOV SS first, whose shadow delays the trap by one more. */
static uint64_t tf_step(uint64_t mov_ss)
{
    uint64_t want;
    if (mov_ss)
        __asm__ volatile("movw %%ss, %%ax\n\t"
                         "leaq 1f(%%rip), %0\n\t"
                         "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t"
                         "movw %%ax, %%ss\n\tnop\n1:\tnop"
                         : "=&r"(want)
                         :
                         : "rax", "memory");
    else
        __asm__ volatile("leaq 1f(%%rip), %0\n\t"
                         "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t"
                         "nop\n1:\tnop"
                         : "=&r"(want)
                         :
                         : "memory");
    return want;
}

static uint64_t user_tf(uint64_t arg)
{
    return tf_step(arg);
}

static void check_step(const char *name, uint64_t want)
{
    check(db.count == 1 && db.rip == want && (db.dr6 & 0x4000), name,
          "%lu #DB, rip 0x%lx (expected 0x%lx), DR6 0x%lx", db.count, db.rip, want, db.dr6);
}

static uint64_t user_dr(uint64_t arg)
{
    uint64_t *r = (uint64_t *)arg, c = last_fault.count, v;
    __asm__ volatile(FAULT_BEGIN "mov %%dr0, %0" FAULT_END : "=r"(v) : : "r11", "memory");
    r[0] = last_fault.count - c;
    r[1] = last_fault.vector;
    r[2] = last_fault.error;
    db_var = 7; /* the data breakpoint, at CPL3 */
    return 0;
}

static void dr_checks(void)
{
    uint64_t cr4 = read_cr4(), want, c, v;

    set_handler(1, db_handler);
    write_dr0_f(0x1000);
    write_dr1_f(0x2000);
    write_dr2_f(0xffff800000003000ul);
    write_dr3_f(0x4000);
    check(read_dr0() == 0x1000 && read_dr1() == 0x2000 && read_dr2() == 0xffff800000003000ul &&
              read_dr3() == 0x4000,
          "dr/dr0-3-read-back", "0x%lx 0x%lx 0x%lx 0x%lx", read_dr0(), read_dr1(), read_dr2(),
          read_dr3());
    write_dr7_f(0x401); /* L0: an execute breakpoint at 0x1000, never reached */
    check_eq("dr/dr7-read-back", read_dr7(), 0x401);
    write_dr7_f(0x400);
    write_dr6_f(0);
    check_eq("dr/dr6-fixed-bits", read_dr6(), 0xffff0ff0);
    is_fault("dr/dr7-upper-bits-gp", write_dr7_f(1ul << 32), 13, 0);
    is_fault("dr/dr6-upper-bits-gp", write_dr6_f(1ul << 32), 13, 0);
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_DE) : "memory");
    c = last_fault.count;
    __asm__ volatile(FAULT_BEGIN "mov %%dr4, %0" FAULT_END : "=r"(v) : : "r11", "memory");
    is_fault("dr/dr4-with-cr4-de-ud", last_fault.count - c, 6, 0);
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 & ~CR4_DE) : "memory");
    c = last_fault.count;
    __asm__ volatile(FAULT_BEGIN "mov %%dr4, %0" FAULT_END : "=r"(v) : : "r11", "memory");
    if (check_no_fault("dr/dr4-aliases-dr6-without-cr4-de", c))
        check_eq("dr/dr4-aliases-dr6-without-cr4-de", v, read_dr6());
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");

    if (p) {
        check_skip("dr/breakpoints-and-single-step-cpl0",
                   "KVM's instruction emulator runs CPL0 under " PVM_REASON);
    } else {
        /* A data write breakpoint: a trap after the write. */
        memset((void *)&db, 0, sizeof(db));
        write_dr0_f((uintptr_t)&db_var);
        write_dr7_f(0x400 | 1 | (1ul << 16) | (3ul << 18));
        __asm__ volatile("leaq 1f(%%rip), %0\n\tmovl $5, %1\n1:"
                         : "=&r"(want), "=m"(db_var)
                         :
                         : "memory");
        check(db.count == 1 && db.rip == want && (db.dr6 & 0xf) == 1, "dr/data-breakpoint-cpl0",
              "%lu #DB, rip 0x%lx (expected 0x%lx), DR6 0x%lx", db.count, db.rip, want, db.dr6);
        /* An execute breakpoint: a fault at the instruction (the handler
         * disables it, so it runs on return). */
        memset((void *)&db, 0, sizeof(db));
        __asm__ volatile("leaq 1f(%%rip), %0\n\tmovq %0, %%dr0\n\tmovq %1, %%dr7\n\t"
                         "nop\n1:\tnop"
                         : "=&r"(want)
                         : "r"(0x401ul)
                         : "memory");
        check(db.count == 1 && db.rip == want && (db.dr6 & 0xf) == 1 && !(db.dr6 & 0x4000),
              "dr/execute-breakpoint-cpl0", "%lu #DB, rip 0x%lx (expected 0x%lx), DR6 0x%lx",
              db.count, db.rip, want, db.dr6);
        memset((void *)&db, 0, sizeof(db));
        want = tf_step(0);
        check_step("dr/single-step-cpl0", want);
        memset((void *)&db, 0, sizeof(db));
        want = tf_step(1);
        check_step("dr/mov-ss-delays-single-step-cpl0", want);
    }

    /* CPL3: MOV DR faults; single-step and a data breakpoint run on the
     * CPU itself (also under PVM). */
    {
        static uint64_t u[3];
        memset((void *)&db, 0, sizeof(db));
        write_dr0_f((uintptr_t)&db_var);
        write_dr7_f(0x400 | 1 | (1ul << 16) | (3ul << 18));
        user_run(user_dr, (uintptr_t)u, 0);
        write_dr7_f(0x400);
        check(u[0] == 1 && u[1] == 13 && u[2] == 0, "dr/mov-dr-cpl3-gp",
              "%lu exceptions, vector %lu error 0x%lx", u[0], u[1], u[2]);
        if (p && db.count == 0)
            check_skip("dr/data-breakpoint-cpl3", "no #DB: the debug registers the guest set "
                                                  "do not reach the CPU under " PVM_REASON);
        else
            check(db.count == 1 && (db.dr6 & 0xf) == 1, "dr/data-breakpoint-cpl3",
                  "%lu #DB, DR6 0x%lx", db.count, db.dr6);
        memset((void *)&db, 0, sizeof(db));
        want = user_run(user_tf, 0, 0);
        check_step("dr/single-step-cpl3", want);
        memset((void *)&db, 0, sizeof(db));
        want = user_run(user_tf, 1, 0);
        check_step("dr/mov-ss-delays-single-step-cpl3", want);
    }
    set_handler(1, 0);
}

/* ---- swapgs ---- */
static uint64_t user_swapgs(uint64_t arg)
{
    uint64_t c = last_fault.count, *r = (uint64_t *)arg;
    __asm__ volatile(FAULT_BEGIN "swapgs" FAULT_END ::: "r11", "memory");
    r[0] = last_fault.count - c;
    r[1] = last_fault.vector;
    r[2] = last_fault.error;
    return 0;
}

static void swapgs_checks(void)
{
    static uint64_t a[2] = {0xaaaa}, b[2] = {0xbbbb}, u[3];
    uint64_t gs0 = rdmsr(MSR_GS_BASE), kgs0 = rdmsr(MSR_KGS_BASE), v;

    wrmsr(MSR_GS_BASE, (uintptr_t)a);
    wrmsr(MSR_KGS_BASE, (uintptr_t)b);
    __asm__ volatile("swapgs\n\tmovq %%gs:0, %0\n\tswapgs" : "=r"(v) : : "memory");
    check_eq("swapgs/gs-reads-through-new-base", v, 0xbbbb);
    __asm__ volatile("swapgs" ::: "memory");
    check(rdmsr(MSR_GS_BASE) == (uintptr_t)b && rdmsr(MSR_KGS_BASE) == (uintptr_t)a,
          "swapgs/msrs-swapped", "GS_BASE 0x%lx KERNEL_GS_BASE 0x%lx", rdmsr(MSR_GS_BASE),
          rdmsr(MSR_KGS_BASE));
    __asm__ volatile("swapgs" ::: "memory");
    __asm__ volatile("movq %%gs:0, %0" : "=r"(v) : : "memory");
    check_eq("swapgs/twice-is-identity", v, 0xaaaa);
    wrmsr(MSR_GS_BASE, gs0);
    wrmsr(MSR_KGS_BASE, kgs0);
    if (p) {
        check_skip("swapgs/cpl3-gp", "CPL3 runs on the host CPU under " PVM_REASON);
        return;
    }
    user_run(user_swapgs, (uintptr_t)u, 0);
    check(u[0] == 1 && u[1] == 13 && u[2] == 0, "swapgs/cpl3-gp",
          "%lu exceptions, vector %lu error 0x%lx", u[0], u[1], u[2]);
}

/* ---- TSC ---- */
static uint64_t user_rdtsc(uint64_t arg)
{
    uint64_t c = last_fault.count, *r = (uint64_t *)arg;
    uint32_t lo, hi;
    __asm__ volatile(FAULT_BEGIN "rdtsc" FAULT_END : "=a"(lo), "=d"(hi) : : "r11", "memory");
    r[0] = last_fault.count - c;
    r[1] = last_fault.vector;
    return 0;
}

static void tsc_checks(void)
{
    uint32_t r[4], lo = 0, hi = 0, aux = 0;
    uint64_t t0 = rdtsc(), t1 = rdtsc(), c;
    check(t1 > t0, "tsc/rdtsc-increases", "0x%lx then 0x%lx", t0, t1);
    cpuid(0x80000001, 0, r);
    if (r[3] & (1u << 27)) {
        uint64_t v = 0;
        check(wrmsr_f(MSR_TSC_AUX, 0x123) == 0 && rdmsr_f(MSR_TSC_AUX, &v) == 0 && v == 0x123,
              "tsc/tsc-aux-read-back", "0x%lx", v);
        if (p) {
            check_skip("tsc/rdtscp-tsc-aux", "KVM's instruction emulator has no RDTSCP "
                                             "(emulation failure under " PVM_REASON ")");
        } else {
            __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
            check(aux == 0x123 && (lo | (uint64_t)hi << 32) > t1, "tsc/rdtscp-tsc-aux",
                  "ECX 0x%x, TSC 0x%lx", aux, lo | (uint64_t)hi << 32);
        }
    } else {
        uint64_t v;
        if (p) {
            check_skip("tsc/rdtscp-without-cpuid-ud", "KVM's instruction emulator has no "
                                                      "RDTSCP (emulation failure under "
                       PVM_REASON ")");
        } else {
            c = last_fault.count;
            __asm__ volatile(FAULT_BEGIN "rdtscp" FAULT_END : "+a"(lo), "+d"(hi), "+c"(aux)
                             : : "r11", "memory");
            is_fault("tsc/rdtscp-without-cpuid-ud", last_fault.count - c, 6, 0);
        }
        gp_or_tcgbug("tsc/tsc-aux-without-rdtscp-gp", rdmsr_f(MSR_TSC_AUX, &v),
                     "TSC_AUX reads without RDTSCP");
    }
    if (p) {
        check_skip("tsc/cr4-tsd-cpl3-gp", "CPL3 runs on the host CPU under " PVM_REASON);
    } else {
        static uint64_t u[2];
        uint64_t cr4 = read_cr4();
        __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_TSD) : "memory");
        user_run(user_rdtsc, (uintptr_t)u, 0);
        t0 = rdtsc(); /* CPL0 still may */
        __asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
        check(u[0] == 1 && u[1] == 13, "tsc/cr4-tsd-cpl3-gp", "%lu exceptions, vector %lu",
              u[0], u[1]);
    }
}

/* ---- SYSCALL / SYSRET ---- */
static void compat3_ud(struct frame *f)
{
    if (f->rip == (uintptr_t)sys_compat3_syscall && (f->cs & 3) == 3)
        compat_syscall_ud++; /* and back to CPL0 as from the end */
    if ((f->rip == (uintptr_t)sys_compat3_exit || f->rip == (uintptr_t)sys_compat3_syscall) &&
        (f->cs & 3) == 3) {
        f->rip = (uintptr_t)sys_compat3_back;
        f->cs = KERNEL_CS;
        f->ss = KERNEL_DS;
        f->rsp = sys_rsp64;
        f->rflags = 2;
        return;
    }
    if (!user_trap(f))
        fail("unexpected #UD at rip 0x%lx cs 0x%lx", f->rip, f->cs);
}

static uint64_t user_syscall_sce0(uint64_t arg)
{
    uint64_t c = last_fault.count, *r = (uint64_t *)arg;
    __asm__ volatile(FAULT_BEGIN "syscall" FAULT_END ::: "rcx", "r11", "memory");
    r[0] = last_fault.count - c;
    r[1] = last_fault.vector;
    return 0;
}

static uint64_t user_sysret(uint64_t arg)
{
    uint64_t c = last_fault.count, *r = (uint64_t *)arg;
    __asm__ volatile(FAULT_BEGIN "sysretq" FAULT_END ::: "rcx", "r11", "memory");
    r[2] = last_fault.count - c;
    r[3] = last_fault.vector;
    r[4] = last_fault.error;
    return 0;
}

static void syscall_checks(void)
{
    static uint64_t out[8], u[5];
    uint64_t efer = rdmsr(MSR_EFER), c;

    /* SYSCALL at CPL0 with EFER.SCE clear. */
    wrmsr(MSR_EFER, efer & ~EFER_SCE);
    c = last_fault.count;
    __asm__ volatile(FAULT_BEGIN "syscall" FAULT_END ::: "rcx", "r11", "memory");
    wrmsr(MSR_EFER, efer);
    is_fault("syscall/sce-clear-cpl0-ud", last_fault.count - c, 6, 0);
    if (p) {
        check_skip("syscall/cpl3", "SYSCALL at CPL3 does not reach CPL0 under " PVM_REASON);
        return;
    }
    wrmsr(MSR_EFER, efer & ~EFER_SCE);
    user_run(user_syscall_sce0, (uintptr_t)u, 0);
    wrmsr(MSR_EFER, efer);
    user_run(user_sysret, (uintptr_t)u, 0);
    check(u[0] == 1 && u[1] == 6, "syscall/sce-clear-cpl3-ud", "%lu exceptions, vector %lu",
          u[0], u[1]);
    check(u[2] == 1 && u[3] == 13 && u[4] == 0, "syscall/sysret-at-cpl3-gp",
          "%lu exceptions, vector %lu error 0x%lx", u[2], u[3], u[4]);

    sys_kstack_top = (uintptr_t)kstack + sizeof(kstack);
    wrmsr(MSR_STAR, ((uint64_t)(USER_CS32 & ~3) << 48) | ((uint64_t)KERNEL_CS << 32));
    wrmsr(MSR_LSTAR, (uintptr_t)sys_lstar);
    wrmsr(MSR_CSTAR, (uintptr_t)sys_cstar);
    wrmsr(MSR_SFMASK, 0x47700);
    memset(sys_rec, 0, 8 * 8);
    user_run(sys_user_syscall, (uintptr_t)out, 0);
    check_eq("syscall/64-entered", sys_rec[6], 1);
    check_eq("syscall/64-rcx-is-next-rip", sys_rec[0], out[1]);
    check_eq("syscall/64-r11-is-rflags", sys_rec[1], out[0]);
    check(sys_rec[2] == KERNEL_CS && sys_rec[3] == KERNEL_DS, "syscall/64-cs-ss-from-star",
          "CS 0x%lx SS 0x%lx", sys_rec[2], sys_rec[3]);
    check((sys_rec[4] & 0x47700) == 0 && (sys_rec[4] & 0x8d5) == (out[0] & 0x8d5),
          "syscall/64-sfmask-clears-df", "RFLAGS 0x%lx in the kernel, 0x%lx in the caller",
          sys_rec[4], out[0]);
    check((out[2] & 0x401) == 0x401, "syscall/sysret-rflags-from-r11",
          "RFLAGS 0x%lx after (CF from R11, DF kept)", out[2]);
    check(out[3] == USER_CS && out[4] == USER_DS, "syscall/sysret-64-cs-ss",
          "CS 0x%lx SS 0x%lx", out[3], out[4]);

    /* SYSCALL in compatibility mode: #UD on Intel (it needs CS.L = 1),
     * the CSTAR entry on AMD. */
    memset(sys_rec, 0, 8 * 8);
    memset(out, 0, sizeof(out));
    compat_syscall_ud = 0;
    set_handler(6, compat3_ud);
    sys_compat3(0, out);
    set_handler(6, 0);
    if (intel) {
        if (!check_tcgbug(compat_syscall_ud == 0 && sys_rec[6] == 1,
                          "syscall/compat-mode-ud-on-intel",
                          "SYSCALL runs in compatibility mode with an Intel vendor"))
            check(compat_syscall_ud == 1 && sys_rec[6] == 0, "syscall/compat-mode-ud-on-intel",
                  "%lu #UD, %lu entries through CSTAR", compat_syscall_ud, sys_rec[6]);
    } else {
        check_eq("syscall/amd-compat-entered-cstar", sys_rec[6], 1);
        check_eq("syscall/amd-compat-rcx-is-next-eip", sys_rec[0], out[0]);
        check(sys_rec[2] == KERNEL_CS && sys_rec[3] == KERNEL_DS, "syscall/amd-compat-cs-ss",
              "CS 0x%lx SS 0x%lx", sys_rec[2], sys_rec[3]);
        check(out[2] == USER_CS32 && out[3] == USER_DS, "syscall/amd-compat-sysret-32-cs-ss",
              "CS 0x%lx SS 0x%lx", out[2], out[3]);
    }
    /* A 64-bit SYSCALL answered by a 32-bit SYSRET: to compatibility mode. */
    memset(sys_rec, 0, 8 * 8);
    memset(out, 0, sizeof(out));
    sys_ret32 = 1;
    set_handler(6, compat3_ud);
    sys_compat3(2, out);
    set_handler(6, 0);
    sys_ret32 = 0;
    check(sys_rec[6] == 1 && out[2] == USER_CS32 && out[3] == USER_DS,
          "syscall/sysret-32-to-compat-cs-ss", "%lu entries, CS 0x%lx SS 0x%lx after",
          sys_rec[6], out[2], out[3]);
    syscall_init();
}

/* ---- SYSENTER / SYSEXIT ---- */
static uint64_t user_sysenter_fault(uint64_t arg)
{
    uint64_t c = last_fault.count, *r = (uint64_t *)arg;
    __asm__ volatile("movq %%rsp, %%rcx\n\tleaq 1f(%%rip), %%rdx\n\t" FAULT_BEGIN
                     "sysenter" FAULT_END "1:"
                     :
                     :
                     : "rcx", "rdx", "r11", "memory");
    r[0] = last_fault.count - c;
    r[1] = last_fault.vector;
    r[2] = last_fault.error;
    c = last_fault.count;
    __asm__ volatile(FAULT_BEGIN "sysexitq" FAULT_END ::: "r11", "memory");
    r[3] = last_fault.count - c;
    r[4] = last_fault.vector;
    r[5] = last_fault.error;
    return 0;
}

static void sysenter_checks(void)
{
    static uint64_t out[8], u[6];
    if (p) {
        check_skip("sysenter", "CPL3 runs on the host's (AMD) CPU under " PVM_REASON);
        return;
    }
    sys_kstack_top = (uintptr_t)kstack + sizeof(kstack);
    gdt_extend();
    gdt_big[7] = seg_desc(0, 0xfffff, 0xf3, 0xc); /* 0x3b: SYSEXIT's 64-bit SS */
    wrmsr(MSR_SYSENTER_CS, KERNEL_CS);
    wrmsr(MSR_SYSENTER_ESP, sys_kstack_top);
    wrmsr(MSR_SYSENTER_EIP, (uintptr_t)sys_sysenter);
    if (!intel) {
        user_run(user_sysenter_fault, (uintptr_t)u, 0);
        check(u[0] == 1 && u[1] == 6, "sysenter/amd-64-bit-mode-ud",
              "%lu exceptions, vector %lu", u[0], u[1]);
        check_skip("sysenter/round-trip", "an AMD vendor: SYSENTER is #UD in long mode");
    } else {
        memset(sys_rec, 0, sizeof(uint64_t) * 16);
        sys_exit32 = 0;
        user_run(sys_user_sysenter, (uintptr_t)out, 0);
        check_eq("sysenter/64-entered", sys_rec[12], 1);
        check(sys_rec[8] == KERNEL_CS && sys_rec[9] == KERNEL_DS, "sysenter/64-cs-ss",
              "CS 0x%lx SS 0x%lx", sys_rec[8], sys_rec[9]);
        check_eq("sysenter/64-rsp-from-msr", sys_rec[10], sys_kstack_top);
        check((sys_rec[11] & 0x200) == 0, "sysenter/clears-if", "RFLAGS 0x%lx", sys_rec[11]);
        check(out[2] == USER_CS && out[3] == 0x3b && out[4] == out[1],
              "sysenter/sysexitq-cs-ss-rsp", "CS 0x%lx SS 0x%lx RSP 0x%lx (RCX was 0x%lx)",
              out[2], out[3], out[4], out[1]);
        memset(sys_rec, 0, sizeof(uint64_t) * 16);
        memset(out, 0, sizeof(out));
        sys_exit32 = 1;
        set_handler(6, compat3_ud);
        sys_compat3(1, out);
        set_handler(6, 0);
        sys_exit32 = 0;
        check_eq("sysenter/compat-entered", sys_rec[12], 1);
        check_eq("sysenter/compat-to-64-bit-cs", sys_rec[8], KERNEL_CS);
        check(out[2] == USER_CS32 && out[3] == USER_DS && out[4] == out[1],
              "sysenter/sysexit-32-cs-ss-esp", "CS 0x%lx SS 0x%lx ESP 0x%lx (ECX was 0x%lx)",
              out[2], out[3], out[4], out[1]);
        wrmsr(MSR_SYSENTER_CS, 0);
        user_run(user_sysenter_fault, (uintptr_t)u, 0);
        check(u[0] == 1 && u[1] == 13 && u[2] == 0, "sysenter/sysenter-cs-0-gp",
              "%lu exceptions, vector %lu error 0x%lx", u[0], u[1], u[2]);
    }
    /* Intel: #GP(0) at CPL3; AMD: #UD in long mode. */
    check(u[3] == 1 && u[4] == (intel ? 13u : 6u) && u[5] == 0,
          intel ? "sysenter/sysexit-at-cpl3-gp" : "sysenter/amd-sysexit-64-bit-mode-ud",
          "%lu exceptions, vector %lu error 0x%lx", u[3], u[4], u[5]);
    wrmsr(MSR_SYSENTER_CS, 0);
}

/* ---- HLT and the interrupt shadow ---- */
#define V_TIMER 0x40
#define V_IPI 0x41
static volatile uint64_t irq_count[2], irq_rip[2];

static void sys_irq(struct frame *f)
{
    unsigned i = f->vector == V_IPI;
    irq_count[i]++;
    irq_rip[i] = f->rip;
    lapic_eoi();
}

static void timer_oneshot(uint32_t count)
{
    lapic_write(LAPIC_TIMER_DCR, 0x3);
    lapic_write(LAPIC_LVT_TIMER, V_TIMER);
    lapic_write(LAPIC_TIMER_ICR, count);
}

static void self_ipi(void)
{
    lapic_ipi(0, (1u << 18) | (1u << 14) | V_IPI); /* self, assert, fixed */
}

/* The IPI must have come at rip `after`. Under PVM the interrupt window
 * opens late (docs/kvm.md): with interrupts enabled for two instructions
 * it may not come at all; then wait for it and skip. */
static void shadow_check(const char *name, uint64_t after)
{
    if (p && !(irq_count[1] == 1 && irq_rip[1] == after)) {
        uint64_t n = irq_count[1], rip = irq_rip[1];
        timer_oneshot(62500 * 5);
        while (irq_count[1] == 0 && irq_count[0] == 0)
            sti_hlt_cli();
        lapic_write(LAPIC_TIMER_ICR, 0);
        if (n)
            check_skip(name, "the interrupt came at rip 0x%lx, not 0x%lx: the interrupt window "
                             "opens late under " PVM_REASON, rip, after);
        else
            check_skip(name, "no interrupt while interrupts were enabled for two "
                             "instructions: the interrupt window opens late under " PVM_REASON);
        return;
    }
    check(irq_count[1] == 1 && irq_rip[1] == after, name,
          "%lu interrupts at rip 0x%lx (expected 0x%lx)", irq_count[1], irq_rip[1], after);
}

static void hlt_checks(void)
{
    uint64_t after, at;
    set_handler(V_TIMER, sys_irq);
    set_handler(V_IPI, sys_irq);
    lapic_enable();
    lapic_write(LAPIC_LVT_LINT0, 1u << 16);

    irq_count[0] = irq_count[1] = 0;
    timer_oneshot(62500 * 2); /* 2 ms at 1 GHz / 16 */
    __asm__ volatile("leaq 1f(%%rip), %0\n\tsti\n\thlt\n1:\tcli" : "=r"(after) : : "memory");
    check(irq_count[0] == 1 && irq_rip[0] == after, "hlt/wakes-on-timer-interrupt",
          "%lu interrupts, rip 0x%lx (after the HLT: 0x%lx)", irq_count[0], irq_rip[0], after);

    /* Pending while IF = 0; STI; HLT: taken after the HLT, which it ends.
     * A timer in 20 ms ends the HLT if the interrupt came before it. */
    irq_count[0] = irq_count[1] = 0;
    self_ipi();
    timer_oneshot(62500 * 20);
    __asm__ volatile("leaq 1f(%%rip), %0\n\tleaq 2f(%%rip), %1\n\tsti\n2:\thlt\n1:\tcli"
                     : "=&r"(after), "=&r"(at)
                     :
                     : "memory");
    lapic_write(LAPIC_TIMER_ICR, 0);
    check(irq_count[1] == 1 && irq_rip[1] == after, "shadow/sti-hlt-pending-taken-after-hlt",
          "%lu interrupts at rip 0x%lx (0x%lx is after the HLT, 0x%lx the HLT)", irq_count[1],
          irq_rip[1], after, at);
    irq_count[0] = irq_count[1] = 0;
    self_ipi();
    __asm__ volatile("leaq 1f(%%rip), %0\n\tsti\n\tnop\n1:\tnop\n\tcli" : "=r"(after) : : "memory");
    shadow_check("shadow/sti-nop-pending-taken-after-nop", after);
    irq_count[0] = irq_count[1] = 0;
    self_ipi();
    __asm__ volatile("leaq 1f(%%rip), %0\n\tpushfq\n\torq $0x200, (%%rsp)\n\tpopfq\n"
                     "1:\tnop\n\tnop\n\tcli"
                     : "=r"(after)
                     :
                     : "memory");
    shadow_check("shadow/popf-no-shadow-taken-at-once", after);
    set_handler(V_TIMER, 0);
    set_handler(V_IPI, 0);
}

void guest_main(void)
{
    uint32_t r[4];
    char mode[8] = "";
    p = pvm();
    roam_model = cmdline_str("cpuid", mode, sizeof(mode)) && strncmp(mode, "roam", 5) == 0;
    cpuid(0, 0, r);
    intel = r[1] == 0x756e6547; /* "Genu" */
    cpuid(0x80000008, 0, r);
    maxphy = (r[0] & 0xff) ? (int)(r[0] & 0xff) : 36;

    if (check_group("cpuid")) {
        cpuid_checks();
        cpuid_cpl3_checks();
    }
    if (check_group("msr"))
        msr_checks();
    if (check_group("cr"))
        cr_checks();
    if (check_group("dr"))
        dr_checks();
    if (check_group("swapgs"))
        swapgs_checks();
    if (check_group("tsc"))
        tsc_checks();
    if (check_group("syscall"))
        syscall_checks();
    if (check_group("sysenter"))
        sysenter_checks();
    if (check_group("hlt"))
        hlt_checks();
    check_finish();
}
