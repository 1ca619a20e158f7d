/* SSE, SSE2 and MMX forms (SDM Vol. 2; the 0F map rows of opcodes.def with
 * their mandatory prefixes). Only what roam-v1 has: no SSE3 (F2/F3 0F 12,
 * F3 0F 16, 0F 7C/7D, 0F D0, 0F F0, FISTTP), no SSSE3/SSE4 (0F 38, 0F 3A),
 * no SSE4a (F2/F3 0F 2B, 66 0F 78/79), no 3DNow! (0F 0F), no VEX/EVEX.
 * Legacy SSE needs 16-byte alignment of m128 operands except for the
 * unaligned moves: those rows say align 16 and misaligned targets (rare)
 * raise #GP. RCPPS/RCPSS/RSQRTPS/RSQRTSS are approximations whose exact
 * bits differ between implementations: family "approx" (README.md). */
#include <string.h>

#include "difftest.h"

#define S_IMM8 0x1u
#define S_REGONLY 0x2u
#define S_MEMONLY 0x4u
#define S_STORE 0x8u     /* r/m is the destination */
#define S_GDST 0x10u     /* ModRM.reg is a GPR destination */
#define S_EFL 0x20u      /* writes ZF PF CF, clears OF SF AF */
#define S_W 0x40u        /* the GPR operand may be 64-bit (REX.W) */
#define S_CMP 0x80u      /* imm8 is a compare predicate */
#define S_GRP 0x100u     /* ModRM.reg is a digit (shift-by-immediate groups) */
#define S_RDI 0x200u     /* MASKMOVQ/MASKMOVDQU store at [RDI] */
#define S_APS 0x400u     /* approximate, packed singles */
#define S_ASS 0x800u     /* approximate, scalar single */

/* a: prefix << 8 | second opcode byte; b: regk | rmk << 4 | msize << 8 |
 * align << 16 | (digit + 1) << 24; c: S_* */
#define XMM RK_XMM
#define MMX RK_MMX
#define GPR RK_GPR
#define OPS(rk, mk, ms, al, dg) ((rk) | (mk) << 4 | (ms) << 8 | (al) << 16 | (dg) << 24)

static void load_value(struct dt_emit *e, const struct dt_item *before, uint64_t t, unsigned size)
{
    struct dt_rng *r = e->rng;
    uint64_t v = size == 4 ? (dt_chance(r, 2) ? dt_edge_f32(r) : dt_edge64(r)) : dt_edge_simd64(r);
    dt_insert_store(e->it, before, (uint32_t)t, v, size > 8 ? 8 : size);
    if (size == 16)
        dt_insert_store(e->it, before, (uint32_t)t + 8, dt_edge_simd64(r), 8);
}

static unsigned pick(struct dt_emit *e, unsigned kind, bool dst)
{
    if (kind == MMX)
        return dt_below(e->rng, 8);
    if (kind == XMM)
        return dt_below(e->rng, 16);
    return dst ? dt_pick_dst(e) : dt_pick_src(e);
}

