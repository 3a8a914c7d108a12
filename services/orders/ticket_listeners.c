/* SPDX-License-Identifier: MIT */
/*
 * ticket_listeners.c — how the orders service keeps its ticket replica in
 * step with the tickets service (the rules are in orders/orders.h).
 *
 * The course's listeners had two holes this closes: a redelivered
 * ticket:created failed forever on the taken _id, and a redelivered
 * ticket:updated whose version the replica already had was never acked.
 * Both cycled until max deliver. Here an event is acked as soon as the
 * replica holds its version or a later one; it stays un-acked only while its
 * turn has not come (LK_ERR_RETRY, logged at debug: normal under reordering).
 */
#include "orders/orders.h"

static void log_outcome(const lk_msg *msg, lk_status s, const lk_error *e)
{
    lk_log(s == LK_ERR_RETRY || s == LK_OK ? LK_LOG_DEBUG : LK_LOG_WARN,
           "orders: %s seq %llu (delivery %llu): %s", msg->subject,
           (unsigned long long)msg->stream_seq,
           (unsigned long long)msg->delivery_count, e->message);
}

/* The reply once the outcome is known: ack on success; otherwise leave the
 * message for redelivery and say why. */
static lk_status finish(lk_msg *msg, lk_status s, const lk_error *e)
{
    if (s == LK_OK)
        return lk_msg_ack(msg);
    log_outcome(msg, s, e);
    return s;
}

static lk_status on_ticket_created(lk_listener *listener, const json_t *data,
                                   lk_msg *msg)
{
    orders_service *svc = listener->ctx;
    bson_oid_t id;
    bson_t doc = BSON_INITIALIZER;
    lk_error e;

    lk_error_clear(&e);
    if (ticketing_event_oid(data, "id", &id, &e) != LK_OK)
        return lk_listener_term(listener, msg, &e);

    /* Same _id as in the tickets service, and the event's version. */
    BSON_APPEND_OID(&doc, "_id", &id);
    BSON_APPEND_UTF8(&doc, "title", lk_event_string(data, "title"));
    BSON_APPEND_DOUBLE(&doc, "price", lk_event_number(data, "price"));
    BSON_APPEND_INT64(&doc, LK_DEFAULT_VERSION_KEY,
                      lk_event_int(data, "version"));
    lk_status s = lk_collection_insert(svc->tickets, &doc, NULL, &e);
    bson_destroy(&doc);
    if (s == LK_ERR_DUPLICATE) {
        /* A redelivery: the replica exists (maybe already updated past this
         * event), so there is nothing left to do. */
        log_outcome(msg, LK_OK, &e);
        s = LK_OK;
    }
    return finish(msg, s, &e);
}

/* No replica at version - 1: tells a duplicate or stale event (LK_OK: ack
 * it, nothing to do) from one whose turn has not come (LK_ERR_RETRY). */
static lk_status classify_missed(orders_service *svc, const bson_oid_t *id,
                                 const char *hex, int64_t version,
                                 lk_error *err)
{
    bson_t *replica = NULL;
    int64_t held = 0;
    lk_status s = orders_ticket_find(svc, id, &replica, err);
    if (s == LK_ERR_NOT_FOUND)
        return lk_error_set(err, LK_ERR_RETRY,
                            "ticket %s version %lld: no replica yet (its "
                            "ticket:created has not been processed)",
                            hex, (long long)version);
    if (s == LK_OK)
        s = lk_bson_get_int64(replica, LK_DEFAULT_VERSION_KEY, &held, err);
    bson_destroy(replica);
    if (s != LK_OK)
        return s;
    if (held >= version) {
        lk_error_set(err, LK_OK,
                     "ticket %s version %lld: replica already at version "
                     "%lld, duplicate acked",
                     hex, (long long)version, (long long)held);
        return LK_OK;
    }
    return lk_error_set(err, LK_ERR_RETRY,
                        "ticket %s version %lld: replica at version %lld, "
                        "waiting for version %lld first",
                        hex, (long long)version, (long long)held,
                        (long long)held + 1);
}

static lk_status on_ticket_updated(lk_listener *listener, const json_t *data,
                                   lk_msg *msg)
{
    orders_service *svc = listener->ctx;
    const char *hex = lk_event_string(data, "id");
    int64_t version = lk_event_int(data, "version");
    bson_oid_t id;
    bson_t *replica = NULL;
    bson_t next = BSON_INITIALIZER;
    lk_error e;

    lk_error_clear(&e);
    if (ticketing_event_oid(data, "id", &id, &e) != LK_OK)
        return lk_listener_term(listener, msg, &e);

    lk_status s = orders_ticket_find_by_event(svc->tickets, hex, version,
                                              &replica, &e);
    if (s == LK_OK) {
        bson_copy_to_excluding_noinit(replica, &next, "title", "price",
                                      LK_DEFAULT_VERSION_KEY, NULL);
        BSON_APPEND_UTF8(&next, "title", lk_event_string(data, "title"));
        BSON_APPEND_DOUBLE(&next, "price", lk_event_number(data, "price"));
        BSON_APPEND_INT64(&next, LK_DEFAULT_VERSION_KEY, version);
        /* LK_ERR_VERSION: another replica of this service applied the event
         * in between; the redelivery will find it done and ack. */
        s = lk_collection_save(svc->tickets, &next, NULL, &e);
    } else if (s == LK_ERR_NOT_FOUND) {
        s = classify_missed(svc, &id, hex, version, &e);
        if (s == LK_OK)
            log_outcome(msg, s, &e); /* the duplicate note */
    }
    bson_destroy(replica);
    bson_destroy(&next);
    return finish(msg, s, &e);
}

const lk_listener_def orders_ticket_created_listener = {
    .schema = &ticketing_ticket_created,
    .queue_group = TICKETING_ORDERS_QUEUE,
    .on_message = on_ticket_created,
};

const lk_listener_def orders_ticket_updated_listener = {
    .schema = &ticketing_ticket_updated,
    .queue_group = TICKETING_ORDERS_QUEUE,
    .on_message = on_ticket_updated,
};
