/* The x87 escape opcodes D8-DF and FWAIT (Intel SDM Vol. 1 chapter 8; Vol.
 * 2 the x87 instruction pages; the opcode map, Vol. 2D Tables ):
 * decoding of the ModRM byte into the instruction, #UD for the undefined
 * encodings, #NM (CR0.EM/TS), the pending-exception check of the waiting
 * instructions (#MF with CR0.NE; without it the exception stays pending, as
 * roam has no IRQ13), the FIP/FOP/FDP record of non-control instructions,
 * the exception reporting rules, and the register-stack instructions.
 * The undocumented aliases that Intel CPUs execute (FSTP1, FCOM2, FCOMP3,
 * FXCH4, FCOMP5, FFREEP, FXCH7, FSTP8, FSTP9) are implemented. */
#include "handlers.h"
#include "x87.h"

/* ---- shared helpers ---- */

unsigned x87_exception(struct emu_fpu *f, unsigned ex, bool is_store)
{
    unsigned sw = f->fsw;
    unsigned unmasked = ex & ~f->fcw & F80_EXC_MASK;

    /* Invalid operation and zero divide are reported alone. */
    if (ex & (F80_IE | F80_ZE))
        unmasked &= F80_IE | F80_ZE;
    if (unmasked)
        sw |= X87_SW_ES | X87_SW_B;
    if (ex & F80_IE) {
        sw |= ex & (F80_IE | F80_SF | F80_C1);
        /* For a stack fault C1 tells overflow (1) from underflow (0). */
        if ((ex & F80_SF) && !(ex & F80_C1))
            sw &= ~X87_SW_C1;
        f->fsw = (uint16_t)sw;
        return unmasked;
    }
    if (ex & F80_ZE) {
        f->fsw = (uint16_t)(sw | F80_ZE);
        return unmasked;
    }
    if (ex & F80_DE) {
        sw |= F80_DE;
        if (unmasked & F80_DE) {
            f->fsw = (uint16_t)sw;
            return F80_DE;
        }
    }
    sw |= ex & (F80_EXC_MASK | F80_C1);
    /* With PE, C1 says whether the result was rounded up. */
    if ((ex & F80_PE) && !(ex & F80_C1))
        sw &= ~X87_SW_C1;
    unmasked &= ~F80_PE;
    if (unmasked & (F80_UE | F80_OE)) {
        if (!is_store) {
            /* A register gets the exponent-biased result. */
            unmasked &= ~(F80_UE | F80_OE);
        } else {
            /* Nothing is stored to memory; this PE is not reported (a PE
             * already in FSW is sticky and stays) and C1 is cleared. */
            sw &= ~(X87_SW_C1 | F80_PE);
            sw |= f->fsw & F80_PE;
        }
    }
    f->fsw = (uint16_t)sw;
    return unmasked;
}

void x87_stack_underflow(struct emu_fpu *f, unsigned i, bool pop)
{
    if (x87_ie_masked(f)) {
        x87_set_st(f, i, f80_indefinite());
        if (pop)
            x87_pop(f);
    }
    x87_exception(f, F80_IE | F80_SF, false);
}

void x87_stack_overflow(struct emu_fpu *f)
{
    if (x87_ie_masked(f))
        x87_push(f, f80_indefinite());
    x87_exception(f, F80_IE | F80_SF | F80_C1, false);
}

int x87_read(struct emu_cpu *cpu, const struct emu_insn *in, unsigned off, unsigned size,
             void *out)
{
    uint64_t ea = (emu_ea(cpu, in) + off) & emu_mask(in->addrsize);
    return emu_read(cpu, in->seg, ea, size, out);
}

int x87_write(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size, const void *data)
{
    return emu_write(cpu, in->seg, emu_ea(cpu, in), size, data);
}

int x87_write_check(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size)
{
    uint64_t lin, gpa, last;
    bool user = cpu->cpl == 3;
    int rc = emu_linear(cpu, in->seg, emu_ea(cpu, in), size, EMU_WRITE, &lin);
    if (rc != EMU_OK)
        return rc;
    /* emu_write's rule: the 10-byte formats are checked against 8 */
    if (x87_ac(cpu, lin, size == 10 ? 8 : size))
        return emu_raise_err(cpu, EMU_VEC_AC, 0);
    last = lin + size - 1;
    if (!cpu->long_mode)
        last &= 0xffffffffull;
    rc = emu_translate(cpu, lin, EMU_WRITE, user, &gpa);
    if (rc == EMU_OK && (last ^ lin) >> 12)
        rc = emu_translate(cpu, last & ~0xfffull, EMU_WRITE, user, &gpa);
    return rc;
}

