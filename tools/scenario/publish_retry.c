/* SPDX-License-Identifier: MIT */
/* publish_retry.c — try a publish again through a transient fault (see
 * scenario/publish_retry.h). */
#include "scenario/publish_retry.h"

#include <stdio.h>
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

/* One try of something that may meet a transient fault. */
typedef lk_status (*attempt_fn)(void *ctx, lk_error *err);

/* Calls `attempt` until it succeeds, fails for good, or `budget_ms`
 * passed, sleeping a growing delay between tries; each retry is logged as
 * "scenario: <what> failed on try N: ...". */
static lk_status retrying(attempt_fn attempt, void *ctx, const char *what,
                          int64_t budget_ms, int *tries, lk_error *err)
{
    int64_t deadline = now_ms() + budget_ms;
    int64_t delay = SCENARIO_PUBLISH_RETRY_FIRST_MS;
    lk_status s;
    int n = 0;
    for (;;) {
        n++;
        s = attempt(ctx, err);
        int64_t left = deadline - now_ms();
        if (s == LK_OK || !transient(s) || left <= 0)
            break;
        lk_log(LK_LOG_WARN,
               "scenario: %s failed on try %d: %s; trying again in %lld ms",
               what, n, err != NULL ? err->message : lk_status_str(s),
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

typedef struct publish_try {
    lk_bus *bus;
    const char *subject;
    const void *data;
    size_t len;
    const lk_publish_opts *opts;
} publish_try;

static lk_status try_publish(void *ctx, lk_error *err)
{
    const publish_try *p = ctx;
    return lk_bus_publish(p->bus, p->subject, p->data, p->len, p->opts, err);
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
    char what[256];
    snprintf(what, sizeof what, "publish %s (msg id %s)", subject,
             own.msg_id != NULL ? own.msg_id : "(none)");
    publish_try p = {bus, subject, data, len, &own};
    return retrying(try_publish, &p, what, budget_ms, tries, err);
}

typedef struct relay_try {
    lk_outbox *outbox;
    size_t sent; /* over every try */
} relay_try;

/* Passes until nothing is pending, or a pass fails or sends nothing. */
static lk_status try_relay(void *ctx, lk_error *err)
{
    relay_try *r = ctx;
    lk_status s;
    size_t sent = 0;
    int64_t pending = 0;
    do {
        s = lk_outbox_relay(r->outbox, &sent, err);
        r->sent += sent;
        if (s == LK_OK)
            s = lk_outbox_pending(r->outbox, &pending, err);
    } while (s == LK_OK && sent > 0 && pending > 0);
    return s;
}

lk_status scenario_relay_retrying(lk_outbox *outbox, int64_t budget_ms,
                                  size_t *sent, lk_error *err)
{
    relay_try r = {outbox, 0};
    lk_status s = retrying(try_relay, &r, "outbox relay", budget_ms, NULL,
                           err);
    if (sent != NULL)
        *sent = r.sent;
    return s;
}
