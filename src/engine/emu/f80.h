/* The 80-bit floating-point core behind the x87 (Intel SDM Vol. 1 chapter 4:
 * formats, NaN and indefinite encodings, the exception conditions and their
 * masked responses; chapter 8: precision and rounding control, unsupported
 * encodings, C1 as "rounded up"). Everything here is integer arithmetic on
 * the significand (unsigned __int128), so results and flags are bit-exact and
 * the same on every host; only f80_to_ld/f80_from_ld touch host floating
 * point (for the transcendental instructions in x87_trans.c).
 * Exception behaviour follows real hardware as Bochs models it: tininess is
 * detected after rounding, masked underflow is reported only when inexact,
 * unmasked overflow/underflow give the result with the exponent wrapped by
 * 3 * 2^13 (SDM Vol. 1 4.9.1.4-5). */
#ifndef ROAM_ENGINE_EMU_F80_H
#define ROAM_ENGINE_EMU_F80_H

#include <stdbool.h>
#include <stdint.h>

#include "emu.h"

/* Exception flags in their FSW (and FCW mask) positions, plus C1. */
#define F80_IE 0x0001u
#define F80_DE 0x0002u
#define F80_ZE 0x0004u
#define F80_OE 0x0008u
#define F80_UE 0x0010u
#define F80_PE 0x0020u
#define F80_SF 0x0040u /* stack fault (set by the x87 layer, with IE) */
#define F80_C1 0x0200u /* the result was rounded up (magnitude increased) */
#define F80_EXC_MASK 0x003fu

/* FCW fields. */
#define F80_PC_SHIFT 8
#define F80_RC_SHIFT 10
enum { F80_RC_NEAREST = 0, F80_RC_DOWN = 1, F80_RC_UP = 2, F80_RC_ZERO = 3 };

/* One operation's environment: the control word in, the raised flags out. */
struct f80_env {
    uint16_t cw;
    uint16_t flags;
};

static inline struct f80_env f80_env_make(uint16_t cw)
{
    struct f80_env e = {cw, 0};
    return e;
}

enum f80_class {
    F80_CLASS_ZERO,
    F80_CLASS_DENORMAL, /* also pseudo-denormals (exponent 0, integer bit 1) */
    F80_CLASS_NORMAL,
    F80_CLASS_INF,
    F80_CLASS_QNAN,
    F80_CLASS_SNAN,
    F80_CLASS_UNSUPPORTED, /* pseudo-NaN, pseudo-infinity, unnormal */
};

/* Comparison results. */
enum { F80_LT = 0, F80_EQ = 1, F80_GT = 2, F80_UNORDERED = 3 };

static inline struct emu_f80 f80_make(uint16_t sexp, uint64_t mant)
{
    struct emu_f80 r = {mant, sexp};
    return r;
}
static inline struct emu_f80 f80_indefinite(void)
{
    return f80_make(0xffff, 0xc000000000000000ull);
}
static inline struct emu_f80 f80_zero(bool neg)
{
    return f80_make(neg ? 0x8000 : 0, 0);
}
static inline struct emu_f80 f80_inf(bool neg)
{
    return f80_make(neg ? 0xffff : 0x7fff, 0x8000000000000000ull);
}
static inline struct emu_f80 f80_one(bool neg)
{
    return f80_make(neg ? 0xbfff : 0x3fff, 0x8000000000000000ull);
}
static inline bool f80_sign(struct emu_f80 a)
{
    return a.sexp >> 15;
}
static inline struct emu_f80 f80_neg(struct emu_f80 a)
{
    a.sexp ^= 0x8000;
    return a;
}
static inline bool f80_is_nan(struct emu_f80 a)
{
    return (a.sexp & 0x7fff) == 0x7fff && (a.mant >> 63) && (a.mant << 1);
}

enum f80_class f80_classify(struct emu_f80 a);

/* Arithmetic (rounded to the FCW precision control, as FADD/FSUB/FMUL/FDIV/FSQRT). */
struct emu_f80 f80_add(struct f80_env *e, struct emu_f80 a, struct emu_f80 b);
struct emu_f80 f80_sub(struct f80_env *e, struct emu_f80 a, struct emu_f80 b);
struct emu_f80 f80_mul(struct f80_env *e, struct emu_f80 a, struct emu_f80 b);
struct emu_f80 f80_div(struct f80_env *e, struct emu_f80 a, struct emu_f80 b);
struct emu_f80 f80_sqrt(struct f80_env *e, struct emu_f80 a);
/* a <=> b; quiet: QNaN operands do not raise IE (FUCOM). */
int f80_compare(struct f80_env *e, struct emu_f80 a, struct emu_f80 b, bool quiet);

/* FRNDINT: to an integer by the FCW rounding control. */
struct emu_f80 f80_round_int(struct f80_env *e, struct emu_f80 a);
/* FPREM (ieee false: quotient truncated) and FPREM1 (ieee true: nearest).
 * Returns 1 for a partial remainder (C2), 0 when complete (*q holds the
 * quotient's low bits), -1 when the result is a NaN or indefinite. */
