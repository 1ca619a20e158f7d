/* dev/fwcfg driven through the PIO bus: selector, data reads, the
 * standard items, fwcfg_add and QEMU's access decoding. */
#include "core/bus.h"
#include "dev/fwcfg.h"
#include "test.h"

struct fix {
    struct bus pio;
    struct fwcfg *fw;
};

static void fix_init(struct fix *f)
{
    bus_init(&f->pio, "pio");
    CHECK_EQ(fwcfg_create(&f->fw), 0);
    CHECK_EQ(fwcfg_register_pio(f->fw, &f->pio), 0);
}

static void fix_fini(struct fix *f)
{
    CHECK_EQ(f->pio.unhandled, 0);
    fwcfg_destroy(f->fw);
    bus_destroy(&f->pio);
}

static void select_key(struct fix *f, uint16_t key)
{
    CHECK_EQ(bus_write(&f->pio, 0x510, 2, key), 0);
}

static uint8_t data(struct fix *f)
{
    uint64_t v = 0xaa;
    CHECK_EQ(bus_read(&f->pio, 0x511, 1, &v), 0);
    return (uint8_t)v;
}

/* Reads n bytes of the selected item as a little-endian number. */
static uint64_t read_le(struct fix *f, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)data(f) << (8 * i);
    return v;
}

static void signature_and_id(void)
{
    struct fix f;
    char sig[5] = {0};

    fix_init(&f);
    select_key(&f, FWCFG_KEY_SIGNATURE);
    for (int i = 0; i < 4; i++)
        sig[i] = (char)data(&f);
    CHECK_STR(sig, "QEMU");
    CHECK_EQ(data(&f), 0); /* past the end */
    CHECK_EQ(data(&f), 0);
    select_key(&f, FWCFG_KEY_ID);
    CHECK_EQ(read_le(&f, 4), FWCFG_ID_TRADITIONAL); /* no DMA */
    CHECK_EQ(data(&f), 0);
    /* selecting rewinds */
    select_key(&f, FWCFG_KEY_SIGNATURE);
    CHECK_EQ(data(&f), 'Q');
    select_key(&f, FWCFG_KEY_SIGNATURE);
    CHECK_EQ(data(&f), 'Q');
    CHECK_EQ(data(&f), 'E');
    fix_fini(&f);
}

static void machine_items(void)
{
    struct fix f;
    size_t len;

    fix_init(&f);
    CHECK_EQ(fwcfg_set_ram_size(f.fw, 0x123456789ull), 0);
    CHECK_EQ(fwcfg_set_max_ram(f.fw, 0x2000000000ull), 0);
    CHECK_EQ(fwcfg_set_cpu_count(f.fw, 3), 0);
    CHECK_EQ(fwcfg_set_max_cpus(f.fw, 0x0102), 0);
    select_key(&f, 0x0003);
    CHECK_EQ(read_le(&f, 8), 0x123456789ull);
    CHECK_EQ(data(&f), 0);
    select_key(&f, 0x0011);
    CHECK_EQ(read_le(&f, 8), 0x2000000000ull);
    select_key(&f, 0x0005);
    CHECK_EQ(data(&f), 3);
    CHECK_EQ(data(&f), 0);
    CHECK_EQ(data(&f), 0); /* a 2-byte item */
    select_key(&f, 0x000f);
    CHECK_EQ(read_le(&f, 2), 0x0102);
    CHECK(fwcfg_get(f.fw, FWCFG_KEY_NB_CPUS, &len) != NULL);
    CHECK_EQ(len, 2);
    /* setting again replaces the item */
    CHECK_EQ(fwcfg_set_ram_size(f.fw, 64ull << 20), 0);
    select_key(&f, 0x0003);
    CHECK_EQ(read_le(&f, 8), 64ull << 20);
    /* an item nobody added reads as zeros */
    select_key(&f, 0x0019);
    CHECK_EQ(read_le(&f, 8), 0);
    fix_fini(&f);
}

