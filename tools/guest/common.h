/* Shared by roam's guest tools (tools/guest/README.md): the deterministic
 * word generator both the guest and the host side use. These are Linux user
 * programs built static for the guest kit, not part of the VMM. */
#ifndef ROAM_GUEST_TOOLS_COMMON_H
#define ROAM_GUEST_TOOLS_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014): one multiply-xorshift step per word, full period. */
static inline uint64_t tool_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* "64M", "512K", "4096", "1G" -> bytes; 0 on error. */
static inline uint64_t tool_parse_size(const char *s)
{
    char *end;
    uint64_t v = strtoull(s, &end, 0);
    if (end == s)
        return 0;
    switch (*end) {
    case 'G': case 'g': v <<= 10; /* fall through */
    case 'M': case 'm': v <<= 10; /* fall through */
    case 'K': case 'k': v <<= 10; end++; break;
    case 0: break;
    default: return 0;
    }
    return *end ? 0 : v;
}

#endif
