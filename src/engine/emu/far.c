/* Far transfers: JMP/CALL ptr16:16/32 and m16:16/32/64 to code segments
 * and through call gates (with the stack switch and parameter copy of a
 * privilege-raising CALL), far RET, IRET/IRETD/IRETQ, and INT n, INT3,
 * INTO, INT1. Spec: Intel SDM Vol. 2 (CALL, JMP, RET, IRET, INT n
 * pseudo-code), Vol. 3A 5.8 (privilege checks for control transfers, call
 * gates, 5.8.3.1 IA-32e call gates, 5.8.5 stack switching), 6.14.3 (IRET
 * in IA-32e mode), 20.2.5 (IRET to virtual-8086 mode).
 *
 * Task switches (a far JMP/CALL to a TSS or task gate, IRET with NT=1) are
 * not in roam-v1: they raise #GP(selector) and #GP(0), which is what a
 * guest would see for an invalid target. */
#include "handlers.h"
#include "sys.h"

/* Checks a far transfer target offset against the new code segment: the
 * canonical form for 64-bit code, else the limit (#GP(0)). */
static int far_check_rip(struct emu_cpu *cpu, const struct x86_segment *cs, uint64_t rip)
{
    if (sys_is_code64(cpu, cs))
        return emu_canonical(rip) ? EMU_OK : emu_gp0(cpu);
    return rip <= cs->limit ? EMU_OK : emu_gp0(cpu);
}

/* Completes a transfer: CS (RPL = the new CPL), RIP. */
static void far_commit(struct emu_cpu *cpu, struct sys_desc *cs, uint16_t sel, unsigned cpl,
                       uint64_t rip)
{
    cs->seg.selector = (uint16_t)((sel & ~3u) | cpl);
    emu_cs_set(cpu, &cs->seg);
    cpu->next_rip = rip;
}

/* Real-address and virtual-8086 mode: CS = sel, base = sel << 4. */
static int far_real(struct emu_cpu *cpu, uint16_t sel, uint64_t rip)
{
    if (rip > cpu->seg[X86_CS].limit)
        return emu_gp0(cpu);
    sys_seg_real(cpu, X86_CS, sel);
    emu_mode_update(cpu);
    cpu->next_rip = rip;
    return EMU_OK;
}

/* The code segment checks of a direct far JMP/CALL (SDM Vol. 3A 5.8.1,
 * 5.8.2): conforming DPL <= CPL; non-conforming RPL <= CPL, DPL = CPL. */
static int far_direct_check(struct emu_cpu *cpu, uint16_t sel, const struct sys_desc *d)
{
    unsigned cpl = cpu->cpl;

    if (sys_is_conforming(&d->seg) ? d->seg.dpl > cpl : ((sel & 3) > cpl || d->seg.dpl != cpl))
        return emu_raise_err(cpu, EMU_GP, sys_selerr(sel, false));
    if (!d->seg.present)
        return emu_raise_err(cpu, EMU_NP, sys_selerr(sel, false));
    if (cpu->long_mode && d->seg.l && d->seg.db)
        return emu_raise_err(cpu, EMU_GP, sys_selerr(sel, false));
    return EMU_OK;
}

/* A call gate (legacy 16/32-bit, or 64-bit in IA-32e mode) and its target,
 * checked (SDM Vol. 3A 5.8.4). */
struct far_gate {
    unsigned size;     /* 2, 4 or 8: the gate's width */
    unsigned params;   /* parameter count (legacy gates) */
    uint16_t tsel;     /* target code segment selector */
    uint64_t rip;
    struct sys_desc cs;
};

static int far_gate_check(struct emu_cpu *cpu, uint16_t sel, const struct sys_desc *g, bool call,
                          struct far_gate *fg)
{
    unsigned cpl = cpu->cpl, type = g->seg.type;
    struct sys_desc g16;
    int rc;

