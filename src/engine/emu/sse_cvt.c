/* SSE/SSE2 conversions (SDM Vol. 2): CVTPI2PS/PD, CVT(T)PS2PI,
 * CVT(T)PD2PI, CVTSI2SS/SD, CVT(T)SS2SI, CVT(T)SD2SI, CVTPS2PD, CVTPD2PS,
 * CVTSS2SD, CVTSD2SS, CVTDQ2PS, CVT(T)PS2DQ, CVTDQ2PD, CVT(T)PD2DQ. The
 * forms with an MMX operand also check for a pending x87 exception and,
 * when they name an MMX register, make the x87-to-MMX transition (SDM
 * Vol. 1 11.6.13). Out-of-range and NaN sources give the integer
 * indefinite with IE (softfp). */
#include "sse.h"

/* 0F 2A: CVTPI2PS (NP), CVTPI2PD (66), CVTSI2SS (F3), CVTSI2SD (F2). */
static int cvt_2a(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    union emu_xmm d = cpu->fpu.xmm[in->reg];
    struct softfp sf;
    uint64_t v;
    int rc;

    softfp_init(&sf, cpu->fpu.mxcsr);
    if (pfx >= SSE_F3) {
        unsigned n = (in->rex & 8) ? 8 : 4;
        rc = sse_check(cpu);
        if (!rc)
            rc = emu_rm_read(cpu, in, n, &v);
        if (rc)
            return rc;
        int64_t i = n == 8 ? (int64_t)v : (int64_t)(int32_t)v;
        if (pfx == SSE_F3)
            d.d[0] = softfp_i64_to_f32(&sf, i);
        else
            d.q[0] = softfp_i64_to_f64(&sf, i);
    } else {
        /* only an MMX register source cares about a pending x87 exception */
        rc = in->mod == 3 ? sse_check_mixed(cpu) : sse_check(cpu);
        if (!rc)
            rc = sse_rm_mm(cpu, in, 8, &v);
        if (rc)
            return rc;
        int32_t lo = (int32_t)(uint32_t)v, hi = (int32_t)(uint32_t)(v >> 32);
        if (pfx == SSE_NP) {
            d.d[0] = softfp_i64_to_f32(&sf, lo);
            d.d[1] = softfp_i64_to_f32(&sf, hi);
        } else {
            d.q[0] = softfp_i64_to_f64(&sf, lo);
            d.q[1] = softfp_i64_to_f64(&sf, hi);
        }
    }
    /* The transition to MMX comes before a SIMD exception; a memory
     * source makes none. */
    if (pfx < SSE_F3 && in->mod == 3)
        sse_mmx_enter(cpu);
    rc = sse_fp_finish(cpu, &sf);
    if (rc)
        return rc;
    cpu->fpu.xmm[in->reg] = d;
    return EMU_OK;
}

/* 0F 2C/2D: CVT(T)PS2PI, CVT(T)PD2PI, CVT(T)SS2SI, CVT(T)SD2SI. */
static int cvt_2c(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    static const uint8_t size[4] = {8, 16, 4, 8};
    bool trunc = (in->opcode & 1) == 0;
    union emu_xmm s;
    struct softfp sf;
    uint64_t r;
    int rc;

    rc = pfx >= SSE_F3 ? sse_check(cpu) : sse_check_mixed(cpu);
    if (!rc)
        rc = sse_rm_xmm(cpu, in, size[pfx], pfx == SSE_66, &s);
    if (rc)
        return rc;
    softfp_init(&sf, cpu->fpu.mxcsr);
    unsigned bits = (in->rex & 8) ? 64 : 32;
    switch (pfx) {
    case SSE_NP:
        r = softfp_f32_to_int(&sf, s.d[0], 32, trunc) |
            softfp_f32_to_int(&sf, s.d[1], 32, trunc) << 32;
        break;
    case SSE_66:
        r = softfp_f64_to_int(&sf, s.q[0], 32, trunc) |
            softfp_f64_to_int(&sf, s.q[1], 32, trunc) << 32;
        break;
    case SSE_F3:
        r = softfp_f32_to_int(&sf, s.d[0], bits, trunc);
        break;
    default:
        r = softfp_f64_to_int(&sf, s.q[0], bits, trunc);
        break;
    }
    /* the transition to MMX comes before a SIMD exception */
    if (pfx < SSE_F3)
        sse_mmx_enter(cpu);
    rc = sse_fp_finish(cpu, &sf);
    if (rc)
        return rc;
    if (pfx >= SSE_F3)
        emu_reg_set(cpu, in, in->reg, bits / 8, r);
    else
        sse_mm_set(cpu, in->reg, r);
    return EMU_OK;
}

