/* dev/pic8259: the cascaded pair programmed through the PIO bus as
 * firmware and Linux program it, with a recording INTR sink; the CPU side
 * is pic8259_has_interrupt() and pic8259_ack(). */
#include "dev/pic8259.h"
#include "test.h"

struct intr_rec {
    int level;
    int rises;
};

static void intr_rec_set(void *opaque, int pin, int level)
{
    struct intr_rec *r = opaque;
    if (level && !r->level)
        r->rises++;
    r->level = level;
}

struct fix {
    struct bus bus;
    struct pic8259 *p;
    struct intr_rec intr;
};

static void setup(struct fix *f)
{
    struct irq_line line = {intr_rec_set, &f->intr, 0};

    memset(f, 0, sizeof(*f));
    bus_init(&f->bus, "pio");
    CHECK_EQ(pic8259_create(&f->p, &line), 0);
    CHECK_EQ(pic8259_register_pio(f->p, &f->bus), 0);
}

static void teardown(struct fix *f)
{
    pic8259_destroy(f->p);
    bus_destroy(&f->bus);
}

static uint8_t inb(struct fix *f, uint16_t port)
{
    uint64_t v = 0;
    CHECK_EQ(bus_read(&f->bus, port, 1, &v), 0);
    return (uint8_t)v;
}

static void outb(struct fix *f, uint16_t port, uint8_t v)
{
    CHECK_EQ(bus_write(&f->bus, port, 1, v), 0);
}

/* Linux's init_8259A() / a PC BIOS: vectors 0x20 and 0x28, cascade on IR2,
 * 8086 mode, normal EOI; then everything unmasked. */
static void init_pc(struct fix *f, uint8_t icw4)
{
    outb(f, 0x20, 0x11);
    outb(f, 0x21, 0x20);
    outb(f, 0x21, 0x04);
    outb(f, 0x21, icw4);
    outb(f, 0xa0, 0x11);
    outb(f, 0xa1, 0x28);
    outb(f, 0xa1, 0x02);
    outb(f, 0xa1, icw4 & ~0x10); /* SFNM only on the master */
    outb(f, 0x21, 0x00);
    outb(f, 0xa1, 0x00);
}

static uint8_t read_isr(struct fix *f, uint16_t cmd)
{
    uint8_t v;
    outb(f, cmd, 0x0b);
    v = inb(f, cmd);
    outb(f, cmd, 0x0a);
    return v;
}

static void pulse(struct fix *f, int irq)
{
    pic8259_set_irq(f->p, irq, 1);
    pic8259_set_irq(f->p, irq, 0);
}

static void icw_init_sequence(void)
{
    struct fix f;

    setup(&f);
    outb(&f, 0x21, 0x5a); /* an IMR value the init must clear */
    init_pc(&f, 0x01);
    CHECK_EQ(inb(&f, 0x21), 0x00);
    CHECK_EQ(inb(&f, 0xa1), 0x00);
    CHECK_EQ(inb(&f, 0x20), 0x00); /* IRR is selected after ICW1 */
    CHECK_EQ(f.p->s.chip[0].irq_base, 0x20);
    CHECK_EQ(f.p->s.chip[1].irq_base, 0x28);
    CHECK_EQ(f.p->s.chip[0].icw3, 0x04);
    CHECK_EQ(f.p->s.chip[1].icw3, 0x02);
    /* After the ICWs, writes to the odd port are OCW1. */
    outb(&f, 0x21, 0xfb);
    CHECK_EQ(inb(&f, 0x21), 0xfb);
    outb(&f, 0x21, 0x00);

    CHECK(!pic8259_has_interrupt(f.p));
    pulse(&f, 1);
    CHECK(pic8259_has_interrupt(f.p));
    CHECK_EQ(f.intr.level, 1);
    CHECK_EQ(pic8259_ack(f.p), 0x21);
    CHECK(!pic8259_has_interrupt(f.p));
    CHECK_EQ(f.intr.level, 0);
    CHECK_EQ(read_isr(&f, 0x20), 0x02);
    outb(&f, 0x20, 0x20);
    CHECK_EQ(read_isr(&f, 0x20), 0x00);

    /* A slave input comes through IR2 with the slave's vector. */
    pulse(&f, 9);
    CHECK(pic8259_has_interrupt(f.p));
    CHECK_EQ(pic8259_ack(f.p), 0x29);
    CHECK_EQ(read_isr(&f, 0x20), 0x04);
    CHECK_EQ(read_isr(&f, 0xa0), 0x02);
    outb(&f, 0xa0, 0x20);
    outb(&f, 0x20, 0x20);
    CHECK_EQ(read_isr(&f, 0x20), 0x00);
    CHECK_EQ(read_isr(&f, 0xa0), 0x00);

    /* Without IC4 the sequence ends after ICW3; with SNGL it skips ICW3. */
    outb(&f, 0x20, 0x10);
    outb(&f, 0x21, 0x40);
    outb(&f, 0x21, 0x04);
    outb(&f, 0x21, 0x33); /* OCW1 */
    CHECK_EQ(inb(&f, 0x21), 0x33);
    outb(&f, 0x20, 0x13);
    outb(&f, 0x21, 0x48);
    outb(&f, 0x21, 0x03); /* ICW4, AEOI */
    outb(&f, 0x21, 0x44); /* OCW1 */
    CHECK_EQ(inb(&f, 0x21), 0x44);
    CHECK_EQ(f.p->s.chip[0].irq_base, 0x48);
    CHECK_EQ(f.p->s.chip[0].auto_eoi, 1);
    teardown(&f);
}

