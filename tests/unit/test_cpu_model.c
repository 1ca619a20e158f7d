/* core/cpu_model and core/cpu_state helpers: roam-v1's CPUID table bit by
 * bit, APIC ID and topology placement, lookup semantics (KVM's and Intel's
 * out-of-range rule), and the reset / flat32 / equal helpers. */
#include "core/cpu_model.h"
#include "core/cpu_state.h"
#include "dev/lapic.h"
#include "test.h"

static unsigned roam_v1_table(struct cpuid_entry *tbl, unsigned apic_id, unsigned ncpus)
{
    const struct cpu_model *m = cpu_model_find("roam-v1");
    CHECK(m != NULL);
    unsigned n = cpu_model_cpuid(m, apic_id, ncpus, tbl, CPU_MODEL_MAX_CPUID);
    CHECK(n > 0 && n <= CPU_MODEL_MAX_CPUID);
    return n;
}

static void lookup(const struct cpuid_entry *tbl, unsigned n, uint32_t fn, uint32_t r[4])
{
    cpu_model_cpuid_lookup(tbl, n, fn, 0, r);
}

static void names(void)
{
    const struct cpu_model *m = cpu_model_find("roam-v1");
    CHECK(m != NULL);
    CHECK(cpu_model_default() == m);
    CHECK_STR(m->name, "roam-v1");
    CHECK_EQ(m->version, 2);
    CHECK_EQ(m->tsc_hz, 2000000000ull);
    CHECK(cpu_model_find("roam-v2") == NULL);
    CHECK(cpu_model_find("") == NULL);
}

static void vendor_and_levels(void)
{
    struct cpuid_entry tbl[CPU_MODEL_MAX_CPUID];
    unsigned n = roam_v1_table(tbl, 0, 1);
    uint32_t r[4];
    char vendor[13];

    lookup(tbl, n, 0, r);
    CHECK_EQ(r[0], 0x16); /* max basic leaf */
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = 0;
    CHECK_STR(vendor, "GenuineIntel");

    lookup(tbl, n, 0x80000000, r);
    CHECK_EQ(r[0], 0x80000008);
    lookup(tbl, n, 0x80000008, r);
    CHECK_EQ(r[0] & 0xff, 40);        /* physical address bits */
    CHECK_EQ((r[0] >> 8) & 0xff, 48); /* linear address bits */

    lookup(tbl, n, 0x40000000, r);
    CHECK_EQ(r[0], 0x40000000);
    char sig[13];
    memcpy(sig, &r[1], 4);
    memcpy(sig + 4, &r[2], 4);
    memcpy(sig + 8, &r[3], 4);
    sig[12] = 0;
    CHECK_STR(sig, "roamroamroam");

    char brand[49];
    for (unsigned i = 0; i < 3; i++) {
        lookup(tbl, n, 0x80000002 + i, r);
        memcpy(brand + 16 * i, r, 16);
    }
    brand[48] = 0;
    CHECK_STR(brand, "roam virtual CPU (roam-v1)");
}

/* Every feature bit, as cpu_model.c documents roam-v1. */
static void feature_bits(void)
{
    struct cpuid_entry tbl[CPU_MODEL_MAX_CPUID];
    unsigned n = roam_v1_table(tbl, 0, 1);
    uint32_t r[4];
    const unsigned edx_bits[] = {0 /* FPU */,   2 /* DE */,     3 /* PSE */,   4 /* TSC */,
                                 5 /* MSR */,   6 /* PAE */,    8 /* CX8 */,   9 /* APIC */,
                                 11 /* SEP */,  12 /* MTRR */,  13 /* PGE */,  15 /* CMOV */,
                                 16 /* PAT */,  19 /* CLFSH */, 23 /* MMX */,  24 /* FXSR */,
                                 25 /* SSE */,  26 /* SSE2 */};
    uint32_t edx = 0;
    for (unsigned i = 0; i < sizeof(edx_bits) / sizeof(edx_bits[0]); i++)
        edx |= 1u << edx_bits[i];

    lookup(tbl, n, 1, r);
    CHECK_EQ(r[0], 0x000006f1); /* family 6, model 15, stepping 1 */
    CHECK_EQ(r[3], edx);
    CHECK_EQ(r[2], 1u << 31); /* only the hypervisor bit */
    /* Explicitly absent. */
    CHECK((r[2] & (1u << 0)) == 0);  /* SSE3 */
    CHECK((r[2] & (1u << 13)) == 0); /* CX16 */
    CHECK((r[2] & (1u << 26)) == 0); /* XSAVE */
    CHECK((r[2] & (1u << 28)) == 0); /* AVX */
    CHECK((r[2] & (1u << 21)) == 0); /* x2APIC */
    CHECK((r[3] & (1u << 7)) == 0);  /* MCE */
    CHECK((r[3] & (1u << 14)) == 0); /* MCA */
    CHECK((r[3] & (1u << 17)) == 0); /* PSE36 */
    CHECK((r[3] & (1u << 28)) == 0); /* HTT with one CPU */

    lookup(tbl, n, 0x80000001, r);
    CHECK_EQ(r[3], (1u << 11) | (1u << 20) | (1u << 29)); /* SYSCALL NX LM */
    CHECK_EQ(r[2], 0);                                    /* no LAHF_LM, SVM */
    lookup(tbl, n, 0x80000007, r);
    CHECK_EQ(r[3], 0); /* no invariant TSC */

    /* No kvmclock or other paravirtual leaves. */
    lookup(tbl, n, 0x40000001, r);
    uint32_t top[4];
    lookup(tbl, n, 0x16, top);
    CHECK(memcmp(r, top, sizeof(r)) == 0); /* out of range: highest basic leaf */
}

