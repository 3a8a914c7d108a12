/* SPDX-License-Identifier: MIT */
/* ticket_model_spec.c — the ticket document and its versioning (course:
 * models/__test__/ticket.test.ts: optimistic concurrency control). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "mem_store.h"
#include "ticketing_spec.h"

typedef ticketing_spec_tickets fixture;

static int setup(void **state)
{
    fixture *f = ticketing_spec_tickets_new();
    assert_int_equal(
        tickets_create(&f->svc, "concert", 5, "123", &f->ticket_id, NULL),
        LK_OK);
    *state = f;
    return 0;
}

static bson_t *load(fixture *f)
{
    return ticketing_spec_tickets_stored(f);
}

static void test_ticket_save_implements_optimistic_concurrency_control(
    void **state)
{
    fixture *f = *state;
    char first_order[25], second_order[25];
    lk_error e;
    ticketing_spec_new_id(NULL, first_order);
    ticketing_spec_new_id(NULL, second_order);
    bson_t *first = load(f);
    bson_t *second = load(f);

    assert_int_equal(
        tickets_save_order_id(&f->svc, first, first_order, NULL, NULL),
        LK_OK);
    assert_int_equal(tickets_save_order_id(&f->svc, second,
                                           second_order, NULL, &e),
                     LK_ERR_VERSION);

    bson_t *stored = load(f);
    assert_string_equal(ticketing_doc_string(stored, "orderId"), first_order);
    bson_destroy(stored);
    bson_destroy(first);
    bson_destroy(second);
}

static void test_ticket_version_increments_on_every_save(void **state)
{
    fixture *f = *state;
    char order[25];
    ticketing_spec_new_id(NULL, order);
    for (int64_t want = 0; want < 3; want++) {
        bson_t *doc = load(f);
        assert_int_equal(ticketing_spec_version_of(doc), want);
        bson_t *saved = NULL;
        assert_int_equal(tickets_save_order_id(&f->svc, doc,
                                               want % 2 ? NULL : order, &saved,
                                               NULL),
                         LK_OK);
        assert_int_equal(ticketing_spec_version_of(saved), want + 1);
        bson_destroy(saved);
        bson_destroy(doc);
    }
}

static void test_find_reports_an_unknown_ticket_by_its_id(void **state)
{
    fixture *f = *state;
    bson_oid_t unknown;
    char hex[25];
    bson_t *doc = NULL;
    lk_error e;
    ticketing_spec_new_id(&unknown, hex);

    ticketing_spec_assert_refused(tickets_find(&f->svc, &unknown, &doc, &e),
                                  &e, LK_ERR_NOT_FOUND, hex);
    assert_null(doc);
}

static void test_event_from_doc_describes_the_stored_ticket(void **state)
{
    fixture *f = *state;
    char hex[25], order[25];
    json_t *ev = NULL;
    bson_t *saved = NULL;
    lk_oid_format(&f->ticket_id, hex);
    ticketing_spec_new_id(NULL, order);
    bson_t *doc = load(f);
    assert_int_equal(
        tickets_save_order_id(&f->svc, doc, order, &saved, NULL), LK_OK);

    assert_int_equal(tickets_event_from_doc(saved, &ev, NULL), LK_OK);

    assert_string_equal(lk_event_string(ev, "id"), hex);
    assert_int_equal(lk_event_int(ev, "version"), 1);
    assert_string_equal(lk_event_string(ev, "title"), "concert");
    assert_true(lk_event_number(ev, "price") == 5.0);
    assert_string_equal(lk_event_string(ev, "userId"), "123");
    assert_string_equal(lk_event_string(ev, "orderId"), order);
    assert_int_equal(lk_event_validate(&ticketing_ticket_updated, ev, NULL),
                     LK_OK);
    json_decref(ev);
    bson_destroy(saved);
    bson_destroy(doc);
}

static void test_event_from_doc_refuses_a_document_missing_a_field(
    void **state)
{
    fixture *f = *state;
    const char *fields[] = {"_id", "version", "title", "userId", "price"};
    bson_t *doc = load(f);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        bson_t partial = BSON_INITIALIZER;
        json_t *ev = NULL;
        lk_error e;
        bson_copy_to_excluding_noinit(doc, &partial, fields[i], NULL);

        assert_int_equal(tickets_event_from_doc(&partial, &ev, &e),
                         LK_ERR_INVALID);
        assert_null(ev);
        if (strstr(e.message, fields[i]) == NULL)
            fail_msg("\"%s\" does not name %s", e.message, fields[i]);
        bson_destroy(&partial);
    }
    bson_destroy(doc);
}

static void test_save_order_id_refuses_an_order_id_that_is_no_object_id(
    void **state)
{
    fixture *f = *state;
    lk_error e;
    bson_t *doc = load(f);
    assert_int_equal(
        tickets_save_order_id(&f->svc, doc, "order-1", NULL, &e),
        LK_ERR_INVALID);
    assert_non_null(strstr(e.message, "order-1"));
    bson_destroy(doc);
}

static void test_service_init_refuses_a_tickets_collection_opened_otherwise(
    void **state)
{
    (void)state;
    const lk_collection_opts external = {.occ = LK_OCC_EXTERNAL};
    lk_collection *coll = NULL;
    tickets_service svc;
    lk_error e;
    lk_store *store = lk_mem_store_new();
    assert_int_equal(lk_store_collection(store, "tickets", &external, &coll,
                                         NULL),
                     LK_OK);

    assert_int_equal(tickets_service_init(&svc, NULL, store, &e),
                     LK_ERR_INVALID);
    assert_non_null(strstr(e.message, "tickets"));
    assert_int_equal(tickets_service_init(NULL, NULL, store, &e),
                     LK_ERR_INVALID);
    lk_store_free(store);
}

static void test_validate_refuses_a_title_that_is_not_utf8(void **state)
{
    (void)state;
    lk_error e;
    assert_int_equal(tickets_validate("caf\xc3", 10, "u", &e),
                     LK_ERR_INVALID);
    assert_non_null(strstr(e.message, "title"));
    assert_int_equal(tickets_validate("caf\xc3\xa9", 10, "u", NULL), LK_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name)                                                                \
    cmocka_unit_test_setup_teardown(name, setup,                               \
                                    ticketing_spec_tickets_teardown)
        T(test_ticket_save_implements_optimistic_concurrency_control),
        T(test_ticket_version_increments_on_every_save),
        T(test_find_reports_an_unknown_ticket_by_its_id),
        T(test_event_from_doc_describes_the_stored_ticket),
        T(test_event_from_doc_refuses_a_document_missing_a_field),
        T(test_service_init_refuses_a_tickets_collection_opened_otherwise),
        T(test_validate_refuses_a_title_that_is_not_utf8),
        T(test_save_order_id_refuses_an_order_id_that_is_no_object_id),
#undef T
    };
    return cmocka_run_group_tests_name("tickets_ticket_model", tests, NULL,
                                       NULL);
}