static void fixed_priorities(void)
{
    struct fix f;

    setup(&f);
    init_pc(&f, 0x01);
    pulse(&f, 5);
    pulse(&f, 3);
    CHECK_EQ(pic8259_ack(f.p), 0x23);
    /* 5 waits behind the level in service... */
    CHECK(!pic8259_has_interrupt(f.p));
    CHECK_EQ(inb(&f, 0x20), 0x20); /* IRR */
    /* ...but a higher level nests. */
    pulse(&f, 1);
    CHECK(pic8259_has_interrupt(f.p));
    CHECK_EQ(pic8259_ack(f.p), 0x21);
    CHECK_EQ(read_isr(&f, 0x20), 0x0a);
    outb(&f, 0x20, 0x20); /* non-specific EOI ends the highest: 1 */
    CHECK_EQ(read_isr(&f, 0x20), 0x08);
    CHECK(!pic8259_has_interrupt(f.p));
    outb(&f, 0x20, 0x20);
    CHECK(pic8259_has_interrupt(f.p));
    CHECK_EQ(pic8259_ack(f.p), 0x25);
    outb(&f, 0x20, 0x20);

    /* The slave's inputs rank at IR2: above IR3, below IR1. */
    pulse(&f, 3);
    pulse(&f, 12);
    pulse(&f, 8);
    CHECK_EQ(pic8259_ack(f.p), 0x28);
    outb(&f, 0xa0, 0x20);
    outb(&f, 0x20, 0x20);
    CHECK_EQ(pic8259_ack(f.p), 0x2c);
    outb(&f, 0xa0, 0x20);
    outb(&f, 0x20, 0x20);
    CHECK_EQ(pic8259_ack(f.p), 0x23);
    outb(&f, 0x20, 0x20);
    CHECK(!pic8259_has_interrupt(f.p));
    /* And IRQ 0 beats everything. */
    pulse(&f, 15);
    pulse(&f, 0);
    CHECK_EQ(pic8259_ack(f.p), 0x20);
    teardown(&f);
}

static void specific_eoi(void)
{
    struct fix f;

    setup(&f);
    init_pc(&f, 0x01);
    pulse(&f, 3);
    CHECK_EQ(pic8259_ack(f.p), 0x23);
    pulse(&f, 1);
    CHECK_EQ(pic8259_ack(f.p), 0x21);
    outb(&f, 0x20, 0x63); /* specific EOI for 3, not the highest */
    CHECK_EQ(read_isr(&f, 0x20), 0x02);
    outb(&f, 0x20, 0x61);
    CHECK_EQ(read_isr(&f, 0x20), 0x00);
    outb(&f, 0x20, 0x40); /* OCW2 no-op */
    CHECK_EQ(read_isr(&f, 0x20), 0x00);
    teardown(&f);
}

