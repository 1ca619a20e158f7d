/* PC platform devices as the guests use them:
 * - 8259A PIC (Intel 8259A datasheet: ICW1-ICW4, OCW1 masks, OCW2 EOI);
 * - 8254 PIT (Intel 8254 datasheet: control word, modes 0 and 2, counter
 *   latch command);
 * - local APIC in xAPIC mode (Intel SDM Vol. 3A chapter 11);
 * - IOAPIC (Intel 82093AA datasheet: IOREGSEL/IOWIN, redirection table);
 * - QEMU's fw_cfg I/O interface (docs/specs/fw_cfg.rst in QEMU). */
#include "guest.h"

/* ---- PIC ---- */
void pic_init(uint8_t base, uint16_t mask)
{
    outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 needed */
    outb(0xa0, 0x11);
    outb(0x21, base);  /* ICW2: vector base */
    outb(0xa1, (uint8_t)(base + 8));
    outb(0x21, 0x04);  /* ICW3: slave on IRQ2 */
    outb(0xa1, 0x02);  /* ICW3: slave identity */
    outb(0x21, 0x01);  /* ICW4: 8086 mode, normal EOI */
    outb(0xa1, 0x01);
    pic_set_mask(mask);
}

void pic_set_mask(uint16_t mask)
{
    outb(0x21, (uint8_t)mask);
    outb(0xa1, (uint8_t)(mask >> 8));
}

void pic_eoi(unsigned irq)
{
    if (irq >= 8)
        outb(0xa0, 0x20);
    outb(0x20, 0x20);
}

/* ---- PIT ---- */
void pit_periodic(unsigned hz)
{
    unsigned div = (PIT_HZ + hz / 2) / hz;
    outb(0x43, 0x34); /* channel 0, lobyte/hibyte, mode 2, binary */
    outb(0x40, (uint8_t)div);
    outb(0x40, (uint8_t)(div >> 8));
}

void pit_stop(void)
{
    /* Mode 0 with a count written stops the rate generator: one terminal
     * count (an IRQ the caller has masked), then silence. */
    outb(0x43, 0x30);
    outb(0x40, 0xff);
    outb(0x40, 0xff);
}

static unsigned pit_read0(void)
{
    unsigned lo, hi;
    outb(0x43, 0x00); /* latch channel 0 */
    lo = inb(0x40);
    hi = inb(0x40);
    return lo | (hi << 8);
}

uint64_t tsc_hz = 2000000000ull;

/* One try: 0 if the PIT does not count or wrapped under us. */
static uint64_t tsc_calibrate_once(int *wrapped)
{
    /* Count channel 0 down from 0xffff in mode 0 and time 11932 PIT ticks
     * (10 ms) with the TSC. A few hundred polls at CPL0. */
    const unsigned ticks = 11932;
    unsigned start, now = 0;
    uint64_t t0, t1;
    unsigned polls = 0;

    outb(0x43, 0x30);
    outb(0x40, 0xff);
    outb(0x40, 0xff);
    start = pit_read0();
    t0 = rdtsc();
    for (;;) {
        now = pit_read0();
        if (now <= start && start - now >= ticks)
            break;
        if (now > start) {
            *wrapped = 1;
            return 0;
        }
        if (++polls > 200000)
            return 0; /* not counting: no usable PIT */
    }
    t1 = rdtsc();
    return (t1 - t0) * PIT_HZ / (start - now);
}

uint64_t tsc_calibrate(void)
{
    /* A vCPU descheduled for the 55 ms the counter takes to wrap (a busy
     * host, a sanitizer build beside it) spoils a try: take another. */
    for (unsigned i = 0; i < 5; i++) {
        int wrapped = 0;
        uint64_t hz = tsc_calibrate_once(&wrapped);
        if (hz) {
            tsc_hz = hz;
            return hz;
        }
        if (!wrapped)
            break;
    }
    return 0;
}

void delay_us(uint64_t us)
{
    uint64_t t0 = rdtsc(), n = tsc_hz / 1000000 * us;
    while (rdtsc() - t0 < n)
        pause();
}

/* ---- local APIC ---- */
uint32_t lapic_read(unsigned reg)
{
    return mmio_read32(LAPIC_BASE + reg);
}

void lapic_write(unsigned reg, uint32_t v)
{
    mmio_write32(LAPIC_BASE + reg, v);
}

void lapic_enable(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    if (!(base & (1u << 11)))
        wrmsr(MSR_APIC_BASE, base | (1u << 11));
    lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR);
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

unsigned lapic_id(void)
{
    return lapic_read(LAPIC_ID) >> 24;
}

int lapic_ipi(unsigned dest, uint32_t lo)
{
    lapic_write(LAPIC_ICR_HI, dest << 24);
    lapic_write(LAPIC_ICR_LO, lo);
    for (unsigned i = 0; i < 100000; i++) {
        if (!(lapic_read(LAPIC_ICR_LO) & (1u << 12)))
            return 0;
        pause();
    }
    return -1;
}

/* ---- IOAPIC ---- */
uint32_t ioapic_read(unsigned reg)
{
    mmio_write32(IOAPIC_BASE, reg);
    return mmio_read32(IOAPIC_BASE + 0x10);
}

void ioapic_write(unsigned reg, uint32_t v)
{
    mmio_write32(IOAPIC_BASE, reg);
    mmio_write32(IOAPIC_BASE + 0x10, v);
}

void ioapic_route(unsigned pin, uint8_t vector, unsigned dest, int masked)
{
    ioapic_write(0x10 + 2 * pin + 1, dest << 24);
    ioapic_write(0x10 + 2 * pin, vector | (masked ? 1u << 16 : 0));
}

/* ---- fw_cfg ---- */
void fwcfg_read(uint16_t key, void *buf, unsigned len)
{
    uint8_t *p = buf;
    outw(0x510, key);
    for (unsigned i = 0; i < len; i++)
        p[i] = inb(0x511);
}

int fwcfg_present(void)
{
    char sig[4];
    fwcfg_read(FW_CFG_SIGNATURE, sig, 4);
    return sig[0] == 'Q' && sig[1] == 'E' && sig[2] == 'M' && sig[3] == 'U';
}
