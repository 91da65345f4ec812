/*
 * sm_demux.c - which socket a segment is for.  First the 4-tuple table
 * (connections and TIME_WAIT entries, one hash lookup), then the listener
 * index keyed by (host, protocol, port), where a specific address beats a
 * wildcard and the profile chooses among equals.  Also which host an
 * address leads to, and the seeded 4-tuple hash.
 */
#include "sm_demux.h"
#include "sm_prof.h"
#include "sm_sock-inl.h"
#include "sm_timewait.h"

#include <stdlib.h>
#include <string.h>

/* ---- rule records: what this file decides -------------------------------- */

static const sm_rule r_listener_specific = SM_RULE("sm.listener.specific", S,
    "a listener bound to the destination address itself takes the connection "
    "before one bound to the wildcard", "RFC 1122 4.1.3.4; every stack's lookup "
    "(Linux __inet_lookup_listener() scoring, FreeBSD in_pcblookup_hash())");

/* Which host receives packets for address a sent from host `from`. */
sm_id sm__host_of(const sm_world *w, sm_id from, const sm_addr *a)
{
    if (sm_addr_is_loopback(a))
        return from;
    if (sm_host_has_addr(w, from, a))
        return from;
    uint32_t h;
    if (!sm__map_get(&w->addr_index, sm__addr_key(a), &h))
        return SM_NONE; /* every non-loopback address of every host is indexed */
    if (sm_host_has_addr(w, h, a))
        return h;
    for (size_t i = 0; i < w->nhosts; i++) /* a 64-bit key collision */
        if (sm_host_has_addr(w, (sm_id)i, a))
            return (sm_id)i;
    return SM_NONE;
}

/* The source address a host uses toward dst (canonical). */

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return sm__splitmix64(&h);
}

static uint64_t hash_addr(uint64_t h, const sm_addr *a)
{
    uint64_t x, y;
    memcpy(&x, a->b, 8);
    memcpy(&y, a->b + 8, 8);
    return mix(mix(mix(h, a->family), x), y);
}

/* Hash of a demux key: (host, proto, local, remote), canonical addresses. */
uint32_t sm__tuple_hash(uint64_t secret, sm_id host, sm_proto proto,
                           const sm_addr *la, uint16_t lp, const sm_addr *ra,
                           uint16_t rp)
{
    uint64_t h = mix(secret, (uint64_t)host << 20 | (uint64_t)proto << 17);
    h = hash_addr(h, la);
    h = hash_addr(h, ra);
    h = mix(h, (uint64_t)lp << 16 | rp);
    return (uint32_t)(h ^ (h >> 32));
}


static void tuple_of(const sm_world *w, uint32_t handle, sm__tuple *t)
{
    if (handle & SM__TW_BIT) {
        const sm__tw *x = sm__tw_at(w, handle & ~SM__TW_BIT);
        t->host = x->host, t->proto = SM_TCP;
        t->la = sm__tw_addr(w, x, x->la), t->ra = sm__tw_addr(w, x, x->ra);
        t->lp = x->lport, t->rp = x->rport;
    } else {
        const sm__sock *s = &w->socks[handle];
        t->host = s->host, t->proto = s->proto;
        t->la = sm__canon(&s->local_addr), t->ra = sm__canon(&s->remote.addr);
        t->lp = s->port, t->rp = s->remote.port;
    }
}

static bool tuple_eq(const sm__tuple *a, const sm__tuple *b)
{
    return a->host == b->host && a->proto == b->proto && a->lp == b->lp &&
           a->rp == b->rp && sm__addr_eq(&a->la, &b->la) && sm__addr_eq(&a->ra, &b->ra);
}

static uint64_t fold(uint64_t x)
{
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    return x;
}

/* Where a 4-tuple sits in the table (never seen outside it).  Locality:
 * the hash keeps 8 neighbouring port pairs of one address pair in one
 * cache line (the low 3 bits come from the ports, the rest from a mix of
 * everything but those bits), so a host's connections fill a limited set
 * of lines instead of one line each anywhere in the table; a line takes at
 * most 64 pairs, so no run grows long. */
