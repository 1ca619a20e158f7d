/* The x87 FPU of the emu engine (Intel SDM Vol. 1 chapter 8, Vol. 2 the
 * D8-DF instructions, FXSAVE/FXRSTOR): the conversions emu.c needs for the
 * canonical state, and the helpers the x87*.c files share. */
#ifndef ROAM_ENGINE_EMU_X87_H
#define ROAM_ENGINE_EMU_X87_H

#include "emu.h"
#include "f80.h"

/* ---- for emu.c ---- */

/* The canonical FXSAVE image (64-bit layout, SDM Vol. 1 Table 10-2): ST(i)
 * relative to TOP, the abridged tag, MXCSR_MASK 0xffff. FCS and FDS are
 * not in it (they are lost, as with KVM's 64-bit FXSAVE). */
void x87_to_fxsave(const struct emu_fpu *f, struct x86_fxsave *out);
void x87_from_fxsave(struct emu_fpu *f, const struct x86_fxsave *in);
/* The FNINIT state with MXCSR = 0x1f80 and zeroed data registers: the
 * power-on and INIT state of the x87 and SSE units. */
void x87_reset(struct emu_fpu *f);

/* ---- shared by x87*.c ---- */

/* FSW bits. */
#define X87_SW_SF 0x0040u
#define X87_SW_ES 0x0080u
#define X87_SW_C0 0x0100u
#define X87_SW_C1 0x0200u
#define X87_SW_C2 0x0400u
#define X87_SW_C3 0x4000u
#define X87_SW_B 0x8000u
#define X87_SW_CC (X87_SW_C0 | X87_SW_C1 | X87_SW_C2 | X87_SW_C3)

/* Physical register of ST(i). */
static inline unsigned x87_phys(const struct emu_fpu *f, unsigned i)
{
    return (emu_fpu_top(f) + i) & 7;
}
static inline struct emu_f80 x87_st(const struct emu_fpu *f, unsigned i)
{
    return f->r[x87_phys(f, i)];
}
static inline bool x87_empty(const struct emu_fpu *f, unsigned i)
{
    return !((f->ftw >> x87_phys(f, i)) & 1);
}
/* Writes ST(i) and tags it valid. */
static inline void x87_set_st(struct emu_fpu *f, unsigned i, struct emu_f80 v)
{
    unsigned p = x87_phys(f, i);
    f->r[p] = v;
    f->ftw = (uint8_t)(f->ftw | 1u << p);
}
static inline void x87_set_top(struct emu_fpu *f, unsigned top)
{
    f->fsw = (uint16_t)((f->fsw & ~0x3800u) | (top & 7) << 11);
}
/* Pushes v (TOP - 1). */
static inline void x87_push(struct emu_fpu *f, struct emu_f80 v)
{
    x87_set_top(f, emu_fpu_top(f) - 1);
    x87_set_st(f, 0, v);
}
/* Tags ST(0) empty and increments TOP. */
static inline void x87_pop(struct emu_fpu *f)
{
    f->ftw = (uint8_t)(f->ftw & ~(1u << x87_phys(f, 0)));
    x87_set_top(f, emu_fpu_top(f) + 1);
}
static inline void x87_set_cc(struct emu_fpu *f, unsigned cc)
{
    f->fsw = (uint16_t)((f->fsw & ~X87_SW_CC) | cc);
}
static inline void x87_clear_c1(struct emu_fpu *f)
{
    f->fsw = (uint16_t)(f->fsw & ~X87_SW_C1);
}
static inline struct f80_env x87_env(const struct emu_fpu *f)
{
    return f80_env_make(f->fcw);
}
static inline bool x87_ie_masked(const struct emu_fpu *f)
{
    return f->fcw & F80_IE;
}
/* ES and B follow the unmasked exception flags (after FLDCW, FLDENV, ...). */
static inline void x87_update_es(struct emu_fpu *f)
{
    if (f->fsw & ~f->fcw & F80_EXC_MASK)
        f->fsw |= X87_SW_ES | X87_SW_B;
    else
        f->fsw &= (uint16_t)~(X87_SW_ES | X87_SW_B);
}

/* The exception flags of an operation (F80_* with F80_C1 and F80_SF) into
 * FSW, with the x87 reporting rules (SDM Vol. 1 8.5): IE and ZE hide the
 * others; an unmasked exception sets ES and B. Returns the unmasked
 * exceptions that must suppress the result: IE, ZE or DE (nothing is
 * written), and for a store to memory (is_store) also OE and UE. */
unsigned x87_exception(struct emu_fpu *f, unsigned ex, bool is_store);
/* Stack faults: IE|SF, C1 = 0 (underflow) or 1 (overflow). The masked
 * response writes the indefinite to ST(i) (and pops) or pushes it. */
