/* The stack: PUSH/POP (registers, memory, immediates, flags), PUSHA/POPA,
 * ENTER/LEAVE (SDM Vol. 2; Vol. 1 6.2 stack, 6.5 procedure calls; POPF's
 * IOPL/IF rules: Vol. 2 POPF table). Writes happen before RSP moves, so a
 * fault leaves RSP as it was. */
#include "handlers.h"

unsigned emu_stack_size(const struct emu_cpu *cpu)
{
    if (cpu->code64)
        return 8;
    return cpu->seg[X86_SS].db ? 4 : 2;
}

static void stack_set_sp(struct emu_cpu *cpu, uint64_t sp)
{
    unsigned ssz = emu_stack_size(cpu);
    if (ssz == 2)
        cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~0xffffull) | (sp & 0xffff);
    else
        cpu->gpr[X86_RSP] = sp & emu_mask(ssz);
}

int emu_push(struct emu_cpu *cpu, unsigned size, uint64_t v)
{
    uint64_t sp = (cpu->gpr[X86_RSP] - size) & emu_mask(emu_stack_size(cpu));
    int rc = emu_write(cpu, X86_SS, sp, size, &v);
    if (rc == EMU_OK)
        stack_set_sp(cpu, sp);
    return rc;
}

int emu_pop_peek(struct emu_cpu *cpu, unsigned size, unsigned offset, uint64_t *v)
{
    uint64_t sp = (cpu->gpr[X86_RSP] + offset) & emu_mask(emu_stack_size(cpu));
    uint64_t x = 0;
    int rc = emu_read(cpu, X86_SS, sp, size, &x);
    if (rc == EMU_OK)
        *v = x;
    return rc;
}

void emu_pop_commit(struct emu_cpu *cpu, unsigned bytes)
{
    stack_set_sp(cpu, cpu->gpr[X86_RSP] + bytes);
}

int stack_push_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned reg = (in->opcode & 7) | ((in->rex & 1u) << 3);
    return emu_push(cpu, in->opsize, cpu->gpr[reg]);
}

int stack_pop_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned reg = (in->opcode & 7) | ((in->rex & 1u) << 3);
    uint64_t v;
    int rc = emu_pop_peek(cpu, in->opsize, 0, &v);
    if (rc != EMU_OK)
        return rc;
    emu_pop_commit(cpu, in->opsize);
    emu_reg_set(cpu, in, reg, in->opsize, v); /* POP RSP: the popped value wins */
    return EMU_OK;
}

int stack_push_imm(struct emu_cpu *cpu, const struct emu_insn *in)
{
    return emu_push(cpu, in->opsize, in->imm);
}

int stack_pop_rm(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t v, old = cpu->gpr[X86_RSP];
    int rc;

    if ((in->reg & 7) != 0)
        return emu_ud(cpu);
    if ((rc = emu_pop_peek(cpu, in->opsize, 0, &v)) != EMU_OK)
        return rc;
    /* The destination's address is computed after RSP moves (SDM POP). */
    emu_pop_commit(cpu, in->opsize);
    rc = emu_rm_write(cpu, in, in->opsize, v);
    if (rc != EMU_OK)
        cpu->gpr[X86_RSP] = old;
    return rc;
}

int stack_pusha(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize;
    uint8_t buf[32];
    /* Memory order, low to high: DI SI BP SP BX DX CX AX (SP as before). */
    static const uint8_t order[8] = {X86_RDI, X86_RSI, X86_RBP, X86_RSP,
                                     X86_RBX, X86_RDX, X86_RCX, X86_RAX};
    for (unsigned i = 0; i < 8; i++) {
        uint64_t v = cpu->gpr[order[i]];
        memcpy(buf + i * size, &v, size);
    }
    uint64_t sp = (cpu->gpr[X86_RSP] - 8 * size) & emu_mask(emu_stack_size(cpu));
    int rc = emu_write(cpu, X86_SS, sp, 8 * size, buf);
    if (rc == EMU_OK)
        stack_set_sp(cpu, sp);
    return rc;
}