/* The checks of an environment or save area, in the order hardware makes
 * them (an AMD EPYC through the difftest): the segment over span bytes,
 * #AC unless align divides the linear address (emu_read/emu_write do not
 * check these sizes), for FXSAVE/FXRSTOR #GP(0) unless 16-byte aligned,
 * then the pages. FNSTENV/FNSAVE/FLDENV/FRSTOR check their first field
 * (align bytes: the FCW word or dword) and then the last byte,
 * FXSAVE/FXRSTOR the last byte of the 512-byte area and then the first: a
 * page fault reports the first byte of those that faults in CR2. */
static int x87_block_check(struct emu_cpu *cpu, const struct emu_insn *in, unsigned span,
                           unsigned align, bool fx, enum emu_access acc, uint64_t *lin)
{
    uint64_t gpa, first, last, mask = cpu->long_mode ? ~0ull : 0xffffffffull;
    bool user = cpu->cpl == 3;
    int rc = emu_linear(cpu, in->seg, emu_ea(cpu, in), span, acc, lin);
    if (rc != EMU_OK)
        return rc;
    if (x87_ac(cpu, *lin, align))
        return emu_raise_err(cpu, EMU_VEC_AC, 0);
    if (fx && (*lin & 15))
        return emu_gp0(cpu);
    last = (*lin + span - 1) & mask;
    if (fx) {
        rc = emu_translate(cpu, last, acc, user, &gpa);
        if (rc == EMU_OK && (last ^ *lin) >> 12)
            rc = emu_translate(cpu, *lin, acc, user, &gpa);
        return rc;
    }
    first = (*lin + align - 1) & mask; /* the first field's last byte */
    rc = emu_translate(cpu, *lin, acc, user, &gpa);
    if (rc == EMU_OK && (first ^ *lin) >> 12)
        rc = emu_translate(cpu, first & ~0xfffull, acc, user, &gpa);
    if (rc == EMU_OK && (last ^ first) >> 12)
        rc = emu_translate(cpu, last, acc, user, &gpa);
    return rc;
}

int x87_block_read(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size,
                   unsigned span, unsigned align, bool fx, void *out)
{
    uint64_t lin;
    int rc = x87_block_check(cpu, in, span, align, fx, EMU_READ, &lin);
    if (rc != EMU_OK)
        return rc;
    return emu_read_lin(cpu, lin, size, out, cpu->cpl == 3);
}

int x87_block_write(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size,
                    unsigned span, unsigned align, bool fx, const void *data)
{
    uint64_t lin;
    int rc = x87_block_check(cpu, in, span, align, fx, EMU_WRITE, &lin);
    if (rc != EMU_OK)
        return rc;
    return emu_write_lin(cpu, lin, size, data, cpu->cpl == 3);
}

uint16_t x87_full_tag(const struct emu_fpu *f)
{
    uint16_t t = 0;
    for (unsigned i = 0; i < 8; i++) {
        unsigned tag = 3, e = f->r[i].sexp & 0x7fff;
        if ((f->ftw >> i) & 1) {
            if (e == 0x7fff)
                tag = 2;
            else if (e == 0)
                tag = f->r[i].mant ? 2 : 1;
            else
                tag = (f->r[i].mant >> 63) ? 0 : 2;
        }
        t = (uint16_t)(t | tag << (2 * i));
    }
    return t;
}

/* ---- register-stack instructions ---- */

static int x87_fld_sti(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct emu_fpu *f = &cpu->fpu;
    unsigned i = in->rm & 7;
    struct emu_f80 v = f80_indefinite();

    x87_clear_c1(f);
    /* An empty source is reported (as underflow) before a full destination. */
    if (x87_empty(f, i)) {
        x87_exception(f, F80_IE | F80_SF, false);
        if (!x87_ie_masked(f))
            return EMU_OK;
    } else if (!x87_empty(f, 7)) {
        x87_stack_overflow(f);
        return EMU_OK;
    } else {
        v = x87_st(f, i);
    }
    x87_push(f, v);
    return EMU_OK;
}

