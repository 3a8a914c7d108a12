/* SPDX-License-Identifier: MIT */
/*
 * order_listeners.c — how the tickets service reacts to orders.
 *
 * order:created reserves the ticket (orderId = the order's id), order:cancelled
 * frees it; either way the ticket and its ticket:updated are saved as one
 * step through the service's outbox (tickets_save_order_id), then the
 * message is acked. A publish that fails after the save does not keep the
 * message: the outbox owns the event from the save on and sends it later.
 *
 * Beyond the course:
 *  - when the event changes nothing (a redelivery of an event already
 *    applied, or a late cancel of an order that no longer holds the ticket,
 *    even after later orders held and released it: the ticket keeps the
 *    orders it released) nothing is saved or published, and the message
 *    is acked (a stale cancel with an info line): the event of the change
 *    it repeats was committed with that change.
 *  - a cancel only frees a ticket its own order holds: a stale cancel must
 *    not free a ticket another order reserved since.
 * As in the course, order:created reserves the ticket even when another
 * order holds it (the orders service refuses to create such an order; a
 * race between two creates is settled by the later event).
 * An unknown ticket is an error (no ack, logged at warn): the tickets service
 * owns tickets, so it is not a matter of waiting for the right order.
 */
#include "tickets/tickets.h"

#include <string.h>

static bool same_order(const char *a, const char *b)
{
    return (a == NULL && b == NULL) ||
           (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The orderId the ticket should have after the event. */
static const char *wanted_order_id(bool reserve, const char *current,
                                   const char *order_hex)
{
    if (reserve)
        return order_hex;
    return same_order(current, order_hex) ? NULL : current;
}

static lk_status apply_order_event(lk_listener *listener, const json_t *data,
                                   lk_msg *msg, bool reserve)
{
    tickets_service *svc = listener->ctx;
    bson_oid_t ticket_id, order_id;
    bson_t *ticket = NULL;
    char order_hex[25];
    lk_error e;

    lk_error_clear(&e);
    lk_status s = ticketing_event_oid(data, "id", &order_id, &e);
    if (s == LK_OK)
        s = ticketing_event_oid(data, "ticket.id", &ticket_id, &e);
    if (s != LK_OK)
        return lk_listener_term(listener, msg, &e);
    lk_oid_format(&order_id, order_hex); /* canonical lower-case form */

    s = tickets_find(svc, &ticket_id, &ticket, &e);
    if (s == LK_OK) {
        const char *current = ticketing_doc_string(ticket, "orderId");
        bool released = tickets_released(ticket, order_hex);
        const char *wanted = wanted_order_id(reserve, current, order_hex);
        /* The two subjects have their own consumers, so an order's
         * order:cancelled can be processed before its order:created. */
        if (reserve && released)
            wanted = current; /* already cancelled: never reserve again */
        if (!reserve && current == NULL && !released)
            s = lk_error_set(&e, LK_ERR_RETRY,
                             "order %s of ticket %s: cancelled before its "
                             "order:created was applied; retried",
                             order_hex, lk_event_string(data, "ticket.id"));
        else if (!reserve && released && !same_order(current, order_hex))
            /* A repeat of a cancel applied before (later orders may have
             * held and released the ticket since): nothing to change. */
            lk_log(LK_LOG_INFO,
                   "tickets: %s seq %llu: order %s released ticket %s "
                   "before; a stale cancel, acked",
                   msg->subject, (unsigned long long)msg->stream_seq,
                   order_hex, lk_event_string(data, "ticket.id"));
        else if (!same_order(current, wanted))
            s = tickets_save_order_id(svc, ticket, wanted, NULL, &e);
    }
    if (s == LK_OK)
        s = lk_msg_ack(msg);
    else
        lk_log(LK_LOG_WARN, "tickets: %s seq %llu: %s", msg->subject,
               (unsigned long long)msg->stream_seq, e.message);
    if (ticket != NULL)
        bson_destroy(ticket);
    return s;
}

static lk_status on_order_created(lk_listener *listener, const json_t *data,
                                  lk_msg *msg)
{
    return apply_order_event(listener, data, msg, true);
}

static lk_status on_order_cancelled(lk_listener *listener, const json_t *data,
                                    lk_msg *msg)
{
    return apply_order_event(listener, data, msg, false);
}

const lk_listener_def tickets_order_created_listener = {
    .schema = &ticketing_order_created,
    .queue_group = TICKETING_TICKETS_QUEUE,
    .on_message = on_order_created,
};

const lk_listener_def tickets_order_cancelled_listener = {
    .schema = &ticketing_order_cancelled,
    .queue_group = TICKETING_TICKETS_QUEUE,
    .on_message = on_order_cancelled,
};
