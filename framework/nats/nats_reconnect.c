/* SPDX-License-Identifier: MIT */
/*
 * nats_reconnect.c — how the adapter keeps a connection: reconnect forever
 * (by default) with a growing delay, and at start-up wait a bounded time
 * for a server that is not up yet. A service that gives up is alive but
 * dead (consuming nothing); one that waits and retries heals by itself
 * once the server is back.
 */
#include "nats_private.h"

#include <time.h>

#include "listenkit/log.h"

#define DEFAULT_RECONNECT_WAIT_MS 250
#define DEFAULT_RECONNECT_MAX_WAIT_MS 5000

int64_t lk_nats_backoff_ms(int attempt, int64_t first_ms, int64_t max_ms)
{
    int64_t delay = first_ms > 0 ? first_ms : 1;
    for (int i = 1; i < attempt && delay < max_ms; i++)
        delay *= 2;
    return delay < max_ms ? delay : max_ms;
}

/* libnats asks before each round over the server list (its thread). */
static int64_t reconnect_delay(natsConnection *nc, int attempts, void *closure)
{
    lk_nats_bus *b = closure;
    (void)nc;
    return lk_nats_backoff_ms(attempts, b->reconnect_wait_ms,
                              b->reconnect_max_wait_ms);
}

lk_status lk_nats_reconnect_options(lk_nats_bus *b, natsOptions *no,
                                    const lk_nats_opts *o, lk_error *err)
{
    b->reconnect_wait_ms = o->reconnect_wait_ms > 0 ? o->reconnect_wait_ms
                                                    : DEFAULT_RECONNECT_WAIT_MS;
    b->reconnect_max_wait_ms = o->reconnect_max_wait_ms > 0
                                   ? o->reconnect_max_wait_ms
                                   : DEFAULT_RECONNECT_MAX_WAIT_MS;
    if (b->reconnect_max_wait_ms < b->reconnect_wait_ms)
        b->reconnect_max_wait_ms = b->reconnect_wait_ms;
    b->connect_wait_ms = o->connect_wait_ms;
    b->on_closed = o->on_closed;
    b->on_closed_closure = o->on_closed_closure;
    b->on_reconnected = o->on_reconnected;
    b->on_reconnected_closure = o->on_reconnected_closure;

    int attempts = o->reconnect_attempts > 0 ? o->reconnect_attempts : -1;
    natsStatus s = natsOptions_SetMaxReconnect(no, attempts);
    if (s == NATS_OK)
        s = natsOptions_SetCustomReconnectDelay(no, reconnect_delay, b);
    if (s != NATS_OK)
        return lk_nats_error(err, s, 0, "connect: option reconnect policy");
    return LK_OK;
}

/* Failures a later try may not repeat: nothing listens yet, or it does
 * not answer yet. Credentials, TLS and protocol refusals stay. */
static bool worth_retrying(natsStatus s)
{
    return s == NATS_NO_SERVER || s == NATS_IO_ERROR || s == NATS_TIMEOUT ||
           s == NATS_CONNECTION_CLOSED || s == NATS_CONNECTION_DISCONNECTED;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

natsStatus lk_nats_connect_waiting(lk_nats_bus *b, natsOptions *no)
{
    int64_t deadline = lk_nats_now_ms() + b->connect_wait_ms;
    for (int attempt = 1;; attempt++) {
        natsStatus s = natsConnection_Connect(&b->nc, no);
        if (s == NATS_OK)
            return s;
        b->nc = NULL;
        int64_t left = deadline - lk_nats_now_ms();
        if (b->connect_wait_ms <= 0 || !worth_retrying(s) || left <= 0)
            return s;
        int64_t delay = lk_nats_backoff_ms(attempt, b->reconnect_wait_ms,
                                           b->reconnect_max_wait_ms);
        if (delay > left)
            delay = left;
        lk_log(LK_LOG_WARN,
               "nats: no server at %s yet (try %d: %s); trying again in "
               "%lld ms, for %lld ms more",
               b->url, attempt, natsStatus_GetText(s), (long long)delay,
               (long long)left);
        sleep_ms(delay);
    }
}

bool lk_nats_bus_is_connected(const lk_bus *bus)
{
    if (!lk_nats_bus_is_nats(bus))
        return false;
    const lk_nats_bus *b = (const lk_nats_bus *)bus;
    /* libnats reads the status under the connection's own lock */
    return natsConnection_Status(b->nc) == NATS_CONN_STATUS_CONNECTED;
}
