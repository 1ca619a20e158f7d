/* Integer forms, second part: moves, NOPs and hints, flag instructions,
 * the stack, string instructions (with REP and small counts set up in RCX,
 * RSI/RDI in the data area) and what must fault at CPL3 (privileged
 * instructions, opcodes invalid in 64-bit mode, LOCK misuse). See the
 * first part, forms_int.c, for what is left out and why. */
#include "forms.h"

/* ---- MOV and friends: a selects ---- */
static bool f_mov(struct dt_emit *e, const struct dt_form *f)
{
    struct dt_rng *r = e->rng;
    unsigned byte = f->c, size = byte ? 1 : dt_pick_size(e);
    struct dt_modrm m = {0};
    m.regk = m.rmk = byte ? RK_BYTE : RK_GPR;
    m.size = size;
    m.nopc = 1;
    switch (f->a) {
    case 0: /* 88/89 r/m <- r */
        m.opc[0] = (uint8_t)(0x88 + !byte);
        m.reg = byte ? dt_pick_bsrc(e) : dt_pick_src(e);
        m.rm = pick_rm(e, size, true);
        m.write = true;
        break;
    case 1: /* 8A/8B r <- r/m */
        m.opc[0] = (uint8_t)(0x8a + !byte);
        m.reg = byte ? dt_pick_bdst(e) : dt_pick_dst(e);
        m.rm = pick_rm(e, size, false);
        break;
    case 2: { /* B0+r / B8+r */
        unsigned reg = byte ? dt_pick_bdst(e) : dt_pick_dst(e);
        unsigned bits = byte && reg >= 16 ? reg - 12 : reg;
        if (byte && reg >= 16) {
            struct dt_item *it = e->it;
            dt_setup_done(it);
            dt_put(it, 3, 0x40, 0xb0 + (bits & 7), (int)(dt_rand(r) & 0xff));
            return true;
        }
        uint8_t o = (uint8_t)((byte ? 0xb0 : 0xb8) + (bits & 7));
        plain(e, size, bits >> 3, &o, 1, imm_for(e), byte ? 1 : size);
        return true;
    }
    case 3: /* C6/C7 /0 imm */
        m.opc[0] = (uint8_t)(0xc6 + !byte);
        m.regk = RK_DIGIT;
        m.reg = 0;
        m.rm = pick_rm(e, size, true);
        m.write = true;
        m.imm_size = byte ? 1 : size == 2 ? 2 : 4;
        m.imm = imm_for(e);
        break;
    case 4: /* LEA r, m */
        m.opc[0] = 0x8d;
        m.reg = dt_pick_dst(e);
        m.rm = DT_RM_MEM;
        break;
    case 5: /* MOVZX/MOVSX: b = 0 B6, 1 B7, 2 BE, 3 BF */
        m.opc[0] = 0x0f;
        m.opc[1] = (uint8_t)((f->b & 2 ? 0xbe : 0xb6) + (f->b & 1));
        m.nopc = 2;
        m.reg = dt_pick_dst(e);
        m.rmk = f->b & 1 ? RK_GPR : RK_BYTE;
        m.rm = pick_rm(e, f->b & 1 ? 2 : 1, false);
        m.size = f->b & 1 ? 2 : 1;
        if (m.rmk == RK_BYTE && m.rm >= 4 && m.rm < 8 && (m.reg >= 8 || size == 8))
            return false;
        sized(&m, size);
        dt_emit_modrm(e, &m);
        return true;
    case 6: /* MOVSXD r64, r/m32; 32-bit form (a plain move) */
        m.opc[0] = 0x63;
        m.reg = dt_pick_dst(e);
        m.rm = pick_rm(e, 4, false);
        m.size = 4;
        m.rexw = dt_below(r, 4) != 0;
        dt_emit_modrm(e, &m);
        return true;
    case 7: { /* XLAT: AL <- [RBX + AL] */
        struct dt_item *it = e->it;
        if (!dt_can_write(e, 0) || !dt_can_write(e, 3))
            return false;
        unsigned seg = dt_chance(r, 4) ? (dt_chance(r, 2) ? 0x64 : 0x65) : 0;
        uint64_t t = DT_DATA + dt_below(r, DT_DATA_SIZE - 256);
        if (!dt_chance(r, 8))
            dt_setup_mov64(it, 3, t - (seg == 0x64 ? DT_FS_BASE : seg ? DT_GS_BASE : 0));
        dt_setup_done(it);
        if (seg)
            dt_put8(it, (uint8_t)seg);
        if (dt_chance(r, 3))
            dt_put8(it, 0x48);
        dt_put8(it, 0xd7);
        return true;
    }
    case 8: /* MOV r/m, Sreg */
        m.opc[0] = 0x8c;
        m.regk = RK_DIGIT;
        m.reg = dt_below(r, 6);
        m.rm = pick_rm(e, size, true);
        if (m.rm == DT_RM_MEM)
            size = 2;
        m.size = 2;
        m.write = true;
        break;
    case 9: /* MOVNTI m, r */
        if (size == 2)
            size = 4;
        m.opc[0] = 0x0f;
        m.opc[1] = 0xc3;
        m.nopc = 2;
        m.reg = dt_pick_src(e);
        m.rm = DT_RM_MEM;
        m.size = size;
        m.write = true;
        break;
    default: { /* MOV moffs: A0-A3, 64-bit absolute address (32 with 67h) */
        struct dt_item *it = e->it;
        bool store = dt_chance(r, 2);
        uint64_t t = dt_pick_target(e, size, 1);
        unsigned seg = dt_chance(r, 4) ? (dt_chance(r, 2) ? 0x64 : 0x65) : 0;
        if (seg)
            t -= seg == 0x64 ? DT_FS_BASE : DT_GS_BASE;
        if (!store && !dt_can_write(e, 0))
            return false;
        dt_setup_done(it);
        if (seg)
            dt_put8(it, (uint8_t)seg);
        bool a32 = dt_chance(r, 4);
        if (a32)
            dt_put8(it, 0x67);
        if (size == 2)
            dt_put8(it, 0x66);
        if (size == 8)
            dt_put8(it, 0x48);
        dt_put8(it, (uint8_t)(0xa0 + 2 * store + !byte));
        dt_putn(it, t, a32 ? 4 : 8);
        return true;
    }
    }
    if (byte && byte_clash(m.reg, m.rm))
        return false;
    sized(&m, size);
    dt_emit_modrm(e, &m);
    return true;
}

