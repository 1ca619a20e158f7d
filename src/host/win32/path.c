/* Path helpers on Windows: an absolute path from GetFullPathNameA. */
#include <errno.h>
#include <stdlib.h>

#include "win32.h"

int host_path_absolute(const char *path, char **out)
{
    *out = NULL;
    DWORD need = GetFullPathNameA(path, 0, NULL, NULL);
    if (need == 0)
        return host_win32_err(GetLastError(), "%s", path);
    char *buf = malloc(need);
    if (!buf)
        return err_set(-ENOMEM, "%s: out of memory", path);
    DWORD got = GetFullPathNameA(path, need, buf, NULL);
    if (got == 0 || got >= need) {
        DWORD e = GetLastError();
        free(buf);
        return got ? err_set(-EIO, "%s: the path changed length", path)
                   : host_win32_err(e, "%s", path);
    }
    *out = buf;
    return 0;
}
