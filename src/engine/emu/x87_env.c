/* x87 control instructions and the 0F AE group (Intel SDM Vol. 1 8.1.10
 * and Figures 8-9 to 8-12 for the FSTENV/FSAVE layouts, 10.5.1 for FXSAVE;
 * Vol. 2: FLDCW, FSTCW, FSTSW, FSTENV, FLDENV, FSAVE, FRSTOR, FINIT, FCLEX,
 * FXSAVE, FXRSTOR, LDMXCSR, STMXCSR, LFENCE, MFENCE, SFENCE, CLFLUSH), and
 * the conversion between struct emu_fpu and the canonical FXSAVE image.
 * The reserved upper halves of the 32-bit environment's words are stored
 * as 0xffff, as Intel CPUs do. */
#include "handlers.h"
#include "x87.h"

#define X87_FCW_INIT 0x037f
#define X87_MXCSR_MASK 0xffffu /* roam-v1 has DAZ */

static void x87_init_state(struct emu_fpu *f)
{
    f->fcw = X87_FCW_INIT;
    f->fsw = 0;
    f->ftw = 0;
    f->fop = 0;
    f->fip = f->fdp = 0;
    f->fcs = f->fds = 0;
}

/* Every FCW load from memory (FLDCW, FLDENV, FRSTOR, FXRSTOR) keeps bit 6
 * set and bits 7, 13-15 clear, as hardware: an image FCW of 0x49f7 reads
 * back as 0x0977. */
static uint16_t x87_fcw_sanitize(uint16_t v)
{
    return (uint16_t)((v & ~0xe0c0u) | 0x40u);
}

int x87_fninit(struct emu_cpu *cpu, const struct emu_insn *in)
{
    (void)in;
    x87_init_state(&cpu->fpu);
    return EMU_OK;
}

int x87_fnclex(struct emu_cpu *cpu, const struct emu_insn *in)
{
    (void)in;
    cpu->fpu.fsw &= (uint16_t)~(0x00ffu | X87_SW_B);
    return EMU_OK;
}

int x87_fldcw(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint8_t b[2];
    int rc = x87_read(cpu, in, 0, 2, b);
    if (rc != EMU_OK)
        return rc;
    cpu->fpu.fcw = x87_fcw_sanitize((uint16_t)x87_get_le(b, 2));
    x87_update_es(&cpu->fpu);
    return EMU_OK;
}

int x87_fnstcw(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint8_t b[2];
    x87_put_le(b, cpu->fpu.fcw, 2);
    return x87_write(cpu, in, 2, b);
}

/* DD /7 FNSTSW m16 and DF E0 FNSTSW AX. */
int x87_fnstsw(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint8_t b[2];
    if (in->mod == 3) {
        emu_reg_set(cpu, in, X86_RAX, 2, cpu->fpu.fsw);
        return EMU_OK;
    }
    x87_put_le(b, cpu->fpu.fsw, 2);
    return x87_write(cpu, in, 2, b);
}

/* ---- FSTENV/FLDENV/FSAVE/FRSTOR images ---- */

static bool x87_real_format(const struct emu_cpu *cpu)
{
    return cpu->code_mode == EMU_MODE_REAL || cpu->code_mode == EMU_MODE_VM86;
}

/* Fills the environment in the layout of the operand size and mode;
 * returns its size (14 or 28). Real mode stores 20/32-bit linear pointers. */
static unsigned x87_env_store(const struct emu_cpu *cpu, const struct emu_insn *in, uint8_t *p)
{
    const struct emu_fpu *f = &cpu->fpu;
    uint32_t tag = x87_full_tag(f), fop = f->fop & 0x7ffu;
    uint32_t ip = (uint32_t)f->fip, dp = (uint32_t)f->fdp;

    if (x87_real_format(cpu)) {
        ip = ((uint32_t)f->fcs << 4) + ip;
        dp = ((uint32_t)f->fds << 4) + dp;
    }
    if (in->opsize == 2) {
        x87_put_le(p + 0, f->fcw, 2);
        x87_put_le(p + 2, f->fsw, 2);
        x87_put_le(p + 4, tag, 2);
        x87_put_le(p + 6, ip & 0xffff, 2);
        x87_put_le(p + 10, dp & 0xffff, 2);
        if (x87_real_format(cpu)) {
            x87_put_le(p + 8, ((ip >> 16) & 0xf) << 12 | fop, 2);
            x87_put_le(p + 12, ((dp >> 16) & 0xf) << 12, 2);
        } else {
            x87_put_le(p + 8, f->fcs, 2);
            x87_put_le(p + 12, f->fds, 2);
        }
        return 14;
    }
    x87_put_le(p + 0, 0xffff0000u | f->fcw, 4);
    x87_put_le(p + 4, 0xffff0000u | f->fsw, 4);
    x87_put_le(p + 8, 0xffff0000u | tag, 4);
    if (x87_real_format(cpu)) {
        x87_put_le(p + 12, 0xffff0000u | (ip & 0xffff), 4);
        x87_put_le(p + 16, (ip >> 16) << 12 | fop, 4);
        x87_put_le(p + 20, 0xffff0000u | (dp & 0xffff), 4);
        x87_put_le(p + 24, (dp >> 16) << 12, 4);
    } else {
        x87_put_le(p + 12, ip, 4);
        x87_put_le(p + 16, f->fcs | fop << 16, 4);
        x87_put_le(p + 20, dp, 4);
        x87_put_le(p + 24, 0xffff0000u | f->fds, 4);
    }
    return 28;
}

