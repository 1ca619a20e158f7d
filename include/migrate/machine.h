/* The machine's state in the migration stream: the config section and the
 * device, vCPU and clock sections (docs/migration-format.md). */
#ifndef ROAM_MIGRATE_MACHINE_H
#define ROAM_MIGRATE_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vm.h"
#include "migrate/stream.h"

#define MACHINE_CONFIG_VERSION 1u

/* The config as a stream states it. */
struct machine_config_info {
    uint64_t mem_size;
    uint32_t ncpus;
    char cpu_model[64];
    uint32_t cpu_model_version;
    char devices[1024];
    char engine[64];
    char host_os[64];
    char roam[64];
    bool receipts; /* the source asks for read receipts (SYNC sections) */
};

/* What a load has seen so far (every part must arrive exactly once). */
struct machine_load {
    bool clock_loaded;
    bool part_loaded[VM_MAX_STATE_PARTS];
    bool cpu_loaded[VM_MAX_CPUS];
    bool vcpu_loaded[VM_MAX_CPUS];
};

/* Writes the config section; receipts asks the destination for read
 * receipts (a live migration's two-way channel only). */
void machine_put_config(struct stream_writer *w, struct vm *vm, bool receipts);
/* Reads the config section's payload and, when vm is not NULL, checks it
 * against vm, naming exactly what differs. */
MUST_CHECK int machine_check_config(struct stream_reader *r, const struct stream_section *sec,
                                    struct vm *vm, struct machine_config_info *info);
/* Writes the clock, every device, and every vCPU (the VM must be paused). */
MUST_CHECK int machine_put_state(struct stream_writer *w, struct vm *vm);
/* Loads one device, clock, vcpu or CPU section into the (not started) VM. */
MUST_CHECK int machine_load_section(struct stream_reader *r, const struct stream_section *sec,
                                    struct vm *vm, struct machine_load *ml);
/* The descriptions of the core's own sections ("vm", "vcpu"), for dumps. */
const struct vms_desc *machine_clock_desc(void);
const struct vms_desc *machine_vcpu_desc(void);
/* Checks that every piece of state arrived. */
MUST_CHECK int machine_load_finish(struct vm *vm, const struct machine_load *ml);

#endif
