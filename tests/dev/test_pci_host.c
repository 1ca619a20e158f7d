/* dev/pci_host: configuration mechanism #1 through the PIO bus (PCI Local
 * Bus Spec 3.0, 3.2.2.3.2): CONFIG_ADDRESS only as a dword, the host
 * bridge's IDs and class at byte, word and dword widths and offsets,
 * all-ones for absent functions and other buses, the enable bit, the
 * writable registers, a registered function, and the migrated state. */
#include "core/bus.h"
#include "dev/acpi_pm.h"
#include "dev/pci_host.h"
#include "migrate/vmstate.h"
#include "test.h"
#include "unit/vms_test.h"

struct fix {
    struct bus pio;
    struct pci_host *h;
};

static void fix_init(struct fix *f)
{
    bus_init(&f->pio, "pio");
    CHECK_EQ(pci_host_create(&f->h), 0);
    CHECK_EQ(pci_host_register_pio(f->h, &f->pio), 0);
}

static void fix_fini(struct fix *f)
{
    pci_host_destroy(f->h);
    bus_destroy(&f->pio);
}

static uint64_t in(struct fix *f, uint64_t port, unsigned size)
{
    uint64_t v = 0;
    CHECK_EQ(bus_read(&f->pio, port, size, &v), 0);
    return v;
}

static void out(struct fix *f, uint64_t port, unsigned size, uint64_t v)
{
    CHECK_EQ(bus_write(&f->pio, port, size, v), 0);
}

static uint32_t addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
    return PCI_CONFIG_ENABLE | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

/* A mechanism #1 read, as Linux's pci_conf1_read does it. */
static uint64_t cfg_read(struct fix *f, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
                         unsigned size)
{
    out(f, PCI_HOST_CONFIG_ADDRESS, 4, addr(bus, dev, fn, reg));
    return in(f, PCI_HOST_CONFIG_DATA + (reg & 3), size);
}

static void cfg_write(struct fix *f, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
                      unsigned size, uint32_t v)
{
    out(f, PCI_HOST_CONFIG_ADDRESS, 4, addr(bus, dev, fn, reg));
    out(f, PCI_HOST_CONFIG_DATA + (reg & 3), size, v);
}

static void config_address_register(void)
{
    struct fix f;

    fix_init(&f);
    CHECK_EQ(in(&f, 0xcf8, 4), 0);
    out(&f, 0xcf8, 4, 0x80000000u);
    CHECK_EQ(in(&f, 0xcf8, 4), 0x80000000u);
    /* reserved bits 30-24 and 1-0 read as 0 */
    out(&f, 0xcf8, 4, 0xffffffffu);
    CHECK_EQ(in(&f, 0xcf8, 4), PCI_CONFIG_ADDRESS_MASK);
    CHECK_EQ(f.h->s.config_address, PCI_CONFIG_ADDRESS_MASK);
    /* byte and word accesses are ordinary I/O: they neither change nor
     * read the register (Linux's type 2 probe writes 0 to 0xcf8 and 0xcfa
     * and must not read it back) */
    out(&f, 0xcf8, 4, 0x80001234u & PCI_CONFIG_ADDRESS_MASK);
    out(&f, 0xcfb, 1, 0x01);
    out(&f, 0xcf8, 1, 0x00);
    out(&f, 0xcfa, 1, 0x00);
    out(&f, 0xcfa, 2, 0x0000);
    CHECK_EQ(in(&f, 0xcf8, 4), 0x80001234u & PCI_CONFIG_ADDRESS_MASK);
    CHECK_EQ(in(&f, 0xcf8, 1), 0xff);
    CHECK_EQ(in(&f, 0xcfa, 1), 0xff);
    CHECK_EQ(in(&f, 0xcfa, 2), 0xffff);
    CHECK_EQ(in(&f, 0xcfb, 1), 0xff);
    /* 0xcf9 is not ours: the reset control register of acpi_pm */
    CHECK(bus_find(&f.pio, 0xcf9) == NULL);
    CHECK_EQ(f.pio.unhandled, 0);
    pci_host_reset(f.h);
    CHECK_EQ(in(&f, 0xcf8, 4), 0);
    fix_fini(&f);
}

