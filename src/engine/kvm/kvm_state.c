/* KVM vCPU state <-> the canonical struct x86_cpu_state (core/cpu_state.h).
 * Spec: the Linux KVM API (KVM_GET/SET_REGS, SREGS, XSAVE, FPU, MSRS,
 * VCPU_EVENTS, DEBUGREGS) and the FXSAVE layout (Intel SDM Vol. 1 10.5.1,
 * Table 10-2), which is also the first 512 bytes of KVM's XSAVE image.
 *
 * get -> set -> get is the identity, except the TSC, which keeps counting
 * while the vCPU is stopped. Notes on what KVM normalizes or cannot carry:
 * - exception_pending: without KVM_CAP_EXCEPTION_PAYLOAD (roam leaves it
 *   off, because the canonical state has no payload field), KVM reports a
 *   pending exception as injected with its payload (CR2, DR6) already
 *   applied; set_state folds exception_pending into injected the same way.
 * - On AMD hosts KVM synthesizes some segment bits on get (G from the
 *   limit, unusable = !present, the accessed bit, TR busy), so a state that
 *   never came from KVM may read back normalized; one that came from get
 *   reads back identical.
 * - msr.apic_base travels through KVM's copy (sregs.apic_base); roam's
 *   LAPIC device owns the architectural value. EFER also goes through
 *   sregs. CR8 goes through sregs and kvm_run->cr8, which KVM_RUN reloads.
 * - With KVM_GET/SET_FPU (no KVM_CAP_XSAVE) there is no MXCSR_MASK; get
 *   reports 0xffff. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm_internal.h"

/* ---- segments ---- */

static void seg_from_kvm(struct x86_segment *o, const struct kvm_segment *k)
{
    o->base = k->base;
    o->limit = k->limit;
    o->selector = k->selector;
    o->type = k->type;
    o->s = k->s;
    o->dpl = k->dpl;
    o->present = k->present;
    o->avl = k->avl;
    o->l = k->l;
    o->db = k->db;
    o->g = k->g;
    o->unusable = k->unusable;
}

static void seg_to_kvm(struct kvm_segment *k, const struct x86_segment *o)
{
    memset(k, 0, sizeof(*k));
    k->base = o->base;
    k->limit = o->limit;
    k->selector = o->selector;
    k->type = o->type;
    k->s = o->s;
    k->dpl = o->dpl;
    k->present = o->present;
    k->avl = o->avl;
    k->l = o->l;
    k->db = o->db;
    k->g = o->g;
    k->unusable = o->unusable;
}

static struct kvm_segment *sregs_seg(struct kvm_sregs *sr, enum x86_sreg i)
{
    switch (i) {
    case X86_ES: return &sr->es;
    case X86_CS: return &sr->cs;
    case X86_SS: return &sr->ss;
    case X86_DS: return &sr->ds;
    case X86_FS: return &sr->fs;
    case X86_GS: return &sr->gs;
    case X86_LDTR: return &sr->ldt;
    case X86_TR: return &sr->tr;
    default: return NULL;
    }
}

/* ---- GPRs ---- */

static void regs_from_kvm(struct x86_cpu_state *s, const struct kvm_regs *r)
{
    s->gpr[X86_RAX] = r->rax;
    s->gpr[X86_RCX] = r->rcx;
    s->gpr[X86_RDX] = r->rdx;
    s->gpr[X86_RBX] = r->rbx;
    s->gpr[X86_RSP] = r->rsp;
    s->gpr[X86_RBP] = r->rbp;
    s->gpr[X86_RSI] = r->rsi;
    s->gpr[X86_RDI] = r->rdi;
    s->gpr[X86_R8] = r->r8;
    s->gpr[X86_R9] = r->r9;
    s->gpr[X86_R10] = r->r10;
    s->gpr[X86_R11] = r->r11;
    s->gpr[X86_R12] = r->r12;
    s->gpr[X86_R13] = r->r13;
    s->gpr[X86_R14] = r->r14;
    s->gpr[X86_R15] = r->r15;
    s->rip = r->rip;
    s->rflags = r->rflags;
}

