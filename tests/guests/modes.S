/* modes: the code that runs in each mode (see modes.c). Each part checks
 * its own results and prints them on COM1 from the mode it runs in
 * (PASS:/FAIL: lines), with a small output routine per mode; the C part
 * adds up the tallies. Intel SDM Vol. 3A: 10.8.5 (IA-32e mode), 10.9 (mode
 * switching), 20.1 (real-address mode), 5.2 and 21.1 (16-bit code
 * segments in protected mode); Vol. 2: 2.1.5 (16-bit addressing forms),
 * 2.2.1.6 (RIP-relative addressing). */
#include "lib/legacy.h"

#define KERNEL_CS32 0x08
#define KERNEL_CS 0x10
#define KERNEL_DS 0x18
#define USER_CS32 0x23
#define USER_DS 0x2b
#define SEL_CODE16 0x60
#define SEL_DATA16 0x68
#define SEL_DATA30 0x70
#define RMBASE 0x20000
#define RMSEG 0x2000
#define STKSEG 0x3000
#define DISP_D 0x1000000

/* modes.c's flags for the legacy part */
#define MF_IRET 1
#define MF_PM16 2
#define MF_REAL 4

#define O(x) ((x)-rm_blob_start)

/* ---- 32-bit checks (CPL0: compatibility or legacy mode, flat DS) ---- */
.macro CHK32 name, expected
    movl $\expected, %edx
    movl $9f, %esi
    call p32_check
    jmp 8f
9:  .asciz "\name"
8:
.endm
/* EAX against EDX */
.macro CHK32R name
    movl $9f, %esi
    call p32_check
    jmp 8f
9:  .asciz "\name"
8:
.endm

    .text
    .code64
/* void modes_compat0(void): a far call through an m16:32 pointer to
 * compatibility mode at CPL0, and a far return back. */
    .globl modes_compat0
modes_compat0:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    /* DS and ES may be null (after an IRET to CPL3): not usable in 32-bit
     * code. */
    movl $KERNEL_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    lcall *m_far_compat0(%rip)
    /* and once more, in by LRETQ and out by a far jump */
    pushq $KERNEL_CS32
    leaq compat0_again(%rip), %rax
    pushq %rax
    lretq
compat0_back:
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

/* uint64_t modes_disp_probe(void): mov disp32, %eax (8b 05 disp32); ret.
 * 64-bit mode reads RIP + 6 + DISP_D; 32-bit code reads DISP_D. */
    .globl modes_disp_probe
modes_disp_probe:
    .byte 0x8b, 0x05
    .long DISP_D
    ret

/* void modes_compat3(struct compat3_result *r): IRETQ to compatibility
 * mode at CPL3 (CS 0x23); the code there stores its results and ends with
 * a UD2 at modes_compat3_exit, which modes.c's #UD handler turns into a
 * return to modes_compat3_back at CPL0. */
    .globl modes_compat3, modes_compat3_exit, modes_compat3_back, m_rsp64
modes_compat3:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, m_rsp64(%rip)
    movl %edi, m_res(%rip)
    pushq $USER_DS
    leaq m_ustack_top(%rip), %rax
    pushq %rax
    pushq $2
    pushq $USER_CS32
    leaq compat3_entry(%rip), %rax
    pushq %rax
    iretq
modes_compat3_back:
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
compat0_entry:
    /* The far call pushed CS (0x10) and EIP as 32-bit values. */
    movl 4(%esp), %eax
    andl $0xffff, %eax
    CHK32 compat/far-call-pushed-cs, KERNEL_CS
    movw %cs, %ax
    movzwl %ax, %eax
    CHK32 compat/cs, KERNEL_CS32
    movl $5, %eax
    .byte 0x48                      /* dec %eax here, REX.W in 64-bit mode */
    CHK32 compat/opcode-48-is-dec, 4
    movl %esp, %ecx
    pushl $1
    movl %ecx, %eax
    subl %esp, %eax
    addl $4, %esp
    CHK32 compat/push-is-4-bytes, 4
    movl %esp, %ecx
    call 1f
