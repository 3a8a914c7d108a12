/* SPDX-License-Identifier: MIT */
/* store_spec.c — the store interface's shared parts: the OCC rule both
 * implementations apply (lk_occ_check), the BSON helpers services use, and
 * the collection wrappers' argument checks (with a tiny spec-local
 * collection that records what got through). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "listenkit.h"

#define OID_HEX "65f0a1b2c3d4e5f607182930"

static void assert_message_has(const lk_error *err, const char *needle)
{
    if (strstr(err->message, needle) == NULL)
        fail_msg("error message \"%s\" does not contain \"%s\"", err->message,
                 needle);
}

/* ---- spec-local store and collection ------------------------------------------ */

typedef struct rec_coll {
    lk_collection base;
    int calls;
    const char *last;
    bson_t filter; /* copy of the last filter seen */
    bool has_filter;
} rec_coll;

static void seen(lk_collection *c, const char *op, const bson_t *filter)
{
    rec_coll *r = (rec_coll *)c;
    r->calls++;
    r->last = op;
    if (r->has_filter)
        bson_destroy(&r->filter);
    r->has_filter = filter != NULL;
    if (filter != NULL)
        bson_copy_to(filter, &r->filter);
}

static lk_status c_insert(lk_collection *c, const bson_t *d, bson_t **o,
                          lk_error *e)
{
    (void)o, (void)e;
    seen(c, "insert", d);
    return LK_OK;
}
static lk_status c_find_one(lk_collection *c, const bson_t *f, bson_t **o,
                            lk_error *e)
{
    (void)o;
    seen(c, "find_one", f);
    return lk_error_set(e, LK_ERR_NOT_FOUND, "none");
}
static lk_status c_find(lk_collection *c, const bson_t *f,
                        const lk_find_opts *opts, lk_cursor **o, lk_error *e)
{
    (void)opts, (void)o, (void)e;
    seen(c, "find", f);
    return LK_OK;
}
static lk_status c_count(lk_collection *c, const bson_t *f, int64_t *o,
                         lk_error *e)
{
    (void)e;
    seen(c, "count", f);
    *o = 42;
    return LK_OK;
}
static lk_status c_save(lk_collection *c, const bson_t *d, bson_t **o,
                        lk_error *e)
{
    (void)o, (void)e;
    seen(c, "save", d);
    return LK_OK;
}
static lk_status c_delete(lk_collection *c, const bson_t *f, int64_t *n,
                          lk_error *e)
{
    (void)e;
    seen(c, "delete", f);
    if (n != NULL)
        *n = 2;
    return LK_OK;
}
static const lk_collection_ops coll_ops = {c_insert, c_find_one, c_find,
                                           c_count,  c_save,     c_delete};

typedef struct rec_store {
    lk_store base;
    rec_coll coll;
    lk_collection_opts got;
    int opened, frees;
} rec_store;

static lk_status s_collection(lk_store *store, const char *name,
                              const lk_collection_opts *opts,
                              lk_collection **out, lk_error *err)
{
    (void)err;
    rec_store *s = (rec_store *)store;
    s->opened++;
    s->got = *opts;
    s->coll.base.name = name;
    *out = &s->coll.base;
    return LK_OK;
}
static void s_free(lk_store *store) { ((rec_store *)store)->frees++; }
static const lk_store_ops store_ops = {"rec", s_collection, s_free};

static rec_coll make_coll(const char *name, lk_occ_mode mode)
{
    rec_coll c = {.base = {.ops = &coll_ops,
                           .name = name,
                           .opts = {.occ = mode,
                                    .version_key = LK_DEFAULT_VERSION_KEY}}};
    return c;
}

static void drop_coll(rec_coll *c)
{
    if (c->has_filter)
        bson_destroy(&c->filter);
}

/* {_id: OID_HEX, version: v} */
static bson_t *doc_with_version(int64_t v)
{
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, OID_HEX);
    bson_t *d = bson_new();
    BSON_APPEND_OID(d, "_id", &oid);
    BSON_APPEND_INT64(d, "version", v);
    return d;
}

/* ---- lk_occ_check ------------------------------------------------------------ */

