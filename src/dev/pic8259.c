/* Cascaded 8259A pair. Spec: Intel 8259A Programmable Interrupt Controller
 * datasheet, 231468-003 ("Initialization Command Words", "Operation Command
 * Words", "Edge and Level Triggered Modes", "The Special Mask Mode"); the
 * ELCR from the Intel 82371AB (PIIX4) datasheet, 290562. See dev/pic8259.h. */
#include "dev/pic8259.h"

#include <stdlib.h>
#include <string.h>

#include "migrate/vmstate.h"

#define MASTER 0
#define SLAVE 1
#define CASCADE_BIT (1u << PIC8259_CASCADE_IR)

/* ELCR bits that may be set: IRQ 0, 1, 2, 8 and 13 are always edge on a
 * PIIX (timer, keyboard, cascade, RTC, FPU error). */
static const uint8_t elcr_mask[2] = {0xf8, 0xde};

static uint8_t chip_level_mask(const struct pic8259_chip_state *c)
{
    return c->ltim ? 0xff : c->elcr;
}

/* Rank of the highest-priority bit of mask: 0 is the highest priority (the
 * IR at priority_add), 8 means none. */
static int chip_priority(const struct pic8259_chip_state *c, uint8_t mask)
{
    int prio = 0;

    if (!mask)
        return 8;
    while (!(mask & (1u << ((prio + c->priority_add) & 7))))
        prio++;
    return prio;
}

/* The IR this chip would request the CPU (or master) to service now, or -1. */
static int chip_get_irq(const struct pic8259_chip_state *c, bool is_master)
{
    uint8_t req = c->irr & ~c->imr;
    int prio, cur, irq;

    if (c->special_mask) {
        /* Special mask mode: every unmasked level not itself in service
         * may interrupt, lower ones included. */
        prio = chip_priority(c, req & ~c->isr);
        return prio == 8 ? -1 : (prio + c->priority_add) & 7;
    }
    prio = chip_priority(c, req);
    if (prio == 8)
        return -1;
    irq = (prio + c->priority_add) & 7;
    cur = chip_priority(c, c->isr);
    if (prio < cur)
        return irq;
    /* Special fully nested mode: while a slave is in service, the master
     * still passes on a higher-priority request from that slave. */
    if (is_master && c->sfnm && prio == cur && irq == PIC8259_CASCADE_IR)
        return irq;
    return -1;
}

static void chip_set_input(struct pic8259_chip_state *c, unsigned pin, int level)
{
    uint8_t bit = (uint8_t)(1u << pin);

    if (level) {
        /* Edge: latched on the rising edge. Level: follows the pin. */
        if (!(c->lines & bit) || (chip_level_mask(c) & bit))
            c->irr |= bit;
        c->lines |= bit;
    } else {
        c->lines &= (uint8_t)~bit;
        if (chip_level_mask(c) & bit)
            c->irr &= (uint8_t)~bit;
    }
}

/* The chip's part of an INTA cycle (or a poll) for irq. */
static void chip_intack(struct pic8259_chip_state *c, int irq)
{
    uint8_t bit = (uint8_t)(1u << irq);

    if (c->auto_eoi) {
        if (c->rotate_on_aeoi)
            c->priority_add = (uint8_t)((irq + 1) & 7);
    } else {
        c->isr |= bit;
    }
    /* A level-triggered request stays in IRR while its pin is high. */
    if (!(chip_level_mask(c) & bit))
        c->irr &= (uint8_t)~bit;
}

/* Propagates the slave's INT to master IR2 and the master's INT to INTR. */
static void pic_update(struct pic8259 *p)
{
    struct pic8259_chip_state *m = &p->s.chip[MASTER], *sl = &p->s.chip[SLAVE];
    uint8_t out = chip_get_irq(sl, false) >= 0;

    if (out != sl->int_out) {
        sl->int_out = out;
        chip_set_input(m, PIC8259_CASCADE_IR, out);
    }
    out = chip_get_irq(m, true) >= 0;
    if (out != m->int_out) {
        m->int_out = out;
        irq_set(&p->intr, out);
    }
}

