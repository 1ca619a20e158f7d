/* migrate/vmstate: save/load round trips, the compatibility rules (older
 * and newer streams, optional and must-understand fields, versions), the
 * error messages, post_load and the dump. */
#include <stdlib.h>

#include "migrate/vmstate.h"
#include "test.h"

struct ts {
    uint8_t a;
    uint16_t b;
    uint32_t c;
    uint64_t d;
    int64_t e;
    bool f;
    uint8_t bytes[40];
    uint32_t arr32[3];
    uint64_t arr64[2];
    bool has_extra;
    uint32_t extra_x;
    uint64_t extra_y;
    uint32_t newer; /* since 2 */
    uint16_t narrow; /* a writer-side variant of c */
    uint32_t unknown; /* a field only "newer" writers have */
};

/* ---- descriptions ---- */

static bool extra_needed(const void *state)
{
    return ((const struct ts *)state)->has_extra;
}

static const struct vms_field extra_fields[] = {
    VMS_U32(1, "x", struct ts, extra_x, 1),
    VMS_U64(2, "y", struct ts, extra_y, 1),
};
static const struct vms_desc extra_vms = {
    .name = "extra", .version = 1, .min_version = 1,
    .fields = extra_fields, .nfields = VMS_ARRAY_SIZE(extra_fields),
};
static const struct vms_subsection ts_subs[] = {
    {.id = 20, .desc = &extra_vms, .needed = extra_needed},
};

#define TS_V1_FIELDS                                                                      \
    VMS_U8(1, "a", struct ts, a, 1), VMS_U16(2, "b", struct ts, b, 1),                    \
        VMS_U32(3, "c", struct ts, c, 1), VMS_U64(4, "d", struct ts, d, 1),               \
        VMS_I64(5, "e", struct ts, e, 1), VMS_BOOL(6, "f", struct ts, f, 1),              \
        VMS_BYTES(7, "bytes", struct ts, bytes, 1),                                       \
        VMS_U32_ARRAY(8, "arr32", struct ts, arr32, 1),                                   \
        VMS_U64_ARRAY(9, "arr64", struct ts, arr64, 1)

static const struct vms_field ts_v1_fields[] = {TS_V1_FIELDS};
static const struct vms_field ts_v2_fields[] = {
    TS_V1_FIELDS,
    VMS_U32(10, "newer", struct ts, newer, 2),
};

static int post_load_calls;
static void *post_load_opaque;
static int post_load_fail;

static int ts_post_load(void *opaque)
{
    post_load_calls++;
    post_load_opaque = opaque;
    if (post_load_fail)
        return err_set(-EINVAL, "count 0x%x is out of range", ((struct ts *)opaque)->c);
    return 0;
}

static const struct vms_desc ts_v1 = {
    .name = "ts", .version = 1, .min_version = 1,
    .fields = ts_v1_fields, .nfields = VMS_ARRAY_SIZE(ts_v1_fields),
    .subs = ts_subs, .nsubs = VMS_ARRAY_SIZE(ts_subs),
};
static const struct vms_desc ts_v2 = {
    .name = "ts", .version = 2, .min_version = 1,
    .fields = ts_v2_fields, .nfields = VMS_ARRAY_SIZE(ts_v2_fields),
    .subs = ts_subs, .nsubs = VMS_ARRAY_SIZE(ts_subs),
    .post_load = ts_post_load,
};

/* ---- helpers ---- */

static void fill(struct ts *s)
{
    memset(s, 0, sizeof(*s));
    s->a = 0xa5;
    s->b = 0xbeef;
    s->c = 0x12345678;
    s->d = 0x0123456789abcdefull;
    s->e = -42;
    s->f = true;
    for (unsigned i = 0; i < sizeof(s->bytes); i++)
        s->bytes[i] = (uint8_t)(i * 7 + 1);
    s->arr32[0] = 1;
    s->arr32[1] = 0xffffffffu;
    s->arr32[2] = 3;
    s->arr64[0] = 0x8000000000000000ull;
    s->arr64[1] = 5;
    s->has_extra = true;
    s->extra_x = 0xcafe;
    s->extra_y = 0xfeedface00000001ull;
    s->newer = 0x99;
}

