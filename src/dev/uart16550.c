/* 16550A UART. Spec: National Semiconductor PC16550D datasheet (June 1995),
 * "Registers" and "FIFO Interrupt Mode Operation"; the PC's OUT2 interrupt
 * gate from the IBM PC/AT serial adapter. See dev/uart16550.h. */
#include "dev/uart16550.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/vmstate.h"

#define LSR_ERRORS (UART16550_LSR_OE | UART16550_LSR_PE | UART16550_LSR_FE | UART16550_LSR_BI)
#define MSR_DELTAS 0x0f
#define MSR_LINES 0xf0
/* The divisor latch divides the PC's 1.8432 MHz crystal / 16. */
#define UART_BASE_BAUD 115200u

static bool uart_fifo_on(const struct uart16550_state *s)
{
    return s->fcr & UART16550_FCR_FE;
}

static unsigned uart_trigger_level(const struct uart16550_state *s)
{
    static const uint8_t levels[4] = {1, 4, 8, 14};
    return levels[s->fcr >> 6];
}

/* Bits per character on the wire (start + data + parity + stop), times the
 * bit time, gives the character time the timeout is measured in. */
static uint64_t uart_char_time_ns(const struct uart16550_state *s)
{
    unsigned bits = 1 + 5 + (s->lcr & 3) + ((s->lcr & 0x08) ? 1 : 0) + ((s->lcr & 0x04) ? 2 : 1);
    uint64_t div = s->divisor ? s->divisor : 1;
    return (uint64_t)bits * div * 1000000000ull / UART_BASE_BAUD;
}

static uint8_t uart_lsr(const struct uart16550_state *s)
{
    /* Transmission is instant, so THR and the shift register are empty
     * whenever the guest can look. */
    uint8_t lsr = s->lsr_err | UART16550_LSR_THRE | UART16550_LSR_TEMT;
    if (s->rx_count)
        lsr |= UART16550_LSR_DR;
    return lsr;
}

/* The highest-priority pending interrupt, as IIR bits 0-3. Priorities
 * (datasheet table IV): line status, RX data / timeout, THRE, modem. */
static uint8_t uart_iir_id(const struct uart16550_state *s)
{
    if ((s->ier & UART16550_IER_RLSI) && (s->lsr_err & LSR_ERRORS))
        return UART16550_IIR_RLSI;
    if (s->ier & UART16550_IER_RDI) {
        if (s->timeout_ipending)
            return UART16550_IIR_CTI;
        if (s->rx_count && (!uart_fifo_on(s) || s->rx_count >= uart_trigger_level(s)))
            return UART16550_IIR_RDI;
    }
    if ((s->ier & UART16550_IER_THRI) && s->thr_ipending)
        return UART16550_IIR_THRI;
    if ((s->ier & UART16550_IER_MSI) && (s->msr & MSR_DELTAS))
        return UART16550_IIR_MSI;
    return UART16550_IIR_NO_INT;
}

/* A PC drives the IRQ through a buffer enabled by the -OUT2 pin; loopback
 * forces -OUT2 inactive, so a PC sees no interrupt in loopback either. */
static void uart_update_irq(struct uart16550 *u)
{
    struct uart16550_state *s = &u->s;
    uint8_t level = uart_iir_id(s) != UART16550_IIR_NO_INT && (s->mcr & UART16550_MCR_OUT2) &&
                    !(s->mcr & UART16550_MCR_LOOP);

    if (level != s->irq_level) {
        s->irq_level = level;
        irq_set(&u->irq, level);
    }
}

static void uart_timeout_stop(struct uart16550 *u)
{
    u->s.timeout_ipending = 0;
    u->s.timeout_armed = 0;
    if (u->tq)
        timerq_cancel(u->tq, &u->timeout_timer);
}

/* Called after a byte entered or left the RX FIFO: the character timeout
 * counts 4 character times from the latest such event. */
