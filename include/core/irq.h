/* Interrupt lines: a device holds a struct irq_line for each output pin and
 * drives it with irq_set(); whoever created the line decides where the level
 * goes (PIC input, IOAPIC pin, both, or a test's recorder). Lines carry
 * levels; an edge is a 0->1 transition, so irq_pulse() raises then lowers. */
#ifndef ROAM_CORE_IRQ_H
#define ROAM_CORE_IRQ_H

struct irq_line {
    void (*set)(void *opaque, int pin, int level);
    void *opaque;
    int pin;
};

/* A line with no sink (set == NULL) is valid and ignores its input. */
void irq_set(const struct irq_line *line, int level);
void irq_raise(const struct irq_line *line);
void irq_lower(const struct irq_line *line);
void irq_pulse(const struct irq_line *line);

#endif
