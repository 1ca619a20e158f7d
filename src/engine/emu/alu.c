/* alu: ADD, OR, ADC, SBB, AND, SUB, XOR, CMP (the six forms and group 1),
 * TEST, INC/DEC (40-4F and group 4), CMPXCHG, XADD and CMPXCHG8B.
 * Spec: Intel SDM Vol. 2A/2B/2C, the instruction pages of those names;
 * Vol. 3A 9.1.2 (locked operations). Flags are left lazy (emu.h). */
#include "alu.h"
#include "handlers.h"

/* The lazy-flags kind of each enum alu_op. */
static const uint8_t alu_lf[12] = {
    EMU_LF_ADD, EMU_LF_LOGIC, EMU_LF_ADC, EMU_LF_SBB, EMU_LF_LOGIC, EMU_LF_SUB,
    EMU_LF_LOGIC, EMU_LF_SUB, EMU_LF_INC, EMU_LF_DEC, EMU_LF_NONE, EMU_LF_NEG,
};

static inline uint64_t alu_calc(unsigned op, uint64_t a, uint64_t b, unsigned c)
{
    switch (op) {
    case ALU_ADD: return a + b;
    case ALU_OR: return a | b;
    case ALU_ADC: return a + b + c;
    case ALU_SBB: return a - b - c;
    case ALU_AND: return a & b;
    case ALU_XOR: return a ^ b;
    case ALU_INC: return a + 1;
    case ALU_DEC: return a - 1;
    case ALU_NOT: return ~a;
    case ALU_NEG: return 0 - a;
    default: return a - b; /* SUB, CMP */
    }
}

/* The carry-in ADC/SBB consume, or the CF that INC/DEC preserve. */
static inline unsigned alu_cin(const struct emu_cpu *cpu, unsigned op)
{
    if (op == ALU_ADC || op == ALU_SBB || op == ALU_INC || op == ALU_DEC)
        return emu_flag_cf(cpu);
    return 0;
}

static inline void alu_flags(struct emu_cpu *cpu, unsigned op, unsigned size, uint64_t r,
                             uint64_t a, uint64_t b, unsigned c)
{
    if (op == ALU_NOT)
        return;
    if (op == ALU_INC || op == ALU_DEC)
        b = 1;
    emu_lazy_set(cpu, alu_lf[op], size, r, a, b, c);
}

int alu_rmw(struct emu_cpu *cpu, const struct emu_insn *in, unsigned op, unsigned size,
            uint64_t src)
{
    unsigned c = alu_cin(cpu, op);
    uint64_t a = 0, r, b = src & emu_mask(size);

    if (in->mod == 3) {
        a = emu_reg_get(cpu, in, in->rm, size);
        r = alu_calc(op, a, b, c);
        if (op != ALU_CMP)
            emu_reg_set(cpu, in, in->rm, size, r);
    } else if (op == ALU_CMP) {
        int rc = emu_read(cpu, in->seg, emu_ea(cpu, in), size, &a);
        if (rc != EMU_OK)
            return rc;
        r = a - b;
    } else {
        struct alu_mem m;
        int rc = alu_mem_open(cpu, &m, in->seg, emu_ea(cpu, in), size, &a);
        if (rc != EMU_OK)
            return rc;
        if (m.p && in->lock) {
            do
                r = alu_calc(op, a, b, c);
            while (!alu_cas(m.p, size, &a, r));
        } else {
            r = alu_calc(op, a, b, c);
            rc = alu_mem_commit(cpu, &m, size, r);
            if (rc != EMU_OK)
                return rc;
        }
    }
    alu_flags(cpu, op, size, r, a, b, c);
    return EMU_OK;
}