int stack_popa(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize;
    uint8_t buf[32];
    static const uint8_t order[8] = {X86_RDI, X86_RSI, X86_RBP, X86_RSP,
                                     X86_RBX, X86_RDX, X86_RCX, X86_RAX};
    uint64_t sp = cpu->gpr[X86_RSP] & emu_mask(emu_stack_size(cpu));
    int rc = emu_read(cpu, X86_SS, sp, 8 * size, buf);
    if (rc != EMU_OK)
        return rc;
    for (unsigned i = 0; i < 8; i++) {
        uint64_t v = 0;
        if (order[i] == X86_RSP)
            continue;
        memcpy(&v, buf + i * size, size);
        emu_reg_set(cpu, in, order[i], size, v);
    }
    emu_pop_commit(cpu, 8 * size);
    return EMU_OK;
}

int stack_pushf(struct emu_cpu *cpu, const struct emu_insn *in)
{
    if (cpu->code_mode == EMU_MODE_VM86 && ((cpu->rflags & EMU_IOPL) >> 12) < 3)
        return emu_gp0(cpu);
    /* The image has VM and RF clear. */
    uint64_t f = emu_flags_get(cpu) & ~(uint64_t)(EMU_VM | EMU_RF);
    return emu_push(cpu, in->opsize, f);
}

int stack_popf(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned iopl = (unsigned)((cpu->rflags & EMU_IOPL) >> 12);
    uint64_t v, mask;
    int rc;

    if (cpu->code_mode == EMU_MODE_VM86 && iopl < 3)
        return emu_gp0(cpu);
    if ((rc = emu_pop_peek(cpu, in->opsize, 0, &v)) != EMU_OK)
        return rc;
    mask = EMU_ARITH_FLAGS | EMU_TF | EMU_DF | EMU_NT | EMU_AC | EMU_ID;
    if (cpu->cpl == 0)
        mask |= EMU_IOPL | EMU_IF;
    else if (cpu->cpl <= iopl)
        mask |= EMU_IF;
    if (cpu->code_mode == EMU_MODE_VM86)
        mask = (mask | EMU_IF) & ~(uint64_t)EMU_IOPL;
    if (in->opsize == 2)
        mask &= 0xffff;
    uint64_t f = emu_flags_get(cpu);
    f = (f & ~mask) | (v & mask);
    f &= ~(uint64_t)EMU_RF;
    emu_pop_commit(cpu, in->opsize);
    emu_flags_load(cpu, f);
    return EMU_OK;
}

int stack_enter(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize, level = in->imm2 & 31, ssz = emu_stack_size(cpu);
    uint64_t smask = emu_mask(ssz);
    uint64_t bp = cpu->gpr[X86_RBP], sp = cpu->gpr[X86_RSP];
    uint64_t at = sp;
    int rc;

    /* The pushes are stores made one after the other, as hardware makes
     * them: a fault in a nested frame read leaves the earlier pushes in
     * memory (below RSP, which has not moved). RBP and RSP change last. */
    at = (at - size) & smask;
    if ((rc = emu_write(cpu, X86_SS, at, size, &bp)) != EMU_OK)
        return rc;
    uint64_t frame = at;
    for (unsigned i = 1; i < level; i++) {
        uint64_t v = 0;
        if ((rc = emu_read(cpu, X86_SS, (bp - i * size) & smask, size, &v)) != EMU_OK)
            return rc;
        at = (at - size) & smask;
        if ((rc = emu_write(cpu, X86_SS, at, size, &v)) != EMU_OK)
            return rc;
    }
    if (level > 0) {
        at = (at - size) & smask;
        if ((rc = emu_write(cpu, X86_SS, at, size, &frame)) != EMU_OK)
            return rc;
    }
    /* With alignment checking on, the new RSP must be aligned too. */
    uint64_t final_sp = (at - in->imm) & smask;
    if (cpu->cpl == 3 && (cpu->cr0 & EMU_CR0_AM) && (cpu->rflags & EMU_AC) &&
        (final_sp & (size - 1)))
        return emu_raise_err(cpu, EMU_VEC_AC, 0);
    emu_reg_set(cpu, in, X86_RBP, size, frame);
    stack_set_sp(cpu, final_sp);
    return EMU_OK;
}

int stack_leave(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned ssz = emu_stack_size(cpu);
    uint64_t bp = cpu->gpr[X86_RBP] & emu_mask(ssz), v = 0;
    int rc = emu_read(cpu, X86_SS, bp, in->opsize, &v);
    if (rc != EMU_OK)
        return rc;
    stack_set_sp(cpu, bp + in->opsize);
    emu_reg_set(cpu, in, X86_RBP, in->opsize, v);
    return EMU_OK;
}
