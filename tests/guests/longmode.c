/* longmode: the 32-bit multiboot entry built 4-level paging and entered
 * long mode (lib/entry.S). Checks the state it found at entry (protected
 * mode, paging off), the control registers and EFER now, that the code
 * really runs 64-bit, and that the page walk works through two aliases of
 * the first GiB (at 4 GiB and at 0xffffff8000000000). */
#include "lib/guest.h"

const char guest_name[] = "longmode";

extern uint64_t pml4[];
static volatile uint64_t probe = 0x0123456789abcdefull;

static void check_bits(const char *reg, uint64_t v, uint64_t want)
{
    printf("%s = 0x%lx\n", reg, v);
    EXPECT((v & want) == want, "%s = 0x%lx lacks bits 0x%lx", reg, v, want & ~v);
}

void guest_main(void)
{
    uint64_t efer = rdmsr(MSR_EFER), r, rsp0, rsp1;
    uint32_t id[4];
    volatile uint64_t *alias4g = (volatile uint64_t *)((uintptr_t)&probe + 0x100000000ull);
    volatile uint64_t *aliashi = (volatile uint64_t *)((uintptr_t)&probe + 0xffffff8000000000ull);

    printf("entry CR0 = 0x%lx\n", entry_cr0);
    EXPECT((entry_cr0 & CR0_PE) && !(entry_cr0 & CR0_PG),
           "entered with CR0 0x%lx, not protected mode without paging", entry_cr0);

    check_bits("CR0", read_cr0(), CR0_PE | CR0_PG | CR0_WP);
    check_bits("CR4", read_cr4(), CR4_PAE);
    check_bits("EFER", efer, EFER_LME | EFER_LMA);
    EXPECT(read_cr3() == (uintptr_t)pml4, "CR3 0x%lx is not the PML4 at %p", read_cr3(),
           (void *)pml4);

    cpuid(0x80000001, 0, id);
    EXPECT(id[3] & (1u << 29), "CPUID 0x80000001 EDX 0x%x lacks LM", id[3]);
    printf("CPUID 0x80000001: EDX 0x%x (LM%s%s)\n", id[3], id[3] & (1u << 20) ? " NX" : "",
           id[3] & (1u << 11) ? " SYSCALL" : "");
    if (id[3] & (1u << 20))
        EXPECT(efer & EFER_NXE, "the CPU has NX but EFER.NXE is clear");

    /* 64-bit operations: a 64-bit rotate and a push that moves RSP by 8. */
    __asm__ volatile("movabsq $0x8000000000000001, %0\n\t"
                     "rolq $4, %0"
                     : "=r"(r));
    EXPECT(r == 0x18, "rolq gave 0x%lx, not 0x18", r);
    __asm__ volatile("movq %%rsp, %0\n\tpushq $0\n\tmovq %%rsp, %1\n\tpopq %%rax"
                     : "=r"(rsp0), "=r"(rsp1)
                     :
                     : "rax", "memory");
    EXPECT(rsp0 - rsp1 == 8, "push moved RSP by %lu bytes", rsp0 - rsp1);
    EXPECT((read_cs() & ~3) == KERNEL_CS, "CS is 0x%x", read_cs());

    hold_point("aliases");
    /* The page walk: both aliases read and write the same memory. */
    EXPECT(*alias4g == probe, "read through the 4 GiB alias: 0x%lx", *alias4g);
    EXPECT(*aliashi == probe, "read through the high alias: 0x%lx", *aliashi);
    *alias4g = 0xfeedfacecafebeefull;
    EXPECT(probe == 0xfeedfacecafebeefull, "write through the 4 GiB alias not seen: 0x%lx",
           probe);
    *aliashi = 0x1122334455667788ull;
    EXPECT(probe == 0x1122334455667788ull, "write through the high alias not seen: 0x%lx",
           probe);
    printf("paging: aliases at 4 GiB and 0xffffff8000000000 agree\n");
}
