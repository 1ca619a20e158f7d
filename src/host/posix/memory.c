/* Guest and host memory on POSIX: anonymous mmap (PROT_NONE + MAP_NORESERVE)
 * reserves address space, mprotect commits it, munmap releases it;
 * sysconf gives the page size and the amount of physical memory. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <fcntl.h>
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

void host_mem_advise_huge(void *addr, size_t size)
{
#ifdef MADV_HUGEPAGE
    /* A hint only: where THP is off, nothing changes. */
    if (addr && size >= (2u << 20))
        (void)madvise(addr, size, MADV_HUGEPAGE);
#else
    (void)addr;
    (void)size;
#endif
}

#if defined(__linux__) && !defined(MADV_POPULATE_WRITE)
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

void host_mem_populate(void *addr, size_t size)
{
#if defined(__linux__)
    size_t ps = host_page_size();
    uintptr_t a = (uintptr_t)addr & ~(uintptr_t)(ps - 1);
    if (size)
        (void)madvise((void *)a, (uintptr_t)addr + size - a, MADV_POPULATE_WRITE);
#else
    (void)addr;
    (void)size;
#endif
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

/* /proc/self/pagemap has one u64 per page: bit 63 "present in RAM", bit 62
 * "swapped". A private anonymous page with neither was never faulted in, so
 * it is still zero-filled (Documentation/admin-guide/mm/pagemap.rst). The
 * two bits are readable without privileges. */
int host_mem_untouched(const void *addr, size_t len, uint64_t *bitmap)
{
#if defined(__linux__)
    enum { CHUNK = 4096 };
    static const uint64_t PM_PRESENT = 1ull << 63, PM_SWAP = 1ull << 62;
    uint64_t entries[CHUNK];
    size_t npages = len / 4096;
    int fd;

    if (host_page_size() != 4096 || ((uintptr_t)addr & 4095) || (len & 4095))
        return err_set(-ENOSYS, "pagemap: needs 4 KiB pages");
    fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(-ENOSYS, "/proc/self/pagemap: %s", strerror(errno));
    memset(bitmap, 0, (npages + 63) / 64 * sizeof(uint64_t));
    for (size_t done = 0; done < npages;) {
        size_t n = npages - done < CHUNK ? npages - done : CHUNK;
        off_t off = (off_t)(((uintptr_t)addr / 4096 + done) * sizeof(uint64_t));
        ssize_t got = pread(fd, entries, n * sizeof(uint64_t), off);
        if (got <= 0 || (size_t)got % sizeof(uint64_t)) {
            int e = got < 0 ? errno : EIO;
            close(fd);
            return err_set(-ENOSYS, "/proc/self/pagemap: %s", strerror(e));
        }
        n = (size_t)got / sizeof(uint64_t);
        for (size_t i = 0; i < n; i++)
            if (!(entries[i] & (PM_PRESENT | PM_SWAP)))
                bitmap[(done + i) / 64] |= 1ull << ((done + i) % 64);
        done += n;
    }
    close(fd);
    return 0;
#else
    (void)addr;
    (void)len;
    (void)bitmap;
    return err_set(-ENOSYS, "this host cannot tell untouched memory apart");
#endif
}
