/* The control socket driving a running guest on KVM, or on emu where KVM
 * is not usable (the dirtier guest program, "rounds=0 mem=8M": it runs
 * until stopped): query-status, stop and cont (checked against the VM's own
 * state), an unknown command, snapshot-save, a migration to nowhere that
 * fails while the VM runs on, quit, the events at control_stop(), and a
 * live migration between two VMs in this process started by the migrate
 * command and followed with query-migrate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/control.h"
#include "core/json.h"
#include "engine/engine.h"
#include "host/host.h"
#include "migrate/migrate.h"
#include "migrate/transport.h"
#include "test.h"

#define DIRTIER "build/guests/dirtier.elf"

/* The engine the guests run on: KVM where it is usable, else emu (the
 * control socket and the migration do not depend on it); NULL, with why,
 * where the guest is not built. */
static const char *engine_name;

static const char *pick_engine(char *why, size_t len)
{
    const struct engine_ops *kvm = engine_find("kvm");
    if (access(DIRTIER, R_OK) != 0) {
        snprintf(why, len, "%s is not built (make guests)", DIRTIER);
        return NULL;
    }
    if (kvm && kvm->probe() == 0)
        return engine_name = "kvm";
    printf("  KVM is not usable (%.200s): on emu\n", kvm ? err_msg() : "not built in");
    return engine_name = "emu";
}

static void guest_config(struct vm_config *cfg, const char *serial_log)
{
    config_defaults(cfg);
    cfg->engine = engine_name;
    cfg->kernel = DIRTIER;
    cfg->cmdline = "rounds=0 mem=8M";
    cfg->mem_size = 64ull << 20;
    cfg->serial = SERIAL_FILE;
    cfg->serial_path = serial_log;
}

static struct vm *start_guest(void)
{
    struct vm_config cfg;
    struct vm *vm = NULL;
    guest_config(&cfg, "build/tests/control.serial.log");
    if (vm_create(&vm, &cfg) < 0) {
        printf("  vm_create: %s\n", err_msg());
        return NULL;
    }
    if (vm_start(vm) < 0) {
        printf("  vm_start: %s\n", err_msg());
        vm_destroy(vm);
        return NULL;
    }
    return vm;
}

/* Waits up to 30 s for text in the guest's serial log: the guest has got
 * that far (a busy host can keep a fresh vCPU from running for a while). */
static bool serial_wait(const char *path, const char *text)
{
    for (int i = 0; i < 3000; i++) {
        char buf[4096];
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = 0;
        if (strstr(buf, text))
            return true;
        host_sleep_ns(10 * 1000 * 1000ull);
    }
    return false;
}

static void tmp_path(char *out, size_t len, const char *what)
{
    static unsigned seq;
    snprintf(out, len, "/tmp/roam-test-%d-%u-%s", (int)getpid(), seq++, what);
}

/* Sends a request and parses the answer (NULL, with a message, on failure). */
static struct json *call(struct control_client *cc, const char *request)
{
    char *line = NULL;
    struct json *v = NULL;
    if (control_client_call(cc, request, &line) < 0) {
        printf("  %s: %s\n", request, err_msg());
        return NULL;
    }
    if (json_parse(line, strlen(line), &v) < 0)
        printf("  %s: bad answer '%s': %s\n", request, line, err_msg());
    free(line);
    return v;
}

/* Calls and checks {"return": ...}; returns the answer for more checks. */
static struct json *call_ok(struct control_client *cc, const char *request)
{
    struct json *v = call(cc, request);
    if (!v || !json_get(v, "return")) {
        char *t = NULL;
        if (v && json_emit(v, &t) == 0)
            printf("  %s: %s\n", request, t);
        free(t);
        test_failed_ = 1;
    }
    return v;
}

static const char *status_of(const struct json *answer)
{
    const char *s = "?";
    if (json_get_str(json_get(answer, "return"), "status", &s) < 0)
        s = "?";
    return s;
}

