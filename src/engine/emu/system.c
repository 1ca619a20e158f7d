/* System instructions: control and debug registers, descriptor-table
 * registers (group 6 and 7), LAR/LSL/VERR/VERW, HLT, CLI/STI, CLTS,
 * INVD/WBINVD, MSRs, time-stamp counter, CPUID, SYSCALL/SYSRET and
 * SYSENTER/SYSEXIT. Spec: Intel SDM Vol. 2 (each instruction's
 * pseudo-code), Vol. 3A 2.5 (control registers), 2.8.7 / 4.10.4 (TLB
 * invalidation on CR writes), 5.8.7-5.8.8 (SYSENTER/SYSCALL), 10.8.5
 * (activating IA-32e mode), 18.2 (debug registers); AMD APM Vol. 3 for
 * SYSCALL/SYSRET outside 64-bit mode (compatibility and legacy mode, CSTAR).
 * Those forms are kept whatever the model's vendor: Intel silicon raises
 * #UD there, but this project's KVM hosts (AMD, CPL3 native) and QEMU TCG
 * run them, and a guest that believes the GenuineIntel vendor never uses
 * them (Linux sets SYSCALL32 only for AMD). SYSENTER/SYSEXIT follow the
 * vendor: #UD in long mode on AMD.
 *
 * Not implemented: breakpoint matching on DR0-DR3 (the registers are
 * stored; fetch and data accesses do not compare them), VME/PVI (not in
 * roam-v1). DR7.GD is implemented: MOV DR then raises #DB. MONITOR/MWAIT,
 * XGETBV, VMX/SVM and the other group 7 encodings outside roam-v1 are #UD. */
#include "handlers.h"
#include "sys.h"

bool sys_vendor_amd(struct emu_cpu *cpu)
{
    uint32_t r[4];

    emu_cpuid(cpu, 0, 0, r);
    return r[1] == 0x68747541u; /* "Auth" */
}

static bool sys_cpuid_bit(struct emu_cpu *cpu, uint32_t leaf, unsigned reg, unsigned bit)
{
    uint32_t r[4];

    emu_cpuid(cpu, leaf, 0, r);
    return (r[reg] >> bit) & 1;
}

/* ---- control registers ---- */

#define CR0_VALID                                                                          \
    (EMU_CR0_PE | EMU_CR0_MP | EMU_CR0_EM | EMU_CR0_TS | EMU_CR0_ET | EMU_CR0_NE |         \
     EMU_CR0_WP | EMU_CR0_AM | EMU_CR0_NW | EMU_CR0_CD | EMU_CR0_PG)
/* roam-v1 CR4: no VME/PVI (no VME in CPUID), no PCIDE, OSXSAVE, SMEP, ... */
#define CR4_VALID                                                                          \
    (EMU_CR4_TSD | EMU_CR4_DE | EMU_CR4_PSE | EMU_CR4_PAE | EMU_CR4_MCE | EMU_CR4_PGE |    \
     EMU_CR4_PCE | EMU_CR4_OSFXSR | EMU_CR4_OSXMMEXCPT)

static unsigned sys_maxphyaddr(struct emu_cpu *cpu)
{
    uint32_t r[4];

    emu_cpuid(cpu, 0x80000008u, 0, r);
    return (r[0] & 0xff) ? (r[0] & 0xff) : 36;
}

/* PAE paging outside IA-32e mode loads the four PDPTEs when CR3 is written
 * and when CR0/CR4 changes select or alter PAE paging; a present PDPTE
 * with a reserved bit set is #GP(0) (SDM Vol. 3A 4.4.1). */
static int sys_pdptes_check(struct emu_cpu *cpu, uint64_t cr3)
{
    uint64_t rsvd = 0x1e6ull | ~((1ull << sys_maxphyaddr(cpu)) - 1);
    const uint8_t *p = emu_phys_ptr(cpu->vm, cr3 & 0xffffffe0u, 32);

    if (!p)
        return EMU_OK; /* not RAM: the walks will find nothing there either */
    for (unsigned i = 0; i < 4; i++) {
        uint64_t e;
        memcpy(&e, p + 8 * i, 8);
        if ((e & 1) && (e & rsvd))
            return emu_gp0(cpu);
    }
    return EMU_OK;
}

