/* Segment registers: descriptor reads, the protected-mode load checks, and
 * MOV Sreg, PUSH/POP Sreg, LDS/LES/LFS/LGS/LSS. Spec: Intel SDM Vol. 3A
 * 3.4 (selectors, descriptors), 5.5-5.6 and 5.10 (privilege checks on
 * segment loads), 20.1 (real-address mode), 20.2 (virtual-8086 mode);
 * Vol. 2 MOV, POP, LDS/LES/LFS/LGS/LSS pseudo-code. */
#include "handlers.h"
#include "sys.h"

void emu_desc_unpack(uint64_t lo, uint16_t sel, struct x86_segment *s)
{
    uint32_t limit = (uint32_t)(lo & 0xffff) | (uint32_t)((lo >> 32) & 0xf0000);

    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->base = ((lo >> 16) & 0xffffff) | ((lo >> 32) & 0xff000000);
    s->type = (uint8_t)((lo >> 40) & 0xf);
    s->s = (uint8_t)((lo >> 44) & 1);
    s->dpl = (uint8_t)((lo >> 45) & 3);
    s->present = (uint8_t)((lo >> 47) & 1);
    s->avl = (uint8_t)((lo >> 52) & 1);
    s->l = (uint8_t)((lo >> 53) & 1);
    s->db = (uint8_t)((lo >> 54) & 1);
    s->g = (uint8_t)((lo >> 55) & 1);
    s->limit = s->g ? (limit << 12) | 0xfff : limit;
}

bool sys_desc_in_table(const struct emu_cpu *cpu, uint16_t sel, unsigned size)
{
    const struct x86_segment *ldt = &cpu->seg[X86_LDTR];
    uint64_t last = (uint64_t)(sel & ~7u) + size - 1;

    if (!(sel & 4))
        return last <= cpu->gdtr.limit;
    /* A null LDTR makes every LDT selector invalid. */
    if (ldt->unusable || !(ldt->selector & 0xfffc) || !ldt->present)
        return false;
    return last <= ldt->limit;
}

int sys_desc_fetch(struct emu_cpu *cpu, uint16_t sel, bool sys16, unsigned vec, bool ext,
                   struct sys_desc *d)
{
    uint64_t base = (sel & 4) ? cpu->seg[X86_LDTR].base : cpu->gdtr.base;
    int rc;

    if (!sys_desc_in_table(cpu, sel, sys16 ? 16 : 8))
        return emu_raise_err(cpu, vec, sys_selerr(sel, ext));
    d->lin = base + (sel & ~7u);
    if (!cpu->long_mode)
        d->lin &= 0xffffffffu;
    d->hi = 0;
    rc = emu_read_lin(cpu, d->lin, 8, &d->lo, false);
    if (rc == EMU_OK && sys16)
        rc = emu_read_lin(cpu, d->lin + 8, 8, &d->hi, false);
    if (rc != EMU_OK)
        return rc;
    emu_desc_unpack(d->lo, sel, &d->seg);
    if (sys16 && !d->seg.s)
        d->seg.base |= (d->hi & 0xffffffffu) << 32;
    return EMU_OK;
}

int sys_desc_touch(struct emu_cpu *cpu, struct sys_desc *d, uint8_t bits)
{
    uint8_t b = (uint8_t)(d->lo >> 40);
    int rc;

    if ((b & bits) == bits)
        return EMU_OK;
    b |= bits;
    rc = emu_write_lin(cpu, d->lin + 5, 1, &b, false);
    if (rc != EMU_OK)
        return rc;
    d->lo |= (uint64_t)bits << 40;
    d->seg.type |= bits;
    return EMU_OK;
}

int emu_desc_read(struct emu_cpu *cpu, uint16_t sel, uint64_t d[2], bool sys16)
{
    struct sys_desc sd;
    int rc = sys_desc_fetch(cpu, sel, sys16, EMU_GP, false, &sd);

    if (rc != EMU_OK)
        return rc;
    d[0] = sd.lo;
    d[1] = sd.hi;
    return EMU_OK;
}

void emu_cs_set(struct emu_cpu *cpu, const struct x86_segment *cs)
{
    cpu->seg[X86_CS] = *cs;
    emu_mode_update(cpu);
}

void sys_seg_null(struct emu_cpu *cpu, unsigned sreg, uint16_t sel, unsigned dpl)
{
    struct x86_segment *s = &cpu->seg[sreg];

    /* The hidden part becomes unusable; Intel processors also clear the
     * base (Linux's X86_BUG_NULL_SEG is the AMD behaviour of keeping it). */
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->unusable = 1;
    s->dpl = (uint8_t)dpl;
    if (sreg == X86_SS) {
        /* A null SS in 64-bit mode stays a read/write 32-bit stack for the
         * processor's own uses (IRET to compatibility mode is excluded). */
        s->type = 3;
        s->s = 1;
        s->db = 1;
    }
}

