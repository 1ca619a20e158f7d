/* The software engine (DESIGN.md, "Engines", emu): an x86-64 interpreter
 * behind the engine ops table. This file: VM and vCPU lifetime, memory
 * slots and the dirty log, the run loop (events between instructions,
 * kicks, I/O exits) and conversion to and from the canonical CPU state.
 * Event priorities between instructions follow SDM Vol. 3A 7.9: NMI before
 * maskable interrupts, both held by the STI/MOV SS shadow (NMI only by
 * MOV SS). No OS headers: the host API gives time and nothing else. */
#include <stdio.h>
#include <stdlib.h>

#include "emu.h"
#include "host/host.h"
#include "x87.h"

static int emu_probe(void)
{
    return 0;
}

static int emu_create_vm(const struct engine_vm_config *cfg, struct engine_vm **out)
{
    if (cfg->ncpus == 0 || cfg->ncpus > EMU_MAX_VCPUS)
        return err_set(-EINVAL, "emu: %u vCPUs (1 to %u)", cfg->ncpus, EMU_MAX_VCPUS);
    struct engine_vm *vm = calloc(1, sizeof(*vm));
    if (!vm)
        return err_set(-ENOMEM, "emu: out of memory");
    int rc = host_mutex_create(&vm->tsc_lock);
    if (rc < 0) {
        free(vm);
        return rc;
    }
    vm->ncpus = cfg->ncpus;
    vm->model = cfg->model;
    const char *t = getenv("ROAM_EMU_TRACE");
    vm->trace = t && t[0] == '1';
    *out = vm;
    return 0;
}

static void emu_slot_free(struct emu_slot *s)
{
    free(s->dirty);
    free(s->gen);
    free(s->code);
    memset(s, 0, sizeof(*s));
}

static void emu_flush_all_vcpus(struct engine_vm *vm)
{
    for (unsigned i = 0; i < vm->ncpus; i++)
        if (vm->vcpu[i]) {
            emu_tlb_flush(&vm->vcpu[i]->cpu, true);
            emu_icache_flush(&vm->vcpu[i]->cpu);
        }
}

static void emu_flush_writes_and_wait(struct engine_vm *vm);

static int emu_set_memory_region(struct engine_vm *vm, unsigned slot, uint64_t gpa,
                                 uint64_t size, void *hva, unsigned flags)
{
    if (slot >= EMU_MAX_SLOTS)
        return err_set(-EINVAL, "emu: memory slot %u (0 to %u)", slot, EMU_MAX_SLOTS - 1);
    if ((gpa | size) & 0xfff)
        return err_set(-EINVAL, "emu: memory region not page-aligned");
    struct emu_slot *s = &vm->slot[slot];
    uint64_t pages = size >> 12;

    /* Same region, new flags (migration turning dirty logging on or off
     * while vCPUs run): keep the arrays vCPUs may be using. */
    if (s->used && s->gpa == gpa && s->size == size && s->hva == hva) {
        if ((flags & ENGINE_MEM_DIRTY_LOG) && !s->dirty) {
            uint64_t *bm = calloc((pages + 63) / 64, sizeof(uint64_t));
            if (!bm)
                return err_set(-ENOMEM, "emu: out of memory for slot %u's dirty log", slot);
            __atomic_store_n(&s->dirty, bm, __ATOMIC_SEQ_CST);
            /* Write TLB entries made before now did not mark pages. */
            emu_flush_writes_and_wait(vm);
        } else if ((flags & ENGINE_MEM_DIRTY_LOG) && s->dirty) {
            memset(s->dirty, 0, (pages + 63) / 64 * sizeof(uint64_t));
            emu_flush_writes_and_wait(vm);
        }
        /* Turning logging off keeps the bitmap (freed with the slot): a
         * vCPU may be setting a bit in it right now. */
        return 0;
    }
    emu_slot_free(s);
    if (size) {
        s->gen = calloc(pages, sizeof(*s->gen));
        s->code = calloc(pages, 1);
        if (flags & ENGINE_MEM_DIRTY_LOG)
            s->dirty = calloc((pages + 63) / 64, sizeof(uint64_t));
        if (!s->gen || !s->code || ((flags & ENGINE_MEM_DIRTY_LOG) && !s->dirty)) {
            emu_slot_free(s);
            return err_set(-ENOMEM, "emu: out of memory for slot %u", slot);
        }
        s->gpa = gpa;
        s->size = size;
        s->hva = hva;
        s->used = true;
    }
    emu_flush_all_vcpus(vm);
    return 0;
}

