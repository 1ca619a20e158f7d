/* SSE/SSE2 floating-point arithmetic, logic and comparisons (SDM Vol. 2):
 * ADD/SUB/MUL/DIV/MIN/MAX/SQRT PS/PD/SS/SD, RCPPS/SS, RSQRTPS/SS,
 * AND/ANDN/OR/XOR PS/PD, CMPPS/PD/SS/SD, COMISS/SD, UCOMISS/SD. The
 * arithmetic is softfp's; exceptions follow SDM Vol. 1 11.5 (sse.c). */
#include "sse.h"

typedef uint32_t (*sse_f32_fn)(struct softfp *s, uint32_t a, uint32_t b);
typedef uint64_t (*sse_f64_fn)(struct softfp *s, uint64_t a, uint64_t b);

/* 0F 58-5F less 5A/5B (conversions), indexed by opcode - 0x58. */
static const struct {
    sse_f32_fn f32;
    sse_f64_fn f64;
} fp_binops[8] = {
    [0] = {softfp_add32, softfp_add64}, [1] = {softfp_mul32, softfp_mul64},
    [4] = {softfp_sub32, softfp_sub64}, [5] = {softfp_min32, softfp_min64},
    [6] = {softfp_div32, softfp_div64}, [7] = {softfp_max32, softfp_max64},
};

/* Operand size of the source by prefix: ps, pd, ss, sd. */
static const uint8_t fp_size[4] = {16, 16, 4, 8};

/* 0F 51, 58-5F: the arithmetic. Packed sources must be aligned. */
static int fp_arith(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    unsigned op = in->opcode & 0xff;
    union emu_xmm s, d;
    struct softfp sf;
    int rc = sse_check(cpu);

    if (!rc)
        rc = sse_rm_xmm(cpu, in, fp_size[pfx], pfx <= SSE_66, &s);
    if (rc)
        return rc;
    d = cpu->fpu.xmm[in->reg];
    softfp_init(&sf, cpu->fpu.mxcsr);
    if (op == 0x51) {
        switch (pfx) {
        case SSE_NP:
            for (unsigned i = 0; i < 4; i++)
                d.d[i] = softfp_sqrt32(&sf, s.d[i]);
            break;
        case SSE_66:
            d.q[0] = softfp_sqrt64(&sf, s.q[0]);
            d.q[1] = softfp_sqrt64(&sf, s.q[1]);
            break;
        case SSE_F3:
            d.d[0] = softfp_sqrt32(&sf, s.d[0]);
            break;
        default:
            d.q[0] = softfp_sqrt64(&sf, s.q[0]);
            break;
        }
    } else {
        sse_f32_fn f32 = fp_binops[op - 0x58].f32;
        sse_f64_fn f64 = fp_binops[op - 0x58].f64;
        switch (pfx) {
        case SSE_NP:
            for (unsigned i = 0; i < 4; i++)
                d.d[i] = f32(&sf, d.d[i], s.d[i]);
            break;
        case SSE_66:
            d.q[0] = f64(&sf, d.q[0], s.q[0]);
            d.q[1] = f64(&sf, d.q[1], s.q[1]);
            break;
        case SSE_F3:
            d.d[0] = f32(&sf, d.d[0], s.d[0]);
            break;
        default:
            d.q[0] = f64(&sf, d.q[0], s.q[0]);
            break;
        }
    }
    rc = sse_fp_finish(cpu, &sf);
    if (rc)
        return rc;
    cpu->fpu.xmm[in->reg] = d;
    return EMU_OK;
}

/* 0F 52/53: RSQRTPS/SS, RCPPS/SS. No exceptions, MXCSR untouched. */
static int fp_approx(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    uint32_t (*f)(uint32_t) = (in->opcode & 1) ? softfp_rcp32 : softfp_rsqrt32;
    union emu_xmm s;
    int rc;

    if (pfx == SSE_66 || pfx == SSE_F2)
        return emu_ud(cpu);
    rc = sse_check(cpu);
    if (!rc)
        rc = sse_rm_xmm(cpu, in, pfx == SSE_NP ? 16 : 4, pfx == SSE_NP, &s);
    if (rc)
        return rc;
    union emu_xmm *d = &cpu->fpu.xmm[in->reg];
    if (pfx == SSE_F3) {
        d->d[0] = f(s.d[0]);
        return EMU_OK;
    }
    for (unsigned i = 0; i < 4; i++)
        d->d[i] = f(s.d[i]);
    return EMU_OK;
}

