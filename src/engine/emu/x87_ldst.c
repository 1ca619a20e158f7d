/* x87 loads and stores with a memory operand (Intel SDM Vol. 2: FLD, FILD,
 * FBLD, FST/FSTP, FIST/FISTP, FBSTP): the conversions are f80_conv.c. A
 * store computes its value and status first, writes memory, and only then
 * commits FSW and the pop, so a fault leaves the FPU as it was. A store
 * that an unmasked exception suppresses still checks its operand (#GP,
 * #AC, #PF), as hardware does. */
#include "handlers.h"
#include "x87.h"

/* D9 /0 FLD m32, DD /0 FLD m64, DB /5 FLD m80, DB /0 FILD m32, DF /0 FILD
 * m16, DF /5 FILD m64, DF /4 FBLD m80bcd. */
int x87_load_mem(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct emu_fpu *f = &cpu->fpu;
    unsigned op = in->opcode & 7, reg = in->reg & 7;
    unsigned size;
    uint8_t buf[10];

    if (op == 1)
        size = 4;
    else if (op == 5)
        size = 8;
    else if (op == 3)
        size = reg == 5 ? 10 : 4;
    else
        size = reg == 0 ? 2 : reg == 5 ? 8 : 10;
    int rc = x87_read(cpu, in, 0, size, buf);
    if (rc != EMU_OK)
        return rc;

    x87_clear_c1(f);
    if (!x87_empty(f, 7)) {
        x87_stack_overflow(f);
        return EMU_OK;
    }
    uint64_t v = x87_get_le(buf, size < 8 ? size : 8);
    struct emu_f80 r;
    if (op == 1 || op == 5) {
        /* FLD m32/m64: an SNaN is quieted with IE; a denormal raises DE
         * but is loaded even when DE is unmasked. */
        struct f80_env e = x87_env(f);
        r = op == 1 ? f80_load_f32(&e, (uint32_t)v) : f80_load_f64(&e, v);
        if (x87_exception(f, e.flags, false) & F80_IE)
            return EMU_OK;
    } else if (size == 10) {
        r = reg == 5 ? x87_get80(buf) : f80_from_bcd(buf);
    } else {
        r = f80_from_int((int64_t)emu_sext(v, size));
    }
    x87_push(f, r);
    return EMU_OK;
}

/* An unmasked exception suppressed the store: the operand's faults still
 * come first, with FSW as it was before the instruction. */
static int x87_store_suppressed(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size,
                                uint16_t old_sw)
{
    uint16_t sw = cpu->fpu.fsw;
    cpu->fpu.fsw = old_sw;
    int rc = x87_write_check(cpu, in, size);
    if (rc == EMU_OK)
        cpu->fpu.fsw = sw;
    return rc;
}

/* D9 /2 /3 FST(P) m32, DD /2 /3 FST(P) m64, DB /7 FSTP m80, DB /2 /3
 * FIST(P) m32, DF /2 /3 FIST(P) m16, DF /7 FISTP m64, DF /6 FBSTP. */
int x87_store_mem(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct emu_fpu *f = &cpu->fpu;
    unsigned op = in->opcode & 7, reg = in->reg & 7;
    bool pop = reg != 2;
    uint16_t old_sw = f->fsw;
    uint8_t buf[10];
    unsigned size;

    if (op == 1 || op == 5)
        size = op == 1 ? 4 : 8;
    else if ((op == 3 && reg == 7) || (op == 7 && reg == 6))
        size = 10;
    else
        size = op == 3 ? 4 : reg == 7 ? 8 : 2;
    x87_clear_c1(f);
    struct emu_f80 a = x87_st(f, 0);
    struct f80_env e = x87_env(f);
    if (x87_empty(f, 0)) {
        /* Underflow: masked, the format's indefinite is stored. */
        x87_exception(f, F80_IE | F80_SF, false);
        if (!x87_ie_masked(f))
            return x87_store_suppressed(cpu, in, size, old_sw);
        a = f80_indefinite();
        e.cw |= F80_EXC_MASK;
    }
    if (op == 1 || op == 5)
        x87_put_le(buf, op == 1 ? f80_to_f32(&e, a) : f80_to_f64(&e, a), size);
    else if (op == 3 && reg == 7)
        x87_put80(buf, a);
    else if (op == 7 && reg == 6)
        f80_to_bcd(&e, a, buf);
    else
        x87_put_le(buf, (uint64_t)f80_to_int(&e, a, size * 8), size);
    if (!x87_empty(f, 0) && x87_exception(f, e.flags, true))
        return x87_store_suppressed(cpu, in, size, old_sw); /* nothing stored, no pop */

    uint16_t new_sw = f->fsw;
    f->fsw = old_sw;
    int rc = x87_write(cpu, in, size, buf);
    if (rc != EMU_OK)
        return rc;
    f->fsw = new_sw;
    if (pop)
        x87_pop(f);
    return EMU_OK;
}
