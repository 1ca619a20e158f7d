/* Files and the standard streams on POSIX: open/pread/pwrite/write/fstat,
 * and poll() for the non-blocking stdin read that feeds the serial console.
 * Every error message names the file, as in "kernel.elf: No such file or
 * directory". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/host.h"

struct host_file {
    int fd;
    char path[]; /* kept for error messages */
};

/* Large transfers go in pieces of at most 1 GiB (Linux caps one call at
 * just under 2 GiB anyway). */
#define FILE_CHUNK ((size_t)1 << 30)

int host_file_open(struct host_file **out, const char *path, unsigned flags)
{
    *out = NULL;
    int oflags = O_CLOEXEC;
    bool rd = flags & HOST_FILE_READ, wr = flags & (HOST_FILE_WRITE | HOST_FILE_APPEND);
    if (rd && wr)
        oflags |= O_RDWR;
    else if (wr)
        oflags |= O_WRONLY;
    else if (rd)
        oflags |= O_RDONLY;
    else
        return err_set(-EINVAL, "%s: open: neither read nor write access requested", path);
    if (flags & HOST_FILE_CREATE)
        oflags |= O_CREAT;
    if (flags & HOST_FILE_TRUNC)
        oflags |= O_TRUNC;
    if (flags & HOST_FILE_APPEND)
        oflags |= O_APPEND;

    size_t plen = strlen(path);
    struct host_file *f = malloc(sizeof(*f) + plen + 1);
    if (!f)
        return err_set(-ENOMEM, "%s: out of memory", path);
    memcpy(f->path, path, plen + 1);
    do
        f->fd = open(path, oflags, 0666);
    while (f->fd < 0 && errno == EINTR);
    if (f->fd < 0) {
        int e = errno;
        free(f);
        return err_set(-e, "%s: %s", path, strerror(e));
    }
    *out = f;
    return 0;
}

void host_file_close(struct host_file *f)
{
    if (!f)
        return;
    close(f->fd);
    free(f);
}

int host_file_size(struct host_file *f, uint64_t *size)
{
    struct stat st;
    *size = 0;
    if (fstat(f->fd, &st) != 0) {
        int e = errno;
        return err_set(-e, "%s: %s", f->path, strerror(e));
    }
    if (S_ISBLK(st.st_mode)) {
        /* A block device (a raw disk) reports st_size 0; its end tells. */
        off_t end = lseek(f->fd, 0, SEEK_END);
        if (end < 0) {
            int e = errno;
            return err_set(-e, "%s: %s", f->path, strerror(e));
        }
        *size = (uint64_t)end;
        return 0;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

int host_file_pread(struct host_file *f, void *buf, size_t len, uint64_t offset)
{
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < FILE_CHUNK ? len - done : FILE_CHUNK;
        ssize_t r = pread(f->fd, (char *)buf + done, n, (off_t)(offset + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            return err_set(-e, "%s: read %llu bytes at offset %llu: %s", f->path,
                           (unsigned long long)len, (unsigned long long)offset, strerror(e));
        }
        if (r == 0)
            return err_set(-EIO, "%s: short read: wanted %llu bytes at offset %llu, got %llu",
                           f->path, (unsigned long long)len, (unsigned long long)offset,
                           (unsigned long long)done);
        done += (size_t)r;
    }
    return 0;
}

int host_file_pwrite(struct host_file *f, const void *buf, size_t len, uint64_t offset)
{
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < FILE_CHUNK ? len - done : FILE_CHUNK;
        ssize_t r = pwrite(f->fd, (const char *)buf + done, n, (off_t)(offset + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            return err_set(-e, "%s: write %llu bytes at offset %llu: %s", f->path,
                           (unsigned long long)len, (unsigned long long)offset, strerror(e));
        }
        if (r == 0)
            return err_set(-EIO, "%s: write at offset %llu made no progress", f->path,
                           (unsigned long long)(offset + done));
        done += (size_t)r;
    }
    return 0;
}

/* Writes all of buf to fd, waiting if fd is non-blocking and full. */
static int file_write_all(int fd, const void *buf, size_t len, int *err)
{
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < FILE_CHUNK ? len - done : FILE_CHUNK;
        ssize_t r = write(fd, (const char *)buf + done, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd p = {.fd = fd, .events = POLLOUT};
                poll(&p, 1, -1);
                continue;
            }
            *err = errno;
            return -1;
        }
        if (r == 0) {
            *err = EIO;
            return -1;
        }
        done += (size_t)r;
    }
    return 0;
}

int host_file_write(struct host_file *f, const void *buf, size_t len)
{
    int e;
    if (file_write_all(f->fd, buf, len, &e) != 0)
        return err_set(-e, "%s: write: %s", f->path, strerror(e));
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

    /* Size the buffer from fstat, but read until end of file: files in
     * /proc or pipes report a size of 0 or one that changes. */
    struct stat st;
    size_t cap = 4096;
    if (fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (size_t)st.st_size + 1;
    char *data = malloc(cap);
    size_t used = 0;
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
        size_t want = cap - used < FILE_CHUNK ? cap - used : FILE_CHUNK;
        ssize_t r = read(f->fd, data + used, want);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(data);
            host_file_close(f);
            return err_set(-e, "%s: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        used += (size_t)r;
    }
    host_file_close(f);
    *buf = data;
    *len = used;
    return 0;
}

int host_stdio_write(int fd, const void *buf, size_t len)
{
    int e;
    if (fd != STDOUT_FILENO && fd != STDERR_FILENO)
        return err_set(-EBADF, "write to standard stream %d: not stdout or stderr", fd);
    if (file_write_all(fd, buf, len, &e) != 0)
        return err_set(-e, "%s: %s", fd == STDOUT_FILENO ? "stdout" : "stderr", strerror(e));
    return 0;
}

int host_stdin_read(void *buf, size_t len)
{
    if (len == 0)
        return 0;
    if (len > 1 << 20)
        len = 1 << 20; /* the result must fit an int */
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    int n = poll(&p, 1, 0);
    if (n < 0) {
        int e = errno;
        return e == EINTR ? 0 : err_set(-e, "stdin: %s", strerror(e));
    }
    if (n == 0)
        return 0;
    if (p.revents & POLLNVAL)
        return err_set(-EBADF, "stdin: not open");
    /* POLLHUP or POLLERR: read() reports end of file or the error. */
    ssize_t r = read(STDIN_FILENO, buf, len);
    if (r < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        int e = errno;
        return err_set(-e, "stdin: %s", strerror(e));
    }
    if (r == 0)
        return err_set(-EPIPE, "stdin: end of file");
    return (int)r;
}
