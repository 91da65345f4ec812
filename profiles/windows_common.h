/*
 * windows_common.h - machinery shared by the two Windows profiles
 * (windows_classic.c: NT 4 SP4 .. XP/2000; windows.c: Server 2003 / Vista
 * and later).
 *
 * Windows decides a bind() by looking up a table published by Microsoft
 * ("Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE", Winsock docs): rows are the
 * socket that bound first, columns the socket that binds now, each described
 * by its option (none / SO_REUSEADDR / SO_EXCLUSIVEADDRUSE) and by the kind
 * of address it binds (wildcard / specific).  A profile file writes its
 * tables with SM__WIN_TABLE() so they read like the published ones; this
 * header and windows_common.c hold everything around the lookup: which
 * existing sockets take part, when two addresses overlap, the dual-stack
 * projection, the precedence between results, setsockopt, the ephemeral
 * port walk and the WSAE* names.
 */
#ifndef SM_WINDOWS_COMMON_H
#define SM_WINDOWS_COMMON_H

#include "sm_profile.h"
#include "tcp_common.h"

/* The three results a table cell can hold. */
enum sm__win_res {
    SM__WIN_OK = 0, /* Success */
    SM__WIN_IU,     /* WSAEADDRINUSE (10048) */
    SM__WIN_AC      /* WSAEACCES (10013) */
};

/* Option class of a bind (what the socket had set when it bound). */
enum sm__win_opt { SM__WIN_DEF = 0, SM__WIN_RA = 1, SM__WIN_EX = 2 };
/* Kind of the bound address. */
enum sm__win_kind { SM__WIN_W = 0, SM__WIN_S = 1 };

/* Row / column index: DEF-W DEF-S RA-W RA-S EX-W EX-S. */
#define SM__WIN_IDX(opt, kind) ((opt) * 2 + (kind))

typedef struct sm__win_cell {
    unsigned char res;  /* enum sm__win_res */
    sm_rule rule;       /* the cell as a rule record */
} sm__win_cell;

/* cell[first bind][second bind], both indexed with SM__WIN_IDX(). */
typedef struct sm__win_table {
    sm__win_cell cell[6][6];
} sm__win_table;

/*
 * SM__WIN_TABLE(NAME, SOURCE, 36 cells) builds a table from the cells in
 * the order Microsoft prints them (row by row: first bind DEF-W, DEF-S,
 * RA-W, RA-S, EX-W, EX-S; in each row the second bind in the same order).
 * A cell is one of the bare words OK, IU, AC.  Each cell gets its own
 * explanation string, built at compile time:
 *   "NAME: existing bind (no option, wildcard address) vs new bind
 *    (SO_REUSEADDR, specific address): WSAEACCES [SOURCE]"
 */
#define SM__WIN_RES_OK SM__WIN_OK
#define SM__WIN_RES_IU SM__WIN_IU
#define SM__WIN_RES_AC SM__WIN_AC
#define SM__WIN_TXT_OK "allowed"
#define SM__WIN_TXT_IU "WSAEADDRINUSE"
#define SM__WIN_TXT_AC "WSAEACCES"

#define SM__WIN_L0 "no option, wildcard address"
#define SM__WIN_L1 "no option, specific address"
#define SM__WIN_L2 "SO_REUSEADDR, wildcard address"
#define SM__WIN_L3 "SO_REUSEADDR, specific address"
#define SM__WIN_L4 "SO_EXCLUSIVEADDRUSE, wildcard address"
#define SM__WIN_L5 "SO_EXCLUSIVEADDRUSE, specific address"

/* Rule IDs: the table's ID, then the first and the second bind's class:
 * "windows.bind.same-user.def-w.ra-s".  The tables are Microsoft's: [D]. */
#define SM__WIN_ID_L0 "def-w"
#define SM__WIN_ID_L1 "def-s"
#define SM__WIN_ID_L2 "ra-w"
#define SM__WIN_ID_L3 "ra-s"
#define SM__WIN_ID_L4 "ex-w"
#define SM__WIN_ID_L5 "ex-s"

#define SM__WIN_CELL(id, name, src, row, col, r)                              \
    {SM__WIN_RES_##r,                                                         \
     SM_RULE(id "." SM__WIN_ID_##row "." SM__WIN_ID_##col, D,                  \
             name ": existing bind (" SM__WIN_##row ") vs new bind ("          \
                 SM__WIN_##col "): " SM__WIN_TXT_##r,                          \
             src)}

#define SM__WIN_ROW(id, name, src, row, a, b, c, d, e, f)                     \
    {SM__WIN_CELL(id, name, src, row, L0, a),                                 \
     SM__WIN_CELL(id, name, src, row, L1, b),                                 \
     SM__WIN_CELL(id, name, src, row, L2, c),                                 \
     SM__WIN_CELL(id, name, src, row, L3, d),                                 \
     SM__WIN_CELL(id, name, src, row, L4, e),                                 \
     SM__WIN_CELL(id, name, src, row, L5, f)}

