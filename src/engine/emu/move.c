/* Data movement: MOV, LEA, XCHG, CBW/CWD, MOVSX/MOVZX/MOVSXD, CMOVcc,
 * SETcc, XLAT, BSWAP, MOVNTI, ARPL (Intel SDM Vol. 2, the instructions'
 * pages; Vol. 1 3.4.1.1 for 32-bit writes zero-extending in 64-bit mode). */
#include "handlers.h"

int move_mov(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize;
    uint64_t v;
    int rc;

    if (in->opcode & 2) {
        if ((rc = emu_rm_read(cpu, in, size, &v)) != EMU_OK)
            return rc;
        emu_reg_set(cpu, in, in->reg, size, v);
        return EMU_OK;
    }
    return emu_rm_write(cpu, in, size, emu_reg_get(cpu, in, in->reg, size));
}

int move_mov_imm(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned reg = (in->opcode & 7) | ((in->rex & 1u) << 3);
    emu_reg_set(cpu, in, reg, in->opsize, in->imm);
    return EMU_OK;
}

int move_mov_rm_imm(struct emu_cpu *cpu, const struct emu_insn *in)
{
    if ((in->reg & 7) != 0)
        return emu_ud(cpu);
    return emu_rm_write(cpu, in, in->opsize, in->imm);
}

int move_moffs(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize;
    uint64_t off = emu_ea(cpu, in), v = 0;
    int rc;

    if (in->opcode & 2) {
        v = emu_reg_get(cpu, in, X86_RAX, size);
        return emu_write(cpu, in->seg, off, size, &v);
    }
    if ((rc = emu_read(cpu, in->seg, off, size, &v)) != EMU_OK)
        return rc;
    emu_reg_set(cpu, in, X86_RAX, size, v);
    return EMU_OK;
}

int move_lea(struct emu_cpu *cpu, const struct emu_insn *in)
{
    if (in->mod == 3)
        return emu_ud(cpu);
    emu_reg_set(cpu, in, in->reg, in->opsize, emu_ea(cpu, in));
    return EMU_OK;
}

int move_xchg(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize;
    uint64_t r = emu_reg_get(cpu, in, in->reg, size), m = 0;
    int rc;

    if (in->mod == 3) {
        m = emu_reg_get(cpu, in, in->rm, size);
        emu_reg_set(cpu, in, in->rm, size, r);
        emu_reg_set(cpu, in, in->reg, size, m);
        return EMU_OK;
    }
    /* XCHG with memory is always locked (SDM XCHG). */
    void *p = emu_rmw_ptr(cpu, in->seg, emu_ea(cpu, in), size, &rc);
    if (rc != EMU_OK)
        return rc;
    if (p) {
        switch (size) {
        case 1: m = __atomic_exchange_n((uint8_t *)p, (uint8_t)r, __ATOMIC_SEQ_CST); break;
        case 2: m = __atomic_exchange_n((uint16_t *)p, (uint16_t)r, __ATOMIC_SEQ_CST); break;
        case 4: m = __atomic_exchange_n((uint32_t *)p, (uint32_t)r, __ATOMIC_SEQ_CST); break;
        default: m = __atomic_exchange_n((uint64_t *)p, r, __ATOMIC_SEQ_CST); break;
        }
    } else {
        if ((rc = emu_read(cpu, in->seg, emu_ea(cpu, in), size, &m)) != EMU_OK)
            return rc;
        if ((rc = emu_write(cpu, in->seg, emu_ea(cpu, in), size, &r)) != EMU_OK)
            return rc;
    }
    emu_reg_set(cpu, in, in->reg, size, m);
    return EMU_OK;
}

int move_xchg_ax(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned reg = (in->opcode & 7) | ((in->rex & 1u) << 3);
    unsigned size = in->opsize;

    /* 90 is NOP (F3 90 is PAUSE): even XCHG EAX,EAX leaves RAX's upper half. */
    if (reg == X86_RAX)
        return EMU_OK;
    uint64_t a = emu_reg_get(cpu, in, X86_RAX, size), b = emu_reg_get(cpu, in, reg, size);
    emu_reg_set(cpu, in, X86_RAX, size, b);
    emu_reg_set(cpu, in, reg, size, a);
    return EMU_OK;
}

