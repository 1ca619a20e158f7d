/* emubench's timed loops (bench/README.md, "bench/emu.sh"). Each is
 * written here, not in C, so that the instructions per iteration are fixed
 * whatever the compiler does: the count beside each loop is what emubench
 * multiplies by the iterations. Setup and return (a few dozen instructions
 * per call) are not counted. Every loop returns a checksum of its work, so
 * that two VMMs can be seen to have computed the same thing.
 * Instruction encodings and flags: Intel SDM Vol. 2. */

    .text

/* uint64_t emubench_int(uint64_t iters, uint64_t *buf)
 * A CPU-bound integer mix over 8 words at buf (in L1 on real hardware):
 * a load, ALU operations, a multiply, a shift, a rotate, an LEA, a store, a
 * compare feeding a carry, and the loop branch. 16 instructions. iters >= 1. */
    .globl emubench_int
emubench_int:
    pushq %rbx
    pushq %r12
    movq %rdi, %rcx
    movabsq $0x243f6a8885a308d3, %rax
    movabsq $0x13198a2e03707344, %rbx
    movabsq $0x9e3779b97f4a7c15, %r11
    xorl %r9d, %r9d
    xorl %r10d, %r10d
    xorl %r12d, %r12d
    .balign 16
1:  movq (%rsi,%r10,8), %rdx            /*  1 load */
    addq %rdx, %rax                     /*  2 */
    imulq %r11, %rax                    /*  3 */
    rorq $13, %rax                      /*  4 */
    xorq %rax, %rbx                     /*  5 */
    leaq 7(%rbx,%rax,2), %r8            /*  6 */
    subq %r8, %r9                       /*  7 */
    shlq $5, %r8                        /*  8 */
    andq %r9, %r8                       /*  9 */
    movq %r8, (%rsi,%r10,8)             /* 10 store: read again 8 iterations on */
    incq %r10                           /* 11 */
    andq $7, %r10                       /* 12 */
    cmpq %rbx, %r9                      /* 13 */
    adcq $0, %r12                       /* 14 */
    decq %rcx                           /* 15 */
    jnz 1b                              /* 16 */
    xorq %rbx, %rax
    xorq %r9, %rax
    shlq $40, %r12
    xorq %r12, %rax
    popq %r12
    popq %rbx
    ret

/* uint64_t emubench_mem(uint64_t iters, uint8_t *base, uint64_t mask,
 *                       uint64_t stride)
 * The same mix as emubench_int, but its load and store go to base + off,
 * and off advances by stride (mask + 1 a power of two, stride a multiple
 * of 8 a little over 4 KiB) modulo mask + 1: every iteration touches a
 * different 4 KiB page of the working set, so the (software) TLB matters.
 * 16 instructions. iters >= 1. */
    .globl emubench_mem
emubench_mem:
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    movq %rdx, %r14
    movq %rcx, %r13
    movq %rdi, %rcx
    movabsq $0x243f6a8885a308d3, %rax
    movabsq $0x13198a2e03707344, %rbx
    movabsq $0x9e3779b97f4a7c15, %r11
    xorl %r9d, %r9d
    xorl %r10d, %r10d
    xorl %r12d, %r12d
    .balign 16
1:  movq (%rsi,%r10), %rdx              /*  1 load */
    addq %rdx, %rax                     /*  2 */
    imulq %r11, %rax                    /*  3 */
    rorq $13, %rax                      /*  4 */
    xorq %rax, %rbx                     /*  5 */
    leaq 7(%rbx,%rax,2), %r8            /*  6 */
    subq %r8, %r9                       /*  7 */
    shlq $5, %r8                        /*  8 */
    andq %r9, %r8                       /*  9 */
    movq %r8, (%rsi,%r10)               /* 10 store, same word */
    addq %r13, %r10                     /* 11 next page */
    andq %r14, %r10                     /* 12 */
    cmpq %rbx, %r9                      /* 13 */
    adcq $0, %r12                       /* 14 */
    decq %rcx                           /* 15 */
    jnz 1b                              /* 16 */
    xorq %rbx, %rax
    xorq %r9, %rax
    shlq $40, %r12
    xorq %r12, %rax
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    ret

/* uint64_t emubench_sse(uint64_t iters, const uint8_t *a, const uint8_t *b,
 *                       uint64_t c)
 * The inner step of SSE2 string functions, 16 bytes at a time, over 4 KiB
 * at a and b (both read with MOVDQU; 16 bytes past the 4 KiB must be
 * readable), wrapping around: strchr (the first byte that is 0 or c, found
 * with PCMPEQB, POR, PMOVMSKB and BSF on a mask with a sentinel bit, so
 * that the count does not depend on the data) and memcmp (the mask of
 * bytes where a and b differ). The positions, the mismatch masks and a
 * byte sum of b make the checksum. 20 instructions per 16 bytes.
 * iters >= 1. */
    .globl emubench_sse
emubench_sse:
    movd %ecx, %xmm4                    /* xmm4: c in every byte */
    punpcklbw %xmm4, %xmm4
    punpcklwd %xmm4, %xmm4
    pshufd $0, %xmm4, %xmm4
    pxor %xmm0, %xmm0
    pxor %xmm7, %xmm7
    movq %rdi, %rcx
    xorl %eax, %eax
    xorl %r10d, %r10d
    xorl %r11d, %r11d
    .balign 16
1:  movdqu (%rsi,%rax), %xmm1           /*  1 */
    movdqu (%rdx,%rax), %xmm2           /*  2 */
    movdqa %xmm1, %xmm3                 /*  3 */
    pcmpeqb %xmm0, %xmm3                /*  4 zero bytes (strlen) */
    movdqa %xmm1, %xmm5                 /*  5 */
    pcmpeqb %xmm4, %xmm5                /*  6 bytes equal to c (memchr) */
    por %xmm5, %xmm3                    /*  7 either (strchr) */
    pcmpeqb %xmm2, %xmm1                /*  8 a[i] == b[i] (memcmp) */
    pmovmskb %xmm3, %r8d                /*  9 */
    orl $0x10000, %r8d                  /* 10 sentinel: 16 when none */
    bsfl %r8d, %r8d                     /* 11 */
    addq %r8, %r10                      /* 12 */
    pmovmskb %xmm1, %r9d                /* 13 */
    xorl $0xffff, %r9d                  /* 14 bytes that differ */
    addq %r9, %r11                      /* 15 */
    paddb %xmm2, %xmm7                  /* 16 */
    addq $16, %rax                      /* 17 */
    andq $4095, %rax                    /* 18 */
    decq %rcx                           /* 19 */
    jnz 1b                              /* 20 */
    movq %xmm7, %rax
    psrldq $8, %xmm7
    movq %xmm7, %rdx
    xorq %rdx, %rax
    shlq $32, %r11
    xorq %r11, %rax
    xorq %r10, %rax
    ret
