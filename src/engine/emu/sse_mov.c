/* SSE/SSE2/MMX data movement (SDM Vol. 2): MOVUPS/UPD/SS/SD, MOVAPS/APD,
 * MOVLPS/LPD/HPS/HPD, MOVHLPS/LHPS, MOVNTPS/PD, MOVMSKPS/PD, MOVD/MOVQ
 * (0F 6E/7E/6F/7F, 66 0F D6, F3 0F 7E), MOVDQA/MOVDQU, MOVQ2DQ/MOVDQ2Q,
 * PMOVMSKB, MOVNTQ/MOVNTDQ, MASKMOVQ/MASKMOVDQU. Encodings per Vol. 2D
 * Appendix A, Table A-3 (the mandatory prefixes); the SSE3 rows sharing
 * these opcodes (MOVSLDUP, MOVSHDUP, MOVDDUP) are #UD in roam-v1. */
#include "sse.h"
#include "x87.h"

/* GPR operand size of MOVD/MOVQ and the mask/extract moves. */
static inline unsigned gpr_size(const struct emu_insn *in)
{
    return (in->rex & 8) ? 8 : 4;
}

/* 0F 10/11: MOVUPS, MOVUPD, MOVSS, MOVSD. */
static int mov_ups_ss(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx, bool store)
{
    static const uint8_t size[4] = {16, 16, 4, 8};
    unsigned n = size[pfx];
    union emu_xmm *r = &cpu->fpu.xmm[in->reg];
    union emu_xmm v;
    int rc = sse_check(cpu);
    if (rc)
        return rc;
    if (store) {
        if (in->mod != 3)
            return sse_store(cpu, in, n, false, r->b);
        memcpy(cpu->fpu.xmm[in->rm].b, r->b, n);
        return EMU_OK;
    }
    if (in->mod == 3) {
        memcpy(r->b, cpu->fpu.xmm[in->rm].b, n);
        return EMU_OK;
    }
    /* a scalar load zeroes the rest of the register */
    rc = sse_load(cpu, in, n, false, &v);
    if (rc)
        return rc;
    *r = v;
    return EMU_OK;
}

/* 0F 12/13/16/17: the low or high quadword. */
static int mov_half(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    unsigned op = in->opcode & 0xff;
    unsigned half = op >= 0x16;   /* 16/17: the high quadword */
    bool store = op & 1;
    union emu_xmm *r = &cpu->fpu.xmm[in->reg];
    union emu_xmm v;
    int rc;

    if (pfx > SSE_66 || (in->mod == 3 && (store || pfx == SSE_66)))
        return emu_ud(cpu);
    rc = sse_check(cpu);
    if (rc)
        return rc;
    if (store)
        return sse_store(cpu, in, 8, false, &r->q[half]);
    if (in->mod == 3) {
        /* MOVHLPS (12) takes the source's high half, MOVLHPS (16) its low */
        r->q[half] = cpu->fpu.xmm[in->rm].q[!half];
        return EMU_OK;
    }
    rc = sse_load(cpu, in, 8, false, &v);
    if (rc)
        return rc;
    r->q[half] = v.q[0];
    return EMU_OK;
}

/* 0F 28/29/2B, 66 0F 6F/7F, 66 0F E7: full 16-byte moves, aligned or not. */
static int mov_full(struct emu_cpu *cpu, const struct emu_insn *in, bool store, bool align)
{
    union emu_xmm *r = &cpu->fpu.xmm[in->reg];
    union emu_xmm v;
    int rc = sse_check(cpu);
    if (rc)
        return rc;
    if (store) {
        if (in->mod != 3)
            return sse_store(cpu, in, 16, align, r->b);
        cpu->fpu.xmm[in->rm] = *r;
        return EMU_OK;
    }
    rc = sse_rm_xmm(cpu, in, 16, align, &v);
    if (rc)
        return rc;
    *r = v;
    return EMU_OK;
}

/* 0F 50 MOVMSKPS/PD, 0F D7 PMOVMSKB: sign bits to a GPR. */
static int mov_msk(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    unsigned op = in->opcode & 0xff;
    unsigned m = 0;
    int rc;

    if (in->mod != 3 || pfx > SSE_66)
        return emu_ud(cpu);
    if (op == 0xd7 && pfx == SSE_NP) {
        rc = sse_check_mmx(cpu);
        if (rc)
            return rc;
        uint64_t v = sse_mm_get(cpu, in->rm);
        for (unsigned i = 0; i < 8; i++)
            m |= (unsigned)((v >> (8 * i + 7)) & 1) << i;
        sse_mmx_enter(cpu);
        emu_reg_set(cpu, in, in->reg, gpr_size(in), m);
        return EMU_OK;
    }
    rc = sse_check(cpu);
    if (rc)
        return rc;
    const union emu_xmm *x = &cpu->fpu.xmm[in->rm];
    if (op == 0xd7) {
        for (unsigned i = 0; i < 16; i++)
            m |= (unsigned)(x->b[i] >> 7) << i;
    } else if (pfx == SSE_NP) {
        for (unsigned i = 0; i < 4; i++)
            m |= (x->d[i] >> 31) << i;
    } else {
        m = (unsigned)(x->q[0] >> 63) | (unsigned)(x->q[1] >> 63) << 1;
    }
    emu_reg_set(cpu, in, in->reg, gpr_size(in), m);
    return EMU_OK;
}

