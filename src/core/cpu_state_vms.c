/* The vmstate description of struct x86_cpu_state (core/cpu_state_vms.h).
 * Field meanings follow core/cpu_state.h: Intel SDM Vol. 3A 3.4.5 for the
 * segment descriptor fields, 2.5 for the system registers, Vol. 1 10.5.1
 * (Table 10-2) for the FXSAVE image. */
#include "core/cpu_state_vms.h"

#include "core/cpu_state.h"
#include "migrate/vmstate.h"

#define CPU struct x86_cpu_state

/* One segment register; segment i takes ids id0 .. id0 + 11. */
#define CPU_SEG_FIELDS(i, pfx, id0)                                                        \
    VMS_U64((id0) + 0, pfx "_base", CPU, seg[i].base, 1),                                  \
    VMS_U32((id0) + 1, pfx "_limit", CPU, seg[i].limit, 1),                                \
    VMS_U16((id0) + 2, pfx "_selector", CPU, seg[i].selector, 1),                          \
    VMS_U8((id0) + 3, pfx "_type", CPU, seg[i].type, 1),                                   \
    VMS_U8((id0) + 4, pfx "_s", CPU, seg[i].s, 1),                                         \
    VMS_U8((id0) + 5, pfx "_dpl", CPU, seg[i].dpl, 1),                                     \
    VMS_U8((id0) + 6, pfx "_present", CPU, seg[i].present, 1),                             \
    VMS_U8((id0) + 7, pfx "_avl", CPU, seg[i].avl, 1),                                     \
    VMS_U8((id0) + 8, pfx "_l", CPU, seg[i].l, 1),                                         \
    VMS_U8((id0) + 9, pfx "_db", CPU, seg[i].db, 1),                                       \
    VMS_U8((id0) + 10, pfx "_g", CPU, seg[i].g, 1),                                        \
    VMS_U8((id0) + 11, pfx "_unusable", CPU, seg[i].unusable, 1)

