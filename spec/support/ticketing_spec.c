/* SPDX-License-Identifier: MIT */
/* ticketing_spec.c — fixtures, event builders, readers and checks shared by
 * the tickets and orders service specs (see ticketing_spec.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem_store.h"
#include "spec_log.h"
#include "ticketing_spec.h"

void ticketing_spec_new_id(bson_oid_t *id, char hex[25])
{
    bson_oid_t oid;
    bson_oid_init(&oid, NULL);
    lk_oid_format(&oid, hex);
    if (id != NULL)
        bson_oid_copy(&oid, id);
}

/* ---- fixtures ------------------------------------------------------------ */

/* The parts both fixtures hold besides their service. */
static void open_parts(lk_fake_nats *nats, lk_fake_nats **out_nats,
                       lk_store **out_store)
{
    assert_non_null(nats);
    *out_nats = nats;
    *out_store = lk_mem_store_new();
    assert_non_null(*out_store);
}

static void free_parts(lk_msg *msg, lk_fake_nats *nats, lk_store *store)
{
    lk_fake_msg_free(msg);
    lk_fake_nats_free(nats);
    lk_store_free(store);
}

static void init_listener(lk_listener *listener, const lk_listener_def *def,
                          lk_fake_nats *nats, void *svc)
{
    assert_int_equal(
        lk_listener_init(listener, def, lk_fake_nats_bus(nats), svc, NULL),
        LK_OK);
}

static ticketing_spec_tickets *tickets_new(lk_fake_nats *nats)
{
    ticketing_spec_tickets *f = calloc(1, sizeof *f);
    assert_non_null(f);
    open_parts(nats, &f->nats, &f->store);
    assert_int_equal(tickets_service_init(&f->svc, lk_fake_nats_bus(f->nats),
                                          f->store, NULL),
                     LK_OK);
    return f;
}

static ticketing_spec_orders *orders_new(lk_fake_nats *nats)
{
    ticketing_spec_orders *f = calloc(1, sizeof *f);
    assert_non_null(f);
    open_parts(nats, &f->nats, &f->store);
    assert_int_equal(orders_service_init(&f->svc, lk_fake_nats_bus(f->nats),
                                         f->store, NULL),
                     LK_OK);
    return f;
}

ticketing_spec_tickets *ticketing_spec_tickets_new(void)
{
    return tickets_new(lk_fake_nats_new());
}

ticketing_spec_orders *ticketing_spec_orders_new(void)
{
    return orders_new(lk_fake_nats_new());
}

ticketing_spec_tickets *ticketing_spec_tickets_new_broker(void)
{
    return tickets_new(lk_fake_nats_new_broker(NULL));
}

ticketing_spec_orders *ticketing_spec_orders_new_broker(void)
{
    return orders_new(lk_fake_nats_new_broker(NULL));
}

void ticketing_spec_tickets_free(ticketing_spec_tickets *f)
{
    if (f != NULL) {
        tickets_service_close(&f->svc);
        free_parts(f->msg, f->nats, f->store);
    }
    free(f);
}

void ticketing_spec_orders_free(ticketing_spec_orders *f)
{
    if (f != NULL) {
        orders_service_close(&f->svc);
        free_parts(f->msg, f->nats, f->store);
    }
    free(f);
}

int ticketing_spec_tickets_teardown(void **state)
{
    ticketing_spec_tickets_free(*state);
    return 0;
}

int ticketing_spec_orders_teardown(void **state)
{
    ticketing_spec_orders_free(*state);
    return 0;
}

void ticketing_spec_tickets_init_listener(ticketing_spec_tickets *f,
                                          const lk_listener_def *def)
{
    init_listener(&f->listener, def, f->nats, &f->svc);
}

void ticketing_spec_orders_init_listener(ticketing_spec_orders *f,
                                         const lk_listener_def *def)
{
    init_listener(&f->listener, def, f->nats, &f->svc);
}

/* ---- events -------------------------------------------------------------- */

static lk_msg *made(lk_msg *msg)
{
    assert_non_null(msg);
    return msg;
}

lk_msg *ticketing_spec_ticket_created(const char *id, const char *title,
                                      double price)
{
    return made(lk_fake_msg_newf(
        "ticket:created",
        "{\"version\":0,\"id\":\"%s\",\"title\":\"%s\",\"price\":%g,"
        "\"userId\":\"5f1a2b3c4d5e6f7a8b9c0d1e\"}",
        id, title, price));
}

lk_msg *ticketing_spec_ticket_updated(const char *id, int64_t version,
                                      const char *title, double price)
{
    return made(lk_fake_msg_newf(
        "ticket:updated",
        "{\"id\":\"%s\",\"version\":%lld,\"title\":\"%s\",\"price\":%g,"
        "\"userId\":\"ablskdjf\"}",
        id, (long long)version, title, price));
}

