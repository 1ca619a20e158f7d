/* x87 forms (SDM Vol. 1 chapter 8, Vol. 2 "FPU Flags Affected"). Each row
 * names the FSW condition codes the instruction defines and those it leaves
 * undefined (asm.c inserts FXAM before the FSW is stored while any is
 * undefined). Memory operands are often given chosen edge values (a store
 * ahead of the instruction). Transcendental instructions (FSIN, FCOS,
 * FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1) are family "approx": they
 * end a case and their results are compared with a tolerance (README.md).
 * FISTTP is SSE3 and not in roam-v1. */
#include <string.h>

#include "difftest.h"

/* condition-code classes */
enum {
    CC_ARITH,  /* C1 defined, C0 C2 C3 undefined */
    CC_ALL,    /* all four defined */
    CC_UNDEF,  /* all four undefined (FCMOVcc: the SDM defines C1 only on stack
                * underflow, and this AMD CPU leaves it alone otherwise) */
    CC_NONE,   /* not affected */
    CC_C1C2,   /* C1 C2 defined, C0 C3 undefined (FSIN, FCOS, FPTAN, FSINCOS) */
    CC_C1ONLY, /* FCOMI: C1 "set to 0" (SDM), but AMD leaves it as it was
                * when the comparison is unordered: undefined here; others
                * not affected */
};

/* memory operand types */
enum {
    MT_NONE, MT_F32, MT_F64, MT_F80, MT_I16, MT_I32, MT_I64, MT_BCD, MT_CW, MT_ENV, MT_SAVE,
};
static const uint8_t mt_size[] = {0, 4, 8, 10, 2, 4, 8, 10, 2, 28, 108};

/* row parameters: a = kind | mem type << 8 | cc class << 16 | W << 24;
 * b = opcode; c = ModRM digit (memory) or ModRM byte (register forms) */
enum { XK_MEM, XK_REG, XK_FIXED, XK_WAIT };
#define XW (1u << 24)
#define XEF (1u << 25) /* writes EFLAGS (FCOMI) */
#define XRF (1u << 26) /* reads EFLAGS (FCMOVcc): c's cc */
#define XSW (1u << 27) /* stores the FSW */

static void cc_class(struct dt_item *it, unsigned cls)
{
    switch (cls) {
    case CC_ARITH: it->cc_def = FSW_C1; it->cc_undef = FSW_C0 | FSW_C2 | FSW_C3; break;
    case CC_ALL: it->cc_def = FSW_CC; break;
    case CC_UNDEF: it->cc_undef = FSW_CC; break;
    case CC_C1C2: it->cc_def = FSW_C1 | FSW_C2; it->cc_undef = FSW_C0 | FSW_C3; break;
    case CC_C1ONLY: it->cc_undef = FSW_C1; break;
    default: break;
    }
}

static void f80_bytes(struct dt_rng *r, uint8_t *b)
{
    uint64_t m = dt_rand(r) | 1ull << 63;
    uint16_t se = (uint16_t)(dt_below(r, 2) << 15);
    switch (dt_below(r, 6)) {
    case 0: m = 0; break;
    case 1: se |= 0x7fff; m = dt_chance(r, 2) ? 1ull << 63 : m; break;
    case 2: m >>= 1 + dt_below(r, 63); break;         /* denormal */
    case 3: se |= (uint16_t)dt_below(r, 0x7fff); m &= ~(1ull << 63); break; /* unnormal */
    default: se |= (uint16_t)(0x3fff - 70 + dt_below(r, 140)); break;
    }
    memcpy(b, &m, 8);
    memcpy(b + 8, &se, 2);
}

/* A value worth loading for the memory type, stored by setup. */
static void store_value(struct dt_emit *e, const struct dt_item *before, uint64_t t, unsigned mt)
{
    struct dt_rng *r = e->rng;
    struct dt_item *it = e->it;
    uint8_t b[10];
    uint64_t v;
    switch (mt) {
    case MT_F32: v = dt_edge_f32(r); break;
    case MT_F64: v = dt_edge_f64(r); break;
    case MT_I16: case MT_I32: case MT_I64: v = dt_edge64(r); break;
    case MT_CW: /* precision, rounding, masks; reserved bits sometimes */
        v = (dt_rand(r) & 0x0f3f) | 0x40;
        if (dt_chance(r, 4))
            v |= 0x3f;
        if (dt_chance(r, 8))
            v = dt_rand(r) & 0xffff;
        break;
    case MT_F80: case MT_BCD:
        if (mt == MT_F80) {
            f80_bytes(r, b);
        } else { /* packed BCD, digits valid or not, sign byte */
            for (unsigned i = 0; i < 9; i++)
                b[i] = dt_chance(r, 8) ? (uint8_t)dt_rand(r)
                                       : (uint8_t)(dt_below(r, 10) << 4 | dt_below(r, 10));
            b[9] = dt_chance(r, 2) ? 0x80 : 0;
        }
        memcpy(&v, b, 8);
        dt_insert_store(it, before, (uint32_t)t, v, 8);
        /* the top two bytes: inserted at the same point, ahead of the first */
        dt_insert_store(it, before, (uint32_t)t + 8, (uint64_t)b[8] | (uint64_t)b[9] << 8, 2);
        return;
    default:
        return;
    }
    dt_insert_store(it, before, (uint32_t)t, v, mt_size[mt]);
}

