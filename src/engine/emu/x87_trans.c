/* x87 transcendental instructions (Intel SDM Vol. 2: F2XM1, FYL2X,
 * FYL2XP1, FPTAN, FPATAN, FSIN, FCOS, FSINCOS; the special-operand tables
 * on those pages). Special operands (NaNs, infinities, zeros, unsupported
 * encodings, the out-of-range arguments of the trigonometric instructions)
 * are handled exactly here; finite results come from the host's long
 * double <math.h> functions and are rounded to 80 bits by the FCW's RC.
 * They are therefore NOT bit-exact to Intel hardware: on x86-64 hosts the
 * long double is the 80-bit format and results are within about 1 ulp
 * (the transcendental instructions themselves are only specified to
 * about 1 ulp); on hosts where long double is binary128 they are at least
 * as accurate; where long double is double (MSVC) they lose precision.
 * PE is always reported for an inexact result and C1 reflects only the
 * final rounding. */
#include <math.h>

#include "handlers.h"
#include "x87.h"

static bool x87_is_nan_class(enum f80_class c)
{
    return c == F80_CLASS_QNAN || c == F80_CLASS_SNAN;
}

/* A host result to 80 bits. An infinity from finite operands is an
 * overflow; a result below the normal range (or 0 where the exact result is
 * not: nonzero) is an inexact underflow. */
static struct emu_f80 x87_from_host_dir(struct f80_env *e, long double v, bool nonzero, int below)
{
    if (isinf(v)) /* just past the range: the overflow response */
        return f80_round_pack(e, signbit(v) != 0, 16384, (f80_u128)1 << 127, 64);
    struct emu_f80 r = f80_from_ld(e, v, below);
    if ((r.sexp & 0x7fff) == 0 && (v != 0 || nonzero))
        e->flags |= F80_UE | F80_PE;
    return r;
}

static struct emu_f80 x87_from_host(struct f80_env *e, long double v, bool nonzero)
{
    return x87_from_host_dir(e, v, nonzero, 0);
}

/* b * l * 2^lexp for F2XM1, FYL2X and FYL2XP1, with l (a logarithm or
 * ln(2), nonzero and finite) from the host: the product is rounded once in
 * software, so that one outside the host's range gets the x87 overflow or
 * underflow response (with OE or UE unmasked, the exponent-wrapped result
 * hardware gives). The product is always inexact (a sticky bit: PE, and a
 * masked underflow is reported), as on hardware even where the logarithm
 * is exact (log2 of a power of two). */
static struct emu_f80 x87_mul_host(struct f80_env *e, struct emu_f80 b, long double l, int lexp)
{
    struct f80_parts p = f80_unpack(b);
    int ex;
    if (l == 0 || isinf(l)) /* only where long double is narrower than 80 bits */
        return x87_from_host(e, ldexpl(f80_to_ld(b) * l, lexp), true);
    /* |l| = (hi + lo / 2^64) * 2^(ex - 64), hi with its top bit set */
    long double m = ldexpl(frexpl(fabsl(l), &ex), 64);
    uint64_t hi = (uint64_t)m;
    f80_u128 sig = (f80_u128)hi * p.sig | 1;
    return f80_round_pack(e, p.sign != (signbit(l) != 0), ex + lexp + p.exp, sig, 64);
}

/* |a| < 2^63: the range of FSIN, FCOS, FSINCOS and FPTAN. */
static bool x87_trig_in_range(struct emu_f80 a)
{
    return (a.sexp & 0x7fff) < 0x3fff + 63;
}

/* F2XM1: ST(0) = 2^ST(0) - 1. */
static void x87_f2xm1(struct emu_fpu *f)
{
    struct emu_f80 a = x87_st(f, 0), r;
    struct f80_env e = x87_env(f);
    enum f80_class c = f80_classify(a);

    if (c == F80_CLASS_UNSUPPORTED) {
        e.flags |= F80_IE;
        r = f80_indefinite();
    } else if (x87_is_nan_class(c)) {
        r = f80_propagate_nan1(&e, a);
    } else if (c == F80_CLASS_INF) {
        r = f80_sign(a) ? f80_one(true) : a;
    } else if (c == F80_CLASS_ZERO) {
        r = a;
    } else if ((a.sexp & 0x7fff) >= 0x3fff) {
        /* |a| >= 1: -1 gives -0.5; outside the domain a comes back. */
        e.flags |= F80_PE;
        r = (a.sexp == 0xbfff && a.mant == 1ull << 63) ? f80_make(0xbffe, 1ull << 63) : a;
    } else {
        if (c == F80_CLASS_DENORMAL)
            e.flags |= F80_DE;
        /* Below 2^-64, 2^a - 1 is a * ln(2) to 64 bits: rounded in
         * software, as the host's denormals would lose bits. */
        if (f80_unpack(a).exp < -64)
            r = x87_mul_host(&e, a, 0.693147180559945309417232121458176568L, 0);
        else
            r = x87_from_host(&e, expm1l(f80_to_ld(a) * 0.693147180559945309417232121458176568L),
                              true);
    }
    if (!x87_exception(f, e.flags, false))
        x87_set_st(f, 0, r);
}

