/* The software engine's internal contract (DESIGN.md, "Engines", emu): the
 * vCPU state, the decoded instruction, memory access through segmentation
 * and paging, lazy arithmetic flags and exceptions. Every instruction-family
 * file (alu.c, string.c, x87.c, ...) is written against this header only.
 *
 * Rules every handler follows (they make faults and I/O exits restartable):
 *  - All reads and all checks that can fault come before any architectural
 *    write. A handler that returns EMU_FAULT or EMU_EXIT has changed nothing
 *    the guest can see; the instruction is delivered the exception, or is
 *    executed again once the core has the I/O data (the reads it already
 *    made are replayed from cpu->io, see mem.c).
 *  - Memory writes go last, and register writes after them. Writes to MMIO
 *    are queued and reported after the instruction completes.
 *  - REP string instructions do a bounded number of iterations per call,
 *    each a complete unit (RSI/RDI/RCX updated), and set next_rip = rip
 *    while iterations remain. Only the first iteration of a call may return
 *    EMU_FAULT or EMU_EXIT; when a later one would, the handler returns
 *    EMU_OK with the state after the previous iteration (the next call
 *    meets the fault or I/O as its first iteration).
 *  - RIP: the loop sets cpu->next_rip = rip + length before the handler;
 *    a branch writes cpu->next_rip. cpu->rip is the instruction's own
 *    address until the handler returns EMU_OK.
 *
 * Spec: Intel SDM Vol. 2 (instructions), Vol. 3A chapters 3-7 (segmentation,
 * paging, protection, interrupts). No OS headers here: this engine builds
 * for every host roam supports. */
#ifndef ROAM_ENGINE_EMU_H
#define ROAM_ENGINE_EMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/cpu_model.h"
#include "core/cpu_state.h"
#include "engine/engine.h"

/* ---- handler results ---- */
enum {
    EMU_OK = 0,
    EMU_FAULT = 1, /* an exception is recorded in cpu->exc; deliver it */
    EMU_EXIT = 2,  /* the instruction needs I/O data; run() returns cpu->exit */
    EMU_HLT = 3,   /* HLT completed (rip advanced); the vCPU halts */
    EMU_STOP = 4,  /* the engine cannot go on: cpu->stop_reason says why */
};

/* ---- exception vectors (SDM Vol. 3A 6.3.1) ----
 * #OF, #DF, #PF and #AC are EMU_VEC_OF/DF/PF/AC: EMU_OF, EMU_DF, EMU_PF and
 * EMU_AC are the RFLAGS bits. */
enum {
    EMU_DE = 0, EMU_DB = 1, EMU_NMI = 2, EMU_BP = 3, EMU_VEC_OF = 4, EMU_BR = 5, EMU_UD = 6,
    EMU_NM = 7, EMU_VEC_DF = 8, EMU_TS = 10, EMU_NP = 11, EMU_SS = 12, EMU_GP = 13,
    EMU_VEC_PF = 14, EMU_MF = 16, EMU_VEC_AC = 17, EMU_MC = 18, EMU_XM = 19,
};

/* ---- RFLAGS bits ---- */
#define EMU_CF (1u << 0)
#define EMU_PF (1u << 2)
#define EMU_AF (1u << 4)
#define EMU_ZF (1u << 6)
#define EMU_SF (1u << 7)
#define EMU_TF (1u << 8)
#define EMU_IF (1u << 9)
#define EMU_DF (1u << 10)
#define EMU_OF (1u << 11)
#define EMU_IOPL (3u << 12)
#define EMU_NT (1u << 14)
#define EMU_RF (1u << 16)
#define EMU_VM (1u << 17)
#define EMU_AC (1u << 18)
#define EMU_VIF (1u << 19)
#define EMU_VIP (1u << 20)
#define EMU_ID (1u << 21)
#define EMU_ARITH_FLAGS (EMU_CF | EMU_PF | EMU_AF | EMU_ZF | EMU_SF | EMU_OF)

/* ---- control register bits ---- */
#define EMU_CR0_PE (1ull << 0)
#define EMU_CR0_MP (1ull << 1)
#define EMU_CR0_EM (1ull << 2)
#define EMU_CR0_TS (1ull << 3)
#define EMU_CR0_ET (1ull << 4)
#define EMU_CR0_NE (1ull << 5)
#define EMU_CR0_WP (1ull << 16)
#define EMU_CR0_AM (1ull << 18)
#define EMU_CR0_NW (1ull << 29)
#define EMU_CR0_CD (1ull << 30)
#define EMU_CR0_PG (1ull << 31)
#define EMU_CR4_VME (1ull << 0)
#define EMU_CR4_PVI (1ull << 1)
#define EMU_CR4_TSD (1ull << 2)
#define EMU_CR4_DE (1ull << 3)
#define EMU_CR4_PSE (1ull << 4)
#define EMU_CR4_PAE (1ull << 5)
#define EMU_CR4_MCE (1ull << 6)
#define EMU_CR4_PGE (1ull << 7)
#define EMU_CR4_PCE (1ull << 8)
#define EMU_CR4_OSFXSR (1ull << 9)
#define EMU_CR4_OSXMMEXCPT (1ull << 10)
#define EMU_EFER_SCE (1ull << 0)
#define EMU_EFER_LME (1ull << 8)
#define EMU_EFER_LMA (1ull << 10)
#define EMU_EFER_NXE (1ull << 11)

