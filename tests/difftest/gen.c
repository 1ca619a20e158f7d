/* The generator: a seeded PRNG (splitmix64, so a seed and a case number
 * reproduce a case anywhere), operand values biased to edge cases, memory
 * operands aimed mostly at the data area, and the case itself: an initial
 * state and a list of items drawn from the form tables (forms_*.c). */
#include <stdarg.h>
#include <string.h>

#include "difftest.h"

const char *const dt_family_name[FAM_COUNT] = {
    "alu", "shift", "muldiv", "bit", "move", "stack", "branch", "string",
    "flags", "fault", "x87", "sse", "sse2", "mmx", "approx",
};

uint64_t dt_rand(struct dt_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t dt_edge64(struct dt_rng *r)
{
    static const uint64_t edges[] = {
        0, 1, 2, 3, 7, 8, 0x1f, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000,
        0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
        0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull, ~1ull, 0xfffffffffffffff0ull,
        0xffffffff80000000ull, 0xffffffffffff8000ull, 0xffffffffffffff80ull,
        0x5555555555555555ull, 0xaaaaaaaaaaaaaaaaull, 0x0123456789abcdefull,
    };
    uint64_t v;
    switch (dt_below(r, 6)) {
    case 0:
    case 1:
        return edges[dt_below(r, sizeof(edges) / sizeof(edges[0]))];
    case 2:
        return 1ull << dt_below(r, 64);
    case 3:
        v = dt_rand(r) & ((1ull << dt_below(r, 64)) - 1); /* small magnitude */
        return dt_chance(r, 2) ? v : (uint64_t)-(int64_t)v;
    case 4:
        return (1ull << dt_below(r, 64)) - dt_below(r, 3) + 1;
    default:
        return dt_rand(r);
    }
}

/* ---- bytes ---- */

void dt_put8(struct dt_item *it, uint8_t b)
{
    if (it->len < DT_ITEM_BYTES)
        it->bytes[it->len++] = b;
}

void dt_put(struct dt_item *it, unsigned n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (unsigned i = 0; i < n; i++)
        dt_put8(it, (uint8_t)va_arg(ap, int));
    va_end(ap);
}

void dt_putn(struct dt_item *it, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        dt_put8(it, (uint8_t)(v >> (8 * i)));
}

void dt_put32(struct dt_item *it, uint32_t v)
{
    dt_putn(it, v, 4);
}

void dt_setup_done(struct dt_item *it)
{
    it->main = it->len;
}

/* ---- registers ---- */

bool dt_can_write(const struct dt_emit *e, unsigned reg)
{
    return reg != 4 && !(e->avoid_regs >> reg & 1);
}

unsigned dt_pick_dst(struct dt_emit *e)
{
    for (;;) {
        unsigned r = dt_below(e->rng, 16);
        if (dt_can_write(e, r))
            return r;
    }
}

unsigned dt_pick_src(struct dt_emit *e)
{
    return dt_below(e->rng, 16);
}

unsigned dt_pick_size(struct dt_emit *e)
{
    static const unsigned sizes[] = {2, 4, 4, 8, 8};
    return sizes[dt_below(e->rng, 5)];
}

/* Byte registers 0-3 AL-BL, 4-7 AH-BH (no REX), 8-15 R8B-R15B, 16-19
 * SPL-DIL (REX). */
unsigned dt_breg_gpr(unsigned b)
{
    return b >= 16 ? b - 12 : (b >= 4 && b < 8) ? b - 4 : b;
}

unsigned dt_pick_bsrc(struct dt_emit *e)
{
    return dt_below(e->rng, 20);
}

unsigned dt_pick_bdst(struct dt_emit *e)
{
    for (;;) {
        unsigned b = dt_below(e->rng, 20);
        if (b != 16 && dt_can_write(e, dt_breg_gpr(b)))
            return b;
    }
}

/* ---- setup ---- */

void dt_setup_mov(struct dt_item *it, unsigned reg, uint32_t v)
{
    if (reg >= 8)
        dt_put8(it, 0x41);
    dt_put8(it, (uint8_t)(0xb8 + (reg & 7)));
    dt_put32(it, v);
}

void dt_setup_mov64(struct dt_item *it, unsigned reg, uint64_t v)
{
    if (v <= 0xffffffffull) {
        dt_setup_mov(it, reg, (uint32_t)v);
    } else if ((uint64_t)(int64_t)(int32_t)v == v) {
        dt_put(it, 3, 0x48 | (reg >> 3), 0xc7, 0xc0 | (reg & 7)); /* sign-extended imm32 */
        dt_put32(it, (uint32_t)v);
    } else {
        dt_put(it, 2, 0x48 | (reg >> 3), 0xb8 + (reg & 7));
        dt_putn(it, v, 8);
    }
}

void dt_setup_store(struct dt_item *it, uint32_t addr, uint64_t v, unsigned size)
{
    for (unsigned done = 0; done < size;) {
        unsigned n = size - done >= 4 ? 4 : size - done >= 2 ? 2 : 1;
        if (n == 2)
            dt_put8(it, 0x66);
        dt_put(it, 3, n == 1 ? 0xc6 : 0xc7, 0x04, 0x25); /* mov [disp32], imm */
        dt_put32(it, addr + done);
        dt_putn(it, v >> (8 * done), n);
        done += n;
    }
}

void dt_insert_store(struct dt_item *it, const struct dt_item *before, uint32_t addr, uint64_t v,
                     unsigned size)
{
    struct dt_item body = *it;
    unsigned at = before->len;
    it->len = (uint8_t)at;
    dt_setup_store(it, addr, v, size);
    unsigned shift = it->len - at;
    if (body.len + shift > DT_ITEM_BYTES) {
        *it = body; /* no room: leave the memory as it is */
        return;
    }
    memcpy(it->bytes + it->len, body.bytes + at, body.len - at);
    it->len = (uint8_t)(body.len + shift);
    it->main = (uint8_t)(body.main + shift);
    if (body.riprel) {
        it->rel_at = (uint8_t)(body.rel_at + shift);
        it->rel_end = (uint8_t)(body.rel_end + shift);
    }
}

/* ---- memory targets ---- */

uint64_t dt_pick_target(struct dt_emit *e, unsigned size, unsigned align)
{
    struct dt_rng *r = e->rng;
    unsigned a = align ? align : 1;
    unsigned k = dt_below(r, 1000);
    bool gp = e->c->allow_gp;
    uint64_t t;

    if (k < 900 || (k >= 995 && !gp)) {
        t = DT_DATA + dt_below(r, DT_DATA_SIZE - size + 1);
        if (!(a > 1 && gp && dt_chance(r, 16)) && !(a == 1 && dt_chance(r, 4)))
            t &= ~(uint64_t)((a > 1 ? a : 8) - 1); /* natural alignment mostly */
        return t;
    }
    if (k < 950)
        return (DT_STACK + 0x100 + dt_below(r, 0x500)) & ~(uint64_t)(a - 1);
    if (k < 965) /* the read-only page (writes fault) */
        return DT_RO + (dt_below(r, 0x1000 - size + 1) & ~(a - 1));
    if (k < 975 && a == 1) /* straddling into the unmapped page */
        return DT_HOLE - dt_below(r, size > 1 ? size - 1 : 1) - (size > 1);
    if (k < 985 && a == 1) /* straddling the data and stack pages */
        return DT_STACK - dt_below(r, size);
    if (k < 990)
        return (DT_SUPER + dt_below(r, 0x1000 - size)) & ~(uint64_t)(a - 1);
    if (k < 995)
        return (dt_chance(r, 2) ? dt_below(r, 0x100) : DT_HOLE + dt_below(r, 0x1000)) &
               ~(uint64_t)(a - 1);
    /* non-canonical, and the top of the canonical lower half */
    return dt_chance(r, 2) ? 0x8000000000000000ull + dt_below(r, 64)
                           : 0x0000800000000000ull - dt_below(r, 16);
}

/* ---- ModRM encoding ---- */

static bool reg_needs_rex(unsigned kind, unsigned v)
{
    if (kind == RK_BYTE)
        return v >= 8;
    if (kind == RK_GPR || kind == RK_XMM)
        return v >= 8;
    return false;
}

static unsigned reg_bits(unsigned kind, unsigned v)
{
    if (kind == RK_BYTE)
        return v >= 16 ? v - 12 : v; /* SPL-DIL encode as 4-7 with REX; R8B-R15B as 8-15 */
    if (kind == RK_MMX)
        return v & 7;
    return v;
}

static bool reg_forbids_rex(unsigned kind, unsigned v)
{
    return kind == RK_BYTE && v >= 4 && v < 8;
}

static unsigned pick_addr_reg(struct dt_emit *e, unsigned keep, bool low8)
{
    for (unsigned i = 0; i < 64; i++) {
        unsigned r = dt_below(e->rng, low8 ? 8 : 16);
        if (r != 4 && dt_can_write(e, r) && !(keep >> r & 1))
            return r;
    }
    return 16; /* none free */
}

void dt_emit_modrm(struct dt_emit *e, struct dt_modrm *m)
{
    struct dt_item *it = e->it;
    struct dt_rng *r = e->rng;
    unsigned rex = m->rexw ? 8 : 0, mod = 3, rmbits = 0, sib = 0, has_sib = 0;
    unsigned disp_size = 0, seg = 0, addr32 = 0, riprel = 0;
    uint64_t disp = 0;
    bool forbid = reg_forbids_rex(m->regk, m->reg) ||
                  (m->rm != DT_RM_MEM && reg_forbids_rex(m->rmk, m->rm));

    m->target_known = false;
    if (m->rm != DT_RM_MEM) {
        rmbits = reg_bits(m->rmk, m->rm);
        if (reg_needs_rex(m->rmk, m->rm) || (m->rmk == RK_BYTE && m->rm >= 16))
            rex |= 0x40 | (rmbits >> 3 & 1);
        rmbits &= 7;
        dt_setup_done(it);
    } else {
        uint64_t t = dt_pick_target(e, m->size, m->align);
        unsigned mode = dt_below(r, 100), base, index, scale;
        m->target = t;
        m->target_known = true;
        if (t > 0x7fffffffull && mode >= 50 && mode < 96)
            mode = 0; /* absolute forms reach only 31 bits */
        if (m->align > 1 && !e->c->allow_gp && (mode == 91 || mode == 92 || mode >= 96))
            mode = 82; /* RSP's alignment is not known here */
        if (mode < 50 || (mode >= 93 && mode < 96)) {
            /* [base + disp] with the base set up; 67h sometimes */
            base = pick_addr_reg(e, m->keep, forbid);
            if (base == 16)
                goto wild;
            switch (dt_below(r, 3)) {
            case 0: disp = 0; break;
            case 1: disp = (uint64_t)(int64_t)(int8_t)dt_rand(r); disp_size = 1; break;
            default: disp = (uint64_t)(int64_t)(int32_t)(dt_rand(r) & 0x8000ffff); disp_size = 4;
            }
            if (disp == 0 && (base & 7) == 5)
                disp_size = 1; /* RBP/R13 need a displacement */
            uint64_t sb = 0;
            if (dt_chance(r, 4) && !m->no_seg && t < 0x100000000ull) {
                /* FS/GS override: the set-up base is relative to its base */
                seg = dt_chance(r, 2) ? 0x64 : 0x65;
                sb = seg == 0x64 ? DT_FS_BASE : DT_GS_BASE;
            }
            if (mode >= 93 && !m->no_addr32 && t < 0x100000000ull && t >= sb) {
                addr32 = 1; /* 67h: the address wraps at 4 GiB */
                dt_setup_mov(it, base, (uint32_t)(t - disp - sb));
            } else {
                dt_setup_mov64(it, base, t - disp - sb);
            }
            mod = disp_size == 0 ? 0 : disp_size == 1 ? 1 : 2;
            if ((base & 7) == 4) {
                has_sib = 1;
                sib = 0x24; /* no index, base R12 */
            }
            rmbits = base & 7;
            rex |= base >> 3 & 1;
        } else if (mode < 70) {
            /* [base + index * scale + disp8] */
            base = pick_addr_reg(e, m->keep, forbid);
            index = base == 16 ? 16 : pick_addr_reg(e, m->keep | 1u << base, forbid);
            if (index == 16)
                goto wild;
            scale = dt_below(r, 4);
            int64_t k = (int64_t)dt_below(r, 64) - 16;
            disp = (uint64_t)(int64_t)(int8_t)dt_rand(r);
            dt_setup_mov64(it, index, (uint64_t)k);
            dt_setup_mov64(it, base, t - disp - ((uint64_t)k << scale));
            disp_size = 1;
            mod = 1;
            has_sib = 1;
            sib = scale << 6 | (index & 7) << 3 | (base & 7);
            rmbits = 4;
            rex |= (index >> 3 & 1) << 1 | (base >> 3 & 1);
        } else if (mode < 82) {
            /* RIP-relative: asm.c patches the displacement */
            riprel = 1;
            mod = 0;
            rmbits = 5;
            disp_size = 4;
        } else if (mode < 88) {
            /* absolute [disp32] (SIB, no base, no index) */
            mod = 0;
            rmbits = 4;
            has_sib = 1;
            sib = 0x25;
            disp = t;
            disp_size = 4;
        } else if (mode < 91 && !m->no_seg) {
            /* FS/GS:[disp32] */
            seg = dt_chance(r, 2) ? 0x64 : 0x65;
            mod = 0;
            rmbits = 4;
            has_sib = 1;
            sib = 0x25;
            disp = t - (seg == 0x64 ? DT_FS_BASE : DT_GS_BASE);
            disp_size = 4;
        } else if (mode < 98 || !e->c->allow_gp) {
            /* [rsp + disp8]: the stack page, address not tracked */
            m->target_known = false;
            mod = 1;
            rmbits = 4;
            has_sib = 1;
            sib = 0x24;
            uint64_t amask = ~(uint64_t)(m->align ? m->align - 1 : 0);
            disp = (uint64_t)(int64_t)(int8_t)(dt_rand(r) & amask);
            if (e->no_stack) {
                /* In a call body the operand stays below RSP: a store over
                 * the return address (FNSAVE [rsp-0x6b] reaches it) would
                 * send RET into the middle of an instruction. */
                unsigned sz = m->size < 128 ? m->size : 128;
                disp = (uint64_t)-(int64_t)(sz + dt_below(r, 128 - sz + 1)) & amask;
            }
            disp_size = 1;
        } else {
wild:
            /* a register's value as it is: anywhere (#PF, #GP) */
            m->target_known = false;
            base = dt_below(r, forbid ? 8 : 16);
            mod = (base & 7) == 5 ? 1 : 0;
            disp_size = mod;
            disp = 0;
            if ((base & 7) == 4) {
                has_sib = 1;
                sib = 0x24;
            }
            rmbits = base & 7;
            rex |= base >> 3 & 1;
        }
        dt_setup_done(it);
    }
    /* prefixes: segment, 67, lock, mandatory, REX */
    if (seg)
        dt_put8(it, (uint8_t)seg);
    if (addr32)
        dt_put8(it, 0x67);
    if (m->lock && m->rm == DT_RM_MEM)
        dt_put8(it, 0xf0);
    for (unsigned i = 0; i < 4 && m->pfx[i]; i++)
        dt_put8(it, m->pfx[i]);
    unsigned regbits = m->regk == RK_DIGIT ? m->reg : reg_bits(m->regk, m->reg);
    if (m->regk != RK_DIGIT &&
        (reg_needs_rex(m->regk, m->reg) || (m->regk == RK_BYTE && m->reg >= 16)))
        rex |= 0x40 | (regbits >> 3 & 1) << 2;
    regbits &= 7;
    if (rex & 0xf)
        rex |= 0x40;
    if (!rex && !forbid && dt_chance(r, 16))
        rex = 0x40; /* a REX that changes nothing */
    if (rex && !forbid)
        dt_put8(it, (uint8_t)rex);
    for (unsigned i = 0; i < m->nopc; i++)
        dt_put8(it, m->opc[i]);
    dt_put8(it, (uint8_t)(mod << 6 | regbits << 3 | rmbits));
    if (has_sib)
        dt_put8(it, (uint8_t)sib);
    if (riprel) {
        it->riprel = 1;
        it->rel_at = it->len;
        it->rel_target = (uint32_t)m->target;
        dt_put32(it, 0);
    } else {
        dt_putn(it, disp, disp_size);
    }
    dt_putn(it, m->imm, m->imm_size);
    it->rel_end = it->len;
}

/* ---- the form index ---- */

static const struct dt_form *table(unsigned k, unsigned *n)
{
    switch (k) {
    case 0: *n = dt_nforms_int; return dt_forms_int;
    case 1: *n = dt_nforms_mov; return dt_forms_mov;
    case 2: *n = dt_nforms_fp; return dt_forms_fp;
    default: *n = dt_nforms_sse; return dt_forms_sse;
    }
}

unsigned dt_nforms(void)
{
    return dt_nforms_int + dt_nforms_mov + dt_nforms_fp + dt_nforms_sse;
}

const struct dt_form *dt_form_get(unsigned i)
{
    for (unsigned k = 0;; k++) {
        unsigned n;
        const struct dt_form *t = table(k, &n);
        if (i < n || k == 3)
            return &t[i];
        i -= n;
    }
}

/* ---- floating-point values ---- */

static void f80_edge(struct dt_rng *r, uint8_t out[16])
{
    uint64_t mant;
    unsigned exp, sign = dt_below(r, 2) << 15;
    switch (dt_below(r, 14)) {
    case 0: exp = 0; mant = 0; break;                                  /* zero */
    case 1: exp = 0; mant = dt_rand(r) >> (1 + dt_below(r, 63)); break; /* denormal */
    case 2: exp = 0x7fff; mant = 1ull << 63; break;                    /* infinity */
    case 3: exp = 0x7fff; mant = 3ull << 62 | (dt_rand(r) >> 2 & -(uint64_t)dt_below(r, 2)); break;
    case 4: exp = 0x7fff; mant = 1ull << 63 | (dt_rand(r) >> 2 | 1); break; /* SNaN */
    case 5: exp = dt_chance(r, 2) ? 1 : 0x7ffe; mant = 1ull << 63 | dt_rand(r); break;
    case 6: exp = 0x3fff; mant = 1ull << 63; break;                    /* 1.0 */
    case 7:
        exp = 0x3fff + dt_below(r, 64);
        mant = 1ull << 63 | (dt_rand(r) << dt_below(r, 64) & ~(1ull << 63));
        break;
    case 8: /* unnormal, pseudo-denormal */
        exp = dt_below(r, 0x7fff);
        mant = dt_rand(r) & ~(1ull << 63);
        if (dt_chance(r, 2)) { exp = 0; mant |= 1ull << 63; }
        break;
    default: exp = 0x3fff - 40 + dt_below(r, 80); mant = 1ull << 63 | dt_rand(r); break;
    }
    memset(out, 0, 16);
    memcpy(out, &mant, 8);
    uint16_t se = (uint16_t)(sign | exp);
    memcpy(out + 8, &se, 2);
}

uint64_t dt_edge_f64(struct dt_rng *r)
{
    uint64_t s = (uint64_t)dt_below(r, 2) << 63;
    switch (dt_below(r, 12)) {
    case 0: return s;
    case 1: return s | (dt_rand(r) >> 12 >> dt_below(r, 52)) | 1;            /* denormal */
    case 2: return s | 0x7ff0000000000000ull;                               /* inf */
    case 3: return s | 0x7ff8000000000000ull | (dt_rand(r) >> 13 & -(uint64_t)dt_below(r, 2));
    case 4: return s | 0x7ff0000000000000ull | (dt_rand(r) >> 13 | 1);       /* SNaN */
    case 5: return s | (dt_chance(r, 2) ? 0x0010000000000000ull : 0x7fefffffffffffffull);
    case 6:
        return s | (uint64_t)(1023 + dt_below(r, 64)) << 52 |
               (dt_rand(r) >> 12 << dt_below(r, 52) & 0xfffffffffffffull);
    case 7: return s | 0x3ff0000000000000ull;
    case 8: return s | (uint64_t)(1023 + 31 + dt_below(r, 3)) << 52;           /* 2^31.. */
    default: return s | (uint64_t)(1023 - 30 + dt_below(r, 60)) << 52 | (dt_rand(r) >> 12);
    }
}

uint32_t dt_edge_f32(struct dt_rng *r)
{
    uint32_t s = (uint32_t)dt_below(r, 2) << 31, x = (uint32_t)dt_rand(r);
    switch (dt_below(r, 12)) {
    case 0: return s;
    case 1: return s | ((x >> 9 >> dt_below(r, 23)) | 1);
    case 2: return s | 0x7f800000u;
    case 3: return s | 0x7fc00000u | (x >> 10 & -(uint32_t)dt_below(r, 2));
    case 4: return s | 0x7f800000u | (x >> 10 | 1);
    case 5: return s | (dt_chance(r, 2) ? 0x00800000u : 0x7f7fffffu);
    case 6:
        return s | (uint32_t)(127 + dt_below(r, 32)) << 23 |
               (x >> 9 << dt_below(r, 23) & 0x7fffffu);
    case 7: return s | 0x3f800000u;
    case 8: return s | (uint32_t)(127 + 31 + dt_below(r, 3)) << 23;
    default: return s | (uint32_t)(127 - 30 + dt_below(r, 60)) << 23 | (x >> 9);
    }
}

uint64_t dt_edge_simd64(struct dt_rng *r)
{
    switch (dt_below(r, 5)) {
    case 0: return dt_edge_f64(r);
    case 1: return dt_edge_f32(r) | (uint64_t)dt_edge_f32(r) << 32;
    case 2: return dt_edge64(r);
    case 3: { /* lane edges: 00, 7f, 80, ff words/bytes */
        static const uint16_t w[] = {0,      0x7f, 0x80,   0xff,   0x7fff,
                                     0x8000, 0xffff, 1, 0xff80, 0x0100};
        uint64_t v = 0;
        for (unsigned i = 0; i < 4; i++)
            v |= (uint64_t)w[dt_below(r, 10)] << (16 * i);
        return v;
    }
    default: return dt_rand(r);
    }
}

/* ---- the initial state ---- */

static void gen_state(struct dt_case *c, struct dt_rng *r, int family)
{
    bool fp = family >= FAM_X87;
    for (unsigned i = 0; i < 16; i++) {
        unsigned k = dt_below(r, 10);
        c->gpr[i] = k < 3 ? DT_DATA + dt_below(r, DT_DATA_SIZE) : dt_edge64(r);
    }
    c->gpr[4] = DT_RSP0;
    /* IF set: kvm_pvm accepts IF=0 at CPL3 but runs the code with IF=1, so
     * PUSHF would show 1 (nothing interrupts the guest either way) */
    c->rflags = 0x202 | (dt_rand(r) & F_ARITH);
    if (dt_chance(r, 4))
        c->rflags |= F_DF;
    if (dt_chance(r, 16))
        c->rflags |= 1u << 18; /* AC: misaligned accesses raise #AC (CR0.AM is set) */
    if (dt_chance(r, 4))
        c->rflags |= 1u << 21; /* ID */
    c->mem_seed = dt_rand(r);

    memset(&c->fpu, 0, sizeof(c->fpu));
    c->fpu.fcw = 0x37f;
    c->fpu.mxcsr = 0x1f80;
    if (!fp)
        return; /* integer families: x87 and SSE at their reset values */
    for (unsigned i = 0; i < 16; i++) {
        uint64_t lo = dt_edge_simd64(r), hi = dt_edge_simd64(r);
        memcpy(c->fpu.xmm[i], &lo, 8);
        memcpy(c->fpu.xmm[i] + 8, &hi, 8);
    }
    /* x87: precision (24, 53, 64 bits), rounding, masks mostly set */
    static const uint16_t pc[] = {0x000, 0x200, 0x300, 0x300};
    c->fpu.fcw = (uint16_t)(0x40 | pc[dt_below(r, 4)] | dt_below(r, 4) << 10 | 0x3f);
    if (dt_chance(r, 4))
        c->fpu.fcw &= (uint16_t)~(1u << dt_below(r, 6));
    if (dt_chance(r, 16))
        c->fpu.fcw = (uint16_t)(c->fpu.fcw & ~0x3f) | (uint16_t)(dt_rand(r) & 0x3f);
    c->fpu.fsw = (uint16_t)(dt_below(r, 8) << 11);
    if (dt_chance(r, 8)) /* sticky flags that are masked, and condition codes */
        c->fpu.fsw |= (uint16_t)(dt_rand(r) & c->fpu.fcw & 0x3f) | (uint16_t)(dt_rand(r) & FSW_CC);
    c->fpu.ftw = (uint8_t)(dt_chance(r, 3) ? 0 : dt_rand(r));
    for (unsigned i = 0; i < 8; i++)
        f80_edge(r, c->fpu.st[i]);
    /* MXCSR: rounding, FZ, DAZ; masks mostly set; sticky flags sometimes */
    c->fpu.mxcsr = 0x1f80 | (uint32_t)dt_below(r, 4) << 13;
    if (dt_chance(r, 3))
        c->fpu.mxcsr |= 0x8000; /* FZ */
    if (dt_chance(r, 3))
        c->fpu.mxcsr |= 0x40;   /* DAZ */
    if (dt_chance(r, 4))
        c->fpu.mxcsr &= ~(1u << (7 + dt_below(r, 6)));
    if (dt_chance(r, 8))
        c->fpu.mxcsr &= ~0x1f80u;
    if (dt_chance(r, 8))
        c->fpu.mxcsr |= (uint32_t)(dt_rand(r) & 0x3f & c->fpu.mxcsr >> 7);
}

/* ---- the program ---- */

struct gen {
    struct dt_case *c;
    struct dt_rng *r;
    int family;
};

static bool fam_mixable(int f)
{
    return f == FAM_ALU || f == FAM_SHIFT || f == FAM_BIT || f == FAM_MOVE || f == FAM_FLAGS ||
           f == FAM_MULDIV;
}

static bool pick_form(struct gen *g, struct dt_emit *e, int fam)
{
    unsigned n = dt_nforms();
    for (unsigned tries = 0; tries < 4000; tries++) {
        unsigned i = dt_below(g->r, n);
        const struct dt_form *f = dt_form_get(i);
        if (fam >= 0 ? f->family != fam : !fam_mixable(f->family))
            continue;
        if ((f->flags & FF_STACK) && e->no_stack)
            continue;
        if (!!(f->flags & FF_APPROX) != e->last)
            continue;
        struct dt_item *it = e->it;
        memset(it, 0, sizeof(*it));
        it->kind = IT_INSN;
        it->form = (uint16_t)i;
        it->rnd = (uint8_t)dt_rand(g->r);
        if (f->emit(e, f))
            return true;
    }
    return false;
}

static struct dt_item *new_item(struct gen *g)
{
    if (g->c->nitems >= DT_MAX_ITEMS - 2)
        return NULL;
    return &g->c->items[g->c->nitems++];
}

static int item_family(struct gen *g)
{
    int f = g->family;
    if (f == FAM_BRANCH)
        return dt_chance(g->r, 5) ? FAM_STACK : -1;
    if (f == FAM_APPROX)
        return dt_chance(g->r, 2) ? FAM_X87 : FAM_SSE2;
    if (f == FAM_FAULT) /* the first fault ends the case: few of them */
        return dt_chance(g->r, 6) ? f : -1;
    return dt_below(g->r, 4) ? f : -1;
}

static void gen_seq(struct gen *g, unsigned depth, unsigned n, unsigned avoid, bool no_stack);

static void gen_block(struct gen *g, unsigned depth, unsigned avoid, bool no_stack)
{
    struct dt_rng *r = g->r;
    struct dt_item *b = new_item(g);
    if (!b)
        return;
    memset(b, 0, sizeof(*b));
    b->kind = IT_BEGIN;
    b->rnd = (uint8_t)dt_rand(r);
    unsigned k = dt_below(r, no_stack ? 6 : 10);
    unsigned body = 1 + dt_below(r, 4);
    switch (k) {
    case 0: case 1: b->blk = BLK_JCC8; b->op = (uint8_t)dt_below(r, 16); break;
    case 2: b->blk = BLK_JCC32; b->op = (uint8_t)dt_below(r, 16); break;
    case 3: b->blk = dt_chance(r, 2) ? BLK_JMP8 : BLK_JMP32; break;
    case 4:
        b->blk = BLK_LOOPF;
        b->op = (uint8_t)(0xe0 + dt_below(r, 4)); /* loopne, loope, loop, jrcxz */
        b->imm = (uint16_t)dt_below(r, 4);        /* the count set up in RCX */
        if (avoid >> 1 & 1)
            b->blk = BLK_JMP8;
        break;
    case 5:
        if (avoid >> 1 & 1) { /* RCX is a loop counter already */
            b->blk = BLK_JCC8;
            break;
        }
        b->blk = BLK_LOOPB;
        b->imm = (uint16_t)(1 + dt_below(r, 4));
        avoid |= 1u << 1;
        body = 1 + dt_below(r, 2);
        break;
    case 6:
    case 7:
        b->blk = BLK_CALL;
        b->imm = dt_chance(r, 4) ? (uint16_t)(8 * dt_below(r, 3)) : 0;
        no_stack = true;
        break;
    case 8: b->blk = dt_chance(r, 2) ? BLK_CALLR : BLK_CALLM; no_stack = true; break;
    default: b->blk = BLK_JMPR; break;
    }
    if (b->blk == BLK_CALLR || b->blk == BLK_CALLM || b->blk == BLK_JMPR) {
        unsigned reg = dt_below(r, 16);
        while (reg == 4 || (avoid >> reg & 1))
            reg = dt_below(r, 16);
        b->reg = (uint8_t)reg;
        b->rel_target = DT_DATA + (dt_below(r, DT_DATA_SIZE / 8) * 8);
    }
    if (b->blk == BLK_LOOPB)
        depth = 9; /* no blocks inside: they could write RCX */
    gen_seq(g, depth + 1, body, avoid, no_stack);
    struct dt_item *end = new_item(g);
    if (end) {
        memset(end, 0, sizeof(*end));
        end->kind = IT_END;
    }
}

static void gen_seq(struct gen *g, unsigned depth, unsigned n, unsigned avoid, bool no_stack)
{
    unsigned block_one_in = g->family == FAM_BRANCH ? 3 : 16;
    for (unsigned i = 0; i < n; i++) {
        if (depth < 3 && dt_chance(g->r, block_one_in)) {
            gen_block(g, depth, avoid, no_stack);
            continue;
        }
        struct dt_item *it = new_item(g);
        if (!it)
            return;
        struct dt_emit e = {g->r, it, g->family, avoid, no_stack, false, g->c};
        if (!pick_form(g, &e, item_family(g)))
            g->c->nitems--;
    }
}

void dt_generate(struct dt_case *c, uint64_t seed, uint64_t index, const struct dt_gen_opts *o)
{
    struct dt_rng r = {seed ^ (index * 0xd1342543de82ef95ull)};
    dt_rand(&r);
    for (unsigned attempt = 0;; attempt++) {
        memset(c, 0, offsetof(struct dt_case, items));
        c->seed = seed;
        c->index = index;
        c->approx_xmm = -1;
        c->approx_x87 = false;
        c->approx_lanes = 0;
        c->fixed_masks = false;
        c->allow_gp = o->allow_gp;
        int fam = (int)dt_below(&r, FAM_COUNT);
        c->family = o->only >= 0 ? o->only : fam;
        c->nitems = 0;
        gen_state(c, &r, c->family);
        struct gen g = {c, &r, c->family};
        unsigned max = o->max_len > attempt ? o->max_len - attempt : 1;
        gen_seq(&g, 0, 1 + dt_below(&r, max), 0, false);
        if (c->family == FAM_APPROX) {
            struct dt_item *it = new_item(&g);
            struct dt_emit e = {&r, it, c->family, 0, false, true, c};
            if (it && !pick_form(&g, &e, FAM_APPROX))
                c->nitems--;
        }
        if (dt_assemble(c) || attempt > 20)
            return;
    }
}
