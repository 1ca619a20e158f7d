/* Stream sockets on Windows (host.h, "sockets"): Winsock 2, started once
 * per process (WSAStartup through InitOnceExecuteOnce). TCP over IPv4/IPv6
 * with getaddrinfo; unix-domain sockets through AF_UNIX (afunix.h, Windows
 * 10 1803 and later; where the headers lack it, unix: is -ENOTSUP with a
 * message); fd:N takes an inherited SOCKET handle value. Timeouts use
 * select(), which on Windows has no descriptor-value limit and, unlike
 * early WSAPoll, reports failed connects. Windows has no SIGPIPE. Every
 * message starts with the socket's name. The owner-only permission of a
 * POSIX unix socket file has no equivalent here: the file takes its
 * directory's ACL. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win32.h"

#include <winsock2.h>
#include <ws2tcpip.h>

#if defined(__has_include)
#if __has_include(<afunix.h>)
#include <afunix.h>
#define SOCK_HAVE_AF_UNIX 1
#endif
#endif
#ifndef SOCK_HAVE_AF_UNIX
#define SOCK_HAVE_AF_UNIX 0
#endif

struct host_socket {
    SOCKET s;
    bool listener;
    bool owns_path;       /* a unix listener: delete its file on close */
    volatile LONG shut;   /* host_socket_shutdown() was called */
    uint16_t port;
    char *path;           /* unix sockets: points into name */
    char name[];
};

#define SOCK_CHUNK (1 << 30)

static INIT_ONCE sock_once = INIT_ONCE_STATIC_INIT;
static int sock_startup_error;

static BOOL CALLBACK sock_startup(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    WSADATA wsa;
    sock_startup_error = WSAStartup(MAKEWORD(2, 2), &wsa);
    return TRUE;
}

/* The negative errno closest to a Winsock error. */
static int sock_errno(int code)
{
    switch (code) {
    case WSAECONNREFUSED: return -ECONNREFUSED;
    case WSAEADDRINUSE: return -EADDRINUSE;
    case WSAEADDRNOTAVAIL: return -EADDRNOTAVAIL;
    case WSAETIMEDOUT: return -ETIMEDOUT;
    case WSAECONNRESET:
    case WSAECONNABORTED:
    case WSAESHUTDOWN: return -EPIPE;
    case WSAENOTSOCK: return -ENOTSOCK;
    case WSAEACCES: return -EACCES;
    case WSAEINTR: return -EINTR;
    case WSAEINVAL: return -EINVAL;
    case WSAEAFNOSUPPORT:
    case WSAEPFNOSUPPORT: return -EAFNOSUPPORT;
    case WSAENETUNREACH:
    case WSAENETDOWN:
    case WSAEHOSTUNREACH:
    case WSAHOST_NOT_FOUND:
    case WSATRY_AGAIN:
    case WSANO_DATA:
    case WSANO_RECOVERY: return -EHOSTUNREACH;
    case WSAEMFILE:
    case WSAENOBUFS: return -ENOMEM;
    case ERROR_PATH_NOT_FOUND:
    case ERROR_FILE_NOT_FOUND: return -ENOENT;
    default: return -EIO;
    }
}

