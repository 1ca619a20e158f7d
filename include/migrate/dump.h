/* Printing a migration stream (roam stream-dump). */
#ifndef ROAM_MIGRATE_DUMP_H
#define ROAM_MIGRATE_DUMP_H

#include "core/err.h"
#include "migrate/channel.h"

/* Prints every section and field; checks the end marker's checksum. */
MUST_CHECK int stream_dump(struct channel *ch, void (*print)(void *ctx, const char *line),
                           void *ctx);

#endif