1:  movl %ecx, %eax
    subl %esp, %eax
    addl $4, %esp
    CHK32 compat/call-pushes-4-bytes, 4
    movl $0xc0000080, %ecx
    rdmsr
    andl $0x500, %eax
    CHK32 compat/efer-lme-lma-set, 0x500
    /* Segment bases apply in compatibility mode (ES base 0x30000). */
    movw $SEL_DATA30, %ax
    movw %ax, %es
    movl %es:0x100, %eax
    movw $KERNEL_DS, %cx
    movw %cx, %es
    CHK32 compat/es-base-applies, 0xe5ba5e30
    /* ModRM mod 00 r/m 101 is disp32, not RIP-relative. */
    call modes_disp_probe
    CHK32 compat/modrm-disp32-absolute, 0xab5d1590
    /* 32-bit arithmetic keeps the upper half untouched (there is none). */
    movl $0xffffffff, %eax
    incl %eax
    CHK32 compat/32-bit-wrap, 0
    movl $m_compat_msg, %esi
    call p32_puts
    lret

compat0_again:
    movw %cs, %ax
    movzwl %ax, %eax
    CHK32 compat/entered-by-lretq, KERNEL_CS32
    ljmp $KERNEL_CS, $compat0_back

/* CPL3: results at m_res: CS, dec, push size, SS, disp32 probe, DS on
 * entry (IRET to CPL3 nulls a DPL 0 data segment register). */
compat3_entry:
    movw %ds, %cx
    movl $USER_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    movl m_res, %ebx
    movzwl %cx, %ecx
    movl %ecx, 20(%ebx)
    movw %cs, %ax
    movzwl %ax, %eax
    movl %eax, 0(%ebx)
    movl $5, %eax
    .byte 0x48
    movl %eax, 4(%ebx)
    movl %esp, %ecx
    pushl $1
    subl %esp, %ecx
    addl $4, %esp
    movl %ecx, 8(%ebx)
    movw %ss, %ax
    movzwl %ax, %eax
    movl %eax, 12(%ebx)
    call modes_disp_probe
    movl %eax, 16(%ebx)
    movl $0xffffffff, %eax
    addl $1, %eax
    setc %al
    movzbl %al, %eax
    movl %eax, 24(%ebx)
modes_compat3_exit:
    ud2

/* ---- legacy protected mode (through legacy_call), then 16-bit
 * protected mode and real mode ---- */
/* uint32_t modes_legacy32(uint32_t flags) */
    .globl modes_legacy32
modes_legacy32:
    pushl %ebx
    pushl %esi
    pushl %edi
    pushl %ebp
    movl 20(%esp), %ebx             /* flags */
    movl $m_legacy_msg, %esi
    call p32_puts
    movl %cr0, %eax
    andl $0x80000001, %eax
    CHK32 legacy/cr0-pe-set-pg-clear, 1
    movl $0xc0000080, %ecx
    rdmsr
    andl $0x500, %eax
    CHK32 legacy/efer-lme-lma-clear, 0
    movl $5, %eax
    .byte 0x48
    CHK32 legacy/opcode-48-is-dec, 4
    movl %esp, %ecx
    pushw $1
    movl %ecx, %eax
    subl %esp, %eax
    addl $2, %esp
    CHK32 legacy/pushw-is-2-bytes, 2

    /* Exceptions through the 32-bit IDT (lib/legacy.S). */
    movl legacy_fault + LF_COUNT, %edi
    xorl %edx, %edx
    movl $1, %eax
    xorl %ecx, %ecx
    LEGACY_FAULT divl %ecx
    movl legacy_fault + LF_COUNT, %eax
    subl %edi, %eax
    CHK32 legacy/de-raised, 1
    movl legacy_fault + LF_VECTOR, %eax
    CHK32 legacy/de-vector, 0
    movl legacy_fault + LF_EIP, %eax
    movl legacy_fault + LF_INSN, %edx
    CHK32R legacy/de-eip-is-the-div
    LEGACY_FAULT ud2
    movl legacy_fault + LF_VECTOR, %eax
    CHK32 legacy/ud-vector, 6
    movl legacy_fault + LF_EIP, %eax
    movl legacy_fault + LF_INSN, %edx
    CHK32R legacy/ud-eip
    movl $0x200, %eax               /* beyond the GDT limit (64 entries) */
    LEGACY_FAULT movw %ax, %ds
    movl legacy_fault + LF_VECTOR, %eax
    CHK32 legacy/bad-selector-gp-vector, 13
    movl legacy_fault + LF_ERROR, %eax
    CHK32 legacy/bad-selector-gp-error, 0x200
    testl $MF_IRET, %ebx
    jz 71f
    movl $1, legacy_use_iret
    movl legacy_fault + LF_COUNT, %edi
    LEGACY_FAULT ud2
    movl $0, legacy_use_iret
    movl legacy_fault + LF_COUNT, %eax
    subl %edi, %eax
    CHK32 legacy/iret-from-handler, 1
    movw %cs, %ax
    movzwl %ax, %eax
    CHK32 legacy/iret-restored-cs, KERNEL_CS32
