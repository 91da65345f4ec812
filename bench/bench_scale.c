/*
 * bench_scale.c - benchmark 5: the cost of a bind decision must not grow
 * with sockets that hold other ports.
 *
 * For K = 10^2, 10^4 and 10^6, a world under each profile first gets K
 * unrelated TCP sockets bound to ports 6000-65535 (K > 59536 needs more than
 * one address per port: socket k takes 10.0.<k / 59536>.1, port
 * 6000 + k % 59536; the 17 addresses are on the host for every K, so only
 * the number of sockets changes).  Ports 5000-5999 each get one "related"
 * socket on 127.0.0.1.  What is timed is then bind() of fresh sockets to
 * 192.0.2.1:5000..5999: a decision against the one related owner (different
 * specific addresses: ok under every profile), which takes the port.
 * Socket creation and the closes between rounds are not timed.
 *
 * The result is the time per bind for each K and the ratio of the largest K
 * to the smallest, which should be about 1 (the engine indexes the bind
 * table by (host, protocol, port), so only the port's own owners are read).
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SC_PORTS 1000        /* measured ports 5000..5999 */
#define SC_PORT0 5000
#define SC_UNREL0 6000       /* unrelated ports 6000..65535 */
#define SC_UNREL_N 59536
#define SC_NADDR 17          /* 17 * 59536 >= 10^6 */
#define SC_ROUNDS 30         /* rounds of SC_PORTS binds per run */

typedef struct sc_world {
    sm_world *w;
    sm_id proc;
    size_t setup_failed;
} sc_world;

static void sc_build(sc_world *sw, const sm_profile *p, size_t k)
{
    char text[SC_NADDR][16];
    const char *extra[SC_NADDR + 1];
    for (int i = 0; i < SC_NADDR; i++) {
        snprintf(text[i], sizeof text[i], "10.0.%d.1", i);
        extra[i] = text[i];
    }
    extra[SC_NADDR] = NULL;
    sw->w = bench_world(p, extra);
    sm_id h = sm_host_find(sw->w, "local");
    sw->proc = sm_proc_get(sw->w, h, "p", sm_user_get(sw->w, "alice"));
    sw->setup_failed = 0;
    sm_addr addr[SC_NADDR];
    for (int i = 0; i < SC_NADDR; i++)
        addr[i] = bench_addr(text[i]);
    sm_endpoint ep;
    for (size_t i = 0; i < k; i++) {
        sm_id s;
        ep.addr = addr[i / SC_UNREL_N];
        ep.port = (uint16_t)(SC_UNREL0 + i % SC_UNREL_N);
        sm_socket(sw->w, sw->proc, SM_TCP, 4, "u", &s);
        sw->setup_failed += sm_bind(sw->w, s, &ep).err != SM_OK;
    }
    ep.addr = bench_addr("127.0.0.1");
    for (size_t j = 0; j < SC_PORTS; j++) {
        sm_id s;
        ep.port = (uint16_t)(SC_PORT0 + j);
        sm_socket(sw->w, sw->proc, SM_TCP, 4, "r", &s);
        sw->setup_failed += sm_bind(sw->w, s, &ep).err != SM_OK;
    }
}

/* One run: SC_ROUNDS rounds of SC_PORTS timed binds.  Returns the median
 * round's time per bind (a round that the scheduler interrupted does not
 * count more than any other); counts binds that failed into *failed. */
static double sc_run(sc_world *sw, size_t *failed)
{
    sm_id ids[SC_PORTS];
    double round[SC_ROUNDS];
    sm_endpoint ep;
    ep.addr = bench_addr("192.0.2.1");
    for (int r = 0; r < SC_ROUNDS; r++) {
        for (size_t j = 0; j < SC_PORTS; j++)
            sm_socket(sw->w, sw->proc, SM_TCP, 4, "m", &ids[j]);
        double t0 = bench_now();
        for (size_t j = 0; j < SC_PORTS; j++) {
            ep.port = (uint16_t)(SC_PORT0 + j);
            *failed += sm_bind(sw->w, ids[j], &ep).err != SM_OK;
        }
        round[r] = (bench_now() - t0) / SC_PORTS;
        for (size_t j = 0; j < SC_PORTS; j++)
            sm_close(sw->w, ids[j]);
    }
    return bench_median(round, SC_ROUNDS);
}

void bench_scale(const bench_opts *o)
{
    static const size_t ks_full[3] = {100, 10000, 1000000};
    static const size_t ks_quick[3] = {100, 10000, 100000};
    const size_t *ks = o->quick ? ks_quick : ks_full;
    size_t nprof = sm_profile_count();
    double *per = calloc(nprof * 3, sizeof *per);
    double *t = calloc((size_t)o->runs * 3, sizeof *t);
    size_t setup_failed = 0, bind_failed = 0;
    if (!per || !t)
        abort();

    for (size_t p = 0; p < nprof; p++) {
        /* The three worlds exist together and their runs alternate, so
         * that load from elsewhere on the machine hits every K alike. */
        sc_world sw[3];
        size_t dummy = 0;
        for (size_t ki = 0; ki < 3; ki++) {
            sc_build(&sw[ki], sm_profile_at(p), ks[ki]);
            setup_failed += sw[ki].setup_failed;
            sc_run(&sw[ki], &dummy); /* warm-up */
        }
        for (int r = 0; r < o->runs; r++)
            for (size_t ki = 0; ki < 3; ki++)
                t[ki * (size_t)o->runs + (size_t)r] = sc_run(&sw[ki], &bind_failed);
        for (size_t ki = 0; ki < 3; ki++) {
            per[p * 3 + ki] = bench_median(t + ki * (size_t)o->runs, (size_t)o->runs);
            sm_world_free(sw[ki].w);
        }
    }

    /* The summary row: the profile whose ratio is worst. */
    size_t worst = 0;
    for (size_t p = 0; p < nprof; p++)
        if (per[p * 3 + 2] / per[p * 3] > per[worst * 3 + 2] / per[worst * 3])
            worst = p;
    double ratio = per[worst * 3 + 2] / per[worst * 3];
    char name[64];
    snprintf(name, sizeof name, "5 bind, K=%zu unrelated", ks[2]);
    bench_row(name, per[worst * 3 + 2], per[worst * 3], "same, K=100", ratio,
              " (worst)", "~1 (<= 1.5)", ratio <= 1.5);
    printf("    time per bind, median of %d runs (each: the median of %d rounds of %d "
           "binds), by profile:\n",
           o->runs, SC_ROUNDS, SC_PORTS);
    printf("    %-16s %12s %12s %12s   K=%zu/K=%zu\n", "profile", "K=100", "K=10000",
           o->quick ? "K=100000" : "K=1000000", ks[2], ks[0]);
    for (size_t p = 0; p < nprof; p++) {
        char a[32], b[32], c[32];
        printf("    %-16s %12s %12s %12s   %.2f\n", sm_profile_name(sm_profile_at(p)),
               bench_fmt_time(per[p * 3], a, sizeof a),
               bench_fmt_time(per[p * 3 + 1], b, sizeof b),
               bench_fmt_time(per[p * 3 + 2], c, sizeof c), per[p * 3 + 2] / per[p * 3]);
    }
    if (setup_failed || bind_failed)
        printf("    WARNING: %zu setup binds and %zu timed binds did not succeed: the "
               "figures mix decisions\n",
               setup_failed, bind_failed);
    fflush(stdout);
    free(per);
    free(t);
}
