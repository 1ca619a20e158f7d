/* Multiboot v1 loader: The Multiboot Specification, version 0.6.96
 * (section 3.1: the OS image format; 3.2: machine state; 3.3: boot
 * information format), plus ELF64 kernels as a roam extension. The ELF
 * fields follow the System V ABI (gABI) ELF header and program header
 * layouts. See boot/multiboot.h for what is accepted and what the kernel
 * gets. Everything is checked before the first byte is written to guest
 * memory, so a refused image leaves the guest untouched. */
#include "boot/multiboot.h"

#include <string.h>

#include "core/bytes.h"

#define MB_MAX_MODULES 1 /* the API passes one; the info block could hold more */
#define MB_1M 0x100000ull
#define MB_4G 0x100000000ull

/* Low-memory layout reported in the memory map. */
#define MB_EBDA_START 0x9fc00ull
#define MB_VGA_START 0xa0000ull
#define MB_BIOS_START 0xf0000ull

/* ELF constants (gABI). */
#define ELF_CLASS32 1
#define ELF_CLASS64 2
#define ELF_DATA_LSB 1
#define ELF_ET_EXEC 2
#define ELF_EM_386 3
#define ELF_EM_X86_64 62
#define ELF_PT_LOAD 1

struct mb_module {
    const void *data;
    size_t len;
    const char *string;
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

int multiboot_find_header(const void *image, size_t len, struct multiboot_header *hdr)
{
    const uint8_t *p = image;
    size_t limit = len < MULTIBOOT_SEARCH ? len : MULTIBOOT_SEARCH;
    long bad_checksum_at = -1;

    memset(hdr, 0, sizeof(*hdr));
    for (size_t off = 0; off + 4 <= limit; off += 4) {
        if (le32_get(p + off) != MULTIBOOT_HEADER_MAGIC)
            continue;
        if (off + 12 > MULTIBOOT_SEARCH)
            break; /* the header must lie wholly within the first 8 KiB */
        if (off + 12 > len) {
            return err_set(-ENOEXEC, "truncated image: the multiboot header at offset 0x%llx "
                                     "runs past the end of the file (%llu bytes)",
                           (unsigned long long)off, (unsigned long long)len);
        }
        uint32_t flags = le32_get(p + off + 4), sum = le32_get(p + off + 8);
        if ((uint32_t)(MULTIBOOT_HEADER_MAGIC + flags + sum) != 0) {
            if (bad_checksum_at < 0)
                bad_checksum_at = (long)off;
            continue;
        }
        hdr->offset = (uint32_t)off;
        hdr->flags = flags;
        if (flags & MULTIBOOT_AOUT_KLUDGE) {
            if (off + 32 > len)
                return err_set(-ENOEXEC, "truncated image: the multiboot header at offset "
                                         "0x%llx has the address fields flag but the file ends "
                                         "before them", (unsigned long long)off);
            hdr->header_addr = le32_get(p + off + 12);
            hdr->load_addr = le32_get(p + off + 16);
            hdr->load_end_addr = le32_get(p + off + 20);
            hdr->bss_end_addr = le32_get(p + off + 24);
            hdr->entry_addr = le32_get(p + off + 28);
        }
        return 0;
    }
    if (bad_checksum_at >= 0)
        return err_set(-ENOEXEC, "multiboot header at offset 0x%llx has a bad checksum",
                       (unsigned long long)bad_checksum_at);
    return err_set(-ENOEXEC, "not a multiboot image: no multiboot header in the first 8 KiB");
}

/* The a.out kludge: one segment described by the header's address fields. */
static int mb_parse_kludge(const struct multiboot_header *h, size_t len,
                           struct multiboot_image *img)
{
    uint64_t file_start, load_len, mem_end;

