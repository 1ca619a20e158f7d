/* Linux x86 boot protocol loader for bzImage kernels: the kernel's
 * Documentation/arch/x86/boot.rst (the setup header, "Loading the rest of
 * the kernel", "64-bit Boot Protocol") and zero-page.rst (the boot_params
 * layout). See boot/linux.h for what is accepted and what the kernel gets.
 * As in boot/multiboot.c, everything is checked before the first byte is
 * written to guest memory. */
#include "boot/linux.h"

#include <string.h>

#include "core/bytes.h"

#define LX_1M 0x100000ull
#define LX_EBDA_START 0x9fc00ull
#define LX_VGA_START 0xa0000ull
#define LX_BIOS_START 0xf0000ull
/* The setup header ends at most here in boot_params (edd_mbr_sig_buffer
 * follows), whatever a future header's length byte says. */
#define LX_HDR_LIMIT 0x290
#define LX_PT_FLAGS 0x3ull  /* present, writable */
#define LX_PT_LARGE 0x83ull /* present, writable, 2 MiB page */

static void put8(uint8_t *p, uint8_t v)
{
    p[0] = v;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

bool linux_is_bzimage(const void *image, size_t len)
{
    return image && len >= LINUX_HDR_MAGIC + 4 &&
           le32_get((const uint8_t *)image + LINUX_HDR_MAGIC) == LINUX_MAGIC;
}

uint64_t linux_low_ram_end(const struct guest_mem *mem)
{
    for (unsigned i = 0; i < mem->count; i++)
        if (mem->region[i].gpa == 0)
            return mem->region[i].size;
    return 0;
}

static void lx_e820_add(struct linux_e820_entry *map, unsigned *n, uint64_t base, uint64_t end,
                        uint32_t type)
{
    map[*n].addr = base;
    map[*n].size = end - base;
    map[*n].type = type;
    ++*n;
}

/* roam's memory layout, the same as the multiboot memory map. */
unsigned linux_e820_map(const struct guest_mem *mem, struct linux_e820_entry *map)
{
    unsigned n = 0;
    for (unsigned i = 0; i < mem->count; i++) {
        const struct mem_region *r = &mem->region[i];
        uint64_t end = r->gpa + r->size;
        if (r->gpa == 0) {
            lx_e820_add(map, &n, 0, end < LX_EBDA_START ? end : LX_EBDA_START, LINUX_E820_RAM);
            if (end > LX_EBDA_START)
                lx_e820_add(map, &n, LX_EBDA_START, LX_VGA_START, LINUX_E820_RESERVED);
            if (end > LX_BIOS_START)
                lx_e820_add(map, &n, LX_BIOS_START, LX_1M, LINUX_E820_RESERVED);
            if (end > LX_1M)
                lx_e820_add(map, &n, LX_1M, end, LINUX_E820_RAM);
        } else {
            lx_e820_add(map, &n, r->gpa, end, LINUX_E820_RAM);
        }
    }
    return n;
}

/* The map in boot_params' e820_table (20-byte entries). */
static unsigned lx_build_e820(const struct guest_mem *mem, uint8_t *bp)
{
    struct linux_e820_entry map[LINUX_E820_ROAM_MAX];
    unsigned n = linux_e820_map(mem, map);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = bp + LINUX_BP_E820_TABLE + 20 * i;
        le64_put(e, map[i].addr);
        le64_put(e + 8, map[i].size);
        le32_put(e + 16, map[i].type);
    }
    return n;
}

