/* emubench: the guest of bench/emu.sh, which measures how many guest
 * instructions per second an engine runs (bench/README.md). It runs one
 * loop of emubench.S at CPL3, whose instructions per iteration are fixed,
 * times it with the TSC (measured against the PIT first; boot and setup
 * are not timed) and prints
 *   emubench WORK: N instructions in T ms: R M/s (checksum 0x...)
 * then passes. The checksum is the loop's result: the same on every VMM
 * for the same options.
 *
 * Options:
 *   work=int     an integer mix on 8 words (16 instructions an iteration)
 *   work=sse     SSE2 strchr/memcmp steps over 4 KiB (20 instructions per
 *                16 bytes)
 *   work=paging  the integer mix with its load and store on a different
 *                4 KiB page each iteration, over mem= bytes (default 8M, a
 *                power of two) mapped with 4 KiB pages at 512 GiB (PML4
 *                entry 1) onto scattered frames, while a timer interrupts
 *   iters=N      loop iterations (default 10M)
 *   stride=N     bytes between the paging loop's accesses (default 4160:
 *                a page and a cache line, a multiple of 8)
 *   timer=pit|lapic|off  interrupts during the loop at hz= (default 1000):
 *                the 8254 PIT through the 8259A PIC (LINT0 in ExtINT
 *                mode) or the local APIC timer in periodic mode; the
 *                default is pit for work=paging and off otherwise. The
 *                handlers (CPL0) are not in the instruction count.
 *   cr3=on       each timer interrupt also reloads CR3, flushing the TLB
 *                as a switch between processes does (default off)
 * Intel SDM Vol. 3A: 4.5 (4-level paging), 6 (interrupts), 11.5.4 (APIC
 * timer). */
#include "lib/guest.h"

const char guest_name[] = "emubench";

uint64_t emubench_int(uint64_t iters, uint64_t *buf);
uint64_t emubench_mem(uint64_t iters, uint8_t *base, uint64_t mask, uint64_t stride);
uint64_t emubench_sse(uint64_t iters, const uint8_t *a, const uint8_t *b, uint64_t c);

/* Instructions per iteration of each loop: see emubench.S. */
#define INT_INSNS 16
#define MEM_INSNS 16
#define SSE_INSNS 20

#define SSE_LEN 4096
#define BENCH_VA 0x8000000000ul /* PML4 entry 1 */
#define MAX_PTS 64              /* page tables: up to 128 MiB */
#define PIT_VECTOR 0x20
#define LAPIC_VECTOR 0x30
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)

enum work { WORK_INT, WORK_SSE, WORK_PAGING };
enum timer { TIMER_OFF, TIMER_PIT, TIMER_LAPIC };

struct job {
    enum work work;
    uint64_t iters, mem, stride;
    uint64_t sum, cycles, ticks; /* results; ticks: interrupts during the loop */
};

extern uint64_t pml4[];
static struct job job;
static uint64_t int_buf[8];
static uint8_t sse_a[SSE_LEN + 64] __attribute__((aligned(64)));
static uint8_t sse_b[SSE_LEN + 64] __attribute__((aligned(64)));
static uint64_t ws_pdpt[512] __attribute__((aligned(4096)));
static uint64_t ws_pd[512] __attribute__((aligned(4096)));
static uint64_t ws_pt[MAX_PTS][512] __attribute__((aligned(4096)));
static volatile uint64_t ticks;
static int tick_cr3; /* cr3=on: each tick reloads CR3 */

static uint64_t lcg(uint64_t x)
{
    return x * 6364136223846793005ull + 1442695040888963407ull;
}

/* At CPL3: fills the loop's data (here, so that CPL0 stays short), then
 * times the loop alone. */
