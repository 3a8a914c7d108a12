/* SPDX-License-Identifier: MIT */
/* orders_commands_spec.c — what the orders service's routes do: create an
 * order for a ticket, cancel it, and the events with the order's version
 * (course: new.test.ts, delete.test.ts, "Fixing a Few Tests"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ticketing_spec.h"

#define EXPIRES_AT 1893456000000LL /* 2030-01-01T00:00:00.000Z */

typedef ticketing_spec_orders fixture;

/* A replica of the ticket orders are made for, as ticket:created built it. */
static int setup(void **state)
{
    fixture *f = ticketing_spec_orders_new();
    ticketing_spec_new_id(&f->ticket_id, f->ticket_hex);
    ticketing_spec_insert_replica(&f->svc, &f->ticket_id, "concert", 20, 0);
    *state = f;
    return 0;
}

static int64_t order_count(fixture *f)
{
    return ticketing_spec_count(f->svc.orders);
}

/* An order saved directly with `status`, as later sections' payments would. */
static void insert_order(fixture *f, const char *status)
{
    bson_t *doc = BCON_NEW("userId", BCON_UTF8("someone"), "status",
                           BCON_UTF8(status), "expiresAt",
                           BCON_DATE_TIME(EXPIRES_AT), "ticketId",
                           BCON_OID(&f->ticket_id));
    assert_int_equal(lk_collection_insert(f->svc.orders, doc, NULL, NULL),
                     LK_OK);
    bson_destroy(doc);
}

/* An order of user-1 for the fixture's ticket, saved and announced with
 * order:created; *id (NULL: not wanted) gets its id. */
static void create_order(fixture *f, bson_oid_t *id)
{
    assert_int_equal(orders_create(&f->svc, "user-1", &f->ticket_id,
                                   EXPIRES_AT, id, NULL),
                     LK_OK);
}

/* Asserts that a new order of `user` for the fixture's ticket is refused:
 * the ticket is taken. */
static void assert_ticket_taken(fixture *f, const char *user)
{
    lk_error e;
    ticketing_spec_assert_refused(
        orders_create(&f->svc, user, &f->ticket_id, EXPIRES_AT, NULL, &e), &e,
        LK_ERR_INVALID, "ticket is already reserved");
}

/* ---- create ------------------------------------------------------------------ */

static void test_create_saves_an_order_for_the_ticket(void **state)
{
    fixture *f = *state;
    bson_oid_t id, ticket_id;
    bson_iter_t it;
    assert_int_equal(orders_create(&f->svc, "user-1", &f->ticket_id,
                                   EXPIRES_AT, &id, NULL),
                     LK_OK);

    bson_t *doc = ticketing_spec_stored_order(&f->svc, &id);
    assert_string_equal(ticketing_doc_string(doc, "userId"), "user-1");
    assert_string_equal(ticketing_doc_string(doc, "status"), "created");
    assert_int_equal(ticketing_spec_version_of(doc), 0);
    assert_true(bson_iter_init_find(&it, doc, "expiresAt") &&
                BSON_ITER_HOLDS_DATE_TIME(&it));
    assert_int_equal(bson_iter_date_time(&it), EXPIRES_AT);
    assert_true(bson_iter_init_find(&it, doc, "ticketId") &&
                BSON_ITER_HOLDS_OID(&it));
    bson_oid_copy(bson_iter_oid(&it), &ticket_id);
    assert_true(bson_oid_equal(&ticket_id, &f->ticket_id));
    bson_destroy(doc);
}

static void test_create_publishes_order_created_with_the_ticket_and_its_price(
    void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    char hex[25];
    assert_int_equal(orders_create(&f->svc, "user-1", &f->ticket_id,
                                   EXPIRES_AT, &id, NULL),
                     LK_OK);
    lk_oid_format(&id, hex);

    const json_t *ev = ticketing_spec_only_published(f->nats, "order:created");
    assert_int_equal(lk_event_validate(&ticketing_order_created, ev, NULL),
                     LK_OK);
    assert_string_equal(lk_event_string(ev, "id"), hex);
    assert_int_equal(lk_event_int(ev, "version"), 0);
    assert_string_equal(lk_event_string(ev, "status"), "created");
    assert_string_equal(lk_event_string(ev, "userId"), "user-1");
    assert_string_equal(lk_event_string(ev, "expiresAt"),
                        "2030-01-01T00:00:00.000Z");
    assert_string_equal(lk_event_string(ev, "ticket.id"), f->ticket_hex);
    assert_true(lk_event_number(ev, "ticket.price") == 20.0);
}

static void test_create_refuses_an_unknown_ticket(void **state)
{
    fixture *f = *state;
    bson_oid_t unknown;
    char hex[25];
    lk_error e;
    ticketing_spec_new_id(&unknown, hex);

    ticketing_spec_assert_refused(
        orders_create(&f->svc, "user-1", &unknown, EXPIRES_AT, NULL, &e), &e,
        LK_ERR_NOT_FOUND, hex);
    assert_int_equal(order_count(f), 0);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
}

