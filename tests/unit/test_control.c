/* core/control's protocol with no engine: a VM that was never created
 * (zeroed, with its lock; state CREATED) behind the control socket. The
 * greeting, framing (CRLF, blank lines, over-long lines, several requests
 * in one write), JSON errors, unknown commands and members, argument
 * checks, id echoing, the commands that need no running VM, refusals of
 * those that do, and the SHUTDOWN event at control_stop(). The KVM test
 * (tests/kvm/test_control.c) drives a running guest. */
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/control.h"
#include "core/json.h"
#include "migrate/migrate.h"
#include "test.h"

struct fixture {
    struct vm *vm;
    struct control *ctl;
    char spec[120];
};

static int fixture_start(struct fixture *f)
{
    static unsigned seq;
    memset(f, 0, sizeof(*f));
    f->vm = calloc(1, sizeof(*f->vm));
    if (!f->vm || host_mutex_create(&f->vm->lock) < 0)
        return -1;
    f->vm->state = VM_STATE_CREATED;
    snprintf(f->vm->stop_reason, sizeof(f->vm->stop_reason), "test over");
    snprintf(f->spec, sizeof(f->spec), "unix:/tmp/roam-test-%d-%u-ctl.sock", (int)getpid(),
             seq++);
    if (control_start(f->vm, f->spec, &f->ctl) < 0) {
        printf("  control_start: %s\n", err_msg());
        return -1;
    }
    return 0;
}

static void fixture_stop(struct fixture *f)
{
    control_stop(f->ctl);
    migrate_cleanup(f->vm);
    host_mutex_destroy(f->vm->lock);
    free(f->vm);
}

/* Sends request and checks that the answer is exactly want. */
static void expect(struct control_client *cc, const char *request, const char *want)
{
    char *answer = NULL;
    int rc = control_client_call(cc, request, &answer);
    if (rc < 0 || strcmp(answer, want) != 0) {
        printf("  %s\n    -> %s\n    expected %s\n", request, rc < 0 ? err_msg() : answer,
               want);
        test_failed_ = 1;
    }
    free(answer);
}

static void protocol_errors(void)
{
    struct fixture f;
    struct control_client *cc;

    if (fixture_start(&f) < 0) {
        test_failed_ = 1;
        return;
    }
    CHECK_EQ(control_client_connect(f.spec, &cc), 0);
    expect(cc, "{\"execute\":\"fly\",\"id\":7}",
           "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"the command 'fly' does not "
           "exist\"},\"id\":7}");
    expect(cc, "{\"execute\":\"query-status\"", /* cut short */
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON: expected ',' or '}' at "
           "offset 25 (found the end of the input)\"}}");
    expect(cc, "[1]",
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"a request is a JSON object: "
           "{\\\"execute\\\": \\\"NAME\\\", ...}\"}}");
    expect(cc, "{\"id\":{\"deep\":[1,\"x\"]}}",
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"missing 'execute'\"},"
           "\"id\":{\"deep\":[1,\"x\"]}}");
    expect(cc, "{\"execute\":5}",
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'execute' must be a string, not "
           "an integer\"}}");
    expect(cc, "{\"execute\":\"stop\",\"argumnets\":{}}",
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"unexpected member 'argumnets' in "
           "the request (execute, arguments, id)\"}}");
    expect(cc, "{\"execute\":\"stop\",\"arguments\":[]}",
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'arguments' must be an "
           "object\"}}");
    expect(cc, "{\"execute\":\"stop\",\"arguments\":{\"now\":true}}",
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'stop' takes no argument "
           "'now'\"}}");
    expect(cc, "{\"execute\":\"migrate\",\"arguments\":{}}",
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"missing 'uri'\"}}");
    expect(cc, "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"ftp:x\"}}",
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'uri': bad migration URI 'ftp:x' "
           "(use tcp:HOST:PORT, unix:PATH, file:PATH or fd:N)\"}}");
    expect(cc, "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"tcp:h:1\",\"downtime-ms\":\"5\"}}",
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'downtime-ms' must be an "
           "integer, not a string\"}}");
    expect(cc, "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"downtime-limit\":"
               "99999999}}",
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'downtime-limit' must be at most "
           "2000000 ms\"}}");
    expect(cc, "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"stall-timeout\":"
               "3600001}}",
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'stall-timeout' must be at most "
           "3600000 ms\"}}");
    expect(cc, "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"auto-converge\":1}}",
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'auto-converge' must be true or "
           "false, not an integer\"}}");
    expect(cc, "{\"execute\":\"snapshot-save\",\"arguments\":{\"file\":\"\"}}",
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'file' must not be empty\"}}");
    control_client_close(cc);
    fixture_stop(&f);
}

