/* Declarative device state (DESIGN.md, "Migration"; the idea of QEMU's
 * VMStateDescription). Each device declares its state once, in a table next
 * to it; the same table drives save, load and stream-dump.
 *
 *   static const struct vms_field pit_fields[] = {
 *       VMS_U32(1, "count", struct pit8254_state, count, 1),
 *       ...
 *   };
 *   const struct vms_desc pit8254_vms = {
 *       .name = "pit8254", .version = 1, .min_version = 1,
 *       .fields = pit_fields, .nfields = ARRAY_SIZE(pit_fields),
 *       .post_load = pit8254_vms_post_load,
 *   };
 *
 * Rules (docs/migration-format.md):
 * - Field ids are unique in a description and never reused.
 * - A field has the section version it appeared in (since). A field added in
 *   a newer version is optional when reading an older stream: it keeps the
 *   value the device had before load (its reset value).
 * - Saving writes every field; fields with since > 1 are written without the
 *   "must understand" bit unless flagged VMS_F_MUST, so older readers skip
 *   them.
 * - Loading a section whose version is above desc.version, or below
 *   desc.min_version, fails naming the device and both versions.
 * - A field the reader needs (since <= the section's version) that is absent
 *   fails naming the device and the field.
 * - A field with the wrong type or length fails naming it.
 * - A subsection is a nested description saved only if its needed() says so;
 *   a reader that does not know it skips it unless marked must-understand. */
#ifndef ROAM_MIGRATE_VMSTATE_H
#define ROAM_MIGRATE_VMSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "migrate/stream.h"

enum vms_type {
    VMS_T_U8 = STREAM_T_U8,
    VMS_T_U16 = STREAM_T_U16,
    VMS_T_U32 = STREAM_T_U32,
    VMS_T_U64 = STREAM_T_U64,
    VMS_T_BYTES = STREAM_T_BYTES,        /* size bytes */
    VMS_T_U32_ARRAY = STREAM_T_U32_ARRAY, /* count elements */
    VMS_T_U64_ARRAY = STREAM_T_U64_ARRAY,
    VMS_T_BOOL = 0x40,                    /* a C bool, saved as U8 (0 or 1) */
    VMS_T_I64 = 0x41,                     /* saved as U64 */
};

#define VMS_F_MUST 1u /* an old reader must refuse the stream if unknown */
/* Never required on load (it keeps its value when absent) and written
 * without the must bit: for a field added without bumping the version, so
 * that older roams of the same version skip it and their streams still load
 * (docs/migration-format.md, "How to change a device's state"). */
#define VMS_F_OPTIONAL 2u

struct vms_field {
    uint16_t id;
    const char *name;
    enum vms_type type;
    size_t offset;  /* in the state struct */
    size_t count;   /* bytes for BYTES; elements for arrays; 1 otherwise */
    uint32_t since; /* section version that introduced it */
    uint32_t flags;
};

struct vms_desc;

/* A subsection's fields have offsets into the same state struct as its
 * parent's. It carries no version of its own: when present, its fields with
 * since <= 1 are required and later ones optional; its desc's version and
 * min_version are not used. Its post_load (if any) runs after it loads. */
struct vms_subsection {
    uint16_t id;                         /* field id of the nested struct */
    const struct vms_desc *desc;
    bool (*needed)(const void *state);   /* NULL: always saved */
    uint32_t flags;                      /* VMS_F_MUST: an old reader refuses it */
};

struct vms_desc {
    const char *name;
    uint32_t version;     /* what this roam writes */
    uint32_t min_version; /* the oldest it can read */
    const struct vms_field *fields;
    unsigned nfields;
    const struct vms_subsection *subs;
    unsigned nsubs;
    /* Checks and fixes up after every field is in; a negative return (with
     * err_set) rejects the stream. opaque is what the caller passed. */
    int (*post_load)(void *opaque);
};

#define VMS_FIELD_(id_, name_, type_, st, f, n, since_)                                  \
    { (id_), (name_), (type_), offsetof(st, f), (n), (since_), 0 }
/* A field with flags (VMS_F_MUST, VMS_F_OPTIONAL); n is 1 for a scalar, the
 * byte count for BYTES and the element count for arrays. */
#define VMS_FIELD_F(id_, name_, type_, st, f, n, since_, flags_)                          \
    { (id_), (name_), (type_), offsetof(st, f), (n), (since_), (flags_) }
#define VMS_U8(id, name, st, f, since) VMS_FIELD_(id, name, VMS_T_U8, st, f, 1, since)
#define VMS_U16(id, name, st, f, since) VMS_FIELD_(id, name, VMS_T_U16, st, f, 1, since)
#define VMS_U32(id, name, st, f, since) VMS_FIELD_(id, name, VMS_T_U32, st, f, 1, since)
#define VMS_U64(id, name, st, f, since) VMS_FIELD_(id, name, VMS_T_U64, st, f, 1, since)
#define VMS_I64(id, name, st, f, since) VMS_FIELD_(id, name, VMS_T_I64, st, f, 1, since)
#define VMS_BOOL(id, name, st, f, since) VMS_FIELD_(id, name, VMS_T_BOOL, st, f, 1, since)
#define VMS_BYTES(id, name, st, f, since)                                                \
    VMS_FIELD_(id, name, VMS_T_BYTES, st, f, sizeof(((st *)0)->f), since)
#define VMS_U32_ARRAY(id, name, st, f, since)                                            \
    VMS_FIELD_(id, name, VMS_T_U32_ARRAY, st, f,                                         \
               sizeof(((st *)0)->f) / sizeof(uint32_t), since)
#define VMS_U64_ARRAY(id, name, st, f, since)                                            \
    VMS_FIELD_(id, name, VMS_T_U64_ARRAY, st, f,                                         \
               sizeof(((st *)0)->f) / sizeof(uint64_t), since)
#define VMS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Serializes state's fields (TLV) into w; the caller frames the section. */
void vmstate_save(struct stream_writer *w, const struct vms_desc *d, const void *state);
/* Size in bytes of what vmstate_save would write. */
uint64_t vmstate_size(const struct vms_desc *d, const void *state);
/* Writes a whole section: header (tag, d->name, instance, d->version,
 * length) and the fields. */
void vmstate_save_section(struct stream_writer *w, uint8_t tag, const struct vms_desc *d,
                          uint32_t instance, const void *state);
/* Reads a section payload of sec->length bytes into state (which holds the
 * device's current or reset values), per the rules above, then calls
 * d->post_load(opaque). Errors name the device (d->name, sec->instance). */
MUST_CHECK int vmstate_load(struct stream_reader *r, const struct vms_desc *d,
                            const struct stream_section *sec, void *state, void *opaque);
/* Checks a description for mistakes (duplicate ids, since outside
 * 1..version, min_version above version, zero counts, a field that is too
 * big); for device tests. Returns 0 or -EINVAL with a message. */
MUST_CHECK int vmstate_check_desc(const struct vms_desc *d);
/* Prints a section payload field by field (names from d when it is not
 * NULL, else "field N"); print receives one line at a time. */
MUST_CHECK int vmstate_dump(struct stream_reader *r, const struct vms_desc *d, uint64_t length,
                            void (*print)(void *ctx, const char *line), void *ctx,
                            unsigned indent);

#endif
