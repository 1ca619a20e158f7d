/* fast: specialised handlers for the instruction forms that dominate what
 * guests execute. Counted over a Linux boot (Debian 12's cloud kernel, its
 * crypto self-tests included), MOV, the two-operand ALU group, group 1
 * and TEST with an immediate, shifts by an immediate (shift.c has those),
 * IMUL, LEA, MOVSXD and MOVZX between 32/64-bit registers or with a plain
 * memory operand make up about two thirds of all
 * instructions. The generic handlers reach the same result through a
 * switch on the form, one on the operation and one on the operand size,
 * all data-dependent branches; the decoder instead picks one of these,
 * where each of those choices is already made. Every handler here is the
 * generic one's semantics for its form (the same lazy flags and the same
 * memory path), so the differential tester against hardware covers them.
 * Spec: Intel SDM Vol. 2A/2B, the pages of ADD, ADC, AND, CMP, IMUL, LEA,
 * MOV, MOVSXD, MOVZX, OR, SBB, SUB, TEST, XOR. */
#include "alu.h"
#include "handlers.h"

/* ---- MOV ---- */

static int fast_mov89_r64(struct emu_cpu *cpu, const struct emu_insn *in)
{
    cpu->gpr[in->rm] = cpu->gpr[in->reg];
    return EMU_OK;
}

static int fast_mov8b_r64(struct emu_cpu *cpu, const struct emu_insn *in)
{
    cpu->gpr[in->reg] = cpu->gpr[in->rm];
    return EMU_OK;
}

static int fast_mov89_r32(struct emu_cpu *cpu, const struct emu_insn *in)
{
    cpu->gpr[in->rm] = (uint32_t)cpu->gpr[in->reg];
    return EMU_OK;
}

static int fast_mov8b_r32(struct emu_cpu *cpu, const struct emu_insn *in)
{
    cpu->gpr[in->reg] = (uint32_t)cpu->gpr[in->rm];
    return EMU_OK;
}

static int fast_load64(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t v;
    int rc = emu_read(cpu, in->seg, emu_ea(cpu, in), 8, &v);
    if (rc == EMU_OK)
        cpu->gpr[in->reg] = v;
    return rc;
}

static int fast_load32(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint32_t v;
    int rc = emu_read(cpu, in->seg, emu_ea(cpu, in), 4, &v);
    if (rc == EMU_OK)
        cpu->gpr[in->reg] = v;
    return rc;
}

static int fast_store64(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t v = cpu->gpr[in->reg];
    return emu_write(cpu, in->seg, emu_ea(cpu, in), 8, &v);
}

static int fast_store32(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint32_t v = (uint32_t)cpu->gpr[in->reg];
    return emu_write(cpu, in->seg, emu_ea(cpu, in), 4, &v);
}

/* 8D LEA with 64-bit operand and address sizes. */
static int fast_lea64(struct emu_cpu *cpu, const struct emu_insn *in)
{
    cpu->gpr[in->reg] = emu_ea(cpu, in);
    return EMU_OK;
}

/* 63 MOVSXD r64, r32. */
static int fast_movsxd_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
    cpu->gpr[in->reg] = (uint64_t)(int64_t)(int32_t)cpu->gpr[in->rm];
    return EMU_OK;
}

/* 0F B6 MOVZX r32/r64, r8 (register: AH-BH without REX) and m8. */
static int fast_movzx8_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
    cpu->gpr[in->reg] = emu_reg_get(cpu, in, in->rm, 1);
    return EMU_OK;
}

static int fast_movzx8_m(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint8_t v;
    int rc = emu_read(cpu, in->seg, emu_ea(cpu, in), 1, &v);
    if (rc == EMU_OK)
        cpu->gpr[in->reg] = v;
    return rc;
}

/* ---- the ALU group between registers, and group 1 with an immediate ----
 * One handler per operation and size. dst/src: opcodes with bit 1 clear
 * (01, 09, ... 39, and 85 TEST) write r/m, those with it set write reg. */

#define FAST_ALU_CALC_ADD(a, b, c) ((a) + (b))
#define FAST_ALU_CALC_OR(a, b, c) ((a) | (b))
#define FAST_ALU_CALC_ADC(a, b, c) ((a) + (b) + (c))
#define FAST_ALU_CALC_SBB(a, b, c) ((a) - (b) - (c))
#define FAST_ALU_CALC_AND(a, b, c) ((a) & (b))
#define FAST_ALU_CALC_SUB(a, b, c) ((a) - (b))
#define FAST_ALU_CALC_XOR(a, b, c) ((a) ^ (b))
#define FAST_ALU_CALC_CMP(a, b, c) ((a) - (b))
#define FAST_ALU_CALC_TEST(a, b, c) ((a) & (b))