/* Saves one section with d into mb (which it resets). */
static void save(struct membuf *mb, const struct vms_desc *d, uint32_t instance,
                 const struct ts *s)
{
    struct channel ch;
    struct stream_writer w;
    membuf_free(mb);
    membuf_channel(&ch, mb);
    stream_writer_init(&w, &ch);
    vmstate_save_section(&w, STREAM_SEC_DEVICE, d, instance, s);
    CHECK_EQ(stream_flush(&w), 0);
    stream_writer_free(&w);
}

/* Writes a section of d->name / version with a hand-made payload. */
static void save_raw(struct membuf *mb, uint32_t version, const uint8_t *payload, size_t len)
{
    struct channel ch;
    struct stream_writer w;
    membuf_free(mb);
    membuf_channel(&ch, mb);
    stream_writer_init(&w, &ch);
    stream_put_section(&w, STREAM_SEC_DEVICE, "ts", 0, version, len);
    stream_put_bytes(&w, payload, len);
    CHECK_EQ(stream_flush(&w), 0);
    stream_writer_free(&w);
}

/* Loads the section in mb with d into s; the reader must end at the end. */
static int load(struct membuf *mb, const struct vms_desc *d, struct ts *s)
{
    struct channel ch;
    struct stream_reader r;
    struct stream_section sec;
    mb->pos = 0;
    membuf_channel(&ch, mb);
    stream_reader_init(&r, &ch);
    err_clear();
    int rc = stream_get_section(&r, &sec);
    if (rc < 0)
        return rc;
    rc = vmstate_load(&r, d, &sec, s, s);
    if (rc == 0)
        CHECK_EQ(mb->pos, mb->len);
    return rc;
}

/* ---- tests ---- */

static void desc_check(void)
{
    CHECK_EQ(vmstate_check_desc(&ts_v1), 0);
    CHECK_EQ(vmstate_check_desc(&ts_v2), 0);

    static const struct vms_field dup[] = {
        VMS_U8(1, "a", struct ts, a, 1),
        VMS_U8(1, "b", struct ts, a, 1),
    };
    struct vms_desc bad = {.name = "bad", .version = 1, .min_version = 1, .fields = dup,
                           .nfields = 2};
    CHECK_EQ(vmstate_check_desc(&bad), -EINVAL);
    CHECK(strstr(err_msg(), "field id 1 is used twice") != NULL);

    static const struct vms_field future[] = {VMS_U8(1, "a", struct ts, a, 3)};
    bad.fields = future;
    bad.nfields = 1;
    CHECK_EQ(vmstate_check_desc(&bad), -EINVAL);
    CHECK(strstr(err_msg(), "since 3") != NULL);

    bad.fields = ts_v1_fields;
    bad.nfields = VMS_ARRAY_SIZE(ts_v1_fields);
    bad.min_version = 2;
    CHECK_EQ(vmstate_check_desc(&bad), -EINVAL);
}

static void round_trip(void)
{
    struct membuf mb = {0}, mb2 = {0};
    struct ts in, out, again;
    fill(&in);
    save(&mb, &ts_v2, 0, &in);
    CHECK_EQ(mb.len, 1 + 1 + 2 + 4 + 4 + 8 + vmstate_size(&ts_v2, &in));

    memset(&out, 0, sizeof(out));
    out.has_extra = true; /* not migrated; the rest must come from the stream */
    post_load_calls = 0;
    CHECK_EQ(load(&mb, &ts_v2, &out), 0);
    CHECK(memcmp(&in, &out, sizeof(in)) == 0);
    CHECK_EQ(out.e, -42);
    CHECK_EQ(out.extra_y, 0xfeedface00000001ull);
    CHECK_EQ(post_load_calls, 1);
    CHECK(post_load_opaque == &out);

    /* save -> load -> save is byte-identical */
    save(&mb2, &ts_v2, 0, &out);
    CHECK_EQ(mb2.len, mb.len);
    CHECK(memcmp(mb.data, mb2.data, mb.len) == 0);

    /* without the subsection: it is not saved, and the target keeps its values */
    in.has_extra = false;
    save(&mb, &ts_v2, 0, &in);
    CHECK_EQ(mb.len, 1 + 1 + 2 + 4 + 4 + 8 + vmstate_size(&ts_v2, &in));
    CHECK_EQ(vmstate_size(&ts_v2, &in) + 7 + (7 + 4) + (7 + 8), vmstate_size(&ts_v2, &out));
    memset(&again, 0, sizeof(again));
    again.extra_x = 77;
    CHECK_EQ(load(&mb, &ts_v2, &again), 0);
    CHECK_EQ(again.extra_x, 77);
    CHECK_EQ(again.c, in.c);
    membuf_free(&mb);
    membuf_free(&mb2);
}

