/* Debug-register breakpoints (SDM Vol. 3A 18.2 DR0-DR7, 18.3.1 debug
 * exception conditions): instruction breakpoints are faults taken before
 * the instruction (unless RFLAGS.RF), data breakpoints are traps taken
 * after the access's instruction. I/O breakpoints (R/W = 10 with CR4.DE)
 * are not provided. Only consulted while DR7 enables a breakpoint. */
#include "emu.h"

static unsigned debug_len(uint64_t dr7, unsigned n)
{
    static const uint8_t len[4] = {1, 2, 8, 4};
    return len[(dr7 >> (18 + 4 * n)) & 3];
}

static unsigned debug_rw(uint64_t dr7, unsigned n)
{
    return (unsigned)(dr7 >> (16 + 4 * n)) & 3;
}

unsigned emu_debug_exec_hits(const struct emu_cpu *cpu, uint64_t lin)
{
    unsigned hits = 0;
    for (unsigned n = 0; n < 4; n++)
        if (((cpu->dr7 >> (2 * n)) & 3) && debug_rw(cpu->dr7, n) == 0 && cpu->dr[n] == lin)
            hits |= 1u << n;
    return hits;
}

void emu_debug_data(struct emu_cpu *cpu, uint64_t lin, unsigned size, bool write)
{
    for (unsigned n = 0; n < 4; n++) {
        unsigned rw = debug_rw(cpu->dr7, n);
        if (!((cpu->dr7 >> (2 * n)) & 3) || !(rw == 3 || (rw == 1 && write)))
            continue;
        unsigned len = debug_len(cpu->dr7, n);
        uint64_t start = cpu->dr[n] & ~(uint64_t)(len - 1);
        if (lin < start + len && start < lin + size)
            cpu->dr_hits |= (uint8_t)(1u << n);
    }
}