/* Leaf 0x15: TSC = crystal * EBX / EAX, the crystal being the LAPIC timer's
 * clock; computed the way Linux's native_calibrate_tsc() does (32-bit kHz). */
static void tsc_leaves(void)
{
    struct cpuid_entry tbl[CPU_MODEL_MAX_CPUID];
    unsigned n = roam_v1_table(tbl, 0, 1);
    uint32_t r[4];

    CHECK_EQ(cpu_model_default()->bus_hz, LAPIC_BUS_HZ);
    lookup(tbl, n, 0x15, r);
    CHECK(r[0] != 0 && r[1] != 0);
    CHECK_EQ(r[2], LAPIC_BUS_HZ);
    uint32_t crystal_khz = r[2] / 1000;
    CHECK_EQ((uint64_t)(uint32_t)(crystal_khz * r[1]) / r[0] * 1000, cpu_model_default()->tsc_hz);
    lookup(tbl, n, 0x16, r);
    CHECK_EQ(r[0], cpu_model_default()->tsc_hz / 1000000);
    CHECK_EQ(r[2], LAPIC_BUS_HZ / 1000000);
    /* Leaves in between read as zeros (no cache, feature or topology leaves). */
    for (uint32_t leaf = 2; leaf < 0x15; leaf++) {
        lookup(tbl, n, leaf, r);
        CHECK(r[0] == 0 && r[1] == 0 && r[2] == 0 && r[3] == 0);
    }
}

static void apic_id_and_topology(void)
{
    struct cpuid_entry tbl[CPU_MODEL_MAX_CPUID];
    uint32_t r[4];
    unsigned n = roam_v1_table(tbl, 5, 8);

    lookup(tbl, n, 1, r);
    CHECK_EQ(r[1] >> 24, 5);          /* initial APIC ID */
    CHECK_EQ((r[1] >> 16) & 0xff, 8); /* logical processors */
    CHECK_EQ((r[1] >> 8) & 0xff, 8);  /* CLFLUSH line: 8 * 8 = 64 bytes */
    CHECK_EQ(r[1] & 0xff, 0);         /* brand index */
    CHECK(r[3] & (1u << 28));         /* HTT: the count is valid */

    n = roam_v1_table(tbl, 0, 1);
    lookup(tbl, n, 1, r);
    CHECK_EQ(r[1], 0x00010800);
    n = roam_v1_table(tbl, 255, 300);
    lookup(tbl, n, 1, r);
    CHECK_EQ(r[1] >> 24, 255);
    CHECK_EQ((r[1] >> 16) & 0xff, 255); /* saturates */
}

static void table_truncation(void)
{
    struct cpuid_entry tbl[CPU_MODEL_MAX_CPUID];
    unsigned full = cpu_model_cpuid(cpu_model_default(), 0, 1, tbl, CPU_MODEL_MAX_CPUID);
    struct cpuid_entry small[3];
    memset(small, 0xee, sizeof(small));
    /* Returns the count it needs, writes at most max. */
    CHECK_EQ(cpu_model_cpuid(cpu_model_default(), 0, 1, small, 2), full);
    CHECK_EQ(small[2].function, 0xeeeeeeee);
    CHECK_EQ(small[0].function, tbl[0].function);
}

