/* segments: segmentation (Intel SDM Vol. 3A chapter 3 and 5, Vol. 2 MOV,
 * LAR, LSL, VERR/VERW, CALL, RET, IRET):
 *
 * - limit: in compatibility mode at CPL0 (where segmentation applies as in
 *   protected mode): byte and 4 KiB granular limits (#GP(0) beyond, also
 *   for an access that straddles the limit), expand-down segments with
 *   B = 1 and B = 0, SS limits (#SS(0) for a push and an EBP-based load),
 *   a null DS or ES that loads and then faults on use (#GP(0)), a null SS
 *   that does not load, a read-only data segment and a readable code
 *   segment written through (#GP(0)); in 64-bit mode: no limits, null DS
 *   usable, null SS loadable at CPL0;
 * - load: segment register loads that fault, with their error codes:
 *   beyond the GDT limit, a system descriptor, an execute-only code
 *   segment in DS (#GP(sel)), not present (#NP(sel); for SS, #SS(sel)),
 *   TI = 1 with a null LDT, SS with RPL or DPL != CPL, a read-only or code
 *   segment in SS, a far jump to a data segment; at CPL3, DPL 0 data in DS
 *   and SS; the accessed bit set in the descriptor by a load (DS, SS);
 * - gate: far calls through a 64-bit call gate, CPL3 -> CPL0 (stack
 *   switch to RSP0, SS null, 8-byte pushes of SS, RSP, CS, RIP) and
 *   CPL0 -> CPL0, returning with RETF; a 32-bit call gate in legacy
 *   protected mode, CPL3 -> CPL0 with 2 parameters copied and RETF 8;
 * - iret: IRETQ to CPL3 nulls DS and ES that hold DPL 0 data, keeps a DPL 3
 *   FS;
 * - lar: LAR, LSL, VERR, VERW on code, data, system descriptors, gates and
 *   null or out-of-range selectors, at CPL0 and CPL3.
 *
 * Under KVM's PVM hypervisor (docs/kvm.md) CPL3 runs on the host's own
 * descriptor tables, and KVM's instruction emulator (CPL0) has no call
 * gates, LAR, LSL, VERR or VERW (emulation failure): those checks are
 * skipped there, and so are the legacy-mode ones (no IRET). QEMU 7.2's TCG
 * checks no segment limits at all: tcgbugs=1 makes those checks SKIPs. */
#include "lib/check.h"
#include "lib/legacy.h"

const char guest_name[] = "segments";

#define SEL_LIM 0x60
#define SEL_LIM_G 0x68
#define SEL_ED32 0x70
#define SEL_ED16 0x78
#define SEL_STK 0x80
#define SEL_RO 0x88
#define SEL_XO 0x90      /* execute-only code */
#define SEL_CODE_R 0x98  /* readable 32-bit code */
#define SEL_NP 0xa0      /* not-present data */
#define SEL_ACC 0xb8     /* data, accessed bit clear */
#define SEL_GATE64 0xc0  /* 64-bit call gate, DPL 3 (16 bytes) */
#define SEL_GATE32 0xd0  /* 32-bit call gate (legacy mode), DPL 3, 2 parameters */
#define SEL_CONF 0xd8    /* conforming readable code, DPL 0 */
#define SEL_IGATE 0xe0   /* a 64-bit interrupt gate descriptor in the GDT (16 bytes) */
#define SEL_LDT 0xf0     /* an LDT descriptor (16 bytes) */
#define SEL_GATE64_0 0x100 /* 64-bit call gate, DPL 0 (16 bytes) */
#define SEL_ACC_SS 0x110 /* data for SS, accessed bit clear */
#define SEL_LIM0 0x118   /* base 0, limit 0xfff */
#define SEL_CS32_LEG 0x08

#define DATA_BASE 0x50000ul

struct crec {
    uint32_t faults, vector, error, rip, insn, value, pad[2];
};
extern struct crec seg_res[24];
extern uint64_t seg_gate_rec[16];
extern char seg_gate64_target[], seg_gate32_target[], seg_gate32_ret[], seg_gate32[];
void seg_compat(void);

