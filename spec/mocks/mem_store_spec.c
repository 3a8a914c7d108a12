/* SPDX-License-Identifier: MIT */
/* mem_store_spec.c — what is the memory store's own: ids placed first,
 * invalid BSON and MongoDB's limits, its unique indexes, its deep copies,
 * its hash index under many documents, collection options, and threads
 * racing on one document — plus the course's two OCC specs. What every
 * store promises (store.h: ids, duplicates, both OCC modes, order, count,
 * delete) is in spec/contract/store_contract_spec.c, run per store;
 * filters have their own spec (spec/framework/filter_spec.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "listenkit.h"
#include "mem_store.h"
#include "store_spec.h"

typedef struct fixture {
    lk_store *store;
    lk_collection *coll; /* update-if-current, "tickets" */
} fixture;

static int setup(void **state)
{
    fixture *f = test_calloc(1, sizeof *f);
    f->store = lk_mem_store_new();
    assert_non_null(f->store);
    f->coll = store_spec_collection(f->store, "tickets", NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    lk_store_free(f->store);
    test_free(f);
    return 0;
}

/* ---- ids ------------------------------------------------------------------ */

static void test_insert_adds_an_object_id_first_and_version_zero(void **state)
{
    fixture *f = *state;
    bson_t *t =
        store_spec_insert(f->coll, "{\"title\": \"concert\", \"price\": 20}");
    bson_iter_t it;

    assert_true(bson_iter_init(&it, t) && bson_iter_next(&it));
    assert_string_equal(bson_iter_key(&it), "_id");
    assert_true(BSON_ITER_HOLDS_OID(&it));
    assert_int_equal(store_spec_version(t), 0);
    assert_true(bson_iter_init_find(&it, t, "version"));
    assert_true(BSON_ITER_HOLDS_INT64(&it));
    assert_string_equal(store_spec_str(t, "title"), "concert");
    bson_destroy(t);
}

static void test_insert_generates_distinct_ids(void **state)
{
    fixture *f = *state;
    bson_t *a = store_spec_insert(f->coll, "{\"n\": 1}"),
           *b = store_spec_insert(f->coll, "{\"n\": 1}");
    bson_oid_t ia, ib;
    assert_int_equal(lk_bson_get_oid(a, &ia, NULL), LK_OK);
    assert_int_equal(lk_bson_get_oid(b, &ib, NULL), LK_OK);
    assert_false(bson_oid_equal(&ia, &ib));
    assert_int_equal(store_spec_count(f->coll, "{}"), 2);
    bson_destroy(a);
    bson_destroy(b);
}

static void test_invalid_bson_is_refused(void **state)
{
    fixture *f = *state;
    /* a 12-byte document whose one element claims a string longer than
     * the document */
    static const uint8_t bad[] = {12, 0, 0, 0, 0x02, 'a', 0,
                                  100, 0, 0, 0, 0};
    bson_t b;
    lk_error err;
    assert_true(bson_init_static(&b, bad, sizeof bad));
    assert_int_equal(lk_collection_insert(f->coll, &b, NULL, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "not valid BSON"));
    assert_int_equal(store_spec_count(f->coll, "{}"), 0);
}

/* Where `needle` (n bytes) first occurs in `hay`; fails the test when it
 * does not. */
static size_t offset_of(const uint8_t *hay, size_t len, const void *needle,
                        size_t n)
{
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return i;
    fail_msg("spec: bytes not found");
    return 0;
}

static void assert_refused_as_invalid_bson(lk_collection *c, const bson_t *d,
                                           bool save)
{
    lk_error err;
    lk_status s = save ? lk_collection_save(c, d, NULL, &err)
                       : lk_collection_insert(c, d, NULL, &err);
    assert_int_equal(s, LK_ERR_INVALID);
    assert_non_null(strstr(err.message, save ? "tickets.save" : "tickets.insert"));
    assert_non_null(strstr(err.message, "not valid BSON (at byte"));
}

static void test_invalid_bson_inside_a_sub_document_is_refused(void **state)
{
    fixture *f = *state;
    bson_t *stored =
        store_spec_insert(f->coll, "{\"title\": \"t\", "
                                   "\"meta\": {\"tags\": [\"abc\"]}}");
    uint8_t bytes[256];
    bson_t bad;
    assert_true(stored->len <= sizeof bytes);
    memcpy(bytes, bson_get_data(stored), stored->len);
    /* the string "abc" (4 bytes with its NUL), two levels down, claims 100
     * bytes: every enclosing length is still right */
    bytes[offset_of(bytes, stored->len, "abc", 4) - 4] = 100;
    assert_true(bson_init_static(&bad, bytes, stored->len));

    assert_refused_as_invalid_bson(f->coll, &bad, true);
    assert_int_equal(store_spec_count(f->coll, "{}"), 1);
    /* the stored document is untouched by the refused save */
    bson_t *now = store_spec_load(f->coll, stored);
    assert_true(bson_equal(now, stored));
    /* and the same bytes as a new document are refused too */
    bson_t *no_id = bson_new();
    bson_copy_to_excluding_noinit(&bad, no_id, "_id", NULL);
    assert_refused_as_invalid_bson(f->coll, no_id, false);
    assert_int_equal(store_spec_count(f->coll, "{}"), 1);
    bson_destroy(no_id);
    bson_destroy(now);
    bson_destroy(stored);
}

static void test_utf8_field_names_are_kept(void **state)
{
    fixture *f = *state;
    bson_t *t = store_spec_insert(f->coll, "{\"caf\u00e9\": \"cr\u00e8me\", "
                                           "\"sub\": {\"na\u00efve\": 1}}");
    bson_t *now = store_spec_load(f->coll, t);
    assert_string_equal(store_spec_str(now, "caf\xc3\xa9"), "cr\xc3\xa8me");
    bson_iter_t it, found;
    assert_true(bson_iter_init(&it, now));
    assert_true(bson_iter_find_descendant(&it, "sub.na\xc3\xafve", &found));
    bson_destroy(now);
    bson_destroy(t);
}

static void test_sub_document_field_name_that_is_not_utf8_is_refused(
    void **state)
{
    fixture *f = *state;
    bson_t *good = store_spec_doc("{\"sub\": {\"k\": 1}}");
    uint8_t bytes[64];
    bson_t bad;
    memcpy(bytes, bson_get_data(good), good->len);
    bytes[offset_of(bytes, good->len, "k", 2)] = 0xff;
    assert_true(bson_init_static(&bad, bytes, good->len));
    assert_refused_as_invalid_bson(f->coll, &bad, false);
    assert_int_equal(store_spec_count(f->coll, "{}"), 0);
    bson_destroy(good);
}

static void test_sub_document_without_its_terminator_is_refused(void **state)
{
    fixture *f = *state;
    bson_t *good = store_spec_doc("{\"sub\": {\"k\": 1}, \"n\": 2}");
    uint8_t bytes[64];
    bson_t bad;
    memcpy(bytes, bson_get_data(good), good->len);
    /* the byte that ends {"k": 1}, just before "n" */
    bytes[offset_of(bytes, good->len, "n", 2) - 2] = 7;
    assert_true(bson_init_static(&bad, bytes, good->len));
    assert_refused_as_invalid_bson(f->coll, &bad, false);
    assert_int_equal(store_spec_count(f->coll, "{}"), 0);
    bson_destroy(good);
}

static void test_code_with_scope_is_stored_and_a_corrupt_scope_refused(
    void **state)
{
    fixture *f = *state;
    bson_t *t = store_spec_insert(f->coll, "{\"fn\": {\"$code\": \"f(x)\", "
                                           "\"$scope\": {\"x\": \"abc\"}}}");
    bson_t *now = store_spec_load(f->coll, t);
    bson_iter_t it;
    uint32_t len = 0, scope_len = 0;
    const uint8_t *scope = NULL;
    assert_true(bson_iter_init_find(&it, now, "fn"));
    assert_string_equal(bson_iter_codewscope(&it, &len, &scope_len, &scope),
                        "f(x)");

    /* the scope's string claims more bytes than the scope holds */
    uint8_t bytes[128];
    bson_t bad;
    bson_t *fresh = store_spec_doc("{\"fn\": {\"$code\": \"f(x)\", "
                                   "\"$scope\": {\"x\": \"abc\"}}}");
    memcpy(bytes, bson_get_data(fresh), fresh->len);
    bytes[offset_of(bytes, fresh->len, "abc", 4) - 4] = 60;
    assert_true(bson_init_static(&bad, bytes, fresh->len));
    assert_refused_as_invalid_bson(f->coll, &bad, false);
    assert_int_equal(store_spec_count(f->coll, "{}"), 1);
    bson_destroy(fresh);
    bson_destroy(now);
    bson_destroy(t);
}

static void test_field_name_that_is_not_utf8_is_refused(void **state)
{
    fixture *f = *state;
    /* {"\xff": 1}: 12 bytes, one int32 whose key is not UTF-8 */
    static const uint8_t bytes[] = {12, 0, 0, 0, 0x10, 0xff, 0,
                                    1, 0, 0, 0, 0};
    bson_t bad;
    assert_true(bson_init_static(&bad, bytes, sizeof bytes));
    assert_refused_as_invalid_bson(f->coll, &bad, false);
    assert_int_equal(store_spec_count(f->coll, "{}"), 0);
}

/* A document holding `levels` documents inside one another:
 * {a: {a: ... {}}}. Layout: level i starts at byte 7i (length, type 0x03,
 * "a\0"); the innermost {} is 5 bytes; then one terminator per level. */
static bson_t *nested(size_t levels)
{
    size_t total = 8 * levels + 5;
    uint8_t *b = test_calloc(1, total);
    for (size_t i = 0; i <= levels; i++) {
        uint32_t len = (uint32_t)(8 * (levels - i) + 5);
        uint8_t *p = b + 7 * i;
        p[0] = (uint8_t)(len & 0xff);
        p[1] = (uint8_t)(len >> 8);
        if (i < levels) {
            p[4] = 0x03;
            p[5] = 'a';
        }
    }
    bson_t *d = bson_new_from_data(b, total);
    test_free(b);
    assert_non_null(d);
    return d;
}

static void test_documents_nest_at_most_100_levels_as_in_mongodb(void **state)
{
    fixture *f = *state;
    bson_t *deep = nested(99), *deeper = nested(100), *out = NULL;
    lk_error err;

    /* the top document and 99 inside it: 100 levels */
    assert_int_equal(lk_collection_insert(f->coll, deep, &out, &err), LK_OK);
    assert_non_null(out);
    assert_int_equal(lk_collection_insert(f->coll, deeper, NULL, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "tickets.insert"));
    assert_non_null(strstr(err.message, "nested more than 100 levels"));
    assert_int_equal(store_spec_count(f->coll, "{}"), 1);
    bson_destroy(out);
    bson_destroy(deep);
    bson_destroy(deeper);
}

static void test_documents_over_16_mib_are_refused_as_in_mongodb(void **state)
{
    fixture *f = *state;
    size_t n = 16 * 1024 * 1024;
    uint8_t *blob = test_calloc(1, n);
    bson_t *big = bson_new();
    lk_error err;
    assert_true(BSON_APPEND_BINARY(big, "blob", BSON_SUBTYPE_BINARY, blob,
                                   (uint32_t)n));
    assert_int_equal(lk_collection_insert(f->coll, big, NULL, &err),
                     LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "tickets.insert"));
    assert_non_null(strstr(err.message, "more than the 16777216"));
    assert_int_equal(store_spec_count(f->coll, "{}"), 0);
    bson_destroy(big);
    test_free(blob);
}

static void test_repeated_id_or_version_fields_are_stored_once(void **state)
{
    fixture *f = *state;
    bson_oid_t first, second;
    bson_t *d = bson_new(), *out = NULL;
    bson_iter_t it;
    static const char *const keys[] = {"_id", "title", "version", "price"};
    size_t n = 0;

    bson_oid_init_from_string(&first, "5f1d7f1e2a3b4c5d6e7f8091");
    bson_oid_init_from_string(&second, "5f1d7f1e2a3b4c5d6e7f8092");
    BSON_APPEND_UTF8(d, "title", "t");
    BSON_APPEND_INT32(d, "version", 5);
    BSON_APPEND_OID(d, "_id", &first);
    BSON_APPEND_INT32(d, "version", 7);
    BSON_APPEND_OID(d, "_id", &second);
    BSON_APPEND_INT32(d, "price", 3);
    assert_int_equal(lk_collection_insert(f->coll, d, &out, NULL), LK_OK);

    /* _id first (the first one given), the version where it first was */
    assert_true(bson_iter_init(&it, out));
    while (bson_iter_next(&it)) {
        assert_true(n < 4);
        assert_string_equal(bson_iter_key(&it), keys[n]);
        n++;
    }
    assert_int_equal(n, 4);
    assert_int_equal(store_spec_version(out), 0);
    assert_true(bson_iter_init_find(&it, out, "_id"));
    assert_true(bson_oid_equal(bson_iter_oid(&it), &first));
    bson_destroy(out);
    bson_destroy(d);
}

