/* Tests for the PVH loader (boot/pvh.c): synthetic ELF kernels (like a
 * vmlinux: PT_LOAD segments at 16 MiB and a PT_NOTE segment with Xen's
 * notes) are loaded into a small guest, and the start info, module list,
 * memory map and entry state are checked. Images without the entry note,
 * with malformed notes, truncated or corrupted are refused with a message
 * and leave guest memory untouched. No real kernel is needed. */
#include <stdlib.h>

#include "boot/linux.h"
#include "boot/pvh.h"
#include "bytes.h"
#include "test.h"

#define RAM (64ull << 20)
#define IMG_MAX 0x5000
#define NOTES_OFF 0x200u /* file offset of the note segment */
#define SEG0_OFF 0x1000u
#define SEG0_PADDR 0x1000000ull
#define SEG0_LEN 0x2000u
#define SEG1_OFF 0x3000u
#define SEG1_PADDR 0x1200000ull
#define SEG1_FILESZ 0x800u
#define SEG1_MEMSZ 0x3000u
#define ENTRY 0x1000100u
#define NT_PHYS32_ENTRY PVH_XEN_ELFNOTE_PHYS32_ENTRY

static uint8_t img[IMG_MAX];
static size_t img_len;

/* How to build the image. */
struct spec {
    int is64;
    unsigned entry_size; /* 4 or 8; 0: no entry note */
    uint64_t entry;
    unsigned note_align; /* 4, or 8 for an 8-aligned note segment */
};

static const struct spec spec64 = {1, 8, ENTRY, 4};

static void pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + seed * 13 + 1);
}

/* Appends a note at *off: namesz, descsz, type, name, desc, each padded. */
static void note(size_t *off, unsigned align, const char *name, uint32_t type, const void *desc,
                 uint32_t descsz)
{
    uint32_t namesz = (uint32_t)strlen(name) + 1;
    w32(img + *off, namesz);
    w32(img + *off + 4, descsz);
    w32(img + *off + 8, type);
    *off += 12;
    memcpy(img + *off, name, namesz);
    *off += (namesz + align - 1) & ~(align - 1);
    memcpy(img + *off, desc, descsz);
    *off += (descsz + align - 1) & ~(align - 1);
}

/* Program header i (0, 1: PT_LOAD; 2: PT_NOTE). */
static void phdr(const struct spec *s, unsigned i, uint32_t type, uint64_t off, uint64_t vaddr,
                 uint64_t paddr, uint64_t filesz, uint64_t memsz, uint64_t align)
{
    if (s->is64) {
        uint8_t *ph = img + 64 + i * 56;
        w32(ph, type);
        w32(ph + 4, 7);
        w64(ph + 8, off);
        w64(ph + 16, vaddr);
        w64(ph + 24, paddr);
        w64(ph + 32, filesz);
        w64(ph + 40, memsz);
        w64(ph + 48, align);
    } else {
        uint8_t *ph = img + 52 + i * 32;
        w32(ph, type);
        w32(ph + 4, (uint32_t)off);
        w32(ph + 8, (uint32_t)vaddr);
        w32(ph + 12, (uint32_t)paddr);
        w32(ph + 16, (uint32_t)filesz);
        w32(ph + 20, (uint32_t)memsz);
        w32(ph + 24, 7);
        w32(ph + 28, (uint32_t)align);
    }
}

/* A vmlinux-like ELF: text at 16 MiB, data + BSS at 18 MiB, and notes
 * (GNU build id, Xen GUEST_OS, the entry note, Linux) as Linux has them. */
