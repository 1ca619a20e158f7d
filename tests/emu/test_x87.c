/* The x87 instructions run through the emu engine (tests/emu/harness.h):
 * fixed programs with known results (FIP/FOP/FDP, FNSTENV/FNSAVE layouts,
 * FXSAVE/FXRSTOR, #NM and #MF, stack faults, FCOMI flags), and on x86-64
 * Linux hosts a differential test that runs the same instruction bytes on
 * the host CPU and on emu from random operands and random control words
 * (unmasked exceptions included) and compares every result, FSW, the tag
 * word, FOP and the flags. */
#define _DEFAULT_SOURCE
#include "emu/harness.h"
#include "engine/emu/emu.h"
#include "test.h"
#include <stdlib.h>

#if defined(__x86_64__) && defined(__linux__)
#include <sys/mman.h>
#define X87_HAVE_NATIVE 1
#endif

static struct emu_h h;
static bool have_emu;

/* ---- programs: bodies address their data through RBX ---- */

struct prog {
    uint8_t b[512];
    unsigned n;
};

static void emit(struct prog *p, const uint8_t *bytes, unsigned n)
{
    memcpy(p->b + p->n, bytes, n);
    p->n += n;
}
#define EMIT(p, ...)                                                                      \
    do {                                                                                  \
        static const uint8_t b_[] = {__VA_ARGS__};                                        \
        emit(p, b_, sizeof(b_));                                                          \
    } while (0)

/* op /reg with the memory operand [rbx + disp]. */
static void emit_m(struct prog *p, uint8_t op, unsigned reg, uint32_t disp)
{
    p->b[p->n++] = op;
    if (disp < 0x80) {
        p->b[p->n++] = (uint8_t)(0x43 | reg << 3);
        p->b[p->n++] = (uint8_t)disp;
    } else {
        p->b[p->n++] = (uint8_t)(0x83 | reg << 3);
        memcpy(p->b + p->n, &disp, 4);
        p->n += 4;
    }
}

/* Data layout (offsets from RBX). */
enum {
    D_CW = 0x00, D_A = 0x10, D_B = 0x20, D_M64 = 0x30, D_M32 = 0x38, D_I16 = 0x3c,
    D_I32 = 0x40, D_I64 = 0x48, D_BCD = 0x50, D_OUT = 0x60, D_FLAGS_IN = 0x70,
    D_FLAGS_OUT = 0x78, D_SW = 0x80, D_ST0 = 0x90, D_ST1 = 0xa0, D_ENV = 0xc0,
    D_SAVE = 0x100, D_FX = 0x200, D_SIZE = 0x400,
};

/* Runs body on emu in 64-bit mode at CPL0 with RBX = the data (copied in
 * and out). Returns the exception vector, or -1 when the body completed. */
static int emu_exec(const struct prog *body, uint8_t *data, struct x86_cpu_state *s,
                    uint64_t cr0)
{
    struct prog p = {.n = 0};
    EMIT(&p, 0xbb, 0x00, 0x00, 0x02, 0x00); /* mov ebx, EMU_H_DATA */
    emit(&p, body->b, body->n);
    EMIT(&p, 0xe6, 0xf4); /* out 0xf4, al */
    memcpy(h.ram + EMU_H_DATA, data, D_SIZE);
    emu_h_state64(&h, s, false);
    if (cr0)
        s->cr0 = cr0;
    int r = emu_h_run(&h, p.b, p.n, s);
    memcpy(data, h.ram + EMU_H_DATA, D_SIZE);
    if (r == VM_EXIT_PIO && h.exit.u.pio.port == 0xf4)
        return -1;
    if (r == VM_EXIT_HLT)
        return emu_h_vector(s);
    return 256;
}

/* Runs body at CPL3 with CR0.AM set and RFLAGS.AC as ac says, RBX = the
 * data; the body ends with ud2. Returns the vector (6: ran to the end). */
static int emu_exec_user(const struct prog *body, uint8_t *data, struct x86_cpu_state *s,
                         bool ac)
{
    struct prog p = {.n = 0};
    EMIT(&p, 0xbb, 0x00, 0x00, 0x02, 0x00); /* mov ebx, EMU_H_DATA */
    emit(&p, body->b, body->n);
    EMIT(&p, 0x0f, 0x0b); /* ud2 */
    memcpy(h.ram + EMU_H_DATA, data, D_SIZE);
    emu_h_state64(&h, s, true);
    s->cr0 |= EMU_CR0_AM;
    if (ac)
        s->rflags |= EMU_AC;
    int r = emu_h_run(&h, p.b, p.n, s);
    memcpy(data, h.ram + EMU_H_DATA, D_SIZE);
    return r == VM_EXIT_HLT ? emu_h_vector(s) : 256;
}

#ifdef X87_HAVE_NATIVE
static uint8_t *native_page;

/* Runs body on the host with RBX = data. */
static void native_exec(const struct prog *body, uint8_t *data)
{
    struct prog p = {.n = 0};
    EMIT(&p, 0x53, 0x48, 0x89, 0xfb); /* push rbx; mov rbx, rdi */
    emit(&p, body->b, body->n);
    EMIT(&p, 0xdb, 0xe3, 0x5b, 0xc3); /* fninit; pop rbx; ret */
    memcpy(native_page, p.b, p.n);
    void (*fn)(void *);
    void *code = native_page;
    memcpy(&fn, &code, sizeof(fn));
    fn(data);
}
#endif

/* ---- random operands ---- */

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void put_f80(uint8_t *p, uint16_t sexp, uint64_t mant)
{
    memcpy(p, &mant, 8);
    memcpy(p + 8, &sexp, 2);
}

static void rand_f80(uint8_t *p, bool near_one)
{
    uint16_t s = (rnd() & 1) ? 0x8000 : 0;
    uint64_t m = rnd();
    if (rnd() & 1)
        m &= ~0ull << (rnd() % 64);
    switch (rnd() % (near_one ? 40 : 16)) {
    case 0: put_f80(p, s, 0); return;
    case 1: put_f80(p, s | 0x7fff, 1ull << 63); return;
    case 2: put_f80(p, s | 0x7fff, m | 3ull << 62); return;
    case 3: put_f80(p, s | 0x7fff, (m & ~(1ull << 62)) | 1ull << 63 | 1); return;
    case 4: put_f80(p, s, (m >> 1) >> (rnd() % 63)); return;
    case 5: put_f80(p, s, m | 1ull << 63); return;
    case 6: put_f80(p, (uint16_t)(s | (1 + rnd() % 0x7ffe)), m >> 1); return;
    case 7: put_f80(p, (uint16_t)(s | (0x7ffe - rnd() % 8)), m | 1ull << 63); return;
    case 8: put_f80(p, (uint16_t)(s | (1 + rnd() % 8)), m | 1ull << 63); return;
    default:
        put_f80(p, (uint16_t)(s | (0x3fff - 40 + rnd() % 80)), m | 1ull << 63);
        return;
    }
}

/* Random operands in every slot, a random control word (any masks,
 * precision and rounding) and random arithmetic flags. */
