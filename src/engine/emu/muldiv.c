/* muldiv: group 3 (F6/F7: TEST, NOT, NEG, MUL, IMUL, DIV, IDIV) and the
 * two- and three-operand IMUL (0F AF, 69, 6B). Spec: Intel SDM Vol. 2A/2B,
 * the instruction pages of those names; #DE per Vol. 3A 6.15 (interrupt 0),
 * raised before any register changes.
 *
 * Undefined flags and what this engine does (the differential tester masks
 * them):
 *   MUL, IMUL  SF, ZF, AF, PF undefined: left unchanged, as the AMD EPYC
 *              that serves as this project's hardware oracle does
 *              (sandpile.org lists P4 computing SF/ZF/PF; P6 leaves them
 *              undefined).
 *   DIV, IDIV  all six undefined: left unchanged.
 * 64-bit products and quotients use the compiler's 128-bit integers (gcc,
 * clang and mingw-w64 all have them). */
#include "alu.h"
#include "handlers.h"

typedef unsigned __int128 muldiv_u128;
typedef __int128 muldiv_s128;

/* Flags after MUL/IMUL: CF = OF = the product did not fit; the other four
 * keep their values (see the top of the file). */
static void muldiv_mul_flags(struct emu_cpu *cpu, bool ovf)
{
    alu_flags_merge(cpu, EMU_CF | EMU_OF, ovf ? EMU_CF | EMU_OF : 0);
}

/* Writes the product or the quotient/remainder pair: AL/AH for bytes,
 * else rAX (low, quotient) and rDX (high, remainder). */
static void muldiv_store(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size, uint64_t lo,
                         uint64_t hi)
{
    if (size == 1) {
        emu_reg_set(cpu, in, X86_RAX, 2, ((hi & 0xff) << 8) | (lo & 0xff));
        return;
    }
    emu_reg_set(cpu, in, X86_RAX, size, lo);
    emu_reg_set(cpu, in, X86_RDX, size, hi);
}

/* The double-width dividend: AX, DX:AX, EDX:EAX or RDX:RAX (high part in *hi). */
static uint64_t muldiv_dividend(const struct emu_cpu *cpu, unsigned size, uint64_t *hi)
{
    uint64_t a = cpu->gpr[X86_RAX], d = cpu->gpr[X86_RDX];
    switch (size) {
    case 1: *hi = 0; return a & 0xffff;
    case 2: *hi = 0; return ((d & 0xffff) << 16) | (a & 0xffff);
    case 4: *hi = 0; return ((d & 0xffffffffu) << 32) | (a & 0xffffffffu);
    default: *hi = d; return a;
    }
}

static int muldiv_div(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size, uint64_t b)
{
    uint64_t hi, n = muldiv_dividend(cpu, size, &hi), q, r;
    if (b == 0)
        return emu_raise(cpu, EMU_DE);
    if (size < 8) {
        q = n / b;
        r = n % b;
        if (q > emu_mask(size))
            return emu_raise(cpu, EMU_DE);
    } else if (hi == 0) {
        q = n / b;
        r = n % b;
    } else {
        if (hi >= b) /* the quotient would not fit in 64 bits */
            return emu_raise(cpu, EMU_DE);
        muldiv_u128 nn = ((muldiv_u128)hi << 64) | n;
        q = (uint64_t)(nn / b);
        r = (uint64_t)(nn % b);
    }
    muldiv_store(cpu, in, size, q, r);
    return EMU_OK;
}

/* Signed division on magnitudes, so that no C operation overflows
 * (INT_MIN / -1 is a #DE here, never undefined behaviour). The quotient
 * truncates toward zero and the remainder has the dividend's sign. */
static int muldiv_idiv(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size, uint64_t b)
{
    unsigned nbits = size * 8;
    uint64_t hi, lo = muldiv_dividend(cpu, size, &hi);
    bool nneg, dneg = (b >> (nbits - 1)) & 1;
    muldiv_u128 nmag;
    uint64_t dmag, qmag, rmag;

    if (b == 0)
        return emu_raise(cpu, EMU_DE);
    if (size < 8) {
        /* The dividend has 2 * nbits bits, held in lo. */
        nneg = (lo >> (2 * nbits - 1)) & 1;
        nmag = nneg ? (0 - lo) & emu_mask(2 * size) : lo;
    } else {
        muldiv_u128 n = ((muldiv_u128)hi << 64) | lo;
        nneg = hi >> 63;
        nmag = nneg ? (muldiv_u128)0 - n : n;
    }
    dmag = dneg ? (0 - b) & emu_mask(size) : b;
    muldiv_u128 q128 = nmag / dmag;
    rmag = (uint64_t)(nmag % dmag);
    /* |quotient| <= 2^(n-1) - 1, or 2^(n-1) when it is negative. */
    muldiv_u128 lim = ((muldiv_u128)1 << (nbits - 1)) - ((nneg != dneg) ? 0 : 1);
    if (q128 > lim)
        return emu_raise(cpu, EMU_DE);
    qmag = (uint64_t)q128;
    uint64_t q = (nneg != dneg) ? 0 - qmag : qmag;
    uint64_t r = nneg ? 0 - rmag : rmag;
    muldiv_store(cpu, in, size, q & emu_mask(size), r & emu_mask(size));
    return EMU_OK;
}

