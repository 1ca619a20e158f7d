/* The machine's state in a stream: the config section (checked before any
 * RAM is accepted), the "vm" section (virtual clock), per-vCPU sections, and
 * every device's vmstate. Shared by live migration and snapshots. */
#include "migrate/machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu_state_vms.h"
#include "core/log.h"
#include "migrate/vmstate.h"

#define ROAM_VERSION_STRING "0.1.0"

/* ---- the config section: hand-framed TLVs (it has strings) ---- */

enum {
    CFG_MEM_SIZE = 1,
    CFG_NCPUS = 2,
    CFG_CPU_MODEL = 3,
    CFG_CPU_MODEL_VERSION = 4,
    CFG_DEVICES = 5, /* "name:version name:version ..." */
    CFG_ENGINE = 6,  /* for information */
    CFG_HOST_OS = 7, /* for information */
    CFG_ROAM = 8,    /* for information */
    CFG_RECEIPTS = 9, /* the source takes read receipts (SYNC sections) */
};

static void tlv_u64(struct stream_writer *w, uint16_t id, uint64_t v, bool must)
{
    stream_put_u16(w, id);
    stream_put_u8(w, (uint8_t)(STREAM_T_U64 | (must ? STREAM_T_MUST : 0)));
    stream_put_u32(w, 8);
    stream_put_u64(w, v);
}

static void tlv_u32(struct stream_writer *w, uint16_t id, uint32_t v, bool must)
{
    stream_put_u16(w, id);
    stream_put_u8(w, (uint8_t)(STREAM_T_U32 | (must ? STREAM_T_MUST : 0)));
    stream_put_u32(w, 4);
    stream_put_u32(w, v);
}

static void tlv_str(struct stream_writer *w, uint16_t id, const char *s, bool must)
{
    stream_put_u16(w, id);
    stream_put_u8(w, (uint8_t)(STREAM_T_STRING | (must ? STREAM_T_MUST : 0)));
    stream_put_u32(w, (uint32_t)strlen(s));
    stream_put_bytes(w, s, strlen(s));
}

static void machine_device_list(struct vm *vm, char *buf, size_t len)
{
    struct vm_state_part parts[VM_MAX_STATE_PARTS];
    unsigned n = vm_devices_state_parts(vm, parts, VM_MAX_STATE_PARTS);
    size_t used = 0;

    buf[0] = 0;
    for (unsigned i = 0; i < n && used < len; i++) {
        if (parts[i].instance != 0)
            continue; /* one entry per kind of device */
        used += (size_t)snprintf(buf + used, len - used, "%s%s:%u", used ? " " : "",
                                 parts[i].desc->name, parts[i].desc->version);
    }
}

static void machine_put_config_fields(struct stream_writer *w, struct vm *vm, bool receipts)
{
    char devices[1024];

    machine_device_list(vm, devices, sizeof(devices));
    tlv_u64(w, CFG_MEM_SIZE, vm->mem.ram_size, true);
    tlv_u32(w, CFG_NCPUS, vm->ncpus, true);
    tlv_str(w, CFG_CPU_MODEL, vm->model->name, true);
    tlv_u32(w, CFG_CPU_MODEL_VERSION, vm->model->version, true);
    tlv_str(w, CFG_DEVICES, devices, true);
    tlv_str(w, CFG_ENGINE, vm->eng->name, false);
    tlv_str(w, CFG_HOST_OS, host_os_name(), false);
    tlv_str(w, CFG_ROAM, ROAM_VERSION_STRING, false);
    if (receipts) /* optional: an older destination skips it and never gets a SYNC */
        tlv_u32(w, CFG_RECEIPTS, 1, false);
}

void machine_put_config(struct stream_writer *w, struct vm *vm, bool receipts)
{
    struct membuf mb = {0};
    struct channel ch;
    struct stream_writer tmp;

    /* Sized by writing it once to memory. */
    membuf_channel(&ch, &mb);
    stream_writer_init(&tmp, &ch);
    machine_put_config_fields(&tmp, vm, receipts);
    if (stream_flush(&tmp) < 0)
        w->error = w->error ? w->error : -ENOMEM;
    stream_put_section(w, STREAM_SEC_CONFIG, "machine", 0, MACHINE_CONFIG_VERSION, mb.len);
    stream_put_bytes(w, mb.data, mb.len);
    stream_writer_free(&tmp);
    membuf_free(&mb);
}

