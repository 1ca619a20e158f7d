/* Integer instruction forms (SDM Vol. 2; the roam-v1 map is
 * src/engine/emu/opcodes.def). One row per form; the emitter chooses
 * operand size, registers, memory operands and immediates, and records the
 * flags each instruction defines, leaves undefined (SDM "Flags Affected")
 * and reads. Left out, and why, in README.md: CPUID, RDTSC(P), RDPMC,
 * SYSCALL/SYSENTER, INT n, LAHF/SAHF (not in roam-v1's 64-bit mode),
 * segment-register loads, SGDT/SIDT/SLDT/STR/SMSW, LAR/LSL/VERR/VERW, VEX
 * and EVEX (C4/C5/62), and every extension newer than x86-64-v1. */
#include "forms.h"

/* ---- ALU: add or adc sbb and sub xor cmp; a = op, b = encoding, c = byte ---- */
static bool f_alu(struct dt_emit *e, const struct dt_form *f)
{
    unsigned op = f->a, byte = f->c, size = byte ? 1 : dt_pick_size(e);
    bool wr = op != 7;
    struct dt_modrm m = {0};
    m.regk = m.rmk = byte ? RK_BYTE : RK_GPR;
    m.size = size;
    unsigned isz = byte ? 1 : size == 2 ? 2 : 4;
    switch (f->b) {
    case 0: /* op r/m, r */
        m.opc[0] = (uint8_t)(op * 8 + !byte);
        m.reg = byte ? dt_pick_bsrc(e) : dt_pick_src(e);
        m.rm = pick_rm(e, size, wr);
        m.write = wr;
        m.lock = wr && dt_chance(e->rng, 3);
        break;
    case 1: /* op r, r/m */
        m.opc[0] = (uint8_t)(op * 8 + 2 + !byte);
        m.reg = wr ? (byte ? dt_pick_bdst(e) : dt_pick_dst(e))
                   : (byte ? dt_pick_bsrc(e) : dt_pick_src(e));
        m.rm = pick_rm(e, size, false);
        break;
    case 2: { /* op AL/eAX, imm */
        if (wr && !dt_can_write(e, 0))
            return false;
        uint8_t o = (uint8_t)(op * 8 + 4 + !byte);
        plain(e, size, 0, &o, 1, imm_for(e), isz);
        goto done;
    }
    default: /* 80/81 /op imm, 83 /op imm8 */
        m.opc[0] = f->b == 4 ? 0x83 : byte ? 0x80 : 0x81;
        if (f->b == 4)
            isz = 1;
        m.regk = RK_DIGIT;
        m.reg = op;
        m.rm = pick_rm(e, size, wr);
        m.write = wr;
        m.lock = wr && dt_chance(e->rng, 3);
        m.imm_size = isz;
        m.imm = imm_for(e);
        break;
    }
    m.nopc = 1;
    if (byte && byte_clash(m.reg, m.rm))
        return false;
    sized(&m, size);
    dt_emit_modrm(e, &m);
done:
    flags(e->it, op == 1 || op == 4 || op == 6 ? A_ALL & ~F_AF : A_ALL,
          op == 1 || op == 4 || op == 6 ? F_AF : 0, op == 2 || op == 3 ? F_CF : 0);
    return true;
}

/* ---- unary group: a = /digit (0 inc, 1 dec, 2 not, 3 neg), c = byte ---- */
static bool f_unary(struct dt_emit *e, const struct dt_form *f)
{
    unsigned size = f->c ? 1 : dt_pick_size(e);
    struct dt_modrm m = {0};
    m.opc[0] = f->a < 2 ? (f->c ? 0xfe : 0xff) : (f->c ? 0xf6 : 0xf7);
    m.nopc = 1;
    m.regk = RK_DIGIT;
    m.rmk = f->c ? RK_BYTE : RK_GPR;
    m.reg = f->a;
    m.rm = pick_rm(e, size, true);
    m.size = size;
    m.write = true;
    m.lock = dt_chance(e->rng, 3);
    sized(&m, size);
    dt_emit_modrm(e, &m);
    if (f->a < 2)
        flags(e->it, A_ALL & ~F_CF, 0, 0);
    else if (f->a == 3)
        flags(e->it, A_ALL, 0, 0);
    return true;
}

