/*
 * sm_port.c - the port table: the bind table, a hash from (host,
 * protocol, port) to every owner of that port (sockets and TIME_WAIT
 * entries), the profile's per-port state (sm_port_state), and the engine
 * side of an ephemeral port pick (sm_pick_ctx).  A bind decision costs
 * O(owners of the port), never O(all sockets).
 */
#include "sm_port.h"
#include "sm_demux.h"
#include "sm_sock-inl.h"
#include "sm_timewait.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static uint64_t bind_key(sm_id host, sm_proto proto, uint16_t port)
{
    return (uint64_t)host << 17 | (uint64_t)proto << 16 | port;
}

/* Where a port sits in the bind table (never seen outside it).  While
 * host ids fit in 15 bits the key fits in 32 bits, and the hash is a
 * bijection of it (odd multiplications and xor-shifts modulo 2^32): equal
 * hashes are equal keys, and a lookup reads no record to check them.
 * (Ports of one host are not kept together: hosts that hold whole ranges
 * of ports would make long runs of full slots.) */
#define BIND_EXACT_HOSTS 32768u
static uint32_t bind_hash(uint64_t key)
{
    uint32_t x = (uint32_t)key;
    x ^= (uint32_t)(key >> 32) * 0x9e3779b1u; /* 0 while host < 2^15 */
    x *= 0x1d8e4e27u;
    x ^= x >> 15;
    x *= 0x2c1b3c6du;
    x ^= x >> 13;
    x *= 0x297a2d39u;
    x ^= x >> 16;
    return x;
}

static bool is_bucket(uint32_t v)
{
    return !(v & SM__TW_BIT) && (v & SM__BUCKET_BIT);
}

/* The key of an owner (socket id, or TIME_WAIT handle). */
static inline uint64_t handle_key(const sm_world *w, uint32_t handle)
{
    if (handle & SM__TW_BIT) {
        const sm__tw *t = sm__tw_at(w, handle & ~SM__TW_BIT);
        return bind_key(t->host, SM_TCP, t->lport);
    }
    const sm__sock *s = &w->socks[handle];
    return bind_key(s->host, s->proto, s->port);
}

/* The key of what a bind-table slot holds (a bucket: of its first owner;
 * all its owners have the same). */
static uint64_t slot_key(const sm_world *w, uint32_t v)
{
    if (is_bucket(v))
        v = sm__bucket_ids(&w->buckets[v & ~SM__BUCKET_BIT])[0];
    return handle_key(w, v);
}

/* Remember that key sits in slot i (SIZE_MAX: it has no slot). */
static void bind_slot_remember(const sm_world *cw, uint64_t key, size_t i)
{
    sm_world *w = (sm_world *)cw; /* the cache is not a change anyone sees */
    w->bkey_last = key;
    w->bslot_last = i;
    w->bslot_known = true;
}

static size_t bind_probe(const sm_world *w, uint64_t key);

/* The slot of key in the bind table, or SIZE_MAX.  A bind, its listen and
 * the checks before them ask for one port again and again: the last answer
 * (also "no slot") is kept until the table changes; the changes that move
 * slots keep it current. */
static inline size_t bind_slot(const sm_world *w, uint64_t key)
{
    if (w->bslot_known && w->bkey_last == key)
        return w->bslot_last;
    return bind_probe(w, key);
}

static size_t bind_probe(const sm_world *w, uint64_t key)
{
    if (w->bcap == 0)
        return SIZE_MAX;
    uint32_t h = bind_hash(key);
    size_t mask = w->bcap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const sm__slot *s = &w->btab[i];
        if (!s->h1) {
            bind_slot_remember(w, key, SIZE_MAX);
            return SIZE_MAX;
        }
        if (s->hash == h &&
            (w->nhosts <= BIND_EXACT_HOSTS || slot_key(w, s->h1 - 1) == key)) {
            bind_slot_remember(w, key, i);
            return i;
        }
    }
}

/* The owners of (host, proto, port): a pointer to n handles (one is kept
 * in *one), or NULL. */
static const uint32_t *owners_of(const sm_world *w, sm_id host, sm_proto proto,
                                 uint16_t port, uint32_t *one, uint32_t *n)
{
    size_t i = bind_slot(w, bind_key(host, proto, port));
    *n = 0;
    if (i == SIZE_MAX)
        return NULL;
    uint32_t v = w->btab[i].h1 - 1;
    if (is_bucket(v)) {
        sm__bucket *b = &w->buckets[v & ~SM__BUCKET_BIT];
        *n = b->n;
        return sm__bucket_ids(b);
    }
    *one = v;
    *n = 1;
    return one;
}

/* Views of the owners ids[0..cnt) other than `except`, in the world's
 * scratch buffer.  Out of memory: none (the world breaks; the caller's
 * decision is not used). */
static inline size_t collect_views(sm_world *w, const uint32_t *ids, uint32_t cnt,
                                   sm_id except)
{
    size_t n = 0;
    if (cnt > w->scratchcap) {
        sm_sock_view *v = sm__realloc(w, w->scratch, cnt * 2 * sizeof *w->scratch);
        if (!v)
            return 0;
        w->scratch = v;
        w->scratchcap = cnt * 2;
    }
    for (uint32_t i = 0; i < cnt; i++) {
        uint32_t h = ids[i];
        if (h & SM__TW_BIT)
            sm__tw_view_fill(w, h & ~SM__TW_BIT, &w->scratch[n++]);
        else if (h != except)
            sm__view_fill(w, h, &w->scratch[n++]);
    }
    return n;
}

size_t sm__collect_owners(sm_world *w, sm_id host, sm_proto proto,
                          uint16_t port, sm_id except)
{
    uint32_t one, cnt;
    const uint32_t *ids = owners_of(w, host, proto, port, &one, &cnt);
    return ids ? collect_views(w, ids, cnt, except) : 0;
}

static void set_bslot(sm_world *w, uint32_t handle, uint32_t slot)
{
    if (handle & SM__TW_BIT)
        sm__tw_at(w, handle & ~SM__TW_BIT)->bslot = slot;
    else
        w->socks[handle].bslot = slot;
}

/* ---- the entries of the bind table ------------------------------------ */

/* A free bucket, or SM__NONE32 (out of memory). */
static uint32_t bucket_new(sm_world *w)
{
    uint32_t bi;
    if (w->bucket_free != SM__NONE32) {
        bi = w->bucket_free;
        w->bucket_free = w->buckets[bi].u.inl[0];
    } else {
        SM__GROW(w, w->buckets, w->nbuckets, w->bucketcap, return SM__NONE32);
        bi = (uint32_t)w->nbuckets++;
    }
    memset(&w->buckets[bi], 0, sizeof w->buckets[bi]);
    w->buckets[bi].pstate = SM__NONE32;
    return bi;
}

static void bucket_free(sm_world *w, uint32_t bi)
{
    sm__bucket *b = &w->buckets[bi];
    if (b->n > SM__BUCKET_INLINE)
        free(b->u.heap);
    b->n = 0;
    b->u.inl[0] = w->bucket_free;
    w->bucket_free = bi;
}

/* The bucket of the port in slot i; a single owner held in the slot
 * itself first becomes a bucket of one.  NULL: out of memory. */
static inline sm__bucket *slot_bucket(sm_world *w, size_t i)
{
    uint32_t v = w->btab[i].h1 - 1;
    if (is_bucket(v))
        return &w->buckets[v & ~SM__BUCKET_BIT];
    uint32_t bi = bucket_new(w);
    if (bi == SM__NONE32)
        return NULL;
    sm__bucket *b = &w->buckets[bi];
    b->n = 1;
    b->u.inl[0] = v;
    set_bslot(w, v, 0);
    w->btab[i].h1 = (bi | SM__BUCKET_BIT) + 1;
    return b;
}

/* Back to a single owner, held in the slot itself. */
static void slot_unbucket(sm_world *w, size_t i, uint32_t bi)
{
    uint32_t owner = sm__bucket_ids(&w->buckets[bi])[0];
    w->btab[i].h1 = owner + 1;
    set_bslot(w, owner, 0);
    bucket_free(w, bi);
}

/* ---- per-port profile state (sm_port_state) ---------------------------- */

/* A port's state lives with its owners: its bucket holds the index of the
 * state (a port with state and one owner keeps a bucket of one), so that
 * the lookup of the owners finds it, and it goes with the last owner. */
static void pstate_release(sm_world *w, uint32_t i)
{
    w->pstates[i].w[0] = w->pstate_free;
    w->pstate_free = i;
}

void sm__decision_port(sm_world *w, sm_id host, sm_proto proto, uint16_t port,
                       sm_id except, sm_bind_ctx *c)
{
    uint64_t key = bind_key(host, proto, port);
    size_t i = bind_slot(w, key);
    uint32_t one = SM__NONE32, cnt = 0, ps = SM__NONE32;
    const uint32_t *ids = &one;
    if (i != SIZE_MAX) {
        one = w->btab[i].h1 - 1;
        cnt = 1;
        if (is_bucket(one)) {
            sm__bucket *b = &w->buckets[one & ~SM__BUCKET_BIT];
            ids = sm__bucket_ids(b);
            cnt = b->n;
            ps = b->pstate;
        }
    }
    c->n_owners = cnt ? collect_views(w, ids, cnt, except) : 0;
    c->owners = w->scratch;
    w->port_scratch_key = key;
    if (ps != SM__NONE32)
        w->port_scratch = w->pstates[ps];
    else
        memset(&w->port_scratch, 0, sizeof w->port_scratch);
    c->port = &w->port_scratch;
}

