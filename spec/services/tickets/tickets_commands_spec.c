/* SPDX-License-Identifier: MIT */
/* tickets_commands_spec.c — what the tickets service's routes do: create and
 * update, with the events they publish (course: new.test.ts, update.test.ts
 * and "Rejecting Edits of Reserved Tickets"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "ticketing_spec.h"

typedef ticketing_spec_tickets fixture;

static int setup(void **state)
{
    *state = ticketing_spec_tickets_new();
    return 0;
}

static int64_t ticket_count(fixture *f)
{
    return ticketing_spec_count(f->svc.tickets);
}

static bson_t *stored_ticket(fixture *f, const bson_oid_t *id)
{
    return ticketing_spec_stored_ticket(&f->svc, id);
}

/* ---- create ---------------------------------------------------------------- */

static void test_create_saves_the_ticket_with_version_0(void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    assert_int_equal(tickets_create(&f->svc, "concert", 20, "user-1", &id, NULL),
                     LK_OK);

    bson_t *doc = stored_ticket(f, &id);
    assert_string_equal(ticketing_doc_string(doc, "title"), "concert");
    assert_true(ticketing_doc_number(doc, "price", -1) == 20.0);
    assert_string_equal(ticketing_doc_string(doc, "userId"), "user-1");
    assert_null(ticketing_doc_string(doc, "orderId"));
    assert_int_equal(ticketing_spec_version_of(doc), 0);
    bson_destroy(doc);
}

static void test_create_publishes_ticket_created_with_version_0(void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    char hex[25];
    assert_int_equal(
        tickets_create(&f->svc, "concert", 20.5, "user-1", &id, NULL), LK_OK);
    lk_oid_format(&id, hex);

    const json_t *ev = ticketing_spec_only_published(f->nats, "ticket:created");
    assert_int_equal(lk_event_validate(&ticketing_ticket_created, ev, NULL),
                     LK_OK);
    assert_string_equal(lk_event_string(ev, "id"), hex);
    assert_int_equal(lk_event_int(ev, "version"), 0);
    assert_string_equal(lk_event_string(ev, "title"), "concert");
    assert_true(lk_event_number(ev, "price") == 20.5);
    assert_string_equal(lk_event_string(ev, "userId"), "user-1");
}

static void test_create_refuses_an_empty_title(void **state)
{
    fixture *f = *state;
    lk_error e;
    ticketing_spec_assert_refused(
        tickets_create(&f->svc, "", 10, "user-1", NULL, &e), &e, LK_ERR_INVALID,
        "title");
    ticketing_spec_assert_refused(
        tickets_create(&f->svc, NULL, 10, "user-1", NULL, &e), &e,
        LK_ERR_INVALID, "title");
    assert_int_equal(ticket_count(f), 0);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
}

static void test_create_refuses_a_title_longer_than_the_limit(void **state)
{
    fixture *f = *state;
    char title[TICKETING_TITLE_MAX + 2];
    lk_error e;
    memset(title, 'a', sizeof title - 1);
    title[sizeof title - 1] = '\0';
    ticketing_spec_assert_refused(
        tickets_create(&f->svc, title, 10, "user-1", NULL, &e), &e,
        LK_ERR_INVALID, "title");
    title[TICKETING_TITLE_MAX] = '\0'; /* exactly the limit: fine */
    assert_int_equal(tickets_create(&f->svc, title, 10, "user-1", NULL, &e),
                     LK_OK);
    assert_int_equal(ticket_count(f), 1);
}

static void test_create_refuses_a_price_that_is_not_positive(void **state)
{
    fixture *f = *state;
    const double bad[] = {0.0, -10.0, NAN, INFINITY,
                          (double)TICKETING_PRICE_MAX + 1};
    lk_error e;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ticketing_spec_assert_refused(
            tickets_create(&f->svc, "concert", bad[i], "user-1", NULL, &e), &e,
            LK_ERR_INVALID, "price");
    assert_int_equal(ticket_count(f), 0);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
}

