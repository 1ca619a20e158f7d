/* Outcome comparison: how the case ended (exit, vector, error code, CR2,
 * the size of the exception frame), the frame's RIP/CS/RFLAGS/RSP/SS, the
 * GPRs, the FXSAVE state that is architectural (FCW, FSW, the abridged tag
 * word, the valid x87 registers, XMM0-15, MXCSR) and the compared memory.
 * Masked: flags and FSW condition codes left undefined at the point the
 * case stopped (asm.c), memory ranges that hold model-specific pointers,
 * and, for approximate instructions, a tolerance (README.md). Not compared:
 * FOP/FIP/FDP (implementation-specific), MXCSR_MASK (a CPU-model property)
 * and x87 registers tagged empty. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "difftest.h"

const char *dt_exit_name(int exit)
{
    static const char *const n[] = {"none", "pio", "mmio", "msr-read", "msr-write", "hlt",
                                    "irq-window", "timeout", "shutdown", "internal"};
    return exit >= 0 && exit < (int)(sizeof(n) / sizeof(n[0])) ? n[exit] : "?";
}

struct diff {
    char *buf;
    size_t len, used;
    unsigned n;
};

static void note(struct diff *d, const char *fmt, ...)
{
    d->n++;
    if (!d->buf || d->n > 12 || d->used + 2 >= d->len)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (d->used)
        d->buf[d->used++] = ';', d->buf[d->used++] = ' ';
    int k = vsnprintf(d->buf + d->used, d->len - d->used, fmt, ap);
    va_end(ap);
    if (k > 0)
        d->used += (size_t)k < d->len - d->used ? (size_t)k : d->len - d->used - 1;
}

static const char *const gpr_name[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                         "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};

static void hex(char *out, const uint8_t *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[n - 1 - i]); /* most significant first */
}

/* Relative difference within tol of two finite, same-class 80-bit values. */
static bool f80_close(const uint8_t *a, const uint8_t *b, long double tol)
{
    long double x = 0, y = 0;
    memcpy(&x, a, 10);
    memcpy(&y, b, 10);
    if (isnan(x) || isnan(y) || isinf(x) || isinf(y))
        return memcmp(a, b, 10) == 0;
    long double m = fabsl(x) > fabsl(y) ? fabsl(x) : fabsl(y);
    return fabsl(x - y) <= m * tol || fabsl(x - y) <= 0x1p-16000L;
}

static bool f32_close(uint32_t a, uint32_t b)
{
    float x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    if (a == b)
        return true;
    if (isnan(x) || isnan(y) || isinf(x) || isinf(y) || x == 0 || y == 0)
        return false;
    if ((a ^ b) >> 31)
        return false;
    double m = fabs((double)x) > fabs((double)y) ? fabs((double)x) : fabs((double)y);
    return fabs((double)x - (double)y) <= m * 0x1p-10;
}

static bool tags_consistent(const struct x86_fxsave *f, unsigned j)
{
    unsigned top = (f->fsw >> 11) & 7;
    return f->ftw >> ((top + j) & 7) & 1;
}

bool dt_compare(const struct dt_case *c, const struct dt_outcome *a, const struct dt_outcome *b,
                char *why, size_t why_len)
{
    struct diff d = {why, why_len, 0, 0};
    char x[40], y[40];
    if (why && why_len)
        why[0] = 0;

    if (a->exit != b->exit) {
        note(&d, "exit %s vs %s%s%s", dt_exit_name(a->exit), dt_exit_name(b->exit),
             b->desc[0] ? ": " : "", b->desc);
        return false;
    }
    if (a->exit != VM_EXIT_HLT)
        return d.n == 0;
    if (a->vector != b->vector) {
        note(&d, "vector %d vs %d", a->vector, b->vector);
        note(&d, "rip 0x%llx vs 0x%llx", (unsigned long long)a->rip, (unsigned long long)b->rip);
        return false;
    }
    if (a->err != b->err)
        note(&d, "error code 0x%llx vs 0x%llx", (unsigned long long)a->err,
             (unsigned long long)b->err);
    if (a->cr2 != b->cr2)
        note(&d, "cr2 0x%llx vs 0x%llx", (unsigned long long)a->cr2, (unsigned long long)b->cr2);
    if (a->ksp != b->ksp)
        note(&d, "frame size: CPL0 rsp 0x%llx vs 0x%llx", (unsigned long long)a->ksp,
             (unsigned long long)b->ksp);
    if (a->rip != b->rip)
        note(&d, "rip 0x%llx vs 0x%llx", (unsigned long long)a->rip, (unsigned long long)b->rip);
    if (a->cs != b->cs || a->ss != b->ss)
        note(&d, "cs:ss %llx:%llx vs %llx:%llx", (unsigned long long)a->cs,
             (unsigned long long)a->ss, (unsigned long long)b->cs, (unsigned long long)b->ss);

    uint16_t flp, ccp;
    dt_masks_at(c, a->rip, &flp, &ccp);
    if ((a->rflags ^ b->rflags) & ~(uint64_t)flp)
        note(&d, "rflags 0x%llx vs 0x%llx (undefined here: 0x%x)", (unsigned long long)a->rflags,
             (unsigned long long)b->rflags, flp);
    for (unsigned i = 0; i < 16; i++)
        if (a->gpr[i] != b->gpr[i])
            note(&d, "%s 0x%llx vs 0x%llx", gpr_name[i], (unsigned long long)a->gpr[i],
                 (unsigned long long)b->gpr[i]);

    const struct x86_fxsave *fa = &a->fpu, *fb = &b->fpu;
    uint16_t fswm = (uint16_t)~ccp;
    if (c->approx_x87)
        fswm &= (uint16_t)~(FSW_C1 | 0x20); /* round-up indicator, precision flag */
    if (fa->fcw != fb->fcw)
        note(&d, "fcw 0x%x vs 0x%x", fa->fcw, fb->fcw);
    if ((fa->fsw ^ fb->fsw) & fswm)
        note(&d, "fsw 0x%x vs 0x%x (undefined here: 0x%x)", fa->fsw, fb->fsw, (uint16_t)~fswm);
    if (fa->ftw != fb->ftw)
        note(&d, "ftw 0x%02x vs 0x%02x", fa->ftw, fb->ftw);
    if (fa->mxcsr != fb->mxcsr)
        note(&d, "mxcsr 0x%x vs 0x%x", fa->mxcsr, fb->mxcsr);
    for (unsigned j = 0; j < 8; j++) {
        if (!tags_consistent(fa, j) || !tags_consistent(fb, j))
            continue; /* empty: not compared */
        bool same = memcmp(fa->st[j], fb->st[j], 10) == 0;
        if (!same && c->approx_x87)
            same = f80_close(fa->st[j], fb->st[j], 0x1p-50L);
        if (!same) {
            hex(x, fa->st[j], 10);
            hex(y, fb->st[j], 10);
            note(&d, "st%u %s vs %s", j, x, y);
        }
    }
    for (unsigned i = 0; i < 16; i++) {
        if (memcmp(fa->xmm[i], fb->xmm[i], 16) == 0)
            continue;
        bool same = false;
        if (c->approx_xmm == (int)i) {
            same = true;
            for (unsigned l = 0; l < 4; l++) {
                uint32_t p, q;
                memcpy(&p, fa->xmm[i] + 4 * l, 4);
                memcpy(&q, fb->xmm[i] + 4 * l, 4);
                if (l < c->approx_lanes ? !f32_close(p, q) : p != q)
                    same = false;
            }
        }
        if (!same) {
            hex(x, fa->xmm[i], 16);
            hex(y, fb->xmm[i], 16);
            note(&d, "xmm%u %s vs %s", i, x, y);
        }
    }

    for (unsigned off = 0; off < DT_CMP_SIZE; off++) {
        if (a->mem[off] == b->mem[off])
            continue;
        uint32_t addr = DT_CMP + off;
        bool masked = false;
        for (unsigned k = 0; k < c->nmmask; k++)
            if (addr >= c->mmask[k].addr && addr < c->mmask[k].addr + c->mmask[k].len)
                masked = true;
        if (masked)
            continue;
        unsigned n = 1;
        while (off + n < DT_CMP_SIZE && n < 16 && a->mem[off + n] != b->mem[off + n])
            n++;
        char ma[40], mb[40];
        for (unsigned i = 0; i < n; i++) {
            sprintf(ma + 2 * i, "%02x", a->mem[off + i]);
            sprintf(mb + 2 * i, "%02x", b->mem[off + i]);
        }
        note(&d, "memory at 0x%x: %s vs %s", addr, ma, mb);
        off += n;
    }
    if (d.n > 12 && why && d.used + 24 < why_len)
        d.used += (size_t)snprintf(why + d.used, why_len - d.used, "; (%u differences)", d.n);
    return d.n == 0;
}

void dt_print_outcome(const char *label, const struct dt_outcome *o)
{
    printf("    %s: exit %s", label, dt_exit_name(o->exit));
    if (o->desc[0])
        printf(" (%s)", o->desc);
    if (o->vector >= 0)
        printf(", vector %d err 0x%llx cr2 0x%llx at rip 0x%llx rflags 0x%llx rsp 0x%llx",
               o->vector, (unsigned long long)o->err, (unsigned long long)o->cr2,
               (unsigned long long)o->rip, (unsigned long long)o->rflags,
               (unsigned long long)o->rsp);
    printf("\n");
}

void dt_print_case(const struct dt_case *c, void (*out)(const char *line))
{
    char line[512];
    size_t n;

    n = (size_t)snprintf(line, sizeof(line), "    code:");
    for (unsigned i = 0; i < c->code_len && n + 4 < sizeof(line); i++)
        n += (size_t)snprintf(line + n, sizeof(line) - n, " %02x", c->code[i]);
    out(line);
    /* the items, by form name, with their addresses */
    for (unsigned i = 0; i < c->ninsns; i++) {
        const struct dt_insn *in = &c->insns[i];
        if (in->item < 0 || (i > 0 && c->insns[i - 1].item == in->item))
            continue;
        const struct dt_item *it = &c->items[in->item];
        if (it->kind == IT_INSN) {
            snprintf(line, sizeof(line), "      0x%x: %s%s", in->addr, dt_form_get(it->form)->name,
                     it->main ? " (after setup)" : "");
        } else {
            static const char *const bn[] = {"jcc8", "jcc32", "jmp8", "jmp32", "loop fwd",
                                             "loop back", "call", "call reg", "call mem",
                                             "jmp reg"};
            snprintf(line, sizeof(line), "      0x%x: block %s", in->addr, bn[it->blk]);
        }
        out(line);
    }
    for (unsigned i = 0; i < 16; i += 4) {
        snprintf(line, sizeof(line), "    %-3s %016llx  %-3s %016llx  %-3s %016llx  %-3s %016llx",
                 gpr_name[i], (unsigned long long)c->gpr[i], gpr_name[i + 1],
                 (unsigned long long)c->gpr[i + 1], gpr_name[i + 2],
                 (unsigned long long)c->gpr[i + 2], gpr_name[i + 3],
                 (unsigned long long)c->gpr[i + 3]);
        out(line);
    }
    snprintf(line, sizeof(line),
             "    rflags %llx  fcw %04x fsw %04x ftw %02x mxcsr %08x  memory seed %016llx",
             (unsigned long long)c->rflags, c->fpu.fcw, c->fpu.fsw, c->fpu.ftw, c->fpu.mxcsr,
             (unsigned long long)c->mem_seed);
    out(line);
}