static void regs_to_kvm(struct kvm_regs *r, const struct x86_cpu_state *s)
{
    memset(r, 0, sizeof(*r));
    r->rax = s->gpr[X86_RAX];
    r->rcx = s->gpr[X86_RCX];
    r->rdx = s->gpr[X86_RDX];
    r->rbx = s->gpr[X86_RBX];
    r->rsp = s->gpr[X86_RSP];
    r->rbp = s->gpr[X86_RBP];
    r->rsi = s->gpr[X86_RSI];
    r->rdi = s->gpr[X86_RDI];
    r->r8 = s->gpr[X86_R8];
    r->r9 = s->gpr[X86_R9];
    r->r10 = s->gpr[X86_R10];
    r->r11 = s->gpr[X86_R11];
    r->r12 = s->gpr[X86_R12];
    r->r13 = s->gpr[X86_R13];
    r->r14 = s->gpr[X86_R14];
    r->r15 = s->gpr[X86_R15];
    r->rip = s->rip;
    r->rflags = s->rflags;
}

/* ---- MSRs ---- */

#define MSR_IA32_TSC 0x10
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_PHYSBASE0 0x200
#define MSR_MTRR_FIX64K_00000 0x250
#define MSR_MTRR_FIX16K_80000 0x258
#define MSR_MTRR_FIX16K_A0000 0x259
#define MSR_MTRR_FIX4K_C0000 0x268
#define MSR_IA32_PAT 0x277
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

/* Every MSR of struct x86_msrs that KVM keeps, except EFER and APIC_BASE
 * (sregs), plus the TSC. */
#define KVM_STATE_NMSRS (12 + X86_MTRR_FIXED_COUNT + 2 * X86_MTRR_VAR_COUNT)

struct msr_ref {
    uint32_t index;
    uint64_t *val;
};

static unsigned msr_refs(struct x86_cpu_state *s, struct msr_ref *r)
{
    struct x86_msrs *m = &s->msr;
    unsigned n = 0;

    r[n++] = (struct msr_ref){MSR_IA32_TSC, &s->tsc};
    r[n++] = (struct msr_ref){MSR_STAR, &m->star};
    r[n++] = (struct msr_ref){MSR_LSTAR, &m->lstar};
    r[n++] = (struct msr_ref){MSR_CSTAR, &m->cstar};
    r[n++] = (struct msr_ref){MSR_SFMASK, &m->sfmask};
    r[n++] = (struct msr_ref){MSR_KERNEL_GS_BASE, &m->kernel_gs_base};
    r[n++] = (struct msr_ref){MSR_IA32_SYSENTER_CS, &m->sysenter_cs};
    r[n++] = (struct msr_ref){MSR_IA32_SYSENTER_ESP, &m->sysenter_esp};
    r[n++] = (struct msr_ref){MSR_IA32_SYSENTER_EIP, &m->sysenter_eip};
    r[n++] = (struct msr_ref){MSR_IA32_PAT, &m->pat};
    r[n++] = (struct msr_ref){MSR_IA32_MISC_ENABLE, &m->misc_enable};
    r[n++] = (struct msr_ref){MSR_MTRR_DEF_TYPE, &m->mtrr_def_type};
    r[n++] = (struct msr_ref){MSR_MTRR_FIX64K_00000, &m->mtrr_fixed[0]};
    r[n++] = (struct msr_ref){MSR_MTRR_FIX16K_80000, &m->mtrr_fixed[1]};
    r[n++] = (struct msr_ref){MSR_MTRR_FIX16K_A0000, &m->mtrr_fixed[2]};
    for (unsigned i = 0; i < 8; i++)
        r[n++] = (struct msr_ref){MSR_MTRR_FIX4K_C0000 + i, &m->mtrr_fixed[3 + i]};
    for (unsigned i = 0; i < X86_MTRR_VAR_COUNT; i++) {
        r[n++] = (struct msr_ref){MSR_MTRR_PHYSBASE0 + 2 * i, &m->mtrr_var_base[i]};
        r[n++] = (struct msr_ref){MSR_MTRR_PHYSBASE0 + 2 * i + 1, &m->mtrr_var_mask[i]};
    }
    return n;
}

/* struct kvm_msrs with room for KVM_STATE_NMSRS entries (a flexible array
 * member cannot sit inside another struct in ISO C). */
union kvm_msr_buf {
    struct kvm_msrs h;
    uint8_t bytes[sizeof(struct kvm_msrs) + KVM_STATE_NMSRS * sizeof(struct kvm_msr_entry)];
};

