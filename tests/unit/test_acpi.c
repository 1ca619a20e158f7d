/* boot/acpi: signatures, lengths and checksums of every table, the RSDP's
 * pointers, the FADT's blocks, the MADT's entries per vCPU count, the _S5
 * AML bytes and the PCI root bridge's device and _CRS (ACPI 6.0 sections
 * 5.2, 6.4 and 20.2). */
#include "boot/acpi.h"
#include "test.h"

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint8_t area[ACPI_AREA_SIZE];

static const uint8_t *at(uint64_t gpa)
{
    CHECK(gpa >= ACPI_BASE && gpa < ACPI_BASE + ACPI_AREA_SIZE);
    return area + (gpa - ACPI_BASE);
}

/* A table at gpa: its signature, its length fits, it sums to 0. */
static const uint8_t *table(uint64_t gpa, const char *sig)
{
    const uint8_t *t = at(gpa);
    CHECK(memcmp(t, sig, 4) == 0);
    CHECK(gpa + le32(t + 4) <= ACPI_BASE + ACPI_AREA_SIZE);
    CHECK_EQ(acpi_sum(t, le32(t + 4)), 0);
    return t;
}

static void build(unsigned ncpus, struct acpi_layout *l)
{
    struct acpi_config cfg = {ncpus, (uint8_t)(ncpus & 0xf)};
    memset(area, 0xcc, sizeof(area));
    CHECK_EQ(acpi_build(area, sizeof(area), &cfg, l), 0);
}

static void rsdp_and_roots(void)
{
    struct acpi_layout l;
    const uint8_t *r, *x, *rs;

    build(1, &l);
    CHECK_EQ(l.rsdp, ACPI_BASE);
    CHECK_EQ(l.rsdp % 16, 0); /* where the OS's scan of 0xe0000-0xfffff looks */
    r = at(l.rsdp);
    CHECK(memcmp(r, "RSD PTR ", 8) == 0);
    CHECK_EQ(acpi_sum(r, 20), 0);
    CHECK_EQ(acpi_sum(r, ACPI_RSDP_LEN), 0);
    CHECK_EQ(r[15], 2);
    CHECK_EQ(le32(r + 20), ACPI_RSDP_LEN);
    CHECK_EQ(le32(r + 16), l.rsdt);
    CHECK_EQ(le64(r + 24), l.xsdt);
    x = table(l.xsdt, "XSDT");
    CHECK_EQ(le32(x + 4), 36 + 16);
    CHECK_EQ(le64(x + 36), l.fadt);
    CHECK_EQ(le64(x + 44), l.madt);
    rs = table(l.rsdt, "RSDT");
    CHECK_EQ(le32(rs + 4), 36 + 8);
    CHECK_EQ(le32(rs + 36), l.fadt);
    CHECK_EQ(le32(rs + 40), l.madt);
}

static void check_gas(const uint8_t *g, uint64_t port, unsigned bits)
{
    CHECK_EQ(g[0], 1); /* SystemIO */
    CHECK_EQ(g[1], bits);
    CHECK_EQ(le64(g + 4), port);
}

static void fadt_facs_dsdt(void)
{
    struct acpi_layout l;
    const uint8_t *f, *facs, *d;
    uint32_t flags;

    build(2, &l);
    f = table(l.fadt, "FACP");
    CHECK_EQ(le32(f + 4), ACPI_FADT_LEN);
    CHECK_EQ(f[8], 6);
    CHECK_EQ(le64(f + 132), l.facs);
    CHECK_EQ(le64(f + 140), l.dsdt);
    CHECK_EQ(le32(f + 40), l.dsdt);
    CHECK_EQ(le16(f + 46), 9); /* SCI_INT */
    CHECK_EQ(le32(f + 48), 0); /* no SMI_CMD */
    CHECK_EQ(le32(f + 56), ACPI_PM_BASE + ACPI_PM1_EVT_OFF);
    CHECK_EQ(le32(f + 64), ACPI_PM_BASE + ACPI_PM1_CNT_OFF);
    CHECK_EQ(le32(f + 76), ACPI_PM_BASE + ACPI_PM_TMR_OFF);
    CHECK_EQ(f[88], 4);
    CHECK_EQ(f[89], 2);
    CHECK_EQ(f[91], 4);
    check_gas(f + 148, ACPI_PM_BASE + ACPI_PM1_EVT_OFF, 32);
    check_gas(f + 172, ACPI_PM_BASE + ACPI_PM1_CNT_OFF, 16);
    check_gas(f + 208, ACPI_PM_BASE + ACPI_PM_TMR_OFF, 32);
    check_gas(f + 116, 0xcf9, 8); /* RESET_REG */
    CHECK_EQ(f[128], 6);
    /* IAPC_BOOT_ARCH: legacy devices, no VGA, and no 8042 for the OS to
     * probe (the i8042 only resets). */
    CHECK_EQ(le16(f + 109), (1u << 0) | (1u << 2));
    flags = le32(f + 112);
    CHECK(flags & (1u << 10));   /* RESET_REG_SUP */
    CHECK(flags & (1u << 8));    /* TMR_VAL_EXT */
    CHECK(!(flags & (1u << 20))); /* not HW_REDUCED_ACPI */
    facs = at(l.facs);
    CHECK_EQ(l.facs % 64, 0);
    CHECK(memcmp(facs, "FACS", 4) == 0);
    CHECK_EQ(le32(facs + 4), 64);
    d = table(l.dsdt, "DSDT");
    CHECK_EQ(le32(d + 4), 36 + acpi_dsdt_aml_len);
    CHECK(l.dsdt + le32(d + 4) <= l.madt);
    {
        static const uint8_t s5[] = {0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
                                     0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00};
        CHECK(acpi_dsdt_aml_len > sizeof(s5));
        CHECK(memcmp(d + 36, s5, sizeof(s5)) == 0);
    }
}

