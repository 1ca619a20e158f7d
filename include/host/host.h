/* The narrow host API: everything roam needs from the operating system.
 * Only src/host/<os>/ implements it and only those files include OS headers.
 * Every function returns 0 or a negative errno-style code with err_set(). */
#ifndef ROAM_HOST_HOST_H
#define ROAM_HOST_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* ---- memory ---- */
size_t host_page_size(void);
/* Total physical memory of the host in bytes (0 if unknown). */
uint64_t host_mem_total(void);
/* Reserves size bytes of address space (page aligned, not yet usable). */
MUST_CHECK int host_mem_reserve(size_t size, void **out);
/* Makes [addr, addr+size) of a reservation readable and writable, zeroed. */
MUST_CHECK int host_mem_commit(void *addr, size_t size);
/* Reserve + commit in one step. */
MUST_CHECK int host_mem_alloc(size_t size, void **out);
/* Releases a whole reservation made by host_mem_reserve/host_mem_alloc. */
void host_mem_release(void *addr, size_t size);

/* ---- threads ---- */
struct host_thread;
struct host_mutex;
struct host_cond;

MUST_CHECK int host_thread_create(struct host_thread **out, void (*fn)(void *), void *arg,
                                  const char *name);
void host_thread_join(struct host_thread *t);

MUST_CHECK int host_mutex_create(struct host_mutex **out);
void host_mutex_destroy(struct host_mutex *m);
void host_mutex_lock(struct host_mutex *m);
void host_mutex_unlock(struct host_mutex *m);

MUST_CHECK int host_cond_create(struct host_cond **out);
void host_cond_destroy(struct host_cond *c);
void host_cond_wait(struct host_cond *c, struct host_mutex *m);
/* Waits until signalled or until the monotonic clock reaches deadline_ns.
 * Returns true if the deadline passed. */
bool host_cond_wait_until(struct host_cond *c, struct host_mutex *m, uint64_t deadline_ns);
void host_cond_signal(struct host_cond *c);
void host_cond_broadcast(struct host_cond *c);

/* ---- time ---- */
/* Monotonic clock in nanoseconds from an arbitrary origin. */
uint64_t host_time_ns(void);
/* Wall clock: nanoseconds since the Unix epoch (UTC). */
uint64_t host_wallclock_ns(void);
void host_sleep_ns(uint64_t ns);

/* ---- terminal ---- */
/* Puts the terminal behind fd 0 into raw mode if it is a terminal; the
 * previous mode is restored by host_term_restore(), which is also called
 * at process exit and on fatal signals. */
MUST_CHECK int host_term_raw(void);
void host_term_restore(void);
bool host_isatty(int fd);

/* ---- files ---- */
struct host_file;
enum { HOST_FILE_READ = 1, HOST_FILE_WRITE = 2, HOST_FILE_CREATE = 4, HOST_FILE_TRUNC = 8,
       HOST_FILE_APPEND = 16 };
MUST_CHECK int host_file_open(struct host_file **out, const char *path, unsigned flags);
void host_file_close(struct host_file *f);
MUST_CHECK int host_file_size(struct host_file *f, uint64_t *size);
/* Reads exactly len bytes at offset (error on short read). */
MUST_CHECK int host_file_pread(struct host_file *f, void *buf, size_t len, uint64_t offset);
MUST_CHECK int host_file_pwrite(struct host_file *f, const void *buf, size_t len, uint64_t offset);
/* Sequential write of all of buf. */
MUST_CHECK int host_file_write(struct host_file *f, const void *buf, size_t len);
/* Reads a whole file into a malloc'ed buffer. */
MUST_CHECK int host_file_read_all(const char *path, void **buf, size_t *len);

/* ---- standard streams (the serial console's backends) ---- */
/* Writes all bytes to fd 1 or 2. */
MUST_CHECK int host_stdio_write(int fd, const void *buf, size_t len);
/* Non-blocking read from stdin: returns bytes read, 0 if none ready, or a
 * negative code at end of file / error. */
int host_stdin_read(void *buf, size_t len);

/* ---- vCPU kick support ---- */
/* Installs the process-wide handler used to interrupt a thread blocked in an
 * engine (an empty handler for SIGUSR1, installed without SA_RESTART, on POSIX). Idempotent. */
MUST_CHECK int host_kick_init(void);
/* Identifies the calling thread for host_thread_kick(). */
struct host_thread_id { uint64_t opaque[2]; };
void host_thread_self(struct host_thread_id *id);
/* Interrupts a blocking system call in that thread (EINTR). */
void host_thread_kick(const struct host_thread_id *id);
/* The signal number used for kicks (POSIX); engines block/unblock it. */
int host_kick_signal(void);

#endif