    if (h->load_addr > h->header_addr)
        return err_set(-ENOEXEC, "multiboot header: load_addr 0x%x is above header_addr 0x%x",
                       h->load_addr, h->header_addr);
    if (h->header_addr - h->load_addr > h->offset)
        return err_set(-ENOEXEC, "multiboot header: header_addr 0x%x - load_addr 0x%x is more "
                                 "than the header's file offset 0x%x",
                       h->header_addr, h->load_addr, h->offset);
    file_start = h->offset - (h->header_addr - h->load_addr);
    if (h->load_end_addr == 0) {
        load_len = len - file_start;
    } else {
        if (h->load_end_addr < h->load_addr)
            return err_set(-ENOEXEC, "multiboot header: load_end_addr 0x%x is below load_addr "
                                     "0x%x", h->load_end_addr, h->load_addr);
        load_len = (uint64_t)h->load_end_addr - h->load_addr;
        if (file_start + load_len > len)
            return err_set(-ENOEXEC, "truncated image: the multiboot header loads 0x%llx bytes "
                                     "from file offset 0x%llx but the file has %llu bytes",
                           (unsigned long long)load_len, (unsigned long long)file_start,
                           (unsigned long long)len);
    }
    mem_end = (uint64_t)h->load_addr + load_len;
    if (h->bss_end_addr) {
        if (h->bss_end_addr < mem_end)
            return err_set(-ENOEXEC, "multiboot header: bss_end_addr 0x%x is below the end of "
                                     "the loaded image 0x%llx",
                           h->bss_end_addr, (unsigned long long)mem_end);
        mem_end = h->bss_end_addr;
    }
    img->seg[0] = (struct multiboot_segment){file_start, load_len, h->load_addr, h->load_addr,
                                             mem_end - h->load_addr};
    img->nseg = 1;
    img->entry = h->entry_addr;
    img->entry_is_virtual = 0;
    return 0;
}

bool multiboot_is_elf(const void *image, size_t len)
{
    static const char elf_magic[4] = {0x7f, 'E', 'L', 'F'};
    return image && len >= 4 && memcmp(image, elf_magic, 4) == 0;
}

int multiboot_parse_elf(const void *image, size_t len, struct multiboot_image *img)
{
    const uint8_t *p = image;
    int is64;
    uint64_t phoff;
    unsigned phentsize, phnum, machine;

    memset(img, 0, sizeof(*img));
    if (!multiboot_is_elf(image, len))
        return err_set(-ENOEXEC, "not an ELF image (no \\177ELF magic)");
    if (len < 52)
        return err_set(-ENOEXEC, "truncated image: the ELF header needs 52 bytes, the file "
                                 "has %llu", (unsigned long long)len);
    if (p[4] != ELF_CLASS32 && p[4] != ELF_CLASS64)
        return err_set(-ENOEXEC, "ELF image: unknown class %u", p[4]);
    is64 = p[4] == ELF_CLASS64;
    if (len < (is64 ? 64u : 52u))
        return err_set(-ENOEXEC, "truncated image: the ELF header needs %u bytes, the file "
                                 "has %llu", is64 ? 64u : 52u, (unsigned long long)len);
    if (p[5] != ELF_DATA_LSB)
        return err_set(-ENOEXEC, "ELF image: not little-endian");
    if (le16_get(p + 16) != ELF_ET_EXEC)
        return err_set(-ENOEXEC, "ELF image: not an executable (e_type %u)", le16_get(p + 16));
    machine = le16_get(p + 18);
    if (machine != (is64 ? ELF_EM_X86_64 : ELF_EM_386))
        return err_set(-ENOEXEC, "ELF%s image: machine %u is not %s", is64 ? "64" : "32",
                       machine, is64 ? "x86-64 (62)" : "i386 (3)");
    if (is64) {
        img->entry = le64_get(p + 24);
        phoff = le64_get(p + 32);
        phentsize = le16_get(p + 54);
        phnum = le16_get(p + 56);
    } else {
        img->entry = le32_get(p + 24);
        phoff = le32_get(p + 28);
        phentsize = le16_get(p + 42);
        phnum = le16_get(p + 44);
    }
    img->entry_is_virtual = 1;
    img->elf64 = is64;
    img->phoff = phoff;
    img->phentsize = phentsize;
    img->phnum = phnum;
    if (phentsize < (is64 ? 56u : 32u))
        return err_set(-ENOEXEC, "ELF image: program header size %u is too small", phentsize);
    if (phnum == 0 || phnum == 0xffff)
        return err_set(-ENOEXEC, "ELF image: no program headers");
    if (phoff > len || (uint64_t)phentsize * phnum > len - phoff)
        return err_set(-ENOEXEC, "truncated image: the ELF program headers end past the end "
                                 "of the file (%llu bytes)", (unsigned long long)len);
    img->nseg = 0;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = p + phoff + (uint64_t)i * phentsize;
        struct multiboot_segment s;
        if (le32_get(ph) != ELF_PT_LOAD)
            continue;
        if (is64) {
            s.offset = le64_get(ph + 8);
            s.vaddr = le64_get(ph + 16);
            s.paddr = le64_get(ph + 24);
            s.filesz = le64_get(ph + 32);
            s.memsz = le64_get(ph + 40);
        } else {
            s.offset = le32_get(ph + 4);
            s.vaddr = le32_get(ph + 8);
            s.paddr = le32_get(ph + 12);
            s.filesz = le32_get(ph + 16);
            s.memsz = le32_get(ph + 20);
        }
        if (s.memsz == 0)
            continue;
        if (s.filesz > s.memsz)
            return err_set(-ENOEXEC, "ELF image: segment %u has a file size (0x%llx) larger "
                                     "than its memory size (0x%llx)",
                           i, (unsigned long long)s.filesz, (unsigned long long)s.memsz);
        if (s.offset > len || s.filesz > len - s.offset)
            return err_set(-ENOEXEC, "truncated image: ELF segment %u needs file bytes up to "
                                     "0x%llx but the file has %llu",
                           i, (unsigned long long)(s.offset + s.filesz), (unsigned long long)len);
        if (img->nseg == MULTIBOOT_MAX_SEGMENTS)
            return err_set(-ENOEXEC, "ELF image: more than %d loadable segments",
                           MULTIBOOT_MAX_SEGMENTS);
        img->seg[img->nseg++] = s;
    }
    if (img->nseg == 0)
        return err_set(-ENOEXEC, "ELF image: no loadable segments");
    return 0;
}

