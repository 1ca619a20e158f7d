/* A test harness for the emu engine: a tiny machine (RAM at 0, identity
 * paging in long mode, a GDT, an IDT whose vector v handler is `hlt` at
 * EMU_H_STUBS + 16 * v) driven through the engine ops, so tests run real
 * instruction bytes and read back the canonical state.
 *
 * Layout: 0x1000 GDT, 0x2000 IDT, 0x3000 exception stubs, 0x4000 TSS,
 * 0x8000 PML4/PDPT/PD (2 MiB pages identity-mapping 0-8 MiB, user
 * accessible), 0x10000 code, 0x20000 data, stacks below 0x80000. */
#ifndef ROAM_TESTS_EMU_HARNESS_H
#define ROAM_TESTS_EMU_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include "core/cpu_model.h"
#include "engine/engine.h"

#define EMU_H_RAM (8u << 20)
#define EMU_H_GDT 0x1000u
#define EMU_H_IDT 0x2000u
#define EMU_H_STUBS 0x3000u
#define EMU_H_TSS 0x4000u
#define EMU_H_PT 0x8000u
#define EMU_H_CODE 0x10000u
#define EMU_H_DATA 0x20000u
#define EMU_H_STACK 0x80000u

/* GDT selectors. */
#define EMU_H_CS64 0x08
#define EMU_H_DS 0x10
#define EMU_H_CS32 0x18
#define EMU_H_CS64_USER 0x23
#define EMU_H_DS_USER 0x2b
#define EMU_H_TSS_SEL 0x30

struct emu_h {
    const struct engine_ops *ops;
    struct engine_vm *vm;
    struct engine_vcpu *vcpu;
    uint8_t *ram;
    struct vm_exit exit;
};

static inline void emu_h_put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Returns 0, or -1 when the emu engine is not built in. */
static inline int emu_h_init(struct emu_h *h)
{
    memset(h, 0, sizeof(*h));
    h->ops = engine_find("emu");
    if (!h->ops)
        return -1;
    h->ram = aligned_alloc(4096, EMU_H_RAM);
    if (!h->ram)
        return -1;
    memset(h->ram, 0, EMU_H_RAM);
    struct engine_vm_config cfg = {1, cpu_model_default()};
    if (h->ops->create_vm(&cfg, &h->vm) < 0 || h->ops->create_vcpu(h->vm, 0, &h->vcpu) < 0 ||
        h->ops->set_memory_region(h->vm, 0, 0, EMU_H_RAM, h->ram, ENGINE_MEM_DIRTY_LOG) < 0)
        return -1;
    uint8_t *g = h->ram + EMU_H_GDT;
    emu_h_put64(g + 0x08, 0x00af9b000000ffffull); /* code64, DPL0 */
    emu_h_put64(g + 0x10, 0x00cf93000000ffffull); /* data, DPL0 */
    emu_h_put64(g + 0x18, 0x00cf9b000000ffffull); /* code32, DPL0 */
    emu_h_put64(g + 0x20, 0x00affb000000ffffull); /* code64, DPL3 */
    emu_h_put64(g + 0x28, 0x00cff3000000ffffull); /* data, DPL3 */
    /* 64-bit TSS at EMU_H_TSS, limit 0x67. */
    uint64_t tss = EMU_H_TSS;
    emu_h_put64(g + 0x30, 0x0000890000000067ull | ((tss & 0xffffff) << 16) |
                              ((tss >> 24) << 56));
    emu_h_put64(g + 0x38, tss >> 32);
    emu_h_put64(h->ram + EMU_H_TSS + 4, EMU_H_STACK); /* RSP0 */
    for (unsigned v = 0; v < 32; v++) {
        uint64_t a = EMU_H_STUBS + 16 * v;
        uint8_t *d = h->ram + EMU_H_IDT + 16 * v;
        /* 64-bit interrupt gate, DPL3 so INT n works from CPL3 tests. */
        uint64_t lo = (a & 0xffff) | ((uint64_t)EMU_H_CS64 << 16) | (0xeeull << 40) |
                      ((a >> 16 & 0xffff) << 48);
        emu_h_put64(d, lo);
        emu_h_put64(d + 8, a >> 32);
        h->ram[a] = 0xf4; /* hlt */
    }
    emu_h_put64(h->ram + EMU_H_PT, (EMU_H_PT + 0x1000) | 7);
    emu_h_put64(h->ram + EMU_H_PT + 0x1000, (EMU_H_PT + 0x2000) | 7);
    for (unsigned i = 0; i < 4; i++)
        emu_h_put64(h->ram + EMU_H_PT + 0x2000 + 8 * i, ((uint64_t)i << 21) | 0x87);
    return 0;
}

