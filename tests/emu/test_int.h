/* Shared by the integer-instruction tests (test_int_*.c): run a few code
 * bytes, then `hlt`, on the emu engine through tests/emu/harness.h, from a
 * state the test sets up, and read the final state back.
 * Expected values come from the SDM's definitions, worked by hand. */
#ifndef ROAM_TESTS_EMU_TEST_INT_H
#define ROAM_TESTS_EMU_TEST_INT_H

#include "emu/harness.h"
#include "test.h"

#define F_CF 0x001u
#define F_PF 0x004u
#define F_AF 0x010u
#define F_ZF 0x040u
#define F_SF 0x080u
#define F_DF 0x400u
#define F_OF 0x800u
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

/* Exception vectors t_run reports. */
#define V_DE 0
#define V_UD 6
#define V_GP 13
#define V_PF 14

static struct emu_h h;
static bool have_emu;
static struct x86_cpu_state st;

#define NEED_EMU()                                                                        \
    do {                                                                                  \
        if (!have_emu)                                                                    \
            SKIP("emu engine not built");                                                 \
    } while (0)

/* A fresh CPL0 state: 64-bit mode, or compatibility mode (32-bit code)
 * with compat. RFLAGS = 2; every GPR but RSP is 0. */
static inline void t_begin(bool compat)
{
    emu_h_state64(&h, &st, false);
    if (compat)
        emu_h_seg(&st.seg[X86_CS], EMU_H_CS32, 0xb, 0, 0, 1);
}

/* Runs len code bytes and a hlt. Returns -1 when the hlt was reached, the
 * vector of an exception (its stub halted), or -2 for any other exit. */
static inline int t_run(const char *code, size_t len)
{
    uint8_t buf[256];
    memcpy(buf, code, len);
    buf[len] = 0xf4;
    int r = emu_h_run(&h, buf, len + 1, &st);
    if (r != VM_EXIT_HLT)
        return -2;
    return emu_h_vector(&st);
}
#define RUN(code) t_run(code, sizeof(code) - 1)

/* The error code and faulting RIP an exception pushed (64-bit frame, CPL0:
 * [rsp] = error code when the vector has one, then RIP). */
static inline uint64_t t_stack(unsigned idx)
{
    uint64_t v;
    memcpy(&v, h.ram + st.gpr[X86_RSP] + 8 * idx, 8);
    return v;
}

#define CHECK_FLAGS(mask, want) CHECK_EQ(st.rflags & (mask), (want))

static inline uint64_t t_mem64(uint64_t gpa)
{
    uint64_t v;
    memcpy(&v, h.ram + gpa, 8);
    return v;
}

static inline void t_put64(uint64_t gpa, uint64_t v)
{
    memcpy(h.ram + gpa, &v, 8);
}

#define TEST_INT_MAIN(suite, list)                                                        \
    int main(int argc, char **argv)                                                       \
    {                                                                                     \
        have_emu = emu_h_init(&h) == 0;                                                   \
        int rc_ = test_run_all_(suite, list, sizeof(list) / sizeof(list[0]), argc, argv); \
        emu_h_destroy(&h);                                                                \
        return rc_;                                                                       \
    }

#endif
