/* SPDX-License-Identifier: MIT */
/* ticket_replica.c — the orders service's copy of tickets. */
#include "orders/orders.h"

lk_status orders_ticket_find_by_event(lk_collection *tickets, const char *id,
                                      int64_t version, bson_t **out,
                                      lk_error *err)
{
    bson_oid_t oid;
    if (out != NULL)
        *out = NULL;
    lk_status s = lk_oid_parse(id, &oid, err);
    if (s != LK_OK) {
        lk_error_prefix(err, "ticket replica");
        return s;
    }
    if (version < 0)
        return lk_error_set(err, LK_ERR_INVALID,
                            "ticket replica %s: event version %lld is "
                            "negative",
                            id, (long long)version);

    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_OID(&filter, "_id", &oid);
    BSON_APPEND_INT64(&filter, LK_DEFAULT_VERSION_KEY, version - 1);
    s = lk_collection_find_one(tickets, &filter, out, err);
    bson_destroy(&filter);
    if (s == LK_ERR_NOT_FOUND)
        s = lk_error_set(err, LK_ERR_NOT_FOUND,
                         "ticket replica %s at version %lld not found", id,
                         (long long)(version - 1));
    return s;
}

lk_status orders_ticket_find(orders_service *svc, const bson_oid_t *id,
                             bson_t **out, lk_error *err)
{
    return ticketing_find_ticket(svc->tickets, id, out, err);
}

lk_status orders_ticket_is_reserved(orders_service *svc,
                                    const bson_oid_t *ticket_id, bool *out,
                                    lk_error *err)
{
    int64_t holding = 0;
    *out = false;
    if (ticket_id == NULL)
        return lk_error_set(err, LK_ERR_INVALID, "ticket id is NULL");
    bson_t *filter =
        BCON_NEW("ticketId", BCON_OID(ticket_id), "status", "{", "$ne",
                 BCON_UTF8(TICKETING_ORDER_STATUS_CANCELLED), "}");
    lk_status s = lk_collection_count(svc->orders, filter, &holding, err);
    bson_destroy(filter);
    *out = s == LK_OK && holding > 0;
    return s;
}
