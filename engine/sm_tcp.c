/*
 * sm_tcp.c - the simulated network and the TCP/UDP connection model.
 *
 * What it models: segments travelling between hosts with a fixed one-way
 * delay (loopback when both ends are on one host); on arrival every segment
 * goes through the receiving host's demux: first the 4-tuple table
 * (connections and TIME_WAIT entries, one hash lookup), then the listener
 * index keyed by (host, protocol, port), where a specific address beats a
 * wildcard and the profile chooses among equals.  Each TCP socket runs the
 * RFC 9293 state machine (handshake, data with a receive window, the four
 * close orders, RST); TIME_WAIT entries are small records of their own.
 *
 * What it leaves to the profile: every rule that differs between operating
 * systems (sm_profile.h): the connect() 4-tuple check and its error, the
 * ephemeral port for connect(), what a SYN into TIME_WAIT does, which of
 * several listeners gets a connection, close()/SO_LINGER outcomes, and the
 * tunables (TIME_WAIT length, tcp_rfc1337, caps, timeouts).
 *
 * Time: one binary heap of events ordered by (virtual time, sequence) holds
 * segment deliveries and socket timers; TIME_WAIT expiries sit in a FIFO
 * per host (their lengths are equal, so the order is the expiry order) with
 * one heap event for the FIFO's head.  Nothing reads a wall clock.
 */
#include "sm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSS 1460u
#define RCVBUF 65535u
#define NS_PER_MS 1000000ull

enum { EV_DELIVER = 1, EV_TW_HEAD = 3 };
enum { T_NONE = 0, T_SYN = 1, T_FIN_WAIT_2 = 2 };

typedef struct ev {
    uint64_t at;
    uint32_t seq;
    uint32_t what; /* kind << 28 | index */
} ev;

/* A socket timer: the timer heap holds each socket's one pending timer,
 * and a cancelled timer leaves it at once (a stale event kept in the heap
 * until its time would make the heap grow with every connection). */
typedef struct tev {
    uint64_t at;
    uint32_t seq;
    sm_id id;
} tev;

typedef struct evheap {
    ev *a;
    size_t n, cap;
} evheap;

typedef struct lbucket {
    sm_id *ids;
    uint32_t n, cap;
} lbucket;

struct sm__net {
    evheap dq;            /* segment deliveries */
    evheap twq;           /* TIME_WAIT FIFO heads, one or so per host: apart from
                           * the deliveries so that those stay a tiny heap */
    uint32_t evseq;
    sm_segment *segs; /* in flight */
    uint32_t *seg_free;
    size_t nsegs, segcap, nfree, freecap;
    uint64_t productive;  /* deliveries + SYN timers pending */
    tev *tq;              /* socket timers: a binary heap, positions in sm__sock.tpos */
    size_t ntq, tqcap;
    sm__slot *ctab;       /* the 4-tuple table: socket ids and TIME_WAIT handles */
    size_t ccap, ccount;
    sm__map lindex;       /* (host, proto, port) -> listener bucket */
    uint64_t lcache_key[64]; /* a direct-mapped cache of lindex: key + 1 (0: */
    uint32_t lcache_bi[64];  /* empty) -> bucket; entries never change */
    lbucket *lbs;
    size_t nlbs, lbcap;
    sm_sock_view *cands;
    size_t candcap;
    uint64_t delay_ns, loop_delay_ns;
    sm_tap_fn tap;
    void *tap_ctx;
    sm_stats stats;
    uint64_t tw_total;    /* TIME_WAIT entries alive, all hosts */
    uint64_t secret;
    uint32_t child_no;
};

#define GROW(arr, n, cap)                                                    \
    do {                                                                     \
        if ((n) == (cap)) {                                                  \
            (cap) = (cap) ? (cap) * 2 : 8;                                   \
            (arr) = sm__xrealloc((arr), (cap) * sizeof *(arr));              \
        }                                                                    \
    } while (0)

static struct sm__net *net_create(sm_world *w);

static inline struct sm__net *net(sm_world *w)
{
    return w->net ? w->net : net_create(w);
}

/* The network state, made on first use. */
static struct sm__net *net_create(sm_world *w)
{
    w->net = sm__xrealloc(NULL, sizeof *w->net);
    memset(w->net, 0, sizeof *w->net);
    w->net->delay_ns = 1000000;     /* 1 ms between hosts */
    w->net->loop_delay_ns = 50000;  /* 50 us on loopback */
    uint64_t st = w->seed ^ 0x9b05688c2b3e6c1fULL;
    w->net->secret = sm__splitmix64(&st);
    w->tw_free = SM__NONE32;
    return w->net;
}

void sm__net_free(sm_world *w)
{
    struct sm__net *n = w->net;
    for (size_t i = 0; i < w->nchunks; i++)
        sm__big_free(w->tw_chunks[i], sizeof(sm__tw) << SM__TW_CHUNK_BITS);
    free(w->tw_chunks);
    if (!n)
        return;
    free(n->dq.a);
    free(n->twq.a);
    free(n->tq);
    free(n->segs);
    free(n->seg_free);
    sm__slots_free(n->ctab, n->ccap);
    for (size_t i = 0; i < n->nlbs; i++)
        free(n->lbs[i].ids);
    free(n->lbs);
    free(n->cands);
    sm__map_free(&n->lindex);
    free(n);
}

void sm_world_set_tap(sm_world *w, sm_tap_fn fn, void *ctx)
{
    net(w)->tap = fn;
    net(w)->tap_ctx = ctx;
}

void sm_world_set_delay(sm_world *w, uint64_t between_hosts_ns,
                        uint64_t loopback_ns)
{
    net(w)->delay_ns = between_hosts_ns;
    net(w)->loop_delay_ns = loopback_ns;
}

void sm_world_stats(const sm_world *w, sm_stats *out)
{
    memset(out, 0, sizeof *out);
    if (w->net)
        *out = w->net->stats;
    uint64_t live = 0;
    for (size_t i = 0; i < w->nsocks; i++)
        if (w->socks[i].fd_open || w->socks[i].state != SM_CLOSED)
            live++;
    out->live_sockets = live;
    out->time_wait = w->net ? w->net->tw_total : 0;
}

/* ---- the event heap ------------------------------------------------------ */

static bool ev_before(const ev *a, const ev *b)
{
    if (a->at != b->at)
        return a->at < b->at;
    return (int32_t)(a->seq - b->seq) < 0;
}

/* Every event draws its sequence number from one counter, whichever heap
 * it goes to: step() takes the earliest of the heads, so events run in the
 * one order of (time, sequence) they would have in a single heap. */
static void ev_push(sm_world *w, uint64_t at, unsigned kind, uint32_t idx)
{
    struct sm__net *n = net(w);
    evheap *h = kind == EV_TW_HEAD ? &n->twq : &n->dq;
    GROW(h->a, h->n, h->cap);
    ev e = {at, n->evseq++, (uint32_t)kind << 28 | idx};
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ev_before(&e, &h->a[p]))
            break;
        h->a[i] = h->a[p];
        i = p;
    }
    h->a[i] = e;
}

static ev ev_pop(evheap *h)
{
    ev top = h->a[0];
    ev last = h->a[--h->n];
    size_t i = 0, len = h->n;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const ev *best = &last;
        if (l < len && ev_before(&h->a[l], best))
            m = l, best = &h->a[l];
        if (r < len && ev_before(&h->a[r], best))
            m = r;
        if (m == i)
            break;
        h->a[i] = h->a[m];
        i = m;
    }
    if (len)
        h->a[i] = last;
    return top;
}

static bool tev_before(const tev *a, const tev *b)
{
    if (a->at != b->at)
        return a->at < b->at;
    return (int32_t)(a->seq - b->seq) < 0;
}

static void tq_place(sm_world *w, size_t i, tev e)
{
    w->net->tq[i] = e;
    w->socks[e.id].tpos = (uint32_t)i;
}

static void tq_up(sm_world *w, size_t i, tev e)
{
    struct sm__net *n = w->net;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!tev_before(&e, &n->tq[p]))
            break;
        tq_place(w, i, n->tq[p]);
        i = p;
    }
    tq_place(w, i, e);
}

static void tq_down(sm_world *w, size_t i, tev e)
{
    struct sm__net *n = w->net;
    size_t len = n->ntq;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const tev *best = &e;
        if (l < len && tev_before(&n->tq[l], best))
            m = l, best = &n->tq[l];
        if (r < len && tev_before(&n->tq[r], best))
            m = r;
        if (m == i)
            break;
        tq_place(w, i, n->tq[m]);
        i = m;
    }
    tq_place(w, i, e);
}

/* Take socket id's timer out of the heap (if it is there). */
static void tq_remove(sm_world *w, sm_id id)
{
    struct sm__net *n = w->net;
    uint32_t pos = w->socks[id].tpos;
    if (pos == SM__NONE32)
        return;
    w->socks[id].tpos = SM__NONE32;
    tev last = n->tq[--n->ntq];
    if (pos == n->ntq)
        return;
    if (pos > 0 && tev_before(&last, &n->tq[(pos - 1) / 2]))
        tq_up(w, pos, last);
    else
        tq_down(w, pos, last);
}

static void tq_push(sm_world *w, uint64_t at, sm_id id)
{
    struct sm__net *n = net(w);
    tq_remove(w, id);
    GROW(n->tq, n->ntq, n->tqcap);
    tev e = {at, n->evseq++, id};
    n->ntq++;
    tq_up(w, n->ntq - 1, e);
}

/* ---- addresses ------------------------------------------------------------ */

/* The address as it is on the wire: v4-mapped becomes IPv4. */
static sm_addr canon(const sm_addr *a)
{
    if (a->family == 6 && sm_addr_is_v4mapped(a)) {
        sm_addr r;
        memset(&r, 0, sizeof r);
        r.family = 4;
        memcpy(r.b, a->b + 12, 4);
        return r;
    }
    return *a;
}