int f80_prem(struct f80_env *e, struct emu_f80 a, struct emu_f80 b, bool ieee,
             struct emu_f80 *r, uint64_t *q);
/* FSCALE: a * 2^trunc(b). */
struct emu_f80 f80_scale(struct f80_env *e, struct emu_f80 a, struct emu_f80 b);
/* FXTRACT: a = sig * 2^exp with 1 <= |sig| < 2. */
void f80_xtract(struct f80_env *e, struct emu_f80 a, struct emu_f80 *exp, struct emu_f80 *sig);

/* Conversions. The f32/f64 loads keep a signaling NaN signaling (the
 * arithmetic that uses it raises IE and quiets it, with the x87 NaN rules);
 * f80_load_f32/f64 are FLD's conversions, which quiet and raise IE. */
struct emu_f80 f80_from_f32_raw(uint32_t v, bool *denormal);
struct emu_f80 f80_from_f64_raw(uint64_t v, bool *denormal);
struct emu_f80 f80_load_f32(struct f80_env *e, uint32_t v);
struct emu_f80 f80_load_f64(struct f80_env *e, uint64_t v);
struct emu_f80 f80_from_int(int64_t v);
uint32_t f80_to_f32(struct f80_env *e, struct emu_f80 a);
uint64_t f80_to_f64(struct f80_env *e, struct emu_f80 a);
/* FIST: rounded by RC to a bits-wide integer (16, 32, 64); out of range,
 * NaN and infinity give IE and the integer indefinite (only the sign bit). */
int64_t f80_to_int(struct f80_env *e, struct emu_f80 a, unsigned bits);
/* FBLD / FBSTP: 18-digit packed BCD, sign in bit 7 of byte 9. */
struct emu_f80 f80_from_bcd(const uint8_t b[10]);
void f80_to_bcd(struct f80_env *e, struct emu_f80 a, uint8_t out[10]);

/* Host long double bridge (the transcendental instructions only). */
long double f80_to_ld(struct emu_f80 a);
/* Rounds a finite host value to 80 bits by the FCW rounding control (64-bit
 * precision) and raises PE. below: the exact result is known to be a little
 * smaller in magnitude than v (-1), larger (+1), or unknown (0), which
 * decides directed rounding when v itself is representable. */
struct emu_f80 f80_from_ld(struct f80_env *e, long double v, int below);

/* ---- shared by f80*.c ---- */
typedef unsigned __int128 f80_u128;

/* A finite value unpacked: |value| = sig * 2^(exp - 63), sig normalized
 * (bit 63 set) unless the value is zero. Denormals are normalized. */
struct f80_parts {
    bool sign;
    int32_t exp; /* unbiased */
    uint64_t sig;
};
struct f80_parts f80_unpack(struct emu_f80 a);
/* A binary format for rounding: precision and normal exponent range, and
 * the exponent adjustment of the unmasked over/underflow response. */
struct f80_fmt {
    unsigned prec;
    int32_t emin, emax, adj;
};
enum { F80_R_ZERO, F80_R_FINITE, F80_R_INF };
/* A rounded finite value: |value| = m * 2^(exp - prec + 1) with m < 2^prec;
 * m >= 2^(prec-1) for a normal, else a denormal with exp = emin. */
struct f80_rounded {
    int kind;
    bool sign;
    int32_t exp;
    uint64_t m;
};
/* Rounds sign * sig * 2^(exp - 127) to fmt with the FCW's RC and masks,
 * raising PE, UE, OE and C1. */
struct f80_rounded f80_round(struct f80_env *e, bool sign, int32_t exp, f80_u128 sig,
                             const struct f80_fmt *fmt);
/* Rounds sign * sig * 2^(exp - 127) (sig any non-zero value) to prec bits
 * (24, 53 or 64) in the 80-bit exponent range, with the FCW's rounding and
 * the masked/unmasked overflow and underflow responses. */
struct emu_f80 f80_round_pack(struct f80_env *e, bool sign, int32_t exp, f80_u128 sig,
                              unsigned prec);
/* The x87 NaN rules for two operands, at least one a NaN (SDM Vol. 1 Table
 * 4-7): an SNaN raises IE and is quieted; a QNaN wins over an SNaN; between
 * two of a kind the larger significand wins, then the positive one. */
struct emu_f80 f80_propagate_nan(struct f80_env *e, struct emu_f80 a, struct emu_f80 b);
/* One-operand form: SNaN raises IE and is quieted. */
struct emu_f80 f80_propagate_nan1(struct f80_env *e, struct emu_f80 a);
/* The precision control of the FCW, in bits (24, 53 or 64; PC=01 is 64). */
unsigned f80_precision(const struct f80_env *e);

#endif
