/* core/console: the Ctrl-A escape keys and the queue of input for the guest. */
#include "core/console.h"
#include "test.h"

/* Feeds a string; returns the actions and leaves the queued bytes,
 * NUL-terminated, in out. */
static unsigned feed(struct console *c, const char *in, char *out, size_t out_len)
{
    unsigned act = console_input(c, (const uint8_t *)in, strlen(in));
    size_t n;
    const uint8_t *q = console_queued(c, &n);

    if (n >= out_len)
        n = out_len - 1;
    memcpy(out, q, n);
    out[n] = 0;
    return act;
}

static void plain_bytes_pass_through(void)
{
    struct console c;
    char out[64];

    console_init(&c);
    CHECK_EQ(console_room(&c), CONSOLE_QUEUE_SIZE);
    CHECK_EQ(feed(&c, "ls -l\r", out, sizeof(out)), 0);
    CHECK_STR(out, "ls -l\r");
    CHECK_EQ(console_room(&c), CONSOLE_QUEUE_SIZE - 6);
    /* Control characters other than Ctrl-A are the guest's (Ctrl-C, ESC). */
    console_take(&c, 6);
    CHECK_EQ(feed(&c, "\x03\x1b[A", out, sizeof(out)), 0);
    CHECK_STR(out, "\x03\x1b[A");
}

static void help_and_quit(void)
{
    struct console c;
    char out[64];

    console_init(&c);
    CHECK_EQ(feed(&c, "ab\x01hcd", out, sizeof(out)), CONSOLE_HELP);
    CHECK_STR(out, "abcd");
    CHECK_EQ(feed(&c, "\x01?", out, sizeof(out)), CONSOLE_HELP);
    CHECK_STR(out, "abcd");
    /* Input after the quit is not the guest's. */
    CHECK_EQ(feed(&c, "e\x01xfg", out, sizeof(out)), CONSOLE_QUIT);
    CHECK_STR(out, "abcde");
    console_init(&c);
    CHECK_EQ(feed(&c, "\x01h\x01x", out, sizeof(out)), CONSOLE_HELP | CONSOLE_QUIT);
    CHECK_STR(out, "");
}

static void literal_ctrl_a(void)
{
    struct console c;
    char out[64];

    console_init(&c);
    CHECK_EQ(feed(&c, "\x01" "a", out, sizeof(out)), 0);
    CHECK_STR(out, "\x01");
    CHECK_EQ(feed(&c, "\x01\x01", out, sizeof(out)), 0);
    CHECK_STR(out, "\x01\x01");
    /* After a literal Ctrl-A the state machine is back to plain input. */
    CHECK_EQ(feed(&c, "x", out, sizeof(out)), 0);
    CHECK_STR(out, "\x01\x01x");
}

/* As QEMU: an unknown key after Ctrl-A is dropped together with it. */
static void unknown_key_ignored(void)
{
    struct console c;
    char out[64];

    console_init(&c);
    CHECK_EQ(feed(&c, "1\x01q2\x01X3\x01\r4", out, sizeof(out)), 0);
    CHECK_STR(out, "1234");
}

/* The escape and its key may come in separate reads. */
static void escape_split_across_reads(void)
{
    struct console c;
    char out[64];

    console_init(&c);
    CHECK_EQ(feed(&c, "ab\x01", out, sizeof(out)), 0);
    CHECK_STR(out, "ab");
    CHECK(c.escape);
    CHECK_EQ(feed(&c, "x", out, sizeof(out)), CONSOLE_QUIT);
    CHECK_STR(out, "ab");
    CHECK(!c.escape);
    console_init(&c);
    CHECK_EQ(feed(&c, "\x01", out, sizeof(out)), 0);
    CHECK_EQ(feed(&c, "a", out, sizeof(out)), 0);
    CHECK_STR(out, "\x01");
}

static void queue_take_and_room(void)
{
    struct console c;
    uint8_t big[CONSOLE_QUEUE_SIZE + 10];
    size_t n;
    const uint8_t *q;

    console_init(&c);
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)('b' + i % 20);
    CHECK_EQ(console_input(&c, big, 100), 0);
    console_take(&c, 30);
    q = console_queued(&c, &n);
    CHECK_EQ(n, 70);
    CHECK_EQ(q[0], big[30]);
    CHECK_EQ(q[69], big[99]);
    CHECK_EQ(console_room(&c), CONSOLE_QUEUE_SIZE - 70);
    /* A full queue drops what does not fit, but still sees the escapes. */
    memcpy(big + sizeof(big) - 2, "\x01x", 2);
    CHECK_EQ(console_input(&c, big, sizeof(big)), CONSOLE_QUIT);
    q = console_queued(&c, &n);
    CHECK_EQ(n, CONSOLE_QUEUE_SIZE);
    CHECK_EQ(console_room(&c), 0);
    CHECK_EQ(q[70], big[0]);
    CHECK_EQ(q[CONSOLE_QUEUE_SIZE - 1], big[CONSOLE_QUEUE_SIZE - 71]);
    console_take(&c, CONSOLE_QUEUE_SIZE + 5);
    console_queued(&c, &n);
    CHECK_EQ(n, 0);
}

static void help_text_lists_the_keys(void)
{
    const char *h = console_help_text();

    CHECK(strstr(h, "Ctrl-A h") != NULL);
    CHECK(strstr(h, "Ctrl-A x") != NULL);
    CHECK(strstr(h, "Ctrl-A a") != NULL);
    /* Raw terminal: every line feed comes after a carriage return. */
    for (const char *p = h; *p; p++)
        if (*p == '\n')
            CHECK(p > h && p[-1] == '\r');
    CHECK_EQ(h[strlen(h) - 1], '\n');
}

static const struct test_case tests[] = {
    TEST(plain_bytes_pass_through), TEST(help_and_quit),
    TEST(literal_ctrl_a),           TEST(unknown_key_ignored),
    TEST(escape_split_across_reads), TEST(queue_take_and_room),
    TEST(help_text_lists_the_keys),
};

TEST_MAIN("console", tests)
