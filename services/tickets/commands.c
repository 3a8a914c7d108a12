/* SPDX-License-Identifier: MIT */
/* commands.c — what the tickets service's routes do: create and update. */
#include "tickets/tickets.h"

#include <string.h>

lk_status tickets_create(tickets_service *svc, const char *title,
                         double price, const char *user_id,
                         bson_oid_t *out_id, lk_error *err)
{
    bson_t doc = BSON_INITIALIZER;
    bson_t *stored = NULL;

    lk_status s = tickets_validate(title, price, user_id, err);
    if (s == LK_OK) {
        BSON_APPEND_UTF8(&doc, "title", title);
        BSON_APPEND_DOUBLE(&doc, "price", price);
        BSON_APPEND_UTF8(&doc, "userId", user_id);
        /* The store gives the ticket version 0: the event says so. */
        s = tickets_commit(svc, &doc, true, &stored, err);
    }
    if (s == LK_OK && out_id != NULL)
        s = lk_bson_get_oid(stored, out_id, err);
    if (stored != NULL)
        bson_destroy(stored);
    bson_destroy(&doc);
    return s;
}

/* The course's update route, after validation: only the owner, and never a
 * reserved ticket (its price is promised to the order). */
static lk_status check_editable(const bson_t *ticket, const char *hex,
                                const char *user_id, lk_error *err)
{
    const char *owner = ticketing_doc_string(ticket, "userId");
    const char *order_id = ticketing_doc_string(ticket, "orderId");
    if (owner == NULL || strcmp(owner, user_id) != 0)
        return lk_error_set(err, LK_ERR_FORBIDDEN,
                            "cannot edit ticket %s: not the owner", hex);
    if (order_id != NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "cannot edit ticket %s: ticket is reserved "
                            "(order %s)",
                            hex, order_id);
    return LK_OK;
}

lk_status tickets_update(tickets_service *svc, const bson_oid_t *id,
                         const char *user_id, const char *title, double price,
                         lk_error *err)
{
    bson_t *ticket = NULL, *stored = NULL;
    bson_t next = BSON_INITIALIZER;
    char hex[25] = "";

    lk_status s = tickets_validate(title, price, user_id, err);
    if (s == LK_OK)
        s = tickets_find(svc, id, &ticket, err);
    if (s == LK_OK) {
        lk_oid_format(id, hex);
        s = check_editable(ticket, hex, user_id, err);
    }
    if (s == LK_OK) {
        bson_copy_to_excluding_noinit(ticket, &next, "title", "price", NULL);
        BSON_APPEND_UTF8(&next, "title", title);
        BSON_APPEND_DOUBLE(&next, "price", price);
        s = tickets_commit(svc, &next, false, &stored, err);
    }
    if (ticket != NULL)
        bson_destroy(ticket);
    if (stored != NULL)
        bson_destroy(stored);
    bson_destroy(&next);
    return s;
}
