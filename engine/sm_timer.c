/*
 * sm_timer.c - the world's clock: one binary heap of segment deliveries,
 * one of TIME_WAIT FIFO heads, and the heap of socket timers (a SYN
 * retransmission, an orphaned FIN_WAIT_2), run in the one order of
 * (virtual time, sequence).  sm_advance() moves the clock; a blocking call
 * runs it until it can return (sm__block_until).  Nothing reads a wall
 * clock.
 */
#include "sm_net.h"
#include "sm_sock.h"
#include "sm_tcp.h"
#include "sm_timewait.h"

#include <stdlib.h>
#include <string.h>

/* ---- rule records: what this file decides -------------------------------- */

static const sm_rule r_timer_syn_again = SM_RULE("sm.timer.syn-retransmit", S,
    "the SYN went unanswered: the retransmission timer sends it again and doubles "
    "its timeout", "RFC 6298 5.5; RFC 9293 3.8.1");
static const sm_rule r_timer_connect_gives_up = SM_RULE("sm.timer.connect-gives-up", S,
    "the connection timer ran out with the SYN unanswered: connect fails with "
    "ETIMEDOUT", "RFC 9293 3.8.1 (R2)");
static const sm_rule r_timer_finwait2 = SM_RULE("sm.timer.finwait2-timeout", I,
    "an orphaned FIN_WAIT_2 (closed, the peer never sent its FIN) times out and the "
    "connection is freed; RFC 9293 has no such timer, every stack adds one",
    "RFC 9293 3.6 (FIN-WAIT-2 waits for the peer); the stacks' FIN_WAIT_2 timers");

/* ---- the event heap ------------------------------------------------------ */

static bool ev_before(const sm__ev *a, const sm__ev *b)
{
    if (a->at != b->at)
        return a->at < b->at;
    return (int32_t)(a->seq - b->seq) < 0;
}

/* Every event draws its sequence number from one counter, whichever heap
 * it goes to: sm__step() takes the earliest of the heads, so events run in the
 * one order of (time, sequence) they would have in a single heap. */
void sm__ev_push(sm_world *w, uint64_t at, unsigned kind, uint32_t idx)
{
    struct sm__net *n = sm__net(w);
    sm__evheap *h = kind == SM__EV_TW_HEAD ? &n->twq : &n->dq;
    SM__GROW(w, h->a, h->n, h->cap, return); /* the world breaks */
    sm__ev e = {at, n->evseq++, (uint32_t)kind << 28 | idx};
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

static sm__ev ev_pop(sm__evheap *h)
{
    sm__ev top = h->a[0];
    sm__ev last = h->a[--h->n];
    size_t i = 0, len = h->n;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const sm__ev *best = &last;
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

static bool tev_before(const sm__tev *a, const sm__tev *b)
{
    if (a->at != b->at)
        return a->at < b->at;
    return (int32_t)(a->seq - b->seq) < 0;
}

static void tq_place(sm_world *w, size_t i, sm__tev e)
{
    w->net->tq[i] = e;
    w->socks[e.id].tpos = (uint32_t)i;
}

static void tq_up(sm_world *w, size_t i, sm__tev e)
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

static void tq_down(sm_world *w, size_t i, sm__tev e)
{
    struct sm__net *n = w->net;
    size_t len = n->ntq;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const sm__tev *best = &e;
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
    sm__tev last = n->tq[--n->ntq];
    if (pos == n->ntq)
        return;
    if (pos > 0 && tev_before(&last, &n->tq[(pos - 1) / 2]))
        tq_up(w, pos, last);
    else
        tq_down(w, pos, last);
}

static void tq_push(sm_world *w, uint64_t at, sm_id id)
{
    struct sm__net *n = sm__net(w);
    tq_remove(w, id);
    SM__GROW(w, n->tq, n->ntq, n->tqcap, return); /* the world breaks */
    sm__tev e = {at, n->evseq++, id};
    n->ntq++;
    tq_up(w, n->ntq - 1, e);
}

void sm__set_timer(sm_world *w, sm_id id, uint8_t kind, uint64_t at)
{
    sm__sock *s = &w->socks[id];
    if (s->timer_kind == SM__T_SYN && w->net)
        w->net->productive--;
    s->timer_kind = kind;
    s->timer_at = at;
    if (kind == SM__T_NONE) {
        if (w->net)
            tq_remove(w, id);
        return;
    }
    if (kind == SM__T_SYN)
        sm__net(w)->productive++;
    tq_push(w, at, id);
}


static void sock_timer(sm_world *w, sm_id id)
{
    sm__sock *s = &w->socks[id];
    uint8_t kind = s->timer_kind;
    sm__set_timer(w, id, SM__T_NONE, 0);
    s = &w->socks[id];
    if (kind == SM__T_SYN && s->state == SM_SYN_SENT) {
        if (w->now_ns >= s->connect_deadline) {
            sm__note(w, SM_EV_TIMER, id, 0, &r_timer_connect_gives_up);
            sm__conn_reset(w, id, SM_ETIMEDOUT);
            return;
        }
        sm__note(w, SM_EV_TIMER, id, s->syn_tries + 1u, &r_timer_syn_again);
        sm__send_flags(w, s, SM_TH_SYN, s->iss, 0);
        s->syn_tries++;
        uint64_t rto = sm_time_ms((uint64_t)w->hosts[s->host].tun[SM_TUN_SYN_RTO_MS]);
        unsigned shift = s->syn_tries < 16 ? s->syn_tries : 16;
        rto = rto > UINT64_MAX >> shift ? UINT64_MAX : rto << shift;
        uint64_t at = sm_time_add(w->now_ns, rto);
        if (at > s->connect_deadline)
            at = s->connect_deadline;
        sm__set_timer(w, id, SM__T_SYN, at);
    } else if (kind == SM__T_FIN_WAIT_2 && s->state == SM_FIN_WAIT_2 && s->orphan) {
        /* An orphaned FIN_WAIT_2 times out: freed silently, or dropped with
         * a RST where the profile says so. */
        if (w->net->etap) {
            const sm_rule *why = sm__hprof(w, s->host)->tcp->finwait2_timeout_rule;
            sm__note(w, SM_EV_TIMER, id, 0, why ? why : &r_timer_finwait2);
        }
        if (sm__hprof(w, s->host)->tcp->finwait2_timeout_rst)
            sm__conn_abort(w, id);
        else
            sm__conn_destroy(w, id);
    }
}

/* Process the earliest event if it is due by `limit`. */
bool sm__step(sm_world *w, uint64_t limit)
{
    struct sm__net *n = w->net;
    if (w->broken)
        return false; /* the clock stands still */
    /* The earliest of the three heads. */
    const sm__ev *best = NULL;
    sm__evheap *from = NULL;
    if (n->dq.n)
        best = &n->dq.a[0], from = &n->dq;
    if (n->twq.n && (!best || ev_before(&n->twq.a[0], best)))
        best = &n->twq.a[0], from = &n->twq;
    bool timer = false;
    if (n->ntq) {
        sm__ev t = {n->tq[0].at, n->tq[0].seq, 0};
        timer = !best || ev_before(&t, best);
    }
    if (timer) {
        sm__tev t = n->tq[0];
        if (t.at > limit)
            return false;
        if (t.at > w->now_ns)
            w->now_ns = t.at;
        sock_timer(w, t.id); /* takes the timer out of the heap first */
        return true;
    }
    if (!best || best->at > limit)
        return false;
    sm__ev e = ev_pop(from);
    if (e.at > w->now_ns)
        w->now_ns = e.at;
    uint32_t idx = e.what & 0x0fffffffu;
    switch (e.what >> 28) {
    case SM__EV_DELIVER: {
        sm_segment g = n->segs[idx];
        SM__GROW(w, n->seg_free, n->nfree, n->freecap, return false);
        n->seg_free[n->nfree++] = idx;
        n->productive--;
        sm__deliver(w, &g);
        break;
    }
    case SM__EV_TW_HEAD:
        sm__tw_expire_due(w, idx);
        break;
    default:
        break;
    }
    return true;
}

uint64_t sm_next_event(const sm_world *w)
{
    const struct sm__net *n = w->net;
    uint64_t at = UINT64_MAX;
    if (!n || w->broken)
        return at;
    if (n->dq.n && n->dq.a[0].at < at)
        at = n->dq.a[0].at;
    if (n->twq.n && n->twq.a[0].at < at)
        at = n->twq.a[0].at;
    if (n->ntq && n->tq[0].at < at)
        at = n->tq[0].at;
    return at;
}

void sm_advance(sm_world *w, uint64_t ns)
{
    uint64_t target = sm_time_add(w->now_ns, ns);
    if (target > SM_CLOCK_MAX) /* the clock stops at SM_CLOCK_MAX */
        target = w->now_ns > SM_CLOCK_MAX ? w->now_ns : SM_CLOCK_MAX;
    while (sm__step(w, target))
        ;
    w->now_ns = target;
}

typedef bool (*sm__done_fn)(const sm_world *w, sm_id id);

/* Run the world until done(id), or until `deadline`, or until nothing that
 * could make done() true is on its way.  Returns done(id). */
bool sm__block_until(sm_world *w, sm_id id, sm__done_fn done, uint64_t deadline)
{
    while (!done(w, id)) {
        struct sm__net *n = w->net;
        if (deadline == UINT64_MAX && (!n || n->productive == 0))
            return false;
        if (!sm__step(w, deadline)) {
            if (deadline != UINT64_MAX && deadline > w->now_ns)
                w->now_ns = deadline;
            return done(w, id);
        }
    }
    return true;
}

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_timer_syn_again,
    &r_timer_connect_gives_up,
    &r_timer_finwait2,
};
const sm_rule_set sm__rules_sm_timer = {"engine/sm_timer.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
