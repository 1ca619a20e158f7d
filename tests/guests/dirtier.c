/* dirtier: a memory dirtier for migration tests. At CPL3 (printing through
 * kcall) it fills mem= bytes (default 32M) with a pattern that
 * depends on each word's index, then runs rounds= rounds (default 20;
 * 0 means forever). Each round checks every word it is about to rewrite
 * still holds the previous round's value, rewrites it with this round's,
 * and prints "round N sum 0x..." (the sum of the new values, the same on
 * every VMM). stride= (bytes, a multiple of 8, default 8) rewrites one
 * word per stride: 4096 dirties every page while writing 1/512 of the
 * words; the other words keep their initial values. pause= (ms, default 0)
 * idles between rounds, for a lower dirty rate. At the end every word of
 * the region is checked against its expected value; any difference is a
 * FAIL naming the address. corrupt=N flips a bit after round N, to see the
 * checks catch it. */
#include "lib/guest.h"

const char guest_name[] = "dirtier";

struct dirt {
    uint64_t base, size, rounds, stride_words, pause_ms, corrupt_round;
};
static struct dirt d;

/* The value of word i after round r (round 0: the initial fill). It mixes
 * the index, so a page moved to the wrong place is caught too. */
static inline uint64_t expect(uint64_t i, uint64_t r)
{
    uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ (r + 1) * 0xc2b2ae3d27d4eb4full;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    return x ^ (x >> 32);
}

static uint64_t user_dirty(uint64_t arg)
{
    struct dirt *c = (struct dirt *)arg;
    uint64_t *p = (uint64_t *)c->base, n = c->size / 8, s = c->stride_words;
    uint64_t r;

    for (uint64_t i = 0; i < n; i++)
        p[i] = expect(i, 0);
    printf("round 0 filled\n");
    for (r = 1; c->rounds == 0 || r <= c->rounds; r++) {
        uint64_t sum = 0, nbad = 0, first = 0, first_val = 0;
        for (uint64_t i = 0; i < n; i += s) {
            uint64_t v = expect(i, r), old = p[i];
            if (old != expect(i, r - 1) && nbad++ == 0) {
                first = i;
                first_val = old;
            }
            p[i] = v;
            sum += v;
        }
        if (nbad)
            fail("round %lu: word at 0x%lx was 0x%lx, expected 0x%lx (round %lu's value); "
                 "%lu words differed",
                 r, (uint64_t)(uintptr_t)&p[first], first_val, expect(first, r - 1), r - 1, nbad);
        printf("round %lu sum 0x%lx\n", r, sum);
        if (r == c->corrupt_round) /* a self-test of the checks: flip one bit */
            p[n / 2 / s * s] ^= 1ull << 17;
        if (c->pause_ms) {
            uint64_t t0 = rdtsc(), wait = tsc_hz / 1000 * c->pause_ms;
            while (rdtsc() - t0 < wait)
                pause();
        }
    }
    r--;
    /* Final check of every word. */
    {
        uint64_t nbad = 0, first = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t want = i % s == 0 ? expect(i, r) : expect(i, 0);
            if (p[i] != want && nbad++ == 0)
                first = i;
        }
        if (nbad)
            fail("final check: word at 0x%lx is 0x%lx, expected 0x%lx; %lu words differ",
                 (uint64_t)(uintptr_t)&p[first], p[first],
                 first % s == 0 ? expect(first, r) : expect(first, 0), nbad);
    }
    printf("verified %lu words after %lu rounds\n", n, r);
    return 0;
}

void guest_main(void)
{
    d.base = free_mem_start();
    d.size = cmdline_u64("mem", 32ull << 20) & ~7ull;
    d.rounds = cmdline_u64("rounds", 20);
    d.stride_words = cmdline_u64("stride", 8) / 8;
    d.pause_ms = cmdline_u64("pause", 0);
    d.corrupt_round = cmdline_u64("corrupt", 0);
    EXPECT(d.size >= 8, "mem= is too small");
    EXPECT(d.stride_words >= 1, "stride= must be at least 8");
    EXPECT(d.base + d.size <= ram_top(), "mem=0x%lx at 0x%lx does not fit in RAM (ends at 0x%lx)",
           d.size, d.base, ram_top());
    if (d.pause_ms && !tsc_calibrate())
        printf("no PIT counter: assuming a %lu MHz TSC for pause=\n", tsc_hz / 1000000);
    printf("dirtier: %lu KiB at 0x%lx, %lu rounds%s, stride %lu, pause %lu ms\n", d.size >> 10,
           d.base, d.rounds, d.rounds ? "" : " (forever)", d.stride_words * 8, d.pause_ms);
    EXPECT(user_run(user_dirty, (uintptr_t)&d, 0) == 0, "dirtier failed");
}
