/*
 * sm_port.h - the port table (sm_port.c): the bind table, a hash from
 * (host, protocol, port) to every owner of that port (sockets and
 * TIME_WAIT entries), the profile's per-port state, and the engine side
 * of an ephemeral port pick.  A bind decision costs O(owners of the port),
 * never O(all sockets).
 */
#ifndef SM_PORT_H
#define SM_PORT_H

#include "sm_world.h"

/* The owners of one (host, protocol, port) when it has more than one, or
 * when the profile keeps state for the port (a port with one owner and no
 * state holds the owner directly in the table slot).  16 bytes: TIME_WAIT
 * tables hold millions.  Up to SM__BUCKET_INLINE owners are kept inline;
 * beyond, on the heap, in room for sm__bucket_room(n) (the room follows
 * from the count, so the bucket need not store it). */
#define SM__BUCKET_INLINE 2
typedef struct sm__bucket {
    uint32_t n;      /* owners; 0: free (inl[0]: the next free bucket) */
    uint32_t pstate; /* the port's sm_port_state: index in pstates, or SM__NONE32 */
    union {
        uint32_t inl[SM__BUCKET_INLINE];
        uint32_t *heap;
    } u;
} sm__bucket;

static inline uint32_t *sm__bucket_ids(sm__bucket *b)
{
    return b->n > SM__BUCKET_INLINE ? b->u.heap : b->u.inl;
}

/* Heap room for n > SM__BUCKET_INLINE owners: 8, then doubled. */
static inline uint32_t sm__bucket_room(uint32_t n)
{
    uint32_t room = 8;
    while (room < n)
        room *= 2;
    return room;
}

struct sm_pick_ctx {
    sm_world *w;
    sm_id host;
    sm_sock_view self;
    bool connecting;       /* a connect() autobind (self.remote is set) */
    uint32_t takeover;     /* TIME_WAIT handle to end, or SM__NONE32 */
};

/* Enter or remove an owner (socket id, or TIME_WAIT handle).  Insert:
 * false when memory runs out (the table is as it was; the world breaks). */
bool sm__table_insert(sm_world *w, uint32_t handle);
void sm__table_remove(sm_world *w, uint32_t handle);
/* Take the port: latch options, enter the bind table (false: out of
 * memory; the socket holds no port). */
bool sm__take_port(sm_world *w, sm_id id, const sm_addr *addr, uint16_t port,
                   enum sm_how_bound how);
/* Views of every owner of (host, proto, port) but `except`, in the
 * world's scratch; returns how many. */
size_t sm__collect_owners(sm_world *w, sm_id host, sm_proto proto,
                          uint16_t port, sm_id except);
/* What a decision on (host, proto, port) sees, in one lookup: c->owners
 * and c->n_owners (views of every owner but `except`, in the world's
 * scratch) and c->port (a scratch copy of the port's profile state).
 * sm__port_state_commit() stores that copy back after the port was given
 * to a socket (only if it is still that port's; out of memory: it is not
 * stored and the world breaks). */
void sm__decision_port(sm_world *w, sm_id host, sm_proto proto, uint16_t port,
                       sm_id except, sm_bind_ctx *c);
void sm__port_state_commit(sm_world *w, sm_id host, sm_proto proto, uint16_t port);
void sm__ports_free(sm_world *w);

#endif