    if (cpu->long_mode ? type != 0xc : (type != 0xc && type != 0x4))
        return emu_raise_err(cpu, EMU_GP, sys_selerr(sel, false)); /* TSS, task gate, ... */
    if (g->seg.dpl < cpl || g->seg.dpl < (sel & 3))
        return emu_raise_err(cpu, EMU_GP, sys_selerr(sel, false));
    if (!g->seg.present)
        return emu_raise_err(cpu, EMU_NP, sys_selerr(sel, false));
    fg->tsel = (uint16_t)(g->lo >> 16);
    fg->rip = (g->lo & 0xffff) | ((g->lo >> 32) & 0xffff0000u);
    fg->params = (unsigned)(g->lo >> 32) & 0x1f;
    fg->size = type == 0x4 ? 2 : 4;
    if (type == 0x4)
        fg->rip &= 0xffff;
    if (cpu->long_mode) {
        /* 16-byte gate: offset 63:32 above, and a zero type field there. */
        rc = sys_desc_fetch(cpu, sel, true, EMU_GP, false, &g16);
        if (rc != EMU_OK)
            return rc;
        if ((g16.hi >> 40) & 0x1f)
            return emu_raise_err(cpu, EMU_GP, sys_selerr(sel, false));
        fg->rip |= (g16.hi & 0xffffffffu) << 32;
        fg->size = 8;
        fg->params = 0;
    }
    if (!(fg->tsel & 0xfffc))
        return emu_gp0(cpu);
    rc = sys_desc_fetch(cpu, fg->tsel, false, EMU_GP, false, &fg->cs);
    if (rc != EMU_OK)
        return rc;
    const struct x86_segment *t = &fg->cs.seg;
    if (!sys_is_code(t) || t->dpl > cpl ||
        (!call && !sys_is_conforming(t) && t->dpl != cpl))
        return emu_raise_err(cpu, EMU_GP, sys_selerr(fg->tsel, false));
    if (!t->present)
        return emu_raise_err(cpu, EMU_NP, sys_selerr(fg->tsel, false));
    if (cpu->long_mode && (!t->l || t->db))
        return emu_raise_err(cpu, EMU_GP, sys_selerr(fg->tsel, false));
    return far_check_rip(cpu, t, fg->rip);
}

static int far_jmp(struct emu_cpu *cpu, uint16_t sel, uint64_t rip)
{
    struct sys_desc d;
    struct far_gate fg;
    int rc;

    if (!sys_pmode(cpu) || sys_vm86(cpu))
        return far_real(cpu, sel, rip);
    if (!(sel & 0xfffc))
        return emu_gp0(cpu);
    rc = sys_desc_fetch(cpu, sel, false, EMU_GP, false, &d);
    if (rc != EMU_OK)
        return rc;
    if (sys_is_code(&d.seg)) {
        rc = far_direct_check(cpu, sel, &d);
        if (rc == EMU_OK)
            rc = far_check_rip(cpu, &d.seg, rip);
        if (rc == EMU_OK)
            rc = sys_desc_touch(cpu, &d, 1);
        if (rc != EMU_OK)
            return rc;
        far_commit(cpu, &d, sel, cpu->cpl, rip);
        return EMU_OK;
    }
    if (d.seg.s)
        return emu_raise_err(cpu, EMU_GP, sys_selerr(sel, false));
    rc = far_gate_check(cpu, sel, &d, false, &fg);
    if (rc == EMU_OK)
        rc = sys_desc_touch(cpu, &fg.cs, 1);
    if (rc != EMU_OK)
        return rc;
    far_commit(cpu, &fg.cs, fg.tsel, cpu->cpl, fg.rip);
    return EMU_OK;
}

/* Pushes the return CS:RIP (of size bytes each) on the current stack. */
static int far_push_ret(struct emu_cpu *cpu, unsigned size, uint64_t *sp, unsigned *width)
{
    struct sys_stack stk;
    uint64_t items[2] = {cpu->seg[X86_CS].selector, cpu->next_rip & emu_mask(size)};

    sys_stack_current(cpu, &stk);
    *width = stk.width;
    return sys_stack_push(cpu, &stk, items, 2, size, EMU_SS, 0, sp);
}

/* CALL through a gate to a more privileged non-conforming segment: stack
 * from the TSS, old SS:ESP and the parameters copied, then CS:EIP (SDM
 * Vol. 3A 5.8.5, Figure 5-13; 5.8.5.1 for 64-bit gates). */
