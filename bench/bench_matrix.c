/*
 * bench_matrix.c - benchmark 3, the cross-OS matrix: how long the model
 * takes to decide every two-socket bind case under every profile.
 *
 * A case is: socket A is created by user alice, gets its options, binds
 * and (case "listening") listens; socket B, created by alice again or by
 * bob, gets its options and binds to the same port; both are closed.  The
 * matrix is every combination of
 *   protocol      tcp, udp
 *   family        of A and of B: IPv4, IPv6 V6ONLY, IPv6 dual-stack
 *   address       of A and of B: wildcard, 192.0.2.1, 192.0.2.2 (IPv4);
 *                 ::, 2001:db8::1, 2001:db8::2 (IPv6), and on a dual-stack
 *                 socket also ::ffff:192.0.2.1, ::ffff:192.0.2.2 -- so
 *                 wildcard/specific, same/different, across families
 *   options       of A and of B: none, each of SO_REUSEADDR, SO_REUSEPORT,
 *                 SO_REUSEPORT_LB, SO_EXCLUSIVEADDRUSE, SO_EXCLBIND, and
 *                 every pair of them (16 sets each; options an OS lacks are
 *                 refused by setsockopt there, as a real program would see)
 *   state of A    bound, listening, and (TCP) connected to a peer host
 *                 and in TIME_WAIT after it closed first
 *   user of B     same as A, other
 *   profile       every registered profile
 * For the last two states A is set up once (connect, the peer accepts,
 * and for TIME_WAIT both close, A first) and every B is tried against it;
 * then the clock moves past any TIME_WAIT before the next A.
 * The time covers everything: worlds (a fresh one every 4096 cases, so
 * memory stays small), sockets, options, connections, decisions, closes.
 * There is no external baseline: the ratio is against the 1 s target.
 *
 * Each run also hashes every outcome (A's bind, A's listen, B's bind), so
 * the benchmark doubles as a determinism check across runs.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MX_PORT 5000
#define MX_CHUNK 4096

enum { MX_V4, MX_V6ONLY, MX_V6DUAL, MX_NKIND };

static const char *const mx_addr_text[MX_NKIND][5] = {
    [MX_V4] = {"0.0.0.0", "192.0.2.1", "192.0.2.2", NULL, NULL},
    [MX_V6ONLY] = {"::", "2001:db8::1", "2001:db8::2", NULL, NULL},
    [MX_V6DUAL] = {"::", "2001:db8::1", "2001:db8::2", "::ffff:192.0.2.1", "::ffff:192.0.2.2"},
};
static const size_t mx_naddr[MX_NKIND] = {3, 3, 5};

static const sm_option mx_opt[5] = {SM_SO_REUSEADDR, SM_SO_REUSEPORT, SM_SO_REUSEPORT_LB,
                                    SM_SO_EXCLUSIVEADDRUSE, SM_SO_EXCLBIND};
#define MX_NSETS 16

/* The 16 option sets as bit masks over mx_opt: none, singles, pairs. */
static void mx_sets(unsigned sets[MX_NSETS])
{
    size_t k = 0;
    sets[k++] = 0;
    for (unsigned i = 0; i < 5; i++)
        sets[k++] = 1u << i;
    for (unsigned i = 0; i < 5; i++)
        for (unsigned j = i + 1; j < 5; j++)
            sets[k++] = 1u << i | 1u << j;
}

typedef struct mx_world {
    sm_world *w;
    sm_id alice, bob; /* processes */
    sm_id l4, l6;     /* listeners on the peer host (port 80) */
    size_t cases;     /* cases run in this world */
} mx_world;

