/* SPDX-License-Identifier: MIT */
/* bench_nats.h — what the real-server benchmarks share (bench_nats.c:
 * publish+ack; bench_nats_bulk.c: consume and async publish): a waiter
 * that counts acked deliveries on libnats threads while the measuring
 * thread waits, and the two handlers that do the same work on each side. */
#ifndef LISTENKIT_BENCH_NATS_H
#define LISTENKIT_BENCH_NATS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "listenkit/listener.h"

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t acked, want;
    uint64_t sum; /* added up: deliveries come in any order */
    bool failed;
} waiter;

void waiter_init(waiter *w);
void waiter_destroy(waiter *w);
void waiter_reset(waiter *w, size_t want);
/* One delivery: its checksum and whether its ack went out. */
void waiter_add(waiter *w, uint64_t sum, bool ok);
/* True once every delivery was acked (false on a failure or after
 * WAITER_TIMEOUT_S); *sum gets the total. */
bool waiter_wait(waiter *w, uint64_t *sum);

#define WAITER_TIMEOUT_S 60

/* listenkit's side: a listener (ctx: the waiter) reading every
 * ticket:updated field of the validated event, then acking. */
lk_status bench_nats_on_updated(lk_listener *l, const json_t *data,
                                lk_msg *msg);

/* libnats' side (closure: the waiter): parse with jansson, read and check
 * the same fields, ack (term when invalid, as the adapter would). */
void bench_nats_on_raw(natsConnection *nc, natsSubscription *sub, natsMsg *m,
                       void *closure);

/* The stream the adapter would make for `subject`: file storage. */
bool bench_nats_add_stream(jsCtx *js, const char *stream, const char *subject);

/* The durable queue consumer the adapter makes for a listener: explicit
 * ack, the default ack wait and max ack pending, unlimited deliveries,
 * deliver all, filtered on the subject, `group` as deliver group. */
bool bench_nats_add_consumer(jsCtx *js, const char *stream,
                             const char *subject, const char *durable,
                             const char *group);

/* Prints "bench: nats (libnats): <what>: <status>" and returns false. */
bool bench_nats_failed(const char *what, natsStatus s, jsErrCode jerr);

#endif /* LISTENKIT_BENCH_NATS_H */
