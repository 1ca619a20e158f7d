/* The migration stream's framing (docs/migration-format.md, "Framing"):
 * little-endian integers, the header, section headers and the end marker
 * with its CRC-32C. The writer buffers; the reader reads ahead only what
 * the stream must hold (the channel may carry a control exchange after the
 * end marker): the rest of a section header once its first two bytes are
 * in, the rest of a small section's payload. It never trusts a length:
 * skipping goes in bounded chunks, so a corrupt length ends in "stream
 * ended early", not in a huge allocation. */
#include "migrate/stream.h"

#include <stdlib.h>
#include <string.h>

#define STREAM_BUF_SIZE (64u * 1024u)
#define STREAM_SKIP_CHUNK 4096u

/* ---- writer ---- */

void stream_writer_init(struct stream_writer *w, struct channel *ch)
{
    memset(w, 0, sizeof(*w));
    w->ch = ch;
    w->buf = malloc(STREAM_BUF_SIZE);
    /* Without a buffer every put goes straight to the channel. */
    w->cap = w->buf ? STREAM_BUF_SIZE : 0;
}

void stream_writer_free(struct stream_writer *w)
{
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

static void writer_send(struct stream_writer *w, const void *p, size_t len)
{
    if (w->error || len == 0)
        return;
    int rc = w->ch->write(w->ch->opaque, p, len);
    if (rc < 0) {
        w->broken = true;
        w->error = err_wrap(rc, "writing the migration stream to %s at byte %llu",
                            w->ch->name ? w->ch->name : "the channel",
                            (unsigned long long)(w->bytes - w->len));
    }
}

int stream_flush(struct stream_writer *w)
{
    if (!w->error && w->len) {
        size_t n = w->len;
        writer_send(w, w->buf, n);
        w->len = 0;
    }
    /* After another error (a cancel) the buffer keeps its whole sections:
     * stream_put_abort sends them before its record. */
    if (w->broken)
        w->len = 0;
    return w->error;
}

/* Appends without touching the CRC (the CRC itself goes through here). */
static void writer_raw(struct stream_writer *w, const void *p, size_t len)
{
    if (w->error)
        return;
    if (w->len + len > w->cap && stream_flush(w) < 0)
        return;
    if (len <= w->cap - w->len) {
        memcpy(w->buf + w->len, p, len);
        w->len += len;
    } else {
        writer_send(w, p, len); /* larger than the whole buffer */
    }
    w->bytes += len;
}

void stream_put_bytes(struct stream_writer *w, const void *p, size_t len)
{
    if (w->error || len == 0)
        return;
    w->crc = crc32c(w->crc, p, len);
    writer_raw(w, p, len);
}

void stream_put_u8(struct stream_writer *w, uint8_t v)
{
    stream_put_bytes(w, &v, 1);
}

void stream_put_u16(struct stream_writer *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    stream_put_bytes(w, b, sizeof(b));
}

void stream_put_u32(struct stream_writer *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    stream_put_bytes(w, b, sizeof(b));
}

void stream_put_u64(struct stream_writer *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    stream_put_bytes(w, b, sizeof(b));
}

void stream_put_header(struct stream_writer *w)
{
    stream_put_bytes(w, STREAM_MAGIC, 8);
    stream_put_u32(w, STREAM_FORMAT_VERSION);
}

void stream_put_section(struct stream_writer *w, uint8_t tag, const char *name, uint32_t instance,
                        uint32_t version, uint64_t length)
{
    size_t n = name ? strlen(name) : 0;
    if (w->error)
        return;
    if (n > STREAM_NAME_MAX) {
        w->error = err_set(-EINVAL, "section name '%.80s' is %zu bytes, over the limit of %d",
                           name, n, STREAM_NAME_MAX);
        return;
    }
    stream_put_u8(w, tag);
    stream_put_u8(w, (uint8_t)n);
    stream_put_bytes(w, name, n);
    stream_put_u32(w, instance);
    stream_put_u32(w, version);
    stream_put_u64(w, length);
    if (!w->error)
        w->sec_end = w->bytes + length;
}

int stream_put_end(struct stream_writer *w)
{
    stream_put_u8(w, STREAM_SEC_END);
    uint32_t crc = w->crc;
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(crc >> (8 * i));
    writer_raw(w, b, sizeof(b));
    return stream_flush(w);
}

const char *stream_abort_reason_name(uint32_t reason)
{
    switch (reason) {
    case STREAM_ABORT_FAILED:
        return "failed";
    case STREAM_ABORT_CANCELLED:
        return "cancelled";
    case STREAM_ABORT_VM_STOPPED:
        return "vm-stopped";
    default:
        return "unknown";
    }
}

int stream_put_abort(struct stream_writer *w, uint32_t reason, const char *msg)
{
    size_t n = msg ? strlen(msg) : 0;

    if (w->broken)
        return w->error;
    if (w->bytes < w->sec_end)
        return err_set(-EPROTO, "cannot end the stream inside a section (at byte %llu, the "
                                "section ends at byte %llu)",
                       (unsigned long long)w->bytes, (unsigned long long)w->sec_end);
    /* A cancel stops the writer between sections: what it holds is whole
     * sections, and the CRC already covers them. */
    w->error = 0;
    if (w->bytes == 0)
        stream_put_header(w);
    if (n > STREAM_ABORT_MSG_MAX) {
        n = STREAM_ABORT_MSG_MAX;
        while (n > 0 && ((uint8_t)msg[n] & 0xc0) == 0x80)
            n--; /* do not cut a UTF-8 sequence */
    }
    stream_put_section(w, STREAM_SEC_ABORT, STREAM_ABORT_NAME, 0, STREAM_ABORT_VERSION,
                       7 + 4 + 7 + n);
    stream_put_u16(w, 1);
    stream_put_u8(w, (uint8_t)(STREAM_T_U32 | STREAM_T_MUST));
    stream_put_u32(w, 4);
    stream_put_u32(w, reason);
    stream_put_u16(w, 2);
    stream_put_u8(w, (uint8_t)(STREAM_T_STRING | STREAM_T_MUST));
    stream_put_u32(w, (uint32_t)n);
    stream_put_bytes(w, msg, n);
    return stream_put_end(w);
}

/* ---- reader ---- */

void stream_reader_init(struct stream_reader *r, struct channel *ch)
{
    memset(r, 0, sizeof(*r));
    r->ch = ch;
}

static int reader_fail(struct stream_reader *r, int rc, uint64_t at)
{
    const char *from = r->ch->name ? r->ch->name : "the channel";
    if (rc == -EPIPE)
        err_wrap(rc, "stream ended early at byte %llu of %s (peer closed or file truncated)",
                 (unsigned long long)at, from);
    else
        err_wrap(rc, "reading the migration stream from %s at byte %llu", from,
                 (unsigned long long)at);
    r->error = rc;
    return rc;
}

/* Makes want bytes (at most STREAM_AHEAD_MAX) ready to consume, reading
 * exactly the missing ones from the channel. */
static int reader_fill(struct stream_reader *r, size_t want)
{
    size_t have = r->ahead_len - r->ahead_pos;
    if (have >= want)
        return 0;
    if (r->ahead_pos + want > sizeof(r->ahead)) {
        memmove(r->ahead, r->ahead + r->ahead_pos, have);
        r->ahead_pos = 0;
        r->ahead_len = have;
    }
    int rc = r->ch->read(r->ch->opaque, r->ahead + r->ahead_len, want - have);
    if (rc < 0)
        return reader_fail(r, rc, r->bytes + have);
    r->ahead_len += want - have;
    return 0;
}

/* The rest of the current section (the buffer is empty): as much of it as
 * the channel gives. A stream that ends inside it keeps what came, so the
 * read that runs out names the field it was for. */
static void reader_fill_section(struct stream_reader *r)
{
    size_t want = (size_t)(r->sec_end - r->bytes);

    r->ahead_pos = r->ahead_len = 0;
    while (r->ahead_len < want) {
        int n = r->ch->read_some(r->ch->opaque, r->ahead + r->ahead_len, want - r->ahead_len, -1);
        if (n < 0) {
            r->sec_end = 0; /* the plain reads below meet the error again */
            return;
        }
        r->ahead_len += (size_t)n;
    }
}

/* Reads exactly len bytes; the CRC is the caller's business. */
static int reader_raw(struct stream_reader *r, void *p, size_t len)
{
    uint8_t *out = p;

    if (r->error)
        return r->error;
    if (len == 0)
        return 0;
    /* Inside a small section: the rest of it in one read. */
    if (r->ahead_pos == r->ahead_len && r->bytes < r->sec_end &&
        r->sec_end - r->bytes <= sizeof(r->ahead))
        reader_fill_section(r);
    size_t have = r->ahead_len - r->ahead_pos;
    if (have) {
        size_t n = have < len ? have : len;
        memcpy(out, r->ahead + r->ahead_pos, n);
        r->ahead_pos += n;
        r->bytes += n;
        out += n;
        len -= n;
        if (!len)
            return 0;
    }
    int rc = r->ch->read(r->ch->opaque, out, len);
    if (rc < 0)
        return reader_fail(r, rc, r->bytes);
    r->bytes += len;
    return 0;
}

int stream_get_bytes(struct stream_reader *r, void *p, size_t len)
{
    int rc = reader_raw(r, p, len);
    if (rc < 0)
        return rc;
    r->crc = crc32c(r->crc, p, len);
    return 0;
}

int stream_get_u8(struct stream_reader *r, uint8_t *v)
{
    return stream_get_bytes(r, v, 1);
}

int stream_get_u16(struct stream_reader *r, uint16_t *v)
{
    uint8_t b[2];
    int rc = stream_get_bytes(r, b, sizeof(b));
    if (rc < 0)
        return rc;
    *v = (uint16_t)(b[0] | (b[1] << 8));
    return 0;
}

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

int stream_get_u32(struct stream_reader *r, uint32_t *v)
{
    uint8_t b[4];
    int rc = stream_get_bytes(r, b, sizeof(b));
    if (rc < 0)
        return rc;
    *v = le32(b);
    return 0;
}

int stream_get_u64(struct stream_reader *r, uint64_t *v)
{
    uint8_t b[8];
    int rc = stream_get_bytes(r, b, sizeof(b));
    if (rc < 0)
        return rc;
    *v = le32(b) | (uint64_t)le32(b + 4) << 32;
    return 0;
}

int stream_skip(struct stream_reader *r, uint64_t len)
{
    uint8_t chunk[STREAM_SKIP_CHUNK];
    while (len) {
        size_t n = len < sizeof(chunk) ? (size_t)len : sizeof(chunk);
        int rc = stream_get_bytes(r, chunk, n);
        if (rc < 0)
            return rc;
        len -= n;
    }
    return 0;
}

int stream_get_header(struct stream_reader *r, uint32_t *version)
{
    char magic[8];
    uint32_t v;
    int rc = stream_get_bytes(r, magic, sizeof(magic));
    if (rc < 0)
        return rc;
    if (memcmp(magic, STREAM_MAGIC, sizeof(magic)) != 0)
        return r->error = err_set(-EPROTO, "not a roam migration stream (bad magic)");
    rc = stream_get_u32(r, &v);
    if (rc < 0)
        return rc;
    if (v == 0)
        return r->error = err_set(-EPROTO, "stream format version 0 is not valid");
    if (v > STREAM_FORMAT_VERSION)
        return r->error = err_set(-EPROTO,
                                  "stream format version %u is newer than this roam supports (%u)",
                                  (unsigned)v, (unsigned)STREAM_FORMAT_VERSION);
    if (version)
        *version = v;
    return 0;
}

int stream_get_section(struct stream_reader *r, struct stream_section *s)
{
    uint8_t tag, n;
    memset(s, 0, sizeof(*s));
    r->sec_end = 0;
    /* An end marker is 5 bytes, a section header 18 or more: the first two
     * come in one read, the rest of a header in another. */
    int rc = reader_fill(r, 2);
    if (rc < 0)
        return rc;
    rc = stream_get_u8(r, &tag);
    if (rc < 0)
        return rc;
    s->tag = tag;
    if (tag == STREAM_SEC_END) {
        uint8_t b[4];
        uint32_t want = r->crc;
        rc = reader_raw(r, b, sizeof(b));
        if (rc < 0)
            return rc;
        if (le32(b) != want)
            return r->error = err_set(-EBADMSG,
                                      "checksum mismatch: the stream is corrupt (CRC-32C "
                                      "0x%08x computed, 0x%08x in the stream)",
                                      (unsigned)want, (unsigned)le32(b));
        return 0;
    }
    rc = stream_get_u8(r, &n);
    if (rc < 0)
        return rc;
    if (n > STREAM_NAME_MAX)
        return r->error = err_set(-EPROTO,
                                  "section name length %u at byte %llu is over the limit of %d: "
                                  "the stream is corrupt",
                                  n, (unsigned long long)(r->bytes - 1), STREAM_NAME_MAX);
    if ((rc = reader_fill(r, n + 16u)) < 0)
        return rc;
    rc = stream_get_bytes(r, s->name, n);
    if (rc < 0)
        return rc;
    s->name[n] = 0;
    if (strlen(s->name) != n)
        return r->error = err_set(-EPROTO, "section name at byte %llu holds a NUL byte: "
                                           "the stream is corrupt",
                                  (unsigned long long)(r->bytes - n));
    if ((rc = stream_get_u32(r, &s->instance)) < 0 || (rc = stream_get_u32(r, &s->version)) < 0 ||
        (rc = stream_get_u64(r, &s->length)) < 0)
        return rc;
    /* A RAM section the RAM loader reads whole itself. Taking a section
     * ahead needs a channel that can give part of it (read_some): a stream
     * that ends inside it must keep what came. */
    if (tag != STREAM_SEC_RAM && s->length <= sizeof(r->ahead) && r->ch->read_some)
        r->sec_end = r->bytes + s->length;
    return 0;
}

int stream_get_abort(struct stream_reader *r, const struct stream_section *s,
                     struct stream_abort *a)
{
    uint64_t left = s->length;
    int rc;

    memset(a, 0, sizeof(*a));
    /* Any version: the record only informs, so a reader takes the fields
     * it knows and skips the rest. */
    while (left) {
        uint16_t id;
        uint8_t type;
        uint32_t len;
        if (left < 7)
            return r->error = err_set(-EBADMSG, "abort record: truncated field: the stream is "
                                                "corrupt");
        if ((rc = stream_get_u16(r, &id)) < 0 || (rc = stream_get_u8(r, &type)) < 0 ||
            (rc = stream_get_u32(r, &len)) < 0)
            return rc;
        left -= 7;
        if (len > left)
            return r->error = err_set(-EBADMSG, "abort record: field %u is longer than the "
                                                "record: the stream is corrupt", id);
        left -= len;
        uint8_t base = type & 0x7f;
        if (id == 1 && base == STREAM_T_U32 && len == 4) {
            rc = stream_get_u32(r, &a->reason);
        } else if (id == 2 && base == STREAM_T_STRING) {
            size_t n = len < STREAM_ABORT_MSG_MAX ? len : STREAM_ABORT_MSG_MAX;
            rc = stream_get_bytes(r, a->message, n);
            if (rc == 0)
                rc = stream_skip(r, len - n);
            a->message[n] = 0;
            for (size_t i = 0; i < n; i++)
                if ((uint8_t)a->message[i] < 0x20 || (uint8_t)a->message[i] > 0x7e)
                    a->message[i] = '?';
        } else if (id == 1 || id == 2) {
            return r->error = err_set(-EBADMSG, "abort record: field %u has the wrong type: "
                                                "the stream is corrupt", id);
        } else {
            rc = stream_skip(r, len);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}
