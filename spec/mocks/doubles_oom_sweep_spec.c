/* SPDX-License-Identifier: MIT */
/* doubles_oom_sweep_spec.c — the doubles' own calls with each of their
 * allocations refused in turn (spec/support/oom_sweep.h): making a fake
 * message, a memory store, a collection, a fake NATS with subscriptions
 * and connections, scripting its faults, and reading a store. Each says
 * LK_ERR_NOMEM (or NULL, where it returns a pointer), leaks nothing, and
 * leaves what it was called on as it was: a spec that runs out of memory
 * setting up gets a clear failure, never a half-made double. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "failing_alloc.h"
#include "fake_msg.h"
#include "fake_nats.h"
#include "listenkit/batch.h"
#include "mem_store.h"
#include "oom_sweep.h"

#define ROUNDS 10 /* 0..9 of a thing there before: reaches array growth */

static lk_status nomem_unless(const void *made)
{
    return made != NULL ? LK_OK : LK_ERR_NOMEM;
}

static void nothing_to_check(void *state) { (void)state; }

/* ---- fake messages ------------------------------------------------------------ */

typedef struct msgs {
    lk_msg *plain, *formatted;
} msgs;

static void *msgs_setup(int round)
{
    (void)round;
    msgs *m = calloc(1, sizeof *m);
    assert_non_null(m);
    return m;
}

static lk_status msgs_run(void *state)
{
    msgs *m = state;
    m->plain = lk_fake_msg_new("ticket:created", "{\"id\": \"a\"}");
    if (m->plain == NULL)
        return LK_ERR_NOMEM;
    m->formatted = lk_fake_msg_newf("ticket:created", "{\"n\": %d}", 7);
    return nomem_unless(m->formatted);
}

static void msgs_done(void *state)
{
    msgs *m = state;
    assert_string_equal(m->formatted->data, "{\"n\": 7}");
    assert_int_equal(m->plain->length, strlen("{\"id\": \"a\"}"));
}

static void msgs_teardown(void *state)
{
    msgs *m = state;
    lk_fake_msg_free(m->plain);
    lk_fake_msg_free(m->formatted);
    free(m);
}

/* ---- memory store: a new store, a new collection ---------------------------------- */

typedef struct stores {
    lk_store *store;
    lk_collection *coll;
    int round;
} stores;

static void *store_new_setup(int round)
{
    stores *st = calloc(1, sizeof *st);
    assert_non_null(st);
    st->round = round;
    return st;
}

static lk_status store_new_run(void *state)
{
    stores *st = state;
    st->store = lk_mem_store_new();
    return nomem_unless(st->store);
}

static void stores_teardown(void *state)
{
    stores *st = state;
    lk_store_free(st->store);
    free(st);
}

static const char *const two_unique[] = {"sku", "ticket.id", NULL};

/* Round r: r other collections open already. */
static void *collection_setup(int round)
{
    stores *st = store_new_setup(round);
    st->store = lk_mem_store_new();
    assert_non_null(st->store);
    for (int i = 0; i < round; i++) {
        char name[24]; /* "other" and any int */
        lk_collection *other = NULL;
        snprintf(name, sizeof name, "other%d", i);
        assert_int_equal(
            lk_store_collection(st->store, name, NULL, &other, NULL), LK_OK);
    }
    return st;
}

static lk_status collection_run(void *state)
{
    stores *st = state;
    lk_collection_opts opts = {.occ = LK_OCC_EXTERNAL, .unique = two_unique};
    return lk_store_collection(st->store, "items", &opts, &st->coll, NULL);
}

/* No half-made "items" stayed behind: one with other options would make
 * this open fail (LK_ERR_INVALID: reopened with other options). */
static void collection_failed(void *state)
{
    stores *st = state;
    assert_null(st->coll);
    lk_collection *coll = NULL;
    assert_int_equal(lk_store_collection(st->store, "items", NULL, &coll, NULL),
                     LK_OK);
    int64_t n = -1;
    assert_int_equal(lk_collection_count(coll, NULL, &n, NULL), LK_OK);
    assert_int_equal(n, 0);
}

static void collection_done(void *state)
{
    stores *st = state;
    assert_non_null(st->coll);
    assert_int_equal(st->coll->opts.occ, LK_OCC_EXTERNAL);
}

/* ---- memory store: reading --------------------------------------------------------- */

/* Round r: r documents; the read is find (iterated), count and find_one. */
static void *read_setup(int round)
{
    stores *st = collection_setup(0);
    assert_int_equal(lk_store_collection(st->store, "items", NULL, &st->coll,
                                         NULL),
                     LK_OK);
    for (int i = 0; i < round * 2; i++) {
        bson_t *d = BCON_NEW("n", BCON_INT32(i), "title",
                             BCON_UTF8("a title long enough to be copied"));
        assert_int_equal(lk_collection_insert(st->coll, d, NULL, NULL), LK_OK);
        bson_destroy(d);
    }
    st->round = round * 2;
    return st;
}

