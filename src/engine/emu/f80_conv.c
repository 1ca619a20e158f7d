/* The 80-bit core's conversions and integer-valued operations: single,
 * double, integer and packed-BCD loads and stores, FRNDINT, FPREM/FPREM1,
 * FSCALE and FXTRACT (Intel SDM Vol. 1 4.2, 4.7, 4.8.3 and 8.1.5; the result
 * tables of FIST, FBSTP, FPREM, FPREM1, FSCALE and FXTRACT in Vol. 2), plus
 * the host long double bridge used by the transcendental instructions. */
#include <math.h>

#include "f80.h"

static struct emu_f80 f80_invalid(struct f80_env *e)
{
    e->flags |= F80_IE;
    return f80_indefinite();
}

static bool f80_class_nan(enum f80_class c)
{
    return c == F80_CLASS_QNAN || c == F80_CLASS_SNAN;
}

/* Packs a normalized finite value: |value| = sig * 2^(exp - 63). */
static struct emu_f80 f80_pack_exact(bool sign, int32_t exp, uint64_t sig)
{
    return f80_make((uint16_t)((sign ? 0x8000 : 0) | (uint32_t)(exp + 16383)), sig);
}

/* ---- binary32 / binary64 ---- */

/* Widens a binary format (frac_bits of fraction, exponent bias) exactly. */
static struct emu_f80 f80_widen(uint64_t v, unsigned frac_bits, unsigned exp_bits, bool *denormal)
{
    bool sign = (v >> (frac_bits + exp_bits)) & 1;
    uint32_t emax = (1u << exp_bits) - 1, bias = emax >> 1;
    uint32_t e = (uint32_t)(v >> frac_bits) & emax;
    uint64_t f = v & ((1ull << frac_bits) - 1);

    *denormal = false;
    if (e == emax) {
        /* Infinity or NaN: the fraction keeps its place under the integer
         * bit, so an SNaN stays signaling. */
        return f80_make((uint16_t)((sign ? 0x8000 : 0) | 0x7fff),
                        (1ull << 63) | (f << (63 - frac_bits)));
    }
    if (e == 0) {
        if (!f)
            return f80_zero(sign);
        *denormal = true;
        unsigned p = 63 - (unsigned)__builtin_clzll(f); /* leading bit */
        return f80_pack_exact(sign, (int32_t)p - (int32_t)(bias - 1 + frac_bits), f << (63 - p));
    }
    return f80_pack_exact(sign, (int32_t)e - (int32_t)bias, (1ull << 63) | (f << (63 - frac_bits)));
}

struct emu_f80 f80_from_f32_raw(uint32_t v, bool *denormal)
{
    return f80_widen(v, 23, 8, denormal);
}

struct emu_f80 f80_from_f64_raw(uint64_t v, bool *denormal)
{
    return f80_widen(v, 52, 11, denormal);
}

static struct emu_f80 f80_load(struct f80_env *e, struct emu_f80 r, bool denormal)
{
    if (denormal)
        e->flags |= F80_DE;
    if (f80_classify(r) == F80_CLASS_SNAN)
        r = f80_propagate_nan1(e, r);
    return r;
}

struct emu_f80 f80_load_f32(struct f80_env *e, uint32_t v)
{
    bool d;
    struct emu_f80 r = f80_from_f32_raw(v, &d);
    return f80_load(e, r, d);
}

struct emu_f80 f80_load_f64(struct f80_env *e, uint64_t v)
{
    bool d;
    struct emu_f80 r = f80_from_f64_raw(v, &d);
    return f80_load(e, r, d);
}

static const struct f80_fmt f80_fmt_f32 = {24, -126, 127, 192};
static const struct f80_fmt f80_fmt_f64 = {53, -1022, 1023, 1536};

/* Narrows to a binary format; the NaN keeps the top of its payload. */
static uint64_t f80_narrow(struct f80_env *e, struct emu_f80 a, const struct f80_fmt *fmt,
                           unsigned exp_bits)
{
    unsigned frac_bits = fmt->prec - 1;
    uint64_t sign = (uint64_t)f80_sign(a) << (frac_bits + exp_bits);
    uint64_t emax = (1ull << exp_bits) - 1, bias = emax >> 1;
    uint64_t inf = sign | (emax << frac_bits), qbit = 1ull << (frac_bits - 1);

    switch (f80_classify(a)) {
    case F80_CLASS_UNSUPPORTED:
        e->flags |= F80_IE;
        return (1ull << (frac_bits + exp_bits)) | (emax << frac_bits) | qbit;
    case F80_CLASS_SNAN:
        e->flags |= F80_IE;
        /* fall through */
    case F80_CLASS_QNAN:
        return inf | qbit | ((a.mant << 1) >> (64 - frac_bits));
    case F80_CLASS_INF:
        return inf;
    case F80_CLASS_ZERO:
        return sign;
    default:
        break;
    }
    struct f80_parts p = f80_unpack(a);
    struct f80_rounded r = f80_round(e, p.sign, p.exp, (f80_u128)p.sig << 64, fmt);
    if (r.kind == F80_R_ZERO)
        return sign;
    if (r.kind == F80_R_INF)
        return inf;
    uint64_t frac = r.m & ((1ull << frac_bits) - 1);
    uint64_t biased = (r.m >> frac_bits) ? (uint64_t)(r.exp + (int32_t)bias) & emax : 0;
    return sign | (biased << frac_bits) | frac;
}

