/* ioapic: with the 8259A PICs masked, routes a timer through the IOAPIC
 * (82093AA redirection table) to the local APIC: source=pit (default; the
 * PIT's ISA IRQ 0 arrives on pin 2 on PC platforms, pin= overrides) at
 * 1 kHz, or source=rtc (RTC periodic interrupt at 1024 Hz, ISA IRQ 8, pin
 * 8). Waits for ticks= interrupts (default 50) with EOIs, checks the
 * redirection entry reads back, then masks it and checks that no more
 * interrupts arrive. */
#include "lib/guest.h"

const char guest_name[] = "ioapic";

#define VECTOR 0x30

static volatile uint64_t ticks;
static int rtc;

static uint8_t cmos_read(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static void cmos_write(uint8_t reg, uint8_t v)
{
    outb(0x70, reg);
    outb(0x71, v);
}

static void tick(struct frame *f)
{
    (void)f;
    ticks++;
    if (rtc)
        cmos_read(0x0c); /* acknowledge the RTC interrupt */
    lapic_eoi();
}

void guest_main(void)
{
    char src[8] = "pit";
    uint64_t n = cmdline_u64("ticks", 50), pin, ver, entries, t;
    uint32_t lo;

    cmdline_str("source", src, sizeof(src));
    rtc = strncmp(src, "rtc", 4) == 0;
    EXPECT(rtc || strncmp(src, "pit", 4) == 0, "source=%s: expected pit or rtc", src);
    pin = cmdline_u64("pin", rtc ? 8 : 2);
    if (!tsc_calibrate())
        printf("no PIT counter: assuming a %lu MHz TSC for delays\n", tsc_hz / 1000000);
    lapic_enable();
    ver = ioapic_read(1);
    entries = ((ver >> 16) & 0xff) + 1;
    printf("IOAPIC id %u version 0x%lx, %lu pins\n", ioapic_read(0) >> 24, ver & 0xff, entries);
    EXPECT(entries >= 24 || pin < entries, "IOAPIC has %lu pins", entries);
    EXPECT(pin < entries, "pin=%lu out of range", pin);

    set_handler(VECTOR, tick);
    ioapic_route((unsigned)pin, VECTOR, lapic_id(), 0);
    lo = ioapic_read(0x10 + 2 * (unsigned)pin);
    EXPECT((lo & 0x1ffff) == VECTOR, "redirection entry %lu reads 0x%x", pin, lo);
    EXPECT(ioapic_read(0x11 + 2 * (unsigned)pin) >> 24 == lapic_id(),
           "redirection entry destination reads 0x%x", ioapic_read(0x11 + 2 * (unsigned)pin));
    if (rtc) {
        cmos_write(0x0a, 0x26);                         /* 32.768 kHz base, rate 6: 1024 Hz */
        cmos_write(0x0b, cmos_read(0x0b) | 0x40);       /* periodic interrupt enable */
        cmos_read(0x0c);
    } else {
        pit_periodic(1000);
    }
    printf("waiting for %lu %s interrupts on IOAPIC pin %lu\n", n, rtc ? "RTC" : "PIT", pin);
    while (ticks < n)
        sti_hlt_cli();
    printf("ok - %lu interrupts through the IOAPIC\n", n);

    /* Masked: the source keeps running, nothing arrives. */
    ioapic_route((unsigned)pin, VECTOR, lapic_id(), 1);
    EXPECT(ioapic_read(0x10 + 2 * (unsigned)pin) & (1u << 16), "mask bit does not read back");
    sti();
    delay_us(2000); /* an interrupt already in flight may still land */
    cli();
    t = ticks;
    sti();
    delay_us(30000);
    cli();
    EXPECT(ticks == t, "%lu interrupts arrived through a masked pin", ticks - t);
    printf("ok - masked pin: no interrupt in 30 ms\n");
    if (rtc)
        cmos_write(0x0b, cmos_read(0x0b) & ~0x40);
    else
        pit_stop();
}
