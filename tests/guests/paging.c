/* paging: the paging checks (Intel SDM Vol. 3A chapter 4) in long mode
 * (4-level paging) and in legacy protected mode (32-bit paging, PAE).
 *
 * - ad: accessed and dirty flags (4.8) at every level, for reads, writes
 *   and fetches, on 4 KiB and 2 MiB pages;
 * - pf: #PF error codes (4.7: P, W/R, U/S, RSVD, I/D) with CR2 and the
 *   saved RIP: not present at each level, read-only at CPL3, at CPL0 with
 *   CR0.WP = 1 (and allowed with WP = 0), supervisor pages and page tables
 *   at CPL3, no-execute pages and tables (EFER.NXE), reserved bits (bit
 *   51, PS in a PML4E, PS in a PDPTE without 1-GByte pages, bits 20:13
 *   of a 2 MiB PDE, XD with EFER.NXE = 0);
 * - large: 2 MiB pages map the right bytes;
 * - tlb (4.10.4): after INVLPG, a CR3 write, or toggling CR4.PGE for a
 *   global page, the new translation is used. Only what is required:
 *   a TLB may always miss, so a stale translation is never expected;
 * - legacy32 / pae: the same kinds of checks in legacy protected mode with
 *   32-bit paging (4 KiB and 4 MiB pages, CR4.PSE) and with PAE paging
 *   (NX, reserved bits, PDPTEs loaded at MOV CR3 with #GP(0) for a reserved
 *   bit). Their CPL3 checks need IRET in protected mode, which the PVM
 *   hypervisor's emulator lacks (docs/kvm.md): skipped there.
 *
 * The test mappings are this guest's own: PML4 entries 1-3 (VA 512 GiB up),
 * backed by frames in a scratch area after the image. */
#include "lib/check.h"
#include "lib/legacy.h"

const char guest_name[] = "paging";

extern uint64_t pml4_[] __asm__("pml4");
#define pml4 ((volatile uint64_t *)pml4_)

#define PF_P 1u
#define PF_W 2u
#define PF_U 4u
#define PF_RSVD 8u
#define PF_I 16u
#define PTE_A (1ul << 5)
#define PTE_D (1ul << 6)
#define PTE_G (1ul << 8)
#define PTE_RSVD51 (1ul << 51)
#define CR4_PSE (1ul << 4)

#define TVA 0x8000000000ul /* PML4 entry 1 */
#define VA4K(i) (TVA + (uint64_t)(i) * 4096)
#define VA2M(i) (TVA + (uint64_t)(i) * 0x200000)
#define VA_NP_PML4 0x10000000000ul   /* PML4 entry 2: not present */
#define VA_PS_PML4 0x18000000000ul   /* PML4 entry 3: PS set (reserved) */
#define VA_1G (TVA + 0x40000000ul)  /* PDPT entry 1: a 1-GByte page */

static volatile uint64_t pdpt_t[512] __attribute__((aligned(4096)));
static volatile uint64_t pd_t[512] __attribute__((aligned(4096)));
static volatile uint64_t pt4k[512] __attribute__((aligned(4096)));
static volatile uint64_t pt_ro[512] __attribute__((aligned(4096)));
static volatile uint64_t pt_sup[512] __attribute__((aligned(4096)));
static volatile uint64_t pt_nx[512] __attribute__((aligned(4096)));

static uint64_t scratch; /* 8 MiB, 4 MiB aligned */
static int nx, pge, pse, gbpages;

static uint64_t frame(unsigned i)
{
    return scratch + (uint64_t)i * 4096;
}
#define LARGE2M (scratch + 0x200000)
#define LARGE4M (scratch + 0x400000)

/* What a frame holds: its number in the first word, and code that returns
 * it (mov $imm32, %eax; ret: the same bytes in 64-bit and 32-bit code) at
 * offset 0x800. */
#define FRAME_TAG(i) (0xf7a9e000u + (i))
#define CODE_OFF 0x800
#define CODE_TAG(i) (0xc0de0000u + (i))

static void fill_frame(uint64_t pa, uint32_t tag, uint32_t code_tag)
{
    volatile uint8_t *p = (volatile uint8_t *)pa;
    *(volatile uint64_t *)pa = tag;
    p[CODE_OFF] = 0xb8;
    *(volatile uint32_t *)(pa + CODE_OFF + 1) = code_tag;
    p[CODE_OFF + 5] = 0xc3;
}

static void flush(void)
{
    write_cr3(read_cr3());
}