static void test_create_refuses_a_missing_user(void **state)
{
    fixture *f = *state;
    lk_error e;
    ticketing_spec_assert_refused(
        tickets_create(&f->svc, "concert", 10, "", NULL, &e), &e,
        LK_ERR_INVALID, "user");
    ticketing_spec_assert_refused(
        tickets_create(&f->svc, "concert", 10, NULL, NULL, &e), &e,
        LK_ERR_INVALID, "user");
    assert_int_equal(ticket_count(f), 0);
}

/* The ticket and its event are one step: a publish that fails after the
 * save leaves the event in the outbox, and the relay sends it. */
static void test_a_failed_publish_leaves_ticket_created_to_the_relay(
    void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    char hex[25];
    lk_fake_nats_fail_next_publish(f->nats, LK_ERR_IO);
    assert_int_equal(tickets_create(&f->svc, "concert", 10, "user-1", &id,
                                    NULL),
                     LK_OK);
    assert_int_equal(ticket_count(f), 1);
    const json_t *ev = ticketing_spec_assert_relayed(f->svc.outbox, f->nats,
                                                     "ticket:created");
    lk_oid_format(&id, hex);
    assert_string_equal(lk_event_string(ev, "id"), hex);
    assert_int_equal(lk_event_int(ev, "version"), 0);
}

static void test_a_failed_publish_leaves_ticket_updated_to_the_relay(
    void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    assert_int_equal(tickets_create(&f->svc, "concert", 10, "user-1", &id,
                                    NULL),
                     LK_OK);
    lk_fake_nats_fail_next_publish(f->nats, LK_ERR_TIMEOUT);
    assert_int_equal(tickets_update(&f->svc, &id, "user-1", "new", 30, NULL),
                     LK_OK);
    const json_t *ev = ticketing_spec_assert_relayed(f->svc.outbox, f->nats,
                                                     "ticket:updated");
    assert_int_equal(lk_event_int(ev, "version"), 1);
    assert_string_equal(lk_event_string(ev, "title"), "new");
}

/* The ticket the update tests change: "concert" at 20 by user-1, saved and
 * announced with ticket:created. */
static void create_ticket(fixture *f, bson_oid_t *id)
{
    assert_int_equal(tickets_create(&f->svc, "concert", 20, "user-1", id, NULL),
                     LK_OK);
}

/* ---- update ---------------------------------------------------------------- */

static void test_update_saves_the_new_title_and_price(void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    create_ticket(f, &id);

    assert_int_equal(
        tickets_update(&f->svc, &id, "user-1", "new concert", 100, NULL),
        LK_OK);

    bson_t *doc = stored_ticket(f, &id);
    assert_string_equal(ticketing_doc_string(doc, "title"), "new concert");
    assert_true(ticketing_doc_number(doc, "price", -1) == 100.0);
    assert_string_equal(ticketing_doc_string(doc, "userId"), "user-1");
    assert_int_equal(ticketing_spec_version_of(doc), 1);
    bson_destroy(doc);
}

static void test_update_publishes_ticket_updated_with_incrementing_versions(
    void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    char hex[25];
    assert_int_equal(tickets_create(&f->svc, "concert", 5, "user-1", &id, NULL),
                     LK_OK);
    lk_oid_format(&id, hex);
    assert_int_equal(tickets_update(&f->svc, &id, "user-1", "concert", 10, NULL),
                     LK_OK);
    assert_int_equal(tickets_update(&f->svc, &id, "user-1", "concert", 15, NULL),
                     LK_OK);

    assert_int_equal(lk_fake_nats_published_count(f->nats), 3);
    assert_string_equal(lk_fake_nats_published_subject(f->nats, 0),
                        "ticket:created");
    for (size_t i = 0; i < 3; i++) {
        const json_t *ev = lk_fake_nats_published_json(f->nats, i);
        assert_non_null(ev);
        assert_string_equal(lk_event_string(ev, "id"), hex);
        assert_int_equal(lk_event_int(ev, "version"), (int64_t)i);
        assert_true(lk_event_number(ev, "price") == 5.0 * (double)(i + 1));
        if (i > 0) {
            assert_string_equal(lk_fake_nats_published_subject(f->nats, i),
                                "ticket:updated");
            assert_int_equal(
                lk_event_validate(&ticketing_ticket_updated, ev, NULL), LK_OK);
        }
    }
}