void sys_seg_null_outer(struct emu_cpu *cpu, unsigned new_cpl)
{
    static const uint8_t regs[4] = {X86_ES, X86_DS, X86_FS, X86_GS};

    for (unsigned i = 0; i < 4; i++) {
        struct x86_segment *s = &cpu->seg[regs[i]];
        if (s->unusable || !(s->selector & 0xfffc))
            continue;
        if (!sys_is_conforming(s) && s->dpl < new_cpl) {
            /* The base stays: a later load sets it, and 64-bit FS/GS
             * bases written through the MSRs are not the descriptor's. */
            s->selector = 0;
            s->unusable = 1;
            s->present = 0;
        }
    }
}

void sys_seg_real(struct emu_cpu *cpu, unsigned sreg, uint16_t sel)
{
    struct x86_segment *s = &cpu->seg[sreg];

    s->selector = sel;
    s->base = (uint64_t)sel << 4;
    s->unusable = 0;
    s->present = 1;
    s->s = 1;
    if (sys_vm86(cpu)) {
        /* Virtual-8086 mode: every segment is a 64 KiB read/write (code:
         * execute/read) DPL 3 segment (SDM Vol. 3A 20.2.1). */
        s->limit = 0xffff;
        s->type = sreg == X86_CS ? 0xb : 0x3;
        s->dpl = 3;
        s->db = 0;
        s->g = 0;
        s->l = 0;
    }
    /* Real mode keeps the limit and attributes ("unreal" mode relies on it). */
}

int sys_inner_ss(struct emu_cpu *cpu, uint16_t ss, unsigned dpl, bool ext, struct sys_desc *d)
{
    int rc;

    if (!(ss & 0xfffc))
        return emu_raise_err(cpu, EMU_TS, ext ? 1 : 0);
    if ((ss & 3) != dpl)
        return emu_raise_err(cpu, EMU_TS, sys_selerr(ss, ext));
    rc = sys_desc_fetch(cpu, ss, false, EMU_TS, ext, d);
    if (rc != EMU_OK)
        return rc;
    if (!sys_is_writable_data(&d->seg) || d->seg.dpl != dpl)
        return emu_raise_err(cpu, EMU_TS, sys_selerr(ss, ext));
    if (!d->seg.present)
        return emu_raise_err(cpu, EMU_SS, sys_selerr(ss, ext));
    return EMU_OK;
}

int sys_outer_ss(struct emu_cpu *cpu, uint16_t ss, unsigned rpl, bool to64, struct sys_desc *d)
{
    int rc;

    if (!(ss & 0xfffc)) {
        /* A null SS is allowed only for a return to 64-bit code at CPL < 3. */
        if (!to64 || rpl == 3)
            return emu_gp0(cpu);
        memset(d, 0, sizeof(*d));
        d->seg.selector = ss;
        d->seg.unusable = 1;
        return EMU_OK;
    }
    rc = sys_desc_fetch(cpu, ss, false, EMU_GP, false, d);
    if (rc != EMU_OK)
        return rc;
    if ((ss & 3) != rpl || !sys_is_writable_data(&d->seg) || d->seg.dpl != rpl)
        return emu_raise_err(cpu, EMU_GP, sys_selerr(ss, false));
    if (!d->seg.present)
        return emu_raise_err(cpu, EMU_SS, sys_selerr(ss, false));
    return EMU_OK;
}

/* Checks a protected-mode load of SS or a data segment register; on
 * success d holds the descriptor (accessed bit set) or d->seg.unusable
 * for a null selector. Nothing is written to the register. */
static int seg_check(struct emu_cpu *cpu, unsigned sreg, uint16_t sel, struct sys_desc *d)
{
    unsigned rpl = sel & 3, cpl = cpu->cpl;
    int rc;

    if (!(sel & 0xfffc)) {
        if (sreg == X86_SS) {
            /* 64-bit mode allows a null SS below CPL3 with RPL = CPL
             * (SDM Vol. 2 MOV, 64-bit mode exceptions). */
            if (!cpu->code64 || cpl == 3 || rpl != cpl)
                return emu_gp0(cpu);
        }
        memset(d, 0, sizeof(*d));
        d->seg.unusable = 1;
        return EMU_OK;
    }
    rc = sys_desc_fetch(cpu, sel, false, EMU_GP, false, d);
    if (rc != EMU_OK)
        return rc;
    if (sreg == X86_SS) {
        if (rpl != cpl || !sys_is_writable_data(&d->seg) || d->seg.dpl != cpl)
            return emu_raise_err(cpu, EMU_GP, sys_selerr(sel, false));
        if (!d->seg.present)
            return emu_raise_err(cpu, EMU_SS, sys_selerr(sel, false));
    } else {
        if (!sys_is_readable(&d->seg))
            return emu_raise_err(cpu, EMU_GP, sys_selerr(sel, false));
        /* Data and non-conforming code: max(CPL, RPL) <= DPL. */
        if (!sys_is_conforming(&d->seg) && (rpl > d->seg.dpl || cpl > d->seg.dpl))
            return emu_raise_err(cpu, EMU_GP, sys_selerr(sel, false));
        if (!d->seg.present)
            return emu_raise_err(cpu, EMU_NP, sys_selerr(sel, false));
    }
    return sys_desc_touch(cpu, d, 1);
}