/* MOV to CR0 (SDM Vol. 3A 2.5, 10.8.5): bits 63:32 must be 0, the low
 * reserved bits are ignored, ET reads as 1. Setting PG with EFER.LME
 * enters IA-32e mode (needs CR4.PAE); clearing it leaves (not from 64-bit
 * code). */
static int sys_cr0_write(struct emu_cpu *cpu, uint64_t v)
{
    uint64_t old = cpu->cr0, efer = cpu->msr.efer;

    if (v >> 32)
        return emu_gp0(cpu);
    v = (v & CR0_VALID) | EMU_CR0_ET;
    if (((v & EMU_CR0_PG) && !(v & EMU_CR0_PE)) || ((v & EMU_CR0_NW) && !(v & EMU_CR0_CD)))
        return emu_gp0(cpu);
    if (!(old & EMU_CR0_PG) && (v & EMU_CR0_PG) && (efer & EMU_EFER_LME)) {
        if (!(cpu->cr4 & EMU_CR4_PAE) || cpu->seg[X86_CS].l)
            return emu_gp0(cpu);
        efer |= EMU_EFER_LMA;
    }
    if ((old & EMU_CR0_PG) && !(v & EMU_CR0_PG) && (efer & EMU_EFER_LMA)) {
        if (cpu->code64)
            return emu_gp0(cpu);
        efer &= ~EMU_EFER_LMA;
    }
    if ((v & EMU_CR0_PG) && (cpu->cr4 & EMU_CR4_PAE) && !(efer & EMU_EFER_LMA) &&
        ((old ^ v) & (EMU_CR0_PG | EMU_CR0_CD | EMU_CR0_NW))) {
        int rc = sys_pdptes_check(cpu, cpu->cr3);
        if (rc != EMU_OK)
            return rc;
    }
    cpu->cr0 = v;
    cpu->msr.efer = efer;
    /* Paging on/off and WP change every translation (global ones too). */
    if ((old ^ v) & (EMU_CR0_PG | EMU_CR0_WP | EMU_CR0_PE))
        emu_tlb_flush(cpu, true);
    emu_mode_update(cpu);
    return EMU_OK;
}

static int sys_cr3_write(struct emu_cpu *cpu, uint64_t v)
{
    if (cpu->long_mode) {
        /* Bits above MAXPHYADDR are reserved (no PCID in roam-v1). */
        unsigned maxphy = sys_maxphyaddr(cpu);
        if (maxphy < 64 && (v >> maxphy))
            return emu_gp0(cpu);
    } else if ((cpu->cr0 & EMU_CR0_PG) && (cpu->cr4 & EMU_CR4_PAE)) {
        int rc = sys_pdptes_check(cpu, v);
        if (rc != EMU_OK)
            return rc;
    }
    cpu->cr3 = v;
    emu_tlb_flush(cpu, false);
    return EMU_OK;
}

static int sys_cr4_write(struct emu_cpu *cpu, uint64_t v)
{
    uint64_t old = cpu->cr4;

    if ((v & ~(uint64_t)CR4_VALID) || (cpu->long_mode && !(v & EMU_CR4_PAE)))
        return emu_gp0(cpu);
    if ((cpu->cr0 & EMU_CR0_PG) && !cpu->long_mode && (v & EMU_CR4_PAE) &&
        ((old ^ v) & (EMU_CR4_PAE | EMU_CR4_PGE | EMU_CR4_PSE))) {
        int rc = sys_pdptes_check(cpu, cpu->cr3);
        if (rc != EMU_OK)
            return rc;
    }
    cpu->cr4 = v;
    /* PGE, PAE and PSE changes flush global translations as well. */
    if ((old ^ v) & (EMU_CR4_PGE | EMU_CR4_PAE | EMU_CR4_PSE))
        emu_tlb_flush(cpu, true);
    emu_mode_update(cpu);
    return EMU_OK;
}

