/* Error convention: functions return 0 or a negative errno-style code and
 * record a human-readable message with err_set(). The message lives in a
 * per-thread buffer (like errno), so it survives the unwinding up to main(),
 * which prints err_msg(). Only main() exits the process. */
#ifndef ROAM_CORE_ERR_H
#define ROAM_CORE_ERR_H

#include <errno.h>

#if defined(__GNUC__) || defined(__clang__)
#define MUST_CHECK __attribute__((warn_unused_result))
#if defined(__MINGW32__)
/* mingw's "printf" format means msvcrt's; roam's formatting is C99's. */
#define PRINTF_LIKE(f, a) __attribute__((format(gnu_printf, f, a)))
#else
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#endif
#else
#define MUST_CHECK
#define PRINTF_LIKE(f, a)
#endif

/* Records the message and returns code (which should be negative). */
int err_set(int code, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Prefixes the current message with more context; returns code. */
int err_wrap(int code, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* The last message recorded on this thread ("" if none). */
const char *err_msg(void);
void err_clear(void);

#endif