static uint32_t tuple_hash_of(const sm_world *w, const sm__tuple *t)
{
    (void)w;
    uint64_t la0, la1, ra0, ra1;
    memcpy(&la0, t->la.b, 8);
    memcpy(&la1, t->la.b + 8, 8);
    memcpy(&ra0, t->ra.b, 8);
    memcpy(&ra1, t->ra.b + 8, 8);
    uint64_t x = (uint64_t)t->host << 32 ^ (uint64_t)t->proto << 24 ^
                 (uint64_t)t->la.family << 16 ^ (uint64_t)(t->lp >> 3) << 3 ^
                 (uint64_t)(t->rp >> 3) << 19;
    x = fold(x ^ fold(la0 ^ fold(la1 ^ fold(ra0 ^ fold(ra1)))));
    /* The top 6 bits (a slot index only in tables over 2^26 slots) tell
     * the 64 port pairs of a line apart: equal hashes mean equal tuples
     * but for chance, and the records are read only then. */
    uint32_t pair = (uint32_t)(t->lp & 7u) << 3 | (t->rp & 7u);
    return pair << 26 | ((uint32_t)x & 0x03fffff8u) | ((t->lp ^ t->rp) & 7u);
}

bool sm__ctab_add(sm_world *w, uint32_t handle)
{
    struct sm__net *n = sm__net(w);
    if (!sm__slots_reserve(&n->ctab, &n->ccap, n->ccount)) {
        sm__oom(w);
        return false;
    }
    sm__tuple t;
    tuple_of(w, handle, &t);
    sm__slots_put(n->ctab, n->ccap, tuple_hash_of(w, &t), handle);
    n->ccount++;
    return true;
}

uint32_t sm__ctab_find(const sm_world *w, const sm__tuple *t)
{
    const struct sm__net *n = w->net;
    if (!n || !n->ccap)
        return SM__NONE32;
    uint32_t h = tuple_hash_of(w, t);
    size_t mask = n->ccap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const sm__slot *s = &n->ctab[i];
        if (!s->h1)
            return SM__NONE32;
        if (s->hash == h) {
            sm__tuple u;
            tuple_of(w, s->h1 - 1, &u);
            if (tuple_eq(t, &u))
                return s->h1 - 1;
        }
    }
}

void sm__ctab_del(sm_world *w, uint32_t handle)
{
    struct sm__net *n = w->net;
    sm__tuple t;
    tuple_of(w, handle, &t);
    uint32_t h = tuple_hash_of(w, &t);
    size_t mask = n->ccap - 1, i = h & mask;
    while (n->ctab[i].h1 != handle + 1) {
        if (!n->ctab[i].h1)
            return; /* not there */
        i = (i + 1) & mask;
    }
    sm__slots_del_at(n->ctab, n->ccap, i);
    n->ccount--;
}

/* ---- the listener index (TCP listeners, bound UDP sockets) ------------------ */

/* The listener bucket of key.  A port's bucket stays for the life of the
 * world (emptied, never removed), so the answers of the map can be kept in
 * a small cache in front of it without ever going stale: listeners come
 * back to the same few ports. */
bool sm__lindex_find(struct sm__net *n, uint64_t key, uint32_t *bi)
{
    unsigned c = (unsigned)((key * 0x9e3779b97f4a7c15ULL) >> 58);
    if (n->lcache_key[c] == key + 1) {
        *bi = n->lcache_bi[c];
        return true;
    }
    if (!sm__map_get(&n->lindex, key, bi))
        return false;
    n->lcache_key[c] = key + 1;
    n->lcache_bi[c] = *bi;
    return true;
}

bool sm__lindex_add(sm_world *w, sm_id id)
{
    struct sm__net *n = sm__net(w);
    sm__sock *s = &w->socks[id];
    uint64_t key = sm__lkey(s->host, s->proto, s->port);
    uint32_t bi;
    if (!sm__lindex_find(n, key, &bi)) {
        SM__GROW(w, n->lbs, n->nlbs, n->lbcap, return false);
        bi = (uint32_t)n->nlbs;
        memset(&n->lbs[bi], 0, sizeof n->lbs[bi]);
        if (!sm__map_put(&n->lindex, key, bi)) {
            sm__oom(w);
            return false;
        }
        n->nlbs++;
    }
    sm__lbucket *b = &n->lbs[bi];
    SM__GROW(w, b->ids, b->n, b->cap, return false);
    s->lbucket = bi;
    s->lslot = b->n;
    b->ids[b->n++] = id;
    s->in_listen = true;
    return true;
}

