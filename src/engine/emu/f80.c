/* The 80-bit floating-point core: classification, rounding, the NaN rules,
 * add/sub/mul/div/sqrt and compare (Intel SDM Vol. 1 4.2-4.9 and 8.1.5,
 * 8.5; the special-operand tables of FADD/FMUL/FDIV/FSQRT/FCOM in Vol. 2).
 * See f80.h for the conventions. */
#include "f80.h"

/* ---- helpers ---- */

static unsigned f80_clz128(f80_u128 x)
{
    uint64_t hi = (uint64_t)(x >> 64);
    if (hi)
        return (unsigned)__builtin_clzll(hi);
    return 64 + (unsigned)__builtin_clzll((uint64_t)x);
}

/* Shift right, ORing the bits shifted out into bit 0 (the sticky bit). */
static f80_u128 f80_shr_jam(f80_u128 x, uint32_t n)
{
    if (n == 0)
        return x;
    if (n >= 128)
        return x != 0;
    return (x >> n) | ((x << (128 - n)) != 0);
}

unsigned f80_precision(const struct f80_env *e)
{
    switch ((e->cw >> F80_PC_SHIFT) & 3) {
    case 0: return 24;
    case 2: return 53;
    default: return 64; /* PC=01 is reserved; hardware rounds to 64 bits */
    }
}

enum f80_class f80_classify(struct emu_f80 a)
{
    unsigned e = a.sexp & 0x7fff;
    bool j = a.mant >> 63;

    if (e == 0)
        return a.mant ? F80_CLASS_DENORMAL : F80_CLASS_ZERO;
    if (!j)
        return F80_CLASS_UNSUPPORTED; /* unnormal, pseudo-infinity, pseudo-NaN */
    if (e == 0x7fff) {
        if (!(a.mant << 1))
            return F80_CLASS_INF;
        return ((a.mant >> 62) & 1) ? F80_CLASS_QNAN : F80_CLASS_SNAN;
    }
    return F80_CLASS_NORMAL;
}

static bool f80_class_nan(enum f80_class c)
{
    return c == F80_CLASS_QNAN || c == F80_CLASS_SNAN;
}

struct f80_parts f80_unpack(struct emu_f80 a)
{
    struct f80_parts p;
    int32_t e = a.sexp & 0x7fff;

    p.sign = f80_sign(a);
    p.sig = a.mant;
    /* Denormals and pseudo-denormals have the exponent of the smallest normal. */
    p.exp = (e ? e : 1) - 16383;
    if (p.sig && !(p.sig >> 63)) {
        unsigned lz = (unsigned)__builtin_clzll(p.sig);
        p.sig <<= lz;
        p.exp -= (int32_t)lz;
    }
    return p;
}

/* ---- rounding ---- */

/* Keeps the top prec bits of sig (bit 127 set), rounded by rc. The result
 * may carry into bit prec. */
static f80_u128 f80_round_bits(f80_u128 sig, unsigned prec, unsigned rc, bool sign, bool *inexact,
                               bool *up)
{
    f80_u128 m = sig >> (128 - prec);
    f80_u128 rest = sig << prec;
    bool half = (bool)(rest >> 127), sticky = (rest << 1) != 0;

    *inexact = half || sticky;
    switch (rc) {
    case F80_RC_NEAREST: *up = half && (sticky || (m & 1)); break;
    case F80_RC_DOWN: *up = *inexact && sign; break;
    case F80_RC_UP: *up = *inexact && !sign; break;
    default: *up = false; break;
    }
    return m + *up;
}