static void build(const struct spec *s)
{
    uint64_t kbase = s->is64 ? 0xffffffff80000000ull : 0xc0000000ull;
    size_t off = NOTES_OFF;
    uint8_t desc[8];
    unsigned a = s->note_align;

    memset(img, 0, sizeof(img));
    memcpy(img, "\177ELF", 4);
    img[4] = s->is64 ? 2 : 1;
    img[5] = 1;
    img[6] = 1;
    w16(img + 16, 2);                 /* ET_EXEC */
    w16(img + 18, s->is64 ? 62 : 3);
    w32(img + 20, 1);
    if (s->is64) {
        w64(img + 24, 0x1000000);     /* e_entry: startup_64's physical address */
        w64(img + 32, 64);
        w16(img + 52, 64);
        w16(img + 54, 56);
        w16(img + 56, 3);
    } else {
        w32(img + 24, 0x1000000);
        w32(img + 28, 52);
        w16(img + 40, 52);
        w16(img + 42, 32);
        w16(img + 44, 3);
    }
    phdr(s, 0, 1, SEG0_OFF, kbase + SEG0_PADDR, SEG0_PADDR, SEG0_LEN, SEG0_LEN, 0x200000);
    phdr(s, 1, 1, SEG1_OFF, kbase + SEG1_PADDR, SEG1_PADDR, SEG1_FILESZ, SEG1_MEMSZ, 0x200000);
    note(&off, a, "GNU", 3, "0123456789abcdefghij", 20);
    note(&off, a, "Xen", 6, "linux", 6); /* XEN_ELFNOTE_GUEST_OS */
    if (s->entry_size) {
        w64(desc, s->entry);
        note(&off, a, "Xen", NT_PHYS32_ENTRY, desc, s->entry_size);
    }
    note(&off, a, "Linux", 1, "\0\0\0", 4);
    phdr(s, 2, 4, NOTES_OFF, kbase + 0x2437e70, 0x2437e70, off - NOTES_OFF, off - NOTES_OFF, a);
    pattern(img + SEG0_OFF, SEG0_LEN, 1);
    pattern(img + SEG1_OFF, SEG1_FILESZ, 2);
    img_len = SEG1_OFF + SEG1_FILESZ;
}

/* The file offset of the entry note's header (after GNU and GUEST_OS). */
static size_t entry_note_off(void)
{
    return NOTES_OFF + (12 + 4 + 20) + (12 + 4 + 8);
}

