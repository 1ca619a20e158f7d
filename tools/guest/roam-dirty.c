/* roam-dirty: the guest kit's memory dirtier (tools/guest/README.md).
 *
 *   roam-dirty [-m MIB] [-r MB/S] [-s SEED] [-t SECONDS]
 *   roam-dirty --replay STEPS [-m MIB] [-s SEED]
 *
 * Step k writes one 64-bit word, mix(SEED ^ k), into page k mod npages (at
 * slot (k / npages) mod 512 of that page), so each step dirties a page and
 * the rate in MB/s is pages * 4 KiB per second (-r 0: as fast as it can).
 * Before each write it checks the word the previous pass left in that page,
 * and once a second it XORs the whole buffer and compares it with the XOR it
 * expects: a page lost or corrupted by a migration shows as errors=N. Every
 * second it prints
 *   roam-dirty: t=SEC seq=STEPS sum=XOR errors=N rate=MB/s maxgap_ms=MS
 * where sum is the buffer's expected XOR after seq steps (a running checksum
 * the host recomputes with --replay seq) and maxgap_ms the longest stall of
 * the loop in that second as the guest's CLOCK_MONOTONIC saw it (a
 * migration's guest-visible downtime). */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>

#include "common.h"

#define PAGE 4096u
#define WORDS (PAGE / 8u)

struct dirty {
    uint64_t *buf;
    uint64_t npages, seed, k, xor_want, errors;
};

static uint64_t dirty_value(const struct dirty *d, uint64_t k)
{
    return tool_mix(d->seed ^ k);
}

/* One step: verify the page's previous word, write the next one. */
static void dirty_step(struct dirty *d, int write)
{
    uint64_t k = d->k, p = k % d->npages, r = k / d->npages;
    uint64_t v = dirty_value(d, k);
    uint64_t old = r >= WORDS ? dirty_value(d, k - WORDS * d->npages) : 0;

    if (write) {
        uint64_t *page = d->buf + p * WORDS;
        if (r > 0 && page[(r - 1) % WORDS] != dirty_value(d, k - d->npages))
            d->errors++;
        page[r % WORDS] = v;
    }
    d->xor_want ^= old ^ v;
    d->k++;
}

static uint64_t dirty_scan(const struct dirty *d)
{
    uint64_t x = 0, n = d->npages * WORDS;
    for (uint64_t i = 0; i < n; i++)
        x ^= d->buf[i];
    return x;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int usage(void)
{
    fprintf(stderr, "usage: roam-dirty [-m MIB] [-r MB/S] [-s SEED] [-t SECONDS]\n"
                    "       roam-dirty --replay STEPS [-m MIB] [-s SEED]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct dirty d = {0};
    uint64_t mib = 32, replay = 0;
    double rate = 20, limit = 0;
    int do_replay = 0;

    d.seed = 1;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            return usage();
        const char *o = argv[i], *v = argv[++i];
        if (strcmp(o, "-m") == 0)
            mib = strtoull(v, NULL, 0);
        else if (strcmp(o, "-r") == 0)
            rate = strtod(v, NULL);
        else if (strcmp(o, "-s") == 0)
            d.seed = strtoull(v, NULL, 0);
        else if (strcmp(o, "-t") == 0)
            limit = strtod(v, NULL);
        else if (strcmp(o, "--replay") == 0)
            do_replay = 1, replay = strtoull(v, NULL, 0);
        else
            return usage();
    }
    if (mib == 0 || mib > (1u << 20) || rate < 0)
        return usage();
    d.npages = mib * (1u << 20) / PAGE;
    if (do_replay) {
        while (d.k < replay)
            dirty_step(&d, 0);
        printf("%016llx\n", (unsigned long long)d.xor_want);
        return 0;
    }
    d.buf = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (d.buf == MAP_FAILED) {
        fprintf(stderr, "roam-dirty: cannot map %llu MiB: %s\n", (unsigned long long)mib,
                strerror(errno));
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("roam-dirty: %llu MiB, %g MB/s, seed %llu\n", (unsigned long long)mib, rate,
           (unsigned long long)d.seed);

    double pps = rate * 1e6 / PAGE, t0 = now_s(), prev = t0, wake = t0, maxgap = 0;
    double next_report = t0 + 1, rep_t = t0;
    uint64_t rep_k = 0, paced = 0;
    for (;;) {
        double t = now_s();
        /* A stall is time beyond the loop's own work and requested sleep. */
        double gap = t - (wake > prev ? wake : prev);
        if (gap > maxgap)
            maxgap = gap;
        prev = t;
        if (t >= next_report) {
            if (dirty_scan(&d) != d.xor_want) {
                d.errors++;
                printf("roam-dirty: MISMATCH: the buffer's XOR differs at seq=%llu\n",
                       (unsigned long long)d.k);
            }
            printf("roam-dirty: t=%llu seq=%llu sum=%016llx errors=%llu rate=%.1fMB/s "
                   "maxgap_ms=%.1f\n",
                   (unsigned long long)(t - t0), (unsigned long long)d.k, (unsigned long long)d.xor_want,
                   (unsigned long long)d.errors, (double)(d.k - rep_k) * PAGE / 1e6 / (t - rep_t),
                   maxgap * 1e3);
            rep_k = d.k;
            rep_t = t;
            maxgap = 0;
            if (limit > 0 && t - t0 >= limit)
                break;
            prev = now_s(); /* the scan and the print are not stalls */
            wake = prev;
            /* A second of dirtying before the next report, even when the
             * scan of a big buffer on a slow CPU took longer than that. */
            next_report += 1;
            if (next_report < prev + 0.5)
                next_report = prev + 1;
            continue;
        }
        if (rate > 0) {
            uint64_t due = (uint64_t)((t - t0) * pps);
            if (paced >= due) {
                double s = (double)(paced + 64 - due) / pps;
                if (s > next_report - t)
                    s = next_report - t;
                wake = t + s;
                sleep_s(s);
                continue;
            }
        }
        for (int i = 0; i < 64; i++)
            dirty_step(&d, 1);
        paced += 64;
        wake = prev;
    }
    printf("roam-dirty: done seq=%llu sum=%016llx errors=%llu\n", (unsigned long long)d.k,
           (unsigned long long)d.xor_want, (unsigned long long)d.errors);
    return d.errors ? 1 : 0;
}
