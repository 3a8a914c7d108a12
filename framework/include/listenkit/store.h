/* SPDX-License-Identifier: MIT */
/*
 * listenkit/store.h — a Mongo-like document store with optimistic
 * concurrency control (OCC).
 *
 * A store holds named collections of BSON documents. Every document has an
 * `_id` (an ObjectId, generated on insert when absent) and a version field
 * (default name "version").
 *
 * Filters (every implementation, the same answers) are BSON documents in a
 * subset of MongoDB's query language: equality on fields and dotted paths
 * (`a.b`, `a.0`; through arrays as MongoDB walks them: an array matches
 * when it holds the value or equals it whole), null matching a missing
 * field, and the operators $eq $ne $gt $gte $lt $lte $in $nin $exists $not
 * on fields and $and $or at any level. Values compare in MongoDB's type
 * order (null < numbers < strings < documents < arrays < binary < ObjectId
 * < bool < date < timestamp); int32, int64 and double are one type compared
 * exactly by value (1 == 1L == 1.0; 2^53 + 1 != 2^53), and a comparison
 * across types matches nothing. The one reference evaluator of this
 * language is the core's (listenkit/filter-private.h): a store may answer
 * part of a filter its own way (an index, SQL) but returns exactly the
 * documents that evaluator matches. Anything outside the subset (another
 * operator, a regex, a positional path) is an error, LK_ERR_INVALID naming
 * it, even on an empty collection — never silently ignored.
 *
 * Implementations: the in-memory store of mocks/ (lk_mem_store_new) and the
 * PostgreSQL store (listenkit/pg.h), both held to the store specs
 * (spec/contract/store_*_spec.c, spec/framework/{filter,value}_spec.c),
 * which run every behaviour on each. Where they differ, on purpose (each
 * difference shown by a spec; mocks/README.md):
 *   - durability: the memory store's documents and recorded collection
 *     options end with lk_store_free(); PostgreSQL keeps both, so a
 *     reopened store finds the documents and refuses other options;
 *   - sharing: only stores on one database see each other's writes;
 *   - failures: only a store with a server returns LK_ERR_IO (the server
 *     went away; the next call reconnects) or LK_ERR_TIMEOUT.
 *
 * Ownership: documents passed in are borrowed and copied; documents handed
 * out through `bson_t **out` are new, owned by the caller, released with
 * bson_destroy(). Changing a returned document never changes the store.
 * Those documents are libbson allocations: when memory runs out there,
 * libbson aborts the process (by design; listenkit/alloc.h). A refused
 * allocation of listenkit's own in a store call is LK_ERR_NOMEM and
 * changes nothing.
 * Collections are owned by their store and live until lk_store_free().
 *
 * ---------------------------------------------------------------------
 * The OCC contract (every implementation, both modes)
 * ---------------------------------------------------------------------
 * LK_OCC_UPDATE_IF_CURRENT — the store owns the version (Mongoose's
 * update-if-current plugin; the tickets service's own records):
 *   - insert stores the document with version 0, whatever it carried;
 *   - save(doc) requires doc's `_id` and the version it was loaded with, v.
 *     It succeeds only if the stored version is still v, and stores the
 *     document with version v + 1;
 *   - a stale save (someone saved in between) returns LK_ERR_VERSION and
 *     changes nothing. A save of an `_id` that is not stored returns
 *     LK_ERR_NOT_FOUND.
 * LK_OCC_EXTERNAL — another service owns the version (a replica that copies
 * the version from events, e.g. the orders service's tickets):
 *   - insert stores the document with the version it carries (required, an
 *     integer >= 0);
 *   - save(doc) requires doc's `_id` and its new version v. It succeeds only
 *     if the stored version is v - 1, and stores the document as given;
 *   - otherwise LK_ERR_VERSION (nothing changes), or LK_ERR_NOT_FOUND.
 * In both modes a document without its version (or with a non-integer one)
 * is LK_ERR_INVALID; *out (when asked for) receives the document as stored,
 * and a failed call leaves the collection exactly as it was.
 *
 * Versions are int64; documents may carry them as int32, int64 or an
 * integral double, and get them back as int64.
 */
#ifndef LISTENKIT_STORE_H
#define LISTENKIT_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <bson/bson.h>
#include <jansson.h>

