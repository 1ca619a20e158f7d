/* Group 2's arithmetic (shift.c has the handlers and the notes on the
 * undefined flags), and its forms by an immediate, by CL and by 1 on
 * 32/64-bit registers as inline functions: shift.c takes their addresses
 * for the decoder's pick, and the block loop (exec.c) runs the commonest
 * of them inline.
 * Spec: Intel SDM Vol. 2B, "RCL/RCR/ROL/ROR", "SAL/SAR/SHL/SHR". */
#ifndef ROAM_ENGINE_EMU_SHIFT_H
#define ROAM_ENGINE_EMU_SHIFT_H

#include "alu.h"

enum { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAL, SH_SAR };

static inline uint64_t shift_msb(uint64_t v, unsigned nbits)
{
    return (v >> (nbits - 1)) & 1;
}

/* The rotates: result, and CF/OF into *f (only those two change). */
static inline uint64_t shift_rotate(unsigned op, uint64_t v, unsigned cnt, unsigned size, unsigned cf,
                             uint64_t *f)
{
    unsigned nbits = size * 8;
    uint64_t m = emu_mask(size), r = v;
    unsigned n;

    switch (op) {
    case SH_ROL:
        n = cnt & (nbits - 1);
        if (n)
            r = ((v << n) | (v >> (nbits - n))) & m;
        cf = r & 1;
        *f = (cf ? EMU_CF : 0) | ((shift_msb(r, nbits) ^ cf) ? EMU_OF : 0);
        return r;
    case SH_ROR:
        n = cnt & (nbits - 1);
        if (n)
            r = ((v >> n) | (v << (nbits - n))) & m;
        cf = (unsigned)shift_msb(r, nbits);
        break;
    case SH_RCL:
        n = size == 1 ? cnt % 9 : size == 2 ? cnt % 17 : cnt;
        if (n) {
            /* The (nbits+1)-bit value CF:v rotated left by n. */
            r = (v << n) | ((uint64_t)cf << (n - 1));
            if (n > 1)
                r |= v >> (nbits + 1 - n);
            r &= m;
            cf = (v >> (nbits - n)) & 1;
        }
        *f = (cf ? EMU_CF : 0) | ((shift_msb(r, nbits) ^ cf) ? EMU_OF : 0);
        return r;
    default: /* SH_RCR */
        n = size == 1 ? cnt % 9 : size == 2 ? cnt % 17 : cnt;
        if (n) {
            r = (v >> n) | ((uint64_t)cf << (nbits - n));
            if (n > 1)
                r |= v << (nbits + 1 - n);
            r &= m;
            cf = (v >> (n - 1)) & 1;
        }
        break;
    }
    /* ROR and RCR: OF = the two most significant bits of the result XORed. */
    *f = (cf ? EMU_CF : 0) |
         ((shift_msb(r, nbits) ^ shift_msb(r, nbits - 1)) ? EMU_OF : 0);
    return r;
}

/* SHL/SHR/SAR: result, and all six arithmetic flags into *f. */
static inline __attribute__((always_inline)) uint64_t shift_shift(unsigned op, uint64_t v, unsigned cnt, unsigned size, uint64_t *f)
{
    unsigned nbits = size * 8, cf, of;
    uint64_t r;

    if (op == SH_SHL || op == SH_SAL) {
        r = (v << cnt) & emu_mask(size);
        cf = cnt <= nbits ? (unsigned)(v >> (nbits - cnt)) & 1 : 0;
        of = cf ^ (unsigned)shift_msb(r, nbits);
    } else if (op == SH_SHR) {
        r = v >> cnt;
        cf = (unsigned)(v >> (cnt - 1)) & 1;
        of = cnt == 1 ? (unsigned)shift_msb(v, nbits) : 0;
    } else {
        int64_t s = (int64_t)emu_sext(v, size);
        r = (uint64_t)(s >> cnt) & emu_mask(size);
        cf = (unsigned)((uint64_t)(s >> (cnt - 1)) & 1);
        of = 0;
    }
    *f = alu_szp(r, size) | EMU_AF | (cf ? EMU_CF : 0) | (of ? EMU_OF : 0);
    return r;
}

/* C1 ib, D3 (by CL) and D1 (by 1) on a 32/64-bit register, one handler
 * per form, operation and size (the decoder's pick, fast.c): shift_grp2
 * for that form with its choices made. RCL/RCR stay with shift_grp2. */
#define SHIFT_FAST(KIND, CNT, OP, SIZE)                                                \
    static inline int shift_##KIND##_r##SIZE##_##OP(struct emu_cpu *cpu,             \
                                                    const struct emu_insn *in)        \
    {                                                                                  \
        unsigned cnt = (unsigned)(CNT) & (SIZE == 8 ? 0x3f : 0x1f);                     \
        uint64_t v = cpu->gpr[in->rm] & emu_mask(SIZE), r, f;                          \
        if (cnt == 0) {                                                                \
            cpu->gpr[in->rm] = v;                                                      \
            return EMU_OK;                                                             \
        }                                                                              \
        if (OP >= SH_SHL) {                                                            \
            r = shift_shift(OP, v, cnt, SIZE, &f);                                     \
            cpu->gpr[in->rm] = r;                                                      \
            emu_flags_set_arith(cpu, f);                                               \
        } else {                                                                       \
            r = shift_rotate(OP, v, cnt, SIZE, 0, &f);                                 \
            cpu->gpr[in->rm] = r;                                                      \
            alu_flags_merge(cpu, EMU_CF | EMU_OF, f);                                  \
        }                                                                              \
        return EMU_OK;                                                                 \
    }
#define SHIFT_FAST_FORM(KIND, CNT)                                                     \
    SHIFT_FAST(KIND, CNT, SH_ROL, 8)                                                   \
    SHIFT_FAST(KIND, CNT, SH_ROR, 8)                                                   \
    SHIFT_FAST(KIND, CNT, SH_SHL, 8)                                                   \
    SHIFT_FAST(KIND, CNT, SH_SHR, 8)                                                   \
    SHIFT_FAST(KIND, CNT, SH_SAR, 8)                                                   \
    SHIFT_FAST(KIND, CNT, SH_ROL, 4)                                                   \
    SHIFT_FAST(KIND, CNT, SH_ROR, 4)                                                   \
    SHIFT_FAST(KIND, CNT, SH_SHL, 4)                                                   \
    SHIFT_FAST(KIND, CNT, SH_SHR, 4)                                                   \
    SHIFT_FAST(KIND, CNT, SH_SAR, 4)
SHIFT_FAST_FORM(c1, in->imm)
SHIFT_FAST_FORM(d3, cpu->gpr[X86_RCX])
SHIFT_FAST_FORM(d1, 1)

#endif
