/* roam-sum: the guest kit's checksum tool (tools/guest/README.md).
 *
 *   roam-sum gen SIZE [SEED]   write SIZE bytes of deterministic data (the
 *                              splitmix64 words of SEED, little-endian) to stdout
 *   roam-sum [FILE...]         print each FILE's (or stdin's) roam-sum:
 *                              "<16 hex digits>  <name>"
 *
 * The sum is over 64-bit little-endian words (a short tail is zero-padded):
 * h = rotl(h ^ w, 29) * 0x9e3779b97f4a7c15 from h = length-independent seed,
 * then the byte length is mixed in. Cheap enough for a software-emulated CPU,
 * and any changed, lost or reordered word changes it. The same static binary
 * runs on the host to compute the expected values. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "common.h"

#define BUF (1u << 16)

static uint64_t sum_words(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h ^= w;
        h = ((h << 29) | (h >> 35)) * 0x9e3779b97f4a7c15ull;
    }
    return h;
}

static int sum_fd(int fd, const char *name)
{
    static uint8_t buf[BUF + 8];
    uint64_t h = 0x726f616d2d73756dull, total = 0; /* "roam-sum" */
    size_t have = 0;

    for (;;) {
        ssize_t n = read(fd, buf + have, BUF - have);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "roam-sum: %s: %s\n", name, strerror(errno));
            return 1;
        }
        if (n == 0)
            break;
        have += (size_t)n;
        total += (uint64_t)n;
        size_t whole = have & ~(size_t)7;
        h = sum_words(h, buf, whole);
        memmove(buf, buf + whole, have - whole);
        have -= whole;
    }
    if (have) {
        memset(buf + have, 0, 8 - have);
        h = sum_words(h, buf, 8);
    }
    h = tool_mix(h ^ total);
    printf("%016llx  %s\n", (unsigned long long)h, name);
    return 0;
}

static int gen(uint64_t size, uint64_t seed)
{
    static uint64_t buf[BUF / 8];
    uint64_t k = 0;

    while (size) {
        size_t n = size < BUF ? (size_t)size : BUF;
        for (size_t i = 0; i < (n + 7) / 8; i++)
            buf[i] = tool_mix(seed ^ (k++ * 0x100000001b3ull));
        for (size_t off = 0; off < n;) {
            ssize_t w = write(1, (uint8_t *)buf + off, n - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                fprintf(stderr, "roam-sum gen: write: %s\n", strerror(errno));
                return 1;
            }
            off += (size_t)w;
        }
        size -= n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 0;

    if (argc >= 2 && strcmp(argv[1], "gen") == 0) {
        uint64_t size = argc >= 3 ? tool_parse_size(argv[2]) : 0;
        if (argc < 3 || argc > 4 || (size == 0 && strcmp(argv[2], "0") != 0)) {
            fprintf(stderr, "usage: roam-sum gen SIZE [SEED]   (SIZE like 64M)\n");
            return 2;
        }
        return gen(size, argc == 4 ? strtoull(argv[3], NULL, 0) : 0);
    }
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: roam-sum [FILE...]        checksum files (stdin without FILE)\n"
               "       roam-sum gen SIZE [SEED]  write SIZE bytes of deterministic data\n");
        return 0;
    }
    if (argc < 2)
        return sum_fd(0, "-");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-") == 0) {
            rc |= sum_fd(0, "-");
            continue;
        }
        int fd = open(argv[i], O_RDONLY);
        if (fd < 0) {
            fprintf(stderr, "roam-sum: %s: %s\n", argv[i], strerror(errno));
            rc = 1;
            continue;
        }
        rc |= sum_fd(fd, argv[i]);
        close(fd);
    }
    return rc;
}