static void rand_data(uint8_t *d, bool near_one)
{
    memset(d, 0xcc, D_SIZE);
    uint16_t cw = (uint16_t)(0x1040 | (rnd() & 0x0f3f));
    if (rnd() % 3)
        cw |= 0x3f; /* mostly masked */
    memcpy(d + D_CW, &cw, 2);
    rand_f80(d + D_A, near_one);
    rand_f80(d + D_B, near_one);
    uint64_t v = rnd();
    switch (rnd() % 4) {
    case 0: v = 0x3ff0000000000000ull ^ (v >> 20); break;
    case 1: v &= 0x800fffffffffffffull; break; /* denormal or zero */
    case 2: v |= 0x7ff0000000000000ull; break; /* infinity or NaN */
    default: break;
    }
    memcpy(d + D_M64, &v, 8);
    uint32_t w = (uint32_t)rnd();
    switch (rnd() % 4) {
    case 0: w = 0x3f800000u ^ (w >> 12); break;
    case 1: w &= 0x807fffffu; break;
    case 2: w |= 0x7f800000u; break;
    default: break;
    }
    memcpy(d + D_M32, &w, 4);
    uint16_t i16 = (uint16_t)(rnd() % 3 ? rnd() % 200 - 100 : rnd());
    memcpy(d + D_I16, &i16, 2);
    uint32_t i32 = (uint32_t)(rnd() % 3 ? rnd() % 2000 - 1000 : rnd());
    memcpy(d + D_I32, &i32, 4);
    uint64_t i64 = rnd() % 3 ? rnd() % 20000 - 10000 : rnd();
    memcpy(d + D_I64, &i64, 8);
    for (unsigned i = 0; i < 9; i++)
        d[D_BCD + i] = (uint8_t)((rnd() % 10) << 4 | rnd() % 10);
    d[D_BCD + 9] = (uint8_t)(rnd() & 0x80);
    uint64_t fl = 2 | (rnd() & 0x8d5);
    memcpy(d + D_FLAGS_IN, &fl, 8);
    /* An FSAVE image for FLDENV/FRSTOR: random words, registers like A/B. */
    for (unsigned i = 0; i < 28; i++)
        d[D_SAVE + i] = (uint8_t)rnd();
    for (unsigned i = 0; i < 8; i++)
        rand_f80(d + D_SAVE + 28 + 10 * i, near_one);
}

/* The standard frame: flags and control word in, ST(1) = B, ST(0) = A,
 * the instruction, then FSW, the flags, the environment and both stack
 * tops out. */
static void build_frame(struct prog *p, const uint8_t *insn, unsigned n, unsigned shape)
{
    /* Stack shapes: as loaded; ST(0) or ST(1) freed; TOP moved so that
     * ST(0) is empty, or so that ST(7) is full (a push overflows). */
    static const uint8_t shapes[5][2] = {
        {0xd9, 0xd0}, {0xdd, 0xc0}, {0xdd, 0xc1}, {0xd9, 0xf6}, {0xd9, 0xf7},
    };
    p->n = 0;
    EMIT(p, 0xff, 0x73, D_FLAGS_IN, 0x9d); /* push [rbx+in]; popfq */
    EMIT(p, 0xdb, 0xe3);                   /* fninit */
    /* Fill every register with B so that empty ones hold known bits. */
    for (unsigned i = 0; i < 8; i++)
        emit_m(p, 0xdb, 5, D_B);
    EMIT(p, 0xdb, 0xe3);                   /* fninit */
    emit_m(p, 0xd9, 5, D_CW);              /* fldcw */
    emit_m(p, 0xdb, 5, D_B);               /* fld tbyte B */
    emit_m(p, 0xdb, 5, D_A);               /* fld tbyte A */
    emit(p, shapes[shape % 5], 2);
    emit(p, insn, n);
    emit_m(p, 0xdd, 7, D_SW);              /* fnstsw */
    EMIT(p, 0x9c);                         /* pushfq */
    emit_m(p, 0x8f, 0, D_FLAGS_OUT);       /* pop [rbx+out] */
    emit_m(p, 0xd9, 6, D_ENV);             /* fnstenv */
    EMIT(p, 0xdb, 0xe2);                   /* fnclex */
    emit_m(p, 0xdb, 7, D_ST0);             /* fstp tbyte */
    emit_m(p, 0xdb, 7, D_ST1);             /* fstp tbyte */
}

/* ---- fixed programs ---- */

static void x87_basic(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    uint8_t d[D_SIZE];
    struct x86_cpu_state s;
    struct prog p = {.n = 0};
    memset(d, 0, sizeof(d));
    EMIT(&p, 0xd9, 0xe8, 0xd9, 0xeb, 0xde, 0xc1); /* fld1; fldpi; faddp */
    emit_m(&p, 0xdd, 3, D_OUT);                    /* fstp qword [rbx+out] */
    EMIT(&p, 0xd9, 0xee, 0xd9, 0xe8);             /* fldz; fld1 */
    EMIT(&p, 0xdb, 0xf1);                          /* fcomi st, st(1) */
    EMIT(&p, 0xdf, 0xe0);                          /* fnstsw ax */
    CHECK_EQ(emu_exec(&p, d, &s, 0), -1);
    double v;
    memcpy(&v, d + D_OUT, 8);
    CHECK(v == 1 + 3.14159265358979323846);
    CHECK_EQ(s.rflags & (EMU_CF | EMU_ZF | EMU_PF), 0); /* 1 > 0 */
    CHECK_EQ(s.gpr[X86_RAX] & 0x3800, 6u << 11);        /* TOP = 6 */
    CHECK_EQ(s.fpu.ftw, 0xc0);
    CHECK_EQ(s.fpu.fop, 0x3f1); /* DB F1 */
    CHECK_EQ(s.fpu.fip, EMU_H_CODE + 5 + 6 + 3 + 4);
    CHECK_EQ(s.fpu.fdp, EMU_H_DATA + D_OUT); /* from the fstp */
}

/* #NM with CR0.TS (and FWAIT only with MP too), #MF for a pending unmasked
 * exception with CR0.NE, FNINIT/FNSTSW run despite it. */
static void x87_faults(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    uint8_t d[D_SIZE];
    struct x86_cpu_state s;
    struct prog p = {.n = 0};
    memset(d, 0, sizeof(d));
    EMIT(&p, 0xd9, 0xe8);
    CHECK_EQ(emu_exec(&p, d, &s, 0x80050033 | 8), EMU_NM);
    p.n = 0;
    EMIT(&p, 0x9b); /* fwait: TS without MP does not fault */
    CHECK_EQ(emu_exec(&p, d, &s, (0x80050033 & ~2u) | 8), -1);
    CHECK_EQ(emu_exec(&p, d, &s, 0x80050033 | 8), EMU_NM);

    /* Unmask ZE, divide by zero: the next waiting instruction faults. */
    uint16_t cw = 0x037b;
    memcpy(d + D_CW, &cw, 2);
    p.n = 0;
    emit_m(&p, 0xd9, 5, D_CW);                  /* fldcw */
    EMIT(&p, 0xd9, 0xee, 0xd9, 0xe8, 0xde, 0xf1); /* fldz; fld1; fdivrp: 1/0 */
    emit_m(&p, 0xdd, 7, D_SW);                  /* fnstsw: no-wait, runs */
    EMIT(&p, 0xdf, 0xe0, 0xdb, 0xe2);           /* fnstsw ax; fnclex */
    EMIT(&p, 0xd9, 0xe8);                       /* fld1: fine after fnclex */
    EMIT(&p, 0xd9, 0xee, 0xde, 0xf9);           /* fldz; fdivp: 1/0 again */
    EMIT(&p, 0x9b);                             /* fwait: #MF */
    CHECK_EQ(emu_exec(&p, d, &s, 0), EMU_MF);
    uint16_t sw;
    memcpy(&sw, d + D_SW, 2);
    CHECK_EQ(sw & 0x80ff, 0x8084); /* B, ES, ZE */
    CHECK_EQ(s.fpu.fsw & 0x80ff, 0x8084);
    /* Unmasked ZE: neither divide stored or popped. */
    CHECK_EQ(s.fpu.ftw, 0xf0);
    /* With CR0.NE clear the exception stays pending and nothing faults. */
    CHECK_EQ(emu_exec(&p, d, &s, 0x80050033 & ~0x20u), -1);
    /* FISTTP (SSE3) is not in roam-v1. */
    p.n = 0;
    emit_m(&p, 0xdd, 1, D_OUT);
    CHECK_EQ(emu_exec(&p, d, &s, 0), EMU_UD);
    /* A #PF on a store leaves the FPU untouched: fstp to an unmapped page. */
    p.n = 0;
    EMIT(&p, 0xd9, 0xe8, 0xd9, 0xeb);                   /* fld1; fldpi */
    EMIT(&p, 0xdd, 0x1c, 0x25, 0x00, 0x00, 0x00, 0x40); /* fstp qword [0x40000000] */
    CHECK_EQ(emu_exec(&p, d, &s, 0), EMU_VEC_PF);
    CHECK_EQ(s.fpu.ftw, 0xc0);
    CHECK_EQ((s.fpu.fsw >> 11) & 7, 6);
}