/* 0F 6E/7E: MOVD/MOVQ between a GPR or memory and MMX/XMM; F3 0F 7E MOVQ. */
static int mov_d(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    bool store = (in->opcode & 0xff) == 0x7e;
    unsigned n = gpr_size(in);
    uint64_t v;
    int rc;

    if (pfx == SSE_F2 || (pfx == SSE_F3 && !store))
        return emu_ud(cpu);
    if (pfx == SSE_F3) {
        /* MOVQ xmm, xmm/m64: the upper quadword is zeroed */
        union emu_xmm t;
        rc = sse_check(cpu);
        if (rc)
            return rc;
        rc = sse_rm_xmm(cpu, in, 8, false, &t);
        if (rc)
            return rc;
        cpu->fpu.xmm[in->reg].q[0] = t.q[0];
        cpu->fpu.xmm[in->reg].q[1] = 0;
        return EMU_OK;
    }
    rc = pfx == SSE_66 ? sse_check(cpu) : sse_check_mmx(cpu);
    if (rc)
        return rc;
    if (store) {
        v = pfx == SSE_66 ? cpu->fpu.xmm[in->reg].q[0] : sse_mm_get(cpu, in->reg);
        rc = emu_rm_write(cpu, in, n, v & emu_mask(n));
        if (rc)
            return rc;
        if (pfx == SSE_NP)
            sse_mmx_enter(cpu);
        return EMU_OK;
    }
    rc = emu_rm_read(cpu, in, n, &v);
    if (rc)
        return rc;
    v &= emu_mask(n);
    if (pfx == SSE_66) {
        cpu->fpu.xmm[in->reg].q[0] = v;
        cpu->fpu.xmm[in->reg].q[1] = 0;
    } else {
        sse_mmx_enter(cpu);
        sse_mm_set(cpu, in->reg, v);
    }
    return EMU_OK;
}

/* 0F 6F/7F: MOVQ mm (NP), MOVDQA (66), MOVDQU (F3). */
static int mov_q_dq(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    bool store = (in->opcode & 0xff) == 0x7f;
    uint64_t v;
    int rc;

    if (pfx == SSE_F2)
        return emu_ud(cpu);
    if (pfx != SSE_NP)
        return mov_full(cpu, in, store, pfx == SSE_66);
    rc = sse_check_mmx(cpu);
    if (rc)
        return rc;
    if (store) {
        v = sse_mm_get(cpu, in->reg);
        if (in->mod != 3) {
            rc = sse_store(cpu, in, 8, false, &v);
            if (rc)
                return rc;
            sse_mmx_enter(cpu);
            return EMU_OK;
        }
        sse_mmx_enter(cpu);
        sse_mm_set(cpu, in->rm, v);
        return EMU_OK;
    }
    rc = sse_rm_mm(cpu, in, 8, &v);
    if (rc)
        return rc;
    sse_mmx_enter(cpu);
    sse_mm_set(cpu, in->reg, v);
    return EMU_OK;
}

/* 0F D6: MOVQ xmm/m64, xmm (66), MOVQ2DQ (F3), MOVDQ2Q (F2). */
static int mov_d6(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    int rc;

    if (pfx == SSE_NP || (pfx != SSE_66 && in->mod != 3))
        return emu_ud(cpu);
    if (pfx == SSE_66) {
        rc = sse_check(cpu);
        if (rc)
            return rc;
        uint64_t v = cpu->fpu.xmm[in->reg].q[0];
        if (in->mod != 3)
            return sse_store(cpu, in, 8, false, &v);
        cpu->fpu.xmm[in->rm].q[0] = v;
        cpu->fpu.xmm[in->rm].q[1] = 0;
        return EMU_OK;
    }
    rc = sse_check_mixed(cpu);
    if (rc)
        return rc;
    sse_mmx_enter(cpu);
    if (pfx == SSE_F3) {
        cpu->fpu.xmm[in->reg].q[0] = sse_mm_get(cpu, in->rm);
        cpu->fpu.xmm[in->reg].q[1] = 0;
    } else {
        sse_mm_set(cpu, in->reg, cpu->fpu.xmm[in->rm].q[0]);
    }
    return EMU_OK;
}