/* Checks one device entry "name:version" of the stream against this VM. */
static int machine_check_device(struct vm *vm, const char *entry)
{
    struct vm_state_part parts[VM_MAX_STATE_PARTS];
    unsigned n = vm_devices_state_parts(vm, parts, VM_MAX_STATE_PARTS);
    char name[64];
    unsigned version = 0;
    const char *colon = strchr(entry, ':');

    if (!colon || (size_t)(colon - entry) >= sizeof(name))
        return err_set(-EBADMSG, "config: bad device entry '%s'", entry);
    memcpy(name, entry, (size_t)(colon - entry));
    name[colon - entry] = 0;
    version = (unsigned)strtoul(colon + 1, NULL, 10);
    for (unsigned i = 0; i < n; i++) {
        const struct vms_desc *d = parts[i].desc;
        if (strcmp(d->name, name) != 0)
            continue;
        if (version > d->version)
            return err_set(-EPROTO,
                           "device %s: the stream has state version %u, newer than this "
                           "roam's %u",
                           name, version, d->version);
        if (version < d->min_version)
            return err_set(-EPROTO,
                           "device %s: the stream has state version %u, older than the "
                           "oldest this roam reads (%u)",
                           name, version, d->min_version);
        return 0;
    }
    return err_set(-EPROTO, "the stream has device '%s' that this VM does not have", name);
}

/* Splits a space-separated list in place: returns the next word or NULL. */
static char *machine_next_word(char **pos)
{
    char *p = *pos, *start;

    while (*p == ' ')
        p++;
    if (!*p)
        return NULL;
    start = p;
    while (*p && *p != ' ')
        p++;
    if (*p)
        *p++ = 0;
    *pos = p;
    return start;
}

static int machine_check_devices(struct vm *vm, const char *list)
{
    char buf[1024], mine[1024], *pos, *tok;
    int rc;

    snprintf(buf, sizeof(buf), "%s", list);
    pos = buf;
    while ((tok = machine_next_word(&pos)) != NULL) {
        if ((rc = machine_check_device(vm, tok)) < 0)
            return rc;
    }
    /* And every device of this VM must be in the stream. */
    machine_device_list(vm, mine, sizeof(mine));
    pos = mine;
    while ((tok = machine_next_word(&pos)) != NULL) {
        char *colon = strchr(tok, ':');
        size_t nl = colon ? (size_t)(colon - tok) : strlen(tok);
        bool found = false;
        for (const char *p = list; (p = strstr(p, tok)) != NULL; p++) {
            if ((p == list || p[-1] == ' ') && p[nl] == ':') {
                found = true;
                break;
            }
        }
        if (!found) {
            if (colon)
                *colon = 0;
            return err_set(-EPROTO, "this VM has device '%s' that the stream lacks", tok);
        }
    }
    return 0;
}

static void machine_size_str(uint64_t bytes, char *buf, size_t len)
{
    if (bytes % (1ull << 30) == 0)
        snprintf(buf, len, "%lluG", (unsigned long long)(bytes >> 30));
    else if (bytes % (1ull << 20) == 0)
        snprintf(buf, len, "%lluM", (unsigned long long)(bytes >> 20));
    else
        snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
}

int machine_check_config(struct stream_reader *r, const struct stream_section *sec, struct vm *vm,
                         struct machine_config_info *info)
{
    uint64_t left = sec->length;
    bool have[16] = {false};
    int rc;

