/* emu SSE/SSE2/MMX instructions against the host CPU (SDM Vol. 2 instruction
 * pages; Vol. 1 chapters 9-11). Random instructions of every SSE/SSE2/MMX
 * row of opcodes.def, with every mandatory prefix, register and [rsi]
 * memory forms, REX.W/R/B, random immediates, run twice from the same
 * random state: on the host (a trampoline that FXRSTORs the whole x87/MMX/
 * SSE state, loads the GPRs and RFLAGS, runs the bytes and FXSAVEs) and on
 * the emu engine (tests/emu/harness.h). Faults are part of the outcome: the
 * host's SIGILL/SIGSEGV/SIGFPE give the vector (the trap number) and the
 * state at the fault. Results must match: x87 control/status/tags, MMX and
 * XMM registers, MXCSR, GPRs, arithmetic flags and memory.
 *
 * Known, intended differences: encodings of SSE3 and later (the host has
 * them, roam-v1 does not) must be #UD on emu; RCPPS/RSQRTPS results are
 * compared only when the host is the kind of CPU whose tables softfp has. */
#define _GNU_SOURCE /* sigaction, ucontext_t, mmap */
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>

#include "emu/harness.h"
#include "test.h"

#if defined(__x86_64__) && defined(__linux__)
#define HOST_ORACLE 1
#include <sys/mman.h>
#include <ucontext.h>
#else
#define HOST_ORACLE 0
#endif

#ifndef ITERS
#define ITERS 20000
#endif
#ifndef SKIP_APPROX
#define SKIP_APPROX 0
#endif

static struct emu_h h;
static bool have_emu;

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

/* A random raw float of mb fraction and eb exponent bits, weighted toward
 * zeros, denormals, infinities, NaNs and the edges of the range. */
static uint64_t rand_fp(unsigned mb, unsigned eb)
{
    uint64_t emax = (1ull << eb) - 1, bias = emax >> 1, mmask = (1ull << mb) - 1;
    uint64_t r = rnd(), m = rnd() & mmask, e;
    uint64_t sign = (r & 1) << (mb + eb);

    switch ((r >> 1) % 16) {
    case 0: return sign;
    case 1: return sign | (emax << mb);
    case 2: return sign | (emax << mb) | (1ull << (mb - 1)) | (m & 7);
    case 3: return sign | (emax << mb) | ((m | 1) & (mmask >> 1));
    case 4: return sign | (m ? m : 1) >> (rnd() % mb);
    case 5: e = 1 + rnd() % 3; break;
    case 6: e = emax - 1 - rnd() % 3; break;
    case 7: case 8: e = bias - 2 + rnd() % 5; break;
    case 9: e = bias + 20 + rnd() % 50; break; /* near the integer limits */
    default: e = rnd() % emax; break;
    }
    return sign | (e << mb) | m;
}

/* 16 random bytes: four singles, two doubles, small integers or noise. */
static void rand_vec(uint8_t *p)
{
    uint64_t q[2];
    switch (rnd() % 5) {
    case 0:
    case 1:
        for (unsigned i = 0; i < 4; i++) {
            uint32_t f = (uint32_t)rand_fp(23, 8);
            memcpy(p + 4 * i, &f, 4);
        }
        return;
    case 2:
    case 3:
        q[0] = rand_fp(52, 11);
        q[1] = rand_fp(52, 11);
        break;
    default:
        q[0] = rnd() >> (rnd() % 64);
        q[1] = rnd();
        if (rnd() & 1)
            q[1] &= 0x00ff00ff80017fffull;
        break;
    }
    memcpy(p, q, 16);
}

/* ---- the instruction ---- */
enum { NONE = 0, GPR_REG = 1, GPR_RM = 2 }; /* which ModRM field names a GPR */

/* The ModRM fields that name general registers, by prefix and opcode. */
static unsigned gpr_fields(unsigned pfx, unsigned op)
{
    switch (op) {
    case 0x2a: return pfx >= 2 ? GPR_RM : NONE;
    case 0x2c: case 0x2d: return pfx >= 2 ? GPR_REG : NONE;
    case 0x50: case 0xc5: case 0xd7: return GPR_REG;
    case 0x6e: case 0xc4: return GPR_RM;
    case 0x7e: return pfx < 2 ? GPR_RM : NONE;
    default: return NONE;
    }
}

static const uint8_t sse_ops[] = {
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e,
    0x2f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d,
    0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c,
    0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x7e, 0x7f, 0xc2, 0xc4,
    0xc5, 0xc6, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd,
    0xde, 0xdf, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec,
    0xed, 0xee, 0xef, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc,
    0xfd, 0xfe,
};

