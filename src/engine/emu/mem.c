/* Guest memory access for the emu engine: segmentation checks (SDM Vol. 3A
 * 5.3 limit checking, 5.4-5.5 type checking, 3.3.7.1 canonical addresses),
 * paging (Vol. 3A chapter 4: 32-bit, PAE and 4-level walks, 4.6 access
 * rights, 4.7 page-fault error codes, 4.8 accessed and dirty flags), a
 * software TLB (4.10: invalidated on MOV CR3, INVLPG, CR0/CR4/EFER paging
 * changes), the dirty bitmap for migration, self-modifying code, and I/O:
 * MMIO and port reads end the instruction with an exit and are replayed
 * from cpu->io_done when it executes again; writes are queued and reported
 * once it completes.
 *
 * Dirty tracking: a page's bit is set when a write TLB entry for it is
 * made (and on every slow-path store). Reading the log clears the bitmap
 * and then makes every running vCPU drop its write entries before it
 * returns (emu.c), so a store after the read always sets the bit again. */
#include "emu.h"

#define EMU_PHYS_BITS 40
#define EMU_PHYS_MASK (((1ull << EMU_PHYS_BITS) - 1) & ~0xfffull)

/* ---- physical memory ---- */

struct emu_slot *emu_slot_of(struct engine_vm *vm, uint64_t gpa)
{
    for (unsigned i = 0; i < EMU_MAX_SLOTS; i++) {
        struct emu_slot *s = &vm->slot[i];
        if (s->used && gpa - s->gpa < s->size)
            return s;
    }
    return NULL;
}

uint8_t *emu_phys_ptr(struct engine_vm *vm, uint64_t gpa, uint64_t len)
{
    struct emu_slot *s = emu_slot_of(vm, gpa);
    if (!s || len > s->size - (gpa - s->gpa))
        return NULL;
    return s->hva + (gpa - s->gpa);
}

static void emu_dirty_set(struct emu_slot *s, uint64_t pfn)
{
    if (!s->dirty)
        return;
    uint64_t bit = 1ull << (pfn & 63);
    if (!(__atomic_load_n(&s->dirty[pfn / 64], __ATOMIC_RELAXED) & bit))
        __atomic_fetch_or(&s->dirty[pfn / 64], bit, __ATOMIC_SEQ_CST);
}

/* A store hit a page that decoded instructions came from: they are stale.
 * Every vCPU re-reads its fetch page's generation: this one now, the others
 * at their next look at the attention flag. */
static void emu_code_written(struct emu_cpu *cpu, struct emu_slot *s, uint64_t pfn)
{
    if (!__atomic_load_n(&s->code[pfn], __ATOMIC_RELAXED))
        return;
    __atomic_store_n(&s->code[pfn], 0, __ATOMIC_RELAXED);
    __atomic_fetch_add(&s->gen[pfn], 1, __ATOMIC_SEQ_CST);
    cpu->fetch_tag = EMU_TLB_INVALID;
    struct engine_vm *vm = cpu->vm;
    for (unsigned i = 0; i < vm->ncpus; i++)
        if (vm->vcpu[i] && &vm->vcpu[i]->cpu != cpu)
            __atomic_store_n(&vm->vcpu[i]->attention, 1, __ATOMIC_SEQ_CST);
}

void emu_mem_written(struct emu_cpu *cpu, uint64_t gpa, unsigned size)
{
    uint64_t last = gpa + (size ? size - 1 : 0);
    for (uint64_t p = gpa >> 12; p <= last >> 12; p++) {
        struct emu_slot *s = emu_slot_of(cpu->vm, p << 12);
        if (!s)
            continue;
        uint64_t pfn = ((p << 12) - s->gpa) >> 12;
        emu_dirty_set(s, pfn);
        emu_code_written(cpu, s, pfn);
    }
}

/* ---- TLB ---- */

void emu_tlb_flush(struct emu_cpu *cpu, bool global_too)
{
    cpu->fetch_tag = EMU_TLB_INVALID;
    for (unsigned a = 0; a < 3; a++)
        for (unsigned i = 0; i < EMU_TLB_SIZE; i++) {
            struct emu_tlb_entry *e = &cpu->tlb.e[a][i];
            if (global_too || !(e->gpa & EMU_TLB_GLOBAL))
                e->tag = EMU_TLB_INVALID;
        }
}

