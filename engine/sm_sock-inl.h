/*
 * sm_sock-inl.h - the hot parts of the socket record, inline wherever they
 * are used: the view a profile gets of a socket (several per decision), a
 * new record and its name (every socket() and accept()).
 */
#ifndef SM_SOCK_INL_H
#define SM_SOCK_INL_H

#include "sm_sock.h"

#include <stddef.h>
#include <string.h>

/* The members of a view that the record holds in the view's own layout
 * (from proto to listen_seq; sm_sock.c checks each). */
#define SM__VIEW_BLOCK (offsetof(sm_sock_view, listen_seq) + sizeof(uint64_t) - \
                        offsetof(sm_sock_view, proto))

/* Fills *v in place: one block copy from proto to listen_seq, then the
 * members the record does not hold as they are. */
static inline void sm__view_fill(const sm_world *w, sm_id id, sm_sock_view *v)
{
    const sm__sock *s = &w->socks[id];
    v->id = id;
    v->name = s->name;
    memcpy(&v->proto, &s->proto, SM__VIEW_BLOCK);
    v->time_wait = s->state == SM_TIME_WAIT && !s->fd_open;
    if (!s->bound)
        v->at_bind = s->opt;
    v->tw_since_ms = 0;
    v->tw_ts = s->ts_ok; /* a connection: timestamps in use */
    v->accepted = s->how == SM_BOUND_ACCEPTED;
    v->addr_named = s->addr_named;
    if (!v->name) /* a child not named yet */
        v->name = sm__sock_name(w, id);
}

/* A new socket's name: interned when records are recycled (a long run
 * then keeps one copy of each distinct name), else stored as given.
 * NULL: out of memory (the world breaks). */
static inline const char *sm__name_for_socket(sm_world *w, const char *name, uint32_t *id)
{
    if (w->recycle) {
        /* Programs that recycle name their sockets alike, again and again. */
        if (w->last_name != SM__NONE32) {
            const char *l = w->interned[w->last_name];
            size_t i = 0;
            while (l[i] && l[i] == name[i])
                i++;
            if (l[i] == name[i]) {
                *id = w->last_name;
                return l;
            }
        }
        uint32_t nid = sm__name_id(w, name);
        if (nid == SM__NONE32)
            return NULL; /* out of memory */
        *id = w->last_name = nid;
        return w->interned[nid];
    }
    *id = SM__NONE32;
    return sm__bytes_store(w, name, strlen(name) + 1);
}

/* Zeroes a record in 64-byte steps (bench/NOTES.md). */
static inline void sm__zero_record(void *p, size_t n)
{
    unsigned char *c = p;
    for (; n >= 64; n -= 64, c += 64)
        memset(c, 0, 64);
    memset(c, 0, n);
}

/* A zeroed record: a dead one when records are recycled, else a new one.
 * SM_NONE: out of memory, or 2^30 records (the world breaks). */
static inline sm_id sm__sock_alloc(sm_world *w)
{
    sm_id id;
    if (w->recycle && w->nfree_socks) {
        id = w->free_socks[--w->nfree_socks];
        if (w->socks[id].acceptq)
            free(w->socks[id].acceptq);
        if (w->socks[id].synq)
            free(w->socks[id].synq);
    } else {
        if (w->nsocks >= SM__BUCKET_BIT) {
            sm__break(w, SM_ENOMEM, &sm__rule_sock_cap);
            return SM_NONE;
        }
        SM__GROW(w, w->socks, w->nsocks, w->sockcap, return SM_NONE);
        id = (sm_id)w->nsocks++;
        if (!w->broken)
            w->nsocks_usable = w->nsocks;
    }
    sm__zero_record(&w->socks[id], sizeof w->socks[id]);
    w->socks[id].tpos = SM__NONE32;
    w->socks[id].name_id = SM__NONE32;
    return id;
}

#endif