#define SM__WIN_TABLE(id, name, src, a0, a1, a2, a3, a4, a5, b0, b1, b2, b3,  \
                      b4, b5, c0, c1, c2, c3, c4, c5, d0, d1, d2, d3, d4, d5, \
                      e0, e1, e2, e3, e4, e5, f0, f1, f2, f3, f4, f5)         \
    {{SM__WIN_ROW(id, name, src, L0, a0, a1, a2, a3, a4, a5),                 \
      SM__WIN_ROW(id, name, src, L1, b0, b1, b2, b3, b4, b5),                 \
      SM__WIN_ROW(id, name, src, L2, c0, c1, c2, c3, c4, c5),                 \
      SM__WIN_ROW(id, name, src, L3, d0, d1, d2, d3, d4, d5),                 \
      SM__WIN_ROW(id, name, src, L4, e0, e1, e2, e3, e4, e5),                 \
      SM__WIN_ROW(id, name, src, L5, f0, f1, f2, f3, f4, f5)}}

/* The 36 records of table t, for a rule set. */
#define SM__WIN_ROW_RULES(t, i)                                               \
    &(t).cell[i][0].rule, &(t).cell[i][1].rule, &(t).cell[i][2].rule,         \
        &(t).cell[i][3].rule, &(t).cell[i][4].rule, &(t).cell[i][5].rule
#define SM__WIN_TABLE_RULES(t)                                                \
    SM__WIN_ROW_RULES(t, 0), SM__WIN_ROW_RULES(t, 1), SM__WIN_ROW_RULES(t, 2), \
        SM__WIN_ROW_RULES(t, 3), SM__WIN_ROW_RULES(t, 4), SM__WIN_ROW_RULES(t, 5)

/* How the ephemeral port walk starts. */
enum sm__win_walk {
    SM__WIN_WALK_SEQUENTIAL,  /* one counter from the bottom of the range */
    SM__WIN_WALK_RANDOM_START /* counter starts at a seeded random port */
};

/* Everything that differs between the two Windows profiles. */
typedef struct sm__win_rules {
    /* Table for a second bind by the same user account; the only table
     * when other_user is NULL (classic Windows has no user dimension). */
    const sm__win_table *same_user;
    /* Table for a second bind by a different user account, or NULL. */
    const sm__win_table *other_user;

    /* Vista+ dual-stack sockets: IPV6_V6ONLY can be cleared and a dual
     * socket also occupies IPv4 addresses (see stacks in windows_common.c).
     * false: IPv6 sockets live in their own space only and IPV6_V6ONLY
     * cannot be set at all (XP's separate IPv6 stack). */
    bool dual_stack;

    /* The "counts(e, s)" flag of windows.md section 2.2
     * (excl_blocks_on_inactive_tcbs): a TCB without a bind of its own -
     * an accepted connection, a closed socket still winding down
     * (FIN_WAIT, CLOSING, LAST_ACK), a TIME_WAIT entry - never takes part
     * in a bind without SO_EXCLUSIVEADDRUSE; it takes part in a
     * SO_EXCLUSIVEADDRUSE bind when this is true. */
    bool excl_blocks_on_inactive_tcbs;

    /* Ephemeral ports: walk order, and the rule strings of a successful
     * pick and of an exhausted range. */
    enum sm__win_walk walk;
    const sm_rule *pick_rule;
    const sm_rule *exhausted_rule;

    /* Rule string for "the only owners of the port are in the other IP
     * stack" (IPv4 vs IPv6-only), which differs between the versions. */
    const sm_rule *other_stack_rule;

    /* connect() of an unbound socket: how the ephemeral port is chosen. */
    const sm__conn_scan *conn_scan;

    /* The window scale shift a SYN offers (0: no window scale option). */
    uint8_t wscale_shift;

    /* SO_REUSE_UNICASTPORT exists (Windows 10 / Server 2016). */
    bool reuse_unicastport;
} sm__win_rules;

/* The methods of both Windows profiles; each reads its rules from
 * self->data (an sm__win_rules). */
sm_verdict sm__win_bind(const sm_profile *self, const sm_bind_ctx *c);
/* Windows does not re-check at listen() in this model. */
sm_verdict sm__win_listen(const sm_profile *self, const sm_bind_ctx *c);
sm_verdict sm__win_setsockopt(const sm_profile *self, const sm_sock_view *s,
                              sm_option opt, int v1, int v2);
sm_verdict sm__win_pick_port(const sm_profile *self, sm_pick_ctx *c, uint16_t *port);
/* WSAE* names. */
const char *sm__win_err_name(const sm_profile *self, sm_err e);
sm_verdict sm__win_connect(const sm_profile *self, const sm_bind_ctx *c);
sm_verdict sm__win_pick_connect_port(const sm_profile *self, sm_pick_ctx *pc,
                                     uint16_t *port);
sm_tw_syn_verdict sm__win_tw_syn(const sm_profile *self, const sm_tw_syn_ctx *c);
/* TCP options as Windows lays them out (window scale from self->data). */
size_t sm__win_tcp_options(const sm_profile *self, const sm_tcpopt_ctx *c, uint8_t *out);
extern const sm_tcp_rules sm__win_tcp_rules;

#endif /* SM_WINDOWS_COMMON_H */