struct guest {
    struct guest_mem mem;
    struct x86_cpu_state bsp;
    struct pvh_layout lay;
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

static int load(struct guest *g, size_t len, const struct pvh_args *a)
{
    err_clear();
    return pvh_load(&g->mem, img, len, a, &g->bsp, &g->lay);
}

static int err_has(const char *s)
{
    if (strstr(err_msg(), s))
        return 1;
    printf("  error message \"%s\" lacks \"%s\"\n", err_msg(), s);
    return 0;
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

/* Nothing of a refused load reached guest memory. */
static int untouched(const struct guest_mem *m)
{
    return all_zero(m, 0, 0x20000) && all_zero(m, SEG0_PADDR, SEG0_LEN) &&
           all_zero(m, SEG1_PADDR, SEG1_MEMSZ) && all_zero(m, RAM - 0x4000, 0x4000);
}

static void test_probe(void)
{
    struct spec s = spec64;
    uint32_t e = 0;

    build(&s);
    err_clear();
    CHECK_EQ(pvh_probe(img, img_len, &e), 1);
    CHECK_EQ(e, ENTRY);
    CHECK_EQ(pvh_probe(img, img_len, NULL), 1);
    /* Not ELF: no note and no message. */
    CHECK_EQ(pvh_probe(NULL, 0, &e), 0);
    CHECK_EQ(pvh_probe("MZ\0\0", 4, &e), 0);
    CHECK_EQ(pvh_probe(img, 3, &e), 0);
    CHECK_STR(err_msg(), "");
    /* ELF without the entry note. */
    s.entry_size = 0;
    build(&s);
    CHECK_EQ(pvh_probe(img, img_len, &e), 0);
    /* A 4-byte value, as older kernels and other PVH guests have it. */
    s = spec64;
    s.entry_size = 4;
    build(&s);
    e = 0;
    CHECK_EQ(pvh_probe(img, img_len, &e), 1);
    CHECK_EQ(e, ENTRY);
    /* Notes padded to 8 bytes in an 8-aligned segment. */
    s = spec64;
    s.note_align = 8;
    build(&s);
    e = 0;
    CHECK_EQ(pvh_probe(img, img_len, &e), 1);
    CHECK_EQ(e, ENTRY);
}

static void test_load(void)
{
    struct guest g;
    struct pvh_args a = {"console=ttyS0 quiet", NULL, 0, 0xf0000};
    const uint64_t si = PVH_START_INFO;
    uint64_t mm;

    build(&spec64);
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(load(&g, img_len, &a), 0);
    CHECK_EQ(g.lay.entry, ENTRY);
    CHECK_EQ(g.lay.start_info, PVH_START_INFO);
    CHECK_EQ(g.lay.kernel_start, SEG0_PADDR);
    CHECK_EQ(g.lay.kernel_end, SEG1_PADDR + SEG1_MEMSZ);
    CHECK_EQ(g.lay.initrd_start, 0);
    CHECK_EQ(g.lay.initrd_end, 0);

    /* The segments at their physical addresses, the BSS zeroed. */
    CHECK(memcmp(gmem_ptr(&g.mem, SEG0_PADDR, SEG0_LEN), img + SEG0_OFF, SEG0_LEN) == 0);
    CHECK(memcmp(gmem_ptr(&g.mem, SEG1_PADDR, SEG1_FILESZ), img + SEG1_OFF, SEG1_FILESZ) == 0);
    CHECK(all_zero(&g.mem, SEG1_PADDR + SEG1_FILESZ, SEG1_MEMSZ - SEG1_FILESZ));

    /* struct hvm_start_info, version 1. */
    CHECK_EQ(r32(&g.mem, si + PVH_SI_MAGIC), 0x336ec578);
    CHECK_EQ(r32(&g.mem, si + PVH_SI_VERSION), 1);
    CHECK_EQ(r32(&g.mem, si + PVH_SI_FLAGS), 0);
    CHECK_EQ(r32(&g.mem, si + PVH_SI_NR_MODULES), 0);
    CHECK_EQ(r64(&g.mem, si + PVH_SI_MODLIST_PADDR), 0);
    CHECK_EQ(r64(&g.mem, si + PVH_SI_RSDP_PADDR), 0xf0000);
    CHECK_STR((const char *)gmem_ptr(&g.mem, r64(&g.mem, si + PVH_SI_CMDLINE_PADDR), 1),
              "console=ttyS0 quiet");
    /* The memory map: the bzImage path's e820, entry for entry. */
    CHECK_EQ(r32(&g.mem, si + PVH_SI_MEMMAP_ENTRIES), 4);
    mm = r64(&g.mem, si + PVH_SI_MEMMAP_PADDR);
    CHECK(mm >= PVH_INFO_AREA + PVH_SI_SIZE && mm < PVH_INFO_AREA_END);
    CHECK_EQ(mm % 8, 0);
    {
        static const uint64_t want[4][3] = {{0, 0x9fc00, 1},
                                            {0x9fc00, 0x400, 2},
                                            {0xf0000, 0x10000, 2},
                                            {0x100000, RAM - 0x100000, 1}};
        struct linux_e820_entry map[LINUX_E820_ROAM_MAX];
        CHECK_EQ(linux_e820_map(&g.mem, map), 4);
        for (unsigned i = 0; i < 4; i++) {
            uint64_t e = mm + PVH_MEMMAP_ENTRY_SIZE * i;
            CHECK_EQ(r64(&g.mem, e + PVH_MEMMAP_ADDR), want[i][0]);
            CHECK_EQ(r64(&g.mem, e + PVH_MEMMAP_SIZE), want[i][1]);
            CHECK_EQ(r32(&g.mem, e + PVH_MEMMAP_TYPE), want[i][2]);
            CHECK_EQ(r32(&g.mem, e + 20), 0); /* reserved */
            CHECK_EQ(map[i].addr, want[i][0]);
            CHECK_EQ(map[i].size, want[i][1]);
            CHECK_EQ(map[i].type, want[i][2]);
        }
    }

    /* The entry state: 32-bit protected mode, paging off, flat segments. */
    CHECK_EQ(g.bsp.rip, ENTRY);
    CHECK_EQ(g.bsp.gpr[X86_RBX], PVH_START_INFO);
    CHECK_EQ(g.bsp.rflags, 0x2);
    CHECK_EQ(g.bsp.cr0 & 0x80000001u, 1);
    CHECK_EQ(g.bsp.cr0 & ~0x11ull, 0); /* PE and the fixed ET only */
    CHECK_EQ(g.bsp.cr4, 0);
    CHECK_EQ(g.bsp.msr.efer, 0);
    CHECK_EQ(g.bsp.seg[X86_CS].type, 0xb); /* execute/read */
    CHECK_EQ(g.bsp.seg[X86_CS].db, 1);
    CHECK_EQ(g.bsp.seg[X86_CS].l, 0);
    for (unsigned s = X86_ES; s <= X86_GS; s++) {
        CHECK_EQ(g.bsp.seg[s].base, 0);
        CHECK_EQ(g.bsp.seg[s].limit, 0xffffffff);
        CHECK_EQ(g.bsp.seg[s].present, 1);
        CHECK_EQ(g.bsp.seg[s].s, 1);
        if (s != X86_CS) {
            CHECK_EQ(g.bsp.seg[s].type, 0x3); /* read/write */
            CHECK_EQ(g.bsp.seg[s].db, 1);
        }
    }
    CHECK_EQ(g.bsp.seg[X86_TR].base, 0);
    CHECK_EQ(g.bsp.seg[X86_TR].limit, 0x67);
    CHECK_EQ(g.bsp.seg[X86_TR].type, 0xb); /* a busy 32-bit TSS */
    gmem_destroy(&g.mem);
}

static void test_initrd(void)
{
    struct guest g;
    static uint8_t rd[10000];
    struct pvh_args a = {NULL, rd, sizeof(rd), 0};
    const uint64_t si = PVH_START_INFO;
    uint64_t want, mod;

    pattern(rd, sizeof(rd), 5);
    build(&spec64);
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(load(&g, img_len, &a), 0);
    /* As high as RAM allows, page aligned. */
    want = (RAM - sizeof(rd)) & ~0xfffull;
    CHECK_EQ(g.lay.initrd_start, want);
    CHECK_EQ(g.lay.initrd_end, want + sizeof(rd));
    CHECK(memcmp(gmem_ptr(&g.mem, want, sizeof(rd)), rd, sizeof(rd)) == 0);
    /* One hvm_modlist_entry. */
    CHECK_EQ(r32(&g.mem, si + PVH_SI_NR_MODULES), 1);
    mod = r64(&g.mem, si + PVH_SI_MODLIST_PADDR);
    CHECK(mod >= PVH_INFO_AREA + PVH_SI_SIZE && mod < PVH_INFO_AREA_END);
    CHECK_EQ(mod % 8, 0);
    CHECK_EQ(r64(&g.mem, mod + PVH_MOD_PADDR), want);
    CHECK_EQ(r64(&g.mem, mod + PVH_MOD_SIZE), sizeof(rd));
    CHECK_EQ(r64(&g.mem, mod + PVH_MOD_CMDLINE_PADDR), 0);
    CHECK_EQ(r64(&g.mem, mod + 24), 0);
    /* No command line given: an empty one, still present. */
    CHECK_STR((const char *)gmem_ptr(&g.mem, r64(&g.mem, si + PVH_SI_CMDLINE_PADDR), 1), "");
    CHECK(r64(&g.mem, si + PVH_SI_CMDLINE_PADDR) != 0);
    CHECK_EQ(r64(&g.mem, si + PVH_SI_RSDP_PADDR), 0);
    gmem_destroy(&g.mem);

    /* An initrd that does not fit above the kernel, or at all. */
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    a.initrd_len = RAM - (SEG1_PADDR + SEG1_MEMSZ) + 1; /* checked before a byte is read */
    CHECK_EQ(load(&g, img_len, &a), -EINVAL);
    CHECK(err_has("give the guest more memory"));
    a.initrd_len = RAM + 1;
    CHECK_EQ(load(&g, img_len, &a), -EINVAL);
    CHECK(err_has("initrd"));
    CHECK(untouched(&g.mem));
    gmem_destroy(&g.mem);
}

static void test_elf32(void)
{
    struct guest g;
    struct spec s = {0, 4, ENTRY, 4};

    build(&s);
    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ(load(&g, img_len, NULL), 0);
    CHECK_EQ(g.bsp.rip, ENTRY);
    CHECK_EQ(g.bsp.gpr[X86_RBX], PVH_START_INFO);
    CHECK(memcmp(gmem_ptr(&g.mem, SEG0_PADDR, SEG0_LEN), img + SEG0_OFF, SEG0_LEN) == 0);
    CHECK_EQ(r32(&g.mem, PVH_START_INFO + PVH_SI_MAGIC), PVH_START_MAGIC);
    gmem_destroy(&g.mem);
}

/* Two RAM regions: the memory map has the one from 4 GiB too. */
static void test_high_ram(void)
{
    struct guest_mem m;
    struct x86_cpu_state bsp;
    uint8_t *low = calloc(1, 32 << 20), *high = calloc(1, 2 << 20);
    uint64_t mm;

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
    build(&spec64);
    err_clear();
    CHECK_EQ(pvh_load(&m, img, img_len, NULL, &bsp, NULL), 0);
    CHECK_EQ(r32(&m, PVH_START_INFO + PVH_SI_MEMMAP_ENTRIES), 5);
    mm = r64(&m, PVH_START_INFO + PVH_SI_MEMMAP_PADDR) + 4 * PVH_MEMMAP_ENTRY_SIZE;
    CHECK_EQ(r64(&m, mm), 0x100000000ull);
    CHECK_EQ(r64(&m, mm + 8), 2 << 20);
    CHECK_EQ(r32(&m, mm + 16), 1);
    free(low);
    free(high);
}

static void test_no_note(void)
{
    struct guest g;
    struct spec s = spec64;

    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    /* No entry note (Xen's other notes are there). */
    s.entry_size = 0;
    build(&s);
    CHECK_EQ(load(&g, img_len, NULL), -ENOEXEC);
    CHECK(err_has("no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): build the kernel with "
                  "CONFIG_PVH=y or use its bzImage"));
    /* The entry type under another name is not the entry note. */
    build(&spec64);
    memcpy(img + entry_note_off() + 12, "Xeo", 4);
    CHECK_EQ(load(&g, img_len, NULL), -ENOEXEC);
    CHECK(err_has("no PVH entry note"));
    /* No PT_NOTE segment at all. */
    build(&spec64);
    w32(img + 64 + 2 * 56, 6); /* PT_PHDR */
    CHECK_EQ(load(&g, img_len, NULL), -ENOEXEC);
    CHECK(err_has("no PVH entry note"));
    /* Not ELF. */
    memset(img, 0x90, 64);
    CHECK_EQ(load(&g, img_len, NULL), -ENOEXEC);
    CHECK(err_has("not an ELF image"));
    CHECK(untouched(&g.mem));
    gmem_destroy(&g.mem);
}

/* pvh_load refuses the image with code and msg, and writes nothing;
 * pvh_probe returns probe_rc. */
static void expect_refused(struct guest *g, size_t len, int code, const char *msg, int probe_rc)
{
    CHECK_EQ(load(g, len, NULL), code);
    CHECK(err_has(msg));
    CHECK(untouched(&g->mem));
    err_clear();
    CHECK_EQ(pvh_probe(img, len, NULL), probe_rc);
    if (probe_rc < 0)
        CHECK(err_has(msg));
}

static void test_bad_notes(void)
{
    struct guest g;
    struct spec s = spec64;
    size_t en = entry_note_off();
    uint8_t *nph = img + 64 + 2 * 56; /* the PT_NOTE program header */

    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    /* The note segment runs past the end of the file. */
    build(&spec64);
    w64(nph + 32, 0x100000);
    expect_refused(&g, img_len, -ENOEXEC, "note segment 2 needs file bytes", -ENOEXEC);
    build(&spec64);
    w64(nph + 8, 0xffffffffffffff00ull);
    expect_refused(&g, img_len, -ENOEXEC, "truncated image", -ENOEXEC);
    /* A note's name or value runs past the segment. */
    build(&spec64);
    w32(img + en, 0xffffffff);
    expect_refused(&g, img_len, -ENOEXEC, "runs past the segment's end", -ENOEXEC);
    build(&spec64);
    w32(img + en + 4, 0xfffffffc);
    expect_refused(&g, img_len, -ENOEXEC, "runs past the segment's end", -ENOEXEC);
    build(&spec64);
    w32(img + NOTES_OFF + 4, 0x7ffffff0); /* the first note, before the entry note */
    expect_refused(&g, img_len, -ENOEXEC, "runs past", -ENOEXEC);
    /* The segment ends inside the entry note. */
    build(&spec64);
    w64(nph + 32, en + 12 + 4 + 4 - NOTES_OFF);
    expect_refused(&g, img_len, -ENOEXEC, "runs past", -ENOEXEC);
    /* A value of the wrong size. */
    build(&spec64);
    w32(img + en + 4, 2);
    expect_refused(&g, img_len, -ENOEXEC, "has a 2-byte value; expected 4 or 8", -ENOEXEC);
    /* Entry points at or above 4 GiB, or outside the segments. */
    s.entry = 0x100000000ull;
    build(&s);
    expect_refused(&g, img_len, -ENOEXEC, "not below 4 GiB", -ENOEXEC);
    s.entry = 0x800000;
    build(&s);
    expect_refused(&g, img_len, -ENOEXEC, "outside the loaded segments", 1);
    gmem_destroy(&g.mem);
}

/* A segment in the info area, a command line too long for it, a segment
 * beyond RAM. */
static void test_placement_errors(void)
{
    struct guest g;
    static char longline[0x8000];
    struct pvh_args a = {longline, NULL, 0, 0};
    uint8_t *ph0 = img + 64;

    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    build(&spec64);
    w64(ph0 + 24, 0x8000);
    CHECK_EQ(load(&g, img_len, NULL), -EINVAL);
    CHECK(err_has("overlaps the PVH info area"));
    CHECK(untouched(&g.mem));
    build(&spec64);
    w64(ph0 + 24, RAM - 0x1000);
    CHECK_EQ(load(&g, img_len, NULL), -EINVAL);
    CHECK(err_has("outside guest RAM"));
    CHECK(untouched(&g.mem));
    build(&spec64);
    memset(longline, 'a', sizeof(longline) - 1);
    CHECK_EQ(load(&g, img_len, &a), -E2BIG);
    CHECK(err_has("command line"));
    CHECK(untouched(&g.mem));
    /* A long one that fits. */
    longline[0x4000] = 0;
    CHECK_EQ(load(&g, img_len, &a), 0);
    CHECK_STR((const char *)gmem_ptr(&g.mem, r64(&g.mem, PVH_START_INFO + PVH_SI_CMDLINE_PADDR),
                                     1),
              longline);
    gmem_destroy(&g.mem);
}

/* Every truncation of the file, and many corruptions of its headers and
 * notes: refused with a message (or, for harmless corruption, loaded),
 * never a crash or a read past the end (the ASan build checks that). */
static void test_fuzz(void)
{
    struct guest g;
    uint32_t x = 12345;
    static uint8_t copy[IMG_MAX];
    unsigned refused = 0, loaded = 0;

    if (guest_init(&g) < 0) {
        CHECK(0);
        return;
    }
    build(&spec64);
    for (size_t len = 0; len < img_len; len++) {
        /* Exactly sized copies, so a read past len is a heap error. */
        uint8_t *p = malloc(len ? len : 1);
        int rc;
        if (!p) {
            CHECK(0);
            break;
        }
        memcpy(p, img, len);
        err_clear();
        rc = pvh_load(&g.mem, p, len, NULL, &g.bsp, NULL);
        if (rc == 0 || !err_msg()[0]) {
            printf("  truncated to %zu bytes: rc %d, message \"%s\"\n", len, rc, err_msg());
            CHECK(0);
        }
        if (pvh_probe(p, len, NULL) > 0 && len < SEG0_OFF) {
            printf("  truncated to %zu bytes: probe found the note\n", len);
            CHECK(0);
        }
        free(p);
    }
    CHECK(untouched(&g.mem));
    memcpy(copy, img, img_len);
    for (unsigned iter = 0; iter < 20000; iter++) {
        unsigned n = 1 + iter % 4;
        int rc;
        memcpy(img, copy, img_len);
        for (unsigned k = 0; k < n; k++) {
            size_t at;
            x = x * 1103515245u + 12345u;
            /* The ELF header, program headers and notes hold the structure. */
            at = (x >> 8) % 2 ? (x >> 9) % (64 + 3 * 56)
                              : NOTES_OFF + (x >> 9) % (entry_note_off() - NOTES_OFF + 40);
            x = x * 1103515245u + 12345u;
            img[at] = (uint8_t)(x >> 16);
        }
        err_clear();
        rc = pvh_load(&g.mem, img, img_len, NULL, &g.bsp, NULL);
        if (rc < 0) {
            refused++;
            if (!err_msg()[0]) {
                printf("  corruption %u: refused without a message\n", iter);
                CHECK(0);
            }
        } else {
            loaded++;
        }
        /* The probe agrees with the loader about the note. */
        if (pvh_probe(img, img_len, NULL) <= 0 && rc == 0) {
            printf("  corruption %u: loaded without a note\n", iter);
            CHECK(0);
        }
    }
    CHECK(refused > 0);
    CHECK(loaded > 0);
    gmem_destroy(&g.mem);
}

static const struct test_case tests[] = {
    TEST(test_probe),
    TEST(test_load),
    TEST(test_initrd),
    TEST(test_elf32),
    TEST(test_high_ram),
    TEST(test_no_note),
    TEST(test_bad_notes),
    TEST(test_placement_errors),
    TEST(test_fuzz),
};

TEST_MAIN("pvh", tests)