/* Full product of the accumulator and b (MUL, or IMUL when sgn). */
static void muldiv_mul(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size, uint64_t b,
                       bool sgn)
{
    uint64_t a = cpu->gpr[X86_RAX] & emu_mask(size), lo, hi;
    unsigned nbits = size * 8;
    bool ovf;

    if (size == 8) {
        muldiv_u128 p = sgn ? (muldiv_u128)((muldiv_s128)(int64_t)a * (int64_t)b)
                            : (muldiv_u128)a * b;
        lo = (uint64_t)p;
        hi = (uint64_t)(p >> 64);
    } else {
        uint64_t p = sgn ? (uint64_t)((int64_t)emu_sext(a, size) * (int64_t)emu_sext(b, size))
                         : a * b;
        lo = p & emu_mask(size);
        hi = (p >> nbits) & emu_mask(size);
    }
    if (sgn)
        ovf = hi != (((lo >> (nbits - 1)) & 1) ? emu_mask(size) : 0);
    else
        ovf = hi != 0;
    muldiv_store(cpu, in, size, lo, hi);
    muldiv_mul_flags(cpu, ovf);
}

/* F6/F7 group 3: /0 and /1 TEST imm (/1 is an alias hardware accepts),
 * /2 NOT, /3 NEG, /4 MUL, /5 IMUL, /6 DIV, /7 IDIV. LOCK only for NOT/NEG. */
int muldiv_grp3(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned r = in->reg & 7, size = in->opsize;
    uint64_t b = 0;
    int rc;

    if (in->lock && r != 2 && r != 3)
        return emu_ud(cpu);
    if (r == 2)
        return alu_rmw(cpu, in, ALU_NOT, size, 0);
    if (r == 3)
        return alu_rmw(cpu, in, ALU_NEG, size, 0);
    rc = emu_rm_read(cpu, in, size, &b);
    if (rc != EMU_OK)
        return rc;
    b &= emu_mask(size);
    switch (r) {
    case 0:
    case 1:
        emu_lazy_set(cpu, EMU_LF_LOGIC, size, b & in->imm, b, in->imm, 0);
        return EMU_OK;
    case 4:
        muldiv_mul(cpu, in, size, b, false);
        return EMU_OK;
    case 5:
        muldiv_mul(cpu, in, size, b, true);
        return EMU_OK;
    case 6:
        return muldiv_div(cpu, in, size, b);
    default:
        return muldiv_idiv(cpu, in, size, b);
    }
}

/* The truncated signed product for the two- and three-operand forms;
 * *ovf when it differs from the full product. */
static uint64_t muldiv_imul_trunc(uint64_t a, uint64_t b, unsigned size, bool *ovf)
{
    if (size == 8) {
        muldiv_s128 p = (muldiv_s128)(int64_t)a * (int64_t)b;
        *ovf = p != (muldiv_s128)(int64_t)p;
        return (uint64_t)p;
    }
    int64_t p = (int64_t)emu_sext(a, size) * (int64_t)emu_sext(b, size);
    *ovf = (uint64_t)p != emu_sext((uint64_t)p, size);
    return (uint64_t)p & emu_mask(size);
}

/* 0F AF IMUL reg, r/m. */
int muldiv_imul2(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize;
    uint64_t b = 0;
    bool ovf;
    int rc = emu_rm_read(cpu, in, size, &b);
    if (rc != EMU_OK)
        return rc;
    uint64_t r = muldiv_imul_trunc(emu_reg_get(cpu, in, in->reg, size), b, size, &ovf);
    emu_reg_set(cpu, in, in->reg, size, r);
    muldiv_mul_flags(cpu, ovf);
    return EMU_OK;
}

/* 69 IMUL reg, r/m, imm16/32; 6B IMUL reg, r/m, imm8 (both sign-extended). */
int muldiv_imul3(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize;
    uint64_t b = 0;
    bool ovf;
    int rc = emu_rm_read(cpu, in, size, &b);
    if (rc != EMU_OK)
        return rc;
    uint64_t r = muldiv_imul_trunc(b, in->imm, size, &ovf);
    emu_reg_set(cpu, in, in->reg, size, r);
    muldiv_mul_flags(cpu, ovf);
    return EMU_OK;
}
