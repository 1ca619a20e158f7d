/* prewarm MiB: touches MiB of anonymous memory in transparent huge pages and
 * exits, so that the next process to take huge pages gets ones the kernel
 * just had in use.
 *
 * Why bench/migrate.sh needs it: on a host that is itself a VM with free
 * page reporting (virtio-balloon, as this project's machine is), free 2 MiB
 * blocks are handed back to the outer host after ~2 s, and the first touch
 * of one costs that host's fault-in of 512 small pages: 0.8-1.2 s per 512
 * MiB instead of ~30 ms. A migration's destination touches all the guest's
 * memory for the first time, so which VMM got reported blocks, and which
 * ones freed by the run before, decided the unlimited rows. Run right
 * before each migration, for both VMMs alike, this takes that out. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

int main(int argc, char **argv)
{
    const size_t huge = 2u << 20;
    char *end;
    unsigned long long mib = argc == 2 ? strtoull(argv[1], &end, 10) : 0;

    if (argc != 2 || *end || mib == 0 || mib > (1ull << 20)) {
        fprintf(stderr, "usage: prewarm MiB (1 to 1048576)\n");
        return 2;
    }
    size_t size = (size_t)mib << 20;
    char *p = mmap(NULL, size + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("prewarm: mmap");
        return 1;
    }
    p = (char *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
    (void)madvise(p, size, MADV_HUGEPAGE);
    if (madvise(p, size, MADV_POPULATE_WRITE) != 0)
        for (size_t i = 0; i < size; i += 4096)
            p[i] = 1; /* a kernel before 5.14 */
    return 0;
}
