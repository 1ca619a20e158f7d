/* Stream sockets on POSIX (host.h, "sockets"): TCP over IPv4/IPv6 with
 * getaddrinfo, unix-domain sockets, and inherited descriptors (fd:N), which
 * may also be pipes or files: those use read()/write(). Blocking I/O with
 * poll() for the timeouts; EINTR (a vCPU kick, say) is retried. Sends use
 * MSG_NOSIGNAL, and writes to a non-socket block SIGPIPE in the calling
 * thread around the write, so a vanished peer is -EPIPE and never kills
 * the process. Every message starts with the socket's name, as in
 * "tcp:127.0.0.1:4444: Connection refused". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/sockios.h>
#endif

#include "host/host.h"

struct host_socket {
    int fd;
    bool listener;
    bool is_socket;     /* false for an inherited pipe or file (fd:N) */
    bool owns_path;     /* a unix listener: unlink its file on close */
    atomic_bool shut;   /* host_socket_shutdown() was called */
    dev_t path_dev;     /* the socket file this listener created */
    ino_t path_ino;
    uint16_t port;
    char *path;         /* unix sockets: points into name */
    char name[];
};

/* One send or receive call moves at most this much. */
#define SOCK_CHUNK ((size_t)1 << 30)

static struct host_socket *sock_new(int fd, const char *name)
{
    size_t len = strlen(name);
    struct host_socket *s = calloc(1, sizeof(*s) + len + 1);
    if (!s)
        return NULL;
    s->fd = fd;
    s->is_socket = true;
    atomic_init(&s->shut, false);
    memcpy(s->name, name, len + 1);
    if (strncmp(s->name, "unix:", 5) == 0)
        s->path = s->name + 5;
    return s;
}

/* "tcp:HOST:PORT", with brackets around an IPv6 address. */
static void sock_tcp_name(char *out, size_t len, const char *host, uint16_t port)
{
    if (strchr(host, ':'))
        snprintf(out, len, "tcp:[%s]:%u", host, port);
    else
        snprintf(out, len, "tcp:%s:%u", host, port);
}

/* Milliseconds left until deadline_ns (-1: no deadline). */
static int sock_remaining_ms(uint64_t deadline_ns)
{
    if (deadline_ns == UINT64_MAX)
        return -1;
    uint64_t now = host_time_ns();
    if (now >= deadline_ns)
        return 0;
    uint64_t ms = (deadline_ns - now + 999999) / 1000000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static uint64_t sock_deadline(int timeout_ms)
{
    return timeout_ms < 0 ? UINT64_MAX : host_time_ns() + (uint64_t)timeout_ms * 1000000;
}

/* Waits for events on fd until the deadline: 1 ready, 0 timed out, or a
 * negative errno. */
static int sock_poll(int fd, short events, uint64_t deadline_ns)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, sock_remaining_ms(deadline_ns));
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return -errno;
    }
}

static void sock_set_nodelay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int sock_set_nonblock(int fd, bool on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -errno;
    fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
    return fcntl(fd, F_SETFL, fl) < 0 ? -errno : 0;
}

static uint16_t sock_local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

static int sock_gai_error(int rc, const char *name)
{
    if (rc == EAI_SYSTEM) {
        int e = errno ? errno : EIO;
        return err_set(-e, "%s: %s", name, strerror(e));
    }
    return err_set(-EHOSTUNREACH, "%s: %s", name, gai_strerror(rc));
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
        return sock_gai_error(rc, name);
    return 0;
}

int host_tcp_listen(struct host_socket **out, const char *host, uint16_t port)
{
    char name[300];
    struct addrinfo *res, *ai;
    int fd = -1, e = EADDRNOTAVAIL, rc;

    *out = NULL;
    if (!host || !*host)
        host = "0.0.0.0";
    sock_tcp_name(name, sizeof(name), host, port);
    if ((rc = sock_resolve(host, port, true, name, &res)) < 0)
        return rc;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 16) == 0)
            break;
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return err_set(-e, "%s: %s", name, strerror(e));

    uint16_t bound = sock_local_port(fd);
    sock_tcp_name(name, sizeof(name), host, bound);
    struct host_socket *s = sock_new(fd, name);
    if (!s) {
        close(fd);
        return err_set(-ENOMEM, "%s: out of memory", name);
    }
    s->listener = true;
    s->port = bound;
    *out = s;
    return 0;
}

