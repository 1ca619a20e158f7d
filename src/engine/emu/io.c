/* IN and OUT (SDM Vol. 2 IN/OUT; Vol. 1 19.5 I/O protection: IOPL and the
 * TSS I/O permission bitmap). String forms are in string.c. */
#include "handlers.h"

static unsigned io_size(const struct emu_insn *in)
{
    return in->opsize > 4 ? 4 : in->opsize;
}

static uint16_t io_port(const struct emu_cpu *cpu, const struct emu_insn *in)
{
    return (in->opcode & 8) ? (uint16_t)cpu->gpr[X86_RDX] : (uint16_t)(in->imm & 0xff);
}

int io_in(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = io_size(in);
    uint16_t port = io_port(cpu, in);
    uint32_t v;
    int rc = emu_io_allowed(cpu, port, size);
    if (rc != EMU_OK)
        return rc;
    if ((rc = emu_pio_in(cpu, port, size, &v)) != EMU_OK)
        return rc;
    emu_reg_set(cpu, in, X86_RAX, size, v);
    return EMU_OK;
}

int io_out(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = io_size(in);
    uint16_t port = io_port(cpu, in);
    int rc = emu_io_allowed(cpu, port, size);
    if (rc != EMU_OK)
        return rc;
    return emu_pio_out(cpu, port, size, (uint32_t)emu_reg_get(cpu, in, X86_RAX, size));
}
