/* SPDX-License-Identifier: MIT */
/* log.c — the pluggable logger (see listenkit/log.h).
 *
 * Every line passes through one mutex: the settings (handler, level, rate
 * limit) are read, the line is escaped, rate-limited and handed to the
 * handler under it. So a handler swapped from one thread while libnats'
 * threads log is never called again once lk_log_set_handler returned, and
 * the rate limiter's table needs no lock of its own. */
#include "listenkit/log.h"
#include "listenkit/redact.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define LK_LOG_LINE_MAX 1024
/* Room for the escaped line: each byte becomes at most 4 ("\x1b"). */
#define LK_LOG_ESCAPED_MAX (LK_LOG_LINE_MAX * 4)
#define RATE_SLOTS 64

/* One reason (call site: level and format) being rate-limited. */
typedef struct rate_slot {
    const char *fmt; /* NULL: free */
    lk_log_level level;
    int64_t window_start_ms;
    unsigned long suppressed;
} rate_slot;

/* Process-wide settings, like an allocator hook, guarded by `log_mu`.
 * `level_set` tells "never set" apart so LK_LOG is read lazily (after the
 * program had a chance to setenv). */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static lk_log_handler log_handler;
static void *log_closure;
static lk_log_level log_level = LK_LOG_WARN;
static int level_set;
static int bad_env_reported; /* an unknown LK_LOG is said once, not per line */
static int64_t rate_interval_ms = LK_LOG_DEFAULT_RATE_LIMIT_MS;
static rate_slot rate_slots[RATE_SLOTS];

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
    pthread_mutex_lock(&log_mu);
    log_handler = handler;
    log_closure = closure;
    pthread_mutex_unlock(&log_mu);
}

void lk_log_set_level(lk_log_level level)
{
    pthread_mutex_lock(&log_mu);
    log_level = level;
    level_set = 1;
    pthread_mutex_unlock(&log_mu);
}

void lk_log_set_rate_limit(int64_t interval_ms)
{
    pthread_mutex_lock(&log_mu);
    rate_interval_ms = interval_ms > 0 ? interval_ms : 0;
    memset(rate_slots, 0, sizeof rate_slots);
    pthread_mutex_unlock(&log_mu);
}

void lk_log_reset(void)
{
    pthread_mutex_lock(&log_mu);
    log_handler = NULL;
    log_closure = NULL;
    log_level = LK_LOG_WARN;
    level_set = 0;
    bad_env_reported = 0;
    rate_interval_ms = LK_LOG_DEFAULT_RATE_LIMIT_MS;
    memset(rate_slots, 0, sizeof rate_slots);
    pthread_mutex_unlock(&log_mu);
}

/* ---- the line -------------------------------------------------------------- */

size_t lk_log_escape(const char *in, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t w = 0;
    if (size == 0)
        return 0;
    for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
        char esc[5] = {0};
        size_t n;
        /* C0 controls and DEL, and C1 controls in their UTF-8 form (0xc2
         * 0x80..0x9f: a terminal may take U+009B as CSI). */
        int c1 = p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            esc[0] = '\\';
            esc[1] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
            n = 2;
        } else if (*p < 0x20 || *p == 0x7f || c1) {
            unsigned char c = c1 ? p[1] : *p;
            esc[0] = '\\';
            esc[1] = 'x';
            esc[2] = hex[c >> 4];
            esc[3] = hex[c & 0xf];
            n = 4;
            p += c1;
        } else {
            esc[0] = (char)*p;
            n = 1;
        }
        if (w + n >= size)
            break;
        memcpy(out + w, esc, n);
        w += n;
    }
    out[w] = '\0';
    return w;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The default handler: one line on stderr, stamped with UTC wall time. */