static int far_call_inner(struct emu_cpu *cpu, struct far_gate *fg)
{
    unsigned dpl = fg->cs.seg.dpl, n = 0, size = fg->size;
    uint64_t items[40], nsp, sp, v;
    struct sys_stack stk;
    struct sys_desc ss;
    uint16_t nss;
    int rc;

    if (size == 8) {
        rc = sys_tss_stack64(cpu, dpl, 0, false, &nsp);
        if (rc != EMU_OK)
            return rc;
        if (!emu_canonical(nsp))
            return emu_raise_err(cpu, EMU_SS, 0);
        stk.ss = cpu->seg[X86_SS];
        stk.width = 8;
        nss = (uint16_t)dpl;
    } else {
        rc = sys_tss_stack(cpu, dpl, false, &nss, &nsp);
        if (rc == EMU_OK)
            rc = sys_inner_ss(cpu, nss, dpl, false, &ss);
        if (rc != EMU_OK)
            return rc;
        stk.ss = ss.seg;
        stk.width = sys_ss_width(&ss.seg);
    }
    stk.sp = nsp & emu_mask(stk.width);
    stk.user = false;
    items[n++] = cpu->seg[X86_SS].selector;
    items[n++] = cpu->gpr[X86_RSP];
    /* Parameters keep their order: the one nearest the old top of stack
     * stays nearest the new one. */
    for (unsigned i = fg->params; i-- > 0;) {
        rc = emu_pop_peek(cpu, size, i * size, &v);
        if (rc != EMU_OK)
            return rc;
        items[n++] = v;
    }
    items[n++] = cpu->seg[X86_CS].selector;
    items[n++] = cpu->next_rip & emu_mask(size);
    rc = sys_desc_touch(cpu, &fg->cs, 1);
    if (rc == EMU_OK && size != 8)
        rc = sys_desc_touch(cpu, &ss, 1);
    if (rc == EMU_OK)
        rc = sys_stack_push(cpu, &stk, items, n, size, EMU_SS,
                            size == 8 ? 0 : sys_selerr(nss, false), &sp);
    if (rc != EMU_OK)
        return rc;

    if (size == 8)
        sys_seg_null(cpu, X86_SS, nss, dpl);
    else
        cpu->seg[X86_SS] = ss.seg;
    sys_set_sp(cpu, sp, stk.width);
    far_commit(cpu, &fg->cs, fg->tsel, dpl, fg->rip);
    return EMU_OK;
}

static int far_call(struct emu_cpu *cpu, unsigned opsize, uint16_t sel, uint64_t rip)
{
    struct sys_desc d;
    struct far_gate fg;
    uint64_t sp;
    unsigned width;
    int rc;

    if (!sys_pmode(cpu) || sys_vm86(cpu)) {
        if (rip > cpu->seg[X86_CS].limit)
            return emu_gp0(cpu);
        rc = far_push_ret(cpu, opsize, &sp, &width);
        if (rc != EMU_OK)
            return rc;
        sys_set_sp(cpu, sp, width);
        return far_real(cpu, sel, rip);
    }
    if (!(sel & 0xfffc))
        return emu_gp0(cpu);
    rc = sys_desc_fetch(cpu, sel, false, EMU_GP, false, &d);
    if (rc != EMU_OK)
        return rc;
    if (sys_is_code(&d.seg)) {
        rc = far_direct_check(cpu, sel, &d);
        if (rc == EMU_OK)
            rc = far_check_rip(cpu, &d.seg, rip);
        if (rc == EMU_OK)
            rc = sys_desc_touch(cpu, &d, 1);
        if (rc == EMU_OK)
            rc = far_push_ret(cpu, opsize, &sp, &width);
        if (rc != EMU_OK)
            return rc;
        sys_set_sp(cpu, sp, width);
        far_commit(cpu, &d, sel, cpu->cpl, rip);
        return EMU_OK;
    }
    if (d.seg.s)
        return emu_raise_err(cpu, EMU_GP, sys_selerr(sel, false));
    rc = far_gate_check(cpu, sel, &d, true, &fg);
    if (rc != EMU_OK)
        return rc;
    if (!sys_is_conforming(&fg.cs.seg) && fg.cs.seg.dpl < cpu->cpl)
        return far_call_inner(cpu, &fg);
    rc = sys_desc_touch(cpu, &fg.cs, 1);
    if (rc == EMU_OK)
        rc = far_push_ret(cpu, fg.size, &sp, &width);
    if (rc != EMU_OK)
        return rc;
    sys_set_sp(cpu, sp, width);
    far_commit(cpu, &fg.cs, fg.tsel, cpu->cpl, fg.rip);
    return EMU_OK;
}

