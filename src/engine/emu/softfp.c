/* Software IEEE 754 single and double arithmetic under MXCSR (SDM Vol. 1
 * 4.8 "Real numbers and floating-point formats", 4.9 "Overview of
 * floating-point exceptions", 10.2.3 "MXCSR", 11.5 "SSE, SSE2 and SSE3
 * exceptions"; Table 4-7 for NaN operands). See softfp.h for the contract.
 *
 * One generic implementation serves both formats: a finite non-zero value
 * is unpacked to a sign, an exponent and a 63-bit significand whose leading
 * 1 is at bit 62 (value = sig / 2^62 * 2^exp), computed on with enough extra
 * bits that a sticky bit jammed into bit 0 keeps rounding exact, and packed
 * by sf_round_pack, the one place that rounds and decides overflow and
 * underflow. */
#include <stddef.h>

#include "softfp.h"

struct sf_fmt {
    unsigned mbits;  /* stored fraction bits: 23 or 52 */
    unsigned ebits;  /* exponent bits: 8 or 11 */
    int bias;
    unsigned emax;   /* all-ones exponent: 255 or 2047 */
    uint64_t qbit;   /* the quiet bit of a NaN */
    uint64_t dnan;   /* real indefinite */
};

static const struct sf_fmt sf32 = {23, 8, 127, 255, 1ull << 22, SOFTFP_DNAN32};
static const struct sf_fmt sf64 = {52, 11, 1023, 2047, 1ull << 51, SOFTFP_DNAN64};

enum { SF_ZERO, SF_FIN, SF_INF, SF_QNAN, SF_SNAN };

struct sf_num {
    uint64_t sig;   /* SF_FIN: leading 1 at bit 62 */
    int exp;
    uint8_t cls;
    uint8_t sign;
    uint8_t denorm; /* a denormal operand (DAZ clear): DE unless outranked */
};

static inline unsigned sf_clz64(uint64_t v)
{
    return (unsigned)__builtin_clzll(v);
}

static inline uint64_t sf_signbit(const struct sf_fmt *f, unsigned sign)
{
    return (uint64_t)sign << (f->mbits + f->ebits);
}

static inline struct sf_num sf_unpack(const struct sf_fmt *f, uint64_t x, uint32_t mxcsr)
{
    struct sf_num n;
    unsigned e = (unsigned)(x >> f->mbits) & f->emax;
    uint64_t m = x & ((1ull << f->mbits) - 1);

    n.sign = (uint8_t)((x >> (f->mbits + f->ebits)) & 1);
    n.denorm = 0;
    n.exp = 0;
    n.sig = 0;
    if (e == f->emax) {
        n.cls = m == 0 ? SF_INF : (m & f->qbit) ? SF_QNAN : SF_SNAN;
    } else if (e == 0) {
        if (m == 0 || (mxcsr & SOFTFP_DAZ)) {
            n.cls = SF_ZERO;
        } else {
            unsigned msb = 63 - sf_clz64(m);
            n.cls = SF_FIN;
            n.denorm = 1;
            n.sig = m << (62 - msb);
            n.exp = 1 - f->bias - (int)(f->mbits - msb);
        }
    } else {
        n.cls = SF_FIN;
        n.sig = (m | (1ull << f->mbits)) << (62 - f->mbits);
        n.exp = (int)e - f->bias;
    }
    return n;
}

/* sig / 2^n rounded to an integer by rc; *inexact if bits were lost. */
static inline uint64_t sf_shift_round(uint64_t sig, unsigned n, unsigned sign, unsigned rc,
                                      bool *inexact)
{
    uint64_t q, rem;
    bool above, tie;

    if (n == 0) {
        *inexact = false;
        return sig;
    }
    if (n >= 64) {
        /* sig < 2^63 <= half of 2^n: below one half */
        q = 0;
        rem = sig;
        above = tie = false;
    } else {
        uint64_t half = 1ull << (n - 1);
        q = sig >> n;
        rem = sig & ((1ull << n) - 1);
        above = rem > half;
        tie = rem == half;
    }
    *inexact = rem != 0;
    if (!rem)
        return q;
    switch (rc) {
    case SOFTFP_RN:
        if (above || (tie && (q & 1)))
            q++;
        break;
    case SOFTFP_RD:
        q += sign;
        break;
    case SOFTFP_RU:
        q += !sign;
        break;
    default:
        break;
    }
    return q;
}

