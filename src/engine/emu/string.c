/* string: MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS and the REP, REPE, REPNE
 * prefixes. Spec: Intel SDM Vol. 2B, the instruction pages of those names
 * and "REP/REPE/REPZ/REPNE/REPNZ"; Vol. 1 7.3.9 (string operations) and
 * 19.5 (I/O permission).
 *
 * The address size picks SI/ESI/RSI, DI/EDI/RDI and CX/ECX/RCX, which wrap
 * at that size. The source segment may be overridden; the destination is
 * always ES:rDI. F2 on MOVS, STOS, LODS, INS and OUTS acts as REP, as on
 * hardware.
 *
 * Restartability (emu.h's REP rule): each iteration is a complete unit
 * whose register updates land before the next one starts. A call does a
 * bounded amount of work; when iterations remain it sets next_rip = rip,
 * and the loop runs the instruction again (taking interrupts in between).
 * Only a call's first iteration returns a fault or an I/O exit; a later one
 * ends the call with EMU_OK instead, and the next call meets it first, so
 * a fault in iteration k reports the state after iteration k-1, as on
 * hardware. An iteration that touched MMIO or a port ends the call too, so
 * the I/O replay log and the write queue hold one iteration's accesses.
 * REP MOVS and REP STOS going up through RAM copy or fill a page-bounded
 * chunk at a time. */
#include "alu.h"
#include "handlers.h"

#define STR_BUDGET 1024 /* work units per call: one per element, one per 256 bytes of a chunk */
#define STR_PAGE 4096u

struct str_ctx {
    unsigned size, as;
    uint64_t amask;
    uint64_t step;   /* +size or -size (DF), modulo 2^64 */
    uint64_t count;  /* iterations left (REP) */
    unsigned io_mark;
    int budget;
    bool rep;
    bool first;      /* no iteration completed in this call yet */
};

/* Sums the counters that I/O moves (replayed reads, queued writes). */
static inline unsigned str_io_mark(const struct emu_cpu *cpu)
{
    return cpu->io_used + cpu->io_nwq;
}

/* Returns false if the instruction has nothing to do (REP with rCX = 0). */
static bool str_init(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size,
                     struct str_ctx *s)
{
    s->size = size;
    s->as = in->addrsize;
    s->amask = emu_mask(in->addrsize);
    s->step = (cpu->rflags & EMU_DF) ? 0 - (uint64_t)size : size;
    s->rep = in->rep != 0;
    s->count = s->rep ? cpu->gpr[X86_RCX] & s->amask : 1;
    s->io_mark = str_io_mark(cpu);
    /* Single-stepping traps after every iteration (the RIP still at the
     * instruction while iterations remain): one per call then. */
    s->budget = (cpu->rflags & EMU_TF) ? 1 : STR_BUDGET;
    s->first = true;
    return s->count != 0;
}

/* Writes an index or count register at the address size: 16 bits merge,
 * 32 bits zero-extend (as any 32-bit register write). */
static inline void str_reg_set(struct emu_cpu *cpu, unsigned reg, unsigned as, uint64_t v)
{
    if (as == 2)
        cpu->gpr[reg] = (cpu->gpr[reg] & ~0xffffull) | (v & 0xffff);
    else if (as == 4)
        cpu->gpr[reg] = v & 0xffffffffu;
    else
        cpu->gpr[reg] = v;
}

static inline uint64_t str_si(const struct emu_cpu *cpu, const struct str_ctx *s)
{
    return cpu->gpr[X86_RSI] & s->amask;
}

static inline uint64_t str_di(const struct emu_cpu *cpu, const struct str_ctx *s)
{
    return cpu->gpr[X86_RDI] & s->amask;
}

/* After n completed iterations: counts them off rCX. Returns true when
 * this call should go on with another iteration; when iterations remain
 * but the call's work is done, arranges for the instruction to run again. */
static bool str_next(struct emu_cpu *cpu, struct str_ctx *s, uint64_t n, int cost)
{
    if (!s->rep)
        return false;
    s->count -= n;
    str_reg_set(cpu, X86_RCX, s->as, s->count);
    if (s->count == 0)
        return false;
    s->budget -= cost;
    if (s->budget <= 0 || str_io_mark(cpu) != s->io_mark) {
        cpu->next_rip = cpu->rip;
        return false;
    }
    s->first = false;
    return true;
}

