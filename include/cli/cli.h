/* Subcommands of the roam CLI. Each returns the process exit status. */
#ifndef ROAM_CLI_CLI_H
#define ROAM_CLI_CLI_H

#include "core/vm.h"

int cli_run(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_stream_dump(int argc, char **argv);
/* roam snapshot restore FILE [run options] */
int cli_snapshot_restore(int argc, char **argv);

/* roam migrate --control SPEC --to URI ... (cli/migrate.c) */
int cli_migrate(int argc, char **argv);
/* roam snapshot save|restore ...: save is cli/migrate.c's, restore is
 * cli_snapshot_restore() */
int cli_snapshot(int argc, char **argv);
/* roam control --control SPEC REQUEST... (cli/migrate.c) */
int cli_control(int argc, char **argv);

#endif