/* Rounds sign * sig/2^62 * 2^exp (sig's leading 1 at bit 62, a sticky bit
 * possibly jammed into bit 0) to the format. Tininess is detected after
 * rounding, as x86 does: a value that rounds to the smallest normal with an
 * unbounded exponent is not tiny. */
static uint64_t sf_round_pack(struct softfp *s, const struct sf_fmt *f, unsigned sign, int exp,
                              uint64_t sig)
{
    unsigned rc = (s->mxcsr >> SOFTFP_RC_SHIFT) & 3;
    unsigned sh = 62 - f->mbits;
    int be = exp + f->bias;
    uint64_t sbit = sf_signbit(f, sign);
    uint64_t mmask = (1ull << f->mbits) - 1;
    bool inexact;
    uint64_t q;

    if (be >= 1) {
        q = sf_shift_round(sig, sh, sign, rc, &inexact);
        if (q >> (f->mbits + 1)) {
            q >>= 1;
            be++;
        }
        if (be >= (int)f->emax) {
            if (!(s->mxcsr & SOFTFP_OM)) {
                s->post |= SOFTFP_OE | (inexact ? SOFTFP_PE : 0);
                return 0;
            }
            s->post |= SOFTFP_OE | SOFTFP_PE;
            bool to_inf = rc == SOFTFP_RN || (rc == SOFTFP_RU && !sign) ||
                          (rc == SOFTFP_RD && sign);
            uint64_t inf = (uint64_t)f->emax << f->mbits;
            return sbit | (to_inf ? inf : inf - 1);
        }
        if (inexact)
            s->post |= SOFTFP_PE;
        return sbit | ((uint64_t)be << f->mbits) | (q & mmask);
    }
    q = sf_shift_round(sig, sh, sign, rc, &inexact);
    bool tiny = !(be == 0 && (q >> (f->mbits + 1)));
    if (tiny && !(s->mxcsr & SOFTFP_UM)) {
        s->post |= SOFTFP_UE | (inexact ? SOFTFP_PE : 0);
        return 0;
    }
    if (tiny && (s->mxcsr & SOFTFP_FTZ)) {
        s->post |= SOFTFP_UE | SOFTFP_PE;
        return sbit;
    }
    unsigned n = sh + (unsigned)(1 - be);
    q = sf_shift_round(sig, n > 64 ? 64 : n, sign, rc, &inexact);
    if (inexact)
        s->post |= SOFTFP_PE | (tiny ? SOFTFP_UE : 0);
    /* q <= 2^mbits: a carry into bit mbits is exponent field 1, as it should be. */
    return sbit | q;
}

/* Normalizes q * 2^lsb (q != 0, sticky: more non-zero bits below) and rounds. */
static inline uint64_t sf_norm_round(struct softfp *s, const struct sf_fmt *f, unsigned sign,
                                     int lsb, uint64_t q, bool sticky)
{
    unsigned msb = 63 - sf_clz64(q);
    uint64_t sig;
    if (msb == 63)
        sig = (q >> 1) | (q & 1) | sticky;
    else
        sig = (q << (62 - msb)) | sticky;
    return sf_round_pack(s, f, sign, lsb + (int)msb, sig);
}

static inline uint64_t sf_jam(uint64_t v, unsigned d)
{
    if (d == 0)
        return v;
    if (d >= 63)
        return v != 0;
    return (v >> d) | ((v & ((1ull << d) - 1)) != 0);
}

/* Two operands with at least one NaN: SNaN signals IE; the first source's
 * NaN is returned if it has one, else the second's, quieted. */
static uint64_t sf_nan2(struct softfp *s, const struct sf_fmt *f, uint64_t a, uint64_t b,
                        const struct sf_num *x, const struct sf_num *y)
{
    if (x->cls == SF_SNAN || y->cls == SF_SNAN)
        s->pre |= SOFTFP_IE;
    return (x->cls >= SF_QNAN ? a : b) | f->qbit;
}

static inline bool sf_isnan(const struct sf_num *x)
{
    return x->cls >= SF_QNAN;
}

static inline void sf_denorm_check(struct softfp *s, const struct sf_num *x, const struct sf_num *y)
{
    if (x->denorm || (y && y->denorm))
        s->pre |= SOFTFP_DE;
}

/* ---- 128-bit helpers: native where the compiler has them ---- */
static inline void sf_mul128(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
#ifdef __SIZEOF_INT128__
    unsigned __int128 p = (unsigned __int128)a * b;
    *hi = (uint64_t)(p >> 64);
    *lo = (uint64_t)p;
#else
    uint64_t al = a & 0xffffffffu, ah = a >> 32, bl = b & 0xffffffffu, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
    *lo = (ll & 0xffffffffu) | (mid << 32);
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
#endif
}

