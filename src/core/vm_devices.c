/* The PC platform: creates roam's devices, puts them on the buses and wires
 * their interrupt lines (DESIGN.md, "dev/"). ISA IRQ n goes to the 8259 pair
 * and to IOAPIC pin n, except IRQ 0 which the IOAPIC sees on pin 2 (the
 * interrupt source override every PC firmware and QEMU declare). The 8259's
 * INTR goes to vCPU 0's LAPIC LINT0 (ExtINT, "virtual wire" mode). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/acpi.h"
#include "core/console.h"
#include "core/log.h"
#include "core/vm.h"
#include "dev/acpi_pm.h"
#include "dev/apic_bus.h"
#include "dev/debugexit.h"
#include "dev/fwcfg.h"
#include "dev/i8042.h"
#include "dev/ioapic.h"
#include "dev/isa_absent.h"
#include "dev/lapic.h"
#include "dev/pci_host.h"
#include "dev/pic8259.h"
#include "dev/pit8254.h"
#include "dev/post.h"
#include "dev/rtc.h"
#include "dev/uart16550.h"
#include "migrate/vmstate.h"

#define ISA_IRQS 16

struct vm_devices {
    struct vm *vm;
    struct apic_bus apic_bus;
    struct ioapic ioapic;
    struct lapic lapic[VM_MAX_CPUS];
    unsigned nlapics;
    struct pic8259 *pic;
    struct pit8254 *pit;
    struct rtc *rtc;
    struct uart16550 *uart;
    struct i8042 *i8042;
    struct post *post;
    struct debugexit *debugexit;
    struct fwcfg *fwcfg;
    struct acpi_pm *acpi_pm;
    struct pci_host *pci_host;
    struct isa_absent isa_absent; /* COM2-4, LPT, floppy: quiet all-ones */
    struct irq_line isa_irq[ISA_IRQS];
    struct irq_line pic_intr;
    struct host_file *serial_file;
    bool stdin_eof;
    struct console console; /* stdin -> escape keys -> the UART */
};

/* ---- interrupt wiring ---- */

static void vm_isa_irq_set(void *opaque, int pin, int level)
{
    struct vm_devices *d = opaque;

    pic8259_set_irq(d->pic, pin, level);
    ioapic_set_irq(&d->ioapic, pin == 0 ? 2 : pin, level);
}

static void vm_pic_intr_set(void *opaque, int pin, int level)
{
    struct vm_devices *d = opaque;
    (void)pin;
    lapic_set_lint(&d->lapic[0], 0, level);
}

static void vm_apic_kick(void *opaque, unsigned cpu)
{
    struct vm_devices *d = opaque;
    if (cpu < d->vm->ncpus)
        vcpu_kick_locked(&d->vm->vcpu[cpu]);
}

static void vm_apic_init(void *opaque, unsigned cpu)
{
    struct vm_devices *d = opaque;
    if (cpu < d->vm->ncpus) {
        d->vm->vcpu[cpu].init_pending = true;
        vcpu_kick_locked(&d->vm->vcpu[cpu]);
    }
}

static void vm_apic_sipi(void *opaque, unsigned cpu, uint8_t vector)
{
    struct vm_devices *d = opaque;
    struct vcpu *v;

    if (cpu >= d->vm->ncpus)
        return;
    v = &d->vm->vcpu[cpu];
    /* A SIPI to a CPU that is not waiting for one is ignored (SDM 9.4.4).
     * An INIT still in flight counts as waiting. */
    if (v->mp_state == VCPU_WAIT_SIPI || v->init_pending) {
        v->sipi_vector = vector;
        vcpu_kick_locked(v);
    }
}

static int vm_apic_extint_ack(void *opaque)
{
    struct vm_devices *d = opaque;
    return pic8259_ack(d->pic);
}

/* Every vCPU's TSC is synchronized (one anchor per VM). */
static uint64_t vm_apic_tsc_to_ns(void *opaque, unsigned cpu, uint64_t tsc)
{
    struct vm_devices *d = opaque;
    (void)cpu;
    return vm_tsc_to_ns(d->vm, tsc);
}

static const struct apic_bus_ops vm_apic_bus_ops = {
    .kick = vm_apic_kick,
    .init = vm_apic_init,
    .sipi = vm_apic_sipi,
    .extint_ack = vm_apic_extint_ack,
    .tsc_to_ns = vm_apic_tsc_to_ns,
};

