/* Legacy (32-bit) protected mode for the architecture guests (lib/legacy.S):
 * leaves IA-32e mode (Intel SDM Vol. 3A 10.8.5.4 "Switching Out of IA-32e
 * Mode Operation"), runs a 32-bit function with the control registers the
 * caller chose (paging off, 32-bit paging or PAE paging) and a 32-bit IDT,
 * and comes back to long mode.
 *
 * The 32-bit exception handlers record the exception in legacy_fault. An
 * expected one (armed by LEGACY_FAULT in assembly) resumes at the fixup
 * address: at CPL0 by a plain jump that drops the frame (no IRET: the PVM
 * hypervisor's instruction emulator cannot do IRET in protected mode,
 * docs/kvm.md) unless legacy_use_iret is set; from CPL3 always by IRET. An
 * unexpected one ends the legacy call at once: legacy_call() returns
 * LEGACY_UNEXPECTED and legacy_fault tells what happened. */
#ifndef GUEST_LEGACY_H
#define GUEST_LEGACY_H

/* Offsets in struct legacy_fault, for assembly. */
#define LF_COUNT 0
#define LF_VECTOR 4
#define LF_ERROR 8
#define LF_EIP 12
#define LF_CS 16
#define LF_CR2 20
#define LF_ARMED 24
#define LF_FIXUP 28
#define LF_INSN 32
#define LF_UNEXPECTED 36

/* Selectors in legacy mode: the lib GDT's (kernel CS32 0x08, DS 0x18, user
 * CS32 0x23, DS 0x2b); a 32-bit TSS at GDT index 10 (gdt_big) when the
 * call runs user code. */
#define LEGACY_TSS_SEL 0x50

#define LEGACY_UNEXPECTED 0xdead0000u
/* cfg flags */
#define LEGACY_USER 1u /* load the 32-bit TSS: CPL3 code may run */

#ifdef __ASSEMBLER__
/* Arms an expected fault around one instruction (32-bit code). */
.macro LEGACY_FAULT insn:vararg
    movl $1f, legacy_fault + LF_FIXUP
    movl $2f, legacy_fault + LF_INSN
    movl $1, legacy_fault + LF_ARMED
2:  \insn
1:  movl $0, legacy_fault + LF_ARMED
.endm
#else
#include <stdint.h>

struct legacy_fault {
    uint32_t count, vector, error, eip, cs, cr2;
    uint32_t armed, fixup, insn, unexpected;
};
extern volatile struct legacy_fault legacy_fault;
extern volatile uint32_t legacy_use_iret;

struct legacy_cfg {
    uint32_t cr0;   /* CR0 in legacy mode (PE is forced on; PG turns paging on) */
    uint32_t cr3;
    uint32_t cr4;
    uint32_t efer;  /* EFER less LME */
    uint32_t flags; /* LEGACY_USER */
};
/* Runs fn(arg) (a 32-bit cdecl function in a .code32 section) in legacy
 * protected mode at CPL0 with interrupts off; returns its EAX, or
 * LEGACY_UNEXPECTED. */
uint32_t legacy_call(const void *fn, uint32_t arg, const struct legacy_cfg *cfg);
#endif

#endif
