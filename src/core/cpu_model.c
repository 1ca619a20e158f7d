/* Named, versioned CPU models (DESIGN.md, "CPU model"); see core/cpu_model.h.
 * CPUID leaves and bits follow the Intel SDM Vol. 2A, CPUID instruction
 * (Tables 3-8, 3-10, 3-11) and the AMD APM Vol. 3, Appendix E.
 *
 * roam-v1 is x86-64-v1 plus the hypervisor bit. It stays close to QEMU's
 * "qemu64" minus SSE3, CX16, LAHF_LM and SVM. The choices the design left open:
 *
 * - Leaf 1 EDX = the DESIGN.md list (FPU TSC MSR PAE CX8 APIC SEP MTRR PGE
 *   CMOV PAT CLFLUSH MMX FXSR SSE SSE2) plus PSE and DE:
 *   - PSE: a non-paravirtual x86-64 Linux requires it
 *     (arch/x86/include/asm/required-features.h, NEED_PSE) and uses it to
 *     map its direct map with 2 MiB pages;
 *   - DE (CR4.DE, I/O breakpoints): free to provide, and qemu64 has it.
 *   Left out: MCE and MCA (they bring MCG_CAP and the MCi_* bank MSRs, which
 *   roam-v1 does not carry or migrate), PSE36 (only 32-bit non-PAE paging
 *   above 4 GiB would use it), VME, and everything newer.
 *   HTT is set only when the VM has more than one vCPU (it says that the
 *   logical processor count in EBX[23:16] is valid); it is topology, not a
 *   feature.
 * - Leaf 1 ECX = only the hypervisor bit (31): no SSE3, CX16, XSAVE, AVX.
 * - Leaf 0x80000001 EDX = SYSCALL, NX, LM; ECX = 0 (LAHF_LM is x86-64-v2).
 * - Vendor "GenuineIntel", family 6, model 15, stepping 1 (signature
 *   0x000006f1). Why Intel and not qemu64's AuthenticAMD family 15:
 *   - roam-v1 carries IA32_MISC_ENABLE, an Intel MSR;
 *   - KVM applies Intel's out-of-range CPUID rule (return the highest basic
 *     leaf) only to guests with an Intel vendor; with AMD it returns zeros.
 *     cpu_model_cpuid_lookup() implements the Intel rule, so every engine
 *     (KVM at CPL0, emu everywhere) answers the same;
 *   - Linux treats family 6 model >= 0x0e as constant-TSC and keeps PAT on
 *     for model >= 15 (early_init_intel()); family 6 without the
 *     architectural PMU leaf gets "software events only" (p6_pmu_init()
 *     does not know model 15), so the guest touches no PMU MSRs.
 *   On this project's AMD machines CPUID executed at CPL3 returns the host's
 *   values whatever the model says (DESIGN.md, "KVM on this project's
 *   machines"); the model governs CPL0 under KVM and every level under emu.
 * - Basic leaves: 0, 1, 0x15 and 0x16 (max basic leaf 0x16); 2 to 0x14 read
 *   as zeros: no cache leaves 2/4 (Linux sees one core with ncpus threads,
 *   which is harmless), no leaf 7 features, no topology leaf 0xB.
 * - Leaf 0x15 states the TSC frequency so that a guest needs no calibration:
 *   ECX = the core crystal clock, which roam makes the LAPIC timer's clock
 *   (bus_hz, 1 GHz), and TSC = crystal * EBX / EAX. Linux's
 *   native_calibrate_tsc() (Intel vendor, max leaf >= 0x15) takes both the
 *   TSC frequency (and marks it known: no refinement against the PIT) and
 *   the LAPIC timer period from it. Leaf 0x16 gives the same in MHz.
 *   Version 2 of roam-v1 added these; version 1 had max basic leaf 1.
 * - Hypervisor leaf 0x40000000: signature "roamroamroam", max leaf
 *   0x40000000. No kvmclock or other paravirtual features.
 * - Extended leaves up to 0x80000008: brand string "roam virtual CPU
 *   (roam-v1)", an L2 descriptor in 0x80000006, address sizes 40 physical /
 *   48 linear (as qemu64). No invariant-TSC bit (0x80000007), as qemu64.
 * - TSC frequency: 2 GHz, stated in leaves 0x15/0x16. Under KVM the TSC
 *   runs at the host's rate unless KVM_SET_TSC_KHZ can scale it; the kvm
 *   engine tries and reports (it does not fail) when it cannot, and then
 *   the leaves do not match the TSC. */