/* The address in a socket's family (IPv4 on an AF_INET6 socket: mapped). */
static sm_addr in_family(const sm_addr *a, int family)
{
    if (family == 6 && a->family == 4) {
        sm_addr r;
        memset(&r, 0, sizeof r);
        r.family = 6;
        r.b[10] = r.b[11] = 0xff;
        memcpy(r.b + 12, a->b, 4);
        return r;
    }
    return *a;
}

static bool addr_eq(const sm_addr *a, const sm_addr *b)
{
    return a->family == b->family &&
           memcmp(a->b, b->b, a->family == 4 ? 4 : 16) == 0;
}

/* Which host receives packets for address a sent from host `from`. */
static sm_id host_of(const sm_world *w, sm_id from, const sm_addr *a)
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
static bool pick_source(const sm_world *w, sm_id host, const sm_addr *dst,
                        sm_addr *out)
{
    if (sm_addr_is_loopback(dst)) {
        if (dst->family == 4)
            sm_addr_parse("127.0.0.1", 9, out);
        else
            sm_addr_parse("::1", 3, out);
        return true;
    }
    if (sm_host_has_addr(w, host, dst)) {
        *out = *dst;
        return true;
    }
    const sm__host *h = &w->hosts[host];
    for (size_t i = 0; i < h->naddrs; i++)
        if (h->addrs[i].family == dst->family && !sm_addr_is_loopback(&h->addrs[i]) &&
            !sm_addr_is_multicast(&h->addrs[i])) {
            *out = h->addrs[i];
            return true;
        }
    return false;
}

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
static uint32_t tuple_hash(uint64_t secret, sm_id host, sm_proto proto,
                           const sm_addr *la, uint16_t lp, const sm_addr *ra,
                           uint16_t rp)
{
    uint64_t h = mix(secret, (uint64_t)host << 20 | (uint64_t)proto << 17);
    h = hash_addr(h, la);
    h = hash_addr(h, ra);
    h = mix(h, (uint64_t)lp << 16 | rp);
    return (uint32_t)(h ^ (h >> 32));
}

/* ---- the 4-tuple table -------------------------------------------------------- */

typedef struct tuple {
    sm_id host;
    sm_proto proto;
    sm_addr la, ra;
    uint16_t lp, rp;
} tuple;

/* An address of a TIME_WAIT entry (canonical: IPv4 inline, IPv6 interned). */
static sm_addr tw_addr(const sm_world *w, const sm__tw *x, uint32_t v)
{
    sm_addr a;
    memset(&a, 0, sizeof a);
    if (x->meta & SM__TWM_WIRE6) {
        a.family = 6;
        memcpy(a.b, w->interned[v], 16);
    } else {
        a.family = 4;
        memcpy(a.b, &v, 4);
    }
    return a;
}

static uint32_t tw_addr_store(sm_world *w, const sm_addr *a)
{
    uint32_t v;
    if (a->family == 4)
        memcpy(&v, a->b, 4);
    else
        v = sm__intern(w, a->b, 16);
    return v;
}

uint64_t sm__tw_seq(const sm_world *w, const sm__tw *x)
{
    /* The low 32 bits are kept; the entry is older than the host's count,
     * and by fewer than 2^32 bindings. */
    uint64_t now = w->hosts[x->host].bind_seq;
    return now - (uint32_t)((uint32_t)now - x->seq_lo);
}

static void tuple_of(const sm_world *w, uint32_t handle, tuple *t)
{
    if (handle & SM__TW_BIT) {
        const sm__tw *x = sm__tw_at(w, handle & ~SM__TW_BIT);
        t->host = x->host, t->proto = SM_TCP;
        t->la = tw_addr(w, x, x->la), t->ra = tw_addr(w, x, x->ra);
        t->lp = x->lport, t->rp = x->rport;
    } else {
        const sm__sock *s = &w->socks[handle];
        t->host = s->host, t->proto = s->proto;
        t->la = canon(&s->local_addr), t->ra = canon(&s->remote.addr);
        t->lp = s->port, t->rp = s->remote.port;
    }
}

static bool tuple_eq(const tuple *a, const tuple *b)
{
    return a->host == b->host && a->proto == b->proto && a->lp == b->lp &&
           a->rp == b->rp && addr_eq(&a->la, &b->la) && addr_eq(&a->ra, &b->ra);
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
static uint32_t tuple_hash_of(const sm_world *w, const tuple *t)
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

static void ctab_add(sm_world *w, uint32_t handle)
{
    struct sm__net *n = net(w);
    sm__slots_reserve(&n->ctab, &n->ccap, n->ccount);
    tuple t;
    tuple_of(w, handle, &t);
    sm__slots_put(n->ctab, n->ccap, tuple_hash_of(w, &t), handle);
    n->ccount++;
}

static uint32_t ctab_find(const sm_world *w, const tuple *t)
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
            tuple u;
            tuple_of(w, s->h1 - 1, &u);
            if (tuple_eq(t, &u))
                return s->h1 - 1;
        }
    }
}

