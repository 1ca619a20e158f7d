/* shift: group 2 (C0/C1/D0-D3: ROL, ROR, RCL, RCR, SHL, SHR, SAL, SAR) and
 * SHLD/SHRD (0F A4/A5/AC/AD). Spec: Intel SDM Vol. 2B, "RCL/RCR/ROL/ROR",
 * "SAL/SAR/SHL/SHR", "SHLD", "SHRD". Flags are computed eagerly.
 *
 * The count is masked to 5 bits (6 with a 64-bit operand). A masked count
 * of 0 changes no flag and no value; a memory operand is still read (with
 * the write-permission check of a read-modify-write) but not written. RCL/RCR rotate through CF over 9 or 17 bits for 8 and 16-bit
 * operands (count mod 9 / mod 17).
 *
 * Undefined cases and what this engine does (the differential tester masks
 * them):
 *   OF for counts > 1: computed as for the last 1-bit step, which is what
 *     sandpile.org reports for the Intel cores ("OFx"): SHL: CF ^ MSB(res);
 *     SHR: MSB of the value before the last step (0 for counts > 1);
 *     SAR: 0; ROL, RCL: MSB(res) ^ CF; ROR, RCR: the two top bits of res
 *     XORed; SHLD: CF ^ MSB(res); SHRD: the two top bits of res XORed.
 *   AF after a shift (SHL/SHR/SAR/SHLD/SHRD) with a nonzero count: 1, as
 *     the AMD EPYC oracle of this project sets it (and sandpile.org's P5;
 *     P4 clears it). Rotates leave AF alone.
 *   CF of SHL/SHR with a count >= the operand width: the last bit shifted
 *     out of the operand as if it were wider (0 beyond the width).
 *   SHLD/SHRD of 16 bits with a count of 17-31 (result undefined): as Intel
 *     hardware does it, a shift of dest:src:dest (48 bits), the result the
 *     top (SHLD) or bottom (SHRD) 16 bits, CF the last bit out. */
#include "fast.h"
#include "handlers.h"
#include "shift.h"


/* The operand open for read-modify-write: a register or memory. */
struct shift_opnd {
    struct alu_mem mem;
    uint64_t v;
};

static int shift_open(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size,
                      struct shift_opnd *o)
{
    if (in->mod == 3) {
        o->v = emu_reg_get(cpu, in, in->rm, size);
        return EMU_OK;
    }
    return alu_mem_open(cpu, &o->mem, in->seg, emu_ea(cpu, in), size, &o->v);
}

static int shift_commit(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size,
                        struct shift_opnd *o, uint64_t r)
{
    if (in->mod == 3) {
        emu_reg_set(cpu, in, in->rm, size, r);
        return EMU_OK;
    }
    return alu_mem_commit(cpu, &o->mem, size, r);
}

/* A count of 0: no flag changes and no memory write, but a 32-bit
 * register destination is still written, so bits 63:32 clear as for any
 * 32-bit operation in 64-bit mode (hardware does; Bochs models it too). */
static int shift_nop(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size,
                     const struct shift_opnd *o)
{
    if (in->mod == 3)
        emu_reg_set(cpu, in, in->rm, size, o->v);
    return EMU_OK;
}

/* C0/C1 ib, D0/D1 (count 1), D2/D3 (count CL): group 2, /reg is the operation. */
int shift_grp2(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned op = in->reg & 7, size = in->opsize, cnt;
    struct shift_opnd o;
    uint64_t r, f;
    int rc;

    switch (in->opcode) {
    case 0xc0:
    case 0xc1: cnt = (unsigned)in->imm; break;
    case 0xd0:
    case 0xd1: cnt = 1; break;
    default: cnt = (unsigned)cpu->gpr[X86_RCX]; break;
    }
    cnt &= size == 8 ? 0x3f : 0x1f;

    rc = shift_open(cpu, in, size, &o);
    if (rc != EMU_OK)
        return rc;
    if (cnt == 0)
        return shift_nop(cpu, in, size, &o);
    if (op >= SH_SHL) {
        r = shift_shift(op, o.v, cnt, size, &f);
        rc = shift_commit(cpu, in, size, &o, r);
        if (rc == EMU_OK)
            emu_flags_set_arith(cpu, f);
    } else {
        unsigned cf = (op == SH_RCL || op == SH_RCR) ? emu_flag_cf(cpu) : 0;
        r = shift_rotate(op, o.v, cnt, size, cf, &f);
        rc = shift_commit(cpu, in, size, &o, r);
        if (rc == EMU_OK)
            alu_flags_merge(cpu, EMU_CF | EMU_OF, f);
    }
    return rc;
}

