/* Win32 error codes (GetLastError, FormatMessageA) turned into roam's
 * negative errno codes and messages. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "win32.h"
#include <winsock2.h> /* the WSAE* codes */

int host_win32_errno(DWORD code)
{
    switch (code) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
    case ERROR_BAD_PATHNAME:
        return -ENOENT;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
        return -EACCES;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_COMMITMENT_LIMIT:
        return -ENOMEM;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
        return -EEXIST;
    case ERROR_INVALID_PARAMETER:
    case ERROR_INVALID_ADDRESS:
        return -EINVAL;
    case ERROR_INVALID_HANDLE:
        return -EBADF;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
        return -ENOSPC;
    case ERROR_BROKEN_PIPE:
    case ERROR_NO_DATA:
        return -EPIPE;
    case ERROR_FILENAME_EXCED_RANGE:
        return -ENAMETOOLONG;
    case ERROR_DIRECTORY:
        return -ENOTDIR;
    case ERROR_OPERATION_ABORTED:
        return -EINTR;
    default:
        return -EIO;
    }
}

/* The message Linux's strerror gives for the errors a user meets (files,
 * sockets), or NULL where the system's own text is as good. Winsock codes
 * (WSAE*) arrive here too: they share the GetLastError number space. */
static const char *host_win32_strerror(DWORD code)
{
    switch (code) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
    case ERROR_BAD_PATHNAME:
        return "No such file or directory";
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
    case WSAEACCES:
        return "Permission denied";
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_COMMITMENT_LIMIT:
        return "Cannot allocate memory";
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
        return "File exists";
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
        return "No space left on device";
    case ERROR_BROKEN_PIPE:
    case ERROR_NO_DATA:
        return "Broken pipe";
    case ERROR_FILENAME_EXCED_RANGE:
        return "File name too long";
    case ERROR_DIRECTORY:
        return "Not a directory";
    case WSAECONNREFUSED:
        return "Connection refused";
    case WSAEADDRINUSE:
        return "Address already in use";
    case WSAEADDRNOTAVAIL:
        return "Cannot assign requested address";
    case WSAETIMEDOUT:
        return "Connection timed out";
    case WSAECONNRESET:
        return "Connection reset by peer";
    case WSAECONNABORTED:
        return "Software caused connection abort";
    case WSAENETUNREACH:
        return "Network is unreachable";
    case WSAEHOSTUNREACH:
        return "No route to host";
    case WSAENETDOWN:
        return "Network is down";
    case WSAHOST_NOT_FOUND:
        return "Name or service not known";
    case WSATRY_AGAIN:
        return "Temporary failure in name resolution";
    case WSAEAFNOSUPPORT:
        return "Address family not supported by protocol";
    default:
        return NULL;
    }
}

int host_win32_err(DWORD code, const char *fmt, ...)
{
    char what[256], sys[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);

    /* The common errors read as they do on Linux (strerror), so a message
     * means the same on both hosts; the rest come from the system. */
    const char *known = host_win32_strerror(code);
    if (known)
        return err_set(host_win32_errno(code), "%s: %s", what, known);
    DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                             code, MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT), sys,
                             (DWORD)sizeof(sys), NULL);
    if (n == 0) {
        snprintf(sys, sizeof(sys), "Windows error %lu", (unsigned long)code);
    } else {
        /* System messages end in ".\r\n"; the context reads better without. */
        size_t len = strlen(sys);
        while (len > 0 && (sys[len - 1] == '\n' || sys[len - 1] == '\r' ||
                           sys[len - 1] == ' ' || sys[len - 1] == '.'))
            sys[--len] = 0;
    }
    return err_set(host_win32_errno(code), "%s: %s", what, sys);
}
