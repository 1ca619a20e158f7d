/* The specialised handlers of fast.c, as inline functions: fast.c takes
 * their addresses for the decoder's pick, and the block loop (exec.c)
 * calls the commonest of them directly, by the insn's fast_op, without an
 * indirect call (see fast.c for what they are). */
#ifndef ROAM_ENGINE_EMU_FAST_H
#define ROAM_ENGINE_EMU_FAST_H

#include "alu.h"
#include "handlers.h"

/* in->fast_op: the forms the block loop runs inline (0: call the handler). */
enum emu_fast_op {
    EMU_FAST_NONE = 0,
    EMU_FAST_MOV89_R64, EMU_FAST_MOV8B_R64, EMU_FAST_MOV89_R32, EMU_FAST_MOV8B_R32,
    EMU_FAST_LOAD64, EMU_FAST_STORE64, EMU_FAST_LOAD32, EMU_FAST_LEA64, EMU_FAST_MOVSXD_R,
    EMU_FAST_MOVZX8_R, EMU_FAST_MOVZX8_M,
    EMU_FAST_RR64_ADD, EMU_FAST_RR64_SUB, EMU_FAST_RR64_CMP, EMU_FAST_RR64_ADC,
    EMU_FAST_RR64_AND, EMU_FAST_RR64_OR, EMU_FAST_RR64_XOR, EMU_FAST_RR64_TEST,
    EMU_FAST_RR32_ADD, EMU_FAST_RR32_SUB, EMU_FAST_RR32_CMP, EMU_FAST_RR32_XOR,
    EMU_FAST_RI64_ADD, EMU_FAST_RI64_SUB, EMU_FAST_RI64_CMP, EMU_FAST_RI64_AND,
    EMU_FAST_RI32_ADD, EMU_FAST_RI32_SUB, EMU_FAST_RI32_CMP, EMU_FAST_RI32_AND,
    EMU_FAST_IMUL_R64,
    EMU_FAST_JCC,
    EMU_FAST_SHL_R64, EMU_FAST_SHR_R64, EMU_FAST_SAR_R64, EMU_FAST_ROL_R64, EMU_FAST_ROR_R64,
    EMU_FAST_PUSH_R64, EMU_FAST_POP_R64, EMU_FAST_SETCC_R, EMU_FAST_CMOV_R64,
    EMU_FAST_RM64_ADD, EMU_FAST_RM64_SUB, EMU_FAST_RM64_CMP, EMU_FAST_RM64_AND,
    EMU_FAST_RM64_OR, EMU_FAST_RM64_XOR, EMU_FAST_RM32_ADD, EMU_FAST_RM32_CMP,
    EMU_FAST_MR64_CMP, EMU_FAST_MR32_CMP, EMU_FAST_RR32_TEST, EMU_FAST_RR8_TEST,
    EMU_FAST_RI64_OR, EMU_FAST_RI64_XOR,
    EMU_FAST_SHL_R32, EMU_FAST_SHR_R32, EMU_FAST_SAR_R32,
    EMU_FAST_MOVZX16_R, EMU_FAST_MOVZX16_M, EMU_FAST_STORE32, EMU_FAST_NOP,
    EMU_FAST_JMP, EMU_FAST_CALL, EMU_FAST_RET,
    EMU_FAST_ROL_R32, EMU_FAST_ROR_R32, EMU_FAST_SHL_CL64, EMU_FAST_SHR_CL64, EMU_FAST_SAR_CL64,
    EMU_FAST_SHL1_64, EMU_FAST_SHR1_64, EMU_FAST_SAR1_64,
    EMU_FAST_RI64_ADC, EMU_FAST_RI64_SBB, EMU_FAST_RR32_AND,
    EMU_FAST_STORE8, EMU_FAST_STORE16, EMU_FAST_CMP_AL_IMM8, EMU_FAST_TEST_M8_IMM8,
    EMU_FAST_TEST_R8_IMM8, EMU_FAST_CMP_M8_IMM8, EMU_FAST_LEA32, EMU_FAST_MOVSXD_M,
    EMU_FAST_MOV_R_IMM, EMU_FAST_STORE_IMM, EMU_FAST_STORE8_IMM,
};