static void test_create_refuses_a_ticket_that_is_already_reserved(
    void **state)
{
    fixture *f = *state;
    create_order(f, NULL);

    assert_ticket_taken(f, "user-2");
    assert_int_equal(order_count(f), 1);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 1);
}

static void test_create_refuses_a_ticket_held_by_an_order_awaiting_payment(
    void **state)
{
    fixture *f = *state;
    insert_order(f, TICKETING_ORDER_STATUS_AWAITING_PAYMENT);
    assert_ticket_taken(f, "user-1");
}

static void test_create_refuses_a_ticket_held_by_a_complete_order(
    void **state)
{
    fixture *f = *state;
    insert_order(f, TICKETING_ORDER_STATUS_COMPLETE);
    assert_ticket_taken(f, "user-1");
}

static void test_create_reserves_a_ticket_whose_order_was_cancelled(
    void **state)
{
    fixture *f = *state;
    bool reserved = true;
    insert_order(f, TICKETING_ORDER_STATUS_CANCELLED);
    assert_int_equal(
        orders_ticket_is_reserved(&f->svc, &f->ticket_id, &reserved, NULL),
        LK_OK);
    assert_false(reserved);

    create_order(f, NULL);
    assert_int_equal(
        orders_ticket_is_reserved(&f->svc, &f->ticket_id, &reserved, NULL),
        LK_OK);
    assert_true(reserved);
}

static void test_create_reserves_other_tickets_independently(void **state)
{
    fixture *f = *state;
    bson_oid_t other;
    bson_oid_init(&other, NULL);
    ticketing_spec_insert_replica(&f->svc, &other, "concert", 30, 0);
    create_order(f, NULL);
    assert_int_equal(
        orders_create(&f->svc, "user-1", &other, EXPIRES_AT, NULL, NULL),
        LK_OK);
    assert_int_equal(order_count(f), 2);
}

static void test_create_refuses_a_missing_user_or_a_negative_expiry(
    void **state)
{
    fixture *f = *state;
    lk_error e;
    ticketing_spec_assert_refused(
        orders_create(&f->svc, "", &f->ticket_id, EXPIRES_AT, NULL, &e), &e,
        LK_ERR_INVALID, "user");
    ticketing_spec_assert_refused(
        orders_create(&f->svc, NULL, &f->ticket_id, EXPIRES_AT, NULL, &e), &e,
        LK_ERR_INVALID, "user");
    ticketing_spec_assert_refused(
        orders_create(&f->svc, "user-1", &f->ticket_id, -1, NULL, &e), &e,
        LK_ERR_INVALID, "expir");
    ticketing_spec_assert_refused(
        orders_create(&f->svc, "user-1", NULL, EXPIRES_AT, NULL, &e), &e,
        LK_ERR_INVALID, "ticket");
    assert_int_equal(order_count(f), 0);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
}

static void test_create_refuses_a_user_id_over_the_limit(void **state)
{
    fixture *f = *state;
    char user[TICKETING_USER_ID_MAX + 2];
    lk_error e;
    memset(user, 'u', sizeof user - 1);
    user[sizeof user - 1] = '\0';
    ticketing_spec_assert_refused(
        orders_create(&f->svc, user, &f->ticket_id, EXPIRES_AT, NULL, &e), &e,
        LK_ERR_INVALID, "user id");
    assert_int_equal(order_count(f), 0);
}

/* The order and its event are one step: a publish that fails after the
 * save leaves order:created in the outbox, and the relay sends it. */
static void test_a_failed_publish_leaves_order_created_to_the_relay(
    void **state)
{
    fixture *f = *state;
    lk_fake_nats_fail_next_publish(f->nats, LK_ERR_TIMEOUT);
    assert_int_equal(orders_create(&f->svc, "user-1", &f->ticket_id,
                                   EXPIRES_AT, NULL, NULL),
                     LK_OK);
    assert_int_equal(order_count(f), 1);
    const json_t *ev = ticketing_spec_assert_relayed(f->svc.outbox, f->nats,
                                                     "order:created");
    assert_string_equal(lk_event_string(ev, "ticket.id"), f->ticket_hex);
}

/* ---- cancel ------------------------------------------------------------------ */

static void test_cancel_marks_the_order_cancelled(void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    create_order(f, &id);

    assert_int_equal(orders_cancel(&f->svc, &id, NULL), LK_OK);

    bson_t *doc = ticketing_spec_stored_order(&f->svc, &id);
    assert_string_equal(ticketing_doc_string(doc, "status"), "cancelled");
    assert_string_equal(ticketing_doc_string(doc, "userId"), "user-1");
    assert_int_equal(ticketing_spec_version_of(doc), 1);
    bson_destroy(doc);
}

