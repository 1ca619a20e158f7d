/* VM lifecycle and the vCPU run loop. Each vCPU has one host thread that
 * alternates between the engine (guest code, vm->lock dropped) and exit
 * handling (vm->lock held). Pause is a handshake: every vCPU thread parks
 * outside the engine at the top of its loop, so a paused VM's CPU and
 * device state is consistent and can be read or replaced. */
#include "core/vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/acpi.h"
#include "boot/linux.h"
#include "boot/multiboot.h"
#include "boot/pvh.h"
#include "core/log.h"
#include "dev/lapic.h"

#define VM_THROTTLE_PERIOD_NS (10 * 1000 * 1000ull)
#define VM_THROTTLE_MAX 99u

static void vm_timer_rearm(void *opaque)
{
    struct vm *vm = opaque;
    host_cond_signal(vm->timer_cond);
}

int vm_select_engine(const char *name, bool ring0_kernel, const struct engine_ops **out,
                     char *note, size_t note_len)
{
    if (note_len)
        note[0] = 0;
    if (!name || strcmp(name, "auto") == 0) {
        char why[400] = "";
        for (unsigned i = 0; engine_list[i]; i++) {
            const char *caveat = NULL;
            if (ring0_kernel && engine_list[i + 1] && engine_list[i]->ring0_caveat &&
                (caveat = engine_list[i]->ring0_caveat()) != NULL) {
                snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%s: %s",
                         why[0] ? "; " : "", engine_list[i]->name, caveat);
                continue;
            }
            if (engine_list[i]->probe() == 0) {
                *out = engine_list[i];
                /* Say why a preferred engine was passed over. */
                if (why[0] && note_len)
                    snprintf(note, note_len, "(%s)", why);
                return 0;
            }
            snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%s: %s",
                     why[0] ? "; " : "", engine_list[i]->name, err_msg());
        }
        return err_set(-ENODEV, "no engine can run here (%s)", why[0] ? why : "none built in");
    }
    *out = engine_find(name);
    if (!*out) {
        char names[200] = "";
        for (unsigned i = 0; engine_list[i]; i++)
            snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                     names[0] ? ", " : "", engine_list[i]->name);
        return err_set(-EINVAL, "unknown engine '%s' (available: %s, auto)", name,
                       names[0] ? names : "none");
    }
    return (*out)->probe();
}

/* Reads a file the user named for the guest (NULL path: none). */
static int vm_read_input(const char *path, const char *what, void **data, size_t *len)
{
    int rc;

    *data = NULL;
    *len = 0;
    if (!path)
        return 0;
    rc = host_file_read_all(path, data, len);
    return rc < 0 ? err_wrap(rc, "cannot read %s", what) : 0;
}

/* The ACPI tables describe the devices of vm_devices.c; they go in the
 * BIOS area that the e820 map reserves. */
static int vm_build_acpi(struct vm *vm)
{
    struct acpi_config acfg = {vm->ncpus, vm_ioapic_id(vm)};
    uint8_t *area = gmem_ptr(&vm->mem, ACPI_BASE, ACPI_AREA_SIZE);

    if (!area)
        return err_set(-EINVAL, "guest RAM has no room for the ACPI tables at 0x%x",
                       ACPI_BASE);
    return acpi_build(area, ACPI_AREA_SIZE, &acfg, NULL);
}

/* A bzImage ("HdrS" at 0x202) goes through the Linux boot protocol, an ELF
 * kernel with a PVH entry note (a vmlinux) through PVH, any other image
 * through multiboot. */
