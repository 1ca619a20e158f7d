/* The differential tester (DESIGN.md, "Testing" 3): generated instruction
 * sequences run at CPL3 on two engines (KVM, which is real silicon for CPL3
 * code, and emu) from the same initial state, and the final states must
 * match. See tests/difftest/README.md. Modules:
 *   machine.c  the guest: page tables, GDT/IDT/TSS, CPL0 stubs; runs a case
 *   gen.c      the PRNG, operand and memory-address choice, case generation
 *   forms_int.c, forms_mov.c, forms_fp.c, forms_sse.c   the instruction forms
 *   asm.c      items -> bytes (branches, flag definers) and the masks
 *   compare.c  outcome comparison and printing
 *   regress.c  regressions.txt (read, write, replay); shrink in main.c */
#ifndef ROAM_TESTS_DIFFTEST_H
#define ROAM_TESTS_DIFFTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cpu_state.h"
#include "engine/engine.h"

/* ---- guest layout (identity-mapped, 4 KiB pages) ---- */
#define DT_RAM_SIZE (2u << 20)
#define DT_GDT 0x1000u
#define DT_IDT 0x2000u
#define DT_TSS 0x3000u
#define DT_STUBS 0x4000u /* the stub of vector v at DT_STUBS + 16 * v */
#define DT_KSTACK_TOP 0x7000u
#define DT_PML4 0x8000u
#define DT_CODE 0x80000u /* user, read-only, executable */
#define DT_CODE_SIZE 0x2000u
#define DT_SUPER 0x8f000u /* supervisor-only page */
#define DT_DATA 0x90000u  /* user RW, 8 KiB */
#define DT_DATA_SIZE 0x2000u
#define DT_STACK 0x92000u /* user RW: the user stack page */
#define DT_RSP0 0x92800u  /* initial RSP */
#define DT_RO 0x93000u    /* user read-only */
#define DT_HOLE 0x94000u  /* not present */
/* Compared memory: data, stack and read-only pages. */
#define DT_CMP 0x90000u
#define DT_CMP_SIZE 0x4000u
#define DT_FS_BASE DT_DATA
#define DT_GS_BASE (DT_DATA + 0x1000u)
#define DT_NVEC 32

/* Selectors (Linux's layout, so that selectors read at CPL3 agree with
 * whatever the hypervisor really loads). */
#define DT_SEL_KCODE 0x10
#define DT_SEL_KDATA 0x18
#define DT_SEL_UCODE32 0x23
#define DT_SEL_UDATA 0x2b
#define DT_SEL_UCODE 0x33
#define DT_SEL_TSS 0x40

/* RFLAGS */
#define F_CF 0x001u
#define F_PF 0x004u
#define F_AF 0x010u
#define F_ZF 0x040u
#define F_SF 0x080u
#define F_OF 0x800u
#define F_DF 0x400u
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)
/* FSW condition codes */
#define FSW_C0 0x0100u
#define FSW_C1 0x0200u
#define FSW_C2 0x0400u
#define FSW_C3 0x4000u
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)

/* ---- families ---- */
enum dt_family {
    FAM_ALU, FAM_SHIFT, FAM_MULDIV, FAM_BIT, FAM_MOVE, FAM_STACK, FAM_BRANCH, FAM_STRING,
    FAM_FLAGS, FAM_FAULT, FAM_X87, FAM_SSE, FAM_SSE2, FAM_MMX, FAM_APPROX,
    FAM_COUNT
};
extern const char *const dt_family_name[FAM_COUNT];

/* ---- items: what the generator makes and the shrinker removes ----
 * A case is a flat list of items; blocks (branches over or into a body)
 * are bracketed by a BEGIN item and an END item. asm.c lays them out. */
enum dt_item_kind {
    IT_INSN,      /* bytes (setup then the instruction) */
    IT_BEGIN,     /* opens a block, blk says which */
    IT_END,
};
enum dt_block {
    BLK_JCC8,     /* jcc rel8 over the body */
    BLK_JCC32,    /* jcc rel32 over the body */
    BLK_JMP8,
    BLK_JMP32,
    BLK_LOOPF,    /* loop/loope/loopne/jrcxz (op) forward over the body */
    BLK_LOOPB,    /* mov ecx, n; body; loop back (op) */
    BLK_CALL,     /* call sub; jmp over; sub: body; ret [imm] */
    BLK_CALLR,    /* lea reg, [rip+sub]; call reg; ... */
    BLK_CALLM,    /* lea reg, [rip+sub]; mov [mem], reg; call [mem]; ... */
    BLK_JMPR,     /* lea reg, [rip+end]; jmp reg; body; end: */
};

