/* POST diagnostic port 0x80 (IBM PC/AT Technical Reference: the BIOS writes
 * power-on self-test checkpoints there; Linux writes it as an I/O delay).
 * The device only claims the port, so guest writes are not reported as
 * unhandled, and remembers the last code for diagnostics. Reads return
 * 0xff, as on QEMU.
 *
 * post_register_pio() puts it on the PIO bus: post_ops at POST_PORT
 * (1 port), the device as opaque. */
#ifndef ROAM_DEV_POST_H
#define ROAM_DEV_POST_H

#include <stdint.h>

#include "core/bus.h"
#include "core/err.h"

#define POST_PORT 0x80

/* Everything a migration must carry: plain values, no pointers. */
struct post_state {
    uint8_t code;  /* last byte written */
    uint8_t valid; /* a code was written since reset */
};

struct post {
    struct post_state s;
};

extern const struct bus_ops post_ops;

MUST_CHECK int post_create(struct post **out);
void post_destroy(struct post *p);
void post_reset(struct post *p);
/* Registers the port on the PIO bus. */
MUST_CHECK int post_register_pio(struct post *p, struct bus *pio);
/* The last code written, or -1 if none since reset. */
int post_code(const struct post *p);

/* The migratable state (migrate/vmstate.h): struct post_state. Its state
 * is &p->s, its opaque p; post_load checks the flag. */
struct vms_desc;
extern const struct vms_desc post_vms;

#endif
