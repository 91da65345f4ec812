/*
 * sm_sock.h - the socket record and its lifetime: allocation and recycling
 * (sm_sock.c), names (sm_intern.c), the end of a connection, and the view
 * a profile gets of a socket (sm_sock-inl.h).
 */
#ifndef SM_SOCK_H
#define SM_SOCK_H

#include "sm_world.h"

typedef struct sm__sock {
    const char *name;   /* NULL: a child named on demand (sm__sock_name) */
    uint32_t name_id;   /* its interned name, or SM__NONE32 (not interned) */
    uint32_t child_no;  /* a child: named "<parent_name>/<child_no>" */
    const char *parent_name;
    sm_id host, proc;
    /* From proto to listen_seq the record is laid out as sm_sock_view is,
     * member for member (checked in sm_sock.c), so that a view of it is
     * one block copy and a few fixes. */
    sm_proto proto;
    int family;
    sm_addr bound_addr;
    sm_addr local_addr;
    uint16_t port;
    sm_tcp_state state;
    bool bound;
    bool connected;
    sm_endpoint remote;
    bool nonblock;    /* (where a view has time_wait) */
    bool fd_open;
    sm_opts opt;      /* as set now */
    sm_opts at_bind;  /* latched when it bound */
    uint32_t uid;
    bool privileged;
    enum sm_how_bound how;
    uint64_t seq, listen_seq;
    int backlog;
    uint32_t bslot;     /* index inside its port's bucket (several owners) */
    uint32_t pslot;     /* index inside its process's socks[] */

    bool addr_only;     /* bind(addr, 0) with the port left to connect() */
    bool addr_named;    /* bind() named a specific local address (sm_sock_view) */
    bool name_kept;     /* its connection ended and took the port, but it
                         * still reports local_addr:port (conn_end_keeps_name) */

    /* ---- the connection ---- */
    bool orphan;        /* descriptor closed, the connection lives on */
    bool in_ctab;       /* in the 4-tuple demux table */
    bool in_listen;     /* in the listener index */
    bool accepted;      /* handed out by accept() (or never a child) */
    bool ts_ok;         /* timestamps negotiated */
    bool peer_ws, peer_sack; /* the peer's SYN offered window scale / SACK */
    bool mss_known;     /* the connection has an MSS (buffers rounded to it) */
    bool fin_pending;   /* a FIN goes out once the send queue drains */
    bool fin_sent;
    bool rd_shut, wr_shut;
    bool peer_fin;      /* the peer's FIN arrived: end of stream */
    bool epipe;         /* the reset was reported once: EPIPE from now on */
    bool conn_failed;   /* its last connect() failed */
    bool lingering;     /* close() is waiting in SO_LINGER */
    uint8_t timer_kind;
    uint8_t syn_tries;
    sm_err soerr;       /* pending error, reported by the next call */
    uint32_t iss, irs, snd_una, snd_nxt, rcv_nxt;
    uint32_t snd_wnd;   /* the peer's last advertised window */
    uint32_t ts_recent, ts_off;
    uint64_t sndq;      /* bytes written, not yet sent */
    uint64_t rcvq;      /* bytes received, not yet read */
    uint32_t syn_data;  /* data that came on a SYN, readable once ESTABLISHED */
    uint64_t timer_at;  /* the socket's one timer (0: none) */
    uint64_t connect_deadline;
    sm_id listener;     /* a child: its listener until accepted */
    sm_id *acceptq;     /* a listener: established children, FIFO */
    uint32_t aq_head, aq_n, aq_cap;
    sm_id *synq;        /* a listener: children still in SYN_RECEIVED */
    uint32_t sq_n, sq_cap;
    uint32_t kslot;     /* a child: index in its listener's synq */
    uint32_t tw;        /* its TIME_WAIT entry, or SM__NONE32 */
    uint32_t tpos;      /* position in the timer heap, or SM__NONE32 */
    uint32_t lbucket, lslot;
    bool dead;          /* on the free list (recycling) */
    bool reset_sticky;  /* the reset error repeats on every call */
    bool aq_reset;      /* reset while queued, kept in the accept queue
                         * (sm_tcp_rules.aq_reset) */
} sm__sock;

/* A descriptor the caller may use.  A broken world has none (its
 * nsocks_usable is 0), so that calls find out on their cold path. */
static inline bool sm__sock_ok(const sm_world *w, sm_id s)
{
    return s < w->nsocks_usable && w->socks[s].fd_open;
}

/* The result of a call on descriptor that is not usable: EBADF, or the
 * world's error when it is broken. */
static inline sm_result sm__badf(const sm_world *w, const sm_rule *rule)
{
    return w->broken ? sm__broken_result(w) : sm__rfail(SM_EBADF, rule);
}

/* The process forgets descriptor id (its list is in no particular order). */
static inline void sm__proc_forget(sm_world *w, sm_id id)
{
    sm__sock *s = &w->socks[id];
    sm__proc *p = &w->procs[s->proc];
    sm_id last = p->socks[--p->nsocks];
    p->socks[s->pslot] = last;
    w->socks[last].pslot = s->pslot;
}

/* sm_sock.c: records. */
void sm__sock_maybe_free(sm_world *w, sm_id id);
void sm__socks_free(sm_world *w);
/* The connection is over (reset, closed, timed out): see sm_sock.c. */
void sm__conn_destroy(sm_world *w, sm_id id);
/* ... with error e left for the descriptor's next call. */
void sm__conn_reset(sm_world *w, sm_id id, sm_err e);
/* ... abortively: a RST to the peer where a connection exists. */
void sm__conn_abort(sm_world *w, sm_id id);

/* sm_intern.c: interned bytes (names with their NUL, IPv6 addresses): one
 * copy each, never moved or freed before the world.  Out of memory:
 * SM__NONE32 (or NULL), and the world breaks. */
uint32_t sm__intern(sm_world *w, const void *bytes, size_t len);
uint32_t sm__name_id(sm_world *w, const char *name);
/* Bytes stored once, not interned (a socket's own name). */
const char *sm__bytes_store(sm_world *w, const void *bytes, size_t n);
const char *sm__sock_name(const sm_world *w, sm_id id);
void sm__names_free(sm_world *w);

#endif