static void lookup_semantics(void)
{
    struct cpuid_entry tbl[CPU_MODEL_MAX_CPUID];
    unsigned n = roam_v1_table(tbl, 0, 1);
    uint32_t r[4], l1[4], zero[4] = {0, 0, 0, 0};

    lookup(tbl, n, 0x16, l1);
    /* Above the basic maximum: the highest basic leaf (Intel). */
    lookup(tbl, n, 0x17, r);
    CHECK(memcmp(r, l1, sizeof(r)) == 0);
    lookup(tbl, n, 0x3fffffff, r);
    CHECK(memcmp(r, l1, sizeof(r)) == 0);
    /* Above the extended maximum. */
    lookup(tbl, n, 0x80000009, r);
    CHECK(memcmp(r, l1, sizeof(r)) == 0);
    /* A range without a maximum leaf. */
    lookup(tbl, n, 0xc0000000, r);
    CHECK(memcmp(r, l1, sizeof(r)) == 0);
    lookup(tbl, n, 0x40000100, r);
    CHECK(memcmp(r, l1, sizeof(r)) == 0);
    /* Within range but absent: zeros (no such leaf in roam-v1, so build
     * a table with a gap). */
    struct cpuid_entry gap[3] = {
        {0, 0, 0, 3, 0x756e6547, 0x6c65746e, 0x49656e69},
        {1, 0, 0, 0x6f1, 1, 2, 3},
        {3, 0, 0, 7, 7, 7, 7},
    };
    cpu_model_cpuid_lookup(gap, 3, 2, 0, r);
    CHECK(memcmp(r, zero, sizeof(r)) == 0);
    cpu_model_cpuid_lookup(gap, 3, 4, 5, r);
    CHECK_EQ(r[0], 7); /* leaf 3 is the highest basic one */
    /* Sub-leaves: an entry with a significant index matches only it. */
    struct cpuid_entry sub[3] = {
        {0, 0, 0, 7, 0x756e6547, 0x6c65746e, 0x49656e69},
        {7, 0, CPUID_FLAG_SIGNIFICANT_INDEX, 1, 2, 3, 4},
        {7, 1, CPUID_FLAG_SIGNIFICANT_INDEX, 5, 6, 7, 8},
    };
    cpu_model_cpuid_lookup(sub, 3, 7, 1, r);
    CHECK_EQ(r[0], 5);
    cpu_model_cpuid_lookup(sub, 3, 7, 0, r);
    CHECK_EQ(r[0], 1);
    cpu_model_cpuid_lookup(sub, 3, 7, 2, r);
    CHECK(memcmp(r, zero, sizeof(r)) == 0);
    /* Out of range redirects with the same sub-leaf. */
    cpu_model_cpuid_lookup(sub, 3, 9, 1, r);
    CHECK_EQ(r[0], 5);
    /* Without a significant index, ECX is ignored. */
    lookup(tbl, n, 0x80000001, l1);
    cpu_model_cpuid_lookup(tbl, n, 0x80000001, 99, r);
    CHECK(memcmp(r, l1, sizeof(r)) == 0);
    /* An AMD vendor answers zeros out of range, as AMD CPUs and KVM do. */
    struct cpuid_entry amd[2] = {
        {0, 0, 0, 1, 0x68747541, 0x444d4163, 0x69746e65},
        {1, 0, 0, 0xf71, 1, 2, 3},
    };
    cpu_model_cpuid_lookup(amd, 2, 5, 0, r);
    CHECK(memcmp(r, zero, sizeof(r)) == 0);
    /* An empty table answers zeros. */
    cpu_model_cpuid_lookup(NULL, 0, 1, 0, r);
    CHECK(memcmp(r, zero, sizeof(r)) == 0);
}

static void reset_state(void)
{
    struct x86_cpu_state s;
    struct cpuid_entry tbl[CPU_MODEL_MAX_CPUID];
    unsigned n = roam_v1_table(tbl, 0, 1);
    uint32_t r[4];

    x86_cpu_state_reset(&s);
    lookup(tbl, n, 1, r);
    CHECK_EQ(s.gpr[X86_RDX], r[0]); /* EDX = the CPUID signature */
    CHECK_EQ(s.rip, 0xfff0);
    CHECK_EQ(s.rflags, 2);
    CHECK_EQ(s.seg[X86_CS].selector, 0xf000);
    CHECK_EQ(s.seg[X86_CS].base, 0xffff0000);
    CHECK_EQ(s.seg[X86_CS].limit, 0xffff);
    CHECK_EQ(s.seg[X86_CS].base + s.rip, 0xfffffff0);
    CHECK_EQ(s.cr0, 0x60000010);
    CHECK_EQ(s.dr6, 0xffff0ff0);
    CHECK_EQ(s.dr7, 0x400);
    CHECK_EQ(s.fpu.fcw, 0x37f);
    CHECK_EQ(s.fpu.mxcsr, 0x1f80);
    CHECK_EQ(s.msr.pat, 0x0007040600070406ull);
    CHECK_EQ(s.msr.apic_base, 0xfee00900);
    CHECK_EQ(s.msr.efer, 0);
    CHECK_EQ(s.seg[X86_TR].type, 0xb);
    CHECK_EQ(s.seg[X86_LDTR].type, 0x2);
}

