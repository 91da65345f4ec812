/*
 * svg_out.c - records a scenario run through the runner's hooks and the
 * world's tap, and draws it as an SVG sequence diagram: one column per
 * socket with its TCP states over (compressed) virtual time, arrows for
 * the segments between them, the steps and their outcomes on the left.
 * What is inferred and how is said in svg_out.h.  Integer arithmetic
 * only, so the same run gives the same bytes.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg_out.h"

#define NOROW ((size_t)-1)

/* Growable arrays: GROW(ptr, n, cap) makes room for one more element. */
#define GROW(p, n, cap)                                                     \
    do {                                                                    \
        if ((n) == (cap)) {                                                 \
            (cap) = (cap) ? 2 * (cap) : 8;                                  \
            (p) = scn_xrealloc((p), (cap) * sizeof *(p));                   \
        }                                                                   \
    } while (0)

/* ---- what is recorded ---------------------------------------------------- */

typedef struct tuple {
    bool has_l, has_r;
    sm_endpoint l, r;
} tuple;

typedef struct tup_rec {
    size_t row;
    tuple t;
} tup_rec;

typedef struct samp {
    size_t row;      /* reading that saw the state */
    size_t prev_row; /* the reading before it */
    sm_tcp_state st;
} samp;

typedef struct lane {
    bool seen;
    char *name;        /* a socket no scenario name holds: the engine's */
    sm_id id, host;
    size_t first_row, last_row;
    samp *s;
    size_t ns, cs;
    tup_rec *tp;
    size_t ntp, ctp;
    size_t closed_row; /* row of a successful close, or NOROW */
} lane;

typedef struct seg_rec {
    sm_segment g;
    size_t send_row, arr_row; /* arr_row NOROW: lost */
    uint64_t arr_t;
    long src_lane, dst_lane; /* lane index; -1: none */
    bool delivered;          /* the engine said who took it: */
    sm_id to;                /* that socket, SM_NONE the host's stack */
    size_t dseq;             /* deliveries before this one */
    size_t sent_after;       /* deliveries before it was sent */
} seg_rec;

typedef struct step_rec {
    const scn_stmt *st;
    const scn_cell *cell;
    size_t row0, row1;
} step_rec;

/* What a bind lesson shows on a socket's column: a note (the address it
 * bound, an option it set) or a refused bind's conflict. */
typedef struct note {
    size_t lane, row;
    char *text;
    bool conflict;
    sm_id culprit;     /* conflict: the engine's culprit */
    long culprit_lane; /* resolved at the end; -1 none drawn */
    char *culprit_name;
    char *rule;        /* conflict: the rule that decided */
} note;

typedef struct host_rec {
    sm_id id;
    char *name;
} host_rec;

typedef struct run {
    const sm_profile *p;
    sm_world *w;
    sm_tap_fn chain;
    void *chain_ctx;
    sm_delivery_fn dchain;
    void *dchain_ctx;
    bool started, done;
    uint64_t *rows;
    size_t nrows, crows, cur;
    size_t *pend;
    size_t npend, cpend;
    seg_rec *segs;
    size_t nsegs, csegs;
    step_rec *steps;
    size_t nsteps, csteps;
    lane *lanes;
    sm_id *ids;
    size_t n_ids;        /* lanes: the scenario's sockets, then (after the
                          * run) the sockets segments were delivered to
                          * that no scenario name held at the end */
    size_t n_scn;
    lane *xl;            /* those, watched from their first delivery */
    size_t nxl, cxl;
    size_t ndeliv;       /* deliveries so far */
    struct { size_t seg; sm_id to; } *more; /* multicast: other receivers */
    size_t nmore, cmore;
    bool step_open;
    size_t step_row0;
    uint64_t prev_end, delay, loop_delay;
    host_rec *hosts;
    size_t nhosts, chosts;
    note *notes;
    size_t nnotes, cnotes;
} run;

struct scn_svg {
    const scn_file *f;
    size_t n;
    const sm_profile **profiles;
    char **paths;
    FILE **fp;
    run *runs;
    sm_delivery_fn dchain;
    void *dchain_ctx;
};

static run *run_of(scn_svg *s, const sm_profile *p)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (s->profiles[i] == p)
            return &s->runs[i];
    return NULL;
}

/* ---- endpoints ------------------------------------------------------------ */

static sm_endpoint canon(sm_endpoint e)
{
    e.addr = sm_addr_unmapped(&e.addr);
    return e;
}

static bool ep_eq(const sm_endpoint *a, const sm_endpoint *b)
{
    return a->port == b->port && sm_addr_equal(&a->addr, &b->addr);
}

static bool tuple_eq(const tuple *a, const tuple *b)
{
    return a->has_l == b->has_l && a->has_r == b->has_r &&
           (!a->has_l || ep_eq(&a->l, &b->l)) &&
           (!a->has_r || ep_eq(&a->r, &b->r));
}

/* ---- rows: the vertical positions -------------------------------------- */

static size_t add_row(run *r, uint64_t t)
{
    GROW(r->rows, r->nrows, r->crows);
    r->rows[r->nrows] = t;
    r->cur = r->nrows++;
    return r->cur;
}

static void pend_pop(run *r)
{
    memmove(r->pend, r->pend + 1, (r->npend - 1) * sizeof *r->pend);
    r->npend--;
}

/* Gives rows to arrivals due before t (or not after the current row). */
static void flush_arrivals(run *r, uint64_t t, bool all)
{
    while (r->npend) {
        seg_rec *g = &r->segs[r->pend[0]];
        if (r->cur != NOROW && g->arr_t <= r->rows[r->cur])
            g->arr_row = r->cur;
        else if (all || g->arr_t < t)
            g->arr_row = add_row(r, g->arr_t);
        else
            break;
        pend_pop(r);
    }
}

static void goto_time(run *r, uint64_t t, bool new_row)
{
    flush_arrivals(r, t, false);
    if (new_row || r->cur == NOROW || r->rows[r->cur] < t)
        add_row(r, t);
    flush_arrivals(r, t, false);
}

/* The first event of a step opens its row. */
static void begin_event(run *r)
{
    if (!r->step_open) {
        goto_time(r, r->prev_end, true);
        r->step_row0 = r->cur;
        r->step_open = true;
    }
}

/* Reads socket id's state and endpoints into L. */
static void sample_lane(run *r, lane *L, sm_id id, size_t row)
{
    {
        sm_tcp_state st = sm_sock_state(r->w, id);
        if (!L->seen || L->id != id) {
            L->seen = true;
            L->id = id;
            L->host = sm_sock_host(r->w, id);
            L->first_row = row;
            L->last_row = row;
            L->ns = 0;
            GROW(L->s, L->ns, L->cs);
            L->s[L->ns++] = (samp){row, row, st};
        } else {
            if (st != L->s[L->ns - 1].st) {
                GROW(L->s, L->ns, L->cs);
                L->s[L->ns++] = (samp){row, L->last_row, st};
            }
            L->last_row = row;
        }
        tuple t;
        memset(&t, 0, sizeof t);
        t.has_l = sm_sock_local(r->w, id, &t.l);
        t.has_r = sm_sock_remote(r->w, id, &t.r);
        if (t.has_l)
            t.l = canon(t.l);
        if (t.has_r)
            t.r = canon(t.r);
        if (!t.has_l && !t.has_r)
            return;
        if (L->ntp && tuple_eq(&L->tp[L->ntp - 1].t, &t))
            return;
        GROW(L->tp, L->ntp, L->ctp);
        L->tp[L->ntp++] = (tup_rec){row, t};
    }
}

/* Reads every known socket's state and endpoints. */
static void sample(run *r, size_t row)
{
    for (size_t i = 0; i < r->n_scn; i++)
        if (r->ids[i] != SM_NONE)
            sample_lane(r, &r->lanes[i], r->ids[i], row);
    for (size_t i = 0; i < r->nxl; i++)
        sample_lane(r, &r->xl[i], r->xl[i].id, row);
}

