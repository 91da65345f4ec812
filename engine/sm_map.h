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

/* A hash slot of the bind table, the 4-tuple table and the intern table:
 * 32 bits of the key's hash and a handle; the full key is checked against
 * the record the handle names.  h1 is the handle plus one: 0 is empty, so
 * a new table is memory as the system hands it out, untouched until used.
 * Linear probing from hash & (cap - 1), backward-shift deletion, at most
 * 3/4 full.  Big tables are allocated on huge pages where the system
 * offers them: every probe of a big table is a cache miss, it need not be
 * a TLB miss. */
typedef struct sm__slot {
    uint32_t hash;
    uint32_t h1;
} sm__slot;
/* Doubles the table (256 slots at first: a small table stays sparse, so
 * its probes stay short), re-inserting in slot order: the writes go to two
 * ascending runs, not all over the new table. */
bool sm__slots_grow(struct sm__slot **t, size_t *cap);
/* Grows first when one more would make the table more than 3/4 full.
 * false: out of memory (the table is as it was). */
bool sm__slots_reserve(struct sm__slot **t, size_t *cap, size_t count);
/* Puts (hash, handle) in the first empty slot of its probe run; returns
 * that slot. */
size_t sm__slots_put(struct sm__slot *t, size_t cap, uint32_t hash, uint32_t handle);
/* Empties slot i, shifting later members of its run back. */
void sm__slots_del_at(struct sm__slot *t, size_t cap, size_t i);
void sm__slots_free(struct sm__slot *t, size_t cap);

/* Uninitialised memory for a big table (huge pages when n is large and
 * the system has them), or NULL; sm__big_free takes the same n. */
void *sm__big_alloc(size_t n);
void *sm__big_calloc(size_t n); /* zeroed */
void sm__big_free(void *p, size_t n);

/* A test hook on every engine allocation: while it is >= 0, that many more
 * allocations succeed, then every one fails (as when memory runs out)
 * until it is set again.  -1 (the default): off. */
extern long sm__alloc_fail_after;
bool sm__alloc_refused(void);

#endif
