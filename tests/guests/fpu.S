/* fpu: the x87 and SSE code (the guests' C is built with
 * -mgeneral-regs-only); see fpu.c. Intel SDM Vol. 1 chapters 8 (x87), 10
 * and 11 (SSE, MXCSR, FXSAVE), Vol. 3A 2.5 (CR0.TS/EM/MP/NE,
 * CR4.OSFXSR/OSXMMEXCPT), 6.15 (#NM, #MF, #XM). Every function takes its
 * output buffer in RDI (SysV) and is callable at CPL0 and CPL3. */

/* An expected exception (lib/desc.c's fault record; as FAULT_BEGIN/END). */
.macro FAULT insn:vararg
    leaq 1f(%rip), %r11
    movq %r11, fault_fixup(%rip)
    leaq 2f(%rip), %r11
    movq %r11, fault_insn(%rip)
    movl $1, fault_armed(%rip)
2:  \insn
1:  movl $0, fault_armed(%rip)
.endm

    .text
    .code64
/* void fpu_init_state(uint8_t *o): FNINIT; FCW (0), FSW (2), the FNSTENV
 * image (8, 28 bytes: the full tag word at 8 + 8). */
    .globl fpu_init_state
fpu_init_state:
    fninit
    fnstcw 0(%rdi)
    fnstsw 2(%rdi)
    fnstenv 8(%rdi)
    ret

/* void fpu_init_basic(uint8_t *o): FNINIT; FCW (0), FSW (2): what KVM's
 * instruction emulator has. */
    .globl fpu_init_basic
fpu_init_basic:
    fninit
    fnstcw 0(%rdi)
    fnstsw 2(%rdi)
    ret

/* void fpu_fxsave_basic(uint8_t *o): FNINIT, FXSAVE to o (its FCW copied
 * to o+514), an FXRSTOR of it with FCW 0x27f, FNSTCW to o+512. */
    .globl fpu_fxsave_basic
fpu_fxsave_basic:
    fninit
    fxsave (%rdi)
    movw (%rdi), %ax
    movw %ax, 514(%rdi)
    movw $0x27f, (%rdi)
    fxrstor (%rdi)
    fnstcw 512(%rdi)
    fninit
    ret

/* void fpu_third(uint8_t *o, uint64_t fcw, uint64_t negative): 1/3 (or
 * -1/3) under that control word: the 80-bit result at 0, FSW after the
 * division at 10. */
    .globl fpu_third
fpu_third:
    fninit
    movw %si, 16(%rdi)
    fldcw 16(%rdi)
    fld1
    testq %rdx, %rdx
    jz 1f
    fchs
1:  fidivl k_three(%rip)
    fnstsw 10(%rdi)
    fstpt 0(%rdi)
    fninit
    ret

/* void fpu_fist(int32_t *o, uint64_t fcw, const double *v): FISTP of *v
 * rounded under fcw. */
    .globl fpu_fist
fpu_fist:
    fninit
    movw %si, 4(%rdi)
    fldcw 4(%rdi)
    fldl (%rdx)
    fistpl 0(%rdi)
    fninit
    ret

/* void fpu_masked(uint8_t *o): masked exceptions: 1/0 (0, FSW 10), 0/0
 * (16, FSW 26), sqrt(-1) (32, FSW 42), stack underflow (FSW 48), stack
 * overflow (FSW 50), 2^16384 by FSCALE (56, FSW 66). */
    .globl fpu_masked
fpu_masked:
    fninit
    fld1
    fdivl k_zero(%rip)
    fnstsw 10(%rdi)
    fstpt 0(%rdi)
    fninit
    fldz
    fdivl k_zero(%rip)
    fnstsw 26(%rdi)
    fstpt 16(%rdi)
    fninit
    fld1
    fchs
    fsqrt
    fnstsw 42(%rdi)
    fstpt 32(%rdi)
    fninit
    fadd %st(1), %st
    fnstsw 48(%rdi)
    fninit
    .rept 9
    fld1
    .endr
    fnstsw 50(%rdi)
    fninit
    fildl k_16384(%rip)
    fld1
    fscale
    fnstsw 66(%rdi)
    fstpt 56(%rdi)
    fninit
    ret

/* void fpu_mf(uint64_t *o): 1/0 with ZM clear, then FWAIT: #MF.
 * o[0] FSW before the FWAIT, o[1] the fault's vector, o[2] its RIP,
 * o[3] the FWAIT's address, o[4] FIP from FXSAVE64, o[5] the FDIV's
 * address, o[6] faults. */
    .globl fpu_mf