/* ---- TEST: b = 0 r/m,r; 1 acc,imm; 2 F6/F7 /0 imm ---- */
static bool f_test(struct dt_emit *e, const struct dt_form *f)
{
    unsigned byte = f->c, size = byte ? 1 : dt_pick_size(e), isz = byte ? 1 : size == 2 ? 2 : 4;
    struct dt_modrm m = {0};
    m.regk = m.rmk = byte ? RK_BYTE : RK_GPR;
    m.size = size;
    m.nopc = 1;
    if (f->b == 1) {
        uint8_t o = byte ? 0xa8 : 0xa9;
        plain(e, size, 0, &o, 1, imm_for(e), isz);
    } else {
        m.opc[0] = f->b == 0 ? (byte ? 0x84 : 0x85) : (byte ? 0xf6 : 0xf7);
        m.reg = f->b == 0 ? (byte ? dt_pick_bsrc(e) : dt_pick_src(e)) : 0;
        if (f->b == 2) {
            m.regk = RK_DIGIT;
            m.imm_size = isz;
            m.imm = imm_for(e);
        }
        m.rm = pick_rm(e, size, false);
        if (byte && f->b == 0 && byte_clash(m.reg, m.rm))
            return false;
        sized(&m, size);
        dt_emit_modrm(e, &m);
    }
    flags(e->it, A_ALL & ~F_AF, F_AF, 0);
    return true;
}

/* ---- XCHG, XADD, CMPXCHG: a = 0 xchg, 1 xadd, 2 cmpxchg; 3 xchg eAX,r ---- */
static bool f_xchg(struct dt_emit *e, const struct dt_form *f)
{
    unsigned byte = f->c, size = byte ? 1 : dt_pick_size(e);
    if (f->a == 3) {
        unsigned r = dt_pick_dst(e);
        if (!dt_can_write(e, 0))
            return false;
        uint8_t o = (uint8_t)(0x90 + (r & 7));
        plain(e, size, r >> 3, &o, 1, 0, 0);
        return true;
    }
    if (f->a == 2 && !dt_can_write(e, 0))
        return false;
    struct dt_modrm m = {0};
    static const uint8_t op[3][2] = {{0x86, 0}, {0x0f, 0xc0}, {0x0f, 0xb0}};
    m.nopc = f->a ? 2 : 1;
    m.opc[0] = op[f->a][0];
    m.opc[1] = op[f->a][1];
    m.opc[m.nopc - 1] = (uint8_t)(m.opc[m.nopc - 1] + !byte);
    m.regk = m.rmk = byte ? RK_BYTE : RK_GPR;
    m.reg = f->a == 2 ? (byte ? dt_pick_bsrc(e) : dt_pick_src(e))
                      : (byte ? dt_pick_bdst(e) : dt_pick_dst(e));
    m.rm = pick_rm(e, size, true);
    m.size = size;
    m.write = true;
    m.lock = dt_chance(e->rng, 3);
    if (byte && byte_clash(m.reg, m.rm))
        return false;
    bool match = f->a == 2 && m.rm == DT_RM_MEM && dt_chance(e->rng, 2);
    uint64_t v = dt_edge64(e->rng);
    if (match) { /* make the compare succeed: RAX and the memory agree */
        dt_setup_mov64(e->it, 0, v);
        m.keep = 1;
    }
    sized(&m, size);
    struct dt_item save = *e->it;
    dt_emit_modrm(e, &m);
    if (match && m.target_known && dt_writable(m.target, size))
        dt_insert_store(e->it, &save, (uint32_t)m.target, v, size);
    if (f->a)
        flags(e->it, A_ALL, 0, 0);
    return true;
}