/* Drops this vCPU's write TLB entries if a flush was asked for since the
 * last look (dirty log read, another vCPU's new code page). */
static void emu_flush_check(struct engine_vcpu *v)
{
    uint32_t gen = __atomic_load_n(&v->cpu.vm->tlb_flush_gen, __ATOMIC_SEQ_CST);
    if (gen != v->cpu.flush_seen) {
        for (unsigned i = 0; i < EMU_TLB_SIZE; i++)
            v->cpu.tlb.e[EMU_WRITE][i].tag = EMU_TLB_INVALID;
        __atomic_store_n(&v->cpu.flush_seen, gen, __ATOMIC_SEQ_CST);
    }
}

static int emu_dirty_log(struct engine_vm *vm, unsigned slot, uint64_t *bitmap)
{
    if (slot >= EMU_MAX_SLOTS || !vm->slot[slot].used || !vm->slot[slot].dirty)
        return err_set(-EINVAL, "emu: slot %u has no dirty log", slot);
    struct emu_slot *s = &vm->slot[slot];
    uint64_t words = ((s->size >> 12) + 63) / 64;
    for (uint64_t i = 0; i < words; i++)
        bitmap[i] = __atomic_exchange_n(&s->dirty[i], 0, __ATOMIC_SEQ_CST);
    /* Every running vCPU drops its write entries before we return: a store
     * through an entry made before the exchange would not mark the page. */
    emu_flush_writes_and_wait(vm);
    return 0;
}

/* Makes every vCPU drop its write TLB entries, and waits for those running
 * guest code to do it (they look between blocks of instructions). */
static void emu_flush_writes_and_wait(struct engine_vm *vm)
{
    uint32_t gen = __atomic_add_fetch(&vm->tlb_flush_gen, 1, __ATOMIC_SEQ_CST);
    for (unsigned i = 0; i < vm->ncpus; i++) {
        struct engine_vcpu *v = vm->vcpu[i];
        if (!v)
            continue;
        __atomic_store_n(&v->attention, 1, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&v->in_run, __ATOMIC_SEQ_CST) &&
               (int32_t)(__atomic_load_n(&v->cpu.flush_seen, __ATOMIC_SEQ_CST) - gen) < 0)
            host_sleep_ns(20000);
    }
}

/* ---- state conversion ---- */

static void emu_state_out(struct engine_vcpu *v, struct x86_cpu_state *s)
{
    struct emu_cpu *cpu = &v->cpu;

    memset(s, 0, sizeof(*s));
    memcpy(s->gpr, cpu->gpr, sizeof(s->gpr));
    s->rip = cpu->rip;
    s->rflags = emu_flags_get(cpu);
    memcpy(s->seg, cpu->seg, sizeof(s->seg));
    s->gdtr = cpu->gdtr;
    s->idtr = cpu->idtr;
    s->cr0 = cpu->cr0;
    s->cr2 = cpu->cr2;
    s->cr3 = cpu->cr3;
    s->cr4 = cpu->cr4;
    s->cr8 = cpu->cr8;
    memcpy(s->dr, cpu->dr, sizeof(s->dr));
    s->dr6 = cpu->dr6;
    s->dr7 = cpu->dr7;
    s->msr = cpu->msr;
    x87_to_fxsave(&cpu->fpu, &s->fpu);
    s->events.interrupt_shadow = cpu->shadow;
    s->events.nmi_masked = cpu->nmi_masked;
    s->events.nmi_pending = cpu->nmi_pending;
    if (cpu->intr_pending >= 0) {
        s->events.interrupt_injected = 1;
        s->events.interrupt_nr = (uint8_t)cpu->intr_pending;
    }
    s->tsc = emu_tsc_read(cpu);
}