/* ---- MOV ---- */

static inline int fast_mov89_r64(struct emu_cpu *cpu, const struct emu_insn *in)
{
    cpu->gpr[in->rm] = cpu->gpr[in->reg];
    return EMU_OK;
}

static inline int fast_mov8b_r64(struct emu_cpu *cpu, const struct emu_insn *in)
{
    cpu->gpr[in->reg] = cpu->gpr[in->rm];
    return EMU_OK;
}

static inline int fast_mov89_r32(struct emu_cpu *cpu, const struct emu_insn *in)
{
    cpu->gpr[in->rm] = (uint32_t)cpu->gpr[in->reg];
    return EMU_OK;
}

static inline int fast_mov8b_r32(struct emu_cpu *cpu, const struct emu_insn *in)
{
    cpu->gpr[in->reg] = (uint32_t)cpu->gpr[in->rm];
    return EMU_OK;
}

/* Loads of a register from plain memory (8B MOV, 0F B6/B7 MOVZX, 63
 * MOVSXD) and stores of one (89 MOV): T is the memory operand's type, EXT
 * what the register gets of v. Nothing changes when the access faults. */
#define FAST_LOAD(NAME, T, EXT)                                                             \
    static inline int NAME(struct emu_cpu *cpu, const struct emu_insn *in)                  \
    {                                                                                       \
        T v;                                                                                \
        int rc = emu_read(cpu, in->seg, emu_ea(cpu, in), sizeof(T), &v);                    \
        if (rc == EMU_OK)                                                                   \
            cpu->gpr[in->reg] = (EXT);                                                      \
        return rc;                                                                          \
    }
#define FAST_STORE(NAME, T)                                                                 \
    static inline int NAME(struct emu_cpu *cpu, const struct emu_insn *in)                  \
    {                                                                                       \
        T v = (T)cpu->gpr[in->reg];                                                         \
        return emu_write(cpu, in->seg, emu_ea(cpu, in), sizeof(T), &v);                     \
    }
FAST_LOAD(fast_load64, uint64_t, v)
FAST_LOAD(fast_load32, uint32_t, v)
FAST_LOAD(fast_movzx8_m, uint8_t, v)
FAST_LOAD(fast_movzx16_m, uint16_t, v)
FAST_LOAD(fast_movsxd_m, uint32_t, (uint64_t)(int64_t)(int32_t)v)
FAST_STORE(fast_store64, uint64_t)
FAST_STORE(fast_store32, uint32_t)
FAST_STORE(fast_store16, uint16_t)

/* 0F B7 MOVZX r32/r64, r16 (m16: FAST_LOAD above). */
static inline int fast_movzx16_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
    cpu->gpr[in->reg] = cpu->gpr[in->rm] & 0xffff;
    return EMU_OK;
}

/* 0F 1F /0 NOP r/m: the operand is not accessed. */
static inline int fast_nop(struct emu_cpu *cpu, const struct emu_insn *in)
{
    return EMU_OK;
}

/* 88 MOV m8, r8 (AH-BH without REX). */
static inline int fast_store8(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint8_t v = (uint8_t)emu_reg_get(cpu, in, in->reg, 1);
    return emu_write(cpu, in->seg, emu_ea(cpu, in), 1, &v);
}

/* B8+r MOV r32/r64, imm (a 32-bit destination is zero-extended);
 * C7 /0 MOV r/m32/64, imm32 on a register too. */
static inline int fast_mov_r_imm(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned reg = in->has_modrm ? in->rm : (in->opcode & 7) | ((in->rex & 1u) << 3);
    cpu->gpr[reg] = in->opsize == 8 ? in->imm : (uint32_t)in->imm;
    return EMU_OK;
}

/* C7 /0 MOV m32/m64, imm32; C6 /0 MOV m8, imm8. */
static inline int fast_store_imm(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t v = in->imm;
    return emu_write(cpu, in->seg, emu_ea(cpu, in), in->opsize, &v);
}