static bool has_imm8(unsigned op)
{
    return (op >= 0x70 && op <= 0x73) || op == 0xc2 || op == 0xc4 || op == 0xc5 || op == 0xc6;
}

/* Encodings outside roam-v1 (SSE3, SSE4a) that the host may execute. */
static bool beyond_v1(unsigned pfx, unsigned op)
{
    return (op == 0x12 && pfx >= 2) || (op == 0x16 && pfx == 2) || (op == 0x2b && pfx >= 2);
}

struct insn {
    uint8_t bytes[16];
    unsigned len;
    unsigned pfx, op;
};

/* General registers a test may name: not RSP, RSI, RDI (memory pointers,
 * different on the two sides) nor R15 (the host trampoline's base). */
static unsigned rand_gpr(void)
{
    static const uint8_t ok[] = {0, 1, 2, 3, 5, 8, 9, 10, 11, 12, 13, 14};
    return ok[rnd() % sizeof(ok)];
}

static void gen_insn(struct insn *in, int force_op)
{
    unsigned op = force_op >= 0 ? (unsigned)force_op : sse_ops[rnd() % sizeof(sse_ops)];
    unsigned pfx = (unsigned)(rnd() % 4), n = 0;
    unsigned g = gpr_fields(pfx, op);
    bool mem = rnd() % 3 == 0;
    unsigned reg = (unsigned)(rnd() % 16), rm = (unsigned)(rnd() % 16);
    unsigned w = rnd() % 4 == 0;

    if (g & GPR_REG)
        reg = rand_gpr();
    if (g & GPR_RM)
        rm = rand_gpr();
    /* Sometimes two of 66/F3/F2, in either order: the last F2/F3 wins,
     * and over 66. pfx is the effective one. */
    static const uint8_t pbyte[4] = {0, 0x66, 0xf3, 0xf2};
    if (pfx)
        in->bytes[n++] = pbyte[pfx];
    if (rnd() % 6 == 0) {
        unsigned extra = 1 + (unsigned)(rnd() % 3);
        if (n && rnd() % 2) {
            in->bytes[n++] = in->bytes[0];
            in->bytes[0] = pbyte[extra];
        } else {
            in->bytes[n++] = pbyte[extra];
        }
        unsigned last_rep = 0;
        bool has66 = false;
        for (unsigned i = 0; i < n; i++) {
            if (in->bytes[i] == 0x66)
                has66 = true;
            else
                last_rep = in->bytes[i] == 0xf3 ? 2 : 3;
        }
        pfx = last_rep ? last_rep : has66 ? 1 : 0;
        g = gpr_fields(pfx, op);
        if (g & GPR_REG)
            reg = rand_gpr();
        if (g & GPR_RM)
            rm = rand_gpr();
    }
    if (mem)
        rm = 6; /* [rsi] */
    unsigned rex = 0x40 | (w << 3) | ((reg >> 3) << 2) | (mem ? 0 : rm >> 3);
    if (rex != 0x40 || rnd() % 4 == 0)
        in->bytes[n++] = (uint8_t)rex;
    in->bytes[n++] = 0x0f;
    in->bytes[n++] = (uint8_t)op;
    if (op != 0x77) /* EMMS has no ModRM */
        in->bytes[n++] = (uint8_t)((mem ? 0x00 : 0xc0) | ((reg & 7) << 3) | (rm & 7));
    if (has_imm8(op)) {
        uint8_t imm = (uint8_t)rnd();
        if (op >= 0x71 && op <= 0x73 && rnd() % 2)
            imm &= 0x1f;
        in->bytes[n++] = imm;
    }
    in->len = n;
    in->pfx = pfx;
    in->op = op;
}

/* ---- the state ---- */
struct tstate {
    uint8_t fx[512] __attribute__((aligned(16)));
    uint64_t gpr[16];
    uint64_t rflags;
    uint8_t data[256] __attribute__((aligned(16)));
    int vector; /* -1: completed */
};

#define DATA_RSI 64
#define DATA_RDI 160

