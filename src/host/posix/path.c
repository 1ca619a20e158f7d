/* Path helpers on POSIX: an absolute path from getcwd(). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/host.h"

int host_path_absolute(const char *path, char **out)
{
    size_t cap = 256;
    char *cwd = NULL;

    *out = NULL;
    if (path[0] == '/') {
        *out = strdup(path);
        return *out ? 0 : err_set(-ENOMEM, "%s: out of memory", path);
    }
    for (;;) {
        char *n = realloc(cwd, cap);
        if (!n) {
            free(cwd);
            return err_set(-ENOMEM, "%s: out of memory", path);
        }
        cwd = n;
        if (getcwd(cwd, cap))
            break;
        if (errno != ERANGE) {
            int e = errno;
            free(cwd);
            return err_set(-e, "%s: the current directory: %s", path, strerror(e));
        }
        cap *= 2;
    }
    size_t a = strlen(cwd), b = strlen(path);
    char *r = malloc(a + b + 2);
    if (!r) {
        free(cwd);
        return err_set(-ENOMEM, "%s: out of memory", path);
    }
    memcpy(r, cwd, a);
    r[a] = '/';
    memcpy(r + a + 1, path, b + 1);
    free(cwd);
    *out = r;
    return 0;
}