int move_cbw(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize;
    uint64_t v = emu_sext(cpu->gpr[X86_RAX], size / 2);
    emu_reg_set(cpu, in, X86_RAX, size, v);
    return EMU_OK;
}

int move_cwd(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize;
    uint64_t sign = (cpu->gpr[X86_RAX] >> (size * 8 - 1)) & 1;
    emu_reg_set(cpu, in, X86_RDX, size, sign ? ~0ull : 0);
    return EMU_OK;
}

int move_movx(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned src = (in->opcode & 1) ? 2 : 1;
    uint64_t v;
    int rc = emu_rm_read(cpu, in, src, &v);
    if (rc != EMU_OK)
        return rc;
    if (in->opcode & 8)
        v = emu_sext(v, src);
    emu_reg_set(cpu, in, in->reg, in->opsize, v);
    return EMU_OK;
}

int move_movsxd_arpl(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t v;
    int rc;

    if (cpu->code64) {
        /* MOVSXD; without REX.W it is a plain 32- or 16-bit move. */
        unsigned src = in->opsize == 2 ? 2 : 4;
        if ((rc = emu_rm_read(cpu, in, src, &v)) != EMU_OK)
            return rc;
        emu_reg_set(cpu, in, in->reg, in->opsize, emu_sext(v, src));
        return EMU_OK;
    }
    /* ARPL Ew, Gw: protected mode only. */
    if (cpu->code_mode == EMU_MODE_REAL || cpu->code_mode == EMU_MODE_VM86)
        return emu_ud(cpu);
    if ((rc = emu_rm_read(cpu, in, 2, &v)) != EMU_OK)
        return rc;
    uint64_t src = emu_reg_get(cpu, in, in->reg, 2);
    uint64_t f = emu_flags_get(cpu);
    if ((v & 3) < (src & 3)) {
        if ((rc = emu_rm_write(cpu, in, 2, (v & ~3ull) | (src & 3))) != EMU_OK)
            return rc;
        emu_flags_set_arith(cpu, f | EMU_ZF);
    } else {
        emu_flags_set_arith(cpu, f & ~(uint64_t)EMU_ZF);
    }
    return EMU_OK;
}

int move_cmov(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t v;
    int rc = emu_rm_read(cpu, in, in->opsize, &v);
    if (rc != EMU_OK)
        return rc;
    if (emu_cond_fast(cpu, in->opcode & 15))
        emu_reg_set(cpu, in, in->reg, in->opsize, v);
    else if (in->opsize == 4)
        cpu->gpr[in->reg] &= 0xffffffffu; /* 32-bit CMOV zero-extends even when false */
    return EMU_OK;
}

int move_setcc(struct emu_cpu *cpu, const struct emu_insn *in)
{
    return emu_rm_write(cpu, in, 1, emu_cond_fast(cpu, in->opcode & 15) ? 1 : 0);
}

int move_xlat(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t off = (cpu->gpr[X86_RBX] + (cpu->gpr[X86_RAX] & 0xff)) & emu_mask(in->addrsize);
    uint8_t v;
    int rc = emu_read(cpu, in->seg, off, 1, &v);
    if (rc != EMU_OK)
        return rc;
    cpu->gpr[X86_RAX] = (cpu->gpr[X86_RAX] & ~0xffull) | v;
    return EMU_OK;
}

int move_bswap(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned reg = (in->opcode & 7) | ((in->rex & 1u) << 3);
    uint64_t v = cpu->gpr[reg];

    if (in->opsize == 8)
        cpu->gpr[reg] = __builtin_bswap64(v);
    else if (in->opsize == 4)
        cpu->gpr[reg] = __builtin_bswap32((uint32_t)v);
    else
        cpu->gpr[reg] = v & ~0xffffull; /* 16-bit BSWAP: undefined; hardware gives 0 */
    return EMU_OK;
}

int move_movnti(struct emu_cpu *cpu, const struct emu_insn *in)
{
    if (in->mod == 3 || in->opsize == 2)
        return emu_ud(cpu);
    uint64_t v = emu_reg_get(cpu, in, in->reg, in->opsize);
    return emu_write(cpu, in->seg, emu_ea(cpu, in), in->opsize, &v);
}