int multiboot_check_segments(const struct guest_mem *mem, const struct multiboot_image *img,
                             uint64_t area, uint64_t area_end, const char *area_name)
{
    for (unsigned i = 0; i < img->nseg; i++) {
        const struct multiboot_segment *s = &img->seg[i];
        unsigned long long a = s->paddr, b = s->paddr + s->memsz;
        if (s->memsz > UINT64_MAX - s->paddr || !gmem_ptr(mem, s->paddr, s->memsz))
            return err_set(-EINVAL, "kernel segment [0x%llx, 0x%llx) is outside guest RAM "
                                    "(RAM ends at 0x%llx%s)",
                           a, b, (unsigned long long)gmem_end(mem),
                           mem->count > 1 ? ", with a hole from 3 GiB to 4 GiB" : "");
        if (a < area_end && b > area)
            return err_set(-EINVAL, "kernel segment [0x%llx, 0x%llx) overlaps the %s "
                                    "[0x%llx, 0x%llx)",
                           a, b, area_name, (unsigned long long)area,
                           (unsigned long long)area_end);
    }
    return 0;
}

void multiboot_copy_segments(struct guest_mem *mem, const void *image,
                             const struct multiboot_image *img)
{
    const uint8_t *p = image;
    for (unsigned i = 0; i < img->nseg; i++) {
        const struct multiboot_segment *s = &img->seg[i];
        uint8_t *dst = gmem_ptr(mem, s->paddr, s->memsz);
        memcpy(dst, p + s->offset, (size_t)s->filesz);
        memset(dst + s->filesz, 0, (size_t)(s->memsz - s->filesz));
    }
}

/* Returns the physical entry point, or an error if it is not inside the
 * loaded image or not below 4 GiB. */