static int x87_fxch(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct emu_fpu *f = &cpu->fpu;
    unsigned i = in->rm & 7;
    struct emu_f80 a = x87_st(f, 0), b = x87_st(f, i);

    x87_clear_c1(f);
    if (x87_empty(f, 0) || x87_empty(f, i)) {
        bool e0 = x87_empty(f, 0), ei = x87_empty(f, i);
        x87_exception(f, F80_IE | F80_SF, false);
        if (!x87_ie_masked(f))
            return EMU_OK;
        if (e0)
            a = f80_indefinite();
        if (ei)
            b = f80_indefinite();
    }
    x87_set_st(f, 0, b);
    x87_set_st(f, i, a);
    return EMU_OK;
}

/* FST/FSTP ST(i) and the FSTP aliases (D9 D8, DF D0, DF D8). */
static int x87_fst_sti(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct emu_fpu *f = &cpu->fpu;
    unsigned i = in->rm & 7;
    bool pop = !((in->opcode & 7) == 5 && (in->reg & 7) == 2);

    x87_clear_c1(f);
    if (x87_empty(f, 0)) {
        x87_stack_underflow(f, i, pop);
        return EMU_OK;
    }
    x87_set_st(f, i, x87_st(f, 0));
    if (pop)
        x87_pop(f);
    return EMU_OK;
}

static int x87_nop(struct emu_cpu *cpu, const struct emu_insn *in)
{
    (void)cpu;
    (void)in;
    return EMU_OK;
}

/* D9 E0 FCHS, E1 FABS, E4 FTST, E5 FXAM. */
static int x87_d9_4(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct emu_fpu *f = &cpu->fpu;
    unsigned rm = in->rm & 7;
    struct emu_f80 a = x87_st(f, 0);

    if (rm == 5) {
        /* FXAM: C3 C2 C0 give the class, C1 the sign, empty or not. */
        static const uint16_t cls[] = {
            [F80_CLASS_ZERO] = X87_SW_C3,
            [F80_CLASS_DENORMAL] = X87_SW_C3 | X87_SW_C2,
            [F80_CLASS_NORMAL] = X87_SW_C2,
            [F80_CLASS_INF] = X87_SW_C2 | X87_SW_C0,
            [F80_CLASS_QNAN] = X87_SW_C0,
            [F80_CLASS_SNAN] = X87_SW_C0,
            [F80_CLASS_UNSUPPORTED] = 0,
        };
        unsigned cc = x87_empty(f, 0) ? X87_SW_C3 | X87_SW_C0 : cls[f80_classify(a)];
        x87_set_cc(f, cc | (f80_sign(a) ? X87_SW_C1 : 0));
        return EMU_OK;
    }
    x87_clear_c1(f);
    if (rm == 4) {
        /* FTST: compare with +0.0, signaling on QNaN. */
        if (x87_empty(f, 0)) {
            x87_exception(f, F80_IE | F80_SF, false);
            x87_set_cc(f, X87_SW_C0 | X87_SW_C2 | X87_SW_C3);
            return EMU_OK;
        }
        struct f80_env e = x87_env(f);
        int c = f80_compare(&e, a, f80_zero(false), false);
        static const uint16_t cc[4] = {X87_SW_C0, X87_SW_C3, 0, X87_SW_C0 | X87_SW_C2 | X87_SW_C3};
        x87_set_cc(f, cc[c]);
        x87_exception(f, e.flags, false);
        return EMU_OK;
    }
    if (x87_empty(f, 0)) {
        x87_stack_underflow(f, 0, false);
        return EMU_OK;
    }
    a.sexp = (uint16_t)(rm == 0 ? a.sexp ^ 0x8000 : a.sexp & 0x7fff);
    x87_set_st(f, 0, a);
    return EMU_OK;
}

/* D9 E8-EE: FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ. The
 * irrational ones are held to 66 bits and rounded by RC (SDM Vol. 1 8.3.8):
 * log2(10) rounds down to nearest, the others round up. */