static void uart_timeout_restart(struct uart16550 *u)
{
    struct uart16550_state *s = &u->s;

    if (!uart_fifo_on(s) || s->rx_count == 0) {
        uart_timeout_stop(u);
        return;
    }
    s->timeout_ipending = 0;
    if (u->tq) {
        s->timeout_deadline_ns = timerq_now(u->tq) + 4 * uart_char_time_ns(s);
        s->timeout_armed = 1;
        timerq_arm(u->tq, &u->timeout_timer, s->timeout_deadline_ns);
    } else if (s->rx_count < uart_trigger_level(s)) {
        /* No virtual time: the host gave all it had, so the line is idle. */
        s->timeout_ipending = 1;
    }
}

static void uart_timeout_fire(void *opaque, uint64_t now_ns)
{
    struct uart16550 *u = opaque;

    u->s.timeout_armed = 0;
    if (uart_fifo_on(&u->s) && u->s.rx_count) {
        u->s.timeout_ipending = 1;
        uart_update_irq(u);
    }
}

static void uart_rx_clear(struct uart16550 *u)
{
    u->s.rx_head = 0;
    u->s.rx_count = 0;
    uart_timeout_stop(u);
}

/* One character arrives at the receiver. A full FIFO loses the new
 * character (FIFO mode); a full RBR is overwritten (16450 mode). Both set
 * OE. The caller restarts the timeout and updates the irq. */
static void uart_rx_put(struct uart16550_state *s, uint8_t c)
{
    unsigned cap = uart_fifo_on(s) ? UART16550_FIFO_SIZE : 1;

    if (s->rx_count >= cap) {
        s->lsr_err |= UART16550_LSR_OE;
        if (!uart_fifo_on(s))
            s->rx_fifo[s->rx_head] = c;
        return;
    }
    s->rx_fifo[(s->rx_head + s->rx_count) % UART16550_FIFO_SIZE] = c;
    s->rx_count++;
}

/* Loopback mode ties the modem outputs to the inputs (datasheet, MCR bit
 * 4): RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
static uint8_t uart_modem_lines(const struct uart16550_state *s)
{
    uint8_t m = s->mcr;

    if (!(m & UART16550_MCR_LOOP))
        return s->modem_in & MSR_LINES;
    return ((m & UART16550_MCR_RTS) ? UART16550_MSR_CTS : 0) |
           ((m & UART16550_MCR_DTR) ? UART16550_MSR_DSR : 0) |
           ((m & UART16550_MCR_OUT1) ? UART16550_MSR_RI : 0) |
           ((m & UART16550_MCR_OUT2) ? UART16550_MSR_DCD : 0);
}

/* Recomputes MSR bits 4-7 and accumulates the delta bits: DCTS, DDSR, DDCD
 * on any change, TERI only when RI goes from on to off. */
static void uart_update_msr(struct uart16550_state *s)
{
    uint8_t old = s->msr & MSR_LINES, now = uart_modem_lines(s), changed = old ^ now;
    uint8_t delta = s->msr & MSR_DELTAS;

    if (changed & UART16550_MSR_CTS)
        delta |= UART16550_MSR_DCTS;
    if (changed & UART16550_MSR_DSR)
        delta |= UART16550_MSR_DDSR;
    if (changed & UART16550_MSR_DCD)
        delta |= UART16550_MSR_DDCD;
    if ((old & UART16550_MSR_RI) && !(now & UART16550_MSR_RI))
        delta |= UART16550_MSR_TERI;
    s->msr = now | delta;
}

static void uart_write_thr(struct uart16550 *u, uint8_t c)
{
    struct uart16550_state *s = &u->s;

    /* Writing THR clears the THRE interrupt; the character then leaves at
     * once and THR is empty again, which raises it anew. The irq line thus
     * drops and rises, so an edge-triggered PIC sees a fresh request. */
    s->thr_ipending = 0;
    uart_update_irq(u);
    if (s->mcr & UART16550_MCR_LOOP) {
        uart_rx_put(s, c);
        uart_timeout_restart(u);
    } else if (u->backend.write) {
        u->backend.write(u->backend.opaque, &c, 1);
    }
    s->thr_ipending = (s->ier & UART16550_IER_THRI) ? 1 : 0;
    uart_update_irq(u);
}

