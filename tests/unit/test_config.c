/* core/config: size, count and serial-spec parsing. */
#include "core/config.h"
#include "test.h"

static void sizes(void)
{
    uint64_t v = 0;

    CHECK_EQ(config_parse_size("256M", &v), 0);
    CHECK_EQ(v, 256ull << 20);
    CHECK_EQ(config_parse_size("256", &v), 0);
    CHECK_EQ(v, 256ull << 20);
    CHECK_EQ(config_parse_size("1G", &v), 0);
    CHECK_EQ(v, 1ull << 30);
    CHECK_EQ(config_parse_size("2GiB", &v), 0);
    CHECK_EQ(v, 2ull << 30);
    CHECK_EQ(config_parse_size("4096k", &v), 0);
    CHECK_EQ(v, 4096ull << 10);
    CHECK_EQ(config_parse_size("1048576B", &v), 0);
    CHECK_EQ(v, 1048576);
    CHECK_EQ(config_parse_size("12MB", &v), 0);
    CHECK_EQ(v, 12ull << 20);
}

static void bad_sizes(void)
{
    uint64_t v = 0;

    CHECK_EQ(config_parse_size("", &v), -EINVAL);
    CHECK_EQ(config_parse_size("abc", &v), -EINVAL);
    CHECK_EQ(config_parse_size("12X", &v), -EINVAL);
    CHECK_EQ(config_parse_size("-5M", &v), -EINVAL);
    CHECK_EQ(config_parse_size("1.5G", &v), -EINVAL);
    CHECK_EQ(config_parse_size("99999999999999999999", &v), -ERANGE);
    CHECK_EQ(config_parse_size("99999999999T", &v), -ERANGE);
    CHECK(strstr(err_msg(), "too large") != NULL);
}

static void counts(void)
{
    unsigned v = 0;

    CHECK_EQ(config_parse_uint("2", 1, 64, &v), 0);
    CHECK_EQ(v, 2);
    CHECK_EQ(config_parse_uint("0", 1, 64, &v), -ERANGE);
    CHECK_EQ(config_parse_uint("65", 1, 64, &v), -ERANGE);
    CHECK_EQ(config_parse_uint("2x", 1, 64, &v), -EINVAL);
    CHECK_EQ(config_parse_uint("", 1, 64, &v), -EINVAL);
}

static void serial_specs(void)
{
    enum serial_mode m;
    const char *path;

    CHECK_EQ(config_parse_serial("stdio", &m, &path), 0);
    CHECK_EQ(m, SERIAL_STDIO);
    CHECK_EQ(config_parse_serial("file:/tmp/x", &m, &path), 0);
    CHECK_EQ(m, SERIAL_FILE);
    CHECK_STR(path, "/tmp/x");
    CHECK_EQ(config_parse_serial("file:", &m, &path), -EINVAL);
    CHECK_EQ(config_parse_serial("tcp:1", &m, &path), -EINVAL);
}

static const struct test_case tests[] = {
    TEST(sizes),
    TEST(bad_sizes),
    TEST(counts),
    TEST(serial_specs),
};
TEST_MAIN("config", tests)