static void x87_env_load(struct emu_cpu *cpu, const struct emu_insn *in, const uint8_t *p)
{
    struct emu_fpu *f = &cpu->fpu;
    uint32_t tag;
    bool real = x87_real_format(cpu);

    if (in->opsize == 2) {
        f->fcw = (uint16_t)x87_get_le(p + 0, 2);
        f->fsw = (uint16_t)x87_get_le(p + 2, 2);
        tag = (uint32_t)x87_get_le(p + 4, 2);
        uint32_t w8 = (uint32_t)x87_get_le(p + 8, 2), w12 = (uint32_t)x87_get_le(p + 12, 2);
        f->fip = x87_get_le(p + 6, 2);
        f->fdp = x87_get_le(p + 10, 2);
        if (real) {
            f->fip |= (uint64_t)(w8 >> 12) << 16;
            f->fdp |= (uint64_t)(w12 >> 12) << 16;
            f->fop = (uint16_t)(w8 & 0x7ff);
            f->fcs = f->fds = 0;
        } else {
            /* The protected-mode 16-bit layout has no FOP: hardware clears it. */
            f->fcs = (uint16_t)w8;
            f->fds = (uint16_t)w12;
            f->fop = 0;
        }
    } else {
        f->fcw = (uint16_t)x87_get_le(p + 0, 2);
        f->fsw = (uint16_t)x87_get_le(p + 4, 2);
        tag = (uint32_t)x87_get_le(p + 8, 2);
        uint32_t w16 = (uint32_t)x87_get_le(p + 16, 4), w24 = (uint32_t)x87_get_le(p + 24, 4);
        if (real) {
            f->fip = x87_get_le(p + 12, 2) | (uint64_t)((w16 >> 12) & 0xffff) << 16;
            f->fdp = x87_get_le(p + 20, 2) | (uint64_t)((w24 >> 12) & 0xffff) << 16;
            f->fop = (uint16_t)(w16 & 0x7ff);
            f->fcs = f->fds = 0;
        } else {
            f->fip = x87_get_le(p + 12, 4);
            f->fcs = (uint16_t)w16;
            f->fop = (uint16_t)((w16 >> 16) & 0x7ff);
            f->fdp = x87_get_le(p + 20, 4);
            f->fds = (uint16_t)w24;
        }
    }
    f->fcw = x87_fcw_sanitize(f->fcw);
    f->ftw = 0;
    for (unsigned i = 0; i < 8; i++)
        if (((tag >> (2 * i)) & 3) != 3)
            f->ftw = (uint8_t)(f->ftw | 1u << i);
    x87_update_es(f);
}

/* The environment and save areas must be aligned to 2 bytes (16-bit
 * layouts) or 4 (32-bit layouts) when alignment checking is on; hardware
 * does not check more. */
static unsigned x87_env_align(const struct emu_insn *in)
{
    return in->opsize == 2 ? 2 : 4;
}

int x87_fnstenv(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint8_t b[28];
    unsigned n = x87_env_store(cpu, in, b);
    int rc = x87_block_write(cpu, in, n, n, x87_env_align(in), false, b);
    if (rc != EMU_OK)
        return rc;
    /* FSTENV then masks every exception, which clears ES and B (hardware
     * shows FSW 0x8084 become 0x0004): a FLDENV/FRSTOR of the image that
     * follows meets no pending exception, the next waiting instruction
     * after it does. */
    cpu->fpu.fcw |= F80_EXC_MASK;
    x87_update_es(&cpu->fpu);
    return EMU_OK;
}

int x87_fldenv(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint8_t b[28];
    unsigned n = in->opsize == 2 ? 14 : 28;
    int rc = x87_block_read(cpu, in, n, n, x87_env_align(in), false, b);
    if (rc != EMU_OK)
        return rc;
    x87_env_load(cpu, in, b);
    return EMU_OK;
}