static void emu_state_in(struct engine_vcpu *v, const struct x86_cpu_state *s)
{
    struct emu_cpu *cpu = &v->cpu;

    memcpy(cpu->gpr, s->gpr, sizeof(cpu->gpr));
    cpu->rip = cpu->next_rip = s->rip;
    emu_flags_load(cpu, s->rflags);
    memcpy(cpu->seg, s->seg, sizeof(cpu->seg));
    cpu->gdtr = s->gdtr;
    cpu->idtr = s->idtr;
    cpu->cr0 = s->cr0;
    cpu->cr2 = s->cr2;
    cpu->cr3 = s->cr3;
    cpu->cr4 = s->cr4;
    cpu->cr8 = s->cr8;
    memcpy(cpu->dr, s->dr, sizeof(cpu->dr));
    cpu->dr6 = s->dr6;
    cpu->dr7 = s->dr7;
    cpu->msr = s->msr;
    x87_from_fxsave(&cpu->fpu, &s->fpu);
    cpu->shadow = s->events.interrupt_shadow;
    cpu->shadow_next = 0;
    cpu->nmi_masked = s->events.nmi_masked;
    cpu->nmi_pending = s->events.nmi_pending || s->events.nmi_injected;
    cpu->intr_pending = s->events.interrupt_injected && !s->events.interrupt_soft
                            ? s->events.interrupt_nr : -1;
    emu_tsc_set(cpu, s->tsc);
    cpu->io_ndone = cpu->io_used = 0;
    cpu->io_nwq = cpu->io_wq_head = 0;
    cpu->io_read_pending = 0;
    v->pending_io = 0;
    emu_mode_update(cpu);
    emu_tlb_flush(cpu, true);
    emu_icache_flush(cpu);
}

static int emu_create_vcpu(struct engine_vm *vm, unsigned index, struct engine_vcpu **out)
{
    if (index >= vm->ncpus)
        return err_set(-EINVAL, "emu: vCPU %u of %u", index, vm->ncpus);
    struct engine_vcpu *v = calloc(1, sizeof(*v));
    struct emu_icache_entry *ic = calloc(EMU_ICACHE_SIZE, sizeof(*ic));
    struct emu_block *bl = calloc(EMU_BLOCK_CACHE, sizeof(*bl));
    struct emu_insn *ba = calloc(EMU_BLOCK_ARENA, sizeof(*ba));
    if (!v || !ic || !bl || !ba) {
        free(v);
        free(ic);
        free(bl);
        free(ba);
        return err_set(-ENOMEM, "emu: out of memory for vCPU %u", index);
    }
    v->index = index;
    v->cpu.vm = vm;
    v->cpu.icache = ic;
    v->cpu.blocks = bl;
    v->cpu.block_arena = ba;
    v->cpu.trace = vm->trace;
    v->cpu.fetch_tag = EMU_TLB_INVALID;
    v->cpu.apic_id = index;
    v->cpu.ncpuid = cpu_model_cpuid(vm->model, index, vm->ncpus, v->cpu.cpuid,
                                    CPU_MODEL_MAX_CPUID);
    struct x86_cpu_state s;
    x86_cpu_state_reset(&s);
    emu_state_in(v, &s);
    vm->vcpu[index] = v;
    *out = v;
    return 0;
}

/* ---- run loop ---- */

/* Reports the next queued I/O write as an exit; false if none is queued. */
static bool emu_report_write(struct engine_vcpu *v, struct vm_exit *exit)
{
    struct emu_cpu *cpu = &v->cpu;

    if (cpu->io_wq_head >= cpu->io_nwq) {
        cpu->io_wq_head = cpu->io_nwq = 0;
        return false;
    }
    struct emu_io_rec *r = &cpu->io_wq[cpu->io_wq_head++];
    if (r->kind == EMU_IO_PIO) {
        exit->reason = VM_EXIT_PIO;
        exit->u.pio.port = (uint16_t)r->addr;
        exit->u.pio.size = r->size;
        exit->u.pio.is_write = 1;
        exit->u.pio.count = 1;
        memcpy(cpu->pio_buf, r->data, 8);
        exit->u.pio.data = cpu->pio_buf;
    } else {
        exit->reason = VM_EXIT_MMIO;
        exit->u.mmio.gpa = r->addr;
        exit->u.mmio.size = r->size;
        exit->u.mmio.is_write = 1;
        memcpy(exit->u.mmio.data, r->data, 8);
    }
    if (cpu->io_wq_head >= cpu->io_nwq)
        cpu->io_wq_head = cpu->io_nwq = 0;
    return true;
}

