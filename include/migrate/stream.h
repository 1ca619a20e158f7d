/* The migration stream (docs/migration-format.md): a header, sections and an
 * end marker with a CRC-32C over every byte before it. This layer knows the
 * framing (integers are little-endian), not what the sections mean.
 *
 * Layout:
 *   header:  magic "ROAMSTRM" (8 bytes), u32 format version
 *   section: u8 tag, u8 name length, name bytes, u32 instance id,
 *            u32 section version, u64 payload length, payload
 *   end:     tag STREAM_SEC_END, then u32 CRC-32C of all bytes before it
 *   abort:   a writer that gives a stream up after it started writes an
 *            ABORT section (why, as TLV fields) and then the end marker
 * A RAM section's payload is a sequence of page records (see ram.h); a
 * device or CPU section's payload is a sequence of TLV fields:
 *   field:   u16 id, u8 type (bit 7: "must understand"), u32 length, value */
#ifndef ROAM_MIGRATE_STREAM_H
#define ROAM_MIGRATE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "migrate/channel.h"

#define STREAM_MAGIC "ROAMSTRM"
#define STREAM_FORMAT_VERSION 1u
#define STREAM_NAME_MAX 63

enum stream_section_tag {
    STREAM_SEC_CONFIG = 1, /* the machine config (always first) */
    STREAM_SEC_RAM = 2,    /* one RAM round (may repeat) */
    STREAM_SEC_DEVICE = 3, /* one device's state */
    STREAM_SEC_CPU = 4,    /* one vCPU's state */
    STREAM_SEC_SYNC = 5,   /* asks the reader for a read receipt (live, when agreed) */
    STREAM_SEC_ABORT = 0xfe, /* the writer gave the stream up; END follows */
    STREAM_SEC_END = 0xff,
};

/* The SYNC section: name "sync", instance = a sequence number, version 1,
 * no payload. */
#define STREAM_SYNC_NAME "sync"
#define STREAM_SYNC_VERSION 1u

/* The ABORT section (docs/migration-format.md, "The abort record"): name
 * "abort", instance 0, version 1; field 1 reason (u32, enum below), field 2
 * message (string, at most STREAM_ABORT_MSG_MAX bytes). */
#define STREAM_ABORT_NAME "abort"
#define STREAM_ABORT_VERSION 1u
#define STREAM_ABORT_MSG_MAX 255
enum stream_abort_reason {
    STREAM_ABORT_FAILED = 1,     /* an error on the writer's side */
    STREAM_ABORT_CANCELLED = 2,  /* cancelled on request (migrate-cancel) */
    STREAM_ABORT_VM_STOPPED = 3, /* the source VM stopped: its guest ended, or quit */
};

struct stream_abort {
    uint32_t reason; /* enum stream_abort_reason; 0 if the record had none */
    char message[STREAM_ABORT_MSG_MAX + 1]; /* printable ASCII; others become '?' */
};

/* Field types. The low 7 bits say how to read the value (a reader that
 * does not know the field can still print it); bit 7 marks a field that a
 * reader must understand: an unknown field with it set is an error. */
enum stream_field_type {
    STREAM_T_U8 = 1,
    STREAM_T_U16 = 2,
    STREAM_T_U32 = 3,
    STREAM_T_U64 = 4,
    STREAM_T_BYTES = 5,    /* opaque bytes */
    STREAM_T_STRING = 6,   /* UTF-8, not NUL-terminated */
    STREAM_T_U32_ARRAY = 7,
    STREAM_T_U64_ARRAY = 8,
    STREAM_T_STRUCT = 9,   /* nested TLV fields (a subsection) */
};
#define STREAM_T_MUST 0x80u

struct stream_writer {
    struct channel *ch;
    uint32_t crc;
    uint64_t bytes;     /* total bytes written */
    uint8_t *buf;       /* output buffering */
    size_t len, cap;
    int error;          /* first error; later writes are no-ops */
    bool broken;        /* the channel failed: nothing more can be sent */
    uint64_t sec_end;   /* where the current section's payload ends (bytes) */
};

