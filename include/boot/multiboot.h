/* Multiboot v1 loader (The Multiboot Specification, version 0.6.96), for
 * roam's test guests and any other multiboot kernel.
 *
 * What it accepts:
 * - A header within the first 8192 bytes, 4-byte aligned: magic 0x1BADB002,
 *   flags, checksum (magic + flags + checksum == 0 mod 2^32).
 * - Required flags (bits 0-15): bit 0 (page-aligned modules: always done),
 *   bit 1 (memory information: always given) and bit 2 (video mode: accepted,
 *   but roam has no display, so the header's video fields are ignored and the
 *   info block carries no VBE or framebuffer fields). Any other required bit
 *   is refused, as the specification demands. Optional bits (16-31) other
 *   than 16 are ignored.
 * - Flag bit 16 set: the a.out kludge. The header's address fields
 *   (header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr) place
 *   the image, whatever its format ("the boot loader should use them instead
 *   of the fields in the actual executable header").
 * - Otherwise an ELF executable: ELF32 (EM_386) as in the specification, or
 *   ELF64 (EM_X86_64) as a roam extension. PT_LOAD segments are copied to
 *   their physical address (p_paddr) and the rest up to p_memsz is zeroed.
 *   The entry point is e_entry, translated from a segment's virtual to its
 *   physical address when it lies in one (as GRUB 2 does); it must be below
 *   4 GiB and inside a loaded segment.
 *
 * What the kernel gets (machine state as in section 3.2 of the spec, from
 * x86_cpu_state_flat32): EAX = 0x2BADB002, EBX = the info block's address,
 * flat 32-bit protected mode with paging off, and an info block with
 * MEM | CMDLINE | MMAP | BOOT_LOADER_NAME ("roam"), plus MODS when a module
 * is given:
 * - mem_lower = 640 (as QEMU reports), mem_upper = KiB from 1 MiB to the end
 *   of RAM below the 3 GiB MMIO hole.
 * - The memory map: [0, 0x9fc00) available, [0x9fc00, 0xa0000) and
 *   [0xf0000, 0x100000) reserved, [1 MiB, end of low RAM) available, and RAM
 *   from 4 GiB up available.
 * - The info block, memory map, module list, the boot loader name, the
 *   command line and the module string all live in the info area
 *   [MULTIBOOT_INFO_AREA, MULTIBOOT_INFO_AREA_END) (the info block at 0x9000,
 *   where QEMU puts it too); a kernel or module may not overlap it.
 * - The module, if any, is copied page-aligned after the highest address
 *   below 4 GiB that the kernel occupies (its BSS included), and never below
 *   1 MiB; it must fit in RAM below the 3 GiB hole.
 *
 * Portable C: no OS headers. */
#ifndef ROAM_BOOT_MULTIBOOT_H
#define ROAM_BOOT_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cpu_state.h"
#include "core/err.h"
#include "core/mem.h"

#define MULTIBOOT_HEADER_MAGIC 0x1BADB002u
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
#define MULTIBOOT_SEARCH 8192u

/* Header flags. */
#define MULTIBOOT_PAGE_ALIGN 0x00000001u
#define MULTIBOOT_MEMORY_INFO 0x00000002u
#define MULTIBOOT_VIDEO_MODE 0x00000004u
#define MULTIBOOT_AOUT_KLUDGE 0x00010000u
/* The required flags roam understands. */
#define MULTIBOOT_SUPPORTED_REQUIRED \
    (MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO | MULTIBOOT_VIDEO_MODE)

/* Info block flags. */
#define MULTIBOOT_INFO_MEMORY 0x00000001u
#define MULTIBOOT_INFO_BOOTDEV 0x00000002u
#define MULTIBOOT_INFO_CMDLINE 0x00000004u
#define MULTIBOOT_INFO_MODS 0x00000008u
#define MULTIBOOT_INFO_ELF_SHDR 0x00000020u
#define MULTIBOOT_INFO_MEM_MAP 0x00000040u
#define MULTIBOOT_INFO_BOOT_LOADER_NAME 0x00000200u

/* Byte offsets of the info block's fields (spec section 3.3). */
#define MBI_FLAGS 0
#define MBI_MEM_LOWER 4
#define MBI_MEM_UPPER 8
#define MBI_BOOT_DEVICE 12
#define MBI_CMDLINE 16
#define MBI_MODS_COUNT 20
#define MBI_MODS_ADDR 24
#define MBI_SYMS 28
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR 48
#define MBI_DRIVES_LENGTH 52
#define MBI_DRIVES_ADDR 56
#define MBI_CONFIG_TABLE 60
#define MBI_BOOT_LOADER_NAME 64
#define MBI_APM_TABLE 68
#define MBI_SIZE 120 /* through the framebuffer fields; roam zeroes them */

