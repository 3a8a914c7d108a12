/* SPDX-License-Identifier: MIT */
/* commands.c — what the orders service's routes do: create and cancel, each
 * saving the order and its event as one step (the outbox). */
#include "orders/orders.h"

/* order:created of the order as it will be stored; ctx: the ticket's
 * price (a double). */
static lk_status created_event(const bson_t *order, void *ctx, json_t **event,
                               lk_error *err)
{
    orders_head head;
    lk_status s = orders_read_head(order, &head, err);
    if (s != LK_OK)
        return s;
    *event = json_pack("{s:s, s:I, s:s, s:s, s:s, s:{s:s, s:f}}", "id",
                       head.id, "version", (json_int_t)head.version, "status",
                       ticketing_doc_string(order, "status"), "userId",
                       ticketing_doc_string(order, "userId"), "expiresAt",
                       head.expires_at, "ticket", "id", head.ticket_id, "price",
                       *(const double *)ctx);
    return *event != NULL ? LK_OK
                          : lk_error_set(err, LK_ERR_NOMEM,
                                         "order:created: building the event");
}

/* order:cancelled of the order as it will be stored. */
static lk_status cancelled_event(const bson_t *order, void *ctx,
                                 json_t **event, lk_error *err)
{
    orders_head head;
    (void)ctx;
    lk_status s = orders_read_head(order, &head, err);
    if (s != LK_OK)
        return s;
    *event = json_pack("{s:s, s:I, s:{s:s}}", "id", head.id, "version",
                       (json_int_t)head.version, "ticket", "id",
                       head.ticket_id);
    return *event != NULL
               ? LK_OK
               : lk_error_set(err, LK_ERR_NOMEM,
                              "order:cancelled: building the event");
}

lk_status orders_create(orders_service *svc, const char *user_id,
                        const bson_oid_t *ticket_id, int64_t expires_at_ms,
                        bson_oid_t *out_id, lk_error *err)
{
    bson_t *ticket = NULL, *stored = NULL;
    bson_t order = BSON_INITIALIZER;
    bool reserved = false;
    char ticket_hex[25] = "";
    double price = 0;

    lk_status s =
        ticketing_check_text("user id", user_id, TICKETING_USER_ID_MAX, err);
    if (s == LK_OK && ticket_id == NULL)
        s = lk_error_set(err, LK_ERR_INVALID, "ticket id is NULL");
    if (s == LK_OK && expires_at_ms < 0)
        s = lk_error_set(err, LK_ERR_INVALID,
                         "expiresAt must not be negative, got %lld ms",
                         (long long)expires_at_ms);
    if (s == LK_OK)
        s = orders_ticket_find(svc, ticket_id, &ticket, err);
    if (s == LK_OK) {
        lk_oid_format(ticket_id, ticket_hex);
        s = orders_ticket_is_reserved(svc, ticket_id, &reserved, err);
    }
    if (s == LK_OK && reserved)
        s = lk_error_set(err, LK_ERR_INVALID,
                         "cannot order ticket %s: ticket is already reserved",
                         ticket_hex);
    if (s == LK_OK) {
        const lk_outbox_event ev = {&ticketing_order_created, created_event,
                                    &price};
        price = ticketing_doc_number(ticket, "price", 0);
        BSON_APPEND_UTF8(&order, "userId", user_id);
        BSON_APPEND_UTF8(&order, "status", TICKETING_ORDER_STATUS_CREATED);
        BSON_APPEND_DATE_TIME(&order, "expiresAt", expires_at_ms);
        BSON_APPEND_OID(&order, "ticketId", ticket_id);
        s = lk_outbox_insert(svc->outbox, svc->orders, &order, &ev, &stored,
                             err);
    }
    if (s == LK_OK && out_id != NULL)
        s = lk_bson_get_oid(stored, out_id, err);
    if (ticket != NULL)
        bson_destroy(ticket);
    if (stored != NULL)
        bson_destroy(stored);
    bson_destroy(&order);
    return s;
}

lk_status orders_cancel(orders_service *svc, const bson_oid_t *order_id,
                        lk_error *err)
{
    const lk_outbox_event ev = {&ticketing_order_cancelled, cancelled_event,
                                NULL};
    bson_t *order = NULL;
    bson_t next = BSON_INITIALIZER;

    lk_status s = orders_find(svc, order_id, &order, err);
    if (s == LK_OK) {
        bson_copy_to_excluding_noinit(order, &next, "status", NULL);
        BSON_APPEND_UTF8(&next, "status", TICKETING_ORDER_STATUS_CANCELLED);
        s = lk_outbox_save(svc->outbox, svc->orders, &next, &ev, NULL, err);
    }
    if (order != NULL)
        bson_destroy(order);
    bson_destroy(&next);
    return s;
}
