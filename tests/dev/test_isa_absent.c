/* dev/isa_absent: the ports of absent ISA devices (COM2-COM4, LPT1-LPT3,
 * the floppy controller) read all-ones and take writes, without counting
 * as unhandled; the ports around them stay unhandled. */
#include "core/bus.h"
#include "dev/isa_absent.h"
#include "dev/uart16550.h"
#include "test.h"

static void quiet_all_ones(void)
{
    struct bus pio;
    struct isa_absent a;
    uint64_t v = 0;
    unsigned ports = 0;

    bus_init(&pio, "pio");
    isa_absent_init(&a);
    CHECK_EQ(isa_absent_register_pio(&a, &pio), 0);
    for (unsigned i = 0; i < ISA_ABSENT_NRANGES; i++) {
        const struct isa_absent_range *r = &isa_absent_ranges[i];
        for (unsigned p = r->base; p < r->base + r->len; p++, ports++) {
            CHECK_EQ(bus_write(&pio, p, 1, 0x5a), 0);
            CHECK_EQ(bus_read(&pio, p, 1, &v), 0);
            CHECK_EQ(v, 0xff); /* what was written does not read back */
        }
        CHECK_EQ(bus_read(&pio, r->base, 2, &v), 0);
        CHECK_EQ(v, 0xffff);
    }
    CHECK_EQ(pio.unhandled, 0);
    CHECK_EQ(a.accesses, 2 * ports + ISA_ABSENT_NRANGES);
    /* the 8250 driver's probe of COM2: scratch register, then IER */
    CHECK_EQ(bus_write(&pio, 0x2ff, 1, 0x55), 0);
    CHECK_EQ(bus_read(&pio, 0x2ff, 1, &v), 0);
    CHECK(v != 0x55);
    /* ports next to them are still unknown, and still reported (the
     * warnings themselves are kept out of the test's output) */
    enum log_level level = log_get_level();
    log_set_level(LOG_ERROR);
    CHECK_EQ(bus_read(&pio, 0x3f6, 1, &v), -ENOENT); /* the primary ATA's, not the floppy's */
    CHECK_EQ(bus_read(&pio, 0x300, 1, &v), -ENOENT);
    log_set_level(level);
    CHECK_EQ(pio.unhandled, 2);
    bus_destroy(&pio);
}

static void leaves_com1_alone(void)
{
    struct bus pio;
    struct isa_absent a;

    bus_init(&pio, "pio");
    isa_absent_init(&a);
    CHECK_EQ(isa_absent_register_pio(&a, &pio), 0);
    CHECK(bus_find(&pio, UART16550_COM1_BASE) == NULL);
    /* a second claim of the same ports is refused */
    CHECK_EQ(isa_absent_register_pio(&a, &pio), -EEXIST);
    bus_destroy(&pio);
}

static const struct test_case tests[] = {
    TEST(quiet_all_ones),
    TEST(leaves_com1_alone),
};
TEST_MAIN("isa_absent", tests)
