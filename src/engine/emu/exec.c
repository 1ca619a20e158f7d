/* Instruction fetch and execution: the CS limit or canonical check, the
 * exec TLB, and the decoded-instruction cache (keyed by guest-physical
 * address, CPU mode and the code page's generation, which stores to the
 * page bump: SDM Vol. 3A 11.6, self-modifying code). */
#include <stdio.h>

#include "emu.h"

static int emu_stop(struct emu_cpu *cpu, const char *why, uint64_t at)
{
    snprintf(cpu->stop_reason, sizeof(cpu->stop_reason), "%s at 0x%llx", why,
             (unsigned long long)at);
    return EMU_STOP;
}

static bool emu_canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* The first decode from a page makes it a code page: this vCPU and the
 * others drop their fast write entries for it so stores see the mark. */
static void emu_mark_code(struct emu_cpu *cpu, struct emu_slot *s, uint64_t pfn)
{
    if (__atomic_load_n(&s->code[pfn], __ATOMIC_RELAXED))
        return;
    __atomic_store_n(&s->code[pfn], 1, __ATOMIC_SEQ_CST);
    uint64_t gpa = s->gpa + (pfn << 12);
    for (unsigned i = 0; i < EMU_TLB_SIZE; i++) {
        struct emu_tlb_entry *e = &cpu->tlb.e[EMU_WRITE][i];
        if ((e->gpa & ~0xfffull) == gpa)
            e->tag = EMU_TLB_INVALID;
    }
    struct engine_vm *vm = cpu->vm;
    if (vm->ncpus > 1) {
        __atomic_fetch_add(&vm->tlb_flush_gen, 1, __ATOMIC_SEQ_CST);
        for (unsigned i = 0; i < vm->ncpus; i++)
            if (vm->vcpu[i] && &vm->vcpu[i]->cpu != cpu)
                __atomic_store_n(&vm->vcpu[i]->attention, 1, __ATOMIC_SEQ_CST);
    }
}

static int emu_fetch_page(struct emu_cpu *cpu, uint64_t lin, struct emu_tlb_entry **out)
{
    bool user = cpu->cpl == 3;
    uint64_t tag = (lin & ~0xfffull) | (user ? EMU_TLB_USER : 0);
    struct emu_tlb_entry *e = &cpu->tlb.e[EMU_EXEC][(lin >> 12) % EMU_TLB_SIZE];
    if (e->tag != tag) {
        uint64_t gpa;
        int rc = emu_translate(cpu, lin, EMU_EXEC, user, &gpa);
        if (rc != EMU_OK)
            return rc;
        gpa &= ~0xfffull;
        /* emu_translate does not fill; reuse its result for the entry. */
        struct emu_slot *s = emu_slot_of(cpu->vm, gpa);
        if (!s)
            return emu_stop(cpu, "instruction fetch outside RAM", gpa);
        e->tag = tag;
        e->host = s->hva + (gpa - s->gpa);
        e->gpa = gpa;
        /* The walk's page size is not known here: INVLPG drops these too. */
        if (cpu->cr0 & EMU_CR0_PG)
            e->gpa |= EMU_TLB_LARGE;
        e->slot = s;
    }
    *out = e;
    return EMU_OK;
}

/* The fetch outside the fast path of emu_step: a new page, a miss in the
 * decoded-instruction cache, or a CS limit close by. */
static __attribute__((noinline)) int emu_fetch_slow(struct emu_cpu *cpu,
                                                    const struct emu_insn **out)
{
    struct emu_insn *tmp = &cpu->fetch_tmp;
    uint64_t rip = cpu->rip, lin;
    const struct x86_segment *cs = &cpu->seg[X86_CS];
    struct emu_tlb_entry *e;
    int rc;

    if (cpu->code64) {
        if (!emu_canonical(rip))
            return emu_gp0(cpu);
        lin = rip;
    } else {
        if (rip > cs->limit)
            return emu_gp0(cpu);
        lin = (cs->base + rip) & 0xffffffffull;
    }
    /* Most fetches come from the page of the one before. */
    if (((lin & ~0xfffull) | (cpu->cpl == 3 ? EMU_TLB_USER : 0)) == cpu->fetch_tag) {
        e = &cpu->fetch;
    } else {
        rc = emu_fetch_page(cpu, lin, &e);
        if (rc != EMU_OK)
            return rc;
        cpu->fetch = *e;
        cpu->fetch_tag = e->tag;
        cpu->fetch_gpa = e->gpa & ~0xfffull;
        cpu->fetch_pfn = (cpu->fetch_gpa - e->slot->gpa) >> 12;
        cpu->fetch_gen = __atomic_load_n(&e->slot->gen[cpu->fetch_pfn], __ATOMIC_ACQUIRE);
        e = &cpu->fetch;
    }
    unsigned off = (unsigned)(lin & 0xfff);
    uint64_t gpa = (e->gpa & ~0xfffull) | off;
    struct emu_slot *s = e->slot;
    uint64_t pfn = cpu->fetch_pfn;
    uint32_t gen = cpu->fetch_gen;
    struct emu_icache_entry *ce = &cpu->icache[(gpa ^ (gpa >> 12)) % EMU_ICACHE_SIZE];

    if (ce->gpa == gpa && ce->gen == gen && ce->mode == cpu->code_mode) {
        *out = &ce->in;
    } else {
        unsigned avail = 4096 - off;
        rc = emu_decode(cpu, e->host + off, avail < 15 ? avail : 15, tmp);
        if (rc != EMU_OK)
            return rc;
        if (tmp->len == 0) {
            /* The instruction continues on the next page: not cached. */
            uint8_t buf[15];
            struct emu_tlb_entry *e2;
            memcpy(buf, e->host + off, avail);
            uint64_t lin2 = lin + avail;
            if (!cpu->code64)
                lin2 &= 0xffffffffull;
            struct emu_tlb_entry first = *e;
            rc = emu_fetch_page(cpu, lin2, &e2);
            if (rc != EMU_OK)
                return rc;
            e = &first;
            memcpy(buf + avail, e2->host, 15 - avail);
            emu_mark_code(cpu, e2->slot, ((e2->gpa & ~0xfffull) - e2->slot->gpa) >> 12);
            rc = emu_decode(cpu, buf, 15, tmp);
            if (rc != EMU_OK)
                return rc;
            *out = tmp;
        } else {
            ce->gpa = gpa;
            ce->gen = gen;
            ce->mode = cpu->code_mode;
            ce->in = *tmp;
            *out = &ce->in;
        }
        emu_mark_code(cpu, s, pfn);
    }
    if (!cpu->code64 && rip + (*out)->len - 1 > cs->limit)
        return emu_gp0(cpu);
    return EMU_OK;
}