/* ---- CMPXCHG8B m64 ---- */
static bool f_cx8(struct dt_emit *e, const struct dt_form *f)
{
    (void)f;
    if (!dt_can_write(e, 0) || !dt_can_write(e, 2))
        return false;
    struct dt_item *it = e->it;
    struct dt_modrm m = {0};
    uint64_t v = dt_edge64(e->rng);
    bool match = dt_chance(e->rng, 2);
    /* EDX:EAX the expected value, ECX:EBX the new one */
    dt_setup_mov(it, 0, (uint32_t)v);
    dt_setup_mov(it, 2, (uint32_t)(v >> 32));
    m.opc[0] = 0x0f;
    m.opc[1] = 0xc7;
    m.nopc = 2;
    m.regk = RK_DIGIT;
    m.reg = 1;
    m.rm = DT_RM_MEM;
    m.size = 8;
    m.write = true;
    m.lock = dt_chance(e->rng, 2);
    m.keep = 1u << 0 | 1u << 2 | 1u << 1 | 1u << 3;
    struct dt_item save = *it;
    dt_emit_modrm(e, &m);
    if (match && m.target_known && dt_writable(m.target, 8))
        dt_insert_store(it, &save, (uint32_t)m.target, v, 8);
    flags(it, F_ZF, 0, 0);
    return true;
}

/* ---- CBW/CWDE/CDQE (98), CWD/CDQ/CQO (99) ---- */
static bool f_cbw(struct dt_emit *e, const struct dt_form *f)
{
    if (!dt_can_write(e, f->a ? 2 : 0))
        return false;
    uint8_t o = (uint8_t)(0x98 + f->a);
    plain(e, dt_pick_size(e), 0, &o, 1, 0, 0);
    return true;
}

/* ---- shifts and rotates: a = /digit, b = 0 by 1, 1 imm8, 2 CL; c = byte ---- */
static unsigned shift_count(struct dt_emit *e)
{
    static const uint8_t c[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255};
    return dt_chance(e->rng, 2) ? c[dt_below(e->rng, 16)] : (unsigned)dt_below(e->rng, 256);
}

static bool f_shift(struct dt_emit *e, const struct dt_form *f)
{
    unsigned op = f->a, byte = f->c, size = byte ? 1 : dt_pick_size(e), width = size * 8;
    unsigned count = f->b == 0 ? 1 : shift_count(e);
    struct dt_item *it = e->it;
    struct dt_modrm m = {0};
    if (f->b == 2) {
        if (!dt_can_write(e, 1))
            return false;
        dt_put(it, 2, 0xb1, count); /* mov cl, count */
        m.keep = 1u << 1;
    }
    m.opc[0] = (uint8_t)((f->b == 0 ? 0xd0 : f->b == 1 ? 0xc0 : 0xd2) + !byte);
    m.nopc = 1;
    m.regk = RK_DIGIT;
    m.rmk = byte ? RK_BYTE : RK_GPR;
    m.reg = op;
    m.rm = pick_rm(e, size, true);
    m.size = size;
    m.write = true;
    if (f->b == 1) {
        m.imm_size = 1;
        m.imm = count;
    }
    sized(&m, size);
    dt_emit_modrm(e, &m);
    unsigned c = count & (size == 8 ? 63 : 31);
    uint16_t def = 0, undef = 0, read = 0;
    if (c) {
        uint16_t of = c == 1 ? F_OF : 0;
        if (op <= 1) {              /* rol, ror */
            def = F_CF | of;
        } else if (op <= 3) {       /* rcl, rcr */
            def = F_CF | of;
            read = F_CF;
        } else {                    /* shl, shr, sal, sar */
            def = F_SF | F_ZF | F_PF | of | (c < width ? F_CF : 0);
            undef = F_AF | (c < width ? 0 : F_CF);
        }
        undef |= (uint16_t)(c != 1 ? F_OF : 0);
        def &= (uint16_t)~undef;
    }
    flags(it, def, undef, read);
    return true;
}

