/* Live migration, the outgoing side (pre-copy, Clark et al., NSDI 2005);
 * incoming.c loads what this sends, token.c has the back channel,
 * snapshot.c writes the same stream to a file. The source keeps the VM
 * until the destination has loaded and checked everything; any failure
 * before that resumes the source.
 *
 * The conversation on a two-way channel (docs/migration-format.md):
 *   source: header, config section
 *   dest:   "ROAMCFOK" ("ROAMCFRC": with read receipts), or "ROAMFAIL" u32
 *           len, message   (before any RAM)
 *   source: RAM rounds ... (VM paused) last RAM, state sections, end marker
 *           (with receipts: SYNC sections, each answered "ROAMRCPT" u64)
 *   dest:   "ROAMLOAD" (everything loaded and checked) or "ROAMFAIL" ...
 *   source: "ROAMGO!!" (from here on the source never resumes the VM)
 *   dest:   starts the VM, "ROAMRUN!"
 * A source that gives up before its end marker ends the stream with an
 * ABORT record (why: cancelled, failed, the VM stopped) and the end marker,
 * so that the destination reports a cancel as a cancel; after the end
 * marker it sends "ROAMFAIL" instead of "ROAMGO!!".
 * A file (snapshot) holds the source's part only. */
#include "migrate/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/timerq.h"
#include "migrate/machine.h"
#include "migrate/ram.h"
#include "migrate/stream.h"
#include "migrate/token.h"
#include "migrate/transport.h"

#define MAX_ROUNDS 1000
/* Auto-converge: QEMU's defaults (cpu-throttle-initial 20, -increment 10,
 * max-cpu-throttle 99). At 90% a guest that dirties memory with a tenth of
 * a CPU still got its way; at 99% it runs 1% of the time. */
#define THROTTLE_INITIAL 20u
#define THROTTLE_STEP 10u
#define THROTTLE_MAX 99u

struct migration {
    struct vm *vm;
    struct host_mutex *lock;  /* guards stats, params, cancel */
    struct host_thread *thread;
    struct migrate_params params;
    struct migrate_stats stats;
    bool cancel;
    bool active;
    bool committing; /* past the last check: GO goes out, whatever happens */
    char uri[512];
    uint64_t pace_start; /* when the stream started */
    /* the bandwidth limit's token bucket: bytes it holds (below zero: owed)
     * at pace_at, when the stream had sent pace_bytes */
    double pace_tokens;
    uint64_t pace_at, pace_bytes;
    const struct ram_sender *rs; /* while the stream runs: figures for the stats */
    /* while the stream runs: the channel, which the watchdog shuts down
     * when the migration thread is stuck (migrate_watch); when a send
     * began (0: none under way), when a cancel came, and whether the
     * stall timeout ended it. Guarded by lock. */
    const struct channel *ch;
    struct host_cond *watch_cond; /* wakes the watchdog when ch goes */
    uint64_t send_since, cancel_at;
    bool stalled;
    /* during round 0 (guarded by lock): where it started, for the stats */
    bool in_first_pass;
    uint64_t first_bytes, first_start;
};

