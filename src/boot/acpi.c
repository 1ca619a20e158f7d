/* ACPI tables: RSDP, RSDT, XSDT, FADT, FACS, DSDT and MADT, laid out as in
 * the ACPI Specification 6.0 (section numbers at each builder). See
 * boot/acpi.h for the platform they describe. Multi-byte fields are little
 * endian (5.2 "ACPI System Description Tables"). */
#include "boot/acpi.h"

#include <string.h>

#include "core/bytes.h"

/* Table offsets from ACPI_BASE; the MADT goes last since it grows with
 * the vCPU count. */
#define OFF_RSDP 0x000u
#define OFF_RSDT 0x040u
#define OFF_XSDT 0x080u
#define OFF_FADT 0x100u
#define OFF_FACS 0x240u /* 64-byte aligned (5.2.10) */
#define OFF_DSDT 0x280u
#define OFF_MADT 0x400u

#define MADT_FIXED_LEN 44 /* header, LAPIC address, flags */
#define MADT_LAPIC_LEN 8
#define MADT_IOAPIC_LEN 12
#define MADT_ISO_LEN 10
#define MADT_NMI_LEN 6
#define MADT_PCAT_COMPAT 1u

/* FADT Fixed Feature Flags (Table 5-35). */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_PWR_BUTTON (1u << 4) /* no fixed-feature power button */
#define FADT_SLP_BUTTON (1u << 5) /* no fixed-feature sleep button */
#define FADT_FIX_RTC (1u << 6)    /* no RTC wake status in PM1 */
#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)
/* IA-PC Boot Architecture Flags (Table 5-36). */
#define FADT_LEGACY_DEVICES (1u << 0)
#define FADT_8042 (1u << 1)
#define FADT_VGA_NOT_PRESENT (1u << 2)

#define GAS_SYSTEM_IO 1
#define GAS_BYTE 1
#define GAS_WORD 2
#define GAS_DWORD 3

/* Name (_S5, Package () {5, 5, 0, 0}) (20.2.5.1 DefName, 20.2.5.4
 * DefPackage): PkgLength 8 counts itself, NumElements and the 6 bytes of
 * elements; 5 is a ByteConst (BytePrefix 0x0a), 0 a ZeroOp.
 *
 * Then the PCI root bridge of dev/pci_host.h, which Linux finds only here
 * (with ACPI it scans no PCI bus the DSDT does not declare): byte for byte
 * what `iasl -oa` makes of this ASL (6.1.5 _HID, 6.1.12 _UID, 6.5.5 _BBN,
 * 6.2.2 _CRS; resource descriptors from 6.4.2.5 and 6.4.3.5):
 *
 *   Device (\_SB.PCI0) {
 *       Name (_HID, EisaId ("PNP0A03"))   // PCI (not PCIe: no _CBA, no MCFG)
 *       Name (_UID, Zero)
 *       Name (_BBN, Zero)                 // bus 0
 *       Name (_CRS, ResourceTemplate () {
 *           WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
 *                          0, 0x00, 0xff, 0, 0x100)
 *           IO (Decode16, 0xcf8, 0xcf8, 1, 8)          // mechanism #1's ports
 *           WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
 *                   0, 0x0000, 0x0cf7, 0, 0x0cf8)
 *           WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
 *                   0, 0x0d00, 0xffff, 0, 0xf300)
 *           DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
 *                        NonCacheable, ReadWrite,
 *                        0, 0xc0000000, 0xfebfffff, 0, 0x3ec00000)
 *       })
 *   }
 *
 * The memory window is the hole below 4 GiB (core/mem.h: RAM stops at 3
 * GiB whatever its size) up to the IOAPIC. PkgLengths of 64 or more take
 * two bytes (20.2.4): 0x40 | (n & 0xf), n >> 4. */
