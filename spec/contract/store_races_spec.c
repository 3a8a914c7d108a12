/* SPDX-License-Identifier: MIT */
/* store_races_spec.c — the store contract under concurrency, on every
 * store (spec/support/store_impls.h): saves racing on one document (exactly
 * one wins, every round) and inserts racing for one unique value (exactly
 * one is stored). On PostgreSQL half of the threads go through a second
 * store on the same data — another process with connections of its own.
 *
 * The threads only record what each call returned; the assertions run on
 * the main thread afterwards (cmocka cannot fail from another thread). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "listenkit.h"
#include "store_impls.h"
#include "store_spec.h"

#define THREADS 4
#define SAVE_ROUNDS 100
#define INSERT_ROUNDS 25

typedef struct fixture {
    const spec_store_impl *impl;
    lk_store *store, *other; /* other: the second store (durable rows) */
    lk_collection *items[2], *users[2];
} fixture;

static int setup(void **state)
{
    static const char *const unique[] = {"email", NULL};
    static const lk_collection_opts users = {.unique = unique};
    fixture *f = test_calloc(1, sizeof *f);
    f->impl = *state;
    f->store = spec_store_open(f->impl);
    f->other = spec_store_durable(f->impl)
                   ? spec_store_open_again(f->impl, f->store)
                   : f->store;
    for (int i = 0; i < 2; i++) {
        lk_store *s = i == 0 ? f->store : f->other;
        f->items[i] = store_spec_collection(s, "race_items", NULL);
        f->users[i] = store_spec_collection(s, "race_users", &users);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->other != f->store)
        spec_store_close(f->other);
    spec_store_close(f->store);
    test_free(f);
    return 0;
}

/* ---- saves racing on one document ------------------------------------------- */

typedef struct racer {
    lk_collection *coll;
    pthread_barrier_t *loaded, *saved;
    bson_oid_t id;
    lk_status status[SAVE_ROUNDS];
    lk_status load_status[SAVE_ROUNDS];
} racer;

/* Each round: load the current document, wait until every thread holds
 * the same version, then all save at once; wait until all are done. */
static void *race_saves(void *arg)
{
    racer *r = arg;
    for (int round = 0; round < SAVE_ROUNDS; round++) {
        bson_t *doc = NULL;
        r->load_status[round] =
            lk_collection_find_by_id(r->coll, &r->id, &doc, NULL);
        pthread_barrier_wait(r->loaded);
        r->status[round] = doc != NULL
                               ? lk_collection_save(r->coll, doc, NULL, NULL)
                               : LK_ERR_NOT_FOUND;
        bson_destroy(doc);
        pthread_barrier_wait(r->saved);
    }
    return NULL;
}

static void test_racing_saves_on_one_document_let_exactly_one_win_each_round(
    void **state)
{
    fixture *f = *state;
    pthread_barrier_t loaded, saved;
    pthread_t threads[THREADS];
    static racer racers[THREADS];
    bson_t *d = store_spec_insert(f->items[0], "{\"title\": \"race\"}");
    bson_oid_t id;
    assert_int_equal(lk_bson_get_oid(d, &id, NULL), LK_OK);
    pthread_barrier_init(&loaded, NULL, THREADS);
    pthread_barrier_init(&saved, NULL, THREADS);
    for (int t = 0; t < THREADS; t++) {
        racers[t] = (racer){.coll = f->items[t % 2], .loaded = &loaded,
                            .saved = &saved, .id = id};
        assert_int_equal(pthread_create(&threads[t], NULL, race_saves,
                                        &racers[t]),
                         0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    pthread_barrier_destroy(&loaded);
    pthread_barrier_destroy(&saved);

    for (int round = 0; round < SAVE_ROUNDS; round++) {
        int won = 0, stale = 0;
        for (int t = 0; t < THREADS; t++) {
            assert_int_equal(racers[t].load_status[round], LK_OK);
            won += racers[t].status[round] == LK_OK;
            stale += racers[t].status[round] == LK_ERR_VERSION;
        }
        if (won != 1 || stale != THREADS - 1)
            fail_msg("round %d: %d saves won and %d were stale (want 1 and "
                     "%d)",
                     round, won, stale, THREADS - 1);
    }
    /* one version per round, on both stores */
    for (int i = 0; i < 2; i++) {
        bson_t *now = store_spec_load(f->items[i], d);
        assert_int_equal(store_spec_version(now), SAVE_ROUNDS);
        bson_destroy(now);
    }
    bson_destroy(d);
}

/* ---- inserts racing for one unique value -------------------------------------- */

typedef struct inserter {
    lk_collection *coll;
    pthread_barrier_t *start;
    int thread;
    lk_status status[INSERT_ROUNDS];
    char message[INSERT_ROUNDS][LK_ERROR_MESSAGE_MAX + 1];
} inserter;

static void *race_inserts(void *arg)
{
    inserter *in = arg;
    for (int round = 0; round < INSERT_ROUNDS; round++) {
        char json[128];
        lk_error err;
        snprintf(json, sizeof json,
                 "{\"email\": \"user%d@x\", \"thread\": %d}", round,
                 in->thread);
        bson_t *doc = bson_new_from_json((const uint8_t *)json, -1, NULL);
        pthread_barrier_wait(in->start);
        in->status[round] = lk_collection_insert(in->coll, doc, NULL, &err);
        snprintf(in->message[round], sizeof in->message[round], "%s",
                 in->status[round] == LK_OK ? "" : err.message);
        bson_destroy(doc);
    }
    return NULL;
}

static void test_inserts_racing_for_a_unique_value_store_exactly_one(
    void **state)
{
    fixture *f = *state;
    pthread_barrier_t start;
    pthread_t threads[THREADS];
    static inserter inserters[THREADS];
    pthread_barrier_init(&start, NULL, THREADS);
    for (int t = 0; t < THREADS; t++) {
        inserters[t] = (inserter){.coll = f->users[t % 2], .start = &start,
                                  .thread = t};
        assert_int_equal(pthread_create(&threads[t], NULL, race_inserts,
                                        &inserters[t]),
                         0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    pthread_barrier_destroy(&start);

    for (int round = 0; round < INSERT_ROUNDS; round++) {
        int stored = 0;
        for (int t = 0; t < THREADS; t++) {
            lk_status s = inserters[t].status[round];
            if (s == LK_OK) {
                stored++;
                continue;
            }
            if (s != LK_ERR_DUPLICATE ||
                strstr(inserters[t].message[round], "\"email\"") == NULL)
                fail_msg("round %d, thread %d: %s: %s", round, t,
                         lk_status_name(s), inserters[t].message[round]);
        }
        assert_int_equal(stored, 1);
        char filter[64];
        snprintf(filter, sizeof filter, "{\"email\": \"user%d@x\"}", round);
        assert_int_equal(store_spec_count(f->users[0], filter), 1);
    }
    assert_int_equal(store_spec_count(f->users[1], "{}"), INSERT_ROUNDS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_racing_saves_on_one_document_let_exactly_one_win_each_round,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_inserts_racing_for_a_unique_value_store_exactly_one, setup,
            teardown),
    };
    return spec_store_run(tests, sizeof tests / sizeof tests[0]);
}
