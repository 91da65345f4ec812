/*
 * sm_intern.c - interned bytes and socket names.  Interned bytes (names
 * with their NUL, IPv6 addresses of TIME_WAIT entries) are stored once
 * each, in blocks that never move, for the life of the world; a listener's
 * children are named "<listener>/<n>" only when someone asks.
 */
#include "sm_sock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Interned bytes live in blocks that never move (one allocation per
 * NAME_BLOCK bytes, not one per name): views and results hand out pointers
 * to names for the life of the world.  Bytes longer than a block's
 * remainder start a new block of at least their own size.  Each distinct
 * string is stored once, so a million sockets named "c" cost one copy. */
#define NAME_BLOCK 65536
const char *sm__bytes_store(sm_world *w, const void *bytes, size_t n)
{
    if (!w->nname_blocks || w->name_used + n > w->name_block_size) {
        size_t size = n > NAME_BLOCK ? n : NAME_BLOCK;
        SM__GROW(w, w->name_blocks, w->nname_blocks, w->name_block_cap, return NULL);
        char *block = sm__realloc(w, NULL, size);
        if (!block)
            return NULL;
        w->name_blocks[w->nname_blocks++] = block;
        w->name_block_size = size;
        w->name_used = 0;
    }
    char *d = w->name_blocks[w->nname_blocks - 1] + w->name_used;
    memcpy(d, bytes, n);
    w->name_used += n;
    return d;
}

static uint32_t bytes_hash(const void *bytes, size_t n)
{
    const unsigned char *p = bytes;
    uint64_t h = 0xcbf29ce484222325ULL ^ n; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    h ^= h >> 29;
    return (uint32_t)(h ^ (h >> 32));
}

uint32_t sm__intern(sm_world *w, const void *bytes, size_t n)
{
    uint32_t h = bytes_hash(bytes, n);
    if (w->icap) {
        size_t mask = w->icap - 1;
        for (size_t i = h & mask; w->itab[i].h1; i = (i + 1) & mask) {
            uint32_t id = w->itab[i].h1 - 1;
            if (w->itab[i].hash == h && w->interned_len[id] == n &&
                memcmp(w->interned[id], bytes, n) == 0)
                return id;
        }
    }
    if (w->ninterned == w->interncap) {
        size_t cap = w->interncap ? w->interncap * 2 : 16;
        const char **a = sm__realloc(w, w->interned, cap * sizeof *w->interned);
        if (!a)
            return SM__NONE32;
        w->interned = a;
        uint32_t *l = sm__realloc(w, w->interned_len, cap * sizeof *w->interned_len);
        if (!l)
            return SM__NONE32;
        w->interned_len = l;
        w->interncap = cap;
    }
    uint32_t id = (uint32_t)w->ninterned;
    const char *stored = sm__bytes_store(w, bytes, n);
    if (!stored)
        return SM__NONE32;
    if (!sm__slots_reserve(&w->itab, &w->icap, id)) {
        sm__oom(w);
        return SM__NONE32;
    }
    w->ninterned++;
    w->interned[id] = stored;
    w->interned_len[id] = (uint32_t)n;
    sm__slots_put(w->itab, w->icap, h, id);
    return id;
}

uint32_t sm__name_id(sm_world *w, const char *name)
{
    return sm__intern(w, name, strlen(name) + 1);
}

/* A child of a listener is named "<listener>/<n>" only when someone asks:
 * most are accepted under a name of their own, and a million connections
 * need not leave a million names behind.  The world is not const (every
 * world comes from sm_world_new); naming it is not a change anyone sees. */
const char *sm__sock_name(const sm_world *cw, sm_id id)
{
    const sm__sock *cs = &cw->socks[id];
    if (cs->name)
        return cs->name;
    sm_world *w = (sm_world *)cw;
    sm__sock *s = &w->socks[id];
    char nm[96];
    snprintf(nm, sizeof nm, "%s/%u", s->parent_name, s->child_no);
    uint32_t nid = sm__name_id(w, nm);
    if (nid == SM__NONE32)
        return "?"; /* out of memory: the world breaks */
    s->name_id = nid;
    s->name = w->interned[nid];
    return s->name;
}

void sm__names_free(sm_world *w)
{
    for (size_t i = 0; i < w->nname_blocks; i++)
        free(w->name_blocks[i]);
    free(w->name_blocks);
    free(w->interned);
    free(w->interned_len);
    sm__slots_free(w->itab, w->icap);
}
