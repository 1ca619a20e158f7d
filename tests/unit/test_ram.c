/* RAM sections (migrate/ram.h): what the sender writes, the loader puts
 * back, through its whole-section buffer and record by record (no buffer,
 * or a section larger than it); damaged sections are refused. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "migrate/channel.h"
#include "migrate/ram.h"
#include "migrate/stream.h"
#include "test.h"

#define RAM_SIZE (16u << 20)

static void fill(struct guest_mem *m, uint32_t seed)
{
    /* pages 0-299 (over two 2 MiB chunks) non-zero, 300-399 zero, then
     * every 7th page of the rest non-zero */
    for (uint64_t pg = 0; pg < RAM_SIZE / 4096; pg++) {
        uint8_t *p = gmem_ptr(m, pg * 4096, 4096);
        if (!p)
            continue;
        if (pg < 300 || (pg >= 400 && pg % 7 == 0)) {
            uint32_t x = seed + (uint32_t)pg;
            for (unsigned i = 0; i < 4096; i++) {
                x = x * 1103515245u + 12345u;
                p[i] = (uint8_t)(x >> 16);
            }
        } else {
            memset(p, 0, 4096);
        }
    }
}

static bool same(const struct guest_mem *a, const struct guest_mem *b)
{
    for (unsigned i = 0; i < a->count; i++)
        if (memcmp(a->region[i].hva, b->region[i].hva, (size_t)a->region[i].size) != 0)
            return false;
    return true;
}

/* Writes round 0 of src (zero pages skipped) and then every page of the first
 * 64 as a round-1 section, with zero records, to mb. */
static void send_rounds(const struct guest_mem *src, struct membuf *mb)
{
    struct channel ch;
    struct stream_writer w;
    struct ram_sender rs;

    membuf_channel(&ch, mb);
    stream_writer_init(&w, &ch);
    CHECK_EQ(ram_sender_init(&rs, &w, src), 0);
    ram_send_all(&rs, true);
    rs.round = 1;
    for (uint64_t pg = 296; pg < 360; pg++)
        ram_send_page(&rs, pg * 4096, false);
    ram_flush(&rs);
    CHECK_EQ(stream_flush(&w), 0);
    CHECK(rs.pages > 0);
    CHECK(rs.zero_pages > 0);
    ram_sender_free(&rs);
    stream_writer_free(&w);
}

/* Loads every section of mb into dst with a loader set up as asked. */
static int load_all(struct membuf *mb, struct guest_mem *dst, bool buffered, unsigned *sections)
{
    struct channel ch;
    struct stream_reader r;
    struct stream_section sec;
    struct ram_loader ld;
    int rc = 0;

    mb->pos = 0;
    membuf_channel(&ch, mb);
    stream_reader_init(&r, &ch);
    ram_loader_init(&ld, dst);
    if (!buffered) {
        free(ld.buf);
        ld.buf = NULL;
    }
    *sections = 0;
    while (mb->pos < mb->len) {
        if ((rc = stream_get_section(&r, &sec)) < 0)
            break;
        CHECK_EQ(sec.tag, STREAM_SEC_RAM);
        if ((rc = ram_load_section(&r, &sec, &ld)) < 0)
            break;
        ++*sections;
    }
    ram_loader_free(&ld);
    return rc;
}

static void roundtrip(bool buffered)
{
    struct guest_mem src, dst;
    struct membuf mb = {0};
    unsigned n;

    CHECK_EQ(gmem_init(&src, RAM_SIZE), 0);
    CHECK_EQ(gmem_init(&dst, RAM_SIZE), 0);
    fill(&src, 1);
    send_rounds(&src, &mb);
    /* the destination's own garbage where round 1 sends zero pages */
    memset(gmem_ptr(&dst, 320 * 4096, 4096), 0x5a, 4096);
    CHECK_EQ(load_all(&mb, &dst, buffered, &n), 0);
    CHECK(n > 2);
    CHECK(same(&src, &dst));
    membuf_free(&mb);
    gmem_destroy(&src);
    gmem_destroy(&dst);
}

static void load_buffered(void)
{
    roundtrip(true);
}

static void load_record_by_record(void)
{
    roundtrip(false);
}

/* A section larger than the loader's buffer (another sender may batch more)
 * is read record by record. */