    memset(info, 0, sizeof(*info));
    if (sec->tag != STREAM_SEC_CONFIG)
        return err_set(-EBADMSG, "the stream does not start with the machine config");
    if (sec->version > MACHINE_CONFIG_VERSION)
        return err_set(-EPROTO, "machine config version %u is newer than this roam's %u",
                       sec->version, MACHINE_CONFIG_VERSION);
    while (left) {
        uint16_t id;
        uint8_t type;
        uint32_t len;
        if (left < 7)
            return err_set(-EBADMSG, "config: truncated field");
        if ((rc = stream_get_u16(r, &id)) < 0 || (rc = stream_get_u8(r, &type)) < 0 ||
            (rc = stream_get_u32(r, &len)) < 0)
            return rc;
        left -= 7;
        if (len > left)
            return err_set(-EBADMSG, "config: field %u is longer than the section", id);
        left -= len;
        uint8_t base = type & 0x7f;
        if (id >= 1 && id <= 8 && id < 16) {
            have[id] = true;
            if (base == STREAM_T_U64 && len == 8) {
                rc = stream_get_u64(r, &info->mem_size);
            } else if (base == STREAM_T_U32 && len == 4) {
                uint32_t v;
                rc = stream_get_u32(r, &v);
                if (id == CFG_NCPUS)
                    info->ncpus = v;
                else
                    info->cpu_model_version = v;
            } else if (base == STREAM_T_STRING) {
                char *dst = id == CFG_CPU_MODEL ? info->cpu_model
                            : id == CFG_DEVICES ? info->devices
                            : id == CFG_ENGINE  ? info->engine
                            : id == CFG_HOST_OS ? info->host_os
                                                : info->roam;
                size_t cap = id == CFG_DEVICES ? sizeof(info->devices) : sizeof(info->engine);
                if (len >= cap)
                    return err_set(-EBADMSG, "config: field %u is too long", id);
                rc = stream_get_bytes(r, dst, len);
                dst[len] = 0;
            } else {
                return err_set(-EBADMSG, "config: field %u has the wrong type", id);
            }
            if (rc < 0)
                return rc;
        } else if (id == CFG_RECEIPTS) {
            uint32_t v;
            if (base != STREAM_T_U32 || len != 4)
                return err_set(-EBADMSG, "config: field %u has the wrong type", id);
            if ((rc = stream_get_u32(r, &v)) < 0)
                return rc;
            info->receipts = v != 0;
        } else if (type & STREAM_T_MUST) {
            return err_set(-EPROTO, "config: unknown required field %u (from a newer roam)", id);
        } else if ((rc = stream_skip(r, len)) < 0) {
            return rc;
        }
    }
    static const char *const names[] = {"", "memory size", "vCPU count", "CPU model",
                                        "CPU model version", "device list"};
    for (int id = CFG_MEM_SIZE; id <= CFG_DEVICES; id++)
        if (!have[id])
            return err_set(-EBADMSG, "config: required field '%s' is missing", names[id]);
    if (!vm)
        return 0;
    if (info->mem_size != vm->mem.ram_size) {
        char a[32], b[32];
        machine_size_str(info->mem_size, a, sizeof(a));
        machine_size_str(vm->mem.ram_size, b, sizeof(b));
        return err_set(-EPROTO, "memory size differs: the stream has %s, this VM has %s "
                       "(start it with --memory %s)", a, b, a);
    }
    if (info->ncpus != vm->ncpus)
        return err_set(-EPROTO, "vCPU count differs: the stream has %u, this VM has %u "
                       "(start it with --cpus %u)", info->ncpus, vm->ncpus, info->ncpus);
    if (strcmp(info->cpu_model, vm->model->name) != 0 ||
        info->cpu_model_version != vm->model->version)
        return err_set(-EPROTO, "CPU model differs: the stream has %s version %u, this VM has "
                       "%s version %u", info->cpu_model, info->cpu_model_version,
                       vm->model->name, vm->model->version);
    return machine_check_devices(vm, info->devices);
}

/* ---- the vm section: virtual time ---- */

struct machine_clock {
    uint64_t now_ns;
};

static const struct vms_field machine_clock_fields[] = {
    VMS_U64(1, "virtual_time_ns", struct machine_clock, now_ns, 1),
};

static int machine_clock_post_load(void *opaque)
{
    const struct machine_clock *c = opaque;
    if (c->now_ns > TIMERQ_NOW_MAX)
        return err_set(-EINVAL, "vm: virtual time %llu ns is past the %llu ns a VM can have run",
                       (unsigned long long)c->now_ns, (unsigned long long)TIMERQ_NOW_MAX);
    return 0;
}

static const struct vms_desc machine_clock_vms = {
    .name = "vm",
    .version = 1,
    .min_version = 1,
    .fields = machine_clock_fields,
    .nfields = VMS_ARRAY_SIZE(machine_clock_fields),
    .post_load = machine_clock_post_load,
};

/* ---- per-vCPU run state (what the core keeps beside the CPU registers) ---- */

struct machine_vcpu {
    uint32_t mp_state;
    uint32_t sipi_vector; /* 0xffffffff: none */
    uint8_t init_pending;
};

static int machine_vcpu_post_load(void *opaque)
{
    struct machine_vcpu *m = opaque;
    if (m->mp_state > VCPU_WAIT_SIPI)
        return err_set(-EINVAL, "vcpu: run state %u is invalid", m->mp_state);
    if (m->sipi_vector != 0xffffffffu && m->sipi_vector > 0xff)
        return err_set(-EINVAL, "vcpu: SIPI vector %u is invalid", m->sipi_vector);
    if (m->init_pending > 1)
        return err_set(-EINVAL, "vcpu: init_pending %u is invalid", m->init_pending);
    return 0;
}

static const struct vms_field machine_vcpu_fields[] = {
    VMS_U32(1, "mp_state", struct machine_vcpu, mp_state, 1),
    VMS_U32(2, "sipi_vector", struct machine_vcpu, sipi_vector, 1),
    VMS_U8(3, "init_pending", struct machine_vcpu, init_pending, 1),
};

static const struct vms_desc machine_vcpu_vms = {
    .name = "vcpu",
    .version = 1,
    .min_version = 1,
    .fields = machine_vcpu_fields,
    .nfields = VMS_ARRAY_SIZE(machine_vcpu_fields),
    .post_load = machine_vcpu_post_load,
};

const struct vms_desc *machine_clock_desc(void)
{
    return &machine_clock_vms;
}

const struct vms_desc *machine_vcpu_desc(void)
{
    return &machine_vcpu_vms;
}

int machine_put_state(struct stream_writer *w, struct vm *vm)
{
    struct vm_state_part parts[VM_MAX_STATE_PARTS];
    struct machine_clock clk;
    unsigned n;

    /* The VM is paused: every vCPU is parked and no device changes. */
    host_mutex_lock(vm->lock);
    clk.now_ns = timerq_now(&vm->tq); /* frozen: the VM is paused or not started */
    vmstate_save_section(w, STREAM_SEC_DEVICE, &machine_clock_vms, 0, &clk);
    n = vm_devices_state_parts(vm, parts, VM_MAX_STATE_PARTS);
    for (unsigned i = 0; i < n && i < VM_MAX_STATE_PARTS; i++)
        vmstate_save_section(w, STREAM_SEC_DEVICE, parts[i].desc, parts[i].instance,
                             parts[i].state);
    for (unsigned i = 0; i < vm->ncpus; i++) {
        struct vcpu *v = &vm->vcpu[i];
        struct machine_vcpu m = {(uint32_t)v->mp_state, (uint32_t)v->sipi_vector,
                                 v->init_pending};
        struct x86_cpu_state s;
        int rc = vm->eng->get_state(v->ev, &s);
        if (rc < 0) {
            host_mutex_unlock(vm->lock);
            return err_wrap(rc, "vCPU %u", i);
        }
        vmstate_save_section(w, STREAM_SEC_DEVICE, &machine_vcpu_vms, i, &m);
        vmstate_save_section(w, STREAM_SEC_CPU, &x86_cpu_vms, i, &s);
    }
    host_mutex_unlock(vm->lock);
    return w->error;
}

int machine_load_section(struct stream_reader *r, const struct stream_section *sec, struct vm *vm,
                         struct machine_load *ml)
{
    struct vm_state_part parts[VM_MAX_STATE_PARTS];
    unsigned n;
    int rc;

    if (sec->tag == STREAM_SEC_CPU) {
        struct x86_cpu_state s;
        if (strcmp(sec->name, x86_cpu_vms.name) != 0 || sec->instance >= vm->ncpus)
            return err_set(-EBADMSG, "CPU section '%s' instance %u does not fit this VM "
                           "(%u vCPUs)", sec->name, sec->instance, vm->ncpus);
        memset(&s, 0, sizeof(s));
        if ((rc = vmstate_load(r, &x86_cpu_vms, sec, &s, &s)) < 0)
            return err_wrap(rc, "vCPU %u", sec->instance);
        if ((rc = vm->eng->set_state(vm->vcpu[sec->instance].ev, &s)) < 0)
            return err_wrap(rc, "vCPU %u: the engine refused the CPU state", sec->instance);
        ml->cpu_loaded[sec->instance] = true;
        return 0;
    }
    if (strcmp(sec->name, machine_clock_vms.name) == 0) {
        struct machine_clock clk = {0};
        if ((rc = vmstate_load(r, &machine_clock_vms, sec, &clk, &clk)) < 0)
            return rc;
        /* Set at once: device post_load hooks re-arm timers against it. */
        vm_set_clock(vm, clk.now_ns);
        ml->clock_loaded = true;
        return 0;
    }
    if (strcmp(sec->name, machine_vcpu_vms.name) == 0) {
        struct machine_vcpu m = {0, 0xffffffffu, 0};
        if (sec->instance >= vm->ncpus)
            return err_set(-EBADMSG, "vcpu section for vCPU %u, but this VM has %u",
                           sec->instance, vm->ncpus);
        if ((rc = vmstate_load(r, &machine_vcpu_vms, sec, &m, &m)) < 0)
            return rc;
        struct vcpu *v = &vm->vcpu[sec->instance];
        v->mp_state = (enum vcpu_mp_state)m.mp_state;
        v->sipi_vector = m.sipi_vector == 0xffffffffu ? -1 : (int)m.sipi_vector;
        v->init_pending = m.init_pending != 0;
        ml->vcpu_loaded[sec->instance] = true;
        return 0;
    }
    n = vm_devices_state_parts(vm, parts, VM_MAX_STATE_PARTS);
    for (unsigned i = 0; i < n && i < VM_MAX_STATE_PARTS; i++) {
        if (strcmp(parts[i].desc->name, sec->name) != 0 || parts[i].instance != sec->instance)
            continue;
        if (ml->part_loaded[i])
            return err_set(-EBADMSG, "device %s instance %u appears twice in the stream",
                           sec->name, sec->instance);
        host_mutex_lock(vm->lock);
        rc = vmstate_load(r, parts[i].desc, sec, parts[i].state, parts[i].opaque);
        host_mutex_unlock(vm->lock);
        if (rc < 0)
            return rc;
        ml->part_loaded[i] = true;
        return 0;
    }
    return err_set(-EPROTO, "the stream has state for device '%s' instance %u, which this VM "
                   "does not have", sec->name, sec->instance);
}

int machine_load_finish(struct vm *vm, const struct machine_load *ml)
{
    struct vm_state_part parts[VM_MAX_STATE_PARTS];
    unsigned n = vm_devices_state_parts(vm, parts, VM_MAX_STATE_PARTS);

    if (!ml->clock_loaded)
        return err_set(-EBADMSG, "the stream lacks the VM clock section");
    for (unsigned i = 0; i < n && i < VM_MAX_STATE_PARTS; i++)
        if (!ml->part_loaded[i])
            return err_set(-EBADMSG, "the stream lacks the state of device %s instance %u",
                           parts[i].desc->name, parts[i].instance);
    for (unsigned i = 0; i < vm->ncpus; i++)
        if (!ml->cpu_loaded[i] || !ml->vcpu_loaded[i])
            return err_set(-EBADMSG, "the stream lacks the state of vCPU %u", i);
    return 0;
}
