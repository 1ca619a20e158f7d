/* The canonical x86-64 CPU state (DESIGN.md, "Canonical CPU state"): the only
 * form in which a vCPU's state crosses an engine boundary or a migration.
 * Every engine converts to and from it exactly: get -> set -> get is the
 * identity. Field meanings follow the Intel SDM Vol. 3A (segment descriptor
 * fields: 3.4.5; system registers: 2.5; FXSAVE layout: Vol. 1 10.5.1). */
#ifndef ROAM_CORE_CPU_STATE_H
#define ROAM_CORE_CPU_STATE_H

#include <stdbool.h>
#include <stdint.h>

enum x86_gpr {
    X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
    X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
    X86_NR_GPRS
};

enum x86_sreg { X86_ES, X86_CS, X86_SS, X86_DS, X86_FS, X86_GS, X86_LDTR, X86_TR, X86_NR_SEGS };

/* A segment register with its hidden (descriptor cache) part. */
struct x86_segment {
    uint64_t base;
    uint32_t limit; /* byte granular: already scaled by G */
    uint16_t selector;
    uint8_t type;   /* 4-bit descriptor type */
    uint8_t s;      /* 1 = code/data, 0 = system */
    uint8_t dpl;
    uint8_t present;
    uint8_t avl;
    uint8_t l;      /* 64-bit code segment */
    uint8_t db;     /* default operand size / big */
    uint8_t g;      /* granularity */
    uint8_t unusable; /* null-selector-loaded (VMX "unusable") */
};

struct x86_dtable {
    uint64_t base;
    uint16_t limit;
};

/* FXSAVE image, 64-bit layout (SDM Vol. 1, Table 10-2): 512 bytes. */
struct x86_fxsave {
    uint16_t fcw;
    uint16_t fsw;
    uint8_t ftw; /* abridged tag word: 1 bit per register, 1 = valid */
    uint8_t reserved1;
    uint16_t fop;
    uint64_t fip;
    uint64_t fdp;
    uint32_t mxcsr;
    uint32_t mxcsr_mask;
    uint8_t st[8][16];  /* ST0-7 / MM0-7, 80 bits used of each 16 */
    uint8_t xmm[16][16];
    uint8_t reserved2[96];
};

/* Variable-range MTRR pairs of the roam-v1 model (IA32_MTRRCAP.VCNT). */
#define X86_MTRR_VAR_COUNT 8
#define X86_MTRR_FIXED_COUNT 11

/* MSRs of the roam-v1 CPU model that carry state. */
struct x86_msrs {
    uint64_t efer;
    uint64_t star, lstar, cstar, sfmask;
    uint64_t kernel_gs_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t pat;
    uint64_t misc_enable;
    uint64_t mtrr_def_type;
    uint64_t mtrr_fixed[X86_MTRR_FIXED_COUNT]; /* 0x250, 0x258, 0x259, 0x268-0x26f */
    uint64_t mtrr_var_base[X86_MTRR_VAR_COUNT];  /* 0x200 + 2n */
    uint64_t mtrr_var_mask[X86_MTRR_VAR_COUNT];  /* 0x201 + 2n */
    uint64_t apic_base; /* IA32_APIC_BASE, mirrored from the LAPIC device */
};

/* Event state between instructions (what KVM calls vcpu events). */
struct x86_events {
    /* An exception being delivered (injected) or pending. */
    uint8_t exception_injected;
    uint8_t exception_pending;
    uint8_t exception_nr;
    uint8_t exception_has_error_code;
    uint32_t exception_error_code;
    /* An external or soft interrupt being delivered. */
    uint8_t interrupt_injected;
    uint8_t interrupt_nr;
    uint8_t interrupt_soft;
    /* NMI */
    uint8_t nmi_injected;
    uint8_t nmi_pending;
    uint8_t nmi_masked;
    /* Interrupt shadow: bit 0 = after STI, bit 1 = after MOV SS / POP SS. */
    uint8_t interrupt_shadow;
};

#define X86_SHADOW_STI 1u
#define X86_SHADOW_MOV_SS 2u

struct x86_cpu_state {
    uint64_t gpr[X86_NR_GPRS];
    uint64_t rip;
    uint64_t rflags;
    struct x86_segment seg[X86_NR_SEGS];
    struct x86_dtable gdtr, idtr;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t dr[4]; /* DR0-3 */
    uint64_t dr6, dr7;
    struct x86_msrs msr;
    struct x86_fxsave fpu;
    struct x86_events events;
    uint64_t tsc;
};

_Static_assert(sizeof(struct x86_fxsave) == 512, "FXSAVE image is 512 bytes");

/* Fills s with the architectural power-on/INIT state (SDM Vol. 3A 10.1.1,
 * Table 10-1): real mode, CS.selector=0xf000 base=0xffff0000, RIP=0xfff0. */
void x86_cpu_state_reset(struct x86_cpu_state *s);
/* Sets up the multiboot entry state (flat 32-bit protected mode, paging off,
 * EAX = magic, EBX = info address, EIP = entry); see boot/multiboot.h. */
void x86_cpu_state_flat32(struct x86_cpu_state *s, uint32_t eip, uint32_t eax, uint32_t ebx);
/* Returns true if the two states are identical, and if not writes the name
 * of the first differing field into what (may be NULL). */
bool x86_cpu_state_equal(const struct x86_cpu_state *a, const struct x86_cpu_state *b,
                         char *what, unsigned what_len);
/* Prints a register dump (for triple faults and internal errors). */
void x86_cpu_state_dump(const struct x86_cpu_state *s, void (*print)(void *ctx, const char *line),
                        void *ctx);

#endif
