/* SPDX-License-Identifier: MIT */
/*
 * listenkit/store-private.h — how every store (the memory store, the
 * PostgreSQL store) opens a collection: a list of the collections it has
 * open, where opening a name again returns the one already open, and
 * opening it with other options is refused the same way in every store.
 * Private to listenkit's stores (not installed).
 */
#ifndef LISTENKIT_STORE_PRIVATE_H
#define LISTENKIT_STORE_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "listenkit/store.h"

/* How many paths the NULL-terminated list `unique` holds (NULL: none). */
size_t lk_paths_count(const char *const *unique);

/* `a` and `b` (NULL-terminated, each path listed once, NULL: none) hold
 * the same paths, in any order. */
bool lk_paths_same_set(const char *const *a, const char *const *b);

/* A store's open collections, in the order they were opened, owned by
 * the list (lk_open_colls_free). The store's lock guards it.
 * Zero-initialised: empty. */
typedef struct lk_open_colls {
    lk_collection **items; /* each the base of the store's own type */
    size_t n;
} lk_open_colls;

/* Makes the collection `name` that is not open yet: on LK_OK, *out is the
 * base of a new collection of the store's own type (with `version_key`,
 * `opts` defaulted, as its opts.version_key); else nothing is left behind
 * and `err` says why. */
typedef lk_status (*lk_open_make_fn)(void *store, const char *name,
                                     const lk_collection_opts *opts,
                                     const char *version_key,
                                     lk_collection **out, lk_error *err);

/* The store half of lk_store_collection, which has checked `name` and
 * `opts`: the collection `name` already in `list` when it was opened with
 * the same options (OCC mode, version key, the same set of unique paths),
 * LK_ERR_INVALID naming it when with others; else a new one from
 * make(store, ...) added to the list (LK_ERR_NOMEM when the list cannot
 * grow: make is not called). *out is set on LK_OK only, borrowed from the
 * store. Holds `lock` (the store's) throughout: opening is rare, and two
 * threads opening the same new collection make one. */
lk_status lk_open_colls_open(lk_open_colls *list, pthread_mutex_t *lock,
                             void *store, const char *name,
                             const lk_collection_opts *opts,
                             lk_open_make_fn make, lk_collection **out,
                             lk_error *err);

/* Frees each collection of `list` with `free_coll` (the store's own
 * free, given the base), then the list's memory. */
void lk_open_colls_free(lk_open_colls *list,
                        void (*free_coll)(lk_collection *coll));

#endif /* LISTENKIT_STORE_PRIVATE_H */