/* After the master acknowledged IR2, the slave signals afresh: if it still
 * requests (AEOI, special mask), its INT must reach the master as a new
 * edge, or that request would wait for an unrelated transition. */
static void pic_cascade_resample(struct pic8259 *p)
{
    p->s.chip[SLAVE].int_out = 0;
    chip_set_input(&p->s.chip[MASTER], PIC8259_CASCADE_IR, 0);
}

/* Poll command: the read acts as an INTA on this chip and returns
 * I (bit 7) and the level W2-W0. */
static uint8_t pic_poll_read(struct pic8259 *p, int which)
{
    struct pic8259_chip_state *c = &p->s.chip[which];
    int irq = chip_get_irq(c, which == MASTER);

    c->poll = 0;
    if (irq < 0)
        return 0;
    /* Only this chip takes part: a master poll answering IR2 leaves the
     * slave's request for the guest to poll there. */
    chip_intack(c, irq);
    return (uint8_t)(0x80 | irq);
}

static void pic_write_icw1(struct pic8259_chip_state *c, uint8_t val)
{
    c->icw4_needed = val & 0x01;
    c->single_mode = (val >> 1) & 1;
    c->ltim = (val >> 3) & 1;
    /* Initialization resets the edge sense (a pin must rise again), clears
     * IMR and ISR, gives IR7 the lowest priority, cancels special mask and
     * selects IRR for reads; without IC4 the ICW4 functions are cleared. */
    c->irr = c->lines & chip_level_mask(c);
    c->isr = 0;
    c->imr = 0;
    c->priority_add = 0;
    c->special_mask = 0;
    c->read_isr = 0;
    c->poll = 0;
    c->rotate_on_aeoi = 0;
    if (!c->icw4_needed) {
        c->auto_eoi = 0;
        c->sfnm = 0;
    }
    c->init_state = 1;
}

static void pic_write_ocw2(struct pic8259_chip_state *c, uint8_t val)
{
    int level = val & 7, prio;

    switch (val >> 5) {
    case 0: /* rotate in AEOI mode: clear */
        c->rotate_on_aeoi = 0;
        break;
    case 4: /* rotate in AEOI mode: set */
        c->rotate_on_aeoi = 1;
        break;
    case 1: /* non-specific EOI: the highest-priority level in service */
    case 5: /* rotate on non-specific EOI: it also becomes the lowest */
        prio = chip_priority(c, c->isr);
        if (prio == 8)
            break;
        level = (prio + c->priority_add) & 7;
        c->isr &= (uint8_t)~(1u << level);
        if (val >> 5 == 5)
            c->priority_add = (uint8_t)((level + 1) & 7);
        break;
    case 3: /* specific EOI */
        c->isr &= (uint8_t)~(1u << level);
        break;
    case 7: /* rotate on specific EOI */
        c->isr &= (uint8_t)~(1u << level);
        c->priority_add = (uint8_t)((level + 1) & 7);
        break;
    case 6: /* set priority: level becomes the lowest */
        c->priority_add = (uint8_t)((level + 1) & 7);
        break;
    default: /* 2: no operation */
        break;
    }
}

static void pic_write_ocw3(struct pic8259_chip_state *c, uint8_t val)
{
    if (val & 0x04)
        c->poll = 1;
    if (val & 0x02)
        c->read_isr = val & 1;
    if (val & 0x40)
        c->special_mask = (val >> 5) & 1;
}

/* Port 0 (A0=0): ICW1, OCW2, OCW3. Port 1 (A0=1): ICW2-4 during init,
 * otherwise OCW1 (IMR). */
