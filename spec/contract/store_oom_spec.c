/* SPDX-License-Identifier: MIT */
/* store_oom_spec.c — both stores with each of their allocations refused in
 * turn (spec/support/oom_sweep.h): making a store and opening a
 * collection, insert, save, find, count, delete (and the PostgreSQL store's
 * explain) all answer LK_ERR_NOMEM, leak nothing, and leave the documents
 * as they were (a failed insert stores nothing, a failed save or delete
 * changes nothing). libpq's own memory is the C library's and not swept
 * (listenkit/alloc.h). The memory store's insert and save have their own
 * sweeps, with growing indexes, in spec/services/oom_sweep_spec.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "failing_alloc.h"
#include "listenkit.h"
#include "listenkit/pg.h"
#include "mem_store.h"
#include "oom_sweep.h"
#include "pg_server.h"
#include "spec_log.h"
#include "store_spec.h"

static spec_pg_server srv;
static char schema[64];
static lk_store *shared;
static bool on_pg; /* the row being swept: PostgreSQL, else memory */

static const char *const unique[] = {"email", "profile.handle", NULL};
static const lk_collection_opts opts = {.unique = unique};

/* A long email: its index key does not fit the plan's inline buffer. */
#define LONG_EMAIL "someone.with.a.rather.long.address@example.org"

typedef struct state {
    lk_store *store;
    lk_collection *coll;
    bson_t *doc;
    bson_t *out;
    char *plan;
    int64_t n;
} state;

static lk_collection *items(lk_store *store)
{
    lk_collection *c = NULL;
    lk_error err;
    if (lk_store_collection(store, "items", &opts, &c, &err) != LK_OK)
        fail_msg("open: %s", err.message);
    return c;
}

static int64_t count_all(lk_collection *c)
{
    int64_t n = -1;
    assert_int_equal(lk_collection_count(c, NULL, &n, NULL), LK_OK);
    return n;
}

/* Four documents: emails u0..u2@x and LONG_EMAIL, n = 0..3. */
static void *seeded(int round)
{
    (void)round;
    state *st = calloc(1, sizeof *st);
    assert_non_null(st);
    /* PostgreSQL keeps its blocks on the server: one store for all; the
     * memory store's documents are blocks the sweep counts, so a store of
     * their own, freed by teardown. */
    st->store = on_pg ? shared : lk_mem_store_new();
    assert_non_null(st->store);
    st->coll = items(st->store);
    bson_t empty = BSON_INITIALIZER;
    assert_int_equal(lk_collection_delete(st->coll, &empty, NULL, NULL),
                     LK_OK);
    for (int i = 0; i < 4; i++) {
        char email[80];
        snprintf(email, sizeof email, "u%d@x", i);
        bson_t *d = BCON_NEW("email", BCON_UTF8(i == 3 ? LONG_EMAIL : email),
                             "n", BCON_INT32(i));
        assert_int_equal(lk_collection_insert(st->coll, d, NULL, NULL),
                         LK_OK);
        bson_destroy(d);
    }
    return st;
}

static void teardown(void *p)
{
    state *st = p;
    bson_destroy(st->doc);
    bson_destroy(st->out);
    lk_free(st->plan);
    if (st->store != shared)
        lk_store_free(st->store);
    free(st);
}

static void still_four(void *p)
{
    state *st = p;
    assert_null(st->out);
    assert_int_equal(count_all(st->coll), 4);
    assert_int_equal(store_spec_count(st->coll, "{\"version\": 0}"), 4);
}

static void nothing(void *p)
{
    (void)p;
}

/* ---- connect and open ---------------------------------------------------------- */

static void *connect_setup(int round)
{
    (void)round;
    state *st = calloc(1, sizeof *st);
    assert_non_null(st);
    return st;
}

static lk_status connect_run(void *p)
{
    state *st = p;
    lk_pg_opts o = {.schema = schema};
    lk_status s = LK_OK;
    if (on_pg)
        s = lk_pg_store_connect(&st->store, srv.url, &o, NULL);
    else if ((st->store = lk_mem_store_new()) == NULL)
        s = LK_ERR_NOMEM;
    if (s == LK_OK)
        s = lk_store_collection(st->store, "items", &opts, &st->coll, NULL);
    return s;
}

static void connect_failed(void *p)
{
    state *st = p;
    assert_null(st->coll);
}

static void connect_done(void *p)
{
    state *st = p;
    assert_non_null(st->coll);
}

/* ---- operations on the shared store ------------------------------------------- */

static lk_status insert_run(void *p)
{
    state *st = p;
    st->doc = BCON_NEW("email", BCON_UTF8("new@x"), "profile", "{", "handle",
                       BCON_INT32(7), "}");
    return lk_collection_insert(st->coll, st->doc, &st->out, NULL);
}

static void insert_done(void *p)
{
    state *st = p;
    assert_non_null(st->out);
    assert_int_equal(count_all(st->coll), 5);
}

