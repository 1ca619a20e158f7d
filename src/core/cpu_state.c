/* The canonical CPU state's helpers; see core/cpu_state.h. Reset values
 * follow the Intel SDM Vol. 3A 10.1.1 (Table 10-1, "IA-32 and Intel 64
 * Processor States Following Power-up, Reset, or INIT"); the multiboot entry
 * state follows the Multiboot Specification 0.6.96, 3.2 "Machine state". */
#include "core/cpu_state.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

_Static_assert(offsetof(struct x86_fxsave, fip) == 8, "FXSAVE FIP at byte 8");
_Static_assert(offsetof(struct x86_fxsave, fdp) == 16, "FXSAVE FDP at byte 16");
_Static_assert(offsetof(struct x86_fxsave, mxcsr) == 24, "FXSAVE MXCSR at byte 24");
_Static_assert(offsetof(struct x86_fxsave, st) == 32, "FXSAVE ST0 at byte 32");
_Static_assert(offsetof(struct x86_fxsave, xmm) == 160, "FXSAVE XMM0 at byte 160");
_Static_assert(offsetof(struct x86_fxsave, reserved2) == 416, "FXSAVE reserved at byte 416");

/* roam-v1's CPUID.1:EAX (family 6, model 15, stepping 1; see cpu_model.c),
 * which RESET/INIT leave in EDX. */
#define RESET_EDX 0x000006f1u

static void seg_set(struct x86_segment *s, uint16_t sel, uint64_t base, uint32_t limit,
                    uint8_t type, uint8_t is_code_data)
{
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->base = base;
    s->limit = limit;
    s->type = type;
    s->s = is_code_data;
    s->present = 1;
}

void x86_cpu_state_reset(struct x86_cpu_state *s)
{
    memset(s, 0, sizeof(*s));
    s->gpr[X86_RDX] = RESET_EDX;
    s->rip = 0xfff0;
    s->rflags = 0x2;
    /* CS: selector F000h, base FFFF0000h, limit FFFFh, execute/read,
     * accessed. The data segments: read/write, accessed. */
    seg_set(&s->seg[X86_CS], 0xf000, 0xffff0000, 0xffff, 0xb, 1);
    seg_set(&s->seg[X86_ES], 0, 0, 0xffff, 0x3, 1);
    seg_set(&s->seg[X86_SS], 0, 0, 0xffff, 0x3, 1);
    seg_set(&s->seg[X86_DS], 0, 0, 0xffff, 0x3, 1);
    seg_set(&s->seg[X86_FS], 0, 0, 0xffff, 0x3, 1);
    seg_set(&s->seg[X86_GS], 0, 0, 0xffff, 0x3, 1);
    /* LDTR: an LDT descriptor; TR: a busy 32-bit TSS (what VMX requires of
     * TR and what KVM and QEMU use at reset). */
    seg_set(&s->seg[X86_LDTR], 0, 0, 0xffff, 0x2, 0);
    seg_set(&s->seg[X86_TR], 0, 0, 0xffff, 0xb, 0);
    s->gdtr.limit = 0xffff;
    s->idtr.limit = 0xffff;
    s->cr0 = 0x60000010; /* CD, NW, ET */
    s->dr6 = 0xffff0ff0;
    s->dr7 = 0x400;
    /* x87 and SSE: the state FNINIT leaves (FCW 037Fh, all registers empty),
     * which is also KVM's and QEMU's vCPU reset value; MXCSR 1F80h. */
    s->fpu.fcw = 0x37f;
    s->fpu.mxcsr = 0x1f80;
    s->fpu.mxcsr_mask = 0xffff;
    s->msr.pat = 0x0007040600070406ull;
    /* Fast strings enabled, as QEMU's reset value. */
    s->msr.misc_enable = 0x1;
    /* The LAPIC at its default base, enabled, and this is the BSP; the
     * core clears BSP (bit 8) for application processors. */
    s->msr.apic_base = 0xfee00000ull | (1u << 11) | (1u << 8);
}

