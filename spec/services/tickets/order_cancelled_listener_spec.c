/* order_cancelled_listener_spec.c — the tickets service frees a ticket when
 * the order that reserved it is cancelled (course:
 * order-cancelled-listener.test.ts). */
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

static lk_msg *order_cancelled_msg(const char *order_hex,
                                   const char *ticket_hex)
{
    return lk_fake_msg_newf("order:cancelled",
                            "{\"id\":\"%s\",\"version\":1,"
                            "\"ticket\":{\"id\":\"%s\"}}",
                            order_hex, ticket_hex);
}

static void new_hex(char hex[25])
{
    bson_oid_t oid;
    bson_oid_init(&oid, NULL);
    lk_oid_format(&oid, hex);
}

/* Reserves the fixture's ticket for `order_hex`, as order:created did. */
static void reserve(fixture *f, const char *order_hex)
{
    bson_t *doc = NULL;
    assert_int_equal(tickets_find(&f->svc, &f->ticket_id, &doc, NULL), LK_OK);
    assert_int_equal(
        tickets_save_order_id(f->svc.tickets, doc, order_hex, NULL, NULL),
        LK_OK);
    bson_destroy(doc);
}

/* The course's setup(): a listener, a ticket reserved by an order, the
 * event, a message. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->store = lk_mem_store_new();
    f->nats = lk_fake_nats_new();
    assert_int_equal(tickets_service_init(&f->svc, lk_fake_nats_bus(f->nats),
                                          f->store, NULL),
                     LK_OK);
    assert_int_equal(
        tickets_create(&f->svc, "concert", 20, "asdf", &f->ticket_id, NULL),
        LK_OK);
    lk_oid_format(&f->ticket_id, f->ticket_hex);
    new_hex(f->order_hex);
    reserve(f, f->order_hex); /* version 1 */
    lk_fake_nats_reset(f->nats);
    assert_int_equal(lk_listener_init(&f->listener,
                                      &tickets_order_cancelled_listener,
                                      lk_fake_nats_bus(f->nats), &f->svc, NULL),
                     LK_OK);
    f->msg = order_cancelled_msg(f->order_hex, f->ticket_hex);
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

static void test_order_cancelled_listener_clears_the_order_id(void **state)
{
    fixture *f = *state;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    bson_t *doc = stored_ticket(f);
    assert_null(ticketing_doc_string(doc, "orderId"));
    bson_destroy(doc);
    assert_int_equal(stored_version(f), 2);
}

static void test_order_cancelled_listener_publishes_ticket_updated_without_order_id(
    void **state)
{
    fixture *f = *state;
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    assert_int_equal(lk_fake_nats_published_count(f->nats), 1);
    assert_string_equal(lk_fake_nats_published_subject(f->nats, 0),
                        "ticket:updated");
    const json_t *ev = lk_fake_nats_published_json(f->nats, 0);
    assert_non_null(ev);
    assert_string_equal(lk_event_string(ev, "id"), f->ticket_hex);
    assert_int_equal(lk_event_int(ev, "version"), 2);
    assert_false(lk_event_has(ev, "orderId"));
    assert_string_equal(lk_event_string(ev, "title"), "concert");
}

static void test_order_cancelled_listener_acks_the_message(void **state)
{
    fixture *f = *state;
    lk_fake_msg_expect_ack(f->msg);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);
    assert_true(lk_fake_msg_acked(f->msg));
}

static void test_order_cancelled_listener_does_not_ack_for_an_unknown_ticket(
    void **state)
{
    fixture *f = *state;
    char unknown_hex[25];
    new_hex(unknown_hex);
    lk_msg *msg = order_cancelled_msg(f->order_hex, unknown_hex);

    assert_int_equal(lk_listener_dispatch(&f->listener, msg), LK_ERR_NOT_FOUND);

    assert_int_equal(lk_fake_msg_ack_count(msg), 0);
    assert_int_equal(lk_fake_msg_term_count(msg), 0);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
    assert_true(spec_log_contains(unknown_hex));
    lk_fake_msg_free(msg);
}

/* A late cancel of an earlier order must not free a ticket that another
 * order holds now. */
static void
test_order_cancelled_listener_keeps_a_ticket_another_order_reserved(
    void **state)
{
    fixture *f = *state;
    char other_hex[25];
    new_hex(other_hex);
    lk_msg *msg = order_cancelled_msg(other_hex, f->ticket_hex);

    assert_int_equal(lk_listener_dispatch(&f->listener, msg), LK_OK);

    assert_true(lk_fake_msg_acked(msg));
    bson_t *doc = stored_ticket(f);
    assert_string_equal(ticketing_doc_string(doc, "orderId"), f->order_hex);
    bson_destroy(doc);
    assert_int_equal(stored_version(f), 1);
    lk_fake_msg_free(msg);
}