/* FYL2X (p1 false): ST(1) = ST(1) * log2(ST(0)); FYL2XP1: ST(1) * log2(ST(0) + 1). Pops. */
static void x87_fyl2x(struct emu_fpu *f, bool p1)
{
    struct emu_f80 a = x87_st(f, 0), b = x87_st(f, 1), r;
    struct f80_env e = x87_env(f);
    enum f80_class ca = f80_classify(a), cb = f80_classify(b);
    bool sa = f80_sign(a), sb = f80_sign(b);
    bool den = ca == F80_CLASS_DENORMAL || cb == F80_CLASS_DENORMAL;

    if (ca == F80_CLASS_UNSUPPORTED || cb == F80_CLASS_UNSUPPORTED) {
        r = f80_indefinite();
        e.flags |= F80_IE;
    } else if (x87_is_nan_class(ca) || x87_is_nan_class(cb)) {
        r = f80_propagate_nan(&e, a, b);
    } else if (!p1) {
        /* log2 of a: a < 0 (not -0) is invalid, a = 0 divides by zero,
         * 0 * inf and inf * log2(1) are invalid. */
        int cmp1 = f80_compare(&(struct f80_env){0x3f, 0}, a, f80_one(false), true);
        if (ca != F80_CLASS_ZERO && sa) {
            r = f80_indefinite();
            e.flags |= F80_IE;
        } else if (ca == F80_CLASS_ZERO && cb != F80_CLASS_INF) {
            if (cb == F80_CLASS_ZERO) {
                r = f80_indefinite();
                e.flags |= F80_IE;
            } else {
                r = f80_inf(!sb);
                e.flags |= F80_ZE | (den ? F80_DE : 0);
            }
        } else if (ca == F80_CLASS_INF || cb == F80_CLASS_INF) {
            if ((ca == F80_CLASS_INF && cb == F80_CLASS_ZERO) ||
                (cb == F80_CLASS_INF && cmp1 == F80_EQ)) {
                r = f80_indefinite();
                e.flags |= F80_IE;
            } else {
                r = f80_inf(cmp1 == F80_LT ? !sb : sb);
                e.flags |= den ? F80_DE : 0;
            }
        } else if (cb == F80_CLASS_ZERO || cmp1 == F80_EQ) {
            r = f80_zero(cmp1 == F80_LT ? !sb : sb);
            e.flags |= den ? F80_DE : 0;
        } else {
            e.flags |= den ? F80_DE : 0;
            r = x87_mul_host(&e, b, log2l(f80_to_ld(a)), 0);
        }
    } else {
        if (ca == F80_CLASS_INF || cb == F80_CLASS_INF) {
            if ((ca == F80_CLASS_INF && (sa || cb == F80_CLASS_ZERO)) ||
                (cb == F80_CLASS_INF && ca == F80_CLASS_ZERO)) {
                r = f80_indefinite();
                e.flags |= F80_IE;
            } else {
                r = f80_inf(ca == F80_CLASS_INF ? sb : sa ^ sb);
                e.flags |= den ? F80_DE : 0;
            }
        } else if (ca == F80_CLASS_ZERO || cb == F80_CLASS_ZERO) {
            r = f80_zero(sa ^ sb);
            e.flags |= den ? F80_DE : 0;
        } else if (sa && (a.sexp & 0x7fff) >= 0x3fff) {
            /* ST(0) <= -1 is outside the domain: ST(0) comes back. */
            r = a;
            e.flags |= F80_PE | (den ? F80_DE : 0);
        } else {
            e.flags |= den ? F80_DE : 0;
            /* Below 2^-64, log1p(a) is a to 64 bits: a is scaled to [1, 2)
             * so that the host's denormals lose nothing. */
            struct f80_parts pa = f80_unpack(a);
            long double l = pa.exp < -64 ? ldexpl((long double)pa.sig, -63) * (pa.sign ? -1 : 1)
                                         : log1pl(f80_to_ld(a));
            r = x87_mul_host(&e, b, l * 1.442695040888963407359924681001892137L,
                             pa.exp < -64 ? pa.exp : 0);
        }
    }
    if (!x87_exception(f, e.flags, false)) {
        x87_set_st(f, 1, r);
        x87_pop(f);
    }
}

