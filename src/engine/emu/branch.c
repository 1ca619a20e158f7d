/* Near control transfers: JMP, Jcc, CALL, RET, LOOP/JCXZ, group 5
 * (INC/DEC, indirect CALL/JMP, PUSH) and BOUND (SDM Vol. 2; Vol. 1 6.3
 * calls; targets outside CS's limit or non-canonical raise #GP(0) before
 * anything changes). Far forms are in far.c. */
#include "handlers.h"

/* Checks a near target of the instruction's operand size; on success
 * stores it in *out. */
static int branch_target(struct emu_cpu *cpu, uint64_t t, unsigned opsize, uint64_t *out)
{
    t &= emu_mask(opsize);
    if (cpu->code64) {
        if (!emu_canonical(t))
            return emu_gp0(cpu);
    } else if (t > cpu->seg[X86_CS].limit) {
        return emu_gp0(cpu);
    }
    *out = t;
    return EMU_OK;
}

int branch_jmp(struct emu_cpu *cpu, const struct emu_insn *in)
{
    return branch_target(cpu, cpu->next_rip + in->imm, in->opsize, &cpu->next_rip);
}

int branch_jcc(struct emu_cpu *cpu, const struct emu_insn *in)
{
    if (!emu_cond_fast(cpu, in->opcode & 15))
        return EMU_OK;
    return branch_target(cpu, cpu->next_rip + in->imm, in->opsize, &cpu->next_rip);
}

/* Jcc with its condition fixed, one handler per condition (the decoder's
 * pick, fast.c): after CMP/SUB or TEST/AND/OR/XOR, what nearly every Jcc
 * follows, the condition comes from the lazy state without the flags. */
#define BRANCH_JCC(cc)                                                              \
    static int branch_jcc_##cc(struct emu_cpu *cpu, const struct emu_insn *in)      \
    {                                                                               \
        if (!emu_cond_fast(cpu, cc))                                                \
            return EMU_OK;                                                          \
        return branch_target(cpu, cpu->next_rip + in->imm, in->opsize, &cpu->next_rip); \
    }
BRANCH_JCC(0) BRANCH_JCC(1) BRANCH_JCC(2) BRANCH_JCC(3)
BRANCH_JCC(4) BRANCH_JCC(5) BRANCH_JCC(6) BRANCH_JCC(7)
BRANCH_JCC(8) BRANCH_JCC(9) BRANCH_JCC(10) BRANCH_JCC(11)
BRANCH_JCC(12) BRANCH_JCC(13) BRANCH_JCC(14) BRANCH_JCC(15)

emu_handler branch_jcc_handler(unsigned cc)
{
    static const emu_handler h[16] = {
        branch_jcc_0, branch_jcc_1, branch_jcc_2, branch_jcc_3,
        branch_jcc_4, branch_jcc_5, branch_jcc_6, branch_jcc_7,
        branch_jcc_8, branch_jcc_9, branch_jcc_10, branch_jcc_11,
        branch_jcc_12, branch_jcc_13, branch_jcc_14, branch_jcc_15,
    };
    return h[cc & 15];
}

int branch_loop(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t mask = emu_mask(in->addrsize);
    uint64_t count = cpu->gpr[X86_RCX] & mask;
    bool take;
    uint64_t t = 0;
    int rc;

    if (in->opcode == 0xe3) {
        take = count == 0;
    } else {
        count = (count - 1) & mask;
        take = count != 0;
        if (in->opcode == 0xe1)
            take = take && emu_flag_zf(cpu);
        else if (in->opcode == 0xe0)
            take = take && !emu_flag_zf(cpu);
    }
    if (take && (rc = branch_target(cpu, cpu->next_rip + in->imm, in->opsize, &t)) != EMU_OK)
        return rc;
    if (in->opcode != 0xe3)
        emu_reg_set(cpu, in, X86_RCX, in->addrsize, count);
    if (take)
        cpu->next_rip = t;
    return EMU_OK;
}

int branch_call(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t t = 0;
    int rc = branch_target(cpu, cpu->next_rip + in->imm, in->opsize, &t);
    if (rc != EMU_OK)
        return rc;
    if ((rc = emu_push(cpu, in->opsize, cpu->next_rip)) != EMU_OK)
        return rc;
    cpu->next_rip = t;
    return EMU_OK;
}

