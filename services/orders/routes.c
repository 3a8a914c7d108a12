/* SPDX-License-Identifier: MIT */
/*
 * routes.c — the orders service's HTTP routes (the course's), all for a
 * signed-in user and only over their own orders:
 *
 *   POST   /api/orders      {ticketId}  201 the order (404 unknown ticket,
 *                                       400 reserved ticket)
 *   GET    /api/orders                  200 [the user's orders]
 *   GET    /api/orders/:id              200 the order (404; 401 not theirs)
 *   DELETE /api/orders/:id              204, status cancelled,
 *                                       order:cancelled published (404; 401)
 *
 * An order goes out as the course's toJSON made it: {id, userId, status,
 * expiresAt (ISO-8601 UTC), version, ticket: {id, title, price, version}}.
 */
#include "orders/orders.h"

#include <string.h>
#include <time.h>

#include "http/http.h"

/* At most this many orders in one GET /api/orders. */
#define ORDERS_LIST_MAX 1000

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The replica as the order shows it; JSON null when it is gone. */
static json_t *ticket_json(orders_service *svc, const bson_t *order)
{
    bson_iter_t it;
    bson_t *ticket = NULL;
    int64_t version = 0;
    char hex[25];
    json_t *out = NULL;
    if (bson_iter_init_find(&it, order, "ticketId") &&
        BSON_ITER_HOLDS_OID(&it) &&
        orders_ticket_find(svc, bson_iter_oid(&it), &ticket, NULL) == LK_OK &&
        lk_bson_get_int64(ticket, LK_DEFAULT_VERSION_KEY, &version, NULL) ==
            LK_OK) {
        lk_oid_format(bson_iter_oid(&it), hex);
        out = json_pack("{s:s, s:s?, s:f, s:I}", "id", hex, "title",
                        ticketing_doc_string(ticket, "title"), "price",
                        ticketing_doc_number(ticket, "price", 0), "version",
                        (json_int_t)version);
    }
    if (ticket != NULL)
        bson_destroy(ticket);
    return out != NULL ? out : json_null();
}

/* A ticketing_http_to_json_fn: `svc` is the orders_service. */
static lk_status order_json(void *svc, const bson_t *order, json_t **out,
                            lk_error *err)
{
    orders_head head;
    *out = NULL;
    lk_status s = orders_read_head(order, &head, err);
    if (s != LK_OK)
        return s;
    *out = json_pack("{s:s, s:s?, s:s?, s:s, s:I, s:o}", "id", head.id,
                     "userId", ticketing_doc_string(order, "userId"), "status",
                     ticketing_doc_string(order, "status"), "expiresAt",
                     head.expires_at, "version", (json_int_t)head.version, "ticket",
                     ticket_json(svc, order));
    return *out != NULL ? LK_OK
                        : lk_error_set(err, LK_ERR_NOMEM, "order %s", head.id);
}

/* The order of :id, when it is the user's; NULL after answering 404/401. */
static bson_t *own_order(orders_service *svc,
                         const ticketing_http_request *req,
                         ticketing_http_response *res)
{
    bson_oid_t id;
    bson_t *order = NULL;
    lk_error e;
    if (lk_oid_parse(req->param, &id, NULL) != LK_OK) {
        ticketing_http_error(res, 404, "Not Found", NULL);
        return NULL;
    }
    lk_status s = orders_find(svc, &id, &order, &e);
    if (s != LK_OK) {
        ticketing_http_from_status(res, s, &e);
        return NULL;
    }
    const char *owner = ticketing_doc_string(order, "userId");
    if (owner == NULL || strcmp(owner, req->user->id) != 0) {
        bson_destroy(order);
        ticketing_http_error(res, 401, "Not authorized", NULL);
        return NULL;
    }
    return order;
}

static void respond_order(orders_service *svc, const bson_t *order,
                          int status, ticketing_http_response *res)
{
    json_t *out = NULL;
    lk_error e;
    if (order_json(svc, order, &out, &e) == LK_OK)
        ticketing_http_json(res, status, out);
    else
        ticketing_http_server_error(res, &e);
}

static void create_order(void *svc_, const ticketing_http_request *req,
                         ticketing_http_response *res)
{
    orders_service *svc = svc_;
    bson_oid_t ticket_id, order_id;
    bson_t *order = NULL;
    lk_error e;
    json_t *body = ticketing_http_body_object(req, res);
    if (body == NULL)
        return;
    const char *hex = json_string_value(json_object_get(body, "ticketId"));
    if (hex == NULL || lk_oid_parse(hex, &ticket_id, NULL) != LK_OK) {
        ticketing_http_error(res, 400, "TicketId must be provided",
                             "ticketId");
        json_decref(body);
        return;
    }
    json_decref(body);
    lk_status s = orders_create(svc, req->user->id, &ticket_id,
                                now_ms() + svc->expiration_ms, &order_id, &e);
    if (s == LK_OK)
        s = orders_find(svc, &order_id, &order, &e);
    if (s == LK_OK)
        respond_order(svc, order, 201, res);
    else
        ticketing_http_from_status(res, s, &e);
    if (order != NULL)
        bson_destroy(order);
}

static void list_orders(void *svc_, const ticketing_http_request *req,
                        ticketing_http_response *res)
{
    orders_service *svc = svc_;
    bson_t *filter = BCON_NEW("userId", BCON_UTF8(req->user->id));
    ticketing_http_list(res, svc->orders, filter, ORDERS_LIST_MAX, order_json,
                        svc);
    bson_destroy(filter);
}

static void show_order(void *svc, const ticketing_http_request *req,
                       ticketing_http_response *res)
{
    bson_t *order = own_order(svc, req, res);
    if (order == NULL)
        return;
    respond_order(svc, order, 200, res);
    bson_destroy(order);
}

static void cancel_order(void *svc, const ticketing_http_request *req,
                         ticketing_http_response *res)
{
    bson_oid_t id;
    lk_error e;
    bson_t *order = own_order(svc, req, res);
    if (order == NULL)
        return;
    lk_status s = lk_bson_get_oid(order, &id, &e);
    if (s == LK_OK)
        s = orders_cancel(svc, &id, &e);
    if (s == LK_OK)
        ticketing_http_json(res, 204, NULL);
    else
        ticketing_http_from_status(res, s, &e);
    bson_destroy(order);
}

const ticketing_http_route orders_routes[] = {
    {"POST", "/api/orders", create_order, true},
    {"GET", "/api/orders", list_orders, true},
    {"GET", "/api/orders/:id", show_order, true},
    {"DELETE", "/api/orders/:id", cancel_order, true},
    {NULL, NULL, NULL, false},
};
