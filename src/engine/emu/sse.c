/* SSE/SSE2/MMX shared helpers and EMMS. Specs: SDM Vol. 3A 2.5 and 13.1
 * (CR0.EM, CR0.TS, CR4.OSFXSR, CR4.OSXMMEXCPT), Vol. 1 9.5-9.6 (the MMX
 * state aliased on the x87 registers, the x87-MMX transitions), 11.5.3
 * (generating SIMD floating-point exceptions), Vol. 2 EMMS. */
#include "sse.h"
#include "x87.h"

int sse_check(struct emu_cpu *cpu)
{
    if ((cpu->cr0 & EMU_CR0_EM) || !(cpu->cr4 & EMU_CR4_OSFXSR))
        return emu_ud(cpu);
    if (cpu->cr0 & EMU_CR0_TS)
        return emu_raise(cpu, EMU_NM);
    return EMU_OK;
}

int sse_check_mmx(struct emu_cpu *cpu)
{
    if (cpu->cr0 & EMU_CR0_EM)
        return emu_ud(cpu);
    if (cpu->cr0 & EMU_CR0_TS)
        return emu_raise(cpu, EMU_NM);
    if (cpu->fpu.fsw & 0x80)
        return emu_raise(cpu, EMU_MF);
    return EMU_OK;
}

int sse_check_mixed(struct emu_cpu *cpu)
{
    int rc = sse_check(cpu);
    if (rc)
        return rc;
    if (cpu->fpu.fsw & 0x80)
        return emu_raise(cpu, EMU_MF);
    return EMU_OK;
}

/* A 16-byte operand: the linear address decides (a segment base can
 * misalign an aligned offset). The aligned forms raise #GP(0) when it is
 * not 16-byte aligned; the unaligned moves (MOVUPS, MOVUPD, MOVDQU) raise
 * #AC then if alignment checking is on, as hardware does (emu_read and
 * emu_write check only sizes up to 10). Both come before any #PF. */
static int sse_align_check(struct emu_cpu *cpu, const struct emu_insn *in, uint64_t off,
                           bool align, enum emu_access acc)
{
    uint64_t lin;
    int rc = emu_linear(cpu, in->seg, off, 16, acc, &lin);
    if (rc || !(lin & 15))
        return rc;
    if (align)
        return emu_gp0(cpu);
    return x87_ac(cpu, lin, 16) ? emu_raise_err(cpu, EMU_VEC_AC, 0) : EMU_OK;
}

int sse_load(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size, bool align,
             union emu_xmm *out)
{
    uint64_t off = emu_ea(cpu, in);
    if (size == 16 && (align || x87_ac_on(cpu))) {
        int rc = sse_align_check(cpu, in, off, align, EMU_READ);
        if (rc)
            return rc;
    }
    out->q[0] = 0;
    out->q[1] = 0;
    return emu_read(cpu, in->seg, off, size, out->b);
}

int sse_store(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size, bool align,
              const void *data)
{
    uint64_t off = emu_ea(cpu, in);
    if (size == 16 && (align || x87_ac_on(cpu))) {
        int rc = sse_align_check(cpu, in, off, align, EMU_WRITE);
        if (rc)
            return rc;
    }
    return emu_write(cpu, in->seg, off, size, data);
}

int sse_rm_xmm(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size, bool align,
               union emu_xmm *out)
{
    if (in->mod == 3) {
        *out = cpu->fpu.xmm[in->rm];
        return EMU_OK;
    }
    return sse_load(cpu, in, size, align, out);
}

int sse_rm_mm(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size, uint64_t *out)
{
    if (in->mod == 3) {
        *out = sse_mm_get(cpu, in->rm);
        return EMU_OK;
    }
    union emu_xmm t;
    int rc = sse_load(cpu, in, size, false, &t);
    *out = t.q[0];
    return rc;
}

int sse_fp_finish(struct emu_cpu *cpu, const struct softfp *s)
{
    uint32_t unmasked = ~(cpu->fpu.mxcsr >> SOFTFP_MASK_SHIFT) & SOFTFP_FLAGS;
    uint32_t flags = s->pre | s->post;

    if (!flags)
        return EMU_OK;
    if (s->pre & unmasked)
        flags = s->pre;
    /* The flags are set even when the instruction traps: the handler reads them. */
    cpu->fpu.mxcsr |= flags;
    if (!(flags & unmasked))
        return EMU_OK;
    if (cpu->cr4 & EMU_CR4_OSXMMEXCPT)
        return emu_raise(cpu, EMU_XM);
    return emu_ud(cpu);
}

/* EMMS: every x87 register empty and TOP = 0 (SDM Vol. 1 Table 9-2; the
 * hardware agrees). 66/F2/F3 0F 77 are not EMMS (Vol. 2D Table A-3): #UD. */
int sse_emms(struct emu_cpu *cpu, const struct emu_insn *in)
{
    if (emu_sse_prefix(in) != SSE_NP)
        return emu_ud(cpu);
    int rc = sse_check_mmx(cpu);
    if (rc)
        return rc;
    cpu->fpu.fsw &= (uint16_t)~(7u << 11);
    cpu->fpu.ftw = 0;
    return EMU_OK;
}
