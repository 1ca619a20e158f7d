/* The control socket's client side (core/control.h), used by the roam CLI:
 * connects, checks the greeting, and exchanges request and answer lines.
 * Kept apart from the server so that a client links without the VM. */
#include "core/control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "migrate/transport.h"

/* The greeting must come this quickly. */
#define CLIENT_GREETING_MS 5000
/* Longest answer line accepted. */
#define CLIENT_MAX_LINE (16u << 20)

struct control_client {
    struct channel ch;
    char *buf;
    size_t used, cap;
    char name[];
};

/* Reads one line (without its newline) into a malloc'ed string. Waits at
 * most timeout_ms in all (-1: forever). */
static int client_read_line(struct control_client *c, int timeout_ms, char **out)
{
    uint64_t deadline = timeout_ms < 0 ? 0 : host_time_ns() + (uint64_t)timeout_ms * 1000000;
    *out = NULL;
    for (;;) {
        char *nl = c->used ? memchr(c->buf, '\n', c->used) : NULL;
        if (nl) {
            size_t len = (size_t)(nl - c->buf);
            char *line = malloc(len + 1);
            if (!line)
                return err_set(-ENOMEM, "out of memory");
            memcpy(line, c->buf, len);
            line[len] = 0;
            if (len && line[len - 1] == '\r')
                line[len - 1] = 0;
            memmove(c->buf, nl + 1, c->used - len - 1);
            c->used -= len + 1;
            *out = line;
            return 0;
        }
        if (c->used == c->cap) {
            if (c->cap >= CLIENT_MAX_LINE)
                return err_set(-E2BIG, "%s: an answer line longer than %u bytes", c->name,
                               CLIENT_MAX_LINE);
            size_t ncap = c->cap ? c->cap * 2 : 4096;
            char *n = realloc(c->buf, ncap);
            if (!n)
                return err_set(-ENOMEM, "out of memory");
            c->buf = n;
            c->cap = ncap;
        }
        int wait = -1;
        if (timeout_ms >= 0) {
            uint64_t now = host_time_ns();
            wait = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
        }
        int n = c->ch.read_some(c->ch.opaque, c->buf + c->used, c->cap - c->used, wait);
        if (n == -EPIPE)
            return err_set(-EPIPE, "%s: the control socket closed the connection", c->name);
        if (n < 0)
            return n;
        if (n == 0 && timeout_ms >= 0 && host_time_ns() >= deadline)
            return err_set(-ETIMEDOUT, "%s: no answer within %d ms", c->name, timeout_ms);
        c->used += (size_t)n;
    }
}

int control_client_connect(const char *spec, struct control_client **out)
{
    struct control_client *c;
    struct json *greeting = NULL;
    char *line = NULL;
    int rc;

    *out = NULL;
    if (strncmp(spec, "unix:", 5) != 0 && strncmp(spec, "tcp:", 4) != 0)
        return err_set(-EINVAL, "bad control socket '%s' (use unix:PATH or tcp:HOST:PORT)", spec);
    c = calloc(1, sizeof(*c) + strlen(spec) + 1);
    if (!c)
        return err_set(-ENOMEM, "out of memory");
    strcpy(c->name, spec);
    if ((rc = transport_connect(spec, &c->ch)) < 0) {
        free(c);
        return rc;
    }
    rc = client_read_line(c, CLIENT_GREETING_MS, &line);
    if (rc == 0 && (json_parse(line, strlen(line), &greeting) < 0 ||
                    !json_get(greeting, "roam")))
        rc = err_set(-EPROTO, "%s: not a roam control socket (it said: %.80s)", spec, line);
    else if (rc < 0)
        rc = err_wrap(rc, "%s: waiting for the greeting", spec);
    json_free(greeting);
    free(line);
    if (rc < 0) {
        control_client_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

int control_client_call(struct control_client *c, const char *request, char **answer)
{
    size_t len = strlen(request);
    int rc;

    *answer = NULL;
    if (memchr(request, '\n', len) && request[len - 1] != '\n')
        return err_set(-EINVAL, "a request must be one line");
    rc = c->ch.write(c->ch.opaque, request, len);
    if (rc == 0 && (len == 0 || request[len - 1] != '\n'))
        rc = c->ch.write(c->ch.opaque, "\n", 1);
    if (rc < 0) {
        /* A server that stopped may have sent its last events before
         * closing: those are still here to read. */
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", err_msg());
        if (client_read_line(c, 0, answer) == 0)
            return 0;
        return err_set(rc, "%s", msg);
    }
    return client_read_line(c, -1, answer);
}

void control_client_close(struct control_client *c)
{
    if (!c)
        return;
    c->ch.close(c->ch.opaque);
    free(c->buf);
    free(c);
}