#define FAST_CIN_ADD 0
#define FAST_CIN_OR 0
#define FAST_CIN_ADC 1
#define FAST_CIN_SBB 1
#define FAST_CIN_AND 0
#define FAST_CIN_SUB 0
#define FAST_CIN_XOR 0
#define FAST_CIN_CMP 0
#define FAST_CIN_TEST 0

#define FAST_WR_ADD 1
#define FAST_WR_OR 1
#define FAST_WR_ADC 1
#define FAST_WR_SBB 1
#define FAST_WR_AND 1
#define FAST_WR_SUB 1
#define FAST_WR_XOR 1
#define FAST_WR_CMP 0
#define FAST_WR_TEST 0

#define FAST_LF_ADD EMU_LF_ADD
#define FAST_LF_OR EMU_LF_LOGIC
#define FAST_LF_ADC EMU_LF_ADC
#define FAST_LF_SBB EMU_LF_SBB
#define FAST_LF_AND EMU_LF_LOGIC
#define FAST_LF_SUB EMU_LF_SUB
#define FAST_LF_XOR EMU_LF_LOGIC
#define FAST_LF_CMP EMU_LF_SUB
#define FAST_LF_TEST EMU_LF_LOGIC

/* The operation on a (the destination's value) and b, then the result and
 * the lazy flags, as alu.c's alu_reg_op does. */