/* RFLAGS.TF was set when the instruction began: a single-step #DB trap
 * after it (SDM Vol. 3A 18.3.1.4), with DR6.BS. Software interrupts
 * deliver their own event instead, and MOV SS / POP SS hold it off. */
static int emu_single_step(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned op = in->opcode;
    if (op == 0xcc || op == 0xcd || op == 0xce || op == 0xf1 ||
        (cpu->shadow & X86_SHADOW_MOV_SS))
        return EMU_OK;
    cpu->dr6 |= 1u << 14;
    return emu_deliver(cpu, EMU_DB, EMU_EV_EXC, false, 0, cpu->rip);
}

static inline int emu_step_inline(struct emu_cpu *cpu)
{
    const struct emu_insn *in = NULL;
    uint64_t rip = cpu->rip;
    int rc;

    /* The fast path: the same code page as the last fetch, the instruction
     * in the decoded cache, and (outside 64-bit mode) far from CS's limit. */
    uint64_t lin = cpu->code64 ? rip : (cpu->seg[X86_CS].base + rip) & 0xffffffffull;
    if (((lin & ~0xfffull) | (cpu->cpl == 3 ? EMU_TLB_USER : 0)) == cpu->fetch_tag &&
        (cpu->code64 || rip + 15 <= cpu->seg[X86_CS].limit)) {
        uint64_t gpa = cpu->fetch_gpa | (lin & 0xfff);
        const struct emu_icache_entry *ce = &cpu->icache[(gpa ^ (gpa >> 12)) % EMU_ICACHE_SIZE];
        if (ce->gpa == gpa && ce->gen == cpu->fetch_gen && ce->mode == cpu->code_mode)
            in = &ce->in;
    }
    if (!in && (rc = emu_fetch_slow(cpu, &in)) != EMU_OK)
        return rc;
    cpu->next_rip = cpu->rip + in->len;
    if (!cpu->code64)
        cpu->next_rip &= 0xffffffffull;
    cpu->shadow_next = 0;
    if (__builtin_expect(cpu->trace, 0))
        fprintf(stderr, "emu: %04x:%llx %s (opcode %03x, len %u)\n", cpu->seg[X86_CS].selector,
                (unsigned long long)cpu->rip, emu_insn_name(in), in->opcode, in->len);
    uint64_t tf = cpu->rflags & EMU_TF;
    if (__builtin_expect(emu_debug_armed(cpu), 0)) {
        /* An instruction breakpoint is a fault before the instruction;
         * RF (set by the handler's IRET) lets it run once. */
        unsigned hits = (cpu->rflags & EMU_RF) ? 0 : emu_debug_exec_hits(cpu, lin);
        if (hits) {
            cpu->dr6 = (cpu->dr6 & ~0xfull) | hits;
            return emu_raise(cpu, EMU_DB);
        }
        cpu->dr_hits = 0;
    }
    rc = in->handler(cpu, in);
    if (rc == EMU_OK || rc == EMU_HLT) {
        cpu->rip = cpu->next_rip;
        cpu->shadow = cpu->shadow_next;
        cpu->icount++;
        /* RF (set in fault frames) lasts one instruction; IRET loads it. */
        if ((cpu->rflags & EMU_RF) && in->opcode != 0xcf)
            cpu->rflags &= ~(uint64_t)EMU_RF;
        if (cpu->dr_hits && rc == EMU_OK) {
            /* Data breakpoints: a trap after the instruction (with BS too
             * when single-stepping). */
            cpu->dr6 = (cpu->dr6 & ~0xfull) | cpu->dr_hits | (tf ? 1u << 14 : 0);
            cpu->dr_hits = 0;
            return emu_deliver(cpu, EMU_DB, EMU_EV_EXC, false, 0, cpu->rip);
        }
        if (tf && rc == EMU_OK)
            return emu_single_step(cpu, in);
    }
    return rc;
}

int emu_step(struct emu_cpu *cpu)
{
    return emu_step_inline(cpu);
}

int emu_step_many(struct emu_cpu *cpu, const int *attention)
{
    for (;;) {
        int rc = emu_step_inline(cpu);
        if (rc != EMU_OK || cpu->io_nwq || cpu->io_ndone)
            return rc;
        if (__atomic_load_n(attention, __ATOMIC_RELAXED) || cpu->nmi_pending ||
            cpu->intr_pending >= 0 || cpu->irq_window)
            return EMU_OK;
    }
}

void emu_icache_flush(struct emu_cpu *cpu)
{
    for (unsigned i = 0; i < EMU_ICACHE_SIZE; i++)
        cpu->icache[i].gpa = ~0ull;
}