/* (hi:lo) / d with hi < d: the quotient fits 64 bits. */
static inline uint64_t sf_div128(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem)
{
#ifdef __SIZEOF_INT128__
    unsigned __int128 n = ((unsigned __int128)hi << 64) | lo;
    *rem = (uint64_t)(n % d);
    return (uint64_t)(n / d);
#else
    uint64_t q = 0;
    for (int i = 0; i < 64; i++) {
        uint64_t carry = hi >> 63;
        hi = (hi << 1) | (lo >> 63);
        lo <<= 1;
        q <<= 1;
        if (carry || hi >= d) {
            hi -= d;
            q |= 1;
        }
    }
    *rem = hi;
    return q;
#endif
}

/* floor(sqrt(hi:lo)) for a radicand below 2^(2*pairs); *inexact if not exact.
 * Digit by digit, two radicand bits per step (the remainder needs 66 bits). */
static uint64_t sf_isqrt128(uint64_t hi, uint64_t lo, unsigned pairs, bool *inexact)
{
    uint64_t root = 0, rhi = 0, rlo = 0;
    for (int i = (int)pairs - 1; i >= 0; i--) {
        unsigned sh = 2u * (unsigned)i;
        uint64_t two = sh >= 64 ? (hi >> (sh - 64)) & 3 : (lo >> sh) & 3;
        rhi = (rhi << 2) | (rlo >> 62);
        rlo = (rlo << 2) | two;
        /* trial = 4 * root + 1 */
        uint64_t thi = root >> 62, tlo = (root << 2) | 1;
        root <<= 1;
        if (rhi > thi || (rhi == thi && rlo >= tlo)) {
            rhi = rhi - thi - (rlo < tlo);
            rlo -= tlo;
            root |= 1;
        }
    }
    *inexact = (rhi | rlo) != 0;
    return root;
}

/* ---- operations ---- */
static uint64_t sf_add(struct softfp *s, const struct sf_fmt *f, uint64_t a, uint64_t b,
                       unsigned negate_b)
{
    struct sf_num x = sf_unpack(f, a, s->mxcsr), y = sf_unpack(f, b, s->mxcsr);
    unsigned rc = (s->mxcsr >> SOFTFP_RC_SHIFT) & 3;

    if (sf_isnan(&x) || sf_isnan(&y))
        return sf_nan2(s, f, a, b, &x, &y);
    y.sign ^= (uint8_t)negate_b;
    if (x.cls == SF_INF || y.cls == SF_INF) {
        if (x.cls == SF_INF && y.cls == SF_INF && x.sign != y.sign) {
            s->pre |= SOFTFP_IE;
            return f->dnan;
        }
        sf_denorm_check(s, &x, &y);
        return sf_signbit(f, x.cls == SF_INF ? x.sign : y.sign) | ((uint64_t)f->emax << f->mbits);
    }
    sf_denorm_check(s, &x, &y);
    if (x.cls == SF_ZERO && y.cls == SF_ZERO)
        return sf_signbit(f, x.sign == y.sign ? x.sign : rc == SOFTFP_RD);
    if (y.cls == SF_ZERO)
        return sf_round_pack(s, f, x.sign, x.exp, x.sig);
    if (x.cls == SF_ZERO)
        return sf_round_pack(s, f, y.sign, y.exp, y.sig);
    if (x.exp < y.exp || (x.exp == y.exp && x.sig < y.sig)) {
        struct sf_num t = x;
        x = y;
        y = t;
    }
    /* A's bit 0 is clear, so a jammed B keeps the sum's rounding exact. */
    uint64_t A = x.sig >> 1, B = sf_jam(y.sig >> 1, (unsigned)(x.exp - y.exp));
    if (x.sign == y.sign)
        return sf_norm_round(s, f, x.sign, x.exp - 61, A + B, false);
    if (A == B)
        return sf_signbit(f, rc == SOFTFP_RD);
    return sf_norm_round(s, f, x.sign, x.exp - 61, A - B, false);
}

