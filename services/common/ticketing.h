/* SPDX-License-Identifier: MIT */
/*
 * common/ticketing.h — the events the tickets and orders services exchange.
 *
 * One header for both sides: the publisher validates against the same schema
 * the listener decodes with, so a service can never emit an event its peers
 * would have to term. The schemas are strict (an unlisted field is refused):
 * every producer and consumer lives in this repository and shares this file,
 * so an unknown field means the two sides disagree, and that should be loud
 * (a termed message with a logged reason), not silently dropped. To add a
 * field: add it here as optional, roll out the listeners, then the publishers.
 *
 *   ticket:created   {id, version, title, price, userId}
 *   ticket:updated   {id, version, title, price, userId, orderId?}
 *   order:created    {id, version, status, userId, expiresAt, ticket {id, price}}
 *   order:cancelled  {id, version, ticket {id}}
 *
 * `id`, `orderId` and `ticket.id` are 24-character hex ObjectIds
 * (LK_FIELD_OBJECTID: the schema terms any other text at dispatch);
 * listeners read them with ticketing_event_oid(). `status` is one of the four
 * TICKETING_ORDER_STATUS_* values. `userId` is opaque (the
 * auth service's id of the user), a non-empty string of at most
 * TICKETING_USER_ID_MAX bytes. `version` is an integer >= 0, `price` a
 * number >= 0, `expiresAt` an ISO-8601 UTC time ("2024-05-01T12:00:00.000Z").
 */
#ifndef TICKETING_H
#define TICKETING_H

#include <stddef.h>

#include "listenkit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Queue groups: every replica of a service joins its service's group, so
 * each event is handled by exactly one of them. */
#define TICKETING_TICKETS_QUEUE "tickets-service"
#define TICKETING_ORDERS_QUEUE "orders-service"

#define TICKETING_SUBJECT_TICKET_CREATED "ticket:created"
#define TICKETING_SUBJECT_TICKET_UPDATED "ticket:updated"
#define TICKETING_SUBJECT_ORDER_CREATED "order:created"
#define TICKETING_SUBJECT_ORDER_CANCELLED "order:cancelled"

/* Limits the schemas and the commands share. */
#define TICKETING_ID_LEN 24
#define TICKETING_TITLE_MAX 200
#define TICKETING_USER_ID_MAX 64
#define TICKETING_STATUS_MAX 32
#define TICKETING_EXPIRES_AT_MAX 40
#define TICKETING_PRICE_MAX 1000000000 /* one billion, whole currency units */

/* Order statuses, as order:created carries them. */
#define TICKETING_ORDER_STATUS_CREATED "created"
#define TICKETING_ORDER_STATUS_CANCELLED "cancelled"
#define TICKETING_ORDER_STATUS_AWAITING_PAYMENT "awaiting:payment"
#define TICKETING_ORDER_STATUS_COMPLETE "complete"

extern const lk_schema ticketing_ticket_created;
extern const lk_schema ticketing_ticket_updated;
extern const lk_schema ticketing_order_created;
extern const lk_schema ticketing_order_cancelled;

/*
 * Reads the string at `path` ("id", "ticket.id") of a decoded event and
 * parses it as an ObjectId. `data` is borrowed. LK_ERR_INVALID when the field
 * is absent, not a string or not 24 hex characters; the message names the
 * path ("field \"ticket.id\": id: expected a 24-character hex ObjectId...").
 */
lk_status ticketing_event_oid(const json_t *data, const char *path,
                              bson_oid_t *out, lk_error *err);

/* Checks a required text argument of a command: present, non-empty, at most
 * `max` bytes, valid UTF-8 (it goes into JSON events). LK_ERR_INVALID naming
 * `what` ("title must not be empty"). */
lk_status ticketing_check_text(const char *what, const char *text, size_t max,
                               lk_error *err);

/* ---- reading stored documents (shared by both services' models) ---------- */

/* The UTF-8 string at `key`, borrowed from `doc`; NULL when absent or of
 * another type. */
const char *ticketing_doc_string(const bson_t *doc, const char *key);

/* The number at `key` (double, int32 or int64); `fallback` when absent or of
 * another type. */
double ticketing_doc_number(const bson_t *doc, const char *key,
                            double fallback);

/* Finds the ticket `id` in `tickets` (either service's collection). A NULL
 * id is LK_ERR_INVALID; an unknown one LK_ERR_NOT_FOUND naming its hex id.
 * *out as lk_collection_find_one gives it. */
lk_status ticketing_find_ticket(lk_collection *tickets, const bson_oid_t *id,
                                bson_t **out, lk_error *err);

/* ---- wiring a service --------------------------------------------------- */

/* What a deployment may change in a service's listener definitions. */
typedef struct ticketing_listen_opts {
    int64_t ack_wait_ms; /* 0: the def's (LK_DEFAULT_ACK_WAIT_MS) */
    int max_deliver;     /* 0: the def's (LK_RETRY_DEFAULT_MAX_DELIVER, 6) */
} ticketing_listen_opts;

/*
 * Starts a service's listeners: for each of the `count` defs, a copy in
 * `defs_out` (which must live as long as the listeners) with `opts`
 * applied (NULL: none), then lk_listener_init + lk_listener_listen on it,
 * with `bus` as client and `ctx` as context. Stops at the first failure;
 * the error is prefixed "<service>: listen <subject>".
 */
lk_status ticketing_listen_all(const char *service, lk_listener *listeners,
                               const lk_listener_def *const *defs,
                               lk_listener_def *defs_out, size_t count,
                               const ticketing_listen_opts *opts, lk_bus *bus,
                               void *ctx, lk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* TICKETING_H */
