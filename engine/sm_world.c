/*
 * sm_world.c - the world: hosts, users, processes, sockets, the bind table,
 * and the calls that do not need a connection (socket, setsockopt, bind,
 * listen, process exit; close() is with the connection teardown, sm_tcp.c).
 *
 * The engine keeps state and asks the profile for every decision that
 * differs between operating systems.  What is common to all of them stays
 * here: a closed descriptor is EBADF, a bound socket cannot bind again,
 * an address must belong to the host, a UDP socket cannot listen.
 */
#include "sm_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *sm__xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("sockmodel: out of memory\n", stderr);
        abort();
    }
    return q;
}

char *sm__xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = sm__xrealloc(NULL, n);
    memcpy(d, s, n);
    return d;
}

#define GROW(arr, n, cap)                                                    \
    do {                                                                     \
        if ((n) == (cap)) {                                                  \
            (cap) = (cap) ? (cap) * 2 : 8;                                   \
            (arr) = sm__xrealloc((arr), (cap) * sizeof *(arr));              \
        }                                                                    \
    } while (0)

uint64_t sm__splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* ---- profiles ---------------------------------------------------------- */

const char *sm_profile_name(const sm_profile *p) { return p->name; }
const char *sm_profile_summary(const sm_profile *p) { return p->summary; }

const char *sm_profile_err_name(const sm_profile *p, sm_err e)
{
    const char *n = (e != SM_OK && p->native_err_name) ? p->native_err_name(e) : NULL;
    return n ? n : sm_err_name(e);
}

bool sm_profile_err_matches(const sm_profile *p, sm_err e, const char *name)
{
    sm_err parsed;
    if (sm_err_parse(name, &parsed) && parsed == e)
        return true;
    return e != SM_OK && strcmp(sm_profile_err_name(p, e), name) == 0;
}

/* ---- world, hosts, users, processes ------------------------------------ */

sm_world *sm_world_new(const sm_profile *p, uint64_t seed)
{
    sm_world *w = sm__xrealloc(NULL, sizeof *w);
    memset(w, 0, sizeof *w);
    w->profile = p;
    w->seed = seed;
    w->bucket_free = SM__NONE32;
    w->pstate_free = SM__NONE32;
    w->port_scratch_key = UINT64_MAX;
    w->tw_free = SM__NONE32;
    w->last_name = SM__NONE32;
    return w;
}

void sm_world_free(sm_world *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nhosts; i++) {
        free(w->hosts[i].name);
        free(w->hosts[i].addrs);
    }
    for (size_t i = 0; i < w->nusers; i++)
        free(w->users[i].name);
    for (size_t i = 0; i < w->nprocs; i++) {
        free(w->procs[i].name);
        free(w->procs[i].socks);
    }
    for (size_t i = 0; i < w->nname_blocks; i++)
        free(w->name_blocks[i]);
    free(w->name_blocks);
    free(w->interned);
    free(w->interned_len);
    sm__slots_free(w->itab, w->icap);
    for (size_t i = 0; i < w->nbuckets; i++)
        if (w->buckets[i].n > SM__BUCKET_INLINE)
            free(w->buckets[i].u.heap);
    for (size_t i = 0; i < w->nsocks; i++) {
        free(w->socks[i].acceptq);
        free(w->socks[i].synq);
    }
    free(w->free_socks);
    free(w->hosts);
    free(w->users);
    free(w->procs);
    free(w->socks);
    free(w->buckets);
    free(w->scratch);
    sm__net_free(w);
    sm__slots_free(w->btab, w->bcap);
    sm__map_free(&w->addr_index);
    free(w->pstates);
    free(w);
}

const sm_profile *sm_world_profile(const sm_world *w) { return w->profile; }

static void host_push_addr(sm__host *h, const sm_addr *a)
{
    GROW(h->addrs, h->naddrs, h->addrcap);
    h->addrs[h->naddrs++] = *a;
}

