/* QEMU firmware configuration device, traditional PIO interface (QEMU
 * docs/specs/fw_cfg.rst): a 16-bit selector written to port 0x510 picks an
 * item and rewinds it; each 8-bit read of port 0x511 returns the item's
 * next byte, and 0 once past its end or for an item that does not exist.
 * As in QEMU, both ports decode the same way: a 16-bit write to either
 * selects, an 8-bit read from either reads data; 8-bit writes (the
 * deprecated data-write path) and other sizes are ignored, and reads of
 * other sizes return 0. The DMA interface is not offered (ID bit 1 clear).
 *
 * Items the device provides itself: 0x0000 signature "QEMU" and 0x0001 ID
 * (32-bit LE, 1 = traditional interface). The core adds the rest with
 * fwcfg_add() or the setters: 0x0003 RAM size (64-bit LE), 0x0005 CPU
 * count (16-bit LE), 0x000f maximum CPUs (16-bit LE) and 0x0011 maximum
 * RAM (64-bit LE).
 *
 * Key 0x0011 is roam's choice, made by the issue that specified this
 * device: in QEMU 0x0011 is FW_CFG_KERNEL_DATA. A guest that reads it
 * under QEMU gets kernel bytes (or nothing), not a RAM size.
 *
 * The items are configuration, set by the core on both ends of a
 * migration; the state that moves is only the selector and offset.
 *
 * fwcfg_register_pio() puts it on the PIO bus: fwcfg_ops at FWCFG_PORT
 * (FWCFG_NR_PORTS ports), the device as opaque. */
#ifndef ROAM_DEV_FWCFG_H
#define ROAM_DEV_FWCFG_H

#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/err.h"

#define FWCFG_PORT 0x510 /* selector; data at 0x511 */
#define FWCFG_NR_PORTS 2

#define FWCFG_KEY_SIGNATURE 0x0000
#define FWCFG_KEY_ID 0x0001
#define FWCFG_KEY_RAM_SIZE 0x0003
#define FWCFG_KEY_NB_CPUS 0x0005
#define FWCFG_KEY_MAX_CPUS 0x000f
#define FWCFG_KEY_MAX_RAM 0x0011 /* roam's; see above */
#define FWCFG_WRITE_CHANNEL 0x4000 /* selector bit ignored for reads */
#define FWCFG_ARCH_LOCAL 0x8000    /* selector bit: architecture-specific items */

#define FWCFG_ID_TRADITIONAL 0x1

/* Everything a migration must carry: plain values, no pointers. */
struct fwcfg_state {
    uint16_t selector; /* as written, less FWCFG_WRITE_CHANNEL */
    uint32_t offset;   /* next byte of the selected item */
};

struct fwcfg_item {
    uint16_t key;
    uint32_t len;
    uint8_t *data;
};

struct fwcfg {
    struct fwcfg_state s;
    struct fwcfg_item *items;
    size_t count, cap;
};

extern const struct bus_ops fwcfg_ops;

/* Creates the device with the signature and ID items. */
MUST_CHECK int fwcfg_create(struct fwcfg **out);
void fwcfg_destroy(struct fwcfg *f);
/* Registers the two ports on the PIO bus. */
MUST_CHECK int fwcfg_register_pio(struct fwcfg *f, struct bus *pio);
/* Selects item 0 (the signature) at offset 0, as QEMU's reset does. */
void fwcfg_reset(struct fwcfg *f);
/* Adds item key with a copy of data[0..len), replacing an item with the
 * same key. Refuses keys with FWCFG_WRITE_CHANNEL and items over 4 GiB. */
MUST_CHECK int fwcfg_add(struct fwcfg *f, uint16_t key, const void *data, size_t len);
MUST_CHECK int fwcfg_set_ram_size(struct fwcfg *f, uint64_t bytes);
MUST_CHECK int fwcfg_set_max_ram(struct fwcfg *f, uint64_t bytes);
MUST_CHECK int fwcfg_set_cpu_count(struct fwcfg *f, uint16_t n);
MUST_CHECK int fwcfg_set_max_cpus(struct fwcfg *f, uint16_t n);
/* The item stored under key (NULL if none); *len gets its length. */
const uint8_t *fwcfg_get(const struct fwcfg *f, uint16_t key, size_t *len);

/* The migratable state (migrate/vmstate.h): struct fwcfg_state, the
 * selector and offset (the items are configuration). Its state is &f->s,
 * its opaque f; post_load checks the selector and that the offset lies
 * within the selected item as this side configured it. */
struct vms_desc;
extern const struct vms_desc fwcfg_vms;

#endif