#define CRS_LEN 84 /* the resource template's bytes */
const uint8_t acpi_dsdt_aml[] = {
    0x08, '_', 'S', '5', '_',             /* NameOp, NameSeg */
    0x12, 0x08, 0x04,                     /* PackageOp, PkgLength, NumElements */
    0x0a, ACPI_SLP_TYP_S5, 0x0a, ACPI_SLP_TYP_S5, /* PM1a, PM1b SLP_TYP */
    0x00, 0x00,                           /* reserved */

    0x5b, 0x82, 0x40, 0x08,               /* DeviceOp, PkgLength 128 */
    '\\', 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', /* RootChar, DualNamePrefix */
    0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03, /* DWordConst 0x030ad041 */
    0x08, '_', 'U', 'I', 'D', 0x00,       /* ZeroOp */
    0x08, '_', 'B', 'B', 'N', 0x00,
    0x08, '_', 'C', 'R', 'S', 0x11, 0x48, 0x05, /* BufferOp, PkgLength 88 */
    0x0a, CRS_LEN,                        /* BufferSize: ByteConst */
    /* Word Address Space Descriptor (tag 0x88, 13 bytes): type 2 (bus
     * number), flags MinFixed | MaxFixed (0x0c), granularity, min, max,
     * translation, length */
    0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01,
    /* I/O Port Descriptor: 16-bit decode, min, max, alignment, length */
    0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08,
    /* Word Address Space Descriptors, type 1 (I/O), EntireRange (0x03) */
    0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03,
    0x00, 0x00, 0x00, 0x00, 0xf7, 0x0c, 0x00, 0x00, 0xf8, 0x0c,
    0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03,
    0x00, 0x00, 0x00, 0x0d, 0xff, 0xff, 0x00, 0x00, 0x00, 0xf3,
    /* DWord Address Space Descriptor (tag 0x87, 23 bytes): type 0
     * (memory), ReadWrite and NonCacheable (0x01) */
    0x87, 0x17, 0x00, 0x00, 0x0c, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xbf, 0xfe,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x3e,
    0x79, 0x00,                           /* End Tag, checksum 0 (none) */
};
const size_t acpi_dsdt_aml_len = sizeof(acpi_dsdt_aml);
_Static_assert(OFF_DSDT + ACPI_HDR_LEN + sizeof(acpi_dsdt_aml) <= OFF_MADT,
               "the DSDT runs into the MADT");

uint8_t acpi_sum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;
    while (len--)
        s = (uint8_t)(s + *p++);
    return s;
}

/* The System Description Table Header (5.2.6, Table 5-29); the checksum
 * is set by finish() once the body is written. */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    le32_put(t + 4, len);
    t[8] = rev;
    t[9] = 0;
    memcpy(t + 10, "ROAM  ", 6);      /* OEMID */
    memcpy(t + 16, "ROAMVM  ", 8);    /* OEM Table ID */
    le32_put(t + 24, 1);                 /* OEM Revision */
    memcpy(t + 28, "ROAM", 4);        /* Creator ID */
    le32_put(t + 32, 1);                 /* Creator Revision */
}

static void finish(uint8_t *t, uint32_t len)
{
    t[9] = (uint8_t)(0 - acpi_sum(t, len));
}

/* Generic Address Structure (5.2.3.2, Table 5-25) for an I/O port block. */
static void gas_io(uint8_t *p, uint16_t port, uint8_t bits, uint8_t access)
{
    p[0] = GAS_SYSTEM_IO;
    p[1] = bits;
    p[2] = 0;
    p[3] = access;
    le64_put(p + 4, port);
}

/* RSDP, revision 2 (5.2.5.3, Table 5-27): the first checksum covers the
 * ACPI 1.0 part (20 bytes), the extended one all 36. */
static void build_rsdp(uint8_t *p, uint32_t rsdt, uint64_t xsdt)
{
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, "ROAM  ", 6);
    p[15] = 2;
    le32_put(p + 16, rsdt);
    le32_put(p + 20, ACPI_RSDP_LEN);
    le64_put(p + 24, xsdt);
    p[8] = (uint8_t)(0 - acpi_sum(p, 20));
    p[32] = (uint8_t)(0 - acpi_sum(p, ACPI_RSDP_LEN));
}

/* FADT revision 6 (5.2.9, Table 5-34). Every block is given both as the
 * 32-bit field and as the X_ Generic Address with the same length, so an
 * OS that reads either agrees (ACPICA compares them). */