struct f80_rounded f80_round(struct f80_env *e, bool sign, int32_t exp, f80_u128 sig,
                             const struct f80_fmt *fmt)
{
    struct f80_rounded r = {F80_R_ZERO, sign, 0, 0};
    unsigned rc = (e->cw >> F80_RC_SHIFT) & 3, prec = fmt->prec;
    bool inexact, up;

    if (!sig)
        return r;
    unsigned lz = f80_clz128(sig);
    sig <<= lz;
    exp -= (int32_t)lz;

    f80_u128 m = f80_round_bits(sig, prec, rc, sign, &inexact, &up);
    int32_t e2 = exp;
    if (m >> prec) {
        m >>= 1;
        e2++;
    }
    /* Tininess is detected after rounding (with an unbounded exponent).
     * The unmasked responses wrap the exponent by adj; a result that the
     * wrap cannot bring into range (FSCALE) is a signed zero or infinity,
     * whatever the rounding control (as AMD hardware does). */
    if (e2 < fmt->emin) {
        if (!(e->cw & F80_UE) && e2 + fmt->adj < fmt->emin) {
            e->flags |= F80_UE | F80_PE;
            return r;
        }
        if (e->cw & F80_UE) {
            /* Masked: denormalize, then round at the same bit position. */
            f80_u128 d = f80_shr_jam(sig, (uint32_t)(fmt->emin - exp));
            m = f80_round_bits(d, prec, rc, sign, &inexact, &up);
            if (inexact)
                e->flags |= F80_UE | F80_PE;
            if (up)
                e->flags |= F80_C1;
            if (!m)
                return r;
            r.kind = F80_R_FINITE;
            r.exp = fmt->emin;
            r.m = (uint64_t)m;
            return r;
        }
        /* Unmasked: the normalized result with the exponent biased up. */
        e->flags |= F80_UE;
        e2 += fmt->adj;
    } else if (e2 > fmt->emax) {
        if (!(e->cw & F80_OE) && e2 - fmt->adj > fmt->emax) {
            e->flags |= F80_OE | F80_PE | F80_C1;
            r.kind = F80_R_INF;
            return r;
        }
        if (e->cw & F80_OE) {
            e->flags |= F80_OE | F80_PE;
            if (rc == F80_RC_NEAREST || (rc == F80_RC_UP && !sign) ||
                (rc == F80_RC_DOWN && sign)) {
                e->flags |= F80_C1;
                r.kind = F80_R_INF;
                return r;
            }
            r.kind = F80_R_FINITE;
            r.exp = fmt->emax;
            r.m = prec == 64 ? ~0ull : (1ull << prec) - 1;
            return r;
        }
        e->flags |= F80_OE;
        e2 -= fmt->adj;
    }
    if (inexact)
        e->flags |= F80_PE;
    if (up)
        e->flags |= F80_C1;
    r.kind = F80_R_FINITE;
    r.exp = e2;
    r.m = (uint64_t)m;
    return r;
}

static const struct f80_fmt f80_fmt_x[3] = {
    {24, -16382, 16383, 24576},
    {53, -16382, 16383, 24576},
    {64, -16382, 16383, 24576},
};

struct emu_f80 f80_round_pack(struct f80_env *e, bool sign, int32_t exp, f80_u128 sig,
                              unsigned prec)
{
    const struct f80_fmt *fmt = &f80_fmt_x[prec == 24 ? 0 : prec == 53 ? 1 : 2];
    struct f80_rounded r = f80_round(e, sign, exp, sig, fmt);

    if (r.kind == F80_R_ZERO)
        return f80_zero(sign);
    if (r.kind == F80_R_INF)
        return f80_inf(sign);
    uint64_t mant = r.m << (64 - prec);
    int32_t biased = (mant >> 63) ? r.exp + 16383 : 0;
    /* Only an unmasked over/underflow far outside the range (FSCALE) gets
     * here out of range; saturate rather than wrap. */
    if (biased >= 0x7fff)
        return f80_inf(sign);
    if (biased < 0)
        return f80_zero(sign);
    return f80_make((uint16_t)((sign ? 0x8000 : 0) | biased), mant);
}

/* ---- NaNs ---- */

struct emu_f80 f80_propagate_nan(struct f80_env *e, struct emu_f80 a, struct emu_f80 b)
{
    bool an = f80_is_nan(a), bn = f80_is_nan(b);
    bool as = an && !((a.mant >> 62) & 1), bs = bn && !((b.mant >> 62) & 1);