static void pic_writeb(struct pic8259 *p, int which, unsigned port, uint8_t val)
{
    struct pic8259_chip_state *c = &p->s.chip[which];

    if (port == 0) {
        if (val & 0x10)
            pic_write_icw1(c, val);
        else if (val & 0x08)
            pic_write_ocw3(c, val);
        else
            pic_write_ocw2(c, val);
    } else {
        switch (c->init_state) {
        case 0:
            c->imr = val;
            break;
        case 1:
            c->irq_base = val & 0xf8;
            c->init_state = !c->single_mode ? 2 : c->icw4_needed ? 3 : 0;
            break;
        case 2:
            c->icw3 = val;
            c->init_state = c->icw4_needed ? 3 : 0;
            break;
        case 3:
            /* uPM (bit 0) is assumed set: 8080 call-vector mode is not
             * modeled. BUF and M/S (bits 2-3) do not matter here. */
            c->auto_eoi = (val >> 1) & 1;
            c->sfnm = (val >> 4) & 1;
            c->init_state = 0;
            break;
        }
    }
    pic_update(p);
}

static uint8_t pic_readb(struct pic8259 *p, int which, unsigned port)
{
    struct pic8259_chip_state *c = &p->s.chip[which];
    uint8_t v;

    if (c->poll) {
        v = pic_poll_read(p, which);
        pic_update(p);
        return v;
    }
    if (port == 0)
        return c->read_isr ? c->isr : c->irr;
    return c->imr;
}

/* Wider accesses split into byte accesses at consecutive ports, as on the
 * ISA bus; ports past the range float high. */
static uint64_t pic_read_range(struct pic8259 *p, int which, uint64_t offset, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++) {
        uint64_t b = offset + i < PIC8259_NR_PORTS ? pic_readb(p, which, (unsigned)(offset + i))
                                                   : 0xff;
        v |= b << (8 * i);
    }
    return v;
}

static void pic_write_range(struct pic8259 *p, int which, uint64_t offset, uint64_t value,
                            unsigned size)
{
    for (unsigned i = 0; i < size && offset + i < PIC8259_NR_PORTS; i++)
        pic_writeb(p, which, (unsigned)(offset + i), (uint8_t)(value >> (8 * i)));
}

static uint64_t pic8259_master_read(void *opaque, uint64_t offset, unsigned size)
{
    return pic_read_range(opaque, MASTER, offset, size);
}

static void pic8259_master_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    pic_write_range(opaque, MASTER, offset, value, size);
}

static uint64_t pic8259_slave_read(void *opaque, uint64_t offset, unsigned size)
{
    return pic_read_range(opaque, SLAVE, offset, size);
}

static void pic8259_slave_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    pic_write_range(opaque, SLAVE, offset, value, size);
}

static uint64_t pic8259_elcr_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pic8259 *p = opaque;
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++) {
        uint64_t b = offset + i < 2 ? p->s.chip[offset + i].elcr : 0xff;
        v |= b << (8 * i);
    }
    return v;
}

static void pic8259_elcr_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pic8259 *p = opaque;

    for (unsigned i = 0; i < size && offset + i < 2; i++) {
        struct pic8259_chip_state *c = &p->s.chip[offset + i];
        uint8_t level;

        c->elcr = (uint8_t)(value >> (8 * i)) & elcr_mask[offset + i];
        /* Inputs now level triggered request exactly while their pin is
         * high; edge inputs keep whatever they latched. */
        level = chip_level_mask(c);
        c->irr = (uint8_t)((c->irr & ~level) | (c->lines & level));
    }
    pic_update(p);
}

const struct bus_ops pic8259_master_ops = {pic8259_master_read, pic8259_master_write};
const struct bus_ops pic8259_slave_ops = {pic8259_slave_read, pic8259_slave_write};
const struct bus_ops pic8259_elcr_ops = {pic8259_elcr_read, pic8259_elcr_write};

int pic8259_create(struct pic8259 **out, const struct irq_line *intr)
{
    struct pic8259 *p = calloc(1, sizeof(*p));

    *out = NULL;
    if (!p)
        return err_set(-ENOMEM, "pic8259: out of memory");
    if (intr)
        p->intr = *intr;
    pic8259_reset(p);
    *out = p;
    return 0;
}

void pic8259_destroy(struct pic8259 *p)
{
    free(p);
}

