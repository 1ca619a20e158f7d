/* ACPI fixed-hardware PM block (ACPI Specification 6.0, 4.8.3 "PM1 Event
 * Grouping", 4.8.3.1 "PM1 Status Registers" / "PM1 Enable Registers",
 * 4.8.3.2 "PM1 Control Registers", 4.8.3.3 "Power Management Timer",
 * 4.8.3.6 "Reset Register"; register bits from Tables 4-16, 4-17 and 4-18)
 * and the PC's reset control register at port 0xcf9 (Intel PIIX4/ICH
 * "Reset Control Register": bit 2 RST_CPU starts a reset, bit 1 SYS_RST
 * and bit 3 FULL_RST choose its kind).
 *
 * Registers (the FADT of boot/acpi.h points at them, ACPI_PM_BASE):
 * - +0 PM1a status (16 bits, write 1 to clear), +2 PM1a enable (16 bits);
 * - +4 PM1a control: SCI_EN (reads 1: there is no SMI command port, the
 *   platform is always in ACPI mode), SLP_TYP, and SLP_EN (write-only),
 *   which with SLP_TYP 5 (S5, soft off) powers the VM off;
 * - +8 the PM timer: 32 bits (TMR_VAL_EXT) counting at 3.579545 MHz from
 *   virtual time 0, so it needs no state of its own and migrates with
 *   the VM's clock. TMR_STS is set whenever bit 31 of the count toggles;
 *   with TMR_EN it raises the SCI.
 * The SCI (ISA IRQ 9, level, active high) is high while any status bit is
 * set with its enable bit.
 *
 * Accesses of 1, 2 or 4 bytes anywhere in the block work byte by byte, as
 * on a PIIX4. acpi_pm_register_pio() puts acpi_pm_ops at ACPI_PM_BASE
 * (ACPI_PM_LEN ports) and acpi_pm_reset_ops at ACPI_RESET_PORT (1 port),
 * both with the device as opaque. */
#ifndef ROAM_DEV_ACPI_PM_H
#define ROAM_DEV_ACPI_PM_H

#include <stdint.h>

#include "core/bus.h"
#include "core/err.h"
#include "core/irq.h"
#include "core/timerq.h"

#define ACPI_PM_TIMER_HZ 3579545u

/* PM1 status and enable bits (Tables 4-16, 4-17). */
#define ACPI_PM1_TMR (1u << 0)
#define ACPI_PM1_BM_STS (1u << 4)
#define ACPI_PM1_GBL (1u << 5)
#define ACPI_PM1_PWRBTN (1u << 8)
#define ACPI_PM1_SLPBTN (1u << 9)
#define ACPI_PM1_RTC (1u << 10)
#define ACPI_PM1_WAK_STS (1u << 15)
/* PM1 control bits (Table 4-18). */
#define ACPI_PM1_SCI_EN (1u << 0)
#define ACPI_PM1_BM_RLD (1u << 1)
#define ACPI_PM1_GBL_RLS (1u << 2)
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_TYP_MASK (7u << 10)
#define ACPI_PM1_SLP_EN (1u << 13)
/* Reset control register at 0xcf9. */
#define ACPI_RST_SYS (1u << 1)
#define ACPI_RST_CPU (1u << 2)
#define ACPI_RST_FULL (1u << 3)

/* Everything a migration must carry: plain values, no pointers. */
struct acpi_pm_state {
    uint64_t tmr_half_seen; /* count >> 31 when TMR_STS was last cleared */
    uint16_t pm1_sts;       /* every status bit but TMR_STS */
    uint16_t pm1_en;
    uint16_t pm1_cnt;       /* SLP_EN is never stored */
    uint8_t rst_cnt;        /* 0xcf9: SYS_RST and FULL_RST as written */
    uint8_t sci_level;      /* level last driven on the SCI */
};

/* What the guest asks of the machine. Either may be NULL. */
struct acpi_pm_host {
    void (*poweroff)(void *opaque); /* SLP_EN with SLP_TYP S5 */
    void (*reset)(void *opaque);    /* RST_CPU at 0xcf9 */
    void *opaque;
};

struct acpi_pm {
    struct acpi_pm_state s;
    struct timerq *tq;
    struct irq_line sci;
    struct acpi_pm_host host;
    struct timer timer; /* TMR_STS, armed only while TMR_EN is set */
};

extern const struct bus_ops acpi_pm_ops;       /* the PM block */
extern const struct bus_ops acpi_pm_reset_ops; /* port 0xcf9 */

/* tq is required (virtual time); sci and host may be NULL. */
MUST_CHECK int acpi_pm_create(struct acpi_pm **out, struct timerq *tq,
                              const struct irq_line *sci, const struct acpi_pm_host *host);
void acpi_pm_destroy(struct acpi_pm *pm);
MUST_CHECK int acpi_pm_register_pio(struct acpi_pm *pm, struct bus *pio);
/* Power-on state: everything clear but SCI_EN. */
void acpi_pm_reset(struct acpi_pm *pm);
/* The PM timer's count now (all 64 bits; the guest sees the low 32). */
uint64_t acpi_pm_timer_count(const struct acpi_pm *pm);
/* After pm->s was replaced (migration): re-arms the timer and drives the
 * SCI to the restored level. */
void acpi_pm_post_load(struct acpi_pm *pm);

/* The migratable state (migrate/vmstate.h): struct acpi_pm_state, state
 * &pm->s, opaque pm; post_load checks SLP_TYP and calls
 * acpi_pm_post_load(). */
struct vms_desc;
extern const struct vms_desc acpi_pm_vms;

#endif