static void test_update_refuses_a_user_who_is_not_the_owner(void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    lk_error e;
    create_ticket(f, &id);
    lk_fake_nats_reset(f->nats);

    ticketing_spec_assert_refused(
        tickets_update(&f->svc, &id, "user-2", "stolen", 1, &e), &e,
        LK_ERR_FORBIDDEN, "not the owner");

    bson_t *doc = stored_ticket(f, &id);
    assert_string_equal(ticketing_doc_string(doc, "title"), "concert");
    bson_destroy(doc);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
}

static void test_update_refuses_to_edit_a_reserved_ticket(void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    char order_hex[25];
    lk_error e;
    create_ticket(f, &id);
    ticketing_spec_new_id(NULL, order_hex);
    ticketing_spec_reserve(&f->svc, &id, order_hex);
    lk_fake_nats_reset(f->nats);

    ticketing_spec_assert_refused(
        tickets_update(&f->svc, &id, "user-1", "new concert", 100, &e), &e,
        LK_ERR_INVALID, "ticket is reserved");

    bson_t *doc = stored_ticket(f, &id);
    assert_string_equal(ticketing_doc_string(doc, "title"), "concert");
    assert_true(ticketing_doc_number(doc, "price", -1) == 20.0);
    assert_int_equal(ticketing_spec_version_of(doc), 1);
    bson_destroy(doc);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
}

static void test_update_refuses_an_unknown_ticket(void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    char hex[25];
    lk_error e;
    ticketing_spec_new_id(&id, hex);
    ticketing_spec_assert_refused(
        tickets_update(&f->svc, &id, "user-1", "concert", 10, &e), &e,
        LK_ERR_NOT_FOUND, hex);
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
}

static void test_update_refuses_an_invalid_title_or_price(void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    lk_error e;
    create_ticket(f, &id);
    lk_fake_nats_reset(f->nats);

    ticketing_spec_assert_refused(
        tickets_update(&f->svc, &id, "user-1", "", 10, &e), &e, LK_ERR_INVALID,
        "title");
    ticketing_spec_assert_refused(
        tickets_update(&f->svc, &id, "user-1", "concert", -10, &e), &e,
        LK_ERR_INVALID, "price");
    ticketing_spec_assert_refused(
        tickets_update(&f->svc, NULL, "user-1", "concert", 10, &e), &e,
        LK_ERR_INVALID, "id");
    assert_int_equal(lk_fake_nats_published_count(f->nats), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name)                                                                \
    cmocka_unit_test_setup_teardown(name, setup,                               \
                                    ticketing_spec_tickets_teardown)
        T(test_create_saves_the_ticket_with_version_0),
        T(test_create_publishes_ticket_created_with_version_0),
        T(test_create_refuses_an_empty_title),
        T(test_create_refuses_a_title_longer_than_the_limit),
        T(test_create_refuses_a_price_that_is_not_positive),
        T(test_create_refuses_a_missing_user),
        T(test_a_failed_publish_leaves_ticket_created_to_the_relay),
        T(test_a_failed_publish_leaves_ticket_updated_to_the_relay),
        T(test_update_saves_the_new_title_and_price),
        T(test_update_publishes_ticket_updated_with_incrementing_versions),
        T(test_update_refuses_a_user_who_is_not_the_owner),
        T(test_update_refuses_to_edit_a_reserved_ticket),
        T(test_update_refuses_an_unknown_ticket),
        T(test_update_refuses_an_invalid_title_or_price),
#undef T
    };
    return cmocka_run_group_tests_name("tickets_commands", tests, NULL, NULL);
}