static int vm_load_kernel(struct vm *vm, struct x86_cpu_state *bsp)
{
    void *image = NULL, *module = NULL, *initrd = NULL;
    size_t len = 0, module_len = 0, initrd_len = 0;
    int rc, pvh;

    rc = vm_read_input(vm->cfg.kernel, "kernel", &image, &len);
    if (rc < 0)
        return rc;
    /* 1: a PVH entry note; 0: none or not ELF; < 0: a malformed ELF. */
    pvh = linux_is_bzimage(image, len) ? 0 : pvh_probe(image, len, NULL);
    if (linux_is_bzimage(image, len) || pvh > 0) {
        struct linux_args largs;
        vm->ring0_kernel = true;
        if (vm->cfg.module) {
            rc = err_set(-EINVAL, "%s is a %s kernel: --module is for multiboot kernels "
                                  "(use --initrd)", vm->cfg.kernel, pvh > 0 ? "PVH" : "Linux");
            goto out;
        }
        rc = vm_read_input(vm->cfg.initrd, "initrd", &initrd, &initrd_len);
        if (rc < 0)
            goto out;
        if (pvh > 0) {
            struct pvh_args pargs = {vm->cfg.cmdline, initrd, initrd_len, ACPI_BASE};
            rc = pvh_load(&vm->mem, image, len, &pargs, bsp, NULL);
            rc = rc < 0 ? err_wrap(rc, "%s", vm->cfg.kernel) : vm_build_acpi(vm);
            goto out;
        }
        memset(&largs, 0, sizeof(largs));
        largs.cmdline = vm->cfg.cmdline;
        largs.initrd = initrd;
        largs.initrd_len = initrd_len;
        largs.acpi_rsdp = ACPI_BASE;
        rc = linux_load(&vm->mem, image, len, &largs, bsp, NULL);
        if (rc < 0) {
            rc = err_wrap(rc, "%s", vm->cfg.kernel);
            goto out;
        }
        rc = vm_build_acpi(vm);
    } else {
        struct multiboot_args args;
        struct multiboot_header h;
        if (multiboot_find_header(image, len, &h) < 0) {
            if (pvh < 0) /* a malformed ELF: its fault is the message (again) */
                rc = err_wrap(pvh_probe(image, len, NULL), "%s", vm->cfg.kernel);
            else if (multiboot_is_elf(image, len))
                rc = err_set(-ENOEXEC, "%s: an ELF kernel without a multiboot header and with "
                                       "no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): build the "
                                       "kernel with CONFIG_PVH=y or use its bzImage",
                             vm->cfg.kernel);
            else
                rc = err_wrap(-ENOEXEC, "%s: neither a Linux bzImage (no \"HdrS\" header at "
                                        "0x202) nor a multiboot kernel", vm->cfg.kernel);
            goto out;
        }
        if (vm->cfg.initrd) {
            rc = err_set(-EINVAL, "%s is a multiboot kernel: --initrd is for Linux kernels "
                                  "(use --module)", vm->cfg.kernel);
            goto out;
        }
        rc = vm_read_input(vm->cfg.module, "module", &module, &module_len);
        if (rc < 0)
            goto out;
        memset(&args, 0, sizeof(args));
        args.cmdline = vm->cfg.cmdline;
        args.module = module;
        args.module_len = module_len;
        args.module_string = vm->cfg.module;
        rc = multiboot_load(&vm->mem, image, len, &args, bsp);
        if (rc < 0)
            rc = err_wrap(rc, "%s", vm->cfg.kernel);
    }
out:
    free(image);
    free(module);
    free(initrd);
    return rc;
}

/* Lets the engine's guest TSC run or stop with the virtual clock (an
 * engine that cannot, KVM, leaves it running). */
static void vm_clock_run_locked(struct vm *vm, bool on)
{
    if (vm->eng->clock_run)
        vm->eng->clock_run(vm->evm, on);
}

