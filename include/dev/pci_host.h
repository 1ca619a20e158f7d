/* PCI host bridge with configuration mechanism #1 (PCI Local Bus
 * Specification 3.0, 3.2.2.3.2 "Software Generation of Configuration
 * Transactions"; the configuration header of 6.1 and 6.2).
 *
 * - CONFIG_ADDRESS at 0xcf8 is a 32-bit register that only full dword
 *   accesses reach: bit 31 enables configuration cycles, bits 23-16 are the
 *   bus, 15-11 the device, 10-8 the function, 7-2 the dword of the
 *   function's 256-byte space. Bits 30-24 (reserved) and 1-0 read as 0. A
 *   byte or word access to 0xcf8-0xcfb is an ordinary I/O cycle: the spec
 *   sends it on to the bus, where nothing answers (reads 0xff..., writes
 *   go nowhere), and 0xcf9 is the reset control register of dev/acpi_pm.h.
 *   (Linux's probe for mechanism #2 writes bytes to 0xcf8 and 0xcfa and
 *   would take the bridge for a type 2 one if they read back.)
 * - CONFIG_DATA at 0xcfc-0xcff: a 1-, 2- or 4-byte access at 0xcfc + n
 *   reaches bytes (CONFIG_ADDRESS & 0xfc) + n... of the selected
 *   function while bit 31 is set. With bit 31 clear it is an ordinary I/O
 *   cycle, which nothing answers.
 *
 * There is one bus, bus 0 (no PCI-to-PCI bridges): a configuration cycle
 * to any other bus, or to a device/function nobody registered, ends in a
 * master abort, which reads all-ones and drops writes (6.1).
 *
 * Device table: a PCI function joins bus 0 with pci_host_add_function(),
 * giving its devfn (device << 3 | function) and config-space ops; it keeps
 * its own state and migrates it itself. The host bridge at 00:00.0 is the
 * only function there now; the table is there for virtio-pci later.
 *
 * The host bridge is an Intel 82441FX (i440FX PMC, 8086:1237, revision 2),
 * class 0x060000 (bridge, host): the PCI host bridge of QEMU's "pc" machine.
 * It is a conventional PCI host reached with mechanism #1 alone (no
 * memory-mapped ECAM: roam has no MCFG table), which is what roam offers;
 * Q35's MCH (8086:29c0) would promise PCI Express and the MCH's ECAM
 * window (PCIEXBAR) instead. Its config space is the type 0 header, read
 * only, except what 6.2 makes writable for a function like it: Command
 * (I/O, memory, bus master, parity and SERR enables), Cache Line Size and
 * the Latency Timer. It has no BARs, no interrupt pin, and none of the
 * 82441FX's chipset registers (PAM, SMRAM: firmware's business, and roam
 * boots without firmware); those bytes read 0.
 *
 * pci_host_register_pio() claims 0xcf8 (1 port), 0xcfa-0xcfb and
 * 0xcfc-0xcff on the PIO bus, all with the host as opaque. */
#ifndef ROAM_DEV_PCI_HOST_H
#define ROAM_DEV_PCI_HOST_H

#include <stdint.h>

#include "core/bus.h"
#include "core/err.h"

#define PCI_HOST_CONFIG_ADDRESS 0xcf8u
#define PCI_HOST_CONFIG_DATA 0xcfcu
#define PCI_CONFIG_ENABLE 0x80000000u
/* The CONFIG_ADDRESS bits that are stored: enable, bus, device, function,
 * register; the rest read as 0. */
#define PCI_CONFIG_ADDRESS_MASK 0x80fffffcu
#define PCI_CONFIG_SPACE_SIZE 256u
#define PCI_DEVFNS 256u /* 32 devices x 8 functions on a bus */
#define PCI_DEVFN(dev, fn) ((unsigned)(((dev) << 3) | (fn)))

/* Type 0 configuration header offsets (PCI 3.0, Figure 6-1). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a /* sub-class, base class */
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER 0x0d
#define PCI_HEADER_TYPE 0x0e
#define PCI_BIST 0x0f
#define PCI_BAR0 0x10
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

