/* SPDX-License-Identifier: MIT */
/* oid_map.c — see oid_map.h. */
#include "oid_map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t hash_oid(const bson_oid_t *key)
{
    /* ObjectIds are timestamp + random + counter (big-endian): the bytes
     * that vary are at the end, so mix all 12 fully (murmur3's finaliser). */
    uint64_t a;
    uint32_t b;
    memcpy(&a, key->bytes, 8);
    memcpy(&b, key->bytes + 8, 4);
    uint64_t h = a ^ ((uint64_t)b * 0x9e3779b97f4a7c15ull);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return (size_t)h;
}

bool oid_map_init(oid_map *map)
{
    map->cap = 16;
    map->count = 0;
    map->slots = calloc(map->cap, sizeof *map->slots);
    return map->slots != NULL;
}

void oid_map_free(oid_map *map)
{
    for (size_t i = 0; map->slots != NULL && i < map->cap; i++)
        bson_destroy(map->slots[i].doc);
    free(map->slots);
    memset(map, 0, sizeof *map);
}

static oid_map_slot *probe(const oid_map *map, const bson_oid_t *key)
{
    size_t mask = map->cap - 1;
    for (size_t i = hash_oid(key) & mask;; i = (i + 1) & mask) {
        oid_map_slot *s = &map->slots[i];
        if (s->doc == NULL || memcmp(s->key.bytes, key->bytes, 12) == 0)
            return s;
    }
}

oid_map_slot *oid_map_get(const oid_map *map, const bson_oid_t *key)
{
    oid_map_slot *s = probe(map, key);
    return s->doc != NULL ? s : NULL;
}

static bool grow(oid_map *map)
{
    oid_map bigger = {calloc(map->cap * 2, sizeof *map->slots), map->cap * 2,
                      map->count};
    if (bigger.slots == NULL)
        return false;
    for (size_t i = 0; i < map->cap; i++)
        if (map->slots[i].doc != NULL)
            *probe(&bigger, &map->slots[i].key) = map->slots[i];
    free(map->slots);
    *map = bigger;
    return true;
}

bool oid_map_put(oid_map *map, const bson_oid_t *key, bson_t *doc)
{
    if ((map->count + 1) * 2 > map->cap && !grow(map))
        return false;
    oid_map_slot *s = probe(map, key);
    if (s->doc != NULL)
        return false;
    s->key = *key;
    s->doc = doc;
    map->count++;
    return true;
}