/* ---- NOPs and hints: a = 0 90, 1 0F 1F /0, 2 F3 90 (PAUSE), 3 0F 18 /0-3,
 * 4 0F 0D /1 (PREFETCHW), 5 0F 19-1E (reserved NOPs) ---- */
static bool f_nop(struct dt_emit *e, const struct dt_form *f)
{
    struct dt_item *it = e->it;
    struct dt_modrm m = {0};
    if (f->a == 0 || f->a == 2) {
        dt_setup_done(it);
        if (f->a == 2)
            dt_put8(it, 0xf3);
        else if (dt_chance(e->rng, 2))
            dt_put8(it, 0x66);
        dt_put8(it, 0x90);
        return true;
    }
    m.opc[0] = 0x0f;
    m.opc[1] = f->a == 1   ? 0x1f
               : f->a == 3 ? 0x18
               : f->a == 4 ? 0x0d
                           : (uint8_t)(0x19 + dt_below(e->rng, 6));
    m.nopc = 2;
    m.regk = RK_DIGIT;
    m.rmk = RK_GPR;
    m.reg = f->a == 3 ? dt_below(e->rng, 4) : f->a == 4 ? 1 : f->a == 5 ? dt_below(e->rng, 8) : 0;
    m.rm = f->a >= 3 && f->a <= 4 ? DT_RM_MEM : pick_rm(e, 4, false);
    m.size = 1;
    if (f->a == 5 && m.opc[1] == 0x1e && m.rm != DT_RM_MEM && m.reg == 7)
        m.reg = 6; /* 0F 1E FA/FB are ENDBR with F3; keep clear of them anyway */
    if (dt_chance(e->rng, 2))
        sized(&m, 2);
    dt_emit_modrm(e, &m);
    return true;
}