void x86_cpu_state_flat32(struct x86_cpu_state *s, uint32_t eip, uint32_t eax, uint32_t ebx)
{
    x86_cpu_state_reset(s);
    s->gpr[X86_RAX] = eax;
    s->gpr[X86_RBX] = ebx;
    s->gpr[X86_RDX] = 0;
    s->rip = eip;
    s->rflags = 0x2; /* IF and VM clear */
    /* CS: 32-bit execute/read code, base 0, limit 4 GiB; the others: 32-bit
     * read/write data, base 0, limit 4 GiB. The selectors are those of a
     * conventional GDT (null, code 08h, data 10h); multiboot leaves them
     * undefined and the OS loads its own GDT before reloading a segment. */
    for (unsigned i = X86_ES; i <= X86_GS; i++) {
        struct x86_segment *g = &s->seg[i];
        seg_set(g, i == X86_CS ? 0x08 : 0x10, 0, 0xffffffff, i == X86_CS ? 0xb : 0x3, 1);
        g->db = 1;
        g->g = 1;
    }
    s->cr0 = 0x11; /* PE, ET; caches enabled */
}

/* ---- comparison ---- */

struct cmp {
    char *what;
    unsigned what_len;
    bool differ;
};

static bool cmp_u64(struct cmp *c, const char *name, uint64_t a, uint64_t b)
{
    if (c->differ || a == b)
        return !c->differ;
    c->differ = true;
    if (c->what && c->what_len)
        snprintf(c->what, c->what_len, "%s (0x%llx != 0x%llx)", name, (unsigned long long)a,
                 (unsigned long long)b);
    return false;
}

static bool cmp_bytes(struct cmp *c, const char *name, const void *a, const void *b, size_t n)
{
    if (c->differ || memcmp(a, b, n) == 0)
        return !c->differ;
    c->differ = true;
    if (c->what && c->what_len)
        snprintf(c->what, c->what_len, "%s", name);
    return false;
}

static const char *const gpr_names[X86_NR_GPRS] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15",
};
static const char *const seg_names[X86_NR_SEGS] = {"es", "cs", "ss", "ds",
                                                   "fs", "gs", "ldtr", "tr"};