static void test_order_cancelled_listener_acks_a_duplicate_without_a_new_version(
    void **state)
{
    fixture *f = *state;
    lk_msg *dup = order_cancelled_msg(f->order_hex, f->ticket_hex);
    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg), LK_OK);

    assert_int_equal(lk_listener_dispatch(&f->listener, dup), LK_OK);

    assert_true(lk_fake_msg_acked(dup));
    assert_int_equal(stored_version(f), 2);
    lk_fake_msg_free(dup);
}

static void test_order_cancelled_listener_does_not_ack_when_publishing_fails(
    void **state)
{
    fixture *f = *state;
    lk_fake_nats_fail_next_publish(f->nats, LK_ERR_TIMEOUT);

    assert_int_equal(lk_listener_dispatch(&f->listener, f->msg),
                     LK_ERR_TIMEOUT);

    assert_int_equal(lk_fake_msg_ack_count(f->msg), 0);
}

/* ---- bad payloads: termed, logged, never acked, nothing changes ---------- */

static void assert_termed(fixture *f, lk_msg *msg, const char *reason)
{
    assert_non_null(msg);
    (void)lk_listener_dispatch(&f->listener, msg);
    assert_int_equal(lk_fake_msg_term_count(msg), 1);
    assert_int_equal(lk_fake_msg_ack_count(msg), 0);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
    assert_true(spec_log_contains("terminated order:cancelled"));
    if (!spec_log_contains(reason))
        fail_msg("log does not name \"%s\":\n%s", reason, spec_log_captured());
    bson_t *doc = stored_ticket(f);
    assert_string_equal(ticketing_doc_string(doc, "orderId"), f->order_hex);
    bson_destroy(doc);
    assert_int_equal(stored_version(f), 1);
    lk_fake_msg_free(msg);
}

static void test_order_cancelled_listener_terms_malformed_json(void **state)
{
    fixture *f = *state;
    assert_termed(f, lk_fake_msg_new("order:cancelled", "not json at all"),
                  "JSON");
}

static void test_order_cancelled_listener_terms_an_event_without_a_version(
    void **state)
{
    fixture *f = *state;
    assert_termed(f,
                  lk_fake_msg_newf("order:cancelled",
                                   "{\"id\":\"%s\",\"ticket\":{\"id\":\"%s\"}}",
                                   f->order_hex, f->ticket_hex),
                  "version");
}

static void test_order_cancelled_listener_terms_a_ticket_of_the_wrong_type(
    void **state)
{
    fixture *f = *state;
    assert_termed(f,
                  lk_fake_msg_newf("order:cancelled",
                                   "{\"id\":\"%s\",\"version\":1,"
                                   "\"ticket\":\"%s\"}",
                                   f->order_hex, f->ticket_hex),
                  "ticket");
}

static void test_order_cancelled_listener_terms_a_ticket_id_that_is_no_object_id(
    void **state)
{
    fixture *f = *state;
    assert_termed(f, order_cancelled_msg(f->order_hex, "12345"), "ticket.id");
}

static void test_order_cancelled_listener_terms_an_order_id_that_is_no_object_id(
    void **state)
{
    fixture *f = *state;
    assert_termed(f, order_cancelled_msg("", f->ticket_hex), "\"id\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_order_cancelled_listener_clears_the_order_id),
        T(test_order_cancelled_listener_publishes_ticket_updated_without_order_id),
        T(test_order_cancelled_listener_acks_the_message),
        T(test_order_cancelled_listener_does_not_ack_for_an_unknown_ticket),
        T(test_order_cancelled_listener_keeps_a_ticket_another_order_reserved),
        T(test_order_cancelled_listener_acks_a_duplicate_without_a_new_version),
        T(test_order_cancelled_listener_does_not_ack_when_publishing_fails),
        T(test_order_cancelled_listener_terms_malformed_json),
        T(test_order_cancelled_listener_terms_an_event_without_a_version),
        T(test_order_cancelled_listener_terms_a_ticket_of_the_wrong_type),
        T(test_order_cancelled_listener_terms_a_ticket_id_that_is_no_object_id),
        T(test_order_cancelled_listener_terms_an_order_id_that_is_no_object_id),
#undef T
    };
    return cmocka_run_group_tests_name("tickets_order_cancelled_listener",
                                       tests, NULL, NULL);
}