static void rand_state(struct tstate *t)
{
    struct x86_fxsave *x = (struct x86_fxsave *)t->fx;
    memset(t, 0, sizeof(*t));
    x->fcw = 0x37f;
    x->fsw = (uint16_t)((rnd() % 8) << 11);
    if (rnd() % 64 == 0) {
        /* an unmasked x87 exception pending: MMX instructions fault #MF */
        x->fcw = 0x37e;
        x->fsw |= 0x8081;
    }
    x->ftw = (uint8_t)rnd();
    for (unsigned i = 0; i < 8; i++) {
        uint64_t m = rnd();
        uint16_t se = (uint16_t)rnd();
        memcpy(x->st[i], &m, 8);
        memcpy(x->st[i] + 8, &se, 2);
    }
    uint32_t mx = (uint32_t)((rnd() & 3) << 13) | 0x1f80;
    if (rnd() % 3 == 0)
        mx |= 0x40;
    if (rnd() % 3 == 0)
        mx |= 0x8000;
    if (rnd() % 6 == 0)
        mx &= ~((uint32_t)(rnd() & 0x3f) << 7);
    if (rnd() % 2)
        mx |= (uint32_t)rnd() & 0x3f;
    x->mxcsr = mx;
    for (unsigned i = 0; i < 16; i++)
        rand_vec(x->xmm[i]);
    for (unsigned i = 0; i < 16; i++)
        t->gpr[i] = rnd() % 4 ? rnd() : (uint64_t)rand_fp(23, 8);
    t->rflags = 0x202 | (rnd() & 0x8d5);
    for (unsigned i = 0; i < sizeof(t->data); i += 16)
        rand_vec(t->data + i);
}

/* ---- the emu side ---- */
static void run_emu(const struct insn *in, const struct tstate *init, unsigned rsi_off,
                    unsigned rdi_off, struct tstate *out)
{
    struct x86_cpu_state s;
    uint8_t code[32];

    *out = *init;
    emu_h_state64(&h, &s, false);
    memcpy(s.gpr, init->gpr, sizeof(s.gpr));
    s.gpr[X86_RSI] = EMU_H_DATA + DATA_RSI + rsi_off;
    s.gpr[X86_RDI] = EMU_H_DATA + DATA_RDI + rdi_off;
    s.gpr[X86_RSP] = EMU_H_STACK - 0x1000;
    s.rflags = init->rflags;
    memcpy(&s.fpu, init->fx, sizeof(s.fpu));
    memcpy(h.ram + EMU_H_DATA, init->data, sizeof(init->data));
    memcpy(code, in->bytes, in->len);
    code[in->len] = 0xf4;
    int r = emu_h_run(&h, code, in->len + 1, &s);
    out->vector = r == VM_EXIT_HLT ? emu_h_vector(&s) : -100 - r;
    memcpy(out->fx, &s.fpu, sizeof(s.fpu));
    memcpy(out->gpr, s.gpr, sizeof(s.gpr));
    out->rflags = s.rflags;
    memcpy(out->data, h.ram + EMU_H_DATA, sizeof(out->data));
}

#if HOST_ORACLE
/* ---- the host side ---- */
static uint8_t *host_code;
static sigjmp_buf host_jmp;
static struct tstate *host_fault_out;

static const int greg_of[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                REG_R12, REG_R13, REG_R14, REG_R15};

static void host_signal(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)si;
    ucontext_t *uc = ctx;
    struct tstate *t = host_fault_out;
    t->vector = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
    memcpy(t->fx, uc->uc_mcontext.fpregs, 512);
    for (unsigned i = 0; i < 16; i++)
        t->gpr[i] = (uint64_t)uc->uc_mcontext.gregs[greg_of[i]];
    t->rflags = (uint64_t)uc->uc_mcontext.gregs[REG_EFL];
    siglongjmp(host_jmp, 1);
}

static unsigned emit_disp(uint8_t *p, unsigned n, uint32_t d)
{
    memcpy(p + n, &d, 4);
    return n + 4;
}

/* push callee-saved; r15 = state; FXRSTOR; GPRs; RFLAGS; the instruction;
 * RFLAGS, GPRs, FXSAVE back; a clean x87/MXCSR for the C code; return. */