static void uart_write_ier(struct uart16550 *u, uint8_t val)
{
    struct uart16550_state *s = &u->s;
    uint8_t changed = (s->ier ^ val) & 0x0f;

    s->ier = val & 0x0f;
    /* Enabling THRI while THR is empty raises THRE even if an IIR read had
     * cleared it (as the 16550A does; Linux's THRE test and Windows rely on
     * it). With THRI off the flag is unused, so keep it clear. */
    if (changed & UART16550_IER_THRI)
        s->thr_ipending = (s->ier & UART16550_IER_THRI) ? 1 : 0;
}

static void uart_write_fcr(struct uart16550 *u, uint8_t val)
{
    struct uart16550_state *s = &u->s;

    /* Switching the FIFOs on or off empties them. */
    if ((val ^ s->fcr) & UART16550_FCR_FE)
        uart_rx_clear(u);
    if (!(val & UART16550_FCR_FE)) {
        /* The other bits are programmed only together with FE. */
        s->fcr = 0;
        return;
    }
    if (val & UART16550_FCR_RFR)
        uart_rx_clear(u);
    /* XFR: the TX FIFO is always empty already. */
    s->fcr = val & (UART16550_FCR_FE | UART16550_FCR_DMA | 0xc0);
}

static uint8_t uart_read_rbr(struct uart16550 *u)
{
    struct uart16550_state *s = &u->s;
    uint8_t c;

    if (s->rx_count == 0)
        return 0;
    c = s->rx_fifo[s->rx_head];
    s->rx_head = (uint8_t)((s->rx_head + 1) % UART16550_FIFO_SIZE);
    s->rx_count--;
    if (uart_fifo_on(s))
        uart_timeout_restart(u);
    return c;
}

static uint8_t uart_readb(struct uart16550 *u, unsigned off)
{
    struct uart16550_state *s = &u->s;
    bool dlab = s->lcr & UART16550_LCR_DLAB;
    uint8_t v = 0, id;

    switch (off) {
    case UART16550_RBR:
        if (dlab)
            return (uint8_t)s->divisor;
        v = uart_read_rbr(u);
        break;
    case UART16550_IER:
        if (dlab)
            return (uint8_t)(s->divisor >> 8);
        return s->ier;
    case UART16550_IIR:
        id = uart_iir_id(s);
        v = id | (uart_fifo_on(s) ? UART16550_IIR_FIFO : 0);
        /* Reading IIR while it reports THRE is what clears THRE. */
        if (id == UART16550_IIR_THRI)
            s->thr_ipending = 0;
        break;
    case UART16550_LCR:
        return s->lcr;
    case UART16550_MCR:
        return s->mcr;
    case UART16550_LSR:
        v = uart_lsr(s);
        s->lsr_err = 0; /* reading LSR clears the error bits */
        break;
    case UART16550_MSR:
        v = s->msr;
        s->msr &= MSR_LINES; /* reading MSR clears the delta bits */
        break;
    case UART16550_SCR:
        return s->scr;
    }
    uart_update_irq(u);
    return v;
}

static void uart_writeb(struct uart16550 *u, unsigned off, uint8_t val)
{
    struct uart16550_state *s = &u->s;
    bool dlab = s->lcr & UART16550_LCR_DLAB;

    switch (off) {
    case UART16550_THR:
        if (dlab) {
            s->divisor = (uint16_t)((s->divisor & 0xff00) | val);
            return;
        }
        uart_write_thr(u, val);
        return;
    case UART16550_IER:
        if (dlab) {
            s->divisor = (uint16_t)((s->divisor & 0x00ff) | (val << 8));
            return;
        }
        uart_write_ier(u, val);
        break;
    case UART16550_FCR:
        uart_write_fcr(u, val);
        break;
    case UART16550_LCR:
        s->lcr = val;
        return;
    case UART16550_MCR:
        s->mcr = val & 0x1f;
        uart_update_msr(s);
        break;
    case UART16550_LSR:
    case UART16550_MSR:
        /* Writable only for factory test on the real part; ignored. */
        return;
    case UART16550_SCR:
        s->scr = val;
        return;
    }
    uart_update_irq(u);
}