int vm_create(struct vm **out, const struct vm_config *cfg)
{
    struct engine_vm_config ecfg;
    struct x86_cpu_state bsp;
    struct vm *vm;
    int rc;

    if (cfg->ncpus < 1 || cfg->ncpus > VM_MAX_CPUS)
        return err_set(-EINVAL, "--cpus must be between 1 and %d", VM_MAX_CPUS);
    vm = calloc(1, sizeof(*vm));
    if (!vm)
        return err_set(-ENOMEM, "out of memory");
    vm->cfg = *cfg;
    vm->ncpus = cfg->ncpus;
    vm->state = VM_STATE_CREATED;
    bus_init(&vm->pio, "pio");
    bus_init(&vm->mmio, "mmio");
    timerq_init(&vm->tq, host_time_ns);
    vm->tq.rearm_notify = vm_timer_rearm;
    vm->tq.notify_opaque = vm;
    /* Virtual time is 0 at creation and stands still until the VM starts. */
    timerq_set_now(&vm->tq, 0);
    timerq_freeze(&vm->tq);

    vm->model = cfg->cpu_model ? cpu_model_find(cfg->cpu_model) : cpu_model_default();
    if (!vm->model) {
        rc = err_set(-EINVAL, "unknown CPU model '%s'", cfg->cpu_model);
        goto fail;
    }
    if ((rc = host_mutex_create(&vm->lock)) < 0 || (rc = host_cond_create(&vm->cond)) < 0 ||
        (rc = host_cond_create(&vm->timer_cond)) < 0)
        goto fail;
    /* Input that can be checked without an engine comes first, so a bad
     * kernel or size is reported as such on any host. */
    rc = gmem_init(&vm->mem, cfg->mem_size);
    if (rc < 0)
        goto fail;
    /* An incoming VM gets its memory and CPU state from the stream. */
    if (!cfg->incoming) {
        rc = vm_load_kernel(vm, &bsp);
        if (rc < 0)
            goto fail;
    }
    rc = vm_select_engine(cfg->engine, vm->ring0_kernel, &vm->eng, vm->engine_note,
                          sizeof(vm->engine_note));
    if (rc < 0)
        goto fail;
    /* As QEMU does for KVM (the kernel's few pages written above stay
     * small). bench/README.md, bench/migrate.sh items 1-2, has the figures. */
    if (vm->eng->huge_pages)
        host_mem_advise_huge(vm->mem.backing, vm->mem.backing_size);
    ecfg.ncpus = cfg->ncpus;
    ecfg.model = vm->model;
    rc = vm->eng->create_vm(&ecfg, &vm->evm);
    if (rc < 0)
        goto fail;
    for (unsigned i = 0; i < vm->mem.count; i++) {
        const struct mem_region *r = &vm->mem.region[i];
        rc = vm->eng->set_memory_region(vm->evm, i, r->gpa, r->size, r->hva, 0);
        if (rc < 0)
            goto fail;
    }
    for (unsigned i = 0; i < vm->ncpus; i++) {
        struct vcpu *v = &vm->vcpu[i];
        v->vm = vm;
        v->index = i;
        v->sipi_vector = -1;
        v->mp_state = i == 0 ? VCPU_RUNNABLE : VCPU_WAIT_SIPI;
        rc = vm->eng->create_vcpu(vm->evm, i, &v->ev);
        if (rc < 0)
            goto fail;
    }
    rc = vm_devices_create(vm);
    if (rc < 0)
        goto fail;
    if (!cfg->incoming) {
        rc = vm->eng->set_state(vm->vcpu[0].ev, &bsp);
        if (rc < 0)
            goto fail;
    }
    /* The guest's time starts with vm_start (a restored VM's TSC then
     * holds what the stream carried until it runs). */
    vm_clock_run_locked(vm, false);
    *out = vm;
    return 0;
fail:
    vm_destroy(vm);
    return rc;
}

void vcpu_kick_locked(struct vcpu *v)
{
    if (v->in_engine)
        v->vm->eng->kick(v->ev);
    host_cond_broadcast(v->vm->cond);
}

void vm_request_stop_locked(struct vm *vm, int status, const char *reason)
{
    if (!vm->stop_requested) {
        vm->stop_requested = true;
        vm->exit_status = status;
        snprintf(vm->stop_reason, sizeof(vm->stop_reason), "%s", reason);
    }
    for (unsigned i = 0; i < vm->ncpus; i++)
        vcpu_kick_locked(&vm->vcpu[i]);
    host_cond_broadcast(vm->cond);
    host_cond_signal(vm->timer_cond);
}

void vm_request_stop(struct vm *vm, int status, const char *reason)
{
    host_mutex_lock(vm->lock);
    vm_request_stop_locked(vm, status, reason);
    host_mutex_unlock(vm->lock);
}

