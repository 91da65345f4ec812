/*
 * tcp_common.c - connection rules shared by several profiles (see
 * tcp_common.h).  Pure functions over the views the engine hands out.
 */
#include "tcp_common.h"

#include <string.h>

bool sm__addr_same(const sm_addr *a, const sm_addr *b)
{
    sm_addr x = sm__addr_unmapped(a), y = sm__addr_unmapped(b);
    return sm_addr_equal(&x, &y);
}

bool sm__addr_overlaps(const sm_addr *a, const sm_addr *b)
{
    sm_addr x = sm__addr_unmapped(a), y = sm__addr_unmapped(b);
    if (sm_addr_is_any(&x) || sm_addr_is_any(&y))
        return true;
    return sm_addr_equal(&x, &y);
}

int sm__find_tuple(const sm_bind_ctx *c)
{
    int best = -1;
    for (size_t i = 0; i < c->n_owners; i++) {
        const sm_sock_view *o = &c->owners[i];
        if (!o->connected || o->port != c->self.port ||
            o->remote.port != c->self.remote.port)
            continue;
        if (!sm__addr_same(&o->local_addr, &c->self.local_addr) ||
            !sm__addr_same(&o->remote.addr, &c->self.remote.addr))
            continue;
        if (best < 0 || o->seq < c->owners[best].seq)
            best = (int)i;
    }
    return best;
}

sm_verdict sm__connect_unique(const sm_bind_ctx *c, sm_err err,
                              const sm_rule *clash_rule, const sm_rule *tw_rule,
                              const sm_rule *ok_rule)
{
    int k = sm__find_tuple(c);
    if (k < 0)
        return sm__ok(ok_rule);
    return sm__fail(err, c->owners[k].time_wait ? tw_rule : clash_rule, k);
}

bool sm__conn_port_usable(const sm__conn_scan *s, const sm_bind_ctx *c)
{
    for (size_t i = 0; i < c->n_owners; i++) {
        const sm_sock_view *o = &c->owners[i];
        if (o->time_wait && s->tw_blocks_port)
            return false;
        if (!s->share_destinations)
            return false;
        if (!o->connected) {
            /* A bound or listening socket the new connection's lookup
             * would match. */
            if (sm__addr_overlaps(&o->local_addr, &c->self.local_addr))
                return false;
            continue;
        }
        if (o->remote.port == c->self.remote.port &&
            sm__addr_same(&o->local_addr, &c->self.local_addr) &&
            sm__addr_same(&o->remote.addr, &c->self.remote.addr))
            return false;
    }
    return true;
}

sm_verdict sm__conn_scan_pick(const sm__conn_scan *s, sm_pick_ctx *pc,
                              uint16_t *port)
{
    const int64_t *tun = sm__pick_tun(pc);
    uint32_t first = (uint32_t)tun[SM_TUN_PORT_LO];
    uint32_t last = (uint32_t)tun[SM_TUN_PORT_HI];
    if (first > last) {
        uint32_t t = first;
        first = last;
        last = t;
    }
    /* Per-host state word 2: the last port connect() handed out. */
    uint64_t *lastport = &sm__pick_state(pc)[2 + (sm__pick_self(pc)->proto == SM_UDP)];
    if (s->random_start && tun[SM_TUN_RANDOM_PORTS])
        *lastport = first + (last > first ? sm__pick_rand(pc) % (last - first) : 0);
    for (uint32_t i = 0; i <= last - first; i++) {
        uint64_t p = *lastport + 1;
        if (p < first || p > last)
            p = first;
        *lastport = p;
        sm_bind_ctx bc;
        sm__pick_port_ctx(pc, (uint16_t)p, &bc);
        if (sm__conn_port_usable(s, &bc)) {
            *port = (uint16_t)p;
            return sm__ok(s->rule);
        }
    }
    return sm__fail(s->exhausted, s->exhausted_rule, -1);
}

size_t sm__select_oldest_listener(const sm_profile *self, const sm_listen_ctx *c)
{
    (void)self;
    size_t best = 0;
    for (size_t i = 1; i < c->n; i++) {
        uint64_t a = c->cands[i].listen_seq ? c->cands[i].listen_seq : c->cands[i].seq;
        uint64_t b = c->cands[best].listen_seq ? c->cands[best].listen_seq : c->cands[best].seq;
        if (a < b)
            best = i;
    }
    return best;
}

size_t sm__select_newest(const sm_profile *self, const sm_listen_ctx *c)
{
    (void)self;
    size_t best = 0;
    for (size_t i = 1; i < c->n; i++)
        if (c->cands[i].seq > c->cands[best].seq)
            best = i;
    return best;
}

/* ---- TCP options on the wire (RFC 9293 3.2, RFC 7323, RFC 2018) ---- */

void sm__opt_nop(uint8_t *out, size_t *n)
{
    out[(*n)++] = 1;
}

void sm__opt_mss(uint8_t *out, size_t *n, uint16_t mss)
{
    out[(*n)++] = 2;
    out[(*n)++] = 4;
    out[(*n)++] = (uint8_t)(mss >> 8);
    out[(*n)++] = (uint8_t)mss;
}

void sm__opt_wscale(uint8_t *out, size_t *n, uint8_t shift)
{
    out[(*n)++] = 3;
    out[(*n)++] = 3;
    out[(*n)++] = shift;
}

void sm__opt_sackok(uint8_t *out, size_t *n)
{
    out[(*n)++] = 4;
    out[(*n)++] = 2;
}

void sm__opt_ts(uint8_t *out, size_t *n, uint32_t val, uint32_t ecr)
{
    out[(*n)++] = 8;
    out[(*n)++] = 10;
    for (int i = 24; i >= 0; i -= 8)
        out[(*n)++] = (uint8_t)(val >> i);
    for (int i = 24; i >= 0; i -= 8)
        out[(*n)++] = (uint8_t)(ecr >> i);
}

void sm__opt_align(uint8_t *out, size_t *n, size_t rem)
{
    while (*n % 4 != rem)
        sm__opt_nop(out, n);
}