static bool f_x87(struct dt_emit *e, const struct dt_form *f)
{
    struct dt_item *it = e->it;
    struct dt_rng *r = e->rng;
    unsigned kind = f->a & 0xff, mt = f->a >> 8 & 0xff, cls = f->a >> 16 & 0xff;
    if ((f->a & XSW) && f->b == 0xdf && !dt_can_write(e, 0))
        return false; /* FNSTSW AX */
    if (kind == XK_MEM) {
        struct dt_modrm m = {0};
        m.opc[0] = (uint8_t)f->b;
        m.nopc = 1;
        m.regk = RK_DIGIT;
        m.reg = f->c;
        m.rm = DT_RM_MEM;
        m.size = mt_size[mt];
        m.write = (f->a & XW) != 0;
        if (mt == MT_ENV && dt_chance(r, 4))
            m.pfx[0] = 0x66; /* the 16-bit environment format */
        struct dt_item before = *it;
        dt_emit_modrm(e, &m);
        if (!m.write && m.target_known && dt_writable(m.target, m.size) && dt_below(r, 4))
            store_value(e, &before, m.target, mt);
        if ((mt == MT_ENV || mt == MT_SAVE) && m.write && m.target_known) {
            /* FIP, FCS, FOP, FDP, FDS: where the last instruction and its
             * operand were, which models record differently (README.md) */
            it->mmask_addr[0] = (uint32_t)m.target + (m.pfx[0] ? 6 : 12);
            it->mmask_len[0] = m.pfx[0] ? 8 : 16;
        }
    } else if (kind == XK_REG) {
        dt_setup_done(it);
        dt_put(it, 2, f->b, f->c + dt_below(r, 8));
    } else {
        dt_setup_done(it);
        if (kind == XK_WAIT)
            dt_put8(it, 0x9b);
        else
            dt_put(it, 2, f->b, f->c);
    }
    cc_class(it, cls);
    if (f->a & XSW)
        it->cc_read = FSW_CC;
    if (f->a & XEF) {
        it->fl_def = F_ARITH;
    }
    if (f->a & XRF) {
        static const uint16_t rd[4] = {F_CF, F_ZF, F_CF | F_ZF, F_PF};
        it->fl_read = rd[(f->c >> 3) & 3];
    }
    if (f->flags & FF_APPROX)
        e->c->approx_x87 = true;
    return true;
}

#define XM(nm, op, dg, mt, cls, w)                                                                 \
    {nm, FAM_X87, 0, f_x87, XK_MEM | (mt) << 8 | (cls) << 16 | (w), op, dg}
#define XR(nm, op, mr, cls, x) {nm, FAM_X87, 0, f_x87, XK_REG | (cls) << 16 | (x), op, mr}
#define XF(nm, op, mr, cls) {nm, FAM_X87, 0, f_x87, XK_FIXED | (cls) << 16, op, mr}
#define XA(nm, op, mr, cls) {nm, FAM_APPROX, FF_APPROX, f_x87, XK_FIXED | (cls) << 16, op, mr}
#define ARITH_M(base, sz, mt)                                                                      \
    XM("fadd " sz, base, 0, mt, CC_ARITH, 0), XM("fmul " sz, base, 1, mt, CC_ARITH, 0),            \
    XM("fcom " sz, base, 2, mt, CC_ALL, 0), XM("fcomp " sz, base, 3, mt, CC_ALL, 0),               \
    XM("fsub " sz, base, 4, mt, CC_ARITH, 0), XM("fsubr " sz, base, 5, mt, CC_ARITH, 0),           \
    XM("fdiv " sz, base, 6, mt, CC_ARITH, 0), XM("fdivr " sz, base, 7, mt, CC_ARITH, 0)