void sm__port_state_commit(sm_world *w, sm_id host, sm_proto proto, uint16_t port)
{
    uint64_t key = bind_key(host, proto, port);
    if (key != w->port_scratch_key)
        return;
    size_t i = bind_slot(w, key);
    if (i == SIZE_MAX)
        return; /* no owner: nothing to keep it for */
    const sm_port_state *ps = &w->port_scratch;
    _Static_assert(sizeof ps->w / sizeof ps->w[0] == 4, "four words of port state");
    if ((ps->w[0] | ps->w[1] | ps->w[2] | ps->w[3]) == 0) {
        uint32_t v = w->btab[i].h1 - 1;
        if (!is_bucket(v))
            return;
        uint32_t bi = v & ~SM__BUCKET_BIT;
        sm__bucket *b = &w->buckets[bi];
        if (b->pstate == SM__NONE32)
            return;
        pstate_release(w, b->pstate);
        b->pstate = SM__NONE32;
        if (b->n == 1)
            slot_unbucket(w, i, bi);
        return;
    }
    sm__bucket *b = slot_bucket(w, i);
    if (!b)
        return; /* out of memory: the world breaks */
    if (b->pstate == SM__NONE32) {
        if (w->pstate_free != SM__NONE32) {
            b->pstate = w->pstate_free;
            w->pstate_free = (uint32_t)w->pstates[b->pstate].w[0];
        } else {
            SM__GROW(w, w->pstates, w->npstates, w->pstatecap, return);
            b->pstate = (uint32_t)w->npstates++;
        }
    }
    w->pstates[b->pstate] = *ps;
}

/* Enter an owner (socket id, or TIME_WAIT handle) in its port's entry: a
 * port's first owner sits in the table slot itself; a second one turns the
 * slot into a bucket, in the order the owners came. */
bool sm__table_insert(sm_world *w, uint32_t handle)
{
    uint64_t key = handle_key(w, handle);
    size_t i = bind_slot(w, key);
    if (i == SIZE_MAX) {
        if (!sm__slots_reserve(&w->btab, &w->bcap, w->bcount)) {
            sm__oom(w);
            return false;
        }
        bind_slot_remember(w, key, sm__slots_put(w->btab, w->bcap, bind_hash(key), handle));
        w->bcount++;
        set_bslot(w, handle, 0);
        return true;
    }
    sm__bucket *b = slot_bucket(w, i);
    if (!b)
        return false;
    if (b->n == SM__BUCKET_INLINE) {
        /* Inline storage full: the owners move to the heap. */
        uint32_t *heap = sm__realloc(w, NULL, sm__bucket_room(b->n + 1) * sizeof *heap);
        if (!heap)
            return false;
        memcpy(heap, b->u.inl, sizeof b->u.inl);
        b->u.heap = heap;
    } else if (b->n > SM__BUCKET_INLINE && b->n == sm__bucket_room(b->n)) {
        uint32_t *heap = sm__realloc(w, b->u.heap, sm__bucket_room(b->n + 1) * sizeof *heap);
        if (!heap)
            return false;
        b->u.heap = heap;
    }
    set_bslot(w, handle, b->n);
    b->n++;
    sm__bucket_ids(b)[b->n - 1] = handle;
    return true;
}

void sm__table_remove(sm_world *w, uint32_t handle)
{
    uint64_t key = handle_key(w, handle);
    size_t i = bind_slot(w, key);
    if (i == SIZE_MAX)
        return;
    uint32_t v = w->btab[i].h1 - 1;
    if (v != handle) {
        if (!is_bucket(v))
            return; /* not an owner of its port */
        uint32_t bi = v & ~SM__BUCKET_BIT;
        sm__bucket *b = &w->buckets[bi];
        uint32_t *ids = sm__bucket_ids(b);
        uint32_t slot = handle & SM__TW_BIT ? sm__tw_at(w, handle & ~SM__TW_BIT)->bslot
                                            : w->socks[handle].bslot;
        uint32_t last = ids[--b->n];
        ids[slot] = last;
        set_bslot(w, last, slot);
        if (b->n == SM__BUCKET_INLINE) {
            /* Few enough to be kept inline again. */
            uint32_t *heap = b->u.heap;
            memcpy(b->u.inl, heap, sizeof b->u.inl);
            free(heap);
        }
        if (b->n > 0) {
            if (b->n == 1 && b->pstate == SM__NONE32)
                slot_unbucket(w, i, bi);
            return;
        }
        /* The port has no owner left: its profile state goes with it. */
        if (b->pstate != SM__NONE32)
            pstate_release(w, b->pstate);
        bucket_free(w, bi);
    }
    sm__slots_del_at(w->btab, w->bcap, i); /* may move other ports' slots */
    bind_slot_remember(w, key, SIZE_MAX);
    w->bcount--;
}

/* ---- ephemeral port choice (engine side of sm_pick_ctx) ---------------- */

void sm__pick_port_ctx(sm_pick_ctx *c, uint16_t port, sm_bind_ctx *out)
{
    memset(out, 0, sizeof *out);
    sm__decision_port(c->w, c->host, c->self.proto, port, c->self.id, out);
    out->check = SM_CHECK_AUTOBIND;
    out->tun = c->w->hosts[c->host].tun;
    out->self = c->self;
    out->self.port = port;
    out->now_ms = c->w->now_ns / 1000000u;
    if (c->connecting) {
        out->check = SM_CHECK_CONNECT_PORT;
        out->loopback = sm_addr_is_loopback(&c->self.remote.addr);
    }
}

void sm__pick_takeover(sm_pick_ctx *c, const sm_sock_view *tw)
{
    /* Find the entry's handle again among its port's owners: its binding
     * sequence number is unique on the host. */
    c->takeover = SM__NONE32;
    uint32_t one, n;
    const uint32_t *ids = owners_of(c->w, c->host, c->self.proto, tw->port, &one, &n);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t h = ids[k];
        if ((h & SM__TW_BIT) && sm__tw_seq(c->w, sm__tw_at(c->w, h & ~SM__TW_BIT)) == tw->seq) {
            c->takeover = h;
            return;
        }
    }
}

uint64_t sm__pick_dest_hash(const sm_pick_ctx *c)
{
    uint64_t st = c->w->seed ^ 0x243f6a8885a308d3ULL;
    const sm_sock_view *v = &c->self;
    uint64_t h = sm__splitmix64(&st);
    for (int i = 0; i < 16; i++) {
        h ^= (uint64_t)v->local_addr.b[i] << ((i % 8) * 8);
        h ^= (uint64_t)v->remote.addr.b[i] << (((i + 3) % 8) * 8);
        if (i % 8 == 7) {
            st ^= h;
            h = sm__splitmix64(&st);
        }
    }
    st ^= h ^ v->remote.port;
    return sm__splitmix64(&st);
}

uint64_t sm__pick_rand(sm_pick_ctx *c)
{
    return sm__splitmix64(&c->w->hosts[c->host].rng);
}

const int64_t *sm__pick_tun(const sm_pick_ctx *c)
{
    return c->w->hosts[c->host].tun;
}

uint64_t *sm__pick_state(sm_pick_ctx *c)
{
    return c->w->hosts[c->host].pstate;
}

const sm_sock_view *sm__pick_self(const sm_pick_ctx *c) { return &c->self; }


/* A specific address (a v4-mapped wildcard names none either).  Read in
 * place: a canonical copy built byte by byte and read back whole stalled
 * the store forward on every bind (bench/NOTES.md). */
static bool names_addr(const sm_addr *addr)
{
    static const uint8_t zero[4];
    if (sm__addr_is_v4mapped(addr))
        return memcmp(addr->b + 12, zero, 4) != 0;
    return !sm__addr_is_any(addr);
}

bool sm__take_port(sm_world *w, sm_id id, const sm_addr *addr, uint16_t port,
                   enum sm_how_bound how)
{
    sm__sock *s = &w->socks[id];
    /* bind() names the address (a wildcard names none); connect() keeps
     * what an address-only bind named; an accepted connection takes its
     * listener's (sm_input.c). */
    if (how == SM_BOUND_EXPLICIT || how == SM_BOUND_AUTO)
        s->addr_named = names_addr(addr);
    else if (how == SM_BOUND_CONNECT)
        s->addr_named = s->addr_only && names_addr(addr);
    s->bound = true;
    s->name_kept = false;
    s->addr_only = false;
    s->how = how;
    s->bound_addr = s->local_addr = *addr;
    s->port = port;
    s->at_bind = s->opt;
    s->seq = ++w->hosts[s->host].bind_seq;
    if (sm__table_insert(w, id))
        return true;
    s->bound = false; /* out of memory: it holds no port */
    s->how = SM_UNBOUND;
    s->port = 0;
    return false;
}

void sm__ports_free(sm_world *w)
{
    for (size_t i = 0; i < w->nbuckets; i++)
        if (w->buckets[i].n > SM__BUCKET_INLINE)
            free(w->buckets[i].u.heap);
    free(w->buckets);
    free(w->scratch);
    sm__slots_free(w->btab, w->bcap);
    free(w->pstates);
}