/* dest = dest op b on register dst: the common case, kept short. */
static inline int alu_reg_op(struct emu_cpu *cpu, const struct emu_insn *in, unsigned op,
                             unsigned size, unsigned dst, uint64_t b)
{
    uint64_t a = emu_reg_get(cpu, in, dst, size);
    unsigned c = alu_cin(cpu, op);
    uint64_t r = alu_calc(op, a, b, c);
    if (op != ALU_CMP)
        emu_reg_set(cpu, in, dst, size, r);
    emu_lazy_set(cpu, alu_lf[op], size, r, a, b, c);
    return EMU_OK;
}

/* 00-3D: op = opcode bits 5:3; form = bits 2:0 (Eb,Gb Ev,Gv Gb,Eb Gv,Ev AL,Ib eAX,Iz). */
int alu_binop(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned op = (in->opcode >> 3) & 7, size = in->opsize;
    uint64_t b;

    switch (in->opcode & 7) {
    case 0:
    case 1:
        b = emu_reg_get(cpu, in, in->reg, size);
        if (in->mod != 3)
            return alu_rmw(cpu, in, op, size, b);
        return alu_reg_op(cpu, in, op, size, in->rm, b);
    case 2:
    case 3: {
        int rc = emu_rm_read(cpu, in, size, &b);
        if (rc != EMU_OK)
            return rc;
        return alu_reg_op(cpu, in, op, size, in->reg, b);
    }
    default:
        return alu_reg_op(cpu, in, op, size, X86_RAX, in->imm & emu_mask(size));
    }
}

/* 80-83 (group 1): the operation is ModRM.reg. A locked CMP is #UD (it
 * writes nothing, SDM Vol. 2A 2.1.1 LOCK). */
int alu_grp1(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned op = in->reg & 7, size = in->opsize;
    if (in->mod == 3)
        return alu_reg_op(cpu, in, op, size, in->rm, in->imm & emu_mask(size));
    if (op == ALU_CMP && in->lock)
        return emu_ud(cpu);
    return alu_rmw(cpu, in, op, size, in->imm);
}

/* 84/85 TEST r/m, reg; A8/A9 TEST AL/eAX, imm. */
int alu_test(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize;
    uint64_t a, b;

    if (in->opcode >= 0xa8) {
        a = emu_reg_get(cpu, in, 0, size);
        b = in->imm;
    } else {
        int rc = emu_rm_read(cpu, in, size, &a);
        if (rc != EMU_OK)
            return rc;
        b = emu_reg_get(cpu, in, in->reg, size);
    }
    emu_lazy_set(cpu, EMU_LF_LOGIC, size, a & b, a, b, 0);
    return EMU_OK;
}

/* 40-4F outside 64-bit mode (there they are REX prefixes). */
int alu_incdec_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned reg = in->opcode & 7, size = in->opsize;
    unsigned dec = (in->opcode >> 3) & 1;
    unsigned c = emu_flag_cf(cpu);
    uint64_t a = emu_reg_get(cpu, in, reg, size);
    uint64_t r = dec ? a - 1 : a + 1;
    emu_reg_set(cpu, in, reg, size, r);
    emu_lazy_set(cpu, dec ? EMU_LF_DEC : EMU_LF_INC, size, r, a, 1, c);
    return EMU_OK;
}

/* FE (group 4): /0 INC Eb, /1 DEC Eb; the rest is #UD. */
int alu_grp4(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned r = in->reg & 7;
    if (r > 1)
        return emu_ud(cpu);
    return alu_rmw(cpu, in, r ? ALU_DEC : ALU_INC, 1, 0);
}

/* 0F B0/B1 CMPXCHG r/m, reg. Flags as CMP accumulator, dest. The memory
 * form always writes the destination (the old value back when unequal);
 * the register form leaves it untouched when unequal, so a 32-bit
 * destination is not zero-extended then (as hardware does). */
