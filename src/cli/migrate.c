/* `roam migrate`, `roam snapshot save` and `roam control`: clients of a
 * running roam's control socket (docs/control.md). roam migrate starts a
 * live migration, follows it with query-migrate and reports how it went;
 * exit status 0 when it completed, 1 when it failed or was cancelled, 2 on
 * bad usage or when the control socket cannot be reached. roam control
 * sends raw requests and prints the answers. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/config.h"
#include "core/control.h"
#include "core/json.h"
#include "migrate/transport.h"

#define MIGRATE_POLL_NS (150ull * 1000 * 1000)
#define GUEST_PAGE 4096.0

static void migrate_usage(FILE *f)
{
    fprintf(f,
            "usage: roam migrate --control SPEC --to URI [OPTIONS]\n"
            "\n"
            "Live-migrates the VM of the roam serving the control socket SPEC\n"
            "(unix:PATH or tcp:HOST:PORT, as given to roam run --control) to the\n"
            "destination URI, where a roam run --incoming URI waits.\n"
            "\n"
            "  --control SPEC       the source's control socket\n"
            "  --to URI             tcp:HOST:PORT, unix:PATH or fd:N\n"
            "  --downtime-ms N      longest pause of the VM to aim for (default 50)\n"
            "  --bandwidth N        limit the stream to N MB/s (10^6 bytes/s; fractions allowed)\n"
            "  --json               print the final figures as one JSON object\n"
            "  --help               this text\n"
            "\n"
            "On a terminal a progress line follows the migration. The final report\n"
            "gives the status, total time, downtime, bytes and pages sent, zero pages\n"
            "and rounds. Exit status: 0 completed, 1 failed or cancelled (the reason\n"
            "on stderr; the VM runs on at the source), 2 bad usage or no connection.\n");
}

static void snapshot_usage(FILE *f)
{
    fprintf(f,
            "usage: roam snapshot save --control SPEC FILE\n"
            "       roam snapshot restore FILE [roam run options]\n"
            "\n"
            "save: writes the running VM of the roam serving the control socket SPEC\n"
            "      to FILE (on that roam's host; a relative FILE is taken from the\n"
            "      current directory). The VM pauses while it is written, then runs on.\n"
            "restore: starts a VM from FILE (roam snapshot restore --help).\n");
}

/* "412.0 MiB" */
static void fmt_bytes(char *out, size_t len, double b)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    unsigned u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, len, "%.0f B", b);
    else
        snprintf(out, len, "%.1f %s", b, units[u]);
}

/* "1.1 GB/s" (decimal units, as link speeds are quoted) */
static void fmt_rate(char *out, size_t len, double bps)
{
    static const char *const units[] = {"B/s", "kB/s", "MB/s", "GB/s", "TB/s"};
    unsigned u = 0;
    while (bps >= 1000 && u < 4) {
        bps /= 1000;
        u++;
    }
    snprintf(out, len, u ? "%.1f %s" : "%.0f %s", bps, units[u]);
}

static uint64_t stat_u(const struct json *st, const char *key)
{
    uint64_t v = 0;
    return json_get_uint(st, key, &v) == 0 ? v : 0;
}

static const char *stat_s(const struct json *st, const char *key)
{
    const char *s = NULL;
    return json_get_str(st, key, &s) == 0 ? s : "";
}

/* One parsed line from the control socket: an answer or an event. */
struct answer {
    struct json *msg;       /* the whole line */
    const struct json *ret; /* its "return", or NULL */
    const char *desc;       /* its error's desc, or NULL */
    const char *event;      /* an event's name, or NULL */
};

static void answer_free(struct answer *a)
{
    json_free(a->msg);
    memset(a, 0, sizeof(*a));
}

/* Sends req and parses the line that comes back. A negative return is a
 * connection or protocol error; a command's own error is a->desc. */