static void test_find_by_id_with_more_fields_still_matches_them(void **state)
{
    fixture *f = *state;
    bson_t *t = store_spec_insert(f->coll, "{\"title\": \"concert\"}");
    bson_oid_t id, other;
    bson_t *out = NULL;
    assert_int_equal(lk_bson_get_oid(t, &id, NULL), LK_OK);
    bson_oid_init_from_string(&other, "5f1d7f1e2a3b4c5d6e7f8099");

    bson_t *same = BCON_NEW("_id", BCON_OID(&id), "title", "concert");
    bson_t *differs = BCON_NEW("_id", BCON_OID(&id), "title", "opera");
    bson_t *unknown = BCON_NEW("_id", BCON_OID(&other));
    assert_int_equal(lk_collection_find_one(f->coll, same, &out, NULL), LK_OK);
    assert_true(bson_equal(out, t));
    bson_destroy(out);
    out = NULL;
    assert_int_equal(lk_collection_find_one(f->coll, differs, &out, NULL),
                     LK_ERR_NOT_FOUND);
    assert_null(out);
    assert_int_equal(lk_collection_find_one(f->coll, unknown, &out, NULL),
                     LK_ERR_NOT_FOUND);
    assert_null(out);

    bson_destroy(same);
    bson_destroy(differs);
    bson_destroy(unknown);
    bson_destroy(t);
}

