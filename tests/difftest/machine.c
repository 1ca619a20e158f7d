/* The guest every case runs in, on any engine: identity-mapped 4-level
 * paging with 4 KiB pages (user pages for code and data, supervisor pages
 * for the system structures), a GDT in Linux's layout, a 64-bit TSS whose
 * RSP0 is the CPL0 stack, and an IDT whose first 32 vectors go to CPL0 stubs
 * that only halt. A case starts in 64-bit mode at CPL3 through set_state
 * and ends at the first exception: the stub's HLT exits to user space
 * (VM_EXIT_HLT on every engine), RIP tells the vector and the frame on the
 * CPL0 stack (SDM Vol. 3A 6.14.2) the CPL3 RIP, CS, RFLAGS, RSP and SS.
 * CPL0 work is two instructions (delivery and HLT) because KVM on this
 * project's machines emulates CPL0 (DESIGN.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "difftest.h"
#include "host/host.h"

#define RUN_TIMEOUT_NS (3ull * 1000 * 1000 * 1000)

struct dt_machine {
    const struct engine_ops *ops;
    struct engine_vm *vm;
    struct engine_vcpu *cpu;
    uint8_t *mem;
    struct x86_cpu_state tmpl;
    struct vm_exit exit;
    /* watchdog: kicks a run() that takes longer than RUN_TIMEOUT_NS */
    struct host_thread *wd;
    struct host_mutex *lock;
    struct host_cond *cond;
    uint64_t deadline;
    int stop, timed_out;
};

static void watchdog(void *arg)
{
    struct dt_machine *m = arg;
    host_mutex_lock(m->lock);
    while (!m->stop) {
        uint64_t now = host_time_ns();
        if (m->deadline && now >= m->deadline) {
            m->timed_out = 1;
            m->deadline = 0;
            m->ops->kick(m->cpu);
        }
        host_cond_wait_until(m->cond, m->lock, now + 20 * 1000 * 1000);
    }
    host_mutex_unlock(m->lock);
}

/* ---- the guest's system structures ---- */

static void put64(uint8_t *mem, uint32_t at, uint64_t v)
{
    memcpy(mem + at, &v, 8);
}

static void build_paging(uint8_t *mem)
{
    const uint64_t P = 1, W = 2, U = 4, A = 0x20, D = 0x40, NX = 1ull << 63;
    const uint32_t pdpt = DT_PML4 + 0x1000, pd = DT_PML4 + 0x2000, pt = DT_PML4 + 0x3000;

    put64(mem, DT_PML4, pdpt | P | W | U | A);
    put64(mem, pdpt, pd | P | W | U | A);
    put64(mem, pd, pt | P | W | U | A);
    /* A and D preset everywhere: nothing in the tables changes during a
     * case, so hardware and emu cannot differ in when they set them. */
    for (uint32_t page = 0; page < 512; page++) {
        uint32_t a = page << 12;
        uint64_t e = 0;
        if (a >= 0x1000 && a < DT_PML4 + 0x4000)
            e = a | P | W | A | D | NX;
        else if (a >= DT_CODE && a < DT_CODE + DT_CODE_SIZE)
            e = a | P | U | A | D;
        else if (a == DT_SUPER)
            e = a | P | W | A | D | NX;
        else if (a >= DT_DATA && a < DT_RO)
            e = a | P | W | U | A | D | NX;
        else if (a == DT_RO)
            e = a | P | U | A | D | NX;
        if (a == DT_STUBS)
            e &= ~NX;
        put64(mem, pt + page * 8, e);
    }
}

static void build_tables(uint8_t *mem)
{
    static const uint64_t gdt[] = {
        0,
        0x00cf9a000000ffffull, /* 08: kernel code32 */
        0x00af9a000000ffffull, /* 10: kernel code64 */
        0x00cf92000000ffffull, /* 18: kernel data */
        0x00cffa000000ffffull, /* 23: user code32 */
        0x00cff2000000ffffull, /* 2b: user data */
        0x00affa000000ffffull, /* 33: user code64 */
        0,
    };
    memcpy(mem + DT_GDT, gdt, sizeof(gdt));
    /* 40: the 64-bit TSS (busy), base DT_TSS, limit 0x67 */
    uint64_t lo = 0x67 | ((uint64_t)(DT_TSS & 0xffffff) << 16) | (0x8bull << 40) |
                  ((uint64_t)(DT_TSS >> 24) << 56);
    put64(mem, DT_GDT + DT_SEL_TSS, lo);
    put64(mem, DT_GDT + DT_SEL_TSS + 8, 0);
    /* TSS: RSP0; the I/O map base past the limit (no bitmap: IN/OUT #GP) */
    memset(mem + DT_TSS, 0, 0x68);
    put64(mem, DT_TSS + 4, DT_KSTACK_TOP);
    uint16_t iomap = 0x68;
    memcpy(mem + DT_TSS + 0x66, &iomap, 2);
    /* IDT: interrupt gates to the stubs; DPL 3 for INT3 (vector 3). */
    for (unsigned v = 0; v < DT_NVEC; v++) {
        uint64_t h = DT_STUBS + 16 * v;
        uint64_t dpl = v == 3 ? 3 : 0;
        uint64_t g0 = (h & 0xffff) | ((uint64_t)DT_SEL_KCODE << 16) |
                      ((0x8eull | (dpl << 5)) << 40) | ((h >> 16 & 0xffff) << 48);
        put64(mem, DT_IDT + 16 * v, g0);
        put64(mem, DT_IDT + 16 * v + 8, h >> 32);
        /* stub: hlt; jmp hlt */
        static const uint8_t stub[] = {0xf4, 0xeb, 0xfd};
        memcpy(mem + DT_STUBS + 16 * v, stub, sizeof(stub));
    }
}