static int mb_entry(const struct multiboot_image *img, uint32_t *entry)
{
    uint64_t e = img->entry;
    int found = 0;

    if (img->entry_is_virtual) {
        for (unsigned i = 0; i < img->nseg && !found; i++) {
            const struct multiboot_segment *s = &img->seg[i];
            if (e >= s->vaddr && e - s->vaddr < s->memsz) {
                e = s->paddr + (e - s->vaddr);
                found = 1;
            }
        }
    }
    for (unsigned i = 0; i < img->nseg && !found; i++) {
        const struct multiboot_segment *s = &img->seg[i];
        if (e >= s->paddr && e - s->paddr < s->memsz)
            found = 1;
    }
    if (!found)
        return err_set(-ENOEXEC, "entry point 0x%llx is outside the loaded image",
                       (unsigned long long)img->entry);
    if (e >= MB_4G)
        return err_set(-ENOEXEC, "entry point 0x%llx is not below 4 GiB",
                       (unsigned long long)e);
    *entry = (uint32_t)e;
    return 0;
}

/* Bump allocator over the info area. */
struct mb_area {
    uint8_t buf[MULTIBOOT_INFO_AREA_END - MULTIBOOT_INFO_AREA];
    uint32_t used;
    int overflow;
};

static uint32_t mb_alloc(struct mb_area *a, uint32_t size, uint32_t align)
{
    uint32_t off = (a->used + align - 1) & ~(align - 1);
    if (off > sizeof(a->buf) || size > sizeof(a->buf) - off) {
        a->overflow = 1;
        return 0;
    }
    a->used = off + size;
    return off;
}

static uint32_t mb_add_string(struct mb_area *a, const char *s)
{
    size_t n = strlen(s) + 1;
    if (n > sizeof(a->buf)) {
        a->overflow = 1;
        return 0;
    }
    uint32_t off = mb_alloc(a, (uint32_t)n, 1);
    if (!a->overflow)
        memcpy(a->buf + off, s, n);
    return MULTIBOOT_INFO_AREA + off;
}

static void mb_add_mmap(uint8_t *e, uint64_t base, uint64_t end, uint32_t type)
{
    le32_put(e, 20);
    le64_put(e + 4, base);
    le64_put(e + 12, end - base);
    le32_put(e + 20, type);
}

/* Writes the memory map entries into buf (at most 8); returns the count. */
static unsigned mb_build_mmap(const struct guest_mem *mem, uint8_t *buf)
{
    unsigned n = 0;
    for (unsigned i = 0; i < mem->count; i++) {
        const struct mem_region *r = &mem->region[i];
        uint64_t end = r->gpa + r->size;
        if (r->gpa == 0) {
            mb_add_mmap(buf + MULTIBOOT_MMAP_ENTRY_SIZE * n++, 0,
                        end < MB_EBDA_START ? end : MB_EBDA_START, MULTIBOOT_MEMORY_AVAILABLE);
            if (end > MB_EBDA_START)
                mb_add_mmap(buf + MULTIBOOT_MMAP_ENTRY_SIZE * n++, MB_EBDA_START, MB_VGA_START,
                            MULTIBOOT_MEMORY_RESERVED);
            if (end > MB_BIOS_START)
                mb_add_mmap(buf + MULTIBOOT_MMAP_ENTRY_SIZE * n++, MB_BIOS_START, MB_1M,
                            MULTIBOOT_MEMORY_RESERVED);
            if (end > MB_1M)
                mb_add_mmap(buf + MULTIBOOT_MMAP_ENTRY_SIZE * n++, MB_1M, end,
                            MULTIBOOT_MEMORY_AVAILABLE);
        } else {
            mb_add_mmap(buf + MULTIBOOT_MMAP_ENTRY_SIZE * n++, r->gpa, end,
                        MULTIBOOT_MEMORY_AVAILABLE);
        }
    }
    return n;
}

/* End of the RAM that starts at 0 (the low region). */
static uint64_t mb_low_end(const struct guest_mem *mem)
{
    for (unsigned i = 0; i < mem->count; i++)
        if (mem->region[i].gpa == 0)
            return mem->region[i].size;
    return 0;
}

