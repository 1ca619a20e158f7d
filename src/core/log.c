/* Logging to stderr; see core/log.h. The level is process-wide
 * configuration set once by main(), so it is the one mutable static here. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "host/host.h"

static enum log_level log_level = LOG_WARN;

void log_set_level(enum log_level level)
{
    log_level = level;
}

enum log_level log_get_level(void)
{
    return log_level;
}

void log_msg(enum log_level level, const char *tag, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    char line[1024];
    int n;
    va_list ap;

    if (level > log_level)
        return;
    n = snprintf(line, sizeof(line), "roam: %s: %s: ", tag, names[level]);
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    /* One call per line so lines from vCPU threads do not interleave. */
    fprintf(stderr, "%s\n", line);
}

bool ratelimit_allow(struct ratelimit *rl)
{
    uint64_t now = host_time_ns();

    if (now - rl->window_start_ns >= 1000000000ull) {
        if (rl->suppressed)
            log_warn("log", "%u similar messages suppressed", rl->suppressed);
        rl->window_start_ns = now;
        rl->count = 0;
        rl->suppressed = 0;
    }
    if (rl->count < 10) {
        rl->count++;
        return true;
    }
    rl->suppressed++;
    return false;
}