#include "listenkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LK_DEFAULT_VERSION_KEY "version"

/* The longest collection name (bytes). */
#define LK_COLLECTION_NAME_MAX 48

/* The most unique paths one collection may list. */
#define LK_UNIQUE_MAX 16

typedef struct lk_store lk_store;
typedef struct lk_collection lk_collection;
typedef struct lk_cursor lk_cursor;

typedef enum lk_occ_mode {
    LK_OCC_UPDATE_IF_CURRENT,
    LK_OCC_EXTERNAL
} lk_occ_mode;

typedef struct lk_collection_opts {
    lk_occ_mode occ;
    const char *version_key;   /* NULL: LK_DEFAULT_VERSION_KEY; a top-level
                                  field name (no '.', not "_id") */
    const char *const *unique; /* NULL-terminated dotted paths that must be
                                  unique besides _id; NULL: none */
} lk_collection_opts;

typedef struct lk_find_opts {
    int64_t limit; /* 0: no limit */
    int64_t skip;
} lk_find_opts;

typedef struct lk_store_ops {
    const char *name; /* "memory", "postgres" */
    /* Opens (creating on first use) the collection `name`. Opening it again
     * with other options returns LK_ERR_INVALID. */
    lk_status (*collection)(lk_store *store, const char *name,
                            const lk_collection_opts *opts,
                            lk_collection **out, lk_error *err);
    void (*free)(lk_store *store);
} lk_store_ops;

typedef struct lk_collection_ops {
    lk_status (*insert)(lk_collection *coll, const bson_t *doc, bson_t **out,
                        lk_error *err);
    lk_status (*find_one)(lk_collection *coll, const bson_t *filter,
                          bson_t **out, lk_error *err);
    lk_status (*find)(lk_collection *coll, const bson_t *filter,
                      const lk_find_opts *opts, lk_cursor **out,
                      lk_error *err);
    lk_status (*count)(lk_collection *coll, const bson_t *filter,
                       int64_t *out, lk_error *err);
    lk_status (*save)(lk_collection *coll, const bson_t *doc, bson_t **out,
                      lk_error *err);
    lk_status (*delete_many)(lk_collection *coll, const bson_t *filter,
                             int64_t *deleted, lk_error *err);
} lk_collection_ops;

typedef struct lk_cursor_ops {
    bool (*next)(lk_cursor *cursor, const bson_t **doc);
    lk_status (*error)(lk_cursor *cursor, lk_error *err);
    void (*free)(lk_cursor *cursor);
} lk_cursor_ops;

struct lk_store {
    const lk_store_ops *ops;
};

struct lk_collection {
    const lk_collection_ops *ops;
    lk_store *store;
    const char *name;
    lk_collection_opts opts; /* version_key already defaulted */
};

struct lk_cursor {
    const lk_cursor_ops *ops;
};

/* ---- store ---------------------------------------------------------- */

/* Opens a collection; `opts` may be NULL (update-if-current, "version").
 * *out is borrowed from the store. A name is 1 to LK_COLLECTION_NAME_MAX
 * letters, digits or '_', not starting with a digit, in every store (the
 * PostgreSQL store makes it a table name); unique paths are non-empty
 * dotted paths, not "_id", each listed once, at most LK_UNIQUE_MAX. Anything else is
 * LK_ERR_INVALID. */
lk_status lk_store_collection(lk_store *store, const char *name,
                              const lk_collection_opts *opts,
                              lk_collection **out, lk_error *err);

/* Frees the store and all its collections. NULL is ignored. */
void lk_store_free(lk_store *store);

/* ---- collection ------------------------------------------------------ */

/* Inserts a copy of `doc`, adding `_id` when absent. A taken `_id` or unique
 * value returns LK_ERR_DUPLICATE. *out (if `out` is not NULL) is the
 * document as stored. */
lk_status lk_collection_insert(lk_collection *coll, const bson_t *doc,
                               bson_t **out, lk_error *err);

/* The first document matching `filter` (NULL or empty: any), or
 * LK_ERR_NOT_FOUND with *out NULL. */
lk_status lk_collection_find_one(lk_collection *coll, const bson_t *filter,
                                 bson_t **out, lk_error *err);

