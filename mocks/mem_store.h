/* SPDX-License-Identifier: MIT */
/*
 * mocks/mem_store.h — an in-memory, Mongo-like lk_store.
 *
 * Collections of BSON documents with the filter language and the OCC
 * contract of listenkit/store.h, in process memory: fast, deterministic,
 * nothing to start. Use it through the lk_store / lk_collection API:
 *
 *     lk_store *store = lk_mem_store_new();
 *     lk_collection *tickets;
 *     lk_store_collection(store, "tickets", NULL, &tickets, &err);
 *     lk_collection_insert(tickets, doc, &stored, &err);
 *     ...
 *     lk_store_free(store);
 *
 * Behaviour beyond the header contract:
 *   - `_id` must be an ObjectId (generated when absent) and is stored as
 *     the first field; versions are stored as int64.
 *   - Lookups by `_id`, and filters that pin `_id` to one ObjectId
 *     ({_id: oid, ...} or {_id: {$eq: oid}, ...}), use a hash index; unique
 *     fields (opts.unique) have one each. Other filters scan in insertion
 *     order.
 *   - Unique fields index scalars only (numbers, strings, ObjectId, bool,
 *     date); documents where the field is absent or null are not indexed.
 *   - The version key must be a top-level field.
 *   - Documents are checked as MongoDB would store them: valid BSON at
 *     every depth with UTF-8 field names, at most 100 levels of nesting,
 *     at most 16 MiB; anything else is LK_ERR_INVALID ("not valid BSON (at
 *     byte N)"). A repeated `_id` or version field is stored once (the
 *     first `_id`; the version where it first appears).
 *   - Every document handed out is a deep copy; cursors are snapshots.
 *   - Each call is atomic and a failed call changes nothing.
 *
 * Thread-safety: every function may be called from any thread (one mutex
 * per store), so several listeners on libnats threads may share a store.
 * A cursor belongs to one thread at a time. lk_store_free() must not race
 * with other calls on the same store.
 *
 * What it does not model is listed in mocks/README.md; each such thing is
 * a clear LK_ERR_INVALID naming the operator, field or type, never ignored.
 */
#ifndef LISTENKIT_MOCKS_MEM_STORE_H
#define LISTENKIT_MOCKS_MEM_STORE_H

#include "listenkit/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A new, empty store; NULL on OOM. Free with lk_store_free(), which frees
 * its collections and documents too. */
lk_store *lk_mem_store_new(void);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_MOCKS_MEM_STORE_H */
