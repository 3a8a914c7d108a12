/* SPDX-License-Identifier: MIT */
/*
 * listenkit/filter-private.h — the store filter language of store.h:
 * MongoDB queries on BSON documents. This is the one reference evaluator:
 * every store answers a filter exactly as lk_filter_match does (the memory
 * store by calling it on each candidate, the PostgreSQL store by
 * re-checking every row SQL returns with it).
 *
 * Supported: equality on a field or dotted path (`a.b`, `a.0`), where an
 * array matches when it contains the value or equals it whole, and null
 * matches a missing field; the operators $eq $ne $gt $gte $lt $lte $in
 * $nin $exists $not on fields and $and $or at any level. Numbers compare
 * across int32, int64 and double; comparing values of different types
 * matches nothing (as in MongoDB). Anything else is refused by
 * lk_filter_check with LK_ERR_INVALID naming the operator or field.
 * Private to listenkit's stores (not installed).
 */
#ifndef LISTENKIT_FILTER_PRIVATE_H
#define LISTENKIT_FILTER_PRIVATE_H

#include <stdbool.h>

#include <bson/bson.h>

#include "listenkit/error.h"

/* Validates the whole filter before any matching (NULL: match all), so a
 * bad filter fails even on an empty collection. The BSON itself is checked
 * as stored documents are (lk_bson_check, stored-private.h: at most 100 levels, which
 * also bounds the recursion of checking and matching). */
lk_status lk_filter_check(const bson_t *filter, lk_error *err);

/* True when `doc` matches `filter` (NULL: every document). The filter must
 * have passed lk_filter_check. */
bool lk_filter_match(const bson_t *filter, const bson_t *doc);

/* True, with *id, when the filter pins `_id` to one ObjectId at top level
 * ({_id: oid, ...} or {_id: {$eq: oid}, ...}), so a store can look the
 * one candidate up in its index instead of scanning. */
bool lk_filter_id(const bson_t *filter, bson_oid_t *id);

/* True, with *id, when the filter is exactly {_id: <ObjectId>}: well-formed
 * BSON with that one field. Such a filter needs neither lk_filter_check
 * nor lk_filter_match: the `_id` index entry is the answer (the shape
 * lk_collection_find_by_id sends). */
bool lk_filter_is_id(const bson_t *filter, bson_oid_t *id);

#endif /* LISTENKIT_FILTER_PRIVATE_H */