/* ---- the decoded instruction ---- */
#define EMU_NOREG 0xff
#define EMU_RIPREL 0xfe /* ea_base: RIP-relative (64-bit mode) */

struct emu_cpu;
struct emu_insn;
typedef int (*emu_handler)(struct emu_cpu *cpu, const struct emu_insn *in);

struct emu_insn {
    emu_handler handler;
    int64_t disp;     /* sign-extended displacement */
    uint64_t imm;     /* first immediate, sign-extended to 64 bits where the
                       * instruction sign-extends it (ib of 83, iz, jumps) */
    uint16_t imm2;    /* second immediate: ENTER's level byte, far pointer selector */
    uint16_t opcode;  /* 0x00-0xff one-byte map, 0x1xx 0F map, 0x2xx 0F38, 0x3xx 0F3A */
    uint8_t len;      /* 1-15 */
    uint8_t opsize;   /* 1, 2, 4 or 8 bytes (byte-form opcodes have 1) */
    uint8_t addrsize; /* 2, 4 or 8 */
    uint8_t seg;      /* segment of the memory operand (enum x86_sreg), override applied */
    uint8_t seg_override; /* 1 if a segment prefix was present */
    uint8_t rep;      /* 0, 0xf3 (REP/REPE) or 0xf2 (REPNE): the last one seen */
    uint8_t pfx66;    /* operand-size prefix present */
    uint8_t lock;
    uint8_t rex;      /* the REX byte, 0 if none */
    uint8_t mod;      /* ModRM.mod (3 = register operand) */
    uint8_t reg;      /* ModRM.reg with REX.R (0-15); the low 3 bits select in groups */
    uint8_t rm;       /* ModRM.rm with REX.B for register operands (0-15) */
    uint8_t ea_base;  /* base register, EMU_NOREG or EMU_RIPREL */
    uint8_t ea_index; /* index register or EMU_NOREG */
    uint8_t ea_scale; /* 0-3 */
    uint8_t has_modrm;
    uint8_t fast_op;  /* enum emu_fast_op (fast.h): run inline by the block loop */
};

/* Mandatory-prefix selector for the SSE maps: 0 none, 1 = 66, 2 = F3, 3 = F2
 * (the last F2/F3 wins over 66, as on hardware). */
static inline unsigned emu_sse_prefix(const struct emu_insn *in)
{
    if (in->rep == 0xf3)
        return 2;
    if (in->rep == 0xf2)
        return 3;
    return in->pfx66 ? 1 : 0;
}

/* ---- lazy arithmetic flags ----
 * After an arithmetic instruction the six arithmetic flags live in
 * cpu->lf (operation, operands, result) and are computed only when read.
 * When lf.op is EMU_LF_NONE they are in cpu->rflags. */
enum emu_lf_op {
    EMU_LF_NONE = 0,
    EMU_LF_ADD,   /* res = src1 + src2 */
    EMU_LF_ADC,   /* res = src1 + src2 + carry-in (aux) */
    EMU_LF_SUB,   /* res = src1 - src2 (also CMP) */
    EMU_LF_SBB,   /* res = src1 - src2 - borrow-in (aux) */
    EMU_LF_LOGIC, /* AND/OR/XOR/TEST: CF=OF=0, AF=0 */
    EMU_LF_INC,   /* res = src1 + 1, CF kept in aux */
    EMU_LF_DEC,   /* res = src1 - 1, CF kept in aux */
    EMU_LF_NEG,   /* res = -src1 */
};

struct emu_lazy {
    uint64_t res, src1, src2;
    uint8_t op;   /* enum emu_lf_op */
    uint8_t size; /* operand size in bytes */
    uint8_t aux;  /* carry-in (ADC/SBB) or the preserved CF (INC/DEC) */
};

/* ---- x87 / SSE state ---- */
struct emu_f80 {
    uint64_t mant; /* explicit integer bit at bit 63 */
    uint16_t sexp; /* sign (bit 15) and 15-bit biased exponent */
};

union emu_xmm {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t d[4];
    uint64_t q[2];
    float f[4];
    double f64[2];
};

struct emu_fpu {
    struct emu_f80 r[8]; /* physical registers R0-R7; ST(i) = r[(top + i) & 7] */
    uint16_t fcw;
    uint16_t fsw;        /* TOP is kept in bits 11-13 */
    uint8_t ftw;         /* abridged tag: bit i = R(i) not empty */
    uint16_t fop;
    uint64_t fip, fdp;
    uint16_t fcs, fds;
    union emu_xmm xmm[16];
    uint32_t mxcsr;
};

