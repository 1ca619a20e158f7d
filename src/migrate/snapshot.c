/* Snapshots: the migration stream written to a file with the VM paused
 * (docs/migration-format.md); `roam run --incoming file:PATH` or
 * `roam snapshot restore` reads it back (incoming.c). */
#include "migrate/migrate.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "migrate/machine.h"
#include "migrate/ram.h"
#include "migrate/stream.h"
#include "migrate/transport.h"

int snapshot_save(struct vm *vm, const char *path)
{
    char uri[1100];
    struct channel ch;
    struct stream_writer w;
    struct ram_sender rs;
    bool paused = false;
    int rc;

    snprintf(uri, sizeof(uri), "%s%s", strncmp(path, "file:", 5) == 0 ? "" : "file:", path);
    if (migrate_running(vm))
        return err_set(-EBUSY, "a migration is running");
    if ((rc = transport_connect(uri, &ch)) < 0)
        return rc;
    if (vm->state == VM_STATE_RUNNING) {
        vm_pause(vm);
        paused = true;
    }
    stream_writer_init(&w, &ch);
    rc = ram_sender_init(&rs, &w, &vm->mem);
    if (rc == 0) {
        stream_put_header(&w);
        machine_put_config(&w, vm, false);
        ram_send_all(&rs, true);
        rc = machine_put_state(&w, vm);
        if (rc == 0)
            rc = stream_put_end(&w);
        else if (!w.broken) {
            /* Say so in the file: a restore then reports why, not corruption. */
            char msg[400];
            snprintf(msg, sizeof(msg), "%s", err_msg());
            if (stream_put_abort(&w, STREAM_ABORT_FAILED, msg) < 0)
                log_info("migrate", "could not mark the snapshot as abandoned: %s", err_msg());
            err_set(rc, "%s", msg);
        }
        ram_sender_free(&rs);
    }
    stream_writer_free(&w);
    ch.close(ch.opaque);
    if (paused)
        vm_resume(vm);
    if (rc < 0)
        return err_wrap(rc, "snapshot %s", path);
    return 0;
}
