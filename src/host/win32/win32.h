/* Private to src/host/win32 (not part of the host API): <windows.h> with
 * the settings every file here uses, and the bridge from GetLastError()
 * codes to roam's negative errno codes and err_set() messages. */
#ifndef ROAM_HOST_WIN32_WIN32_H
#define ROAM_HOST_WIN32_WIN32_H

#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0A00 /* Windows 10 */
#endif
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "host/host.h"

/* The negative errno value closest to a Win32 error code. */
int host_win32_errno(DWORD code);
/* err_set() with the mapped code and "<formatted text>: <system message>". */
int host_win32_err(DWORD code, const char *fmt, ...) PRINTF_LIKE(2, 3);

#endif