static void host_build(const struct insn *in)
{
    uint8_t *p = host_code;
    unsigned n = 0;
    static const uint8_t pro[] = {0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57,
                                  0x49, 0x89, 0xff, 0x49, 0x0f, 0xae, 0x0f};
    memcpy(p, pro, sizeof(pro));
    n = sizeof(pro);
    for (unsigned r = 0; r < 15; r++) {
        if (r == 4)
            continue;
        p[n++] = (uint8_t)(0x49 | (r >= 8 ? 4 : 0));
        p[n++] = 0x8b;
        p[n++] = (uint8_t)(0x87 | ((r & 7) << 3));
        n = emit_disp(p, n, 512 + 8 * r);
    }
    p[n++] = 0x41; p[n++] = 0xff; p[n++] = 0xb7;
    n = emit_disp(p, n, 512 + 128);
    p[n++] = 0x9d;
    memcpy(p + n, in->bytes, in->len);
    n += in->len;
    p[n++] = 0x9c;
    p[n++] = 0x41; p[n++] = 0x8f; p[n++] = 0x87;
    n = emit_disp(p, n, 512 + 128);
    for (unsigned r = 0; r < 15; r++) {
        if (r == 4)
            continue;
        p[n++] = (uint8_t)(0x49 | (r >= 8 ? 4 : 0));
        p[n++] = 0x89;
        p[n++] = (uint8_t)(0x87 | ((r & 7) << 3));
        n = emit_disp(p, n, 512 + 8 * r);
    }
    static const uint8_t epi[] = {
        0x49, 0x0f, 0xae, 0x07,             /* fxsave64 [r15] */
        0xdb, 0xe3,                         /* fninit */
        0x68, 0x80, 0x1f, 0x00, 0x00,       /* push 0x1f80 */
        0x0f, 0xae, 0x14, 0x24,             /* ldmxcsr [rsp] */
        0x48, 0x83, 0xc4, 0x08,             /* add rsp, 8 */
        0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b, 0xc3,
    };
    memcpy(p + n, epi, sizeof(epi));
}

static void run_host(const struct insn *in, const struct tstate *init, unsigned rsi_off,
                     unsigned rdi_off, struct tstate *out)
{
    static struct tstate t __attribute__((aligned(64)));
    t = *init;
    t.vector = -1;
    t.gpr[X86_RSI] = (uint64_t)(uintptr_t)(t.data + DATA_RSI + rsi_off);
    t.gpr[X86_RDI] = (uint64_t)(uintptr_t)(t.data + DATA_RDI + rdi_off);
    host_build(in);
    host_fault_out = &t;
    if (!sigsetjmp(host_jmp, 1))
        ((void (*)(struct tstate *))(uintptr_t)host_code)(&t);
    else
        __asm__ volatile("fninit\n\tpush $0x1f80\n\tldmxcsr (%%rsp)\n\tadd $8, %%rsp" ::: "memory");
    *out = t;
}

