/* ACPI PM block and reset control register. Spec: ACPI 6.0 section 4.8.3
 * (PM1 event and control registers, the PM timer) and 4.8.3.6 (the reset
 * register); port 0xcf9 as Intel's PIIX4/ICH Reset Control Register. See
 * dev/acpi_pm.h. */
#include "dev/acpi_pm.h"

#include <stdlib.h>

#include "boot/acpi.h"
#include "core/log.h"
#include "migrate/vmstate.h"

#define NS_PER_S 1000000000ull
/* TMR_STS is set when bit 31 of the count toggles (TMR_VAL_EXT). */
#define TMR_HALF_SHIFT 31
/* PM1 control bits that read back as written (SLP_EN and GBL_RLS are
 * write-only; SCI_EN is forced). */
#define CNT_STORED (ACPI_PM1_SLP_TYP_MASK | ACPI_PM1_BM_RLD)
#define STS_VALID                                                                         \
    (ACPI_PM1_BM_STS | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | ACPI_PM1_RTC |   \
     ACPI_PM1_WAK_STS)

/* floor(ns * HZ / 1e9), without overflowing for any ns. */
static uint64_t ns_to_count(uint64_t ns)
{
    return ns / NS_PER_S * ACPI_PM_TIMER_HZ + ns % NS_PER_S * ACPI_PM_TIMER_HZ / NS_PER_S;
}

/* The first ns at which the count reaches c. */
static uint64_t count_to_ns(uint64_t c)
{
    uint64_t r = c % ACPI_PM_TIMER_HZ;
    return c / ACPI_PM_TIMER_HZ * NS_PER_S + (r * NS_PER_S + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ;
}

uint64_t acpi_pm_timer_count(const struct acpi_pm *pm)
{
    return ns_to_count(timerq_now(pm->tq));
}

static uint16_t pm_sts(const struct acpi_pm *pm)
{
    uint16_t s = pm->s.pm1_sts;
    if (acpi_pm_timer_count(pm) >> TMR_HALF_SHIFT != pm->s.tmr_half_seen)
        s |= ACPI_PM1_TMR;
    return s;
}

/* Drives the SCI from status & enable, and keeps a timer for the next
 * TMR_STS only while it could raise the SCI. */
static void pm_update(struct acpi_pm *pm)
{
    uint16_t sts = pm_sts(pm);
    uint8_t level = (sts & pm->s.pm1_en) != 0;

    if (level != pm->s.sci_level) {
        pm->s.sci_level = level;
        irq_set(&pm->sci, level);
    }
    if ((pm->s.pm1_en & ACPI_PM1_TMR) && !(sts & ACPI_PM1_TMR))
        timerq_arm(pm->tq, &pm->timer,
                   count_to_ns((pm->s.tmr_half_seen + 1) << TMR_HALF_SHIFT));
    else if (pm->timer.armed)
        timerq_cancel(pm->tq, &pm->timer);
}

static void pm_timer_cb(void *opaque, uint64_t now_ns)
{
    (void)now_ns;
    pm_update(opaque);
}

static void pm_write_cnt(struct acpi_pm *pm, uint16_t v)
{
    unsigned typ = (v & ACPI_PM1_SLP_TYP_MASK) >> ACPI_PM1_SLP_TYP_SHIFT;

    pm->s.pm1_cnt = (uint16_t)((v & CNT_STORED) | ACPI_PM1_SCI_EN);
    if (!(v & ACPI_PM1_SLP_EN))
        return;
    if (typ == ACPI_SLP_TYP_S5) {
        if (pm->host.poweroff)
            pm->host.poweroff(pm->host.opaque);
        return;
    }
    /* Only S5 is declared; any other sleep wakes at once, so a guest that
     * tries one waits on WAK_STS for no time rather than forever. */
    log_debug("acpi", "sleep type %u is not supported: waking at once", typ);
    pm->s.pm1_sts |= ACPI_PM1_WAK_STS;
}

/* The block as bytes: status, enable, control, 2 reserved, timer. */
static uint8_t pm_byte(const struct acpi_pm *pm, unsigned off)
{
    uint16_t sts = pm_sts(pm);
    uint32_t tmr = (uint32_t)acpi_pm_timer_count(pm);

    switch (off) {
    case 0: return (uint8_t)sts;
    case 1: return (uint8_t)(sts >> 8);
    case 2: return (uint8_t)pm->s.pm1_en;
    case 3: return (uint8_t)(pm->s.pm1_en >> 8);
    case 4: return (uint8_t)pm->s.pm1_cnt;
    case 5: return (uint8_t)(pm->s.pm1_cnt >> 8);
    case 8: case 9: case 10: case 11: return (uint8_t)(tmr >> (8 * (off - 8)));
    default: return off < ACPI_PM_LEN ? 0 : 0xff;
    }
}

static uint64_t pm_read(void *opaque, uint64_t offset, unsigned size)
{
    const struct acpi_pm *pm = opaque;
    uint64_t v = 0;

    for (unsigned i = 0; i < size && i < 8; i++)
        v |= (uint64_t)pm_byte(pm, (unsigned)offset + i) << (8 * i);
    return v;
}

static void pm_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct acpi_pm *pm = opaque;
    uint16_t clear = 0, en = pm->s.pm1_en, cnt = pm->s.pm1_cnt;
    int cnt_written = 0;

    for (unsigned i = 0; i < size && i < 8; i++) {
        unsigned off = (unsigned)offset + i;
        uint16_t b = (uint8_t)(value >> (8 * i));
        unsigned sh = 8 * (off & 1);

        if (off < 2)
            clear |= (uint16_t)(b << sh);
        else if (off < 4)
            en = (uint16_t)((en & ~(0xffu << sh)) | (unsigned)(b << sh));
        else if (off < 6) {
            cnt = (uint16_t)((cnt & ~(0xffu << sh)) | (unsigned)(b << sh));
            cnt_written = 1;
        }
        /* the timer is read-only; the rest is reserved */
    }
    pm->s.pm1_sts &= (uint16_t)~clear;
    if (clear & ACPI_PM1_TMR)
        pm->s.tmr_half_seen = acpi_pm_timer_count(pm) >> TMR_HALF_SHIFT;
    pm->s.pm1_en = (uint16_t)(en & (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN |
                                    ACPI_PM1_SLPBTN | ACPI_PM1_RTC));
    if (cnt_written)
        pm_write_cnt(pm, cnt);
    pm_update(pm);
}