static uint64_t sf_mul(struct softfp *s, const struct sf_fmt *f, uint64_t a, uint64_t b)
{
    struct sf_num x = sf_unpack(f, a, s->mxcsr), y = sf_unpack(f, b, s->mxcsr);
    unsigned sign = x.sign ^ y.sign;

    if (sf_isnan(&x) || sf_isnan(&y))
        return sf_nan2(s, f, a, b, &x, &y);
    if (x.cls == SF_INF || y.cls == SF_INF) {
        if (x.cls == SF_ZERO || y.cls == SF_ZERO) {
            s->pre |= SOFTFP_IE;
            return f->dnan;
        }
        sf_denorm_check(s, &x, &y);
        return sf_signbit(f, sign) | ((uint64_t)f->emax << f->mbits);
    }
    sf_denorm_check(s, &x, &y);
    if (x.cls == SF_ZERO || y.cls == SF_ZERO)
        return sf_signbit(f, sign);
    if (f->mbits < 32) {
        /* single: the 48-bit product of the 24-bit significands is exact */
        uint64_t p = (x.sig >> (62 - f->mbits)) * (y.sig >> (62 - f->mbits));
        return sf_norm_round(s, f, sign, x.exp + y.exp - 2 * (int)f->mbits, p, false);
    }
    uint64_t hi, lo;
    sf_mul128(x.sig, y.sig, &hi, &lo);
    return sf_norm_round(s, f, sign, x.exp + y.exp - 60, hi, lo != 0);
}

static uint64_t sf_div(struct softfp *s, const struct sf_fmt *f, uint64_t a, uint64_t b)
{
    struct sf_num x = sf_unpack(f, a, s->mxcsr), y = sf_unpack(f, b, s->mxcsr);
    unsigned sign = x.sign ^ y.sign;
    uint64_t inf = (uint64_t)f->emax << f->mbits;

    if (sf_isnan(&x) || sf_isnan(&y))
        return sf_nan2(s, f, a, b, &x, &y);
    if (x.cls == SF_INF) {
        if (y.cls == SF_INF) {
            s->pre |= SOFTFP_IE;
            return f->dnan;
        }
        sf_denorm_check(s, &y, NULL);
        return sf_signbit(f, sign) | inf;
    }
    if (y.cls == SF_INF) {
        sf_denorm_check(s, &x, NULL);
        return sf_signbit(f, sign);
    }
    if (y.cls == SF_ZERO) {
        if (x.cls == SF_ZERO) {
            s->pre |= SOFTFP_IE;
            return f->dnan;
        }
        /* divide-by-zero outranks a denormal dividend */
        s->pre |= SOFTFP_ZE;
        return sf_signbit(f, sign) | inf;
    }
    sf_denorm_check(s, &x, &y);
    if (x.cls == SF_ZERO)
        return sf_signbit(f, sign);
    uint64_t A = x.sig >> (62 - f->mbits), B = y.sig >> (62 - f->mbits), q, rem;
    int exp = x.exp - y.exp;
    if (f->mbits < 32) {
        q = (A << 40) / B;
        rem = (A << 40) % B;
        return sf_norm_round(s, f, sign, exp - 40, q, rem != 0);
    }
    q = sf_div128(A >> 2, A << 62, B, &rem);
    return sf_norm_round(s, f, sign, exp - 62, q, rem != 0);
}

static uint64_t sf_sqrt(struct softfp *s, const struct sf_fmt *f, uint64_t a)
{
    struct sf_num x = sf_unpack(f, a, s->mxcsr);

    if (sf_isnan(&x)) {
        if (x.cls == SF_SNAN)
            s->pre |= SOFTFP_IE;
        return a | f->qbit;
    }
    if (x.cls == SF_ZERO)
        return sf_signbit(f, x.sign);
    if (x.sign) {
        s->pre |= SOFTFP_IE;
        return f->dnan;
    }
    if (x.cls == SF_INF)
        return a;
    sf_denorm_check(s, &x, NULL);
    /* value = M * 2^(exp - mbits); radicand M << k with exp - mbits - k even,
     * sized so the root has 57 to 59 bits (single: 31 to 32). */
    uint64_t M = x.sig >> (62 - f->mbits);
    unsigned k = f->mbits < 32 ? 38 : 62;
    if ((x.exp - (int)f->mbits - (int)k) & 1)
        k++;
    uint64_t hi = k >= 64 ? M << (k - 64) : (k == 0 ? 0 : M >> (64 - k));
    uint64_t lo = k >= 64 ? 0 : M << k;
    bool inexact;
    uint64_t r = sf_isqrt128(hi, lo, (f->mbits + 1 + k + 1) / 2, &inexact);
    return sf_norm_round(s, f, 0, (x.exp - (int)f->mbits - (int)k) / 2, r, inexact);
}

