/* SPDX-License-Identifier: MIT */
/* value.c — MongoDB's value ordering and unique-key encoding, for the
 * filter evaluator and the stores' unique indexes. */
#include "listenkit/value-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "listenkit/alloc.h"

int lk_value_class(bson_type_t type)
{
    switch (type) {
    case BSON_TYPE_MINKEY:
        return 1;
    case BSON_TYPE_UNDEFINED:
    case BSON_TYPE_NULL:
        return 2;
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
    case BSON_TYPE_DOUBLE:
        return 3;
    case BSON_TYPE_UTF8:
    case BSON_TYPE_SYMBOL:
        return 4;
    case BSON_TYPE_DOCUMENT:
        return 5;
    case BSON_TYPE_ARRAY:
        return 6;
    case BSON_TYPE_BINARY:
        return 7;
    case BSON_TYPE_OID:
        return 8;
    case BSON_TYPE_BOOL:
        return 9;
    case BSON_TYPE_DATE_TIME:
        return 10;
    case BSON_TYPE_TIMESTAMP:
        return 11;
    case BSON_TYPE_MAXKEY:
        return 12;
    default: /* regex, code, DBPointer, decimal128, EOD */
        return 0;
    }
}

bool lk_value_supported(bson_type_t type)
{
    return lk_value_class(type) != 0;
}

const char *lk_bson_type_name(bson_type_t type)
{
    switch (type) {
    case BSON_TYPE_DOUBLE: return "double";
    case BSON_TYPE_UTF8: return "string";
    case BSON_TYPE_DOCUMENT: return "document";
    case BSON_TYPE_ARRAY: return "array";
    case BSON_TYPE_BINARY: return "binary";
    case BSON_TYPE_UNDEFINED: return "undefined";
    case BSON_TYPE_OID: return "ObjectId";
    case BSON_TYPE_BOOL: return "bool";
    case BSON_TYPE_DATE_TIME: return "date";
    case BSON_TYPE_NULL: return "null";
    case BSON_TYPE_REGEX: return "regex";
    case BSON_TYPE_DBPOINTER: return "DBPointer";
    case BSON_TYPE_CODE: return "code";
    case BSON_TYPE_SYMBOL: return "symbol";
    case BSON_TYPE_CODEWSCOPE: return "code with scope";
    case BSON_TYPE_INT32: return "int32";
    case BSON_TYPE_TIMESTAMP: return "timestamp";
    case BSON_TYPE_INT64: return "int64";
    case BSON_TYPE_DECIMAL128: return "decimal128";
    case BSON_TYPE_MAXKEY: return "maxKey";
    case BSON_TYPE_MINKEY: return "minKey";
    case BSON_TYPE_EOD: break;
    }
    return "unknown type";
}

