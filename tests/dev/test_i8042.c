/* dev/i8042 driven through the PIO bus: status, command byte, controller
 * commands, output port, A20 and the reset line. */
#include "core/bus.h"
#include "dev/i8042.h"
#include "test.h"

struct fix {
    struct bus pio;
    struct i8042 *kbc;
    int level;
    unsigned rises;
    unsigned resets;
};

static void irq_rec(void *opaque, int pin, int level)
{
    struct fix *f = opaque;

    if (level && !f->level)
        f->rises++;
    f->level = level;
}

static void reset_rec(void *opaque)
{
    struct fix *f = opaque;
    f->resets++;
}

static void fix_init(struct fix *f)
{
    struct irq_line line;

    memset(f, 0, sizeof(*f));
    bus_init(&f->pio, "pio");
    line = (struct irq_line){irq_rec, f, I8042_IRQ};
    CHECK_EQ(i8042_create(&f->kbc, reset_rec, f), 0);
    i8042_set_irq(f->kbc, &line);
    CHECK_EQ(i8042_register_pio(f->kbc, &f->pio), 0);
}

static void fix_fini(struct fix *f)
{
    CHECK_EQ(f->pio.unhandled, 0);
    i8042_destroy(f->kbc);
    bus_destroy(&f->pio);
}

static void outb(struct fix *f, uint16_t port, uint8_t v)
{
    CHECK_EQ(bus_write(&f->pio, port, 1, v), 0);
}

static uint8_t inb(struct fix *f, uint16_t port)
{
    uint64_t v = 0;
    CHECK_EQ(bus_read(&f->pio, port, 1, &v), 0);
    return (uint8_t)v;
}

/* Sends a controller command and returns its one-byte reply. */
static uint8_t command(struct fix *f, uint8_t cmd)
{
    outb(f, 0x64, cmd);
    CHECK_EQ(inb(f, 0x64) & (I8042_STR_OBF | I8042_STR_IBF), I8042_STR_OBF);
    return inb(f, 0x60);
}

static void status_register(void)
{
    struct fix f;

    fix_init(&f);
    CHECK_EQ(inb(&f, 0x64), I8042_STR_CMD | I8042_STR_UNLOCKED);
    outb(&f, 0x64, I8042_CMD_READ_CTR);
    CHECK_EQ(inb(&f, 0x64), I8042_STR_OBF | I8042_STR_CMD | I8042_STR_UNLOCKED);
    CHECK_EQ(inb(&f, 0x60), I8042_CTR_KBDINT | I8042_CTR_AUXINT);
    CHECK_EQ(inb(&f, 0x64) & I8042_STR_OBF, 0);
    /* an empty buffer reads as the last byte */
    CHECK_EQ(inb(&f, 0x60), I8042_CTR_KBDINT | I8042_CTR_AUXINT);
    /* a data write clears the command flag; input is never pending */
    outb(&f, 0x60, 0xf4);
    CHECK_EQ(inb(&f, 0x64), I8042_STR_UNLOCKED);
    fix_fini(&f);
}

static void command_byte(void)
{
    struct fix f;

    fix_init(&f);
    outb(&f, 0x64, I8042_CMD_WRITE_CTR);
    CHECK_EQ(inb(&f, 0x64) & I8042_STR_CMD, I8042_STR_CMD);
    outb(&f, 0x60, 0x45);
    CHECK_EQ(inb(&f, 0x64), I8042_STR_SYS | I8042_STR_UNLOCKED); /* SYS follows bit 2 */
    CHECK_EQ(command(&f, I8042_CMD_READ_CTR), 0x45);
    outb(&f, 0x64, I8042_CMD_WRITE_CTR);
    outb(&f, 0x60, 0x41);
    CHECK_EQ(inb(&f, 0x64) & I8042_STR_SYS, 0);
    /* the other RAM bytes */
    outb(&f, 0x64, 0x65);
    outb(&f, 0x60, 0x5a);
    CHECK_EQ(command(&f, 0x25), 0x5a);
    CHECK_EQ(command(&f, I8042_CMD_READ_CTR), 0x41);
    /* disable/enable commands edit the command byte */
    outb(&f, 0x64, I8042_CMD_KBD_DISABLE);
    outb(&f, 0x64, I8042_CMD_AUX_DISABLE);
    CHECK_EQ(command(&f, I8042_CMD_READ_CTR), 0x41 | I8042_CTR_KBDDIS | I8042_CTR_AUXDIS);
    outb(&f, 0x64, I8042_CMD_KBD_ENABLE);
    outb(&f, 0x64, I8042_CMD_AUX_ENABLE);
    CHECK_EQ(command(&f, I8042_CMD_READ_CTR), 0x41);
    /* a new command abandons one still waiting for its data byte */
    outb(&f, 0x64, I8042_CMD_WRITE_CTR);
    outb(&f, 0x64, I8042_CMD_KBD_TEST);
    CHECK_EQ(inb(&f, 0x60), 0x00);
    outb(&f, 0x60, 0x00); /* goes to the (absent) keyboard */
    CHECK_EQ(command(&f, I8042_CMD_READ_CTR), 0x41);
    fix_fini(&f);
}

static void self_tests(void)
{
    struct fix f;

    fix_init(&f);
    CHECK_EQ(inb(&f, 0x64) & I8042_STR_SYS, 0);
    CHECK_EQ(command(&f, I8042_CMD_SELF_TEST), 0x55);
    CHECK_EQ(inb(&f, 0x64) & I8042_STR_SYS, I8042_STR_SYS);
    CHECK_EQ(command(&f, I8042_CMD_KBD_TEST), 0x00);
    fix_fini(&f);
}

