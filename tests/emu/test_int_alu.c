/* emu integer instructions, part 1: ADD/ADC/SUB/SBB/CMP/logic with their
 * flags at each size's carry and overflow boundaries, group 1, TEST,
 * INC/DEC, LOCK forms, CMPXCHG, XADD, CMPXCHG8B, NEG/NOT, and the BCD
 * adjustments (in compatibility mode: they are #UD in 64-bit mode).
 * Expected values are worked from the SDM's definitions (Vol. 2 and
 * Vol. 1 Appendix A), not from the implementation. */
#include "test_int.h"

#define DATA EMU_H_DATA

/* Runs code from a fresh 64-bit state with RAX, RBX and the flags given. */
static int run2(const char *code, size_t len, uint64_t rax, uint64_t rbx, uint64_t flags)
{
    t_begin(false);
    st.gpr[X86_RAX] = rax;
    st.gpr[X86_RBX] = rbx;
    st.rflags = 2 | flags;
    return t_run(code, len);
}
#define RUN2(code, a, b, f) run2(code, sizeof(code) - 1, a, b, f)

static void add_flags(void)
{
    NEED_EMU();
    /* add al, bl: 0x7f + 1 = 0x80: signed overflow, AF from bit 3. */
    CHECK_EQ(RUN2("\x00\xd8", 0x1122334455667f7full, 1, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x1122334455667f80ull);
    CHECK_FLAGS(F_ARITH, F_SF | F_AF | F_OF);
    /* 0xff + 1 = 0: carry, zero, even parity. */
    CHECK_EQ(RUN2("\x00\xd8", 0xff, 1, F_SF | F_OF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_AF | F_ZF);
    /* add ax, bx: 0x7fff + 1 = 0x8000. */
    CHECK_EQ(RUN2("\x66\x01\xd8", 0xffff7fff, 1, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xffff8000);
    CHECK_FLAGS(F_ARITH, F_PF | F_AF | F_SF | F_OF);
    /* add eax, ebx: 0xffffffff + 1 = 0, and RAX's upper half clears. */
    CHECK_EQ(RUN2("\x01\xd8", 0xdeadbeefffffffffull, 1, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_AF | F_ZF);
    /* add rax, rbx: INT64_MAX + 1. */
    CHECK_EQ(RUN2("\x48\x01\xd8", 0x7fffffffffffffffull, 1, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x8000000000000000ull);
    CHECK_FLAGS(F_ARITH, F_PF | F_AF | F_SF | F_OF);
    /* add rax, rbx: 2^63 + 2^63 = 0 with carry and overflow. */
    CHECK_EQ(RUN2("\x48\x01\xd8", 0x8000000000000000ull, 0x8000000000000000ull, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_ZF | F_OF);
    /* add rax, -1 (83 /0 ib sign-extended): 1 + ~0 = 0 with carry. */
    CHECK_EQ(RUN2("\x48\x83\xc0\xff", 1, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_AF | F_ZF);
    /* add ebx, [rax] (03 /r: reg, r/m). */
    t_put64(DATA, 0x00000000fffffff0ull);
    CHECK_EQ(RUN2("\x03\x18", DATA, 0x20, 0), -1);
    CHECK_EQ(st.gpr[X86_RBX], 0x10);
    CHECK_FLAGS(F_ARITH, F_CF);
    /* add al, imm8 (04) and add eax, imm32 (05). */
    CHECK_EQ(RUN2("\x04\x08", 0x08, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x10);
    CHECK_FLAGS(F_ARITH, F_AF);
    CHECK_EQ(RUN2("\x48\x05\x00\x00\x00\x80", 0x80000000ull, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0); /* imm32 sign-extends to 0xffffffff80000000 */
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_ZF);
}

static void adc_sbb_sub_cmp(void)
{
    NEED_EMU();
    /* adc al, bl with CF=1: 0xff + 0 + 1 = 0. */
    CHECK_EQ(RUN2("\x10\xd8", 0xff, 0, F_CF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_AF | F_ZF);
    /* adc al, bl with CF=1: 0x7f + 0 + 1 = 0x80 overflows. */
    CHECK_EQ(RUN2("\x10\xd8", 0x7f, 0, F_CF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x80);
    CHECK_FLAGS(F_ARITH, F_SF | F_AF | F_OF);
    /* adc rax, rbx with CF=1: ~0 + ~0 + 1 = ~0 with carry. */
    CHECK_EQ(RUN2("\x48\x11\xd8", ~0ull, ~0ull, F_CF), -1);
    CHECK_EQ(st.gpr[X86_RAX], ~0ull);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_AF | F_SF);
    /* sbb al, bl with CF=1: 0 - 0 - 1 = 0xff, borrow. */
    CHECK_EQ(RUN2("\x18\xd8", 0, 0, F_CF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xff);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_AF | F_SF);
    /* sbb eax, ebx with CF=1: 5 - 4 - 1 = 0. */
    CHECK_EQ(RUN2("\x19\xd8", 5, 4, F_CF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_FLAGS(F_ARITH, F_PF | F_ZF);
    /* sub al, bl: 0x80 - 1 = 0x7f overflows (negative minus positive). */
    CHECK_EQ(RUN2("\x28\xd8", 0x80, 1, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x7f);
    CHECK_FLAGS(F_ARITH, F_AF | F_OF);
    /* cmp al, bl: 5 - 7, AL unchanged. */
    CHECK_EQ(RUN2("\x38\xd8", 5, 7, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 5);
    CHECK_FLAGS(F_ARITH, F_CF | F_AF | F_SF);
    /* cmp eax, 0x80000000 (81 /7): 0x7fffffff - 0x80000000 overflows. */
    CHECK_EQ(RUN2("\x81\xf8\x00\x00\x00\x80", 0x7fffffff, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x7fffffff);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_SF | F_OF);
    /* cmp ebx, eax (3b /r) does not write: the upper half of RBX stays. */
    CHECK_EQ(RUN2("\x3b\xd8", 1, 0xffffffff00000001ull, 0), -1);
    CHECK_EQ(st.gpr[X86_RBX], 0xffffffff00000001ull);
    CHECK_FLAGS(F_ARITH, F_PF | F_ZF);
    /* sub byte [rax], 1 (80 /5). */
    h.ram[DATA] = 0;
    h.ram[DATA + 1] = 0x5a;
    CHECK_EQ(RUN2("\x80\x28\x01", DATA, 0, 0), -1);
    CHECK_EQ(h.ram[DATA], 0xff);
    CHECK_EQ(h.ram[DATA + 1], 0x5a);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_AF | F_SF);
}

static void logic_test(void)
{
    NEED_EMU();
    /* xor eax, eax: zero; CF and OF cleared; AF undefined. */
    CHECK_EQ(RUN2("\x31\xc0", 0x123456789abcdef0ull, 0, F_CF | F_OF | F_SF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_FLAGS(F_ARITH & ~F_AF, F_ZF | F_PF);
    /* and al, 0x0f; or eax, imm32; xor rax, rbx. */
    CHECK_EQ(RUN2("\x24\x0f", 0x1f3, 0, F_CF | F_OF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x103);
    CHECK_FLAGS(F_ARITH & ~F_AF, F_PF);
    CHECK_EQ(RUN2("\x0d\x00\x00\x00\x80", 0xff00000001ull, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x80000001ull);
    CHECK_FLAGS(F_ARITH & ~F_AF, F_SF);
    CHECK_EQ(RUN2("\x48\x31\xd8", 0xf0f0, 0xf0f1, F_CF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 1);
    CHECK_FLAGS(F_ARITH & ~F_AF, 0);
    /* test bl, al (84): 0xf0 & 0x0f = 0; no register changes. */
    CHECK_EQ(RUN2("\x84\xc3", 0xf0, 0x0f, F_CF | F_OF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xf0);
    CHECK_EQ(st.gpr[X86_RBX], 0x0f);
    CHECK_FLAGS(F_ARITH & ~F_AF, F_ZF | F_PF);
    /* test eax, imm32 (a9); test rax, imm32 sign-extended. */
    CHECK_EQ(RUN2("\xa9\x00\x00\x00\x80", 0x80000000ull, 0, 0), -1);
    CHECK_FLAGS(F_ARITH & ~F_AF, F_SF | F_PF);
    CHECK_EQ(RUN2("\x48\xa9\x00\x00\x00\x80", 0x8000000000000000ull, 0, 0), -1);
    CHECK_FLAGS(F_ARITH & ~F_AF, F_SF | F_PF);
    /* test byte [rax], imm8 (f6 /0) and its /1 alias. */
    h.ram[DATA] = 0x81;
    CHECK_EQ(RUN2("\xf6\x00\x80", DATA, 0, 0), -1);
    CHECK_FLAGS(F_ARITH & ~F_AF, F_SF);
    CHECK_EQ(RUN2("\xf6\x08\x7e", DATA, 0, 0), -1);
    CHECK_FLAGS(F_ARITH & ~F_AF, F_ZF | F_PF);
}

static void incdec_neg_not(void)
{
    NEED_EMU();
    /* inc al: 0x7f -> 0x80, CF kept (1). */
    CHECK_EQ(RUN2("\xfe\xc0", 0x7f, 0, F_CF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x80);
    CHECK_FLAGS(F_ARITH, F_CF | F_AF | F_SF | F_OF);
    /* dec al: 0x80 -> 0x7f, CF kept (0). */
    CHECK_EQ(RUN2("\xfe\xc8", 0x80, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x7f);
    CHECK_FLAGS(F_ARITH, F_AF | F_OF);
    /* dec al: 1 -> 0 with CF=1 kept. */
    CHECK_EQ(RUN2("\xfe\xc8", 1, 0, F_CF), -1);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_ZF);
    /* inc qword [rax] (ff /0) and lock dec byte [rax] (f0 fe /1). */
    t_put64(DATA, ~0ull);
    CHECK_EQ(RUN2("\x48\xff\x00", DATA, 0, 0), -1);
    CHECK_EQ(t_mem64(DATA), 0);
    CHECK_FLAGS(F_ARITH, F_PF | F_AF | F_ZF);
    CHECK_EQ(RUN2("\xf0\xfe\x08", DATA, 0, F_CF), -1);
    CHECK_EQ(t_mem64(DATA), 0xff);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_AF | F_SF);
    /* fe /2 is not INC/DEC: #UD. */
    CHECK_EQ(RUN2("\xfe\xd0", 0, 0, 0), V_UD);
    /* neg al: 0x80 stays 0x80 with OF; 0 -> 0 without CF; 1 -> 0xff. */
    CHECK_EQ(RUN2("\xf6\xd8", 0x80, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x80);
    CHECK_FLAGS(F_ARITH, F_CF | F_SF | F_OF);
    CHECK_EQ(RUN2("\xf6\xd8", 0, 0, F_CF), -1);
    CHECK_FLAGS(F_ARITH, F_PF | F_ZF);
    CHECK_EQ(RUN2("\xf6\xd8", 1, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xff);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_AF | F_SF);
    /* not eax: no flag changes, upper half cleared. */
    CHECK_EQ(RUN2("\xf7\xd0", 0xaa0f0f0f0full, 0, F_ARITH), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xf0f0f0f0ull);
    CHECK_FLAGS(F_ARITH, F_ARITH);
    /* lock neg dword [rax]; lock not word [rax]. */
    t_put64(DATA, 0x1122334400000001ull);
    CHECK_EQ(RUN2("\xf0\xf7\x18", DATA, 0, 0), -1);
    CHECK_EQ(t_mem64(DATA), 0x11223344ffffffffull);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_AF | F_SF);
    CHECK_EQ(RUN2("\xf0\x66\xf7\x10", DATA, 0, 0), -1);
    CHECK_EQ(t_mem64(DATA), 0x11223344ffff0000ull);
    /* LOCK is #UD on MUL and on a register operand. */
    CHECK_EQ(RUN2("\xf0\xf6\x20", DATA, 0, 0), V_UD);
    CHECK_EQ(RUN2("\xf0\xf7\xd8", DATA, 0, 0), V_UD);
}

static void group1_and_lock(void)
{
    NEED_EMU();
    /* lock add [rax], ebx: 0xfffffffe + 3 wraps to 1 with carry. */
    t_put64(DATA, 0x55555555fffffffeull);
    CHECK_EQ(RUN2("\xf0\x01\x18", DATA, 3, 0), -1);
    CHECK_EQ(t_mem64(DATA), 0x5555555500000001ull);
    CHECK_FLAGS(F_ARITH, F_CF | F_AF);
    /* lock or qword [rax], imm8 (83 /1, sign-extended -128). */
    t_put64(DATA, 0x7f);
    CHECK_EQ(RUN2("\xf0\x48\x83\x08\x80", DATA, 0, F_CF), -1);
    CHECK_EQ(t_mem64(DATA), 0xffffffffffffffffull);
    CHECK_FLAGS(F_ARITH & ~F_AF, F_SF | F_PF);
    /* lock sbb byte [rax+1], 1 with CF=1 at a misaligned address. */
    t_put64(DATA, 0x0000000000000200ull);
    CHECK_EQ(RUN2("\xf0\x80\x58\x01\x01", DATA, 0, F_CF), -1);
    CHECK_EQ(t_mem64(DATA), 0);
    CHECK_FLAGS(F_ARITH, F_ZF | F_PF);
    /* lock adc dword [rax+6], ebx: the operand straddles an 8-byte word. */
    t_put64(DATA, 0xffff000000000000ull);
    t_put64(DATA + 8, 0x000000000000ffffull);
    CHECK_EQ(RUN2("\xf0\x11\x58\x06", DATA, 1, 0), -1);
    CHECK_EQ(t_mem64(DATA), 0);
    CHECK_EQ(t_mem64(DATA + 8), 0);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_AF | F_ZF);
    /* A locked CMP is #UD; CMP with memory works. */
    CHECK_EQ(RUN2("\xf0\x80\x38\x01", DATA, 0, 0), V_UD);
    CHECK_EQ(RUN2("\x80\x38\x01", DATA, 0, 0), -1);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_AF | F_SF);
    /* LOCK with a register destination, and on a reg,r/m form: #UD. */
    CHECK_EQ(RUN2("\xf0\x01\xd8", 0, 0, 0), V_UD);
    CHECK_EQ(RUN2("\xf0\x03\x18", DATA, 0, 0), V_UD);
    /* 82 is invalid in 64-bit mode. */
    CHECK_EQ(RUN2("\x82\xc0\x01", 0, 0, 0), V_UD);
    /* A fault leaves the destination and the flags alone. */
    CHECK_EQ(RUN2("\x48\x01\x18", 0x900000, 1, F_CF), V_PF);
    CHECK_FLAGS(F_ARITH, F_CF);
}

static void cmpxchg_xadd(void)
{
    NEED_EMU();
    /* cmpxchg ecx, ebx, equal: ECX = EBX (zero-extended), ZF. */
    t_begin(false);
    st.gpr[X86_RAX] = 0xaaaaaaaa00000005ull;
    st.gpr[X86_RCX] = 0xffffffff00000005ull;
    st.gpr[X86_RBX] = 0x77;
    CHECK_EQ(RUN("\x0f\xb1\xd9"), -1);
    CHECK_EQ(st.gpr[X86_RCX], 0x77);
    CHECK_EQ(st.gpr[X86_RAX], 0xaaaaaaaa00000005ull);
    CHECK_FLAGS(F_ARITH, F_ZF | F_PF);
    /* Not equal: EAX = ECX (RAX zero-extended); ECX untouched. */
    t_begin(false);
    st.gpr[X86_RAX] = 0xaaaaaaaa00000006ull;
    st.gpr[X86_RCX] = 0xffffffff00000005ull;
    st.gpr[X86_RBX] = 0x77;
    CHECK_EQ(RUN("\x0f\xb1\xd9"), -1);
    CHECK_EQ(st.gpr[X86_RAX], 5);
    CHECK_EQ(st.gpr[X86_RCX], 0xffffffff00000005ull);
    CHECK_FLAGS(F_ARITH, 0);
    /* cmpxchg [rdi], ebx, not equal: EAX loaded, memory kept. */
    t_begin(false);
    t_put64(DATA, 0x9999999911111111ull);
    st.gpr[X86_RDI] = DATA;
    st.gpr[X86_RAX] = 0x22222222;
    st.gpr[X86_RBX] = 0x33;
    CHECK_EQ(RUN("\x0f\xb1\x1f"), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x11111111);
    CHECK_EQ(t_mem64(DATA), 0x9999999911111111ull);
    CHECK_FLAGS(F_ARITH, F_PF);
    /* lock cmpxchg [rdi], rbx, equal: memory = RBX. */
    t_begin(false);
    st.gpr[X86_RDI] = DATA;
    st.gpr[X86_RAX] = 0x9999999911111111ull;
    st.gpr[X86_RBX] = 0x0123456789abcdefull;
    CHECK_EQ(RUN("\xf0\x48\x0f\xb1\x1f"), -1);
    CHECK_EQ(t_mem64(DATA), 0x0123456789abcdefull);
    CHECK_FLAGS(F_ARITH, F_ZF | F_PF);
    /* cmpxchg byte [rdi], bl: flags of AL - m8 = 0x7f - 0x80 (overflow). */
    t_begin(false);
    h.ram[DATA] = 0x80;
    st.gpr[X86_RDI] = DATA;
    st.gpr[X86_RAX] = 0x7f;
    CHECK_EQ(RUN("\x0f\xb0\x1f"), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x80);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_SF | F_OF);
    /* xadd eax, ebx (0f c1 /r, r/m = eax). */
    t_begin(false);
    st.gpr[X86_RAX] = 0xffffffff00000001ull;
    st.gpr[X86_RBX] = 2;
    CHECK_EQ(RUN("\x0f\xc1\xd8"), -1);
    CHECK_EQ(st.gpr[X86_RAX], 3);
    CHECK_EQ(st.gpr[X86_RBX], 1);
    CHECK_FLAGS(F_ARITH, F_PF);
    /* xadd eax, eax: both are the same register: it ends with the sum. */
    t_begin(false);
    st.gpr[X86_RAX] = 0x40000000;
    CHECK_EQ(RUN("\x0f\xc1\xc0"), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x80000000ull);
    CHECK_FLAGS(F_ARITH, F_PF | F_SF | F_OF);
    /* lock xadd [rdi], bx. */
    t_begin(false);
    t_put64(DATA, 0x000000000000fff0ull);
    st.gpr[X86_RDI] = DATA;
    st.gpr[X86_RBX] = 0x12340010;
    CHECK_EQ(RUN("\xf0\x66\x0f\xc1\x1f"), -1);
    CHECK_EQ(t_mem64(DATA), 0);
    CHECK_EQ(st.gpr[X86_RBX], 0x1234fff0);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_ZF);
}

static void cmpxchg8b(void)
{
    NEED_EMU();
    /* Equal: m64 = ECX:EBX, ZF = 1; the other flags are unaffected. */
    t_begin(false);
    t_put64(DATA, 0x1111111122222222ull);
    st.gpr[X86_RDI] = DATA;
    st.gpr[X86_RDX] = 0xabcd000011111111ull;
    st.gpr[X86_RAX] = 0xabcd000022222222ull;
    st.gpr[X86_RCX] = 0x33333333;
    st.gpr[X86_RBX] = 0x44444444;
    st.rflags = 2 | F_CF | F_SF;
    CHECK_EQ(RUN("\xf0\x0f\xc7\x0f"), -1);
    CHECK_EQ(t_mem64(DATA), 0x3333333344444444ull);
    CHECK_EQ(st.gpr[X86_RDX], 0xabcd000011111111ull);
    CHECK_EQ(st.gpr[X86_RAX], 0xabcd000022222222ull);
    CHECK_FLAGS(F_ARITH, F_CF | F_SF | F_ZF);
    /* Not equal: EDX:EAX = m64 (zero-extended), ZF = 0. */
    t_begin(false);
    t_put64(DATA, 0x5555555566666666ull);
    st.gpr[X86_RDI] = DATA;
    st.gpr[X86_RDX] = 0xabcd000011111111ull;
    st.gpr[X86_RAX] = 0xabcd000022222222ull;
    st.rflags = 2 | F_ZF | F_PF;
    CHECK_EQ(RUN("\x0f\xc7\x0f"), -1);
    CHECK_EQ(t_mem64(DATA), 0x5555555566666666ull);
    CHECK_EQ(st.gpr[X86_RDX], 0x55555555);
    CHECK_EQ(st.gpr[X86_RAX], 0x66666666);
    CHECK_FLAGS(F_ARITH, F_PF);
    /* CMPXCHG16B (REX.W) is not in roam-v1; register forms and other /reg: #UD. */
    CHECK_EQ(RUN2("\x48\x0f\xc7\x0f", 0, 0, 0), V_UD);
    CHECK_EQ(RUN2("\x0f\xc7\xc8", 0, 0, 0), V_UD);
    CHECK_EQ(RUN2("\x0f\xc7\x17", 0, 0, 0), V_UD);
}

/* Runs code in compatibility mode with AX and the flags given. */
static int run_bcd(const char *code, size_t len, uint64_t rax, uint64_t rbx, uint64_t flags)
{
    t_begin(true);
    st.gpr[X86_RAX] = rax;
    st.gpr[X86_RBX] = rbx;
    st.rflags = 2 | flags;
    return t_run(code, len);
}
#define RUNB(code, a, b, f) run_bcd(code, sizeof(code) - 1, a, b, f)

static void bcd(void)
{
    NEED_EMU();
    /* SDM DAA example: add al, bl (0x79 + 0x35 = 0xae); daa -> 0x14, CF, AF. */
    CHECK_EQ(RUNB("\x00\xd8\x27", 0x79, 0x35, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x14);
    CHECK_FLAGS(F_ARITH & ~F_OF, F_CF | F_AF | F_PF);
    /* daa of 0x9a: both corrections, 0x00 with CF. */
    CHECK_EQ(RUNB("\x27", 0x9a, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x00);
    CHECK_FLAGS(F_ARITH & ~F_OF, F_CF | F_AF | F_PF | F_ZF);
    /* daa with nothing to do clears CF and AF. */
    CHECK_EQ(RUNB("\x27", 0x45, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x45);
    CHECK_FLAGS(F_ARITH & ~F_OF, 0);
    /* SDM DAS example: sub al, bl (0x35 - 0x47 = 0xee); das -> 0x88. */
    CHECK_EQ(RUNB("\x28\xd8\x2f", 0x35, 0x47, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x88);
    CHECK_FLAGS(F_ARITH & ~F_OF, F_CF | F_AF | F_SF | F_PF);
    /* das of 0x03 with AF: the -6 borrows, CF = 1 without the -0x60 step. */
    CHECK_EQ(RUNB("\x2f", 0x03, 0, F_AF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xfd);
    CHECK_FLAGS(F_ARITH & ~F_OF, F_CF | F_AF | F_SF);
    /* add al, bl (9 + 8 = 0x11, AF); aaa -> AX = 0x0107, CF = AF = 1. */
    CHECK_EQ(RUNB("\x00\xd8\x37", 0x09, 0x08, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x0107);
    CHECK_FLAGS(F_CF | F_AF, F_CF | F_AF);
    /* aaa of AL = 0xfa: AX + 0x106 carries into AH (286 and later). */
    CHECK_EQ(RUNB("\x37", 0x00fa, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x0200);
    CHECK_FLAGS(F_CF | F_AF, F_CF | F_AF);
    /* aaa with nothing to do masks AL, clears CF and AF. */
    CHECK_EQ(RUNB("\x37", 0x0135, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x0105);
    CHECK_FLAGS(F_CF | F_AF, 0);
    /* BCD 12 - 5: sub al, bl (0x02 - 0x05); aas -> AX = 0x0007. */
    CHECK_EQ(RUNB("\x28\xd8\x3f", 0x0102, 0x05, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x0007);
    CHECK_FLAGS(F_CF | F_AF, F_CF | F_AF);
    /* aas with AF on AX = 0x0102: AX - 6, AH - 1 = 0xfffc, AL masked. */
    CHECK_EQ(RUNB("\x3f", 0x0102, 0, F_AF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xff0c);
    CHECK_FLAGS(F_CF | F_AF, F_CF | F_AF);
    /* aam: 63 -> AH 6, AL 3; aam 16: 0x3f -> 0x030f; SF/ZF/PF from AL. */
    CHECK_EQ(RUNB("\xd4\x0a", 0x3f, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x0603);
    CHECK_FLAGS(F_SF | F_ZF | F_PF, F_PF);
    CHECK_EQ(RUNB("\xd4\x10", 0xff3f, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x030f);
    CHECK_FLAGS(F_SF | F_ZF | F_PF, F_PF);
    CHECK_EQ(RUNB("\xd4\x0a", 0x1200, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x0000);
    CHECK_FLAGS(F_SF | F_ZF | F_PF, F_ZF | F_PF);
    /* aam 0: #DE with AX unchanged. */
    CHECK_EQ(RUNB("\xd4\x00", 0x1234, 0, 0), V_DE);
    CHECK_EQ(st.gpr[X86_RAX], 0x1234);
    /* aad: 0x0607 -> 67 = 0x43; aad 16: 0x0102 -> 0x12; 0xffff -> 0xf5. */
    CHECK_EQ(RUNB("\xd5\x0a", 0x0607, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x0043);
    CHECK_FLAGS(F_SF | F_ZF | F_PF, 0);
    CHECK_EQ(RUNB("\xd5\x10", 0x0102, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x0012);
    CHECK_EQ(RUNB("\xd5\x0a", 0xffff, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x00f5);
    CHECK_FLAGS(F_SF | F_ZF | F_PF, F_SF | F_PF);
    /* In 64-bit mode they are #UD. */
    CHECK_EQ(RUN2("\x27", 0, 0, 0), V_UD);
    CHECK_EQ(RUN2("\xd4\x0a", 0, 0, 0), V_UD);
}

static void incdec_compat(void)
{
    NEED_EMU();
    /* 40: inc eax; 66 49: dec cx (the high half of ECX stays). */
    CHECK_EQ(RUNB("\x40", 0xffffffff, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_FLAGS(F_ARITH, F_ZF | F_PF | F_AF);
    t_begin(true);
    st.gpr[X86_RCX] = 0x12340000;
    st.rflags = 2 | F_CF;
    CHECK_EQ(RUN("\x66\x49"), -1);
    CHECK_EQ(st.gpr[X86_RCX], 0x1234ffff);
    CHECK_FLAGS(F_ARITH, F_CF | F_SF | F_PF | F_AF);
    /* 82 /0 is an alias of 80 /0 outside 64-bit mode. */
    CHECK_EQ(RUNB("\x82\xc0\x01", 0xff, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_AF | F_ZF);
}

static const struct test_case tests[] = {
    TEST(add_flags),      TEST(adc_sbb_sub_cmp), TEST(logic_test), TEST(incdec_neg_not),
    TEST(group1_and_lock), TEST(cmpxchg_xadd),  TEST(cmpxchg8b),  TEST(bcd),
    TEST(incdec_compat),
};

TEST_INT_MAIN("emu_int_alu", tests)