uint32_t f80_to_f32(struct f80_env *e, struct emu_f80 a)
{
    return (uint32_t)f80_narrow(e, a, &f80_fmt_f32, 8);
}

uint64_t f80_to_f64(struct f80_env *e, struct emu_f80 a)
{
    return f80_narrow(e, a, &f80_fmt_f64, 11);
}

/* ---- integers ---- */

struct emu_f80 f80_from_int(int64_t v)
{
    if (!v)
        return f80_zero(false);
    bool sign = v < 0;
    uint64_t m = sign ? 0 - (uint64_t)v : (uint64_t)v;
    unsigned lz = (unsigned)__builtin_clzll(m);
    return f80_pack_exact(sign, 63 - (int32_t)lz, m << lz);
}

/* Splits a finite non-zero value into its integer part and the rounding
 * decision by the FCW's RC: returns |rounded|, sets inexact and up. */
static f80_u128 f80_int_part(const struct f80_env *e, struct f80_parts p, bool *inexact, bool *up)
{
    unsigned rc = (e->cw >> F80_RC_SHIFT) & 3;
    uint64_t ipart, frac; /* frac: the fraction as a 64-bit binary fraction, sticky */

    if (p.exp >= 63) {
        *inexact = *up = false;
        return (f80_u128)p.sig << (p.exp - 63 > 64 ? 64 : p.exp - 63);
    }
    if (p.exp >= 0) {
        ipart = p.sig >> (63 - p.exp);
        frac = p.sig << (p.exp + 1);
    } else {
        ipart = 0;
        unsigned sh = (unsigned)(-1 - p.exp);
        frac = sh >= 64 ? 1 : (p.sig >> sh) | ((p.sig << (63 - sh) << 1) != 0);
    }
    bool half = frac >> 63, sticky = (frac << 1) != 0;
    *inexact = half || sticky;
    switch (rc) {
    case F80_RC_NEAREST: *up = half && (sticky || (ipart & 1)); break;
    case F80_RC_DOWN: *up = *inexact && p.sign; break;
    case F80_RC_UP: *up = *inexact && !p.sign; break;
    default: *up = false; break;
    }
    return (f80_u128)ipart + *up;
}

int64_t f80_to_int(struct f80_env *e, struct emu_f80 a, unsigned bits)
{
    int64_t indefinite = (int64_t)(~0ull << (bits - 1));
    enum f80_class c = f80_classify(a);
    bool inexact, up;

    if (c == F80_CLASS_UNSUPPORTED || c == F80_CLASS_INF || f80_class_nan(c)) {
        e->flags |= F80_IE;
        return indefinite;
    }
    if (c == F80_CLASS_ZERO)
        return 0;
    struct f80_parts p = f80_unpack(a);
    f80_u128 mag = f80_int_part(e, p, &inexact, &up);
    f80_u128 limit = ((f80_u128)1 << (bits - 1)) - (p.sign ? 0 : 1);
    if (p.exp >= 64 || mag > limit) {
        e->flags |= F80_IE;
        return indefinite;
    }
    if (inexact)
        e->flags |= F80_PE;
    if (up)
        e->flags |= F80_C1;
    uint64_t m = (uint64_t)mag;
    return (int64_t)(p.sign ? 0 - m : m);
}

struct emu_f80 f80_round_int(struct f80_env *e, struct emu_f80 a)
{
    enum f80_class c = f80_classify(a);
    bool inexact, up;