#define DT_ITEM_BYTES 64
struct dt_item {
    uint8_t kind, blk;
    uint16_t form;      /* index into dt_forms (statistics, names) */
    uint8_t len;        /* bytes used */
    uint8_t main;       /* offset of the instruction proper, after the setup */
    uint8_t op;         /* blocks: condition code, loop opcode, register... */
    uint8_t reg;        /* blocks: the register an indirect branch uses */
    uint16_t imm;       /* blocks: loop count, ret imm16 */
    uint8_t riprel;     /* 1: bytes[rel_at..+4] is a disp32 to patch */
    uint8_t rel_at;     /* offset of that disp32 in bytes */
    uint8_t rel_end;    /* offset of the end of the instruction holding it */
    uint32_t rel_target; /* absolute guest address the disp32 must reach */
    uint16_t fl_undef;  /* arithmetic flags the instruction leaves undefined */
    uint16_t fl_read;   /* flags it reads (a definer goes first if poisoned) */
    uint16_t fl_def;    /* flags it defines */
    uint16_t cc_undef;  /* FSW condition codes it leaves undefined */
    uint16_t cc_read;   /* it stores the FSW: condition codes must be defined */
    uint16_t cc_def;
    uint32_t mmask_addr[2]; /* guest bytes whose stored value is model-specific */
    uint16_t mmask_len[2];
    uint8_t rnd;        /* chooses the definer's registers */
    uint8_t bytes[DT_ITEM_BYTES];
};

#define DT_MAX_ITEMS 512
#define DT_MAX_INSNS 1024
#define DT_MAX_MMASK 16

/* One assembled instruction boundary: where an exception can be reported. */
struct dt_insn {
    uint32_t addr;      /* guest address */
    uint16_t fl_poison; /* flags undefined when it starts */
    uint16_t cc_poison;
    int16_t item;       /* the item it came from, -1 for glue */
};

struct dt_case {
    /* where it came from */
    uint64_t seed;
    uint64_t index;
    int family;
    bool allow_gp;         /* generate #GP(0) memory cases (see dt_gen_opts) */
    /* initial state */
    uint64_t gpr[16];
    uint64_t rflags;
    struct x86_fxsave fpu; /* fcw, fsw, ftw, st, xmm, mxcsr used */
    uint64_t mem_seed;     /* compared memory starts as dt_mem_fill(mem_seed) */
    /* the program */
    unsigned nitems;
    struct dt_item items[DT_MAX_ITEMS];
    /* assembled (asm.c) */
    uint8_t code[DT_CODE_SIZE];
    unsigned code_len;
    unsigned ninsns;
    struct dt_insn insns[DT_MAX_INSNS];
    unsigned nmmask;
    struct { uint32_t addr; uint16_t len; } mmask[DT_MAX_MMASK];
    /* Approximate results (documented tolerance): the x87 registers after a
     * transcendental, the lanes of one XMM register after RCP/RSQRT. */
    bool approx_x87;
    int8_t approx_xmm;     /* -1: none */
    uint8_t approx_lanes;  /* 4: all four singles, 1: the low one */
    /* Replayed regressions carry the masks of their reference outcome. */
    bool fixed_masks;
    uint16_t fixed_fl, fixed_cc;
};

/* What a run ended with. */
struct dt_outcome {
    int exit;            /* enum vm_exit_reason; VM_EXIT_INTR = timed out */
    char desc[160];      /* VM_EXIT_INTERNAL, set_state errors */
    int vector;          /* the stub that halted, -1 if none */
    uint64_t err, cr2, ksp;
    uint64_t rip, cs, rflags, rsp, ss; /* the exception frame */
    uint64_t gpr[16];    /* RSP is the frame's */
    struct x86_fxsave fpu;
    uint8_t mem[DT_CMP_SIZE];
};

