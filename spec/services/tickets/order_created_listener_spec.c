/* order_created_listener_spec.c — the tickets service reserves a ticket when
 * an order is created for it (course: order-created-listener.test.ts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "fake_msg.h"
#include "fake_nats.h"
#include "mem_store.h"
#include "spec_log.h"
#include "tickets/tickets.h"

typedef struct fixture {
    lk_store *store;
    lk_fake_nats *nats;
    tickets_service svc;
    lk_listener listener;
    bson_oid_t ticket_id;
    char ticket_hex[25];
    char order_hex[25];
    lk_msg *msg;
} fixture;

static lk_msg *order_created_msg(const char *order_hex, const char *ticket_hex)
{
    return lk_fake_msg_newf(
        "order:created",
        "{\"id\":\"%s\",\"version\":0,\"status\":\"created\","
        "\"userId\":\"alskdfj\",\"expiresAt\":\"2030-01-01T00:00:00.000Z\","
        "\"ticket\":{\"id\":\"%s\",\"price\":99}}",
        order_hex, ticket_hex);
}

/* The course's setup(): a listener, a saved ticket, the event, a message. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    bson_oid_t order_id;
    assert_non_null(f);
    f->store = lk_mem_store_new();
    f->nats = lk_fake_nats_new();
    assert_int_equal(tickets_service_init(&f->svc, lk_fake_nats_bus(f->nats),
                                          f->store, NULL),
                     LK_OK);
    assert_int_equal(
        tickets_create(&f->svc, "concert", 99, "asdf", &f->ticket_id, NULL),
        LK_OK);
    lk_fake_nats_reset(f->nats); /* forget ticket:created */
    assert_int_equal(lk_listener_init(&f->listener,
                                      &tickets_order_created_listener,
                                      lk_fake_nats_bus(f->nats), &f->svc, NULL),
                     LK_OK);
    lk_oid_format(&f->ticket_id, f->ticket_hex);
    bson_oid_init(&order_id, NULL);
    lk_oid_format(&order_id, f->order_hex);
    f->msg = order_created_msg(f->order_hex, f->ticket_hex);
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

static bson_t *stored_ticket(fixture *f)
{
    bson_t *doc = NULL;
    assert_int_equal(tickets_find(&f->svc, &f->ticket_id, &doc, NULL), LK_OK);
    return doc;
}

static int64_t stored_version(fixture *f)
{
    int64_t version = -1;
    bson_t *doc = stored_ticket(f);
    assert_int_equal(lk_bson_get_int64(doc, "version", &version, NULL), LK_OK);
    bson_destroy(doc);
    return version;
}

static void test_order_created_listener_sets_the_order_id_of_the_ticket(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    bson_t *doc = stored_ticket(f);
    assert_string_equal(ticketing_doc_string(doc, "orderId"), f->order_hex);
    assert_string_equal(ticketing_doc_string(doc, "title"), "concert");
    bson_destroy(doc);
    assert_int_equal(stored_version(f), 1);
}

static void test_order_created_listener_acks_the_message(void **state)
{
    fixture *f = *state;
    lk_fake_msg_expect_ack(f->msg);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    assert_true(lk_fake_msg_acked(f->msg));
    assert_int_equal(lk_fake_msg_term_count(f->msg), 0);
}

static void
test_order_created_listener_publishes_ticket_updated_carrying_the_order_id(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    assert_int_equal(lk_fake_nats_published_count(f->nats), 1);
    assert_string_equal(lk_fake_nats_published_subject(f->nats, 0),
                        "ticket:updated");
    const json_t *ev = lk_fake_nats_published_json(f->nats, 0);
    assert_non_null(ev);
    assert_string_equal(lk_event_string(ev, "orderId"), f->order_hex);
    assert_string_equal(lk_event_string(ev, "id"), f->ticket_hex);
    assert_int_equal(lk_event_int(ev, "version"), 1);
    assert_string_equal(lk_event_string(ev, "title"), "concert");
    assert_true(lk_event_number(ev, "price") == 99.0);
    assert_string_equal(lk_event_string(ev, "userId"), "asdf");
}

static void test_order_created_listener_publishes_with_the_listeners_client(
    void **state)
{
    fixture *f = *state;
    lk_fake_nats *other = lk_fake_nats_new();
    lk_listener listener;
    assert_int_equal(lk_listener_init(&listener,
                                      &tickets_order_created_listener,
                                      lk_fake_nats_bus(other), &f->svc, NULL),
                     LK_OK);

    assert_int_equal(lk_listener_dispatch(&listener, f->msg), LK_OK);

    assert_int_equal(lk_fake_nats_published_count(other), 1);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
    lk_fake_nats_free(other);
}

static void test_order_created_listener_does_not_ack_for_an_unknown_ticket(
    void **state)
{
    fixture *f = *state;
    bson_oid_t unknown;
    char unknown_hex[25];
    bson_oid_init(&unknown, NULL);
    lk_oid_format(&unknown, unknown_hex);
    lk_msg *msg = order_created_msg(f->order_hex, unknown_hex);

    assert_int_equal(lk_listener_dispatch(&f->listener, msg), LK_ERR_NOT_FOUND);

    assert_int_equal(lk_fake_msg_ack_count(msg), 0);
    assert_int_equal(lk_fake_msg_term_count(msg), 0);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
    assert_true(spec_log_contains(unknown_hex));
    lk_fake_msg_free(msg);
}

static void test_order_created_listener_does_not_ack_when_publishing_fails(
    void **state)
{
    fixture *f = *state;
    lk_fake_nats_fail_next_publish(f->nats, LK_ERR_IO);

    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_ERR_IO);

    assert_int_equal(lk_fake_msg_ack_count(f->msg), 0);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
}

