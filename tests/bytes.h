/* Little-endian byte helpers for tests that build images in host buffers
 * and read back what a loader wrote into guest memory. */
#ifndef ROAM_TESTS_BYTES_H
#define ROAM_TESTS_BYTES_H

#include <stdint.h>

#include "core/mem.h"

static inline void w16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void w32(uint8_t *p, uint32_t v)
{
    w16(p, (uint16_t)v);
    w16(p + 2, (uint16_t)(v >> 16));
}

static inline void w64(uint8_t *p, uint64_t v)
{
    w32(p, (uint32_t)v);
    w32(p + 4, (uint32_t)(v >> 32));
}

/* Reads guest memory; 0xdeadbeef where it is not RAM. */
static inline uint32_t r32(const struct guest_mem *m, uint64_t gpa)
{
    const uint8_t *p = gmem_ptr(m, gpa, 4);
    if (!p)
        return 0xdeadbeef;
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline uint64_t r64(const struct guest_mem *m, uint64_t gpa)
{
    return r32(m, gpa) | ((uint64_t)r32(m, gpa + 4) << 32);
}

#endif