static int sock_unix_addr(const char *path, const char *name, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (!*path)
        return err_set(-EINVAL, "%s: empty socket path", name);
    if (strlen(path) >= sizeof(sa->sun_path))
        return err_set(-ENAMETOOLONG, "%s: path too long for a unix socket (at most %zu bytes)",
                       name, sizeof(sa->sun_path) - 1);
    memcpy(sa->sun_path, path, strlen(path));
    return 0;
}

/* Connects fd to sa; EINTR (a kick) does not abandon the attempt. */
static int sock_connect_unix(int fd, const struct sockaddr_un *sa)
{
    if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
        return 0;
    if (errno != EINTR && errno != EINPROGRESS)
        return -errno;
    /* The connection goes on in the background: wait for its outcome. */
    int r = sock_poll(fd, POLLOUT, UINT64_MAX), err = 0;
    socklen_t len = sizeof(err);
    if (r < 0)
        return r;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return -errno;
    return -err;
}

/* A socket file at path: removes it if nobody listens there. */
static int sock_unix_clear_stale(const char *path, const char *name,
                                 const struct sockaddr_un *sa)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : err_set(-errno, "%s: %s", name, strerror(errno));
    if (!S_ISSOCK(st.st_mode))
        return err_set(-EEXIST, "%s: File exists (and is not a socket, so it was left alone)",
                       name);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_set(-errno, "%s: %s", name, strerror(errno));
    int rc = sock_connect_unix(fd, sa);
    close(fd);
    if (rc == 0)
        return err_set(-EADDRINUSE, "%s: Address already in use (another process listens there)",
                       name);
    if (rc != -ECONNREFUSED)
        return err_set(rc, "%s: %s", name, strerror(-rc));
    if (unlink(path) != 0 && errno != ENOENT)
        return err_set(-errno, "%s: removing the stale socket file: %s", name, strerror(errno));
    return 0;
}

int host_unix_listen(struct host_socket **out, const char *path)
{
    char name[4200];
    struct sockaddr_un sa;
    struct stat st;
    int rc, fd;

    *out = NULL;
    snprintf(name, sizeof(name), "unix:%s", path);
    if ((rc = sock_unix_addr(path, name, &sa)) < 0)
        return rc;
    if ((rc = sock_unix_clear_stale(path, name, &sa)) < 0)
        return rc;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return err_set(-errno, "%s: %s", name, strerror(errno));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        close(fd);
        return err_set(-e, "%s: %s", name, strerror(e));
    }
    /* Owner only: the control protocol has no authentication. Nobody can
     * connect before listen(), so there is no window. */
    if (chmod(path, 0600) != 0 || stat(path, &st) != 0 || listen(fd, 16) != 0) {
        int e = errno;
        close(fd);
        unlink(path);
        return err_set(-e, "%s: %s", name, strerror(e));
    }
    struct host_socket *s = sock_new(fd, name);
    if (!s) {
        close(fd);
        unlink(path);
        return err_set(-ENOMEM, "%s: out of memory", name);
    }
    s->listener = true;
    s->owns_path = true;
    s->path_dev = st.st_dev;
    s->path_ino = st.st_ino;
    *out = s;
    return 0;
}

int host_socket_accept(struct host_socket *l, struct host_socket **out, int timeout_ms)
{
    uint64_t deadline = sock_deadline(timeout_ms);
    *out = NULL;
    if (!l->listener)
        return err_set(-EINVAL, "%s: accept on a socket that is not listening", l->name);
    for (;;) {
        int r = sock_poll(l->fd, POLLIN, deadline);
        if (r < 0)
            return err_set(r, "%s: %s", l->name, strerror(-r));
        if (r == 0)
            return err_set(-ETIMEDOUT, "%s: no connection within %d ms", l->name, timeout_ms);
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            /* The peer may have given up between poll and accept. */
            if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR || e == ECONNABORTED ||
                e == EPROTO)
                continue;
            return err_set(-e, "%s: accept: %s", l->name, strerror(e));
        }
        char name[300];
        if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
            char host[INET6_ADDRSTRLEN + 32], serv[NI_MAXSERV];
            if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv, sizeof(serv),
                            NI_NUMERICHOST | NI_NUMERICSERV) == 0)
                sock_tcp_name(name, sizeof(name), host, (uint16_t)atoi(serv));
            else
                snprintf(name, sizeof(name), "%s (peer)", l->name);
            sock_set_nodelay(fd);
        } else {
            snprintf(name, sizeof(name), "%s", l->name);
        }
        struct host_socket *s = sock_new(fd, name);
        if (!s) {
            close(fd);
            return err_set(-ENOMEM, "%s: out of memory", l->name);
        }
        s->port = sock_local_port(fd);
        *out = s;
        return 0;
    }
}

