/* SPDX-License-Identifier: MIT */
/*
 * tickets/tickets.h — the tickets service: owns tickets, tells the others.
 *
 * A ticket is a document in the collection "tickets" (update-if-current: the
 * store owns the version, 0 on insert, +1 on every save):
 *
 *     { _id: ObjectId, title: string, price: double, userId: string,
 *       orderId?: string (24-hex id of the order that reserves it),
 *       version: int64 }
 *
 * Commands are what the HTTP routes of such a service do (create, update);
 * each saves the ticket and its event (its new state, with its new
 * version) as one step through the service's transactional outbox
 * (listenkit/outbox.h), which publishes the event at once or, when that
 * fails, later. Listeners react to orders: order:created reserves the
 * ticket (sets orderId), order:cancelled frees it; both save with
 * ticket:updated the same way, then ack.
 *
 * Everything takes its bus and store as arguments: specs wire the doubles of
 * mocks/, main.c wires the real ones. A tickets_service borrows the bus and
 * the store's collection and owns its outbox: tickets_service_close()
 * releases it; it must not outlive its bus or store.
 *
 * Thread-safety: the functions keep no state of their own beyond `svc`; they
 * are as thread-safe as the bus and store given (the memory store and the
 * NATS adapter are). Errors: LK_ERR_INVALID for bad arguments and refused
 * commands (the course's BadRequestError), LK_ERR_NOT_FOUND for unknown
 * tickets, LK_ERR_VERSION when a concurrent save won, else what the bus or
 * store returned; messages name the ticket.
 */
#ifndef TICKETS_TICKETS_H
#define TICKETS_TICKETS_H

#include "listenkit.h"

#include "common/ticketing.h"
#include "common/program.h"
#include "http/http.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TICKETS_COLLECTION "tickets"
/* The ticket's field listing the orders that held it and were released,
 * oldest first, at most TICKETS_RELEASED_MAX (a cancel older than that is
 * retried until its consumer's max deliver, then dead-lettered). */
#define TICKETS_RELEASED "releasedOrderIds"
#define TICKETS_RELEASED_MAX 16

typedef struct tickets_service {
    lk_bus *bus;             /* borrowed: publishes events, runs listeners */
    lk_collection *tickets;  /* borrowed from the store */
    lk_outbox *outbox;       /* owned: every ticket event goes through it */
    lk_listener_def defs[2];  /* the listeners' defs, with `listen`
                                 applied (listen_all fills them) */
    ticketing_listen_opts listen; /* zeroed by init; set before listen_all
                                     to change ack wait or max deliver */
    lk_listener listeners[2]; /* order:created, order:cancelled */
} tickets_service;

/* The listeners, for tickets_listen_all() and for specs that dispatch a fake
 * message to one of them (ctx must be a tickets_service *). */
extern const lk_listener_def tickets_order_created_listener;
extern const lk_listener_def tickets_order_cancelled_listener;

/* Fills `svc`: opens the collection "tickets" (update-if-current) in
 * `store` and an outbox on `store` and `bus` watching it. `bus` may be NULL
 * only for specs that publish nothing (events then stay pending). */
lk_status tickets_service_init(tickets_service *svc, lk_bus *bus,
                               lk_store *store, lk_error *err);

/* Releases what init made (the outbox; its relay thread stops). Call it
 * after the bus stopped delivering. NULL and a zeroed svc are fine. */
void tickets_service_close(tickets_service *svc);

/* Subscribes every listener (order:created, order:cancelled) in the queue
 * group TICKETING_TICKETS_QUEUE, with svc as their ctx. */
lk_status tickets_listen_all(tickets_service *svc, lk_error *err);

/* init + listen_all in one call, in the shape ticketing_main() takes
 * (common/program.h): what the tickets program runs on start-up, with the
 * listener options (ack wait, max deliver) of `cfg`. `svc` is a tickets_service *. */
