/* difftest: runs generated cases on two engines (default kvm, the oracle,
 * and emu) and compares the outcomes; replays tests/difftest/regressions.txt
 * first; shrinks every mismatch to a minimal case. See README.md.
 * Output follows tests/test.h: "PASS: difftest/<family>: N cases", FAIL and
 * SKIP lines; detail lines are indented. Exit status 0 when all match. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "difftest.h"
#include "host/host.h"

struct opts {
    uint64_t seed, start, cases;
    unsigned max_len, max_report;
    int only;
    bool verbose, shrink, seed_given, stats, allow_gp;
    const char *ea, *eb, *replay, *save, *name, *record;
};

struct fam_stat {
    uint64_t cases, fails;
};

struct run {
    struct opts o;
    struct dt_machine *a, *b;
    struct fam_stat fam[FAM_COUNT];
    unsigned char *form_seen;
    uint32_t (*form_stop)[DT_NVEC + 1]; /* --stats: which forms ended cases, how */
    uint64_t mismatches;
    uint64_t vectors[DT_NVEC + 1], to_end; /* how cases ended (on engine A) */
    struct { char key[40]; uint64_t n; } kinds[300]; /* family@first difference */
    unsigned nkinds;
    unsigned reported;
    /* regressions */
    unsigned reg_pass, reg_fail, reg_hw_fail;
};

static struct dt_case g_case, g_work;
static void kind_of(const char *why, char key[24]);
static struct dt_outcome g_oa, g_ob, g_oc;

static void usage(void)
{
    printf("usage: difftest [--seed S] [--start I] [--cases N] [--max-len L]\n"
           "                [--engine-a kvm] [--engine-b emu] [--only FAMILY] [--verbose]\n"
           "                [--replay FILE] [--save FILE] [--no-shrink] [--max-report N]\n"
           "                [--stats]\n"
           "                [--allow-gp] [--name NAME] [--record FILE]\n"
           "families:");
    for (unsigned i = 0; i < FAM_COUNT; i++)
        printf(" %s", dt_family_name[i]);
    printf("\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.cases = 1000, .max_len = 24, .max_report = 30, .only = -1,
                       .name = "difftest",
                       .shrink = true, .ea = "kvm", .eb = "emu",
                       .replay = "tests/difftest/regressions.txt"};
    o->seed = host_wallclock_ns() ^ (host_time_ns() << 20);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (!strcmp(a, "--seed") && v) {
            o->seed = strtoull(v, NULL, 0);
            o->seed_given = true;
        } else if (!strcmp(a, "--start") && v) {
            o->start = strtoull(v, NULL, 0);
        } else if (!strcmp(a, "--cases") && v) {
            o->cases = strtoull(v, NULL, 0);
        } else if (!strcmp(a, "--max-len") && v) {
            o->max_len = (unsigned)strtoul(v, NULL, 0);
            if (o->max_len < 1)
                o->max_len = 1;
        } else if (!strcmp(a, "--max-report") && v) {
            o->max_report = (unsigned)strtoul(v, NULL, 0);
        } else if (!strcmp(a, "--engine-a") && v) {
            o->ea = v;
        } else if (!strcmp(a, "--engine-b") && v) {
            o->eb = v;
        } else if (!strcmp(a, "--replay") && v) {
            o->replay = !strcmp(v, "none") ? NULL : v;
        } else if (!strcmp(a, "--record") && v) {
            o->record = v;
        } else if (!strcmp(a, "--name") && v) {
            o->name = v;
        } else if (!strcmp(a, "--save") && v) {
            o->save = v;
        } else if (!strcmp(a, "--only") && v) {
            o->only = -2;
            for (int f = 0; f < FAM_COUNT; f++)
                if (!strcmp(v, dt_family_name[f]))
                    o->only = f;
            if (o->only == -2) {
                printf("unknown family \"%s\"\n", v);
                usage();
                return -1;
            }
        } else {
            takes = false;
            if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
                o->verbose = true;
            } else if (!strcmp(a, "--stats")) {
                o->stats = true;
            } else if (!strcmp(a, "--allow-gp")) {
                o->allow_gp = true;
            } else if (!strcmp(a, "--no-shrink")) {
                o->shrink = false;
            } else {
                usage();
                return -1;
            }
        }
        if (takes)
            i++;
    }
    return 0;
}

