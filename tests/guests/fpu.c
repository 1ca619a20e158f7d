/* fpu: x87 and SSE basics at CPL0 and at CPL3 (Intel SDM Vol. 1 chapters
 * 8, 10, 11; Vol. 3A 2.5, 6.15, 13), the same code at both levels
 * (fpu.S):
 *
 * - init: FNINIT's state (FCW 0x37f, FSW 0, all tags empty), MXCSR 0x1f80
 *   at power-on;
 * - x87: 1/3 in 80-bit extended precision (the bits of the significand and
 *   exponent, FSW.PE and C1) under each precision control (64, 53, 24 bits)
 *   and rounding control (nearest, down, up, toward zero, and -1/3 down);
 *   FISTP of +-2.5 and 3.5 under each rounding control; masked exceptions
 *   (1/0 = +inf with ZE, 0/0 and sqrt(-1) = the default NaN with IE, stack
 *   underflow and overflow with SF and C1, overflow to +inf through
 *   FSCALE); an unmasked zero divide reported as #MF (CR0.NE) at the next
 *   FWAIT, with FSW.ES and the FDIV's address in FIP;
 * - sse: masked 1/0, 0/0, sqrt(-1), 1/3 in single precision with their
 *   MXCSR flags; an unmasked one as #XM with CR4.OSXMMEXCPT and as #UD
 *   without;
 * - nm: CR0.TS makes x87, SSE and (with CR0.MP) FWAIT raise #NM; without MP
 *   FWAIT runs; CR0.EM makes x87 #NM and SSE #UD;
 * - fxsave: FXSAVE's layout (FCW, FSW.TOP, the abridged tag word, MXCSR, ST0,
 *   XMM registers), FXRSTOR of it after scrambling, a second FXSAVE equal to
 *   the first, the registers read back;
 * - mxcsr: DAZ (a denormal operand read as 0, when MXCSR_MASK has it) and
 *   FTZ (a tiny result flushed to 0), against the same without them.
 *
 * Under KVM's PVM hypervisor (docs/kvm.md) CPL0 is KVM's instruction
 * emulator, which has no x87 arithmetic, SSE arithmetic or MXCSR loads
 * (emulation failure): at CPL0 only what it has runs there (FNINIT, FNSTCW,
 * FNSTSW, #NM from FNINIT); CPL3 runs on the host CPU, where the guest's
 * CR0.TS does not apply (no #NM). */
#include "lib/check.h"

const char guest_name[] = "fpu";

void fpu_init_state(void *o);
void fpu_third(void *o, uint64_t fcw, uint64_t negative);
void fpu_fist(void *o, uint64_t fcw, const uint64_t *v);
void fpu_masked(void *o);
void fpu_mf(void *o);
void fpu_sse_masked(void *o);
void fpu_xm(void *o);
void fpu_nm(void *o);
void fpu_fxsave(void *o);
void fpu_daz_ftz(void *o);
void fpu_init_basic(void *o);
void fpu_fxsave_basic(void *o);

#define CR0_TS (1ul << 3)
/* The FSW bits an instruction defines: not C0, C2 (C3 is bit 14, left
 * out too); TOP included. */
#define FSW_DEF 0x3aff

struct f80 {
    uint64_t mant;
    uint16_t se;
} __attribute__((packed));

static const struct {
    const char *name;
    uint16_t fcw;
    int neg;
    uint64_t mant;
    uint16_t fsw;
} thirds[] = {
    {"x87/third-extended-nearest", 0x37f, 0, 0xaaaaaaaaaaaaaaabul, 0x3a20},
    {"x87/third-double-precision", 0x27f, 0, 0xaaaaaaaaaaaaa800ul, 0x3820},
    {"x87/third-single-precision", 0x07f, 0, 0xaaaaab0000000000ul, 0x3a20},
    {"x87/third-round-down", 0x77f, 0, 0xaaaaaaaaaaaaaaaaul, 0x3820},
    {"x87/third-round-up", 0xb7f, 0, 0xaaaaaaaaaaaaaaabul, 0x3a20},
    {"x87/third-round-toward-zero", 0xf7f, 0, 0xaaaaaaaaaaaaaaaaul, 0x3820},
    {"x87/minus-third-round-down", 0x77f, 1, 0xaaaaaaaaaaaaaaabul, 0x3820},
    {"x87/minus-third-round-up", 0xb7f, 1, 0xaaaaaaaaaaaaaaaaul, 0x3820},
};
#define NTHIRDS (sizeof(thirds) / sizeof(thirds[0]))

