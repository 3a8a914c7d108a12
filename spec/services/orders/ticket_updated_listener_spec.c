/* ticket_updated_listener_spec.c — the orders service applies each ticket
 * version once and in order (course: ticket-updated-listener.test.ts, "Out-
 * Of-Order Events"; beyond it: duplicates, stale redeliveries, gaps). */
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
    lk_msg *msg; /* version 1, "new concert", 999 */
} fixture;

static lk_msg *updated_msg(const char *hex, int64_t version, const char *title,
                           double price)
{
    return lk_fake_msg_newf("ticket:updated",
                            "{\"id\":\"%s\",\"version\":%lld,\"title\":\"%s\","
                            "\"price\":%g,\"userId\":\"ablskdjf\"}",
                            hex, (long long)version, title, price);
}

/* The course's setup(): a listener, a saved replica (version 0), the next
 * version's event, a message. */
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
                                      &orders_ticket_updated_listener,
                                      lk_fake_nats_bus(f->nats), &f->svc, NULL),
                     LK_OK);
    bson_oid_init(&f->id, NULL);
    lk_oid_format(&f->id, f->hex);
    bson_t *replica = BCON_NEW("_id", BCON_OID(&f->id), "title",
                               BCON_UTF8("concert"), "price", BCON_DOUBLE(20),
                               "version", BCON_INT64(0));
    assert_int_equal(lk_collection_insert(f->svc.tickets, replica, NULL, NULL),
                     LK_OK);
    bson_destroy(replica);
    f->msg = updated_msg(f->hex, 1, "new concert", 999);
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

/* Dispatches a new message and returns the status; *acked tells the ack. */
static lk_status deliver(fixture *f, int64_t version, const char *title,
                         double price, bool *acked)
{
    lk_msg *msg = updated_msg(f->hex, version, title, price);
    assert_non_null(msg);
    lk_status s = lk_listener_dispatch(&f->listener, msg);
    *acked = lk_fake_msg_acked(msg);
    assert_int_equal(lk_fake_msg_term_count(msg), 0);
    lk_fake_msg_free(msg);
    return s;
}

static void test_updated_listener_finds_updates_and_saves_a_ticket(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    assert_replica(f, "new concert", 999, 1);
}

static void test_updated_listener_acks_the_message(void **state)
{
    fixture *f = *state;
    lk_fake_msg_expect_ack(f->msg);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    assert_true(lk_fake_msg_acked(f->msg));
}

static void test_updated_listener_does_not_ack_skipped_version(void **state)
{
    fixture *f = *state;
    bool acked = true;
    assert_int_equal(deliver(f, 10, "new concert", 999, &acked), LK_ERR_RETRY);
    assert_false(acked);
    assert_replica(f, "concert", 20, 0);
}

static void test_updated_listener_applies_an_early_version_once_its_turn_came(
    void **state)
{
    fixture *f = *state;
    bool acked = true;
    assert_int_equal(deliver(f, 2, "concert", 15, &acked), LK_ERR_RETRY);
    assert_false(acked);
    assert_int_equal(deliver(f, 1, "concert", 10, &acked), LK_OK);
    assert_true(acked);
    /* The redelivery of version 2, after its ack wait. */
    assert_int_equal(deliver(f, 2, "concert", 15, &acked), LK_OK);
    assert_true(acked);
    assert_replica(f, "concert", 15, 2);
}

static void test_updated_listener_acks_a_duplicate_without_change(void **state)
{
    fixture *f = *state;
    bool acked = false;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    assert_int_equal(deliver(f, 1, "new concert", 999, &acked), LK_OK);

    assert_true(acked);
    assert_replica(f, "new concert", 999, 1);
}

/* A redelivery of version 1 after version 2 was applied must neither win
 * (the lost update of the course) nor cycle un-acked until max deliver. */
static void test_updated_listener_acks_a_stale_version_without_change(
    void **state)
{
    fixture *f = *state;
    bool acked = false;
    assert_int_equal(deliver(f, 1, "concert", 10, &acked), LK_OK);
    assert_int_equal(deliver(f, 2, "concert", 15, &acked), LK_OK);

    assert_int_equal(deliver(f, 1, "concert", 10, &acked), LK_OK);

    assert_true(acked);
    assert_replica(f, "concert", 15, 2);
}

static void test_updated_listener_does_not_ack_for_an_unknown_ticket(
    void **state)
{
    fixture *f = *state;
    bson_oid_t other;
    char other_hex[25];
    bson_oid_init(&other, NULL);
    lk_oid_format(&other, other_hex);
    lk_msg *msg = updated_msg(other_hex, 1, "concert", 10);

    /* The ticket:created may still come: wait for it. */
    assert_int_equal(lk_listener_dispatch(&f->listener, msg), LK_ERR_RETRY);

    assert_int_equal(lk_fake_msg_ack_count(msg), 0);
    assert_int_equal(lk_fake_msg_term_count(msg), 0);
    assert_true(spec_log_contains(other_hex));
    lk_fake_msg_free(msg);
}