sm_id sm_host_add(sm_world *w, const char *name)
{
    sm_id id = sm_host_find(w, name);
    if (id != SM_NONE)
        return id;
    GROW(w->hosts, w->nhosts, w->hostcap);
    sm__host *h = &w->hosts[w->nhosts];
    memset(h, 0, sizeof *h);
    h->name = sm__xstrdup(name);
    h->tw_oldest = h->tw_newest = SM__NONE32;
    memcpy(h->tun, w->profile->defaults, sizeof h->tun);
    /* Each host draws from its own stream, so adding a host does not change
     * the random choices of the others. */
    h->rng = w->seed ^ (0x5851f42d4c957f2dULL * (w->nhosts + 1));
    sm_addr lo4, lo6;
    sm_addr_parse("127.0.0.1", 9, &lo4);
    sm_addr_parse("::1", 3, &lo6);
    host_push_addr(h, &lo4);
    host_push_addr(h, &lo6);
    return (sm_id)w->nhosts++;
}

sm_id sm_host_find(const sm_world *w, const char *name)
{
    for (size_t i = 0; i < w->nhosts; i++)
        if (strcmp(w->hosts[i].name, name) == 0)
            return (sm_id)i;
    return SM_NONE;
}

bool sm_host_has_addr(const sm_world *w, sm_id host, const sm_addr *a)
{
    const sm__host *h = &w->hosts[host];
    for (size_t i = 0; i < h->naddrs; i++)
        if (sm__addr_eq(&h->addrs[i], a))
            return true;
    return false;
}

uint64_t sm__addr_key(const sm_addr *a)
{
    uint64_t h = a->family, x, y;
    memcpy(&x, a->b, 8);
    memcpy(&y, a->b + 8, 8);
    h = sm__splitmix64(&h) ^ x;
    h = sm__splitmix64(&h) ^ y;
    return sm__splitmix64(&h);
}

bool sm_host_add_addr(sm_world *w, sm_id host, const sm_addr *a)
{
    if (sm_host_has_addr(w, host, a))
        return false;
    host_push_addr(&w->hosts[host], a);
    /* The first host to claim an address receives its packets. */
    uint32_t prev;
    if (!sm_addr_is_loopback(a) && !sm__map_get(&w->addr_index, sm__addr_key(a), &prev))
        sm__map_put(&w->addr_index, sm__addr_key(a), host);
    return true;
}

const char *sm_host_name(const sm_world *w, sm_id host)
{
    return host < w->nhosts ? w->hosts[host].name : "?";
}

sm_id sm_user_get(sm_world *w, const char *name)
{
    uint32_t next_uid = 1000;
    for (size_t i = 0; i < w->nusers; i++) {
        if (strcmp(w->users[i].name, name) == 0)
            return (sm_id)i;
        if (!w->users[i].privileged)
            next_uid++;
    }
    GROW(w->users, w->nusers, w->usercap);
    sm__user *u = &w->users[w->nusers];
    u->name = sm__xstrdup(name);
    u->privileged = strcmp(name, "root") == 0;
    u->uid = u->privileged ? 0 : next_uid;
    return (sm_id)w->nusers++;
}

uint32_t sm_user_uid(const sm_world *w, sm_id user)
{
    return w->users[user].uid;
}

sm_id sm_proc_get(sm_world *w, sm_id host, const char *name, sm_id user)
{
    for (size_t i = w->nprocs; i > 0; i--) {
        sm__proc *p = &w->procs[i - 1];
        if (p->alive && p->host == host && strcmp(p->name, name) == 0)
            return (sm_id)(i - 1);
    }
    GROW(w->procs, w->nprocs, w->proccap);
    sm__proc *p = &w->procs[w->nprocs];
    memset(p, 0, sizeof *p);
    p->name = sm__xstrdup(name);
    p->host = host;
    p->user = user;
    p->alive = true;
    return (sm_id)w->nprocs++;
}