    if (as || bs)
        e->flags |= F80_IE;
    a.mant |= 0xc000000000000000ull;
    b.mant |= 0xc000000000000000ull;
    if (as) {
        if (!bs)
            return bn ? b : a;
    } else if (an) {
        if (bs || !bn)
            return a;
    } else {
        return b;
    }
    /* Two NaNs of a kind: the larger significand, then the positive one. */
    if (a.mant != b.mant)
        return a.mant > b.mant ? a : b;
    return a.sexp < b.sexp ? a : b;
}

struct emu_f80 f80_propagate_nan1(struct f80_env *e, struct emu_f80 a)
{
    if (!((a.mant >> 62) & 1))
        e->flags |= F80_IE;
    a.mant |= 0xc000000000000000ull;
    return a;
}

/* Common prologue of the two-operand operations: unsupported encodings are
 * invalid, NaNs propagate. Returns true with *r set when that decided. */
static bool f80_special2(struct f80_env *e, struct emu_f80 a, struct emu_f80 b,
                         enum f80_class ca, enum f80_class cb, struct emu_f80 *r)
{
    if (ca == F80_CLASS_UNSUPPORTED || cb == F80_CLASS_UNSUPPORTED) {
        e->flags |= F80_IE;
        *r = f80_indefinite();
        return true;
    }
    if (f80_class_nan(ca) || f80_class_nan(cb)) {
        *r = f80_propagate_nan(e, a, b);
        return true;
    }
    return false;
}

static struct emu_f80 f80_invalid(struct f80_env *e)
{
    e->flags |= F80_IE;
    return f80_indefinite();
}

/* ---- add, subtract ---- */

static struct emu_f80 f80_addsub(struct f80_env *e, struct emu_f80 a, struct emu_f80 b, bool negb)
{
    enum f80_class ca = f80_classify(a), cb = f80_classify(b);
    struct emu_f80 r;
    unsigned rc = (e->cw >> F80_RC_SHIFT) & 3;

    if (f80_special2(e, a, b, ca, cb, &r))
        return r;
    bool sa = f80_sign(a), sb = f80_sign(b) ^ negb;
    if (ca == F80_CLASS_DENORMAL || cb == F80_CLASS_DENORMAL)
        e->flags |= F80_DE;
    if (ca == F80_CLASS_INF) {
        if (cb == F80_CLASS_INF && sa != sb)
            return f80_invalid(e);
        return f80_inf(sa);
    }
    if (cb == F80_CLASS_INF)
        return f80_inf(sb);
    if (ca == F80_CLASS_ZERO && cb == F80_CLASS_ZERO)
        return f80_zero(sa == sb ? sa : rc == F80_RC_DOWN);

    struct f80_parts pa = f80_unpack(a), pb = f80_unpack(b);
    f80_u128 A = (f80_u128)pa.sig << 62, B = (f80_u128)pb.sig << 62;
    int32_t ea = pa.exp, eb = pb.exp;
    /* A zero operand takes the other's exponent (no pointless shift). */
    if (!A)
        ea = eb;
    if (!B)
        eb = ea;
    if (ea < eb || (ea == eb && A < B)) {
        f80_u128 t = A;
        A = B;
        B = t;
        int32_t te = ea;
        ea = eb;
        eb = te;
        bool ts = sa;
        sa = sb;
        sb = ts;
    }
    B = f80_shr_jam(B, (uint32_t)(ea - eb));
    f80_u128 S = sa == sb ? A + B : A - B;
    if (!S) /* exact cancellation: +0, or -0 when rounding down */
        return f80_zero(rc == F80_RC_DOWN);
    /* |value| = S * 2^(ea - 125) */
    return f80_round_pack(e, sa, ea + 2, S, f80_precision(e));
}