static int p;

/* ---- compatibility mode ---- */

static void crec_ok(const char *name, int i, int check_value, uint32_t want)
{
    struct crec *r = &seg_res[i];
    if (r->faults)
        check_fail(name, "%s error 0x%x at 0x%x", exception_name(r->vector), r->error, r->rip);
    else if (check_value && r->value != want)
        check_fail(name, "read 0x%x, expected 0x%x", r->value, want);
    else
        check_ok(name);
}

/* tcg: no exception at all is QEMU 7.2 TCG's missing limit check. */
static void crec_fault(const char *name, int i, unsigned vector, uint32_t err, int tcg)
{
    struct crec *r = &seg_res[i];
    if (r->faults == 0 && tcg &&
        check_tcgbug(1, name, "no segment limit (or null segment) checks"))
        return;
    if (r->faults != 1)
        check_fail(name, "%u exceptions, expected %s", r->faults, exception_name(vector));
    else if (r->vector != vector || r->error != err || r->rip != r->insn)
        check_fail(name, "%s error 0x%x at 0x%x, expected %s error 0x%x at 0x%x",
                   exception_name(r->vector), r->error, r->rip, exception_name(vector), err,
                   r->insn);
    else
        check_pass(name, "%s(0x%x)", exception_name(vector), err);
}

static void limit_checks(void)
{
    volatile uint32_t *d = (volatile uint32_t *)DATA_BASE;
    memset(seg_res, 0, sizeof(struct crec) * 24);
    d[0xffc / 4] = 0x11aa0ffc;
    d[0x1000 / 4] = 0x11aa1000;
    *(volatile uint32_t *)(DATA_BASE - 4) = 0x11aaeffc;
    *(volatile uint16_t *)(DATA_BASE + 0xfffe) = 0x2fe;
    d[0] = 0x11aa0000;
    d[1] = 0x11aa0004;
    d[4] = 0x11aa0010;
    seg_compat();
    crec_ok("limit/last-dword-inside", 0, 1, 0x11aa0ffc);
    crec_fault("limit/dword-straddling-limit-gp", 1, 13, 0, 1);
    crec_fault("limit/byte-beyond-limit-gp", 2, 13, 0, 1);
    crec_ok("limit/granular-last-byte-inside", 3, 0, 0);
    crec_fault("limit/granular-beyond-gp", 4, 13, 0, 1);
    crec_fault("limit/expand-down-at-limit-gp", 5, 13, 0, 1);
    crec_ok("limit/expand-down-above-limit", 6, 1, 0x11aa1000);
    crec_ok("limit/expand-down-top-of-4g", 7, 1, 0x11aaeffc);
    crec_fault("limit/expand-down-16-bit-beyond-ffff-gp", 8, 13, 0, 1);
    crec_ok("limit/expand-down-16-bit-top", 9, 1, 0x2fe);
    crec_fault("limit/push-beyond-ss-limit-ss", 10, 12, 0, 1);
    crec_fault("limit/ebp-load-beyond-ss-limit-ss", 11, 12, 0, 1);
    crec_fault("limit/null-ds-use-gp", 12, 13, 0, 1);
    crec_fault("limit/null-es-stos-gp", 13, 13, 0, 1);
    crec_fault("limit/null-ss-load-gp", 14, 13, 0, 0);
    crec_fault("limit/read-only-data-write-gp", 15, 13, 0, 1);
    crec_ok("limit/readable-code-read", 16, 1, 0x11aa0004);
    crec_fault("limit/code-segment-write-gp", 17, 13, 0, 1);
}

/* ---- 64-bit mode, CPL0 ---- */

/* Loads sel into a segment register ("ds", "es", "ss"...) expecting a
 * fault; DS/ES/SS are put back. */
#define LOAD_SEG(reg, sel)                                                                     \
    __asm__ volatile(FAULT_BEGIN "movw %w0, %%" reg FAULT_END "movw %w1, %%" reg               \
                     :                                                                         \
                     : "r"(sel), "r"((uint16_t)KERNEL_DS)                                       \
                     : "r11", "memory")