static int sign64(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

/* An integer against a double, exactly (no rounding of the integer to a
 * double, which would make 2^53 + 1 equal 2^53). NaN sorts lowest. */
static int compare_int_double(int64_t i, double d)
{
    if (isnan(d))
        return 1;
    if (d >= 9223372036854775808.0)
        return -1;
    if (d < -9223372036854775808.0)
        return 1;
    double t = trunc(d);
    int c = sign64(i, (int64_t)t);
    if (c != 0)
        return c;
    return (d > t) ? -1 : (d < t) ? 1 : 0;
}

static int compare_numbers(const bson_iter_t *a, const bson_iter_t *b)
{
    bool ad = BSON_ITER_HOLDS_DOUBLE(a), bd = BSON_ITER_HOLDS_DOUBLE(b);
    if (!ad && !bd)
        return sign64(bson_iter_as_int64(a), bson_iter_as_int64(b));
    if (!ad)
        return compare_int_double(bson_iter_as_int64(a), bson_iter_double(b));
    if (!bd)
        return -compare_int_double(bson_iter_as_int64(b), bson_iter_double(a));
    double x = bson_iter_double(a), y = bson_iter_double(b);
    if (isnan(x) || isnan(y))
        return isnan(y) - isnan(x);
    return (x > y) - (x < y);
}

static int compare_bytes(const void *a, size_t alen, const void *b,
                         size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return (alen > blen) - (alen < blen);
}

static const char *iter_string(const bson_iter_t *it, uint32_t *len)
{
    if (BSON_ITER_HOLDS_SYMBOL(it))
        return bson_iter_symbol(it, len);
    return bson_iter_utf8(it, len);
}

/* Documents and arrays: element by element, shorter first. */
static int compare_children(const bson_iter_t *a, const bson_iter_t *b)
{
    bson_iter_t x, y;
    if (!bson_iter_recurse(a, &x) || !bson_iter_recurse(b, &y))
        return 0;
    for (;;) {
        bool mx = bson_iter_next(&x), my = bson_iter_next(&y);
        if (!mx || !my)
            return (int)mx - (int)my;
        int c = lk_value_class(bson_iter_type(&x)) -
                lk_value_class(bson_iter_type(&y));
        if (c == 0)
            c = compare_bytes(bson_iter_key(&x), bson_iter_key_len(&x),
                              bson_iter_key(&y), bson_iter_key_len(&y));
        if (c == 0)
            c = lk_value_compare(&x, &y);
        if (c != 0)
            return c < 0 ? -1 : 1;
    }
}

int lk_value_compare(const bson_iter_t *a, const bson_iter_t *b)
{
    switch (lk_value_class(bson_iter_type(a))) {
    case 3:
        return compare_numbers(a, b);
    case 4: {
        uint32_t al = 0, bl = 0;
        const char *as = iter_string(a, &al), *bs = iter_string(b, &bl);
        return compare_bytes(as, al, bs, bl);
    }
    case 5:
    case 6:
        return compare_children(a, b);
    case 7: {
        bson_subtype_t at, bt;
        uint32_t al = 0, bl = 0;
        const uint8_t *ab = NULL, *bb = NULL;
        bson_iter_binary(a, &at, &al, &ab);
        bson_iter_binary(b, &bt, &bl, &bb);
        if (al != bl)
            return al < bl ? -1 : 1;
        if (at != bt)
            return at < bt ? -1 : 1;
        return compare_bytes(ab, al, bb, bl);
    }
    case 8:
        return compare_bytes(bson_iter_oid(a)->bytes, 12,
                             bson_iter_oid(b)->bytes, 12);
    case 9:
        return (int)bson_iter_bool(a) - (int)bson_iter_bool(b);
    case 10:
        return sign64(bson_iter_date_time(a), bson_iter_date_time(b));
    case 11: {
        uint32_t at, ai, bt, bi;
        bson_iter_timestamp(a, &at, &ai);
        bson_iter_timestamp(b, &bt, &bi);
        if (at != bt)
            return at < bt ? -1 : 1;
        return (ai > bi) - (ai < bi);
    }
    default: /* null, minKey, maxKey: one value each */
        return 0;
    }
}

/* ---- unique keys ----------------------------------------------------- */

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)(v & 0xff);
}

lk_status lk_value_key(const bson_iter_t *value, const char *path,
                       uint8_t **key, size_t *len, lk_error *err)
{
    /* A key is a one-byte tag (the value's kind) and its bytes; numbers of
     * every type share the tag 'n' when integral, so 1, 1L and 1.0 clash. */
    uint8_t fixed[12];
    const uint8_t *payload = fixed;
    size_t n = 8;
    uint8_t tag;
    uint32_t slen = 0;

    *key = NULL;
    *len = 0;
    switch (bson_iter_type(value)) {
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
        tag = 'n';
        put_u64(fixed, (uint64_t)bson_iter_as_int64(value));
        break;
    case BSON_TYPE_DOUBLE: {
        double d = bson_iter_double(value);
        if (isfinite(d) && d == trunc(d) && d >= -9223372036854775808.0 &&
            d < 9223372036854775808.0) {
            tag = 'n';
            put_u64(fixed, (uint64_t)(int64_t)d);
        } else {
            uint64_t bits;
            if (isnan(d))
                d = NAN; /* one NaN, whatever its payload */
            memcpy(&bits, &d, sizeof bits);
            tag = 'd';
            put_u64(fixed, bits);
        }
        break;
    }
    case BSON_TYPE_DATE_TIME:
        tag = 't';
        put_u64(fixed, (uint64_t)bson_iter_date_time(value));
        break;
    case BSON_TYPE_BOOL:
        tag = 'b';
        fixed[0] = bson_iter_bool(value) ? 1 : 0;
        n = 1;
        break;
    case BSON_TYPE_OID:
        tag = 'o';
        memcpy(fixed, bson_iter_oid(value)->bytes, 12);
        n = 12;
        break;
    case BSON_TYPE_UTF8:
        tag = 's';
        payload = (const uint8_t *)bson_iter_utf8(value, &slen);
        n = slen;
        break;
    default:
        return lk_error_set(err, LK_ERR_INVALID,
                            "unique field \"%s\": %s values are not supported "
                            "in a unique index (only numbers, strings, "
                            "ObjectId, bool, date)",
                            path, lk_bson_type_name(bson_iter_type(value)));
    }

    uint8_t *out = lk_malloc(n + 1);
    if (out == NULL)
        return lk_error_set(err, LK_ERR_NOMEM,
                            "unique field \"%s\": out of memory", path);
    out[0] = tag;
    memcpy(out + 1, payload, n);
    *key = out;
    *len = n + 1;
    return LK_OK;
}
