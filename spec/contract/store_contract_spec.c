/* SPDX-License-Identifier: MIT */
/* store_contract_spec.c — what every lk_store must do, whatever keeps the
 * documents: ids, duplicates, both OCC modes of listenkit/store.h, copies,
 * order, count/delete, filters and their errors.
 *
 * The tests are written once and run on every store row of
 * spec/support/store_impls.h: the memory store, PostgreSQL, and PostgreSQL
 * with pushdown off. Behaviours only a real database can show (the data
 * outliving the store) are named test_durable_* and run on the durable
 * rows only. */
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

typedef struct fixture {
    const spec_store_impl *impl;
    lk_store *store;
    lk_collection *items;    /* update-if-current */
    lk_collection *replicas; /* external */
} fixture;

static int setup(void **state)
{
    static const lk_collection_opts external = {.occ = LK_OCC_EXTERNAL};
    const spec_store_impl *impl = *state;
    lk_store *store = spec_store_open(impl);
    fixture *f = test_calloc(1, sizeof *f);
    f->impl = impl;
    f->store = store;
    f->items = store_spec_collection(store, "contract_items", NULL);
    f->replicas = store_spec_collection(store, "contract_replicas", &external);
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

/* ---- helpers ------------------------------------------------------------------ */

static bson_t *with_version(const bson_t *d, int64_t v)
{
    return lk_bson_with_int64(d, "version", v);
}

#define OID "5f1d7f1e2a3b4c5d6e7f8091"

/* ---- ids and duplicates ---------------------------------------------------------- */

static void test_insert_assigns_an_object_id(void **state)
{
    fixture *f = *state;
    bson_t *d = store_spec_insert(f->items, "{\"title\": \"t\"}");
    bson_oid_t id;
    assert_int_equal(lk_bson_get_oid(d, &id, NULL), LK_OK);
    assert_string_equal(store_spec_str(d, "title"), "t");
    bson_t *again = store_spec_load(f->items, d);
    assert_true(bson_equal(again, d));
    bson_destroy(again);
    bson_destroy(d);
}

static void test_insert_keeps_a_caller_id_and_refuses_other_id_types(
    void **state)
{
    fixture *f = *state;
    bson_t *d = store_spec_insert(f->items, "{\"_id\": {\"$oid\": \"" OID
                                            "\"}, \"title\": \"x\"}");
    bson_t *in = store_spec_doc("{\"_id\": \"" OID "\"}"), *out = NULL;
    bson_oid_t id, want;
    lk_error err;
    bson_oid_init_from_string(&want, OID);
    assert_int_equal(lk_bson_get_oid(d, &id, NULL), LK_OK);
    assert_true(bson_oid_equal(&id, &want));
    bson_t *found = NULL;
    assert_int_equal(lk_collection_find_by_id(f->items, &want, &found, NULL),
                     LK_OK);
    assert_string_equal(store_spec_str(found, "title"), "x");
    bson_destroy(found);
    store_spec_assert_refused(
        store_spec_insert_status(f->items, "{\"_id\": 7}", &err),
        LK_ERR_INVALID, &err, "_id");
    /* the ObjectId's hex as a string is not an ObjectId either */
    store_spec_assert_refused(lk_collection_insert(f->items, in, &out, &err),
                              LK_ERR_INVALID, &err, "_id");
    assert_null(out);
    assert_non_null(strstr(err.message, "ObjectId"));
    assert_int_equal(store_spec_count(f->items, "{}"), 1);
    bson_destroy(in);
    bson_destroy(d);
}

static void test_insert_refuses_a_taken_id_and_changes_nothing(void **state)
{
    fixture *f = *state;
    bson_t *d =
        store_spec_insert(f->items, "{\"_id\": {\"$oid\": \"" OID "\"}, "
                                    "\"title\": \"first\"}");
    lk_error err;
    assert_int_equal(store_spec_insert_status(f->items,
                                              "{\"_id\": {\"$oid\": \"" OID
                                              "\"}, "
                                              "\"title\": \"second\"}",
                                              &err),
                     LK_ERR_DUPLICATE);
    assert_non_null(strstr(err.message, OID));
    bson_t *now = store_spec_load(f->items, d);
    assert_string_equal(store_spec_str(now, "title"), "first");
    assert_int_equal(store_spec_count(f->items, "{}"), 1);
    bson_destroy(now);
    bson_destroy(d);
}

static void test_unique_fields_refuse_duplicates(void **state)
{
    fixture *f = *state;
    static const char *const unique[] = {"email", "profile.handle", NULL};
    static const lk_collection_opts opts = {.unique = unique};
    lk_collection *c = NULL;
    lk_error err;
    c = store_spec_collection(f->store, "contract_users", &opts);
    bson_destroy(store_spec_insert(
        c, "{\"email\": \"a@x\", \"profile\": {\"handle\": 1}}"));
    store_spec_assert_refused(
        store_spec_insert_status(c, "{\"email\": \"a@x\"}", &err),
        LK_ERR_DUPLICATE, &err, "\"email\"");
    /* and says which document holds the value */
    assert_non_null(strstr(err.message, "held by _id"));
    /* a dotted path is unique too, and 1 and 1.0 are the same number */
    store_spec_assert_refused(
        store_spec_insert_status(
            c, "{\"email\": \"b@x\", \"profile\": {\"handle\": 1.0}}", &err),
        LK_ERR_DUPLICATE, &err, "profile.handle");
    assert_int_equal(store_spec_count(c, "{}"), 1);
}

static void test_find_by_id_of_a_missing_document_is_not_found(void **state)
{
    fixture *f = *state;
    bson_oid_t id;
    bson_t *out = NULL;
    bson_oid_init_from_string(&id, OID);
    assert_int_equal(lk_collection_find_by_id(f->items, &id, &out, NULL),
                     LK_ERR_NOT_FOUND);
    assert_null(out);
}

/* ---- OCC: update-if-current ------------------------------------------------------ */

static void test_update_if_current_starts_at_zero_and_counts_saves(
    void **state)
{
    fixture *f = *state;
    bson_t *d =
        store_spec_insert(f->items, "{\"title\": \"t\", \"version\": 41}");
    bson_t *odd = store_spec_insert(f->items, "{\"version\": \"seven\"}");
    /* whatever version the document carried, even one that is no number */
    assert_int_equal(store_spec_version(d), 0);
    assert_int_equal(store_spec_version(odd), 0);
    for (int64_t want = 1; want <= 3; want++) {
        bson_t *saved = NULL;
        assert_int_equal(lk_collection_save(f->items, d, &saved, NULL), LK_OK);
        assert_int_equal(store_spec_version(saved), want);
        bson_destroy(d);
        d = saved;
    }
    bson_t *now = store_spec_load(f->items, d);
    assert_int_equal(store_spec_version(now), 3);
    bson_destroy(now);
    bson_destroy(odd);
    bson_destroy(d);
}

static void test_update_if_current_stale_save_changes_nothing(void **state)
{
    fixture *f = *state;
    bson_t *d = store_spec_insert(f->items, "{\"title\": \"t\"}");
    bson_t *a = store_spec_load(f->items, d), *b = store_spec_load(f->items, d);
    bson_t *out = NULL;
    lk_error err;
    assert_int_equal(lk_collection_save(f->items, a, NULL, NULL), LK_OK);
    assert_int_equal(lk_collection_save(f->items, b, &out, &err),
                     LK_ERR_VERSION);
    assert_null(out);
    assert_non_null(strstr(err.message, "contract_items"));
    bson_t *now = store_spec_load(f->items, d);
    assert_int_equal(store_spec_version(now), 1);
    bson_destroy(now);
    bson_destroy(a);
    bson_destroy(b);
    bson_destroy(d);
}

static void test_save_of_an_unknown_id_is_not_found(void **state)
{
    fixture *f = *state;
    bson_t *ghost =
        store_spec_doc("{\"_id\": {\"$oid\": \"" OID "\"}, \"version\": 0}");
    lk_error err;
    store_spec_assert_refused(lk_collection_save(f->items, ghost, NULL, &err),
                              LK_ERR_NOT_FOUND, &err, OID);
    store_spec_assert_refused(
        lk_collection_save(f->replicas, ghost, NULL, &err), LK_ERR_NOT_FOUND,
        &err, OID);
    assert_int_equal(store_spec_count(f->items, "{}"), 0);
    assert_int_equal(store_spec_count(f->replicas, "{}"), 0);
    bson_destroy(ghost);
}

static void
test_save_without_an_id_or_a_version_is_invalid_in_both_modes(void **state)
{
    fixture *f = *state;
    bson_t *a = store_spec_insert(f->items, "{}"),
           *b = store_spec_insert(f->replicas, "{\"version\": 0}");
    bson_t *a_bare = bson_new(), *b_bare = bson_new();
    bson_t *no_id = store_spec_doc("{\"version\": 0}");
    lk_error err;
    bson_copy_to_excluding_noinit(a, a_bare, "version", NULL);
    bson_copy_to_excluding_noinit(b, b_bare, "version", NULL);
    /* NOT_FOUND would mean "no such document": this is bad input */
    store_spec_assert_refused(lk_collection_save(f->items, no_id, NULL, &err),
                              LK_ERR_INVALID, &err, "_id");
    store_spec_assert_refused(
        lk_collection_save(f->replicas, no_id, NULL, &err), LK_ERR_INVALID,
        &err, "_id");
    store_spec_assert_refused(lk_collection_save(f->items, a_bare, NULL, &err),
                              LK_ERR_INVALID, &err, "version");
    store_spec_assert_refused(
        lk_collection_save(f->replicas, b_bare, NULL, &err), LK_ERR_INVALID,
        &err, "version");
    /* the same status when the caller asks for no message */
    assert_int_equal(lk_collection_save(f->items, a_bare, NULL, NULL),
                     LK_ERR_INVALID);
    bson_t *now = store_spec_load(f->items, a);
    assert_int_equal(store_spec_version(now), 0);
    bson_destroy(now);
    bson_destroy(no_id);
    bson_destroy(a_bare);
    bson_destroy(b_bare);
    bson_destroy(a);
    bson_destroy(b);
}

/* ---- OCC: external -------------------------------------------------------------- */

static void test_external_insert_keeps_the_version_and_requires_one(
    void **state)
{
    fixture *f = *state;
    static const struct {
        const char *json, *expect;
    } bad[] = {
        {"{\"title\": \"t\"}", "required"},
        {"{\"version\": -1}", ">= 0"},
        {"{\"version\": \"1\"}", "integer"},
        {"{\"version\": 1.5}", "integer"},
    };
    bson_t *d = store_spec_insert(f->replicas, "{\"version\": 4}");
    assert_int_equal(store_spec_version(d), 4);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_error err;
        store_spec_assert_refused(
            store_spec_insert_status(f->replicas, bad[i].json, &err),
            LK_ERR_INVALID, &err, "version");
        if (strstr(err.message, bad[i].expect) == NULL)
            fail_msg("%s: message \"%s\" lacks \"%s\"", bad[i].json,
                     err.message, bad[i].expect);
    }
    assert_int_equal(store_spec_count(f->replicas, "{}"), 1);
    bson_destroy(d);
}

