/* SPDX-License-Identifier: MIT */
/* order.c — the order document: lookup and the time format events use. */
#include "orders/orders.h"

#include <stdio.h>
#include <time.h>

lk_status orders_find(orders_service *svc, const bson_oid_t *id, bson_t **out,
                      lk_error *err)
{
    char hex[25];
    if (id == NULL) {
        if (out != NULL)
            *out = NULL;
        return lk_error_set(err, LK_ERR_INVALID, "order id is NULL");
    }
    lk_status s = lk_collection_find_by_id(svc->orders, id, out, err);
    if (s == LK_ERR_NOT_FOUND) {
        lk_oid_format(id, hex);
        s = lk_error_set(err, LK_ERR_NOT_FOUND, "order %s not found", hex);
    }
    return s;
}

lk_status orders_format_time(int64_t ms, char *buf, size_t size,
                             lk_error *err)
{
    struct tm tm;
    time_t secs = (time_t)(ms / 1000);
    if (ms < 0 || gmtime_r(&secs, &tm) == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "time %lld ms is not representable",
                            (long long)ms);
    int n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    if (n < 0 || (size_t)n >= size)
        return lk_error_set(err, LK_ERR_INVALID,
                            "time %lld ms does not fit %zu bytes",
                            (long long)ms, size);
    return LK_OK;
}

/* The expiresAt (a BSON date) of `order` as orders_format_time writes it. */
static lk_status expires_at_text(const bson_t *order, char *buf, size_t size,
                                 lk_error *err)
{
    bson_iter_t it;
    if (!bson_iter_init_find(&it, order, "expiresAt") ||
        !BSON_ITER_HOLDS_DATE_TIME(&it))
        return lk_error_set(err, LK_ERR_INVALID,
                            "stored order lacks an expiresAt date");
    return orders_format_time(bson_iter_date_time(&it), buf, size, err);
}

lk_status orders_read_head(const bson_t *order, orders_head *out,
                           lk_error *err)
{
    bson_oid_t id;
    bson_iter_t it;
    lk_status s = lk_bson_get_oid(order, &id, err);
    if (s == LK_OK)
        s = lk_bson_get_int64(order, LK_DEFAULT_VERSION_KEY, &out->version,
                              err);
    if (s == LK_OK && !(bson_iter_init_find(&it, order, "ticketId") &&
                        BSON_ITER_HOLDS_OID(&it)))
        s = lk_error_set(err, LK_ERR_INVALID,
                         "stored order lacks a ticketId");
    if (s != LK_OK)
        return s;
    lk_oid_format(&id, out->id);
    lk_oid_format(bson_iter_oid(&it), out->ticket_id);
    return expires_at_text(order, out->expires_at,
                                  sizeof out->expires_at, err);
}
