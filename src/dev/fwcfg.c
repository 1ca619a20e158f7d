/* QEMU fw_cfg, PIO interface. Spec: QEMU docs/specs/fw_cfg.rst ("Selector
 * (Control) Register", "Data Register", "Firmware Configuration Items");
 * access decoding as QEMU's hw/nvram/fw_cfg.c fw_cfg_comb_mem_ops. See
 * dev/fwcfg.h. */
#include "dev/fwcfg.h"

#include <stdlib.h>
#include <string.h>

#include "migrate/vmstate.h"

static struct fwcfg_item *fwcfg_find(const struct fwcfg *f, uint16_t key)
{
    for (size_t i = 0; i < f->count; i++)
        if (f->items[i].key == key)
            return &f->items[i];
    return NULL;
}

const uint8_t *fwcfg_get(const struct fwcfg *f, uint16_t key, size_t *len)
{
    const struct fwcfg_item *it = fwcfg_find(f, key);

    *len = it ? it->len : 0;
    return it ? it->data : NULL;
}

int fwcfg_add(struct fwcfg *f, uint16_t key, const void *data, size_t len)
{
    struct fwcfg_item *it = fwcfg_find(f, key);
    uint8_t *copy;

    if (key & FWCFG_WRITE_CHANNEL)
        return err_set(-EINVAL, "fwcfg: key 0x%04x has the write-channel bit", key);
    if (len > UINT32_MAX)
        return err_set(-EINVAL, "fwcfg: item 0x%04x is too large (%zu bytes)", key, len);
    copy = malloc(len ? len : 1);
    if (!copy)
        return err_set(-ENOMEM, "fwcfg: out of memory for item 0x%04x", key);
    if (len)
        memcpy(copy, data, len);
    if (!it) {
        if (f->count == f->cap) {
            size_t cap = f->cap ? f->cap * 2 : 16;
            struct fwcfg_item *n = realloc(f->items, cap * sizeof(*n));
            if (!n) {
                free(copy);
                return err_set(-ENOMEM, "fwcfg: out of memory for item 0x%04x", key);
            }
            f->items = n;
            f->cap = cap;
        }
        it = &f->items[f->count++];
        it->key = key;
        it->data = NULL;
    }
    free(it->data);
    it->data = copy;
    it->len = (uint32_t)len;
    return 0;
}

static int fwcfg_add_le(struct fwcfg *f, uint16_t key, uint64_t v, size_t len)
{
    uint8_t b[8];

    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return fwcfg_add(f, key, b, len);
}

int fwcfg_set_ram_size(struct fwcfg *f, uint64_t bytes)
{
    return fwcfg_add_le(f, FWCFG_KEY_RAM_SIZE, bytes, 8);
}

int fwcfg_set_max_ram(struct fwcfg *f, uint64_t bytes)
{
    return fwcfg_add_le(f, FWCFG_KEY_MAX_RAM, bytes, 8);
}

int fwcfg_set_cpu_count(struct fwcfg *f, uint16_t n)
{
    return fwcfg_add_le(f, FWCFG_KEY_NB_CPUS, n, 2);
}

int fwcfg_set_max_cpus(struct fwcfg *f, uint16_t n)
{
    return fwcfg_add_le(f, FWCFG_KEY_MAX_CPUS, n, 2);
}

static uint8_t fwcfg_read_byte(struct fwcfg *f)
{
    const struct fwcfg_item *it = fwcfg_find(f, f->s.selector);

    if (!it || f->s.offset >= it->len)
        return 0;
    return it->data[f->s.offset++];
}

static uint64_t fwcfg_read(void *opaque, uint64_t offset, unsigned size)
{
    if (size != 1)
        return 0;
    return fwcfg_read_byte(opaque);
}

static void fwcfg_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct fwcfg *f = opaque;

    if (size != 2)
        return; /* data writes are not supported (QEMU dropped them in 2.4) */
    /* The write-channel bit asks for a writable item; reads ignore it. */
    f->s.selector = (uint16_t)value & (uint16_t)~FWCFG_WRITE_CHANNEL;
    f->s.offset = 0;
}

const struct bus_ops fwcfg_ops = {fwcfg_read, fwcfg_write};

int fwcfg_create(struct fwcfg **out)
{
    struct fwcfg *f = calloc(1, sizeof(*f));
    int err;

    *out = NULL;
    if (!f)
        return err_set(-ENOMEM, "fwcfg: out of memory");
    err = fwcfg_add(f, FWCFG_KEY_SIGNATURE, "QEMU", 4);
    if (!err)
        err = fwcfg_add_le(f, FWCFG_KEY_ID, FWCFG_ID_TRADITIONAL, 4);
    if (err) {
        fwcfg_destroy(f);
        return err;
    }
    fwcfg_reset(f);
    *out = f;
    return 0;
}

void fwcfg_destroy(struct fwcfg *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->count; i++)
        free(f->items[i].data);
    free(f->items);
    free(f);
}

int fwcfg_register_pio(struct fwcfg *f, struct bus *pio)
{
    return bus_register(pio, FWCFG_PORT, FWCFG_NR_PORTS, &fwcfg_ops, f, "fw_cfg");
}

void fwcfg_reset(struct fwcfg *f)
{
    f->s.selector = FWCFG_KEY_SIGNATURE;
    f->s.offset = 0;
}

/* ---- migration ---- */

static const struct vms_field fwcfg_vms_fields[] = {
    VMS_U16(1, "selector", struct fwcfg_state, selector, 1),
    VMS_U32(2, "offset", struct fwcfg_state, offset, 1),
};

static int fwcfg_vms_post_load(void *opaque)
{
    struct fwcfg *f = opaque;
    const struct fwcfg_item *it;

    if (f->s.selector & FWCFG_WRITE_CHANNEL)
        return err_set(-EINVAL, "selector 0x%04x has the write-channel bit",
                       f->s.selector);
    /* Reads stop at the end of an item (and never move for a missing one). */
    it = fwcfg_find(f, f->s.selector);
    if (f->s.offset > (it ? it->len : 0))
        return err_set(-EINVAL, "offset %u is past the end of item 0x%04x (%u bytes)",
                       f->s.offset, f->s.selector, it ? it->len : 0);
    return 0;
}

const struct vms_desc fwcfg_vms = {
    .name = "fwcfg",
    .version = 1,
    .min_version = 1,
    .fields = fwcfg_vms_fields,
    .nfields = VMS_ARRAY_SIZE(fwcfg_vms_fields),
    .post_load = fwcfg_vms_post_load,
};