/* The m16:16/32/64 operand of FF /3 and FF /5: offset, then selector. */
static int far_read_ptr(struct emu_cpu *cpu, const struct emu_insn *in, uint16_t *sel,
                        uint64_t *rip)
{
    uint64_t ea;
    int rc;

    if (in->mod == 3)
        return emu_ud(cpu);
    ea = emu_ea(cpu, in);
    *rip = 0;
    rc = emu_read(cpu, in->seg, ea, in->opsize, rip);
    if (rc == EMU_OK)
        rc = emu_read(cpu, in->seg, (ea + in->opsize) & emu_mask(in->addrsize), 2, sel);
    return rc;
}

/* EA: JMP ptr16:16/32 (not in 64-bit mode); FF /5: JMP m16:16/32/64
 * (branch_grp5 calls here). */
int far_jmp_ptr(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint16_t sel = in->imm2;
    uint64_t rip = in->imm & emu_mask(in->opsize);
    int rc;

    if (in->opcode == 0xff && (rc = far_read_ptr(cpu, in, &sel, &rip)) != EMU_OK)
        return rc;
    return far_jmp(cpu, sel, rip);
}

/* 9A: CALL ptr16:16/32; FF /3: CALL m16:16/32/64. */
int far_call_ptr(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint16_t sel = in->imm2;
    uint64_t rip = in->imm & emu_mask(in->opsize);
    int rc;

    if (in->opcode == 0xff && (rc = far_read_ptr(cpu, in, &sel, &rip)) != EMU_OK)
        return rc;
    return far_call(cpu, in->opsize, sel, rip);
}

/* The checks on a CS popped by RET/IRET in protected mode (SDM Vol. 2
 * RET: "IF return code segment selector is NULL ..."). */
static int far_ret_cs(struct emu_cpu *cpu, uint16_t sel, struct sys_desc *d)
{
    unsigned rpl = sel & 3;
    int rc;

    if (!(sel & 0xfffc))
        return emu_gp0(cpu);
    rc = sys_desc_fetch(cpu, sel, false, EMU_GP, false, d);
    if (rc != EMU_OK)
        return rc;
    if (!sys_is_code(&d->seg) || rpl < cpu->cpl ||
        (sys_is_conforming(&d->seg) ? d->seg.dpl > rpl : d->seg.dpl != rpl) ||
        (cpu->long_mode && d->seg.l && d->seg.db))
        return emu_raise_err(cpu, EMU_GP, sys_selerr(sel, false));
    if (!d->seg.present)
        return emu_raise_err(cpu, EMU_NP, sys_selerr(sel, false));
    return EMU_OK;
}

/* CA/CB: RET far [imm16]. */
int far_retf(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize, imm = in->opcode == 0xca ? (unsigned)(in->imm & 0xffff) : 0;
    uint64_t rip, sel, nsp = 0, nss = 0;
    struct sys_desc cs, ss;
    unsigned rpl;
    int rc;

    rc = emu_pop_peek(cpu, size, 0, &rip);
    if (rc == EMU_OK)
        rc = emu_pop_peek(cpu, size, size, &sel);
    if (rc != EMU_OK)
        return rc;
    if (!sys_pmode(cpu) || sys_vm86(cpu)) {
        rc = far_real(cpu, (uint16_t)sel, rip);
        if (rc == EMU_OK)
            emu_pop_commit(cpu, 2 * size + imm);
        return rc;
    }
    rc = far_ret_cs(cpu, (uint16_t)sel, &cs);
    if (rc != EMU_OK)
        return rc;
    rpl = (unsigned)sel & 3;
    if (rpl == cpu->cpl) {
        rc = far_check_rip(cpu, &cs.seg, rip);
        if (rc == EMU_OK)
            rc = sys_desc_touch(cpu, &cs, 1);
        if (rc != EMU_OK)
            return rc;
        emu_pop_commit(cpu, 2 * size + imm);
        far_commit(cpu, &cs, (uint16_t)sel, rpl, rip);
        return EMU_OK;
    }

    /* To an outer level: SS:ESP follow, above the imm16 bytes released. */
    bool to64 = sys_is_code64(cpu, &cs.seg);
    rc = emu_pop_peek(cpu, size, 2 * size + imm, &nsp);
    if (rc == EMU_OK)
        rc = emu_pop_peek(cpu, size, 3 * size + imm, &nss);
    if (rc == EMU_OK)
        rc = sys_outer_ss(cpu, (uint16_t)nss, rpl, to64, &ss);
    if (rc == EMU_OK)
        rc = far_check_rip(cpu, &cs.seg, rip);
    if (rc == EMU_OK)
        rc = sys_desc_touch(cpu, &cs, 1);
    if (rc == EMU_OK && !ss.seg.unusable)
        rc = sys_desc_touch(cpu, &ss, 1);
    if (rc != EMU_OK)
        return rc;
    if (ss.seg.unusable)
        sys_seg_null(cpu, X86_SS, (uint16_t)nss, rpl);
    else
        cpu->seg[X86_SS] = ss.seg;
    sys_set_sp(cpu, nsp + imm, to64 ? 8 : sys_ss_width(&cpu->seg[X86_SS]));
    far_commit(cpu, &cs, (uint16_t)sel, rpl, rip);
    sys_seg_null_outer(cpu, rpl);
    return EMU_OK;
}

