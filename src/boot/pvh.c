/* PVH direct boot: Xen's x86 HVM direct boot ABI (docs/misc/pvh.pandoc;
 * struct hvm_start_info, hvm_modlist_entry and hvm_memmap_table_entry from
 * xen/include/public/arch-x86/hvm/start_info.h; XEN_ELFNOTE_PHYS32_ENTRY
 * from xen/include/public/elfnote.h), as Linux's arch/x86/platform/pvh
 * (head.S, enlighten.c) uses it. ELF notes follow the System V gABI "Note
 * Section" layout. See boot/pvh.h for what is accepted and what the kernel
 * gets. The ELF segments, the memory map and the 32-bit entry state come
 * from the multiboot and bzImage loaders' helpers. As in those loaders,
 * everything is checked before the first byte is written to guest memory. */
#include "boot/pvh.h"

#include <string.h>

#include "boot/linux.h"
#include "boot/multiboot.h"
#include "core/bytes.h"

#define PVH_1M 0x100000ull
#define PVH_4G 0x100000000ull
#define ELF_PT_NOTE 4
#define ELF_NOTE_HDR 12 /* namesz, descsz, type */

/* Walks the notes of one PT_NOTE segment, data[0, size) (inside the file),
 * whose entries are padded to align bytes. Returns 1 with *entry set when
 * it holds the PVH entry note, 0 when not, or -ENOEXEC with a message. */
static int pvh_scan_notes(const uint8_t *data, uint64_t size, uint64_t align, unsigned seg,
                          uint64_t *entry)
{
    uint64_t pos = 0;

    while (size - pos >= ELF_NOTE_HDR) {
        const uint8_t *n = data + pos;
        uint64_t namesz = le32_get(n), descsz = le32_get(n + 4), type = le32_get(n + 8);
        uint64_t name_off = pos + ELF_NOTE_HDR, desc_off, next;

        /* All in 64 bits: sizes are at most 2^32 - 1, so nothing wraps. */
        desc_off = name_off + ((namesz + align - 1) & ~(align - 1));
        if (namesz > size - name_off || desc_off > size || descsz > size - desc_off)
            return err_set(-ENOEXEC, "ELF image: the note at offset 0x%llx of note segment %u "
                                     "(name %llu bytes, value %llu bytes) runs past the "
                                     "segment's end (%llu bytes)",
                           (unsigned long long)pos, seg, (unsigned long long)namesz,
                           (unsigned long long)descsz, (unsigned long long)size);
        if (namesz == 4 && memcmp(data + name_off, "Xen", 4) == 0 &&
            type == PVH_XEN_ELFNOTE_PHYS32_ENTRY) {
            const uint8_t *d = data + desc_off;
            if (descsz == 4)
                *entry = le32_get(d);
            else if (descsz == 8)
                *entry = le64_get(d);
            else
                return err_set(-ENOEXEC, "ELF image: the PVH entry note "
                                         "(XEN_ELFNOTE_PHYS32_ENTRY) has a %llu-byte value; "
                                         "expected 4 or 8", (unsigned long long)descsz);
            return 1;
        }
        next = desc_off + ((descsz + align - 1) & ~(align - 1));
        if (next >= size)
            break; /* the last note (its padding may be missing) */
        pos = next;
    }
    return 0;
}

