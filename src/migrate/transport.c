/* Migration transports (migrate/transport.h): a URI becomes a channel over
 * a host socket (tcp:, unix:, fd:) or a host file (file:). The channel
 * callbacks are thin wrappers; every error message names the endpoint, as
 * in "tcp:10.0.0.2:4444: Connection refused". */
#include "migrate/transport.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"

/* How long an outgoing TCP connection may take to be established. */
#define TRANSPORT_CONNECT_TIMEOUT_MS 10000

#define TRANSPORT_USE "(use tcp:HOST:PORT, unix:PATH, file:PATH or fd:N)"

enum transport_kind { TRANSPORT_TCP, TRANSPORT_UNIX, TRANSPORT_FILE, TRANSPORT_FD };

struct transport_uri {
    enum transport_kind kind;
    char host[256];   /* tcp: without brackets; "" = any (listening only) */
    uint16_t port;    /* tcp: */
    const char *path; /* unix:, file: (points into the URI) */
    int fd;           /* fd: */
};

struct transport_listener {
    enum transport_kind kind;
    struct host_socket *sock; /* tcp:, unix: */
    struct channel pending;   /* file:, fd: (opened by transport_listen) */
    bool have_pending;
    char uri[];
};

static int transport_bad(const char *uri, const char *why)
{
    if (why)
        return err_set(-EINVAL, "bad migration URI '%s': %s", uri, why);
    return err_set(-EINVAL, "bad migration URI '%s' " TRANSPORT_USE, uri);
}

/* Decimal digits only, at most max. */
static bool transport_number(const char *s, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

static int transport_parse(const char *uri, struct transport_uri *u)
{
    memset(u, 0, sizeof(*u));
    if (!uri || !*uri)
        return err_set(-EINVAL, "empty migration URI " TRANSPORT_USE);
    if (strncmp(uri, "tcp:", 4) == 0) {
        const char *h = uri + 4, *colon, *hend;
        unsigned long port;
        u->kind = TRANSPORT_TCP;
        if (*h == '[') {
            hend = strchr(h, ']');
            if (!hend)
                return transport_bad(uri, "no ']' after the IPv6 address");
            colon = hend + 1;
            if (*colon != ':')
                return transport_bad(uri, "expected ':PORT' after ']'");
            h++;
        } else {
            colon = strrchr(h, ':');
            if (!colon)
                return transport_bad(uri, "no port (use tcp:HOST:PORT)");
            hend = colon;
            if (memchr(h, ':', (size_t)(hend - h)))
                return transport_bad(uri, "put an IPv6 address in brackets, as in tcp:[::1]:4444");
        }
        if ((size_t)(hend - h) >= sizeof(u->host))
            return transport_bad(uri, "host name too long");
        memcpy(u->host, h, (size_t)(hend - h));
        u->host[hend - h] = 0;
        if (!transport_number(colon + 1, 65535, &port))
            return transport_bad(uri, "the port must be a number from 0 to 65535");
        u->port = (uint16_t)port;
        return 0;
    }
    if (strncmp(uri, "unix:", 5) == 0) {
        u->kind = TRANSPORT_UNIX;
        u->path = uri + 5;
        if (!*u->path)
            return transport_bad(uri, "no path (use unix:PATH)");
        return 0;
    }
    if (strncmp(uri, "file:", 5) == 0) {
        u->kind = TRANSPORT_FILE;
        u->path = uri + 5;
        if (!*u->path)
            return transport_bad(uri, "no path (use file:PATH)");
        return 0;
    }
    if (strncmp(uri, "fd:", 3) == 0) {
        unsigned long fd;
        u->kind = TRANSPORT_FD;
        if (!transport_number(uri + 3, INT_MAX, &fd))
            return transport_bad(uri, "fd:N takes a descriptor number");
        u->fd = (int)fd;
        return 0;
    }
    return transport_bad(uri, NULL);
}

int transport_check_uri(const char *uri)
{
    struct transport_uri u;
    return transport_parse(uri, &u);
}

/* ---- channels over host sockets ---- */

static int sock_chan_write(void *opaque, const void *buf, size_t len)
{
    return host_socket_send(opaque, buf, len);
}

static int sock_chan_read(void *opaque, void *buf, size_t len)
{
    return host_socket_recv(opaque, buf, len);
}

static int sock_chan_read_some(void *opaque, void *buf, size_t len, int timeout_ms)
{
    return host_socket_recv_some(opaque, buf, len, timeout_ms);
}

static int sock_chan_unread(void *opaque, size_t *bytes)
{
    return host_socket_unread(opaque, bytes);
}

static void sock_chan_close(void *opaque)
{
    host_socket_close(opaque);
}

static void transport_sock_channel(struct channel *ch, struct host_socket *s)
{
    ch->write = sock_chan_write;
    ch->read = sock_chan_read;
    ch->read_some = sock_chan_read_some;
    ch->unread = sock_chan_unread;
    ch->close = sock_chan_close;
    ch->opaque = s;
    ch->name = host_socket_name(s);
}

/* ---- channels over host files ---- */

struct file_chan {
    struct host_file *f;
    bool reading;
    uint64_t pos, size; /* reading: the next offset and the file's size */
    char name[];        /* "file:PATH" */
};

static int file_chan_write(void *opaque, const void *buf, size_t len)
{
    struct file_chan *fc = opaque;
    if (fc->reading)
        return err_set(-EBADF, "%s: opened for reading, not writing", fc->name);
    return host_file_write(fc->f, buf, len);
}

static int file_chan_read(void *opaque, void *buf, size_t len)
{
    struct file_chan *fc = opaque;
    if (!fc->reading)
        return err_set(-EBADF, "%s: opened for writing, not reading", fc->name);
    if (len > fc->size - fc->pos)
        return err_set(-EPIPE, "%s: the file ends after %llu bytes (%llu more wanted at offset %llu)",
                       fc->name, (unsigned long long)fc->size, (unsigned long long)len,
                       (unsigned long long)fc->pos);
    int rc = host_file_pread(fc->f, buf, len, fc->pos);
    if (rc < 0)
        return rc;
    fc->pos += len;
    return 0;
}

static int file_chan_read_some(void *opaque, void *buf, size_t len, int timeout_ms)
{
    struct file_chan *fc = opaque;
    if (!fc->reading)
        return err_set(-EBADF, "%s: opened for writing, not reading", fc->name);
    if (len == 0)
        return 0;
    if (fc->pos >= fc->size)
        return err_set(-EPIPE, "%s: end of file after %llu bytes", fc->name,
                       (unsigned long long)fc->size);
    if (len > fc->size - fc->pos)
        len = (size_t)(fc->size - fc->pos);
    if (len > INT_MAX)
        len = INT_MAX;
    int rc = host_file_pread(fc->f, buf, len, fc->pos);
    if (rc < 0)
        return rc;
    fc->pos += len;
    return (int)len;
}

static void file_chan_close(void *opaque)
{
    struct file_chan *fc = opaque;
    host_file_close(fc->f);
    free(fc);
}

static int transport_file_channel(const char *uri, const char *path, bool reading,
                                  struct channel *ch)
{
    size_t n = strlen(uri);
    struct file_chan *fc = calloc(1, sizeof(*fc) + n + 1);
    int rc;
    if (!fc)
        return err_set(-ENOMEM, "%s: out of memory", uri);
    memcpy(fc->name, uri, n + 1);
    fc->reading = reading;
    rc = host_file_open(&fc->f, path,
                        reading ? HOST_FILE_READ
                                : HOST_FILE_WRITE | HOST_FILE_CREATE | HOST_FILE_TRUNC);
    if (rc == 0 && reading)
        rc = host_file_size(fc->f, &fc->size);
    if (rc < 0) {
        host_file_close(fc->f);
        free(fc);
        return rc;
    }
    ch->write = file_chan_write;
    ch->read = file_chan_read;
    ch->read_some = file_chan_read_some;
    ch->unread = NULL;
    ch->close = file_chan_close;
    ch->opaque = fc;
    ch->name = fc->name;
    return 0;
}

/* ---- connecting and listening ---- */

int transport_connect(const char *uri, struct channel *out)
{
    struct transport_uri u;
    struct host_socket *s;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = transport_parse(uri, &u)) < 0)
        return rc;
    switch (u.kind) {
    case TRANSPORT_TCP:
        if (!u.host[0])
            return transport_bad(uri, "no host to connect to");
        if (u.port == 0)
            return transport_bad(uri, "port 0 cannot be connected to");
        rc = host_tcp_connect(&s, u.host, u.port, TRANSPORT_CONNECT_TIMEOUT_MS);
        break;
    case TRANSPORT_UNIX:
        rc = host_unix_connect(&s, u.path);
        break;
    case TRANSPORT_FD:
        rc = host_socket_from_fd(&s, u.fd);
        break;
    case TRANSPORT_FILE:
        return transport_file_channel(uri, u.path, false, out);
    }
    if (rc < 0)
        return rc;
    transport_sock_channel(out, s);
    return 0;
}