const struct bus_ops acpi_pm_ops = {pm_read, pm_write};

static uint64_t rst_read(void *opaque, uint64_t offset, unsigned size)
{
    const struct acpi_pm *pm = opaque;
    (void)offset;
    (void)size;
    return pm->s.rst_cnt;
}

static void rst_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct acpi_pm *pm = opaque;
    (void)offset;
    (void)size;
    pm->s.rst_cnt = (uint8_t)(value & (ACPI_RST_SYS | ACPI_RST_FULL));
    /* RST_CPU starts the reset (the FADT's RESET_VALUE 6 sets it, and so
     * do Linux's "reboot=pci" writes 2 then 6, and 0x0e). */
    if ((value & ACPI_RST_CPU) && pm->host.reset)
        pm->host.reset(pm->host.opaque);
}

const struct bus_ops acpi_pm_reset_ops = {rst_read, rst_write};

int acpi_pm_create(struct acpi_pm **out, struct timerq *tq, const struct irq_line *sci,
                   const struct acpi_pm_host *host)
{
    struct acpi_pm *pm = calloc(1, sizeof(*pm));

    *out = NULL;
    if (!pm)
        return err_set(-ENOMEM, "acpi_pm: out of memory");
    pm->tq = tq;
    if (sci)
        pm->sci = *sci;
    if (host)
        pm->host = *host;
    timer_init(&pm->timer, pm_timer_cb, pm);
    acpi_pm_reset(pm);
    *out = pm;
    return 0;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
    if (!pm)
        return;
    if (pm->timer.armed)
        timerq_cancel(pm->tq, &pm->timer);
    free(pm);
}

int acpi_pm_register_pio(struct acpi_pm *pm, struct bus *pio)
{
    int rc = bus_register(pio, ACPI_PM_BASE, ACPI_PM_LEN, &acpi_pm_ops, pm, "acpi-pm");
    if (rc < 0)
        return rc;
    return bus_register(pio, ACPI_RESET_PORT, 1, &acpi_pm_reset_ops, pm, "reset-cf9");
}

void acpi_pm_reset(struct acpi_pm *pm)
{
    pm->s.pm1_sts = 0;
    pm->s.pm1_en = 0;
    pm->s.pm1_cnt = ACPI_PM1_SCI_EN;
    pm->s.rst_cnt = 0;
    pm->s.tmr_half_seen = acpi_pm_timer_count(pm) >> TMR_HALF_SHIFT;
    pm->s.sci_level = 0;
    irq_set(&pm->sci, 0);
    pm_update(pm);
}

void acpi_pm_post_load(struct acpi_pm *pm)
{
    irq_set(&pm->sci, pm->s.sci_level);
    pm_update(pm);
}

/* ---- migration ---- */

static const struct vms_field acpi_pm_vms_fields[] = {
    VMS_U64(1, "tmr_half_seen", struct acpi_pm_state, tmr_half_seen, 1),
    VMS_U16(2, "pm1_sts", struct acpi_pm_state, pm1_sts, 1),
    VMS_U16(3, "pm1_en", struct acpi_pm_state, pm1_en, 1),
    VMS_U16(4, "pm1_cnt", struct acpi_pm_state, pm1_cnt, 1),
    VMS_U8(5, "rst_cnt", struct acpi_pm_state, rst_cnt, 1),
    VMS_U8(6, "sci_level", struct acpi_pm_state, sci_level, 1),
};

static int acpi_pm_vms_post_load(void *opaque)
{
    struct acpi_pm *pm = opaque;

    if (pm->s.pm1_sts & ~STS_VALID)
        return err_set(-EINVAL, "pm1_sts 0x%04x has bits outside 0x%04x", pm->s.pm1_sts,
                       STS_VALID);
    if (pm->s.pm1_cnt & ~(CNT_STORED | ACPI_PM1_SCI_EN))
        return err_set(-EINVAL, "pm1_cnt 0x%04x has write-only or reserved bits",
                       pm->s.pm1_cnt);
    if (pm->s.rst_cnt & ~(ACPI_RST_SYS | ACPI_RST_FULL))
        return err_set(-EINVAL, "rst_cnt 0x%02x has bits outside 0x0a", pm->s.rst_cnt);
    if (pm->s.sci_level > 1)
        return err_set(-EINVAL, "sci_level %u is not 0 or 1", pm->s.sci_level);
    acpi_pm_post_load(pm);
    return 0;
}

const struct vms_desc acpi_pm_vms = {
    .name = "acpi_pm",
    .version = 1,
    .min_version = 1,
    .fields = acpi_pm_vms_fields,
    .nfields = VMS_ARRAY_SIZE(acpi_pm_vms_fields),
    .post_load = acpi_pm_vms_post_load,
};
