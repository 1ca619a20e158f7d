/* Lays a case's items out as code. Blocks become branches over (or back
 * into) their bodies; RIP-relative displacements are patched to reach their
 * targets. Undefined flags are tracked along the way ("poison": flags an
 * instruction left undefined and nothing has defined since): before an
 * instruction reads a poisoned flag a definer, CMP r64, r64, is inserted, so
 * hardware's undefined choices never flow into compared state; FXAM does the
 * same for the x87 condition codes before the FSW is stored. Where paths
 * join, poison is the union over the paths, so the masks are conservative.
 * Doing this here rather than in the generator keeps it right after the
 * shrinker removed items. */
#include <string.h>

#include "difftest.h"

uint16_t dt_cc_flags(unsigned cc)
{
    static const uint16_t f[8] = {F_OF, F_CF, F_ZF, F_CF | F_ZF, F_SF, F_PF, F_SF | F_OF,
                                  F_ZF | F_SF | F_OF};
    return f[(cc >> 1) & 7];
}

struct asmst {
    struct dt_case *c;
    uint16_t fl, cc; /* poison */
    bool ok;
};

static uint32_t here(const struct asmst *a)
{
    return DT_CODE + a->c->code_len;
}

static void emit(struct asmst *a, const uint8_t *b, unsigned n)
{
    struct dt_case *c = a->c;
    if (c->code_len + n > DT_CODE_SIZE - 2) {
        a->ok = false;
        return;
    }
    memcpy(c->code + c->code_len, b, n);
    c->code_len += n;
}

static void emit1(struct asmst *a, uint8_t b)
{
    emit(a, &b, 1);
}

static void emit32(struct asmst *a, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    emit(a, b, 4);
}

static void patch32(struct asmst *a, uint32_t at_addr, uint32_t v)
{
    if (a->ok)
        memcpy(a->c->code + (at_addr - DT_CODE), &v, 4);
}

static void patch8(struct asmst *a, uint32_t at_addr, int32_t rel)
{
    if (rel < -128 || rel > 127)
        a->ok = false;
    else if (a->ok)
        a->c->code[at_addr - DT_CODE] = (uint8_t)rel;
}

static void boundary(struct asmst *a, int item)
{
    struct dt_case *c = a->c;
    if (c->ninsns >= DT_MAX_INSNS) {
        a->ok = false;
        return;
    }
    c->insns[c->ninsns++] = (struct dt_insn){here(a), a->fl, a->cc, (int16_t)item};
}

/* Makes the flags in need defined (CMP r64, r64 with registers from rnd). */
static void define_flags(struct asmst *a, uint16_t need, uint8_t rnd)
{
    if (!(a->fl & need))
        return;
    unsigned reg = rnd & 15, rm = (rnd >> 4) & 15;
    boundary(a, -1);
    uint8_t b[3] = {(uint8_t)(0x48 | (reg >> 3) << 2 | rm >> 3), 0x39,
                    (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7))};
    emit(a, b, 3);
    a->fl = 0;
}

static void define_cc(struct asmst *a, uint16_t need)
{
    if (!(a->cc & need))
        return;
    boundary(a, -1);
    uint8_t b[2] = {0xd9, 0xe5}; /* FXAM defines C0-C3 */
    emit(a, b, 2);
    a->cc = 0;
}

/* lea reg, [rip + target] */
static void lea_rip(struct asmst *a, unsigned reg, uint32_t target)
{
    boundary(a, -1);
    uint8_t b[3] = {(uint8_t)(0x48 | (reg >> 3) << 2), 0x8d, (uint8_t)(0x05 | (reg & 7) << 3)};
    emit(a, b, 3);
    emit32(a, target - (here(a) + 4));
}

static void emit_item(struct asmst *a, unsigned idx)
{
    struct dt_case *c = a->c;
    const struct dt_item *it = &c->items[idx];
    define_flags(a, it->fl_read, it->rnd);
    define_cc(a, it->cc_read);
    uint32_t start = here(a);
    boundary(a, (int)idx);
    if (it->main > 0 && it->main < it->len) {
        /* the instruction proper is a boundary of its own */
        emit(a, it->bytes, it->main);
        boundary(a, (int)idx);
        emit(a, it->bytes + it->main, it->len - it->main);
    } else {
        emit(a, it->bytes, it->len);
    }
    if (it->riprel)
        patch32(a, start + it->rel_at, it->rel_target - (start + it->rel_end));
    a->fl = (uint16_t)((a->fl & ~it->fl_def) | it->fl_undef);
    a->cc = (uint16_t)((a->cc & ~it->cc_def) | it->cc_undef);
    for (unsigned k = 0; k < 2; k++) {
        if (it->mmask_len[k] && c->nmmask < DT_MAX_MMASK) {
            c->mmask[c->nmmask].addr = it->mmask_addr[k];
            c->mmask[c->nmmask].len = it->mmask_len[k];
            c->nmmask++;
        }
    }
}

