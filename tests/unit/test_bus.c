/* core/bus: registration, overlap refusal, dispatch, unhandled accesses. */
#include "core/bus.h"
#include "test.h"

struct fake {
    uint64_t last_off, last_val;
    unsigned last_size, writes;
};

static uint64_t fake_read(void *opaque, uint64_t off, unsigned size)
{
    struct fake *f = opaque;
    f->last_off = off;
    f->last_size = size;
    return 0x1000 + off;
}

static void fake_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct fake *f = opaque;
    f->last_off = off;
    f->last_val = val;
    f->last_size = size;
    f->writes++;
}

static const struct bus_ops fake_ops = {fake_read, fake_write};

static void dispatch(void)
{
    struct bus b;
    struct fake a = {0}, c = {0};
    uint64_t v;

    bus_init(&b, "pio");
    CHECK_EQ(bus_register(&b, 0x3f8, 8, &fake_ops, &a, "a"), 0);
    CHECK_EQ(bus_register(&b, 0x60, 1, &fake_ops, &c, "c"), 0);
    CHECK_EQ(bus_read(&b, 0x3fa, 1, &v), 0);
    CHECK_EQ(v, 0x1002);
    CHECK_EQ(a.last_off, 2);
    CHECK_EQ(bus_write(&b, 0x60, 1, 0xfe), 0);
    CHECK_EQ(c.last_val, 0xfe);
    CHECK_EQ(c.writes, 1);
    CHECK_EQ(a.writes, 0);
    bus_destroy(&b);
}

static void overlap_refused(void)
{
    struct bus b;
    struct fake a = {0};

    bus_init(&b, "mmio");
    CHECK_EQ(bus_register(&b, 0x1000, 0x100, &fake_ops, &a, "a"), 0);
    CHECK_EQ(bus_register(&b, 0x10ff, 1, &fake_ops, &a, "b"), -EEXIST);
    CHECK_EQ(bus_register(&b, 0xf00, 0x101, &fake_ops, &a, "c"), -EEXIST);
    CHECK_EQ(bus_register(&b, 0x1100, 0x10, &fake_ops, &a, "d"), 0);
    CHECK_EQ(bus_register(&b, 0xff0, 0x10, &fake_ops, &a, "e"), 0);
    CHECK_EQ(bus_register(&b, 0x2000, 0, &fake_ops, &a, "empty"), -EINVAL);
    CHECK(bus_find(&b, 0x10ff) != NULL);
    CHECK_STR(bus_find(&b, 0x1100)->name, "d");
    CHECK(bus_find(&b, 0x1110) == NULL);
    bus_destroy(&b);
}

static void unhandled_reads_all_ones(void)
{
    struct bus b;
    uint64_t v = 0;

    bus_init(&b, "pio");
    CHECK_EQ(bus_read(&b, 0x123, 1, &v), -ENOENT);
    CHECK_EQ(v, 0xff);
    CHECK_EQ(bus_read(&b, 0x123, 2, &v), -ENOENT);
    CHECK_EQ(v, 0xffff);
    CHECK_EQ(bus_read(&b, 0x123, 4, &v), -ENOENT);
    CHECK_EQ(v, 0xffffffffu);
    CHECK_EQ(bus_read(&b, 0x123, 8, &v), -ENOENT);
    CHECK_EQ(v, ~0ull);
    CHECK_EQ(bus_write(&b, 0x123, 1, 0), -ENOENT);
    CHECK_EQ(b.unhandled, 5);
    bus_destroy(&b);
}

static const struct test_case tests[] = {
    TEST(dispatch),
    TEST(overlap_refused),
    TEST(unhandled_reads_all_ones),
};
TEST_MAIN("bus", tests)
