/* commands.c — what the orders service's routes do: create and cancel. */
#include "orders/orders.h"

/* Publishes `ev` (stolen) on `schema`; NULL means json_pack ran out of
 * memory. */
static lk_status publish_built(lk_bus *bus, const lk_schema *schema,
                               json_t *ev, lk_error *err)
{
    lk_status s = ev != NULL ? lk_publish(bus, schema, ev, err)
                             : lk_error_set(err, LK_ERR_NOMEM,
                                            "%s: building the event",
                                            schema->subject);
    json_decref(ev);
    return s;
}

static lk_status publish_created(lk_bus *bus, const bson_t *order,
                                 const char *ticket_hex, double price,
                                 lk_error *err)
{
    char hex[25], expires[TICKETING_EXPIRES_AT_MAX + 1];
    bson_oid_t id;
    int64_t version = 0;

    lk_status s = lk_bson_get_oid(order, &id, err);
    if (s == LK_OK)
        s = lk_bson_get_int64(order, LK_DEFAULT_VERSION_KEY, &version, err);
    if (s == LK_OK)
        s = orders_expires_at_text(order, expires, sizeof expires, err);
    if (s != LK_OK)
        return s;
    lk_oid_format(&id, hex);
    return publish_built(
        bus, &ticketing_order_created,
        json_pack("{s:s, s:I, s:s, s:s, s:s, s:{s:s, s:f}}", "id", hex,
                  "version", (json_int_t)version, "status",
                  ticketing_doc_string(order, "status"), "userId",
                  ticketing_doc_string(order, "userId"), "expiresAt", expires,
                  "ticket", "id", ticket_hex, "price", price),
        err);
}

lk_status orders_create(orders_service *svc, const char *user_id,
                        const bson_oid_t *ticket_id, int64_t expires_at_ms,
                        bson_oid_t *out_id, lk_error *err)
{
    bson_t *ticket = NULL, *stored = NULL;
    bson_t order = BSON_INITIALIZER;
    bool reserved = false;
    char ticket_hex[25] = "";

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
        BSON_APPEND_UTF8(&order, "userId", user_id);
        BSON_APPEND_UTF8(&order, "status", TICKETING_ORDER_STATUS_CREATED);
        BSON_APPEND_DATE_TIME(&order, "expiresAt", expires_at_ms);
        BSON_APPEND_OID(&order, "ticketId", ticket_id);
        s = lk_collection_insert(svc->orders, &order, &stored, err);
    }
    if (s == LK_OK && out_id != NULL)
        s = lk_bson_get_oid(stored, out_id, err);
    if (s == LK_OK)
        s = publish_created(svc->bus, stored, ticket_hex,
                            ticketing_doc_number(ticket, "price", 0), err);
    if (ticket != NULL)
        bson_destroy(ticket);
    if (stored != NULL)
        bson_destroy(stored);
    bson_destroy(&order);
    return s;
}

static lk_status publish_cancelled(lk_bus *bus, const bson_t *order,
                                   lk_error *err)
{
    bson_oid_t id;
    bson_iter_t it;
    char hex[25], ticket_hex[25];
    int64_t version = 0;

    lk_status s = lk_bson_get_oid(order, &id, err);
    if (s == LK_OK)
        s = lk_bson_get_int64(order, LK_DEFAULT_VERSION_KEY, &version, err);
    if (s == LK_OK && !(bson_iter_init_find(&it, order, "ticketId") &&
                        BSON_ITER_HOLDS_OID(&it)))
        s = lk_error_set(err, LK_ERR_INVALID,
                         "stored order lacks a ticketId");
    if (s != LK_OK)
        return s;
    lk_oid_format(&id, hex);
    lk_oid_format(bson_iter_oid(&it), ticket_hex);
    return publish_built(bus, &ticketing_order_cancelled,
                         json_pack("{s:s, s:I, s:{s:s}}", "id", hex, "version",
                                   (json_int_t)version, "ticket", "id",
                                   ticket_hex),
                         err);
}

lk_status orders_cancel(orders_service *svc, const bson_oid_t *order_id,
                        lk_error *err)
{
    bson_t *order = NULL, *stored = NULL;
    bson_t next = BSON_INITIALIZER;

    lk_status s = orders_find(svc, order_id, &order, err);
    if (s == LK_OK) {
        bson_copy_to_excluding_noinit(order, &next, "status", NULL);
        BSON_APPEND_UTF8(&next, "status", TICKETING_ORDER_STATUS_CANCELLED);
        s = lk_collection_save(svc->orders, &next, &stored, err);
    }
    if (s == LK_OK)
        s = publish_cancelled(svc->bus, stored, err);
    if (order != NULL)
        bson_destroy(order);
    if (stored != NULL)
        bson_destroy(stored);
    bson_destroy(&next);
    return s;
}