/* FISTP: values (as doubles) x rounding controls */
static const uint64_t fist_in[3] = {0x4004000000000000ul /* 2.5 */,
                                    0xc004000000000000ul /* -2.5 */,
                                    0x400c000000000000ul /* 3.5 */};
static const uint16_t fist_fcw[4] = {0x37f, 0x77f, 0xb7f, 0xf7f};
static const int32_t fist_want[3][4] = {{2, 2, 3, 2}, {-2, -3, -2, -2}, {4, 3, 4, 3}};
static const char *const rc_name[4] = {"nearest", "down", "up", "toward-zero"};

struct fr {
    uint8_t fx[1088] __attribute__((aligned(16)));
    uint8_t fxb[528] __attribute__((aligned(16)));
    uint8_t basic[8];
    uint8_t init[40];
    uint8_t third[NTHIRDS][24];
    int32_t fist[3][4][2];
    uint8_t masked[80];
    uint64_t mf[8];
    uint32_t sse[12];
    uint64_t xm[6];
    uint64_t nm[8];
    uint32_t daz[12];
};
static struct fr res[2] __attribute__((aligned(16)));

enum { T_INIT = 1, T_X87 = 2, T_SSE = 4, T_FXSAVE = 8, T_MXCSR = 16, T_BASIC = 32 };

static unsigned tests_for(int cpl)
{
    unsigned t = T_INIT | T_X87 | T_SSE | T_FXSAVE | T_MXCSR | T_BASIC;
    if (cpl == 0 && pvm())
        t = T_BASIC;
    return t;
}

/* Runs the tests at the current CPL (arg: the level, for the list). */
static uint64_t run(uint64_t cpl)
{
    struct fr *r = &res[cpl ? 1 : 0];
    unsigned t = tests_for((int)cpl);
    if (t & T_BASIC) {
        fpu_init_basic(r->basic);
        fpu_fxsave_basic(r->fxb);
    }
    if (t & T_INIT)
        fpu_init_state(r->init);
    if (t & T_X87) {
        for (unsigned i = 0; i < NTHIRDS; i++)
            fpu_third(r->third[i], thirds[i].fcw, (uint64_t)thirds[i].neg);
        for (unsigned v = 0; v < 3; v++)
            for (unsigned c = 0; c < 4; c++)
                fpu_fist(r->fist[v][c], fist_fcw[c], &fist_in[v]);
        fpu_masked(r->masked);
        fpu_mf(r->mf);
    }
    if (t & T_SSE) {
        fpu_sse_masked(r->sse);
        fpu_xm(r->xm);
    }
    if (t & T_FXSAVE)
        fpu_fxsave(r->fx);
    if (t & T_MXCSR)
        fpu_daz_ftz(r->daz);
    return 0;
}

static void name_at(char *n, size_t len, const char *base, int cpl)
{
    snprintf(n, len, "%s-cpl%d", base, cpl);
}

static void check80(const char *name, const uint8_t *p, uint16_t se, uint64_t mant,
                    uint16_t fsw_got, uint16_t fsw_mask, uint16_t fsw)
{
    const struct f80 *v = (const struct f80 *)p;
    if (v->mant == mant && v->se == se && (fsw & 0x200) && (fsw_got & fsw_mask) == (fsw & ~0x200) &&
        check_tcgbug(1, name, "no C1 for a result rounded up"))
        return;
    check(v->mant == mant && v->se == se && (fsw_got & fsw_mask) == fsw, name,
          "0x%04x:%016lx FSW 0x%04x, expected 0x%04x:%016lx FSW 0x%04x (mask 0x%x)", v->se,
          v->mant, fsw_got, se, mant, fsw, fsw_mask);
}