static int host_setup(void)
{
    if (host_code)
        return 0;
    host_code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (host_code == MAP_FAILED) {
        host_code = NULL;
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = host_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    return 0;
}

/* Is the host the CPU whose RCPPS/RSQRTPS tables softfp reproduces? */
static bool host_approx_matches(void)
{
    uint32_t r;
    __asm__("movd %1, %%xmm0\n\trcpss %%xmm0, %%xmm0\n\tmovd %%xmm0, %0" : "=r"(r) : "r"(0x3f800000u) : "xmm0");
    return r == 0x3f7ff000u;
}
#endif

static int mismatches;

static void dump(const char *who, const struct tstate *t)
{
    const struct x86_fxsave *x = (const struct x86_fxsave *)t->fx;
    printf("    %s: vector %d fsw %04x ftw %02x mxcsr %08x rflags %llx\n", who, t->vector, x->fsw,
           x->ftw, x->mxcsr, (unsigned long long)t->rflags);
}

static bool compare(const struct insn *in, const struct tstate *a, const struct tstate *b,
                    const struct tstate *init)
{
    const struct x86_fxsave *x = (const struct x86_fxsave *)a->fx, *y = (const struct x86_fxsave *)b->fx;
    char what[160] = "";
    bool ok = true;

    if (a->vector != b->vector) {
        snprintf(what, sizeof(what), "vector");
        ok = false;
    }
    if (ok && (x->fcw != y->fcw || x->fsw != y->fsw || x->ftw != y->ftw || x->mxcsr != y->mxcsr)) {
        snprintf(what, sizeof(what), "x87/mxcsr control");
        ok = false;
    }
    for (unsigned i = 0; ok && i < 8; i++)
        if (memcmp(x->st[i], y->st[i], 10)) {
            snprintf(what, sizeof(what), "st%u/mm: %016llx vs %016llx", i,
                     *(const unsigned long long *)x->st[i], *(const unsigned long long *)y->st[i]);
            ok = false;
        }
    for (unsigned i = 0; ok && i < 16; i++)
        if (memcmp(x->xmm[i], y->xmm[i], 16)) {
            const uint64_t *p = (const uint64_t *)x->xmm[i], *q = (const uint64_t *)y->xmm[i];
            snprintf(what, sizeof(what), "xmm%u: %016llx:%016llx vs %016llx:%016llx", i,
                     (unsigned long long)p[1], (unsigned long long)p[0], (unsigned long long)q[1],
                     (unsigned long long)q[0]);
            ok = false;
        }
    for (unsigned i = 0; ok && i < 16; i++) {
        if (i == X86_RSP || i == X86_RSI || i == X86_RDI || i == 15)
            continue;
        if (a->gpr[i] != b->gpr[i]) {
            snprintf(what, sizeof(what), "gpr%u: %llx vs %llx", i, (unsigned long long)a->gpr[i],
                     (unsigned long long)b->gpr[i]);
            ok = false;
        }
    }
    if (ok && a->vector < 0 && (a->rflags & 0x8d5) != (b->rflags & 0x8d5)) {
        snprintf(what, sizeof(what), "rflags %llx vs %llx", (unsigned long long)a->rflags,
                 (unsigned long long)b->rflags);
        ok = false;
    }
    if (ok && memcmp(a->data, b->data, sizeof(a->data))) {
        snprintf(what, sizeof(what), "memory");
        ok = false;
    }
    if (!ok && mismatches++ < 20) {
        printf("  ");
        for (unsigned i = 0; i < in->len; i++)
            printf("%02x ", in->bytes[i]);
        printf("(mxcsr in %08x): %s\n", ((const struct x86_fxsave *)init->fx)->mxcsr, what);
        dump("host", a);
        dump("emu ", b);
    }
    return ok;
}

static void random_instructions(void)
{
    if (!HOST_ORACLE)
        SKIP("needs an x86-64 Linux host to compare with");
    if (!have_emu)
        SKIP("emu engine not built");
#if HOST_ORACLE
    if (host_setup() < 0)
        SKIP("no executable memory for the host trampoline");
    bool approx = host_approx_matches();
    struct tstate init, hs, es;
    mismatches = 0;
    for (int i = 0; i < ITERS; i++) {
        struct insn in;
        gen_insn(&in, -1);
        if ((!approx || SKIP_APPROX) && (in.op == 0x52 || in.op == 0x53))
            continue;
        rand_state(&init);
        unsigned rsi_off = rnd() % 4 ? (unsigned)(rnd() % 2) * 16 : (unsigned)(rnd() % 32);
        unsigned rdi_off = (unsigned)(rnd() % 16);
        run_host(&in, &init, rsi_off, rdi_off, &hs);
        run_emu(&in, &init, rsi_off, rdi_off, &es);
        if (beyond_v1(in.pfx, in.op) && hs.vector != 6) {
            if (es.vector != 6 && mismatches++ < 20)
                printf("  op %02x pfx %u beyond roam-v1: emu vector %d, want #UD\n", in.op,
                       in.pfx, es.vector);
            continue;
        }
        compare(&in, &hs, &es, &init);
    }
    if (mismatches)
        test_failed_ = 1;
#endif
}

/* ---- directed checks of what the host cannot show (CR0/CR4 bits) ---- */

/* Runs code + hlt from state s (64-bit mode, CPL0 unless changed); returns
 * the vector of the exception taken, -1 when the hlt was reached. */
static int run_emu_code(const uint8_t *code, size_t len, struct x86_cpu_state *s)
{
    uint8_t buf[64];
    memcpy(buf, code, len);
    buf[len] = 0xf4;
    int r = emu_h_run(&h, buf, len + 1, s);
    return r == VM_EXIT_HLT ? emu_h_vector(s) : -100 - r;
}

static void fresh(struct x86_cpu_state *s)
{
    emu_h_state64(&h, s, false);
    s->fpu.fcw = 0x37f;
    s->fpu.mxcsr = 0x1f80;
}

static void control_registers(void)
{
    if (!have_emu)
        SKIP("emu engine not built");
    static const uint8_t addps[] = {0x0f, 0x58, 0xc1};       /* SSE */
    static const uint8_t paddb[] = {0x0f, 0xfc, 0xc1};       /* MMX */
    static const uint8_t emms[] = {0x0f, 0x77};
    static const uint8_t cvtpi2ps[] = {0x0f, 0x2a, 0xc1};    /* SSE with an MMX source */
    static const uint8_t paddq66[] = {0x66, 0x0f, 0xd4, 0xc1}; /* SSE2 integer */
    static const struct {
        const uint8_t *code;
        size_t len;
        bool sse;
    } c[] = {{addps, 3, true}, {paddb, 3, false}, {emms, 2, false}, {cvtpi2ps, 3, true},
             {paddq66, 4, true}};
    struct x86_cpu_state s;
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        fresh(&s);
        CHECK_EQ(run_emu_code(c[i].code, c[i].len, &s), -1);
        fresh(&s);
        s.cr0 |= 4; /* EM */
        CHECK_EQ(run_emu_code(c[i].code, c[i].len, &s), 6);
        fresh(&s);
        s.cr0 |= 8; /* TS */
        CHECK_EQ(run_emu_code(c[i].code, c[i].len, &s), 7);
        fresh(&s);
        s.cr4 &= ~0x200ull; /* OSFXSR: SSE is #UD, MMX is not affected */
        CHECK_EQ(run_emu_code(c[i].code, c[i].len, &s), c[i].sse ? 6 : -1);
        fresh(&s);
        s.fpu.fcw = 0x37e;
        s.fpu.fsw = 0x8081; /* an unmasked x87 exception pending */
        bool mmx = c[i].code != addps && c[i].code != paddq66;
        CHECK_EQ(run_emu_code(c[i].code, c[i].len, &s), mmx ? 16 : -1);
    }
}

