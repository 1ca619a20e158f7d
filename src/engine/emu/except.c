/* Exceptions and interrupts: recording a fault, and delivering an event
 * through the IVT (real mode), the IDT with 8-byte gates (protected and
 * virtual-8086 mode) or 16-byte gates (IA-32e mode), with the privilege
 * checks, the TSS stack switch, IST stacks, error codes, and double-fault
 * promotion up to shutdown. Spec: Intel SDM Vol. 3A chapter 6 (6.3 sources,
 * 6.5 classes, 6.12 protected-mode delivery, 6.13 error codes, 6.14
 * IA-32e delivery, 6.15 "Interrupt 8", Table 6-5 double-fault conditions),
 * 8.2.1/8.7 (TSS layouts), 20.1.4 (real-mode interrupts), 20.3 (interrupts
 * from virtual-8086 mode); Vol. 2 INT n/INTO/INT3/INT1 pseudo-code; 18.3.1.1
 * for the RF bit pushed by faults.
 *
 * Task gates are not supported (roam-v1 has no hardware task switching):
 * an IDT entry of type task gate is treated as an invalid gate, #GP with
 * the IDT error code, which a guest sees as it would a bad gate type. */
#include "sys.h"

int emu_raise(struct emu_cpu *cpu, unsigned vector)
{
    cpu->exc.vector = (uint8_t)vector;
    cpu->exc.has_error = 0;
    cpu->exc.error = 0;
    return EMU_FAULT;
}

int emu_raise_err(struct emu_cpu *cpu, unsigned vector, uint32_t error)
{
    cpu->exc.vector = (uint8_t)vector;
    cpu->exc.has_error = 1;
    cpu->exc.error = error;
    return EMU_FAULT;
}

/* ---- stacks ---- */

void sys_stack_current(struct emu_cpu *cpu, struct sys_stack *stk)
{
    stk->ss = cpu->seg[X86_SS];
    stk->width = emu_stack_size(cpu);
    stk->sp = cpu->gpr[X86_RSP] & emu_mask(stk->width);
    stk->user = cpu->cpl == 3;
}

void sys_set_sp(struct emu_cpu *cpu, uint64_t sp, unsigned width)
{
    if (width == 2)
        cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~0xffffull) | (sp & 0xffff);
    else if (width == 4)
        cpu->gpr[X86_RSP] = sp & 0xffffffffu;
    else
        cpu->gpr[X86_RSP] = sp;
}

/* off..off+size-1 inside the segment; expand-down data segments hold the
 * offsets above the limit (SDM Vol. 3A 5.3). */
static bool seg_fits(const struct x86_segment *s, uint64_t off, unsigned size)
{
    uint64_t last = off + size - 1;

    if (s->s && !(s->type & 8) && (s->type & 4))
        return off > s->limit && last <= (s->db ? 0xffffffffull : 0xffffull);
    return last <= s->limit;
}

#define SYS_MAX_ITEMS 40 /* a 32-bit call gate copies up to 31 parameters */