static int msrs_get(struct engine_vcpu *v, struct x86_cpu_state *s)
{
    struct msr_ref ref[KVM_STATE_NMSRS];
    union kvm_msr_buf b;
    unsigned n = msr_refs(s, ref);
    int r;

    memset(&b, 0, sizeof(b));
    b.h.nmsrs = n;
    for (unsigned i = 0; i < n; i++)
        b.h.entries[i].index = ref[i].index;
    r = kvm_ioctl(v->fd, KVM_GET_MSRS, &b);
    if (r < 0)
        return err_set(-errno, "KVM_GET_MSRS: %s", strerror(errno));
    if ((unsigned)r < n)
        return err_set(-ENOTSUP, "KVM_GET_MSRS: KVM cannot read MSR 0x%x", ref[r].index);
    for (unsigned i = 0; i < n; i++)
        *ref[i].val = b.h.entries[i].data;
    return 0;
}

static int msrs_set(struct engine_vcpu *v, const struct x86_cpu_state *s)
{
    struct x86_cpu_state copy = *s;
    struct msr_ref ref[KVM_STATE_NMSRS];
    union kvm_msr_buf b;
    unsigned n = msr_refs(&copy, ref);
    int r;

    memset(&b, 0, sizeof(b));
    b.h.nmsrs = n;
    for (unsigned i = 0; i < n; i++) {
        b.h.entries[i].index = ref[i].index;
        b.h.entries[i].data = *ref[i].val;
    }
    r = kvm_ioctl(v->fd, KVM_SET_MSRS, &b);
    if (r < 0)
        return err_set(-errno, "KVM_SET_MSRS: %s", strerror(errno));
    if ((unsigned)r < n)
        return err_set(-EINVAL, "KVM_SET_MSRS: KVM refused MSR 0x%x = 0x%llx", ref[r].index,
                       (unsigned long long)*ref[r].val);
    return 0;
}

/* ---- x87/SSE ---- */

/* The FXSAVE image up to the reserved tail: what KVM's XSAVE legacy area
 * and struct x86_fxsave share byte for byte (x86-64 is little-endian). */
#define FXSAVE_USED offsetof(struct x86_fxsave, reserved2)
#define XSAVE_HDR_XSTATE_BV 512 /* byte offset of XSTATE_BV in an XSAVE image */
#define XFEATURE_FP_SSE 3ull

static int xsave_read(struct engine_vcpu *v)
{
    unsigned long req = v->vm->xsave_size ? KVM_GET_XSAVE2 : KVM_GET_XSAVE;
    if (kvm_ioctl(v->fd, req, v->xsave) < 0)
        return err_set(-errno, "%s: %s", v->vm->xsave_size ? "KVM_GET_XSAVE2" : "KVM_GET_XSAVE",
                       strerror(errno));
    return 0;
}

static int fpu_get(struct engine_vcpu *v, struct x86_fxsave *f)
{
    int rc;

    memset(f, 0, sizeof(*f));
    if (v->vm->has_xsave) {
        rc = xsave_read(v);
        if (rc < 0)
            return rc;
        memcpy(f, v->xsave, FXSAVE_USED);
        return 0;
    }
    struct kvm_fpu k;
    if (kvm_ioctl(v->fd, KVM_GET_FPU, &k) < 0)
        return err_set(-errno, "KVM_GET_FPU: %s", strerror(errno));
    f->fcw = k.fcw;
    f->fsw = k.fsw;
    f->ftw = k.ftwx;
    f->fop = k.last_opcode;
    f->fip = k.last_ip;
    f->fdp = k.last_dp;
    f->mxcsr = k.mxcsr;
    f->mxcsr_mask = 0xffff;
    memcpy(f->st, k.fpr, sizeof(f->st));
    memcpy(f->xmm, k.xmm, sizeof(f->xmm));
    return 0;
}

