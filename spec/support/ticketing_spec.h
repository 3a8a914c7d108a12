/* SPDX-License-Identifier: MIT */
/*
 * ticketing_spec.h — what the specs of the tickets and orders services share.
 *
 * A fixture per service, as the course's tests build it: a memory store of
 * its own, a fake NATS (recording, or a broker) as the service's bus, the
 * service on both, one listener and the message under test:
 *
 *     static int setup(void **state)
 *     {
 *         ticketing_spec_tickets *f = ticketing_spec_tickets_new();
 *         ... save the data the spec needs ...
 *         ticketing_spec_tickets_init_listener(
 *             f, &tickets_order_created_listener);
 *         f->msg = ticketing_spec_order_created(f->order_hex, f->ticket_hex);
 *         *state = f;
 *         return 0;
 *     }
 *
 * Builders of the four events take the fields a spec varies and fix the
 * rest to valid values. Readers assert as they read (the record is there,
 * the field has its type) and return what they read. Every function here
 * fails the running cmocka test instead of returning an error, so call them
 * only from a test, a setup or a teardown.
 *
 * Log capture is the spec's own business (spec_log.h): the checks below
 * that read the log need it started.
 */
#ifndef TICKETING_SPEC_H
#define TICKETING_SPEC_H

#include <stdint.h>

#include "fake_msg.h"
#include "fake_nats.h"
#include "orders/orders.h"
#include "tickets/tickets.h"

/* ---- ids ----------------------------------------------------------------- */

/* A fresh ObjectId in *id (NULL: not wanted) and its 24-hex text in `hex`. */
void ticketing_spec_new_id(bson_oid_t *id, char hex[25]);

/* ---- fixtures ------------------------------------------------------------ */

typedef struct ticketing_spec_tickets {
    lk_store *store;      /* a memory store of its own */
    lk_fake_nats *nats;   /* the service's bus (recording or broker) */
    tickets_service svc;  /* on nats and store */
    lk_listener listener; /* set by ticketing_spec_tickets_init_listener */
    lk_msg *msg;          /* the message under test, if any; freed with f */
    bson_oid_t ticket_id; /* the spec's ticket, for the spec to fill */
    char ticket_hex[25];
    char order_hex[25];   /* the spec's order, for the spec to fill */
} ticketing_spec_tickets;

typedef struct ticketing_spec_orders {
    lk_store *store;
    lk_fake_nats *nats;
    orders_service svc;
    lk_listener listener; /* set by ticketing_spec_orders_init_listener */
    lk_msg *msg;
    bson_oid_t ticket_id; /* the spec's ticket (replica), for it to fill */
    char ticket_hex[25];
} ticketing_spec_orders;

/* A new fixture (calloc'd, free with _free) whose bus is a recording fake
 * NATS; the service is initialised on it and the store. */
ticketing_spec_tickets *ticketing_spec_tickets_new(void);
ticketing_spec_orders *ticketing_spec_orders_new(void);

/* The same on a broker fake NATS (no faults), for specs that subscribe. */
ticketing_spec_tickets *ticketing_spec_tickets_new_broker(void);
ticketing_spec_orders *ticketing_spec_orders_new_broker(void);

/* Frees f->msg, the fake NATS, the store and f. NULL is ignored. */
void ticketing_spec_tickets_free(ticketing_spec_tickets *f);
void ticketing_spec_orders_free(ticketing_spec_orders *f);

/* cmocka teardowns freeing the fixture in *state. */
int ticketing_spec_tickets_teardown(void **state);
int ticketing_spec_orders_teardown(void **state);

/* Initialises f->listener from `def` with the fixture's bus as its client
 * and the fixture's service as its ctx. */
void ticketing_spec_tickets_init_listener(ticketing_spec_tickets *f,
                                          const lk_listener_def *def);
void ticketing_spec_orders_init_listener(ticketing_spec_orders *f,
                                         const lk_listener_def *def);

/* ---- events: new fake messages (lk_fake_msg_free) ------------------------ */

/* ticket:created {id, version 0, title, price, userId}. */
lk_msg *ticketing_spec_ticket_created(const char *id, const char *title,
                                      double price);

/* ticket:updated {id, version, title, price, userId}. */
lk_msg *ticketing_spec_ticket_updated(const char *id, int64_t version,
                                      const char *title, double price);

/* order:created {id, version 0, status "created", userId, expiresAt,
 * ticket {id: ticket_id, price 99}}. */
lk_msg *ticketing_spec_order_created(const char *id, const char *ticket_id);

