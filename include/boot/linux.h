/* Linux x86 boot protocol loader for bzImage kernels (the kernel's
 * Documentation/arch/x86/boot.rst: "The Real-Mode Kernel Header", "Details
 * of Header Fields", "64-bit Boot Protocol"; boot_params offsets from
 * Documentation/arch/x86/zero-page.rst).
 *
 * What it accepts: an image with "HdrS" at 0x202, boot_flag 0xAA55,
 * protocol 2.12 or later (the first with xloadflags) and XLF_KERNEL_64 (a
 * 64-bit entry point). roam enters the kernel through that 64-bit entry,
 * skipping the real-mode setup code, as the 64-bit boot protocol allows.
 *
 * What the kernel gets:
 * - The protected-mode kernel (the file from (setup_sects + 1) * 512 on) at
 *   pref_address when the kernel is relocatable and that fits, else at
 *   1 MiB. The kernel decompresses itself into [max(load address rounded up
 *   to kernel_alignment, pref_address), + init_size), which must be RAM.
 * - boot_params (the "zero page") at LINUX_BOOT_PARAMS: zero but for the
 *   setup header copied from the image, type_of_loader 0xff, cmd_line_ptr,
 *   ramdisk_image/size, acpi_rsdp_addr (linux_args.acpi_rsdp) and the e820
 *   map (roam's layout, as the multiboot
 *   map: [0, 0x9fc00) RAM, [0x9fc00, 0xa0000) and [0xf0000, 0x100000)
 *   reserved, [1 MiB, end of low RAM) RAM, RAM from 4 GiB up).
 * - The command line at LINUX_CMDLINE (at most cmdline_size bytes).
 * - The initrd, if any, page-aligned at the highest address below both
 *   initrd_addr_max and the end of RAM below the 3 GiB hole, above the
 *   kernel's decompression area.
 * - 64-bit mode at load address + 0x200: paging on with identity-mapped
 *   2 MiB pages over the first 4 GiB (tables at LINUX_PAGE_TABLES), a GDT
 *   at LINUX_GDT with flat 64-bit code at __BOOT_CS (0x10) and flat data at
 *   __BOOT_DS (0x18), CS = 0x10, DS = ES = SS = FS = GS = 0x18, RSI = the
 *   boot_params address, RFLAGS.IF = 0, RSP in low memory.
 *
 * Portable C: no OS headers. */
#ifndef ROAM_BOOT_LINUX_H
#define ROAM_BOOT_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cpu_state.h"
#include "core/err.h"
#include "core/mem.h"

/* Setup header fields: offsets in the image and in boot_params alike. */
#define LINUX_HDR_SETUP_SECTS 0x1f1
#define LINUX_HDR_BOOT_FLAG 0x1fe  /* 0xAA55 */
#define LINUX_HDR_JUMP 0x200       /* the byte at 0x201 + 0x202 ends the header */
#define LINUX_HDR_MAGIC 0x202      /* "HdrS" */
#define LINUX_HDR_VERSION 0x206
#define LINUX_HDR_TYPE_OF_LOADER 0x210
#define LINUX_HDR_LOADFLAGS 0x211
#define LINUX_HDR_CODE32_START 0x214
#define LINUX_HDR_RAMDISK_IMAGE 0x218
#define LINUX_HDR_RAMDISK_SIZE 0x21c
#define LINUX_HDR_CMD_LINE_PTR 0x228
#define LINUX_HDR_INITRD_ADDR_MAX 0x22c
#define LINUX_HDR_KERNEL_ALIGNMENT 0x230
#define LINUX_HDR_RELOCATABLE 0x234
#define LINUX_HDR_XLOADFLAGS 0x236
#define LINUX_HDR_CMDLINE_SIZE 0x238
#define LINUX_HDR_PREF_ADDRESS 0x258
#define LINUX_HDR_INIT_SIZE 0x260