    if (c == F80_CLASS_UNSUPPORTED)
        return f80_invalid(e);
    if (f80_class_nan(c))
        return f80_propagate_nan1(e, a);
    if (c == F80_CLASS_ZERO || c == F80_CLASS_INF)
        return a;
    if (c == F80_CLASS_DENORMAL)
        e->flags |= F80_DE;
    struct f80_parts p = f80_unpack(a);
    if (p.exp >= 63)
        return a;
    uint64_t mag = (uint64_t)f80_int_part(e, p, &inexact, &up);
    if (inexact)
        e->flags |= F80_PE;
    if (up)
        e->flags |= F80_C1;
    if (!mag)
        return f80_zero(p.sign);
    unsigned lz = (unsigned)__builtin_clzll(mag);
    return f80_pack_exact(p.sign, 63 - (int32_t)lz, mag << lz);
}

/* ---- packed BCD ---- */

struct emu_f80 f80_from_bcd(const uint8_t b[10])
{
    /* Invalid digits (A-F) are used as they are, as hardware gives an
     * undefined but deterministic result; 18 digits fit in 63 bits. */
    uint64_t v = 0;
    for (int i = 8; i >= 0; i--)
        v = v * 100 + (uint64_t)(b[i] >> 4) * 10 + (b[i] & 15);
    struct emu_f80 r = f80_from_int((int64_t)v);
    if (b[9] & 0x80)
        r = f80_neg(r);
    return r;
}

void f80_to_bcd(struct f80_env *e, struct emu_f80 a, uint8_t out[10])
{
    struct f80_env t = f80_env_make(e->cw);
    int64_t v = f80_to_int(&t, a, 64);
    uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    if ((t.flags & F80_IE) || m > 999999999999999999ull) {
        /* The packed BCD indefinite; other flags are dropped. */
        e->flags |= F80_IE;
        memset(out, 0, 10);
        out[7] = 0xc0;
        out[8] = out[9] = 0xff;
        return;
    }
    e->flags |= t.flags;
    for (int i = 0; i < 9; i++) {
        out[i] = (uint8_t)((m % 10) | ((m / 10 % 10) << 4));
        m /= 100;
    }
    out[9] = f80_sign(a) ? 0x80 : 0; /* -0 and small negatives keep the sign */
}

/* ---- FPREM, FPREM1 ---- */

int f80_prem(struct f80_env *e, struct emu_f80 a, struct emu_f80 b, bool ieee,
             struct emu_f80 *r, uint64_t *q)
{
    enum f80_class ca = f80_classify(a), cb = f80_classify(b);

    *q = 0;
    if (ca == F80_CLASS_UNSUPPORTED || cb == F80_CLASS_UNSUPPORTED) {
        *r = f80_invalid(e);
        return -1;
    }
    if (f80_class_nan(ca) || f80_class_nan(cb)) {
        *r = f80_propagate_nan(e, a, b);
        return -1;
    }
    if (ca == F80_CLASS_INF || cb == F80_CLASS_ZERO) {
        *r = f80_invalid(e);
        return -1;
    }
    if (cb == F80_CLASS_DENORMAL)
        e->flags |= F80_DE;
    if (ca == F80_CLASS_ZERO) {
        *r = a;
        return 0;
    }
    if (ca == F80_CLASS_DENORMAL)
        e->flags |= F80_DE;

    struct f80_parts pa = f80_unpack(a), pb = f80_unpack(b);
    int32_t d = pa.exp - pb.exp;
    if (cb == F80_CLASS_INF || d < -1) {
        /* |a| < |b|/2: a itself, through the rounding (a denormal a is a
         * tiny result for UE). */
        *r = f80_round_pack(e, pa.sign, pa.exp, (f80_u128)pa.sig << 64, 64);
        return 0;
    }
    if (d >= 64) {
        /* Partial remainder: reduce the exponent by n in 32..63 (SDM:
         * "an implementation-dependent number"; this is Intel's). */
        unsigned n = ((unsigned)d & 31) | 32;
        f80_u128 rem = ((f80_u128)pa.sig << n) % pb.sig;
        *r = f80_round_pack(e, pa.sign, pa.exp - (int32_t)n + 64, rem, 64);
        return 1;
    }
    /* In units of 2^(eb - 64): a = X, b = Y. */
    f80_u128 X = (f80_u128)pa.sig << (d + 1), Y = (f80_u128)pb.sig << 1;
    f80_u128 Q = X / Y, R = X % Y;
    bool sign = pa.sign;
    if (ieee && (2 * R > Y || (2 * R == Y && (Q & 1)))) {
        R = Y - R;
        sign = !sign;
        Q++;
    }
    *q = (uint64_t)Q;
    if (!R) {
        *r = f80_zero(pa.sign);
        return 0;
    }
    *r = f80_round_pack(e, sign, pb.exp + 63, R, 64);
    return 0;
}

/* ---- FSCALE, FXTRACT ---- */