/* ---- SHLD/SHRD: a = 0 shld, 1 shrd; b = 0 imm8, 1 CL ---- */
static bool f_shxd(struct dt_emit *e, const struct dt_form *f)
{
    unsigned size = dt_pick_size(e), count = shift_count(e);
    struct dt_item *it = e->it;
    struct dt_modrm m = {0};
    if (size == 2 && (count & 31) > 15)
        count &= ~16u; /* past 16 the 16-bit result is undefined */
    if (f->b) {
        if (!dt_can_write(e, 1))
            return false;
        dt_put(it, 2, 0xb1, count);
        m.keep = 1u << 1;
    }
    m.opc[0] = 0x0f;
    m.opc[1] = (uint8_t)((f->a ? 0xac : 0xa4) + f->b);
    m.nopc = 2;
    m.regk = m.rmk = RK_GPR;
    m.reg = dt_pick_src(e);
    m.rm = pick_rm(e, size, true);
    m.size = size;
    m.write = true;
    if (!f->b) {
        m.imm_size = 1;
        m.imm = count;
    }
    sized(&m, size);
    dt_emit_modrm(e, &m);
    unsigned c = count & (size == 8 ? 63 : 31);
    if (c)
        flags(it, (uint16_t)(F_CF | F_SF | F_ZF | F_PF | (c == 1 ? F_OF : 0)),
              (uint16_t)(F_AF | (c == 1 ? 0 : F_OF)), 0);
    return true;
}

/* ---- MUL/IMUL r/m (a = 4, 5), IMUL r, r/m [, imm] (a = 0 0F AF, 1 6B, 2 69) ---- */
static bool f_mul(struct dt_emit *e, const struct dt_form *f)
{
    unsigned byte = f->c, size = byte ? 1 : dt_pick_size(e);
    struct dt_modrm m = {0};
    m.rmk = byte ? RK_BYTE : RK_GPR;
    m.size = size;
    if (f->a >= 4) {
        if (!dt_can_write(e, 0) || (!byte && !dt_can_write(e, 2)))
            return false;
        m.opc[0] = byte ? 0xf6 : 0xf7;
        m.nopc = 1;
        m.regk = RK_DIGIT;
        m.reg = f->a;
    } else {
        m.regk = RK_GPR;
        m.reg = dt_pick_dst(e);
        if (f->a == 0) {
            m.opc[0] = 0x0f;
            m.opc[1] = 0xaf;
            m.nopc = 2;
        } else {
            m.opc[0] = f->a == 1 ? 0x6b : 0x69;
            m.nopc = 1;
            m.imm_size = f->a == 1 ? 1 : size == 2 ? 2 : 4;
            m.imm = imm_for(e);
        }
    }
    m.rm = pick_rm(e, size, false);
    sized(&m, size);
    dt_emit_modrm(e, &m);
    flags(e->it, F_CF | F_OF, U_MUL, 0);
    return true;
}

/* ---- DIV/IDIV (a = 6, 7): dividend and divisor set up so that most
 * divisions complete; one in eight keeps what the registers hold ---- */
static bool f_div(struct dt_emit *e, const struct dt_form *f)
{
    struct dt_rng *r = e->rng;
    unsigned byte = f->c, size = byte ? 1 : dt_pick_size(e), w = size * 8;
    bool sgn = f->a == 7;
    struct dt_item *it = e->it;
    struct dt_modrm m = {0};
    if (!dt_can_write(e, 0) || (!byte && !dt_can_write(e, 2)))
        return false;
    m.keep = 1u << 0 | 1u << 2;
    m.rmk = byte ? RK_BYTE : RK_GPR;
    m.rm = pick_rm(e, size, false);
    unsigned rmgpr = m.rm == DT_RM_MEM ? 16 : byte ? dt_breg_gpr(m.rm) : m.rm;
    bool setup = !dt_chance(r, 16);
    uint64_t mask = w == 64 ? ~0ull : (1ull << w) - 1;
    uint64_t d = dt_edge64(r) & mask;
    if (d == 0 && !dt_chance(r, 4))
        d = 1 + dt_below(r, 100);
    if (setup) {
        unsigned __int128 dd = d, q = dt_edge64(r) & (mask >> (dt_chance(r, 4) ? 0 : 1));
        __int128 sd = 0;
        if (sgn) {
            int64_t dv = (int64_t)(d << (64 - w)) >> (64 - w);
            int64_t qv = (int64_t)(q << (64 - w)) >> (64 - w);
            sd = (__int128)qv * dv;
            uint64_t ad = dv < 0 ? 0 - (uint64_t)dv : (uint64_t)dv;
            __int128 rem = ad ? (__int128)(dt_rand(r) % ad) : 0;
            if (dt_chance(r, 3))
                rem = 0;
            sd += sd < 0 ? -rem : rem;
        } else {
            sd = (__int128)(q * dd + (dd ? dt_rand(r) % d : 0));
        }
        unsigned __int128 u = (unsigned __int128)sd;
        if (byte) {
            dt_setup_mov(it, 0, (uint32_t)(u & 0xffff));
        } else {
            dt_setup_mov64(it, 0, (uint64_t)u & mask);
            dt_setup_mov64(it, 2, (uint64_t)(u >> w) & mask);
        }
        if (byte && m.rm >= 5 && m.rm < 8 && dt_can_write(e, rmgpr))
            dt_setup_mov(it, rmgpr, (uint32_t)d << 8); /* CH, DH, BH */
        else if (rmgpr < 16 && rmgpr != 0 && (rmgpr != 2 || byte) &&
                 (!byte || m.rm < 4 || m.rm >= 8) && dt_can_write(e, rmgpr))
            dt_setup_mov64(it, rmgpr, d);
    }
    m.opc[0] = byte ? 0xf6 : 0xf7;
    m.nopc = 1;
    m.regk = RK_DIGIT;
    m.reg = f->a;
    m.size = size;
    sized(&m, size);
    struct dt_item save = *it;
    dt_emit_modrm(e, &m);
    if (setup && m.target_known && dt_writable(m.target, size))
        dt_insert_store(it, &save, (uint32_t)m.target, d, size);
    flags(it, 0, A_ALL, 0);
    return true;
}

