/* Logging to stderr with a level and a subsystem tag. log_ratelimited()
 * lets at most a burst of messages per key through per second, so a guest
 * hammering an unhandled port cannot flood the host. */
#ifndef ROAM_CORE_LOG_H
#define ROAM_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_msg(enum log_level level, const char *tag, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* State for one rate-limited message source: embed it where the source is. */
struct ratelimit {
    uint64_t window_start_ns;
    unsigned count;
    unsigned suppressed;
};

/* Returns true if a message may be printed now (max 10 per second). */
bool ratelimit_allow(struct ratelimit *rl);

#define log_error(tag, ...) log_msg(LOG_ERROR, tag, __VA_ARGS__)
#define log_warn(tag, ...) log_msg(LOG_WARN, tag, __VA_ARGS__)
#define log_info(tag, ...) log_msg(LOG_INFO, tag, __VA_ARGS__)
#define log_debug(tag, ...) log_msg(LOG_DEBUG, tag, __VA_ARGS__)

#endif
