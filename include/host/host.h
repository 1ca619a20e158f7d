/* The narrow host API: everything roam needs from the operating system.
 * Only src/host/<os>/ implements it and only those files include OS headers.
 * Every function returns 0 or a negative errno-style code with err_set(). */
#ifndef ROAM_HOST_HOST_H
#define ROAM_HOST_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* The host operating system's name ("linux", "windows"), for information. */
const char *host_os_name(void);

/* ---- memory ---- */
size_t host_page_size(void);
/* Total physical memory of the host in bytes (0 if unknown). */
uint64_t host_mem_total(void);
/* Reserves size bytes of address space (page aligned, not yet usable). */
MUST_CHECK int host_mem_reserve(size_t size, void **out);
/* Makes [addr, addr+size) of a reservation readable and writable, zeroed. */
MUST_CHECK int host_mem_commit(void *addr, size_t size);
/* Asks for transparent huge pages for [addr, addr+size) (committed, 2 MiB or
 * more) where the host has them: Linux MADV_HUGEPAGE, a hint; elsewhere
 * nothing. */
void host_mem_advise_huge(void *addr, size_t size);
/* Faults in [addr, addr+size) (committed) for writing in one call where the
 * host can (Linux MADV_POPULATE_WRITE, 5.14 and later): cheaper than a fault
 * per page where faults are dear (a nested host). A hint: nothing happens
 * elsewhere or on failure. */
void host_mem_populate(void *addr, size_t size);
/* Reserve + commit in one step. */
MUST_CHECK int host_mem_alloc(size_t size, void **out);
/* Releases a whole reservation made by host_mem_reserve/host_mem_alloc. */
void host_mem_release(void *addr, size_t size);
/* For each 4 KiB page of [addr, addr+len) (page aligned), sets its bit in
 * bitmap if the host knows the page was never written: it is neither in
 * memory nor swapped out, so it still reads as zeros. Other bits are
 * cleared. Lets a migration skip memory the guest never touched without
 * reading it. -ENOSYS where the host cannot tell. */
MUST_CHECK int host_mem_untouched(const void *addr, size_t len, uint64_t *bitmap);

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

/* ---- sockets ---- */
/* A connected stream socket or a listener: TCP (IPv4/IPv6) or unix-domain.
 * Each carries a name for messages ("tcp:127.0.0.1:4444", "unix:/run/x",
 * "fd:5"), and every error message starts with it, as in
 * "tcp:127.0.0.1:4444: Connection refused". Writing to a socket whose peer
 * is gone fails with -EPIPE; it never raises SIGPIPE. A socket may be used
 * by one thread at a time, except host_socket_shutdown(), which any thread
 * may call to make a blocked send or receive in another thread return. */
struct host_socket;

/* Listens on TCP. host: a name or numeric address ("0.0.0.0", "::1",
 * "localhost"); NULL or "" means every IPv4 interface. port 0 picks a free
 * port (host_socket_port() tells which). SO_REUSEADDR is set. */
MUST_CHECK int host_tcp_listen(struct host_socket **out, const char *host, uint16_t port);
/* Listens on a unix-domain socket at path. A socket file already there
 * that nobody listens on (left by a process that died) is removed first;
 * any other file there is an error. The socket file is made accessible to
 * its owner only (0600) and is removed by host_socket_close(). */
MUST_CHECK int host_unix_listen(struct host_socket **out, const char *path);
/* Waits up to timeout_ms (-1: forever) for a peer on a listener.
 * -ETIMEDOUT (with a message) when none came. */
MUST_CHECK int host_socket_accept(struct host_socket *l, struct host_socket **out,
                                  int timeout_ms);
/* Connects to TCP host:port (host resolved with getaddrinfo; each address
 * is tried in turn), giving up after timeout_ms (-1: the system's limit).
 * TCP_NODELAY is set on the connection. */
MUST_CHECK int host_tcp_connect(struct host_socket **out, const char *host, uint16_t port,
                                int timeout_ms);
MUST_CHECK int host_unix_connect(struct host_socket **out, const char *path);
/* Takes over an inherited, already-connected descriptor (POSIX: a socket,
 * pipe or file descriptor; Windows: a SOCKET handle value). Closing the
 * host_socket closes it. */
MUST_CHECK int host_socket_from_fd(struct host_socket **out, int fd);
/* The local port a TCP socket (listener or connection) is bound to; 0 for
 * others. */
uint16_t host_socket_port(const struct host_socket *s);
/* "tcp:127.0.0.1:4444", "tcp:[::1]:4444", "unix:PATH" or "fd:N"; valid
 * until host_socket_close(). For a listener on port 0 it has the real port. */
const char *host_socket_name(const struct host_socket *s);
/* Sends all len bytes. */
MUST_CHECK int host_socket_send(struct host_socket *s, const void *buf, size_t len);
/* Receives exactly len bytes; the peer closing first is -EPIPE ("...: the
 * peer closed the connection after N of M bytes"). */
MUST_CHECK int host_socket_recv(struct host_socket *s, void *buf, size_t len);
/* Receives up to len bytes, waiting at most timeout_ms (-1: forever).
 * Returns the count (at most INT_MAX), 0 on timeout, -EPIPE at end of
 * stream, or another negative code. */
int host_socket_recv_some(struct host_socket *s, void *buf, size_t len, int timeout_ms);
/* Bytes sent on s that the peer has not read yet, where the host can tell:
 * a Unix socket on Linux (SIOCOUTQ). -ENOSYS elsewhere; over TCP that count
 * ends when the peer's kernel has the bytes, not its reader. */
MUST_CHECK int host_socket_unread(struct host_socket *s, size_t *bytes);
/* Shuts down both directions: the peer sees end of stream, and a send or
 * receive blocked in another thread returns. The socket stays open. */
void host_socket_shutdown(struct host_socket *s);
void host_socket_close(struct host_socket *s);

/* ---- paths ---- */
/* An absolute form of path (relative paths are taken from the current
 * directory), malloc'ed. Used where a path goes to another process. */
MUST_CHECK int host_path_absolute(const char *path, char **out);

#endif