static uint64_t user_bench(uint64_t arg)
{
    struct job *j = (struct job *)arg;
    uint64_t x = 0x2545f4914f6cdd1dull, t0, t1;

    switch (j->work) {
    case WORK_INT:
        for (unsigned i = 0; i < 8; i++)
            int_buf[i] = x = lcg(x);
        break;
    case WORK_SSE:
        /* Random bytes (a 0 or the 'e' searched for in about one 16-byte
         * step in eight); b differs from a in every 37th byte. */
        for (unsigned i = 0; i < sizeof(sse_a); i++) {
            x = lcg(x);
            sse_a[i] = (uint8_t)(x >> 56);
            sse_b[i] = (uint8_t)(sse_a[i] ^ (i % 37 == 0 ? 0x20 : 0));
        }
        break;
    case WORK_PAGING: {
        /* Writing every word also maps every page before the timing. */
        uint64_t *p = (uint64_t *)BENCH_VA;
        for (uint64_t i = 0; i < j->mem / 8; i++)
            p[i] = i * 0x9e3779b97f4a7c15ull;
        break;
    }
    }
    j->ticks = ticks;
    t0 = rdtsc();
    switch (j->work) {
    case WORK_INT:
        j->sum = emubench_int(j->iters, int_buf);
        break;
    case WORK_SSE:
        /* Misaligned by one byte, as string arguments often are. */
        j->sum = emubench_sse(j->iters, sse_a + 1, sse_b + 1, 'e');
        break;
    case WORK_PAGING:
        j->sum = emubench_mem(j->iters, (uint8_t *)BENCH_VA, j->mem - 1, j->stride);
        break;
    }
    t1 = rdtsc();
    j->ticks = ticks - j->ticks;
    j->cycles = t1 - t0;
    return 0;
}

/* Maps mem bytes at BENCH_VA with 4 KiB pages onto the frames after the
 * image, in a scattered order (frame i * 7919 mod pages), as an OS's
 * allocator leaves them. */
static void map_working_set(uint64_t mem)
{
    uint64_t base = free_mem_start(), pages = mem / 4096;

    EXPECT(mem >= 0x10000 && (mem & (mem - 1)) == 0 && mem <= MAX_PTS * 0x200000ul,
           "mem=%lu: a power of two from 64K to %uM is needed", mem, MAX_PTS * 2);
    EXPECT(base + mem <= ram_top(), "mem=%lu needs RAM up to 0x%lx; the guest has 0x%lx", mem,
           base + mem, ram_top());
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t frame = (i * 7919) & (pages - 1);
        ws_pt[i / 512][i % 512] = (base + frame * 4096) | PTE_P | PTE_W | PTE_U;
    }
    for (uint64_t i = 0; i < (pages + 511) / 512; i++)
        ws_pd[i] = (uintptr_t)ws_pt[i] | PTE_P | PTE_W | PTE_U;
    ws_pdpt[0] = (uintptr_t)ws_pd | PTE_P | PTE_W | PTE_U;
    pml4[1] = (uintptr_t)ws_pdpt | PTE_P | PTE_W | PTE_U;
    write_cr3(read_cr3());
}

/* With cr3=on a tick also does what a scheduler's switch to another
 * process does to the TLB: a CR3 load, which flushes every non-global
 * translation (SDM Vol. 3A 4.10.4.1). */
static void pit_tick(struct frame *f)
{
    (void)f;
    ticks++;
    if (tick_cr3)
        write_cr3(read_cr3());
    pic_eoi(0);
}

static void lapic_tick(struct frame *f)
{
    (void)f;
    ticks++;
    if (tick_cr3)
        write_cr3(read_cr3());
    lapic_eoi();
}

static void timer_start(enum timer t, uint64_t hz)
{
    lapic_enable();
    if (t == TIMER_PIT) {
        /* The PIC reaches the CPU through LINT0 in ExtINT mode (virtual
         * wire), as the pit guest sets it up. */
        lapic_write(LAPIC_LVT_LINT0, 0x700);
        set_handler(PIT_VECTOR, pit_tick);
        pic_init(PIT_VECTOR, 0xfffe);
        pit_periodic((unsigned)hz);
        return;
    }
    /* The APIC timer's rate differs between VMMs: count it for 10 ms. */
    uint32_t left, count;
    set_handler(LAPIC_VECTOR, lapic_tick);
    lapic_write(LAPIC_TIMER_DCR, 0x3); /* divide by 16 */
    lapic_write(LAPIC_LVT_TIMER, LAPIC_VECTOR | LVT_MASKED);
    lapic_write(LAPIC_TIMER_ICR, 0xffffffffu);
    delay_us(10000);
    left = lapic_read(LAPIC_TIMER_CCR);
    count = (uint32_t)((0xffffffffull - left) * 100 / hz);
    EXPECT(count > 0, "the APIC timer does not count (current count 0x%x)", left);
    lapic_write(LAPIC_TIMER_ICR, 0);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_VECTOR | LVT_PERIODIC);
    lapic_write(LAPIC_TIMER_ICR, count);
    printf("APIC timer: initial count %u for %lu Hz (divide by 16)\n", count, hz);
}