/* FNSTENV/FNSAVE layouts in protected/64-bit mode (32-bit format), FRSTOR
 * back, FXSAVE64/FXRSTOR64. */
static void x87_env_layouts(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    uint8_t d[D_SIZE];
    struct x86_cpu_state s;
    struct prog p = {.n = 0};
    memset(d, 0, sizeof(d));
    EMIT(&p, 0xd9, 0xe8, 0xd9, 0xee);   /* fld1; fldz */
    emit_m(&p, 0xd8, 0, D_M32);          /* fadd dword [rbx+m32] */
    emit_m(&p, 0xd9, 6, D_ENV);          /* fnstenv */
    emit_m(&p, 0xdd, 6, D_SAVE);         /* fnsave (then FNINIT) */
    EMIT(&p, 0x48, 0x0f, 0xae, 0x83, 0x00, 0x02, 0x00, 0x00); /* fxsave64 [rbx+0x200] */
    emit_m(&p, 0xdd, 4, D_SAVE);         /* frstor */
    float two = 2.0f;
    memcpy(d + D_M32, &two, 4);
    CHECK_EQ(emu_exec(&p, d, &s, 0), -1);
    uint32_t w[7];
    memcpy(w, d + D_ENV, 28);
    CHECK_EQ(w[0], 0xffff037f);
    CHECK_EQ(w[1], 0xffff0000u | 6u << 11);
    CHECK_EQ(w[2], 0xffff0fffu); /* R7 = 1.0, R6 = 2.0 valid, the rest empty */
    CHECK_EQ(w[3], EMU_H_CODE + 5 + 4);   /* FIP of the fadd */
    CHECK_EQ(w[4], EMU_H_CS64 | 0x043u << 16);
    CHECK_EQ(w[5], EMU_H_DATA + D_M32);
    CHECK_EQ(w[6], 0xffff0000u | EMU_H_DS);
    CHECK(memcmp(d + D_SAVE, d + D_ENV, 28) == 0);
    /* ST(0) = 2.0 after fnsave: the register area holds it first. */
    CHECK_EQ(d[D_SAVE + 28 + 9], 0x40);
    CHECK_EQ(d[D_SAVE + 28 + 7], 0x80);
    /* After FNSAVE the FXSAVE shows the FNINIT state. */
    CHECK_EQ(d[D_FX + 0] | d[D_FX + 1] << 8, 0x037f);
    CHECK_EQ(d[D_FX + 4], 0);
    uint32_t mx;
    memcpy(&mx, d + D_FX + 24, 4);
    CHECK_EQ(mx, 0x1f80);
    memcpy(&mx, d + D_FX + 28, 4);
    CHECK_EQ(mx, 0xffff);
    /* FRSTOR brought the stack back. */
    CHECK_EQ(s.fpu.ftw, 0xc0);
    CHECK_EQ(s.fpu.fsw & 0x3800, 6u << 11);
    CHECK_EQ(s.fpu.st[0][9], 0x40);
}

/* Real mode: the 16- and 32-bit real-mode environment formats carry
 * 20-bit linear instruction and operand pointers; FLDENV reads them back;
 * FXSAVE (legacy layout) keeps the offsets and the selectors. */
static void x87_real_mode(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    static const uint8_t code[] = {
        0xd9, 0xe8,                   /* 0: fld1 */
        0xd8, 0x06, 0x38, 0x00,       /* 2: fadd dword [0x38] */
        0xd9, 0x36, 0x60, 0x00,       /* fnstenv [0x60] (14 bytes) */
        0x66, 0xd9, 0x36, 0x80, 0x00, /* o32 fnstenv [0x80] (28 bytes) */
        0x0f, 0xae, 0x06, 0x00, 0x01, /* fxsave [0x100] */
        0xd9, 0x26, 0x60, 0x00,       /* fldenv [0x60] */
        0x66, 0xd9, 0x36, 0xa0, 0x00, /* o32 fnstenv [0xa0] */
        0xe6, 0xf4,
    };
    struct x86_cpu_state s;
    x86_cpu_state_reset(&s);
    s.seg[X86_CS].selector = 0x1000;
    s.seg[X86_CS].base = 0x10000;
    s.seg[X86_DS].selector = 0x2000;
    s.seg[X86_DS].base = 0x20000;
    s.rip = 0;
    memset(h.ram + EMU_H_DATA, 0, 0x400);
    float one = 1.0f;
    memcpy(h.ram + EMU_H_DATA + 0x38, &one, 4);
    int r = emu_h_run(&h, code, sizeof(code), &s);
    CHECK_EQ(r, VM_EXIT_PIO);
    const uint8_t *d = h.ram + EMU_H_DATA;
    uint16_t e16[7];
    uint32_t e32[7], e32b[7];
    memcpy(e16, d + 0x60, 14);
    memcpy(e32, d + 0x80, 28);
    memcpy(e32b, d + 0xa0, 28);
    static const uint16_t w16[7] = {0x037f, 0x3800, 0x3fff, 0x0002, 0x1006, 0x0038, 0x2000};
    static const uint32_t w32[7] = {0xffff037f, 0xffff3800, 0xffff3fff, 0xffff0002,
                                    0x00001006, 0xffff0038, 0x00002000};
    for (unsigned i = 0; i < 7; i++) {
        CHECK_EQ(e16[i], w16[i]);
        CHECK_EQ(e32[i], w32[i]);
        CHECK_EQ(e32b[i], w32[i]);
    }
    uint32_t fip, fdp;
    uint16_t fcs, fds;
    memcpy(&fip, d + 0x100 + 8, 4);
    memcpy(&fcs, d + 0x100 + 12, 2);
    memcpy(&fdp, d + 0x100 + 16, 4);
    memcpy(&fds, d + 0x100 + 20, 2);
    CHECK_EQ(fip, 2);
    CHECK_EQ(fcs, 0x1000);
    CHECK_EQ(fdp, 0x38);
    CHECK_EQ(fds, 0x2000);
}

/* 0F AE: LDMXCSR/STMXCSR, FXSAVE/FXRSTOR checks, fences, CLFLUSH, and the
 * XSAVE family outside roam-v1. */