/* Other boot_params fields (zero-page.rst). */
#define LINUX_BP_ACPI_RSDP_ADDR 0x070 /* read by kernels since 5.0 */
#define LINUX_BP_EXT_RAMDISK_IMAGE 0x0c0
#define LINUX_BP_EXT_RAMDISK_SIZE 0x0c4
#define LINUX_BP_EXT_CMD_LINE_PTR 0x0c8
#define LINUX_BP_E820_ENTRIES 0x1e8
#define LINUX_BP_E820_TABLE 0x2d0
#define LINUX_BP_E820_MAX 128
#define LINUX_BP_SIZE 0x1000

#define LINUX_MAGIC 0x53726448u /* "HdrS" */
#define LINUX_MIN_VERSION 0x020c /* 2.12: xloadflags */
#define LINUX_LOADED_HIGH 0x01   /* loadflags: a bzImage */
#define LINUX_XLF_KERNEL_64 0x01 /* xloadflags: 64-bit entry at +0x200 */
#define LINUX_E820_RAM 1
#define LINUX_E820_RESERVED 2

/* Low-memory layout (all below the EBDA at 0x9fc00). */
#define LINUX_GDT 0x1000u
#define LINUX_PAGE_TABLES 0x2000u /* PML4, PDPT, 4 page directories: 0x6000 */
#define LINUX_STACK_TOP 0x9000u
#define LINUX_BOOT_PARAMS 0x10000u
#define LINUX_CMDLINE 0x20000u
#define LINUX_CMDLINE_MAX 0x10000u /* room at LINUX_CMDLINE */
#define LINUX_BOOT_CS 0x10
#define LINUX_BOOT_DS 0x18

struct linux_args {
    const char *cmdline; /* NULL means "" */
    const void *initrd;  /* NULL (and 0) for none */
    size_t initrd_len;
    uint64_t acpi_rsdp;  /* boot_params.acpi_rsdp_addr; 0: the kernel scans */
};

/* What linux_load placed where. */
struct linux_layout {
    uint16_t version;            /* boot protocol, e.g. 0x020f */
    uint64_t kernel_addr;        /* where the protected-mode kernel went */
    uint64_t kernel_len;         /* its size in the file */
    uint64_t kernel_end;         /* end of the decompression area (init_size) */
    uint64_t entry;              /* kernel_addr + 0x200 */
    uint64_t initrd_start, initrd_end; /* 0, 0 without an initrd */
};

/* One e820 entry (zero-page.rst's struct boot_e820_entry, unpacked). */
struct linux_e820_entry {
    uint64_t addr, size;
    uint32_t type; /* LINUX_E820_RAM or LINUX_E820_RESERVED */
};
/* At most 4 entries for the region at 0 and 1 for each other one. */
#define LINUX_E820_ROAM_MAX (4 * GMEM_MAX_REGIONS)

/* roam's memory map as e820 entries, in address order (the map of the
 * header comment above; boot/pvh.c passes the same one). map must have
 * room for LINUX_E820_ROAM_MAX entries. Returns the count. */
unsigned linux_e820_map(const struct guest_mem *mem, struct linux_e820_entry *map);

/* The end of the RAM region that starts at 0 (RAM below the 3 GiB hole). */
uint64_t linux_low_ram_end(const struct guest_mem *mem);

/* True if the image has the Linux setup header's "HdrS" magic at 0x202
 * (the caller then uses linux_load, which checks the rest). */
bool linux_is_bzimage(const void *image, size_t len);

/* Loads a bzImage, builds boot_params, the page tables and the GDT, and
 * fills *bsp with the 64-bit entry state. layout may be NULL. Returns 0 or
 * a negative code with a message: -ENOEXEC (not a bzImage, malformed, or a
 * protocol older than 2.12 / without a 64-bit entry), -EINVAL (it or the
 * initrd does not fit this guest's RAM), -E2BIG (command line longer than
 * the kernel's cmdline_size). Nothing is written to guest memory on error. */
MUST_CHECK int linux_load(struct guest_mem *mem, const void *image, size_t len,
                          const struct linux_args *args, struct x86_cpu_state *bsp,
                          struct linux_layout *layout);

#endif