static bool f_sse(struct dt_emit *e, const struct dt_form *f)
{
    struct dt_rng *r = e->rng;
    struct dt_item *it = e->it;
    struct dt_modrm m = {0};
    unsigned pfx = f->a >> 8, flags = f->c;
    unsigned regk = f->b & 15, rmk = f->b >> 4 & 15, msize = f->b >> 8 & 0xff;
    unsigned digit = f->b >> 24;

    if (pfx)
        m.pfx[0] = (uint8_t)pfx;
    m.opc[0] = 0x0f;
    m.opc[1] = (uint8_t)f->a;
    m.nopc = 2;
    m.align = f->b >> 16 & 0xff;
    m.size = msize;
    m.regk = digit ? RK_DIGIT : (uint8_t)regk;
    m.rmk = (uint8_t)rmk;
    m.reg = digit ? digit - 1 : pick(e, regk, flags & S_GDST);
    if (flags & S_RDI) {
        if (!dt_can_write(e, 7))
            return false;
        dt_setup_mov(it, 7, (uint32_t)dt_pick_target(e, msize, 1));
    }
    bool mem = (flags & S_MEMONLY) || (!(flags & S_REGONLY) && dt_chance(r, 2));
    m.rm = mem ? DT_RM_MEM : pick(e, rmk, (flags & S_STORE) != 0);
    m.write = (flags & S_STORE) != 0;
    if ((flags & S_W) && dt_chance(r, 2)) {
        m.rexw = true;
        if (m.size == 4)
            m.size = 8;
    }
    if (flags & S_IMM8) {
        m.imm_size = 1;
        m.imm = flags & S_CMP && dt_below(r, 4) ? dt_below(r, 8) : dt_rand(r);
    }
    struct dt_item before = *it;
    dt_emit_modrm(e, &m);
    if (mem && !m.write && m.target_known && dt_writable(m.target, m.size) && dt_chance(r, 2))
        load_value(e, &before, m.target, m.size);
    if (flags & S_EFL)
        it->fl_def = F_ARITH;
    if (flags & (S_APS | S_ASS)) {
        e->c->approx_xmm = (int8_t)m.reg;
        e->c->approx_lanes = flags & S_APS ? 4 : 1;
    }
    return true;
}

/* 0F AE group and friends: a = 0 LDMXCSR, 1 STMXCSR, 2 FXSAVE, 3 FXRSTOR,
 * 4 LFENCE/MFENCE/SFENCE, 5 CLFLUSH, 6 EMMS */
static bool f_state(struct dt_emit *e, const struct dt_form *f)
{
    struct dt_rng *r = e->rng;
    struct dt_item *it = e->it;
    struct dt_modrm m = {0};
    static const uint8_t digit[] = {2, 3, 0, 1, 5, 7};
    if (f->a == 6 || f->a == 4) {
        dt_setup_done(it);
        if (f->a == 6)
            dt_put(it, 2, 0x0f, 0x77);
        else
            dt_put(it, 3, 0x0f, 0xae, 0xe8 + 8 * dt_below(r, 3));
        return true;
    }
    m.opc[0] = 0x0f;
    m.opc[1] = 0xae;
    m.nopc = 2;
    m.regk = RK_DIGIT;
    m.reg = digit[f->a];
    m.rm = DT_RM_MEM;
    m.size = f->a <= 1 ? 4 : f->a == 5 ? 1 : 512;
    m.align = f->a == 2 || f->a == 3 ? 16 : 1;
    m.write = f->a == 1 || f->a == 2;
    m.rexw = (f->a == 2 || f->a == 3) && dt_chance(r, 2); /* FXSAVE64/FXRSTOR64 */
    struct dt_item before = *it;
    if (f->a == 2 || f->a == 3) {
        /* 512 bytes fit only in the data area: aim there explicitly */
        uint32_t t = DT_DATA + 16 * dt_below(r, (DT_DATA_SIZE - 512) / 16);
        if (e->c->allow_gp && dt_chance(r, 16))
            t += 8; /* misaligned: #GP */
        if (!dt_can_write(e, 3))
            return false;
        bool own_mxcsr = f->a == 3 && !dt_chance(r, 8);
        dt_setup_mov(it, 3, t);
        /* Else the image as memory holds it (a saved one, or the fill), with
         * MXCSR bits 16-31 cleared: reserved in roam-v1 (#GP), while this
         * AMD host accepts bit 17 (MM, misaligned SSE). */
        if (f->a == 3 && !own_mxcsr)
            dt_put(it, 6, 0x66, 0xc7, 0x43, 26, 0, 0); /* mov word [rbx+26], 0 */
        dt_setup_done(it);
        dt_put8(it, m.rexw ? 0x48 : 0x40);
        dt_put(it, 3, 0x0f, 0xae, 0x03 | m.reg << 3); /* [rbx] */
        if (own_mxcsr) {
            /* a valid MXCSR in the image (else #GP) */
            uint32_t mx = (uint32_t)(dt_rand(r) & 0xffbf) | (dt_chance(r, 2) ? 0x40 : 0);
            dt_insert_store(it, &before, t + 24, mx, 4);
        }
        if (f->a == 2) {
            /* FOP, FIP, FDP and MXCSR_MASK: model-specific (README.md).
             * Masked in the image, and overwritten right after the FXSAVE
             * so that later loads and copies of these bytes cannot carry
             * them into compared state. */
            dt_put(it, 6, 0x66, 0xc7, 0x43, 6, 0, 0);          /* mov word [rbx+6], 0 */
            dt_put(it, 8, 0x48, 0xc7, 0x43, 8, 0, 0, 0, 0);    /* mov qword [rbx+8], 0 */
            dt_put(it, 8, 0x48, 0xc7, 0x43, 16, 0, 0, 0, 0);   /* mov qword [rbx+16], 0 */
            dt_put(it, 7, 0xc7, 0x43, 28, 0, 0, 0, 0);         /* mov dword [rbx+28], 0 */
            it->mmask_addr[0] = t + 6;
            it->mmask_len[0] = 18;
            it->mmask_addr[1] = t + 28;
            it->mmask_len[1] = 4;
        }
        return true;
    }
    dt_emit_modrm(e, &m);
    if (f->a == 0 && !(m.target_known && dt_writable(m.target, 4)) && !e->c->allow_gp)
        return false; /* random memory: reserved bits, #GP (see dt_gen_opts) */
    if (f->a == 0 && m.target_known && dt_writable(m.target, 4)) {
        /* a valid MXCSR, or one with reserved bits (bit 18 and up: not the
         * MM bit 17 an AMD host accepts) */
        uint32_t mx = (uint32_t)dt_rand(r) & 0xffff;
        if (e->c->allow_gp && dt_chance(r, 8))
            mx |= 1u << (18 + dt_below(r, 14));
        dt_insert_store(it, &before, (uint32_t)m.target, mx, 4);
    }
    return true;
}