/* 0F 20 / 0F 22: MOV r, CRn / MOV CRn, r (always register operands). */
int system_mov_cr(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned cr = in->reg, size = cpu->code64 ? 8 : 4;
    uint64_t v;

    if (cr != 0 && cr != 2 && cr != 3 && cr != 4 && cr != 8)
        return emu_ud(cpu);
    if (cpu->cpl != 0)
        return emu_gp0(cpu);
    if (in->opcode == 0x120) {
        switch (cr) {
        case 0: v = cpu->cr0; break;
        case 2: v = cpu->cr2; break;
        case 3: v = cpu->cr3; break;
        case 4: v = cpu->cr4; break;
        default: v = cpu->cr8; break;
        }
        emu_reg_set(cpu, in, in->rm, size, v);
        return EMU_OK;
    }
    v = emu_reg_get(cpu, in, in->rm, size);
    switch (cr) {
    case 0:
        return sys_cr0_write(cpu, v);
    case 2:
        cpu->cr2 = v;
        return EMU_OK;
    case 3:
        return sys_cr3_write(cpu, v);
    case 4:
        return sys_cr4_write(cpu, v);
    default:
        /* CR8 is the TPR's priority class; bits 63:4 are reserved. */
        if (v & ~0xfull)
            return emu_gp0(cpu);
        cpu->cr8 = v;
        return EMU_OK;
    }
}

/* 0F 21 / 0F 23: MOV r, DRn / MOV DRn, r. DR4/DR5 alias DR6/DR7 unless
 * CR4.DE; DR6/DR7 keep their fixed bits (SDM Vol. 3A 18.2.3-18.2.4). */
int system_mov_dr(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned dr = in->reg, size = cpu->code64 ? 8 : 4;
    uint64_t v;

    if (dr > 7 || ((dr == 4 || dr == 5) && (cpu->cr4 & EMU_CR4_DE)))
        return emu_ud(cpu);
    if (cpu->cpl != 0)
        return emu_gp0(cpu);
    if (cpu->dr7 & (1u << 13)) {
        /* General detect: #DB fault with DR6.BD; GD is cleared so that the
         * handler can use the debug registers (SDM Vol. 3A 18.2.4). */
        cpu->dr6 |= 1u << 13;
        cpu->dr7 &= ~(1ull << 13);
        return emu_raise(cpu, EMU_DB);
    }
    if (dr == 4 || dr == 5)
        dr += 2;
    if (in->opcode == 0x121) {
        v = dr < 4 ? cpu->dr[dr] : dr == 6 ? cpu->dr6 : cpu->dr7;
        emu_reg_set(cpu, in, in->rm, size, v);
        return EMU_OK;
    }
    v = emu_reg_get(cpu, in, in->rm, size);
    if (dr < 4) {
        cpu->dr[dr] = v;
        return EMU_OK;
    }
    if (v >> 32)
        return emu_gp0(cpu);
    if (dr == 6)
        cpu->dr6 = (v & 0xe00f) | 0xffff0ff0u;
    else
        cpu->dr7 = (v & 0xffff2bffu) | 0x400;
    return EMU_OK;
}

/* 0F 06: CLTS. */
int system_clts(struct emu_cpu *cpu, const struct emu_insn *in)
{
    (void)in;
    if (cpu->cpl != 0)
        return emu_gp0(cpu);
    cpu->cr0 &= ~EMU_CR0_TS;
    return EMU_OK;
}

/* ---- group 6: SLDT, STR, LLDT, LTR, VERR, VERW ---- */

