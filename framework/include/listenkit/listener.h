/* SPDX-License-Identifier: MIT */
/*
 * listenkit/listener.h — the base every event listener is built on.
 *
 * A listener is constant data (lk_listener_def: which event, which queue
 * group, what to do) plus a small runtime struct (lk_listener: the def, the
 * bus it listens on and may publish with, and the caller's context):
 *
 *     static lk_status on_ticket_created(lk_listener *l, const json_t *data,
 *                                        lk_msg *msg)
 *     {
 *         orders_ctx *ctx = l->ctx;
 *         ...save the replica...
 *         return lk_msg_ack(msg);
 *     }
 *     const lk_listener_def ticket_created_def = {
 *         .schema = &ticketing_ticket_created,
 *         .queue_group = "orders-service",
 *         .on_message = on_ticket_created,
 *     };
 *
 *     lk_listener l;
 *     lk_listener_init(&l, &ticket_created_def, bus, ctx, &err);
 *     lk_listener_listen(&l, &err);
 *
 * Dispatch (lk_listener_dispatch, what the bus calls for every delivery):
 *   1. the bytes are decoded and validated against the schema; invalid data
 *      is `term`ed — it can never succeed, so redelivering it would only
 *      cycle — by lk_listener_term, with one warn log line naming the
 *      listener's queue group, subject, sequence, delivery count and reason:
 *        listener orders-service: terminated ticket:created seq 7
 *        (delivery 1): field "version": expected integer, got string
 *      A message whose subject is not the schema's is termed the same way
 *      ("unknown subject"): it would be checked against the wrong schema;
 *   2. on_message(listener, data, msg) runs; `data` is borrowed for the call;
 *   3. on_message acks (or naks, or terms) itself. If it returns an error
 *      without replying, the retry policy of listenkit/retry.h decides: a
 *      nak with a growing delay (1 s, 2 s, 4 s ... capped at 30 s by
 *      default) while deliveries are left, and on the last one
 *      (max_deliver, 6 by default) a dead letter — the event's bytes and
 *      the reason, published on the listener's dead-letter subject
 *      ("lk.dead-letter.<queue group>.<subject>" by default) — then a term,
 *      with one warn line:
 *        listener orders-service: dead-lettered ticket:updated seq 9
 *        (delivery 6 of 6) to lk.dead-letter.orders-service.ticket:updated:
 *        on_message returned ERR_RETRY (not processable yet; ...)
 *      So an event that cannot be processed never stalls the consumer: it
 *      leaves within max_deliver deliveries, and what comes after flows.
 *      Failures are logged at debug while "not yet" (LK_ERR_RETRY: waiting
 *      for the right order is normal) and young, at warn once a message
 *      was delivered more than LK_RETRY_WARN_AFTER (3) times, and at warn
 *      always for any other status. An error returned after a reply is
 *      only logged. An event that passed the schema but can never be
 *      processed (an id that is no ObjectId) is termed the dispatcher's way
 *      by ending on_message with `return lk_listener_term(listener, msg,
 *      &err);`.
 */
#ifndef LISTENKIT_LISTENER_H
#define LISTENKIT_LISTENER_H

#include <jansson.h>

#include "listenkit/bus.h"
#include "listenkit/error.h"
#include "listenkit/event.h"
#include "listenkit/msg.h"
#include "listenkit/retry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lk_listener lk_listener;

/* Handles one valid event. `data` is borrowed; reply on `msg`. */
typedef lk_status (*lk_on_message_fn)(lk_listener *listener,
                                      const json_t *data, lk_msg *msg);

typedef struct lk_listener_def {
    const lk_schema *schema;  /* its subject is the subscription's subject */
    const char *queue_group;  /* required: listeners scale as a group */
    lk_on_message_fn on_message;
    int64_t ack_wait_ms;      /* 0: LK_DEFAULT_ACK_WAIT_MS (5000) */
    int max_deliver;          /* deliveries that run on_message; 0:
                                 LK_RETRY_DEFAULT_MAX_DELIVER (6) */
    const char *durable_name; /* NULL: the queue group */
    int max_ack_pending;      /* 0: LK_DEFAULT_MAX_ACK_PENDING (1000) */
    /* The retry policy (retry.h): the first nak delay and its cap, 0 for
     * LK_RETRY_DEFAULT_DELAY_MS (1 s) / _MAX_DELAY_MS (30 s); where dead
     * letters go, NULL for lk_dead_letter_subject()'s
     * "lk.dead-letter.<queue group>.<subject>". */
    int64_t retry_delay_ms;
    int64_t retry_max_delay_ms;
    const char *dead_letter_subject;
} lk_listener_def;

struct lk_listener {
    const lk_listener_def *def;
    lk_bus *client; /* the bus it listens on and may publish with */
    void *ctx;      /* the caller's, untouched by listenkit */
};

/* Checks `def` (schema with a valid subject, queue group, on_message,
 * non-negative ack wait, max deliver, max ack pending and retry delays, a
 * cap not below the first delay, a valid dead-letter subject other than
 * the schema's, and a durable name — the def's, or
 * else the queue group — without '.', '*', '>', '/', '\\' or spaces, as
 * JetStream requires) and fills `listener`; on failure `listener` is zeroed.
 * `def` and `client` are borrowed and must outlive the listener. `client`
 * may be NULL only for listeners that are dispatched by hand in specs. */