const char *migrate_status_name(enum migrate_status s)
{
    static const char *const names[] = {"none",      "setup",     "active",   "stop-copy",
                                        "completed", "failed",    "cancelled"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

void migrate_params_default(struct migrate_params *p)
{
    p->downtime_limit_ns = 50 * 1000 * 1000ull;
    p->bandwidth_bps = 0;
    p->auto_converge = true;
    p->stall_timeout_ns = MIGRATE_STALL_TIMEOUT_MS * 1000000ull;
}

static int migrate_get(struct vm *vm, struct migration **out)
{
    struct migration *m = vm->mig;
    int rc;

    if (!m) {
        m = calloc(1, sizeof(*m));
        if (!m)
            return err_set(-ENOMEM, "out of memory");
        if ((rc = host_mutex_create(&m->lock)) < 0) {
            free(m);
            return rc;
        }
        m->vm = vm;
        migrate_params_default(&m->params);
        /* under vm->lock: a destination's watchdog reads it meanwhile */
        host_mutex_lock(vm->lock);
        vm->mig = m;
        host_mutex_unlock(vm->lock);
    }
    *out = m;
    return 0;
}

uint64_t migrate_stall_timeout_ns(struct vm *vm)
{
    uint64_t ns = MIGRATE_STALL_TIMEOUT_MS * 1000000ull;

    host_mutex_lock(vm->lock);
    struct migration *m = vm->mig;
    host_mutex_unlock(vm->lock);
    if (m) {
        host_mutex_lock(m->lock);
        ns = m->params.stall_timeout_ns;
        host_mutex_unlock(m->lock);
    }
    return ns;
}

/* A cancel, from migrate-cancel or the VM's end: the watchdog gives the
 * migration thread CANCEL_GRACE_NS from now to see it. */
static void migrate_cancel_locked(struct migration *m)
{
    if (!m->cancel)
        m->cancel_at = host_time_ns();
    m->cancel = true;
}

void migrate_cleanup(struct vm *vm)
{
    struct migration *m = vm->mig;

    if (!m)
        return;
    if (m->thread) {
        host_mutex_lock(m->lock);
        migrate_cancel_locked(m);
        host_mutex_unlock(m->lock);
        host_thread_join(m->thread);
    }
    host_mutex_destroy(m->lock);
    free(m);
    vm->mig = NULL;
}

static bool migrate_cancelled(struct migration *m)
{
    bool c;
    host_mutex_lock(m->lock);
    c = m->cancel;
    host_mutex_unlock(m->lock);
    return c;
}

/* ---- outgoing ---- */

static void migrate_set_status(struct migration *m, enum migrate_status s)
{
    host_mutex_lock(m->lock);
    m->stats.status = s;
    host_mutex_unlock(m->lock);
}

/* Sends of less than this say more about fixed costs than about the link. */
#define BW_MIN_BYTES (1u << 20)

static void migrate_update(struct migration *m, const struct ram_sender *rs,
                           const struct stream_writer *w, uint64_t start)
{
    host_mutex_lock(m->lock);
    m->stats.bytes = w->bytes;
    m->stats.pages = rs->pages;
    m->stats.zero_pages = rs->zero_pages;
    m->stats.rounds = rs->round + 1;
    m->stats.total_ns = host_time_ns() - start;
    if (m->in_first_pass) {
        /* The progress line's remaining and ETA during the first pass,
         * usually the longest part: what it has still to read, at the rate
         * it has gone so far. */
        uint64_t bytes = w->bytes - m->first_bytes, ns = host_time_ns() - m->first_start;
        m->stats.remaining_pages = rs->first_left;
        if (bytes >= BW_MIN_BYTES && ns)
            m->stats.bandwidth_Bps = (uint64_t)((double)bytes * 1e9 / (double)ns);
    }
    host_mutex_unlock(m->lock);
}

/* Whether the VM has stopped (its guest ended, quit, an error); the reason
 * goes in why. The source then never resumes it, and never hands it over. */
static bool migrate_vm_stopped(struct vm *vm, char *why, size_t len)
{
    bool stopped;

    host_mutex_lock(vm->lock);
    stopped = vm->stop_requested;
    if (stopped && why)
        snprintf(why, len, "%s", vm->stop_reason);
    host_mutex_unlock(vm->lock);
    return stopped;
}

/* 0 while the migration may go on; -ECANCELED with the reason when the VM
 * stopped or migrate-cancel came. */
static int migrate_check_stop(struct migration *m)
{
    char why[sizeof(m->vm->stop_reason)];

    if (migrate_vm_stopped(m->vm, why, sizeof(why)))
        return err_set(-ECANCELED,
                       "the VM stopped at the source before the migration finished (%s)", why);
    if (migrate_cancelled(m))
        return err_set(-ECANCELED, "migrate-cancel on the control socket");
    return 0;
}

#define PACE_SLICE_NS (50 * 1000 * 1000ull)
/* The bandwidth limit allows a burst of this much time at the limit: QEMU's
 * max-bandwidth is bandwidth/10 bytes per 100 ms window, so this is the
 * same bound (no more than limit x (t + 100 ms) bytes in any t), kept
 * by a token bucket rather than by fixed windows. */
#define PACE_BURST_NS (100 * 1000 * 1000ull)

/* The token bucket's size under a bandwidth limit of bps. */
static double migrate_pace_depth(uint64_t bps)
{
    return (double)bps * (double)PACE_BURST_NS / 1e9;
}

/* What the bucket holds at now: it fills at the limit, up to its size. */
static double migrate_pace_tokens(const struct migration *m, uint64_t bps, uint64_t now)
{
    double tokens = m->pace_tokens + (double)(now - m->pace_at) * (double)bps / 1e9;
    double depth = migrate_pace_depth(bps);

    return tokens < depth ? tokens : depth;
}

/* After each RAM section: stops the stream on cancel or when the VM
 * stopped, and sleeps as needed to keep the stream under the bandwidth
 * limit: a token bucket that fills at the limit and holds PACE_BURST_NS of
 * it (in slices, so a cancel is seen at once). It stops only between
 * sections: the writer can then end the stream with an abort record. */
static void migrate_pace(void *opaque, struct stream_writer *w)
{
    struct migration *m = opaque;
    uint64_t bps, bytes = w->bytes, now = host_time_ns();
    int rc;

    host_mutex_lock(m->lock);
    bps = m->params.bandwidth_bps;
    /* The limit protects the link while the guest runs; with the VM
     * paused, every millisecond of pacing is downtime (QEMU lifts its
     * limit there too). */
    if (m->stats.status == MIGRATE_STOPCOPY)
        bps = 0;
    host_mutex_unlock(m->lock);
    if (m->rs) /* the figures move during a long first pass too */
        migrate_update(m, m->rs, w, m->pace_start);
    if (w->error)
        return;
    uint64_t due = 0;
    if (bps) {
        m->pace_tokens = migrate_pace_tokens(m, bps, now) - (double)(bytes - m->pace_bytes);
        if (m->pace_tokens < 0)
            due = now + (uint64_t)(-m->pace_tokens * 1e9 / (double)bps);
    }
    m->pace_at = now;
    m->pace_bytes = bytes;
    for (;;) {
        if ((rc = migrate_check_stop(m)) < 0) {
            w->error = rc;
            return;
        }
        now = host_time_ns();
        if (due <= now)
            return;
        host_sleep_ns(due - now < PACE_SLICE_NS ? due - now : PACE_SLICE_NS);
    }
}

/* Switches dirty logging on or off for every RAM slot. */
static int migrate_dirty_logging(struct vm *vm, bool on)
{
    for (unsigned i = 0; i < vm->mem.count; i++) {
        const struct mem_region *r = &vm->mem.region[i];
        int rc = vm->eng->set_memory_region(vm->evm, i, r->gpa, r->size, r->hva,
                                            on ? ENGINE_MEM_DIRTY_LOG : 0);
        if (rc < 0)
            return err_wrap(rc, "dirty logging");
    }
    return 0;
}

/* Reads the dirty log of every slot (a "sync") and adds what it holds to
 * the pages still to send (pending, one bitmap per slot). The read clears
 * the engine's log (KVM_GET_DIRTY_LOG; emu's exchange, then its write TLB
 * flush), so every page it returns must go out in a later send: it is never
 * dropped, only added to pending. found: the pages the log held; count: the
 * pages pending now. */
static int migrate_sync(struct migration *m, uint64_t **pending, uint64_t *scratch,
                        uint64_t *found, uint64_t *count)
{
    struct vm *vm = m->vm;
    uint64_t nfound = 0, npending = 0;

    for (unsigned i = 0; i < vm->mem.count; i++) {
        uint64_t words = (vm->mem.region[i].size / GMEM_PAGE_SIZE + 63) / 64;
        int rc = vm->eng->dirty_log(vm->evm, i, scratch);
        if (rc < 0)
            return err_wrap(rc, "reading the dirty log");
        for (uint64_t j = 0; j < words; j++) {
            nfound += (uint64_t)__builtin_popcountll(scratch[j]);
            pending[i][j] |= scratch[j];
            npending += (uint64_t)__builtin_popcountll(pending[i][j]);
        }
    }
    *found = nfound;
    *count = npending;
    return 0;
}

/* Where the live rounds are in guest RAM: pending pages go out in address
 * order, a slice at a time; a round (a pass) ends when the cursor has gone
 * past the last page. */
struct ram_cursor {
    unsigned region;
    uint64_t page;
};

/* Sends up to max pending pages (their contents as they are now) from the
 * cursor on, clearing their bits; sets *wrapped when the cursor went past
 * the end of guest RAM (it starts over at the first page). */
static int migrate_send_slice(struct migration *m, struct ram_sender *rs, uint64_t **pending,
                              struct ram_cursor *c, uint64_t max, uint64_t *sent, bool *wrapped)
{
    struct vm *vm = m->vm;

    *sent = 0;
    *wrapped = false;
    while (*sent < max) {
        if (c->region >= vm->mem.count) {
            c->region = 0;
            c->page = 0;
            *wrapped = true;
            break;
        }
        *sent += ram_send_dirty(rs, c->region, pending[c->region], &c->page, max - *sent);
        if (rs->w->error)
            return rs->w->error;
        if (c->page >= vm->mem.region[c->region].size / GMEM_PAGE_SIZE) {
            c->region++;
            c->page = 0;
        }
    }
    return 0;
}

/* Decides which abort reason a failure gets, and rewrites the message when
 * the VM stopped (that is then the reason, whatever the error was). */
static uint32_t migrate_abort_reason(struct migration *m, int rc)
{
    char why[sizeof(m->vm->stop_reason)];

    if (migrate_vm_stopped(m->vm, why, sizeof(why))) {
        err_set(rc, "the VM stopped at the source before the migration finished (%s)", why);
        return STREAM_ABORT_VM_STOPPED;
    }
    host_mutex_lock(m->lock);
    bool stalled = m->stalled;
    uint64_t stall_ms = m->params.stall_timeout_ns / 1000000u;
    host_mutex_unlock(m->lock);
    if (stalled && !migrate_cancelled(m)) {
        err_set(-ETIMEDOUT, "the destination took nothing for %llu ms (stall-timeout): the "
                "connection is closed", (unsigned long long)stall_ms);
        return STREAM_ABORT_FAILED;
    }
    if (migrate_cancelled(m)) {
        /* whatever the cancel's shutdown of the channel made fail */
        if (rc != -ECANCELED || !strstr(err_msg(), "migrate-cancel"))
            err_set(-ECANCELED, "migrate-cancel on the control socket");
        return STREAM_ABORT_CANCELLED;
    }
    return STREAM_ABORT_FAILED;
}

/* Just before GO: the last chance to give up. Checked with the VM's lock
 * held, so that migrate_query() never reports a stop that loses to GO. */
static int migrate_commit_check(struct migration *m)
{
    struct vm *vm = m->vm;
    int rc = 0;

    host_mutex_lock(vm->lock);
    host_mutex_lock(m->lock);
    if (vm->stop_requested)
        rc = err_set(-ECANCELED,
                     "the VM stopped at the source before the migration finished (%s)",
                     vm->stop_reason);
    else if (m->cancel)
        rc = err_set(-ECANCELED, "migrate-cancel on the control socket");
    else
        m->committing = true;
    host_mutex_unlock(m->lock);
    host_mutex_unlock(vm->lock);
    return rc;
}

/* Updates the bandwidth estimate after sending bytes in ns: sends of less
 * than BW_MIN_BYTES change it only while there is no estimate yet. */
static void migrate_measure_bw(struct migration *m, uint64_t bytes, uint64_t ns)
{
    host_mutex_lock(m->lock);
    if (bytes && (bytes >= BW_MIN_BYTES || !m->stats.bandwidth_Bps))
        m->stats.bandwidth_Bps = (uint64_t)((double)bytes * 1e9 / (double)(ns ? ns : 1));
    if (!m->stats.bandwidth_Bps)
        m->stats.bandwidth_Bps = 1ull << 30; /* nothing sent yet: assume a fast link */
    /* A send that the token bucket let out as a burst (the first 100 ms of
     * the limit, a pending set sent at once) went at the speed of the
     * socket's buffers: under a limit the estimate stays at most the limit,
     * the speed the next live sends will have. */
    uint64_t bps = m->params.bandwidth_bps;
    if (bps && m->stats.bandwidth_Bps > bps)
        m->stats.bandwidth_Bps = bps;
    host_mutex_unlock(m->lock);
}

/* Whether a wait of waited ns on the destination is a stall (the
 * stall-timeout parameter); if so, the channel goes down at once (an abort
 * record would only wait again) and the failure says why. */
static bool migrate_stalled(struct migration *m, uint64_t waited)
{
    host_mutex_lock(m->lock);
    uint64_t stall = m->params.stall_timeout_ns;
    bool stalled = stall && waited >= stall;
    if (stalled) {
        m->stalled = true;
        if (m->ch)
            transport_shutdown(m->ch);
    }
    host_mutex_unlock(m->lock);
    return stalled;
}

/* Whether the destination has read all but left bytes of what went out:
 * 1 yes, 0 not yet (having waited up to wait_ns to see it), -ENOSYS where
 * neither the channel nor read receipts can tell, or an error. */
static int migrate_drained(struct channel *ch, struct stream_writer *w, struct receipts *rc,
                           uint64_t left, uint64_t wait_ns)
{
    size_t n;
    int r;

    if (ch->unread && ch->unread(ch->opaque, &n) == 0) { /* a Unix socket */
        if (n <= left)
            return 1;
        host_sleep_ns(wait_ns);
        return 0;
    }
    if (!rc->on)
        return -ENOSYS;
    if ((r = receipt_poll(ch, rc, 0)) < 0)
        return r;
    if (w->bytes - rc->read_to <= left)
        return 1;
    if (!rc->out) {
        stream_put_section(w, STREAM_SEC_SYNC, STREAM_SYNC_NAME, rc->seq++, STREAM_SYNC_VERSION,
                           0);
        if ((r = stream_flush(w)) < 0)
            return r;
        rc->out = true;
        rc->sync_at = w->bytes;
    }
    if ((r = receipt_poll(ch, rc, (int)((wait_ns + 999999u) / 1000000u))) < 0)
        return r;
    return w->bytes - rc->read_to <= left;
}

/* The live rounds go out in slices of about SLICE_NS at the measured
 * bandwidth, with a read of the dirty log before each: the stop is decided
 * on what is dirty now, and a burst the guest writes is seen (and sent
 * live) within a slice, so that the pending pages drain to nothing in the
 * guest's quiet moments, which is when it stops. */
#define SLICE_NS (10 * 1000 * 1000ull)
/* Before the stop: little enough left unread by the destination (a RAM
 * section), and how often to look while more is. */
#define DRAIN_LEFT (256u * 1024u)
#define DRAIN_POLL_NS (500 * 1000ull)
/* A stop with this share of the downtime target or less left to send is
 * taken at once; more, but within the target, keeps the live slices going
 * for up to FIT_WAIT_MUL x the target first (the pending pages are mostly
 * what the guest wrote over a long round, the first pass above all: sent
 * live, they leave little behind). */
#define SMALL_STOP_DIV 32u
#define FIT_WAIT_MUL 2u
/* dirty-pages-rate is taken over at least this much time (QEMU's period). */
#define RATE_PERIOD_NS (1000 * 1000 * 1000ull)

static int migrate_outgoing(struct migration *m, struct channel *ch, bool *paused_by_us,
                            bool *committed, uint32_t *abort_reason)
{
    struct vm *vm = m->vm;
    struct stream_writer w;
    struct ram_sender rs;
    struct ram_cursor cur = {0, 0};
    uint64_t *pending[GMEM_MAX_REGIONS] = {0}, *scratch = NULL, max_pages = 0;
    uint64_t start = host_time_ns(), pause_start = 0, last_sync = 0, fit_since = 0;
    uint64_t pass_sent = 0, last_pass_sent = UINT64_MAX, rate_pages = 0, rate_ns = 0;
    uint64_t last_big_send = 0; /* when the last send of BW_MIN_BYTES or more ended */
    uint64_t drain_since = 0;   /* when the wait for the destination to read began */
    struct receipts rcpt = {0};
    unsigned stuck_rounds = 0;
    bool ended = false; /* the end marker went out */
    bool in_pass = false, rate_full = false;
    int rc;

    stream_writer_init(&w, ch);
    if ((rc = ram_sender_init(&rs, &w, &vm->mem)) < 0) {
        stream_writer_free(&w);
        return rc;
    }
    rs.pace = migrate_pace;
    rs.pace_opaque = m;
    m->pace_start = start;
    m->pace_at = start;
    m->pace_bytes = 0;
    /* full: the first PACE_BURST_NS of the limit may go at once */
    host_mutex_lock(m->lock);
    m->pace_tokens = migrate_pace_depth(m->params.bandwidth_bps);
    host_mutex_unlock(m->lock);
    m->rs = &rs;
    for (unsigned i = 0; i < vm->mem.count; i++) {
        uint64_t pages = vm->mem.region[i].size / GMEM_PAGE_SIZE;
        max_pages = pages > max_pages ? pages : max_pages;
        pending[i] = calloc((pages + 63) / 64, sizeof(uint64_t));
        if (!pending[i]) {
            rc = err_set(-ENOMEM, "out of memory");
            goto out;
        }
    }
    scratch = calloc((max_pages + 63) / 64 + 1, sizeof(uint64_t));
    if (!scratch) {
        rc = err_set(-ENOMEM, "out of memory");
        goto out;
    }
    /* The destination checks the config before any RAM flows. */
    stream_put_header(&w);
    machine_put_config(&w, vm, ch->read_some != NULL);
    if ((rc = stream_flush(&w)) < 0)
        goto out;
    if ((rc = token_expect2(ch, TOKEN_CONFIG_OK, TOKEN_CONFIG_RECEIPTS, HANDSHAKE_TIMEOUT_MS,
                            false)) < 0)
        goto out;
    rcpt.on = rc == 1 && ch->read_some;
    rcpt.read_to = w.bytes; /* it read the config to answer */

    if ((rc = migrate_dirty_logging(vm, true)) < 0)
        goto out;
    last_sync = host_time_ns(); /* pages dirtied from here on are logged */
    migrate_set_status(m, MIGRATE_ACTIVE);
    /* Round 0: every page. The destination's RAM is fresh and zeroed, so
     * zero pages need no record at all. */
    uint64_t bytes0 = w.bytes, send_start = host_time_ns();
    host_mutex_lock(m->lock);
    m->in_first_pass = true;
    m->first_bytes = bytes0;
    m->first_start = send_start;
    host_mutex_unlock(m->lock);
    ram_send_all(&rs, true);
    host_mutex_lock(m->lock);
    m->in_first_pass = false;
    host_mutex_unlock(m->lock);
    if ((rc = stream_flush(&w)) < 0)
        goto out;
    migrate_measure_bw(m, w.bytes - bytes0, host_time_ns() - send_start);
    migrate_update(m, &rs, &w, start);
    last_big_send = host_time_ns();

    for (;;) {
        uint64_t found = 0, dirty = 0;
        if ((rc = migrate_check_stop(m)) < 0)
            goto out;
        /* A fresh look at the dirty log before every decision. */
        if ((rc = migrate_sync(m, pending, scratch, &found, &dirty)) < 0)
            goto out;
        uint64_t now = host_time_ns();
        rate_pages += found;
        rate_ns += now - last_sync;
        last_sync = now;
        host_mutex_lock(m->lock);
        uint64_t bw = m->stats.bandwidth_Bps, limit = m->params.downtime_limit_ns;
        uint64_t bps = m->params.bandwidth_bps;
        bool converge = m->params.auto_converge;
        /* Pages the log returned per second of the time it covered: the
         * interval they were dirtied in, not the time spent sending. Over
         * a period of a second or more once there is one (a page written
         * again within one log read counts once). */
        if (!rate_full || rate_ns >= RATE_PERIOD_NS)
            m->stats.dirty_rate = rate_pages * 1000000000u / (rate_ns ? rate_ns : 1);
        if (rate_ns >= RATE_PERIOD_NS) {
            rate_full = true;
            rate_pages = rate_ns = 0;
        }
        m->stats.remaining_pages = dirty;
        host_mutex_unlock(m->lock);
        migrate_update(m, &rs, &w, start);
        /* Would the pending pages fit the downtime target at the measured
         * bandwidth? (The stop-and-copy is not paced, so with a bandwidth
         * limit this is the cautious side.) */
        uint64_t est_ns =
            bw ? timerq_count_to_ns(dirty * (GMEM_PAGE_SIZE + 8), bw) : UINT64_MAX;
        bool fits = est_ns <= limit;
        if (!fits)
            fit_since = 0;
        else if (!fit_since)
            fit_since = now;
        if (fits && (est_ns <= limit / SMALL_STOP_DIV || now - fit_since >= FIT_WAIT_MUL * limit)) {
            /* What the last sends wrote may still be queued on the way (a
             * TCP connection holds megabytes): the destination reads it
             * before it can load the last round, in the downtime. Where the
             * channel (a Unix socket) or the destination's read receipts
             * tell how much it has not read, wait with the guest running
             * until that is little, with a fresh look at the dirty log
             * every DRAIN_POLL_NS; elsewhere a large send gets up to a slice
             * of time to drain. */
            int dr = migrate_drained(ch, &w, &rcpt, DRAIN_LEFT, DRAIN_POLL_NS);
            if (dr == 0) {
                /* a destination that stopped reading: as a stalled send */
                if (!drain_since)
                    drain_since = now;
                else if (migrate_stalled(m, now - drain_since)) {
                    rc = -ETIMEDOUT;
                    goto out;
                }
                continue;
            }
            drain_since = 0;
            if (dr == -ENOSYS && last_big_send && now - last_big_send < SLICE_NS) {
                host_sleep_ns(SLICE_NS - (now - last_big_send));
                last_big_send = 0;
                continue;
            }
            if (dr < 0 && dr != -ENOSYS) {
                rc = dr;
                goto out;
            }
            break;
        }
        uint64_t slice = bw / 1000u * (SLICE_NS / 1000u) / 1000u / (GMEM_PAGE_SIZE + 8), sent;
        if (slice < RAM_BATCH_PAGES)
            slice = RAM_BATCH_PAGES;
        if (bps && dirty) {
            /* Under a bandwidth limit, a pending set the token bucket can
             * hold goes out as one burst once the bucket holds it, with
             * the guest running: trickled at the limit, the pages of a hot
             * set are written again before the last of them went (and go
             * twice), while pages that wait cost nothing. QEMU's rate
             * limit, a budget per 100 ms window, sends it the same way. */
            double tokens = migrate_pace_tokens(m, bps, now);
            double need = (double)dirty * (GMEM_PAGE_SIZE + 8);
            if (need <= migrate_pace_depth(bps)) {
                if (tokens < need) {
                    uint64_t ns = (uint64_t)((need - tokens) * 1e9 / (double)bps) + 1;
                    host_sleep_ns(ns < SLICE_NS ? ns : SLICE_NS);
                    continue; /* with a fresh look at the dirty log */
                }
                slice = dirty > slice ? dirty : slice;
            }
        }
        if (!in_pass) {
            if (rs.round >= MAX_ROUNDS) {
                rc = err_set(-ETIMEDOUT, "did not converge after %u rounds", MAX_ROUNDS);
                goto out;
            }
            rs.round++;
            in_pass = true;
        }
        bool wrapped;
        bytes0 = w.bytes;
        send_start = host_time_ns();
        if ((rc = migrate_send_slice(m, &rs, pending, &cur, slice, &sent, &wrapped)) < 0)
            goto out;
        if ((rc = stream_flush(&w)) < 0)
            goto out;
        migrate_measure_bw(m, w.bytes - bytes0, host_time_ns() - send_start);
        migrate_update(m, &rs, &w, start);
        if (w.bytes - bytes0 >= BW_MIN_BYTES)
            last_big_send = host_time_ns();
        pass_sent += sent;
        if (!wrapped)
            continue;
        /* A round ended. Not converging: the guest dirties pages as fast
         * as they go. */
        in_pass = false;
        if (!fits && rs.round > 2 && pass_sent >= last_pass_sent / 10 * 9 && pass_sent > 0) {
            if (converge && vm->throttle_pct < THROTTLE_MAX) {
                unsigned pct = vm->throttle_pct ? vm->throttle_pct + THROTTLE_STEP : THROTTLE_INITIAL;
                vm_set_throttle(vm, pct < THROTTLE_MAX ? pct : THROTTLE_MAX);
                host_mutex_lock(m->lock);
                m->stats.throttle_pct = vm->throttle_pct;
                host_mutex_unlock(m->lock);
                log_info("migrate", "round %u: %llu dirty pages; throttling vCPUs to %u%%",
                         rs.round, (unsigned long long)pass_sent, vm->throttle_pct);
                stuck_rounds = 0;
            } else if (++stuck_rounds > 10) {
                host_mutex_lock(m->lock);
                uint64_t rate = m->stats.dirty_rate;
                host_mutex_unlock(m->lock);
                rc = err_set(-ETIMEDOUT,
                             "did not converge: the guest dirties %llu pages/s, faster than "
                             "the link carries them (%llu MB/s)%s",
                             (unsigned long long)rate, (unsigned long long)(bw / 1000000u),
                             converge ? " even with the vCPUs throttled" : "");
                goto out;
            }
        }
        last_pass_sent = pass_sent;
        pass_sent = 0;
    }

    /* Stop and copy: unpaced (migrate_pace), as QEMU's completion lifts
     * its rate limit. */
    migrate_set_status(m, MIGRATE_STOPCOPY);
    pause_start = host_time_ns();
    if (vm->state == VM_STATE_RUNNING) {
        vm_pause(vm);
        *paused_by_us = true;
    }
    /* The guest may have ended just before the pause: then there is no VM
     * to hand over. */
    if ((rc = migrate_check_stop(m)) < 0)
        goto out;
    rs.round++;
    /* The last read: what was written between the decision and the pause
     * joins the pages the decision left pending, and all of it goes. */
    uint64_t found_last = 0, left = 0, sent_last = 0;
    bool wrapped_last = false;
    cur.region = 0;
    cur.page = 0;
    if ((rc = migrate_sync(m, pending, scratch, &found_last, &left)) < 0 ||
        (rc = migrate_send_slice(m, &rs, pending, &cur, UINT64_MAX, &sent_last,
                                 &wrapped_last)) < 0)
        goto out;
    if ((rc = machine_put_state(&w, vm)) < 0)
        goto out;
    ended = true; /* from here on, a failure goes out as a FAIL token */
    if ((rc = stream_put_end(&w)) < 0)
        goto out;
    migrate_update(m, &rs, &w, start);
    if ((rc = token_expect(ch, TOKEN_LOADED, HANDSHAKE_TIMEOUT_MS, false)) < 0)
        goto out;
    if ((rc = migrate_commit_check(m)) < 0)
        goto out;
    /* The point of no return: once GO is out, the VM belongs to the
     * destination and this side never runs it again. */
    if ((rc = token_send(ch, TOKEN_GO)) < 0)
        goto out;
    *committed = true;
    if (token_expect(ch, TOKEN_RUNNING, HANDSHAKE_TIMEOUT_MS, false) < 0)
        log_warn("migrate", "the destination did not confirm that it runs the VM: %s",
                 err_msg());
    host_mutex_lock(m->lock);
    m->stats.downtime_ns = host_time_ns() - pause_start;
    host_mutex_unlock(m->lock);
    rc = 0;
out:
    if (rc < 0 && !*committed) {
        char msg[400];
        *abort_reason = migrate_abort_reason(m, rc);
        snprintf(msg, sizeof(msg), "%s", err_msg());
        /* Tell the destination why (best effort): inside the stream, an
         * abort record; after its end marker, a FAIL token. */
        if (!ended ? stream_put_abort(&w, *abort_reason, msg) < 0
                   : token_send_fail(ch, msg) < 0)
            log_info("migrate", "could not tell the destination why: %s", err_msg());
        err_set(rc, "%s", msg);
    }
    if (vm->throttle_pct)
        vm_set_throttle(vm, 0);
    if (!*committed && migrate_dirty_logging(vm, false) < 0)
        log_warn("migrate", "cannot stop dirty logging: %s", err_msg());
    migrate_update(m, &rs, &w, start);
    m->rs = NULL;
    for (unsigned i = 0; i < GMEM_MAX_REGIONS; i++)
        free(pending[i]);
    free(scratch);
    ram_sender_free(&rs);
    stream_writer_free(&w);
    return rc;
}

/* ---- the watchdog: cancels and stalls ---- */

/* The migration thread sees a cancel between two sections and ends the
 * stream with an abort record, so that the destination can tell why. One
 * stuck in a send (the destination stopped reading: a hung process or
 * host) or in a wait for an answer cannot: CANCEL_GRACE_NS after the
 * cancel the channel goes down under it. A send that has not finished
 * after the stall-timeout parameter fails the migration the same way.
 * Neither happens once GO is on its way. */
#define CANCEL_GRACE_NS (500 * 1000 * 1000ull)
#define WATCH_PERIOD_NS (10 * 1000 * 1000ull)

static void migrate_watch(void *arg)
{
    struct migration *m = arg;
    bool shut = false;

    host_mutex_lock(m->lock);
    while (m->ch) {
        uint64_t now = host_time_ns(), stall = m->params.stall_timeout_ns;
        if (!shut && !m->committing) {
            if (m->cancel && now - m->cancel_at >= CANCEL_GRACE_NS) {
                log_info("migrate", "cancel: the stream is stuck; closing the connection");
                shut = true;
                transport_shutdown(m->ch);
            } else if (stall && m->send_since && now - m->send_since >= stall) {
                m->stalled = true;
                shut = true;
                transport_shutdown(m->ch);
            }
        }
        /* woken at once when the stream ends (migrate_thread) */
        host_cond_wait_until(m->watch_cond, m->lock, now + WATCH_PERIOD_NS);
    }
    host_mutex_unlock(m->lock);
}

static void migrate_thread(void *arg)
{
    struct migration *m = arg;
    struct vm *vm = m->vm;
    struct channel ch;
    bool paused_by_us = false, committed = false;
    uint32_t why = STREAM_ABORT_FAILED;
    int rc;

    rc = transport_connect(m->uri, &ch);
    if (rc == 0) {
        /* the channel the migration thread uses: each send timed */
        struct timed_channel tc = {&ch, m->lock, &m->send_since, false};
        struct channel wch;
        struct host_thread *watch = NULL;
        timed_channel(&wch, &tc);
        host_mutex_lock(m->lock);
        m->ch = &ch;
        host_mutex_unlock(m->lock);
        if (host_cond_create(&m->watch_cond) < 0 ||
            host_thread_create(&watch, migrate_watch, m, "roam-migrate-watch") < 0) {
            watch = NULL; /* cancels still work between sections */
            log_warn("migrate", "no watchdog: %s", err_msg());
        }
        rc = migrate_outgoing(m, &wch, &paused_by_us, &committed, &why);
        host_mutex_lock(m->lock);
        m->ch = NULL;
        if (m->watch_cond)
            host_cond_signal(m->watch_cond);
        host_mutex_unlock(m->lock);
        if (watch)
            host_thread_join(watch); /* it sees ch gone and ends */
        if (m->watch_cond)
            host_cond_destroy(m->watch_cond);
        m->watch_cond = NULL;
        ch.close(ch.opaque);
    } else if (migrate_vm_stopped(vm, NULL, 0)) {
        why = migrate_abort_reason(m, rc);
    }
    host_mutex_lock(m->lock);
    if (committed) {
        m->stats.status = MIGRATE_COMPLETED;
    } else {
        m->stats.status = why == STREAM_ABORT_FAILED ? MIGRATE_FAILED : MIGRATE_CANCELLED;
        m->stats.vm_stopped = why == STREAM_ABORT_VM_STOPPED;
        snprintf(m->stats.error, sizeof(m->stats.error), "%s", err_msg());
    }
    m->active = false;
    m->committing = false;
    host_mutex_unlock(m->lock);
    if (committed) {
        char reason[600];
        snprintf(reason, sizeof(reason), "migrated to %s", m->uri);
        log_info("migrate", "%s", reason);
        vm_request_stop(vm, VM_STATUS_OK, reason);
    } else if (why == STREAM_ABORT_VM_STOPPED) {
        /* Nothing to resume: the VM ends here as its guest did. */
        log_warn("migrate", "migration to %s abandoned: %s", m->uri, m->stats.error);
    } else {
        log_warn("migrate", "migration to %s %s: %s; the VM keeps running here", m->uri,
                 why == STREAM_ABORT_CANCELLED ? "cancelled" : "failed", m->stats.error);
        if (paused_by_us)
            vm_resume(vm);
    }
}

int migrate_start(struct vm *vm, const char *uri, const struct migrate_params *p)
{
    struct migration *m = NULL;
    int rc;

    if ((rc = transport_check_uri(uri)) < 0)
        return rc;
    if (strncmp(uri, "file:", 5) == 0)
        return err_set(-EINVAL, "migrate to a file is a snapshot: use snapshot-save");
    if ((rc = migrate_get(vm, &m)) < 0)
        return rc;
    host_mutex_lock(m->lock);
    if (m->active) {
        host_mutex_unlock(m->lock);
        return err_set(-EBUSY, "a migration is already running");
    }
    host_mutex_unlock(m->lock);
    if (vm->state == VM_STATE_STOPPED || vm->stop_requested)
        return err_set(-EINVAL, "the VM has stopped");
    if (m->thread) {
        host_thread_join(m->thread);
        m->thread = NULL;
    }
    host_mutex_lock(m->lock);
    if (p)
        m->params = *p;
    memset(&m->stats, 0, sizeof(m->stats));
    m->stats.status = MIGRATE_SETUP;
    m->cancel = false;
    m->committing = false;
    m->stalled = false;
    m->send_since = m->cancel_at = 0;
    m->active = true;
    snprintf(m->uri, sizeof(m->uri), "%s", uri);
    host_mutex_unlock(m->lock);
    rc = host_thread_create(&m->thread, migrate_thread, m, "roam-migrate");
    if (rc < 0) {
        host_mutex_lock(m->lock);
        m->active = false;
        m->stats.status = MIGRATE_FAILED;
        host_mutex_unlock(m->lock);
    }
    return rc;
}

bool migrate_running(struct vm *vm)
{
    struct migration *m = vm->mig;
    bool active = false;

    if (m) {
        host_mutex_lock(m->lock);
        active = m->active;
        host_mutex_unlock(m->lock);
    }
    return active;
}

int migrate_cancel(struct vm *vm)
{
    struct migration *m = vm->mig;

    if (!m || !m->active)
        return err_set(-EINVAL, "no migration is running");
    host_mutex_lock(m->lock);
    migrate_cancel_locked(m);
    host_mutex_unlock(m->lock);
    return 0;
}

void migrate_query(struct vm *vm, struct migrate_stats *out)
{
    struct migration *m = vm->mig;
    char why[sizeof(vm->stop_reason)];
    bool stopped;

    memset(out, 0, sizeof(*out));
    if (!m)
        return;
    /* Before m->lock: the migration thread takes vm->lock, then m->lock. */
    stopped = migrate_vm_stopped(vm, why, sizeof(why));
    host_mutex_lock(m->lock);
    *out = m->stats;
    /* The VM stopped under a running migration (its guest ended): the
     * migration can only end like this, so say so now. The control
     * socket's last words come before the migration thread has noticed. */
    if (stopped && m->active && !m->committing) {
        out->status = MIGRATE_CANCELLED;
        out->vm_stopped = true;
        snprintf(out->error, sizeof(out->error),
                 "the VM stopped at the source before the migration finished (%s)", why);
    }
    host_mutex_unlock(m->lock);
}

int migrate_set_params(struct vm *vm, const struct migrate_params *p)
{
    struct migration *m = NULL;
    int rc;

    if ((rc = migrate_get(vm, &m)) < 0)
        return rc;
    host_mutex_lock(m->lock);
    m->params = *p;
    host_mutex_unlock(m->lock);
    return 0;
}

bool migrate_get_params(struct vm *vm, struct migrate_params *p)
{
    struct migration *m = vm->mig;

    if (!m) {
        migrate_params_default(p);
        return false;
    }
    host_mutex_lock(m->lock);
    *p = m->params;
    host_mutex_unlock(m->lock);
    return true;
}
