/* regressions.txt: minimized cases with the outcome hardware gave, replayed
 * on every run. The format (one keyword per line, values in hex; '#'
 * starts a comment):
 *   case NAME                      starts a case
 *   note TEXT                      free text (what it found)
 *   code HEX...                    the code bytes (ending with ud2)
 *   gpr HEX x16                    rax..r15 (rsp too)
 *   rflags HEX
 *   fpu FCW FSW FTW MXCSR
 *   st I HEX20                     x87 register I (80 bits, most significant first)
 *   xmm I HEX32                    (128 bits, most significant first); registers
 *                                  without a line are zero
 *   mem SEED                       compared memory = the PRNG fill of SEED
 *   mask FLAGS FSWCC APPROX87 APPROXXMM LANES   undefined at the stop point
 *   mmask ADDR LEN                 memory not compared (repeated)
 *   expect EXIT VECTOR ERR CR2 KSP RIP CS RFLAGS RSP SS
 *   expect-gpr HEX x16
 *   expect-fpu FCW FSW FTW MXCSR
 *   expect-st I HEX20 / expect-xmm I HEX32
 *   expect-mem OFFSET HEX          bytes that differ from the initial fill
 *   end */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "difftest.h"

static void put_hex_le(FILE *f, const uint8_t *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        fprintf(f, "%02x", b[n - 1 - i]);
}

/* The x87 and XMM registers that are not zero (zero is what a missing line
 * means). */
static void put_regs(FILE *f, const char *prefix, const struct x86_fxsave *x)
{
    static const uint8_t zero[16];
    for (unsigned i = 0; i < 8; i++) {
        if (memcmp(x->st[i], zero, 10)) {
            fprintf(f, "%sst %u ", prefix, i);
            put_hex_le(f, x->st[i], 10);
            fprintf(f, "\n");
        }
    }
    for (unsigned i = 0; i < 16; i++) {
        if (memcmp(x->xmm[i], zero, 16)) {
            fprintf(f, "%sxmm %u ", prefix, i);
            put_hex_le(f, x->xmm[i], 16);
            fprintf(f, "\n");
        }
    }
}

int dt_regress_save(const char *path, const struct dt_case *c, const struct dt_outcome *ref,
                    const char *note)
{
    FILE *f = fopen(path, "a");
    if (!f) {
        printf("  cannot append to %s\n", path);
        return -1;
    }
    uint16_t fl, cc;
    dt_masks_at(c, ref->rip, &fl, &cc);
    fprintf(f, "case %s-%llx-%llu\n", dt_family_name[c->family], (unsigned long long)c->seed,
            (unsigned long long)c->index);
    if (note && note[0])
        fprintf(f, "note %s\n", note);
    fprintf(f, "code");
    for (unsigned i = 0; i < c->code_len; i++)
        fprintf(f, " %02x", c->code[i]);
    fprintf(f, "\ngpr");
    for (unsigned i = 0; i < 16; i++)
        fprintf(f, " %llx", (unsigned long long)c->gpr[i]);
    fprintf(f, "\nrflags %llx\n", (unsigned long long)c->rflags);
    fprintf(f, "fpu %x %x %x %x\n", c->fpu.fcw, c->fpu.fsw, c->fpu.ftw, c->fpu.mxcsr);
    put_regs(f, "", &c->fpu);
    fprintf(f, "mem %llx\n", (unsigned long long)c->mem_seed);
    fprintf(f, "mask %x %x %d %d %u\n", fl, cc, c->approx_x87, c->approx_xmm, c->approx_lanes);
    for (unsigned i = 0; i < c->nmmask; i++)
        fprintf(f, "mmask %x %x\n", c->mmask[i].addr, c->mmask[i].len);
    fprintf(f, "expect %d %d %llx %llx %llx %llx %llx %llx %llx %llx\n", ref->exit, ref->vector,
            (unsigned long long)ref->err, (unsigned long long)ref->cr2,
            (unsigned long long)ref->ksp, (unsigned long long)ref->rip,
            (unsigned long long)ref->cs, (unsigned long long)ref->rflags,
            (unsigned long long)ref->rsp, (unsigned long long)ref->ss);
    fprintf(f, "expect-gpr");
    for (unsigned i = 0; i < 16; i++)
        fprintf(f, " %llx", (unsigned long long)ref->gpr[i]);
    fprintf(f, "\nexpect-fpu %x %x %x %x\n", ref->fpu.fcw, ref->fpu.fsw, ref->fpu.ftw,
            ref->fpu.mxcsr);
    put_regs(f, "expect-", &ref->fpu);
    static uint8_t init[DT_CMP_SIZE];
    dt_mem_fill(c->mem_seed, init);
    for (unsigned off = 0; off < DT_CMP_SIZE;) {
        if (init[off] == ref->mem[off]) {
            off++;
            continue;
        }
        unsigned n = 0;
        while (off + n < DT_CMP_SIZE && n < 32 && init[off + n] != ref->mem[off + n])
            n++;
        fprintf(f, "expect-mem %x ", off);
        for (unsigned i = 0; i < n; i++)
            fprintf(f, "%02x", ref->mem[off + i]);
        fprintf(f, "\n");
        off += n;
    }
    fprintf(f, "end\n\n");
    fclose(f);
    return 0;
}

/* ---- loading ---- */

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* HEX (most significant first) into n little-endian bytes. */
static bool get_hex_le(const char *s, uint8_t *b, unsigned n)
{
    size_t len = strspn(s, "0123456789abcdefABCDEF");
    if (len != 2 * n)
        return false;
    for (unsigned i = 0; i < n; i++)
        b[n - 1 - i] = (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
    return true;
}

static bool get_u64s(const char *s, uint64_t *v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        char *end;
        v[i] = strtoull(s, &end, 16);
        if (end == s)
            return false;
        s = end;
    }
    return true;
}

