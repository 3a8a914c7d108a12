/* SPDX-License-Identifier: MIT */
/* publish_retry.c — try a publish again through a transient fault (see
 * scenario/publish_retry.h). */
#include "scenario/publish_retry.h"

#include <time.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* What a later try may not repeat: the server slow or away for now. A
 * refusal (invalid, too large, closed bus) stays what it is. */
static bool transient(lk_status s)
{
    return s == LK_ERR_TIMEOUT || s == LK_ERR_IO;
}

lk_status scenario_publish_retrying(lk_bus *bus, const char *subject,
                                    const void *data, size_t len,
                                    const lk_publish_opts *opts,
                                    const char *msg_id, int64_t budget_ms,
                                    int *tries, lk_error *err)
{
    lk_publish_opts own = opts != NULL ? *opts : (lk_publish_opts){0};
    if (own.msg_id == NULL)
        own.msg_id = msg_id;
    int64_t deadline = now_ms() + budget_ms;
    int64_t delay = SCENARIO_PUBLISH_RETRY_FIRST_MS;
    lk_status s;
    int n = 0;
    for (;;) {
        n++;
        s = lk_bus_publish(bus, subject, data, len, &own, err);
        int64_t left = deadline - now_ms();
        if (s == LK_OK || !transient(s) || left <= 0)
            break;
        lk_log(LK_LOG_WARN,
               "scenario: publish %s (msg id %s) failed on try %d: %s; "
               "trying again in %lld ms",
               subject, own.msg_id != NULL ? own.msg_id : "(none)", n,
               err != NULL ? err->message : lk_status_str(s),
               (long long)(delay < left ? delay : left));
        sleep_ms(delay < left ? delay : left);
        delay = delay * 2 < SCENARIO_PUBLISH_RETRY_MAX_MS
                    ? delay * 2
                    : SCENARIO_PUBLISH_RETRY_MAX_MS;
    }
    if (tries != NULL)
        *tries = n;
    return s;
}