/* ---- BT/BTS/BTR/BTC: a = op, b = 0 r/m,r; 1 r/m,imm8 ---- */
static bool f_bt(struct dt_emit *e, const struct dt_form *f)
{
    unsigned size = dt_pick_size(e);
    struct dt_item *it = e->it;
    struct dt_modrm m = {0};
    m.regk = m.rmk = RK_GPR;
    m.rm = pick_rm(e, size, f->a != 0);
    m.size = size;
    m.write = f->a != 0;
    m.lock = f->a && dt_chance(e->rng, 3);
    if (f->b == 0) {
        m.opc[0] = 0x0f;
        m.opc[1] = (uint8_t)(0xa3 + 8 * f->a);
        m.nopc = 2;
        m.reg = dt_pick_src(e);
        if (m.rm == DT_RM_MEM && dt_can_write(e, m.reg) && !dt_chance(e->rng, 8)) {
            /* the bit offset reaches beyond the operand: keep it small */
            dt_setup_mov64(it, m.reg, (uint64_t)((int64_t)dt_below(e->rng, 256) - 64));
            m.keep = 1u << m.reg;
        }
    } else {
        m.opc[0] = 0x0f;
        m.opc[1] = 0xba;
        m.nopc = 2;
        m.regk = RK_DIGIT;
        m.reg = 4 + f->a;
        m.imm_size = 1;
        m.imm = dt_rand(e->rng);
    }
    sized(&m, size);
    dt_emit_modrm(e, &m);
    flags(it, F_CF, F_OF | F_SF | F_AF | F_PF | F_ZF, 0);
    return true;
}

/* ---- BSF/BSR (never F3: that is TZCNT/LZCNT on this CPU) ---- */
static bool f_bsx(struct dt_emit *e, const struct dt_form *f)
{
    unsigned size = dt_pick_size(e);
    struct dt_modrm m = {0};
    m.opc[0] = 0x0f;
    m.opc[1] = (uint8_t)(0xbc + f->a);
    m.nopc = 2;
    m.regk = m.rmk = RK_GPR;
    m.reg = dt_pick_dst(e);
    m.rm = pick_rm(e, size, false);
    m.size = size;
    sized(&m, size);
    dt_emit_modrm(e, &m);
    flags(e->it, F_ZF, F_CF | F_OF | F_SF | F_AF | F_PF, 0);
    return true;
}

static bool f_bswap(struct dt_emit *e, const struct dt_form *f)
{
    (void)f;
    unsigned r = dt_pick_dst(e);
    uint8_t o[2] = {0x0f, (uint8_t)(0xc8 + (r & 7))};
    plain(e, dt_chance(e->rng, 2) ? 8 : 4, r >> 3, o, 2, 0, 0);
    return true;
}