struct emu_f80 f80_scale(struct f80_env *e, struct emu_f80 a, struct emu_f80 b)
{
    enum f80_class ca = f80_classify(a), cb = f80_classify(b);
    bool sa = f80_sign(a), sb = f80_sign(b);

    if (ca == F80_CLASS_UNSUPPORTED || cb == F80_CLASS_UNSUPPORTED)
        return f80_invalid(e);
    if (f80_class_nan(ca) || f80_class_nan(cb))
        return f80_propagate_nan(e, a, b);
    if (ca == F80_CLASS_INF) {
        if (cb == F80_CLASS_INF && sb) /* inf * 2^-inf */
            return f80_invalid(e);
        if (cb == F80_CLASS_DENORMAL)
            e->flags |= F80_DE;
        return a;
    }
    if (cb == F80_CLASS_INF) {
        if (ca == F80_CLASS_ZERO) {
            if (!sb) /* 0 * 2^+inf */
                return f80_invalid(e);
            return a;
        }
        if (ca == F80_CLASS_DENORMAL)
            e->flags |= F80_DE;
        return sb ? f80_zero(sa) : f80_inf(sa);
    }
    if (cb == F80_CLASS_DENORMAL)
        e->flags |= F80_DE;
    if (ca == F80_CLASS_ZERO)
        return a;
    if (ca == F80_CLASS_DENORMAL)
        e->flags |= F80_DE;
    struct f80_parts pa = f80_unpack(a), pb = f80_unpack(b);
    int32_t scale = 0;
    if (cb != F80_CLASS_ZERO && pb.exp >= 0) {
        /* |b| >= 2^16 is out of range whatever a is: far enough that even
         * the unmasked response cannot wrap it back. */
        scale = pb.exp >= 16 ? 100000 : (int32_t)(pb.sig >> (63 - pb.exp));
        if (sb)
            scale = -scale;
    }
    /* Through the rounding even when |b| < 1: a denormal a is tiny. */
    return f80_round_pack(e, sa, pa.exp + scale, (f80_u128)pa.sig << 64, 64);
}

void f80_xtract(struct f80_env *e, struct emu_f80 a, struct emu_f80 *exp, struct emu_f80 *sig)
{
    enum f80_class c = f80_classify(a);

    switch (c) {
    case F80_CLASS_UNSUPPORTED:
        *exp = *sig = f80_invalid(e);
        return;
    case F80_CLASS_QNAN:
    case F80_CLASS_SNAN:
        *exp = *sig = f80_propagate_nan1(e, a);
        return;
    case F80_CLASS_INF:
        *exp = f80_inf(false);
        *sig = a;
        return;
    case F80_CLASS_ZERO:
        e->flags |= F80_ZE;
        *exp = f80_inf(true);
        *sig = a;
        return;
    case F80_CLASS_DENORMAL:
        e->flags |= F80_DE;
        break;
    default:
        break;
    }
    struct f80_parts p = f80_unpack(a);
    *exp = f80_from_int(p.exp);
    *sig = f80_pack_exact(p.sign, 0, p.sig);
}

/* ---- host long double ---- */

long double f80_to_ld(struct emu_f80 a)
{
    bool sign = f80_sign(a);
    long double v;

    switch (f80_classify(a)) {
    case F80_CLASS_ZERO:
        v = 0.0L;
        break;
    case F80_CLASS_INF:
        v = (long double)INFINITY;
        break;
    case F80_CLASS_NORMAL:
    case F80_CLASS_DENORMAL: {
        struct f80_parts p = f80_unpack(a);
        v = ldexpl((long double)p.sig, p.exp - 63);
        break;
    }
    default:
        v = (long double)NAN;
        break;
    }
    return sign ? -v : v;
}

struct emu_f80 f80_from_ld(struct f80_env *e, long double v, int below)
{
    bool sign = signbit(v) != 0;
    int ex;

    if (isnan(v))
        return f80_invalid(e);
    if (isinf(v))
        return f80_inf(sign);
    if (v == 0)
        return f80_zero(sign);
    e->flags |= F80_PE;
    /* m in [0.5, 1): its first 128 bits (all of them for an 80-bit or a
     * 128-bit long double) feed the software rounding. */
    long double m = ldexpl(frexpl(fabsl(v), &ex), 64);
    uint64_t hi = (uint64_t)m;
    uint64_t lo = (uint64_t)ldexpl(m - (long double)hi, 64);
    f80_u128 sig = ((f80_u128)hi << 64) | lo;
    if (below < 0 && !lo)
        sig--; /* just under v: a sticky bit below */
    else if (below > 0)
        sig |= 1;
    return f80_round_pack(e, sign, ex - 1, sig, 64);
}