static void coexists_with_reset_register(void)
{
    struct fix f;
    struct timerq q;
    struct acpi_pm *pm;

    fix_init(&f);
    timerq_init(&q, NULL);
    CHECK_EQ(acpi_pm_create(&pm, &q, NULL, NULL), 0);
    CHECK_EQ(acpi_pm_register_pio(pm, &f.pio), 0);
    out(&f, 0xcf8, 4, addr(0, 0, 0, 0));
    out(&f, 0xcf9, 1, ACPI_RST_SYS);
    CHECK_EQ(in(&f, 0xcf9, 1), ACPI_RST_SYS);
    CHECK_EQ(in(&f, 0xcf8, 4), addr(0, 0, 0, 0));
    CHECK_EQ(in(&f, 0xcfc, 4), 0x12378086u);
    acpi_pm_destroy(pm);
    fix_fini(&f);
}

static void host_bridge_ids(void)
{
    struct fix f;

    fix_init(&f);
    /* dword, word and byte reads of the vendor and device IDs */
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_VENDOR_ID, 4), 0x12378086u);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_VENDOR_ID, 2), 0x8086);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_DEVICE_ID, 2), 0x1237);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, 0, 1), 0x86);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, 1, 1), 0x80);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, 2, 1), 0x37);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, 3, 1), 0x12);
    /* revision and class: dword at 8, the class word at 0xa (what Linux's
     * pci_sanity_check reads), bytes */
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_REVISION_ID, 4), 0x06000002u);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_CLASS_DEVICE, 2), 0x0600);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_REVISION_ID, 1), PCI_HOST_BRIDGE_REVISION);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_CLASS_PROG, 1), 0x00);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, 0x0a, 1), 0x00);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, 0x0b, 1), 0x06);
    /* status: DEVSEL medium, fast back-to-back; header type 0, one function */
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_STATUS, 2), 0x0280);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_HEADER_TYPE, 1), 0x00);
    /* no BARs, no interrupt pin, nothing past the header */
    for (unsigned r = PCI_BAR0; r < PCI_CONFIG_SPACE_SIZE; r += 4)
        CHECK_EQ(cfg_read(&f, 0, 0, 0, r, 4), 0);
    /* the helper agrees with the ports */
    CHECK_EQ(pci_host_config_read(f.h, 0, 0, PCI_CLASS_DEVICE, 2), 0x0600);
    CHECK_EQ(f.pio.unhandled, 0);
    fix_fini(&f);
}

static void unaligned_and_partial_data_accesses(void)
{
    struct fix f;

    fix_init(&f);
    out(&f, 0xcf8, 4, addr(0, 0, 0, 0));
    /* a word at 0xcfd reaches config bytes 1-2 (within the dword) */
    CHECK_EQ(in(&f, 0xcfd, 2), 0x3780);
    /* a dword at 0xcfe: bytes 2-3 are config, the rest is past 0xcff */
    CHECK_EQ(in(&f, 0xcfe, 4), 0xffff1237u);
    /* the register number in CONFIG_ADDRESS selects the dword */
    out(&f, 0xcf8, 4, addr(0, 0, 0, 8));
    CHECK_EQ(in(&f, 0xcfc, 4), 0x06000002u);
    CHECK_EQ(in(&f, 0xcff, 1), 0x06);
    fix_fini(&f);
}

static void absent_functions_read_all_ones(void)
{
    struct fix f;

    fix_init(&f);
    /* other devices and functions on bus 0 */
    for (unsigned dev = 0; dev < 32; dev++)
        for (unsigned fn = 0; fn < 8; fn++) {
            if (dev == 0 && fn == 0)
                continue;
            CHECK_EQ(cfg_read(&f, 0, dev, fn, 0, 4), 0xffffffffu);
            CHECK_EQ(cfg_read(&f, 0, dev, fn, 2, 2), 0xffff);
            CHECK_EQ(cfg_read(&f, 0, dev, fn, 0xe, 1), 0xff);
        }
    /* device 0 on every other bus */
    CHECK_EQ(cfg_read(&f, 1, 0, 0, 0, 4), 0xffffffffu);
    CHECK_EQ(cfg_read(&f, 255, 0, 0, 0, 2), 0xffff);
    /* writes there go nowhere */
    cfg_write(&f, 0, 1, 0, PCI_COMMAND, 2, 0x7);
    CHECK_EQ(cfg_read(&f, 0, 1, 0, PCI_COMMAND, 2), 0xffff);
    CHECK_EQ(pci_host_config_read(f.h, 3, 0, 0, 4), 0xffffffffu);
    CHECK_EQ(f.pio.unhandled, 0);
    fix_fini(&f);
}

