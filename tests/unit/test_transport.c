/* migrate/transport and the host sockets under it: URI syntax and its
 * messages; TCP and unix loopback through channels with the peer in a
 * second thread; the error texts for refused connections, ports in use and
 * missing socket files; stale unix socket files; file: round trips; fd:N
 * over a socketpair and a pipe; timeouts and shutdown from another thread. */
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "host/host.h"
#include "migrate/transport.h"
#include "test.h"

#define BIG (3u << 20)

static void tmp_path(char *out, size_t len, const char *what)
{
    static unsigned seq;
    snprintf(out, len, "/tmp/roam-test-%d-%u-%s", (int)getpid(), seq++, what);
}

static void check_uri_syntax(void)
{
    static const char *const good[] = {
        "tcp:127.0.0.1:4444", "tcp:localhost:1", "tcp:[::1]:65535", "tcp::4444",
        "tcp:0.0.0.0:0",      "unix:/tmp/x.sock", "unix:rel", "file:/tmp/snap",
        "file:a b",           "fd:0",             "fd:2147483647",
    };
    static const struct {
        const char *uri, *msg;
    } bad[] = {
        {"xyz", "bad migration URI 'xyz' (use tcp:HOST:PORT, unix:PATH, file:PATH or fd:N)"},
        {"", "empty migration URI (use tcp:HOST:PORT, unix:PATH, file:PATH or fd:N)"},
        {"tcp:host", "bad migration URI 'tcp:host': no port (use tcp:HOST:PORT)"},
        {"tcp:host:99999", "bad migration URI 'tcp:host:99999': the port must be a number from 0 to 65535"},
        {"tcp:host:", "bad migration URI 'tcp:host:': the port must be a number from 0 to 65535"},
        {"tcp:host:12a", "bad migration URI 'tcp:host:12a': the port must be a number from 0 to 65535"},
        {"tcp:::1:4444", "bad migration URI 'tcp:::1:4444': put an IPv6 address in brackets, as in tcp:[::1]:4444"},
        {"tcp:[::1:4444", "bad migration URI 'tcp:[::1:4444': no ']' after the IPv6 address"},
        {"tcp:[::1]4444", "bad migration URI 'tcp:[::1]4444': expected ':PORT' after ']'"},
        {"unix:", "bad migration URI 'unix:': no path (use unix:PATH)"},
        {"file:", "bad migration URI 'file:': no path (use file:PATH)"},
        {"fd:", "bad migration URI 'fd:': fd:N takes a descriptor number"},
        {"fd:-1", "bad migration URI 'fd:-1': fd:N takes a descriptor number"},
        {"fd:99999999999", "bad migration URI 'fd:99999999999': fd:N takes a descriptor number"},
        {"TCP:1.2.3.4:5", "bad migration URI 'TCP:1.2.3.4:5' (use"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (transport_check_uri(good[i]) != 0) {
            printf("  %s: %s\n", good[i], err_msg());
            test_failed_ = 1;
        }
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = transport_check_uri(bad[i].uri);
        if (rc != -EINVAL || strncmp(err_msg(), bad[i].msg, strlen(bad[i].msg)) != 0) {
            printf("  '%s': rc %d, '%s'\n  expected '%s'\n", bad[i].uri, rc, err_msg(),
                   bad[i].msg);
            test_failed_ = 1;
        }
    }
    /* Connecting needs a host and a port other than 0. */
    struct channel ch;
    CHECK_EQ(transport_connect("tcp::4444", &ch), -EINVAL);
    CHECK(strstr(err_msg(), "no host to connect to") != NULL);
    CHECK_EQ(transport_connect("tcp:127.0.0.1:0", &ch), -EINVAL);
    CHECK(strstr(err_msg(), "port 0") != NULL);
}

/* The peer thread: connects to uri, sends BIG bytes of a pattern, then
 * reads back a 4-byte sum and an echo of the first 100 bytes. */
struct peer {
    const char *uri;
    int rc;
    char msg[300];
    uint32_t sum_back;
    uint8_t echo[100];
};

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 7 + (i >> 12));
}

