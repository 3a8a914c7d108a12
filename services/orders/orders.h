/* SPDX-License-Identifier: MIT */
/*
 * orders/orders.h — the orders service: owns orders, keeps a replica of
 * tickets.
 *
 * Two collections in its store:
 *
 *   "tickets" — the replica, LK_OCC_EXTERNAL: the tickets service owns the
 *   version and every event carries it. Same _id as in the tickets service:
 *       { _id: ObjectId, title: string, price: double, version: int64 }
 *   "orders" — its own records, update-if-current (version 0 on insert, +1
 *   on every save):
 *       { _id: ObjectId, userId: string, status: string (see the
 *         TICKETING_ORDER_STATUS_* values), expiresAt: BSON date,
 *         ticketId: ObjectId (the replica's _id), version: int64 }
 *
 * Listeners keep the replica in step with the tickets service, applying each
 * ticket version exactly once and in order:
 *   ticket:created  builds the replica with the event's id and version, acks.
 *                   A replica that exists already (a duplicate delivery) is
 *                   acked without change, never failed forever.
 *   ticket:updated  finds the replica at version - 1, sets title, price and
 *                   version, saves, acks. A replica already at or past the
 *                   event's version (a duplicate, a stale redelivery) is acked
 *                   without change. A replica further behind (a gap: an
 *                   update in between has not come yet) or none at all (the
 *                   created event has not come yet) gives LK_ERR_RETRY and no
 *                   ack: the event comes again after the ack wait, when its
 *                   turn may have come.
 * A save that loses a race (LK_ERR_VERSION: another replica of the service
 * applied the same event in between) is returned, not acked: the redelivery
 * then finds the replica already there and acks it.
 *
 * Commands (create, cancel) save the order and its event as one step
 * through the service's transactional outbox (listenkit/outbox.h), which
 * publishes at once or, when that fails, later.
 *
 * Several orders_service values may share one store and one bus: they are
 * replicas of one queue group, and each listener's ctx is its own svc. An
 * orders_service borrows its bus and store (it must not outlive them) and
 * owns its outbox (orders_service_close). Thread-safety: as the bus and
 * store given.
 */
#ifndef ORDERS_ORDERS_H
#define ORDERS_ORDERS_H

#include <stdbool.h>
#include <stdint.h>

#include "listenkit.h"

#include "common/ticketing.h"
#include "common/program.h"
#include "http/http.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ORDERS_TICKETS_COLLECTION "tickets"
#define ORDERS_COLLECTION "orders"

/* How long a new order holds its ticket: the course's 15 minutes. */
#define ORDERS_DEFAULT_EXPIRATION_MS (15 * 60 * 1000)

typedef struct orders_service {
    lk_bus *bus;              /* borrowed: publishes events, runs listeners */
    lk_collection *tickets;   /* the ticket replica (external versions) */
    lk_collection *orders;    /* the orders (update-if-current) */
    lk_outbox *outbox;        /* owned: every order event goes through it */
    lk_listener_def defs[2];  /* the listeners' defs, with `listen`
                                 applied (listen_all fills them) */
    ticketing_listen_opts listen; /* zeroed by init; set before listen_all
                                     to change ack wait or max deliver */
    lk_listener listeners[2]; /* ticket:created, ticket:updated */
    int64_t expiration_ms;    /* a new order's expiresAt is now + this;
                                 init sets ORDERS_DEFAULT_EXPIRATION_MS */
} orders_service;

/* The listeners, for orders_listen_all() and for specs that dispatch a fake
 * message to one of them (ctx must be an orders_service *). */
extern const lk_listener_def orders_ticket_created_listener;
extern const lk_listener_def orders_ticket_updated_listener;

/* Fills `svc`: opens "tickets" (LK_OCC_EXTERNAL) and "orders"
 * (update-if-current) in `store`. `bus` may be NULL only for specs that
 * publish and subscribe nothing. */
lk_status orders_service_init(orders_service *svc, lk_bus *bus,
                              lk_store *store, lk_error *err);

/* Releases what init made (the outbox). NULL and a zeroed svc are fine. */
void orders_service_close(orders_service *svc);

/* Subscribes every listener (ticket:created, ticket:updated) in the queue
 * group TICKETING_ORDERS_QUEUE, with svc as their ctx. */
lk_status orders_listen_all(orders_service *svc, lk_error *err);

