/*
 * sm_world.c - the world: hosts (and which host has an address), users,
 * processes, tunables, the profile's public accessors, and the helpers
 * every engine file uses.
 */
#include "sm_net.h"
#include "sm_port.h"
#include "sm_prof.h"
#include "sm_sock.h"
#include "sm_timewait.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sm_rule enomem_rule = SM_RULE("sm.limit.memory", S,
    "out of memory: the model could not allocate what this call needed; "
    "the world is left as it was before the allocation and refuses every "
    "later call (free it)",
    "");

const sm_rule sm__rule_sock_cap = SM_RULE("sm.limit.sockets", S,
    "the model holds at most 2^30 socket records", "");

static const sm_rule host_cap_rule = SM_RULE("sm.limit.hosts", S,
    "the model holds at most 2^22 hosts in one world", "");

void sm__break(sm_world *w, sm_err e, const sm_rule *rule)
{
    if (!w->broken) {
        w->broken = rule;
        w->broken_err = e;
        w->nsocks_usable = 0; /* calls on descriptors find out (sm__sock_ok) */
    }
}

void sm__oom(sm_world *w)
{
    sm__break(w, SM_ENOMEM, &enomem_rule);
}

void *sm__realloc(sm_world *w, void *p, size_t n)
{
    void *q = sm__alloc_refused() ? NULL : realloc(p, n ? n : 1);
    if (!q)
        sm__oom(w);
    return q;
}