static lk_status read_run(void *state)
{
    stores *st = state;
    bson_t all = BSON_INITIALIZER;
    lk_cursor *cur = NULL;
    lk_status s = lk_collection_find(st->coll, &all, NULL, &cur, NULL);
    int64_t seen = 0, counted = 0;
    const bson_t *doc;
    if (s == LK_OK) {
        while (lk_cursor_next(cur, &doc))
            seen++;
        s = lk_cursor_error(cur, NULL);
    }
    lk_cursor_free(cur);
    if (s == LK_OK)
        s = lk_collection_count(st->coll, &all, &counted, NULL);
    if (s == LK_OK && (seen != st->round || counted != st->round))
        s = LK_ERR_STATE; /* a read that lost documents */
    bson_t *one = NULL;
    if (s == LK_OK && st->round > 0)
        s = lk_collection_find_one(st->coll, &all, &one, NULL);
    bson_destroy(one);
    return s;
}

static void read_failed(void *state)
{
    stores *st = state;
    int64_t n = -1;
    assert_int_equal(lk_collection_count(st->coll, NULL, &n, NULL), LK_OK);
    assert_int_equal(n, st->round);
}

/* ---- fake NATS: new, subscribe, connect, script faults ----------------------------- */

typedef struct nats_state {
    lk_fake_nats *nats;
    int subs;    /* subscriptions before the call */
    size_t pending; /* scripted publish errors before the call */
} nats_state;

static void count_only(lk_msg *msg, void *closure)
{
    (void)closure;
    (void)lk_msg_ack(msg);
}

static lk_status subscribe(lk_fake_nats *nats, int i)
{
    char group[32];
    snprintf(group, sizeof group, "group-%d", i);
    lk_subscribe_opts opts = {.queue_group = group, .durable_name = group};
    return lk_bus_subscribe(lk_fake_nats_bus(nats), "ticket:created", &opts,
                            count_only, NULL, NULL);
}

static void *nats_new_setup(int round)
{
    (void)round;
    nats_state *st = calloc(1, sizeof *st);
    assert_non_null(st);
    return st;
}

/* A broker, a subscription on it, a second connection, a scripted fault. */
static lk_status nats_new_run(void *state)
{
    nats_state *st = state;
    st->nats = lk_fake_nats_new_broker(NULL);
    lk_status s = nomem_unless(st->nats);
    if (s == LK_OK)
        s = subscribe(st->nats, 0);
    if (s == LK_OK)
        s = nomem_unless(lk_fake_nats_connect(st->nats));
    if (s == LK_OK)
        s = lk_fake_nats_push_errors(st->nats, LK_FAKE_OP_ACK, 1, LK_ERR_IO,
                                     0);
    return s;
}

static void nats_teardown(void *state)
{
    nats_state *st = state;
    lk_fake_nats_free(st->nats);
    free(st);
}

/* Round r: r subscriptions and r scripted publish errors there before. */
static void *nats_grow_setup(int round)
{
    nats_state *st = nats_new_setup(round);
    st->nats = lk_fake_nats_new_broker(NULL);
    assert_non_null(st->nats);
    for (int i = 0; i < round; i++) {
        assert_int_equal(subscribe(st->nats, i), LK_OK);
        assert_int_equal(lk_fake_nats_push_errors(st->nats,
                                                  LK_FAKE_OP_PUBLISH, 1,
                                                  LK_ERR_IO, 0),
                         LK_OK);
    }
    st->subs = round;
    st->pending = (size_t)round;
    return st;
}

static lk_status nats_grow_run(void *state)
{
    nats_state *st = state;
    lk_status s = subscribe(st->nats, st->subs);
    if (s == LK_OK)
        s = lk_fake_nats_push_errors(st->nats, LK_FAKE_OP_PUBLISH, 3,
                                     LK_ERR_TIMEOUT, 5);
    return s;
}

/* Either call failed whole: the subscription is there or not, the stack
 * holds what it held or all three new entries. */
static void nats_grow_failed(void *state)
{
    nats_state *st = state;
    size_t subs = lk_fake_nats_subscription_count(st->nats);
    size_t pending =
        lk_fake_nats_pending_errors(st->nats, LK_FAKE_OP_PUBLISH);
    assert_true(subs == (size_t)st->subs || subs == (size_t)st->subs + 1);
    assert_int_equal(pending, st->pending);
}

static void nats_grow_done(void *state)
{
    nats_state *st = state;
    assert_int_equal(lk_fake_nats_subscription_count(st->nats),
                     (size_t)st->subs + 1);
    assert_int_equal(lk_fake_nats_pending_errors(st->nats, LK_FAKE_OP_PUBLISH),
                     st->pending + 3);
}

/* ---- the specs ------------------------------------------------------------------- */

static void test_fake_messages_out_of_memory_are_null_and_leak_nothing(void **s)
{
    (void)s;
    const oom_sweep_op op = {"new fake message (text, printf)", msgs_setup, 0,
                             msgs_run, nothing_to_check, msgs_done,
                             msgs_teardown};
    oom_sweep(&op);
}