/* Writes the checked descriptor into the register. */
static void seg_commit(struct emu_cpu *cpu, unsigned sreg, uint16_t sel, const struct sys_desc *d)
{
    if (d->seg.unusable) {
        sys_seg_null(cpu, sreg, sel, sreg == X86_SS ? cpu->cpl : 0);
        return;
    }
    cpu->seg[sreg] = d->seg;
    cpu->seg[sreg].selector = sel;
}

int emu_seg_load(struct emu_cpu *cpu, unsigned sreg, uint16_t sel)
{
    struct sys_desc d;
    int rc;

    if (!sys_pmode(cpu) || sys_vm86(cpu)) {
        sys_seg_real(cpu, sreg, sel);
        return EMU_OK;
    }
    rc = seg_check(cpu, sreg, sel, &d);
    if (rc != EMU_OK)
        return rc;
    seg_commit(cpu, sreg, sel, &d);
    if (sreg == X86_SS)
        emu_mode_update(cpu); /* the CPL may be derived from SS.DPL */
    return EMU_OK;
}

/* 8C: MOV r/m, Sreg. A register destination takes the selector
 * zero-extended to the operand size; memory always gets 16 bits. */
int seg_mov_from(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned sreg = in->reg & 7;

    if (sreg > X86_GS)
        return emu_ud(cpu);
    uint16_t sel = cpu->seg[sreg].selector;
    if (in->mod == 3)
        return emu_rm_write(cpu, in, in->opsize, sel);
    return emu_rm_write(cpu, in, 2, sel);
}

/* 8E: MOV Sreg, r/m16. Loading CS is invalid; loading SS inhibits
 * interrupts and debug traps for one instruction. */
int seg_mov_to(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned sreg = in->reg & 7;
    uint64_t v;
    int rc;

    if (sreg > X86_GS || sreg == X86_CS)
        return emu_ud(cpu);
    rc = emu_rm_read(cpu, in, 2, &v);
    if (rc != EMU_OK)
        return rc;
    rc = emu_seg_load(cpu, sreg, (uint16_t)v);
    if (rc != EMU_OK)
        return rc;
    if (sreg == X86_SS)
        cpu->shadow_next = X86_SHADOW_MOV_SS;
    return EMU_OK;
}

static unsigned seg_of_opcode(unsigned op)
{
    switch (op) {
    case 0x06: case 0x07: return X86_ES;
    case 0x0e: return X86_CS;
    case 0x16: case 0x17: return X86_SS;
    case 0x1e: case 0x1f: return X86_DS;
    case 0x1a0: case 0x1a1: return X86_FS;
    default: return X86_GS;
    }
}

/* PUSH Sreg: the selector zero-extended to the operand size (what QEMU
 * and AMD do; recent Intel cores write only 16 bits, SDM Vol. 2 PUSH). */
int seg_push_sreg(struct emu_cpu *cpu, const struct emu_insn *in)
{
    return emu_push(cpu, in->opsize, cpu->seg[seg_of_opcode(in->opcode)].selector);
}

/* POP Sreg: RSP moves only once the load succeeded. */
int seg_pop_sreg(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned sreg = seg_of_opcode(in->opcode);
    uint64_t v;
    int rc;

    rc = emu_pop_peek(cpu, in->opsize, 0, &v);
    if (rc != EMU_OK)
        return rc;
    rc = emu_seg_load(cpu, sreg, (uint16_t)v);
    if (rc != EMU_OK)
        return rc;
    emu_pop_commit(cpu, in->opsize);
    if (sreg == X86_SS)
        cpu->shadow_next = X86_SHADOW_MOV_SS;
    return EMU_OK;
}

/* LES/LDS (C4/C5), LSS/LFS/LGS (0F B2/B4/B5): offset then selector from
 * memory (m16:16, m16:32, or m16:64 with REX.W). */
int seg_load_far_ptr(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned sreg, size = in->opsize;
    uint64_t off, ea;
    uint16_t sel;
    int rc;

    if (in->mod == 3)
        return emu_ud(cpu);
    switch (in->opcode) {
    case 0xc4: sreg = X86_ES; break;
    case 0xc5: sreg = X86_DS; break;
    case 0x1b2: sreg = X86_SS; break;
    case 0x1b4: sreg = X86_FS; break;
    default: sreg = X86_GS; break;
    }
    ea = emu_ea(cpu, in);
    off = 0;
    rc = emu_read(cpu, in->seg, ea, size, &off);
    if (rc != EMU_OK)
        return rc;
    rc = emu_read(cpu, in->seg, (ea + size) & emu_mask(in->addrsize), 2, &sel);
    if (rc != EMU_OK)
        return rc;
    rc = emu_seg_load(cpu, sreg, sel);
    if (rc != EMU_OK)
        return rc;
    emu_reg_set(cpu, in, in->reg, size, off);
    return EMU_OK;
}