/* FPATAN: ST(1) = arctan(ST(1) / ST(0)) in the quadrant of (ST(0), ST(1)). Pops. */
static void x87_fpatan(struct emu_fpu *f)
{
    struct emu_f80 x = x87_st(f, 0), y = x87_st(f, 1), r;
    struct f80_env e = x87_env(f);
    enum f80_class cx = f80_classify(x), cy = f80_classify(y);

    if (cx == F80_CLASS_UNSUPPORTED || cy == F80_CLASS_UNSUPPORTED) {
        r = f80_indefinite();
        e.flags |= F80_IE;
    } else if (x87_is_nan_class(cx) || x87_is_nan_class(cy)) {
        r = f80_propagate_nan(&e, x, y);
    } else {
        /* The signed zeros and infinities follow IEEE atan2, as the table. */
        if (cx == F80_CLASS_DENORMAL || cy == F80_CLASS_DENORMAL)
            e.flags |= F80_DE;
        struct f80_parts py = f80_unpack(y), px = f80_unpack(x);
        bool finite = (cx == F80_CLASS_NORMAL || cx == F80_CLASS_DENORMAL) &&
                      (cy == F80_CLASS_NORMAL || cy == F80_CLASS_DENORMAL);
        if (finite && !px.sign && py.exp - px.exp < -40) {
            /* atan(y / x) is y / x to 64 bits: the quotient is rounded in
             * software (inexact), as the host's denormals would lose bits. */
            f80_u128 n = (f80_u128)py.sig << 63, q1 = n / px.sig;
            f80_u128 q2 = ((n % px.sig) << 64) / px.sig;
            r = f80_round_pack(&e, py.sign, py.exp - px.exp, q1 << 64 | q2 | 1, 64);
        } else {
            r = x87_from_host(&e, atan2l(f80_to_ld(y), f80_to_ld(x)),
                              cy != F80_CLASS_ZERO && cx != F80_CLASS_INF);
        }
    }
    if (!x87_exception(f, e.flags, false)) {
        x87_set_st(f, 1, r);
        x87_pop(f);
    }
}

enum { X87_SIN, X87_COS, X87_TAN };

/* The argument checks shared by FSIN, FCOS, FSINCOS and FPTAN. Returns 1
 * and *r when the result is decided (NaN, invalid, zero), 0 to compute,
 * -1 when out of range (C2 = 1, nothing changes). */
static int x87_trig_arg(struct f80_env *e, struct emu_f80 a, struct emu_f80 *r)
{
    enum f80_class c = f80_classify(a);

    if (c == F80_CLASS_UNSUPPORTED || c == F80_CLASS_INF) {
        e->flags |= F80_IE;
        *r = f80_indefinite();
        return 1;
    }
    if (x87_is_nan_class(c)) {
        *r = f80_propagate_nan1(e, a);
        return 1;
    }
    if (!x87_trig_in_range(a))
        return -1;
    if (c == F80_CLASS_DENORMAL)
        e->flags |= F80_DE;
    return 0;
}

/* pi/2 as the x87 holds it for argument reduction: 66 bits (SDM Vol. 1
 * 8.3.8), in units of 2^-65. */
#define X87_PIO2_66 (((f80_u128)0x3243f6a8885a308dull << 4) | 0x3)

/* Reduces |a| < 2^63 exactly by the 66-bit pi/2: |a| = k * pi/2 + r with
 * |r| <= pi/4 (as the hardware does, so that large arguments come out as
 * on hardware rather than as with an exact pi). Returns r, sets *k. */
static long double x87_reduce(struct emu_f80 a, unsigned *k)
{
    struct f80_parts p = f80_unpack(a);

    *k = 0;
    if (p.exp < -1) /* below 0.5: nothing to reduce */
        return ldexpl((long double)p.sig, p.exp - 63);
    /* In units of 2^-65: X = sig * 2^(exp + 2) (< 2^128 as exp <= 62). */
    f80_u128 X = (f80_u128)p.sig << (p.exp + 2), P = X87_PIO2_66;
    f80_u128 q = X / P, R = X % P;
    long double r;
    if (2 * R > P) {
        q++;
        r = -ldexpl((long double)(P - R), -65);
    } else {
        r = ldexpl((long double)R, -65);
    }
    *k = (unsigned)(q & 3);
    return r;
}