void x87_stack_underflow(struct emu_fpu *f, unsigned i, bool pop);
void x87_stack_overflow(struct emu_fpu *f);

/* Memory operands of up to 10 bytes (offset within in->seg, wrapped to
 * the address size), with emu_read/emu_write's #AC rule. */
int x87_read(struct emu_cpu *cpu, const struct emu_insn *in, unsigned off, unsigned size,
             void *out);
int x87_write(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size, const void *data);
/* The faults x87_write would raise (#GP/#SS, #AC, #PF), without writing. */
int x87_write_check(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size);

/* Alignment checking (#AC(0), SDM Vol. 3A 6.15) for the accesses that
 * emu_read/emu_write do not check: CPL 3, CR0.AM, RFLAGS.AC and a linear
 * address that align does not divide. */
static inline bool x87_ac_on(const struct emu_cpu *cpu)
{
    return cpu->cpl == 3 && (cpu->cr0 & EMU_CR0_AM) && (cpu->rflags & EMU_AC);
}
static inline bool x87_ac(const struct emu_cpu *cpu, uint64_t lin, unsigned align)
{
    return x87_ac_on(cpu) && (lin & (align - 1));
}

/* The environment and save areas (FLDENV, FNSTENV, FRSTOR, FNSAVE, FXSAVE,
 * FXRSTOR): size bytes read or written at the memory operand after the
 * segment check over span bytes, #AC unless align divides the address,
 * #GP(0) for fx areas not 16-byte aligned, and the page checks of both
 * ends (x87.c says in which order). A fault leaves memory untouched. */
int x87_block_read(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size,
                   unsigned span, unsigned align, bool fx, void *out);
int x87_block_write(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size,
                    unsigned span, unsigned align, bool fx, const void *data);

static inline uint64_t x87_get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}
static inline void x87_put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline struct emu_f80 x87_get80(const uint8_t *p)
{
    return f80_make((uint16_t)x87_get_le(p + 8, 2), x87_get_le(p, 8));
}
static inline void x87_put80(uint8_t *p, struct emu_f80 v)
{
    x87_put_le(p, v.mant, 8);
    x87_put_le(p + 8, v.sexp, 2);
}

/* The full (two bits per register) tag word from the abridged one and the
 * register contents (SDM Vol. 1 8.1.7). */
uint16_t x87_full_tag(const struct emu_fpu *f);

/* Instruction groups (one handler per row of the D8-DF map). They run after
 * the #NM and pending-#MF checks; FIP/FOP/FDP are recorded by the caller
 * when they return EMU_OK. */
int x87_arith_mem(struct emu_cpu *cpu, const struct emu_insn *in);  /* D8, DC, DA, DE mem */
int x87_arith_reg(struct emu_cpu *cpu, const struct emu_insn *in);  /* D8, DC, DE reg */
int x87_compare_reg(struct emu_cpu *cpu, const struct emu_insn *in); /* FCOM*, FUCOM*, FCOMI* */
int x87_fsqrt(struct emu_cpu *cpu, const struct emu_insn *in);
int x87_frndint(struct emu_cpu *cpu, const struct emu_insn *in);
int x87_fscale(struct emu_cpu *cpu, const struct emu_insn *in);
int x87_fprem(struct emu_cpu *cpu, const struct emu_insn *in);     /* FPREM, FPREM1 */
int x87_fxtract(struct emu_cpu *cpu, const struct emu_insn *in);
int x87_load_mem(struct emu_cpu *cpu, const struct emu_insn *in);  /* FLD/FILD/FBLD m */
int x87_store_mem(struct emu_cpu *cpu, const struct emu_insn *in); /* FST/FIST/FBSTP m */
int x87_trans(struct emu_cpu *cpu, const struct emu_insn *in);     /* D9 F0-FF transcendentals */
/* x87_env.c: the control instructions. */
int x87_fldcw(struct emu_cpu *cpu, const struct emu_insn *in);
int x87_fnstcw(struct emu_cpu *cpu, const struct emu_insn *in);
int x87_fnstsw(struct emu_cpu *cpu, const struct emu_insn *in); /* m16 and AX */
int x87_fnstenv(struct emu_cpu *cpu, const struct emu_insn *in);
int x87_fldenv(struct emu_cpu *cpu, const struct emu_insn *in);
int x87_fnsave(struct emu_cpu *cpu, const struct emu_insn *in);
int x87_frstor(struct emu_cpu *cpu, const struct emu_insn *in);
int x87_fninit(struct emu_cpu *cpu, const struct emu_insn *in);
int x87_fnclex(struct emu_cpu *cpu, const struct emu_insn *in);

#endif
