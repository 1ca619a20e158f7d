/* Legacy protected mode for the architecture guests: see legacy.h.
 * Leaving IA-32e mode: Intel SDM Vol. 3A 10.8.5.4 (compatibility mode, then
 * CR0.PG = 0, then EFER.LME = 0); entering it again: 10.8.5 (CR4.PAE, CR3,
 * EFER.LME, CR0.PG, then a far jump to a 64-bit code segment). 32-bit
 * interrupt gates: 6.11; the 32-bit TSS: 8.2.1. */
#include "legacy.h"

#define KERNEL_CS32 0x08
#define KERNEL_CS 0x10
#define KERNEL_DS 0x18
#define USER_CS32 0x23
#define USER_DS 0x2b
#define TSS64_SEL 0x40
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define EFER_LMA 0x400

    .text
    .code64
/* uint32_t legacy_call(const void *fn, uint32_t arg, const struct legacy_cfg *cfg) */
    .globl legacy_call
legacy_call:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    /* A null DS or ES (IRET to CPL3 nulls them, and 64-bit mode keeps
     * them) would fault in 32-bit code. */
    movl $KERNEL_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    movq %rsp, leg_saved_rsp(%rip)
    movl %edi, leg_fn(%rip)
    movl %esi, leg_arg(%rip)
    movl 0(%rdx), %eax
    movl %eax, leg_cr0(%rip)
    movl 4(%rdx), %eax
    movl %eax, leg_cr3(%rip)
    movl 8(%rdx), %eax
    movl %eax, leg_cr4(%rip)
    movl 12(%rdx), %eax
    andl $~(EFER_LME | EFER_LMA), %eax
    movl %eax, leg_efer(%rip)
    movl 16(%rdx), %eax
    movl %eax, leg_flags(%rip)
    movq %cr0, %rax
    movq %rax, leg_saved_cr0(%rip)
    movq %cr3, %rax
    movq %rax, leg_saved_cr3(%rip)
    movq %cr4, %rax
    movq %rax, leg_saved_cr4(%rip)
    movl $MSR_EFER, %ecx
    rdmsr
    movl %eax, leg_saved_efer(%rip)
    sidt leg_saved_idtr(%rip)
    sgdt leg_saved_gdtr(%rip)

    /* The 32-bit IDT: interrupt gates to the stubs, 16 bytes apart. */
    leaq leg_isr_table(%rip), %rax
    leaq leg_idt(%rip), %rdi
    movl $32, %ecx
1:  movl %eax, %edx
    andl $0xffff, %edx
    orl $(KERNEL_CS32 << 16), %edx
    movl %edx, (%rdi)
    movl %eax, %edx
    andl $0xffff0000, %edx
    orl $0x8e00, %edx
    movl %edx, 4(%rdi)
    addq $16, %rax
    addq $8, %rdi
    decl %ecx
    jnz 1b
    /* #BP and #OF may come from CPL3 (int3, into). */
    orb $0x60, leg_idt + 3 * 8 + 5(%rip)
    orb $0x60, leg_idt + 4 * 8 + 5(%rip)

    /* The 32-bit TSS, for code at CPL3: a descriptor at GDT index 10. */
    testl $LEGACY_USER, leg_flags(%rip)
    jz 2f
    leaq leg_tss32(%rip), %rax
    movl $0x67, %edx                /* limit */
    movl %eax, %ecx
    shll $16, %ecx
    orl %ecx, %edx                  /* base 15:0, limit 15:0 */
    movq leg_saved_gdtr + 2(%rip), %rdi
    movl %edx, 8 * 10(%rdi)
    movl %eax, %ecx
    shrl $16, %ecx
    andl $0xff, %ecx                /* base 23:16 */
    orl $0x8900, %ecx               /* present, available 32-bit TSS */
    movl %eax, %edx
    andl $0xff000000, %edx          /* base 31:24 */
    orl %edx, %ecx
    movl %ecx, 8 * 10 + 4(%rdi)
    leaq leg_kstack_top(%rip), %rax
    movl %eax, leg_tss32 + 4(%rip)  /* ESP0 */
    movl $KERNEL_DS, leg_tss32 + 8(%rip) /* SS0 */
    movw $0x68, leg_tss32 + 102(%rip) /* no I/O bitmap */