int x87_fnsave(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint8_t b[108];
    unsigned n = x87_env_store(cpu, in, b);
    for (unsigned i = 0; i < 8; i++)
        x87_put80(b + n + 10 * i, x87_st(&cpu->fpu, i));
    int rc = x87_block_write(cpu, in, n + 80, n + 80, x87_env_align(in), false, b);
    if (rc != EMU_OK)
        return rc;
    x87_init_state(&cpu->fpu);
    return EMU_OK;
}

int x87_frstor(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint8_t b[108];
    unsigned n = in->opsize == 2 ? 14 : 28;
    int rc = x87_block_read(cpu, in, n + 80, n + 80, x87_env_align(in), false, b);
    if (rc != EMU_OK)
        return rc;
    x87_env_load(cpu, in, b);
    for (unsigned i = 0; i < 8; i++)
        cpu->fpu.r[x87_phys(&cpu->fpu, i)] = x87_get80(b + n + 10 * i);
    return EMU_OK;
}

/* ---- FXSAVE image ---- */

/* The bytes FXSAVE writes: x87 and MXCSR, then XMM0-7 (XMM0-15 in 64-bit
 * mode). The reserved tail and the software-available bytes are left. */
static unsigned x87_fxsave_size(const struct emu_cpu *cpu)
{
    return cpu->code64 ? 416 : 288;
}

static void x87_fxsave_fill(const struct emu_cpu *cpu, bool rexw, uint8_t *p)
{
    const struct emu_fpu *f = &cpu->fpu;

    memset(p, 0, 416);
    x87_put_le(p + 0, f->fcw, 2);
    x87_put_le(p + 2, f->fsw, 2);
    p[4] = f->ftw;
    x87_put_le(p + 6, f->fop, 2);
    if (rexw) {
        x87_put_le(p + 8, f->fip, 8);
        x87_put_le(p + 16, f->fdp, 8);
    } else {
        x87_put_le(p + 8, f->fip, 4);
        x87_put_le(p + 12, f->fcs, 2);
        x87_put_le(p + 16, f->fdp, 4);
        x87_put_le(p + 20, f->fds, 2);
    }
    x87_put_le(p + 24, f->mxcsr, 4);
    x87_put_le(p + 28, X87_MXCSR_MASK, 4);
    for (unsigned i = 0; i < 8; i++)
        x87_put80(p + 32 + 16 * i, x87_st(f, i));
    for (unsigned i = 0; i < 16; i++)
        memcpy(p + 160 + 16 * i, f->xmm[i].b, 16);
}

/* FXSAVE/FXRSTOR address the 512-byte area. With alignment checking on,
 * hardware raises #AC for an address that is not 4-byte aligned, ahead
 * of the #GP(0) for one that is not 16-byte aligned (the SDM leaves the
 * #AC width to the implementation). */
#define X87_FX_AREA 512
#define X87_FX_AC_ALIGN 4

static int x87_fxsave(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint8_t b[416];
    unsigned n = x87_fxsave_size(cpu);
    if (cpu->cr0 & (EMU_CR0_EM | EMU_CR0_TS))
        return emu_raise(cpu, EMU_NM);
    x87_fxsave_fill(cpu, in->rex & 8, b);
    return x87_block_write(cpu, in, n, X87_FX_AREA, X87_FX_AC_ALIGN, true, b);
}

static int x87_fxrstor(struct emu_cpu *cpu, const struct emu_insn *in)
{
    struct emu_fpu *f = &cpu->fpu;
    uint8_t b[416];
    unsigned n = x87_fxsave_size(cpu);
    if (cpu->cr0 & (EMU_CR0_EM | EMU_CR0_TS))
        return emu_raise(cpu, EMU_NM);
    int rc = x87_block_read(cpu, in, n, X87_FX_AREA, X87_FX_AC_ALIGN, true, b);
    if (rc != EMU_OK)
        return rc;
    uint32_t mxcsr = (uint32_t)x87_get_le(b + 24, 4);
    if (mxcsr & ~X87_MXCSR_MASK)
        return emu_gp0(cpu);
    f->fcw = x87_fcw_sanitize((uint16_t)x87_get_le(b + 0, 2));
    f->fsw = (uint16_t)x87_get_le(b + 2, 2);
    f->ftw = b[4];
    f->fop = (uint16_t)x87_get_le(b + 6, 2);
    if (in->rex & 8) {
        f->fip = x87_get_le(b + 8, 8);
        f->fdp = x87_get_le(b + 16, 8);
        f->fcs = f->fds = 0;
    } else {
        f->fip = x87_get_le(b + 8, 4);
        f->fcs = (uint16_t)x87_get_le(b + 12, 2);
        f->fdp = x87_get_le(b + 16, 4);
        f->fds = (uint16_t)x87_get_le(b + 20, 2);
    }
    f->mxcsr = mxcsr;
    for (unsigned i = 0; i < 8; i++)
        f->r[x87_phys(f, i)] = x87_get80(b + 32 + 16 * i);
    for (unsigned i = 0; i < (n - 160) / 16; i++)
        memcpy(f->xmm[i].b, b + 160 + 16 * i, 16);
    x87_update_es(f);
    return EMU_OK;
}