/* How well listener s matches a packet to dst (wire family wf): 0 none,
 * 1 wildcard, 2 specific. */
int sm__listener_match(const sm__sock *s, const sm_addr *dst, int wf)
{
    sm_addr b = sm__canon(&s->bound_addr);
    if (s->family == 4) {
        if (wf != 4)
            return 0;
        return sm_addr_is_any(&b) ? 1 : sm__addr_eq(&b, dst) ? 2 : 0;
    }
    if (b.family == 4) { /* v4-mapped bound address */
        if (wf != 4)
            return 0;
        return sm_addr_is_any(&b) ? 1 : sm__addr_eq(&b, dst) ? 2 : 0;
    }
    if (sm_addr_is_any(&b))
        return (wf == 6 || !s->at_bind.v6only) ? 1 : 0;
    return wf == 6 && sm__addr_eq(&b, dst) ? 2 : 0;
}

/* The listener (or bound UDP socket) on host for dst:dport, or SM_NONE. */
sm_id sm__find_listener(sm_world *w, sm_id host, sm_proto proto,
                           const sm_addr *dst, uint16_t dport,
                           const sm_addr *src, uint16_t sport, const sm_rule **rule)
{
    struct sm__net *n = sm__net(w);
    uint32_t bi;
    *rule = NULL;
    if (!sm__lindex_find(n, sm__lkey(host, proto, dport), &bi))
        return SM_NONE;
    const sm__lbucket *b = &n->lbs[bi];
    int best = 0;
    size_t nc = 0;
    bool beaten = false; /* a less specific bind matched too */
    if (b->n > n->candcap) {
        sm_sock_view *c = sm__realloc(w, n->cands, b->n * 2 * sizeof *n->cands);
        if (!c)
            return SM_NONE; /* the world breaks */
        n->cands = c;
        n->candcap = b->n * 2;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        const sm__sock *s = &w->socks[b->ids[i]];
        if (proto == SM_UDP && s->connected)
            continue;
        int m = sm__listener_match(s, dst, dst->family);
        if (m == 0)
            continue;
        if (m < best) {
            beaten = true;
            continue;
        }
        if (m > best) {
            beaten = beaten || nc > 0;
            best = m;
            nc = 0;
        }
        sm__view_fill(w, b->ids[i], &n->cands[nc++]);
    }
    if (nc == 0)
        return SM_NONE;
    /* Order candidates by binding order so the profile's choice never
     * depends on the bucket's internal order. */
    for (size_t i = 1; i < nc; i++) {
        sm_sock_view v = n->cands[i];
        size_t j = i;
        while (j > 0 && n->cands[j - 1].seq > v.seq) {
            n->cands[j] = n->cands[j - 1];
            j--;
        }
        n->cands[j] = v;
    }
    if (nc == 1) {
        if (beaten)
            *rule = &r_listener_specific;
        return n->cands[0].id;
    }
    sm_listen_ctx c;
    c.cands = n->cands;
    c.n = nc;
    c.wire_family = dst->family;
    c.hash = sm__tuple_hash(n->secret ^ 0x5bd1e995u, host, proto, dst, dport, src, sport);
    const sm_rule *breach;
    size_t k = sm__prof_select_listener(sm__hprof(w, host), &c, &breach);
    if (breach) {
        /* Taken as no listener; every later call reports the breach. */
        sm__break(w, SM_EPROTO, breach);
        return SM_NONE;
    }
    *rule = sm__hprof(w, host)->select_listener_rule;
    return n->cands[k].id;
}


/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_listener_specific,
};
const sm_rule_set sm__rules_sm_demux = {"engine/sm_demux.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
