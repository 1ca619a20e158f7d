/* Debug-exit port. Spec: QEMU's isa-debug-exit (hw/misc/debugexit.c): a
 * write of value v exits QEMU with status (v << 1) | 1; reads return 0.
 * See dev/debugexit.h. */
#include "dev/debugexit.h"

#include <stdlib.h>

#include "migrate/vmstate.h"

uint32_t debugexit_status(uint32_t code)
{
    return code << 1 | 1;
}

static uint64_t debugexit_read(void *opaque, uint64_t offset, unsigned size)
{
    return 0;
}

static void debugexit_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct debugexit *d = opaque;
    uint32_t code = size >= 4 ? (uint32_t)value : (uint32_t)(value & ((1u << (size * 8)) - 1));

    d->s.code = code;
    d->s.exited = 1;
    if (d->exit_cb)
        d->exit_cb(d->opaque, debugexit_status(code));
}

const struct bus_ops debugexit_ops = {debugexit_read, debugexit_write};

int debugexit_create(struct debugexit **out, void (*exit_cb)(void *opaque, uint32_t status),
                     void *opaque)
{
    struct debugexit *d = calloc(1, sizeof(*d));

    *out = NULL;
    if (!d)
        return err_set(-ENOMEM, "debugexit: out of memory");
    d->exit_cb = exit_cb;
    d->opaque = opaque;
    *out = d;
    return 0;
}

void debugexit_destroy(struct debugexit *d)
{
    free(d);
}

int debugexit_register_pio(struct debugexit *d, struct bus *pio)
{
    return bus_register(pio, DEBUGEXIT_PORT, DEBUGEXIT_NR_PORTS, &debugexit_ops, d, "debug-exit");
}

void debugexit_reset(struct debugexit *d)
{
    d->s.code = 0;
    d->s.exited = 0;
}

/* ---- migration ---- */

static const struct vms_field debugexit_vms_fields[] = {
    VMS_U32(1, "code", struct debugexit_state, code, 1),
    VMS_U8(2, "exited", struct debugexit_state, exited, 1),
};

static int debugexit_vms_post_load(void *opaque)
{
    struct debugexit *d = opaque;

    if (d->s.exited > 1)
        return err_set(-EINVAL, "exited %u is not 0 or 1", d->s.exited);
    return 0;
}

const struct vms_desc debugexit_vms = {
    .name = "debugexit",
    .version = 1,
    .min_version = 1,
    .fields = debugexit_vms_fields,
    .nfields = VMS_ARRAY_SIZE(debugexit_vms_fields),
    .post_load = debugexit_vms_post_load,
};
