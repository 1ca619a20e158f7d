/* Live migration and snapshots of a running VM (DESIGN.md, "Migration";
 * docs/migration-format.md). Outgoing migration runs in its own thread and
 * is driven through the control socket; incoming migration loads a stream
 * into a freshly created, not yet started VM. */
#ifndef ROAM_MIGRATE_MIGRATE_H
#define ROAM_MIGRATE_MIGRATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/vm.h"

enum migrate_status {
    MIGRATE_NONE,      /* no migration has run */
    MIGRATE_SETUP,
    MIGRATE_ACTIVE,    /* pre-copy rounds */
    MIGRATE_STOPCOPY,  /* VM paused, sending the rest */
    MIGRATE_COMPLETED, /* the destination runs the VM; the source stops */
    MIGRATE_FAILED,    /* the source VM runs on */
    MIGRATE_CANCELLED, /* the source VM runs on */
};

struct migrate_params {
    uint64_t downtime_limit_ns; /* target for stop-and-copy (default 50 ms) */
    uint64_t bandwidth_bps;     /* bytes per second, 0 = unlimited */
    bool auto_converge;         /* throttle vCPUs when dirtying outruns the link */
    uint64_t stall_timeout_ns;  /* a send that takes longer fails the migration; 0 = never */
};
#define MIGRATE_STALL_TIMEOUT_MS 60000u      /* the default */
#define MIGRATE_STALL_TIMEOUT_MAX_MS 3600000u

struct migrate_stats {
    enum migrate_status status;
    uint64_t total_ns;        /* start to completion (or to now) */
    uint64_t downtime_ns;     /* VM paused at the source until the destination ran */
    uint64_t bytes;           /* stream bytes sent */
    uint64_t pages;           /* full pages sent */
    uint64_t zero_pages;      /* pages sent as zero markers */
    uint64_t rounds;          /* RAM rounds, the first full pass included */
    uint64_t dirty_rate;      /* pages dirtied per second, between dirty-log reads */
    uint64_t remaining_pages; /* dirty pages still to send */
    uint64_t bandwidth_Bps;   /* measured */
    unsigned throttle_pct;    /* auto-converge: share of time vCPUs are held */
    char error[256];          /* why it failed, when it did */
    bool vm_stopped;          /* it failed because the source VM stopped: nothing runs on */
};

const char *migrate_status_name(enum migrate_status s);
void migrate_params_default(struct migrate_params *p);

/* Starts an outgoing migration to uri (tcp:, unix:, fd:) in a thread. */
MUST_CHECK int migrate_start(struct vm *vm, const char *uri, const struct migrate_params *p);
/* Cancels a running migration; the source VM keeps running. */
MUST_CHECK int migrate_cancel(struct vm *vm);
void migrate_query(struct vm *vm, struct migrate_stats *out);
MUST_CHECK int migrate_set_params(struct vm *vm, const struct migrate_params *p);
/* The current parameters (defaults if none were set); returns whether set. */
bool migrate_get_params(struct vm *vm, struct migrate_params *p);
/* Cancels and joins a running migration and frees its state (before
 * vm_destroy). */
void migrate_cleanup(struct vm *vm);
/* Saves the whole VM to a file (file:PATH or a plain path) with the VM
 * paused for the duration; the VM then runs on as it was (paused or not). */
MUST_CHECK int snapshot_save(struct vm *vm, const char *path);
/* The stall-timeout parameter in force, in ns (0: none); an incoming
 * stream is held to it too. Safe from any thread. */
uint64_t migrate_stall_timeout_ns(struct vm *vm);
/* Whether an outgoing migration is under way. */
bool migrate_running(struct vm *vm);
/* Loads a stream from uri into vm, which was created with the same config
 * and not started. Checks the machine config first and names what differs.
 * On success the VM has been started (vm_start(): paused if its config
 * says so); on failure it never ran. */
MUST_CHECK int migrate_incoming(struct vm *vm, const char *uri);

#endif