/* ---- host side of the devices ---- */

static void vm_serial_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct vm_devices *d = opaque;
    int rc = 0;

    if (d->vm->cfg.serial == SERIAL_STDIO)
        rc = host_stdio_write(1, buf, len);
    else if (d->serial_file)
        rc = host_file_write(d->serial_file, buf, len);
    if (rc < 0)
        log_warn("serial", "output lost: %s", err_msg());
}

static void vm_debug_exit(void *opaque, uint32_t status)
{
    struct vm_devices *d = opaque;
    char reason[64];

    snprintf(reason, sizeof(reason), "debug-exit status %u", status);
    vm_request_stop_locked(d->vm, (int)status, reason);
}

static void vm_reset_request(void *opaque)
{
    struct vm_devices *d = opaque;

    if (!d->vm->stop_requested)
        d->vm->reset_requested = true;
    vm_request_stop_locked(d->vm, VM_STATUS_OK, "the guest requested a reset");
}

static void vm_poweroff_request(void *opaque)
{
    struct vm_devices *d = opaque;
    vm_request_stop_locked(d->vm, VM_STATUS_OK, "the guest powered off");
}

/* Moves queued console input into the UART's receive FIFO as it has room;
 * a paused VM's devices stay as they are (migration reads them). */
static void vm_console_to_uart(struct vm_devices *d)
{
    size_t len;
    const uint8_t *p = console_queued(&d->console, &len);

    if (len > 0 && d->vm->state != VM_STATE_PAUSED) {
        int n = uart16550_receive(d->uart, p, len);
        if (n > 0)
            console_take(&d->console, (size_t)n);
    }
}

/* Stdin goes through the console's escape keys (core/console.h), a pipe
 * as well as a terminal, as in QEMU. */
void vm_devices_poll_host(struct vm *vm)
{
    struct vm_devices *d = vm->dev;
    uint8_t buf[256];
    unsigned actions = 0;
    size_t room;
    int n;

    if (!d || vm->cfg.serial != SERIAL_STDIO)
        return;
    vm_console_to_uart(d);
    room = console_room(&d->console);
    if (d->stdin_eof || room == 0)
        return; /* the rest waits in the host's buffer */
    n = host_stdin_read(buf, room < sizeof(buf) ? room : sizeof(buf));
    if (n < 0) {
        d->stdin_eof = true; /* the guest keeps running without input */
        return;
    }
    if (n > 0)
        actions = console_input(&d->console, buf, (size_t)n);
    vm_console_to_uart(d);
    if (actions & CONSOLE_HELP) {
        const char *help = console_help_text();
        if (host_stdio_write(1, help, strlen(help)) < 0)
            log_warn("console", "cannot print the help: %s", err_msg());
    }
    if ((actions & CONSOLE_QUIT) && !vm->stop_requested) {
        vm->quit_requested = true;
        vm_request_stop_locked(vm, VM_STATUS_OK, "terminated by Ctrl-A x");
    }
}

/* ---- creation ---- */

static int vm_fwcfg_items(struct vm *vm, struct fwcfg *fw)
{
    uint8_t le16[2] = {(uint8_t)vm->ncpus, (uint8_t)(vm->ncpus >> 8)};
    uint8_t le64[8];
    int rc;

    for (int i = 0; i < 8; i++)
        le64[i] = (uint8_t)(vm->mem.ram_size >> (8 * i));
    if ((rc = fwcfg_add(fw, FWCFG_KEY_NB_CPUS, le16, 2)) < 0 ||
        (rc = fwcfg_add(fw, FWCFG_KEY_RAM_SIZE, le64, 8)) < 0 ||
        (rc = fwcfg_add(fw, FWCFG_KEY_MAX_RAM, le64, 8)) < 0)
        return rc;
    return 0;
}