lk_msg *ticketing_spec_order_created(const char *id, const char *ticket_id)
{
    return made(lk_fake_msg_newf(
        "order:created",
        "{\"id\":\"%s\",\"version\":0,\"status\":\"created\","
        "\"userId\":\"alskdfj\",\"expiresAt\":\"2030-01-01T00:00:00.000Z\","
        "\"ticket\":{\"id\":\"%s\",\"price\":99}}",
        id, ticket_id));
}

lk_msg *ticketing_spec_order_cancelled(const char *id, const char *ticket_id)
{
    return made(lk_fake_msg_newf(
        "order:cancelled",
        "{\"id\":\"%s\",\"version\":1,\"ticket\":{\"id\":\"%s\"}}", id,
        ticket_id));
}

/* A new message on msg's subject whose data is `data` (taken). */
static lk_msg *msg_of(const lk_msg *msg, json_t *data)
{
    char *text = json_dumps(data, JSON_COMPACT);
    assert_non_null(text);
    lk_msg *edited = made(lk_fake_msg_new(msg->subject, text));
    free(text);
    json_decref(data);
    return edited;
}

static json_t *data_of(const lk_msg *msg)
{
    json_t *data = json_loads(msg->data, 0, NULL);
    assert_true(json_is_object(data));
    return data;
}

lk_msg *ticketing_spec_msg_with(const lk_msg *msg, const char *field,
                                const char *json_fmt, ...)
{
    char json[512];
    va_list ap;
    va_start(ap, json_fmt);
    int n = vsnprintf(json, sizeof json, json_fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof json);
    json_t *value = json_loads(json, JSON_DECODE_ANY, NULL);
    assert_non_null(value);
    json_t *data = data_of(msg);
    assert_int_equal(json_object_set_new(data, field, value), 0);
    return msg_of(msg, data);
}

lk_msg *ticketing_spec_msg_without(const lk_msg *msg, const char *field)
{
    json_t *data = data_of(msg);
    assert_int_equal(json_object_del(data, field), 0);
    return msg_of(msg, data);
}

/* ---- stored records ------------------------------------------------------ */

bson_t *ticketing_spec_stored_ticket(tickets_service *svc,
                                     const bson_oid_t *id)
{
    bson_t *doc = NULL;
    assert_int_equal(tickets_find(svc, id, &doc, NULL), LK_OK);
    return doc;
}

bson_t *ticketing_spec_tickets_stored(ticketing_spec_tickets *f)
{
    return ticketing_spec_stored_ticket(&f->svc, &f->ticket_id);
}

int64_t ticketing_spec_tickets_stored_version(ticketing_spec_tickets *f)
{
    bson_t *doc = ticketing_spec_tickets_stored(f);
    int64_t version = ticketing_spec_version_of(doc);
    bson_destroy(doc);
    return version;
}

void ticketing_spec_reserve(tickets_service *svc, const bson_oid_t *id,
                            const char *order_hex)
{
    bson_t *doc = ticketing_spec_stored_ticket(svc, id);
    bson_t next = BSON_INITIALIZER;
    /* Straight into the store: the spec's own steps publish, not this. */
    bson_copy_to_excluding_noinit(doc, &next, "orderId", NULL);
    if (order_hex != NULL)
        BSON_APPEND_UTF8(&next, "orderId", order_hex);
    assert_int_equal(lk_collection_save(svc->tickets, &next, NULL, NULL),
                     LK_OK);
    bson_destroy(&next);
    bson_destroy(doc);
}

void ticketing_spec_insert_replica(orders_service *svc, const bson_oid_t *id,
                                   const char *title, double price,
                                   int64_t version)
{
    bson_t *doc = BCON_NEW("_id", BCON_OID(id), "title", BCON_UTF8(title),
                           "price", BCON_DOUBLE(price), "version",
                           BCON_INT64(version));
    assert_int_equal(lk_collection_insert(svc->tickets, doc, NULL, NULL),
                     LK_OK);
    bson_destroy(doc);
}

void ticketing_spec_orders_assert_replica(ticketing_spec_orders *f,
                                          const char *title, double price,
                                          int64_t version)
{
    bson_t *doc = NULL;
    assert_int_equal(orders_ticket_find(&f->svc, &f->ticket_id, &doc, NULL),
                     LK_OK);
    assert_string_equal(ticketing_doc_string(doc, "title"), title);
    assert_true(ticketing_doc_number(doc, "price", -1) == price);
    assert_int_equal(ticketing_spec_version_of(doc), version);
    bson_destroy(doc);
}

bson_t *ticketing_spec_stored_order(orders_service *svc, const bson_oid_t *id)
{
    bson_t *doc = NULL;
    assert_int_equal(orders_find(svc, id, &doc, NULL), LK_OK);
    return doc;
}

