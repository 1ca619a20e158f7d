/* The control socket's server (core/control.h, docs/control.md): one
 * thread accepts clients on a unix: or tcp: endpoint and serves them one
 * at a time; a second client waits in the listen backlog until the first
 * disconnects. That thread makes every VM call, never with vm->lock held
 * across a migrate_* call or vm_pause().
 *
 * Framing: the server greets each client with one line,
 *   {"roam": {"version": "0.1.0", "commands": [...]}}
 * then reads requests, one JSON object per line (at most
 * CONTROL_MAX_LINE bytes), and writes one answer line per request. When
 * the VM stops (control_stop()), a connected client gets a MIGRATION event
 * with the last migration's figures (if one ran) and a SHUTDOWN event, and
 * the connection closes. */
#include "core/control.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/version.h"
#include "migrate/migrate.h"
#include "migrate/transport.h"

#define CONTROL_MAX_LINE (64 * 1024)
/* How often the serving thread looks at the stop flag. */
#define CONTROL_POLL_MS 100
/* Upper bound for downtime limits, as QEMU's (2000 s). */
#define CONTROL_MAX_DOWNTIME_MS 2000000ull

/* Clients served at once (like QMP's several monitors: one may follow a
 * migration while another cancels it). */
#define CONTROL_MAX_CLIENTS 8

struct control_client_conn {
    struct channel ch;
    bool open;
    bool discarding; /* inside an over-long line */
    size_t used;
    char line[CONTROL_MAX_LINE + 1];
};

struct control {
    struct vm *vm;
    struct transport_listener *listener;
    struct host_thread *thread;
    atomic_bool stop;
    atomic_bool done;           /* the thread has finished */
    struct host_mutex *lock;    /* guards busy */
    struct channel *busy;       /* the connection being written to, if any */
    struct control_client_conn *clients[CONTROL_MAX_CLIENTS];
};

/* How long control_stop() lets the thread say goodbye before it cuts a
 * client that does not read (a blocked send) off. */
#define CONTROL_STOP_GRACE_MS 2000

struct control_cmd {
    const char *name;
    int (*fn)(struct control *c, const struct json *args, struct json_buf *ret);
    const char *const args[5]; /* the arguments it takes (NULL-terminated) */
};

/* ---- helpers ---- */

/* A snapshot of the run state, read under vm->lock. */
struct control_state {
    enum vm_state state;
    bool stop_requested;
    struct migrate_stats mig;
};

static void control_read_state(struct vm *vm, struct control_state *s)
{
    host_mutex_lock(vm->lock);
    s->state = vm->state;
    s->stop_requested = vm->stop_requested;
    host_mutex_unlock(vm->lock);
    migrate_query(vm, &s->mig); /* after dropping vm->lock */
}

/* Refuses commands that need a VM that has started and not stopped. */
static int control_need_live(const struct control_state *s)
{
    if (s->state == VM_STATE_STOPPED || s->stop_requested)
        return err_set(-EINVAL, "the VM has stopped");
    if (s->state == VM_STATE_CREATED)
        return err_set(-EINVAL, "the VM has not started yet");
    return 0;
}

/* Optional non-negative integer argument; returns 1 if present. */
static int control_opt_uint(const struct json *args, const char *key, uint64_t max,
                            const char *unit, uint64_t *out)
{
    int rc = json_get_uint(args, key, out);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    if (*out > max)
        return err_set(-EINVAL, "'%s' must be at most %" PRIu64 "%s", key, max, unit);
    return 1;
}

static void control_put_stats(struct json_buf *b, const struct migrate_stats *st)
{
    json_buf_obj_begin(b);
    json_buf_key(b, "status");
    json_buf_str(b, migrate_status_name(st->status));
    json_buf_key(b, "total-time-ms");
    json_buf_uint(b, st->total_ns / 1000000);
    json_buf_key(b, "downtime-ms");
    json_buf_uint(b, st->downtime_ns / 1000000);
    json_buf_key(b, "transferred");
    json_buf_uint(b, st->bytes);
    json_buf_key(b, "pages");
    json_buf_uint(b, st->pages);
    json_buf_key(b, "zero-pages");
    json_buf_uint(b, st->zero_pages);
    json_buf_key(b, "rounds");
    json_buf_uint(b, st->rounds);
    json_buf_key(b, "dirty-pages-rate");
    json_buf_uint(b, st->dirty_rate);
    json_buf_key(b, "remaining-pages");
    json_buf_uint(b, st->remaining_pages);
    json_buf_key(b, "bandwidth");
    json_buf_uint(b, st->bandwidth_Bps);
    json_buf_key(b, "mbps");
    json_buf_double(b, (double)st->bandwidth_Bps * 8 / 1e6);
    json_buf_key(b, "throttle-percent");
    json_buf_uint(b, st->throttle_pct);
    if (st->error[0] || st->status == MIGRATE_FAILED) {
        json_buf_key(b, "error-desc");
        json_buf_str(b, st->error[0] ? st->error : "unknown error");
        json_buf_key(b, "vm-stopped");
        json_buf_bool(b, st->vm_stopped);
    }
    json_buf_obj_end(b);
}