/* ---- SETcc, CMOVcc ---- */
static bool f_setcc(struct dt_emit *e, const struct dt_form *f)
{
    unsigned cc = dt_below(e->rng, 16);
    struct dt_modrm m = {0};
    m.opc[0] = 0x0f;
    m.opc[1] = (uint8_t)((f->a ? 0x40 : 0x90) + cc);
    m.nopc = 2;
    if (f->a) { /* cmovcc r, r/m */
        unsigned size = dt_pick_size(e);
        m.regk = m.rmk = RK_GPR;
        m.reg = dt_pick_dst(e);
        m.rm = pick_rm(e, size, false);
        m.size = size;
        sized(&m, size);
    } else {
        m.regk = RK_DIGIT;
        m.rmk = RK_BYTE;
        m.reg = dt_below(e->rng, 8); /* ignored by the CPU */
        m.rm = pick_rm(e, 1, true);
        m.size = 1;
        m.write = true;
    }
    dt_emit_modrm(e, &m);
    flags(e->it, 0, 0, dt_cc_flags(cc));
    return true;
}

#define ALU(op, nm)                                                                                \
    {nm " r/m8, r8", FAM_ALU, 0, f_alu, op, 0, 1},                                                 \
    {nm " r/m, r", FAM_ALU, 0, f_alu, op, 0, 0},                                                   \
    {nm " r8, r/m8", FAM_ALU, 0, f_alu, op, 1, 1},                                                 \
    {nm " r, r/m", FAM_ALU, 0, f_alu, op, 1, 0},                                                   \
    {nm " al, imm8", FAM_ALU, 0, f_alu, op, 2, 1},                                                 \
    {nm " eAX, imm", FAM_ALU, 0, f_alu, op, 2, 0},                                                 \
    {nm " r/m8, imm8", FAM_ALU, 0, f_alu, op, 3, 1},                                               \
    {nm " r/m, imm", FAM_ALU, 0, f_alu, op, 3, 0},                                                 \
    {nm " r/m, imm8", FAM_ALU, 0, f_alu, op, 4, 0}
#define SHIFT(op, nm)                                                                              \
    {nm " r/m8, 1", FAM_SHIFT, 0, f_shift, op, 0, 1},                                              \
    {nm " r/m, 1", FAM_SHIFT, 0, f_shift, op, 0, 0},                                               \
    {nm " r/m8, imm8", FAM_SHIFT, 0, f_shift, op, 1, 1},                                           \
    {nm " r/m, imm8", FAM_SHIFT, 0, f_shift, op, 1, 0},                                            \
    {nm " r/m8, cl", FAM_SHIFT, 0, f_shift, op, 2, 1},                                             \
    {nm " r/m, cl", FAM_SHIFT, 0, f_shift, op, 2, 0}

