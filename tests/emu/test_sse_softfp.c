/* emu/softfp: the software single/double arithmetic against the host's own
 * SSE2 unit (SDM Vol. 1 chapters 4, 10 and 11). The same instruction runs
 * on the host with the same MXCSR (every rounding mode, DAZ, FTZ; all
 * exceptions masked) on random operands weighted toward the hard cases:
 * zeros, denormals, infinities, NaNs, the edges of the exponent range and
 * sparse significands that land exactly on rounding ties. The result bits
 * and the six exception flags must match. Unmasked exceptions are checked
 * the same way, catching the host's SIGFPE to read which flags it set. */
#define _GNU_SOURCE /* sigaction, ucontext_t */
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>

#include "engine/emu/softfp.h"
#include "test.h"

#if defined(__x86_64__) && defined(__linux__)
#define HOST_ORACLE 1
#include <ucontext.h>
#else
#define HOST_ORACLE 0
#endif

#ifndef ITERS
#define ITERS 300000
#endif

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

/* A random raw value of a format with fraction bits mb and exponent bits eb. */
static uint64_t rand_fp(unsigned mb, unsigned eb)
{
    uint64_t emax = (1ull << eb) - 1, bias = emax >> 1;
    uint64_t mmask = (1ull << mb) - 1;
    uint64_t r = rnd(), m = rnd() & mmask, e;
    uint64_t sign = (r & 1) << (mb + eb);

    switch ((r >> 1) % 20) {
    case 0: return sign;
    case 1: return sign | (emax << mb);
    case 2: return sign | (emax << mb) | (1ull << (mb - 1)) | (m & (rnd() % 2 ? mmask : 7));
    case 3: return sign | (emax << mb) | ((m | 1) & (mmask >> 1));
    case 4: case 5: return sign | (m ? m : 1) >> (rnd() % mb);
    case 6: e = 1 + rnd() % 3; break;
    case 7: e = emax - 1 - rnd() % 3; break;
    case 8: e = bias - 2 + rnd() % 5; break;
    case 9: e = rnd() % emax; m = mmask; break;
    case 10: case 11: /* sparse significands: exact ties and near-ties */
        e = rnd() % emax;
        m = (1ull << (rnd() % mb)) | (1ull << (rnd() % mb));
        if (rnd() & 1)
            m ^= mmask;
        break;
    case 12: e = bias - mb - 2 + rnd() % (2 * mb + 4); break;
    case 13: e = 1 + rnd() % (mb + 2); break;
    default: e = rnd() % emax; break;
    }
    return sign | (e << mb) | m;
}

static uint32_t rand_f32(void) { return (uint32_t)rand_fp(23, 8); }
static uint64_t rand_f64(void) { return rand_fp(52, 11); }

/* A second operand related to the first: same or nearby exponent (for
 * cancellation), or an exponent that takes a product/quotient to an edge. */
static uint64_t rand_near(uint64_t a, unsigned mb, unsigned eb)
{
    uint64_t emax = (1ull << eb) - 1, bias = emax >> 1;
    uint64_t e = (a >> mb) & emax, b = rand_fp(mb, eb);
    uint64_t keep = b & ~(emax << mb);
    switch (rnd() % 5) {
    case 0: return b;
    case 1: return a ^ (rnd() & 0xf) ^ ((rnd() & 1) << (mb + eb));
    case 2: e = (e + rnd() % 5 + emax - 2) % emax; break;
    case 3: e = (2 * bias + emax - e + rnd() % 7 - 3) % emax; break; /* mul near edges */
    default: e = (e + emax - rnd() % (mb + 3)) % emax; break;      /* div/sub edges */
    }
    return keep | (e << mb);
}

static uint32_t rand_mxcsr(void)
{
    uint32_t m = 0x1f80 | (uint32_t)((rnd() & 3) << 13);
    if (rnd() % 3 == 0)
        m |= 0x40; /* DAZ */
    if (rnd() % 3 == 0)
        m |= 0x8000; /* FTZ */
    return m;
}

#if HOST_ORACLE
/* One host instruction on xmm0 (first source, destination) and xmm1 under
 * *mx; *mx comes back with the flags it set. The host's own MXCSR is saved
 * and restored around it. */
#define HOST_OP(name, T, mov, insn)                                                          \
    static T name(uint32_t *mx, T a, T b)                                                     \
    {                                                                                         \
        T r;                                                                                  \
        uint32_t saved;                                                                       \
        __asm__ volatile("stmxcsr %[sv]\n\tldmxcsr %[m]\n\t" mov " %[a], %%xmm0\n\t" mov       \
                         " %[b], %%xmm1\n\t" insn "\n\t" mov " %%xmm0, %[r]\n\t"              \
                         "stmxcsr %[m]\n\tldmxcsr %[sv]"                                      \
                         : [r] "=r"(r), [m] "+m"(*mx), [sv] "=m"(saved)                       \
                         : [a] "r"(a), [b] "r"(b)                                             \
                         : "rax", "xmm0", "xmm1");                                            \
        return r;                                                                             \
    }
HOST_OP(h_addss, uint32_t, "movd", "addss %%xmm1, %%xmm0")
HOST_OP(h_subss, uint32_t, "movd", "subss %%xmm1, %%xmm0")
HOST_OP(h_mulss, uint32_t, "movd", "mulss %%xmm1, %%xmm0")
HOST_OP(h_divss, uint32_t, "movd", "divss %%xmm1, %%xmm0")
HOST_OP(h_sqrtss, uint32_t, "movd", "sqrtss %%xmm1, %%xmm0")
HOST_OP(h_minss, uint32_t, "movd", "minss %%xmm1, %%xmm0")
HOST_OP(h_maxss, uint32_t, "movd", "maxss %%xmm1, %%xmm0")
HOST_OP(h_addsd, uint64_t, "movq", "addsd %%xmm1, %%xmm0")
HOST_OP(h_subsd, uint64_t, "movq", "subsd %%xmm1, %%xmm0")
HOST_OP(h_mulsd, uint64_t, "movq", "mulsd %%xmm1, %%xmm0")
HOST_OP(h_divsd, uint64_t, "movq", "divsd %%xmm1, %%xmm0")
HOST_OP(h_sqrtsd, uint64_t, "movq", "sqrtsd %%xmm1, %%xmm0")
HOST_OP(h_minsd, uint64_t, "movq", "minsd %%xmm1, %%xmm0")
HOST_OP(h_maxsd, uint64_t, "movq", "maxsd %%xmm1, %%xmm0")
/* CVTSD2SS/CVTSS2SD: the source is xmm1 in the other width. */
HOST_OP(h_cvtsd2ss, uint64_t, "movq", "xorps %%xmm0, %%xmm0\n\tcvtsd2ss %%xmm1, %%xmm0")
HOST_OP(h_cvtss2sd, uint64_t, "movq", "cvtss2sd %%xmm1, %%xmm0")
HOST_OP(h_cvtsi2ss_l, uint64_t, "movq", "xorps %%xmm0, %%xmm0\n\tmovq %%xmm1, %%rax\n\t"
                                        "cvtsi2ssl %%eax, %%xmm0")
HOST_OP(h_cvtsi2ss_q, uint64_t, "movq", "xorps %%xmm0, %%xmm0\n\tmovq %%xmm1, %%rax\n\t"
                                        "cvtsi2ssq %%rax, %%xmm0")
HOST_OP(h_cvtsi2sd_q, uint64_t, "movq", "movq %%xmm1, %%rax\n\tcvtsi2sdq %%rax, %%xmm0")
HOST_OP(h_cvtss2si_l, uint64_t, "movq", "cvtss2si %%xmm1, %%eax\n\tmovq %%rax, %%xmm0")
HOST_OP(h_cvtss2si_q, uint64_t, "movq", "cvtss2si %%xmm1, %%rax\n\tmovq %%rax, %%xmm0")
HOST_OP(h_cvttss2si_l, uint64_t, "movq", "cvttss2si %%xmm1, %%eax\n\tmovq %%rax, %%xmm0")
HOST_OP(h_cvttss2si_q, uint64_t, "movq", "cvttss2si %%xmm1, %%rax\n\tmovq %%rax, %%xmm0")
HOST_OP(h_cvtsd2si_l, uint64_t, "movq", "cvtsd2si %%xmm1, %%eax\n\tmovq %%rax, %%xmm0")
HOST_OP(h_cvtsd2si_q, uint64_t, "movq", "cvtsd2si %%xmm1, %%rax\n\tmovq %%rax, %%xmm0")
HOST_OP(h_cvttsd2si_l, uint64_t, "movq", "cvttsd2si %%xmm1, %%eax\n\tmovq %%rax, %%xmm0")
HOST_OP(h_cvttsd2si_q, uint64_t, "movq", "cvttsd2si %%xmm1, %%rax\n\tmovq %%rax, %%xmm0")
/* COMISS/UCOMISS: ZF, PF, CF into the result. */
HOST_OP(h_comiss, uint32_t, "movd", "comiss %%xmm1, %%xmm0\n\tpushfq\n\tpop %%rax\n\tmovd %%eax, %%xmm0")
HOST_OP(h_ucomiss, uint32_t, "movd", "ucomiss %%xmm1, %%xmm0\n\tpushfq\n\tpop %%rax\n\tmovd %%eax, %%xmm0")
HOST_OP(h_comisd, uint64_t, "movq", "comisd %%xmm1, %%xmm0\n\tpushfq\n\tpop %%rax\n\tmovq %%rax, %%xmm0")
HOST_OP(h_ucomisd, uint64_t, "movq", "ucomisd %%xmm1, %%xmm0\n\tpushfq\n\tpop %%rax\n\tmovq %%rax, %%xmm0")

static int mismatches;

static void report(const char *op, uint32_t mx, uint64_t a, uint64_t b, uint64_t hr, uint32_t hf,
                   uint64_t sr, uint32_t sf)
{
    if (mismatches++ < 12)
        printf("  %s mxcsr=%04x a=%llx b=%llx: host %llx flags %02x, softfp %llx flags %02x\n",
               op, mx, (unsigned long long)a, (unsigned long long)b, (unsigned long long)hr, hf,
               (unsigned long long)sr, sf);
    test_failed_ = 1;
}

typedef uint32_t (*soft32_fn)(struct softfp *, uint32_t, uint32_t);
typedef uint64_t (*soft64_fn)(struct softfp *, uint64_t, uint64_t);
typedef uint32_t (*host32_fn)(uint32_t *, uint32_t, uint32_t);
typedef uint64_t (*host64_fn)(uint32_t *, uint64_t, uint64_t);

static void check32(const char *op, host32_fn h, soft32_fn f, uint32_t a, uint32_t b, uint32_t mx)
{
    uint32_t hm = mx;
    uint32_t hr = h(&hm, a, b);
    struct softfp s;
    softfp_init(&s, mx);
    uint32_t sr = f(&s, a, b);
    if (hr != sr || (hm & 0x3f) != (s.pre | s.post))
        report(op, mx, a, b, hr, hm & 0x3f, sr, s.pre | s.post);
}

static void check64(const char *op, host64_fn h, soft64_fn f, uint64_t a, uint64_t b, uint32_t mx)
{
    uint32_t hm = mx;
    uint64_t hr = h(&hm, a, b);
    struct softfp s;
    softfp_init(&s, mx);
    uint64_t sr = f(&s, a, b);
    if (hr != sr || (hm & 0x3f) != (s.pre | s.post))
        report(op, mx, a, b, hr, hm & 0x3f, sr, s.pre | s.post);
}

static uint32_t s_sqrt32(struct softfp *s, uint32_t a, uint32_t b) { (void)a; return softfp_sqrt32(s, b); }
static uint64_t s_sqrt64(struct softfp *s, uint64_t a, uint64_t b) { (void)a; return softfp_sqrt64(s, b); }
static uint64_t s_cvtsd2ss(struct softfp *s, uint64_t a, uint64_t b) { (void)a; return softfp_f64_to_f32(s, b); }
static uint64_t s_cvtss2sd(struct softfp *s, uint64_t a, uint64_t b) { (void)a; return softfp_f32_to_f64(s, (uint32_t)b); }
static uint64_t s_cvtsi2ss_l(struct softfp *s, uint64_t a, uint64_t b) { (void)a; return softfp_i64_to_f32(s, (int32_t)b); }
static uint64_t s_cvtsi2ss_q(struct softfp *s, uint64_t a, uint64_t b) { (void)a; return softfp_i64_to_f32(s, (int64_t)b); }
static uint64_t s_cvtsi2sd_q(struct softfp *s, uint64_t a, uint64_t b) { (void)a; return softfp_i64_to_f64(s, (int64_t)b); }
static uint64_t s_cvtss2si_l(struct softfp *s, uint64_t a, uint64_t b) { (void)a; return softfp_f32_to_int(s, (uint32_t)b, 32, false); }
static uint64_t s_cvtss2si_q(struct softfp *s, uint64_t a, uint64_t b) { (void)a; return softfp_f32_to_int(s, (uint32_t)b, 64, false); }
static uint64_t s_cvttss2si_l(struct softfp *s, uint64_t a, uint64_t b) { (void)a; return softfp_f32_to_int(s, (uint32_t)b, 32, true); }
static uint64_t s_cvttss2si_q(struct softfp *s, uint64_t a, uint64_t b) { (void)a; return softfp_f32_to_int(s, (uint32_t)b, 64, true); }
static uint64_t s_cvtsd2si_l(struct softfp *s, uint64_t a, uint64_t b) { (void)a; return softfp_f64_to_int(s, b, 32, false); }
static uint64_t s_cvtsd2si_q(struct softfp *s, uint64_t a, uint64_t b) { (void)a; return softfp_f64_to_int(s, b, 64, false); }
static uint64_t s_cvttsd2si_l(struct softfp *s, uint64_t a, uint64_t b) { (void)a; return softfp_f64_to_int(s, b, 32, true); }
static uint64_t s_cvttsd2si_q(struct softfp *s, uint64_t a, uint64_t b) { (void)a; return softfp_f64_to_int(s, b, 64, true); }

/* The flags COMISS leaves: ZF, PF, CF by the relation, OF = SF = AF = 0. */
static uint32_t comi_flags(enum softfp_rel r)
{
    static const uint32_t f[4] = {0x01, 0x40, 0x00, 0x45};
    return f[r];
}
static uint32_t s_comiss(struct softfp *s, uint32_t a, uint32_t b) { return comi_flags(softfp_cmp32(s, a, b, false)); }
static uint32_t s_ucomiss(struct softfp *s, uint32_t a, uint32_t b) { return comi_flags(softfp_cmp32(s, a, b, true)); }
static uint64_t s_comisd(struct softfp *s, uint64_t a, uint64_t b) { return comi_flags(softfp_cmp64(s, a, b, false)); }
static uint64_t s_ucomisd(struct softfp *s, uint64_t a, uint64_t b) { return comi_flags(softfp_cmp64(s, a, b, true)); }
static uint32_t h_comiss_f(uint32_t *m, uint32_t a, uint32_t b) { return h_comiss(m, a, b) & 0x8d5; }
static uint32_t h_ucomiss_f(uint32_t *m, uint32_t a, uint32_t b) { return h_ucomiss(m, a, b) & 0x8d5; }
static uint64_t h_comisd_f(uint32_t *m, uint64_t a, uint64_t b) { return h_comisd(m, a, b) & 0x8d5; }
static uint64_t h_ucomisd_f(uint32_t *m, uint64_t a, uint64_t b) { return h_ucomisd(m, a, b) & 0x8d5; }
#endif

#define NEED_ORACLE()                                                                        \
    do {                                                                                     \
        if (!HOST_ORACLE)                                                                    \
            SKIP("needs an x86-64 Linux host to compare with");                              \
    } while (0)

static void single_arith(void)
{
    NEED_ORACLE();
#if HOST_ORACLE
    static const struct { const char *n; host32_fn h; soft32_fn f; } ops[] = {
        {"addss", h_addss, softfp_add32}, {"subss", h_subss, softfp_sub32},
        {"mulss", h_mulss, softfp_mul32}, {"divss", h_divss, softfp_div32},
        {"sqrtss", h_sqrtss, s_sqrt32},   {"minss", h_minss, softfp_min32},
        {"maxss", h_maxss, softfp_max32}, {"comiss", h_comiss_f, s_comiss},
        {"ucomiss", h_ucomiss_f, s_ucomiss},
    };
    mismatches = 0;
    for (unsigned k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
        for (int i = 0; i < ITERS; i++) {
            uint32_t a = rand_f32();
            uint32_t b = (uint32_t)(i & 1 ? rand_near(a, 23, 8) : rand_f32());
            check32(ops[k].n, ops[k].h, ops[k].f, a, b, rand_mxcsr());
        }
#endif
}

static void double_arith(void)
{
    NEED_ORACLE();
#if HOST_ORACLE
    static const struct { const char *n; host64_fn h; soft64_fn f; } ops[] = {
        {"addsd", h_addsd, softfp_add64}, {"subsd", h_subsd, softfp_sub64},
        {"mulsd", h_mulsd, softfp_mul64}, {"divsd", h_divsd, softfp_div64},
        {"sqrtsd", h_sqrtsd, s_sqrt64},   {"minsd", h_minsd, softfp_min64},
        {"maxsd", h_maxsd, softfp_max64}, {"comisd", h_comisd_f, s_comisd},
        {"ucomisd", h_ucomisd_f, s_ucomisd},
    };
    mismatches = 0;
    for (unsigned k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
        for (int i = 0; i < ITERS; i++) {
            uint64_t a = rand_f64();
            uint64_t b = i & 1 ? rand_near(a, 52, 11) : rand_f64();
            check64(ops[k].n, ops[k].h, ops[k].f, a, b, rand_mxcsr());
        }
#endif
}

/* A random integer: small, near the powers of two, or any. */
static uint64_t rand_int(void)
{
    uint64_t r = rnd();
    switch (rnd() % 4) {
    case 0: return r & 0xff;
    case 1: return (1ull << (rnd() % 64)) + (rnd() % 5) - 2;
    case 2: return 0 - ((1ull << (rnd() % 64)) + (rnd() % 5) - 2);
    default: return r >> (rnd() % 64);
    }
}

static void conversions(void)
{
    NEED_ORACLE();
#if HOST_ORACLE
    static const struct { const char *n; host64_fn h; soft64_fn f; int src; } ops[] = {
        {"cvtsd2ss", h_cvtsd2ss, s_cvtsd2ss, 64},  {"cvtss2sd", h_cvtss2sd, s_cvtss2sd, 32},
        {"cvtsi2ssl", h_cvtsi2ss_l, s_cvtsi2ss_l, 0}, {"cvtsi2ssq", h_cvtsi2ss_q, s_cvtsi2ss_q, 0},
        {"cvtsi2sdq", h_cvtsi2sd_q, s_cvtsi2sd_q, 0}, {"cvtss2si", h_cvtss2si_l, s_cvtss2si_l, 32},
        {"cvtss2siq", h_cvtss2si_q, s_cvtss2si_q, 32}, {"cvttss2si", h_cvttss2si_l, s_cvttss2si_l, 32},
        {"cvttss2siq", h_cvttss2si_q, s_cvttss2si_q, 32}, {"cvtsd2si", h_cvtsd2si_l, s_cvtsd2si_l, 64},
        {"cvtsd2siq", h_cvtsd2si_q, s_cvtsd2si_q, 64}, {"cvttsd2si", h_cvttsd2si_l, s_cvttsd2si_l, 64},
        {"cvttsd2siq", h_cvttsd2si_q, s_cvttsd2si_q, 64},
    };
    mismatches = 0;
    for (unsigned k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
        for (int i = 0; i < ITERS; i++) {
            uint64_t b;
            if (ops[k].src == 64)
                b = rand_f64();
            else if (ops[k].src == 32)
                b = rand_f32();
            else
                b = rand_int();
            /* the float-to-int cases: also values near the integer limits */
            if (ops[k].src && i % 4 == 0) {
                uint64_t e = (ops[k].src == 64 ? 1023 : 127) + 28 + rnd() % 8;
                b = ops[k].src == 64 ? (b & 0x800fffffffffffffull) | (e << 52)
                                     : (b & 0x807fffffu) | (e << 23);
            }
            check64(ops[k].n, ops[k].h, ops[k].f, 0, b, rand_mxcsr());
        }
#endif
}

/* Hand-picked values the random search may miss. */
static void special_values(void)
{
    struct softfp s;
    softfp_init(&s, 0x1f80);
    /* 1 + 2^-24 ties to even: 1.0; PE */
    CHECK_EQ(softfp_add32(&s, 0x3f800000u, 0x33800000u), 0x3f800000u);
    CHECK_EQ(s.post, SOFTFP_PE);
    softfp_init(&s, 0x1f80);
    CHECK_EQ(softfp_add32(&s, 0xff800000u, 0x7f800000u), SOFTFP_DNAN32);
    CHECK_EQ(s.pre, SOFTFP_IE);
    /* the first source's NaN wins, quieted */
    softfp_init(&s, 0x1f80);
    CHECK_EQ(softfp_mul64(&s, 0x7ff0000000000001ull, 0x7ff8000000000002ull), 0x7ff8000000000001ull);
    CHECK_EQ(s.pre, SOFTFP_IE);
    softfp_init(&s, 0x1f80);
    CHECK_EQ(softfp_f32_to_int(&s, 0x4f000000u, 32, false), 0x80000000u);
    CHECK_EQ(s.pre, SOFTFP_IE);
    softfp_init(&s, 0x1f80);
    CHECK_EQ(softfp_f64_to_int(&s, 0xc3e0000000000000ull, 64, true), 0x8000000000000000ull);
    CHECK_EQ(s.pre | s.post, 0);
    /* 1/0: ZE and infinity */
    softfp_init(&s, 0x1f80);
    CHECK_EQ(softfp_div64(&s, 0x3ff0000000000000ull, 0), 0x7ff0000000000000ull);
    CHECK_EQ(s.pre, SOFTFP_ZE);
    /* sqrt(2) */
    softfp_init(&s, 0x1f80);
    CHECK_EQ(softfp_sqrt64(&s, 0x4000000000000000ull), 0x3ff6a09e667f3bcdull);
    CHECK_EQ(s.post, SOFTFP_PE);
    /* unmasked overflow: OE detected, PE only when inexact, no result */
    softfp_init(&s, 0x1f80 & ~SOFTFP_OM);
    softfp_mul32(&s, 0x7f000000u, 0x7f000000u);
    CHECK_EQ(s.post, SOFTFP_OE);
    softfp_init(&s, 0x1f80 & ~SOFTFP_OM);
    softfp_mul32(&s, 0x7f000001u, 0x7f000001u);
    CHECK_EQ(s.post, SOFTFP_OE | SOFTFP_PE);
}

#if HOST_ORACLE
/* Unmasked exceptions: the host raises SIGFPE before writing anything; the
 * handler reads the MXCSR flags from the signal context and jumps back. */
static sigjmp_buf fpe_jmp;
static volatile uint32_t fpe_mxcsr;

static void fpe_handler(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)si;
    ucontext_t *uc = ctx;
    fpe_mxcsr = uc->uc_mcontext.fpregs->mxcsr;
    /* mask everything in the interrupted context's MXCSR: the jump keeps ours */
    siglongjmp(fpe_jmp, 1);
}

/* Returns 1 if the host trapped (its flags in *mx), 0 if it completed. */
static int host_trap32(host32_fn h, uint32_t *mx, uint32_t a, uint32_t b, uint32_t *r)
{
    uint32_t saved;
    __asm__ volatile("stmxcsr %0" : "=m"(saved));
    if (sigsetjmp(fpe_jmp, 1)) {
        __asm__ volatile("ldmxcsr %0" : : "m"(saved));
        *mx = fpe_mxcsr;
        return 1;
    }
    *r = h(mx, a, b);
    return 0;
}

static int host_trap64(host64_fn h, uint32_t *mx, uint64_t a, uint64_t b, uint64_t *r)
{
    uint32_t saved;
    __asm__ volatile("stmxcsr %0" : "=m"(saved));
    if (sigsetjmp(fpe_jmp, 1)) {
        __asm__ volatile("ldmxcsr %0" : : "m"(saved));
        *mx = fpe_mxcsr;
        return 1;
    }
    *r = h(mx, a, b);
    return 0;
}

/* What the engine does with the flags an instruction detected (sse.c):
 * an unmasked pre-computation exception stops it with only the
 * pre-computation flags set; else all flags are set and any unmasked one
 * traps. Returns 1 for a trap. */
static int soft_outcome(const struct softfp *s, uint32_t mx, uint32_t *flags)
{
    uint32_t unmasked = ~(mx >> 7) & 0x3f;
    if (s->pre & unmasked) {
        *flags = s->pre;
        return 1;
    }
    *flags = s->pre | s->post;
    return (*flags & unmasked) != 0;
}
#endif

static void unmasked(void)
{
    NEED_ORACLE();
#if HOST_ORACLE
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = fpe_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGFPE, &sa, &old);
    static const struct { const char *n; host32_fn h; soft32_fn f; } ops32[] = {
        {"addss", h_addss, softfp_add32}, {"mulss", h_mulss, softfp_mul32},
        {"divss", h_divss, softfp_div32}, {"sqrtss", h_sqrtss, s_sqrt32},
        {"minss", h_minss, softfp_min32}, {"comiss", h_comiss_f, s_comiss},
    };
    static const struct { const char *n; host64_fn h; soft64_fn f; } ops64[] = {
        {"subsd", h_subsd, softfp_sub64}, {"mulsd", h_mulsd, softfp_mul64},
        {"divsd", h_divsd, softfp_div64}, {"cvtsd2ss", h_cvtsd2ss, s_cvtsd2ss},
        {"cvtss2sd", h_cvtss2sd, s_cvtss2sd}, {"cvtsd2si", h_cvtsd2si_l, s_cvtsd2si_l},
        {"cvtsi2ssq", h_cvtsi2ss_q, s_cvtsi2ss_q},
    };
    mismatches = 0;
    for (int i = 0; i < ITERS / 4; i++) {
        /* clear one to six random mask bits */
        uint32_t mx = rand_mxcsr() & ~((uint32_t)(rnd() & 0x3f) << 7);
        uint32_t hm = mx, sflags, hr32, sr32;
        uint64_t hr64, sr64;
        struct softfp s;
        unsigned k = (unsigned)(rnd() % (sizeof(ops32) / sizeof(ops32[0]) + 7));
        softfp_init(&s, mx);
        if (k < sizeof(ops32) / sizeof(ops32[0])) {
            uint32_t a = rand_f32(), b = (uint32_t)(i & 1 ? rand_near(a, 23, 8) : rand_f32());
            int ht = host_trap32(ops32[k].h, &hm, a, b, &hr32);
            sr32 = ops32[k].f(&s, a, b);
            int st = soft_outcome(&s, mx, &sflags);
            if (ht != st || (hm & 0x3f) != sflags || (!ht && hr32 != sr32))
                report(ops32[k].n, mx, a, b, ht ? 0xdead : hr32, hm & 0x3f, st ? 0xdead : sr32,
                       sflags);
        } else {
            k -= sizeof(ops32) / sizeof(ops32[0]);
            uint64_t a = rand_f64(), b = i & 1 ? rand_near(a, 52, 11) : rand_f64();
            if (k == 4)
                b = rand_f32();
            if (k == 6)
                b = rand_int();
            int ht = host_trap64(ops64[k].h, &hm, a, b, &hr64);
            sr64 = ops64[k].f(&s, a, b);
            int st = soft_outcome(&s, mx, &sflags);
            if (ht != st || (hm & 0x3f) != sflags || (!ht && hr64 != sr64))
                report(ops64[k].n, mx, a, b, ht ? 0xdead : hr64, hm & 0x3f, st ? 0xdead : sr64,
                       sflags);
        }
    }
    sigaction(SIGFPE, &old, NULL);
#endif
}

#if HOST_ORACLE
static uint32_t h_rcp(uint32_t a)
{
    uint32_t r;
    __asm__("movd %1, %%xmm0\n\trcpss %%xmm0, %%xmm0\n\tmovd %%xmm0, %0" : "=r"(r) : "r"(a) : "xmm0");
    return r;
}

static uint32_t h_rsqrt(uint32_t a)
{
    uint32_t r;
    __asm__("movd %1, %%xmm0\n\trsqrtss %%xmm0, %%xmm0\n\tmovd %%xmm0, %0" : "=r"(r) : "r"(a) : "xmm0");
    return r;
}
#endif

/* RCP/RSQRT: every fraction of two exponents (one per RSQRT parity), and
 * random values of every exponent, against the host when it is the kind of
 * CPU whose tables softfp_approx.c holds (AMD Zen). */
static void approximations(void)
{
    NEED_ORACLE();
#if HOST_ORACLE
    if (h_rcp(0x3f800000u) != softfp_rcp32(0x3f800000u))
        SKIP("the host's RCPSS is not the AMD Zen one softfp reproduces");
    mismatches = 0;
    for (uint32_t m = 0; m < (1u << 23); m++) {
        uint32_t a = 0x3f800000u | m, b = 0x40000000u | m;
        if (h_rcp(a) != softfp_rcp32(a))
            report("rcpss", 0, a, 0, h_rcp(a), 0, softfp_rcp32(a), 0);
        if (h_rsqrt(a) != softfp_rsqrt32(a))
            report("rsqrtss", 0, a, 0, h_rsqrt(a), 0, softfp_rsqrt32(a), 0);
        if (h_rsqrt(b) != softfp_rsqrt32(b))
            report("rsqrtss", 0, b, 0, h_rsqrt(b), 0, softfp_rsqrt32(b), 0);
    }
    for (int i = 0; i < ITERS; i++) {
        uint32_t a = i & 1 ? rand_f32() : (uint32_t)rnd();
        if (h_rcp(a) != softfp_rcp32(a))
            report("rcpss", 0, a, 0, h_rcp(a), 0, softfp_rcp32(a), 0);
        if (h_rsqrt(a) != softfp_rsqrt32(a))
            report("rsqrtss", 0, a, 0, h_rsqrt(a), 0, softfp_rsqrt32(a), 0);
    }
#endif
}

static const struct test_case tests[] = {
    TEST(special_values), TEST(single_arith), TEST(double_arith), TEST(conversions),
    TEST(unmasked), TEST(approximations),
};

TEST_MAIN("emu/softfp", tests)