/* ---- tunables ---------------------------------------------------------- */

static bool parse_i64(const char *s, int64_t *out)
{
    char *end;
    if (!*s)
        return false;
    long long v = strtoll(s, &end, 10);
    if (*end)
        return false;
    *out = v;
    return true;
}

const char *sm_sysctl(sm_world *w, sm_id host, const char *key,
                      const char *const *values, size_t nvalues)
{
    char *msg = w->errmsg;
    const size_t msgsize = sizeof w->errmsg;
    const sm_profile *p = w->profile;
    const sm_sysctl_def *d = NULL;
    for (size_t i = 0; i < p->n_sysctls; i++)
        if (strcmp(p->sysctls[i].key, key) == 0)
            d = &p->sysctls[i];
    if (!d) {
        snprintf(msg, msgsize, "%s has no tunable '%s'", p->name, key);
        return msg;
    }
    if (nvalues != (size_t)d->nvalues) {
        snprintf(msg, msgsize, "%s takes %d value%s", key, d->nvalues,
                 d->nvalues == 1 ? "" : "s");
        return msg;
    }
    int64_t v[2];
    for (size_t i = 0; i < nvalues; i++) {
        if (!parse_i64(values[i], &v[i]) || v[i] < d->min || v[i] > d->max) {
            snprintf(msg, msgsize, "%s: '%s' is not an integer from %lld to %lld",
                     key, values[i], (long long)d->min, (long long)d->max);
            return msg;
        }
    }
    for (size_t i = 0; i < nvalues; i++)
        w->hosts[host].tun[d->slot[i]] = v[i] * d->scale + d->offset;
    return NULL;
}

/* ---- views and the bind table ------------------------------------------ */

/* A socket record holds the members of its view from proto to listen_seq
 * in the view's own layout (sm_internal.h); these keep it so. */
#define VIEW_AT(sm, vm)                                                             \
    _Static_assert(offsetof(sm__sock, sm) - offsetof(sm__sock, proto) ==             \
                           offsetof(sm_sock_view, vm) - offsetof(sm_sock_view, proto) && \
                       sizeof(((sm__sock *)0)->sm) == sizeof(((sm_sock_view *)0)->vm),  \
                   "sm__sock." #sm " lies where sm_sock_view." #vm " does")
VIEW_AT(family, family);
VIEW_AT(bound_addr, bound_addr);
VIEW_AT(local_addr, local_addr);
VIEW_AT(port, port);
VIEW_AT(state, state);
VIEW_AT(bound, bound);
VIEW_AT(connected, connected);
VIEW_AT(remote, remote);
VIEW_AT(nonblock, time_wait);
VIEW_AT(fd_open, fd_open);
VIEW_AT(opt, now);
VIEW_AT(at_bind, at_bind);
VIEW_AT(uid, uid);
VIEW_AT(privileged, privileged);
VIEW_AT(how, how);
VIEW_AT(seq, seq);
VIEW_AT(listen_seq, listen_seq);
#define VIEW_BLOCK (offsetof(sm_sock_view, listen_seq) + sizeof(uint64_t) - \
                    offsetof(sm_sock_view, proto))

/* Fills *v in place: one block copy from proto to listen_seq, then the
 * members the record does not hold as they are.  Inline in this file's
 * decisions (several per socket); sm__view_fill() for the others. */
static inline void view_fill(const sm_world *w, sm_id id, sm_sock_view *v)
{
    const sm__sock *s = &w->socks[id];
    v->id = id;
    v->name = s->name;
    memcpy(&v->proto, &s->proto, VIEW_BLOCK);
    v->time_wait = s->state == SM_TIME_WAIT && !s->fd_open;
    if (!s->bound)
        v->at_bind = s->opt;
    v->tw_since_ms = 0;
    v->tw_ts = false;
    v->accepted = s->how == SM_BOUND_ACCEPTED;
    if (!v->name) /* last, so that the usual path calls nothing */
        v->name = sm__sock_name(w, id);
}

void sm__view_fill(const sm_world *w, sm_id id, sm_sock_view *v)
{
    view_fill(w, id, v);
}

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
 * scratch buffer. */
static inline size_t collect_views(sm_world *w, const uint32_t *ids, uint32_t cnt,
                                   sm_id except)
{
    size_t n = 0;
    if (cnt > w->scratchcap) {
        w->scratchcap = cnt * 2;
        w->scratch = sm__xrealloc(w->scratch, w->scratchcap * sizeof *w->scratch);
    }
    for (uint32_t i = 0; i < cnt; i++) {
        uint32_t h = ids[i];
        if (h & SM__TW_BIT)
            sm__tw_view_fill(w, h & ~SM__TW_BIT, &w->scratch[n++]);
        else if (h != except)
            view_fill(w, h, &w->scratch[n++]);
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

static uint32_t bucket_new(sm_world *w)
{
    uint32_t bi;
    if (w->bucket_free != SM__NONE32) {
        bi = w->bucket_free;
        w->bucket_free = w->buckets[bi].u.inl[0];
    } else {
        GROW(w->buckets, w->nbuckets, w->bucketcap);
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
 * itself first becomes a bucket of one. */
static inline sm__bucket *slot_bucket(sm_world *w, size_t i)
{
    uint32_t v = w->btab[i].h1 - 1;
    if (is_bucket(v))
        return &w->buckets[v & ~SM__BUCKET_BIT];
    uint32_t bi = bucket_new(w);
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
    if (b->pstate == SM__NONE32) {
        if (w->pstate_free != SM__NONE32) {
            b->pstate = w->pstate_free;
            w->pstate_free = (uint32_t)w->pstates[b->pstate].w[0];
        } else {
            GROW(w->pstates, w->npstates, w->pstatecap);
            b->pstate = (uint32_t)w->npstates++;
        }
    }
    w->pstates[b->pstate] = *ps;
}

/* Enter an owner (socket id, or TIME_WAIT handle) in its port's entry: a
 * port's first owner sits in the table slot itself; a second one turns the
 * slot into a bucket, in the order the owners came. */
void sm__table_insert(sm_world *w, uint32_t handle)
{
    uint64_t key = handle_key(w, handle);
    size_t i = bind_slot(w, key);
    if (i == SIZE_MAX) {
        sm__slots_reserve(&w->btab, &w->bcap, w->bcount);
        bind_slot_remember(w, key, sm__slots_put(w->btab, w->bcap, bind_hash(key), handle));
        w->bcount++;
        set_bslot(w, handle, 0);
        return;
    }
    sm__bucket *b = slot_bucket(w, i);
    if (b->n == SM__BUCKET_INLINE) {
        /* Inline storage full: the owners move to the heap. */
        uint32_t *heap = sm__xrealloc(NULL, sm__bucket_room(b->n + 1) * sizeof *heap);
        memcpy(heap, b->u.inl, sizeof b->u.inl);
        b->u.heap = heap;
    } else if (b->n > SM__BUCKET_INLINE && b->n == sm__bucket_room(b->n)) {
        b->u.heap = sm__xrealloc(b->u.heap, sm__bucket_room(b->n + 1) * sizeof *b->u.heap);
    }
    set_bslot(w, handle, b->n);
    b->n++;
    sm__bucket_ids(b)[b->n - 1] = handle;
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

/* ---- calls ------------------------------------------------------------- */

static bool sock_ok(const sm_world *w, sm_id s)
{
    return s < w->nsocks && w->socks[s].fd_open;
}

/* Interned bytes live in blocks that never move (one allocation per
 * NAME_BLOCK bytes, not one per name): views and results hand out pointers
 * to names for the life of the world.  Bytes longer than a block's
 * remainder start a new block of at least their own size.  Each distinct
 * string is stored once, so a million sockets named "c" cost one copy. */
#define NAME_BLOCK 65536
static const char *bytes_store(sm_world *w, const void *bytes, size_t n)
{
    if (!w->nname_blocks || w->name_used + n > w->name_block_size) {
        size_t size = n > NAME_BLOCK ? n : NAME_BLOCK;
        GROW(w->name_blocks, w->nname_blocks, w->name_block_cap);
        w->name_blocks[w->nname_blocks++] = sm__xrealloc(NULL, size);
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
        w->interncap = w->interncap ? w->interncap * 2 : 16;
        w->interned = sm__xrealloc(w->interned, w->interncap * sizeof *w->interned);
        w->interned_len = sm__xrealloc(w->interned_len, w->interncap * sizeof *w->interned_len);
    }
    uint32_t id = (uint32_t)w->ninterned++;
    w->interned[id] = bytes_store(w, bytes, n);
    w->interned_len[id] = (uint32_t)n;
    sm__slots_reserve(&w->itab, &w->icap, id);
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
    s->name_id = sm__name_id(w, nm);
    s->name = w->interned[s->name_id];
    return s->name;
}

/* A new socket's name and a zeroed record for it: inline in socket(),
 * sm__name_for_socket() and sm__sock_alloc() for accept(). */
static inline const char *name_for_socket(sm_world *w, const char *name, uint32_t *id)
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
        *id = w->last_name = sm__name_id(w, name);
        return w->interned[*id];
    }
    *id = SM__NONE32;
    return bytes_store(w, name, strlen(name) + 1);
}

const char *sm__name_for_socket(sm_world *w, const char *name, uint32_t *id)
{
    return name_for_socket(w, name, id);
}

/* Zeroes a record in 64-byte steps: compilers turn one memset of a few
 * hundred bytes into `rep stos`, which costs dozens of cycles to start. */
static void zero_record(void *p, size_t n)
{
    unsigned char *c = p;
    for (; n >= 64; n -= 64, c += 64)
        memset(c, 0, 64);
    memset(c, 0, n);
}

static inline sm_id sock_alloc(sm_world *w)
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
            fputs("sockmodel: too many sockets (2^30)\n", stderr);
            abort();
        }
        GROW(w->socks, w->nsocks, w->sockcap);
        id = (sm_id)w->nsocks++;
    }
    zero_record(&w->socks[id], sizeof w->socks[id]);
    w->socks[id].tpos = SM__NONE32;
    w->socks[id].name_id = SM__NONE32;
    return id;
}

sm_id sm__sock_alloc(sm_world *w) { return sock_alloc(w); }

void sm_world_set_recycle(sm_world *w, bool on) { w->recycle = on; }

sm_result sm_socket(sm_world *w, sm_id proc, sm_proto proto, int family,
                    const char *name, sm_id *out)
{
    if (family != 4 && family != 6)
        return sm__rfail(SM_EAFNOSUPPORT, "address family must be IPv4 or IPv6");
    sm_id id = sock_alloc(w);
    sm__proc *p = &w->procs[proc];
    sm__sock *s = &w->socks[id];
    s->name = name_for_socket(w, name, &s->name_id);
    s->host = p->host;
    s->proc = proc;
    /* Credentials are those of the creator at socket() time (Linux
     * sock_i_uid(); BSD so_cred), not of whoever binds later. */
    s->uid = w->users[p->user].uid;
    s->privileged = w->users[p->user].privileged;
    s->proto = proto;
    s->family = family;
    s->fd_open = true;
    s->opt.v6only = family == 6 && w->hosts[p->host].tun[SM_TUN_V6ONLY_DEFAULT];
    /* The record is zeroed: the wildcard address needs only its family. */
    s->bound_addr.family = s->local_addr.family = (uint8_t)family;
    s->tw = SM__NONE32;
    s->listener = SM_NONE;
    s->accepted = true;
    GROW(p->socks, p->nsocks, p->sockcap);
    s->pslot = (uint32_t)p->nsocks;
    p->socks[p->nsocks++] = id;
    *out = id;
    sm_result r = sm__rfail(SM_OK, "a new socket holds no port yet");
    return r;
}