struct emu_f80 f80_add(struct f80_env *e, struct emu_f80 a, struct emu_f80 b)
{
    return f80_addsub(e, a, b, false);
}

struct emu_f80 f80_sub(struct f80_env *e, struct emu_f80 a, struct emu_f80 b)
{
    return f80_addsub(e, a, b, true);
}

/* ---- multiply, divide ---- */

struct emu_f80 f80_mul(struct f80_env *e, struct emu_f80 a, struct emu_f80 b)
{
    enum f80_class ca = f80_classify(a), cb = f80_classify(b);
    struct emu_f80 r;

    if (f80_special2(e, a, b, ca, cb, &r))
        return r;
    bool sign = f80_sign(a) ^ f80_sign(b);
    if (ca == F80_CLASS_INF || cb == F80_CLASS_INF) {
        if (ca == F80_CLASS_ZERO || cb == F80_CLASS_ZERO)
            return f80_invalid(e);
        if (ca == F80_CLASS_DENORMAL || cb == F80_CLASS_DENORMAL)
            e->flags |= F80_DE;
        return f80_inf(sign);
    }
    if (ca == F80_CLASS_DENORMAL || cb == F80_CLASS_DENORMAL)
        e->flags |= F80_DE;
    if (ca == F80_CLASS_ZERO || cb == F80_CLASS_ZERO)
        return f80_zero(sign);
    struct f80_parts pa = f80_unpack(a), pb = f80_unpack(b);
    f80_u128 p = (f80_u128)pa.sig * pb.sig;
    /* |value| = p * 2^(ea + eb - 126) */
    return f80_round_pack(e, sign, pa.exp + pb.exp + 1, p, f80_precision(e));
}

struct emu_f80 f80_div(struct f80_env *e, struct emu_f80 a, struct emu_f80 b)
{
    enum f80_class ca = f80_classify(a), cb = f80_classify(b);
    struct emu_f80 r;

    if (f80_special2(e, a, b, ca, cb, &r))
        return r;
    bool sign = f80_sign(a) ^ f80_sign(b);
    if (ca == F80_CLASS_INF) {
        if (cb == F80_CLASS_INF)
            return f80_invalid(e);
        if (cb == F80_CLASS_DENORMAL)
            e->flags |= F80_DE;
        return f80_inf(sign);
    }
    if (cb == F80_CLASS_INF) {
        if (ca == F80_CLASS_DENORMAL)
            e->flags |= F80_DE;
        return f80_zero(sign);
    }
    if (cb == F80_CLASS_ZERO) {
        /* 0/0 is invalid; x/0 reports ZE alone (no DE for a denormal x). */
        if (ca == F80_CLASS_ZERO)
            return f80_invalid(e);
        e->flags |= F80_ZE;
        return f80_inf(sign);
    }
    if (ca == F80_CLASS_DENORMAL || cb == F80_CLASS_DENORMAL)
        e->flags |= F80_DE;
    if (ca == F80_CLASS_ZERO)
        return f80_zero(sign);

    struct f80_parts pa = f80_unpack(a), pb = f80_unpack(b);
    /* Both significands are in [2^63, 2^64): two 64-bit quotient digits of
     * (A << 63) / B give at least 127 bits, the remainder the sticky bit. */
    f80_u128 num = (f80_u128)pa.sig << 63;
    f80_u128 q1 = num / pb.sig, r1 = num % pb.sig;
    f80_u128 num2 = r1 << 64;
    f80_u128 q2 = num2 / pb.sig, r2 = num2 % pb.sig;
    f80_u128 q = (q1 << 64) | q2 | (r2 != 0);
    /* |value| = q * 2^(ea - eb - 127) */
    return f80_round_pack(e, sign, pa.exp - pb.exp, q, f80_precision(e));
}

/* ---- square root ---- */

