/* dev/uart16550: driven through the PIO bus as a guest driver would, with a
 * recording backend, a recording irq sink and a manual virtual clock. */
#include "dev/uart16550.h"
#include "test.h"

#define COM1 UART16550_COM1_BASE

struct irq_rec {
    int level;
    int rises; /* 0->1 transitions seen */
    int pin;
};

static void irq_rec_set(void *opaque, int pin, int level)
{
    struct irq_rec *r = opaque;
    if (level && !r->level)
        r->rises++;
    r->level = level;
    r->pin = pin;
}

struct fix {
    struct bus bus;
    struct timerq tq;
    struct uart16550 *u;
    struct irq_rec irq;
    uint8_t tx[256];
    size_t ntx;
};

static void tx_record(void *opaque, const uint8_t *buf, size_t len)
{
    struct fix *f = opaque;
    for (size_t i = 0; i < len && f->ntx < sizeof(f->tx); i++)
        f->tx[f->ntx++] = buf[i];
}

/* use_tq = 0 gives the device no virtual clock. */
static void setup(struct fix *f, int use_tq)
{
    struct uart16550_backend be = {tx_record, f};
    struct irq_line line = {irq_rec_set, &f->irq, UART16550_COM1_IRQ};

    memset(f, 0, sizeof(*f));
    bus_init(&f->bus, "pio");
    timerq_init(&f->tq, NULL);
    CHECK_EQ(uart16550_create(&f->u, &be, &line, use_tq ? &f->tq : NULL), 0);
    CHECK_EQ(bus_register(&f->bus, COM1, UART16550_NR_PORTS, &uart16550_ops, f->u, "com1"), 0);
}

static void teardown(struct fix *f)
{
    uart16550_destroy(f->u);
    bus_destroy(&f->bus);
}

static uint8_t inb(struct fix *f, unsigned reg)
{
    uint64_t v = 0;
    CHECK_EQ(bus_read(&f->bus, COM1 + reg, 1, &v), 0);
    return (uint8_t)v;
}

static void outb(struct fix *f, unsigned reg, uint8_t v)
{
    CHECK_EQ(bus_write(&f->bus, COM1 + reg, 1, v), 0);
}

static void reset_values(void)
{
    struct fix f;

    setup(&f, 1);
    CHECK_EQ(inb(&f, UART16550_IER), 0);
    CHECK_EQ(inb(&f, UART16550_IIR), 0x01);
    CHECK_EQ(inb(&f, UART16550_LCR), 0);
    CHECK_EQ(inb(&f, UART16550_MCR), 0);
    CHECK_EQ(inb(&f, UART16550_LSR), 0x60); /* THRE | TEMT */
    CHECK_EQ(inb(&f, UART16550_MSR), 0xb0); /* DCD | DSR | CTS, no deltas */
    outb(&f, UART16550_SCR, 0x5a);
    CHECK_EQ(inb(&f, UART16550_SCR), 0x5a);
    /* Reserved bits do not stick. */
    outb(&f, UART16550_IER, 0xff);
    CHECK_EQ(inb(&f, UART16550_IER), 0x0f);
    outb(&f, UART16550_MCR, 0xff);
    CHECK_EQ(inb(&f, UART16550_MCR), 0x1f);
    uart16550_reset(f.u);
    CHECK_EQ(inb(&f, UART16550_IER), 0);
    CHECK_EQ(inb(&f, UART16550_MCR), 0);
    CHECK_EQ(f.irq.level, 0);
    teardown(&f);
}