static int fpu_set(struct engine_vcpu *v, const struct x86_fxsave *f)
{
    int rc;

    if (v->vm->has_xsave) {
        uint64_t bv;
        /* Read first, so that state outside FXSAVE (AVX and later, which
         * roam-v1 does not offer) is left as it is. */
        rc = xsave_read(v);
        if (rc < 0)
            return rc;
        memcpy(v->xsave, f, FXSAVE_USED);
        memcpy(&bv, (uint8_t *)v->xsave + XSAVE_HDR_XSTATE_BV, sizeof(bv));
        bv |= XFEATURE_FP_SSE; /* else KVM keeps x87/SSE in their init state */
        memcpy((uint8_t *)v->xsave + XSAVE_HDR_XSTATE_BV, &bv, sizeof(bv));
        if (kvm_ioctl(v->fd, KVM_SET_XSAVE, v->xsave) < 0)
            return err_set(-errno, "KVM_SET_XSAVE: %s", strerror(errno));
        return 0;
    }
    struct kvm_fpu k;
    memset(&k, 0, sizeof(k));
    k.fcw = f->fcw;
    k.fsw = f->fsw;
    k.ftwx = f->ftw;
    k.last_opcode = f->fop;
    k.last_ip = f->fip;
    k.last_dp = f->fdp;
    k.mxcsr = f->mxcsr;
    memcpy(k.fpr, f->st, sizeof(k.fpr));
    memcpy(k.xmm, f->xmm, sizeof(k.xmm));
    if (kvm_ioctl(v->fd, KVM_SET_FPU, &k) < 0)
        return err_set(-errno, "KVM_SET_FPU: %s", strerror(errno));
    return 0;
}

/* ---- events ---- */

static void events_from_kvm(struct x86_events *o, const struct kvm_vcpu_events *k)
{
    memset(o, 0, sizeof(*o));
    o->exception_injected = k->exception.injected;
    o->exception_pending = k->exception.pending;
    o->exception_nr = k->exception.nr;
    o->exception_has_error_code = k->exception.has_error_code;
    o->exception_error_code = k->exception.error_code;
    o->interrupt_injected = k->interrupt.injected;
    o->interrupt_nr = k->interrupt.nr;
    o->interrupt_soft = k->interrupt.soft;
    o->nmi_injected = k->nmi.injected;
    o->nmi_pending = k->nmi.pending;
    o->nmi_masked = k->nmi.masked;
    if (k->flags & KVM_VCPUEVENT_VALID_SHADOW) {
        if (k->interrupt.shadow & KVM_X86_SHADOW_INT_STI)
            o->interrupt_shadow |= X86_SHADOW_STI;
        if (k->interrupt.shadow & KVM_X86_SHADOW_INT_MOV_SS)
            o->interrupt_shadow |= X86_SHADOW_MOV_SS;
    }
}

static void events_to_kvm(struct kvm_vcpu_events *k, const struct x86_events *o)
{
    /* k holds KVM's current events: SMM, SIPI and triple-fault state are
     * not canonical and are left alone (their VALID flags stay clear). */
    k->flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
    k->exception.injected = o->exception_injected || o->exception_pending;
    k->exception.pending = 0;
    k->exception.nr = o->exception_nr;
    k->exception.has_error_code = o->exception_has_error_code;
    k->exception.error_code = o->exception_error_code;
    k->exception_has_payload = 0;
    k->exception_payload = 0;
    k->interrupt.injected = o->interrupt_injected;
    k->interrupt.nr = o->interrupt_nr;
    k->interrupt.soft = o->interrupt_soft;
    /* Note the bit order: KVM's MOV_SS is bit 0, STI bit 1. */
    k->interrupt.shadow = 0;
    if (o->interrupt_shadow & X86_SHADOW_STI)
        k->interrupt.shadow |= KVM_X86_SHADOW_INT_STI;
    if (o->interrupt_shadow & X86_SHADOW_MOV_SS)
        k->interrupt.shadow |= KVM_X86_SHADOW_INT_MOV_SS;
    k->nmi.injected = o->nmi_injected;
    k->nmi.pending = o->nmi_pending;
    k->nmi.masked = o->nmi_masked;
}

/* ---- get / set ---- */