/* ---- commands ---- */

static int cmd_query_status(struct control *c, const struct json *args, struct json_buf *ret)
{
    struct control_state s;
    const char *status;

    control_read_state(c->vm, &s);
    if (s.state == VM_STATE_STOPPED || s.stop_requested)
        status = "shutdown";
    else if (s.mig.status == MIGRATE_SETUP || s.mig.status == MIGRATE_ACTIVE)
        status = "migrating";
    else if (s.mig.status == MIGRATE_STOPCOPY)
        status = "finish-migrate";
    else if (s.mig.status == MIGRATE_COMPLETED)
        status = "postmigrate";
    else if (s.state == VM_STATE_CREATED)
        status = c->vm->cfg.incoming ? "inmigrate" : "prelaunch";
    else if (s.state == VM_STATE_PAUSED)
        status = "paused";
    else
        status = "running";
    json_buf_obj_begin(ret);
    json_buf_key(ret, "status");
    json_buf_str(ret, status);
    json_buf_key(ret, "running");
    json_buf_bool(ret, s.state == VM_STATE_RUNNING && !s.stop_requested);
    json_buf_obj_end(ret);
    return 0;
}

static int cmd_stop(struct control *c, const struct json *args, struct json_buf *ret)
{
    struct control_state s;
    int rc;

    control_read_state(c->vm, &s);
    if ((rc = control_need_live(&s)) < 0)
        return rc;
    if (s.mig.status == MIGRATE_STOPCOPY)
        return err_set(-EBUSY, "a migration is in its stop-and-copy phase");
    vm_pause(c->vm);
    return 0;
}

static int cmd_cont(struct control *c, const struct json *args, struct json_buf *ret)
{
    struct control_state s;
    int rc;

    control_read_state(c->vm, &s);
    if ((rc = control_need_live(&s)) < 0)
        return rc;
    if (s.mig.status == MIGRATE_STOPCOPY)
        return err_set(-EBUSY, "a migration is in its stop-and-copy phase; the VM resumes "
                               "by itself if it fails");
    if (s.mig.status == MIGRATE_COMPLETED)
        return err_set(-EINVAL, "the VM migrated and runs at the destination; it cannot run "
                                "here too");
    vm_resume(c->vm);
    return 0;
}

static int cmd_quit(struct control *c, const struct json *args, struct json_buf *ret)
{
    vm_request_stop(c->vm, VM_STATUS_OK, "quit from the control socket");
    return 0;
}

static int cmd_migrate(struct control *c, const struct json *args, struct json_buf *ret)
{
    struct control_state s;
    struct migrate_params p;
    const char *uri;
    uint64_t v;
    int rc;

    if ((rc = json_get_str(args, "uri", &uri)) < 0)
        return rc;
    if ((rc = transport_check_uri(uri)) < 0)
        return err_wrap(rc, "'uri'");
    migrate_get_params(c->vm, &p);
    if ((rc = control_opt_uint(args, "downtime-ms", CONTROL_MAX_DOWNTIME_MS, " ms", &v)) < 0)
        return rc;
    if (rc > 0)
        p.downtime_limit_ns = v * 1000000;
    if ((rc = control_opt_uint(args, "bandwidth", UINT64_MAX, "", &v)) < 0)
        return rc;
    if (rc > 0)
        p.bandwidth_bps = v;
    control_read_state(c->vm, &s);
    if ((rc = control_need_live(&s)) < 0)
        return rc;
    if ((rc = migrate_set_params(c->vm, &p)) < 0)
        return rc;
    return migrate_start(c->vm, uri, &p);
}