static void load_large_section(void)
{
    struct guest_mem src, dst;
    struct membuf mb = {0};
    struct channel ch;
    struct stream_writer w;
    unsigned n, pages = RAM_LOAD_BUF / 4104 + 40;

    CHECK_EQ(gmem_init(&src, RAM_SIZE), 0);
    CHECK_EQ(gmem_init(&dst, RAM_SIZE), 0);
    fill(&src, 2);
    membuf_channel(&ch, &mb);
    stream_writer_init(&w, &ch);
    stream_put_section(&w, STREAM_SEC_RAM, "ram", 0, RAM_SECTION_VERSION, (uint64_t)pages * 4104);
    for (unsigned pg = 0; pg < pages; pg++) {
        uint64_t rec = (uint64_t)pg * 4096 | RAM_REC_PAGE;
        stream_put_u64(&w, rec);
        stream_put_bytes(&w, gmem_ptr(&src, (uint64_t)pg * 4096, 4096), 4096);
    }
    CHECK_EQ(stream_flush(&w), 0);
    stream_writer_free(&w);
    CHECK(mb.len > RAM_LOAD_BUF);
    CHECK_EQ(load_all(&mb, &dst, true, &n), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(memcmp(gmem_ptr(&src, 0, (uint64_t)pages * 4096),
                    gmem_ptr(&dst, 0, (uint64_t)pages * 4096), (size_t)pages * 4096),
             0);
    membuf_free(&mb);
    gmem_destroy(&src);
    gmem_destroy(&dst);
}

/* One section: a good page record, then the record under test. */
static int load_damaged(uint64_t rec, uint64_t length, bool buffered, struct guest_mem *dst)
{
    struct membuf mb = {0};
    struct channel ch;
    struct stream_writer w;
    uint8_t page[4096];
    unsigned n;

    memset(page, 0x77, sizeof(page));
    membuf_channel(&ch, &mb);
    stream_writer_init(&w, &ch);
    stream_put_section(&w, STREAM_SEC_RAM, "ram", 0, RAM_SECTION_VERSION, length);
    stream_put_u64(&w, 8192 | RAM_REC_PAGE);
    stream_put_bytes(&w, page, sizeof(page));
    stream_put_u64(&w, rec);
    if ((rec & 4095) == RAM_REC_PAGE)
        stream_put_bytes(&w, page, length - 4104 - 8 < 4096 ? length - 4104 - 8 : 4096);
    CHECK_EQ(stream_flush(&w), 0);
    stream_writer_free(&w);
    int rc = load_all(&mb, dst, buffered, &n);
    membuf_free(&mb);
    return rc;
}

static void damaged_sections(void)
{
    struct guest_mem dst;

    CHECK_EQ(gmem_init(&dst, RAM_SIZE), 0);
    for (int buffered = 0; buffered < 2; buffered++) {
        CHECK_EQ(load_damaged((uint64_t)RAM_SIZE * 4 | RAM_REC_PAGE, 2 * 4104, buffered, &dst),
                 -EBADMSG);
        CHECK(strstr(err_msg(), "outside guest memory") != NULL);
        CHECK_EQ(load_damaged(4096 | 7, 4104 + 8, buffered, &dst), -EBADMSG);
        CHECK(strstr(err_msg(), "unknown record kind 7") != NULL);
        CHECK_EQ(load_damaged(4096 | RAM_REC_PAGE, 4104 + 8 + 100, buffered, &dst), -EBADMSG);
        CHECK(strstr(err_msg(), "truncated page") != NULL);
        CHECK_EQ(load_damaged(4096 | RAM_REC_ZERO, 4104 + 5, buffered, &dst), -EBADMSG);
        CHECK(strstr(err_msg(), "truncated page record") != NULL);
    }
    /* nothing but the good record's page was written */
    CHECK_EQ(*(uint8_t *)gmem_ptr(&dst, 8192, 1), 0x77);
    CHECK_EQ(*(uint8_t *)gmem_ptr(&dst, 4096, 1), 0);
    gmem_destroy(&dst);
}

static const struct test_case tests[] = {
    TEST(load_buffered),
    TEST(load_record_by_record),
    TEST(load_large_section),
    TEST(damaged_sections),
};

TEST_MAIN("ram", tests)