static inline unsigned emu_fpu_top(const struct emu_fpu *f)
{
    return (f->fsw >> 11) & 7;
}

/* ---- software TLB ---- */
#define EMU_TLB_SIZE 256
#define EMU_TLB_INVALID (~0ull)

struct emu_slot;
struct emu_tlb_entry {
    uint64_t tag;     /* linear page | EMU_TLB_USER for CPL3 accesses; INVALID if empty */
    uint8_t *host;    /* host address of the page; NULL for MMIO */
    uint64_t gpa;     /* guest-physical page | EMU_TLB_GLOBAL */
    struct emu_slot *slot; /* the RAM slot holding the page; NULL for MMIO */
};
#define EMU_TLB_USER 1ull
#define EMU_TLB_GLOBAL 2ull  /* on the entry's gpa low bits: from a global mapping */
#define EMU_TLB_LARGE 4ull   /* ... from a 2 MiB or 4 MiB page (INVLPG drops them all) */

enum emu_access { EMU_READ = 0, EMU_WRITE = 1, EMU_EXEC = 2 };

struct emu_tlb {
    struct emu_tlb_entry e[3][EMU_TLB_SIZE]; /* indexed by enum emu_access */
};

/* ---- decoded-instruction cache ---- */
#define EMU_ICACHE_SIZE 4096
struct emu_icache_entry {
    uint64_t gpa;     /* physical address of the first byte; ~0 if empty */
    uint32_t gen;     /* the code page's generation at decode time */
    uint8_t mode;     /* cpu->code_mode at decode time */
    struct emu_insn in;
};

/* ---- decoded basic blocks (exec.c) ----
 * Straight-line runs of instructions from one code page, decoded once and
 * run back to back without the per-instruction fetch; keyed like the
 * decoded-instruction cache. A block ends after a branch, an instruction
 * that changes the mode, interrupt or debug state, or I/O. The headers are
 * a direct-mapped table; the instructions of all blocks fill one arena in
 * the order they were decoded, and the whole cache starts again empty when
 * the arena is full (as QEMU flushes its translation buffer). */
#define EMU_BLOCK_MAX 32
#define EMU_BLOCK_CACHE 32768   /* headers, 24 bytes each */
#define EMU_BLOCK_ARENA 131072  /* instructions, 48 bytes each: 6 MiB */
struct emu_block {
    uint64_t gpa;     /* physical address of the first byte; ~0 if empty */
    uint32_t gen;     /* the code page's generation at decode time */
    uint8_t mode;     /* cpu->code_mode at decode time */
    uint8_t n;        /* instructions */
    uint16_t bytes;   /* their total length */
    struct emu_insn *in; /* n of them, in the arena */
};

/* ---- I/O replay (see mem.c) ---- */
#define EMU_IO_LOG 8
enum emu_io_kind { EMU_IO_MMIO, EMU_IO_PIO, EMU_IO_MSR_READ, EMU_IO_MSR_WRITE };
struct emu_io_rec {
    uint64_t addr;    /* gpa for MMIO, port for PIO, index for MSRs */
    uint8_t size;
    uint8_t kind;     /* enum emu_io_kind */
    uint8_t error;    /* MSR access refused by the core: #GP */
    uint8_t data[8];
};

/* ---- the VM and the vCPU ---- */
struct emu_slot {
    uint64_t gpa, size;
    uint8_t *hva;
    uint64_t *dirty;  /* 1 bit per page, set with atomics; NULL without logging */
    uint32_t *gen;    /* per page: code generation (decoded-cache validity) */
    uint8_t *code;    /* per page: 1 if decoded instructions come from it */
    bool used;
};

#define EMU_MAX_SLOTS 8
#define EMU_MAX_VCPUS 64

struct engine_vm {
    unsigned ncpus;
    const struct cpu_model *model;
    struct emu_slot slot[EMU_MAX_SLOTS];
    struct engine_vcpu *vcpu[EMU_MAX_VCPUS];
    /* Bumped when every vCPU must drop its write TLB entries (dirty log
     * read, a page becoming a code page); vCPUs acknowledge in flush_seen. */
    uint32_t tlb_flush_gen;
    /* ROAM_EMU_TRACE=1: every instruction and event on stderr (debugging). */
    bool trace;
    /* The last TSC the VMM set (value, host ns): a later set that lands
     * within a second of its running value joins it exactly, so vCPUs
     * created, started by SIPI or restored one after the other share one
     * TSC (KVM's kvm_synchronize_tsc() does the same). Under tsc_lock. */
    struct host_mutex *tsc_lock;
    uint64_t tsc_sync_base, tsc_sync_ns;
    bool tsc_sync_valid;
    /* The VM is paused (engine_ops.clock_run): every TSC holds its value
     * (tsc_base; tsc_host_ns and tsc_sync_ns mean nothing meanwhile).
     * Changed only while no vCPU runs guest code. */
    bool tsc_stopped;
};

