/* segments: the code that runs in compatibility mode, the call-gate
 * targets and the legacy-mode 32-bit call gate test (see segments.c).
 * Intel SDM Vol. 3A 5.3 (limit checking, expand-down), 5.8.3 (call gates),
 * 5.8.3.1 (IA-32e mode call gates), 6.12.1 / IRET (returns to an outer
 * level), Vol. 2 MOV (segment register loads). */
#include "lib/legacy.h"

#define KERNEL_CS32 0x08
#define KERNEL_CS 0x10
#define KERNEL_DS 0x18

/* segments.c's selectors */
#define SEL_LIM 0x60      /* base 0x50000, limit 0xfff, byte granular */
#define SEL_LIM_G 0x68    /* base 0x50000, limit 0 4 KiB granular */
#define SEL_ED32 0x70     /* expand-down, limit 0xfff, B = 1 */
#define SEL_ED16 0x78     /* expand-down, limit 0xfff, B = 0 */
#define SEL_STK 0x80      /* base 0, limit 0x57fff */
#define SEL_RO 0x88       /* read-only data */
#define SEL_CODE_R 0x98   /* readable code */

/* A record per compatibility-mode check (struct crec in segments.c):
 * faults, vector, error, rip, insn, value (4 bytes each), 32 bytes. */
.macro ARM
    pushl last_fault
    popl seg_c0
    movl $1f, fault_fixup
    movl $2f, fault_insn
    movl $1, fault_armed
.endm
.macro DISARM
    movl $0, fault_armed
.endm
.macro REC idx
    movl %eax, seg_res + \idx * 32 + 20
    movl last_fault, %eax
    subl seg_c0, %eax
    movl %eax, seg_res + \idx * 32
    movl last_fault + 8, %eax
    movl %eax, seg_res + \idx * 32 + 4
    movl last_fault + 16, %eax
    movl %eax, seg_res + \idx * 32 + 8
    movl last_fault + 24, %eax
    movl %eax, seg_res + \idx * 32 + 12
    movl fault_insn, %eax
    movl %eax, seg_res + \idx * 32 + 16
.endm
.macro FLAT
    movl $KERNEL_DS, %ecx
    movw %cx, %ds
    movw %cx, %es
    movw %cx, %ss
.endm

    .text
    .code64
/* void seg_compat(void): runs the compatibility-mode checks at CPL0. */
    .globl seg_compat
seg_compat:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, seg_rsp(%rip)
    /* DS and ES may be null (after an IRET to CPL3): not usable in 32-bit
     * code. */
    movl $KERNEL_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    lcall *seg_far(%rip)
    movq seg_rsp(%rip), %rsp
    movl $KERNEL_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    ret

    .code32
seg_compat32:
    /* 0-2: a byte-granular limit of 0xfff */
    movw $SEL_LIM, %ax
    movw %ax, %es
    ARM
2:  movl %es:0xffc, %eax
1:  DISARM
    REC 0
    ARM
2:  movl %es:0xffd, %eax
1:  DISARM
    REC 1
    ARM
2:  movb %es:0x1000, %al
1:  DISARM
    REC 2
    /* 3-4: limit 0 with 4 KiB granularity: 0xfff */
    movw $SEL_LIM_G, %ax
    movw %ax, %es
    ARM
2:  movzbl %es:0xfff, %eax
1:  DISARM
    REC 3
    ARM
2:  movb %es:0x1000, %al
1:  DISARM
    REC 4
    /* 5-7: expand-down, limit 0xfff, B = 1: offsets 0x1000-0xffffffff */
    movw $SEL_ED32, %ax
    movw %ax, %es
    ARM
2:  movb %es:0xfff, %al
1:  DISARM
    REC 5
    ARM
2:  movl %es:0x1000, %eax
1:  DISARM
    REC 6
    ARM
2:  movl %es:0xfffffffc, %eax
1:  DISARM
    REC 7
    /* 8-9: expand-down, B = 0: offsets 0x1000-0xffff */
    movw $SEL_ED16, %ax
    movw %ax, %es
    ARM
2:  movw %es:0xffff, %ax
1:  DISARM
    REC 8
    ARM
2:  movzwl %es:0xfffe, %eax
1:  DISARM
    REC 9
    movw $KERNEL_DS, %ax
    movw %ax, %es
    /* 10-11: SS limit 0x57fff: a push above it, an EBP-based load */
    movw $SEL_STK, %ax
    movl %esp, %esi
    ARM
    movw %ax, %ss
2:  pushl $1
1:  FLAT
    movl %esi, %esp                 /* if the push was (wrongly) done */
    DISARM
    REC 10
    movl $0x58000, %ebp
    movw $SEL_STK, %ax
    ARM
    movw %ax, %ss
