/* `roam stream-dump FILE`: prints a snapshot or saved migration stream. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "migrate/dump.h"
#include "migrate/transport.h"

static void dump_print(void *ctx, const char *line)
{
    (void)ctx;
    printf("%s\n", line);
}

int cli_stream_dump(int argc, char **argv)
{
    char uri[4200];
    struct transport_listener *l;
    struct channel ch;
    int rc;

    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: roam stream-dump FILE\n");
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : VM_STATUS_ERROR;
    }
    snprintf(uri, sizeof(uri), "%s%s", strncmp(argv[1], "file:", 5) == 0 ? "" : "file:",
             argv[1]);
    if ((rc = transport_listen(uri, &l)) < 0 || (rc = transport_accept(l, &ch, -1)) < 0) {
        fprintf(stderr, "roam stream-dump: %s\n", err_msg());
        return VM_STATUS_ERROR;
    }
    transport_listener_close(l);
    rc = stream_dump(&ch, dump_print, NULL);
    ch.close(ch.opaque);
    fflush(stdout);
    if (rc < 0) {
        fprintf(stderr, "roam stream-dump: %s: %s\n", argv[1], err_msg());
        return VM_STATUS_ERROR;
    }
    return 0;
}
