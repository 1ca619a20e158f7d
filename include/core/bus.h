/* PIO and MMIO buses: a sorted set of non-overlapping address ranges, each
 * owned by one device (ops + opaque). An access no device claims is logged
 * (rate-limited) and reads as all-ones, as on a real PC's floating bus. */
#ifndef ROAM_CORE_BUS_H
#define ROAM_CORE_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/log.h"

/* Device access callbacks. offset is relative to the registered base;
 * size is 1, 2, 4 or 8. Values are little-endian, zero-extended. */
struct bus_ops {
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
};

struct bus_range {
    uint64_t base;
    uint64_t len;
    const struct bus_ops *ops;
    void *opaque;
    const char *name;
};

struct bus {
    const char *name; /* "pio" or "mmio", for messages */
    struct bus_range *ranges; /* sorted by base */
    size_t count, cap;
    uint64_t unhandled;       /* count of unclaimed accesses */
    struct ratelimit rl;
};

void bus_init(struct bus *b, const char *name);
void bus_destroy(struct bus *b);
/* Claims [base, base+len); refuses (-EEXIST) a range that overlaps another. */
MUST_CHECK int bus_register(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
                            void *opaque, const char *name);
/* Returns the range containing addr, or NULL. */
const struct bus_range *bus_find(const struct bus *b, uint64_t addr);
/* Dispatches an access. Returns 0 if a device handled it, -ENOENT if not
 * (reads then yield all-ones in *value). */
int bus_read(struct bus *b, uint64_t addr, unsigned size, uint64_t *value);
int bus_write(struct bus *b, uint64_t addr, unsigned size, uint64_t value);

#endif