static int control_call(struct control_client *cc, struct json_buf *req, struct answer *a)
{
    char *line = NULL;
    int rc;

    memset(a, 0, sizeof(*a));
    if ((rc = json_buf_finish(req)) < 0 || (rc = control_client_call(cc, req->data, &line)) < 0)
        return rc;
    rc = json_parse(line, strlen(line), &a->msg);
    if (rc < 0) {
        rc = err_wrap(rc, "a bad answer from the control socket (%.80s)", line);
        free(line);
        return rc;
    }
    free(line);
    const struct json *e = json_get(a->msg, "error");
    a->ret = json_get(a->msg, "return");
    if (e && json_get_str(e, "desc", &a->desc) < 0)
        a->desc = "an error without a description";
    if (json_get_str(a->msg, "event", &a->event) < 0)
        a->event = NULL;
    if (!a->ret && !a->desc && !a->event) {
        answer_free(a);
        return err_set(-EPROTO, "an answer from the control socket with neither return nor error");
    }
    return 0;
}

/* A request with no arguments. */
static void request_simple(struct json_buf *b, const char *cmd)
{
    json_buf_init(b);
    json_buf_obj_begin(b);
    json_buf_key(b, "execute");
    json_buf_str(b, cmd);
    json_buf_obj_end(b);
}

static void progress_line(const struct json *st, int *last_len)
{
    char sent[32], rate[32], eta[32], line[256];
    uint64_t remaining = stat_u(st, "remaining-pages"), bw = stat_u(st, "bandwidth");
    const char *status = stat_s(st, "status");

    fmt_bytes(sent, sizeof(sent), (double)stat_u(st, "transferred"));
    fmt_rate(rate, sizeof(rate), (double)bw);
    if (bw)
        snprintf(eta, sizeof(eta), "%.1f s", remaining * GUEST_PAGE / (double)bw);
    else
        snprintf(eta, sizeof(eta), "?");
    int n;
    if (strcmp(status, "setup") == 0)
        n = snprintf(line, sizeof(line), "setting up");
    else
        n = snprintf(line, sizeof(line),
                     "round %llu  sent %s  dirty %llu pages/s  remaining %llu pages  %s  ETA %s%s",
                     (unsigned long long)stat_u(st, "rounds"), sent,
                     (unsigned long long)stat_u(st, "dirty-pages-rate"),
                     (unsigned long long)remaining, rate, eta,
                     strcmp(status, "stop-copy") == 0 ? "  (stop-and-copy)" : "");
    if (n < 0)
        return;
    printf("\r%s%*s", line, *last_len > n ? *last_len - n : 0, "");
    fflush(stdout);
    *last_len = n;
}

static void final_report(const struct json *st)
{
    char sent[32], rate[32];
    fmt_bytes(sent, sizeof(sent), (double)stat_u(st, "transferred"));
    fmt_rate(rate, sizeof(rate), (double)stat_u(st, "bandwidth"));
    printf("status        %s\n", stat_s(st, "status"));
    printf("total time    %.3f s\n", (double)stat_u(st, "total-time-ms") / 1000);
    printf("downtime      %llu ms\n", (unsigned long long)stat_u(st, "downtime-ms"));
    printf("transferred   %s (%llu bytes)\n", sent,
           (unsigned long long)stat_u(st, "transferred"));
    printf("pages sent    %llu\n", (unsigned long long)stat_u(st, "pages"));
    printf("zero pages    %llu\n", (unsigned long long)stat_u(st, "zero-pages"));
    printf("rounds        %llu\n", (unsigned long long)stat_u(st, "rounds"));
    printf("bandwidth     %s\n", rate);
}

static bool status_final(const char *s)
{
    return strcmp(s, "completed") == 0 || strcmp(s, "failed") == 0 ||
           strcmp(s, "cancelled") == 0;
}

struct migrate_opts {
    const char *control, *to;
    bool json, have_downtime, have_bandwidth;
    unsigned downtime_ms;
    uint64_t bandwidth;
};