static void test_external_save_applies_only_the_next_version(void **state)
{
    fixture *f = *state;
    bson_t *d =
        store_spec_insert(f->replicas, "{\"title\": \"v0\", \"version\": 0}");
    bson_t *v1 = with_version(d, 1), *v2 = with_version(d, 2);
    bson_t *v1t = store_spec_with_str(v1, "title", "v1");
    bson_t *v2t = store_spec_with_str(v2, "title", "v2"), *saved = NULL;
    lk_error err;
    /* v2 before v1: out of order, refused, nothing changes */
    store_spec_assert_refused(lk_collection_save(f->replicas, v2t, NULL, &err),
                              LK_ERR_VERSION, &err, "does not follow");
    bson_t *now = store_spec_load(f->replicas, d);
    assert_string_equal(store_spec_str(now, "title"), "v0");
    assert_int_equal(store_spec_version(now), 0);
    bson_destroy(now);
    /* the stored version again is not the next one */
    assert_int_equal(lk_collection_save(f->replicas, d, NULL, NULL),
                     LK_ERR_VERSION);
    /* v1 applies as given */
    assert_int_equal(lk_collection_save(f->replicas, v1t, &saved, NULL), LK_OK);
    assert_int_equal(store_spec_version(saved), 1);
    bson_destroy(saved);
    /* the same version again is a duplicate delivery: refused */
    assert_int_equal(lk_collection_save(f->replicas, v1t, NULL, NULL),
                     LK_ERR_VERSION);
    /* and now v2 follows */
    assert_int_equal(lk_collection_save(f->replicas, v2t, NULL, NULL), LK_OK);
    now = store_spec_load(f->replicas, d);
    assert_string_equal(store_spec_str(now, "title"), "v2");
    assert_int_equal(store_spec_version(now), 2);
    bson_destroy(now);
    bson_destroy(v1);
    bson_destroy(v1t);
    bson_destroy(v2);
    bson_destroy(v2t);
    bson_destroy(d);
}