enum emu_code_mode { EMU_MODE_REAL = 0, EMU_MODE_PROT16, EMU_MODE_PROT32, EMU_MODE_COMPAT16,
                     EMU_MODE_COMPAT32, EMU_MODE_LONG64, EMU_MODE_VM86 };

struct emu_exc {
    uint8_t vector;
    uint8_t has_error;
    uint32_t error;
    uint64_t cr2;     /* for #PF */
};

struct emu_cpu {
    uint64_t gpr[16];
    uint64_t rip, next_rip;
    uint64_t rflags;  /* arithmetic flags valid only when lf.op == EMU_LF_NONE */
    struct emu_lazy lf;
    struct x86_segment seg[X86_NR_SEGS];
    struct x86_dtable gdtr, idtr;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t dr[4], dr6, dr7;
    struct x86_msrs msr;
    struct emu_fpu fpu;

    /* Derived from the above by emu_mode_update(); read, never written, by handlers. */
    uint8_t cpl;
    uint8_t code_mode;    /* enum emu_code_mode */
    uint8_t long_mode;    /* EFER.LMA */
    uint8_t code64;       /* 64-bit code (LMA and CS.L) */

    /* Event state between instructions. */
    uint8_t shadow;       /* interrupt shadow for the next instruction (X86_SHADOW_*) */
    uint8_t shadow_next;  /* set by STI / MOV SS / POP SS for the instruction after */
    uint8_t nmi_masked;
    uint8_t nmi_pending;
    int16_t intr_pending; /* external interrupt vector to deliver, or -1 */
    uint8_t irq_window;   /* exit with VM_EXIT_IRQ_WINDOW when interrupts open */
    uint8_t halted;
    struct emu_exc exc;   /* the fault a handler raised */
    uint8_t dr_hits;      /* data breakpoints hit by this instruction (DR6.B0-3) */

    /* TSC: guest TSC = tsc_base + (host ns - tsc_host_ns) * hz / 1e9. */
    uint64_t tsc_base, tsc_host_ns;
    uint32_t tsc_aux;

    /* CPUID table of this vCPU (roam-v1). */
    struct cpuid_entry cpuid[CPU_MODEL_MAX_CPUID];
    unsigned ncpuid;
    unsigned apic_id;

    /* Memory. */
    struct engine_vm *vm;
    struct emu_tlb tlb;
    uint32_t flush_seen;

    /* I/O: completed reads replayed when an instruction is executed again,
     * writes queued for report after the instruction. */
    struct emu_io_rec io_done[EMU_IO_LOG];
    unsigned io_ndone, io_used;
    struct emu_io_rec io_wq[EMU_IO_LOG];
    unsigned io_nwq, io_wq_head;
    uint8_t io_read_pending; /* cpu->io_req holds a read the core must answer */
    struct emu_io_rec io_req;
    uint8_t pio_buf[8];

    /* Decoded-instruction cache, and the page the last fetch came from
     * (fetch_tag is EMU_TLB_INVALID after any TLB flush). */
    struct emu_icache_entry *icache;
    struct emu_block *blocks; /* EMU_BLOCK_CACHE of them */
    struct emu_insn *block_arena; /* EMU_BLOCK_ARENA of them */
    uint32_t block_used;  /* arena entries in use */
    uint64_t block_flushes; /* times the arena filled (statistics, tests) */
    uint64_t fetch_tag;
    struct emu_tlb_entry fetch;
    uint32_t fetch_gen;   /* the fetch page's code generation when entered */
    uint64_t fetch_pfn;
    uint64_t fetch_gpa;   /* guest-physical address of the fetch page */
    struct emu_insn fetch_tmp; /* an instruction decoded but not cached */
    bool trace;

    /* Statistics. */
    uint64_t icount;
    char stop_reason[120];
};

/* engine_vcpu wraps the CPU with the bits only emu.c uses. */
struct engine_vcpu {
    struct emu_cpu cpu;
    unsigned index;
    int attention;    /* atomic: kick or TLB flush request */
    int kicked;       /* atomic */
    int in_run;       /* atomic */
    uint8_t pending_io; /* the last exit was a read: its answer is in last_exit */
    struct vm_exit *last_exit;
    uint8_t has_stash;  /* get_state met a new exit: run() returns it first */
    struct vm_exit stash;
};

/* ==== mode (cpu.c) ==== */
/* Recomputes cpl, code_mode, long_mode and code64 after CS, CR0, EFER or
 * RFLAGS.VM changed. Flushes nothing. */
void emu_mode_update(struct emu_cpu *cpu);

/* ==== registers (cpu.c) ==== */
/* Reads a general register of the given size; with size 1, registers 4-7
 * are AH, CH, DH, BH unless the instruction has a REX prefix. */
