/* Shared by the integer families (alu.c, bits.c, muldiv.c, shift.c): the
 * read-modify-write of a memory operand, with LOCK done as a host atomic
 * (SDM Vol. 3A 9.1.2, locked operations), and the two-operand ALU core.
 * Guest RAM is little-endian like the hosts roam runs on. */
#ifndef ROAM_ENGINE_EMU_ALU_H
#define ROAM_ENGINE_EMU_ALU_H

#include "emu.h"

/* The operations alu_rmw() performs; 0-7 are the opcode's bits 5:3. */
enum alu_op {
    ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP,
    ALU_INC, ALU_DEC, ALU_NOT, ALU_NEG,
};

/* dest = dest op src on the ModRM r/m operand of size bytes, register or
 * memory (atomic with in->lock), then the flags. CMP only reads. */
int alu_rmw(struct emu_cpu *cpu, const struct emu_insn *in, unsigned op, unsigned size,
            uint64_t src);

/* A memory operand open for read-modify-write: p is the host pointer when
 * the operand is RAM within one page, else NULL and the write goes through
 * emu_write (MMIO, page-crossing). */
struct alu_mem {
    uint8_t *p;
    uint64_t off;
    uint8_t seg;
};

static inline uint64_t alu_load(const void *p, unsigned size)
{
    uint64_t v = 0;
    memcpy(&v, p, size);
    return v;
}

static inline void alu_store(void *p, unsigned size, uint64_t v)
{
    memcpy(p, &v, size);
}

/* Translates seg:off for writing and reads the old value. A fault or an
 * unanswered MMIO read returns before anything changed. */
static inline int alu_mem_open(struct emu_cpu *cpu, struct alu_mem *m, unsigned seg, uint64_t off,
                               unsigned size, uint64_t *old)
{
    int rc = EMU_OK;
    m->seg = (uint8_t)seg;
    m->off = off;
    m->p = (uint8_t *)emu_rmw_ptr(cpu, seg, off, size, &rc);
    if (m->p) {
        *old = alu_load(m->p, size);
        return EMU_OK;
    }
    if (rc != EMU_OK)
        return rc;
    *old = 0;
    return emu_read(cpu, seg, off, size, old);
}

/* Stores the new value of an open operand. Through the host pointer the
 * store cannot fault: emu_rmw_ptr checked the write permission and did the
 * dirty and decoded-code bookkeeping. */
static inline int alu_mem_commit(struct emu_cpu *cpu, struct alu_mem *m, unsigned size, uint64_t v)
{
    if (m->p) {
        alu_store(m->p, size, v);
        return EMU_OK;
    }
    return emu_write(cpu, m->seg, m->off, size, &v);
}

/* Compare-and-swap of size bytes at p: true if *old matched and new was
 * stored; else *old is the current value. An operand that straddles an
 * aligned 8-byte word has no portable host atomic; it is done non-atomically
 * (a split lock, which guests avoid: it costs a bus lock on hardware too). */
static inline bool alu_cas(void *p, unsigned size, uint64_t *old, uint64_t nv)
{
    uintptr_t a = (uintptr_t)p;
    if ((a & (size - 1)) == 0) {
        switch (size) {
        case 1: {
            uint8_t e = (uint8_t)*old;
            bool ok = __atomic_compare_exchange_n((uint8_t *)p, &e, (uint8_t)nv, false,
                                                  __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            *old = e;
            return ok;
        }
        case 2: {
            uint16_t e = (uint16_t)*old;
            bool ok = __atomic_compare_exchange_n((uint16_t *)p, &e, (uint16_t)nv, false,
                                                  __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            *old = e;
            return ok;
        }
        case 4: {
            uint32_t e = (uint32_t)*old;
            bool ok = __atomic_compare_exchange_n((uint32_t *)p, &e, (uint32_t)nv, false,
                                                  __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            *old = e;
            return ok;
        }
        default:
            return __atomic_compare_exchange_n((uint64_t *)p, old, nv, false, __ATOMIC_SEQ_CST,
                                               __ATOMIC_SEQ_CST);
        }
    }
    if ((a & 7) + size <= 8) {
        /* Misaligned but inside one aligned word: CAS the whole word. */
        uint64_t *w = (uint64_t *)(a & ~(uintptr_t)7);
        unsigned sh = (unsigned)(a & 7) * 8;
        uint64_t m = emu_mask(size) << sh;
        uint64_t cur = __atomic_load_n(w, __ATOMIC_RELAXED);
        for (;;) {
            uint64_t got = (cur & m) >> sh;
            if (got != *old) {
                *old = got;
                return false;
            }
            if (__atomic_compare_exchange_n(w, &cur, (cur & ~m) | ((nv << sh) & m), false,
                                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
                return true;
        }
    }
    uint64_t got = alu_load(p, size);
    if (got != *old) {
        *old = got;
        return false;
    }
    alu_store(p, size, nv);
    return true;
}

/* Replaces only the flags in mask (the others keep their values). */
static inline void alu_flags_merge(struct emu_cpu *cpu, uint64_t mask, uint64_t f)
{
    uint64_t old = emu_flags_get(cpu);
    emu_flags_set_arith(cpu, (old & ~mask) | (f & mask));
}

/* SF, ZF and PF of a size-byte result. */
static inline uint64_t alu_szp(uint64_t r, unsigned size)
{
    uint64_t f = 0;
    r &= emu_mask(size);
    if (r == 0)
        f |= EMU_ZF;
    if ((r >> (size * 8 - 1)) & 1)
        f |= EMU_SF;
    if (emu_parity(r))
        f |= EMU_PF;
    return f;
}

/* A handler specialised for the decoded group-2 form (shift.c), or NULL;
 * *fast_op then says whether the block loop runs it inline (fast.h). */
emu_handler shift_fast_handler(const struct emu_insn *in, uint8_t *fast_op);

#endif
