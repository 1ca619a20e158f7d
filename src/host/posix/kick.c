/* vCPU kicks on POSIX: an empty SIGUSR1 handler installed without
 * SA_RESTART, so that pthread_kill(thread, SIGUSR1) makes the blocking
 * system call in that thread (KVM_RUN, poll, read) fail with EINTR.
 *
 * Why SIGUSR1 and not a real-time signal: real-time signals queue, so a
 * burst of kicks sent while the target has the signal blocked would be
 * delivered as a burst of EINTRs later. A standard signal coalesces into
 * one pending kick, which is what a kick means ("look at your state
 * again"). QEMU uses SIGUSR1 the same way. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "host/host.h"

#define KICK_SIGNAL SIGUSR1

_Static_assert(sizeof(pthread_t) <= sizeof(((struct host_thread_id *)0)->opaque),
               "pthread_t must fit in struct host_thread_id");

static void kick_handler(int sig)
{
    (void)sig;
}

int host_kick_init(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = kick_handler;
    sa.sa_flags = 0; /* no SA_RESTART: the interrupted call returns EINTR */
    sigemptyset(&sa.sa_mask);
    if (sigaction(KICK_SIGNAL, &sa, NULL) != 0) {
        int e = errno;
        return err_set(-e, "install the kick signal handler (SIGUSR1): %s", strerror(e));
    }
    return 0;
}

int host_kick_signal(void)
{
    return KICK_SIGNAL;
}

void host_thread_self(struct host_thread_id *id)
{
    pthread_t self = pthread_self();
    memset(id, 0, sizeof(*id));
    memcpy(id->opaque, &self, sizeof(self));
}

/* The target thread must still be running (pthread_kill on a thread that
 * has been joined is undefined); engines kick only their live vcpus. */
void host_thread_kick(const struct host_thread_id *id)
{
    pthread_t t;
    memcpy(&t, id->opaque, sizeof(t));
    pthread_kill(t, KICK_SIGNAL);
}
