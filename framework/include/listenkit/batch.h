/* SPDX-License-Identifier: MIT */
/*
 * listenkit/batch.h — asynchronous publishing: many publishes in flight,
 * one wait for all their acknowledgements.
 *
 * lk_bus_publish waits for the server's acknowledgement of each message, so
 * a service that emits many events (an outbox relay catching up) is bound
 * by round trips. A batch sends without waiting, keeps at most
 * max_in_flight messages unacknowledged, and settles them all in
 * lk_batch_wait:
 *
 *     lk_batch *batch = NULL;
 *     lk_batch_opts bo = {.max_in_flight = 512};
 *     if (lk_batch_new(bus, &bo, &batch, &err) != LK_OK) ...
 *     for (size_t i = 0; i < n; i++) {
 *         lk_publish_opts po = {.msg_id = ids[i]};
 *         if (lk_batch_publish(batch, subject, data[i], len[i], &po, &err)
 *             != LK_OK)
 *             ...not sent, not in the batch: err says why...
 *     }
 *     if (lk_batch_wait(batch, 0, &err) != LK_OK)
 *         for (size_t k = 0; k < lk_batch_failure_count(batch); k++) {
 *             const lk_batch_failure *f = lk_batch_failure_at(batch, k);
 *             ...f->index, f->subject, f->msg_id, f->status, f->message...
 *         }
 *     lk_batch_free(batch);
 *
 * Outcomes. lk_batch_publish returning LK_OK means the message is in the
 * batch, with the next index (0, 1, 2 ... in call order; see
 * lk_batch_published). Its outcome comes later: after lk_batch_wait every
 * message of the batch is settled, either acknowledged (lk_batch_acked
 * counts them) or listed once among the failures with its index, subject,
 * msg_id, status and a message naming the subject:
 *   LK_ERR_TIMEOUT  no acknowledgement before wait's deadline; the server
 *                   may still have stored it;
 *   LK_ERR_IO       the connection was lost before the acknowledgement
 *                   (the server may have stored it), or the server refused
 *                   it (no stream captures the subject any more, ...);
 *   other statuses  as the bus's synchronous publish would return them
 *                   (the fake's injected failures, for instance).
 * Republishing a failed message with the same msg_id is always safe: the
 * server stores it at most once (the duplicate is acknowledged, not stored
 * again), which is how an outbox relay uses a batch. Nothing is dropped
 * silently: acked + failures = published once lk_batch_wait returned.
 *
 * lk_batch_publish returning an error means the message was not sent and is
 * not part of the batch (no index): bad arguments (LK_ERR_INVALID), a
 * drained bus (LK_ERR_CLOSED), a message over the max payload
 * (LK_ERR_TOO_LARGE), a connection that is down right now (LK_ERR_IO,
 * "nothing was sent"), or max_in_flight messages still unacknowledged
 * after the bus's publish timeout (LK_ERR_TIMEOUT). `data` and `opts` are
 * copied before it returns.
 *
 * Order: one batch's messages are stored in the order they were published
 * (as long as none failed), as with lk_bus_publish from one thread.
 *
 * Threads: a batch belongs to the thread that uses it — call its functions
 * from one thread at a time; it never calls back into your code (results
 * are collected inside the batch and read after lk_batch_wait). Several
 * batches, on one bus or several, may be used from different threads at
 * once, including from bus handlers. Free every batch before its bus.
 *
 * Implementations: the NATS adapter keeps its messages in flight with
 * libnats' asynchronous JetStream publish; a bus without a batch op of its
 * own (the fake of mocks/, a bus written for a spec) gets the generic batch,
 * which publishes each message synchronously through the bus's publish and
 * records its outcome: the same contract, without the speed.
 */
#ifndef LISTENKIT_BATCH_H
#define LISTENKIT_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "listenkit/bus.h"
#include "listenkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The max_in_flight a batch gets when it asks for 0. */
#define LK_DEFAULT_MAX_IN_FLIGHT 1024

struct lk_batch_opts {
    /* At most this many messages unacknowledged at once; publish waits
     * for room (up to the bus's publish timeout). 0: the default. */
    size_t max_in_flight;
};

/* One message of the batch that was not acknowledged. Strings are the
 * batch's, valid until lk_batch_free. */
typedef struct lk_batch_failure {
    size_t index;        /* its place in the batch, from 0 */
    const char *subject;
    const char *msg_id;  /* NULL when published without one */
    lk_status status;
    const char *message; /* "publish <subject>: ..." */
} lk_batch_failure;