/* An unmasked SIMD exception: #XM with CR4.OSXMMEXCPT, else #UD; the flag
 * is set either way and the destination keeps its value. */
static void simd_exception(void)
{
    if (!have_emu)
        SKIP("emu engine not built");
    static const uint8_t divps[] = {0x0f, 0x5e, 0xc1}; /* divps xmm0, xmm1 */
    struct x86_cpu_state s;
    static const float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 1, 1};
    for (int os = 0; os < 2; os++) {
        fresh(&s);
        if (!os)
            s.cr4 &= ~0x400ull;
        s.fpu.mxcsr = 0x1f80 & ~0x200u; /* ZM clear */
        memcpy(s.fpu.xmm[0], a, 16);
        memcpy(s.fpu.xmm[1], b, 16);
        CHECK_EQ(run_emu_code(divps, sizeof(divps), &s), os ? 19 : 6);
        CHECK_EQ(s.fpu.mxcsr, (0x1f80u & ~0x200u) | 0x4);
        CHECK(memcmp(s.fpu.xmm[0], a, 16) == 0);
    }
    /* masked: the quotient is written, ZE set */
    fresh(&s);
    memcpy(s.fpu.xmm[0], a, 16);
    memcpy(s.fpu.xmm[1], b, 16);
    CHECK_EQ(run_emu_code(divps, sizeof(divps), &s), -1);
    CHECK_EQ(s.fpu.mxcsr, 0x1f84);
    uint32_t q[4];
    memcpy(q, s.fpu.xmm[0], 16);
    CHECK_EQ(q[0], 0x3f800000u);
    CHECK_EQ(q[1], 0x7f800000u);
}

/* 16-byte operands of MOVAPS, MOVDQA and packed arithmetic must be aligned;
 * MOVUPS, MOVDQU and scalar operands need not be. */
static void alignment(void)
{
    if (!have_emu)
        SKIP("emu engine not built");
    static const struct {
        uint8_t code[5];
        unsigned len;
        bool must_align;
    } c[] = {
        {{0x0f, 0x28, 0x06}, 3, true},             /* movaps xmm0, [rsi] */
        {{0x0f, 0x29, 0x06}, 3, true},             /* movaps [rsi], xmm0 */
        {{0x66, 0x0f, 0x6f, 0x06}, 4, true},       /* movdqa */
        {{0x0f, 0x58, 0x06}, 3, true},             /* addps */
        {{0x66, 0x0f, 0xfe, 0x06}, 4, true},       /* paddd */
        {{0x66, 0x0f, 0xe7, 0x06}, 4, true},       /* movntdq */
        {{0x0f, 0x10, 0x06}, 3, false},            /* movups */
        {{0xf3, 0x0f, 0x6f, 0x06}, 4, false},      /* movdqu */
        {{0xf3, 0x0f, 0x58, 0x06}, 4, false},      /* addss */
        {{0x0f, 0xfe, 0x06}, 3, false},            /* paddd mm0 */
        {{0x0f, 0x12, 0x06}, 3, false},            /* movlps */
    };
    struct x86_cpu_state s;
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        fresh(&s);
        s.gpr[X86_RSI] = EMU_H_DATA + 8;
        int v = run_emu_code(c[i].code, c[i].len, &s);
        CHECK_EQ(v, c[i].must_align ? 13 : -1);
        fresh(&s);
        s.gpr[X86_RSI] = EMU_H_DATA + 16;
        CHECK_EQ(run_emu_code(c[i].code, c[i].len, &s), -1);
    }
}

/* At CPL3 with CR0.AM and RFLAGS.AC (alignment checking on), as the
 * hardware does it (tests/difftest): the unaligned 16-byte moves raise #AC
 * below 16-byte alignment, the aligned forms keep their #GP; MASKMOVQ and
 * MASKMOVDQU raise #AC when rDI is not 8-byte aligned, whatever the mask,
 * and never for the stored bytes. */
