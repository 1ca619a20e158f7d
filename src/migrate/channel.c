/* The in-memory channel (migrate/channel.h): writes append to a growable
 * buffer, reads consume it from pos. Used by tests and to save state into
 * memory; the OS-backed channels live in migrate/transport.c. */
#include "migrate/channel.h"

#include <stdlib.h>
#include <string.h>

#include "host/host.h"

static int membuf_write(void *opaque, const void *buf, size_t len)
{
    struct membuf *mb = opaque;
    if (len > SIZE_MAX - mb->len)
        return err_set(-ENOMEM, "membuf: %zu more bytes would overflow the buffer", len);
    if (mb->len + len > mb->cap) {
        size_t cap = mb->cap ? mb->cap : 4096;
        while (cap < mb->len + len)
            cap = cap > SIZE_MAX / 2 ? mb->len + len : cap * 2;
        uint8_t *p = realloc(mb->data, cap);
        if (!p)
            return err_set(-ENOMEM, "membuf: out of memory growing to %zu bytes", cap);
        mb->data = p;
        mb->cap = cap;
    }
    if (len)
        memcpy(mb->data + mb->len, buf, len);
    mb->len += len;
    return 0;
}

static int membuf_read(void *opaque, void *buf, size_t len)
{
    struct membuf *mb = opaque;
    size_t left = mb->len - mb->pos;
    if (len > left)
        return err_set(-EPIPE,
                       "membuf: the stream ends after %zu bytes (%zu more wanted, %zu left)",
                       mb->len, len, left);
    if (len)
        memcpy(buf, mb->data + mb->pos, len);
    mb->pos += len;
    return 0;
}

static int membuf_read_some(void *opaque, void *buf, size_t len, int timeout_ms)
{
    struct membuf *mb = opaque;
    size_t left = mb->len - mb->pos;
    if (len == 0)
        return 0;
    if (left == 0)
        return err_set(-EPIPE, "membuf: the stream ends after %zu bytes", mb->len);
    if (len > left)
        len = left;
    if (len > (size_t)INT32_MAX)
        len = (size_t)INT32_MAX;
    memcpy(buf, mb->data + mb->pos, len);
    mb->pos += len;
    return (int)len;
}

static void membuf_close(void *opaque)
{
}

void membuf_channel(struct channel *ch, struct membuf *mb)
{
    ch->write = membuf_write;
    ch->read = membuf_read;
    ch->read_some = membuf_read_some;
    ch->unread = NULL;
    ch->close = membuf_close;
    ch->opaque = mb;
    ch->name = "membuf";
}

void membuf_free(struct membuf *mb)
{
    free(mb->data);
    mb->data = NULL;
    mb->len = mb->cap = mb->pos = 0;
}

/* ---- timed channel ---- */

static void timed_mark(struct timed_channel *tc, uint64_t t)
{
    host_mutex_lock(tc->lock);
    *tc->since = t;
    host_mutex_unlock(tc->lock);
}

static int timed_write(void *opaque, const void *buf, size_t len)
{
    struct timed_channel *tc = opaque;
    const struct channel *in = tc->inner;
    if (tc->reads)
        return in->write(in->opaque, buf, len);
    timed_mark(tc, host_time_ns());
    int rc = in->write(in->opaque, buf, len);
    timed_mark(tc, 0);
    return rc;
}

static int timed_read(void *opaque, void *buf, size_t len)
{
    struct timed_channel *tc = opaque;
    const struct channel *in = tc->inner;
    if (!tc->reads)
        return in->read(in->opaque, buf, len);
    timed_mark(tc, host_time_ns());
    int rc = in->read(in->opaque, buf, len);
    timed_mark(tc, 0);
    return rc;
}

static int timed_read_some(void *opaque, void *buf, size_t len, int timeout_ms)
{
    const struct channel *in = ((struct timed_channel *)opaque)->inner;
    return in->read_some(in->opaque, buf, len, timeout_ms);
}

static int timed_unread(void *opaque, size_t *bytes)
{
    const struct channel *in = ((struct timed_channel *)opaque)->inner;
    return in->unread(in->opaque, bytes);
}

void timed_channel(struct channel *ch, struct timed_channel *tc)
{
    memset(ch, 0, sizeof(*ch));
    ch->write = timed_write;
    ch->read = timed_read;
    ch->read_some = tc->inner->read_some ? timed_read_some : NULL;
    ch->unread = tc->inner->unread ? timed_unread : NULL;
    ch->opaque = tc;
    ch->name = tc->inner->name;
}
