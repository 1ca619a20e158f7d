/* Absent ISA devices: the standard PC ports of devices roam does not have
 * read all-ones and ignore writes, quietly. Spec: IBM PC/AT Technical
 * Reference, "System I/O Address Map" (the port assignments); Intel 8250
 * / National PC16550D (the serial ports' 8 registers), IBM parallel
 * printer adapter and the IEEE 1284 EPP extension (base + 0-7), Intel
 * 82077AA (the floppy controller's registers). See dev/isa_absent.h. */
#include "dev/isa_absent.h"

#include <string.h>

/* Each range is all the ports the device decodes, so that a probe of any
 * register is quiet. 0x3f6 is not the floppy's: it is the primary ATA
 * channel's control register (roam has no ATA either, but no guest has
 * been seen to probe it). */
const struct isa_absent_range isa_absent_ranges[ISA_ABSENT_NRANGES] = {
    {0x2f8, 8, "com2"}, /* 8250 driver: COM2-COM4 (CONFIG_SERIAL_8250_RUNTIME_UARTS=4) */
    {0x3e8, 8, "com3"},
    {0x2e8, 8, "com4"},
    {0x378, 8, "lpt1"}, /* data, status, control; EPP address and data at +3..+7 */
    {0x278, 8, "lpt2"},
    {0x3bc, 4, "lpt3"}, /* the printer port of the monochrome adapter */
    {0x3f0, 6, "fdc"},  /* 82077AA: SRA, SRB, DOR, TDR, MSR/DSR, FIFO */
    {0x3f7, 1, "fdc"},  /* DIR (read) / CCR (write) */
};

static void isa_absent_note(struct isa_absent_port *p, const char *what, uint64_t offset,
                            unsigned size)
{
    struct isa_absent *a = p->owner;

    a->accesses++;
    if (log_get_level() >= LOG_DEBUG && ratelimit_allow(&a->rl))
        log_debug("pio", "%s of %u bytes at 0x%llx: no %s here", what, size,
                  (unsigned long long)(p->range->base + offset), p->range->name);
}

static uint64_t isa_absent_read(void *opaque, uint64_t offset, unsigned size)
{
    isa_absent_note(opaque, "read", offset, size);
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static void isa_absent_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    (void)value;
    isa_absent_note(opaque, "write", offset, size);
}

const struct bus_ops isa_absent_ops = {isa_absent_read, isa_absent_write};

void isa_absent_init(struct isa_absent *a)
{
    memset(a, 0, sizeof(*a));
    for (unsigned i = 0; i < ISA_ABSENT_NRANGES; i++)
        a->port[i] = (struct isa_absent_port){a, &isa_absent_ranges[i]};
}

int isa_absent_register_pio(struct isa_absent *a, struct bus *pio)
{
    for (unsigned i = 0; i < ISA_ABSENT_NRANGES; i++) {
        const struct isa_absent_range *r = &isa_absent_ranges[i];
        int rc = bus_register(pio, r->base, r->len, &isa_absent_ops, &a->port[i], r->name);
        if (rc < 0)
            return rc;
    }
    return 0;
}