void pic8259_reset(struct pic8259 *p)
{
    /* Input pins are driven by other devices and keep their levels. */
    uint8_t lines[2] = {p->s.chip[MASTER].lines & (uint8_t)~CASCADE_BIT, p->s.chip[SLAVE].lines};

    memset(&p->s, 0, sizeof(p->s));
    for (int i = 0; i < 2; i++) {
        struct pic8259_chip_state *c = &p->s.chip[i];
        c->lines = lines[i];
        c->icw3 = i == MASTER ? CASCADE_BIT : PIC8259_CASCADE_IR;
    }
    irq_set(&p->intr, 0);
    pic_update(p);
}

int pic8259_register_pio(struct pic8259 *p, struct bus *pio)
{
    int rc = bus_register(pio, PIC8259_MASTER_BASE, PIC8259_NR_PORTS, &pic8259_master_ops, p,
                          "pic-master");
    if (rc == 0)
        rc = bus_register(pio, PIC8259_SLAVE_BASE, PIC8259_NR_PORTS, &pic8259_slave_ops, p,
                          "pic-slave");
    if (rc == 0)
        rc = bus_register(pio, PIC8259_ELCR_BASE, 2, &pic8259_elcr_ops, p, "elcr");
    return rc;
}

void pic8259_set_irq(struct pic8259 *p, int irq, int level)
{
    if (irq < 0 || irq >= PIC8259_NR_IRQS || irq == PIC8259_CASCADE_IR)
        return;
    chip_set_input(&p->s.chip[irq >> 3], (unsigned)(irq & 7), level != 0);
    pic_update(p);
}

static void pic8259_line_set(void *opaque, int pin, int level)
{
    pic8259_set_irq(opaque, pin, level);
}

struct irq_line pic8259_irq_line(struct pic8259 *p, int irq)
{
    struct irq_line line = {pic8259_line_set, p, irq};
    return line;
}

bool pic8259_has_interrupt(const struct pic8259 *p)
{
    return p->s.chip[MASTER].int_out;
}

int pic8259_ack(struct pic8259 *p)
{
    struct pic8259_chip_state *m = &p->s.chip[MASTER], *sl = &p->s.chip[SLAVE];
    int irq = chip_get_irq(m, true), irq2, vector;

    if (irq < 0) {
        /* The request went away before INTA: default IR7, no ISR bit. */
        vector = m->irq_base + 7;
    } else if (irq == PIC8259_CASCADE_IR) {
        irq2 = chip_get_irq(sl, false);
        if (irq2 >= 0) {
            chip_intack(sl, irq2);
            vector = sl->irq_base + irq2;
        } else {
            /* Spurious on the slave: it answers IR7; the master has
             * already committed IR2 to service. */
            vector = sl->irq_base + 7;
        }
        chip_intack(m, irq);
        pic_cascade_resample(p);
    } else {
        chip_intack(m, irq);
        vector = m->irq_base + irq;
    }
    pic_update(p);
    return vector;
}

void pic8259_post_load(struct pic8259 *p)
{
    irq_set(&p->intr, p->s.chip[MASTER].int_out);
}

/* ---- migration ---- */

