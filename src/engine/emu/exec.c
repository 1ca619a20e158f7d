/* Instruction fetch and execution: the CS limit or canonical check, the
 * exec TLB, and the decoded-instruction cache (keyed by guest-physical
 * address, CPU mode and the code page's generation, which stores to the
 * page bump: SDM Vol. 3A 11.6, self-modifying code). */
#include <stdio.h>

#include "emu.h"
#include "fast.h"
#include "handlers.h"
#include "shift.h"

static int emu_stop(struct emu_cpu *cpu, const char *why, uint64_t at)
{
    snprintf(cpu->stop_reason, sizeof(cpu->stop_reason), "%s at 0x%llx", why,
             (unsigned long long)at);
    return EMU_STOP;
}

/* The first decode from a page makes it a code page: this vCPU and the
 * others drop their fast write entries for it so stores see the mark. */
static void emu_mark_code(struct emu_cpu *cpu, struct emu_slot *s, uint64_t pfn)
{
    if (__atomic_load_n(&s->code[pfn], __ATOMIC_RELAXED))
        return;
    __atomic_store_n(&s->code[pfn], 1, __ATOMIC_SEQ_CST);
    uint64_t gpa = s->gpa + (pfn << 12);
    for (unsigned i = 0; i < EMU_TLB_SIZE; i++) {
        struct emu_tlb_entry *e = &cpu->tlb.e[EMU_WRITE][i];
        if ((e->gpa & ~0xfffull) == gpa)
            e->tag = EMU_TLB_INVALID;
    }
    struct engine_vm *vm = cpu->vm;
    if (vm->ncpus > 1) {
        __atomic_fetch_add(&vm->tlb_flush_gen, 1, __ATOMIC_SEQ_CST);
        for (unsigned i = 0; i < vm->ncpus; i++)
            if (vm->vcpu[i] && &vm->vcpu[i]->cpu != cpu)
                __atomic_store_n(&vm->vcpu[i]->attention, 1, __ATOMIC_SEQ_CST);
    }
}

static int emu_fetch_page(struct emu_cpu *cpu, uint64_t lin, struct emu_tlb_entry **out)
{
    bool user = cpu->cpl == 3;
    uint64_t tag = (lin & ~0xfffull) | (user ? EMU_TLB_USER : 0);
    struct emu_tlb_entry *e = &cpu->tlb.e[EMU_EXEC][(lin >> 12) % EMU_TLB_SIZE];
    if (e->tag != tag) {
        uint64_t gpa;
        int rc = emu_translate(cpu, lin, EMU_EXEC, user, &gpa);
        if (rc != EMU_OK)
            return rc;
        gpa &= ~0xfffull;
        /* emu_translate does not fill; reuse its result for the entry. */
        struct emu_slot *s = emu_slot_of(cpu->vm, gpa);
        if (!s)
            return emu_stop(cpu, "instruction fetch outside RAM", gpa);
        e->tag = tag;
        e->host = s->hva + (gpa - s->gpa);
        e->gpa = gpa;
        /* The walk's page size is not known here: INVLPG drops these too. */
        if (cpu->cr0 & EMU_CR0_PG)
            e->gpa |= EMU_TLB_LARGE;
        e->slot = s;
    }
    *out = e;
    return EMU_OK;
}

/* Makes the page of lin the fetch page (cpu->fetch and the fields after
 * it), as instruction fetch sees it. */
static int emu_fetch_enter(struct emu_cpu *cpu, uint64_t lin)
{
    struct emu_tlb_entry *e;
    int rc = emu_fetch_page(cpu, lin, &e);
    if (rc != EMU_OK)
        return rc;
    cpu->fetch = *e;
    cpu->fetch_tag = e->tag;
    cpu->fetch_gpa = e->gpa & ~0xfffull;
    cpu->fetch_pfn = (cpu->fetch_gpa - e->slot->gpa) >> 12;
    cpu->fetch_gen = __atomic_load_n(&e->slot->gen[cpu->fetch_pfn], __ATOMIC_ACQUIRE);
    return EMU_OK;
}

/* The fetch outside the fast path of emu_step: a new page, a miss in the
 * decoded-instruction cache, or a CS limit close by. */
