/* SPDX-License-Identifier: MIT */
/* mem_index.c — the memory store's hash index (see mem_index-private.h). */
#include "mem_index-private.h"

#include <stdlib.h>
#include <string.h>

#include "listenkit/alloc.h"

/* FNV-1a, then a splitmix64 finaliser so that the low bits, which pick the
 * slot, depend on every byte (ObjectIds differ mostly in their last bytes). */
static uint64_t hash_bytes(const uint8_t *key, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= key[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

void lk_mem_index_init(lk_mem_index *ix, lk_mem_key_fn key_of, size_t which)
{
    memset(ix, 0, sizeof *ix);
    ix->key_of = key_of;
    ix->which = which;
}

void lk_mem_index_destroy(lk_mem_index *ix)
{
    lk_free(ix->slots);
    ix->slots = NULL;
    ix->mask = 0;
    ix->count = 0;
}

static bool same_key(const lk_mem_index *ix, const lk_mem_slot *slot,
                     uint64_t hash, const uint8_t *key, size_t len)
{
    size_t n = 0;
    if (slot->hash != hash)
        return false;
    /* indexed items always have a key (keyless ones are never put) */
    const uint8_t *k = ix->key_of(slot->item, ix->which, &n);
    return n == len && memcmp(k, key, len) == 0;
}

/* Places an item known to be absent; the table has room. */
static void place(lk_mem_slot *slots, size_t mask, uint64_t hash, void *item)
{
    size_t i = (size_t)hash & mask;
    while (slots[i].item != NULL)
        i = (i + 1) & mask;
    slots[i].hash = hash;
    slots[i].item = item;
}

bool lk_mem_index_reserve(lk_mem_index *ix, size_t extra)
{
    size_t cap = ix->slots == NULL ? 0 : ix->mask + 1;
    size_t need = ix->count + extra;
    /* Keep the load at or below 3/4 so probe runs stay short. */
    if (cap != 0 && need <= cap - cap / 4)
        return true;
    size_t ncap = cap == 0 ? 16 : cap;
    while (need > ncap - ncap / 4) {
        if (ncap > SIZE_MAX / 2 / sizeof(lk_mem_slot))
            return false;
        ncap *= 2;
    }
    lk_mem_slot *slots = lk_calloc(ncap, sizeof *slots);
    if (slots == NULL)
        return false;
    for (size_t i = 0; i < cap; i++)
        if (ix->slots[i].item != NULL)
            place(slots, ncap - 1, ix->slots[i].hash, ix->slots[i].item);
    lk_free(ix->slots);
    ix->slots = slots;
    ix->mask = ncap - 1;
    return true;
}

void *lk_mem_index_get(const lk_mem_index *ix, const uint8_t *key,
                       size_t len)
{
    if (ix->slots == NULL || key == NULL)
        return NULL;
    uint64_t h = hash_bytes(key, len);
    for (size_t i = (size_t)h & ix->mask; ix->slots[i].item != NULL;
         i = (i + 1) & ix->mask)
        if (same_key(ix, &ix->slots[i], h, key, len))
            return ix->slots[i].item;
    return NULL;
}

void lk_mem_index_put(lk_mem_index *ix, void *item)
{
    size_t len = 0;
    const uint8_t *key = ix->key_of(item, ix->which, &len);
    if (key == NULL)
        return;
    place(ix->slots, ix->mask, hash_bytes(key, len), item);
    ix->count++;
}

void *lk_mem_index_put_new(lk_mem_index *ix, void *item)
{
    size_t len = 0;
    const uint8_t *key = ix->key_of(item, ix->which, &len);
    uint64_t h = hash_bytes(key, len);
    size_t i = (size_t)h & ix->mask;
    for (; ix->slots[i].item != NULL; i = (i + 1) & ix->mask)
        if (same_key(ix, &ix->slots[i], h, key, len))
            return ix->slots[i].item;
    ix->slots[i].hash = h;
    ix->slots[i].item = item;
    ix->count++;
    return NULL;
}

void lk_mem_index_remove(lk_mem_index *ix, const void *item)
{
    size_t len = 0;
    const uint8_t *key = ix->key_of(item, ix->which, &len);
    if (key == NULL) /* never put */
        return;
    size_t mask = ix->mask;
    size_t i = (size_t)hash_bytes(key, len) & mask;
    while (ix->slots[i].item != item) {
        if (ix->slots[i].item == NULL)
            return;
        i = (i + 1) & mask;
    }
    /* Backward-shift deletion: pull later members of the probe run into
     * the hole when their home slot is at or before it. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; ix->slots[j].item != NULL;
         j = (j + 1) & mask) {
        size_t home = (size_t)ix->slots[j].hash & mask;
        /* j may move to `hole` unless its home lies cyclically in
         * (hole, j]. */
        bool stays = hole <= j ? (hole < home && home <= j)
                               : (hole < home || home <= j);
        if (!stays) {
            ix->slots[hole] = ix->slots[j];
            hole = j;
        }
    }
    ix->slots[hole].item = NULL;
    ix->slots[hole].hash = 0;
    ix->count--;
}
