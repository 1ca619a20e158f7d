/* Intel 8254 programmable interval timer (Intel 82C54 CHMOS Programmable
 * Interval Timer datasheet, order 231244), as wired on a PC: three channels
 * clocked at 1.193182 MHz at ports 0x40-0x43, channel 0's OUT on ISA IRQ 0,
 * channel 2's GATE and OUT on port 0x61 with the speaker enable.
 *
 * The device is a pure state machine. Counters are not ticked: each channel
 * remembers the input-clock tick at which its counting element (CE) was
 * loaded, and a read computes the count and OUT from virtual time (as QEMU's
 * i8254 does). The only timer is channel 0's, armed for the next rising edge
 * of OUT when that edge interrupts the guest. Channel 0 drives its irq_line
 * with the OUT level in modes 0 and 1 (OUT stays high after terminal count),
 * and with a pulse at each rising edge of OUT in modes 2-5 (the PIC's IRQ 0
 * is edge-triggered), so a periodic timer costs one callback per period.
 *
 * pit8254_register_pio() puts it on the PIO bus: pit8254_ops at
 * PIT8254_BASE (PIT8254_NR_PORTS ports) and pit8254_speaker_ops at
 * PIT8254_SPEAKER_PORT (1 port), both with the device as opaque. */
#ifndef ROAM_DEV_PIT8254_H
#define ROAM_DEV_PIT8254_H

#include <stdint.h>

#include "core/bus.h"
#include "core/err.h"
#include "core/irq.h"
#include "core/timerq.h"

#define PIT8254_BASE 0x40
#define PIT8254_NR_PORTS 4
#define PIT8254_SPEAKER_PORT 0x61
#define PIT8254_IRQ 0
#define PIT8254_FREQ_HZ 1193182u
/* Port 0x61's refresh bit toggles every 15.085 us, like the PC/AT's. */
#define PIT8254_REFRESH_NS 15085u

/* Port 0x61 bits. */
#define PIT8254_P61_GATE2 0x01
#define PIT8254_P61_SPEAKER 0x02
#define PIT8254_P61_REFRESH 0x10
#define PIT8254_P61_OUT2 0x20

/* Read-back status byte bits. */
#define PIT8254_STATUS_OUT 0x80
#define PIT8254_STATUS_NULL 0x40

/* Where a channel is in its count cycle. */
enum pit8254_phase {
    PIT8254_IDLE = 0,   /* control word written, no count yet */
    PIT8254_WAIT = 1,   /* mode 1/5: count written, waiting for a gate trigger;
                           mode 0: between the two bytes of a count (counting stopped) */
    PIT8254_RUN = 2,    /* CE loaded (or loads at load_tick) and counting */
    PIT8254_PAUSED = 3, /* gate low stopped counting after paused_e ticks */
};

/* One channel. Counts are values, not register encodings: 1..65536 in
 * binary mode and 1..10000 in BCD mode (a written 0 is the maximum). */
struct pit8254_channel_state {
    uint64_t load_tick;       /* input-clock tick at which CE was (or will be) loaded */
    uint64_t next_load_tick;  /* modes 2/3, pending: the period end where cr takes over */
    uint64_t null_clear_tick; /* tick at which cr reaches CE; UINT64_MAX: at a gate trigger */
    uint64_t paused_e;        /* ticks counted since the load when counting stopped */
    uint32_t cr;              /* count register: the count last written */
    uint32_t count;           /* the count CE was loaded with for the current cycle */
    uint16_t frozen_ce;       /* CE (as read) while it is not counting from a load */
    uint16_t latched_count;   /* output latch after a latch command */
    uint8_t count_latched;    /* 0, or what remains to read: 1 lsb, 2 msb, 3 lsb then msb */
    uint8_t status_latched;
    uint8_t status;
    uint8_t read_state;  /* rw mode 3, unlatched: 0 lsb next, 1 msb next */
    uint8_t write_state; /* rw mode 3: 0 lsb next, 1 msb next */
    uint8_t write_latch; /* the lsb written while write_state is 1 */
    uint8_t rw_mode;     /* 1 lsb, 2 msb, 3 lsb then msb */
    uint8_t mode;        /* M2..M0 as written (6 and 7 act as 2 and 3) */
    uint8_t bcd;
    uint8_t gate;
    uint8_t phase;      /* enum pit8254_phase */
    uint8_t pending;    /* modes 2/3: cr loads at next_load_tick */
    uint8_t null_count; /* cr written and not yet loaded into CE */
};

/* Everything a migration must carry: plain values, no pointers. Ticks are
 * counted from virtual time 0 at PIT8254_FREQ_HZ. */
struct pit8254_state {
    struct pit8254_channel_state ch[3];
    uint64_t irq_deadline_ns; /* channel 0's timer, or UINT64_MAX if not armed */
    uint8_t irq_level;        /* level last driven on the irq line */
    uint8_t port61;           /* speaker enable and bits 2-3 as written (gate 2 is ch[2].gate) */
};

struct pit8254 {
    struct pit8254_state s;
    struct timerq *tq;
    struct irq_line irq;
    struct timer timer;
};

extern const struct bus_ops pit8254_ops;         /* ports 0x40-0x43 */
extern const struct bus_ops pit8254_speaker_ops; /* port 0x61 */

/* tq is required (virtual time); irq (channel 0's OUT) may be NULL. */
MUST_CHECK int pit8254_create(struct pit8254 **out, struct timerq *tq, const struct irq_line *irq);
void pit8254_destroy(struct pit8254 *p);
/* Registers both ranges at their PC addresses on the PIO bus. */
MUST_CHECK int pit8254_register_pio(struct pit8254 *p, struct bus *pio);
/* The state a PC BIOS leaves: every channel in mode 3 with count 65536
 * (lsb then msb), channel 0 running at 18.2 Hz, gate 2 low, speaker off. */
void pit8254_reset(struct pit8254 *p);
/* Drives a channel's GATE input (channel 2's is also port 0x61 bit 0;
 * channels 0 and 1 are tied high on a PC). */
void pit8254_set_gate(struct pit8254 *p, unsigned channel, int level);
/* After p->s was replaced (migration): re-arms channel 0's timer and drives
 * the irq line to the restored level. */
void pit8254_post_load(struct pit8254 *p);

/* The migratable state (migrate/vmstate.h): struct pit8254_state, each
 * channel flattened into fields "chN_...". vmstate_load's state is &p->s,
 * its opaque p; post_load checks every mode, phase and count before it
 * calls pit8254_post_load(). */
struct vms_desc;
extern const struct vms_desc pit8254_vms;

#endif
