/* Helpers shared by the integer form files (forms_int.c, forms_mov.c). */
#ifndef ROAM_TESTS_DIFFTEST_FORMS_H
#define ROAM_TESTS_DIFFTEST_FORMS_H

#include <string.h>

#include "difftest.h"

#define A_ALL F_ARITH
#define U_MUL (F_SF | F_ZF | F_AF | F_PF)

static inline void flags(struct dt_item *it, uint16_t def, uint16_t undef, uint16_t read)
{
    it->fl_def = def;
    it->fl_undef = undef;
    it->fl_read = read;
}

static inline void sized(struct dt_modrm *m, unsigned size)
{
    if (size == 2) {
        memmove(m->pfx + 1, m->pfx, 3);
        m->pfx[0] = 0x66;
    }
    m->rexw = size == 8;
}

/* A register or memory for an r/m operand; byte registers for size 1. */
static inline unsigned pick_rm(struct dt_emit *e, unsigned size, bool dst)
{
    if (dt_chance(e->rng, 2))
        return DT_RM_MEM;
    if (size == 1)
        return dst ? dt_pick_bdst(e) : dt_pick_bsrc(e);
    return dst ? dt_pick_dst(e) : dt_pick_src(e);
}

/* AH-BH cannot be encoded with a REX prefix, SPL-DIL and R8B-R15B need one. */
static inline bool byte_clash(unsigned a, unsigned b)
{
    bool ha = a >= 4 && a < 8, hb = b >= 4 && b < 8;
    return (ha && b >= 8 && b != DT_RM_MEM) || (hb && a >= 8 && a != DT_RM_MEM);
}

static inline uint64_t imm_for(struct dt_emit *e)
{
    return dt_edge64(e->rng);
}

/* Opcode and immediate without ModRM (accumulator and +r forms). */
static inline void plain(struct dt_emit *e, unsigned size, unsigned rexb, const uint8_t *opc,
                         unsigned n, uint64_t imm, unsigned isz)
{
    struct dt_item *it = e->it;
    dt_setup_done(it);
    if (size == 2)
        dt_put8(it, 0x66);
    unsigned rex = (size == 8 ? 8 : 0) | rexb;
    if (rex)
        dt_put8(it, (uint8_t)(0x40 | rex));
    else if (size != 1 && dt_chance(e->rng, 16)) /* not with AH-BH */
        dt_put8(it, 0x40);
    for (unsigned i = 0; i < n; i++)
        dt_put8(it, opc[i]);
    dt_putn(it, imm, isz);
}

#endif