static __attribute__((noinline)) int emu_fetch_slow(struct emu_cpu *cpu,
                                                    const struct emu_insn **out)
{
    struct emu_insn *tmp = &cpu->fetch_tmp;
    uint64_t rip = cpu->rip, lin;
    const struct x86_segment *cs = &cpu->seg[X86_CS];
    struct emu_tlb_entry *e;
    int rc;

    if (cpu->code64) {
        if (!emu_canonical(rip))
            return emu_gp0(cpu);
        lin = rip;
    } else {
        if (rip > cs->limit)
            return emu_gp0(cpu);
        lin = (cs->base + rip) & 0xffffffffull;
    }
    /* Most fetches come from the page of the one before. */
    if (((lin & ~0xfffull) | (cpu->cpl == 3 ? EMU_TLB_USER : 0)) != cpu->fetch_tag &&
        (rc = emu_fetch_enter(cpu, lin)) != EMU_OK)
        return rc;
    e = &cpu->fetch;
    unsigned off = (unsigned)(lin & 0xfff);
    uint64_t gpa = (e->gpa & ~0xfffull) | off;
    struct emu_slot *s = e->slot;
    uint64_t pfn = cpu->fetch_pfn;
    uint32_t gen = cpu->fetch_gen;
    struct emu_icache_entry *ce = &cpu->icache[(gpa ^ (gpa >> 12)) % EMU_ICACHE_SIZE];

    if (ce->gpa == gpa && ce->gen == gen && ce->mode == cpu->code_mode) {
        *out = &ce->in;
    } else {
        unsigned avail = 4096 - off;
        rc = emu_decode(cpu, e->host + off, avail < 15 ? avail : 15, tmp);
        if (rc != EMU_OK)
            return rc;
        if (tmp->len == 0) {
            /* The instruction continues on the next page: not cached. */
            uint8_t buf[15];
            struct emu_tlb_entry *e2;
            memcpy(buf, e->host + off, avail);
            uint64_t lin2 = lin + avail;
            if (!cpu->code64)
                lin2 &= 0xffffffffull;
            struct emu_tlb_entry first = *e;
            rc = emu_fetch_page(cpu, lin2, &e2);
            if (rc != EMU_OK)
                return rc;
            e = &first;
            memcpy(buf + avail, e2->host, 15 - avail);
            emu_mark_code(cpu, e2->slot, ((e2->gpa & ~0xfffull) - e2->slot->gpa) >> 12);
            rc = emu_decode(cpu, buf, 15, tmp);
            if (rc != EMU_OK)
                return rc;
            *out = tmp;
        } else {
            ce->gpa = gpa;
            ce->gen = gen;
            ce->mode = cpu->code_mode;
            ce->in = *tmp;
            *out = &ce->in;
        }
        emu_mark_code(cpu, s, pfn);
    }
    if (!cpu->code64 && rip + (*out)->len - 1 > cs->limit)
        return emu_gp0(cpu);
    return EMU_OK;
}

/* RFLAGS.TF was set when the instruction began: a single-step #DB trap
 * after it (SDM Vol. 3A 18.3.1.4), with DR6.BS. Software interrupts
 * deliver their own event instead, and MOV SS / POP SS hold it off. */
static int emu_single_step(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned op = in->opcode;
    if (op == 0xcc || op == 0xcd || op == 0xce || op == 0xf1 ||
        (cpu->shadow & X86_SHADOW_MOV_SS))
        return EMU_OK;
    cpu->dr6 |= 1u << 14;
    return emu_deliver(cpu, EMU_DB, EMU_EV_EXC, false, 0, cpu->rip);
}

static inline int emu_step_inline(struct emu_cpu *cpu)
{
    const struct emu_insn *in = NULL;
    uint64_t rip = cpu->rip;
    int rc;

    /* The fast path: the same code page as the last fetch, the instruction
     * in the decoded cache, and (outside 64-bit mode) far from CS's limit. */
    uint64_t lin = cpu->code64 ? rip : (cpu->seg[X86_CS].base + rip) & 0xffffffffull;
    if (((lin & ~0xfffull) | (cpu->cpl == 3 ? EMU_TLB_USER : 0)) == cpu->fetch_tag &&
        (cpu->code64 || rip + 15 <= cpu->seg[X86_CS].limit)) {
        uint64_t gpa = cpu->fetch_gpa | (lin & 0xfff);
        const struct emu_icache_entry *ce = &cpu->icache[(gpa ^ (gpa >> 12)) % EMU_ICACHE_SIZE];
        if (ce->gpa == gpa && ce->gen == cpu->fetch_gen && ce->mode == cpu->code_mode)
            in = &ce->in;
    }
    if (!in && (rc = emu_fetch_slow(cpu, &in)) != EMU_OK)
        return rc;
    cpu->next_rip = cpu->rip + in->len;
    if (!cpu->code64)
        cpu->next_rip &= 0xffffffffull;
    cpu->shadow_next = 0;
    if (__builtin_expect(cpu->trace, 0))
        fprintf(stderr, "emu: %04x:%llx %s (opcode %03x, len %u)\n", cpu->seg[X86_CS].selector,
                (unsigned long long)cpu->rip, emu_insn_name(in), in->opcode, in->len);
    uint64_t tf = cpu->rflags & EMU_TF;
    if (__builtin_expect(emu_debug_armed(cpu), 0)) {
        /* An instruction breakpoint is a fault before the instruction;
         * RF (set by the handler's IRET) lets it run once. */
        unsigned hits = (cpu->rflags & EMU_RF) ? 0 : emu_debug_exec_hits(cpu, lin);
        if (hits) {
            cpu->dr6 = (cpu->dr6 & ~0xfull) | hits;
            return emu_raise(cpu, EMU_DB);
        }
        cpu->dr_hits = 0;
    }
    rc = in->handler(cpu, in);
    if (rc == EMU_OK || rc == EMU_HLT) {
        cpu->rip = cpu->next_rip;
        cpu->shadow = cpu->shadow_next;
        cpu->icount++;
        /* RF (set in fault frames) lasts one instruction; IRET loads it. */
        if ((cpu->rflags & EMU_RF) && in->opcode != 0xcf)
            cpu->rflags &= ~(uint64_t)EMU_RF;
        if (cpu->dr_hits && rc == EMU_OK) {
            /* Data breakpoints: a trap after the instruction (with BS too
             * when single-stepping). */
            cpu->dr6 = (cpu->dr6 & ~0xfull) | cpu->dr_hits | (tf ? 1u << 14 : 0);
            cpu->dr_hits = 0;
            return emu_deliver(cpu, EMU_DB, EMU_EV_EXC, false, 0, cpu->rip);
        }
        if (tf && rc == EMU_OK)
            return emu_single_step(cpu, in);
    }
    return rc;
}