/* The RFLAGS bits IRET may change (SDM Vol. 2 IRET pseudo-code):
 * IF needs CPL <= IOPL, IOPL/VIF/VIP need CPL 0; a 16-bit IRET only
 * the low 16 bits. VM is handled by the virtual-8086 return. */
static uint64_t far_iret_mask(unsigned cpl, unsigned iopl, unsigned size)
{
    uint64_t m = EMU_ARITH_FLAGS | EMU_TF | EMU_DF | EMU_NT | EMU_RF | EMU_AC | EMU_ID;

    if (cpl <= iopl)
        m |= EMU_IF;
    if (cpl == 0)
        m |= EMU_IOPL | EMU_VIF | EMU_VIP;
    if (size == 2)
        m &= 0xffff;
    return m;
}

/* IRET in real-address or virtual-8086 mode (IOPL 3: no CR4.VME). */
static int far_iret_real(struct emu_cpu *cpu, unsigned size)
{
    uint64_t rip, sel, fl, old = emu_flags_get(cpu), keep;
    int rc;

    if (sys_vm86(cpu) && sys_iopl(cpu) < 3)
        return emu_gp0(cpu);
    rc = emu_pop_peek(cpu, size, 0, &rip);
    if (rc == EMU_OK)
        rc = emu_pop_peek(cpu, size, size, &sel);
    if (rc == EMU_OK)
        rc = emu_pop_peek(cpu, size, 2 * size, &fl);
    if (rc == EMU_OK)
        rc = far_real(cpu, (uint16_t)sel, rip);
    if (rc != EMU_OK)
        return rc;
    emu_pop_commit(cpu, 3 * size);
    /* VM, VIF, VIP (and IOPL in virtual-8086 mode) are kept. */
    keep = EMU_VM | EMU_VIF | EMU_VIP | (sys_vm86(cpu) ? EMU_IOPL : 0);
    if (size == 2)
        keep |= ~0xffffull;
    emu_flags_load(cpu, (old & keep) | (fl & ~keep & 0x3f7fd5));
    cpu->nmi_masked = 0;
    return EMU_OK;
}

/* IRETD from CPL0 with VM=1 in the popped EFLAGS: to virtual-8086 mode
 * (SDM Vol. 3A 20.2.5). The frame holds EIP CS EFLAGS ESP SS ES DS FS GS. */
static int far_iret_to_vm86(struct emu_cpu *cpu, uint64_t rip, uint64_t sel, uint64_t fl)
{
    uint64_t v[6];
    int rc;

    for (unsigned i = 0; i < 6; i++) {
        rc = emu_pop_peek(cpu, 4, 12 + 4 * i, &v[i]);
        if (rc != EMU_OK)
            return rc;
    }
    emu_flags_load(cpu, fl & 0x3f7fd5);
    sys_seg_real(cpu, X86_SS, (uint16_t)v[1]);
    sys_seg_real(cpu, X86_ES, (uint16_t)v[2]);
    sys_seg_real(cpu, X86_DS, (uint16_t)v[3]);
    sys_seg_real(cpu, X86_FS, (uint16_t)v[4]);
    sys_seg_real(cpu, X86_GS, (uint16_t)v[5]);
    sys_seg_real(cpu, X86_CS, (uint16_t)sel);
    cpu->gpr[X86_RSP] = v[0] & 0xffffffffu;
    emu_mode_update(cpu);
    cpu->next_rip = rip & 0xffff;
    cpu->nmi_masked = 0;
    return EMU_OK;
}