static void dlab_divisor(void)
{
    struct fix f;

    setup(&f, 1);
    outb(&f, UART16550_IER, 0x05);
    outb(&f, UART16550_LCR, 0x83); /* DLAB, 8N1 */
    outb(&f, UART16550_DLL, 0x01);
    outb(&f, UART16550_DLM, 0x02);
    CHECK_EQ(inb(&f, UART16550_DLL), 0x01);
    CHECK_EQ(inb(&f, UART16550_DLM), 0x02);
    CHECK_EQ(f.ntx, 0); /* DLL writes are not THR writes */
    CHECK_EQ(f.u->s.divisor, 0x0201);
    outb(&f, UART16550_LCR, 0x03);
    CHECK_EQ(inb(&f, UART16550_LCR), 0x03);
    /* With DLAB clear, offsets 0 and 1 are RBR/THR and IER again. */
    CHECK_EQ(inb(&f, UART16550_IER), 0x05);
    outb(&f, UART16550_THR, 'A');
    CHECK_EQ(f.ntx, 1);
    CHECK_EQ(f.tx[0], 'A');
    outb(&f, UART16550_LCR, 0x83);
    CHECK_EQ(inb(&f, UART16550_DLL), 0x01);
    CHECK_EQ(inb(&f, UART16550_DLM), 0x02);
    teardown(&f);
}

static void transmit(void)
{
    struct fix f;
    const char *msg = "hello\n";

    setup(&f, 1);
    for (const char *p = msg; *p; p++) {
        CHECK(inb(&f, UART16550_LSR) & UART16550_LSR_THRE);
        outb(&f, UART16550_THR, (uint8_t)*p);
    }
    CHECK_EQ(f.ntx, strlen(msg));
    CHECK(memcmp(f.tx, msg, strlen(msg)) == 0);
    CHECK_EQ(inb(&f, UART16550_LSR), 0x60);
    teardown(&f);
}

static void receive_without_fifo(void)
{
    struct fix f;
    const uint8_t in[] = {'a', 'b'};

    setup(&f, 1);
    /* 16450 mode holds one character. */
    CHECK_EQ(uart16550_can_receive(f.u), 1);
    CHECK_EQ(uart16550_receive(f.u, in, 2), 1);
    CHECK_EQ(uart16550_can_receive(f.u), 0);
    CHECK_EQ(uart16550_receive(f.u, in + 1, 1), 0);
    CHECK_EQ(inb(&f, UART16550_LSR), 0x61);
    CHECK_EQ(inb(&f, UART16550_RBR), 'a');
    CHECK_EQ(inb(&f, UART16550_LSR), 0x60);
    CHECK_EQ(uart16550_receive(f.u, in + 1, 1), 1);
    CHECK_EQ(inb(&f, UART16550_RBR), 'b');
    teardown(&f);
}

static void receive_with_fifo(void)
{
    struct fix f;
    uint8_t in[20];

    setup(&f, 1);
    for (int i = 0; i < 20; i++)
        in[i] = (uint8_t)('A' + i);
    outb(&f, UART16550_FCR, UART16550_FCR_FE);
    CHECK_EQ(uart16550_can_receive(f.u), 16);
    CHECK_EQ(uart16550_receive(f.u, in, 20), 16);
    CHECK_EQ(uart16550_can_receive(f.u), 0);
    /* Flow control, not overrun: the host keeps what did not fit. */
    CHECK_EQ(inb(&f, UART16550_LSR) & UART16550_LSR_OE, 0);
    for (int i = 0; i < 16; i++) {
        CHECK(inb(&f, UART16550_LSR) & UART16550_LSR_DR);
        CHECK_EQ(inb(&f, UART16550_RBR), 'A' + i);
    }
    CHECK_EQ(inb(&f, UART16550_LSR) & UART16550_LSR_DR, 0);
    CHECK_EQ(uart16550_can_receive(f.u), 16);
    CHECK_EQ(uart16550_receive(f.u, in + 16, 4), 4);
    CHECK_EQ(inb(&f, UART16550_RBR), 'Q');
    teardown(&f);
}