static void x87_grp15(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    uint8_t d[D_SIZE];
    struct x86_cpu_state s;
    struct prog p = {.n = 0};
    memset(d, 0, sizeof(d));
    uint32_t mx = 0x9fc0; /* FZ, DAZ, all masked */
    memcpy(d + D_I32, &mx, 4);
    EMIT(&p, 0x0f, 0xae, 0x53, D_I32);           /* ldmxcsr [rbx+i32] */
    EMIT(&p, 0x0f, 0xae, 0x5b, D_OUT);           /* stmxcsr [rbx+out] */
    EMIT(&p, 0x0f, 0xae, 0xe8, 0x0f, 0xae, 0xf0, 0x0f, 0xae, 0xf8); /* lfence mfence sfence */
    EMIT(&p, 0x0f, 0xae, 0x7b, D_OUT);           /* clflush [rbx+out] */
    CHECK_EQ(emu_exec(&p, d, &s, 0), -1);
    CHECK_EQ(s.fpu.mxcsr, 0x9fc0);
    CHECK_EQ(d[D_OUT] | d[D_OUT + 1] << 8, 0x9fc0);
    mx = 0x10000; /* a reserved bit */
    memcpy(d + D_I32, &mx, 4);
    p.n = 0;
    EMIT(&p, 0x0f, 0xae, 0x53, D_I32);
    CHECK_EQ(emu_exec(&p, d, &s, 0), EMU_GP);
    p.n = 0;
    EMIT(&p, 0x0f, 0xae, 0x43, 0x08); /* fxsave [rbx+8]: misaligned */
    CHECK_EQ(emu_exec(&p, d, &s, 0), EMU_GP);
    CHECK_EQ(emu_exec(&p, d, &s, 0x80050033 | 8), EMU_NM);
    p.n = 0;
    memset(d + D_FX, 0, 512);
    d[D_FX + 26] = 1; /* MXCSR bit 16 in the image */
    EMIT(&p, 0x0f, 0xae, 0x8b, 0x00, 0x02, 0x00, 0x00); /* fxrstor [rbx+0x200] */
    CHECK_EQ(emu_exec(&p, d, &s, 0), EMU_GP);
    p.n = 0;
    EMIT(&p, 0x0f, 0xae, 0x63, 0x00);             /* xsave: #UD */
    CHECK_EQ(emu_exec(&p, d, &s, 0), EMU_UD);
    p.n = 0;
    EMIT(&p, 0x0f, 0xae, 0xc0);                   /* 0F AE C0 (rdfsbase needs F3): #UD */
    CHECK_EQ(emu_exec(&p, d, &s, 0), EMU_UD);
    p.n = 0;
    EMIT(&p, 0x0f, 0xae, 0x3c, 0x25, 0x00, 0x00, 0x00, 0x40); /* clflush [0x40000000] */
    CHECK_EQ(emu_exec(&p, d, &s, 0), EMU_VEC_PF);
}

/* Masked stack overflow and underflow: the indefinite, C1, IE|SF. */
static void x87_stack_faults(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    uint8_t d[D_SIZE];
    struct x86_cpu_state s;
    struct prog p = {.n = 0};
    memset(d, 0, sizeof(d));
    for (unsigned i = 0; i < 9; i++)
        EMIT(&p, 0xd9, 0xe8); /* 9 x fld1 */
    CHECK_EQ(emu_exec(&p, d, &s, 0), -1);
    CHECK_EQ(s.fpu.fsw & 0x0241, 0x0241); /* C1, SF, IE */
    CHECK_EQ(s.fpu.st[0][7], 0xc0);       /* the indefinite */
    CHECK_EQ(s.fpu.st[0][9], 0xff);
    p.n = 0;
    EMIT(&p, 0xd9, 0xe1); /* fabs of an empty ST(0) */
    CHECK_EQ(emu_exec(&p, d, &s, 0), -1);
    CHECK_EQ(s.fpu.fsw & 0x0241, 0x0041);
    CHECK_EQ(s.fpu.ftw, 0x01);
}

/* ---- the differential test against the host ---- */

/* What the difftest found on hardware (an AMD EPYC, tests/difftest): FCW
 * loads keep the reserved bits as FLDCW does (FXRSTOR too), a suppressed
 * store keeps a sticky PE, FNSTENV's masking clears ES so that FLDENV of
 * its image raises no #MF, and the 16-bit protected-mode FLDENV clears
 * FOP. */
static void x87_hw_rules(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    uint8_t d[D_SIZE];
    struct x86_cpu_state s;
    struct prog p = {.n = 0};

    memset(d, 0, sizeof(d));
    uint16_t w = 0x49f7;
    memcpy(d + D_FX, &w, 2);
    uint32_t mx = 0x1f80;
    memcpy(d + D_FX + 24, &mx, 4);
    EMIT(&p, 0x0f, 0xae, 0x8b, 0x00, 0x02, 0x00, 0x00); /* fxrstor [rbx+0x200] */
    emit_m(&p, 0xd9, 7, D_OUT);                          /* fnstcw */
    CHECK_EQ(emu_exec(&p, d, &s, 0), -1);
    CHECK_EQ(d[D_OUT] | d[D_OUT + 1] << 8, 0x0977);
    CHECK_EQ(s.fpu.fcw, 0x0977);

    /* PE from 1/3, then a store of a tiny value with UE unmasked: nothing
     * is stored, UE and ES are set, and the earlier PE stays. */
    memset(d, 0, sizeof(d));
    w = 0x036f;
    memcpy(d + D_CW, &w, 2);
    put_f80(d + D_A, 0x4000, 0xc000000000000000ull); /* 3 */
    put_f80(d + D_B, 0x0001, 0x8000000000000000ull); /* the smallest normal */
    p.n = 0;
    emit_m(&p, 0xd9, 5, D_CW);        /* fldcw */
    EMIT(&p, 0xd9, 0xe8);             /* fld1 */
    emit_m(&p, 0xdb, 5, D_A);         /* fld tbyte A */
    EMIT(&p, 0xde, 0xf9, 0xdd, 0xd8); /* fdivp; fstp st0 */
    emit_m(&p, 0xdb, 5, D_B);         /* fld tbyte B */
    emit_m(&p, 0xd9, 2, D_OUT);       /* fst dword [out] */
    CHECK_EQ(emu_exec(&p, d, &s, 0x80050033 & ~0x20u), -1);
    CHECK_EQ(s.fpu.fsw & 0xff, 0xb0); /* ES, PE, UE */
    CHECK_EQ(d[D_OUT] | d[D_OUT + 1] | d[D_OUT + 2] | d[D_OUT + 3], 0);

    /* A pending ZE, FNSTENV: ES and B clear; FLDENV of the image runs,
     * the FWAIT after it faults. */
    memset(d, 0, sizeof(d));
    w = 0x037b;
    memcpy(d + D_CW, &w, 2);
    p.n = 0;
    emit_m(&p, 0xd9, 5, D_CW);                    /* fldcw */
    EMIT(&p, 0xd9, 0xee, 0xd9, 0xe8, 0xde, 0xf1); /* fldz; fld1; fdivrp: 1/0 */
    emit_m(&p, 0xd9, 6, D_ENV);                   /* fnstenv */
    emit_m(&p, 0xdd, 7, D_SW);                    /* fnstsw */
    emit_m(&p, 0xd9, 4, D_ENV);                   /* fldenv */
    CHECK_EQ(emu_exec(&p, d, &s, 0), -1);
    CHECK_EQ(d[D_SW] | d[D_SW + 1] << 8, 0x3004); /* TOP 6, ZE, no ES or B */
    CHECK_EQ(s.fpu.fsw & 0x80ff, 0x8084);            /* loaded: pending again */
    EMIT(&p, 0x9b);                                   /* fwait */
    CHECK_EQ(emu_exec(&p, d, &s, 0), EMU_MF);

    /* 66 FLDENV (protected mode, 16-bit layout) clears FOP. */
    memset(d, 0, sizeof(d));
    w = 0x037f;
    memcpy(d + D_ENV, &w, 2);
    w = 0xffff; /* tags: empty */
    memcpy(d + D_ENV + 4, &w, 2);
    p.n = 0;
    EMIT(&p, 0xd9, 0xe8);             /* fld1 */
    emit_m(&p, 0xd8, 5, D_M32);       /* fsubr dword [m32]: FOP 0x06b */
    EMIT(&p, 0x66);
    emit_m(&p, 0xd9, 4, D_ENV);       /* o16 fldenv */
    CHECK_EQ(emu_exec(&p, d, &s, 0), -1);
    CHECK_EQ(s.fpu.fop, 0);
}

/* #AC (CPL3, CR0.AM, RFLAGS.AC) for the environment and save areas, which
 * hardware checks against 4 bytes (2 for the 16-bit layouts), FXSAVE's
 * #AC below 4-byte alignment ahead of its #GP below 16, and a store that
 * an unmasked exception suppresses still faults (FSW unchanged). */