static lk_status save_run(void *p)
{
    state *st = p;
    bson_t *filter = BCON_NEW("email", BCON_UTF8(LONG_EMAIL));
    lk_status s = lk_collection_find_one(st->coll, filter, &st->doc, NULL);
    bson_destroy(filter);
    if (s == LK_OK)
        s = lk_collection_save(st->coll, st->doc, &st->out, NULL);
    return s;
}

static void save_done(void *p)
{
    state *st = p;
    assert_int_equal(store_spec_version(st->out), 1);
}

static lk_status find_run(void *p)
{
    state *st = p;
    bson_t *filter = BCON_NEW("n", "{", "$gte", BCON_INT32(1), "}");
    lk_cursor *cur = NULL;
    lk_find_opts fo = {.skip = 1};
    lk_status s = lk_collection_find(st->coll, filter, &fo, &cur, NULL);
    const bson_t *d;
    st->n = 0;
    while (s == LK_OK && lk_cursor_next(cur, &d))
        st->n++;
    lk_cursor_free(cur);
    bson_destroy(filter);
    return s;
}

static void find_done(void *p)
{
    state *st = p;
    assert_int_equal(st->n, 2);
}

static lk_status count_run(void *p)
{
    state *st = p;
    bson_t *filter = BCON_NEW("email", BCON_UTF8(LONG_EMAIL), "n",
                              BCON_INT32(3));
    lk_status s = lk_collection_count(st->coll, filter, &st->n, NULL);
    bson_destroy(filter);
    return s;
}

static void count_done(void *p)
{
    state *st = p;
    assert_int_equal(st->n, 1);
}

static lk_status delete_run(void *p)
{
    state *st = p;
    bson_t *filter = BCON_NEW("n", "{", "$lt", BCON_INT32(2), "}");
    lk_status s = lk_collection_delete(st->coll, filter, &st->n, NULL);
    bson_destroy(filter);
    return s;
}

static void delete_done(void *p)
{
    state *st = p;
    assert_int_equal(st->n, 2);
    assert_int_equal(count_all(st->coll), 2);
}

static lk_status explain_run(void *p)
{
    state *st = p;
    bson_t *filter = BCON_NEW("email", BCON_UTF8(LONG_EMAIL));
    lk_status s = lk_pg_collection_explain(st->coll, filter, &st->plan, NULL);
    bson_destroy(filter);
    return s;
}

static void explain_done(void *p)
{
    state *st = p;
    assert_non_null(strstr(st->plan, "items__u0"));
}

static void sweep(const char *row)
{
    char names[7][64];
    static const char *const what[] = {"make and open", "insert", "save",
                                       "find", "count", "delete", "explain"};
    for (int i = 0; i < 7; i++)
        snprintf(names[i], sizeof names[i], "%s (%s)", what[i], row);
    const oom_sweep_op ops[] = {
        {names[0], connect_setup, 0, connect_run, connect_failed,
         connect_done, teardown},
        {names[1], seeded, 0, insert_run, still_four, insert_done, teardown},
        {names[2], seeded, 0, save_run, still_four, save_done, teardown},
        {names[3], seeded, 0, find_run, nothing, find_done, teardown},
        {names[4], seeded, 0, count_run, nothing, count_done, teardown},
        {names[5], seeded, 0, delete_run, still_four, delete_done, teardown},
        {names[6], seeded, 0, explain_run, nothing, explain_done, teardown},
    };
    size_t n = sizeof ops / sizeof ops[0] - (on_pg ? 0 : 1);
    if (on_pg) {
        lk_pg_opts o = {.schema = schema};
        assert_int_equal(lk_pg_store_connect(&shared, srv.url, &o, NULL),
                         LK_OK);
    } else {
        shared = lk_mem_store_new();
        assert_non_null(shared);
    }
    items(shared); /* opened once, before the sweeps count blocks */
    for (size_t i = 0; i < n; i++)
        oom_sweep(&ops[i]);
    lk_store_free(shared);
    shared = NULL;
}

static void test_every_allocation_of_the_memory_store_may_fail(void **unused)
{
    (void)unused;
    on_pg = false;
    sweep("memory");
}

static void test_every_allocation_of_the_pg_store_may_fail(void **unused)
{
    (void)unused;
    spec_pg_server_require(&srv);
    on_pg = true;
    sweep("postgres");
    oom_sweep_print_total("both stores");
}

int main(void)
{
    failing_alloc_install(); /* before anything allocates (alloc.h) */
    spec_log_capture_start();
    spec_pg_server_start(&srv);
    spec_pg_unique_name(schema, sizeof schema, "pgoom");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_of_the_memory_store_may_fail),
        cmocka_unit_test(test_every_allocation_of_the_pg_store_may_fail),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (srv.ok)
        spec_pg_drop_schema(srv.url, schema);
    spec_pg_server_stop(&srv);
    spec_log_capture_stop();
    return rc;
}