static void mx_world_new(mx_world *mw, const sm_profile *p)
{
    mw->w = bench_world(p, NULL);
    sm_id h = sm_host_find(mw->w, "local");
    mw->alice = sm_proc_get(mw->w, h, "a", sm_user_get(mw->w, "alice"));
    mw->bob = sm_proc_get(mw->w, h, "b", sm_user_get(mw->w, "bob"));
    mw->cases = 0;
    /* The peer that A connects to, on a host of its own. */
    sm_id ph = sm_host_add(mw->w, "peer");
    sm_addr p4 = bench_addr("198.51.100.1"), p6 = bench_addr("2001:db8:1::1");
    sm_host_add_addr(mw->w, ph, &p4);
    sm_host_add_addr(mw->w, ph, &p6);
    sm_id srv = sm_proc_get(mw->w, ph, "srv", sm_user_get(mw->w, "root"));
    sm_endpoint e4 = {p4, 80}, e6 = {p6, 80};
    sm_socket(mw->w, srv, SM_TCP, 4, "l4", &mw->l4);
    sm_bind(mw->w, mw->l4, &e4);
    sm_listen(mw->w, mw->l4, 64);
    sm_socket(mw->w, srv, SM_TCP, 6, "l6", &mw->l6);
    sm_setsockopt(mw->w, mw->l6, SM_IPV6_V6ONLY, 1, 0);
    sm_bind(mw->w, mw->l6, &e6);
    sm_listen(mw->w, mw->l6, 64);
}

static sm_id mx_sock(sm_world *w, sm_id proc, sm_proto proto, int kind, unsigned set,
                     const char *name)
{
    sm_id s;
    sm_socket(w, proc, proto, kind == MX_V4 ? 4 : 6, name, &s);
    if (kind != MX_V4)
        sm_setsockopt(w, s, SM_IPV6_V6ONLY, kind == MX_V6ONLY, 0);
    for (unsigned i = 0; i < 5; i++)
        if (set & 1u << i)
            sm_setsockopt(w, s, mx_opt[i], 1, 0);
    return s;
}

typedef struct mx_stats {
    uint64_t hash;      /* FNV-1a over every outcome */
    size_t cases;
    size_t b_ok, b_inuse, b_other, a_failed;
    size_t tw_cases, tw_ok, tw_inuse; /* B against A in TIME_WAIT */
} mx_stats;

static void mx_hash(uint64_t *h, unsigned v)
{
    *h = (*h ^ (v & 0xff)) * 0x100000001b3ULL;
}

/* One case: A (alice) binds and maybe listens, B binds the same port. */
static void mx_case(mx_world *mw, const sm_profile *p, mx_stats *st, sm_proto proto,
                    int ka, unsigned set_a, const sm_endpoint *ep_a, bool listen,
                    int kb, unsigned set_b, const sm_endpoint *ep_b, bool other_user)
{
    if (mw->cases == MX_CHUNK) {
        sm_world_free(mw->w);
        mx_world_new(mw, p);
    }
    mw->cases++;
    sm_world *w = mw->w;
    sm_id a = mx_sock(w, mw->alice, proto, ka, set_a, "a");
    sm_err ea = sm_bind(w, a, ep_a).err;
    sm_err el = SM_OK;
    if (listen && ea == SM_OK)
        el = sm_listen(w, a, 16).err;
    sm_id b = mx_sock(w, other_user ? mw->bob : mw->alice, proto, kb, set_b, "b");
    sm_err eb = sm_bind(w, b, ep_b).err;
    sm_close(w, a);
    sm_close(w, b);
    mx_hash(&st->hash, ea);
    mx_hash(&st->hash, el);
    mx_hash(&st->hash, eb);
    st->cases++;
    st->a_failed += ea != SM_OK || el != SM_OK;
    st->b_ok += eb == SM_OK;
    st->b_inuse += eb == SM_EADDRINUSE;
    st->b_other += eb != SM_OK && eb != SM_EADDRINUSE;
}

enum { MX_BOUND, MX_LISTEN, MX_CONNECTED, MX_TIME_WAIT };

/* A (alice) binds, connects to the peer and, for MX_TIME_WAIT, closes
 * first; then every B (family, address, options, user) binds the same port
 * against it.  Then both ends close and the clock runs past TIME_WAIT. */
