/*
 * sm_demux.h - which socket a segment is for (sm_demux.c): the 4-tuple
 * table (connections and TIME_WAIT entries, one hash lookup), then the
 * listener index keyed by (host, protocol, port), where a specific address
 * beats a wildcard and the profile chooses among equals; and which host an
 * address leads to.
 */
#ifndef SM_DEMUX_H
#define SM_DEMUX_H

#include "sm_net.h"
#include "sm_sock.h"

#include <string.h>

typedef struct sm__tuple {
    sm_id host;
    sm_proto proto;
    sm_addr la, ra;
    uint16_t lp, rp;
} sm__tuple;

/* The address as it is on the wire: v4-mapped becomes IPv4. */
static inline sm_addr sm__canon(const sm_addr *a)
{
    return sm__addr_unmapped(a);
}

/* The address in a socket's family (IPv4 on an AF_INET6 socket: mapped). */
static inline sm_addr sm__in_family(const sm_addr *a, int family)
{
    return family == 6 ? sm__addr_mapped(a) : *a;
}

/* Which host receives packets for address a sent from host `from`. */
sm_id sm__host_of(const sm_world *w, sm_id from, const sm_addr *a);
/* Seeded hash of a demux key: (host, proto, local, remote). */
uint32_t sm__tuple_hash(uint64_t secret, sm_id host, sm_proto proto,
                        const sm_addr *la, uint16_t lp, const sm_addr *ra,
                        uint16_t rp);

/* The 4-tuple table: socket ids and TIME_WAIT handles. */
/* false: out of memory (the world breaks). */
bool sm__ctab_add(sm_world *w, uint32_t handle);
uint32_t sm__ctab_find(const sm_world *w, const sm__tuple *t); /* or SM__NONE32 */
void sm__ctab_del(sm_world *w, uint32_t handle);

/* The listener index (TCP listeners, bound UDP sockets). */
static inline uint64_t sm__lkey(sm_id host, sm_proto proto, uint16_t port)
{
    return (uint64_t)host << 17 | (uint64_t)proto << 16 | port;
}
bool sm__lindex_find(struct sm__net *n, uint64_t key, uint32_t *bi);
bool sm__lindex_add(sm_world *w, sm_id id); /* false: out of memory */

/* (Inline: every close() asks.) */
static inline void sm__lindex_del(sm_world *w, sm_id id)
{
    sm__sock *s = &w->socks[id];
    if (!s->in_listen)
        return;
    sm__lbucket *b = &w->net->lbs[s->lbucket];
    sm_id last = b->ids[--b->n];
    b->ids[s->lslot] = last;
    w->socks[last].lslot = s->lslot;
    s->in_listen = false;
}
/* How well listener s matches a packet to dst (wire family wf): 0 none,
 * 1 wildcard, 2 specific. */
int sm__listener_match(const sm__sock *s, const sm_addr *dst, int wf);
/* The listener (or bound UDP socket) on host for dst:dport, or SM_NONE;
 * *rule: the profile's rule when it chose among several, else NULL. */
sm_id sm__find_listener(sm_world *w, sm_id host, sm_proto proto,
                        const sm_addr *dst, uint16_t dport,
                        const sm_addr *src, uint16_t sport, const sm_rule **rule);
/* A UDP socket that got its port enters the listener index. */
static inline bool sm__on_bound(sm_world *w, sm_id id) /* false: out of memory */
{
    return w->socks[id].proto != SM_UDP || sm__lindex_add(w, id);
}

#endif
