/* SPDX-License-Identifier: MIT */
/* oom_sweep_spec.c — an insert, a save (memory store) and a publish (fake
 * NATS broker) with each of their allocations refused in turn
 * (spec/support/oom_sweep.h): LK_ERR_NOMEM, nothing leaked, and nothing
 * half-written — the collection reads as before, byte for byte, and the
 * broker neither lists the publish nor delivers it. The dispatch sweep of
 * the services' listeners is oom_dispatch_sweep_spec.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "failing_alloc.h"
#include "mem_store.h"
#include "oom_sweep.h"
#include "ticketing_spec.h"

/* ---- store snapshots ---------------------------------------------------------- */

/* Every document of `coll` as relaxed extended JSON, in order: what "the
 * store is unchanged" compares. Malloc'd; free(). */
static char *snapshot(lk_collection *coll)
{
    bson_t all = BSON_INITIALIZER;
    lk_cursor *cur = NULL;
    assert_int_equal(lk_collection_find(coll, &all, NULL, &cur, NULL), LK_OK);
    size_t cap = 1, len = 0;
    char *out = calloc(1, cap);
    const bson_t *doc;
    while (lk_cursor_next(cur, &doc)) {
        char *j = bson_as_relaxed_extended_json(doc, NULL);
        size_t n = strlen(j);
        out = realloc(out, cap = len + n + 2);
        assert_non_null(out);
        memcpy(out + len, j, n);
        out[len + n] = '\n';
        out[len += n + 1] = '\0';
        bson_free(j);
    }
    lk_cursor_free(cur);
    bson_destroy(&all);
    return out;
}

/* ---- insert and save on the memory store ------------------------------------- */

typedef struct store_state {
    lk_store *store;
    lk_collection *coll;
    bson_t *doc;    /* what the operation inserts or saves */
    bson_t *out;    /* what it returned */
    char *before;   /* snapshot() before the operation */
    int64_t expected; /* documents after a successful insert */
} store_state;

static const char *const unique_sku[] = {"sku", NULL};

/* A collection holding `docs` documents {sku: "s<i>", n: i, tags: [x]}. */
static store_state *store_setup(int docs)
{
    store_state *st = calloc(1, sizeof *st);
    assert_non_null(st);
    st->store = lk_mem_store_new();
    assert_non_null(st->store);
    lk_collection_opts opts = {.occ = LK_OCC_UPDATE_IF_CURRENT,
                               .unique = unique_sku};
    assert_int_equal(
        lk_store_collection(st->store, "items", &opts, &st->coll, NULL),
        LK_OK);
    for (int i = 0; i < docs; i++) {
        char sku[24];
        snprintf(sku, sizeof sku, "s%d", i);
        bson_t *d = BCON_NEW("sku", BCON_UTF8(sku), "n", BCON_INT32(i),
                             "tags", "[", BCON_UTF8("x"), "]");
        assert_int_equal(lk_collection_insert(st->coll, d, NULL, NULL),
                         LK_OK);
        bson_destroy(d);
    }
    return st;
}

static void store_teardown(void *state)
{
    store_state *st = state;
    bson_destroy(st->doc);
    bson_destroy(st->out);
    free(st->before);
    lk_store_free(st->store);
    free(st);
}

static void store_unchanged(void *state)
{
    store_state *st = state;
    assert_null(st->out);
    char *after = snapshot(st->coll);
    assert_string_equal(after, st->before);
    free(after);
}

/* Rounds: 0 .. GROW_ROUNDS-1 documents there before, so some insert
 * grows the indexes. */
#define GROW_ROUNDS 20

static void *insert_setup(int round)
{
    store_state *st = store_setup(round);
    st->expected = round + 1;
    st->doc = BCON_NEW("sku", BCON_UTF8("c"), "n", BCON_INT32(3), "title",
                       BCON_UTF8("a longer title than the inline buffer"));
    st->before = snapshot(st->coll);
    return st;
}

static lk_status insert_run(void *state)
{
    store_state *st = state;
    return lk_collection_insert(st->coll, st->doc, &st->out, NULL);
}

static void insert_done(void *state)
{
    store_state *st = state;
    int64_t n = 0;
    assert_int_equal(lk_collection_count(st->coll, NULL, &n, NULL), LK_OK);
    assert_int_equal(n, st->expected);
    assert_non_null(st->out);
}

static void *save_setup(int round)
{
    (void)round;
    store_state *st = store_setup(2);
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "sku", "s1");
    bson_t *loaded = NULL;
    assert_int_equal(lk_collection_find_one(st->coll, &filter, &loaded, NULL),
                     LK_OK);
    bson_destroy(&filter);
    st->doc = lk_bson_with_int64(loaded, "n", 42);
    bson_destroy(loaded);
    st->before = snapshot(st->coll);
    return st;
}