int multiboot_load_layout(struct guest_mem *mem, const void *image, size_t len,
                          const struct multiboot_args *args, struct x86_cpu_state *bsp,
                          struct multiboot_layout *layout)
{
    struct multiboot_header h;
    struct multiboot_image img;
    struct mb_area area;
    uint8_t mmap[8 * MULTIBOOT_MMAP_ENTRY_SIZE];
    uint64_t low_end = mb_low_end(mem), kernel_start = UINT64_MAX, kernel_end = 0;
    uint64_t kernel_end_low = 0, mod_addr[MB_MAX_MODULES] = {0}, mod_base, next;
    struct mb_module mods[MB_MAX_MODULES] = {{0}};
    uint32_t entry = 0, info_off, mmap_off, mods_off = 0, name_addr, cmdline_addr, strings_start;
    unsigned nmods = 0, nmmap;
    const char *cmdline = args && args->cmdline ? args->cmdline : "";
    int rc;

    if (!image)
        return err_set(-EINVAL, "multiboot: no image");
    if (low_end < MB_1M + GMEM_PAGE_SIZE)
        return err_set(-EINVAL, "multiboot: guest RAM below 3 GiB must extend past 1 MiB");
    rc = multiboot_find_header(image, len, &h);
    if (rc < 0)
        return rc;
    if (h.flags & 0xffffu & ~MULTIBOOT_SUPPORTED_REQUIRED)
        return err_set(-ENOEXEC, "multiboot header requires features roam does not support "
                                 "(required flag bits 0x%04x; roam knows bits 0-2)",
                       h.flags & 0xffffu & ~MULTIBOOT_SUPPORTED_REQUIRED);
    if (args && (args->module || args->module_string)) {
        if (args->module_len && !args->module)
            return err_set(-EINVAL, "multiboot: the module has no data");
        mods[nmods++] = (struct mb_module){args->module, args->module_len, args->module_string};
    }

    memset(&img, 0, sizeof(img));
    if (h.flags & MULTIBOOT_AOUT_KLUDGE)
        rc = mb_parse_kludge(&h, len, &img);
    else if (multiboot_is_elf(image, len))
        rc = multiboot_parse_elf(image, len, &img);
    else
        rc = err_set(-ENOEXEC, "multiboot image is not ELF and its header has no address "
                               "fields (flag bit 16)");
    if (rc < 0)
        return rc;
    rc = multiboot_check_segments(mem, &img, MULTIBOOT_INFO_AREA, MULTIBOOT_INFO_AREA_END,
                                  "multiboot info area");
    if (rc < 0)
        return rc;
    rc = mb_entry(&img, &entry);
    if (rc < 0)
        return rc;
    for (unsigned i = 0; i < img.nseg; i++) {
        uint64_t a = img.seg[i].paddr, b = a + img.seg[i].memsz;
        if (a < kernel_start)
            kernel_start = a;
        if (b > kernel_end)
            kernel_end = b;
        if (b <= MB_4G && b > kernel_end_low)
            kernel_end_low = b;
    }

    /* Modules: page aligned after the kernel, in low RAM. */
    mod_base = align_up(kernel_end_low > MB_1M ? kernel_end_low : MB_1M, GMEM_PAGE_SIZE);
    next = mod_base;
    for (unsigned i = 0; i < nmods; i++) {
        const struct mb_module *m = &mods[i];
        mod_addr[i] = next;
        if (m->len > low_end || next > low_end - m->len)
            return err_set(-EINVAL, "the module (%llu bytes at 0x%llx) does not fit in guest "
                                    "RAM below 0x%llx: give the guest more memory",
                           (unsigned long long)m->len, (unsigned long long)next,
                           (unsigned long long)low_end);
        next = align_up(next + m->len, GMEM_PAGE_SIZE);
    }