static inline uint64_t emu_reg_get(const struct emu_cpu *cpu, const struct emu_insn *in,
                                   unsigned reg, unsigned size)
{
    switch (size) {
    case 1:
        if (reg >= 4 && reg < 8 && !in->rex)
            return (cpu->gpr[reg - 4] >> 8) & 0xff;
        return cpu->gpr[reg] & 0xff;
    case 2:
        return cpu->gpr[reg] & 0xffff;
    case 4:
        return cpu->gpr[reg] & 0xffffffffu;
    default:
        return cpu->gpr[reg];
    }
}

/* Writes a general register: 8 and 16-bit writes merge, 32-bit writes
 * zero-extend to 64 bits (SDM Vol. 1 3.4.1.1). */
static inline void emu_reg_set(struct emu_cpu *cpu, const struct emu_insn *in, unsigned reg,
                               unsigned size, uint64_t v)
{
    switch (size) {
    case 1:
        if (reg >= 4 && reg < 8 && !in->rex)
            cpu->gpr[reg - 4] = (cpu->gpr[reg - 4] & ~0xff00ull) | ((v & 0xff) << 8);
        else
            cpu->gpr[reg] = (cpu->gpr[reg] & ~0xffull) | (v & 0xff);
        break;
    case 2:
        cpu->gpr[reg] = (cpu->gpr[reg] & ~0xffffull) | (v & 0xffff);
        break;
    case 4:
        cpu->gpr[reg] = v & 0xffffffffu;
        break;
    default:
        cpu->gpr[reg] = v;
        break;
    }
}

/* A 64-bit address in canonical form: bits 63:47 all equal (SDM Vol. 1
 * 3.3.7.1, 48-bit linear addresses). */
static inline bool emu_canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static inline uint64_t emu_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static inline uint64_t emu_sext(uint64_t v, unsigned size)
{
    switch (size) {
    case 1: return (uint64_t)(int64_t)(int8_t)v;
    case 2: return (uint64_t)(int64_t)(int16_t)v;
    case 4: return (uint64_t)(int64_t)(int32_t)v;
    default: return v;
    }
}

/* ==== flags (flags.c) ==== */
/* The full RFLAGS with the lazy flags folded in (and lf reset to NONE). */
uint64_t emu_flags_get(struct emu_cpu *cpu);
/* Replaces the arithmetic flags (bits of EMU_ARITH_FLAGS in f). */
static inline void emu_flags_set_arith(struct emu_cpu *cpu, uint64_t f)
{
    cpu->lf.op = EMU_LF_NONE;
    cpu->rflags = (cpu->rflags & ~(uint64_t)EMU_ARITH_FLAGS) | (f & EMU_ARITH_FLAGS);
}
/* One flag, computed from the lazy state without folding. */
bool emu_flag_cf(const struct emu_cpu *cpu);
bool emu_flag_zf(const struct emu_cpu *cpu);
/* Condition code cc (0-15, the low nibble of Jcc/SETcc/CMOVcc). */
bool emu_cond(const struct emu_cpu *cpu, unsigned cc);
static inline void emu_lazy_set(struct emu_cpu *cpu, unsigned op, unsigned size, uint64_t res,
                                uint64_t src1, uint64_t src2, unsigned aux)
{
    cpu->lf.op = (uint8_t)op;
    cpu->lf.size = (uint8_t)size;
    cpu->lf.res = res & emu_mask(size);
    cpu->lf.src1 = src1 & emu_mask(size);
    cpu->lf.src2 = src2 & emu_mask(size);
    cpu->lf.aux = (uint8_t)aux;
}
/* PF of the low byte: 1 if it has an even number of set bits. */
static inline bool emu_parity(uint64_t v)
{
    return !__builtin_parity((unsigned)(v & 0xff));
}
/* Condition cc straight from the lazy state of the two commonest flag
 * setters, for handlers specialised per condition (branch.c): after SUB or
 * CMP (lf.op EMU_LF_SUB) from the operands, after a logic op or TEST
 * (EMU_LF_LOGIC, CF = OF = 0) from the result. Same answers as emu_cond. */
static inline bool emu_cond_sub(const struct emu_lazy *l, unsigned cc)
{
    unsigned sh = 64 - l->size * 8;
    int64_t a = (int64_t)(l->src1 << sh), b = (int64_t)(l->src2 << sh);
    bool r;
    switch (cc >> 1) {
    case 0: r = (((l->src1 ^ l->src2) & (l->src1 ^ l->res)) << sh) >> 63; break;
    case 1: r = l->src1 < l->src2; break;
    case 2: r = l->res == 0; break;
    case 3: r = l->src1 <= l->src2; break;
    case 4: r = (l->res << sh) >> 63; break;
    case 5: r = emu_parity(l->res); break;
    case 6: r = a < b; break;
    default: r = a <= b; break;
    }
    return (cc & 1) ? !r : r;
}