71:
    testl $MF_PM16, %ebx
    jz 72f
    lcall $SEL_CODE16, $O(pm16_entry)
    movw %cs, %ax
    movzwl %ax, %eax
    CHK32 legacy/back-from-16-bit-code, KERNEL_CS32
72:
    testl $MF_REAL, %ebx
    jz 73f
    call modes_real
    movl %cr0, %eax
    andl $0x80000001, %eax
    CHK32 legacy/back-from-real-mode-cr0, 1
    movw %cs, %ax
    movzwl %ax, %eax
    CHK32 legacy/back-from-real-mode-cs, KERNEL_CS32
73:
    movl $0x600d, %eax
    popl %ebp
    popl %edi
    popl %esi
    popl %ebx
    ret

/* Protected mode -> real mode: a 16-bit code segment (base RMBASE), 16-bit
 * data segments (limit 0xffff), CR0.PE off, a far jump; and back. FS keeps
 * its flat 4 GiB descriptor (unreal mode). */
modes_real:
    pushal
    movl %esp, m_esp32
    sidt m_idt32
    movl $KERNEL_DS, %eax
    movw %ax, %fs
    ljmp $SEL_CODE16, $O(rm_pm16_tramp)
modes_real_back:
    movl $KERNEL_DS, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    lidt m_idt32
    movl m_esp32, %esp
    popal
    ret

/* p32_puts: ESI = string. p32_hex: EAX as 8 hex digits. p32_putc: AL. */
p32_putc:
    pushl %edx
    pushl %ecx
    pushl %eax
    movl $100000, %ecx
    movw $0x3fd, %dx
1:  inb %dx, %al
    testb $0x20, %al
    jnz 2f
    decl %ecx
    jnz 1b
2:  popl %eax
    movw $0x3f8, %dx
    outb %al, %dx
    popl %ecx
    popl %edx
    ret
p32_puts:
    pushl %esi
    pushl %eax
1:  movb (%esi), %al
    testb %al, %al
    jz 2f
    call p32_putc
    incl %esi
    jmp 1b
2:  popl %eax
    popl %esi
    ret
p32_hex:
    pushl %ecx
    pushl %eax
    pushl %ebx
    movl %eax, %ebx
    movl $8, %ecx
1:  roll $4, %ebx
    movl %ebx, %eax
    andl $15, %eax
    movb m_hexdigits(%eax), %al
    call p32_putc
    decl %ecx
    jnz 1b
    popl %ebx
    popl %eax
    popl %ecx
    ret
/* p32_check: EAX = got, EDX = expected, ESI = the check's name. */
p32_check:
    pushal
    movl %esi, %ebx
    cmpl %edx, %eax
    jne 1f
    movl $m_pass, %esi
    call p32_puts
    movl %ebx, %esi
    call p32_puts
    incl m32_pass
    jmp 2f
1:  movl $m_fail, %esi
    call p32_puts
    movl %ebx, %esi
    call p32_puts
    movl $m_got, %esi
    call p32_puts
    call p32_hex
    movl $m_expected, %esi
    call p32_puts
    movl %edx, %eax
    call p32_hex
    incl m32_fail
2:  movb $10, %al
    call p32_putc
    popal
    ret

/* ==== the 16-bit blob: copied to RMBASE; runs in real mode (CS 0x2000)
 * and in 16-bit protected mode (CS SEL_CODE16, base RMBASE). Its data is
 * addressed through DS = 0x2000 or SEL_DATA16, both based at RMBASE. ==== */
    .code16
.macro CHK16 name, expected
    movl $\expected, %edx
    movw $O(9f), %si
    call rm_check
    jmp 8f