/* A wider access is split into byte accesses at consecutive ports, as the
 * ISA bus does for an 8-bit device; ports past the device float high. */
static uint64_t uart16550_read(void *opaque, uint64_t offset, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++) {
        uint64_t b = offset + i < UART16550_NR_PORTS ? uart_readb(opaque, (unsigned)(offset + i))
                                                     : 0xff;
        v |= b << (8 * i);
    }
    return v;
}

static void uart16550_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    for (unsigned i = 0; i < size && offset + i < UART16550_NR_PORTS; i++)
        uart_writeb(opaque, (unsigned)(offset + i), (uint8_t)(value >> (8 * i)));
}

const struct bus_ops uart16550_ops = {uart16550_read, uart16550_write};

int uart16550_create(struct uart16550 **out, const struct uart16550_backend *be,
                     const struct irq_line *irq, struct timerq *tq)
{
    struct uart16550 *u = calloc(1, sizeof(*u));

    *out = NULL;
    if (!u)
        return err_set(-ENOMEM, "uart16550: out of memory");
    if (be)
        u->backend = *be;
    if (irq)
        u->irq = *irq;
    u->tq = tq;
    timer_init(&u->timeout_timer, uart_timeout_fire, u);
    u->s.modem_in = UART16550_MSR_CTS | UART16550_MSR_DSR | UART16550_MSR_DCD;
    uart16550_reset(u);
    *out = u;
    return 0;
}

void uart16550_destroy(struct uart16550 *u)
{
    if (!u)
        return;
    if (u->tq)
        timerq_cancel(u->tq, &u->timeout_timer);
    free(u);
}

void uart16550_reset(struct uart16550 *u)
{
    struct uart16550_state *s = &u->s;
    uint8_t modem_in = s->modem_in; /* external signals survive a reset */

    if (u->tq)
        timerq_cancel(u->tq, &u->timeout_timer);
    memset(s, 0, sizeof(*s));
    s->modem_in = modem_in;
    s->divisor = 12; /* 9600 baud; the datasheet leaves it undefined */
    s->msr = uart_modem_lines(s);
    /* The line was driven low by the reset (irq_level 0); tell the sink. */
    irq_set(&u->irq, 0);
}

int uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len)
{
    size_t n = uart16550_can_receive(u);

    if (n > len)
        n = len;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        uart_rx_put(&u->s, buf[i]);
    uart_timeout_restart(u);
    uart_update_irq(u);
    return (int)n;
}

size_t uart16550_can_receive(const struct uart16550 *u)
{
    const struct uart16550_state *s = &u->s;

    if (s->mcr & UART16550_MCR_LOOP)
        return 0;
    return (uart_fifo_on(s) ? UART16550_FIFO_SIZE : 1) - s->rx_count;
}

void uart16550_set_modem_status(struct uart16550 *u, uint8_t lines)
{
    u->s.modem_in = lines & MSR_LINES;
    uart_update_msr(&u->s);
    uart_update_irq(u);
}

void uart16550_post_load(struct uart16550 *u)
{
    struct uart16550_state *s = &u->s;

    if (u->tq) {
        if (s->timeout_armed)
            timerq_arm(u->tq, &u->timeout_timer, s->timeout_deadline_ns);
        else
            timerq_cancel(u->tq, &u->timeout_timer);
    }
    irq_set(&u->irq, s->irq_level);
}

/* ---- migration ---- */