static inline bool emu_cond_logic(const struct emu_lazy *l, unsigned cc)
{
    unsigned sh = 64 - l->size * 8;
    bool sf = (l->res << sh) >> 63, r;
    switch (cc >> 1) {
    case 0: case 1: r = false; break;
    case 2: case 3: r = l->res == 0; break;
    case 4: case 6: r = sf; break;
    case 5: r = emu_parity(l->res); break;
    default: r = l->res == 0 || sf; break;
    }
    return (cc & 1) ? !r : r;
}

/* emu_cond with the two shortcuts above tried first. */
static inline bool emu_cond_fast(const struct emu_cpu *cpu, unsigned cc)
{
    if (cpu->lf.op == EMU_LF_SUB)
        return emu_cond_sub(&cpu->lf, cc);
    if (cpu->lf.op == EMU_LF_LOGIC)
        return emu_cond_logic(&cpu->lf, cc);
    return emu_cond(cpu, cc);
}
/* Writes RFLAGS as POPF/IRET would after the caller masked what may change:
 * keeps bit 1 set, folds lf. */
void emu_flags_load(struct emu_cpu *cpu, uint64_t rflags);

/* ==== exceptions (except.c) ==== */
/* Records a fault for delivery and returns EMU_FAULT. */
int emu_raise(struct emu_cpu *cpu, unsigned vector);
int emu_raise_err(struct emu_cpu *cpu, unsigned vector, uint32_t error);
static inline int emu_ud(struct emu_cpu *cpu) { return emu_raise(cpu, EMU_UD); }
static inline int emu_gp0(struct emu_cpu *cpu) { return emu_raise_err(cpu, EMU_GP, 0); }
/* Delivers an event through the IDT/IVT in the current mode. soft: INT n /
 * INT3 / INTO (privilege check against the gate's DPL, return address is
 * next_rip). Returns EMU_OK, EMU_FAULT (a new fault to deliver: the caller
 * loops, with #DF and shutdown handled inside) or EMU_EXIT. */
enum emu_event_kind { EMU_EV_EXC, EMU_EV_EXT, EMU_EV_NMI, EMU_EV_SOFT, EMU_EV_SOFT_EXC };
int emu_deliver(struct emu_cpu *cpu, unsigned vector, enum emu_event_kind kind, bool has_error,
                uint32_t error, uint64_t return_rip);
/* Delivers cpu->exc (with #DF/shutdown promotion). Returns EMU_OK, EMU_EXIT,
 * or -1 for a triple fault (shutdown). */
int emu_deliver_fault(struct emu_cpu *cpu);

/* ==== memory (mem.c) ==== */
/* Segment-checked linear address of seg:off for an access of size bytes
 * (limits, rights, canonical form; #GP/#SS on failure). */
int emu_linear(struct emu_cpu *cpu, unsigned seg, uint64_t off, unsigned size,
               enum emu_access acc, uint64_t *lin);
/* Reads/writes size (1-16) bytes at seg:off through segmentation and paging.
 * Return EMU_OK, EMU_FAULT or EMU_EXIT (MMIO read not yet answered). */
int emu_read_slow(struct emu_cpu *cpu, unsigned seg, uint64_t off, unsigned size, void *out);
int emu_write_slow(struct emu_cpu *cpu, unsigned seg, uint64_t off, unsigned size,
                   const void *data);

/* The fast path of emu_read and emu_write, inline in every handler: 64-bit
 * code, no armed breakpoint, no alignment check, RAM within one page that
 * the TLB holds. Segmentation is then only FS/GS's base, and the TLB tag
 * (a canonical page) stands for the canonical check. The write TLB holds
 * no code pages and is dropped when the dirty log is read, so a hit needs
 * no more bookkeeping. */
static inline __attribute__((always_inline)) uint8_t *emu_mem_fast(struct emu_cpu *cpu, unsigned seg, uint64_t off,
                                    unsigned size, enum emu_access acc)
{
    if (!cpu->code64 || (cpu->dr7 & 0xff) || (cpu->cpl == 3 && (cpu->rflags & EMU_AC)))
        return NULL;
    uint64_t lin = off + (seg >= X86_FS ? cpu->seg[seg].base : 0);
    if ((lin & 0xfff) + size > 4096)
        return NULL;
    const struct emu_tlb_entry *e = &cpu->tlb.e[acc][(lin >> 12) % EMU_TLB_SIZE];
    if (e->tag != ((lin & ~0xfffull) | (cpu->cpl == 3 ? EMU_TLB_USER : 0)) || !e->host)
        return NULL;
    return e->host + (lin & 0xfff);
}

