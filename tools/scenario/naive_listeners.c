/* SPDX-License-Identifier: MIT */
/*
 * naive_listeners.c — the orders service's listeners as the course first
 * wrote them, before versions: find the replica by id, set title and price,
 * save, ack. Nothing checks that an update is the next one, so when two
 * updates of one ticket are processed out of order (price 15, then 10) the
 * older one is saved last and wins: a lost update, made by the store, not
 * simulated.
 *
 * The replica collection is update-if-current: the store increments the
 * version on every save, so a save never fails for the event's version (the
 * naive code does not know about it) and the replica's version counts the
 * saves it took. A duplicate delivery of an update is applied twice and shows
 * as a version ahead of the tickets service.
 */
#include <string.h>

#include "common/ticketing.h"
#include "scenario/scenario_internal.h"

/* ticket:created — build the replica with the event's id, save, ack. */
static lk_status naive_on_created(lk_listener *l, const json_t *data,
                                  lk_msg *msg)
{
    scenario_naive_replica *replica = l->ctx;
    lk_error e;
    bson_oid_t id;
    if (ticketing_event_oid(data, "id", &id, &e) != LK_OK)
        return lk_listener_term(l, msg, &e);

    bson_t doc = BSON_INITIALIZER;
    const char *title = lk_event_string(data, "title");
    lk_status s = LK_OK;
    if (!BSON_APPEND_OID(&doc, "_id", &id) ||
        !BSON_APPEND_UTF8(&doc, "title", title) ||
        !BSON_APPEND_DOUBLE(&doc, "price", lk_event_number(data, "price")))
        s = LK_ERR_NOMEM;
    /* A duplicate delivery fails here on the taken _id and stays un-acked,
     * as the course's save() threw: it comes back until max deliver. */
    if (s == LK_OK)
        s = lk_collection_insert(replica->tickets, &doc, NULL, &e);
    bson_destroy(&doc);
    if (s == LK_OK)
        s = lk_msg_ack(msg);
    return s;
}

/* ticket:updated — find by id only (no version), set, save, ack. */
static lk_status naive_on_updated(lk_listener *l, const json_t *data,
                                  lk_msg *msg)
{
    scenario_naive_replica *replica = l->ctx;
    lk_error e;
    bson_oid_t id;
    if (ticketing_event_oid(data, "id", &id, &e) != LK_OK)
        return lk_listener_term(l, msg, &e);

    bson_t *found = NULL;
    /* Not there yet (the update overtook the create): no ack, it comes
     * again after the ack wait, as the course's "Ticket not found" did. */
    lk_status s = lk_collection_find_by_id(replica->tickets, &id, &found, &e);

    bson_t doc = BSON_INITIALIZER;
    if (s == LK_OK) {
        bson_copy_to_excluding_noinit(found, &doc, "title", "price", NULL);
        if (!BSON_APPEND_UTF8(&doc, "title", lk_event_string(data, "title")) ||
            !BSON_APPEND_DOUBLE(&doc, "price",
                                lk_event_number(data, "price")))
            s = LK_ERR_NOMEM;
    }
    if (s == LK_OK)
        s = lk_collection_save(replica->tickets, &doc, NULL, &e);
    bson_destroy(&doc);
    bson_destroy(found);
    if (s == LK_OK)
        s = lk_msg_ack(msg);
    return s;
}

lk_status scenario_naive_replica_init(scenario_naive_replica *replica,
                                      lk_bus *bus, lk_store *store,
                                      int64_t ack_wait_ms, lk_error *err)
{
    if (replica == NULL || bus == NULL || store == NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "naive replica: replica, bus and store are "
                            "required");
    memset(replica, 0, sizeof *replica);
    replica->bus = bus;
    replica->defs[0] = (lk_listener_def){
        .schema = &ticketing_ticket_created,
        .queue_group = TICKETING_ORDERS_QUEUE,
        .on_message = naive_on_created,
        .ack_wait_ms = ack_wait_ms,
        .max_deliver = SCENARIO_NAIVE_MAX_DELIVER,
    };
    replica->defs[1] = replica->defs[0];
    replica->defs[1].schema = &ticketing_ticket_updated;
    replica->defs[1].on_message = naive_on_updated;

    const lk_collection_opts copts = {.occ = LK_OCC_UPDATE_IF_CURRENT};
    lk_status s = lk_store_collection(store, SCENARIO_NAIVE_COLLECTION, &copts,
                                      &replica->tickets, err);
    for (size_t i = 0; s == LK_OK && i < 2; i++)
        s = lk_listener_init(&replica->listeners[i], &replica->defs[i], bus,
                             replica, err);
    if (s != LK_OK)
        lk_error_prefix(err, "naive replica");
    return s;
}

lk_status scenario_naive_replica_listen(scenario_naive_replica *replica,
                                        lk_error *err)
{
    lk_status s = LK_OK;
    for (size_t i = 0; s == LK_OK && i < 2; i++)
        s = lk_listener_listen(&replica->listeners[i], err);
    return s;
}