int emu_step(struct emu_cpu *cpu)
{
    return emu_step_inline(cpu);
}

/* ---- basic blocks ---- */

/* Whether execution may go on at the next instruction with the mode, the
 * interrupt and debug state and the translations as they were: only these
 * instructions may stand inside a block. Everything else (jumps, far
 * transfers, I/O, segment, control, debug and MSR writes, POPF, STI, HLT)
 * ends one. */
static bool emu_insn_straight(const struct emu_insn *in)
{
    emu_handler h = emu_op_handler(in->opcode);
    if (h == branch_grp5) /* INC, DEC and PUSH; not the calls and jumps */
        return (in->reg & 7) < 2 || (in->reg & 7) == 6;
    static const emu_handler straight[] = {
        alu_binop, alu_grp1, alu_grp4, alu_incdec_r, alu_test, alu_xadd, alu_cmpxchg,
        alu_cmpxchg8b, bits_bsf_bsr, bits_bt, move_bswap, move_cbw, move_cmov, move_cwd,
        move_lea, move_moffs, move_mov, move_mov_imm, move_mov_rm_imm, move_movnti,
        move_movsxd_arpl, move_movx, move_setcc, move_xchg, move_xchg_ax, move_xlat,
        muldiv_grp3, muldiv_imul2, muldiv_imul3, shift_grp2, shift_shld_shrd,
        stack_push_r, stack_pop_r, stack_push_imm, stack_pop_rm, stack_pushf, stack_enter,
        stack_leave, string_movs, string_stos, string_lods, string_cmps, string_scas,
        misc_flag_op, misc_lahf, misc_sahf, misc_nop_rm, sse_cvt, sse_fp, sse_int, sse_mov,
        sse_shuffle, x87_esc, system_rdtsc,
        /* Not taken, these go on at the next instruction; taken, the block
         * stops there (RIP is not the next one's). */
        branch_jcc, branch_loop,
    };
    for (size_t i = 0; i < sizeof(straight) / sizeof(straight[0]); i++)
        if (h == straight[i])
            return true;
    return false;
}

/* Empties the block cache (the headers and the arena). */
static void emu_block_flush(struct emu_cpu *cpu)
{
    for (unsigned i = 0; i < EMU_BLOCK_CACHE; i++)
        cpu->blocks[i].gpa = ~0ull;
    cpu->block_used = 0;
}

/* Decodes the block at lin (gpa) into b: up to EMU_BLOCK_MAX
 * instructions, to the first that is not straight or the page end.
 * False when not even the first decodes here. */
static __attribute__((noinline)) bool emu_block_build(struct emu_cpu *cpu, struct emu_block *b,
                                                      uint64_t lin, uint64_t gpa)
{
    unsigned off = (unsigned)(lin & 0xfff), n = 0;
    struct emu_exc saved = cpu->exc;
    if (cpu->block_used > EMU_BLOCK_ARENA - EMU_BLOCK_MAX) {
        emu_block_flush(cpu);
        cpu->block_flushes++;
    }
    struct emu_insn *first = cpu->block_arena + cpu->block_used;
    b->gpa = ~0ull;
    while (n < EMU_BLOCK_MAX && off < 4096) {
        struct emu_insn *in = &first[n];
        unsigned avail = 4096 - off;
        /* Bytes past a branch may be data: a decode error only ends
         * the block (cpu->exc restored), the step path raises it. */
        if (emu_decode(cpu, cpu->fetch.host + off, avail < 15 ? avail : 15, in) != EMU_OK ||
            in->len == 0)
            break;
        n++;
        off += in->len;
        if (!emu_insn_straight(in))
            break;
    }
    cpu->exc = saved;
    if (n == 0)
        return false;
    emu_mark_code(cpu, cpu->fetch.slot, cpu->fetch_pfn);
    b->gpa = gpa;
    b->gen = cpu->fetch_gen;
    b->mode = cpu->code_mode;
    b->n = (uint8_t)n;
    b->bytes = (uint16_t)(off - (lin & 0xfff));
    b->in = first;
    cpu->block_used += n;
    return true;
}

