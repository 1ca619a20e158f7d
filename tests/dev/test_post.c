/* dev/post: port 0x80 is claimed, remembers the last code, reads 0xff. */
#include "core/bus.h"
#include "dev/post.h"
#include "test.h"

static void claims_port_80(void)
{
    struct bus pio;
    struct post *p;
    uint64_t v = 0;

    bus_init(&pio, "pio");
    CHECK_EQ(post_create(&p), 0);
    CHECK_EQ(post_register_pio(p, &pio), 0);
    CHECK_EQ(post_code(p), -1);
    CHECK_EQ(bus_write(&pio, 0x80, 1, 0x12), 0);
    CHECK_EQ(bus_write(&pio, 0x80, 1, 0x34), 0);
    CHECK_EQ(post_code(p), 0x34);
    CHECK_EQ(bus_read(&pio, 0x80, 1, &v), 0);
    CHECK_EQ(v, 0xff);
    CHECK_EQ(bus_read(&pio, 0x80, 2, &v), 0);
    CHECK_EQ(v, 0xffff);
    CHECK_EQ(pio.unhandled, 0); /* nothing reported as unhandled */
    post_reset(p);
    CHECK_EQ(post_code(p), -1);
    post_destroy(p);
    bus_destroy(&pio);
}

static const struct test_case tests[] = {
    TEST(claims_port_80),
};
TEST_MAIN("post", tests)
