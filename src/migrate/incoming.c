/* The incoming side of a live migration or a snapshot restore: the stream
 * is loaded into a freshly created VM that has not run, checked whole, and
 * started only when the source has let go of the VM (docs/migration-format.md,
 * "The conversation"). */
#include "migrate/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/vm.h"
#include "host/host.h"
#include "migrate/machine.h"
#include "migrate/ram.h"
#include "migrate/stream.h"
#include "migrate/token.h"
#include "migrate/transport.h"

/* The source gave the stream up: reads its abort record and the end marker
 * after it (so a corrupt stream cannot pass for an abort), and returns
 * -ECANCELED with a message that says so. */
static int migrate_load_abort(struct stream_reader *r, const struct stream_section *sec,
                              bool two_way)
{
    struct stream_abort a;
    struct stream_section end;
    /* where the record starts: its header (tag, name, instance, version,
     * length) is behind us */
    uint64_t at = r->bytes - (2 + strlen(sec->name) + 16);
    int rc;

    if ((rc = stream_get_abort(r, sec, &a)) < 0)
        return rc;
    rc = stream_get_section(r, &end);
    if (rc == 0 && end.tag != STREAM_SEC_END)
        return err_set(-EBADMSG, "section '%s' (tag %u) follows the abort record: the stream "
                                 "is corrupt", end.name, end.tag);
    /* A checksum mismatch is corruption; a channel that closes right after
     * the record still lets the record through. */
    if (rc < 0 && rc != -EPIPE)
        return rc;
    const char *msg = a.message[0] ? a.message : "no reason given";
    if (!two_way)
        return err_set(-ECANCELED, "the stream was abandoned at byte %llu while it was written "
                                   "(%s: %s): it holds no complete VM",
                       (unsigned long long)at, stream_abort_reason_name(a.reason), msg);
    switch (a.reason) {
    case STREAM_ABORT_CANCELLED:
        return err_set(-ECANCELED, "the source cancelled the migration (%s)", msg);
    case STREAM_ABORT_VM_STOPPED: /* "the VM stopped at the source ... (why)" */
        return err_set(-ECANCELED, "%s; there is no VM to run here", msg);
    case STREAM_ABORT_FAILED:
        return err_set(-ECANCELED, "the source abandoned the migration: %s", msg);
    default:
        return err_set(-ECANCELED, "the source abandoned the migration (reason %u): %s",
                       (unsigned)a.reason, msg);
    }
}

/* A SYNC section: the source asks how far this side has read. Where read
 * receipts were agreed, the answer is the stream position after it; a SYNC
 * that was not asked for is passed over. */
static int migrate_receipt(struct stream_reader *r, const struct stream_section *sec,
                           struct channel *ch, bool receipts)
{
    int rc;

    if ((rc = stream_skip(r, sec->length)) < 0 || !receipts)
        return rc;
    return token_send_receipt(ch, r->bytes);
}

static int migrate_load(struct vm *vm, struct channel *ch, bool two_way, uint64_t *at)
{
    struct stream_reader r;
    struct stream_section sec;
    struct machine_config_info info;
    struct machine_load *ml;
    struct ram_loader ld;
    uint32_t version;
    int rc;

    memset(&ld, 0, sizeof(ld));
    ml = calloc(1, sizeof(*ml));
    if (!ml)
        return err_set(-ENOMEM, "out of memory");
    stream_reader_init(&r, ch);
    if ((rc = stream_get_header(&r, &version)) < 0 || (rc = stream_get_section(&r, &sec)) < 0)
        goto out;
    if (sec.tag == STREAM_SEC_ABORT) {
        rc = migrate_load_abort(&r, &sec, two_way);
        goto out;
    }
    if ((rc = machine_check_config(&r, &sec, vm, &info)) < 0)
        goto out;
    log_info("migrate", "incoming VM from roam %s, engine %s on %s", info.roam, info.engine,
             info.host_os);
    bool receipts = two_way && info.receipts;
    if (two_way && (rc = token_send(ch, receipts ? TOKEN_CONFIG_RECEIPTS : TOKEN_CONFIG_OK)) < 0)
        goto out;
    ram_loader_init(&ld, &vm->mem);
    for (;;) {
        if ((rc = stream_get_section(&r, &sec)) < 0)
            goto out;
        if (sec.tag == STREAM_SEC_END)
            break;
        if (sec.tag == STREAM_SEC_RAM)
            rc = ram_load_section(&r, &sec, &ld);
        else if (sec.tag == STREAM_SEC_DEVICE || sec.tag == STREAM_SEC_CPU)
            rc = machine_load_section(&r, &sec, vm, ml);
        else if (sec.tag == STREAM_SEC_ABORT)
            rc = migrate_load_abort(&r, &sec, two_way);
        else if (sec.tag == STREAM_SEC_SYNC)
            rc = migrate_receipt(&r, &sec, ch, receipts);
        else
            rc = err_set(-EBADMSG, "unknown section tag %u ('%s')", sec.tag, sec.name);
        if (rc < 0)
            goto out;
    }
    rc = machine_load_finish(vm, ml);
out:
    ram_loader_free(&ld);
    *at = r.bytes;
    free(ml);
    return rc;
}

/* ---- the destination's watchdog: a source gone quiet, a quit ---- */

/* A stream read blocked for the stall-timeout parameter (a source process
 * or host that hung, a link that died without a reset) or a quit from the
 * control socket while loading takes the channel down under the reader,
 * which then fails; the VM never runs. Waiting for a source to connect is
 * not a stall. */
#define INCOMING_WATCH_NS (10 * 1000 * 1000ull)