static void commands_without_a_running_vm(void)
{
    struct fixture f;
    struct control_client *cc;

    if (fixture_start(&f) < 0) {
        test_failed_ = 1;
        return;
    }
    CHECK_EQ(control_client_connect(f.spec, &cc), 0);
    expect(cc, "{\"execute\":\"query-status\",\"id\":\"a\"}",
           "{\"return\":{\"status\":\"prelaunch\",\"running\":false},\"id\":\"a\"}");
    expect(cc, "{\"execute\":\"query-migrate\"}",
           "{\"return\":{\"status\":\"none\",\"total-time-ms\":0,\"downtime-ms\":0,"
           "\"transferred\":0,\"pages\":0,\"zero-pages\":0,\"rounds\":0,\"dirty-pages-rate\":0,"
           "\"remaining-pages\":0,\"bandwidth\":0,\"mbps\":0.0,\"throttle-percent\":0}}");
    expect(cc, "{\"execute\":\"query-migrate-parameters\"}",
           "{\"return\":{\"downtime-limit\":50,\"max-bandwidth\":0,\"auto-converge\":true,"
           "\"stall-timeout\":60000}}");
    expect(cc, "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"downtime-limit\":300,"
               "\"max-bandwidth\":125000000,\"auto-converge\":false,\"stall-timeout\":0},"
               "\"id\":null}",
           "{\"return\":{},\"id\":null}");
    expect(cc, "{\"execute\":\"query-migrate-parameters\"}",
           "{\"return\":{\"downtime-limit\":300,\"max-bandwidth\":125000000,"
           "\"auto-converge\":false,\"stall-timeout\":0}}");
    /* Integral doubles are integers; the other parameters stay. */
    expect(cc, "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"downtime-limit\":2e1}}",
           "{\"return\":{}}");
    expect(cc, "{\"execute\":\"query-migrate-parameters\"}",
           "{\"return\":{\"downtime-limit\":20,\"max-bandwidth\":125000000,"
           "\"auto-converge\":false,\"stall-timeout\":0}}");
    static const char *const need_vm[] = {"stop", "cont"};
    for (size_t i = 0; i < 2; i++) {
        char req[80];
        snprintf(req, sizeof(req), "{\"execute\":\"%s\"}", need_vm[i]);
        expect(cc, req,
               "{\"error\":{\"class\":\"GenericError\",\"desc\":\"the VM has not started "
               "yet\"}}");
    }
    expect(cc, "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"tcp:127.0.0.1:1\"}}",
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"the VM has not started yet\"}}");
    expect(cc, "{\"execute\":\"snapshot-save\",\"arguments\":{\"file\":\"/tmp/x\"}}",
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"the VM has not started yet\"}}");
    expect(cc, "{\"execute\":\"migrate-cancel\"}",
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"no migration is running\"}}");
    f.vm->stop_requested = true;
    expect(cc, "{\"execute\":\"query-status\"}",
           "{\"return\":{\"status\":\"shutdown\",\"running\":false}}");
    expect(cc, "{\"execute\":\"cont\"}",
           "{\"error\":{\"class\":\"GenericError\",\"desc\":\"the VM has stopped\"}}");
    control_client_close(cc);
    fixture_stop(&f);
}

/* Raw socket access for the framing tests. */
static int raw_connect(const char *spec)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    size_t n = strlen(spec + 5);
    if (n >= sizeof(sa.sun_path))
        return -1;
    memcpy(sa.sun_path, spec + 5, n);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads one line (up to a newline) from fd, with a 5 s limit. */
