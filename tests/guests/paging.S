/* paging: the 32-bit part. paging_ops32 runs a list of memory operations in
 * legacy protected mode (32-bit or PAE paging, set up by paging.c through
 * lib/legacy.S) and records, for each, the value read and the exceptions
 * it raised. struct lop in paging.c has the layout below. */
#include "lib/legacy.h"

#define LOP_OP 0
#define LOP_ADDR 4
#define LOP_VALUE 8
#define LOP_RESULT 12
#define LOP_FAULTS 16
#define LOP_VECTOR 20
#define LOP_ERROR 24
#define LOP_CR2 28
#define LOP_EIP 32
#define LOP_INSN 36
#define LOP_SIZE 40

/* op codes (paging.c) */
#define L_END 0
#define L_READ 1
#define L_WRITE 2
#define L_FETCH 3
#define L_INVLPG 4
#define L_CR3 5
#define L_CR0 6
#define L_CR4 7
#define L_UREAD 8
#define L_UWRITE 9
#define L_UFETCH 10

    .text
    .code32
/* uint32_t paging_ops32(struct lop *ops): runs ops until L_END; returns
 * the number run. */
    .globl paging_ops32
paging_ops32:
    pushl %ebx
    pushl %esi
    pushl %edi
    pushl %ebp
    movl 20(%esp), %ebx
    xorl %ebp, %ebp
1:  movl LOP_OP(%ebx), %eax
    testl %eax, %eax
    jz 9f
    movl legacy_fault + LF_COUNT, %esi
    movl LOP_ADDR(%ebx), %edi
    cmpl $L_UREAD, %eax
    jae 8f
    pushl %ebp
    movl %esp, %ebp
    call op_kernel
    movl %ebp, %esp
    popl %ebp
    jmp 7f
8:  pushl %ebx
    pushl $op_user
    call legacy_user
    addl $8, %esp
7:  movl legacy_fault + LF_COUNT, %eax
    subl %esi, %eax
    movl %eax, LOP_FAULTS(%ebx)
    jz 6f
    movl legacy_fault + LF_VECTOR, %eax
    movl %eax, LOP_VECTOR(%ebx)
    movl legacy_fault + LF_ERROR, %eax
    movl %eax, LOP_ERROR(%ebx)
    movl legacy_fault + LF_CR2, %eax
    movl %eax, LOP_CR2(%ebx)
    movl legacy_fault + LF_EIP, %eax
    movl %eax, LOP_EIP(%ebx)
6:  incl %ebp
    addl $LOP_SIZE, %ebx
    jmp 1b
9:  movl %ebp, %eax
    popl %ebp
    popl %edi
    popl %esi
    popl %ebx
    ret

/* One operation at CPL0: EBX = the op, EDI = its address. ESP is restored
 * by the caller (a faulting fetch leaves the return address pushed). */
op_kernel:
    movl LOP_OP(%ebx), %eax
    cmpl $L_READ, %eax
    je k_read
    cmpl $L_WRITE, %eax
    je k_write
    cmpl $L_FETCH, %eax
    je k_fetch
    cmpl $L_INVLPG, %eax
    je k_invlpg
    cmpl $L_CR3, %eax
    je k_cr3
    cmpl $L_CR0, %eax
    je k_cr0
    cmpl $L_CR4, %eax
    je k_cr4
    ret
k_read:
    movl $2f, LOP_INSN(%ebx)
    LEGACY_FAULT movl (%edi), %eax
    movl %eax, LOP_RESULT(%ebx)
    ret
k_write:
    movl LOP_VALUE(%ebx), %eax
    movl $2f, LOP_INSN(%ebx)
    LEGACY_FAULT movl %eax, (%edi)
    ret
k_fetch:
    movl %esp, %ecx
    movl $2f, LOP_INSN(%ebx)
    LEGACY_FAULT call *%edi
    movl %ecx, %esp
    movl %eax, LOP_RESULT(%ebx)
    ret
k_invlpg:
    invlpg (%edi)
    ret
k_cr3:
    movl LOP_VALUE(%ebx), %eax
    movl $2f, LOP_INSN(%ebx)
    LEGACY_FAULT movl %eax, %cr3
    ret
k_cr0:
    movl LOP_VALUE(%ebx), %eax
    movl $2f, LOP_INSN(%ebx)
    LEGACY_FAULT movl %eax, %cr0
    ret
k_cr4:
    movl LOP_VALUE(%ebx), %eax
    movl $2f, LOP_INSN(%ebx)
    LEGACY_FAULT movl %eax, %cr4
    ret

/* One operation at CPL3 (through legacy_user): the op's address is the
 * argument. */
op_user:
    pushl %ebx
    pushl %edi
    pushl %ebp
    movl 16(%esp), %ebx
    movl LOP_ADDR(%ebx), %edi
    movl %esp, %ebp
    movl LOP_OP(%ebx), %eax
    cmpl $L_UREAD, %eax
    je u_read
    cmpl $L_UWRITE, %eax
    je u_write
    movl $2f, LOP_INSN(%ebx)
    LEGACY_FAULT call *%edi
    movl %eax, LOP_RESULT(%ebx)
    jmp u_done
u_read:
    movl $2f, LOP_INSN(%ebx)
    LEGACY_FAULT movl (%edi), %eax
    movl %eax, LOP_RESULT(%ebx)
    jmp u_done
u_write:
    movl LOP_VALUE(%ebx), %eax
    movl $2f, LOP_INSN(%ebx)
    LEGACY_FAULT movl %eax, (%edi)
u_done:
    movl %ebp, %esp
    popl %ebp
    popl %edi
    popl %ebx
    ret
