/* SPDX-License-Identifier: MIT */
/* spec_log.c — a growing buffer behind an lk_log handler. */
#include "spec_log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "listenkit/log.h"
#include "spec_proc.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *text;     /* NUL-terminated, NULL before the first line */
static size_t length;  /* bytes in text, without the NUL */
static size_t capacity;
static size_t lines;

static void append(const char *line)
{
    size_t n = strlen(line);
    if (length + n + 2 > capacity) {
        size_t cap = capacity != 0 ? capacity : 256;
        while (length + n + 2 > cap)
            cap *= 2;
        char *grown = realloc(text, cap);
        if (grown == NULL)
            return; /* a spec that runs out of memory fails elsewhere */
        text = grown;
        capacity = cap;
    }
    memcpy(text + length, line, n);
    length += n;
    text[length++] = '\n';
    text[length] = '\0';
    lines++;
}

static void capture(void *closure, lk_log_level level, const char *line)
{
    (void)closure;
    (void)level;
    pthread_mutex_lock(&lock);
    append(line);
    pthread_mutex_unlock(&lock);
}

static void forget(void)
{
    free(text);
    text = NULL;
    length = capacity = lines = 0;
}

void spec_log_capture_start(void)
{
    pthread_mutex_lock(&lock);
    forget();
    pthread_mutex_unlock(&lock);
    lk_log_set_handler(capture, NULL);
    lk_log_set_level(LK_LOG_DEBUG);
    lk_log_set_rate_limit(0); /* every line, also repeated warnings */
}

const char *spec_log_captured(void)
{
    return text != NULL ? text : "";
}

size_t spec_log_line_count(void)
{
    return lines;
}

bool spec_log_contains(const char *needle)
{
    pthread_mutex_lock(&lock);
    bool found = needle != NULL && text != NULL && strstr(text, needle) != NULL;
    pthread_mutex_unlock(&lock);
    return found;
}

void spec_log_clear(void)
{
    pthread_mutex_lock(&lock);
    forget();
    pthread_mutex_unlock(&lock);
}

void spec_log_capture_stop(void)
{
    lk_log_reset();
    pthread_mutex_lock(&lock);
    forget();
    pthread_mutex_unlock(&lock);
}

bool spec_log_wait(const char *needle, long ms)
{
    for (long waited = 0; waited < ms && !spec_log_contains(needle);
         waited += 10)
        spec_sleep_ms(10);
    return spec_log_contains(needle);
}