/* err_set() with "<name>: <system message>" for a Winsock error code. */
static int sock_err(int code, const char *fmt, ...) PRINTF_LIKE(2, 3);
static int sock_err(int code, const char *fmt, ...)
{
    char what[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    char msg[900];
    (void)host_win32_err((DWORD)code, "%s", what);
    snprintf(msg, sizeof(msg), "%s", err_msg());
    return err_set(sock_errno(code), "%s", msg);
}

static int sock_init(const char *name)
{
    InitOnceExecuteOnce(&sock_once, sock_startup, NULL, NULL);
    if (sock_startup_error)
        return sock_err(sock_startup_error, "%s: WSAStartup", name);
    return 0;
}

static struct host_socket *sock_new(SOCKET fd, const char *name)
{
    size_t len = strlen(name);
    struct host_socket *s = calloc(1, sizeof(*s) + len + 1);
    if (!s)
        return NULL;
    s->s = fd;
    memcpy(s->name, name, len + 1);
    if (strncmp(s->name, "unix:", 5) == 0)
        s->path = s->name + 5;
    return s;
}

static void sock_tcp_name(char *out, size_t len, const char *host, uint16_t port)
{
    if (strchr(host, ':'))
        snprintf(out, len, "tcp:[%s]:%u", host, port);
    else
        snprintf(out, len, "tcp:%s:%u", host, port);
}

static uint64_t sock_deadline(int timeout_ms)
{
    return timeout_ms < 0 ? UINT64_MAX : host_time_ns() + (uint64_t)timeout_ms * 1000000;
}

/* Waits until s is readable (or writable) or the deadline passes: 1 ready,
 * 0 timed out, or a negative Winsock error. A failed connect shows in the
 * except set. */
static int sock_wait(SOCKET s, bool write, uint64_t deadline_ns)
{
    fd_set rw, ex;
    struct timeval tv, *ptv = NULL;
    FD_ZERO(&rw);
    FD_ZERO(&ex);
    FD_SET(s, &rw);
    FD_SET(s, &ex);
    if (deadline_ns != UINT64_MAX) {
        uint64_t now = host_time_ns();
        uint64_t us = now >= deadline_ns ? 0 : (deadline_ns - now + 999) / 1000;
        if (us > (uint64_t)INT_MAX * 1000)
            us = (uint64_t)INT_MAX * 1000;
        tv.tv_sec = (long)(us / 1000000);
        tv.tv_usec = (long)(us % 1000000);
        ptv = &tv;
    }
    int n = select(0, write ? NULL : &rw, write ? &rw : NULL, &ex, ptv);
    if (n == SOCKET_ERROR)
        return -WSAGetLastError();
    return n > 0;
}

static void sock_set_nodelay(SOCKET s)
{
    BOOL one = TRUE;
    (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof(one));
}

static int sock_set_nonblock(SOCKET s, bool on)
{
    u_long mode = on ? 1 : 0;
    return ioctlsocket(s, FIONBIO, &mode) == SOCKET_ERROR ? WSAGetLastError() : 0;
}

static uint16_t sock_local_port(SOCKET s)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (getsockname(s, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

static int sock_resolve(const char *host, uint16_t port, bool passive, const char *name,
                        struct addrinfo **res)
{
    struct addrinfo hints;
    char portstr[8];
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    snprintf(portstr, sizeof(portstr), "%u", port);
    int rc = getaddrinfo(host, portstr, &hints, res);
    if (rc != 0)
        return sock_err(rc, "%s", name);
    return 0;
}

int host_tcp_listen(struct host_socket **out, const char *host, uint16_t port)
{
    char name[320];
    struct addrinfo *res, *ai;
    SOCKET fd = INVALID_SOCKET;
    int e = WSAEADDRNOTAVAIL, rc;

    *out = NULL;
    if (!host || !*host)
        host = "0.0.0.0";
    sock_tcp_name(name, sizeof(name), host, port);
    if ((rc = sock_init(name)) < 0 || (rc = sock_resolve(host, port, true, name, &res)) < 0)
        return rc;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = WSASocketW(ai->ai_family, ai->ai_socktype, ai->ai_protocol, NULL, 0,
                        WSA_FLAG_NO_HANDLE_INHERIT);
        if (fd == INVALID_SOCKET) {
            e = WSAGetLastError();
            continue;
        }
        /* SO_REUSEADDR on Windows lets another socket steal the port;
         * SO_EXCLUSIVEADDRUSE is what POSIX SO_REUSEADDR means here (a
         * port in TIME_WAIT is reusable by default). */
        BOOL one = TRUE;
        (void)setsockopt(fd, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&one, sizeof(one));
        if (bind(fd, ai->ai_addr, (int)ai->ai_addrlen) == 0 && listen(fd, 16) == 0)
            break;
        e = WSAGetLastError();
        closesocket(fd);
        fd = INVALID_SOCKET;
    }
    freeaddrinfo(res);
    if (fd == INVALID_SOCKET)
        return sock_err(e, "%s", name);
    uint16_t bound = sock_local_port(fd);
    sock_tcp_name(name, sizeof(name), host, bound);
    struct host_socket *s = sock_new(fd, name);
    if (!s) {
        closesocket(fd);
        return err_set(-ENOMEM, "%s: out of memory", name);
    }
    s->listener = true;
    s->port = bound;
    *out = s;
    return 0;
}

#if SOCK_HAVE_AF_UNIX
static int sock_unix_addr(const char *path, const char *name, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (!*path)
        return err_set(-EINVAL, "%s: empty socket path", name);
    if (strlen(path) >= sizeof(sa->sun_path))
        return err_set(-ENAMETOOLONG, "%s: path too long for a unix socket (at most %u bytes)",
                       name, (unsigned)sizeof(sa->sun_path) - 1);
    memcpy(sa->sun_path, path, strlen(path));
    return 0;
}

static int sock_unix_socket(const char *name, SOCKET *out)
{
    *out = WSASocketW(AF_UNIX, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT);
    if (*out == INVALID_SOCKET) {
        int e = WSAGetLastError();
        if (e == WSAEAFNOSUPPORT || e == WSAEPFNOSUPPORT)
            return err_set(-ENOTSUP, "%s: unix sockets are not available on this Windows "
                           "(Windows 10 1803 or later has them)", name);
        return sock_err(e, "%s", name);
    }
    return 0;
}

/* A file at path: removes it if it is a socket nobody listens on. */
static int sock_unix_clear_stale(const char *path, const char *name,
                                 const struct sockaddr_un *sa)
{
    DWORD attr = GetFileAttributesA(path);
    SOCKET fd;
    int rc;
    if (attr == INVALID_FILE_ATTRIBUTES)
        return 0;
    if (!(attr & FILE_ATTRIBUTE_REPARSE_POINT))
        return err_set(-EEXIST, "%s: File exists (and is not a socket, so it was left alone)",
                       name);
    if ((rc = sock_unix_socket(name, &fd)) < 0)
        return rc;
    rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ? 0 : WSAGetLastError();
    closesocket(fd);
    if (rc == 0)
        return err_set(-EADDRINUSE, "%s: Address already in use (another process listens there)",
                       name);
    if (rc != WSAECONNREFUSED)
        return sock_err(rc, "%s", name);
    if (!DeleteFileA(path))
        return host_win32_err(GetLastError(), "%s: removing the stale socket file", name);
    return 0;
}
#endif

int host_unix_listen(struct host_socket **out, const char *path)
{
    char name[4200];
    int rc;

    *out = NULL;
    snprintf(name, sizeof(name), "unix:%s", path);
    if ((rc = sock_init(name)) < 0)
        return rc;
#if SOCK_HAVE_AF_UNIX
    struct sockaddr_un sa;
    SOCKET fd;
    if ((rc = sock_unix_addr(path, name, &sa)) < 0 ||
        (rc = sock_unix_clear_stale(path, name, &sa)) < 0 || (rc = sock_unix_socket(name, &fd)) < 0)
        return rc;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0) {
        int e = WSAGetLastError();
        closesocket(fd);
        return sock_err(e, "%s", name);
    }
    struct host_socket *s = sock_new(fd, name);
    if (!s) {
        closesocket(fd);
        DeleteFileA(path);
        return err_set(-ENOMEM, "%s: out of memory", name);
    }
    s->listener = true;
    s->owns_path = true;
    *out = s;
    return 0;
#else
    return err_set(-ENOTSUP, "%s: unix sockets are not available on this Windows", name);
#endif
}

int host_socket_accept(struct host_socket *l, struct host_socket **out, int timeout_ms)
{
    uint64_t deadline = sock_deadline(timeout_ms);
    *out = NULL;
    if (!l->listener)
        return err_set(-EINVAL, "%s: accept on a socket that is not listening", l->name);
    for (;;) {
        int r = sock_wait(l->s, false, deadline);
        if (r < 0)
            return sock_err(-r, "%s", l->name);
        if (r == 0)
            return err_set(-ETIMEDOUT, "%s: no connection within %d ms", l->name, timeout_ms);
        struct sockaddr_storage ss;
        int len = sizeof(ss);
        SOCKET fd = accept(l->s, (struct sockaddr *)&ss, &len);
        if (fd == INVALID_SOCKET) {
            int e = WSAGetLastError();
            if (e == WSAEWOULDBLOCK || e == WSAECONNRESET || e == WSAEINTR)
                continue;
            return sock_err(e, "%s: accept", l->name);
        }
        SetHandleInformation((HANDLE)fd, HANDLE_FLAG_INHERIT, 0);
        char name[320];
        if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
            char host[INET6_ADDRSTRLEN + 32], serv[NI_MAXSERV];
            if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv, sizeof(serv),
                            NI_NUMERICHOST | NI_NUMERICSERV) == 0)
                sock_tcp_name(name, sizeof(name), host, (uint16_t)atoi(serv));
            else
                snprintf(name, sizeof(name), "%.300s (peer)", l->name);
            sock_set_nodelay(fd);
        } else {
            snprintf(name, sizeof(name), "%.300s", l->name);
        }
        struct host_socket *s = sock_new(fd, name);
        if (!s) {
            closesocket(fd);
            return err_set(-ENOMEM, "%s: out of memory", l->name);
        }
        s->port = sock_local_port(fd);
        *out = s;
        return 0;
    }
}