static void peer_thread(void *arg)
{
    struct peer *p = arg;
    struct channel ch;
    uint8_t *buf = malloc(BIG);
    p->rc = buf ? transport_connect(p->uri, &ch) : -ENOMEM;
    if (p->rc == 0) {
        for (size_t i = 0; i < BIG; i++)
            buf[i] = pattern(i);
        p->rc = ch.write(ch.opaque, buf, BIG);
        if (p->rc == 0)
            p->rc = ch.read(ch.opaque, &p->sum_back, 4);
        if (p->rc == 0)
            p->rc = ch.read(ch.opaque, p->echo, sizeof(p->echo));
        ch.close(ch.opaque);
    }
    if (p->rc < 0)
        snprintf(p->msg, sizeof(p->msg), "%s", err_msg());
    free(buf);
}

/* Accepts one peer on l and checks the exchange. */
static void serve_one(struct transport_listener *l, const char *uri)
{
    struct peer p = {.uri = uri};
    struct host_thread *t;
    struct channel ch;
    uint8_t *buf = malloc(BIG);

    CHECK(buf != NULL);
    if (!buf)
        return;
    CHECK_EQ(host_thread_create(&t, peer_thread, &p, "test-peer"), 0);
    int rc = transport_accept(l, &ch, 10000);
    CHECK_EQ(rc, 0);
    if (rc == 0) {
        CHECK(ch.name && *ch.name);
        /* Some of it with read_some, the rest exactly. */
        size_t got = 0;
        while (got < 1000) {
            int n = ch.read_some(ch.opaque, buf + got, 1000 - got, 5000);
            CHECK(n > 0);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        CHECK_EQ(ch.read(ch.opaque, buf + got, BIG - got), 0);
        uint32_t sum = 0;
        size_t bad = 0;
        for (size_t i = 0; i < BIG; i++) {
            sum = sum * 31 + buf[i];
            bad += buf[i] != pattern(i);
        }
        CHECK_EQ(bad, 0);
        CHECK_EQ(ch.write(ch.opaque, &sum, 4), 0);
        CHECK_EQ(ch.write(ch.opaque, buf, 100), 0);
        /* The peer closes: read_some then says end of stream. */
        uint8_t x;
        int n = ch.read_some(ch.opaque, &x, 1, 5000);
        CHECK_EQ(n, -EPIPE);
        ch.close(ch.opaque);
        host_thread_join(t);
        if (p.rc != 0)
            printf("  peer: %s\n", p.msg);
        CHECK_EQ(p.rc, 0);
        CHECK_EQ(p.sum_back, sum);
        CHECK(memcmp(p.echo, buf, 100) == 0);
    } else {
        printf("  accept: %s\n", err_msg());
        host_thread_join(t);
    }
    free(buf);
}

static void tcp_loopback(void)
{
    struct transport_listener *l;
    int rc = transport_listen("tcp:127.0.0.1:0", &l);
    CHECK_EQ(rc, 0);
    if (rc < 0) {
        printf("  %s\n", err_msg());
        return;
    }
    const char *uri = transport_listener_uri(l);
    CHECK(strncmp(uri, "tcp:127.0.0.1:", 14) == 0 && atoi(uri + 14) > 0);
    serve_one(l, uri);
    serve_one(l, uri); /* a listener takes more than one peer */
    transport_listener_close(l);
}

static void tcp_ipv6_loopback(void)
{
    struct transport_listener *l;
    if (transport_listen("tcp:[::1]:0", &l) < 0)
        SKIP("no IPv6 loopback here: %.200s", err_msg());
    const char *uri = transport_listener_uri(l);
    CHECK(strncmp(uri, "tcp:[::1]:", 10) == 0);
    serve_one(l, uri);
    transport_listener_close(l);
}

static void unix_loopback(void)
{
    char path[200], uri[220];
    struct transport_listener *l;
    tmp_path(path, sizeof(path), "loop.sock");
    snprintf(uri, sizeof(uri), "unix:%s", path);
    int rc = transport_listen(uri, &l);
    CHECK_EQ(rc, 0);
    if (rc < 0) {
        printf("  %s\n", err_msg());
        return;
    }
    CHECK_STR(transport_listener_uri(l), uri);
    CHECK(access(path, F_OK) == 0);
    serve_one(l, uri);
    transport_listener_close(l);
    CHECK(access(path, F_OK) != 0); /* closing removes the socket file */
}

/* What the peer has not read yet: counted on a Unix socket, which is what
 * lets the migration stop as soon as the destination has caught up; TCP
 * cannot tell (its count ends at the peer's kernel). */
static void unread_counts(void)
{
    char path[200], uri[220];
    struct transport_listener *l;
    struct channel c, srv;
    static uint8_t data[20000], back[20000];
    size_t n = 1;

    tmp_path(path, sizeof(path), "unread.sock");
    snprintf(uri, sizeof(uri), "unix:%s", path);
    CHECK_EQ(transport_listen(uri, &l), 0);
    CHECK_EQ(transport_connect(uri, &c), 0);
    CHECK_EQ(transport_accept(l, &srv, 5000), 0);
    CHECK(c.unread != NULL);
    int rc = c.unread(c.opaque, &n);
    if (rc == -ENOSYS) {
        c.close(c.opaque);
        srv.close(srv.opaque);
        transport_listener_close(l);
        SKIP("this host does not count unread bytes: %.200s", err_msg());
    }
    CHECK_EQ(rc, 0);
    CHECK_EQ(n, 0);
    CHECK_EQ(c.write(c.opaque, data, sizeof(data)), 0);
    CHECK_EQ(c.unread(c.opaque, &n), 0);
    CHECK(n >= sizeof(data));
    CHECK_EQ(srv.read(srv.opaque, back, sizeof(back)), 0);
    CHECK_EQ(c.unread(c.opaque, &n), 0);
    CHECK_EQ(n, 0);
    c.close(c.opaque);
    srv.close(srv.opaque);
    transport_listener_close(l);

    CHECK_EQ(transport_listen("tcp:127.0.0.1:0", &l), 0);
    CHECK_EQ(transport_connect(transport_listener_uri(l), &c), 0);
    CHECK_EQ(transport_accept(l, &srv, 5000), 0);
    CHECK(c.unread(c.opaque, &n) < 0);
    c.close(c.opaque);
    srv.close(srv.opaque);
    transport_listener_close(l);
}

static void error_texts(void)
{
    struct transport_listener *l, *l2;
    struct channel ch;
    char uri[300], want[400], path[100];

    /* A port nobody listens on: refused. */
    CHECK_EQ(transport_listen("tcp:127.0.0.1:0", &l), 0);
    snprintf(uri, sizeof(uri), "%s", transport_listener_uri(l));
    /* The same port again: in use. */
    CHECK_EQ(transport_listen(uri, &l2), -EADDRINUSE);
    snprintf(want, sizeof(want), "%s: Address already in use", uri);
    CHECK_STR(err_msg(), want);
    transport_listener_close(l);
    CHECK_EQ(transport_connect(uri, &ch), -ECONNREFUSED);
    snprintf(want, sizeof(want), "%s: Connection refused", uri);
    CHECK_STR(err_msg(), want);

    CHECK_EQ(transport_connect("unix:/nonexistent-dir/x.sock", &ch), -ENOENT);
    CHECK_STR(err_msg(), "unix:/nonexistent-dir/x.sock: No such file or directory");
    CHECK_EQ(transport_listen("unix:/nonexistent-dir/x.sock", &l), -ENOENT);
    CHECK_STR(err_msg(), "unix:/nonexistent-dir/x.sock: No such file or directory");
    CHECK_EQ(transport_connect("tcp:no-such-host.invalid:4444", &ch) < 0, 1);
    CHECK(strncmp(err_msg(), "tcp:no-such-host.invalid:4444: ", 31) == 0);

    /* A path longer than sun_path. */
    char longp[300];
    memset(longp, 'a', sizeof(longp));
    memcpy(longp, "unix:/", 6);
    longp[sizeof(longp) - 1] = 0;
    CHECK_EQ(transport_listen(longp, &l), -ENAMETOOLONG);
    CHECK(strstr(err_msg(), "path too long for a unix socket") != NULL);

    /* A file that is not a socket is left alone. */
    tmp_path(path, sizeof(path), "regular");
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    snprintf(uri, sizeof(uri), "unix:%s", path);
    CHECK_EQ(transport_listen(uri, &l), -EEXIST);
    CHECK(strstr(err_msg(), "not a socket") != NULL);
    CHECK(access(path, F_OK) == 0);
    unlink(path);
}

static void unix_stale_and_live(void)
{
    char path[100], uri[120];
    struct transport_listener *l, *l2;
    struct sockaddr_un sa;

    tmp_path(path, sizeof(path), "stale.sock");
    snprintf(uri, sizeof(uri), "unix:%s", path);
    /* A socket file left behind by a process that died. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    CHECK_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    CHECK(access(path, F_OK) == 0);
    CHECK_EQ(transport_listen(uri, &l), 0);
    /* A live listener is not taken over. */
    CHECK_EQ(transport_listen(uri, &l2), -EADDRINUSE);
    CHECK(strstr(err_msg(), "Address already in use") != NULL);
    transport_listener_close(l);
    CHECK(access(path, F_OK) != 0);
}

static void file_round_trip(void)
{
    char path[200], uri[220];
    struct channel w, r;
    struct transport_listener *l;
    uint8_t data[5000], back[5000];

    tmp_path(path, sizeof(path), "stream");
    snprintf(uri, sizeof(uri), "file:%s", path);
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = pattern(i);
    CHECK_EQ(transport_connect(uri, &w), 0);
    CHECK_STR(w.name, uri);
    CHECK_EQ(w.write(w.opaque, data, 3000), 0);
    CHECK_EQ(w.write(w.opaque, data + 3000, 2000), 0);
    CHECK_EQ(w.read(w.opaque, back, 1), -EBADF);
    w.close(w.opaque);

    CHECK_EQ(transport_listen(uri, &l), 0);
    CHECK_EQ(transport_accept(l, &r, 0), 0);
    CHECK_EQ(transport_accept(l, &w, 0), -EBUSY);
    CHECK_EQ(r.read(r.opaque, back, 1000), 0);
    CHECK_EQ(r.read_some(r.opaque, back + 1000, 10, -1), 10);
    CHECK_EQ(r.read(r.opaque, back + 1010, 3990), 0);
    CHECK(memcmp(data, back, sizeof(data)) == 0);
    CHECK_EQ(r.read(r.opaque, back, 1), -EPIPE);
    CHECK(strstr(err_msg(), "ends after 5000 bytes") != NULL);
    CHECK_EQ(r.read_some(r.opaque, back, 1, 0), -EPIPE);
    CHECK_EQ(r.write(r.opaque, back, 1), -EBADF);
    r.close(r.opaque);
    transport_listener_close(l);

    /* Reading a file that is not there fails at listen time. */
    unlink(path);
    CHECK_EQ(transport_listen(uri, &l), -ENOENT);
    CHECK(strstr(err_msg(), path) != NULL);
    /* A file listener that is never accepted closes its file. */
    CHECK_EQ(transport_connect(uri, &w), 0);
    w.close(w.opaque);
    CHECK_EQ(transport_listen(uri, &l), 0);
    transport_listener_close(l);
    unlink(path);
}

static void fd_channels(void)
{
    int sv[2], pfd[2];
    char uri[32];
    struct channel a, b;
    struct transport_listener *l;
    char buf[16];

    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    snprintf(uri, sizeof(uri), "fd:%d", sv[0]);
    CHECK_EQ(transport_connect(uri, &a), 0);
    CHECK_STR(a.name, uri);
    snprintf(uri, sizeof(uri), "fd:%d", sv[1]);
    CHECK_EQ(transport_listen(uri, &l), 0);
    CHECK_EQ(transport_accept(l, &b, 0), 0);
    CHECK_EQ(a.write(a.opaque, "hello", 5), 0);
    CHECK_EQ(b.read(b.opaque, buf, 5), 0);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_EQ(b.read_some(b.opaque, buf, 5, 20), 0); /* nothing: a timeout */
    b.close(b.opaque);
    transport_listener_close(l);
    /* The peer is gone: -EPIPE, not SIGPIPE. */
    CHECK_EQ(a.write(a.opaque, "x", 1), -EPIPE);
    CHECK_EQ(a.read(a.opaque, buf, 1), -EPIPE);
    a.close(a.opaque);

    /* A pipe works too (read()/write()), and a broken one is -EPIPE. */
    CHECK_EQ(pipe(pfd), 0);
    snprintf(uri, sizeof(uri), "fd:%d", pfd[1]);
    CHECK_EQ(transport_connect(uri, &a), 0);
    snprintf(uri, sizeof(uri), "fd:%d", pfd[0]);
    CHECK_EQ(transport_connect(uri, &b), 0);
    CHECK_EQ(a.write(a.opaque, "pipe", 4), 0);
    CHECK_EQ(b.read(b.opaque, buf, 4), 0);
    CHECK(memcmp(buf, "pipe", 4) == 0);
    b.close(b.opaque);
    CHECK_EQ(a.write(a.opaque, "x", 1), -EPIPE);
    a.close(a.opaque);

    CHECK_EQ(transport_connect("fd:987654", &a), -EBADF);
    CHECK_STR(err_msg(), "fd:987654: Bad file descriptor");
}

struct blocked {
    struct host_socket *s;
    int rc;
    char msg[200];
};

static void blocked_reader(void *arg)
{
    struct blocked *b = arg;
    char x[10];
    b->rc = host_socket_recv(b->s, x, sizeof(x));
    snprintf(b->msg, sizeof(b->msg), "%s", err_msg()); /* err_msg() is per thread */
}

static void timeouts_and_shutdown(void)
{
    struct host_socket *l, *c, *s;
    struct host_thread *t;
    char buf[4];

    CHECK_EQ(host_tcp_listen(&l, "127.0.0.1", 0), 0);
    CHECK(host_socket_port(l) != 0);
    uint64_t t0 = host_time_ns();
    CHECK_EQ(host_socket_accept(l, &s, 50), -ETIMEDOUT);
    CHECK(host_time_ns() - t0 >= 40 * 1000000ull);
    CHECK(strstr(err_msg(), "no connection within 50 ms") != NULL);
    CHECK_EQ(host_tcp_connect(&c, "localhost", host_socket_port(l), 5000), 0);
    CHECK_EQ(host_socket_accept(l, &s, 5000), 0);
    t0 = host_time_ns();
    CHECK_EQ(host_socket_recv_some(s, buf, 4, 50), 0);
    CHECK(host_time_ns() - t0 >= 40 * 1000000ull);

    /* A receive blocked in another thread returns when the socket is shut
     * down, saying so. */
    struct blocked b = {.s = s};
    CHECK_EQ(host_thread_create(&t, blocked_reader, &b, "test-blocked"), 0);
    host_sleep_ns(50 * 1000000ull);
    host_socket_shutdown(s);
    host_thread_join(t);
    CHECK_EQ(b.rc, -ECANCELED);
    CHECK(strstr(b.msg, "the connection was shut down") != NULL);
    /* The peer sees the end of the stream. */
    CHECK_EQ(host_socket_recv(c, buf, 1), -EPIPE);
    CHECK(strstr(err_msg(), "closed the connection after 0 of 1 bytes") != NULL);
    host_socket_close(s);
    host_socket_close(c);
    host_socket_close(l);
}

struct chan_reader {
    struct channel *ch;
    int rc;
};

static void chan_reader(void *arg)
{
    struct chan_reader *r = arg;
    char x[8];
    r->rc = r->ch->read(r->ch->opaque, x, sizeof(x));
}

/* transport_shutdown() ends a read blocked in another thread (what a
 * migration cancel needs), and leaves files alone. */
static void channel_shutdown(void)
{
    struct transport_listener *l;
    struct channel a, b, f;
    struct host_thread *t;
    char path[100], uri[120];

    CHECK_EQ(transport_listen("tcp:127.0.0.1:0", &l), 0);
    CHECK_EQ(transport_connect(transport_listener_uri(l), &a), 0);
    CHECK_EQ(transport_accept(l, &b, 5000), 0);
    struct chan_reader r = {.ch = &a};
    CHECK_EQ(host_thread_create(&t, chan_reader, &r, "test-reader"), 0);
    host_sleep_ns(50 * 1000000ull);
    transport_shutdown(&a);
    host_thread_join(t);
    CHECK_EQ(r.rc, -ECANCELED);
    char x;
    CHECK_EQ(b.read(b.opaque, &x, 1), -EPIPE);
    a.close(a.opaque);
    b.close(b.opaque);
    transport_listener_close(l);

    tmp_path(path, sizeof(path), "shut");
    snprintf(uri, sizeof(uri), "file:%s", path);
    CHECK_EQ(transport_connect(uri, &f), 0);
    transport_shutdown(&f);
    CHECK_EQ(f.write(f.opaque, "ok", 2), 0);
    f.close(f.opaque);
    unlink(path);
    transport_shutdown(NULL);
}

static const struct test_case tests[] = {
    TEST(check_uri_syntax), TEST(tcp_loopback),      TEST(tcp_ipv6_loopback),
    TEST(unix_loopback),    TEST(error_texts),       TEST(unix_stale_and_live),
    TEST(file_round_trip),  TEST(fd_channels),       TEST(timeouts_and_shutdown),
    TEST(channel_shutdown), TEST(unread_counts),
};

int main(int argc, char **argv)
{
    /* A broken pipe must be an error code, never a fatal signal: keep the
     * default SIGPIPE action so that the test would die if it were raised. */
    signal(SIGPIPE, SIG_DFL);
    return test_run_all_("transport", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