static void vcpu_print_line(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "  %s\n", line);
}

/* Reports a guest crash with a register dump and stops the VM. */
static void vcpu_crash_locked(struct vcpu *v, const char *what)
{
    struct x86_cpu_state s;
    char reason[200];

    snprintf(reason, sizeof(reason), "vCPU %u: %s", v->index, what);
    log_error("vm", "%s; CPU state:", reason);
    if (v->vm->eng->get_state(v->ev, &s) == 0)
        x86_cpu_state_dump(&s, vcpu_print_line, NULL);
    else
        log_error("vm", "cannot read the CPU state: %s", err_msg());
    vm_request_stop_locked(v->vm, VM_STATUS_GUEST_CRASH, reason);
}

/* INIT and SIPI (SDM Vol. 3A 9.4.4): INIT puts the vCPU in wait-for-SIPI
 * with the reset state; SIPI starts it in real mode at vector << 12. */
static void vcpu_handle_init_sipi_locked(struct vcpu *v)
{
    struct x86_cpu_state s;

    if (v->init_pending) {
        v->init_pending = false;
        v->sipi_vector = -1;
        v->mp_state = VCPU_WAIT_SIPI;
    }
    if (v->mp_state == VCPU_WAIT_SIPI && v->sipi_vector >= 0) {
        uint64_t tsc = 0;
        /* INIT and SIPI leave the TSC counting (SDM Vol. 3B 18.17: only
         * RESET clears it): an AP's TSC must agree with the BSP's, or
         * Linux's TSC sync check sees a warp and drops the TSC. */
        if (v->vm->eng->get_state(v->ev, &s) == 0)
            tsc = s.tsc;
        x86_cpu_state_reset(&s);
        s.tsc = tsc;
        if (v->lapic)
            s.msr.apic_base = lapic_get_apic_base(v->lapic);
        s.seg[X86_CS].selector = (uint16_t)(v->sipi_vector << 8);
        s.seg[X86_CS].base = (uint64_t)v->sipi_vector << 12;
        s.rip = 0;
        v->sipi_vector = -1;
        if (v->vm->eng->set_state(v->ev, &s) < 0) {
            vcpu_crash_locked(v, "cannot start the vCPU after SIPI");
            return;
        }
        v->mp_state = VCPU_RUNNABLE;
    }
}

/* Offers a pending NMI or interrupt to the engine, or asks for a window. */
static void vcpu_inject_locked(struct vcpu *v)
{
    const struct engine_ops *eng = v->vm->eng;

    if (vm_devices_nmi_pending(v, true)) {
        if (eng->inject(v->ev, ENGINE_EVENT_NMI, 2) < 0)
            log_warn("vm", "vCPU %u: NMI injection failed: %s", v->index, err_msg());
    }
    if (vm_devices_pending_interrupt(v, false) < 0) {
        eng->request_interrupt_window(v->ev, false);
        return;
    }
    if (eng->interrupt_ready(v->ev)) {
        int vec = vm_devices_pending_interrupt(v, true);
        if (vec >= 0 && eng->inject(v->ev, ENGINE_EVENT_INTR, (uint8_t)vec) < 0)
            log_warn("vm", "vCPU %u: interrupt injection failed: %s", v->index, err_msg());
        eng->request_interrupt_window(v->ev, false);
    } else {
        eng->request_interrupt_window(v->ev, true);
    }
}

static void vcpu_handle_pio_locked(struct vcpu *v, struct vm_exit *e)
{
    uint8_t *p = e->u.pio.data;
    unsigned size = e->u.pio.size;

    for (uint32_t i = 0; i < e->u.pio.count; i++, p += size) {
        uint64_t val = 0;
        if (e->u.pio.is_write) {
            memcpy(&val, p, size);
            bus_write(&v->vm->pio, e->u.pio.port, size, val);
        } else {
            bus_read(&v->vm->pio, e->u.pio.port, size, &val);
            memcpy(p, &val, size);
        }
    }
}

