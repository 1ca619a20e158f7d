/* sysinsn: SYSCALL/SYSRET and SYSENTER/SYSEXIT entry points and the user
 * code that calls them (see sysinsn.c). Intel SDM Vol. 2B SYSCALL, SYSRET,
 * SYSENTER, SYSEXIT; Vol. 3A 5.8.7, 5.8.8. Every record is an array of
 * 8-byte words (sys_rec). */
#define KERNEL_CS 0x10
#define KERNEL_DS 0x18
#define USER_CS32 0x23
#define USER_DS 0x2b
#define USER_CS 0x33

    .text
    .code64
/* SYSCALL from 64-bit mode: RCX, R11, CS, SS, RFLAGS, RSP; sets CF in the
 * RFLAGS that SYSRET restores. */
    .globl sys_lstar
sys_lstar:
    movq %rcx, sys_rec + 0(%rip)
    movq %r11, sys_rec + 8(%rip)
    movw %cs, sys_rec + 16(%rip)
    movw %ss, sys_rec + 24(%rip)
    movq %rsp, sys_rec + 40(%rip)
    movq sys_kstack_top(%rip), %rsp
    pushfq
    popq sys_rec + 32(%rip)
    movq sys_rec + 40(%rip), %rsp
    orq $1, %r11
    incq sys_rec + 48(%rip)
    cmpb $0, sys_ret32(%rip)
    jne 1f
    sysretq
1:  leaq sys_compat_after_sysret(%rip), %rcx /* SYSRET to compatibility mode */
    sysretl

/* SYSCALL from compatibility mode (CSTAR): the same, SYSRET to 32-bit. */
    .globl sys_cstar
sys_cstar:
    movq %rcx, sys_rec + 0(%rip)
    movq %r11, sys_rec + 8(%rip)
    movw %cs, sys_rec + 16(%rip)
    movw %ss, sys_rec + 24(%rip)
    movq %rsp, sys_rec + 40(%rip)
    incq sys_rec + 48(%rip)
    sysretl

/* SYSENTER: CS, SS, RSP, RFLAGS; returns with SYSEXIT to RDX/RCX, 64-bit
 * or (sys_exit32) 32-bit. */
    .globl sys_sysenter
sys_sysenter:
    movw %cs, sys_rec + 64(%rip)
    movw %ss, sys_rec + 72(%rip)
    movq %rsp, sys_rec + 80(%rip)
    pushfq
    popq sys_rec + 88(%rip)
    incq sys_rec + 96(%rip)
    cmpb $0, sys_exit32(%rip)
    jne 1f
    sysexitq
1:  sysexitl

/* User code, 64-bit: uint64_t sys_user_syscall(uint64_t *out): DF set
 * across the SYSCALL; out: RFLAGS before, the return address, RFLAGS
 * after, CS, SS after. */
    .globl sys_user_syscall
sys_user_syscall:
    pushq %rbx
    movq %rdi, %rbx
    std
    pushfq
    popq 0(%rbx)
    leaq 1f(%rip), %rax
    movq %rax, 8(%rbx)
    syscall
1:  pushfq
    popq 16(%rbx)
    cld
    movw %cs, 24(%rbx)
    movw %ss, 32(%rbx)
    popq %rbx
    xorl %eax, %eax
    ret

/* User code, 64-bit: SYSENTER with RDX = the return address, RCX = RSP;
 * out: the return address, RSP, CS, SS after. SS is put back to 0x2b. */
    .globl sys_user_sysenter
sys_user_sysenter:
    pushq %rbx
    movq %rdi, %rbx
    leaq 1f(%rip), %rdx
    movq %rdx, 0(%rbx)
    movq %rsp, %rcx
    movq %rcx, 8(%rbx)
    sysenter
1:  movw %cs, 16(%rbx)
    movw %ss, 24(%rbx)
    movq %rsp, 32(%rbx)
    movl $USER_DS, %eax
    movw %ax, %ss
    popq %rbx
    xorl %eax, %eax
    ret

/* Compatibility mode at CPL3: void sys_compat3(uint32_t which, uint64_t *out)
 * enters 32-bit code with IRETQ; it makes a SYSCALL (which 0) or a
 * SYSENTER (1) and stores CS, SS, the return address and ESP; ends with a
 * UD2 at sys_compat3_exit (sysinsn.c turns it into a return). */
    .globl sys_compat3, sys_compat3_exit, sys_compat3_back, sys_rsp64
sys_compat3:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, sys_rsp64(%rip)
    movl %edi, sys_which(%rip)
    movl %esi, sys_out(%rip)
    pushq $USER_DS
    leaq sys_ustack_top(%rip), %rax
    pushq %rax
    pushq $2
    cmpl $2, %edi
    je 1f
    pushq $USER_CS32
    leaq sys_compat3_entry(%rip), %rax
    pushq %rax
    iretq
1:  pushq $USER_CS
    leaq sys_user64_sysret32(%rip), %rax
    pushq %rax
    iretq
/* which 2: a 64-bit SYSCALL that the kernel answers with a 32-bit SYSRET */
sys_user64_sysret32:
    syscall
    ud2
sys_compat3_back:
    movl $KERNEL_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    ret

    .code32
sys_compat3_entry:
    movl $USER_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    movl sys_out, %ebx
    movl %esp, 8(%ebx)
    cmpl $0, sys_which
    jne 2f
    movl $1f, 0(%ebx)
    .globl sys_compat3_syscall
sys_compat3_syscall:
    syscall                         /* #UD on Intel (CS.L = 0) */
1:  jmp 3f
2:  movl $4f, %edx
    movl %edx, 0(%ebx)
    movl %esp, %ecx
    sysenter
4:
3:  movw %cs, 16(%ebx)
    movw %ss, 24(%ebx)
    movl %esp, 32(%ebx)
sys_compat3_exit:
    ud2
/* SYSRETL from sys_lstar lands here */
sys_compat_after_sysret:
    movl $USER_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    movl sys_out, %ebx
    movw %cs, 16(%ebx)
    movw %ss, 24(%ebx)
    jmp sys_compat3_exit

    .data
    .balign 8
    .globl sys_rec, sys_exit32, sys_kstack_top, sys_ret32
sys_rec: .fill 16, 8, 0
sys_rsp64: .quad 0
sys_kstack_top: .quad 0
sys_which: .long 0
sys_out: .long 0
sys_exit32: .byte 0
sys_ret32: .byte 0

    .bss
    .balign 16
sys_ustack: .skip 4096
sys_ustack_top:
