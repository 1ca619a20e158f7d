/* dev/acpi_pm: the PM timer against a manual clock, PM1 status/enable and
 * the SCI, SLP_EN with S5 powering off, the 0xcf9 reset, migration checks. */
#include "boot/acpi.h"
#include "core/bus.h"
#include "dev/acpi_pm.h"
#include "migrate/vmstate.h"
#include "test.h"

#define EVT (ACPI_PM_BASE + ACPI_PM1_EVT_OFF)
#define CNT (ACPI_PM_BASE + ACPI_PM1_CNT_OFF)
#define TMR (ACPI_PM_BASE + ACPI_PM_TMR_OFF)

struct fix {
    struct bus pio;
    struct timerq q;
    struct acpi_pm *pm;
    unsigned poweroffs, resets, sci_changes;
    int sci;
};

static void on_poweroff(void *opaque)
{
    ((struct fix *)opaque)->poweroffs++;
}

static void on_reset(void *opaque)
{
    ((struct fix *)opaque)->resets++;
}

static void sci_set(void *opaque, int pin, int level)
{
    struct fix *f = opaque;
    (void)pin;
    f->sci = level;
    f->sci_changes++;
}

static void fix_init(struct fix *f)
{
    struct irq_line sci;
    struct acpi_pm_host host = {on_poweroff, on_reset, NULL};

    memset(f, 0, sizeof(*f));
    sci = (struct irq_line){sci_set, f, ACPI_SCI_IRQ};
    host.opaque = f;
    bus_init(&f->pio, "pio");
    timerq_init(&f->q, NULL);
    CHECK_EQ(acpi_pm_create(&f->pm, &f->q, &sci, &host), 0);
    CHECK_EQ(acpi_pm_register_pio(f->pm, &f->pio), 0);
}

static void fix_fini(struct fix *f)
{
    acpi_pm_destroy(f->pm);
    bus_destroy(&f->pio);
}

static uint64_t rd(struct fix *f, uint64_t port, unsigned size)
{
    uint64_t v = 0;
    CHECK_EQ(bus_read(&f->pio, port, size, &v), 0);
    return v;
}

static void wr(struct fix *f, uint64_t port, unsigned size, uint64_t v)
{
    CHECK_EQ(bus_write(&f->pio, port, size, v), 0);
}

static void timer_rate(void)
{
    struct fix f;

    fix_init(&f);
    CHECK_EQ(rd(&f, TMR, 4), 0);
    timerq_advance(&f.q, 1000000000ull); /* one second: exactly 3579545 ticks */
    CHECK_EQ(rd(&f, TMR, 4), 3579545u);
    timerq_advance(&f.q, 1000); /* 1 us more: 3.58 ticks */
    CHECK_EQ(rd(&f, TMR, 4), 3579545u + 3);
    /* byte reads see the same count */
    CHECK_EQ(rd(&f, TMR, 1) | rd(&f, TMR + 1, 1) << 8 | rd(&f, TMR + 2, 2) << 16,
             3579545u + 3);
    /* an hour in: no overflow in the scaling, 32 bits wrap */
    timerq_set_now(&f.q, 3600ull * 1000000000ull);
    CHECK_EQ(rd(&f, TMR, 4), (uint32_t)(3600ull * 3579545u));
    CHECK_EQ(acpi_pm_timer_count(f.pm), 3600ull * 3579545u);
    /* the timer is read-only */
    wr(&f, TMR, 4, 0);
    CHECK_EQ(rd(&f, TMR, 4), (uint32_t)(3600ull * 3579545u));
    fix_fini(&f);
}

static void timer_status_and_sci(void)
{
    struct fix f;
    uint64_t half_ns = 2147483648ull * 1000000000ull / ACPI_PM_TIMER_HZ + 1;

    fix_init(&f);
    CHECK_EQ(rd(&f, EVT, 2) & ACPI_PM1_TMR, 0);
    wr(&f, EVT + 2, 2, ACPI_PM1_TMR); /* TMR_EN */
    CHECK_EQ(rd(&f, EVT + 2, 2), ACPI_PM1_TMR);
    CHECK_EQ(f.sci, 0);
    /* bit 31 toggles after 2^31 ticks (about 600 s): TMR_STS and the SCI */
    timerq_advance(&f.q, half_ns - 2);
    CHECK_EQ(f.sci, 0);
    timerq_advance(&f.q, 2);
    CHECK_EQ(f.sci, 1);
    CHECK_EQ(rd(&f, EVT, 2) & ACPI_PM1_TMR, ACPI_PM1_TMR);
    /* writing 1 clears it and lowers the SCI; 0s leave status alone */
    wr(&f, EVT, 2, 0);
    CHECK_EQ(f.sci, 1);
    wr(&f, EVT, 2, ACPI_PM1_TMR);
    CHECK_EQ(f.sci, 0);
    CHECK_EQ(rd(&f, EVT, 2) & ACPI_PM1_TMR, 0);
    /* without TMR_EN the status still sets, the SCI stays low */
    wr(&f, EVT + 2, 2, 0);
    timerq_advance(&f.q, half_ns);
    CHECK_EQ(rd(&f, EVT, 2) & ACPI_PM1_TMR, ACPI_PM1_TMR);
    CHECK_EQ(f.sci, 0);
    /* enabling an already-set status raises the SCI at once */
    wr(&f, EVT, 4, (uint32_t)ACPI_PM1_TMR << 16);
    CHECK_EQ(f.sci, 1);
    fix_fini(&f);
}