static void check_results(int cpl)
{
    struct fr *r = &res[cpl ? 1 : 0];
    unsigned t = tests_for(cpl);
    char n[96];

    if (t & T_BASIC) {
        uint16_t fcw = *(uint16_t *)r->basic, fsw = *(uint16_t *)(r->basic + 2);
        name_at(n, sizeof(n), "init/fninit-fnstcw-fnstsw", cpl);
        check(fcw == 0x37f && fsw == 0, n, "FCW 0x%x FSW 0x%x", fcw, fsw);
        name_at(n, sizeof(n), "fxsave/after-fninit", cpl);
        check(*(uint16_t *)(r->fxb + 514) == 0x37f && *(uint16_t *)(r->fxb + 2) == 0 &&
                  r->fxb[4] == 0,
              n, "FCW 0x%x FSW 0x%x abridged tags 0x%x", *(uint16_t *)(r->fxb + 514),
              *(uint16_t *)(r->fxb + 2), r->fxb[4]);
        name_at(n, sizeof(n), "fxsave/fxrstor-loads-fcw", cpl);
        check_eq(n, *(uint16_t *)(r->fxb + 512), 0x27f);
    }
    if (t & T_INIT) {
        uint16_t fcw = *(uint16_t *)r->init, fsw = *(uint16_t *)(r->init + 2),
                 ftw = *(uint16_t *)(r->init + 16);
        name_at(n, sizeof(n), "init/fninit-fcw-fsw", cpl);
        check(fcw == 0x37f && fsw == 0, n, "FCW 0x%x FSW 0x%x", fcw, fsw);
        name_at(n, sizeof(n), "init/fninit-tags-empty", cpl);
        check(ftw == 0xffff, n, "tag word 0x%x", ftw);
    }
    if (t & T_X87) {
        const uint8_t *m = r->masked;
        for (unsigned i = 0; i < NTHIRDS; i++) {
            name_at(n, sizeof(n), thirds[i].name, cpl);
            /* C1 (round-up) only for positive results, where its meaning is plain */
            check80(n, r->third[i], (uint16_t)(0x3ffd | (thirds[i].neg ? 0x8000 : 0)),
                    thirds[i].mant, *(uint16_t *)(r->third[i] + 10),
                    thirds[i].neg ? FSW_DEF & ~0x200 : FSW_DEF, thirds[i].fsw);
        }
        for (unsigned v = 0; v < 3; v++)
            for (unsigned c = 0; c < 4; c++) {
                char b[64];
                snprintf(b, sizeof(b), "x87/fistp-%s%s-%s", v == 1 ? "minus-" : "",
                         v == 2 ? "3.5" : "2.5", rc_name[c]);
                name_at(n, sizeof(n), b, cpl);
                check(r->fist[v][c][0] == fist_want[v][c], n, "%d, expected %d",
                      r->fist[v][c][0], fist_want[v][c]);
            }
        name_at(n, sizeof(n), "x87/masked-one-over-zero-inf-ze", cpl);
        check80(n, m, 0x7fff, 0x8000000000000000ul, *(uint16_t *)(m + 10), FSW_DEF, 0x3804);
        name_at(n, sizeof(n), "x87/masked-zero-over-zero-nan-ie", cpl);
        check80(n, m + 16, 0xffff, 0xc000000000000000ul, *(uint16_t *)(m + 26), FSW_DEF, 0x3801);
        name_at(n, sizeof(n), "x87/masked-sqrt-minus-one-nan-ie", cpl);
        check80(n, m + 32, 0xffff, 0xc000000000000000ul, *(uint16_t *)(m + 42), FSW_DEF, 0x3801);
        name_at(n, sizeof(n), "x87/stack-underflow-ie-sf", cpl);
        if (!check_tcgbug(*(uint16_t *)(m + 48) == 0, n, "no x87 stack underflow"))
            check_eq(n, *(uint16_t *)(m + 48) & FSW_DEF, 0x0041);
        name_at(n, sizeof(n), "x87/stack-overflow-ie-sf-c1", cpl);
        if (!check_tcgbug(*(uint16_t *)(m + 50) == 0x3800, n, "no x87 stack overflow"))
            check_eq(n, *(uint16_t *)(m + 50) & FSW_DEF, 0x3a41);
        name_at(n, sizeof(n), "x87/masked-overflow-fscale-inf-oe-pe", cpl);
        check80(n, m + 56, 0x7fff, 0x8000000000000000ul, *(uint16_t *)(m + 66), FSW_DEF, 0x3228);
        name_at(n, sizeof(n), "x87/unmasked-zero-divide-fsw-es", cpl);
        check((r->mf[0] & 0x8085) == 0x8084, n, "FSW 0x%lx before the FWAIT", r->mf[0] & 0xffff);
        name_at(n, sizeof(n), "x87/unmasked-zero-divide-mf-at-fwait", cpl);
        check(r->mf[6] == 1 && r->mf[1] == 16 && r->mf[2] == r->mf[3], n,
              "%lu exceptions, vector %lu at 0x%lx (the FWAIT is at 0x%lx)", r->mf[6], r->mf[1],
              r->mf[2], r->mf[3]);
        name_at(n, sizeof(n), "x87/unmasked-zero-divide-fip", cpl);
        if (!check_tcgbug(r->mf[4] == 0, n, "FXSAVE stores no FIP"))
            check_eq(n, r->mf[4], r->mf[5]);
    }
    if (t & T_SSE) {
        const uint32_t *s = r->sse;
        name_at(n, sizeof(n), "sse/masked-one-over-zero-inf-ze", cpl);
        check(s[0] == 0x7f800000 && (s[4] & 0x3f) == 0x04, n, "0x%x MXCSR 0x%x", s[0], s[4]);
        name_at(n, sizeof(n), "sse/masked-zero-over-zero-nan-ie", cpl);
        check(s[1] == 0xffc00000 && (s[5] & 0x3f) == 0x01, n, "0x%x MXCSR 0x%x", s[1], s[5]);
        name_at(n, sizeof(n), "sse/masked-sqrt-minus-one-nan-ie", cpl);
        check(s[2] == 0xffc00000 && (s[6] & 0x3f) == 0x01, n, "0x%x MXCSR 0x%x", s[2], s[6]);
        name_at(n, sizeof(n), "sse/third-nearest-pe", cpl);
        check(s[3] == 0x3eaaaaab && (s[7] & 0x3f) == 0x20, n, "0x%x MXCSR 0x%x", s[3], s[7]);
        name_at(n, sizeof(n), "sse/unmasked-zero-divide-xm", cpl);
        if (!check_tcgbug(r->xm[0] == 0, n, "no SIMD floating-point exceptions (#XM)"))
        check(r->xm[0] == 1 && r->xm[1] == 19 && r->xm[2] == r->xm[3] && (r->xm[4] & 4), n,
              "%lu exceptions, vector %lu at 0x%lx (DIVSS at 0x%lx), MXCSR 0x%lx", r->xm[0],
              r->xm[1], r->xm[2], r->xm[3], r->xm[4]);
    }
    if (t & T_FXSAVE) {
        const uint8_t *a = r->fx, *b = r->fx + 512;
        uint16_t fcw = *(const uint16_t *)a, fsw = *(const uint16_t *)(a + 2);
        uint32_t mxcsr = *(const uint32_t *)(a + 24);
        const struct f80 *st0 = (const struct f80 *)(a + 32);
        const struct f80 *back = (const struct f80 *)(a + 1024);
        name_at(n, sizeof(n), "fxsave/fcw-fsw-top", cpl);
        check(fcw == 0x27f && ((fsw >> 11) & 7) == 5, n, "FCW 0x%x FSW 0x%x (TOP 5 expected)",
              fcw, fsw);
        name_at(n, sizeof(n), "fxsave/abridged-tag-word", cpl);
        check_eq(n, a[4], 0xe0);
        name_at(n, sizeof(n), "fxsave/mxcsr", cpl);
        check_eq(n, mxcsr, 0x7f80);
        name_at(n, sizeof(n), "fxsave/st0-is-log2e", cpl);
        /* FLDL2E: log2(e) to 64 bits, rounded to nearest (PC does not apply) */
        check(st0->se == 0x3fff && st0->mant == 0xb8aa3b295c17f0bcul, n, "0x%04x:%016lx",
              st0->se, st0->mant);
        name_at(n, sizeof(n), "fxsave/xmm-registers", cpl);
        {
            int ok = 1;
            for (unsigned i = 0; i < 16; i++) {
                const uint64_t *x = (const uint64_t *)(a + 160 + 16 * i);
                static const uint64_t v0[8] = {0x0011223344556677ul, 0x0102030405060708ul,
                                               0x2122232425262728ul, 0x4142434445464748ul,
                                               0x6162636465666768ul, 0x8182838485868788ul,
                                               0xa1a2a3a4a5a6a7a8ul, 0xc1c2c3c4c5c6c7c8ul};
                if (x[0] != v0[i % 8])
                    ok = 0;
            }
            check(ok, n, "an XMM register image differs");
        }
        name_at(n, sizeof(n), "fxsave/fxrstor-then-fxsave-equal", cpl);
        check(memcmp(a, b, 6) == 0 && memcmp(a + 24, b + 24, 416 - 24) == 0, n,
              "the second image differs");
        name_at(n, sizeof(n), "fxsave/fxrstor-restores-st0-xmm7", cpl);
        check(memcmp(back, st0, 10) == 0 &&
                  *(const uint64_t *)(a + 1040) == 0xc1c2c3c4c5c6c7c8ul,
              n, "ST0 0x%04x:%016lx XMM7 0x%lx", back->se, back->mant,
              *(const uint64_t *)(a + 1040));
    }
    if (t & T_MXCSR) {
        const uint32_t *d = r->daz;
        uint32_t mask = *(const uint32_t *)(r->fx + 28);
        if (!mask)
            mask = 0xffbf; /* FXSAVE stores 0 for the default mask */
        name_at(n, sizeof(n), "mxcsr/denormal-without-daz", cpl);
        if (!check_tcgbug(d[1] == 1 && !(d[5] & 2), n, "no MXCSR.DE for a denormal operand"))
        check(d[1] == 1 && (d[5] & 2), n, "0x%x MXCSR 0x%x (expected 0x1 with DE)", d[1], d[5]);
        name_at(n, sizeof(n), "mxcsr/daz-reads-denormal-as-zero", cpl);
        if (mask & 0x40)
            check(d[0] == 0, n, "0x%x MXCSR 0x%x", d[0], d[4]);
        else
            check_skip(n, "MXCSR_MASK 0x%x has no DAZ", mask);
        name_at(n, sizeof(n), "mxcsr/tiny-result-denormal-without-ftz", cpl);
        check(d[3] != 0 && (d[3] & 0x7f800000) == 0 && (d[7] & 0x30) == 0x30, n,
              "0x%x MXCSR 0x%x (expected a denormal with UE, PE)", d[3], d[7]);
        name_at(n, sizeof(n), "mxcsr/ftz-flushes-tiny-result", cpl);
        check(d[2] == 0 && (d[6] & 0x30) == 0x30, n, "0x%x MXCSR 0x%x", d[2], d[6]);
    }
    if (tests_for(cpl) != tests_for(3)) {
        name_at(n, sizeof(n), "x87-sse-arithmetic", cpl);
        check_skip(n, "KVM's instruction emulator (CPL0 under " PVM_REASON
                      ") has no x87/SSE arithmetic or MXCSR loads");
    }
}

/* CR0.TS / CR0.EM: #NM (and #UD for SSE with EM). */
static uint64_t run_nm(uint64_t arg)
{
    fpu_nm((void *)arg);
    return 0;
}

static void nm_checks(int cpl, uint64_t cr0_bits, const char *what, const int64_t want[4])
{
    static uint64_t o[8] __attribute__((aligned(16)));
    uint64_t cr0 = read_cr0();
    static const char *const insn[4] = {"fld1", "movaps", "fwait", "fninit"};
    char n[96], b[64];
    if (cpl == 0 && pvm()) {
        /* The emulator has FNINIT only. */
        memset(o, 0, sizeof(o));
        __asm__ volatile("mov %0, %%cr0" : : "r"((cr0 & ~CR0_MP) | cr0_bits) : "memory");
        {
            uint64_t c = last_fault.count;
            __asm__ volatile(FAULT_BEGIN "fninit" FAULT_END ::: "r11", "memory");
            o[6] = last_fault.count - c;
            o[7] = o[6] ? last_fault.vector : (uint64_t)-1;
        }
        __asm__ volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
        snprintf(b, sizeof(b), "nm/%s-fninit", what);
        name_at(n, sizeof(n), b, cpl);
        check(o[6] == (want[3] >= 0) && (int64_t)o[7] == want[3], n,
              "%lu exceptions, vector %ld (expected %ld)", o[6], (int64_t)o[7], want[3]);
        return;
    }
    memset(o, 0, sizeof(o));
    __asm__ volatile("mov %0, %%cr0" : : "r"((cr0 & ~CR0_MP) | cr0_bits) : "memory");
    if (cpl)
        user_run(run_nm, (uintptr_t)o, 0);
    else
        fpu_nm(o);
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
    for (unsigned i = 0; i < 4; i++) {
        snprintf(b, sizeof(b), "nm/%s-%s", what, insn[i]);
        name_at(n, sizeof(n), b, cpl);
        if (cpl && pvm() && o[2 * i] == 0 && want[i] >= 0) {
            check_skip(n, "no exception: CPL3 runs on the host CPU, where the guest's CR0 "
                          "does not apply, under " PVM_REASON);
            continue;
        }
        check(o[2 * i] == (want[i] >= 0) && (int64_t)o[2 * i + 1] == want[i], n,
              "%lu exceptions, vector %ld (expected %ld)", o[2 * i], (int64_t)o[2 * i + 1],
              want[i]);
    }
}

