/* SSE/SSE2 shuffles and unpacks (SDM Vol. 2): UNPCKLPS/HPS/LPD/HPD,
 * SHUFPS/SHUFPD, PSHUFW/PSHUFD/PSHUFHW/PSHUFLW, PINSRW, PEXTRW (MMX and
 * XMM forms). Encodings per Vol. 2D Appendix A, Table A-3. */
#include "sse.h"

/* 0F 14/15: UNPCKLPS/UNPCKHPS (NP), UNPCKLPD/UNPCKHPD (66). */
static int shuf_unpck(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    union emu_xmm *d = &cpu->fpu.xmm[in->reg];
    union emu_xmm s, r;
    unsigned hi = in->opcode & 1;
    int rc;

    if (pfx > SSE_66)
        return emu_ud(cpu);
    rc = sse_check(cpu);
    if (!rc)
        rc = sse_rm_xmm(cpu, in, 16, true, &s);
    if (rc)
        return rc;
    if (pfx == SSE_NP) {
        r.d[0] = d->d[2 * hi];
        r.d[1] = s.d[2 * hi];
        r.d[2] = d->d[2 * hi + 1];
        r.d[3] = s.d[2 * hi + 1];
    } else {
        r.q[0] = d->q[hi];
        r.q[1] = s.q[hi];
    }
    *d = r;
    return EMU_OK;
}

/* 0F C6: SHUFPS (NP), SHUFPD (66). */
static int shuf_shufp(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    union emu_xmm *d = &cpu->fpu.xmm[in->reg];
    union emu_xmm s, r;
    unsigned imm = (unsigned)in->imm & 0xff;
    int rc;

    if (pfx > SSE_66)
        return emu_ud(cpu);
    rc = sse_check(cpu);
    if (!rc)
        rc = sse_rm_xmm(cpu, in, 16, true, &s);
    if (rc)
        return rc;
    if (pfx == SSE_NP) {
        r.d[0] = d->d[imm & 3];
        r.d[1] = d->d[(imm >> 2) & 3];
        r.d[2] = s.d[(imm >> 4) & 3];
        r.d[3] = s.d[(imm >> 6) & 3];
    } else {
        r.q[0] = d->q[imm & 1];
        r.q[1] = s.q[(imm >> 1) & 1];
    }
    *d = r;
    return EMU_OK;
}

/* 0F 70: PSHUFW mm (NP), PSHUFD (66), PSHUFHW (F3), PSHUFLW (F2). */
static int shuf_pshuf(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    unsigned imm = (unsigned)in->imm & 0xff;
    union emu_xmm s, r;
    int rc;

    if (pfx == SSE_NP) {
        uint64_t v, out = 0;
        rc = sse_check_mmx(cpu);
        if (!rc)
            rc = sse_rm_mm(cpu, in, 8, &v);
        if (rc)
            return rc;
        for (unsigned i = 0; i < 4; i++)
            out |= ((v >> (16 * ((imm >> (2 * i)) & 3))) & 0xffff) << (16 * i);
        sse_mmx_enter(cpu);
        sse_mm_set(cpu, in->reg, out);
        return EMU_OK;
    }
    rc = sse_check(cpu);
    if (!rc)
        rc = sse_rm_xmm(cpu, in, 16, true, &s);
    if (rc)
        return rc;
    r = s;
    if (pfx == SSE_66) {
        for (unsigned i = 0; i < 4; i++)
            r.d[i] = s.d[(imm >> (2 * i)) & 3];
    } else {
        unsigned base = pfx == SSE_F3 ? 4 : 0;
        for (unsigned i = 0; i < 4; i++)
            r.w[base + i] = s.w[base + ((imm >> (2 * i)) & 3)];
    }
    cpu->fpu.xmm[in->reg] = r;
    return EMU_OK;
}

/* 0F C4: PINSRW mm/xmm, r32/m16, imm8. */
static int shuf_pinsrw(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    uint64_t v;
    int rc;

    if (pfx > SSE_66)
        return emu_ud(cpu);
    rc = pfx == SSE_66 ? sse_check(cpu) : sse_check_mmx(cpu);
    if (!rc)
        rc = emu_rm_read(cpu, in, 2, &v);
    if (rc)
        return rc;
    if (pfx == SSE_66) {
        cpu->fpu.xmm[in->reg].w[in->imm & 7] = (uint16_t)v;
        return EMU_OK;
    }
    unsigned sh = 16 * (unsigned)(in->imm & 3);
    uint64_t m = sse_mm_get(cpu, in->reg);
    m = (m & ~(0xffffull << sh)) | ((v & 0xffff) << sh);
    sse_mmx_enter(cpu);
    sse_mm_set(cpu, in->reg, m);
    return EMU_OK;
}

/* 0F C5: PEXTRW r32, mm/xmm, imm8 (register source only). */
static int shuf_pextrw(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    unsigned size = (in->rex & 8) ? 8 : 4;
    uint64_t v;
    int rc;

    if (pfx > SSE_66 || in->mod != 3)
        return emu_ud(cpu);
    if (pfx == SSE_66) {
        rc = sse_check(cpu);
        if (rc)
            return rc;
        v = cpu->fpu.xmm[in->rm].w[in->imm & 7];
    } else {
        rc = sse_check_mmx(cpu);
        if (rc)
            return rc;
        v = (sse_mm_get(cpu, in->rm) >> (16 * (in->imm & 3))) & 0xffff;
        sse_mmx_enter(cpu);
    }
    emu_reg_set(cpu, in, in->reg, size, v);
    return EMU_OK;
}

int sse_shuffle(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned pfx = emu_sse_prefix(in);

    switch (in->opcode & 0xff) {
    case 0x14:
    case 0x15:
        return shuf_unpck(cpu, in, pfx);
    case 0x70:
        return shuf_pshuf(cpu, in, pfx);
    case 0xc4:
        return shuf_pinsrw(cpu, in, pfx);
    case 0xc5:
        return shuf_pextrw(cpu, in, pfx);
    case 0xc6:
        return shuf_shufp(cpu, in, pfx);
    default:
        return emu_ud(cpu);
    }
}
