/* ticket_created_listener_spec.c — the orders service builds its replica of
 * a ticket when it is created (course: ticket-created-listener.test.ts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "fake_msg.h"
#include "fake_nats.h"
#include "mem_store.h"
#include "orders/orders.h"
#include "spec_log.h"

typedef struct fixture {
    lk_store *store;
    lk_fake_nats *nats;
    orders_service svc;
    lk_listener listener;
    bson_oid_t id;
    char hex[25];
    lk_msg *msg;
} fixture;

static lk_msg *ticket_created_msg(const char *hex, const char *title,
                                  double price)
{
    return lk_fake_msg_newf("ticket:created",
                            "{\"version\":0,\"id\":\"%s\",\"title\":\"%s\","
                            "\"price\":%g,\"userId\":\"5f1a2b3c4d5e6f7a8b9c0d1e\"}",
                            hex, title, price);
}

/* The course's setup(): a listener, a fake data event, a fake message. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->store = lk_mem_store_new();
    f->nats = lk_fake_nats_new();
    assert_int_equal(orders_service_init(&f->svc, lk_fake_nats_bus(f->nats),
                                         f->store, NULL),
                     LK_OK);
    assert_int_equal(lk_listener_init(&f->listener,
                                      &orders_ticket_created_listener,
                                      lk_fake_nats_bus(f->nats), &f->svc, NULL),
                     LK_OK);
    bson_oid_init(&f->id, NULL);
    lk_oid_format(&f->id, f->hex);
    f->msg = ticket_created_msg(f->hex, "concert", 10);
    assert_non_null(f->msg);
    spec_log_capture_start();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    spec_log_capture_stop();
    lk_fake_msg_free(f->msg);
    lk_fake_nats_free(f->nats);
    lk_store_free(f->store);
    free(f);
    return 0;
}

static int64_t replica_count(fixture *f)
{
    int64_t n = -1;
    assert_int_equal(lk_collection_count(f->svc.tickets, NULL, &n, NULL),
                     LK_OK);
    return n;
}

static void assert_replica(fixture *f, const char *title, double price,
                           int64_t version)
{
    bson_t *doc = NULL;
    int64_t stored = -1;
    assert_int_equal(orders_ticket_find(&f->svc, &f->id, &doc, NULL), LK_OK);
    assert_string_equal(ticketing_doc_string(doc, "title"), title);
    assert_true(ticketing_doc_number(doc, "price", -1) == price);
    assert_int_equal(lk_bson_get_int64(doc, "version", &stored, NULL), LK_OK);
    assert_int_equal(stored, version);
    bson_destroy(doc);
}

static void test_created_listener_creates_and_saves_a_ticket(void **state)
{
    fixture *f = *state;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    /* Same _id as in the tickets service (the course's "ID adjustment"). */
    assert_replica(f, "concert", 10, 0);
    assert_int_equal(replica_count(f), 1);
}

static void test_created_listener_acks_the_message(void **state)
{
    fixture *f = *state;
    lk_fake_msg_expect_ack(f->msg);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    assert_true(lk_fake_msg_acked(f->msg));
}

static void test_created_listener_publishes_nothing(void **state)
{
    fixture *f = *state;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
}

/* Beyond the course: a redelivered ticket:created (its ack was lost) must
 * be acked, not fail on the taken _id until max deliver. */
static void test_created_listener_acks_a_duplicate_without_change(void **state)
{
    fixture *f = *state;
    lk_msg *dup = ticket_created_msg(f->hex, "changed", 99);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    assert_int_equal(lk_listener_dispatch(&f->listener, dup), LK_OK);

    assert_true(lk_fake_msg_acked(dup));
    assert_replica(f, "concert", 10, 0);
    assert_int_equal(replica_count(f), 1);
    lk_fake_msg_free(dup);
}

static void
test_created_listener_acks_a_late_duplicate_after_updates_without_change(
    void **state)
{
    fixture *f = *state;
    lk_listener updated;
    lk_msg *update = lk_fake_msg_newf(
        "ticket:updated",
        "{\"id\":\"%s\",\"version\":1,\"title\":\"concert\",\"price\":15,"
        "\"userId\":\"u\"}",
        f->hex);
    lk_msg *dup = ticket_created_msg(f->hex, "concert", 10);
    assert_int_equal(lk_listener_init(&updated,
                                      &orders_ticket_updated_listener,
                                      lk_fake_nats_bus(f->nats), &f->svc, NULL),
                     LK_OK);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    assert_int_equal(lk_listener_dispatch(&updated, update), LK_OK);

    assert_int_equal(lk_listener_dispatch(&f->listener, dup), LK_OK);

    assert_true(lk_fake_msg_acked(dup));
    assert_replica(f, "concert", 15, 1);
    lk_fake_msg_free(update);
    lk_fake_msg_free(dup);
}