/* ---- flag instructions: a = opcode ---- */
static bool f_flagop(struct dt_emit *e, const struct dt_form *f)
{
    uint8_t o = (uint8_t)f->a;
    plain(e, 4, 0, &o, 1, 0, 0);
    if (o == 0xf8 || o == 0xf9)
        flags(e->it, F_CF, 0, 0);
    else if (o == 0xf5)
        flags(e->it, F_CF, 0, F_CF);
    return true;
}

/* ---- stack: a selects ---- */
static uint64_t popf_value(struct dt_rng *r)
{
    /* arithmetic flags, DF, NT, AC, ID, and IF/IOPL (which CPL3 cannot
     * change); never TF */
    return dt_rand(r) & (F_ARITH | F_DF | 0x200 | 0x3000 | 0x4000 | 0x40000 | 0x200000);
}

static bool f_stack(struct dt_emit *e, const struct dt_form *f)
{
    struct dt_rng *r = e->rng;
    struct dt_item *it = e->it;
    unsigned size = dt_chance(r, 6) ? 2 : 8;
    struct dt_modrm m = {0};
    switch (f->a) {
    case 0: { /* PUSH r */
        unsigned reg = dt_pick_src(e);
        uint8_t o = (uint8_t)(0x50 + (reg & 7));
        plain(e, size == 2 ? 2 : 4, reg >> 3, &o, 1, 0, 0);
        return true;
    }
    case 1: { /* POP r */
        unsigned reg = dt_pick_dst(e);
        uint8_t o = (uint8_t)(0x58 + (reg & 7));
        plain(e, size == 2 ? 2 : 4, reg >> 3, &o, 1, 0, 0);
        return true;
    }
    case 2: { /* PUSH imm8 / imm32 / imm16 */
        uint8_t o = dt_chance(r, 2) ? 0x6a : 0x68;
        plain(e, size == 2 ? 2 : 4, 0, &o, 1, imm_for(e), o == 0x6a ? 1 : size == 2 ? 2 : 4);
        return true;
    }
    case 3: /* PUSH r/m (FF /6) */
    case 4: /* POP r/m (8F /0): the address is computed after RSP moved */
        m.opc[0] = f->a == 3 ? 0xff : 0x8f;
        m.nopc = 1;
        m.regk = RK_DIGIT;
        m.rmk = RK_GPR;
        m.reg = f->a == 3 ? 6 : 0;
        m.rm = pick_rm(e, size, f->a == 4);
        m.size = size;
        m.write = f->a == 4;
        if (size == 2)
            sized(&m, 2);
        dt_emit_modrm(e, &m);
        return true;
    case 5: /* PUSHF */
        dt_setup_done(it);
        if (size == 2)
            dt_put8(it, 0x66);
        dt_put8(it, 0x9c);
        flags(it, 0, 0, A_ALL);
        return true;
    case 6: /* push imm; POPF */
        if (size == 2)
            dt_put8(it, 0x66);
        dt_put8(it, 0x68);
        dt_putn(it, popf_value(r), size == 2 ? 2 : 4);
        dt_setup_done(it);
        if (size == 2)
            dt_put8(it, 0x66);
        dt_put8(it, 0x9d);
        flags(it, A_ALL, 0, 0);
        return true;
    case 7: { /* ENTER size, level */
        unsigned level = dt_chance(r, 2) ? 0 : dt_below(r, 4);
        if (!dt_can_write(e, 5))
            return false;
        if (level)
            dt_setup_mov(it, 5, DT_STACK + 0x400 + 8 * dt_below(r, 0x80));
        dt_setup_done(it);
        dt_put8(it, 0xc8);
        dt_putn(it, dt_chance(r, 2) ? 8 * dt_below(r, 8) : dt_below(r, 64), 2);
        dt_put8(it, (uint8_t)(dt_chance(r, 8) ? dt_rand(r) : level));
        return true;
    }
    case 8: /* mov rbp, stack; LEAVE */
        if (!dt_can_write(e, 5))
            return false;
        dt_setup_mov(it, 5, DT_STACK + 0x400 + dt_below(r, 0x400));
        dt_setup_done(it);
        if (size == 2)
            dt_put8(it, 0x66);
        dt_put8(it, 0xc9);
        return true;
    default: /* PUSH FS / PUSH GS */
        dt_setup_done(it);
        if (size == 2)
            dt_put8(it, 0x66);
        dt_put(it, 2, 0x0f, dt_chance(r, 2) ? 0xa0 : 0xa8);
        return true;
    }
}