void emu_tlb_flush_page(struct emu_cpu *cpu, uint64_t lin)
{
    cpu->fetch_tag = EMU_TLB_INVALID;
    /* Entries are 4 KiB pieces: those of a large page may sit at any index,
     * and INVLPG of any address in it must drop them all. */
    for (unsigned a = 0; a < 3; a++)
        for (unsigned i = 0; i < EMU_TLB_SIZE; i++) {
            struct emu_tlb_entry *e = &cpu->tlb.e[a][i];
            if (e->tag == EMU_TLB_INVALID)
                continue;
            if ((e->tag & ~0xfffull) == (lin & ~0xfffull) || (e->gpa & EMU_TLB_LARGE))
                e->tag = EMU_TLB_INVALID;
        }
}

/* ---- segmentation ---- */

static int emu_seg_fault(struct emu_cpu *cpu, unsigned seg)
{
    return emu_raise_err(cpu, seg == X86_SS ? EMU_SS : EMU_GP, 0);
}

int emu_linear(struct emu_cpu *cpu, unsigned seg, uint64_t off, unsigned size,
               enum emu_access acc, uint64_t *lin)
{
    const struct x86_segment *s = &cpu->seg[seg];

    if (cpu->code64) {
        uint64_t a = off;
        if (seg == X86_FS || seg == X86_GS)
            a += s->base;
        if (!emu_canonical(a) || !emu_canonical(a + size - 1))
            return emu_seg_fault(cpu, seg);
        *lin = a;
        return EMU_OK;
    }
    if (cpu->code_mode != EMU_MODE_REAL && cpu->code_mode != EMU_MODE_VM86) {
        if (s->unusable || !s->present)
            return emu_seg_fault(cpu, seg);
        bool code = s->type & 8;
        if (acc == EMU_WRITE && (code || !(s->type & 2)))
            return emu_seg_fault(cpu, seg);
        if (acc == EMU_READ && code && !(s->type & 2))
            return emu_seg_fault(cpu, seg);
        if (!code && (s->type & 4)) {
            /* Expand-down: valid offsets are limit+1 .. 0xffff or 0xffffffff. */
            uint64_t upper = s->db ? 0xffffffffull : 0xffffull;
            if (off <= s->limit || off + size - 1 > upper)
                return emu_seg_fault(cpu, seg);
        } else if (off + size - 1 > s->limit) {
            return emu_seg_fault(cpu, seg);
        }
    } else if (off + size - 1 > s->limit) {
        return emu_seg_fault(cpu, seg);
    }
    *lin = (s->base + off) & 0xffffffffull;
    return EMU_OK;
}

/* ---- paging ---- */

static int emu_pf(struct emu_cpu *cpu, uint64_t lin, uint32_t code)
{
    cpu->exc.cr2 = lin;
    return emu_raise_err(cpu, EMU_VEC_PF, code);
}

/* Reads a paging-structure entry (4 or 8 bytes) from RAM. */
static uint8_t *emu_pte_ptr(struct emu_cpu *cpu, uint64_t gpa, unsigned size)
{
    return emu_phys_ptr(cpu->vm, gpa, size);
}

static void emu_pte_set_bits(struct emu_cpu *cpu, uint8_t *p, uint64_t gpa, unsigned size,
                             uint64_t bits)
{
    if (size == 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        if ((v & bits) == bits)
            return;
        __atomic_fetch_or((uint64_t *)(void *)p, bits, __ATOMIC_SEQ_CST);
    } else {
        uint32_t v;
        memcpy(&v, p, 4);
        if ((v & bits) == bits)
            return;
        __atomic_fetch_or((uint32_t *)(void *)p, (uint32_t)bits, __ATOMIC_SEQ_CST);
    }
    emu_mem_written(cpu, gpa, size);
}

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)