static void flat32_state(void)
{
    struct x86_cpu_state s;
    x86_cpu_state_flat32(&s, 0x100000, 0x2badb002, 0x9000);
    CHECK_EQ(s.rip, 0x100000);
    CHECK_EQ(s.gpr[X86_RAX], 0x2badb002);
    CHECK_EQ(s.gpr[X86_RBX], 0x9000);
    CHECK_EQ(s.cr0 & 0x80000001, 1); /* PE, no PG */
    CHECK_EQ(s.rflags & 0x20200, 0); /* IF and VM clear */
    for (unsigned i = X86_ES; i <= X86_GS; i++) {
        CHECK_EQ(s.seg[i].base, 0);
        CHECK_EQ(s.seg[i].limit, 0xffffffff);
        CHECK_EQ(s.seg[i].db, 1);
        CHECK_EQ(s.seg[i].present, 1);
        CHECK_EQ(s.seg[i].s, 1);
    }
    CHECK_EQ(s.seg[X86_CS].type & 0x8, 0x8); /* code */
    CHECK_EQ(s.seg[X86_DS].type & 0xa, 0x2); /* writable data */
}

static void equal_names_field(void)
{
    struct x86_cpu_state a, b;
    char what[120];

    x86_cpu_state_reset(&a);
    b = a;
    CHECK(x86_cpu_state_equal(&a, &b, what, sizeof(what)));
    CHECK_STR(what, "");
    b.seg[X86_FS].base = 0x1234;
    CHECK(!x86_cpu_state_equal(&a, &b, what, sizeof(what)));
    CHECK(strncmp(what, "fs.base", 7) == 0);
    b = a;
    b.fpu.xmm[7][3] ^= 1;
    CHECK(!x86_cpu_state_equal(&a, &b, what, sizeof(what)));
    CHECK_STR(what, "fpu.xmm[7]");
    b = a;
    b.msr.mtrr_var_mask[2] = 1;
    CHECK(!x86_cpu_state_equal(&a, &b, NULL, 0));
    CHECK(!x86_cpu_state_equal(&a, &b, what, sizeof(what)));
    CHECK(strncmp(what, "msr.mtrr_var_mask[2]", 20) == 0);
    b = a;
    b.events.interrupt_shadow = X86_SHADOW_MOV_SS;
    CHECK(!x86_cpu_state_equal(&a, &b, what, sizeof(what)));
    CHECK(strncmp(what, "events.interrupt_shadow", 23) == 0);
    b = a;
    b.tsc++;
    CHECK(!x86_cpu_state_equal(&a, &b, what, sizeof(what)));
    CHECK(strncmp(what, "tsc", 3) == 0);
    /* The first difference is the one named. */
    b = a;
    b.gpr[X86_R9] = 9;
    b.cr3 = 3;
    CHECK(!x86_cpu_state_equal(&a, &b, what, sizeof(what)));
    CHECK(strncmp(what, "r9", 2) == 0);
}

static unsigned dump_lines;
static void count_line(void *ctx, const char *line)
{
    (void)ctx;
    CHECK(line && line[0]);
    dump_lines++;
}

static void dump(void)
{
    struct x86_cpu_state s;
    x86_cpu_state_reset(&s);
    dump_lines = 0;
    x86_cpu_state_dump(&s, count_line, NULL);
    CHECK(dump_lines >= 15);
}

static const struct test_case tests[] = {
    TEST(names),        TEST(vendor_and_levels), TEST(feature_bits), TEST(apic_id_and_topology),
    TEST(table_truncation), TEST(lookup_semantics), TEST(tsc_leaves), TEST(reset_state), TEST(flat32_state),
    TEST(equal_names_field), TEST(dump),
};

TEST_MAIN("cpu_model", tests)