static void expect_load_fault(const char *name, uint64_t c, unsigned vector, uint64_t err)
{
    struct fault_expect e = {vector, 1, err, 0, 0, 0};
    check_fault(name, c, &e);
}

static void long_checks(void)
{
    uint64_t c;
    uint32_t v;

    /* No limits in 64-bit mode: ES limit 0xfff, a read at 0x51000. */
    c = last_fault.count;
    __asm__ volatile("movw %w1, %%es\n\t" FAULT_BEGIN "movl %%es:0x51000, %0" FAULT_END
                     "movw %w2, %%es"
                     : "=&r"(v)
                     : "r"(SEL_LIM0), "r"(KERNEL_DS)
                     : "r11", "memory");
    if (check_no_fault("long/no-limit-check", c))
        check_eq("long/no-limit-check", v, 0x11aa1000);
    /* A null DS works in 64-bit mode. */
    c = last_fault.count;
    __asm__ volatile("movw %w1, %%ds\n\t" FAULT_BEGIN "movl (%2), %0" FAULT_END
                     "movw %w3, %%ds"
                     : "=&r"(v)
                     : "r"(0), "r"(DATA_BASE + 0x10), "r"(KERNEL_DS)
                     : "r11", "memory");
    if (check_no_fault("long/null-ds-usable", c))
        check_eq("long/null-ds-usable", v, 0x11aa0010);
    /* So does a null SS at CPL0 (RPL 0). */
    c = last_fault.count;
    __asm__ volatile(FAULT_BEGIN "movw %w0, %%ss" FAULT_END "movw %w1, %%ss"
                     :
                     : "r"(0), "r"(KERNEL_DS)
                     : "r11", "memory");
    if (check_no_fault("long/null-ss-loads-at-cpl0", c))
        check_ok("long/null-ss-loads-at-cpl0");
}

static void load_checks(void)
{
    uint64_t c;
    c = last_fault.count;
    LOAD_SEG("ds", 0x203);
    expect_load_fault("load/beyond-gdt-limit-gp", c, 13, 0x200);
    c = last_fault.count;
    LOAD_SEG("ds", TSS_SEL);
    expect_load_fault("load/tss-in-ds-gp", c, 13, TSS_SEL);
    c = last_fault.count;
    LOAD_SEG("es", SEL_XO);
    expect_load_fault("load/execute-only-code-in-es-gp", c, 13, SEL_XO);
    c = last_fault.count;
    LOAD_SEG("ds", SEL_NP);
    expect_load_fault("load/not-present-np", c, 11, SEL_NP);
    c = last_fault.count;
    LOAD_SEG("fs", 0x4);
    expect_load_fault("load/ldt-selector-null-ldtr-gp", c, 13, 0x4);
    c = last_fault.count;
    LOAD_SEG("ss", USER_DS);
    expect_load_fault("load/ss-rpl3-at-cpl0-gp", c, 13, USER_DS & ~3);
    c = last_fault.count;
    LOAD_SEG("ss", USER_DS & ~3);
    expect_load_fault("load/ss-dpl3-at-cpl0-gp", c, 13, USER_DS & ~3);
    c = last_fault.count;
    LOAD_SEG("ss", SEL_RO);
    expect_load_fault("load/ss-read-only-gp", c, 13, SEL_RO);
    c = last_fault.count;
    LOAD_SEG("ss", SEL_CODE_R);
    expect_load_fault("load/ss-code-gp", c, 13, SEL_CODE_R);
    c = last_fault.count;
    LOAD_SEG("ss", SEL_NP);
    expect_load_fault("load/ss-not-present-ss", c, 12, SEL_NP);
    {
        static const struct {
            uint32_t off;
            uint16_t sel;
        } __attribute__((packed)) far = {0x1000, KERNEL_DS};
        c = last_fault.count;
        __asm__ volatile(FAULT_BEGIN "ljmpl *%0" FAULT_END : : "m"(far) : "r11", "memory");
        expect_load_fault("load/far-jump-to-data-gp", c, 13, KERNEL_DS);
    }
    /* The accessed bit: set by the load. */
    __asm__ volatile("movw %w0, %%es\n\tmovw %w1, %%es" : : "r"(SEL_ACC), "r"(KERNEL_DS)
                     : "memory");
    check((gdt_big[SEL_ACC >> 3] >> 40 & 1) != 0, "load/es-load-sets-accessed",
          "descriptor 0x%lx", gdt_big[SEL_ACC >> 3]);
    __asm__ volatile("movw %w0, %%ss\n\tmovw %w1, %%ss" : : "r"(SEL_ACC_SS), "r"(KERNEL_DS)
                     : "memory");
    check((gdt_big[SEL_ACC_SS >> 3] >> 40 & 1) != 0, "load/ss-load-sets-accessed",
          "descriptor 0x%lx", gdt_big[SEL_ACC_SS >> 3]);
}

/* ---- CPL3 ---- */
struct user_res {
    uint64_t ds, es, fs, gs, cs, ss;
    uint64_t gate_ret, gate_rsp, gate_after_cs, gate_after_ss, gate_faults;
    struct fault_record ds_load, ss_load, gate0;
    uint64_t lar[8], zf[8];
};
static struct user_res ures;

static uint64_t seg_read(int which)
{
    uint16_t v = 0;
    switch (which) {
    case 0: __asm__ volatile("movw %%ds, %0" : "=r"(v)); break;
    case 1: __asm__ volatile("movw %%es, %0" : "=r"(v)); break;
    case 2: __asm__ volatile("movw %%fs, %0" : "=r"(v)); break;
    case 3: __asm__ volatile("movw %%gs, %0" : "=r"(v)); break;
    case 4: __asm__ volatile("movw %%cs, %0" : "=r"(v)); break;
    default: __asm__ volatile("movw %%ss, %0" : "=r"(v)); break;
    }
    return v;
}

/* LAR/LSL/VERR/VERW: result (for LAR, LSL) and ZF. */
static uint64_t lar(uint64_t sel, uint64_t *zf)
{
    uint64_t v = 0xdead;
    uint8_t z;
    __asm__ volatile("larq %2, %0\n\tsetz %1" : "+r"(v), "=r"(z) : "r"(sel) : "cc");
    *zf = z;
    return v;
}

static uint64_t lsl(uint64_t sel, uint64_t *zf)
{
    uint64_t v = 0xdead;
    uint8_t z;
    __asm__ volatile("lslq %2, %0\n\tsetz %1" : "+r"(v), "=r"(z) : "r"(sel) : "cc");
    *zf = z;
    return v;
}

static uint64_t verr(uint16_t sel)
{
    uint8_t z;
    __asm__ volatile("verr %1\n\tsetz %0" : "=r"(z) : "r"(sel) : "cc");
    return z;
}

static uint64_t verw(uint16_t sel)
{
    uint8_t z;
    __asm__ volatile("verw %1\n\tsetz %0" : "=r"(z) : "r"(sel) : "cc");
    return z;
}

static uint64_t user_segs(uint64_t arg)
{
    struct user_res *r = &ures;
    uint64_t c;
    (void)arg;
    /* What the IRETQ to CPL3 left (user_call enters through IRETQ). */
    r->ds = seg_read(0);
    r->es = seg_read(1);
    r->fs = seg_read(2);
    r->gs = seg_read(3);
    r->cs = seg_read(4);
    r->ss = seg_read(5);
    /* DPL 0 data from CPL3 */
    c = last_fault.count;
    __asm__ volatile(FAULT_BEGIN "movw %w0, %%ds" FAULT_END "movw %w1, %%ds"
                     :
                     : "r"(KERNEL_DS), "r"(USER_DS)
                     : "r11", "memory");
    r->ds_load = last_fault;
    r->ds_load.count -= c;
    c = last_fault.count;
    __asm__ volatile(FAULT_BEGIN "movw %w0, %%ss" FAULT_END "movw %w1, %%ss"
                     :
                     : "r"(KERNEL_DS), "r"(USER_DS)
                     : "r11", "memory");
    r->ss_load = last_fault;
    r->ss_load.count -= c;
    /* The 64-bit call gate to CPL0 and back. */
    {
        static const struct {
            uint32_t off;
            uint16_t sel;
        } __attribute__((packed)) gate = {0, SEL_GATE64 | 3}, gate0 = {0, SEL_GATE64_0 | 3};
        uint64_t ret, rsp;
        c = last_fault.count;
        __asm__ volatile("leaq 1f(%%rip), %0\n\tmovq %%rsp, %1\n\tlcall *%2\n1:"
                         : "=&r"(ret), "=&r"(rsp)
                         : "m"(gate)
                         : "rax", "memory");
        r->gate_ret = ret;
        r->gate_rsp = rsp;
        r->gate_after_cs = seg_read(4);
        r->gate_after_ss = seg_read(5);
        r->gate_faults = last_fault.count - c;
        /* A DPL 0 gate is out of reach. */
        c = last_fault.count;
        __asm__ volatile(FAULT_BEGIN "lcall *%0" FAULT_END : : "m"(gate0) : "r11", "memory");
        r->gate0 = last_fault;
        r->gate0.count -= c;
    }
    /* LAR and VERR/VERW from CPL3 */
    r->lar[0] = lar(KERNEL_DS, &r->zf[0]);
    r->lar[1] = lar(USER_DS, &r->zf[1]);
    r->lar[2] = lar(SEL_CONF, &r->zf[2]);
    r->zf[3] = verr(KERNEL_CS);
    r->zf[4] = verr(SEL_CONF);
    r->zf[5] = verw(USER_DS);
    r->zf[6] = verw(KERNEL_DS);
    return 0;
}

static uint64_t lar_of(unsigned sel);

static void user_checks(void)
{
    struct user_res *r = &ures;
    seg_gate_rec[7] = 0;
    __asm__ volatile("movw %w0, %%fs" : : "r"(USER_DS));
    user_run(user_segs, 0, 0);
    __asm__ volatile("movw %w0, %%fs\n\tmovw %w0, %%ds\n\tmovw %w0, %%es" : : "r"(KERNEL_DS));
    check(r->ds == 0 && r->es == 0, "iret/nulls-dpl0-ds-es", "DS 0x%lx ES 0x%lx", r->ds, r->es);
    check_eq("iret/keeps-dpl3-fs", r->fs, USER_DS);
    check(r->cs == USER_CS && r->ss == USER_DS, "iret/cs-ss", "CS 0x%lx SS 0x%lx", r->cs, r->ss);
    check(r->ds_load.count == 1 && r->ds_load.vector == 13 && r->ds_load.error == KERNEL_DS,
          "load/dpl0-data-in-ds-at-cpl3-gp", "%lu exceptions, %s error 0x%lx",
          r->ds_load.count, exception_name((unsigned)r->ds_load.vector), r->ds_load.error);
    check(r->ss_load.count == 1 && r->ss_load.vector == 13 && r->ss_load.error == KERNEL_DS,
          "load/dpl0-data-in-ss-at-cpl3-gp", "%lu exceptions, %s error 0x%lx",
          r->ss_load.count, exception_name((unsigned)r->ss_load.vector), r->ss_load.error);
    /* The gate's target recorded: CS, SS, RSP, then RIP, CS, RSP, SS pushed. */
    check_eq("gate/64-cpl3-to-cpl0-ran", seg_gate_rec[7], 1);
    check_eq("gate/64-target-cs", seg_gate_rec[0], KERNEL_CS);
    check_eq("gate/64-target-ss-null", seg_gate_rec[1], 0);
    check(seg_gate_rec[3] == r->gate_ret && seg_gate_rec[4] == USER_CS &&
              seg_gate_rec[5] == r->gate_rsp && seg_gate_rec[6] == USER_DS,
          "gate/64-pushed-rip-cs-rsp-ss",
          "pushed 0x%lx 0x%lx 0x%lx 0x%lx, expected 0x%lx 0x%x 0x%lx 0x%x", seg_gate_rec[3],
          seg_gate_rec[4], seg_gate_rec[5], seg_gate_rec[6], r->gate_ret, USER_CS, r->gate_rsp,
          USER_DS);
    check(r->gate_faults == 0 && r->gate_after_cs == USER_CS && r->gate_after_ss == USER_DS,
          "gate/64-retf-to-cpl3", "%lu exceptions, CS 0x%lx SS 0x%lx after", r->gate_faults,
          r->gate_after_cs, r->gate_after_ss);
    check(r->gate0.count == 1 && r->gate0.vector == 13 && r->gate0.error == SEL_GATE64_0,
          "gate/dpl0-gate-from-cpl3-gp", "%lu exceptions, %s error 0x%lx", r->gate0.count,
          exception_name((unsigned)r->gate0.vector), r->gate0.error);
    check(r->zf[0] == 0, "lar/cpl3-dpl0-data-zf0", "ZF %lu", r->zf[0]);
    check(r->zf[1] == 1 && r->lar[1] == lar_of(USER_DS), "lar/cpl3-dpl3-data",
          "ZF %lu 0x%lx, expected 1 0x%lx", r->zf[1], r->lar[1], lar_of(USER_DS));
    check(r->zf[2] == 1, "lar/cpl3-conforming-dpl0-code", "ZF %lu", r->zf[2]);
    check(r->zf[3] == 0, "lar/verr-cpl3-dpl0-code-zf0", "ZF %lu", r->zf[3]);
    check(r->zf[4] == 1, "lar/verr-cpl3-conforming-code", "ZF %lu", r->zf[4]);
    check(r->zf[5] == 1, "lar/verw-cpl3-dpl3-data", "ZF %lu", r->zf[5]);
    check(r->zf[6] == 0, "lar/verw-cpl3-dpl0-data-zf0", "ZF %lu", r->zf[6]);
}