static void timer_stop(enum timer t)
{
    if (t == TIMER_PIT) {
        pic_set_mask(0xffff);
        pit_stop();
    } else {
        lapic_write(LAPIC_LVT_TIMER, LAPIC_VECTOR | LVT_MASKED);
        lapic_write(LAPIC_TIMER_ICR, 0);
    }
}

void guest_main(void)
{
    static const char *const work_names[] = {"int", "sse", "paging"};
    static const char *const timer_names[] = {"off", "pit", "lapic"};
    static const unsigned per_iter[] = {INT_INSNS, SSE_INSNS, MEM_INSNS};
    char opt[16] = "int";
    enum timer timer;
    int calibrated = 0;
    uint64_t hz = cmdline_u64("hz", 1000), insns, ns, rate, expected;

    cmdline_str("work", opt, sizeof(opt));
    if (strncmp(opt, "int", 4) == 0)
        job.work = WORK_INT;
    else if (strncmp(opt, "sse", 4) == 0)
        job.work = WORK_SSE;
    else if (strncmp(opt, "paging", 7) == 0)
        job.work = WORK_PAGING;
    else
        fail("work=%s: expected int, sse or paging", opt);
    timer = job.work == WORK_PAGING ? TIMER_PIT : TIMER_OFF;
    if (cmdline_str("timer", opt, sizeof(opt))) {
        if (strncmp(opt, "pit", 4) == 0)
            timer = TIMER_PIT;
        else if (strncmp(opt, "lapic", 6) == 0)
            timer = TIMER_LAPIC;
        else if (strncmp(opt, "off", 4) == 0)
            timer = TIMER_OFF;
        else
            fail("timer=%s: expected pit, lapic or off", opt);
    }
    tick_cr3 = cmdline_mode("cr3") == MODE_ON;
    job.iters = cmdline_u64("iters", 10000000);
    job.mem = cmdline_u64("mem", 8u << 20);
    job.stride = cmdline_u64("stride", 4160);
    EXPECT(job.iters >= 1, "iters=0: at least one iteration");
    EXPECT(job.stride % 8 == 0, "stride=%lu is not a multiple of 8", job.stride);
    EXPECT(hz >= 19 && hz <= 100000, "hz=%lu is out of range (19-100000)", hz);
    /* A vCPU descheduled for 55 ms lets the PIT wrap, which fails one
     * calibration on a busy host: try again before giving up. */
    for (unsigned i = 0; i < 5 && !calibrated; i++)
        calibrated = tsc_calibrate() != 0;
    EXPECT(calibrated, "the PIT counter does not count down: nothing to time against");
    printf("TSC: %lu MHz (measured against the PIT)\n", tsc_hz / 1000000);

    if (job.work == WORK_PAGING) {
        map_working_set(job.mem);
        printf("working set: %lu KiB in %lu 4 KiB pages at 0x%lx, stride %lu\n", job.mem >> 10,
               job.mem / 4096, BENCH_VA, job.stride);
    }
    if (timer != TIMER_OFF)
        timer_start(timer, hz);
    user_run(user_bench, (uintptr_t)&job, timer != TIMER_OFF ? RFLAGS_IF : 0);
    if (timer != TIMER_OFF)
        timer_stop(timer);

    insns = job.iters * per_iter[job.work];
    ns = job.cycles * 1000000 / (tsc_hz / 1000);
    if (!ns)
        ns = 1;
    rate = insns * 100000 / ns; /* hundredths of a million per second */
    if (timer != TIMER_OFF) {
        expected = ns * hz / 1000000000;
        printf("timer: %lu %s interrupts at %lu Hz in the loop (%lu expected)%s\n", job.ticks,
               timer_names[timer], hz, expected, tick_cr3 ? ", each reloading CR3" : "");
        /* A timer that never fired leaves nothing to measure. */
        EXPECT(job.ticks > 0 || expected < 20, "no timer interrupt reached the loop");
    }
    printf("emubench %s: %lu instructions in %lu.%03lu ms: %lu.%02lu M/s (checksum 0x%016lx)\n",
           work_names[job.work], insns, ns / 1000000, ns / 1000 % 1000, rate / 100, rate % 100,
           job.sum);
}