static unsigned asm_list(struct asmst *a, unsigned i);

/* Assembles the block body starting at item i (after the BEGIN); returns
 * the index after its END. */
static unsigned asm_body(struct asmst *a, unsigned i)
{
    return asm_list(a, i);
}

static unsigned asm_block(struct asmst *a, unsigned bi)
{
    struct dt_case *c = a->c;
    struct dt_item *b = &c->items[bi];
    uint16_t fl0, cc0;
    uint32_t at;
    unsigned next;

    switch (b->blk) {
    case BLK_JCC8:
    case BLK_JCC32:
    case BLK_LOOPF: {
        if (b->blk == BLK_LOOPF) {
            uint8_t mov[5] = {0xb9, (uint8_t)b->imm, 0, 0, 0}; /* mov ecx, count */
            boundary(a, (int)bi);
            emit(a, mov, 5);
            if (b->op == 0xe0 || b->op == 0xe1)
                define_flags(a, F_ZF, b->rnd);
        } else {
            define_flags(a, dt_cc_flags(b->op), b->rnd);
        }
        boundary(a, (int)bi);
        if (b->blk == BLK_JCC32) {
            uint8_t op[2] = {0x0f, (uint8_t)(0x80 + b->op)};
            emit(a, op, 2);
            emit32(a, 0);
        } else {
            emit1(a, b->blk == BLK_LOOPF ? b->op : (uint8_t)(0x70 + b->op));
            emit1(a, 0);
        }
        at = here(a);
        fl0 = a->fl;
        cc0 = a->cc;
        next = asm_body(a, bi + 1);
        if (b->blk == BLK_JCC32)
            patch32(a, at - 4, here(a) - at);
        else
            patch8(a, at - 1, (int32_t)(here(a) - at));
        a->fl |= fl0;
        a->cc |= cc0;
        return next;
    }
    case BLK_JMP8:
    case BLK_JMP32:
    case BLK_JMPR:
        if (b->blk == BLK_JMPR) {
            lea_rip(a, b->reg, 0); /* patched below */
            boundary(a, (int)bi);
            uint8_t j[3] = {0x41, 0xff, (uint8_t)(0xe0 | (b->reg & 7))}; /* jmp reg */
            if (b->reg >= 8)
                emit(a, j, 3);
            else
                emit(a, j + 1, 2);
        } else {
            boundary(a, (int)bi);
            emit1(a, b->blk == BLK_JMP8 ? 0xeb : 0xe9);
            if (b->blk == BLK_JMP8)
                emit1(a, 0);
            else
                emit32(a, 0);
        }
        at = here(a);
        fl0 = a->fl;
        cc0 = a->cc;
        next = asm_body(a, bi + 1); /* never runs */
        if (b->blk == BLK_JMP8) {
            patch8(a, at - 1, (int32_t)(here(a) - at));
        } else if (b->blk == BLK_JMP32) {
            patch32(a, at - 4, here(a) - at);
        } else {
            unsigned jl = b->reg >= 8 ? 3 : 2;
            patch32(a, at - jl - 4, here(a) - (at - jl));
        }
        a->fl = fl0;
        a->cc = cc0;
        return next;
    case BLK_LOOPB: {
        uint8_t mov[5] = {0xb9, (uint8_t)b->imm, 0, 0, 0};
        boundary(a, (int)bi);
        emit(a, mov, 5);
        /* twice: the second pass with what the body leaves poisoned */
        unsigned len0 = c->code_len, n0 = c->ninsns, m0 = c->nmmask;
        fl0 = a->fl;
        cc0 = a->cc;
        asm_body(a, bi + 1);
        uint16_t fl1 = a->fl, cc1 = a->cc;
        c->code_len = len0;
        c->ninsns = n0;
        c->nmmask = m0;
        a->fl = fl0 | fl1;
        a->cc = cc0 | cc1;
        uint32_t top = here(a);
        next = asm_body(a, bi + 1);
        boundary(a, (int)bi);
        emit1(a, 0xe2);
        emit1(a, 0);
        patch8(a, here(a) - 1, (int32_t)(top - here(a)));
        return next;
    }
    default: { /* BLK_CALL, BLK_CALLR, BLK_CALLM */
        uint32_t call_at, sub;
        if (b->blk == BLK_CALL) {
            boundary(a, (int)bi);
            emit1(a, 0xe8);
            emit32(a, 0);
            call_at = here(a);
        } else {
            lea_rip(a, b->reg, 0);
            call_at = here(a);
            if (b->blk == BLK_CALLM) {
                /* mov [abs], reg; call [abs] */
                boundary(a, (int)bi);
                uint8_t st[4] = {(uint8_t)(0x48 | (b->reg >> 3) << 2), 0x89,
                                 (uint8_t)(0x04 | (b->reg & 7) << 3), 0x25};
                emit(a, st, 4);
                emit32(a, b->rel_target);
                boundary(a, (int)bi);
                uint8_t cl[3] = {0xff, 0x14, 0x25};
                emit(a, cl, 3);
                emit32(a, b->rel_target);
            } else {
                boundary(a, (int)bi);
                uint8_t cl[3] = {0x41, 0xff, (uint8_t)(0xd0 | (b->reg & 7))};
                if (b->reg >= 8)
                    emit(a, cl, 3);
                else
                    emit(a, cl + 1, 2);
            }
        }
        boundary(a, (int)bi);
        emit1(a, 0xe9);
        emit32(a, 0);
        at = here(a);
        sub = here(a);
        next = asm_body(a, bi + 1);
        boundary(a, (int)bi);
        if (b->imm) {
            uint8_t r[3] = {0xc2, (uint8_t)b->imm, (uint8_t)(b->imm >> 8)};
            emit(a, r, 3);
        } else {
            emit1(a, 0xc3);
        }
        patch32(a, at - 4, here(a) - at);
        /* the call's rel32, or the lea's disp32: both end at call_at */
        patch32(a, call_at - 4, sub - call_at);
        return next;
    }
    }
}