/* Command register bits (6.2.2). */
#define PCI_COMMAND_IO 0x0001u
#define PCI_COMMAND_MEMORY 0x0002u
#define PCI_COMMAND_MASTER 0x0004u
#define PCI_COMMAND_PARITY 0x0040u
#define PCI_COMMAND_SERR 0x0100u
/* Status: DEVSEL# timing "medium" (bits 10-9 = 01) and fast back-to-back
 * capable, as the 82441FX reports them. */
#define PCI_STATUS_FAST_BACK 0x0080u
#define PCI_STATUS_DEVSEL_MEDIUM 0x0200u

/* The host bridge at 00:00.0. */
#define PCI_HOST_BRIDGE_VENDOR 0x8086u /* Intel */
#define PCI_HOST_BRIDGE_DEVICE 0x1237u /* 82441FX PMC (i440FX) */
#define PCI_HOST_BRIDGE_REVISION 0x02u /* as on QEMU's pc machine */
#define PCI_HOST_BRIDGE_CLASS 0x060000u /* bridge / host bridge / prog-if 0 */
#define PCI_HOST_BRIDGE_COMMAND_MASK                                                      \
    (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |      \
     PCI_COMMAND_SERR)

/* A function's configuration space. reg is a byte offset below 256 and
 * the access (size 1, 2 or 4) never crosses a dword: (reg & 3) + size <= 4.
 * Values are little-endian, zero-extended. */
struct pci_config_ops {
    uint32_t (*read)(void *opaque, unsigned reg, unsigned size);
    void (*write)(void *opaque, unsigned reg, uint32_t value, unsigned size);
};

struct pci_function {
    const struct pci_config_ops *ops; /* NULL: no function there */
    void *opaque;
    const char *name;
};

/* Everything a migration must carry: plain values, no pointers. The
 * registered functions migrate their own state. */
struct pci_host_state {
    uint32_t config_address; /* 0xcf8, masked with PCI_CONFIG_ADDRESS_MASK */
    uint16_t bridge_command; /* 00:00.0's Command register */
    uint8_t bridge_cache_line;
    uint8_t bridge_latency;
};

struct pci_host {
    struct pci_host_state s;
    struct pci_function fn[PCI_DEVFNS]; /* bus 0, by devfn */
    struct ratelimit rl;                /* debug messages about 0xcf8-0xcfb */
};

extern const struct bus_ops pci_host_address_ops; /* 0xcf8-0xcfb */
extern const struct bus_ops pci_host_data_ops;    /* 0xcfc-0xcff */

/* Creates the host with its bridge at 00:00.0, in the reset state. */
MUST_CHECK int pci_host_create(struct pci_host **out);
void pci_host_destroy(struct pci_host *h);
/* Power-on state: CONFIG_ADDRESS 0 and the bridge's registers at 0. */
void pci_host_reset(struct pci_host *h);
MUST_CHECK int pci_host_register_pio(struct pci_host *h, struct bus *pio);
/* Puts a function on bus 0 at devfn; -EINVAL for a devfn above 255,
 * -EEXIST if one is there already. name is kept (a string literal). */
MUST_CHECK int pci_host_add_function(struct pci_host *h, unsigned devfn,
                                     const struct pci_config_ops *ops, void *opaque,
                                     const char *name);
/* A configuration read or write as mechanism #1 would make it, for tests
 * and for roam's own use: bus 0 only, all-ones from nothing. */
uint32_t pci_host_config_read(struct pci_host *h, unsigned bus, unsigned devfn, unsigned reg,
                              unsigned size);
void pci_host_config_write(struct pci_host *h, unsigned bus, unsigned devfn, unsigned reg,
                           uint32_t value, unsigned size);

/* The migratable state (migrate/vmstate.h): struct pci_host_state, state
 * &h->s, opaque h; post_load refuses reserved CONFIG_ADDRESS bits and
 * Command bits the bridge does not have. */
struct vms_desc;
extern const struct vms_desc pci_host_vms;

#endif