/* The 64-bit entry state of boot.rst's "64-bit Boot Protocol". */
static void lx_cpu_state(struct x86_cpu_state *s, uint64_t entry)
{
    x86_cpu_state_reset(s);
    s->gpr[X86_RDX] = 0;
    s->gpr[X86_RSI] = LINUX_BOOT_PARAMS;
    s->gpr[X86_RSP] = LINUX_STACK_TOP;
    s->rip = entry;
    s->rflags = 0x2; /* IF clear */
    for (unsigned i = X86_ES; i <= X86_GS; i++) {
        struct x86_segment *g = &s->seg[i];
        memset(g, 0, sizeof(*g));
        g->limit = 0xffffffff;
        g->s = 1;
        g->present = 1;
        g->g = 1;
        if (i == X86_CS) {
            g->selector = LINUX_BOOT_CS;
            g->type = 0xb; /* execute/read, accessed */
            g->l = 1;
        } else {
            g->selector = LINUX_BOOT_DS;
            g->type = 0x3; /* read/write, accessed */
            g->db = 1;
        }
    }
    s->gdtr.base = LINUX_GDT;
    s->gdtr.limit = 4 * 8 - 1;
    /* No IDT: interrupts are off, and a fault this early should end in a
     * triple fault that roam reports rather than in the real-mode IVT. */
    s->idtr.base = 0;
    s->idtr.limit = 0;
    s->cr0 = 0x80000011; /* PG, ET, PE; caches enabled */
    s->cr3 = LINUX_PAGE_TABLES;
    s->cr4 = 0x20;                   /* PAE */
    s->msr.efer = (1u << 8) | (1u << 10); /* LME, LMA */
}

int linux_load(struct guest_mem *mem, const void *image, size_t len,
               const struct linux_args *args, struct x86_cpu_state *bsp,
               struct linux_layout *layout)
{
    const uint8_t *p = image;
    uint8_t bp[LINUX_BP_SIZE], gdt[4 * 8], pt[6 * GMEM_PAGE_SIZE];
    const char *cmdline = args && args->cmdline ? args->cmdline : "";
    const void *initrd = args ? args->initrd : NULL;
    size_t initrd_len = args && args->initrd ? args->initrd_len : 0, cmdline_len;
    uint64_t low_end = linux_low_ram_end(mem), kaddr, klen, koff, decomp, kend, pref, kalign;
    uint64_t initrd_addr = 0, initrd_max;
    uint32_t init_size, cmdline_size;
    unsigned setup_sects, hdr_end, version, nmap;
    int relocatable;

    if (!linux_is_bzimage(image, len))
        return err_set(-ENOEXEC, "not a Linux bzImage: no \"HdrS\" setup header at 0x202");
    if (len < LINUX_HDR_INIT_SIZE + 4)
        return err_set(-ENOEXEC, "truncated bzImage: the setup header needs 0x%x bytes, the "
                                 "file has %llu", LINUX_HDR_INIT_SIZE + 4,
                       (unsigned long long)len);
    version = le16_get(p + LINUX_HDR_VERSION);
    if (version < LINUX_MIN_VERSION)
        return err_set(-ENOEXEC, "Linux boot protocol %u.%02u is too old: roam needs 2.12 or "
                                 "later (the 64-bit entry point)", version >> 8, version & 0xff);
    if (le16_get(p + LINUX_HDR_BOOT_FLAG) != 0xaa55)
        return err_set(-ENOEXEC, "bzImage: bad boot_flag 0x%04x (expected 0xaa55)",
                       le16_get(p + LINUX_HDR_BOOT_FLAG));
    if (!(p[LINUX_HDR_LOADFLAGS] & LINUX_LOADED_HIGH))
        return err_set(-ENOEXEC, "a zImage (loaded low) is not supported: use a bzImage");
    if (!(le16_get(p + LINUX_HDR_XLOADFLAGS) & LINUX_XLF_KERNEL_64))
        return err_set(-ENOEXEC, "this Linux kernel has no 64-bit entry point "
                                 "(xloadflags lacks XLF_KERNEL_64): roam boots 64-bit kernels");
    setup_sects = p[LINUX_HDR_SETUP_SECTS] ? p[LINUX_HDR_SETUP_SECTS] : 4; /* 0 means 4 */
    koff = (uint64_t)(setup_sects + 1) * 512;
    if (koff >= len)
        return err_set(-ENOEXEC, "truncated bzImage: the protected-mode kernel starts at file "
                                 "offset 0x%llx but the file has %llu bytes",
                       (unsigned long long)koff, (unsigned long long)len);
    klen = len - koff;
    hdr_end = LINUX_HDR_MAGIC + p[LINUX_HDR_JUMP + 1];
    if (hdr_end > LX_HDR_LIMIT)
        hdr_end = LX_HDR_LIMIT;
    if (hdr_end < LINUX_HDR_INIT_SIZE + 4)
        return err_set(-ENOEXEC, "bzImage: setup header ends at 0x%x, before init_size",
                       hdr_end);
    init_size = le32_get(p + LINUX_HDR_INIT_SIZE);
    cmdline_size = le32_get(p + LINUX_HDR_CMDLINE_SIZE);
    relocatable = p[LINUX_HDR_RELOCATABLE] != 0;
    kalign = le32_get(p + LINUX_HDR_KERNEL_ALIGNMENT);
    pref = le64_get(p + LINUX_HDR_PREF_ADDRESS);
    if (relocatable && (kalign == 0 || (kalign & (kalign - 1))))
        return err_set(-ENOEXEC, "bzImage: kernel_alignment 0x%llx is not a power of two",
                       (unsigned long long)kalign);