/* Ordered comparison of two non-NaN values (zeros equal). */
static enum softfp_rel sf_order(const struct sf_fmt *f, uint64_t a, uint64_t b,
                                const struct sf_num *x, const struct sf_num *y)
{
    uint64_t smask = sf_signbit(f, 1);
    int64_t ka = x->cls == SF_ZERO ? 0 : (int64_t)(a & ~smask);
    int64_t kb = y->cls == SF_ZERO ? 0 : (int64_t)(b & ~smask);
    if (x->sign)
        ka = -ka;
    if (y->sign)
        kb = -kb;
    return ka < kb ? SOFTFP_LT : ka > kb ? SOFTFP_GT : SOFTFP_EQ;
}

static enum softfp_rel sf_cmp(struct softfp *s, const struct sf_fmt *f, uint64_t a, uint64_t b,
                              bool quiet)
{
    struct sf_num x = sf_unpack(f, a, s->mxcsr), y = sf_unpack(f, b, s->mxcsr);
    if (sf_isnan(&x) || sf_isnan(&y)) {
        if (!quiet || x.cls == SF_SNAN || y.cls == SF_SNAN)
            s->pre |= SOFTFP_IE;
        return SOFTFP_UN;
    }
    sf_denorm_check(s, &x, &y);
    return sf_order(f, a, b, &x, &y);
}

/* MIN/MAX return the second source for NaNs (IE for QNaNs too) and for two
 * zeros; an operand DAZ turned into zero comes back as that zero (as the
 * hardware does, NaN case included). */
static uint64_t sf_minmax(struct softfp *s, const struct sf_fmt *f, uint64_t a, uint64_t b,
                          bool max)
{
    struct sf_num x = sf_unpack(f, a, s->mxcsr), y = sf_unpack(f, b, s->mxcsr);
    if (x.cls == SF_ZERO)
        a = sf_signbit(f, x.sign);
    if (y.cls == SF_ZERO)
        b = sf_signbit(f, y.sign);
    if (sf_isnan(&x) || sf_isnan(&y)) {
        s->pre |= SOFTFP_IE;
        return b;
    }
    sf_denorm_check(s, &x, &y);
    enum softfp_rel r = sf_order(f, a, b, &x, &y);
    return r == (max ? SOFTFP_GT : SOFTFP_LT) ? a : b;
}

static uint64_t sf_to_int(struct softfp *s, const struct sf_fmt *f, uint64_t a, unsigned bits,
                          bool trunc)
{
    uint64_t indef = 1ull << (bits - 1);
    struct sf_num x = sf_unpack(f, a, s->mxcsr);
    unsigned rc = trunc ? SOFTFP_RZ : (s->mxcsr >> SOFTFP_RC_SHIFT) & 3;
    bool inexact;

    if (x.cls >= SF_INF || (x.cls == SF_FIN && x.exp > 62)) {
        /* -2^63 itself converts exactly (to the same bits as the indefinite) */
        if (!(bits == 64 && x.cls == SF_FIN && x.sign && x.exp == 63 && x.sig == 1ull << 62))
            s->pre |= SOFTFP_IE;
        return indef;
    }
    if (x.cls == SF_ZERO)
        return 0;
    unsigned n = (unsigned)(62 - x.exp);
    uint64_t q = sf_shift_round(x.sig, n > 64 ? 64 : n, x.sign, rc, &inexact);
    if (q > (x.sign ? indef : indef - 1)) {
        s->pre |= SOFTFP_IE;
        return indef;
    }
    if (inexact)
        s->post |= SOFTFP_PE;
    q = x.sign ? 0 - q : q;
    return bits == 64 ? q : q & 0xffffffffu;
}

static uint64_t sf_from_int(struct softfp *s, const struct sf_fmt *f, int64_t v)
{
    if (v == 0)
        return 0;
    unsigned sign = v < 0;
    uint64_t mag = sign ? 0 - (uint64_t)v : (uint64_t)v;
    return sf_norm_round(s, f, sign, 0, mag, false);
}

/* ---- the public entry points ---- */
uint32_t softfp_add32(struct softfp *s, uint32_t a, uint32_t b)
{
    return (uint32_t)sf_add(s, &sf32, a, b, 0);
}

uint32_t softfp_sub32(struct softfp *s, uint32_t a, uint32_t b)
{
    return (uint32_t)sf_add(s, &sf32, a, b, 1);
}