int kvm_vcpu_get_state(struct engine_vcpu *v, struct x86_cpu_state *s)
{
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_vcpu_events ev;
    struct kvm_debugregs dbg;
    int rc;

    rc = kvm_vcpu_flush_pending(v);
    if (rc < 0)
        return rc;
    memset(s, 0, sizeof(*s));
    if (kvm_ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
        return err_set(-errno, "KVM_GET_REGS: %s", strerror(errno));
    regs_from_kvm(s, &regs);

    if (kvm_ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
        return err_set(-errno, "KVM_GET_SREGS: %s", strerror(errno));
    for (unsigned i = 0; i < X86_NR_SEGS; i++)
        seg_from_kvm(&s->seg[i], sregs_seg(&sregs, (enum x86_sreg)i));
    s->gdtr.base = sregs.gdt.base;
    s->gdtr.limit = sregs.gdt.limit;
    s->idtr.base = sregs.idt.base;
    s->idtr.limit = sregs.idt.limit;
    s->cr0 = sregs.cr0;
    s->cr2 = sregs.cr2;
    s->cr3 = sregs.cr3;
    s->cr4 = sregs.cr4;
    s->cr8 = sregs.cr8;
    s->msr.efer = sregs.efer;
    s->msr.apic_base = sregs.apic_base;

    rc = fpu_get(v, &s->fpu);
    if (rc < 0)
        return rc;
    rc = msrs_get(v, s);
    if (rc < 0)
        return rc;

    if (kvm_ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
        return err_set(-errno, "KVM_GET_VCPU_EVENTS: %s", strerror(errno));
    events_from_kvm(&s->events, &ev);

    if (kvm_ioctl(v->fd, KVM_GET_DEBUGREGS, &dbg) < 0)
        return err_set(-errno, "KVM_GET_DEBUGREGS: %s", strerror(errno));
    memcpy(s->dr, dbg.db, sizeof(s->dr));
    s->dr6 = dbg.dr6;
    s->dr7 = dbg.dr7;
    return 0;
}

int kvm_vcpu_set_state(struct engine_vcpu *v, const struct x86_cpu_state *s)
{
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_vcpu_events ev;
    struct kvm_debugregs dbg;
    int rc;

    /* A completion left by the last exit would otherwise land on top of
     * the new state at the next KVM_RUN. */
    rc = kvm_vcpu_flush_pending(v);
    if (rc < 0)
        return rc;

    regs_to_kvm(&regs, s);
    if (kvm_ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
        return err_set(-errno, "KVM_SET_REGS: %s", strerror(errno));

    /* interrupt_bitmap stays empty: the injected interrupt goes through
     * KVM_SET_VCPU_EVENTS below. */
    memset(&sregs, 0, sizeof(sregs));
    for (unsigned i = 0; i < X86_NR_SEGS; i++)
        seg_to_kvm(sregs_seg(&sregs, (enum x86_sreg)i), &s->seg[i]);
    sregs.gdt.base = s->gdtr.base;
    sregs.gdt.limit = s->gdtr.limit;
    sregs.idt.base = s->idtr.base;
    sregs.idt.limit = s->idtr.limit;
    sregs.cr0 = s->cr0;
    sregs.cr2 = s->cr2;
    sregs.cr3 = s->cr3;
    sregs.cr4 = s->cr4;
    sregs.cr8 = s->cr8;
    sregs.efer = s->msr.efer;
    sregs.apic_base = s->msr.apic_base;
    if (kvm_ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
        return err_set(-errno,
                       "KVM_SET_SREGS (cr0 0x%llx cr4 0x%llx efer 0x%llx apic_base 0x%llx): %s",
                       (unsigned long long)s->cr0, (unsigned long long)s->cr4,
                       (unsigned long long)s->msr.efer, (unsigned long long)s->msr.apic_base,
                       strerror(errno));
    /* KVM_RUN reloads CR8 from kvm_run with a userspace irqchip. */
    v->cr8 = s->cr8;
    v->run->cr8 = s->cr8;

    rc = fpu_set(v, &s->fpu);
    if (rc < 0)
        return rc;
    rc = msrs_set(v, s);
    if (rc < 0)
        return rc;

    if (kvm_ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
        return err_set(-errno, "KVM_GET_VCPU_EVENTS: %s", strerror(errno));
    events_to_kvm(&ev, &s->events);
    if (kvm_ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
        return err_set(-errno, "KVM_SET_VCPU_EVENTS: %s", strerror(errno));

    memset(&dbg, 0, sizeof(dbg));
    memcpy(dbg.db, s->dr, sizeof(dbg.db));
    dbg.dr6 = s->dr6;
    dbg.dr7 = s->dr7;
    if (kvm_ioctl(v->fd, KVM_SET_DEBUGREGS, &dbg) < 0)
        return err_set(-errno, "KVM_SET_DEBUGREGS (dr6 0x%llx dr7 0x%llx): %s",
                       (unsigned long long)s->dr6, (unsigned long long)s->dr7, strerror(errno));
    /* The interrupt-window bookkeeping of the last exit no longer holds. */
    v->irq_queued = false;
    return 0;
}