/* Loads LDTR or TR from the GDT (SDM Vol. 2 LLDT, LTR). */
static int sys_load_sysreg(struct emu_cpu *cpu, bool tr, uint16_t sel)
{
    struct sys_desc d;
    bool lm = cpu->long_mode != 0;
    int rc;

    if (!(sel & 0xfffc)) {
        if (tr)
            return emu_gp0(cpu);
        sys_seg_null(cpu, X86_LDTR, sel, 0);
        return EMU_OK;
    }
    if (sel & 4)
        return emu_raise_err(cpu, EMU_GP, sys_selerr(sel, false));
    rc = sys_desc_fetch(cpu, sel, lm, EMU_GP, false, &d);
    if (rc != EMU_OK)
        return rc;
    bool ok = !d.seg.s && (tr ? (d.seg.type == 9 || (!lm && d.seg.type == 1)) : d.seg.type == 2);
    if (ok && lm)
        ok = !((d.hi >> 40) & 0x1f) && emu_canonical(d.seg.base);
    if (!ok)
        return emu_raise_err(cpu, EMU_GP, sys_selerr(sel, false));
    if (!d.seg.present)
        return emu_raise_err(cpu, EMU_NP, sys_selerr(sel, false));
    if (tr) {
        rc = sys_desc_touch(cpu, &d, 2); /* busy */
        if (rc != EMU_OK)
            return rc;
    }
    cpu->seg[tr ? X86_TR : X86_LDTR] = d.seg;
    return EMU_OK;
}

/* VERR/VERW: ZF = the segment can be read/written at CPL and RPL. */
static int sys_verify(struct emu_cpu *cpu, uint16_t sel, bool write)
{
    bool ok = false;
    struct sys_desc d;
    int rc;

    if ((sel & 0xfffc) && sys_desc_in_table(cpu, sel, 8)) {
        rc = sys_desc_fetch(cpu, sel, false, EMU_GP, false, &d);
        if (rc != EMU_OK)
            return rc;
        const struct x86_segment *s = &d.seg;
        ok = write ? sys_is_writable_data(s) : sys_is_readable(s);
        if (ok && !sys_is_conforming(s) && (s->dpl < cpu->cpl || s->dpl < (sel & 3)))
            ok = false;
    }
    uint64_t f = emu_flags_get(cpu) & EMU_ARITH_FLAGS & ~(uint64_t)EMU_ZF;
    emu_flags_set_arith(cpu, f | (ok ? EMU_ZF : 0));
    return EMU_OK;
}

int system_grp6(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned op = in->reg & 7;
    uint64_t v;
    int rc;

    if (op > 5 || !sys_pmode(cpu) || sys_vm86(cpu))
        return emu_ud(cpu);
    if (op < 2) {
        v = cpu->seg[op == 0 ? X86_LDTR : X86_TR].selector;
        return emu_rm_write(cpu, in, in->mod == 3 ? in->opsize : 2, v);
    }
    if (op < 4 && cpu->cpl != 0)
        return emu_gp0(cpu);
    rc = emu_rm_read(cpu, in, 2, &v);
    if (rc != EMU_OK)
        return rc;
    if (op < 4)
        return sys_load_sysreg(cpu, op == 3, (uint16_t)v);
    return sys_verify(cpu, (uint16_t)v, op == 5);
}

/* 0F 02 / 0F 03: LAR / LSL. ZF says whether the descriptor is visible at
 * CPL and RPL and of a type the instruction accepts. */
int system_lar_lsl(struct emu_cpu *cpu, const struct emu_insn *in)
{
    bool lsl = in->opcode == 0x103, ok = false;
    struct sys_desc d;
    uint64_t v;
    int rc;

    if (!sys_pmode(cpu) || sys_vm86(cpu))
        return emu_ud(cpu);
    rc = emu_rm_read(cpu, in, 2, &v);
    if (rc != EMU_OK)
        return rc;
    uint16_t sel = (uint16_t)v;
    if ((sel & 0xfffc) && sys_desc_in_table(cpu, sel, 8)) {
        rc = sys_desc_fetch(cpu, sel, false, EMU_GP, false, &d);
        if (rc != EMU_OK)
            return rc;
        const struct x86_segment *s = &d.seg;
        if (s->s) {
            ok = true;
        } else {
            /* LDT, TSS (and for LAR call gates; legacy: 16-bit ones and task gates). */
            static const uint16_t lar_legacy = 0x1a3e, lar_long = 0x1a04;
            static const uint16_t lsl_legacy = 0x0a0e, lsl_long = 0x0a04;
            uint16_t set = lsl ? (cpu->long_mode ? lsl_long : lsl_legacy)
                               : (cpu->long_mode ? lar_long : lar_legacy);
            ok = (set >> s->type) & 1;
        }
        if (ok && !sys_is_conforming(s) && (s->dpl < cpu->cpl || s->dpl < (sel & 3)))
            ok = false;
    }
    uint64_t f = emu_flags_get(cpu) & EMU_ARITH_FLAGS & ~(uint64_t)EMU_ZF;
    if (ok) {
        uint64_t r = lsl ? d.seg.limit : (d.lo >> 32) & 0x00f0ff00u;
        emu_reg_set(cpu, in, in->reg, in->opsize, in->opsize == 2 ? r & 0xffff : r);
    }
    emu_flags_set_arith(cpu, f | (ok ? EMU_ZF : 0));
    return EMU_OK;
}

