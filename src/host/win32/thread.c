/* Threads, mutexes and condition variables on Windows: _beginthreadex,
 * SRWLOCK and CONDITION_VARIABLE (SleepConditionVariableSRW, with the
 * timeout computed from host_time_ns()'s monotonic clock); thread names
 * through SetThreadDescription where the system has it. */
#include <errno.h>
#include <process.h>
#include <stdlib.h>
#include <string.h>

#include "win32.h"

struct host_thread {
    HANDLE handle;
    void (*fn)(void *);
    void *arg;
    char name[16]; /* truncated to 15 characters, as on Linux */
};

struct host_mutex {
    SRWLOCK lock;
};

struct host_cond {
    CONDITION_VARIABLE cv;
};

typedef HRESULT(WINAPI *thread_set_description_fn)(HANDLE, PCWSTR);

/* SetThreadDescription exists from Windows 10 1607 on: look it up rather
 * than link to it, so that older systems still run roam (unnamed). */
static void thread_set_name(const char *name)
{
    HMODULE k32 = GetModuleHandleA("kernel32.dll");
    if (!k32 || !name[0])
        return;
    thread_set_description_fn set = (thread_set_description_fn)(void (*)(void))GetProcAddress(
        k32, "SetThreadDescription");
    if (!set)
        return;
    WCHAR wname[16];
    if (MultiByteToWideChar(CP_UTF8, 0, name, -1, wname, 16) > 0)
        set(GetCurrentThread(), wname);
}

static unsigned __stdcall thread_start(void *opaque)
{
    struct host_thread *t = opaque;
    thread_set_name(t->name);
    t->fn(t->arg);
    return 0;
}

int host_thread_create(struct host_thread **out, void (*fn)(void *), void *arg, const char *name)
{
    *out = NULL;
    struct host_thread *t = calloc(1, sizeof(*t));
    if (!t)
        return err_set(-ENOMEM, "create thread %s: out of memory", name ? name : "");
    t->fn = fn;
    t->arg = arg;
    if (name) {
        strncpy(t->name, name, sizeof(t->name) - 1);
        t->name[sizeof(t->name) - 1] = 0;
    }
    uintptr_t h = _beginthreadex(NULL, 0, thread_start, t, 0, NULL);
    if (h == 0) {
        int e = errno;
        free(t);
        return err_set(e > 0 ? -e : -EAGAIN, "create thread %s: %s", name ? name : "",
                       strerror(e > 0 ? e : EAGAIN));
    }
    t->handle = (HANDLE)h;
    *out = t;
    return 0;
}

void host_thread_join(struct host_thread *t)
{
    if (!t)
        return;
    WaitForSingleObject(t->handle, INFINITE);
    CloseHandle(t->handle);
    free(t);
}

int host_mutex_create(struct host_mutex **out)
{
    *out = NULL;
    struct host_mutex *m = malloc(sizeof(*m));
    if (!m)
        return err_set(-ENOMEM, "create mutex: out of memory");
    InitializeSRWLock(&m->lock);
    *out = m;
    return 0;
}

void host_mutex_destroy(struct host_mutex *m)
{
    free(m); /* an SRWLOCK needs no cleanup */
}

void host_mutex_lock(struct host_mutex *m)
{
    AcquireSRWLockExclusive(&m->lock);
}

void host_mutex_unlock(struct host_mutex *m)
{
    ReleaseSRWLockExclusive(&m->lock);
}

int host_cond_create(struct host_cond **out)
{
    *out = NULL;
    struct host_cond *c = malloc(sizeof(*c));
    if (!c)
        return err_set(-ENOMEM, "create condition variable: out of memory");
    InitializeConditionVariable(&c->cv);
    *out = c;
    return 0;
}

void host_cond_destroy(struct host_cond *c)
{
    free(c);
}

void host_cond_wait(struct host_cond *c, struct host_mutex *m)
{
    SleepConditionVariableSRW(&c->cv, &m->lock, INFINITE, 0);
}

bool host_cond_wait_until(struct host_cond *c, struct host_mutex *m, uint64_t deadline_ns)
{
    for (;;) {
        uint64_t now = host_time_ns();
        if (now >= deadline_ns)
            return true;
        /* Round up to whole milliseconds so that a timeout means the
         * deadline has passed; a timeout that the system's coarse timer
         * ends early just waits again. */
        uint64_t ms = (deadline_ns - now + 999999) / 1000000;
        if (ms >= INFINITE)
            ms = INFINITE - 1;
        if (SleepConditionVariableSRW(&c->cv, &m->lock, (DWORD)ms, 0))
            return host_time_ns() >= deadline_ns;
        if (GetLastError() != ERROR_TIMEOUT)
            return host_time_ns() >= deadline_ns;
    }
}

void host_cond_signal(struct host_cond *c)
{
    WakeConditionVariable(&c->cv);
}

void host_cond_broadcast(struct host_cond *c)
{
    WakeAllConditionVariable(&c->cv);
}
