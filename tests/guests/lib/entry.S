/* Test guest entry: the multiboot header, the 32-bit entry that enters long
 * mode (Intel SDM Vol. 3A 10.8.5 "Initializing IA-32e Mode"), the GDT, the
 * page tables, the interrupt stubs, user-mode entry and exit, the SYSCALL
 * entry and the AP trampoline (SDM Vol. 3A 10.4 "Multiple-Processor (MP)
 * Initialization").
 *
 * Everything the CPU needs at CPL0 before C runs is static data (the GDT
 * and the page tables), so the emulated CPL0 path stays short: a few dozen
 * instructions from the multiboot entry to C. */

/* The GDT has Linux's x86-64 layout (arch/x86/include/asm/segment.h), which
 * SYSCALL/SYSRET need anyway (kernel CS, DS; user CS32, DS, CS) and which
 * KVM's PVM hypervisor requires of user selectors. */
#define KERNEL_CS 0x10
#define KERNEL_DS 0x18
#define USER_DS 0x2b
#define USER_CS 0x33

#define CR0_PE 0x00000001
#define CR0_MP 0x00000002
#define CR0_EM 0x00000004
#define CR0_NE 0x00000020
#define CR0_WP 0x00010000
#define CR0_NW 0x20000000
#define CR0_CD 0x40000000
#define CR0_PG 0x80000000
#define CR4_PAE 0x00000020
#define CR4_OSFXSR 0x00000200
#define CR4_OSXMMEXCPT 0x00000400
#define MSR_EFER 0xc0000080
#define EFER_SCE 0x001
#define EFER_LME 0x100
#define EFER_NXE 0x800

#define PG_FLAGS 0x87      /* present, writable, user, 2 MiB */
#define PG_FLAGS_MMIO 0x9f /* the same, cache disabled (PCD | PWT) */

#define STACK_SIZE 16384
#define AP_STACK_SIZE 4096
#define MAX_APS 15

/* ---- multiboot header (Multiboot Specification 0.6.96, 3.1.1) ---- */
    .section .multiboot, "a"
    .balign 4
    .long 0x1BADB002
    .long 0x00000003                /* page-aligned modules, memory info */
    .long -(0x1BADB002 + 0x00000003)

/* ---- 32-bit entry: EAX = magic, EBX = info, flat protected mode ---- */
    .section .text.entry, "ax"
    .code32
    .globl start32
start32:
    cli
    cld
    movl %eax, boot_magic
    movl %ebx, boot_info
    movl %cr0, %eax
    movl %eax, entry_cr0
    lgdt gdt_desc
    movl $KERNEL_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl $boot_stack + STACK_SIZE, %esp
    /* NX if the CPU has it (CPUID 0x80000001 EDX bit 20). */
    xorl %esi, %esi
    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb 1f
    movl $0x80000001, %eax
    cpuid
    testl $(1 << 20), %edx
    jz 1f
    movl $EFER_NXE, %esi
1:  movl %cr4, %eax
    orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    movl %eax, %cr4
    movl $pml4, %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    orl $(EFER_LME | EFER_SCE), %eax
    orl %esi, %eax
    wrmsr
    movl %cr0, %eax
    andl $~(CR0_EM | CR0_NW | CR0_CD), %eax
    orl $(CR0_PG | CR0_PE | CR0_MP | CR0_NE | CR0_WP), %eax
    movl %eax, %cr0
    ljmp $KERNEL_CS, $start64

    .code64
start64:
    movl $KERNEL_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movq $boot_stack + STACK_SIZE, %rsp
    xorl %ebp, %ebp
    call guest_start
2:  cli
    hlt
    jmp 2b

/* ---- interrupt stubs: 256 of them, 16 bytes apart ---- */
    .text
    .altmacro
