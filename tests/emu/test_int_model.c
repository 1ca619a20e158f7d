/* emu integer instructions against reference models written straight from
 * the SDM's definitions: the eight ALU operations at every operand size
 * over boundary values (CF/OF as "the unsigned/signed result does not
 * fit", AF as the carry or borrow out of bit 3), the shifts and rotates at
 * every count as the SDM's bit-at-a-time pseudo-code, and MUL/IMUL/DIV/
 * IDIV with wide arithmetic. Each case runs real instruction bytes. */
#include "test_int.h"

typedef unsigned __int128 u128;
typedef __int128 s128;

static const unsigned sizes[4] = {1, 2, 4, 8};

static uint64_t mask_of(unsigned size)
{
    return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static int64_t sx(uint64_t v, unsigned size)
{
    unsigned sh = 64 - 8 * size;
    return (int64_t)(v << sh) >> sh;
}

static uint64_t szp(uint64_t r, unsigned size)
{
    uint64_t f = 0;
    r &= mask_of(size);
    if (r == 0)
        f |= F_ZF;
    if ((r >> (8 * size - 1)) & 1)
        f |= F_SF;
    if (!__builtin_parity((unsigned)(r & 0xff)))
        f |= F_PF;
    return f;
}

/* Emits [66|48] op ModRM(11, reg=rbx, rm=rax) for a size. */
static size_t emit_rr(uint8_t *b, unsigned size, uint8_t op8, uint8_t modrm)
{
    size_t n = 0;
    if (size == 2)
        b[n++] = 0x66;
    if (size == 8)
        b[n++] = 0x48;
    b[n++] = size == 1 ? op8 : (uint8_t)(op8 + 1);
    b[n++] = modrm;
    return n;
}

/* The ALU reference: op (0-7 as in the opcode), a op b with carry in c. */
static uint64_t alu_model(unsigned op, unsigned size, uint64_t a, uint64_t b, unsigned c,
                          uint64_t *f)
{
    uint64_t m = mask_of(size);
    s128 sa = sx(a, size), sb = sx(b, size), smin = sx(1ull << (8 * size - 1), size),
         smax = (s128)(m >> 1);
    u128 ua = a, ub = b, ur;
    s128 sr;
    uint64_t r;
    unsigned af;

    switch (op) {
    case 0: case 2: /* ADD, ADC */
        if (op == 0)
            c = 0;
        ur = ua + ub + c;
        sr = sa + sb + c;
        r = (uint64_t)ur & m;
        af = ((a & 0xf) + (b & 0xf) + c) > 0xf;
        *f = szp(r, size) | (ur > m ? F_CF : 0) | (sr > smax || sr < smin ? F_OF : 0) |
             (af ? F_AF : 0);
        return r;
    case 3: case 5: case 7: /* SBB, SUB, CMP */
        if (op != 3)
            c = 0;
        sr = sa - sb - c;
        r = (a - b - c) & m;
        af = (a & 0xf) < (b & 0xf) + c;
        *f = szp(r, size) | (ua < ub + c ? F_CF : 0) | (sr > smax || sr < smin ? F_OF : 0) |
             (af ? F_AF : 0);
        return op == 7 ? a : r;
    default: /* OR, AND, XOR: CF = OF = 0; AF undefined (masked by the caller) */
        r = op == 1 ? a | b : op == 4 ? a & b : a ^ b;
        *f = szp(r, size);
        return r;
    }
}

static void alu_sweep(void)
{
    NEED_EMU();
    static const uint64_t vals[] = {0, 1, 2, 0x0f, 0x10, 0x7f, 0x80, 0xff, 0x7fff, 0x8000,
                                    0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
                                    0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull,
                                    0x0123456789abcdefull};
    const unsigned nv = sizeof(vals) / sizeof(vals[0]);
    unsigned bad = 0, cases = 0;
    for (unsigned si = 0; si < 4; si++) {
        unsigned size = sizes[si];
        uint64_t m = mask_of(size);
        for (unsigned op = 0; op < 8; op++) {
            for (unsigned c = 0; c < 2; c++) {
                for (unsigned i = 0; i < nv; i++) {
                    for (unsigned j = 0; j < nv; j++) {
                        uint8_t code[8];
                        /* op r/m, reg with r/m = rAX and reg = rBX */
                        size_t n = emit_rr(code, size, (uint8_t)(op << 3), 0xd8);
                        uint64_t a = vals[i] & m, b = vals[j] & m, f;
                        uint64_t want = alu_model(op, size, a, b, c, &f);
                        uint64_t fm = (op == 1 || op == 4 || op == 6) ? F_ARITH & ~F_AF : F_ARITH;
                        t_begin(false);
                        st.gpr[X86_RAX] = (0x5a5a5a5a5a5a5a5aull & ~m) | a;
                        st.gpr[X86_RBX] = b;
                        st.rflags = 2 | (c ? F_CF : 0);
                        /* 32-bit results zero-extend; CMP writes nothing. */
                        uint64_t upper = size == 4 && op != 7 ? 0 : st.gpr[X86_RAX] & ~m;
                        cases++;
                        if (t_run((const char *)code, n) != -1 ||
                            st.gpr[X86_RAX] != (upper | want) || (st.rflags & fm) != (f & fm)) {
                            if (bad++ < 10)
                                printf("  alu op %u size %u a %llx b %llx cf %u: rax %llx "
                                       "(want %llx) flags %llx (want %llx)\n",
                                       op, size, (unsigned long long)a, (unsigned long long)b, c,
                                       (unsigned long long)st.gpr[X86_RAX],
                                       (unsigned long long)(upper | want),
                                       (unsigned long long)(st.rflags & fm),
                                       (unsigned long long)(f & fm));
                        }
                    }
                }
            }
        }
    }
    CHECK_EQ(bad, 0);
    CHECK(cases == 4 * 8 * 2 * nv * nv);
}

/* The SDM's SAL/SAR/SHL/SHR and RCL/RCR/ROL/ROR pseudo-code, one bit at a
 * time. Returns false when the instruction leaves everything unchanged
 * (count 0). *fmask gets the flags that are defined for this case. */
static bool shift_model(unsigned op, unsigned size, uint64_t v, unsigned count, unsigned cf_in,
                        uint64_t *res, uint64_t *f, uint64_t *fmask)
{
    unsigned nbits = 8 * size;
    uint64_t m = mask_of(size), msb = 1ull << (nbits - 1);
    unsigned cnt = count & (size == 8 ? 0x3f : 0x1f);
    uint64_t d = v & m;
    unsigned cf = cf_in, of = 0;

    if (cnt == 0)
        return false;
    switch (op) {
    case 0: { /* ROL */
        unsigned t = cnt % nbits;
        while (t--) {
            unsigned top = (d & msb) != 0;
            d = ((d << 1) | top) & m;
        }
        cf = d & 1;
        of = ((d & msb) != 0) ^ cf;
        *fmask = F_CF | (cnt == 1 ? F_OF : 0);
        break;
    }
    case 1: { /* ROR */
        unsigned t = cnt % nbits;
        while (t--) {
            unsigned low = d & 1;
            d = (d >> 1) | (low ? msb : 0);
        }
        cf = (d & msb) != 0;
        of = ((d & msb) != 0) ^ ((d & (msb >> 1)) != 0);
        *fmask = F_CF | (cnt == 1 ? F_OF : 0);
        break;
    }
    case 2: { /* RCL */
        unsigned t = size == 1 ? cnt % 9 : size == 2 ? cnt % 17 : cnt;
        while (t--) {
            unsigned top = (d & msb) != 0;
            d = ((d << 1) | cf) & m;
            cf = top;
        }
        of = ((d & msb) != 0) ^ cf;
        *fmask = F_CF | (cnt == 1 ? F_OF : 0);
        break;
    }
    case 3: { /* RCR: OF from the operand before the rotation */
        unsigned t = size == 1 ? cnt % 9 : size == 2 ? cnt % 17 : cnt;
        of = ((d & msb) != 0) ^ cf;
        while (t--) {
            unsigned low = d & 1;
            d = (d >> 1) | (cf ? msb : 0);
            cf = low;
        }
        *fmask = F_CF | (cnt == 1 ? F_OF : 0);
        break;
    }
    case 4: case 6: /* SHL/SAL */
        for (unsigned t = cnt; t; t--) {
            cf = (d & msb) != 0;
            d = (d << 1) & m;
        }
        of = ((d & msb) != 0) ^ cf;
        *fmask = F_PF | F_ZF | F_SF | (cnt < nbits ? F_CF : 0) | (cnt == 1 ? F_OF : 0);
        break;
    case 5: /* SHR */
        of = (d & msb) != 0;
        for (unsigned t = cnt; t; t--) {
            cf = d & 1;
            d >>= 1;
        }
        *fmask = F_PF | F_ZF | F_SF | (cnt < nbits ? F_CF : 0) | (cnt == 1 ? F_OF : 0);
        break;
    default: /* SAR */
        for (unsigned t = cnt; t; t--) {
            cf = d & 1;
            d = (d >> 1) | (d & msb);
        }
        of = 0;
        *fmask = F_PF | F_ZF | F_SF | F_CF | (cnt == 1 ? F_OF : 0);
        break;
    }
    *res = d;
    *f = (op >= 4 ? szp(d, size) : 0) | (cf ? F_CF : 0) | (of ? F_OF : 0);
    return true;
}

static void shift_sweep(void)
{
    NEED_EMU();
    static const uint64_t vals[] = {0, 1, 0x80, 0x81, 0x8001, 0x80000001, 0x8000000000000001ull,
                                    0x0123456789abcdefull, 0xfedcba9876543210ull, ~0ull};
    const unsigned nv = sizeof(vals) / sizeof(vals[0]);
    unsigned bad = 0, cases = 0;
    for (unsigned si = 0; si < 4; si++) {
        unsigned size = sizes[si];
        uint64_t m = mask_of(size);
        for (unsigned op = 0; op < 8; op++) {
            for (unsigned count = 0; count <= 66; count++) {
                for (unsigned i = 0; i < nv; i++) {
                    for (unsigned c = 0; c < 2; c++) {
                        uint8_t code[8];
                        /* D2/D3 /op with CL */
                        size_t n = emit_rr(code, size, 0xd2, (uint8_t)(0xc0 | (op << 3)));
                        uint64_t a = vals[i] & m, r, f, fm;
                        uint64_t f0 = (c ? F_CF : 0) | F_ZF | F_AF;
                        bool changes = shift_model(op, size, a, count, c, &r, &f, &fm);
                        t_begin(false);
                        st.gpr[X86_RAX] = a | (size < 4 ? 0x3c3c3c3c3c3c3c3cull & ~m : 0);
                        st.gpr[X86_RCX] = count;
                        st.rflags = 2 | f0;
                        uint64_t upper = size < 4 ? 0x3c3c3c3c3c3c3c3cull & ~m : 0;
                        if (!changes) {
                            r = a;
                            f = f0;
                            fm = F_ARITH;
                        } else if (op < 4) {
                            /* Rotates leave SF, ZF, AF and PF alone. */
                            f |= f0 & (F_SF | F_ZF | F_AF | F_PF);
                            fm |= F_SF | F_ZF | F_AF | F_PF;
                        }
                        cases++;
                        if (t_run((const char *)code, n) != -1 || st.gpr[X86_RAX] != (upper | r) ||
                            (st.rflags & fm) != (f & fm)) {
                            if (bad++ < 10)
                                printf("  shift op %u size %u v %llx count %u cf %u: %llx (want "
                                       "%llx) flags %llx (want %llx)\n",
                                       op, size, (unsigned long long)a, count, c,
                                       (unsigned long long)st.gpr[X86_RAX],
                                       (unsigned long long)(upper | r),
                                       (unsigned long long)(st.rflags & fm),
                                       (unsigned long long)(f & fm));
                        }
                    }
                }
            }
        }
    }
    CHECK_EQ(bad, 0);
    CHECK(cases > 40000);
}

/* MUL, IMUL, DIV, IDIV (F6/F7 /4-/7 with r/m = rBX) against 128-bit math. */
static void muldiv_sweep(void)
{
    NEED_EMU();
    static const uint64_t vals[] = {0, 1, 2, 3, 7, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000,
                                    0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
                                    0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull,
                                    0x0123456789abcdefull};
    const unsigned nv = sizeof(vals) / sizeof(vals[0]);
    unsigned bad = 0;
    for (unsigned si = 0; si < 4; si++) {
        unsigned size = sizes[si], nbits = 8 * size;
        uint64_t m = mask_of(size);
        for (unsigned op = 4; op < 8; op++) {
            for (unsigned i = 0; i < nv; i++) {
                for (unsigned j = 0; j < nv; j++) {
                    for (unsigned k = 0; k < 3; k++) {
                        uint8_t code[8];
                        size_t n = emit_rr(code, size, 0xf6, (uint8_t)(0xc3 | (op << 3)));
                        uint64_t a = vals[i] & m, b = vals[j] & m;
                        /* The high half of the dividend (rDX, or AH). */
                        uint64_t hi = k == 0 ? 0 : k == 1 ? (m >> 1) & vals[(i + j) % nv] : m;
                        uint64_t lo_out = 0, hi_out = 0;
                        bool de = false, ovf = false;
                        u128 ua, ub = b;
                        s128 sa, sb = sx(b, size);
                        if (size == 1) {
                            a &= 0xff;
                            hi &= 0xff;
                        }
                        switch (op) {
                        case 4: {
                            u128 p = (u128)a * ub;
                            lo_out = (uint64_t)p & m;
                            hi_out = (uint64_t)(p >> nbits) & m;
                            ovf = hi_out != 0;
                            break;
                        }
                        case 5: {
                            s128 p = (s128)sx(a, size) * sb;
                            lo_out = (uint64_t)p & m;
                            hi_out = (uint64_t)((u128)p >> nbits) & m;
                            ovf = p != (s128)sx(lo_out, size);
                            break;
                        }
                        case 6:
                            ua = ((u128)hi << nbits) | a;
                            if (b == 0 || ua / ub > m) {
                                de = true;
                                break;
                            }
                            lo_out = (uint64_t)(ua / ub);
                            hi_out = (uint64_t)(ua % ub);
                            break;
                        default: {
                            /* The 2n-bit signed dividend hi:a. */
                            u128 raw = ((u128)hi << nbits) | a;
                            unsigned sh = 128 - 2 * nbits;
                            sa = (s128)(raw << sh) >> sh;
                            s128 lim = (s128)1 << (nbits - 1);
                            if (b == 0 || raw == (u128)1 << 127) {
                                de = true;
                                break;
                            }
                            s128 q = sa / sb, r = sa % sb;
                            if (q >= lim || q < -lim) {
                                de = true;
                                break;
                            }
                            lo_out = (uint64_t)q & m;
                            hi_out = (uint64_t)r & m;
                            break;
                        }
                        }
                        t_begin(false);
                        /* Bits outside the operands carry a pattern to check merging. */
                        uint64_t rax0, rdx0 = 0xabcd000000000000ull | hi;
                        if (size == 1) {
                            rax0 = 0x1234567800000000ull | (hi << 8) | a;
                            rdx0 = 0x9999;
                        } else if (size == 8) {
                            rax0 = a;
                            rdx0 = hi;
                        } else {
                            rax0 = 0x1234567800000000ull | a;
                        }
                        st.gpr[X86_RAX] = rax0;
                        st.gpr[X86_RDX] = rdx0;
                        st.gpr[X86_RBX] = b;
                        int v = t_run((const char *)code, n);
                        uint64_t want_rax, want_rdx;
                        if (de) {
                            want_rax = rax0;
                            want_rdx = rdx0;
                        } else if (size == 1) {
                            want_rax = (rax0 & ~0xffffull) | ((hi_out & 0xff) << 8) | lo_out;
                            want_rdx = rdx0;
                        } else if (size == 4) {
                            want_rax = lo_out;
                            want_rdx = hi_out;
                        } else {
                            want_rax = (rax0 & ~m) | lo_out;
                            want_rdx = (rdx0 & ~m) | hi_out;
                        }
                        bool ok = v == (de ? V_DE : -1) && st.gpr[X86_RAX] == want_rax &&
                                  st.gpr[X86_RDX] == want_rdx;
                        if (ok && op < 6)
                            ok = (st.rflags & (F_CF | F_OF)) == (ovf ? F_CF | F_OF : 0);
                        if (!ok && bad++ < 10)
                            printf("  muldiv /%u size %u a %llx hi %llx b %llx: exc %d rax %llx "
                                   "(want %llx) rdx %llx (want %llx)\n",
                                   op, size, (unsigned long long)a, (unsigned long long)hi,
                                   (unsigned long long)b, v, (unsigned long long)st.gpr[X86_RAX],
                                   (unsigned long long)want_rax, (unsigned long long)st.gpr[X86_RDX],
                                   (unsigned long long)want_rdx);
                    }
                }
            }
        }
    }
    CHECK_EQ(bad, 0);
}

static const struct test_case tests[] = {
    TEST(alu_sweep),
    TEST(shift_sweep),
    TEST(muldiv_sweep),
};

TEST_INT_MAIN("emu_int_model", tests)
