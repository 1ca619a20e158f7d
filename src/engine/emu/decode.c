/* The x86 instruction decoder (SDM Vol. 2A chapter 2: prefixes, REX,
 * ModRM/SIB, displacements and immediates; Vol. 2D Appendix A: the opcode
 * map). The map itself is opcodes.def: one X-macro row per opcode gives
 * the decode flags, the handler and the name. */
#include "emu.h"
#include "handlers.h"

enum {
    M = 1u << 0,     /* ModRM follows */
    B = 1u << 1,     /* byte operand */
    I8 = 1u << 2,
    I16 = 1u << 3,
    IZ = 1u << 4,    /* imm16 or imm32 by operand size, sign-extended */
    IV = 1u << 5,    /* imm16/32/64 by operand size */
    ENT = 1u << 6,   /* iw, ib */
    MOFFS = 1u << 7, /* offset of the address size */
    FAR = 1u << 8,   /* ptr16:16 / ptr16:32 */
    D64 = 1u << 9,   /* default 64-bit operand size in 64-bit mode */
    F64 = 1u << 10,  /* always 64-bit operand size in 64-bit mode */
    N64 = 1u << 11,  /* invalid in 64-bit mode */
    LK = 1u << 12,   /* LOCK allowed with a memory operand */
    G3 = 1u << 13,   /* F6/F7: immediate only for /0 and /1 */
    G5 = 1u << 14,   /* FF: operand size depends on /reg */
    VALID = 1u << 15,
};

struct emu_op {
    emu_handler handler;
    const char *name;
    uint16_t flags;
};

static const struct emu_op emu_ops[0x200] = {
#define OP(code, nm, fl, h) [code] = {h, nm, (uint16_t)((fl) | VALID)},
#include "opcodes.def"
#undef OP
};

emu_handler emu_op_handler(unsigned opcode)
{
    const struct emu_op *op = &emu_ops[opcode & 0x1ff];
    return opcode < 0x200 && (op->flags & VALID) ? op->handler : misc_ud;
}

const char *emu_insn_name(const struct emu_insn *in)
{
    const struct emu_op *op = &emu_ops[in->opcode & 0x1ff];
    return (op->flags & VALID) ? op->name : "(invalid)";
}

/* 16-bit addressing (SDM Vol. 2A Table 2-1): base and index per r/m. */
static const uint8_t emu_ea16_base[8] = {X86_RBX, X86_RBX, X86_RBP, X86_RBP,
                                         EMU_NOREG, EMU_NOREG, X86_RBP, X86_RBX};
static const uint8_t emu_ea16_index[8] = {X86_RSI, X86_RDI, X86_RSI, X86_RDI,
                                          X86_RSI, X86_RDI, EMU_NOREG, EMU_NOREG};

struct emu_reader {
    const uint8_t *p;
    unsigned avail, pos;
};

static bool rd(struct emu_reader *r, unsigned n, uint64_t *v)
{
    if (r->pos + n > r->avail)
        return false;
    uint64_t x = 0;
    for (unsigned i = 0; i < n; i++)
        x |= (uint64_t)r->p[r->pos + i] << (8 * i);
    r->pos += n;
    *v = x;
    return true;
}

