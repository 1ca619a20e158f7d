/* 16550A UART (National Semiconductor PC16550D datasheet), as on a PC's COM
 * ports: eight byte registers at base+0..7, an interrupt output gated by
 * MCR.OUT2 the way a PC's serial card gates it.
 *
 * The device is a pure state machine. It transmits instantly (every byte
 * written to THR goes straight to the backend, so the TX FIFO is always
 * empty and THRE/TEMT read as set), and the backend pushes host input with
 * uart16550_receive(). The FIFO character-timeout interrupt needs virtual
 * time: with a timer queue it fires 4 character times after the last
 * receive or RBR read, as the datasheet says; without one it is reported
 * at once whenever the RX FIFO holds fewer bytes than the trigger level.
 *
 * The caller registers the device on the PIO bus (8 ports) with
 * uart16550_ops and the device as opaque, and wires its irq_line. */
#ifndef ROAM_DEV_UART16550_H
#define ROAM_DEV_UART16550_H

#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/err.h"
#include "core/irq.h"
#include "core/timerq.h"

#define UART16550_COM1_BASE 0x3f8
#define UART16550_COM1_IRQ 4
#define UART16550_NR_PORTS 8
#define UART16550_FIFO_SIZE 16

/* Register offsets (DLAB selects DLL/DLM at 0/1). */
#define UART16550_RBR 0 /* read, DLAB=0 */
#define UART16550_THR 0 /* write, DLAB=0 */
#define UART16550_DLL 0 /* DLAB=1 */
#define UART16550_IER 1 /* DLAB=0 */
#define UART16550_DLM 1 /* DLAB=1 */
#define UART16550_IIR 2 /* read */
#define UART16550_FCR 2 /* write */
#define UART16550_LCR 3
#define UART16550_MCR 4
#define UART16550_LSR 5
#define UART16550_MSR 6
#define UART16550_SCR 7

#define UART16550_IER_RDI 0x01  /* received data available (and timeout) */
#define UART16550_IER_THRI 0x02 /* THR empty */
#define UART16550_IER_RLSI 0x04 /* receiver line status */
#define UART16550_IER_MSI 0x08  /* modem status */

#define UART16550_IIR_NO_INT 0x01
#define UART16550_IIR_MSI 0x00
#define UART16550_IIR_THRI 0x02
#define UART16550_IIR_RDI 0x04
#define UART16550_IIR_RLSI 0x06
#define UART16550_IIR_CTI 0x0c /* character timeout */
#define UART16550_IIR_FIFO 0xc0 /* set while the FIFOs are enabled */

#define UART16550_FCR_FE 0x01  /* FIFO enable */
#define UART16550_FCR_RFR 0x02 /* RX FIFO reset */
#define UART16550_FCR_XFR 0x04 /* TX FIFO reset */
#define UART16550_FCR_DMA 0x08
#define UART16550_FCR_ITL_1 0x00
#define UART16550_FCR_ITL_4 0x40
#define UART16550_FCR_ITL_8 0x80
#define UART16550_FCR_ITL_14 0xc0

#define UART16550_LCR_DLAB 0x80

#define UART16550_MCR_DTR 0x01
#define UART16550_MCR_RTS 0x02
#define UART16550_MCR_OUT1 0x04
#define UART16550_MCR_OUT2 0x08
#define UART16550_MCR_LOOP 0x10

#define UART16550_LSR_DR 0x01
#define UART16550_LSR_OE 0x02
#define UART16550_LSR_PE 0x04
#define UART16550_LSR_FE 0x08
#define UART16550_LSR_BI 0x10
#define UART16550_LSR_THRE 0x20
#define UART16550_LSR_TEMT 0x40
#define UART16550_LSR_FIFOERR 0x80

#define UART16550_MSR_DCTS 0x01
#define UART16550_MSR_DDSR 0x02
#define UART16550_MSR_TERI 0x04
#define UART16550_MSR_DDCD 0x08
#define UART16550_MSR_CTS 0x10
#define UART16550_MSR_DSR 0x20
#define UART16550_MSR_RI 0x40
#define UART16550_MSR_DCD 0x80

/* Everything a migration must carry: plain values, no pointers. */
struct uart16550_state {
    uint8_t rx_fifo[UART16550_FIFO_SIZE];
    uint8_t rx_head;  /* index of the oldest byte */
    uint8_t rx_count; /* bytes held; at most 1 while the FIFOs are disabled */
    uint8_t ier;
    uint8_t fcr;      /* FE, DMA and trigger bits as last programmed */
    uint8_t lcr;
    uint8_t mcr;
    uint8_t lsr_err;  /* latched OE/PE/FE/BI; the other LSR bits are derived */
    uint8_t msr;      /* status bits 4-7 and delta bits 0-3 */
    uint8_t modem_in; /* CTS/DSR/RI/DCD driven by the host side (MSR bits) */
    uint8_t scr;
    uint16_t divisor;
    uint8_t thr_ipending;     /* THRE interrupt raised and not yet cleared */
    uint8_t timeout_ipending; /* character timeout interrupt pending */
    uint8_t timeout_armed;    /* the timeout timer runs, until timeout_deadline_ns */
    uint8_t irq_level;        /* level last driven on the irq line */
    uint64_t timeout_deadline_ns;
};

struct uart16550_backend {
    /* Called for every transmitted byte (len is 1 today). May be NULL. */
    void (*write)(void *opaque, const uint8_t *buf, size_t len);
    void *opaque;
};

struct uart16550 {
    struct uart16550_state s;
    struct uart16550_backend backend;
    struct irq_line irq;
    struct timerq *tq; /* may be NULL: see the top of this file */
    struct timer timeout_timer;
};

extern const struct bus_ops uart16550_ops;

/* be, irq and tq may be NULL. The modem inputs start as a connected
 * terminal (CTS, DSR, DCD). */
MUST_CHECK int uart16550_create(struct uart16550 **out, const struct uart16550_backend *be,
                                const struct irq_line *irq, struct timerq *tq);
void uart16550_destroy(struct uart16550 *u);
/* Hardware reset (the MR pin): registers to their datasheet values. */
void uart16550_reset(struct uart16550 *u);

/* Host input. Returns how many bytes the RX FIFO accepted (the rest stay
 * with the caller). In loopback mode the receiver is cut off from the
 * line, so nothing is accepted. */
int uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len);
/* How many bytes uart16550_receive() would accept now. */
size_t uart16550_can_receive(const struct uart16550 *u);
/* Sets the modem input lines (any of MSR_CTS/DSR/RI/DCD); changes set the
 * MSR delta bits and may raise the modem status interrupt. */
void uart16550_set_modem_status(struct uart16550 *u, uint8_t lines);

/* After u->s was replaced (migration): re-arms the timeout timer and drives
 * the irq line to the restored level. */
void uart16550_post_load(struct uart16550 *u);

/* The migratable state (migrate/vmstate.h): struct uart16550_state.
 * vmstate_load's state is &u->s, its opaque u; post_load checks the FIFO
 * indices and the register bits before it calls uart16550_post_load(). */
struct vms_desc;
extern const struct vms_desc uart16550_vms;

#endif