static void test_versions_come_back_as_int64(void **state)
{
    fixture *f = *state;
    bson_t *a = store_spec_insert(f->replicas, "{\"version\": 5}"); /* int32 */
    bson_t *b =
        store_spec_insert(f->replicas, "{\"version\": 3.0}"); /* double */
    bson_t *c = store_spec_insert(f->items, "{}");
    const bson_t *all[] = {a, b, c};
    const int64_t want[] = {5, 3, 0};
    for (size_t i = 0; i < 3; i++) {
        bson_iter_t it;
        assert_true(bson_iter_init_find(&it, all[i], "version"));
        assert_true(BSON_ITER_HOLDS_INT64(&it));
        assert_int_equal(bson_iter_int64(&it), want[i]);
    }
    bson_destroy(a);
    bson_destroy(b);
    bson_destroy(c);
}

/* ---- find, count, delete, filters --------------------------------------------------- */

static void test_find_returns_matches_in_insertion_order(void **state)
{
    fixture *f = *state;
    store_spec_insert_numbers(f->items, 1, 6);
    assert_string_equal(store_spec_find(f->items, "{}", "n", 0, 0),
                        "1 2 3 4 5 6");
    assert_string_equal(store_spec_find(f->items, "{\"odd\": true}", "n", 0, 0),
                        "1 3 5");
    assert_string_equal(store_spec_find(f->items, "{\"n\": 99}", "n", 0, 0),
                        "");
}