static void vcpu_handle_mmio_locked(struct vcpu *v, struct vm_exit *e)
{
    uint64_t val = 0;
    unsigned size = e->u.mmio.size;
    bool write = e->u.mmio.is_write;

    if (write)
        memcpy(&val, e->u.mmio.data, size);
    if (!vm_devices_lapic_mmio(v, e->u.mmio.gpa, size, write, &val)) {
        if (write)
            bus_write(&v->vm->mmio, e->u.mmio.gpa, size, val);
        else
            bus_read(&v->vm->mmio, e->u.mmio.gpa, size, &val);
    }
    if (!write)
        memcpy(e->u.mmio.data, &val, size);
}

/* Handles one exit; fatal ones request a VM stop. */
static void vcpu_handle_exit_locked(struct vcpu *v, struct vm_exit *e)
{
    uint64_t val;

    v->exits++;
    switch (e->reason) {
    case VM_EXIT_PIO:
        vcpu_handle_pio_locked(v, e);
        break;
    case VM_EXIT_MMIO:
        vcpu_handle_mmio_locked(v, e);
        break;
    case VM_EXIT_MSR_READ:
        e->u.msr.error = vm_devices_msr(v, e->u.msr.index, false, &val) < 0;
        e->u.msr.data = e->u.msr.error ? 0 : val;
        break;
    case VM_EXIT_MSR_WRITE:
        val = e->u.msr.data;
        e->u.msr.error = vm_devices_msr(v, e->u.msr.index, true, &val) < 0;
        break;
    case VM_EXIT_HLT:
        v->mp_state = VCPU_HALTED;
        break;
    case VM_EXIT_SHUTDOWN:
        vcpu_crash_locked(v, "triple fault (shutdown)");
        break;
    case VM_EXIT_INTERNAL:
        vcpu_crash_locked(v, e->u.internal.desc);
        break;
    case VM_EXIT_IRQ_WINDOW:
    case VM_EXIT_INTR:
    case VM_EXIT_NONE:
        break;
    }
}

static bool vcpu_has_event_locked(struct vcpu *v)
{
    return v->init_pending || v->sipi_vector >= 0 || vm_devices_pending_interrupt(v, false) >= 0;
}

static void vcpu_thread(void *arg)
{
    struct vcpu *v = arg;
    struct vm *vm = v->vm;
    struct vm_exit exit;

    memset(&exit, 0, sizeof(exit));
    host_mutex_lock(vm->lock);
    while (!vm->stop_requested) {
        if (vm->pause_requested) {
            v->parked = true;
            vm->parked_count++;
            host_cond_broadcast(vm->cond);
            while (vm->pause_requested && !vm->stop_requested)
                host_cond_wait(vm->cond, vm->lock);
            vm->parked_count--;
            v->parked = false;
            continue;
        }
        vcpu_handle_init_sipi_locked(v);
        if (v->mp_state == VCPU_WAIT_SIPI) {
            host_cond_wait(vm->cond, vm->lock);
            continue;
        }
        if (v->mp_state == VCPU_HALTED) {
            if (!vcpu_has_event_locked(v) && !vm_devices_nmi_pending(v, false)) {
                host_cond_wait(vm->cond, vm->lock);
                continue;
            }
            v->mp_state = VCPU_RUNNABLE;
        }
        vcpu_inject_locked(v);
        v->in_engine = true;
        host_mutex_unlock(vm->lock);
        int rc = vm->eng->run(v->ev, &exit);
        host_mutex_lock(vm->lock);
        v->in_engine = false;
        if (rc < 0) {
            vcpu_crash_locked(v, err_msg());
            break;
        }
        vcpu_handle_exit_locked(v, &exit);
        if (vm->throttle_pct && !vm->stop_requested && host_time_ns() >= v->throttle_next_ns) {
            /* Auto-converge: hold the vCPU for pct% of each period; the
             * timer thread kicks every vCPU once a period. Once a period,
             * not once an exit: on emu every port access is an exit, and a
             * guest writing its console would be held nearly all the time. */
            uint64_t hold = VM_THROTTLE_PERIOD_NS * vm->throttle_pct / (100 - vm->throttle_pct);
            uint64_t until = host_time_ns() + hold;
            /* A wait that a pause, a stop or the throttle's end cuts short:
             * at 99% a hold is ~1 s, and the pause that starts a
             * migration's stop-and-copy waits for every vCPU. */
            while (vm->throttle_pct && !vm->pause_requested && !vm->stop_requested &&
                   !host_cond_wait_until(vm->cond, vm->lock, until))
                ;
            v->throttle_next_ns = host_time_ns() + VM_THROTTLE_PERIOD_NS - VM_THROTTLE_PERIOD_NS / 10;
        }
    }
    host_mutex_unlock(vm->lock);
}