static int migrate_parse(int argc, char **argv, struct migrate_opts *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            migrate_usage(stdout);
            return 1;
        }
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (strcmp(a, "--control") != 0 && strcmp(a, "--to") != 0 &&
            strcmp(a, "--downtime-ms") != 0 && strcmp(a, "--bandwidth") != 0) {
            fprintf(stderr, "roam migrate: unknown option '%s' (try roam migrate --help)\n", a);
            return -1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "roam migrate: option %s needs a value\n", a);
            return -1;
        }
        v = argv[++i];
        if (strcmp(a, "--control") == 0) {
            o->control = v;
        } else if (strcmp(a, "--to") == 0) {
            o->to = v;
        } else if (strcmp(a, "--downtime-ms") == 0) {
            if (config_parse_uint(v, 1, 2000000, &o->downtime_ms) < 0) {
                fprintf(stderr, "roam migrate: --downtime-ms: %s\n", err_msg());
                return -1;
            }
            o->have_downtime = true;
        } else {
            char *end;
            double mb = strtod(v, &end);
            if (end == v || *end || !isfinite(mb) || mb <= 0 || mb > 1e12) {
                fprintf(stderr, "roam migrate: --bandwidth: '%s' is not a positive number of "
                                "MB/s\n", v);
                return -1;
            }
            o->bandwidth = (uint64_t)(mb * 1e6);
            if (o->bandwidth == 0)
                o->bandwidth = 1;
            o->have_bandwidth = true;
        }
    }
    if (!o->control || !o->to) {
        fprintf(stderr, "roam migrate: --control SPEC and --to URI are required "
                        "(try roam migrate --help)\n");
        return -1;
    }
    if (transport_check_uri(o->to) < 0) {
        fprintf(stderr, "roam migrate: --to: %s\n", err_msg());
        return -1;
    }
    return 0;
}

/* Follows the migration until it ends. Returns the last figures (owned by
 * *holder) or NULL with a message if the connection was lost first. */
static const struct json *migrate_follow(struct control_client *cc, bool progress,
                                         struct answer *holder)
{
    struct answer last = {0};
    const struct json *st = NULL;
    int shown = 0;

    for (;;) {
        struct json_buf req;
        struct answer a;
        request_simple(&req, "query-migrate");
        int rc = control_call(cc, &req, &a);
        json_buf_free(&req);
        if (rc < 0) {
            if (st && status_final(stat_s(st, "status")))
                break; /* closed after the end: the server stopped */
            err_wrap(rc, "lost the control connection while the migration was %s",
                     st ? stat_s(st, "status") : "starting");
            st = NULL;
            break;
        }
        const struct json *now = NULL;
        if (a.event && strcmp(a.event, "MIGRATION") == 0)
            now = json_get(a.msg, "data");
        else if (a.ret)
            now = a.ret;
        if (a.desc) {
            err_set(-EPROTO, "query-migrate: %s", a.desc);
            answer_free(&a);
            st = NULL;
            break;
        }
        if (now) {
            answer_free(&last);
            last = a;
            st = now;
        } else {
            answer_free(&a); /* another event (SHUTDOWN): the connection closes next */
        }
        if (st && status_final(stat_s(st, "status")))
            break;
        if (progress && st)
            progress_line(st, &shown);
        host_sleep_ns(MIGRATE_POLL_NS);
    }
    if (progress && shown) {
        printf("\r%*s\r", shown, "");
        fflush(stdout);
    }
    if (!st)
        answer_free(&last);
    *holder = last;
    return st;
}

