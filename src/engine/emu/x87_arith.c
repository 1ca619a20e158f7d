/* x87 arithmetic and comparison instructions (Intel SDM Vol. 2: FADD/FADDP/
 * FIADD, FSUB/FSUBP/FISUB, FSUBR/FSUBRP/FISUBR, FMUL/FMULP/FIMUL, FDIV/
 * FDIVP/FIDIV, FDIVR/FDIVRP/FIDIVR, FCOM/FCOMP/FCOMPP, FUCOM/FUCOMP/
 * FUCOMPP, FICOM/FICOMP, FCOMI/FCOMIP/FUCOMI/FUCOMIP, FSQRT, FRNDINT,
 * FSCALE, FPREM, FPREM1, FXTRACT). The arithmetic itself is f80*.c. */
#include "handlers.h"
#include "x87.h"

/* op is ModRM.reg of the D8 form: dst = dst op src. */
static struct emu_f80 x87_binop(struct f80_env *e, unsigned op, struct emu_f80 dst,
                                struct emu_f80 src)
{
    switch (op) {
    case 0: return f80_add(e, dst, src);
    case 1: return f80_mul(e, dst, src);
    case 4: return f80_sub(e, dst, src);
    case 5: return f80_sub(e, src, dst);
    case 6: return f80_div(e, dst, src);
    default: return f80_div(e, src, dst);
    }
}

static const uint16_t x87_cmp_cc[4] = {
    [F80_LT] = X87_SW_C0,
    [F80_EQ] = X87_SW_C3,
    [F80_GT] = 0,
    [F80_UNORDERED] = X87_SW_C0 | X87_SW_C2 | X87_SW_C3,
};
static const uint8_t x87_cmp_eflags[4] = {
    [F80_LT] = EMU_CF,
    [F80_EQ] = EMU_ZF,
    [F80_GT] = 0,
    [F80_UNORDERED] = EMU_ZF | EMU_PF | EMU_CF,
};

/* D8 (m32fp), DC (m64fp), DA (m32int), DE (m16int) with a memory operand:
 * /0 ADD /1 MUL /2 COM /3 COMP /4 SUB /5 SUBR /6 DIV /7 DIVR. */
int x87_arith_mem(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct emu_fpu *f = &cpu->fpu;
    unsigned op = in->opcode & 7, reg = in->reg & 7;
    unsigned size = op == 4 ? 8 : op == 6 ? 2 : 4;
    uint8_t buf[8];
    bool den = false;
    struct emu_f80 b;

    int rc = x87_read(cpu, in, 0, size, buf);
    if (rc != EMU_OK)
        return rc;
    uint64_t v = x87_get_le(buf, size);
    if (op == 0)
        b = f80_from_f32_raw((uint32_t)v, &den);
    else if (op == 4)
        b = f80_from_f64_raw(v, &den);
    else
        b = f80_from_int((int64_t)emu_sext(v, size));

    x87_clear_c1(f);
    struct emu_f80 a = x87_st(f, 0);
    struct f80_env e = x87_env(f);
    if (reg == 2 || reg == 3) {
        if (x87_empty(f, 0)) {
            x87_exception(f, F80_IE | F80_SF, false);
            x87_set_cc(f, X87_SW_C0 | X87_SW_C2 | X87_SW_C3);
            if (x87_ie_masked(f) && reg == 3)
                x87_pop(f);
            return EMU_OK;
        }
        int c = f80_compare(&e, a, b, false);
        x87_set_cc(f, x87_cmp_cc[c]);
        if (den && c != F80_UNORDERED)
            e.flags |= F80_DE;
        if (!x87_exception(f, e.flags, false) && reg == 3)
            x87_pop(f);
        return EMU_OK;
    }
    if (x87_empty(f, 0)) {
        x87_stack_underflow(f, 0, false);
        return EMU_OK;
    }
    struct emu_f80 r = x87_binop(&e, reg, a, b);
    /* The memory operand's denormal counts unless a NaN decided the result. */
    if (den && !f80_is_nan(a))
        e.flags |= F80_DE;
    if (!x87_exception(f, e.flags, false))
        x87_set_st(f, 0, r);
    return EMU_OK;
}

/* D8 (ST(0) = ST(0) op ST(i)), DC (ST(i) = ST(i) op ST(0)) and DE (the same
 * and pop). In the DC and DE forms /4 and /5, /6 and /7 are the other way
 * round: DC E8+i is FSUB ST(i), ST(0). */
int x87_arith_reg(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct emu_fpu *f = &cpu->fpu;
    unsigned op = in->opcode & 7, reg = in->reg & 7, i = in->rm & 7;
    unsigned dst = op == 0 ? 0 : i, src = op == 0 ? i : 0;
    unsigned aop = (op != 0 && reg >= 4) ? reg ^ 1 : reg;
    bool pop = op == 6;

    x87_clear_c1(f);
    if (x87_empty(f, dst) || x87_empty(f, src)) {
        x87_stack_underflow(f, dst, pop);
        return EMU_OK;
    }
    struct f80_env e = x87_env(f);
    struct emu_f80 r = x87_binop(&e, aop, x87_st(f, dst), x87_st(f, src));
    if (!x87_exception(f, e.flags, false)) {
        x87_set_st(f, dst, r);
        if (pop)
            x87_pop(f);
    }
    return EMU_OK;
}