/* ---- machine.c ---- */
struct dt_machine;
/* Returns 0, or -1 with why filled (engine missing or not usable). */
int dt_machine_create(struct dt_machine **out, const char *engine, char *why, size_t why_len);
void dt_machine_destroy(struct dt_machine *m);
const char *dt_machine_engine(const struct dt_machine *m);
/* Runs an assembled case from its initial state. */
void dt_machine_run(struct dt_machine *m, const struct dt_case *c, struct dt_outcome *o);
/* The initial compared memory of a case. */
void dt_mem_fill(uint64_t seed, uint8_t *mem);

/* ---- gen.c ---- */
struct dt_rng { uint64_t s; };
uint64_t dt_rand(struct dt_rng *r);
static inline unsigned dt_below(struct dt_rng *r, unsigned n) { return (unsigned)(dt_rand(r) % n); }
static inline bool dt_chance(struct dt_rng *r, unsigned one_in) { return dt_below(r, one_in) == 0; }
uint64_t dt_edge64(struct dt_rng *r);
/* Edge-biased floating-point bit patterns (zeros, denormals, infinities,
 * QNaN/SNaN, extremes, integers near conversion limits). */
uint64_t dt_edge_f64(struct dt_rng *r);
uint32_t dt_edge_f32(struct dt_rng *r);
uint64_t dt_edge_simd64(struct dt_rng *r);
/* The flags condition code cc (0-15) reads. */
uint16_t dt_cc_flags(unsigned cc);

struct dt_gen_opts {
    unsigned max_len;
    int only;           /* family index or -1 */
    /* Non-canonical and misaligned-SSE memory operands, reserved MXCSR
     * bits in LDMXCSR. Off by default: under kvm_pvm the #GP(0) they raise
     * reaches KVM's instruction emulator, which answers #UD for the
     * instructions it does not know (README.md). */
    bool allow_gp;
};
/* Fills c (initial state and items) for case number index of the seed. */
void dt_generate(struct dt_case *c, uint64_t seed, uint64_t index, const struct dt_gen_opts *o);

/* The emitter interface the form files use. */
struct dt_emit {
    struct dt_rng *rng;
    struct dt_item *it;
    int family;
    unsigned avoid_regs; /* GPRs the instruction must not write (loop bodies) */
    bool no_stack;       /* no pushes or pops (call bodies) */
    bool last;           /* the item may be an approximate one (it ends the case) */
    struct dt_case *c;
};
/* Form flags */
#define FF_STACK 1u   /* moves RSP */
#define FF_APPROX 2u  /* an approximate result: only as the last item */
struct dt_form {
    const char *name;
    uint8_t family;
    uint8_t flags;
    /* Emits one item; returns false if it cannot in this context. */
    bool (*emit)(struct dt_emit *e, const struct dt_form *f);
    uint32_t a, b, c;   /* form-specific parameters */
};
/* The form tables of forms_int.c, forms_mov.c, forms_fp.c, forms_sse.c. */
extern const struct dt_form dt_forms_int[], dt_forms_mov[], dt_forms_fp[], dt_forms_sse[];
extern const unsigned dt_nforms_int, dt_nforms_mov, dt_nforms_fp, dt_nforms_sse;
/* All forms, in one index space (gen.c). */
unsigned dt_nforms(void);
const struct dt_form *dt_form_get(unsigned i);

/* byte helpers for the form files (gen.c) */
void dt_put(struct dt_item *it, unsigned n, ...);
void dt_put8(struct dt_item *it, uint8_t b);
void dt_put32(struct dt_item *it, uint32_t v);
void dt_putn(struct dt_item *it, uint64_t v, unsigned n);
void dt_setup_done(struct dt_item *it);
/* Picks a general register for a destination (never RSP, nor avoid_regs). */
unsigned dt_pick_dst(struct dt_emit *e);
unsigned dt_pick_src(struct dt_emit *e);
bool dt_can_write(const struct dt_emit *e, unsigned reg);
/* An operand size for a non-byte form: 2, 4 or 8. */
unsigned dt_pick_size(struct dt_emit *e);
/* mov r32, imm32 (setup: a known value in a register). */
void dt_setup_mov(struct dt_item *it, unsigned reg, uint32_t v);
void dt_setup_mov64(struct dt_item *it, unsigned reg, uint64_t v);
/* Stores v (1, 2, 4 or 8 bytes) at the absolute address (setup). */
void dt_setup_store(struct dt_item *it, uint32_t addr, uint64_t v, unsigned size);
/* Inserts a store of v at addr after the first before->len bytes of it
 * (it was "before" when the memory operand was emitted), so that the
 * operand's memory holds a chosen value. */
