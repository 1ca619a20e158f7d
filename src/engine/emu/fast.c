/* fast: specialised handlers for the instruction forms that dominate what
 * guests execute. Counted over a Linux boot (Debian 12's cloud kernel, its
 * crypto self-tests included): MOV, the ALU group and TEST between
 * registers, with an immediate or a memory source, loads and stores,
 * shifts, IMUL, LEA, MOVSXD, MOVZX, Jcc, SETcc, CMOVcc, PUSH/POP and the
 * near branches are over 94% of all instructions. The generic handlers
 * reach the same result through a switch on the form, one on the operation
 * and one on the operand size, all data-dependent branches; the decoder
 * instead picks one of these, where each of those choices is already made.
 * Every handler here is the generic one's semantics for its form (the same
 * lazy flags and the same memory path, the generic handler itself for a
 * rare case), so the differential tester against hardware covers them.
 * Spec: Intel SDM Vol. 2A/2B, the pages of ADD, ADC, AND, CALL, CMP, IMUL,
 * JMP, LEA, MOV, MOVSXD, MOVZX, NOP, OR, RET, SAL/SAR/SHL/SHR, SBB, SUB,
 * TEST, XOR. */
#include "fast.h"
#include "handlers.h"

/* Indexed by the operation (opcode bits 5:3, or group 1's ModRM.reg). */
#define FAST_OPS(P) { P##_ADD, P##_OR, P##_ADC, P##_SBB, P##_AND, P##_SUB, P##_XOR, P##_CMP }
static const emu_handler fast_rr64[8] = FAST_OPS(fast_rr64);
static const emu_handler fast_rr32[8] = FAST_OPS(fast_rr32);
static const emu_handler fast_ri64[8] = FAST_OPS(fast_ri64);
static const emu_handler fast_ri32[8] = FAST_OPS(fast_ri32);

/* The fast_op of each entry of the tables above (0: not run inline). */
static const uint8_t fast_rr64_op[8] = {
    EMU_FAST_RR64_ADD, EMU_FAST_RR64_OR, EMU_FAST_RR64_ADC, 0,
    EMU_FAST_RR64_AND, EMU_FAST_RR64_SUB, EMU_FAST_RR64_XOR, EMU_FAST_RR64_CMP,
};
static const uint8_t fast_rr32_op[8] = {
    EMU_FAST_RR32_ADD, 0, 0, 0, EMU_FAST_RR32_AND, EMU_FAST_RR32_SUB, EMU_FAST_RR32_XOR,
    EMU_FAST_RR32_CMP,
};
static const uint8_t fast_ri64_op[8] = {
    EMU_FAST_RI64_ADD, EMU_FAST_RI64_OR, EMU_FAST_RI64_ADC, EMU_FAST_RI64_SBB,
    EMU_FAST_RI64_AND, EMU_FAST_RI64_SUB, EMU_FAST_RI64_XOR, EMU_FAST_RI64_CMP,
};
/* reg = reg op m (03, 0B, ... 3B). */
static const emu_handler fast_rm64[8] = FAST_OPS(fast_rm64);
static const emu_handler fast_rm32[8] = FAST_OPS(fast_rm32);
static const uint8_t fast_rm64_op[8] = {
    EMU_FAST_RM64_ADD, EMU_FAST_RM64_OR, 0, 0,
    EMU_FAST_RM64_AND, EMU_FAST_RM64_SUB, EMU_FAST_RM64_XOR, EMU_FAST_RM64_CMP,
};
static const uint8_t fast_rm32_op[8] = {
    EMU_FAST_RM32_ADD, 0, 0, 0, 0, 0, 0, EMU_FAST_RM32_CMP,
};
static const uint8_t fast_ri32_op[8] = {
    EMU_FAST_RI32_ADD, 0, 0, 0, EMU_FAST_RI32_AND, EMU_FAST_RI32_SUB, 0, EMU_FAST_RI32_CMP,
};

