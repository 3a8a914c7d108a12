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
 * each saves, then publishes the ticket's new state with its new version.
 * Listeners react to orders: order:created reserves the ticket (sets
 * orderId), order:cancelled frees it; both save and publish ticket:updated
 * through the listener's own client, then ack.
 *
 * Everything takes its bus and store as arguments: specs wire the doubles of
 * mocks/, main.c wires the real ones. A tickets_service holds only borrowed
 * pointers (the bus and the store's collection), so it needs no free; it must
 * not outlive its bus or store.
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
#include "http/http.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TICKETS_COLLECTION "tickets"

typedef struct tickets_service {
    lk_bus *bus;             /* borrowed: publishes events, runs listeners */
    lk_collection *tickets;  /* borrowed from the store */
    lk_listener listeners[2]; /* order:created, order:cancelled */
} tickets_service;

/* The listeners, for tickets_listen_all() and for specs that dispatch a fake
 * message to one of them (ctx must be a tickets_service *). */
extern const lk_listener_def tickets_order_created_listener;
extern const lk_listener_def tickets_order_cancelled_listener;

/* Fills `svc`: opens the collection "tickets" (update-if-current) in
 * `store`. `bus` may be NULL only for specs that publish nothing. */
lk_status tickets_service_init(tickets_service *svc, lk_bus *bus,
                               lk_store *store, lk_error *err);

/* Subscribes every listener (order:created, order:cancelled) in the queue
 * group TICKETING_TICKETS_QUEUE, with svc as their ctx. */
lk_status tickets_listen_all(tickets_service *svc, lk_error *err);

/* init + listen_all in one call, in the shape ticketing_run_program()
 * takes (common/program.h): what the tickets program runs on start-up. `svc`
 * is a tickets_service *. */
lk_status tickets_start(void *svc, lk_bus *bus, lk_store *store, lk_error *err);

/* The HTTP routes (tickets/routes.c): POST/GET /api/tickets, GET/PUT
 * /api/tickets/:id, for ticketing_http_dispatch with a tickets_service *. */
extern const ticketing_http_route tickets_routes[];

/* ---- commands ---------------------------------------------------------- */

/*
 * Creates a ticket and publishes ticket:created with version 0. Refuses
 * (LK_ERR_INVALID, nothing saved): an empty or over-long title or user id,
 * a price that is not > 0 (or above TICKETING_PRICE_MAX, or not finite).
 * *out_id (if not NULL) receives the new ticket's id. If publishing fails
 * the ticket stays saved and the bus's error is returned.
 */
lk_status tickets_create(tickets_service *svc, const char *title,
                         double price, const char *user_id,
                         bson_oid_t *out_id, lk_error *err);

/*
 * Sets the title and price of ticket `id` on behalf of `user_id`, saves and
 * publishes ticket:updated with the new version. Refused with nothing saved
 * or published: bad title/price (as create), an unknown ticket
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

/* Publishes `schema` (ticket:created or ticket:updated) describing stored
 * ticket `ticket` on `client`. */
lk_status tickets_publish(lk_bus *client, const lk_schema *schema,
                          const bson_t *ticket, lk_error *err);

/* Saves `ticket` (as loaded) with orderId set to `order_id` (24-hex), or
 * removed when `order_id` is NULL. *out (if not NULL) is the ticket as
 * stored, with its new version. LK_ERR_VERSION when it was saved meanwhile. */
lk_status tickets_save_order_id(lk_collection *tickets, const bson_t *ticket,
                                const char *order_id, bson_t **out,
                                lk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* TICKETS_TICKETS_H */
