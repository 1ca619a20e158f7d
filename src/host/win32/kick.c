/* vCPU kicks on Windows. There are no signals: host_thread_kick() cancels
 * the synchronous I/O the thread is blocked in (CancelSynchronousIo), the
 * nearest thing to EINTR. A thread running a WHPX virtual processor is
 * kicked by the whpx engine itself (WHvCancelRunVirtualProcessor). */
#include <string.h>

#include "win32.h"

int host_kick_init(void)
{
    return 0; /* nothing process-wide to install */
}

int host_kick_signal(void)
{
    return 0; /* no signal is used on Windows */
}

void host_thread_self(struct host_thread_id *id)
{
    memset(id, 0, sizeof(*id));
    id->opaque[0] = GetCurrentThreadId();
}

void host_thread_kick(const struct host_thread_id *id)
{
    HANDLE h = OpenThread(THREAD_TERMINATE, FALSE, (DWORD)id->opaque[0]);
    if (!h)
        return;
    CancelSynchronousIo(h);
    CloseHandle(h);
}
