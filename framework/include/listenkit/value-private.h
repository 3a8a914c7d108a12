/* SPDX-License-Identifier: MIT */
/*
 * listenkit/value-private.h — how the stores compare BSON values.
 *
 * One ordering for the filter matcher and one key encoding for unique
 * indexes, both following MongoDB: values are first ordered by type class
 * (null < numbers < strings < documents < arrays < binary < ObjectId <
 * bool < date < timestamp), and within a class by value; int32, int64 and
 * double are one class compared by numeric value (NaN equals NaN and sorts
 * below every other number). Private to listenkit's stores
 * (not installed).
 */
#ifndef LISTENKIT_VALUE_PRIVATE_H
#define LISTENKIT_VALUE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "listenkit/error.h"

/* The MongoDB type class of `type` (0 for a type the stores do not
 * compare: regex, code, DBPointer, decimal128). Equal classes are
 * comparable with lk_value_compare(). */
int lk_value_class(bson_type_t type);

/* True when the filter language supports `type` as an operand. */
bool lk_value_supported(bson_type_t type);

/* <0, 0, >0 as a orders before, equal to, after b, which must be of the
 * same class (callers compare classes first: a filter never matches across
 * classes, and documents order by class before key). Documents and arrays
 * compare element by element (type class, then key, then value). */
int lk_value_compare(const bson_iter_t *a, const bson_iter_t *b);

/* A short readable type name ("string", "int32", "ObjectId", ...). */
const char *lk_bson_type_name(bson_type_t type);

/* The unique-index key of a scalar value: equal values (1, 1L, 1.0 alike)
 * give equal bytes. Supported: numbers, strings, ObjectId, bool, date.
 * *key is malloc'd, the caller frees it. LK_ERR_INVALID naming `path` for
 * other types, LK_ERR_NOMEM on OOM. */
lk_status lk_value_key(const bson_iter_t *value, const char *path,
                       uint8_t **key, size_t *len, lk_error *err);

#endif /* LISTENKIT_VALUE_PRIVATE_H */