static void tap(void *ctx, const sm_segment *seg)
{
    run *r = ctx;
    if (r->chain)
        r->chain(r->chain_ctx, seg);
    begin_event(r);
    goto_time(r, seg->time_ns, false);
    GROW(r->segs, r->nsegs, r->csegs);
    seg_rec *g = &r->segs[r->nsegs];
    memset(g, 0, sizeof *g);
    g->g = *seg;
    g->g.src = canon(seg->src);
    g->g.dst = canon(seg->dst);
    g->send_row = r->cur;
    g->sent_after = r->ndeliv;
    g->arr_row = NOROW;
    g->src_lane = g->dst_lane = -1;
    if (seg->dst_host != SM_NONE) {
        g->arr_t = sm_time_add(seg->time_ns, seg->dst_host == seg->src_host
                                                 ? r->loop_delay : r->delay);
        GROW(r->pend, r->npend, r->cpend);
        size_t k = r->npend++;
        while (k > 0 && r->segs[r->pend[k - 1]].arr_t > g->arr_t) {
            r->pend[k] = r->pend[k - 1];
            k--;
        }
        r->pend[k] = r->nsegs;
    }
    r->nsegs++;
    sample(r, r->cur);
}

static bool delivered_to(const run *r, sm_id id)
{
    for (size_t k = 0; k < r->nsegs; k++)
        if (r->segs[k].delivered && r->segs[k].to == id)
            return true;
    for (size_t m = 0; m < r->nmore; m++)
        if (r->more[m].to == id)
            return true;
    return false;
}

/* The engine's word on who took a segment: recorded on the segment (found
 * by its number: the records are in the order sent); a socket no scenario
 * name holds now is watched from here on. */
static void delivery(void *ctx, const sm_segment *seg, sm_id to)
{
    run *r = ctx;
    if (r->dchain)
        r->dchain(r->dchain_ctx, seg, to);
    size_t lo = 0, hi = r->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->segs[mid].g.no < seg->no)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == r->nsegs || r->segs[lo].g.no != seg->no)
        return;
    r->ndeliv++;
    seg_rec *g = &r->segs[lo];
    if (g->delivered) {
        GROW(r->more, r->nmore, r->cmore);
        r->more[r->nmore].seg = lo;
        r->more[r->nmore++].to = to;
    } else {
        g->delivered = true;
        g->to = to;
        g->dseq = r->ndeliv - 1;
    }
    if (to == SM_NONE)
        return;
    for (size_t i = 0; i < r->n_scn; i++)
        if (r->ids[i] == to)
            return;
    for (size_t i = 0; i < r->nxl; i++)
        if (r->xl[i].id == to)
            return;
    GROW(r->xl, r->nxl, r->cxl);
    lane *L = &r->xl[r->nxl++];
    memset(L, 0, sizeof *L);
    L->id = to;
    L->closed_row = NOROW;
}

/* ---- hooks ---------------------------------------------------------------- */

void scn_svg_world_created(scn_svg *s, sm_world *w, const sm_profile *p,
                           sm_tap_fn chain, void *chain_ctx)
{
    run *r = run_of(s, p);
    if (!r) {
        if (chain)
            sm_world_set_tap(w, chain, chain_ctx);
        return;
    }
    r->w = w;
    r->started = true;
    r->chain = chain;
    r->chain_ctx = chain_ctx;
    r->cur = NOROW;
    r->delay = 1000000;   /* sm.h defaults, as the runner sets them */
    r->loop_delay = 50000;
    r->n_ids = s->f->n_socks;
    r->ids = scn_xmalloc((r->n_ids + 1) * sizeof *r->ids);
    r->lanes = scn_xmalloc((r->n_ids + 1) * sizeof *r->lanes);
    memset(r->lanes, 0, (r->n_ids + 1) * sizeof *r->lanes);
    for (size_t i = 0; i < r->n_ids; i++) {
        r->ids[i] = SM_NONE;
        r->lanes[i].closed_row = NOROW;
    }
    r->n_scn = r->n_ids;
    r->dchain = s->dchain;
    r->dchain_ctx = s->dchain_ctx;
    sm_world_set_tap(w, tap, r);
    sm_world_set_delivery_tap(w, delivery, r);
}

void scn_svg_chain_delivery(scn_svg *s, sm_delivery_fn fn, void *ctx)
{
    s->dchain = fn;
    s->dchain_ctx = ctx;
}

static char *dup_str(const char *t)
{
    size_t n = strlen(t);
    char *c = scn_xmalloc(n + 1);
    memcpy(c, t, n + 1);
    return c;
}

/* A bind's address, an option set, a bind refused because of another
 * socket (the engine's culprit and rule). */
static void add_note(run *r, const scn_stmt *st, const scn_cell *cell)
{
    scn_buf b = {0};
    bool conflict = false;
    if (st->kind == SCN_BIND && cell->r.err == SM_OK) {
        sm_endpoint ep;
        if (!sm_sock_local(r->w, r->ids[st->sock], &ep))
            return;
        char a[64];
        sm_addr_format(&ep.addr, a, sizeof a);
        scn_buf_printf(&b, ep.addr.family == 6 ? "[%s]:%u" : "%s:%u", a, ep.port);
    } else if (st->kind == SCN_SETSOCKOPT && cell->r.err == SM_OK) {
        /* As written: "SO_LINGER 1 5" (the text after the socket). */
        const char *t = st->text ? st->text : "";
        for (int words = 0; words < 2 && *t; words++) {
            t += strcspn(t, " ");
            t += strspn(t, " ");
        }
        scn_buf_puts(&b, *t ? t : sm_option_name(st->opt));
    } else if (st->kind == SCN_BIND && cell->r.culprit != SM_NONE) {
        conflict = true;
        scn_buf_printf(&b, "%s%s", sm_profile_err_name(cell->os ? cell->os : r->p, cell->r.err),
                       cell->r.culprit_tw ? " (its TIME_WAIT)" : "");
    } else
        return;
    GROW(r->notes, r->nnotes, r->cnotes);
    note *n = &r->notes[r->nnotes++];
    memset(n, 0, sizeof *n);
    n->lane = (size_t)st->sock;
    n->row = r->cur;
    n->text = dup_str(b.s ? b.s : "");
    n->conflict = conflict;
    n->culprit = cell->r.culprit;
    n->culprit_lane = -1;
    char line[1024];
    n->rule = dup_str(sm_rule_line(cell->r.rule, line, sizeof line));
    scn_buf_free(&b);
}

void scn_svg_step_done(scn_svg *s, sm_world *w, const sm_profile *p,
                       const scn_stmt *st, const scn_cell *cell,
                       const sm_id *socks, size_t n_socks)
{
    run *r = run_of(s, p);
    if (!r || r->w != w)
        return;
    for (size_t i = 0; i < r->n_scn; i++) {
        sm_id nid = i < n_socks ? socks[i] : SM_NONE;
        /* A name now given to another socket: the old one keeps its own
         * lane if segments were delivered to it. */
        if (r->ids[i] != SM_NONE && nid != r->ids[i] && r->lanes[i].seen &&
            r->lanes[i].id == r->ids[i] && delivered_to(r, r->ids[i])) {
            GROW(r->xl, r->nxl, r->cxl);
            r->xl[r->nxl++] = r->lanes[i];
            memset(&r->lanes[i], 0, sizeof r->lanes[i]);
            r->lanes[i].closed_row = NOROW;
        }
        r->ids[i] = nid;
    }
    /* A watched socket that a scenario name now holds is that name's. */
    size_t keep = 0;
    for (size_t j = 0; j < r->nxl; j++) {
        bool named = false;
        for (size_t i = 0; i < r->n_scn; i++)
            named = named || r->ids[i] == r->xl[j].id;
        if (named) {
            free(r->xl[j].s);
            free(r->xl[j].tp);
        } else
            r->xl[keep++] = r->xl[j];
    }
    r->nxl = keep;
    begin_event(r);
    uint64_t now = sm_now(w);
    goto_time(r, now, false);
    GROW(r->steps, r->nsteps, r->csteps);
    r->steps[r->nsteps++] = (step_rec){st, cell, r->step_row0, r->cur};
    r->step_open = false;
    r->prev_end = now;
    sample(r, r->cur);
    if (st->kind == SCN_DELAY) {
        if (st->rd)
            r->loop_delay = st->n;
        else
            r->delay = st->n;
    }
    if (st->sock >= 0 && (size_t)st->sock < r->n_scn && cell->kind == SCN_CELL_CALL)
        add_note(r, st, cell);
    if (st->kind == SCN_CLOSE && st->sock >= 0 &&
        (size_t)st->sock < r->n_ids && cell->kind == SCN_CELL_CALL &&
        cell->r.err == SM_OK)
        r->lanes[st->sock].closed_row = r->cur;
}