/* 0F 54-57: ANDPS/PD, ANDNPS/PD, ORPS/PD, XORPS/PD. */
static int fp_logic(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    union emu_xmm s;
    int rc;

    if (pfx > SSE_66)
        return emu_ud(cpu);
    rc = sse_check(cpu);
    if (!rc)
        rc = sse_rm_xmm(cpu, in, 16, true, &s);
    if (rc)
        return rc;
    union emu_xmm *d = &cpu->fpu.xmm[in->reg];
    for (unsigned i = 0; i < 2; i++) {
        switch (in->opcode & 0xff) {
        case 0x54: d->q[i] &= s.q[i]; break;
        case 0x55: d->q[i] = ~d->q[i] & s.q[i]; break;
        case 0x56: d->q[i] |= s.q[i]; break;
        default: d->q[i] ^= s.q[i]; break;
        }
    }
    return EMU_OK;
}

/* CMPccPS predicates 0-7 (EQ LT LE UNORD NEQ NLT NLE ORD): the set of
 * relations (bit softfp_rel) each one is true for. LT, LE, NLT and NLE
 * also signal IE on QNaNs. */
static const uint8_t cmp_true[8] = {0x2, 0x1, 0x3, 0x8, 0xd, 0xe, 0xc, 0x7};

/* 0F C2: CMPPS/PD/SS/SD. */
static int fp_cmp(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    unsigned pred = (unsigned)in->imm & 7;
    bool quiet = (pred & 3) == 0 || (pred & 3) == 3;
    union emu_xmm s, d;
    struct softfp sf;
    int rc = sse_check(cpu);

    if (!rc)
        rc = sse_rm_xmm(cpu, in, fp_size[pfx], pfx <= SSE_66, &s);
    if (rc)
        return rc;
    d = cpu->fpu.xmm[in->reg];
    softfp_init(&sf, cpu->fpu.mxcsr);
    switch (pfx) {
    case SSE_NP:
    case SSE_F3:
        for (unsigned i = 0; i < (pfx == SSE_NP ? 4u : 1u); i++) {
            enum softfp_rel r = softfp_cmp32(&sf, d.d[i], s.d[i], quiet);
            d.d[i] = (cmp_true[pred] >> r) & 1 ? 0xffffffffu : 0;
        }
        break;
    default:
        for (unsigned i = 0; i < (pfx == SSE_66 ? 2u : 1u); i++) {
            enum softfp_rel r = softfp_cmp64(&sf, d.q[i], s.q[i], quiet);
            d.q[i] = (cmp_true[pred] >> r) & 1 ? ~0ull : 0;
        }
        break;
    }
    rc = sse_fp_finish(cpu, &sf);
    if (rc)
        return rc;
    cpu->fpu.xmm[in->reg] = d;
    return EMU_OK;
}

/* 0F 2E/2F: UCOMISS/COMISS (NP), UCOMISD/COMISD (66): ZF, PF, CF from the
 * relation, OF = SF = AF = 0. */
static int fp_comi(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    static const uint64_t flags[4] = {
        [SOFTFP_LT] = EMU_CF, [SOFTFP_EQ] = EMU_ZF, [SOFTFP_GT] = 0,
        [SOFTFP_UN] = EMU_ZF | EMU_PF | EMU_CF,
    };
    bool quiet = (in->opcode & 1) == 0;
    union emu_xmm s;
    struct softfp sf;
    enum softfp_rel r;
    int rc;

    if (pfx > SSE_66)
        return emu_ud(cpu);
    rc = sse_check(cpu);
    if (!rc)
        rc = sse_rm_xmm(cpu, in, pfx == SSE_NP ? 4 : 8, false, &s);
    if (rc)
        return rc;
    softfp_init(&sf, cpu->fpu.mxcsr);
    if (pfx == SSE_NP)
        r = softfp_cmp32(&sf, cpu->fpu.xmm[in->reg].d[0], s.d[0], quiet);
    else
        r = softfp_cmp64(&sf, cpu->fpu.xmm[in->reg].q[0], s.q[0], quiet);
    rc = sse_fp_finish(cpu, &sf);
    if (rc)
        return rc;
    emu_flags_set_arith(cpu, flags[r]);
    return EMU_OK;
}

int sse_fp(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned pfx = emu_sse_prefix(in);

    switch (in->opcode & 0xff) {
    case 0x2e:
    case 0x2f:
        return fp_comi(cpu, in, pfx);
    case 0x51:
    case 0x58:
    case 0x59:
    case 0x5c:
    case 0x5d:
    case 0x5e:
    case 0x5f:
        return fp_arith(cpu, in, pfx);
    case 0x52:
    case 0x53:
        return fp_approx(cpu, in, pfx);
    case 0x54:
    case 0x55:
    case 0x56:
    case 0x57:
        return fp_logic(cpu, in, pfx);
    case 0xc2:
        return fp_cmp(cpu, in, pfx);
    default:
        return emu_ud(cpu);
    }
}
