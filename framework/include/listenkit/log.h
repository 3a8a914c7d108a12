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
 * Thread-safety: lk_log() may be called from any thread; the handler must
 * then be thread-safe itself. Set the handler and the level before starting
 * threads (they are plain process-wide settings, like an allocator).
 */
#ifndef LISTENKIT_LOG_H
#define LISTENKIT_LOG_H

#include "listenkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/* Back to the start-up state: the stderr handler, and the level read again
 * from LK_LOG on next use. For specs and for programs that re-read their
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