static void print_line(const char *line)
{
    printf("%s\n", line);
}

static bool differs(struct run *r, struct dt_case *c, char *why, size_t len)
{
    if (!dt_assemble(c))
        return false;
    dt_machine_run(r->a, c, &g_oa);
    dt_machine_run(r->b, c, &g_ob);
    return !dt_compare(c, &g_oa, &g_ob, why, len);
}

/* ---- shrinking: drop items (or a block's brackets, or an item's setup)
 * one at a time while the case still differs; then plain initial values ---- */

static unsigned block_end(const struct dt_case *c, unsigned i)
{
    unsigned depth = 0;
    for (unsigned j = i; j < c->nitems; j++) {
        if (c->items[j].kind == IT_BEGIN)
            depth++;
        else if (c->items[j].kind == IT_END && --depth == 0)
            return j;
    }
    return c->nitems - 1;
}

static void drop(struct dt_case *c, unsigned i, unsigned n)
{
    memmove(&c->items[i], &c->items[i + n], (c->nitems - i - n) * sizeof(c->items[0]));
    c->nitems -= n;
}

/* Keeps cand if it still differs, and in the same first field (so that
 * shrinking does not wander off to another bug). */
static bool try_case(struct run *r, struct dt_case *cand, unsigned *budget, const char *kind)
{
    char why[256], k[24];
    if (*budget == 0)
        return false;
    (*budget)--;
    if (!differs(r, cand, why, sizeof(why)))
        return false;
    kind_of(why, k);
    if (strcmp(k, kind))
        return false;
    memcpy(&g_case, cand, sizeof(g_case));
    return true;
}

static void shrink(struct run *r, const char *why)
{
    char kind[24];
    kind_of(why, kind);
    unsigned budget = 3000;
    bool progress = true;
    while (progress && budget) {
        progress = false;
        for (unsigned i = g_case.nitems; i-- > 0 && budget;) {
            if (i >= g_case.nitems)
                continue;
            const struct dt_item *it = &g_case.items[i];
            if (it->kind == IT_END)
                continue;
            memcpy(&g_work, &g_case, sizeof(g_work));
            if (it->kind == IT_BEGIN) {
                unsigned e = block_end(&g_work, i);
                drop(&g_work, i, e - i + 1);
                if (try_case(r, &g_work, &budget, kind)) {
                    progress = true;
                    continue;
                }
                memcpy(&g_work, &g_case, sizeof(g_work));
                drop(&g_work, e, 1);
                drop(&g_work, i, 1);
                if (try_case(r, &g_work, &budget, kind)) {
                    progress = true;
                }
                continue;
            }
            drop(&g_work, i, 1);
            if (try_case(r, &g_work, &budget, kind)) {
                progress = true;
                continue;
            }
            if (it->main > 0) { /* without its setup */
                memcpy(&g_work, &g_case, sizeof(g_work));
                struct dt_item *w = &g_work.items[i];
                unsigned k = w->main;
                memmove(w->bytes, w->bytes + k, w->len - k);
                w->len = (uint8_t)(w->len - k);
                w->main = 0;
                w->rel_at = (uint8_t)(w->rel_at - (w->riprel ? k : 0));
                w->rel_end = (uint8_t)(w->rel_end - (w->riprel ? k : 0));
                if (try_case(r, &g_work, &budget, kind))
                    progress = true;
            }
        }
    }
    /* plain initial values where they do not matter */
    for (unsigned i = 0; i < 16 && budget; i++) {
        if (i == 4 || g_case.gpr[i] == 0)
            continue;
        memcpy(&g_work, &g_case, sizeof(g_work));
        g_work.gpr[i] = 0;
        try_case(r, &g_work, &budget, kind);
    }
    memcpy(&g_work, &g_case, sizeof(g_work));
    g_work.rflags = 0x202;
    if (g_work.rflags != g_case.rflags)
        try_case(r, &g_work, &budget, kind);
    /* the x87 and SSE state at its reset values, or at least XMM zeroed */
    memcpy(&g_work, &g_case, sizeof(g_work));
    memset(&g_work.fpu, 0, sizeof(g_work.fpu));
    g_work.fpu.fcw = 0x37f;
    g_work.fpu.mxcsr = 0x1f80;
    if (!try_case(r, &g_work, &budget, kind)) {
        memcpy(&g_work, &g_case, sizeof(g_work));
        memset(g_work.fpu.xmm, 0, sizeof(g_work.fpu.xmm));
        try_case(r, &g_work, &budget, kind);
    }
    dt_assemble(&g_case);
}

