/* bits: BT, BTS, BTR, BTC (register bit offset and group 8 immediate),
 * BSF, BSR. Spec: Intel SDM Vol. 2A, the instruction pages of those names
 * (the BT page's Bit(BitBase, BitOffset) for the memory forms). roam-v1
 * has no BMI/LZCNT: F3 0F BC/BD are plain BSF/BSR.
 *
 * Undefined flags and what this engine does (the differential tester masks
 * them):
 *   BT*       OF, SF, AF, PF undefined: left unchanged (ZF is unaffected).
 *   BSF/BSR   CF, OF, SF, AF, PF undefined: as a logical operation on the
 *             result index would set them (CF = OF = AF = SF = 0, PF from
 *             the index; for a zero source the index is taken as 0), which
 *             is the P4 behaviour in sandpile.org's table.
 * BSF/BSR with a zero source leave the destination register untouched:
 * AMD documents it, Intel hardware does it (for a 32-bit destination Intel
 * is said to clear bits 63:32; AMD does not, and this engine follows AMD,
 * the differential tester's oracle on this project's machines). */
#include "alu.h"
#include "handlers.h"

enum { BIT_T, BIT_S, BIT_R, BIT_C };

static inline uint64_t bits_apply(unsigned op, uint64_t v, uint64_t m)
{
    switch (op) {
    case BIT_S: return v | m;
    case BIT_R: return v & ~m;
    case BIT_C: return v ^ m;
    default: return v;
    }
}

/* 0F A3/AB/B3/BB BT/BTS/BTR/BTC r/m, reg; 0F BA /4-/7 ib (group 8). */
int bits_bt(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize, nbits = size * 8;
    unsigned op, bit;
    uint64_t off = 0, v = 0, nv;

    if (in->opcode == 0x1ba) {
        unsigned r = in->reg & 7;
        /* /0-/3 are undefined; a locked BT writes nothing: #UD. */
        if (r < 4 || (r == 4 && in->lock))
            return emu_ud(cpu);
        op = r - 4;
        bit = (unsigned)in->imm & (nbits - 1);
        if (in->mod != 3)
            off = emu_ea(cpu, in);
    } else {
        op = (in->opcode >> 3) & 3;
        uint64_t src = emu_reg_get(cpu, in, in->reg, size);
        bit = (unsigned)src & (nbits - 1);
        if (in->mod != 3) {
            /* The offset is signed and may select another operand-sized
             * unit: EA + size * (offset SAR log2(bits)). */
            int64_t s = (int64_t)emu_sext(src, size);
            unsigned shift = size == 2 ? 4 : size == 4 ? 5 : 6;
            off = (emu_ea(cpu, in) + (uint64_t)((s >> shift) * (int64_t)size)) &
                  emu_mask(in->addrsize);
        }
    }

    uint64_t m = 1ull << bit;
    if (in->mod == 3) {
        v = emu_reg_get(cpu, in, in->rm, size);
        if (op != BIT_T)
            emu_reg_set(cpu, in, in->rm, size, bits_apply(op, v, m));
    } else if (op == BIT_T) {
        int rc = emu_read(cpu, in->seg, off, size, &v);
        if (rc != EMU_OK)
            return rc;
    } else {
        struct alu_mem mem;
        int rc = alu_mem_open(cpu, &mem, in->seg, off, size, &v);
        if (rc != EMU_OK)
            return rc;
        if (mem.p && in->lock) {
            do
                nv = bits_apply(op, v, m);
            while (!alu_cas(mem.p, size, &v, nv));
        } else {
            rc = alu_mem_commit(cpu, &mem, size, bits_apply(op, v, m));
            if (rc != EMU_OK)
                return rc;
        }
    }
    alu_flags_merge(cpu, EMU_CF, (v & m) ? EMU_CF : 0);
    return EMU_OK;
}

/* 0F BC BSF, 0F BD BSR. */
int bits_bsf_bsr(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize;
    uint64_t src = 0;
    int rc = emu_rm_read(cpu, in, size, &src);
    if (rc != EMU_OK)
        return rc;
    src &= emu_mask(size);

    unsigned idx = 0;
    if (src != 0) {
        idx = in->opcode == 0x1bc ? (unsigned)__builtin_ctzll(src) : 63u - (unsigned)__builtin_clzll(src);
        emu_reg_set(cpu, in, in->reg, size, idx);
    }
    emu_flags_set_arith(cpu, (src == 0 ? EMU_ZF : 0) | (emu_parity(idx) ? EMU_PF : 0));
    return EMU_OK;
}