2:
    pushq $KERNEL_CS32
    leaq leg_entry32(%rip), %rax
    pushq %rax
    lretq

    .code32
leg_entry32:
    /* Compatibility mode: paging off leaves IA-32e mode (the code is
     * identity mapped), then EFER.LME off. */
    movl %cr0, %eax
    andl $0x7fffffff, %eax
    movl %eax, %cr0
    movl $MSR_EFER, %ecx
    movl leg_efer, %eax
    xorl %edx, %edx
    wrmsr
    movl $KERNEL_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    lidt leg_idt_desc
    movl leg_cr4, %eax
    movl %eax, %cr4
    movl leg_cr3, %eax
    movl %eax, %cr3
    movl leg_cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    testl $LEGACY_USER, leg_flags
    jz 3f
    movw $LEGACY_TSS_SEL, %ax
    ltr %ax
3:  andl $~15, %esp
    movl %esp, leg_esp32
    subl $12, %esp
    pushl leg_arg
    call *leg_fn
leg_exit:
    /* EAX = the result. Back to long mode: paging off, the long-mode CR4,
     * CR3 and EFER, paging on (compatibility mode), a far jump to 64-bit
     * code. */
    cli
    movl leg_esp32, %esp
    movl %eax, leg_result
    movl $KERNEL_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr0, %eax
    andl $0x7fffffff, %eax
    movl %eax, %cr0
    movl leg_saved_cr4, %eax
    movl %eax, %cr4
    movl leg_saved_cr3, %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    movl leg_saved_efer, %eax
    andl $~EFER_LMA, %eax
    xorl %edx, %edx
    wrmsr
    lgdt leg_saved_gdtr
    movl leg_saved_cr0, %eax
    movl %eax, %cr0
    ljmp $KERNEL_CS, $leg_back64

    .code64
leg_back64:
    lgdt leg_saved_gdtr(%rip)
    lidt leg_saved_idtr(%rip)
    movl $KERNEL_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    testl $LEGACY_USER, leg_flags(%rip)
    jz 4f
    /* TR back to the 64-bit TSS: clear its busy bit first. */
    movq leg_saved_gdtr + 2(%rip), %rdi
    andb $~2, TSS64_SEL + 5(%rdi)
    movw $TSS64_SEL, %ax
    ltr %ax
    andb $~2, 8 * 10 + 5(%rdi)
4:  movq leg_saved_rsp(%rip), %rsp
    movl leg_result(%rip), %eax
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    ret

/* ---- 32-bit exception stubs ---- */
    .code32
    .altmacro
.macro LEG_ISR v
    .balign 16
    .if (\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21)
    .else
    pushl $0
    .endif
    pushl $\v
    jmp leg_isr_common
.endm
    .balign 16
leg_isr_table:
    .set vec, 0
    .rept 32
    LEG_ISR %vec
    .set vec, vec + 1
    .endr
    .noaltmacro

/* Stack: vector, error, EIP, CS, EFLAGS (then ESP, SS from CPL3). */
leg_isr_common:
    pushl %eax
    movl $KERNEL_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    /* legacy_user's way back: the UD2 at leg_user_exit. */
    cmpl $6, 4(%esp)
    jne 1f
    cmpl $leg_user_exit, 12(%esp)
    jne 1f
    testb $3, 16(%esp)
    jz 1f
    popl %eax
    jmp leg_user_back
1:  movl 4(%esp), %eax
    movl %eax, legacy_fault + LF_VECTOR
    movl 8(%esp), %eax
    movl %eax, legacy_fault + LF_ERROR
    movl 12(%esp), %eax
    movl %eax, legacy_fault + LF_EIP
    movl 16(%esp), %eax
    movl %eax, legacy_fault + LF_CS
    movl %cr2, %eax
    movl %eax, legacy_fault + LF_CR2
    incl legacy_fault + LF_COUNT
    cmpl $0, legacy_fault + LF_ARMED
    je 3f
    movl $0, legacy_fault + LF_ARMED
    testb $3, 16(%esp)
    jnz 2f
    cmpl $0, legacy_use_iret
    jne 2f
    /* CPL0: drop the frame and jump to the fixup. */
    popl %eax
    addl $20, %esp
    jmp *legacy_fault + LF_FIXUP