/* ---- bad payloads: termed, logged, never acked, nothing saved ------------ */

static void assert_termed(fixture *f, lk_msg *msg, const char *reason)
{
    assert_non_null(msg);
    (void)lk_listener_dispatch(&f->listener, msg);
    assert_int_equal(lk_fake_msg_term_count(msg), 1);
    assert_int_equal(lk_fake_msg_ack_count(msg), 0);
    assert_true(spec_log_contains("terminated ticket:created"));
    if (!spec_log_contains(reason))
        fail_msg("log does not name \"%s\":\n%s", reason, spec_log_captured());
    assert_int_equal(replica_count(f), 0);
    lk_fake_msg_free(msg);
}

static void test_created_listener_terms_malformed_json(void **state)
{
    fixture *f = *state;
    assert_termed(f, lk_fake_msg_new("ticket:created", "{\"id\":"), "JSON");
}

static void test_created_listener_terms_an_empty_payload(void **state)
{
    fixture *f = *state;
    assert_termed(f, lk_fake_msg_new("ticket:created", ""), "empty");
}

static void test_created_listener_terms_an_event_without_a_price(void **state)
{
    fixture *f = *state;
    assert_termed(f,
                  lk_fake_msg_newf("ticket:created",
                                   "{\"version\":0,\"id\":\"%s\",\"title\":"
                                   "\"concert\",\"userId\":\"u\"}",
                                   f->hex),
                  "price");
}

static void test_created_listener_terms_a_price_of_the_wrong_type(
    void **state)
{
    fixture *f = *state;
    assert_termed(f,
                  lk_fake_msg_newf("ticket:created",
                                   "{\"version\":0,\"id\":\"%s\",\"title\":"
                                   "\"concert\",\"price\":\"10\","
                                   "\"userId\":\"u\"}",
                                   f->hex),
                  "price");
}

static void test_created_listener_terms_a_negative_price(void **state)
{
    fixture *f = *state;
    assert_termed(f, ticket_created_msg(f->hex, "concert", -1), "price");
}

static void test_created_listener_terms_an_id_that_is_no_object_id(
    void **state)
{
    fixture *f = *state;
    assert_termed(f, ticket_created_msg("abc", "concert", 10), "\"id\"");
}

static void test_created_listener_terms_a_title_over_the_limit(void **state)
{
    fixture *f = *state;
    char title[TICKETING_TITLE_MAX + 2];
    memset(title, 'x', sizeof title - 1);
    title[sizeof title - 1] = '\0';
    assert_termed(f, ticket_created_msg(f->hex, title, 10), "title");
}

static void test_created_listener_terms_a_field_the_event_does_not_have(
    void **state)
{
    fixture *f = *state;
    assert_termed(f,
                  lk_fake_msg_newf("ticket:created",
                                   "{\"version\":0,\"id\":\"%s\",\"title\":"
                                   "\"concert\",\"price\":10,\"userId\":\"u\","
                                   "\"orderId\":\"%s\"}",
                                   f->hex, f->hex),
                  "orderId");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_created_listener_creates_and_saves_a_ticket),
        T(test_created_listener_acks_the_message),
        T(test_created_listener_publishes_nothing),
        T(test_created_listener_acks_a_duplicate_without_change),
        T(test_created_listener_acks_a_late_duplicate_after_updates_without_change),
        T(test_created_listener_terms_malformed_json),
        T(test_created_listener_terms_an_empty_payload),
        T(test_created_listener_terms_an_event_without_a_price),
        T(test_created_listener_terms_a_price_of_the_wrong_type),
        T(test_created_listener_terms_a_negative_price),
        T(test_created_listener_terms_an_id_that_is_no_object_id),
        T(test_created_listener_terms_a_title_over_the_limit),
        T(test_created_listener_terms_a_field_the_event_does_not_have),
#undef T
    };
    return cmocka_run_group_tests_name("orders_ticket_created_listener", tests,
                                       NULL, NULL);
}
