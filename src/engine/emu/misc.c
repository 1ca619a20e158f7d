/* Flag instructions (CLC/STC/CMC/CLD/STD, LAHF/SAHF), hint NOPs and UD2
 * (SDM Vol. 2). LAHF/SAHF are #UD in 64-bit mode: roam-v1 has no LAHF_LM. */
#include "handlers.h"

int misc_ud(struct emu_cpu *cpu, const struct emu_insn *in)
{
    (void)in;
    return emu_ud(cpu);
}

int misc_nop_rm(struct emu_cpu *cpu, const struct emu_insn *in)
{
    (void)cpu;
    (void)in;
    return EMU_OK;
}

int misc_flag_op(struct emu_cpu *cpu, const struct emu_insn *in)
{
    switch (in->opcode) {
    case 0xf5: emu_flags_set_arith(cpu, emu_flags_get(cpu) ^ EMU_CF); break;
    case 0xf8: emu_flags_set_arith(cpu, emu_flags_get(cpu) & ~(uint64_t)EMU_CF); break;
    case 0xf9: emu_flags_set_arith(cpu, emu_flags_get(cpu) | EMU_CF); break;
    case 0xfc: cpu->rflags &= ~(uint64_t)EMU_DF; break;
    default: cpu->rflags |= EMU_DF; break;
    }
    return EMU_OK;
}

int misc_lahf(struct emu_cpu *cpu, const struct emu_insn *in)
{
    if (cpu->code64)
        return emu_ud(cpu);
    uint64_t f = (emu_flags_get(cpu) & 0xd5) | 2;
    emu_reg_set(cpu, in, 4, 1, f); /* AH */
    return EMU_OK;
}

int misc_sahf(struct emu_cpu *cpu, const struct emu_insn *in)
{
    if (cpu->code64)
        return emu_ud(cpu);
    uint64_t ah = (cpu->gpr[X86_RAX] >> 8) & 0xd5;
    emu_flags_set_arith(cpu, (emu_flags_get(cpu) & ~0xd5ull) | ah);
    (void)in;
    return EMU_OK;
}