int dt_regress_load(const char *path,
                    void (*fn)(void *ctx, struct dt_case *c, struct dt_outcome *ref,
                               const char *name),
                    void *ctx)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -2;
    static struct dt_case c;
    static struct dt_outcome ref;
    char line[8192], name[128] = "";
    unsigned lineno = 0;
    int count = 0;
    bool in = false;
    uint64_t v[16];

    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        p[strcspn(p, "\r\n")] = 0;
        if (!*p || *p == '#')
            continue;
        char *arg = p + strcspn(p, " ");
        if (*arg)
            *arg++ = 0;
        bool ok = true;
        if (!strcmp(p, "case")) {
            memset(&c, 0, sizeof(c));
            memset(&ref, 0, sizeof(ref));
            c.fixed_masks = true;
            c.approx_xmm = -1;
            c.family = -1;
            snprintf(name, sizeof(name), "%s", arg);
            in = true;
        } else if (!in) {
            ok = false;
        } else if (!strcmp(p, "note")) {
        } else if (!strcmp(p, "code")) {
            char *s = arg;
            c.code_len = 0;
            while (*s && c.code_len < DT_CODE_SIZE) {
                char *end;
                unsigned long b = strtoul(s, &end, 16);
                if (end == s)
                    break;
                c.code[c.code_len++] = (uint8_t)b;
                s = end;
            }
        } else if (!strcmp(p, "gpr")) {
            ok = get_u64s(arg, c.gpr, 16);
        } else if (!strcmp(p, "rflags")) {
            ok = get_u64s(arg, &c.rflags, 1);
        } else if (!strcmp(p, "fpu") || !strcmp(p, "expect-fpu")) {
            struct x86_fxsave *x = !strcmp(p, "fpu") ? &c.fpu : &ref.fpu;
            ok = get_u64s(arg, v, 4);
            x->fcw = (uint16_t)v[0];
            x->fsw = (uint16_t)v[1];
            x->ftw = (uint8_t)v[2];
            x->mxcsr = (uint32_t)v[3];
        } else if (!strcmp(p, "st") || !strcmp(p, "expect-st") || !strcmp(p, "xmm") ||
                   !strcmp(p, "expect-xmm")) {
            bool st = p[strlen(p) - 1] == 't';
            struct x86_fxsave *x = p[0] == 'e' ? &ref.fpu : &c.fpu;
            char *end;
            unsigned long i = strtoul(arg, &end, 10);
            while (*end == ' ')
                end++;
            ok = i < (st ? 8u : 16u) && get_hex_le(end, st ? x->st[i] : x->xmm[i], st ? 10 : 16);
        } else if (!strcmp(p, "mem")) {
            ok = get_u64s(arg, &c.mem_seed, 1);
            dt_mem_fill(c.mem_seed, ref.mem);
        } else if (!strcmp(p, "mask")) {
            ok = get_u64s(arg, v, 2);
            c.fixed_fl = (uint16_t)v[0];
            c.fixed_cc = (uint16_t)v[1];
            int ax = 0, xi = -1;
            unsigned lanes = 0;
            char *s = arg;
            for (int k = 0; k < 2; k++)
                s += strspn(s, " "), s += strcspn(s, " ");
            if (sscanf(s, "%d %d %u", &ax, &xi, &lanes) == 3) {
                c.approx_x87 = ax != 0;
                c.approx_xmm = (int8_t)xi;
                c.approx_lanes = (uint8_t)lanes;
            }
        } else if (!strcmp(p, "mmask")) {
            ok = get_u64s(arg, v, 2) && c.nmmask < DT_MAX_MMASK;
            if (ok) {
                c.mmask[c.nmmask].addr = (uint32_t)v[0];
                c.mmask[c.nmmask].len = (uint16_t)v[1];
                c.nmmask++;
            }
        } else if (!strcmp(p, "expect")) {
            ok = sscanf(arg, "%d %d", &ref.exit, &ref.vector) == 2;
            char *s = arg;
            for (int k = 0; k < 2; k++)
                s += strspn(s, " "), s += strcspn(s, " ");
            ok = ok && get_u64s(s, v, 8);
            ref.err = v[0];
            ref.cr2 = v[1];
            ref.ksp = v[2];
            ref.rip = v[3];
            ref.cs = v[4];
            ref.rflags = v[5];
            ref.rsp = v[6];
            ref.ss = v[7];
        } else if (!strcmp(p, "expect-gpr")) {
            ok = get_u64s(arg, ref.gpr, 16);
        } else if (!strcmp(p, "expect-mem")) {
            char *end;
            unsigned long off = strtoul(arg, &end, 16);
            while (*end == ' ')
                end++;
            size_t n = strspn(end, "0123456789abcdefABCDEF") / 2;
            ok = off + n <= DT_CMP_SIZE && n > 0;
            for (size_t i = 0; ok && i < n; i++)
                ref.mem[off + i] = (uint8_t)(hexval(end[2 * i]) << 4 | hexval(end[2 * i + 1]));
        } else if (!strcmp(p, "end")) {
            in = false;
            if (c.code_len == 0) {
                ok = false;
            } else {
                fn(ctx, &c, &ref, name);
                count++;
            }
        } else {
            ok = false;
        }
        if (!ok) {
            printf("  %s:%u: cannot parse \"%s %s\"\n", path, lineno, p, arg);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return count;
}