9:  .asciz "\name"
8:
.endm
/* After RMF: one exception with this vector. tcg=1: none at all is a
 * known QEMU 7.2 TCG bug (it checks no segment limits), a SKIP with
 * tcgbugs=1. */
.macro FCHK16 name, vector, tcg
    movzwl O(rm_f_count), %eax
    subw O(rm_f_count0), %ax
    jnz 4f
    .if \tcg
    cmpw $0, O(rm_tcgbugs)
    je 3f
    movw $O(6f), %si
    call rm_skip_tcg
    jmp 7f
    .endif
3:  movl $0xffffffff, %eax          /* no exception */
    jmp 5f
4:  movzwl O(rm_f_vec), %eax
5:  movl $\vector, %edx
    movw $O(6f), %si
    call rm_check
    jmp 7f
6:  .asciz "\name"
7:
.endm
.macro CHK16R name
    movw $O(9f), %si
    call rm_check
    jmp 8f
9:  .asciz "\name"
8:
.endm
/* An expected fault in real mode (handled through the IVT). */
.macro RMF insn:vararg
    pushw %cs:O(rm_f_count)
    popw %cs:O(rm_f_count0)
    movw $O(1f), %cs:O(rm_f_fixup)
    movw $O(2f), %cs:O(rm_f_insn)
    movw $1, %cs:O(rm_f_armed)
2:  \insn
1:  movw $0, %cs:O(rm_f_armed)
.endm

    .balign 16
    .globl rm_blob_start, rm_blob_end, rm_pass, rm_fail, rm_skip, rm_tcgbugs, rm_pvm
rm_blob_start:

/* From 32-bit protected mode: load 16-bit data segments, clear PE, far
 * jump to real mode. */
rm_pm16_tramp:
    movw $SEL_DATA16, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %gs
    movl %cr0, %eax
    andl $~1, %eax
    movl %eax, %cr0
    ljmp $RMSEG, $O(rm_start)
rm_start:
    movw $RMSEG, %ax
    movw %ax, %ds
    movw %ax, %es
    movw $STKSEG, %ax
    movw %ax, %ss
    movw $0xfff0, %sp
    /* The IVT: every vector to rm_unexpected, then the ones we use. */
    xorw %bx, %bx
1:  movw $O(rm_unexpected), O(rm_ivt)(%bx)
    movw $RMSEG, O(rm_ivt) + 2(%bx)
    addw $4, %bx
    cmpw $1024, %bx
    jb 1b
    movw $O(rm_v0), O(rm_ivt) + 0 * 4
    movw $O(rm_v6), O(rm_ivt) + 6 * 4
    movw $O(rm_v12), O(rm_ivt) + 12 * 4
    movw $O(rm_v13), O(rm_ivt) + 13 * 4
    movw $O(rm_int42), O(rm_ivt) + 0x42 * 4
    lidt O(rm_idtr)
    call rm_tests
rm_exit:
    cli
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $KERNEL_CS32, $modes_real_back

