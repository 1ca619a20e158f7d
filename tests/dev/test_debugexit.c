/* dev/debugexit: the guest's code becomes status (code << 1) | 1. */
#include "core/bus.h"
#include "dev/debugexit.h"
#include "test.h"

struct fix {
    struct bus pio;
    struct debugexit *d;
    unsigned calls;
    uint32_t status;
};

static void exit_rec(void *opaque, uint32_t status)
{
    struct fix *f = opaque;
    f->calls++;
    f->status = status;
}

static void fix_init(struct fix *f)
{
    memset(f, 0, sizeof(*f));
    bus_init(&f->pio, "pio");
    CHECK_EQ(debugexit_create(&f->d, exit_rec, f), 0);
    CHECK_EQ(debugexit_register_pio(f->d, &f->pio), 0);
}

static void fix_fini(struct fix *f)
{
    debugexit_destroy(f->d);
    bus_destroy(&f->pio);
}

static void write_sizes(void)
{
    struct fix f;

    fix_init(&f);
    CHECK_EQ(bus_write(&f.pio, 0xf4, 1, 0x00), 0);
    CHECK_EQ(f.calls, 1);
    CHECK_EQ(f.status, 1);
    CHECK_EQ(bus_write(&f.pio, 0xf4, 1, 0x10), 0);
    CHECK_EQ(f.status, 0x21);
    CHECK_EQ(bus_write(&f.pio, 0xf4, 1, 0x1ff), 0); /* a byte access carries a byte */
    CHECK_EQ(f.status, 0x1ff);
    CHECK_EQ(bus_write(&f.pio, 0xf4, 2, 0x1234), 0);
    CHECK_EQ(f.status, 0x2469);
    CHECK_EQ(bus_write(&f.pio, 0xf4, 4, 0x00abcdef), 0);
    CHECK_EQ(f.status, 0x01579bdf);
    CHECK_EQ(f.d->s.code, 0x00abcdef);
    CHECK_EQ(f.d->s.exited, 1);
    /* the whole 4-port window is the register */
    CHECK_EQ(bus_write(&f.pio, 0xf7, 1, 0x02), 0);
    CHECK_EQ(f.status, 5);
    CHECK_EQ(f.calls, 6);
    fix_fini(&f);
}

static void reads_zero(void)
{
    struct fix f;
    uint64_t v = 1;

    fix_init(&f);
    CHECK_EQ(bus_read(&f.pio, 0xf4, 1, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(bus_read(&f.pio, 0xf4, 4, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(f.calls, 0);
    fix_fini(&f);
}

static void status_values(void)
{
    struct fix f;

    /* always odd; the low 8 bits match QEMU's exit() */
    CHECK_EQ(debugexit_status(0), 1);
    CHECK_EQ(debugexit_status(1), 3);
    CHECK_EQ(debugexit_status(0x7f), 0xff);
    CHECK_EQ(debugexit_status(0xffffffffu), 0xffffffffu);
    CHECK_EQ(debugexit_status(0x80000001u), 3);
    /* no callback: the write is recorded, nothing is called */
    fix_init(&f);
    f.d->exit_cb = NULL;
    CHECK_EQ(bus_write(&f.pio, 0xf4, 1, 7), 0);
    CHECK_EQ(f.calls, 0);
    CHECK_EQ(f.d->s.code, 7);
    debugexit_reset(f.d);
    CHECK_EQ(f.d->s.exited, 0);
    CHECK_EQ(f.d->s.code, 0);
    fix_fini(&f);
}

static const struct test_case tests[] = {
    TEST(write_sizes),
    TEST(reads_zero),
    TEST(status_values),
};
TEST_MAIN("debugexit", tests)