/* A memory map entry: size (of the rest, 20), base_addr, length, type. */
#define MULTIBOOT_MMAP_ENTRY_SIZE 24
#define MULTIBOOT_MEMORY_AVAILABLE 1
#define MULTIBOOT_MEMORY_RESERVED 2

/* A module list entry: mod_start, mod_end, string, reserved. */
#define MULTIBOOT_MOD_ENTRY_SIZE 16

/* Where the info block and everything it points to (but module data) go. */
#define MULTIBOOT_INFO_AREA 0x9000u
#define MULTIBOOT_INFO_AREA_END 0x10000u

struct multiboot_args {
    /* The kernel command line exactly as the user gave it (no kernel path is
     * prepended); NULL means "". The CMDLINE flag is always set. */
    const char *cmdline;
    /* One optional module (an initrd, say). It is passed when module or
     * module_string is not NULL (an empty file may come as NULL, 0). */
    const void *module;
    size_t module_len;
    const char *module_string; /* the module's command line; NULL means "" */
};

/* The multiboot header as found in an image. */
struct multiboot_header {
    uint32_t offset; /* file offset of the magic */
    uint32_t flags;
    /* Valid when flags has MULTIBOOT_AOUT_KLUDGE. */
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* What multiboot_load placed where (for callers that report it). */
struct multiboot_layout {
    uint32_t entry;
    uint32_t info_addr;
    uint64_t kernel_start, kernel_end; /* lowest and highest+1 address written */
    uint64_t module_start, module_end; /* 0, 0 if no module */
};

/* A kernel's loadable segments: ELF PT_LOAD segments (System V gABI
 * program headers), or the one segment that the a.out kludge describes.
 * boot/pvh.c loads ELF kernels with the same helpers. */
#define MULTIBOOT_MAX_SEGMENTS 64

struct multiboot_segment {
    uint64_t offset; /* in the file */
    uint64_t filesz;
    uint64_t paddr;
    uint64_t vaddr;
    uint64_t memsz; /* > 0; filesz <= memsz, the rest is zeroed */
};

struct multiboot_image {
    struct multiboot_segment seg[MULTIBOOT_MAX_SEGMENTS];
    unsigned nseg;
    uint64_t entry;       /* as found in the image (ELF: e_entry) */
    int entry_is_virtual; /* ELF: translate through the segments */
    /* ELF only: the program header table, which lies inside the file. */
    int elf64; /* ELFCLASS64 */
    uint64_t phoff;
    unsigned phentsize, phnum;
};

/* True if the image starts with the ELF magic "\177ELF". */
bool multiboot_is_elf(const void *image, size_t len);

/* Parses an ELF executable: ELF32 EM_386 or ELF64 EM_X86_64, little-endian,
 * ET_EXEC, with at least one PT_LOAD segment whose file bytes lie inside
 * the file. Returns 0, or -ENOEXEC with a message. */
MUST_CHECK int multiboot_parse_elf(const void *image, size_t len, struct multiboot_image *img);

/* Checks that every segment lies in guest RAM and outside the loader's own
 * area [area, area_end) (named area_name in the message). Returns 0 or
 * -EINVAL with a message. */
MUST_CHECK int multiboot_check_segments(const struct guest_mem *mem,
                                        const struct multiboot_image *img, uint64_t area,
                                        uint64_t area_end, const char *area_name);

/* Copies the segments to guest memory and zeroes each one's tail (after
 * multiboot_check_segments accepted them). */
void multiboot_copy_segments(struct guest_mem *mem, const void *image,
                             const struct multiboot_image *img);

/* Finds and checks the multiboot header. Returns 0, or -ENOEXEC with a
 * message if there is no valid one (the caller can then try another format). */
MUST_CHECK int multiboot_find_header(const void *image, size_t len, struct multiboot_header *hdr);

/* Loads a multiboot kernel into guest memory, builds the info block and
 * fills *bsp with the entry state (x86_cpu_state_flat32). Returns 0, or a
 * negative code with a message (-ENOEXEC: not a multiboot image or a
 * malformed one; -EINVAL: it does not fit this guest's memory; -E2BIG:
 * the command line and module string are too long for the info area). */
MUST_CHECK int multiboot_load(struct guest_mem *mem, const void *image, size_t len,
                              const struct multiboot_args *args, struct x86_cpu_state *bsp);
/* The same, and also reports where things went (layout may be NULL). */
MUST_CHECK int multiboot_load_layout(struct guest_mem *mem, const void *image, size_t len,
                                     const struct multiboot_args *args,
                                     struct x86_cpu_state *bsp, struct multiboot_layout *layout);

#endif
