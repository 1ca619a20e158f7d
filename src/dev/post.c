/* POST diagnostic port 0x80. Spec: IBM PC/AT Technical Reference (the
 * manufacturing test port the BIOS writes checkpoints to). See dev/post.h. */
#include "dev/post.h"

#include <stdlib.h>

#include "migrate/vmstate.h"

static uint64_t post_read(void *opaque, uint64_t offset, unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static void post_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct post *p = opaque;

    p->s.code = (uint8_t)value;
    p->s.valid = 1;
}

const struct bus_ops post_ops = {post_read, post_write};

int post_create(struct post **out)
{
    struct post *p = calloc(1, sizeof(*p));

    *out = NULL;
    if (!p)
        return err_set(-ENOMEM, "post: out of memory");
    *out = p;
    return 0;
}

void post_destroy(struct post *p)
{
    free(p);
}

int post_register_pio(struct post *p, struct bus *pio)
{
    return bus_register(pio, POST_PORT, 1, &post_ops, p, "post");
}

void post_reset(struct post *p)
{
    p->s.code = 0;
    p->s.valid = 0;
}

int post_code(const struct post *p)
{
    return p->s.valid ? p->s.code : -1;
}

/* ---- migration ---- */

static const struct vms_field post_vms_fields[] = {
    VMS_U8(1, "code", struct post_state, code, 1),
    VMS_U8(2, "valid", struct post_state, valid, 1),
};

static int post_vms_post_load(void *opaque)
{
    struct post *p = opaque;

    if (p->s.valid > 1)
        return err_set(-EINVAL, "valid %u is not 0 or 1", p->s.valid);
    return 0;
}

const struct vms_desc post_vms = {
    .name = "post",
    .version = 1,
    .min_version = 1,
    .fields = post_vms_fields,
    .nfields = VMS_ARRAY_SIZE(post_vms_fields),
    .post_load = post_vms_post_load,
};
