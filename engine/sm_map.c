/*
 * sm_map.c - the engine's hash tables (see sm_map.h): a general map from
 * 64-bit keys to 32-bit values, and the slot tables behind the bind table,
 * the 4-tuple table and the intern table, with their big allocations.
 */
#include "sm_map.h"
#include "smu_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long sm__alloc_fail_after = -1;

bool sm__alloc_refused(void)
{
    if (sm__alloc_fail_after < 0)
        return false;
    if (sm__alloc_fail_after == 0)
        return true;
    sm__alloc_fail_after--;
    return false;
}

/* Big tables come from util's allocator (huge-page mappings where the
 * system has them); a refusal (sm__alloc_fail_after) or exhaustion is NULL. */
void *sm__big_alloc(size_t n)
{
    return sm__alloc_refused() ? NULL : smu_big_alloc(n);
}

void *sm__big_calloc(size_t n)
{
    return sm__big_alloc(n); /* util's blocks are always zeroed */
}

void sm__big_free(void *p, size_t n)
{
    smu_big_free(p, n);
}

size_t sm__slots_put(sm__slot *t, size_t cap, uint32_t hash, uint32_t handle)
{
    size_t mask = cap - 1, i = hash & mask;
    while (t[i].h1)
        i = (i + 1) & mask;
    t[i].hash = hash;
    t[i].h1 = handle + 1;
    return i;
}

bool sm__slots_grow(sm__slot **t, size_t *cap)
{
    size_t old = *cap, ncap = old ? old * 2 : 256;
    sm__slot *o = *t;
    sm__slot *n = sm__big_calloc(ncap * sizeof *n);
    if (!n)
        return false; /* the old table stays as it was */
    /* The old table is read once, in order: where it has a mapping of its
     * own, each huge page read is given back at once, so that growing
     * needs the new table and not both. */
    size_t per_page = SMU_BIG_PAGE / sizeof *o;
    bool discard = old * sizeof *o >= SMU_BIG_PAGE;
    for (size_t i = 0; i < old; i++) {
        if (o[i].h1)
            sm__slots_put(n, ncap, o[i].hash, o[i].h1 - 1);
        if (discard && (i + 1) % per_page == 0)
            smu_big_discard(&o[i + 1 - per_page], SMU_BIG_PAGE);
    }
    sm__big_free(o, old * sizeof *o);
    *t = n;
    *cap = ncap;
    return true;
}

bool sm__slots_reserve(sm__slot **t, size_t *cap, size_t count)
{
    if ((count + 1) * 4 > *cap * 3)
        return sm__slots_grow(t, cap);
    return true;
}

void sm__slots_del_at(sm__slot *t, size_t cap, size_t i)
{
    size_t mask = cap - 1, j = i;
    for (;;) {
        t[i].h1 = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (!t[j].h1)
                return;
            size_t k = t[j].hash & mask;
            /* Move j to i unless its home k lies cyclically in (i, j]. */
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                continue;
            break;
        }
        t[i] = t[j];
        i = j;
    }
}

void sm__slots_free(sm__slot *t, size_t cap)
{
    sm__big_free(t, cap * sizeof *t);
}

static size_t slot_of(uint64_t key, size_t cap)
{
    /* A fixed mixer (splitmix64 finaliser): no per-run seed, so runs are
     * reproducible; keys are never attacker-chosen in a way that matters. */
    key ^= key >> 30;
    key *= 0xbf58476d1ce4e5b9ULL;
    key ^= key >> 27;
    key *= 0x94d049bb133111ebULL;
    key ^= key >> 31;
    return (size_t)key & (cap - 1);
}

void sm__map_free(sm__map *m)
{
    free(m->keys);
    free(m->vals);
    free(m->used);
    m->keys = NULL;
    m->vals = NULL;
    m->used = NULL;
    m->cap = m->count = 0;
}

bool sm__map_get(const sm__map *m, uint64_t key, uint32_t *val)
{
    if (m->cap == 0)
        return false;
    for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (!m->used[i])
            return false;
        if (m->keys[i] == key) {
            *val = m->vals[i];
            return true;
        }
    }
}

static bool grow(sm__map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    if (sm__alloc_refused())
        return false;
    sm__map n = {calloc(ncap, sizeof *n.keys), calloc(ncap, sizeof *n.vals),
                 calloc(ncap, 1), ncap, 0};
    if (!n.keys || !n.vals || !n.used) {
        sm__map_free(&n);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->used[i])
            sm__map_put(&n, m->keys[i], m->vals[i]);
    sm__map_free(m);
    *m = n;
    return true;
}

bool sm__map_put(sm__map *m, uint64_t key, uint32_t val)
{
    if ((m->count + 1) * 4 > m->cap * 3 && !grow(m))
        return false;
    size_t i = slot_of(key, m->cap);
    while (m->used[i] && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    if (!m->used[i]) {
        m->used[i] = 1;
        m->keys[i] = key;
        m->count++;
    }
    m->vals[i] = val;
    return true;
}

bool sm__map_del(sm__map *m, uint64_t key)
{
    if (m->cap == 0)
        return false;
    size_t mask = m->cap - 1;
    size_t i = slot_of(key, m->cap);
    while (m->used[i] && m->keys[i] != key)
        i = (i + 1) & mask;
    if (!m->used[i])
        return false;
    /* Backward-shift deletion: move later members of the probe run into the
     * hole when their home slot does not lie cyclically in (hole, j]. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->used[j]; j = (j + 1) & mask) {
        size_t home = slot_of(m->keys[j], m->cap);
        bool home_in_range = hole <= j ? (home > hole && home <= j)
                                       : (home > hole || home <= j);
        if (!home_in_range) {
            m->keys[hole] = m->keys[j];
            m->vals[hole] = m->vals[j];
            hole = j;
        }
    }
    m->used[hole] = 0;
    m->count--;
    return true;
}