/* ---- strings: a = 0 movs, 1 cmps, 2 stos, 3 lods, 4 scas; c = byte ---- */
static bool f_string(struct dt_emit *e, const struct dt_form *f)
{
    struct dt_rng *r = e->rng;
    struct dt_item *it = e->it;
    unsigned byte = f->c, size = byte ? 1 : dt_pick_size(e);
    bool src = f->a <= 1 || f->a == 3, dst = f->a != 3;
    unsigned rep = 0, count = dt_below(r, 9);
    static const uint8_t op[5] = {0xa4, 0xa6, 0xaa, 0xac, 0xae};
    if (!dt_can_write(e, 1) || (src && !dt_can_write(e, 6)) || (dst && !dt_can_write(e, 7)) ||
        (f->a == 3 && !dt_can_write(e, 0)))
        return false;
    if (dt_below(r, 3))
        rep = (f->a == 1 || f->a == 4) && dt_chance(r, 2) ? 0xf2 : 0xf3;
    unsigned seg = src && dt_chance(r, 5) ? (dt_chance(r, 2) ? 0x64 : 0x65) : 0;
    if (rep)
        dt_setup_mov(it, 1, count);
    /* RSI/RDI in the data area with room either way (DF may be set) */
    if (src) {
        uint64_t t = DT_DATA + 72 + dt_below(r, DT_DATA_SIZE - 144);
        if (dt_chance(r, 16))
            t = dt_pick_target(e, size, 1);
        dt_setup_mov64(it, 6, t - (seg == 0x64 ? DT_FS_BASE : seg ? DT_GS_BASE : 0));
    }
    if (dst) {
        uint64_t t = DT_DATA + 72 + dt_below(r, DT_DATA_SIZE - 144);
        if (dt_chance(r, 16))
            t = dt_pick_target(e, size, 1);
        dt_setup_mov64(it, 7, t);
    }
    dt_setup_done(it);
    if (seg)
        dt_put8(it, (uint8_t)seg);
    if (dt_chance(r, 6))
        dt_put8(it, 0x67);
    if (rep)
        dt_put8(it, (uint8_t)rep);
    if (size == 2)
        dt_put8(it, 0x66);
    if (size == 8)
        dt_put8(it, 0x48);
    dt_put8(it, (uint8_t)(op[f->a] + !byte));
    if (f->a == 1 || f->a == 4)
        flags(it, rep && count == 0 ? 0 : A_ALL, 0, 0);
    return true;
}

/* ---- what raises an exception at CPL3 (a = the bytes, packed) ---- */
static bool f_fault(struct dt_emit *e, const struct dt_form *f)
{
    struct dt_item *it = e->it;
    struct dt_modrm m = {0};
    dt_setup_done(it);
    switch (f->b) {
    case 0: /* fixed bytes, up to 3 (a, little-endian), c = count */
        dt_putn(it, f->a, f->c);
        return true;
    case 1: /* LOCK on an instruction that cannot take it */
        m.opc[0] = (uint8_t)f->a;
        m.nopc = 1;
        m.regk = m.rmk = RK_GPR;
        m.reg = dt_pick_src(e);
        m.rm = f->c ? DT_RM_MEM : dt_pick_dst(e);
        m.lock = true;
        m.size = 4;
        m.pfx[0] = 0xf0; /* also for register operands */
        dt_emit_modrm(e, &m);
        return true;
    case 2: /* a ModRM form with a register where memory is required */
        m.opc[0] = (uint8_t)f->a;
        m.opc[1] = (uint8_t)(f->a >> 8);
        m.nopc = f->a > 0xff ? 2 : 1;
        m.regk = f->c < 8 ? RK_DIGIT : RK_GPR;
        m.reg = f->c < 8 ? f->c : dt_pick_src(e);
        m.rmk = RK_GPR;
        m.rm = dt_pick_src(e);
        dt_emit_modrm(e, &m);
        return true;
    default: /* privileged with a memory operand (LGDT, LIDT, INVLPG, ...) */
        m.opc[0] = (uint8_t)f->a;
        m.opc[1] = (uint8_t)(f->a >> 8);
        m.nopc = 2;
        m.regk = RK_DIGIT;
        m.reg = f->c;
        m.rm = DT_RM_MEM;
        m.size = 10;
        dt_emit_modrm(e, &m);
        return true;
    }
}

