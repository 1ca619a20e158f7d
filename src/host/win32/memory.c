/* Guest and host memory on Windows: VirtualAlloc reserves (MEM_RESERVE)
 * and commits (MEM_COMMIT), VirtualFree releases; GetSystemInfo gives the
 * page size and GlobalMemoryStatusEx the amount of physical memory. */
#include <errno.h>
#include <stdint.h>

#include "win32.h"

size_t host_page_size(void)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwPageSize ? si.dwPageSize : 4096;
}

uint64_t host_mem_total(void)
{
    MEMORYSTATUSEX ms;
    ms.dwLength = sizeof(ms);
    if (!GlobalMemoryStatusEx(&ms))
        return 0;
    return ms.ullTotalPhys;
}

int host_mem_reserve(size_t size, void **out)
{
    *out = NULL;
    if (size == 0)
        return err_set(-EINVAL, "reserve memory: size is zero");
    void *p = VirtualAlloc(NULL, size, MEM_RESERVE, PAGE_NOACCESS);
    if (!p)
        return host_win32_err(GetLastError(), "reserve %llu bytes of memory",
                              (unsigned long long)size);
    *out = p;
    return 0;
}

int host_mem_commit(void *addr, size_t size)
{
    if ((uintptr_t)addr % host_page_size() != 0)
        return err_set(-EINVAL, "commit memory at %p: address is not page aligned", addr);
    if (size == 0)
        return 0;
    /* Pages committed for the first time are zero-filled by the system. */
    if (!VirtualAlloc(addr, size, MEM_COMMIT, PAGE_READWRITE))
        return host_win32_err(GetLastError(), "commit %llu bytes of memory at %p",
                              (unsigned long long)size, addr);
    return 0;
}

/* Large pages on Windows need SeLockMemoryPrivilege and MEM_LARGE_PAGES at
 * allocation: not a hint that can be given afterwards. */
void host_mem_advise_huge(void *addr, size_t size)
{
    (void)addr;
    (void)size;
}

void host_mem_populate(void *addr, size_t size)
{
    (void)addr;
    (void)size;
}

int host_mem_alloc(size_t size, void **out)
{
    *out = NULL;
    if (size == 0)
        return err_set(-EINVAL, "allocate memory: size is zero");
    void *p = VirtualAlloc(NULL, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!p)
        return host_win32_err(GetLastError(), "allocate %llu bytes of memory",
                              (unsigned long long)size);
    *out = p;
    return 0;
}

void host_mem_release(void *addr, size_t size)
{
    (void)size; /* MEM_RELEASE frees the whole reservation, and wants 0 */
    if (addr)
        VirtualFree(addr, 0, MEM_RELEASE);
}

int host_mem_untouched(const void *addr, size_t len, uint64_t *bitmap)
{
    (void)addr;
    (void)len;
    (void)bitmap;
    /* QueryWorkingSetEx could tell, but not pages paged out to disk apart
     * from never-touched ones; until that is sorted out, read everything. */
    return err_set(-ENOSYS, "this host cannot tell untouched memory apart");
}