static inline int fast_store8_imm(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint8_t v = (uint8_t)in->imm;
    return emu_write(cpu, in->seg, emu_ea(cpu, in), 1, &v);
}

/* 8D LEA r32 with 64-bit addresses: the address truncated. */
static inline int fast_lea32(struct emu_cpu *cpu, const struct emu_insn *in)
{
    cpu->gpr[in->reg] = (uint32_t)emu_ea(cpu, in);
    return EMU_OK;
}

/* 8D LEA with 64-bit operand and address sizes. */
static inline int fast_lea64(struct emu_cpu *cpu, const struct emu_insn *in)
{
    cpu->gpr[in->reg] = emu_ea(cpu, in);
    return EMU_OK;
}

/* 63 MOVSXD r64, r32. */
static inline int fast_movsxd_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
    cpu->gpr[in->reg] = (uint64_t)(int64_t)(int32_t)cpu->gpr[in->rm];
    return EMU_OK;
}

/* 0F B6 MOVZX r32/r64, r8 (AH-BH without REX; m8: FAST_LOAD above). */
static inline int fast_movzx8_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
    cpu->gpr[in->reg] = emu_reg_get(cpu, in, in->rm, 1);
    return EMU_OK;
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
    static inline int fast_rr64_##OP(struct emu_cpu *cpu, const struct emu_insn *in)              \
    {                                                                                       \
        unsigned d = (in->opcode & 2) ? in->reg : in->rm;                                   \
        unsigned s = (in->opcode & 2) ? in->rm : in->reg;                                   \
        FAST_ALU_BODY(OP, uint64_t, 8, d, cpu->gpr[d], cpu->gpr[s])                         \
    }                                                                                       \
    static inline int fast_rr32_##OP(struct emu_cpu *cpu, const struct emu_insn *in)              \
    {                                                                                       \
        unsigned d = (in->opcode & 2) ? in->reg : in->rm;                                   \
        unsigned s = (in->opcode & 2) ? in->rm : in->reg;                                   \
        FAST_ALU_BODY(OP, uint32_t, 4, d, cpu->gpr[d], cpu->gpr[s])                         \
    }                                                                                       \
    static inline int fast_ri64_##OP(struct emu_cpu *cpu, const struct emu_insn *in)              \
    {                                                                                       \
        FAST_ALU_BODY(OP, uint64_t, 8, in->rm, cpu->gpr[in->rm], in->imm)                   \
    }                                                                                       \
    static inline int fast_ri32_##OP(struct emu_cpu *cpu, const struct emu_insn *in)              \
    {                                                                                       \
        FAST_ALU_BODY(OP, uint32_t, 4, in->rm, cpu->gpr[in->rm], in->imm)                   \
    }

/* With a memory operand: reg = reg op m (opcode bit 1 set), or the
 * compare forms that write nothing (39 CMP m, r; 85 TEST m, r). */
#define FAST_ALU_MEM(OP)                                                                    \
    static inline int fast_rm64_##OP(struct emu_cpu *cpu, const struct emu_insn *in)       \
    {                                                                                       \
        uint64_t m;                                                                         \
        int rc = emu_read(cpu, in->seg, emu_ea(cpu, in), 8, &m);                            \
        if (rc != EMU_OK)                                                                   \
            return rc;                                                                      \
        FAST_ALU_BODY(OP, uint64_t, 8, in->reg, cpu->gpr[in->reg], m)                       \
    }                                                                                       \
    static inline int fast_rm32_##OP(struct emu_cpu *cpu, const struct emu_insn *in)       \
    {                                                                                       \
        uint32_t m;                                                                         \
        int rc = emu_read(cpu, in->seg, emu_ea(cpu, in), 4, &m);                            \
        if (rc != EMU_OK)                                                                   \
            return rc;                                                                      \
        FAST_ALU_BODY(OP, uint32_t, 4, in->reg, cpu->gpr[in->reg], m)                       \
    }

