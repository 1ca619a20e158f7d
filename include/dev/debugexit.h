/* Debug-exit port, as QEMU's isa-debug-exit device (QEMU hw/misc/debugexit.c,
 * configured "iobase=0xf4,iosize=0x04"): a guest ends the VM by writing a
 * code there, and the VMM exits with status (code << 1) | 1, which is odd
 * and so never collides with roam's own (even) exit statuses.
 *
 * The port is 4 bytes wide: 1-, 2- and 4-byte writes anywhere in
 * 0xf4-0xf7 are accepted and the value written (zero-extended from the
 * access size) is the code, as in QEMU. Reads return 0, as in QEMU, so a
 * guest sees the same thing on roam and on its QEMU peer.
 *
 * debugexit_register_pio() puts it on the PIO bus: debugexit_ops at
 * DEBUGEXIT_PORT (DEBUGEXIT_NR_PORTS ports), the device as opaque. */
#ifndef ROAM_DEV_DEBUGEXIT_H
#define ROAM_DEV_DEBUGEXIT_H

#include <stdint.h>

#include "core/bus.h"
#include "core/err.h"

#define DEBUGEXIT_PORT 0xf4
#define DEBUGEXIT_NR_PORTS 4

/* Everything a migration must carry: plain values, no pointers. */
struct debugexit_state {
    uint32_t code;  /* last code written */
    uint8_t exited; /* a code was written since reset */
};

struct debugexit {
    struct debugexit_state s;
    void (*exit_cb)(void *opaque, uint32_t status);
    void *opaque;
};

extern const struct bus_ops debugexit_ops;

/* exit_cb gets debugexit_status(code) for every write; it may be NULL. */
MUST_CHECK int debugexit_create(struct debugexit **out,
                                void (*exit_cb)(void *opaque, uint32_t status), void *opaque);
void debugexit_destroy(struct debugexit *d);
void debugexit_reset(struct debugexit *d);
/* Registers the port range on the PIO bus. */
MUST_CHECK int debugexit_register_pio(struct debugexit *d, struct bus *pio);
/* (code << 1) | 1 in 32 bits (bit 31 of the code is lost); its low 8
 * bits, what a process exit status keeps, are exactly QEMU's. */
uint32_t debugexit_status(uint32_t code);

/* The migratable state (migrate/vmstate.h): struct debugexit_state (the
 * last code, for diagnostics; a VM that wrote one has stopped). Its state
 * is &d->s, its opaque d; post_load checks the flag. */
struct vms_desc;
extern const struct vms_desc debugexit_vms;

#endif