static void test_find_applies_skip_then_limit(void **state)
{
    fixture *f = *state;
    store_spec_insert_numbers(f->items, 1, 6);
    assert_string_equal(store_spec_find(f->items, "{}", "n", 2, 0), "3 4 5 6");
    assert_string_equal(store_spec_find(f->items, "{}", "n", 0, 2), "1 2");
    assert_string_equal(store_spec_find(f->items, "{}", "n", 1, 3), "2 3 4");
    assert_string_equal(
        store_spec_find(f->items, "{\"odd\": false}", "n", 1, 1), "4");
    assert_string_equal(store_spec_find(f->items, "{}", "n", 10, 1), "");
}

static void test_count_counts_the_matches(void **state)
{
    fixture *f = *state;
    int64_t n = -1;
    bson_t *odd = store_spec_doc("{\"odd\": true}");
    assert_int_equal(lk_collection_count(f->items, NULL, &n, NULL), LK_OK);
    assert_int_equal(n, 0);
    store_spec_insert_numbers(f->items, 1, 5);
    assert_int_equal(lk_collection_count(f->items, NULL, &n, NULL), LK_OK);
    assert_int_equal(n, 5);
    assert_int_equal(lk_collection_count(f->items, odd, &n, NULL), LK_OK);
    assert_int_equal(n, 3);
    bson_destroy(odd);
}

static void test_delete_removes_the_matches_and_says_how_many(void **state)
{
    fixture *f = *state;
    store_spec_insert_numbers(f->items, 1, 6);
    bson_t *odd = store_spec_doc("{\"odd\": true}");
    bson_t *empty = bson_new();
    int64_t deleted = -1;
    assert_int_equal(lk_collection_delete(f->items, odd, &deleted, NULL),
                     LK_OK);
    assert_int_equal(deleted, 3);
    assert_string_equal(store_spec_find(f->items, "{}", "n", 0, 0), "2 4 6");
    assert_int_equal(lk_collection_delete(f->items, odd, &deleted, NULL),
                     LK_OK);
    assert_int_equal(deleted, 0);
    /* new documents go after the survivors */
    store_spec_insert_numbers(f->items, 7, 7);
    assert_string_equal(store_spec_find(f->items, "{}", "n", 0, 0), "2 4 6 7");
    assert_int_equal(lk_collection_delete(f->items, empty, &deleted, NULL),
                     LK_OK);
    assert_int_equal(deleted, 4);
    assert_int_equal(store_spec_count(f->items, "{}"), 0);
    bson_destroy(odd);
    bson_destroy(empty);
}

static void test_delete_without_a_filter_is_invalid(void **state)
{
    fixture *f = *state;
    int64_t deleted = -1;
    lk_error err;
    store_spec_insert_numbers(f->items, 1, 2);
    /* an empty filter deletes all; a missing one is a mistake */
    store_spec_assert_refused(
        lk_collection_delete(f->items, NULL, &deleted, &err), LK_ERR_INVALID,
        &err, "filter");
    assert_int_equal(store_spec_count(f->items, "{}"), 2);
}

static void test_filters_compare_numbers_across_types(void **state)
{
    fixture *f = *state;
    bson_destroy(store_spec_insert(f->items, "{\"n\": 1, \"o\": {\"p\": 2}}"));
    bson_destroy(
        store_spec_insert(f->items, "{\"n\": {\"$numberLong\": \"2\"}}"));
    bson_destroy(store_spec_insert(f->items, "{\"n\": 2.5}"));
    assert_int_equal(store_spec_count(f->items, "{\"n\": 1.0}"), 1);
    assert_int_equal(store_spec_count(f->items, "{\"n\": {\"$gte\": 2}}"), 2);
    assert_int_equal(store_spec_count(f->items, "{\"n\": {\"$in\": [2.0, 7]}}"),
                     1);
    assert_int_equal(
        store_spec_count(f->items, "{\"o.p\": {\"$numberLong\": \"2\"}}"), 1);
    assert_int_equal(store_spec_count(f->items,
                                      "{\"$or\": [{\"n\": 1}, "
                                      "{\"n\": {\"$lt\": 3, \"$gt\": 2}}]}"),
                     2);
}