static inline int emu_read(struct emu_cpu *cpu, unsigned seg, uint64_t off, unsigned size,
                           void *out)
{
    const uint8_t *p = emu_mem_fast(cpu, seg, off, size, EMU_READ);
    if (!p)
        return emu_read_slow(cpu, seg, off, size, out);
    switch (size) {
    case 1: memcpy(out, p, 1); break;
    case 2: memcpy(out, p, 2); break;
    case 4: memcpy(out, p, 4); break;
    case 8: memcpy(out, p, 8); break;
    default: memcpy(out, p, size); break;
    }
    return EMU_OK;
}

static inline int emu_write(struct emu_cpu *cpu, unsigned seg, uint64_t off, unsigned size,
                            const void *data)
{
    uint8_t *p = emu_mem_fast(cpu, seg, off, size, EMU_WRITE);
    if (!p)
        return emu_write_slow(cpu, seg, off, size, data);
    switch (size) {
    case 1: memcpy(p, data, 1); break;
    case 2: memcpy(p, data, 2); break;
    case 4: memcpy(p, data, 4); break;
    case 8: memcpy(p, data, 8); break;
    default: memcpy(p, data, size); break;
    }
    return EMU_OK;
}
/* Same at a linear address, with the access's privilege given: user true for
 * CPL3 accesses, false for implicit supervisor ones (descriptor tables, TSS,
 * IDT). */
int emu_read_lin(struct emu_cpu *cpu, uint64_t lin, unsigned size, void *out, bool user);
int emu_write_lin(struct emu_cpu *cpu, uint64_t lin, unsigned size, const void *data, bool user);
/* Translates for a read-modify-write and returns a host pointer to size
 * bytes of RAM (for LOCK and XCHG atomics), or NULL with *rc = EMU_OK when
 * the operand is MMIO or crosses a page (use emu_read + emu_write then). */
void *emu_rmw_ptr(struct emu_cpu *cpu, unsigned seg, uint64_t off, unsigned size, int *rc);
/* Sets the dirty bit and, on code pages, invalidates decoded instructions
 * for a store made to guest-physical memory outside emu_write (page-walk
 * A/D updates). emu_write and emu_rmw_ptr do this themselves. */
void emu_mem_written(struct emu_cpu *cpu, uint64_t gpa, unsigned size);
/* Paging: linear -> physical with permission checks, A/D updates and #PF. */
int emu_translate(struct emu_cpu *cpu, uint64_t lin, enum emu_access acc, bool user,
                  uint64_t *gpa);
/* The RAM slot holding gpa, or NULL (MMIO or nothing). */
struct emu_slot *emu_slot_of(struct engine_vm *vm, uint64_t gpa);
/* Physical access, used for page-table walks and by get/set helpers. */
uint8_t *emu_phys_ptr(struct engine_vm *vm, uint64_t gpa, uint64_t len);
void emu_tlb_flush(struct emu_cpu *cpu, bool global_too);
void emu_tlb_flush_page(struct emu_cpu *cpu, uint64_t lin);
/* Port I/O: IN reads size bytes from port (EMU_EXIT until answered), OUT
 * queues a write, reported after the instruction; a second I/O write in
 * the same instruction returns EMU_EXIT (string instructions then end the
 * iteration there: see the REP rule below). Permission checks (IOPL, TSS bitmap) are the caller's:
 * see emu_io_allowed. */
int emu_pio_in(struct emu_cpu *cpu, uint16_t port, unsigned size, uint32_t *val);
int emu_pio_out(struct emu_cpu *cpu, uint16_t port, unsigned size, uint32_t val);
/* RDMSR/WRMSR of an MSR the core keeps (emu_msr_read/write returned 1):
 * EMU_EXIT until the core has answered, then EMU_OK with *val (for reads)
 * and *refused set when the access raises #GP. */
int emu_msr_core(struct emu_cpu *cpu, uint32_t idx, bool write, uint64_t *val, bool *refused);
/* Privilege check for port access (SDM Vol. 1 19.5): CPL <= IOPL, else the
 * TSS I/O bitmap; returns EMU_OK or a #GP(0) fault. */
int emu_io_allowed(struct emu_cpu *cpu, uint16_t port, unsigned size);

/* Effective address of the instruction's memory operand (offset within
 * in->seg, wrapped to the address size). */
static inline uint64_t emu_ea(const struct emu_cpu *cpu, const struct emu_insn *in)
{
    uint64_t a = (uint64_t)in->disp;
    if (in->ea_base == EMU_RIPREL)
        a += cpu->next_rip;
    else if (in->ea_base != EMU_NOREG)
        a += cpu->gpr[in->ea_base];
    if (in->ea_index != EMU_NOREG)
        a += cpu->gpr[in->ea_index] << in->ea_scale;
    return a & emu_mask(in->addrsize);
}

/* ModRM r/m operand of in->opsize (or an explicit size): register or memory. */
static inline int emu_rm_read(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size,
                              uint64_t *v)
{
    if (in->mod == 3) {
        *v = emu_reg_get(cpu, in, in->rm, size);
        return EMU_OK;
    }
    uint64_t x = 0;
    int rc = emu_read(cpu, in->seg, emu_ea(cpu, in), size, &x);
    if (rc == EMU_OK)
        *v = x;
    return rc;
}