/* ---- matching segments to sockets ----------------------------------------- */

static sm_tcp_state state_at(const lane *L, size_t row)
{
    sm_tcp_state st = L->ns ? L->s[0].st : SM_CLOSED;
    for (size_t k = 0; k < L->ns && L->s[k].row <= row; k++)
        st = L->s[k].st;
    return st;
}

/* How well lane L's endpoints over time match (local, remote) at row,
 * best first: 5 with the peer, valid then; 4 with the peer, only later (an
 * accepted socket before accept); 3 a bound socket without a peer (local
 * address equal or wildcard), valid then; 2 with the peer, only earlier;
 * 1 / 0 without a peer, later / earlier; -1 never.  *when breaks ties
 * (smaller is better). */
static int lane_match(const lane *L, size_t row, const sm_endpoint *local,
                      const sm_endpoint *remote, bool need_remote,
                      size_t *when)
{
    int best = -1;
    for (size_t j = 0; j < L->ntp; j++) {
        const tuple *t = &L->tp[j].t;
        if (!t->has_l || t->l.port != local->port)
            continue;
        bool addr_ok = sm_addr_equal(&t->l.addr, &local->addr);
        bool peer = t->has_r;
        if (peer) {
            if (!addr_ok || !ep_eq(&t->r, remote))
                continue;
        } else {
            if (need_remote)
                continue;
            if (!addr_ok && !sm_addr_is_any(&t->l.addr))
                continue;
        }
        size_t from = L->tp[j].row;
        size_t to = j + 1 < L->ntp ? L->tp[j + 1].row : NOROW;
        size_t w;
        int q;
        if (row >= from && row < to) {
            q = peer ? 5 : 3;
            w = 0;
        } else if (row < from) {
            q = peer ? 4 : 1;
            w = from;
        } else {
            q = peer ? 2 : 0;
            w = NOROW - from;
        }
        if (q > best || (q == best && w < *when)) {
            best = q;
            *when = w;
        }
    }
    return best;
}

static long find_lane(const run *r, sm_id host, size_t row,
                      const sm_endpoint *local, const sm_endpoint *remote,
                      bool need_remote, bool listeners)
{
    long pick = -1;
    int best = -1;
    size_t best_when = NOROW;
    for (size_t i = 0; i < r->n_ids; i++) {
        const lane *L = &r->lanes[i];
        if (!L->seen || L->host != host ||
            (listeners && state_at(L, row) != SM_LISTEN))
            continue;
        size_t when = NOROW;
        int q = lane_match(L, row, local, remote, need_remote, &when);
        if (q > best || (q == best && q >= 0 && when < best_when)) {
            best = q;
            best_when = when;
            pick = (long)i;
        }
    }
    return pick;
}

/* The lane drawing engine socket id at the end of the run; -1 none. */
static long lane_of(const run *r, sm_id id)
{
    for (size_t i = 0; id != SM_NONE && i < r->n_ids; i++)
        if (r->lanes[i].seen && r->lanes[i].id == id)
            return (long)i;
    return -1;
}

/* Senders are found by their endpoints; receivers are the engine's word
 * (segments sent before the delivery tap existed: by endpoints too). */
static bool reverse_of(const seg_rec *a, const seg_rec *g)
{
    return a->delivered && a->g.proto == SM_TCP && a->g.dst_host == g->g.src_host &&
           ep_eq(&a->g.dst, &g->g.src) && ep_eq(&a->g.src, &g->g.dst);
}

/* The TCP segment k's sender, from the engine's deliveries on its
 * connection the other way: the receiver of the last one before it was sent
 * (the stack if no socket took that one), unless that was a listener (the
 * sender is then the new connection's socket: the receiver of the next one
 * that is no listener).  -2: no delivery tells. */
static long sender_lane(const run *r, size_t k)
{
    const seg_rec *g = &r->segs[k];
    long best = -2;
    size_t best_seq = 0;
    bool via_listener = false;
    for (size_t j = 0; j < r->nsegs; j++) {
        const seg_rec *a = &r->segs[j];
        if (!reverse_of(a, g) || a->dseq >= g->sent_after)
            continue;
        if (best != -2 && a->dseq < best_seq)
            continue;
        best_seq = a->dseq;
        best = a->dst_lane;
        via_listener = a->dst_lane >= 0 &&
                       state_at(&r->lanes[a->dst_lane], a->arr_row) == SM_LISTEN;
    }
    if (best != -2 && !via_listener)
        return best;
    /* Nothing came back before, or it went to a listener: the first later
     * delivery to a socket that is not listening. */
    long next = -2;
    size_t next_seq = 0;
    for (size_t j = 0; j < r->nsegs; j++) {
        const seg_rec *a = &r->segs[j];
        if (!reverse_of(a, g) || a->dseq < g->sent_after || a->dst_lane < 0 ||
            state_at(&r->lanes[a->dst_lane], a->arr_row) == SM_LISTEN)
            continue;
        if (next == -2 || a->dseq < next_seq) {
            next = a->dst_lane;
            next_seq = a->dseq;
        }
    }
    return next;
}

static void match_segments(run *r)
{
    for (size_t k = 0; k < r->nsegs; k++) {
        seg_rec *g = &r->segs[k];
        if (g->g.dst_host == SM_NONE || !g->delivered)
            continue;
        g->dst_lane = lane_of(r, g->to);
    }
    for (size_t k = 0; k < r->nsegs; k++) {
        seg_rec *g = &r->segs[k];
        long s = g->g.proto == SM_TCP ? sender_lane(r, k) : -2;
        g->src_lane = s != -2 ? s
                              : find_lane(r, g->g.src_host, g->send_row, &g->g.src,
                                          &g->g.dst, false, false);
        if (g->g.dst_host == SM_NONE)
            continue;
        if (g->delivered) {
            g->dst_lane = lane_of(r, g->to);
            continue;
        }
        size_t row = g->arr_row;
        /* A SYN goes to the listener (the socket accept() returns later
         * only exists from here on); a datagram to a bound UDP socket. */
        bool syn = (g->g.flags & (SM_TH_SYN | SM_TH_ACK)) == SM_TH_SYN;
        long l = -1;
        if (syn || g->g.proto == SM_UDP)
            l = find_lane(r, g->g.dst_host, row, &g->g.dst, &g->g.src, false,
                          syn);
        if (l >= 0) {
            g->dst_lane = l;
            continue;
        }
        g->dst_lane = find_lane(r, g->g.dst_host, row, &g->g.dst, &g->g.src,
                                true, false);
    }
}

static void note_host(run *r, sm_id h)
{
    if (h == SM_NONE)
        return;
    for (size_t i = 0; i < r->nhosts; i++)
        if (r->hosts[i].id == h)
            return;
    GROW(r->hosts, r->nhosts, r->chosts);
    const char *name = sm_host_name(r->w, h);
    if (!name)
        name = "?";
    size_t n = strlen(name);
    char *c = scn_xmalloc(n + 1);
    memcpy(c, name, n + 1);
    r->hosts[r->nhosts++] = (host_rec){h, c};
}