fpu_mf:
    pushq %rbx
    movq last_fault(%rip), %rbx
    fninit
    movw $0x37b, 56(%rdi)
    fldcw 56(%rdi)
    fld1
    leaq 3f(%rip), %rax
    movq %rax, 40(%rdi)
3:  fdivl k_zero(%rip)
    fnstsw 0(%rdi)
    leaq fpu_fxbuf(%rip), %rax
    fxsave64 (%rax)
    movq 8(%rax), %rax
    movq %rax, 32(%rdi)
    FAULT fwait
    fnclex
    fninit
    movq last_fault + 8(%rip), %rax
    movq %rax, 8(%rdi)
    movq last_fault + 24(%rip), %rax
    movq %rax, 16(%rdi)
    movq fault_insn(%rip), %rax
    movq %rax, 24(%rdi)
    movq last_fault(%rip), %rax
    subq %rbx, %rax
    movq %rax, 48(%rdi)
    popq %rbx
    ret

/* void fpu_sse_masked(uint32_t *o): masked SSE: 1/0 (o[0]), 0/0 (o[1]),
 * sqrt(-1) (o[2]), 1/3 (o[3]), MXCSR after each (o[4..7]). */
    .globl fpu_sse_masked
fpu_sse_masked:
    movl $0x1f80, 32(%rdi)
    ldmxcsr 32(%rdi)
    movss k_one(%rip), %xmm0
    divss k_zerof(%rip), %xmm0
    movss %xmm0, 0(%rdi)
    stmxcsr 16(%rdi)
    movl $0x1f80, 32(%rdi)
    ldmxcsr 32(%rdi)
    xorps %xmm0, %xmm0
    divss k_zerof(%rip), %xmm0
    movss %xmm0, 4(%rdi)
    stmxcsr 20(%rdi)
    movl $0x1f80, 32(%rdi)
    ldmxcsr 32(%rdi)
    sqrtss k_minus_one(%rip), %xmm0
    movss %xmm0, 8(%rdi)
    stmxcsr 24(%rdi)
    movl $0x1f80, 32(%rdi)
    ldmxcsr 32(%rdi)
    movss k_one(%rip), %xmm0
    divss k_threef(%rip), %xmm0
    movss %xmm0, 12(%rdi)
    stmxcsr 28(%rdi)
    movl $0x1f80, 32(%rdi)
    ldmxcsr 32(%rdi)
    ret

/* void fpu_xm(uint64_t *o): 1/0 in SSE with ZM clear: #XM (or #UD with
 * CR4.OSXMMEXCPT clear). o[0] faults, o[1] vector, o[2] RIP, o[3] the
 * DIVSS's address, o[4] MXCSR after. */
    .globl fpu_xm
fpu_xm:
    pushq %rbx
    movq last_fault(%rip), %rbx
    movl $0x1d80, 40(%rdi)
    ldmxcsr 40(%rdi)
    movss k_one(%rip), %xmm0
    FAULT divss k_zerof(%rip), %xmm0
    stmxcsr 32(%rdi)
    movl $0x1f80, 40(%rdi)
    ldmxcsr 40(%rdi)
    movq last_fault(%rip), %rax
    subq %rbx, %rax
    movq %rax, 0(%rdi)
    movq last_fault + 8(%rip), %rax
    movq %rax, 8(%rdi)
    movq last_fault + 24(%rip), %rax
    movq %rax, 16(%rdi)
    movq fault_insn(%rip), %rax
    movq %rax, 24(%rdi)
    popq %rbx
    ret

/* void fpu_nm(uint64_t *o): with CR0.TS (or EM) set by the caller: FLD1,
 * MOVAPS, FWAIT, FNINIT, each under FAULT; o[2i] faults, o[2i+1] vector. */
    .globl fpu_nm
fpu_nm:
    pushq %rbx
    movq last_fault(%rip), %rbx
    FAULT fld1
    call 9f
    movq %rax, 0(%rdi)
    movq %rdx, 8(%rdi)
    FAULT movaps k_vec(%rip), %xmm1
    call 9f
    movq %rax, 16(%rdi)
    movq %rdx, 24(%rdi)
    FAULT fwait
    call 9f
    movq %rax, 32(%rdi)
    movq %rdx, 40(%rdi)
    FAULT fninit
    call 9f
    movq %rax, 48(%rdi)
    movq %rdx, 56(%rdi)
    popq %rbx
    ret
/* RAX = faults since RBX (and RBX updated), RDX = the last vector */
9:  movq last_fault(%rip), %rax
    subq %rbx, %rax
    movq last_fault(%rip), %rbx
    movq last_fault + 8(%rip), %rdx
    testq %rax, %rax
    jnz 8f
    movq $-1, %rdx
8:  ret