static void ctab_del(sm_world *w, uint32_t handle)
{
    struct sm__net *n = w->net;
    tuple t;
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

static uint64_t lkey(sm_id host, sm_proto proto, uint16_t port)
{
    return (uint64_t)host << 17 | (uint64_t)proto << 16 | port;
}

/* The listener bucket of key.  A port's bucket stays for the life of the
 * world (emptied, never removed), so the answers of the map can be kept in
 * a small cache in front of it without ever going stale: listeners come
 * back to the same few ports. */
static bool lindex_find(struct sm__net *n, uint64_t key, uint32_t *bi)
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

static void lindex_add(sm_world *w, sm_id id)
{
    struct sm__net *n = net(w);
    sm__sock *s = &w->socks[id];
    uint64_t key = lkey(s->host, s->proto, s->port);
    uint32_t bi;
    if (!lindex_find(n, key, &bi)) {
        GROW(n->lbs, n->nlbs, n->lbcap);
        bi = (uint32_t)n->nlbs++;
        memset(&n->lbs[bi], 0, sizeof n->lbs[bi]);
        if (!sm__map_put(&n->lindex, key, bi)) {
            fputs("sockmodel: out of memory\n", stderr);
            abort();
        }
    }
    lbucket *b = &n->lbs[bi];
    GROW(b->ids, b->n, b->cap);
    s->lbucket = bi;
    s->lslot = b->n;
    b->ids[b->n++] = id;
    s->in_listen = true;
}

static void lindex_del(sm_world *w, sm_id id)
{
    sm__sock *s = &w->socks[id];
    if (!s->in_listen)
        return;
    lbucket *b = &w->net->lbs[s->lbucket];
    sm_id last = b->ids[--b->n];
    b->ids[s->lslot] = last;
    w->socks[last].lslot = s->lslot;
    s->in_listen = false;
}

void sm__on_bound(sm_world *w, sm_id id)
{
    if (w->socks[id].proto == SM_UDP)
        lindex_add(w, id);
}

sm_result sm__listen_start(sm_world *w, sm_id id)
{
    lindex_add(w, id);
    return sm__rfail(SM_OK, "listening");
}

/* How well listener s matches a packet to dst (wire family wf): 0 none,
 * 1 wildcard, 2 specific. */
static int listener_match(const sm__sock *s, const sm_addr *dst, int wf)
{
    sm_addr b = canon(&s->bound_addr);
    if (s->family == 4) {
        if (wf != 4)
            return 0;
        return sm_addr_is_any(&b) ? 1 : addr_eq(&b, dst) ? 2 : 0;
    }
    if (b.family == 4) { /* v4-mapped bound address */
        if (wf != 4)
            return 0;
        return sm_addr_is_any(&b) ? 1 : addr_eq(&b, dst) ? 2 : 0;
    }
    if (sm_addr_is_any(&b))
        return (wf == 6 || !s->at_bind.v6only) ? 1 : 0;
    return wf == 6 && addr_eq(&b, dst) ? 2 : 0;
}

/* The listener (or bound UDP socket) on host for dst:dport, or SM_NONE. */
static sm_id find_listener(sm_world *w, sm_id host, sm_proto proto,
                           const sm_addr *dst, uint16_t dport,
                           const sm_addr *src, uint16_t sport, const char **rule)
{
    struct sm__net *n = net(w);
    uint32_t bi;
    *rule = NULL;
    if (!lindex_find(n, lkey(host, proto, dport), &bi))
        return SM_NONE;
    const lbucket *b = &n->lbs[bi];
    int best = 0;
    size_t nc = 0;
    if (b->n > n->candcap) {
        n->candcap = b->n * 2;
        n->cands = sm__xrealloc(n->cands, n->candcap * sizeof *n->cands);
    }
    for (uint32_t i = 0; i < b->n; i++) {
        const sm__sock *s = &w->socks[b->ids[i]];
        if (proto == SM_UDP && s->connected)
            continue;
        int m = listener_match(s, dst, dst->family);
        if (m == 0 || m < best)
            continue;
        if (m > best) {
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
    if (nc == 1)
        return n->cands[0].id;
    sm_listen_ctx c;
    c.cands = n->cands;
    c.n = nc;
    c.wire_family = dst->family;
    c.hash = tuple_hash(n->secret ^ 0x5bd1e995u, host, proto, dst, dport, src, sport);
    size_t k = w->profile->select_listener(&c);
    *rule = w->profile->select_listener_rule;
    return n->cands[k < nc ? k : 0].id;
}

/* ---- sending ------------------------------------------------------------------- */

static uint32_t ts_now(const sm_world *w) { return (uint32_t)(w->now_ns / NS_PER_MS); }

static void emit(sm_world *w, sm_id from_host, const sm_addr *sa, uint16_t sp,
                 const sm_addr *da, uint16_t dp, sm_proto proto, uint8_t flags,
                 uint32_t seq, uint32_t ack, uint16_t win, uint32_t len,
                 bool ts, uint32_t tsval, uint32_t tsecr)
{
    struct sm__net *n = net(w);
    sm_segment g;
    memset(&g, 0, sizeof g);
    g.time_ns = w->now_ns;
    g.src_host = from_host;
    g.proto = proto;
    g.src.addr = canon(sa);
    g.src.port = sp;
    g.dst.addr = canon(da);
    g.dst.port = dp;
    g.dst_host = host_of(w, from_host, &g.dst.addr);
    g.flags = flags;
    g.seq = seq;
    g.ack = ack;
    g.window = win;
    g.len = len;
    g.has_ts = ts;
    g.tsval = tsval;
    g.tsecr = tsecr;
    n->stats.segments++;
    if (n->tap)
        n->tap(n->tap_ctx, &g);
    if (g.dst_host == SM_NONE)
        return; /* nobody has that address: the packet is lost */
    uint32_t slot;
    if (n->nfree)
        slot = n->seg_free[--n->nfree];
    else {
        GROW(n->segs, n->nsegs, n->segcap);
        slot = (uint32_t)n->nsegs++;
    }
    n->segs[slot] = g;
    n->productive++;
    ev_push(w, w->now_ns + (g.dst_host == from_host ? n->loop_delay_ns : n->delay_ns),
            EV_DELIVER, slot);
}

static uint16_t adv_window(const sm__sock *s)
{
    return s->rcvq >= RCVBUF ? 0 : (uint16_t)(RCVBUF - s->rcvq);
}

static void send_flags(sm_world *w, sm__sock *s, uint8_t flags, uint32_t seq,
                       uint32_t len)
{
    emit(w, s->host, &s->local_addr, s->port, &s->remote.addr, s->remote.port,
         SM_TCP, flags, seq, (flags & SM_TH_ACK) ? s->rcv_nxt : 0, adv_window(s),
         len, s->ts_ok || ((flags & SM_TH_SYN) && w->hosts[s->host].tun[SM_TUN_TIMESTAMPS]),
         ts_now(w) + s->ts_off, s->ts_recent);
}

static void set_timer(sm_world *w, sm_id id, uint8_t kind, uint64_t at)
{
    sm__sock *s = &w->socks[id];
    if (s->timer_kind == T_SYN && w->net)
        w->net->productive--;
    s->timer_kind = kind;
    s->timer_at = at;
    if (kind == T_NONE) {
        if (w->net)
            tq_remove(w, id);
        return;
    }
    if (kind == T_SYN)
        net(w)->productive++;
    tq_push(w, at, id);
}

/* Send what the window allows, then a FIN once the queue is empty. */
static bool tcp_output(sm_world *w, sm__sock *s)
{
    bool sent = false;
    while (s->sndq > 0) {
        uint32_t inflight = s->snd_nxt - s->snd_una;
        if (inflight >= s->snd_wnd)
            break;
        uint64_t room = s->snd_wnd - inflight;
        uint32_t len = (uint32_t)(s->sndq < room ? s->sndq : room);
        if (len > MSS)
            len = MSS;
        send_flags(w, s, SM_TH_ACK | SM_TH_PSH, s->snd_nxt, len);
        s->snd_nxt += len;
        s->sndq -= len;
        sent = true;
    }
    if (s->fin_pending && !s->fin_sent && s->sndq == 0) {
        send_flags(w, s, SM_TH_FIN | SM_TH_ACK, s->snd_nxt, 0);
        s->snd_nxt++;
        s->fin_sent = true;
        sent = true;
    }
    return sent;
}

static void send_rst_for(sm_world *w, const sm__sock *s)
{
    emit(w, s->host, &s->local_addr, s->port, &s->remote.addr, s->remote.port,
         SM_TCP, SM_TH_RST | SM_TH_ACK, s->snd_nxt, s->rcv_nxt, 0, 0, false, 0, 0);
}

/* ---- socket lifetime ----------------------------------------------------------- */

static void unlink_child(sm_world *w, sm_id id)
{
    sm__sock *c = &w->socks[id];
    if (c->listener == SM_NONE)
        return;
    sm__sock *l = &w->socks[c->listener];
    if (c->state == SM_SYN_RECEIVED || c->kslot != SM__NONE32) {
        if (c->kslot != SM__NONE32 && c->kslot < l->sq_n && l->synq[c->kslot] == id) {
            sm_id last = l->synq[--l->sq_n];
            l->synq[c->kslot] = last;
            w->socks[last].kslot = c->kslot;
            c->kslot = SM__NONE32;
        }
    }
    for (uint32_t i = 0; i < l->aq_n; i++) {
        uint32_t at = (l->aq_head + i) % l->aq_cap;
        if (l->acceptq[at] == id) {
            /* Close the gap, keeping FIFO order. */
            for (uint32_t j = i; j + 1 < l->aq_n; j++)
                l->acceptq[(l->aq_head + j) % l->aq_cap] =
                    l->acceptq[(l->aq_head + j + 1) % l->aq_cap];
            l->aq_n--;
            break;
        }
    }
    c->listener = SM_NONE;
}

/* The connection is over (reset, closed, timed out).  A socket whose
 * descriptor is gone disappears; an open one keeps its port if the
 * application bound it, and loses a port it only got by connecting. */
static void conn_destroy(sm_world *w, sm_id id)
{
    sm__sock *s = &w->socks[id];
    if (s->in_ctab) {
        ctab_del(w, id);
        s->in_ctab = false;
    }
    if (s->timer_kind != T_NONE)
        set_timer(w, id, T_NONE, 0);
    unlink_child(w, id);
    s->state = SM_CLOSED;
    s->connected = false;
    s->fin_pending = false;
    s->sndq = 0;
    if (!s->fd_open || s->how == SM_BOUND_CONNECT || s->how == SM_BOUND_ACCEPTED) {
        if (s->bound)
            sm__table_remove(w, id);
        s->bound = false;
    }
    sm__sock_maybe_free(w, id);
}

void sm__sock_maybe_free(sm_world *w, sm_id id)
{
    sm__sock *s = &w->socks[id];
    if (!w->recycle || s->dead || s->fd_open || s->in_ctab || s->bound ||
        s->in_listen || s->listener != SM_NONE ||
        (s->state != SM_CLOSED && s->state != SM_TIME_WAIT))
        return;
    if (s->tw != SM__NONE32) {
        /* The entry outlives its socket: it keeps the socket's name. */
        if (s->name_id == SM__NONE32)
            s->name_id = sm__name_id(w, sm__sock_name(w, id));
        sm__tw *x = sm__tw_at(w, s->tw);
        x->who = s->name_id;
        x->meta &= ~SM__TWM_ATT;
    }
    s->tw = SM__NONE32;
    s->dead = true;
    s->state = SM_CLOSED;
    if (w->nfree_socks == w->free_sock_cap) {
        w->free_sock_cap = w->free_sock_cap ? w->free_sock_cap * 2 : 64;
        w->free_socks = sm__xrealloc(w->free_socks, w->free_sock_cap * sizeof *w->free_socks);
    }
    w->free_socks[w->nfree_socks++] = id;
}

/* ---- TIME_WAIT entries ---------------------------------------------------------- */

static void tw_fifo_unlink(sm_world *w, uint32_t t)
{
    sm__tw *x = sm__tw_at(w, t);
    sm__host *h = &w->hosts[x->host];
    if (x->prev != SM__NONE32)
        sm__tw_at(w, x->prev)->next = x->next;
    else
        h->tw_oldest = x->next;
    if (x->next != SM__NONE32)
        sm__tw_at(w, x->next)->prev = x->prev;
    else
        h->tw_newest = x->prev;
}

/* Append in expiry order (from the tail: O(1) unless the length changed). */
static void tw_fifo_insert(sm_world *w, uint32_t t)
{
    sm__tw *x = sm__tw_at(w, t);
    sm__host *h = &w->hosts[x->host];
    uint32_t after = h->tw_newest;
    while (after != SM__NONE32 && sm__tw_at(w, after)->expire_ns > x->expire_ns)
        after = sm__tw_at(w, after)->prev;
    x->prev = after;
    if (after == SM__NONE32) {
        x->next = h->tw_oldest;
        h->tw_oldest = t;
    } else {
        x->next = sm__tw_at(w, after)->next;
        sm__tw_at(w, after)->next = t;
    }
    if (x->next != SM__NONE32)
        sm__tw_at(w, x->next)->prev = t;
    else
        h->tw_newest = t;
    if (h->tw_oldest == t)
        ev_push(w, x->expire_ns, EV_TW_HEAD, x->host);
}

static void tw_kill(sm_world *w, uint32_t t)
{
    sm__tw *x = sm__tw_at(w, t);
    ctab_del(w, t | SM__TW_BIT);
    sm__table_remove(w, t | SM__TW_BIT);
    tw_fifo_unlink(w, t);
    w->hosts[x->host].tw_count--;
    w->net->tw_total--;
    if (x->meta & SM__TWM_ATT) {
        sm__sock *s = &w->socks[x->who];
        s->tw = SM__NONE32;
        s->state = SM_CLOSED;
    }
    x->meta &= ~(uint32_t)SM__TWF_LIVE;
    x->next = w->tw_free;
    w->tw_free = t;
}

void sm__tw_view_fill(const sm_world *w, uint32_t t, sm_sock_view *v)
{
    const sm__tw *x = sm__tw_at(w, t);
    uint32_t f = x->meta & 0xffu;
    memset(v, 0, sizeof *v);
    bool att = (x->meta & SM__TWM_ATT) != 0;
    v->id = att ? x->who : SM_NONE;
    v->name = att ? sm__sock_name(w, x->who) : w->interned[x->who];
    v->proto = SM_TCP;
    v->family = (x->meta & SM__TWM_FAM6) ? 6 : 4;
    sm_addr la = tw_addr(w, x, x->la), ra = tw_addr(w, x, x->ra);
    v->local_addr = v->bound_addr = in_family(&la, v->family);
    v->port = x->lport;
    v->state = SM_TIME_WAIT;
    v->bound = true;
    v->connected = true;
    v->remote.addr = in_family(&ra, v->family);
    v->remote.port = x->rport;
    v->time_wait = true;
    v->fd_open = false;
    v->at_bind.reuseaddr = (f & SM__TWF_RA) != 0;
    v->at_bind.reuseport = (f & SM__TWF_RP) != 0;
    v->at_bind.reuseport_lb = (f & SM__TWF_RPLB) != 0;
    v->at_bind.exclusiveaddruse = v->at_bind.exclbind = (f & SM__TWF_EXCL) != 0;
    v->at_bind.v6only = (f & SM__TWF_V6ONLY) != 0;
    v->now = v->at_bind;
    v->uid = w->users[x->meta >> SM__TWM_USER_SHIFT].uid;
    v->privileged = (f & SM__TWF_PRIV) != 0;
    v->how = (enum sm_how_bound)((x->meta >> SM__TWM_HOW_SHIFT) & 7u);
    v->seq = sm__tw_seq(w, x);
    v->tw_since_ms = x->since_ms;
    v->tw_ts = (f & SM__TWF_TS) != 0;
    v->accepted = v->how == SM_BOUND_ACCEPTED;
}

/* When a TIME_WAIT entry that (re)starts its 2MSL now ends: the profile's
 * length for this connection (or the host's TIME_WAIT tunable), rounded up
 * to the next run of a collector where the OS frees entries only there. */
static void abort_conn(sm_world *w, sm_id id);

static uint64_t tw_expire_at(const sm_world *w, sm_id host, const sm_addr *la,
                             const sm_addr *ra)
{
    const sm__host *h = &w->hosts[host];
    uint64_t ms = (uint64_t)h->tun[SM_TUN_TIME_WAIT_MS];
    if (w->profile->time_wait_ms) {
        sm_tw_len_ctx c = {.tun = h->tun, .local = *la, .remote = *ra,
                           .host_addrs = h->addrs, .n_host_addrs = h->naddrs};
        ms = w->profile->time_wait_ms(&c);
    }
    uint64_t at = w->now_ns + ms * NS_PER_MS;
    if (h->tun[SM_TUN_TW_REAP_MS] > 0) {
        uint64_t period = (uint64_t)h->tun[SM_TUN_TW_REAP_MS] * NS_PER_MS;
        at = (at + period - 1) / period * period;
    }
    return at;
}

/* Socket s reached TIME_WAIT: replace it by a small entry, or by nothing
 * where this OS keeps none. */
static void enter_time_wait(sm_world *w, sm_id id, const char **why)
{
    sm__sock *s = &w->socks[id];
    sm__host *h = &w->hosts[s->host];
    const sm_tcp_rules *r = w->profile->tcp;
    const int64_t *tun = h->tun;
    sm_addr peer = canon(&s->remote.addr);
    if (tun[SM_TUN_NOLOCALTIMEWAIT] &&
        (r->local_tw_purge_rule_is_loopback_only
             ? sm_addr_is_loopback(&peer)
             : host_of(w, s->host, &peer) == s->host)) {
        if (why)
            *why = r->no_local_tw_rule;
        conn_destroy(w, id);
        return;
    }
    /* A negative cap means none; 0 keeps no TIME_WAIT at all (Linux). */
    if (tun[SM_TUN_MAX_TW] >= 0 && h->tw_count >= (uint64_t)tun[SM_TUN_MAX_TW]) {
        w->net->stats.tw_overflow++;
        if (!r->tw_overflow_recycles || h->tw_oldest == SM__NONE32) {
            if (why)
                *why = r->tw_overflow_rule;
            conn_destroy(w, id);
            return;
        }
        tw_kill(w, h->tw_oldest);
    }
    uint32_t t;
    if (w->tw_free != SM__NONE32) {
        t = w->tw_free;
        w->tw_free = sm__tw_at(w, t)->next;
    } else {
        /* Entries live in chunks that never move: no copy of the whole
         * table as it grows, no transient double of it. */
        if (w->ntws >> SM__TW_CHUNK_BITS == w->nchunks) {
            if (w->ntws >= (size_t)SM__TW_BIT) {
                fputs("sockmodel: too many TIME_WAIT entries (2^31)\n", stderr);
                abort();
            }
            GROW(w->tw_chunks, w->nchunks, w->chunkcap);
            w->tw_chunks[w->nchunks++] = sm__big_alloc(sizeof(sm__tw) << SM__TW_CHUNK_BITS);
        }
        t = (uint32_t)w->ntws++;
    }
    s = &w->socks[id];
    uint32_t user = w->procs[s->proc].user;
    if (user > SM__TWM_USER_MAX) {
        fputs("sockmodel: too many users for a TIME_WAIT entry (2^18)\n", stderr);
        abort();
    }
    sm_addr la = canon(&s->local_addr), ra = canon(&s->remote.addr);
    uint32_t las = tw_addr_store(w, &la), ras = tw_addr_store(w, &ra);
    s = &w->socks[id];
    sm__tw *x = sm__tw_at(w, t);
    memset(x, 0, sizeof *x);
    x->who = id;
    x->la = las;
    x->ra = ras;
    x->lport = s->port;
    x->rport = s->remote.port;
    const sm_opts *o = &s->at_bind;
    x->meta = SM__TWF_LIVE | (s->privileged ? SM__TWF_PRIV : 0u) |
              (s->ts_ok ? SM__TWF_TS : 0u) | (o->reuseaddr ? SM__TWF_RA : 0u) |
              (o->reuseport ? SM__TWF_RP : 0u) | (o->reuseport_lb ? SM__TWF_RPLB : 0u) |
              (o->exclusiveaddruse || o->exclbind ? SM__TWF_EXCL : 0u) |
              (o->v6only ? SM__TWF_V6ONLY : 0u) | (s->family == 6 ? SM__TWM_FAM6 : 0u) |
              (la.family == 6 ? SM__TWM_WIRE6 : 0u) |
              (uint32_t)s->how << SM__TWM_HOW_SHIFT | SM__TWM_ATT |
              user << SM__TWM_USER_SHIFT;
    x->host = s->host;
    x->snd_nxt = s->snd_nxt;
    x->rcv_nxt = s->rcv_nxt;
    x->ts_recent = s->ts_recent;
    x->since_ms = (uint32_t)(w->now_ns / NS_PER_MS);
    x->expire_ns = tw_expire_at(w, x->host, &la, &ra);
    x->seq_lo = (uint32_t)s->seq;
    /* The socket leaves both tables; the entry takes its place. */
    if (s->in_ctab) {
        ctab_del(w, id);
        s->in_ctab = false;
    }
    if (s->bound)
        sm__table_remove(w, id);
    if (s->timer_kind != T_NONE)
        set_timer(w, id, T_NONE, 0);
    s = &w->socks[id];
    s->bound = false;
    s->connected = false;
    s->state = SM_TIME_WAIT;
    s->tw = t;
    ctab_add(w, t | SM__TW_BIT);
    sm__table_insert(w, t | SM__TW_BIT);
    tw_fifo_insert(w, t);
    h = &w->hosts[sm__tw_at(w, t)->host];
    h->tw_count++;
    sm__sock_maybe_free(w, id);
    struct sm__net *n = w->net;
    if (++n->tw_total > n->stats.time_wait_peak)
        n->stats.time_wait_peak = n->tw_total;
}

static void tw_expire_due(sm_world *w, sm_id host)
{
    sm__host *h = &w->hosts[host];
    while (h->tw_oldest != SM__NONE32 && sm__tw_at(w, h->tw_oldest)->expire_ns <= w->now_ns)
        tw_kill(w, h->tw_oldest);
    if (h->tw_oldest != SM__NONE32)
        ev_push(w, sm__tw_at(w, h->tw_oldest)->expire_ns, EV_TW_HEAD, host);
}

/* ---- arrival ----------------------------------------------------------------------- */

static void tcp_input(sm_world *w, sm_id id, const sm_segment *g);

static void reply_rst(sm_world *w, const sm_segment *g)
{
    if (g->flags & SM_TH_RST)
        return;
    if (g->flags & SM_TH_ACK)
        emit(w, g->dst_host, &g->dst.addr, g->dst.port, &g->src.addr, g->src.port,
             SM_TCP, SM_TH_RST, g->ack, 0, 0, 0, false, 0, 0);
    else
        emit(w, g->dst_host, &g->dst.addr, g->dst.port, &g->src.addr, g->src.port,
             SM_TCP, SM_TH_RST | SM_TH_ACK, 0,
             g->seq + g->len + ((g->flags & SM_TH_SYN) ? 1u : 0u) +
                 ((g->flags & SM_TH_FIN) ? 1u : 0u),
             0, 0, false, 0, 0);
}

static uint32_t isn_for(const sm_world *w, const sm_addr *la, uint16_t lp,
                        const sm_addr *ra, uint16_t rp)
{
    /* RFC 6528: a clock (64 ns ticks, as Linux) plus a keyed hash of the
     * 4-tuple, so a later connection on the same 4-tuple starts higher. */
    uint32_t f = tuple_hash(w->net->secret ^ 0x6a09e667f3bcc908ULL, 0, SM_TCP, la, lp, ra, rp);
    return (uint32_t)(w->now_ns >> 6) + f;
}

static uint32_t ts_offset(const sm_world *w, const sm_addr *la, const sm_addr *ra)
{
    /* Per address pair, as Linux's tsoffset: later connections between the
     * same two addresses carry larger timestamps. */
    return tuple_hash(w->net->secret ^ 0xbb67ae8584caa73bULL, 0, SM_TCP, la, 0, ra, 0);
}

static void listener_syn(sm_world *w, sm_id lid, const sm_segment *g,
                         bool from_tw, uint32_t tw_snd_nxt)
{
    sm__sock *l = &w->socks[lid];
    if (l->aq_n + l->sq_n > (uint32_t)(l->backlog < 0 ? 0 : l->backlog))
        return; /* queue full: the SYN is dropped, the client retries */
    struct sm__net *n = net(w);
    sm_id cid = sm__sock_alloc(w);
    l = &w->socks[lid];
    sm__sock *c = &w->socks[cid];
    /* Named "<listener>/<n>" when someone first asks (sm__sock_name). */
    c->name = NULL;
    c->parent_name = sm__sock_name(w, lid);
    c->child_no = ++n->child_no;
    l = &w->socks[lid];
    c->host = l->host;
    c->proc = l->proc;
    c->uid = l->uid;
    c->privileged = l->privileged;
    c->proto = SM_TCP;
    c->family = l->family;
    c->opt = l->opt;
    c->fd_open = false;
    c->accepted = false;
    c->tw = SM__NONE32;
    c->kslot = SM__NONE32;
    c->listener = lid;
    c->remote.addr = in_family(&g->src.addr, c->family);
    c->remote.port = g->src.port;
    c->connected = true;
    sm_addr local = in_family(&g->dst.addr, c->family);
    sm__take_port(w, cid, &local, l->port, SM_BOUND_ACCEPTED);
    c = &w->socks[cid];
    l = &w->socks[lid];
    c->at_bind = l->at_bind;
    c->state = SM_SYN_RECEIVED;
    c->irs = g->seq;
    c->rcv_nxt = g->seq + 1;
    c->snd_wnd = g->window;
    c->ts_ok = g->has_ts && w->hosts[c->host].tun[SM_TUN_TIMESTAMPS];
    c->ts_recent = g->tsval;
    c->ts_off = ts_offset(w, &g->dst.addr, &g->src.addr);
    c->iss = from_tw ? tw_snd_nxt + 65535u + 2u
                     : isn_for(w, &g->dst.addr, g->dst.port, &g->src.addr, g->src.port);
    c->snd_una = c->iss;
    c->snd_nxt = c->iss + 1;
    ctab_add(w, cid);
    c = &w->socks[cid];
    c->in_ctab = true;
    GROW(l->synq, l->sq_n, l->sq_cap);
    c->kslot = l->sq_n;
    l->synq[l->sq_n++] = cid;
    send_flags(w, c, SM_TH_SYN | SM_TH_ACK, c->iss, 0);
}

static void tw_input(sm_world *w, uint32_t t, const sm_segment *g)
{
    sm__tw *x = sm__tw_at(w, t);
    const int64_t *tun = w->hosts[x->host].tun;
    if (g->flags & SM_TH_RST) {
        /* RFC 1337: an OS that protects TIME_WAIT ignores the RST. */
        if (!tun[SM_TUN_RFC1337] && g->seq == x->rcv_nxt)
            tw_kill(w, t);
        return;
    }
    if ((g->flags & SM_TH_SYN) && !(g->flags & SM_TH_ACK)) {
        const char *rule;
        sm_id l = find_listener(w, x->host, SM_TCP, &g->dst.addr, g->dst.port,
                                &g->src.addr, g->src.port, &rule);
        sm_tw_syn_ctx c;
        memset(&c, 0, sizeof c);
        c.tun = tun;
        sm__tw_view_fill(w, t, &c.tw);
        c.seg_seq = g->seq;
        c.rcv_nxt = x->rcv_nxt;
        c.rcv_wnd = RCVBUF;
        c.seg_ts = g->has_ts;
        c.seg_tsval = g->tsval;
        c.ts_recent = x->ts_recent;
        c.listener = l != SM_NONE;
        sm_tw_syn_verdict v = w->profile->tw_syn(&c);
        uint32_t snd = x->snd_nxt, rcv = x->rcv_nxt;
        switch (v.action) {
        case SM_TW_SYN_ACCEPT:
            tw_kill(w, t);
            if (l != SM_NONE)
                listener_syn(w, l, g, true, snd);
            else
                reply_rst(w, g);
            break;
        case SM_TW_SYN_ACK:
            emit(w, g->dst_host, &g->dst.addr, g->dst.port, &g->src.addr, g->src.port,
                 SM_TCP, SM_TH_ACK, snd, rcv, (uint16_t)RCVBUF, 0, false, 0, 0);
            break;
        case SM_TW_SYN_RST:
            emit(w, g->dst_host, &g->dst.addr, g->dst.port, &g->src.addr, g->src.port,
                 SM_TCP, SM_TH_RST | SM_TH_ACK, snd, g->seq + 1, 0, 0, false, 0, 0);
            break;
        case SM_TW_SYN_DROP:
            break;
        }
        return;
    }
    if (g->flags & SM_TH_FIN) {
        /* A retransmitted FIN: ACK it again and restart the 2MSL timer. */
        tw_fifo_unlink(w, t);
        sm_addr la = tw_addr(w, x, x->la), ra = tw_addr(w, x, x->ra);
        x = sm__tw_at(w, t);
        x->expire_ns = tw_expire_at(w, x->host, &la, &ra);
        tw_fifo_insert(w, t);
    }
    if ((g->flags & SM_TH_FIN) || g->len)
        emit(w, g->dst_host, &g->dst.addr, g->dst.port, &g->src.addr, g->src.port,
             SM_TCP, SM_TH_ACK, x->snd_nxt, x->rcv_nxt, (uint16_t)RCVBUF, 0, false, 0, 0);
}

static void udp_deliver(sm_world *w, sm_id id, const sm_segment *g)
{
    sm__sock *s = &w->socks[id];
    s->rcvq += g->len ? g->len : 1;
}

static void deliver(sm_world *w, const sm_segment *g)
{
    tuple t;
    t.host = g->dst_host;
    t.proto = g->proto;
    t.la = g->dst.addr;
    t.lp = g->dst.port;
    t.ra = g->src.addr;
    t.rp = g->src.port;
    const char *rule;
    if (g->proto == SM_UDP) {
        if (sm_addr_is_multicast(&g->dst.addr)) {
            /* Every socket bound to the group (or the wildcard) on the port,
             * on every host. */
            for (size_t h = 0; h < w->nhosts; h++) {
                uint32_t bi;
                if (!lindex_find(w->net, lkey((sm_id)h, SM_UDP, g->dst.port), &bi))
                    continue;
                const lbucket *b = &w->net->lbs[bi];
                for (uint32_t i = 0; i < b->n; i++)
                    if (listener_match(&w->socks[b->ids[i]], &g->dst.addr, g->dst.addr.family))
                        udp_deliver(w, b->ids[i], g);
            }
            return;
        }
        uint32_t c = ctab_find(w, &t);
        if (c != SM__NONE32) {
            udp_deliver(w, c, g);
            return;
        }
        sm_id l = find_listener(w, g->dst_host, SM_UDP, &g->dst.addr, g->dst.port,
                                &g->src.addr, g->src.port, &rule);
        if (l != SM_NONE)
            udp_deliver(w, l, g);
        return;
    }
    uint32_t c = ctab_find(w, &t);
    if (c != SM__NONE32) {
        if (c & SM__TW_BIT)
            tw_input(w, c & ~SM__TW_BIT, g);
        else
            tcp_input(w, c, g);
        return;
    }
    if ((g->flags & (SM_TH_SYN | SM_TH_ACK | SM_TH_RST)) == SM_TH_SYN) {
        sm_id l = find_listener(w, g->dst_host, SM_TCP, &g->dst.addr, g->dst.port,
                                &g->src.addr, g->src.port, &rule);
        if (l != SM_NONE) {
            listener_syn(w, l, g, false, 0);
            return;
        }
    }
    reply_rst(w, g); /* no socket: RST (ECONNREFUSED at a connecting peer) */
}

static void child_established(sm_world *w, sm_id id)
{
    sm__sock *c = &w->socks[id];
    sm_id lid = c->listener;
    if (lid == SM_NONE)
        return;
    sm__sock *l = &w->socks[lid];
    if (c->kslot != SM__NONE32 && c->kslot < l->sq_n && l->synq[c->kslot] == id) {
        sm_id last = l->synq[--l->sq_n];
        l->synq[c->kslot] = last;
        w->socks[last].kslot = c->kslot;
    }
    c->kslot = SM__NONE32;
    if (l->aq_n == l->aq_cap) {
        uint32_t nc = l->aq_cap ? l->aq_cap * 2 : 8;
        sm_id *q = sm__xrealloc(NULL, nc * sizeof *q);
        for (uint32_t i = 0; i < l->aq_n; i++)
            q[i] = l->acceptq[(l->aq_head + i) % l->aq_cap];
        free(l->acceptq);
        l->acceptq = q;
        l->aq_cap = nc;
        l->aq_head = 0;
    }
    l->acceptq[(l->aq_head + l->aq_n) % l->aq_cap] = id;
    l->aq_n++;
}

static void conn_reset(sm_world *w, sm_id id, sm_err e)
{
    sm__sock *s = &w->socks[id];
    if (s->fd_open) {
        s->soerr = e;
        s->reset_sticky = e == SM_ECONNRESET && w->profile->tcp->reset_error_sticky;
    }
    conn_destroy(w, id);
}

/* Our FIN was acknowledged. */
static void fin_acked(sm_world *w, sm_id id)
{
    sm__sock *s = &w->socks[id];
    switch (s->state) {
    case SM_FIN_WAIT_1:
        s->state = SM_FIN_WAIT_2;
        if (s->orphan)
            set_timer(w, id, T_FIN_WAIT_2,
                      w->now_ns + (uint64_t)w->hosts[s->host].tun[SM_TUN_FIN_TIMEOUT_MS] * NS_PER_MS);
        break;
    case SM_CLOSING:
        enter_time_wait(w, id, NULL);
        break;
    case SM_LAST_ACK:
        conn_destroy(w, id);
        break;
    default:
        break;
    }
}

static void tcp_input(sm_world *w, sm_id id, const sm_segment *g)
{
    sm__sock *s = &w->socks[id];
    if (s->state == SM_SYN_SENT) {
        if ((g->flags & SM_TH_ACK) && g->ack != s->snd_nxt) {
            /* An ACK for something we never sent (e.g. from a TIME_WAIT of
             * an older connection): answer with a RST, keep trying. */
            if (!(g->flags & SM_TH_RST))
                emit(w, s->host, &s->local_addr, s->port, &s->remote.addr,
                     s->remote.port, SM_TCP, SM_TH_RST, g->ack, 0, 0, 0, false, 0, 0);
            return;
        }
        if (g->flags & SM_TH_RST) {
            if (g->flags & SM_TH_ACK)
                conn_reset(w, id, SM_ECONNREFUSED);
            return;
        }
        if ((g->flags & SM_TH_SYN) && (g->flags & SM_TH_ACK)) {
            s->irs = g->seq;
            s->rcv_nxt = g->seq + 1;
            s->snd_una = g->ack;
            s->snd_wnd = g->window;
            s->ts_ok = s->ts_ok && g->has_ts;
            s->ts_recent = g->tsval;
            s->state = SM_ESTABLISHED;
            set_timer(w, id, T_NONE, 0);
            w->net->stats.connections++;
            send_flags(w, s, SM_TH_ACK, s->snd_nxt, 0);
            tcp_output(w, s);
        }
        return;
    }
    if (g->flags & SM_TH_RST) {
        /* Accepted only in window (RFC 9293; RFC 5961 exact match). */
        if (g->seq != s->rcv_nxt)
            return;
        if (s->state == SM_SYN_RECEIVED && !s->accepted) {
            conn_destroy(w, id);
            return;
        }
        bool quiet = s->state == SM_CLOSING || s->state == SM_LAST_ACK;
        conn_reset(w, id, quiet ? SM_OK
                          : s->state == SM_CLOSE_WAIT ? w->profile->tcp->rst_in_close_wait
                                                      : SM_ECONNRESET);
        return;
    }
    if (g->flags & SM_TH_SYN) {
        /* SYN on a synchronized connection: a challenge ACK (RFC 5961). */
        send_flags(w, s, SM_TH_ACK, s->snd_nxt, 0);
        return;
    }
    if (!(g->flags & SM_TH_ACK))
        return;
    if (g->has_ts)
        s->ts_recent = g->tsval;
    if (s->state == SM_SYN_RECEIVED) {
        if (g->ack != s->snd_nxt) {
            reply_rst(w, g);
            return;
        }
        s->state = SM_ESTABLISHED;
        s->snd_una = g->ack;
        w->net->stats.connections++;
        child_established(w, id);
        s = &w->socks[id];
    }
    /* ACK processing. */
    if ((int32_t)(g->ack - s->snd_una) > 0 && (int32_t)(g->ack - s->snd_nxt) <= 0)
        s->snd_una = g->ack;
    s->snd_wnd = g->window;
    bool fin_now_acked = s->fin_sent && s->snd_una == s->snd_nxt &&
                         (s->state == SM_FIN_WAIT_1 || s->state == SM_CLOSING ||
                          s->state == SM_LAST_ACK);
    if (fin_now_acked) {
        sm_tcp_state before = s->state;
        fin_acked(w, id);
        if (before != SM_FIN_WAIT_1)
            return; /* TIME_WAIT or gone */
        s = &w->socks[id];
    }
    bool need_ack = false;
    if (g->len && g->seq == s->rcv_nxt) {
        if (s->orphan) {
            /* Data for a socket nobody will read: RST and gone
             * (Linux tcp_rcv_state_process, FreeBSD tcp_input). */
            send_rst_for(w, s);
            conn_destroy(w, id);
            return;
        }
        uint32_t room = adv_window(s);
        uint32_t take = g->len < room ? g->len : room;
        s->rcvq += take;
        s->rcv_nxt += take;
        need_ack = true;
    }
    if ((g->flags & SM_TH_FIN) && g->seq + g->len == s->rcv_nxt &&
        !s->peer_fin) {
        s->rcv_nxt++;
        s->peer_fin = true;
        need_ack = true;
        switch (s->state) {
        case SM_ESTABLISHED:
            s->state = SM_CLOSE_WAIT;
            break;
        case SM_FIN_WAIT_1:
            s->state = SM_CLOSING;
            break;
        case SM_FIN_WAIT_2:
            send_flags(w, s, SM_TH_ACK, s->snd_nxt, 0);
            enter_time_wait(w, id, NULL);
            return;
        default:
            break;
        }
    }
    if (!tcp_output(w, s) && need_ack)
        send_flags(w, s, SM_TH_ACK, s->snd_nxt, 0);
}

static void sock_timer(sm_world *w, sm_id id)
{
    sm__sock *s = &w->socks[id];
    uint8_t kind = s->timer_kind;
    set_timer(w, id, T_NONE, 0);
    s = &w->socks[id];
    if (kind == T_SYN && s->state == SM_SYN_SENT) {
        if (w->now_ns >= s->connect_deadline) {
            conn_reset(w, id, SM_ETIMEDOUT);
            return;
        }
        send_flags(w, s, SM_TH_SYN, s->iss, 0);
        s->syn_tries++;
        uint64_t rto = (uint64_t)w->hosts[s->host].tun[SM_TUN_SYN_RTO_MS] * NS_PER_MS
                       << (s->syn_tries < 16 ? s->syn_tries : 16);
        uint64_t at = w->now_ns + rto;
        if (at > s->connect_deadline)
            at = s->connect_deadline;
        set_timer(w, id, T_SYN, at);
    } else if (kind == T_FIN_WAIT_2 && s->state == SM_FIN_WAIT_2 && s->orphan) {
        /* An orphaned FIN_WAIT_2 times out: freed silently, or dropped with
         * a RST where the profile says so. */
        if (w->profile->tcp->finwait2_timeout_rst)
            abort_conn(w, id);
        else
            conn_destroy(w, id);
    }
}

/* Process the earliest event if it is due by `limit`. */
static bool step(sm_world *w, uint64_t limit)
{
    struct sm__net *n = w->net;
    if (!n)
        return false;
    /* The earliest of the three heads. */
    const ev *best = NULL;
    evheap *from = NULL;
    if (n->dq.n)
        best = &n->dq.a[0], from = &n->dq;
    if (n->twq.n && (!best || ev_before(&n->twq.a[0], best)))
        best = &n->twq.a[0], from = &n->twq;
    bool timer = false;
    if (n->ntq) {
        ev t = {n->tq[0].at, n->tq[0].seq, 0};
        timer = !best || ev_before(&t, best);
    }
    if (timer) {
        tev t = n->tq[0];
        if (t.at > limit)
            return false;
        if (t.at > w->now_ns)
            w->now_ns = t.at;
        sock_timer(w, t.id); /* takes the timer out of the heap first */
        return true;
    }
    if (!best || best->at > limit)
        return false;
    ev e = ev_pop(from);
    if (e.at > w->now_ns)
        w->now_ns = e.at;
    uint32_t idx = e.what & 0x0fffffffu;
    switch (e.what >> 28) {
    case EV_DELIVER: {
        sm_segment g = n->segs[idx];
        GROW(n->seg_free, n->nfree, n->freecap);
        n->seg_free[n->nfree++] = idx;
        n->productive--;
        deliver(w, &g);
        break;
    }
    case EV_TW_HEAD:
        tw_expire_due(w, idx);
        break;
    default:
        break;
    }
    return true;
}

void sm_advance(sm_world *w, uint64_t ns)
{
    uint64_t target = ns > UINT64_MAX - w->now_ns ? UINT64_MAX : w->now_ns + ns;
    while (step(w, target))
        ;
    w->now_ns = target;
}

typedef bool (*done_fn)(const sm_world *w, sm_id id);

/* Run the world until done(id), or until `deadline`, or until nothing that
 * could make done() true is on its way.  Returns done(id). */
static bool block_until(sm_world *w, sm_id id, done_fn done, uint64_t deadline)
{
    while (!done(w, id)) {
        struct sm__net *n = w->net;
        if (deadline == UINT64_MAX && (!n || n->productive == 0))
            return false;
        if (!step(w, deadline)) {
            if (deadline != UINT64_MAX && deadline > w->now_ns)
                w->now_ns = deadline;
            return done(w, id);
        }
    }
    return true;
}

/* ---- calls --------------------------------------------------------------------- */

static bool sock_ok(const sm_world *w, sm_id s)
{
    return s < w->nsocks && w->socks[s].fd_open;
}

static sm_result ok_bytes(const char *rule, uint64_t bytes)
{
    sm_result r = sm__rfail(SM_OK, rule);
    r.bytes = bytes;
    return r;
}

/* Report a pending error once (then EPIPE for writes). */
static bool take_soerr(sm__sock *s, sm_result *r)
{
    if (s->soerr == SM_OK)
        return false;
    sm_err e = s->soerr;
    if (!s->reset_sticky)
        s->soerr = SM_OK;
    s->epipe = true;
    *r = sm__rfail(e, e == SM_ECONNRESET ? "the peer reset the connection (RST)"
                     : e == SM_EPIPE ? "the peer reset the connection while we were in "
                                       "CLOSE_WAIT: EPIPE [Linux tcp_reset()]"
                     : e == SM_ECONNREFUSED ? "the peer answered the SYN with RST: no listener"
                     : e == SM_ETIMEDOUT ? "no answer before the connect timeout"
                                         : "a pending error on the socket");
    return true;
}

static bool connect_done(const sm_world *w, sm_id id)
{
    return w->socks[id].state != SM_SYN_SENT;
}

static sm_result connect_autobind(sm_world *w, sm_id id, const sm_addr *src,
                                  const sm_endpoint *dst)
{
    sm_pick_ctx c;
    memset(&c, 0, sizeof c);
    c.w = w;
    c.host = w->socks[id].host;
    c.connecting = true;
    c.takeover = SM__NONE32;
    sm__view_fill(w, id, &c.self);
    c.self.bound_addr = c.self.local_addr = *src;
    c.self.remote = *dst;
    c.self.connected = true;
    c.self.state = SM_SYN_SENT;
    c.self.how = SM_BOUND_CONNECT;
    uint16_t port = 0;
    sm_verdict v = w->profile->pick_connect_port(&c, &port);
    if (v.err != SM_OK)
        return sm__result_of(&v, NULL);
    if (c.takeover != SM__NONE32)
        tw_kill(w, c.takeover & ~SM__TW_BIT);
    sm__take_port(w, id, src, port, SM_BOUND_CONNECT);
    sm_result r = sm__result_of(&v, NULL);
    r.port = port;
    return r;
}

sm_result sm_connect(sm_world *w, sm_id id, const sm_endpoint *ep)
{
    if (!sock_ok(w, id))
        return sm__rfail(SM_EBADF, "the descriptor is closed");
    net(w);
    sm__sock *s = &w->socks[id];
    if (s->family == 4 && ep->addr.family == 6)
        return sm__rfail(SM_EAFNOSUPPORT, "an AF_INET socket cannot connect to an IPv6 address");
    if (s->family == 6 && ep->addr.family == 4)
        return sm__rfail(SM_EAFNOSUPPORT,
                        "an AF_INET6 socket connects to IPv6 addresses (use ::ffff:a.b.c.d)");
    if (s->state == SM_LISTEN)
        return sm__rfail(s->proto == SM_TCP ? w->profile->tcp->connect_on_listener : SM_EISCONN,
                        w->profile->tcp->connect_on_listener_rule);
    if (s->state == SM_SYN_SENT)
        return sm__rfail(SM_EALREADY, "a connect() is already in progress");
    if (s->proto == SM_TCP && (s->state != SM_CLOSED || s->tw != SM__NONE32 || s->epipe))
        return sm__rfail(SM_EISCONN, "the socket is already connected");
    sm_addr dst = canon(&ep->addr);
    if (s->family == 6 && dst.family == 4 && s->opt.v6only)
        return sm__rfail(SM_ENETUNREACH, "an IPV6_V6ONLY socket cannot reach an IPv4 address");
    if (sm_addr_is_any(&dst))
        return sm__rfail(SM_ENETUNREACH, "the destination is the wildcard address");
    sm_addr src;
    sm_addr bound = canon(&s->bound_addr);
    if (s->bound && !sm_addr_is_any(&bound))
        src = bound;
    else if (!pick_source(w, s->host, &dst, &src))
        return sm__rfail(SM_ENETUNREACH, "this host has no address of that family to send from");
    sm_addr src_f = in_family(&src, s->family);
    sm_endpoint dst_f = {in_family(&dst, s->family), ep->port};
    sm_result r = sm__rfail(SM_OK, "connected");
    if (!s->bound) {
        r = connect_autobind(w, id, &src_f, &dst_f);
        if (r.err != SM_OK)
            return r;
    } else {
        sm_bind_ctx c;
        memset(&c, 0, sizeof c);
        c.check = SM_CHECK_CONNECT;
        c.tun = w->hosts[s->host].tun;
        sm__view_fill(w, id, &c.self);
        c.self.local_addr = src_f;
        c.self.remote = dst_f;
        c.self.connected = true;
        c.self.state = SM_SYN_SENT;
        c.n_owners = sm__collect_owners(w, s->host, s->proto, s->port, id);
        c.owners = w->scratch;
        c.now_ms = w->now_ns / NS_PER_MS;
        c.loopback = sm_addr_is_loopback(&dst);
        sm_verdict v = w->profile->connect(&c);
        r = sm__result_of(&v, c.owners);
        if (v.err != SM_OK)
            return r;
        if (v.culprit >= 0 && c.owners[v.culprit].time_wait) {
            /* End that TIME_WAIT entry: find it by tuple. */
            tuple t = {s->host, s->proto, src, dst, s->port, ep->port};
            uint32_t h = ctab_find(w, &t);
            if (h != SM__NONE32 && (h & SM__TW_BIT))
                tw_kill(w, h & ~SM__TW_BIT);
        }
    }
    s = &w->socks[id];
    s->local_addr = src_f;
    s->remote = dst_f;
    s->connected = true;
    if (s->proto == SM_UDP) {
        if (!s->in_ctab) {
            ctab_add(w, id);
            w->socks[id].in_ctab = true;
        }
        return r;
    }
    ctab_add(w, id);
    s = &w->socks[id];
    s->in_ctab = true;
    s->iss = isn_for(w, &src, s->port, &dst, ep->port);
    s->snd_una = s->iss;
    s->snd_nxt = s->iss + 1;
    s->snd_wnd = RCVBUF;
    s->ts_ok = w->hosts[s->host].tun[SM_TUN_TIMESTAMPS] != 0;
    s->ts_off = ts_offset(w, &src, &dst);
    s->state = SM_SYN_SENT;
    s->syn_tries = 0;
    s->peer_fin = s->fin_pending = s->fin_sent = s->rd_shut = s->wr_shut = false;
    s->connect_deadline =
        w->now_ns + (uint64_t)w->hosts[s->host].tun[SM_TUN_CONNECT_TIMEOUT_MS] * NS_PER_MS;
    send_flags(w, s, SM_TH_SYN, s->iss, 0);
    set_timer(w, id, T_SYN,
              w->now_ns + (uint64_t)w->hosts[s->host].tun[SM_TUN_SYN_RTO_MS] * NS_PER_MS);
    if (w->socks[id].nonblock) {
        sm_result p = sm__rfail(SM_EINPROGRESS, "non-blocking connect: the handshake goes on");
        p.port = r.port;
        return p;
    }
    block_until(w, id, connect_done, UINT64_MAX);
    s = &w->socks[id];
    if (s->state != SM_CLOSED) {
        /* The handshake is over when our ACK has reached the peer: let it
         * arrive (the connection is then in the peer's accept queue). */
        sm_id peer = host_of(w, s->host, &dst);
        struct sm__net *n = w->net;
        uint64_t until = w->now_ns + (peer == s->host ? n->loop_delay_ns : n->delay_ns);
        while (step(w, until))
            ;
        if (w->now_ns < until)
            w->now_ns = until;
        s = &w->socks[id];
    }
    if (s->state == SM_CLOSED) {
        sm_result e;
        if (!take_soerr(s, &e))
            e = sm__rfail(SM_ECONNREFUSED, "the connection failed");
        s->epipe = false;
        return e;
    }
    r.rule = r.rule ? r.rule : "connected";
    return r;
}

static bool accept_done(const sm_world *w, sm_id id)
{
    return w->socks[id].aq_n > 0 || w->socks[id].state != SM_LISTEN;
}

sm_result sm_accept(sm_world *w, sm_id id, const char *name, sm_id *out)
{
    *out = SM_NONE;
    if (!sock_ok(w, id))
        return sm__rfail(SM_EBADF, "the descriptor is closed");
    if (w->socks[id].state != SM_LISTEN)
        return sm__rfail(SM_EINVAL, "accept() needs a listening socket");
    if (w->socks[id].aq_n == 0) {
        if (w->socks[id].nonblock)
            return sm__rfail(SM_EWOULDBLOCK, "no connection is waiting (non-blocking)");
        if (!block_until(w, id, accept_done, UINT64_MAX))
            return sm__rfail(SM_EWOULDBLOCK,
                            "would block forever: no connection is on its way");
    }
    sm__sock *l = &w->socks[id];
    sm_id cid = l->acceptq[l->aq_head];
    l->aq_head = (l->aq_head + 1) % l->aq_cap;
    l->aq_n--;
    sm__sock *c = &w->socks[cid];
    c->listener = SM_NONE;
    c->accepted = true;
    c->fd_open = true;
    if (name)
        c->name = sm__name_for_socket(w, name, &c->name_id);
    c = &w->socks[cid];
    sm__proc *p = &w->procs[c->proc];
    GROW(p->socks, p->nsocks, p->sockcap);
    c->pslot = (uint32_t)p->nsocks;
    p->socks[p->nsocks++] = cid;
    *out = cid;
    return sm__rfail(SM_OK, "accepted the oldest established connection");
}

sm_result sm_send(sm_world *w, sm_id id, uint64_t bytes)
{
    if (!sock_ok(w, id))
        return sm__rfail(SM_EBADF, "the descriptor is closed");
    sm__sock *s = &w->socks[id];
    sm_result r;
    if (take_soerr(s, &r))
        return r;
    if (s->proto == SM_UDP) {
        if (!s->connected)
            return sm__rfail(SM_ENOTCONN, "a UDP socket sends with send() only once connected");
        emit(w, s->host, &s->local_addr, s->port, &s->remote.addr, s->remote.port,
             SM_UDP, 0, 0, 0, 0, (uint32_t)(bytes > 65507 ? 65507 : bytes), false, 0, 0);
        return ok_bytes("datagram sent", bytes);
    }
    if (s->epipe || s->wr_shut ||
        (s->state != SM_ESTABLISHED && s->state != SM_CLOSE_WAIT &&
         s->state != SM_SYN_SENT && s->state != SM_SYN_RECEIVED))
        return sm__rfail(s->epipe || s->wr_shut || s->tw != SM__NONE32 ||
                                s->state != SM_CLOSED
                            ? SM_EPIPE
                            : SM_ENOTCONN,
                        "the connection can no longer send");
    s->sndq += bytes;
    tcp_output(w, s);
    return ok_bytes("queued for sending", bytes);
}

static bool recv_done(const sm_world *w, sm_id id)
{
    const sm__sock *s = &w->socks[id];
    return s->rcvq > 0 || s->peer_fin || s->soerr != SM_OK || !s->connected;
}

sm_result sm_recv(sm_world *w, sm_id id, uint64_t bytes)
{
    if (!sock_ok(w, id))
        return sm__rfail(SM_EBADF, "the descriptor is closed");
    sm__sock *s = &w->socks[id];
    sm_result r;
    if (s->proto == SM_TCP && !s->connected && s->soerr == SM_OK && !s->peer_fin &&
        s->rcvq == 0)
        return sm__rfail(s->epipe ? SM_OK : SM_ENOTCONN,
                        s->epipe ? "end of stream after the reset" : "the socket is not connected");
    if (s->rcvq == 0 && !s->peer_fin && s->soerr == SM_OK) {
        if (s->nonblock)
            return sm__rfail(SM_EWOULDBLOCK, "no data has arrived (non-blocking)");
        if (!block_until(w, id, recv_done, UINT64_MAX))
            return sm__rfail(SM_EWOULDBLOCK, "would block forever: no data is on its way");
        s = &w->socks[id];
    }
    if (s->rcvq > 0) {
        uint64_t take = s->rcvq < bytes ? s->rcvq : bytes;
        bool was_closed = adv_window(s) < MSS;
        s->rcvq -= take;
        if (s->proto == SM_TCP && was_closed && adv_window(s) >= MSS && s->connected)
            send_flags(w, s, SM_TH_ACK, s->snd_nxt, 0); /* window update */
        return ok_bytes("data read", take);
    }
    if (take_soerr(s, &r))
        return r;
    return ok_bytes("end of stream: the peer closed its side", 0);
}

sm_result sm_shutdown(sm_world *w, sm_id id, bool rd, bool wr)
{
    if (!sock_ok(w, id))
        return sm__rfail(SM_EBADF, "the descriptor is closed");
    sm__sock *s = &w->socks[id];
    if (!s->connected)
        return sm__rfail(SM_ENOTCONN, "shutdown() needs a connection");
    if (rd)
        s->rd_shut = true;
    if (wr && s->proto == SM_TCP && !s->wr_shut) {
        s->wr_shut = true;
        if (s->state == SM_ESTABLISHED || s->state == SM_SYN_RECEIVED)
            s->state = SM_FIN_WAIT_1;
        else if (s->state == SM_CLOSE_WAIT)
            s->state = SM_LAST_ACK;
        if (s->state == SM_FIN_WAIT_1 || s->state == SM_LAST_ACK) {
            s->fin_pending = true;
            tcp_output(w, s);
        }
    }
    return sm__rfail(SM_OK, wr ? "our side is shut: a FIN follows the queued data"
                              : "reading is shut");
}

static bool linger_done(const sm_world *w, sm_id id)
{
    sm_tcp_state st = w->socks[id].state;
    return st != SM_FIN_WAIT_1 && st != SM_CLOSING && st != SM_LAST_ACK;
}

/* Drop the descriptor (the connection, if any, lives on as an orphan). */
static void drop_fd(sm_world *w, sm_id id)
{
    sm__sock *s = &w->socks[id];
    if (s->fd_open) {
        sm__proc_forget(w, id);
        s->fd_open = false;
    }
    if (s->state == SM_CLOSED && s->tw == SM__NONE32) {
        lindex_del(w, id);
        if (s->in_ctab) {
            ctab_del(w, id);
            s->in_ctab = false;
        }
        if (s->bound)
            sm__table_remove(w, id);
        s->bound = false;
        s->connected = false;
    } else {
        s->orphan = true;
    }
    sm__sock_maybe_free(w, id);
}

static void abort_conn(sm_world *w, sm_id id)
{
    sm__sock *s = &w->socks[id];
    if (s->state == SM_ESTABLISHED || s->state == SM_CLOSE_WAIT ||
        s->state == SM_FIN_WAIT_1 || s->state == SM_FIN_WAIT_2 ||
        s->state == SM_SYN_RECEIVED || s->state == SM_CLOSING || s->state == SM_LAST_ACK)
        send_rst_for(w, s);
    conn_destroy(w, id);
}

/* A UDP socket, or a TCP one with no connection that is not listening. */
static bool unconnected(const sm__sock *s)
{
    return s->proto == SM_UDP || (s->state == SM_CLOSED && s->tw == SM__NONE32);
}

/* close() of an unconnected socket: nothing here needs the network (a
 * socket in its indexes implies it exists). */
static sm_result close_unconnected(sm_world *w, sm_id id)
{
    bool held = w->socks[id].bound;
    drop_fd(w, id);
    return sm__rfail(SM_OK, held ? "closed: the port is released at once (no connection to wind down)"
                                : "closed: it held no port");
}

/* close() of a listener: unaccepted connections are reset, half-open ones
 * dropped. */
static sm_result close_listener(sm_world *w, sm_id id)
{
    net(w);
    sm__sock *s = &w->socks[id];
    while (s->aq_n) {
        sm_id c = s->acceptq[s->aq_head];
        abort_conn(w, c);
        s = &w->socks[id];
    }
    while (s->sq_n) {
        sm_id c = s->synq[0];
        conn_destroy(w, c);
        s = &w->socks[id];
    }
    s->state = SM_CLOSED;
    drop_fd(w, id);
    return sm__rfail(SM_OK, "closed the listener: connections not yet accepted were reset");
}

static sm_result close_connection(sm_world *w, sm_id id, bool at_exit);

/* The kinds of close(), the common ones first and inline; a connection's
 * close stays out of line. */
static inline sm_result close_socket(sm_world *w, sm_id id, bool at_exit)
{
    const sm__sock *s = &w->socks[id];
    if (unconnected(s))
        return close_unconnected(w, id);
    if (s->state == SM_LISTEN && s->tw == SM__NONE32)
        return close_listener(w, id);
    return close_connection(w, id, at_exit);
}

sm_result sm_close(sm_world *w, sm_id id)
{
    if (!sock_ok(w, id))
        return sm__rfail(SM_EBADF, "the descriptor is already closed");
    return close_socket(w, id, false);
}

sm_result sm__tcp_close(sm_world *w, sm_id id, bool at_exit)
{
    return close_socket(w, id, at_exit);
}

/* close() of a socket with a connection (or in TIME_WAIT). */
static sm_result close_connection(sm_world *w, sm_id id, bool at_exit)
{
    net(w);
    sm__sock *s = &w->socks[id];
    const sm_tcp_rules *r = w->profile->tcp;
    if (s->tw != SM__NONE32) {
        drop_fd(w, id);
        return sm__rfail(SM_OK, "closed: the connection is already in TIME_WAIT");
    }
    if (s->state == SM_SYN_SENT) {
        conn_destroy(w, id);
        drop_fd(w, id);
        return sm__rfail(SM_OK, "closed while connecting: no RST, the attempt is abandoned");
    }
    bool linger_n = s->opt.linger_on && s->opt.linger_s > 0 && !(at_exit && !r->exit_lingers);
    if (linger_n && s->nonblock && r->linger_nonblock == SM_LINGER_NB_EWOULDBLOCK_KEEP &&
        (s->sndq > 0 || s->state == SM_ESTABLISHED || s->state == SM_CLOSE_WAIT))
        return sm__rfail(SM_EWOULDBLOCK, r->linger_nonblock_rule);
    if (s->rcvq > 0) {
        if (r->unread_close_rst) {
            abort_conn(w, id);
            drop_fd(w, id);
            return sm__rfail(SM_OK, r->unread_close_rule);
        }
        s->rcvq = 0; /* discarded; a FIN still goes out */
    }
    if (s->opt.linger_on && s->opt.linger_s == 0) {
        abort_conn(w, id);
        drop_fd(w, id);
        return sm__rfail(SM_OK, "SO_LINGER {1,0}: abortive close, RST, no TIME_WAIT");
    }
    if (s->state == SM_ESTABLISHED || s->state == SM_SYN_RECEIVED)
        s->state = SM_FIN_WAIT_1;
    else if (s->state == SM_CLOSE_WAIT)
        s->state = SM_LAST_ACK;
    s->wr_shut = s->rd_shut = true;
    if (s->state == SM_FIN_WAIT_1 || s->state == SM_LAST_ACK) {
        s->fin_pending = true;
        tcp_output(w, s);
    }
    s = &w->socks[id];
    drop_fd(w, id);
    s = &w->socks[id];
    if (s->state == SM_FIN_WAIT_2 && s->timer_kind == T_NONE)
        set_timer(w, id, T_FIN_WAIT_2,
                  w->now_ns + (uint64_t)w->hosts[s->host].tun[SM_TUN_FIN_TIMEOUT_MS] * NS_PER_MS);
    const char *graceful = "closed: a FIN follows any queued data; the connection winds down";
    if (!linger_n || linger_done(w, id))
        return sm__rfail(SM_OK, graceful);
    if (s->nonblock) {
        switch (r->linger_nonblock) {
        case SM_LINGER_NB_NO_WAIT:
            return sm__rfail(SM_OK, r->linger_nonblock_rule);
        case SM_LINGER_NB_EWOULDBLOCK:
        case SM_LINGER_NB_EWOULDBLOCK_KEEP:
            return sm__rfail(SM_EWOULDBLOCK, r->linger_nonblock_rule);
        case SM_LINGER_NB_WAITS:
            break;
        }
    }
    uint32_t hz = r->linger_hz ? r->linger_hz : 1; /* units of linger_s per second */
    uint64_t deadline = w->now_ns + (uint64_t)s->opt.linger_s * 1000000000ull / hz;
    if (block_until(w, id, linger_done, deadline))
        return sm__rfail(SM_OK, "SO_LINGER: the FIN was acknowledged before the timeout");
    switch (r->linger_timeout) {
    case SM_LINGER_TO_RESET:
        abort_conn(w, id);
        return sm__rfail(SM_OK, r->linger_timeout_rule);
    case SM_LINGER_TO_EWOULDBLOCK:
        return sm__rfail(SM_EWOULDBLOCK, r->linger_timeout_rule);
    case SM_LINGER_TO_RETURN_OK:
        break;
    }
    return sm__rfail(SM_OK, r->linger_timeout_rule);
}