static void test_cancel_publishes_order_cancelled_with_version_and_ticket_id(
    void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    char hex[25];
    create_order(f, &id);
    lk_oid_format(&id, hex);
    lk_fake_nats_reset(f->nats);

    assert_int_equal(orders_cancel(&f->svc, &id, NULL), LK_OK);

    const json_t *ev =
        ticketing_spec_only_published(f->nats, "order:cancelled");
    assert_int_equal(lk_event_validate(&ticketing_order_cancelled, ev, NULL),
                     LK_OK);
    assert_string_equal(lk_event_string(ev, "id"), hex);
    assert_int_equal(lk_event_int(ev, "version"), 1);
    assert_string_equal(lk_event_string(ev, "ticket.id"), f->ticket_hex);
}

static void test_order_events_carry_incrementing_versions(void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    create_order(f, &id);
    assert_int_equal(orders_cancel(&f->svc, &id, NULL), LK_OK);
    assert_int_equal(orders_cancel(&f->svc, &id, NULL), LK_OK);

    assert_int_equal(lk_fake_nats_published_count(f->nats), 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(
            lk_event_int(lk_fake_nats_published_json(f->nats, i), "version"),
            (int64_t)i);
}

static void test_cancel_refuses_an_unknown_order(void **state)
{
    fixture *f = *state;
    bson_oid_t unknown;
    char hex[25];
    lk_error e;
    ticketing_spec_new_id(&unknown, hex);
    ticketing_spec_assert_refused(orders_cancel(&f->svc, &unknown, &e), &e,
                                  LK_ERR_NOT_FOUND, hex);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
}

static void test_a_failed_publish_leaves_order_cancelled_to_the_relay(
    void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    create_order(f, &id);
    lk_fake_nats_fail_next_publish(f->nats, LK_ERR_IO);
    assert_int_equal(orders_cancel(&f->svc, &id, NULL), LK_OK);
    const json_t *ev = ticketing_spec_assert_relayed(f->svc.outbox, f->nats,
                                                     "order:cancelled");
    assert_int_equal(lk_event_int(ev, "version"), 1);
}

static void test_cancel_refuses_a_stored_order_without_its_ticket(
    void **state)
{
    fixture *f = *state;
    bson_t *stored = NULL;
    bson_oid_t id;
    lk_error e;
    bson_t *doc = BCON_NEW("userId", BCON_UTF8("u"), "status",
                           BCON_UTF8("created"));
    assert_int_equal(lk_collection_insert(f->svc.orders, doc, &stored, NULL),
                     LK_OK);
    assert_int_equal(lk_bson_get_oid(stored, &id, NULL), LK_OK);

    ticketing_spec_assert_refused(orders_cancel(&f->svc, &id, &e), &e,
                                  LK_ERR_INVALID, "ticketId");
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
    bson_destroy(stored);
    bson_destroy(doc);
}

/* ---- time format ------------------------------------------------------------- */

static void test_format_time_writes_iso_8601_utc_with_milliseconds(
    void **state)
{
    (void)state;
    char buf[TICKETING_EXPIRES_AT_MAX + 1];
    lk_error e;
    assert_int_equal(orders_format_time(0, buf, sizeof buf, NULL), LK_OK);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    assert_int_equal(orders_format_time(1700000000123LL, buf, sizeof buf, NULL),
                     LK_OK);
    assert_string_equal(buf, "2023-11-14T22:13:20.123Z");
    ticketing_spec_assert_refused(orders_format_time(-5, buf, sizeof buf, &e),
                                  &e, LK_ERR_INVALID, "-5");
    ticketing_spec_assert_refused(orders_format_time(0, buf, 10, &e), &e,
                                  LK_ERR_INVALID, "10 bytes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name)                                                                \
    cmocka_unit_test_setup_teardown(name, setup, ticketing_spec_orders_teardown)
        T(test_create_saves_an_order_for_the_ticket),
        T(test_create_publishes_order_created_with_the_ticket_and_its_price),
        T(test_create_refuses_an_unknown_ticket),
        T(test_create_refuses_a_ticket_that_is_already_reserved),
        T(test_create_refuses_a_ticket_held_by_an_order_awaiting_payment),
        T(test_create_refuses_a_ticket_held_by_a_complete_order),
        T(test_create_reserves_a_ticket_whose_order_was_cancelled),
        T(test_create_reserves_other_tickets_independently),
        T(test_create_refuses_a_missing_user_or_a_negative_expiry),
        T(test_create_refuses_a_user_id_over_the_limit),
        T(test_a_failed_publish_leaves_order_created_to_the_relay),
        T(test_cancel_marks_the_order_cancelled),
        T(test_cancel_publishes_order_cancelled_with_version_and_ticket_id),
        T(test_order_events_carry_incrementing_versions),
        T(test_cancel_refuses_an_unknown_order),
        T(test_a_failed_publish_leaves_order_cancelled_to_the_relay),
        T(test_cancel_refuses_a_stored_order_without_its_ticket),
        T(test_format_time_writes_iso_8601_utc_with_milliseconds),
#undef T
    };
    return cmocka_run_group_tests_name("orders_commands", tests, NULL, NULL);
}