static void test_unsupported_operator_is_invalid_even_when_empty(void **state)
{
    fixture *f = *state;
    bson_t *filter = store_spec_doc("{\"n\": {\"$elemMatch\": {\"$gt\": 1}}}");
    int64_t n = -1;
    lk_error err;
    assert_int_equal(lk_collection_count(f->items, filter, &n, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "$elemMatch"));
    bson_destroy(filter);
}

static void
test_reopening_a_collection_with_other_options_is_invalid(void **state)
{
    fixture *f = *state;
    static const lk_collection_opts external = {.occ = LK_OCC_EXTERNAL};
    static const lk_collection_opts rev = {.version_key = "rev"};
    static const char *const unique[] = {"title", NULL};
    static const lk_collection_opts uniq = {.unique = unique};
    static const lk_collection_opts same = {.version_key = "version"};
    lk_collection *c = NULL;
    lk_error err;

    assert_int_equal(
        lk_store_collection(f->store, "contract_items", &external, &c, &err),
        LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "contract_items"));
    assert_null(c);
    assert_int_equal(
        lk_store_collection(f->store, "contract_items", &rev, &c, NULL),
        LK_ERR_INVALID);
    assert_int_equal(
        lk_store_collection(f->store, "contract_items", &uniq, &c, NULL),
        LK_ERR_INVALID);
    /* the same options (the default spelled out) give the same collection */
    c = store_spec_collection(f->store, "contract_items", &same);
    assert_ptr_equal(c, f->items);

    /* unique fields: the same set in any order, or nothing */
    static const char *const ab[] = {"a", "b", NULL}, *const ba[] = {"b", "a",
                                                                     NULL};
    static const char *const ac[] = {"a", "c", NULL};
    static const lk_collection_opts o_ab = {.unique = ab},
                                    o_ba = {.unique = ba},
                                    o_ac = {.unique = ac};
    lk_collection *first = NULL;
    first = store_spec_collection(f->store, "contract_pairs", &o_ab);
    c = store_spec_collection(f->store, "contract_pairs", &o_ba);
    assert_ptr_equal(c, first);
    assert_int_equal(
        lk_store_collection(f->store, "contract_pairs", &o_ac, &c, &err),
        LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "unique fields"));
}

/* ---- the table -------------------------------------------------------------------- */

static const struct {
    const char *name;
    CMUnitTestFunction fn;
} CONTRACT[] = {
#define C(fn) {#fn, fn}
    C(test_insert_assigns_an_object_id),
    C(test_insert_keeps_a_caller_id_and_refuses_other_id_types),
    C(test_insert_refuses_a_taken_id_and_changes_nothing),
    C(test_unique_fields_refuse_duplicates),
    C(test_find_by_id_of_a_missing_document_is_not_found),
    C(test_update_if_current_starts_at_zero_and_counts_saves),
    C(test_update_if_current_stale_save_changes_nothing),
    C(test_save_of_an_unknown_id_is_not_found),
    C(test_save_without_an_id_or_a_version_is_invalid_in_both_modes),
    C(test_external_insert_keeps_the_version_and_requires_one),
    C(test_external_save_applies_only_the_next_version),
    C(test_versions_come_back_as_int64),
    C(test_find_returns_matches_in_insertion_order),
    C(test_find_applies_skip_then_limit),
    C(test_count_counts_the_matches),
    C(test_delete_removes_the_matches_and_says_how_many),
    C(test_delete_without_a_filter_is_invalid),
    C(test_filters_compare_numbers_across_types),
    C(test_unsupported_operator_is_invalid_even_when_empty),
    C(test_reopening_a_collection_with_other_options_is_invalid),
#undef C
};

#define N_CONTRACT (sizeof CONTRACT / sizeof CONTRACT[0])

int main(void)
{
    struct CMUnitTest tests[N_CONTRACT];
    for (size_t t = 0; t < N_CONTRACT; t++)
        tests[t] = (struct CMUnitTest){
            .name = CONTRACT[t].name,
            .test_func = CONTRACT[t].fn,
            .setup_func = setup,
            .teardown_func = teardown,
        };
    return spec_store_run(tests, N_CONTRACT);
}