static void mx_conn_cases(mx_world *mw, const sm_profile *p, mx_stats *st, int ka,
                          unsigned set_a, const sm_endpoint *ep_a, int state,
                          const unsigned *sets, sm_endpoint ep[MX_NKIND][5])
{
    size_t nb = 0;
    for (int kb = 0; kb < MX_NKIND; kb++)
        nb += mx_naddr[kb] * MX_NSETS * 2;
    if (mw->cases + nb > MX_CHUNK) {
        sm_world_free(mw->w);
        mx_world_new(mw, p);
    }
    mw->cases += nb;
    sm_world *w = mw->w;
    sm_id a = mx_sock(w, mw->alice, SM_TCP, ka, set_a, "a"), child = SM_NONE;
    sm_err ea = sm_bind(w, a, ep_a).err, ec = SM_OK;
    if (ea == SM_OK) {
        /* IPv4 peer for an AF_INET socket or one bound to a mapped address. */
        uint32_t v4;
        bool to4 = ka == MX_V4 || (sm_addr_is_v4mapped(&ep_a->addr) && sm_addr_v4(&ep_a->addr, &v4));
        sm_endpoint dst = {bench_addr(ka == MX_V4 ? "198.51.100.1"
                                      : to4 ? "::ffff:198.51.100.1" : "2001:db8:1::1"), 80};
        ec = sm_connect(w, a, &dst).err;
        if (ec == SM_OK)
            sm_accept(w, to4 ? mw->l4 : mw->l6, "c", &child);
        if (ec == SM_OK && state == MX_TIME_WAIT) {
            sm_close(w, a);
            sm_advance(w, 10000000);
            sm_close(w, child);
            sm_advance(w, 10000000);
            ec = sm_sock_state(w, a) == SM_TIME_WAIT ? SM_OK : SM_EINVAL;
        }
    }
    for (int kb = 0; kb < MX_NKIND; kb++)
        for (size_t ab = 0; ab < mx_naddr[kb]; ab++)
            for (int ob = 0; ob < MX_NSETS; ob++)
                for (int u = 0; u <= 1; u++) {
                    sm_id b = mx_sock(w, u ? mw->bob : mw->alice, SM_TCP, kb, sets[ob], "b");
                    sm_err eb = sm_bind(w, b, &ep[kb][ab]).err;
                    sm_close(w, b);
                    mx_hash(&st->hash, ea);
                    mx_hash(&st->hash, ec);
                    mx_hash(&st->hash, eb);
                    st->cases++;
                    st->a_failed += ea != SM_OK || ec != SM_OK;
                    st->b_ok += eb == SM_OK;
                    st->b_inuse += eb == SM_EADDRINUSE;
                    st->b_other += eb != SM_OK && eb != SM_EADDRINUSE;
                    if (state == MX_TIME_WAIT && ea == SM_OK && ec == SM_OK) {
                        st->tw_cases++;
                        st->tw_ok += eb == SM_OK;
                        st->tw_inuse += eb == SM_EADDRINUSE;
                    }
                }
    if (state == MX_CONNECTED) {
        sm_close(w, a);
        if (child != SM_NONE)
            sm_close(w, child);
    } else if (ea != SM_OK || ec != SM_OK) {
        sm_close(w, a);
    }
    sm_advance(w, 600ull * 1000000000ull); /* past every TIME_WAIT */
}