int cli_migrate(int argc, char **argv)
{
    struct migrate_opts o;
    struct control_client *cc;
    struct json_buf req;
    struct answer a, holder;
    const struct json *st;
    int rc = migrate_parse(argc, argv, &o);

    if (rc)
        return rc > 0 ? 0 : VM_STATUS_ERROR;
    if (control_client_connect(o.control, &cc) < 0) {
        fprintf(stderr, "roam migrate: %s\n", err_msg());
        return VM_STATUS_ERROR;
    }
    json_buf_init(&req);
    json_buf_obj_begin(&req);
    json_buf_key(&req, "execute");
    json_buf_str(&req, "migrate");
    json_buf_key(&req, "arguments");
    json_buf_obj_begin(&req);
    json_buf_key(&req, "uri");
    json_buf_str(&req, o.to);
    if (o.have_downtime) {
        json_buf_key(&req, "downtime-ms");
        json_buf_uint(&req, o.downtime_ms);
    }
    if (o.have_bandwidth) {
        json_buf_key(&req, "bandwidth");
        json_buf_uint(&req, o.bandwidth);
    }
    json_buf_obj_end(&req);
    json_buf_obj_end(&req);
    rc = control_call(cc, &req, &a);
    json_buf_free(&req);
    if (rc < 0) {
        fprintf(stderr, "roam migrate: %s\n", err_msg());
        control_client_close(cc);
        return VM_STATUS_ERROR;
    }
    if (!a.ret) {
        fprintf(stderr, "roam migrate: the migration did not start: %s\n",
                a.desc ? a.desc : "the VM stopped");
        answer_free(&a);
        control_client_close(cc);
        return 1;
    }
    answer_free(&a);

    st = migrate_follow(cc, !o.json && host_isatty(1), &holder);
    control_client_close(cc);
    if (!st) {
        fprintf(stderr, "roam migrate: %s\n", err_msg());
        return VM_STATUS_ERROR;
    }
    const char *status = stat_s(st, "status");
    bool ok = strcmp(status, "completed") == 0;
    if (o.json) {
        char *text;
        if (json_emit(st, &text) == 0) {
            printf("%s\n", text);
            free(text);
        }
    } else {
        final_report(st);
    }
    if (!ok) {
        const char *why = stat_s(st, "error-desc");
        const struct json *gone = json_get(st, "vm-stopped");
        fprintf(stderr, "roam migrate: migration %s%s%s; %s\n", status, *why ? ": " : "", why,
                gone && gone->type == JSON_BOOL && gone->b ? "the VM has ended at the source"
                                                : "the VM runs on at the source");
    }
    fflush(stdout);
    answer_free(&holder);
    return ok ? 0 : 1;
}

static int snapshot_save_cmd(int argc, char **argv)
{
    const char *control = NULL, *file = NULL;
    struct control_client *cc;
    struct json_buf req;
    struct answer a;
    char *abs = NULL;
    int rc;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            snapshot_usage(stdout);
            return 0;
        }
        if (strcmp(arg, "--control") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "roam snapshot save: option --control needs a value\n");
                return VM_STATUS_ERROR;
            }
            control = argv[++i];
        } else if (arg[0] == '-' && arg[1]) {
            fprintf(stderr, "roam snapshot save: unknown option '%s' (try roam snapshot --help)\n",
                    arg);
            return VM_STATUS_ERROR;
        } else if (file) {
            fprintf(stderr, "roam snapshot save: one FILE only ('%s' and '%s')\n", file, arg);
            return VM_STATUS_ERROR;
        } else {
            file = arg;
        }
    }
    if (!control || !file) {
        fprintf(stderr, "roam snapshot save: --control SPEC and FILE are required "
                        "(try roam snapshot --help)\n");
        return VM_STATUS_ERROR;
    }
    if (strncmp(file, "file:", 5) == 0)
        file += 5;
    if (host_path_absolute(file, &abs) < 0) {
        fprintf(stderr, "roam snapshot save: %s\n", err_msg());
        return VM_STATUS_ERROR;
    }
    if (control_client_connect(control, &cc) < 0) {
        fprintf(stderr, "roam snapshot save: %s\n", err_msg());
        free(abs);
        return VM_STATUS_ERROR;
    }
    json_buf_init(&req);
    json_buf_obj_begin(&req);
    json_buf_key(&req, "execute");
    json_buf_str(&req, "snapshot-save");
    json_buf_key(&req, "arguments");
    json_buf_obj_begin(&req);
    json_buf_key(&req, "file");
    json_buf_str(&req, abs);
    json_buf_obj_end(&req);
    json_buf_obj_end(&req);
    rc = control_call(cc, &req, &a);
    json_buf_free(&req);
    control_client_close(cc);
    if (rc < 0) {
        fprintf(stderr, "roam snapshot save: %s\n", err_msg());
        free(abs);
        return VM_STATUS_ERROR;
    }
    if (!a.ret) {
        fprintf(stderr, "roam snapshot save: %s\n", a.desc ? a.desc : "the VM stopped");
        answer_free(&a);
        free(abs);
        return 1;
    }
    char size[32];
    fmt_bytes(size, sizeof(size), (double)stat_u(a.ret, "bytes"));
    const char *where = stat_s(a.ret, "file");
    printf("saved the VM to %s (%s)\n", *where ? where : abs, size);
    answer_free(&a);
    free(abs);
    return 0;
}