/* void fpu_fxsave(uint8_t *o): loads known x87 and SSE state, FXSAVE to
 * o[0..511], scrambles it, FXRSTOR, FXSAVE again to o[512..1023], and
 * reads ST0 (o+1024, 10 bytes) and XMM7 (o+1040, 16 bytes) back. */
    .globl fpu_fxsave
fpu_fxsave:
    fninit
    movw $0x27f, 1056(%rdi)
    fldcw 1056(%rdi)
    fld1
    fldpi
    fldl2e
    movl $0x7f80, 1060(%rdi)
    ldmxcsr 1060(%rdi)
    leaq k_vec(%rip), %rax
    movdqu 0(%rax), %xmm0
    movdqu 16(%rax), %xmm1
    movdqu 32(%rax), %xmm2
    movdqu 48(%rax), %xmm3
    movdqu 64(%rax), %xmm4
    movdqu 80(%rax), %xmm5
    movdqu 96(%rax), %xmm6
    movdqu 112(%rax), %xmm7
    movdqu 0(%rax), %xmm8
    movdqu 16(%rax), %xmm9
    movdqu 32(%rax), %xmm10
    movdqu 48(%rax), %xmm11
    movdqu 64(%rax), %xmm12
    movdqu 80(%rax), %xmm13
    movdqu 96(%rax), %xmm14
    movdqu 112(%rax), %xmm15
    fxsave (%rdi)
    fninit
    movl $0x1f80, 1060(%rdi)
    ldmxcsr 1060(%rdi)
    pxor %xmm0, %xmm0
    pxor %xmm1, %xmm1
    pxor %xmm2, %xmm2
    pxor %xmm3, %xmm3
    pxor %xmm4, %xmm4
    pxor %xmm5, %xmm5
    pxor %xmm6, %xmm6
    pxor %xmm7, %xmm7
    pxor %xmm8, %xmm8
    pxor %xmm15, %xmm15
    fxrstor (%rdi)
    fxsave 512(%rdi)
    fstpt 1024(%rdi)
    movdqu %xmm7, 1040(%rdi)
    fninit
    movl $0x1f80, 1060(%rdi)
    ldmxcsr 1060(%rdi)
    ret

/* void fpu_daz_ftz(uint32_t *o): o[0] denormal + 0 with DAZ, o[1]
 * without; o[2] 1e-30 * 1e-10 with FTZ, o[3] without; o[4..7] MXCSR
 * after each. */
    .globl fpu_daz_ftz
fpu_daz_ftz:
    movl $0x1fc0, 32(%rdi)          /* DAZ */
    ldmxcsr 32(%rdi)
    movss k_denormal(%rip), %xmm0
    addss k_zerof(%rip), %xmm0
    movss %xmm0, 0(%rdi)
    stmxcsr 16(%rdi)
    movl $0x1f80, 32(%rdi)
    ldmxcsr 32(%rdi)
    movss k_denormal(%rip), %xmm0
    addss k_zerof(%rip), %xmm0
    movss %xmm0, 4(%rdi)
    stmxcsr 20(%rdi)
    movl $0x9f80, 32(%rdi)          /* FTZ */
    ldmxcsr 32(%rdi)
    movss k_tiny1(%rip), %xmm0
    mulss k_tiny2(%rip), %xmm0
    movss %xmm0, 8(%rdi)
    stmxcsr 24(%rdi)
    movl $0x1f80, 32(%rdi)
    ldmxcsr 32(%rdi)
    movss k_tiny1(%rip), %xmm0
    mulss k_tiny2(%rip), %xmm0
    movss %xmm0, 12(%rdi)
    stmxcsr 28(%rdi)
    movl $0x1f80, 32(%rdi)
    ldmxcsr 32(%rdi)
    ret

    .section .rodata
    .balign 16
k_vec:
    .quad 0x0011223344556677, 0x8899aabbccddeeff
    .quad 0x0102030405060708, 0x1112131415161718
    .quad 0x2122232425262728, 0x3132333435363738
    .quad 0x4142434445464748, 0x5152535455565758
    .quad 0x6162636465666768, 0x7172737475767778
    .quad 0x8182838485868788, 0x9192939495969798
    .quad 0xa1a2a3a4a5a6a7a8, 0xb1b2b3b4b5b6b7b8
    .quad 0xc1c2c3c4c5c6c7c8, 0xd1d2d3d4d5d6d7d8
k_zero: .double 0.0
k_three: .long 3
k_16384: .long 16384
k_one: .float 1.0
k_zerof: .float 0.0
k_threef: .float 3.0
k_minus_one: .float -1.0
k_denormal: .long 0x00000001
k_tiny1: .float 1e-30
k_tiny2: .float 1e-10

    .bss
    .balign 16
fpu_fxbuf: .skip 512
