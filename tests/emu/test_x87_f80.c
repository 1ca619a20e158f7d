/* The 80-bit software core (src/engine/emu/f80*.c) against known values and,
 * on x86-64 hosts, against the host's own x87 running the same operation
 * with the same control word: random operands biased towards the hard
 * cases (rounding ties, denormals, pseudo-denormals, unnormals, NaNs,
 * infinities, the ends of the exponent range) under every rounding and
 * precision control, comparing result bits, the exception flags and the
 * condition codes. On other hosts the oracle tests are skipped. */
#include "engine/emu/f80.h"
#include "test.h"
#include <stdlib.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t rnd_mant(void)
{
    uint64_t m = rnd();
    switch (rnd() % 6) {
    case 0: m &= ~0ull << (rnd() % 64); break;      /* trailing zeros: exact or ties */
    case 1: m |= (1ull << (rnd() % 64)) - 1; break; /* trailing ones: carries */
    case 2: m = (m & ~0ull << 40) | (1ull << 39); break; /* a tie at 24 bits */
    case 3: m = (m & ~0ull << 11) | (1ull << 10); break; /* a tie at 53 bits */
    default: break;
    }
    return m;
}

static struct emu_f80 rand_f80(void)
{
    uint16_t s = (rnd() & 1) ? 0x8000 : 0;
    uint64_t m = rnd_mant();
    switch (rnd() % 20) {
    case 0: return f80_make(s, 0);
    case 1: return f80_make(s | 0x7fff, 1ull << 63);
    case 2: return f80_make(s | 0x7fff, m | 3ull << 62);                      /* QNaN */
    case 3: return f80_make(s | 0x7fff, (m & ~(1ull << 62)) | 1ull << 63 | 1); /* SNaN */
    case 4: return f80_make(s, (m & ~(1ull << 63)) >> (rnd() % 64));          /* denormal */
    case 5: return f80_make(s, m | 1ull << 63);                               /* pseudo-denormal */
    case 6: return f80_make((uint16_t)(s | (1 + rnd() % 0x7ffe)), m & ~(1ull << 63)); /* unnormal */
    case 7: return f80_make(s | 0x7fff, m & ~(1ull << 63));                   /* pseudo-NaN/inf */
    case 8: return f80_make((uint16_t)(s | (0x7fff - 1 - rnd() % 64)), m | 1ull << 63);
    case 9: return f80_make((uint16_t)(s | (1 + rnd() % 64)), m | 1ull << 63);
    case 10: return f80_from_int((int64_t)(rnd() % 2000) - 1000);
    default: return f80_make((uint16_t)(s | (0x3fff - 80 + rnd() % 160)), m | 1ull << 63);
    }
}

/* A second operand near the first (cancellation, ties, exponent gaps). */
static struct emu_f80 rand_near(struct emu_f80 a)
{
    if (rnd() % 3 == 0 || (a.sexp & 0x7fff) == 0x7fff || (a.sexp & 0x7fff) == 0)
        return rand_f80();
    int32_t e = (int32_t)(a.sexp & 0x7fff) + (int32_t)(rnd() % 141) - 70;
    if (e < 1)
        e = 1;
    if (e > 0x7ffe)
        e = 0x7ffe;
    uint64_t m = a.mant ^ (rnd() % 4 ? (rnd() & 0xff) : rnd());
    return f80_make((uint16_t)((rnd() & 1 ? 0x8000 : 0) | e), m | 1ull << 63);
}

static uint16_t rand_cw(void)
{
    static const uint16_t pc[3] = {0x000, 0x200, 0x300};
    return (uint16_t)(0x1040 | 0x3f | pc[rnd() % 3] | (rnd() % 4) << 10);
}

#define SW_FLAGS 0x003fu
#define SW_C0 0x0100u
#define SW_C1 0x0200u
#define SW_C2 0x0400u
#define SW_C3 0x4000u

/* ---- fixed values ---- */

static void f80_known(void)
{
    struct f80_env e = f80_env_make(0x037f);
    struct emu_f80 one = f80_one(false), three = f80_from_int(3);
    struct emu_f80 r = f80_div(&e, one, three);
    CHECK_EQ(r.sexp, 0x3ffd);
    CHECK_EQ(r.mant, 0xaaaaaaaaaaaaaaabull); /* nearest rounds the ...aa|aa up */
    CHECK_EQ(e.flags, F80_PE | F80_C1);
    e = f80_env_make(0x007f); /* PC = 24 bits */
    r = f80_div(&e, one, three);
    CHECK_EQ(r.mant, 0xaaaaab0000000000ull);
    e = f80_env_make(0x0e7f); /* PC = 53 bits, RC = toward zero */
    r = f80_div(&e, one, three);
    CHECK_EQ(r.mant, 0xaaaaaaaaaaaaa800ull);
    CHECK_EQ(e.flags, F80_PE);
    /* 2 + 2 = 4 exactly; x - x = +0 (-0 when rounding down). */
    e = f80_env_make(0x037f);
    r = f80_add(&e, f80_from_int(2), f80_from_int(2));
    CHECK_EQ(r.sexp, 0x4001);
    CHECK_EQ(e.flags, 0);
    r = f80_sub(&e, three, three);
    CHECK_EQ(r.sexp, 0);
    e = f80_env_make(0x077f);
    r = f80_sub(&e, three, three);
    CHECK_EQ(r.sexp, 0x8000);
    /* sqrt(2), 0/0, 1/0, sqrt(-1), inf - inf */
    e = f80_env_make(0x037f);
    r = f80_sqrt(&e, f80_from_int(2));
    CHECK_EQ(r.sexp, 0x3fff);
    CHECK_EQ(r.mant, 0xb504f333f9de6484ull);
    r = f80_div(&e, f80_zero(false), f80_zero(true));
    CHECK_EQ(r.sexp, 0xffff);
    CHECK_EQ(r.mant, 0xc000000000000000ull);
    CHECK(e.flags & F80_IE);
    e = f80_env_make(0x037f);
    r = f80_div(&e, one, f80_zero(true));
    CHECK_EQ(r.sexp, 0xffff);
    CHECK_EQ(r.mant, 1ull << 63);
    CHECK_EQ(e.flags, F80_ZE);
    /* The x87 NaN rules: QNaN beats SNaN; two QNaNs, larger significand. */
    struct emu_f80 q1 = f80_make(0x7fff, 0xc000000000000001ull);
    struct emu_f80 q2 = f80_make(0xffff, 0xc000000000000002ull);
    struct emu_f80 s3 = f80_make(0x7fff, 0x8000000000000003ull);
    e = f80_env_make(0x037f);
    r = f80_add(&e, q1, q2);
    CHECK_EQ(r.sexp, 0xffff);
    CHECK_EQ(r.mant, q2.mant);
    CHECK_EQ(e.flags, 0);
    r = f80_mul(&e, s3, q1);
    CHECK_EQ(r.mant, q1.mant);
    CHECK_EQ(e.flags, F80_IE);
    /* Conversions. */
    e = f80_env_make(0x037f);
    CHECK_EQ(f80_to_f32(&e, f80_div(&e, one, three)), 0x3eaaaaabu);
    CHECK_EQ(f80_to_f64(&e, f80_from_int(-1)), 0xbff0000000000000ull);
    CHECK_EQ(f80_to_int(&e, f80_make(0x4000, 0xc000000000000000ull), 16), 3); /* 3.0 */
    e = f80_env_make(0x037f);
    CHECK_EQ((uint64_t)f80_to_int(&e, f80_make(0x3fff, 0xc000000000000000ull), 32), 2); /* 1.5 -> 2 */
    CHECK_EQ(e.flags, F80_PE | F80_C1);
    e = f80_env_make(0x037f);
    CHECK_EQ((uint16_t)f80_to_int(&e, f80_from_int(40000), 16), 0x8000);
    CHECK_EQ(e.flags, F80_IE);
    uint8_t bcd[10];
    e = f80_env_make(0x037f);
    f80_to_bcd(&e, f80_from_int(-1234567890123456789ll / 10), bcd);
    static const uint8_t want[10] = {0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x80};
    CHECK(memcmp(bcd, want, 10) == 0);
    r = f80_from_bcd(want);
    CHECK_EQ(r.sexp, f80_from_int(-123456789012345678ll).sexp);
    CHECK_EQ(r.mant, f80_from_int(-123456789012345678ll).mant);
    bool d;
    r = f80_from_f32_raw(0x00000001u, &d); /* smallest single denormal: 2^-149 */
    CHECK(d);
    CHECK_EQ(r.sexp, 0x3fff - 149);
    CHECK_EQ(r.mant, 1ull << 63);
    r = f80_from_f64_raw(0x7ff4000000000000ull, &d); /* a double SNaN stays signaling */
    CHECK_EQ(f80_classify(r), F80_CLASS_SNAN);
    e = f80_env_make(0x037f);
    r = f80_load_f64(&e, 0x7ff4000000000000ull);
    CHECK_EQ(r.mant, 0xe000000000000000ull);
    CHECK_EQ(e.flags, F80_IE);
}

/* Masked overflow and underflow under each rounding mode. */
static void f80_range(void)
{
    struct emu_f80 big = f80_make(0x7ffe, 0xffffffffffffffffull);
    struct emu_f80 tiny = f80_make(0x0001, 0x8000000000000000ull);
    struct f80_env e = f80_env_make(0x037f);
    struct emu_f80 r = f80_mul(&e, big, f80_from_int(2));
    CHECK_EQ(r.sexp, 0x7fff);
    CHECK_EQ(e.flags, F80_OE | F80_PE | F80_C1);
    e = f80_env_make(0x0f7f); /* toward zero: the largest finite */
    r = f80_mul(&e, big, f80_from_int(2));
    CHECK_EQ(r.sexp, 0x7ffe);
    CHECK_EQ(r.mant, ~0ull);
    CHECK_EQ(e.flags, F80_OE | F80_PE);
    e = f80_env_make(0x037f);
    r = f80_mul(&e, tiny, f80_make(0x3ffe, 0x8000000000000000ull)); /* exact denormal */
    CHECK_EQ(r.sexp, 0);
    CHECK_EQ(r.mant, 0x4000000000000000ull);
    CHECK_EQ(e.flags, 0);
    e = f80_env_make(0x036f); /* UE unmasked: the biased result */
    r = f80_mul(&e, tiny, f80_make(0x3ffe, 0x8000000000000000ull));
    CHECK_EQ(r.sexp, 0x6000);
    CHECK_EQ(r.mant, 1ull << 63);
    CHECK_EQ(e.flags, F80_UE);
}

#if defined(__x86_64__)

enum host_op {
    H_ADD, H_SUB, H_MUL, H_DIV, H_SQRT, H_RNDINT, H_SCALE, H_PREM, H_PREM1, H_COM, H_UCOM,
    H_XAM, H_XTRACT, H_ST32, H_ST64, H_IST16, H_IST32, H_IST64, H_BSTP, H_NOPS
};
static const char *const host_op_name[H_NOPS] = {
    "add", "sub", "mul", "div", "sqrt", "rndint", "scale", "prem", "prem1", "com", "ucom",
    "xam", "xtract", "st32", "st64", "ist16", "ist32", "ist64", "bstp",
};

struct host_res {
    uint8_t r[10], r2[10];
    uint64_t m;
    uint16_t sw;
};

/* Runs op on the host x87 with ST0 = a, ST1 = b and control word cw. */
static void host_run(enum host_op op, struct emu_f80 a, struct emu_f80 b, uint16_t cw,
                     struct host_res *o)
{
    uint8_t ba[10], bb[10];
    memcpy(ba, &a.mant, 8);
    memcpy(ba + 8, &a.sexp, 2);
    memcpy(bb, &b.mant, 8);
    memcpy(bb + 8, &b.sexp, 2);
    memset(o, 0, sizeof(*o));
#define HOST(insn)                                                                        \
    __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\t" insn           \
                     "\n\tfnstsw %[sw]\n\tfnclex\n\tfstpt %[r]\n\tfstpt %[r2]\n\tfninit"  \
                     : [sw] "=m"(o->sw), [r] "=m"(o->r), [r2] "=m"(o->r2)                 \
                     : [a] "m"(ba), [b] "m"(bb), [cw] "m"(cw))
#define HOSTM(insn, mem)                                                                  \
    __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\t" insn " %[m]"                \
                     "\n\tfnstsw %[sw]\n\tfninit"                                         \
                     : [sw] "=m"(o->sw), [m] "=m"(mem)                                    \
                     : [a] "m"(ba), [cw] "m"(cw))
    switch (op) {
    case H_ADD: HOST("fadd %%st(1), %%st"); break;
    case H_SUB: HOST("fsub %%st(1), %%st"); break;
    case H_MUL: HOST("fmul %%st(1), %%st"); break;
    case H_DIV: HOST("fdiv %%st(1), %%st"); break;
    case H_SQRT: HOST("fsqrt"); break;
    case H_RNDINT: HOST("frndint"); break;
    case H_SCALE: HOST("fscale"); break;
    case H_PREM: HOST("fprem"); break;
    case H_PREM1: HOST("fprem1"); break;
    case H_COM: HOST("fcom %%st(1)"); break;
    case H_UCOM: HOST("fucom %%st(1)"); break;
    case H_XAM: HOST("fxam"); break;
    case H_XTRACT:
        __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfxtract\n\tfnstsw %[sw]\n\t"
                         "fnclex\n\tfstpt %[r]\n\tfstpt %[r2]\n\tfninit"
                         : [sw] "=m"(o->sw), [r] "=m"(o->r), [r2] "=m"(o->r2)
                         : [a] "m"(ba), [cw] "m"(cw));
        break;
    case H_ST32: { uint32_t v = 0; HOSTM("fsts", v); o->m = v; break; }
    case H_ST64: { uint64_t v = 0; HOSTM("fstl", v); o->m = v; break; }
    case H_IST16: { uint16_t v = 0; HOSTM("fists", v); o->m = v; break; }
    case H_IST32: { uint32_t v = 0; HOSTM("fistl", v); o->m = v; break; }
    case H_IST64: { uint64_t v = 0; HOSTM("fistpll", v); o->m = v; break; }
    case H_BSTP: HOSTM("fbstp", o->r); break;
    default: break;
    }
#undef HOST
#undef HOSTM
}

static void put80(uint8_t *p, struct emu_f80 v)
{
    memcpy(p, &v.mant, 8);
    memcpy(p + 8, &v.sexp, 2);
}

/* The same operation on the software core, in the host_res form. The
 * status word carries the flags, C1 and the condition codes. */
static void soft_run(enum host_op op, struct emu_f80 a, struct emu_f80 b, uint16_t cw,
                     struct host_res *o)
{
    struct f80_env e = f80_env_make(cw);
    struct emu_f80 r = a, r2 = b;
    uint16_t cc = 0;
    uint64_t q;
    int c;

    memset(o, 0, sizeof(*o));
    switch (op) {
    case H_ADD: r = f80_add(&e, a, b); break;
    case H_SUB: r = f80_sub(&e, a, b); break;
    case H_MUL: r = f80_mul(&e, a, b); break;
    case H_DIV: r = f80_div(&e, a, b); break;
    case H_SQRT: r = f80_sqrt(&e, a); break;
    case H_RNDINT: r = f80_round_int(&e, a); break;
    case H_SCALE: r = f80_scale(&e, a, b); break;
    case H_PREM:
    case H_PREM1:
        c = f80_prem(&e, a, b, op == H_PREM1, &r, &q);
        if (c > 0)
            cc = SW_C2;
        else if (c == 0)
            cc = (uint16_t)((q & 1 ? SW_C1 : 0) | (q & 2 ? SW_C3 : 0) | (q & 4 ? SW_C0 : 0));
        break;
    case H_COM:
    case H_UCOM:
        c = f80_compare(&e, a, b, op == H_UCOM);
        cc = c == F80_LT ? SW_C0 : c == F80_EQ ? SW_C3 : c == F80_GT ? 0 : SW_C0 | SW_C2 | SW_C3;
        break;
    case H_XAM: {
        static const uint16_t cls[] = {SW_C3, SW_C3 | SW_C2, SW_C2, SW_C2 | SW_C0,
                                       SW_C0, SW_C0, 0};
        cc = (uint16_t)(cls[f80_classify(a)] | (f80_sign(a) ? SW_C1 : 0));
        break;
    }
    case H_XTRACT: f80_xtract(&e, a, &r2, &r); break;
    case H_ST32: o->m = f80_to_f32(&e, a); break;
    case H_ST64: o->m = f80_to_f64(&e, a); break;
    case H_IST16: o->m = (uint16_t)f80_to_int(&e, a, 16); break;
    case H_IST32: o->m = (uint32_t)f80_to_int(&e, a, 32); break;
    case H_IST64: o->m = (uint64_t)f80_to_int(&e, a, 64); break;
    case H_BSTP: f80_to_bcd(&e, a, o->r); break;
    default: break;
    }
    if (op != H_BSTP && op < H_ST32) {
        put80(o->r, r);
        put80(o->r2, r2);
    }
    o->sw = (uint16_t)((e.flags & (SW_FLAGS | SW_C1)) | cc);
}