/* pvh_probe for an image that multiboot_parse_elf accepted. */
static int pvh_find_note(const uint8_t *p, size_t len, const struct multiboot_image *img,
                         uint64_t *entry)
{
    for (unsigned i = 0; i < img->phnum; i++) {
        const uint8_t *ph = p + img->phoff + (uint64_t)i * img->phentsize;
        uint64_t off, size, align;
        int rc;

        if (le32_get(ph) != ELF_PT_NOTE)
            continue;
        if (img->elf64) {
            off = le64_get(ph + 8);
            size = le64_get(ph + 32);
            align = le64_get(ph + 48);
        } else {
            off = le32_get(ph + 4);
            size = le32_get(ph + 16);
            align = le32_get(ph + 28);
        }
        if (off > len || size > len - off)
            return err_set(-ENOEXEC, "truncated image: ELF note segment %u needs file bytes up "
                                     "to 0x%llx but the file has %llu",
                           i, (unsigned long long)off + (unsigned long long)size,
                           (unsigned long long)len);
        /* gABI: 4-byte alignment, or 8 for segments aligned so. */
        rc = pvh_scan_notes(p + off, size, align == 8 ? 8 : 4, i, entry);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Parses the ELF image into *img and finds the entry note: as pvh_probe,
 * for an image that is ELF. */
static int pvh_parse(const void *image, size_t len, struct multiboot_image *img,
                     uint32_t *entry)
{
    uint64_t e = 0;
    int rc = multiboot_parse_elf(image, len, img);
    if (rc < 0)
        return rc;
    rc = pvh_find_note(image, len, img, &e);
    if (rc <= 0)
        return rc;
    if (e >= PVH_4G)
        return err_set(-ENOEXEC, "ELF image: the PVH entry point 0x%llx is not below 4 GiB",
                       (unsigned long long)e);
    *entry = (uint32_t)e;
    return 1;
}

int pvh_probe(const void *image, size_t len, uint32_t *entry)
{
    struct multiboot_image img;
    uint32_t e = 0;
    int rc;

    if (!multiboot_is_elf(image, len))
        return 0;
    rc = pvh_parse(image, len, &img, &e);
    if (rc > 0 && entry)
        *entry = e;
    return rc;
}

/* Bump allocator over the info area (8-byte aligned pieces). */
struct pvh_area {
    uint8_t buf[PVH_INFO_AREA_END - PVH_INFO_AREA];
    uint32_t used;
};

static int pvh_alloc(struct pvh_area *a, uint64_t size, uint32_t *gpa)
{
    uint32_t off = (a->used + 7u) & ~7u;
    if (off > sizeof(a->buf) || size > sizeof(a->buf) - off)
        return -1;
    a->used = off + (uint32_t)size;
    *gpa = PVH_INFO_AREA + off;
    return 0;
}

int pvh_load(struct guest_mem *mem, const void *image, size_t len, const struct pvh_args *args,
             struct x86_cpu_state *bsp, struct pvh_layout *layout)
{
    struct pvh_area area;
    struct multiboot_image img;
    struct linux_e820_entry map[LINUX_E820_ROAM_MAX];
    const char *cmdline = args && args->cmdline ? args->cmdline : "";
    const void *initrd = args ? args->initrd : NULL;
    size_t initrd_len = initrd ? args->initrd_len : 0, cmdline_len = strlen(cmdline);
    uint64_t low_end = linux_low_ram_end(mem), kstart = UINT64_MAX, kend = 0, kend_low = 0;
    uint64_t initrd_addr = 0, lowest;
    uint32_t entry = 0, si, mods = 0, memmap, cmd;
    unsigned nmap;
    int rc, found = 0;

    if (!image)
        return err_set(-EINVAL, "PVH: no image");
    if (!multiboot_is_elf(image, len))
        return err_set(-ENOEXEC, "not an ELF image: PVH boots ELF kernels (a vmlinux)");
    rc = pvh_parse(image, len, &img, &entry);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return err_set(-ENOEXEC, "no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): build the kernel "
                                 "with CONFIG_PVH=y or use its bzImage");
    if (low_end < PVH_1M + GMEM_PAGE_SIZE)
        return err_set(-EINVAL, "PVH: guest RAM below 3 GiB must extend past 1 MiB");
    rc = multiboot_check_segments(mem, &img, PVH_INFO_AREA, PVH_INFO_AREA_END, "PVH info area");
    if (rc < 0)
        return rc;
    for (unsigned i = 0; i < img.nseg; i++) {
        uint64_t a = img.seg[i].paddr, b = a + img.seg[i].memsz;
        if (entry >= a && entry < b)
            found = 1;
        if (a < kstart)
            kstart = a;
        if (b > kend)
            kend = b;
        if (b <= low_end && b > kend_low)
            kend_low = b;
    }
    if (!found)
        return err_set(-ENOEXEC, "the PVH entry point 0x%x is outside the loaded segments",
                       entry);

    if (initrd_len) {
        /* As high as RAM below the hole allows, as for a bzImage. */
        lowest = kend_low > PVH_1M ? kend_low : PVH_1M;
        if (initrd_len > low_end || ((low_end - initrd_len) & ~(GMEM_PAGE_SIZE - 1)) < lowest)
            return err_set(-EINVAL, "the initrd (%llu bytes) does not fit between the kernel "
                                    "(ending at 0x%llx) and 0x%llx: give the guest more memory",
                           (unsigned long long)initrd_len, (unsigned long long)lowest,
                           (unsigned long long)low_end);
        initrd_addr = (low_end - initrd_len) & ~(GMEM_PAGE_SIZE - 1);
    }

    /* The info area: start info, module list, memory map, command line. */
    memset(&area, 0, sizeof(area));
    nmap = linux_e820_map(mem, map);
    if (pvh_alloc(&area, PVH_SI_SIZE, &si) < 0 ||
        (initrd_len && pvh_alloc(&area, PVH_MOD_ENTRY_SIZE, &mods) < 0) ||
        pvh_alloc(&area, (uint64_t)nmap * PVH_MEMMAP_ENTRY_SIZE, &memmap) < 0)
        return err_set(-E2BIG, "PVH: the start info does not fit its area"); /* cannot happen */
    if (pvh_alloc(&area, (uint64_t)cmdline_len + 1, &cmd) < 0)
        return err_set(-E2BIG, "the kernel command line has %llu bytes; PVH boot takes at most "
                               "%u", (unsigned long long)cmdline_len,
                       (unsigned)(sizeof(area.buf) - ((area.used + 7u) & ~7u) - 1));
    {
        uint8_t *s = area.buf + (si - PVH_INFO_AREA);
        le32_put(s + PVH_SI_MAGIC, PVH_START_MAGIC);
        le32_put(s + PVH_SI_VERSION, PVH_START_VERSION);
        le32_put(s + PVH_SI_FLAGS, 0);
        le32_put(s + PVH_SI_NR_MODULES, initrd_len ? 1 : 0);
        le64_put(s + PVH_SI_MODLIST_PADDR, mods);
        le64_put(s + PVH_SI_CMDLINE_PADDR, cmd);
        le64_put(s + PVH_SI_RSDP_PADDR, args ? args->acpi_rsdp : 0);
        le64_put(s + PVH_SI_MEMMAP_PADDR, memmap);
        le32_put(s + PVH_SI_MEMMAP_ENTRIES, nmap);
    }
    if (initrd_len) {
        uint8_t *m = area.buf + (mods - PVH_INFO_AREA);
        le64_put(m + PVH_MOD_PADDR, initrd_addr);
        le64_put(m + PVH_MOD_SIZE, initrd_len);
        le64_put(m + PVH_MOD_CMDLINE_PADDR, 0); /* none */
    }
    for (unsigned i = 0; i < nmap; i++) {
        uint8_t *e = area.buf + (memmap - PVH_INFO_AREA) + (size_t)i * PVH_MEMMAP_ENTRY_SIZE;
        le64_put(e + PVH_MEMMAP_ADDR, map[i].addr);
        le64_put(e + PVH_MEMMAP_SIZE, map[i].size);
        le32_put(e + PVH_MEMMAP_TYPE, map[i].type);
    }
    memcpy(area.buf + (cmd - PVH_INFO_AREA), cmdline, cmdline_len + 1);
    if (!gmem_ptr(mem, PVH_INFO_AREA, area.used))
        return err_set(-EINVAL, "guest RAM is too small for the PVH info area");

    /* Everything checked: write guest memory. */
    multiboot_copy_segments(mem, image, &img);
    if (initrd_len)
        memcpy(gmem_ptr(mem, initrd_addr, initrd_len), initrd, initrd_len);
    memcpy(gmem_ptr(mem, PVH_INFO_AREA, area.used), area.buf, area.used);

    x86_cpu_state_flat32(bsp, entry, 0, si);
    bsp->seg[X86_TR].limit = PVH_TR_LIMIT;
    if (layout) {
        layout->entry = entry;
        layout->start_info = si;
        layout->kernel_start = kstart;
        layout->kernel_end = kend;
        layout->initrd_start = initrd_addr;
        layout->initrd_end = initrd_len ? initrd_addr + initrd_len : 0;
    }
    return 0;
}