#include "core/cpu_model.h"

#include <string.h>

/* CPUID.1:EDX */
#define F_FPU (1u << 0)
#define F_DE (1u << 2)
#define F_PSE (1u << 3)
#define F_TSC (1u << 4)
#define F_MSR (1u << 5)
#define F_PAE (1u << 6)
#define F_CX8 (1u << 8)
#define F_APIC (1u << 9)
#define F_SEP (1u << 11)
#define F_MTRR (1u << 12)
#define F_PGE (1u << 13)
#define F_CMOV (1u << 15)
#define F_PAT (1u << 16)
#define F_CLFLUSH (1u << 19)
#define F_MMX (1u << 23)
#define F_FXSR (1u << 24)
#define F_SSE (1u << 25)
#define F_SSE2 (1u << 26)
#define F_HTT (1u << 28)
/* CPUID.1:ECX */
#define F_HYPERVISOR (1u << 31)
/* CPUID.80000001H:EDX */
#define F_SYSCALL (1u << 11)
#define F_NX (1u << 20)
#define F_LM (1u << 29)

#define ROAM_V1_LEAF1_EDX                                                                     \
    (F_FPU | F_DE | F_PSE | F_TSC | F_MSR | F_PAE | F_CX8 | F_APIC | F_SEP | F_MTRR | F_PGE | \
     F_CMOV | F_PAT | F_CLFLUSH | F_MMX | F_FXSR | F_SSE | F_SSE2)
#define ROAM_V1_SIGNATURE 0x000006f1u /* family 6, model 15, stepping 1 */

static const struct cpu_model roam_v1 = {
    .name = "roam-v1",
    .version = 2,
    .tsc_hz = 2000000000ull,
    .bus_hz = 1000000000ull,
};

static const struct cpu_model *const cpu_models[] = {&roam_v1};

const struct cpu_model *cpu_model_find(const char *name)
{
    for (unsigned i = 0; i < sizeof(cpu_models) / sizeof(cpu_models[0]); i++)
        if (strcmp(cpu_models[i]->name, name) == 0)
            return cpu_models[i];
    return NULL;
}

const struct cpu_model *cpu_model_default(void)
{
    return &roam_v1;
}

/* Packs 4 characters of a string into a register, little-endian. */
static uint32_t str4(const char *s)
{
    return (uint32_t)(uint8_t)s[0] | (uint32_t)(uint8_t)s[1] << 8 | (uint32_t)(uint8_t)s[2] << 16 |
           (uint32_t)(uint8_t)s[3] << 24;
}

struct cpuid_builder {
    struct cpuid_entry *out;
    unsigned max, n;
};

static void add(struct cpuid_builder *b, uint32_t function, uint32_t eax, uint32_t ebx,
                uint32_t ecx, uint32_t edx)
{
    if (b->n < b->max)
        b->out[b->n] = (struct cpuid_entry){function, 0, 0, eax, ebx, ecx, edx};
    b->n++;
}

unsigned cpu_model_cpuid(const struct cpu_model *m, unsigned apic_id, unsigned ncpus,
                         struct cpuid_entry *out, unsigned max)
{
    /* 48 bytes, NUL-padded. */
    static const char brand[48] = "roam virtual CPU (roam-v1)";
    struct cpuid_builder b = {out, max, 0};
    uint32_t ebx1, edx1 = ROAM_V1_LEAF1_EDX;
    unsigned count = ncpus > 255 ? 255 : (ncpus ? ncpus : 1);

    /* EBX: brand index 0, CLFLUSH line size in 8-byte units, logical
     * processor count, initial APIC ID. */
    ebx1 = (8u << 8) | ((uint32_t)count << 16) | ((uint32_t)(apic_id & 0xff) << 24);
    if (count > 1)
        edx1 |= F_HTT;