/* One connection attempt bounded by the deadline: 0 (with *out set), or a
 * Winsock error code. */
static int sock_tcp_try(const struct addrinfo *ai, uint64_t deadline, SOCKET *out)
{
    SOCKET fd = WSASocketW(ai->ai_family, ai->ai_socktype, ai->ai_protocol, NULL, 0,
                           WSA_FLAG_NO_HANDLE_INHERIT);
    int e;
    if (fd == INVALID_SOCKET)
        return WSAGetLastError();
    if ((e = sock_set_nonblock(fd, true)) != 0)
        goto fail;
    if (connect(fd, ai->ai_addr, (int)ai->ai_addrlen) != 0) {
        e = WSAGetLastError();
        if (e != WSAEWOULDBLOCK)
            goto fail;
        int r = sock_wait(fd, true, deadline);
        if (r < 0) {
            e = -r;
            goto fail;
        }
        if (r == 0) {
            e = WSAETIMEDOUT;
            goto fail;
        }
        int err = 0, len = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, (char *)&err, &len) != 0)
            err = WSAGetLastError();
        if (err) {
            e = err;
            goto fail;
        }
    }
    if ((e = sock_set_nonblock(fd, false)) != 0)
        goto fail;
    sock_set_nodelay(fd);
    *out = fd;
    return 0;