    /* Placement: a relocatable kernel where it prefers to run (no copy
     * before decompression), else 1 MiB as the protocol's default. */
    kaddr = LX_1M;
    if (relocatable && pref >= LX_1M && (pref & (kalign - 1)) == 0 && pref < low_end &&
        klen <= low_end - pref)
        kaddr = pref;
    /* Where head_64.S decompresses to: the load address rounded up to
     * kernel_alignment, but never below LOAD_PHYSICAL_ADDR (= pref_address);
     * it needs init_size bytes there. */
    decomp = relocatable ? align_up(kaddr, kalign) : pref;
    if (decomp < pref)
        decomp = pref;
    kend = decomp + init_size;
    if (kaddr + klen > kend)
        kend = kaddr + klen;
    if (kend > low_end || !gmem_ptr(mem, kaddr, kend - kaddr))
        return err_set(-EINVAL, "the Linux kernel needs RAM up to 0x%llx (loaded at 0x%llx, "
                                "decompressed at 0x%llx, init_size 0x%x) but RAM below 3 GiB "
                                "ends at 0x%llx: give the guest more memory",
                       (unsigned long long)kend, (unsigned long long)kaddr,
                       (unsigned long long)decomp, init_size, (unsigned long long)low_end);

    cmdline_len = strlen(cmdline);
    if (cmdline_len > cmdline_size || cmdline_len >= LINUX_CMDLINE_MAX)
        return err_set(-E2BIG, "the kernel command line has %llu bytes; this kernel accepts at "
                               "most %u", (unsigned long long)cmdline_len,
                       cmdline_size < LINUX_CMDLINE_MAX - 1 ? cmdline_size
                                                            : LINUX_CMDLINE_MAX - 1);

    if (initrd_len) {
        /* As high as allowed, like other loaders: out of the way of the
         * kernel's early allocations. */
        initrd_max = (uint64_t)le32_get(p + LINUX_HDR_INITRD_ADDR_MAX) + 1;
        if (initrd_max > low_end)
            initrd_max = low_end;
        if (initrd_len > initrd_max || ((initrd_max - initrd_len) & ~(GMEM_PAGE_SIZE - 1)) < kend)
            return err_set(-EINVAL, "the initrd (%llu bytes) does not fit between the kernel "
                                    "(ending at 0x%llx) and 0x%llx: give the guest more memory",
                           (unsigned long long)initrd_len, (unsigned long long)kend,
                           (unsigned long long)initrd_max);
        initrd_addr = (initrd_max - initrd_len) & ~(GMEM_PAGE_SIZE - 1);
    }