void emu_specialize(struct emu_insn *in)
{
    unsigned op = in->opcode, size = in->opsize;
    bool reg = in->mod == 3, wide = size == 8 || size == 4;

    if ((op & ~0xfu) == 0x70 || (op & ~0xfu) == 0x180) {
        in->handler = branch_jcc_handler(op & 15);
        in->fast_op = EMU_FAST_JCC;
        return;
    }
    if ((op & ~7u) == 0x50 || (op & ~7u) == 0x58) {
        if (size == 8) { /* only in 64-bit mode */
            in->handler = op < 0x58 ? fast_push_r64 : fast_pop_r64;
            in->fast_op = op < 0x58 ? EMU_FAST_PUSH_R64 : EMU_FAST_POP_R64;
        }
        return;
    }
    if ((op & ~0xfu) == 0x190) {
        if (reg && !in->lock) {
            in->handler = fast_setcc_r;
            in->fast_op = EMU_FAST_SETCC_R;
        }
        return;
    }
    if (in->lock)
        return;
    switch (op) {
    case 0xe8: case 0xe9: case 0xeb: case 0xc3:
        if (size == 8) { /* only in 64-bit mode */
            static const emu_handler h[4] = { fast_call, fast_jmp, fast_jmp, fast_ret };
            static const uint8_t f[4] = { EMU_FAST_CALL, EMU_FAST_JMP, EMU_FAST_JMP, EMU_FAST_RET };
            unsigned i = op == 0xe8 ? 0 : op == 0xe9 ? 1 : op == 0xeb ? 2 : 3;
            in->handler = h[i];
            in->fast_op = f[i];
        }
        return;
    case 0x84:
        if (reg) {
            in->handler = fast_rr8_TEST;
            in->fast_op = EMU_FAST_RR8_TEST;
        }
        return;
    case 0x11f:
        in->handler = fast_nop;
        in->fast_op = EMU_FAST_NOP;
        return;
    case 0x3c:
        in->handler = fast_cmp_al_imm8;
        in->fast_op = EMU_FAST_CMP_AL_IMM8;
        return;
    case 0x88:
        if (!reg) {
            in->handler = fast_store8;
            in->fast_op = EMU_FAST_STORE8;
        }
        return;
    case 0x89:
        if (!reg && size == 2) {
            in->handler = fast_store16;
            in->fast_op = EMU_FAST_STORE16;
            return;
        }
        break;
    case 0xf6: /* group 3: /0 and /1 are TEST r/m8, imm8 */
        if ((in->reg & 7) < 2) {
            in->handler = reg ? fast_test_r8_imm8 : fast_test_m8_imm8;
            in->fast_op = reg ? EMU_FAST_TEST_R8_IMM8 : EMU_FAST_TEST_M8_IMM8;
        }
        return;
    case 0x80:
        if (!reg && (in->reg & 7) == 7) {
            in->handler = fast_cmp_m8_imm8;
            in->fast_op = EMU_FAST_CMP_M8_IMM8;
        }
        return;
    case 0xc6:
        if (!reg && (in->reg & 7) == 0) {
            in->handler = fast_store8_imm;
            in->fast_op = EMU_FAST_STORE8_IMM;
        }
        return;
    case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
        if (wide) {
            in->handler = fast_mov_r_imm;
            in->fast_op = EMU_FAST_MOV_R_IMM;
        }
        return;
    default:
        break;
    }
    if (!wide || !in->has_modrm)
        return;
    bool q = size == 8;
    switch (op) {
    case 0x01: case 0x03: case 0x09: case 0x0b: case 0x11: case 0x13: case 0x19: case 0x1b:
    case 0x21: case 0x23: case 0x29: case 0x2b: case 0x31: case 0x33: case 0x39: case 0x3b:
        if (reg) {
            in->handler = (q ? fast_rr64 : fast_rr32)[(op >> 3) & 7];
            in->fast_op = (q ? fast_rr64_op : fast_rr32_op)[(op >> 3) & 7];
        } else if (op & 2) {
            in->handler = (q ? fast_rm64 : fast_rm32)[(op >> 3) & 7];
            in->fast_op = (q ? fast_rm64_op : fast_rm32_op)[(op >> 3) & 7];
        } else if (op == 0x39) {
            in->handler = q ? fast_mr64_CMP : fast_mr32_CMP;
            in->fast_op = q ? EMU_FAST_MR64_CMP : EMU_FAST_MR32_CMP;
        }
        break;
    case 0x85:
        if (reg) {
            in->handler = q ? fast_rr64_TEST : fast_rr32_TEST;
            in->fast_op = q ? EMU_FAST_RR64_TEST : EMU_FAST_RR32_TEST;
        } else {
            in->handler = q ? fast_mr64_TEST : fast_mr32_TEST;
        }
        break;
    case 0x81: case 0x83:
        if (reg) {
            in->handler = (q ? fast_ri64 : fast_ri32)[in->reg & 7];
            in->fast_op = (q ? fast_ri64_op : fast_ri32_op)[in->reg & 7];
        }
        break;
    case 0xc1: case 0xd1: case 0xd3: {
        uint8_t f = 0;
        emu_handler h = shift_fast_handler(in, &f);
        if (h) {
            in->handler = h;
            in->fast_op = f;
        }
        break;
    }
    case 0xf7: /* group 3: /0 and /1 are TEST r/m, imm */
        if (reg && (in->reg & 7) < 2)
            in->handler = q ? fast_ri64_TEST : fast_ri32_TEST;
        break;
    case 0x89:
        if (reg) {
            in->handler = q ? fast_mov89_r64 : fast_mov89_r32;
            in->fast_op = q ? EMU_FAST_MOV89_R64 : EMU_FAST_MOV89_R32;
        } else {
            in->handler = q ? fast_store64 : fast_store32;
            in->fast_op = q ? EMU_FAST_STORE64 : EMU_FAST_STORE32;
        }
        break;
    case 0x8b:
        if (reg) {
            in->handler = q ? fast_mov8b_r64 : fast_mov8b_r32;
            in->fast_op = q ? EMU_FAST_MOV8B_R64 : EMU_FAST_MOV8B_R32;
        } else {
            in->handler = q ? fast_load64 : fast_load32;
            in->fast_op = q ? EMU_FAST_LOAD64 : EMU_FAST_LOAD32;
        }
        break;
    case 0x8d:
        if (!reg && in->addrsize == 8) {
            in->handler = q ? fast_lea64 : fast_lea32;
            in->fast_op = q ? EMU_FAST_LEA64 : EMU_FAST_LEA32;
        }
        break;
    case 0x63:
        if (q) {
            in->handler = reg ? fast_movsxd_r : fast_movsxd_m;
            in->fast_op = reg ? EMU_FAST_MOVSXD_R : EMU_FAST_MOVSXD_M;
        }
        break;
    case 0xc7:
        if ((in->reg & 7) == 0) {
            in->handler = reg ? fast_mov_r_imm : fast_store_imm;
            in->fast_op = reg ? EMU_FAST_MOV_R_IMM : EMU_FAST_STORE_IMM;
        }
        break;
    case 0x1af:
        if (reg) {
            in->handler = q ? fast_imul_r64 : fast_imul_r32;
            in->fast_op = q ? EMU_FAST_IMUL_R64 : 0;
        }
        break;
    case 0x140: case 0x141: case 0x142: case 0x143: case 0x144: case 0x145: case 0x146:
    case 0x147: case 0x148: case 0x149: case 0x14a: case 0x14b: case 0x14c: case 0x14d:
    case 0x14e: case 0x14f:
        if (reg && q) {
            in->handler = fast_cmov_r64;
            in->fast_op = EMU_FAST_CMOV_R64;
        }
        break;
    case 0x1b6:
        in->handler = reg ? fast_movzx8_r : fast_movzx8_m;
        in->fast_op = reg ? EMU_FAST_MOVZX8_R : EMU_FAST_MOVZX8_M;
        break;
    case 0x1b7:
        in->handler = reg ? fast_movzx16_r : fast_movzx16_m;
        in->fast_op = reg ? EMU_FAST_MOVZX16_R : EMU_FAST_MOVZX16_M;
        break;
    default:
        break;
    }
}