/* ---- group 7 ---- */

/* SGDT/SIDT (store, any CPL: no UMIP in roam-v1) and LGDT/LIDT. Outside
 * 64-bit mode the base is 32 bits (24 for a 16-bit LGDT/LIDT). */
static int sys_dtable(struct emu_cpu *cpu, const struct emu_insn *in, unsigned op)
{
    struct x86_dtable *t = (op & 1) ? &cpu->idtr : &cpu->gdtr;
    unsigned len = cpu->code64 ? 10 : 6;
    uint64_t ea = emu_ea(cpu, in);
    uint8_t buf[10];
    int rc;

    if (op < 2) {
        memcpy(buf, &t->limit, 2);
        memcpy(buf + 2, &t->base, len - 2);
        return emu_write(cpu, in->seg, ea, len, buf);
    }
    if (cpu->cpl != 0)
        return emu_gp0(cpu);
    rc = emu_read(cpu, in->seg, ea, len, buf);
    if (rc != EMU_OK)
        return rc;
    uint16_t limit;
    uint64_t base = 0;
    memcpy(&limit, buf, 2);
    memcpy(&base, buf + 2, len - 2);
    if (!cpu->code64 && in->opsize == 2)
        base &= 0xffffff;
    if (cpu->code64 && !emu_canonical(base))
        return emu_gp0(cpu);
    t->base = base;
    t->limit = limit;
    return EMU_OK;
}

/* LMSW: the low four bits of CR0; PE can be set, not cleared. */
static int sys_lmsw(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t v;
    int rc;

    if (cpu->cpl != 0)
        return emu_gp0(cpu);
    rc = emu_rm_read(cpu, in, 2, &v);
    if (rc != EMU_OK)
        return rc;
    return sys_cr0_write(cpu, (cpu->cr0 & ~0xeull) | (v & 0xf));
}

static int sys_rdtscp(struct emu_cpu *cpu)
{
    /* Only where the CPU model has it (CPUID.80000001H:EDX.RDTSCP[27]);
     * roam-v1 does not, so it is #UD there, as on KVM with that model. */
    if (!sys_cpuid_bit(cpu, 0x80000001u, 3, 27))
        return emu_ud(cpu);
    if ((cpu->cr4 & EMU_CR4_TSD) && cpu->cpl != 0)
        return emu_gp0(cpu);
    uint64_t t = emu_tsc_read(cpu);
    cpu->gpr[X86_RAX] = t & 0xffffffffu;
    cpu->gpr[X86_RDX] = t >> 32;
    cpu->gpr[X86_RCX] = cpu->tsc_aux;
    return EMU_OK;
}