2:  movl (%ebp), %eax
1:  FLAT
    DISARM
    REC 11
    /* 12: a null DS loads, and its use faults */
    movl $0x50000, %ebx
    xorl %eax, %eax
    ARM
    movw %ax, %ds
2:  movl (%ebx), %eax
1:  FLAT
    DISARM
    REC 12
    /* 13: a null ES for STOS */
    movl $0x50100, %edi
    xorl %eax, %eax
    ARM
    movw %ax, %es
2:  stosl
1:  FLAT
    DISARM
    REC 13
    /* 14: a null SS does not load in compatibility mode */
    xorl %eax, %eax
    ARM
2:  movw %ax, %ss
1:  FLAT
    DISARM
    REC 14
    /* 15: a write through a read-only data segment */
    movw $SEL_RO, %ax
    movw %ax, %es
    movl $0x50200, %ebx
    ARM
2:  movl %eax, %es:(%ebx)
1:  FLAT
    DISARM
    REC 15
    /* 16-17: a readable code segment in ES reads, and does not write */
    movw $SEL_CODE_R, %ax
    movw %ax, %es
    ARM
2:  movl %es:0x50004, %eax
1:  DISARM
    REC 16
    ARM
2:  movl %eax, %es:0x50300
1:  FLAT
    DISARM
    REC 17
    lret

/* 64-bit call gate target (CPL0, 64-bit): records CS, SS, RSP and the four
 * words the gate pushed, then returns with a 64-bit far return. */
    .code64
    .globl seg_gate64_target, seg_gate_rec
seg_gate64_target:
    movq %rsp, seg_gate_rec + 16(%rip)
    movw %cs, seg_gate_rec(%rip)
    movw %ss, seg_gate_rec + 8(%rip)
    movq 0(%rsp), %rax
    movq %rax, seg_gate_rec + 24(%rip)
    movq 8(%rsp), %rax
    movq %rax, seg_gate_rec + 32(%rip)
    movq 16(%rsp), %rax
    movq %rax, seg_gate_rec + 40(%rip)
    movq 24(%rsp), %rax
    movq %rax, seg_gate_rec + 48(%rip)
    incq seg_gate_rec + 56(%rip)
    lretq

/* ---- legacy mode: a 32-bit call gate from CPL3 with 2 parameters ---- */
    .code32
/* uint32_t seg_gate32(uint32_t gate_sel): at CPL0 in legacy mode; runs
 * seg_gate32_user at CPL3, which calls through the gate. */
    .globl seg_gate32
seg_gate32:
    movl 4(%esp), %eax
    movl %eax, seg_gate32_sel
    pushl $0
    pushl $seg_gate32_user
    call legacy_user
    addl $8, %esp
    ret
seg_gate32_user:
    pushl %ebx
    movl %esp, seg_gate_rec + 64
    pushl $0x11112222               /* parameters */
    pushl $0x33334444
    lcall *seg_gate32_ptr
seg_gate32_ret:
    movl %esp, seg_gate_rec + 68   /* RETF 8 popped the parameters */
    movw %cs, %ax
    movzwl %ax, %eax
    movl %eax, seg_gate_rec + 72
    movl $0x32, %eax
    popl %ebx
    ret
/* CPL0 target: stack (from TSS32.ESP0): EIP, CS, param 2, param 1, ESP, SS */
    .globl seg_gate32_target
seg_gate32_target:
    movw %cs, %ax
    movzwl %ax, %eax
    movl %eax, seg_gate_rec + 76
    movw %ss, %ax
    movzwl %ax, %eax
    movl %eax, seg_gate_rec + 80
    movl 0(%esp), %eax
    movl %eax, seg_gate_rec + 84
    movl 4(%esp), %eax
    movl %eax, seg_gate_rec + 88
    movl 8(%esp), %eax
    movl %eax, seg_gate_rec + 92
    movl 12(%esp), %eax
    movl %eax, seg_gate_rec + 96
    movl 16(%esp), %eax
    movl %eax, seg_gate_rec + 100
    movl 20(%esp), %eax
    movl %eax, seg_gate_rec + 104
    lret $8

    .data
    .balign 8
    .globl seg_res, seg_gate32_ret
seg_far: .long seg_compat32
    .word KERNEL_CS32
    .balign 8
seg_rsp: .quad 0
seg_c0: .long 0
seg_gate32_ptr: .long 0
seg_gate32_sel: .long 0
    .balign 8
seg_gate_rec: .fill 16, 8, 0
    .balign 32
seg_res: .fill 24 * 32, 1, 0
