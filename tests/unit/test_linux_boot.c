/* Tests for the Linux bzImage loader (boot/linux.c): a synthetic bzImage
 * (a setup header as boot.rst describes it, then a patterned "kernel") is
 * loaded into a small guest, and boot_params, the page tables, the GDT and
 * the entry state are checked. No real kernel is needed. */
#include <stdlib.h>

#include "boot/linux.h"
#include "bytes.h"
#include "test.h"

#define RAM (64ull << 20)
#define SETUP_SECTS 4
#define KOFF ((SETUP_SECTS + 1) * 512)
#define KLEN 0x3000
#define IMG_LEN (KOFF + KLEN)

static uint8_t img[IMG_LEN];

static uint8_t r8(const struct guest_mem *m, uint64_t gpa)
{
    const uint8_t *p = gmem_ptr(m, gpa, 1);
    return p ? *p : 0xee;
}

/* A bzImage like a 64-bit relocatable kernel of protocol 2.15. */
static void build(void)
{
    memset(img, 0, sizeof(img));
    img[LINUX_HDR_SETUP_SECTS] = SETUP_SECTS;
    w16(img + LINUX_HDR_BOOT_FLAG, 0xaa55);
    img[LINUX_HDR_JUMP] = 0xeb;
    img[LINUX_HDR_JUMP + 1] = 0x66; /* header ends at 0x268 */
    memcpy(img + LINUX_HDR_MAGIC, "HdrS", 4);
    w16(img + LINUX_HDR_VERSION, 0x020f);
    img[LINUX_HDR_LOADFLAGS] = LINUX_LOADED_HIGH;
    w32(img + LINUX_HDR_CODE32_START, 0x100000);
    w32(img + LINUX_HDR_INITRD_ADDR_MAX, 0x7fffffff);
    w32(img + LINUX_HDR_KERNEL_ALIGNMENT, 0x200000);
    img[LINUX_HDR_RELOCATABLE] = 1;
    w16(img + LINUX_HDR_XLOADFLAGS, 0x3); /* KERNEL_64, CAN_BE_LOADED_ABOVE_4G */
    w32(img + LINUX_HDR_CMDLINE_SIZE, 2047);
    w64(img + LINUX_HDR_PREF_ADDRESS, 0x1000000);
    w32(img + LINUX_HDR_INIT_SIZE, 0x400000);
    for (unsigned i = 0; i < KLEN; i++)
        img[KOFF + i] = (uint8_t)(i * 7 + 3);
}

struct guest {
    struct guest_mem mem;
    struct x86_cpu_state bsp;
    struct linux_layout lay;
};

static int guest_init(struct guest *g, uint64_t ram)
{
    memset(g, 0, sizeof(*g));
    if (gmem_init(&g->mem, ram) < 0) {
        printf("  gmem_init: %s\n", err_msg());
        return -1;
    }
    return 0;
}

static int load(struct guest *g, const struct linux_args *a)
{
    err_clear();
    return linux_load(&g->mem, img, sizeof(img), a, &g->bsp, &g->lay);
}

static int err_has(const char *s)
{
    if (strstr(err_msg(), s))
        return 1;
    printf("  error message \"%s\" lacks \"%s\"\n", err_msg(), s);
    return 0;
}

static int kernel_at(const struct guest_mem *m, uint64_t gpa)
{
    const uint8_t *p = gmem_ptr(m, gpa, KLEN);
    return p && memcmp(p, img + KOFF, KLEN) == 0;
}