static int emu_walk(struct emu_cpu *cpu, uint64_t lin, enum emu_access acc, bool user,
                    uint64_t *gpa_out, bool *global, bool *large)
{
    bool nxe = cpu->msr.efer & EMU_EFER_NXE;
    bool pae = cpu->cr4 & EMU_CR4_PAE;
    uint32_t pfec = (acc == EMU_WRITE ? 2u : 0) | (user ? 4u : 0) |
                    (acc == EMU_EXEC && nxe && pae ? 16u : 0);
    uint8_t *ptr[5];
    uint64_t addr[5];
    unsigned n = 0, esize, levels, shift;
    uint64_t table, entry = 0, rw = 1, us = 1, nx = 0, page_mask = 0xfff;
    /* Reserved bits of PAE/4-level entries: above MAXPHYADDR (51:40), and
     * bit 63 without EFER.NXE. Bits 62:52 are ignored. */
    uint64_t rsvd = (((1ull << 52) - 1) & ~((1ull << EMU_PHYS_BITS) - 1)) | (nxe ? 0 : PTE_NX);

    if (cpu->long_mode) {
        levels = 4;
        esize = 8;
        table = cpu->cr3 & EMU_PHYS_MASK;
        shift = 39;
    } else if (pae) {
        uint64_t pdpte_gpa = (cpu->cr3 & 0xffffffe0u) + ((lin >> 30) & 3) * 8;
        uint8_t *p = emu_pte_ptr(cpu, pdpte_gpa, 8);
        uint64_t pdpte = 0;
        if (p)
            memcpy(&pdpte, p, 8);
        if (!(pdpte & PTE_P))
            return emu_pf(cpu, lin, pfec);
        if (pdpte & ((((1ull << 52) - 1) & ~((1ull << EMU_PHYS_BITS) - 1)) | 0x1e6ull | PTE_NX))
            return emu_pf(cpu, lin, pfec | 1 | 8);
        levels = 2;
        esize = 8;
        table = pdpte & EMU_PHYS_MASK;
        shift = 21;
    } else {
        levels = 2;
        esize = 4;
        table = cpu->cr3 & 0xfffff000u;
        shift = 22;
        rsvd = 0;
    }

    for (unsigned lvl = 0; lvl < levels; lvl++, shift -= (esize == 8 ? 9 : 10)) {
        unsigned idx = (unsigned)((lin >> shift) & (esize == 8 ? 511 : 1023));
        uint64_t ea = table + (uint64_t)idx * esize;
        uint8_t *p = emu_pte_ptr(cpu, ea, esize);
        entry = 0;
        if (p)
            memcpy(&entry, p, esize);
        if (!(entry & PTE_P))
            return emu_pf(cpu, lin, pfec);
        ptr[n] = p;
        addr[n++] = ea;
        bool last = lvl == levels - 1;
        bool ps = !last && (entry & PTE_PS);
        uint64_t r = rsvd;
        if (esize == 8) {
            if (levels == 4 && lvl == 0)
                r |= PTE_PS;           /* PML4E.PS is reserved */
            if (levels == 4 && lvl == 1 && ps)
                r |= PTE_PS;           /* no 1-GiB pages in roam-v1 */
            if (ps && !(r & PTE_PS))
                r |= 0x1fe000ull;      /* 2-MiB page: bits 20:13 */
        } else if (ps) {
            if (!(cpu->cr4 & EMU_CR4_PSE))
                ps = false;            /* PS ignored without CR4.PSE */
            else
                r |= 0x3fe000ull;      /* 4-MiB page without PSE-36: bits 21:13 */
        }
        if (entry & r)
            return emu_pf(cpu, lin, pfec | 1 | 8);
        rw &= (entry >> 1) & 1;
        us &= (entry >> 2) & 1;
        if (esize == 8 && nxe)
            nx |= entry >> 63;
        if (ps || last) {
            page_mask = ps ? (1ull << shift) - 1 : 0xfff;
            break;
        }
        table = entry & (esize == 8 ? EMU_PHYS_MASK : 0xfffff000u);
    }

    if (user && !us)
        return emu_pf(cpu, lin, pfec | 1);
    if (acc == EMU_WRITE && !rw && (user || (cpu->cr0 & EMU_CR0_WP)))
        return emu_pf(cpu, lin, pfec | 1);
    if (acc == EMU_EXEC && nx)
        return emu_pf(cpu, lin, pfec | 1);

    /* Accessed on every level, dirty on the leaf for writes (SDM 4.8). */
    for (unsigned i = 0; i < n; i++)
        emu_pte_set_bits(cpu, ptr[i], addr[i], esize,
                         PTE_A | (i == n - 1 && acc == EMU_WRITE ? PTE_D : 0));
    uint64_t base = entry & (esize == 8 ? EMU_PHYS_MASK : 0xfffff000u) & ~page_mask;
    *gpa_out = base | (lin & page_mask & ~0xfffull);
    *global = (cpu->cr4 & EMU_CR4_PGE) && (entry & PTE_G);
    *large = page_mask != 0xfff;
    return EMU_OK;
}