static void control_lifecycle(void)
{
    char why[300], spec[160], snap[120], req[300];
    struct control *ctl = NULL;
    struct control_client *cc = NULL;
    struct json *a;
    bool running = false;

    if (!pick_engine(why, sizeof(why)))
        SKIP("%.200s", why);
    struct vm *vm = start_guest();
    CHECK(vm != NULL);
    if (!vm)
        return;
    tmp_path(spec + 5, sizeof(spec) - 5, "ctl.sock");
    memcpy(spec, "unix:", 5);
    CHECK_EQ(control_start(vm, spec, &ctl), 0);
    CHECK_EQ(control_client_connect(spec, &cc), 0);
    if (!ctl || !cc)
        goto out;

    a = call_ok(cc, "{\"execute\":\"query-status\",\"id\":1}");
    CHECK_STR(status_of(a), "running");
    CHECK(json_get_bool(json_get(a, "return"), "running", &running) == 0 && running);
    CHECK_EQ(json_get(a, "id")->i, 1);
    json_free(a);

    json_free(call_ok(cc, "{\"execute\":\"stop\"}"));
    CHECK_EQ(vm->state, VM_STATE_PAUSED);
    a = call_ok(cc, "{\"execute\":\"query-status\"}");
    CHECK_STR(status_of(a), "paused");
    CHECK(json_get_bool(json_get(a, "return"), "running", &running) == 0 && !running);
    json_free(a);
    json_free(call_ok(cc, "{\"execute\":\"cont\"}"));
    CHECK_EQ(vm->state, VM_STATE_RUNNING);
    a = call_ok(cc, "{\"execute\":\"query-status\"}");
    CHECK_STR(status_of(a), "running");
    json_free(a);

    a = call(cc, "{\"execute\":\"reboot-the-moon\"}");
    const char *cls = NULL;
    CHECK(a && json_get_str(json_get(a, "error"), "class", &cls) == 0);
    CHECK_STR(cls, "CommandNotFound");
    json_free(a);

    /* A snapshot of the running VM, which then runs on: once the guest has
     * filled its 8 MiB, so that the snapshot has them to carry. */
    CHECK(serial_wait("build/tests/control.serial.log", "round 0 filled"));
    tmp_path(snap, sizeof(snap), "snap.roam");
    snprintf(req, sizeof(req), "{\"execute\":\"snapshot-save\",\"arguments\":{\"file\":\"%s\"}}",
             snap);
    a = call_ok(cc, req);
    uint64_t bytes = 0;
    CHECK(a && json_get_uint(json_get(a, "return"), "bytes", &bytes) == 0);
    json_free(a);
    FILE *f = fopen(snap, "rb");
    CHECK(f != NULL);
    if (f) {
        fseek(f, 0, SEEK_END);
        CHECK_EQ((uint64_t)ftell(f), bytes); /* the size it reported */
        CHECK(bytes > 64 * 1024);
        fclose(f);
    }
    unlink(snap);
    CHECK_EQ(vm->state, VM_STATE_RUNNING);

    /* A migration to a socket nobody listens on fails; the VM runs on. */
    json_free(call_ok(cc, "{\"execute\":\"migrate\",\"arguments\":{\"uri\":"
                          "\"unix:/nonexistent-dir/m.sock\",\"downtime-ms\":30}}"));
    char st[32] = "?";
    for (int i = 0; i < 100; i++) {
        const char *desc = "";
        a = call_ok(cc, "{\"execute\":\"query-migrate\"}");
        snprintf(st, sizeof(st), "%s", a ? status_of(a) : "?");
        if (strcmp(st, "failed") == 0) {
            if (json_get_str(json_get(a, "return"), "error-desc", &desc) < 0)
                desc = "";
            CHECK(strstr(desc, "unix:/nonexistent-dir/m.sock: No such file or directory") !=
                  NULL);
            json_free(a);
            break;
        }
        json_free(a);
        host_sleep_ns(20 * 1000000ull);
    }
    CHECK_STR(st, "failed");
    a = call_ok(cc, "{\"execute\":\"query-migrate-parameters\"}");
    uint64_t dl = 0;
    CHECK(a && json_get_uint(json_get(a, "return"), "downtime-limit", &dl) == 0 && dl == 30);
    json_free(a);
    a = call_ok(cc, "{\"execute\":\"query-status\"}");
    CHECK_STR(status_of(a), "running");
    json_free(a);

    json_free(call_ok(cc, "{\"execute\":\"quit\",\"id\":\"bye\"}"));
    CHECK_EQ(vm_wait(vm), VM_STATUS_OK);
    CHECK_STR(vm->stop_reason, "quit from the control socket");
    control_stop(ctl);
    ctl = NULL;
    /* The last words: the failed migration's figures, then SHUTDOWN. */
    a = call(cc, "{\"execute\":\"query-status\"}");
    const char *ev = NULL;
    CHECK(a && json_get_str(a, "event", &ev) == 0);
    CHECK_STR(ev, "MIGRATION");
    json_free(a);
    a = call(cc, "{\"execute\":\"query-status\"}");
    CHECK(a && json_get_str(a, "event", &ev) == 0);
    CHECK_STR(ev, "SHUTDOWN");
    json_free(a);
out:
    control_client_close(cc);
    control_stop(ctl);
    migrate_cleanup(vm);
    vm_destroy(vm);
}

struct incoming {
    struct vm *vm;
    const char *uri;
    int rc;
    char msg[300];
};

static void incoming_thread(void *arg)
{
    struct incoming *in = arg;
    in->rc = migrate_incoming(in->vm, in->uri);
    snprintf(in->msg, sizeof(in->msg), "%s", err_msg());
}

