/* Guest and host memory on POSIX: anonymous mmap (PROT_NONE + MAP_NORESERVE)
 * reserves address space, mprotect commits it, munmap releases it;
 * sysconf gives the page size and the amount of physical memory. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "host/host.h"

size_t host_page_size(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? (size_t)ps : 4096;
}

uint64_t host_mem_total(void)
{
    long pages = sysconf(_SC_PHYS_PAGES);
    long ps = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || ps <= 0)
        return 0;
    return (uint64_t)pages * (uint64_t)ps;
}

int host_mem_reserve(size_t size, void **out)
{
    *out = NULL;
    if (size == 0)
        return err_set(-EINVAL, "reserve memory: size is zero");
    /* The address space is reserved, inaccessible and uncharged: commit
     * later turns parts of it into zero-filled, readable/writable pages. */
    void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        return err_set(-e, "reserve %llu bytes of memory: %s", (unsigned long long)size,
                       strerror(e));
    }
    *out = p;
    return 0;
}

int host_mem_commit(void *addr, size_t size)
{
    size_t ps = host_page_size();
    if ((uintptr_t)addr % ps != 0)
        return err_set(-EINVAL, "commit memory at %p: address is not page aligned", addr);
    if (size == 0)
        return 0;
    /* Anonymous pages that were never written read as zero, so the range
     * is zeroed the first time it is committed. */
    if (mprotect(addr, size, PROT_READ | PROT_WRITE) != 0) {
        int e = errno;
        return err_set(-e, "commit %llu bytes of memory at %p: %s", (unsigned long long)size, addr,
                       strerror(e));
    }
    return 0;
}

int host_mem_alloc(size_t size, void **out)
{
    void *p;
    int rc = host_mem_reserve(size, &p);
    if (rc < 0) {
        *out = NULL;
        return rc;
    }
    rc = host_mem_commit(p, size);
    if (rc < 0) {
        host_mem_release(p, size);
        *out = NULL;
        return rc;
    }
    *out = p;
    return 0;
}

void host_mem_release(void *addr, size_t size)
{
    if (addr && size)
        munmap(addr, size);
}