lk_status tickets_start(void *svc, lk_bus *bus, lk_store *store,
                        const ticketing_config *cfg, ticketing_running *out,
                        lk_error *err);

/* tickets_service_close in the shape ticketing_main() takes. */
void tickets_stop(void *svc);

/* The HTTP routes (tickets/routes.c): POST/GET /api/tickets, GET/PUT
 * /api/tickets/:id, for ticketing_http_dispatch with a tickets_service *. */
extern const ticketing_http_route tickets_routes[];

/* ---- commands ---------------------------------------------------------- */

/*
 * Creates a ticket and publishes ticket:created with version 0. Refuses
 * (LK_ERR_INVALID, nothing saved): an empty or over-long title or user id,
 * a price that is not > 0 (or above TICKETING_PRICE_MAX, or not finite).
 * *out_id (if not NULL) receives the new ticket's id. The ticket and its
 * event are one step (the outbox): when the publish fails the call still
 * succeeds and the event goes out later (lk_outbox_relay).
 */
lk_status tickets_create(tickets_service *svc, const char *title,
                         double price, const char *user_id,
                         bson_oid_t *out_id, lk_error *err);

/*
 * Sets the title and price of ticket `id` on behalf of `user_id`, saves and
 * publishes ticket:updated with the new version (through the outbox, as
 * create). Refused with nothing saved or published: bad title/price (as create), an unknown ticket
 * (LK_ERR_NOT_FOUND), a user who is not the owner (LK_ERR_FORBIDDEN "not
 * the owner": the route's 401), a reserved ticket, one with an orderId
 * (LK_ERR_INVALID "ticket is reserved": the course's BadRequestError).
 */
lk_status tickets_update(tickets_service *svc, const bson_oid_t *id,
                         const char *user_id, const char *title, double price,
                         lk_error *err);

/* ---- the model ------------------------------------------------------------ */

/* The stored ticket `id`: *out is new (bson_destroy), LK_ERR_NOT_FOUND
 * naming the id when there is none. */
lk_status tickets_find(tickets_service *svc, const bson_oid_t *id,
                       bson_t **out, lk_error *err);

/* Checks what create and update accept (see tickets_create). */
lk_status tickets_validate(const char *title, double price,
                           const char *user_id, lk_error *err);

/* The event describing stored ticket `ticket` (borrowed): {id, version,
 * title, price, userId[, orderId]}. *out is a new reference. LK_ERR_INVALID
 * when the document lacks a field. */
lk_status tickets_event_from_doc(const bson_t *ticket, json_t **out,
                                 lk_error *err);

/* Inserts (`insert`: with ticket:created) or saves (with ticket:updated)
 * `ticket` and its event as one step through the service's outbox; *out
 * (if not NULL) is the ticket as stored. */
lk_status tickets_commit(tickets_service *svc, const bson_t *ticket,
                         bool insert, bson_t **out, lk_error *err);

/* Saves `ticket` (as loaded) with orderId set to `order_id` (24-hex), or
 * removed when `order_id` is NULL, with its ticket:updated (tickets_commit).
 * Removing it records the order it held in the ticket's list of released
 * orders (TICKETS_RELEASED, the last TICKETS_RELEASED_MAX; not in the
 * ticket's JSON or events), so the listeners can tell an order:created
 * that comes after its own order:cancelled, and a cancel repeated after a
 * later order on the ticket was released too.
 * *out (if not NULL) is the ticket as stored, with its new version.
 * LK_ERR_VERSION when it was saved meanwhile. */
lk_status tickets_save_order_id(tickets_service *svc, const bson_t *ticket,
                                const char *order_id, bson_t **out,
                                lk_error *err);

/* True when order `order_hex` once held `ticket` and was released (one of
 * its last TICKETS_RELEASED_MAX, or the single releasedOrderId a ticket
 * saved before the list kept). */
bool tickets_released(const bson_t *ticket, const char *order_hex);

#ifdef __cplusplus
}
#endif

#endif /* TICKETS_TICKETS_H */