static const struct vms_field uart16550_vms_fields[] = {
    VMS_BYTES(1, "rx_fifo", struct uart16550_state, rx_fifo, 1),
    VMS_U8(2, "rx_head", struct uart16550_state, rx_head, 1),
    VMS_U8(3, "rx_count", struct uart16550_state, rx_count, 1),
    VMS_U8(4, "ier", struct uart16550_state, ier, 1),
    VMS_U8(5, "fcr", struct uart16550_state, fcr, 1),
    VMS_U8(6, "lcr", struct uart16550_state, lcr, 1),
    VMS_U8(7, "mcr", struct uart16550_state, mcr, 1),
    VMS_U8(8, "lsr_err", struct uart16550_state, lsr_err, 1),
    VMS_U8(9, "msr", struct uart16550_state, msr, 1),
    VMS_U8(10, "modem_in", struct uart16550_state, modem_in, 1),
    VMS_U8(11, "scr", struct uart16550_state, scr, 1),
    VMS_U16(12, "divisor", struct uart16550_state, divisor, 1),
    VMS_U8(13, "thr_ipending", struct uart16550_state, thr_ipending, 1),
    VMS_U8(14, "timeout_ipending", struct uart16550_state, timeout_ipending, 1),
    VMS_U8(15, "timeout_armed", struct uart16550_state, timeout_armed, 1),
    VMS_U8(16, "irq_level", struct uart16550_state, irq_level, 1),
    VMS_U64(17, "timeout_deadline_ns", struct uart16550_state, timeout_deadline_ns, 1),
};

/* The RX FIFO indices must stay inside rx_fifo[], and every register must
 * hold only bits the device itself can set. */
static int uart16550_vms_post_load(void *opaque)
{
    struct uart16550 *u = opaque;
    const struct uart16550_state *s = &u->s;
    const uint8_t flags[] = {s->thr_ipending, s->timeout_ipending, s->timeout_armed,
                             s->irq_level};
    static const char *const flag_names[] = {"thr_ipending", "timeout_ipending",
                                             "timeout_armed", "irq_level"};

    if (s->rx_head >= UART16550_FIFO_SIZE)
        return err_set(-EINVAL, "rx_head %u is past the %u-byte FIFO", s->rx_head,
                       UART16550_FIFO_SIZE);
    if (s->rx_count > UART16550_FIFO_SIZE)
        return err_set(-EINVAL, "rx_count %u is over the %u-byte FIFO", s->rx_count,
                       UART16550_FIFO_SIZE);
    if (s->fcr & ~(UART16550_FCR_FE | UART16550_FCR_DMA | 0xc0u) ||
        (s->fcr && !uart_fifo_on(s)))
        return err_set(-EINVAL, "fcr 0x%02x is invalid", s->fcr);
    if (!uart_fifo_on(s) && s->rx_count > 1)
        return err_set(-EINVAL, "rx_count %u with the FIFOs disabled (at most 1)",
                       s->rx_count);
    if (s->ier & ~0x0fu)
        return err_set(-EINVAL, "ier 0x%02x has reserved bits", s->ier);
    if (s->mcr & ~0x1fu)
        return err_set(-EINVAL, "mcr 0x%02x has reserved bits", s->mcr);
    if (s->lsr_err & ~LSR_ERRORS)
        return err_set(-EINVAL, "lsr_err 0x%02x has non-error bits", s->lsr_err);
    if (s->modem_in & ~MSR_LINES)
        return err_set(-EINVAL, "modem_in 0x%02x has delta bits", s->modem_in);
    for (unsigned i = 0; i < sizeof(flags); i++) {
        if (flags[i] > 1)
            return err_set(-EINVAL, "%s %u is not 0 or 1", flag_names[i], flags[i]);
    }
    uart16550_post_load(u);
    return 0;
}

const struct vms_desc uart16550_vms = {
    .name = "uart16550",
    .version = 1,
    .min_version = 1,
    .fields = uart16550_vms_fields,
    .nfields = VMS_ARRAY_SIZE(uart16550_vms_fields),
    .post_load = uart16550_vms_post_load,
};