static void encoding_bytes(void)
{
    /* The first fields of a section, byte by byte. */
    static const struct vms_field f[] = {
        VMS_U16(1, "b", struct ts, b, 1),
        VMS_BOOL(2, "f", struct ts, f, 1),
        VMS_U32(3, "newer", struct ts, newer, 2),
    };
    const struct vms_desc d = {.name = "ts", .version = 2, .min_version = 1, .fields = f,
                               .nfields = 3};
    struct ts s;
    struct membuf mb = {0};
    memset(&s, 0, sizeof(s));
    s.b = 0x1234;
    s.f = true;
    s.newer = 0xaabbccdd;
    save(&mb, &d, 7, &s);
    static const uint8_t want[] = {
        0x03, 0x02, 't', 's', 0x07, 0, 0, 0, 0x02, 0, 0, 0, 28, 0, 0, 0, 0, 0, 0, 0,
        0x01, 0x00, 0x82, 0x02, 0, 0, 0, 0x34, 0x12,      /* id 1, u16|must, len 2 */
        0x02, 0x00, 0x81, 0x01, 0, 0, 0, 0x01,            /* id 2, u8|must, len 1 */
        0x03, 0x00, 0x03, 0x04, 0, 0, 0, 0xdd, 0xcc, 0xbb, 0xaa, /* id 3, u32, len 4 */
    };
    CHECK_EQ(mb.len, sizeof(want));
    CHECK(mb.len == sizeof(want) && memcmp(mb.data, want, sizeof(want)) == 0);
    membuf_free(&mb);
}

static void older_stream(void)
{
    struct membuf mb = {0};
    struct ts in, out;
    fill(&in);
    save(&mb, &ts_v1, 0, &in);
    memset(&out, 0, sizeof(out));
    out.newer = 0x77; /* the reset value */
    CHECK_EQ(load(&mb, &ts_v2, &out), 0);
    CHECK_EQ(out.newer, 0x77);
    CHECK_EQ(out.d, in.d);
    CHECK_EQ(out.extra_x, in.extra_x);
    membuf_free(&mb);
}

static void newer_stream_fields(void)
{
    struct membuf mb = {0};
    struct ts in, out;
    struct vms_field f[VMS_ARRAY_SIZE(ts_v2_fields) + 1];
    memcpy(f, ts_v2_fields, sizeof(ts_v2_fields));
    f[VMS_ARRAY_SIZE(ts_v2_fields)] =
        (struct vms_field)VMS_U32(17, "unknown", struct ts, unknown, 2);
    struct vms_desc newer = ts_v2;
    newer.fields = f;
    newer.nfields = VMS_ARRAY_SIZE(f);
    newer.post_load = NULL;
    fill(&in);
    in.unknown = 0x5555;

    /* optional: skipped */
    save(&mb, &newer, 0, &in);
    memset(&out, 0, sizeof(out));
    CHECK_EQ(load(&mb, &ts_v2, &out), 0);
    CHECK_EQ(out.unknown, 0);
    CHECK_EQ(out.newer, in.newer);
    CHECK_EQ(out.extra_y, in.extra_y);

    /* must understand: refused by name */
    f[VMS_ARRAY_SIZE(ts_v2_fields)].flags = VMS_F_MUST;
    save(&mb, &newer, 0, &in);
    memset(&out, 0, sizeof(out));
    CHECK_EQ(load(&mb, &ts_v2, &out), -EPROTO);
    CHECK_STR(err_msg(), "ts: unknown required field 17 (the stream comes from a newer roam)");
    membuf_free(&mb);
}

static void newer_stream_subsections(void)
{
    static const struct vms_field more_fields[] = {VMS_U32(1, "u", struct ts, unknown, 1)};
    static const struct vms_desc more_vms = {.name = "more", .version = 1, .min_version = 1,
                                             .fields = more_fields, .nfields = 1};
    struct vms_subsection subs[2] = {ts_subs[0], {.id = 21, .desc = &more_vms}};
    struct vms_desc newer = ts_v2;
    struct membuf mb = {0};
    struct ts in, out;
    newer.subs = subs;
    newer.nsubs = 2;
    newer.post_load = NULL;
    fill(&in);

    save(&mb, &newer, 0, &in);
    memset(&out, 0, sizeof(out));
    CHECK_EQ(load(&mb, &ts_v2, &out), 0);
    CHECK_EQ(out.extra_x, in.extra_x);
    CHECK_EQ(out.unknown, 0);

    subs[1].flags = VMS_F_MUST;
    save(&mb, &newer, 0, &in);
    CHECK_EQ(load(&mb, &ts_v2, &out), -EPROTO);
    CHECK_STR(err_msg(), "ts: unknown required field 21 (the stream comes from a newer roam)");

    /* nested rules: a subsection missing its required field */
    static const struct vms_field thin_fields[] = {VMS_U32(1, "x", struct ts, extra_x, 1)};
    static const struct vms_desc thin_vms = {.name = "extra", .version = 1, .min_version = 1,
                                             .fields = thin_fields, .nfields = 1};
    subs[0].desc = &thin_vms;
    newer.nsubs = 1;
    save(&mb, &newer, 0, &in);
    CHECK_EQ(load(&mb, &ts_v2, &out), -EPROTO);
    CHECK_STR(err_msg(), "ts/extra: required field 'y' is missing");
    membuf_free(&mb);
}

/* A field added without a version bump (VMS_F_OPTIONAL): older writers of
 * the same version lack it, older readers skip it. */
static void optional_field(void)
{
    struct vms_field f[VMS_ARRAY_SIZE(ts_v2_fields) + 1];
    struct vms_desc with = ts_v2;
    struct membuf mb = {0};
    struct ts in, out;
    memcpy(f, ts_v2_fields, sizeof(ts_v2_fields));
    f[VMS_ARRAY_SIZE(ts_v2_fields)] = (struct vms_field)VMS_FIELD_F(
        11, "unknown", VMS_T_U32, struct ts, unknown, 1, 1, VMS_F_OPTIONAL);
    with.fields = f;
    with.nfields = VMS_ARRAY_SIZE(f);
    with.post_load = NULL;
    CHECK_EQ(vmstate_check_desc(&with), 0);
    fill(&in);
    in.unknown = 0xabc;

    /* a same-version writer without it: the field keeps its value */
    save(&mb, &ts_v2, 0, &in);
    memset(&out, 0, sizeof(out));
    out.unknown = 5;
    CHECK_EQ(load(&mb, &with, &out), 0);
    CHECK_EQ(out.unknown, 5);
    CHECK_EQ(out.c, in.c);

    /* written without the must bit, so a reader without it skips it */
    save(&mb, &with, 0, &in);
    memset(&out, 0, sizeof(out));
    CHECK_EQ(load(&mb, &ts_v2, &out), 0);
    CHECK_EQ(out.unknown, 0);
    memset(&out, 0, sizeof(out));
    CHECK_EQ(load(&mb, &with, &out), 0);
    CHECK_EQ(out.unknown, 0xabc);

    f[VMS_ARRAY_SIZE(ts_v2_fields)].flags |= VMS_F_MUST;
    CHECK_EQ(vmstate_check_desc(&with), -EINVAL);
    membuf_free(&mb);
}

/* The worked example in docs/migration-format.md, byte for byte. */
struct doc_uart {
    uint8_t lcr;
    uint16_t div;
    uint8_t scr;
};

static void doc_example(void)
{
    static const struct vms_field f[] = {
        VMS_U8(1, "lcr", struct doc_uart, lcr, 1),
        VMS_U16(2, "divisor", struct doc_uart, div, 1),
        VMS_U8(3, "scratch", struct doc_uart, scr, 2),
    };
    static const struct vms_desc d = {.name = "uart", .version = 2, .min_version = 1,
                                      .fields = f, .nfields = 3};
    static const uint8_t want[64] = {
        0x52, 0x4f, 0x41, 0x4d, 0x53, 0x54, 0x52, 0x4d, 0x01, 0x00, 0x00, 0x00, 0x03, 0x04,
        0x75, 0x61, 0x72, 0x74, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x19, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x81, 0x01, 0x00, 0x00, 0x00, 0x03,
        0x02, 0x00, 0x82, 0x02, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x03, 0x00, 0x01, 0x01, 0x00,
        0x00, 0x00, 0x5a, 0xff, 0x0e, 0x46, 0xc5, 0xe1,
    };
    struct doc_uart u = {0x03, 12, 0x5a};
    struct membuf mb = {0};
    struct channel ch;
    struct stream_writer w;
    membuf_channel(&ch, &mb);
    stream_writer_init(&w, &ch);
    stream_put_header(&w);
    vmstate_save_section(&w, STREAM_SEC_DEVICE, &d, 0, &u);
    CHECK_EQ(stream_put_end(&w), 0);
    stream_writer_free(&w);
    CHECK_EQ(mb.len, sizeof(want));
    CHECK(mb.len == sizeof(want) && memcmp(mb.data, want, sizeof(want)) == 0);
    CHECK_EQ(crc32c(0, want, 60), 0xe1c5460eu);
    membuf_free(&mb);
}

static void missing_field(void)
{
    struct vms_field f[VMS_ARRAY_SIZE(ts_v2_fields) - 1];
    struct vms_desc d = ts_v2;
    struct membuf mb = {0};
    struct ts in, out;
    /* everything but id 3 ("c") */
    memcpy(f, ts_v2_fields, 2 * sizeof(f[0]));
    memcpy(f + 2, ts_v2_fields + 3, (VMS_ARRAY_SIZE(f) - 2) * sizeof(f[0]));
    d.fields = f;
    d.nfields = VMS_ARRAY_SIZE(f);
    fill(&in);
    save(&mb, &d, 0, &in);
    memset(&out, 0, sizeof(out));
    CHECK_EQ(load(&mb, &ts_v2, &out), -EPROTO);
    CHECK_STR(err_msg(), "ts: required field 'c' is missing");

    /* a since-2 field missing from a version-2 stream */
    d.fields = ts_v1_fields;
    d.nfields = VMS_ARRAY_SIZE(ts_v1_fields);
    d.post_load = NULL;
    save(&mb, &d, 0, &in);
    CHECK_EQ(load(&mb, &ts_v2, &out), -EPROTO);
    CHECK_STR(err_msg(), "ts: required field 'newer' is missing");
    membuf_free(&mb);
}

static void wrong_type_and_length(void)
{
    struct membuf mb = {0};
    struct ts out;
    struct vms_field f[VMS_ARRAY_SIZE(ts_v1_fields)];
    struct vms_desc d = ts_v1;
    memcpy(f, ts_v1_fields, sizeof(f));
    f[2] = (struct vms_field)VMS_U16(3, "c", struct ts, narrow, 1);
    d.fields = f;
    struct ts in;
    fill(&in);
    save(&mb, &d, 0, &in);
    CHECK_EQ(load(&mb, &ts_v1, &out), -EPROTO);
    CHECK_STR(err_msg(), "ts: field 'c': expected type u32, stream has u16");

    /* right type, wrong length */
    static const uint8_t p1[] = {3, 0, STREAM_T_U32 | STREAM_T_MUST, 2, 0, 0, 0, 0x11, 0x22};
    save_raw(&mb, 1, p1, sizeof(p1));
    CHECK_EQ(load(&mb, &ts_v1, &out), -EPROTO);
    CHECK_STR(err_msg(), "ts: field 'c': expected 4 bytes, stream has 2");

    /* an array of the wrong size */
    static const uint8_t p2[] = {8, 0, STREAM_T_U32_ARRAY, 8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0};
    save_raw(&mb, 1, p2, sizeof(p2));
    CHECK_EQ(load(&mb, &ts_v1, &out), -EPROTO);
    CHECK_STR(err_msg(), "ts: field 'arr32': expected 12 bytes, stream has 8");

    /* a bool that is neither 0 nor 1 */
    static const uint8_t p3[] = {6, 0, STREAM_T_U8 | STREAM_T_MUST, 1, 0, 0, 0, 2};
    save_raw(&mb, 1, p3, sizeof(p3));
    CHECK_EQ(load(&mb, &ts_v1, &out), -EPROTO);
    CHECK_STR(err_msg(), "ts: field 'f': bool value 2 is not 0 or 1");

    /* the same field twice */
    static const uint8_t p4[] = {1, 0, STREAM_T_U8, 1, 0, 0, 0, 2,
                                 1, 0, STREAM_T_U8, 1, 0, 0, 0, 3};
    save_raw(&mb, 1, p4, sizeof(p4));
    CHECK_EQ(load(&mb, &ts_v1, &out), -EPROTO);
    CHECK_STR(err_msg(), "ts: field 'a' (id 1) appears twice");

    /* a field longer than the section */
    static const uint8_t p5[] = {1, 0, STREAM_T_U8, 9, 0, 0, 0, 2};
    save_raw(&mb, 1, p5, sizeof(p5));
    CHECK_EQ(load(&mb, &ts_v1, &out), -EPROTO);
    CHECK_STR(err_msg(), "ts: field 1 is 9 bytes long, more than the 1 left in the section");

    /* a section that stops inside a field header */
    static const uint8_t p6[] = {1, 0, STREAM_T_U8, 1};
    save_raw(&mb, 1, p6, sizeof(p6));
    CHECK_EQ(load(&mb, &ts_v1, &out), -EPROTO);
    CHECK_STR(err_msg(), "ts: 4 stray bytes end the section (a field header is 7)");

    /* a section length that runs past the end of the stream */
    fill(&in);
    save(&mb, &ts_v1, 0, &in);
    mb.len -= 3;
    CHECK_EQ(load(&mb, &ts_v1, &out), -EPIPE);
    CHECK(strstr(err_msg(), "ts/extra: field 'y': stream ended early at byte") == err_msg());
    CHECK(strstr(err_msg(), "(peer closed or file truncated)") != NULL);
    membuf_free(&mb);
}

static void versions(void)
{
    struct vms_desc d2 = ts_v2, d3 = ts_v2;
    struct membuf mb = {0};
    struct ts in, out;
    fill(&in);
    d2.min_version = 2;
    d3.version = 3;
    d2.post_load = d3.post_load = NULL;

    save(&mb, &d3, 0, &in);
    CHECK_EQ(load(&mb, &ts_v2, &out), -EPROTO);
    CHECK_STR(err_msg(), "ts: state version 3 is newer than this roam's 2");

    save(&mb, &ts_v1, 0, &in);
    CHECK_EQ(load(&mb, &d2, &out), -EPROTO);
    CHECK_STR(err_msg(), "ts: state version 1 is older than the oldest this roam reads (2)");

    /* the instance shows in messages when there are several */
    save(&mb, &d3, 2, &in);
    CHECK_EQ(load(&mb, &ts_v2, &out), -EPROTO);
    CHECK_STR(err_msg(), "ts[2]: state version 3 is newer than this roam's 2");
    membuf_free(&mb);
}

static void post_load(void)
{
    struct membuf mb = {0};
    struct ts in, out;
    fill(&in);
    save(&mb, &ts_v2, 0, &in);
    post_load_calls = 0;
    post_load_fail = 1;
    memset(&out, 0, sizeof(out));
    CHECK_EQ(load(&mb, &ts_v2, &out), -EINVAL);
    CHECK_EQ(post_load_calls, 1);
    CHECK_STR(err_msg(), "ts: count 0x12345678 is out of range");
    post_load_fail = 0;
    CHECK_EQ(load(&mb, &ts_v2, &out), 0);
    CHECK_EQ(post_load_calls, 2);
    membuf_free(&mb);
}

static int dump(struct membuf *mb, const struct vms_desc *d, struct test_text *t)
{
    struct channel ch;
    struct stream_reader r;
    struct stream_section sec;
    mb->pos = 0;
    membuf_channel(&ch, mb);
    stream_reader_init(&r, &ch);
    memset(t, 0, sizeof(*t));
    int rc = stream_get_section(&r, &sec);
    if (rc == 0)
        rc = vmstate_dump(&r, d, sec.length, test_text_add, t, 2);
    return rc;
}