static uint64_t run_xm(uint64_t arg)
{
    fpu_xm((void *)arg);
    return 0;
}

static void xm_ud_checks(int cpl)
{
    static uint64_t o[6];
    uint64_t cr4 = read_cr4();
    char n[64];
    name_at(n, sizeof(n), "sse/unmasked-without-osxmmexcpt-ud", cpl);
    if (pvm()) {
        check_skip(n, cpl ? "CPL3 runs on the host CPU, where the guest's CR4 does not apply, "
                            "under " PVM_REASON
                          : "KVM's instruction emulator has no SSE arithmetic (CPL0 under "
                            PVM_REASON ")");
        return;
    }
    memset(o, 0, sizeof(o));
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 & ~CR4_OSXMMEXCPT) : "memory");
    if (cpl)
        user_run(run_xm, (uintptr_t)o, 0);
    else
        fpu_xm(o);
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
    if (!check_tcgbug(o[0] == 0, n, "no SIMD floating-point exceptions (#XM or #UD)"))
        check(o[0] == 1 && o[1] == 6 && o[2] == o[3], n, "%lu exceptions, vector %lu at 0x%lx",
              o[0], o[1], o[2]);
}

void guest_main(void)
{
    uint32_t mxcsr;
    static const int64_t ts_mp[4] = {7, 7, 7, 7}, ts[4] = {7, 7, -1, 7},
                         em[4] = {7, 6, -1, 7};

    (void)pvm();
    if (check_group("init")) {
        /* Nothing has loaded MXCSR since reset. */
        if (pvm()) {
            check_skip("init/mxcsr-reset-value-cpl0", "KVM's instruction emulator has no "
                                                      "STMXCSR (CPL0 under " PVM_REASON ")");
        } else {
            __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
            check_eq("init/mxcsr-reset-value-cpl0", mxcsr, 0x1f80);
        }
    }
    if (check_group("cpl0")) {
        run(0);
        check_results(0);
    }
    if (check_group("cpl3")) {
        user_run(run, 3, 0);
        check_results(3);
    }
    if (check_group("nm")) {
        for (int cpl = 0; cpl <= 3; cpl += 3) {
            nm_checks(cpl, CR0_TS | CR0_MP, "ts-mp", ts_mp);
            nm_checks(cpl, CR0_TS, "ts-no-mp", ts);
            nm_checks(cpl, CR0_EM | CR0_MP, "em", em);
            xm_ud_checks(cpl);
        }
    }
    check_finish();
}