static int cmd_migrate_cancel(struct control *c, const struct json *args, struct json_buf *ret)
{
    return migrate_cancel(c->vm);
}

static int cmd_query_migrate(struct control *c, const struct json *args, struct json_buf *ret)
{
    struct migrate_stats st;
    migrate_query(c->vm, &st);
    control_put_stats(ret, &st);
    return 0;
}

static int cmd_migrate_set_parameters(struct control *c, const struct json *args,
                                      struct json_buf *ret)
{
    struct migrate_params p;
    uint64_t v;
    bool b;
    int rc;

    migrate_get_params(c->vm, &p);
    if ((rc = control_opt_uint(args, "downtime-limit", CONTROL_MAX_DOWNTIME_MS, " ms", &v)) < 0)
        return rc;
    if (rc > 0)
        p.downtime_limit_ns = v * 1000000;
    if ((rc = control_opt_uint(args, "max-bandwidth", UINT64_MAX, "", &v)) < 0)
        return rc;
    if (rc > 0)
        p.bandwidth_bps = v;
    rc = json_get_bool(args, "auto-converge", &b);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    if (rc == 0)
        p.auto_converge = b;
    if ((rc = control_opt_uint(args, "stall-timeout", MIGRATE_STALL_TIMEOUT_MAX_MS, " ms", &v)) < 0)
        return rc;
    if (rc > 0)
        p.stall_timeout_ns = v * 1000000;
    return migrate_set_params(c->vm, &p);
}

static int cmd_query_migrate_parameters(struct control *c, const struct json *args,
                                        struct json_buf *ret)
{
    struct migrate_params p;
    migrate_get_params(c->vm, &p);
    json_buf_obj_begin(ret);
    json_buf_key(ret, "downtime-limit");
    json_buf_uint(ret, p.downtime_limit_ns / 1000000);
    json_buf_key(ret, "max-bandwidth");
    json_buf_uint(ret, p.bandwidth_bps);
    json_buf_key(ret, "auto-converge");
    json_buf_bool(ret, p.auto_converge);
    json_buf_key(ret, "stall-timeout");
    json_buf_uint(ret, p.stall_timeout_ns / 1000000);
    json_buf_obj_end(ret);
    return 0;
}

static int cmd_snapshot_save(struct control *c, const struct json *args, struct json_buf *ret)
{
    struct control_state s;
    struct host_file *f;
    const char *path;
    uint64_t size = 0;
    int rc;

    if ((rc = json_get_str(args, "file", &path)) < 0)
        return rc;
    if (!*path)
        return err_set(-EINVAL, "'file' must not be empty");
    control_read_state(c->vm, &s);
    if ((rc = control_need_live(&s)) < 0)
        return rc;
    if ((rc = snapshot_save(c->vm, path)) < 0)
        return rc;
    if (strncmp(path, "file:", 5) == 0)
        path += 5;
    if (host_file_open(&f, path, HOST_FILE_READ) == 0) {
        if (host_file_size(f, &size) < 0)
            size = 0;
        host_file_close(f);
    }
    json_buf_obj_begin(ret);
    json_buf_key(ret, "file");
    json_buf_str(ret, path);
    json_buf_key(ret, "bytes");
    json_buf_uint(ret, size);
    json_buf_obj_end(ret);
    return 0;
}

static const struct control_cmd control_cmds[] = {
    {"query-status", cmd_query_status, {NULL}},
    {"stop", cmd_stop, {NULL}},
    {"cont", cmd_cont, {NULL}},
    {"quit", cmd_quit, {NULL}},
    {"migrate", cmd_migrate, {"uri", "downtime-ms", "bandwidth", NULL}},
    {"migrate-cancel", cmd_migrate_cancel, {NULL}},
    {"query-migrate", cmd_query_migrate, {NULL}},
    {"migrate-set-parameters", cmd_migrate_set_parameters,
     {"downtime-limit", "max-bandwidth", "auto-converge", "stall-timeout", NULL}},
    {"query-migrate-parameters", cmd_query_migrate_parameters, {NULL}},
    {"snapshot-save", cmd_snapshot_save, {"file", NULL}},
};
#define CONTROL_NCMDS (sizeof(control_cmds) / sizeof(control_cmds[0]))

/* ---- requests and answers ---- */