int emu_translate(struct emu_cpu *cpu, uint64_t lin, enum emu_access acc, bool user,
                  uint64_t *gpa)
{
    bool global = false, large = false;
    if (!(cpu->cr0 & EMU_CR0_PG)) {
        *gpa = lin & (cpu->long_mode ? ~0ull : 0xffffffffull);
        return EMU_OK;
    }
    int rc = emu_walk(cpu, lin, acc, user, gpa, &global, &large);
    if (rc == EMU_OK)
        *gpa |= lin & 0xfff;
    return rc;
}

/* Translates and fills the TLB entry for (lin's page, acc, user). */
static int emu_tlb_fill(struct emu_cpu *cpu, uint64_t lin, enum emu_access acc, bool user,
                        struct emu_tlb_entry **out)
{
    uint64_t page = lin & ~0xfffull, gpa;
    bool global = false, large = false;
    int rc;

    if (cpu->cr0 & EMU_CR0_PG) {
        /* The walk gets the full address: a #PF reports it in CR2. */
        rc = emu_walk(cpu, lin, acc, user, &gpa, &global, &large);
        if (rc != EMU_OK)
            return rc;
        gpa &= ~0xfffull;
    } else {
        gpa = page & (cpu->long_mode ? ~0ull : 0xffffffffull);
    }
    struct emu_tlb_entry *e = &cpu->tlb.e[acc][(lin >> 12) % EMU_TLB_SIZE];
    struct emu_slot *s = emu_slot_of(cpu->vm, gpa);
    e->slot = s;
    e->host = s ? s->hva + (gpa - s->gpa) : NULL;
    e->gpa = gpa | (global ? EMU_TLB_GLOBAL : 0) | (large ? EMU_TLB_LARGE : 0);
    e->tag = page | (user ? EMU_TLB_USER : 0);
    if (acc == EMU_WRITE && s) {
        uint64_t pfn = (gpa - s->gpa) >> 12;
        emu_dirty_set(s, pfn);
        /* Stores to code pages take the slow path, which invalidates. */
        if (__atomic_load_n(&s->code[pfn], __ATOMIC_RELAXED))
            e->host = NULL;
    }
    *out = e;
    return EMU_OK;
}

static inline struct emu_tlb_entry *emu_tlb_hit(struct emu_cpu *cpu, uint64_t lin,
                                                enum emu_access acc, bool user)
{
    struct emu_tlb_entry *e = &cpu->tlb.e[acc][(lin >> 12) % EMU_TLB_SIZE];
    return e->tag == ((lin & ~0xfffull) | (user ? EMU_TLB_USER : 0)) ? e : NULL;
}

/* ---- I/O replay ---- */

/* The answer to a read this instruction made before, if any. */
static struct emu_io_rec *emu_io_replay(struct emu_cpu *cpu, unsigned kind, uint64_t addr,
                                        unsigned size)
{
    if (cpu->io_used < cpu->io_ndone) {
        struct emu_io_rec *r = &cpu->io_done[cpu->io_used];
        if (r->kind == kind && r->addr == addr && r->size == size) {
            cpu->io_used++;
            return r;
        }
    }
    return NULL;
}

static int emu_io_request(struct emu_cpu *cpu, unsigned kind, uint64_t addr, unsigned size,
                          uint64_t data)
{
    if (cpu->io_ndone >= EMU_IO_LOG)
        return EMU_FAULT; /* cannot happen with roam-v1 instructions */
    cpu->io_req.kind = (uint8_t)kind;
    cpu->io_req.addr = addr;
    cpu->io_req.size = (uint8_t)size;
    cpu->io_req.error = 0;
    memcpy(cpu->io_req.data, &data, 8);
    cpu->io_read_pending = 1;
    return EMU_EXIT;
}

