/* SPDX-License-Identifier: MIT */
/*
 * routes.c — the tickets service's HTTP routes (the course's):
 *
 *   POST /api/tickets       {title, price}  201 the ticket   (signed in)
 *   GET  /api/tickets                       200 [tickets not reserved]
 *   GET  /api/tickets/:id                   200 the ticket, 404
 *   PUT  /api/tickets/:id   {title, price}  200 the ticket   (signed in;
 *                           404 unknown, 401 not the owner, 400 reserved)
 *
 * A ticket goes out as its event does: {id, title, price, userId, version,
 * orderId?}. Validation answers 400 with every problem found, each naming
 * its field, as express-validator does.
 */
#include "tickets/tickets.h"

#include <stdio.h>
#include <string.h>

#include "http/http.h"

/* At most this many tickets in one GET /api/tickets. */
#define TICKETS_LIST_MAX 1000

/* Reads and checks {title, price}; false after answering 400. */
static bool read_ticket(const json_t *body, const char **title,
                        double *price, ticketing_http_response *res)
{
    const json_t *t = json_object_get(body, "title");
    const json_t *p = json_object_get(body, "price");
    char msg[96];
    *title = json_string_value(t);
    *price = json_is_number(p) ? json_number_value(p) : 0;
    if (*title == NULL || (*title)[strspn(*title, " \t\r\n")] == '\0')
        ticketing_http_add_error(res, 400, "Title is required", "title");
    else if (strlen(*title) > TICKETING_TITLE_MAX) {
        snprintf(msg, sizeof msg, "Title must be at most %d bytes",
                 TICKETING_TITLE_MAX);
        ticketing_http_add_error(res, 400, msg, "title");
    }
    if (!json_is_number(p) || !(*price > 0))
        ticketing_http_add_error(res, 400, "Price must be greater than 0",
                                 "price");
    else if (*price > TICKETING_PRICE_MAX) {
        snprintf(msg, sizeof msg, "Price must be at most %d",
                 TICKETING_PRICE_MAX);
        ticketing_http_add_error(res, 400, msg, "price");
    }
    return res->status == 0;
}

/* Answers `status` with the stored ticket `id`. */
static void respond_ticket(tickets_service *svc, const bson_oid_t *id,
                           int status, ticketing_http_response *res)
{
    bson_t *doc = NULL;
    json_t *out = NULL;
    lk_error e;
    lk_status s = tickets_find(svc, id, &doc, &e);
    if (s != LK_OK)
        ticketing_http_from_status(res, s, &e);
    else if (tickets_event_from_doc(doc, &out, &e) == LK_OK)
        ticketing_http_json(res, status, out);
    else
        ticketing_http_server_error(res, &e);
    if (doc != NULL)
        bson_destroy(doc);
}

/* The :id parameter as an ObjectId; false after answering 404 (an id that
 * is no ObjectId names no ticket). */
static bool param_id(const ticketing_http_request *req, bson_oid_t *id,
                     ticketing_http_response *res)
{
    if (lk_oid_parse(req->param, id, NULL) == LK_OK)
        return true;
    ticketing_http_error(res, 404, "Not Found", NULL);
    return false;
}

/* POST (id NULL: create) and PUT (update ticket *id) share the body rules
 * and answer with the ticket as stored. */
static void save_ticket(tickets_service *svc,
                        const ticketing_http_request *req,
                        const bson_oid_t *id, ticketing_http_response *res)
{
    const char *title = NULL;
    double price = 0;
    bson_oid_t created;
    lk_error e;
    json_t *body = ticketing_http_body_object(req, res);
    if (body == NULL || !read_ticket(body, &title, &price, res)) {
        json_decref(body);
        return;
    }
    lk_status s = id == NULL
                      ? tickets_create(svc, title, price, req->user->id,
                                       &created, &e)
                      : tickets_update(svc, id, req->user->id, title, price,
                                       &e);
    if (s == LK_OK)
        respond_ticket(svc, id == NULL ? &created : id, id == NULL ? 201 : 200,
                       res);
    else
        ticketing_http_from_status(res, s, &e);
    json_decref(body);
}

static void create_ticket(void *svc, const ticketing_http_request *req,
                          ticketing_http_response *res)
{
    save_ticket(svc, req, NULL, res);
}

static lk_status ticket_json(void *ctx, const bson_t *doc, json_t **out,
                             lk_error *err)
{
    (void)ctx;
    return tickets_event_from_doc(doc, out, err);
}

static void list_tickets(void *svc_, const ticketing_http_request *req,
                         ticketing_http_response *res)
{
    tickets_service *svc = svc_;
    (void)req;
    /* As the course's index route: the tickets one can still order. */
    bson_t *filter = BCON_NEW("orderId", "{", "$exists", BCON_BOOL(false), "}");
    ticketing_http_list(res, svc->tickets, filter, TICKETS_LIST_MAX,
                        ticket_json, NULL);
    bson_destroy(filter);
}

static void show_ticket(void *svc, const ticketing_http_request *req,
                        ticketing_http_response *res)
{
    bson_oid_t id;
    if (param_id(req, &id, res))
        respond_ticket(svc, &id, 200, res);
}

static void update_ticket(void *svc, const ticketing_http_request *req,
                          ticketing_http_response *res)
{
    bson_oid_t id;
    if (param_id(req, &id, res))
        save_ticket(svc, req, &id, res);
}

const ticketing_http_route tickets_routes[] = {
    {"POST", "/api/tickets", create_ticket, true},
    {"GET", "/api/tickets", list_tickets, false},
    {"GET", "/api/tickets/:id", show_ticket, false},
    {"PUT", "/api/tickets/:id", update_ticket, true},
    {NULL, NULL, NULL, false},
};