.macro ISR v
    .balign 16
    /* the CPU pushes an error code for 8, 10-14, 17, 21, 29 and 30 */
    .if (\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || \
        (\v == 29) || (\v == 30)
    .else
    pushq $0
    .endif
    pushq $\v
    jmp isr_common
.endm
    .balign 16
    .globl isr_table
isr_table:
    .set vec, 0
    .rept 256
    ISR %vec
    .set vec, vec + 1
    .endr
    .noaltmacro

/* The frame (struct frame in guest.h): r15 ... rax, vector, error, then
 * what the CPU pushed. RSP is 16-byte aligned here (the CPU aligns it
 * before pushing 5 words; 2 + 15 pushes follow). */
isr_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    cld
    call isr_dispatch
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp
    iretq

/* uint64_t user_call(uint64_t (*fn)(uint64_t), uint64_t arg,
 *                    uint64_t user_rsp, uint64_t rflags)
 * Runs fn(arg) at CPL3 on the given stack; returns its result when fn
 * returns, through kcall(SYS_EXIT, result), which resumes at user_return
 * at CPL0. */
    .globl user_call, user_return, kcall, kcall_insn
user_call:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, user_kernel_rsp(%rip)
    pushq $USER_DS
    pushq %rdx
    pushq %rcx
    pushq $USER_CS
    leaq user_entry(%rip), %rax
    pushq %rax
    iretq
user_entry:
    movq %rdi, %rax
    movq %rsi, %rdi
    call *%rax
    movq %rax, %rsi
    xorl %edi, %edi                 /* SYS_EXIT */
    call kcall
    ud2

/* uint64_t kcall(uint64_t nr, uint64_t a0, uint64_t a1): the guests' own
 * system call from CPL3, through an exception: the #UD of the UD2 at
 * kcall_insn, which the handler (user.c) recognizes by its address, serves
 * (RAX = nr, RDI = a0, RSI = a1) and steps over. An exception because
 * that is what every engine delivers: KVM's PVM hypervisor turns a CPL3
 * "int 0x80" into #UD and does not take a CPL3 SYSCALL to CPL0 in a guest
 * that is not PVM-aware. "int 0x80" and SYSCALL themselves are tested by
 * the cpl3 guest. */
kcall:
    movq %rdi, %rax
    movq %rsi, %rdi
    movq %rdx, %rsi
kcall_insn:
    ud2
    ret

user_return:
    movq user_kernel_rsp(%rip), %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

/* SYSCALL entry (LSTAR). RCX = user RIP, R11 = user RFLAGS, RSP = the user
 * stack; SFMASK cleared IF, so nothing interrupts the stack switch.
 * Calls syscall_dispatch(a0 = rdi, a1 = rsi, a2 = rdx, nr = rax,
 * user_rip, user_rflags) and returns with SYSRET (or IRETQ when
 * syscall_use_iret is set). Every register but RAX, RCX and R11 is kept. */
    .globl syscall_entry
syscall_entry:
    /* Check the CPL first: where SYSCALL did not reach CPL0 (KVM's PVM
     * hypervisor), the UD2 at syscall_cpl3_insn reports it to the #UD
     * handler, which returns to the caller (user.c). */
    pushq %rax
    movl %cs, %eax
    testb $3, %al
    popq %rax
    jz 4f
    .globl syscall_cpl3_insn
syscall_cpl3_insn:
    ud2
4:  movq %rsp, syscall_user_rsp(%rip)
    movq syscall_kernel_rsp(%rip), %rsp
    pushq syscall_user_rsp(%rip)
    pushq %rcx
    pushq %r11
    pushq %rdi
    pushq %rsi
    pushq %rdx
    pushq %r8
    pushq %r9
    pushq %r10
    subq $8, %rsp
    movq %rcx, %r8
    movq %r11, %r9
    movq %rax, %rcx
    call syscall_dispatch
    addq $8, %rsp
    popq %r10
    popq %r9
    popq %r8
    popq %rdx
    popq %rsi
    popq %rdi
    cmpb $0, syscall_use_iret(%rip)
    jne 3f
    popq %r11
    popq %rcx
    popq %rsp
    sysretq
3:  popq %r11
    popq %rcx
    popq syscall_user_rsp(%rip)
    /* The same return through IRETQ: SS, RSP, RFLAGS, CS, RIP. */
    pushq $USER_DS
    pushq syscall_user_rsp(%rip)
    pushq %r11
    pushq $USER_CS
    pushq %rcx
    iretq

/* ---- AP trampoline: copied to AP_TRAMPOLINE (below 1 MiB); the SIPI
 * starts it in real mode with CS = vector << 8, IP = 0. It goes straight
 * to long mode (PAE, CR3, EFER.LME, then PE and PG together) and far-jumps
 * to ap_start64 through the main GDT. ---- */
    .code16
    .globl ap_tramp_start, ap_tramp_end, ap_tramp_efer
ap_tramp_start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    lgdtl (ap_tramp_gdt - ap_tramp_start)
    movl %cr4, %eax
    orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    movl %eax, %cr4
    movl $pml4, %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    movl (ap_tramp_efer - ap_tramp_start), %eax
    xorl %edx, %edx
    wrmsr
    movl %cr0, %eax
    andl $~(CR0_EM | CR0_NW | CR0_CD), %eax
    orl $(CR0_PG | CR0_PE | CR0_MP | CR0_NE | CR0_WP), %eax
    movl %eax, %cr0
    ljmpl $KERNEL_CS, $ap_start64
    .balign 4
ap_tramp_gdt:
    .word gdt_end - gdt - 1
    .long gdt
ap_tramp_efer:
    .long 0                         /* the BSP's EFER, less LMA */
ap_tramp_end:

    .code64
ap_start64:
    movl $KERNEL_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl $1, %eax
    lock xaddl %eax, ap_next_index(%rip)
    cmpl $MAX_APS, %eax
    jae 5f
    movl %eax, %edi
    leal 1(%rax), %edx
    shll $12, %edx                  /* AP_STACK_SIZE */
    leaq ap_stacks(%rip), %rsp
    addq %rdx, %rsp
    xorl %ebp, %ebp
    call ap_main
5:  cli
    hlt
    jmp 5b

/* ---- data ---- */
    .data
    .balign 16
    .globl gdt, gdt_end, gdt_tss, gdt_desc
gdt:
    .quad 0
    .quad 0x00cf9b000000ffff        /* 0x08 kernel code, 32-bit */
    .quad 0x00af9b000000ffff        /* 0x10 kernel code, 64-bit */
    .quad 0x00cf93000000ffff        /* 0x18 kernel data */
    .quad 0x00cffb000000ffff        /* 0x23 user code, 32-bit (SYSRET base) */
    .quad 0x00cff3000000ffff        /* 0x2b user data */
    .quad 0x00affb000000ffff        /* 0x33 user code, 64-bit */
    .quad 0                         /* 0x38 */
gdt_tss:
    .quad 0, 0                      /* 0x40 TSS, filled in by desc.c */
gdt_end:
    .balign 8
    .word 0, 0, 0
gdt_desc:
    .word gdt_end - gdt - 1
    .quad gdt

    .balign 8
    .globl boot_magic, boot_info, entry_cr0, user_kernel_rsp, syscall_kernel_rsp
    .globl syscall_user_rsp, syscall_use_iret, ap_next_index
boot_magic: .quad 0
boot_info: .quad 0
entry_cr0: .quad 0
user_kernel_rsp: .quad 0
syscall_kernel_rsp: .quad 0
syscall_user_rsp: .quad 0
ap_next_index: .long 0
syscall_use_iret: .byte 0

/* Page tables: the first 4 GiB identity mapped with 2 MiB pages, user
 * accessible (the guests run their own code at CPL3), the top GiB (MMIO:
 * IOAPIC, LAPIC) uncached. Two aliases check the page walk: 4 GiB maps
 * the first GiB again (PDPT entry 4), and so does 0xffffff8000000000
 * (PML4 entry 511). */
    .section .data.pagetables, "aw"
    .balign 4096
    .globl pml4, pdpt, pd0
pml4:
    .quad pdpt + 0x7
    .fill 510, 8, 0
    .quad pdpt + 0x7
pdpt:
    .quad pd0 + 0x7
    .quad pd0 + 0x1000 + 0x7
    .quad pd0 + 0x2000 + 0x7
    .quad pd0 + 0x3000 + 0x7
    .quad pd0 + 0x7
    .fill 507, 8, 0
pd0:
    .set pdi, 0
    .rept 1536
    .quad (pdi << 21) | PG_FLAGS
    .set pdi, pdi + 1
    .endr
    .rept 512
    .quad (pdi << 21) | PG_FLAGS_MMIO
    .set pdi, pdi + 1
    .endr

    .bss
    .balign 4096
    .globl boot_stack, ap_stacks
boot_stack: .skip STACK_SIZE
ap_stacks: .skip AP_STACK_SIZE * MAX_APS