static void x87_alignment_check(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    static const struct {
        uint8_t pfx, op, reg;
        uint32_t off;
        int vec;
    } c[] = {
        {0, 0xd9, 4, 0x41, EMU_VEC_AC}, {0, 0xd9, 4, 0x42, EMU_VEC_AC}, {0, 0xd9, 4, 0x44, EMU_UD},
        {0x66, 0xd9, 4, 0x41, EMU_VEC_AC}, {0x66, 0xd9, 4, 0x42, EMU_UD},
        {0, 0xd9, 6, 0x42, EMU_VEC_AC}, {0x66, 0xd9, 6, 0x42, EMU_UD},   /* fnstenv */
        {0, 0xdd, 4, 0x42, EMU_VEC_AC}, {0, 0xdd, 4, 0x44, EMU_UD},      /* frstor */
        {0x66, 0xdd, 4, 0x43, EMU_VEC_AC}, {0x66, 0xdd, 4, 0x42, EMU_UD},
        {0, 0xdd, 6, 0x42, EMU_VEC_AC}, {0x66, 0xdd, 6, 0x42, EMU_UD},   /* fnsave */
        {0x0f, 0xae, 0, 0x202, EMU_VEC_AC}, {0x0f, 0xae, 0, 0x204, EMU_GP}, /* fxsave */
        {0x0f, 0xae, 0, 0x200, EMU_UD},
        {0x0f, 0xae, 1, 0x201, EMU_VEC_AC}, {0x0f, 0xae, 1, 0x208, EMU_GP}, /* fxrstor */
    };
    uint8_t d[D_SIZE];
    struct x86_cpu_state s;
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct prog p = {.n = 0};
        memset(d, 0, sizeof(d));
        uint32_t mx = 0x1f80;
        memcpy(d + (c[i].off & ~15u) + 24, &mx, 4);
        if (c[i].pfx)
            p.b[p.n++] = c[i].pfx;
        emit_m(&p, c[i].op, c[i].reg, c[i].off);
        int v = emu_exec_user(&p, d, &s, true);
        CHECK_EQ(v, c[i].vec);
        if (v != c[i].vec)
            printf("  case %u\n", i);
        /* without RFLAGS.AC only FXSAVE's #GP remains */
        CHECK_EQ(emu_exec_user(&p, d, &s, false), c[i].vec == EMU_GP ||
                 (c[i].vec == EMU_VEC_AC && c[i].pfx == 0x0f) ? EMU_GP : EMU_UD);
    }

    /* fst qword [rbx+0x31] of a huge value with OE unmasked */
    struct prog p = {.n = 0};
    memset(d, 0, sizeof(d));
    uint16_t w = 0x0377;
    memcpy(d + D_CW, &w, 2);
    put_f80(d + D_A, 0x7ffe, 0x8000000000000000ull);
    emit_m(&p, 0xd9, 5, D_CW);
    emit_m(&p, 0xdb, 5, D_A);
    emit_m(&p, 0xdd, 2, 0x31);
    CHECK_EQ(emu_exec_user(&p, d, &s, true), EMU_VEC_AC);
    CHECK_EQ(s.fpu.fsw, 7u << 11);
    CHECK_EQ(emu_exec_user(&p, d, &s, false), EMU_UD);
    CHECK_EQ(s.fpu.fsw, 0x8088 | 7u << 11); /* B, ES, OE: nothing stored */
}

/* Page faults of multi-byte areas report the byte hardware probes: the
 * environment/save areas check their first field and then the last byte,
 * FXSAVE/FXRSTOR the last byte of the 512-byte area first. A store that
 * an unmasked exception suppresses faults too. 0x800000 is unmapped. */
static void x87_page_fault_order(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    static const struct {
        uint8_t pfx, op, reg;
        uint32_t at;
        uint32_t cr2;
        uint32_t err;
    } c[] = {
        {0, 0xd9, 4, 0x7ffffc, 0x800017, 0},    /* fldenv: the last byte */
        {0, 0xd9, 4, 0x7ffffe, 0x800000, 0},    /* the FCW dword crosses */
        {0x66, 0xd9, 4, 0x7ffffe, 0x80000b, 0}, /* o16: the FCW word does not */
        {0, 0xdd, 4, 0x7ffffc, 0x800067, 0},    /* frstor */
        {0x66, 0xd9, 6, 0x7ffffc, 0x800009, 2}, /* o16 fnstenv */
        {0, 0xdd, 6, 0x7ffffd, 0x800000, 2},    /* fnsave */
        {0x0f, 0xae, 0, 0x7ffff0, 0x8001ef, 2}, /* fxsave */
        {0x0f, 0xae, 1, 0x7fffe0, 0x8001df, 0}, /* fxrstor */
    };
    uint8_t d[D_SIZE];
    struct x86_cpu_state s;
    memset(d, 0, sizeof(d));
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct prog p = {.n = 0};
        p.b[p.n++] = 0xbb; /* mov ebx, at */
        memcpy(p.b + p.n, &c[i].at, 4);
        p.n += 4;
        if (c[i].pfx)
            p.b[p.n++] = c[i].pfx;
        p.b[p.n++] = c[i].op;
        p.b[p.n++] = (uint8_t)(c[i].reg << 3 | 3); /* [rbx] */
        CHECK_EQ(emu_exec(&p, d, &s, 0), EMU_VEC_PF);
        CHECK_EQ(s.cr2, c[i].cr2);
        uint64_t err;
        memcpy(&err, h.ram + s.gpr[X86_RSP], 8);
        CHECK_EQ(err, c[i].err);
        if (s.cr2 != c[i].cr2)
            printf("  case %u\n", i);
    }
    /* fstp qword [0x7ffffc] of an empty ST(0) with IE unmasked */
    struct prog p = {.n = 0};
    uint16_t w = 0x037e;
    memcpy(d + D_CW, &w, 2);
    emit_m(&p, 0xd9, 5, D_CW);
    EMIT(&p, 0xbb, 0xfc, 0xff, 0x7f, 0x00, 0xdd, 0x1b); /* mov ebx, 0x7ffffc; fstp qword [rbx] */
    CHECK_EQ(emu_exec(&p, d, &s, 0), EMU_VEC_PF);
    CHECK_EQ(s.cr2, 0x800000);
    CHECK_EQ(s.fpu.fsw, 0);
}

/* Transcendental results outside the host's long double range or precision
 * (values from the hardware): FYL2X overflowing with OE unmasked (the
 * exponent-wrapped result), F2XM1 and FPATAN of tiny results, FYL2XP1 of
 * a denormal, and FYL2X of a power of two (PE even so). */
static void x87_trans_range(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    static const struct {
        uint8_t op;
        uint16_t cw;
        uint16_t a_se, b_se;
        uint64_t a_m, b_m;
        uint16_t sw, r_se;
        uint64_t r_m;
    } c[] = {
        {0xf1, 0x0377, 0x4013, 0x7ffe, 0x8000000000000000ull, 0xc000000000000000ull,
         0x88a8, 0x2002, 0xf000000000000000ull},
        {0xf1, 0x037f, 0x4013, 0x7ffe, 0x8000000000000000ull, 0xc000000000000000ull,
         0x0a28, 0x7fff, 0x8000000000000000ull},
        {0xf0, 0x036f, 0x0000, 0, 0x0000400000000000ull, 0, 0x80b2, 0x5fef,
         0xb17217f7d1cf79acull}, /* hardware sets C1 too */
        {0xf0, 0x037f, 0x0000, 0, 0x0000400000000000ull, 0, 0x0232, 0x0000,
         0x000000002c5c85fdull << 16 | 0xf474},
        {0xf3, 0x025f, 0x7ffe, 0x403a, 0xff05de19ce39f2aeull, 0xbe0017511f0cec00ull, 0x8aa0,
         0x003a, 0xbeba72a69f240f81ull},
        {0xf9, 0x035f, 0x0000, 0x4017, 0x16d, 0xc140e00000000000ull, 0x88b2, 0x0000,
         0x31b083223ull},
        {0xf1, 0x045f, 0x3bd6, 0xc006, 0x8000000000000000ull, 0x8000000000000000ull, 0x88a0,
         0x4010, 0x8520000000000000ull},
    };
    uint8_t d[D_SIZE];
    struct x86_cpu_state s;
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct prog p = {.n = 0};
        memset(d, 0, sizeof(d));
        memcpy(d + D_CW, &c[i].cw, 2);
        put_f80(d + D_A, c[i].a_se, c[i].a_m);
        put_f80(d + D_B, c[i].b_se, c[i].b_m);
        if (c[i].op != 0xf0)
            emit_m(&p, 0xdb, 5, D_B); /* ST(1) */
        emit_m(&p, 0xdb, 5, D_A);     /* ST(0) */
        emit_m(&p, 0xd9, 5, D_CW);
        p.b[p.n++] = 0xd9;
        p.b[p.n++] = c[i].op;
        CHECK_EQ(emu_exec(&p, d, &s, 0x80050033 & ~0x20u), -1);
        uint16_t se;
        uint64_t m;
        memcpy(&m, s.fpu.st[0], 8);
        memcpy(&se, s.fpu.st[0] + 8, 2);
        CHECK_EQ(s.fpu.fsw & ~0x3800u, c[i].sw & ~0x3800u);
        CHECK_EQ(se, c[i].r_se);
        CHECK_EQ(m, c[i].r_m);
        if (se != c[i].r_se || m != c[i].r_m)
            printf("  case %u\n", i);
    }
}

#ifdef X87_HAVE_NATIVE

struct x87_case {
    const char *name;
    uint8_t insn[8];
    unsigned n;
    uint16_t skip[4][2]; /* byte ranges (offset, length) not compared */
};

#define C(nm, ...) {nm, {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__}), {{0, 0}}}
/* With ranges that hold addresses (FIP, FDP, selectors) or host state. */
#define CS(nm, skip, ...) {nm, {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__}), skip}
#define ENV32_AT(o) {{(o) + 12, 6}, {(o) + 20, 8}}
#define ENV16_AT(o) {{(o) + 6, 8}}
/* FOP FIP FDP, MXCSR_MASK (AMD hosts have bit 17), XMM */
#define FX_SKIP {{D_FX + 6, 18}, {D_FX + 28, 4}, {D_FX + 160, 0x100}}
static const struct x87_case x87_cases[] = {
    C("fadd st,st1", 0xd8, 0xc1), C("fmul st,st1", 0xd8, 0xc9), C("fcom st1", 0xd8, 0xd1),
    C("fcomp st1", 0xd8, 0xd9), C("fsub st,st1", 0xd8, 0xe1), C("fsubr st,st1", 0xd8, 0xe9),
    C("fdiv st,st1", 0xd8, 0xf1), C("fdivr st,st1", 0xd8, 0xf9),
    C("fadd st1,st", 0xdc, 0xc1), C("fmul st1,st", 0xdc, 0xc9), C("fsubr st1,st", 0xdc, 0xe1),
    C("fsub st1,st", 0xdc, 0xe9), C("fdivr st1,st", 0xdc, 0xf1), C("fdiv st1,st", 0xdc, 0xf9),
    C("faddp", 0xde, 0xc1), C("fmulp", 0xde, 0xc9), C("fsubrp", 0xde, 0xe1),
    C("fsubp", 0xde, 0xe9), C("fdivrp", 0xde, 0xf1), C("fdivp", 0xde, 0xf9),
    C("fcompp", 0xde, 0xd9), C("fucompp", 0xda, 0xe9), C("fucom st1", 0xdd, 0xe1),
    C("fucomp st1", 0xdd, 0xe9), C("fucomi", 0xdb, 0xe9), C("fcomi", 0xdb, 0xf1),
    C("fucomip", 0xdf, 0xe9), C("fcomip", 0xdf, 0xf1), C("fcom2", 0xdc, 0xd1),
    C("fcomp3", 0xdc, 0xd9), C("fcomp5", 0xde, 0xd1),
    C("fld st1", 0xd9, 0xc1), C("fxch", 0xd9, 0xc9), C("fst st1", 0xdd, 0xd1),
    C("fstp st1", 0xdd, 0xd9), C("fstp st3", 0xdd, 0xdb), C("ffree st1", 0xdd, 0xc1),
    C("ffreep st0", 0xdf, 0xc0), C("fxch st5", 0xd9, 0xcd), C("fchs", 0xd9, 0xe0),
    C("fabs", 0xd9, 0xe1), C("ftst", 0xd9, 0xe4), C("fxam", 0xd9, 0xe5),
    C("fld1", 0xd9, 0xe8), C("fldl2t", 0xd9, 0xe9), C("fldl2e", 0xd9, 0xea),
    C("fldpi", 0xd9, 0xeb), C("fldlg2", 0xd9, 0xec), C("fldln2", 0xd9, 0xed),
    C("fldz", 0xd9, 0xee), C("fxtract", 0xd9, 0xf4), C("fprem1", 0xd9, 0xf5),
    C("fdecstp", 0xd9, 0xf6), C("fincstp", 0xd9, 0xf7), C("fprem", 0xd9, 0xf8),
    C("fsqrt", 0xd9, 0xfa), C("frndint", 0xd9, 0xfc), C("fscale", 0xd9, 0xfd),
    C("fnop", 0xd9, 0xd0), C("fcmovb", 0xda, 0xc1), C("fcmove", 0xda, 0xc9),
    C("fcmovbe", 0xda, 0xd1), C("fcmovu", 0xda, 0xd9), C("fcmovnb", 0xdb, 0xc1),
    C("fcmovne", 0xdb, 0xc9), C("fcmovnbe", 0xdb, 0xd1), C("fcmovnu", 0xdb, 0xd9),
    C("fadd m32", 0xd8, 0x43, D_M32), C("fmul m32", 0xd8, 0x4b, D_M32),
    C("fcom m32", 0xd8, 0x53, D_M32), C("fcomp m32", 0xd8, 0x5b, D_M32),
    C("fsub m32", 0xd8, 0x63, D_M32), C("fsubr m32", 0xd8, 0x6b, D_M32),
    C("fdiv m32", 0xd8, 0x73, D_M32), C("fdivr m32", 0xd8, 0x7b, D_M32),
    C("fadd m64", 0xdc, 0x43, D_M64), C("fsub m64", 0xdc, 0x63, D_M64),
    C("fdivr m64", 0xdc, 0x7b, D_M64), C("fcomp m64", 0xdc, 0x5b, D_M64),
    C("fiadd m32", 0xda, 0x43, D_I32), C("fimul m32", 0xda, 0x4b, D_I32),
    C("ficom m32", 0xda, 0x53, D_I32), C("fisubr m32", 0xda, 0x6b, D_I32),
    C("fidiv m16", 0xde, 0x73, D_I16), C("ficomp m16", 0xde, 0x5b, D_I16),
    C("fld m32", 0xd9, 0x43, D_M32), C("fld m64", 0xdd, 0x43, D_M64),
    C("fild m16", 0xdf, 0x43, D_I16), C("fild m32", 0xdb, 0x43, D_I32),
    C("fild m64", 0xdf, 0x6b, D_I64), C("fbld", 0xdf, 0x63, D_BCD),
    C("fst m32", 0xd9, 0x53, D_OUT), C("fstp m32", 0xd9, 0x5b, D_OUT),
    C("fst m64", 0xdd, 0x53, D_OUT), C("fstp m64", 0xdd, 0x5b, D_OUT),
    C("fstp m80", 0xdb, 0x7b, D_OUT), C("fist m16", 0xdf, 0x53, D_OUT),
    C("fistp m16", 0xdf, 0x5b, D_OUT), C("fist m32", 0xdb, 0x53, D_OUT),
    C("fistp m32", 0xdb, 0x5b, D_OUT), C("fistp m64", 0xdf, 0x7b, D_OUT),
    C("fbstp", 0xdf, 0x73, D_OUT), C("fnstcw", 0xd9, 0x7b, D_OUT),
    C("fldcw", 0xd9, 0x6b, D_I16), C("fnclex", 0xdb, 0xe2),
    C("fst st0 (empty after ffree)", 0xdd, 0xc0, 0xdd, 0xd0),
    C("fadd with empty st1", 0xdd, 0xc1, 0xd8, 0xc1),
    C("fld m32 overflow", 0xd9, 0xf7, 0xd9, 0x43, D_M32),
    /* D9 D8+i (Intel's FSTP1 alias) is left out: AMD hosts execute it as
     * FSTPNCE, which raises no stack fault. */
    C("fstp8", 0xdf, 0xd1), C("fstp9", 0xdf, 0xd9),
    C("fxch4", 0xdd, 0xc9), C("fxch7", 0xdf, 0xc9), C("fneni", 0xdb, 0xe0),
    C("fndisi", 0xdb, 0xe1), C("fnsetpm", 0xdb, 0xe4), C("fninit", 0xdb, 0xe3),
    CS("fnstenv", ENV32_AT(D_OUT), 0xd9, 0x73, D_OUT),
    CS("o16 fnstenv", ENV16_AT(D_OUT), 0x66, 0xd9, 0x73, D_OUT),
    C("fldenv", 0xd9, 0xa3, 0x00, 0x01, 0x00, 0x00),
    C("o16 fldenv", 0x66, 0xd9, 0xa3, 0x00, 0x01, 0x00, 0x00),
    C("frstor", 0xdd, 0xa3, 0x00, 0x01, 0x00, 0x00),
    C("o16 frstor", 0x66, 0xdd, 0xa3, 0x00, 0x01, 0x00, 0x00),
    CS("fnsave", ENV32_AT(D_FX), 0xdd, 0xb3, 0x00, 0x02, 0x00, 0x00),
    CS("o16 fnsave", ENV16_AT(D_FX), 0x66, 0xdd, 0xb3, 0x00, 0x02, 0x00, 0x00),
    CS("fxsave", FX_SKIP, 0x0f, 0xae, 0x83, 0x00, 0x02, 0x00, 0x00),
    CS("fxsave64", FX_SKIP, 0x48, 0x0f, 0xae, 0x83, 0x00, 0x02, 0x00, 0x00),
};

