/* emu string instructions: MOVS/STOS (including the chunked RAM paths:
 * large counts over many pages and calls, overlap, DF=1), CMPS/SCAS with
 * REPE/REPNE ending, LODS, REP with rCX = 0, address sizes 16 (wrapping)
 * and 32, a source segment override, a page fault in the middle of a REP
 * (registers reflect the iterations done), and INS/OUTS through port exits
 * and the I/O permission check. Expected values follow the SDM's
 * per-iteration definitions. */
#include "test_int.h"

#define SRC 0x100000u
#define DST 0x200000u

static void fill(uint64_t gpa, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        h.ram[gpa + i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

static void setup(uint64_t rsi, uint64_t rdi, uint64_t rcx, uint64_t rflags)
{
    t_begin(false);
    st.gpr[X86_RSI] = rsi;
    st.gpr[X86_RDI] = rdi;
    st.gpr[X86_RCX] = rcx;
    st.rflags = 2 | rflags;
}

static void movs(void)
{
    NEED_EMU();
    /* rep movsb, 100 bytes up. */
    fill(SRC, 100, 1);
    memset(h.ram + DST, 0, 200);
    setup(SRC, DST, 100, 0);
    CHECK_EQ(RUN("\xf3\xa4"), -1);
    CHECK(memcmp(h.ram + SRC, h.ram + DST, 100) == 0);
    CHECK_EQ(h.ram[DST + 100], 0);
    CHECK_EQ(st.gpr[X86_RSI], SRC + 100);
    CHECK_EQ(st.gpr[X86_RDI], DST + 100);
    CHECK_EQ(st.gpr[X86_RCX], 0);
    /* rep movsd, 5000 dwords from an unaligned source: many pages and calls. */
    fill(SRC + 3, 20000, 5);
    memset(h.ram + DST, 0, 20008);
    setup(SRC + 3, DST, 5000, 0);
    CHECK_EQ(RUN("\xf3\xa5"), -1);
    CHECK(memcmp(h.ram + SRC + 3, h.ram + DST, 20000) == 0);
    CHECK_EQ(h.ram[DST + 20000], 0);
    CHECK_EQ(st.gpr[X86_RSI], SRC + 3 + 20000);
    CHECK_EQ(st.gpr[X86_RDI], DST + 20000);
    CHECK_EQ(st.gpr[X86_RCX], 0);
    /* rep movsq with REX.W. */
    setup(SRC, DST + 0x8000, 513, 0);
    CHECK_EQ(RUN("\xf3\x48\xa5"), -1);
    CHECK(memcmp(h.ram + SRC, h.ram + DST + 0x8000, 513 * 8) == 0);
    CHECK_EQ(st.gpr[X86_RDI], DST + 0x8000 + 513 * 8);
    /* Overlap, destination one byte above: each iteration reads what the
     * previous one wrote, so the first byte repeats. */
    memset(h.ram + SRC, 0, 64);
    h.ram[SRC] = 0xab;
    setup(SRC, SRC + 1, 40, 0);
    CHECK_EQ(RUN("\xf3\xa4"), -1);
    for (unsigned i = 0; i <= 40; i++)
        CHECK_EQ(h.ram[SRC + i], 0xab);
    CHECK_EQ(h.ram[SRC + 41], 0);
    /* Overlap with dwords one byte apart: model the iterations. */
    uint8_t model[64];
    fill(SRC, 64, 9);
    memcpy(model, h.ram + SRC, 64);
    for (unsigned i = 0; i < 10; i++)
        memmove(model + 1 + 4 * i, model + 4 * i, 4);
    setup(SRC, SRC + 1, 10, 0);
    CHECK_EQ(RUN("\xf3\xa5"), -1);
    CHECK(memcmp(h.ram + SRC, model, 64) == 0);
    /* DF = 1: rep movsb goes down. */
    fill(SRC, 16, 3);
    memset(h.ram + DST, 0, 16);
    setup(SRC + 9, DST + 9, 10, F_DF);
    CHECK_EQ(RUN("\xf3\xa4"), -1);
    CHECK(memcmp(h.ram + SRC, h.ram + DST, 10) == 0);
    CHECK_EQ(h.ram[DST + 10], 0);
    CHECK_EQ(st.gpr[X86_RSI], SRC - 1);
    CHECK_EQ(st.gpr[X86_RDI], DST - 1);
    /* DF = 1 with words over a page boundary. */
    fill(SRC + 0x1000 - 64, 128, 4);
    memset(h.ram + DST, 0, 0x2000);
    setup(SRC + 0x1000 + 62, DST + 0x1000 + 62, 64, F_DF);
    CHECK_EQ(RUN("\xf3\x66\xa5"), -1);
    CHECK(memcmp(h.ram + SRC + 0x1000 - 64, h.ram + DST + 0x1000 - 64, 128) == 0);
    CHECK_EQ(st.gpr[X86_RSI], SRC + 0x1000 - 66);
    /* No REP: one element; RCX untouched. */
    setup(SRC, DST, 77, 0);
    CHECK_EQ(RUN("\x48\xa5"), -1);
    CHECK_EQ(t_mem64(DST), t_mem64(SRC));
    CHECK_EQ(st.gpr[X86_RSI], SRC + 8);
    CHECK_EQ(st.gpr[X86_RCX], 77);
    /* REP with RCX = 0 does nothing; F2 on MOVS acts as REP. */
    h.ram[DST] = 0x5a;
    setup(SRC, DST, 0, 0);
    CHECK_EQ(RUN("\xf3\xa4"), -1);
    CHECK_EQ(h.ram[DST], 0x5a);
    CHECK_EQ(st.gpr[X86_RSI], SRC);
    CHECK_EQ(st.gpr[X86_RDI], DST);
    fill(SRC, 8, 11);
    setup(SRC, DST, 8, 0);
    CHECK_EQ(RUN("\xf2\xa4"), -1);
    CHECK(memcmp(h.ram + SRC, h.ram + DST, 8) == 0);
    CHECK_EQ(st.gpr[X86_RCX], 0);
}

static void stos_lods(void)
{
    NEED_EMU();
    /* rep stosb over three pages and a bit. */
    memset(h.ram + DST, 0, 0x4000);
    setup(0, DST + 5, 0x3001, 0);
    st.gpr[X86_RAX] = 0x1234567890abcdcdull;
    CHECK_EQ(RUN("\xf3\xaa"), -1);
    CHECK_EQ(h.ram[DST + 4], 0);
    CHECK_EQ(h.ram[DST + 5], 0xcd);
    CHECK_EQ(h.ram[DST + 5 + 0x3000], 0xcd);
    CHECK_EQ(h.ram[DST + 6 + 0x3000], 0);
    CHECK_EQ(st.gpr[X86_RDI], DST + 5 + 0x3001);
    /* rep stosq with a pattern; rep stosw down. */
    setup(0, DST, 1000, 0);
    st.gpr[X86_RAX] = 0x0102030405060708ull;
    CHECK_EQ(RUN("\xf3\x48\xab"), -1);
    CHECK_EQ(t_mem64(DST), 0x0102030405060708ull);
    CHECK_EQ(t_mem64(DST + 999 * 8), 0x0102030405060708ull);
    setup(0, DST + 10, 3, F_DF);
    st.gpr[X86_RAX] = 0xbeef;
    CHECK_EQ(RUN("\xf3\x66\xab"), -1);
    for (unsigned i = 6; i < 12; i++)
        CHECK_EQ(h.ram[DST + i], (i & 1) ? 0xbe : 0xef);
    CHECK_EQ(h.ram[DST + 5], 0x03); /* below the last word: the stosq pattern */
    CHECK_EQ(h.ram[DST + 12], 0x04); /* above the first */
    CHECK_EQ(st.gpr[X86_RDI], DST + 4);
    CHECK_EQ(st.gpr[X86_RCX], 0);
    /* stosd: EAX only. */
    setup(0, DST, 0, 0);
    st.gpr[X86_RAX] = 0xffffffff11223344ull;
    CHECK_EQ(RUN("\xab"), -1);
    CHECK_EQ(t_mem64(DST), 0xbeef030411223344ull);
    CHECK_EQ(st.gpr[X86_RDI], DST + 4);
    /* lodsb; lodsd zero-extends RAX; rep lodsb leaves the last byte. */
    fill(SRC, 16, 0x40);
    setup(SRC, 0, 0, 0);
    st.gpr[X86_RAX] = 0xffffffffffffffffull;
    CHECK_EQ(RUN("\xac"), -1);
    CHECK_EQ(st.gpr[X86_RAX], 0xffffffffffffff00ull | h.ram[SRC]);
    CHECK_EQ(st.gpr[X86_RSI], SRC + 1);
    setup(SRC, 0, 0, 0);
    st.gpr[X86_RAX] = ~0ull;
    CHECK_EQ(RUN("\xad"), -1);
    uint32_t d;
    memcpy(&d, h.ram + SRC, 4);
    CHECK_EQ(st.gpr[X86_RAX], d);
    setup(SRC, 0, 3, 0);
    CHECK_EQ(RUN("\xf3\xac"), -1);
    CHECK_EQ(st.gpr[X86_RAX] & 0xff, h.ram[SRC + 2]);
    CHECK_EQ(st.gpr[X86_RSI], SRC + 3);
    CHECK_EQ(st.gpr[X86_RCX], 0);
    /* A source segment override (FS base) on LODS; ES for the destination
     * cannot be overridden (and 26 is ignored in 64-bit mode anyway). */
    setup(SRC - 0x1000, DST, 0, 0);
    st.seg[X86_FS].base = 0x1000;
    CHECK_EQ(RUN("\x64\xac"), -1);
    CHECK_EQ(st.gpr[X86_RAX] & 0xff, h.ram[SRC]);
    h.ram[DST] = 0;
    setup(SRC - 0x1000, DST, 0, 0);
    st.seg[X86_FS].base = 0x1000;
    st.seg[X86_GS].base = 0x5000;
    CHECK_EQ(RUN("\x65\x64\xa4"), -1); /* the last override wins: FS */
    CHECK_EQ(h.ram[DST], h.ram[SRC]);
}

static void cmps_scas(void)
{
    NEED_EMU();
    /* repe cmpsb stops after the first difference (index 7). */
    memcpy(h.ram + SRC, "hello world", 11);
    memcpy(h.ram + DST, "hello wOrld", 11);
    setup(SRC, DST, 11, 0);
    CHECK_EQ(RUN("\xf3\xa6"), -1);
    CHECK_EQ(st.gpr[X86_RCX], 3);
    CHECK_EQ(st.gpr[X86_RSI], SRC + 8);
    CHECK_EQ(st.gpr[X86_RDI], DST + 8);
    /* 'o' - 'O' = 0x20. */
    CHECK_FLAGS(F_ARITH, 0);
    /* repe cmpsb over equal buffers runs out with ZF = 1. */
    setup(SRC, DST, 7, 0);
    CHECK_EQ(RUN("\xf3\xa6"), -1);
    CHECK_EQ(st.gpr[X86_RCX], 0);
    CHECK_FLAGS(F_ZF, F_ZF);
    /* repne cmpsb stops at the first equal pair (index 0). */
    setup(SRC, DST, 11, 0);
    CHECK_EQ(RUN("\xf2\xa6"), -1);
    CHECK_EQ(st.gpr[X86_RCX], 10);
    CHECK_FLAGS(F_ZF, F_ZF);
    /* REP with RCX = 0: no comparison, flags unchanged. */
    setup(SRC, DST, 0, F_CF | F_SF);
    CHECK_EQ(RUN("\xf3\xa6"), -1);
    CHECK_FLAGS(F_ARITH, F_CF | F_SF);
    CHECK_EQ(st.gpr[X86_RSI], SRC);
    /* cmpsq without REP: flags of [rsi] - [rdi]. */
    t_put64(SRC, 1);
    t_put64(DST, 2);
    setup(SRC, DST, 0, 0);
    CHECK_EQ(RUN("\x48\xa7"), -1);
    CHECK_FLAGS(F_ARITH, F_CF | F_PF | F_AF | F_SF);
    CHECK_EQ(st.gpr[X86_RSI], SRC + 8);
    /* repne scasb as strlen: finds the 0 at index 3. */
    memcpy(h.ram + DST, "abc\0zz", 6);
    setup(0, DST, ~0ull, 0);
    st.gpr[X86_RAX] = 0x100;
    CHECK_EQ(RUN("\xf2\xae"), -1);
    CHECK_EQ(st.gpr[X86_RCX], ~0ull - 4);
    CHECK_EQ(st.gpr[X86_RDI], DST + 4);
    CHECK_FLAGS(F_ZF, F_ZF);
    /* repe scasw: stops at the first word unlike AX. */
    memcpy(h.ram + DST, "\x11\x22\x11\x22\x11\x23", 6);
    setup(0, DST, 3, 0);
    st.gpr[X86_RAX] = 0x2211;
    CHECK_EQ(RUN("\xf3\x66\xaf"), -1);
    CHECK_EQ(st.gpr[X86_RCX], 0);
    CHECK_EQ(st.gpr[X86_RDI], DST + 6);
    /* 0x2211 - 0x2311: borrow, negative. */
    CHECK_FLAGS(F_ARITH, F_CF | F_SF | F_PF);
}

static void address_sizes(void)
{
    NEED_EMU();
    /* Compatibility mode, 67: 16-bit SI/DI/CX, which wrap at 64 KiB and
     * leave bits 31:16 alone. */
    h.ram[0xffff] = 0x5c;
    h.ram[0x0000] = 0xc5;
    t_begin(true);
    st.gpr[X86_RSI] = 0x1234ffff;
    st.gpr[X86_RDI] = 0x56786000;
    st.gpr[X86_RCX] = 0xabcd0002;
    CHECK_EQ(RUN("\x67\xf3\xa4"), -1);
    CHECK_EQ(h.ram[0x6000], 0x5c);
    CHECK_EQ(h.ram[0x6001], 0xc5);
    CHECK_EQ(st.gpr[X86_RSI], 0x12340001);
    CHECK_EQ(st.gpr[X86_RDI], 0x56786002);
    CHECK_EQ(st.gpr[X86_RCX], 0xabcd0000);
    /* The same with DF = 1: SI goes 0x0000 -> 0xffff. */
    t_begin(true);
    st.gpr[X86_RSI] = 0x12340000;
    st.gpr[X86_RDI] = 0x56786010;
    st.gpr[X86_RCX] = 0xabcd0002;
    st.rflags = 2 | F_DF;
    CHECK_EQ(RUN("\x67\xf3\xa4"), -1);
    CHECK_EQ(h.ram[0x6010], 0xc5);
    CHECK_EQ(h.ram[0x600f], 0x5c);
    CHECK_EQ(st.gpr[X86_RSI], 0x1234fffe);
    CHECK_EQ(st.gpr[X86_RDI], 0x5678600e);
    /* 16-bit CX of 0 with ECX nonzero: nothing. */
    t_begin(true);
    st.gpr[X86_RCX] = 0x10000;
    st.gpr[X86_RDI] = 0x6020;
    h.ram[0x6020] = 0x77;
    CHECK_EQ(RUN("\x67\xf3\xaa"), -1);
    CHECK_EQ(h.ram[0x6020], 0x77);
    CHECK_EQ(st.gpr[X86_RCX], 0x10000);
    /* 64-bit mode, 67: ESI/EDI/ECX, zero-extended on update. */
    h.ram[SRC] = 0x99;
    setup(0xffffffff00000000ull | SRC, 0xffffffff00000000ull | DST, 0xffffffff00000001ull, 0);
    CHECK_EQ(RUN("\x67\xf3\xa4"), -1);
    CHECK_EQ(h.ram[DST], 0x99);
    CHECK_EQ(st.gpr[X86_RSI], SRC + 1);
    CHECK_EQ(st.gpr[X86_RDI], DST + 1);
    CHECK_EQ(st.gpr[X86_RCX], 0);
}

static void fault_mid_rep(void)
{
    NEED_EMU();
    /* RAM is mapped up to 8 MiB: rep stosb from 16 bytes below runs 16
     * iterations, then #PF at 0x800000 with RCX/RDI as after the 16th. */
    const uint64_t end = EMU_H_RAM;
    memset(h.ram + end - 32, 0, 32);
    setup(0, end - 16, 32, 0);
    st.gpr[X86_RAX] = 0xee;
    CHECK_EQ(RUN("\xf3\xaa"), V_PF);
    CHECK_EQ(st.gpr[X86_RCX], 16);
    CHECK_EQ(st.gpr[X86_RDI], end);
    CHECK_EQ(h.ram[end - 17], 0);
    CHECK_EQ(h.ram[end - 16], 0xee);
    CHECK_EQ(h.ram[end - 1], 0xee);
    CHECK_EQ(st.cr2, end);
    CHECK_EQ(t_stack(0), 2); /* error code: write, not present */
    CHECK_EQ(t_stack(1), EMU_H_CODE);
    /* rep movsd reading across the end: 3 dwords, then the 4th faults. */
    setup(end - 12, DST, 10, 0);
    CHECK_EQ(RUN("\xf3\xa5"), V_PF);
    CHECK_EQ(st.gpr[X86_RCX], 7);
    CHECK_EQ(st.gpr[X86_RSI], end);
    CHECK_EQ(st.gpr[X86_RDI], DST + 12);
    CHECK_EQ(t_stack(0), 0); /* read, not present */
    /* A dword straddling the end faults with nothing stored. */
    setup(end - 2, DST, 10, 0);
    h.ram[DST] = 0x33;
    CHECK_EQ(RUN("\xf3\xa5"), V_PF);
    CHECK_EQ(st.gpr[X86_RCX], 10);
    CHECK_EQ(h.ram[DST], 0x33);
    /* repe cmpsb faulting on the 3rd element keeps the flags of the 2nd. */
    memset(h.ram + end - 2, 0x41, 2);
    memset(h.ram + DST, 0x41, 4);
    setup(end - 2, DST, 4, F_CF);
    CHECK_EQ(RUN("\xf3\xa6"), V_PF);
    CHECK_EQ(st.gpr[X86_RCX], 2);
    CHECK_FLAGS(F_ARITH, F_ZF | F_PF);
}

/* Runs until the next exit, which must be a port access. */
static bool pio_exit(uint16_t port, bool write)
{
    if (h.ops->run(h.vcpu, &h.exit) != 0 || h.exit.reason != VM_EXIT_PIO)
        return false;
    return h.exit.u.pio.port == port && (bool)h.exit.u.pio.is_write == write;
}

static void ins_outs(void)
{
    NEED_EMU();
    /* rep outsb: three port writes in order. */
    memcpy(h.ram + SRC, "\x10\x20\x30", 3);
    setup(SRC, 0, 3, 0);
    st.gpr[X86_RDX] = 0x80;
    memcpy(h.ram + EMU_H_CODE, "\xf3\x6e\xf4", 3);
    CHECK(h.ops->set_state(h.vcpu, &st) == 0);
    for (unsigned i = 0; i < 3; i++) {
        CHECK(pio_exit(0x80, true));
        CHECK_EQ(h.exit.u.pio.size, 1);
        CHECK_EQ(h.exit.u.pio.data[0], 0x10 * (i + 1));
    }
    CHECK(h.ops->run(h.vcpu, &h.exit) == 0);
    CHECK_EQ(h.exit.reason, VM_EXIT_HLT);
    CHECK(h.ops->get_state(h.vcpu, &st) == 0);
    CHECK_EQ(st.gpr[X86_RSI], SRC + 3);
    CHECK_EQ(st.gpr[X86_RCX], 0);
    /* rep insw: two port reads answered, stored at ES:RDI. */
    memset(h.ram + DST, 0, 8);
    setup(0, DST, 2, 0);
    st.gpr[X86_RDX] = 0x1f0;
    memcpy(h.ram + EMU_H_CODE, "\xf3\x66\x6d\xf4", 4);
    CHECK(h.ops->set_state(h.vcpu, &st) == 0);
    CHECK(pio_exit(0x1f0, false));
    CHECK_EQ(h.exit.u.pio.size, 2);
    h.exit.u.pio.data[0] = 0x11;
    h.exit.u.pio.data[1] = 0x22;
    CHECK(pio_exit(0x1f0, false));
    h.exit.u.pio.data[0] = 0x33;
    h.exit.u.pio.data[1] = 0x44;
    CHECK(h.ops->run(h.vcpu, &h.exit) == 0);
    CHECK_EQ(h.exit.reason, VM_EXIT_HLT);
    CHECK(h.ops->get_state(h.vcpu, &st) == 0);
    CHECK_EQ(t_mem64(DST), 0x44332211ull);
    CHECK_EQ(st.gpr[X86_RDI], DST + 4);
    CHECK_EQ(st.gpr[X86_RCX], 0);
    /* outsd with REX.W stays 4 bytes. */
    memcpy(h.ram + SRC, "\x01\x02\x03\x04\x05", 5);
    setup(SRC, 0, 0, 0);
    st.gpr[X86_RDX] = 0x80;
    memcpy(h.ram + EMU_H_CODE, "\x48\x6f\xf4", 3);
    CHECK(h.ops->set_state(h.vcpu, &st) == 0);
    CHECK(pio_exit(0x80, true));
    CHECK_EQ(h.exit.u.pio.size, 4);
    CHECK(h.ops->run(h.vcpu, &h.exit) == 0);
    CHECK(h.ops->get_state(h.vcpu, &st) == 0);
    CHECK_EQ(st.gpr[X86_RSI], SRC + 4);
    /* insb whose destination faults: #PF before the port is read. */
    setup(0, EMU_H_RAM, 0, 0);
    st.gpr[X86_RDX] = 0x60;
    CHECK_EQ(RUN("\x6c"), V_PF);
    /* At CPL3 with IOPL 0 and the I/O bitmap beyond the TSS limit: #GP(0)
     * at the INS. REP with RCX = 0 does nothing and checks nothing: the
     * #GP then comes from the privileged hlt after it. */
    h.ram[EMU_H_TSS + 102] = 0x68;
    emu_h_state64(&h, &st, true);
    st.gpr[X86_RDI] = DST;
    CHECK_EQ(RUN("\x6c"), V_GP);
    CHECK_EQ(t_stack(0), 0);
    CHECK_EQ(t_stack(1), EMU_H_CODE);
    emu_h_state64(&h, &st, true);
    st.gpr[X86_RDI] = DST;
    CHECK_EQ(RUN("\xf3\x6c"), V_GP);
    CHECK_EQ(t_stack(1), EMU_H_CODE + 2);
    h.ram[EMU_H_TSS + 102] = 0;
}

/* REP through MMIO: every element is its own exit, answered in order;
 * the registers advance one element per answer. */
static void mmio_rep(void)
{
    NEED_EMU();
    const uint64_t mmio = 0x900000;
    /* Map linear 8-10 MiB to physical 8-10 MiB: beyond RAM, so MMIO. */
    t_put64(EMU_H_PT + 0x2000 + 8 * 4, (4ull << 21) | 0x87);
    /* rep movsw from MMIO into RAM. */
    memset(h.ram + DST, 0, 8);
    setup(mmio + 0x10, DST, 3, 0);
    memcpy(h.ram + EMU_H_CODE, "\xf3\x66\xa5\xf4", 4);
    CHECK(h.ops->set_state(h.vcpu, &st) == 0);
    for (unsigned i = 0; i < 3; i++) {
        CHECK(h.ops->run(h.vcpu, &h.exit) == 0);
        CHECK_EQ(h.exit.reason, VM_EXIT_MMIO);
        CHECK_EQ(h.exit.u.mmio.gpa, mmio + 0x10 + 2 * i);
        CHECK_EQ(h.exit.u.mmio.is_write, 0);
        CHECK_EQ(h.exit.u.mmio.size, 2);
        h.exit.u.mmio.data[0] = (uint8_t)(0xa0 + i);
        h.exit.u.mmio.data[1] = (uint8_t)(0xb0 + i);
    }
    CHECK(h.ops->run(h.vcpu, &h.exit) == 0);
    CHECK_EQ(h.exit.reason, VM_EXIT_HLT);
    CHECK(h.ops->get_state(h.vcpu, &st) == 0);
    CHECK_EQ(t_mem64(DST), 0x0000b2a2b1a1b0a0ull);
    CHECK_EQ(st.gpr[X86_RSI], mmio + 0x16);
    CHECK_EQ(st.gpr[X86_RCX], 0);
    /* rep stosd into MMIO: three writes, in order. */
    setup(0, mmio + 0x100, 3, 0);
    st.gpr[X86_RAX] = 0x11223344;
    memcpy(h.ram + EMU_H_CODE, "\xf3\xab\xf4", 3);
    CHECK(h.ops->set_state(h.vcpu, &st) == 0);
    for (unsigned i = 0; i < 3; i++) {
        CHECK(h.ops->run(h.vcpu, &h.exit) == 0);
        CHECK_EQ(h.exit.reason, VM_EXIT_MMIO);
        CHECK_EQ(h.exit.u.mmio.gpa, mmio + 0x100 + 4 * i);
        CHECK_EQ(h.exit.u.mmio.is_write, 1);
        uint32_t v;
        memcpy(&v, h.exit.u.mmio.data, 4);
        CHECK_EQ(v, 0x11223344);
    }
    CHECK(h.ops->run(h.vcpu, &h.exit) == 0);
    CHECK_EQ(h.exit.reason, VM_EXIT_HLT);
    CHECK(h.ops->get_state(h.vcpu, &st) == 0);
    CHECK_EQ(st.gpr[X86_RDI], mmio + 0x10c);
    /* repe cmpsb with an MMIO source: ends at the first difference. */
    memcpy(h.ram + DST, "ab", 2);
    setup(mmio, DST, 5, 0);
    memcpy(h.ram + EMU_H_CODE, "\xf3\xa6\xf4", 3);
    CHECK(h.ops->set_state(h.vcpu, &st) == 0);
    CHECK(h.ops->run(h.vcpu, &h.exit) == 0);
    CHECK_EQ(h.exit.reason, VM_EXIT_MMIO);
    h.exit.u.mmio.data[0] = 'a';
    CHECK(h.ops->run(h.vcpu, &h.exit) == 0);
    CHECK_EQ(h.exit.reason, VM_EXIT_MMIO);
    CHECK_EQ(h.exit.u.mmio.gpa, mmio + 1);
    h.exit.u.mmio.data[0] = 'x';
    CHECK(h.ops->run(h.vcpu, &h.exit) == 0);
    CHECK_EQ(h.exit.reason, VM_EXIT_HLT);
    CHECK(h.ops->get_state(h.vcpu, &st) == 0);
    CHECK_EQ(st.gpr[X86_RCX], 3);
    CHECK_EQ(st.gpr[X86_RSI], mmio + 2);
    CHECK_FLAGS(F_ZF | F_CF, 0); /* 'x' - 'b' */
    t_put64(EMU_H_PT + 0x2000 + 8 * 4, 0);
}

static const struct test_case tests[] = {
    TEST(movs), TEST(stos_lods), TEST(cmps_scas), TEST(address_sizes), TEST(fault_mid_rep),
    TEST(ins_outs), TEST(mmio_rep),
};

TEST_INT_MAIN("emu_int_string", tests)
