/* SPDX-License-Identifier: MIT */
/*
 * tools/bench/oid_map.h — the store benchmark's baseline: an open-addressing
 * hash map from the 12 bytes of an ObjectId to a bson_t, the least a
 * hand-written "collection" would be. Linear probing, power-of-two
 * capacity, grown at 1/2 load; no deletion (the benchmark needs none).
 */
#ifndef LISTENKIT_BENCH_OID_MAP_H
#define LISTENKIT_BENCH_OID_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include <bson/bson.h>

typedef struct oid_map_slot {
    bson_oid_t key;
    bson_t *doc; /* NULL: empty slot */
} oid_map_slot;

typedef struct oid_map {
    oid_map_slot *slots;
    size_t cap, count;
} oid_map;

/* An empty map; false on OOM. */
bool oid_map_init(oid_map *map);

/* Frees the map and every document in it. */
void oid_map_free(oid_map *map);

/* The slot holding `key`, or NULL. */
oid_map_slot *oid_map_get(const oid_map *map, const bson_oid_t *key);

/* Takes `doc`; false (doc untouched) when the key is taken or on OOM. */
bool oid_map_put(oid_map *map, const bson_oid_t *key, bson_t *doc);

#endif /* LISTENKIT_BENCH_OID_MAP_H */