static inline void emu_h_destroy(struct emu_h *h)
{
    if (h->vcpu)
        h->ops->destroy_vcpu(h->vcpu);
    if (h->vm)
        h->ops->destroy_vm(h->vm);
    free(h->ram);
}

static inline void emu_h_seg(struct x86_segment *s, uint16_t sel, uint8_t type, uint8_t dpl,
                             uint8_t l, uint8_t db)
{
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->limit = 0xffffffff;
    s->type = type;
    s->s = 1;
    s->dpl = dpl;
    s->present = 1;
    s->l = l;
    s->db = db;
    s->g = 1;
}

/* 64-bit mode at CPL0 (or CPL3 with user true), RIP = EMU_H_CODE. */
static inline void emu_h_state64(struct emu_h *h, struct x86_cpu_state *s, bool user)
{
    x86_cpu_state_reset(s);
    s->cr0 = 0x80050033; /* PG WP NE ET MP PE */
    s->cr3 = EMU_H_PT;
    s->cr4 = 0x6a0;      /* OSXMMEXCPT OSFXSR PGE PAE */
    s->msr.efer = 0xd01; /* NXE LMA LME SCE */
    if (user) {
        emu_h_seg(&s->seg[X86_CS], EMU_H_CS64_USER, 0xb, 3, 1, 0);
        for (unsigned i = X86_ES; i <= X86_GS; i++)
            if (i != X86_CS)
                emu_h_seg(&s->seg[i], EMU_H_DS_USER, 3, 3, 0, 1);
    } else {
        emu_h_seg(&s->seg[X86_CS], EMU_H_CS64, 0xb, 0, 1, 0);
        for (unsigned i = X86_ES; i <= X86_GS; i++)
            if (i != X86_CS)
                emu_h_seg(&s->seg[i], EMU_H_DS, 3, 0, 0, 1);
    }
    memset(&s->seg[X86_TR], 0, sizeof(s->seg[X86_TR]));
    s->seg[X86_TR].selector = EMU_H_TSS_SEL;
    s->seg[X86_TR].base = EMU_H_TSS;
    s->seg[X86_TR].limit = 0x67;
    s->seg[X86_TR].type = 0xb;
    s->seg[X86_TR].present = 1;
    s->gdtr.base = EMU_H_GDT;
    s->gdtr.limit = 0x3f;
    s->idtr.base = EMU_H_IDT;
    s->idtr.limit = 32 * 16 - 1;
    s->rip = EMU_H_CODE;
    s->gpr[X86_RSP] = user ? EMU_H_STACK - 0x10000 : EMU_H_STACK - 0x1000;
    s->rflags = 2;
}

/* Copies code to EMU_H_CODE, sets the state, runs to the first exit other
 * than VM_EXIT_INTR (a `hlt` gives VM_EXIT_HLT) and reads the state back.
 * Returns the exit reason, or -1 on an engine error. */
static inline int emu_h_run(struct emu_h *h, const void *code, size_t len,
                            struct x86_cpu_state *s)
{
    memcpy(h->ram + EMU_H_CODE, code, len);
    if (h->ops->set_state(h->vcpu, s) < 0)
        return -1;
    for (unsigned i = 0; i < 1000000; i++) {
        if (h->ops->run(h->vcpu, &h->exit) < 0)
            return -1;
        if (h->exit.reason != VM_EXIT_INTR && h->exit.reason != VM_EXIT_NONE)
            break;
    }
    if (h->ops->get_state(h->vcpu, s) < 0)
        return -1;
    return (int)h->exit.reason;
}

/* After VM_EXIT_HLT: the exception vector whose stub halted, or -1 if the
 * hlt was not one of the stubs (the test's own hlt). */
static inline int emu_h_vector(const struct x86_cpu_state *s)
{
    if (s->rip > EMU_H_STUBS && s->rip <= EMU_H_STUBS + 32 * 16 && (s->rip - 1) % 16 == 0)
        return (int)((s->rip - 1 - EMU_H_STUBS) / 16);
    return -1;
}

#endif