int vm_devices_create(struct vm *vm)
{
    struct vm_devices *d;
    struct uart16550_backend be;
    struct acpi_pm_host pm_host = {vm_poweroff_request, vm_reset_request, NULL};
    int rc;

    d = calloc(1, sizeof(*d));
    if (!d)
        return err_set(-ENOMEM, "out of memory");
    vm->dev = d;
    d->vm = vm;
    console_init(&d->console);
    for (int i = 0; i < ISA_IRQS; i++)
        d->isa_irq[i] = (struct irq_line){vm_isa_irq_set, d, i};
    d->pic_intr = (struct irq_line){vm_pic_intr_set, d, 0};

    apic_bus_init(&d->apic_bus, &vm_apic_bus_ops, d);
    ioapic_create(&d->ioapic, &d->apic_bus, vm_ioapic_id(vm));
    for (unsigned i = 0; i < vm->ncpus; i++) {
        rc = lapic_create(&d->lapic[i], &d->apic_bus, &vm->tq, i);
        if (rc < 0)
            return rc;
        d->nlapics = i + 1;
        vm->vcpu[i].lapic = &d->lapic[i];
    }
    if ((rc = pic8259_create(&d->pic, &d->pic_intr)) < 0 ||
        (rc = pit8254_create(&d->pit, &vm->tq, &d->isa_irq[PIT8254_IRQ])) < 0 ||
        (rc = rtc_create(&d->rtc, &vm->tq, &d->isa_irq[RTC_IRQ],
                         (int64_t)(host_wallclock_ns() / 1000000000u))) < 0 ||
        (rc = i8042_create(&d->i8042, vm_reset_request, d)) < 0 ||
        (rc = post_create(&d->post)) < 0 ||
        (rc = pci_host_create(&d->pci_host)) < 0 ||
        (rc = debugexit_create(&d->debugexit, vm_debug_exit, d)) < 0 ||
        (rc = fwcfg_create(&d->fwcfg)) < 0 || (rc = vm_fwcfg_items(vm, d->fwcfg)) < 0)
        return rc;
    pm_host.opaque = d;
    rc = acpi_pm_create(&d->acpi_pm, &vm->tq, &d->isa_irq[ACPI_SCI_IRQ], &pm_host);
    if (rc < 0)
        return rc;
    i8042_set_irq(d->i8042, &d->isa_irq[1]);
    be.write = vm_serial_write;
    be.opaque = d;
    rc = uart16550_create(&d->uart, &be, &d->isa_irq[UART16550_COM1_IRQ], &vm->tq);
    if (rc < 0)
        return rc;
    if (vm->cfg.serial == SERIAL_FILE) {
        rc = host_file_open(&d->serial_file, vm->cfg.serial_path,
                            HOST_FILE_WRITE | HOST_FILE_CREATE | HOST_FILE_TRUNC);
        if (rc < 0)
            return err_wrap(rc, "--serial");
    }

    struct bus *pio = &vm->pio, *mmio = &vm->mmio;
    isa_absent_init(&d->isa_absent);
    if ((rc = pic8259_register_pio(d->pic, pio)) < 0 ||
        (rc = pit8254_register_pio(d->pit, pio)) < 0 ||
        (rc = rtc_register_pio(d->rtc, pio)) < 0 ||
        (rc = i8042_register_pio(d->i8042, pio)) < 0 ||
        (rc = post_register_pio(d->post, pio)) < 0 ||
        (rc = debugexit_register_pio(d->debugexit, pio)) < 0 ||
        (rc = fwcfg_register_pio(d->fwcfg, pio)) < 0 ||
        (rc = acpi_pm_register_pio(d->acpi_pm, pio)) < 0 ||
        (rc = pci_host_register_pio(d->pci_host, pio)) < 0 ||
        (rc = isa_absent_register_pio(&d->isa_absent, pio)) < 0 ||
        (rc = bus_register(pio, UART16550_COM1_BASE, 8, &uart16550_ops, d->uart, "com1")) < 0 ||
        (rc = bus_register(mmio, IOAPIC_DEFAULT_BASE, IOAPIC_MMIO_SIZE, &ioapic_mmio_ops,
                           &d->ioapic, "ioapic")) < 0)
        return rc;
    return 0;
}

void vm_devices_destroy(struct vm *vm)
{
    struct vm_devices *d = vm->dev;

    if (!d)
        return;
    for (unsigned i = 0; i < d->nlapics; i++)
        lapic_destroy(&d->lapic[i]);
    ioapic_destroy(&d->ioapic);
    if (d->uart)
        uart16550_destroy(d->uart);
    if (d->acpi_pm)
        acpi_pm_destroy(d->acpi_pm);
    if (d->pci_host)
        pci_host_destroy(d->pci_host);
    if (d->fwcfg)
        fwcfg_destroy(d->fwcfg);
    if (d->debugexit)
        debugexit_destroy(d->debugexit);
    if (d->post)
        post_destroy(d->post);
    if (d->i8042)
        i8042_destroy(d->i8042);
    if (d->rtc)
        rtc_destroy(d->rtc);
    if (d->pit)
        pit8254_destroy(d->pit);
    if (d->pic)
        pic8259_destroy(d->pic);
    if (d->serial_file)
        host_file_close(d->serial_file);
    free(d);
    vm->dev = NULL;
}