static void build_fadt(uint8_t *t, uint64_t facs, uint64_t dsdt)
{
    header(t, "FACP", ACPI_FADT_LEN, 6);
    le32_put(t + 36, 0);                  /* FIRMWARE_CTRL: X_FIRMWARE_CTRL is used */
    le32_put(t + 40, (uint32_t)dsdt);     /* DSDT (the same as X_DSDT) */
    t[45] = 0;                         /* Preferred_PM_Profile: unspecified */
    le16_put(t + 46, ACPI_SCI_IRQ);       /* SCI_INT */
    le32_put(t + 48, 0);                  /* SMI_CMD: none, always in ACPI mode */
    le32_put(t + 56, ACPI_PM_BASE + ACPI_PM1_EVT_OFF); /* PM1a_EVT_BLK */
    le32_put(t + 64, ACPI_PM_BASE + ACPI_PM1_CNT_OFF); /* PM1a_CNT_BLK */
    le32_put(t + 76, ACPI_PM_BASE + ACPI_PM_TMR_OFF);  /* PM_TMR_BLK */
    t[88] = ACPI_PM1_EVT_LEN;
    t[89] = ACPI_PM1_CNT_LEN;
    t[91] = ACPI_PM_TMR_LEN;
    /* No C2/C3: latencies above 100 and 1000 us say so. */
    le16_put(t + 96, 101);
    le16_put(t + 98, 1001);
    /* No FADT_8042: roam's i8042 is there for the 0xFE reset pulse only (no
     * keyboard), and with the flag Linux probes it port by port, which
     * costs an emulated boot over a second of timeouts. */
    le16_put(t + 109, FADT_LEGACY_DEVICES | FADT_VGA_NOT_PRESENT);
    le32_put(t + 112, FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON |
                       FADT_FIX_RTC | FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP);
    gas_io(t + 116, ACPI_RESET_PORT, 8, GAS_BYTE); /* RESET_REG */
    t[128] = ACPI_RESET_VALUE;
    t[131] = 0;                        /* FADT Minor Version: 6.0 */
    le64_put(t + 132, facs);              /* X_FIRMWARE_CTRL */
    le64_put(t + 140, dsdt);              /* X_DSDT */
    gas_io(t + 148, ACPI_PM_BASE + ACPI_PM1_EVT_OFF, ACPI_PM1_EVT_LEN * 8, GAS_WORD);
    gas_io(t + 172, ACPI_PM_BASE + ACPI_PM1_CNT_OFF, ACPI_PM1_CNT_LEN * 8, GAS_WORD);
    gas_io(t + 208, ACPI_PM_BASE + ACPI_PM_TMR_OFF, ACPI_PM_TMR_LEN * 8, GAS_DWORD);
    finish(t, ACPI_FADT_LEN);
}

/* FACS (5.2.10, Table 5-37): no checksum; roam has no waking vector and
 * no global lock users, so it is all zero but the signature, length and
 * version. */
static void build_facs(uint8_t *t)
{
    memcpy(t, "FACS", 4);
    le32_put(t + 4, ACPI_FACS_LEN);
    t[32] = 2; /* Version */
}

/* MADT (5.2.12, Table 5-45) with the entries of Tables 5-47 (Processor
 * Local APIC), 5-48 (I/O APIC), 5-49 (Interrupt Source Override) and 5-53
 * (Local APIC NMI). ISO flags (Table 5-50): polarity in bits 0-1 (1 =
 * active high), trigger mode in bits 2-3 (1 = edge, 3 = level). */
static uint32_t madt_len(unsigned ncpus)
{
    return MADT_FIXED_LEN + ncpus * MADT_LAPIC_LEN + MADT_IOAPIC_LEN + 2 * MADT_ISO_LEN +
           MADT_NMI_LEN;
}

static void madt_iso(uint8_t *e, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    e[0] = ACPI_MADT_ISO;
    e[1] = MADT_ISO_LEN;
    e[2] = 0; /* Bus: ISA */
    e[3] = irq;
    le32_put(e + 4, gsi);
    le16_put(e + 8, flags);
}

