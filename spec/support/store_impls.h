/* SPDX-License-Identifier: MIT */
/*
 * store_impls.h — every lk_store the store specs run on, so one spec file
 * holds each behaviour once and runs it on each store:
 *
 *     memory               lk_mem_store_new()
 *     postgres             lk_pg_store_connect() on spec_pg_server, a fresh
 *                          schema per store, pushdown on
 *     postgres-nopushdown  the same with LK_PG_PUSHDOWN_OFF: every row is
 *                          evaluated by the core, so a pushdown bug shows as
 *                          a difference between the two rows
 *
 *     static int setup(void **state) {
 *         lk_store *store = spec_store_open(*state);   // the row's store
 *         ...
 *     }
 *     int main(void) {
 *         const struct CMUnitTest tests[] = {cmocka_unit_test_setup_teardown(...), ...};
 *         return spec_store_run(tests, N);   // each test once per store
 *     }
 *
 * A row whose store is not available here (no PostgreSQL) fails under
 * CI=true and is skipped loudly otherwise (spec_pg_server_require). The
 * PostgreSQL server is started once per spec program and stopped, and the
 * schemas dropped, when it exits.
 */
#ifndef STORE_IMPLS_H
#define STORE_IMPLS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "listenkit.h"

typedef struct spec_store_impl spec_store_impl;

/* The running test's store, new and empty (the impl is the test's
 * initial state). Fails the test when it cannot be made. */
lk_store *spec_store_open(const spec_store_impl *impl);

/* Frees a store spec_store_open (or _reopen, _open_again) made: use it
 * in teardowns instead of lk_store_free. NULL is ignored. */
void spec_store_close(lk_store *store);

/* The row's name ("memory", "postgres", ...). */
const char *spec_store_name(const spec_store_impl *impl);

/* True when the store keeps its data past lk_store_free (PostgreSQL). */
bool spec_store_durable(const spec_store_impl *impl);

/* Frees `store` and opens the same data again (durable stores only):
 * "the service restarted". Fails the test on error. */
lk_store *spec_store_reopen(const spec_store_impl *impl, lk_store *store);

/* Another store over the same data as `store` (durable stores only): a
 * second process, with connections of its own. */
lk_store *spec_store_open_again(const spec_store_impl *impl,
                                const lk_store *store);

/* The PostgreSQL URL of the rows that have one (NULL for memory): for
 * specs that look under the store (EXPLAIN, tampering). */
const char *spec_store_pg_url(const spec_store_impl *impl);

/* The schema `store` keeps its tables in (NULL for memory). */
const char *spec_store_pg_schema(const spec_store_impl *impl,
                                 const lk_store *store);

/* Runs every test once per store row, named "<row>: <test name without
 * test_>", with initial_state the row. Tests named test_durable_* run only
 * on durable rows (the memory store's data ends with it: mocks/README).
 * Returns what cmocka_run_group_tests returns. */
int spec_store_run(const struct CMUnitTest *tests, size_t n);

#endif