static void add_items(void)
{
    struct fix f;
    uint8_t buf[3] = {1, 2, 3};
    size_t len = 99;

    fix_init(&f);
    CHECK_EQ(fwcfg_add(f.fw, 0x8001, buf, sizeof(buf)), 0);
    buf[0] = 9; /* the device keeps its own copy */
    select_key(&f, 0x8001);
    CHECK_EQ(read_le(&f, 3), 0x030201);
    CHECK_EQ(data(&f), 0);
    /* the architecture-local bit makes a different key */
    select_key(&f, 0x0001);
    CHECK_EQ(data(&f), 1);
    /* the write-channel bit is ignored when selecting */
    select_key(&f, 0x4000 | 0x8001);
    CHECK_EQ(data(&f), 1);
    CHECK_EQ(fwcfg_add(f.fw, 0x4002, buf, 1), -EINVAL);
    /* an empty item */
    CHECK_EQ(fwcfg_add(f.fw, 0x0020, NULL, 0), 0);
    CHECK(fwcfg_get(f.fw, 0x0020, &len) != NULL);
    CHECK_EQ(len, 0);
    select_key(&f, 0x0020);
    CHECK_EQ(data(&f), 0);
    CHECK(fwcfg_get(f.fw, 0x0021, &len) == NULL);
    CHECK_EQ(len, 0);
    /* many items (the table grows) */
    for (uint16_t k = 0x100; k < 0x140; k++)
        CHECK_EQ(fwcfg_add(f.fw, k, &k, sizeof(k)), 0);
    select_key(&f, 0x013f);
    CHECK_EQ(read_le(&f, 2), 0x013f);
    fix_fini(&f);
}

static void access_decoding(void)
{
    struct fix f;
    uint64_t v;

    fix_init(&f);
    CHECK_EQ(fwcfg_set_cpu_count(f.fw, 0x0807), 0);
    select_key(&f, FWCFG_KEY_NB_CPUS);
    /* 8-bit writes (the old data-write path) are ignored */
    CHECK_EQ(bus_write(&f.pio, 0x511, 1, 0x55), 0);
    CHECK_EQ(bus_write(&f.pio, 0x510, 1, 0x00), 0);
    /* wider reads return 0 and do not advance */
    v = 0xaa;
    CHECK_EQ(bus_read(&f.pio, 0x511, 2, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(bus_read(&f.pio, 0x510, 4, &v), 0);
    CHECK_EQ(v, 0);
    /* as in QEMU, a byte read at 0x510 is a data read too */
    CHECK_EQ(bus_read(&f.pio, 0x510, 1, &v), 0);
    CHECK_EQ(v, 0x07);
    CHECK_EQ(data(&f), 0x08);
    /* and a 16-bit write at 0x511 selects */
    CHECK_EQ(bus_write(&f.pio, 0x511, 2, FWCFG_KEY_SIGNATURE), 0);
    CHECK_EQ(data(&f), 'Q');
    fix_fini(&f);
}

static void reset_and_migration_state(void)
{
    struct fix f;
    struct fwcfg *b;

    fix_init(&f);
    CHECK_EQ(fwcfg_set_ram_size(f.fw, 0x1122334455667788ull), 0);
    select_key(&f, FWCFG_KEY_RAM_SIZE);
    CHECK_EQ(data(&f), 0x88);
    CHECK_EQ(data(&f), 0x77);
    /* a destination configured alike continues where the source stopped */
    CHECK_EQ(fwcfg_create(&b), 0);
    CHECK_EQ(fwcfg_set_ram_size(b, 0x1122334455667788ull), 0);
    b->s = f.fw->s;
    fwcfg_destroy(f.fw);
    f.fw = b;
    bus_destroy(&f.pio);
    bus_init(&f.pio, "pio");
    CHECK_EQ(bus_register(&f.pio, FWCFG_PORT, FWCFG_NR_PORTS, &fwcfg_ops, b, "fwcfg"), 0);
    CHECK_EQ(data(&f), 0x66);
    /* reset selects the signature */
    fwcfg_reset(b);
    CHECK_EQ(data(&f), 'Q');
    fix_fini(&f);
}

static const struct test_case tests[] = {
    TEST(signature_and_id),
    TEST(machine_items),
    TEST(add_items),
    TEST(access_decoding),
    TEST(reset_and_migration_state),
};
TEST_MAIN("fwcfg", tests)
