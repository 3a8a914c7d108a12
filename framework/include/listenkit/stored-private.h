/* SPDX-License-Identifier: MIT */
/*
 * listenkit/stored-private.h — the form in which every store keeps a
 * document, built in one walk over the caller's BSON (the memory store keeps
 * these bytes in its nodes, the PostgreSQL store in a bytea column, so both
 * hand back the same document).
 *
 * Stored form: `_id` (an ObjectId) first, then the caller's other fields
 * in their order, with the version field as an int64 where the caller had
 * it (or last when absent). Later duplicates of `_id` or of the version
 * key are dropped. The bytes are plain BSON in a buffer of the caller's, not
 * a bson_t: a bson_t is 128-byte aligned and costs an aligned allocation of
 * its own, while a view (lk_stored_view) costs nothing. Private to
 * listenkit's stores (not installed).
 */
#ifndef LISTENKIT_STORED_PRIVATE_H
#define LISTENKIT_STORED_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <bson/bson.h>

#include "listenkit/error.h"
#include "listenkit/store.h"

/* Deeper nesting than this is refused, as MongoDB does (its limit is 100):
 * the walk recurses once per level. */
#define LK_BSON_MAX_NESTING 100

/* MongoDB's largest document (16 MiB); larger ones are refused. */
#define LK_BSON_MAX_SIZE (16 * 1024 * 1024)

typedef struct lk_stored {
    uint8_t *data;       /* the BSON bytes (the caller's buffer) */
    uint32_t len;
    uint32_t version_at; /* offset of the version's 8 value bytes */
} lk_stored;

/* What lk_stored_build found in the caller's document. */
typedef struct lk_stored_found {
    bson_type_t id_type; /* of the first `_id`; BSON_TYPE_EOD: none */
    bson_oid_t id;       /* when id_type is BSON_TYPE_OID */
} lk_stored_found;

/* How many bytes lk_stored_build may write for `doc` (a bound, a few
 * bytes over). LK_ERR_INVALID for a document over LK_BSON_MAX_SIZE. */
lk_status lk_stored_size(const bson_t *doc, const char *version_key,
                         size_t *size, lk_error *err);

/* Builds the stored form of `doc` into `buf` (lk_stored_size bytes,
 * owned by the caller: the store puts a new document's bytes in the same
 * allocation as its list node), with version 0 and the `_id` bytes zero
 * (set them with lk_stored_set_id once the caller has decided on the
 * id from *found). The same walk checks that `doc` is valid BSON at every
 * depth, keys included: LK_ERR_INVALID "document is not valid BSON (at
 * byte N)" or "document nested more than 100 levels". */
lk_status lk_stored_build(const bson_t *doc, const char *version_key,
                          uint8_t *buf, lk_stored *out,
                          lk_stored_found *found, lk_error *err);

/* The check lk_stored_build makes, alone (for filters): valid BSON at
 * every depth with UTF-8 keys, at most 100 levels. Stricter than
 * bson_validate(), which lets a corrupt sub-document through. */
lk_status lk_bson_check(const bson_t *doc, lk_error *err);

void lk_stored_set_id(lk_stored *s, const bson_oid_t *id);

/* The stored version (written by lk_stored_set_version). */
int64_t lk_stored_version(const lk_stored *s);
void lk_stored_set_version(lk_stored *s, int64_t version);

/* A read-only bson_t over the stored bytes, valid while they are. */
void lk_stored_view(const lk_stored *s, bson_t *view);

/* A new bson_t copy (caller destroys); NULL on OOM. */
bson_t *lk_stored_copy(const lk_stored *s);

/* What a store hands back as *out: nothing when `out` is NULL, else a new
 * copy of `s` (the caller destroys it); LK_ERR_NOMEM "<coll>: out of
 * memory" when it cannot be made. */
lk_status lk_stored_copy_out(const lk_stored *s, bson_t **out,
                             const char *coll, lk_error *err);

/* ---- what every store decides the same way ------------------------------- */

/* The `_id` to keep, from what lk_stored_build found: the caller's
 * ObjectId, else (when `required` is false: an insert) a new one.
 * LK_ERR_INVALID "field "_id" must be an ObjectId, got <type>", or "field
 * "_id" is required" when `required` and there is none (a save). */
lk_status lk_stored_id(const lk_stored_found *found, bool required,
                       bson_oid_t *id, lk_error *err);

/* The first step of a save (and of the PostgreSQL store's insert): the
 * stored form of `doc` in `coll` (its version key) in a new buffer, *buf
 * (the caller's: lk_free it once done with *out), with the `_id` from
 * lk_stored_id (`required`: a save's) in *id and set in *out; version 0.
 * On failure *buf is NULL and `err` says why after "<coll name>.<what>". */
lk_status lk_stored_new(const lk_collection *coll, const bson_t *doc,
                        bool required, const char *what, uint8_t **buf,
                        lk_stored *out, bson_oid_t *id, lk_error *err);

/* The version an LK_OCC_EXTERNAL insert keeps: the one `doc` carries at
 * `version_key`. LK_ERR_INVALID when it is missing ("required"), not an
 * integer, or below 0 (">= 0"). */
lk_status lk_stored_external_version(const bson_t *doc,
                                     const char *version_key,
                                     int64_t *version, lk_error *err);

/* The unique-index key (lk_value_key) of the value at dotted `path` in
 * `doc`; *key NULL (and LK_OK) when the path is absent or null: such
 * documents are not indexed and never clash, as NULLs never do in a
 * PostgreSQL unique index. *key is malloc'd; the caller frees it. */
lk_status lk_stored_unique_key(const bson_t *doc, const char *path,
                               uint8_t **key, size_t *len, lk_error *err);

#endif /* LISTENKIT_STORED_PRIVATE_H */