static void fcr_clear_and_toggle(void)
{
    struct fix f;
    const uint8_t in[5] = {1, 2, 3, 4, 5};

    setup(&f, 1);
    outb(&f, UART16550_FCR, UART16550_FCR_FE);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc1);
    CHECK_EQ(uart16550_receive(f.u, in, 5), 5);
    outb(&f, UART16550_FCR, UART16550_FCR_FE | UART16550_FCR_RFR | UART16550_FCR_XFR);
    CHECK_EQ(inb(&f, UART16550_LSR), 0x60);
    CHECK_EQ(uart16550_can_receive(f.u), 16);
    /* Switching the FIFOs off empties them too and clears IIR bits 6-7. */
    CHECK_EQ(uart16550_receive(f.u, in, 5), 5);
    outb(&f, UART16550_FCR, 0);
    CHECK_EQ(inb(&f, UART16550_IIR), 0x01);
    CHECK_EQ(inb(&f, UART16550_LSR), 0x60);
    CHECK_EQ(uart16550_can_receive(f.u), 1);
    teardown(&f);
}

static void loopback(void)
{
    struct fix f;
    const uint8_t in = 'z';

    setup(&f, 1);
    outb(&f, UART16550_FCR, UART16550_FCR_FE);
    outb(&f, UART16550_MCR, UART16550_MCR_LOOP);
    outb(&f, UART16550_THR, 0x55);
    outb(&f, UART16550_THR, 0xaa);
    CHECK_EQ(f.ntx, 0); /* nothing reaches the line */
    CHECK_EQ(inb(&f, UART16550_LSR), 0x61);
    CHECK_EQ(inb(&f, UART16550_RBR), 0x55);
    CHECK_EQ(inb(&f, UART16550_RBR), 0xaa);
    CHECK_EQ(inb(&f, UART16550_LSR), 0x60);
    /* The receiver is cut off from the line. */
    CHECK_EQ(uart16550_can_receive(f.u), 0);
    CHECK_EQ(uart16550_receive(f.u, &in, 1), 0);
    outb(&f, UART16550_MCR, 0);
    outb(&f, UART16550_THR, 0x42);
    CHECK_EQ(f.ntx, 1);
    CHECK_EQ(f.tx[0], 0x42);
    CHECK_EQ(inb(&f, UART16550_LSR) & UART16550_LSR_DR, 0);
    CHECK_EQ(uart16550_receive(f.u, &in, 1), 1);
    teardown(&f);
}

static void loopback_modem_status(void)
{
    struct fix f;

    setup(&f, 1);
    /* Entering loopback disconnects CTS/DSR/DCD (were on): all deltas. */
    outb(&f, UART16550_MCR, UART16550_MCR_LOOP);
    CHECK_EQ(inb(&f, UART16550_MSR), 0x0b);
    CHECK_EQ(inb(&f, UART16550_MSR), 0x00); /* deltas clear on read */
    outb(&f, UART16550_MCR, UART16550_MCR_LOOP | UART16550_MCR_RTS);
    CHECK_EQ(inb(&f, UART16550_MSR), UART16550_MSR_CTS | UART16550_MSR_DCTS);
    outb(&f, UART16550_MCR, UART16550_MCR_LOOP | UART16550_MCR_RTS | UART16550_MCR_DTR);
    CHECK_EQ(inb(&f, UART16550_MSR), 0x30 | UART16550_MSR_DDSR);
    outb(&f, UART16550_MCR, UART16550_MCR_LOOP | 0x07);
    /* RI rising sets no delta: TERI is for the trailing edge only. */
    CHECK_EQ(inb(&f, UART16550_MSR), 0x70);
    outb(&f, UART16550_MCR, UART16550_MCR_LOOP | 0x03);
    CHECK_EQ(inb(&f, UART16550_MSR), 0x30 | UART16550_MSR_TERI);
    outb(&f, UART16550_MCR, UART16550_MCR_LOOP | UART16550_MCR_OUT2);
    CHECK_EQ(inb(&f, UART16550_MSR), UART16550_MSR_DCD | UART16550_MSR_DDCD |
                                         UART16550_MSR_DCTS | UART16550_MSR_DDSR);
    /* Linux's autoconfig loopback check: LOOP | OUT2 | RTS gives 0x90. */
    outb(&f, UART16550_MCR, UART16550_MCR_LOOP | 0x0a);
    CHECK_EQ(inb(&f, UART16550_MSR) & 0xf0, 0x90);
    outb(&f, UART16550_MCR, UART16550_MCR_LOOP | UART16550_MCR_OUT2);
    (void)inb(&f, UART16550_MSR);
    /* Leaving loopback reconnects the host's lines. */
    outb(&f, UART16550_MCR, 0);
    CHECK_EQ(inb(&f, UART16550_MSR), 0xb0 | UART16550_MSR_DCTS | UART16550_MSR_DDSR);
    teardown(&f);
}

static void overrun_sets_oe(void)
{
    struct fix f;

    setup(&f, 1);
    /* FIFO mode: the 17th character is lost, the FIFO keeps the first 16. */
    outb(&f, UART16550_FCR, UART16550_FCR_FE);
    outb(&f, UART16550_MCR, UART16550_MCR_LOOP);
    for (int i = 0; i < 17; i++)
        outb(&f, UART16550_THR, (uint8_t)i);
    CHECK_EQ(inb(&f, UART16550_LSR), 0x63); /* OE | DR | THRE | TEMT */
    CHECK_EQ(inb(&f, UART16550_LSR), 0x61); /* reading LSR cleared OE */
    for (int i = 0; i < 16; i++)
        CHECK_EQ(inb(&f, UART16550_RBR), i);
    CHECK_EQ(inb(&f, UART16550_LSR), 0x60);

    /* 16450 mode: a second character overwrites the unread one. */
    outb(&f, UART16550_FCR, 0);
    outb(&f, UART16550_THR, 'a');
    CHECK_EQ(inb(&f, UART16550_LSR) & UART16550_LSR_OE, 0);
    outb(&f, UART16550_THR, 'b');
    CHECK_EQ(inb(&f, UART16550_LSR), 0x63);
    CHECK_EQ(inb(&f, UART16550_RBR), 'b');
    CHECK_EQ(inb(&f, UART16550_LSR), 0x60);
    teardown(&f);
}

static void thre_interrupt(void)
{
    struct fix f;

    setup(&f, 1);
    outb(&f, UART16550_MCR, UART16550_MCR_OUT2);
    CHECK_EQ(f.irq.level, 0);
    /* Enabling THRI with THR empty raises THRE at once. */
    outb(&f, UART16550_IER, UART16550_IER_THRI);
    CHECK_EQ(f.irq.level, 1);
    CHECK_EQ(f.irq.pin, UART16550_COM1_IRQ);
    CHECK_EQ(inb(&f, UART16550_IIR), 0x02);
    /* That IIR read cleared it. */
    CHECK_EQ(f.irq.level, 0);
    CHECK_EQ(inb(&f, UART16550_IIR), 0x01);
    /* A THR write clears THRE and the instant transmission raises it
     * again: a fresh edge. */
    int rises = f.irq.rises;
    outb(&f, UART16550_THR, 'x');
    CHECK_EQ(f.irq.level, 1);
    CHECK_EQ(f.irq.rises, rises + 1);
    /* Writing THR again without reading IIR also gives a new edge. */
    outb(&f, UART16550_THR, 'y');
    CHECK_EQ(f.irq.rises, rises + 2);
    CHECK_EQ(inb(&f, UART16550_IIR), 0x02);
    CHECK_EQ(f.irq.level, 0);
    /* Disabling THRI drops it; re-enabling re-raises (Linux's THRE test). */
    outb(&f, UART16550_THR, 'z');
    CHECK_EQ(f.irq.level, 1);
    outb(&f, UART16550_IER, 0);
    CHECK_EQ(f.irq.level, 0);
    CHECK_EQ(inb(&f, UART16550_IIR), 0x01);
    outb(&f, UART16550_IER, UART16550_IER_THRI);
    CHECK_EQ(f.irq.level, 1);
    CHECK_EQ(inb(&f, UART16550_IIR), 0x02);
    CHECK_EQ(f.ntx, 3);
    teardown(&f);
}