static void seg(struct x86_segment *s, uint16_t sel, uint8_t type, uint8_t dpl, uint8_t l,
                uint8_t db, uint64_t base)
{
    *s = (struct x86_segment){base, 0xffffffff, sel, type, 1, dpl, 1, 0, l, db, 1, 0};
}

static void build_template(struct x86_cpu_state *s)
{
    x86_cpu_state_reset(s);
    /* PG AM WP NE ET MP PE. AM: under kvm_pvm the host's CR0.AM applies to
     * guest CPL3 code (RFLAGS.AC=1 raised #AC with the guest's AM clear), so
     * the guest sets it too and both engines check alignment. */
    s->cr0 = 0x80050033;
    s->cr3 = DT_PML4;
    s->cr4 = 0x620;      /* OSXMMEXCPT OSFXSR PAE */
    s->msr.efer = 0xd00; /* NXE LMA LME */
    seg(&s->seg[X86_CS], DT_SEL_UCODE, 0xb, 3, 1, 0, 0);
    seg(&s->seg[X86_SS], DT_SEL_UDATA, 0x3, 3, 0, 1, 0);
    /* DS, ES, FS, GS hold the null selector, as in a 64-bit Linux process:
     * kvm_pvm runs guest CPL3 with them null whatever the guest set (MOV
     * from DS/ES/FS/GS and PUSH FS/GS read 0 there), and in 64-bit mode a
     * null data selector still reaches memory (FS/GS through their bases). */
    seg(&s->seg[X86_DS], 0, 0x3, 3, 0, 1, 0);
    seg(&s->seg[X86_ES], 0, 0x3, 3, 0, 1, 0);
    seg(&s->seg[X86_FS], 0, 0x3, 3, 0, 1, DT_FS_BASE);
    seg(&s->seg[X86_GS], 0, 0x3, 3, 0, 1, DT_GS_BASE);
    s->seg[X86_TR] = (struct x86_segment){DT_TSS, 0x67, DT_SEL_TSS, 0xb, 0, 0, 1, 0, 0, 0, 0, 0};
    s->seg[X86_LDTR] = (struct x86_segment){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    s->gdtr = (struct x86_dtable){DT_GDT, 0x4f};
    s->idtr = (struct x86_dtable){DT_IDT, DT_NVEC * 16 - 1};
}

/* ---- memory contents ---- */

void dt_mem_fill(uint64_t seed, uint8_t *mem)
{
    struct dt_rng r = {seed};
    for (unsigned i = 0; i < DT_CMP_SIZE; i += 8) {
        uint64_t v = dt_chance(&r, 2) ? dt_edge64(&r) : dt_rand(&r);
        memcpy(mem + i, &v, 8);
    }
}

/* ---- life cycle ---- */

int dt_machine_create(struct dt_machine **out, const char *engine, char *why, size_t why_len)
{
    struct engine_vm_config cfg = {1, cpu_model_default()};
    const struct engine_ops *ops = engine_find(engine);
    struct dt_machine *m;

    *out = NULL;
    if (!ops) {
        snprintf(why, why_len, "%s engine not built", engine);
        return -1;
    }
    if (ops->probe() < 0) {
        snprintf(why, why_len, "%s engine unavailable: %s", engine, err_msg());
        return -1;
    }
    m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    m->ops = ops;
    if (host_mem_alloc(DT_RAM_SIZE, (void **)&m->mem) < 0) {
        m->mem = NULL;
        goto fail;
    }
    if (ops->create_vm(&cfg, &m->vm) < 0) {
        m->vm = NULL;
        goto fail;
    }
    if (ops->set_memory_region(m->vm, 0, 0, DT_RAM_SIZE, m->mem, 0) < 0 ||
        ops->create_vcpu(m->vm, 0, &m->cpu) < 0) {
        m->cpu = NULL;
        goto fail;
    }
    if (host_mutex_create(&m->lock) < 0 || host_cond_create(&m->cond) < 0 ||
        host_thread_create(&m->wd, watchdog, m, "difftest-wd") < 0) {
        m->wd = NULL;
        goto fail;
    }
    build_paging(m->mem);
    build_tables(m->mem);
    build_template(&m->tmpl);
    *out = m;
    return 0;
fail:
    snprintf(why, why_len, "setting up a %s VM failed: %s", engine, err_msg());
    dt_machine_destroy(m);
    return -1;
}

void dt_machine_destroy(struct dt_machine *m)
{
    if (!m)
        return;
    if (m->wd) {
        host_mutex_lock(m->lock);
        m->stop = 1;
        host_cond_signal(m->cond);
        host_mutex_unlock(m->lock);
        host_thread_join(m->wd);
    }
    if (m->cond)
        host_cond_destroy(m->cond);
    if (m->lock)
        host_mutex_destroy(m->lock);
    if (m->cpu)
        m->ops->destroy_vcpu(m->cpu);
    if (m->vm)
        m->ops->destroy_vm(m->vm);
    if (m->mem)
        host_mem_release(m->mem, DT_RAM_SIZE);
    free(m);
}

const char *dt_machine_engine(const struct dt_machine *m)
{
    return m->ops->name;
}

/* ---- running a case ---- */

static bool has_error_code(unsigned v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

static int run_once(struct dt_machine *m, int *timed_out)
{
    host_mutex_lock(m->lock);
    m->deadline = host_time_ns() + RUN_TIMEOUT_NS;
    m->timed_out = 0;
    host_mutex_unlock(m->lock);
    int rc = m->ops->run(m->cpu, &m->exit);
    host_mutex_lock(m->lock);
    m->deadline = 0;
    *timed_out = m->timed_out;
    host_mutex_unlock(m->lock);
    return rc;
}

void dt_machine_run(struct dt_machine *m, const struct dt_case *c, struct dt_outcome *o)
{
    struct x86_cpu_state s = m->tmpl;
    int timed_out = 0;

    memset(o, 0, offsetof(struct dt_outcome, mem));
    o->vector = -1;
    /* code (the rest of the code pages: INT3), compared memory */
    memcpy(m->mem + DT_CODE, c->code, c->code_len);
    memset(m->mem + DT_CODE + c->code_len, 0xcc, DT_CODE_SIZE - c->code_len);
    dt_mem_fill(c->mem_seed, m->mem + DT_CMP);

    memcpy(s.gpr, c->gpr, sizeof(s.gpr));
    s.rip = DT_CODE;
    s.rflags = c->rflags;
    s.fpu.fcw = c->fpu.fcw;
    s.fpu.fsw = c->fpu.fsw;
    s.fpu.ftw = c->fpu.ftw;
    memcpy(s.fpu.st, c->fpu.st, sizeof(s.fpu.st));
    memcpy(s.fpu.xmm, c->fpu.xmm, sizeof(s.fpu.xmm));
    s.fpu.mxcsr = c->fpu.mxcsr;
    if (m->ops->set_state(m->cpu, &s) < 0) {
        o->exit = VM_EXIT_INTERNAL;
        snprintf(o->desc, sizeof(o->desc), "set_state: %s", err_msg());
        return;
    }
    for (;;) {
        if (run_once(m, &timed_out) < 0) {
            o->exit = VM_EXIT_INTERNAL;
            snprintf(o->desc, sizeof(o->desc), "run: %s", err_msg());
            return;
        }
        if (m->exit.reason == VM_EXIT_INTR && !timed_out)
            continue; /* a stray kick */
        break;
    }
    o->exit = m->exit.reason;
    if (m->exit.reason == VM_EXIT_INTERNAL)
        snprintf(o->desc, sizeof(o->desc), "%s", m->exit.u.internal.desc);
    if (m->ops->get_state(m->cpu, &s) < 0) {
        o->exit = VM_EXIT_INTERNAL;
        snprintf(o->desc, sizeof(o->desc), "get_state: %s", err_msg());
        return;
    }
    memcpy(o->gpr, s.gpr, sizeof(o->gpr));
    o->fpu = s.fpu;
    o->cr2 = s.cr2;
    o->ksp = s.gpr[X86_RSP];
    o->rip = s.rip;
    o->rflags = s.rflags;
    memcpy(o->mem, m->mem + DT_CMP, DT_CMP_SIZE);
    if (m->exit.reason != VM_EXIT_HLT)
        return;
    uint64_t off = s.rip - 1 - DT_STUBS;
    if (s.rip < DT_STUBS + 1 || off % 16 || off / 16 >= DT_NVEC)
        return;
    o->vector = (int)(off / 16);
    /* the frame: [error code], RIP, CS, RFLAGS, RSP, SS */
    uint64_t sp = s.gpr[X86_RSP], f[6] = {0};
    if (sp < DT_KSTACK_TOP - 0x1000 || sp > DT_KSTACK_TOP - 40) {
        snprintf(o->desc, sizeof(o->desc), "CPL0 stack pointer 0x%llx out of range",
                 (unsigned long long)sp);
        o->vector = -1;
        return;
    }
    memcpy(f, m->mem + sp, sizeof(f));
    unsigned i = 0;
    if (has_error_code((unsigned)o->vector))
        o->err = f[i++];
    o->rip = f[i];
    o->cs = f[i + 1];
    o->rflags = f[i + 2];
    o->rsp = f[i + 3];
    o->ss = f[i + 4];
    o->gpr[X86_RSP] = o->rsp;
}
