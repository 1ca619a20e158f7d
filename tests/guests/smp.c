/* smp: starts the application processors with INIT, SIPI, SIPI through the
 * local APIC's ICR (Intel SDM Vol. 3A 10.4.4 "MP Initialization Example")
 * and a real-mode trampoline below 1 MiB that enters long mode directly
 * (lib/entry.S). Each AP reports its APIC ID, then all CPUs increment a
 * shared counter iters= times (default 1000) with "lock xadd" at the same
 * time; the BSP checks every AP arrived (TSC timeout, timeout= seconds,
 * default 10) and the final count. The CPU count comes from fw_cfg
 * (FW_CFG_NB_CPUS) when present, else from cpus= (default 2); APIC IDs
 * are assumed to be 0 to N-1. */
#include "lib/guest.h"

const char guest_name[] = "smp";

#define AP_TRAMPOLINE 0x8000ul /* SIPI vector 0x08 */
#define MAX_CPUS 16

extern char ap_tramp_start[], ap_tramp_end[];
extern uint32_t ap_tramp_efer;

static volatile uint32_t arrived, go, finished;
static volatile uint32_t counter;
static volatile uint32_t ap_apic_id[MAX_CPUS];
static volatile uint32_t ap_seen[MAX_CPUS];
static uint64_t iters;

static void add_loop(void)
{
    for (uint64_t i = 0; i < iters; i++) {
        uint32_t one = 1;
        __asm__ volatile("lock xaddl %0, %1" : "+r"(one), "+m"(counter) : : "memory");
    }
}

void ap_main(unsigned index)
{
    uint32_t one = 1;
    idt_load();
    if (index < MAX_CPUS) {
        ap_apic_id[index] = lapic_id();
        ap_seen[index] = 1;
    }
    __asm__ volatile("lock xaddl %0, %1" : "+r"(one), "+m"(arrived) : : "memory");
    while (!go)
        pause();
    add_loop();
    one = 1;
    __asm__ volatile("lock xaddl %0, %1" : "+r"(one), "+m"(finished) : : "memory");
}

static int wait_for(volatile uint32_t *v, uint32_t want, uint64_t deadline)
{
    while (*v < want) {
        if (rdtsc() > deadline)
            return 0;
        pause();
    }
    return 1;
}

void guest_main(void)
{
    uint64_t ncpus = 0, timeout_s = cmdline_u64("timeout", 10), deadline, t0;
    uint16_t nb = 0;
    unsigned bsp = lapic_id();
    const char *src;

    iters = cmdline_u64("iters", 1000);
    if (fwcfg_present()) {
        fwcfg_read(FW_CFG_NB_CPUS, &nb, 2);
        ncpus = nb;
        src = "fw_cfg";
    }
    if (!ncpus) {
        ncpus = cmdline_u64("cpus", 2);
        src = "cmdline";
    }
    printf("%lu CPUs (from %s), BSP APIC ID %u\n", ncpus, src, bsp);
    EXPECT(ncpus >= 1 && ncpus <= MAX_CPUS, "CPU count %lu out of range (1-%d)", ncpus, MAX_CPUS);
    if (ncpus == 1)
        printf("only one CPU: nothing to start\n");
    if (!tsc_calibrate())
        printf("no PIT counter: assuming a %lu MHz TSC for timeouts\n", tsc_hz / 1000000);

    lapic_enable();
    memcpy((void *)AP_TRAMPOLINE, ap_tramp_start, (size_t)(ap_tramp_end - ap_tramp_start));
    /* The trampoline's copy of EFER (LME, SCE, NXE; LMA is set by the CPU). */
    *(volatile uint32_t *)(AP_TRAMPOLINE + (uintptr_t)((char *)&ap_tramp_efer - ap_tramp_start)) =
        (uint32_t)(rdmsr(MSR_EFER) & ~EFER_LMA);

    t0 = rdtsc();
    for (unsigned id = 0; id < ncpus; id++) {
        if (id == bsp)
            continue;
        /* INIT (assert), then two STARTUPs with vector 0x08 (0x8000). */
        EXPECT(lapic_ipi(id, 0x4500) == 0, "INIT IPI to APIC %u not delivered", id);
        delay_us(10000);
        EXPECT(lapic_ipi(id, 0x4600 | (AP_TRAMPOLINE >> 12)) == 0, "SIPI to APIC %u not delivered",
               id);
        delay_us(200);
        EXPECT(lapic_ipi(id, 0x4600 | (AP_TRAMPOLINE >> 12)) == 0,
               "second SIPI to APIC %u not delivered", id);
    }
    deadline = rdtsc() + timeout_s * tsc_hz;
    if (!wait_for(&arrived, (uint32_t)(ncpus - 1), deadline))
        fail("%u of %lu APs arrived within %lu s", arrived, ncpus - 1, timeout_s);
    printf("ok - %lu APs up in %lu ms\n", ncpus - 1, (rdtsc() - t0) * 1000 / tsc_hz);
    for (unsigned i = 0; i < ncpus - 1; i++) {
        EXPECT(ap_seen[i], "AP %u did not report", i);
        EXPECT(ap_apic_id[i] < ncpus && ap_apic_id[i] != bsp, "AP %u has APIC ID %u", i,
               ap_apic_id[i]);
        for (unsigned j = 0; j < i; j++)
            EXPECT(ap_apic_id[i] != ap_apic_id[j], "APs %u and %u share APIC ID %u", j, i,
                   ap_apic_id[i]);
    }

    /* All CPUs increment the counter at once. */
    go = 1;
    add_loop();
    if (!wait_for(&finished, (uint32_t)(ncpus - 1), rdtsc() + timeout_s * tsc_hz))
        fail("%u of %lu APs finished counting within %lu s", finished, ncpus - 1, timeout_s);
    EXPECT(counter == ncpus * iters, "counter is %u, expected %lu", counter, ncpus * iters);
    printf("ok - lock xadd: %u increments from %lu CPUs\n", counter, ncpus);
}