static void gate0_checks(void)
{
    static const struct {
        uint32_t off;
        uint16_t sel;
    } __attribute__((packed)) gate = {0, SEL_GATE64_0};
    uint64_t ret, rsp;
    seg_gate_rec[7] = 0;
    __asm__ volatile("leaq 1f(%%rip), %0\n\tmovq %%rsp, %1\n\tlcall *%2\n1:"
                     : "=&r"(ret), "=&r"(rsp)
                     : "m"(gate)
                     : "rax", "memory");
    check_eq("gate/64-cpl0-to-cpl0-ran", seg_gate_rec[7], 1);
    check(seg_gate_rec[0] == KERNEL_CS && seg_gate_rec[2] == rsp - 16 &&
              seg_gate_rec[3] == ret && seg_gate_rec[4] == KERNEL_CS,
          "gate/64-cpl0-same-stack-pushes-rip-cs",
          "CS 0x%lx RSP 0x%lx (caller 0x%lx) pushed 0x%lx 0x%lx", seg_gate_rec[0],
          seg_gate_rec[2], rsp, seg_gate_rec[3], seg_gate_rec[4]);
}

static uint64_t lar_of(unsigned sel)
{
    return (gdt_big[sel >> 3] >> 32) & 0x00f0ff00;
}

static void lar_checks(void)
{
    uint64_t zf, v;
    static const struct {
        const char *name;
        unsigned sel;
    } valid[] = {{"lar/64-bit-code", KERNEL_CS}, {"lar/data", KERNEL_DS},
                 {"lar/busy-tss", TSS_SEL},     {"lar/call-gate", SEL_GATE64},
                 {"lar/ldt", SEL_LDT},          {"lar/expand-down-data", SEL_ED32}};
    for (unsigned i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        v = lar(valid[i].sel, &zf);
        check(zf && v == lar_of(valid[i].sel), valid[i].name, "ZF %lu 0x%lx, expected 1 0x%lx",
              zf, v, lar_of(valid[i].sel));
    }
    v = lar(SEL_IGATE, &zf);
    check(!zf && v == 0xdead, "lar/interrupt-gate-invalid", "ZF %lu 0x%lx", zf, v);
    v = lar(0, &zf);
    check(!zf && v == 0xdead, "lar/null-invalid", "ZF %lu 0x%lx", zf, v);
    v = lar(0x208, &zf);
    check(!zf && v == 0xdead, "lar/beyond-gdt-limit-invalid", "ZF %lu 0x%lx", zf, v);
    v = lsl(KERNEL_DS, &zf);
    check(zf && v == 0xffffffff, "lar/lsl-4k-granular", "ZF %lu 0x%lx", zf, v);
    v = lsl(SEL_LIM, &zf);
    check(zf && v == 0xfff, "lar/lsl-byte-granular", "ZF %lu 0x%lx", zf, v);
    v = lsl(TSS_SEL, &zf);
    check(zf && v == 0x67, "lar/lsl-tss", "ZF %lu 0x%lx", zf, v);
    v = lsl(SEL_GATE64, &zf);
    check(!zf && v == 0xdead, "lar/lsl-call-gate-invalid", "ZF %lu 0x%lx", zf, v);
    check(verr(KERNEL_CS) == 1, "lar/verr-readable-code", "ZF 0");
    check(verr(SEL_XO) == 0, "lar/verr-execute-only-code-zf0", "ZF 1");
    check(verr(KERNEL_DS) == 1, "lar/verr-data", "ZF 0");
    check(verw(KERNEL_DS) == 1, "lar/verw-writable-data", "ZF 0");
    check(verw(SEL_RO) == 0, "lar/verw-read-only-data-zf0", "ZF 1");
    check(verw(KERNEL_CS) == 0, "lar/verw-code-zf0", "ZF 1");
    check(verr(0) == 0, "lar/verr-null-zf0", "ZF 1");
}

