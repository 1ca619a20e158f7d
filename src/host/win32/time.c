/* Clocks and sleeping on Windows: QueryPerformanceCounter (monotonic),
 * GetSystemTimePreciseAsFileTime (wall clock) and a high-resolution
 * waitable timer for sleeping. */
#include "win32.h"

#ifndef CREATE_WAITABLE_TIMER_HIGH_RESOLUTION
#define CREATE_WAITABLE_TIMER_HIGH_RESOLUTION 0x00000002
#endif

/* 100 ns intervals between 1601-01-01 (FILETIME's epoch) and 1970-01-01. */
#define TIME_FILETIME_UNIX_EPOCH 116444736000000000ull

uint64_t host_time_ns(void)
{
    LARGE_INTEGER freq, count;
    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&count);
    uint64_t f = (uint64_t)freq.QuadPart, c = (uint64_t)count.QuadPart;
    /* Split to avoid overflowing c * 1e9. */
    return c / f * 1000000000ull + c % f * 1000000000ull / f;
}

uint64_t host_wallclock_ns(void)
{
    FILETIME ft;
    GetSystemTimePreciseAsFileTime(&ft);
    uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    return t < TIME_FILETIME_UNIX_EPOCH ? 0 : (t - TIME_FILETIME_UNIX_EPOCH) * 100;
}

/* Sleeps about ns on a waitable timer; returns false if none could be made. */
static bool time_sleep_timer(uint64_t ns)
{
    /* High-resolution timers exist from Windows 10 1803 on; older systems
     * get a plain one (about 1-16 ms granularity). */
    HANDLE t = CreateWaitableTimerExW(NULL, NULL, CREATE_WAITABLE_TIMER_HIGH_RESOLUTION,
                                      TIMER_ALL_ACCESS);
    if (!t)
        t = CreateWaitableTimerExW(NULL, NULL, 0, TIMER_ALL_ACCESS);
    if (!t)
        return false;
    LARGE_INTEGER due;
    due.QuadPart = -(LONGLONG)((ns + 99) / 100); /* negative: relative, in 100 ns */
    bool ok = SetWaitableTimer(t, &due, 0, NULL, NULL, FALSE) &&
              WaitForSingleObject(t, INFINITE) == WAIT_OBJECT_0;
    CloseHandle(t);
    return ok;
}

void host_sleep_ns(uint64_t ns)
{
    uint64_t start = host_time_ns();
    uint64_t end = ns > UINT64_MAX - start ? UINT64_MAX : start + ns;
    if (ns == 0) {
        Sleep(0);
        return;
    }
    /* Sleeps at least ns, like nanosleep, even if a timer ends early. */
    for (uint64_t now = host_time_ns(); now < end; now = host_time_ns()) {
        uint64_t left = end - now;
        if (!time_sleep_timer(left)) {
            uint64_t ms = (left + 999999) / 1000000;
            Sleep(ms > 0x7fffffff ? 0x7fffffff : (DWORD)ms);
        }
    }
}

const char *host_os_name(void)
{
    return "windows";
}