static void control_and_poweroff(void)
{
    struct fix f;

    fix_init(&f);
    /* always in ACPI mode */
    CHECK_EQ(rd(&f, CNT, 2), ACPI_PM1_SCI_EN);
    /* SLP_TYP alone does nothing, and reads back */
    wr(&f, CNT, 2, ACPI_SLP_TYP_S5 << ACPI_PM1_SLP_TYP_SHIFT);
    CHECK_EQ(f.poweroffs, 0);
    CHECK_EQ(rd(&f, CNT, 2), ACPI_PM1_SCI_EN | ACPI_SLP_TYP_S5 << ACPI_PM1_SLP_TYP_SHIFT);
    /* SLP_EN with S5 powers off; SLP_EN is write-only */
    wr(&f, CNT, 2, ACPI_SLP_TYP_S5 << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN);
    CHECK_EQ(f.poweroffs, 1);
    CHECK_EQ(rd(&f, CNT, 2) & ACPI_PM1_SLP_EN, 0);
    /* ACPICA writes the high byte alone too */
    wr(&f, CNT + 1, 1, (ACPI_SLP_TYP_S5 << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN) >> 8);
    CHECK_EQ(f.poweroffs, 2);
    /* another sleep type wakes at once: WAK_STS, no power-off */
    wr(&f, CNT, 2, 1u << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN);
    CHECK_EQ(f.poweroffs, 2);
    CHECK_EQ(rd(&f, EVT, 2) & ACPI_PM1_WAK_STS, ACPI_PM1_WAK_STS);
    wr(&f, EVT, 2, ACPI_PM1_WAK_STS);
    CHECK_EQ(rd(&f, EVT, 2) & ACPI_PM1_WAK_STS, 0);
    CHECK_EQ(f.resets, 0);
    fix_fini(&f);
}

static void reset_port(void)
{
    struct fix f;

    fix_init(&f);
    wr(&f, ACPI_RESET_PORT, 1, ACPI_RST_SYS); /* Linux's reboot=pci: 2 first */
    CHECK_EQ(f.resets, 0);
    CHECK_EQ(rd(&f, ACPI_RESET_PORT, 1), ACPI_RST_SYS);
    wr(&f, ACPI_RESET_PORT, 1, ACPI_RESET_VALUE); /* the FADT's value */
    CHECK_EQ(f.resets, 1);
    wr(&f, ACPI_RESET_PORT, 1, 0x0e);
    CHECK_EQ(f.resets, 2);
    CHECK_EQ(f.poweroffs, 0);
    fix_fini(&f);
}

static void migration(void)
{
    struct fix f;

    fix_init(&f);
    CHECK_STR(acpi_pm_vms.name, "acpi_pm");
    wr(&f, EVT + 2, 2, ACPI_PM1_PWRBTN);
    f.pm->s.pm1_sts = ACPI_PM1_PWRBTN; /* as a restored stream would say */
    f.pm->s.sci_level = 1;
    CHECK_EQ(acpi_pm_vms.post_load(f.pm), 0);
    CHECK_EQ(f.sci, 1);
    f.pm->s.pm1_cnt = ACPI_PM1_SLP_EN;
    CHECK(acpi_pm_vms.post_load(f.pm) < 0);
    f.pm->s.pm1_cnt = ACPI_PM1_SCI_EN;
    f.pm->s.sci_level = 2;
    CHECK(acpi_pm_vms.post_load(f.pm) < 0);
    fix_fini(&f);
}

static const struct test_case tests[] = {
    TEST(timer_rate),
    TEST(timer_status_and_sci),
    TEST(control_and_poweroff),
    TEST(reset_port),
    TEST(migration),
};
TEST_MAIN("acpi_pm", tests)
