/* Tests for the multiboot v1 loader (boot/multiboot.c): images are built in
 * memory (ELF32, ELF64, a.out kludge) and loaded into a small guest. */
#include <stdlib.h>

#include "boot/multiboot.h"
#include "bytes.h"
#include "test.h"

#define RAM (64ull << 20)

static const char *rstr(const struct guest_mem *m, uint64_t gpa)
{
    const char *p = gmem_ptr(m, gpa, 1);
    return p ? p : "(not RAM)";
}

static void mb_header(uint8_t *p, uint32_t flags)
{
    w32(p, MULTIBOOT_HEADER_MAGIC);
    w32(p + 4, flags);
    w32(p + 8, (uint32_t)(0u - MULTIBOOT_HEADER_MAGIC - flags));
}

/* Fills n bytes with a recognizable pattern that depends on seed. */
static void pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + seed * 13 + 1);
}

static int check_pattern(const struct guest_mem *m, uint64_t gpa, size_t n, unsigned seed)
{
    const uint8_t *p = gmem_ptr(m, gpa, n);
    if (!p)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)(i * 7 + seed * 13 + 1))
            return 0;
    return 1;
}

static int all_bytes(const struct guest_mem *m, uint64_t gpa, size_t n, uint8_t v)
{
    const uint8_t *p = gmem_ptr(m, gpa, n);
    if (!p)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

/* ---- image builders ---- */

struct seg {
    uint64_t paddr, vaddr;
    uint32_t filesz, memsz;
    unsigned seed;
};

#define IMG_MAX 0x6000
#define SEG_DATA 0x1000 /* file offset of the first segment's data */

/* An ELF32 or ELF64 executable with the given segments; the multiboot
 * header (flags) goes 0x40 bytes into the first segment's data. Segment
 * data is laid out at SEG_DATA, each at the next 0x1000 boundary. */
static size_t build_elf(uint8_t *img, int is64, uint64_t entry, const struct seg *s, unsigned n,
                        uint32_t mb_flags)
{
    size_t off = SEG_DATA, end = 0;
    unsigned phoff = is64 ? 64 : 52, phsz = is64 ? 56 : 32;

    memset(img, 0, IMG_MAX);
    img[0] = 0x7f;
    img[1] = 'E';
    img[2] = 'L';
    img[3] = 'F';
    img[4] = is64 ? 2 : 1;
    img[5] = 1;
    img[6] = 1;
    w16(img + 16, 2);
    w16(img + 18, is64 ? 62 : 3);
    w32(img + 20, 1);
    if (is64) {
        w64(img + 24, entry);
        w64(img + 32, phoff);
        w16(img + 52, 64);
        w16(img + 54, (uint16_t)phsz);
        w16(img + 56, (uint16_t)n);
    } else {
        w32(img + 24, (uint32_t)entry);
        w32(img + 28, phoff);
        w16(img + 40, 52);
        w16(img + 42, (uint16_t)phsz);
        w16(img + 44, (uint16_t)n);
    }
    for (unsigned i = 0; i < n; i++) {
        uint8_t *ph = img + phoff + i * phsz;
        w32(ph, 1); /* PT_LOAD */
        if (is64) {
            w32(ph + 4, 7);
            w64(ph + 8, off);
            w64(ph + 16, s[i].vaddr);
            w64(ph + 24, s[i].paddr);
            w64(ph + 32, s[i].filesz);
            w64(ph + 40, s[i].memsz);
            w64(ph + 48, 0x1000);
        } else {
            w32(ph + 4, (uint32_t)off);
            w32(ph + 8, (uint32_t)s[i].vaddr);
            w32(ph + 12, (uint32_t)s[i].paddr);
            w32(ph + 16, s[i].filesz);
            w32(ph + 20, s[i].memsz);
            w32(ph + 24, 7);
            w32(ph + 28, 0x1000);
        }
        pattern(img + off, s[i].filesz, s[i].seed);
        end = off + s[i].filesz;
        off = (end + 0xfff) & ~(size_t)0xfff;
    }
    mb_header(img + SEG_DATA + 0x40, mb_flags);
    return end;
}

/* Rewrites the pattern bytes that the header replaced, for checking. */
static void header_bytes(uint8_t *expect, uint32_t flags)
{
    mb_header(expect, flags);
}

struct guest {
    struct guest_mem mem;
    struct x86_cpu_state bsp;
    struct multiboot_layout lay;
};

static int guest_init(struct guest *g)
{
    memset(g, 0, sizeof(*g));
    if (gmem_init(&g->mem, RAM) < 0) {
        printf("  gmem_init: %s\n", err_msg());
        return -1;
    }
    return 0;
}

static int load(struct guest *g, const uint8_t *img, size_t len, const struct multiboot_args *a)
{
    err_clear();
    return multiboot_load_layout(&g->mem, img, len, a, &g->bsp, &g->lay);
}

static int err_has(const char *s)
{
    if (strstr(err_msg(), s))
        return 1;
    printf("  error message \"%s\" lacks \"%s\"\n", err_msg(), s);
    return 0;
}

static uint8_t img[IMG_MAX];

/* Checks the bytes of a segment laid out by build_elf (header included). */
static int check_first_segment(const struct guest_mem *m, uint64_t paddr, uint32_t filesz,
                               unsigned seed, uint32_t mb_flags)
{
    uint8_t expect[0x2000], hdr[12];
    const uint8_t *p = gmem_ptr(m, paddr, filesz);
    pattern(expect, filesz, seed);
    header_bytes(hdr, mb_flags);
    memcpy(expect + 0x40, hdr, 12);
    return p && memcmp(p, expect, filesz) == 0;
}

static void test_elf32(void)
{
    struct guest g;
    struct seg s[2] = {{0x100000, 0x100000, 0x800, 0x800, 1},
                       {0x200000, 0x200000, 0x100, 0x3000, 2}};
    size_t len = build_elf(img, 0, 0x100080, s, 2, 3);
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    /* BSS must be zeroed even over old contents. */
    memset(gmem_ptr(&g.mem, 0x200000, 0x3000), 0xaa, 0x3000);
    CHECK_EQ(load(&g, img, len, NULL), 0);
    CHECK(check_first_segment(&g.mem, 0x100000, 0x800, 1, 3));
    CHECK(check_pattern(&g.mem, 0x200000, 0x100, 2));
    CHECK(all_bytes(&g.mem, 0x200100, 0x3000 - 0x100, 0));
    CHECK(all_bytes(&g.mem, 0x203000, 0x10, 0)); /* nothing written past memsz */
    CHECK_EQ(g.lay.entry, 0x100080);
    CHECK_EQ(g.lay.info_addr, MULTIBOOT_INFO_AREA);
    CHECK_EQ(g.lay.kernel_start, 0x100000);
    CHECK_EQ(g.lay.kernel_end, 0x203000);
    CHECK_EQ(g.lay.module_start, 0);
    CHECK_EQ(g.bsp.rip, 0x100080);
    CHECK_EQ(g.bsp.gpr[X86_RAX], MULTIBOOT_BOOTLOADER_MAGIC);
    CHECK_EQ(g.bsp.gpr[X86_RBX], MULTIBOOT_INFO_AREA);
    CHECK_EQ(g.bsp.cr0 & 0x80000001u, 1); /* PE on, PG off */
    CHECK_EQ(g.bsp.seg[X86_CS].db, 1);
    CHECK_EQ(g.bsp.seg[X86_CS].base, 0);
    CHECK_EQ(g.bsp.seg[X86_CS].limit, 0xffffffffu);
    CHECK_EQ(g.bsp.rflags & 0x200, 0); /* IF clear */
    gmem_destroy(&g.mem);
}

static void test_elf64_paddr(void)
{
    struct guest g;
    /* A higher-half kernel: virtual 0xffffffff80100000, physical 1 MiB. The
     * entry point is virtual and is translated to its physical address. */
    struct seg s[2] = {{0x100000, 0xffffffff80100000ull, 0x1000, 0x1000, 3},
                       {0x101000, 0xffffffff80101000ull, 0x10, 0x5000, 4}};
    size_t len = build_elf(img, 1, 0xffffffff80100100ull, s, 2, 0);
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    memset(gmem_ptr(&g.mem, 0x101000, 0x6000), 0x55, 0x6000);
    CHECK_EQ(load(&g, img, len, NULL), 0);
    CHECK(check_first_segment(&g.mem, 0x100000, 0x1000, 3, 0));
    CHECK(check_pattern(&g.mem, 0x101000, 0x10, 4));
    CHECK(all_bytes(&g.mem, 0x101010, 0x5000 - 0x10, 0));
    CHECK(all_bytes(&g.mem, 0x106000, 0x1000, 0x55));
    CHECK_EQ(g.bsp.rip, 0x100100);
    CHECK_EQ(g.lay.entry, 0x100100);
    CHECK_EQ(g.lay.kernel_end, 0x106000);
    gmem_destroy(&g.mem);
}

static void test_elf64_identity(void)
{
    struct guest g;
    struct seg s[1] = {{0x400000, 0x400000, 0x1200, 0x1200, 5}};
    size_t len = build_elf(img, 1, 0x400000, s, 1, 1);
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(load(&g, img, len, NULL), 0);
    CHECK(check_first_segment(&g.mem, 0x400000, 0x1200, 5, 1));
    CHECK_EQ(g.bsp.rip, 0x400000);
    gmem_destroy(&g.mem);
}

/* A flat binary with the a.out kludge: the header at file offset 0x40. */
static size_t build_kludge(uint8_t *p, size_t len, uint32_t load_addr, uint32_t load_end,
                           uint32_t bss_end, uint32_t entry)
{
    uint32_t flags = MULTIBOOT_AOUT_KLUDGE | MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO;
    pattern(p, len, 6);
    mb_header(p + 0x40, flags);
    w32(p + 0x40 + 12, load_addr + 0x40); /* header_addr */
    w32(p + 0x40 + 16, load_addr);
    w32(p + 0x40 + 20, load_end);
    w32(p + 0x40 + 24, bss_end);
    w32(p + 0x40 + 28, entry);
    return len;
}

static int check_kludge_bytes(const struct guest_mem *m, uint64_t gpa, size_t n)
{
    uint8_t expect[0x3000];
    const uint8_t *g = gmem_ptr(m, gpa, n);
    memcpy(expect, img, n);
    return g && memcmp(g, expect, n) == 0;
}

static void test_aout_kludge(void)
{
    struct guest g;
    size_t len = build_kludge(img, 0x2000, 0x100000, 0, 0x104000, 0x100200);
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    memset(gmem_ptr(&g.mem, 0x100000, 0x5000), 0xcc, 0x5000);
    CHECK_EQ(load(&g, img, len, NULL), 0);
    CHECK(check_kludge_bytes(&g.mem, 0x100000, 0x2000)); /* load_end 0: whole file */
    CHECK(all_bytes(&g.mem, 0x102000, 0x2000, 0));
    CHECK(all_bytes(&g.mem, 0x104000, 0x1000, 0xcc));
    CHECK_EQ(g.bsp.rip, 0x100200);
    CHECK_EQ(g.lay.kernel_start, 0x100000);
    CHECK_EQ(g.lay.kernel_end, 0x104000);
    gmem_destroy(&g.mem);
}

static void test_aout_kludge_load_end(void)
{
    struct guest g;
    /* load_end_addr stops the copy short of the end of the file; no BSS. A
     * low load address (below the info area) is fine too. */
    size_t len = build_kludge(img, 0x2000, 0x20000, 0x21000, 0, 0x20100);
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    memset(gmem_ptr(&g.mem, 0x20000, 0x2000), 0xcc, 0x2000);
    CHECK_EQ(load(&g, img, len, NULL), 0);
    CHECK(check_kludge_bytes(&g.mem, 0x20000, 0x1000));
    CHECK(all_bytes(&g.mem, 0x21000, 0x1000, 0xcc));
    CHECK_EQ(g.bsp.rip, 0x20100);
    CHECK_EQ(g.lay.kernel_end, 0x21000);
    gmem_destroy(&g.mem);
}

/* An ELF image that also sets the address fields is loaded by them (the
 * spec: the boot loader "should use them instead of" the executable's). */
static void test_kludge_wins_over_elf(void)
{
    struct guest g;
    struct seg s[1] = {{0x300000, 0x300000, 0x100, 0x100, 7}};
    size_t len = build_elf(img, 0, 0x300000, s, 1, 0);
    uint8_t *h = img + SEG_DATA + 0x40;
    uint32_t flags = MULTIBOOT_AOUT_KLUDGE;
    mb_header(h, flags);
    w32(h + 12, 0x500040);
    w32(h + 16, 0x500000);
    w32(h + 20, 0x500100);
    w32(h + 24, 0);
    w32(h + 28, 0x500010);
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(load(&g, img, len, NULL), 0);
    CHECK_EQ(g.bsp.rip, 0x500010);
    CHECK(all_bytes(&g.mem, 0x300000, 0x100, 0));
    CHECK_EQ(r32(&g.mem, 0x500040), MULTIBOOT_HEADER_MAGIC);
    gmem_destroy(&g.mem);
}

static void test_info_block(void)
{
    struct guest g;
    struct seg s[1] = {{0x100000, 0x100000, 0x800, 0x800, 1}};
    struct multiboot_args a = {.cmdline = "rounds=5 mem=16M console=ttyS0"};
    size_t len = build_elf(img, 0, 0x100000, s, 1, 3);
    uint32_t info, mmap, mlen;
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(load(&g, img, len, &a), 0);
    info = g.lay.info_addr;
    CHECK_EQ(info, 0x9000);
    CHECK_EQ(r32(&g.mem, info + MBI_FLAGS),
             MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE | MULTIBOOT_INFO_MEM_MAP |
                 MULTIBOOT_INFO_BOOT_LOADER_NAME);
    CHECK_EQ(r32(&g.mem, info + MBI_MEM_LOWER), 640);
    CHECK_EQ(r32(&g.mem, info + MBI_MEM_UPPER), (RAM >> 10) - 1024);
    CHECK_STR(rstr(&g.mem, r32(&g.mem, info + MBI_CMDLINE)), "rounds=5 mem=16M console=ttyS0");
    CHECK_STR(rstr(&g.mem, r32(&g.mem, info + MBI_BOOT_LOADER_NAME)), "roam");
    CHECK_EQ(r32(&g.mem, info + MBI_MODS_COUNT), 0);
    CHECK_EQ(r32(&g.mem, info + MBI_BOOT_DEVICE), 0);
    CHECK_EQ(r32(&g.mem, info + MBI_DRIVES_LENGTH), 0);
    mmap = r32(&g.mem, info + MBI_MMAP_ADDR);
    mlen = r32(&g.mem, info + MBI_MMAP_LENGTH);
    CHECK_EQ(mlen, 4 * 24);
    CHECK(mmap >= MULTIBOOT_INFO_AREA && mmap + mlen <= MULTIBOOT_INFO_AREA_END);
    {
        static const uint64_t want[4][3] = {{0, 0x9fc00, 1},
                                            {0x9fc00, 0x400, 2},
                                            {0xf0000, 0x10000, 2},
                                            {0x100000, RAM - 0x100000, 1}};
        for (unsigned i = 0; i < 4; i++) {
            uint32_t e = mmap + i * 24;
            CHECK_EQ(r32(&g.mem, e), 20);
            CHECK_EQ(r64(&g.mem, e + 4), want[i][0]);
            CHECK_EQ(r64(&g.mem, e + 12), want[i][1]);
            CHECK_EQ(r32(&g.mem, e + 20), want[i][2]);
        }
    }
    /* Everything the info block points to lies in the info area. */
    CHECK(r32(&g.mem, info + MBI_CMDLINE) >= MULTIBOOT_INFO_AREA);
    CHECK(r32(&g.mem, info + MBI_CMDLINE) < MULTIBOOT_INFO_AREA_END);
    gmem_destroy(&g.mem);
}

static void test_cmdline_empty(void)
{
    struct guest g;
    struct seg s[1] = {{0x100000, 0x100000, 0x800, 0x800, 1}};
    struct multiboot_args a = {0};
    size_t len = build_elf(img, 0, 0x100000, s, 1, 3);
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(load(&g, img, len, &a), 0);
    CHECK(r32(&g.mem, 0x9000) & MULTIBOOT_INFO_CMDLINE);
    CHECK_STR(rstr(&g.mem, r32(&g.mem, 0x9000 + MBI_CMDLINE)), "");
    /* args == NULL behaves the same. */
    CHECK_EQ(load(&g, img, len, NULL), 0);
    CHECK_STR(rstr(&g.mem, r32(&g.mem, 0x9000 + MBI_CMDLINE)), "");
    gmem_destroy(&g.mem);
}

static void test_module(void)
{
    struct guest g;
    struct seg s[2] = {{0x100000, 0x100000, 0x800, 0x800, 1},
                       {0x200000, 0x200000, 0x10, 0x1234, 2}};
    static uint8_t m0[5000];
    struct multiboot_args a = {.cmdline = "x", .module = m0, .module_len = sizeof(m0),
                               .module_string = "initrd.img"};
    size_t len = build_elf(img, 0, 0x100000, s, 2, 3);
    uint32_t info, list;
    pattern(m0, sizeof(m0), 8);
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(load(&g, img, len, &a), 0);
    info = g.lay.info_addr;
    CHECK(r32(&g.mem, info) & MULTIBOOT_INFO_MODS);
    CHECK_EQ(r32(&g.mem, info + MBI_MODS_COUNT), 1);
    list = r32(&g.mem, info + MBI_MODS_ADDR);
    CHECK(list >= MULTIBOOT_INFO_AREA && list + 16 <= MULTIBOOT_INFO_AREA_END);
    /* The kernel ends at 0x201234: the module starts at the next page. */
    CHECK_EQ(r32(&g.mem, list), 0x202000);
    CHECK_EQ(r32(&g.mem, list + 4), 0x202000 + sizeof(m0));
    CHECK_STR(rstr(&g.mem, r32(&g.mem, list + 8)), "initrd.img");
    CHECK_EQ(r32(&g.mem, list + 12), 0);
    CHECK(check_pattern(&g.mem, 0x202000, sizeof(m0), 8));
    CHECK(all_bytes(&g.mem, 0x202000 + sizeof(m0), 0x100, 0));
    CHECK_EQ(g.lay.module_start, 0x202000);
    CHECK_EQ(g.lay.module_end, 0x202000 + sizeof(m0));
    CHECK_STR(rstr(&g.mem, r32(&g.mem, info + MBI_CMDLINE)), "x");
    CHECK(r32(&g.mem, info + MBI_CMDLINE) >= MULTIBOOT_INFO_AREA);
    CHECK(r32(&g.mem, info + MBI_CMDLINE) < MULTIBOOT_INFO_AREA_END);

    /* An empty module with no string: listed, empty, with an empty string. */
    a.module = NULL;
    a.module_len = 0;
    a.module_string = NULL;
    CHECK_EQ(load(&g, img, len, &a), 0);
    CHECK(!(r32(&g.mem, info) & MULTIBOOT_INFO_MODS));
    a.module_string = "";
    CHECK_EQ(load(&g, img, len, &a), 0);
    CHECK(r32(&g.mem, info) & MULTIBOOT_INFO_MODS);
    list = r32(&g.mem, info + MBI_MODS_ADDR);
    CHECK_EQ(r32(&g.mem, list), 0x202000);
    CHECK_EQ(r32(&g.mem, list + 4), 0x202000);
    CHECK_STR(rstr(&g.mem, r32(&g.mem, list + 8)), "");
    gmem_destroy(&g.mem);
}

static void test_module_after_low_kernel(void)
{
    struct guest g;
    static uint8_t m0[10];
    struct multiboot_args a = {.module = m0, .module_len = sizeof(m0), .module_string = "m"};
    size_t len = build_kludge(img, 0x2000, 0x20000, 0x21000, 0, 0x20100);
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(load(&g, img, len, &a), 0);
    /* Modules never go below 1 MiB. */
    CHECK_EQ(r32(&g.mem, r32(&g.mem, g.lay.info_addr + MBI_MODS_ADDR)), 0x100000);
    gmem_destroy(&g.mem);
}

/* A guest with RAM above 4 GiB (built by hand: a small low region and a
 * small high one) gets both in its memory map, and an ELF64 segment may
 * load there; its entry point still has to be below 4 GiB. */
static void test_high_ram(void)
{
    struct guest_mem m;
    struct x86_cpu_state bsp;
    uint8_t *low = calloc(1, 8 << 20), *high = calloc(1, 2 << 20);
    struct seg s[2] = {{0x100000, 0x100000, 0x100, 0x100, 1},
                       {0x100001000ull, 0x100001000ull, 0x100, 0x2000, 2}};
    size_t len;
    uint32_t mmap;

    if (!low || !high) {
        free(low);
        free(high);
        CHECK(0);
        return;
    }
    memset(&m, 0, sizeof(m));
    m.region[0] = (struct mem_region){0, 8 << 20, low};
    m.region[1] = (struct mem_region){0x100000000ull, 2 << 20, high};
    m.count = 2;
    m.ram_size = 10 << 20;
    len = build_elf(img, 1, 0x100000, s, 2, 0);
    err_clear();
    CHECK_EQ(multiboot_load(&m, img, len, NULL, &bsp), 0);
    CHECK(check_pattern(&m, 0x100001000ull, 0x100, 2));
    CHECK_EQ(r32(&m, 0x9000 + MBI_MEM_UPPER), 7 * 1024);
    CHECK_EQ(r32(&m, 0x9000 + MBI_MMAP_LENGTH), 5 * 24);
    mmap = r32(&m, 0x9000 + MBI_MMAP_ADDR);
    CHECK_EQ(r64(&m, mmap + 4 * 24 + 4), 0x100000000ull);
    CHECK_EQ(r64(&m, mmap + 4 * 24 + 12), 2 << 20);
    CHECK_EQ(r32(&m, mmap + 4 * 24 + 20), 1);
    CHECK_EQ(r64(&m, mmap + 3 * 24 + 12), (8 << 20) - 0x100000);

    /* An entry point in the high segment is refused. */
    len = build_elf(img, 1, 0x100001000ull, s, 2, 0);
    err_clear();
    CHECK_EQ(multiboot_load(&m, img, len, NULL, &bsp), -ENOEXEC);
    CHECK(err_has("not below 4 GiB"));
    free(low);
    free(high);
}

/* ---- errors: each is refused with a clear message and writes nothing ---- */

static void expect_refused(struct guest *g, const uint8_t *p, size_t len,
                           const struct multiboot_args *a, int code, const char *msg)
{
    CHECK_EQ(load(g, p, len, a), code);
    CHECK(err_has(msg));
    CHECK(all_bytes(&g->mem, 0, 4 << 20, 0));
}

static void test_err_no_header(void)
{
    struct guest g;
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    memset(img, 0, IMG_MAX);
    expect_refused(&g, img, IMG_MAX, NULL, -ENOEXEC, "no multiboot header in the first 8 KiB");
    /* A header that starts within 8 KiB but does not end within it. */
    mb_header(img + 8188, 0);
    expect_refused(&g, img, IMG_MAX, NULL, -ENOEXEC, "no multiboot header");
    memset(img, 0, IMG_MAX);
    mb_header(img + 8192, 0);
    expect_refused(&g, img, IMG_MAX, NULL, -ENOEXEC, "no multiboot header");
    /* Misaligned. */
    memset(img, 0, IMG_MAX);
    mb_header(img + 0x42, 0);
    expect_refused(&g, img, IMG_MAX, NULL, -ENOEXEC, "no multiboot header");
    expect_refused(&g, img, 0, NULL, -ENOEXEC, "no multiboot header");
    /* The last aligned position still found. */
    memset(img, 0, IMG_MAX);
    mb_header(img + 8180, 0);
    expect_refused(&g, img, IMG_MAX, NULL, -ENOEXEC, "not ELF");
    gmem_destroy(&g.mem);
}

static void test_err_checksum(void)
{
    struct guest g;
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    memset(img, 0, IMG_MAX);
    mb_header(img + 0x100, 3);
    w32(img + 0x108, 1234);
    expect_refused(&g, img, IMG_MAX, NULL, -ENOEXEC, "bad checksum");
    /* A magic with a bad checksum followed by a good header: the good one. */
    mb_header(img + 0x200, 0);
    expect_refused(&g, img, IMG_MAX, NULL, -ENOEXEC, "not ELF");
    gmem_destroy(&g.mem);
}

static void test_err_truncated_header(void)
{
    struct guest g;
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    memset(img, 0, IMG_MAX);
    mb_header(img + 0x40, 0);
    expect_refused(&g, img, 0x48, NULL, -ENOEXEC, "truncated");
    mb_header(img + 0x40, MULTIBOOT_AOUT_KLUDGE);
    expect_refused(&g, img, 0x40 + 20, NULL, -ENOEXEC, "truncated");
    gmem_destroy(&g.mem);
}

static void test_err_flags(void)
{
    struct guest g;
    struct seg s[1] = {{0x100000, 0x100000, 0x800, 0x800, 1}};
    size_t len;
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    len = build_elf(img, 0, 0x100000, s, 1, 3 | 8);
    expect_refused(&g, img, len, NULL, -ENOEXEC, "required flag bits 0x0008");
    len = build_elf(img, 0, 0x100000, s, 1, 0x8000);
    expect_refused(&g, img, len, NULL, -ENOEXEC, "does not support");
    /* Bit 2 (video mode) is accepted, and optional bits other than 16 ignored. */
    len = build_elf(img, 0, 0x100000, s, 1, 7 | 0x00040000);
    CHECK_EQ(load(&g, img, len, NULL), 0);
    gmem_destroy(&g.mem);
}

static void test_err_not_elf(void)
{
    struct guest g;
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    memset(img, 0x90, IMG_MAX);
    mb_header(img + 0x40, 3);
    expect_refused(&g, img, 0x1000, NULL, -ENOEXEC,
                   "not ELF and its header has no address fields");
    gmem_destroy(&g.mem);
}

static void test_err_elf_malformed(void)
{
    struct guest g;
    struct seg s[1] = {{0x100000, 0x100000, 0x800, 0x800, 1}};
    size_t len;
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    /* Truncated in the program headers, and in the segment data. */
    len = build_elf(img, 0, 0x100000, s, 1, 3);
    expect_refused(&g, img, 60, NULL, -ENOEXEC, "no multiboot header");
    w32(img + 28, 0x5f00); /* e_phoff near the end of the file */
    expect_refused(&g, img, len, NULL, -ENOEXEC, "program headers end past the end");
    len = build_elf(img, 0, 0x100000, s, 1, 3);
    expect_refused(&g, img, len - 1, NULL, -ENOEXEC, "truncated image: ELF segment 0");
    /* Wrong machine. */
    len = build_elf(img, 0, 0x100000, s, 1, 3);
    w16(img + 18, 62);
    expect_refused(&g, img, len, NULL, -ENOEXEC, "machine 62 is not i386");
    len = build_elf(img, 1, 0x100000, s, 1, 3);
    w16(img + 18, 3);
    expect_refused(&g, img, len, NULL, -ENOEXEC, "machine 3 is not x86-64");
    /* Not an executable, big-endian, bad class. */
    len = build_elf(img, 0, 0x100000, s, 1, 3);
    w16(img + 16, 3);
    expect_refused(&g, img, len, NULL, -ENOEXEC, "not an executable");
    len = build_elf(img, 0, 0x100000, s, 1, 3);
    img[5] = 2;
    expect_refused(&g, img, len, NULL, -ENOEXEC, "not little-endian");
    img[5] = 1;
    img[4] = 3;
    expect_refused(&g, img, len, NULL, -ENOEXEC, "unknown class");
    /* filesz > memsz */
    s[0].memsz = 0x100;
    len = build_elf(img, 0, 0x100000, s, 1, 3);
    expect_refused(&g, img, len, NULL, -ENOEXEC, "larger than its memory size");
    s[0].memsz = 0x800;
    /* No PT_LOAD. */
    len = build_elf(img, 0, 0x100000, s, 1, 3);
    w32(img + 52, 4);
    expect_refused(&g, img, len, NULL, -ENOEXEC, "no loadable segments");
    gmem_destroy(&g.mem);
}

static void test_err_placement(void)
{
    struct guest g;
    struct seg s[1] = {{0x100000, 0x100000, 0x800, 0x800, 1}};
    size_t len;
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    /* Past the end of RAM, straddling it, in the MMIO hole. */
    s[0].paddr = s[0].vaddr = RAM;
    len = build_elf(img, 0, RAM, s, 1, 3);
    expect_refused(&g, img, len, NULL, -EINVAL, "outside guest RAM");
    s[0].paddr = s[0].vaddr = RAM - 0x400;
    len = build_elf(img, 0, RAM - 0x400, s, 1, 3);
    expect_refused(&g, img, len, NULL, -EINVAL, "outside guest RAM");
    s[0].paddr = s[0].vaddr = 0xfee00000;
    len = build_elf(img, 0, 0xfee00000, s, 1, 3);
    expect_refused(&g, img, len, NULL, -EINVAL, "outside guest RAM");
    /* Over the info area. */
    s[0].paddr = s[0].vaddr = 0x8c00;
    len = build_elf(img, 0, 0x8c00, s, 1, 3);
    expect_refused(&g, img, len, NULL, -EINVAL, "overlaps the multiboot info area");
    s[0].paddr = s[0].vaddr = 0xf800;
    len = build_elf(img, 0, 0xf800, s, 1, 3);
    expect_refused(&g, img, len, NULL, -EINVAL, "overlaps the multiboot info area");
    /* Right after it is fine. */
    s[0].paddr = s[0].vaddr = 0x10000;
    len = build_elf(img, 0, 0x10000, s, 1, 3);
    CHECK_EQ(load(&g, img, len, NULL), 0);
    gmem_destroy(&g.mem);
}

static void test_err_entry(void)
{
    struct guest g;
    struct seg s[1] = {{0x100000, 0x100000, 0x800, 0x1000, 1}};
    size_t len;
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    len = build_elf(img, 0, 0x101000, s, 1, 3);
    expect_refused(&g, img, len, NULL, -ENOEXEC, "entry point 0x101000 is outside the loaded");
    len = build_elf(img, 0, 0xfffff, s, 1, 3);
    expect_refused(&g, img, len, NULL, -ENOEXEC, "outside the loaded image");
    len = build_elf(img, 1, 0xffffffff80000000ull, s, 1, 3);
    expect_refused(&g, img, len, NULL, -ENOEXEC, "outside the loaded image");
    /* Inside the BSS is inside the image. */
    len = build_elf(img, 0, 0x100fff, s, 1, 3);
    CHECK_EQ(load(&g, img, len, NULL), 0);
    gmem_destroy(&g.mem);
}

static void test_err_kludge(void)
{
    struct guest g;
    size_t len;
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    len = build_kludge(img, 0x2000, 0x100000, 0, 0, 0x103000);
    expect_refused(&g, img, len, NULL, -ENOEXEC, "outside the loaded image");
    len = build_kludge(img, 0x2000, 0x100000, 0x103000, 0, 0x100000);
    expect_refused(&g, img, len, NULL, -ENOEXEC, "truncated image");
    len = build_kludge(img, 0x2000, 0x100000, 0x0ff000, 0, 0x100000);
    expect_refused(&g, img, len, NULL, -ENOEXEC, "below load_addr");
    len = build_kludge(img, 0x2000, 0x100000, 0x101000, 0x100800, 0x100000);
    expect_refused(&g, img, len, NULL, -ENOEXEC, "bss_end_addr 0x100800 is below");
    len = build_kludge(img, 0x2000, 0x100000, 0, 0, 0x100000);
    w32(img + 0x40 + 16, 0x100041); /* load_addr > header_addr */
    mb_header(img + 0x40, MULTIBOOT_AOUT_KLUDGE | 3);
    expect_refused(&g, img, len, NULL, -ENOEXEC, "is above header_addr");
    len = build_kludge(img, 0x2000, 0x100000, 0, 0, 0x100000);
    w32(img + 0x40 + 16, 0xf0000); /* header more than its offset past load_addr */
    mb_header(img + 0x40, MULTIBOOT_AOUT_KLUDGE | 3);
    expect_refused(&g, img, len, NULL, -ENOEXEC, "more than the header's file offset");
    len = build_kludge(img, 0x2000, (uint32_t)RAM - 0x1000, 0, 0, (uint32_t)RAM - 0x1000);
    expect_refused(&g, img, len, NULL, -EINVAL, "outside guest RAM");
    len = build_kludge(img, 0x2000, 0x100000, 0, 0xfff00000u, 0x100000);
    expect_refused(&g, img, len, NULL, -EINVAL, "outside guest RAM");
    gmem_destroy(&g.mem);
}

static void test_err_modules_and_strings(void)
{
    struct guest g;
    struct seg s[1] = {{0x100000, 0x100000, 0x800, 0x800, 1}};
    struct multiboot_args a = {.module = img, .module_len = RAM, .module_string = "big"};
    size_t len = build_elf(img, 0, 0x100000, s, 1, 3);
    char *longline = malloc(40000);
    if (guest_init(&g) < 0 || !longline) {
        free(longline);
        CHECK(0);
        return;
    }
    expect_refused(&g, img, len, &a, -EINVAL, "the module (67108864 bytes at 0x101000)");
    /* One byte more than the RAM after the kernel (which ends at 0x101000). */
    a.module_len = RAM - 0x101000 + 1;
    expect_refused(&g, img, len, &a, -EINVAL, "does not fit in guest RAM below 0x4000000");
    a.module = NULL;
    a.module_len = 5;
    expect_refused(&g, img, len, &a, -EINVAL, "the module has no data");
    a.module_string = "x";
    a.module = img;
    a.module_len = 0;
    memset(longline, 'a', 39999);
    longline[39999] = 0;
    a.cmdline = longline;
    expect_refused(&g, img, len, &a, -E2BIG, "command line and module strings take 40002");
    /* The largest command line that fits. */
    longline[26000] = 0;
    CHECK_EQ(load(&g, img, len, &a), 0);
    CHECK_EQ(strlen(rstr(&g.mem, r32(&g.mem, 0x9000 + MBI_CMDLINE))), 26000);
    free(longline);
    gmem_destroy(&g.mem);
}

static const struct test_case tests[] = {
    TEST(test_elf32),
    TEST(test_elf64_paddr),
    TEST(test_elf64_identity),
    TEST(test_aout_kludge),
    TEST(test_aout_kludge_load_end),
    TEST(test_kludge_wins_over_elf),
    TEST(test_info_block),
    TEST(test_cmdline_empty),
    TEST(test_module),
    TEST(test_module_after_low_kernel),
    TEST(test_high_ram),
    TEST(test_err_no_header),
    TEST(test_err_checksum),
    TEST(test_err_truncated_header),
    TEST(test_err_flags),
    TEST(test_err_not_elf),
    TEST(test_err_elf_malformed),
    TEST(test_err_placement),
    TEST(test_err_entry),
    TEST(test_err_kludge),
    TEST(test_err_modules_and_strings),
};

TEST_MAIN("multiboot", tests)