/* A section payload of up to this many bytes (other than RAM, whose loader
 * reads it whole itself) is read from the channel in one go. */
#define STREAM_AHEAD_MAX (16u * 1024u)

struct stream_reader {
    struct channel *ch;
    uint32_t crc;
    uint64_t bytes;     /* bytes consumed */
    int error;
    /* Read from the channel, not yet consumed: never more than the stream
     * is known to hold from where it stands (the rest of a section header,
     * the rest of the current section), so nothing after the end marker
     * is taken from the channel. */
    uint64_t sec_end;   /* where the current section's payload ends */
    size_t ahead_pos, ahead_len;
    uint8_t ahead[STREAM_AHEAD_MAX];
};

/* A section as read. */
struct stream_section {
    uint8_t tag;
    char name[STREAM_NAME_MAX + 1];
    uint32_t instance;
    uint32_t version;
    uint64_t length;
};

void stream_writer_init(struct stream_writer *w, struct channel *ch);
void stream_writer_free(struct stream_writer *w);
void stream_put_u8(struct stream_writer *w, uint8_t v);
void stream_put_u16(struct stream_writer *w, uint16_t v);
void stream_put_u32(struct stream_writer *w, uint32_t v);
void stream_put_u64(struct stream_writer *w, uint64_t v);
void stream_put_bytes(struct stream_writer *w, const void *p, size_t len);
MUST_CHECK int stream_flush(struct stream_writer *w);
void stream_put_header(struct stream_writer *w);
void stream_put_section(struct stream_writer *w, uint8_t tag, const char *name, uint32_t instance,
                        uint32_t version, uint64_t length);
/* Writes the end marker and the CRC, and flushes. */
MUST_CHECK int stream_put_end(struct stream_writer *w);
/* Gives the stream up: writes an ABORT section with reason and message
 * (cut to STREAM_ABORT_MSG_MAX bytes), then the end marker, and flushes,
 * so that the reader can tell a cancel from a broken stream. It first
 * clears a sticky error that did not come from the channel (a cancel) and
 * flushes what is buffered; it writes the header first if nothing went out
 * yet. It fails when the channel has failed or when the writer stands in
 * the middle of a section (the record would not be found there). */
MUST_CHECK int stream_put_abort(struct stream_writer *w, uint32_t reason, const char *msg);

void stream_reader_init(struct stream_reader *r, struct channel *ch);
MUST_CHECK int stream_get_u8(struct stream_reader *r, uint8_t *v);
MUST_CHECK int stream_get_u16(struct stream_reader *r, uint16_t *v);
MUST_CHECK int stream_get_u32(struct stream_reader *r, uint32_t *v);
MUST_CHECK int stream_get_u64(struct stream_reader *r, uint64_t *v);
MUST_CHECK int stream_get_bytes(struct stream_reader *r, void *p, size_t len);
MUST_CHECK int stream_skip(struct stream_reader *r, uint64_t len);
/* Reads and checks the magic and version ("not a roam stream", "format
 * version N is newer than this roam's M"). */
MUST_CHECK int stream_get_header(struct stream_reader *r, uint32_t *version);
/* Reads a section header; for STREAM_SEC_END it also reads and checks the
 * CRC and returns -EBADMSG ("checksum mismatch") if it is wrong. */
MUST_CHECK int stream_get_section(struct stream_reader *r, struct stream_section *s);
/* Reads the payload of an ABORT section s (whose header was just read).
 * Unknown fields are skipped; the message is cut to fit. The caller then
 * reads the end marker that follows and so checks the CRC. */
MUST_CHECK int stream_get_abort(struct stream_reader *r, const struct stream_section *s,
                                struct stream_abort *a);
/* "failed", "cancelled", "vm-stopped" or "unknown". */
const char *stream_abort_reason_name(uint32_t reason);

/* CRC-32C (Castagnoli), as used by the end marker. */
uint32_t crc32c(uint32_t crc, const void *p, size_t len);
/* The table-driven implementation (what crc32c uses without SSE4.2). */
uint32_t crc32c_portable(uint32_t crc, const void *p, size_t len);

#endif