/* An iteration faulted or needs I/O data (rc): the first of the call
 * reports it; a later one is abandoned (its request too) and the call ends
 * after the iterations done, to meet it again as the next call's first. */
static int str_stop(struct emu_cpu *cpu, const struct str_ctx *s, int rc)
{
    if (s->first)
        return rc;
    cpu->io_read_pending = 0;
    cpu->next_rip = cpu->rip;
    return EMU_OK;
}

/* A host pointer to bytes of guest RAM at seg:off, all in one page, for
 * the chunked fast paths. NULL whenever anything would need the careful
 * path (limits, a fault, MMIO, alignment checking): the element path then
 * does the iteration and raises what it must. */
static uint8_t *str_chunk(struct emu_cpu *cpu, unsigned seg, uint64_t off, uint64_t bytes,
                          enum emu_access acc, uint64_t *gpa)
{
    uint64_t lin;
    if (emu_linear(cpu, seg, off, (unsigned)bytes, acc, &lin) != EMU_OK)
        return NULL;
    if (emu_translate(cpu, lin, acc, cpu->cpl == 3, gpa) != EMU_OK)
        return NULL;
    return emu_phys_ptr(cpu->vm, *gpa, bytes);
}

/* How many bytes a chunk at seg:off may cover: up to the end of its page
 * and without the offset wrapping; 0 if the start is not usable. */
static uint64_t str_room(struct emu_cpu *cpu, const struct str_ctx *s, unsigned seg, uint64_t off,
                         enum emu_access acc)
{
    uint64_t lin;
    if (emu_linear(cpu, seg, off, s->size, acc, &lin) != EMU_OK)
        return 0;
    uint64_t room = STR_PAGE - (lin & (STR_PAGE - 1));
    if (s->amask != ~0ull && room > s->amask - off + 1)
        room = s->amask - off + 1;
    return room;
}

/* Whether the chunked paths may run: REP going up, more than one element
 * left, no single-stepping, and no alignment checking that per-element
 * accesses would need. */
static bool str_fast_ok(const struct emu_cpu *cpu, const struct str_ctx *s)
{
    if (!s->rep || (cpu->rflags & (EMU_DF | EMU_TF)) || s->count < 2)
        return false;
    return !((cpu->rflags & EMU_AC) && (cpu->cr0 & EMU_CR0_AM) && cpu->cpl == 3);
}

/* Limits a chunk to whole elements, the count and the call's budget. */
static uint64_t str_chunk_bytes(const struct str_ctx *s, uint64_t room)
{
    uint64_t n = room / s->size;
    if (n > s->count)
        n = s->count;
    if (n > (uint64_t)s->budget * 256 / s->size)
        n = (uint64_t)s->budget * 256 / s->size;
    return n * s->size;
}

/* REP MOVS chunk: returns the elements moved, 0 to use the element path. */
static uint64_t str_movs_chunk(struct emu_cpu *cpu, const struct emu_insn *in, struct str_ctx *s)
{
    uint64_t si = str_si(cpu, s), di = str_di(cpu, s), gs, gd;
    uint64_t rs = str_room(cpu, s, in->seg, si, EMU_READ);
    uint64_t rd = str_room(cpu, s, X86_ES, di, EMU_WRITE);
    uint64_t bytes = str_chunk_bytes(s, rs < rd ? rs : rd);
    if (bytes < 2 * (uint64_t)s->size)
        return 0;
    uint8_t *ps = str_chunk(cpu, in->seg, si, bytes, EMU_READ, &gs);
    if (!ps)
        return 0;
    uint8_t *pd = str_chunk(cpu, X86_ES, di, bytes, EMU_WRITE, &gd);
    if (!pd)
        return 0;
    if ((uintptr_t)pd > (uintptr_t)ps && (uintptr_t)pd < (uintptr_t)ps + bytes) {
        /* Overlap with the destination above: element by element, as the
         * iterations would (this replicates a pattern, unlike memmove). */
        for (uint64_t i = 0; i < bytes; i += s->size)
            memmove(pd + i, ps + i, s->size);
    } else {
        memmove(pd, ps, bytes);
    }
    emu_mem_written(cpu, gd, (unsigned)bytes);
    str_reg_set(cpu, X86_RSI, s->as, si + bytes);
    str_reg_set(cpu, X86_RDI, s->as, di + bytes);
    return bytes / s->size;
}