static bool x87_diff_one(const struct x87_case *c, unsigned *fails)
{
    _Alignas(16) uint8_t dn[D_SIZE];
    uint8_t de[D_SIZE];
    struct prog p;
    struct x86_cpu_state s;
    build_frame(&p, c->insn, c->n, rnd() % 4 ? 0 : (unsigned)(1 + rnd() % 4));
    rand_data(dn, false);
    memcpy(de, dn, D_SIZE);
    native_exec(&p, dn);
    int v = emu_exec(&p, de, &s, 0);
    /* FIP/FDP/FCS/FDS of the environment differ by address; FOP stays,
     * except that a host context switch can zero it (AMD's XSAVE keeps
     * FOP only while an exception is pending). */
    if (!dn[D_ENV + 18] && !dn[D_ENV + 19])
        de[D_ENV + 18] = de[D_ENV + 19] = 0;
    for (unsigned i = 12; i < 28; i++) {
        if (i == 18 || i == 19)
            continue;
        dn[D_ENV + i] = de[D_ENV + i] = 0;
    }
    uint64_t fn, fe, mask = EMU_ARITH_FLAGS;
    memcpy(&fn, dn + D_FLAGS_OUT, 8);
    memcpy(&fe, de + D_FLAGS_OUT, 8);
    fn &= mask;
    fe &= mask;
    memcpy(dn + D_FLAGS_OUT, &fn, 8);
    memcpy(de + D_FLAGS_OUT, &fe, 8);
    for (unsigned k = 0; k < 4; k++) {
        memset(dn + c->skip[k][0], 0, c->skip[k][1]);
        memset(de + c->skip[k][0], 0, c->skip[k][1]);
    }
    if (v == -1 && !memcmp(dn, de, D_SIZE))
        return true;
    if (++*fails <= 10) {
        printf("  %s (exit %d): cw=%02x%02x A=", c->name, v, dn[1], dn[0]);
        for (int i = 9; i >= 0; i--)
            printf("%02x", dn[D_A + i]);
        printf(" B=");
        for (int i = 9; i >= 0; i--)
            printf("%02x", dn[D_B + i]);
        printf("\n");
        for (unsigned i = 0; i < D_SIZE; i++)
            if (dn[i] != de[i])
                printf("    [%03x] host %02x emu %02x\n", i, dn[i], de[i]);
    }
    return false;
}

/* The distance in units of the last place between two finite values of
 * the same sign (a large number otherwise). */
static uint64_t ulps(const uint8_t *a, const uint8_t *b)
{
    uint64_t ma, mb;
    uint16_t ea, eb;
    memcpy(&ma, a, 8);
    memcpy(&mb, b, 8);
    memcpy(&ea, a + 8, 2);
    memcpy(&eb, b + 8, 2);
    if (ea == eb && ma == mb)
        return 0;
    if ((ea ^ eb) & 0x8000 || (ea & 0x7fff) == 0x7fff || (eb & 0x7fff) == 0x7fff)
        return ~0ull;
    /* 80-bit magnitudes ordered as integers: exponent, then significand. */
    unsigned __int128 x = (unsigned __int128)(ea & 0x7fff) << 63 | (ma & ~(1ull << 63));
    unsigned __int128 y = (unsigned __int128)(eb & 0x7fff) << 63 | (mb & ~(1ull << 63));
    unsigned __int128 d = x > y ? x - y : y - x;
    return d > 1000000 ? ~0ull : (uint64_t)d;
}

/* The transcendental instructions are computed with the host's long double
 * libm, not bit-exact to the host x87: results within a few ulps, the
 * same flags apart from PE and C1, the same C2 and stack effects. */