/* ---- legacy mode: the 32-bit call gate ---- */
static void gate32_checks(void)
{
    struct legacy_cfg cfg = {
        .cr0 = (uint32_t)(CR0_PE | CR0_NE | CR0_MP | CR0_ET),
        .cr3 = 0,
        .cr4 = (uint32_t)(CR4_OSFXSR | CR4_OSXMMEXCPT),
        .efer = (uint32_t)rdmsr(MSR_EFER),
        .flags = LEGACY_USER,
    };
    uint32_t r, *g = (uint32_t *)&seg_gate_rec[8];
    memset(g, 0, 64);
    r = legacy_call(seg_gate32, SEL_GATE32 | 3, &cfg);
    if ((r & 0xffff0000u) == LEGACY_UNEXPECTED) {
        check_fail("gate/32-run", "unexpected %s (vector %u) error 0x%x at eip 0x%x cs 0x%x",
                   exception_name(legacy_fault.vector), legacy_fault.vector, legacy_fault.error,
                   legacy_fault.eip, legacy_fault.cs);
        return;
    }
    check_eq("gate/32-user-code-returned", r, 0x32);
    /* g[0] ESP before the pushes, g[1] after the return, g[2] CS after,
     * g[3] target CS, g[4] target SS, g[5..10] the target's stack. */
    check_eq("gate/32-target-cs", g[3], SEL_CS32_LEG);
    check_eq("gate/32-target-ss-from-tss", g[4], KERNEL_DS);
    check(g[5] == (uint32_t)(uintptr_t)seg_gate32_ret && g[6] == USER_CS32,
          "gate/32-pushed-eip-cs", "0x%x 0x%x", g[5], g[6]);
    check(g[7] == 0x33334444 && g[8] == 0x11112222, "gate/32-copied-2-parameters",
          "0x%x 0x%x, expected 0x33334444 0x11112222", g[7], g[8]);
    check(g[9] == g[0] - 8 && g[10] == USER_DS, "gate/32-pushed-esp-ss",
          "ESP 0x%x SS 0x%x, expected 0x%x 0x%x", g[9], g[10], g[0] - 8, USER_DS);
    check(g[1] == g[0] && g[2] == USER_CS32, "gate/32-retf-8-back-to-cpl3",
          "ESP 0x%x (before 0x%x) CS 0x%x", g[1], g[0], g[2]);
}