/* init + listen_all in one call, in the shape ticketing_main() takes
 * (common/program.h): what the orders program runs on start-up, with the
 * listener options (ack wait, max deliver) of `cfg` and its order expiration. `svc` is a orders_service *. */
lk_status orders_start(void *svc, lk_bus *bus, lk_store *store,
                       const ticketing_config *cfg, ticketing_running *out,
                        lk_error *err);

/* orders_service_close in the shape ticketing_main() takes. */
void orders_stop(void *svc);

/* The HTTP routes (orders/routes.c): POST/GET /api/orders, GET/DELETE
 * /api/orders/:id, for ticketing_http_dispatch with an orders_service *. */
extern const ticketing_http_route orders_routes[];

/* ---- the ticket replica ---------------------------------------------------- */

/*
 * The replica an event of version `version` applies to: {_id: id, version:
 * version - 1}. `id` is the event's 24-hex id (LK_ERR_INVALID naming it
 * otherwise); a negative version is LK_ERR_INVALID. *out is new
 * (bson_destroy); LK_ERR_NOT_FOUND (naming the id and the version sought)
 * when there is no such replica.
 */
lk_status orders_ticket_find_by_event(lk_collection *tickets, const char *id,
                                      int64_t version, bson_t **out,
                                      lk_error *err);

/* The replica `id`, whatever its version; LK_ERR_NOT_FOUND naming the id. */
lk_status orders_ticket_find(orders_service *svc, const bson_oid_t *id,
                             bson_t **out, lk_error *err);

/* *out = true when an order that is not cancelled holds ticket `ticket_id`
 * (the course's ticket.isReserved()). */
lk_status orders_ticket_is_reserved(orders_service *svc,
                                    const bson_oid_t *ticket_id, bool *out,
                                    lk_error *err);

/* ---- orders ---------------------------------------------------------------- */

/*
 * Creates an order of `user_id` for ticket `ticket_id`, status "created",
 * expiring at `expires_at_ms` (ms since the epoch, >= 0), and publishes
 * order:created {id, version 0, status, userId, expiresAt (ISO-8601 UTC),
 * ticket {id, price}}. Refused with nothing saved or published: an empty or
 * over-long user id or a negative expiry (LK_ERR_INVALID), an unknown ticket
 * (LK_ERR_NOT_FOUND), a ticket held by an order that is not cancelled
 * (LK_ERR_INVALID "ticket is already reserved"). *out_id (if not NULL)
 * receives the order's id. The order and its event are one step (the
 * outbox): when the publish fails the call still succeeds and the event
 * goes out later (lk_outbox_relay).
 */
lk_status orders_create(orders_service *svc, const char *user_id,
                        const bson_oid_t *ticket_id, int64_t expires_at_ms,
                        bson_oid_t *out_id, lk_error *err);

/*
 * Sets order `order_id`'s status to "cancelled", saves (its version goes up)
 * and publishes order:cancelled {id, version, ticket {id}} (through the
 * outbox, as create). As in the course, cancelling a cancelled order saves
 * and publishes again. LK_ERR_NOT_FOUND for an unknown order;
 * LK_ERR_INVALID for a stored order without its ticketId.
 */
lk_status orders_cancel(orders_service *svc, const bson_oid_t *order_id,
                        lk_error *err);

/* The stored order `id`: *out is new; LK_ERR_NOT_FOUND naming the id. */
lk_status orders_find(orders_service *svc, const bson_oid_t *id, bson_t **out,
                      lk_error *err);

/* What every view of a stored order needs: its id, its ticket's id (both
 * 24-hex), its version and its expiresAt (orders_format_time's text). */
typedef struct orders_head {
    char id[25];
    char ticket_id[25];
    int64_t version;
    char expires_at[TICKETING_EXPIRES_AT_MAX + 1];
} orders_head;

/* Reads `order`'s head; LK_ERR_INVALID naming what is missing. */
lk_status orders_read_head(const bson_t *order, orders_head *out,
                           lk_error *err);

/* Writes `ms` (since the epoch) as "YYYY-MM-DDTHH:MM:SS.mmmZ" into `buf`
 * (TICKETING_EXPIRES_AT_MAX + 1 bytes). LK_ERR_INVALID for a negative or
 * unrepresentable time. */
lk_status orders_format_time(int64_t ms, char *buf, size_t size,
                             lk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* ORDERS_ORDERS_H */