static int emu_io_queue_write(struct emu_cpu *cpu, unsigned kind, uint64_t addr, unsigned size,
                              const void *data, bool force)
{
    if ((cpu->io_nwq && !force) || cpu->io_nwq >= EMU_IO_LOG)
        return EMU_EXIT;
    struct emu_io_rec *r = &cpu->io_wq[cpu->io_nwq++];
    r->kind = (uint8_t)kind;
    r->addr = addr;
    r->size = (uint8_t)size;
    memset(r->data, 0, 8);
    memcpy(r->data, data, size);
    return EMU_OK;
}

static int emu_mmio_read(struct emu_cpu *cpu, uint64_t gpa, unsigned size, void *out)
{
    /* MMIO accesses wider than 8 bytes (SSE) are split into quadwords. */
    while (size > 8) {
        int rc = emu_mmio_read(cpu, gpa, 8, out);
        if (rc != EMU_OK)
            return rc;
        gpa += 8;
        out = (uint8_t *)out + 8;
        size -= 8;
    }
    struct emu_io_rec *r = emu_io_replay(cpu, EMU_IO_MMIO, gpa, size);
    if (r) {
        memcpy(out, r->data, size);
        return EMU_OK;
    }
    return emu_io_request(cpu, EMU_IO_MMIO, gpa, size, 0);
}

static int emu_mmio_write(struct emu_cpu *cpu, uint64_t gpa, unsigned size, const void *data,
                          bool force)
{
    while (size > 8) {
        int rc = emu_mmio_write(cpu, gpa, 8, data, true);
        if (rc != EMU_OK)
            return rc;
        gpa += 8;
        data = (const uint8_t *)data + 8;
        size -= 8;
        force = true;
    }
    return emu_io_queue_write(cpu, EMU_IO_MMIO, gpa, size, data, force);
}

int emu_pio_in(struct emu_cpu *cpu, uint16_t port, unsigned size, uint32_t *val)
{
    struct emu_io_rec *r = emu_io_replay(cpu, EMU_IO_PIO, port, size);
    if (r) {
        uint32_t v = 0;
        memcpy(&v, r->data, size);
        *val = v;
        return EMU_OK;
    }
    return emu_io_request(cpu, EMU_IO_PIO, port, size, 0);
}

int emu_pio_out(struct emu_cpu *cpu, uint16_t port, unsigned size, uint32_t val)
{
    return emu_io_queue_write(cpu, EMU_IO_PIO, port, size, &val, false);
}

int emu_msr_core(struct emu_cpu *cpu, uint32_t idx, bool write, uint64_t *val, bool *refused)
{
    unsigned kind = write ? EMU_IO_MSR_WRITE : EMU_IO_MSR_READ;
    struct emu_io_rec *r = emu_io_replay(cpu, kind, idx, 8);
    if (r) {
        if (!write)
            memcpy(val, r->data, 8);
        *refused = r->error;
        return EMU_OK;
    }
    return emu_io_request(cpu, kind, idx, 8, write ? *val : 0);
}

int emu_io_allowed(struct emu_cpu *cpu, uint16_t port, unsigned size)
{
    unsigned iopl = (unsigned)((cpu->rflags & EMU_IOPL) >> 12);
    if (cpu->code_mode == EMU_MODE_REAL ||
        (cpu->code_mode != EMU_MODE_VM86 && cpu->cpl <= iopl))
        return EMU_OK;
    /* The TSS I/O permission bitmap (SDM Vol. 1 19.5.2). */
    const struct x86_segment *tr = &cpu->seg[X86_TR];
    if (tr->unusable || !tr->present || ((tr->type & 0xd) != 9) || tr->limit < 103)
        return emu_gp0(cpu);
    uint16_t base;
    int rc = emu_read_lin(cpu, tr->base + 102, 2, &base, false);
    if (rc != EMU_OK)
        return rc == EMU_EXIT ? emu_gp0(cpu) : rc;
    uint32_t at = base + port / 8u;
    if (at + 1 > tr->limit)
        return emu_gp0(cpu);
    uint16_t bits;
    rc = emu_read_lin(cpu, tr->base + at, 2, &bits, false);
    if (rc != EMU_OK)
        return rc == EMU_EXIT ? emu_gp0(cpu) : rc;
    if ((bits >> (port & 7)) & ((1u << size) - 1))
        return emu_gp0(cpu);
    return EMU_OK;
}