static const struct vms_field x86_cpu_vms_fields[] = {
    VMS_U64_ARRAY(1, "gpr", CPU, gpr, 1), /* rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8-r15 */
    VMS_U64(2, "rip", CPU, rip, 1),
    VMS_U64(3, "rflags", CPU, rflags, 1),
    /* segments: ids 4-99 */
    CPU_SEG_FIELDS(X86_ES, "es", 4),
    CPU_SEG_FIELDS(X86_CS, "cs", 16),
    CPU_SEG_FIELDS(X86_SS, "ss", 28),
    CPU_SEG_FIELDS(X86_DS, "ds", 40),
    CPU_SEG_FIELDS(X86_FS, "fs", 52),
    CPU_SEG_FIELDS(X86_GS, "gs", 64),
    CPU_SEG_FIELDS(X86_LDTR, "ldtr", 76),
    CPU_SEG_FIELDS(X86_TR, "tr", 88),
    /* descriptor tables */
    VMS_U64(100, "gdtr_base", CPU, gdtr.base, 1),
    VMS_U16(101, "gdtr_limit", CPU, gdtr.limit, 1),
    VMS_U64(102, "idtr_base", CPU, idtr.base, 1),
    VMS_U16(103, "idtr_limit", CPU, idtr.limit, 1),
    /* control and debug registers */
    VMS_U64(104, "cr0", CPU, cr0, 1),
    VMS_U64(105, "cr2", CPU, cr2, 1),
    VMS_U64(106, "cr3", CPU, cr3, 1),
    VMS_U64(107, "cr4", CPU, cr4, 1),
    VMS_U64(108, "cr8", CPU, cr8, 1),
    VMS_U64(109, "dr0", CPU, dr[0], 1),
    VMS_U64(110, "dr1", CPU, dr[1], 1),
    VMS_U64(111, "dr2", CPU, dr[2], 1),
    VMS_U64(112, "dr3", CPU, dr[3], 1),
    VMS_U64(113, "dr6", CPU, dr6, 1),
    VMS_U64(114, "dr7", CPU, dr7, 1),
    /* MSRs */
    VMS_U64(115, "efer", CPU, msr.efer, 1),
    VMS_U64(116, "star", CPU, msr.star, 1),
    VMS_U64(117, "lstar", CPU, msr.lstar, 1),
    VMS_U64(118, "cstar", CPU, msr.cstar, 1),
    VMS_U64(119, "sfmask", CPU, msr.sfmask, 1),
    VMS_U64(120, "kernel_gs_base", CPU, msr.kernel_gs_base, 1),
    VMS_U64(121, "sysenter_cs", CPU, msr.sysenter_cs, 1),
    VMS_U64(122, "sysenter_esp", CPU, msr.sysenter_esp, 1),
    VMS_U64(123, "sysenter_eip", CPU, msr.sysenter_eip, 1),
    VMS_U64(124, "pat", CPU, msr.pat, 1),
    VMS_U64(125, "misc_enable", CPU, msr.misc_enable, 1),
    VMS_U64(126, "mtrr_def_type", CPU, msr.mtrr_def_type, 1),
    VMS_U64_ARRAY(127, "mtrr_fixed", CPU, msr.mtrr_fixed, 1),
    VMS_U64_ARRAY(128, "mtrr_var_base", CPU, msr.mtrr_var_base, 1),
    VMS_U64_ARRAY(129, "mtrr_var_mask", CPU, msr.mtrr_var_mask, 1),
    VMS_U64(130, "apic_base", CPU, msr.apic_base, 1),
    /* FXSAVE image (reserved1 and reserved2 are not state) */
    VMS_U16(131, "fcw", CPU, fpu.fcw, 1),
    VMS_U16(132, "fsw", CPU, fpu.fsw, 1),
    VMS_U8(133, "ftw", CPU, fpu.ftw, 1),
    VMS_U16(134, "fop", CPU, fpu.fop, 1),
    VMS_U64(135, "fip", CPU, fpu.fip, 1),
    VMS_U64(136, "fdp", CPU, fpu.fdp, 1),
    VMS_U32(137, "mxcsr", CPU, fpu.mxcsr, 1),
    VMS_U32(138, "mxcsr_mask", CPU, fpu.mxcsr_mask, 1),
    VMS_BYTES(139, "st0", CPU, fpu.st[0], 1),
    VMS_BYTES(140, "st1", CPU, fpu.st[1], 1),
    VMS_BYTES(141, "st2", CPU, fpu.st[2], 1),
    VMS_BYTES(142, "st3", CPU, fpu.st[3], 1),
    VMS_BYTES(143, "st4", CPU, fpu.st[4], 1),
    VMS_BYTES(144, "st5", CPU, fpu.st[5], 1),
    VMS_BYTES(145, "st6", CPU, fpu.st[6], 1),
    VMS_BYTES(146, "st7", CPU, fpu.st[7], 1),
    VMS_BYTES(147, "xmm0", CPU, fpu.xmm[0], 1),
    VMS_BYTES(148, "xmm1", CPU, fpu.xmm[1], 1),
    VMS_BYTES(149, "xmm2", CPU, fpu.xmm[2], 1),
    VMS_BYTES(150, "xmm3", CPU, fpu.xmm[3], 1),
    VMS_BYTES(151, "xmm4", CPU, fpu.xmm[4], 1),
    VMS_BYTES(152, "xmm5", CPU, fpu.xmm[5], 1),
    VMS_BYTES(153, "xmm6", CPU, fpu.xmm[6], 1),
    VMS_BYTES(154, "xmm7", CPU, fpu.xmm[7], 1),
    VMS_BYTES(155, "xmm8", CPU, fpu.xmm[8], 1),
    VMS_BYTES(156, "xmm9", CPU, fpu.xmm[9], 1),
    VMS_BYTES(157, "xmm10", CPU, fpu.xmm[10], 1),
    VMS_BYTES(158, "xmm11", CPU, fpu.xmm[11], 1),
    VMS_BYTES(159, "xmm12", CPU, fpu.xmm[12], 1),
    VMS_BYTES(160, "xmm13", CPU, fpu.xmm[13], 1),
    VMS_BYTES(161, "xmm14", CPU, fpu.xmm[14], 1),
    VMS_BYTES(162, "xmm15", CPU, fpu.xmm[15], 1),
    /* events between instructions */
    VMS_U8(163, "exception_injected", CPU, events.exception_injected, 1),
    VMS_U8(164, "exception_pending", CPU, events.exception_pending, 1),
    VMS_U8(165, "exception_nr", CPU, events.exception_nr, 1),
    VMS_U8(166, "exception_has_error_code", CPU, events.exception_has_error_code, 1),
    VMS_U32(167, "exception_error_code", CPU, events.exception_error_code, 1),
    VMS_U8(168, "interrupt_injected", CPU, events.interrupt_injected, 1),
    VMS_U8(169, "interrupt_nr", CPU, events.interrupt_nr, 1),
    VMS_U8(170, "interrupt_soft", CPU, events.interrupt_soft, 1),
    VMS_U8(171, "nmi_injected", CPU, events.nmi_injected, 1),
    VMS_U8(172, "nmi_pending", CPU, events.nmi_pending, 1),
    VMS_U8(173, "nmi_masked", CPU, events.nmi_masked, 1),
    VMS_U8(174, "interrupt_shadow", CPU, events.interrupt_shadow, 1),
    VMS_U64(175, "tsc", CPU, tsc, 1),
};