static int run_user_ac(const uint8_t *code, size_t len, struct x86_cpu_state *s)
{
    uint8_t buf[64];
    s->cr0 |= 1u << 18;     /* AM */
    s->rflags |= 1u << 18;  /* AC */
    memcpy(buf, code, len);
    buf[len] = 0x0f;        /* ud2: the end */
    buf[len + 1] = 0x0b;
    int r = emu_h_run(&h, buf, len + 2, s);
    return r == VM_EXIT_HLT ? emu_h_vector(s) : -100 - r;
}

static void alignment_check(void)
{
    if (!have_emu)
        SKIP("emu engine not built");
    static const struct {
        uint8_t code[5];
        unsigned len;
        unsigned off;
        int vec;
    } c[] = {
        {{0x0f, 0x10, 0x06}, 3, 8, 17},         /* movups xmm0, [rsi] */
        {{0x0f, 0x11, 0x06}, 3, 4, 17},         /* movups [rsi], xmm0 */
        {{0x66, 0x0f, 0x10, 0x06}, 4, 1, 17},   /* movupd */
        {{0x66, 0x0f, 0x11, 0x06}, 4, 8, 17},
        {{0xf3, 0x0f, 0x6f, 0x06}, 4, 2, 17},   /* movdqu */
        {{0xf3, 0x0f, 0x7f, 0x06}, 4, 8, 17},
        {{0x0f, 0x11, 0x06}, 3, 16, 6},
        {{0x0f, 0x28, 0x06}, 3, 8, 13},         /* movaps: #GP */
        {{0xf2, 0x0f, 0x10, 0x06}, 4, 4, 17},   /* movsd: 8 bytes */
        {{0xf2, 0x0f, 0x10, 0x06}, 4, 8, 6},
        {{0x0f, 0xf7, 0xc2}, 3, 4, 17},         /* maskmovq mm0, mm2 (mask 0) */
        {{0x0f, 0xf7, 0xc2}, 3, 8, 6},
        {{0x66, 0x0f, 0xf7, 0xc2}, 4, 4, 17},   /* maskmovdqu xmm0, xmm2 */
        {{0x66, 0x0f, 0xf7, 0xc2}, 4, 8, 6},
        {{0x0f, 0xf7, 0xc1}, 3, 8, 6},          /* maskmovq mm0, mm1: bytes 1-2 */
        {{0x66, 0x0f, 0xf7, 0xc1}, 4, 16, 6},   /* maskmovdqu xmm0, xmm1 */
    };
    static const uint64_t data = 0x1122334455667788ull, mask = 0xffff00;
    struct x86_cpu_state s;
    uint8_t *d = h.ram + EMU_H_DATA;
    unsigned n = sizeof(c) / sizeof(c[0]);
    for (unsigned i = 0; i < n; i++) {
        memset(d, 0, 64);
        emu_h_state64(&h, &s, true);
        s.gpr[X86_RSI] = s.gpr[X86_RDI] = EMU_H_DATA + c[i].off;
        memcpy(s.fpu.st[0], &data, 8);
        memcpy(s.fpu.st[1], &mask, 8);
        memcpy(s.fpu.xmm[0], &data, 8);
        memcpy(s.fpu.xmm[1], &mask, 8);
        int v = run_user_ac(c[i].code, c[i].len, &s);
        CHECK_EQ(v, c[i].vec);
        if (v != c[i].vec)
            printf("  case %u\n", i);
        if (i >= n - 2) {
            /* the last two store their masked bytes, 1 and 2 */
            unsigned at = c[i].off;
            CHECK_EQ(d[at] | d[at + 3], 0);
            CHECK_EQ(d[at + 1], 0x77);
            CHECK_EQ(d[at + 2], 0x66);
        }
    }
}

/* MASKMOVQ/MASKMOVDQU check the whole 8/16-byte destination as a write
 * before storing, whatever the mask (as the AMD hardware does, see
 * tests/difftest): a mask of zeros still faults on an unmapped page, CR2 is
 * rDI (or the start of the second page), nothing is stored, and MASKMOVQ
 * has already made its x87-to-MMX transition. */