static void enable_bit(void)
{
    struct fix f;

    fix_init(&f);
    /* bit 31 clear: CONFIG_DATA is an ordinary I/O cycle, nobody answers */
    out(&f, 0xcf8, 4, 0x00000000u);
    CHECK_EQ(in(&f, 0xcfc, 4), 0xffffffffu);
    CHECK_EQ(in(&f, 0xcfe, 2), 0xffff);
    CHECK_EQ(in(&f, 0xcfd, 1), 0xff);
    out(&f, 0xcf8, 4, 0x0000000cu); /* cache line size, disabled */
    out(&f, 0xcfc, 1, 0x10);
    CHECK_EQ(f.h->s.bridge_cache_line, 0);
    /* bit 31 set: the same address reaches the bridge */
    out(&f, 0xcf8, 4, 0x80000000u);
    CHECK_EQ(in(&f, 0xcfc, 4), 0x12378086u);
    CHECK_EQ(f.pio.unhandled, 0);
    fix_fini(&f);
}

static void writable_registers(void)
{
    struct fix f;

    fix_init(&f);
    /* read-only: IDs, class, status, BARs */
    cfg_write(&f, 0, 0, 0, PCI_VENDOR_ID, 4, 0);
    cfg_write(&f, 0, 0, 0, PCI_REVISION_ID, 4, 0xffffffffu);
    cfg_write(&f, 0, 0, 0, PCI_BAR0, 4, 0xffffffffu); /* BAR sizing finds none */
    cfg_write(&f, 0, 0, 0, PCI_INTERRUPT_LINE, 1, 11);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_VENDOR_ID, 4), 0x12378086u);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_REVISION_ID, 4), 0x06000002u);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_BAR0, 4), 0);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_INTERRUPT_LINE, 1), 0);
    /* Command: the enables the bridge has, nothing else */
    cfg_write(&f, 0, 0, 0, PCI_COMMAND, 2, 0xffff);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_COMMAND, 2), PCI_HOST_BRIDGE_COMMAND_MASK);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_STATUS, 2), 0x0280); /* a dword write left it */
    cfg_write(&f, 0, 0, 0, PCI_COMMAND + 1, 1, 0x00);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_COMMAND, 2), PCI_HOST_BRIDGE_COMMAND_MASK & 0xff);
    /* a dword write at 4 sets Command and leaves the (read-only) status */
    cfg_write(&f, 0, 0, 0, PCI_COMMAND, 4, 0xffff0006u);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_COMMAND, 4), 0x02800006u);
    /* cache line size and latency timer read back */
    cfg_write(&f, 0, 0, 0, PCI_CACHE_LINE_SIZE, 1, 0x10);
    cfg_write(&f, 0, 0, 0, PCI_LATENCY_TIMER, 1, 0x40);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_CACHE_LINE_SIZE, 4), 0x00004010u);
    cfg_write(&f, 0, 0, 0, PCI_CACHE_LINE_SIZE, 2, 0x2008);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_CACHE_LINE_SIZE, 2), 0x2008);
    CHECK_EQ(f.h->s.bridge_command, 0x0006);
    CHECK_EQ(f.h->s.bridge_cache_line, 0x08);
    CHECK_EQ(f.h->s.bridge_latency, 0x20);
    pci_host_reset(f.h);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_COMMAND, 2), 0);
    CHECK_EQ(cfg_read(&f, 0, 0, 0, PCI_CACHE_LINE_SIZE, 2), 0);
    fix_fini(&f);
}

/* A function added to the table sees aligned, in-dword accesses. */
struct fake_fn {
    unsigned reads, writes, last_reg, last_size;
    uint32_t last_value;
};