lk_status lk_listener_init(lk_listener *listener, const lk_listener_def *def,
                           lk_bus *client, void *ctx, lk_error *err);

/* Subscribes on the client: durable queue subscription on the schema's
 * subject, manual ack, deliver all, the def's ack wait, max ack pending,
 * and max deliver plus LK_RETRY_SPARE_DELIVERIES (see
 * lk_listener_subscribe_opts). The listener is the subscription's
 * closure: it must stay in place while the bus may deliver. Bus errors come
 * back prefixed with "listener <queue group>". */
lk_status lk_listener_listen(lk_listener *listener, lk_error *err);

/* Runs the dispatch steps above for one delivery. Returns:
 *   - a message on another subject: LK_ERR_INVALID, after the term;
 *   - invalid data: the decode status (LK_ERR_INVALID, or LK_ERR_TOO_LARGE
 *     for an oversized payload), after the term — whether the term itself
 *     went out is in the log line only: the status says the event was bad;
 *   - memory running out while decoding: LK_ERR_NOMEM, with no reply and a
 *     warn line — the event may be valid, so it is left for redelivery and
 *     never termed;
 *   - a valid event: what on_message returned (LK_OK when it replied, also
 *     when its reply was lk_listener_term's); after a nak or dead letter of
 *     the retry policy still on_message's error;
 *   - a delivery past max_deliver: the dead letter's status (LK_OK when it
 *     was published and the message termed), on_message not called;
 *   - a NULL listener or message: LK_ERR_INVALID, nothing replied.
 * The status says why; what became of the message is read from the
 * message: with a fake one, lk_fake_msg_outcome() / assert_lk_outcome()
 * (mocks/fake_msg.h) give acked, termed, naked or left for redelivery, the
 * same whether the schema or on_message termed it.
 * Specs call it directly with a fake message; the bus calls it through
 * listen(). It keeps no state, so it is as thread-safe as on_message. */
lk_status lk_listener_dispatch(lk_listener *listener, lk_msg *msg);

/* Terms `msg` — it is never delivered again, and never acked — and logs the
 * one warn line that says why, the same line dispatch writes for invalid
 * data:
 *   listener <queue group>: terminated <subject> seq N (delivery N): <why>
 * where <why> is `reason`'s message without a leading "<subject>: " (decode
 * errors carry it; the line names the subject already), or "invalid event"
 * when `reason` is NULL or empty. A failed term is added to the same line
 * ("; term failed: closed"). `listener` is borrowed and only names the
 * queue group; NULL leaves the "listener <queue group>: " part out.
 * Returns the term's status: LK_OK means the message got its reply, so an
 * on_message that can never process an event ends with
 * `return lk_listener_term(listener, msg, &err);`. A NULL `msg` is
 * LK_ERR_INVALID (logged at error). Thread-safe as lk_msg_term is. */
lk_status lk_listener_term(lk_listener *listener, lk_msg *msg,
                           const lk_error *reason);

/* Dead-letters `msg`: publishes its envelope (retry.h) on the listener's
 * dead-letter subject with the client, then terms it, and logs the warn
 * line shown above; `reason`'s message becomes the envelope's reason (NULL
 * or empty: "unprocessable event"). An on_message that knows an event is
 * hopeless but worth keeping ends with `return lk_listener_dead_letter(
 * listener, msg, &err);` (lk_listener_term drops it instead). When the
 * dead letter cannot be published (no client, the bus fails) the message
 * is nak'ed with the capped delay, never termed, an error line is logged
 * and the publish status returned: it comes again on a spare delivery.
 * LK_OK once published (a failed term after it is only logged: the
 * redelivery is dead-lettered again and de-duplicated by its msg_id
 * "<dead-letter subject>:<stream seq>"). A NULL `msg` is LK_ERR_INVALID. */
lk_status lk_listener_dead_letter(lk_listener *listener, lk_msg *msg,
                                  const lk_error *reason);

/* What dispatch does when on_message returned `failed` without replying:
 * a nak with lk_retry_delay_ms(def's delays, delivery count) and a log
 * line (debug or warn, see above) while the delivery count is below
 * lk_listener_max_deliver, else lk_listener_dead_letter. Returns the nak's
 * or the dead letter's status; LK_ERR_INVALID for NULL arguments. */
lk_status lk_listener_retry(lk_listener *listener, lk_msg *msg,
                            lk_status failed);

/* The deliveries that run on_message: def->max_deliver, or
 * LK_RETRY_DEFAULT_MAX_DELIVER when it is 0 (or def is NULL). */
int lk_listener_max_deliver(const lk_listener_def *def);

/* The subscription options listen() uses, derived from `def`: max_deliver
 * is the def's (or the default) + LK_RETRY_SPARE_DELIVERIES. */
lk_subscribe_opts lk_listener_subscribe_opts(const lk_listener_def *def);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_LISTENER_H */