static uint64_t gate64(uint16_t sel, unsigned dpl, uint64_t target)
{
    return (target & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)(0x8c | (dpl << 5)) << 40) |
           ((target >> 16 & 0xffff) << 48);
}

void guest_main(void)
{
    uint64_t t = (uintptr_t)seg_gate64_target, t32 = (uintptr_t)seg_gate32_target;

    p = pvm();
    gdt_extend();
    gdt_big[SEL_LIM >> 3] = seg_desc(DATA_BASE, 0xfff, 0x93, 0x4);
    gdt_big[SEL_LIM_G >> 3] = seg_desc(DATA_BASE, 0, 0x93, 0xc);
    gdt_big[SEL_ED32 >> 3] = seg_desc(DATA_BASE, 0xfff, 0x97, 0x4);
    gdt_big[SEL_ED16 >> 3] = seg_desc(DATA_BASE, 0xfff, 0x97, 0x0);
    gdt_big[SEL_STK >> 3] = seg_desc(0, 0x57fff, 0x93, 0x4);
    gdt_big[SEL_RO >> 3] = seg_desc(0, 0xfffff, 0x91, 0xc);
    gdt_big[SEL_XO >> 3] = seg_desc(0, 0xfffff, 0x99, 0xc);
    gdt_big[SEL_CODE_R >> 3] = seg_desc(0, 0xfffff, 0x9b, 0xc);
    gdt_big[SEL_NP >> 3] = seg_desc(0, 0xfffff, 0x13, 0xc);
    gdt_big[SEL_ACC >> 3] = seg_desc(0, 0xfffff, 0x92, 0xc);
    gdt_big[SEL_ACC_SS >> 3] = seg_desc(0, 0xfffff, 0x92, 0xc);
    gdt_big[SEL_LIM0 >> 3] = seg_desc(0, 0xfff, 0x93, 0x4);
    gdt_big[SEL_GATE64 >> 3] = gate64(KERNEL_CS, 3, t);
    gdt_big[(SEL_GATE64 >> 3) + 1] = t >> 32;
    gdt_big[SEL_GATE32 >> 3] = (t32 & 0xffff) | ((uint64_t)SEL_CS32_LEG << 16) | (2ul << 32) |
                               (0xecul << 40) | ((t32 >> 16 & 0xffff) << 48);
    gdt_big[SEL_CONF >> 3] = seg_desc(0, 0xfffff, 0x9f, 0xa);
    gdt_big[SEL_IGATE >> 3] = (t & 0xffff) | ((uint64_t)KERNEL_CS << 16) | (0x8eul << 40) |
                              ((t >> 16 & 0xffff) << 48);
    gdt_big[(SEL_IGATE >> 3) + 1] = t >> 32;
    gdt_big[SEL_LDT >> 3] = seg_desc(0x60000, 0xff, 0x82, 0);
    gdt_big[(SEL_LDT >> 3) + 1] = 0;
    gdt_big[SEL_GATE64_0 >> 3] = gate64(KERNEL_CS, 0, t);
    gdt_big[(SEL_GATE64_0 >> 3) + 1] = t >> 32;

    if (check_group("limit"))
        limit_checks();
    if (check_group("long"))
        long_checks();
    if (check_group("load"))
        load_checks();
    if (check_group("gate")) {
        if (p) {
            check_skip("gate", "KVM's instruction emulator has no call gates (emulation "
                               "failure), and CPL3 runs on the host's GDT under " PVM_REASON);
        } else {
            gate0_checks();
            gate32_checks();
        }
    }
    if (check_group("user")) {
        if (p)
            check_skip("user", "CPL3 runs on the host's descriptor tables under " PVM_REASON);
        else
            user_checks();
    }
    if (check_group("lar")) {
        if (p)
            check_skip("lar", "KVM's instruction emulator has no LAR, LSL, VERR or VERW "
                              "(emulation failure under " PVM_REASON ")");
        else
            lar_checks();
    }
    check_finish();
}
