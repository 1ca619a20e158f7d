/* Files and the standard streams on Windows: CreateFileA, ReadFile and
 * WriteFile with OVERLAPPED offsets (pread/pwrite), GetFileSizeEx; the
 * non-blocking stdin read looks at console input events
 * (PeekConsoleInputW) or at the bytes waiting in a pipe (PeekNamedPipe);
 * a pipe that cannot be peeked is read by a thread of its own.
 * Every error message names the file. Paths are in the ANSI code page,
 * like main()'s arguments. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "win32.h"

struct host_file {
    HANDLE h;
    bool append;
    uint64_t pos;  /* where the next host_file_write() goes */
    char path[];   /* kept for error messages */
};

/* A positioned ReadFile/WriteFile on a synchronous handle moves the file
 * pointer, so sequential writes keep their own position (pos) and always
 * pass an offset: pread and pwrite then leave it alone, as on POSIX. */
#define FILE_CHUNK ((DWORD)1 << 30)
#define FILE_OFFSET_END UINT64_MAX /* OVERLAPPED offset 0xffffffff:ffffffff: append */

static DWORD file_io(HANDLE h, bool write, void *buf, DWORD len, uint64_t offset,
                     DWORD *done)
{
    OVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.Offset = (DWORD)offset;
    ov.OffsetHigh = (DWORD)(offset >> 32);
    *done = 0;
    BOOL ok = write ? WriteFile(h, buf, len, done, &ov) : ReadFile(h, buf, len, done, &ov);
    if (ok)
        return 0;
    DWORD e = GetLastError();
    return e == ERROR_HANDLE_EOF ? 0 : e; /* reading past the end reads nothing */
}

int host_file_open(struct host_file **out, const char *path, unsigned flags)
{
    *out = NULL;
    DWORD access = 0, disposition;
    if (flags & HOST_FILE_READ)
        access |= GENERIC_READ;
    if (flags & HOST_FILE_WRITE)
        access |= GENERIC_WRITE;
    if (flags & HOST_FILE_APPEND)
        access |= FILE_APPEND_DATA;
    if (!access)
        return err_set(-EINVAL, "%s: open: neither read nor write access requested", path);
    if ((flags & HOST_FILE_CREATE) && (flags & HOST_FILE_TRUNC))
        disposition = CREATE_ALWAYS;
    else if (flags & HOST_FILE_CREATE)
        disposition = OPEN_ALWAYS;
    else if (flags & HOST_FILE_TRUNC)
        disposition = TRUNCATE_EXISTING;
    else
        disposition = OPEN_EXISTING;

    size_t plen = strlen(path);
    struct host_file *f = malloc(sizeof(*f) + plen + 1);
    if (!f)
        return err_set(-ENOMEM, "%s: out of memory", path);
    memcpy(f->path, path, plen + 1);
    f->append = flags & HOST_FILE_APPEND;
    f->pos = 0;
    f->h = CreateFileA(path, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                       NULL, disposition, FILE_ATTRIBUTE_NORMAL, NULL);
    if (f->h == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        free(f);
        return host_win32_err(e, "%s", path);
    }
    *out = f;
    return 0;
}

void host_file_close(struct host_file *f)
{
    if (!f)
        return;
    CloseHandle(f->h);
    free(f);
}

int host_file_size(struct host_file *f, uint64_t *size)
{
    LARGE_INTEGER li;
    *size = 0;
    if (!GetFileSizeEx(f->h, &li))
        return host_win32_err(GetLastError(), "%s", f->path);
    *size = (uint64_t)li.QuadPart;
    return 0;
}

int host_file_pread(struct host_file *f, void *buf, size_t len, uint64_t offset)
{
    size_t done = 0;
    while (done < len) {
        DWORD n = len - done < FILE_CHUNK ? (DWORD)(len - done) : FILE_CHUNK, got;
        DWORD e = file_io(f->h, false, (char *)buf + done, n, offset + done, &got);
        if (e)
            return host_win32_err(e, "%s: read %llu bytes at offset %llu", f->path,
                                  (unsigned long long)len, (unsigned long long)offset);
        if (got == 0)
            return err_set(-EIO, "%s: short read: wanted %llu bytes at offset %llu, got %llu",
                           f->path, (unsigned long long)len, (unsigned long long)offset,
                           (unsigned long long)done);
        done += got;
    }
    return 0;
}

int host_file_pwrite(struct host_file *f, const void *buf, size_t len, uint64_t offset)
{
    size_t done = 0;
    while (done < len) {
        DWORD n = len - done < FILE_CHUNK ? (DWORD)(len - done) : FILE_CHUNK, put;
        DWORD e = file_io(f->h, true, (char *)buf + done, n, offset + done, &put);
        if (e)
            return host_win32_err(e, "%s: write %llu bytes at offset %llu", f->path,
                                  (unsigned long long)len, (unsigned long long)offset);
        if (put == 0)
            return err_set(-EIO, "%s: write at offset %llu made no progress", f->path,
                           (unsigned long long)(offset + done));
        done += put;
    }
    return 0;
}

int host_file_write(struct host_file *f, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        DWORD n = len - done < FILE_CHUNK ? (DWORD)(len - done) : FILE_CHUNK, put;
        DWORD e = file_io(f->h, true, (char *)buf + done, n,
                          f->append ? FILE_OFFSET_END : f->pos, &put);
        if (e)
            return host_win32_err(e, "%s: write", f->path);
        if (put == 0)
            return err_set(-EIO, "%s: write made no progress", f->path);
        done += put;
        f->pos += put;
    }
    return 0;
}

int host_file_read_all(const char *path, void **buf, size_t *len)
{
    struct host_file *f;
    *buf = NULL;
    *len = 0;
    int rc = host_file_open(&f, path, HOST_FILE_READ);
    if (rc < 0)
        return rc;

    /* Sized from GetFileSizeEx, but read until end of file: pipes and
     * devices have no size. */
    LARGE_INTEGER li;
    size_t cap = 4096, used = 0;
    if (GetFileSizeEx(f->h, &li) && li.QuadPart > 0 && (uint64_t)li.QuadPart < SIZE_MAX)
        cap = (size_t)li.QuadPart + 1;
    char *data = malloc(cap);
    if (!data) {
        host_file_close(f);
        return err_set(-ENOMEM, "%s: out of memory for %llu bytes", path,
                       (unsigned long long)cap);
    }
    for (;;) {
        if (used == cap) {
            size_t ncap = cap * 2;
            char *n = ncap > cap ? realloc(data, ncap) : NULL;
            if (!n) {
                free(data);
                host_file_close(f);
                return err_set(-ENOMEM, "%s: out of memory for %llu bytes", path,
                               (unsigned long long)ncap);
            }
            data = n;
            cap = ncap;
        }
        DWORD want = cap - used < FILE_CHUNK ? (DWORD)(cap - used) : FILE_CHUNK, got = 0;
        if (!ReadFile(f->h, data + used, want, &got, NULL)) {
            DWORD e = GetLastError();
            if (e == ERROR_BROKEN_PIPE || e == ERROR_HANDLE_EOF)
                break;
            free(data);
            host_file_close(f);
            return host_win32_err(e, "%s", path);
        }
        if (got == 0)
            break;
        used += got;
    }
    host_file_close(f);
    *buf = data;
    *len = used;
    return 0;
}

int host_stdio_write(int fd, const void *buf, size_t len)
{
    if (fd != 1 && fd != 2)
        return err_set(-EBADF, "write to standard stream %d: not stdout or stderr", fd);
    const char *name = fd == 1 ? "stdout" : "stderr";
    HANDLE h = GetStdHandle(fd == 1 ? STD_OUTPUT_HANDLE : STD_ERROR_HANDLE);
    if (h == NULL || h == INVALID_HANDLE_VALUE)
        return err_set(-EBADF, "%s: not open", name);
    size_t done = 0;
    while (done < len) {
        DWORD n = len - done < FILE_CHUNK ? (DWORD)(len - done) : FILE_CHUNK, put = 0;
        if (!WriteFile(h, (const char *)buf + done, n, &put, NULL))
            return host_win32_err(GetLastError(), "%s", name);
        if (put == 0)
            return err_set(-EIO, "%s: write made no progress", name);
        done += put;
    }
    return 0;
}

/* The bytes one key event stands for: its character in UTF-8 (a VT
 * sequence arrives as several such events). Returns the count, 0 for
 * events that carry no character (key releases, Shift, focus, ...). */
static size_t file_key_bytes(const INPUT_RECORD *r, const INPUT_RECORD *next, char *out,
                             bool *pair)
{
    *pair = false;
    if (r->EventType != KEY_EVENT || !r->Event.KeyEvent.bKeyDown)
        return 0;
    WCHAR w[2] = {r->Event.KeyEvent.uChar.UnicodeChar, 0};
    int nw = 1;
    if (w[0] == 0)
        return 0;
    /* A character outside the BMP comes as two events, a surrogate pair. */
    if (w[0] >= 0xd800 && w[0] < 0xdc00 && next && next->EventType == KEY_EVENT &&
        next->Event.KeyEvent.bKeyDown) {
        w[1] = next->Event.KeyEvent.uChar.UnicodeChar;
        if (w[1] >= 0xdc00 && w[1] < 0xe000) {
            nw = 2;
            *pair = true;
        }
    }
    int n = WideCharToMultiByte(CP_UTF8, 0, w, nw, out, 8, NULL, NULL);
    return n > 0 ? (size_t)n : 0;
}

static int file_console_read(HANDLE h, char *buf, size_t len)
{
    INPUT_RECORD recs[64];
    DWORD avail = 0;
    if (!PeekConsoleInputW(h, recs, 64, &avail))
        return host_win32_err(GetLastError(), "stdin (console)");
    size_t used = 0;
    DWORD consumed = 0;
    while (consumed < avail) {
        char bytes[8];
        bool pair;
        const INPUT_RECORD *next = consumed + 1 < avail ? &recs[consumed + 1] : NULL;
        size_t n = file_key_bytes(&recs[consumed], next, bytes, &pair);
        WORD repeat = n ? recs[consumed].Event.KeyEvent.wRepeatCount : 0;
        if (repeat == 0 && n)
            repeat = 1;
        /* Only events whose bytes fit are taken off the queue. */
        if (used + n * repeat > len)
            break;
        for (WORD i = 0; i < repeat; i++) {
            memcpy(buf + used, bytes, n);
            used += n;
        }
        consumed += pair ? 2 : 1;
    }
    if (consumed > 0) {
        DWORD got = 0;
        if (!ReadConsoleInputW(h, recs, consumed, &got))
            return host_win32_err(GetLastError(), "stdin (console)");
    }
    return (int)used;
}

/* A pipe PeekNamedPipe refuses (wine gives ERROR_NOT_SUPPORTED for a Unix
 * pipe or FIFO) is read by a thread that blocks in ReadFile and leaves the
 * bytes here, as QEMU's win32 stdio backend does. Process-wide, like the
 * stdin handle it serves. */
static struct {
    SRWLOCK lock;
    CONDITION_VARIABLE room;
    HANDLE h;
    uint8_t buf[4096];
    size_t head, len;
    bool eof;
    DWORD err;
} stdin_pump = {SRWLOCK_INIT, CONDITION_VARIABLE_INIT, NULL, {0}, 0, 0, false, 0};
static INIT_ONCE stdin_pump_once = INIT_ONCE_STATIC_INIT;