/* An AML PkgLength (ACPI 6.0, 20.2.4) at p: the length and its bytes. */
static unsigned pkg_length(const uint8_t *p, unsigned *nbytes)
{
    unsigned extra = p[0] >> 6, len = extra ? p[0] & 0x0fu : p[0] & 0x3fu;

    for (unsigned i = 0; i < extra; i++)
        len |= (unsigned)p[1 + i] << (4 + 8 * i);
    *nbytes = 1 + extra;
    return len;
}

/* Name (NAME, ...) inside [p, end): the bytes after the NameSeg. */
static const uint8_t *aml_name(const uint8_t *p, const uint8_t *end, const char *name)
{
    for (; p + 5 <= end; p++)
        if (p[0] == 0x08 && memcmp(p + 1, name, 4) == 0)
            return p + 5;
    return NULL;
}

/* \_SB.PCI0 after \_S5: a PNP0A03 device whose PkgLength ends the table,
 * bus 0, and a _CRS whose resource descriptors chain to the End Tag at the
 * buffer's end: bus numbers 0-255, the config ports 0xcf8-0xcff consumed,
 * I/O windows around them and the memory window in the 3 GiB hole. */
static void dsdt_pci_root(void)
{
    static const uint8_t dev[] = {0x5b, 0x82};
    static const uint8_t path[] = {'\\', 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0'};
    struct acpi_layout l;
    const uint8_t *d, *p, *end, *v, *crs, *crs_end;
    unsigned n, len, io_windows = 0, mem_windows = 0, buses = 0, ports = 0;

    build(1, &l);
    d = table(l.dsdt, "DSDT");
    end = d + le32(d + 4);
    p = d + 36 + 14; /* after \_S5 */
    CHECK(memcmp(p, dev, 2) == 0);
    len = pkg_length(p + 2, &n);
    CHECK(p + 2 + len == end);
    CHECK(memcmp(p + 2 + n, path, sizeof(path)) == 0);
    v = aml_name(p, end, "_HID");
    CHECK(v && v[0] == 0x0c && le32(v + 1) == 0x030ad041u); /* EisaId ("PNP0A03") */
    v = aml_name(p, end, "_BBN");
    CHECK(v && v[0] == 0x00);
    v = aml_name(p, end, "_UID");
    CHECK(v && v[0] == 0x00);
    v = aml_name(p, end, "_CRS");
    CHECK(v && v[0] == 0x11); /* BufferOp */
    if (!v)
        return;
    len = pkg_length(v + 1, &n);
    CHECK(v + 1 + len == end);
    CHECK_EQ(v[1 + n], 0x0a); /* ByteConst buffer size */
    crs = v + 1 + n + 2;
    crs_end = crs + v[1 + n + 1];
    CHECK(crs_end == end);
    /* Large items (bit 7) have a 16-bit length after the tag, small ones
     * the length in the tag's bits 0-2 (6.4.2, 6.4.3). */
    for (p = crs; p < crs_end && p[0] != 0x79;
         p += (p[0] & 0x80) ? 3u + le16(p + 1) : 1u + (p[0] & 7u)) {
        if (p[0] == 0x47) { /* I/O port: 0xcf8, 8 ports */
            CHECK_EQ(le16(p + 2), 0xcf8);
            CHECK_EQ(le16(p + 4), 0xcf8);
            CHECK_EQ(p[7], 8);
            ports++;
        } else if (p[0] == 0x88 && p[3] == 2) { /* bus numbers */
            CHECK_EQ(le16(p + 8), 0);
            CHECK_EQ(le16(p + 10), 0xff);
            CHECK_EQ(le16(p + 14), 0x100);
            buses++;
        } else if (p[0] == 0x88 && p[3] == 1) { /* I/O window, outside 0xcf8-0xcff */
            uint16_t lo = le16(p + 8), hi = le16(p + 10);
            CHECK(hi < 0xcf8 || lo > 0xcff);
            CHECK_EQ(le16(p + 14), hi - lo + 1);
            io_windows++;
        } else if (p[0] == 0x87 && p[3] == 0) { /* memory window */
            CHECK_EQ(le32(p + 10), 0xc0000000u);
            CHECK_EQ(le32(p + 14), 0xfebfffffu);
            CHECK_EQ(le32(p + 22), 0xfebfffffu - 0xc0000000u + 1);
            CHECK(le32(p + 14) < ACPI_IOAPIC_ADDR);
            mem_windows++;
        } else {
            CHECK(0);
        }
    }
    CHECK(p + 2 == crs_end && p[0] == 0x79);
    CHECK_EQ(buses, 1);
    CHECK_EQ(ports, 1);
    CHECK_EQ(io_windows, 2);
    CHECK_EQ(mem_windows, 1);
}

static void madt_per_cpu_count(void)
{
    static const unsigned counts[] = {1, 2, 4, 64, 255};

    for (unsigned c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
        unsigned n = counts[c], lapics = 0, isos = 0, ioapics = 0, nmis = 0;
        struct acpi_layout l;
        const uint8_t *m, *e, *end;

        build(n, &l);
        m = table(l.madt, "APIC");
        CHECK_EQ(le32(m + 4), l.madt_len);
        CHECK_EQ(le32(m + 36), 0xfee00000u);
        CHECK_EQ(le32(m + 40), 1); /* PCAT_COMPAT */
        end = m + le32(m + 4);
        for (e = m + 44; e < end; e += e[1]) {
            CHECK(e[1] >= 2 && e + e[1] <= end);
            switch (e[0]) {
            case ACPI_MADT_LAPIC:
                CHECK_EQ(e[1], 8);
                CHECK_EQ(e[2], lapics); /* UID */
                CHECK_EQ(e[3], lapics); /* APIC ID */
                CHECK_EQ(le32(e + 4), 1);
                lapics++;
                break;
            case ACPI_MADT_IOAPIC:
                CHECK_EQ(e[2], n & 0xf);
                CHECK_EQ(le32(e + 4), 0xfec00000u);
                CHECK_EQ(le32(e + 8), 0);
                ioapics++;
                break;
            case ACPI_MADT_ISO:
                CHECK_EQ(e[2], 0);
                if (e[3] == 0) {
                    CHECK_EQ(le32(e + 4), 2);
                    CHECK_EQ(le16(e + 8), 0x5); /* edge, active high */
                } else {
                    CHECK_EQ(e[3], 9);
                    CHECK_EQ(le32(e + 4), 9);
                    CHECK_EQ(le16(e + 8), 0xd); /* level, active high */
                }
                isos++;
                break;
            case ACPI_MADT_LAPIC_NMI:
                CHECK_EQ(e[2], 0xff);
                CHECK_EQ(e[5], 1);
                nmis++;
                break;
            default:
                CHECK(0);
            }
        }
        CHECK(e == end);
        CHECK_EQ(lapics, n);
        CHECK_EQ(ioapics, 1);
        CHECK_EQ(isos, 2);
        CHECK_EQ(nmis, 1);
        CHECK(l.used <= ACPI_AREA_SIZE);
    }
}

static void errors(void)
{
    struct acpi_config cfg = {0, 0};
    uint8_t small[0x100];

    memset(area, 0xcc, sizeof(area));
    CHECK_EQ(acpi_build(area, sizeof(area), &cfg, NULL), -EINVAL);
    cfg.ncpus = 256;
    CHECK_EQ(acpi_build(area, sizeof(area), &cfg, NULL), -EINVAL);
    CHECK_EQ(area[0], 0xcc); /* untouched */
    cfg.ncpus = 1;
    memset(small, 0xcc, sizeof(small));
    CHECK_EQ(acpi_build(small, sizeof(small), &cfg, NULL), -ENOSPC);
    CHECK_EQ(small[0], 0xcc);
}

static const struct test_case tests[] = {
    TEST(rsdp_and_roots),
    TEST(fadt_facs_dsdt),
    TEST(dsdt_pci_root),
    TEST(madt_per_cpu_count),
    TEST(errors),
};
TEST_MAIN("acpi", tests)