static void emu_report_read(struct engine_vcpu *v, struct vm_exit *exit)
{
    struct emu_cpu *cpu = &v->cpu;
    struct emu_io_rec *r = &cpu->io_req;

    switch (r->kind) {
    case EMU_IO_PIO:
        exit->reason = VM_EXIT_PIO;
        exit->u.pio.port = (uint16_t)r->addr;
        exit->u.pio.size = r->size;
        exit->u.pio.is_write = 0;
        exit->u.pio.count = 1;
        memset(cpu->pio_buf, 0, sizeof(cpu->pio_buf));
        exit->u.pio.data = cpu->pio_buf;
        break;
    case EMU_IO_MMIO:
        exit->reason = VM_EXIT_MMIO;
        exit->u.mmio.gpa = r->addr;
        exit->u.mmio.size = r->size;
        exit->u.mmio.is_write = 0;
        memset(exit->u.mmio.data, 0, 8);
        break;
    default:
        exit->reason = r->kind == EMU_IO_MSR_READ ? VM_EXIT_MSR_READ : VM_EXIT_MSR_WRITE;
        exit->u.msr.index = (uint32_t)r->addr;
        memcpy(&exit->u.msr.data, r->data, 8);
        exit->u.msr.error = 0;
        break;
    }
    v->pending_io = 1;
    v->last_exit = exit;
}

/* Takes the core's answer to the last read exit into the replay log. */
static void emu_complete_io(struct engine_vcpu *v)
{
    struct emu_cpu *cpu = &v->cpu;
    struct vm_exit *e = v->last_exit;
    struct emu_io_rec *r = &cpu->io_done[cpu->io_ndone++];

    *r = cpu->io_req;
    memset(r->data, 0, 8);
    if (r->kind == EMU_IO_PIO)
        memcpy(r->data, cpu->pio_buf, r->size);
    else if (r->kind == EMU_IO_MMIO)
        memcpy(r->data, e->u.mmio.data, r->size);
    else {
        memcpy(r->data, &e->u.msr.data, 8);
        r->error = e->u.msr.error;
    }
    cpu->io_used = 0;
    cpu->io_read_pending = 0;
    v->pending_io = 0;
}

static void emu_internal(struct vm_exit *exit, const char *fmt, const char *what, uint64_t at)
{
    exit->reason = VM_EXIT_INTERNAL;
    snprintf(exit->u.internal.desc, sizeof(exit->u.internal.desc), fmt, what,
             (unsigned long long)at);
}

/* Acts on a step's result; true when run() must return with *exit. */
static bool emu_after_step(struct engine_vcpu *v, int rc, struct vm_exit *exit)
{
    struct emu_cpu *cpu = &v->cpu;

    switch (rc) {
    case EMU_OK:
        cpu->io_ndone = cpu->io_used = 0;
        return emu_report_write(v, exit);
    case EMU_HLT:
        cpu->io_ndone = cpu->io_used = 0;
        if (emu_report_write(v, exit))
            return true;
        exit->reason = VM_EXIT_HLT;
        return true;
    case EMU_EXIT:
        cpu->io_nwq = cpu->io_wq_head = 0; /* the instruction runs again */
        if (!cpu->io_read_pending) {
            emu_internal(exit, "emu: %s at rip 0x%llx", "I/O exit without a request", cpu->rip);
            return true;
        }
        emu_report_read(v, exit);
        return true;
    case EMU_FAULT:
        if (cpu->vm->trace)
            fprintf(stderr, "emu: vCPU %u: exception %u (error 0x%x) at rip 0x%llx\n", v->index,
                    cpu->exc.vector, cpu->exc.error, (unsigned long long)cpu->rip);
        cpu->io_ndone = cpu->io_used = 0;
        cpu->io_nwq = cpu->io_wq_head = 0;
        cpu->io_read_pending = 0;
        rc = emu_deliver_fault(cpu);
        cpu->shadow = 0; /* the handler's first instruction is not shadowed */
        if (rc < 0) {
            exit->reason = VM_EXIT_SHUTDOWN;
            return true;
        }
        if (rc == EMU_STOP) {
            emu_internal(exit, "emu: %s (rip 0x%llx)", cpu->stop_reason, cpu->rip);
            return true;
        }
        if (rc != EMU_OK) {
            emu_internal(exit, "emu: %s at rip 0x%llx", "event delivery touched MMIO", cpu->rip);
            return true;
        }
        return false;
    default:
        emu_internal(exit, "emu: %s (rip 0x%llx)", cpu->stop_reason, cpu->rip);
        return true;
    }
}

/* Delivers a pending NMI or external interrupt, or reports the interrupt
 * window; true when run() must return. */
static bool emu_events(struct engine_vcpu *v, struct vm_exit *exit)
{
    struct emu_cpu *cpu = &v->cpu;
    int rc;

    if (cpu->nmi_pending && !cpu->nmi_masked && !(cpu->shadow & X86_SHADOW_MOV_SS)) {
        cpu->nmi_pending = 0;
        cpu->nmi_masked = 1;
        rc = emu_deliver(cpu, EMU_NMI, EMU_EV_NMI, false, 0, cpu->rip);
        cpu->shadow = 0;
        return rc != EMU_OK && emu_after_step(v, rc, exit);
    }
    if (cpu->shadow || !(cpu->rflags & EMU_IF))
        return false;
    if (cpu->intr_pending >= 0) {
        unsigned vec = (unsigned)cpu->intr_pending;
        cpu->intr_pending = -1;
        rc = emu_deliver(cpu, vec, EMU_EV_EXT, false, 0, cpu->rip);
        cpu->shadow = 0;
        return rc != EMU_OK && emu_after_step(v, rc, exit);
    }
    if (cpu->irq_window) {
        exit->reason = VM_EXIT_IRQ_WINDOW;
        return true;
    }
    return false;
}

static int emu_run(struct engine_vcpu *v, struct vm_exit *exit)
{
    struct emu_cpu *cpu = &v->cpu;

    exit->reason = VM_EXIT_NONE;
    __atomic_store_n(&v->in_run, 1, __ATOMIC_SEQ_CST);
    emu_flush_check(v);
    if (v->has_stash) {
        *exit = v->stash;
        if (exit->reason == VM_EXIT_PIO)
            exit->u.pio.data = cpu->pio_buf;
        v->last_exit = exit;
        v->has_stash = 0;
        goto out;
    }
    if (v->pending_io)
        emu_complete_io(v);
    if (emu_report_write(v, exit))
        goto out;
    /* An instruction waiting for I/O data runs before any event. */
    if (cpu->io_ndone && emu_after_step(v, emu_step(cpu), exit))
        goto out;
    for (;;) {
        if (__atomic_load_n(&v->attention, __ATOMIC_RELAXED)) {
            __atomic_store_n(&v->attention, 0, __ATOMIC_SEQ_CST);
            emu_flush_check(v);
            cpu->fetch_tag = EMU_TLB_INVALID; /* another vCPU may have written code */
            if (__atomic_exchange_n(&v->kicked, 0, __ATOMIC_SEQ_CST)) {
                exit->reason = VM_EXIT_INTR;
                break;
            }
        }
        if ((cpu->nmi_pending || cpu->intr_pending >= 0 || cpu->irq_window) &&
            emu_events(v, exit))
            break;
        int rc = emu_step_many(cpu, &v->attention);
        if (rc == EMU_OK && !cpu->io_nwq && !cpu->io_ndone)
            continue;
        if (emu_after_step(v, rc, exit))
            break;
    }
out:
    __atomic_store_n(&v->in_run, 0, __ATOMIC_SEQ_CST);
    return 0;
}

static void emu_kick(struct engine_vcpu *v)
{
    __atomic_store_n(&v->kicked, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&v->attention, 1, __ATOMIC_SEQ_CST);
}

/* Finishes the instruction behind the last read exit (see engine.h). */
static int emu_finish_pending(struct engine_vcpu *v)
{
    struct emu_cpu *cpu = &v->cpu;
    struct vm_exit tmp;

    if (v->has_stash)
        return err_set(-EBUSY, "emu: vCPU %u is inside an I/O instruction: run() it until "
                               "VM_EXIT_INTR first", v->index);
    if (v->pending_io) {
        struct vm_exit *keep = v->last_exit;
        emu_complete_io(v);
        memset(&tmp, 0, sizeof(tmp));
        if (emu_after_step(v, emu_step(cpu), &tmp)) {
            if (tmp.reason == VM_EXIT_INTERNAL)
                return err_set(-EIO, "%s", tmp.u.internal.desc);
            /* Another exit: kept for run(); the caller must run first. */
            if (v->pending_io) {
                v->stash = tmp;
                v->has_stash = 1;
                v->last_exit = keep;
            } else if (tmp.reason == VM_EXIT_PIO || tmp.reason == VM_EXIT_MMIO) {
                cpu->io_wq_head = 0; /* report the write again from run() */
            }
            return err_set(-EBUSY, "emu: vCPU %u is inside an I/O instruction: run() it "
                                   "until VM_EXIT_INTR first", v->index);
        }
    }
    if (cpu->io_nwq > cpu->io_wq_head)
        return err_set(-EBUSY, "emu: vCPU %u has I/O writes to report: run() it first",
                       v->index);
    return 0;
}

static int emu_get_state(struct engine_vcpu *v, struct x86_cpu_state *s)
{
    int rc = emu_finish_pending(v);
    if (rc < 0)
        return rc;
    emu_state_out(v, s);
    return 0;
}

static int emu_set_state(struct engine_vcpu *v, const struct x86_cpu_state *s)
{
    int rc = emu_finish_pending(v);
    if (rc < 0)
        return rc;
    emu_state_in(v, s);
    return 0;
}

static bool emu_interrupt_ready(struct engine_vcpu *v)
{
    const struct emu_cpu *cpu = &v->cpu;
    return (cpu->rflags & EMU_IF) && !cpu->shadow && cpu->intr_pending < 0 && !v->pending_io;
}

static void emu_request_interrupt_window(struct engine_vcpu *v, bool on)
{
    v->cpu.irq_window = on;
}

static int emu_inject(struct engine_vcpu *v, enum engine_event_type type, uint8_t vector)
{
    if (type == ENGINE_EVENT_NMI) {
        v->cpu.nmi_pending = 1;
        return 0;
    }
    if (v->cpu.intr_pending >= 0)
        return err_set(-EBUSY, "emu: vCPU %u already has interrupt %d pending", v->index,
                       v->cpu.intr_pending);
    v->cpu.intr_pending = vector;
    return 0;
}

static uint64_t emu_tsc_hz(struct engine_vcpu *v)
{
    return v->cpu.vm->model->tsc_hz;
}

static void emu_destroy_vcpu(struct engine_vcpu *v)
{
    if (!v)
        return;
    v->cpu.vm->vcpu[v->index] = NULL;
    free(v->cpu.icache);
    free(v->cpu.blocks);
    free(v->cpu.block_arena);
    free(v);
}

static void emu_destroy_vm(struct engine_vm *vm)
{
    if (!vm)
        return;
    for (unsigned i = 0; i < EMU_MAX_SLOTS; i++)
        emu_slot_free(&vm->slot[i]);
    host_mutex_destroy(vm->tsc_lock);
    free(vm);
}

const struct engine_ops emu_engine_ops = {
    .name = "emu",
    .probe = emu_probe,
    .create_vm = emu_create_vm,
    .create_vcpu = emu_create_vcpu,
    .set_memory_region = emu_set_memory_region,
    .run = emu_run,
    .kick = emu_kick,
    .get_state = emu_get_state,
    .set_state = emu_set_state,
    .dirty_log = emu_dirty_log,
    .interrupt_ready = emu_interrupt_ready,
    .request_interrupt_window = emu_request_interrupt_window,
    .inject = emu_inject,
    .tsc_hz = emu_tsc_hz,
    .clock_run = emu_tsc_run,
    .destroy_vcpu = emu_destroy_vcpu,
    .destroy_vm = emu_destroy_vm,
};