int branch_ret(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t v = 0, t = 0;
    int rc = emu_pop_peek(cpu, in->opsize, 0, &v);
    if (rc != EMU_OK)
        return rc;
    if ((rc = branch_target(cpu, v, in->opsize, &t)) != EMU_OK)
        return rc;
    emu_pop_commit(cpu, in->opsize + (in->opcode == 0xc2 ? (unsigned)in->imm : 0));
    cpu->next_rip = t;
    return EMU_OK;
}

static int branch_incdec(struct emu_cpu *cpu, const struct emu_insn *in, bool dec)
{
    unsigned size = in->opsize;
    bool cf = emu_flag_cf(cpu);
    uint64_t old, res;
    int rc;

    if (in->mod == 3) {
        old = emu_reg_get(cpu, in, in->rm, size);
        res = dec ? old - 1 : old + 1;
        emu_reg_set(cpu, in, in->rm, size, res);
    } else {
        void *p = emu_rmw_ptr(cpu, in->seg, emu_ea(cpu, in), size, &rc);
        if (rc != EMU_OK)
            return rc;
        if (p) {
            uint64_t d = dec ? emu_mask(size) : 1; /* add -1 or +1 */
            switch (size) {
            case 2: old = __atomic_fetch_add((uint16_t *)p, (uint16_t)d, __ATOMIC_SEQ_CST); break;
            case 4: old = __atomic_fetch_add((uint32_t *)p, (uint32_t)d, __ATOMIC_SEQ_CST); break;
            default: old = __atomic_fetch_add((uint64_t *)p, d, __ATOMIC_SEQ_CST); break;
            }
        } else {
            old = 0;
            if ((rc = emu_read(cpu, in->seg, emu_ea(cpu, in), size, &old)) != EMU_OK)
                return rc;
            uint64_t nv = dec ? old - 1 : old + 1;
            if ((rc = emu_write(cpu, in->seg, emu_ea(cpu, in), size, &nv)) != EMU_OK)
                return rc;
        }
        res = dec ? old - 1 : old + 1;
    }
    emu_lazy_set(cpu, dec ? EMU_LF_DEC : EMU_LF_INC, size, res, old, 1, cf);
    return EMU_OK;
}

int branch_grp5(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned op = in->reg & 7;
    uint64_t v = 0, t = 0;
    int rc;

    if (in->lock && op >= 2)
        return emu_ud(cpu);
    switch (op) {
    case 0: return branch_incdec(cpu, in, false);
    case 1: return branch_incdec(cpu, in, true);
    case 2:
    case 4:
        if ((rc = emu_rm_read(cpu, in, in->opsize, &v)) != EMU_OK)
            return rc;
        if ((rc = branch_target(cpu, v, in->opsize, &t)) != EMU_OK)
            return rc;
        if (op == 2 && (rc = emu_push(cpu, in->opsize, cpu->next_rip)) != EMU_OK)
            return rc;
        cpu->next_rip = t;
        return EMU_OK;
    case 3:
        if (in->mod == 3)
            return emu_ud(cpu);
        return far_call_ptr(cpu, in);
    case 5:
        if (in->mod == 3)
            return emu_ud(cpu);
        return far_jmp_ptr(cpu, in);
    case 6:
        if ((rc = emu_rm_read(cpu, in, in->opsize, &v)) != EMU_OK)
            return rc;
        return emu_push(cpu, in->opsize, v);
    default:
        return emu_ud(cpu);
    }
}

int branch_bound(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize;
    uint64_t lo = 0, hi = 0, off;
    int rc;

    if (in->mod == 3)
        return emu_ud(cpu);
    off = emu_ea(cpu, in);
    if ((rc = emu_read(cpu, in->seg, off, size, &lo)) != EMU_OK)
        return rc;
    if ((rc = emu_read(cpu, in->seg, (off + size) & emu_mask(in->addrsize), size, &hi)) != EMU_OK)
        return rc;
    int64_t idx = (int64_t)emu_sext(emu_reg_get(cpu, in, in->reg, size), size);
    if (idx < (int64_t)emu_sext(lo, size) || idx > (int64_t)emu_sext(hi, size))
        return emu_raise(cpu, EMU_BR);
    return EMU_OK;
}