int system_grp7(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned op = in->reg & 7;

    if (in->mod == 3) {
        switch (op) {
        case 4:
            return emu_rm_write(cpu, in, in->opsize, cpu->cr0);
        case 6:
            return sys_lmsw(cpu, in);
        case 7:
            if ((in->rm & 7) == 0) { /* SWAPGS */
                if (!cpu->code64)
                    return emu_ud(cpu);
                if (cpu->cpl != 0)
                    return emu_gp0(cpu);
                uint64_t t = cpu->seg[X86_GS].base;
                cpu->seg[X86_GS].base = cpu->msr.kernel_gs_base;
                cpu->msr.kernel_gs_base = t;
                return EMU_OK;
            }
            if ((in->rm & 7) == 1)
                return sys_rdtscp(cpu);
            return emu_ud(cpu);
        default:
            /* VMX, MONITOR/MWAIT, CLAC/STAC, XGETBV/XSETBV, SVM, ... */
            return emu_ud(cpu);
        }
    }
    switch (op) {
    case 0: case 1: case 2: case 3:
        return sys_dtable(cpu, in, op);
    case 4:
        return emu_rm_write(cpu, in, 2, cpu->cr0 & 0xffff);
    case 6:
        return sys_lmsw(cpu, in);
    case 7: {
        /* INVLPG m: no segment limit checks, just the linear address. */
        if (cpu->cpl != 0)
            return emu_gp0(cpu);
        uint64_t lin = emu_ea(cpu, in);
        if (!cpu->code64 || in->seg == X86_FS || in->seg == X86_GS)
            lin += cpu->seg[in->seg].base;
        if (!cpu->code64)
            lin &= 0xffffffffu;
        emu_tlb_flush_page(cpu, lin);
        return EMU_OK;
    }
    default:
        return emu_ud(cpu);
    }
}

/* ---- HLT, CLI/STI, caches ---- */

int system_hlt(struct emu_cpu *cpu, const struct emu_insn *in)
{
    (void)in;
    if (cpu->cpl != 0)
        return emu_gp0(cpu);
    return EMU_HLT;
}

/* CLI/STI: allowed when CPL <= IOPL (IOPL 3 in virtual-8086 mode; no
 * VME/PVI in roam-v1). STI that sets IF holds interrupts off for one more
 * instruction. */
int system_cli_sti(struct emu_cpu *cpu, const struct emu_insn *in)
{
    if (sys_pmode(cpu) && cpu->cpl > sys_iopl(cpu))
        return emu_gp0(cpu);
    if (in->opcode == 0xfa) {
        cpu->rflags &= ~(uint64_t)EMU_IF;
    } else if (!(cpu->rflags & EMU_IF)) {
        cpu->rflags |= EMU_IF;
        cpu->shadow_next = X86_SHADOW_STI;
    }
    return EMU_OK;
}

/* INVD, WBINVD: CPL0; there are no caches to write back. */
int system_cache(struct emu_cpu *cpu, const struct emu_insn *in)
{
    (void)in;
    return cpu->cpl != 0 ? emu_gp0(cpu) : EMU_OK;
}

/* ---- MSRs, TSC, PMC, CPUID ---- */

static void sys_edx_eax(struct emu_cpu *cpu, uint64_t v)
{
    cpu->gpr[X86_RAX] = v & 0xffffffffu;
    cpu->gpr[X86_RDX] = v >> 32;
}

/* 0F 32 RDMSR / 0F 30 WRMSR. MSRs the engine does not keep (APIC base,
 * unknown ones) go to the core (emu_msr_core: an exit, then the
 * instruction runs again with the answer); a refusal is #GP(0). */
int system_msr(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint32_t idx = (uint32_t)cpu->gpr[X86_RCX];
    bool rd = in->opcode == 0x132, refused = false;
    uint64_t v = 0;
    int rc;

    if (cpu->cpl != 0)
        return emu_gp0(cpu);
    if (rd) {
        rc = emu_msr_read(cpu, idx, &v);
    } else {
        v = (cpu->gpr[X86_RDX] << 32) | (cpu->gpr[X86_RAX] & 0xffffffffu);
        rc = emu_msr_write(cpu, idx, v);
    }
    if (rc == 1) {
        rc = emu_msr_core(cpu, idx, !rd, &v, &refused);
        if (rc == EMU_OK && refused)
            return emu_gp0(cpu);
    }
    if (rc != EMU_OK)
        return rc;
    if (rd)
        sys_edx_eax(cpu, v);
    return EMU_OK;
}