#define FAST_ALU_MEM_CMP(OP)                                                                \
    static inline int fast_mr64_##OP(struct emu_cpu *cpu, const struct emu_insn *in)       \
    {                                                                                       \
        uint64_t m;                                                                         \
        int rc = emu_read(cpu, in->seg, emu_ea(cpu, in), 8, &m);                            \
        if (rc != EMU_OK)                                                                   \
            return rc;                                                                      \
        FAST_ALU_BODY(OP, uint64_t, 8, 0, m, cpu->gpr[in->reg])                             \
    }                                                                                       \
    static inline int fast_mr32_##OP(struct emu_cpu *cpu, const struct emu_insn *in)       \
    {                                                                                       \
        uint32_t m;                                                                         \
        int rc = emu_read(cpu, in->seg, emu_ea(cpu, in), 4, &m);                            \
        if (rc != EMU_OK)                                                                   \
            return rc;                                                                      \
        FAST_ALU_BODY(OP, uint32_t, 4, 0, m, cpu->gpr[in->reg])                             \
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
FAST_ALU_MEM(ADD)
FAST_ALU_MEM(OR)
FAST_ALU_MEM(ADC)
FAST_ALU_MEM(SBB)
FAST_ALU_MEM(AND)
FAST_ALU_MEM(SUB)
FAST_ALU_MEM(XOR)
FAST_ALU_MEM(CMP)
FAST_ALU_MEM_CMP(CMP)
FAST_ALU_MEM_CMP(TEST)

/* 3C CMP AL, imm8. */
static inline int fast_cmp_al_imm8(struct emu_cpu *cpu, const struct emu_insn *in)
{
    FAST_ALU_BODY(CMP, uint8_t, 1, 0, cpu->gpr[X86_RAX], in->imm)
}

/* F6 /0 TEST r/m8, imm8 and 80 /7 CMP m8, imm8. */
static inline int fast_test_r8_imm8(struct emu_cpu *cpu, const struct emu_insn *in)
{
    FAST_ALU_BODY(TEST, uint8_t, 1, 0, emu_reg_get(cpu, in, in->rm, 1), in->imm)
}

#define FAST_M8_IMM8(NAME, OP)                                                              \
    static inline int NAME(struct emu_cpu *cpu, const struct emu_insn *in)                  \
    {                                                                                       \
        uint8_t m;                                                                          \
        int rc = emu_read(cpu, in->seg, emu_ea(cpu, in), 1, &m);                            \
        if (rc != EMU_OK)                                                                   \
            return rc;                                                                      \
        FAST_ALU_BODY(OP, uint8_t, 1, 0, m, in->imm)                                        \
    }
FAST_M8_IMM8(fast_test_m8_imm8, TEST)
FAST_M8_IMM8(fast_cmp_m8_imm8, CMP)

/* 84 TEST r/m8, r8 between registers (AH-BH without REX). */
static inline int fast_rr8_TEST(struct emu_cpu *cpu, const struct emu_insn *in)
{
    FAST_ALU_BODY(TEST, uint8_t, 1, 0, emu_reg_get(cpu, in, in->rm, 1),
                  emu_reg_get(cpu, in, in->reg, 1))
}

/* ---- IMUL r, r/m (0F AF) between registers: CF = OF = the truncation
 * lost bits; the other flags as muldiv.c leaves them. ---- */

static inline int fast_imul_r64(struct emu_cpu *cpu, const struct emu_insn *in)
{
    __int128 p = (__int128)(int64_t)cpu->gpr[in->reg] * (int64_t)cpu->gpr[in->rm];
    bool ovf = p != (__int128)(int64_t)p;
    cpu->gpr[in->reg] = (uint64_t)p;
    alu_flags_merge(cpu, EMU_CF | EMU_OF, ovf ? EMU_CF | EMU_OF : 0);
    return EMU_OK;
}

static inline int fast_imul_r32(struct emu_cpu *cpu, const struct emu_insn *in)
{
    int64_t p = (int64_t)(int32_t)cpu->gpr[in->reg] * (int32_t)cpu->gpr[in->rm];
    bool ovf = p != (int64_t)(int32_t)p;
    cpu->gpr[in->reg] = (uint32_t)p;
    alu_flags_merge(cpu, EMU_CF | EMU_OF, ovf ? EMU_CF | EMU_OF : 0);
    return EMU_OK;
}


/* Jcc: the condition by emu_cond_fast; a taken jump to a canonical target
 * in 64-bit code done here, anything else (#GP, other modes) by the
 * handler, which looks again from the start. */
static inline int fast_jcc(struct emu_cpu *cpu, const struct emu_insn *in)
{
    if (!emu_cond_fast(cpu, in->opcode & 15))
        return EMU_OK;
    uint64_t t = (cpu->next_rip + in->imm) & emu_mask(in->opsize);
    if (cpu->code64 && emu_canonical(t)) {
        cpu->next_rip = t;
        return EMU_OK;
    }
    return in->handler(cpu, in);
}

/* E9/EB JMP, E8 CALL rel and C3 RET with a 64-bit operand size (64-bit
 * mode): a canonical target here, anything else (#GP) by the generic
 * handler (not in->handler: that is the fast one), which checks the target
 * before the push or the pop's commit too. */
static inline int fast_jmp(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t t = cpu->next_rip + in->imm;
    if (!emu_canonical(t))
        return branch_jmp(cpu, in);
    cpu->next_rip = t;
    return EMU_OK;
}

static inline int fast_call(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t t = cpu->next_rip + in->imm, v = cpu->next_rip;
    if (!emu_canonical(t))
        return branch_call(cpu, in);
    uint64_t sp = cpu->gpr[X86_RSP] - 8;
    int rc = emu_write(cpu, X86_SS, sp, 8, &v);
    if (rc != EMU_OK)
        return rc;
    cpu->gpr[X86_RSP] = sp;
    cpu->next_rip = t;
    return EMU_OK;
}

static inline int fast_ret(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t t, sp = cpu->gpr[X86_RSP];
    int rc = emu_read(cpu, X86_SS, sp, 8, &t);
    if (rc != EMU_OK)
        return rc;
    if (!emu_canonical(t))
        return branch_ret(cpu, in);
    cpu->gpr[X86_RSP] = sp + 8;
    cpu->next_rip = t;
    return EMU_OK;
}

/* 50+r PUSH / 58+r POP of a 64-bit register (64-bit mode, where the stack
 * is flat and 8 bytes wide): emu_push/emu_pop_peek's path for that case.
 * PUSH RSP pushes the old value; POP RSP keeps the popped one. */
static inline int fast_push_r64(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t v = cpu->gpr[(in->opcode & 7) | ((in->rex & 1u) << 3)];
    uint64_t sp = cpu->gpr[X86_RSP] - 8;
    int rc = emu_write(cpu, X86_SS, sp, 8, &v);
    if (rc == EMU_OK)
        cpu->gpr[X86_RSP] = sp;
    return rc;
}

static inline int fast_pop_r64(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t v, sp = cpu->gpr[X86_RSP];
    int rc = emu_read(cpu, X86_SS, sp, 8, &v);
    if (rc != EMU_OK)
        return rc;
    cpu->gpr[X86_RSP] = sp + 8;
    cpu->gpr[(in->opcode & 7) | ((in->rex & 1u) << 3)] = v;
    return EMU_OK;
}

/* 0F 90+cc SETcc on a register (AH-BH without REX). */
static inline int fast_setcc_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
    emu_reg_set(cpu, in, in->rm, 1, emu_cond_fast(cpu, in->opcode & 15));
    return EMU_OK;
}

/* 0F 40+cc CMOVcc r64, r64 (the 32-bit form zero-extends even when the
 * condition is false: move.c). */
static inline int fast_cmov_r64(struct emu_cpu *cpu, const struct emu_insn *in)
{
    if (emu_cond_fast(cpu, in->opcode & 15))
        cpu->gpr[in->reg] = cpu->gpr[in->rm];
    return EMU_OK;
}

#endif
