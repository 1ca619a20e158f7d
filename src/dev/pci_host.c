/* PCI host bridge, configuration mechanism #1. Spec: PCI Local Bus
 * Specification 3.0, 3.2.2.3.2 "Software Generation of Configuration
 * Transactions" (CONFIG_ADDRESS at 0xcf8, CONFIG_DATA at 0xcfc, which
 * accesses reach them), 6.1 "Configuration Space Organization" (a master
 * abort reads all-ones) and 6.2 "Configuration Space Functions" (the type 0
 * header, which registers are writable); Intel 82441FX (i440FX) datasheet
 * for the host bridge's IDs and status. See dev/pci_host.h. */
#include "dev/pci_host.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "migrate/vmstate.h"

static uint32_t ones(unsigned size)
{
    return size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

/* ---- the host bridge, 00:00.0 ---- */

static uint8_t bridge_byte(const struct pci_host *h, unsigned reg)
{
    uint32_t class = PCI_HOST_BRIDGE_CLASS;
    uint16_t status = PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM;

    switch (reg) {
    case PCI_VENDOR_ID: return (uint8_t)PCI_HOST_BRIDGE_VENDOR;
    case PCI_VENDOR_ID + 1: return (uint8_t)(PCI_HOST_BRIDGE_VENDOR >> 8);
    case PCI_DEVICE_ID: return (uint8_t)PCI_HOST_BRIDGE_DEVICE;
    case PCI_DEVICE_ID + 1: return (uint8_t)(PCI_HOST_BRIDGE_DEVICE >> 8);
    case PCI_COMMAND: return (uint8_t)h->s.bridge_command;
    case PCI_COMMAND + 1: return (uint8_t)(h->s.bridge_command >> 8);
    case PCI_STATUS: return (uint8_t)status;
    case PCI_STATUS + 1: return (uint8_t)(status >> 8);
    case PCI_REVISION_ID: return PCI_HOST_BRIDGE_REVISION;
    case PCI_CLASS_PROG: return (uint8_t)class;
    case PCI_CLASS_DEVICE: return (uint8_t)(class >> 8);
    case PCI_CLASS_DEVICE + 1: return (uint8_t)(class >> 16);
    case PCI_CACHE_LINE_SIZE: return h->s.bridge_cache_line;
    case PCI_LATENCY_TIMER: return h->s.bridge_latency;
    default: return 0; /* header type 0, single function; no BARs, no BIST */
    }
}

static uint32_t bridge_read(void *opaque, unsigned reg, unsigned size)
{
    const struct pci_host *h = opaque;
    uint32_t v = 0;

    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)bridge_byte(h, reg + i) << (8 * i);
    return v;
}

/* Writes to read-only bytes are dropped, as on hardware. */
static void bridge_write(void *opaque, unsigned reg, uint32_t value, unsigned size)
{
    struct pci_host *h = opaque;

    for (unsigned i = 0; i < size; i++) {
        unsigned r = reg + i, sh = 8 * (r & 1);
        uint8_t b = (uint8_t)(value >> (8 * i));

        if (r == PCI_COMMAND || r == PCI_COMMAND + 1) {
            uint16_t cmd = (uint16_t)((h->s.bridge_command & ~(0xffu << sh)) | (unsigned)b << sh);
            h->s.bridge_command = (uint16_t)(cmd & PCI_HOST_BRIDGE_COMMAND_MASK);
        } else if (r == PCI_CACHE_LINE_SIZE) {
            h->s.bridge_cache_line = b;
        } else if (r == PCI_LATENCY_TIMER) {
            h->s.bridge_latency = b;
        }
    }
}

static const struct pci_config_ops bridge_ops = {bridge_read, bridge_write};

/* ---- configuration cycles ---- */

static const struct pci_function *pci_host_target(const struct pci_host *h, unsigned bus,
                                                  unsigned devfn)
{
    if (bus != 0 || devfn >= PCI_DEVFNS || !h->fn[devfn].ops)
        return NULL; /* master abort */
    return &h->fn[devfn];
}

uint32_t pci_host_config_read(struct pci_host *h, unsigned bus, unsigned devfn, unsigned reg,
                              unsigned size)
{
    const struct pci_function *f = pci_host_target(h, bus, devfn);

    if (!f || !f->ops->read || reg >= PCI_CONFIG_SPACE_SIZE || (reg & 3) + size > 4)
        return ones(size);
    return f->ops->read(f->opaque, reg, size);
}

void pci_host_config_write(struct pci_host *h, unsigned bus, unsigned devfn, unsigned reg,
                           uint32_t value, unsigned size)
{
    const struct pci_function *f = pci_host_target(h, bus, devfn);

    if (!f || !f->ops->write || reg >= PCI_CONFIG_SPACE_SIZE || (reg & 3) + size > 4)
        return;
    f->ops->write(f->opaque, reg, value & ones(size), size);
}

/* ---- the I/O ports ---- */

/* Registered at 0xcf8 (offset 0) and at 0xcfa (offsets 2 and 3 after the
 * adjustment below). Only a dword at 0xcf8 is CONFIG_ADDRESS; the rest is
 * an ordinary I/O cycle that nothing claims. */
static uint64_t address_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pci_host *h = opaque;

    if (offset == 0 && size == 4)
        return h->s.config_address;
    if (log_get_level() >= LOG_DEBUG && ratelimit_allow(&h->rl))
        log_debug("pci", "%u-byte read of 0x%x is not CONFIG_ADDRESS: all-ones", size,
                  PCI_HOST_CONFIG_ADDRESS + (unsigned)offset);
    return ones(size);
}

