/* vCPU mode, CPUID, TSC and the MSRs the engine keeps itself (SDM Vol. 3A
 * 2.5 control registers, 5.2.1 CPL, chapter 2.2 modes; Vol. 4 MSR list for
 * the roam-v1 MSRs; MTRRs: Vol. 3A 12.11). MSRs outside this list (the
 * LAPIC's, and unknown ones) belong to the core: it answers or refuses.
 * TSC_AUX is not here: it comes with RDTSCP, which roam-v1 does not have. */
#include "emu.h"

#include "host/host.h"

void emu_mode_update(struct emu_cpu *cpu)
{
    const struct x86_segment *cs = &cpu->seg[X86_CS];

    cpu->long_mode = (cpu->msr.efer & EMU_EFER_LMA) != 0;
    cpu->code64 = 0;
    if (!(cpu->cr0 & EMU_CR0_PE)) {
        cpu->cpl = 0;
        cpu->code_mode = EMU_MODE_REAL;
    } else if (cpu->rflags & EMU_VM) {
        cpu->cpl = 3;
        cpu->code_mode = EMU_MODE_VM86;
    } else {
        cpu->cpl = cpu->seg[X86_SS].dpl; /* as VMX: CPL is SS.DPL */
        if (cpu->long_mode && cs->l) {
            cpu->code_mode = EMU_MODE_LONG64;
            cpu->code64 = 1;
        } else if (cpu->long_mode) {
            cpu->code_mode = cs->db ? EMU_MODE_COMPAT32 : EMU_MODE_COMPAT16;
        } else {
            cpu->code_mode = cs->db ? EMU_MODE_PROT32 : EMU_MODE_PROT16;
        }
    }
}

void emu_cpuid(struct emu_cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
    cpu_model_cpuid_lookup(cpu->cpuid, cpu->ncpuid, leaf, sub, out);
}

/* A TSC that was base at host time since, read at now. */
static uint64_t emu_tsc_at(const struct engine_vm *vm, uint64_t base, uint64_t since, uint64_t now)
{
    if (vm->tsc_stopped)
        return base;
    return base + (uint64_t)((unsigned __int128)(now - since) * vm->model->tsc_hz / 1000000000u);
}

uint64_t emu_tsc_read(struct emu_cpu *cpu)
{
    return emu_tsc_at(cpu->vm, cpu->tsc_base, cpu->tsc_host_ns, host_time_ns());
}

/* The TSC stops while the VM is paused, as its virtual clock does (and as
 * QEMU's TCG, whose TSC follows its virtual clock): a paused VM saved twice
 * gives the same stream, and on resume the guest's TSC and its timers go
 * on together. */
void emu_tsc_run(struct engine_vm *vm, bool on)
{
    uint64_t now = host_time_ns();

    host_mutex_lock(vm->tsc_lock);
    if (vm->tsc_stopped != on) { /* already so */
        host_mutex_unlock(vm->tsc_lock);
        return;
    }
    for (unsigned i = 0; i < vm->ncpus; i++) {
        struct emu_cpu *c = vm->vcpu[i] ? &vm->vcpu[i]->cpu : NULL;
        if (c) {
            c->tsc_base = emu_tsc_at(vm, c->tsc_base, c->tsc_host_ns, now);
            c->tsc_host_ns = now;
        }
    }
    /* vCPUs that were on the shared TSC still are: same base, same time */
    vm->tsc_sync_base = emu_tsc_at(vm, vm->tsc_sync_base, vm->tsc_sync_ns, now);
    vm->tsc_sync_ns = now;
    vm->tsc_stopped = !on;
    host_mutex_unlock(vm->tsc_lock);
}

void emu_tsc_set(struct emu_cpu *cpu, uint64_t v)
{
    struct engine_vm *vm = cpu->vm;
    uint64_t now = host_time_ns(), hz = vm->model->tsc_hz;

    host_mutex_lock(vm->tsc_lock);
    if (vm->tsc_sync_valid) {
        uint64_t run = emu_tsc_at(vm, vm->tsc_sync_base, vm->tsc_sync_ns, now);
        if (v <= run && run - v < hz) {
            /* Behind the running TSC (an AP at SIPI, a vCPU read a moment
             * earlier): join it, the TSC does not go back. */
            cpu->tsc_base = vm->tsc_sync_base;
            cpu->tsc_host_ns = vm->tsc_sync_ns;
            host_mutex_unlock(vm->tsc_lock);
            return;
        }
        if (v > run && v - run < hz) {
            /* Ahead (vCPUs restored one after the other from values read
             * a little apart): move the shared TSC forward to v, with every
             * vCPU on it. Only the VMM sets a TSC ahead, and only while
             * those vCPUs are stopped (restore, state set by a test). */
            for (unsigned i = 0; i < vm->ncpus; i++) {
                struct emu_cpu *o = vm->vcpu[i] ? &vm->vcpu[i]->cpu : NULL;
                if (o && o->tsc_base == vm->tsc_sync_base && o->tsc_host_ns == vm->tsc_sync_ns) {
                    o->tsc_base = v;
                    o->tsc_host_ns = now;
                }
            }
        }
    }
    vm->tsc_sync_base = cpu->tsc_base = v;
    vm->tsc_sync_ns = cpu->tsc_host_ns = now;
    vm->tsc_sync_valid = true;
    host_mutex_unlock(vm->tsc_lock);
}

