/* SPDX-License-Identifier: MIT */
/* ticket_replica_spec.c — the orders service's copy of tickets and the
 * version query events use (course: "Abstracted Query Method", findByEvent). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "mem_store.h"
#include "ticketing_spec.h"

typedef ticketing_spec_orders fixture;

/* A replica at version 3: events of version 4 apply to it. */
static int setup(void **state)
{
    fixture *f = ticketing_spec_orders_new();
    ticketing_spec_new_id(&f->ticket_id, f->ticket_hex);
    ticketing_spec_insert_replica(&f->svc, &f->ticket_id, "concert", 20, 3);
    *state = f;
    return 0;
}

static void test_find_by_event_finds_the_replica_one_version_behind(
    void **state)
{
    fixture *f = *state;
    bson_t *doc = NULL;
    assert_int_equal(orders_ticket_find_by_event(f->svc.tickets, f->ticket_hex,
                                                 4, &doc, NULL),
                     LK_OK);
    assert_non_null(doc);
    assert_int_equal(ticketing_spec_version_of(doc), 3);
    assert_string_equal(ticketing_doc_string(doc, "title"), "concert");
    bson_destroy(doc);
}

static void test_find_by_event_finds_nothing_for_the_replicas_own_version(
    void **state)
{
    fixture *f = *state;
    bson_t *doc = NULL;
    lk_error e;
    ticketing_spec_assert_refused(
        orders_ticket_find_by_event(f->svc.tickets, f->ticket_hex, 3, &doc,
                                    &e),
        &e, LK_ERR_NOT_FOUND, f->ticket_hex);
    assert_null(doc);
    assert_non_null(strstr(e.message, "version 2"));
}

static void test_find_by_event_finds_nothing_for_a_skipped_version(
    void **state)
{
    fixture *f = *state;
    bson_t *doc = NULL;
    assert_int_equal(orders_ticket_find_by_event(f->svc.tickets, f->ticket_hex,
                                                 10, &doc, NULL),
                     LK_ERR_NOT_FOUND);
    assert_null(doc);
}

static void test_find_by_event_refuses_an_id_that_is_no_object_id(
    void **state)
{
    fixture *f = *state;
    bson_t *doc = NULL;
    lk_error e;
    ticketing_spec_assert_refused(
        orders_ticket_find_by_event(f->svc.tickets, "ticket-1", 4, &doc, &e),
        &e, LK_ERR_INVALID, "ticket-1");
    assert_null(doc);
}

static void test_find_by_event_refuses_a_negative_version(void **state)
{
    fixture *f = *state;
    bson_t *doc = NULL;
    lk_error e;
    ticketing_spec_assert_refused(
        orders_ticket_find_by_event(f->svc.tickets, f->ticket_hex, -1, &doc,
                                    &e),
        &e, LK_ERR_INVALID, "version");
    assert_null(doc);
}

static void test_replica_collection_takes_versions_from_events(void **state)
{
    fixture *f = *state;
    bson_t *doc = NULL, *next = NULL;
    lk_error e;
    assert_int_equal(orders_ticket_find(&f->svc, &f->ticket_id, &doc, NULL),
                     LK_OK);
    /* Saving the version the replica already has is refused: only the next
     * version of the tickets service may be stored. */
    assert_int_equal(lk_collection_save(f->svc.tickets, doc, NULL, &e),
                     LK_ERR_VERSION);
    next = lk_bson_with_int64(doc, "version", 4);
    assert_int_equal(lk_collection_save(f->svc.tickets, next, NULL, NULL),
                     LK_OK);
    bson_destroy(next);
    bson_destroy(doc);
}

static void test_find_reports_an_unknown_replica_by_its_id(void **state)
{
    fixture *f = *state;
    bson_oid_t unknown;
    char hex[25];
    bson_t *doc = NULL;
    lk_error e;
    ticketing_spec_new_id(&unknown, hex);
    ticketing_spec_assert_refused(
        orders_ticket_find(&f->svc, &unknown, &doc, &e), &e, LK_ERR_NOT_FOUND,
        hex);
    assert_null(doc);
}

static void test_lookups_refuse_a_null_id(void **state)
{
    fixture *f = *state;
    bson_t *doc = NULL;
    bool reserved = true;
    lk_error e;
    assert_int_equal(orders_ticket_find(&f->svc, NULL, &doc, &e),
                     LK_ERR_INVALID);
    assert_null(doc);
    assert_non_null(strstr(e.message, "ticket id"));
    assert_int_equal(orders_ticket_is_reserved(&f->svc, NULL, &reserved, &e),
                     LK_ERR_INVALID);
    assert_false(reserved);
    assert_int_equal(orders_find(&f->svc, NULL, &doc, &e), LK_ERR_INVALID);
    assert_null(doc);
    assert_non_null(strstr(e.message, "order id"));
}

/* Each service has its own database: opening "tickets" or "orders" with
 * other OCC options is refused, not silently shared. */
static void test_service_init_refuses_collections_opened_otherwise(
    void **state)
{
    (void)state;
    const lk_collection_opts uic = {.occ = LK_OCC_UPDATE_IF_CURRENT};
    const lk_collection_opts external = {.occ = LK_OCC_EXTERNAL};
    lk_collection *coll = NULL;
    orders_service svc;
    lk_error e;
    lk_store *store = lk_mem_store_new();
    assert_int_equal(lk_store_collection(store, "tickets", &uic, &coll, NULL),
                     LK_OK);
    assert_int_equal(orders_service_init(&svc, NULL, store, &e),
                     LK_ERR_INVALID);
    assert_non_null(strstr(e.message, "orders"));
    lk_store_free(store);

    store = lk_mem_store_new();
    assert_int_equal(
        lk_store_collection(store, "orders", &external, &coll, NULL), LK_OK);
    assert_int_equal(orders_service_init(&svc, NULL, store, &e),
                     LK_ERR_INVALID);
    assert_int_equal(orders_service_init(NULL, NULL, store, &e),
                     LK_ERR_INVALID);
    lk_store_free(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name)                                                                \
    cmocka_unit_test_setup_teardown(name, setup, ticketing_spec_orders_teardown)
        T(test_find_by_event_finds_the_replica_one_version_behind),
        T(test_find_by_event_finds_nothing_for_the_replicas_own_version),
        T(test_find_by_event_finds_nothing_for_a_skipped_version),
        T(test_find_by_event_refuses_an_id_that_is_no_object_id),
        T(test_find_by_event_refuses_a_negative_version),
        T(test_replica_collection_takes_versions_from_events),
        T(test_find_reports_an_unknown_replica_by_its_id),
        T(test_lookups_refuse_a_null_id),
        T(test_service_init_refuses_collections_opened_otherwise),
#undef T
    };
    return cmocka_run_group_tests_name("orders_ticket_replica", tests, NULL,
                                       NULL);
}
