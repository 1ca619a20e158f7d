/* roam's command line: `roam run`, `roam info`, `roam --help`. Only this
 * file ends the process; everything below returns errors with messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/version.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: roam COMMAND [OPTIONS]\n"
            "\n"
            "commands:\n"
            "  run      boot a guest (roam run --help for its options)\n"
            "  info     list the engines built in and whether each can run here\n"
            "  migrate  live-migrate a running VM through its control socket\n"
            "           (roam migrate --help)\n"
            "  snapshot save --control SPEC FILE | snapshot restore FILE [run options]\n"
            "           save a running VM to a file, or start one from it\n"
            "  control --control SPEC REQUEST...\n"
            "           send requests to a running roam's control socket (docs/control.md)\n"
            "  stream-dump FILE\n"
            "           print a snapshot or migration stream, section by section\n"
            "  version  print roam's version\n"
            "  help     print this text\n");
}

int main(int argc, char **argv)
{
    const char *cmd;

    if (argc < 2) {
        usage(stderr);
        return VM_STATUS_ERROR;
    }
    cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return cli_run(argc - 1, argv + 1);
    if (strcmp(cmd, "info") == 0)
        return cli_info(argc - 1, argv + 1);
    if (strcmp(cmd, "migrate") == 0)
        return cli_migrate(argc - 1, argv + 1);
    if (strcmp(cmd, "snapshot") == 0)
        return cli_snapshot(argc - 1, argv + 1);
    if (strcmp(cmd, "control") == 0)
        return cli_control(argc - 1, argv + 1);
    if (strcmp(cmd, "stream-dump") == 0)
        return cli_stream_dump(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("roam %s\n", ROAM_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "roam: unknown command '%s' (try roam --help)\n", cmd);
    return VM_STATUS_ERROR;
}