void scn_svg_world_done(scn_svg *s, sm_world *w, const sm_profile *p)
{
    run *r = run_of(s, p);
    if (!r || r->w != w)
        return;
    if (r->step_open)
        goto_time(r, sm_now(w), false);
    flush_arrivals(r, 0, true);
    /* The watched sockets become lanes after the scenario's, named as the
     * engine names them now. */
    if (r->nxl) {
        r->lanes = scn_xrealloc(r->lanes, (r->n_ids + r->nxl + 1) * sizeof *r->lanes);
        for (size_t j = 0; j < r->nxl; j++) {
            lane *L = &r->lanes[r->n_ids++];
            *L = r->xl[j];
            L->host = sm_sock_host(w, L->id);
            const char *nm = sm_sock_name(w, L->id);
            size_t n = strlen(nm);
            L->name = scn_xmalloc(n + 1);
            memcpy(L->name, nm, n + 1);
            if (!L->seen) { /* never read: a lane from its segments only */
                L->seen = true;
                L->first_row = L->last_row = r->nrows ? r->nrows - 1 : 0;
            }
        }
        r->nxl = 0;
    }
    for (size_t m = 0; m < r->nmore; m++) {
        GROW(r->segs, r->nsegs, r->csegs);
        r->segs[r->nsegs] = r->segs[r->more[m].seg];
        r->segs[r->nsegs++].to = r->more[m].to;
    }
    match_segments(r);
    for (size_t k = 0; k < r->nnotes; k++)
        if (r->notes[k].conflict) {
            note *n = &r->notes[k];
            n->culprit_lane = lane_of(r, n->culprit);
            n->culprit_name = dup_str(sm_sock_name(w, n->culprit));
        }
    /* Hosts in order of their first socket in the scenario, then the
     * hosts only segments name. */
    for (size_t i = 0; i < r->n_ids; i++)
        if (r->lanes[i].seen)
            note_host(r, r->lanes[i].host);
    for (size_t k = 0; k < r->nsegs; k++) {
        note_host(r, r->segs[k].g.src_host);
        note_host(r, r->segs[k].g.dst_host);
    }
    r->w = NULL;
    r->done = true;
}

/* ---- drawing ---------------------------------------------------------------- */

#define ROW_H 22      /* a row with no time passing */
#define TOP 92        /* first row */
#define TIME_W 96     /* time axis column */
#define CH_W 7        /* width of a character of the step text (px) */
#define LANE_W 124    /* one socket column */
#define BAND_W 100
#define PSEUDO_W 70   /* (stack) / (nowhere) columns */
#define HOST_GAP 36
#define BREAK_NS 100000000u /* gaps of 100 ms and more get a break mark */

static const char *state_fill(sm_tcp_state s)
{
    switch (s) {
    case SM_CLOSED: return "#e6e6e6";
    case SM_LISTEN: return "#a9cbf5";
    case SM_SYN_SENT: return "#fde29a";
    case SM_SYN_RECEIVED: return "#f6d07a";
    case SM_ESTABLISHED: return "#aee0a4";
    case SM_FIN_WAIT_1: return "#f7c0bd";
    case SM_FIN_WAIT_2: return "#ef9d98";
    case SM_CLOSE_WAIT: return "#d8c3f0";
    case SM_CLOSING: return "#f5b0d6";
    case SM_LAST_ACK: return "#bf9ee6";
    case SM_TIME_WAIT: return "#ffb060";
    default: return "#ffffff";
    }
}

/* Number of decimal digits of v (0 for 0). */
static int digits(uint64_t v)
{
    int d = 0;
    for (; v; v /= 10)
        d++;
    return d;
}

/* "0", "50 us", "1.5 ms", "2.001 s": exact, trailing zeros cut. */
static void fmt_time(scn_buf *b, uint64_t ns)
{
    const char *unit = "s";
    uint64_t div = 1000000000u;
    int places = 9;
    if (ns == 0) {
        scn_buf_puts(b, "0");
        return;
    }
    if (ns < 1000u) {
        scn_buf_printf(b, "%llu ns", (unsigned long long)ns);
        return;
    }
    if (ns < 1000000u) {
        unit = "us";
        div = 1000u;
        places = 3;
    } else if (ns < 1000000000u) {
        unit = "ms";
        div = 1000000u;
        places = 6;
    }
    uint64_t whole = ns / div, frac = ns % div;
    scn_buf_printf(b, "%llu", (unsigned long long)whole);
    if (frac) {
        char f[16];
        snprintf(f, sizeof f, "%0*llu", places, (unsigned long long)frac);
        int n = places;
        while (n > 0 && f[n - 1] == '0')
            n--;
        scn_buf_printf(b, ".%.*s", n, f);
    }
    scn_buf_printf(b, " %s", unit);
}

static void esc(scn_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': scn_buf_puts(b, "&lt;"); break;
        case '>': scn_buf_puts(b, "&gt;"); break;
        case '&': scn_buf_puts(b, "&amp;"); break;
        case '"': scn_buf_puts(b, "&quot;"); break;
        default:
            if ((unsigned char)*s < 0x20)
                scn_buf_puts(b, " ");
            else
                scn_buf_add(b, s, 1);
        }
    }
}