/* One TCP connection attempt, bounded by the deadline. Returns the fd or
 * a negative errno. */
static int sock_tcp_try(const struct addrinfo *ai, uint64_t deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
    if (fd < 0)
        return -errno;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS && errno != EINTR) {
            int e = errno;
            close(fd);
            return -e;
        }
        int r = sock_poll(fd, POLLOUT, deadline), err = 0;
        socklen_t len = sizeof(err);
        if (r == 0)
            r = -ETIMEDOUT;
        else if (r > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            r = -errno;
        else if (r > 0)
            r = -err;
        if (r < 0) {
            close(fd);
            return r;
        }
    }
    int r = sock_set_nonblock(fd, false);
    if (r < 0) {
        close(fd);
        return r;
    }
    sock_set_nodelay(fd);
    return fd;
}

int host_tcp_connect(struct host_socket **out, const char *host, uint16_t port, int timeout_ms)
{
    char name[300];
    struct addrinfo *res, *ai;
    uint64_t deadline = sock_deadline(timeout_ms);
    int fd = -ECONNREFUSED, rc;

    *out = NULL;
    sock_tcp_name(name, sizeof(name), host, port);
    if (port == 0)
        return err_set(-EINVAL, "%s: port 0 cannot be connected to", name);
    if ((rc = sock_resolve(host, port, false, name, &res)) < 0)
        return rc;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = sock_tcp_try(ai, deadline);
        if (fd >= 0 || fd == -ETIMEDOUT)
            break;
    }
    freeaddrinfo(res);
    if (fd == -ETIMEDOUT)
        return err_set(-ETIMEDOUT, "%s: no answer within %d ms", name, timeout_ms);
    if (fd < 0)
        return err_set(fd, "%s: %s", name, strerror(-fd));
    struct host_socket *s = sock_new(fd, name);
    if (!s) {
        close(fd);
        return err_set(-ENOMEM, "%s: out of memory", name);
    }
    s->port = sock_local_port(fd);
    *out = s;
    return 0;
}

int host_unix_connect(struct host_socket **out, const char *path)
{
    char name[4200];
    struct sockaddr_un sa;
    int rc, fd;

    *out = NULL;
    snprintf(name, sizeof(name), "unix:%s", path);
    if ((rc = sock_unix_addr(path, name, &sa)) < 0)
        return rc;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_set(-errno, "%s: %s", name, strerror(errno));
    if ((rc = sock_connect_unix(fd, &sa)) < 0) {
        close(fd);
        return err_set(rc, "%s: %s", name, strerror(-rc));
    }
    struct host_socket *s = sock_new(fd, name);
    if (!s) {
        close(fd);
        return err_set(-ENOMEM, "%s: out of memory", name);
    }
    *out = s;
    return 0;
}

int host_socket_from_fd(struct host_socket **out, int fd)
{
    char name[32];
    struct stat st;

    *out = NULL;
    snprintf(name, sizeof(name), "fd:%d", fd);
    if (fd < 0 || fstat(fd, &st) != 0)
        return err_set(-EBADF, "%s: %s", name, strerror(EBADF));
    struct host_socket *s = sock_new(fd, name);
    if (!s)
        return err_set(-ENOMEM, "%s: out of memory", name);
    s->is_socket = S_ISSOCK(st.st_mode);
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (s->is_socket) {
        int type = 0, acc = 0;
        socklen_t len = sizeof(type);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type != SOCK_STREAM) {
            free(s);
            return err_set(-EPROTOTYPE, "%s: not a stream socket", name);
        }
        len = sizeof(acc);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == 0 && acc) {
            free(s);
            return err_set(-EINVAL, "%s: a listening socket, not a connection", name);
        }
        sock_set_nodelay(fd); /* fails harmlessly on a unix socket */
        s->port = sock_local_port(fd);
    }
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

/* write() to a pipe or file with SIGPIPE held off in this thread; a
 * SIGPIPE raised by this write is consumed, one already pending is kept. */
static ssize_t sock_write_nosigpipe(int fd, const void *buf, size_t len)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t r = write(fd, buf, len);
    int e = errno;
    if (r < 0 && e == EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return r;
}