/* Every case under one profile. */
static void mx_profile(const sm_profile *p, mx_stats *st)
{
    unsigned sets[MX_NSETS];
    sm_endpoint ep[MX_NKIND][5];
    mx_sets(sets);
    for (int k = 0; k < MX_NKIND; k++)
        for (size_t i = 0; i < mx_naddr[k]; i++) {
            ep[k][i].addr = bench_addr(mx_addr_text[k][i]);
            ep[k][i].port = MX_PORT;
        }
    mx_world mw;
    mx_world_new(&mw, p);
    for (int proto = SM_TCP; proto <= SM_UDP; proto++)
        for (int ka = 0; ka < MX_NKIND; ka++)
            for (int kb = 0; kb < MX_NKIND; kb++)
                for (size_t aa = 0; aa < mx_naddr[ka]; aa++)
                    for (size_t ab = 0; ab < mx_naddr[kb]; ab++)
                        for (int oa = 0; oa < MX_NSETS; oa++)
                            for (int ob = 0; ob < MX_NSETS; ob++)
                                for (int l = 0; l <= (proto == SM_TCP ? 1 : 0); l++)
                                    for (int u = 0; u <= 1; u++)
                                        mx_case(&mw, p, st, (sm_proto)proto, ka, sets[oa],
                                                &ep[ka][aa], l, kb, sets[ob], &ep[kb][ab],
                                                u);
    for (int ka = 0; ka < MX_NKIND; ka++)
        for (size_t aa = 0; aa < mx_naddr[ka]; aa++)
            for (int oa = 0; oa < MX_NSETS; oa++)
                for (int state = MX_CONNECTED; state <= MX_TIME_WAIT; state++)
                    mx_conn_cases(&mw, p, st, ka, sets[oa], &ep[ka][aa], state, sets, ep);
    sm_world_free(mw.w);
}

/* One full matrix over every profile; per-profile stats into st[]. */
static double mx_run(mx_stats *st, size_t nprof, double *cpu)
{
    double c0 = bench_cpu_now(), t0 = bench_now();
    for (size_t i = 0; i < nprof; i++) {
        memset(&st[i], 0, sizeof st[i]);
        st[i].hash = 0xcbf29ce484222325ULL;
        mx_profile(sm_profile_at(i), &st[i]);
    }
    double t = bench_now() - t0;
    *cpu = bench_cpu_now() - c0;
    return t;
}

void bench_matrix(const bench_opts *o)
{
    size_t nprof = sm_profile_count();
    mx_stats *st = calloc(nprof, sizeof *st), *first = calloc(nprof, sizeof *first);
    double *t = calloc((size_t)o->runs * 2, sizeof *t);
    if (!st || !t || !first)
        abort();
    double *cpu = t + o->runs;
    bool same = true;
    mx_run(first, nprof, &cpu[0]); /* warm-up, and the reference outcomes */
    for (int r = 0; r < o->runs; r++) {
        t[r] = mx_run(st, nprof, &cpu[r]);
        for (size_t i = 0; i < nprof; i++)
            same = same && st[i].hash == first[i].hash && st[i].cases == first[i].cases;
    }
    double med = bench_median(t, (size_t)o->runs);
    double med_cpu = bench_median(cpu, (size_t)o->runs);
    size_t cases = 0;
    for (size_t i = 0; i < nprof; i++)
        cases += st[i].cases;
    char name[64], a[32];
    snprintf(name, sizeof name, "3 cross-OS matrix, %zu cases", cases);
    bench_row(name, med, 1.0, "the 1 s target", 1.0 / med, "x under", "< 1 s", med < 1.0);
    char c[32];
    printf("    %zu profiles x %zu cases; %s per case; CPU time (median) %s; outcomes "
           "identical in every run: %s\n",
           nprof, cases / (nprof ? nprof : 1), bench_fmt_time(med / (double)cases, a, sizeof a),
           bench_fmt_time(med_cpu, c, sizeof c), same ? "yes" : "NO (nondeterminism!)");
    for (size_t i = 0; i < nprof; i++)
        printf("    %-16s second bind: ok %6zu  EADDRINUSE %6zu  other %6zu   "
               "(first socket refused %zu)  hash %016llx\n"
               "    %-16s   of which against A in TIME_WAIT: %zu, ok %zu, EADDRINUSE %zu\n",
               sm_profile_name(sm_profile_at(i)), st[i].b_ok, st[i].b_inuse, st[i].b_other,
               st[i].a_failed, (unsigned long long)st[i].hash, "", st[i].tw_cases,
               st[i].tw_ok, st[i].tw_inuse);
    fflush(stdout);
    free(st);
    free(first);
    free(t);
}