static DWORD WINAPI stdin_pump_main(LPVOID arg)
{
    uint8_t tmp[512];
    (void)arg;
    for (;;) {
        DWORD got = 0;
        BOOL ok = ReadFile(stdin_pump.h, tmp, sizeof(tmp), &got, NULL);
        DWORD e = ok ? 0 : GetLastError();
        AcquireSRWLockExclusive(&stdin_pump.lock);
        if (!ok || got == 0) {
            stdin_pump.eof = true;
            stdin_pump.err = e == ERROR_BROKEN_PIPE || e == ERROR_HANDLE_EOF ? 0 : e;
            ReleaseSRWLockExclusive(&stdin_pump.lock);
            return 0;
        }
        for (DWORD i = 0; i < got; i++) {
            while (stdin_pump.len == sizeof(stdin_pump.buf))
                SleepConditionVariableSRW(&stdin_pump.room, &stdin_pump.lock, INFINITE, 0);
            stdin_pump.buf[(stdin_pump.head + stdin_pump.len++) % sizeof(stdin_pump.buf)] = tmp[i];
        }
        ReleaseSRWLockExclusive(&stdin_pump.lock);
    }
}

static BOOL CALLBACK stdin_pump_start(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    HANDLE t;
    (void)once;
    (void)ctx;
    stdin_pump.h = param;
    t = CreateThread(NULL, 0, stdin_pump_main, NULL, 0, NULL);
    if (!t) {
        stdin_pump.eof = true;
        stdin_pump.err = GetLastError();
        return TRUE;
    }
    CloseHandle(t);
    return TRUE;
}

static int stdin_pump_read(HANDLE h, uint8_t *buf, size_t len)
{
    size_t n = 0;
    InitOnceExecuteOnce(&stdin_pump_once, stdin_pump_start, h, NULL);
    AcquireSRWLockExclusive(&stdin_pump.lock);
    while (n < len && stdin_pump.len > 0) {
        buf[n++] = stdin_pump.buf[stdin_pump.head];
        stdin_pump.head = (stdin_pump.head + 1) % sizeof(stdin_pump.buf);
        stdin_pump.len--;
    }
    bool eof = stdin_pump.eof && n == 0 && stdin_pump.len == 0;
    DWORD e = stdin_pump.err;
    ReleaseSRWLockExclusive(&stdin_pump.lock);
    WakeConditionVariable(&stdin_pump.room);
    if (eof)
        return e ? host_win32_err(e, "stdin") : err_set(-EPIPE, "stdin: end of file");
    return (int)n;
}

int host_stdin_read(void *buf, size_t len)
{
    HANDLE h = GetStdHandle(STD_INPUT_HANDLE);
    DWORD mode, avail = 0, got = 0;
    if (len == 0)
        return 0;
    if (len > 1 << 20)
        len = 1 << 20; /* the result must fit an int */
    if (h == NULL || h == INVALID_HANDLE_VALUE)
        return err_set(-EBADF, "stdin: not open");

    switch (GetFileType(h)) {
    case FILE_TYPE_CHAR:
        if (GetConsoleMode(h, &mode))
            return file_console_read(h, buf, len);
        break; /* the NUL device: ReadFile reports end of file */
    case FILE_TYPE_PIPE:
        if (stdin_pump.h)
            return stdin_pump_read(h, buf, len);
        if (!PeekNamedPipe(h, NULL, 0, NULL, &avail, NULL)) {
            DWORD e = GetLastError();
            if (e == ERROR_BROKEN_PIPE)
                return err_set(-EPIPE, "stdin: end of file");
            return stdin_pump_read(h, buf, len);
        }
        if (avail == 0)
            return 0;
        if (len > avail)
            len = avail;
        break;
    default:
        break; /* a file: always readable */
    }
    if (!ReadFile(h, buf, (DWORD)len, &got, NULL)) {
        DWORD e = GetLastError();
        if (e == ERROR_BROKEN_PIPE || e == ERROR_HANDLE_EOF)
            return err_set(-EPIPE, "stdin: end of file");
        return host_win32_err(e, "stdin");
    }
    if (got == 0)
        return err_set(-EPIPE, "stdin: end of file");
    return (int)got;
}