static int all_zero(const struct guest_mem *m, uint64_t gpa, size_t n)
{
    const uint8_t *p = gmem_ptr(m, gpa, n);
    if (!p)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Walks the 4-level page tables from CR3 as the CPU would (2 MiB pages). */
static uint64_t translate(const struct guest_mem *m, uint64_t cr3, uint64_t va)
{
    uint64_t e = r64(m, (cr3 & ~0xfffull) + 8 * ((va >> 39) & 511));
    if (!(e & 1))
        return ~0ull;
    e = r64(m, (e & 0xffffffffff000ull) + 8 * ((va >> 30) & 511));
    if (!(e & 1) || (e & 0x80))
        return ~0ull;
    e = r64(m, (e & 0xffffffffff000ull) + 8 * ((va >> 21) & 511));
    if ((e & 0x83) != 0x83) /* present, writable, large */
        return ~0ull;
    return (e & 0xfffffffe00000ull) | (va & 0x1fffff);
}

static void test_probe(void)
{
    build();
    CHECK(linux_is_bzimage(img, sizeof(img)));
    CHECK(!linux_is_bzimage(img, LINUX_HDR_MAGIC + 3));
    CHECK(!linux_is_bzimage(NULL, 0));
    img[LINUX_HDR_MAGIC] = 'h';
    CHECK(!linux_is_bzimage(img, sizeof(img)));
}

static void test_load(void)
{
    struct guest g;
    struct linux_args a = {"console=ttyS0 quiet", NULL, 0, 0};
    const uint64_t bp = LINUX_BOOT_PARAMS;

    build();
    if (guest_init(&g, RAM) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(load(&g, &a), 0);
    /* Relocatable: at pref_address. */
    CHECK_EQ(g.lay.version, 0x020f);
    CHECK_EQ(g.lay.kernel_addr, 0x1000000);
    CHECK_EQ(g.lay.kernel_len, KLEN);
    CHECK_EQ(g.lay.kernel_end, 0x1400000);
    CHECK_EQ(g.lay.entry, 0x1000200);
    CHECK(kernel_at(&g.mem, 0x1000000));
    CHECK(all_zero(&g.mem, 0x100000, 0x1000)); /* nothing at 1 MiB */

    /* boot_params: the setup header copied, the loader's fields filled. */
    CHECK_EQ(r32(&g.mem, bp + LINUX_HDR_MAGIC), LINUX_MAGIC);
    CHECK_EQ(r8(&g.mem, bp + LINUX_HDR_SETUP_SECTS), SETUP_SECTS);
    CHECK_EQ(r32(&g.mem, bp + LINUX_HDR_INIT_SIZE), 0x400000);
    CHECK_EQ(r64(&g.mem, bp + LINUX_HDR_PREF_ADDRESS), 0x1000000);
    CHECK_EQ(r8(&g.mem, bp + LINUX_HDR_TYPE_OF_LOADER), 0xff);
    CHECK_EQ(r32(&g.mem, bp + LINUX_HDR_CODE32_START), 0x1000000);
    CHECK_EQ(r32(&g.mem, bp + LINUX_HDR_CMD_LINE_PTR), LINUX_CMDLINE);
    CHECK_EQ(r32(&g.mem, bp + LINUX_BP_EXT_CMD_LINE_PTR), 0);
    CHECK_STR((const char *)gmem_ptr(&g.mem, LINUX_CMDLINE, 1), "console=ttyS0 quiet");
    CHECK_EQ(r32(&g.mem, bp + LINUX_HDR_RAMDISK_IMAGE), 0);
    CHECK_EQ(r32(&g.mem, bp + LINUX_HDR_RAMDISK_SIZE), 0);
    CHECK_EQ(g.lay.initrd_start, 0);
    /* Beyond the header's end (0x268): zero. */
    CHECK(all_zero(&g.mem, bp + 0x268, 0x290 - 0x268));

    /* e820: low RAM, the EBDA and BIOS holes, RAM from 1 MiB. */
    CHECK_EQ(r8(&g.mem, bp + LINUX_BP_E820_ENTRIES), 4);
    {
        static const uint64_t want[4][3] = {{0, 0x9fc00, 1},
                                            {0x9fc00, 0x400, 2},
                                            {0xf0000, 0x10000, 2},
                                            {0x100000, RAM - 0x100000, 1}};
        for (unsigned i = 0; i < 4; i++) {
            uint64_t e = bp + LINUX_BP_E820_TABLE + 20 * i;
            CHECK_EQ(r64(&g.mem, e), want[i][0]);
            CHECK_EQ(r64(&g.mem, e + 8), want[i][1]);
            CHECK_EQ(r32(&g.mem, e + 16), want[i][2]);
        }
    }

    /* The 64-bit entry state. */
    CHECK_EQ(g.bsp.rip, 0x1000200);
    CHECK_EQ(g.bsp.gpr[X86_RSI], LINUX_BOOT_PARAMS);
    CHECK_EQ(g.bsp.rflags & 0x200, 0);
    CHECK_EQ(g.bsp.cr0 & 0x80000001u, 0x80000001u);
    CHECK_EQ(g.bsp.cr4 & 0x20, 0x20);
    CHECK_EQ(g.bsp.msr.efer & 0x500, 0x500);
    CHECK_EQ(g.bsp.cr3, LINUX_PAGE_TABLES);
    CHECK_EQ(g.bsp.seg[X86_CS].selector, LINUX_BOOT_CS);
    CHECK_EQ(g.bsp.seg[X86_CS].l, 1);
    CHECK_EQ(g.bsp.seg[X86_CS].db, 0);
    CHECK_EQ(g.bsp.seg[X86_CS].type, 0xb);
    for (unsigned s = X86_ES; s <= X86_GS; s++) {
        if (s == X86_CS)
            continue;
        CHECK_EQ(g.bsp.seg[s].selector, LINUX_BOOT_DS);
        CHECK_EQ(g.bsp.seg[s].base, 0);
        CHECK_EQ(g.bsp.seg[s].type, 0x3);
    }
    /* The GDT the selectors name: 64-bit code at 0x10, flat data at 0x18. */
    CHECK_EQ(g.bsp.gdtr.base, LINUX_GDT);
    CHECK(g.bsp.gdtr.limit >= 0x1f);
    CHECK_EQ(r64(&g.mem, LINUX_GDT), 0);
    CHECK_EQ(r64(&g.mem, LINUX_GDT + LINUX_BOOT_CS), 0x00af9b000000ffffull);
    CHECK_EQ(r64(&g.mem, LINUX_GDT + LINUX_BOOT_DS), 0x00cf93000000ffffull);
    /* Identity map of the first 4 GiB. */
    CHECK_EQ(translate(&g.mem, g.bsp.cr3, 0), 0);
    CHECK_EQ(translate(&g.mem, g.bsp.cr3, 0x1000200), 0x1000200);
    CHECK_EQ(translate(&g.mem, g.bsp.cr3, 0x7654321), 0x7654321);
    CHECK_EQ(translate(&g.mem, g.bsp.cr3, 0xfee00030), 0xfee00030);
    CHECK_EQ(translate(&g.mem, g.bsp.cr3, 0xffffffff), 0xffffffff);
    CHECK_EQ(translate(&g.mem, g.bsp.cr3, 0x100000000ull), ~0ull);
    /* The tables, GDT and stack do not overlap boot_params or the command line. */
    CHECK(LINUX_PAGE_TABLES + 6 * 4096 <= LINUX_STACK_TOP - 0x1000);
    CHECK(LINUX_STACK_TOP <= LINUX_BOOT_PARAMS);
    gmem_destroy(&g.mem);
}

static void test_initrd(void)
{
    struct guest g;
    static uint8_t rd[10000];
    struct linux_args a = {NULL, rd, sizeof(rd), 0};
    const uint64_t bp = LINUX_BOOT_PARAMS;
    uint64_t want;

    for (unsigned i = 0; i < sizeof(rd); i++)
        rd[i] = (uint8_t)(i * 13 + 5);
    build();
    if (guest_init(&g, RAM) < 0) {
        CHECK(0);
        return;
    }
    /* As high as RAM allows, page aligned. */
    CHECK_EQ(load(&g, &a), 0);
    want = (RAM - sizeof(rd)) & ~0xfffull;
    CHECK_EQ(g.lay.initrd_start, want);
    CHECK_EQ(g.lay.initrd_end, want + sizeof(rd));
    CHECK_EQ(r32(&g.mem, bp + LINUX_HDR_RAMDISK_IMAGE), want);
    CHECK_EQ(r32(&g.mem, bp + LINUX_HDR_RAMDISK_SIZE), sizeof(rd));
    CHECK_EQ(r32(&g.mem, bp + LINUX_BP_EXT_RAMDISK_IMAGE), 0);
    CHECK(memcmp(gmem_ptr(&g.mem, want, sizeof(rd)), rd, sizeof(rd)) == 0);
    CHECK_STR((const char *)gmem_ptr(&g.mem, LINUX_CMDLINE, 1), "");

    /* Below initrd_addr_max when that is lower than the end of RAM. */
    w32(img + LINUX_HDR_INITRD_ADDR_MAX, 0x2000000 - 1);
    CHECK_EQ(load(&g, &a), 0);
    want = (0x2000000 - sizeof(rd)) & ~0xfffull;
    CHECK_EQ(g.lay.initrd_start, want);
    CHECK(g.lay.initrd_end <= 0x2000000);
    CHECK(memcmp(gmem_ptr(&g.mem, want, sizeof(rd)), rd, sizeof(rd)) == 0);

    /* No room between the kernel's decompression area and initrd_addr_max. */
    w32(img + LINUX_HDR_INITRD_ADDR_MAX, 0x1400000 + 0x1000);
    CHECK_EQ(load(&g, &a), -EINVAL);
    CHECK(err_has("initrd"));
    /* Bigger than RAM. */
    w32(img + LINUX_HDR_INITRD_ADDR_MAX, 0x7fffffff);
    a.initrd_len = RAM + 1; /* refused before a byte is read */
    CHECK_EQ(load(&g, &a), -EINVAL);
    CHECK(err_has("more memory"));
    gmem_destroy(&g.mem);
}

static void test_placement(void)
{
    struct guest g;

    build();
    if (guest_init(&g, RAM) < 0) {
        CHECK(0);
        return;
    }
    /* Not relocatable: at 1 MiB (it decompresses to pref_address). */
    img[LINUX_HDR_RELOCATABLE] = 0;
    CHECK_EQ(load(&g, NULL), 0);
    CHECK_EQ(g.lay.kernel_addr, 0x100000);
    CHECK_EQ(g.lay.entry, 0x100200);
    CHECK_EQ(g.lay.kernel_end, 0x1400000);
    CHECK(kernel_at(&g.mem, 0x100000));
    CHECK_EQ(g.bsp.rip, 0x100200);

    /* Relocatable but pref_address misaligned: 1 MiB, decompressing at
     * 2 MiB (the load address rounded up to kernel_alignment). */
    build();
    w64(img + LINUX_HDR_PREF_ADDRESS, 0x100000);
    w32(img + LINUX_HDR_KERNEL_ALIGNMENT, 0x200000);
    CHECK_EQ(load(&g, NULL), 0);
    CHECK_EQ(g.lay.kernel_addr, 0x100000);
    CHECK_EQ(g.lay.kernel_end, 0x200000 + 0x400000);

    /* pref_address beyond RAM: refused with a hint. */
    build();
    w64(img + LINUX_HDR_PREF_ADDRESS, 0x8000000);
    CHECK_EQ(load(&g, NULL), -EINVAL);
    CHECK(err_has("give the guest more memory"));
    /* init_size beyond RAM. */
    build();
    w32(img + LINUX_HDR_INIT_SIZE, 0x4000000);
    CHECK_EQ(load(&g, NULL), -EINVAL);
    CHECK(err_has("init_size"));
    gmem_destroy(&g.mem);
}

static void test_high_ram_e820(void)
{
    struct guest_mem m;
    struct x86_cpu_state bsp;
    uint8_t *low = calloc(1, 32 << 20), *high = calloc(1, 2 << 20);
    const uint64_t e = LINUX_BOOT_PARAMS + LINUX_BP_E820_TABLE + 4 * 20;

    if (!low || !high) {
        free(low);
        free(high);
        CHECK(0);
        return;
    }
    memset(&m, 0, sizeof(m));
    m.region[0] = (struct mem_region){0, 32 << 20, low};
    m.region[1] = (struct mem_region){0x100000000ull, 2 << 20, high};
    m.count = 2;
    m.ram_size = 34 << 20;
    build();
    err_clear();
    CHECK_EQ(linux_load(&m, img, sizeof(img), NULL, &bsp, NULL), 0);
    CHECK_EQ(r8(&m, LINUX_BOOT_PARAMS + LINUX_BP_E820_ENTRIES), 5);
    CHECK_EQ(r64(&m, e), 0x100000000ull);
    CHECK_EQ(r64(&m, e + 8), 2 << 20);
    CHECK_EQ(r32(&m, e + 16), 1);
    free(low);
    free(high);
}

static void test_errors(void)
{
    struct guest g;
    char longline[100];
    struct linux_args a = {longline, NULL, 0, 0};

    if (guest_init(&g, RAM) < 0) {
        CHECK(0);
        return;
    }
    build();
    img[LINUX_HDR_MAGIC] = 'X';
    CHECK_EQ(load(&g, NULL), -ENOEXEC);
    CHECK(err_has("HdrS"));

    build();
    w16(img + LINUX_HDR_VERSION, 0x020b);
    CHECK_EQ(load(&g, NULL), -ENOEXEC);
    CHECK(err_has("2.11 is too old"));

    build();
    w16(img + LINUX_HDR_XLOADFLAGS, 0x2);
    CHECK_EQ(load(&g, NULL), -ENOEXEC);
    CHECK(err_has("XLF_KERNEL_64"));

    build();
    w16(img + LINUX_HDR_BOOT_FLAG, 0);
    CHECK_EQ(load(&g, NULL), -ENOEXEC);
    CHECK(err_has("boot_flag"));

    build();
    img[LINUX_HDR_LOADFLAGS] = 0;
    CHECK_EQ(load(&g, NULL), -ENOEXEC);
    CHECK(err_has("zImage"));

    build();
    w32(img + LINUX_HDR_KERNEL_ALIGNMENT, 0x300000);
    CHECK_EQ(load(&g, NULL), -ENOEXEC);
    CHECK(err_has("kernel_alignment"));

    /* The file ends inside the setup code. */
    build();
    err_clear();
    CHECK_EQ(linux_load(&g.mem, img, KOFF, NULL, &g.bsp, NULL), -ENOEXEC);
    CHECK(err_has("truncated"));
    CHECK_EQ(linux_load(&g.mem, img, 0x240, NULL, &g.bsp, NULL), -ENOEXEC);
    CHECK(err_has("truncated"));

    /* A command line longer than cmdline_size. */
    build();
    w32(img + LINUX_HDR_CMDLINE_SIZE, 10);
    memset(longline, 'a', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = 0;
    CHECK_EQ(load(&g, &a), -E2BIG);
    CHECK(err_has("at most 10"));
    longline[10] = 0; /* exactly cmdline_size: accepted */
    CHECK_EQ(load(&g, &a), 0);

    gmem_destroy(&g.mem);
}

/* A refused image leaves guest memory as it was. */
static void test_refused_writes_nothing(void)
{
    struct guest g;
    static uint8_t rd[4096];
    struct linux_args a = {"x", rd, sizeof(rd), 0};

    if (guest_init(&g, RAM) < 0) {
        CHECK(0);
        return;
    }
    build();
    w32(img + LINUX_HDR_CMDLINE_SIZE, 0);
    CHECK_EQ(load(&g, &a), -E2BIG);
    CHECK(all_zero(&g.mem, 0, 0x30000));
    CHECK(all_zero(&g.mem, 0x1000000, KLEN));
    CHECK(all_zero(&g.mem, RAM - 0x2000, 0x2000));
    gmem_destroy(&g.mem);
}

static const struct test_case tests[] = {
    TEST(test_probe),
    TEST(test_load),
    TEST(test_initrd),
    TEST(test_placement),
    TEST(test_high_ram_e820),
    TEST(test_errors),
    TEST(test_refused_writes_nothing),
};

TEST_MAIN("linux_boot", tests)