/* ---- update-if-current (the course's two specs first) -------------------- */

static void test_implements_optimistic_concurrency_control(void **state)
{
    fixture *f = *state;
    bson_t *ticket =
        store_spec_insert(f->coll, "{\"title\": \"concert\", \"price\": 5, "
                                   "\"userId\": \"123\"}");
    /* fetch the ticket twice */
    bson_t *first = store_spec_load(f->coll, ticket),
           *second = store_spec_load(f->coll, ticket);
    /* make two separate changes */
    bson_t *first_changed = store_spec_with_str(first, "title", "ten");
    bson_t *second_changed = store_spec_with_str(second, "title", "fifteen");
    lk_error err;

    assert_int_equal(lk_collection_save(f->coll, first_changed, NULL, &err),
                     LK_OK);
    bson_t *out = NULL;
    assert_int_equal(lk_collection_save(f->coll, second_changed, &out, &err),
                     LK_ERR_VERSION);
    assert_null(out);
    assert_non_null(strstr(err.message, "stale"));

    /* the stale save changed nothing */
    bson_t *now = store_spec_load(f->coll, ticket);
    assert_string_equal(store_spec_str(now, "title"), "ten");
    assert_int_equal(store_spec_version(now), 1);
    assert_int_equal(store_spec_count(f->coll, "{}"), 1);

    bson_destroy(now);
    bson_destroy(first_changed);
    bson_destroy(second_changed);
    bson_destroy(first);
    bson_destroy(second);
    bson_destroy(ticket);
}

static void test_increments_the_version_number_on_multiple_saves(void **state)
{
    fixture *f = *state;
    bson_t *ticket =
        store_spec_insert(f->coll, "{\"title\": \"concert\", \"price\": 20}");
    assert_int_equal(store_spec_version(ticket), 0);
    for (int64_t want = 1; want <= 2; want++) {
        bson_t *saved = NULL;
        assert_int_equal(lk_collection_save(f->coll, ticket, &saved, NULL),
                         LK_OK);
        assert_int_equal(store_spec_version(saved), want);
        bson_destroy(ticket);
        ticket = saved;
    }
    bson_t *now = store_spec_load(f->coll, ticket);
    assert_int_equal(store_spec_version(now), 2);
    bson_destroy(now);
    bson_destroy(ticket);
}

static void test_save_keeps_the_document_as_given_with_the_next_version(
    void **state)
{
    fixture *f = *state;
    bson_t *t = store_spec_insert(f->coll, "{\"title\": \"x\", \"price\": 5}");
    bson_t *changed = store_spec_with_str(t, "title", "y"), *saved = NULL;
    assert_int_equal(lk_collection_save(f->coll, changed, &saved, NULL),
                     LK_OK);
    bson_t *now = store_spec_load(f->coll, t);
    assert_true(bson_equal(now, saved));
    assert_string_equal(store_spec_str(now, "title"), "y");
    assert_int_equal(store_spec_version(now), 1);
    bson_destroy(now);
    bson_destroy(saved);
    bson_destroy(changed);
    bson_destroy(t);
}

static void test_custom_version_key_is_used(void **state)
{
    fixture *f = *state;
    static const lk_collection_opts opts = {.version_key = "rev"};
    lk_collection *c = NULL;
    c = store_spec_collection(f->store, "revs", &opts);
    bson_t *d = store_spec_insert(c, "{\"version\": \"untouched\"}"),
           *saved = NULL;
    int64_t rev = -1;
    assert_int_equal(lk_bson_get_int64(d, "rev", &rev, NULL), LK_OK);
    assert_int_equal(rev, 0);
    assert_int_equal(lk_collection_save(c, d, &saved, NULL), LK_OK);
    assert_int_equal(lk_bson_get_int64(saved, "rev", &rev, NULL), LK_OK);
    assert_int_equal(rev, 1);
    assert_string_equal(store_spec_str(saved, "version"), "untouched");
    bson_destroy(saved);
    bson_destroy(d);
}

/* ---- unique indexes -------------------------------------------------------- */

static lk_collection *users(fixture *f)
{
    static const char *const unique[] = {"email", "profile.handle", NULL};
    static const lk_collection_opts opts = {.unique = unique};
    lk_collection *c = NULL;
    c = store_spec_collection(f->store, "users", &opts);
    return c;
}