int sys_stack_push(struct emu_cpu *cpu, const struct sys_stack *stk, const uint64_t *items,
                   unsigned n, unsigned size, unsigned vec, uint32_t err, uint64_t *new_sp)
{
    uint64_t mask = emu_mask(stk->width), lin[SYS_MAX_ITEMS], gpa;
    int rc;

    if (n > SYS_MAX_ITEMS)
        return emu_raise_err(cpu, vec, err);
    for (unsigned i = 0; i < n; i++) {
        uint64_t off = (stk->sp - (uint64_t)(i + 1) * size) & mask;
        if (stk->width == 8) {
            lin[i] = off;
            if (!emu_canonical(off) || !emu_canonical(off + size - 1))
                return emu_raise_err(cpu, vec, err);
        } else {
            if (!seg_fits(&stk->ss, off, size))
                return emu_raise_err(cpu, vec, err);
            lin[i] = (stk->ss.base + off) & 0xffffffffu;
        }
    }
    /* Translate every page first, so that a #PF leaves memory untouched. */
    if (cpu->cr0 & EMU_CR0_PG) {
        for (unsigned i = 0; i < n; i++) {
            rc = emu_translate(cpu, lin[i], EMU_WRITE, stk->user, &gpa);
            if (rc == EMU_OK && ((lin[i] ^ (lin[i] + size - 1)) >> 12))
                rc = emu_translate(cpu, lin[i] + size - 1, EMU_WRITE, stk->user, &gpa);
            if (rc != EMU_OK)
                return rc;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        rc = emu_write_lin(cpu, lin[i], size, &items[i], stk->user);
        if (rc != EMU_OK)
            return rc;
    }
    *new_sp = (stk->sp - (uint64_t)n * size) & mask;
    return EMU_OK;
}

/* ---- TSS stacks ---- */

int sys_tss_stack(struct emu_cpu *cpu, unsigned dpl, bool ext, uint16_t *ss, uint64_t *sp)
{
    const struct x86_segment *tr = &cpu->seg[X86_TR];
    bool tss32 = (tr->type & 8) != 0; /* types 9/B: 32-bit, 1/3: 16-bit */
    uint32_t at = tss32 ? (dpl << 3) + 4 : (dpl << 2) + 2;
    uint64_t v = 0;
    uint16_t s = 0;
    int rc;

    if (tr->unusable || at + (tss32 ? 5u : 3u) > tr->limit)
        return emu_raise_err(cpu, EMU_TS, sys_selerr(tr->selector, ext));
    rc = emu_read_lin(cpu, (tr->base + at) & 0xffffffffu, tss32 ? 4 : 2, &v, false);
    if (rc == EMU_OK)
        rc = emu_read_lin(cpu, (tr->base + at + (tss32 ? 4 : 2)) & 0xffffffffu, 2, &s, false);
    if (rc != EMU_OK)
        return rc;
    *ss = s;
    *sp = v;
    return EMU_OK;
}

int sys_tss_stack64(struct emu_cpu *cpu, unsigned dpl, unsigned ist, bool ext, uint64_t *sp)
{
    const struct x86_segment *tr = &cpu->seg[X86_TR];
    uint32_t at = ist ? (ist << 3) + 28 : (dpl << 3) + 4;

    if (tr->unusable || at + 7 > tr->limit)
        return emu_raise_err(cpu, EMU_TS, sys_selerr(tr->selector, ext));
    return emu_read_lin(cpu, tr->base + at, 8, sp, false);
}

/* ---- delivery ---- */

struct event {
    unsigned vector;
    bool has_error;
    uint32_t error;
    uint64_t ret;  /* the return address pushed */
    bool ext;      /* EXT in the error codes of faults during delivery */
    bool soft;     /* INT n, INT3, INTO: checked against the gate's DPL */
    bool intn;     /* INT n: IOPL-sensitive in virtual-8086 mode */
    bool fault;    /* a fault-class exception: RF=1 in the pushed RFLAGS */
    bool nmi;
};

/* The RFLAGS image pushed (SDM Vol. 3A 18.3.1.1): faults other than #DB
 * push RF=1; software interrupts RF=0 (RF is cleared as they start). */
static uint64_t pushed_flags(uint64_t flags, const struct event *ev)
{
    if (ev->fault && ev->vector != EMU_DB)
        return flags | EMU_RF;
    if (ev->soft)
        return flags & ~(uint64_t)EMU_RF;
    return flags;
}

static uint64_t handler_flags(uint64_t flags, bool trap_gate)
{
    flags &= ~(uint64_t)(EMU_TF | EMU_NT | EMU_RF | EMU_VM);
    if (!trap_gate)
        flags &= ~(uint64_t)EMU_IF;
    return flags;
}

static int deliver_real(struct emu_cpu *cpu, const struct event *ev)
{
    struct sys_stack stk;
    uint64_t items[3], sp, flags;
    uint32_t ent = 0;
    int rc;

    if ((uint64_t)ev->vector * 4 + 3 > cpu->idtr.limit)
        return emu_raise_err(cpu, EMU_GP, ev->vector * 8 + 2 + ev->ext);
    rc = emu_read_lin(cpu, (cpu->idtr.base + ev->vector * 4) & 0xffffffffu, 4, &ent, false);
    if (rc != EMU_OK)
        return rc;
    flags = emu_flags_get(cpu);
    sys_stack_current(cpu, &stk);
    items[0] = pushed_flags(flags, ev) & 0xffff;
    items[1] = cpu->seg[X86_CS].selector;
    items[2] = ev->ret & 0xffff;
    rc = sys_stack_push(cpu, &stk, items, 3, 2, EMU_SS, 0, &sp);
    if (rc != EMU_OK)
        return rc;

    sys_set_sp(cpu, sp, stk.width);
    emu_flags_load(cpu, flags & ~(uint64_t)(EMU_IF | EMU_TF | EMU_AC));
    struct x86_segment cs = cpu->seg[X86_CS];
    cs.selector = (uint16_t)(ent >> 16);
    cs.base = (uint64_t)cs.selector << 4;
    emu_cs_set(cpu, &cs);
    cpu->rip = cpu->next_rip = ent & 0xffff;
    return EMU_OK;
}

/* The gate's target code segment (SDM Vol. 2 INT n: "IF new code segment
 * selector is NULL ..."). */
static int gate_target(struct emu_cpu *cpu, uint16_t sel, bool ext, struct sys_desc *cs)
{
    int rc;

    if (!(sel & 0xfffc))
        return emu_raise_err(cpu, EMU_GP, ext ? 1 : 0);
    rc = sys_desc_fetch(cpu, sel, false, EMU_GP, ext, cs);
    if (rc != EMU_OK)
        return rc;
    if (!sys_is_code(&cs->seg) || cs->seg.dpl > cpu->cpl)
        return emu_raise_err(cpu, EMU_GP, sys_selerr(sel, ext));
    if (!cs->seg.present)
        return emu_raise_err(cpu, EMU_NP, sys_selerr(sel, ext));
    return EMU_OK;
}

/* Protected and virtual-8086 mode (SDM Vol. 3A 6.12.1, 20.3.1.1). */
static int deliver_prot(struct emu_cpu *cpu, const struct event *ev)
{
    uint32_t idt_err = ev->vector * 8 + 2 + ev->ext;
    bool vm86 = sys_vm86(cpu), inner;
    uint64_t gate = 0, items[12], sp, flags, off, nsp = 0;
    unsigned n = 0, size, cpl = cpu->cpl, new_cpl, type;
    struct sys_desc cs, ss;
    struct sys_stack stk;
    uint16_t sel, nss = 0;
    uint32_t stack_err;
    int rc;

    /* INT n in virtual-8086 mode needs IOPL 3 (no CR4.VME in roam-v1). */
    if (vm86 && ev->intn && sys_iopl(cpu) < 3)
        return emu_gp0(cpu);
    if ((uint64_t)ev->vector * 8 + 7 > cpu->idtr.limit)
        return emu_raise_err(cpu, EMU_GP, idt_err);
    rc = emu_read_lin(cpu, (cpu->idtr.base + ev->vector * 8) & 0xffffffffu, 8, &gate, false);
    if (rc != EMU_OK)
        return rc;
    type = (unsigned)(gate >> 40) & 0x1f; /* with S, which must be 0 */
    if (type == 0x06 || type == 0x07)
        size = 2;
    else if (type == 0x0e || type == 0x0f)
        size = 4;
    else
        return emu_raise_err(cpu, EMU_GP, idt_err); /* task gates included: see above */
    if (ev->soft && ((gate >> 45) & 3) < cpl)
        return emu_raise_err(cpu, EMU_GP, ev->vector * 8 + 2);
    if (!((gate >> 47) & 1))
        return emu_raise_err(cpu, EMU_NP, idt_err);
    sel = (uint16_t)(gate >> 16);
    off = (gate & 0xffff) | (size == 4 ? (gate >> 32) & 0xffff0000u : 0);
    rc = gate_target(cpu, sel, ev->ext, &cs);
    if (rc != EMU_OK)
        return rc;

    inner = !sys_is_conforming(&cs.seg) && cs.seg.dpl < cpl;
    if (inner) {
        new_cpl = cs.seg.dpl;
        if (vm86 && new_cpl != 0)
            return emu_raise_err(cpu, EMU_GP, sys_selerr(sel, ev->ext));
        rc = sys_tss_stack(cpu, new_cpl, ev->ext, &nss, &nsp);
        if (rc == EMU_OK)
            rc = sys_inner_ss(cpu, nss, new_cpl, ev->ext, &ss);
        if (rc != EMU_OK)
            return rc;
        stk.ss = ss.seg;
        stk.width = sys_ss_width(&ss.seg);
        stk.sp = nsp & emu_mask(stk.width);
        stk.user = false;
        stack_err = sys_selerr(nss, ev->ext);
        if (vm86) {
            items[n++] = cpu->seg[X86_GS].selector;
            items[n++] = cpu->seg[X86_FS].selector;
            items[n++] = cpu->seg[X86_DS].selector;
            items[n++] = cpu->seg[X86_ES].selector;
        }
        items[n++] = cpu->seg[X86_SS].selector;
        items[n++] = cpu->gpr[X86_RSP];
    } else {
        if (vm86)
            return emu_raise_err(cpu, EMU_GP, sys_selerr(sel, ev->ext));
        new_cpl = cpl;
        sys_stack_current(cpu, &stk);
        stack_err = ev->ext ? 1 : 0;
    }
    if (off > cs.seg.limit)
        return emu_raise_err(cpu, EMU_GP, ev->ext ? 1 : 0);
    flags = emu_flags_get(cpu);
    items[n++] = pushed_flags(flags, ev);
    items[n++] = cpu->seg[X86_CS].selector;
    items[n++] = size == 2 ? ev->ret & 0xffff : ev->ret & 0xffffffffu;
    if (ev->has_error)
        items[n++] = ev->error;
    rc = sys_desc_touch(cpu, &cs, 1);
    if (rc == EMU_OK && inner)
        rc = sys_desc_touch(cpu, &ss, 1);
    if (rc == EMU_OK)
        rc = sys_stack_push(cpu, &stk, items, n, size, EMU_SS, stack_err, &sp);
    if (rc != EMU_OK)
        return rc;

    if (inner) {
        cpu->seg[X86_SS] = ss.seg;
        if (vm86) {
            sys_seg_null(cpu, X86_ES, 0, 0);
            sys_seg_null(cpu, X86_DS, 0, 0);
            sys_seg_null(cpu, X86_FS, 0, 0);
            sys_seg_null(cpu, X86_GS, 0, 0);
        }
    }
    sys_set_sp(cpu, sp, stk.width);
    emu_flags_load(cpu, handler_flags(flags, type & 1));
    cs.seg.selector = (uint16_t)((sel & ~3u) | new_cpl);
    emu_cs_set(cpu, &cs.seg);
    cpu->rip = cpu->next_rip = off;
    return EMU_OK;
}

/* IA-32e mode (SDM Vol. 3A 6.14): 16-byte gates to 64-bit code, frames of
 * 8-byte items that always hold SS:RSP, RSP aligned to 16, IST stacks. */
static int deliver_long(struct emu_cpu *cpu, const struct event *ev)
{
    uint32_t idt_err = ev->vector * 8 + 2 + ev->ext;
    uint64_t gate[2] = {0, 0}, items[6], sp, flags, off, nsp;
    unsigned n = 0, cpl = cpu->cpl, new_cpl, type, ist;
    struct sys_desc cs;
    struct sys_stack stk;
    uint16_t sel;
    bool inner;
    int rc;

    if ((uint64_t)ev->vector * 16 + 15 > cpu->idtr.limit)
        return emu_raise_err(cpu, EMU_GP, idt_err);
    rc = emu_read_lin(cpu, cpu->idtr.base + ev->vector * 16, 8, &gate[0], false);
    if (rc == EMU_OK)
        rc = emu_read_lin(cpu, cpu->idtr.base + ev->vector * 16 + 8, 8, &gate[1], false);
    if (rc != EMU_OK)
        return rc;
    type = (unsigned)(gate[0] >> 40) & 0x1f;
    if ((type != 0x0e && type != 0x0f) || ((gate[1] >> 40) & 0x1f))
        return emu_raise_err(cpu, EMU_GP, idt_err);
    if (ev->soft && ((gate[0] >> 45) & 3) < cpl)
        return emu_raise_err(cpu, EMU_GP, ev->vector * 8 + 2);
    if (!((gate[0] >> 47) & 1))
        return emu_raise_err(cpu, EMU_NP, idt_err);
    sel = (uint16_t)(gate[0] >> 16);
    rc = gate_target(cpu, sel, ev->ext, &cs);
    if (rc != EMU_OK)
        return rc;
    if (!cs.seg.l || cs.seg.db)
        return emu_raise_err(cpu, EMU_GP, sys_selerr(sel, ev->ext));
    off = (gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000u) | (gate[1] << 32);
    if (!emu_canonical(off))
        return emu_raise_err(cpu, EMU_GP, ev->ext ? 1 : 0);
    ist = (unsigned)(gate[0] >> 32) & 7;
    inner = !sys_is_conforming(&cs.seg) && cs.seg.dpl < cpl;
    new_cpl = inner ? cs.seg.dpl : cpl;
    if (inner || ist) {
        rc = sys_tss_stack64(cpu, new_cpl, ist, ev->ext, &nsp);
        if (rc != EMU_OK)
            return rc;
        if (!emu_canonical(nsp))
            return emu_raise_err(cpu, EMU_SS, ev->ext ? 1 : 0);
    } else {
        nsp = cpu->gpr[X86_RSP];
    }
    stk.ss = cpu->seg[X86_SS];
    stk.sp = nsp & ~0xfull;
    stk.width = 8;
    stk.user = new_cpl == 3;
    flags = emu_flags_get(cpu);
    items[n++] = cpu->seg[X86_SS].selector;
    items[n++] = cpu->gpr[X86_RSP];
    items[n++] = pushed_flags(flags, ev);
    items[n++] = cpu->seg[X86_CS].selector;
    items[n++] = ev->ret;
    if (ev->has_error)
        items[n++] = ev->error;
    rc = sys_desc_touch(cpu, &cs, 1);
    if (rc == EMU_OK)
        rc = sys_stack_push(cpu, &stk, items, n, 8, EMU_SS, ev->ext ? 1 : 0, &sp);
    if (rc != EMU_OK)
        return rc;

    if (inner)
        sys_seg_null(cpu, X86_SS, (uint16_t)new_cpl, new_cpl);
    cpu->gpr[X86_RSP] = sp;
    emu_flags_load(cpu, handler_flags(flags, type & 1));
    cs.seg.selector = (uint16_t)((sel & ~3u) | new_cpl);
    emu_cs_set(cpu, &cs.seg);
    cpu->rip = cpu->next_rip = off;
    return EMU_OK;
}

static int deliver(struct emu_cpu *cpu, const struct event *ev)
{
    int rc;

    if (!sys_pmode(cpu))
        rc = deliver_real(cpu, ev);
    else if (cpu->long_mode)
        rc = deliver_long(cpu, ev);
    else
        rc = deliver_prot(cpu, ev);
    if (rc == EMU_OK && ev->nmi)
        cpu->nmi_masked = 1; /* until the next IRET (SDM Vol. 3A 6.7.1) */
    return rc;
}

int emu_deliver(struct emu_cpu *cpu, unsigned vector, enum emu_event_kind kind, bool has_error,
                uint32_t error, uint64_t return_rip)
{
    struct event ev = {
        .vector = vector & 0xff,
        .has_error = has_error,
        .error = error,
        .ret = return_rip,
        .ext = kind == EMU_EV_EXC || kind == EMU_EV_EXT || kind == EMU_EV_NMI,
        .soft = kind == EMU_EV_SOFT || kind == EMU_EV_SOFT_EXC,
        .intn = kind == EMU_EV_SOFT,
        .fault = false,
        .nmi = kind == EMU_EV_NMI,
    };
    return deliver(cpu, &ev);
}

/* Exception classes for double faults (SDM Vol. 3A Table 6-4). */
enum { EXC_BENIGN, EXC_CONTRIBUTORY, EXC_PAGE };

static int exc_class(unsigned vector)
{
    switch (vector) {
    case EMU_DE: case EMU_TS: case EMU_NP: case EMU_SS: case EMU_GP:
        return EXC_CONTRIBUTORY;
    case EMU_VEC_PF:
        return EXC_PAGE;
    default:
        return EXC_BENIGN;
    }
}

int emu_deliver_fault(struct emu_cpu *cpu)
{
    struct emu_exc e = cpu->exc;

    /* At most: the fault, a second one delivered serially or promoted to
     * #DF, and #DF itself; a fault while delivering #DF is a shutdown. */
    for (unsigned tries = 0; tries < 4; tries++) {
        struct event ev = {
            .vector = e.vector,
            .has_error = e.has_error,
            .error = e.error,
            .ret = cpu->rip,
            .ext = true,
            .fault = true,
        };
        if (e.vector == EMU_VEC_PF)
            cpu->cr2 = e.cr2; /* CR2 is loaded even when delivery then fails */
        int rc = deliver(cpu, &ev);
        if (rc != EMU_FAULT)
            return rc;

        struct emu_exc next = cpu->exc;
        int first = exc_class(e.vector), second = exc_class(next.vector);
        if (e.vector == EMU_VEC_DF) {
            if (second != EXC_BENIGN)
                return -1;
        } else if ((first == EXC_CONTRIBUTORY && second == EXC_CONTRIBUTORY) ||
                   (first == EXC_PAGE && second != EXC_BENIGN)) {
            if (next.vector == EMU_VEC_PF)
                cpu->cr2 = next.cr2;
            next.vector = EMU_VEC_DF;
            next.has_error = 1;
            next.error = 0;
        }
        e = next;
        cpu->exc = e;
    }
    return -1;
}
