/* Software IEEE 754 binary32/binary64 arithmetic with x86 MXCSR semantics
 * (SDM Vol. 1 4.8-4.9, 10.2.3, 11.5; Table 4-7 for NaN operands): the four
 * rounding modes, DAZ and FTZ, tininess detected after rounding, the six
 * exception flags, and SSE's NaN rules (the first source's NaN wins, SNaNs
 * are quieted, invalid operations give the real indefinite). Results never
 * depend on the host FPU: the engine must behave the same on every host.
 *
 * Values are raw bit patterns (uint32_t for single, uint64_t for double).
 * Each operation ORs the exceptions it detects into the context: IE, DE
 * and ZE into pre (pre-computation), OE, UE and PE into post. The caller
 * decides from both, for a whole packed instruction, whether to write the
 * results or raise #XM (SDM Vol. 1 11.5.3). The mask bits of mxcsr only
 * steer how an overflow or an underflow is reported (the result of an
 * unmasked one is never written, so the value returned then is 0). */
#ifndef ROAM_ENGINE_EMU_SOFTFP_H
#define ROAM_ENGINE_EMU_SOFTFP_H

#include <stdbool.h>
#include <stdint.h>

/* MXCSR (SDM Vol. 1 10.2.3). */
#define SOFTFP_IE 0x0001u
#define SOFTFP_DE 0x0002u
#define SOFTFP_ZE 0x0004u
#define SOFTFP_OE 0x0008u
#define SOFTFP_UE 0x0010u
#define SOFTFP_PE 0x0020u
#define SOFTFP_FLAGS 0x003fu
#define SOFTFP_DAZ 0x0040u
#define SOFTFP_MASK_SHIFT 7
#define SOFTFP_OM (SOFTFP_OE << SOFTFP_MASK_SHIFT)
#define SOFTFP_UM (SOFTFP_UE << SOFTFP_MASK_SHIFT)
#define SOFTFP_FTZ 0x8000u
#define SOFTFP_RC_SHIFT 13
enum { SOFTFP_RN = 0, SOFTFP_RD = 1, SOFTFP_RU = 2, SOFTFP_RZ = 3 };

/* The real indefinite (default QNaN) and the integer indefinite. */
#define SOFTFP_DNAN32 0xffc00000u
#define SOFTFP_DNAN64 0xfff8000000000000ull

struct softfp {
    uint32_t mxcsr; /* control: RC, FTZ, DAZ, OM, UM */
    uint32_t pre;   /* IE, DE, ZE detected */
    uint32_t post;  /* OE, UE, PE detected */
};

static inline void softfp_init(struct softfp *s, uint32_t mxcsr)
{
    s->mxcsr = mxcsr;
    s->pre = 0;
    s->post = 0;
}

/* Comparison results. */
enum softfp_rel { SOFTFP_LT = 0, SOFTFP_EQ = 1, SOFTFP_GT = 2, SOFTFP_UN = 3 };

/* a is the first source (the destination operand), b the second. */
uint32_t softfp_add32(struct softfp *s, uint32_t a, uint32_t b);
uint32_t softfp_sub32(struct softfp *s, uint32_t a, uint32_t b);
uint32_t softfp_mul32(struct softfp *s, uint32_t a, uint32_t b);
uint32_t softfp_div32(struct softfp *s, uint32_t a, uint32_t b);
uint32_t softfp_sqrt32(struct softfp *s, uint32_t a);
/* MINSS/MAXSS: b when either is a NaN (IE) or both are zeros. */
uint32_t softfp_min32(struct softfp *s, uint32_t a, uint32_t b);
uint32_t softfp_max32(struct softfp *s, uint32_t a, uint32_t b);
/* quiet: only SNaNs signal IE (UCOMISS, CMP EQ/NEQ/ORD/UNORD). */
enum softfp_rel softfp_cmp32(struct softfp *s, uint32_t a, uint32_t b, bool quiet);

uint64_t softfp_add64(struct softfp *s, uint64_t a, uint64_t b);
uint64_t softfp_sub64(struct softfp *s, uint64_t a, uint64_t b);
uint64_t softfp_mul64(struct softfp *s, uint64_t a, uint64_t b);
uint64_t softfp_div64(struct softfp *s, uint64_t a, uint64_t b);
uint64_t softfp_sqrt64(struct softfp *s, uint64_t a);
uint64_t softfp_min64(struct softfp *s, uint64_t a, uint64_t b);
uint64_t softfp_max64(struct softfp *s, uint64_t a, uint64_t b);
enum softfp_rel softfp_cmp64(struct softfp *s, uint64_t a, uint64_t b, bool quiet);

/* Conversions between the formats (CVTSS2SD, CVTSD2SS and packed forms). */
uint64_t softfp_f32_to_f64(struct softfp *s, uint32_t a);
uint32_t softfp_f64_to_f32(struct softfp *s, uint64_t a);
/* Integer to float (CVTSI2SS/SD, CVTDQ2PS/PD, CVTPI2PS/PD), rounded by RC. */
uint32_t softfp_i64_to_f32(struct softfp *s, int64_t v);
uint64_t softfp_i64_to_f64(struct softfp *s, int64_t v);
/* Float to a 32- or 64-bit integer (bits), rounded by RC or truncated;
 * NaN, infinity and out-of-range give the integer indefinite with IE. */
uint64_t softfp_f32_to_int(struct softfp *s, uint32_t a, unsigned bits, bool trunc);
uint64_t softfp_f64_to_int(struct softfp *s, uint64_t a, unsigned bits, bool trunc);

/* RCPSS/RSQRTSS approximations: no flags, MXCSR ignored (softfp_approx.c). */
uint32_t softfp_rcp32(uint32_t a);
uint32_t softfp_rsqrt32(uint32_t a);

#endif
