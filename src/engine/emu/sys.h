/* Shared helpers of the system families: event delivery (except.c),
 * segment loads (seg.c), far transfers (far.c) and system instructions
 * (system.c). Spec: Intel SDM Vol. 3A chapter 3 (descriptors, 3.4.5),
 * chapter 5 (protection checks), chapter 6 (interrupts) and chapter 8
 * (the TSS stacks, 8.2.1 and 8.7). */
#ifndef ROAM_ENGINE_EMU_SYS_H
#define ROAM_ENGINE_EMU_SYS_H

#include "emu.h"

/* Error code naming a selector (SDM Vol. 3A 6.13): index and TI, plus EXT
 * when the fault happened while delivering an external event. */
static inline uint32_t sys_selerr(uint16_t sel, bool ext)
{
    return (uint32_t)(sel & 0xfffcu) | (ext ? 1u : 0u);
}

static inline bool sys_pmode(const struct emu_cpu *cpu)
{
    return (cpu->cr0 & EMU_CR0_PE) != 0;
}

static inline bool sys_vm86(const struct emu_cpu *cpu)
{
    return sys_pmode(cpu) && (cpu->rflags & EMU_VM);
}

static inline unsigned sys_iopl(const struct emu_cpu *cpu)
{
    return (unsigned)(cpu->rflags >> 12) & 3;
}

/* Descriptor type tests on an unpacked descriptor (SDM Vol. 3A 3.4.5.1). */
static inline bool sys_is_code(const struct x86_segment *s)
{
    return s->s && (s->type & 8);
}
static inline bool sys_is_conforming(const struct x86_segment *s)
{
    return sys_is_code(s) && (s->type & 4);
}
static inline bool sys_is_writable_data(const struct x86_segment *s)
{
    return s->s && !(s->type & 8) && (s->type & 2);
}
static inline bool sys_is_readable(const struct x86_segment *s)
{
    return s->s && (!(s->type & 8) || (s->type & 2));
}
/* A 64-bit code segment in IA-32e mode (L=1 with D=0; L=D=1 is reserved). */
static inline bool sys_is_code64(const struct emu_cpu *cpu, const struct x86_segment *s)
{
    return cpu->long_mode && s->l;
}

/* A descriptor read from the GDT or LDT. */
struct sys_desc {
    uint64_t lo, hi;       /* hi: the upper half of a 16-byte descriptor, else 0 */
    uint64_t lin;          /* linear address (for the accessed and busy bits) */
    struct x86_segment seg; /* lo unpacked (plus base 63:32 from hi) */
};

/* True if the descriptor (size 8 or 16 bytes) that sel selects lies
 * inside the GDT, or inside a loaded LDT. */
bool sys_desc_in_table(const struct emu_cpu *cpu, uint16_t sel, unsigned size);
/* Reads the descriptor that sel (not null) selects; 16 bytes when sys16.
 * A selector outside the table (or into a null LDT) raises vec with the
 * selector error code (EXT from ext). Memory faults pass through. */
int sys_desc_fetch(struct emu_cpu *cpu, uint16_t sel, bool sys16, unsigned vec, bool ext,
                   struct sys_desc *d);
/* Sets bits of the type field (1 accessed, 2 TSS busy) in the table if
 * missing, as the processor does when it loads a descriptor. */
int sys_desc_touch(struct emu_cpu *cpu, struct sys_desc *d, uint8_t bits);

/* Makes sreg null: the selector is kept (its RPL), the register unusable.
 * SS keeps DPL = the new CPL (64-bit mode null SS, SDM Vol. 3A 6.14.4). */
void sys_seg_null(struct emu_cpu *cpu, unsigned sreg, uint16_t sel, unsigned dpl);
/* After a return to an outer level: DS, ES, FS, GS that the new CPL may
 * not use become null (SDM Vol. 2 RET/IRET pseudo-code). */
void sys_seg_null_outer(struct emu_cpu *cpu, unsigned new_cpl);
/* Real-address and virtual-8086 mode load: base = sel << 4. */
void sys_seg_real(struct emu_cpu *cpu, unsigned sreg, uint16_t sel);

/* A stack that a frame is pushed on. */
struct sys_stack {
    struct x86_segment ss; /* limit checks (not in 64-bit) and base */
    uint64_t sp;           /* before the pushes */
    unsigned width;        /* 2, 4 or 8: the stack pointer's width */
    bool user;             /* CPL3 accesses */
};

/* The current stack, as PUSH would use it. */
void sys_stack_current(struct emu_cpu *cpu, struct sys_stack *stk);
/* Writes n items of size bytes below stk->sp, items[0] at the highest
 * address. Every check (limit, canonical form, paging) comes before the
 * first write; a limit or canonical failure raises vec(err). On success
 * *new_sp is the new stack pointer. */
int sys_stack_push(struct emu_cpu *cpu, const struct sys_stack *stk, const uint64_t *items,
                   unsigned n, unsigned size, unsigned vec, uint32_t err, uint64_t *new_sp);
/* Writes RSP with a width: 2 merges, 4 zero-extends, 8 replaces. */
void sys_set_sp(struct emu_cpu *cpu, uint64_t sp, unsigned width);
/* The stack pointer width a stack segment gives outside 64-bit mode. */
static inline unsigned sys_ss_width(const struct x86_segment *ss)
{
    return ss->db ? 4 : 2;
}

/* The inner stack of privilege level dpl from the current TSS (16/32-bit
 * TSS, SDM Vol. 3A 8.2.1, 8.7): #TS(TR | ext) when outside its limit. */
int sys_tss_stack(struct emu_cpu *cpu, unsigned dpl, bool ext, uint16_t *ss, uint64_t *sp);
/* RSPn or ISTn (ist 1-7; 0 = RSP of dpl) from the 64-bit TSS (SDM Vol. 3A
 * 8.7): #TS(TR | ext) when outside its limit. */
int sys_tss_stack64(struct emu_cpu *cpu, unsigned dpl, unsigned ist, bool ext, uint64_t *sp);
/* Checks the SS selected for an inner privilege level dpl (SDM Vol. 2,
 * CALL and INT n pseudo-code): #TS(ss) for a bad one, #SS(ss) if not
 * present. */
int sys_inner_ss(struct emu_cpu *cpu, uint16_t ss, unsigned dpl, bool ext, struct sys_desc *d);
/* Checks SS popped by RET/IRET for a return to privilege level rpl
 * (null allowed for a return to 64-bit code below CPL3): #GP / #SS. */
int sys_outer_ss(struct emu_cpu *cpu, uint16_t ss, unsigned rpl, bool to64, struct sys_desc *d);

/* The vendor of the CPU model (CPUID leaf 0): SYSCALL/SYSENTER differ. */
bool sys_vendor_amd(struct emu_cpu *cpu);

#endif