static void iir_priorities(void)
{
    struct fix f;

    setup(&f, 1);
    outb(&f, UART16550_FCR, UART16550_FCR_FE);
    outb(&f, UART16550_MCR, UART16550_MCR_LOOP);
    (void)inb(&f, UART16550_MSR);                         /* drop the loopback deltas */
    outb(&f, UART16550_MCR, UART16550_MCR_LOOP | UART16550_MCR_RTS); /* DCTS */
    for (int i = 0; i < 17; i++)                          /* data and OE */
        outb(&f, UART16550_THR, (uint8_t)i);
    outb(&f, UART16550_IER, 0x0f);                        /* THRE too */
    /* Line status beats everything. */
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc6);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc6); /* IIR read does not clear it */
    (void)inb(&f, UART16550_LSR);
    /* Then received data (the FIFO is at the trigger level). */
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc4);
    for (int i = 0; i < 16; i++)
        (void)inb(&f, UART16550_RBR);
    /* Then THRE, cleared by reading IIR while it is reported. */
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc2);
    /* Then modem status, cleared by reading MSR. */
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc0);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc0);
    CHECK_EQ(inb(&f, UART16550_MSR), UART16550_MSR_CTS | UART16550_MSR_DCTS);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc1);

    /* Each source is masked by its own IER bit. */
    outb(&f, UART16550_THR, 1);
    outb(&f, UART16550_THR, 2);
    outb(&f, UART16550_IER, 0);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc1);
    outb(&f, UART16550_IER, UART16550_IER_RDI);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc4);
    outb(&f, UART16550_IER, UART16550_IER_MSI | UART16550_IER_RLSI);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc1);
    teardown(&f);
}

static void trigger_levels(void)
{
    static const struct {
        uint8_t fcr;
        int level;
    } cases[] = {
        {UART16550_FCR_ITL_1, 1},
        {UART16550_FCR_ITL_4, 4},
        {UART16550_FCR_ITL_8, 8},
        {UART16550_FCR_ITL_14, 14},
    };
    uint8_t in[16] = {0};

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct fix f;

        setup(&f, 1);
        outb(&f, UART16550_MCR, UART16550_MCR_OUT2);
        outb(&f, UART16550_IER, UART16550_IER_RDI);
        outb(&f, UART16550_FCR, UART16550_FCR_FE | cases[c].fcr);
        CHECK_EQ(uart16550_receive(f.u, in, (size_t)cases[c].level - 1), cases[c].level - 1);
        CHECK_EQ(inb(&f, UART16550_IIR), 0xc1);
        CHECK_EQ(f.irq.level, 0);
        CHECK_EQ(uart16550_receive(f.u, in, 1), 1);
        CHECK_EQ(inb(&f, UART16550_IIR), 0xc4);
        CHECK_EQ(f.irq.level, 1);
        /* Reading below the level drops the request (the timeout has not
         * elapsed: virtual time stands still). */
        (void)inb(&f, UART16550_RBR);
        if (cases[c].level > 1) {
            CHECK_EQ(inb(&f, UART16550_IIR), 0xc1);
            CHECK_EQ(f.irq.level, 0);
        }
        teardown(&f);
    }
}

