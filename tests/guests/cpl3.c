/* cpl3: drops to ring 3 through IRETQ and runs a memory workload there
 * (an LCG fill of mem= bytes, default 32M, then FNV-1a over the memory,
 * checked against FNV-1a over the regenerated stream), then makes system
 * calls back to CPL0 with "int 0x80" and with SYSCALL (returning with
 * SYSRET, and once with IRETQ), checking results, CPLs, preserved
 * registers and what SYSCALL saved in RCX and R11. int80= and syscall=
 * (on, off, auto; default auto) say what to do when the VMM does not
 * deliver them (KVM's PVM hypervisor: "int 0x80" raises #UD, and SYSCALL
 * runs the LSTAR entry at CPL3): auto prints a "skip -" line, on fails. */
#include "lib/guest.h"

const char guest_name[] = "cpl3";

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull
#define LCG_SEED 0x2545f4914f6cdd1dull

struct work {
    uint64_t base, size;
    uint64_t fnv_mem, fnv_stream, cycles;
};
static struct work work;
static int int80_mode = MODE_AUTO, syscall_mode = MODE_AUTO;

static uint64_t lcg(uint64_t x)
{
    return x * 6364136223846793005ull + 1442695040888963407ull;
}

static uint64_t fnv_bytes(uint64_t h, const void *p, uint64_t n)
{
    const uint8_t *b = p;
    for (uint64_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t fnv_word(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        h ^= (uint8_t)(v >> (8 * i));
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t user_workload(uint64_t arg)
{
    struct work *w = (struct work *)arg;
    uint64_t *p = (uint64_t *)w->base, n = w->size / 8, x = LCG_SEED, h = FNV_OFFSET;
    uint64_t t0 = rdtsc();

    EXPECT((read_cs() & 3) == 3, "workload runs at CPL %u, not 3", read_cs() & 3);
    /* Known answers (FNV-1a 64 test vectors). */
    EXPECT(fnv_bytes(FNV_OFFSET, "", 0) == 0xcbf29ce484222325ull, "FNV-1a(\"\")");
    EXPECT(fnv_bytes(FNV_OFFSET, "a", 1) == 0xaf63dc4c8601ec8cull, "FNV-1a(\"a\")");
    EXPECT(fnv_bytes(FNV_OFFSET, "foobar", 6) == 0x85944171f73967e8ull, "FNV-1a(\"foobar\")");

    for (uint64_t i = 0; i < n; i++) {
        x = lcg(x);
        p[i] = x;
    }
    w->fnv_mem = fnv_bytes(FNV_OFFSET, p, w->size);
    x = LCG_SEED;
    for (uint64_t i = 0; i < n; i++) {
        x = lcg(x);
        h = fnv_word(h, x);
    }
    w->fnv_stream = h;
    w->cycles = rdtsc() - t0;
    return 0;
}

static uint64_t read_ss(void)
{
    uint64_t v;
    __asm__ volatile("mov %%ss, %0" : "=r"(v));
    return v;
}

/* int 0x80 keeps every register but RAX. */
static void int80_registers(void)
{
    register uint64_t r8 __asm__("r8") = 0x8888;
    register uint64_t r9 __asm__("r9") = 0x9999;
    register uint64_t r10 __asm__("r10") = 0xaaaa;
    register uint64_t r11 __asm__("r11") = 0xbbbb;
    uint64_t nr = SYS_ADD, rcx = 0xcccc, rdx = 0xdddd;
    __asm__ volatile("int $0x80"
                     : "+a"(nr), "+r"(r8), "+r"(r9), "+r"(r10), "+r"(r11), "+c"(rcx), "+d"(rdx)
                     : "D"(5ull), "S"(6ull)
                     : "memory");
    EXPECT(nr == 11 && r8 == 0x8888 && r9 == 0x9999 && r10 == 0xaaaa && r11 == 0xbbbb &&
               rcx == 0xcccc && rdx == 0xdddd,
           "int 0x80 changed registers: rax %lu r8 %lx r9 %lx r10 %lx r11 %lx rcx %lx rdx %lx",
           nr, r8, r9, r10, r11, rcx, rdx);
}

static uint64_t user_syscalls(uint64_t arg)
{
    (void)arg;
    uint64_t v;

    /* int 0x80: first a probe that catches a fault instead of dying of it. */
    if (int80_mode != MODE_OFF) {
        uint64_t nr = SYS_ADD, c = last_fault.count;
        __asm__ volatile(FAULT_BEGIN "int $0x80" FAULT_END
                         : "+a"(nr)
                         : "D"(40ull), "S"(2ull)
                         : "r11", "memory");
        if (last_fault.count != c) {
            EXPECT(int80_mode == MODE_AUTO && last_fault.vector == 6,
                   "int 0x80 at CPL3 raised %s (vector %lu, error 0x%lx)",
                   exception_name((unsigned)last_fault.vector), last_fault.vector,
                   last_fault.error);
            printf("skip - int 0x80 at CPL3 raised #UD, as it does under KVM's PVM "
                   "hypervisor (int80=on makes this a failure)\n");
        } else {
            EXPECT(nr == 42, "int 0x80 SYS_ADD(40, 2) returned %lu", nr);
            v = int80(SYS_INFO, 0, 0);
            EXPECT(v == 3, "int 0x80 SYS_INFO: caller CPL %lu, handler CPL %lu (want 3, 0)",
                   v & 0xff, v >> 8);
            int80_registers();
            printf("ok - int 0x80: result, CPLs, registers\n");
        }
    }

    /* SYSCALL: a probe first, which tells whether it reached CPL0. */
    if (syscall_mode != MODE_OFF) {
        v = sys_call(SYS_INFO, 0, 0);
        if (v == SYSCALL_NOT_CPL0) {
            EXPECT(syscall_mode == MODE_AUTO, "SYSCALL at CPL3 did not reach CPL0: the "
                                              "LSTAR entry ran at CPL3");
            printf("skip - SYSCALL at CPL3 did not reach CPL0 (the entry ran at CPL3), as "
                   "under KVM's PVM hypervisor (syscall=on makes this a failure)\n");
            return 0x600d;
        }
        EXPECT(v == 3, "syscall SYS_INFO returned 0x%lx (want caller 3, handler 0)", v);
    } else {
        return 0x600d;
    }
    /* SYSCALL / SYSRET */
    for (int pass = 0; pass < 2; pass++) {
        register uint64_t r8 __asm__("r8") = 0x8888;
        register uint64_t r10 __asm__("r10") = 0xaaaa;
        register uint64_t r11 __asm__("r11");
        uint64_t nr = SYS_ADD, rcx, rdx = 0xdddd, ret_rip, flags;
        syscall_use_iret = (uint8_t)pass;
        __asm__ volatile("pushfq\n\tpopq %[fl]\n\t"
                         "leaq 1f(%%rip), %[rr]\n\t"
                         "syscall\n1:"
                         : "+a"(nr), "=c"(rcx), "=r"(r11), "+d"(rdx), "+r"(r8), "+r"(r10),
                           [rr] "=&r"(ret_rip), [fl] "=&r"(flags)
                         : "D"(1000ull), "S"(337ull)
                         : "memory");
        EXPECT(nr == 1337, "syscall SYS_ADD(1000, 337) returned %lu", nr);
        EXPECT(syscall_last_rip == ret_rip, "SYSCALL saved RCX 0x%lx, not the next RIP 0x%lx",
               syscall_last_rip, ret_rip);
        EXPECT(syscall_last_rflags == flags, "SYSCALL saved R11 0x%lx, not RFLAGS 0x%lx",
               syscall_last_rflags, flags);
        EXPECT(rdx == 0xdddd && r8 == 0x8888 && r10 == 0xaaaa,
               "syscall changed rdx %lx r8 %lx r10 %lx", rdx, r8, r10);
        EXPECT(read_cs() == USER_CS && read_ss() == USER_DS,
               "after %s: CS 0x%x SS 0x%lx, not 0x%x 0x%x", pass ? "IRETQ" : "SYSRET",
               read_cs(), read_ss(), USER_CS, USER_DS);
        EXPECT(rcx == ret_rip && r11 == flags,
               "after the return RCX 0x%lx R11 0x%lx, not 0x%lx 0x%lx", rcx, r11, ret_rip, flags);
    }
    syscall_use_iret = 0;
    {
        uint64_t n0 = syscall_count, sum = 0;
        for (uint64_t i = 0; i < 100; i++)
            sum += sys_call(SYS_ADD, i, 1);
        EXPECT(sum == 5050 && syscall_count - n0 == 100, "100 syscalls: sum %lu count %lu",
               sum, syscall_count - n0);
    }
    printf("ok - syscall/sysret and syscall/iretq: results, RCX/R11, segments\n");
    return 0x600d;
}

void guest_main(void)
{
    uint64_t r;

    int80_mode = cmdline_mode("int80");
    syscall_mode = cmdline_mode("syscall");
    work.base = free_mem_start();
    work.size = cmdline_u64("mem", 32ull << 20) & ~7ull;
    EXPECT(work.size >= 8, "mem= is too small");
    EXPECT(work.base + work.size <= ram_top(),
           "mem=0x%lx at 0x%lx does not fit in RAM (ends at 0x%lx)", work.size, work.base,
           ram_top());

    printf("workload: %lu MiB at 0x%lx, at CPL3\n", work.size >> 20, work.base);
    r = user_run(user_workload, (uintptr_t)&work, 0);
    EXPECT(r == 0, "workload returned %lu", r);
    EXPECT(work.fnv_mem == work.fnv_stream,
           "FNV-1a of memory 0x%lx differs from FNV-1a of the stream 0x%lx", work.fnv_mem,
           work.fnv_stream);
    printf("ok - workload: fnv 0x%lx, %lu Mcycles\n", work.fnv_mem, work.cycles / 1000000);

    r = user_run(user_syscalls, 0, 0);
    EXPECT(r == 0x600d, "syscall tests returned 0x%lx", r);
    EXPECT((read_cs() & 3) == 0, "back at CPL %u", read_cs() & 3);
}