int alu_cmpxchg(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize;
    uint64_t acc = emu_reg_get(cpu, in, 0, size);
    uint64_t src = emu_reg_get(cpu, in, in->reg, size);
    uint64_t old;

    if (in->mod == 3) {
        old = emu_reg_get(cpu, in, in->rm, size);
        if (old == acc)
            emu_reg_set(cpu, in, in->rm, size, src);
        else
            emu_reg_set(cpu, in, 0, size, old);
    } else {
        struct alu_mem m;
        int rc = alu_mem_open(cpu, &m, in->seg, emu_ea(cpu, in), size, &old);
        if (rc != EMU_OK)
            return rc;
        if (m.p) {
            /* Through RAM: storing the old value back changes nothing. */
            if (in->lock) {
                old = acc;
                (void)alu_cas(m.p, size, &old, src);
            } else if (old == acc) {
                (void)alu_mem_commit(cpu, &m, size, src);
            }
        } else {
            rc = alu_mem_commit(cpu, &m, size, old == acc ? src : old);
            if (rc != EMU_OK)
                return rc;
        }
        if (old != acc)
            emu_reg_set(cpu, in, 0, size, old);
    }
    emu_lazy_set(cpu, EMU_LF_SUB, size, acc - old, acc, old, 0);
    return EMU_OK;
}

/* 0F C0/C1 XADD r/m, reg: TEMP = SRC + DEST; SRC = DEST; DEST = TEMP. */
int alu_xadd(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize;
    uint64_t src = emu_reg_get(cpu, in, in->reg, size);
    uint64_t dst, sum;

    if (in->mod == 3) {
        dst = emu_reg_get(cpu, in, in->rm, size);
        sum = dst + src;
        emu_reg_set(cpu, in, in->reg, size, dst);
        emu_reg_set(cpu, in, in->rm, size, sum);
    } else {
        struct alu_mem m;
        int rc = alu_mem_open(cpu, &m, in->seg, emu_ea(cpu, in), size, &dst);
        if (rc != EMU_OK)
            return rc;
        if (m.p && in->lock) {
            do
                sum = dst + src;
            while (!alu_cas(m.p, size, &dst, sum));
        } else {
            sum = dst + src;
            rc = alu_mem_commit(cpu, &m, size, sum);
            if (rc != EMU_OK)
                return rc;
        }
        emu_reg_set(cpu, in, in->reg, size, dst);
    }
    emu_lazy_set(cpu, EMU_LF_ADD, size, sum, dst, src, 0);
    return EMU_OK;
}

/* 0F C7 (group 9): /1 CMPXCHG8B m64 only. REX.W would be CMPXCHG16B, which
 * roam-v1 lacks (no CX16), and the other /reg values (RDRAND, RDSEED,
 * RDPID, VMX) are absent too: all #UD. Only ZF changes. */
int alu_cmpxchg8b(struct emu_cpu *cpu, const struct emu_insn *in)
{
    if ((in->reg & 7) != 1 || in->mod == 3 || in->opsize == 8)
        return emu_ud(cpu);

    uint64_t cmp = (cpu->gpr[X86_RDX] << 32) | (cpu->gpr[X86_RAX] & 0xffffffffu);
    uint64_t nv = (cpu->gpr[X86_RCX] << 32) | (cpu->gpr[X86_RBX] & 0xffffffffu);
    uint64_t old;
    struct alu_mem m;
    int rc = alu_mem_open(cpu, &m, in->seg, emu_ea(cpu, in), 8, &old);
    if (rc != EMU_OK)
        return rc;
    if (m.p) {
        if (in->lock) {
            old = cmp;
            (void)alu_cas(m.p, 8, &old, nv);
        } else if (old == cmp) {
            (void)alu_mem_commit(cpu, &m, 8, nv);
        }
    } else {
        rc = alu_mem_commit(cpu, &m, 8, old == cmp ? nv : old);
        if (rc != EMU_OK)
            return rc;
    }
    if (old != cmp) {
        cpu->gpr[X86_RAX] = old & 0xffffffffu;
        cpu->gpr[X86_RDX] = old >> 32;
    }
    alu_flags_merge(cpu, EMU_ZF, old == cmp ? EMU_ZF : 0);
    return EMU_OK;
}