/* ---- linear accesses ---- */

static int emu_read_page(struct emu_cpu *cpu, uint64_t lin, unsigned size, void *out, bool user)
{
    struct emu_tlb_entry *e = emu_tlb_hit(cpu, lin, EMU_READ, user);
    if (!e) {
        int rc = emu_tlb_fill(cpu, lin, EMU_READ, user, &e);
        if (rc != EMU_OK)
            return rc;
    }
    if (e->host) {
        memcpy(out, e->host + (lin & 0xfff), size);
        return EMU_OK;
    }
    return emu_mmio_read(cpu, (e->gpa & ~0xfffull) | (lin & 0xfff), size, out);
}

int emu_read_lin(struct emu_cpu *cpu, uint64_t lin, unsigned size, void *out, bool user)
{
    unsigned in_page = 4096 - (unsigned)(lin & 0xfff);
    if (emu_debug_armed(cpu))
        emu_debug_data(cpu, lin, size, false);
    if (size <= in_page) {
        struct emu_tlb_entry *e = emu_tlb_hit(cpu, lin, EMU_READ, user);
        if (e && e->host) {
            memcpy(out, e->host + (lin & 0xfff), size);
            return EMU_OK;
        }
        return emu_read_page(cpu, lin, size, out, user);
    }
    uint64_t lin2 = lin + in_page;
    if (!cpu->code64 && !cpu->long_mode)
        lin2 &= 0xffffffffull;
    int rc = emu_read_page(cpu, lin, in_page, out, user);
    if (rc != EMU_OK)
        return rc;
    return emu_read_page(cpu, lin2, size - in_page, (uint8_t *)out + in_page, user);
}

static int emu_write_prepare(struct emu_cpu *cpu, uint64_t lin, bool user,
                             struct emu_tlb_entry **out)
{
    struct emu_tlb_entry *e = emu_tlb_hit(cpu, lin, EMU_WRITE, user);
    if (e && (e->host || !e->slot)) {
        *out = e;
        return EMU_OK;
    }
    return emu_tlb_fill(cpu, lin, EMU_WRITE, user, out);
}

static int emu_write_page(struct emu_cpu *cpu, struct emu_tlb_entry *e, uint64_t lin,
                          unsigned size, const void *data, bool force)
{
    unsigned off = (unsigned)(lin & 0xfff);
    if (e->host) {
        memcpy(e->host + off, data, size);
        return EMU_OK;
    }
    uint64_t gpa = (e->gpa & ~0xfffull) | off;
    if (e->slot) {
        /* A code page: store, then invalidate what was decoded from it. */
        uint64_t pfn = ((gpa & ~0xfffull) - e->slot->gpa) >> 12;
        memcpy(e->slot->hva + (gpa - e->slot->gpa), data, size);
        emu_dirty_set(e->slot, pfn);
        emu_code_written(cpu, e->slot, pfn);
        return EMU_OK;
    }
    return emu_mmio_write(cpu, gpa, size, data, force);
}

int emu_write_lin(struct emu_cpu *cpu, uint64_t lin, unsigned size, const void *data, bool user)
{
    unsigned in_page = 4096 - (unsigned)(lin & 0xfff);
    struct emu_tlb_entry *e, *e2;
    int rc;

    if (emu_debug_armed(cpu))
        emu_debug_data(cpu, lin, size, true);
    if (size <= in_page) {
        e = emu_tlb_hit(cpu, lin, EMU_WRITE, user);
        if (e && e->host) {
            memcpy(e->host + (lin & 0xfff), data, size);
            return EMU_OK;
        }
        rc = emu_write_prepare(cpu, lin, user, &e);
        if (rc != EMU_OK)
            return rc;
        return emu_write_page(cpu, e, lin, size, data, false);
    }
    /* Crossing a page: both translations succeed before either store. The
     * second translation may evict the first's entry, so copy it. */
    uint64_t lin2 = lin + in_page;
    if (!cpu->code64 && !cpu->long_mode)
        lin2 &= 0xffffffffull;
    rc = emu_write_prepare(cpu, lin, user, &e);
    if (rc != EMU_OK)
        return rc;
    struct emu_tlb_entry first = *e;
    rc = emu_write_prepare(cpu, lin2, user, &e2);
    if (rc != EMU_OK)
        return rc;
    rc = emu_write_page(cpu, &first, lin, in_page, data, true);
    if (rc != EMU_OK)
        return rc;
    return emu_write_page(cpu, e2, lin2, size - in_page, (const uint8_t *)data + in_page, true);
}