static int x87_fldconst(struct emu_cpu *cpu, const struct emu_insn *in)
{
    static const struct {
        uint16_t sexp;
        uint64_t mant;
        int8_t adj_up, adj_down; /* added when RC is up; when RC is down or zero */
    } k[7] = {
        {0x3fff, 0x8000000000000000ull, 0, 0},  /* 1 */
        {0x4000, 0xd49a784bcd1b8afeull, 1, 0},  /* log2(10) */
        {0x3fff, 0xb8aa3b295c17f0bcull, 0, -1}, /* log2(e) */
        {0x4000, 0xc90fdaa22168c235ull, 0, -1}, /* pi */
        {0x3ffd, 0x9a209a84fbcff799ull, 0, -1}, /* log10(2) */
        {0x3ffe, 0xb17217f7d1cf79acull, 0, -1}, /* ln(2) */
        {0x0000, 0x0000000000000000ull, 0, 0},  /* +0 */
    };
    struct emu_fpu *f = &cpu->fpu;
    unsigned i = in->rm & 7, rc = (f->fcw >> F80_RC_SHIFT) & 3;

    x87_clear_c1(f);
    if (!x87_empty(f, 7)) {
        x87_stack_overflow(f);
        return EMU_OK;
    }
    uint64_t m = k[i].mant;
    if (rc == F80_RC_UP)
        m += (uint64_t)(int64_t)k[i].adj_up;
    else if (rc == F80_RC_DOWN || rc == F80_RC_ZERO)
        m += (uint64_t)(int64_t)k[i].adj_down;
    x87_push(f, f80_make(k[i].sexp, m));
    return EMU_OK;
}

/* D9 F6 FDECSTP, F7 FINCSTP. */
static int x87_fstp_move(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct emu_fpu *f = &cpu->fpu;

    x87_clear_c1(f);
    x87_set_top(f, emu_fpu_top(f) + ((in->rm & 7) == 6 ? 7u : 1u));
    return EMU_OK;
}

/* DD C0 FFREE, DF C0 FFREEP. */
static int x87_ffree(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct emu_fpu *f = &cpu->fpu;

    f->ftw = (uint8_t)(f->ftw & ~(1u << x87_phys(f, in->rm & 7)));
    if ((in->opcode & 7) == 7)
        x87_pop(f);
    return EMU_OK;
}

/* DA C0-DF FCMOVB/E/BE/U, DB C0-DF FCMOVNB/NE/NBE/NU. */
static int x87_fcmov(struct emu_cpu *cpu, const struct emu_insn *in)
{
    static const uint8_t cc[4] = {0x2, 0x4, 0x6, 0xa}; /* B, E, BE, P */
    struct emu_fpu *f = &cpu->fpu;
    unsigned i = in->rm & 7;
    bool cond = emu_cond(cpu, cc[in->reg & 3]);

    if ((in->opcode & 7) == 3)
        cond = !cond;
    if (x87_empty(f, 0) || x87_empty(f, i)) {
        x87_stack_underflow(f, 0, false);
        return EMU_OK;
    }
    x87_clear_c1(f);
    if (cond)
        x87_set_st(f, 0, x87_st(f, i));
    return EMU_OK;
}

/* ---- dispatch ---- */

enum {
    X87_NOWAIT = 1, /* no pending-exception check (FNINIT, FNSTSW, ...) */
    X87_CTRL = 2,   /* a control instruction: FIP, FOP and FDP are kept */
};

struct x87_op {
    emu_handler fn;
    uint8_t flags;
};

static const struct x87_op x87_mem_ops[8][8] = {
    /* D8: arithmetic and compare with m32fp */
    {{x87_arith_mem, 0}, {x87_arith_mem, 0}, {x87_arith_mem, 0}, {x87_arith_mem, 0},
     {x87_arith_mem, 0}, {x87_arith_mem, 0}, {x87_arith_mem, 0}, {x87_arith_mem, 0}},
    /* D9: FLD m32, -, FST m32, FSTP m32, FLDENV, FLDCW, FNSTENV, FNSTCW */
    {{x87_load_mem, 0}, {NULL, 0}, {x87_store_mem, 0}, {x87_store_mem, 0},
     {x87_fldenv, X87_CTRL}, {x87_fldcw, X87_CTRL}, {x87_fnstenv, X87_NOWAIT | X87_CTRL},
     {x87_fnstcw, X87_NOWAIT | X87_CTRL}},
    /* DA: m32int */
    {{x87_arith_mem, 0}, {x87_arith_mem, 0}, {x87_arith_mem, 0}, {x87_arith_mem, 0},
     {x87_arith_mem, 0}, {x87_arith_mem, 0}, {x87_arith_mem, 0}, {x87_arith_mem, 0}},
    /* DB: FILD m32, FISTTP (SSE3, not in roam-v1), FIST, FISTP, -, FLD m80, -, FSTP m80 */
    {{x87_load_mem, 0}, {NULL, 0}, {x87_store_mem, 0}, {x87_store_mem, 0}, {NULL, 0},
     {x87_load_mem, 0}, {NULL, 0}, {x87_store_mem, 0}},
    /* DC: m64fp */
    {{x87_arith_mem, 0}, {x87_arith_mem, 0}, {x87_arith_mem, 0}, {x87_arith_mem, 0},
     {x87_arith_mem, 0}, {x87_arith_mem, 0}, {x87_arith_mem, 0}, {x87_arith_mem, 0}},
    /* DD: FLD m64, FISTTP, FST m64, FSTP m64, FRSTOR, -, FNSAVE, FNSTSW m16 */
    {{x87_load_mem, 0}, {NULL, 0}, {x87_store_mem, 0}, {x87_store_mem, 0},
     {x87_frstor, X87_CTRL}, {NULL, 0}, {x87_fnsave, X87_NOWAIT | X87_CTRL},
     {x87_fnstsw, X87_NOWAIT | X87_CTRL}},
    /* DE: m16int */
    {{x87_arith_mem, 0}, {x87_arith_mem, 0}, {x87_arith_mem, 0}, {x87_arith_mem, 0},
     {x87_arith_mem, 0}, {x87_arith_mem, 0}, {x87_arith_mem, 0}, {x87_arith_mem, 0}},
    /* DF: FILD m16, FISTTP, FIST m16, FISTP m16, FBLD, FILD m64, FBSTP, FISTP m64 */
    {{x87_load_mem, 0}, {NULL, 0}, {x87_store_mem, 0}, {x87_store_mem, 0}, {x87_load_mem, 0},
     {x87_load_mem, 0}, {x87_store_mem, 0}, {x87_store_mem, 0}},
};