/* The block at RIP, decoded now if need be; NULL when this instruction
 * takes the single-step path (a fetch that faults, an instruction across
 * the page end or near the CS limit: emu_step_inline deals with those). */
static inline const struct emu_block *emu_block_at(struct emu_cpu *cpu)
{
    uint64_t rip = cpu->rip;
    uint64_t lin = cpu->code64 ? rip : (cpu->seg[X86_CS].base + rip) & 0xffffffffull;
    if (cpu->code64 ? !emu_canonical(rip) : rip > cpu->seg[X86_CS].limit)
        return NULL;
    if (((lin & ~0xfffull) | (cpu->cpl == 3 ? EMU_TLB_USER : 0)) != cpu->fetch_tag &&
        emu_fetch_enter(cpu, lin) != EMU_OK)
        return NULL;
    uint64_t gpa = cpu->fetch_gpa | (lin & 0xfff);
    struct emu_block *b = &cpu->blocks[(gpa ^ (gpa >> 12)) % EMU_BLOCK_CACHE];
    if ((b->gpa != gpa || b->gen != cpu->fetch_gen || b->mode != cpu->code_mode) &&
        !emu_block_build(cpu, b, lin, gpa))
        return NULL;
    if (!cpu->code64 && rip + b->bytes - 1 > cpu->seg[X86_CS].limit)
        return NULL;
    return b;
}

/* Blocks run only when nothing needs a look at every instruction: no
 * trace, no armed breakpoint, no single-step, no RF to clear, no interrupt
 * shadow, and no event that the end of one could let in. An interrupt
 * waiting while IF is clear waits for STI, POPF or IRET, which end a block
 * anyway; an NMI is not held off by IF. */
static inline bool emu_block_ok(const struct emu_cpu *cpu)
{
    if (cpu->trace || (cpu->rflags & (EMU_TF | EMU_RF)) || emu_debug_armed(cpu) ||
        cpu->nmi_pending || cpu->shadow)
        return false;
    if (cpu->intr_pending < 0 && !cpu->irq_window)
        return true;
    return !(cpu->rflags & EMU_IF);
}

/* Something for emu_step_many's caller: I/O to finish, a request from
 * another thread, an event to deliver. */
static inline bool emu_block_leave(const struct emu_cpu *cpu, const int *attention)
{
    return cpu->io_nwq || cpu->io_ndone || __atomic_load_n(attention, __ATOMIC_RELAXED) ||
           cpu->nmi_pending || cpu->intr_pending >= 0 || cpu->irq_window;
}