static void write_cr0(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static void write_cr4(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

/* ---- accesses that record a fault (same code at CPL0 and CPL3) ---- */
enum { RD, WR, EX };
struct acc {
    int kind;
    uint64_t va, val;
    /* results */
    uint64_t faults, value, insn;
    struct fault_record f;
};

static uint64_t do_load(uint64_t va)
{
    uint64_t v = 0;
    __asm__ volatile(FAULT_BEGIN "movq (%1), %0" FAULT_END : "+r"(v) : "r"(va) : "r11", "memory");
    return v;
}

static void do_store(uint64_t va, uint64_t v)
{
    __asm__ volatile(FAULT_BEGIN "movq %1, (%0)" FAULT_END : : "r"(va), "r"(v) : "r11", "memory");
}

/* Calls va; a fault there leaves the return address pushed, so RSP is
 * restored from RBX. */
static uint64_t do_call(uint64_t va)
{
    uint64_t r = 0;
    __asm__ volatile("movq %%rsp, %%rbx\n\t" FAULT_BEGIN "call *%1" FAULT_END "movq %%rbx, %%rsp"
                     : "+a"(r)
                     : "r"(va)
                     : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
    return r;
}

static void do_access(struct acc *a)
{
    uint64_t c = last_fault.count;
    switch (a->kind) {
    case RD:
        a->value = do_load(a->va);
        break;
    case WR:
        do_store(a->va, a->val);
        break;
    default:
        a->value = do_call(a->va);
        break;
    }
    a->faults = last_fault.count - c;
    a->f = last_fault;
    a->insn = fault_insn;
}

static uint64_t user_access(uint64_t arg)
{
    do_access((struct acc *)arg);
    return 0;
}

static struct acc acc_run(int cpl, int kind, uint64_t va, uint64_t val)
{
    static struct acc a;
    a = (struct acc){.kind = kind, .va = va, .val = val};
    if (cpl)
        user_run(user_access, (uintptr_t)&a, 0);
    else
        do_access(&a);
    return a;
}

static const char *const kind_name[] = {"read", "write", "fetch"};

/* Expects #PF with the error code, CR2 = the address, and the saved RIP at
 * the instruction (for a fetch, at the target). */
static void expect_pf(const char *name, int cpl, int kind, uint64_t va, uint64_t err)
{
    struct acc a = acc_run(cpl, kind, va, 0x1234);
    uint64_t rip = kind == EX ? va : a.insn;
    if (a.faults != 1) {
        check_fail(name, "%s of 0x%lx at CPL%d: %lu exceptions, expected #PF 0x%lx",
                   kind_name[kind], va, cpl, a.faults, err);
    } else if (a.f.vector != 14) {
        check_fail(name, "%s of 0x%lx at CPL%d: %s error 0x%lx, expected #PF 0x%lx",
                   kind_name[kind], va, cpl, exception_name((unsigned)a.f.vector), a.f.error,
                   err);
    } else if (a.f.error == (err & ~(uint64_t)PF_P) && (err & PF_RSVD) &&
               check_tcgbug(1, name, "no P in the error code of a reserved-bit #PF")) {
    } else if (a.f.error != err || a.f.cr2 != va || a.f.rip != rip ||
               (a.f.cs & 3) != (uint64_t)cpl) {
        check_fail(name, "%s of 0x%lx at CPL%d: #PF error 0x%lx cr2 0x%lx rip 0x%lx cs 0x%lx, "
                   "expected error 0x%lx cr2 0x%lx rip 0x%lx",
                   kind_name[kind], va, cpl, a.f.error, a.f.cr2, a.f.rip, a.f.cs, err, va, rip);
    } else {
        check_pass(name, "#PF error 0x%lx cr2 0x%lx", err, va);
    }
}

/* Expects the access to work; a read or fetch returns want. */
static void expect_ok(const char *name, int cpl, int kind, uint64_t va, uint64_t val,
                      uint64_t want)
{
    struct acc a = acc_run(cpl, kind, va, val);
    if (a.faults) {
        check_fail(name, "%s of 0x%lx at CPL%d: %s error 0x%lx cr2 0x%lx", kind_name[kind], va,
                   cpl, exception_name((unsigned)a.f.vector), a.f.error, a.f.cr2);
    } else if (kind != WR && a.value != want) {
        check_fail(name, "%s of 0x%lx at CPL%d gave 0x%lx, expected 0x%lx", kind_name[kind], va,
                   cpl, a.value, want);
    } else {
        check_ok(name);
    }
}

/* ---- long mode (4-level paging) ---- */

static void map_long(void)
{
    uint64_t u = PTE_P | PTE_W | PTE_U;
    for (unsigned i = 0; i < 32; i++)
        fill_frame(frame(i), FRAME_TAG(i), CODE_TAG(i));
    fill_frame(LARGE2M, 0x1a2e0000u, 0xc0de2000u);

    pml4[1] = (uintptr_t)pdpt_t | u;
    pml4[2] = 0;
    pml4[3] = (uintptr_t)pdpt_t | u | PTE_PS; /* reserved */
    pdpt_t[0] = (uintptr_t)pd_t | u;
    pdpt_t[1] = 0 | u | PTE_PS; /* a 1-GByte page at 0 */
    pd_t[0] = (uintptr_t)pt4k | u;
    pd_t[1] = LARGE2M | u | PTE_PS;
    pd_t[2] = 0;
    pd_t[3] = (uintptr_t)pt_ro | PTE_P | PTE_U;           /* the table is read-only */
    pd_t[4] = (uintptr_t)pt_sup | PTE_P | PTE_W;          /* the table is supervisor */
    pd_t[5] = (uintptr_t)pt_nx | u | (nx ? PTE_NX : 0);   /* the table is no-execute */
    pd_t[6] = LARGE2M | u | PTE_PS | (1ul << 13);         /* reserved bit 13 */
    pd_t[7] = LARGE2M | u | PTE_PS;                       /* A/D on a 2 MiB page */
    pt_ro[0] = frame(17) | u;
    pt_sup[0] = frame(18) | u;
    pt_nx[0] = frame(19) | u;

    pt4k[0] = frame(0) | u;
    pt4k[1] = frame(1) | u;
    pt4k[2] = frame(2) | u;
    pt4k[3] = 0;
    pt4k[4] = frame(4) | PTE_P | PTE_U;            /* read-only */
    pt4k[5] = frame(5) | PTE_P | PTE_W;            /* supervisor */
    pt4k[6] = frame(6) | u | (nx ? PTE_NX : 0);    /* no-execute */
    pt4k[7] = frame(7) | u;
    pt4k[8] = frame(8) | u | PTE_RSVD51;
    pt4k[9] = frame(9) | u;
    pt4k[11] = frame(11) | u | PTE_G;
    pt4k[13] = frame(13) | PTE_P | PTE_U;          /* read-only, for CR0.WP = 0 */
    pt4k[14] = frame(14) | PTE_P | PTE_W;          /* supervisor code */
    pt4k[15] = frame(15) | u | PTE_NX;             /* XD with EFER.NXE = 0 */
    pt4k[16] = frame(16) | u;
    flush();
}

static void ad_checks(void)
{
    volatile uint64_t *pte;
    uint64_t v;

    /* A read sets A at every level, and not D. */
    pml4[1] &= ~PTE_A;
    pdpt_t[0] &= ~PTE_A;
    pd_t[0] &= ~PTE_A;
    pt4k[0] &= ~(PTE_A | PTE_D);
    flush();
    v = *(volatile uint64_t *)VA4K(0);
    check_eq("ad/read-value", v, FRAME_TAG(0));
    check((pt4k[0] & (PTE_A | PTE_D)) == PTE_A, "ad/read-sets-pte-accessed-not-dirty",
          "PTE 0x%lx: A %lu D %lu, expected A 1 D 0", pt4k[0], (pt4k[0] >> 5) & 1,
          (pt4k[0] >> 6) & 1);
    check((pd_t[0] & PTE_A) && (pdpt_t[0] & PTE_A) && (pml4[1] & PTE_A),
          "ad/read-sets-upper-levels-accessed", "PML4E 0x%lx PDPTE 0x%lx PDE 0x%lx", pml4[1],
          pdpt_t[0], pd_t[0]);

    /* A write sets A and D. */
    pt4k[1] &= ~(PTE_A | PTE_D);
    invlpg((void *)VA4K(1));
    *(volatile uint64_t *)VA4K(1) = 0x5555;
    check((pt4k[1] & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "ad/write-sets-accessed-dirty",
          "PTE 0x%lx", pt4k[1]);
    check_eq("ad/write-reaches-frame", *(volatile uint64_t *)frame(1), 0x5555);

    /* A read caches a clean translation; a later write must still set D. */
    pt4k[2] &= ~(PTE_A | PTE_D);
    invlpg((void *)VA4K(2));
    v = *(volatile uint64_t *)VA4K(2);
    pte = &pt4k[2];
    check((*pte & (PTE_A | PTE_D)) == PTE_A, "ad/read-then-write-1-clean", "PTE 0x%lx", *pte);
    *(volatile uint64_t *)VA4K(2) = v + 1;
    check((*pte & PTE_D) != 0, "ad/read-then-write-2-dirty", "PTE 0x%lx", *pte);

    /* A fetch sets A, not D. */
    pt4k[7] &= ~(PTE_A | PTE_D);
    invlpg((void *)VA4K(7));
    v = do_call(VA4K(7) + CODE_OFF);
    check_eq("ad/fetch-runs-code", v, CODE_TAG(7));
    check((pt4k[7] & (PTE_A | PTE_D)) == PTE_A, "ad/fetch-sets-accessed-not-dirty",
          "PTE 0x%lx", pt4k[7]);

    /* 2 MiB page: A on read, D on write, in the PDE. */
    pd_t[7] &= ~(PTE_A | PTE_D);
    invlpg((void *)VA2M(7));
    v = *(volatile uint64_t *)(VA2M(7) + 0x1000);
    check((pd_t[7] & (PTE_A | PTE_D)) == PTE_A, "ad/large-read-sets-accessed", "PDE 0x%lx",
          pd_t[7]);
    *(volatile uint64_t *)(VA2M(7) + 0x1000) = v;
    check((pd_t[7] & PTE_D) != 0, "ad/large-write-sets-dirty", "PDE 0x%lx", pd_t[7]);

    /* A write that faults (read-only page) does not set D. */
    pt4k[4] &= ~(PTE_A | PTE_D);
    invlpg((void *)VA4K(4));
    {
        struct acc a = acc_run(3, WR, VA4K(4), 1);
        check(a.faults == 1 && !(pt4k[4] & PTE_D), "ad/faulting-write-not-dirty",
              "%lu faults, PTE 0x%lx", a.faults, pt4k[4]);
    }
}

static void pf_checks(void)
{
    uint32_t r[4];
    uint64_t cr0 = read_cr0();

    /* Not present at each level. */
    expect_pf("pf/not-present-pte-read", 0, RD, VA4K(3) + 0x10, 0);
    expect_pf("pf/not-present-pte-write", 0, WR, VA4K(3) + 0x18, PF_W);
    expect_pf("pf/not-present-pte-read-cpl3", 3, RD, VA4K(3) + 0x20, PF_U);
    expect_pf("pf/not-present-pte-write-cpl3", 3, WR, VA4K(3) + 0x28, PF_U | PF_W);
    expect_pf("pf/not-present-pde", 0, RD, VA2M(2) + 0x1234, 0);
    expect_pf("pf/not-present-pml4e", 0, RD, VA_NP_PML4 + 0x40, 0);
    if (nx) {
        expect_pf("pf/not-present-fetch", 0, EX, VA4K(3) + CODE_OFF, PF_I);
        expect_pf("pf/not-present-fetch-cpl3", 3, EX, VA4K(3) + CODE_OFF, PF_I | PF_U);
    }

    /* Read-only pages. */
    expect_ok("pf/read-only-read-cpl3", 3, RD, VA4K(4), 0, FRAME_TAG(4));
    expect_pf("pf/read-only-write-cpl3", 3, WR, VA4K(4) + 0x30, PF_P | PF_W | PF_U);
    expect_pf("pf/read-only-write-cpl0-wp1", 0, WR, VA4K(13) + 0x38, PF_P | PF_W);
    write_cr0(cr0 & ~CR0_WP);
    expect_ok("pf/read-only-write-cpl0-wp0", 0, WR, VA4K(13) + 0x38, 0x77, 0);
    write_cr0(cr0);
    check_eq("pf/read-only-write-cpl0-wp0-value", *(volatile uint64_t *)(frame(13) + 0x38),
             0x77);
    check((pt4k[13] & PTE_D) != 0, "pf/read-only-write-cpl0-wp0-dirty", "PTE 0x%lx", pt4k[13]);
    expect_pf("pf/read-only-pde-write-cpl0", 0, WR, VA2M(3) + 0x8, PF_P | PF_W);
    expect_pf("pf/read-only-pde-write-cpl3", 3, WR, VA2M(3) + 0x8, PF_P | PF_W | PF_U);

    /* Supervisor pages. */
    expect_ok("pf/supervisor-read-cpl0", 0, RD, VA4K(5), 0, FRAME_TAG(5));
    expect_pf("pf/supervisor-read-cpl3", 3, RD, VA4K(5) + 0x40, PF_P | PF_U);
    expect_pf("pf/supervisor-write-cpl3", 3, WR, VA4K(5) + 0x48, PF_P | PF_W | PF_U);
    expect_pf("pf/supervisor-pde-read-cpl3", 3, RD, VA2M(4) + 0x50, PF_P | PF_U);
    expect_ok("pf/supervisor-pde-read-cpl0", 0, RD, VA2M(4), 0, FRAME_TAG(18));
    if (nx)
        expect_pf("pf/supervisor-fetch-cpl3", 3, EX, VA4K(14) + CODE_OFF, PF_P | PF_U | PF_I);
    else
        expect_pf("pf/supervisor-fetch-cpl3", 3, EX, VA4K(14) + CODE_OFF, PF_P | PF_U);

    /* No-execute. */
    if (nx) {
        expect_ok("pf/nx-read", 0, RD, VA4K(6), 0, FRAME_TAG(6));
        expect_pf("pf/nx-fetch-cpl0", 0, EX, VA4K(6) + CODE_OFF, PF_P | PF_I);
        expect_pf("pf/nx-fetch-cpl3", 3, EX, VA4K(6) + CODE_OFF, PF_P | PF_I | PF_U);
        expect_pf("pf/nx-pde-fetch", 0, EX, VA2M(5) + CODE_OFF, PF_P | PF_I);
        expect_ok("pf/exec-fetch-cpl3", 3, EX, VA4K(7) + CODE_OFF, 0, CODE_TAG(7));
    } else {
        check_skip("pf/nx", "the CPU has no NX");
    }

    /* Reserved bits. */
    expect_pf("pf/rsvd-bit51-read", 0, RD, VA4K(8) + 0x60, PF_P | PF_RSVD);
    expect_pf("pf/rsvd-bit51-write-cpl3", 3, WR, VA4K(8) + 0x68, PF_P | PF_W | PF_U | PF_RSVD);
    expect_pf("pf/rsvd-bit51-fetch", 0, EX, VA4K(8) + CODE_OFF,
              PF_P | PF_RSVD | (nx ? PF_I : 0));
    expect_pf("pf/rsvd-large-pde-bit13", 0, RD, VA2M(6) + 0x70, PF_P | PF_RSVD);
    expect_pf("pf/rsvd-pml4e-ps", 0, RD, VA_PS_PML4 + 0x78, PF_P | PF_RSVD);
    cpuid(0x80000001, 0, r);
    gbpages = (r[3] >> 26) & 1;
    if (gbpages)
        expect_ok("pf/pdpte-1g-page", 0, RD, VA_1G + 0x100000, 0, *(volatile uint64_t *)0x100000);
    else if (!check_tcgbug(acc_run(0, RD, VA_1G + 0x80, 0).faults == 0,
                           "pf/rsvd-pdpte-ps-without-1g-pages",
                           "PS in a PDPTE maps a 1-GByte page without CPUID pdpe1gb"))
        expect_pf("pf/rsvd-pdpte-ps-without-1g-pages", 0, RD, VA_1G + 0x80, PF_P | PF_RSVD);
    if (nx) {
        uint64_t efer = rdmsr(MSR_EFER);
        wrmsr(MSR_EFER, efer & ~EFER_NXE);
        flush();
        expect_pf("pf/rsvd-xd-without-nxe", 0, RD, VA4K(15) + 0x80, PF_P | PF_RSVD);
        wrmsr(MSR_EFER, efer);
        flush();
        expect_ok("pf/xd-with-nxe-read", 0, RD, VA4K(15), 0, FRAME_TAG(15));
    }
}

static void large_checks(void)
{
    volatile uint64_t *va = (volatile uint64_t *)VA2M(1), *pa = (volatile uint64_t *)LARGE2M;
    check_eq("large/first-word", va[0], 0x1a2e0000u);
    va[0x1000 / 8] = 0x600d1;
    va[0x1ffff8 / 8] = 0x600d2;
    check(pa[0x1000 / 8] == 0x600d1 && pa[0x1ffff8 / 8] == 0x600d2, "large/offsets",
          "physical words 0x%lx 0x%lx, expected 0x600d1 0x600d2", pa[0x1000 / 8],
          pa[0x1ffff8 / 8]);
    check_eq("large/fetch", do_call(VA2M(1) + CODE_OFF), 0xc0de2000u);
}

static void tlb_checks(void)
{
    uint64_t u = PTE_P | PTE_W | PTE_U, cr4 = read_cr4();
    volatile uint64_t *p9 = (volatile uint64_t *)VA4K(9);

    check_eq("tlb/initial", *p9, FRAME_TAG(9));
    pt4k[9] = frame(10) | u;
    invlpg((void *)VA4K(9));
    check_eq("tlb/invlpg-new-frame", *p9, FRAME_TAG(10));
    pt4k[9] = frame(9) | u;
    write_cr3(read_cr3());
    check_eq("tlb/cr3-write-new-frame", *p9, FRAME_TAG(9));
    pt4k[9] = 0;
    invlpg((void *)VA4K(9));
    expect_pf("tlb/invlpg-not-present", 0, RD, VA4K(9), 0);
    pt4k[9] = frame(9) | u;
    invlpg((void *)VA4K(9));
    /* The 2 MiB page: INVLPG of any address in it. */
    (void)*(volatile uint64_t *)VA2M(1);
    pd_t[1] = frame(0) | u | PTE_PS; /* scratch is 4 MiB aligned: frame 0 starts a 2 MiB page */
    invlpg((void *)(VA2M(1) + 0x123456));
    check_eq("tlb/invlpg-large-page", *(volatile uint64_t *)VA2M(1), FRAME_TAG(0));
    pd_t[1] = LARGE2M | u | PTE_PS;
    invlpg((void *)VA2M(1));

    if (!pge) {
        check_skip("tlb/global", "the CPU has no PGE");
        return;
    }
    write_cr4(cr4 | CR4_PGE);
    (void)*(volatile uint64_t *)VA4K(11);
    pt4k[11] = frame(12) | u | PTE_G;
    invlpg((void *)VA4K(11));
    check_eq("tlb/global-invlpg", *(volatile uint64_t *)VA4K(11), FRAME_TAG(12));
    pt4k[11] = frame(11) | u | PTE_G;
    write_cr4(cr4 & ~CR4_PGE);
    write_cr4(cr4 | CR4_PGE);
    check_eq("tlb/global-pge-toggle", *(volatile uint64_t *)VA4K(11), FRAME_TAG(11));
    write_cr4(cr4);
    check_eq("tlb/pge-restored", read_cr4(), cr4);
}

/* ---- legacy protected mode ---- */

struct lop {
    uint32_t op, addr, value, result;
    uint32_t faults, vector, error, cr2, eip, insn;
};
_Static_assert(sizeof(struct lop) == 40, "struct lop matches paging.S");
enum { L_END, L_READ, L_WRITE, L_FETCH, L_INVLPG, L_CR3, L_CR0, L_CR4, L_UREAD, L_UWRITE,
       L_UFETCH };
extern char paging_ops32[];

#define LVA 0x40000000u /* the test area in legacy mode */
#define LVA4K(i) (LVA + (i) * 4096u)

static volatile uint32_t pd32[1024] __attribute__((aligned(4096)));
static volatile uint32_t pt32[1024] __attribute__((aligned(4096)));
static uint64_t pdpt_pae[4] __attribute__((aligned(32)));
static uint64_t pdpt_bad[4] __attribute__((aligned(32)));
static volatile uint64_t pd_pae0[512] __attribute__((aligned(4096)));
static volatile uint64_t pd_pae1[512] __attribute__((aligned(4096)));
static volatile uint64_t pt_pae[512] __attribute__((aligned(4096)));

static struct lop lops[48];
static unsigned nlops;
static int luser; /* CPL3 checks in legacy mode */

static struct lop *lop_add(uint32_t op, uint32_t addr, uint32_t value)
{
    struct lop *l = &lops[nlops++];
    *l = (struct lop){.op = op, .addr = addr, .value = value};
    lops[nlops].op = L_END;
    return l;
}

static void lexpect_ok(const char *name, const struct lop *l, int check_value, uint32_t want)
{
    if (l->faults)
        check_fail(name, "op %u at 0x%x: %s error 0x%x cr2 0x%x eip 0x%x", l->op, l->addr,
                   exception_name(l->vector), l->error, l->cr2, l->eip);
    else if (check_value && l->result != want)
        check_fail(name, "op %u at 0x%x gave 0x%x, expected 0x%x", l->op, l->addr, l->result,
                   want);
    else
        check_ok(name);
}

static void lexpect_fault(const char *name, const struct lop *l, unsigned vector, uint32_t err,
                          int check_cr2)
{
    uint32_t eip = (l->op == L_FETCH || l->op == L_UFETCH) ? l->addr : l->insn;
    if (l->faults != 1)
        check_fail(name, "op %u at 0x%x: %u exceptions, expected %s 0x%x", l->op, l->addr,
                   l->faults, exception_name(vector), err);
    else if (l->vector == 14 && (err & PF_RSVD) && l->error == (err & ~(uint32_t)PF_P) &&
             check_tcgbug(1, name, "no P in the error code of a reserved-bit #PF"))
        ;
    else if (l->vector != vector || l->error != err || (check_cr2 && l->cr2 != l->addr) ||
             l->eip != eip)
        check_fail(name, "op %u at 0x%x: %s error 0x%x cr2 0x%x eip 0x%x, expected %s error "
                   "0x%x cr2 0x%x eip 0x%x",
                   l->op, l->addr, exception_name(l->vector), l->error, l->cr2, l->eip,
                   exception_name(vector), err, check_cr2 ? l->addr : l->cr2, eip);
    else if (check_cr2)
        check_pass(name, "%s error 0x%x cr2 0x%x", exception_name(vector), err, l->cr2);
    else
        check_pass(name, "%s error 0x%x", exception_name(vector), err);
}

static int run_legacy(const char *what, const struct legacy_cfg *cfg)
{
    uint32_t r = legacy_call(paging_ops32, (uint32_t)(uintptr_t)lops, cfg);
    if (r != nlops) {
        if ((r & 0xffff0000u) == LEGACY_UNEXPECTED)
            check_fail(what, "unexpected %s (vector %u) error 0x%x at eip 0x%x cr2 0x%x",
                       exception_name(legacy_fault.vector), legacy_fault.vector,
                       legacy_fault.error, legacy_fault.eip, legacy_fault.cr2);
        else
            check_fail(what, "ran %u of %u operations", r, nlops);
        return 0;
    }
    check_pass(what, "%u operations", nlops);
    return 1;
}

/* The legacy-mode test area, the same for 32-bit and PAE paging (PTE
 * index: frame, flags):
 *   0: frame 20 rw (A/D read)   1: frame 21 rw (write)   2: not present
 *   3: frame 23 read-only       4: frame 24 rw, then frame 25 (INVLPG)
 *   5: frame 26 supervisor      6: frame 27 rw, code     7: frame 28 NX (PAE)
 *   8: frame 29 with a reserved bit (PAE: bit 51) */
static void legacy_ops(int pae, uint32_t cr0, uint32_t pte4_addr, uint64_t pte4_new)
{
    nlops = 0;
    lops[0].op = L_END;
    lop_add(L_READ, LVA4K(0), 0);                          /* 0 */
    lop_add(L_WRITE, LVA4K(1) + 8, 0xd1d1d1d1);            /* 1 */
    lop_add(L_READ, LVA4K(2) + 0x10, 0);                   /* 2 */
    lop_add(L_WRITE, LVA4K(2) + 0x14, 0);                  /* 3 */
    lop_add(L_WRITE, LVA4K(3) + 0x18, 0);                  /* 4: WP = 1 */
    lop_add(L_CR0, 0, cr0 & ~(uint32_t)CR0_WP);            /* 5 */
    lop_add(L_WRITE, LVA4K(3) + 0x18, 0x3e3e);             /* 6: WP = 0 */
    lop_add(L_CR0, 0, cr0);                                /* 7 */
    lop_add(L_READ, LVA4K(4), 0);                          /* 8 */
    lop_add(L_WRITE, pte4_addr, (uint32_t)pte4_new);       /* 9: the PTE itself */
    lop_add(L_INVLPG, LVA4K(4), 0);                        /* 10 */
    lop_add(L_READ, LVA4K(4), 0);                          /* 11 */
    lop_add(L_FETCH, LVA4K(6) + CODE_OFF, 0);              /* 12 */
    lop_add(L_READ, LVA + 0x400000 + 0x2000, 0);           /* 13: large page */
    lop_add(L_READ, LVA4K(8) + 0x20, 0);                   /* 14: reserved bit */
    lop_add(L_READ, LVA4K(5), 0);                          /* 15: supervisor at CPL0 */
    if (pae) {
        lop_add(nx ? L_FETCH : L_END, LVA4K(7) + CODE_OFF, 0); /* 16: NX */
        lop_add(L_CR3, 0, (uint32_t)(uintptr_t)pdpt_bad);   /* 17: #GP(0) */
    } else {
        lop_add(L_READ, LVA + 0x800000, 0);                /* 16: reserved bit 21 (4 MiB) */
        lop_add(L_READ, LVA4K(0), 0);                      /* 17: filler */
    }
    if (luser) {
        lop_add(L_UREAD, LVA4K(0), 0);                     /* 18 */
        lop_add(L_UWRITE, LVA4K(3) + 0x20, 0);             /* 19: read-only */
        lop_add(L_UREAD, LVA4K(5) + 0x28, 0);              /* 20: supervisor */
        lop_add(L_UWRITE, LVA4K(5) + 0x2c, 0);             /* 21 */
        lop_add(L_UFETCH, LVA4K(6) + CODE_OFF, 0);         /* 22 */
        lop_add(L_UREAD, LVA4K(2) + 0x30, 0);              /* 23: not present */
    }
}

static void legacy_check_ops(const char *p, int pae, uint32_t pte_a, uint32_t pte_d,
                             uint64_t (*pte)(unsigned))
{
    char n[64];
#define N(s) (snprintf(n, sizeof(n), "%s/%s", p, s), n)
    lexpect_ok(N("read"), &lops[0], 1, FRAME_TAG(20));
    check((pte(0) & (pte_a | pte_d)) == pte_a, N("read-sets-accessed-not-dirty"), "PTE 0x%lx",
          pte(0));
    lexpect_ok(N("write"), &lops[1], 0, 0);
    check((pte(1) & (pte_a | pte_d)) == (pte_a | pte_d), N("write-sets-accessed-dirty"),
          "PTE 0x%lx", pte(1));
    check_eq(N("write-reaches-frame"), *(volatile uint32_t *)(frame(21) + 8), 0xd1d1d1d1);
    lexpect_fault(N("not-present-read"), &lops[2], 14, 0, 1);
    lexpect_fault(N("not-present-write"), &lops[3], 14, PF_W, 1);
    lexpect_fault(N("read-only-write-wp1"), &lops[4], 14, PF_P | PF_W, 1);
    lexpect_ok(N("read-only-write-wp0"), &lops[6], 0, 0);
    check_eq(N("read-only-write-wp0-value"), *(volatile uint32_t *)(frame(23) + 0x18), 0x3e3e);
    lexpect_ok(N("invlpg-before"), &lops[8], 1, FRAME_TAG(24));
    lexpect_ok(N("invlpg-new-frame"), &lops[11], 1, FRAME_TAG(25));
    lexpect_ok(N("fetch"), &lops[12], 1, CODE_TAG(27));
    lexpect_ok(N("large-page"), &lops[13], 1, 0x1a4e0002u);
    lexpect_fault(N("rsvd-bit"), &lops[14], 14, PF_P | PF_RSVD, 1);
    lexpect_ok(N("supervisor-read-cpl0"), &lops[15], 1, FRAME_TAG(26));
    if (pae) {
        if (nx)
            lexpect_fault(N("nx-fetch"), &lops[16], 14, PF_P | PF_I, 1);
        else
            check_skip(N("nx-fetch"), "the CPU has no NX");
        if (!check_tcgbug(lops[17].faults == 0, N("pdpte-rsvd-mov-cr3-gp"),
                          "PDPTEs are not loaded (or checked) at MOV CR3"))
            lexpect_fault(N("pdpte-rsvd-mov-cr3-gp"), &lops[17], 13, 0, 0);
    } else {
        lexpect_fault(N("rsvd-4m-pde-bit21"), &lops[16], 14, PF_P | PF_RSVD, 1);
    }
    if (luser) {
        lexpect_ok(N("read-cpl3"), &lops[18], 1, FRAME_TAG(20));
        lexpect_fault(N("read-only-write-cpl3"), &lops[19], 14, PF_P | PF_W | PF_U, 1);
        lexpect_fault(N("supervisor-read-cpl3"), &lops[20], 14, PF_P | PF_U, 1);
        lexpect_fault(N("supervisor-write-cpl3"), &lops[21], 14, PF_P | PF_W | PF_U, 1);
        lexpect_ok(N("fetch-cpl3"), &lops[22], 1, CODE_TAG(27));
        lexpect_fault(N("not-present-read-cpl3"), &lops[23], 14, PF_U, 1);
    } else {
        check_skip(N("cpl3"), "needs IRET in protected mode, which " PVM_REASON " cannot do");
    }
#undef N
}

static uint64_t pte32(unsigned i)
{
    return pt32[i];
}

static uint64_t ptepae(unsigned i)
{
    return pt_pae[i];
}

static void legacy_frames(void)
{
    for (unsigned i = 20; i < 30; i++)
        fill_frame(frame(i), FRAME_TAG(i), CODE_TAG(i));
    /* The large pages' word at 0x2000. */
    *(volatile uint32_t *)(LARGE4M + 0x2000) = 0x1a4e0002u;
    *(volatile uint32_t *)(LARGE2M + 0x2000) = 0x1a4e0002u;
}

static void legacy32_checks(void)
{
    uint32_t u = PTE_P | PTE_W | PTE_U;
    struct legacy_cfg cfg;

    if (!pse) {
        check_skip("legacy32", "the CPU has no PSE (4 MiB pages)");
        return;
    }
    legacy_frames();
    memset((void *)pd32, 0, sizeof(pd32));
    memset((void *)pt32, 0, sizeof(pt32));
    for (uint32_t i = 0; i < 4; i++) /* identity: the first 16 MiB */
        pd32[i] = (i << 22) | u | PTE_PS;
    pd32[LVA >> 22] = (uint32_t)(uintptr_t)pt32 | u;
    pd32[(LVA >> 22) + 1] = (uint32_t)LARGE4M | u | PTE_PS;
    pd32[(LVA >> 22) + 2] = (uint32_t)LARGE4M | u | PTE_PS | (1u << 21);
    pt32[0] = (uint32_t)frame(20) | u;
    pt32[1] = (uint32_t)frame(21) | u;
    pt32[3] = (uint32_t)frame(23) | PTE_P | PTE_U;
    pt32[4] = (uint32_t)frame(24) | u;
    pt32[5] = (uint32_t)frame(26) | PTE_P | PTE_W;
    pt32[6] = (uint32_t)frame(27) | u;

    cfg.cr0 = (uint32_t)(CR0_PE | CR0_PG | CR0_WP | CR0_NE | CR0_MP);
    cfg.cr3 = (uint32_t)(uintptr_t)pd32;
    cfg.cr4 = (uint32_t)(CR4_PSE | CR4_OSFXSR | CR4_OSXMMEXCPT);
    cfg.efer = (uint32_t)rdmsr(MSR_EFER);
    cfg.flags = luser ? LEGACY_USER : 0;
    legacy_ops(0, cfg.cr0, (uint32_t)(uintptr_t)&pt32[4], frame(25) | u);
    /* 32-bit paging has no reserved bit in a 4 KiB PTE: op 14 reads a
     * 4 MiB page with bit 21 set instead. */
    lops[14].addr = LVA + 0x800000 + 0x20;
    if (!run_legacy("legacy32/run", &cfg))
        return;
    legacy_check_ops("legacy32", 0, PTE_A, PTE_D, pte32);
    check((pd32[LVA >> 22] & PTE_A) != 0, "legacy32/pde-accessed", "PDE 0x%x", pd32[LVA >> 22]);
    check((pd32[(LVA >> 22) + 1] & PTE_A) != 0, "legacy32/large-pde-accessed", "PDE 0x%x",
          pd32[(LVA >> 22) + 1]);
}

static void pae_checks(void)
{
    uint64_t u = PTE_P | PTE_W | PTE_U;
    struct legacy_cfg cfg;

    legacy_frames();
    memset((void *)pd_pae0, 0, sizeof(pd_pae0));
    memset((void *)pd_pae1, 0, sizeof(pd_pae1));
    memset((void *)pt_pae, 0, sizeof(pt_pae));
    for (uint64_t i = 0; i < 8; i++) /* identity: the first 16 MiB */
        pd_pae0[i] = (i << 21) | u | PTE_PS;
    pdpt_pae[0] = (uintptr_t)pd_pae0 | PTE_P;
    pdpt_pae[1] = (uintptr_t)pd_pae1 | PTE_P;
    pdpt_pae[2] = pdpt_pae[3] = 0;
    memcpy(pdpt_bad, pdpt_pae, sizeof(pdpt_bad));
    pdpt_bad[3] = (uintptr_t)pd_pae1 | PTE_P | PTE_W; /* R/W is reserved in a PAE PDPTE */
    pd_pae1[0] = (uintptr_t)pt_pae | u;
    pd_pae1[2] = LARGE2M | u | PTE_PS; /* LVA + 4 MiB */
    pt_pae[0] = frame(20) | u;
    pt_pae[1] = frame(21) | u;
    pt_pae[3] = frame(23) | PTE_P | PTE_U;
    pt_pae[4] = frame(24) | u;
    pt_pae[5] = frame(26) | PTE_P | PTE_W;
    pt_pae[6] = frame(27) | u;
    pt_pae[7] = frame(28) | u | (nx ? PTE_NX : 0);
    pt_pae[8] = frame(29) | u | PTE_RSVD51;

    cfg.cr0 = (uint32_t)(CR0_PE | CR0_PG | CR0_WP | CR0_NE | CR0_MP);
    cfg.cr3 = (uint32_t)(uintptr_t)pdpt_pae;
    cfg.cr4 = (uint32_t)(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT);
    cfg.efer = (uint32_t)rdmsr(MSR_EFER);
    cfg.flags = luser ? LEGACY_USER : 0;
    legacy_ops(1, cfg.cr0, (uint32_t)(uintptr_t)&pt_pae[4], frame(25) | u);
    if (!run_legacy("pae/run", &cfg))
        return;
    legacy_check_ops("pae", 1, PTE_A, PTE_D, ptepae);
    check((pd_pae1[0] & PTE_A) != 0, "pae/pde-accessed", "PDE 0x%lx", pd_pae1[0]);
}

void guest_main(void)
{
    uint32_t r[4];

    cpuid(1, 0, r);
    pge = (r[3] >> 13) & 1;
    pse = (r[3] >> 3) & 1;
    nx = (rdmsr(MSR_EFER) & EFER_NXE) != 0;
    scratch = (free_mem_start() + 0x3fffff) & ~0x3ffffful;
    EXPECT(scratch + 0x800000 <= ram_top(), "needs 8 MiB of RAM at 0x%lx (RAM ends at 0x%lx)",
           scratch, ram_top());
    luser = !pvm();
    gdt_extend();
    map_long();

    if (check_group("ad"))
        ad_checks();
    if (check_group("pf"))
        pf_checks();
    if (check_group("large"))
        large_checks();
    if (check_group("tlb"))
        tlb_checks();
    if (pvm()) {
        /* Seen there: #GP(0) at the MOV to CR0 that sets PG with EFER.LME
         * clear. */
        check_skip("legacy32", PVM_REASON " refuses paging outside long mode (#GP at MOV CR0)");
        check_skip("pae", PVM_REASON " refuses paging outside long mode (#GP at MOV CR0)");
    } else {
        if (check_group("legacy32"))
            legacy32_checks();
        if (check_group("pae"))
            pae_checks();
    }
    check_finish();
}
