/* SPDX-License-Identifier: MIT */
/* store_save_spec.c — the order in which every store judges a save
 * (spec/support/store_impls.h): the document is looked up first, so a
 * missing one is LK_ERR_NOT_FOUND and a stale one LK_ERR_VERSION whatever
 * else is wrong with it; only a current document's fields are refused
 * (LK_ERR_INVALID naming the field). And a saved document keeps its place
 * in insertion order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "listenkit.h"
#include "store_impls.h"
#include "store_spec.h"

#define OID "5f1d7f1e2a3b4c5d6e7f8091"

typedef struct fixture {
    lk_store *store;
    lk_collection *users;    /* update-if-current, unique "email" */
    lk_collection *replicas; /* external, unique "email" */
} fixture;

static int setup(void **state)
{
    static const char *const unique[] = {"email", NULL};
    static const lk_collection_opts users = {.unique = unique};
    static const lk_collection_opts replicas = {.occ = LK_OCC_EXTERNAL,
                                                .unique = unique};
    fixture *f = test_calloc(1, sizeof *f);
    f->store = spec_store_open(*state);
    f->users = store_spec_collection(f->store, "save_users", &users);
    f->replicas = store_spec_collection(f->store, "save_replicas", &replicas);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    spec_store_close(f->store);
    test_free(f);
    return 0;
}

static void test_a_missing_document_is_not_found_whatever_its_fields(
    void **state)
{
    fixture *f = *state;
    static const char *const ghosts[] = {
        "{\"_id\": {\"$oid\": \"" OID "\"}}",                      /* no version */
        "{\"_id\": {\"$oid\": \"" OID "\"}, \"version\": \"x\"}",  /* not a number */
        "{\"_id\": {\"$oid\": \"" OID "\"}, \"version\": 0, \"email\": [1]}",
    };
    for (size_t i = 0; i < sizeof ghosts / sizeof ghosts[0]; i++) {
        bson_t *ghost = store_spec_doc(ghosts[i]);
        lk_error err;
        store_spec_assert_refused(lk_collection_save(f->users, ghost, NULL,
                                                     &err),
                                  LK_ERR_NOT_FOUND, &err, OID);
        store_spec_assert_refused(lk_collection_save(f->replicas, ghost, NULL,
                                                     &err),
                                  LK_ERR_NOT_FOUND, &err, OID);
        bson_destroy(ghost);
    }
}

static void test_a_stale_document_is_a_version_conflict_whatever_its_fields(
    void **state)
{
    fixture *f = *state;
    bson_t *d = store_spec_insert(f->users, "{\"email\": \"a@x\"}");
    assert_int_equal(lk_collection_save(f->users, d, NULL, NULL), LK_OK);
    /* d still says version 0; the store holds 1 */
    bson_t *bad = bson_new(), arr;
    lk_error err;
    bson_copy_to_excluding_noinit(d, bad, "email", NULL);
    BSON_APPEND_ARRAY_BEGIN(bad, "email", &arr);
    BSON_APPEND_INT32(&arr, "0", 1);
    bson_append_array_end(bad, &arr);
    store_spec_assert_refused(lk_collection_save(f->users, bad, NULL, &err),
                              LK_ERR_VERSION, &err, "stale");
    bson_destroy(bad);
    bson_destroy(d);
}

static void test_a_current_document_with_a_bad_field_is_invalid(void **state)
{
    fixture *f = *state;
    bson_t *d = store_spec_insert(f->users, "{\"email\": \"a@x\"}");
    bson_t *bad = bson_new(), *bare = bson_new(), arr;
    lk_error err;
    bson_copy_to_excluding_noinit(d, bad, "email", NULL);
    BSON_APPEND_ARRAY_BEGIN(bad, "email", &arr);
    BSON_APPEND_INT32(&arr, "0", 1);
    bson_append_array_end(bad, &arr);
    store_spec_assert_refused(lk_collection_save(f->users, bad, NULL, &err),
                              LK_ERR_INVALID, &err, "\"email\"");
    bson_copy_to_excluding_noinit(d, bare, "version", NULL);
    store_spec_assert_refused(lk_collection_save(f->users, bare, NULL, &err),
                              LK_ERR_INVALID, &err, "version");
    /* nothing changed */
    bson_t *now = store_spec_load(f->users, d);
    assert_int_equal(store_spec_version(now), 0);
    assert_string_equal(store_spec_str(now, "email"), "a@x");
    bson_destroy(now);
    bson_destroy(bare);
    bson_destroy(bad);
    bson_destroy(d);
}

static void test_a_saved_document_keeps_its_place_in_insertion_order(
    void **state)
{
    fixture *f = *state;
    store_spec_insert_numbers(f->users, 1, 4);
    bson_t *two = NULL, *filter = store_spec_doc("{\"n\": 2}");
    assert_int_equal(lk_collection_find_one(f->users, filter, &two, NULL),
                     LK_OK);
    bson_t *changed = lk_bson_with_int64(two, "n", 20);
    assert_int_equal(lk_collection_save(f->users, changed, NULL, NULL), LK_OK);
    assert_string_equal(store_spec_find(f->users, "{}", "n", 0, 0),
                        "1 20 3 4");
    bson_destroy(changed);
    bson_destroy(filter);
    bson_destroy(two);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_a_missing_document_is_not_found_whatever_its_fields),
        T(test_a_stale_document_is_a_version_conflict_whatever_its_fields),
        T(test_a_current_document_with_a_bad_field_is_invalid),
        T(test_a_saved_document_keeps_its_place_in_insertion_order),
#undef T
    };
    return spec_store_run(tests, sizeof tests / sizeof tests[0]);
}
