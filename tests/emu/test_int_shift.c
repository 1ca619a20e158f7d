/* emu integer instructions, part 3: shifts and rotates (group 2) at counts
 * 0, 1, size-1, size, and counts that the 5/6-bit mask folds, RCL/RCR
 * through CF over 9 and 17 bits, memory operands, SHLD/SHRD.
 * Expected values are worked from the SDM's definitions; undefined flags
 * (OF for counts above 1, AF after shifts) are not checked. */
#include "test_int.h"

#define DATA EMU_H_DATA

static int runs(const char *code, size_t len, uint64_t rax, uint64_t rbx, uint64_t rcx,
                uint64_t flags)
{
    t_begin(false);
    st.gpr[X86_RAX] = rax;
    st.gpr[X86_RBX] = rbx;
    st.gpr[X86_RCX] = rcx;
    st.gpr[X86_RDI] = DATA;
    st.rflags = 2 | flags;
    return t_run(code, len);
}
#define RUNS(code, a, b, c, f) runs(code, sizeof(code) - 1, a, b, c, f)

/* Flags a shift defines (all but AF); a rotate defines CF, and OF for 1. */
#define SH_DEF (F_CF | F_PF | F_ZF | F_SF | F_OF)
#define SH_DEFN (F_CF | F_PF | F_ZF | F_SF)