static void address_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pci_host *h = opaque;

    if (offset == 0 && size == 4) {
        h->s.config_address = (uint32_t)value & PCI_CONFIG_ADDRESS_MASK;
        return;
    }
    if (log_get_level() >= LOG_DEBUG && ratelimit_allow(&h->rl))
        log_debug("pci", "%u-byte write of 0x%x is not CONFIG_ADDRESS: ignored", size,
                  PCI_HOST_CONFIG_ADDRESS + (unsigned)offset);
}

const struct bus_ops pci_host_address_ops = {address_read, address_write};

/* 0xcfa-0xcfb: the same ops at offsets 2 and 3 of CONFIG_ADDRESS. */
static uint64_t address_hi_read(void *opaque, uint64_t offset, unsigned size)
{
    return address_read(opaque, offset + 2, size);
}

static void address_hi_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    address_write(opaque, offset + 2, value, size);
}

static const struct bus_ops pci_host_address_hi_ops = {address_hi_read, address_hi_write};

/* The part of an access at 0xcfc + offset that lies inside CONFIG_DATA;
 * bytes past 0xcff are not ours and read as all-ones. */
static unsigned data_span(uint64_t offset, unsigned size)
{
    if (offset >= 4)
        return 0;
    return size < 4 - (unsigned)offset ? size : 4 - (unsigned)offset;
}

static void data_target(const struct pci_host *h, unsigned *bus, unsigned *devfn, unsigned *reg)
{
    uint32_t a = h->s.config_address;

    *bus = (a >> 16) & 0xff;
    *devfn = (a >> 8) & 0xff;
    *reg = a & 0xfc;
}

static uint64_t data_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pci_host *h = opaque;
    unsigned n = data_span(offset, size), bus, devfn, reg;
    uint64_t v;

    if (!(h->s.config_address & PCI_CONFIG_ENABLE) || n == 0)
        return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
    data_target(h, &bus, &devfn, &reg);
    v = pci_host_config_read(h, bus, devfn, reg + (unsigned)offset, n);
    for (unsigned i = n; i < size && i < 8; i++)
        v |= 0xffull << (8 * i);
    return v;
}

static void data_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pci_host *h = opaque;
    unsigned n = data_span(offset, size), bus, devfn, reg;

    if (!(h->s.config_address & PCI_CONFIG_ENABLE) || n == 0)
        return;
    data_target(h, &bus, &devfn, &reg);
    pci_host_config_write(h, bus, devfn, reg + (unsigned)offset, (uint32_t)value, n);
}

const struct bus_ops pci_host_data_ops = {data_read, data_write};

/* ---- life cycle ---- */

int pci_host_add_function(struct pci_host *h, unsigned devfn, const struct pci_config_ops *ops,
                          void *opaque, const char *name)
{
    if (devfn >= PCI_DEVFNS || !ops)
        return err_set(-EINVAL, "pci: %s: bad slot %u", name, devfn);
    if (h->fn[devfn].ops)
        return err_set(-EEXIST, "pci: %s: 00:%02x.%u is taken by %s", name, devfn >> 3,
                       devfn & 7, h->fn[devfn].name);
    h->fn[devfn] = (struct pci_function){ops, opaque, name};
    return 0;
}

int pci_host_create(struct pci_host **out)
{
    struct pci_host *h = calloc(1, sizeof(*h));
    int rc;

    *out = NULL;
    if (!h)
        return err_set(-ENOMEM, "pci: out of memory");
    rc = pci_host_add_function(h, PCI_DEVFN(0, 0), &bridge_ops, h, "host-bridge");
    if (rc < 0) {
        free(h);
        return rc;
    }
    pci_host_reset(h);
    *out = h;
    return 0;
}

void pci_host_destroy(struct pci_host *h)
{
    free(h);
}

void pci_host_reset(struct pci_host *h)
{
    memset(&h->s, 0, sizeof(h->s));
}

int pci_host_register_pio(struct pci_host *h, struct bus *pio)
{
    int rc;

    /* 0xcf9 belongs to the reset control register (dev/acpi_pm.h). */
    if ((rc = bus_register(pio, PCI_HOST_CONFIG_ADDRESS, 1, &pci_host_address_ops, h,
                           "pci-config-address")) < 0 ||
        (rc = bus_register(pio, PCI_HOST_CONFIG_ADDRESS + 2, 2, &pci_host_address_hi_ops, h,
                           "pci-config-address")) < 0)
        return rc;
    return bus_register(pio, PCI_HOST_CONFIG_DATA, 4, &pci_host_data_ops, h, "pci-config-data");
}

/* ---- migration ---- */

static const struct vms_field pci_host_vms_fields[] = {
    VMS_U32(1, "config_address", struct pci_host_state, config_address, 1),
    VMS_U16(2, "bridge_command", struct pci_host_state, bridge_command, 1),
    VMS_U8(3, "bridge_cache_line", struct pci_host_state, bridge_cache_line, 1),
    VMS_U8(4, "bridge_latency", struct pci_host_state, bridge_latency, 1),
};

static int pci_host_vms_post_load(void *opaque)
{
    struct pci_host *h = opaque;

    if (h->s.config_address & ~PCI_CONFIG_ADDRESS_MASK)
        return err_set(-EINVAL, "config_address 0x%08x has reserved bits set",
                       h->s.config_address);
    if (h->s.bridge_command & ~PCI_HOST_BRIDGE_COMMAND_MASK)
        return err_set(-EINVAL, "bridge_command 0x%04x has bits outside 0x%04x",
                       h->s.bridge_command, PCI_HOST_BRIDGE_COMMAND_MASK);
    return 0;
}

const struct vms_desc pci_host_vms = {
    .name = "pci_host",
    .version = 1,
    .min_version = 1,
    .fields = pci_host_vms_fields,
    .nfields = VMS_ARRAY_SIZE(pci_host_vms_fields),
    .post_load = pci_host_vms_post_load,
};
