/* Declarative device state: one table per device drives save, load and dump
 * (migrate/vmstate.h; the encoding and the compatibility rules are in
 * docs/migration-format.md, "Fields"). A field is TLV: u16 id, u8 type
 * (bit 7: must understand), u32 length, then the value, little-endian. */
#include "migrate/vmstate.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VMS_FIELD_HDR 7u  /* u16 id, u8 type, u32 length */
#define VMS_MAX_DEPTH 8   /* nested structs a dump follows */
#define VMS_LABEL_MAX 160

/* ---- field geometry ---- */

static size_t elem_size(enum vms_type t)
{
    switch (t) {
    case VMS_T_U8:
    case VMS_T_BOOL:
    case VMS_T_BYTES:
        return 1;
    case VMS_T_U16:
        return 2;
    case VMS_T_U32:
    case VMS_T_U32_ARRAY:
        return 4;
    case VMS_T_U64:
    case VMS_T_I64:
    case VMS_T_U64_ARRAY:
        return 8;
    }
    return 0;
}

static bool is_multi(enum vms_type t)
{
    return t == VMS_T_BYTES || t == VMS_T_U32_ARRAY || t == VMS_T_U64_ARRAY;
}

/* The stream type (without the must bit) a field is saved as. */
static uint8_t wire_type(enum vms_type t)
{
    if (t == VMS_T_BOOL)
        return STREAM_T_U8;
    if (t == VMS_T_I64)
        return STREAM_T_U64;
    return (uint8_t)t;
}

static uint64_t field_len(const struct vms_field *f)
{
    return (uint64_t)elem_size(f->type) * (is_multi(f->type) ? f->count : 1);
}

static bool field_must(const struct vms_field *f)
{
    if (f->flags & VMS_F_MUST)
        return true;
    return f->since <= 1 && !(f->flags & VMS_F_OPTIONAL);
}

static const char *type_name(uint8_t t, char *buf, size_t n)
{
    switch (t & 0x7f) {
    case STREAM_T_U8: return "u8";
    case STREAM_T_U16: return "u16";
    case STREAM_T_U32: return "u32";
    case STREAM_T_U64: return "u64";
    case STREAM_T_BYTES: return "bytes";
    case STREAM_T_STRING: return "string";
    case STREAM_T_U32_ARRAY: return "u32 array";
    case STREAM_T_U64_ARRAY: return "u64 array";
    case STREAM_T_STRUCT: return "struct";
    }
    snprintf(buf, n, "type 0x%02x", (unsigned)(t & 0x7f));
    return buf;
}

static const struct vms_field *find_field(const struct vms_desc *d, uint16_t id, unsigned *idx)
{
    for (unsigned i = 0; i < d->nfields; i++)
        if (d->fields[i].id == id) {
            *idx = i;
            return &d->fields[i];
        }
    return NULL;
}

static const struct vms_subsection *find_sub(const struct vms_desc *d, uint16_t id,
                                             unsigned *idx)
{
    for (unsigned i = 0; i < d->nsubs; i++)
        if (d->subs[i].id == id) {
            *idx = i;
            return &d->subs[i];
        }
    return NULL;
}

static bool sub_needed(const struct vms_subsection *s, const void *state)
{
    return !s->needed || s->needed(state);
}

/* ---- save ---- */

uint64_t vmstate_size(const struct vms_desc *d, const void *state)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < d->nfields; i++)
        n += VMS_FIELD_HDR + field_len(&d->fields[i]);
    for (unsigned i = 0; i < d->nsubs; i++)
        if (sub_needed(&d->subs[i], state))
            n += VMS_FIELD_HDR + vmstate_size(d->subs[i].desc, state);
    return n;
}

static void save_field(struct stream_writer *w, const struct vms_field *f, const void *state)
{
    const uint8_t *p = (const uint8_t *)state + f->offset;
    uint8_t type = (uint8_t)(wire_type(f->type) | (field_must(f) ? STREAM_T_MUST : 0));

    stream_put_u16(w, f->id);
    stream_put_u8(w, type);
    stream_put_u32(w, (uint32_t)field_len(f));
    switch (f->type) {
    case VMS_T_U8:
        stream_put_u8(w, *p);
        break;
    case VMS_T_BOOL:
        stream_put_u8(w, *(const bool *)p ? 1 : 0);
        break;
    case VMS_T_U16: {
        uint16_t v;
        memcpy(&v, p, sizeof(v));
        stream_put_u16(w, v);
        break;
    }
    case VMS_T_U32: {
        uint32_t v;
        memcpy(&v, p, sizeof(v));
        stream_put_u32(w, v);
        break;
    }
    case VMS_T_U64:
    case VMS_T_I64: {
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        stream_put_u64(w, v);
        break;
    }
    case VMS_T_BYTES:
        stream_put_bytes(w, p, f->count);
        break;
    case VMS_T_U32_ARRAY:
        for (size_t i = 0; i < f->count; i++) {
            uint32_t v;
            memcpy(&v, p + 4 * i, sizeof(v));
            stream_put_u32(w, v);
        }
        break;
    case VMS_T_U64_ARRAY:
        for (size_t i = 0; i < f->count; i++) {
            uint64_t v;
            memcpy(&v, p + 8 * i, sizeof(v));
            stream_put_u64(w, v);
        }
        break;
    }
}

void vmstate_save(struct stream_writer *w, const struct vms_desc *d, const void *state)
{
    for (unsigned i = 0; i < d->nfields; i++)
        save_field(w, &d->fields[i], state);
    for (unsigned i = 0; i < d->nsubs; i++) {
        const struct vms_subsection *s = &d->subs[i];
        if (!sub_needed(s, state))
            continue;
        stream_put_u16(w, s->id);
        stream_put_u8(w, (uint8_t)(STREAM_T_STRUCT |
                                   ((s->flags & VMS_F_MUST) ? STREAM_T_MUST : 0)));
        stream_put_u32(w, (uint32_t)vmstate_size(s->desc, state));
        vmstate_save(w, s->desc, state);
    }
}

void vmstate_save_section(struct stream_writer *w, uint8_t tag, const struct vms_desc *d,
                          uint32_t instance, const void *state)
{
    stream_put_section(w, tag, d->name, instance, d->version, vmstate_size(d, state));
    vmstate_save(w, d, state);
}

/* ---- load ---- */

/* Reads a field's value (length already checked) into the state. */
static int load_value(struct stream_reader *r, const struct vms_field *f, void *state,
                      const char *label)
{
    uint8_t *p = (uint8_t *)state + f->offset;
    int rc = 0;

    switch (f->type) {
    case VMS_T_U8:
        rc = stream_get_u8(r, p);
        break;
    case VMS_T_BOOL: {
        uint8_t v;
        rc = stream_get_u8(r, &v);
        if (rc == 0 && v > 1)
            return err_set(-EPROTO, "%s: field '%s': bool value %u is not 0 or 1", label,
                           f->name, v);
        if (rc == 0)
            *(bool *)p = v != 0;
        break;
    }
    case VMS_T_U16: {
        uint16_t v;
        if ((rc = stream_get_u16(r, &v)) == 0)
            memcpy(p, &v, sizeof(v));
        break;
    }
    case VMS_T_U32: {
        uint32_t v;
        if ((rc = stream_get_u32(r, &v)) == 0)
            memcpy(p, &v, sizeof(v));
        break;
    }
    case VMS_T_U64:
    case VMS_T_I64: {
        uint64_t v;
        if ((rc = stream_get_u64(r, &v)) == 0)
            memcpy(p, &v, sizeof(v));
        break;
    }
    case VMS_T_BYTES:
        rc = stream_get_bytes(r, p, f->count);
        break;
    case VMS_T_U32_ARRAY:
        for (size_t i = 0; i < f->count && rc == 0; i++) {
            uint32_t v;
            if ((rc = stream_get_u32(r, &v)) == 0)
                memcpy(p + 4 * i, &v, sizeof(v));
        }
        break;
    case VMS_T_U64_ARRAY:
        for (size_t i = 0; i < f->count && rc == 0; i++) {
            uint64_t v;
            if ((rc = stream_get_u64(r, &v)) == 0)
                memcpy(p + 8 * i, &v, sizeof(v));
        }
        break;
    }
    if (rc < 0)
        return err_wrap(rc, "%s: field '%s'", label, f->name);
    return 0;
}

static int run_post_load(const struct vms_desc *d, void *opaque, const char *label)
{
    if (!d->post_load)
        return 0;
    err_clear();
    int rc = d->post_load(opaque);
    if (rc >= 0)
        return 0;
    if (!err_msg()[0])
        return err_set(rc, "%s: the loaded state was rejected (code %d)", label, rc);
    return err_wrap(rc, "%s", label);
}

static int load_fields(struct stream_reader *r, const struct vms_desc *d, const char *label,
                       uint32_t version, uint64_t length, void *state, void *opaque);

/* One TLV field (its header read); *seen marks the desc's fields and
 * subsections met so far. */
static int load_one(struct stream_reader *r, const struct vms_desc *d, const char *label,
                    uint16_t id, uint8_t type, uint32_t len, unsigned char *seen, void *state,
                    void *opaque)
{
    char tb1[16], tb2[16];
    unsigned idx;
    const struct vms_field *f = find_field(d, id, &idx);
    const struct vms_subsection *s;

    if (f) {
        if (seen[idx])
            return err_set(-EPROTO, "%s: field '%s' (id %u) appears twice", label, f->name,
                           (unsigned)id);
        seen[idx] = 1;
        if ((type & 0x7f) != wire_type(f->type))
            return err_set(-EPROTO, "%s: field '%s': expected type %s, stream has %s", label,
                           f->name, type_name(wire_type(f->type), tb1, sizeof(tb1)),
                           type_name(type, tb2, sizeof(tb2)));
        if (len != field_len(f))
            return err_set(-EPROTO, "%s: field '%s': expected %" PRIu64 " bytes, stream has %u",
                           label, f->name, field_len(f), (unsigned)len);
        return load_value(r, f, state, label);
    }
    s = find_sub(d, id, &idx);
    if (s) {
        char sublabel[VMS_LABEL_MAX];
        if (seen[d->nfields + idx])
            return err_set(-EPROTO, "%s: subsection '%s' (id %u) appears twice", label,
                           s->desc->name, (unsigned)id);
        seen[d->nfields + idx] = 1;
        if ((type & 0x7f) != STREAM_T_STRUCT)
            return err_set(-EPROTO, "%s: subsection '%s': expected type struct, stream has %s",
                           label, s->desc->name, type_name(type, tb2, sizeof(tb2)));
        snprintf(sublabel, sizeof(sublabel), "%s/%s", label, s->desc->name);
        int rc = load_fields(r, s->desc, sublabel, 1, len, state, opaque);
        if (rc < 0)
            return rc;
        return run_post_load(s->desc, opaque, sublabel);
    }
    if (type & STREAM_T_MUST)
        return err_set(-EPROTO,
                       "%s: unknown required field %u (the stream comes from a newer roam)",
                       label, (unsigned)id);
    int rc = stream_skip(r, len);
    if (rc < 0)
        return err_wrap(rc, "%s: field %u", label, (unsigned)id);
    return 0;
}

static int load_fields(struct stream_reader *r, const struct vms_desc *d, const char *label,
                       uint32_t version, uint64_t length, void *state, void *opaque)
{
    unsigned n = d->nfields + d->nsubs;
    unsigned char *seen = calloc(n ? n : 1, 1);
    int rc = 0;

    if (!seen)
        return err_set(-ENOMEM, "%s: out of memory", label);
    while (length > 0 && rc == 0) {
        uint16_t id;
        uint8_t type;
        uint32_t len;
        if (length < VMS_FIELD_HDR) {
            rc = err_set(-EPROTO,
                         "%s: %" PRIu64 " stray bytes end the section (a field header is %u)",
                         label, length, VMS_FIELD_HDR);
            break;
        }
        if ((rc = stream_get_u16(r, &id)) < 0 || (rc = stream_get_u8(r, &type)) < 0 ||
            (rc = stream_get_u32(r, &len)) < 0) {
            err_wrap(rc, "%s", label);
            break;
        }
        length -= VMS_FIELD_HDR;
        if (len > length) {
            rc = err_set(-EPROTO,
                         "%s: field %u is %u bytes long, more than the %" PRIu64
                         " left in the section",
                         label, (unsigned)id, (unsigned)len, length);
            break;
        }
        length -= len;
        rc = load_one(r, d, label, id, type, len, seen, state, opaque);
    }
    for (unsigned i = 0; rc == 0 && i < d->nfields; i++)
        if (!seen[i] && d->fields[i].since <= version &&
            !(d->fields[i].flags & VMS_F_OPTIONAL))
            rc = err_set(-EPROTO, "%s: required field '%s' is missing", label,
                         d->fields[i].name);
    free(seen);
    return rc;
}

static void section_label(char *buf, size_t n, const struct vms_desc *d,
                          const struct stream_section *sec)
{
    if (sec->tag == STREAM_SEC_CPU || sec->instance != 0)
        snprintf(buf, n, "%s[%u]", d->name, (unsigned)sec->instance);
    else
        snprintf(buf, n, "%s", d->name);
}

int vmstate_load(struct stream_reader *r, const struct vms_desc *d,
                 const struct stream_section *sec, void *state, void *opaque)
{
    char label[VMS_LABEL_MAX];
    int rc;

    section_label(label, sizeof(label), d, sec);
    if (sec->version > d->version)
        return err_set(-EPROTO, "%s: state version %u is newer than this roam's %u", label,
                       (unsigned)sec->version, (unsigned)d->version);
    if (sec->version < d->min_version || sec->version == 0)
        return err_set(-EPROTO,
                       "%s: state version %u is older than the oldest this roam reads (%u)",
                       label, (unsigned)sec->version, (unsigned)d->min_version);
    rc = load_fields(r, d, label, sec->version, sec->length, state, opaque);
    if (rc < 0)
        return rc;
    return run_post_load(d, opaque, label);
}

/* ---- description check ---- */

static int check_desc(const struct vms_desc *d, unsigned depth)
{
    const char *dn = d->name ? d->name : "(unnamed)";
    if (!d->name || !d->name[0] || strlen(d->name) > STREAM_NAME_MAX)
        return err_set(-EINVAL, "vmstate '%s': the name must be 1 to %d bytes", dn,
                       STREAM_NAME_MAX);
    if (depth > VMS_MAX_DEPTH)
        return err_set(-EINVAL, "vmstate '%s': subsections nest deeper than %d", dn,
                       VMS_MAX_DEPTH);
    if (depth == 0 && (d->version < 1 || d->min_version < 1 || d->min_version > d->version))
        return err_set(-EINVAL, "vmstate '%s': needs 1 <= min_version (%u) <= version (%u)", dn,
                       (unsigned)d->min_version, (unsigned)d->version);
    if ((d->nfields && !d->fields) || (d->nsubs && !d->subs))
        return err_set(-EINVAL, "vmstate '%s': a count without its table", dn);
    for (unsigned i = 0; i < d->nfields; i++) {
        const struct vms_field *f = &d->fields[i];
        unsigned j;
        if (!f->name || !f->name[0])
            return err_set(-EINVAL, "vmstate '%s': field %u has no name", dn, (unsigned)f->id);
        if (elem_size(f->type) == 0)
            return err_set(-EINVAL, "vmstate '%s': field '%s' has an unknown type %d", dn,
                           f->name, (int)f->type);
        if (is_multi(f->type) ? f->count == 0 : f->count != 1)
            return err_set(-EINVAL, "vmstate '%s': field '%s' has count %zu", dn, f->name,
                           f->count);
        if (field_len(f) > UINT32_MAX / 2)
            return err_set(-EINVAL, "vmstate '%s': field '%s' is too big", dn, f->name);
        if (f->since < 1 || (depth == 0 && f->since > d->version))
            return err_set(-EINVAL, "vmstate '%s': field '%s' has since %u, outside 1..%u", dn,
                           f->name, (unsigned)f->since, (unsigned)d->version);
        if ((f->flags & VMS_F_MUST) && (f->flags & VMS_F_OPTIONAL))
            return err_set(-EINVAL, "vmstate '%s': field '%s' is both MUST and OPTIONAL", dn,
                           f->name);
        if (find_field(d, f->id, &j) != f || find_sub(d, f->id, &j))
            return err_set(-EINVAL, "vmstate '%s': field id %u is used twice", dn,
                           (unsigned)f->id);
    }
    for (unsigned i = 0; i < d->nsubs; i++) {
        const struct vms_subsection *s = &d->subs[i];
        unsigned j;
        if (!s->desc)
            return err_set(-EINVAL, "vmstate '%s': subsection %u has no description", dn,
                           (unsigned)s->id);
        if (find_sub(d, s->id, &j) != s)
            return err_set(-EINVAL, "vmstate '%s': field id %u is used twice", dn,
                           (unsigned)s->id);
        int rc = check_desc(s->desc, depth + 1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int vmstate_check_desc(const struct vms_desc *d)
{
    return check_desc(d, 0);
}

/* ---- dump ---- */

struct line {
    char s[400];
    size_t n;
};

static void line_add(struct line *l, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void line_add(struct line *l, const char *fmt, ...)
{
    va_list ap;
    if (l->n >= sizeof(l->s) - 1)
        return;
    va_start(ap, fmt);
    int k = vsnprintf(l->s + l->n, sizeof(l->s) - l->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        l->n += (size_t)k < sizeof(l->s) - l->n ? (size_t)k : sizeof(l->s) - 1 - l->n;
}

struct dumper {
    struct stream_reader *r;
    void (*print)(void *ctx, const char *line);
    void *ctx;
};

#define DUMP_BYTES 32u
#define DUMP_ELEMS 16u
#define DUMP_CHARS 64u

static int dump_bytes(struct dumper *dp, struct line *l, uint32_t len)
{
    uint8_t b[DUMP_BYTES];
    uint32_t n = len < DUMP_BYTES ? len : DUMP_BYTES;
    int rc = stream_get_bytes(dp->r, b, n);
    if (rc < 0)
        return rc;
    if (len == 0)
        line_add(l, "(empty)");
    for (uint32_t i = 0; i < n; i++)
        line_add(l, i ? " %02x" : "%02x", b[i]);
    if (len > n) {
        line_add(l, " ... (%u bytes)", (unsigned)len);
        return stream_skip(dp->r, len - n);
    }
    return 0;
}

static int dump_string(struct dumper *dp, struct line *l, uint32_t len)
{
    uint8_t b[DUMP_CHARS];
    uint32_t n = len < DUMP_CHARS ? len : DUMP_CHARS;
    int rc = stream_get_bytes(dp->r, b, n);
    if (rc < 0)
        return rc;
    line_add(l, "\"");
    for (uint32_t i = 0; i < n; i++) {
        if (b[i] == '"' || b[i] == '\\')
            line_add(l, "\\%c", b[i]);
        else if (b[i] >= 0x20 && b[i] < 0x7f)
            line_add(l, "%c", b[i]);
        else
            line_add(l, "\\x%02x", b[i]);
    }
    line_add(l, "\"");
    if (len > n) {
        line_add(l, "... (%u bytes)", (unsigned)len);
        return stream_skip(dp->r, len - n);
    }
    return 0;
}

static int dump_array(struct dumper *dp, struct line *l, uint32_t len, unsigned width)
{
    uint32_t count = len / width, shown = count < DUMP_ELEMS ? count : DUMP_ELEMS;
    int rc = 0;
    line_add(l, "[");
    for (uint32_t i = 0; i < shown && rc == 0; i++) {
        uint64_t v = 0;
        uint32_t v32;
        if (width == 4) {
            rc = stream_get_u32(dp->r, &v32);
            v = v32;
        } else {
            rc = stream_get_u64(dp->r, &v);
        }
        line_add(l, i ? ", 0x%" PRIx64 : "0x%" PRIx64, v);
    }
    if (rc < 0)
        return rc;
    if (count > shown) {
        line_add(l, ", ... (%u elements)]", (unsigned)count);
        return stream_skip(dp->r, (uint64_t)(count - shown) * width);
    }
    line_add(l, "]");
    return 0;
}

static int dump_fields(struct dumper *dp, const struct vms_desc *d, uint64_t length,
                       unsigned indent, unsigned depth);

static int dump_one(struct dumper *dp, const struct vms_desc *d, uint16_t id, uint8_t type,
                    uint32_t len, unsigned indent, unsigned depth)
{
    char tb[16];
    unsigned idx;
    const struct vms_field *f = d ? find_field(d, id, &idx) : NULL;
    const struct vms_subsection *s = d ? find_sub(d, id, &idx) : NULL;
    uint8_t base = type & 0x7f;
    unsigned width = base == STREAM_T_U8 ? 1 : base == STREAM_T_U16 ? 2
                   : base == STREAM_T_U32 ? 4 : base == STREAM_T_U64 ? 8 : 0;
    struct line l = {{0}, 0};
    int rc = 0;

    if (indent > 64)
        indent = 64;
    line_add(&l, "%*s", (int)indent, "");
    if (f && base == wire_type(f->type) && len == field_len(f))
        line_add(&l, "%s = ", f->name);
    else if (s && base == STREAM_T_STRUCT)
        line_add(&l, "%s ", s->desc->name);
    else if (f)
        line_add(&l, "%s (%s, %u bytes) = ", f->name, type_name(type, tb, sizeof(tb)),
                 (unsigned)len);
    else
        line_add(&l, "field %u (%s%s)%s", (unsigned)id, type_name(type, tb, sizeof(tb)),
                 (type & STREAM_T_MUST) ? ", must understand" : "",
                 base == STREAM_T_STRUCT ? " " : " = ");

    if (base == STREAM_T_STRUCT) {
        if (depth >= VMS_MAX_DEPTH)
            return err_set(-EPROTO, "field %u: structs nest deeper than %d", (unsigned)id,
                           VMS_MAX_DEPTH);
        line_add(&l, "{");
        dp->print(dp->ctx, l.s);
        rc = dump_fields(dp, s ? s->desc : NULL, len, indent + 2, depth + 1);
        if (rc < 0)
            return rc;
        l.n = 0;
        l.s[0] = 0;
        line_add(&l, "%*s}", (int)indent, "");
    } else if (width && len == width) {
        uint64_t v = 0;
        uint8_t v8;
        uint16_t v16;
        uint32_t v32;
        if (width == 1 && (rc = stream_get_u8(dp->r, &v8)) == 0)
            v = v8;
        else if (width == 2 && (rc = stream_get_u16(dp->r, &v16)) == 0)
            v = v16;
        else if (width == 4 && (rc = stream_get_u32(dp->r, &v32)) == 0)
            v = v32;
        else if (width == 8)
            rc = stream_get_u64(dp->r, &v);
        if (rc < 0)
            return rc;
        if (f && f->type == VMS_T_BOOL && v <= 1)
            line_add(&l, "%s", v ? "true" : "false");
        else if (f && f->type == VMS_T_I64 && (int64_t)v < 0)
            line_add(&l, "0x%" PRIx64 " (%" PRId64 ")", v, (int64_t)v);
        else
            line_add(&l, "0x%" PRIx64 " (%" PRIu64 ")", v, v);
    } else if (base == STREAM_T_U32_ARRAY && len % 4 == 0) {
        rc = dump_array(dp, &l, len, 4);
    } else if (base == STREAM_T_U64_ARRAY && len % 8 == 0) {
        rc = dump_array(dp, &l, len, 8);
    } else if (base == STREAM_T_STRING) {
        rc = dump_string(dp, &l, len);
    } else {
        rc = dump_bytes(dp, &l, len);
    }
    if (rc < 0)
        return rc;
    dp->print(dp->ctx, l.s);
    return 0;
}

static int dump_fields(struct dumper *dp, const struct vms_desc *d, uint64_t length,
                       unsigned indent, unsigned depth)
{
    while (length > 0) {
        uint16_t id;
        uint8_t type;
        uint32_t len;
        int rc;
        if (length < VMS_FIELD_HDR)
            return err_set(-EPROTO, "%" PRIu64 " stray bytes end the section", length);
        if ((rc = stream_get_u16(dp->r, &id)) < 0 || (rc = stream_get_u8(dp->r, &type)) < 0 ||
            (rc = stream_get_u32(dp->r, &len)) < 0)
            return rc;
        length -= VMS_FIELD_HDR;
        if (len > length)
            return err_set(-EPROTO,
                           "field %u is %u bytes long, more than the %" PRIu64
                           " left in the section",
                           (unsigned)id, (unsigned)len, length);
        length -= len;
        rc = dump_one(dp, d, id, type, len, indent, depth);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int vmstate_dump(struct stream_reader *r, const struct vms_desc *d, uint64_t length,
                 void (*print)(void *ctx, const char *line), void *ctx, unsigned indent)
{
    struct dumper dp = {r, print, ctx};
    return dump_fields(&dp, d, length, indent, 0);
}
