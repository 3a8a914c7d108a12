/*
 * listenkit/nats.h — the NATS JetStream adapter: an lk_bus on a real server.
 *
 * Built as its own library (liblistenkit-nats, links libnats), so users of
 * the core and the doubles never link libnats. Not included by listenkit.h.
 *
 *     lk_bus *bus = NULL;
 *     lk_nats_opts opts = { .stream = "ticketing" };
 *     if (lk_nats_bus_connect(&bus, NULL, &opts, &err) != LK_OK) ...
 *     ...lk_listener_init(&l, &def, bus, ctx, &err); lk_listener_listen(...)
 *     lk_bus_free(bus);   // drains, then closes
 *
 * Streams: the adapter makes sure a stream named opts.stream exists and
 * captures every subject this bus publishes or subscribes to (it adds
 * subjects to the stream's configuration as they are first used).
 *
 * Threads: handlers run on libnats' delivery threads, one per subscription.
 * Publishing from a handler is safe. Whatever handlers share (a store, your
 * own counters) must be thread-safe; the memory store of mocks/ is.
 */
#ifndef LISTENKIT_NATS_H
#define LISTENKIT_NATS_H

#include <stdbool.h>
#include <stdint.h>

#include "listenkit/bus.h"
#include "listenkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LK_NATS_DEFAULT_URL "nats://127.0.0.1:4222"
#define LK_NATS_DEFAULT_STREAM "LISTENKIT"

typedef struct lk_nats_opts {
    const char *stream;          /* NULL: LK_NATS_DEFAULT_STREAM */
    const char *name;            /* connection name shown by the server */
    const char *user;            /* with password */
    const char *password;
    const char *token;
    const char *credentials_file;
    const char *tls_ca_file;     /* enables TLS, verifying with this CA */
    int reconnect_attempts;      /* 0: libnats default; -1: forever */
    int64_t reconnect_wait_ms;   /* 0: libnats default */
    int64_t publish_timeout_ms;  /* wait for the publish ack; 0: 5000 */
    int64_t drain_timeout_ms;    /* bound on drain (handlers to finish);
                                    0: 30000; then the connection is closed */
} lk_nats_opts;

/*
 * Connects to `url` (NULL: $NATS_URL, else LK_NATS_DEFAULT_URL), gets a
 * JetStream context and ensures the stream. `opts` may be NULL. On failure
 * *out is NULL and `err` carries the NATS status text.
 */
lk_status lk_nats_bus_connect(lk_bus **out, const char *url,
                              const lk_nats_opts *opts, lk_error *err);

/* True when `bus` was made by lk_nats_bus_connect. */
bool lk_nats_bus_is_nats(const lk_bus *bus);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_NATS_H */
