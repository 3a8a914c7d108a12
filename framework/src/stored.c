/* SPDX-License-Identifier: MIT */
/* stored.c — the stored form every store keeps of a document (see
 * listenkit/stored-private.h): one walk over the caller's BSON that checks it
 * and copies its elements byte for byte, instead of validating it, then
 * rebuilding it field by field (twice) through the bson_append API. */
#include "listenkit/stored-private.h"

#include <stdlib.h>
#include <string.h>

#include "listenkit/alloc.h"
#include "listenkit/store.h"
#include "listenkit/value-private.h"

/* The `_id` element: type byte, "_id\0", 12 ObjectId bytes. */
#define ID_ELEMENT_LEN 17
#define ID_BYTES_AT (4 + 5)

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++, v >>= 8)
        p[i] = (uint8_t)(v & 0xff);
}

static void put_le64(uint8_t *p, uint64_t v)
{
    v = BSON_UINT64_TO_LE(v);
    memcpy(p, &v, sizeof v);
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return BSON_UINT64_FROM_LE(v);
}

static lk_status not_valid(lk_error *err, size_t offset)
{
    return lk_error_set(err, LK_ERR_INVALID,
                        "document is not valid BSON (at byte %zu)", offset);
}

/* The length of a key, or SIZE_MAX when it is not UTF-8 (bson_validate
 * refuses such keys too). ASCII, by far the most common, needs no
 * decoding. */
static size_t key_length(const char *key)
{
    size_t n = 0;
    unsigned char high = 0;
    for (; key[n] != '\0'; n++)
        high |= (unsigned char)key[n];
    if (high >= 0x80 && !bson_utf8_validate(key, n, false))
        return SIZE_MAX;
    return n;
}

/* The document inside a document, array or code-with-scope value (its
 * scope); false for values of any other type. */
static bool inner_document(const bson_iter_t *it, bson_type_t type,
                           const uint8_t **data, uint32_t *len)
{
    uint32_t code_len = 0;
    switch (type) {
    case BSON_TYPE_DOCUMENT:
        bson_iter_document(it, len, data);
        return true;
    case BSON_TYPE_ARRAY:
        bson_iter_array(it, len, data);
        return true;
    case BSON_TYPE_CODEWSCOPE:
        bson_iter_codewscope(it, &code_len, len, data);
        return true;
    default:
        return false;
    }
}

/* Walks the inner document of element `at` (an offset in the top document
 * `root`, for errors) at every depth: bson_iter_next checks each element's
 * bounds, so a walk that ends without an error offset has seen a
 * well-formed document. */
static lk_status check_nested(const uint8_t *data, uint32_t len,
                              const uint8_t *root, size_t at, int depth,
                              lk_error *err)
{
    bson_iter_t child;
    const uint8_t *inner;
    uint32_t inner_len;

    if (depth >= LK_BSON_MAX_NESTING)
        return lk_error_set(err, LK_ERR_INVALID,
                            "document nested more than %d levels",
                            LK_BSON_MAX_NESTING);
    if (!bson_iter_init_from_data(&child, data, len))
        return not_valid(err, at);
    while (bson_iter_next(&child)) {
        const char *key = bson_iter_key(&child);
        size_t key_at = (size_t)((const uint8_t *)key - 1 - root);
        if (key_length(key) == SIZE_MAX)
            return not_valid(err, key_at);
        if (inner_document(&child, bson_iter_type(&child), &inner,
                           &inner_len)) {
            lk_status s = check_nested(inner, inner_len, root, key_at,
                                       depth + 1, err);
            if (s != LK_OK)
                return s;
        }
    }
    if (child.err_off != 0) /* bson_iter_next stopped on a bad element */
        return not_valid(err, (size_t)(data - root) + child.err_off);
    return LK_OK;
}

lk_status lk_bson_check(const bson_t *doc, lk_error *err)
{
    const uint8_t *data = bson_get_data(doc);
    return check_nested(data, doc->len, data, 0, 0, err);
}

/* Appends the version element: int64 type byte, key, 8 value bytes. */
static size_t put_version(lk_stored *s, size_t n, const char *key,
                          size_t key_len)
{
    s->data[n++] = BSON_TYPE_INT64;
    memcpy(s->data + n, key, key_len + 1);
    n += key_len + 1;
    s->version_at = (uint32_t)n;
    put_le64(s->data + n, 0);
    return n + 8;
}

lk_status lk_stored_size(const bson_t *doc, const char *version_key,
                         size_t *size, lk_error *err)
{
    if (doc->len > LK_BSON_MAX_SIZE)
        return lk_error_set(err, LK_ERR_INVALID,
                            "document is %u bytes, more than the %d MongoDB "
                            "allows",
                            doc->len, LK_BSON_MAX_SIZE);
    /* The input without its `_id` and version elements, plus ours: at most
     * len + 17 + (1 + strlen(key) + 1 + 8) bytes. */
    *size = (size_t)doc->len + ID_ELEMENT_LEN + strlen(version_key) + 10;
    return LK_OK;
}