/* A guest's WRMSR to the TSC sets exactly what it wrote. */
static void emu_tsc_write(struct emu_cpu *cpu, uint64_t v)
{
    cpu->tsc_host_ns = host_time_ns();
    cpu->tsc_base = v;
}

#define MSR_TSC 0x10
#define MSR_BIOS_SIGN_ID 0x8b /* microcode revision: Linux writes 0, runs CPUID, reads it */
#define MSR_MTRRCAP 0xfe
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_MISC_ENABLE 0x1a0
#define MSR_MTRR_PHYSBASE0 0x200
#define MSR_MTRR_FIX64K 0x250
#define MSR_MTRR_FIX16K_80000 0x258
#define MSR_MTRR_FIX16K_A0000 0x259
#define MSR_MTRR_FIX4K_C0000 0x268
#define MSR_PAT 0x277
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

/* MTRRcap: 8 variable ranges, fixed ranges, write-combining (as qemu64). */
#define EMU_MTRRCAP (0x500ull | X86_MTRR_VAR_COUNT)

static uint64_t *emu_msr_fixed_mtrr(struct emu_cpu *cpu, uint32_t idx)
{
    if (idx == MSR_MTRR_FIX64K)
        return &cpu->msr.mtrr_fixed[0];
    if (idx == MSR_MTRR_FIX16K_80000)
        return &cpu->msr.mtrr_fixed[1];
    if (idx == MSR_MTRR_FIX16K_A0000)
        return &cpu->msr.mtrr_fixed[2];
    if (idx >= MSR_MTRR_FIX4K_C0000 && idx < MSR_MTRR_FIX4K_C0000 + 8)
        return &cpu->msr.mtrr_fixed[3 + idx - MSR_MTRR_FIX4K_C0000];
    return NULL;
}

int emu_msr_read(struct emu_cpu *cpu, uint32_t idx, uint64_t *v)
{
    uint64_t *p;

    switch (idx) {
    case MSR_TSC: *v = emu_tsc_read(cpu); return 0;
    case MSR_BIOS_SIGN_ID: *v = 0; return 0; /* no microcode */
    case MSR_MTRRCAP: *v = EMU_MTRRCAP; return 0;
    case MSR_SYSENTER_CS: *v = cpu->msr.sysenter_cs; return 0;
    case MSR_SYSENTER_ESP: *v = cpu->msr.sysenter_esp; return 0;
    case MSR_SYSENTER_EIP: *v = cpu->msr.sysenter_eip; return 0;
    case MSR_MISC_ENABLE: *v = cpu->msr.misc_enable; return 0;
    case MSR_PAT: *v = cpu->msr.pat; return 0;
    case MSR_MTRR_DEF_TYPE: *v = cpu->msr.mtrr_def_type; return 0;
    case MSR_EFER: *v = cpu->msr.efer; return 0;
    case MSR_STAR: *v = cpu->msr.star; return 0;
    case MSR_LSTAR: *v = cpu->msr.lstar; return 0;
    case MSR_CSTAR: *v = cpu->msr.cstar; return 0;
    case MSR_SFMASK: *v = cpu->msr.sfmask; return 0;
    case MSR_FS_BASE: *v = cpu->seg[X86_FS].base; return 0;
    case MSR_GS_BASE: *v = cpu->seg[X86_GS].base; return 0;
    case MSR_KERNEL_GS_BASE: *v = cpu->msr.kernel_gs_base; return 0;
    default:
        break;
    }
    if (idx >= MSR_MTRR_PHYSBASE0 && idx < MSR_MTRR_PHYSBASE0 + 2 * X86_MTRR_VAR_COUNT) {
        unsigned n = (idx - MSR_MTRR_PHYSBASE0) / 2;
        *v = (idx & 1) ? cpu->msr.mtrr_var_mask[n] : cpu->msr.mtrr_var_base[n];
        return 0;
    }
    if ((p = emu_msr_fixed_mtrr(cpu, idx))) {
        *v = *p;
        return 0;
    }
    return 1;
}