/* The reservation was saved but its ticket:updated never left: the
 * redelivery must publish it (same version, the state did not change again)
 * rather than ack in silence, or the orders replica would wait forever. */
static void
test_order_created_listener_republishes_on_redelivery_after_a_failed_publish(
    void **state)
{
    fixture *f = *state;
    lk_fake_nats_fail_next_publish(f->nats, LK_ERR_IO);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_ERR_IO);
    lk_msg *again = order_created_msg(f->order_hex, f->ticket_hex);
    lk_fake_msg_set_delivery_count(again, 2);

    assert_int_equal(lk_listener_dispatch(&f->listener, again), LK_OK);

    assert_true(lk_fake_msg_acked(again));
    assert_int_equal(stored_version(f), 1);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 1);
    const json_t *ev = lk_fake_nats_published_json(f->nats, 0);
    assert_int_equal(lk_event_int(ev, "version"), 1);
    assert_string_equal(lk_event_string(ev, "orderId"), f->order_hex);
    lk_fake_msg_free(again);
}

static void
test_order_created_listener_acks_a_duplicate_without_a_new_version(
    void **state)
{
    fixture *f = *state;
    lk_msg *dup = order_created_msg(f->order_hex, f->ticket_hex);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    assert_int_equal(lk_listener_dispatch(&f->listener, dup), LK_OK);

    assert_true(lk_fake_msg_acked(dup));
    assert_int_equal(stored_version(f), 1);
    lk_fake_msg_free(dup);
}

/* ---- bad payloads: termed, logged, never acked, nothing changes ---------- */

static void assert_termed(fixture *f, lk_msg *msg, const char *reason)
{
    assert_non_null(msg);
    (void)lk_listener_dispatch(&f->listener, msg);
    assert_int_equal(lk_fake_msg_term_count(msg), 1);
    assert_int_equal(lk_fake_msg_ack_count(msg), 0);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
    assert_true(spec_log_contains("terminated order:created"));
    if (!spec_log_contains(reason))
        fail_msg("log does not name \"%s\":\n%s", reason, spec_log_captured());
    bson_t *doc = stored_ticket(f);
    assert_null(ticketing_doc_string(doc, "orderId"));
    bson_destroy(doc);
    assert_int_equal(stored_version(f), 0);
    lk_fake_msg_free(msg);
}

static void test_order_created_listener_terms_malformed_json(void **state)
{
    fixture *f = *state;
    assert_termed(f, lk_fake_msg_new("order:created", "{\"id\": \"abc\""),
                  "JSON");
}

static void test_order_created_listener_terms_an_event_without_its_ticket(
    void **state)
{
    fixture *f = *state;
    assert_termed(f,
                  lk_fake_msg_newf("order:created",
                                   "{\"id\":\"%s\",\"version\":0,"
                                   "\"status\":\"created\",\"userId\":\"u\","
                                   "\"expiresAt\":\"x\"}",
                                   f->order_hex),
                  "ticket");
}

static void test_order_created_listener_terms_a_version_of_the_wrong_type(
    void **state)
{
    fixture *f = *state;
    assert_termed(
        f,
        lk_fake_msg_newf("order:created",
                         "{\"id\":\"%s\",\"version\":\"0\",\"status\":"
                         "\"created\",\"userId\":\"u\",\"expiresAt\":\"x\","
                         "\"ticket\":{\"id\":\"%s\",\"price\":99}}",
                         f->order_hex, f->ticket_hex),
        "version");
}

static void test_order_created_listener_terms_a_ticket_id_that_is_no_object_id(
    void **state)
{
    fixture *f = *state;
    assert_termed(f, order_created_msg(f->order_hex, "not-an-object-id"),
                  "ticket.id");
}

static void test_order_created_listener_terms_an_order_id_that_is_no_object_id(
    void **state)
{
    fixture *f = *state;
    assert_termed(f,
                  order_created_msg("zzzzzzzzzzzzzzzzzzzzzzzz", f->ticket_hex),
                  "\"id\"");
}

static void test_order_created_listener_terms_a_field_the_event_does_not_have(
    void **state)
{
    fixture *f = *state;
    assert_termed(
        f,
        lk_fake_msg_newf("order:created",
                         "{\"id\":\"%s\",\"version\":0,\"status\":\"created\","
                         "\"userId\":\"u\",\"expiresAt\":\"x\",\"admin\":true,"
                         "\"ticket\":{\"id\":\"%s\",\"price\":99}}",
                         f->order_hex, f->ticket_hex),
        "admin");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_order_created_listener_sets_the_order_id_of_the_ticket),
        T(test_order_created_listener_acks_the_message),
        T(test_order_created_listener_publishes_ticket_updated_carrying_the_order_id),
        T(test_order_created_listener_publishes_with_the_listeners_client),
        T(test_order_created_listener_does_not_ack_for_an_unknown_ticket),
        T(test_order_created_listener_does_not_ack_when_publishing_fails),
        T(test_order_created_listener_republishes_on_redelivery_after_a_failed_publish),
        T(test_order_created_listener_acks_a_duplicate_without_a_new_version),
        T(test_order_created_listener_terms_malformed_json),
        T(test_order_created_listener_terms_an_event_without_its_ticket),
        T(test_order_created_listener_terms_a_version_of_the_wrong_type),
        T(test_order_created_listener_terms_a_ticket_id_that_is_no_object_id),
        T(test_order_created_listener_terms_an_order_id_that_is_no_object_id),
        T(test_order_created_listener_terms_a_field_the_event_does_not_have),
#undef T
    };
    return cmocka_run_group_tests_name("tickets_order_created_listener", tests,
                                       NULL, NULL);
}