uint32_t softfp_mul32(struct softfp *s, uint32_t a, uint32_t b)
{
    return (uint32_t)sf_mul(s, &sf32, a, b);
}

uint32_t softfp_div32(struct softfp *s, uint32_t a, uint32_t b)
{
    return (uint32_t)sf_div(s, &sf32, a, b);
}

uint32_t softfp_sqrt32(struct softfp *s, uint32_t a)
{
    return (uint32_t)sf_sqrt(s, &sf32, a);
}

uint32_t softfp_min32(struct softfp *s, uint32_t a, uint32_t b)
{
    return (uint32_t)sf_minmax(s, &sf32, a, b, false);
}

uint32_t softfp_max32(struct softfp *s, uint32_t a, uint32_t b)
{
    return (uint32_t)sf_minmax(s, &sf32, a, b, true);
}

enum softfp_rel softfp_cmp32(struct softfp *s, uint32_t a, uint32_t b, bool quiet)
{
    return sf_cmp(s, &sf32, a, b, quiet);
}

uint64_t softfp_add64(struct softfp *s, uint64_t a, uint64_t b)
{
    return sf_add(s, &sf64, a, b, 0);
}

uint64_t softfp_sub64(struct softfp *s, uint64_t a, uint64_t b)
{
    return sf_add(s, &sf64, a, b, 1);
}

uint64_t softfp_mul64(struct softfp *s, uint64_t a, uint64_t b)
{
    return sf_mul(s, &sf64, a, b);
}

uint64_t softfp_div64(struct softfp *s, uint64_t a, uint64_t b)
{
    return sf_div(s, &sf64, a, b);
}

uint64_t softfp_sqrt64(struct softfp *s, uint64_t a)
{
    return sf_sqrt(s, &sf64, a);
}

uint64_t softfp_min64(struct softfp *s, uint64_t a, uint64_t b)
{
    return sf_minmax(s, &sf64, a, b, false);
}

uint64_t softfp_max64(struct softfp *s, uint64_t a, uint64_t b)
{
    return sf_minmax(s, &sf64, a, b, true);
}

enum softfp_rel softfp_cmp64(struct softfp *s, uint64_t a, uint64_t b, bool quiet)
{
    return sf_cmp(s, &sf64, a, b, quiet);
}

uint64_t softfp_f32_to_f64(struct softfp *s, uint32_t a)
{
    struct sf_num x = sf_unpack(&sf32, a, s->mxcsr);
    uint64_t sbit = (uint64_t)x.sign << 63;

    switch (x.cls) {
    case SF_SNAN:
        s->pre |= SOFTFP_IE;
        /* fallthrough */
    case SF_QNAN:
        return sbit | 0x7ff8000000000000ull | ((uint64_t)(a & 0x3fffffu) << 29);
    case SF_INF:
        return sbit | 0x7ff0000000000000ull;
    case SF_ZERO:
        return sbit;
    default:
        sf_denorm_check(s, &x, NULL);
        return sf_round_pack(s, &sf64, x.sign, x.exp, x.sig);
    }
}

uint32_t softfp_f64_to_f32(struct softfp *s, uint64_t a)
{
    struct sf_num x = sf_unpack(&sf64, a, s->mxcsr);
    uint32_t sbit = (uint32_t)x.sign << 31;

    switch (x.cls) {
    case SF_SNAN:
        s->pre |= SOFTFP_IE;
        /* fallthrough */
    case SF_QNAN:
        return sbit | 0x7fc00000u | (uint32_t)((a >> 29) & 0x3fffffu);
    case SF_INF:
        return sbit | 0x7f800000u;
    case SF_ZERO:
        return sbit;
    default:
        sf_denorm_check(s, &x, NULL);
        return (uint32_t)sf_round_pack(s, &sf32, x.sign, x.exp, x.sig);
    }
}

uint32_t softfp_i64_to_f32(struct softfp *s, int64_t v)
{
    return (uint32_t)sf_from_int(s, &sf32, v);
}

uint64_t softfp_i64_to_f64(struct softfp *s, int64_t v)
{
    return sf_from_int(s, &sf64, v);
}

uint64_t softfp_f32_to_int(struct softfp *s, uint32_t a, unsigned bits, bool trunc)
{
    return sf_to_int(s, &sf32, a, bits, trunc);
}

uint64_t softfp_f64_to_int(struct softfp *s, uint64_t a, unsigned bits, bool trunc)
{
    return sf_to_int(s, &sf64, a, bits, trunc);
}