static void seg_label(scn_buf *b, const sm_segment *g)
{
    size_t start = b->len;
    if (g->proto == SM_UDP) {
        scn_buf_printf(b, "UDP %lu B", (unsigned long)g->len);
        return;
    }
    static const struct {
        uint8_t bit;
        const char *name;
    } names[] = {{SM_TH_SYN, "SYN"}, {SM_TH_FIN, "FIN"}, {SM_TH_RST, "RST"},
                 {SM_TH_ACK, "ACK"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (g->flags & names[i].bit) {
            if (b->len > start)
                scn_buf_puts(b, ",");
            scn_buf_puts(b, names[i].name);
        }
    if (g->len)
        scn_buf_printf(b, "%s%lu B", b->len > start ? " " : "",
                       (unsigned long)g->len);
}

/* Index of the row of the result that shows statement st. */
static size_t result_row(const scn_result *res, const scn_stmt *st,
                         size_t *cursor)
{
    for (size_t i = *cursor; i < res->n_rows; i++)
        if (res->rows[i].st == st) {
            *cursor = i + 1;
            return i;
        }
    return NOROW;
}

typedef struct layout {
    bool grid;        /* many sockets, no segments: columns are reused */
    size_t *span_end; /* grid: the last row a socket takes part in */
    long *y;          /* per row */
    long bottom;
    long *lane_x;     /* centre of each lane; -1 none */
    long *stack_x;    /* per host: (stack) column centre, -1 none */
    long nowhere_x;
    long *host_x0, *host_x1;
    long width, steps_x, steps_w;
} layout;

static long host_index(const run *r, sm_id h)
{
    for (size_t i = 0; i < r->nhosts; i++)
        if (r->hosts[i].id == h)
            return (long)i;
    return -1;
}

static void step_texts(const run *r, size_t pi, const scn_result *res,
                       scn_buf *main_txt, scn_buf *other_txt, size_t k,
                       size_t *cursor, bool *bad)
{
    const step_rec *sr = &r->steps[k];
    scn_buf_printf(main_txt, "%u  %s  \xe2\x86\x92 ", sr->st->line,
                   sr->st->text ? sr->st->text : "");
    scn_buf mine = {0};
    size_t ri = result_row(res, sr->st, cursor);
    *bad = sr->cell->has_expectation && !sr->cell->met;
    if (ri == NOROW || pi >= res->n_profiles) {
        scn_buf_free(&mine);
        return;
    }
    scn_cell_text(res, pi, &res->rows[ri].cells[pi], &mine);
    scn_buf_puts(main_txt, mine.s ? mine.s : "");
    for (size_t j = 0; j < res->n_profiles; j++) {
        const scn_cell *c = &res->rows[ri].cells[j];
        if (j == pi || c->kind == SCN_CELL_SKIPPED)
            continue;
        scn_buf theirs = {0};
        scn_cell_text(res, j, c, &theirs);
        /* A different port picked is no different outcome: compare (and
         * show) without the " :PORT". */
        const char *a = theirs.s ? theirs.s : "", *b = mine.s ? mine.s : "";
        size_t na = strcspn(a, ":"), nb = strcspn(b, ":");
        while (na && a[na - 1] == ' ')
            na--;
        while (nb && b[nb - 1] == ' ')
            nb--;
        if (theirs.s)
            theirs.s[na] = '\0';
        if (na != nb || strncmp(a, b, na) != 0)
            scn_buf_printf(other_txt, "%s%s: %s", other_txt->len ? "; " : "",
                           res->cols[j].name,
                           theirs.s ? theirs.s : "");
        scn_buf_free(&theirs);
    }
    scn_buf_free(&mine);
}

static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

/* Where lane i's k-th state change is drawn: at the last arrival of a
 * segment at it between the reading that saw the change and the one
 * before, else at that reading. */
static size_t change_row(const run *r, size_t i, size_t k)
{
    const samp *sp = &r->lanes[i].s[k];
    size_t best = NOROW;
    for (size_t m = 0; m < r->nsegs; m++) {
        const seg_rec *g = &r->segs[m];
        if (g->dst_lane == (long)i && g->arr_row != NOROW &&
            g->arr_row > sp->prev_row && g->arr_row <= sp->row &&
            (best == NOROW || g->arr_row > best))
            best = g->arr_row;
    }
    return best == NOROW ? sp->row : best;
}

#define GRID_MIN 8 /* sockets from which a run without segments is a grid */

/* A run without segments (a bind lesson) and many sockets: each socket
 * is drawn only over the rows where it takes part (created, operated on,
 * named as a culprit), and a column is reused once its socket is done:
 * the MS tables' 72 sockets fit in a few columns instead of 9,000 px. */
static void grid_spans(const run *r, layout *L)
{
    size_t seen = 0;
    for (size_t i = 0; i < r->n_ids; i++)
        seen += r->lanes[i].seen;
    L->grid = r->nsegs == 0 && seen > GRID_MIN;
    if (!L->grid)
        return;
    L->span_end = scn_xmalloc((r->n_ids + 1) * sizeof *L->span_end);
    for (size_t i = 0; i < r->n_ids; i++)
        L->span_end[i] = r->lanes[i].first_row;
    for (size_t k = 0; k < r->nsteps; k++) {
        const scn_stmt *st = r->steps[k].st;
        for (int j = 0; j < 2; j++) {
            int i = j ? st->new_sock : st->sock;
            if (i >= 0 && (size_t)i < r->n_ids && r->steps[k].row1 > L->span_end[i])
                L->span_end[i] = r->steps[k].row1;
        }
    }
    for (size_t k = 0; k < r->nnotes; k++) {
        long c = r->notes[k].culprit_lane;
        if (c >= 0 && r->notes[k].row > L->span_end[c])
            L->span_end[c] = r->notes[k].row;
    }
}

/* The first column (from x0) free over lane i's rows, a row apart. */
static long grid_slot(const run *r, const layout *L, size_t i, long x0)
{
    for (long slot = 0;; slot++) {
        bool free_ = true;
        for (size_t j = 0; j < i && free_; j++)
            if (L->lane_x[j] == x0 + slot * LANE_W + LANE_W / 2 &&
                !(L->span_end[j] + 1 < r->lanes[i].first_row ||
                  L->span_end[i] + 1 < r->lanes[j].first_row))
                free_ = false;
        if (free_)
            return slot;
    }
}

static void draw(const run *r, size_t pi, const scn_result *res,
                 const char *title, scn_buf *o)
{
    layout L;
    memset(&L, 0, sizeof L);
    size_t nr = r->nrows ? r->nrows : 1;
    L.y = scn_xmalloc(nr * sizeof *L.y);
    long y = TOP;
    for (size_t i = 0; i < r->nrows; i++) {
        if (i > 0) {
            uint64_t d = r->rows[i] - r->rows[i - 1];
            y += ROW_H + (d ? 4 * digits(d) : 0);
        }
        L.y[i] = y;
    }
    L.bottom = y + ROW_H + 10;

    /* Step column texts and width. */
    scn_buf *mt = scn_xmalloc((r->nsteps + 1) * sizeof *mt);
    scn_buf *ot = scn_xmalloc((r->nsteps + 1) * sizeof *ot);
    bool *bad = scn_xmalloc((r->nsteps + 1) * sizeof *bad);
    memset(mt, 0, (r->nsteps + 1) * sizeof *mt);
    memset(ot, 0, (r->nsteps + 1) * sizeof *ot);
    size_t cursor = 0, maxc = 20;
    for (size_t k = 0; k < r->nsteps; k++) {
        step_texts(r, pi, res, &mt[k], &ot[k], k, &cursor, &bad[k]);
        size_t c = utf8_len(mt[k].s);
        size_t c2 = ot[k].len ? utf8_len(ot[k].s) + 4 : 0;
        if (c2 > c)
            c = c2 * 9 / 10; /* the others are in a smaller font */
        if (c > maxc)
            maxc = c;
    }
    if (maxc > 70)
        maxc = 70; /* longer texts run under the lanes' grid lines */
    L.steps_x = TIME_W + 8;
    L.steps_w = (long)maxc * CH_W + 16;

    /* Columns: per host its sockets, then (stack) if a segment needs it. */
    L.lane_x = scn_xmalloc((r->n_ids + 1) * sizeof *L.lane_x);
    L.stack_x = scn_xmalloc((r->nhosts + 1) * sizeof *L.stack_x);
    L.host_x0 = scn_xmalloc((r->nhosts + 1) * sizeof *L.host_x0);
    L.host_x1 = scn_xmalloc((r->nhosts + 1) * sizeof *L.host_x1);
    for (size_t i = 0; i < r->n_ids; i++)
        L.lane_x[i] = -1;
    long x = L.steps_x + L.steps_w + 12;
    bool need_nowhere = false;
    grid_spans(r, &L);
    for (size_t h = 0; h < r->nhosts; h++) {
        L.host_x0[h] = x;
        long slots = 0;
        for (size_t i = 0; i < r->n_ids; i++) {
            if (!r->lanes[i].seen || r->lanes[i].host != r->hosts[h].id)
                continue;
            long slot = L.grid ? grid_slot(r, &L, i, x) : slots;
            L.lane_x[i] = x + slot * LANE_W + LANE_W / 2;
            if (slot == slots)
                slots++;
        }
        x += slots * LANE_W;
        bool need_stack = false;
        for (size_t k = 0; k < r->nsegs; k++) {
            const seg_rec *g = &r->segs[k];
            if ((g->src_lane < 0 && g->g.src_host == r->hosts[h].id) ||
                (g->dst_lane < 0 && g->g.dst_host == r->hosts[h].id))
                need_stack = true;
            if (g->g.dst_host == SM_NONE)
                need_nowhere = true;
        }
        L.stack_x[h] = -1;
        if (need_stack) {
            L.stack_x[h] = x + PSEUDO_W / 2;
            x += PSEUDO_W;
        }
        if (x == L.host_x0[h])
            x += PSEUDO_W;
        L.host_x1[h] = x;
        x += HOST_GAP;
    }
    L.nowhere_x = -1;
    if (need_nowhere) {
        L.nowhere_x = x + PSEUDO_W / 2;
        x += PSEUDO_W + HOST_GAP;
    }
    L.width = x + 20;
    long height = L.bottom + 40;

    scn_buf_printf(o,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%ld\" "
        "height=\"%ld\" viewBox=\"0 0 %ld %ld\" font-family=\"DejaVu Sans, "
        "Verdana, sans-serif\" font-size=\"11\">\n",
        L.width, height, L.width, height);
    scn_buf_puts(o,
        "<defs>\n"
        "<marker id=\"ah\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
        "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">"
        "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#333\"/></marker>\n"
        "<marker id=\"ahr\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
        "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">"
        "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#c00000\"/></marker>\n"
        "<style>"
        ".lbl{paint-order:stroke;stroke:#fff;stroke-width:3px;"
        "stroke-linejoin:round}"
        ".mono{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace}"
        "</style>\n"
        "</defs>\n");
    scn_buf_printf(o, "<rect x=\"0\" y=\"0\" width=\"%ld\" height=\"%ld\" "
                      "fill=\"#ffffff\"/>\n", L.width, height);
    scn_buf_puts(o, "<text x=\"12\" y=\"22\" font-size=\"15\" "
                    "font-weight=\"bold\">");
    esc(o, title);
    scn_buf_puts(o, "</text>\n");
    scn_buf_puts(o, "<text x=\"12\" y=\"40\" fill=\"#555\">Time runs down, "
                    "not to scale: every step and segment gets a row, gaps "
                    "grow with the log of the real time (real times on the "
                    "left). Arrows: segments, sender to receiver.</text>\n");

    /* Column heads. */
    scn_buf_printf(o, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">time"
                      "</text>\n", 12, TOP - 20);
    scn_buf_printf(o, "<text x=\"%ld\" y=\"%d\" font-weight=\"bold\">line  "
                      "step  \xe2\x86\x92 outcome under %s</text>\n",
                   L.steps_x, TOP - 20, sm_profile_name(r->p));
    for (size_t h = 0; h < r->nhosts; h++) {
        scn_buf_printf(o, "<rect x=\"%ld\" y=\"%d\" width=\"%ld\" "
                          "height=\"%ld\" fill=\"#f7f7f2\" stroke=\"#c8c8c0\" "
                          "rx=\"6\"/>\n",
                       L.host_x0[h] - 6, TOP - 44,
                       L.host_x1[h] - L.host_x0[h] + 12,
                       L.bottom - TOP + 44);
        scn_buf_printf(o, "<text x=\"%ld\" y=\"%d\" font-weight=\"bold\" "
                          "text-anchor=\"middle\">host ",
                       (L.host_x0[h] + L.host_x1[h]) / 2, TOP - 30);
        esc(o, r->hosts[h].name);
        scn_buf_puts(o, "</text>\n");
        if (L.stack_x[h] >= 0)
            scn_buf_printf(o, "<text x=\"%ld\" y=\"%d\" fill=\"#666\" "
                              "text-anchor=\"middle\">(stack)</text>\n",
                           L.stack_x[h], TOP - 12);
    }
    if (L.nowhere_x >= 0)
        scn_buf_printf(o, "<text x=\"%ld\" y=\"%d\" fill=\"#666\" "
                          "text-anchor=\"middle\">(nowhere)</text>\n",
                       L.nowhere_x, TOP - 12);
    for (size_t i = 0; i < r->n_ids; i++) {
        if (L.lane_x[i] < 0)
            continue;
        scn_buf_printf(o, "<text x=\"%ld\" y=\"%ld\" font-weight=\"bold\" "
                          "text-anchor=\"middle\" class=\"mono\">",
                       L.lane_x[i], L.grid ? L.y[r->lanes[i].first_row] - 4 : TOP - 12);
        esc(o, r->lanes[i].name ? r->lanes[i].name : res->file->socks[i]);
        scn_buf_puts(o, "</text>\n");
    }

    /* Time axis: a label where time moves on, a break mark on long gaps. */
    scn_buf_printf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%ld\" "
                      "stroke=\"#999\"/>\n", TIME_W - 4, TOP - 8, TIME_W - 4,
                   L.bottom);
    for (size_t i = 0; i < r->nrows; i++) {
        if (i > 0 && r->rows[i] == r->rows[i - 1])
            continue;
        scn_buf tb = {0};
        fmt_time(&tb, r->rows[i]);
        scn_buf_printf(o, "<line x1=\"%d\" y1=\"%ld\" x2=\"%d\" y2=\"%ld\" "
                          "stroke=\"#999\"/>"
                          "<text x=\"%d\" y=\"%ld\" text-anchor=\"end\" "
                          "fill=\"#333\">%s</text>\n",
                       TIME_W - 8, L.y[i], TIME_W - 4, L.y[i], TIME_W - 11,
                       L.y[i] + 4, tb.s);
        scn_buf_free(&tb);
        if (i > 0 && r->rows[i] - r->rows[i - 1] >= BREAK_NS) {
            long my = (L.y[i - 1] + L.y[i]) / 2;
            scn_buf gb = {0};
            fmt_time(&gb, r->rows[i] - r->rows[i - 1]);
            scn_buf_printf(o, "<path d=\"M%d,%ld l8,-4 l-8,-4\" fill=\"none\" "
                              "stroke=\"#999\"/>"
                              "<text x=\"%d\" y=\"%ld\" text-anchor=\"end\" "
                              "fill=\"#888\" font-style=\"italic\">+%s</text>\n",
                           TIME_W - 8, my + 6, TIME_W - 11, my + 4, gb.s);
            scn_buf_free(&gb);
        }
    }

    /* Faint rule at each step's row, across the lanes. */
    for (size_t k = 0; k < r->nsteps; k++)
        scn_buf_printf(o, "<line x1=\"%ld\" y1=\"%ld\" x2=\"%ld\" y2=\"%ld\" "
                          "stroke=\"#e4e4e4\"/>\n",
                       L.steps_x, L.y[r->steps[k].row0], L.width - 20,
                       L.y[r->steps[k].row0]);

    /* State bands. */
    for (size_t i = 0; i < r->n_ids; i++) {
        const lane *ln = &r->lanes[i];
        if (L.lane_x[i] < 0 || ln->ns == 0)
            continue;
        long bx = L.lane_x[i] - BAND_W / 2;
        /* Before the first reading (an accepted socket before accept):
         * from its first segment. */
        size_t first = ln->first_row;
        for (size_t k = 0; k < r->nsegs; k++) {
            const seg_rec *g = &r->segs[k];
            if (g->src_lane == (long)i && g->send_row < first)
                first = g->send_row;
            if (g->dst_lane == (long)i && g->arr_row < first)
                first = g->arr_row;
        }
        if (first < ln->first_row)
            scn_buf_printf(o, "<rect x=\"%ld\" y=\"%ld\" width=\"%d\" "
                              "height=\"%ld\" fill=\"#fafafa\" "
                              "stroke=\"#999\" stroke-dasharray=\"3,3\"/>"
                              "<text x=\"%ld\" y=\"%ld\" font-size=\"9\" "
                              "fill=\"#666\" font-style=\"italic\">not "
                              "accepted yet</text>\n",
                           bx, L.y[first], BAND_W,
                           L.y[ln->first_row] - L.y[first], bx + 4,
                           L.y[first] + 11);
        for (size_t k = 0; k < ln->ns; k++) {
            size_t from = k > 0 ? change_row(r, i, k) : ln->s[k].row;
            long y0 = L.y[from];
            long y1 = k + 1 < ln->ns ? L.y[change_row(r, i, k + 1)]
                                     : L.bottom - 10;
            if (L.grid) {
                if (from > L.span_end[i])
                    continue;
                long ye = L.y[L.span_end[i]] + ROW_H / 2;
                if (y1 > ye)
                    y1 = ye;
            }
            sm_tcp_state st = ln->s[k].st;
            bool last = k + 1 == ln->ns;
            /* A closed descriptor with nothing left: the column ends. */
            if (last && st == SM_CLOSED && ln->closed_row != NOROW) {
                long ye = L.y[ln->closed_row > from ? ln->closed_row : from];
                if (ye > y0)
                    scn_buf_printf(o, "<rect x=\"%ld\" y=\"%ld\" width=\"%d\" "
                                      "height=\"%ld\" fill=\"%s\" "
                                      "stroke=\"#888\"/>\n",
                                   bx, y0, BAND_W, ye - y0, state_fill(st));
                scn_buf_printf(o, "<line x1=\"%ld\" y1=\"%ld\" x2=\"%ld\" "
                                  "y2=\"%ld\" stroke=\"#555\" "
                                  "stroke-width=\"2\"/>"
                                  "<text x=\"%ld\" y=\"%ld\" font-size=\"9\" "
                                  "fill=\"#555\" text-anchor=\"middle\">"
                                  "CLOSED (gone)</text>\n",
                               bx, ye, bx + BAND_W, ye, L.lane_x[i], ye + 11);
                continue;
            }
            if (y1 <= y0)
                continue;
            scn_buf_printf(o, "<rect x=\"%ld\" y=\"%ld\" width=\"%d\" "
                              "height=\"%ld\" fill=\"%s\" stroke=\"#888\"/>\n",
                           bx, y0, BAND_W, y1 - y0, state_fill(st));
            if (y1 - y0 >= 12)
                scn_buf_printf(o, "<text x=\"%ld\" y=\"%ld\" font-size=\"10\" "
                                  "font-weight=\"bold\" fill=\"#222\" "
                                  "text-anchor=\"middle\">%s</text>\n",
                               L.lane_x[i], y0 + 11, sm_state_name(st));
        }
    }

    /* Segments. */
    for (size_t k = 0; k < r->nsegs; k++) {
        const seg_rec *g = &r->segs[k];
        long hs = host_index(r, g->g.src_host);
        long hd = host_index(r, g->g.dst_host);
        long x1 = g->src_lane >= 0 ? L.lane_x[g->src_lane]
                                   : (hs >= 0 ? L.stack_x[hs] : -1);
        long x2 = g->dst_lane >= 0 ? L.lane_x[g->dst_lane]
                  : g->g.dst_host == SM_NONE ? L.nowhere_x
                  : (hd >= 0 ? L.stack_x[hd] : -1);
        if (x1 < 0 || x2 < 0)
            continue;
        long ya = L.y[g->send_row];
        long yb = g->arr_row != NOROW ? L.y[g->arr_row] : ya + ROW_H / 2;
        long dir = x2 > x1 ? 1 : x2 < x1 ? -1 : 0;
        long half = BAND_W / 2;
        long sx = x1 + dir * (g->src_lane >= 0 ? half : 4);
        long ex = x2 - dir * (g->dst_lane >= 0 ? half : 4);
        bool rst = g->g.flags & SM_TH_RST;
        const char *col = rst ? "#c00000" : g->g.len ? "#1f4fa8" : "#333";
        scn_buf lb = {0};
        seg_label(&lb, &g->g);
        if (dir == 0) {
            /* Same column (a socket to itself, or host stack to host
             * stack): a loop on the right. */
            sx = x1 + half;
            ex = x1 + half;
            scn_buf_printf(o, "<path d=\"M%ld,%ld C%ld,%ld %ld,%ld %ld,%ld\" "
                              "fill=\"none\" stroke=\"%s\" "
                              "stroke-width=\"1.3\" marker-end=\"url(#%s)\"/>\n",
                           sx, ya, sx + 30, ya, ex + 30, yb, ex, yb, col,
                           rst ? "ahr" : "ah");
            scn_buf_printf(o, "<text x=\"%ld\" y=\"%ld\" class=\"lbl\" "
                              "font-size=\"10\" fill=\"%s\">%s</text>\n",
                           sx + 26, (ya + yb) / 2 + 4, col, lb.s);
        } else {
            scn_buf_printf(o, "<line x1=\"%ld\" y1=\"%ld\" x2=\"%ld\" "
                              "y2=\"%ld\" stroke=\"%s\" stroke-width=\"1.3\" "
                              "marker-end=\"url(#%s)\"/>\n",
                           sx, ya, ex, yb, col, rst ? "ahr" : "ah");
            /* Label near the sender end, above the line, so the labels of
             * crossing arrows do not land on each other. */
            long lx = sx + (ex - sx) / 4, ly = ya + (yb - ya) / 4 - 3;
            scn_buf_printf(o, "<text x=\"%ld\" y=\"%ld\" class=\"lbl\" "
                              "font-size=\"10\" fill=\"%s\" "
                              "text-anchor=\"middle\">%s</text>\n",
                           lx, ly, col, lb.s);
        }
        scn_buf_free(&lb);
    }

    /* Bind lessons: what each socket bound and set, and each refused bind
     * as a red dashed arrow to the socket it conflicted with, with the
     * rule (in full in the arrow's title). */
    for (size_t k = 0; k < r->nnotes; k++) {
        const note *n = &r->notes[k];
        if (n->lane >= r->n_ids || L.lane_x[n->lane] < 0)
            continue;
        long nx = L.lane_x[n->lane], yy = L.y[n->row];
        if (!n->conflict) {
            scn_buf_printf(o, "<text x=\"%ld\" y=\"%ld\" class=\"lbl mono\" "
                              "font-size=\"9\" fill=\"#0b4f8a\" "
                              "text-anchor=\"middle\">", nx, yy + 4);
            esc(o, n->text);
            scn_buf_puts(o, "</text>\n");
            continue;
        }
        long cx = n->culprit_lane >= 0 ? L.lane_x[n->culprit_lane] : -1;
        scn_buf_puts(o, "<g class=\"conflict\"><title>");
        esc(o, n->text);
        scn_buf_puts(o, " because of ");
        esc(o, n->culprit_name ? n->culprit_name : "?");
        scn_buf_puts(o, ": ");
        esc(o, n->rule);
        scn_buf_puts(o, "</title>\n");
        long lx = nx - BAND_W / 2;
        if (cx >= 0 && cx != nx) {
            long dir = cx > nx ? 1 : -1;
            scn_buf_printf(o, "<line class=\"conflict\" x1=\"%ld\" y1=\"%ld\" "
                              "x2=\"%ld\" y2=\"%ld\" "
                              "stroke=\"#c00000\" stroke-width=\"1.5\" "
                              "stroke-dasharray=\"5,3\" marker-end=\"url(#ahr)\"/>\n",
                           nx + dir * (BAND_W / 2), yy, cx - dir * (BAND_W / 2), yy);
            if (cx < nx)
                lx = cx - BAND_W / 2;
        }
        /* Under the arrow, from its left end, cut to the drawing's width
         * (about 5 px a character); the title has all of it. */
        scn_buf lb = {0};
        scn_buf_printf(&lb, "%s: %s", n->text, n->rule);
        if (cx < 0)
            scn_buf_printf(&lb, " (with %s)", n->culprit_name ? n->culprit_name : "?");
        size_t room = (size_t)((L.width - 20 - lx) / 5);
        if (room < 20)
            room = 20;
        if (utf8_len(lb.s) > room) {
            size_t cut = 0, chars = 0;
            while (lb.s[cut] && chars < room - 1) {
                cut++;
                while (((unsigned char)lb.s[cut] & 0xc0) == 0x80)
                    cut++;
                chars++;
            }
            lb.len = cut;
            lb.s[cut] = '\0';
            scn_buf_puts(&lb, "\xe2\x80\xa6");
        }
        scn_buf_printf(o, "<text x=\"%ld\" y=\"%ld\" class=\"lbl\" font-size=\"9\" "
                          "fill=\"#c00000\">", lx, yy + 11);
        esc(o, lb.s);
        scn_buf_puts(o, "</text></g>\n");
        scn_buf_free(&lb);
    }

    /* Steps, last so that nothing covers them. */
    for (size_t k = 0; k < r->nsteps; k++) {
        const step_rec *sr = &r->steps[k];
        long y0 = L.y[sr->row0], y1 = L.y[sr->row1];
        if (y1 > y0)
            scn_buf_printf(o, "<path d=\"M%ld,%ld h-4 V%ld h4\" fill=\"none\" "
                              "stroke=\"#777\"/>\n",
                           L.steps_x + 2, y0, y1);
        scn_buf_printf(o, "<text x=\"%ld\" y=\"%ld\" class=\"mono lbl\" "
                          "fill=\"%s\">",
                       L.steps_x + 6, y0 + 4, bad[k] ? "#c00000" : "#000");
        esc(o, mt[k].s ? mt[k].s : "");
        scn_buf_puts(o, "</text>\n");
        if (ot[k].len) {
            scn_buf_printf(o, "<text x=\"%ld\" y=\"%ld\" font-size=\"9\" "
                              "class=\"lbl\" fill=\"#8a4b00\">other profiles: ",
                           L.steps_x + 30, y0 + 15);
            esc(o, ot[k].s);
            scn_buf_puts(o, "</text>\n");
        }
    }

    /* Legend of the state colours. */
    long lx = 12, ly = L.bottom + 20;
    for (int s = 0; s < SM_STATE_COUNT; s++) {
        const char *nm = sm_state_name((sm_tcp_state)s);
        long w = (long)strlen(nm) * 7 + 14;
        scn_buf_printf(o, "<rect x=\"%ld\" y=\"%ld\" width=\"%ld\" "
                          "height=\"16\" fill=\"%s\" stroke=\"#888\"/>"
                          "<text x=\"%ld\" y=\"%ld\" font-size=\"10\" "
                          "text-anchor=\"middle\">%s</text>\n",
                       lx, ly - 12, w, state_fill((sm_tcp_state)s),
                       lx + w / 2, ly, nm);
        lx += w + 6;
    }
    scn_buf_puts(o, "</svg>\n");

    for (size_t k = 0; k < r->nsteps; k++) {
        scn_buf_free(&mt[k]);
        scn_buf_free(&ot[k]);
    }
    free(mt);
    free(ot);
    free(bad);
    free(L.y);
    free(L.span_end);
    free(L.lane_x);
    free(L.stack_x);
    free(L.host_x0);
    free(L.host_x1);
}

/* ---- files ------------------------------------------------------------------ */

static void close_all(scn_svg *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->fp[i]) {
            fclose(s->fp[i]);
            s->fp[i] = NULL;
        }
}

static scn_svg *svg_new(const scn_file *f, const sm_profile *const *profiles,
                        const char *const *paths, size_t n, char *err, size_t errlen)
{
    scn_svg *s = scn_xmalloc(sizeof *s);
    memset(s, 0, sizeof *s);
    s->f = f;
    s->n = n;
    s->profiles = scn_xmalloc((n + 1) * sizeof *s->profiles);
    s->paths = scn_xmalloc((n + 1) * sizeof *s->paths);
    s->fp = scn_xmalloc((n + 1) * sizeof *s->fp);
    s->runs = scn_xmalloc((n + 1) * sizeof *s->runs);
    memset(s->runs, 0, (n + 1) * sizeof *s->runs);
    for (size_t i = 0; i < n; i++) {
        s->profiles[i] = profiles[i];
        s->paths[i] = paths ? dup_str(paths[i]) : NULL;
        s->fp[i] = NULL;
        s->runs[i].p = profiles[i];
    }
    for (size_t i = 0; paths && i < n; i++) {
        s->fp[i] = fopen(paths[i], "wb");
        if (!s->fp[i]) {
            if (errlen)
                snprintf(err, errlen, "cannot write %s: %s", paths[i],
                         strerror(errno));
            scn_svg_free(s);
            return NULL;
        }
    }
    return s;
}

static bool svg_draw(scn_svg *s, const scn_result *r, const sm_profile *p, scn_buf *out)
{
    size_t i = 0;
    while (i < s->n && s->profiles[i] != p)
        i++;
    if (i == s->n || !s->runs[i].done)
        return false;
    size_t pi = 0;
    while (pi < r->n_profiles && r->cols[pi].profile != p)
        pi++;
    scn_buf title = {0};
    scn_buf_printf(&title, "%s \xe2\x80\x94 profile %s",
                   s->f->path ? s->f->path : "-", sm_profile_name(p));
    draw(&s->runs[i], pi, r, title.s, out);
    scn_buf_free(&title);
    return true;
}

static int svg_write(scn_svg *s, const scn_result *r, char *err, size_t errlen)
{
    int rc = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!s->fp[i])
            continue;
        size_t pi = 0;
        while (pi < r->n_profiles && r->cols[pi].profile != s->profiles[i])
            pi++;
        scn_buf title = {0}, out = {0};
        scn_buf_printf(&title, "%s \xe2\x80\x94 profile %s",
                       s->f->path ? s->f->path : "-",
                       sm_profile_name(s->profiles[i]));
        draw(&s->runs[i], pi, r, title.s, &out);
        bool ok = fwrite(out.s, 1, out.len, s->fp[i]) == out.len;
        ok = (fclose(s->fp[i]) == 0) && ok;
        s->fp[i] = NULL;
        if (!ok && rc == 0) {
            if (errlen)
                snprintf(err, errlen, "cannot write %s: %s", s->paths[i],
                         strerror(errno));
            rc = -1;
        }
        scn_buf_free(&title);
        scn_buf_free(&out);
    }
    return rc;
}

void scn_svg_free(scn_svg *s)
{
    if (!s)
        return;
    close_all(s);
    for (size_t i = 0; i < s->n; i++) {
        run *r = &s->runs[i];
        for (size_t j = 0; r->lanes && j < r->n_ids; j++) {
            free(r->lanes[j].s);
            free(r->lanes[j].tp);
            free(r->lanes[j].name);
        }
        for (size_t j = 0; j < r->nxl; j++) {
            free(r->xl[j].s);
            free(r->xl[j].tp);
        }
        free(r->xl);
        free(r->more);
        for (size_t j = 0; j < r->nnotes; j++) {
            free(r->notes[j].text);
            free(r->notes[j].rule);
            free(r->notes[j].culprit_name);
        }
        free(r->notes);
        for (size_t j = 0; j < r->nhosts; j++)
            free(r->hosts[j].name);
        free(r->hosts);
        free(r->lanes);
        free(r->ids);
        free(r->rows);
        free(r->pend);
        free(r->segs);
        free(r->steps);
        free(s->paths[i]);
    }
    free(s->runs);
    free(s->paths);
    free(s->fp);
    free(s->profiles);
    free(s);
}

/* ---- entry points ---------------------------------------------------------
 * Under the program's recovery point as they are; without one, under their
 * own (scn__guarded): running out of memory is then their error return. */

typedef struct svg_args {
    scn_svg *s;
    const scn_file *f;
    const sm_profile *const *profiles;
    const char *const *paths;
    size_t n;
    const scn_result *r;
    const sm_profile *p;
    scn_buf *out;
    char *err;
    size_t errlen;
    scn_svg *made;
    int rc;
    bool drawn;
} svg_args;

static void oom_message(char *err, size_t errlen)
{
    if (errlen)
        snprintf(err, errlen, "out of memory");
}

static void guarded_new(void *ctx)
{
    svg_args *a = ctx;
    a->made = svg_new(a->f, a->profiles, a->paths, a->n, a->err, a->errlen);
}

scn_svg *scn_svg_new(const scn_file *f, const sm_profile *const *profiles,
                     const char *const *paths, size_t n, char *err, size_t errlen)
{
    svg_args a = {.f = f, .profiles = profiles, .paths = paths, .n = n, .err = err,
                  .errlen = errlen};
    if (!scn__guarded(guarded_new, &a)) {
        oom_message(err, errlen);
        return NULL;
    }
    return a.made;
}

static void guarded_draw(void *ctx)
{
    svg_args *a = ctx;
    a->drawn = svg_draw(a->s, a->r, a->p, a->out);
}

bool scn_svg_draw(scn_svg *s, const scn_result *r, const sm_profile *p, scn_buf *out)
{
    svg_args a = {.s = s, .r = r, .p = p, .out = out};
    if (!scn__guarded(guarded_draw, &a)) {
        out->failed = true;
        return false;
    }
    return a.drawn;
}

static void guarded_write(void *ctx)
{
    svg_args *a = ctx;
    a->rc = svg_write(a->s, a->r, a->err, a->errlen);
}

int scn_svg_write(scn_svg *s, const scn_result *r, char *err, size_t errlen)
{
    svg_args a = {.s = s, .r = r, .err = err, .errlen = errlen};
    if (!scn__guarded(guarded_write, &a)) {
        oom_message(err, errlen);
        return -1;
    }
    return a.rc;
}
