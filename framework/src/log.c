/* log.c — the pluggable logger (see listenkit/log.h). */
#include "listenkit/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define LK_LOG_LINE_MAX 1024

/* Process-wide settings, like an allocator hook: read on every call, set at
 * start-up. `level_set` tells "never set" apart so LK_LOG is read lazily
 * (after the program had a chance to setenv). */
static lk_log_handler log_handler;
static void *log_closure;
static lk_log_level log_level = LK_LOG_WARN;
static int level_set;
static int bad_env_reported; /* an unknown LK_LOG is said once, not per line */

static const char *const level_names[] = {"debug", "info", "warn", "error",
                                          "off"};

const char *lk_log_level_str(lk_log_level level)
{
    if ((int)level < 0 || level > LK_LOG_OFF)
        return "unknown";
    return level_names[level];
}

lk_status lk_log_level_parse(const char *text, lk_log_level *out)
{
    if (text == NULL || out == NULL)
        return LK_ERR_INVALID;
    for (int i = 0; i <= (int)LK_LOG_OFF; i++) {
        if (strcasecmp(text, level_names[i]) == 0) {
            *out = (lk_log_level)i;
            return LK_OK;
        }
    }
    return LK_ERR_INVALID;
}

void lk_log_set_handler(lk_log_handler handler, void *closure)
{
    log_handler = handler;
    log_closure = closure;
}

void lk_log_set_level(lk_log_level level)
{
    log_level = level;
    level_set = 1;
}

void lk_log_reset(void)
{
    log_handler = NULL;
    log_closure = NULL;
    log_level = LK_LOG_WARN;
    level_set = 0;
    bad_env_reported = 0;
}

static void emit(lk_log_level level, const char *line)
{
    if (log_handler != NULL)
        log_handler(log_closure, level, line);
    else
        fprintf(stderr, "listenkit %s: %s\n", lk_log_level_str(level), line);
}

lk_log_level lk_log_get_level(void)
{
    if (!level_set) {
        const char *env = getenv("LK_LOG");
        lk_log_level parsed = LK_LOG_WARN;
        if (env != NULL && lk_log_level_parse(env, &parsed) != LK_OK) {
            parsed = LK_LOG_WARN;
            if (!bad_env_reported) {
                char line[LK_LOG_LINE_MAX];
                bad_env_reported = 1;
                snprintf(line, sizeof line,
                         "LK_LOG=\"%.64s\" is not a level (debug, info, warn, "
                         "error, off); using warn",
                         env);
                emit(LK_LOG_WARN, line);
            }
        }
        return parsed;
    }
    return log_level;
}

void lk_log(lk_log_level level, const char *fmt, ...)
{
    char line[LK_LOG_LINE_MAX];
    va_list ap;

    if (level >= LK_LOG_OFF || level < lk_log_get_level() || fmt == NULL)
        return;
    va_start(ap, fmt);
    /* A line that cannot be formatted still says which line it was. */
    if (vsnprintf(line, sizeof line, fmt, ap) < 0)
        snprintf(line, sizeof line, "%s", fmt);
    va_end(ap);
    emit(level, line);
}