static void auto_eoi(void)
{
    struct fix f;

    setup(&f);
    init_pc(&f, 0x03); /* 8086, AEOI */
    pulse(&f, 4);
    CHECK_EQ(pic8259_ack(f.p), 0x24);
    CHECK_EQ(read_isr(&f, 0x20), 0x00);
    /* Nothing in service, so even a lower level goes at once. */
    pulse(&f, 6);
    CHECK(pic8259_has_interrupt(f.p));
    CHECK_EQ(pic8259_ack(f.p), 0x26);

    /* Rotate in AEOI mode: the level just served becomes the lowest. */
    outb(&f, 0x20, 0x80);
    pulse(&f, 1);
    CHECK_EQ(pic8259_ack(f.p), 0x21);
    pulse(&f, 1);
    pulse(&f, 3);
    CHECK_EQ(pic8259_ack(f.p), 0x23);
    CHECK_EQ(pic8259_ack(f.p), 0x21);
    /* Rotation off: the order stays 2, 3, ..., 7, 0, 1. */
    outb(&f, 0x20, 0x00);
    pulse(&f, 0);
    pulse(&f, 7);
    CHECK_EQ(pic8259_ack(f.p), 0x27);
    pulse(&f, 7);
    CHECK_EQ(pic8259_ack(f.p), 0x27);
    CHECK_EQ(pic8259_ack(f.p), 0x20);
    teardown(&f);
}

static void auto_eoi_cascade(void)
{
    struct fix f;

    setup(&f);
    init_pc(&f, 0x03);
    /* Two slave requests: with AEOI the slave keeps INT up after the first
     * INTA, and the master must still see the second. */
    pulse(&f, 10);
    pulse(&f, 11);
    CHECK_EQ(pic8259_ack(f.p), 0x2a);
    CHECK(pic8259_has_interrupt(f.p));
    CHECK_EQ(pic8259_ack(f.p), 0x2b);
    CHECK(!pic8259_has_interrupt(f.p));
    CHECK_EQ(read_isr(&f, 0x20), 0x00);
    CHECK_EQ(read_isr(&f, 0xa0), 0x00);
    teardown(&f);
}