static void test_updated_listener_ignores_the_order_id_it_carries(
    void **state)
{
    fixture *f = *state;
    lk_msg *msg = lk_fake_msg_newf(
        "ticket:updated",
        "{\"id\":\"%s\",\"version\":1,\"title\":\"concert\",\"price\":20,"
        "\"userId\":\"u\",\"orderId\":\"%s\"}",
        f->hex, f->hex);
    assert_int_equal(lk_listener_dispatch(&f->listener, msg), LK_OK);
    assert_true(lk_fake_msg_acked(msg));
    assert_replica(f, "concert", 20, 1);
    lk_fake_msg_free(msg);
}

static void test_updated_listener_publishes_nothing(void **state)
{
    fixture *f = *state;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
}

/* ---- bad payloads: termed, logged, never acked, nothing changes ---------- */

static void assert_termed(fixture *f, lk_msg *msg, const char *reason)
{
    assert_non_null(msg);
    (void)lk_listener_dispatch(&f->listener, msg);
    assert_int_equal(lk_fake_msg_term_count(msg), 1);
    assert_int_equal(lk_fake_msg_ack_count(msg), 0);
    assert_true(spec_log_contains("terminated ticket:updated"));
    if (!spec_log_contains(reason))
        fail_msg("log does not name \"%s\":\n%s", reason, spec_log_captured());
    assert_replica(f, "concert", 20, 0);
    lk_fake_msg_free(msg);
}

static void test_updated_listener_terms_malformed_json(void **state)
{
    fixture *f = *state;
    assert_termed(f, lk_fake_msg_new("ticket:updated", "[1, 2"), "JSON");
}

static void test_updated_listener_terms_an_event_without_a_version(
    void **state)
{
    fixture *f = *state;
    assert_termed(f,
                  lk_fake_msg_newf("ticket:updated",
                                   "{\"id\":\"%s\",\"title\":\"concert\","
                                   "\"price\":10,\"userId\":\"u\"}",
                                   f->hex),
                  "version");
}

static void test_updated_listener_terms_a_negative_version(void **state)
{
    fixture *f = *state;
    assert_termed(f, updated_msg(f->hex, -1, "concert", 10), "version");
}

static void test_updated_listener_terms_a_version_that_is_not_an_integer(
    void **state)
{
    fixture *f = *state;
    assert_termed(f,
                  lk_fake_msg_newf("ticket:updated",
                                   "{\"id\":\"%s\",\"version\":1.5,\"title\":"
                                   "\"concert\",\"price\":10,\"userId\":\"u\"}",
                                   f->hex),
                  "version");
}

static void test_updated_listener_terms_a_title_of_the_wrong_type(
    void **state)
{
    fixture *f = *state;
    assert_termed(f,
                  lk_fake_msg_newf("ticket:updated",
                                   "{\"id\":\"%s\",\"version\":1,\"title\":7,"
                                   "\"price\":10,\"userId\":\"u\"}",
                                   f->hex),
                  "title");
}

static void test_updated_listener_terms_an_id_that_is_no_object_id(
    void **state)
{
    fixture *f = *state;
    assert_termed(f, updated_msg("gggggggggggggggggggggggg", 1, "concert", 10),
                  "\"id\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_updated_listener_finds_updates_and_saves_a_ticket),
        T(test_updated_listener_acks_the_message),
        T(test_updated_listener_does_not_ack_skipped_version),
        T(test_updated_listener_applies_an_early_version_once_its_turn_came),
        T(test_updated_listener_acks_a_duplicate_without_change),
        T(test_updated_listener_acks_a_stale_version_without_change),
        T(test_updated_listener_does_not_ack_for_an_unknown_ticket),
        T(test_updated_listener_ignores_the_order_id_it_carries),
        T(test_updated_listener_publishes_nothing),
        T(test_updated_listener_terms_malformed_json),
        T(test_updated_listener_terms_an_event_without_a_version),
        T(test_updated_listener_terms_a_negative_version),
        T(test_updated_listener_terms_a_version_that_is_not_an_integer),
        T(test_updated_listener_terms_a_title_of_the_wrong_type),
        T(test_updated_listener_terms_an_id_that_is_no_object_id),
#undef T
    };
    return cmocka_run_group_tests_name("orders_ticket_updated_listener", tests,
                                       NULL, NULL);
}
