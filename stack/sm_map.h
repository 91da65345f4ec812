/*
 * sm_map.h - an open-addressing hash map from 64-bit keys to 32-bit values.
 *
 * The engine's index structure: the bind table (host, protocol, port) and,
 * with the connection model, the 4-tuple demux table.  Linear probing with
 * backward-shift deletion, so there are no tombstones and lookups stay
 * O(1) whatever the history.  Iteration order is never used for output.
 */
#ifndef SM_MAP_H
#define SM_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sm__map {
    uint64_t *keys;
    uint32_t *vals;
    uint8_t *used;
    size_t cap;   /* power of two, or 0 */
    size_t count;
} sm__map;

void sm__map_free(sm__map *m);
/* Returns true and sets *val if key is present. */
bool sm__map_get(const sm__map *m, uint64_t key, uint32_t *val);
/* Inserts or replaces.  Returns false only when memory runs out. */
bool sm__map_put(sm__map *m, uint64_t key, uint32_t val);
/* Removes key if present; returns whether it was. */
bool sm__map_del(sm__map *m, uint64_t key);

#endif
