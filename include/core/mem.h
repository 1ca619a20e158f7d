/* Guest-physical memory: RAM regions backed by host memory, with
 * bounds-checked accessors. Layout (as on a PC): RAM from 0 up to the
 * 3 GiB hole (which holds the IOAPIC at 0xfec00000, the LAPIC at
 * 0xfee00000 and future MMIO), and the rest from 4 GiB up. */
#ifndef ROAM_CORE_MEM_H
#define ROAM_CORE_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define GMEM_PAGE_SIZE 4096ull
#define GMEM_LOW_LIMIT 0xc0000000ull  /* start of the MMIO hole below 4 GiB */
#define GMEM_HIGH_BASE 0x100000000ull
#define GMEM_MIN_SIZE (2ull << 20)    /* smallest RAM roam accepts: 2 MiB */
#define GMEM_MAX_REGIONS 2

struct mem_region {
    uint64_t gpa;
    uint64_t size;
    uint8_t *hva;
};

struct guest_mem {
    struct mem_region region[GMEM_MAX_REGIONS];
    unsigned count;
    uint64_t ram_size;  /* total RAM bytes */
    void *backing;      /* one host reservation holding every region */
    size_t backing_size;
};

/* Allocates ram_size bytes of zeroed guest RAM (page multiple, at least
 * GMEM_MIN_SIZE, at most what the host has) and lays it out. */
MUST_CHECK int gmem_init(struct guest_mem *m, uint64_t ram_size);
void gmem_destroy(struct guest_mem *m);
/* Host pointer for [gpa, gpa+len) if it lies inside one region, else NULL. */
void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* Copies to/from guest memory; -EFAULT if any byte is outside RAM. */
MUST_CHECK int gmem_read(const struct guest_mem *m, uint64_t gpa, void *buf, size_t len);
MUST_CHECK int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *buf, size_t len);
/* Highest guest-physical address + 1 that is RAM. */
uint64_t gmem_end(const struct guest_mem *m);

#endif