#undef CPU_SEG_FIELDS
#undef CPU

static const char *const x86_seg_vms_names[X86_NR_SEGS] = {"es", "cs", "ss", "ds",
                                                            "fs", "gs", "ldtr", "tr"};

static int cpu_check_flag(const char *what, unsigned v)
{
    if (v > 1)
        return err_set(-EINVAL, "%s %u is not 0 or 1", what, v);
    return 0;
}

/* A descriptor field no descriptor can encode: type is 4 bits, DPL 2 bits,
 * the rest single bits. (vmstate_load prefixes the CPU's label.) */
static int cpu_check_seg(unsigned i, const struct x86_segment *sg)
{
    const char *n = x86_seg_vms_names[i];
    const uint8_t bits[] = {sg->s, sg->present, sg->avl, sg->l, sg->db, sg->g, sg->unusable};
    static const char *const bit_names[] = {"s", "present", "avl", "l", "db", "g", "unusable"};

    if (sg->type > 15)
        return err_set(-EINVAL, "%s_type %u is invalid (0..15)", n, sg->type);
    if (sg->dpl > 3)
        return err_set(-EINVAL, "%s_dpl %u is invalid (0..3)", n, sg->dpl);
    for (unsigned b = 0; b < sizeof(bits); b++) {
        if (bits[b] > 1)
            return err_set(-EINVAL, "%s_%s %u is not 0 or 1", n, bit_names[b], bits[b]);
    }
    return 0;
}

static int x86_cpu_vms_post_load(void *opaque)
{
    const struct x86_cpu_state *s = opaque;
    const struct x86_events *e = &s->events;
    int rc = 0;

    for (unsigned i = 0; i < X86_NR_SEGS; i++) {
        rc = cpu_check_seg(i, &s->seg[i]);
        if (rc < 0)
            return rc;
    }
    if (!rc)
        rc = cpu_check_flag("exception_injected", e->exception_injected);
    if (!rc)
        rc = cpu_check_flag("exception_pending", e->exception_pending);
    if (!rc)
        rc = cpu_check_flag("exception_has_error_code", e->exception_has_error_code);
    if (!rc)
        rc = cpu_check_flag("interrupt_injected", e->interrupt_injected);
    if (!rc)
        rc = cpu_check_flag("interrupt_soft", e->interrupt_soft);
    if (!rc)
        rc = cpu_check_flag("nmi_injected", e->nmi_injected);
    if (!rc)
        rc = cpu_check_flag("nmi_pending", e->nmi_pending);
    if (!rc)
        rc = cpu_check_flag("nmi_masked", e->nmi_masked);
    if (rc < 0)
        return rc;
    if ((e->exception_injected || e->exception_pending) && e->exception_nr > 31)
        return err_set(-EINVAL, "exception_nr %u is not an exception vector (0..31)",
                       e->exception_nr);
    if (e->interrupt_shadow & ~(X86_SHADOW_STI | X86_SHADOW_MOV_SS))
        return err_set(-EINVAL, "interrupt_shadow 0x%x has unknown bits", e->interrupt_shadow);
    return 0;
}

const struct vms_desc x86_cpu_vms = {
    .name = "x86_cpu",
    .version = 1,
    .min_version = 1,
    .fields = x86_cpu_vms_fields,
    .nfields = VMS_ARRAY_SIZE(x86_cpu_vms_fields),
    .post_load = x86_cpu_vms_post_load,
};