static void oracle_check(enum host_op op, struct emu_f80 a, struct emu_f80 b, uint16_t cw,
                         unsigned *fails)
{
    struct host_res h, s;
    host_run(op, a, b, cw, &h);
    soft_run(op, a, b, cw, &s);
    uint16_t mask = SW_FLAGS | SW_C1;
    if (op == H_PREM || op == H_PREM1 || op == H_COM || op == H_UCOM || op == H_XAM)
        mask |= SW_C0 | SW_C2 | SW_C3;
    if (op == H_XAM)
        mask = SW_C0 | SW_C1 | SW_C2 | SW_C3;
    bool same = (h.sw & mask) == (s.sw & mask);
    if (op == H_XAM || op == H_COM || op == H_UCOM) {
        /* no result */
    } else if (op >= H_ST32 && op <= H_IST64) {
        same = same && h.m == s.m;
    } else {
        same = same && !memcmp(h.r, s.r, 10);
        if (op == H_XTRACT)
            same = same && !memcmp(h.r2, s.r2, 10);
    }
    if (!same && ++*fails <= 12) {
        uint64_t hm, sm;
        memcpy(&hm, h.r, 8);
        memcpy(&sm, s.r, 8);
        printf("  %s cw=%04x a=%04x:%016llx b=%04x:%016llx: host sw=%04x r=%04x:%016llx m=%llx,"
               " soft sw=%04x r=%04x:%016llx m=%llx\n",
               host_op_name[op], cw, a.sexp, (unsigned long long)a.mant, b.sexp,
               (unsigned long long)b.mant, h.sw & mask, h.r[9] << 8 | h.r[8],
               (unsigned long long)hm, (unsigned long long)h.m, s.sw & mask,
               s.r[9] << 8 | s.r[8], (unsigned long long)sm, (unsigned long long)s.m);
    }
}

static void oracle(enum host_op first, enum host_op last, unsigned n)
{
    unsigned fails = 0;
    /* X87_SEED=n explores other operands than the fixed default. */
    if (getenv("X87_SEED"))
        rng = strtoull(getenv("X87_SEED"), NULL, 0) | 1;
    for (unsigned i = 0; i < n; i++) {
        struct emu_f80 a = rand_f80();
        struct emu_f80 b = rand_near(a);
        uint16_t cw = rand_cw();
        for (unsigned op = first; op <= last; op++)
            oracle_check((enum host_op)op, a, b, cw, &fails);
    }
    if (fails) {
        printf("  %u mismatches\n", fails);
        test_failed_ = 1;
    }
}

static void f80_host_arith(void) { oracle(H_ADD, H_DIV, 200000); }
static void f80_host_sqrt_rnd(void) { oracle(H_SQRT, H_RNDINT, 200000); }
static void f80_host_scale(void) { oracle(H_SCALE, H_SCALE, 200000); }
static void f80_host_prem(void) { oracle(H_PREM, H_PREM1, 200000); }
static void f80_host_compare(void) { oracle(H_COM, H_XTRACT, 200000); }
static void f80_host_store(void) { oracle(H_ST32, H_BSTP, 200000); }

#else

static void f80_host_arith(void) { SKIP("needs an x86-64 host x87 as the oracle"); }
static void f80_host_sqrt_rnd(void) { SKIP("needs an x86-64 host x87 as the oracle"); }
static void f80_host_scale(void) { SKIP("needs an x86-64 host x87 as the oracle"); }
static void f80_host_prem(void) { SKIP("needs an x86-64 host x87 as the oracle"); }
static void f80_host_compare(void) { SKIP("needs an x86-64 host x87 as the oracle"); }
static void f80_host_store(void) { SKIP("needs an x86-64 host x87 as the oracle"); }

#endif

static const struct test_case tests[] = {
    TEST(f80_known),        TEST(f80_range),        TEST(f80_host_arith),
    TEST(f80_host_sqrt_rnd), TEST(f80_host_scale),  TEST(f80_host_prem),
    TEST(f80_host_compare), TEST(f80_host_store),
};

TEST_MAIN("emu/x87_f80", tests)
