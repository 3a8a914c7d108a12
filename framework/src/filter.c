/* SPDX-License-Identifier: MIT */
/* filter.c — MongoDB query semantics for every store: first a
 * full check of the filter (so nothing is silently ignored), then matching
 * by walking dotted paths through documents and arrays. */
#include "listenkit/filter-private.h"

#include <math.h>
#include <string.h>

#include "listenkit/stored-private.h"
#include "listenkit/value-private.h"

typedef enum op {
    OP_UNKNOWN,
    OP_EQ, OP_NE, OP_GT, OP_GTE, OP_LT, OP_LTE,
    OP_IN, OP_NIN, OP_EXISTS, OP_NOT,
    OP_AND, OP_OR
} op;

static const struct {
    const char *name;
    op op;
} OPS[] = {
    {"$eq", OP_EQ},   {"$ne", OP_NE},   {"$gt", OP_GT},
    {"$gte", OP_GTE}, {"$lt", OP_LT},   {"$lte", OP_LTE},
    {"$in", OP_IN},   {"$nin", OP_NIN}, {"$exists", OP_EXISTS},
    {"$not", OP_NOT}, {"$and", OP_AND}, {"$or", OP_OR},
};

static op op_of(const char *name)
{
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if (strcmp(OPS[i].name, name) == 0)
            return OPS[i].op;
    return OP_UNKNOWN;
}

/* The elements of a document or array value. Filters are checked whole
 * (lk_bson_check) before they are checked or matched, and stored
 * documents when they are stored, so this cannot fail; if it ever did, the
 * value would read as empty rather than be walked corrupt. */
static bson_iter_t elements_of(const bson_iter_t *value)
{
    static const uint8_t empty[5] = {5, 0, 0, 0, 0};
    bson_iter_t it;
    if (!bson_iter_recurse(value, &it))
        bson_iter_init_from_data(&it, empty, sizeof empty);
    return it;
}

static bool is_operator_doc(const bson_iter_t *value)
{
    if (!BSON_ITER_HOLDS_DOCUMENT(value))
        return false;
    bson_iter_t it = elements_of(value);
    while (bson_iter_next(&it))
        if (bson_iter_key(&it)[0] == '$')
            return true;
    return false;
}

/* ======================================================================
 * Checking
 * ====================================================================== */

/* No depth limit here: lk_bson_check refuses filters nested more than
 * 100 levels, which bounds the recursion of checking and matching. */
static lk_status check_conditions(bson_iter_t *it, lk_error *err);

/* A value the filter compares with: every type, at any depth, must be one
 * the matcher supports (no regex, code, decimal128...). */
static lk_status check_operand(const bson_iter_t *value, const char *field,
                               const char *what, lk_error *err)
{
    bson_type_t t = bson_iter_type(value);
    if (!lk_value_supported(t))
        return lk_error_set(err, LK_ERR_INVALID,
                            "filter: %s values are not supported (field "
                            "\"%s\", %s)%s",
                            lk_bson_type_name(t), field, what,
                            t == BSON_TYPE_REGEX ? ": no regular expressions"
                                                 : "");
    if (t == BSON_TYPE_DOCUMENT || t == BSON_TYPE_ARRAY) {
        bson_iter_t child = elements_of(value);
        while (bson_iter_next(&child)) {
            lk_status s = check_operand(&child, field, what, err);
            if (s != LK_OK)
                return s;
        }
    }
    return LK_OK;
}

static lk_status check_path(const char *path, lk_error *err)
{
    size_t len = strlen(path);
    if (len == 0)
        return lk_error_set(err, LK_ERR_INVALID,
                            "filter: empty field name");
    if (path[0] == '.' || path[len - 1] == '.' || strstr(path, "..") != NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "filter: invalid field path \"%s\" (empty "
                            "segment)", path);
    if (strstr(path, ".$") != NULL)
        return lk_error_set(err, LK_ERR_INVALID,
                            "filter: field path \"%s\": positional operators "
                            "are not supported", path);
    return LK_OK;
}

