/* SPDX-License-Identifier: MIT */
/*
 * listenkit/bus.h — publish and subscribe, the NATS JetStream way.
 *
 * An lk_bus is what services call "the NATS client": it publishes bytes on a
 * subject and delivers messages to subscriptions. Subscriptions are durable
 * and use manual acknowledgement: a message is delivered again until it is
 * acked or termed, or until max deliver is reached. With a queue group, each
 * message goes to exactly one member of the group.
 *
 * Implementations: the JetStream adapter (framework/nats, lk_nats_bus_*) and
 * the fake client of mocks/ (lk_fake_nats_*), held to one contract suite
 * (spec/contract/bus_contract_spec.c).
 *
 * Threads: handlers of the fake run on the caller's thread, inside
 * lk_fake_nats_advance()/run_until_idle(). Handlers of the NATS adapter run
 * on libnats threads; anything they share must be thread-safe.
 */
#ifndef LISTENKIT_BUS_H
#define LISTENKIT_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "listenkit/error.h"
#include "listenkit/msg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ack wait a subscription gets when it asks for 0. */
#define LK_DEFAULT_ACK_WAIT_MS 5000
/* The max ack pending a subscription gets when it asks for 0 (JetStream's
 * default). */
#define LK_DEFAULT_MAX_ACK_PENDING 1000

typedef struct lk_bus lk_bus;
typedef struct lk_batch lk_batch;           /* see listenkit/batch.h */
typedef struct lk_batch_opts lk_batch_opts; /* see listenkit/batch.h */

/* Called once per delivery. `msg` is borrowed (see msg.h). The handler
 * replies through lk_msg_ack() & co.; no reply means redelivery later. */
typedef void (*lk_msg_handler)(lk_msg *msg, void *closure);

typedef struct lk_subscribe_opts {
    const char *queue_group;  /* NULL: every subscriber gets every message */
    const char *durable_name; /* NULL: the queue group's name */
    int64_t ack_wait_ms;      /* 0: LK_DEFAULT_ACK_WAIT_MS; must be >= 0 */
    int max_deliver;          /* 0: unlimited; must be >= 0. Listeners
                                 never ask for 0: they bound deliveries by
                                 default and dead-letter the last one
                                 (listenkit/retry.h says why) */
    /* At most this many deliveries await a reply (ack, term, or max
     * deliver) at once; new messages wait for room, redeliveries do not.
     * 0: LK_DEFAULT_MAX_ACK_PENDING (the server's default); must be >= 0.
     * Members of one durable must agree on it, as on ack wait. */
    int max_ack_pending;
    bool deliver_all;         /* start at the first message in the stream,
                                 not at the next one published */
} lk_subscribe_opts;

typedef struct lk_publish_opts {
    /* Server-side de-duplication key (JetStream's Nats-Msg-Id); NULL: none.
     * A second publish with the same id within the server's window is
     * accepted but not stored again. */
    const char *msg_id;
} lk_publish_opts;

typedef struct lk_bus_ops {
    const char *name; /* "nats", "fake-nats": for logs and reports */
    /* Publishes `len` bytes; returns once the bus has the message (for
     * JetStream: once the publish acknowledgement came back). */
    lk_status (*publish)(lk_bus *bus, const char *subject, const void *data,
                         size_t len, const lk_publish_opts *opts,
                         lk_error *err);
    /* Adds a subscription; it lives until the bus is drained or freed. */
    lk_status (*subscribe)(lk_bus *bus, const char *subject,
                           const lk_subscribe_opts *opts,
                           lk_msg_handler handler, void *closure,
                           lk_error *err);
    /* Stops new deliveries, lets in-flight handlers finish, closes. Safe to
     * call twice. After it, publish/subscribe return LK_ERR_CLOSED. */
    lk_status (*drain)(lk_bus *bus, lk_error *err);
    /* Drains if needed and releases everything. */
    void (*free)(lk_bus *bus);
    /* Asynchronous publishing (listenkit/batch.h): makes a batch whose
     * publishes do not wait for their acknowledgements, with at most
     * opts->max_in_flight unacknowledged; lk_batch_wait settles them and
     * lists every failed message with its index, subject, msg_id and
     * status. The batch is owned by the caller (lk_batch_free, before the
     * bus), used from one thread at a time, and never calls back: results
     * from other threads are collected inside it. NULL: lk_batch_new makes
     * the generic batch, which publishes synchronously through `publish`. */
    lk_status (*batch_new)(lk_bus *bus, const lk_batch_opts *opts,
                           lk_batch **out, lk_error *err);
} lk_bus_ops;

struct lk_bus {
    const lk_bus_ops *ops;
};

/*
 * The wrappers check what every implementation would check the same way
 * (NULL bus/handler, a malformed subject, negative options, a queue group
 * or durable name JetStream cannot take as a name), so each
 * implementation starts from sound arguments. Publish subjects follow
 * lk_subject_is_valid; subscribe subjects lk_subject_filter_is_valid, so a
 * well-formed wildcard reaches the implementation, which serves it or
 * refuses it with LK_ERR_UNSUPPORTED (the fake and the NATS adapter both
 * refuse it).
 */
lk_status lk_bus_publish(lk_bus *bus, const char *subject, const void *data,
                         size_t len, const lk_publish_opts *opts,
                         lk_error *err);
lk_status lk_bus_subscribe(lk_bus *bus, const char *subject,
                           const lk_subscribe_opts *opts,
                           lk_msg_handler handler, void *closure,
                           lk_error *err);
lk_status lk_bus_drain(lk_bus *bus, lk_error *err);

/* Drains and releases. NULL is ignored. */
void lk_bus_free(lk_bus *bus);

/* True when `subject` is a valid NATS subject for publishing: non-empty,
 * printable ASCII without spaces or wildcards, no empty tokens. */
bool lk_subject_is_valid(const char *subject);

/* True when `subject` is a valid NATS subject for subscribing: as above,
 * except that a whole token may be the wildcard "*" and the last token the
 * wildcard ">" ("orders.*", "orders.>"; not "a..b", "a.>.b", "a*" or "").
 * lk_bus_subscribe checks subjects with it; an implementation that serves
 * no wildcards refuses them itself with LK_ERR_UNSUPPORTED. */
bool lk_subject_filter_is_valid(const char *subject);

/* True when `name` can name a JetStream consumer, stream or queue group:
 * non-empty printable ASCII without spaces, '.', '*', '>', '/' or '\\'.
 * lk_bus_subscribe checks queue groups and durable names with it (once, for
 * every implementation); listeners check theirs at init, the NATS adapter
 * its stream name. */
bool lk_jetstream_name_is_valid(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_BUS_H */