static uint32_t fake_read(void *opaque, unsigned reg, unsigned size)
{
    struct fake_fn *ff = opaque;
    ff->reads++;
    ff->last_reg = reg;
    ff->last_size = size;
    return 0xa5a5a5a5u & (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
}

static void fake_write(void *opaque, unsigned reg, uint32_t value, unsigned size)
{
    struct fake_fn *ff = opaque;
    ff->writes++;
    ff->last_reg = reg;
    ff->last_size = size;
    ff->last_value = value;
}

static const struct pci_config_ops fake_ops = {fake_read, fake_write};

static void function_table(void)
{
    struct fix f;
    struct fake_fn ff = {0};

    fix_init(&f);
    CHECK_EQ(pci_host_add_function(f.h, PCI_DEVFN(3, 2), &fake_ops, &ff, "fake"), 0);
    CHECK_EQ(pci_host_add_function(f.h, PCI_DEVFN(3, 2), &fake_ops, &ff, "again"), -EEXIST);
    CHECK_EQ(pci_host_add_function(f.h, PCI_DEVFN(0, 0), &fake_ops, &ff, "bridge"), -EEXIST);
    CHECK_EQ(pci_host_add_function(f.h, 256, &fake_ops, &ff, "too far"), -EINVAL);
    CHECK_EQ(cfg_read(&f, 0, 3, 2, 0x42, 2), 0xa5a5);
    CHECK_EQ(ff.last_reg, 0x42);
    CHECK_EQ(ff.last_size, 2);
    cfg_write(&f, 0, 3, 2, 0x43, 1, 0x1ff); /* the value is cut to the size */
    CHECK_EQ(ff.last_reg, 0x43);
    CHECK_EQ(ff.last_value, 0xff);
    /* a dword at 0xcfe is cut at 0xcff: the function sees 2 bytes */
    out(&f, 0xcf8, 4, addr(0, 3, 2, 0x40));
    CHECK_EQ(in(&f, 0xcfe, 4), 0xffffa5a5u);
    CHECK_EQ(ff.last_reg, 0x42);
    CHECK_EQ(ff.last_size, 2);
    /* the same devfn on another bus is not it */
    CHECK_EQ(cfg_read(&f, 1, 3, 2, 0, 4), 0xffffffffu);
    CHECK_EQ(ff.reads, 2);
    CHECK_EQ(ff.writes, 1);
    fix_fini(&f);
}

static void migration(void)
{
    struct fix a, b;
    struct pci_host_state bad;

    CHECK_EQ(vmstate_check_desc(&pci_host_vms), 0);
    CHECK_STR(pci_host_vms.name, "pci_host");
    fix_init(&a);
    fix_init(&b);
    cfg_write(&a, 0, 0, 0, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    cfg_write(&a, 0, 0, 0, PCI_CACHE_LINE_SIZE, 1, 0x10);
    cfg_write(&a, 0, 0, 0, PCI_LATENCY_TIMER, 1, 0x40);
    /* the guest was between its CONFIG_ADDRESS and CONFIG_DATA accesses */
    out(&a, 0xcf8, 4, addr(0, 0, 0, PCI_CLASS_DEVICE));
    roundtrip(&pci_host_vms, STREAM_SEC_DEVICE, 0, &a.h->s, &b.h->s, b.h, sizeof(a.h->s));
    CHECK_EQ(in(&b, 0xcf8, 4), addr(0, 0, 0, PCI_CLASS_DEVICE));
    CHECK_EQ(in(&b, 0xcfe, 2), 0x0600); /* the data access completes there */
    CHECK_EQ(cfg_read(&b, 0, 0, 0, PCI_COMMAND, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    CHECK_EQ(cfg_read(&b, 0, 0, 0, PCI_CACHE_LINE_SIZE, 2), 0x4010);
    /* corrupt states are refused by name */
    bad = a.h->s;
    bad.config_address = 0x81000000u; /* reserved bit 24 */
    expect_reject(&pci_host_vms, &bad, &b.h->s, b.h, "pci_host", "config_address");
    bad = a.h->s;
    bad.bridge_command = 0x0400; /* INTx disable: the bridge has no INTx */
    expect_reject(&pci_host_vms, &bad, &b.h->s, b.h, "pci_host", "bridge_command");
    fix_fini(&a);
    fix_fini(&b);
}

static const struct test_case tests[] = {
    TEST(config_address_register),
    TEST(coexists_with_reset_register),
    TEST(host_bridge_ids),
    TEST(unaligned_and_partial_data_accesses),
    TEST(absent_functions_read_all_ones),
    TEST(enable_bit),
    TEST(writable_registers),
    TEST(function_table),
    TEST(migration),
};
TEST_MAIN("pci_host", tests)