/* Makes a batch on `bus` (borrowed: it must outlive the batch). `opts` may
 * be NULL. On success *out is a new batch (lk_batch_free); on failure NULL
 * and `err` says why (LK_ERR_INVALID for a NULL bus or out, LK_ERR_NOMEM;
 * the NATS adapter also LK_ERR_CLOSED for a drained bus, which the generic
 * batch reports at its first publish). */
lk_status lk_batch_new(lk_bus *bus, const lk_batch_opts *opts,
                       lk_batch **out, lk_error *err);

/* Sends one message without waiting for its acknowledgement (see
 * Outcomes). Arguments are checked as lk_bus_publish checks them. */
lk_status lk_batch_publish(lk_batch *batch, const char *subject,
                           const void *data, size_t len,
                           const lk_publish_opts *opts, lk_error *err);

/* Waits until every message published so far is settled, at most
 * `timeout_ms` (0: the bus's publish timeout; must be >= 0); what is still
 * unacknowledged then fails with LK_ERR_TIMEOUT. Returns LK_OK when every
 * message of the batch so far was acknowledged; otherwise the status of
 * the failure with the lowest index, with `err` saying how many failed and
 * quoting it. The batch can publish again afterwards (indices go on;
 * failures accumulate). */
lk_status lk_batch_wait(lk_batch *batch, int64_t timeout_ms, lk_error *err);

/* Messages the batch took (lk_batch_publish returned LK_OK). */
size_t lk_batch_published(const lk_batch *batch);

/* Messages acknowledged so far (complete after lk_batch_wait). A duplicate
 * msg_id is acknowledged too. */
size_t lk_batch_acked(const lk_batch *batch);

/* Failures so far, ordered by index after lk_batch_wait. */
size_t lk_batch_failure_count(const lk_batch *batch);

/* Failure `i` (0 .. count-1), borrowed; NULL when out of range. */
const lk_batch_failure *lk_batch_failure_at(const lk_batch *batch, size_t i);

/* Releases the batch. Messages still in flight are abandoned (they may or
 * may not be stored): call lk_batch_wait first to learn their outcome.
 * NULL is ignored. */
void lk_batch_free(lk_batch *batch);

/* ---- for implementations ------------------------------------------------
 * A bus's batch_new op makes a struct whose first member is an lk_batch,
 * set up with lk_batch_init. Its ops only see sound arguments (the
 * wrappers above check them). The counters and the failure list belong to
 * the batch's thread: an implementation whose acknowledgements arrive on
 * another thread collects them there and reports them from publish or
 * wait, with lk_batch_note_acked and lk_batch_note_failure. */

typedef struct lk_batch_ops {
    /* Takes the message (LK_OK) or refuses it (not sent, no index). The
     * index it gets is batch->published before the call; the wrapper
     * counts it. */
    lk_status (*publish)(lk_batch *batch, const char *subject,
                         const void *data, size_t len,
                         const lk_publish_opts *opts, lk_error *err);
    /* Settles every message within `timeout_ms` (> 0), noting each. */
    lk_status (*wait)(lk_batch *batch, int64_t timeout_ms, lk_error *err);
    /* Releases what batch_new made, lk_batch_release included. */
    void (*free)(lk_batch *batch);
} lk_batch_ops;

struct lk_batch {
    const lk_batch_ops *ops;
    int64_t default_timeout_ms; /* what wait(0) means; lk_batch_init: 1 */
    /* Read them through the functions above. */
    size_t published, acked;
    lk_batch_failure *failures;
    size_t failure_count, failure_cap;
    bool sorted;
    char *checked_subject; /* the last subject that passed the checks */
};

void lk_batch_init(lk_batch *batch, const lk_batch_ops *ops);

/* Frees the failure list (the implementation's free calls it). */
void lk_batch_release(lk_batch *batch);

void lk_batch_note_acked(lk_batch *batch, size_t n);

/* Notes message `index` as failed; `msg_id` may be NULL; the strings are
 * copied. On OOM the failure is still counted, with a shortened record. */
void lk_batch_note_failure(lk_batch *batch, size_t index, const char *subject,
                           const char *msg_id, lk_status status,
                           const char *message);

/* The generic batch (publish = the bus's synchronous publish), which
 * lk_batch_new makes for a bus whose ops have no batch_new. */
lk_status lk_batch_new_generic(lk_bus *bus, const lk_batch_opts *opts,
                               lk_batch **out, lk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_BATCH_H */