/* Runs device timers against the virtual clock, and polls host input. */
static void vm_timer_thread(void *arg)
{
    struct vm *vm = arg;
    const uint64_t poll_ns = 10 * 1000 * 1000;

    host_mutex_lock(vm->lock);
    while (!vm->stop_requested) {
        uint64_t now = host_time_ns(), wake = now + poll_ns;
        /* Paused too, so that the console keys work (the UART waits). */
        vm_devices_poll_host(vm);
        if (vm->state != VM_STATE_PAUSED) {
            if (vm->throttle_pct) {
                for (unsigned i = 0; i < vm->ncpus; i++)
                    vcpu_kick_locked(&vm->vcpu[i]);
                if (now + VM_THROTTLE_PERIOD_NS < wake)
                    wake = now + VM_THROTTLE_PERIOD_NS;
            }
            timerq_run(&vm->tq);
            uint64_t next = timerq_next_deadline(&vm->tq);
            if (next != UINT64_MAX) {
                uint64_t vnow = timerq_now(&vm->tq);
                uint64_t host_next = next <= vnow ? now : now + (next - vnow);
                if (host_next < wake)
                    wake = host_next;
            }
        }
        if (wake > now && !vm->stop_requested)
            host_cond_wait_until(vm->timer_cond, vm->lock, wake);
    }
    host_mutex_unlock(vm->lock);
}

/* Ties the guest TSC to virtual time (see struct vm). */
static void vm_tsc_anchor_locked(struct vm *vm)
{
    struct x86_cpu_state s;

    vm->tsc_hz = vm->eng->tsc_hz(vm->vcpu[0].ev);
    vm->tsc_anchor_ns = timerq_now(&vm->tq);
    if (vm->eng->get_state(vm->vcpu[0].ev, &s) == 0)
        vm->tsc_anchor = s.tsc;
    else
        log_warn("vm", "cannot read the TSC: %s", err_msg());
}

uint64_t vm_tsc_to_ns(const struct vm *vm, uint64_t tsc)
{
    uint64_t hz = vm->tsc_hz ? vm->tsc_hz : 1000000000u;

    if (tsc < vm->tsc_anchor) {
        uint64_t d = vm->tsc_anchor - tsc;
        uint64_t ns = timerq_count_to_ns(d, hz);
        return ns > vm->tsc_anchor_ns ? 0 : vm->tsc_anchor_ns - ns;
    }
    uint64_t d = tsc - vm->tsc_anchor;
    return vm->tsc_anchor_ns + timerq_count_to_ns(d, hz);
}

int vm_start(struct vm *vm)
{
    int rc;

    host_mutex_lock(vm->lock);
    if (vm->cfg.start_paused) {
        /* The vCPU threads park before they run any guest code, and the
         * clock stays frozen until vm_resume(). */
        vm->pause_requested = true;
        vm->state = VM_STATE_PAUSED;
    } else {
        timerq_thaw(&vm->tq);
        vm_clock_run_locked(vm, true);
        vm_tsc_anchor_locked(vm);
        vm->state = VM_STATE_RUNNING;
    }
    host_mutex_unlock(vm->lock);
    rc = host_thread_create(&vm->timer_thread, vm_timer_thread, vm, "roam-timer");
    if (rc < 0)
        return rc;
    for (unsigned i = 0; i < vm->ncpus; i++) {
        char name[24];
        snprintf(name, sizeof(name), "roam-vcpu%u", i);
        rc = host_thread_create(&vm->vcpu[i].thread, vcpu_thread, &vm->vcpu[i], name);
        if (rc < 0) {
            vm_request_stop(vm, VM_STATUS_ERROR, err_msg());
            return rc;
        }
    }
    return 0;
}