/* $and / $or: a non-empty array of filter documents. */
static lk_status check_clauses(const bson_iter_t *value, const char *name,
                               lk_error *err)
{
    bson_iter_t arr, clause;
    size_t n = 0;
    if (!BSON_ITER_HOLDS_ARRAY(value))
        return lk_error_set(err, LK_ERR_INVALID,
                            "filter: %s needs a non-empty array of documents, "
                            "got %s",
                            name, lk_bson_type_name(bson_iter_type(value)));
    arr = elements_of(value);
    while (bson_iter_next(&arr)) {
        n++;
        if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
            return lk_error_set(err, LK_ERR_INVALID,
                                "filter: %s needs a non-empty array of "
                                "documents, element %zu is %s",
                                name, n - 1,
                                lk_bson_type_name(bson_iter_type(&arr)));
        clause = elements_of(&arr);
        lk_status s = check_conditions(&clause, err);
        if (s != LK_OK)
            return s;
    }
    if (n == 0)
        return lk_error_set(err, LK_ERR_INVALID,
                            "filter: %s needs a non-empty array of documents, "
                            "got an empty array",
                            name);
    return LK_OK;
}

/* {field: {$op: operand, ...}} */
static lk_status check_ops(const bson_iter_t *value, const char *field,
                           lk_error *err)
{
    bson_iter_t it = elements_of(value);
    while (bson_iter_next(&it)) {
        const char *name = bson_iter_key(&it);
        lk_status s = LK_OK;
        if (name[0] != '$')
            return lk_error_set(err, LK_ERR_INVALID,
                                "filter: field \"%s\": \"%s\" is mixed with "
                                "operators (use only $-operators, or only "
                                "fields for sub-document equality)",
                                field, name);
        switch (op_of(name)) {
        case OP_EQ: case OP_NE:
        case OP_GT: case OP_GTE: case OP_LT: case OP_LTE:
            s = check_operand(&it, field, name, err);
            break;
        case OP_IN:
        case OP_NIN:
            if (!BSON_ITER_HOLDS_ARRAY(&it))
                return lk_error_set(err, LK_ERR_INVALID,
                                    "filter: %s on field \"%s\" needs an "
                                    "array, got %s",
                                    name, field,
                                    lk_bson_type_name(bson_iter_type(&it)));
            s = check_operand(&it, field, name, err);
            break;
        case OP_EXISTS:
            if (!BSON_ITER_HOLDS_BOOL(&it) && !BSON_ITER_HOLDS_NUMBER(&it))
                return lk_error_set(err, LK_ERR_INVALID,
                                    "filter: $exists on field \"%s\" needs a "
                                    "bool or a number, got %s",
                                    field,
                                    lk_bson_type_name(bson_iter_type(&it)));
            break;
        case OP_NOT:
            if (!is_operator_doc(&it))
                return lk_error_set(err, LK_ERR_INVALID,
                                    "filter: $not on field \"%s\" needs a "
                                    "document of operators, got %s",
                                    field,
                                    BSON_ITER_HOLDS_DOCUMENT(&it)
                                        ? "a document without operators"
                                        : lk_bson_type_name(
                                              bson_iter_type(&it)));
            s = check_ops(&it, field, err);
            break;
        case OP_AND:
        case OP_OR:
            return lk_error_set(err, LK_ERR_INVALID,
                                "filter: %s is not allowed inside field "
                                "\"%s\" (use it at the top level)",
                                name, field);
        case OP_UNKNOWN:
            return lk_error_set(err, LK_ERR_INVALID,
                                "filter: unsupported operator \"%s\" on field "
                                "\"%s\"",
                                name, field);
        }
        if (s != LK_OK)
            return s;
    }
    return LK_OK;
}

static lk_status check_conditions(bson_iter_t *it, lk_error *err)
{
    while (bson_iter_next(it)) {
        const char *key = bson_iter_key(it);
        lk_status s;
        if (key[0] == '$') {
            op o = op_of(key);
            if (o == OP_AND || o == OP_OR)
                s = check_clauses(it, key, err);
            else if (o == OP_UNKNOWN)
                s = lk_error_set(err, LK_ERR_INVALID,
                                 "filter: unsupported top-level operator "
                                 "\"%s\"",
                                 key);
            else
                s = lk_error_set(err, LK_ERR_INVALID,
                                 "filter: operator \"%s\" needs a field "
                                 "({field: {%s: value}})",
                                 key, key);
        } else {
            s = check_path(key, err);
            if (s == LK_OK)
                s = is_operator_doc(it) ? check_ops(it, key, err)
                                        : check_operand(it, key, "equality",
                                                        err);
        }
        if (s != LK_OK)
            return s;
    }
    return LK_OK;
}