static const struct x87_op x87_reg_ops[8][8] = {
    /* D8: FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR ST(0), ST(i) */
    {{x87_arith_reg, 0}, {x87_arith_reg, 0}, {x87_compare_reg, 0}, {x87_compare_reg, 0},
     {x87_arith_reg, 0}, {x87_arith_reg, 0}, {x87_arith_reg, 0}, {x87_arith_reg, 0}},
    /* D9: FLD ST(i), FXCH, (D0 FNOP), FSTP1, then per r/m (x87_lookup_reg) */
    {{x87_fld_sti, 0}, {x87_fxch, 0}, {NULL, 0}, {x87_fst_sti, 0}, {NULL, 0}, {NULL, 0},
     {NULL, 0}, {NULL, 0}},
    /* DA: FCMOVB FCMOVE FCMOVBE FCMOVU, (E9 FUCOMPP) */
    {{x87_fcmov, 0}, {x87_fcmov, 0}, {x87_fcmov, 0}, {x87_fcmov, 0}, {NULL, 0}, {NULL, 0},
     {NULL, 0}, {NULL, 0}},
    /* DB: FCMOVNB FCMOVNE FCMOVNBE FCMOVNU, (E0-E4), FUCOMI, FCOMI */
    {{x87_fcmov, 0}, {x87_fcmov, 0}, {x87_fcmov, 0}, {x87_fcmov, 0}, {NULL, 0},
     {x87_compare_reg, 0}, {x87_compare_reg, 0}, {NULL, 0}},
    /* DC: FADD FMUL FCOM2 FCOMP3 FSUBR FSUB FDIVR FDIV ST(i), ST(0) */
    {{x87_arith_reg, 0}, {x87_arith_reg, 0}, {x87_compare_reg, 0}, {x87_compare_reg, 0},
     {x87_arith_reg, 0}, {x87_arith_reg, 0}, {x87_arith_reg, 0}, {x87_arith_reg, 0}},
    /* DD: FFREE, FXCH4, FST, FSTP, FUCOM, FUCOMP */
    {{x87_ffree, 0}, {x87_fxch, 0}, {x87_fst_sti, 0}, {x87_fst_sti, 0}, {x87_compare_reg, 0},
     {x87_compare_reg, 0}, {NULL, 0}, {NULL, 0}},
    /* DE: FADDP FMULP FCOMP5 (D9 FCOMPP) FSUBRP FSUBP FDIVRP FDIVP */
    {{x87_arith_reg, 0}, {x87_arith_reg, 0}, {x87_compare_reg, 0}, {NULL, 0},
     {x87_arith_reg, 0}, {x87_arith_reg, 0}, {x87_arith_reg, 0}, {x87_arith_reg, 0}},
    /* DF: FFREEP, FXCH7, FSTP8, FSTP9, (E0 FNSTSW AX), FUCOMIP, FCOMIP */
    {{x87_ffree, 0}, {x87_fxch, 0}, {x87_fst_sti, 0}, {x87_fst_sti, 0}, {NULL, 0},
     {x87_compare_reg, 0}, {x87_compare_reg, 0}, {NULL, 0}},
};