static int raw_line(int fd, char *buf, size_t len)
{
    size_t n = 0;
    uint64_t deadline = host_time_ns() + 5000000000ull;
    while (n + 1 < len && host_time_ns() < deadline) {
        ssize_t r = read(fd, buf + n, 1);
        if (r <= 0)
            break;
        if (buf[n] == '\n') {
            buf[n] = 0;
            return 0;
        }
        n++;
    }
    buf[n] = 0;
    return -1;
}

static void framing(void)
{
    struct fixture f;
    char line[4096];

    if (fixture_start(&f) < 0) {
        test_failed_ = 1;
        return;
    }
    int fd = raw_connect(f.spec);
    CHECK(fd >= 0);
    if (fd < 0) {
        fixture_stop(&f);
        return;
    }
    CHECK_EQ(raw_line(fd, line, sizeof(line)), 0);
    CHECK(strncmp(line, "{\"roam\":{\"version\":\"0.1.0\",\"commands\":[\"query-status\",", 52) ==
          0);
    CHECK(strstr(line, "\"snapshot-save\"]}}") != NULL);

    /* Two requests in one write, CRLF, blank and whitespace lines between. */
    static const char two[] = "{\"execute\":\"query-status\",\"id\":1}\r\n\n   \r\n"
                              "{\"execute\":\"query-status\",\"id\":2}\n";
    CHECK_EQ(write(fd, two, sizeof(two) - 1), (ssize_t)(sizeof(two) - 1));
    CHECK_EQ(raw_line(fd, line, sizeof(line)), 0);
    CHECK_STR(line, "{\"return\":{\"status\":\"prelaunch\",\"running\":false},\"id\":1}");
    CHECK_EQ(raw_line(fd, line, sizeof(line)), 0);
    CHECK_STR(line, "{\"return\":{\"status\":\"prelaunch\",\"running\":false},\"id\":2}");

    /* A request of exactly 64 KiB (padded with spaces) is served; one
     * byte more is not. */
    for (int extra = 0; extra < 2; extra++) {
        static const char head[] = "{\"execute\":\"query-status\",\"id\":4}";
        size_t len = 65536 + (size_t)extra;
        char *req = malloc(len + 1);
        CHECK(req != NULL);
        if (!req)
            break;
        memset(req, ' ', len);
        memcpy(req, head, sizeof(head) - 1);
        req[len] = '\n';
        size_t off = 0;
        while (off < len + 1) {
            ssize_t w = write(fd, req + off, len + 1 - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        free(req);
        CHECK_EQ(raw_line(fd, line, sizeof(line)), 0);
        if (extra == 0)
            CHECK_STR(line, "{\"return\":{\"status\":\"prelaunch\",\"running\":false},\"id\":4}");
        else
            CHECK(strstr(line, "request longer than 65536 bytes") != NULL);
    }

    /* A line over 64 KiB: one error, the rest of it ignored, and the
     * connection goes on. */
    size_t big = 200000;
    char *junk = malloc(big);
    CHECK(junk != NULL);
    if (junk) {
        memset(junk, 'x', big);
        junk[big - 1] = '\n';
        size_t off = 0;
        while (off < big) {
            ssize_t w = write(fd, junk + off, big - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        free(junk);
        CHECK_EQ(off, big);
    }
    CHECK_EQ(raw_line(fd, line, sizeof(line)), 0);
    CHECK_STR(line, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"request longer than 65536 "
                    "bytes: ignored\"}}");
    static const char after[] = "{\"execute\":\"query-status\",\"id\":3}\n";
    CHECK_EQ(write(fd, after, sizeof(after) - 1), (ssize_t)(sizeof(after) - 1));
    CHECK_EQ(raw_line(fd, line, sizeof(line)), 0);
    CHECK_STR(line, "{\"return\":{\"status\":\"prelaunch\",\"running\":false},\"id\":3}");

    /* control_stop(): a SHUTDOWN event, then the end of the stream. */
    control_stop(f.ctl);
    f.ctl = NULL;
    CHECK_EQ(raw_line(fd, line, sizeof(line)), 0);
    CHECK_STR(line, "{\"event\":\"SHUTDOWN\",\"data\":{\"reason\":\"test over\"}}");
    CHECK(read(fd, line, 1) == 0);
    close(fd);
    fixture_stop(&f);
}

/* A client that sends and never reads blocks the server's answers;
 * control_stop() still returns, after cutting it off. */
static void stop_with_a_client_that_does_not_read(void)
{
    struct fixture f;
    char line[4096];
    static const char req[] = "{\"execute\":\"query-migrate\"}\n";

    if (fixture_start(&f) < 0) {
        test_failed_ = 1;
        return;
    }
    int fd = raw_connect(f.spec);
    CHECK(fd >= 0);
    if (fd < 0) {
        fixture_stop(&f);
        return;
    }
    CHECK_EQ(raw_line(fd, line, sizeof(line)), 0);
    /* Requests until the socket is full both ways (the server blocks). */
    size_t sent = 0;
    uint64_t deadline = host_time_ns() + 5000000000ull;
    while (host_time_ns() < deadline) {
        ssize_t w = send(fd, req, sizeof(req) - 1, MSG_DONTWAIT);
        if (w < 0) {
            host_sleep_ns(20 * 1000000ull); /* full: is the server still reading? */
            if (send(fd, req, sizeof(req) - 1, MSG_DONTWAIT) < 0)
                break;
            w = sizeof(req) - 1;
        }
        sent += (size_t)w;
    }
    CHECK(sent > 10000);
    uint64_t t0 = host_time_ns();
    control_stop(f.ctl);
    f.ctl = NULL;
    uint64_t took = host_time_ns() - t0;
    CHECK(took < 4000000000ull);
    close(fd);
    fixture_stop(&f);
}

static void clients_at_once(void)
{
    struct fixture f;
    struct control_client *a, *b;

    if (fixture_start(&f) < 0) {
        test_failed_ = 1;
        return;
    }
    /* Two clients are served together: one can follow a migration while
     * another cancels it. */
    CHECK_EQ(control_client_connect(f.spec, &a), 0);
    CHECK_EQ(control_client_connect(f.spec, &b), 0);
    expect(b, "{\"execute\":\"query-status\"}",
           "{\"return\":{\"status\":\"prelaunch\",\"running\":false}}");
    expect(a, "{\"execute\":\"query-status\", \"id\": 7}",
           "{\"return\":{\"status\":\"prelaunch\",\"running\":false},\"id\":7}");
    control_client_close(a);
    expect(b, "{\"execute\":\"query-status\"}",
           "{\"return\":{\"status\":\"prelaunch\",\"running\":false}}");
    control_client_close(b);
    fixture_stop(&f);
}

static void bad_specs(void)
{
    struct control *ctl;
    struct control_client *cc;
    struct vm vm;
    memset(&vm, 0, sizeof(vm));
    CHECK_EQ(control_start(&vm, "file:/tmp/x", &ctl), -EINVAL);
    CHECK_STR(err_msg(), "bad control socket 'file:/tmp/x' (use unix:PATH or tcp:HOST:PORT)");
    CHECK_EQ(control_start(&vm, "tcp:1.2.3.4", &ctl), -EINVAL);
    CHECK(strstr(err_msg(), "no port") != NULL);
    CHECK_EQ(control_client_connect("/tmp/x", &cc), -EINVAL);
    CHECK_EQ(control_client_connect("unix:/nonexistent-dir/c.sock", &cc), -ENOENT);
    CHECK_STR(err_msg(), "unix:/nonexistent-dir/c.sock: No such file or directory");
}

static const struct test_case tests[] = {
    TEST(protocol_errors), TEST(commands_without_a_running_vm), TEST(framing),
    TEST(stop_with_a_client_that_does_not_read), TEST(clients_at_once), TEST(bad_specs),
};

TEST_MAIN("control", tests)