static void cmp_seg(struct cmp *c, const char *sname, const struct x86_segment *a,
                    const struct x86_segment *b)
{
    char n[32];
#define SEG_FIELD(f)                                \
    snprintf(n, sizeof(n), "%s.%s", sname, #f);     \
    cmp_u64(c, n, a->f, b->f)
    SEG_FIELD(selector);
    SEG_FIELD(base);
    SEG_FIELD(limit);
    SEG_FIELD(type);
    SEG_FIELD(s);
    SEG_FIELD(dpl);
    SEG_FIELD(present);
    SEG_FIELD(avl);
    SEG_FIELD(l);
    SEG_FIELD(db);
    SEG_FIELD(g);
    SEG_FIELD(unusable);
#undef SEG_FIELD
}

bool x86_cpu_state_equal(const struct x86_cpu_state *a, const struct x86_cpu_state *b,
                         char *what, unsigned what_len)
{
    struct cmp c = {what, what_len, false};
    char n[48];

    if (what && what_len)
        what[0] = 0;
    for (unsigned i = 0; i < X86_NR_GPRS; i++)
        cmp_u64(&c, gpr_names[i], a->gpr[i], b->gpr[i]);
    cmp_u64(&c, "rip", a->rip, b->rip);
    cmp_u64(&c, "rflags", a->rflags, b->rflags);
    for (unsigned i = 0; i < X86_NR_SEGS; i++)
        cmp_seg(&c, seg_names[i], &a->seg[i], &b->seg[i]);
    cmp_u64(&c, "gdtr.base", a->gdtr.base, b->gdtr.base);
    cmp_u64(&c, "gdtr.limit", a->gdtr.limit, b->gdtr.limit);
    cmp_u64(&c, "idtr.base", a->idtr.base, b->idtr.base);
    cmp_u64(&c, "idtr.limit", a->idtr.limit, b->idtr.limit);
    cmp_u64(&c, "cr0", a->cr0, b->cr0);
    cmp_u64(&c, "cr2", a->cr2, b->cr2);
    cmp_u64(&c, "cr3", a->cr3, b->cr3);
    cmp_u64(&c, "cr4", a->cr4, b->cr4);
    cmp_u64(&c, "cr8", a->cr8, b->cr8);
    for (unsigned i = 0; i < 4; i++) {
        snprintf(n, sizeof(n), "dr%u", i);
        cmp_u64(&c, n, a->dr[i], b->dr[i]);
    }
    cmp_u64(&c, "dr6", a->dr6, b->dr6);
    cmp_u64(&c, "dr7", a->dr7, b->dr7);

    const struct x86_msrs *ma = &a->msr, *mb = &b->msr;
    cmp_u64(&c, "msr.efer", ma->efer, mb->efer);
    cmp_u64(&c, "msr.star", ma->star, mb->star);
    cmp_u64(&c, "msr.lstar", ma->lstar, mb->lstar);
    cmp_u64(&c, "msr.cstar", ma->cstar, mb->cstar);
    cmp_u64(&c, "msr.sfmask", ma->sfmask, mb->sfmask);
    cmp_u64(&c, "msr.kernel_gs_base", ma->kernel_gs_base, mb->kernel_gs_base);
    cmp_u64(&c, "msr.sysenter_cs", ma->sysenter_cs, mb->sysenter_cs);
    cmp_u64(&c, "msr.sysenter_esp", ma->sysenter_esp, mb->sysenter_esp);
    cmp_u64(&c, "msr.sysenter_eip", ma->sysenter_eip, mb->sysenter_eip);
    cmp_u64(&c, "msr.pat", ma->pat, mb->pat);
    cmp_u64(&c, "msr.misc_enable", ma->misc_enable, mb->misc_enable);
    cmp_u64(&c, "msr.mtrr_def_type", ma->mtrr_def_type, mb->mtrr_def_type);
    for (unsigned i = 0; i < X86_MTRR_FIXED_COUNT; i++) {
        snprintf(n, sizeof(n), "msr.mtrr_fixed[%u]", i);
        cmp_u64(&c, n, ma->mtrr_fixed[i], mb->mtrr_fixed[i]);
    }
    for (unsigned i = 0; i < X86_MTRR_VAR_COUNT; i++) {
        snprintf(n, sizeof(n), "msr.mtrr_var_base[%u]", i);
        cmp_u64(&c, n, ma->mtrr_var_base[i], mb->mtrr_var_base[i]);
        snprintf(n, sizeof(n), "msr.mtrr_var_mask[%u]", i);
        cmp_u64(&c, n, ma->mtrr_var_mask[i], mb->mtrr_var_mask[i]);
    }
    cmp_u64(&c, "msr.apic_base", ma->apic_base, mb->apic_base);

    const struct x86_fxsave *fa = &a->fpu, *fb = &b->fpu;
    cmp_u64(&c, "fpu.fcw", fa->fcw, fb->fcw);
    cmp_u64(&c, "fpu.fsw", fa->fsw, fb->fsw);
    cmp_u64(&c, "fpu.ftw", fa->ftw, fb->ftw);
    cmp_u64(&c, "fpu.reserved1", fa->reserved1, fb->reserved1);
    cmp_u64(&c, "fpu.fop", fa->fop, fb->fop);
    cmp_u64(&c, "fpu.fip", fa->fip, fb->fip);
    cmp_u64(&c, "fpu.fdp", fa->fdp, fb->fdp);
    cmp_u64(&c, "fpu.mxcsr", fa->mxcsr, fb->mxcsr);
    cmp_u64(&c, "fpu.mxcsr_mask", fa->mxcsr_mask, fb->mxcsr_mask);
    for (unsigned i = 0; i < 8; i++) {
        snprintf(n, sizeof(n), "fpu.st[%u]", i);
        cmp_bytes(&c, n, fa->st[i], fb->st[i], sizeof(fa->st[i]));
    }
    for (unsigned i = 0; i < 16; i++) {
        snprintf(n, sizeof(n), "fpu.xmm[%u]", i);
        cmp_bytes(&c, n, fa->xmm[i], fb->xmm[i], sizeof(fa->xmm[i]));
    }
    cmp_bytes(&c, "fpu.reserved2", fa->reserved2, fb->reserved2, sizeof(fa->reserved2));

    const struct x86_events *ea = &a->events, *eb = &b->events;
    cmp_u64(&c, "events.exception_injected", ea->exception_injected, eb->exception_injected);
    cmp_u64(&c, "events.exception_pending", ea->exception_pending, eb->exception_pending);
    cmp_u64(&c, "events.exception_nr", ea->exception_nr, eb->exception_nr);
    cmp_u64(&c, "events.exception_has_error_code", ea->exception_has_error_code,
            eb->exception_has_error_code);
    cmp_u64(&c, "events.exception_error_code", ea->exception_error_code,
            eb->exception_error_code);
    cmp_u64(&c, "events.interrupt_injected", ea->interrupt_injected, eb->interrupt_injected);
    cmp_u64(&c, "events.interrupt_nr", ea->interrupt_nr, eb->interrupt_nr);
    cmp_u64(&c, "events.interrupt_soft", ea->interrupt_soft, eb->interrupt_soft);
    cmp_u64(&c, "events.nmi_injected", ea->nmi_injected, eb->nmi_injected);
    cmp_u64(&c, "events.nmi_pending", ea->nmi_pending, eb->nmi_pending);
    cmp_u64(&c, "events.nmi_masked", ea->nmi_masked, eb->nmi_masked);
    cmp_u64(&c, "events.interrupt_shadow", ea->interrupt_shadow, eb->interrupt_shadow);

    cmp_u64(&c, "tsc", a->tsc, b->tsc);
    return !c.differ;
}

/* ---- dump ---- */

static void seg_line(char *buf, size_t len, const char *name, const struct x86_segment *g)
{
    snprintf(buf, len,
             "%-4s sel=%04x base=%016llx limit=%08x type=%x s=%u dpl=%u p=%u avl=%u l=%u db=%u "
             "g=%u%s",
             name, g->selector, (unsigned long long)g->base, g->limit, g->type, g->s, g->dpl,
             g->present, g->avl, g->l, g->db, g->g, g->unusable ? " unusable" : "");
}

void x86_cpu_state_dump(const struct x86_cpu_state *s, void (*print)(void *ctx, const char *line),
                        void *ctx)
{
    char line[200];
    const uint64_t *r = s->gpr;

    for (unsigned i = 0; i < X86_NR_GPRS; i += 4) {
        snprintf(line, sizeof(line), "%-3s=%016llx %-3s=%016llx %-3s=%016llx %-3s=%016llx",
                 gpr_names[i], (unsigned long long)r[i], gpr_names[i + 1],
                 (unsigned long long)r[i + 1], gpr_names[i + 2], (unsigned long long)r[i + 2],
                 gpr_names[i + 3], (unsigned long long)r[i + 3]);
        print(ctx, line);
    }
    snprintf(line, sizeof(line), "rip=%016llx rflags=%08llx", (unsigned long long)s->rip,
             (unsigned long long)s->rflags);
    print(ctx, line);
    for (unsigned i = 0; i < X86_NR_SEGS; i++) {
        seg_line(line, sizeof(line), seg_names[i], &s->seg[i]);
        print(ctx, line);
    }
    snprintf(line, sizeof(line), "gdt  base=%016llx limit=%04x  idt base=%016llx limit=%04x",
             (unsigned long long)s->gdtr.base, s->gdtr.limit, (unsigned long long)s->idtr.base,
             s->idtr.limit);
    print(ctx, line);
    snprintf(line, sizeof(line), "cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx cr8=%llx",
             (unsigned long long)s->cr0, (unsigned long long)s->cr2, (unsigned long long)s->cr3,
             (unsigned long long)s->cr4, (unsigned long long)s->cr8);
    print(ctx, line);
    snprintf(line, sizeof(line), "dr0=%016llx dr1=%016llx dr2=%016llx dr3=%016llx",
             (unsigned long long)s->dr[0], (unsigned long long)s->dr[1],
             (unsigned long long)s->dr[2], (unsigned long long)s->dr[3]);
    print(ctx, line);
    snprintf(line, sizeof(line), "dr6=%016llx dr7=%016llx efer=%016llx apic_base=%016llx",
             (unsigned long long)s->dr6, (unsigned long long)s->dr7,
             (unsigned long long)s->msr.efer, (unsigned long long)s->msr.apic_base);
    print(ctx, line);
    snprintf(line, sizeof(line), "fcw=%04x fsw=%04x ftw=%02x mxcsr=%08x tsc=%016llx", s->fpu.fcw,
             s->fpu.fsw, s->fpu.ftw, s->fpu.mxcsr, (unsigned long long)s->tsc);
    print(ctx, line);
    const struct x86_events *e = &s->events;
    snprintf(line, sizeof(line),
             "events: exc inj=%u pend=%u nr=%u err=%u/%x  intr inj=%u nr=%u soft=%u  "
             "nmi inj=%u pend=%u masked=%u  shadow=%u",
             e->exception_injected, e->exception_pending, e->exception_nr,
             e->exception_has_error_code, e->exception_error_code, e->interrupt_injected,
             e->interrupt_nr, e->interrupt_soft, e->nmi_injected, e->nmi_pending, e->nmi_masked,
             e->interrupt_shadow);
    print(ctx, line);
}