/* LDMXCSR/STMXCSR: #UD without CR4.OSFXSR or with CR0.EM, #NM with CR0.TS. */
static int x87_mxcsr(struct emu_cpu *cpu, const struct emu_insn *in, bool load)
{
    uint8_t b[4];
    int rc;

    if (!(cpu->cr4 & EMU_CR4_OSFXSR) || (cpu->cr0 & EMU_CR0_EM))
        return emu_ud(cpu);
    if (cpu->cr0 & EMU_CR0_TS)
        return emu_raise(cpu, EMU_NM);
    if (!load) {
        x87_put_le(b, cpu->fpu.mxcsr, 4);
        return x87_write(cpu, in, 4, b);
    }
    rc = x87_read(cpu, in, 0, 4, b);
    if (rc != EMU_OK)
        return rc;
    uint32_t v = (uint32_t)x87_get_le(b, 4);
    if (v & ~X87_MXCSR_MASK)
        return emu_gp0(cpu);
    cpu->fpu.mxcsr = v;
    return EMU_OK;
}

/* CLFLUSH: no cache to flush, but the address must be valid: the segment
 * check and a read translation give the faults, without touching MMIO. */
static int x87_clflush(struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t lin, gpa;
    int rc = emu_linear(cpu, in->seg, emu_ea(cpu, in), 1, EMU_READ, &lin);
    if (rc != EMU_OK)
        return rc;
    return emu_translate(cpu, lin, EMU_READ, cpu->cpl == 3, &gpa);
}

int x87_grp15(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned reg = in->reg & 7;

    /* F3/F2-prefixed forms (RDFSBASE, ...) are outside roam-v1. */
    if (in->rep)
        return emu_ud(cpu);
    if (in->mod == 3) {
        if (reg < 5)
            return emu_ud(cpu);
        /* LFENCE, MFENCE, SFENCE: order this vCPU's accesses against the
         * other vCPU threads. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        return EMU_OK;
    }
    switch (reg) {
    case 0: return x87_fxsave(cpu, in);
    case 1: return x87_fxrstor(cpu, in);
    case 2: return x87_mxcsr(cpu, in, true);
    case 3: return x87_mxcsr(cpu, in, false);
    case 7: return x87_clflush(cpu, in);
    default: return emu_ud(cpu); /* XSAVE, XRSTOR, XSAVEOPT: no XSAVE in roam-v1 */
    }
}

/* ---- the canonical state (emu.c) ---- */

void x87_to_fxsave(const struct emu_fpu *f, struct x86_fxsave *out)
{
    memset(out, 0, sizeof(*out));
    out->fcw = f->fcw;
    out->fsw = f->fsw;
    out->ftw = f->ftw;
    out->fop = f->fop;
    out->fip = f->fip;
    out->fdp = f->fdp;
    out->mxcsr = f->mxcsr;
    out->mxcsr_mask = X87_MXCSR_MASK;
    for (unsigned i = 0; i < 8; i++)
        x87_put80(out->st[i], x87_st(f, i));
    for (unsigned i = 0; i < 16; i++)
        memcpy(out->xmm[i], f->xmm[i].b, 16);
}

void x87_from_fxsave(struct emu_fpu *f, const struct x86_fxsave *in)
{
    f->fcw = in->fcw;
    f->fsw = in->fsw;
    f->ftw = in->ftw;
    f->fop = in->fop;
    f->fip = in->fip;
    f->fdp = in->fdp;
    f->fcs = f->fds = 0;
    f->mxcsr = in->mxcsr;
    for (unsigned i = 0; i < 8; i++)
        f->r[x87_phys(f, i)] = x87_get80(in->st[i]);
    for (unsigned i = 0; i < 16; i++)
        memcpy(f->xmm[i].b, in->xmm[i], 16);
}

void x87_reset(struct emu_fpu *f)
{
    memset(f, 0, sizeof(*f));
    x87_init_state(f);
    f->mxcsr = 0x1f80;
}