/* ---- segment-relative accesses ---- */

/* Alignment checking (SDM Vol. 3A 6.15, #AC): CR0.AM, RFLAGS.AC, CPL 3 and
 * a data access not aligned to its size (8 for the x87's 10-byte operands;
 * 16-byte SSE operands have their own #GP rule). */
static bool emu_misaligned(const struct emu_cpu *cpu, uint64_t lin, unsigned size)
{
    if (cpu->cpl != 3 || !(cpu->cr0 & EMU_CR0_AM) || !(cpu->rflags & EMU_AC))
        return false;
    unsigned align = size == 10 ? 8 : size;
    if (align != 2 && align != 4 && align != 8)
        return false;
    return (lin & (align - 1)) != 0;
}

int emu_read_slow(struct emu_cpu *cpu, unsigned seg, uint64_t off, unsigned size, void *out)
{
    uint64_t lin = 0;
    int rc = emu_linear(cpu, seg, off, size, EMU_READ, &lin);
    if (rc != EMU_OK)
        return rc;
    if (emu_misaligned(cpu, lin, size))
        return emu_raise_err(cpu, EMU_VEC_AC, 0);
    return emu_read_lin(cpu, lin, size, out, cpu->cpl == 3);
}

int emu_write_slow(struct emu_cpu *cpu, unsigned seg, uint64_t off, unsigned size,
                   const void *data)
{
    uint64_t lin = 0;
    int rc = emu_linear(cpu, seg, off, size, EMU_WRITE, &lin);
    if (rc != EMU_OK)
        return rc;
    if (emu_misaligned(cpu, lin, size))
        return emu_raise_err(cpu, EMU_VEC_AC, 0);
    return emu_write_lin(cpu, lin, size, data, cpu->cpl == 3);
}

void *emu_rmw_ptr(struct emu_cpu *cpu, unsigned seg, uint64_t off, unsigned size, int *rc)
{
    uint64_t lin = 0;
    struct emu_tlb_entry *e;

    *rc = emu_linear(cpu, seg, off, size, EMU_WRITE, &lin);
    if (*rc != EMU_OK)
        return NULL;
    if (emu_misaligned(cpu, lin, size)) {
        *rc = emu_raise_err(cpu, EMU_VEC_AC, 0);
        return NULL;
    }
    bool user = cpu->cpl == 3;
    if (emu_debug_armed(cpu))
        emu_debug_data(cpu, lin, size, true);
    if ((lin & 0xfff) + size > 4096) {
        /* Crossing a page: the caller reads and writes separately, but a
         * read-modify-write faults as a write, lowest page first. */
        uint64_t lin2 = (lin | 0xfff) + 1;
        if (!cpu->code64 && !cpu->long_mode)
            lin2 &= 0xffffffffull;
        if ((*rc = emu_write_prepare(cpu, lin, user, &e)) == EMU_OK)
            *rc = emu_write_prepare(cpu, lin2, user, &e);
        return NULL;
    }
    /* A read-modify-write needs both rights: a read-only page faults as a
     * write (error code W=1), which the write walk gives. */
    *rc = emu_write_prepare(cpu, lin, user, &e);
    if (*rc != EMU_OK)
        return NULL;
    if (e->host)
        return e->host + (lin & 0xfff);
    if (!e->slot)
        return NULL; /* MMIO */
    uint64_t gpa = (e->gpa & ~0xfffull) | (lin & 0xfff);
    uint64_t pfn = ((gpa & ~0xfffull) - e->slot->gpa) >> 12;
    emu_dirty_set(e->slot, pfn);
    emu_code_written(cpu, e->slot, pfn);
    return e->slot->hva + (gpa - e->slot->gpa);
}
