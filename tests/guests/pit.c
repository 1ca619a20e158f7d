/* pit: programs the 8259A PICs (ICW1-4, IRQ0 at vector 0x20) and the 8254
 * PIT channel 0 as a rate generator (mode 2) at hz= (default 1000), waits
 * for ticks= interrupts (default 100) with "sti; hlt", EOIs each (the
 * local APIC's LINT0 is set to ExtINT, virtual wire mode, first), and
 * checks that the interrupt was in service in the PIC and that the ticks
 * did not come faster than the programmed rate (against the TSC, which is
 * measured against the PIT counter first). */
#include "lib/guest.h"

const char guest_name[] = "pit";

static volatile uint64_t ticks, last_tsc;
static volatile int isr_ok = 1;

static uint8_t pic_isr(void)
{
    outb(0x20, 0x0b); /* OCW3: read the ISR */
    return inb(0x20);
}

static void tick(struct frame *f)
{
    (void)f;
    if (ticks < 3 && !(pic_isr() & 1))
        isr_ok = 0;
    ticks++;
    last_tsc = rdtsc();
    pic_eoi(0);
}

void guest_main(void)
{
    uint64_t n = cmdline_u64("ticks", 100), hz = cmdline_u64("hz", 1000), t0, us, want_us;
    unsigned div;

    EXPECT(hz >= 19 && hz <= 100000, "hz=%lu is out of range (19-100000)", hz);
    EXPECT(tsc_calibrate(), "the PIT counter does not count down (channel 0 read-back)");
    printf("TSC: %lu MHz (measured against the PIT)\n", tsc_hz / 1000000);
    div = (unsigned)((PIT_HZ + hz / 2) / hz);
    want_us = n * div * 1000000ull / PIT_HZ;

    /* The PIC reaches the CPU through LINT0 in ExtINT mode ("virtual
     * wire", what a BIOS sets up; nothing has here). */
    lapic_enable();
    lapic_write(LAPIC_LVT_LINT0, 0x700);
    set_handler(0x20, tick);
    pic_init(0x20, 0xfffe);
    printf("waiting for %lu PIT interrupts at %lu Hz\n", n, hz);
    t0 = rdtsc();
    pit_periodic((unsigned)hz);
    while (ticks < n)
        sti_hlt_cli();
    pic_set_mask(0xffff);
    pit_stop();
    us = (last_tsc - t0) * 1000000ull / tsc_hz;
    printf("%lu interrupts in %lu us (expected %lu us)\n", n, us, want_us);
    EXPECT(isr_ok, "IRQ0 was not in service (PIC ISR bit 0) in its handler");
    EXPECT(pic_isr() == 0, "PIC ISR is 0x%x after the last EOI", pic_isr());
    EXPECT(us * 10 >= want_us * 9, "%lu ticks came in %lu us, faster than %lu Hz", n, us, hz);
    EXPECT(us <= want_us * 10, "%lu ticks took %lu us, 10 times longer than at %lu Hz", n, us,
           hz);
}