/* Returns EMU_OK with in->len set; when the bytes run out, len is 0. */
static int emu_decode_modrm(struct emu_cpu *cpu, struct emu_reader *r, struct emu_insn *in,
                            bool force_reg)
{
    uint64_t b, v;
    unsigned rex_r = (in->rex >> 2) & 1, rex_x = (in->rex >> 1) & 1, rex_b = in->rex & 1;

    if (!rd(r, 1, &b))
        return -1;
    in->has_modrm = 1;
    in->mod = (uint8_t)(b >> 6);
    in->reg = (uint8_t)(((b >> 3) & 7) | (rex_r << 3));
    in->rm = (uint8_t)((b & 7) | (rex_b << 3));
    in->ea_base = EMU_NOREG;
    in->ea_index = EMU_NOREG;
    in->ea_scale = 0;
    in->disp = 0;
    if (force_reg)
        in->mod = 3;
    if (in->mod == 3)
        return 0;

    unsigned rm = b & 7;
    if (in->addrsize == 2) {
        if (in->mod == 0 && rm == 6) {
            if (!rd(r, 2, &v))
                return -1;
            in->disp = (int16_t)v;
        } else {
            in->ea_base = emu_ea16_base[rm];
            in->ea_index = emu_ea16_index[rm];
            if (!in->seg_override && (rm == 2 || rm == 3 || rm == 6))
                in->seg = X86_SS;
        }
        if (in->mod == 1) {
            if (!rd(r, 1, &v))
                return -1;
            in->disp = (int8_t)v;
        } else if (in->mod == 2) {
            if (!rd(r, 2, &v))
                return -1;
            in->disp = (int16_t)v;
        }
        return 0;
    }

    unsigned base = rm;
    if (rm == 4) {
        uint64_t sib;
        if (!rd(r, 1, &sib))
            return -1;
        unsigned idx = (unsigned)((sib >> 3) & 7) | (rex_x << 3);
        in->ea_scale = (uint8_t)(sib >> 6);
        if (idx != 4)
            in->ea_index = (uint8_t)idx;
        base = sib & 7;
        if (base == 5 && in->mod == 0) {
            if (!rd(r, 4, &v))
                return -1;
            in->disp = (int32_t)v;
        } else {
            in->ea_base = (uint8_t)(base | (rex_b << 3));
        }
    } else if (rm == 5 && in->mod == 0) {
        if (!rd(r, 4, &v))
            return -1;
        in->disp = (int32_t)v;
        if (cpu->code64)
            in->ea_base = EMU_RIPREL;
    } else {
        in->ea_base = (uint8_t)(base | (rex_b << 3));
    }
    if (!in->seg_override && (in->ea_base == X86_RSP || in->ea_base == X86_RBP))
        in->seg = X86_SS;
    if (in->mod == 1) {
        if (!rd(r, 1, &v))
            return -1;
        in->disp += (int8_t)v;
    } else if (in->mod == 2) {
        if (!rd(r, 4, &v))
            return -1;
        in->disp += (int32_t)v;
    }
    return 0;
}

static int emu_decode_imm(struct emu_reader *r, struct emu_insn *in, unsigned flags)
{
    uint64_t v, w;

    if (flags & I8) {
        if (!rd(r, 1, &v))
            return -1;
        in->imm = (uint64_t)(int64_t)(int8_t)v;
    } else if (flags & I16) {
        if (!rd(r, 2, &v))
            return -1;
        in->imm = v;
    } else if (flags & IZ) {
        unsigned n = in->opsize == 2 ? 2 : 4;
        if (!rd(r, n, &v))
            return -1;
        in->imm = emu_sext(v, n);
    } else if (flags & IV) {
        if (!rd(r, in->opsize, &v))
            return -1;
        in->imm = v;
    } else if (flags & ENT) {
        if (!rd(r, 2, &v) || !rd(r, 1, &w))
            return -1;
        in->imm = v;
        in->imm2 = (uint16_t)w;
    } else if (flags & MOFFS) {
        if (!rd(r, in->addrsize, &v))
            return -1;
        in->disp = (int64_t)v;
        in->ea_base = EMU_NOREG;
        in->ea_index = EMU_NOREG;
    } else if (flags & FAR) {
        if (!rd(r, in->opsize == 2 ? 2 : 4, &v) || !rd(r, 2, &w))
            return -1;
        in->imm = v;
        in->imm2 = (uint16_t)w;
    }
    return 0;
}