int cli_snapshot(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: roam snapshot save --control SPEC FILE | roam snapshot restore "
                        "FILE [run options] (try roam snapshot --help)\n");
        return VM_STATUS_ERROR;
    }
    if (strcmp(argv[1], "save") == 0)
        return snapshot_save_cmd(argc - 1, argv + 1);
    if (strcmp(argv[1], "restore") == 0)
        return cli_snapshot_restore(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        snapshot_usage(stdout);
        return 0;
    }
    fprintf(stderr, "roam snapshot: unknown subcommand '%s' (save or restore)\n", argv[1]);
    return VM_STATUS_ERROR;
}

static void control_usage(FILE *f)
{
    fprintf(f,
            "usage: roam control --control SPEC REQUEST...\n"
            "\n"
            "Sends each REQUEST to the control socket SPEC (unix:PATH or tcp:HOST:PORT)\n"
            "and prints each answer line. A REQUEST is a JSON object such as\n"
            "'{\"execute\": \"query-status\"}', or just a command name (query-status,\n"
            "stop, cont, quit, query-migrate, migrate-cancel, ...) for a command without\n"
            "arguments. Exit status: 0 when every command succeeded, 1 when one\n"
            "returned an error, 2 on bad usage or when the socket cannot be reached.\n");
}

int cli_control(int argc, char **argv)
{
    const char *spec = NULL;
    struct control_client *cc;
    int first = 0, status = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            control_usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--control") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "roam control: option --control needs a value\n");
                return VM_STATUS_ERROR;
            }
            spec = argv[++i];
            continue;
        }
        if (argv[i][0] == '-') {
            fprintf(stderr, "roam control: unknown option '%s' (try roam control --help)\n",
                    argv[i]);
            return VM_STATUS_ERROR;
        }
        if (!first)
            first = i;
    }
    if (!spec || !first) {
        fprintf(stderr, "roam control: --control SPEC and at least one REQUEST are required "
                        "(try roam control --help)\n");
        return VM_STATUS_ERROR;
    }
    /* Check every JSON request before sending any. */
    for (int i = first; i < argc; i++) {
        struct json *v = NULL;
        if (strcmp(argv[i], "--control") == 0) {
            i++;
            continue;
        }
        if (argv[i][0] == '{' && json_parse(argv[i], strlen(argv[i]), &v) < 0) {
            fprintf(stderr, "roam control: '%s': %s\n", argv[i], err_msg());
            return VM_STATUS_ERROR;
        }
        json_free(v);
    }
    if (control_client_connect(spec, &cc) < 0) {
        fprintf(stderr, "roam control: %s\n", err_msg());
        return VM_STATUS_ERROR;
    }
    for (int i = first; i < argc; i++) {
        struct json_buf req;
        struct answer a;
        if (strcmp(argv[i], "--control") == 0) {
            i++;
            continue;
        }
        json_buf_init(&req);
        if (argv[i][0] == '{') {
            struct json *v = NULL;
            if (json_parse(argv[i], strlen(argv[i]), &v) == 0) /* checked above */
                json_buf_value(&req, v);
            json_free(v);
        } else {
            json_buf_free(&req);
            request_simple(&req, argv[i]);
        }
        int rc = control_call(cc, &req, &a);
        if (rc == 0) {
            char *text = NULL;
            if (json_emit(a.msg, &text) == 0)
                printf("%s\n", text);
            free(text);
            if (!a.ret)
                status = 1;
        }
        json_buf_free(&req);
        answer_free(&a);
        if (rc < 0) {
            fprintf(stderr, "roam control: %s\n", err_msg());
            control_client_close(cc);
            return VM_STATUS_ERROR;
        }
    }
    fflush(stdout);
    control_client_close(cc);
    return status;
}
