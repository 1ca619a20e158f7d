/* Guest-physical memory; see core/mem.h. */
#include "core/mem.h"

#include <string.h>

#include "host/host.h"

int gmem_init(struct guest_mem *m, uint64_t ram_size)
{
    uint64_t host_total = host_mem_total();
    uint64_t low;
    void *p;
    int rc;

    memset(m, 0, sizeof(*m));
    if (ram_size < GMEM_MIN_SIZE)
        return err_set(-EINVAL, "memory size %llu bytes is too small (minimum 2M)",
                       (unsigned long long)ram_size);
    if (ram_size % GMEM_PAGE_SIZE)
        return err_set(-EINVAL, "memory size must be a multiple of 4K");
    if (host_total && ram_size > host_total)
        return err_set(-ENOMEM, "memory size %lluM is more than the host has (%lluM)",
                       (unsigned long long)(ram_size >> 20),
                       (unsigned long long)(host_total >> 20));
    if ((uint64_t)(size_t)ram_size != ram_size)
        return err_set(-ENOMEM, "memory size does not fit the host address space");
    rc = host_mem_alloc((size_t)ram_size, &p);
    if (rc < 0)
        return err_wrap(rc, "cannot allocate %lluM of guest memory",
                        (unsigned long long)(ram_size >> 20));
    m->backing = p;
    m->backing_size = (size_t)ram_size;
    m->ram_size = ram_size;
    low = ram_size < GMEM_LOW_LIMIT ? ram_size : GMEM_LOW_LIMIT;
    m->region[0] = (struct mem_region){0, low, p};
    m->count = 1;
    if (ram_size > low) {
        m->region[1] = (struct mem_region){GMEM_HIGH_BASE, ram_size - low, (uint8_t *)p + low};
        m->count = 2;
    }
    return 0;
}

void gmem_destroy(struct guest_mem *m)
{
    if (m->backing)
        host_mem_release(m->backing, m->backing_size);
    memset(m, 0, sizeof(*m));
}

void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
    for (unsigned i = 0; i < m->count; i++) {
        const struct mem_region *r = &m->region[i];
        if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
            return r->hva + (gpa - r->gpa);
    }
    return NULL;
}

/* Copies piecewise so that an access straddling two regions still works
 * when both sides are RAM (they never are adjacent today, but the rule is
 * "every byte must be RAM", not "one region"). */
static int gmem_copy(const struct guest_mem *m, uint64_t gpa, void *buf, size_t len, int write)
{
    uint8_t *b = buf;

    while (len) {
        const struct mem_region *r = NULL;
        for (unsigned i = 0; i < m->count; i++)
            if (gpa >= m->region[i].gpa && gpa - m->region[i].gpa < m->region[i].size)
                r = &m->region[i];
        if (!r)
            return err_set(-EFAULT, "guest address 0x%llx is not RAM", (unsigned long long)gpa);
        uint64_t avail = r->size - (gpa - r->gpa);
        size_t n = len < avail ? len : (size_t)avail;
        if (write)
            memcpy(r->hva + (gpa - r->gpa), b, n);
        else
            memcpy(b, r->hva + (gpa - r->gpa), n);
        b += n;
        gpa += n;
        len -= n;
    }
    return 0;
}

int gmem_read(const struct guest_mem *m, uint64_t gpa, void *buf, size_t len)
{
    return gmem_copy(m, gpa, buf, len, 0);
}

int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *buf, size_t len)
{
    return gmem_copy(m, gpa, (void *)buf, len, 1);
}

uint64_t gmem_end(const struct guest_mem *m)
{
    if (!m->count)
        return 0;
    return m->region[m->count - 1].gpa + m->region[m->count - 1].size;
}
