/* A migration channel: a reliable byte stream (TCP or unix socket, a file,
 * an inherited fd) behind three callbacks, so the stream code never sees an
 * OS handle. Built by migrate/transport.c from a URI. */
#ifndef ROAM_MIGRATE_CHANNEL_H
#define ROAM_MIGRATE_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct channel {
    /* Writes all len bytes or fails (negative code, err_set message). */
    int (*write)(void *opaque, const void *buf, size_t len);
    /* Reads exactly len bytes or fails; end of stream before len bytes is
     * -EPIPE with a message saying the peer closed the stream. */
    int (*read)(void *opaque, void *buf, size_t len);
    /* Reads up to len bytes, waiting at most timeout_ms (-1: forever).
     * Returns the byte count, 0 on timeout, or a negative code (end of
     * stream: -EPIPE). Used for the control handshake. May be NULL. */
    int (*read_some)(void *opaque, void *buf, size_t len, int timeout_ms);
    /* Bytes written that the peer has not read yet; negative where the
     * channel cannot tell. May be NULL (cannot tell). */
    int (*unread)(void *opaque, size_t *bytes);
    void (*close)(void *opaque);
    void *opaque;
    const char *name; /* "tcp:127.0.0.1:4444", for messages */
};

/* In-memory channel for tests and for save-then-compare: writes append to a
 * growable buffer, reads consume it. */
struct membuf {
    uint8_t *data;
    size_t len, cap, pos;
};
void membuf_channel(struct channel *ch, struct membuf *mb);
void membuf_free(struct membuf *mb);

/* A channel that times its writes (or its stream reads) for a watchdog:
 * while one is under way, *since holds when it began, else 0, guarded by
 * lock. Every other call goes straight to inner; close is not passed on
 * (the owner closes inner). */
struct host_mutex;
struct timed_channel {
    const struct channel *inner;
    struct host_mutex *lock;
    uint64_t *since;
    bool reads; /* time read() instead of write() */
};
void timed_channel(struct channel *ch, struct timed_channel *tc);

#endif