rm_tests:
    movw $O(rm_hello), %si
    call rm_puts
    movl %cr0, %eax
    andl $1, %eax
    CHK16 real/cr0-pe-clear, 0
    movw %cs, %ax
    movzwl %ax, %eax
    CHK16 real/cs-after-far-jump, RMSEG
    /* Segment arithmetic: linear = selector * 16 + offset. */
    movw $0x2946, %ax
    movw %ax, %es
    movl $0x5e6a0001, %es:0x4       /* linear 0x29464 */
    movl 0x9464, %eax               /* DS 0x2000: linear 0x29464 */
    CHK16 real/segment-base-is-selector-times-16, 0x5e6a0001
    movw %es, %ax
    movzwl %ax, %eax
    CHK16 real/es-reads-back, 0x2946
    movw $RMSEG, %ax
    movw %ax, %es
    /* 16-bit addressing forms; DS 0x2000, SS 0x3000: BP forms use SS. */
    movw $0x1111, %ds:0x8500
    movw $0x2222, %ss:0x8500
    movw $0x3333, %ds:0x8600
    movw $0x4444, %ss:0x8600
    movw $0x8400, %bx
    movw $0x100, %si
    movw $0x200, %di
    movw $0x8400, %bp
    movzwl (%bx,%si), %eax
    CHK16 real/addr-bx-si-uses-ds, 0x1111
    movzwl (%bx,%di), %eax
    CHK16 real/addr-bx-di-uses-ds, 0x3333
    movw $0x100, %si                /* CHK16 changed SI */
    movzwl (%bp,%si), %eax
    CHK16 real/addr-bp-si-uses-ss, 0x2222
    movzwl (%bp,%di), %eax
    CHK16 real/addr-bp-di-uses-ss, 0x4444
    movzwl 0x100(%bp), %eax
    CHK16 real/addr-bp-disp16-uses-ss, 0x2222
    movw $0x84e0, %bp
    movzwl 0x20(%bp), %eax
    CHK16 real/addr-bp-disp8-uses-ss, 0x2222
    movw $0x8500, %si
    movzwl (%si), %eax
    CHK16 real/addr-si, 0x1111
    movw $0x8600, %di
    movzwl (%di), %eax
    CHK16 real/addr-di, 0x3333
    movw $0x8600, %bx
    movzwl (%bx), %eax
    CHK16 real/addr-bx, 0x3333
    movzwl 0x8500, %eax
    CHK16 real/addr-disp16, 0x1111
    movw $0x8400, %bp
    movw $0x100, %si
    movzwl %ds:(%bp,%si), %eax
    CHK16 real/addr-bp-si-ds-override, 0x1111
    movw $0xfff0, %bx
    movw $0x8510, %si
    movzwl (%bx,%si), %eax
    CHK16 real/addr-wraps-at-64k, 0x1111
    /* The operand-size prefix. */
    movl $0x12345678, %eax
    addl $0x11111111, %eax
    CHK16 real/operand-size-prefix, 0x23456789
    movl $0x1ffff, %eax
    incw %ax
    CHK16 real/16-bit-operand-wraps, 0x10000
    /* Unreal mode: FS kept its 4 GiB limit and base 0 from protected
     * mode. */
    movl $m_unreal_tag, %ebx
    movl %fs:(%ebx), %eax
    CHK16 real/unreal-fs-keeps-4g-limit, 0x0e2ea1f5

    /* INT n through the IVT (IDTR base RMBASE + rm_ivt). */
    sti
    int $0x42
rm_int42_ret:
    cli
    movzwl O(rm_int_count), %eax
    CHK16 real/int-n-handler-ran, 1
    movzwl O(rm_int_ip), %eax
    CHK16 real/int-n-pushed-ip, O(rm_int42_ret)
    movzwl O(rm_int_cs), %eax
    CHK16 real/int-n-pushed-cs, RMSEG
    movzwl O(rm_int_flags), %eax
    andl $0x200, %eax
    CHK16 real/int-n-pushed-flags-if, 0x200
    movzwl O(rm_int_inflags), %eax
    andl $0x300, %eax
    CHK16 real/int-n-clears-if-tf, 0

    /* Exceptions through the IVT: the saved IP is the faulting
     * instruction; no error code is pushed. */
    movb $0, %bl
    movw $1, %ax
    RMF divb %bl
    FCHK16 real/de-vector, 0, 0
    movzwl O(rm_f_ip), %eax
    movzwl O(rm_f_insn), %edx
    CHK16R real/de-ip-is-the-div
    movzwl O(rm_f_cs), %eax
    CHK16 real/de-pushed-cs, RMSEG
    /* KVM's instruction emulator cannot do UD2 in real mode (emulation
     * failure): left out under the PVM hypervisor. */
    cmpw $0, O(rm_pvm)
    jne 74f
    RMF ud2
    FCHK16 real/ud-vector, 6, 0
    movzwl O(rm_f_ip), %eax
    movzwl O(rm_f_insn), %edx
    CHK16R real/ud-ip
74:
    /* Beyond the 64 KiB limit: #GP for DS, #SS for SS. */
    movl $0x10000, %ebx
    RMF movw (%ebx), %ax
    FCHK16 real/ds-limit-gp, 13, 1
    movl $0xfffe, %ebx
    RMF movl (%ebx), %eax
    FCHK16 real/ds-limit-straddle-gp, 13, 1
    movl $0x10000, %ebp
    RMF movw (%ebp), %ax
    FCHK16 real/ss-limit-ss, 12, 1

    /* A far call to another selector:offset for the same code. */
    lcall $RMSEG - 0x10, $O(rm_far_target) + 0x100
    movzwl O(rm_far_cs), %eax
    CHK16 real/far-call-target-cs, 0x1ff0
    movzwl O(rm_far_ip), %eax
    CHK16 real/far-call-target-ip, O(rm_far_target)+0x100+3
    ret

