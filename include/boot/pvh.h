/* PVH direct boot of ELF kernels (Xen's x86 HVM direct boot ABI:
 * docs/misc/pvh.pandoc and xen/include/public/arch-x86/hvm/start_info.h;
 * the ELF note from xen/include/public/elfnote.h; what Linux expects from
 * arch/x86/platform/pvh/head.S and enlighten.c). A Linux vmlinux built
 * with CONFIG_PVH=y boots this way, with no decompressor and no setup code.
 *
 * What it accepts: an ELF executable that the multiboot loader's ELF
 * helpers accept (ELF32 EM_386 or ELF64 EM_X86_64, ET_EXEC, PT_LOAD
 * segments placed at their physical addresses) and that has, in a PT_NOTE
 * segment, a note named "Xen" of type XEN_ELFNOTE_PHYS32_ENTRY (18) whose
 * 4- or 8-byte value is the 32-bit physical entry point. The entry must lie
 * in a loaded segment. Malformed notes are refused, never read past.
 *
 * What the kernel gets:
 * - Its segments at their physical addresses, BSS zeroed.
 * - struct hvm_start_info (version 1) at PVH_START_INFO: magic 0x336ec578,
 *   flags 0, cmdline_paddr (always set; "" without --cmdline), rsdp_paddr
 *   (pvh_args.acpi_rsdp: roam's ACPI RSDP), nr_modules/modlist_paddr (one
 *   hvm_modlist_entry for the initrd, if any; 0/0 without), and
 *   memmap_paddr/memmap_entries: the e820 map of boot/linux.h
 *   (linux_e820_map), in hvm_memmap_table_entry form.
 * - The start info, module list, memory map and command line all in the
 *   info area [PVH_INFO_AREA, PVH_INFO_AREA_END); no segment may overlap it.
 * - The initrd, if any, page-aligned at the top of RAM below the 3 GiB
 *   hole, above the kernel's highest segment there (as boot/linux.c).
 * - 32-bit protected mode, paging off (x86_cpu_state_flat32): flat 4 GiB
 *   CS (execute/read) and DS/ES/SS/FS/GS (read/write), CR0 = PE (and the
 *   fixed ET bit), CR4 = 0, EFLAGS = 0x2, TR a 32-bit TSS with base 0 and
 *   limit 0x67, EIP = the note's entry, EBX = PVH_START_INFO, EAX = 0.
 *
 * Portable C: no OS headers. */
#ifndef ROAM_BOOT_PVH_H
#define ROAM_BOOT_PVH_H

#include <stddef.h>
#include <stdint.h>

#include "core/cpu_state.h"
#include "core/err.h"
#include "core/mem.h"

#define PVH_XEN_ELFNOTE_PHYS32_ENTRY 18
#define PVH_START_MAGIC 0x336ec578u
#define PVH_START_VERSION 1

/* struct hvm_start_info (little-endian, 56 bytes in version 1). */
#define PVH_SI_MAGIC 0
#define PVH_SI_VERSION 4
#define PVH_SI_FLAGS 8
#define PVH_SI_NR_MODULES 12
#define PVH_SI_MODLIST_PADDR 16
#define PVH_SI_CMDLINE_PADDR 24
#define PVH_SI_RSDP_PADDR 32
#define PVH_SI_MEMMAP_PADDR 40
#define PVH_SI_MEMMAP_ENTRIES 48
#define PVH_SI_SIZE 56

/* struct hvm_modlist_entry: paddr, size, cmdline_paddr, reserved. */
#define PVH_MOD_PADDR 0
#define PVH_MOD_SIZE 8
#define PVH_MOD_CMDLINE_PADDR 16
#define PVH_MOD_ENTRY_SIZE 32

/* struct hvm_memmap_table_entry: addr, size, type, reserved. */
#define PVH_MEMMAP_ADDR 0
#define PVH_MEMMAP_SIZE 8
#define PVH_MEMMAP_TYPE 16
#define PVH_MEMMAP_ENTRY_SIZE 24

/* The info area (below the EBDA; Linux reserves the first 1 MiB). */
#define PVH_INFO_AREA 0x9000u
#define PVH_INFO_AREA_END 0x10000u
#define PVH_START_INFO PVH_INFO_AREA
#define PVH_TR_LIMIT 0x67u

struct pvh_args {
    const char *cmdline; /* NULL means "" */
    const void *initrd;  /* NULL (or length 0) for none */
    size_t initrd_len;
    uint64_t acpi_rsdp;  /* start_info.rsdp_paddr; 0: not present */
};

/* What pvh_load placed where. */
struct pvh_layout {
    uint32_t entry;
    uint32_t start_info;
    uint64_t kernel_start, kernel_end; /* lowest and highest+1 segment address */
    uint64_t initrd_start, initrd_end; /* 0, 0 without an initrd */
};

/* Looks for the PVH entry note. Returns 1 and sets *entry if the image is
 * an ELF executable with one; 0 if it is not ELF or has no such note (no
 * message); or a negative code with a message (-ENOEXEC) if it is ELF but
 * malformed, its notes run past their segment or the file, or the note's
 * value has the wrong size or lies at or above 4 GiB. entry may be NULL. */
MUST_CHECK int pvh_probe(const void *image, size_t len, uint32_t *entry);

/* Loads a PVH kernel, builds the start info and fills *bsp with the entry
 * state. layout may be NULL. Returns 0 or a negative code with a message:
 * -ENOEXEC (not ELF, malformed, or no PVH entry note), -EINVAL (it or the
 * initrd does not fit this guest's RAM), -E2BIG (the command line does not
 * fit the info area). Nothing is written to guest memory on error. */
MUST_CHECK int pvh_load(struct guest_mem *mem, const void *image, size_t len,
                        const struct pvh_args *args, struct x86_cpu_state *bsp,
                        struct pvh_layout *layout);

#endif