static void test_occ_update_if_current_accepts_loaded_version(void **state)
{
    (void)state;
    rec_coll c = make_coll("tickets", LK_OCC_UPDATE_IF_CURRENT);
    bson_t *d = doc_with_version(3);
    int64_t next = -1;
    assert_int_equal(lk_occ_check(&c.base, d, 3, &next, NULL), LK_OK);
    assert_int_equal(next, 4);
    bson_destroy(d);
}

static void test_occ_update_if_current_refuses_stale_document(void **state)
{
    (void)state;
    rec_coll c = make_coll("tickets", LK_OCC_UPDATE_IF_CURRENT);
    bson_t *d = doc_with_version(3);
    int64_t next = -1;
    lk_error err;
    assert_int_equal(lk_occ_check(&c.base, d, 4, &next, &err), LK_ERR_VERSION);
    assert_int_equal(next, -1);
    assert_message_has(&err, "tickets.save " OID_HEX);
    assert_message_has(&err, "loaded version 3, stored version 4");
    bson_destroy(d);
}

static void test_occ_update_if_current_refuses_version_overflow(void **state)
{
    (void)state;
    rec_coll c = make_coll("tickets", LK_OCC_UPDATE_IF_CURRENT);
    bson_t *d = doc_with_version(INT64_MAX);
    int64_t next = -1;
    lk_error err;
    assert_int_equal(lk_occ_check(&c.base, d, INT64_MAX, &next, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "version overflow");
    bson_destroy(d);
}

static void test_occ_external_accepts_next_version_only(void **state)
{
    (void)state;
    rec_coll c = make_coll("tickets", LK_OCC_EXTERNAL);
    int64_t next = -1;
    lk_error err;
    bson_t *d = doc_with_version(5);
    assert_int_equal(lk_occ_check(&c.base, d, 4, &next, &err), LK_OK);
    assert_int_equal(next, 5);
    next = -1;
    assert_int_equal(lk_occ_check(&c.base, d, 5, &next, &err), LK_ERR_VERSION);
    assert_message_has(&err, "version 5 does not follow stored version 5");
    assert_int_equal(lk_occ_check(&c.base, d, 3, &next, &err), LK_ERR_VERSION);
    assert_message_has(&err, "version 5 does not follow stored version 3");
    assert_int_equal(next, -1);
    bson_destroy(d);
}

static void test_occ_refuses_document_without_version(void **state)
{
    (void)state;
    rec_coll c = make_coll("orders", LK_OCC_EXTERNAL);
    bson_t *d = BCON_NEW("title", "x");
    int64_t next = -1;
    lk_error err;
    assert_int_equal(lk_occ_check(&c.base, d, 0, &next, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "orders.save ?: field \"version\" is missing");
    /* also without an lk_error: the status alone must say no */
    assert_int_equal(lk_occ_check(&c.base, d, 0, &next, NULL), LK_ERR_INVALID);
    bson_destroy(d);
}

static void test_occ_uses_the_collections_version_key(void **state)
{
    (void)state;
    rec_coll c = make_coll("tickets", LK_OCC_UPDATE_IF_CURRENT);
    c.base.opts.version_key = "rev";
    bson_t *d = BCON_NEW("rev", BCON_INT32(2), "version", BCON_INT32(9));
    int64_t next = -1;
    assert_int_equal(lk_occ_check(&c.base, d, 2, &next, NULL), LK_OK);
    assert_int_equal(next, 3);
    bson_destroy(d);
}

static void test_occ_defaults_key_and_refuses_null_arguments(void **state)
{
    (void)state;
    rec_coll c = make_coll("tickets", LK_OCC_UPDATE_IF_CURRENT);
    c.base.opts.version_key = NULL;
    bson_t *d = doc_with_version(1);
    int64_t next = -1;
    lk_error err;
    assert_int_equal(lk_occ_check(&c.base, d, 1, &next, NULL), LK_OK);
    assert_int_equal(next, 2);
    assert_int_equal(lk_occ_check(NULL, d, 1, &next, &err), LK_ERR_INVALID);
    assert_message_has(&err, "occ_check: arguments must not be NULL");
    assert_int_equal(lk_occ_check(&c.base, NULL, 1, &next, &err),
                     LK_ERR_INVALID);
    assert_int_equal(lk_occ_check(&c.base, d, 1, NULL, &err), LK_ERR_INVALID);
    bson_destroy(d);
}

/* ---- lk_bson_get_int64 -------------------------------------------------------- */

static void test_get_int64_reads_all_integral_encodings(void **state)
{
    (void)state;
    bson_t *d = BCON_NEW("i32", BCON_INT32(-7), "i64",
                         BCON_INT64(INT64_C(1) << 40), "dbl", BCON_DOUBLE(12.0),
                         "nested", "{", "v", BCON_INT32(5), "}");
    int64_t v = 0;
    assert_int_equal(lk_bson_get_int64(d, "i32", &v, NULL), LK_OK);
    assert_int_equal(v, -7);
    assert_int_equal(lk_bson_get_int64(d, "i64", &v, NULL), LK_OK);
    assert_true(v == (INT64_C(1) << 40));
    assert_int_equal(lk_bson_get_int64(d, "dbl", &v, NULL), LK_OK);
    assert_int_equal(v, 12);
    assert_int_equal(lk_bson_get_int64(d, "nested.v", &v, NULL), LK_OK);
    assert_int_equal(v, 5);
    bson_destroy(d);
}

static void test_get_int64_refuses_non_integers(void **state)
{
    (void)state;
    bson_t *d = BCON_NEW("half", BCON_DOUBLE(1.5), "big",
                         BCON_DOUBLE(9223372036854775808.0), "inf",
                         BCON_DOUBLE(INFINITY), "nan", BCON_DOUBLE(NAN), "s",
                         "text");
    int64_t v = 99;
    lk_error err;
    assert_int_equal(lk_bson_get_int64(d, "half", &v, &err), LK_ERR_INVALID);
    assert_message_has(&err, "field \"half\": expected an integer, got 1.5");
    assert_int_equal(lk_bson_get_int64(d, "big", &v, &err), LK_ERR_INVALID);
    assert_int_equal(lk_bson_get_int64(d, "inf", &v, &err), LK_ERR_INVALID);
    assert_int_equal(lk_bson_get_int64(d, "nan", &v, &err), LK_ERR_INVALID);
    assert_int_equal(lk_bson_get_int64(d, "s", &v, &err), LK_ERR_INVALID);
    assert_message_has(&err, "field \"s\": expected an integer, got BSON type "
                             "0x02");
    assert_int_equal(v, 99);
    bson_destroy(d);
}

static void test_get_int64_reports_missing_and_null_arguments(void **state)
{
    (void)state;
    bson_t *d = BCON_NEW("a", BCON_INT32(1));
    int64_t v;
    lk_error err;
    assert_int_equal(lk_bson_get_int64(d, "version", &v, &err),
                     LK_ERR_NOT_FOUND);
    assert_message_has(&err, "field \"version\" is missing");
    assert_int_equal(lk_bson_get_int64(NULL, "a", &v, &err), LK_ERR_INVALID);
    assert_int_equal(lk_bson_get_int64(d, NULL, &v, &err), LK_ERR_INVALID);
    assert_int_equal(lk_bson_get_int64(d, "a", NULL, &err), LK_ERR_INVALID);
    assert_message_has(&err, "must not be NULL");
    bson_destroy(d);
}

/* ---- oids ----------------------------------------------------------------------- */

static void test_oid_parse_and_format_round_trip(void **state)
{
    (void)state;
    bson_oid_t oid;
    char hex[25];
    assert_int_equal(lk_oid_parse(OID_HEX, &oid, NULL), LK_OK);
    lk_oid_format(&oid, hex);
    assert_string_equal(hex, OID_HEX);
}

static void test_oid_parse_refuses_non_oids_naming_the_text(void **state)
{
    (void)state;
    bson_oid_t oid;
    lk_error err;
    assert_int_equal(lk_oid_parse("65f0a1b2c3d4e5f60718293", &oid, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "got \"65f0a1b2c3d4e5f60718293\"");
    assert_int_equal(lk_oid_parse(OID_HEX "0", &oid, &err), LK_ERR_INVALID);
    assert_int_equal(lk_oid_parse("zzf0a1b2c3d4e5f607182930", &oid, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "expected a 24-character hex ObjectId");
    assert_int_equal(lk_oid_parse("", &oid, &err), LK_ERR_INVALID);
    assert_int_equal(lk_oid_parse(NULL, &oid, &err), LK_ERR_INVALID);
    assert_message_has(&err, "got NULL");
    assert_int_equal(lk_oid_parse(OID_HEX, NULL, &err), LK_ERR_INVALID);
}

static void test_oid_parse_shortens_long_text(void **state)
{
    (void)state;
    char longtext[100];
    memset(longtext, 'a', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    bson_oid_t oid;
    lk_error err;
    assert_int_equal(lk_oid_parse(longtext, &oid, &err), LK_ERR_INVALID);
    assert_message_has(&err, "aaaa...\"");
    assert_true(strlen(err.message) < 120);
}

static void test_get_oid_reads_id_and_reports_problems(void **state)
{
    (void)state;
    bson_t *good = doc_with_version(0);
    bson_t *none = BCON_NEW("x", BCON_INT32(1));
    bson_t *text = BCON_NEW("_id", OID_HEX);
    bson_oid_t oid;
    char hex[25];
    lk_error err;
    assert_int_equal(lk_bson_get_oid(good, &oid, &err), LK_OK);
    lk_oid_format(&oid, hex);
    assert_string_equal(hex, OID_HEX);
    assert_int_equal(lk_bson_get_oid(none, &oid, &err), LK_ERR_NOT_FOUND);
    assert_message_has(&err, "field \"_id\" is missing");
    assert_int_equal(lk_bson_get_oid(text, &oid, &err), LK_ERR_INVALID);
    assert_message_has(&err, "expected an ObjectId");
    assert_int_equal(lk_bson_get_oid(NULL, &oid, &err), LK_ERR_INVALID);
    bson_destroy(good);
    bson_destroy(none);
    bson_destroy(text);
}

/* ---- lk_bson_with_int64 ---------------------------------------------------------- */

static void test_with_int64_replaces_in_place_keeping_order(void **state)
{
    (void)state;
    bson_t *d = BCON_NEW("a", BCON_INT32(1), "version", BCON_INT32(3), "z",
                         "last");
    bson_t *e = lk_bson_with_int64(d, "version", 4);
    assert_non_null(e);
    char *json = bson_as_relaxed_extended_json(e, NULL);
    assert_string_equal(json,
                        "{ \"a\" : 1, \"version\" : 4, \"z\" : \"last\" }");
    bson_free(json);
    int64_t v = 0;
    assert_int_equal(lk_bson_get_int64(d, "version", &v, NULL), LK_OK);
    assert_int_equal(v, 3); /* the original is untouched */
    bson_destroy(d);
    bson_destroy(e);
}

static void test_with_int64_adds_missing_key(void **state)
{
    (void)state;
    bson_t *d = BCON_NEW("a", BCON_INT32(1));
    bson_t *e = lk_bson_with_int64(d, "version", 0);
    bson_t *f = lk_bson_with_int64(NULL, "version", 7);
    int64_t v = -1;
    assert_int_equal(lk_bson_get_int64(e, "version", &v, NULL), LK_OK);
    assert_int_equal(v, 0);
    assert_int_equal(bson_count_keys(e), 2);
    assert_int_equal(lk_bson_get_int64(f, "version", &v, NULL), LK_OK);
    assert_int_equal(v, 7);
    bson_destroy(d);
    bson_destroy(e);
    bson_destroy(f);
}

/* ---- wrappers -------------------------------------------------------------------- */

static void test_store_collection_checks_then_forwards(void **state)
{
    (void)state;
    rec_store s = {.base.ops = &store_ops, .coll = make_coll("x", 0)};
    lk_collection *c = (lk_collection *)&s; /* sentinel, must be reset */
    lk_error err;
    lk_collection_opts bad_mode = {.occ = (lk_occ_mode)7};
    lk_collection_opts bad_key = {.version_key = "_id"};
    lk_collection_opts empty_key = {.version_key = ""};

    assert_int_equal(lk_store_collection(NULL, "t", NULL, &c, &err),
                     LK_ERR_INVALID);
    assert_null(c);
    assert_message_has(&err, "store and out must not be NULL");
    assert_int_equal(lk_store_collection(&s.base, "", NULL, &c, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "name must not be empty");
    assert_int_equal(lk_store_collection(&s.base, "t", &bad_mode, &c, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "collection t: unknown OCC mode 7");
    assert_int_equal(lk_store_collection(&s.base, "t", &bad_key, &c, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "invalid version key \"_id\"");
    assert_int_equal(lk_store_collection(&s.base, "t", &empty_key, &c, &err),
                     LK_ERR_INVALID);
    assert_int_equal(s.opened, 0);

    assert_int_equal(lk_store_collection(&s.base, "tickets", NULL, &c, &err),
                     LK_OK);
    assert_ptr_equal(c, &s.coll.base);
    assert_int_equal(s.got.occ, LK_OCC_UPDATE_IF_CURRENT);
    lk_store_free(&s.base);
    lk_store_free(NULL);
    assert_int_equal(s.frees, 1);
}

static void test_collection_wrappers_refuse_null_collection(void **state)
{
    (void)state;
    bson_t *d = bson_new();
    bson_t *out = (bson_t *)d; /* sentinel */
    lk_cursor *cur = (lk_cursor *)d;
    int64_t n = 5;
    lk_error err;
    assert_int_equal(lk_collection_insert(NULL, d, &out, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "insert: collection is NULL");
    assert_null(out);
    out = d;
    assert_int_equal(lk_collection_find_one(NULL, d, &out, &err),
                     LK_ERR_INVALID);
    assert_null(out);
    assert_int_equal(lk_collection_find(NULL, d, NULL, &cur, &err),
                     LK_ERR_INVALID);
    assert_null(cur);
    assert_int_equal(lk_collection_count(NULL, d, &n, &err), LK_ERR_INVALID);
    assert_int_equal(lk_collection_save(NULL, d, NULL, &err), LK_ERR_INVALID);
    assert_message_has(&err, "save: collection is NULL");
    assert_int_equal(lk_collection_delete(NULL, d, &n, &err), LK_ERR_INVALID);
    assert_int_equal(n, 0);
    bson_destroy(d);
}

static void test_collection_wrappers_refuse_bad_arguments_naming_it(void **state)
{
    (void)state;
    rec_coll c = make_coll("tickets", LK_OCC_UPDATE_IF_CURRENT);
    lk_error err;
    lk_find_opts neg = {.limit = -1};
    lk_cursor *cur;
    assert_int_equal(lk_collection_insert(&c.base, NULL, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "tickets.insert: document is NULL");
    assert_int_equal(lk_collection_save(&c.base, NULL, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "tickets.save: document is NULL");
    assert_int_equal(lk_collection_find_one(&c.base, NULL, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "tickets.find_one: out is NULL");
    assert_int_equal(lk_collection_find(&c.base, NULL, NULL, NULL, &err),
                     LK_ERR_INVALID);
    assert_int_equal(lk_collection_find(&c.base, NULL, &neg, &cur, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "limit and skip must be >= 0");
    assert_int_equal(lk_collection_count(&c.base, NULL, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "tickets.count: out is NULL");
    assert_int_equal(lk_collection_delete(&c.base, NULL, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "pass {} to delete all");
    assert_int_equal(lk_collection_find_by_id(&c.base, NULL, NULL, &err),
                     LK_ERR_INVALID);
    assert_message_has(&err, "find_by_id: id is NULL");
    bson_t *stale = BCON_NEW("x", BCON_INT32(1));
    bson_t *out = stale; /* a refused lookup leaves no stale document */
    assert_int_equal(lk_collection_find_by_id(&c.base, NULL, &out, &err),
                     LK_ERR_INVALID);
    assert_null(out);
    bson_destroy(stale);
    assert_int_equal(c.calls, 0);
}

static void test_collection_wrappers_forward_sound_calls(void **state)
{
    (void)state;
    rec_coll c = make_coll("tickets", LK_OCC_UPDATE_IF_CURRENT);
    bson_t *d = BCON_NEW("a", BCON_INT32(1));
    bson_t *out = NULL;
    lk_cursor *cur = NULL;
    int64_t n = 0;
    assert_int_equal(lk_collection_insert(&c.base, d, NULL, NULL), LK_OK);
    assert_string_equal(c.last, "insert");
    assert_int_equal(lk_collection_save(&c.base, d, &out, NULL), LK_OK);
    assert_string_equal(c.last, "save");
    assert_int_equal(lk_collection_find(&c.base, NULL, NULL, &cur, NULL),
                     LK_OK);
    assert_string_equal(c.last, "find");
    assert_int_equal(lk_collection_count(&c.base, d, &n, NULL), LK_OK);
    assert_int_equal(n, 42);
    assert_int_equal(lk_collection_delete(&c.base, d, &n, NULL), LK_OK);
    assert_int_equal(n, 2);
    assert_int_equal(c.calls, 5);
    bson_destroy(d);
    drop_coll(&c);
}

static void test_find_by_id_filters_on_id(void **state)
{
    (void)state;
    rec_coll c = make_coll("tickets", LK_OCC_UPDATE_IF_CURRENT);
    bson_oid_t oid;
    bson_t *out = NULL;
    lk_error err;
    lk_oid_parse(OID_HEX, &oid, NULL);
    assert_int_equal(lk_collection_find_by_id(&c.base, &oid, &out, &err),
                     LK_ERR_NOT_FOUND);
    assert_string_equal(c.last, "find_one");
    assert_true(c.has_filter);
    bson_oid_t seen_oid;
    assert_int_equal(lk_bson_get_oid(&c.filter, &seen_oid, NULL), LK_OK);
    assert_true(bson_oid_equal(&seen_oid, &oid));
    assert_int_equal(bson_count_keys(&c.filter), 1);
    drop_coll(&c);
}

static void test_cursor_wrappers_tolerate_null(void **state)
{
    (void)state;
    const bson_t *doc = (const bson_t *)&doc;
    lk_error err;
    assert_false(lk_cursor_next(NULL, &doc));
    assert_null(doc);
    assert_int_equal(lk_cursor_error(NULL, &err), LK_ERR_INVALID);
    assert_message_has(&err, "cursor is NULL");
    lk_cursor_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_occ_update_if_current_accepts_loaded_version),
        cmocka_unit_test(test_occ_update_if_current_refuses_stale_document),
        cmocka_unit_test(test_occ_update_if_current_refuses_version_overflow),
        cmocka_unit_test(test_occ_external_accepts_next_version_only),
        cmocka_unit_test(test_occ_refuses_document_without_version),
        cmocka_unit_test(test_occ_uses_the_collections_version_key),
        cmocka_unit_test(test_occ_defaults_key_and_refuses_null_arguments),
        cmocka_unit_test(test_get_int64_reads_all_integral_encodings),
        cmocka_unit_test(test_get_int64_refuses_non_integers),
        cmocka_unit_test(test_get_int64_reports_missing_and_null_arguments),
        cmocka_unit_test(test_oid_parse_and_format_round_trip),
        cmocka_unit_test(test_oid_parse_refuses_non_oids_naming_the_text),
        cmocka_unit_test(test_oid_parse_shortens_long_text),
        cmocka_unit_test(test_get_oid_reads_id_and_reports_problems),
        cmocka_unit_test(test_with_int64_replaces_in_place_keeping_order),
        cmocka_unit_test(test_with_int64_adds_missing_key),
        cmocka_unit_test(test_store_collection_checks_then_forwards),
        cmocka_unit_test(test_collection_wrappers_refuse_null_collection),
        cmocka_unit_test(test_collection_wrappers_refuse_bad_arguments_naming_it),
        cmocka_unit_test(test_collection_wrappers_forward_sound_calls),
        cmocka_unit_test(test_find_by_id_filters_on_id),
        cmocka_unit_test(test_cursor_wrappers_tolerate_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