/* 0F 5A: CVTPS2PD (NP), CVTPD2PS (66), CVTSS2SD (F3), CVTSD2SS (F2). */
static int cvt_5a(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    static const uint8_t size[4] = {8, 16, 4, 8};
    union emu_xmm s, d;
    struct softfp sf;
    int rc = sse_check(cpu);

    if (!rc)
        rc = sse_rm_xmm(cpu, in, size[pfx], pfx == SSE_66, &s);
    if (rc)
        return rc;
    d = cpu->fpu.xmm[in->reg];
    softfp_init(&sf, cpu->fpu.mxcsr);
    switch (pfx) {
    case SSE_NP:
        d.q[0] = softfp_f32_to_f64(&sf, s.d[0]);
        d.q[1] = softfp_f32_to_f64(&sf, s.d[1]);
        break;
    case SSE_66:
        d.d[0] = softfp_f64_to_f32(&sf, s.q[0]);
        d.d[1] = softfp_f64_to_f32(&sf, s.q[1]);
        d.q[1] = 0;
        break;
    case SSE_F3:
        d.q[0] = softfp_f32_to_f64(&sf, s.d[0]);
        break;
    default:
        d.d[0] = softfp_f64_to_f32(&sf, s.q[0]);
        break;
    }
    rc = sse_fp_finish(cpu, &sf);
    if (rc)
        return rc;
    cpu->fpu.xmm[in->reg] = d;
    return EMU_OK;
}

/* 0F 5B: CVTDQ2PS (NP), CVTPS2DQ (66), CVTTPS2DQ (F3). */
static int cvt_5b(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    union emu_xmm s, d;
    struct softfp sf;
    int rc;

    if (pfx == SSE_F2)
        return emu_ud(cpu);
    rc = sse_check(cpu);
    if (!rc)
        rc = sse_rm_xmm(cpu, in, 16, true, &s);
    if (rc)
        return rc;
    softfp_init(&sf, cpu->fpu.mxcsr);
    for (unsigned i = 0; i < 4; i++) {
        if (pfx == SSE_NP)
            d.d[i] = softfp_i64_to_f32(&sf, (int32_t)s.d[i]);
        else
            d.d[i] = (uint32_t)softfp_f32_to_int(&sf, s.d[i], 32, pfx == SSE_F3);
    }
    rc = sse_fp_finish(cpu, &sf);
    if (rc)
        return rc;
    cpu->fpu.xmm[in->reg] = d;
    return EMU_OK;
}

/* 0F E6: CVTTPD2DQ (66), CVTDQ2PD (F3), CVTPD2DQ (F2). */
static int cvt_e6(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    union emu_xmm s, d;
    struct softfp sf;
    int rc;

    if (pfx == SSE_NP)
        return emu_ud(cpu);
    rc = sse_check(cpu);
    if (!rc)
        rc = sse_rm_xmm(cpu, in, pfx == SSE_F3 ? 8 : 16, pfx != SSE_F3, &s);
    if (rc)
        return rc;
    softfp_init(&sf, cpu->fpu.mxcsr);
    if (pfx == SSE_F3) {
        d.q[0] = softfp_i64_to_f64(&sf, (int32_t)s.d[0]);
        d.q[1] = softfp_i64_to_f64(&sf, (int32_t)s.d[1]);
    } else {
        d.d[0] = (uint32_t)softfp_f64_to_int(&sf, s.q[0], 32, pfx == SSE_66);
        d.d[1] = (uint32_t)softfp_f64_to_int(&sf, s.q[1], 32, pfx == SSE_66);
        d.q[1] = 0;
    }
    rc = sse_fp_finish(cpu, &sf);
    if (rc)
        return rc;
    cpu->fpu.xmm[in->reg] = d;
    return EMU_OK;
}

int sse_cvt(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned pfx = emu_sse_prefix(in);

    switch (in->opcode & 0xff) {
    case 0x2a:
        return cvt_2a(cpu, in, pfx);
    case 0x2c:
    case 0x2d:
        return cvt_2c(cpu, in, pfx);
    case 0x5a:
        return cvt_5a(cpu, in, pfx);
    case 0x5b:
        return cvt_5b(cpu, in, pfx);
    case 0xe6:
        return cvt_e6(cpu, in, pfx);
    default:
        return emu_ud(cpu);
    }
}