sm_result sm_setsockopt(sm_world *w, sm_id id, sm_option opt, int v1, int v2)
{
    if (!sock_ok(w, id))
        return sm__rfail(SM_EBADF, "the descriptor is closed");
    if (opt == SM_O_NONBLOCK) {
        w->socks[id].nonblock = v1 != 0;
        return sm__rfail(SM_OK, "O_NONBLOCK is a descriptor flag (fcntl), the same on every OS");
    }
    sm_sock_view me;
    view_fill(w, id, &me);
    sm_verdict v = w->profile->setsockopt(&me, opt, v1, v2);
    if (v.err != SM_OK)
        return sm__result_of(&v, NULL);
    sm_opts *o = &w->socks[id].opt;
    switch (opt) {
    case SM_SO_REUSEADDR: o->reuseaddr = v1 != 0; break;
    case SM_SO_REUSEPORT: o->reuseport = v1 != 0; break;
    case SM_SO_REUSEPORT_LB: o->reuseport_lb = v1 != 0; break;
    case SM_SO_EXCLUSIVEADDRUSE: o->exclusiveaddruse = v1 != 0; break;
    case SM_SO_EXCLBIND: o->exclbind = v1 != 0; break;
    case SM_IPV6_V6ONLY: o->v6only = v1 != 0; break;
    case SM_SO_LINGER:
        o->linger_on = v1 != 0;
        o->linger_s = v2 < 0 ? 0 : (uint32_t)v2;
        break;
    case SM_SO_LINGER_SEC: {
        /* Seconds, stored in the profile's linger unit (XNU: v2 * hz). */
        uint32_t hz = w->profile->tcp->linger_hz ? w->profile->tcp->linger_hz : 1;
        o->linger_on = v1 != 0;
        o->linger_s = v2 < 0 ? 0 : (uint32_t)v2 * hz;
        break;
    }
    default: break;
    }
    return sm__result_of(&v, NULL);
}

/* Take the port: latch options, enter the bind table. */
void sm__take_port(sm_world *w, sm_id id, const sm_addr *addr, uint16_t port,
                   enum sm_how_bound how)
{
    sm__sock *s = &w->socks[id];
    s->bound = true;
    s->how = how;
    s->bound_addr = s->local_addr = *addr;
    s->port = port;
    s->at_bind = s->opt;
    s->seq = ++w->hosts[s->host].bind_seq;
    sm__table_insert(w, id);
}

/* Ask the profile for an ephemeral port for socket id at addr. */
static sm_result autobind(sm_world *w, sm_id id, const sm_addr *addr,
                          sm_tcp_state as_state)
{
    sm_pick_ctx c;
    memset(&c, 0, sizeof c);
    c.takeover = SM__NONE32;
    c.w = w;
    c.host = w->socks[id].host;
    view_fill(w, id, &c.self);
    c.self.bound_addr = c.self.local_addr = *addr;
    c.self.state = as_state;
    uint16_t port = 0;
    sm_verdict v = w->profile->pick_port(&c, &port);
    if (v.err != SM_OK)
        return sm__result_of(&v, NULL);
    sm__take_port(w, id, addr, port, SM_BOUND_AUTO);
    sm__port_state_commit(w, c.host, c.self.proto, port);
    sm__on_bound(w, id);
    sm_result r = sm__result_of(&v, NULL);
    r.port = port;
    return r;
}

sm_result sm_bind(sm_world *w, sm_id id, const sm_endpoint *ep)
{
    if (!sock_ok(w, id))
        return sm__rfail(SM_EBADF, "the descriptor is closed");
    sm__sock *s = &w->socks[id];
    if (s->bound || s->state != SM_CLOSED || s->tw != SM__NONE32)
        return sm__rfail(SM_EINVAL, "the socket is already bound: bind() works once");
    if (s->family == 4 && ep->addr.family == 6)
        return sm__rfail(SM_EAFNOSUPPORT,
                    "an IPv6 address cannot be bound on an AF_INET socket");
    if (s->family == 6 && ep->addr.family == 4)
        return sm__rfail(SM_EINVAL,
                    "an AF_INET6 socket takes an IPv6 address (use ::ffff:a.b.c.d)");
    if (!sm__addr_is_any(&ep->addr) &&
        !(s->proto == SM_UDP && sm_addr_is_multicast(&ep->addr))) {
        /* A v4-mapped address is checked by its IPv4 part. */
        bool mapped = sm__addr_is_v4mapped(&ep->addr);
        sm_addr plain = ep->addr;
        if (mapped) {
            plain = sm__addr_any(4);
            memcpy(plain.b, ep->addr.b + 12, 4);
        }
        if (!(mapped && sm__addr_is_any(&plain)) && !sm_host_has_addr(w, s->host, &plain))
            return sm__rfail(SM_EADDRNOTAVAIL, "the address does not belong to this host");
    }
    if (ep->port == 0)
        return autobind(w, id, &ep->addr, SM_CLOSED);

    sm_bind_ctx c; /* every field is assigned: no memset of 200 bytes */
    c.check = SM_CHECK_BIND;
    c.loopback = false;
    c.tun = w->hosts[s->host].tun;
    view_fill(w, id, &c.self);
    c.self.bound_addr = c.self.local_addr = ep->addr;
    c.self.port = ep->port;
    sm__decision_port(w, s->host, s->proto, ep->port, id, &c);
    c.now_ms = w->now_ns / 1000000u;
    sm_verdict v = w->profile->bind(&c);
    sm_result r = sm__result_of(&v, c.owners);
    if (v.err == SM_OK) {
        sm__take_port(w, id, &ep->addr, ep->port, SM_BOUND_EXPLICIT);
        sm__port_state_commit(w, s->host, s->proto, ep->port);
        sm__on_bound(w, id);
    }
    return r;
}

sm_result sm_listen(sm_world *w, sm_id id, int backlog)
{
    if (!sock_ok(w, id))
        return sm__rfail(SM_EBADF, "the descriptor is closed");
    sm__sock *s = &w->socks[id];
    if (s->proto != SM_TCP)
        return sm__rfail(SM_EOPNOTSUPP, "only stream (TCP) sockets listen");
    if (s->state == SM_LISTEN) {
        s->backlog = backlog;
        return sm__rfail(SM_OK, "already listening: listen() again only changes the backlog");
    }
    if (s->state != SM_CLOSED || s->tw != SM__NONE32)
        return sm__rfail(SM_EINVAL, "a connected socket cannot listen");
    if (!s->bound) {
        sm_addr any = sm__addr_any(s->family);
        sm_result r = autobind(w, id, &any, SM_LISTEN);
        if (r.err != SM_OK)
            return r;
        s = &w->socks[id];
        s->state = SM_LISTEN;
        s->backlog = backlog;
        s->listen_seq = ++w->hosts[s->host].bind_seq;
        sm__listen_start(w, id);
        return r;
    }
    sm_bind_ctx c; /* every field is assigned */
    c.check = SM_CHECK_LISTEN;
    c.loopback = false;
    c.tun = w->hosts[s->host].tun;
    view_fill(w, id, &c.self);
    c.self.state = SM_LISTEN;
    sm__decision_port(w, s->host, s->proto, s->port, id, &c);
    c.now_ms = w->now_ns / 1000000u;
    sm_verdict v = w->profile->listen(&c);
    sm_result r = sm__result_of(&v, c.owners);
    if (v.err == SM_OK) {
        sm__port_state_commit(w, s->host, s->proto, s->port);
        s->state = SM_LISTEN;
        s->backlog = backlog;
        s->listen_seq = ++w->hosts[s->host].bind_seq;
        sm__listen_start(w, id);
    }
    return r;
}

static int cmp_id(const void *a, const void *b)
{
    sm_id x = *(const sm_id *)a, y = *(const sm_id *)b;
    return x < y ? -1 : x > y;
}

sm_result sm_proc_exit(sm_world *w, sm_id proc)
{
    sm__proc *p = &w->procs[proc];
    if (!p->alive)
        return sm__rfail(SM_EINVAL, "the process has already exited");
    /* Close in creation order so the outcome does not depend on the order
     * of the process's descriptor list. */
    size_t n = p->nsocks;
    sm_id *ids = sm__xrealloc(NULL, n * sizeof *ids);
    if (n)
        memcpy(ids, p->socks, n * sizeof *ids);
    qsort(ids, n, sizeof *ids, cmp_id);
    for (size_t i = 0; i < n; i++)
        if (w->socks[ids[i]].fd_open)
            sm__tcp_close(w, ids[i], true);
    free(ids);
    w->procs[proc].alive = false;
    const sm_tcp_rules *t = w->profile->tcp;
    return sm__rfail(SM_OK, t->exit_lingers ? t->exit_rule
                    : "the process exited: each of its descriptors was closed");
}

/* ---- observations ------------------------------------------------------- */

uint64_t sm_now(const sm_world *w) { return w->now_ns; }

sm_id sm_sock_find(const sm_world *w, const char *name)
{
    /* For tools and tests; the runner resolves names once at parse time. */
    for (size_t i = 0; i < w->nsocks; i++)
        if (strcmp(sm__sock_name(w, (sm_id)i), name) == 0)
            return (sm_id)i;
    return SM_NONE;
}

const char *sm_sock_name(const sm_world *w, sm_id s)
{
    return s < w->nsocks ? sm__sock_name(w, s) : "?";
}

sm_tcp_state sm_sock_state(const sm_world *w, sm_id s)
{
    if (s >= w->nsocks)
        return SM_CLOSED;
    if (w->socks[s].tw != SM__NONE32)
        return SM_TIME_WAIT;
    return w->socks[s].state;
}

bool sm_sock_local(const sm_world *w, sm_id s, sm_endpoint *out)
{
    if (s >= w->nsocks)
        return false;
    const sm__sock *k = &w->socks[s];
    if (k->tw != SM__NONE32) {
        const sm__tw *t = sm__tw_at(w, k->tw);
        sm_sock_view v;
        sm__tw_view_fill(w, k->tw, &v);
        out->addr = v.local_addr;
        out->port = t->lport;
        return true;
    }
    if (!k->bound)
        return false;
    out->addr = k->local_addr;
    out->port = k->port;
    return true;
}

bool sm_sock_remote(const sm_world *w, sm_id s, sm_endpoint *out)
{
    if (s >= w->nsocks)
        return false;
    const sm__sock *k = &w->socks[s];
    if (k->tw != SM__NONE32) {
        sm_sock_view v;
        sm__tw_view_fill(w, k->tw, &v);
        *out = v.remote;
        return true;
    }
    if (!k->connected)
        return false;
    *out = k->remote;
    return true;
}

int sm_sock_pending(const sm_world *w, sm_id s)
{
    if (s >= w->nsocks || w->socks[s].state != SM_LISTEN)
        return 0;
    return (int)w->socks[s].aq_n;
}

sm_id sm_sock_host(const sm_world *w, sm_id s)
{
    return s < w->nsocks ? w->socks[s].host : SM_NONE;
}

uint64_t sm_host_time_wait(const sm_world *w, sm_id host)
{
    return host < w->nhosts ? w->hosts[host].tw_count : 0;
}
