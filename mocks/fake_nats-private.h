/* SPDX-License-Identifier: MIT */
/*
 * mocks/fake_nats-private.h — what fake_nats.c (recording, the lk_bus face)
 * and fake_nats_broker.c (stream, consumers, delivery) share. Not for users.
 */
#ifndef LISTENKIT_MOCKS_FAKE_NATS_PRIVATE_H
#define LISTENKIT_MOCKS_FAKE_NATS_PRIVATE_H

#include "fake_nats.h"
#include "listenkit/batch.h"
#include "listenkit/error.h"

/* One publish as the code under test made it. `json` and `parsed` are a
 * cache, filled by the first lk_fake_nats_published_json() of this record
 * (parsing every publish up front was most of the fake's cost per message,
 * and most records are never read as JSON). They change through a const
 * handle: the records array itself is never const. */
typedef struct fk_record {
    char *subject;
    char *data; /* NUL-terminated copy */
    size_t length;
    json_t *json; /* NULL when not parsed yet or not JSON */
    bool parsed;  /* json holds the parse result */
} fk_record;

/* One message in the broker's stream; its sequence is its index + 1. */
typedef struct fk_stored {
    char *subject;
    char *data;
    size_t length;
    int64_t timestamp_ms;
} fk_stored;

/* A message a consumer still owes: delivered `deliveries` times so far and
 * due again at `due`. Held by value in the consumer's heap. */
typedef struct fk_pending {
    int64_t due;
    uint64_t seq;
    uint64_t deliveries;
} fk_pending;

/* A connection made by lk_fake_nats_connect (fake_nats_faults.c). */
typedef struct fk_conn fk_conn;

typedef struct fk_member {
    lk_msg_handler handler;
    void *closure;
    fk_conn *conn; /* the connection it subscribed through; NULL: the fake's
                      own bus */
} fk_member;

/* A consumer, keyed as the NATS adapter keys JetStream's: one per (subject,
 * durable name, else queue group); a subscription with neither gets one of
 * its own (ephemeral). What it owes is split in two, so that max ack pending
 * can hold back new messages while redeliveries still flow:
 *   - `pending`: delivered at least once, not yet acked, termed or dead (the
 *     un-acked count max ack pending limits), a binary min-heap ordered by
 *     (due, seq), so the next one is found in O(log n);
 *   - `fresh`: never delivered, a FIFO in stream order from fresh_head to
 *     fresh_end. Publishes append with due = now, so it is sorted by (due,
 *     seq) too, and merging the two heads gives the old single-heap order. */
typedef struct fk_consumer {
    size_t index; /* creation order: the last tie-breaker */
    char *subject;
    char *queue_group; /* NULL when none */
    char *durable;     /* durable name, else queue group; NULL: ephemeral */
    char *name;        /* for the trace: `durable` or "sub<N>" */
    int64_t ack_wait_ms;
    int max_deliver; /* 0: unlimited */
    int max_ack_pending; /* > 0 */
    fk_member *members;
    size_t member_count, member_cap;
    fk_pending *pending;
    size_t pending_count, pending_cap;
    fk_pending *fresh;
    size_t fresh_head, fresh_end, fresh_cap;
} fk_consumer;

typedef struct fk_fail_subject {
    char *subject;
    lk_status status;
} fk_fail_subject;

/* Strings of a subscription info, owned here. */
typedef struct fk_subscription {
    lk_fake_subscription_info info;
    char *subject, *queue_group, *durable_name;
} fk_subscription;

struct lk_fake_nats {
    lk_bus bus; /* first: the lk_bus * handed out is the fake */
    bool broker;
    bool closed;

    fk_record *records;
    size_t record_count, record_cap;

    lk_status fail_next;
    fk_fail_subject *fail_subjects;
    size_t fail_subject_count, fail_subject_cap;

    fk_subscription **subs; /* pointers: infos handed out stay put */
    size_t sub_count, sub_cap;

    /* ---- broker ---- */
    lk_fake_broker_opts opts;
    uint64_t rng; /* splitmix64 state */
    int64_t now;
    int in_handler; /* > 0 while a handler runs */

    fk_stored *stream;
    size_t stream_count, stream_cap;

    char **msg_ids; /* open-addressing set of de-duplication ids */
    size_t msg_id_count, msg_id_cap;

    fk_consumer **consumers;
    size_t consumer_count, consumer_cap;

    lk_fake_dead_letter **dead;
    size_t dead_count, dead_cap;

    fk_pending *window; /* scratch for the reorder window */