static void control_live_migration(void)
{
    char why[300], spec[160], path[120], req[300];
    struct control *ctl = NULL;
    struct control_client *cc = NULL;
    struct host_thread *t = NULL;
    struct vm_config cfg;
    struct vm *dst = NULL;
    char uri[140] = "";

    if (!pick_engine(why, sizeof(why)))
        SKIP("%.200s", why);
    struct vm *src = start_guest();
    CHECK(src != NULL);
    if (!src)
        return;
    guest_config(&cfg, "build/tests/control.dst.serial.log");
    CHECK_EQ(vm_create(&dst, &cfg), 0);
    tmp_path(spec + 5, sizeof(spec) - 5, "ctl.sock");
    memcpy(spec, "unix:", 5);
    CHECK_EQ(control_start(src, spec, &ctl), 0);
    CHECK_EQ(control_client_connect(spec, &cc), 0);
    if (!dst || !ctl || !cc)
        goto out;

    tmp_path(path, sizeof(path), "mig.sock");
    snprintf(uri, sizeof(uri), "unix:%s", path);
    struct incoming in = {.vm = dst, .uri = uri};
    CHECK_EQ(host_thread_create(&t, incoming_thread, &in, "test-incoming"), 0);
    for (int i = 0; i < 500 && access(path, F_OK) != 0; i++)
        host_sleep_ns(10 * 1000000ull);
    CHECK(access(path, F_OK) == 0);

    /* The guest has filled its 8 MiB (which the final figures count) once
     * it says so: a migration that ended sooner would leave part of
     * the fill to the destination (on emu under ASan, say). */
    CHECK(serial_wait("build/tests/control.serial.log", "round 0 filled"));
    /* At 32 MB/s the first pass takes ~0.3 s, so that query-migrate sees
     * it under way, with what it has left and its rate (the progress line's
     * remaining and ETA), ... */
    snprintf(req, sizeof(req),
             "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"%s\",\"bandwidth\":32000000}}",
             uri);
    json_free(call_ok(cc, req));
    const char *st = "?";
    struct json *last = NULL;
    bool first_pass_figures = false, lifted = false;
    for (int i = 0; i < 1000; i++) {
        json_free(last);
        last = call(cc, "{\"execute\":\"query-migrate\"}");
        /* The source stops after a completed migration: its control socket
         * may already be saying goodbye with a MIGRATION event. */
        const struct json *figs = last ? json_get(last, "return") : NULL;
        if (!figs && last)
            figs = json_get(last, "data");
        if (!figs || json_get_str(figs, "status", &st) < 0)
            st = "?";
        uint64_t rounds = 0, left = 0, bw = 0;
        if (strcmp(st, "active") == 0 && json_get_uint(figs, "rounds", &rounds) == 0 &&
            rounds == 1 && json_get_uint(figs, "remaining-pages", &left) == 0 && left > 0 &&
            json_get_uint(figs, "bandwidth", &bw) == 0 && bw > 8000000 && bw < 128000000)
            first_pass_figures = true;
        /* then the limit goes (a running migration takes it at once): on KVM
         * the dirtier writes far faster than 32 MB/s */
        if (!lifted && (first_pass_figures || rounds >= 2)) {
            json_free(call_ok(cc, "{\"execute\":\"migrate-set-parameters\","
                                  "\"arguments\":{\"max-bandwidth\":0}}"));
            lifted = true;
        }
        if (strcmp(st, "completed") == 0 || strcmp(st, "failed") == 0 ||
            strcmp(st, "cancelled") == 0 || !last)
            break;
        host_sleep_ns(20 * 1000000ull);
    }
    CHECK_STR(st, "completed");
    CHECK(first_pass_figures);
    if (last) {
        const struct json *figs = json_get(last, "return");
        if (!figs)
            figs = json_get(last, "data");
        uint64_t pages = 0, rounds = 0, bytes = 0;
        CHECK_EQ(json_get_uint(figs, "pages", &pages), 0);
        CHECK_EQ(json_get_uint(figs, "rounds", &rounds), 0);
        CHECK_EQ(json_get_uint(figs, "transferred", &bytes), 0);
        CHECK(pages >= (8u << 20) / 4096); /* the guest's 8 MiB at least */
        CHECK(rounds >= 1);
        CHECK(bytes >= pages * 4096);
    }
    json_free(last);

    /* The source stops; the destination runs the guest on. */
    CHECK_EQ(vm_wait(src), VM_STATUS_OK);
    CHECK(strncmp(src->stop_reason, "migrated to ", 12) == 0);
    host_thread_join(t);
    t = NULL;
    if (in.rc != 0)
        printf("  incoming: %s\n", in.msg);
    CHECK_EQ(in.rc, 0);
    host_sleep_ns(100 * 1000000ull);
    CHECK(!dst->stop_requested);
    CHECK_EQ(dst->state, VM_STATE_RUNNING);
    vm_request_stop(dst, VM_STATUS_INTERRUPTED, "test over");
    CHECK_EQ(vm_wait(dst), VM_STATUS_INTERRUPTED);
out:
    if (t) {
        /* The incoming side may still wait for a peer: give it one that
         * hangs up at once. */
        struct channel ch;
        if (transport_connect(uri, &ch) == 0)
            ch.close(ch.opaque);
        host_thread_join(t);
    }
    control_client_close(cc);
    control_stop(ctl);
    migrate_cleanup(src);
    vm_destroy(src);
    vm_destroy(dst);
}

static const struct test_case tests[] = {
    TEST(control_lifecycle),
    TEST(control_live_migration),
};

TEST_MAIN("kvm_control", tests)