static void character_timeout(void)
{
    struct fix f;
    const uint8_t in[3] = {'a', 'b', 'c'};
    /* divisor 1, 8N1: 10 bits at 115200 baud; 4 characters. */
    const uint64_t timeout = 4 * (10 * 1000000000ull / 115200);
    const uint64_t timeout12 = 4 * (12 * 10 * 1000000000ull / 115200);

    setup(&f, 1);
    outb(&f, UART16550_LCR, 0x83);
    outb(&f, UART16550_DLL, 1);
    outb(&f, UART16550_DLM, 0);
    outb(&f, UART16550_LCR, 0x03);
    outb(&f, UART16550_MCR, UART16550_MCR_OUT2);
    outb(&f, UART16550_IER, UART16550_IER_RDI);
    outb(&f, UART16550_FCR, UART16550_FCR_FE | UART16550_FCR_ITL_8);
    CHECK_EQ(uart16550_receive(f.u, in, 3), 3);
    timerq_advance(&f.tq, timeout - 1);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc1);
    CHECK_EQ(f.irq.level, 0);
    timerq_advance(&f.tq, 1);
    CHECK_EQ(f.irq.level, 1);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xcc);
    /* A read clears the timeout and restarts the count. */
    CHECK_EQ(inb(&f, UART16550_RBR), 'a');
    CHECK_EQ(f.irq.level, 0);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc1);
    timerq_advance(&f.tq, timeout / 2);
    /* So does a new character. */
    CHECK_EQ(uart16550_receive(f.u, in, 1), 1);
    timerq_advance(&f.tq, timeout - 1);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc1);
    timerq_advance(&f.tq, 1);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xcc);
    /* The timeout is masked by IER.RDI, like received data. */
    outb(&f, UART16550_IER, 0);
    CHECK_EQ(f.irq.level, 0);
    outb(&f, UART16550_IER, UART16550_IER_RDI);
    CHECK_EQ(f.irq.level, 1);
    /* Emptying the FIFO ends it for good. */
    for (int i = 0; i < 3; i++)
        (void)inb(&f, UART16550_RBR);
    CHECK_EQ(inb(&f, UART16550_LSR) & UART16550_LSR_DR, 0);
    timerq_advance(&f.tq, 10 * timeout);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc1);
    CHECK_EQ(f.irq.level, 0);

    /* The character time follows the divisor: 12 is 12 times slower. */
    outb(&f, UART16550_LCR, 0x83);
    outb(&f, UART16550_DLL, 12);
    outb(&f, UART16550_LCR, 0x03);
    CHECK_EQ(uart16550_receive(f.u, in, 1), 1);
    timerq_advance(&f.tq, timeout12 - 1);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc1);
    timerq_advance(&f.tq, 1);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xcc);
    teardown(&f);
}

static void timeout_without_clock(void)
{
    struct fix f;
    const uint8_t in[8] = {0};

    setup(&f, 0);
    outb(&f, UART16550_MCR, UART16550_MCR_OUT2);
    outb(&f, UART16550_IER, UART16550_IER_RDI);
    outb(&f, UART16550_FCR, UART16550_FCR_FE | UART16550_FCR_ITL_8);
    /* Below the trigger level the line counts as idle at once. */
    CHECK_EQ(uart16550_receive(f.u, in, 2), 2);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xcc);
    CHECK_EQ(f.irq.level, 1);
    (void)inb(&f, UART16550_RBR);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xcc);
    (void)inb(&f, UART16550_RBR);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc1);
    CHECK_EQ(f.irq.level, 0);
    CHECK_EQ(uart16550_receive(f.u, in, 8), 8);
    CHECK_EQ(inb(&f, UART16550_IIR), 0xc4);
    teardown(&f);
}

static void out2_gates_irq(void)
{
    struct fix f;
    const uint8_t in = 'q';

    setup(&f, 1);
    outb(&f, UART16550_IER, UART16550_IER_RDI);
    CHECK_EQ(uart16550_receive(f.u, &in, 1), 1);
    /* Pending inside the UART, but the PC's buffer is off. */
    CHECK_EQ(inb(&f, UART16550_IIR), 0x04);
    CHECK_EQ(f.irq.level, 0);
    CHECK_EQ(f.irq.rises, 0);
    outb(&f, UART16550_MCR, UART16550_MCR_OUT2 | UART16550_MCR_DTR | UART16550_MCR_RTS);
    CHECK_EQ(f.irq.level, 1);
    outb(&f, UART16550_MCR, UART16550_MCR_DTR | UART16550_MCR_RTS);
    CHECK_EQ(f.irq.level, 0);
    /* Loopback forces -OUT2 inactive, so no interrupt reaches the PC. */
    outb(&f, UART16550_MCR, UART16550_MCR_OUT2 | UART16550_MCR_LOOP);
    CHECK_EQ(f.irq.level, 0);
    CHECK_EQ(inb(&f, UART16550_IIR), 0x04);
    outb(&f, UART16550_MCR, UART16550_MCR_OUT2);
    CHECK_EQ(f.irq.level, 1);
    CHECK_EQ(inb(&f, UART16550_RBR), 'q');
    CHECK_EQ(f.irq.level, 0);
    teardown(&f);
}

