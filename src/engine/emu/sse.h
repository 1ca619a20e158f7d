/* Helpers shared by the SSE/SSE2/MMX handler files (sse*.c): availability
 * checks, operand access and MXCSR exception reporting. Specs: SDM Vol. 1
 * chapters 9-11 (MMX, SSE, SSE2), Vol. 3A 2.5 (CR0.EM/TS, CR4.OSFXSR and
 * OSXMMEXCPT) and 13.1-13.4, Vol. 2 "Exception conditions" tables. */
#ifndef ROAM_ENGINE_EMU_SSE_H
#define ROAM_ENGINE_EMU_SSE_H

#include "emu.h"
#include "handlers.h"
#include "softfp.h"

/* Mandatory-prefix selector (emu_sse_prefix). */
enum { SSE_NP = 0, SSE_66 = 1, SSE_F3 = 2, SSE_F2 = 3 };

/* SSE/SSE2 instruction: #UD if CR0.EM or !CR4.OSFXSR, #NM if CR0.TS. */
int sse_check(struct emu_cpu *cpu);
/* MMX instruction (and the SSE ones on MMX registers): #UD if CR0.EM,
 * #NM if CR0.TS, #MF if an x87 exception is pending (FSW.ES). */
int sse_check_mmx(struct emu_cpu *cpu);
/* SSE instruction that also touches MMX state (CVTPI2PS, MOVDQ2Q, ...):
 * the SSE checks, then the pending x87 exception. */
int sse_check_mixed(struct emu_cpu *cpu);

/* The x87-to-MMX transition every MMX instruction makes: TOP = 0, every
 * tag valid. Called after all faulting checks. */
static inline void sse_mmx_enter(struct emu_cpu *cpu)
{
    cpu->fpu.fsw &= (uint16_t)~(7u << 11);
    cpu->fpu.ftw = 0xff;
}

static inline uint64_t sse_mm_get(const struct emu_cpu *cpu, unsigned i)
{
    return cpu->fpu.r[i & 7].mant;
}

/* An MMX write also sets the register's sign and exponent to all ones. */
static inline void sse_mm_set(struct emu_cpu *cpu, unsigned i, uint64_t v)
{
    cpu->fpu.r[i & 7].mant = v;
    cpu->fpu.r[i & 7].sexp = 0xffff;
}

/* Reads size bytes of the memory operand into out (zero-filled to 16).
 * align: a 16-byte operand that must be 16-byte aligned (#GP(0) if not);
 * a 16-byte operand without it gets #AC when misaligned and alignment
 * checking is on. */
int sse_load(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size, bool align,
             union emu_xmm *out);
int sse_store(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size, bool align,
              const void *data);
/* The r/m operand as an XMM register or memory of size bytes. */
int sse_rm_xmm(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size, bool align,
               union emu_xmm *out);
/* The r/m operand as an MMX register or size (4 or 8) bytes of memory. */
int sse_rm_mm(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size, uint64_t *out);

/* Ends a floating-point instruction whose operations reported into s:
 * sets the detected flags in MXCSR and returns EMU_OK when the results may
 * be written, or raises #XM (#UD without CR4.OSXMMEXCPT) for an unmasked
 * exception. An unmasked pre-computation exception stops the instruction
 * before any post-computation flag is set (SDM Vol. 1 11.5.3). */
int sse_fp_finish(struct emu_cpu *cpu, const struct softfp *s);

#endif