/* 0F E7: MOVNTQ m64, mm; 66: MOVNTDQ m128, xmm (aligned). */
static int mov_nt(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    int rc;
    if (in->mod == 3 || pfx > SSE_66)
        return emu_ud(cpu);
    if (pfx == SSE_66)
        return mov_full(cpu, in, true, true);
    rc = sse_check_mmx(cpu);
    if (rc)
        return rc;
    uint64_t v = sse_mm_get(cpu, in->reg);
    rc = sse_store(cpu, in, 8, false, &v);
    if (rc)
        return rc;
    sse_mmx_enter(cpu);
    return EMU_OK;
}

/* 0F F7: MASKMOVQ / MASKMOVDQU: the bytes whose mask byte has its top bit
 * set are stored at DS:rDI (segment override allowed). As the hardware
 * (the AMD oracle) does, the whole 8/16-byte destination is checked as a
 * write before any byte is stored, whatever the mask: segment limits and
 * rights (#GP/#SS), #AC when alignment checking is on and rDI is not
 * 8-byte aligned (for MASKMOVDQU too), then paging for every page the
 * destination touches (#PF with CR2 = rDI, or the start of the second
 * page). So a mask of all zeros can still fault, and a fault leaves memory
 * unchanged. MASKMOVQ makes its x87-to-MMX transition (TOP = 0, all tags
 * valid) before those memory checks: hardware shows it done when they
 * fault. */
static int mov_maskmov(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    uint8_t data[16], mask[16];
    unsigned n = pfx == SSE_66 ? 16 : 8;
    uint64_t base, lin = 0, gpa = 0, amask = emu_mask(in->addrsize);
    bool user = cpu->cpl == 3;
    int rc;

    if (in->mod != 3 || pfx > SSE_66)
        return emu_ud(cpu);
    rc = pfx == SSE_66 ? sse_check(cpu) : sse_check_mmx(cpu);
    if (rc)
        return rc;
    if (pfx == SSE_66) {
        memcpy(data, cpu->fpu.xmm[in->reg].b, 16);
        memcpy(mask, cpu->fpu.xmm[in->rm].b, 16);
    } else {
        uint64_t d = sse_mm_get(cpu, in->reg), m = sse_mm_get(cpu, in->rm);
        memcpy(data, &d, 8);
        memcpy(mask, &m, 8);
        sse_mmx_enter(cpu);
    }
    base = cpu->gpr[X86_RDI] & amask;
    rc = emu_linear(cpu, in->seg, base, n, EMU_WRITE, &lin);
    if (rc)
        return rc;
    if (x87_ac_on(cpu) && (lin & 7))
        return emu_raise_err(cpu, EMU_VEC_AC, 0);
    rc = emu_translate(cpu, lin, EMU_WRITE, user, &gpa);
    if (rc)
        return rc;
    if ((lin & 0xfff) + n > 4096) {
        uint64_t lin2 = (lin | 0xfff) + 1;
        if (!cpu->code64 && !cpu->long_mode)
            lin2 &= 0xffffffffull;
        rc = emu_translate(cpu, lin2, EMU_WRITE, user, &gpa);
        if (rc)
            return rc;
    }
    for (unsigned i = 0; i < n;) {
        unsigned j = i;
        while (j < n && (mask[j] & 0x80))
            j++;
        if (j > i) {
            uint64_t at = 0;
            rc = emu_linear(cpu, in->seg, (base + i) & amask, j - i, EMU_WRITE, &at);
            if (rc)
                return rc;
            rc = emu_write_lin(cpu, at, j - i, data + i, user);
            if (rc)
                return rc;
        }
        i = j + 1;
    }
    return EMU_OK;
}

int sse_mov(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned pfx = emu_sse_prefix(in);

    switch (in->opcode & 0xff) {
    case 0x10:
    case 0x11:
        return mov_ups_ss(cpu, in, pfx, in->opcode & 1);
    case 0x12:
    case 0x13:
    case 0x16:
    case 0x17:
        return mov_half(cpu, in, pfx);
    case 0x28:
    case 0x29:
        if (pfx > SSE_66)
            return emu_ud(cpu);
        return mov_full(cpu, in, in->opcode & 1, true);
    case 0x2b:
        if (pfx > SSE_66 || in->mod == 3)
            return emu_ud(cpu);
        return mov_full(cpu, in, true, true);
    case 0x50:
    case 0xd7:
        return mov_msk(cpu, in, pfx);
    case 0x6e:
    case 0x7e:
        return mov_d(cpu, in, pfx);
    case 0x6f:
    case 0x7f:
        return mov_q_dq(cpu, in, pfx);
    case 0xd6:
        return mov_d6(cpu, in, pfx);
    case 0xe7:
        return mov_nt(cpu, in, pfx);
    case 0xf7:
        return mov_maskmov(cpu, in, pfx);
    default:
        return emu_ud(cpu);
    }
}