/* ---- reporting ---- */

static void repro(const struct run *r, const struct dt_case *c)
{
    printf("  reproduce: build/difftest/difftest --engine-a %s --engine-b %s --seed 0x%llx "
           "--start %llu --cases 1 --max-len %u%s%s%s --verbose\n",
           r->o.ea, r->o.eb, (unsigned long long)c->seed, (unsigned long long)c->index,
           r->o.max_len, r->o.only >= 0 ? " --only " : "",
           r->o.only >= 0 ? dt_family_name[r->o.only] : "", r->o.allow_gp ? " --allow-gp" : "");
}

static void report(struct run *r, const char *why)
{
    char why2[1024];
    printf("  mismatch: %s seed 0x%llx case %llu: %s\n", dt_family_name[g_case.family],
           (unsigned long long)g_case.seed, (unsigned long long)g_case.index, why);
    repro(r, &g_case);
    /* is the oracle itself deterministic? */
    dt_machine_run(r->a, &g_case, &g_oc);
    if (!dt_compare(&g_case, &g_oa, &g_oc, why2, sizeof(why2)))
        printf("  note: %s is not deterministic on this case: %s\n", r->o.ea, why2);
    if (r->o.shrink) {
        unsigned before = g_case.nitems;
        shrink(r, why);
        printf("  minimized from %u to %u items:\n", before, g_case.nitems);
    }
    dt_print_case(&g_case, print_line);
    dt_machine_run(r->a, &g_case, &g_oa);
    dt_machine_run(r->b, &g_case, &g_ob);
    dt_print_outcome(r->o.ea, &g_oa);
    dt_print_outcome(r->o.eb, &g_ob);
    if (!dt_compare(&g_case, &g_oa, &g_ob, why2, sizeof(why2)))
        printf("  differences: %s\n", why2);
    else
        printf("  (the minimized case no longer differs)\n");
    if (r->o.save) {
        char note[1100];
        snprintf(note, sizeof(note), "%s vs %s: %s", r->o.ea, r->o.eb, why2);
        if (dt_regress_save(r->o.save, &g_case, &g_oa, note) == 0)
            printf("  saved to %s\n", r->o.save);
    }
}

/* The first difference's field name, digits dropped (xmm3 -> xmm). */
static void kind_of(const char *why, char key[24])
{
    unsigned n = 0;
    for (const char *p = why; *p && *p != ' ' && n + 1 < 24; p++)
        if (*p < '0' || *p > '9' || p == why + 1)
            key[n++] = *p; /* keeps cr2, r8 -> r */
    key[n] = 0;
}

static bool count_kind(struct run *r, const char *fam_why)
{
    char key[40], k[24];
    const char *at = strchr(fam_why, '@');
    kind_of(at + 1, k);
    snprintf(key, sizeof(key), "%.*s@%s", (int)(at - fam_why), fam_why, k);
    for (unsigned i = 0; i < r->nkinds; i++) {
        if (!strcmp(r->kinds[i].key, key)) {
            r->kinds[i].n++;
            return false;
        }
    }
    if (r->nkinds < sizeof(r->kinds) / sizeof(r->kinds[0])) {
        snprintf(r->kinds[r->nkinds].key, sizeof(r->kinds[0].key), "%s", key);
        r->kinds[r->nkinds++].n = 1;
    }
    return true;
}

/* The harness rewrites the code page from the host between cases: an
 * engine must not run instructions it decoded before (set_state follows
 * every rewrite, as it follows a migration's RAM load). */
static bool fresh_code(struct dt_machine *m)
{
    static struct dt_case c;
    static struct dt_outcome o;
    for (uint8_t v = 1; v <= 2; v++) {
        const uint8_t code[] = {0xb8, v, 0, 0, 0, 0x0f, 0x0b}; /* mov eax, v; ud2 */
        memset(&c, 0, sizeof(c));
        memcpy(c.code, code, sizeof(code));
        c.code_len = sizeof(code);
        c.gpr[4] = DT_RSP0;
        c.rflags = 0x202;
        c.fpu.fcw = 0x37f;
        c.fpu.mxcsr = 0x1f80;
        dt_machine_run(m, &c, &o);
        if (o.vector != 6 || o.gpr[0] != v)
            return false;
    }
    return true;
}

/* ---- regressions ---- */

static void replay_one(void *ctx, struct dt_case *c, struct dt_outcome *ref, const char *name)
{
    struct run *r = ctx;
    char why[1024];
    bool ok = true;
    if (r->a && !strcmp(dt_machine_engine(r->a), "kvm")) {
        dt_machine_run(r->a, c, &g_oa);
        if (!dt_compare(c, ref, &g_oa, why, sizeof(why))) {
            printf("  regression %s: this hardware differs from the recorded outcome: %s\n", name,
                   why);
            r->reg_hw_fail++;
        }
    }
    if (r->b) {
        dt_machine_run(r->b, c, &g_ob);
        if (!dt_compare(c, ref, &g_ob, why, sizeof(why))) {
            printf("  regression %s: %s differs: %s\n", name, dt_machine_engine(r->b), why);
            ok = false;
        }
    }
    if (ok)
        r->reg_pass++;
    else
        r->reg_fail++;
}

static void replay(struct run *r)
{
    if (!r->o.replay)
        return;
    int n = dt_regress_load(r->o.replay, replay_one, r);
    if (n == -2) {
        printf("SKIP: %s/regressions: %s not found\n", r->o.name, r->o.replay);
        return;
    }
    if (n < 0 || r->reg_hw_fail) {
        printf("FAIL: %s/regressions: %s%s\n", r->o.name, n < 0 ? "cannot read " : "",
               n < 0 ? r->o.replay : "recorded outcomes differ from this hardware");
        return;
    }
    if (!r->b)
        printf("SKIP: %s/regressions: %s engine not available (%d recorded outcomes "
               "checked against %s)\n", r->o.name, r->o.eb, n, dt_machine_engine(r->a));
    else if (r->reg_fail)
        printf("FAIL: %s/regressions: %u of %d cases differ on %s\n", r->o.name, r->reg_fail, n,
               r->o.eb);
    else
        printf("PASS: %s/regressions: %d cases\n", r->o.name, n);
}