fail:
    closesocket(fd);
    return e;
}

int host_tcp_connect(struct host_socket **out, const char *host, uint16_t port, int timeout_ms)
{
    char name[320];
    struct addrinfo *res, *ai;
    uint64_t deadline = sock_deadline(timeout_ms);
    SOCKET fd = INVALID_SOCKET;
    int e = WSAECONNREFUSED, rc;

    *out = NULL;
    sock_tcp_name(name, sizeof(name), host, port);
    if (port == 0)
        return err_set(-EINVAL, "%s: port 0 cannot be connected to", name);
    if ((rc = sock_init(name)) < 0 || (rc = sock_resolve(host, port, false, name, &res)) < 0)
        return rc;
    for (ai = res; ai; ai = ai->ai_next) {
        e = sock_tcp_try(ai, deadline, &fd);
        if (e == 0 || e == WSAETIMEDOUT)
            break;
    }
    freeaddrinfo(res);
    if (e == WSAETIMEDOUT)
        return err_set(-ETIMEDOUT, "%s: no answer within %d ms", name, timeout_ms);
    if (e)
        return sock_err(e, "%s", name);
    struct host_socket *s = sock_new(fd, name);
    if (!s) {
        closesocket(fd);
        return err_set(-ENOMEM, "%s: out of memory", name);
    }
    s->port = sock_local_port(fd);
    *out = s;
    return 0;
}

int host_unix_connect(struct host_socket **out, const char *path)
{
    char name[4200];
    int rc;

    *out = NULL;
    snprintf(name, sizeof(name), "unix:%s", path);
    if ((rc = sock_init(name)) < 0)
        return rc;
#if SOCK_HAVE_AF_UNIX
    struct sockaddr_un sa;
    SOCKET fd;
    if ((rc = sock_unix_addr(path, name, &sa)) < 0 || (rc = sock_unix_socket(name, &fd)) < 0)
        return rc;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = WSAGetLastError();
        closesocket(fd);
        /* A missing file is reported as a refused connection. */
        if (GetFileAttributesA(path) == INVALID_FILE_ATTRIBUTES)
            return err_set(-ENOENT, "%s: No such file or directory", name);
        return sock_err(e, "%s", name);
    }
    struct host_socket *s = sock_new(fd, name);
    if (!s) {
        closesocket(fd);
        return err_set(-ENOMEM, "%s: out of memory", name);
    }
    *out = s;
    return 0;
#else
    return err_set(-ENOTSUP, "%s: unix sockets are not available on this Windows", name);
#endif
}

int host_socket_from_fd(struct host_socket **out, int fd)
{
    char name[32];
    int rc, type = 0, len = sizeof(type);

    *out = NULL;
    snprintf(name, sizeof(name), "fd:%d", fd);
    if ((rc = sock_init(name)) < 0)
        return rc;
    if (fd < 0)
        return err_set(-EBADF, "%s: not a socket handle", name);
    SOCKET s0 = (SOCKET)(uintptr_t)(unsigned)fd;
    if (getsockopt(s0, SOL_SOCKET, SO_TYPE, (char *)&type, &len) != 0)
        return sock_err(WSAGetLastError(), "%s (fd:N takes an inherited SOCKET handle)", name);
    if (type != SOCK_STREAM)
        return err_set(-EPROTOTYPE, "%s: not a stream socket", name);
    struct host_socket *s = sock_new(s0, name);
    if (!s)
        return err_set(-ENOMEM, "%s: out of memory", name);
    sock_set_nodelay(s0);
    s->port = sock_local_port(s0);
    *out = s;
    return 0;
}