int transport_listen(const char *uri, struct transport_listener **out)
{
    struct transport_uri u;
    struct transport_listener *l;
    struct host_socket *s;
    int rc;

    *out = NULL;
    if ((rc = transport_parse(uri, &u)) < 0)
        return rc;
    l = calloc(1, sizeof(*l) + strlen(uri) + 1);
    if (!l)
        return err_set(-ENOMEM, "%s: out of memory", uri);
    strcpy(l->uri, uri);
    l->kind = u.kind;
    switch (u.kind) {
    case TRANSPORT_TCP:
        rc = host_tcp_listen(&l->sock, u.host, u.port);
        break;
    case TRANSPORT_UNIX:
        rc = host_unix_listen(&l->sock, u.path);
        break;
    case TRANSPORT_FD:
        rc = host_socket_from_fd(&s, u.fd);
        if (rc == 0) {
            transport_sock_channel(&l->pending, s);
            l->have_pending = true;
        }
        break;
    case TRANSPORT_FILE:
        rc = transport_file_channel(uri, u.path, true, &l->pending);
        l->have_pending = rc == 0;
        break;
    }
    if (rc < 0) {
        free(l);
        return rc;
    }
    *out = l;
    return 0;
}

int transport_accept(struct transport_listener *l, struct channel *out, int timeout_ms)
{
    struct host_socket *s;
    int rc;

    memset(out, 0, sizeof(*out));
    if (l->kind == TRANSPORT_FILE || l->kind == TRANSPORT_FD) {
        if (!l->have_pending)
            return err_set(-EBUSY, "%s: already accepted (a file or fd carries one stream)",
                           l->uri);
        *out = l->pending;
        l->have_pending = false;
        return 0;
    }
    if ((rc = host_socket_accept(l->sock, &s, timeout_ms)) < 0)
        return rc;
    transport_sock_channel(out, s);
    return 0;
}

void transport_listener_close(struct transport_listener *l)
{
    if (!l)
        return;
    if (l->have_pending && l->pending.close)
        l->pending.close(l->pending.opaque);
    host_socket_close(l->sock);
    free(l);
}

void transport_shutdown(const struct channel *ch)
{
    if (ch && ch->write == sock_chan_write && ch->opaque)
        host_socket_shutdown(ch->opaque);
}

const char *transport_listener_uri(const struct transport_listener *l)
{
    return l->sock && l->kind == TRANSPORT_TCP ? host_socket_name(l->sock) : l->uri;
}