#define IARITH_M(base, sz, mt)                                                                     \
    XM("fiadd " sz, base, 0, mt, CC_ARITH, 0), XM("fimul " sz, base, 1, mt, CC_ARITH, 0),          \
    XM("ficom " sz, base, 2, mt, CC_ALL, 0), XM("ficomp " sz, base, 3, mt, CC_ALL, 0),             \
    XM("fisub " sz, base, 4, mt, CC_ARITH, 0), XM("fisubr " sz, base, 5, mt, CC_ARITH, 0),         \
    XM("fidiv " sz, base, 6, mt, CC_ARITH, 0), XM("fidivr " sz, base, 7, mt, CC_ARITH, 0)

const struct dt_form dt_forms_fp[] = {
    ARITH_M(0xd8, "m32", MT_F32), ARITH_M(0xdc, "m64", MT_F64),
    IARITH_M(0xda, "m32int", MT_I32), IARITH_M(0xde, "m16int", MT_I16),
    XR("fadd st, st(i)", 0xd8, 0xc0, CC_ARITH, 0), XR("fmul st, st(i)", 0xd8, 0xc8, CC_ARITH, 0),
    XR("fcom st(i)", 0xd8, 0xd0, CC_ALL, 0), XR("fcomp st(i)", 0xd8, 0xd8, CC_ALL, 0),
    XR("fsub st, st(i)", 0xd8, 0xe0, CC_ARITH, 0), XR("fsubr st, st(i)", 0xd8, 0xe8, CC_ARITH, 0),
    XR("fdiv st, st(i)", 0xd8, 0xf0, CC_ARITH, 0), XR("fdivr st, st(i)", 0xd8, 0xf8, CC_ARITH, 0),
    XR("fadd st(i), st", 0xdc, 0xc0, CC_ARITH, 0), XR("fmul st(i), st", 0xdc, 0xc8, CC_ARITH, 0),
    XR("fsubr st(i), st", 0xdc, 0xe0, CC_ARITH, 0), XR("fsub st(i), st", 0xdc, 0xe8, CC_ARITH, 0),
    XR("fdivr st(i), st", 0xdc, 0xf0, CC_ARITH, 0), XR("fdiv st(i), st", 0xdc, 0xf8, CC_ARITH, 0),
    XR("faddp", 0xde, 0xc0, CC_ARITH, 0), XR("fmulp", 0xde, 0xc8, CC_ARITH, 0),
    XR("fsubrp", 0xde, 0xe0, CC_ARITH, 0), XR("fsubp", 0xde, 0xe8, CC_ARITH, 0),
    XR("fdivrp", 0xde, 0xf0, CC_ARITH, 0), XR("fdivp", 0xde, 0xf8, CC_ARITH, 0),
    XF("fcompp", 0xde, 0xd9, CC_ALL),
    XR("fucom st(i)", 0xdd, 0xe0, CC_ALL, 0), XR("fucomp st(i)", 0xdd, 0xe8, CC_ALL, 0),
    XF("fucompp", 0xda, 0xe9, CC_ALL),
    XR("fcomi", 0xdb, 0xf0, CC_C1ONLY, XEF), XR("fucomi", 0xdb, 0xe8, CC_C1ONLY, XEF),
    XR("fcomip", 0xdf, 0xf0, CC_C1ONLY, XEF), XR("fucomip", 0xdf, 0xe8, CC_C1ONLY, XEF),
    XR("fcmovb", 0xda, 0xc0, CC_UNDEF, XRF), XR("fcmove", 0xda, 0xc8, CC_UNDEF, XRF),
    XR("fcmovbe", 0xda, 0xd0, CC_UNDEF, XRF), XR("fcmovu", 0xda, 0xd8, CC_UNDEF, XRF),
    XR("fcmovnb", 0xdb, 0xc0, CC_UNDEF, XRF), XR("fcmovne", 0xdb, 0xc8, CC_UNDEF, XRF),
    XR("fcmovnbe", 0xdb, 0xd0, CC_UNDEF, XRF), XR("fcmovnu", 0xdb, 0xd8, CC_UNDEF, XRF),
    XM("fld m32", 0xd9, 0, MT_F32, CC_ARITH, 0), XM("fld m64", 0xdd, 0, MT_F64, CC_ARITH, 0),
    XM("fld m80", 0xdb, 5, MT_F80, CC_ARITH, 0), XR("fld st(i)", 0xd9, 0xc0, CC_ARITH, 0),
    XM("fild m16", 0xdf, 0, MT_I16, CC_ARITH, 0), XM("fild m32", 0xdb, 0, MT_I32, CC_ARITH, 0),
    XM("fild m64", 0xdf, 5, MT_I64, CC_ARITH, 0), XM("fbld m80", 0xdf, 4, MT_BCD, CC_ARITH, 0),
    XM("fst m32", 0xd9, 2, MT_F32, CC_ARITH, XW), XM("fstp m32", 0xd9, 3, MT_F32, CC_ARITH, XW),
    XM("fst m64", 0xdd, 2, MT_F64, CC_ARITH, XW), XM("fstp m64", 0xdd, 3, MT_F64, CC_ARITH, XW),
    XM("fstp m80", 0xdb, 7, MT_F80, CC_ARITH, XW),
    XR("fst st(i)", 0xdd, 0xd0, CC_ARITH, 0), XR("fstp st(i)", 0xdd, 0xd8, CC_ARITH, 0),
    XM("fist m16", 0xdf, 2, MT_I16, CC_ARITH, XW), XM("fistp m16", 0xdf, 3, MT_I16, CC_ARITH, XW),
    XM("fist m32", 0xdb, 2, MT_I32, CC_ARITH, XW), XM("fistp m32", 0xdb, 3, MT_I32, CC_ARITH, XW),
    XM("fistp m64", 0xdf, 7, MT_I64, CC_ARITH, XW), XM("fbstp m80", 0xdf, 6, MT_BCD, CC_ARITH, XW),
    XF("fld1", 0xd9, 0xe8, CC_ARITH), XF("fldl2t", 0xd9, 0xe9, CC_ARITH),
    XF("fldl2e", 0xd9, 0xea, CC_ARITH), XF("fldpi", 0xd9, 0xeb, CC_ARITH),
    XF("fldlg2", 0xd9, 0xec, CC_ARITH), XF("fldln2", 0xd9, 0xed, CC_ARITH),
    XF("fldz", 0xd9, 0xee, CC_ARITH),
    XR("fxch", 0xd9, 0xc8, CC_ARITH, 0), XF("fchs", 0xd9, 0xe0, CC_ARITH),
    XF("fabs", 0xd9, 0xe1, CC_ARITH),
    XF("ftst", 0xd9, 0xe4, CC_ALL),
    XF("fxam", 0xd9, 0xe5, CC_ALL),
    XF("fxtract", 0xd9, 0xf4, CC_ARITH), XF("fprem1", 0xd9, 0xf5, CC_ALL),
    XF("fdecstp", 0xd9, 0xf6, CC_ARITH), XF("fincstp", 0xd9, 0xf7, CC_ARITH),
    XF("fprem", 0xd9, 0xf8, CC_ALL), XF("fsqrt", 0xd9, 0xfa, CC_ARITH),
    XF("frndint", 0xd9, 0xfc, CC_ARITH), XF("fscale", 0xd9, 0xfd, CC_ARITH),
    XF("fnop", 0xd9, 0xd0, CC_UNDEF),
    XR("ffree", 0xdd, 0xc0, CC_UNDEF, 0), XR("ffreep", 0xdf, 0xc0, CC_UNDEF, 0),
    XF("fnclex", 0xdb, 0xe2, CC_UNDEF), XF("fninit", 0xdb, 0xe3, CC_ALL),
    {"fwait", FAM_X87, 0, f_x87, XK_WAIT | CC_NONE << 16, 0x9b, 0},
    {"fnstsw ax", FAM_X87, 0, f_x87, XK_FIXED | CC_UNDEF << 16 | XSW, 0xdf, 0xe0},
    XM("fnstsw m16", 0xdd, 7, MT_I16, CC_UNDEF, XW | XSW),
    XM("fnstcw m16", 0xd9, 7, MT_CW, CC_UNDEF, XW), XM("fldcw m16", 0xd9, 5, MT_CW, CC_UNDEF, 0),
    XM("fnstenv", 0xd9, 6, MT_ENV, CC_NONE, XW | XSW), XM("fldenv", 0xd9, 4, MT_ENV, CC_ALL, 0),
    XM("fnsave", 0xdd, 6, MT_SAVE, CC_ALL, XW | XSW), XM("frstor", 0xdd, 4, MT_SAVE, CC_ALL, 0),
    XA("fsin", 0xd9, 0xfe, CC_C1C2), XA("fcos", 0xd9, 0xff, CC_C1C2),
    XA("fsincos", 0xd9, 0xfb, CC_C1C2), XA("fptan", 0xd9, 0xf2, CC_C1C2),
    XA("fpatan", 0xd9, 0xf3, CC_ARITH), XA("f2xm1", 0xd9, 0xf0, CC_ARITH),
    XA("fyl2x", 0xd9, 0xf1, CC_ARITH), XA("fyl2xp1", 0xd9, 0xf9, CC_ARITH),
};
const unsigned dt_nforms_fp = sizeof(dt_forms_fp) / sizeof(dt_forms_fp[0]);
