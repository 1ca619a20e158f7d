/* Checks that report one line each, for the architecture guests (paging,
 * modes, segments, sysinsn, fpu; tests/guests/README.md):
 *
 *   PASS: GUEST/CHECK[: details]
 *   FAIL: GUEST/CHECK: what differed
 *   SKIP: GUEST/CHECK: why
 *
 * A failed check does not end the guest: check_finish() prints the tally
 * ("checks: N passed, N failed, N skipped") and returns if none failed;
 * otherwise it ends the guest with "FAIL: GUEST: N of N checks failed"
 * (debug-exit code 1). An unexpected exception still ends the guest at once
 * (lib/desc.c).
 *
 * Options every such guest takes:
 *   only=A,B,...  run only the groups named (check_group());
 *   hold=GROUP    hold_point() before that group (guest.h): where a
 *     migration test moves the guest mid-run;
 *   pvm=on|off|auto  whether to leave out what KVM's PVM hypervisor cannot
 *     do (docs/kvm.md: where CPL0 is emulated by KVM's instruction emulator
 *     and CPL3 runs natively on the host's own descriptor tables). auto
 *     (the default) probes for it: "int $0x80" at CPL3 through a DPL 3 gate
 *     raises #UD there and nowhere else. off makes every check strict. */
#ifndef GUEST_CHECK_H
#define GUEST_CHECK_H

#include "guest.h"

void check_pass(const char *name, const char *fmt, ...) PRINTF(2, 3);
void check_ok(const char *name); /* PASS without details */
void check_fail(const char *name, const char *fmt, ...) PRINTF(2, 3);
void check_skip(const char *name, const char *fmt, ...) PRINTF(2, 3);
/* PASS with no details if ok, else FAIL with the formatted details.
 * Returns ok. */
int check(int ok, const char *name, const char *fmt, ...) PRINTF(3, 4);
/* FAIL "got 0x.., expected 0x.." unless got == want. */
int check_eq(const char *name, uint64_t got, uint64_t want);
/* Prints the tally; ends the guest with FAIL if any check failed. */
void check_finish(void);
extern unsigned check_passed, check_failed, check_skipped;

/* 1 if the group is to run (no only= option, or it names the group);
 * prints "group: NAME" when it runs. */
int check_group(const char *group);

/* 1 where the guest runs under KVM's PVM hypervisor (pvm= option, or the
 * probe). The reason string for SKIP lines. */
int pvm(void);
#define PVM_REASON "KVM's PVM hypervisor (docs/kvm.md)"

/* tcgbugs=1: where QEMU 7.2's TCG (Debian 12's qemu-system-x86, the
 * reference VMM here) is known to differ from the SDM, a check that sees
 * exactly QEMU's result prints SKIP naming the bug instead of FAIL. Any
 * other result still fails. */
int tcgbugs(void);
/* If tcgbugs() and cond: SKIP with the reason; returns 1 then. */
int check_tcgbug(int cond, const char *name, const char *reason);

/* The expected-fault record (lib/desc.c) as a checkable value. */
struct fault_expect {
    unsigned vector;
    int has_error;
    uint64_t error;
    uint64_t rip; /* 0: do not check */
    int has_cr2;
    uint64_t cr2;
};
/* Checks last_fault after an expected fault; count0 is last_fault.count
 * before it. Returns 1 if it matched. */
int check_fault(const char *name, uint64_t count0, const struct fault_expect *e);
/* Checks that no fault happened since count0. */
int check_no_fault(const char *name, uint64_t count0);

/* The GDT of lib/entry.S copied into a larger table (GDT_ENTRIES
 * descriptors) and loaded; the guest adds descriptors from
 * GDT_FIRST_FREE on. The TSS stays loaded (TR keeps its cached
 * descriptor). Idempotent. */
#define GDT_ENTRIES 64
#define GDT_FIRST_FREE 12 /* 10: lib/legacy.S's 32-bit TSS; 11: spare */
extern uint64_t gdt_big[GDT_ENTRIES];
void gdt_extend(void);
/* A code or data descriptor: base, limit (20 bits; in 4 KiB units if
 * flags has G), access byte (P, DPL, S, type), flags (G 8, D/B 4, L 2,
 * AVL 1). */
uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);

#endif