/* A cursor over every match, in insertion order. Free it with
 * lk_cursor_free(). `opts` may be NULL. */
lk_status lk_collection_find(lk_collection *coll, const bson_t *filter,
                             const lk_find_opts *opts, lk_cursor **out,
                             lk_error *err);

lk_status lk_collection_count(lk_collection *coll, const bson_t *filter,
                              int64_t *out, lk_error *err);

/* Saves an existing document under the OCC contract above. */
lk_status lk_collection_save(lk_collection *coll, const bson_t *doc,
                             bson_t **out, lk_error *err);

/* Deletes every match; *deleted (if not NULL) says how many. A NULL filter
 * is refused (LK_ERR_INVALID): pass an empty document to delete all. */
lk_status lk_collection_delete(lk_collection *coll, const bson_t *filter,
                               int64_t *deleted, lk_error *err);

/* Shorthand for find_one({_id: id}). */
lk_status lk_collection_find_by_id(lk_collection *coll, const bson_oid_t *id,
                                   bson_t **out, lk_error *err);

/* ---- cursor ---------------------------------------------------------- */

/* Points *doc at the next document (borrowed, valid until the next call or
 * lk_cursor_free) and returns true; false at the end or on error. */
bool lk_cursor_next(lk_cursor *cursor, const bson_t **doc);

/* LK_OK, or why iteration stopped early. */
lk_status lk_cursor_error(lk_cursor *cursor, lk_error *err);

/* NULL is ignored. */
void lk_cursor_free(lk_cursor *cursor);

/* ---- helpers shared by implementations and services ------------------ */

/* Reads `key` (dotted path allowed) as an int64 from int32, int64 or an
 * integral double. LK_ERR_NOT_FOUND when absent, LK_ERR_INVALID when of
 * another type or not integral. */
lk_status lk_bson_get_int64(const bson_t *doc, const char *key, int64_t *out,
                            lk_error *err);

/* Reads `key` (dotted path allowed) as a string, borrowed from `doc`: valid
 * while `doc` is unchanged (LK_ERR_NOT_FOUND / LK_ERR_INVALID as above). */
lk_status lk_bson_get_string(const bson_t *doc, const char *key,
                             const char **out, lk_error *err);

/* Reads `key` (dotted path allowed) as a double from a double, int32 or
 * int64 (LK_ERR_NOT_FOUND / LK_ERR_INVALID as above). */
lk_status lk_bson_get_double(const bson_t *doc, const char *key, double *out,
                             lk_error *err);

/* Reads the document's `_id` as an ObjectId (LK_ERR_NOT_FOUND /
 * LK_ERR_INVALID as above). */
lk_status lk_bson_get_oid(const bson_t *doc, bson_oid_t *out, lk_error *err);

/* Parses a 24-character hex ObjectId (as events carry ids). Anything else
 * returns LK_ERR_INVALID naming the text (shortened if long). */
lk_status lk_oid_parse(const char *hex, bson_oid_t *out, lk_error *err);

/* Reads the ObjectId at `path` (a field or dotted path) of an event: the
 * reader for LK_FIELD_OBJECTID fields, which the schema has already checked
 * at decode. LK_ERR_INVALID, naming the path, when it is absent, not a
 * string or not 24 hex digits. */
lk_status lk_event_oid(const json_t *data, const char *path, bson_oid_t *out,
                       lk_error *err);

/* Writes the 24-character hex form plus NUL into `buf` (25 bytes). */
void lk_oid_format(const bson_oid_t *oid, char buf[25]);

/* A new document that is `doc` with `key` set to the int64 `value` (added
 * or replaced, other fields in their order). Never NULL: libbson aborts when
 * memory runs out. The caller frees it with bson_destroy(). */
bson_t *lk_bson_with_int64(const bson_t *doc, const char *key, int64_t value);

/* Checks the version field of `doc` against the collection's OCC mode
 * and the stored version: the one rule both implementations apply.
 * `stored` is the version in the store; on LK_OK *next is the version to
 * store. Errors name the collection, the _id and both versions. */
lk_status lk_occ_check(const lk_collection *coll, const bson_t *doc,
                       int64_t stored, int64_t *next, lk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* LISTENKIT_STORE_H */