#define FAULT(nm, bytes, n) {nm, FAM_FAULT, 0, f_fault, bytes, 0, n}

const struct dt_form dt_forms_mov[] = {
    {"mov r/m8, r8", FAM_MOVE, 0, f_mov, 0, 0, 1}, {"mov r/m, r", FAM_MOVE, 0, f_mov, 0, 0, 0},
    {"mov r8, r/m8", FAM_MOVE, 0, f_mov, 1, 0, 1}, {"mov r, r/m", FAM_MOVE, 0, f_mov, 1, 0, 0},
    {"mov r8, imm8", FAM_MOVE, 0, f_mov, 2, 0, 1}, {"mov r, imm", FAM_MOVE, 0, f_mov, 2, 0, 0},
    {"mov r/m8, imm8", FAM_MOVE, 0, f_mov, 3, 0, 1}, {"mov r/m, imm", FAM_MOVE, 0, f_mov, 3, 0, 0},
    {"lea r, m", FAM_MOVE, 0, f_mov, 4, 0, 0},
    {"movzx r, r/m8", FAM_MOVE, 0, f_mov, 5, 0, 0}, {"movzx r, r/m16", FAM_MOVE, 0, f_mov, 5, 1, 0},
    {"movsx r, r/m8", FAM_MOVE, 0, f_mov, 5, 2, 0}, {"movsx r, r/m16", FAM_MOVE, 0, f_mov, 5, 3, 0},
    {"movsxd r, r/m32", FAM_MOVE, 0, f_mov, 6, 0, 0}, {"xlat", FAM_MOVE, 0, f_mov, 7, 0, 0},
    {"mov r/m, sreg", FAM_MOVE, 0, f_mov, 8, 0, 0}, {"movnti m, r", FAM_MOVE, 0, f_mov, 9, 0, 0},
    {"mov al, moffs / moffs, al", FAM_MOVE, 0, f_mov, 10, 0, 1},
    {"mov eAX, moffs / moffs, eAX", FAM_MOVE, 0, f_mov, 10, 0, 0},
    {"nop", FAM_MOVE, 0, f_nop, 0, 0, 0}, {"nop r/m (0f 1f)", FAM_MOVE, 0, f_nop, 1, 0, 0},
    {"pause", FAM_MOVE, 0, f_nop, 2, 0, 0}, {"prefetch m (0f 18)", FAM_MOVE, 0, f_nop, 3, 0, 0},
    {"prefetchw m (0f 0d)", FAM_MOVE, 0, f_nop, 4, 0, 0},
    {"reserved nop (0f 19-1e)", FAM_MOVE, 0, f_nop, 5, 0, 0},
    {"clc", FAM_FLAGS, 0, f_flagop, 0xf8, 0, 0}, {"stc", FAM_FLAGS, 0, f_flagop, 0xf9, 0, 0},
    {"cmc", FAM_FLAGS, 0, f_flagop, 0xf5, 0, 0}, {"cld", FAM_FLAGS, 0, f_flagop, 0xfc, 0, 0},
    {"std", FAM_FLAGS, 0, f_flagop, 0xfd, 0, 0},
    {"pushf", FAM_FLAGS, FF_STACK, f_stack, 5, 0, 0},
    {"popf", FAM_FLAGS, FF_STACK, f_stack, 6, 0, 0},
    {"push r", FAM_STACK, FF_STACK, f_stack, 0, 0, 0},
    {"pop r", FAM_STACK, FF_STACK, f_stack, 1, 0, 0},
    {"push imm", FAM_STACK, FF_STACK, f_stack, 2, 0, 0},
    {"push r/m", FAM_STACK, FF_STACK, f_stack, 3, 0, 0},
    {"pop r/m", FAM_STACK, FF_STACK, f_stack, 4, 0, 0},
    {"enter", FAM_STACK, FF_STACK, f_stack, 7, 0, 0},
    {"leave", FAM_STACK, FF_STACK, f_stack, 8, 0, 0},
    {"push fs/gs", FAM_STACK, FF_STACK, f_stack, 9, 0, 0},
    {"movsb", FAM_STRING, 0, f_string, 0, 0, 1}, {"movs", FAM_STRING, 0, f_string, 0, 0, 0},
    {"cmpsb", FAM_STRING, 0, f_string, 1, 0, 1}, {"cmps", FAM_STRING, 0, f_string, 1, 0, 0},
    {"stosb", FAM_STRING, 0, f_string, 2, 0, 1}, {"stos", FAM_STRING, 0, f_string, 2, 0, 0},
    {"lodsb", FAM_STRING, 0, f_string, 3, 0, 1}, {"lods", FAM_STRING, 0, f_string, 3, 0, 0},
    {"scasb", FAM_STRING, 0, f_string, 4, 0, 1}, {"scas", FAM_STRING, 0, f_string, 4, 0, 0},
    FAULT("hlt", 0xf4, 1), FAULT("cli", 0xfa, 1), FAULT("sti", 0xfb, 1), FAULT("int3", 0xcc, 1),
    FAULT("ud2", 0x0b0f, 2), FAULT("in al, imm8", 0x80e4, 2), FAULT("out imm8, eax", 0x80e7, 2),
    FAULT("in eax, dx", 0xed, 1), FAULT("out dx, al", 0xee, 1), FAULT("insb", 0x6c, 1),
    FAULT("outsd", 0x6f, 1),
    FAULT("push es (64-bit: #UD)", 0x06, 1),
    FAULT("pop ds (#UD)", 0x1f, 1),
    FAULT("daa (#UD)", 0x27, 1), FAULT("aas (#UD)", 0x3f, 1), FAULT("pusha (#UD)", 0x60, 1),
    FAULT("into (#UD)", 0xce, 1), FAULT("aam (#UD)", 0x0ad4, 2), FAULT("salc (#UD)", 0xd6, 1),
    FAULT("call far (#UD)", 0x9a, 1), FAULT("grp1 82 (#UD)", 0x05c082, 3),
    FAULT("mov cr0, rax", 0xc0220f, 3), FAULT("mov rax, cr3", 0xd8200f, 3),
    FAULT("mov rax, dr7", 0xf8210f, 3), FAULT("clts", 0x060f, 2), FAULT("invd", 0x080f, 2),
    FAULT("wbinvd", 0x090f, 2), FAULT("wrmsr", 0x300f, 2), FAULT("rdmsr", 0x320f, 2),
    FAULT("ud0 (0f ff)", 0xc0ff0f, 3), FAULT("ud1 (0f b9)", 0xc0b90f, 3),
    FAULT("lldt ax", 0xd0000f, 3), FAULT("ltr ax", 0xd8000f, 3), FAULT("lmsw ax", 0xf0010f, 3),
    {"lock add r, r (#UD)", FAM_FAULT, 0, f_fault, 0x01, 1, 0},
    {"lock mov m, r (#UD)", FAM_FAULT, 0, f_fault, 0x89, 1, 1},
    {"lea r, r (#UD)", FAM_FAULT, 0, f_fault, 0x8d, 2, 8},
    {"cmpxchg8b r (#UD)", FAM_FAULT, 0, f_fault, 0xc70f, 2, 1},
    {"lgdt m", FAM_FAULT, 0, f_fault, 0x010f, 3, 2},
    {"lidt m", FAM_FAULT, 0, f_fault, 0x010f, 3, 3},
    {"invlpg m", FAM_FAULT, 0, f_fault, 0x010f, 3, 7},
};
const unsigned dt_nforms_mov = sizeof(dt_forms_mov) / sizeof(dt_forms_mov[0]);
