/*
 * scn_backend.h - who executes a scenario column: the interface between
 * the runner (scn_run.c, the one interpreter of the statements) and an
 * executor.
 *
 * The runner walks the statements once per column.  It keeps what every
 * executor shares: the current user and process, which scenario sockets
 * exist under the column, which user an `exit NAME` means, guards,
 * expectations and the cells.  The backend performs the calls and reads
 * the state an `expect` line checks.  Two implementations: the model
 * (scn_model.c, an engine world per column, every OS profile) and the real
 * kernel (hostkernel/, Linux only, registered by the program under the
 * name `host`).  The runner never asks which one it drives.
 *
 * Socket operands: the runner calls a socket operation only for a socket
 * the backend created under this column (socket or accept returned ok);
 * for others it reports the bad descriptor itself.
 */
#ifndef SCN_BACKEND_H
#define SCN_BACKEND_H

#include "scn.h"

typedef struct scn_exec scn_exec; /* one column's world, backend-defined */

/* What a backend gets to open a column. */
typedef struct scn_open_args {
    const scn_file *file;
    const scn_column *col;
    uint64_t seed;
    scn_arena *arena;       /* the result's: strings that reach cells */
    const scn_hooks *hooks; /* model worlds only; may be NULL */
} scn_open_args;

/* One call: the statement and who makes it.  The backend may set the out
 * fields. */
typedef struct scn_call {
    const scn_stmt *st;
    const char *user, *proc; /* exit: the process that exits, its user */
    /* out */
    const char *culprit;   /* name of r.culprit (arena), or NULL */
    const char *fail;      /* the step could not be done: FAILED cell */
    const char *skip;      /* set: this step and every later one are
                            * skipped with this message */
    bool caller_owns;      /* accept: the new socket belongs to the
                            * calling process (exit resolution) */
    const sm_profile *os;  /* the call ran on a pinned host (host ... os
                            * PROFILE): its profile decided; else NULL */
    const char *os_host;   /* that host's name (arena) */
} scn_call;

typedef struct scn_backend {
    /* NULL when the column has a model world (hooks, --pcap, --svg run);
     * else why it cannot be captured or drawn (one clause). */
    const char *no_world;
    /* Opens a fresh world.  NULL with a one-line reason in *why when the
     * column cannot run at all. */
    scn_exec *(*open)(const scn_open_args *a, scn_buf *why);
    /* Ends the column (hooks' world_done) and frees everything.  NULL
     * with a reason when the process could not be restored (a fatal
     * state the caller must report). */
    const char *(*close)(scn_exec *x);

    /* Declarations: `host NAME addr...` (makes it current), `on NAME`. */
    void (*host)(scn_exec *x, const scn_stmt *st);
    void (*on)(scn_exec *x, const char *name);

    /* Steps.  Socket operands are st->sock / st->new_sock. */
    sm_result (*sysctl)(scn_exec *x, scn_call *c);
    sm_result (*socket)(scn_exec *x, scn_call *c);
    sm_result (*setsockopt)(scn_exec *x, scn_call *c);
    sm_result (*bind)(scn_exec *x, scn_call *c);
    sm_result (*listen)(scn_exec *x, scn_call *c);
    sm_result (*connect)(scn_exec *x, scn_call *c);
    sm_result (*accept)(scn_exec *x, scn_call *c);
    sm_result (*send)(scn_exec *x, scn_call *c);
    sm_result (*recv)(scn_exec *x, scn_call *c);
    sm_result (*shutdown)(scn_exec *x, scn_call *c);
    sm_result (*close_sock)(scn_exec *x, scn_call *c);
    sm_result (*exit)(scn_exec *x, scn_call *c);
    sm_result (*advance)(scn_exec *x, scn_call *c); /* wait */
    sm_result (*delay)(scn_exec *x, scn_call *c);

    /* What `expect` reads of socket SOCK (created under this column). */
    sm_tcp_state (*state)(scn_exec *x, int sock);
    bool (*local)(scn_exec *x, int sock, sm_endpoint *out); /* false: unbound */
    int (*pending)(scn_exec *x, int sock);
    /* Second edition.  A backend may leave any of these NULL: the step is
     * then "not modelled yet" under its columns. */
    sm_result (*sendto)(scn_exec *x, scn_call *c);   /* st->ep, st->n */
    sm_result (*recvfrom)(scn_exec *x, scn_call *c); /* st->n */
    /* getsockopt(SO_ERROR): the pending error, which the reading clears
     * where the OS clears it (SM_OK: none). */
    sm_err (*take_error)(scn_exec *x, int sock);
    /* getpeername(): false when the socket has no peer (ENOTCONN). */
    bool (*peer)(scn_exec *x, int sock, sm_endpoint *out);
    /* poll() now, without waiting: SM_POLL_IN / SM_POLL_OUT bits. */
    unsigned (*poll)(scn_exec *x, int sock);

    /* Context for a failed check: "socket NAME: state ..." into OUT. */
    void (*describe)(scn_exec *x, int sock, const char *name, scn_buf *out);

    /* After each step that ran: its cell is final.  May be NULL. */
    void (*step_done)(scn_exec *x, const scn_stmt *st, const scn_cell *cell);
    /* Optional: the decisions made during the step that just ran (in the
     * result's arena; *n = 0 when none), for --explain and --json. */
    const scn_event *(*step_events)(scn_exec *x, size_t *n);
} scn_backend;

/* A successful result that RULE (or nothing) explains; no culprit. */
sm_result scn_result_ok(const sm_rule *rule);

/* The model: every OS profile of the registry. */
extern const scn_backend scn_model_backend;

/* Named backends.  A name is reserved in the language (the parser accepts
 * it in patterns); the program registers the backend that answers to it
 * when it was built.  `host` is the only one: the real kernel. */
#define SCN_KERNEL_NAME "host"

/* Registers B under NAME (one of the reserved names) with the profile of
 * the OS it is (error names).  Returns false for an unknown name. */
bool scn_backend_register(const char *name, const scn_backend *b,
                          const sm_profile *os);
/* The registered backend for NAME, or NULL. */
const scn_backend *scn_backend_find(const char *name);
/* Is NAME reserved for a named backend? */
bool scn_backend_reserved(const char *name);

#endif /* SCN_BACKEND_H */