/* The register compares: FCOM/FCOMP (D8 D0/D8, aliases DC D0/D8, DE D0),
 * FCOMPP (DE D9), FUCOM/FUCOMP (DD E0/E8), FUCOMPP (DA E9), FUCOMI/FCOMI
 * (DB E8/F0) and FUCOMIP/FCOMIP (DF E8/F0). */
int x87_compare_reg(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct emu_fpu *f = &cpu->fpu;
    unsigned op = in->opcode & 7, reg = in->reg & 7, i = in->rm & 7;
    bool quiet = (op == 5 || (op == 2 && reg == 5) || reg == 5);
    bool to_eflags = op == 3 || op == 7;
    unsigned pops = 0;

    if ((op == 0 || op == 4) && reg == 3)
        pops = 1;
    else if ((op == 6 && reg == 2) || (op == 5 && reg == 5) || op == 7)
        pops = 1;
    else if ((op == 6 && reg == 3) || op == 2)
        pops = 2;

    x87_clear_c1(f);
    int c;
    if (x87_empty(f, 0) || x87_empty(f, i)) {
        /* Unordered, masked or not; only the masked response pops. */
        x87_exception(f, F80_IE | F80_SF, false);
        if (!x87_ie_masked(f))
            pops = 0;
        c = F80_UNORDERED;
    } else {
        struct f80_env e = x87_env(f);
        c = f80_compare(&e, x87_st(f, 0), x87_st(f, i), quiet);
        if (x87_exception(f, e.flags, false))
            pops = 0;
    }
    if (to_eflags)
        emu_flags_set_arith(cpu, x87_cmp_eflags[c]);
    else
        x87_set_cc(f, x87_cmp_cc[c] | (f->fsw & X87_SW_C1));
    while (pops--)
        x87_pop(f);
    return EMU_OK;
}

/* One-operand arithmetic on ST(0). */
static int x87_unary(struct emu_cpu *cpu, struct emu_f80 (*fn)(struct f80_env *, struct emu_f80))
{
    struct emu_fpu *f = &cpu->fpu;

    x87_clear_c1(f);
    if (x87_empty(f, 0)) {
        x87_stack_underflow(f, 0, false);
        return EMU_OK;
    }
    struct f80_env e = x87_env(f);
    struct emu_f80 r = fn(&e, x87_st(f, 0));
    if (!x87_exception(f, e.flags, false))
        x87_set_st(f, 0, r);
    return EMU_OK;
}

int x87_fsqrt(struct emu_cpu *cpu, const struct emu_insn *in)
{
    (void)in;
    return x87_unary(cpu, f80_sqrt);
}

int x87_frndint(struct emu_cpu *cpu, const struct emu_insn *in)
{
    (void)in;
    return x87_unary(cpu, f80_round_int);
}

int x87_fscale(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct emu_fpu *f = &cpu->fpu;

    (void)in;
    x87_clear_c1(f);
    if (x87_empty(f, 0) || x87_empty(f, 1)) {
        x87_stack_underflow(f, 0, false);
        return EMU_OK;
    }
    struct f80_env e = x87_env(f);
    struct emu_f80 r = f80_scale(&e, x87_st(f, 0), x87_st(f, 1));
    if (!x87_exception(f, e.flags, false))
        x87_set_st(f, 0, r);
    return EMU_OK;
}

/* D9 F8 FPREM, D9 F5 FPREM1: C2 = incomplete, else C0 C3 C1 = Q2 Q1 Q0. */
int x87_fprem(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct emu_fpu *f = &cpu->fpu;
    bool ieee = (in->rm & 7) == 5;

    f->fsw &= (uint16_t)~(X87_SW_C1 | X87_SW_C2);
    if (x87_empty(f, 0) || x87_empty(f, 1)) {
        x87_stack_underflow(f, 0, false);
        return EMU_OK;
    }
    struct f80_env e = x87_env(f);
    struct emu_f80 r;
    uint64_t q;
    int partial = f80_prem(&e, x87_st(f, 0), x87_st(f, 1), ieee, &r, &q);
    if (x87_exception(f, e.flags, false))
        return EMU_OK;
    if (partial > 0) {
        x87_set_cc(f, X87_SW_C2);
    } else if (partial == 0) {
        x87_set_cc(f, (q & 1 ? X87_SW_C1 : 0) | (q & 2 ? X87_SW_C3 : 0) |
                          (q & 4 ? X87_SW_C0 : 0));
    }
    x87_set_st(f, 0, r);
    return EMU_OK;
}

/* D9 F4 FXTRACT: ST(0) = exponent, then push the significand. */
int x87_fxtract(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct emu_fpu *f = &cpu->fpu;

    (void)in;
    x87_clear_c1(f);
    if (x87_empty(f, 0) || !x87_empty(f, 7)) {
        bool under = x87_empty(f, 0);
        x87_exception(f, under ? F80_IE | F80_SF : F80_IE | F80_SF | F80_C1, false);
        if (x87_ie_masked(f)) {
            x87_set_top(f, emu_fpu_top(f) - 1);
            x87_set_st(f, 0, f80_indefinite());
            x87_set_st(f, 1, f80_indefinite());
        }
        return EMU_OK;
    }
    struct f80_env e = x87_env(f);
    struct emu_f80 ex, sig;
    f80_xtract(&e, x87_st(f, 0), &ex, &sig);
    if (!x87_exception(f, e.flags, false)) {
        x87_set_st(f, 0, ex);
        x87_push(f, sig);
    }
    return EMU_OK;
}