static void level_triggered(void)
{
    struct fix f;

    setup(&f);
    init_pc(&f, 0x01);
    /* ELCR: IRQ 0-2, 8 and 13 cannot be level triggered. */
    outb(&f, 0x4d0, 0xff);
    outb(&f, 0x4d1, 0xff);
    CHECK_EQ(inb(&f, 0x4d0), 0xf8);
    CHECK_EQ(inb(&f, 0x4d1), 0xde);
    outb(&f, 0x4d0, 0x08);
    outb(&f, 0x4d1, 0x00);

    /* Level: IRR follows the pin. */
    pic8259_set_irq(f.p, 3, 1);
    CHECK_EQ(inb(&f, 0x20), 0x08);
    pic8259_set_irq(f.p, 3, 0);
    CHECK_EQ(inb(&f, 0x20), 0x00);
    CHECK(!pic8259_has_interrupt(f.p));

    /* A line still high after EOI asserts again. */
    pic8259_set_irq(f.p, 3, 1);
    CHECK_EQ(pic8259_ack(f.p), 0x23);
    CHECK(!pic8259_has_interrupt(f.p));
    outb(&f, 0x20, 0x20);
    CHECK(pic8259_has_interrupt(f.p));
    CHECK_EQ(pic8259_ack(f.p), 0x23);
    pic8259_set_irq(f.p, 3, 0); /* the driver quiets the device */
    outb(&f, 0x20, 0x20);
    CHECK(!pic8259_has_interrupt(f.p));

    /* Edge, by contrast: a line held high is one request. */
    pic8259_set_irq(f.p, 4, 1);
    CHECK_EQ(pic8259_ack(f.p), 0x24);
    outb(&f, 0x20, 0x20);
    CHECK(!pic8259_has_interrupt(f.p));
    pic8259_set_irq(f.p, 4, 1); /* no transition, no request */
    CHECK(!pic8259_has_interrupt(f.p));
    pic8259_set_irq(f.p, 4, 0);
    pic8259_set_irq(f.p, 4, 1);
    CHECK(pic8259_has_interrupt(f.p));
    CHECK_EQ(pic8259_ack(f.p), 0x24);
    outb(&f, 0x20, 0x20);

    /* Switching an input to level picks up its pin at once. */
    pic8259_set_irq(f.p, 4, 1);
    pic8259_set_irq(f.p, 11, 1);
    CHECK(pic8259_has_interrupt(f.p));
    CHECK_EQ(pic8259_ack(f.p), 0x2b);
    outb(&f, 0xa0, 0x20);
    outb(&f, 0x20, 0x20);
    CHECK(!pic8259_has_interrupt(f.p));
    CHECK_EQ(bus_write(&f.bus, 0x4d0, 2, 0x0818), 0); /* 16-bit: IRQ 3, 4 and 11 */
    CHECK_EQ(inb(&f, 0x4d0), 0x18);
    CHECK_EQ(inb(&f, 0x4d1), 0x08);
    CHECK(pic8259_has_interrupt(f.p));
    CHECK_EQ(pic8259_ack(f.p), 0x2b);
    outb(&f, 0xa0, 0x20);
    outb(&f, 0x20, 0x20);
    CHECK_EQ(pic8259_ack(f.p), 0x2b); /* still high; IR2 outranks IR4 */
    pic8259_set_irq(f.p, 11, 0);
    outb(&f, 0xa0, 0x20);
    outb(&f, 0x20, 0x20);
    CHECK_EQ(pic8259_ack(f.p), 0x24);

    /* ICW1.LTIM makes every input of that chip level triggered. */
    outb(&f, 0x20, 0x19);
    outb(&f, 0x21, 0x20);
    outb(&f, 0x21, 0x04);
    outb(&f, 0x21, 0x01);
    CHECK_EQ(inb(&f, 0x20) & 0x10, 0x10); /* pin 4 is high: requested */
    pic8259_set_irq(f.p, 4, 0);
    CHECK_EQ(inb(&f, 0x20) & 0x10, 0x00);
    teardown(&f);
}

static void edge_latch(void)
{
    struct fix f;
    struct irq_line l5;

    setup(&f);
    init_pc(&f, 0x01);
    l5 = pic8259_irq_line(f.p, 5);
    /* A pulse through an irq_line is latched though the pin is low again. */
    irq_pulse(&l5);
    CHECK_EQ(inb(&f, 0x20), 0x20);
    CHECK(pic8259_has_interrupt(f.p));
    CHECK_EQ(f.intr.rises, 1);
    /* A masked request stays in IRR and waits. */
    outb(&f, 0x21, 0x20);
    CHECK(!pic8259_has_interrupt(f.p));
    CHECK_EQ(f.intr.level, 0);
    CHECK_EQ(inb(&f, 0x20), 0x20);
    outb(&f, 0x21, 0x00);
    CHECK(pic8259_has_interrupt(f.p));
    CHECK_EQ(f.intr.rises, 2);
    CHECK_EQ(pic8259_ack(f.p), 0x25);
    CHECK_EQ(inb(&f, 0x20), 0x00); /* INTA cleared the edge request */
    /* Out-of-range pins and the internal cascade pin are ignored. */
    pic8259_set_irq(f.p, 2, 1);
    pic8259_set_irq(f.p, 16, 1);
    pic8259_set_irq(f.p, -1, 1);
    CHECK_EQ(inb(&f, 0x20), 0x00);
    teardown(&f);
}

static void spurious_irq7(void)
{
    struct fix f;

    setup(&f);
    init_pc(&f, 0x01);
    outb(&f, 0x4d0, 0x08);
    /* A level request that goes away between INTR and INTA. */
    pic8259_set_irq(f.p, 3, 1);
    CHECK(pic8259_has_interrupt(f.p));
    pic8259_set_irq(f.p, 3, 0);
    CHECK_EQ(pic8259_ack(f.p), 0x27);
    CHECK_EQ(read_isr(&f, 0x20), 0x00);

    /* An edge request masked between INTR and INTA stays pending. */
    pulse(&f, 5);
    CHECK(pic8259_has_interrupt(f.p));
    outb(&f, 0x21, 0x20); /* the CPU had sampled INTR already */
    CHECK_EQ(pic8259_ack(f.p), 0x27);
    CHECK_EQ(read_isr(&f, 0x20), 0x00);
    outb(&f, 0x21, 0x00);
    CHECK_EQ(pic8259_ack(f.p), 0x25);
    teardown(&f);
}