int system_rdtsc(struct emu_cpu *cpu, const struct emu_insn *in)
{
    (void)in;
    if ((cpu->cr4 & EMU_CR4_TSD) && cpu->cpl != 0)
        return emu_gp0(cpu);
    sys_edx_eax(cpu, emu_tsc_read(cpu));
    return EMU_OK;
}

/* RDPMC: roam-v1 has no performance counters, so every counter index is
 * invalid: #GP(0) (also the answer at CPL > 0 with CR4.PCE = 0). */
int system_rdpmc(struct emu_cpu *cpu, const struct emu_insn *in)
{
    (void)in;
    return emu_gp0(cpu);
}

int system_cpuid(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint32_t r[4];

    (void)in;
    emu_cpuid(cpu, (uint32_t)cpu->gpr[X86_RAX], (uint32_t)cpu->gpr[X86_RCX], r);
    cpu->gpr[X86_RAX] = r[0];
    cpu->gpr[X86_RBX] = r[1];
    cpu->gpr[X86_RCX] = r[2];
    cpu->gpr[X86_RDX] = r[3];
    return EMU_OK;
}

/* ---- fast system calls ---- */

/* The flat segments SYSCALL/SYSRET/SYSENTER/SYSEXIT load without reading
 * the GDT (SDM Vol. 2 SYSCALL: base 0, limit 4 GiB, accessed). */
static void sys_flat(struct x86_segment *s, uint16_t sel, bool code, unsigned dpl, bool l)
{
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->limit = 0xffffffffu;
    s->g = 1;
    s->s = 1;
    s->present = 1;
    s->dpl = (uint8_t)dpl;
    s->type = code ? 0xb : 0x3;
    s->l = code && l;
    s->db = !s->l;
}

/* Loads SS, RFLAGS, CS and RIP of a fast system call or return. */
static void sys_fast_commit(struct emu_cpu *cpu, const struct x86_segment *cs,
                            const struct x86_segment *ss, uint64_t flags, uint64_t rip)
{
    cpu->seg[X86_SS] = *ss;
    emu_flags_load(cpu, flags);
    emu_cs_set(cpu, cs);
    cpu->next_rip = rip;
}

/* 0F 05: SYSCALL: 64-bit mode (LSTAR); with an AMD vendor also
 * compatibility mode (CSTAR) and legacy mode (STAR[31:0]; ECX = return
 * EIP, IF/VM/RF cleared). Intel, roam-v1's vendor, raises #UD there. */
int system_syscall(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint16_t sel = (uint16_t)(cpu->msr.star >> 32);
    struct x86_segment cs, ss;
    uint64_t flags, rip;

    (void)in;
    if (!(cpu->msr.efer & EMU_EFER_SCE) || !sys_pmode(cpu) || sys_vm86(cpu))
        return emu_ud(cpu);
    /* Intel (roam-v1's vendor): SYSCALL only in 64-bit mode. */
    if (!cpu->code64 && !sys_vendor_amd(cpu))
        return emu_ud(cpu);
    flags = emu_flags_get(cpu);
    sys_flat(&ss, (uint16_t)(sel + 8), false, 0, false);
    if (cpu->long_mode) {
        sys_flat(&cs, sel & 0xfffc, true, 0, true);
        cpu->gpr[X86_RCX] = cpu->next_rip;
        cpu->gpr[X86_R11] = flags & ~(uint64_t)EMU_RF;
        rip = cpu->code64 ? cpu->msr.lstar : cpu->msr.cstar;
        flags &= ~(cpu->msr.sfmask | EMU_RF);
    } else {
        sys_flat(&cs, sel & 0xfffc, true, 0, false);
        cpu->gpr[X86_RCX] = cpu->next_rip & 0xffffffffu;
        rip = cpu->msr.star & 0xffffffffu;
        flags &= ~(uint64_t)(EMU_IF | EMU_RF | EMU_VM);
    }
    sys_fast_commit(cpu, &cs, &ss, flags, rip);
    return EMU_OK;
}

/* 0F 07: SYSRET (REX.W: to 64-bit code). Intel raises #GP(0) for a
 * non-canonical RCX at CPL0, before anything changes. */