    /* The info area. */
    memset(&area, 0, sizeof(area));
    info_off = mb_alloc(&area, MBI_SIZE, 8);
    name_addr = mb_add_string(&area, "roam");
    nmmap = mb_build_mmap(mem, mmap);
    mmap_off = mb_alloc(&area, nmmap * MULTIBOOT_MMAP_ENTRY_SIZE, 8);
    memcpy(area.buf + mmap_off, mmap, nmmap * MULTIBOOT_MMAP_ENTRY_SIZE);
    if (nmods)
        mods_off = mb_alloc(&area, nmods * MULTIBOOT_MOD_ENTRY_SIZE, 8);
    strings_start = area.used;
    cmdline_addr = mb_add_string(&area, cmdline);
    for (unsigned i = 0; i < nmods && !area.overflow; i++) {
        const struct mb_module *m = &mods[i];
        uint8_t *e = area.buf + mods_off + i * MULTIBOOT_MOD_ENTRY_SIZE;
        uint32_t s = mb_add_string(&area, m->string ? m->string : "");
        le32_put(e, (uint32_t)mod_addr[i]);
        le32_put(e + 4, (uint32_t)(mod_addr[i] + m->len));
        le32_put(e + 8, s);
        le32_put(e + 12, 0);
    }
    if (area.overflow) {
        size_t total = strlen(cmdline) + 1;
        for (unsigned i = 0; i < nmods; i++)
            total += (mods[i].string ? strlen(mods[i].string) : 0) + 1;
        return err_set(-E2BIG, "multiboot: the command line and module strings take %llu "
                               "bytes; the info area [0x%x, 0x%x) has room for %u",
                       (unsigned long long)total, MULTIBOOT_INFO_AREA, MULTIBOOT_INFO_AREA_END,
                       (unsigned)(sizeof(area.buf) - strings_start));
    }
    {
        uint8_t *mbi = area.buf + info_off;
        uint32_t flags = MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE | MULTIBOOT_INFO_MEM_MAP |
                         MULTIBOOT_INFO_BOOT_LOADER_NAME | (nmods ? MULTIBOOT_INFO_MODS : 0);
        le32_put(mbi + MBI_FLAGS, flags);
        le32_put(mbi + MBI_MEM_LOWER, 640);
        le32_put(mbi + MBI_MEM_UPPER, (uint32_t)((low_end - MB_1M) >> 10));
        le32_put(mbi + MBI_CMDLINE, cmdline_addr);
        le32_put(mbi + MBI_MODS_COUNT, nmods);
        le32_put(mbi + MBI_MODS_ADDR, nmods ? MULTIBOOT_INFO_AREA + mods_off : 0);
        le32_put(mbi + MBI_MMAP_LENGTH, nmmap * MULTIBOOT_MMAP_ENTRY_SIZE);
        le32_put(mbi + MBI_MMAP_ADDR, MULTIBOOT_INFO_AREA + mmap_off);
        le32_put(mbi + MBI_BOOT_LOADER_NAME, name_addr);
    }

    /* Everything checked: write guest memory. */
    multiboot_copy_segments(mem, image, &img);
    for (unsigned i = 0; i < nmods; i++) {
        const struct mb_module *m = &mods[i];
        if (m->len) {
            rc = gmem_write(mem, mod_addr[i], m->data, m->len);
            if (rc < 0)
                return err_wrap(rc, "multiboot: writing module %u", i);
        }
    }
    rc = gmem_write(mem, MULTIBOOT_INFO_AREA, area.buf, area.used);
    if (rc < 0)
        return err_wrap(rc, "multiboot: writing the info block");

    x86_cpu_state_flat32(bsp, entry, MULTIBOOT_BOOTLOADER_MAGIC, MULTIBOOT_INFO_AREA + info_off);
    if (layout) {
        layout->entry = entry;
        layout->info_addr = MULTIBOOT_INFO_AREA + info_off;
        layout->kernel_start = kernel_start;
        layout->kernel_end = kernel_end;
        layout->module_start = nmods ? mod_base : 0;
        layout->module_end = nmods ? mod_addr[nmods - 1] + mods[nmods - 1].len : 0;
    }
    return 0;
}

int multiboot_load(struct guest_mem *mem, const void *image, size_t len,
                   const struct multiboot_args *args, struct x86_cpu_state *bsp)
{
    return multiboot_load_layout(mem, image, len, args, bsp, NULL);
}