static void emit_stderr(lk_log_level level, const char *line)
{
    struct timespec ts;
    struct tm tm;
    char stamp[64] = "";
    clock_gettime(CLOCK_REALTIME, &ts);
    if (gmtime_r(&ts.tv_sec, &tm) != NULL)
        snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L);
    fprintf(stderr, "%s listenkit %s: %s\n", stamp, lk_log_level_str(level),
            line);
}

/* Under log_mu. */
static void emit(lk_log_level level, const char *line)
{
    if (log_handler != NULL)
        log_handler(log_closure, level, line);
    else
        emit_stderr(level, line);
}

/* Under log_mu. The level in force. */
static lk_log_level level_locked(void)
{
    if (level_set)
        return log_level;
    const char *env = getenv("LK_LOG");
    lk_log_level parsed = LK_LOG_WARN;
    if (env != NULL && lk_log_level_parse(env, &parsed) != LK_OK) {
        parsed = LK_LOG_WARN;
        if (!bad_env_reported) {
            char line[LK_LOG_LINE_MAX], escaped[LK_LOG_ESCAPED_MAX];
            bad_env_reported = 1;
            snprintf(line, sizeof line,
                     "LK_LOG=\"%.64s\" is not a level (debug, info, warn, "
                     "error, off); using warn",
                     env);
            lk_log_escape(line, escaped, sizeof escaped);
            emit(LK_LOG_WARN, escaped);
        }
    }
    return parsed;
}

lk_log_level lk_log_get_level(void)
{
    pthread_mutex_lock(&log_mu);
    lk_log_level level = level_locked();
    pthread_mutex_unlock(&log_mu);
    return level;
}

/* Under log_mu. Decides whether a warn/error line of this reason goes out
 * now; *suppressed is how many like it were held back since the last one
 * that went out (reported with it). Info and debug are never limited. */
static int rate_allows(lk_log_level level, const char *fmt,
                       unsigned long *suppressed)
{
    *suppressed = 0;
    if (level < LK_LOG_WARN || rate_interval_ms == 0)
        return 1;
    uintptr_t h = ((uintptr_t)fmt >> 3) ^ (uintptr_t)level;
    rate_slot *slot = &rate_slots[h % RATE_SLOTS];
    int64_t now = monotonic_ms();
    if (slot->fmt != fmt || slot->level != level) {
        /* A new reason, or a collision: the newcomer takes the slot (what
         * the old one held back is reported with its next line, or lost). */
        *slot = (rate_slot){fmt, level, now, 0};
        return 1;
    }
    if (now - slot->window_start_ms < rate_interval_ms) {
        slot->suppressed++;
        return 0;
    }
    *suppressed = slot->suppressed;
    slot->window_start_ms = now;
    slot->suppressed = 0;
    return 1;
}

void lk_log(lk_log_level level, const char *fmt, ...)
{
    char line[LK_LOG_LINE_MAX], escaped[LK_LOG_ESCAPED_MAX + 64];
    unsigned long suppressed = 0;
    va_list ap;

    if (level >= LK_LOG_OFF || (int)level < 0 || fmt == NULL)
        return;
    pthread_mutex_lock(&log_mu);
    if (level >= level_locked() && rate_allows(level, fmt, &suppressed)) {
        va_start(ap, fmt);
        /* A line that cannot be formatted still says which line it was. */
        if (vsnprintf(line, sizeof line, fmt, ap) < 0)
            snprintf(line, sizeof line, "%s", fmt);
        va_end(ap);
        const char *text = line;
        char redacted[LK_LOG_LINE_MAX];
        if (lk_redact_needed(line)) {
            lk_redact(line, redacted, sizeof redacted);
            text = redacted;
        }
        size_t n = lk_log_escape(text, escaped, LK_LOG_ESCAPED_MAX);
        if (suppressed > 0)
            snprintf(escaped + n, sizeof escaped - n,
                     " (and %lu more like this since the last one; at most one per "
                     "%lld ms)", suppressed,
                     (long long)rate_interval_ms);
        emit(level, escaped);
    }
    pthread_mutex_unlock(&log_mu);
}
