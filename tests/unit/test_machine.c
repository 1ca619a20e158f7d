/* The config section (migrate/machine.h) and its read-receipt field, and
 * the SYNC section that asks for a receipt (docs/migration-format.md,
 * "Read receipts"): written and read back, marked so that an older roam
 * skips it, and listed by stream-dump. */
#include <string.h>

#include "core/config.h"
#include "core/vm.h"
#include "migrate/channel.h"
#include "migrate/dump.h"
#include "migrate/machine.h"
#include "migrate/stream.h"
#include "test.h"

static struct vm *make_vm(void)
{
    struct vm_config cfg;
    struct vm *vm = NULL;

    config_defaults(&cfg);
    cfg.mem_size = 4u << 20;
    cfg.engine = "emu";
    cfg.serial = SERIAL_NONE;
    cfg.incoming = "unix:/nonexistent/x.mig"; /* no kernel: waits for state */
    if (vm_create(&vm, &cfg) < 0) {
        printf("  vm_create: %s\n", err_msg());
        return NULL;
    }
    return vm;
}

/* Writes a stream of header + config; returns the config payload's offset. */
static size_t write_config(struct membuf *mb, struct vm *vm, bool receipts)
{
    struct channel ch;
    struct stream_writer w;

    membuf_channel(&ch, mb);
    stream_writer_init(&w, &ch);
    stream_put_header(&w);
    size_t at = (size_t)w.bytes;
    machine_put_config(&w, vm, receipts);
    CHECK_EQ(stream_flush(&w), 0);
    stream_writer_free(&w);
    return at + 1 + 1 + strlen("machine") + 4 + 4 + 8; /* past the section header */
}

static int read_config(struct membuf *mb, struct vm *vm, struct machine_config_info *info)
{
    struct channel ch;
    struct stream_reader r;
    struct stream_section sec;
    uint32_t version;
    int rc;

    mb->pos = 0;
    membuf_channel(&ch, mb);
    stream_reader_init(&r, &ch);
    if ((rc = stream_get_header(&r, &version)) < 0 || (rc = stream_get_section(&r, &sec)) < 0)
        return rc;
    return machine_check_config(&r, &sec, vm, info);
}

/* Field 9 is there only when asked for, reads back, and is optional (its
 * type byte has no must-understand bit), so an older destination, which
 * does not know it, skips it and answers ROAMCFOK. */
static void config_receipts(void)
{
    struct vm *vm = make_vm();
    struct machine_config_info info;

    CHECK(vm != NULL);
    if (!vm)
        return;
    for (int on = 0; on <= 1; on++) {
        struct membuf mb = {0};
        size_t p = write_config(&mb, vm, on), end = mb.len;
        bool seen = false;
        CHECK_EQ(read_config(&mb, vm, &info), 0);
        CHECK_EQ(info.receipts, (bool)on);
        CHECK_EQ(info.mem_size, 4u << 20);
        while (p + 7 <= end) { /* walk the TLV fields: id u16, type u8, length u32 */
            unsigned id = mb.data[p] | mb.data[p + 1] << 8;
            uint8_t type = mb.data[p + 2];
            uint32_t len = (uint32_t)mb.data[p + 3] | (uint32_t)mb.data[p + 4] << 8 |
                           (uint32_t)mb.data[p + 5] << 16 | (uint32_t)mb.data[p + 6] << 24;
            if (id == 9) {
                seen = true;
                CHECK_EQ(type, STREAM_T_U32); /* no STREAM_T_MUST */
                CHECK_EQ(len, 4u);
                CHECK_EQ(mb.data[p + 7], 1);
            }
            p += 7 + len;
        }
        CHECK_EQ(p, end);
        CHECK_EQ(seen, (bool)on);
        membuf_free(&mb);
    }
    vm_destroy(vm);
}

/* A wrongly typed field 9 is refused like any known field. */
static void config_receipts_wrong_type(void)
{
    struct vm *vm = make_vm();
    struct machine_config_info info;
    struct membuf mb = {0};

    CHECK(vm != NULL);
    if (!vm)
        return;
    write_config(&mb, vm, true);
    /* the field is the last one: id 2 bytes, type, length 4, value 4 */
    CHECK_EQ(mb.data[mb.len - 9], STREAM_T_U32);
    mb.data[mb.len - 9] = STREAM_T_U64;
    CHECK(read_config(&mb, vm, &info) < 0);
    CHECK_STR(err_msg(), "config: field 9 has the wrong type");
    membuf_free(&mb);
    vm_destroy(vm);
}

/* stream-dump names a SYNC section and the receipts field. */
static void sync_dump(void)
{
    struct vm *vm = make_vm();
    struct membuf mb = {0};
    struct channel ch;
    struct stream_writer w;
    struct test_text out = {{0}, 0, 0};

    CHECK(vm != NULL);
    if (!vm)
        return;
    membuf_channel(&ch, &mb);
    stream_writer_init(&w, &ch);
    stream_put_header(&w);
    machine_put_config(&w, vm, true);
    stream_put_section(&w, STREAM_SEC_SYNC, STREAM_SYNC_NAME, 3, STREAM_SYNC_VERSION, 0);
    CHECK_EQ(stream_put_end(&w), 0);
    stream_writer_free(&w);
    CHECK_EQ(stream_dump(&ch, test_text_add, &out), 0);
    CHECK(strstr(out.buf, "  read_receipts = 1\n") != NULL);
    CHECK(strstr(out.buf, "\nsync section 'sync' instance 3 version 1 (0 bytes)\nend: checksum ok")
          != NULL);
    if (!strstr(out.buf, "sync section"))
        printf("%s", out.buf);
    membuf_free(&mb);
    vm_destroy(vm);
}

static const struct test_case tests[] = {
    TEST(config_receipts),
    TEST(config_receipts_wrong_type),
    TEST(sync_dump),
};

TEST_MAIN("machine", tests)