static void modem_status_interrupt(void)
{
    struct fix f;

    setup(&f, 1);
    outb(&f, UART16550_MCR, UART16550_MCR_OUT2);
    outb(&f, UART16550_IER, UART16550_IER_MSI);
    CHECK_EQ(f.irq.level, 0);
    /* The host hangs up: DCD drops. */
    uart16550_set_modem_status(f.u, UART16550_MSR_CTS | UART16550_MSR_DSR);
    CHECK_EQ(f.irq.level, 1);
    CHECK_EQ(inb(&f, UART16550_IIR), 0x00);
    CHECK_EQ(inb(&f, UART16550_MSR), 0x30 | UART16550_MSR_DDCD);
    CHECK_EQ(f.irq.level, 0);
    CHECK_EQ(inb(&f, UART16550_IIR), 0x01);
    teardown(&f);
}

static void wide_access_splits(void)
{
    struct fix f;
    uint64_t v;

    setup(&f, 1);
    /* outw to LCR writes LCR and MCR, as an ISA bus splits it. */
    CHECK_EQ(bus_write(&f.bus, COM1 + UART16550_LCR, 2, 0x0b03), 0);
    CHECK_EQ(inb(&f, UART16550_LCR), 0x03);
    CHECK_EQ(inb(&f, UART16550_MCR), 0x0b);
    CHECK_EQ(bus_read(&f.bus, COM1 + UART16550_LCR, 2, &v), 0);
    CHECK_EQ(v, 0x0b03);
    /* Bytes past the device float high. */
    CHECK_EQ(bus_read(&f.bus, COM1 + UART16550_SCR, 2, &v), 0);
    CHECK_EQ(v, 0xff00);
    teardown(&f);
}

static void post_load_restores(void)
{
    struct fix f, g;
    const uint8_t in[2] = {'m', 'n'};

    setup(&f, 1);
    setup(&g, 1);
    outb(&f, UART16550_MCR, UART16550_MCR_OUT2);
    outb(&f, UART16550_IER, UART16550_IER_RDI);
    outb(&f, UART16550_FCR, UART16550_FCR_FE | UART16550_FCR_ITL_4);
    CHECK_EQ(uart16550_receive(f.u, in, 2), 2);
    /* Copy the plain state across, as a migration would. */
    g.u->s = f.u->s;
    uart16550_post_load(g.u);
    CHECK_EQ(g.irq.level, 0);
    timerq_advance(&g.tq, 10000000); /* 4 characters at 9600 baud: 4.2 ms */
    CHECK_EQ(g.irq.level, 1); /* the restored timeout fired */
    CHECK_EQ(inb(&g, UART16550_IIR), 0xcc);
    CHECK_EQ(inb(&g, UART16550_RBR), 'm');
    CHECK_EQ(inb(&g, UART16550_RBR), 'n');
    teardown(&f);
    teardown(&g);
}

static const struct test_case tests[] = {
    TEST(reset_values),
    TEST(dlab_divisor),
    TEST(transmit),
    TEST(receive_without_fifo),
    TEST(receive_with_fifo),
    TEST(fcr_clear_and_toggle),
    TEST(loopback),
    TEST(loopback_modem_status),
    TEST(overrun_sets_oe),
    TEST(thre_interrupt),
    TEST(iir_priorities),
    TEST(trigger_levels),
    TEST(character_timeout),
    TEST(timeout_without_clock),
    TEST(out2_gates_irq),
    TEST(modem_status_interrupt),
    TEST(wide_access_splits),
    TEST(post_load_restores),
};
TEST_MAIN("uart16550", tests)
