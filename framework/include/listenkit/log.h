/* SPDX-License-Identifier: MIT */
/*
 * listenkit/log.h — a small pluggable logger.
 *
 * The framework logs what a user must be able to find afterwards: messages
 * it terminated (with subject, sequence and reason), handler failures,
 * reconnects. The level starts from the LK_LOG environment variable
 * ("debug", "info", "warn", "error", "off"; default "warn"; an unknown value
 * is reported once, as a warn line, and treated as "warn") and can be set in
 * code. A handler can replace the default (one line on stderr), which is how
 * specs capture and assert on log lines.
 *
 * What reaches a handler (or stderr) is one line: control characters in
 * the formatted text (newline, carriage return, tab, ESC, any other C0 or
 * C1 control, DEL) are written as escapes ("\n", "\x1b"), so text from
 * input (a JSON key, a subject) cannot forge a line or drive a terminal.
 * Credentials in URLs are redacted first (listenkit/redact.h), so no
 * line carries a password or token. The default handler stamps each line
 * with UTC wall time:
 *
 *     2026-12-01T09:15:17.123Z listenkit warn: nats: disconnected from ...
 *
 * Repeated warnings are rate-limited: per reason (the call's level and
 * format string) at most one warn or error line per interval (default
 * LK_LOG_DEFAULT_RATE_LIMIT_MS); the first line after the interval says
 * how many like it were held back ("(and 41 more like this since the last
 * one; ...)"). Debug and info lines are never limited.
 *
 * Thread-safety: lk_log() may be called from any thread. Lines are handed
 * to the handler one at a time, under the logger's lock, so the handler
 * needs no lock of its own for that, must return quickly and must not call
 * lk_log or the setters below itself. The settings may be changed from any
 * thread at any time: once lk_log_set_handler (or lk_log_reset) returns,
 * the previous handler is not running and will not be called again, so
 * its closure may be freed.
 */
#ifndef LISTENKIT_LOG_H
#define LISTENKIT_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "listenkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default rate-limit interval for repeated warn/error lines. */
#define LK_LOG_DEFAULT_RATE_LIMIT_MS 10000

typedef enum lk_log_level {
    LK_LOG_DEBUG,
    LK_LOG_INFO,
    LK_LOG_WARN,
    LK_LOG_ERROR,
    LK_LOG_OFF
} lk_log_level;

/* Receives one formatted line (no trailing newline) at or above the level. */
typedef void (*lk_log_handler)(void *closure, lk_log_level level,
                               const char *line);

/* Installs `handler` (NULL restores the stderr default). */
void lk_log_set_handler(lk_log_handler handler, void *closure);

void lk_log_set_level(lk_log_level level);

/* The level in force: the last one set, else LK_LOG, else LK_LOG_WARN. */
lk_log_level lk_log_get_level(void);

/* Parses "debug"/"info"/"warn"/"error"/"off" (case-insensitive).
 * Unknown text returns LK_ERR_INVALID and leaves *out unchanged. */
lk_status lk_log_level_parse(const char *text, lk_log_level *out);

const char *lk_log_level_str(lk_log_level level);

/* At most one warn/error line per reason per `interval_ms`; 0 (or less)
 * lets every line through. Forgets what was held back so far. */
void lk_log_set_rate_limit(int64_t interval_ms);

/* Writes `in` to `out` (at most size-1 bytes and a NUL, cut at a whole
 * escape) with control characters escaped as lk_log does. Returns the
 * length written. */
size_t lk_log_escape(const char *in, char *out, size_t size);

/* Back to the start-up state: the stderr handler, the default rate limit,
 * and the level read again from LK_LOG on next use. For specs and for programs that re-read their
 * environment. */
void lk_log_reset(void);

/* Formats and emits one line if `level` is enabled. Lines longer than 1 KiB
 * are truncated; a line that cannot be formatted (e.g. wide text the locale
 * cannot convert) is emitted as its format string. */
void lk_log(lk_log_level level, const char *fmt, ...) LK_PRINTF(2, 3);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_LOG_H */