static void control_put_error(struct json_buf *b, const char *cls, const char *desc,
                              const struct json *id)
{
    json_buf_obj_begin(b);
    json_buf_key(b, "error");
    json_buf_obj_begin(b);
    json_buf_key(b, "class");
    json_buf_str(b, cls);
    json_buf_key(b, "desc");
    json_buf_str(b, desc);
    json_buf_obj_end(b);
    if (id) {
        json_buf_key(b, "id");
        json_buf_value(b, id);
    }
    json_buf_obj_end(b);
}

static int control_check_args(const struct control_cmd *cmd, const struct json *args)
{
    for (size_t i = 0; args && i < args->n; i++) {
        bool known = false;
        for (size_t j = 0; cmd->args[j]; j++)
            known |= strcmp(args->keys[i], cmd->args[j]) == 0;
        if (!known)
            return err_set(-EINVAL, "'%s' takes no argument '%s'", cmd->name, args->keys[i]);
    }
    return 0;
}

/* Runs one request line and builds its one-line answer in out. */
static void control_handle(struct control *c, const char *line, size_t len, struct json_buf *out)
{
    struct json *req = NULL;
    const struct json *id = NULL, *args;
    const struct control_cmd *cmd = NULL;
    const char *name;
    int rc;

    if ((rc = json_parse(line, len, &req)) < 0) {
        control_put_error(out, "GenericError", err_msg(), NULL);
        return;
    }
    if (req->type != JSON_OBJECT) {
        control_put_error(out, "GenericError",
                          "a request is a JSON object: {\"execute\": \"NAME\", ...}", NULL);
        goto done;
    }
    id = json_get(req, "id");
    for (size_t i = 0; i < req->n; i++) {
        const char *k = req->keys[i];
        if (strcmp(k, "execute") != 0 && strcmp(k, "arguments") != 0 && strcmp(k, "id") != 0) {
            err_set(-EINVAL, "unexpected member '%s' in the request (execute, arguments, id)", k);
            control_put_error(out, "GenericError", err_msg(), id);
            goto done;
        }
    }
    if ((rc = json_get_str(req, "execute", &name)) < 0) {
        control_put_error(out, "GenericError", err_msg(), id);
        goto done;
    }
    for (size_t i = 0; i < CONTROL_NCMDS; i++)
        if (strcmp(control_cmds[i].name, name) == 0)
            cmd = &control_cmds[i];
    if (!cmd) {
        err_set(-ENOENT, "the command '%s' does not exist", name);
        control_put_error(out, "CommandNotFound", err_msg(), id);
        goto done;
    }
    args = json_get(req, "arguments");
    if (args && args->type != JSON_OBJECT) {
        control_put_error(out, "GenericError", "'arguments' must be an object", id);
        goto done;
    }
    if ((rc = control_check_args(cmd, args)) < 0) {
        control_put_error(out, "GenericError", err_msg(), id);
        goto done;
    }

    /* {"return": VALUE, "id": ID}; VALUE is {} for commands that return
     * nothing. On failure the partial answer is dropped for an error. */
    json_buf_obj_begin(out);
    json_buf_key(out, "return");
    err_clear();
    rc = cmd->fn(c, args, out);
    if (rc < 0) {
        char desc[512];
        snprintf(desc, sizeof(desc), "%s", err_msg()[0] ? err_msg() : "failed");
        json_buf_free(out);
        json_buf_init(out);
        control_put_error(out, "GenericError", desc, id);
        goto done;
    }
    if (!out->oom && out->data[out->len - 1] == ':') {
        json_buf_obj_begin(out);
        json_buf_obj_end(out);
    }
    if (id) {
        json_buf_key(out, "id");
        json_buf_value(out, id);
    }
    json_buf_obj_end(out);
done:
    json_free(req);
}

/* Sends b plus a newline; false if the client is gone. */
static bool control_send(struct channel *ch, struct json_buf *b)
{
    if (json_buf_finish(b) < 0)
        return false;
    b->data[b->len] = '\n'; /* json_buf keeps room for the NUL */
    bool ok = ch->write(ch->opaque, b->data, b->len + 1) == 0;
    b->data[b->len] = 0;
    if (!ok)
        log_info("control", "%s", err_msg());
    return ok;
}