    add(&b, 0x00000000, 0x16, str4("Genu"), str4("ntel"), str4("ineI"));
    add(&b, 0x00000001, ROAM_V1_SIGNATURE, ebx1, F_HYPERVISOR, edx1);
    /* TSC/crystal ratio in lowest terms (2 GHz / 1 GHz = 2/1): Linux
     * multiplies crystal kHz by EBX in 32 bits. */
    uint64_t num = m->tsc_hz / 1000, den = m->bus_hz / 1000, a = num, c = den;
    while (c) {
        uint64_t t = a % c;
        a = c;
        c = t;
    }
    add(&b, 0x00000015, (uint32_t)(den / a), (uint32_t)(num / a), (uint32_t)m->bus_hz, 0);
    add(&b, 0x00000016, (uint32_t)(m->tsc_hz / 1000000), (uint32_t)(m->tsc_hz / 1000000),
        (uint32_t)(m->bus_hz / 1000000), 0);
    add(&b, 0x40000000, 0x40000000, str4("roam"), str4("roam"), str4("roam"));
    add(&b, 0x80000000, 0x80000008, 0, 0, 0);
    add(&b, 0x80000001, 0, 0, 0, F_SYSCALL | F_NX | F_LM);
    for (unsigned i = 0; i < 3; i++) {
        const char *p = brand + 16 * i;
        add(&b, 0x80000002 + i, str4(p), str4(p + 4), str4(p + 8), str4(p + 12));
    }
    add(&b, 0x80000005, 0, 0, 0, 0);
    /* L2: 512 KiB, 8-way (encoding 6), 64-byte lines. */
    add(&b, 0x80000006, 0, 0, 0x02006040, 0);
    add(&b, 0x80000007, 0, 0, 0, 0);
    /* 40 physical and 48 linear address bits. */
    add(&b, 0x80000008, 0x00003028, 0, 0, 0);
    return b.n;
}

static const struct cpuid_entry *cpuid_find(const struct cpuid_entry *tbl, unsigned n,
                                            uint32_t function, uint32_t index)
{
    for (unsigned i = 0; i < n; i++) {
        if (tbl[i].function != function)
            continue;
        if ((tbl[i].flags & CPUID_FLAG_SIGNIFICANT_INDEX) && tbl[i].index != index)
            continue;
        return &tbl[i];
    }
    return NULL;
}

/* The rule KVM applies at CPL0 (kvm_cpuid() and get_out_of_range_cpuid_entry()
 * in arch/x86/kvm/cpuid.c), which follows Intel's (SDM Vol. 2A, CPUID: "If a
 * value entered for CPUID.EAX is higher than the maximum input value for
 * basic or extended function for that processor then the data for the
 * highest basic information leaf is returned"):
 * - a leaf in the table answers with its values;
 * - a leaf missing from the table but within its range's maximum (leaf
 *   0x40000000 for the hypervisor range 0x400000xx, 0x80000000 for the
 *   extended range, 0 for basic leaves) answers zeros;
 * - a leaf above its range's maximum, or in a range with no maximum leaf,
 *   answers with the highest basic leaf (with the same sub-leaf index);
 * - with an AMD vendor string, as on AMD hardware, it answers zeros. */
void cpu_model_cpuid_lookup(const struct cpuid_entry *tbl, unsigned n, uint32_t function,
                            uint32_t index, uint32_t regs[4])
{
    const struct cpuid_entry *e = cpuid_find(tbl, n, function, index);
    const struct cpuid_entry *basic, *range;

    regs[0] = regs[1] = regs[2] = regs[3] = 0;
    if (!e) {
        basic = cpuid_find(tbl, n, 0, 0);
        if (!basic)
            return;
        if (basic->ebx == str4("Auth") && basic->ecx == str4("cAMD") && basic->edx == str4("enti"))
            return;
        if (function >= 0x40000000 && function <= 0x4fffffff)
            range = cpuid_find(tbl, n, function & 0xffffff00, 0);
        else if (function >= 0xc0000000)
            range = cpuid_find(tbl, n, 0xc0000000, 0);
        else
            range = cpuid_find(tbl, n, function & 0x80000000, 0);
        if (range && function <= range->eax)
            return;
        e = cpuid_find(tbl, n, basic->eax, index);
        if (!e)
            return;
    }
    regs[0] = e->eax;
    regs[1] = e->ebx;
    regs[2] = e->ecx;
    regs[3] = e->edx;
}
