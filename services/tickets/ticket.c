/* SPDX-License-Identifier: MIT */
/* ticket.c — the ticket document: validation, lookup, its event, the
 * reservation field (see tickets/tickets.h). */
#include "tickets/tickets.h"

#include <math.h>
#include <string.h>

lk_status tickets_validate(const char *title, double price,
                           const char *user_id, lk_error *err)
{
    lk_status s =
        ticketing_check_text("title", title, TICKETING_TITLE_MAX, err);
    if (s == LK_OK && !(isfinite(price) && price > 0))
        s = lk_error_set(err, LK_ERR_INVALID,
                         "price must be greater than 0, got %g", price);
    if (s == LK_OK && price > TICKETING_PRICE_MAX)
        s = lk_error_set(err, LK_ERR_INVALID,
                         "price must be at most %d, got %g",
                         TICKETING_PRICE_MAX, price);
    if (s == LK_OK)
        s = ticketing_check_text("user id", user_id, TICKETING_USER_ID_MAX,
                                 err);
    return s;
}

lk_status tickets_find(tickets_service *svc, const bson_oid_t *id,
                       bson_t **out, lk_error *err)
{
    return ticketing_find_ticket(svc->tickets, id, out, err);
}

lk_status tickets_event_from_doc(const bson_t *ticket, json_t **out,
                                 lk_error *err)
{
    bson_oid_t oid;
    char hex[25];
    int64_t version = 0;
    const char *title = ticketing_doc_string(ticket, "title");
    const char *user_id = ticketing_doc_string(ticket, "userId");
    const char *order_id = ticketing_doc_string(ticket, "orderId");
    double price = ticketing_doc_number(ticket, "price", NAN);

    *out = NULL;
    const char *missing =
        lk_bson_get_oid(ticket, &oid, NULL) != LK_OK ? "_id"
        : lk_bson_get_int64(ticket, LK_DEFAULT_VERSION_KEY, &version, NULL) !=
                LK_OK
            ? "version"
        : title == NULL   ? "title"
        : user_id == NULL ? "userId"
        : isnan(price)    ? "price"
                          : NULL;
    if (missing != NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "stored ticket lacks a valid %s", missing);

    lk_oid_format(&oid, hex);
    *out = json_pack("{s:s, s:I, s:s, s:f, s:s}", "id", hex, "version",
                     (json_int_t)version, "title", title, "price", price,
                     "userId", user_id);
    /* orderId is left out while the ticket is not reserved. Not with
     * json_pack's "s*": it also leaves the member out when the string
     * cannot be allocated, and a reserved ticket would go out as free. */
    if (*out != NULL && order_id != NULL &&
        json_object_set_new(*out, "orderId", json_string(order_id)) != 0) {
        json_decref(*out);
        *out = NULL;
    }
    return *out != NULL ? LK_OK
                        : lk_error_set(err, LK_ERR_NOMEM,
                                       "ticket %s: building its event", hex);
}

/* An lk_outbox_event_fn: the event of the ticket as it will be stored. */
static lk_status ticket_event(const bson_t *doc, void *ctx, json_t **event,
                              lk_error *err)
{
    (void)ctx;
    return tickets_event_from_doc(doc, event, err);
}

lk_status tickets_commit(tickets_service *svc, const bson_t *ticket,
                         bool insert, bson_t **out, lk_error *err)
{
    const lk_outbox_event ev = {insert ? &ticketing_ticket_created
                                       : &ticketing_ticket_updated,
                                ticket_event, NULL};
    return insert ? lk_outbox_insert(svc->outbox, svc->tickets, ticket, &ev,
                                     out, err)
                  : lk_outbox_save(svc->outbox, svc->tickets, ticket, &ev,
                                   out, err);
}

bool tickets_released(const bson_t *ticket, const char *order_hex)
{
    bson_iter_t it, item;
    const char *legacy = ticketing_doc_string(ticket, "releasedOrderId");
    if (order_hex == NULL)
        return false;
    if (legacy != NULL && strcmp(legacy, order_hex) == 0)
        return true; /* saved before the list existed */
    if (ticket == NULL || !bson_iter_init_find(&it, ticket, TICKETS_RELEASED) ||
        !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &item))
        return false;
    while (bson_iter_next(&item))
        if (BSON_ITER_HOLDS_UTF8(&item) &&
            strcmp(bson_iter_utf8(&item, NULL), order_hex) == 0)
            return true;
    return false;
}

/* Appends to `next` the ticket's released orders with `held` last, the
 * oldest dropped beyond TICKETS_RELEASED_MAX. */
static void append_released(bson_t *next, const bson_t *ticket,
                            const char *held)
{
    bson_iter_t it, item;
    const char *kept[TICKETS_RELEASED_MAX];
    size_t n = 0;
    const char *legacy = ticketing_doc_string(ticket, "releasedOrderId");
    if (legacy != NULL)
        kept[n++] = legacy;
    if (bson_iter_init_find(&it, ticket, TICKETS_RELEASED) &&
        BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &item))
        while (bson_iter_next(&item)) {
            if (!BSON_ITER_HOLDS_UTF8(&item))
                continue;
            if (n == TICKETS_RELEASED_MAX - 1) { /* room for `held` */
                memmove(kept, kept + 1, (n - 1) * sizeof *kept);
                n--;
            }
            kept[n++] = bson_iter_utf8(&item, NULL);
        }
    bson_t list;
    char key[16];
    const char *k;
    bson_append_array_begin(next, TICKETS_RELEASED, -1, &list);
    for (size_t i = 0; i <= n; i++) {
        bson_uint32_to_string((uint32_t)i, &k, key, sizeof key);
        bson_append_utf8(&list, k, -1, i < n ? kept[i] : held, -1);
    }
    bson_append_array_end(next, &list);
}

lk_status tickets_save_order_id(tickets_service *svc, const bson_t *ticket,
                                const char *order_id, bson_t **out,
                                lk_error *err)
{
    bson_oid_t parsed;
    bson_t next = BSON_INITIALIZER;

    if (out != NULL)
        *out = NULL;
    lk_status s = order_id != NULL ? lk_oid_parse(order_id, &parsed, err)
                                   : LK_OK;
    if (s != LK_OK) {
        lk_error_prefix(err, "orderId");
        return s;
    }
    const char *held = ticketing_doc_string(ticket, "orderId");
    bool release = order_id == NULL && held != NULL;
    if (release)
        bson_copy_to_excluding_noinit(ticket, &next, "orderId",
                                      "releasedOrderId", TICKETS_RELEASED,
                                      NULL);
    else
        bson_copy_to_excluding_noinit(ticket, &next, "orderId", NULL);
    if (order_id != NULL)
        BSON_APPEND_UTF8(&next, "orderId", order_id);
    if (release) /* remembered: its late or repeated events are told apart */
        append_released(&next, ticket, held);
    s = tickets_commit(svc, &next, false, out, err);
    bson_destroy(&next);
    return s;
}