static void test_unique_field_ignores_documents_without_the_field(void **state)
{
    fixture *f = *state;
    lk_collection *c = users(f);
    bson_t *a = store_spec_insert(c, "{\"name\": \"a\"}");
    bson_t *b = store_spec_insert(c, "{\"name\": \"b\", \"email\": null}");
    bson_t *d = store_spec_insert(c, "{\"name\": \"d\"}");
    assert_int_equal(store_spec_count(c, "{}"), 3);
    bson_destroy(a);
    bson_destroy(b);
    bson_destroy(d);
}

static void test_unique_field_refuses_a_taken_value_on_save(void **state)
{
    fixture *f = *state;
    lk_collection *c = users(f);
    bson_t *a = store_spec_insert(c, "{\"email\": \"a@x\"}");
    bson_t *b = store_spec_insert(c, "{\"email\": \"b@x\"}");
    bson_t *b_as_a = store_spec_with_str(b, "email", "a@x");
    lk_error err;

    assert_int_equal(lk_collection_save(c, b_as_a, NULL, &err),
                     LK_ERR_DUPLICATE);
    assert_non_null(strstr(err.message, "email"));
    bson_t *now = store_spec_load(c, b);
    assert_string_equal(store_spec_str(now, "email"), "b@x");
    assert_int_equal(store_spec_version(now), 0);
    bson_destroy(now);

    /* saving a document with its own value is fine */
    assert_int_equal(lk_collection_save(c, a, NULL, NULL), LK_OK);
    bson_destroy(b_as_a);
    bson_destroy(a);
    bson_destroy(b);
}

static void test_unique_value_is_free_again_after_save_or_delete(void **state)
{
    fixture *f = *state;
    lk_collection *c = users(f);
    bson_t *a = store_spec_insert(c, "{\"email\": \"a@x\"}");
    bson_t *b = store_spec_insert(c, "{\"email\": \"b@x\"}");
    bson_t *a_moved = store_spec_with_str(a, "email", "c@x");
    bson_t *del = store_spec_doc("{\"email\": \"b@x\"}");
    int64_t deleted = 0;

    assert_int_equal(lk_collection_save(c, a_moved, NULL, NULL), LK_OK);
    bson_t *again = store_spec_insert(c, "{\"email\": \"a@x\"}");
    assert_int_equal(lk_collection_delete(c, del, &deleted, NULL), LK_OK);
    assert_int_equal(deleted, 1);
    bson_t *b2 = store_spec_insert(c, "{\"email\": \"b@x\"}");
    assert_int_equal(store_spec_count(c, "{}"), 3);

    bson_destroy(b2);
    bson_destroy(again);
    bson_destroy(del);
    bson_destroy(a_moved);
    bson_destroy(a);
    bson_destroy(b);
}

static void test_unique_field_refuses_values_it_cannot_index(void **state)
{
    fixture *f = *state;
    lk_collection *c = users(f);
    bson_t *d = store_spec_doc("{\"email\": [\"a@x\", \"b@x\"]}");
    lk_error err;
    assert_int_equal(lk_collection_insert(c, d, NULL, &err), LK_ERR_INVALID);
    assert_non_null(strstr(err.message, "email"));
    assert_non_null(strstr(err.message, "array"));
    assert_int_equal(store_spec_count(c, "{}"), 0);
    bson_destroy(d);
}

/* ---- collections ----------------------------------------------------------------- */