int64_t ticketing_spec_version_of(const bson_t *doc)
{
    int64_t version = -1;
    assert_int_equal(lk_bson_get_int64(doc, "version", &version, NULL), LK_OK);
    return version;
}

int64_t ticketing_spec_count(lk_collection *coll)
{
    int64_t n = -1;
    assert_int_equal(lk_collection_count(coll, NULL, &n, NULL), LK_OK);
    return n;
}

/* ---- checks -------------------------------------------------------------- */

void ticketing_spec_assert_refused(lk_status s, const lk_error *e,
                                   lk_status want, const char *needle)
{
    assert_int_equal(s, want);
    assert_int_equal(e->status, want);
    if (strstr(e->message, needle) == NULL)
        fail_msg("error \"%s\" does not name \"%s\"", e->message, needle);
}

const json_t *ticketing_spec_only_published(lk_fake_nats *nats,
                                            const char *subject)
{
    assert_int_equal(lk_fake_nats_published_count(nats), 1);
    assert_string_equal(lk_fake_nats_published_subject(nats, 0), subject);
    const json_t *ev = lk_fake_nats_published_json(nats, 0);
    assert_non_null(ev);
    return ev;
}

const json_t *ticketing_spec_assert_relayed(lk_outbox *outbox,
                                            lk_fake_nats *nats,
                                            const char *subject)
{
    int64_t pending = -1;
    size_t sent = 0;
    assert_int_equal(lk_fake_nats_published_count_on(nats, subject), 0);
    assert_int_equal(lk_outbox_pending(outbox, &pending, NULL), LK_OK);
    assert_int_equal(pending, 1);
    assert_int_equal(lk_outbox_relay(outbox, &sent, NULL), LK_OK);
    assert_int_equal(sent, 1);
    assert_int_equal(lk_fake_nats_published_count_on(nats, subject), 1);
    long i = lk_fake_nats_find_published(nats, subject, 0);
    const json_t *ev = lk_fake_nats_published_json(nats, (size_t)i);
    assert_non_null(ev);
    return ev;
}

void ticketing_spec_assert_not_acked(lk_listener *listener, lk_msg *msg,
                                     lk_status want, const char *logged)
{
    assert_int_equal(lk_listener_dispatch(listener, msg), want);
    assert_int_equal(lk_fake_msg_ack_count(msg), 0);
    assert_int_equal(lk_fake_msg_term_count(msg), 0);
    if (logged != NULL && !spec_log_contains(logged))
        fail_msg("log does not name \"%s\":\n%s", logged, spec_log_captured());
}

void ticketing_spec_assert_listen_opts(lk_fake_nats *nats, int64_t ack_wait_ms,
                                       int max_deliver)
{
    const lk_listener_def def = {.ack_wait_ms = ack_wait_ms,
                                 .max_deliver = max_deliver};
    const lk_subscribe_opts want = lk_listener_subscribe_opts(&def);
    size_t n = lk_fake_nats_subscription_count(nats);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        const lk_fake_subscription_info *sub = lk_fake_nats_subscription(nats, i);
        assert_int_equal(sub->ack_wait_ms, want.ack_wait_ms);
        assert_int_equal(sub->max_deliver, want.max_deliver);
    }
}

void ticketing_spec_assert_termed(lk_listener *listener, lk_msg *msg,
                                  const char *reason)
{
    char terminated[128];
    assert_non_null(msg);
    snprintf(terminated, sizeof terminated, "listener %s: terminated %s",
             listener->def->queue_group, msg->subject);
    (void)lk_listener_dispatch(listener, msg);
    assert_int_equal(lk_fake_msg_term_count(msg), 1);
    assert_int_equal(lk_fake_msg_ack_count(msg), 0);
    if (!spec_log_contains(terminated))
        fail_msg("log does not say \"%s\":\n%s", terminated,
                 spec_log_captured());
    if (!spec_log_contains(reason))
        fail_msg("log does not name \"%s\":\n%s", reason, spec_log_captured());
    lk_fake_msg_free(msg);
}

void ticketing_spec_assert_group_subscriptions(lk_fake_nats *nats,
                                               size_t count,
                                               const char *queue)
{
    assert_int_equal(lk_fake_nats_subscription_count(nats), count);
    for (size_t i = 0; i < count; i++) {
        const lk_fake_subscription_info *sub =
            lk_fake_nats_subscription(nats, i);
        assert_non_null(sub);
        assert_string_equal(sub->queue_group, queue);
        assert_true(sub->deliver_all);
        assert_true(sub->ack_wait_ms > 0);
        assert_false(lk_fake_nats_has_subscription(nats, sub->subject, NULL));
    }
}