/* D9 F0-FF by r/m. */
static const emu_handler x87_d9_f0[16] = {
    x87_trans,   x87_trans, x87_trans,   x87_trans,  x87_fxtract,   x87_fprem,
    x87_fstp_move, x87_fstp_move, x87_fprem, x87_trans, x87_fsqrt, x87_trans,
    x87_frndint, x87_fscale, x87_trans,  x87_trans,
};

static struct x87_op x87_lookup_reg(unsigned op, unsigned reg, unsigned rm)
{
    struct x87_op none = {NULL, 0}, o = x87_reg_ops[op][reg];

    switch (op << 3 | reg) {
    case 1 << 3 | 2: /* D9 D0 FNOP */
        return rm == 0 ? (struct x87_op){x87_nop, 0} : none;
    case 1 << 3 | 4: /* D9 E0 FCHS, E1 FABS, E4 FTST, E5 FXAM */
        return (rm <= 1 || rm == 4 || rm == 5) ? (struct x87_op){x87_d9_4, 0} : none;
    case 1 << 3 | 5: /* D9 E8-EE: constants */
        return rm != 7 ? (struct x87_op){x87_fldconst, 0} : none;
    case 1 << 3 | 6:
    case 1 << 3 | 7:
        return (struct x87_op){x87_d9_f0[(reg & 1) << 3 | rm], 0};
    case 2 << 3 | 5: /* DA E9 FUCOMPP */
        return rm == 1 ? (struct x87_op){x87_compare_reg, 0} : none;
    case 3 << 3 | 4: /* DB E0 FNENI, E1 FNDISI, E4 FNSETPM (no-ops), E2 FNCLEX, E3 FNINIT */
        if (rm == 2)
            return (struct x87_op){x87_fnclex, X87_NOWAIT | X87_CTRL};
        if (rm == 3)
            return (struct x87_op){x87_fninit, X87_NOWAIT | X87_CTRL};
        return rm <= 4 ? (struct x87_op){x87_nop, X87_NOWAIT | X87_CTRL} : none;
    case 6 << 3 | 3: /* DE D9 FCOMPP */
        return rm == 1 ? (struct x87_op){x87_compare_reg, 0} : none;
    case 7 << 3 | 4: /* DF E0 FNSTSW AX */
        return rm == 0 ? (struct x87_op){x87_fnstsw, X87_NOWAIT | X87_CTRL} : none;
    default:
        return o;
    }
}

/* Records the last non-control instruction (SDM Vol. 1 8.1.8-8.1.9). */
static void x87_record(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct emu_fpu *f = &cpu->fpu;
    unsigned modrm = (unsigned)in->mod << 6 | (in->reg & 7u) << 3 | (in->rm & 7u);

    f->fop = (uint16_t)((in->opcode & 7u) << 8 | modrm);
    f->fip = cpu->rip;
    f->fcs = cpu->seg[X86_CS].selector;
    if (in->mod != 3) {
        f->fdp = emu_ea(cpu, in);
        f->fds = cpu->seg[in->seg].selector;
    }
}

int x87_esc(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned op = in->opcode & 7, reg = in->reg & 7, rm = in->rm & 7;
    struct x87_op o = in->mod == 3 ? x87_lookup_reg(op, reg, rm) : x87_mem_ops[op][reg];

    if (!o.fn)
        return emu_ud(cpu);
    if (cpu->cr0 & (EMU_CR0_EM | EMU_CR0_TS))
        return emu_raise(cpu, EMU_NM);
    if (!(o.flags & X87_NOWAIT) && (cpu->fpu.fsw & X87_SW_ES) && (cpu->cr0 & EMU_CR0_NE))
        return emu_raise(cpu, EMU_MF);
    int rc = o.fn(cpu, in);
    if (rc == EMU_OK && !(o.flags & X87_CTRL))
        x87_record(cpu, in);
    return rc;
}

int x87_fwait(struct emu_cpu *cpu, const struct emu_insn *in)
{
    (void)in;
    if ((cpu->cr0 & (EMU_CR0_MP | EMU_CR0_TS)) == (EMU_CR0_MP | EMU_CR0_TS))
        return emu_raise(cpu, EMU_NM);
    if ((cpu->fpu.fsw & X87_SW_ES) && (cpu->cr0 & EMU_CR0_NE))
        return emu_raise(cpu, EMU_MF);
    return EMU_OK;
}