static void dump_output(void)
{
    struct membuf mb = {0};
    struct test_text t;
    struct ts in;
    fill(&in);
    save(&mb, &ts_v2, 0, &in);
    CHECK_EQ(dump(&mb, &ts_v2, &t), 0);
    CHECK_EQ(mb.pos, mb.len);
    CHECK(strstr(t.buf, "  a = 0xa5 (165)\n") != NULL);
    CHECK(strstr(t.buf, "  b = 0xbeef (48879)\n") != NULL);
    CHECK(strstr(t.buf, "  c = 0x12345678 (305419896)\n") != NULL);
    CHECK(strstr(t.buf, "  e = 0xffffffffffffffd6 (-42)\n") != NULL);
    CHECK(strstr(t.buf, "  f = true\n") != NULL);
    CHECK(strstr(t.buf, "  bytes = 01 08 0f 16") != NULL);
    CHECK(strstr(t.buf, "... (40 bytes)\n") != NULL);
    CHECK(strstr(t.buf, "  arr32 = [0x1, 0xffffffff, 0x3]\n") != NULL);
    CHECK(strstr(t.buf, "  arr64 = [0x8000000000000000, 0x5]\n") != NULL);
    CHECK(strstr(t.buf, "  newer = 0x99 (153)\n") != NULL);
    CHECK(strstr(t.buf, "  extra {\n    x = 0xcafe (51966)\n    y = 0xfeedface00000001") != NULL);
    CHECK(strstr(t.buf, "\n  }\n") != NULL);

    /* without a description: numbered fields with their types */
    CHECK_EQ(dump(&mb, NULL, &t), 0);
    CHECK(strstr(t.buf, "  field 3 (u32, must understand) = 0x12345678 (305419896)\n") != NULL);
    CHECK(strstr(t.buf, "  field 10 (u32) = 0x99 (153)\n") != NULL);
    CHECK(strstr(t.buf, "  field 20 (struct) {\n    field 1 (u32, must understand) = 0xcafe") !=
          NULL);

    /* a truncated section fails cleanly */
    mb.len -= 5;
    CHECK_EQ(dump(&mb, &ts_v2, &t), -EPIPE);
    if (test_failed_)
        printf("%s", t.buf);
    membuf_free(&mb);
}

/* Every truncation and every single-byte corruption of a section payload
 * either loads or fails with a message; nothing crashes (run under ASan). */
static void corrupt_payloads(void)
{
    struct membuf mb = {0}, copy = {0};
    struct ts in, out;
    struct test_text t;
    fill(&in);
    save(&mb, &ts_v2, 0, &in);
    copy = mb;
    copy.data = malloc(mb.len);
    CHECK(copy.data != NULL);
    if (!copy.data)
        return;
    copy.cap = mb.len;
    for (size_t i = 0; i < mb.len; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(copy.data, mb.data, mb.len);
            copy.len = mb.len;
            copy.data[i] ^= (uint8_t)(1u << bit);
            memset(&out, 0, sizeof(out));
            int rc = load(&copy, &ts_v2, &out);
            if (rc < 0)
                CHECK(err_msg()[0] != 0);
            rc = dump(&copy, &ts_v2, &t);
            if (rc < 0)
                CHECK(err_msg()[0] != 0);
        }
        copy.len = i;
        CHECK(load(&copy, &ts_v2, &out) < 0);
    }
    free(copy.data);
    membuf_free(&mb);
}

static const struct test_case tests[] = {
    TEST(desc_check),
    TEST(round_trip),
    TEST(encoding_bytes),
    TEST(older_stream),
    TEST(newer_stream_fields),
    TEST(newer_stream_subsections),
    TEST(optional_field),
    TEST(doc_example),
    TEST(missing_field),
    TEST(wrong_type_and_length),
    TEST(versions),
    TEST(post_load),
    TEST(dump_output),
    TEST(corrupt_payloads),
};

TEST_MAIN("vmstate", tests)