static unsigned asm_list(struct asmst *a, unsigned i)
{
    struct dt_case *c = a->c;
    while (i < c->nitems && a->ok) {
        const struct dt_item *it = &c->items[i];
        if (it->kind == IT_END)
            return i + 1;
        if (it->kind == IT_BEGIN)
            i = asm_block(a, i);
        else
            emit_item(a, i++);
    }
    return i;
}

bool dt_assemble(struct dt_case *c)
{
    struct asmst a = {c, 0, 0, true};
    c->code_len = 0;
    c->ninsns = 0;
    c->nmmask = 0;
    for (;;) {
        a = (struct asmst){c, 0, 0, true};
        c->code_len = 0;
        c->ninsns = 0;
        c->nmmask = 0;
        asm_list(&a, 0);
        if (a.ok)
            break;
        /* a short branch that cannot reach: make it near and retry */
        bool changed = false;
        for (unsigned i = 0; i < c->nitems; i++) {
            struct dt_item *it = &c->items[i];
            if (it->kind == IT_BEGIN && (it->blk == BLK_JCC8 || it->blk == BLK_JMP8)) {
                it->blk = it->blk == BLK_JCC8 ? BLK_JCC32 : BLK_JMP32;
                changed = true;
                break;
            }
        }
        if (!changed)
            return false;
    }
    boundary(&a, -1);
    uint8_t ud2[2] = {0x0f, 0x0b};
    emit(&a, ud2, 2);
    c->code_len = c->code_len > DT_CODE_SIZE ? DT_CODE_SIZE : c->code_len;
    return a.ok;
}

void dt_masks_at(const struct dt_case *c, uint64_t rip, uint16_t *fl, uint16_t *cc)
{
    *fl = 0;
    *cc = 0;
    if (c->fixed_masks) {
        *fl = c->fixed_fl;
        *cc = c->fixed_cc;
        return;
    }
    /* the exact boundary, else the last one before (traps report the next
     * instruction; a mid-instruction RIP means something went wrong and
     * the conservative union is used) */
    uint16_t all_fl = 0, all_cc = 0;
    const struct dt_insn *best = NULL;
    for (unsigned i = 0; i < c->ninsns; i++) {
        const struct dt_insn *in = &c->insns[i];
        all_fl |= in->fl_poison;
        all_cc |= in->cc_poison;
        if (in->addr == rip) {
            *fl |= in->fl_poison;
            *cc |= in->cc_poison;
            best = in;
        }
    }
    if (!best) {
        *fl = all_fl;
        *cc = all_cc;
    }
}