static struct emu_f80 x87_trig(struct f80_env *e, struct emu_f80 a, int fn)
{
    unsigned k;

    if (f80_classify(a) == F80_CLASS_ZERO)
        return fn == X87_COS ? f80_one(false) : a;
    long double r = x87_reduce(a, &k), v;
    bool neg = f80_sign(a);
    /* For a tiny reduced argument libm returns r (or 1) exactly; the exact
     * sin and cos are a little smaller in magnitude, tan a little larger. */
    int below = 0;
    if (fabsl(r) < 0x1p-32L) {
        bool sinlike = (fn == X87_COS) == (k & 1);
        below = fn == X87_TAN ? ((k & 1) ? -1 : 1) : sinlike ? -1 : (r != 0 ? -1 : 0);
    }
    switch (fn) {
    case X87_SIN: /* sin(r + k pi/2) */
        v = (k & 1) ? cosl(r) : sinl(r);
        if (k & 2)
            v = -v;
        if (neg)
            v = -v;
        break;
    case X87_COS:
        v = (k & 1) ? sinl(r) : cosl(r);
        if (((k + 1) & 2))
            v = -v;
        break;
    default:
        v = (k & 1) ? -cosl(r) / sinl(r) : tanl(r);
        if (neg)
            v = -v;
        break;
    }
    return x87_from_host_dir(e, v, fn != X87_COS, below);
}

/* FSIN, FCOS: ST(0) = sin/cos ST(0). */
static void x87_fsin_fcos(struct emu_fpu *f, int fn)
{
    struct emu_f80 a = x87_st(f, 0), r;
    struct f80_env e = x87_env(f);

    int k = x87_trig_arg(&e, a, &r);
    if (k < 0) {
        f->fsw |= X87_SW_C2;
        return;
    }
    if (k == 0)
        r = x87_trig(&e, a, fn);
    if (!x87_exception(f, e.flags, false))
        x87_set_st(f, 0, r);
}

/* FPTAN: ST(0) = tan ST(0), push 1.0. FSINCOS: ST(0) = sin, push cos. */
static void x87_two_results(struct emu_fpu *f, bool sincos)
{
    struct emu_f80 a = x87_st(f, 0), r0, r1;
    struct f80_env e = x87_env(f);

    if (x87_empty(f, 0) || !x87_empty(f, 7)) {
        bool under = x87_empty(f, 0);
        x87_exception(f, under ? F80_IE | F80_SF : F80_IE | F80_SF | F80_C1, false);
        if (x87_ie_masked(f)) {
            x87_set_top(f, emu_fpu_top(f) - 1);
            x87_set_st(f, 0, f80_indefinite());
            x87_set_st(f, 1, f80_indefinite());
        }
        return;
    }
    int k = x87_trig_arg(&e, a, &r0);
    if (k < 0) {
        f->fsw |= X87_SW_C2;
        return;
    }
    if (k > 0) {
        r1 = r0; /* NaN or indefinite in both */
    } else if (sincos) {
        r0 = x87_trig(&e, a, X87_SIN);
        r1 = x87_trig(&e, a, X87_COS);
    } else {
        r0 = x87_trig(&e, a, X87_TAN);
        r1 = f80_one(false);
    }
    if (!x87_exception(f, e.flags, false)) {
        x87_set_st(f, 0, r0);
        x87_push(f, r1);
    }
}

int x87_trans(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct emu_fpu *f = &cpu->fpu;
    unsigned k = (in->reg & 1u) << 3 | (in->rm & 7u);

    f->fsw &= (uint16_t)~(X87_SW_C1 | X87_SW_C2);
    switch (k) {
    case 0: /* F2XM1 */
    case 14: /* FSIN */
    case 15: /* FCOS */
        if (x87_empty(f, 0)) {
            x87_stack_underflow(f, 0, false);
            return EMU_OK;
        }
        if (k == 0)
            x87_f2xm1(f);
        else
            x87_fsin_fcos(f, k == 14 ? X87_SIN : X87_COS);
        return EMU_OK;
    case 1: /* FYL2X */
    case 3: /* FPATAN */
    case 9: /* FYL2XP1 */
        if (x87_empty(f, 0) || x87_empty(f, 1)) {
            x87_stack_underflow(f, 1, true);
            return EMU_OK;
        }
        if (k == 3)
            x87_fpatan(f);
        else
            x87_fyl2x(f, k == 9);
        return EMU_OK;
    case 2: /* FPTAN */
    case 11: /* FSINCOS */
        x87_two_results(f, k == 11);
        return EMU_OK;
    default:
        return emu_ud(cpu);
    }
}
