/* Declarations of every opcode handler named in opcodes.def. */
#ifndef ROAM_ENGINE_EMU_HANDLERS_H
#define ROAM_ENGINE_EMU_HANDLERS_H

#include "emu.h"

#define OP(code, name, flags, handler) int handler(struct emu_cpu *cpu, const struct emu_insn *in);
#include "opcodes.def"
#undef OP
int misc_ud(struct emu_cpu *cpu, const struct emu_insn *in);
/* Jcc specialised for condition cc (branch.c). */
emu_handler branch_jcc_handler(unsigned cc);

#endif