/* A4/A5 MOVS: ES:[rDI] = seg:[rSI]. */
int string_movs(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct str_ctx s;
    if (!str_init(cpu, in, in->opsize, &s))
        return EMU_OK;
    for (;;) {
        if (str_fast_ok(cpu, &s)) {
            uint64_t n = str_movs_chunk(cpu, in, &s);
            if (n) {
                if (!str_next(cpu, &s, n, (int)(n * s.size / 256) + 1))
                    return EMU_OK;
                continue;
            }
        }
        uint64_t si = str_si(cpu, &s), di = str_di(cpu, &s), v = 0;
        int rc = emu_read(cpu, in->seg, si, s.size, &v);
        if (rc != EMU_OK)
            return str_stop(cpu, &s, rc);
        rc = emu_write(cpu, X86_ES, di, s.size, &v);
        if (rc != EMU_OK)
            return str_stop(cpu, &s, rc);
        str_reg_set(cpu, X86_RSI, s.as, si + s.step);
        str_reg_set(cpu, X86_RDI, s.as, di + s.step);
        if (!str_next(cpu, &s, 1, 1))
            return EMU_OK;
    }
}

/* REP STOS chunk: returns the elements stored, 0 to use the element path. */
static uint64_t str_stos_chunk(struct emu_cpu *cpu, struct str_ctx *s, uint64_t v)
{
    uint64_t di = str_di(cpu, s), gd;
    uint64_t bytes = str_chunk_bytes(s, str_room(cpu, s, X86_ES, di, EMU_WRITE));
    if (bytes < 2 * (uint64_t)s->size)
        return 0;
    uint8_t *pd = str_chunk(cpu, X86_ES, di, bytes, EMU_WRITE, &gd);
    if (!pd)
        return 0;
    if (s->size == 1 || v == 0 || v == emu_mask(s->size)) {
        memset(pd, (int)(v & 0xff), bytes);
    } else {
        for (uint64_t i = 0; i < bytes; i += s->size)
            memcpy(pd + i, &v, s->size);
    }
    emu_mem_written(cpu, gd, (unsigned)bytes);
    str_reg_set(cpu, X86_RDI, s->as, di + bytes);
    return bytes / s->size;
}

/* AA/AB STOS: ES:[rDI] = AL/AX/EAX/RAX. */
int string_stos(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct str_ctx s;
    if (!str_init(cpu, in, in->opsize, &s))
        return EMU_OK;
    uint64_t v = emu_reg_get(cpu, in, X86_RAX, s.size);
    for (;;) {
        if (str_fast_ok(cpu, &s)) {
            uint64_t n = str_stos_chunk(cpu, &s, v);
            if (n) {
                if (!str_next(cpu, &s, n, (int)(n * s.size / 256) + 1))
                    return EMU_OK;
                continue;
            }
        }
        uint64_t di = str_di(cpu, &s);
        int rc = emu_write(cpu, X86_ES, di, s.size, &v);
        if (rc != EMU_OK)
            return str_stop(cpu, &s, rc);
        str_reg_set(cpu, X86_RDI, s.as, di + s.step);
        if (!str_next(cpu, &s, 1, 1))
            return EMU_OK;
    }
}

/* AC/AD LODS: AL/AX/EAX/RAX = seg:[rSI]. */
int string_lods(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct str_ctx s;
    if (!str_init(cpu, in, in->opsize, &s))
        return EMU_OK;
    for (;;) {
        uint64_t si = str_si(cpu, &s), v = 0;
        int rc = emu_read(cpu, in->seg, si, s.size, &v);
        if (rc != EMU_OK)
            return str_stop(cpu, &s, rc);
        emu_reg_set(cpu, in, X86_RAX, s.size, v);
        str_reg_set(cpu, X86_RSI, s.as, si + s.step);
        if (!str_next(cpu, &s, 1, 1))
            return EMU_OK;
    }
}

/* REPE (F3) ends when the operands differ, REPNE (F2) when they match. */
static inline bool str_cond_ends(const struct emu_insn *in, uint64_t a, uint64_t b)
{
    return in->rep == 0xf3 ? a != b : a == b;
}

/* A6/A7 CMPS: compares seg:[rSI] with ES:[rDI] (flags of the first minus
 * the second). */