static void build_madt(uint8_t *t, const struct acpi_config *cfg)
{
    uint32_t len = madt_len(cfg->ncpus);
    uint8_t *e = t + MADT_FIXED_LEN;

    header(t, "APIC", len, 4);
    le32_put(t + 36, ACPI_LAPIC_ADDR);
    le32_put(t + 40, MADT_PCAT_COMPAT);
    for (unsigned i = 0; i < cfg->ncpus; i++, e += MADT_LAPIC_LEN) {
        e[0] = ACPI_MADT_LAPIC;
        e[1] = MADT_LAPIC_LEN;
        e[2] = (uint8_t)i; /* ACPI Processor UID */
        e[3] = (uint8_t)i; /* APIC ID */
        le32_put(e + 4, 1);   /* Enabled */
    }
    e[0] = ACPI_MADT_IOAPIC;
    e[1] = MADT_IOAPIC_LEN;
    e[2] = cfg->ioapic_id;
    e[3] = 0;
    le32_put(e + 4, ACPI_IOAPIC_ADDR);
    le32_put(e + 8, 0); /* Global System Interrupt Base */
    e += MADT_IOAPIC_LEN;
    /* The PIT's IRQ 0 is on IOAPIC pin 2, as on every PC. */
    madt_iso(e, 0, 2, 0x0005);
    e += MADT_ISO_LEN;
    /* The SCI is shareable level-triggered; ours is active high. */
    madt_iso(e, ACPI_SCI_IRQ, ACPI_SCI_IRQ, 0x000d);
    e += MADT_ISO_LEN;
    e[0] = ACPI_MADT_LAPIC_NMI;
    e[1] = MADT_NMI_LEN;
    e[2] = 0xff;     /* all processors */
    le16_put(e + 3, 0); /* flags: conforms to the bus */
    e[5] = 1;        /* LINT1 */
    finish(t, len);
}

/* RSDT (5.2.7) and XSDT (5.2.8): the FADT and the MADT (the DSDT and FACS
 * are reached through the FADT). */
static void build_sdt(uint8_t *t, const char *sig, unsigned width, uint64_t fadt, uint64_t madt)
{
    uint32_t len = ACPI_HDR_LEN + 2 * width;

    header(t, sig, len, 1);
    if (width == 4) {
        le32_put(t + 36, (uint32_t)fadt);
        le32_put(t + 40, (uint32_t)madt);
    } else {
        le64_put(t + 36, fadt);
        le64_put(t + 44, madt);
    }
    finish(t, len);
}

int acpi_build(uint8_t *buf, size_t len, const struct acpi_config *cfg,
               struct acpi_layout *layout)
{
    uint64_t base = ACPI_BASE;
    uint32_t dlen = ACPI_HDR_LEN + (uint32_t)acpi_dsdt_aml_len, mlen;

    if (!cfg || cfg->ncpus < 1 || cfg->ncpus > 255)
        return err_set(-EINVAL, "ACPI: %u vCPUs do not fit 8-bit APIC IDs",
                       cfg ? cfg->ncpus : 0);
    mlen = madt_len(cfg->ncpus);
    if (len < OFF_MADT + mlen)
        return err_set(-ENOSPC, "ACPI: the tables need %u bytes, the area has %llu",
                       (unsigned)(OFF_MADT + mlen), (unsigned long long)len);

    memset(buf, 0, OFF_MADT + mlen);
    build_sdt(buf + OFF_RSDT, "RSDT", 4, base + OFF_FADT, base + OFF_MADT);
    build_sdt(buf + OFF_XSDT, "XSDT", 8, base + OFF_FADT, base + OFF_MADT);
    build_fadt(buf + OFF_FADT, base + OFF_FACS, base + OFF_DSDT);
    build_facs(buf + OFF_FACS);
    header(buf + OFF_DSDT, "DSDT", dlen, 2); /* revision 2: 64-bit integers */
    memcpy(buf + OFF_DSDT + ACPI_HDR_LEN, acpi_dsdt_aml, acpi_dsdt_aml_len);
    finish(buf + OFF_DSDT, dlen);
    build_madt(buf + OFF_MADT, cfg);
    build_rsdp(buf + OFF_RSDP, (uint32_t)(base + OFF_RSDT), base + OFF_XSDT);

    if (layout) {
        layout->rsdp = base + OFF_RSDP;
        layout->rsdt = base + OFF_RSDT;
        layout->xsdt = base + OFF_XSDT;
        layout->fadt = base + OFF_FADT;
        layout->facs = base + OFF_FACS;
        layout->dsdt = base + OFF_DSDT;
        layout->madt = base + OFF_MADT;
        layout->madt_len = mlen;
        layout->dsdt_len = dlen;
        layout->used = OFF_MADT + mlen;
    }
    return 0;
}