void dt_insert_store(struct dt_item *it, const struct dt_item *before, uint32_t addr, uint64_t v,
                     unsigned size);
/* True if [t, t + size) is in the writable data and stack pages. */
static inline bool dt_writable(uint64_t t, unsigned size)
{
    return t >= DT_DATA && t + size <= DT_RO;
}
/* Memory operand choice: a target address for an access of size bytes,
 * mostly inside the data area (aligned to align, or naturally), sometimes
 * at a page edge, on the read-only page (writes fault), the supervisor
 * page, or unmapped. */
uint64_t dt_pick_target(struct dt_emit *e, unsigned size, unsigned align);
/* Emits prefixes, REX, opcode, ModRM/SIB/displacement for an instruction
 * with a register operand 'reg' and r/m operand: a register (rm < 16) or,
 * with rm = DT_RM_MEM, memory at a fresh target (size, align, write).
 * pfx: mandatory/legacy prefix bytes (up to 3, 0-terminated); rexw; opc:
 * opcode bytes (1-3). The setup it needs is emitted first. */
#define DT_RM_MEM 0xff
enum dt_regkind { RK_GPR, RK_BYTE, RK_XMM, RK_MMX, RK_DIGIT };
struct dt_modrm {
    uint8_t pfx[4];     /* mandatory prefix bytes (66, F2, F3), 0-terminated */
    bool rexw;
    bool lock;          /* F0 (only emitted with a memory operand) */
    uint8_t opc[3];
    unsigned nopc;
    uint8_t regk, rmk;  /* enum dt_regkind of ModRM.reg and of a register r/m */
    unsigned reg;       /* GPR/XMM 0-15, byte reg 0-19 (16-19: SPL-DIL), MMX 0-7, digit */
    unsigned rm;        /* the same for a register, or DT_RM_MEM */
    unsigned size, align; /* memory access */
    bool write;
    bool no_seg;        /* no FS/GS override */
    bool no_addr32;     /* no 67 prefix */
    unsigned keep;      /* GPRs holding set-up values: not for address setup */
    unsigned imm_size;  /* immediate after ModRM: 0, 1, 2, 4 (8 with rexw B8 only) */
    uint64_t imm;
    uint64_t target;    /* out: the memory target chosen (absolute) */
    bool target_known;  /* out: false for RSP-relative and wild addresses */
};
/* Byte register helpers: the GPR a byte register lives in. */
unsigned dt_breg_gpr(unsigned breg);
/* Picks a byte register to write (not SPL) or read. */
unsigned dt_pick_bdst(struct dt_emit *e);
unsigned dt_pick_bsrc(struct dt_emit *e);
void dt_emit_modrm(struct dt_emit *e, struct dt_modrm *m);

/* ---- asm.c ---- */
/* Lays out c->items into c->code, c->insns and the masks. Returns false if
 * the program does not fit (or a short branch cannot reach). */
bool dt_assemble(struct dt_case *c);
/* The masks at the instruction the outcome stopped at. */
void dt_masks_at(const struct dt_case *c, uint64_t rip, uint16_t *fl_poison, uint16_t *cc_poison);

/* ---- compare.c ---- */
/* Compares two outcomes of case c; writes a description of the first
 * differences into why (if not NULL). Returns true when they match. */
bool dt_compare(const struct dt_case *c, const struct dt_outcome *a, const struct dt_outcome *b,
                char *why, size_t why_len);
void dt_print_case(const struct dt_case *c, void (*out)(const char *line));
void dt_print_outcome(const char *label, const struct dt_outcome *o);
const char *dt_exit_name(int exit);

/* ---- regress.c ---- */
/* Appends a case with its reference outcome to the file. */
int dt_regress_save(const char *path, const struct dt_case *c, const struct dt_outcome *ref,
                    const char *note);
/* Loads every case of the file; calls fn for each. Returns the number
 * loaded, or -1 (message printed). */
int dt_regress_load(const char *path,
                    void (*fn)(void *ctx, struct dt_case *c, struct dt_outcome *ref,
                               const char *name),
                    void *ctx);

#endif