const struct dt_form dt_forms_int[] = {
    ALU(0, "add"), ALU(1, "or"), ALU(2, "adc"), ALU(3, "sbb"),
    ALU(4, "and"), ALU(5, "sub"), ALU(6, "xor"), ALU(7, "cmp"),
    {"inc r/m8", FAM_ALU, 0, f_unary, 0, 0, 1}, {"inc r/m", FAM_ALU, 0, f_unary, 0, 0, 0},
    {"dec r/m8", FAM_ALU, 0, f_unary, 1, 0, 1}, {"dec r/m", FAM_ALU, 0, f_unary, 1, 0, 0},
    {"not r/m8", FAM_ALU, 0, f_unary, 2, 0, 1}, {"not r/m", FAM_ALU, 0, f_unary, 2, 0, 0},
    {"neg r/m8", FAM_ALU, 0, f_unary, 3, 0, 1}, {"neg r/m", FAM_ALU, 0, f_unary, 3, 0, 0},
    {"test r/m8, r8", FAM_ALU, 0, f_test, 0, 0, 1}, {"test r/m, r", FAM_ALU, 0, f_test, 0, 0, 0},
    {"test al, imm8", FAM_ALU, 0, f_test, 0, 1, 1}, {"test eAX, imm", FAM_ALU, 0, f_test, 0, 1, 0},
    {"test r/m8, imm8", FAM_ALU, 0, f_test, 0, 2, 1},
    {"test r/m, imm", FAM_ALU, 0, f_test, 0, 2, 0},
    {"xchg r/m8, r8", FAM_MOVE, 0, f_xchg, 0, 0, 1}, {"xchg r/m, r", FAM_MOVE, 0, f_xchg, 0, 0, 0},
    {"xchg eAX, r", FAM_MOVE, 0, f_xchg, 3, 0, 0},
    {"xadd r/m8, r8", FAM_ALU, 0, f_xchg, 1, 0, 1}, {"xadd r/m, r", FAM_ALU, 0, f_xchg, 1, 0, 0},
    {"cmpxchg r/m8, r8", FAM_ALU, 0, f_xchg, 2, 0, 1},
    {"cmpxchg r/m, r", FAM_ALU, 0, f_xchg, 2, 0, 0},
    {"cmpxchg8b m64", FAM_ALU, 0, f_cx8, 0, 0, 0},
    {"cbw/cwde/cdqe", FAM_MOVE, 0, f_cbw, 0, 0, 0}, {"cwd/cdq/cqo", FAM_MOVE, 0, f_cbw, 1, 0, 0},
    SHIFT(0, "rol"), SHIFT(1, "ror"), SHIFT(2, "rcl"), SHIFT(3, "rcr"),
    SHIFT(4, "shl"), SHIFT(5, "shr"), SHIFT(6, "sal(/6)"), SHIFT(7, "sar"),
    {"shld r/m, r, imm8", FAM_SHIFT, 0, f_shxd, 0, 0, 0},
    {"shld r/m, r, cl", FAM_SHIFT, 0, f_shxd, 0, 1, 0},
    {"shrd r/m, r, imm8", FAM_SHIFT, 0, f_shxd, 1, 0, 0},
    {"shrd r/m, r, cl", FAM_SHIFT, 0, f_shxd, 1, 1, 0},
    {"mul r/m8", FAM_MULDIV, 0, f_mul, 4, 0, 1}, {"mul r/m", FAM_MULDIV, 0, f_mul, 4, 0, 0},
    {"imul r/m8", FAM_MULDIV, 0, f_mul, 5, 0, 1}, {"imul r/m", FAM_MULDIV, 0, f_mul, 5, 0, 0},
    {"imul r, r/m", FAM_MULDIV, 0, f_mul, 0, 0, 0},
    {"imul r, r/m, imm8", FAM_MULDIV, 0, f_mul, 1, 0, 0},
    {"imul r, r/m, imm", FAM_MULDIV, 0, f_mul, 2, 0, 0},
    {"div r/m8", FAM_MULDIV, 0, f_div, 6, 0, 1}, {"div r/m", FAM_MULDIV, 0, f_div, 6, 0, 0},
    {"idiv r/m8", FAM_MULDIV, 0, f_div, 7, 0, 1}, {"idiv r/m", FAM_MULDIV, 0, f_div, 7, 0, 0},
    {"bt r/m, r", FAM_BIT, 0, f_bt, 0, 0, 0}, {"bts r/m, r", FAM_BIT, 0, f_bt, 1, 0, 0},
    {"btr r/m, r", FAM_BIT, 0, f_bt, 2, 0, 0}, {"btc r/m, r", FAM_BIT, 0, f_bt, 3, 0, 0},
    {"bt r/m, imm8", FAM_BIT, 0, f_bt, 0, 1, 0}, {"bts r/m, imm8", FAM_BIT, 0, f_bt, 1, 1, 0},
    {"btr r/m, imm8", FAM_BIT, 0, f_bt, 2, 1, 0}, {"btc r/m, imm8", FAM_BIT, 0, f_bt, 3, 1, 0},
    {"bsf r, r/m", FAM_BIT, 0, f_bsx, 0, 0, 0}, {"bsr r, r/m", FAM_BIT, 0, f_bsx, 1, 0, 0},
    {"bswap r", FAM_BIT, 0, f_bswap, 0, 0, 0},
    {"setcc r/m8", FAM_BIT, 0, f_setcc, 0, 0, 0}, {"cmovcc r, r/m", FAM_MOVE, 0, f_setcc, 1, 0, 0},
};
const unsigned dt_nforms_int = sizeof(dt_forms_int) / sizeof(dt_forms_int[0]);
