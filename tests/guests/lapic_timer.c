/* lapic_timer: enables the local APIC (IA32_APIC_BASE, spurious vector
 * register) and checks its timer: periodic mode (ticks= interrupts,
 * default 50, initial count count=, default 62500, divide by 16: 1 ms on
 * a 1 GHz APIC bus as QEMU/KVM has), the current-count register counting
 * down, one-shot mode (one interrupt, then silence) and a masked LVT (no
 * interrupt). Intel SDM Vol. 3A 11.5.4 "APIC Timer". */
#include "lib/guest.h"

const char guest_name[] = "lapic_timer";

#define TIMER_VECTOR 0x40
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)

static volatile uint64_t ticks, first_tsc, last_tsc;

static void tick(struct frame *f)
{
    (void)f;
    if (!ticks)
        first_tsc = rdtsc();
    last_tsc = rdtsc();
    ticks++;
    lapic_eoi();
}

void guest_main(void)
{
    uint64_t n = cmdline_u64("ticks", 50), count = cmdline_u64("count", 62500), base, period_us;
    uint32_t c1, c2;

    EXPECT(n >= 2 && count > 0 && count <= 0xffffffffu, "bad ticks= or count=");
    if (!tsc_calibrate())
        printf("no PIT: assuming a %lu MHz TSC for delays\n", tsc_hz / 1000000);
    base = rdmsr(MSR_APIC_BASE);
    printf("IA32_APIC_BASE 0x%lx\n", base);
    EXPECT((base & ~0xffful) == LAPIC_BASE, "APIC base 0x%lx is not 0xfee00000", base);
    EXPECT(base & (1u << 8), "IA32_APIC_BASE.BSP is clear on the BSP");
    lapic_enable();
    EXPECT(lapic_read(LAPIC_SVR) & 0x100, "SVR 0x%x: APIC not software-enabled",
           lapic_read(LAPIC_SVR));
    printf("LAPIC id %u version 0x%x\n", lapic_id(), lapic_read(LAPIC_VER));
    set_handler(TIMER_VECTOR, tick);

    /* Periodic. */
    lapic_write(LAPIC_TIMER_DCR, 0x3); /* divide by 16 */
    lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR | LVT_PERIODIC);
    lapic_write(LAPIC_TIMER_ICR, (uint32_t)count);
    EXPECT(lapic_read(LAPIC_TIMER_ICR) == count, "initial count reads 0x%x",
           lapic_read(LAPIC_TIMER_ICR));
    c1 = lapic_read(LAPIC_TIMER_CCR);
    delay_us(50);
    c2 = lapic_read(LAPIC_TIMER_CCR);
    EXPECT(c1 <= count && c2 <= count, "current count %u/%u above the initial %lu", c1, c2, count);
    printf("waiting for %lu periodic interrupts\n", n);
    while (ticks < n)
        sti_hlt_cli();
    lapic_write(LAPIC_TIMER_ICR, 0);
    period_us = (last_tsc - first_tsc) * 1000000ull / tsc_hz / (n - 1);
    printf("periodic: %lu interrupts, period %lu us (count %lu, divide 16)\n", n, period_us, count);
    EXPECT(c1 != c2 || c1 == 0, "the current count did not move: %u", c1);

    /* One-shot: exactly one interrupt. */
    ticks = 0;
    lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR);
    lapic_write(LAPIC_TIMER_ICR, (uint32_t)count);
    while (ticks < 1)
        sti_hlt_cli();
    sti();
    delay_us(5 * (period_us + 1));
    cli();
    EXPECT(ticks == 1, "one-shot timer fired %lu times", ticks);
    EXPECT(lapic_read(LAPIC_TIMER_CCR) == 0, "one-shot current count is %u after expiry",
           lapic_read(LAPIC_TIMER_CCR));
    printf("ok - one-shot: one interrupt, current count 0\n");

    /* Masked: none. */
    ticks = 0;
    lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR | LVT_PERIODIC | LVT_MASKED);
    lapic_write(LAPIC_TIMER_ICR, (uint32_t)count);
    sti();
    delay_us(5 * (period_us + 1));
    cli();
    lapic_write(LAPIC_TIMER_ICR, 0);
    EXPECT(ticks == 0, "masked timer interrupted %lu times", ticks);
    printf("ok - masked: no interrupt\n");
}