static void spurious_irq15(void)
{
    struct fix f;

    setup(&f);
    init_pc(&f, 0x01);
    outb(&f, 0x4d1, 0x04); /* IRQ 10 level */
    pic8259_set_irq(f.p, 10, 1);
    CHECK(pic8259_has_interrupt(f.p));
    pic8259_set_irq(f.p, 10, 0);
    /* The master latched IR2 on the edge and still asks; the slave has
     * nothing and answers IR7. The master's IR2 is in service. */
    CHECK(pic8259_has_interrupt(f.p));
    CHECK_EQ(pic8259_ack(f.p), 0x2f);
    CHECK_EQ(read_isr(&f, 0x20), 0x04);
    CHECK_EQ(read_isr(&f, 0xa0), 0x00);
    /* Linux answers with an EOI to the master only. */
    outb(&f, 0x20, 0x62);
    CHECK_EQ(read_isr(&f, 0x20), 0x00);
    CHECK(!pic8259_has_interrupt(f.p));
    /* Slave and master work normally afterwards. */
    pulse(&f, 14);
    CHECK_EQ(pic8259_ack(f.p), 0x2e);
    teardown(&f);
}

static void poll_command(void)
{
    struct fix f;

    setup(&f);
    init_pc(&f, 0x01);
    outb(&f, 0x20, 0x0c); /* OCW3: poll */
    CHECK_EQ(inb(&f, 0x20), 0x00); /* nothing pending */
    pulse(&f, 4);
    pulse(&f, 6);
    outb(&f, 0x20, 0x0c);
    CHECK_EQ(inb(&f, 0x20), 0x84);
    /* The poll acted as INTA: 4 is in service, 6 is still requested. */
    CHECK_EQ(read_isr(&f, 0x20), 0x10);
    CHECK_EQ(inb(&f, 0x20), 0x40);
    /* Without a new OCW3 a read is an IRR read again. */
    CHECK_EQ(inb(&f, 0x20), 0x40);
    outb(&f, 0x20, 0x20);
    outb(&f, 0x20, 0x0c);
    CHECK_EQ(inb(&f, 0x21), 0x86); /* the odd port polls too */
    outb(&f, 0x20, 0x20);

    /* Polling the cascade: the master says IR2, then the slave says 3. */
    pulse(&f, 11);
    outb(&f, 0x20, 0x0c);
    CHECK_EQ(inb(&f, 0x20), 0x82);
    outb(&f, 0xa0, 0x0c);
    CHECK_EQ(inb(&f, 0xa0), 0x83);
    CHECK_EQ(read_isr(&f, 0xa0), 0x08);
    CHECK_EQ(read_isr(&f, 0x20), 0x04);
    /* No stale cascade request is left behind. */
    outb(&f, 0xa0, 0x20);
    outb(&f, 0x20, 0x20);
    CHECK(!pic8259_has_interrupt(f.p));
    CHECK_EQ(inb(&f, 0x20), 0x00);
    teardown(&f);
}