struct incoming_watch {
    struct vm *vm;
    struct host_mutex *lock;
    struct host_cond *cond;   /* wakes it when the load is over */
    const struct channel *ch; /* the real one; NULL once the load is over */
    uint64_t read_since;      /* when the read under way began; 0: none */
    uint64_t stall_ns;        /* the timeout that ended it */
    bool stalled, quit;
};

static void incoming_watch(void *arg)
{
    struct incoming_watch *w = arg;

    host_mutex_lock(w->lock);
    while (w->ch) {
        host_mutex_unlock(w->lock);
        /* Before w->lock: the parameter takes vm->lock and the migration's. */
        uint64_t stall = migrate_stall_timeout_ns(w->vm);
        host_mutex_lock(w->vm->lock);
        bool quit = w->vm->stop_requested;
        host_mutex_unlock(w->vm->lock);
        host_mutex_lock(w->lock);
        /* now under w->lock: a read that began a moment ago is not in the
         * future */
        uint64_t now = host_time_ns();
        bool done = !w->ch || w->stalled || w->quit;
        if (!done && quit) {
            w->quit = true;
            transport_shutdown(w->ch);
        } else if (!done && stall && w->read_since && now - w->read_since >= stall) {
            w->stalled = true;
            w->stall_ns = stall;
            transport_shutdown(w->ch);
        }
        /* woken at once when the load ends: its join is in the downtime */
        host_cond_wait_until(w->cond, w->lock, now + INCOMING_WATCH_NS);
    }
    host_mutex_unlock(w->lock);
}

/* Loads the stream from ch with the watchdog on guard (where it can start
 * one): a stall or a quit is reported as such. */
static int migrate_load_watched(struct vm *vm, struct channel *ch, uint64_t *at)
{
    struct incoming_watch w = {.vm = vm};
    struct timed_channel tc = {ch, NULL, &w.read_since, true};
    struct channel wch;
    struct host_thread *t = NULL;
    int rc;

    if (host_mutex_create(&w.lock) < 0)
        return migrate_load(vm, ch, true, at);
    w.ch = ch;
    if (host_cond_create(&w.cond) < 0 ||
        host_thread_create(&t, incoming_watch, &w, "roam-incoming-watch") < 0) {
        log_warn("migrate", "no watchdog on the incoming stream: %s", err_msg());
        if (w.cond)
            host_cond_destroy(w.cond);
        host_mutex_destroy(w.lock);
        return migrate_load(vm, ch, true, at);
    }
    tc.lock = w.lock;
    timed_channel(&wch, &tc); /* each stream read timed */
    rc = migrate_load(vm, &wch, true, at);
    host_mutex_lock(w.lock);
    w.ch = NULL;
    host_cond_signal(w.cond);
    host_mutex_unlock(w.lock);
    host_thread_join(t);
    host_cond_destroy(w.cond);
    host_mutex_destroy(w.lock);
    if (rc < 0 && w.stalled)
        rc = err_set(-ETIMEDOUT,
                     "the source sent nothing for %llu ms (stall-timeout) at byte %llu of %s: "
                     "the connection is closed",
                     (unsigned long long)(w.stall_ns / 1000000u), (unsigned long long)*at,
                     ch->name ? ch->name : "the channel");
    else if (rc < 0 && w.quit)
        rc = err_set(-ECANCELED, "stopped at byte %llu while loading the incoming VM",
                     (unsigned long long)*at);
    return rc;
}

int migrate_incoming(struct vm *vm, const char *uri)
{
    struct transport_listener *l;
    struct channel ch;
    bool two_way = strncmp(uri, "file:", 5) != 0;
    uint64_t at = 0;
    int rc;

    if ((rc = transport_listen(uri, &l)) < 0)
        return rc;
    log_info("migrate", "waiting for the VM on %s", uri);
    /* Waits in slices so that a quit from the control socket ends the wait. */
    do {
        rc = transport_accept(l, &ch, 200);
    } while (rc == -ETIMEDOUT && !vm->stop_requested);
    transport_listener_close(l);
    if (rc == -ETIMEDOUT)
        return err_set(-ECANCELED, "stopped while waiting for the incoming VM");
    if (rc < 0)
        return rc;
    rc = two_way ? migrate_load_watched(vm, &ch, &at) : migrate_load(vm, &ch, false, &at);
    if (rc < 0) {
        char msg[400];
        /* A live stream that stops short: the source went away without a
         * word (killed, or its host or link died). */
        if (rc == -EPIPE && two_way)
            err_set(rc, "the connection closed at byte %llu of %s (the source stopped sending: "
                        "killed or cancelled?)",
                    (unsigned long long)at, ch.name ? ch.name : "the channel");
        snprintf(msg, sizeof(msg), "%s", err_msg());
        if (two_way)
            (void)token_send_fail(&ch, msg);
        ch.close(ch.opaque);
        return err_set(rc, "incoming migration: %s", msg);
    }
    if (two_way) {
        /* Loaded and checked; start only when the source has let go. */
        if ((rc = token_send(&ch, TOKEN_LOADED)) < 0 ||
            (rc = token_expect(&ch, TOKEN_GO, HANDSHAKE_TIMEOUT_MS, true)) < 0) {
            ch.close(ch.opaque);
            return err_wrap(rc, "incoming migration: the source did not hand over the VM");
        }
    }
    rc = vm_start(vm);
    if (two_way && rc == 0 && token_send(&ch, TOKEN_RUNNING) < 0)
        log_warn("migrate", "could not confirm to the source: %s", err_msg());
    ch.close(ch.opaque);
    return rc;
}