static void x87_trans_vs_host(void)
{
    static const struct x87_case tc[] = {
        C("f2xm1", 0xd9, 0xf0), C("fyl2x", 0xd9, 0xf1), C("fptan", 0xd9, 0xf2),
        C("fpatan", 0xd9, 0xf3), C("fyl2xp1", 0xd9, 0xf9), C("fsincos", 0xd9, 0xfb),
        C("fsin", 0xd9, 0xfe), C("fcos", 0xd9, 0xff),
    };
    if (!have_emu) { SKIP("emu engine not built"); return; }
    if (!native_page) { SKIP("no executable memory for the host runs"); return; }
    unsigned fails = 0, runs = 0;
    uint64_t worst = 0;
    for (unsigned k = 0; k < sizeof(tc) / sizeof(tc[0]); k++) {
        for (unsigned i = 0; i < 3000; i++, runs++) {
            _Alignas(16) uint8_t dn[D_SIZE];
            uint8_t de[D_SIZE];
            struct prog p;
            struct x86_cpu_state s;
            build_frame(&p, tc[k].insn, tc[k].n, rnd() % 8 ? 0 : (unsigned)(1 + rnd() % 4));
            rand_data(dn, true);
            uint16_t cw = (uint16_t)((dn[D_CW] | dn[D_CW + 1] << 8) | 0x3f);
            memcpy(dn + D_CW, &cw, 2); /* masked: results always written */
            memcpy(de, dn, D_SIZE);
            native_exec(&p, dn);
            int v = emu_exec(&p, de, &s, 0);
            uint16_t swn = (uint16_t)(dn[D_SW] | dn[D_SW + 1] << 8);
            uint16_t swe = (uint16_t)(de[D_SW] | de[D_SW + 1] << 8);
            uint64_t u0 = ulps(dn + D_ST0, de + D_ST0), u1 = ulps(dn + D_ST1, de + D_ST1);
            uint64_t u = u0 > u1 ? u0 : u1;
            bool ok = v == -1 && ((swn ^ swe) & ~0x0220u & 0x7fffu) == 0 && u <= 8;
            if (ok && u > worst)
                worst = u;
            if (!ok && ++fails <= 40) {
                printf("  %s: cw=%04x sw host %04x emu %04x, ulps %llu %llu A=", tc[k].name, cw,
                       swn, swe, (unsigned long long)u0, (unsigned long long)u1);
                for (int j = 9; j >= 0; j--)
                    printf("%02x", dn[D_A + j]);
                printf(" B=");
                for (int j = 9; j >= 0; j--)
                    printf("%02x", dn[D_B + j]);
                printf(" host ");
                for (int j = 9; j >= 0; j--)
                    printf("%02x", dn[D_ST0 + j]);
                printf(" emu ");
                for (int j = 9; j >= 0; j--)
                    printf("%02x", de[D_ST0 + j]);
                printf("\n");
            }
        }
    }
    if (fails) {
        printf("  worst difference among the passing runs: %llu ulps\n",
               (unsigned long long)worst);
        printf("  %u of %u runs differ\n", fails, runs);
        test_failed_ = 1;
    }
}

static void x87_vs_host(void)
{
    if (!have_emu) { SKIP("emu engine not built"); return; }
    if (!native_page) { SKIP("no executable memory for the host runs"); return; }
    unsigned fails = 0, runs = 0;
    for (unsigned k = 0; k < sizeof(x87_cases) / sizeof(x87_cases[0]); k++) {
        unsigned f0 = fails;
        for (unsigned i = 0; i < 400 && fails - f0 < 3; i++, runs++)
            x87_diff_one(&x87_cases[k], &fails);
    }
    if (fails) {
        printf("  %u of %u runs differ\n", fails, runs);
        test_failed_ = 1;
    }
}

#else

/* The distance in units of the last place between two finite values of
 * the same sign (a large number otherwise). */
static uint64_t ulps(const uint8_t *a, const uint8_t *b)
{
    uint64_t ma, mb;
    uint16_t ea, eb;
    memcpy(&ma, a, 8);
    memcpy(&mb, b, 8);
    memcpy(&ea, a + 8, 2);
    memcpy(&eb, b + 8, 2);
    if (ea == eb && ma == mb)
        return 0;
    if ((ea ^ eb) & 0x8000 || (ea & 0x7fff) == 0x7fff || (eb & 0x7fff) == 0x7fff)
        return ~0ull;
    /* 80-bit magnitudes ordered as integers: exponent, then significand. */
    unsigned __int128 x = (unsigned __int128)(ea & 0x7fff) << 63 | (ma & ~(1ull << 63));
    unsigned __int128 y = (unsigned __int128)(eb & 0x7fff) << 63 | (mb & ~(1ull << 63));
    unsigned __int128 d = x > y ? x - y : y - x;
    return d > 1000000 ? ~0ull : (uint64_t)d;
}

/* The transcendental instructions are computed with the host's long double
 * libm, not bit-exact to the host x87: results within a few ulps, the
 * same flags apart from PE and C1, the same C2 and stack effects. */
static void x87_trans_vs_host(void)
{
    static const struct x87_case tc[] = {
        C("f2xm1", 0xd9, 0xf0), C("fyl2x", 0xd9, 0xf1), C("fptan", 0xd9, 0xf2),
        C("fpatan", 0xd9, 0xf3), C("fyl2xp1", 0xd9, 0xf9), C("fsincos", 0xd9, 0xfb),
        C("fsin", 0xd9, 0xfe), C("fcos", 0xd9, 0xff),
    };
    if (!have_emu) { SKIP("emu engine not built"); return; }
    if (!native_page) { SKIP("no executable memory for the host runs"); return; }
    unsigned fails = 0, runs = 0;
    uint64_t worst = 0;
    for (unsigned k = 0; k < sizeof(tc) / sizeof(tc[0]); k++) {
        for (unsigned i = 0; i < 3000; i++, runs++) {
            _Alignas(16) uint8_t dn[D_SIZE];
            uint8_t de[D_SIZE];
            struct prog p;
            struct x86_cpu_state s;
            build_frame(&p, tc[k].insn, tc[k].n, rnd() % 8 ? 0 : (unsigned)(1 + rnd() % 4));
            rand_data(dn, true);
            uint16_t cw = (uint16_t)((dn[D_CW] | dn[D_CW + 1] << 8) | 0x3f);
            memcpy(dn + D_CW, &cw, 2); /* masked: results always written */
            memcpy(de, dn, D_SIZE);
            native_exec(&p, dn);
            int v = emu_exec(&p, de, &s, 0);
            uint16_t swn = (uint16_t)(dn[D_SW] | dn[D_SW + 1] << 8);
            uint16_t swe = (uint16_t)(de[D_SW] | de[D_SW + 1] << 8);
            uint64_t u0 = ulps(dn + D_ST0, de + D_ST0), u1 = ulps(dn + D_ST1, de + D_ST1);
            uint64_t u = u0 > u1 ? u0 : u1;
            bool ok = v == -1 && ((swn ^ swe) & ~0x0220u & 0x7fffu) == 0 && u <= 8;
            if (ok && u > worst)
                worst = u;
            if (!ok && ++fails <= 40) {
                printf("  %s: cw=%04x sw host %04x emu %04x, ulps %llu %llu A=", tc[k].name, cw,
                       swn, swe, (unsigned long long)u0, (unsigned long long)u1);
                for (int j = 9; j >= 0; j--)
                    printf("%02x", dn[D_A + j]);
                printf(" B=");
                for (int j = 9; j >= 0; j--)
                    printf("%02x", dn[D_B + j]);
                printf(" host ");
                for (int j = 9; j >= 0; j--)
                    printf("%02x", dn[D_ST0 + j]);
                printf(" emu ");
                for (int j = 9; j >= 0; j--)
                    printf("%02x", de[D_ST0 + j]);
                printf("\n");
            }
        }
    }
    if (fails) {
        printf("  worst difference among the passing runs: %llu ulps\n",
               (unsigned long long)worst);
        printf("  %u of %u runs differ\n", fails, runs);
        test_failed_ = 1;
    }
}

static void x87_vs_host(void)
{
    SKIP("needs an x86-64 Linux host to run the same instructions natively");
}

static void x87_trans_vs_host(void)
{
    SKIP("needs an x86-64 Linux host to run the same instructions natively");
}

#endif

int main(int argc, char **argv)
{
    have_emu = emu_h_init(&h) == 0;
    /* X87_SEED=n explores other operands than the fixed default. */
    if (getenv("X87_SEED"))
        rng = strtoull(getenv("X87_SEED"), NULL, 0) | 1;
#ifdef X87_HAVE_NATIVE
    void *pg = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                    -1, 0);
    native_page = pg == MAP_FAILED ? NULL : pg;
#endif
    static const struct test_case tests[] = {
        TEST(x87_basic),         TEST(x87_faults),    TEST(x87_env_layouts), TEST(x87_real_mode),
        TEST(x87_grp15),
        TEST(x87_stack_faults),  TEST(x87_hw_rules), TEST(x87_alignment_check),
        TEST(x87_page_fault_order), TEST(x87_trans_range),
        TEST(x87_vs_host), TEST(x87_trans_vs_host),
    };
    int rc = test_run_all_("emu/x87", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
    emu_h_destroy(&h);
    return rc;
}