    lk_fake_nats_stats stats;

    char *trace;
    size_t trace_len, trace_cap;

    /* Scripted faults, connections and the request log
     * (fake_nats_faults.c); NULL until first used. */
    struct fk_faults *faults;
};

/* Grows `*items` (of `size`-byte elements) so that one more fits. */
bool fk_grow(void **items, size_t *cap, size_t count, size_t size);

char *fk_strdup(const char *s);

/* Equal strings, or both NULL. */
bool fk_same_text(const char *a, const char *b);

/* Appends one printf-formatted line (the caller adds "\n") when tracing. */
void fk_trace(lk_fake_nats *nats, const char *fmt, ...) LK_PRINTF(2, 3);

/* Broker side of publish: de-duplicates on `msg_id`, stores the message and
 * makes every consumer of `subject` owe it. */
lk_status fk_broker_publish(lk_fake_nats *nats, const char *subject,
                            const void *data, size_t len, const char *msg_id,
                            lk_error *err);

/* Broker side of subscribe: creates the consumer or joins the one with the
 * same subject and durable (refusing what JetStream refuses). `sub` is
 * already recorded; the member belongs to `conn` (NULL: the fake's bus). */
lk_status fk_broker_subscribe(lk_fake_nats *nats, const fk_subscription *sub,
                              lk_msg_handler handler, void *closure,
                              fk_conn *conn, lk_error *err);

/* The bus face's publish and subscribe, for the fake's bus (conn NULL) and
 * its connections. */
lk_status fk_publish(lk_fake_nats *nats, fk_conn *conn, const char *subject,
                     const void *data, size_t len, const lk_publish_opts *opts,
                     lk_error *err);
/* fk_publish, then the acknowledgement: LK_ERR_TIMEOUT when it is
 * withheld (the message is stored all the same). The bus faces' publish. */
lk_status fk_publish_waiting(lk_fake_nats *nats, fk_conn *conn,
                             const char *subject, const void *data, size_t len,
                             const lk_publish_opts *opts, lk_error *err);
/* The fake's own batch (fake_nats_batch.c), for its bus (conn NULL) and
 * its connections. */
lk_status fk_batch_new(lk_fake_nats *nats, fk_conn *conn,
                       const lk_batch_opts *opts, lk_batch **out,
                       lk_error *err);
lk_status fk_subscribe(lk_fake_nats *nats, fk_conn *conn, const char *subject,
                       const lk_subscribe_opts *opts, lk_msg_handler handler,
                       void *closure, lk_error *err);

/* ---- scripted faults (fake_nats_faults.c) ---- */

/* What an injected fault makes of a call of `op` through `conn`: LK_ERR_CLOSED
 * for an aborted connection, LK_ERR_IO while the connection is down, else
 * the next entry of the op's error stack (after its delay), else LK_OK.
 * Fills `err` (naming `subject`) when it is not LK_OK. */
lk_status fk_fault_call(lk_fake_nats *nats, const fk_conn *conn, lk_fake_op op,
                        const char *subject, lk_error *err);

/* LK_ERR_CLOSED for an aborted or drained `conn`, LK_ERR_IO while the
 * connection is down ("nothing was sent"), else LK_OK; `what` and
 * `subject` name the call in `err`. */
lk_status fk_fault_check_open(const lk_fake_nats *nats, const fk_conn *conn,
                              const char *what, const char *subject,
                              lk_error *err);

/* True while the connection is down: nothing is delivered. */
bool fk_fault_paused(const lk_fake_nats *nats);

/* How many times the connection went down so far. */
uint64_t fk_fault_downs(const lk_fake_nats *nats);

/* True (and counted off) when the acknowledgement of the publish just
 * stored is to be withheld. */
bool fk_fault_take_withheld(lk_fake_nats *nats);

/* Appends one entry to the request log when it is on. */
void fk_request(lk_fake_nats *nats, lk_fake_op op, const char *subject,
                uint64_t seq, uint64_t deliveries, const char *consumer,
                lk_status status);

/* Removes the members of `conn` (NULL: the fake's bus) from every
 * consumer; returns how many left. */
size_t fk_broker_remove_members(lk_fake_nats *nats, const fk_conn *conn);

/* Releases the faults, connections and the request log. */
void fk_faults_free(lk_fake_nats *nats);

/* Releases everything the broker holds. */
void fk_broker_free(lk_fake_nats *nats);

#endif /* LISTENKIT_MOCKS_FAKE_NATS_PRIVATE_H */