/* Runs a block from its start. It stops early, with the state after the
 * last instruction that completed, when one branches, repeats (REP),
 * faults, needs I/O, writes code or flushes the TLB (fetch_tag changes).
 * Then, unless something waits for the caller, it goes on with the block
 * at the new RIP: the chain saves a return to emu_step_many per block.
 *
 * Threaded dispatch (GCC's labels as values, which clang and mingw-w64
 * have too): the commonest specialised forms (fast.h) run inline, each
 * followed by its own copy of the bookkeeping and of the jump to the next
 * instruction, so the host predicts each jump from where it stands rather
 * than from one shared switch; the other instructions call their handler.
 * RIP lives in a local between instructions: a chain of stores and reloads
 * through cpu->rip would be the loop's critical path. GCC's cross-jumping
 * would merge those tails back into one shared jump (it did: 8 indirect
 * jumps were left of 50, 4% of the boot time), so it is off here. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-crossjumping")))
#endif
static int emu_block_run(struct emu_cpu *cpu, const struct emu_block *b, const int *attention)
{
    static const void *const op[] = {
        [EMU_FAST_NONE] = &&l_call,
        [EMU_FAST_MOV89_R64] = &&l_MOV89_R64,
        [EMU_FAST_MOV8B_R64] = &&l_MOV8B_R64,
        [EMU_FAST_MOV89_R32] = &&l_MOV89_R32,
        [EMU_FAST_MOV8B_R32] = &&l_MOV8B_R32,
        [EMU_FAST_LOAD64] = &&l_LOAD64,
        [EMU_FAST_STORE64] = &&l_STORE64,
        [EMU_FAST_LOAD32] = &&l_LOAD32,
        [EMU_FAST_LEA64] = &&l_LEA64,
        [EMU_FAST_MOVSXD_R] = &&l_MOVSXD_R,
        [EMU_FAST_MOVZX8_R] = &&l_MOVZX8_R,
        [EMU_FAST_MOVZX8_M] = &&l_MOVZX8_M,
        [EMU_FAST_RR64_ADD] = &&l_RR64_ADD,
        [EMU_FAST_RR64_SUB] = &&l_RR64_SUB,
        [EMU_FAST_RR64_CMP] = &&l_RR64_CMP,
        [EMU_FAST_RR64_ADC] = &&l_RR64_ADC,
        [EMU_FAST_RR64_AND] = &&l_RR64_AND,
        [EMU_FAST_RR64_OR] = &&l_RR64_OR,
        [EMU_FAST_RR64_XOR] = &&l_RR64_XOR,
        [EMU_FAST_RR64_TEST] = &&l_RR64_TEST,
        [EMU_FAST_RR32_ADD] = &&l_RR32_ADD,
        [EMU_FAST_RR32_SUB] = &&l_RR32_SUB,
        [EMU_FAST_RR32_CMP] = &&l_RR32_CMP,
        [EMU_FAST_RR32_XOR] = &&l_RR32_XOR,
        [EMU_FAST_RI64_ADD] = &&l_RI64_ADD,
        [EMU_FAST_RI64_SUB] = &&l_RI64_SUB,
        [EMU_FAST_RI64_CMP] = &&l_RI64_CMP,
        [EMU_FAST_RI64_AND] = &&l_RI64_AND,
        [EMU_FAST_RI32_ADD] = &&l_RI32_ADD,
        [EMU_FAST_RI32_SUB] = &&l_RI32_SUB,
        [EMU_FAST_RI32_CMP] = &&l_RI32_CMP,
        [EMU_FAST_RI32_AND] = &&l_RI32_AND,
        [EMU_FAST_IMUL_R64] = &&l_IMUL_R64,
        [EMU_FAST_JCC] = &&l_JCC,
        [EMU_FAST_SHL_R64] = &&l_SHL_R64,
        [EMU_FAST_SHR_R64] = &&l_SHR_R64,
        [EMU_FAST_SAR_R64] = &&l_SAR_R64,
        [EMU_FAST_ROL_R64] = &&l_ROL_R64,
        [EMU_FAST_ROR_R64] = &&l_ROR_R64,
        [EMU_FAST_PUSH_R64] = &&l_PUSH_R64,
        [EMU_FAST_POP_R64] = &&l_POP_R64,
        [EMU_FAST_SETCC_R] = &&l_SETCC_R,
        [EMU_FAST_CMOV_R64] = &&l_CMOV_R64,
        [EMU_FAST_RM64_ADD] = &&l_RM64_ADD,
        [EMU_FAST_RM64_SUB] = &&l_RM64_SUB,
        [EMU_FAST_RM64_CMP] = &&l_RM64_CMP,
        [EMU_FAST_RM64_AND] = &&l_RM64_AND,
        [EMU_FAST_RM64_OR] = &&l_RM64_OR,
        [EMU_FAST_RM64_XOR] = &&l_RM64_XOR,
        [EMU_FAST_RM32_ADD] = &&l_RM32_ADD,
        [EMU_FAST_RM32_CMP] = &&l_RM32_CMP,
        [EMU_FAST_MR64_CMP] = &&l_MR64_CMP,
        [EMU_FAST_MR32_CMP] = &&l_MR32_CMP,
        [EMU_FAST_RR32_TEST] = &&l_RR32_TEST,
        [EMU_FAST_RR8_TEST] = &&l_RR8_TEST,
        [EMU_FAST_RI64_OR] = &&l_RI64_OR,
        [EMU_FAST_RI64_XOR] = &&l_RI64_XOR,
        [EMU_FAST_SHL_R32] = &&l_SHL_R32,
        [EMU_FAST_SHR_R32] = &&l_SHR_R32,
        [EMU_FAST_SAR_R32] = &&l_SAR_R32,
        [EMU_FAST_MOVZX16_R] = &&l_MOVZX16_R,
        [EMU_FAST_MOVZX16_M] = &&l_MOVZX16_M,
        [EMU_FAST_STORE32] = &&l_STORE32,
        [EMU_FAST_NOP] = &&l_NOP,
        [EMU_FAST_JMP] = &&l_JMP,
        [EMU_FAST_CALL] = &&l_CALL,
        [EMU_FAST_RET] = &&l_RET,
        [EMU_FAST_ROL_R32] = &&l_ROL_R32,
        [EMU_FAST_ROR_R32] = &&l_ROR_R32,
        [EMU_FAST_SHL_CL64] = &&l_SHL_CL64,
        [EMU_FAST_SHR_CL64] = &&l_SHR_CL64,
        [EMU_FAST_SAR_CL64] = &&l_SAR_CL64,
        [EMU_FAST_SHL1_64] = &&l_SHL1_64,
        [EMU_FAST_SHR1_64] = &&l_SHR1_64,
        [EMU_FAST_SAR1_64] = &&l_SAR1_64,
        [EMU_FAST_RI64_ADC] = &&l_RI64_ADC,
        [EMU_FAST_RI64_SBB] = &&l_RI64_SBB,
        [EMU_FAST_RR32_AND] = &&l_RR32_AND,
        [EMU_FAST_STORE8] = &&l_STORE8,
        [EMU_FAST_STORE16] = &&l_STORE16,
        [EMU_FAST_CMP_AL_IMM8] = &&l_CMP_AL_IMM8,
        [EMU_FAST_TEST_M8_IMM8] = &&l_TEST_M8_IMM8,
        [EMU_FAST_TEST_R8_IMM8] = &&l_TEST_R8_IMM8,
        [EMU_FAST_CMP_M8_IMM8] = &&l_CMP_M8_IMM8,
        [EMU_FAST_LEA32] = &&l_LEA32,
        [EMU_FAST_MOVSXD_M] = &&l_MOVSXD_M,
        [EMU_FAST_MOV_R_IMM] = &&l_MOV_R_IMM,
        [EMU_FAST_STORE_IMM] = &&l_STORE_IMM,
        [EMU_FAST_STORE8_IMM] = &&l_STORE8_IMM,
    };
    uint64_t tag, rip, next, wrap;
    const struct emu_insn *in, *end;
    int rc = EMU_OK;

start:
    tag = cpu->fetch_tag;
    rip = cpu->rip;
    wrap = cpu->code64 ? ~0ull : 0xffffffffull;
    in = b->in;
    end = b->in + b->n;
    /* Only the last instruction can set a shadow (STI, MOV SS end blocks),
     * and a block starts without one (emu_block_ok). */
    cpu->shadow_next = 0;
    /* cpu->next_rip is kept for RIP-relative operands; cpu->rip is stored
     * only before the forms that can fault or read it. */