#define P(nm, fam, pf, op, ops, fl) {nm, fam, 0, f_sse, (pf) << 8 | (op), ops, fl}
#define XX(ms, al) OPS(XMM, XMM, ms, al, 0)
#define MM(ms) OPS(MMX, MMX, ms, 0, 0)
/* packed/scalar float arithmetic: ps, pd, ss, sd */
#define FARITH(op, nm)                                                                             \
    P(nm "ps", FAM_SSE, 0, op, XX(16, 16), 0),                                                     \
    P(nm "pd", FAM_SSE2, 0x66, op, XX(16, 16), 0),                                                 \
    P(nm "ss", FAM_SSE, 0xf3, op, XX(4, 0), 0),                                                    \
    P(nm "sd", FAM_SSE2, 0xf2, op, XX(8, 0), 0)
/* integer SIMD on MMX and XMM registers */
#define IBOTH(op, nm)                                                                              \
    P(nm " mm", FAM_MMX, 0, op, MM(8), 0), P(nm " xmm", FAM_SSE2, 0x66, op, XX(16, 16), 0)
#define SHIFTI(op, dg, nm)                                                                         \
    P(nm " mm, imm8", FAM_MMX, 0, op, OPS(MMX, MMX, 8, 0, (dg) + 1), S_IMM8 | S_REGONLY),          \
    P(nm " xmm, imm8", FAM_SSE2, 0x66, op, OPS(XMM, XMM, 16, 0, (dg) + 1), S_IMM8 | S_REGONLY)