static void maskmov_faults(void)
{
    if (!have_emu)
        SKIP("emu engine not built");
    static const struct {
        uint8_t code[5];
        unsigned len;
        uint64_t rdi, cr2;
        bool mmx;
    } c[] = {
        {{0x0f, 0xf7, 0xc2}, 3, EMU_H_RAM, EMU_H_RAM, true},            /* mask 0 */
        {{0x0f, 0xf7, 0xc1}, 3, EMU_H_RAM - 4, EMU_H_RAM, true},        /* bytes 1-2 mapped */
        {{0x66, 0x0f, 0xf7, 0xc2}, 4, EMU_H_RAM, EMU_H_RAM, false},
        {{0x66, 0x0f, 0xf7, 0xc1}, 4, EMU_H_RAM - 8, EMU_H_RAM, false},
    };
    static const uint64_t data = 0x1122334455667788ull, mask = 0xffff00;
    struct x86_cpu_state s;
    uint8_t *end = h.ram + EMU_H_RAM - 8;
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        uint8_t buf[8];
        memset(end, 0x5a, 8);
        emu_h_state64(&h, &s, true);
        s.fpu.fcw = 0x37f;
        s.fpu.mxcsr = 0x1f80;
        s.fpu.fsw = 5u << 11;
        s.fpu.ftw = 0;
        s.gpr[X86_RDI] = c[i].rdi;
        memcpy(s.fpu.st[0], &data, 8);
        memcpy(s.fpu.st[1], &mask, 8);
        memcpy(s.fpu.xmm[0], &data, 8);
        memcpy(s.fpu.xmm[1], &mask, 8);
        memcpy(buf, c[i].code, c[i].len);
        buf[c[i].len] = 0x0f;
        buf[c[i].len + 1] = 0x0b;
        int r = emu_h_run(&h, buf, c[i].len + 2, &s);
        CHECK_EQ(r == VM_EXIT_HLT ? emu_h_vector(&s) : -100 - r, 14);
        CHECK_EQ(s.cr2, c[i].cr2);
        for (unsigned k = 0; k < 8; k++)
            CHECK_EQ(end[k], 0x5a);
        CHECK_EQ((s.fpu.fsw >> 11) & 7, c[i].mmx ? 0u : 5u);
        CHECK_EQ(s.fpu.ftw, c[i].mmx ? 0xff : 0);
    }
}

/* The MMX view of the x87 registers: TOP = 0, all tags valid, the written
 * register's exponent all ones; EMMS empties the tags. 32-bit code too. */
static void mmx_state_and_compat(void)
{
    if (!have_emu)
        SKIP("emu engine not built");
    static const uint8_t code[] = {
        0x0f, 0x6e, 0xc8,             /* movd mm1, eax */
        0x0f, 0xfe, 0xc9,             /* paddd mm1, mm1 */
        0x0f, 0x7e, 0xcb,             /* movd ebx, mm1 */
        0x66, 0x0f, 0x6e, 0xd0,       /* movd xmm2, eax */
        0x66, 0x0f, 0x70, 0xd2, 0x00, /* pshufd xmm2, xmm2, 0 */
        0xf3, 0x0f, 0x7f, 0x16,       /* movdqu [esi], xmm2 */
    };
    struct x86_cpu_state s;
    fresh(&s);
    emu_h_seg(&s.seg[X86_CS], EMU_H_CS32, 0xb, 0, 0, 1); /* compatibility mode */
    s.fpu.fsw = 5u << 11;
    s.fpu.ftw = 0;
    s.gpr[X86_RAX] = 0x12345678;
    s.gpr[X86_RSI] = EMU_H_DATA;
    CHECK_EQ(run_emu_code(code, sizeof(code), &s), -1);
    CHECK_EQ(s.gpr[X86_RBX], 0x2468acf0);
    CHECK_EQ((s.fpu.fsw >> 11) & 7, 0);
    CHECK_EQ(s.fpu.ftw, 0xff);
    uint64_t m;
    uint16_t se;
    memcpy(&m, s.fpu.st[1], 8);
    memcpy(&se, s.fpu.st[1] + 8, 2);
    CHECK_EQ(m, 0x2468acf0);
    CHECK_EQ(se, 0xffff);
    uint32_t d[4];
    memcpy(d, h.ram + EMU_H_DATA, 16);
    CHECK_EQ(d[0], 0x12345678);
    CHECK_EQ(d[3], 0x12345678);
    static const uint8_t emms[] = {0x0f, 0x77};
    s.rip = EMU_H_CODE;
    CHECK_EQ(run_emu_code(emms, sizeof(emms), &s), -1);
    CHECK_EQ(s.fpu.ftw, 0);
}

static const struct test_case tests[] = {
    TEST(random_instructions), TEST(control_registers), TEST(simd_exception), TEST(alignment),
    TEST(alignment_check), TEST(maskmov_faults), TEST(mmx_state_and_compat),
};

int main(int argc, char **argv)
{
    have_emu = emu_h_init(&h) == 0;
    if (argc > 2)
        rng_state = strtoull(argv[2], NULL, 0);
    int r = test_run_all_("emu/sse_insn", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
    if (have_emu)
        emu_h_destroy(&h);
    return r;
}