#define DISPATCH()                                                                      \
    do {                                                                                \
        next = (rip + in->len) & wrap;                                                  \
        cpu->next_rip = next;                                                           \
        goto *op[in->fast_op];                                                          \
    } while (0)
#define ADVANCE()                                                                       \
    do {                                                                                \
        rip = next;                                                                     \
        if (++in == end)                                                                \
            goto out;                                                                   \
        DISPATCH();                                                                     \
    } while (0)
    /* Register forms: they cannot fault, branch, touch memory or events. */
#define FINISH_REG(call)                                                                \
    do {                                                                                \
        (void)(call);                                                                   \
        ADVANCE();                                                                      \
    } while (0)
    /* Memory forms: a fault, or a store to code (fetch_tag) or MMIO. */
#define FINISH_MEM(call)                                                                \
    do {                                                                                \
        cpu->rip = rip;                                                                 \
        if (__builtin_expect((rc = (call)) != EMU_OK, 0))                               \
            goto not_ok;                                                                \
        if (__builtin_expect(cpu->fetch_tag != tag || cpu->io_nwq || cpu->io_ndone, 0)) \
            goto stop;                                                                  \
        ADVANCE();                                                                      \
    } while (0)
    /* Jcc and JMP: a taken branch ends the block. */
#define FINISH_BRANCH(call)                                                             \
    do {                                                                                \
        cpu->rip = rip;                                                                 \
        if (__builtin_expect((rc = (call)) != EMU_OK, 0))                               \
            goto not_ok;                                                                \
        if (cpu->next_rip != next)                                                      \
            goto stop;                                                                  \
        ADVANCE();                                                                      \
    } while (0)
#define FINISH(call)                                                                    \
    do {                                                                                \
        cpu->rip = rip;                                                                 \
        if (__builtin_expect((rc = (call)) != EMU_OK, 0))                               \
            goto not_ok;                                                                \
        cpu->shadow = cpu->shadow_next;                                                 \
        if (__builtin_expect(cpu->next_rip != next || cpu->fetch_tag != tag ||          \
                             cpu->io_nwq || cpu->io_ndone, 0))                          \
            goto stop;                                                                  \
        ADVANCE();                                                                      \
    } while (0)

    DISPATCH();
l_call:
    FINISH(in->handler(cpu, in));
l_MOV89_R64:
    FINISH_REG(fast_mov89_r64(cpu, in));
l_MOV8B_R64:
    FINISH_REG(fast_mov8b_r64(cpu, in));
l_MOV89_R32:
    FINISH_REG(fast_mov89_r32(cpu, in));
l_MOV8B_R32:
    FINISH_REG(fast_mov8b_r32(cpu, in));
