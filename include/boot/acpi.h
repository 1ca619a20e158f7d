/* ACPI tables for roam's PC platform (ACPI Specification 6.0: 5.2.5.3
 * "Root System Description Pointer (RSDP) Structure", 5.2.7 "Root System
 * Description Table (RSDT)", 5.2.8 "Extended System Description Table
 * (XSDT)", 5.2.9 "Fixed ACPI Description Table (FADT)", 5.2.10 "Firmware
 * ACPI Control Structure (FACS)", 5.2.11.1 "Differentiated System
 * Description Table (DSDT)", 5.2.12 "Multiple APIC Description Table
 * (MADT)"; AML encoding from 20.2 "AML Grammar Definition").
 *
 * acpi_build() writes every table into one buffer that stands for guest
 * memory at ACPI_BASE: the RSDP first (16-byte aligned, inside the
 * 0xe0000-0xfffff range that an OS scans for "RSD PTR "), then the RSDT,
 * XSDT, FADT, FACS (64-byte aligned), DSDT and MADT. The area is the BIOS
 * area that roam's e820 map already reserves, so nothing else needs it.
 *
 * The platform it describes (what src/core/vm_devices.c wires):
 * - one Processor Local APIC per vCPU, APIC IDs and processor UIDs 0..n-1,
 *   the LAPICs at 0xfee00000, PCAT_COMPAT (the 8259s are present);
 * - the IOAPIC at 0xfec00000, GSI base 0, ISA IRQ n on GSI n except the
 *   override IRQ 0 -> GSI 2 (edge, active high) and the SCI, IRQ 9 -> GSI 9
 *   (level, active high); LINT1 of every LAPIC is the NMI input;
 * - the PM block of dev/acpi_pm.h: PM1a event, PM1a control and a 32-bit
 *   PM timer (TMR_VAL_EXT), SCI on IRQ 9, no SMI command port (the
 *   platform is always in ACPI mode), the reset register at I/O port 0xcf9
 *   (value 6);
 * - a DSDT with \_S5 = Package {5, 5, 0, 0} (the SLP_TYP value that
 *   powers the machine off) and \_SB.PCI0, the PCI root bridge of
 *   dev/pci_host.h (PNP0A03, bus 0, configuration mechanism #1 at 0xcf8;
 *   I/O windows around it and the memory window 0xc0000000-0xfebfffff).
 *
 * Portable C: no OS headers. */
#ifndef ROAM_BOOT_ACPI_H
#define ROAM_BOOT_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define ACPI_BASE 0xf0000u    /* where the RSDP (and the tables after it) go */
#define ACPI_AREA_SIZE 0x4000u /* room acpi_build may use from ACPI_BASE */

/* Where the PM block's registers are (the FADT points there). */
#define ACPI_PM_BASE 0x600u
#define ACPI_PM1_EVT_OFF 0x0u /* PM1a_EVT_BLK: status (2), enable (2) */
#define ACPI_PM1_CNT_OFF 0x4u /* PM1a_CNT_BLK: control (2) */
#define ACPI_PM_TMR_OFF 0x8u  /* PM_TMR_BLK: 32-bit counter */
#define ACPI_PM_LEN 0xcu
#define ACPI_PM1_EVT_LEN 4
#define ACPI_PM1_CNT_LEN 2
#define ACPI_PM_TMR_LEN 4
#define ACPI_SCI_IRQ 9
#define ACPI_RESET_PORT 0xcf9u
#define ACPI_RESET_VALUE 0x06u
#define ACPI_SLP_TYP_S5 5 /* the \_S5 package's value, the PM1 control SLP_TYP */

#define ACPI_LAPIC_ADDR 0xfee00000u
#define ACPI_IOAPIC_ADDR 0xfec00000u

/* Table lengths that do not depend on the configuration. */
#define ACPI_RSDP_LEN 36
#define ACPI_HDR_LEN 36
#define ACPI_FADT_LEN 276 /* revision 6 */
#define ACPI_FACS_LEN 64

/* MADT entry types (ACPI 6.0 Table 5-46). */
#define ACPI_MADT_LAPIC 0
#define ACPI_MADT_IOAPIC 1
#define ACPI_MADT_ISO 2
#define ACPI_MADT_LAPIC_NMI 4

struct acpi_config {
    unsigned ncpus;  /* 1..255: one LAPIC entry each, APIC IDs 0..ncpus-1 */
    uint8_t ioapic_id;
};

/* Where acpi_build put each table (guest physical addresses). */
struct acpi_layout {
    uint64_t rsdp, rsdt, xsdt, fadt, facs, dsdt, madt;
    uint32_t madt_len, dsdt_len;
    size_t used; /* bytes of buf used from ACPI_BASE */
};

/* Builds the tables into buf, which is guest memory [ACPI_BASE,
 * ACPI_BASE + len). layout may be NULL. Returns 0, or -EINVAL (bad ncpus)
 * or -ENOSPC (len too small) with a message; buf is untouched on error. */
MUST_CHECK int acpi_build(uint8_t *buf, size_t len, const struct acpi_config *cfg,
                          struct acpi_layout *layout);

/* The 8-bit sum of len bytes: a whole table sums to 0. */
uint8_t acpi_sum(const uint8_t *p, size_t len);

/* The DSDT's AML body (after its header), and its length. */
extern const uint8_t acpi_dsdt_aml[];
extern const size_t acpi_dsdt_aml_len;

#endif