lk_status lk_filter_check(const bson_t *filter, lk_error *err)
{
    bson_iter_t it;
    if (filter == NULL)
        return LK_OK;
    lk_status s = lk_bson_check(filter, err);
    if (s != LK_OK) {
        lk_error_prefix(err, "filter");
        return s;
    }
    bson_iter_init(&it, filter); /* cannot fail on a checked document */
    return check_conditions(&it, err);
}

/* ======================================================================
 * Matching
 * ====================================================================== */

typedef struct test {
    op op;                    /* OP_EQ, OP_GT.., OP_EXISTS */
    const bson_iter_t *value; /* the operand (not for OP_EXISTS) */
} test;

static bool is_nan(const bson_iter_t *v)
{
    return BSON_ITER_HOLDS_DOUBLE(v) && isnan(bson_iter_double(v));
}

/* One value against a comparison. Different type classes never match
 * (MongoDB's type bracketing); NaN equals only NaN and is never greater or
 * less than anything. */
static bool compare_ok(op o, const bson_iter_t *v, const bson_iter_t *operand)
{
    if (lk_value_class(bson_iter_type(v)) !=
        lk_value_class(bson_iter_type(operand)))
        return false;
    int c = lk_value_compare(v, operand);
    if ((is_nan(v) || is_nan(operand)) && c != 0)
        return false;
    switch (o) {
    case OP_EQ: return c == 0;
    case OP_GT: return c > 0;
    case OP_GTE: return c >= 0;
    case OP_LT: return c < 0;
    default: return c <= 0; /* OP_LTE: tests hold comparisons only */
    }
}

/* A value reached by the path: it matches when it satisfies the test
 * itself, or is an array one of whose elements does. */
static bool test_leaf(const bson_iter_t *leaf, const test *t)
{
    if (t->op == OP_EXISTS)
        return true;
    if (compare_ok(t->op, leaf, t->value))
        return true;
    if (!BSON_ITER_HOLDS_ARRAY(leaf))
        return false;
    bson_iter_t el = elements_of(leaf);
    while (bson_iter_next(&el))
        if (compare_ok(t->op, &el, t->value))
            return true;
    return false;
}

static bool walk(const bson_iter_t *children, bool in_array,
                 const char *path, size_t len, const test *t, bool *missing);

/* `found` is the value of one path segment; go on with the rest. */
static bool step(const bson_iter_t *found, const char *rest, size_t len,
                 const test *t, bool *missing)
{
    if (rest == NULL)
        return test_leaf(found, t);
    if (BSON_ITER_HOLDS_DOCUMENT(found) || BSON_ITER_HOLDS_ARRAY(found)) {
        bson_iter_t child = elements_of(found);
        return walk(&child, BSON_ITER_HOLDS_ARRAY(found), rest, len, t,
                    missing);
    }
    *missing = true; /* a scalar where the path goes on */
    return false;
}

static bool is_index(const char *seg, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (seg[i] < '0' || seg[i] > '9')
            return false;
    return len > 0;
}

/* Follows `path` (not NUL-terminated: `len` bytes) from the fields of a
 * document or array and tests every value it reaches; true on the first
 * that passes. Through an array the path goes on both by index (`a.0`) and
 * into every element that is a document (`a.b` over [{b:1},{b:2}]), as in
 * MongoDB. *missing is set when some branch ends before the path does. */
static bool walk(const bson_iter_t *children, bool in_array,
                 const char *path, size_t len, const test *t, bool *missing)
{
    const char *dot = memchr(path, '.', len);
    size_t seg = dot != NULL ? (size_t)(dot - path) : len;
    const char *rest = dot != NULL ? dot + 1 : NULL;
    size_t rest_len = dot != NULL ? len - seg - 1 : 0;
    bson_iter_t it = *children;

    if (!in_array) {
        if (!bson_iter_find_w_len(&it, path, (int)seg)) {
            *missing = true;
            return false;
        }
        return step(&it, rest, rest_len, t, missing);
    }
    if (is_index(path, seg) && bson_iter_find_w_len(&it, path, (int)seg) &&
        step(&it, rest, rest_len, t, missing))
        return true;
    it = *children;
    while (bson_iter_next(&it)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&it))
            continue;
        bson_iter_t sub = elements_of(&it);
        if (walk(&sub, false, path, len, t, missing))
            return true;
    }
    return false;
}

