/* Parsing of user-supplied configuration values (sizes, counts, specs),
 * shared by the CLI and, later, the control socket. */
#ifndef ROAM_CORE_CONFIG_H
#define ROAM_CORE_CONFIG_H

#include <stdint.h>

#include "core/err.h"
#include "core/vm.h"

/* "256M", "1G", "4096K", "1048576B"; a bare number means MiB (as QEMU's -m).
 * Suffixes K, M, G, T (powers of 1024), optionally followed by "B" or "iB". */
MUST_CHECK int config_parse_size(const char *s, uint64_t *out);
/* A decimal count in [min, max]. */
MUST_CHECK int config_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out);
/* "stdio", "none" or "file:PATH". */
MUST_CHECK int config_parse_serial(const char *s, enum serial_mode *mode, const char **path);
/* Fills the defaults: 256M, 1 CPU, engine auto, empty cmdline, serial stdio. */
void config_defaults(struct vm_config *cfg);

#endif
