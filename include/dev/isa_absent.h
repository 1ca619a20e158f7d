/* The standard PC I/O ports of devices roam does not have: ISA slots with
 * nothing in them. On a PC an I/O read that no device claims floats the
 * bus and reads all-ones, and a write goes nowhere (IBM PC/AT Technical
 * Reference, "System I/O Address Map"). Guests probe these ports on every
 * boot (Linux's 8250 driver looks for COM2-COM4 by writing and reading
 * back their scratch and interrupt-enable registers; parport_pc and the
 * floppy driver look for theirs), and an all-ones answer is how they learn
 * that nothing is there.
 *
 * The core bus already answers any unclaimed port that way, but it warns,
 * since an unknown port can be a guest bug or a device roam lacks. The
 * ports below are known and their absence is deliberate, so this device
 * claims them, gives the same answer, and logs at debug level only
 * (rate-limited). It has no state: nothing to reset or migrate.
 *
 * isa_absent_register_pio() puts isa_absent_ops at each range of
 * isa_absent_ranges[] on the PIO bus, a per-range port as opaque. */
#ifndef ROAM_DEV_ISA_ABSENT_H
#define ROAM_DEV_ISA_ABSENT_H

#include <stdint.h>

#include "core/bus.h"
#include "core/err.h"
#include "core/log.h"

struct isa_absent_range {
    uint16_t base, len;
    const char *name;
};

#define ISA_ABSENT_NRANGES 8
extern const struct isa_absent_range isa_absent_ranges[ISA_ABSENT_NRANGES];

struct isa_absent;

/* One claimed range: what the bus passes as opaque. */
struct isa_absent_port {
    struct isa_absent *owner;
    const struct isa_absent_range *range;
};

struct isa_absent {
    struct isa_absent_port port[ISA_ABSENT_NRANGES];
    struct ratelimit rl; /* for the debug messages */
    uint64_t accesses;   /* reads and writes seen, for diagnostics */
};

extern const struct bus_ops isa_absent_ops;

void isa_absent_init(struct isa_absent *a);
/* Claims every range; fails (-EEXIST) if a device already has one. */
MUST_CHECK int isa_absent_register_pio(struct isa_absent *a, struct bus *pio);

#endif