static void rotation(void)
{
    struct fix f;

    setup(&f);
    init_pc(&f, 0x01);
    /* Rotate on non-specific EOI: the served level goes to the bottom. */
    pulse(&f, 1);
    pulse(&f, 4);
    CHECK_EQ(pic8259_ack(f.p), 0x21);
    outb(&f, 0x20, 0xa0);
    pulse(&f, 1);
    CHECK_EQ(pic8259_ack(f.p), 0x24); /* 2..7 now outrank 1 */
    outb(&f, 0x20, 0xa0);             /* 4 lowest: 5, 6, 7, 0, 1, ... */
    pulse(&f, 3);
    CHECK_EQ(pic8259_ack(f.p), 0x21);
    outb(&f, 0x20, 0xa0);
    CHECK_EQ(pic8259_ack(f.p), 0x23);
    outb(&f, 0x20, 0x20);

    /* Set priority: IR5 lowest, so IR6 highest. */
    outb(&f, 0x20, 0xc5);
    pulse(&f, 0);
    pulse(&f, 5);
    pulse(&f, 6);
    CHECK_EQ(pic8259_ack(f.p), 0x26);
    /* 0 and 5 rank below 6 in service now. */
    CHECK(!pic8259_has_interrupt(f.p));
    outb(&f, 0x20, 0x66);
    CHECK_EQ(pic8259_ack(f.p), 0x20);
    /* Rotate on specific EOI: end 0 and make it the lowest. */
    outb(&f, 0x20, 0xe0);
    CHECK_EQ(pic8259_ack(f.p), 0x25);
    /* The order is now 1, 2, ..., 7, 0: 1 nests above 5, 0 waits. */
    pulse(&f, 0);
    pulse(&f, 1);
    CHECK_EQ(pic8259_ack(f.p), 0x21);
    CHECK(!pic8259_has_interrupt(f.p));
    outb(&f, 0x20, 0x61);
    CHECK(!pic8259_has_interrupt(f.p));
    outb(&f, 0x20, 0x65);
    CHECK_EQ(pic8259_ack(f.p), 0x20);
    teardown(&f);
}

static void special_mask_mode(void)
{
    struct fix f;

    setup(&f);
    init_pc(&f, 0x01);
    pulse(&f, 3);
    CHECK_EQ(pic8259_ack(f.p), 0x23);
    pulse(&f, 5);
    CHECK(!pic8259_has_interrupt(f.p));
    /* The handler for 3 masks itself and enters special mask mode: lower
     * levels get through while 3 is still in service. */
    outb(&f, 0x21, 0x08);
    outb(&f, 0x20, 0x68);
    CHECK(pic8259_has_interrupt(f.p));
    CHECK_EQ(pic8259_ack(f.p), 0x25);
    CHECK_EQ(read_isr(&f, 0x20), 0x28);
    outb(&f, 0x20, 0x65);
    /* A level in service still does not interrupt itself. */
    pulse(&f, 6);
    CHECK_EQ(pic8259_ack(f.p), 0x26);
    pulse(&f, 6);
    CHECK(!pic8259_has_interrupt(f.p));
    outb(&f, 0x20, 0x66);
    CHECK(pic8259_has_interrupt(f.p));
    CHECK_EQ(pic8259_ack(f.p), 0x26);
    outb(&f, 0x20, 0x66);
    /* Leaving special mask mode restores the nesting: 7 waits behind 3. */
    outb(&f, 0x20, 0x48);
    outb(&f, 0x21, 0x00);
    pulse(&f, 7);
    CHECK(!pic8259_has_interrupt(f.p));
    outb(&f, 0x20, 0x63);
    CHECK_EQ(pic8259_ack(f.p), 0x27);
    teardown(&f);
}

static void special_fully_nested(void)
{
    struct fix f;

    setup(&f);
    init_pc(&f, 0x11); /* SFNM on the master */
    pulse(&f, 12);
    CHECK_EQ(pic8259_ack(f.p), 0x2c);
    /* A higher slave level passes the master's IR2 in service... */
    pulse(&f, 9);
    CHECK(pic8259_has_interrupt(f.p));
    CHECK_EQ(pic8259_ack(f.p), 0x29);
    CHECK_EQ(read_isr(&f, 0xa0), 0x12);
    /* ...a lower master level does not. */
    pulse(&f, 5);
    CHECK(!pic8259_has_interrupt(f.p));
    outb(&f, 0xa0, 0x20);
    outb(&f, 0xa0, 0x20);
    outb(&f, 0x20, 0x20);
    CHECK_EQ(pic8259_ack(f.p), 0x25);

    /* Without SFNM the same slave request waits for the master's EOI. */
    init_pc(&f, 0x01);
    pulse(&f, 12);
    CHECK_EQ(pic8259_ack(f.p), 0x2c);
    pulse(&f, 9);
    CHECK(!pic8259_has_interrupt(f.p));
    outb(&f, 0xa0, 0x20);
    outb(&f, 0x20, 0x20);
    CHECK_EQ(pic8259_ack(f.p), 0x29);
    teardown(&f);
}