static void test_a_memory_store_out_of_memory_is_null_and_leaks_nothing(
    void **s)
{
    (void)s;
    const oom_sweep_op op = {"new memory store", store_new_setup, 0,
                             store_new_run, nothing_to_check, nothing_to_check,
                             stores_teardown};
    oom_sweep(&op);
}

static void test_a_collection_out_of_memory_is_nomem_and_not_half_made(
    void **s)
{
    (void)s;
    const oom_sweep_op op = {"open a collection (0..9 open before)",
                             collection_setup, ROUNDS, collection_run,
                             collection_failed, collection_done,
                             stores_teardown};
    oom_sweep(&op);
}

static void test_reads_out_of_memory_are_nomem_and_change_nothing(void **s)
{
    (void)s;
    const oom_sweep_op op = {"find, count, find_one (0..18 docs)",
                             read_setup, ROUNDS, read_run, read_failed,
                             nothing_to_check, stores_teardown};
    oom_sweep(&op);
}

static void test_a_fake_nats_out_of_memory_is_null_or_nomem(void **s)
{
    (void)s;
    const oom_sweep_op op = {"new fake NATS, subscribe, connect, fault",
                             nats_new_setup, 0, nats_new_run,
                             nothing_to_check, nothing_to_check,
                             nats_teardown};
    oom_sweep(&op);
}

static void test_subscriptions_and_faults_out_of_memory_change_nothing(
    void **s)
{
    (void)s;
    const oom_sweep_op op = {"subscribe, push_errors (0..9 before)",
                             nats_grow_setup, ROUNDS, nats_grow_run,
                             nats_grow_failed, nats_grow_done, nats_teardown};
    oom_sweep(&op);
}

/* ---- fake NATS: a batch -------------------------------------------------------------- */

typedef struct batch_state {
    lk_fake_nats *nats;
    lk_batch *batch;
} batch_state;

static void *batch_setup(int round)
{
    batch_state *st = calloc(1, sizeof *st);
    assert_non_null(st);
    st->nats = lk_fake_nats_new_broker(NULL);
    assert_non_null(st->nats);
    for (int i = 0; i < round; i++) /* a stream and id set that must grow */
        assert_int_equal(subscribe(st->nats, i), LK_OK);
    return st;
}

/* A batch of four with msg ids (two in flight at most), then the wait. */
static lk_status batch_run(void *state)
{
    batch_state *st = state;
    const lk_batch_opts bo = {.max_in_flight = 2};
    lk_status s = lk_batch_new(lk_fake_nats_bus(st->nats), &bo, &st->batch,
                               NULL);
    for (int i = 0; s == LK_OK && i < 4; i++) {
        char id[16];
        snprintf(id, sizeof id, "id-%d", i);
        const lk_publish_opts po = {.msg_id = id};
        s = lk_batch_publish(st->batch, "ticket:created", "{}", 2, &po, NULL);
    }
    if (s == LK_OK)
        s = lk_batch_wait(st->batch, 0, NULL);
    return s;
}

/* Whatever failed, every message the batch took is settled once the wait
 * returned, and each one the broker stored was taken. */
static void batch_failed(void *state)
{
    batch_state *st = state;
    if (st->batch == NULL)
        return;
    (void)lk_batch_wait(st->batch, 0, NULL);
    size_t published = lk_batch_published(st->batch);
    assert_int_equal(lk_batch_acked(st->batch) +
                         lk_batch_failure_count(st->batch),
                     published);
    assert_true(lk_fake_nats_published_count(st->nats) <= published);
}

static void batch_done(void *state)
{
    batch_state *st = state;
    assert_int_equal(lk_batch_acked(st->batch), 4);
    assert_int_equal(lk_fake_nats_published_count(st->nats), 4);
}

static void batch_teardown(void *state)
{
    batch_state *st = state;
    lk_batch_free(st->batch);
    lk_fake_nats_free(st->nats);
    free(st);
}

static void test_a_fake_batch_out_of_memory_settles_what_it_took(void **s)
{
    (void)s;
    const oom_sweep_op op = {"batch publish and wait (0..9 consumers)",
                             batch_setup, ROUNDS, batch_run, batch_failed,
                             batch_done, batch_teardown};
    oom_sweep(&op);
}

int main(void)
{
    failing_alloc_install(); /* before anything allocates (alloc.h) */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_fake_messages_out_of_memory_are_null_and_leak_nothing),
        cmocka_unit_test(
            test_a_memory_store_out_of_memory_is_null_and_leaks_nothing),
        cmocka_unit_test(
            test_a_collection_out_of_memory_is_nomem_and_not_half_made),
        cmocka_unit_test(test_reads_out_of_memory_are_nomem_and_change_nothing),
        cmocka_unit_test(test_a_fake_nats_out_of_memory_is_null_or_nomem),
        cmocka_unit_test(
            test_subscriptions_and_faults_out_of_memory_change_nothing),
        cmocka_unit_test(test_a_fake_batch_out_of_memory_settles_what_it_took),
    };
    int failed = cmocka_run_group_tests(tests, oom_sweep_group_setup,
                                        oom_sweep_group_teardown);
    oom_sweep_print_total("the doubles' own calls");
    failing_alloc_uninstall();
    return failed;
}