static void keyboard_irq(void)
{
    struct fix f;

    fix_init(&f);
    outb(&f, 0x64, I8042_CMD_SELF_TEST);
    CHECK_EQ(f.rises, 1);
    CHECK_EQ(f.level, 1);
    inb(&f, 0x60);
    CHECK_EQ(f.level, 0);
    /* with the interrupt disabled in the command byte, replies are polled */
    outb(&f, 0x64, I8042_CMD_WRITE_CTR);
    outb(&f, 0x60, 0x00);
    CHECK_EQ(command(&f, I8042_CMD_KBD_TEST), 0x00);
    CHECK_EQ(f.rises, 1);
    /* enabling it with a byte waiting raises the line */
    outb(&f, 0x64, I8042_CMD_WRITE_KBD_OBUF);
    outb(&f, 0x60, 0x1c);
    CHECK_EQ(f.level, 0);
    outb(&f, 0x64, I8042_CMD_WRITE_CTR);
    outb(&f, 0x60, I8042_CTR_KBDINT);
    CHECK_EQ(f.level, 1);
    CHECK_EQ(inb(&f, 0x60), 0x1c);
    CHECK_EQ(f.level, 0);
    /* a byte written to the keyboard gets no answer: none is attached */
    outb(&f, 0x60, 0xff);
    CHECK_EQ(inb(&f, 0x64) & I8042_STR_OBF, 0);
    CHECK_EQ(f.rises, 2);
    fix_fini(&f);
}

static void output_port_and_a20(void)
{
    struct fix f;

    fix_init(&f);
    CHECK_EQ(command(&f, I8042_CMD_READ_OUTPORT), 0xcf);
    CHECK(i8042_a20(f.kbc));
    outb(&f, 0x64, I8042_CMD_A20_OFF);
    CHECK(!i8042_a20(f.kbc));
    CHECK_EQ(command(&f, I8042_CMD_READ_OUTPORT), 0xcd);
    outb(&f, 0x64, I8042_CMD_A20_ON);
    CHECK(i8042_a20(f.kbc));
    outb(&f, 0x64, I8042_CMD_WRITE_OUTPORT);
    outb(&f, 0x60, 0xdd); /* A20 off, reset line high */
    CHECK(!i8042_a20(f.kbc));
    CHECK_EQ(f.resets, 0);
    /* bit 4 shows a full output buffer */
    outb(&f, 0x64, I8042_CMD_KBD_TEST);
    outb(&f, 0x64, I8042_CMD_READ_OUTPORT);
    CHECK_EQ(inb(&f, 0x60), 0xdd | I8042_OUT_OBF);
    CHECK_EQ(command(&f, I8042_CMD_READ_OUTPORT), 0xcd);
    fix_fini(&f);
}

static void cpu_reset(void)
{
    struct fix f;
    unsigned c;

    fix_init(&f);
    outb(&f, 0x64, I8042_CMD_RESET);
    CHECK_EQ(f.resets, 1);
    /* pulse commands reset only when bit 0 is clear */
    for (c = 0xf0; c <= 0xff; c++) {
        unsigned before = f.resets;
        outb(&f, 0x64, (uint8_t)c);
        CHECK_EQ(f.resets - before, (c & 1) ? 0u : 1u);
    }
    CHECK_EQ(f.resets, 1 + 8);
    /* writing the output port with bit 0 clear holds the CPU in reset */
    outb(&f, 0x64, I8042_CMD_WRITE_OUTPORT);
    outb(&f, 0x60, 0xfe);
    CHECK_EQ(f.resets, 10);
    outb(&f, 0x64, I8042_CMD_WRITE_OUTPORT);
    outb(&f, 0x60, 0xff);
    CHECK_EQ(f.resets, 10);
    /* a device without a callback ignores it */
    f.kbc->reset_cb = NULL;
    outb(&f, 0x64, I8042_CMD_RESET);
    CHECK_EQ(f.resets, 10);
    fix_fini(&f);
}

static void reset_and_post_load(void)
{
    struct fix f;
    struct i8042_state saved;

    fix_init(&f);
    outb(&f, 0x64, I8042_CMD_WRITE_CTR);
    outb(&f, 0x60, 0x65);
    outb(&f, 0x64, I8042_CMD_SELF_TEST);
    CHECK_EQ(f.level, 1);
    saved = f.kbc->s;
    i8042_reset(f.kbc);
    CHECK_EQ(f.level, 0);
    CHECK_EQ(inb(&f, 0x64), I8042_STR_CMD | I8042_STR_UNLOCKED);
    CHECK_EQ(command(&f, I8042_CMD_READ_CTR), 0x03);
    f.kbc->s = saved;
    i8042_post_load(f.kbc);
    CHECK_EQ(f.level, 1);
    CHECK_EQ(inb(&f, 0x60), 0x55);
    CHECK_EQ(command(&f, I8042_CMD_READ_CTR), 0x65);
    fix_fini(&f);
}

static const struct test_case tests[] = {
    TEST(status_register),
    TEST(command_byte),
    TEST(self_tests),
    TEST(keyboard_irq),
    TEST(output_port_and_a20),
    TEST(cpu_reset),
    TEST(reset_and_post_load),
};
TEST_MAIN("i8042", tests)
