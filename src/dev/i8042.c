/* Intel 8042 keyboard controller, minimal. Spec: IBM PC/AT Technical
 * Reference, "Keyboard Controller" (status register, command byte,
 * commands to port 0x64, output port); power-on values as QEMU's
 * hw/input/pckbd.c. See dev/i8042.h. */
#include "dev/i8042.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "migrate/vmstate.h"

static void i8042_update_irq(struct i8042 *k)
{
    struct i8042_state *s = &k->s;
    uint8_t level = (s->status & I8042_STR_OBF) && (s->ram[0] & I8042_CTR_KBDINT);

    if (level != s->irq_level) {
        s->irq_level = level;
        irq_set(&k->irq, level);
    }
}

/* Puts a byte in the output buffer; a byte not yet read is overwritten. */
static void i8042_queue(struct i8042 *k, uint8_t v)
{
    k->s.obuf = v;
    k->s.status |= I8042_STR_OBF;
    i8042_update_irq(k);
}

/* A CPU reset request: the output port's reset line went low. */
static void i8042_cpu_reset(struct i8042 *k)
{
    if (k->reset_cb)
        k->reset_cb(k->opaque);
}

static void i8042_write_ctr(struct i8042 *k, uint8_t v)
{
    k->s.ram[0] = v;
    /* The system flag in the status register follows command byte bit 2. */
    k->s.status = (uint8_t)((k->s.status & ~I8042_STR_SYS) | (v & I8042_CTR_SYS));
    i8042_update_irq(k);
}

static void i8042_write_outport(struct i8042 *k, uint8_t v)
{
    k->s.outport = v;
    if (!(v & I8042_OUT_RESET))
        i8042_cpu_reset(k);
}

static void i8042_command(struct i8042 *k, uint8_t cmd)
{
    struct i8042_state *s = &k->s;
    uint8_t v;

    if (cmd >= 0x20 && cmd <= 0x3f) {
        i8042_queue(k, s->ram[cmd & 0x1f]);
        return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7f) || cmd == I8042_CMD_WRITE_OUTPORT ||
        cmd == I8042_CMD_WRITE_KBD_OBUF) {
        s->pending_cmd = cmd; /* the data byte follows on port 0x60 */
        return;
    }
    if (cmd >= I8042_CMD_PULSE) {
        /* Bits 0-3 that are 0 pulse the output port lines low; line 0 is
         * the CPU reset. */
        if (!(cmd & I8042_OUT_RESET))
            i8042_cpu_reset(k);
        return;
    }
    switch (cmd) {
    case I8042_CMD_AUX_DISABLE:
        i8042_write_ctr(k, s->ram[0] | I8042_CTR_AUXDIS);
        break;
    case I8042_CMD_AUX_ENABLE:
        i8042_write_ctr(k, s->ram[0] & (uint8_t)~I8042_CTR_AUXDIS);
        break;
    case I8042_CMD_SELF_TEST:
        s->status |= I8042_STR_SYS; /* a passed self-test sets the system flag */
        i8042_queue(k, 0x55);
        break;
    case I8042_CMD_KBD_TEST:
        i8042_queue(k, 0x00);
        break;
    case I8042_CMD_KBD_DISABLE:
        i8042_write_ctr(k, s->ram[0] | I8042_CTR_KBDDIS);
        break;
    case I8042_CMD_KBD_ENABLE:
        i8042_write_ctr(k, s->ram[0] & (uint8_t)~I8042_CTR_KBDDIS);
        break;
    case I8042_CMD_READ_OUTPORT:
        /* Bits 4 and 5 show the output buffer state before this reply. */
        v = s->outport & (uint8_t)~(I8042_OUT_OBF | I8042_OUT_AUXOBF);
        if (s->status & I8042_STR_OBF)
            v |= I8042_OUT_OBF;
        i8042_queue(k, v);
        break;
    case I8042_CMD_A20_OFF:
        s->outport &= (uint8_t)~I8042_OUT_A20;
        break;
    case I8042_CMD_A20_ON:
        s->outport |= I8042_OUT_A20;
        break;
    default:
        log_debug("i8042", "unsupported controller command 0x%02x ignored", cmd);
        break;
    }
}

static void i8042_data(struct i8042 *k, uint8_t v)
{
    uint8_t cmd = k->s.pending_cmd;

    k->s.pending_cmd = 0;
    if (cmd >= 0x60 && cmd <= 0x7f) {
        if (cmd == I8042_CMD_WRITE_CTR)
            i8042_write_ctr(k, v);
        else
            k->s.ram[cmd & 0x1f] = v;
    } else if (cmd == I8042_CMD_WRITE_OUTPORT) {
        i8042_write_outport(k, v);
    } else if (cmd == I8042_CMD_WRITE_KBD_OBUF) {
        i8042_queue(k, v);
    } else {
        /* A byte for the keyboard: none is attached. */
        log_debug("i8042", "byte 0x%02x for the absent keyboard dropped", v);
    }
}