/* One chip's fields; chip n (0 master, 1 slave) takes ids id0 .. id0 + 18. */
#define PIC_CHIP_FIELDS(n, pfx, id0)                                                       \
    VMS_U8((id0) + 0, pfx "_irr", struct pic8259_state, chip[n].irr, 1),                   \
    VMS_U8((id0) + 1, pfx "_isr", struct pic8259_state, chip[n].isr, 1),                   \
    VMS_U8((id0) + 2, pfx "_imr", struct pic8259_state, chip[n].imr, 1),                   \
    VMS_U8((id0) + 3, pfx "_lines", struct pic8259_state, chip[n].lines, 1),               \
    VMS_U8((id0) + 4, pfx "_elcr", struct pic8259_state, chip[n].elcr, 1),                 \
    VMS_U8((id0) + 5, pfx "_irq_base", struct pic8259_state, chip[n].irq_base, 1),         \
    VMS_U8((id0) + 6, pfx "_icw3", struct pic8259_state, chip[n].icw3, 1),                 \
    VMS_U8((id0) + 7, pfx "_priority_add", struct pic8259_state, chip[n].priority_add, 1), \
    VMS_U8((id0) + 8, pfx "_init_state", struct pic8259_state, chip[n].init_state, 1),     \
    VMS_U8((id0) + 9, pfx "_icw4_needed", struct pic8259_state, chip[n].icw4_needed, 1),   \
    VMS_U8((id0) + 10, pfx "_single_mode", struct pic8259_state, chip[n].single_mode, 1),  \
    VMS_U8((id0) + 11, pfx "_ltim", struct pic8259_state, chip[n].ltim, 1),                \
    VMS_U8((id0) + 12, pfx "_auto_eoi", struct pic8259_state, chip[n].auto_eoi, 1),        \
    VMS_U8((id0) + 13, pfx "_sfnm", struct pic8259_state, chip[n].sfnm, 1),                \
    VMS_U8((id0) + 14, pfx "_rotate_on_aeoi", struct pic8259_state, chip[n].rotate_on_aeoi, \
           1),                                                                             \
    VMS_U8((id0) + 15, pfx "_read_isr", struct pic8259_state, chip[n].read_isr, 1),        \
    VMS_U8((id0) + 16, pfx "_poll", struct pic8259_state, chip[n].poll, 1),                \
    VMS_U8((id0) + 17, pfx "_special_mask", struct pic8259_state, chip[n].special_mask, 1), \
    VMS_U8((id0) + 18, pfx "_int_out", struct pic8259_state, chip[n].int_out, 1)

static const struct vms_field pic8259_vms_fields[] = {
    PIC_CHIP_FIELDS(MASTER, "master", 1),
    PIC_CHIP_FIELDS(SLAVE, "slave", 20),
};

static int pic_check_chip(const char *chip, const struct pic8259_chip_state *c,
                          uint8_t elcr_ok)
{
    const uint8_t flags[] = {c->icw4_needed, c->single_mode, c->ltim, c->auto_eoi,
                             c->sfnm, c->rotate_on_aeoi, c->read_isr, c->poll,
                             c->special_mask, c->int_out};
    static const char *const flag_names[] = {"icw4_needed", "single_mode", "ltim",
                                             "auto_eoi", "sfnm", "rotate_on_aeoi",
                                             "read_isr", "poll", "special_mask", "int_out"};

    if (c->init_state > 3)
        return err_set(-EINVAL, "%s init_state %u is invalid (0..3)", chip,
                       c->init_state);
    if (c->priority_add > 7)
        return err_set(-EINVAL, "%s priority_add %u is invalid (0..7)", chip,
                       c->priority_add);
    if (c->irq_base & 7)
        return err_set(-EINVAL, "%s irq_base 0x%02x is not a multiple of 8", chip,
                       c->irq_base);
    if (c->elcr & ~elcr_ok)
        return err_set(-EINVAL, "%s elcr 0x%02x sets bits outside 0x%02x", chip,
                       c->elcr, elcr_ok);
    for (unsigned i = 0; i < sizeof(flags); i++) {
        if (flags[i] > 1)
            return err_set(-EINVAL, "%s %s %u is not 0 or 1", chip, flag_names[i],
                           flags[i]);
    }
    return 0;
}

static int pic8259_vms_post_load(void *opaque)
{
    struct pic8259 *p = opaque;
    int rc = pic_check_chip("master", &p->s.chip[MASTER], elcr_mask[MASTER]);

    if (!rc)
        rc = pic_check_chip("slave", &p->s.chip[SLAVE], elcr_mask[SLAVE]);
    if (rc < 0)
        return rc;
    pic8259_post_load(p);
    return 0;
}

const struct vms_desc pic8259_vms = {
    .name = "pic8259",
    .version = 1,
    .min_version = 1,
    .fields = pic8259_vms_fields,
    .nfields = VMS_ARRAY_SIZE(pic8259_vms_fields),
    .post_load = pic8259_vms_post_load,
};