lk_status lk_stored_build(const bson_t *doc, const char *version_key,
                          uint8_t *buf, lk_stored *out,
                          lk_stored_found *found, lk_error *err)
{
    const uint8_t *src = bson_get_data(doc);
    size_t vlen = strlen(version_key);
    const uint8_t *pending = NULL; /* an element to copy, end not yet known */
    bool have_version = false;
    lk_status s = LK_OK;
    bson_iter_t it;

    memset(out, 0, sizeof *out);
    found->id_type = BSON_TYPE_EOD;
    if (!bson_iter_init(&it, doc))
        return not_valid(err, 0);
    out->data = buf;

    size_t n = 4;
    out->data[n++] = BSON_TYPE_OID;
    memcpy(out->data + n, "_id", 4);
    n += 4;
    memset(out->data + n, 0, 12);
    n += 12;

    while (s == LK_OK && bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        const uint8_t *start = (const uint8_t *)key - 1;
        size_t klen = key_length(key);
        bson_type_t type = bson_iter_type(&it);
        if (pending != NULL) {
            memcpy(out->data + n, pending, (size_t)(start - pending));
            n += (size_t)(start - pending);
            pending = NULL;
        }
        if (klen == SIZE_MAX) {
            s = not_valid(err, (size_t)(start - src));
            break;
        }
        if (klen == 3 && memcmp(key, "_id", 3) == 0) {
            if (found->id_type == BSON_TYPE_EOD) {
                found->id_type = type;
                if (type == BSON_TYPE_OID)
                    bson_oid_copy(bson_iter_oid(&it), &found->id);
            }
        } else if (klen == vlen && memcmp(key, version_key, vlen) == 0) {
            if (!have_version)
                n = put_version(out, n, version_key, vlen);
            have_version = true;
        } else {
            pending = start;
        }
        const uint8_t *inner;
        uint32_t inner_len;
        if (inner_document(&it, type, &inner, &inner_len))
            s = check_nested(inner, inner_len, src, (size_t)(start - src), 1,
                             err);
    }
    if (s == LK_OK && it.err_off != 0) /* bson_iter_next hit a bad element */
        s = not_valid(err, it.err_off);
    if (s != LK_OK) {
        memset(out, 0, sizeof *out);
        return s;
    }
    if (pending != NULL) { /* the last element ends at the terminator */
        size_t len = (size_t)(src + doc->len - 1 - pending);
        memcpy(out->data + n, pending, len);
        n += len;
    }
    if (!have_version)
        n = put_version(out, n, version_key, vlen);
    out->data[n++] = 0;
    put_le32(out->data, (uint32_t)n);
    out->len = (uint32_t)n;
    return LK_OK;
}

void lk_stored_set_id(lk_stored *s, const bson_oid_t *id)
{
    memcpy(s->data + ID_BYTES_AT, id->bytes, 12);
}

int64_t lk_stored_version(const lk_stored *s)
{
    return (int64_t)get_le64(s->data + s->version_at);
}

void lk_stored_set_version(lk_stored *s, int64_t version)
{
    put_le64(s->data + s->version_at, (uint64_t)version);
}

void lk_stored_view(const lk_stored *s, bson_t *view)
{
    /* Cannot fail: the bytes were built well-formed. */
    bson_init_static(view, s->data, s->len);
}

bson_t *lk_stored_copy(const lk_stored *s)
{
    return bson_new_from_data(s->data, s->len);
}

lk_status lk_stored_copy_out(const lk_stored *s, bson_t **out,
                             const char *coll, lk_error *err)
{
    if (out == NULL)
        return LK_OK;
    *out = lk_stored_copy(s);
    if (*out == NULL)
        return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", coll);
    return LK_OK;
}

/* ---- what every store decides the same way -------------------------------- */

lk_status lk_stored_id(const lk_stored_found *found, bool required,
                       bson_oid_t *id, lk_error *err)
{
    if (found->id_type == BSON_TYPE_OID) {
        *id = found->id;
        return LK_OK;
    }
    if (found->id_type != BSON_TYPE_EOD)
        return lk_error_set(err, LK_ERR_INVALID,
                            "field \"_id\" must be an ObjectId, got %s",
                            lk_bson_type_name(found->id_type));
    if (required)
        return lk_error_set(err, LK_ERR_INVALID,
                            "field \"_id\" is required (insert new documents "
                            "first)");
    bson_oid_init(id, NULL);
    return LK_OK;
}

lk_status lk_stored_new(const lk_collection *coll, const bson_t *doc,
                        bool required, const char *what, uint8_t **buf,
                        lk_stored *out, bson_oid_t *id, lk_error *err)
{
    const char *vkey = coll->opts.version_key;
    lk_stored_found found;
    size_t size = 0;
    *buf = NULL;
    lk_status s = lk_stored_size(doc, vkey, &size, err);
    if (s == LK_OK && (*buf = lk_malloc(size)) == NULL)
        s = lk_error_set(err, LK_ERR_NOMEM, "out of memory");
    if (s == LK_OK)
        s = lk_stored_build(doc, vkey, *buf, out, &found, err);
    if (s == LK_OK)
        s = lk_stored_id(&found, required, id, err);
    if (s != LK_OK) {
        lk_free(*buf);
        *buf = NULL;
        lk_error_prefix(err, "%s.%s", coll->name, what);
        return s;
    }
    lk_stored_set_id(out, id);
    return LK_OK;
}

lk_status lk_stored_external_version(const bson_t *doc,
                                     const char *version_key,
                                     int64_t *version, lk_error *err)
{
    lk_status s = lk_bson_get_int64(doc, version_key, version, err);
    if (s == LK_ERR_NOT_FOUND)
        return lk_error_set(err, LK_ERR_INVALID,
                            "field \"%s\" is required (external versions)",
                            version_key);
    if (s == LK_OK && *version < 0)
        return lk_error_set(err, LK_ERR_INVALID,
                            "field \"%s\" must be >= 0, got %lld", version_key,
                            (long long)*version);
    return s;
}

lk_status lk_stored_unique_key(const bson_t *doc, const char *path,
                               uint8_t **key, size_t *len, lk_error *err)
{
    bson_iter_t it, found;
    *key = NULL;
    *len = 0;
    if (!bson_iter_init(&it, doc) ||
        !bson_iter_find_descendant(&it, path, &found) ||
        BSON_ITER_HOLDS_NULL(&found))
        return LK_OK;
    return lk_value_key(&found, path, key, len, err);
}