l_LOAD64:
    FINISH_MEM(fast_load64(cpu, in));
l_STORE64:
    FINISH_MEM(fast_store64(cpu, in));
l_LOAD32:
    FINISH_MEM(fast_load32(cpu, in));
l_LEA64:
    FINISH_REG(fast_lea64(cpu, in));
l_MOVSXD_R:
    FINISH_REG(fast_movsxd_r(cpu, in));
l_MOVZX8_R:
    FINISH_REG(fast_movzx8_r(cpu, in));
l_MOVZX8_M:
    FINISH_MEM(fast_movzx8_m(cpu, in));
l_RR64_ADD:
    FINISH_REG(fast_rr64_ADD(cpu, in));
l_RR64_SUB:
    FINISH_REG(fast_rr64_SUB(cpu, in));
l_RR64_CMP:
    FINISH_REG(fast_rr64_CMP(cpu, in));
l_RR64_ADC:
    FINISH_REG(fast_rr64_ADC(cpu, in));
l_RR64_AND:
    FINISH_REG(fast_rr64_AND(cpu, in));
l_RR64_OR:
    FINISH_REG(fast_rr64_OR(cpu, in));
l_RR64_XOR:
    FINISH_REG(fast_rr64_XOR(cpu, in));
l_RR64_TEST:
    FINISH_REG(fast_rr64_TEST(cpu, in));
l_RR32_ADD:
    FINISH_REG(fast_rr32_ADD(cpu, in));
l_RR32_SUB:
    FINISH_REG(fast_rr32_SUB(cpu, in));
l_RR32_CMP:
    FINISH_REG(fast_rr32_CMP(cpu, in));
l_RR32_XOR:
    FINISH_REG(fast_rr32_XOR(cpu, in));
l_RI64_ADD:
    FINISH_REG(fast_ri64_ADD(cpu, in));
l_RI64_SUB:
    FINISH_REG(fast_ri64_SUB(cpu, in));
l_RI64_CMP:
    FINISH_REG(fast_ri64_CMP(cpu, in));
l_RI64_AND:
    FINISH_REG(fast_ri64_AND(cpu, in));
l_RI32_ADD:
    FINISH_REG(fast_ri32_ADD(cpu, in));
l_RI32_SUB:
    FINISH_REG(fast_ri32_SUB(cpu, in));
l_RI32_CMP:
    FINISH_REG(fast_ri32_CMP(cpu, in));
l_RI32_AND:
    FINISH_REG(fast_ri32_AND(cpu, in));
l_IMUL_R64:
    FINISH_REG(fast_imul_r64(cpu, in));
l_JCC:
    FINISH_BRANCH(fast_jcc(cpu, in));
l_SHL_R64:
    FINISH_REG(shift_c1_r8_SH_SHL(cpu, in));
l_SHR_R64:
    FINISH_REG(shift_c1_r8_SH_SHR(cpu, in));
l_SAR_R64:
    FINISH_REG(shift_c1_r8_SH_SAR(cpu, in));
l_ROL_R64:
    FINISH_REG(shift_c1_r8_SH_ROL(cpu, in));
l_ROR_R64:
    FINISH_REG(shift_c1_r8_SH_ROR(cpu, in));
l_PUSH_R64:
    FINISH_MEM(fast_push_r64(cpu, in));
l_POP_R64:
    FINISH_MEM(fast_pop_r64(cpu, in));
l_SETCC_R:
    FINISH_REG(fast_setcc_r(cpu, in));
l_CMOV_R64:
    FINISH_REG(fast_cmov_r64(cpu, in));
l_RM64_ADD:
    FINISH_MEM(fast_rm64_ADD(cpu, in));
l_RM64_SUB:
    FINISH_MEM(fast_rm64_SUB(cpu, in));
l_RM64_CMP:
    FINISH_MEM(fast_rm64_CMP(cpu, in));
l_RM64_AND:
    FINISH_MEM(fast_rm64_AND(cpu, in));
l_RM64_OR:
    FINISH_MEM(fast_rm64_OR(cpu, in));
l_RM64_XOR:
    FINISH_MEM(fast_rm64_XOR(cpu, in));
l_RM32_ADD:
    FINISH_MEM(fast_rm32_ADD(cpu, in));
l_RM32_CMP:
    FINISH_MEM(fast_rm32_CMP(cpu, in));
l_MR64_CMP:
    FINISH_MEM(fast_mr64_CMP(cpu, in));
l_MR32_CMP:
    FINISH_MEM(fast_mr32_CMP(cpu, in));
l_RR32_TEST:
    FINISH_REG(fast_rr32_TEST(cpu, in));
l_RR8_TEST:
    FINISH_REG(fast_rr8_TEST(cpu, in));
l_RI64_OR:
    FINISH_REG(fast_ri64_OR(cpu, in));
