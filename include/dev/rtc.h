/* CMOS real-time clock: Motorola MC146818A (datasheet "MC146818A Real-Time
 * Clock Plus RAM"), as on a PC: index port 0x70 (bit 7 masks NMI), data
 * port 0x71, 128 bytes of CMOS of which 0x00-0x0d are the clock's and 0x32
 * holds the century (IBM PC/AT convention, also ACPI's FADT CENTURY).
 *
 * The device is a pure state machine. The time is kept as a base: a wall-
 * clock second (seconds since the Unix epoch, UTC) at a virtual-time second
 * boundary; the time registers are computed from it when read. Flags that
 * no enabled interrupt needs (UF, PF, AF with the enable off) are computed
 * from virtual time when register C is read, so a timer is armed only for
 * an interrupt the guest enabled, or for the alarm flag, and not while the
 * same flag is already pending. The interrupt output is a level on IRQ 8:
 * high while register C's IRQF is set.
 *
 * rtc_register_pio() puts it on the PIO bus: rtc_ops at RTC_BASE
 * (RTC_NR_PORTS ports), the device as opaque. */
#ifndef ROAM_DEV_RTC_H
#define ROAM_DEV_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/err.h"
#include "core/irq.h"
#include "core/timerq.h"

#define RTC_BASE 0x70
#define RTC_NR_PORTS 2
#define RTC_IRQ 8
#define RTC_CMOS_SIZE 128

/* CMOS indexes of the clock. */
#define RTC_SECONDS 0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES 0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS 0x04
#define RTC_HOURS_ALARM 0x05
#define RTC_DAY_OF_WEEK 0x06 /* 1 = Sunday */
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32

#define RTC_A_UIP 0x80  /* update in progress (read-only) */
#define RTC_A_DV 0x70   /* divider: 0x20 is 32.768 kHz; 0x60/0x70 hold it in reset */
#define RTC_A_RS 0x0f   /* periodic rate select */
#define RTC_B_SET 0x80  /* stop updates so the time can be set */
#define RTC_B_PIE 0x40  /* periodic interrupt enable */
#define RTC_B_AIE 0x20  /* alarm interrupt enable */
#define RTC_B_UIE 0x10  /* update-ended interrupt enable */
#define RTC_B_SQWE 0x08 /* square wave enable (stored, no pin) */
#define RTC_B_DM 0x04   /* data mode: 1 binary, 0 BCD */
#define RTC_B_24H 0x02  /* 1: 24-hour; 0: 12-hour with PM in hours bit 7 */
#define RTC_B_DSE 0x01  /* daylight saving enable (stored, not applied) */
#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40
#define RTC_C_AF 0x20
#define RTC_C_UF 0x10
#define RTC_D_VRT 0x80 /* valid RAM and time: the battery is always good */

/* An alarm register value with both top bits set matches any value. */
#define RTC_ALARM_DONT_CARE 0xc0

/* Everything a migration must carry: plain values, no pointers. */
struct rtc_state {
    /* The clock's registers and the RAM. The time registers (0, 2, 4, 6-9,
     * 0x32) are authoritative only while the clock is stopped (SET, or the
     * divider in reset); while it runs they are refreshed on each read.
     * Register C holds the flags that have been accounted for. */
    uint8_t cmos[RTC_CMOS_SIZE];
    int64_t base_sec;      /* wall-clock seconds (epoch, UTC) at base_ns */
    int64_t base_ns;       /* a virtual-time second boundary: the divider's phase */
    uint64_t synced_ns;    /* register C accounts for every event up to here */
    uint64_t alarm_ns;     /* next alarm match that sets AF, or UINT64_MAX */
    uint64_t timer_deadline_ns; /* the armed timer, or UINT64_MAX */
    uint8_t index;         /* port 0x70 bits 0-6 */
    uint8_t nmi_masked;    /* port 0x70 bit 7 */
    uint8_t irq_level;     /* level last driven on the irq line */
};

struct rtc {
    struct rtc_state s;
    struct timerq *tq;
    struct irq_line irq;
    struct timer timer;
};

extern const struct bus_ops rtc_ops;

/* base_sec: the wall-clock time (seconds since the epoch, UTC) at the
 * current virtual time; the core passes host_wallclock_ns() / 1e9. tq is
 * required; irq may be NULL. Registers start as a PC BIOS leaves them:
 * A = 0x26 (32.768 kHz, 1024 Hz periodic rate), B = 0x02 (24-hour, BCD). */
MUST_CHECK int rtc_create(struct rtc **out, struct timerq *tq, const struct irq_line *irq,
                          int64_t base_sec);
void rtc_destroy(struct rtc *r);
/* Registers the two ports on the PIO bus. */
MUST_CHECK int rtc_register_pio(struct rtc *r, struct bus *pio);
/* The RESET pin: clears PIE, AIE, UIE and SQWE and the flags in C, and
 * lowers the interrupt. The time, A, the RAM and port 0x70 are untouched
 * (battery-backed). */
void rtc_reset(struct rtc *r);
/* Whether the guest masked NMIs through port 0x70 bit 7. */
bool rtc_nmi_masked(const struct rtc *r);
/* The core's access to CMOS RAM (0x0e-0x7f except the century byte 0x32),
 * e.g. to store memory sizes before boot. Returns -EINVAL for the clock's
 * registers. */
MUST_CHECK int rtc_cmos_set(struct rtc *r, unsigned index, uint8_t value);
uint8_t rtc_cmos_get(const struct rtc *r, unsigned index);
/* The current wall-clock time (seconds since the epoch) the clock shows. */
int64_t rtc_time(const struct rtc *r);
/* After r->s was replaced (migration): re-arms the timer and drives the
 * irq line to the restored level. */
void rtc_post_load(struct rtc *r);

/* The migratable state (migrate/vmstate.h): struct rtc_state (all of CMOS,
 * the time base, the flag bookkeeping and port 0x70). vmstate_load's state
 * is &r->s, its opaque r; post_load checks the index, the flags and the
 * time base before it calls rtc_post_load(). */
struct vms_desc;
extern const struct vms_desc rtc_vms;

#endif