/* CF: IRET/IRETD/IRETQ. */
int far_iret(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned size = in->opsize, cpl = cpu->cpl, rpl;
    uint64_t rip, sel, fl, nsp = 0, nss = 0, old;
    struct sys_desc cs, ss;
    bool pop_ss;
    int rc;

    if (!sys_pmode(cpu) || sys_vm86(cpu))
        return far_iret_real(cpu, size);
    /* NT=1 asks for a task return: not in roam-v1 (and #GP in IA-32e mode). */
    if (cpu->rflags & EMU_NT)
        return emu_gp0(cpu);
    rc = emu_pop_peek(cpu, size, 0, &rip);
    if (rc == EMU_OK)
        rc = emu_pop_peek(cpu, size, size, &sel);
    if (rc == EMU_OK)
        rc = emu_pop_peek(cpu, size, 2 * size, &fl);
    if (rc != EMU_OK)
        return rc;
    if (!cpu->long_mode && (fl & EMU_VM) && cpl == 0 && size == 4)
        return far_iret_to_vm86(cpu, rip, sel, fl);
    rc = far_ret_cs(cpu, (uint16_t)sel, &cs);
    if (rc != EMU_OK)
        return rc;
    rpl = (unsigned)sel & 3;
    /* 64-bit mode always pops SS:RSP (SDM Vol. 3A 6.14.3). */
    pop_ss = cpu->code64 || rpl > cpl;
    bool to64 = sys_is_code64(cpu, &cs.seg);
    if (pop_ss) {
        rc = emu_pop_peek(cpu, size, 3 * size, &nsp);
        if (rc == EMU_OK)
            rc = emu_pop_peek(cpu, size, 4 * size, &nss);
        if (rc == EMU_OK)
            rc = sys_outer_ss(cpu, (uint16_t)nss, rpl, to64, &ss);
        if (rc != EMU_OK)
            return rc;
    }
    rc = far_check_rip(cpu, &cs.seg, to64 ? rip : rip & emu_mask(size));
    if (rc == EMU_OK)
        rc = sys_desc_touch(cpu, &cs, 1);
    if (rc == EMU_OK && pop_ss && !ss.seg.unusable)
        rc = sys_desc_touch(cpu, &ss, 1);
    if (rc != EMU_OK)
        return rc;

    old = emu_flags_get(cpu);
    uint64_t mask = far_iret_mask(cpl, sys_iopl(cpu), size);
    emu_flags_load(cpu, (old & ~mask) | (fl & mask));
    if (pop_ss) {
        if (ss.seg.unusable)
            sys_seg_null(cpu, X86_SS, (uint16_t)nss, rpl);
        else
            cpu->seg[X86_SS] = ss.seg;
        sys_set_sp(cpu, nsp, to64 ? 8 : sys_ss_width(&cpu->seg[X86_SS]));
    } else {
        emu_pop_commit(cpu, 3 * size);
    }
    far_commit(cpu, &cs, (uint16_t)sel, rpl, to64 ? rip : rip & emu_mask(size));
    if (rpl > cpl)
        sys_seg_null_outer(cpu, rpl);
    cpu->nmi_masked = 0;
    return EMU_OK;
}

/* CD: INT n, CC: INT3, CE: INTO (if OF), F1: INT1 (ICEBP). INT n and INT3/
 * INTO are checked against the gate's DPL; INT1 is delivered as a #DB
 * trap, without that check. The pushed return address is the next
 * instruction's. */
int far_int(struct emu_cpu *cpu, const struct emu_insn *in)
{
    switch (in->opcode) {
    case 0xcd:
        return emu_deliver(cpu, (unsigned)in->imm & 0xff, EMU_EV_SOFT, false, 0, cpu->next_rip);
    case 0xcc:
        return emu_deliver(cpu, EMU_BP, EMU_EV_SOFT_EXC, false, 0, cpu->next_rip);
    case 0xce:
        if (!emu_cond(cpu, 0))
            return EMU_OK;
        return emu_deliver(cpu, EMU_VEC_OF, EMU_EV_SOFT_EXC, false, 0, cpu->next_rip);
    default:
        return emu_deliver(cpu, EMU_DB, EMU_EV_EXC, false, 0, cpu->next_rip);
    }
}