static void control_greet(struct channel *ch)
{
    struct json_buf b;
    json_buf_init(&b);
    json_buf_obj_begin(&b);
    json_buf_key(&b, "roam");
    json_buf_obj_begin(&b);
    json_buf_key(&b, "version");
    json_buf_str(&b, ROAM_VERSION);
    json_buf_key(&b, "commands");
    json_buf_arr_begin(&b);
    for (size_t i = 0; i < CONTROL_NCMDS; i++)
        json_buf_str(&b, control_cmds[i].name);
    json_buf_arr_end(&b);
    json_buf_obj_end(&b);
    json_buf_obj_end(&b);
    (void)control_send(ch, &b);
    json_buf_free(&b);
}

/* The last words to a connected client when the VM stops. */
static void control_farewell(struct control *c, struct channel *ch)
{
    struct migrate_stats st;
    struct json_buf b;
    char reason[sizeof(c->vm->stop_reason)];

    migrate_query(c->vm, &st);
    host_mutex_lock(c->vm->lock);
    memcpy(reason, c->vm->stop_reason, sizeof(reason));
    host_mutex_unlock(c->vm->lock);
    reason[sizeof(reason) - 1] = 0;
    json_buf_init(&b);
    if (st.status != MIGRATE_NONE) {
        json_buf_obj_begin(&b);
        json_buf_key(&b, "event");
        json_buf_str(&b, "MIGRATION");
        json_buf_key(&b, "data");
        control_put_stats(&b, &st);
        json_buf_obj_end(&b);
        if (!control_send(ch, &b)) {
            json_buf_free(&b);
            return;
        }
        json_buf_free(&b);
    }
    json_buf_obj_begin(&b);
    json_buf_key(&b, "event");
    json_buf_str(&b, "SHUTDOWN");
    json_buf_key(&b, "data");
    json_buf_obj_begin(&b);
    json_buf_key(&b, "reason");
    json_buf_str(&b, reason);
    json_buf_obj_end(&b);
    json_buf_obj_end(&b);
    (void)control_send(ch, &b);
    json_buf_free(&b);
}

/* Sends b to a client, recording which connection a blocked send is on so
 * that control_stop() can cut it off. */
static bool control_send_to(struct control *c, struct channel *ch, struct json_buf *b)
{
    host_mutex_lock(c->lock);
    c->busy = ch;
    host_mutex_unlock(c->lock);
    bool ok = control_send(ch, b);
    host_mutex_lock(c->lock);
    c->busy = NULL;
    host_mutex_unlock(c->lock);
    return ok;
}

/* Reads what a client sent (waiting at most timeout_ms) and answers every
 * complete line. Returns false when the connection is finished. */
static bool control_serve_some(struct control *c, struct control_client_conn *cl, int timeout_ms)
{
    struct channel *ch = &cl->ch;
    /* Room for a line of CONTROL_MAX_LINE bytes and its newline. */
    int n = ch->read_some(ch->opaque, cl->line + cl->used, sizeof(cl->line) - cl->used,
                          timeout_ms);
    if (n < 0) {
        if (n != -EPIPE)
            log_info("control", "%s", err_msg());
        return false;
    }
    size_t start = 0, end = cl->used + (size_t)n;
    for (size_t i = cl->used; i < end; i++) {
        if (cl->line[i] != '\n')
            continue;
        size_t len = i - start;
        if (!cl->discarding) {
            if (len && cl->line[start + len - 1] == '\r')
                len--;
            size_t k = 0;
            while (k < len && (cl->line[start + k] == ' ' || cl->line[start + k] == '\t'))
                k++;
            if (k < len) {
                struct json_buf out;
                json_buf_init(&out);
                control_handle(c, cl->line + start, len, &out);
                bool ok = control_send_to(c, ch, &out);
                json_buf_free(&out);
                if (!ok)
                    return false;
            }
        }
        cl->discarding = false;
        start = i + 1;
    }
    memmove(cl->line, cl->line + start, end - start);
    cl->used = end - start;
    if (cl->used == sizeof(cl->line)) {
        struct json_buf out;
        json_buf_init(&out);
        if (!cl->discarding) {
            char desc[80];
            snprintf(desc, sizeof(desc), "request longer than %d bytes: ignored",
                     CONTROL_MAX_LINE);
            control_put_error(&out, "GenericError", desc, NULL);
        }
        bool ok = cl->discarding || control_send_to(c, ch, &out);
        json_buf_free(&out);
        if (!ok)
            return false;
        cl->discarding = true;
        cl->used = 0;
    }
    return true;
}

static void control_drop(struct control *c, unsigned i)
{
    c->clients[i]->ch.close(c->clients[i]->ch.opaque);
    free(c->clients[i]);
    c->clients[i] = NULL;
}