const struct dt_form dt_forms_sse[] = {
    P("movups", FAM_SSE, 0, 0x10, XX(16, 0), 0), P("movupd", FAM_SSE2, 0x66, 0x10, XX(16, 0), 0),
    P("movss", FAM_SSE, 0xf3, 0x10, XX(4, 0), 0), P("movsd", FAM_SSE2, 0xf2, 0x10, XX(8, 0), 0),
    P("movups store", FAM_SSE, 0, 0x11, XX(16, 0), S_STORE),
    P("movupd store", FAM_SSE2, 0x66, 0x11, XX(16, 0), S_STORE),
    P("movss store", FAM_SSE, 0xf3, 0x11, XX(4, 0), S_STORE),
    P("movsd store", FAM_SSE2, 0xf2, 0x11, XX(8, 0), S_STORE),
    P("movlps load", FAM_SSE, 0, 0x12, XX(8, 0), S_MEMONLY),
    P("movhlps", FAM_SSE, 0, 0x12, XX(16, 0), S_REGONLY),
    P("movlpd load", FAM_SSE2, 0x66, 0x12, XX(8, 0), S_MEMONLY),
    P("movlps store", FAM_SSE, 0, 0x13, XX(8, 0), S_MEMONLY | S_STORE),
    P("movlpd store", FAM_SSE2, 0x66, 0x13, XX(8, 0), S_MEMONLY | S_STORE),
    P("unpcklps", FAM_SSE, 0, 0x14, XX(16, 16), 0),
    P("unpcklpd", FAM_SSE2, 0x66, 0x14, XX(16, 16), 0),
    P("unpckhps", FAM_SSE, 0, 0x15, XX(16, 16), 0),
    P("unpckhpd", FAM_SSE2, 0x66, 0x15, XX(16, 16), 0),
    P("movhps load", FAM_SSE, 0, 0x16, XX(8, 0), S_MEMONLY),
    P("movlhps", FAM_SSE, 0, 0x16, XX(16, 0), S_REGONLY),
    P("movhpd load", FAM_SSE2, 0x66, 0x16, XX(8, 0), S_MEMONLY),
    P("movhps store", FAM_SSE, 0, 0x17, XX(8, 0), S_MEMONLY | S_STORE),
    P("movhpd store", FAM_SSE2, 0x66, 0x17, XX(8, 0), S_MEMONLY | S_STORE),
    P("movaps", FAM_SSE, 0, 0x28, XX(16, 16), 0), P("movapd", FAM_SSE2, 0x66, 0x28, XX(16, 16), 0),
    P("movaps store", FAM_SSE, 0, 0x29, XX(16, 16), S_STORE),
    P("movapd store", FAM_SSE2, 0x66, 0x29, XX(16, 16), S_STORE),
    P("cvtpi2ps", FAM_SSE, 0, 0x2a, OPS(XMM, MMX, 8, 0, 0), 0),
    P("cvtpi2pd", FAM_SSE2, 0x66, 0x2a, OPS(XMM, MMX, 8, 0, 0), 0),
    P("cvtsi2ss", FAM_SSE, 0xf3, 0x2a, OPS(XMM, GPR, 4, 0, 0), S_W),
    P("cvtsi2sd", FAM_SSE2, 0xf2, 0x2a, OPS(XMM, GPR, 4, 0, 0), S_W),
    P("movntps", FAM_SSE, 0, 0x2b, XX(16, 16), S_MEMONLY | S_STORE),
    P("movntpd", FAM_SSE2, 0x66, 0x2b, XX(16, 16), S_MEMONLY | S_STORE),
    P("cvttps2pi", FAM_SSE, 0, 0x2c, OPS(MMX, XMM, 8, 0, 0), 0),
    P("cvttpd2pi", FAM_SSE2, 0x66, 0x2c, OPS(MMX, XMM, 16, 16, 0), 0),
    P("cvttss2si", FAM_SSE, 0xf3, 0x2c, OPS(GPR, XMM, 4, 0, 0), S_GDST | S_W),
    P("cvttsd2si", FAM_SSE2, 0xf2, 0x2c, OPS(GPR, XMM, 8, 0, 0), S_GDST | S_W),
    P("cvtps2pi", FAM_SSE, 0, 0x2d, OPS(MMX, XMM, 8, 0, 0), 0),
    P("cvtpd2pi", FAM_SSE2, 0x66, 0x2d, OPS(MMX, XMM, 16, 16, 0), 0),
    P("cvtss2si", FAM_SSE, 0xf3, 0x2d, OPS(GPR, XMM, 4, 0, 0), S_GDST | S_W),
    P("cvtsd2si", FAM_SSE2, 0xf2, 0x2d, OPS(GPR, XMM, 8, 0, 0), S_GDST | S_W),
    P("ucomiss", FAM_SSE, 0, 0x2e, XX(4, 0), S_EFL),
    P("ucomisd", FAM_SSE2, 0x66, 0x2e, XX(8, 0), S_EFL),
    P("comiss", FAM_SSE, 0, 0x2f, XX(4, 0), S_EFL),
    P("comisd", FAM_SSE2, 0x66, 0x2f, XX(8, 0), S_EFL),
    P("movmskps", FAM_SSE, 0, 0x50, OPS(GPR, XMM, 16, 0, 0), S_GDST | S_REGONLY),
    P("movmskpd", FAM_SSE2, 0x66, 0x50, OPS(GPR, XMM, 16, 0, 0), S_GDST | S_REGONLY),
    FARITH(0x51, "sqrt"),
    P("andps", FAM_SSE, 0, 0x54, XX(16, 16), 0), P("andpd", FAM_SSE2, 0x66, 0x54, XX(16, 16), 0),
    P("andnps", FAM_SSE, 0, 0x55, XX(16, 16), 0), P("andnpd", FAM_SSE2, 0x66, 0x55, XX(16, 16), 0),
    P("orps", FAM_SSE, 0, 0x56, XX(16, 16), 0), P("orpd", FAM_SSE2, 0x66, 0x56, XX(16, 16), 0),
    P("xorps", FAM_SSE, 0, 0x57, XX(16, 16), 0), P("xorpd", FAM_SSE2, 0x66, 0x57, XX(16, 16), 0),
    FARITH(0x58, "add"), FARITH(0x59, "mul"), FARITH(0x5c, "sub"), FARITH(0x5d, "min"),
    FARITH(0x5e, "div"), FARITH(0x5f, "max"),
    P("cvtps2pd", FAM_SSE2, 0, 0x5a, XX(8, 0), 0),
    P("cvtpd2ps", FAM_SSE2, 0x66, 0x5a, XX(16, 16), 0),
    P("cvtss2sd", FAM_SSE2, 0xf3, 0x5a, XX(4, 0), 0),
    P("cvtsd2ss", FAM_SSE2, 0xf2, 0x5a, XX(8, 0), 0),
    P("cvtdq2ps", FAM_SSE2, 0, 0x5b, XX(16, 16), 0),
    P("cvtps2dq", FAM_SSE2, 0x66, 0x5b, XX(16, 16), 0),
    P("cvttps2dq", FAM_SSE2, 0xf3, 0x5b, XX(16, 16), 0),
    IBOTH(0x60, "punpcklbw"), IBOTH(0x61, "punpcklwd"), IBOTH(0x62, "punpckldq"),
    IBOTH(0x63, "packsswb"), IBOTH(0x64, "pcmpgtb"), IBOTH(0x65, "pcmpgtw"), IBOTH(0x66, "pcmpgtd"),
    IBOTH(0x67, "packuswb"), IBOTH(0x68, "punpckhbw"), IBOTH(0x69, "punpckhwd"),
    IBOTH(0x6a, "punpckhdq"), IBOTH(0x6b, "packssdw"),
    P("punpcklqdq", FAM_SSE2, 0x66, 0x6c, XX(16, 16), 0),
    P("punpckhqdq", FAM_SSE2, 0x66, 0x6d, XX(16, 16), 0),
    P("movd/movq mm, r/m", FAM_MMX, 0, 0x6e, OPS(MMX, GPR, 4, 0, 0), S_W),
    P("movd/movq xmm, r/m", FAM_SSE2, 0x66, 0x6e, OPS(XMM, GPR, 4, 0, 0), S_W),
    P("movq mm, mm/m64", FAM_MMX, 0, 0x6f, MM(8), 0),
    P("movdqa", FAM_SSE2, 0x66, 0x6f, XX(16, 16), 0),
    P("movdqu", FAM_SSE2, 0xf3, 0x6f, XX(16, 0), 0),
    P("pshufw", FAM_SSE, 0, 0x70, MM(8), S_IMM8),
    P("pshufd", FAM_SSE2, 0x66, 0x70, XX(16, 16), S_IMM8),
    P("pshufhw", FAM_SSE2, 0xf3, 0x70, XX(16, 16), S_IMM8),
    P("pshuflw", FAM_SSE2, 0xf2, 0x70, XX(16, 16), S_IMM8),
    SHIFTI(0x71, 2, "psrlw"), SHIFTI(0x71, 4, "psraw"), SHIFTI(0x71, 6, "psllw"),
    SHIFTI(0x72, 2, "psrld"), SHIFTI(0x72, 4, "psrad"), SHIFTI(0x72, 6, "pslld"),
    SHIFTI(0x73, 2, "psrlq"), SHIFTI(0x73, 6, "psllq"),
    P("psrldq", FAM_SSE2, 0x66, 0x73, OPS(XMM, XMM, 16, 0, 4), S_IMM8 | S_REGONLY),
    P("pslldq", FAM_SSE2, 0x66, 0x73, OPS(XMM, XMM, 16, 0, 8), S_IMM8 | S_REGONLY),
    IBOTH(0x74, "pcmpeqb"), IBOTH(0x75, "pcmpeqw"), IBOTH(0x76, "pcmpeqd"),
    {"emms", FAM_MMX, 0, f_state, 6, 0, 0},
    P("movd/movq r/m, mm", FAM_MMX, 0, 0x7e, OPS(MMX, GPR, 4, 0, 0), S_W | S_STORE),
    P("movd/movq r/m, xmm", FAM_SSE2, 0x66, 0x7e, OPS(XMM, GPR, 4, 0, 0), S_W | S_STORE),
    P("movq xmm, xmm/m64", FAM_SSE2, 0xf3, 0x7e, XX(8, 0), 0),
    P("movq mm/m64, mm", FAM_MMX, 0, 0x7f, MM(8), S_STORE),
    P("movdqa store", FAM_SSE2, 0x66, 0x7f, XX(16, 16), S_STORE),
    P("movdqu store", FAM_SSE2, 0xf3, 0x7f, XX(16, 0), S_STORE),
    {"ldmxcsr", FAM_SSE, 0, f_state, 0, 0, 0}, {"stmxcsr", FAM_SSE, 0, f_state, 1, 0, 0},
    {"fxsave", FAM_SSE, 0, f_state, 2, 0, 0}, {"fxrstor", FAM_SSE, 0, f_state, 3, 0, 0},
    {"lfence/mfence/sfence", FAM_SSE, 0, f_state, 4, 0, 0},
    {"clflush", FAM_SSE2, 0, f_state, 5, 0, 0},
    P("cmpps", FAM_SSE, 0, 0xc2, XX(16, 16), S_IMM8 | S_CMP),
    P("cmppd", FAM_SSE2, 0x66, 0xc2, XX(16, 16), S_IMM8 | S_CMP),
    P("cmpss", FAM_SSE, 0xf3, 0xc2, XX(4, 0), S_IMM8 | S_CMP),
    P("cmpsd", FAM_SSE2, 0xf2, 0xc2, XX(8, 0), S_IMM8 | S_CMP),
    P("pinsrw mm", FAM_SSE, 0, 0xc4, OPS(MMX, GPR, 2, 0, 0), S_IMM8),
    P("pinsrw xmm", FAM_SSE2, 0x66, 0xc4, OPS(XMM, GPR, 2, 0, 0), S_IMM8),
    P("pextrw r, mm", FAM_SSE, 0, 0xc5, OPS(GPR, MMX, 8, 0, 0), S_IMM8 | S_REGONLY | S_GDST),
    P("pextrw r, xmm", FAM_SSE2, 0x66, 0xc5, OPS(GPR, XMM, 16, 0, 0), S_IMM8 | S_REGONLY | S_GDST),
    P("shufps", FAM_SSE, 0, 0xc6, XX(16, 16), S_IMM8),
    P("shufpd", FAM_SSE2, 0x66, 0xc6, XX(16, 16), S_IMM8),
    IBOTH(0xd1, "psrlw"), IBOTH(0xd2, "psrld"), IBOTH(0xd3, "psrlq"), IBOTH(0xd4, "paddq"),
    IBOTH(0xd5, "pmullw"),
    P("movq xmm/m64, xmm", FAM_SSE2, 0x66, 0xd6, XX(8, 0), S_STORE),
    P("movq2dq", FAM_SSE2, 0xf3, 0xd6, OPS(XMM, MMX, 8, 0, 0), S_REGONLY),
    P("movdq2q", FAM_SSE2, 0xf2, 0xd6, OPS(MMX, XMM, 8, 0, 0), S_REGONLY),
    P("pmovmskb r, mm", FAM_SSE, 0, 0xd7, OPS(GPR, MMX, 8, 0, 0), S_REGONLY | S_GDST),
    P("pmovmskb r, xmm", FAM_SSE2, 0x66, 0xd7, OPS(GPR, XMM, 16, 0, 0), S_REGONLY | S_GDST),
    IBOTH(0xd8, "psubusb"), IBOTH(0xd9, "psubusw"), IBOTH(0xda, "pminub"), IBOTH(0xdb, "pand"),
    IBOTH(0xdc, "paddusb"), IBOTH(0xdd, "paddusw"), IBOTH(0xde, "pmaxub"), IBOTH(0xdf, "pandn"),
    IBOTH(0xe0, "pavgb"), IBOTH(0xe1, "psraw"), IBOTH(0xe2, "psrad"), IBOTH(0xe3, "pavgw"),
    IBOTH(0xe4, "pmulhuw"), IBOTH(0xe5, "pmulhw"),
    P("cvttpd2dq", FAM_SSE2, 0x66, 0xe6, XX(16, 16), 0),
    P("cvtdq2pd", FAM_SSE2, 0xf3, 0xe6, XX(8, 0), 0),
    P("cvtpd2dq", FAM_SSE2, 0xf2, 0xe6, XX(16, 16), 0),
    P("movntq", FAM_SSE, 0, 0xe7, MM(8), S_MEMONLY | S_STORE),
    P("movntdq", FAM_SSE2, 0x66, 0xe7, XX(16, 16), S_MEMONLY | S_STORE),
    IBOTH(0xe8, "psubsb"), IBOTH(0xe9, "psubsw"), IBOTH(0xea, "pminsw"), IBOTH(0xeb, "por"),
    IBOTH(0xec, "paddsb"), IBOTH(0xed, "paddsw"), IBOTH(0xee, "pmaxsw"), IBOTH(0xef, "pxor"),
    IBOTH(0xf1, "psllw"), IBOTH(0xf2, "pslld"), IBOTH(0xf3, "psllq"), IBOTH(0xf4, "pmuludq"),
    IBOTH(0xf5, "pmaddwd"), IBOTH(0xf6, "psadbw"),
    P("maskmovq", FAM_SSE, 0, 0xf7, MM(8), S_REGONLY | S_RDI),
    P("maskmovdqu", FAM_SSE2, 0x66, 0xf7, XX(16, 0), S_REGONLY | S_RDI),
    IBOTH(0xf8, "psubb"), IBOTH(0xf9, "psubw"), IBOTH(0xfa, "psubd"), IBOTH(0xfb, "psubq"),
    IBOTH(0xfc, "paddb"), IBOTH(0xfd, "paddw"), IBOTH(0xfe, "paddd"),
    {"rcpps", FAM_APPROX, FF_APPROX, f_sse, 0x53, XX(16, 16), S_APS},
    {"rcpss", FAM_APPROX, FF_APPROX, f_sse, 0xf3 << 8 | 0x53, XX(4, 0), S_ASS},
    {"rsqrtps", FAM_APPROX, FF_APPROX, f_sse, 0x52, XX(16, 16), S_APS},
    {"rsqrtss", FAM_APPROX, FF_APPROX, f_sse, 0xf3 << 8 | 0x52, XX(4, 0), S_ASS},
};
const unsigned dt_nforms_sse = sizeof(dt_forms_sse) / sizeof(dt_forms_sse[0]);