/* A valid memory type byte for PAT and MTRRs: 0, 1, 4, 5, 6 (7 for PAT). */
static bool emu_memtype_ok(uint64_t v, unsigned bytes, bool pat)
{
    for (unsigned i = 0; i < bytes; i++) {
        unsigned t = (v >> (8 * i)) & 0xff;
        if (!(t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || (pat && t == 7)))
            return false;
    }
    return true;
}

int emu_msr_write(struct emu_cpu *cpu, uint32_t idx, uint64_t v)
{
    uint64_t *p;
    /* Physical addresses are 40 bits in roam-v1 (CPUID 0x80000008). */
    const uint64_t phys_rsvd = ~((1ull << 40) - 1);

    switch (idx) {
    case MSR_TSC: emu_tsc_write(cpu, v); return 0;
    case MSR_BIOS_SIGN_ID: return 0; /* the write only primes the read */
    case MSR_SYSENTER_CS: cpu->msr.sysenter_cs = v & 0xffff; return 0;
    case MSR_SYSENTER_ESP:
    case MSR_SYSENTER_EIP:
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
        if (!emu_canonical(v))
            return emu_gp0(cpu);
        if (idx == MSR_SYSENTER_ESP) cpu->msr.sysenter_esp = v;
        else if (idx == MSR_SYSENTER_EIP) cpu->msr.sysenter_eip = v;
        else if (idx == MSR_LSTAR) cpu->msr.lstar = v;
        else if (idx == MSR_CSTAR) cpu->msr.cstar = v;
        else if (idx == MSR_FS_BASE) cpu->seg[X86_FS].base = v;
        else if (idx == MSR_GS_BASE) cpu->seg[X86_GS].base = v;
        else cpu->msr.kernel_gs_base = v;
        return 0;
    case MSR_MISC_ENABLE:
        /* Only fast-strings (bit 0) is writable in roam-v1. */
        if (v & ~1ull)
            return emu_gp0(cpu);
        cpu->msr.misc_enable = v;
        return 0;
    case MSR_PAT:
        if (!emu_memtype_ok(v, 8, true))
            return emu_gp0(cpu);
        cpu->msr.pat = v;
        return 0;
    case MSR_MTRR_DEF_TYPE:
        if ((v & ~0xcffull) || !emu_memtype_ok(v & 0xff, 1, false))
            return emu_gp0(cpu);
        cpu->msr.mtrr_def_type = v;
        return 0;
    case MSR_EFER: {
        uint64_t old = cpu->msr.efer;
        if (v & ~(EMU_EFER_SCE | EMU_EFER_LME | EMU_EFER_LMA | EMU_EFER_NXE))
            return emu_gp0(cpu);
        /* LME cannot change while paging is on (SDM Vol. 3A 10.8.5). */
        if ((cpu->cr0 & EMU_CR0_PG) && ((v ^ old) & EMU_EFER_LME))
            return emu_gp0(cpu);
        cpu->msr.efer = (v & ~EMU_EFER_LMA) | (old & EMU_EFER_LMA);
        if ((v ^ old) & EMU_EFER_NXE)
            emu_tlb_flush(cpu, true);
        return 0;
    }
    case MSR_STAR: cpu->msr.star = v; return 0;
    case MSR_SFMASK: cpu->msr.sfmask = v & 0xffffffffu; return 0;
    case MSR_MTRRCAP:
        return emu_gp0(cpu);
    default:
        break;
    }
    if (idx >= MSR_MTRR_PHYSBASE0 && idx < MSR_MTRR_PHYSBASE0 + 2 * X86_MTRR_VAR_COUNT) {
        unsigned n = (idx - MSR_MTRR_PHYSBASE0) / 2;
        if (idx & 1) {
            if (v & (phys_rsvd | 0x7ffull))
                return emu_gp0(cpu);
            cpu->msr.mtrr_var_mask[n] = v;
        } else {
            if ((v & (phys_rsvd | 0xf00ull)) || !emu_memtype_ok(v & 0xff, 1, false))
                return emu_gp0(cpu);
            cpu->msr.mtrr_var_base[n] = v;
        }
        return 0;
    }
    if ((p = emu_msr_fixed_mtrr(cpu, idx))) {
        if (!emu_memtype_ok(v, 8, false))
            return emu_gp0(cpu);
        *p = v;
        return 0;
    }
    return 1;
}