static lk_status save_run(void *state)
{
    store_state *st = state;
    return lk_collection_save(st->coll, st->doc, &st->out, NULL);
}

static void save_done(void *state)
{
    store_state *st = state;
    assert_non_null(st->out);
    assert_int_equal(ticketing_spec_version_of(st->out), 1);
}

/* ---- publish on the fake NATS broker ---------------------------------------------- */

typedef struct bus_state {
    lk_fake_nats *nats;
    json_t *event;
    size_t before; /* publishes before the one under test */
    int delivered; /* deliveries since */
} bus_state;

static void count_delivery(lk_msg *msg, void *closure)
{
    ((bus_state *)closure)->delivered++;
    (void)lk_msg_ack(msg);
}

static lk_status publish_run(void *state)
{
    bus_state *st = state;
    return lk_publish(lk_fake_nats_bus(st->nats), &ticketing_ticket_created,
                      st->event, NULL);
}

/* Round r: r messages published (and delivered) before, so some publish
 * grows the stream and the record list. */
static void *publish_setup(int round)
{
    bus_state *st = calloc(1, sizeof *st);
    assert_non_null(st);
    st->nats = lk_fake_nats_new_broker(NULL);
    assert_non_null(st->nats);
    lk_subscribe_opts opts = {.queue_group = "orders-service",
                              .durable_name = "orders-service",
                              .deliver_all = true};
    assert_int_equal(lk_bus_subscribe(lk_fake_nats_bus(st->nats),
                                      "ticket:created", &opts,
                                      count_delivery, st, NULL),
                     LK_OK);
    st->event = json_pack("{s:s,s:i,s:s,s:f,s:s}", "id",
                          "5f1d7f1e2a3b4c5d6e7f8091", "version", 0, "title",
                          "concert", "price", 10.0, "userId",
                          "5f1a2b3c4d5e6f7a8b9c0d1e");
    assert_non_null(st->event);
    for (int i = 0; i < round; i++)
        assert_int_equal(publish_run(st), LK_OK);
    lk_fake_nats_run_until_idle(st->nats, 1000);
    st->before = (size_t)round;
    st->delivered = 0;
    return st;
}

static void publish_failed(void *state)
{
    bus_state *st = state;
    assert_int_equal(lk_fake_nats_published_count(st->nats), st->before);
    lk_fake_nats_run_until_idle(st->nats, 100);
    assert_int_equal(st->delivered, 0); /* not in the stream either */
}

static void publish_done(void *state)
{
    bus_state *st = state;
    assert_int_equal(lk_fake_nats_published_count(st->nats), st->before + 1);
    lk_fake_nats_run_until_idle(st->nats, 100);
    assert_int_equal(st->delivered, 1);
}

static void publish_teardown(void *state)
{
    bus_state *st = state;
    json_decref(st->event);
    lk_fake_nats_free(st->nats);
    free(st);
}

/* ---- the specs ---------------------------------------------------------------- */

static void test_insert_out_of_memory_is_nomem_and_changes_nothing(void **s)
{
    (void)s;
    const oom_sweep_op op = {"insert (memory store, 0..19 docs before)",
                             insert_setup, GROW_ROUNDS, insert_run,
                         store_unchanged, insert_done, store_teardown};
    oom_sweep(&op);
}

static void test_save_out_of_memory_is_nomem_and_changes_nothing(void **s)
{
    (void)s;
    const oom_sweep_op op = {"save (memory store)", save_setup, 0, save_run,
                         store_unchanged, save_done, store_teardown};
    oom_sweep(&op);
}

static void test_publish_out_of_memory_is_nomem_and_stores_nothing(void **s)
{
    (void)s;
    const oom_sweep_op op = {"publish (fake NATS broker, 0..19 before)",
                             publish_setup, GROW_ROUNDS, publish_run, publish_failed, publish_done,
                         publish_teardown};
    oom_sweep(&op);
}

int main(void)
{
    failing_alloc_install(); /* before anything allocates (alloc.h) */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_out_of_memory_is_nomem_and_changes_nothing),
        cmocka_unit_test(test_save_out_of_memory_is_nomem_and_changes_nothing),
        cmocka_unit_test(test_publish_out_of_memory_is_nomem_and_stores_nothing),
    };
    int failed = cmocka_run_group_tests(tests, oom_sweep_group_setup,
                                        oom_sweep_group_teardown);
    oom_sweep_print_total("insert, save, publish");
    failing_alloc_uninstall();
    return failed;
}