/* order:cancelled {id, version 1, ticket {id: ticket_id}}. */
lk_msg *ticketing_spec_order_cancelled(const char *id, const char *ticket_id);

/* A new message on the subject of `msg` (borrowed) with its data but
 * top-level `field` set to the JSON text made from `json_fmt` (printf-style):
 * how a spec makes one bad payload out of the good one. */
lk_msg *ticketing_spec_msg_with(const lk_msg *msg, const char *field,
                                const char *json_fmt, ...) LK_PRINTF(3, 4);

/* The same without `field` (which must have been there). */
lk_msg *ticketing_spec_msg_without(const lk_msg *msg, const char *field);

/* ---- stored records ------------------------------------------------------ */

/* Ticket `id` as stored by `svc` (asserted there); new, bson_destroy. */
bson_t *ticketing_spec_stored_ticket(tickets_service *svc,
                                     const bson_oid_t *id);

/* The fixture's ticket (f->ticket_id) as stored; new, bson_destroy. */
bson_t *ticketing_spec_tickets_stored(ticketing_spec_tickets *f);

/* The stored version of the fixture's ticket. */
int64_t ticketing_spec_tickets_stored_version(ticketing_spec_tickets *f);

/* Saves ticket `id` with orderId `order_hex` (NULL: without) as the order
 * listeners would, its version up by one, but straight into the store:
 * no ticket:updated is published. */
void ticketing_spec_reserve(tickets_service *svc, const bson_oid_t *id,
                            const char *order_hex);

/* Inserts the replica {_id: id, title, price, version} as ticket:created
 * would have built it. */
void ticketing_spec_insert_replica(orders_service *svc, const bson_oid_t *id,
                                   const char *title, double price,
                                   int64_t version);

/* Asserts the fixture's replica (f->ticket_id) is stored with this title,
 * price and version. */
void ticketing_spec_orders_assert_replica(ticketing_spec_orders *f,
                                          const char *title, double price,
                                          int64_t version);

/* Order `id` as stored by `svc` (asserted there); new, bson_destroy. */
bson_t *ticketing_spec_stored_order(orders_service *svc, const bson_oid_t *id);

/* The int64 "version" of `doc` (asserted present). */
int64_t ticketing_spec_version_of(const bson_t *doc);

/* How many documents `coll` holds. */
int64_t ticketing_spec_count(lk_collection *coll);

/* ---- checks -------------------------------------------------------------- */

/* Asserts `s` is `want`, and so is e->status, and e->message names
 * `needle`: a command refused with a clear error. */
void ticketing_spec_assert_refused(lk_status s, const lk_error *e,
                                   lk_status want, const char *needle);

/* Asserts exactly one event was published, on `subject`, as JSON; returns
 * it (borrowed from `nats`). */
const json_t *ticketing_spec_only_published(lk_fake_nats *nats,
                                            const char *subject);

/* After a publish on `subject` failed: asserts nothing went out on it, the
 * event waits in `outbox` (one pending entry), and one relay pass sends it;
 * returns that event (borrowed from `nats`), what the consumer gets once
 * the fault cleared. */
const json_t *ticketing_spec_assert_relayed(lk_outbox *outbox,
                                            lk_fake_nats *nats,
                                            const char *subject);

/* Dispatches `msg` (borrowed) to `listener`; asserts the status is `want`,
 * the message is neither acked nor termed (it comes again), and, when
 * `logged` is not NULL, that the captured log contains it. */
void ticketing_spec_assert_not_acked(lk_listener *listener, lk_msg *msg,
                                     lk_status want, const char *logged);

/* Dispatches `msg` (taken: freed here) to `listener`; asserts it was
 * termed once and never acked, and that the captured log says "listener
 * <its queue group>: terminated <its subject>" and names `reason`. What
 * must not have changed is the calling spec's to check. */
void ticketing_spec_assert_termed(lk_listener *listener, lk_msg *msg,
                                  const char *reason);

/* Asserts every subscription of `nats` has the ack wait and max deliver a
 * listener def with these settings subscribes with
 * (lk_listener_subscribe_opts): what listen_all makes of a service's
 * `listen` options. 0: the defaults. */
void ticketing_spec_assert_listen_opts(lk_fake_nats *nats, int64_t ack_wait_ms,
                                       int max_deliver);

/* Asserts `nats` holds exactly `count` subscriptions, each in queue group
 * `queue` (none without one), durable from the stream start, with an ack
 * wait: what listen_all must set up. */
void ticketing_spec_assert_group_subscriptions(lk_fake_nats *nats,
                                               size_t count,
                                               const char *queue);

#endif /* TICKETING_SPEC_H */