static bool field_test(const bson_t *doc, const char *field, op o,
                       const bson_iter_t *value)
{
    bson_iter_t root;
    bool missing = false;
    test t = {o, value};
    if (!bson_iter_init(&root, doc))
        return false;
    if (walk(&root, false, field, strlen(field), &t, &missing))
        return true;
    /* null stands for "missing" too: {a: null}, {a: {$gte: null}} */
    return missing && o != OP_EXISTS && o != OP_GT && o != OP_LT &&
           BSON_ITER_HOLDS_NULL(value);
}

static bool field_in(const bson_t *doc, const char *field,
                     const bson_iter_t *array)
{
    bson_iter_t el = elements_of(array);
    while (bson_iter_next(&el))
        if (field_test(doc, field, OP_EQ, &el))
            return true;
    return false;
}

static bool truthy(const bson_iter_t *v)
{
    return bson_iter_as_bool(v);
}

static bool match_ops(const bson_t *doc, const char *field,
                      const bson_iter_t *ops)
{
    bson_iter_t it = elements_of(ops);
    while (bson_iter_next(&it)) {
        bool ok;
        op o = op_of(bson_iter_key(&it));
        switch (o) {
        case OP_EQ: case OP_GT: case OP_GTE: case OP_LT: case OP_LTE:
            ok = field_test(doc, field, o, &it);
            break;
        case OP_NE:
            ok = !field_test(doc, field, OP_EQ, &it);
            break;
        case OP_IN:
            ok = field_in(doc, field, &it);
            break;
        case OP_NIN:
            ok = !field_in(doc, field, &it);
            break;
        case OP_EXISTS:
            ok = field_test(doc, field, OP_EXISTS, NULL) == truthy(&it);
            break;
        default: /* OP_NOT: the check let no other operator through */
            ok = !match_ops(doc, field, &it);
            break;
        }
        if (!ok)
            return false;
    }
    return true;
}

static bool match_conditions(const bson_t *doc, bson_iter_t *it);

static bool match_clauses(const bson_t *doc, const bson_iter_t *array,
                          bool any)
{
    bson_iter_t arr = elements_of(array);
    while (bson_iter_next(&arr)) {
        bson_iter_t clause = elements_of(&arr);
        bool m = match_conditions(doc, &clause);
        if (m == any)
            return any;
    }
    return !any;
}

static bool match_conditions(const bson_t *doc, bson_iter_t *it)
{
    while (bson_iter_next(it)) {
        const char *key = bson_iter_key(it);
        bool ok;
        if (key[0] == '$')
            ok = match_clauses(doc, it, op_of(key) == OP_OR);
        else if (is_operator_doc(it))
            ok = match_ops(doc, key, it);
        else
            ok = field_test(doc, key, OP_EQ, it);
        if (!ok)
            return false;
    }
    return true;
}

bool lk_filter_match(const bson_t *filter, const bson_t *doc)
{
    bson_iter_t it;
    if (filter == NULL)
        return true;
    return bson_iter_init(&it, filter) && match_conditions(doc, &it);
}

bool lk_filter_id(const bson_t *filter, bson_oid_t *id)
{
    bson_iter_t it, op;
    if (filter == NULL || !bson_iter_init_find(&it, filter, "_id"))
        return false;
    if (BSON_ITER_HOLDS_OID(&it)) {
        bson_oid_copy(bson_iter_oid(&it), id);
        return true;
    }
    /* {$eq: oid} and nothing else */
    if (!BSON_ITER_HOLDS_DOCUMENT(&it))
        return false;
    op = elements_of(&it);
    if (bson_iter_next(&op) && strcmp(bson_iter_key(&op), "$eq") == 0 &&
        BSON_ITER_HOLDS_OID(&op)) {
        bson_oid_copy(bson_iter_oid(&op), id);
        return !bson_iter_next(&op);
    }
    return false;
}

bool lk_filter_is_id(const bson_t *filter, bson_oid_t *id)
{
    /* {_id: oid} has one layout: length 22, type 0x07, "_id\0", 12 id
     * bytes, the terminator. Reading the bytes costs no iterator. */
    static const uint8_t head[] = {22, 0, 0, 0, BSON_TYPE_OID, '_', 'i', 'd', 0};
    const uint8_t *data;
    if (filter == NULL || filter->len != 22)
        return false;
    data = bson_get_data(filter);
    if (memcmp(data, head, sizeof head) != 0 || data[21] != 0)
        return false;
    memcpy(id->bytes, data + sizeof head, 12);
    return true;
}