int emu_decode(struct emu_cpu *cpu, const uint8_t *bytes, unsigned avail, struct emu_insn *in)
{
    struct emu_reader r = {bytes, avail > 15 ? 15 : avail, 0};
    bool code64 = cpu->code64;
    unsigned def = (cpu->code_mode == EMU_MODE_REAL || cpu->code_mode == EMU_MODE_PROT16 ||
                    cpu->code_mode == EMU_MODE_COMPAT16 || cpu->code_mode == EMU_MODE_VM86)
                       ? 2 : 4;
    bool pfx67 = false;
    uint64_t b;

    memset(in, 0, sizeof(*in));
    in->seg = X86_DS;
    in->ea_base = EMU_NOREG;
    in->ea_index = EMU_NOREG;
    for (;;) {
        if (!rd(&r, 1, &b))
            goto short_or_long;
        switch (b) {
        case 0xf0: in->lock = 1; in->rex = 0; continue;
        case 0xf2: case 0xf3: in->rep = (uint8_t)b; in->rex = 0; continue;
        case 0x26: case 0x2e: case 0x36: case 0x3e:
            /* ES/CS/SS/DS overrides are ignored in 64-bit mode. */
            if (!code64) {
                in->seg = (uint8_t)(b == 0x26 ? X86_ES : b == 0x2e ? X86_CS :
                                    b == 0x36 ? X86_SS : X86_DS);
                in->seg_override = 1;
            }
            in->rex = 0;
            continue;
        case 0x64: case 0x65:
            in->seg = b == 0x64 ? X86_FS : X86_GS;
            in->seg_override = 1;
            in->rex = 0;
            continue;
        case 0x66: in->pfx66 = 1; in->rex = 0; continue;
        case 0x67: pfx67 = true; in->rex = 0; continue;
        default:
            break;
        }
        if (code64 && (b & 0xf0) == 0x40) {
            in->rex = (uint8_t)b;
            continue;
        }
        break;
    }

    unsigned opcode = (unsigned)b;
    if (opcode == 0x0f) {
        if (!rd(&r, 1, &b))
            goto short_or_long;
        opcode = 0x100 | (unsigned)b;
        if (b == 0x38 || b == 0x3a) {
            /* The three-byte maps hold SSSE3 and later: outside roam-v1. */
            in->opcode = (uint16_t)(b == 0x38 ? 0x200 : 0x300);
            in->handler = misc_ud;
            in->len = (uint8_t)r.pos;
            return EMU_OK;
        }
    }
    in->opcode = (uint16_t)opcode;
    const struct emu_op *op = &emu_ops[opcode];
    unsigned flags = op->flags;

    if (code64)
        in->addrsize = pfx67 ? 4 : 8;
    else
        in->addrsize = (uint8_t)(pfx67 ? 6 - def : def);
    in->opsize = (uint8_t)(in->pfx66 ? 6 - def : def);
    if (code64 && (in->rex & 8))
        in->opsize = 8;

    if (!(flags & VALID) || (code64 && (flags & N64))) {
        in->handler = misc_ud;
        in->len = (uint8_t)r.pos;
        return EMU_OK;
    }
    in->handler = op->handler;

    if (flags & M) {
        /* MOV to/from CR and DR always use the register form. */
        bool force_reg = opcode >= 0x120 && opcode <= 0x123;
        if (emu_decode_modrm(cpu, &r, in, force_reg) < 0)
            goto short_or_long;
    }
    if (code64) {
        if ((flags & F64) || ((flags & D64) && in->opsize == 4))
            in->opsize = 8;
        if ((flags & G5) && ((in->reg & 7) == 2 || (in->reg & 7) == 4))
            in->opsize = 8;
        if ((flags & G5) && (in->reg & 7) == 6 && in->opsize == 4)
            in->opsize = 8;
    }
    if (flags & B)
        in->opsize = 1;
    if (flags & G3) {
        if ((in->reg & 7) < 2)
            flags |= (opcode == 0xf6) ? I8 : IZ;
    }
    if (emu_decode_imm(&r, in, flags) < 0)
        goto short_or_long;
    in->len = (uint8_t)r.pos;

    if (in->lock && (!(flags & LK) || in->mod == 3 || !in->has_modrm))
        in->handler = misc_ud;
    else
        emu_specialize(in);
    return EMU_OK;

short_or_long:
    /* Ran out of bytes: either the caller gave too few (it fetches more and
     * calls again) or the instruction is longer than 15 bytes (#GP). */
    if (avail < 15) {
        in->len = 0;
        return EMU_OK;
    }
    return emu_gp0(cpu);
}
