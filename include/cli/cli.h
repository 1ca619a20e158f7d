/* Subcommands of the roam CLI. Each returns the process exit status. */
#ifndef ROAM_CLI_CLI_H
#define ROAM_CLI_CLI_H

#include "core/vm.h"

int cli_run(int argc, char **argv);
int cli_info(int argc, char **argv);

#endif
