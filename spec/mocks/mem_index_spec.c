/* SPDX-License-Identifier: MIT */
/* mem_index_spec.c — the memory store's hash index (mocks/mem_index.c),
 * driven directly: keys are found after growth, absent keys are not, and
 * removing any key — also from probe runs that wrap around the end of the
 * table — leaves every other key reachable (backward-shift deletion). The
 * store's specs reach it only through random ObjectIds; here the keys are
 * chosen by the slot they hash to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mem_index-private.h"

typedef struct item {
    uint8_t key[8];
    bool keyless;
} item;

static const uint8_t *key_of(const void *p, size_t which, size_t *len)
{
    const item *it = p;
    (void)which;
    *len = sizeof it->key;
    return it->keyless ? NULL : it->key;
}

static void make_key(item *it, uint64_t n)
{
    memset(it, 0, sizeof *it);
    memcpy(it->key, &n, sizeof n);
}

/* The slot `it` hashes to in a 16-slot table (read back from a scratch
 * index, since the hash is the index's own). */
static size_t home_of(const item *it)
{
    lk_mem_index ix;
    lk_mem_index_init(&ix, key_of, 0);
    assert_true(lk_mem_index_reserve(&ix, 1));
    assert_int_equal(ix.mask, 15);
    lk_mem_index_put(&ix, (void *)it);
    size_t home = SIZE_MAX;
    for (size_t i = 0; i <= ix.mask; i++)
        if (ix.slots[i].item == it)
            home = (size_t)ix.slots[i].hash & ix.mask;
    lk_mem_index_destroy(&ix);
    return home;
}

/* Fills `items` with keys whose home slots are `homes`, in that order. */
static void keys_with_homes(item *items, const size_t *homes, size_t n)
{
    uint64_t next = 1;
    for (size_t i = 0; i < n; i++) {
        do
            make_key(&items[i], next++);
        while (home_of(&items[i]) != homes[i]);
    }
}

static void assert_reachable(const lk_mem_index *ix, item *items, size_t n,
                             const bool *removed)
{
    size_t present = 0;
    for (size_t i = 0; i < n; i++) {
        void *got = lk_mem_index_get(ix, items[i].key, sizeof items[i].key);
        if (removed[i])
            assert_null(got);
        else
            assert_ptr_equal(got, &items[i]);
        present += !removed[i];
    }
    assert_int_equal(ix->count, present);
}

/* Homes crowded at the end of the table, so that probe runs wrap to slot
 * 0 and keys homed at 0..1 sit behind wrapped ones. */
static const size_t HOMES[] = {13, 14, 15, 15, 15, 0, 0, 1};
#define N (sizeof HOMES / sizeof HOMES[0])

static void test_removing_any_key_keeps_the_others_reachable_across_the_wrap(
    void **state)
{
    item items[N];
    (void)state;
    keys_with_homes(items, HOMES, N);
    /* every key removed first, then the rest in two orders */
    for (size_t first = 0; first < N; first++) {
        for (int order = 0; order < 2; order++) {
            lk_mem_index ix;
            bool removed[N] = {false};
            lk_mem_index_init(&ix, key_of, 0);
            assert_true(lk_mem_index_reserve(&ix, N));
            assert_int_equal(ix.mask, 15); /* 8 keys, 3/4 load: 16 slots */
            for (size_t i = 0; i < N; i++)
                assert_null(lk_mem_index_put_new(&ix, &items[i]));
            assert_reachable(&ix, items, N, removed);
            for (size_t k = 0; k < N; k++) {
                size_t i = (order == 0 ? first + k : first + N - k) % N;
                lk_mem_index_remove(&ix, &items[i]);
                removed[i] = true;
                assert_reachable(&ix, items, N, removed);
            }
            lk_mem_index_destroy(&ix);
        }
    }
}

static void test_put_new_returns_the_holder_of_a_taken_key(void **state)
{
    item a, b;
    lk_mem_index ix;
    (void)state;
    make_key(&a, 42);
    make_key(&b, 42);
    lk_mem_index_init(&ix, key_of, 0);
    assert_true(lk_mem_index_reserve(&ix, 2));
    assert_null(lk_mem_index_put_new(&ix, &a));
    assert_ptr_equal(lk_mem_index_put_new(&ix, &b), &a);
    assert_int_equal(ix.count, 1);
    lk_mem_index_destroy(&ix);
}

static void test_keyless_or_absent_items_are_ignored(void **state)
{
    item a;
    lk_mem_index ix;
    (void)state;
    make_key(&a, 7);
    a.keyless = true;
    lk_mem_index_init(&ix, key_of, 0);
    assert_null(lk_mem_index_get(&ix, a.key, sizeof a.key)); /* no slots */
    assert_true(lk_mem_index_reserve(&ix, 1));
    lk_mem_index_put(&ix, &a);
    assert_int_equal(ix.count, 0);
    lk_mem_index_remove(&ix, &a); /* ignored */
    assert_int_equal(ix.count, 0);
    /* so is removing a keyed item that was never put */
    item b;
    make_key(&b, 8);
    lk_mem_index_remove(&ix, &b);
    assert_int_equal(ix.count, 0);
    lk_mem_index_destroy(&ix);
}

static void test_growth_keeps_every_key(void **state)
{
    enum { MANY = 1000 };
    static item items[MANY];
    bool removed[MANY] = {false};
    lk_mem_index ix;
    (void)state;
    lk_mem_index_init(&ix, key_of, 0);
    for (size_t i = 0; i < MANY; i++) {
        make_key(&items[i], 1000003u * i);
        assert_true(lk_mem_index_reserve(&ix, 1));
        lk_mem_index_put(&ix, &items[i]);
    }
    /* at most 3/4 full */
    assert_true(ix.count * 4 <= (ix.mask + 1) * 3);
    assert_reachable(&ix, items, MANY, removed);
    lk_mem_index_destroy(&ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_removing_any_key_keeps_the_others_reachable_across_the_wrap),
        cmocka_unit_test(test_put_new_returns_the_holder_of_a_taken_key),
        cmocka_unit_test(test_keyless_or_absent_items_are_ignored),
        cmocka_unit_test(test_growth_keeps_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