rm_far_target:
    call 1f                         /* 3 bytes: the IP after it */
1:  popw %ds:O(rm_far_ip)
    movw %cs, %ds:O(rm_far_cs)
    lret

rm_int42:
    pushw %bp
    movw %sp, %bp
    pushw %ax
    incw %cs:O(rm_int_count)
    movw 2(%bp), %ax
    movw %ax, %cs:O(rm_int_ip)
    movw 4(%bp), %ax
    movw %ax, %cs:O(rm_int_cs)
    movw 6(%bp), %ax
    movw %ax, %cs:O(rm_int_flags)
    pushfw
    popw %ax
    movw %ax, %cs:O(rm_int_inflags)
    popw %ax
    popw %bp
    iret

rm_v0:
    pushw $0
    jmp rm_fault
rm_v6:
    pushw $6
    jmp rm_fault
rm_v12:
    pushw $12
    jmp rm_fault
rm_v13:
    pushw $13
    jmp rm_fault
/* Stack: vector, IP, CS, FLAGS. */
rm_fault:
    pushw %bp
    movw %sp, %bp
    pushw %ax
    movw 2(%bp), %ax
    movw %ax, %cs:O(rm_f_vec)
    movw 4(%bp), %ax
    movw %ax, %cs:O(rm_f_ip)
    movw 6(%bp), %ax
    movw %ax, %cs:O(rm_f_cs)
    incw %cs:O(rm_f_count)
    cmpw $0, %cs:O(rm_f_armed)
    je rm_unexpected
    movw $0, %cs:O(rm_f_armed)
    movw %cs:O(rm_f_fixup), %ax
    movw %ax, 4(%bp)
    popw %ax
    popw %bp
    addw $2, %sp
    iret
rm_unexpected:
    movw $RMSEG, %ax
    movw %ax, %ds
    movw $O(rm_unexp_msg), %si
    call rm_puts
    incw O(rm_fail)
    jmp rm_exit

/* rm_putc: AL; rm_puts: DS:SI; rm_hex: EAX; rm_check: EAX got, EDX
 * expected, SI name. */
rm_putc:
    pushw %dx
    pushl %ecx
    pushw %ax
    movl $100000, %ecx
    movw $0x3fd, %dx
1:  inb %dx, %al
    testb $0x20, %al
    jnz 2f
    decl %ecx
    jnz 1b
2:  popw %ax
    movw $0x3f8, %dx
    outb %al, %dx
    popl %ecx
    popw %dx
    ret
rm_puts:
    pushw %si
    pushw %ax
1:  movb (%si), %al
    testb %al, %al
    jz 2f
    call rm_putc
    incw %si
    jmp 1b
2:  popw %ax
    popw %si
    ret
rm_hex:
    pushl %ecx
    pushl %eax
    pushl %ebx
    movl %eax, %ebx
    movl $8, %ecx
1:  roll $4, %ebx
    movl %ebx, %eax
    andl $15, %eax
    movw %ax, %si
    movb O(rm_hexdigits)(%si), %al
    call rm_putc
    decl %ecx
    jnz 1b
    popl %ebx
    popl %eax
    popl %ecx
    ret
/* SI = the check's name: a SKIP line for a known QEMU 7.2 TCG bug. */
rm_skip_tcg:
    pushw %si
    movw $O(rm_s_skip), %si
    call rm_puts
    popw %si
    call rm_puts
    movw $O(rm_s_tcgbug), %si
    call rm_puts
    incw O(rm_skip)
    ret
rm_check:
    pushal
    movw %si, %bx
    cmpl %edx, %eax
    jne 1f
    movw $O(rm_s_pass), %si
    call rm_puts
    movw %bx, %si
    call rm_puts
    incw O(rm_pass)
    jmp 2f
1:  movw $O(rm_s_fail), %si
    call rm_puts
    movw %bx, %si
    call rm_puts
    movw $O(rm_s_got), %si
    call rm_puts
    call rm_hex
    movw $O(rm_s_expected), %si
    call rm_puts
    movl %edx, %eax
    call rm_hex
    incw O(rm_fail)