char *sm__strdup(sm_world *w, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = sm__realloc(w, NULL, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

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
    const char *n = e != SM_OK ? sm__prof_native_err_name(p, e) : NULL;
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
    sm_world *w = sm__alloc_refused() ? NULL : malloc(sizeof *w);
    if (!w)
        return NULL;
    memset(w, 0, sizeof *w);
    w->profile = p;
    w->seed = seed;
    w->bucket_free = SM__NONE32;
    w->pstate_free = SM__NONE32;
    w->port_scratch_key = UINT64_MAX;
    w->tw_free = SM__NONE32;
    w->last_name = SM__NONE32;
    if (!sm__net_create(w)) {
        free(w);
        return NULL;
    }
    const sm_rule *unusable = sm__prof_unusable(p);
    if (unusable)
        sm__break(w, SM_EPROTO, unusable);
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
    sm__names_free(w);
    sm__ports_free(w);
    sm__socks_free(w);
    sm__tws_free(w);
    sm__net_free(w);
    free(w->hosts);
    free(w->users);
    free(w->procs);
    sm__map_free(&w->addr_index);
    sm__map_free(&w->host_index);
    sm__map_free(&w->proc_index);
    free(w);
}

const sm_profile *sm_world_profile(const sm_world *w) { return w->profile; }

const char *sm_world_broken(const sm_world *w, sm_err *err)
{
    if (err)
        *err = w->broken ? w->broken_err : SM_OK;
    return w->broken ? w->broken->text : NULL;
}

static bool host_push_addr(sm_world *w, sm__host *h, const sm_addr *a)
{
    SM__GROW(w, h->addrs, h->naddrs, h->addrcap, return false);
    h->addrs[h->naddrs++] = *a;
    return true;
}

/* The key of a host name in host_index (FNV-1a, then mixed). */
static uint64_t host_key(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        h = (h ^ *c) * 0x100000001b3ULL;
    return sm__splitmix64(&h);
}

sm_id sm_host_add(sm_world *w, const char *name)
{
    sm_id id = sm_host_find(w, name);
    if (id != SM_NONE || w->broken)
        return id;
    if (w->nhosts >= SM__MAX_HOSTS) {
        sm__break(w, SM_ENOMEM, &host_cap_rule);
        return SM_NONE;
    }
    /* the first host with its key is found through the index, the others
     * (a 64-bit collision) by a scan */
    uint32_t first;
    uint64_t key = host_key(name);
    if (!sm__map_get(&w->host_index, key, &first) &&
        !sm__map_put(&w->host_index, key, (uint32_t)w->nhosts)) {
        sm__oom(w);
        return SM_NONE;
    }
    SM__GROW(w, w->hosts, w->nhosts, w->hostcap, goto unindex);
    sm__host *h = &w->hosts[w->nhosts];
    memset(h, 0, sizeof *h);
    h->name = sm__strdup(w, name);
    if (!h->name)
        goto unindex;
    h->tw_oldest = h->tw_newest = SM__NONE32;
    h->prof = w->profile;
    memcpy(h->tun, h->prof->defaults, sizeof h->tun);
    /* Each host draws from its own stream, so adding a host does not change
     * the random choices of the others. */
    h->rng = w->seed ^ (0x5851f42d4c957f2dULL * (w->nhosts + 1));
    sm_addr lo4, lo6;
    sm_addr_parse("127.0.0.1", 9, &lo4);
    sm_addr_parse("::1", 3, &lo6);
    if (!host_push_addr(w, h, &lo4) || !host_push_addr(w, h, &lo6)) {
        free(h->addrs);
        free(h->name);
        goto unindex;
    }
    return (sm_id)w->nhosts++;
unindex:
    if (sm__map_get(&w->host_index, key, &first) && first == w->nhosts)
        sm__map_del(&w->host_index, key);
    return SM_NONE;
}

bool sm_host_set_profile(sm_world *w, sm_id host, const sm_profile *p)
{
    if (w->broken || host >= w->nhosts || !p || sm__prof_unusable(p))
        return false;
    for (size_t i = 0; i < w->nprocs; i++)
        if (w->procs[i].host == host)
            return false;
    sm__host *h = &w->hosts[host];
    h->prof = p;
    memcpy(h->tun, p->defaults, sizeof h->tun);
    memset(h->pstate, 0, sizeof h->pstate);
    return true;
}

const sm_profile *sm_host_profile(const sm_world *w, sm_id host)
{
    return host < w->nhosts ? w->hosts[host].prof : w->profile;
}

sm_id sm_host_find(const sm_world *w, const char *name)
{
    uint32_t first;
    if (!sm__map_get(&w->host_index, host_key(name), &first))
        return SM_NONE; /* no host has its key */
    if (strcmp(w->hosts[first].name, name) == 0)
        return (sm_id)first;
    for (size_t i = first + 1; i < w->nhosts; i++)
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
    if (w->broken || host >= w->nhosts || sm_host_has_addr(w, host, a))
        return false;
    /* The first host to claim an address receives its packets. */
    uint32_t prev;
    if (!sm_addr_is_loopback(a) && !sm__map_get(&w->addr_index, sm__addr_key(a), &prev) &&
        !sm__map_put(&w->addr_index, sm__addr_key(a), host)) {
        sm__oom(w);
        return false;
    }
    return host_push_addr(w, &w->hosts[host], a);
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
    if (w->broken)
        return SM_NONE;
    SM__GROW(w, w->users, w->nusers, w->usercap, return SM_NONE);
    sm__user *u = &w->users[w->nusers];
    u->name = sm__strdup(w, name);
    if (!u->name)
        return SM_NONE;
    u->privileged = strcmp(name, "root") == 0;
    u->uid = u->privileged ? 0 : next_uid;
    return (sm_id)w->nusers++;
}

uint32_t sm_user_uid(const sm_world *w, sm_id user)
{
    return w->users[user].uid;
}

/* The key of (host, process name) in proc_index. */
static uint64_t proc_key(sm_id host, const char *name)
{
    uint64_t h = host_key(name) ^ ((uint64_t)host * 0x9e3779b97f4a7c15ULL);
    return sm__splitmix64(&h);
}

/* The newest live process of that name on that host: the chain from the
 * index holds every process with its key, newest first (dead ones and, on
 * a 64-bit collision, other names are passed over; dead ones at the head
 * are dropped from it as they are met, so each is passed once there). */
sm_id sm_proc_get(sm_world *w, sm_id host, const char *name, sm_id user)
{
    uint64_t key = proc_key(host, name);
    uint32_t head;
    bool indexed = sm__map_get(&w->proc_index, key, &head);
    if (indexed) {
        while (head != SM__NONE32 && !w->procs[head].alive)
            head = w->procs[head].prev_same;
        if (head == SM__NONE32) {
            sm__map_del(&w->proc_index, key);
            indexed = false;
        } else {
            /* a failed replace leaves the old head, which still leads here */
            (void)sm__map_put(&w->proc_index, key, head);
        }
        for (uint32_t i = head; i != SM__NONE32; i = w->procs[i].prev_same) {
            sm__proc *p = &w->procs[i];
            if (p->alive && p->host == host && strcmp(p->name, name) == 0)
                return (sm_id)i;
        }
    }
    if (w->broken)
        return SM_NONE;
    SM__GROW(w, w->procs, w->nprocs, w->proccap, return SM_NONE);
    sm__proc *p = &w->procs[w->nprocs];
    memset(p, 0, sizeof *p);
    p->name = sm__strdup(w, name);
    if (!p->name)
        return SM_NONE;
    if (!sm__map_put(&w->proc_index, key, (uint32_t)w->nprocs)) {
        free(p->name);
        sm__oom(w);
        return SM_NONE;
    }
    p->prev_same = indexed ? head : SM__NONE32;
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
    if (w->broken)
        return w->broken->text;
    const sm_profile *p = w->hosts[host].prof;
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


/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &enomem_rule,
    &sm__rule_sock_cap,
    &host_cap_rule,
};
const sm_rule_set sm__rules_sm_world = {"engine/sm_world.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