int main(int argc, char **argv)
{
    static struct run r;
    char why[300];

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (parse(argc, argv, &r.o) < 0)
        return 2;
    r.form_seen = calloc(dt_nforms(), 1);
    if (r.o.stats)
        r.form_stop = calloc(dt_nforms(), sizeof(*r.form_stop));
    /* Without the oracle the recorded outcomes still check engine B; without
     * engine B they are checked against the oracle. */
    if (dt_machine_create(&r.a, r.o.ea, why, sizeof(why)) < 0) {
        r.a = NULL;
        printf("SKIP: %s: %s\n", r.o.name, why);
    }
    if (dt_machine_create(&r.b, r.o.eb, why, sizeof(why)) < 0) {
        r.b = NULL;
        printf("SKIP: %s/%s: %s\n", r.o.name, r.o.eb, why);
    }
    if ((r.a && !fresh_code(r.a)) || (r.b && !fresh_code(r.b))) {
        printf("FAIL: %s/setup: an engine ran stale code after the host rewrote the code page "
               "and set_state\n", r.o.name);
        dt_machine_destroy(r.b);
        dt_machine_destroy(r.a);
        return 1;
    }
    if (r.a || r.b)
        replay(&r);
    if (!r.a || !r.b) {
        dt_machine_destroy(r.b);
        dt_machine_destroy(r.a);
        return r.reg_hw_fail || r.reg_fail ? 1 : 0;
    }

    struct dt_gen_opts go = {r.o.max_len, r.o.only, r.o.allow_gp};
    uint64_t t0 = host_time_ns();
    if (r.o.cases)
        printf("  %s: %s vs %s, seed 0x%llx, cases %llu-%llu, max length %u\n", r.o.name, r.o.ea,
               r.o.eb, (unsigned long long)r.o.seed, (unsigned long long)r.o.start,
               (unsigned long long)(r.o.start + r.o.cases - 1), r.o.max_len);
    for (uint64_t i = r.o.start; i < r.o.start + r.o.cases; i++) {
        dt_generate(&g_case, r.o.seed, i, &go);
        for (unsigned k = 0; k < g_case.nitems; k++)
            if (g_case.items[k].kind == IT_INSN)
                r.form_seen[g_case.items[k].form] = 1;
        r.fam[g_case.family].cases++;
        bool diff = differs(&r, &g_case, why, sizeof(why));
        if (g_oa.vector == 6 && g_oa.rip == DT_CODE + g_case.code_len - 2) {
            r.to_end++;
        } else {
            unsigned v = g_oa.vector >= 0 ? (unsigned)g_oa.vector : DT_NVEC;
            r.vectors[v]++;
            for (unsigned k = g_case.ninsns; r.form_stop && k-- > 0;) {
                const struct dt_insn *in = &g_case.insns[k];
                if (in->addr <= g_oa.rip) {
                    if (in->item >= 0 && g_case.items[in->item].kind == IT_INSN)
                        r.form_stop[g_case.items[in->item].form][v]++;
                    break;
                }
            }
        }
        if (r.o.verbose) {
            printf("  case %llu: %s, %u items, %u bytes\n", (unsigned long long)i,
                   dt_family_name[g_case.family], g_case.nitems, g_case.code_len);
            dt_print_case(&g_case, print_line);
            dt_print_outcome(r.o.ea, &g_oa);
            dt_print_outcome(r.o.eb, &g_ob);
        }
        if (r.o.record && dt_regress_save(r.o.record, &g_case, &g_oa, "recorded") < 0)
            r.o.record = NULL;
        if (!diff)
            continue;
        r.mismatches++;
        r.fam[g_case.family].fails++;
        /* the first mismatch of each kind (family and first differing
         * field: likely different bugs) is shrunk and reported, up to
         * --max-report of them */
        char kf[40];
        snprintf(kf, sizeof(kf), "%s@%.24s", dt_family_name[g_case.family], why);
        if (count_kind(&r, kf) && r.reported < r.o.max_report) {
            r.reported++;
            report(&r, why);
        }
    }
    double secs = (double)(host_time_ns() - t0) / 1e9;

    unsigned seen = 0;
    for (unsigned i = 0; i < dt_nforms(); i++)
        seen += r.form_seen[i];
    for (unsigned f = 0; f < FAM_COUNT; f++) {
        if (!r.fam[f].cases)
            continue;
        if (r.fam[f].fails)
            printf("FAIL: %s/%s: %llu of %llu cases differ (%s vs %s)\n", r.o.name,
                   dt_family_name[f],
                   (unsigned long long)r.fam[f].fails, (unsigned long long)r.fam[f].cases, r.o.ea,
                   r.o.eb);
        else
            printf("PASS: %s/%s: %llu cases (%s vs %s)\n", r.o.name, dt_family_name[f],
                   (unsigned long long)r.fam[f].cases, r.o.ea, r.o.eb);
    }
    if (!r.o.cases)
        goto out;
    printf("  %s: %llu cases in %.1f s, %u of %u instruction forms covered, %llu mismatches "
           "(seed 0x%llx)\n",
           r.o.name, (unsigned long long)r.o.cases, secs, seen, dt_nforms(),
           (unsigned long long)r.mismatches, (unsigned long long)r.o.seed);
    if (r.nkinds) {
        printf("  first differences:");
        for (unsigned i = 0; i < r.nkinds; i++)
            printf(" %s x%llu", r.kinds[i].key, (unsigned long long)r.kinds[i].n);
        printf("\n");
    }
    printf("  ended: %llu at the final ud2", (unsigned long long)r.to_end);
    for (unsigned v = 0; v <= DT_NVEC; v++)
        if (r.vectors[v])
            printf(v < DT_NVEC ? ", %llu #%u" : ", %llu other", (unsigned long long)r.vectors[v],
                   v);
    printf("\n");
    for (unsigned i = 0; r.form_stop && i < dt_nforms(); i++) {
        unsigned tot = 0;
        for (unsigned v = 0; v <= DT_NVEC; v++)
            tot += r.form_stop[i][v];
        if (!tot)
            continue;
        printf("  stops at %-32s %5u:", dt_form_get(i)->name, tot);
        for (unsigned v = 0; v <= DT_NVEC; v++)
            if (r.form_stop[i][v])
                printf(" #%u x%u", v, r.form_stop[i][v]);
        printf("\n");
    }
out:
    free(r.form_stop);
    dt_machine_destroy(r.b);
    dt_machine_destroy(r.a);
    free(r.form_seen);
    return r.mismatches || r.reg_fail || r.reg_hw_fail ? 1 : 0;
}
