/* roam's version, for `roam version`, the control socket's greeting and the
 * migration stream's header. */
#ifndef ROAM_CORE_VERSION_H
#define ROAM_CORE_VERSION_H

#define ROAM_VERSION "0.1.0"

#endif
