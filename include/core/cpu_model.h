/* Named, versioned CPU models (DESIGN.md, "CPU model"). roam-v1 is
 * x86-64-v1 plus the hypervisor bit: every engine presents exactly it. */
#ifndef ROAM_CORE_CPU_MODEL_H
#define ROAM_CORE_CPU_MODEL_H

#include <stdint.h>

struct cpuid_entry {
    uint32_t function;
    uint32_t index;   /* sub-leaf (ECX input) */
    uint32_t flags;   /* CPUID_FLAG_* */
    uint32_t eax, ebx, ecx, edx;
};
#define CPUID_FLAG_SIGNIFICANT_INDEX 1u

#define CPU_MODEL_MAX_CPUID 32

struct cpu_model {
    const char *name;    /* "roam-v1" */
    unsigned version;
    uint64_t tsc_hz;     /* the model's TSC frequency */
    uint64_t bus_hz;     /* the core crystal clock of CPUID 0x15: the LAPIC timer's */
};

const struct cpu_model *cpu_model_find(const char *name);
const struct cpu_model *cpu_model_default(void);
/* Fills the CPUID table a vCPU presents; apic_id goes in leaf 1 EBX[31:24]
 * and ncpus in the logical-processor count. Returns the number of entries. */
unsigned cpu_model_cpuid(const struct cpu_model *m, unsigned apic_id, unsigned ncpus,
                         struct cpuid_entry *out, unsigned max);
/* Looks up one leaf in a table filled by cpu_model_cpuid (CPUID semantics:
 * out-of-range leaves return the highest basic leaf's values). */
void cpu_model_cpuid_lookup(const struct cpuid_entry *tbl, unsigned n, uint32_t function,
                            uint32_t index, uint32_t regs[4]);

#endif
