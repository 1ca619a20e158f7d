/* PIO and MMIO dispatch; see core/bus.h. Ranges are kept sorted so lookup
 * is a binary search: a VM has a few dozen ranges and exits are hot. */
#include "core/bus.h"

#include <stdlib.h>
#include <string.h>

void bus_init(struct bus *b, const char *name)
{
    memset(b, 0, sizeof(*b));
    b->name = name;
}

void bus_destroy(struct bus *b)
{
    free(b->ranges);
    b->ranges = NULL;
    b->count = b->cap = 0;
}

int bus_register(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
                 void *opaque, const char *name)
{
    size_t i;

    if (len == 0 || base + len - 1 < base)
        return err_set(-EINVAL, "%s: bad range for %s", b->name, name);
    for (i = 0; i < b->count; i++) {
        const struct bus_range *r = &b->ranges[i];
        if (base <= r->base + r->len - 1 && r->base <= base + len - 1)
            return err_set(-EEXIST, "%s: %s at 0x%llx-0x%llx overlaps %s at 0x%llx-0x%llx",
                           b->name, name, (unsigned long long)base,
                           (unsigned long long)(base + len - 1), r->name,
                           (unsigned long long)r->base,
                           (unsigned long long)(r->base + r->len - 1));
    }
    if (b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        struct bus_range *n = realloc(b->ranges, cap * sizeof(*n));
        if (!n)
            return err_set(-ENOMEM, "%s: out of memory", b->name);
        b->ranges = n;
        b->cap = cap;
    }
    for (i = b->count; i > 0 && b->ranges[i - 1].base > base; i--)
        b->ranges[i] = b->ranges[i - 1];
    b->ranges[i] = (struct bus_range){base, len, ops, opaque, name};
    b->count++;
    return 0;
}

const struct bus_range *bus_find(const struct bus *b, uint64_t addr)
{
    size_t lo = 0, hi = b->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct bus_range *r = &b->ranges[mid];
        if (addr < r->base)
            hi = mid;
        else if (addr - r->base >= r->len)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

static void bus_unhandled(struct bus *b, const char *what, uint64_t addr, unsigned size)
{
    b->unhandled++;
    if (ratelimit_allow(&b->rl))
        log_warn(b->name, "unhandled %s of %u bytes at 0x%llx", what, size,
                 (unsigned long long)addr);
}

int bus_read(struct bus *b, uint64_t addr, unsigned size, uint64_t *value)
{
    const struct bus_range *r = bus_find(b, addr);

    if (!r || !r->ops->read) {
        bus_unhandled(b, "read", addr, size);
        *value = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
        return -ENOENT;
    }
    *value = r->ops->read(r->opaque, addr - r->base, size);
    return 0;
}

int bus_write(struct bus *b, uint64_t addr, unsigned size, uint64_t value)
{
    const struct bus_range *r = bus_find(b, addr);

    if (!r || !r->ops->write) {
        bus_unhandled(b, "write", addr, size);
        return -ENOENT;
    }
    r->ops->write(r->opaque, addr - r->base, value, size);
    return 0;
}
