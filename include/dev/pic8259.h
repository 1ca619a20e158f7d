/* The PC's cascaded pair of 8259A interrupt controllers (Intel 8259A
 * datasheet, 231468-003) with the PIIX edge/level control registers (ELCR,
 * Intel 82371AB PIIX4 datasheet, 290562, section 4.1.21).
 *
 * One object models both chips: the master at 0x20/0x21 delivers INTR to
 * the CPU, the slave at 0xa0/0xa1 cascades into the master's IR2, and the
 * ELCR at 0x4d0/0x4d1 selects edge or level triggering per input. Devices
 * drive inputs 0-15 (8-15 are the slave's IR0-7) with pic8259_set_irq() or
 * through an irq_line from pic8259_irq_line(). The CPU side asks
 * pic8259_has_interrupt() and runs the INTA cycle with pic8259_ack().
 *
 * The caller registers the three port ranges with the per-range ops below
 * (or calls pic8259_register_pio()), with the device as opaque. */
#ifndef ROAM_DEV_PIC8259_H
#define ROAM_DEV_PIC8259_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/err.h"
#include "core/irq.h"

#define PIC8259_MASTER_BASE 0x20
#define PIC8259_SLAVE_BASE 0xa0
#define PIC8259_ELCR_BASE 0x4d0
#define PIC8259_NR_PORTS 2 /* per range */
#define PIC8259_NR_IRQS 16
#define PIC8259_CASCADE_IR 2 /* the master input the slave drives */

/* One 8259A. Plain values only, so a migration can carry them. */
struct pic8259_chip_state {
    uint8_t irr;          /* interrupt request register */
    uint8_t isr;          /* in-service register */
    uint8_t imr;          /* interrupt mask register (OCW1) */
    uint8_t lines;        /* current level of each IR input pin */
    uint8_t elcr;         /* ELCR: 1 = level triggered */
    uint8_t irq_base;     /* ICW2: vector of IR0 (low 3 bits zero) */
    uint8_t icw3;         /* ICW3 as written (the cascade is wired to IR2) */
    uint8_t priority_add; /* the IR with the highest priority (rotation) */
    uint8_t init_state;   /* 0 ready; 1, 2, 3: expecting ICW2, ICW3, ICW4 */
    uint8_t icw4_needed;  /* ICW1.IC4 */
    uint8_t single_mode;  /* ICW1.SNGL: no ICW3 */
    uint8_t ltim;         /* ICW1.LTIM: every input level triggered */
    uint8_t auto_eoi;     /* ICW4.AEOI */
    uint8_t sfnm;         /* ICW4.SFNM: special fully nested mode */
    uint8_t rotate_on_aeoi;
    uint8_t read_isr;     /* OCW3.RIS: a read at the command port gives ISR */
    uint8_t poll;         /* OCW3.P: the next read is a poll */
    uint8_t special_mask; /* OCW3.SMM */
    uint8_t int_out;      /* level of this chip's INT output */
};

struct pic8259_state {
    struct pic8259_chip_state chip[2]; /* [0] master, [1] slave */
};

struct pic8259 {
    struct pic8259_state s;
    struct irq_line intr; /* the master's INT pin, to the CPU */
};

/* Ports 0x20-0x21, 0xa0-0xa1, 0x4d0-0x4d1 respectively. */
extern const struct bus_ops pic8259_master_ops;
extern const struct bus_ops pic8259_slave_ops;
extern const struct bus_ops pic8259_elcr_ops;

/* intr may be NULL; otherwise it follows pic8259_has_interrupt(), so the
 * core can kick a vCPU when INTR rises. */
MUST_CHECK int pic8259_create(struct pic8259 **out, const struct irq_line *intr);
void pic8259_destroy(struct pic8259 *p);
/* Power-on state: vector base 0, nothing requested, masked or in service,
 * every input edge triggered. Firmware or the OS then sends ICW1-4. */
void pic8259_reset(struct pic8259 *p);
/* Registers the three ranges at their PC addresses on the PIO bus. */
MUST_CHECK int pic8259_register_pio(struct pic8259 *p, struct bus *pio);

/* Drives input pin irq (0-15; 2 is the internal cascade and is ignored). */
void pic8259_set_irq(struct pic8259 *p, int irq, int level);
/* An irq_line whose level drives input pin irq. */
struct irq_line pic8259_irq_line(struct pic8259 *p, int irq);

/* The INTR line: true while the master requests an interrupt. */
bool pic8259_has_interrupt(const struct pic8259 *p);
/* The INTA cycle: returns the vector to deliver and moves the request from
 * IRR to ISR (not in AEOI mode). With no request left (it went away after
 * INTR rose), returns the spurious vector base+7 of the chip concerned and
 * sets no ISR bit on that chip. */
int pic8259_ack(struct pic8259 *p);

/* After p->s was replaced (migration): drives INTR to the restored level. */
void pic8259_post_load(struct pic8259 *p);

/* The migratable state (migrate/vmstate.h): struct pic8259_state, both
 * chips flattened into fields "master_..." and "slave_...". vmstate_load's
 * state is &p->s, its opaque p; post_load checks the init state, rotation,
 * vector base and ELCR of each chip before it calls pic8259_post_load(). */
struct vms_desc;
extern const struct vms_desc pic8259_vms;

#endif