static uint64_t i8042_data_read(void *opaque, uint64_t offset, unsigned size)
{
    struct i8042 *k = opaque;

    /* An empty buffer reads as the last byte, as on the real part. */
    k->s.status &= (uint8_t)~I8042_STR_OBF;
    i8042_update_irq(k);
    return k->s.obuf;
}

static void i8042_data_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct i8042 *k = opaque;

    k->s.status &= (uint8_t)~I8042_STR_CMD;
    i8042_data(k, (uint8_t)value);
}

static uint64_t i8042_status_read(void *opaque, uint64_t offset, unsigned size)
{
    struct i8042 *k = opaque;

    return k->s.status | I8042_STR_UNLOCKED;
}

static void i8042_cmd_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct i8042 *k = opaque;

    k->s.status |= I8042_STR_CMD;
    k->s.pending_cmd = 0; /* a new command abandons one waiting for data */
    i8042_command(k, (uint8_t)value);
}

const struct bus_ops i8042_data_ops = {i8042_data_read, i8042_data_write};
const struct bus_ops i8042_cmd_ops = {i8042_status_read, i8042_cmd_write};

int i8042_create(struct i8042 **out, void (*reset_cb)(void *opaque), void *opaque)
{
    struct i8042 *k = calloc(1, sizeof(*k));

    *out = NULL;
    if (!k)
        return err_set(-ENOMEM, "i8042: out of memory");
    k->reset_cb = reset_cb;
    k->opaque = opaque;
    i8042_reset(k);
    *out = k;
    return 0;
}

void i8042_destroy(struct i8042 *k)
{
    free(k);
}

void i8042_set_irq(struct i8042 *k, const struct irq_line *irq)
{
    if (irq)
        k->irq = *irq;
    else
        k->irq = (struct irq_line){0};
    irq_set(&k->irq, k->s.irq_level);
}

int i8042_register_pio(struct i8042 *k, struct bus *pio)
{
    int rc = bus_register(pio, I8042_DATA_PORT, 1, &i8042_data_ops, k, "i8042 data");

    if (rc < 0)
        return rc;
    return bus_register(pio, I8042_CMD_PORT, 1, &i8042_cmd_ops, k, "i8042 status/command");
}

void i8042_reset(struct i8042 *k)
{
    memset(&k->s, 0, sizeof(k->s));
    k->s.ram[0] = I8042_CTR_KBDINT | I8042_CTR_AUXINT;
    k->s.status = I8042_STR_CMD;
    k->s.outport = 0xcc | I8042_OUT_A20 | I8042_OUT_RESET;
    irq_set(&k->irq, 0);
}

bool i8042_a20(const struct i8042 *k)
{
    return (k->s.outport & I8042_OUT_A20) != 0;
}

void i8042_post_load(struct i8042 *k)
{
    irq_set(&k->irq, k->s.irq_level);
}

/* ---- migration ---- */

static const struct vms_field i8042_vms_fields[] = {
    VMS_BYTES(1, "ram", struct i8042_state, ram, 1),
    VMS_U8(2, "status", struct i8042_state, status, 1),
    VMS_U8(3, "obuf", struct i8042_state, obuf, 1),
    VMS_U8(4, "outport", struct i8042_state, outport, 1),
    VMS_U8(5, "pending_cmd", struct i8042_state, pending_cmd, 1),
    VMS_U8(6, "irq_level", struct i8042_state, irq_level, 1),
};

static int i8042_vms_post_load(void *opaque)
{
    struct i8042 *k = opaque;
    const struct i8042_state *s = &k->s;
    uint8_t cmd = s->pending_cmd;

    if (s->status & ~(I8042_STR_OBF | I8042_STR_SYS | I8042_STR_CMD))
        return err_set(-EINVAL, "status 0x%02x has derived bits set", s->status);
    /* Only the commands that wait for a data byte can be pending. */
    if (cmd && !(cmd >= I8042_CMD_WRITE_CTR && cmd <= 0x7f) && cmd != I8042_CMD_WRITE_OUTPORT &&
        cmd != I8042_CMD_WRITE_KBD_OBUF)
        return err_set(-EINVAL, "pending_cmd 0x%02x takes no data byte", cmd);
    if (s->irq_level > 1)
        return err_set(-EINVAL, "irq_level %u is not 0 or 1", s->irq_level);
    i8042_post_load(k);
    return 0;
}

const struct vms_desc i8042_vms = {
    .name = "i8042",
    .version = 1,
    .min_version = 1,
    .fields = i8042_vms_fields,
    .nfields = VMS_ARRAY_SIZE(i8042_vms_fields),
    .post_load = i8042_vms_post_load,
};
