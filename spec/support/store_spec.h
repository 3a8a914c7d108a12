/* SPDX-License-Identifier: MIT */
/*
 * store_spec.h — what the store specs share (the contract suite and the
 * memory store's own specs): documents from JSON, inserting and seeding,
 * loading back, reading a version, counting and listing matches, and
 * asserting a refusal.
 *
 * Every function here fails the running cmocka test instead of returning an
 * error, so call them only from a test, a setup or a teardown. Documents
 * returned are new: the caller destroys them.
 */
#ifndef STORE_SPEC_H
#define STORE_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "listenkit.h"

/* A document from relaxed extended JSON: 1 is int32, 1.0 a double,
 * {"$numberLong": "1"} an int64, {"$oid": "..."} an ObjectId. Bad JSON
 * fails the test. Caller destroys. */
bson_t *store_spec_doc(const char *json);

/* The collection `name` of `store`, opened with `opts` (NULL: defaults);
 * a refusal fails the test. Borrowed: the store owns it. */
lk_collection *store_spec_collection(lk_store *store, const char *name,
                                     const lk_collection_opts *opts);

/* Inserts `json` into `c` and returns the stored document (caller
 * destroys); a refusal fails the test with its message. */
bson_t *store_spec_insert(lk_collection *c, const char *json);

/* Inserts `json` into `c` and returns the status, filling `err`: for specs
 * of refusals. */
lk_status store_spec_insert_status(lk_collection *c, const char *json,
                                   lk_error *err);

/* Inserts each of the `n` documents in `jsons`, in order, dropping the
 * stored copies. */
void store_spec_seed(lk_collection *c, const char *const *jsons, size_t n);

/* Inserts {"n": i, "odd": i % 2 == 1} for i = from..to, in order: rows
 * for specs of order, skip, limit, count and delete. */
void store_spec_insert_numbers(lk_collection *c, int from, int to);

/* The stored document with the `_id` of `like` (caller destroys). */
bson_t *store_spec_load(lk_collection *c, const bson_t *like);

/* The document's "version" as an int64 (asserts it is there). */
int64_t store_spec_version(const bson_t *d);

/* The UTF-8 string at `key`, or "(missing)" when there is none (borrowed
 * from `d`). */
const char *store_spec_str(const bson_t *d, const char *key);

/* A copy of `d` with the string `key` set to `value` (replaced where it
 * was, else appended). Caller destroys. */
bson_t *store_spec_with_str(const bson_t *d, const char *key,
                            const char *value);

/* How many documents of `c` match `filter_json` (a refusal fails). */
int64_t store_spec_count(lk_collection *c, const char *filter_json);

/* The string (or integer) `field` of each document `filter_json` finds in
 * `c`, after skip and limit (0: none), in the order find gives, as
 * "a b c". Also asserts that lk_collection_count agrees when neither skip
 * nor limit is set. Returns a static buffer, overwritten by the next call. */
const char *store_spec_find(lk_collection *c, const char *filter_json,
                            const char *field, int64_t skip, int64_t limit);

/* Asserts a refusal: `got` is `want`, err->status agrees, and the message
 * names `needle` (NULL: no message check). */
void store_spec_assert_refused(lk_status got, lk_status want,
                               const lk_error *err, const char *needle);

#endif
