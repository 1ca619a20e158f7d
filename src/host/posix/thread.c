/* Threads, mutexes and condition variables on POSIX (pthreads). Condition
 * variables wait on CLOCK_MONOTONIC so that host_cond_wait_until() shares
 * host_time_ns()'s clock and is immune to wall-clock changes. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/host.h"

struct host_thread {
    pthread_t tid;
    void (*fn)(void *);
    void *arg;
    char name[16]; /* Linux limits thread names to 15 characters + NUL */
};

struct host_mutex {
    pthread_mutex_t m;
};

struct host_cond {
    pthread_cond_t c;
};

static void *thread_start(void *opaque)
{
    struct host_thread *t = opaque;
    if (t->name[0])
        pthread_setname_np(pthread_self(), t->name);
    t->fn(t->arg);
    return NULL;
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
    int rc = pthread_create(&t->tid, NULL, thread_start, t);
    if (rc != 0) {
        free(t);
        return err_set(-rc, "create thread %s: %s", name ? name : "", strerror(rc));
    }
    *out = t;
    return 0;
}

void host_thread_join(struct host_thread *t)
{
    if (!t)
        return;
    pthread_join(t->tid, NULL);
    free(t);
}

int host_mutex_create(struct host_mutex **out)
{
    *out = NULL;
    struct host_mutex *m = malloc(sizeof(*m));
    if (!m)
        return err_set(-ENOMEM, "create mutex: out of memory");
    int rc = pthread_mutex_init(&m->m, NULL);
    if (rc != 0) {
        free(m);
        return err_set(-rc, "create mutex: %s", strerror(rc));
    }
    *out = m;
    return 0;
}

void host_mutex_destroy(struct host_mutex *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->m);
    free(m);
}

void host_mutex_lock(struct host_mutex *m)
{
    pthread_mutex_lock(&m->m);
}

void host_mutex_unlock(struct host_mutex *m)
{
    pthread_mutex_unlock(&m->m);
}

int host_cond_create(struct host_cond **out)
{
    *out = NULL;
    struct host_cond *c = malloc(sizeof(*c));
    if (!c)
        return err_set(-ENOMEM, "create condition variable: out of memory");
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc == 0) {
        rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        if (rc == 0)
            rc = pthread_cond_init(&c->c, &attr);
        pthread_condattr_destroy(&attr);
    }
    if (rc != 0) {
        free(c);
        return err_set(-rc, "create condition variable: %s", strerror(rc));
    }
    *out = c;
    return 0;
}

void host_cond_destroy(struct host_cond *c)
{
    if (!c)
        return;
    pthread_cond_destroy(&c->c);
    free(c);
}

void host_cond_wait(struct host_cond *c, struct host_mutex *m)
{
    pthread_cond_wait(&c->c, &m->m);
}

bool host_cond_wait_until(struct host_cond *c, struct host_mutex *m, uint64_t deadline_ns)
{
    struct timespec ts = {(time_t)(deadline_ns / 1000000000ull),
                          (long)(deadline_ns % 1000000000ull)};
    int rc = pthread_cond_timedwait(&c->c, &m->m, &ts);
    /* A wakeup (even a spurious one) that comes at or after the deadline
     * also counts as the deadline passing. */
    return rc == ETIMEDOUT || host_time_ns() >= deadline_ns;
}

void host_cond_signal(struct host_cond *c)
{
    pthread_cond_signal(&c->c);
}

void host_cond_broadcast(struct host_cond *c)
{
    pthread_cond_broadcast(&c->c);
}
