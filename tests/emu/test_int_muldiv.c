/* emu integer instructions, part 2: MUL/IMUL (one, two and three
 * operands), DIV/IDIV with #DE on divide by zero and quotient overflow
 * (registers unchanged), BT/BTS/BTR/BTC with register and immediate bit
 * offsets (negative and beyond the operand in memory), BSF/BSR.
 * Expected values are worked from the SDM's definitions. */
#include "test_int.h"

#define DATA EMU_H_DATA

static int run4(const char *code, size_t len, uint64_t rax, uint64_t rbx, uint64_t rcx,
                uint64_t rdx)
{
    t_begin(false);
    st.gpr[X86_RAX] = rax;
    st.gpr[X86_RBX] = rbx;
    st.gpr[X86_RCX] = rcx;
    st.gpr[X86_RDX] = rdx;
    st.gpr[X86_RDI] = DATA + 16;
    st.rflags = 2;
    return t_run(code, len);
}
#define RUN4(code, a, b, c, d) run4(code, sizeof(code) - 1, a, b, c, d)

static void mul(void)
{
    NEED_EMU();
    /* mul bl: 0x80 * 2 = 0x100 into AX; CF = OF = (AH != 0). */
    CHECK_EQ(RUN4("\xf6\xe3", 0xaaaa0080, 2, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xaaaa0100);
    CHECK_FLAGS(F_CF | F_OF, F_CF | F_OF);
    CHECK_EQ(RUN4("\xf6\xe3", 0x0f, 0x0f, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xe1);
    CHECK_FLAGS(F_CF | F_OF, 0);
    /* mul cx: 0xffff^2 = 0xfffe0001 into DX:AX; upper bits kept. */
    CHECK_EQ(RUN4("\x66\xf7\xe1", 0x5555ffff, 0, 0xffff, 0x77770000), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x55550001);
    CHECK_EQ(st.gpr[X86_RDX], 0x7777fffe);
    CHECK_FLAGS(F_CF | F_OF, F_CF | F_OF);
    /* mul ecx: EDX:EAX = 0x1fffffffe; both zero-extend. */
    CHECK_EQ(RUN4("\xf7\xe1", 0x11111111ffffffffull, 0, 2, 0x2222222200000000ull), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xfffffffe);
    CHECK_EQ(st.gpr[X86_RDX], 1);
    CHECK_FLAGS(F_CF | F_OF, F_CF | F_OF);
    /* mul rcx: 2^63 * 4 = 2^65. */
    CHECK_EQ(RUN4("\x48\xf7\xe1", 0x8000000000000000ull, 0, 4, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_EQ(st.gpr[X86_RDX], 2);
    CHECK_FLAGS(F_CF | F_OF, F_CF | F_OF);
    CHECK_EQ(RUN4("\x48\xf7\xe1", ~0ull, 0, ~0ull, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 1);
    CHECK_EQ(st.gpr[X86_RDX], ~0ull - 1);
    /* mul rcx with a small product: CF = OF = 0. */
    CHECK_EQ(RUN4("\x48\xf7\xe1", 3, 0, 5, 9), -1);
    CHECK_EQ(st.gpr[X86_RAX], 15);
    CHECK_EQ(st.gpr[X86_RDX], 0);
    CHECK_FLAGS(F_CF | F_OF, 0);
}

static void imul(void)
{
    NEED_EMU();
    /* imul cl: -128 * -1 = 128 does not fit AL: CF = OF = 1. */
    CHECK_EQ(RUN4("\xf6\xe9", 0x80, 0, 0xff, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x0080);
    CHECK_FLAGS(F_CF | F_OF, F_CF | F_OF);
    /* imul cl: -2 * 3 = -6 fits: AH is AL's sign extension. */
    CHECK_EQ(RUN4("\xf6\xe9", 0xfe, 0, 3, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xfffa);
    CHECK_FLAGS(F_CF | F_OF, 0);
    /* imul rcx: -1 * -1 = 1. */
    CHECK_EQ(RUN4("\x48\xf7\xe9", ~0ull, 0, ~0ull, 0x1234), -1);
    CHECK_EQ(st.gpr[X86_RAX], 1);
    CHECK_EQ(st.gpr[X86_RDX], 0);
    CHECK_FLAGS(F_CF | F_OF, 0);
    /* imul rcx: 2^62 * 2 = 2^63 needs RDX (positive, RAX looks negative). */
    CHECK_EQ(RUN4("\x48\xf7\xe9", 1ull << 62, 0, 2, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 1ull << 63);
    CHECK_EQ(st.gpr[X86_RDX], 0);
    CHECK_FLAGS(F_CF | F_OF, F_CF | F_OF);
    /* imul rcx: -2^62 * 2 = -2^63 fits. */
    CHECK_EQ(RUN4("\x48\xf7\xe9", 0xc000000000000000ull, 0, 2, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 1ull << 63);
    CHECK_EQ(st.gpr[X86_RDX], ~0ull);
    CHECK_FLAGS(F_CF | F_OF, 0);
    /* imul edx (1 operand, 32 bits): -3 * 5 = -15 in EDX:EAX. */
    CHECK_EQ(RUN4("\xf7\xea", 0xfffffffd, 0, 0, 5), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xfffffff1);
    CHECK_EQ(st.gpr[X86_RDX], 0xffffffff);
    CHECK_FLAGS(F_CF | F_OF, 0);
    /* imul eax, ecx (0f af): 2^30 * 4 truncates to 0, CF = OF = 1. */
    CHECK_EQ(RUN4("\x0f\xaf\xc1", 0xffffffff40000000ull, 0, 4, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_FLAGS(F_CF | F_OF, F_CF | F_OF);
    CHECK_EQ(RUN4("\x0f\xaf\xc1", 0xfffffffd, 0, 5, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xfffffff1);
    CHECK_FLAGS(F_CF | F_OF, 0);
    /* imul rax, [rdi] (48 0f af 07). */
    t_put64(DATA + 16, 0xfffffffffffffffeull);
    CHECK_EQ(RUN4("\x48\x0f\xaf\x07", 0x4000000000000000ull, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x8000000000000000ull);
    CHECK_FLAGS(F_CF | F_OF, 0);
    /* imul eax, ecx, -1 (6b): -(-2^31) = 2^31 overflows 32 bits. */
    CHECK_EQ(RUN4("\x6b\xc1\xff", 0, 0, 0x80000000, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x80000000);
    CHECK_FLAGS(F_CF | F_OF, F_CF | F_OF);
    /* imul ax, cx, 0x1234 (66 69): upper bits of RAX kept. */
    CHECK_EQ(RUN4("\x66\x69\xc1\x34\x12", 0xabcd0000ffffull, 0, 2, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xabcd00002468ull);
    CHECK_FLAGS(F_CF | F_OF, 0);
    /* imul rax, rcx, imm32 sign-extended: 2 * -2^31. */
    CHECK_EQ(RUN4("\x48\x69\xc1\x00\x00\x00\x80", 0, 0, 2, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xffffffff00000000ull);
    CHECK_FLAGS(F_CF | F_OF, 0);
}

static void div_(void)
{
    NEED_EMU();
    /* div bl: 0x100 / 2 = 0x80 r 0. */
    CHECK_EQ(RUN4("\xf6\xf3", 0x0100, 2, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x0080);
    /* div bl: 0x200 / 2 = 0x100 does not fit AL: #DE, AX unchanged. */
    CHECK_EQ(RUN4("\xf6\xf3", 0x0200, 2, 0, 0), V_DE);
    CHECK_EQ(st.gpr[X86_RAX], 0x0200);
    CHECK_EQ(t_stack(0), EMU_H_CODE); /* the fault's RIP: the DIV itself */
    /* div bl by zero. */
    CHECK_EQ(RUN4("\xf6\xf3", 0x0200, 0, 0, 0), V_DE);
    CHECK_EQ(st.gpr[X86_RAX], 0x0200);
    /* div cx: DX:AX = 0x0001fffe / 0xffff = 2 r 0. */
    CHECK_EQ(RUN4("\x66\xf7\xf1", 0x9999fffe, 0, 0xffff, 0x88880001), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x99990002);
    CHECK_EQ(st.gpr[X86_RDX], 0x88880000);
    /* div ecx: 0x1_00000000 / 2 = 0x80000000; both zero-extend. */
    CHECK_EQ(RUN4("\xf7\xf1", 0xffffffff00000000ull, 0, 2, 0xaaaaaaaa00000001ull), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x80000000);
    CHECK_EQ(st.gpr[X86_RDX], 0);
    /* div ecx: EDX >= ECX overflows. */
    CHECK_EQ(RUN4("\xf7\xf1", 5, 0, 2, 2), V_DE);
    CHECK_EQ(st.gpr[X86_RAX], 5);
    CHECK_EQ(st.gpr[X86_RDX], 2);
    /* div rcx: 100 / 7 = 14 r 2; 2^64 / 2 = 2^63; 128-bit dividends. */
    CHECK_EQ(RUN4("\x48\xf7\xf1", 100, 0, 7, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 14);
    CHECK_EQ(st.gpr[X86_RDX], 2);
    CHECK_EQ(RUN4("\x48\xf7\xf1", 0, 0, 2, 1), -1);
    CHECK_EQ(st.gpr[X86_RAX], 1ull << 63);
    CHECK_EQ(st.gpr[X86_RDX], 0);
    CHECK_EQ(RUN4("\x48\xf7\xf1", 0x23, 0, 0x10, 1), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x1000000000000002ull);
    CHECK_EQ(st.gpr[X86_RDX], 3);
    CHECK_EQ(RUN4("\x48\xf7\xf1", ~0ull, 0, ~0ull, ~0ull - 1), -1);
    CHECK_EQ(st.gpr[X86_RAX], ~0ull);
    CHECK_EQ(st.gpr[X86_RDX], ~0ull - 1);
    CHECK_EQ(RUN4("\x48\xf7\xf1", 0, 0, 2, 2), V_DE);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_EQ(st.gpr[X86_RDX], 2);
    CHECK_EQ(RUN4("\x48\xf7\xf1", 7, 0, 0, 0), V_DE);
    /* div byte [rdi]. */
    h.ram[DATA + 16] = 10;
    CHECK_EQ(RUN4("\xf6\x37", 0x0065, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x010a);
}

static void idiv(void)
{
    NEED_EMU();
    /* idiv bl: -128 / -1 = 128 does not fit: #DE. */
    CHECK_EQ(RUN4("\xf6\xfb", 0xff80, 0xff, 0, 0), V_DE);
    CHECK_EQ(st.gpr[X86_RAX], 0xff80);
    /* -127 / -1 = 127. */
    CHECK_EQ(RUN4("\xf6\xfb", 0xff81, 0xff, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x007f);
    /* 7 / -2 = -3 r 1; -7 / 2 = -3 r -1 (truncation toward zero). */
    CHECK_EQ(RUN4("\xf6\xfb", 7, 0xfe, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x01fd);
    CHECK_EQ(RUN4("\xf6\xfb", 0xfff9, 2, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xfffd);
    /* -256 / 2 = -128 fits exactly. */
    CHECK_EQ(RUN4("\xf6\xfb", 0xff00, 2, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x0080);
    /* 256 / 2 = 128 does not. */
    CHECK_EQ(RUN4("\xf6\xfb", 0x0100, 2, 0, 0), V_DE);
    /* idiv ecx: -2^31 / -1 overflows; -9 / 4 = -2 r -1. */
    CHECK_EQ(RUN4("\xf7\xf9", 0x80000000, 0, 0xffffffff, 0xffffffff), V_DE);
    CHECK_EQ(RUN4("\xf7\xf9", 0xfffffff7, 0, 4, 0xffffffff), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xfffffffe);
    CHECK_EQ(st.gpr[X86_RDX], 0xffffffff);
    /* idiv rcx: -2^63 / -1 overflows; -2^63 / 1 fits; -2^127 / -1. */
    CHECK_EQ(RUN4("\x48\xf7\xf9", 1ull << 63, 0, ~0ull, ~0ull), V_DE);
    CHECK_EQ(st.gpr[X86_RAX], 1ull << 63);
    CHECK_EQ(st.gpr[X86_RDX], ~0ull);
    CHECK_EQ(RUN4("\x48\xf7\xf9", 1ull << 63, 0, 1, ~0ull), -1);
    CHECK_EQ(st.gpr[X86_RAX], 1ull << 63);
    CHECK_EQ(st.gpr[X86_RDX], 0);
    CHECK_EQ(RUN4("\x48\xf7\xf9", 0, 0, ~0ull, 1ull << 63), V_DE);
    /* (2^64 + 3) / -2 = -(2^63 + 1) does not fit; (2^63 - 1)*2+1 / 2 does. */
    CHECK_EQ(RUN4("\x48\xf7\xf9", 3, 0, ~0ull - 1, 1), V_DE);
    CHECK_EQ(RUN4("\x48\xf7\xf9", ~0ull, 0, 2, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x7fffffffffffffffull);
    CHECK_EQ(st.gpr[X86_RDX], 1);
    /* -(2^64) / 2^63... : RDX:RAX = -2^64, RCX = 2^63 (negative) -> 2. */
    CHECK_EQ(RUN4("\x48\xf7\xf9", 0, 0, 1ull << 63, ~0ull), -1);
    CHECK_EQ(st.gpr[X86_RAX], 2);
    CHECK_EQ(st.gpr[X86_RDX], 0);
    /* idiv by zero. */
    CHECK_EQ(RUN4("\x48\xf7\xf9", 1, 0, 0, 0), V_DE);
}

static void bt(void)
{
    NEED_EMU();
    const uint64_t others = F_ZF | F_SF | F_OF | F_PF | F_AF;
    /* bt eax, ebx: offset 35 is bit 3 (mod 32); ZF untouched. */
    t_begin(false);
    st.gpr[X86_RAX] = 8;
    st.gpr[X86_RBX] = 35;
    st.rflags = 2 | F_ZF;
    CHECK_EQ(RUN("\x0f\xa3\xd8"), -1);
    CHECK_FLAGS(F_CF | F_ZF, F_CF | F_ZF);
    /* bt rax, rbx: offset 127 is bit 63. */
    CHECK_EQ(RUN4("\x48\x0f\xa3\xd8", 1ull << 63, 127, 0, 0), -1);
    CHECK_FLAGS(F_CF, F_CF);
    /* bt [rdi], ebx with -1: bit 31 of the dword at rdi - 4. */
    memset(h.ram + DATA, 0, 64);
    h.ram[DATA + 15] = 0x80;
    CHECK_EQ(RUN4("\x0f\xa3\x1f", 0, 0xffffffff, 0, 0), -1);
    CHECK_FLAGS(F_CF, F_CF);
    /* bt [rdi], ebx with 100: bit 4 of the dword at rdi + 12. */
    h.ram[DATA + 28] = 0x10;
    CHECK_EQ(RUN4("\x0f\xa3\x1f", 0, 100, 0, 0), -1);
    CHECK_FLAGS(F_CF, F_CF);
    CHECK_EQ(RUN4("\x0f\xa3\x1f", 0, 99, 0, 0), -1);
    CHECK_FLAGS(F_CF, 0);
    /* bt [rdi], bx with -17: bit 15 of the word at rdi - 4. */
    h.ram[DATA + 13] = 0x80;
    CHECK_EQ(RUN4("\x66\x0f\xa3\x1f", 0, 0xffef, 0, 0), -1);
    CHECK_FLAGS(F_CF, F_CF);
    /* bt [rdi], rbx with -65: bit 63 of the qword at rdi - 16. */
    h.ram[DATA + 7] = 0x80;
    CHECK_EQ(RUN4("\x48\x0f\xa3\x1f", 0, (uint64_t)-65, 0, 0), -1);
    CHECK_FLAGS(F_CF, F_CF);
    /* bts [rdi], ebx with 33: sets bit 1 of the dword at rdi + 4. */
    CHECK_EQ(RUN4("\x0f\xab\x1f", 0, 33, 0, 0), -1);
    CHECK_EQ(h.ram[DATA + 20], 2);
    CHECK_FLAGS(F_CF, 0);
    /* lock btr [rdi], ebx: clears it again; CF = the old bit. */
    CHECK_EQ(RUN4("\xf0\x0f\xb3\x1f", 0, 33, 0, 0), -1);
    CHECK_EQ(h.ram[DATA + 20], 0);
    CHECK_FLAGS(F_CF, F_CF);
    /* lock btc [rdi], rbx with -1: bit 63 of the qword at rdi - 8. */
    CHECK_EQ(RUN4("\xf0\x48\x0f\xbb\x1f", 0, ~0ull, 0, 0), -1);
    CHECK_EQ(h.ram[DATA + 15], 0x00);
    CHECK_FLAGS(F_CF, F_CF);
    /* btc eax, ebx: a 32-bit register destination zero-extends. */
    CHECK_EQ(RUN4("\x0f\xbb\xd8", 0xffffffff00000001ull, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_FLAGS(F_CF, F_CF);
    /* Group 8: bt eax, 33 is bit 1; the other flags are left alone here. */
    t_begin(false);
    st.gpr[X86_RAX] = 2;
    st.rflags = 2 | others;
    CHECK_EQ(RUN("\x0f\xba\xe0\x21"), -1);
    CHECK_FLAGS(F_ARITH, F_CF | others);
    /* bts dword [rdi], 35: bit 3 of the dword at rdi itself (no offset). */
    CHECK_EQ(RUN4("\x0f\xba\x2f\x23", 0, 0, 0, 0), -1);
    CHECK_EQ(h.ram[DATA + 16], 8);
    CHECK_FLAGS(F_CF, 0);
    /* btr word [rdi], 17: bit 1 of the word at rdi. */
    h.ram[DATA + 16] = 2;
    CHECK_EQ(RUN4("\x66\x0f\xba\x37\x11", 0, 0, 0, 0), -1);
    CHECK_EQ(h.ram[DATA + 16], 0);
    CHECK_FLAGS(F_CF, F_CF);
    /* btc rax, 63. */
    CHECK_EQ(RUN4("\x48\x0f\xba\xf8\x3f", 1, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x8000000000000001ull);
    CHECK_FLAGS(F_CF, 0);
    /* Group 8 /0-/3 and a locked BT are #UD; so is LOCK on 0F A3. */
    CHECK_EQ(RUN4("\x0f\xba\xc0\x01", 0, 0, 0, 0), V_UD);
    CHECK_EQ(RUN4("\xf0\x0f\xba\x27\x01", 0, 0, 0, 0), V_UD);
    CHECK_EQ(RUN4("\xf0\x0f\xa3\x1f", 0, 0, 0, 0), V_UD);
    /* lock bts dword [rdi], 0 works. */
    CHECK_EQ(RUN4("\xf0\x0f\xba\x2f\x00", 0, 0, 0, 0), -1);
    CHECK_EQ(h.ram[DATA + 16], 1);
}

static void bsf_bsr(void)
{
    NEED_EMU();
    /* bsf eax, ebx: 0x80 -> 7, ZF = 0, RAX's upper half clears. */
    CHECK_EQ(RUN4("\x0f\xbc\xc3", 0xffffffff12345678ull, 0x80, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 7);
    CHECK_FLAGS(F_ZF, 0);
    /* A zero source: ZF = 1, the destination is left as it was. */
    CHECK_EQ(RUN4("\x0f\xbc\xc3", 0xffffffff12345678ull, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xffffffff12345678ull);
    CHECK_FLAGS(F_ZF, F_ZF);
    CHECK_EQ(RUN4("\x48\x0f\xbd\xc3", 0x55, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x55);
    CHECK_FLAGS(F_ZF, F_ZF);
    /* bsr rax, rbx: the top bit. bsf rax, rbx: bit 0. */
    CHECK_EQ(RUN4("\x48\x0f\xbd\xc3", 0, 0x8000000000000001ull, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 63);
    CHECK_FLAGS(F_ZF, 0);
    CHECK_EQ(RUN4("\x48\x0f\xbc\xc3", 5, 0x8000000000000001ull, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_FLAGS(F_ZF, 0);
    /* bsr ax, bx: 16 bits merge. */
    CHECK_EQ(RUN4("\x66\x0f\xbd\xc3", 0x12345678ull, 0xff0001, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x12340000ull);
    /* F3 0F BC is BSF in roam-v1 (no BMI: not TZCNT): zero source keeps EAX. */
    CHECK_EQ(RUN4("\xf3\x0f\xbc\xc3", 0x1234, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x1234);
    CHECK_FLAGS(F_ZF, F_ZF);
    CHECK_EQ(RUN4("\xf3\x0f\xbd\xc3", 0x1234, 0x100, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 8); /* BSR, not LZCNT (which gives 23) */
    /* bsf eax, [rdi]. */
    t_put64(DATA + 16, 0x0000100000000000ull);
    CHECK_EQ(RUN4("\x48\x0f\xbc\x07", 0, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 44);
}

static const struct test_case tests[] = {
    TEST(mul), TEST(imul), {"div", div_}, TEST(idiv), TEST(bt), TEST(bsf_bsr),
};

TEST_INT_MAIN("emu_int_muldiv", tests)