int vm_wait(struct vm *vm)
{
    int status;

    for (unsigned i = 0; i < vm->ncpus; i++) {
        if (vm->vcpu[i].thread) {
            host_thread_join(vm->vcpu[i].thread);
            vm->vcpu[i].thread = NULL;
        }
    }
    host_mutex_lock(vm->lock);
    /* vCPU threads only end on a stop request; make sure the timer sees it. */
    vm_request_stop_locked(vm, VM_STATUS_OK, "all vCPUs stopped");
    vm->state = VM_STATE_STOPPED;
    status = vm->exit_status;
    host_mutex_unlock(vm->lock);
    if (vm->timer_thread) {
        host_thread_join(vm->timer_thread);
        vm->timer_thread = NULL;
    }
    return status;
}

void vm_pause(struct vm *vm)
{
    host_mutex_lock(vm->lock);
    if (vm->state == VM_STATE_RUNNING) {
        vm->pause_requested = true;
        for (unsigned i = 0; i < vm->ncpus; i++)
            vcpu_kick_locked(&vm->vcpu[i]);
        while (vm->parked_count < vm->ncpus && !vm->stop_requested)
            host_cond_wait(vm->cond, vm->lock);
        /* Freeze the virtual clock: device timers stop with the vCPUs,
         * and the TSC where the engine can stop it. */
        timerq_freeze(&vm->tq);
        if (vm->parked_count >= vm->ncpus)
            vm_clock_run_locked(vm, false);
        vm->state = VM_STATE_PAUSED;
    }
    host_mutex_unlock(vm->lock);
}

void vm_resume(struct vm *vm)
{
    host_mutex_lock(vm->lock);
    if (vm->state == VM_STATE_PAUSED) {
        timerq_thaw(&vm->tq);
        vm_clock_run_locked(vm, true);
        vm_tsc_anchor_locked(vm);
        vm->state = VM_STATE_RUNNING;
        vm->pause_requested = false;
        host_cond_broadcast(vm->cond);
        host_cond_signal(vm->timer_cond);
    }
    host_mutex_unlock(vm->lock);
}

void vm_set_clock(struct vm *vm, uint64_t now_ns)
{
    host_mutex_lock(vm->lock);
    timerq_set_now(&vm->tq, now_ns);
    host_cond_signal(vm->timer_cond);
    host_mutex_unlock(vm->lock);
}

void vm_set_throttle(struct vm *vm, unsigned pct)
{
    host_mutex_lock(vm->lock);
    vm->throttle_pct = pct > VM_THROTTLE_MAX ? VM_THROTTLE_MAX : pct;
    host_cond_signal(vm->timer_cond);
    host_cond_broadcast(vm->cond); /* a vCPU held at the old rate looks again */
    host_mutex_unlock(vm->lock);
}

void vm_destroy(struct vm *vm)
{
    if (!vm)
        return;
    if (vm->state == VM_STATE_RUNNING || vm->state == VM_STATE_PAUSED) {
        vm_request_stop(vm, VM_STATUS_OK, "destroyed");
        vm_wait(vm);
    }
    vm_devices_destroy(vm);
    for (unsigned i = 0; i < vm->ncpus; i++)
        if (vm->vcpu[i].ev)
            vm->eng->destroy_vcpu(vm->vcpu[i].ev);
    if (vm->evm)
        vm->eng->destroy_vm(vm->evm);
    gmem_destroy(&vm->mem);
    bus_destroy(&vm->pio);
    bus_destroy(&vm->mmio);
    if (vm->timer_cond)
        host_cond_destroy(vm->timer_cond);
    if (vm->cond)
        host_cond_destroy(vm->cond);
    if (vm->lock)
        host_mutex_destroy(vm->lock);
    free(vm);
}
