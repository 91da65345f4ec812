/*
 * sm_map.c - open-addressing hash map (see sm_map.h).
 */
#include "sm_map.h"

#include <stdlib.h>

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
