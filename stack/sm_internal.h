/*
 * sm_internal.h - the engine's own data structures (not for profiles).
 *
 * A world owns arrays of hosts, users, processes and sockets, indexed by
 * sm_id, and one bind table: a hash map from (host, protocol, port) to a
 * bucket listing every owner of that port.  Owners are socket ids; a bind
 * decision costs O(owners of the port), never O(all sockets).
 */
#ifndef SM_INTERNAL_H
#define SM_INTERNAL_H

#include "sm_map.h"
#include "sm_profile.h"

#define SM__PSTATE_WORDS 16

typedef struct sm__host {
    char *name;
    sm_addr *addrs;
    size_t naddrs, addrcap;
    int64_t tun[SM_TUN_COUNT];
    uint64_t pstate[SM__PSTATE_WORDS]; /* profile's per-host state */
    uint64_t rng;                      /* splitmix64 state */
    uint64_t bind_seq;                 /* counts binds and listens */
} sm__host;

typedef struct sm__user {
    char *name;
    uint32_t uid;
    bool privileged;
} sm__user;

typedef struct sm__proc {
    char *name;
    sm_id host;
    sm_id user;
    bool alive;
    sm_id *socks; /* open descriptors, in no particular order */
    size_t nsocks, sockcap;
} sm__proc;

typedef struct sm__sock {
    char *name;
    sm_id host, proc;
    uint32_t uid;
    bool privileged;
    sm_proto proto;
    uint8_t family;
    sm_opts opt;      /* as set now */
    sm_opts at_bind;  /* latched when it bound */
    sm_tcp_state state;
    bool fd_open;
    bool bound;
    enum sm_how_bound how;
    sm_addr bound_addr;
    sm_addr local_addr;
    uint16_t port;
    bool connected;
    sm_endpoint remote;
    uint64_t seq, listen_seq;
    int backlog;
    uint32_t bucket;    /* bind-table bucket, when bound */
    uint32_t bslot;     /* index inside that bucket */
    uint32_t pslot;     /* index inside its process's socks[] */
} sm__sock;

typedef struct sm__bucket {
    sm_id *owners;
    uint32_t n, cap;
} sm__bucket;

struct sm_world {
    const sm_profile *profile;
    uint64_t seed;
    uint64_t now_ns;
    sm__host *hosts;
    size_t nhosts, hostcap;
    sm__user *users;
    size_t nusers, usercap;
    sm__proc *procs;
    size_t nprocs, proccap;
    sm__sock *socks;
    size_t nsocks, sockcap;
    sm__map bind_index; /* key: host<<17 | proto<<16 | port -> bucket */
    sm__bucket *buckets;
    size_t nbuckets, bucketcap;
    sm_sock_view *scratch; /* owner views for one decision */
    char **name_blocks;    /* socket names: blocks that never move */
    size_t nname_blocks, name_block_cap, name_used, name_block_size;
    size_t scratchcap;
    char errmsg[256];      /* the last sm_sysctl() message */
};

struct sm_pick_ctx {
    sm_world *w;
    sm_id host;
    sm_sock_view self;
};

/* Fatal allocation failure: the model cannot continue meaningfully. */
void *sm__xrealloc(void *p, size_t n);
char *sm__xstrdup(const char *s);

#endif