int string_cmps(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct str_ctx s;
    if (!str_init(cpu, in, in->opsize, &s))
        return EMU_OK;
    for (;;) {
        uint64_t si = str_si(cpu, &s), di = str_di(cpu, &s), a = 0, b = 0;
        int rc = emu_read(cpu, in->seg, si, s.size, &a);
        if (rc != EMU_OK)
            return str_stop(cpu, &s, rc);
        rc = emu_read(cpu, X86_ES, di, s.size, &b);
        if (rc != EMU_OK)
            return str_stop(cpu, &s, rc);
        str_reg_set(cpu, X86_RSI, s.as, si + s.step);
        str_reg_set(cpu, X86_RDI, s.as, di + s.step);
        emu_lazy_set(cpu, EMU_LF_SUB, s.size, a - b, a, b, 0);
        if (s.rep && s.count > 1 && str_cond_ends(in, a, b)) {
            str_reg_set(cpu, X86_RCX, s.as, s.count - 1);
            return EMU_OK;
        }
        if (!str_next(cpu, &s, 1, 1))
            return EMU_OK;
    }
}

/* AE/AF SCAS: compares AL/AX/EAX/RAX with ES:[rDI]. */
int string_scas(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct str_ctx s;
    if (!str_init(cpu, in, in->opsize, &s))
        return EMU_OK;
    uint64_t a = emu_reg_get(cpu, in, X86_RAX, s.size);
    for (;;) {
        uint64_t di = str_di(cpu, &s), b = 0;
        int rc = emu_read(cpu, X86_ES, di, s.size, &b);
        if (rc != EMU_OK)
            return str_stop(cpu, &s, rc);
        str_reg_set(cpu, X86_RDI, s.as, di + s.step);
        emu_lazy_set(cpu, EMU_LF_SUB, s.size, a - b, a, b, 0);
        if (s.rep && s.count > 1 && str_cond_ends(in, a, b)) {
            str_reg_set(cpu, X86_RCX, s.as, s.count - 1);
            return EMU_OK;
        }
        if (!str_next(cpu, &s, 1, 1))
            return EMU_OK;
    }
}

/* The port-I/O operand size: 1, 2 or 4 (REX.W does not widen INS/OUTS). */
static inline unsigned str_io_size(const struct emu_insn *in)
{
    return in->opsize > 4 ? 4 : in->opsize;
}

/* 6C/6D INS: ES:[rDI] = in(DX). The destination is checked for writing
 * before the port is read, so a fault does not lose the port's data. */
int string_ins(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct str_ctx s;
    if (!str_init(cpu, in, str_io_size(in), &s))
        return EMU_OK;
    uint16_t port = (uint16_t)cpu->gpr[X86_RDX];
    int rc = emu_io_allowed(cpu, port, s.size);
    if (rc != EMU_OK)
        return rc;
    for (;;) {
        uint64_t di = str_di(cpu, &s);
        uint32_t v = 0;
        emu_rmw_ptr(cpu, X86_ES, di, s.size, &rc);
        if (rc != EMU_OK)
            return str_stop(cpu, &s, rc);
        rc = emu_pio_in(cpu, port, s.size, &v);
        if (rc != EMU_OK)
            return str_stop(cpu, &s, rc);
        uint64_t w = v; /* emu_write is inlined with all its sizes: 8 bytes */
        rc = emu_write(cpu, X86_ES, di, s.size, &w);
        if (rc != EMU_OK)
            return str_stop(cpu, &s, rc);
        str_reg_set(cpu, X86_RDI, s.as, di + s.step);
        if (!str_next(cpu, &s, 1, 1))
            return EMU_OK;
    }
}

/* 6E/6F OUTS: out(DX, seg:[rSI]). */
int string_outs(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct str_ctx s;
    if (!str_init(cpu, in, str_io_size(in), &s))
        return EMU_OK;
    uint16_t port = (uint16_t)cpu->gpr[X86_RDX];
    int rc = emu_io_allowed(cpu, port, s.size);
    if (rc != EMU_OK)
        return rc;
    for (;;) {
        uint64_t si = str_si(cpu, &s);
        uint64_t v = 0; /* emu_read is inlined with all its sizes: 8 bytes */
        rc = emu_read(cpu, in->seg, si, s.size, &v);
        if (rc != EMU_OK)
            return str_stop(cpu, &s, rc);
        rc = emu_pio_out(cpu, port, s.size, (uint32_t)v);
        if (rc != EMU_OK)
            return str_stop(cpu, &s, rc);
        str_reg_set(cpu, X86_RSI, s.as, si + s.step);
        if (!str_next(cpu, &s, 1, 1))
            return EMU_OK;
    }
}