int system_sysret(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint16_t sel = (uint16_t)(cpu->msr.star >> 48);
    struct x86_segment cs, ss;
    uint64_t flags, rip;

    if (!(cpu->msr.efer & EMU_EFER_SCE) || !sys_pmode(cpu))
        return emu_ud(cpu);
    /* Intel: SYSRET only in 64-bit mode. */
    if (!cpu->code64 && !sys_vendor_amd(cpu))
        return emu_ud(cpu);
    if (cpu->cpl != 0)
        return emu_gp0(cpu);
    sys_flat(&ss, (uint16_t)((sel + 8) | 3), false, 3, false);
    if (cpu->long_mode) {
        if (in->opsize == 8) {
            if (!emu_canonical(cpu->gpr[X86_RCX]))
                return emu_gp0(cpu);
            sys_flat(&cs, (uint16_t)((sel + 16) | 3), true, 3, true);
            rip = cpu->gpr[X86_RCX];
        } else {
            sys_flat(&cs, (uint16_t)(sel | 3), true, 3, false);
            rip = cpu->gpr[X86_RCX] & 0xffffffffu;
        }
        flags = (cpu->gpr[X86_R11] & 0x3c7fd7) | 2;
    } else {
        sys_flat(&cs, (uint16_t)(sel | 3), true, 3, false);
        rip = cpu->gpr[X86_RCX] & 0xffffffffu;
        flags = emu_flags_get(cpu) | EMU_IF;
    }
    sys_fast_commit(cpu, &cs, &ss, flags, rip);
    return EMU_OK;
}

/* 0F 34: SYSENTER (Intel: also in IA-32e mode; AMD: not in long mode). */
int system_sysenter(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint16_t sel = (uint16_t)(cpu->msr.sysenter_cs & 0xfffc);
    struct x86_segment cs, ss;
    bool lm = cpu->long_mode != 0;
    uint64_t flags;

    (void)in;
    if (lm && sys_vendor_amd(cpu))
        return emu_ud(cpu);
    if (!sys_pmode(cpu) || !sel)
        return emu_gp0(cpu);
    flags = emu_flags_get(cpu) & ~(uint64_t)(EMU_VM | EMU_IF | EMU_RF);
    sys_flat(&cs, sel, true, 0, lm);
    sys_flat(&ss, (uint16_t)(sel + 8), false, 0, false);
    cpu->gpr[X86_RSP] = lm ? cpu->msr.sysenter_esp : cpu->msr.sysenter_esp & 0xffffffffu;
    sys_fast_commit(cpu, &cs, &ss, flags,
                    lm ? cpu->msr.sysenter_eip : cpu->msr.sysenter_eip & 0xffffffffu);
    return EMU_OK;
}

/* 0F 35: SYSEXIT (REX.W: to 64-bit code, CS = SYSENTER_CS + 32). */
int system_sysexit(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint16_t base = (uint16_t)cpu->msr.sysenter_cs;
    struct x86_segment cs, ss;
    bool to64 = in->opsize == 8;
    uint64_t rsp, rip;

    if (cpu->long_mode && sys_vendor_amd(cpu))
        return emu_ud(cpu);
    if (!sys_pmode(cpu) || !(base & 0xfffc) || cpu->cpl != 0)
        return emu_gp0(cpu);
    rsp = to64 ? cpu->gpr[X86_RCX] : cpu->gpr[X86_RCX] & 0xffffffffu;
    rip = to64 ? cpu->gpr[X86_RDX] : cpu->gpr[X86_RDX] & 0xffffffffu;
    if (to64 && (!emu_canonical(rsp) || !emu_canonical(rip)))
        return emu_gp0(cpu);
    sys_flat(&cs, (uint16_t)((base + (to64 ? 32 : 16)) | 3), true, 3, to64);
    sys_flat(&ss, (uint16_t)((base + (to64 ? 40 : 24)) | 3), false, 3, false);
    cpu->gpr[X86_RSP] = rsp;
    sys_fast_commit(cpu, &cs, &ss, emu_flags_get(cpu), rip);
    return EMU_OK;
}
