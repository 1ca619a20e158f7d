/* x87: placeholder handlers (#UD) until the family is implemented. */
#include "handlers.h"

int x87_esc(struct emu_cpu *cpu, const struct emu_insn *in)
{
    (void)in;
    return emu_ud(cpu);
}

int x87_fwait(struct emu_cpu *cpu, const struct emu_insn *in)
{
    (void)in;
    return emu_ud(cpu);
}

int x87_grp15(struct emu_cpu *cpu, const struct emu_insn *in)
{
    (void)in;
    return emu_ud(cpu);
}