#define FAST_ALU_BODY(OP, T, size, dst, a_, b_)                                \
    T a = (T)(a_), b = (T)(b_);                                                \
    unsigned c = FAST_CIN_##OP ? emu_flag_cf(cpu) : 0;                         \
    T r = (T)FAST_ALU_CALC_##OP(a, b, (T)c);                                   \
    if (FAST_WR_##OP)                                                          \
        cpu->gpr[dst] = r;                                                     \
    emu_lazy_set(cpu, FAST_LF_##OP, size, r, a, b, c);                         \
    return EMU_OK;

#define FAST_ALU(OP)                                                                        \
    static int fast_rr64_##OP(struct emu_cpu *cpu, const struct emu_insn *in)              \
    {                                                                                       \
        unsigned d = (in->opcode & 2) ? in->reg : in->rm;                                   \
        unsigned s = (in->opcode & 2) ? in->rm : in->reg;                                   \
        FAST_ALU_BODY(OP, uint64_t, 8, d, cpu->gpr[d], cpu->gpr[s])                         \
    }                                                                                       \
    static int fast_rr32_##OP(struct emu_cpu *cpu, const struct emu_insn *in)              \
    {                                                                                       \
        unsigned d = (in->opcode & 2) ? in->reg : in->rm;                                   \
        unsigned s = (in->opcode & 2) ? in->rm : in->reg;                                   \
        FAST_ALU_BODY(OP, uint32_t, 4, d, cpu->gpr[d], cpu->gpr[s])                         \
    }                                                                                       \
    static int fast_ri64_##OP(struct emu_cpu *cpu, const struct emu_insn *in)              \
    {                                                                                       \
        FAST_ALU_BODY(OP, uint64_t, 8, in->rm, cpu->gpr[in->rm], in->imm)                   \
    }                                                                                       \
    static int fast_ri32_##OP(struct emu_cpu *cpu, const struct emu_insn *in)              \
    {                                                                                       \
        FAST_ALU_BODY(OP, uint32_t, 4, in->rm, cpu->gpr[in->rm], in->imm)                   \
    }

FAST_ALU(ADD)
FAST_ALU(OR)
FAST_ALU(ADC)
FAST_ALU(SBB)
FAST_ALU(AND)
FAST_ALU(SUB)
FAST_ALU(XOR)
FAST_ALU(CMP)
FAST_ALU(TEST)

/* Indexed by the operation (opcode bits 5:3, or group 1's ModRM.reg). */
static const emu_handler fast_rr64[8] = {
    fast_rr64_ADD, fast_rr64_OR, fast_rr64_ADC, fast_rr64_SBB,
    fast_rr64_AND, fast_rr64_SUB, fast_rr64_XOR, fast_rr64_CMP,
};
static const emu_handler fast_rr32[8] = {
    fast_rr32_ADD, fast_rr32_OR, fast_rr32_ADC, fast_rr32_SBB,
    fast_rr32_AND, fast_rr32_SUB, fast_rr32_XOR, fast_rr32_CMP,
};
static const emu_handler fast_ri64[8] = {
    fast_ri64_ADD, fast_ri64_OR, fast_ri64_ADC, fast_ri64_SBB,
    fast_ri64_AND, fast_ri64_SUB, fast_ri64_XOR, fast_ri64_CMP,
};
static const emu_handler fast_ri32[8] = {
    fast_ri32_ADD, fast_ri32_OR, fast_ri32_ADC, fast_ri32_SBB,
    fast_ri32_AND, fast_ri32_SUB, fast_ri32_XOR, fast_ri32_CMP,
};

/* ---- IMUL r, r/m (0F AF) between registers: CF = OF = the truncation
 * lost bits; the other flags as muldiv.c leaves them. ---- */

static int fast_imul_r64(struct emu_cpu *cpu, const struct emu_insn *in)
{
    __int128 p = (__int128)(int64_t)cpu->gpr[in->reg] * (int64_t)cpu->gpr[in->rm];
    bool ovf = p != (__int128)(int64_t)p;
    cpu->gpr[in->reg] = (uint64_t)p;
    alu_flags_merge(cpu, EMU_CF | EMU_OF, ovf ? EMU_CF | EMU_OF : 0);
    return EMU_OK;
}

static int fast_imul_r32(struct emu_cpu *cpu, const struct emu_insn *in)
{
    int64_t p = (int64_t)(int32_t)cpu->gpr[in->reg] * (int32_t)cpu->gpr[in->rm];
    bool ovf = p != (int64_t)(int32_t)p;
    cpu->gpr[in->reg] = (uint32_t)p;
    alu_flags_merge(cpu, EMU_CF | EMU_OF, ovf ? EMU_CF | EMU_OF : 0);
    return EMU_OK;
}

void emu_specialize(struct emu_insn *in)
{
    unsigned op = in->opcode, size = in->opsize;
    bool reg = in->mod == 3, wide = size == 8 || size == 4;

    if ((op & ~0xfu) == 0x70 || (op & ~0xfu) == 0x180) {
        in->handler = branch_jcc_handler(op & 15);
        return;
    }
    if (in->lock || !wide || !in->has_modrm)
        return;
    bool q = size == 8;
    switch (op) {
    case 0x01: case 0x03: case 0x09: case 0x0b: case 0x11: case 0x13: case 0x19: case 0x1b:
    case 0x21: case 0x23: case 0x29: case 0x2b: case 0x31: case 0x33: case 0x39: case 0x3b:
        if (reg)
            in->handler = (q ? fast_rr64 : fast_rr32)[(op >> 3) & 7];
        break;
    case 0x85:
        if (reg)
            in->handler = q ? fast_rr64_TEST : fast_rr32_TEST;
        break;
    case 0x81: case 0x83:
        if (reg)
            in->handler = (q ? fast_ri64 : fast_ri32)[in->reg & 7];
        break;
    case 0xc1: {
        emu_handler h = shift_fast_handler(in);
        if (h)
            in->handler = h;
        break;
    }
    case 0xf7: /* group 3: /0 and /1 are TEST r/m, imm */
        if (reg && (in->reg & 7) < 2)
            in->handler = q ? fast_ri64_TEST : fast_ri32_TEST;
        break;
    case 0x89:
        if (reg)
            in->handler = q ? fast_mov89_r64 : fast_mov89_r32;
        else
            in->handler = q ? fast_store64 : fast_store32;
        break;
    case 0x8b:
        if (reg)
            in->handler = q ? fast_mov8b_r64 : fast_mov8b_r32;
        else
            in->handler = q ? fast_load64 : fast_load32;
        break;
    case 0x8d:
        if (!reg && q && in->addrsize == 8)
            in->handler = fast_lea64;
        break;
    case 0x63:
        if (reg && q)
            in->handler = fast_movsxd_r;
        break;
    case 0x1af:
        if (reg)
            in->handler = q ? fast_imul_r64 : fast_imul_r32;
        break;
    case 0x1b6:
        in->handler = reg ? fast_movzx8_r : fast_movzx8_m;
        break;
    default:
        break;
    }
}