l_RI64_XOR:
    FINISH_REG(fast_ri64_XOR(cpu, in));
l_SHL_R32:
    FINISH_REG(shift_c1_r4_SH_SHL(cpu, in));
l_SHR_R32:
    FINISH_REG(shift_c1_r4_SH_SHR(cpu, in));
l_SAR_R32:
    FINISH_REG(shift_c1_r4_SH_SAR(cpu, in));
l_MOVZX16_R:
    FINISH_REG(fast_movzx16_r(cpu, in));
l_MOVZX16_M:
    FINISH_MEM(fast_movzx16_m(cpu, in));
l_STORE32:
    FINISH_MEM(fast_store32(cpu, in));
l_NOP:
    FINISH_REG(fast_nop(cpu, in));
    /* The near branches leave the block (RIP is not the next one's). */
l_JMP:
    FINISH_BRANCH(fast_jmp(cpu, in));
l_CALL:
    FINISH(fast_call(cpu, in));
l_RET:
    FINISH(fast_ret(cpu, in));
l_ROL_R32:
    FINISH_REG(shift_c1_r4_SH_ROL(cpu, in));
l_ROR_R32:
    FINISH_REG(shift_c1_r4_SH_ROR(cpu, in));
l_SHL_CL64:
    FINISH_REG(shift_d3_r8_SH_SHL(cpu, in));
l_SHR_CL64:
    FINISH_REG(shift_d3_r8_SH_SHR(cpu, in));
l_SAR_CL64:
    FINISH_REG(shift_d3_r8_SH_SAR(cpu, in));
l_SHL1_64:
    FINISH_REG(shift_d1_r8_SH_SHL(cpu, in));
l_SHR1_64:
    FINISH_REG(shift_d1_r8_SH_SHR(cpu, in));
l_SAR1_64:
    FINISH_REG(shift_d1_r8_SH_SAR(cpu, in));
l_RI64_ADC:
    FINISH_REG(fast_ri64_ADC(cpu, in));
l_RI64_SBB:
    FINISH_REG(fast_ri64_SBB(cpu, in));
l_RR32_AND:
    FINISH_REG(fast_rr32_AND(cpu, in));
l_STORE8:
    FINISH_MEM(fast_store8(cpu, in));
l_STORE16:
    FINISH_MEM(fast_store16(cpu, in));
l_CMP_AL_IMM8:
    FINISH_REG(fast_cmp_al_imm8(cpu, in));
l_TEST_M8_IMM8:
    FINISH_MEM(fast_test_m8_imm8(cpu, in));
l_TEST_R8_IMM8:
    FINISH_REG(fast_test_r8_imm8(cpu, in));
l_CMP_M8_IMM8:
    FINISH_MEM(fast_cmp_m8_imm8(cpu, in));
l_LEA32:
    FINISH_REG(fast_lea32(cpu, in));
l_MOVSXD_M:
    FINISH_MEM(fast_movsxd_m(cpu, in));
l_MOV_R_IMM:
    FINISH_REG(fast_mov_r_imm(cpu, in));
l_STORE_IMM:
    FINISH_MEM(fast_store_imm(cpu, in));
l_STORE8_IMM:
    FINISH_MEM(fast_store8_imm(cpu, in));
stop:
    /* The instruction completed but the block cannot go on after it. */
    in++;
    cpu->rip = cpu->next_rip;
    goto chain;
not_ok:
    /* HLT completed (RIP moves past it); anything else left the state as it
     * was before the instruction (or delivered an exception). */
    if (rc == EMU_HLT) {
        in++;
        cpu->shadow = cpu->shadow_next;
        cpu->rip = cpu->next_rip;
    }
    cpu->icount += (uint64_t)(in - b->in);
    return rc;
out:
    cpu->rip = rip;
chain:
    cpu->icount += (uint64_t)(in - b->in);
    if (emu_block_leave(cpu, attention) || !emu_block_ok(cpu) || !(b = emu_block_at(cpu)))
        return EMU_OK;
    goto start;
#undef FINISH_REG
#undef FINISH_MEM
#undef FINISH_BRANCH
#undef ADVANCE
#undef FINISH
#undef DISPATCH
}

int emu_step_many(struct emu_cpu *cpu, const int *attention)
{
    for (;;) {
        const struct emu_block *b;
        int rc;
        if (emu_block_ok(cpu) && (b = emu_block_at(cpu)) != NULL)
            rc = emu_block_run(cpu, b, attention);
        else
            rc = emu_step_inline(cpu);
        if (rc != EMU_OK || emu_block_leave(cpu, attention))
            return rc;
    }
}

void emu_icache_flush(struct emu_cpu *cpu)
{
    for (unsigned i = 0; i < EMU_ICACHE_SIZE; i++)
        cpu->icache[i].gpa = ~0ull;
    emu_block_flush(cpu);
}