/* Integer square root of x (2^126 <= x < 2^128): floor(sqrt(x)), *rem = x - root^2. */
static uint64_t f80_isqrt(f80_u128 x, f80_u128 *rem)
{
    f80_u128 res = 0, bit = (f80_u128)1 << 126;

    while (bit) {
        if (x >= res + bit) {
            x -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    *rem = x;
    return (uint64_t)res;
}

struct emu_f80 f80_sqrt(struct f80_env *e, struct emu_f80 a)
{
    enum f80_class ca = f80_classify(a);

    if (ca == F80_CLASS_UNSUPPORTED)
        return f80_invalid(e);
    if (f80_class_nan(ca))
        return f80_propagate_nan1(e, a);
    if (ca == F80_CLASS_ZERO)
        return a; /* sqrt(-0) = -0 */
    if (f80_sign(a))
        return f80_invalid(e);
    if (ca == F80_CLASS_INF)
        return a;
    if (ca == F80_CLASS_DENORMAL)
        e->flags |= F80_DE;

    struct f80_parts p = f80_unpack(a);
    /* value = R * 2^(t - 63 - k) with an even power and 2^126 <= R < 2^128. */
    int32_t t = p.exp;
    unsigned k = (t & 1) ? 64 : 63;
    f80_u128 R = (f80_u128)p.sig << k, rem;
    uint64_t root = f80_isqrt(R, &rem);
    /* sqrt(R) >= root + 1/2 exactly when rem > root; it is never a tie. */
    f80_u128 sig = ((f80_u128)root << 64) | (rem > root ? (f80_u128)1 << 63 : 0) | (rem != 0);
    int32_t half = (t - 63 - (int32_t)k) / 2;
    return f80_round_pack(e, false, half + 63, sig, f80_precision(e));
}

/* ---- compare ---- */

/* Orders |a| and |b| for finite or infinite, non-NaN values. */
static int f80_cmp_mag(struct emu_f80 a, enum f80_class ca, struct emu_f80 b, enum f80_class cb)
{
    if (ca == F80_CLASS_INF || cb == F80_CLASS_INF) {
        if (ca == cb)
            return 0;
        return ca == F80_CLASS_INF ? 1 : -1;
    }
    if (ca == F80_CLASS_ZERO || cb == F80_CLASS_ZERO) {
        if (ca == cb)
            return 0;
        return ca == F80_CLASS_ZERO ? -1 : 1;
    }
    struct f80_parts pa = f80_unpack(a), pb = f80_unpack(b);
    if (pa.exp != pb.exp)
        return pa.exp > pb.exp ? 1 : -1;
    if (pa.sig != pb.sig)
        return pa.sig > pb.sig ? 1 : -1;
    return 0;
}

int f80_compare(struct f80_env *e, struct emu_f80 a, struct emu_f80 b, bool quiet)
{
    enum f80_class ca = f80_classify(a), cb = f80_classify(b);

    if (ca == F80_CLASS_UNSUPPORTED || cb == F80_CLASS_UNSUPPORTED ||
        ca == F80_CLASS_SNAN || cb == F80_CLASS_SNAN) {
        e->flags |= F80_IE;
        return F80_UNORDERED;
    }
    if (ca == F80_CLASS_QNAN || cb == F80_CLASS_QNAN) {
        if (!quiet)
            e->flags |= F80_IE;
        return F80_UNORDERED;
    }
    if (ca == F80_CLASS_DENORMAL || cb == F80_CLASS_DENORMAL)
        e->flags |= F80_DE;
    if (ca == F80_CLASS_ZERO && cb == F80_CLASS_ZERO)
        return F80_EQ;
    bool sa = f80_sign(a), sb = f80_sign(b);
    /* A zero's sign does not order it. */
    if (ca == F80_CLASS_ZERO)
        sa = !sb;
    if (cb == F80_CLASS_ZERO)
        sb = !sa;
    if (sa != sb)
        return sa ? F80_LT : F80_GT;
    int m = f80_cmp_mag(a, ca, b, cb);
    if (sa)
        m = -m;
    return m < 0 ? F80_LT : m > 0 ? F80_GT : F80_EQ;
}