static inline int emu_rm_write(struct emu_cpu *cpu, const struct emu_insn *in, unsigned size,
                               uint64_t v)
{
    if (in->mod == 3) {
        emu_reg_set(cpu, in, in->rm, size, v);
        return EMU_OK;
    }
    return emu_write(cpu, in->seg, emu_ea(cpu, in), size, &v);
}

/* Stack (stack.c): pushes/pops with SS's address size (or 64-bit). push
 * writes below RSP and updates it only on success; pop reads without moving
 * RSP (pop_commit moves it), so a following fault leaves RSP unchanged. */
int emu_push(struct emu_cpu *cpu, unsigned size, uint64_t v);
int emu_pop_peek(struct emu_cpu *cpu, unsigned size, unsigned offset, uint64_t *v);
void emu_pop_commit(struct emu_cpu *cpu, unsigned bytes);
/* The stack pointer width: 8 in 64-bit mode, else 4 if SS.B, else 2. */
unsigned emu_stack_size(const struct emu_cpu *cpu);

/* ==== segments (seg.c) ==== */
/* Loads a data/stack segment register with the protected-mode checks
 * (SDM Vol. 3A 5.4-5.6), or real/VM86 mode semantics. Faults with the
 * right vector and selector error code. */
int emu_seg_load(struct emu_cpu *cpu, unsigned sreg, uint16_t sel);
/* Reads a descriptor (8 bytes; 16 for system descriptors in long mode). */
int emu_desc_read(struct emu_cpu *cpu, uint16_t sel, uint64_t d[2], bool sys16);
void emu_desc_unpack(uint64_t lo, uint16_t sel, struct x86_segment *s);
/* Sets CS after a far transfer or event (already checked). */
void emu_cs_set(struct emu_cpu *cpu, const struct x86_segment *cs);

/* ==== CPU model bits the handlers need (cpu.c) ==== */
void emu_cpuid(struct emu_cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t out[4]);
uint64_t emu_tsc_read(struct emu_cpu *cpu);
/* The VMM sets a vCPU's TSC (state load): synchronized with the other
 * vCPUs' when it is within a second of theirs (engine_vm.tsc_sync_*). */
void emu_tsc_set(struct emu_cpu *cpu, uint64_t v);
/* Stops every vCPU's TSC where it is (on = false) or lets it run on from
 * there (on = true). */
void emu_tsc_run(struct engine_vm *vm, bool on);
/* RDMSR/WRMSR of the MSRs the engine keeps; returns 1 if the MSR belongs
 * to the core (exit), 0 on success, or EMU_FAULT (#GP). */
int emu_msr_read(struct emu_cpu *cpu, uint32_t idx, uint64_t *v);
int emu_msr_write(struct emu_cpu *cpu, uint32_t idx, uint64_t v);

/* ==== debug registers (debug.c) ==== */
/* DR6.Bn bits of the enabled instruction breakpoints at lin. */
unsigned emu_debug_exec_hits(const struct emu_cpu *cpu, uint64_t lin);
/* Records in cpu->dr_hits the data breakpoints an access hits. */
void emu_debug_data(struct emu_cpu *cpu, uint64_t lin, unsigned size, bool write);
/* True when DR7 enables any breakpoint (L0-3/G0-3). */
static inline bool emu_debug_armed(const struct emu_cpu *cpu)
{
    return (cpu->dr7 & 0xff) != 0;
}

/* ==== the decoder (decode.c) ==== */
/* Decodes one instruction from bytes (up to 15 available, fewer near a
 * boundary: *need is set to how many are needed when avail is short).
 * Returns EMU_OK, or a #UD/#GP fault (too long, LOCK misuse, invalid in mode). */
int emu_decode(struct emu_cpu *cpu, const uint8_t *bytes, unsigned avail, struct emu_insn *in);
/* The generic handler of an opcode (misc_ud where it is not valid). */
emu_handler emu_op_handler(unsigned opcode);
/* Swaps in a handler specialised for the decoded form, where fast.c has
 * one (the decoder calls it). */
void emu_specialize(struct emu_insn *in);
/* Name of the instruction (the X-macro table's), for traces and the tester. */
const char *emu_insn_name(const struct emu_insn *in);

/* Runs one instruction (fetch, decode or cache, execute, deliver faults).
 * Returns EMU_OK, EMU_EXIT, EMU_HLT or -1 on shutdown (exec.c). */
int emu_step(struct emu_cpu *cpu);
/* Steps until an instruction returns something other than EMU_OK, leaves
 * I/O to report, or an event or *attention needs the run loop. */
int emu_step_many(struct emu_cpu *cpu, const int *attention);
/* Forgets every decoded instruction (after guest memory was replaced). */
void emu_icache_flush(struct emu_cpu *cpu);

#endif
