/* Interrupt lines; see core/irq.h. */
#include "core/irq.h"

#include <stddef.h>

void irq_set(const struct irq_line *line, int level)
{
    if (line && line->set)
        line->set(line->opaque, line->pin, level);
}

void irq_raise(const struct irq_line *line)
{
    irq_set(line, 1);
}

void irq_lower(const struct irq_line *line)
{
    irq_set(line, 0);
}

void irq_pulse(const struct irq_line *line)
{
    irq_set(line, 1);
    irq_set(line, 0);
}
