/* SPDX-License-Identifier: MIT */
/*
 * listenkit/retry.h — how a listener retries an event it could not process
 * yet, and the dead letter it leaves when it gives up.
 *
 * The policy (lk_listener_dispatch applies it; listener.h has the fields a
 * def sets):
 *   - a delivery whose on_message returns an error without replying is
 *     nak'ed with a growing delay: retry_delay_ms after the first delivery,
 *     doubled after each one, capped at retry_max_delay_ms;
 *   - on delivery max_deliver (the last) the message is dead-lettered
 *     instead: a JSON envelope (below) is published on the listener's
 *     dead-letter subject, then the message is termed, and one warn line
 *     says where it went and why;
 *   - a delivery past max_deliver (its handler hung or crashed on the last
 *     one, or the dead letter could not be published then) is
 *     dead-lettered at once, without calling on_message: the subscription
 *     allows LK_RETRY_SPARE_DELIVERIES deliveries more than max_deliver
 *     for exactly that, so no message ever leaves the consumer unseen;
 *   - failures are logged at debug while they are "not yet"
 *     (LK_ERR_RETRY) and young, at warn from delivery
 *     LK_RETRY_WARN_AFTER + 1 on, and any other status at warn always.
 *
 * Defaults, and why:
 *   max_deliver 6, delays 1 s, 2 s, 4 s, 8 s, 16 s (cap 30 s): the orders
 *   service's "not yet" (an update whose predecessor has not come) waits
 *   about half a minute in all — a publisher's restart or a redelivery
 *   after an ack wait (5 s) fits in it — and a poison event costs six
 *   handler calls. With JetStream's 1000 un-acked messages per consumer, a
 *   flood of N poison events drains in about N / 1000 * 31 s, after which
 *   valid events flow again; without a bound (the old default) the
 *   consumer stalled for good once 1000 of them were pending.
 *   Dead letters keep the event's exact bytes, so a user can read them
 *   (subscribe to the dead-letter subject) and put them back
 *   (lk_dead_letter_replay) once the cause is fixed.
 */
#ifndef LISTENKIT_RETRY_H
#define LISTENKIT_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include "listenkit/bus.h"
#include "listenkit/error.h"
#include "listenkit/msg.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LK_RETRY_DEFAULT_MAX_DELIVER 6
#define LK_RETRY_DEFAULT_DELAY_MS 1000
#define LK_RETRY_DEFAULT_MAX_DELAY_MS 30000
/* Failures of deliveries after this one are logged at warn. */
#define LK_RETRY_WARN_AFTER 3
/* Deliveries a subscription allows beyond max_deliver (see above). */
#define LK_RETRY_SPARE_DELIVERIES 2
/* Dead letters go to "<prefix>.<queue group>.<subject>" by default. */
#define LK_DEAD_LETTER_PREFIX "lk.dead-letter"

/* The nak delay after a failed delivery `delivery_count` (>= 1):
 * delay_ms * 2^(delivery_count - 1), at most max_delay_ms. A delay_ms or
 * max_delay_ms <= 0 means its default above; delivery_count 0 counts as 1. */
int64_t lk_retry_delay_ms(int64_t delay_ms, int64_t max_delay_ms,
                          uint64_t delivery_count);

/* Writes the default dead-letter subject of (queue_group, subject) into
 * `buf`. LK_ERR_INVALID when an argument is NULL or empty;
 * LK_ERR_TOO_LARGE when it does not fit in `size` bytes. */
lk_status lk_dead_letter_subject(char *buf, size_t size,
                                 const char *queue_group, const char *subject,
                                 lk_error *err);

/* A dead letter, decoded. Every string is owned (lk_dead_letter_clear). */
typedef struct lk_dead_letter {
    char *subject;        /* where the event was published */
    char *data;           /* its exact bytes, NUL-terminated */
    size_t length;
    uint64_t stream_seq;  /* where it sat in the stream */
    uint64_t deliveries;  /* how often it was delivered */
    int64_t timestamp_ms; /* its publish time */
    char *queue_group;    /* the listener that gave up */
    char *reason;         /* why */
} lk_dead_letter;

/* The envelope of `msg` as JSON text (a new malloc'd buffer in *out, its
 * length in *len; lk_free() it):
 *   {"subject": "...", "data": "<the bytes as a string>", "stream_seq": N,
 *    "deliveries": N, "timestamp_ms": N, "queue_group": "...",
 *    "reason": "..."}
 * LK_ERR_INVALID when the data is not UTF-8 text (JSON strings cannot hold
 * it) or an argument is NULL; LK_ERR_NOMEM (then nothing half-written). */
lk_status lk_dead_letter_encode(const lk_msg *msg, const char *queue_group,
                                const char *reason, char **out, size_t *len,
                                lk_error *err);

/* Reads an envelope; on failure `out` is zeroed and LK_ERR_INVALID names
 * the missing or mistyped field. */
lk_status lk_dead_letter_decode(const char *data, size_t len,
                                lk_dead_letter *out, lk_error *err);

/* Frees the strings of `dl` and zeroes it. NULL is ignored. */
void lk_dead_letter_clear(lk_dead_letter *dl);

/* Publishes the event inside the envelope `data` again, on its own subject,
 * without a msg_id (so the server's de-duplication does not drop it).
 * Listeners then get it as a new message, delivery 1. Returns the decode
 * or publish status. */
lk_status lk_dead_letter_replay(lk_bus *bus, const char *data, size_t len,
                                lk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_RETRY_H */