#define SHIFT_FAST_TABLE(KIND, SIZE)                                                   \
    {                                                                                  \
        shift_##KIND##_r##SIZE##_SH_ROL, shift_##KIND##_r##SIZE##_SH_ROR, NULL, NULL,  \
        shift_##KIND##_r##SIZE##_SH_SHL, shift_##KIND##_r##SIZE##_SH_SHR,              \
        shift_##KIND##_r##SIZE##_SH_SHL, shift_##KIND##_r##SIZE##_SH_SAR,              \
    }

emu_handler shift_fast_handler(const struct emu_insn *in, uint8_t *fast_op)
{
    /* [form: C1, D3, D1][size: 8, 4][operation] */
    static const emu_handler h[3][2][8] = {
        { SHIFT_FAST_TABLE(c1, 8), SHIFT_FAST_TABLE(c1, 4) },
        { SHIFT_FAST_TABLE(d3, 8), SHIFT_FAST_TABLE(d3, 4) },
        { SHIFT_FAST_TABLE(d1, 8), SHIFT_FAST_TABLE(d1, 4) },
    };
    /* The forms the block loop runs inline (fast.h), the same indices. */
    static const uint8_t f[3][2][8] = {
        { { EMU_FAST_ROL_R64, EMU_FAST_ROR_R64, 0, 0,
            EMU_FAST_SHL_R64, EMU_FAST_SHR_R64, EMU_FAST_SHL_R64, EMU_FAST_SAR_R64 },
          { EMU_FAST_ROL_R32, EMU_FAST_ROR_R32, 0, 0,
            EMU_FAST_SHL_R32, EMU_FAST_SHR_R32, EMU_FAST_SHL_R32, EMU_FAST_SAR_R32 } },
        { { 0, 0, 0, 0, EMU_FAST_SHL_CL64, EMU_FAST_SHR_CL64, EMU_FAST_SHL_CL64,
            EMU_FAST_SAR_CL64 },
          { 0 } },
        { { 0, 0, 0, 0, EMU_FAST_SHL1_64, EMU_FAST_SHR1_64, EMU_FAST_SHL1_64,
            EMU_FAST_SAR1_64 },
          { 0 } },
    };
    unsigned form = in->opcode == 0xc1 ? 0 : in->opcode == 0xd3 ? 1 : in->opcode == 0xd1 ? 2 : 3;
    if (form == 3 || in->mod != 3 || (in->opsize != 8 && in->opsize != 4))
        return NULL;
    unsigned size = in->opsize == 8 ? 0 : 1;
    *fast_op = f[form][size][in->reg & 7];
    return h[form][size][in->reg & 7];
}

/* 0F A4 ib / A5 CL: SHLD r/m, reg; 0F AC ib / AD CL: SHRD r/m, reg. */
int shift_shld_shrd(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize, nbits = size * 8, cnt, cf, of;
    bool left = in->opcode < 0x1a8;
    uint64_t src = emu_reg_get(cpu, in, in->reg, size), d, r;
    struct shift_opnd o;
    int rc;

    cnt = (in->opcode & 1) ? (unsigned)cpu->gpr[X86_RCX] : (unsigned)in->imm;
    cnt &= size == 8 ? 0x3f : 0x1f;
    rc = shift_open(cpu, in, size, &o);
    if (rc != EMU_OK)
        return rc;
    if (cnt == 0)
        return shift_nop(cpu, in, size, &o);
    d = o.v;

    if (size == 2) {
        /* dest:src:dest, 48 bits; counts above 16 reach the second copy. */
        uint64_t w = (d << 32) | (src << 16) | d;
        if (left) {
            r = (w >> (32 - cnt)) & 0xffff;
            cf = (unsigned)(w >> (48 - cnt)) & 1;
        } else {
            r = (w >> cnt) & 0xffff;
            cf = (unsigned)(w >> (cnt - 1)) & 1;
        }
    } else if (left) {
        r = ((d << cnt) | (src >> (nbits - cnt))) & emu_mask(size);
        cf = (unsigned)(d >> (nbits - cnt)) & 1;
    } else {
        r = ((d >> cnt) | (src << (nbits - cnt))) & emu_mask(size);
        cf = (unsigned)(d >> (cnt - 1)) & 1;
    }
    if (left)
        of = cf ^ (unsigned)shift_msb(r, nbits);
    else
        of = (unsigned)(shift_msb(r, nbits) ^ shift_msb(r, nbits - 1));

    rc = shift_commit(cpu, in, size, &o, r);
    if (rc != EMU_OK)
        return rc;
    emu_flags_set_arith(cpu, alu_szp(r, size) | EMU_AF | (cf ? EMU_CF : 0) | (of ? EMU_OF : 0));
    return EMU_OK;
}