2:  /* IRET to the fixup (the only way back to CPL3). */
    movl legacy_fault + LF_FIXUP, %eax
    movl %eax, 12(%esp)
    testb $3, 16(%esp)
    jz 5f
    movl $USER_DS, %eax
    movw %ax, %ds
    movw %ax, %es
5:  popl %eax
    addl $8, %esp
    iretl
3:  /* Not expected: end the legacy call. */
    movl $1, legacy_fault + LF_UNEXPECTED
    movl 4(%esp), %eax
    orl $LEGACY_UNEXPECTED, %eax
    jmp leg_exit

/* uint32_t legacy_user(uint32_t (*fn)(uint32_t), uint32_t arg): runs fn(arg)
 * at CPL3 (CS 0x23, SS 0x2b, interrupts off) and returns its EAX. Enters
 * with IRET; fn returns to a UD2 whose #UD brings us back. Needs a legacy
 * call with LEGACY_USER. */
    .globl legacy_user
legacy_user:
    pushl %ebx
    pushl %esi
    pushl %edi
    pushl %ebp
    movl %esp, leg_user_kesp
    movl 20(%esp), %esi             /* fn */
    movl 24(%esp), %edi             /* arg */
    movl $leg_user_stack_top - 8, %ebx
    movl %edi, 4(%ebx)
    movl $leg_user_exit, (%ebx)
    pushl $USER_DS
    pushl %ebx
    pushl $0x2
    pushl $USER_CS32
    pushl %esi
    movl $USER_DS, %ecx
    movw %cx, %ds
    movw %cx, %es
    iretl
leg_user_exit:
    ud2
leg_user_back:
    movl leg_user_kesp, %esp
    movl $KERNEL_DS, %ecx
    movw %cx, %ds
    movw %cx, %es
    popl %ebp
    popl %edi
    popl %esi
    popl %ebx
    ret

/* void legacy_puts(const char *s): COM1, polling LSR.THRE (any CPL0 mode
 * with flat DS). */
    .globl legacy_puts
legacy_puts:
    pushl %esi
    movl 8(%esp), %esi
1:  movb (%esi), %al
    testb %al, %al
    jz 3f
    movl $100000, %ecx
    movw $0x3fd, %dx
2:  inb %dx, %al
    testb $0x20, %al
    jnz 4f
    decl %ecx
    jnz 2b
4:  movb (%esi), %al
    movw $0x3f8, %dx
    outb %al, %dx
    incl %esi
    jmp 1b
3:  popl %esi
    ret

    .data
    .balign 8
    .globl legacy_fault, legacy_use_iret
legacy_fault: .fill 10, 4, 0
legacy_use_iret: .long 0
leg_saved_rsp: .quad 0
leg_saved_cr0: .quad 0
leg_saved_cr3: .quad 0
leg_saved_cr4: .quad 0
leg_saved_efer: .quad 0
leg_fn: .long 0
leg_arg: .long 0
leg_cr0: .long 0
leg_cr3: .long 0
leg_cr4: .long 0
leg_efer: .long 0
leg_flags: .long 0
leg_result: .long 0
leg_esp32: .long 0
leg_user_kesp: .long 0
    .balign 8
    .word 0, 0, 0
leg_saved_idtr: .word 0
    .quad 0
    .word 0, 0, 0
leg_saved_gdtr: .word 0
    .quad 0
    .word 0, 0, 0
leg_idt_desc: .word 32 * 8 - 1
    .long leg_idt

    .bss
    .balign 16
leg_idt: .skip 32 * 8
leg_tss32: .skip 0x68
    .balign 16
leg_kstack: .skip 4096
leg_kstack_top:
leg_user_stack: .skip 4096
leg_user_stack_top:
