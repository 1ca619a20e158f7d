/* `roam stream-dump`: prints a migration stream or snapshot section by
 * section and field by field, with names from this roam's state tables. */
#include "migrate/dump.h"

#include <stdio.h>
#include <string.h>

#include "core/cpu_state_vms.h"
#include "core/vm.h"
#include "migrate/machine.h"
#include "migrate/ram.h"
#include "migrate/vmstate.h"

static const struct vms_desc *dump_find_desc(const char *name)
{
    const struct vms_desc *const descs[] = {&x86_cpu_vms, machine_clock_desc(), machine_vcpu_desc()};
    for (size_t i = 0; i < sizeof(descs) / sizeof(descs[0]); i++)
        if (strcmp(descs[i]->name, name) == 0)
            return descs[i];
    return vm_devices_find_desc(name);
}

int stream_dump(struct channel *ch, void (*print)(void *ctx, const char *line), void *ctx)
{
    static const char *const tags[] = {[STREAM_SEC_CONFIG] = "config", [STREAM_SEC_RAM] = "ram",
                                       [STREAM_SEC_DEVICE] = "device", [STREAM_SEC_CPU] = "cpu",
                                       [STREAM_SEC_SYNC] = "sync"};
    struct stream_reader r;
    struct stream_section sec;
    struct machine_config_info info;
    uint32_t version;
    char line[1600];
    uint64_t ram_sections = 0;
    int rc;

    stream_reader_init(&r, ch);
    if ((rc = stream_get_header(&r, &version)) < 0)
        return rc;
    snprintf(line, sizeof(line), "roam migration stream, format version %u", version);
    print(ctx, line);
    for (;;) {
        if ((rc = stream_get_section(&r, &sec)) < 0)
            return err_wrap(rc, "at byte %llu", (unsigned long long)r.bytes);
        if (sec.tag == STREAM_SEC_END) {
            snprintf(line, sizeof(line), "end: checksum ok, %llu bytes in all",
                     (unsigned long long)r.bytes);
            print(ctx, line);
            return 0;
        }
        const char *tag = sec.tag < sizeof(tags) / sizeof(tags[0]) && tags[sec.tag]
                              ? tags[sec.tag] : "unknown";
        snprintf(line, sizeof(line), "%s section '%s' instance %u version %u (%llu bytes)", tag,
                 sec.name, sec.instance, sec.version, (unsigned long long)sec.length);
        if (sec.tag == STREAM_SEC_RAM) {
            ram_sections++;
            print(ctx, line);
            rc = ram_dump_section(&r, &sec, print, ctx);
        } else if (sec.tag == STREAM_SEC_CONFIG) {
            print(ctx, line);
            rc = machine_check_config(&r, &sec, NULL, &info);
            if (rc == 0) {
                snprintf(line, sizeof(line),
                         "  memory_size = %lluM\n  vcpus = %u\n  cpu_model = %s version %u\n"
                         "  devices = %s\n  source_engine = %s\n  source_host_os = %s\n"
                         "  source_roam = %s",
                         (unsigned long long)(info.mem_size >> 20), info.ncpus, info.cpu_model,
                         info.cpu_model_version, info.devices, info.engine, info.host_os,
                         info.roam);
                print(ctx, line);
                if (info.receipts)
                    print(ctx, "  read_receipts = 1");
            }
        } else if (sec.tag == STREAM_SEC_ABORT) {
            struct stream_abort a;
            snprintf(line, sizeof(line), "abort section '%s' instance %u version %u (%llu bytes)",
                     sec.name, sec.instance, sec.version, (unsigned long long)sec.length);
            print(ctx, line);
            rc = stream_get_abort(&r, &sec, &a);
            if (rc == 0) {
                snprintf(line, sizeof(line),
                         "  reason = %u (%s)\n  message = %s\n  (the writer gave the stream "
                         "up here: it holds no complete VM)",
                         (unsigned)a.reason, stream_abort_reason_name(a.reason), a.message);
                print(ctx, line);
            }
        } else if (sec.tag == STREAM_SEC_DEVICE || sec.tag == STREAM_SEC_CPU) {
            print(ctx, line);
            rc = vmstate_dump(&r, dump_find_desc(sec.name), sec.length, print, ctx, 2);
        } else if (sec.tag == STREAM_SEC_SYNC) {
            print(ctx, line); /* a live stream's request for a read receipt */
            rc = stream_skip(&r, sec.length);
        } else {
            print(ctx, line);
            print(ctx, "  (unknown section: skipped)");
            rc = stream_skip(&r, sec.length);
        }
        if (rc < 0)
            return err_wrap(rc, "section '%s' instance %u", sec.name, sec.instance);
    }
}
