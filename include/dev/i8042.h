/* Intel 8042 keyboard controller, minimal (IBM PC/AT Technical Reference,
 * "Keyboard Controller": status register, command byte, controller
 * commands, input and output ports): data port 0x60, status/command port
 * 0x64. It answers the controller's own commands, which firmware and
 * kernels use to probe it, set the command byte, gate A20 and reset the
 * machine. No keyboard or mouse is attached: bytes meant for the keyboard
 * are dropped, and no scan codes are ever produced.
 *
 * Resetting the CPU (command 0xFE, any pulse command 0xF0-0xFF with bit 0
 * clear, or writing the output port with bit 0 clear) calls the reset
 * callback; the VMM treats it as "stop the VM".
 *
 * i8042_register_pio() puts it on the PIO bus: i8042_data_ops at
 * I8042_DATA_PORT and i8042_cmd_ops at I8042_CMD_PORT (1 port each), the
 * device as opaque. */
#ifndef ROAM_DEV_I8042_H
#define ROAM_DEV_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/err.h"
#include "core/irq.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64 /* reads give the status register */
#define I8042_IRQ 1

/* Status register. */
#define I8042_STR_OBF 0x01      /* output buffer full: port 0x60 has a byte */
#define I8042_STR_IBF 0x02      /* input buffer full (never: commands run at once) */
#define I8042_STR_SYS 0x04      /* system flag: self-test passed / command byte bit 2 */
#define I8042_STR_CMD 0x08      /* last write was to port 0x64 */
#define I8042_STR_UNLOCKED 0x10 /* keyboard not inhibited by the key lock */
#define I8042_STR_AUXDATA 0x20
#define I8042_STR_TIMEOUT 0x40
#define I8042_STR_PARITY 0x80

/* Command byte (controller RAM byte 0). */
#define I8042_CTR_KBDINT 0x01 /* IRQ 1 when the output buffer fills */
#define I8042_CTR_AUXINT 0x02
#define I8042_CTR_SYS 0x04
#define I8042_CTR_KBDDIS 0x10
#define I8042_CTR_AUXDIS 0x20
#define I8042_CTR_XLATE 0x40

/* Output port. */
#define I8042_OUT_RESET 0x01 /* 0 holds the CPU in reset */
#define I8042_OUT_A20 0x02
#define I8042_OUT_OBF 0x10
#define I8042_OUT_AUXOBF 0x20

/* Controller commands (port 0x64). */
#define I8042_CMD_READ_CTR 0x20  /* 0x20-0x3f read RAM byte n & 0x1f */
#define I8042_CMD_WRITE_CTR 0x60 /* 0x60-0x7f write RAM byte n & 0x1f */
#define I8042_CMD_AUX_DISABLE 0xa7
#define I8042_CMD_AUX_ENABLE 0xa8
#define I8042_CMD_SELF_TEST 0xaa /* answers 0x55 */
#define I8042_CMD_KBD_TEST 0xab  /* answers 0x00: interface OK */
#define I8042_CMD_KBD_DISABLE 0xad
#define I8042_CMD_KBD_ENABLE 0xae
#define I8042_CMD_READ_OUTPORT 0xd0
#define I8042_CMD_WRITE_OUTPORT 0xd1
#define I8042_CMD_WRITE_KBD_OBUF 0xd2 /* next data byte comes back as if from the keyboard */
#define I8042_CMD_A20_OFF 0xdd
#define I8042_CMD_A20_ON 0xdf
#define I8042_CMD_PULSE 0xf0 /* 0xf0-0xff: pulse output bits 0-3 that are 0 in the command */
#define I8042_CMD_RESET 0xfe

/* Everything a migration must carry: plain values, no pointers. */
struct i8042_state {
    uint8_t ram[32];     /* controller RAM; ram[0] is the command byte */
    uint8_t status;      /* OBF, SYS and CMD; the other bits are derived */
    uint8_t obuf;        /* output buffer (port 0x60) */
    uint8_t outport;     /* output port */
    uint8_t pending_cmd; /* command waiting for its data byte on port 0x60, or 0 */
    uint8_t irq_level;   /* level last driven on the irq line */
};

struct i8042 {
    struct i8042_state s;
    struct irq_line irq;
    void (*reset_cb)(void *opaque);
    void *opaque;
};

extern const struct bus_ops i8042_data_ops; /* port 0x60 */
extern const struct bus_ops i8042_cmd_ops;  /* port 0x64 */

/* reset_cb may be NULL. IRQ 1 is not connected until i8042_set_irq(). */
MUST_CHECK int i8042_create(struct i8042 **out, void (*reset_cb)(void *opaque), void *opaque);
void i8042_destroy(struct i8042 *k);
/* Connects IRQ 1: high while the output buffer is full and command byte
 * bit 0 enables it. irq may be NULL (disconnects). */
void i8042_set_irq(struct i8042 *k, const struct irq_line *irq);
/* Registers both ports at their PC addresses on the PIO bus. */
MUST_CHECK int i8042_register_pio(struct i8042 *k, struct bus *pio);
/* Power-on state, as QEMU's: command byte 0x03 (interrupts on), output
 * port 0xcf (CPU running, A20 on), output buffer empty. */
void i8042_reset(struct i8042 *k);
/* Whether the output port enables the A20 gate (bit 1). */
bool i8042_a20(const struct i8042 *k);
/* After k->s was replaced (migration): drives the irq line to the restored level. */
void i8042_post_load(struct i8042 *k);

/* The migratable state (migrate/vmstate.h): struct i8042_state.
 * vmstate_load's state is &k->s, its opaque k; post_load checks the status
 * bits and the pending command before it calls i8042_post_load(). */
struct vms_desc;
extern const struct vms_desc i8042_vms;

#endif
