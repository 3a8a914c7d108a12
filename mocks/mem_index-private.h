/* SPDX-License-Identifier: MIT */
/*
 * mocks/mem_index-private.h — a hash index from byte keys to items, for the
 * memory store's `_id` and unique-field lookups (O(1), never a scan).
 *
 * Open addressing with linear probing and backward-shift deletion, so there
 * are no tombstones and a delete-heavy workload never degrades. Slots hold
 * only the hash and the item; the key bytes live in the item and are read
 * back through `key_of`, which keeps a million-entry index at 16 bytes a
 * slot. Not thread-safe: the store's lock guards it. Private to mocks/.
 */
#ifndef LISTENKIT_MOCKS_MEM_INDEX_PRIVATE_H
#define LISTENKIT_MOCKS_MEM_INDEX_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The key of `item` in the index number `which` (NULL: not indexed). */
typedef const uint8_t *(*lk_mem_key_fn)(const void *item, size_t which,
                                         size_t *len);

typedef struct lk_mem_slot {
    uint64_t hash;
    void *item; /* NULL: empty */
} lk_mem_slot;

typedef struct lk_mem_index {
    lk_mem_key_fn key_of;
    size_t which;
    lk_mem_slot *slots;
    size_t mask; /* capacity - 1; capacity is a power of two or 0 */
    size_t count;
} lk_mem_index;

void lk_mem_index_init(lk_mem_index *ix, lk_mem_key_fn key_of, size_t which);
void lk_mem_index_destroy(lk_mem_index *ix); /* frees the slots */

/* Makes room for `extra` more entries, so that the puts that follow cannot
 * fail. False on OOM (the index is unchanged). */
bool lk_mem_index_reserve(lk_mem_index *ix, size_t extra);

/* The item with this key, or NULL. */
void *lk_mem_index_get(const lk_mem_index *ix, const uint8_t *key,
                       size_t len);

/* Adds `item` under its key, which must not be present; needs room
 * (reserve first). Items whose key is NULL are not added. */
void lk_mem_index_put(lk_mem_index *ix, void *item);

/* Adds `item` unless an item with the same key is present, which it
 * returns instead (then nothing changes); NULL when added. One probe
 * instead of a get and a put. Needs room (reserve first) and an item with
 * a key (as `_id` always is). */
void *lk_mem_index_put_new(lk_mem_index *ix, void *item);

/* Removes `item` (looked up by its key); absent items are ignored. */
void lk_mem_index_remove(lk_mem_index *ix, const void *item);

#endif /* LISTENKIT_MOCKS_MEM_INDEX_PRIVATE_H */