/* ---- the CPU side ---- */

int vm_devices_pending_interrupt(struct vcpu *v, bool ack)
{
    if (!v->lapic)
        return -1;
    if (!ack) {
        int p = lapic_pending(v->lapic);
        return p < 0 ? -1 : p;
    }
    return lapic_ack(v->lapic);
}

bool vm_devices_nmi_pending(struct vcpu *v, bool take)
{
    if (!v->lapic)
        return false;
    if (take)
        return lapic_take_nmi(v->lapic);
    return v->lapic->s.nmi_pending != 0;
}

bool vm_devices_lapic_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
    struct lapic *l = v->lapic;
    uint64_t base;

    if (!l || !lapic_hw_enabled(l) || lapic_x2apic_mode(l))
        return false;
    base = lapic_base_addr(l);
    if (gpa < base || gpa - base >= LAPIC_MMIO_SIZE)
        return false;
    if (write)
        lapic_mmio_write(l, gpa - base, *val, size);
    else
        *val = lapic_mmio_read(l, gpa - base, size);
    return true;
}

int vm_devices_msr(struct vcpu *v, uint32_t index, bool write, uint64_t *val)
{
    struct lapic *l = v->lapic;
    bool apic_msr = index == LAPIC_MSR_APIC_BASE || index == LAPIC_MSR_TSC_DEADLINE ||
                    (index >= LAPIC_MSR_X2APIC_FIRST && index <= LAPIC_MSR_X2APIC_LAST);

    if (!l || !apic_msr) {
        log_debug("msr", "vCPU %u: %s of MSR 0x%x outside the model: #GP", v->index,
                  write ? "WRMSR" : "RDMSR", index);
        return -1;
    }
    return write ? lapic_msr_write(l, index, *val) : lapic_msr_read(l, index, val);
}

/* ---- migration ---- */

/* Every device section a VM of this release writes, for stream-dump's field
 * names: the same devices as vm_devices_state_parts() below. */
const struct vms_desc *vm_devices_find_desc(const char *name)
{
    static const struct vms_desc *const descs[] = {
        &pic8259_vms, &pit8254_vms, &rtc_vms,      &uart16550_vms, &i8042_vms, &post_vms,
        &fwcfg_vms,   &acpi_pm_vms, &pci_host_vms, &ioapic_vms,    &lapic_vms,
    };
    for (size_t i = 0; i < sizeof(descs) / sizeof(descs[0]); i++)
        if (strcmp(descs[i]->name, name) == 0)
            return descs[i];
    return NULL;
}

unsigned vm_devices_state_parts(struct vm *vm, struct vm_state_part *out, unsigned max)
{
    struct vm_devices *d = vm->dev;
    unsigned n = 0;

#define VM_PART(desc_, inst_, state_, opaque_)                                             \
    do {                                                                                   \
        if (n < max)                                                                       \
            out[n] = (struct vm_state_part){&(desc_), (inst_), (state_), (opaque_)};       \
        n++;                                                                               \
    } while (0)
    VM_PART(pic8259_vms, 0, &d->pic->s, d->pic);
    VM_PART(pit8254_vms, 0, &d->pit->s, d->pit);
    VM_PART(rtc_vms, 0, &d->rtc->s, d->rtc);
    VM_PART(uart16550_vms, 0, &d->uart->s, d->uart);
    VM_PART(i8042_vms, 0, &d->i8042->s, d->i8042);
    VM_PART(post_vms, 0, &d->post->s, d->post);
    VM_PART(fwcfg_vms, 0, &d->fwcfg->s, d->fwcfg);
    VM_PART(acpi_pm_vms, 0, &d->acpi_pm->s, d->acpi_pm);
    VM_PART(pci_host_vms, 0, &d->pci_host->s, d->pci_host);
    VM_PART(ioapic_vms, 0, &d->ioapic.s, &d->ioapic);
    for (unsigned i = 0; i < d->nlapics; i++)
        VM_PART(lapic_vms, i, &d->lapic[i].s, &d->lapic[i]);
#undef VM_PART
    return n;
}