static void control_accept(struct control *c, int timeout_ms)
{
    struct channel ch;
    unsigned i;
    int rc = transport_accept(c->listener, &ch, timeout_ms);

    if (rc == -ETIMEDOUT)
        return;
    if (rc < 0) {
        log_warn("control", "%s", err_msg());
        host_sleep_ns((uint64_t)timeout_ms * 1000000ull);
        return;
    }
    for (i = 0; i < CONTROL_MAX_CLIENTS && c->clients[i]; i++)
        ;
    struct control_client_conn *cl = i < CONTROL_MAX_CLIENTS ? calloc(1, sizeof(*cl)) : NULL;
    if (!cl) {
        struct json_buf b;
        json_buf_init(&b);
        control_put_error(&b, "GenericError", "too many control clients", NULL);
        (void)control_send(&ch, &b);
        json_buf_free(&b);
        ch.close(ch.opaque);
        return;
    }
    log_info("control", "client connected on %s", ch.name);
    cl->ch = ch;
    c->clients[i] = cl;
    control_greet(&cl->ch);
}

static void control_thread(void *arg)
{
    struct control *c = arg;

    while (!atomic_load(&c->stop)) {
        unsigned n = 0;
        for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
            n += c->clients[i] != NULL;
        /* With no client, wait on the listener; with some, poll everything
         * in short slices. */
        control_accept(c, n ? 0 : CONTROL_POLL_MS);
        for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++) {
            if (c->clients[i] &&
                !control_serve_some(c, c->clients[i], n ? CONTROL_POLL_MS / (int)n / 4 + 1 : 0))
                control_drop(c, i);
        }
    }
    for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++) {
        if (c->clients[i]) {
            control_farewell(c, &c->clients[i]->ch);
            control_drop(c, i);
        }
    }
    atomic_store(&c->done, true);
}

int control_start(struct vm *vm, const char *spec, struct control **out)
{
    struct control *c;
    int rc;

    *out = NULL;
    if (strncmp(spec, "unix:", 5) != 0 && strncmp(spec, "tcp:", 4) != 0)
        return err_set(-EINVAL, "bad control socket '%s' (use unix:PATH or tcp:HOST:PORT)", spec);
    c = calloc(1, sizeof(*c));
    if (!c)
        return err_set(-ENOMEM, "out of memory");
    c->vm = vm;
    atomic_init(&c->stop, false);
    atomic_init(&c->done, false);
    if ((rc = host_mutex_create(&c->lock)) < 0) {
        free(c);
        return rc;
    }
    if ((rc = transport_listen(spec, &c->listener)) < 0) {
        host_mutex_destroy(c->lock);
        free(c);
        return rc;
    }
    if ((rc = host_thread_create(&c->thread, control_thread, c, "roam-control")) < 0) {
        transport_listener_close(c->listener);
        host_mutex_destroy(c->lock);
        free(c);
        return rc;
    }
    log_info("control", "listening on %s", transport_listener_uri(c->listener));
    if (strncmp(spec, "tcp:", 4) == 0 && strncmp(spec, "tcp:127.", 8) != 0 &&
        strncmp(spec, "tcp:[::1]:", 10) != 0 && strncmp(spec, "tcp:localhost:", 14) != 0)
        log_warn("control", "%s is not a loopback address: the control socket has no "
                 "authentication, so whoever reaches it controls the VM",
                 transport_listener_uri(c->listener));
    *out = c;
    return 0;
}

void control_stop(struct control *c)
{
    if (!c)
        return;
    atomic_store(&c->stop, true);
    /* The thread notices within CONTROL_POLL_MS, unless it is blocked
     * sending to a client that does not read, or still runs a command
     * (snapshot-save). Cut such a client off after the grace period. */
    for (unsigned i = 0; i < CONTROL_STOP_GRACE_MS / 10 && !atomic_load(&c->done); i++)
        host_sleep_ns(10 * 1000000ull);
    host_mutex_lock(c->lock);
    if (!atomic_load(&c->done) && c->busy) {
        log_warn("control", "the control client on %s does not read; disconnecting it",
                 c->busy->name);
        transport_shutdown(c->busy);
    }
    host_mutex_unlock(c->lock);
    host_thread_join(c->thread);
    transport_listener_close(c->listener);
    host_mutex_destroy(c->lock);
    free(c);
}