uint16_t host_socket_port(const struct host_socket *s)
{
    return s->port;
}

const char *host_socket_name(const struct host_socket *s)
{
    return s->name;
}

static int sock_io_error(struct host_socket *s, int e, const char *what)
{
    if (InterlockedCompareExchange(&s->shut, 0, 0))
        return err_set(-ECANCELED, "%s: the connection was shut down", s->name);
    if (e == WSAECONNRESET || e == WSAECONNABORTED)
        return err_set(-EPIPE, "%s: the peer closed the connection", s->name);
    return sock_err(e, "%s: %s", s->name, what);
}

int host_socket_send(struct host_socket *s, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        int n = len - done < SOCK_CHUNK ? (int)(len - done) : SOCK_CHUNK;
        int r = send(s->s, (const char *)buf + done, n, 0);
        if (r == SOCKET_ERROR) {
            int e = WSAGetLastError();
            if (e == WSAEINTR)
                continue;
            if (e == WSAEWOULDBLOCK) {
                (void)sock_wait(s->s, true, UINT64_MAX);
                continue;
            }
            return sock_io_error(s, e, "send");
        }
        if (r == 0)
            return err_set(-EIO, "%s: send made no progress", s->name);
        done += (size_t)r;
    }
    return 0;
}

/* One recv: bytes read, 0 at end of stream, or a negative Winsock error. */
static int sock_read_once(struct host_socket *s, void *buf, int len)
{
    for (;;) {
        int r = recv(s->s, buf, len, 0);
        if (r != SOCKET_ERROR)
            return r;
        int e = WSAGetLastError();
        if (e == WSAEINTR)
            continue;
        if (e == WSAEWOULDBLOCK) {
            (void)sock_wait(s->s, false, UINT64_MAX);
            continue;
        }
        return -e;
    }
}

static int sock_eof(struct host_socket *s, size_t done, size_t len, bool exact)
{
    if (InterlockedCompareExchange(&s->shut, 0, 0))
        return err_set(-ECANCELED, "%s: the connection was shut down", s->name);
    if (exact)
        return err_set(-EPIPE, "%s: the peer closed the connection after %llu of %llu bytes",
                       s->name, (unsigned long long)done, (unsigned long long)len);
    return err_set(-EPIPE, "%s: the peer closed the connection", s->name);
}

int host_socket_recv(struct host_socket *s, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        int n = len - done < SOCK_CHUNK ? (int)(len - done) : SOCK_CHUNK;
        int r = sock_read_once(s, (char *)buf + done, n);
        if (r < 0)
            return sock_io_error(s, -r, "receive");
        if (r == 0)
            return sock_eof(s, done, len, true);
        done += (size_t)r;
    }
    return 0;
}

int host_socket_recv_some(struct host_socket *s, void *buf, size_t len, int timeout_ms)
{
    if (len == 0)
        return 0;
    if (len > SOCK_CHUNK)
        len = SOCK_CHUNK;
    int w = sock_wait(s->s, false, sock_deadline(timeout_ms));
    if (w < 0)
        return sock_io_error(s, -w, "receive");
    if (w == 0)
        return 0;
    int r = sock_read_once(s, buf, (int)len);
    if (r < 0)
        return sock_io_error(s, -r, "receive");
    if (r == 0)
        return sock_eof(s, 0, len, false);
    return r;
}

int host_socket_unread(struct host_socket *s, size_t *bytes)
{
    /* Winsock has no count of what the peer has not read (SIO_TCP_INFO's
     * is what it has not acknowledged). */
    *bytes = 0;
    return err_set(-ENOSYS, "%s: this host does not tell what the peer has not read", s->name);
}

void host_socket_shutdown(struct host_socket *s)
{
    InterlockedExchange(&s->shut, 1);
    (void)shutdown(s->s, SD_BOTH);
}

void host_socket_close(struct host_socket *s)
{
    if (!s)
        return;
    closesocket(s->s);
    if (s->owns_path)
        DeleteFileA(s->path);
    free(s);
}
