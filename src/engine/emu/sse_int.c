/* MMX and SSE2 packed-integer instructions (SDM Vol. 1 chapter 9 and 11.4.3,
 * Vol. 2 instruction pages): PADD/PSUB (wrapping, signed and unsigned
 * saturating), PCMPEQ/PCMPGT, PACKSS/PACKUS, PUNPCKL/H, PMULLW/PMULHW/
 * PMULHUW/PMULUDQ/PMADDWD, PSADBW, PAVGB/W, PMINUB/PMAXUB/PMINSW/PMAXSW,
 * PAND/PANDN/POR/PXOR, shifts by register, memory or immediate (0F 71-73,
 * with PSRLDQ/PSLLDQ). No prefix: 64-bit MMX registers; 66: 128-bit XMM
 * registers, whose memory operands must be 16-byte aligned. Lanes are
 * the little-endian views of union emu_xmm. */
#include "sse.h"

static inline uint8_t sat_s8(int v)
{
    return (uint8_t)(v > 127 ? 127 : v < -128 ? -128 : v);
}

static inline uint8_t sat_u8(int v)
{
    return (uint8_t)(v > 255 ? 255 : v < 0 ? 0 : v);
}

static inline uint16_t sat_s16(int32_t v)
{
    return (uint16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

static inline uint16_t sat_u16(int32_t v)
{
    return (uint16_t)(v > 65535 ? 65535 : v < 0 ? 0 : v);
}

/* Shifts every lane of size bytes (2, 4, 8) in the first n bytes of a by
 * count: kind 0 logical right, 1 arithmetic right, 2 left. Counts past the
 * lane width clear the lane (or fill it with the sign). */
static void int_shift(union emu_xmm *a, unsigned n, unsigned size, unsigned kind, uint64_t count)
{
    unsigned bits = size * 8;
    unsigned c = count >= bits ? bits : (unsigned)count;

    for (unsigned i = 0; i < n / size; i++) {
        uint64_t v;
        switch (size) {
        case 2: v = a->w[i]; break;
        case 4: v = a->d[i]; break;
        default: v = a->q[i]; break;
        }
        if (kind == 1) {
            int64_t sv = (int64_t)(v << (64 - bits)) >> (64 - bits);
            v = (uint64_t)(sv >> (c == bits ? bits - 1 : c));
        } else if (c == bits) {
            v = 0;
        } else {
            v = kind == 0 ? v >> c : v << c;
        }
        switch (size) {
        case 2: a->w[i] = (uint16_t)v; break;
        case 4: a->d[i] = (uint32_t)v; break;
        default: a->q[i] = v; break;
        }
    }
}

/* PUNPCKL/H: interleave the low (or high) halves of a and b, lanes of size. */
static void int_unpack(union emu_xmm *a, const union emu_xmm *b, unsigned n, unsigned size,
                       bool high)
{
    union emu_xmm r;
    unsigned lanes = n / size / 2, off = high ? lanes : 0;

    for (unsigned i = 0; i < lanes; i++) {
        switch (size) {
        case 1:
            r.b[2 * i] = a->b[off + i];
            r.b[2 * i + 1] = b->b[off + i];
            break;
        case 2:
            r.w[2 * i] = a->w[off + i];
            r.w[2 * i + 1] = b->w[off + i];
            break;
        case 4:
            r.d[2 * i] = a->d[off + i];
            r.d[2 * i + 1] = b->d[off + i];
            break;
        default:
            r.q[2 * i] = a->q[off + i];
            r.q[2 * i + 1] = b->q[off + i];
            break;
        }
    }
    memcpy(a->b, r.b, n);
}

/* PACKSSWB / PACKUSWB / PACKSSDW: a's lanes narrow into the low half, b's
 * into the high half. */
static void int_pack(union emu_xmm *a, const union emu_xmm *b, unsigned n, unsigned op)
{
    union emu_xmm r;
    unsigned nw = n / 2, nd = n / 4;

    if (op == 0x6b) {
        for (unsigned i = 0; i < nd; i++) {
            r.w[i] = sat_s16((int32_t)a->d[i]);
            r.w[nd + i] = sat_s16((int32_t)b->d[i]);
        }
    } else {
        for (unsigned i = 0; i < nw; i++) {
            int x = (int16_t)a->w[i], y = (int16_t)b->w[i];
            r.b[i] = op == 0x63 ? sat_s8(x) : sat_u8(x);
            r.b[nw + i] = op == 0x63 ? sat_s8(y) : sat_u8(y);
        }
    }
    memcpy(a->b, r.b, n);
}

/* a = a op b over the first n (8 or 16) bytes. */
static void int_op(unsigned op, unsigned n, union emu_xmm *a, const union emu_xmm *b)
{
    unsigned nb = n, nw = n / 2, nd = n / 4, nq = n / 8;

    switch (op) {
    case 0xfc: for (unsigned i = 0; i < nb; i++) a->b[i] = (uint8_t)(a->b[i] + b->b[i]); break;
    case 0xfd: for (unsigned i = 0; i < nw; i++) a->w[i] = (uint16_t)(a->w[i] + b->w[i]); break;
    case 0xfe: for (unsigned i = 0; i < nd; i++) a->d[i] += b->d[i]; break;
    case 0xd4: for (unsigned i = 0; i < nq; i++) a->q[i] += b->q[i]; break;
    case 0xf8: for (unsigned i = 0; i < nb; i++) a->b[i] = (uint8_t)(a->b[i] - b->b[i]); break;
    case 0xf9: for (unsigned i = 0; i < nw; i++) a->w[i] = (uint16_t)(a->w[i] - b->w[i]); break;
    case 0xfa: for (unsigned i = 0; i < nd; i++) a->d[i] -= b->d[i]; break;
    case 0xfb: for (unsigned i = 0; i < nq; i++) a->q[i] -= b->q[i]; break;
    case 0xec:
        for (unsigned i = 0; i < nb; i++)
            a->b[i] = sat_s8((int8_t)a->b[i] + (int8_t)b->b[i]);
        break;
    case 0xed:
        for (unsigned i = 0; i < nw; i++)
            a->w[i] = sat_s16((int16_t)a->w[i] + (int16_t)b->w[i]);
        break;
    case 0xdc: for (unsigned i = 0; i < nb; i++) a->b[i] = sat_u8(a->b[i] + b->b[i]); break;
    case 0xdd: for (unsigned i = 0; i < nw; i++) a->w[i] = sat_u16(a->w[i] + b->w[i]); break;
    case 0xe8:
        for (unsigned i = 0; i < nb; i++)
            a->b[i] = sat_s8((int8_t)a->b[i] - (int8_t)b->b[i]);
        break;
    case 0xe9:
        for (unsigned i = 0; i < nw; i++)
            a->w[i] = sat_s16((int16_t)a->w[i] - (int16_t)b->w[i]);
        break;
    case 0xd8: for (unsigned i = 0; i < nb; i++) a->b[i] = sat_u8(a->b[i] - b->b[i]); break;
    case 0xd9: for (unsigned i = 0; i < nw; i++) a->w[i] = sat_u16(a->w[i] - b->w[i]); break;
    case 0x74:
        for (unsigned i = 0; i < nb; i++) a->b[i] = a->b[i] == b->b[i] ? 0xff : 0;
        break;
    case 0x75:
        for (unsigned i = 0; i < nw; i++) a->w[i] = a->w[i] == b->w[i] ? 0xffff : 0;
        break;
    case 0x76:
        for (unsigned i = 0; i < nd; i++) a->d[i] = a->d[i] == b->d[i] ? ~0u : 0;
        break;
    case 0x64:
        for (unsigned i = 0; i < nb; i++)
            a->b[i] = (int8_t)a->b[i] > (int8_t)b->b[i] ? 0xff : 0;
        break;
    case 0x65:
        for (unsigned i = 0; i < nw; i++)
            a->w[i] = (int16_t)a->w[i] > (int16_t)b->w[i] ? 0xffff : 0;
        break;
    case 0x66:
        for (unsigned i = 0; i < nd; i++)
            a->d[i] = (int32_t)a->d[i] > (int32_t)b->d[i] ? ~0u : 0;
        break;
    case 0xda:
        for (unsigned i = 0; i < nb; i++) a->b[i] = a->b[i] < b->b[i] ? a->b[i] : b->b[i];
        break;
    case 0xde:
        for (unsigned i = 0; i < nb; i++) a->b[i] = a->b[i] > b->b[i] ? a->b[i] : b->b[i];
        break;
    case 0xea:
        for (unsigned i = 0; i < nw; i++)
            a->w[i] = (int16_t)a->w[i] < (int16_t)b->w[i] ? a->w[i] : b->w[i];
        break;
    case 0xee:
        for (unsigned i = 0; i < nw; i++)
            a->w[i] = (int16_t)a->w[i] > (int16_t)b->w[i] ? a->w[i] : b->w[i];
        break;
    case 0xe0:
        for (unsigned i = 0; i < nb; i++) a->b[i] = (uint8_t)((a->b[i] + b->b[i] + 1) >> 1);
        break;
    case 0xe3:
        for (unsigned i = 0; i < nw; i++)
            a->w[i] = (uint16_t)(((uint32_t)a->w[i] + b->w[i] + 1) >> 1);
        break;
    case 0xd5:
        for (unsigned i = 0; i < nw; i++)
            a->w[i] = (uint16_t)((uint32_t)a->w[i] * b->w[i]);
        break;
    case 0xe5:
        for (unsigned i = 0; i < nw; i++)
            a->w[i] = (uint16_t)((uint32_t)((int32_t)(int16_t)a->w[i] * (int16_t)b->w[i]) >> 16);
        break;
    case 0xe4:
        for (unsigned i = 0; i < nw; i++)
            a->w[i] = (uint16_t)(((uint32_t)a->w[i] * b->w[i]) >> 16);
        break;
    case 0xf4:
        for (unsigned i = 0; i < nq; i++)
            a->q[i] = (uint64_t)a->d[2 * i] * b->d[2 * i];
        break;
    case 0xf5:
        for (unsigned i = 0; i < nd; i++) {
            /* 0x8000 * 0x8000 twice wraps to 0x80000000, as on hardware */
            int64_t s = (int64_t)(int16_t)a->w[2 * i] * (int16_t)b->w[2 * i] +
                        (int64_t)(int16_t)a->w[2 * i + 1] * (int16_t)b->w[2 * i + 1];
            a->d[i] = (uint32_t)s;
        }
        break;
    case 0xf6:
        for (unsigned i = 0; i < nq; i++) {
            unsigned sum = 0;
            for (unsigned j = 8 * i; j < 8 * i + 8; j++)
                sum += a->b[j] > b->b[j] ? a->b[j] - b->b[j] : b->b[j] - a->b[j];
            a->q[i] = sum;
        }
        break;
    case 0xdb: for (unsigned i = 0; i < nq; i++) a->q[i] &= b->q[i]; break;
    case 0xdf: for (unsigned i = 0; i < nq; i++) a->q[i] = ~a->q[i] & b->q[i]; break;
    case 0xeb: for (unsigned i = 0; i < nq; i++) a->q[i] |= b->q[i]; break;
    case 0xef: for (unsigned i = 0; i < nq; i++) a->q[i] ^= b->q[i]; break;
    case 0xd1: int_shift(a, n, 2, 0, b->q[0]); break;
    case 0xd2: int_shift(a, n, 4, 0, b->q[0]); break;
    case 0xd3: int_shift(a, n, 8, 0, b->q[0]); break;
    case 0xe1: int_shift(a, n, 2, 1, b->q[0]); break;
    case 0xe2: int_shift(a, n, 4, 1, b->q[0]); break;
    case 0xf1: int_shift(a, n, 2, 2, b->q[0]); break;
    case 0xf2: int_shift(a, n, 4, 2, b->q[0]); break;
    case 0xf3: int_shift(a, n, 8, 2, b->q[0]); break;
    case 0x63:
    case 0x67:
    case 0x6b:
        int_pack(a, b, n, op);
        break;
    case 0x60: int_unpack(a, b, n, 1, false); break;
    case 0x61: int_unpack(a, b, n, 2, false); break;
    case 0x62: int_unpack(a, b, n, 4, false); break;
    case 0x68: int_unpack(a, b, n, 1, true); break;
    case 0x69: int_unpack(a, b, n, 2, true); break;
    case 0x6a: int_unpack(a, b, n, 4, true); break;
    case 0x6c: int_unpack(a, b, n, 8, false); break;
    default: int_unpack(a, b, n, 8, true); break; /* 0x6d */
    }
}

/* 0F 71/72/73: shift groups by imm8 on the r/m register. /2 logical right,
 * /4 arithmetic right, /6 left; 73 /3 PSRLDQ and /7 PSLLDQ shift the whole
 * XMM register by bytes (66 only). */
static int int_shift_imm(struct emu_cpu *cpu, const struct emu_insn *in, unsigned pfx)
{
    unsigned op = in->opcode & 0xff, sub = in->reg & 7;
    unsigned size = op == 0x71 ? 2 : op == 0x72 ? 4 : 8;
    unsigned count = (unsigned)in->imm & 0xff;
    bool valid = sub == 2 || sub == 6 || (sub == 4 && op != 0x73) ||
                 ((sub == 3 || sub == 7) && op == 0x73 && pfx == SSE_66);
    union emu_xmm a;
    int rc;

    if (in->mod != 3 || !valid)
        return emu_ud(cpu);
    if (pfx == SSE_66) {
        rc = sse_check(cpu);
        if (rc)
            return rc;
        a = cpu->fpu.xmm[in->rm];
        if (sub == 3 || sub == 7) {
            union emu_xmm r = {{0}};
            unsigned c = count > 16 ? 16 : count;
            if (sub == 3)
                memcpy(r.b, a.b + c, 16 - c);
            else
                memcpy(r.b + c, a.b, 16 - c);
            cpu->fpu.xmm[in->rm] = r;
            return EMU_OK;
        }
        int_shift(&a, 16, size, sub == 2 ? 0 : sub == 4 ? 1 : 2, count);
        cpu->fpu.xmm[in->rm] = a;
        return EMU_OK;
    }
    rc = sse_check_mmx(cpu);
    if (rc)
        return rc;
    a.q[0] = sse_mm_get(cpu, in->rm);
    int_shift(&a, 8, size, sub == 2 ? 0 : sub == 4 ? 1 : 2, count);
    sse_mmx_enter(cpu);
    sse_mm_set(cpu, in->rm, a.q[0]);
    return EMU_OK;
}

int sse_int(struct emu_cpu *cpu, const struct emu_insn *in)
{
    unsigned pfx = emu_sse_prefix(in);
    unsigned op = in->opcode & 0xff;
    union emu_xmm a, b;
    int rc;

    if (pfx > SSE_66 || ((op == 0x6c || op == 0x6d) && pfx == SSE_NP))
        return emu_ud(cpu);
    if (op >= 0x71 && op <= 0x73)
        return int_shift_imm(cpu, in, pfx);
    if (pfx == SSE_66) {
        rc = sse_check(cpu);
        if (!rc)
            rc = sse_rm_xmm(cpu, in, 16, true, &b);
        if (rc)
            return rc;
        a = cpu->fpu.xmm[in->reg];
        int_op(op, 16, &a, &b);
        cpu->fpu.xmm[in->reg] = a;
        return EMU_OK;
    }
    rc = sse_check_mmx(cpu);
    /* the MMX low unpacks read only 32 bits of memory */
    if (!rc)
        rc = sse_rm_mm(cpu, in, op >= 0x60 && op <= 0x62 ? 4 : 8, &b.q[0]);
    if (rc)
        return rc;
    a.q[0] = sse_mm_get(cpu, in->reg);
    int_op(op, 8, &a, &b);
    sse_mmx_enter(cpu);
    sse_mm_set(cpu, in->reg, a.q[0]);
    return EMU_OK;
}
