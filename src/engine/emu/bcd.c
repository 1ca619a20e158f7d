/* bcd: DAA, DAS, AAA, AAS, AAM, AAD (SDM Vol. 2A, the instruction pages of
 * those names). All are invalid in 64-bit mode (the decoder's N64).
 *
 * Flags the SDM leaves undefined, and what this engine does (the later
 * Intel cores' behaviour in sandpile.org's table of undefined flags, where
 * it is known; the differential tester masks these flags):
 *   DAA, DAS  OF = 0.
 *   AAA, AAS  OF = 0; SF, ZF, PF from the final AL (so SF = 0).
 *   AAM       OF = AF = CF = 0 (SF, ZF, PF are defined, from AL).
 *   AAD       OF, AF, CF as the 8-bit ADD AL + (AH * imm8) sets them. */
#include "alu.h"
#include "handlers.h"

/* 27 DAA, 2F DAS. */
int bcd_daa_das(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t f = emu_flags_get(cpu);
    bool das = in->opcode == 0x2f;
    unsigned al = cpu->gpr[X86_RAX] & 0xff, old_al = al;
    bool cf = f & EMU_CF, ncf = false, naf = false;

    if ((al & 0x0f) > 9 || (f & EMU_AF)) {
        /* CF picks up the carry (borrow) of this step: SDM's
         * "CF := old_CF or (Carry from AL := AL + 6)". */
        ncf = cf || (das ? al < 6 : al > 0xf9);
        al = (das ? al - 6 : al + 6) & 0xff;
        naf = true;
    }
    if (old_al > 0x99 || cf) {
        al = (das ? al - 0x60 : al + 0x60) & 0xff;
        ncf = true;
    }
    /* DAA's ELSE CF := 0 cannot differ from ncf here: a carry out of
     * AL + 6 needs old AL > 0xF9. */
    emu_reg_set(cpu, in, X86_RAX, 1, al);
    emu_flags_set_arith(cpu, alu_szp(al, 1) | (ncf ? EMU_CF : 0) | (naf ? EMU_AF : 0));
    return EMU_OK;
}

/* 37 AAA: AX += 0x106 when adjusting; 3F AAS: AX -= 6, AH -= 1 (that is,
 * AX -= 0x106; the carry/borrow of AL reaches AH, as on 286 and later). */
int bcd_aaa_aas(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t f = emu_flags_get(cpu);
    unsigned ax = cpu->gpr[X86_RAX] & 0xffff;
    bool adj = (ax & 0x0f) > 9 || (f & EMU_AF);

    if (adj)
        ax = in->opcode == 0x37 ? ax + 0x106 : ax - 0x106;
    ax &= 0xff0f;
    emu_reg_set(cpu, in, X86_RAX, 2, ax);
    emu_flags_set_arith(cpu, alu_szp(ax, 1) | (adj ? EMU_CF | EMU_AF : 0));
    return EMU_OK;
}

/* D4 ib AAM (imm8 0: #DE before any change), D5 ib AAD. */
int bcd_aam_aad(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned base = in->imm & 0xff;
    unsigned al = cpu->gpr[X86_RAX] & 0xff, ah = (cpu->gpr[X86_RAX] >> 8) & 0xff;

    if (in->opcode == 0xd4) {
        if (base == 0)
            return emu_raise(cpu, EMU_DE);
        unsigned q = al / base, r = al % base;
        emu_reg_set(cpu, in, X86_RAX, 2, (q << 8) | r);
        emu_lazy_set(cpu, EMU_LF_LOGIC, 1, r, r, r, 0);
    } else {
        unsigned prod = (ah * base) & 0xff;
        unsigned r = (al + prod) & 0xff;
        emu_reg_set(cpu, in, X86_RAX, 2, r);
        emu_lazy_set(cpu, EMU_LF_ADD, 1, r, al, prod, 0);
    }
    return EMU_OK;
}