int host_socket_send(struct host_socket *s, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < SOCK_CHUNK ? len - done : SOCK_CHUNK;
        const char *p = (const char *)buf + done;
        ssize_t r = s->is_socket ? send(s->fd, p, n, MSG_NOSIGNAL)
                                 : sock_write_nosigpipe(s->fd, p, n);
        if (r < 0) {
            int e = errno;
            if (e == EINTR)
                continue;
            if (e == EAGAIN || e == EWOULDBLOCK) { /* an inherited non-blocking fd */
                int pr = sock_poll(s->fd, POLLOUT, UINT64_MAX);
                if (pr < 0)
                    return err_set(pr, "%s: %s", s->name, strerror(-pr));
                continue;
            }
            if (atomic_load(&s->shut))
                return err_set(-ECANCELED, "%s: the connection was shut down", s->name);
            if (e == EPIPE || e == ECONNRESET)
                return err_set(-EPIPE, "%s: the peer closed the connection (%s)", s->name,
                               strerror(e));
            return err_set(-e, "%s: send: %s", s->name, strerror(e));
        }
        if (r == 0)
            return err_set(-EIO, "%s: send made no progress", s->name);
        done += (size_t)r;
    }
    return 0;
}

/* One read: bytes read, 0 at end of stream, or -errno (never EINTR). */
static ssize_t sock_read_once(struct host_socket *s, void *buf, size_t len)
{
    for (;;) {
        ssize_t r = s->is_socket ? recv(s->fd, buf, len, 0) : read(s->fd, buf, len);
        if (r >= 0)
            return r;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int pr = sock_poll(s->fd, POLLIN, UINT64_MAX);
            if (pr < 0)
                return pr;
            continue;
        }
        return -errno;
    }
}

static int sock_read_error(struct host_socket *s, ssize_t r)
{
    if (atomic_load(&s->shut))
        return err_set(-ECANCELED, "%s: the connection was shut down", s->name);
    if (r == -ECONNRESET)
        return err_set(-EPIPE, "%s: the peer reset the connection", s->name);
    return err_set((int)r, "%s: receive: %s", s->name, strerror((int)-r));
}

int host_socket_recv(struct host_socket *s, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < SOCK_CHUNK ? len - done : SOCK_CHUNK;
        ssize_t r = sock_read_once(s, (char *)buf + done, n);
        if (r < 0)
            return sock_read_error(s, r);
        if (r == 0) {
            if (atomic_load(&s->shut))
                return err_set(-ECANCELED, "%s: the connection was shut down", s->name);
            return err_set(-EPIPE, "%s: the peer closed the connection after %zu of %zu bytes",
                           s->name, done, len);
        }
        done += (size_t)r;
    }
    return 0;
}

int host_socket_recv_some(struct host_socket *s, void *buf, size_t len, int timeout_ms)
{
    if (len == 0)
        return 0;
    if (len > INT_MAX)
        len = INT_MAX;
    int pr = sock_poll(s->fd, POLLIN, sock_deadline(timeout_ms));
    if (pr < 0)
        return err_set(pr, "%s: %s", s->name, strerror(-pr));
    if (pr == 0)
        return 0;
    ssize_t r = sock_read_once(s, buf, len);
    if (r < 0)
        return sock_read_error(s, r);
    if (r == 0) {
        if (atomic_load(&s->shut))
            return err_set(-ECANCELED, "%s: the connection was shut down", s->name);
        return err_set(-EPIPE, "%s: the peer closed the connection", s->name);
    }
    return (int)r;
}

int host_socket_unread(struct host_socket *s, size_t *bytes)
{
#if defined(__linux__) && defined(SIOCOUTQ)
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    int n = 0;

    *bytes = 0;
    if (!s->is_socket || getsockname(s->fd, (struct sockaddr *)&sa, &len) != 0 ||
        sa.ss_family != AF_UNIX)
        return err_set(-ENOSYS, "%s: only a Unix socket tells what its peer has not read",
                       s->name);
    /* For a Unix stream socket: the bytes of the skbs still charged to it,
     * which the peer frees as it reads them. */
    if (ioctl(s->fd, SIOCOUTQ, &n) != 0 || n < 0) {
        int e = errno;
        return err_set(-ENOSYS, "%s: SIOCOUTQ: %s", s->name, strerror(e));
    }
    *bytes = (size_t)n;
    return 0;
#else
    *bytes = 0;
    return err_set(-ENOSYS, "%s: this host does not tell what the peer has not read", s->name);
#endif
}

void host_socket_shutdown(struct host_socket *s)
{
    atomic_store(&s->shut, true);
    if (s->is_socket)
        (void)shutdown(s->fd, SHUT_RDWR);
}

void host_socket_close(struct host_socket *s)
{
    if (!s)
        return;
    if (s->owns_path) {
        /* Remove the socket file only if it is still the one bound here. */
        struct stat st;
        if (lstat(s->path, &st) == 0 && st.st_dev == s->path_dev && st.st_ino == s->path_ino)
            unlink(s->path);
    }
    close(s->fd);
    free(s);
}