2:  movb $10, %al
    call rm_putc
    popal
    ret

/* 16-bit protected mode: called from 32-bit code with a far call (32-bit
 * return address, so it returns with a 32-bit far return). */
pm16_entry:
    pushal
    pushw %ds
    movw $SEL_DATA16, %ax
    movw %ax, %ds
    movw $O(pm16_hello), %si
    call rm_puts
    movw %cs, %ax
    movzwl %ax, %eax
    CHK16 pm16/cs, SEL_CODE16
    movl %esp, %ecx
    pushw %ax
    movl %ecx, %eax
    subl %esp, %eax
    popw %dx
    CHK16 pm16/push-is-2-bytes, 2
    movl %esp, %ecx
    pushl %eax
    movl %ecx, %eax
    subl %esp, %eax
    popl %edx
    CHK16 pm16/pushl-is-4-bytes, 4
    movl %esp, %ecx
    call 1f
1:  movl %ecx, %eax
    subl %esp, %eax
    popw %dx
    CHK16 pm16/call-pushes-2-bytes, 2
    movl $0x1ffff, %eax
    incw %ax
    CHK16 pm16/16-bit-operand-wraps, 0x10000
    movw $0x7777, 0x8700
    movw $0x8600, %bx
    movw $0x100, %si
    movzwl (%bx,%si), %eax
    CHK16 pm16/addr-bx-si, 0x7777
    movw $0xfff0, %bx
    movw $0x8710, %si
    movzwl (%bx,%si), %eax
    CHK16 pm16/addr-wraps-at-64k, 0x7777
    movl $0x10000, %ebx
    movw %ds, %ax
    movzwl %ax, %eax
    CHK16 pm16/ds, SEL_DATA16
    popw %ds
    popal
    lretl

rm_hexdigits: .ascii "0123456789abcdef"
rm_s_pass: .asciz "PASS: modes/"
rm_s_fail: .asciz "FAIL: modes/"
rm_s_skip: .asciz "SKIP: modes/"
rm_s_tcgbug: .asciz ": QEMU 7.2 TCG bug (tcgbugs=1): no segment limit checks\n"
rm_s_got: .asciz ": got 0x"
rm_s_expected: .asciz ", expected 0x"
rm_hello: .asciz "real mode: hello from CS 0x2000, SS 0x3000\n"
pm16_hello: .asciz "16-bit protected mode: hello\n"
rm_unexp_msg: .asciz "FAIL: modes/real/unexpected-interrupt-or-exception\n"
    .balign 4
rm_idtr: .word 0x3ff
    .long RMBASE + O(rm_ivt)
rm_pass: .word 0
rm_fail: .word 0
rm_skip: .word 0
rm_tcgbugs: .word 0
rm_pvm: .word 0
rm_int_count: .word 0
rm_int_ip: .word 0
rm_int_cs: .word 0
rm_int_flags: .word 0
rm_int_inflags: .word 0
rm_f_vec: .word 0
rm_f_ip: .word 0
rm_f_cs: .word 0
rm_f_count: .word 0
rm_f_count0: .word 0
rm_f_armed: .word 0
rm_f_fixup: .word 0
rm_f_insn: .word 0
rm_far_cs: .word 0
rm_far_ip: .word 0
    .balign 16
rm_ivt: .fill 256, 4, 0
rm_blob_end:

    .data
    .balign 8
    .globl m32_pass, m32_fail, m_unreal_tag
m_far_compat0: .long compat0_entry
    .word KERNEL_CS32
    .balign 8
m_rsp64: .quad 0
m_res: .long 0
m_esp32: .long 0
m32_pass: .long 0
m32_fail: .long 0
m_unreal_tag: .long 0x0e2ea1f5
    .balign 8
m_idt32: .word 0
    .long 0
m_hexdigits: .ascii "0123456789abcdef"
m_pass: .asciz "PASS: modes/"
m_fail: .asciz "FAIL: modes/"
m_got: .asciz ": got 0x"
m_expected: .asciz ", expected 0x"
m_compat_msg: .asciz "compatibility mode: hello from CS 0x08\n"
m_legacy_msg: .asciz "legacy protected mode: hello, paging off\n"

    .bss
    .balign 16
m_ustack: .skip 4096
m_ustack_top:
