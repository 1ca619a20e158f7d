/* Lazy arithmetic flags (SDM Vol. 1 3.4.3.1 and Appendix A, EFLAGS cross-
 * reference): the last flag-setting operation is kept as operands and
 * result, and each flag is computed only when something reads it. */
#include "emu.h"

static uint64_t emu_sign(const struct emu_lazy *l)
{
    return 1ull << (l->size * 8 - 1);
}

bool emu_flag_cf(const struct emu_cpu *cpu)
{
    const struct emu_lazy *l = &cpu->lf;

    switch (l->op) {
    case EMU_LF_ADD: return l->res < l->src1;
    case EMU_LF_ADC: return l->aux ? l->res <= l->src1 : l->res < l->src1;
    case EMU_LF_SUB: return l->src1 < l->src2;
    case EMU_LF_SBB: return l->aux ? l->src1 <= l->src2 : l->src1 < l->src2;
    case EMU_LF_LOGIC: return false;
    case EMU_LF_INC: case EMU_LF_DEC: return l->aux;
    case EMU_LF_NEG: return l->src1 != 0;
    default: return cpu->rflags & EMU_CF;
    }
}

bool emu_flag_zf(const struct emu_cpu *cpu)
{
    return cpu->lf.op ? cpu->lf.res == 0 : (cpu->rflags & EMU_ZF) != 0;
}

static bool emu_flag_sf(const struct emu_cpu *cpu)
{
    return cpu->lf.op ? (cpu->lf.res & emu_sign(&cpu->lf)) != 0 : (cpu->rflags & EMU_SF) != 0;
}

static bool emu_flag_of(const struct emu_cpu *cpu)
{
    const struct emu_lazy *l = &cpu->lf;
    uint64_t s;

    if (!l->op)
        return cpu->rflags & EMU_OF;
    s = emu_sign(l);
    switch (l->op) {
    case EMU_LF_ADD: case EMU_LF_ADC:
        return ((l->src1 ^ l->res) & (l->src2 ^ l->res) & s) != 0;
    case EMU_LF_SUB: case EMU_LF_SBB:
        return ((l->src1 ^ l->src2) & (l->src1 ^ l->res) & s) != 0;
    case EMU_LF_INC: return l->res == s;
    case EMU_LF_DEC: return l->res == s - 1;
    case EMU_LF_NEG: return l->src1 == s;
    default: return false;
    }
}

static bool emu_flag_af(const struct emu_cpu *cpu)
{
    const struct emu_lazy *l = &cpu->lf;

    switch (l->op) {
    case EMU_LF_NONE: return cpu->rflags & EMU_AF;
    case EMU_LF_LOGIC: return false;
    case EMU_LF_INC: case EMU_LF_DEC: return ((l->res ^ l->src1 ^ 1) & 0x10) != 0;
    case EMU_LF_NEG: return ((l->res ^ l->src1) & 0x10) != 0;
    default: return ((l->res ^ l->src1 ^ l->src2) & 0x10) != 0;
    }
}

static bool emu_flag_pf(const struct emu_cpu *cpu)
{
    return cpu->lf.op ? emu_parity(cpu->lf.res) : (cpu->rflags & EMU_PF) != 0;
}

static uint64_t emu_flags_arith(const struct emu_cpu *cpu)
{
    return (emu_flag_cf(cpu) ? EMU_CF : 0) | (emu_flag_pf(cpu) ? EMU_PF : 0) |
           (emu_flag_af(cpu) ? EMU_AF : 0) | (emu_flag_zf(cpu) ? EMU_ZF : 0) |
           (emu_flag_sf(cpu) ? EMU_SF : 0) | (emu_flag_of(cpu) ? EMU_OF : 0);
}

uint64_t emu_flags_get(struct emu_cpu *cpu)
{
    if (cpu->lf.op) {
        cpu->rflags = (cpu->rflags & ~(uint64_t)EMU_ARITH_FLAGS) | emu_flags_arith(cpu);
        cpu->lf.op = EMU_LF_NONE;
    }
    return cpu->rflags | 2;
}

void emu_flags_load(struct emu_cpu *cpu, uint64_t rflags)
{
    cpu->lf.op = EMU_LF_NONE;
    cpu->rflags = (rflags | 2) & ~(uint64_t)0x8028; /* bits 3, 5, 15 read as 0 */
}

bool emu_cond(const struct emu_cpu *cpu, unsigned cc)
{
    bool r;

    switch (cc >> 1) {
    case 0: r = emu_flag_of(cpu); break;
    case 1: r = emu_flag_cf(cpu); break;
    case 2: r = emu_flag_zf(cpu); break;
    case 3: r = emu_flag_cf(cpu) || emu_flag_zf(cpu); break;
    case 4: r = emu_flag_sf(cpu); break;
    case 5: r = emu_flag_pf(cpu); break;
    case 6: r = emu_flag_sf(cpu) != emu_flag_of(cpu); break;
    default: r = emu_flag_zf(cpu) || (emu_flag_sf(cpu) != emu_flag_of(cpu)); break;
    }
    return (cc & 1) ? !r : r;
}