static void shl_shr_sar(void)
{
    NEED_EMU();
    /* shl al, 1: 0x81 -> 0x02, CF = 1, OF = CF ^ MSB = 1. */
    CHECK_EQ(RUNS("\xd0\xe0", 0x81, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x02);
    CHECK_FLAGS(SH_DEF, F_CF | F_OF);
    /* shl al, 1: 0x40 -> 0x80, CF = 0, OF = 1. SAL (/6) is the same. */
    CHECK_EQ(RUNS("\xd0\xf0", 0x40, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x80);
    CHECK_FLAGS(SH_DEF, F_SF | F_OF);
    /* shl al, 1: 0xc0 -> 0x80, no overflow (top two bits equal). */
    CHECK_EQ(RUNS("\xd0\xe0", 0xc0, 0, 0, 0), -1);
    CHECK_FLAGS(SH_DEF, F_CF | F_SF);
    /* Count 0 (imm and CL = 32 masked): no flag or value changes. */
    CHECK_EQ(RUNS("\xc0\xe0\x00", 0x81, 0, 0, F_ARITH), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x81);
    CHECK_FLAGS(F_ARITH, F_ARITH);
    CHECK_EQ(RUNS("\xd2\xe0", 0x81, 0, 0x20, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x81);
    CHECK_FLAGS(F_ARITH, 0);
    CHECK_EQ(RUNS("\x48\xc1\xe0\x40", 3, 0, 0, F_CF | F_ZF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 3);
    CHECK_FLAGS(F_ARITH, F_CF | F_ZF);
    /* shl eax, 0 still writes EAX: bits 63:32 clear. */
    CHECK_EQ(RUNS("\xc1\xe0\x00", 0xffffffff00000005ull, 0, 0, F_SF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 5);
    CHECK_FLAGS(F_ARITH, F_SF);
    /* shl al, 8: everything out; 0 with ZF. */
    CHECK_EQ(RUNS("\xc0\xe0\x08", 0x01, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_FLAGS(F_ZF | F_PF | F_SF, F_ZF | F_PF);
    /* shl al, 7: CF = bit 1. */
    CHECK_EQ(RUNS("\xc0\xe0\x07", 0x03, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x80);
    CHECK_FLAGS(SH_DEFN, F_CF | F_SF);
    /* shl eax, 31; shl rax, 63. */
    CHECK_EQ(RUNS("\xc1\xe0\x1f", 3, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x80000000ull);
    CHECK_FLAGS(SH_DEFN, F_CF | F_SF | F_PF);
    CHECK_EQ(RUNS("\x48\xc1\xe0\x3f", 2, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_FLAGS(SH_DEFN, F_CF | F_ZF | F_PF);
    /* shl rax, cl with CL = 65: masked to 1. */
    CHECK_EQ(RUNS("\x48\xd3\xe0", 0x8000000000000001ull, 0, 65, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 2);
    CHECK_FLAGS(SH_DEF, F_CF | F_OF);
    /* shr al, 1: 0x81 -> 0x40, CF = 1, OF = the old MSB. */
    CHECK_EQ(RUNS("\xd0\xe8", 0x81, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x40);
    CHECK_FLAGS(SH_DEF, F_CF | F_OF);
    /* shr eax, cl with CL = 33 (count 1). */
    CHECK_EQ(RUNS("\xd3\xe8", 0xffffffff00000003ull, 0, 33, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 1);
    CHECK_FLAGS(SH_DEF, F_CF);
    /* shr rax, 63. */
    CHECK_EQ(RUNS("\x48\xc1\xe8\x3f", 0x8000000000000000ull, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 1);
    CHECK_FLAGS(SH_DEFN, 0);
    /* shr ax, 16: CF = bit 15. */
    CHECK_EQ(RUNS("\x66\xc1\xe8\x10", 0x12348000ull, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x12340000ull);
    CHECK_FLAGS(F_ZF | F_PF | F_SF, F_ZF | F_PF);
    /* sar al, 1: 0x81 -> 0xc0, CF = 1, OF = 0. */
    CHECK_EQ(RUNS("\xd0\xf8", 0x81, 0, 0, F_OF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xc0);
    CHECK_FLAGS(SH_DEF, F_CF | F_SF | F_PF);
    /* sar al, 7: 0x80 -> 0xff, CF = bit 6 = 0; sar al, 31: sign fills. */
    CHECK_EQ(RUNS("\xc0\xf8\x07", 0x80, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xff);
    CHECK_FLAGS(SH_DEFN, F_SF | F_PF);
    CHECK_EQ(RUNS("\xc0\xf8\x1f", 0x80, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xff);
    /* sar rax, 63; sar eax, 4 of a positive value. */
    CHECK_EQ(RUNS("\x48\xc1\xf8\x3f", 0x8000000000000000ull, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], ~0ull);
    CHECK_FLAGS(SH_DEFN, F_SF | F_PF);
    CHECK_EQ(RUNS("\xc1\xf8\x04", 0x7fffffff, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x07ffffff);
    CHECK_FLAGS(SH_DEFN, F_CF | F_PF);
    /* shl dword [rdi], 4: memory. */
    t_put64(DATA, 0x5555555510000001ull);
    CHECK_EQ(RUNS("\xc1\x27\x04", 0, 0, 0, 0), -1);
    CHECK_EQ(t_mem64(DATA), 0x5555555500000010ull);
    CHECK_FLAGS(SH_DEFN, F_CF);
    /* A count of 0 on memory writes nothing, faults nothing on RAM. */
    CHECK_EQ(RUNS("\xd3\x27", 0, 0, 0, F_CF), -1);
    CHECK_EQ(t_mem64(DATA), 0x5555555500000010ull);
    CHECK_FLAGS(F_ARITH, F_CF);
}

static void rotates(void)
{
    NEED_EMU();
    const uint64_t others = F_ZF | F_SF | F_PF | F_AF;
    /* rol al, 1: 0x81 -> 0x03, CF = 1, OF = MSB ^ CF = 1; others kept. */
    CHECK_EQ(RUNS("\xd0\xc0", 0x81, 0, 0, others), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x03);
    CHECK_FLAGS(F_ARITH, F_CF | F_OF | others);
    /* rol al, 8: value unchanged, CF = LSB (the count was not 0). */
    CHECK_EQ(RUNS("\xc0\xc0\x08", 0x81, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x81);
    CHECK_FLAGS(F_CF, F_CF);
    /* rol al, 9 = rol 1. rol al, 32 = count 0: nothing. */
    CHECK_EQ(RUNS("\xc0\xc0\x09", 0x81, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x03);
    CHECK_EQ(RUNS("\xc0\xc0\x20", 0x80, 0, 0, F_OF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x80);
    CHECK_FLAGS(F_ARITH, F_OF);
    /* ror al, 1: 0x01 -> 0x80, CF = 1, OF = bit 7 ^ bit 6 = 1. */
    CHECK_EQ(RUNS("\xd0\xc8", 0x01, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x80);
    CHECK_FLAGS(F_CF | F_OF, F_CF | F_OF);
    /* ror eax, 4; rol rax, 4; ror ax, 8. */
    CHECK_EQ(RUNS("\xc1\xc8\x04", 0x12345678, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x81234567);
    CHECK_FLAGS(F_CF, F_CF);
    CHECK_EQ(RUNS("\x48\xc1\xc0\x04", 0x123456789abcdef0ull, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x23456789abcdef01ull);
    CHECK_FLAGS(F_CF, F_CF);
    CHECK_EQ(RUNS("\x66\xc1\xc8\x08", 0xaaaa1280, 0, 0, F_CF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xaaaa8012);
    CHECK_FLAGS(F_CF, F_CF);
    /* rcl al, 1 with CF = 1: 0x80 -> 0x01, CF = 1, OF = MSB ^ CF = 1. */
    CHECK_EQ(RUNS("\xd0\xd0", 0x80, 0, 0, F_CF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x01);
    CHECK_FLAGS(F_CF | F_OF, F_CF | F_OF);
    /* rcl al, 1 with CF = 0: 0x40 -> 0x80, CF = 0, OF = 1. */
    CHECK_EQ(RUNS("\xd0\xd0", 0x40, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x80);
    CHECK_FLAGS(F_CF | F_OF, F_OF);
    /* rcl al, 9 rotates the 9-bit CF:AL all the way round. */
    CHECK_EQ(RUNS("\xd2\xd0", 0x55, 0, 9, F_CF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x55);
    CHECK_FLAGS(F_CF, F_CF);
    /* rcl al, 8 with CF = 0: AL = 0x01 -> 0x00 and CF = 1. */
    CHECK_EQ(RUNS("\xd2\xd0", 0x01, 0, 8, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x00);
    CHECK_FLAGS(F_CF, F_CF);
    /* rcl al, 10 = rcl 1 (mod 9). */
    CHECK_EQ(RUNS("\xd2\xd0", 0x80, 0, 10, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x00);
    CHECK_FLAGS(F_CF, F_CF);
    /* rcl ax, 16 with CF = 1: CF lands in bit 15. rcl ax, 17: no change. */
    CHECK_EQ(RUNS("\x66\xd3\xd0", 0, 0, 16, F_CF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x8000);
    CHECK_FLAGS(F_CF, 0);
    CHECK_EQ(RUNS("\x66\xd3\xd0", 0x1234, 0, 17, F_CF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x1234);
    CHECK_FLAGS(F_CF, F_CF);
    /* rcl eax, 33 = rcl 1 (mask 31): 0x80000000 -> 0, CF = 1. */
    CHECK_EQ(RUNS("\xd3\xd0", 0x80000000, 0, 33, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_FLAGS(F_CF | F_OF, F_CF | F_OF);
    /* rcl rax, 2 with CF = 1: 0x8000000000000001 -> 0x7, CF = 0. */
    CHECK_EQ(RUNS("\x48\xc1\xd0\x02", 0x8000000000000001ull, 0, 0, F_CF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 7);
    CHECK_FLAGS(F_CF, 0);
    /* rcl rax, 63 with CF = 0: bit 0 goes to 63, the rest through CF. */
    CHECK_EQ(RUNS("\x48\xc1\xd0\x3f", 3, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x8000000000000000ull);
    CHECK_FLAGS(F_CF, F_CF);
    /* rcr al, 1 with CF = 1: 0x01 -> 0x80, CF = 1, OF = old MSB ^ CF = 1. */
    CHECK_EQ(RUNS("\xd0\xd8", 0x01, 0, 0, F_CF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x80);
    CHECK_FLAGS(F_CF | F_OF, F_CF | F_OF);
    /* rcr rax, 1 with CF = 0: 1 -> 0, CF = 1, OF = 0. */
    CHECK_EQ(RUNS("\x48\xd1\xd8", 1, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0);
    CHECK_FLAGS(F_CF | F_OF, F_CF);
    /* rcr al, 2 with CF = 1: 0x02 -> 0x40, CF = 1. */
    CHECK_EQ(RUNS("\xc0\xd8\x02", 0x02, 0, 0, F_CF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x40);
    CHECK_FLAGS(F_CF, F_CF);
    /* rcr ax, 17: no change; rcr ax, 16 with CF = 0: bit 15 <- bit 0... */
    CHECK_EQ(RUNS("\x66\xd3\xd8", 0x8001, 0, 17, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x8001);
    CHECK_FLAGS(F_CF, 0);
    CHECK_EQ(RUNS("\x66\xd3\xd8", 0x8001, 0, 16, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x0002);
    CHECK_FLAGS(F_CF, F_CF);
    /* rol word [rdi], cl. */
    t_put64(DATA, 0x8001);
    CHECK_EQ(RUNS("\x66\xd3\x07", 0, 0, 4, 0), -1);
    CHECK_EQ(t_mem64(DATA), 0x0018);
    CHECK_FLAGS(F_CF, 0);
}

static void shld_shrd(void)
{
    NEED_EMU();
    /* shld eax, ebx, 4: 0x12345678 <- 0x9abcdef0 = 0x23456789; CF = bit 28. */
    CHECK_EQ(RUNS("\x0f\xa4\xd8\x04", 0x12345678, 0x9abcdef0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x23456789);
    CHECK_FLAGS(SH_DEFN, F_CF);
    /* shrd eax, ebx, 4: = 0x01234567; CF = bit 3. */
    CHECK_EQ(RUNS("\x0f\xac\xd8\x04", 0x12345678, 0x9abcdef0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x01234567);
    CHECK_FLAGS(SH_DEFN, F_CF);
    /* Count 1: OF is the sign change. */
    CHECK_EQ(RUNS("\x0f\xa4\xd8\x01", 0x40000000, 0, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x80000000);
    CHECK_FLAGS(SH_DEF, F_SF | F_OF | F_PF);
    CHECK_EQ(RUNS("\x0f\xac\xd8\x01", 1, 1, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x80000000);
    CHECK_FLAGS(SH_DEF, F_CF | F_SF | F_OF | F_PF);
    CHECK_EQ(RUNS("\x0f\xac\xd8\x01", 0x80000000, 1, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xc0000000);
    CHECK_FLAGS(SH_DEF, F_SF | F_PF);
    /* CL forms; CL = 0 and CL = 32 (masked) change nothing. */
    CHECK_EQ(RUNS("\x0f\xa5\xd8", 0x12345678, 0x9abcdef0, 8, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x3456789a);
    CHECK_EQ(RUNS("\x0f\xad\xd8", 0x12345678, 0x9abcdef0, 8, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xf0123456);
    CHECK_EQ(RUNS("\x0f\xa5\xd8", 0x12345678, 0x9abcdef0, 0, F_ZF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x12345678);
    CHECK_FLAGS(F_ARITH, F_ZF);
    CHECK_EQ(RUNS("\x0f\xad\xd8", 0x12345678, 0x9abcdef0, 32, F_CF), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x12345678);
    CHECK_FLAGS(F_ARITH, F_CF);
    /* shld ax, bx, 16: AX = BX, CF = old bit 0. */
    CHECK_EQ(RUNS("\x66\x0f\xa4\xd8\x10", 0x1235, 0xabcd, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xabcd);
    CHECK_FLAGS(SH_DEFN, F_CF | F_SF);
    /* shrd ax, bx, 4 (16 bits; the upper RAX kept). */
    CHECK_EQ(RUNS("\x66\x0f\xac\xd8\x04", 0x77771234, 0xabcd, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0x7777d123);
    CHECK_FLAGS(SH_DEFN, F_SF);
    /* 64 bits, count 63. */
    CHECK_EQ(RUNS("\x48\x0f\xa4\xd8\x3f", 1, 0x8000000000000000ull, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xc000000000000000ull);
    CHECK_FLAGS(SH_DEFN, F_SF | F_PF);
    CHECK_EQ(RUNS("\x48\x0f\xac\xd8\x3f", 0x8000000000000000ull, 1, 0, 0), -1);
    CHECK_EQ(st.gpr[X86_RAX], 3);
    CHECK_FLAGS(SH_DEFN, F_PF);
    /* shrd dword [rdi], ebx, 8. */
    t_put64(DATA, 0x1111111112345678ull);
    CHECK_EQ(RUNS("\x0f\xac\x1f\x08", 0, 0xab, 0, 0), -1);
    CHECK_EQ(t_mem64(DATA), 0x11111111ab123456ull);
    CHECK_FLAGS(SH_DEFN, F_SF | F_PF);
}

static const struct test_case tests[] = {
    TEST(shl_shr_sar),
    TEST(rotates),
    TEST(shld_shrd),
};

TEST_INT_MAIN("emu_int_shift", tests)