static void reinit_resets_edge_sense(void)
{
    struct fix f;

    setup(&f);
    init_pc(&f, 0x01);
    pic8259_set_irq(f.p, 4, 1); /* held high */
    CHECK_EQ(pic8259_ack(f.p), 0x24);
    pulse(&f, 6);
    init_pc(&f, 0x01);
    /* ICW1 cleared ISR and the latched request; the held pin must fall
     * and rise again. */
    CHECK_EQ(read_isr(&f, 0x20), 0x00);
    CHECK_EQ(inb(&f, 0x20), 0x00);
    CHECK(!pic8259_has_interrupt(f.p));
    pic8259_set_irq(f.p, 4, 0);
    pic8259_set_irq(f.p, 4, 1);
    CHECK_EQ(pic8259_ack(f.p), 0x24);
    teardown(&f);
}

static void intr_output_and_wide_access(void)
{
    struct fix f;
    struct pic8259 *bare;
    uint64_t v;

    setup(&f);
    init_pc(&f, 0x01);
    CHECK_EQ(f.intr.level, 0);
    pulse(&f, 7);
    CHECK_EQ(f.intr.level, 1);
    CHECK_EQ(f.intr.rises, 1);
    CHECK_EQ(pic8259_ack(f.p), 0x27);
    CHECK_EQ(f.intr.level, 0);
    CHECK_EQ(read_isr(&f, 0x20), 0x80); /* a real IRQ 7 is in service */
    outb(&f, 0x20, 0x20);
    /* 16-bit read of 0x20: IRR then IMR. */
    outb(&f, 0x21, 0xa5);
    CHECK_EQ(bus_read(&f.bus, 0x20, 2, &v), 0);
    CHECK_EQ(v, 0xa500);
    /* No INTR sink is fine. */
    CHECK_EQ(pic8259_create(&bare, NULL), 0);
    pic8259_set_irq(bare, 0, 1);
    CHECK(pic8259_has_interrupt(bare));
    CHECK_EQ(pic8259_ack(bare), 0x00);
    pic8259_destroy(bare);
    teardown(&f);
}

static void post_load_restores(void)
{
    struct fix f, g;

    setup(&f);
    setup(&g);
    init_pc(&f, 0x01);
    outb(&f, 0x4d0, 0x08);
    pic8259_set_irq(f.p, 3, 1);
    CHECK_EQ(pic8259_ack(f.p), 0x23);
    outb(&f, 0x20, 0x20); /* level 3 asks again */
    pulse(&f, 10);
    /* Copy the plain state across, as a migration would. */
    g.p->s = f.p->s;
    CHECK_EQ(g.intr.level, 0);
    pic8259_post_load(g.p);
    CHECK_EQ(g.intr.level, 1);
    CHECK_EQ(pic8259_ack(g.p), 0x2a);
    outb(&g, 0xa0, 0x20);
    outb(&g, 0x20, 0x20);
    CHECK_EQ(pic8259_ack(g.p), 0x23); /* the restored pin is still high */
    pic8259_set_irq(g.p, 3, 0);
    outb(&g, 0x20, 0x20);
    CHECK(!pic8259_has_interrupt(g.p));
    teardown(&f);
    teardown(&g);
}

static const struct test_case tests[] = {
    TEST(icw_init_sequence),
    TEST(fixed_priorities),
    TEST(specific_eoi),
    TEST(auto_eoi),
    TEST(auto_eoi_cascade),
    TEST(level_triggered),
    TEST(edge_latch),
    TEST(spurious_irq7),
    TEST(spurious_irq15),
    TEST(poll_command),
    TEST(rotation),
    TEST(special_mask_mode),
    TEST(special_fully_nested),
    TEST(reinit_resets_edge_sense),
    TEST(intr_output_and_wide_access),
    TEST(post_load_restores),
};
TEST_MAIN("pic8259", tests)