static void test_collection_options_are_checked(void **state)
{
    fixture *f = *state;
    static const char *const twice[] = {"a", "a", NULL};
    static const char *const id[] = {"_id", NULL};
    static const char *const empty_seg[] = {"a..b", NULL};
    static const char *const empty[] = {"", NULL};
    static const char *const lead_dot[] = {".a", NULL};
    static const char *const trail_dot[] = {"a.", NULL};
    static const struct {
        lk_collection_opts opts;
        const char *expect;
    } bad[] = {
        {{.unique = twice}, "twice"},
        {{.unique = id}, "_id"},
        {{.unique = empty_seg}, "a..b"},
        {{.unique = empty}, "\"\""},
        {{.unique = lead_dot}, "\".a\""},
        {{.unique = trail_dot}, "\"a.\""},
        {{.version_key = "meta.version"}, "\"meta.version\""},
        {{.version_key = "_id"}, "version key \"_id\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_collection *c = NULL;
        lk_error err;
        assert_int_equal(lk_store_collection(f->store, "bad", &bad[i].opts, &c,
                                             &err),
                         LK_ERR_INVALID);
        if (strstr(err.message, bad[i].expect) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.message,
                     bad[i].expect);
    }
}

static void test_collections_hold_their_own_documents(void **state)
{
    fixture *f = *state;
    lk_collection *other = NULL;
    other = store_spec_collection(f->store, "other", NULL);
    bson_t *a = store_spec_insert(f->coll, "{\"x\": 1}");
    assert_int_equal(store_spec_count(f->coll, "{}"), 1);
    assert_int_equal(store_spec_count(other, "{}"), 0);
    bson_t *out = NULL;
    bson_oid_t id;
    assert_int_equal(lk_bson_get_oid(a, &id, NULL), LK_OK);
    assert_int_equal(lk_collection_find_by_id(other, &id, &out, NULL),
                     LK_ERR_NOT_FOUND);
    assert_null(out);
    bson_destroy(a);
}

/* ---- deep copies --------------------------------------------------------------- */

static void test_changing_a_returned_document_does_not_change_the_store(
    void **state)
{
    fixture *f = *state;
    bson_t *t = store_spec_insert(f->coll, "{\"title\": \"a\"}");
    bson_t *found = store_spec_load(f->coll, t);
    bson_t *other = store_spec_load(f->coll, t);
    /* each call returns buffers of its own */
    assert_ptr_not_equal(bson_get_data(found), bson_get_data(other));
    /* write over the returned buffers in place */
    uint8_t *raw = (uint8_t *)bson_get_data(found);
    memset(raw + 4, 0, found->len - 4);
    bson_destroy(found);

    lk_cursor *cur = NULL;
    const bson_t *seen = NULL;
    assert_int_equal(lk_collection_find(f->coll, NULL, NULL, &cur, NULL),
                     LK_OK);
    assert_true(lk_cursor_next(cur, &seen));
    memset((uint8_t *)bson_get_data(seen) + 4, 0, seen->len - 4);
    lk_cursor_free(cur);

    bson_t *again = store_spec_load(f->coll, t);
    assert_string_equal(store_spec_str(again, "title"), "a");
    assert_true(bson_equal(again, t));
    assert_true(bson_equal(again, other));
    bson_destroy(other);
    bson_destroy(again);
    bson_destroy(t);
}

static void test_changing_the_inserted_document_does_not_change_the_store(
    void **state)
{
    fixture *f = *state;
    bson_t *in = store_spec_doc("{\"title\": \"a\", \"price\": 1}"),
           *stored = NULL;
    assert_int_equal(lk_collection_insert(f->coll, in, &stored, NULL), LK_OK);
    bson_iter_t it;
    assert_true(bson_iter_init_find(&it, in, "price"));
    bson_iter_overwrite_int32(&it, 999);
    bson_destroy(in);

    bson_t *now = store_spec_load(f->coll, stored);
    assert_true(bson_iter_init_find(&it, now, "price"));
    assert_int_equal(bson_iter_int32(&it), 1);
    bson_destroy(now);
    bson_destroy(stored);
}

/* ---- find, count, delete ------------------------------------------------------- */

static void test_find_refuses_negative_skip_or_limit(void **state)
{
    fixture *f = *state;
    lk_find_opts opts = {.skip = -1};
    lk_cursor *cur = NULL;
    lk_error err;
    assert_int_equal(lk_collection_find(f->coll, NULL, &opts, &cur, &err),
                     LK_ERR_INVALID);
    assert_null(cur);
    assert_non_null(strstr(err.message, "skip"));
}

static void test_saved_document_keeps_its_place_in_the_order(void **state)
{
    fixture *f = *state;
    store_spec_insert_numbers(f->coll, 1, 3);
    bson_t *filter = store_spec_doc("{\"n\": 1}"), *first = NULL;
    assert_int_equal(lk_collection_find_one(f->coll, filter, &first, NULL),
                     LK_OK);
    assert_int_equal(lk_collection_save(f->coll, first, NULL, NULL), LK_OK);
    assert_string_equal(store_spec_find(f->coll, "{}", "n", 0, 0), "1 2 3");
    bson_destroy(first);
    bson_destroy(filter);
}

static void test_find_one_returns_the_first_match_or_not_found(void **state)
{
    fixture *f = *state;
    store_spec_insert_numbers(f->coll, 1, 4);
    bson_t *odd = store_spec_doc("{\"odd\": false}"),
           *none = store_spec_doc("{\"n\": 42}");
    bson_t *out = NULL;
    int64_t n = 0;
    lk_error err;
    assert_int_equal(lk_collection_find_one(f->coll, odd, &out, NULL), LK_OK);
    assert_int_equal(lk_bson_get_int64(out, "n", &n, NULL), LK_OK);
    assert_int_equal(n, 2);
    bson_destroy(out);
    assert_int_equal(lk_collection_find_one(f->coll, none, &out, &err),
                     LK_ERR_NOT_FOUND);
    assert_null(out);
    assert_non_null(strstr(err.message, "tickets"));
    bson_destroy(odd);
    bson_destroy(none);
}

static void test_delete_by_id_removes_one_document(void **state)
{
    fixture *f = *state;
    bson_t *a = store_spec_insert(f->coll, "{\"n\": 1}");
    bson_t *b = store_spec_insert(f->coll, "{\"n\": 2}");
    bson_oid_t id;
    bson_t filter = BSON_INITIALIZER;
    int64_t deleted = 0;
    assert_int_equal(lk_bson_get_oid(a, &id, NULL), LK_OK);
    BSON_APPEND_OID(&filter, "_id", &id);
    assert_int_equal(lk_collection_delete(f->coll, &filter, &deleted, NULL),
                     LK_OK);
    assert_int_equal(deleted, 1);
    assert_string_equal(store_spec_find(f->coll, "{}", "n", 0, 0), "2");
    bson_t *out = NULL;
    assert_int_equal(lk_collection_find_by_id(f->coll, &id, &out, NULL),
                     LK_ERR_NOT_FOUND);
    bson_destroy(&filter);
    bson_destroy(a);
    bson_destroy(b);
}

static void test_many_documents_stay_reachable_by_id(void **state)
{
    /* enough to grow the index several times and to delete across it */
    enum { N = 5000 };
    fixture *f = *state;
    static bson_oid_t ids[N];
    for (int i = 0; i < N; i++) {
        bson_t *d = store_spec_insert(f->coll, "{}");
        assert_int_equal(lk_bson_get_oid(d, &ids[i], NULL), LK_OK);
        bson_destroy(d);
    }
    for (int i = 0; i < N; i += 2) {
        bson_t filter = BSON_INITIALIZER;
        int64_t deleted = 0;
        BSON_APPEND_OID(&filter, "_id", &ids[i]);
        assert_int_equal(lk_collection_delete(f->coll, &filter, &deleted,
                                              NULL),
                         LK_OK);
        assert_int_equal(deleted, 1);
        bson_destroy(&filter);
    }
    for (int i = 0; i < N; i++) {
        bson_t *out = NULL;
        lk_status want = i % 2 ? LK_OK : LK_ERR_NOT_FOUND;
        assert_int_equal(lk_collection_find_by_id(f->coll, &ids[i], &out,
                                                  NULL),
                         want);
        bson_destroy(out);
    }
    assert_int_equal(store_spec_count(f->coll, "{}"), N / 2);
    /* then the rest, last first, checking the survivors as they shrink */
    for (int i = N - 1; i > 0; i -= 2) {
        bson_t filter = BSON_INITIALIZER;
        BSON_APPEND_OID(&filter, "_id", &ids[i]);
        assert_int_equal(lk_collection_delete(f->coll, &filter, NULL, NULL),
                         LK_OK);
        bson_destroy(&filter);
        if (i % 500 != 1)
            continue;
        for (int j = 1; j < i; j += 2) {
            bson_t *out = NULL;
            assert_int_equal(lk_collection_find_by_id(f->coll, &ids[j], &out,
                                                      NULL),
                             LK_OK);
            bson_destroy(out);
        }
    }
    assert_int_equal(store_spec_count(f->coll, "{}"), 0);
    int64_t n = -1;
    assert_int_equal(lk_collection_count(f->coll, NULL, &n, NULL), LK_OK);
    assert_int_equal(n, 0);
}

/* ---- threads --------------------------------------------------------------------- */

enum { THREADS = 4, ROUNDS = 50 };

typedef struct racer {
    lk_collection *coll;
    bson_oid_t id;
    pthread_barrier_t *barrier;
    int wins, conflicts, errors;
} racer;

/* Phase 1: every thread loads the same version, waits for the others, then
 * saves: exactly one must win. Phase 2: each thread makes ROUNDS changes,
 * reloading after every conflict. */
static void *race(void *arg)
{
    racer *r = arg;
    bson_t *mine = NULL;
    if (lk_collection_find_by_id(r->coll, &r->id, &mine, NULL) != LK_OK)
        r->errors++;
    pthread_barrier_wait(r->barrier);
    lk_status s = lk_collection_save(r->coll, mine, NULL, NULL);
    r->wins += s == LK_OK;
    r->conflicts += s == LK_ERR_VERSION;
    r->errors += s != LK_OK && s != LK_ERR_VERSION;
    bson_destroy(mine);
    pthread_barrier_wait(r->barrier);

    for (int done = 0; done < ROUNDS && r->errors == 0;) {
        if (lk_collection_find_by_id(r->coll, &r->id, &mine, NULL) != LK_OK) {
            r->errors++;
            break;
        }
        s = lk_collection_save(r->coll, mine, NULL, NULL);
        bson_destroy(mine);
        if (s == LK_OK)
            done++;
        else if (s != LK_ERR_VERSION)
            r->errors++;
    }
    return NULL;
}

static void test_concurrent_saves_of_one_version_let_exactly_one_win(
    void **state)
{
    fixture *f = *state;
    bson_t *t = store_spec_insert(f->coll, "{\"title\": \"contended\"}");
    pthread_barrier_t barrier;
    pthread_t th[THREADS];
    racer r[THREADS];
    int wins = 0, conflicts = 0, errors = 0;

    assert_int_equal(pthread_barrier_init(&barrier, NULL, THREADS), 0);
    for (int i = 0; i < THREADS; i++) {
        r[i] = (racer){.coll = f->coll, .barrier = &barrier};
        assert_int_equal(lk_bson_get_oid(t, &r[i].id, NULL), LK_OK);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        wins += r[i].wins;
        conflicts += r[i].conflicts;
        errors += r[i].errors;
    }
    pthread_barrier_destroy(&barrier);

    assert_int_equal(errors, 0);
    /* phase 1: one winner, three stale; phase 2: every change counted */
    assert_int_equal(wins, 1);
    assert_int_equal(conflicts, THREADS - 1);
    bson_t *now = store_spec_load(f->coll, t);
    assert_int_equal(store_spec_version(now), 1 + THREADS * ROUNDS);
    bson_destroy(now);
    bson_destroy(t);
}

typedef struct inserter {
    lk_collection *coll;
    int thread, errors;
} inserter;

static void *insert_many(void *arg)
{
    inserter *in = arg;
    for (int i = 0; i < ROUNDS; i++) {
        bson_t d = BSON_INITIALIZER;
        BSON_APPEND_INT32(&d, "thread", in->thread);
        BSON_APPEND_INT32(&d, "i", i);
        in->errors += lk_collection_insert(in->coll, &d, NULL, NULL) != LK_OK;
        bson_destroy(&d);
    }
    return NULL;
}

static void test_concurrent_inserts_are_all_kept_with_distinct_ids(
    void **state)
{
    fixture *f = *state;
    pthread_t th[THREADS];
    inserter in[THREADS];
    for (int i = 0; i < THREADS; i++) {
        in[i] = (inserter){.coll = f->coll, .thread = i};
        assert_int_equal(pthread_create(&th[i], NULL, insert_many, &in[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(in[i].errors, 0);
    }
    assert_int_equal(store_spec_count(f->coll, "{}"), THREADS * ROUNDS);
    /* every id is distinct and reachable through the index */
    lk_cursor *cur = NULL;
    const bson_t *d;
    int64_t seen = 0;
    assert_int_equal(lk_collection_find(f->coll, NULL, NULL, &cur, NULL),
                     LK_OK);
    while (lk_cursor_next(cur, &d)) {
        bson_oid_t id;
        bson_t *again = NULL;
        assert_int_equal(lk_bson_get_oid(d, &id, NULL), LK_OK);
        assert_int_equal(lk_collection_find_by_id(f->coll, &id, &again, NULL),
                         LK_OK);
        assert_true(bson_equal(again, d));
        bson_destroy(again);
        seen++;
    }
    lk_cursor_free(cur);
    assert_int_equal(seen, THREADS * ROUNDS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_insert_adds_an_object_id_first_and_version_zero),
        T(test_insert_generates_distinct_ids),
        T(test_invalid_bson_is_refused),
        T(test_invalid_bson_inside_a_sub_document_is_refused),
        T(test_field_name_that_is_not_utf8_is_refused),
        T(test_utf8_field_names_are_kept),
        T(test_sub_document_field_name_that_is_not_utf8_is_refused),
        T(test_sub_document_without_its_terminator_is_refused),
        T(test_code_with_scope_is_stored_and_a_corrupt_scope_refused),
        T(test_documents_nest_at_most_100_levels_as_in_mongodb),
        T(test_documents_over_16_mib_are_refused_as_in_mongodb),
        T(test_repeated_id_or_version_fields_are_stored_once),
        T(test_find_by_id_with_more_fields_still_matches_them),
        T(test_implements_optimistic_concurrency_control),
        T(test_increments_the_version_number_on_multiple_saves),
        T(test_save_keeps_the_document_as_given_with_the_next_version),
        T(test_custom_version_key_is_used),
        T(test_unique_field_ignores_documents_without_the_field),
        T(test_unique_field_refuses_a_taken_value_on_save),
        T(test_unique_value_is_free_again_after_save_or_delete),
        T(test_unique_field_refuses_values_it_cannot_index),
        T(test_collection_options_are_checked),
        T(test_collections_hold_their_own_documents),
        T(test_changing_a_returned_document_does_not_change_the_store),
        T(test_changing_the_inserted_document_does_not_change_the_store),
        T(test_find_refuses_negative_skip_or_limit),
        T(test_saved_document_keeps_its_place_in_the_order),
        T(test_find_one_returns_the_first_match_or_not_found),
        T(test_delete_by_id_removes_one_document),
        T(test_many_documents_stay_reachable_by_id),
        T(test_concurrent_saves_of_one_version_let_exactly_one_win),
        T(test_concurrent_inserts_are_all_kept_with_distinct_ids),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