    /* boot_params: the image's setup header, then what the loader fills. */
    memset(bp, 0, sizeof(bp));
    memcpy(bp + LINUX_HDR_SETUP_SECTS, p + LINUX_HDR_SETUP_SECTS,
           hdr_end - LINUX_HDR_SETUP_SECTS);
    put8(bp + LINUX_HDR_TYPE_OF_LOADER, 0xff); /* an unregistered loader */
    le32_put(bp + LINUX_HDR_CODE32_START, (uint32_t)kaddr);
    le32_put(bp + LINUX_HDR_CMD_LINE_PTR, LINUX_CMDLINE);
    le32_put(bp + LINUX_BP_EXT_CMD_LINE_PTR, 0);
    le32_put(bp + LINUX_HDR_RAMDISK_IMAGE, (uint32_t)initrd_addr);
    le32_put(bp + LINUX_BP_EXT_RAMDISK_IMAGE, (uint32_t)(initrd_addr >> 32));
    le32_put(bp + LINUX_HDR_RAMDISK_SIZE, (uint32_t)initrd_len);
    le32_put(bp + LINUX_BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)initrd_len >> 32));
    le64_put(bp + LINUX_BP_ACPI_RSDP_ADDR, args ? args->acpi_rsdp : 0);
    nmap = lx_build_e820(mem, bp);
    put8(bp + LINUX_BP_E820_ENTRIES, (uint8_t)nmap);

    /* GDT: null, unused, __BOOT_CS (64-bit code), __BOOT_DS (flat data),
     * accessed bits set so the CPU never writes them. */
    memset(gdt, 0, sizeof(gdt));
    le64_put(gdt + LINUX_BOOT_CS, 0x00af9b000000ffffull);
    le64_put(gdt + LINUX_BOOT_DS, 0x00cf93000000ffffull);

    /* Page tables: PML4, PDPT, then four directories of 2 MiB pages that
     * identity-map 0-4 GiB (the kernel builds its own soon after). */
    memset(pt, 0, sizeof(pt));
    le64_put(pt, (LINUX_PAGE_TABLES + GMEM_PAGE_SIZE) | LX_PT_FLAGS);
    for (unsigned i = 0; i < 4; i++) {
        le64_put(pt + GMEM_PAGE_SIZE + 8 * i,
              (LINUX_PAGE_TABLES + (2 + i) * GMEM_PAGE_SIZE) | LX_PT_FLAGS);
        for (unsigned j = 0; j < 512; j++)
            le64_put(pt + (2 + i) * GMEM_PAGE_SIZE + 8 * j,
                  ((uint64_t)i << 30) | ((uint64_t)j << 21) | LX_PT_LARGE);
    }

    if (!gmem_ptr(mem, 0, LINUX_CMDLINE + cmdline_len + 1))
        return err_set(-EINVAL, "guest RAM is too small for the Linux boot area");

    /* Everything checked: write guest memory. */
    memcpy(gmem_ptr(mem, kaddr, klen), p + koff, (size_t)klen);
    if (initrd_len)
        memcpy(gmem_ptr(mem, initrd_addr, initrd_len), initrd, initrd_len);
    memcpy(gmem_ptr(mem, LINUX_CMDLINE, cmdline_len + 1), cmdline, cmdline_len + 1);
    memcpy(gmem_ptr(mem, LINUX_BOOT_PARAMS, sizeof(bp)), bp, sizeof(bp));
    memcpy(gmem_ptr(mem, LINUX_GDT, sizeof(gdt)), gdt, sizeof(gdt));
    memcpy(gmem_ptr(mem, LINUX_PAGE_TABLES, sizeof(pt)), pt, sizeof(pt));

    lx_cpu_state(bsp, kaddr + 0x200);
    if (layout) {
        layout->version = (uint16_t)version;
        layout->kernel_addr = kaddr;
        layout->kernel_len = klen;
        layout->kernel_end = kend;
        layout->entry = kaddr + 0x200;
        layout->initrd_start = initrd_addr;
        layout->initrd_end = initrd_len ? initrd_addr + initrd_len : 0;
    }
    return 0;
}
