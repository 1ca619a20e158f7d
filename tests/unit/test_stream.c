/* migrate/stream: CRC-32C, little-endian integers through a membuf channel,
 * the writer's buffering, the header and section framing, the end marker's
 * checksum, and clean errors for every truncation and every bit flip of a
 * small valid stream; the abort record that ends a stream given up. */
#include <stdlib.h>

#include "migrate/dump.h"
#include "migrate/stream.h"
#include "migrate/vmstate.h"
#include "test.h"

static void crc_vectors(void)
{
    CHECK_EQ(crc32c(0, "123456789", 9), 0xe3069283u);
    CHECK_EQ(crc32c(0, "", 0), 0);
    /* chaining: the CRC of a then b is the CRC of ab */
    CHECK_EQ(crc32c(crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
    /* RFC 3720 B.4: 32 bytes of zeros, of ones, incrementing */
    uint8_t b[32];
    memset(b, 0, sizeof(b));
    CHECK_EQ(crc32c(0, b, sizeof(b)), 0x8a9136aau);
    memset(b, 0xff, sizeof(b));
    CHECK_EQ(crc32c(0, b, sizeof(b)), 0x62a8ab43u);
    for (unsigned i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)i;
    CHECK_EQ(crc32c(0, b, sizeof(b)), 0x46dd794eu);
    CHECK_EQ(crc32c_portable(0, b, sizeof(b)), 0x46dd794eu);
    CHECK_EQ(crc32c_portable(0, "123456789", 9), 0xe3069283u);
}

/* The fast path (SSE4.2 where the host has it) and the table agree on every
 * length and alignment. */
static void crc_paths_agree(void)
{
    uint8_t buf[600];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t off = 0; off < 9; off++)
        for (size_t len = 0; len + off <= sizeof(buf); len += 7)
            CHECK_EQ(crc32c(0x1234u, buf + off, len), crc32c_portable(0x1234u, buf + off, len));
}

/* Long buffers go as three interleaved streams whose CRCs are joined (blocks
 * of 8192 and of 256 bytes): every way a length splits into them agrees with
 * the table, and so does a section's worth of pages. */
static void crc_long_buffers(void)
{
    static uint8_t big[3 * 8192 * 2 + 3 * 256 * 3 + 64];
    static const size_t lens[] = {3 * 256 - 1, 3 * 256, 3 * 256 + 8, 3 * 8192 - 8, 3 * 8192,
                                  3 * 8192 + 1, 3 * 8192 + 3 * 256 + 13, 6 * 8192,
                                  sizeof(big) - 9};
    uint32_t x = 777;
    for (size_t i = 0; i < sizeof(big); i++) {
        x = x * 1103515245u + 12345u;
        big[i] = (uint8_t)(x >> 16);
    }
    for (size_t off = 0; off < 9; off += 3)
        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
            CHECK_EQ(crc32c(0xdeadbeefu, big + off, lens[i]),
                     crc32c_portable(0xdeadbeefu, big + off, lens[i]));
    memset(big, 0, sizeof(big));
    CHECK_EQ(crc32c(0, big, sizeof(big)), crc32c_portable(0, big, sizeof(big)));
    uint8_t *sec = malloc(64 * 4104);
    CHECK(sec != NULL);
    for (size_t i = 0; i < 64 * 4104; i++)
        sec[i] = (uint8_t)(i * 31 + (i >> 12));
    CHECK_EQ(crc32c(1, sec, 64 * 4104), crc32c_portable(1, sec, 64 * 4104));
    free(sec);
}

static void reader_on(struct stream_reader *r, struct channel *ch, struct membuf *mb)
{
    mb->pos = 0;
    membuf_channel(ch, mb);
    stream_reader_init(r, ch);
    err_clear();
}

static void integers(void)
{
    struct membuf mb = {0};
    struct channel ch;
    struct stream_writer w;
    struct stream_reader r;
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    char s[5];

    membuf_channel(&ch, &mb);
    stream_writer_init(&w, &ch);
    stream_put_u8(&w, 0xab);
    stream_put_u16(&w, 0x1234);
    stream_put_u32(&w, 0xdeadbeef);
    stream_put_u64(&w, 0x0102030405060708ull);
    stream_put_bytes(&w, "roam!", 5);
    CHECK_EQ(mb.len, 0); /* buffered */
    CHECK_EQ(w.bytes, 20);
    CHECK_EQ(stream_flush(&w), 0);
    static const uint8_t want[] = {0xab, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde, 8, 7, 6,
                                   5,    4,    3,    2,    1,    'r',  'o',  'a', 'm', '!'};
    CHECK_EQ(mb.len, sizeof(want));
    CHECK(memcmp(mb.data, want, sizeof(want)) == 0);
    CHECK_EQ(w.crc, crc32c(0, want, sizeof(want)));
    stream_writer_free(&w);

    reader_on(&r, &ch, &mb);
    CHECK_EQ(stream_get_u8(&r, &v8), 0);
    CHECK_EQ(v8, 0xab);
    CHECK_EQ(stream_get_u16(&r, &v16), 0);
    CHECK_EQ(v16, 0x1234);
    CHECK_EQ(stream_get_u32(&r, &v32), 0);
    CHECK_EQ(v32, 0xdeadbeef);
    CHECK_EQ(stream_get_u64(&r, &v64), 0);
    CHECK_EQ(v64, 0x0102030405060708ull);
    CHECK_EQ(stream_get_bytes(&r, s, 5), 0);
    CHECK(memcmp(s, "roam!", 5) == 0);
    CHECK_EQ(r.crc, w.crc);
    CHECK_EQ(r.bytes, 20);

    /* past the end: a clean error that stays */
    CHECK_EQ(stream_get_u32(&r, &v32), -EPIPE);
    CHECK(strstr(err_msg(), "stream ended early at byte 20 of membuf (peer closed or file "
                            "truncated): ") == err_msg());
    CHECK_EQ(stream_get_u8(&r, &v8), -EPIPE);
    membuf_free(&mb);
}

static void buffering(void)
{
    struct membuf mb = {0};
    struct channel ch;
    struct stream_writer w;
    struct stream_reader r;
    size_t total = 300000, pos = 0;
    uint8_t *data = malloc(total), *back = malloc(total);
    CHECK(data && back);
    if (!data || !back)
        return;
    for (size_t i = 0; i < total; i++)
        data[i] = (uint8_t)(i * 31 + (i >> 9));

    membuf_channel(&ch, &mb);
    stream_writer_init(&w, &ch);
    /* small puts, one larger than the buffer, then puts that straddle it */
    static const size_t sizes[] = {1, 3, 4096, 70000, 100000, 65535, 2, 65536};
    for (unsigned k = 0; pos < total; k++) {
        size_t n = sizes[k % VMS_ARRAY_SIZE(sizes)];
        if (n > total - pos)
            n = total - pos;
        stream_put_bytes(&w, data + pos, n);
        pos += n;
    }
    CHECK_EQ(stream_flush(&w), 0);
    CHECK_EQ(w.bytes, total);
    CHECK_EQ(mb.len, total);
    CHECK(mb.len == total && memcmp(mb.data, data, total) == 0);
    CHECK_EQ(w.crc, crc32c(0, data, total));
    stream_writer_free(&w);

    reader_on(&r, &ch, &mb);
    CHECK_EQ(stream_get_bytes(&r, back, 1000), 0);
    CHECK_EQ(stream_skip(&r, 200000), 0);
    CHECK_EQ(stream_get_bytes(&r, back + 201000, total - 201000), 0);
    CHECK(memcmp(back, data, 1000) == 0);
    CHECK(memcmp(back + 201000, data + 201000, total - 201000) == 0);
    CHECK_EQ(r.crc, w.crc);
    free(data);
    free(back);
    membuf_free(&mb);
}

static int failing_write(void *opaque, const void *buf, size_t len)
{
    (*(unsigned *)opaque)++;
    return err_set(-EIO, "disk full");
}

static void write_errors(void)
{
    unsigned calls = 0;
    struct channel ch = {.write = failing_write, .opaque = &calls, .name = "file:/x"};
    struct stream_writer w;
    stream_writer_init(&w, &ch);
    stream_put_header(&w);
    CHECK_EQ(stream_flush(&w), -EIO);
    CHECK_STR(err_msg(), "writing the migration stream to file:/x at byte 0: disk full");
    /* the first error sticks; later writes are no-ops */
    stream_put_u64(&w, 1);
    CHECK_EQ(stream_put_end(&w), -EIO);
    CHECK_EQ(calls, 1);
    stream_writer_free(&w);

    /* a name over the limit */
    struct membuf mb = {0};
    char name[STREAM_NAME_MAX + 2];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = 0;
    membuf_channel(&ch, &mb);
    stream_writer_init(&w, &ch);
    stream_put_section(&w, STREAM_SEC_DEVICE, name, 0, 1, 0);
    CHECK_EQ(stream_flush(&w), -EINVAL);
    CHECK(strstr(err_msg(), "is 64 bytes, over the limit of 63") != NULL);
    CHECK_EQ(mb.len, 0);
    stream_writer_free(&w);
    membuf_free(&mb);
}

static void header(void)
{
    struct membuf mb = {0};
    struct channel ch;
    struct stream_writer w;
    struct stream_reader r;
    uint32_t v = 0;

    membuf_channel(&ch, &mb);
    stream_writer_init(&w, &ch);
    stream_put_header(&w);
    CHECK_EQ(stream_flush(&w), 0);
    stream_writer_free(&w);
    CHECK_EQ(mb.len, 12);
    CHECK(memcmp(mb.data, "ROAMSTRM\x01\x00\x00\x00", 12) == 0);

    reader_on(&r, &ch, &mb);
    CHECK_EQ(stream_get_header(&r, &v), 0);
    CHECK_EQ(v, STREAM_FORMAT_VERSION);

    mb.data[8] = 2;
    reader_on(&r, &ch, &mb);
    CHECK_EQ(stream_get_header(&r, &v), -EPROTO);
    CHECK_STR(err_msg(), "stream format version 2 is newer than this roam supports (1)");

    mb.data[8] = 0;
    reader_on(&r, &ch, &mb);
    CHECK_EQ(stream_get_header(&r, &v), -EPROTO);

    mb.data[8] = 1;
    mb.data[0] = 'Q';
    reader_on(&r, &ch, &mb);
    CHECK_EQ(stream_get_header(&r, &v), -EPROTO);
    CHECK_STR(err_msg(), "not a roam migration stream (bad magic)");

    mb.len = 5;
    reader_on(&r, &ch, &mb);
    CHECK_EQ(stream_get_header(&r, &v), -EPIPE);
    CHECK(strstr(err_msg(), "stream ended early at byte 0") == err_msg());
    membuf_free(&mb);
}

/* ---- a small whole stream ---- */

struct dev {
    uint32_t count;
    uint8_t mode;
    uint64_t when;
};
static const struct vms_field dev_fields[] = {
    VMS_U32(1, "count", struct dev, count, 1),
    VMS_U8(2, "mode", struct dev, mode, 1),
    VMS_U64(3, "when", struct dev, when, 1),
};
static const struct vms_desc dev_vms = {
    .name = "dev", .version = 1, .min_version = 1,
    .fields = dev_fields, .nfields = VMS_ARRAY_SIZE(dev_fields),
};

static void write_small(struct membuf *mb)
{
    struct channel ch;
    struct stream_writer w;
    struct dev d = {0x10000, 3, 123456789};
    membuf_free(mb);
    membuf_channel(&ch, mb);
    stream_writer_init(&w, &ch);
    stream_put_header(&w);
    stream_put_section(&w, STREAM_SEC_CONFIG, "config", 0, 1, 5);
    stream_put_bytes(&w, "hello", 5);
    vmstate_save_section(&w, STREAM_SEC_DEVICE, &dev_vms, 0, &d);
    CHECK_EQ(stream_put_end(&w), 0);
    stream_writer_free(&w);
}

/* Reads a whole stream as a destination would: every section must be
 * known or skippable, and it must end with a good checksum. */
static int read_small(struct membuf *mb, struct dev *d)
{
    struct channel ch;
    struct stream_reader r;
    struct stream_section sec;
    uint32_t v;
    int rc;
    reader_on(&r, &ch, mb);
    if ((rc = stream_get_header(&r, &v)) < 0)
        return rc;
    for (;;) {
        if ((rc = stream_get_section(&r, &sec)) < 0)
            return rc;
        if (sec.tag == STREAM_SEC_END)
            return 0;
        if (sec.tag == STREAM_SEC_DEVICE && strcmp(sec.name, "dev") == 0)
            rc = vmstate_load(&r, &dev_vms, &sec, d, d);
        else
            rc = stream_skip(&r, sec.length);
        if (rc < 0)
            return rc;
    }
}

static void whole_stream(void)
{
    struct membuf mb = {0};
    struct channel ch;
    struct stream_reader r;
    struct stream_section sec;
    struct dev d;
    uint32_t v;
    write_small(&mb);
    /* header 12, config 1+1+6+4+4+8+5, dev 1+1+3+4+4+8 + 11+8+15, end 1+4 */
    CHECK_EQ(mb.len, 12 + 29 + 21 + 34 + 5);
    CHECK_EQ(mb.data[mb.len - 5], STREAM_SEC_END);
    uint32_t crc = crc32c(0, mb.data, mb.len - 4);
    CHECK_EQ(mb.data[mb.len - 4] | mb.data[mb.len - 3] << 8 | mb.data[mb.len - 2] << 16 |
                 (uint32_t)mb.data[mb.len - 1] << 24,
             crc);

    reader_on(&r, &ch, &mb);
    CHECK_EQ(stream_get_header(&r, &v), 0);
    CHECK_EQ(stream_get_section(&r, &sec), 0);
    CHECK_EQ(sec.tag, STREAM_SEC_CONFIG);
    CHECK_STR(sec.name, "config");
    CHECK_EQ(sec.instance, 0);
    CHECK_EQ(sec.version, 1);
    CHECK_EQ(sec.length, 5);
    CHECK_EQ(stream_skip(&r, 5), 0);
    CHECK_EQ(stream_get_section(&r, &sec), 0);
    CHECK_EQ(sec.tag, STREAM_SEC_DEVICE);
    CHECK_STR(sec.name, "dev");
    CHECK_EQ(sec.length, 34);
    CHECK_EQ(stream_skip(&r, sec.length), 0);
    CHECK_EQ(stream_get_section(&r, &sec), 0);
    CHECK_EQ(sec.tag, STREAM_SEC_END);
    CHECK_EQ(mb.pos, mb.len);

    memset(&d, 0, sizeof(d));
    CHECK_EQ(read_small(&mb, &d), 0);
    CHECK_EQ(d.count, 0x10000);
    CHECK_EQ(d.mode, 3);
    CHECK_EQ(d.when, 123456789);

    /* a wrong checksum */
    mb.data[mb.len - 1] ^= 0x80;
    CHECK_EQ(read_small(&mb, &d), -EBADMSG);
    CHECK(strstr(err_msg(), "checksum mismatch: the stream is corrupt") == err_msg());
    membuf_free(&mb);
}

static void bad_section_names(void)
{
    struct membuf mb = {0};
    struct channel ch;
    struct stream_reader r;
    struct stream_section sec;
    static const uint8_t long_name[] = {STREAM_SEC_DEVICE, 64, 'x'};
    static const uint8_t nul_name[] = {STREAM_SEC_DEVICE, 2, 'x', 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0, 0, 0, 0};
    membuf_channel(&ch, &mb);
    CHECK_EQ(ch.write(ch.opaque, long_name, sizeof(long_name)), 0);
    reader_on(&r, &ch, &mb);
    CHECK_EQ(stream_get_section(&r, &sec), -EPROTO);
    CHECK_STR(err_msg(), "section name length 64 at byte 1 is over the limit of 63: the stream "
                         "is corrupt");
    membuf_free(&mb);

    membuf_channel(&ch, &mb);
    CHECK_EQ(ch.write(ch.opaque, nul_name, sizeof(nul_name)), 0);
    reader_on(&r, &ch, &mb);
    CHECK_EQ(stream_get_section(&r, &sec), -EPROTO);
    CHECK(strstr(err_msg(), "holds a NUL byte") != NULL);
    membuf_free(&mb);
}

static void huge_lengths(void)
{
    /* A corrupt length ends in "stream ended early", not an allocation. */
    struct membuf mb = {0};
    struct channel ch;
    struct stream_reader r;
    membuf_channel(&ch, &mb);
    CHECK_EQ(ch.write(ch.opaque, "0123456789", 10), 0);
    reader_on(&r, &ch, &mb);
    CHECK_EQ(stream_skip(&r, UINT64_MAX), -EPIPE);
    CHECK(strstr(err_msg(), "stream ended early") == err_msg());
    membuf_free(&mb);

    /* a device section claiming 2^60 bytes */
    write_small(&mb);
    size_t off = 12 + 29 + 1 + 1 + 3 + 4 + 4; /* the dev section's length */
    mb.data[off + 7] = 0x10;
    struct dev d;
    CHECK(read_small(&mb, &d) < 0);
    CHECK(err_msg()[0] != 0);
    membuf_free(&mb);
}

static void every_truncation(void)
{
    struct membuf mb = {0};
    struct dev d;
    write_small(&mb);
    size_t full = mb.len;
    for (size_t n = 0; n < full; n++) {
        mb.len = n;
        int rc = read_small(&mb, &d);
        CHECK(rc < 0);
        if (rc >= 0)
            printf("  truncated to %zu bytes: no error\n", n);
        CHECK(err_msg()[0] != 0);
    }
    mb.len = full;
    CHECK_EQ(read_small(&mb, &d), 0);
    membuf_free(&mb);
}

static void every_bit_flip(void)
{
    struct membuf mb = {0};
    struct dev d;
    write_small(&mb);
    for (size_t i = 0; i < mb.len; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            mb.data[i] ^= (uint8_t)(1u << bit);
            int rc = read_small(&mb, &d);
            if (rc >= 0)
                printf("  flip of byte %zu bit %u: no error\n", i, bit);
            CHECK(rc < 0);
            CHECK(err_msg()[0] != 0);
            mb.data[i] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK_EQ(read_small(&mb, &d), 0);
    membuf_free(&mb);
}

/* Reads an aborted stream's sections up to the abort record; returns the
 * reader's result for the record and the end marker after it. */
static int read_aborted(struct membuf *mb, struct stream_abort *a)
{
    struct channel ch;
    struct stream_reader r;
    struct stream_section sec;
    uint32_t v;
    int rc;
    reader_on(&r, &ch, mb);
    if ((rc = stream_get_header(&r, &v)) < 0)
        return rc;
    for (;;) {
        if ((rc = stream_get_section(&r, &sec)) < 0)
            return rc;
        if (sec.tag == STREAM_SEC_END)
            return err_set(-EBADMSG, "no abort record");
        if (sec.tag == STREAM_SEC_ABORT)
            break;
        if ((rc = stream_skip(&r, sec.length)) < 0)
            return rc;
    }
    if ((rc = stream_get_abort(&r, &sec, a)) < 0 || (rc = stream_get_section(&r, &sec)) < 0)
        return rc;
    if (sec.tag != STREAM_SEC_END)
        return err_set(-EBADMSG, "no end marker after the abort record");
    return mb->pos == mb->len ? 0 : err_set(-EBADMSG, "bytes after the end marker");
}

/* A cancel stops the writer between sections with what it holds still
 * buffered; stream_put_abort sends that, the record and the end marker. */
static void abort_after_cancel(void)
{
    struct membuf mb = {0};
    struct channel ch;
    struct stream_writer w;
    struct stream_abort a;

    membuf_channel(&ch, &mb);
    stream_writer_init(&w, &ch);
    stream_put_header(&w);
    stream_put_section(&w, STREAM_SEC_RAM, "ram", 0, 1, 3);
    stream_put_bytes(&w, "abc", 3);
    w.error = -ECANCELED; /* what migrate_pace does */
    stream_put_u32(&w, 7); /* the error sticks: nothing goes in */
    CHECK_EQ(stream_flush(&w), -ECANCELED);
    CHECK_EQ(mb.len, 0); /* kept, not dropped */
    CHECK_EQ(stream_put_abort(&w, STREAM_ABORT_CANCELLED, "migrate-cancel"), 0);
    CHECK_EQ(w.error, 0);
    /* header, the RAM section (21 + 3), the record (23 + 11 + 7 + 14), end */
    CHECK_EQ(mb.len, 12 + 24 + 55 + 5);
    CHECK_EQ(w.bytes, mb.len);
    stream_writer_free(&w);
    CHECK_EQ(read_aborted(&mb, &a), 0);
    CHECK_EQ(a.reason, STREAM_ABORT_CANCELLED);
    CHECK_STR(a.message, "migrate-cancel");
    CHECK_STR(stream_abort_reason_name(a.reason), "cancelled");
    CHECK_STR(stream_abort_reason_name(STREAM_ABORT_VM_STOPPED), "vm-stopped");
    CHECK_STR(stream_abort_reason_name(99), "unknown");
    /* the record is covered by the checksum like everything else */
    mb.data[12 + 24 + 30] ^= 1; /* the reason's value */
    CHECK_EQ(read_aborted(&mb, &a), -EBADMSG);
    CHECK(strstr(err_msg(), "checksum mismatch") != NULL);
    membuf_free(&mb);
}

#define ABORT_DOC_CRC 0x9d701ad0u
/* The bytes of docs/migration-format.md, "The abort record". */
static void abort_doc_example(void)
{
    static const uint8_t want[] = {
        0x52, 0x4f, 0x41, 0x4d, 0x53, 0x54, 0x52, 0x4d, 0x01, 0x00, 0x00, 0x00, 0xfe, 0x05,
        0x61, 0x62, 0x6f, 0x72, 0x74, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x20,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x83, 0x04, 0x00, 0x00, 0x00,
        0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x86, 0x0e, 0x00, 0x00, 0x00, 0x6d, 0x69, 0x67,
        0x72, 0x61, 0x74, 0x65, 0x2d, 0x63, 0x61, 0x6e, 0x63, 0x65, 0x6c, 0xff, 0xd0, 0x1a,
        0x70, 0x9d};
    struct membuf mb = {0};
    struct channel ch;
    struct stream_writer w;

    membuf_channel(&ch, &mb);
    stream_writer_init(&w, &ch);
    /* nothing written yet: the header comes first */
    CHECK_EQ(stream_put_abort(&w, STREAM_ABORT_CANCELLED, "migrate-cancel"), 0);
    stream_writer_free(&w);
    CHECK_EQ(mb.len, sizeof(want));
    uint32_t crc = crc32c(0, mb.data, mb.len - 4);
    if (mb.len == sizeof(want)) {
        CHECK(memcmp(mb.data, want, sizeof(want)) == 0);
        CHECK_EQ(crc, ABORT_DOC_CRC);
    }
    membuf_free(&mb);
}

static void abort_cases(void)
{
    struct membuf mb = {0};
    struct channel ch;
    struct stream_writer w;
    struct stream_abort a;
    char msg[400];

    /* a broken channel takes no record */
    unsigned calls = 0;
    struct channel bad = {.write = failing_write, .opaque = &calls, .name = "file:/x"};
    stream_writer_init(&w, &bad);
    stream_put_header(&w);
    CHECK_EQ(stream_flush(&w), -EIO);
    CHECK_EQ(stream_put_abort(&w, STREAM_ABORT_FAILED, "x"), -EIO);
    CHECK_EQ(calls, 1);
    stream_writer_free(&w);

    /* nor does a writer in the middle of a section */
    membuf_channel(&ch, &mb);
    stream_writer_init(&w, &ch);
    stream_put_header(&w);
    stream_put_section(&w, STREAM_SEC_RAM, "ram", 0, 1, 10);
    stream_put_bytes(&w, "abc", 3);
    CHECK_EQ(stream_put_abort(&w, STREAM_ABORT_FAILED, "x"), -EPROTO);
    CHECK(strstr(err_msg(), "inside a section") != NULL);
    stream_writer_free(&w);
    membuf_free(&mb);

    /* a long message is cut, control bytes come out as '?' */
    memset(msg, 'm', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = 0;
    msg[3] = '\n';
    membuf_channel(&ch, &mb);
    stream_writer_init(&w, &ch);
    stream_put_header(&w);
    CHECK_EQ(stream_put_abort(&w, STREAM_ABORT_VM_STOPPED, msg), 0);
    stream_writer_free(&w);
    CHECK_EQ(read_aborted(&mb, &a), 0);
    CHECK_EQ(a.reason, STREAM_ABORT_VM_STOPPED);
    CHECK_EQ(strlen(a.message), STREAM_ABORT_MSG_MAX);
    CHECK(strncmp(a.message, "mmm?mmm", 7) == 0);
    membuf_free(&mb);

    /* a reader skips fields it does not know (a newer writer's) */
    membuf_channel(&ch, &mb);
    stream_writer_init(&w, &ch);
    stream_put_header(&w);
    stream_put_section(&w, STREAM_SEC_ABORT, "abort", 0, 2, 7 + 4 + 7 + 2 + 7 + 2);
    stream_put_u16(&w, 9);
    stream_put_u8(&w, STREAM_T_U32 | STREAM_T_MUST);
    stream_put_u32(&w, 4);
    stream_put_u32(&w, 1234);
    stream_put_u16(&w, 2);
    stream_put_u8(&w, STREAM_T_STRING);
    stream_put_u32(&w, 2);
    stream_put_bytes(&w, "hi", 2);
    stream_put_u16(&w, 1);
    stream_put_u8(&w, STREAM_T_U16);
    stream_put_u32(&w, 2);
    stream_put_u16(&w, 1);
    CHECK_EQ(stream_put_end(&w), 0);
    stream_writer_free(&w);
    /* ... but not a known field with the wrong type */
    CHECK_EQ(read_aborted(&mb, &a), -EBADMSG);
    CHECK(strstr(err_msg(), "field 1 has the wrong type") != NULL);
    membuf_free(&mb);

    /* a field longer than the record */
    membuf_channel(&ch, &mb);
    stream_writer_init(&w, &ch);
    stream_put_header(&w);
    stream_put_section(&w, STREAM_SEC_ABORT, "abort", 0, 1, 7 + 2);
    stream_put_u16(&w, 2);
    stream_put_u8(&w, STREAM_T_STRING);
    stream_put_u32(&w, 1000000);
    stream_put_bytes(&w, "hi", 2);
    CHECK_EQ(stream_put_end(&w), 0);
    stream_writer_free(&w);
    CHECK_EQ(read_aborted(&mb, &a), -EBADMSG);
    CHECK(strstr(err_msg(), "longer than the record") != NULL);
    membuf_free(&mb);
}

/* Every truncation and every bit flip of an aborted stream is an error. */
static void abort_damage(void)
{
    struct membuf mb = {0};
    struct channel ch;
    struct stream_writer w;
    struct stream_abort a;

    membuf_channel(&ch, &mb);
    stream_writer_init(&w, &ch);
    stream_put_header(&w);
    stream_put_section(&w, STREAM_SEC_RAM, "ram", 0, 1, 3);
    stream_put_bytes(&w, "abc", 3);
    CHECK_EQ(stream_put_abort(&w, STREAM_ABORT_FAILED, "did not converge"), 0);
    stream_writer_free(&w);
    size_t full = mb.len;
    for (size_t n = 0; n < full; n++) {
        mb.len = n;
        CHECK(read_aborted(&mb, &a) < 0);
    }
    mb.len = full;
    for (size_t i = 0; i < mb.len; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            mb.data[i] ^= (uint8_t)(1u << bit);
            int rc = read_aborted(&mb, &a);
            if (rc >= 0)
                printf("  flip of byte %zu bit %u: no error\n", i, bit);
            CHECK(rc < 0);
            mb.data[i] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK_EQ(read_aborted(&mb, &a), 0);
    CHECK_STR(a.message, "did not converge");
    membuf_free(&mb);
}

/* roam stream-dump prints the record and checks the CRC after it. */
static void abort_dump(void)
{
    struct membuf mb = {0};
    struct channel ch;
    struct stream_writer w;
    struct test_text out = {{0}, 0, 0};

    membuf_channel(&ch, &mb);
    stream_writer_init(&w, &ch);
    stream_put_header(&w);
    CHECK_EQ(stream_put_abort(&w, STREAM_ABORT_CANCELLED, "migrate-cancel"), 0);
    stream_writer_free(&w);
    CHECK_EQ(stream_dump(&ch, test_text_add, &out), 0);
    CHECK_STR(out.buf, "roam migration stream, format version 1\n"
                        "abort section 'abort' instance 0 version 1 (32 bytes)\n"
                        "  reason = 2 (cancelled)\n"
                        "  message = migrate-cancel\n"
                        "  (the writer gave the stream up here: it holds no complete VM)\n"
                        "end: checksum ok, 72 bytes in all\n");
    membuf_free(&mb);
}

static void membuf_read_some(void)
{
    struct membuf mb = {0};
    struct channel ch;
    char buf[8];
    membuf_channel(&ch, &mb);
    CHECK_EQ(ch.write(ch.opaque, "abc", 3), 0);
    CHECK_EQ(ch.read_some(ch.opaque, buf, sizeof(buf), 0), 3);
    CHECK(memcmp(buf, "abc", 3) == 0);
    CHECK_EQ(ch.read_some(ch.opaque, buf, sizeof(buf), 0), -EPIPE);
    ch.close(ch.opaque);
    membuf_free(&mb);
}

static const struct test_case tests[] = {
    TEST(crc_vectors),
    TEST(crc_paths_agree),
    TEST(crc_long_buffers),
    TEST(integers),
    TEST(buffering),
    TEST(write_errors),
    TEST(header),
    TEST(whole_stream),
    TEST(bad_section_names),
    TEST(huge_lengths),
    TEST(every_truncation),
    TEST(every_bit_flip),
    TEST(membuf_read_some),
    TEST(abort_after_cancel),
    TEST(abort_doc_example),
    TEST(abort_cases),
    TEST(abort_damage),
    TEST(abort_dump),
};

TEST_MAIN("stream", tests)
