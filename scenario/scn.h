/*
 * scn.h - scenario files: the parsed form (AST), the parser, the runner
 * and the reports.
 *
 * A scenario (.scn) says, one statement per line, what programs do with
 * sockets and what each call should return (the language is fixed by
 * shared/spec/scenario-language.md).  scn_parse_buffer() turns a file into
 * an scn_file; scn_run_file() runs it under each selected OS profile in a
 * fresh engine world (engine/sm.h) and records one outcome per (step,
 * profile); scn_report_*() print the outcomes as a table, as explanations
 * or as JSON.  Everything here is deterministic: the same input gives the
 * same bytes out.
 *
 * Memory: every object hangs off its scn_file or scn_result and is freed
 * with it.  Allocation failure returns control to the program's recovery
 * point (scn_oom_point), which reports it; the library never exits.
 */
#ifndef SCN_H
#define SCN_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sm.h"

/* ---- limits (each one is reported as an error, never truncated) ------- */

#define SCN_MAX_LINE 4096        /* bytes per line, without the newline */
#define SCN_MAX_NAME 64          /* characters per name */
#define SCN_MAX_STMTS 250000     /* statements per file (a 20,000-socket churn is 100,382) */
#define SCN_MAX_FILE (64u << 20) /* bytes per file */
#define SCN_MAX_ERRORS 20        /* parse errors shown per file */
#define SCN_STEP_WIDTH 40        /* STEP column of the table */

/* ---- memory ------------------------------------------------------------ */

/* A bump allocator: many small objects, freed at once. */
typedef struct scn_arena {
    struct scn_chunk *head;
} scn_arena;

/* Out of memory: every allocation of the scenario libraries (scn_xmalloc,
 * scn_xrealloc, the arena, scn_buf, scn_map) that fails longjmp()s to
 * POINT, set by the program with setjmp() before it calls them; the
 * program then reports the error (sockmodel: exit 2).  What was being
 * built is abandoned.  Returns the previous point; NULL clears it.
 * A program that sets none is not aborted: the libraries' entry points
 * (parse, run, reports) then set a point of their own and return their
 * error ("out of memory"), and the building blocks below, called outside
 * any point, fail as malloc does: scn_xmalloc, scn_xrealloc, scn_alloc and
 * scn_strndup return NULL, a scn_buf stops growing and sets failed,
 * scn_map_put returns false. */
jmp_buf *scn_oom_point(jmp_buf *point);
/* For the libraries' entry points: true when no point is set, so the
 * entry point sets its own (setjmp, scn_oom_point) around its work and
 * clears it (scn_oom_point(NULL)) before it returns. */
bool scn__oom_need(void);
/* Runs fn(ctx) under the program's point, or under one of its own when
 * there is none: false when memory ran out there (fn did not finish). */
bool scn__guarded(void (*fn)(void *ctx), void *ctx);

void *scn_xmalloc(size_t n);
/* Zeroed N * SIZE bytes (calloc: a large block comes from fresh zero
 * pages, not written twice). */
void *scn_xcalloc(size_t n, size_t size);
void *scn_xrealloc(void *p, size_t n);
void *scn_alloc(scn_arena *a, size_t n); /* zeroed */
char *scn_strndup(scn_arena *a, const char *s, size_t n);
void scn_arena_free(scn_arena *a);

/* A growable string. */
typedef struct scn_buf {
    char *s;
    size_t len, cap;
    bool failed; /* out of memory with no recovery point: text was lost */
} scn_buf;

void scn_buf_add(scn_buf *b, const char *s, size_t n);
/* Room for EXTRA more bytes and the terminating NUL at s[len]; false (and
 * b->failed) when there is none: out of memory with no recovery point. */
bool scn_buf_reserve(scn_buf *b, size_t extra);
void scn_buf_puts(scn_buf *b, const char *s);
void scn_buf_printf(scn_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void scn_buf_free(scn_buf *b);

/* A map from names to numbers (keys are copied).  Lookups only: its
 * order never reaches any output. */
typedef struct scn_map {
    char **key;
    size_t *val;
    uint64_t *hash; /* each key's hash, compared before the key */
    size_t cap, n;
    scn_arena keys; /* the copies of the keys */
} scn_map;

long scn_map_find(const scn_map *m, const char *k, size_t n); /* -1: none */
bool scn_map_put(scn_map *m, const char *k, size_t v); /* add/replace; false: no memory */
void scn_map_free(scn_map *m);

/* Shell-style glob: '*', '?', '[abc]', '[a-z]', '[!a]' / '[^a]'.
 * Iterative; no recursion. */
bool scn_glob(const char *pat, const char *s);
bool scn_has_glob(const char *pat);

/* ---- profile patterns -------------------------------------------------- */

/* One comma-separated element of PATTERNS: a name or glob, maybe negated
 * with '!'; "all" matches every profile. */
typedef struct scn_pat {
    const char *glob;
    bool neg;
} scn_pat;

typedef struct scn_patlist {
    scn_pat *v;
    size_t n;
} scn_patlist;

/* Does the list select profile NAME?  A name is selected when it matches
 * one of the positive patterns (or there are none) and no negated one. */
bool scn_patlist_match(const scn_patlist *l, const char *name);

/* Does the list name NAME literally (a positive, glob-free NAME)?  Named
 * backends (`host`) are selected only this way, never by "all" or a glob. */
bool scn_patlist_names(const scn_patlist *l, const char *name);

/* Parses a --profile argument.  On error returns false and writes a message
 * to *err (caller frees with scn_buf_free). */
bool scn_patlist_parse_arg(scn_arena *a, const char *text, scn_patlist *out,
                           scn_buf *err);

/* ---- the parsed scenario ----------------------------------------------- */

typedef enum scn_kind {
    /* declarations: change the context, not shown as steps */
    SCN_PROFILE,
    SCN_HOST,
    SCN_ON,
    SCN_AS,
    SCN_PROC,
    /* steps */
    SCN_SYSCTL,
    SCN_SOCKET,
    SCN_SETSOCKOPT,
    SCN_BIND,
    SCN_LISTEN,
    SCN_CONNECT,
    SCN_ACCEPT,
    SCN_SEND,
    SCN_RECV,
    SCN_SHUTDOWN,
    SCN_CLOSE,
    SCN_EXIT,
    SCN_WAIT,
    SCN_DELAY,        /* extension: delay [loopback] DURATION */
    SCN_SENDTO,       /* second edition: sendto S ENDPOINT BYTES */
    SCN_RECVFROM,     /* recvfrom S BYTES */
    SCN_EXPECT_STATE,
    SCN_EXPECT_LOCAL,
    SCN_EXPECT_PENDING,
    SCN_EXPECT_ERROR,    /* expect S error ERRNO|none (SO_ERROR) */
    SCN_EXPECT_PEER,     /* expect S peer ENDPOINT (getpeername) */
    SCN_EXPECT_READABLE, /* expect S readable yes|no (poll POLLIN) */
    SCN_EXPECT_WRITABLE  /* expect S writable yes|no (poll POLLOUT) */
} scn_kind;

/* True for statements that are steps (rows of the report). */
bool scn_kind_is_step(scn_kind k);
bool scn_kind_is_check(scn_kind k); /* expect ... */

/* One clause of "=> PATTERNS: OUTCOME; ...".  The short form "=> OUTCOME"
 * is one clause with no patterns (matches every profile). */
typedef struct scn_clause {
    scn_patlist pats;
    const char *outcome; /* "ok" or an error name (portable or native) */
} scn_clause;

typedef struct scn_stmt {
    /* (fields ordered by size: a churn holds 100,000 of these) */
    scn_kind kind;
    unsigned line;
    const char *text; /* as written, comment and "=> ..." cut off, spaces
                         collapsed */
    scn_patlist guard;
    scn_clause *clauses; /* expectation; n_clauses == 0: none */
    const char *name; /* host, user, proc, sysctl key; exit: proc or NULL */
    const char **vals; /* sysctl values */
    sm_addr *addrs; /* host ... addr */
    const sm_profile *os; /* host, on: the profile the host is pinned to
                           * (host NAME ... os PROFILE), or NULL: it runs
                           * the column's */
    uint64_t n;       /* send/recv bytes, wait ns, expect pending;
                         expect readable/writable: 1 yes, 0 no */
    uint32_t n_clauses, n_vals, n_addrs; /* (each at most a line's words) */

    int sock;         /* socket operand (index in scn_file.socks), or -1 */
    int new_sock;     /* socket created (socket, accept), or -1 */
    int port_ref;     /* ep's port is `$S`: the port socket port_ref holds
                         (or held last), resolved when the step runs; -1 */
    sm_proto proto;   /* socket */
    int family;       /* socket: 4 or 6 */
    sm_option opt;    /* setsockopt */
    int v1, v2;       /* setsockopt values; listen backlog in v1 */
    sm_err err;       /* expect error (SM_OK: none) */
    sm_tcp_state state; /* expect state */
    sm_endpoint ep;   /* bind, connect, sendto, expect local / peer */
    bool guarded;
    bool unspec;      /* connect S unspec (AF_UNSPEC) */
    bool rd, wr;      /* shutdown; delay: rd = loopback */
} scn_stmt;

typedef struct scn_file {
    const char *path;
    scn_stmt *stmts;
    size_t n_stmts;
    const char **socks; /* socket names, in order of creation */
    size_t n_socks;
    bool has_profile;  /* a "profile" line was given */
    scn_patlist profile;
    scn_arena arena;
} scn_file;

/* Parses LEN bytes of TEXT as the scenario file PATH.  Every error is
 * written to ERRS (when not NULL) as "PATH:LINE:COL: error: WHAT".
 * Returns the number of errors; on 0, *out holds the file (free it with
 * scn_file_free), otherwise *out is NULL. */
size_t scn_parse_buffer(const char *path, const char *text, size_t len,
                        FILE *errs, scn_file **out);

/* Reads and parses PATH.  An unreadable file is reported on ERRS as
 * "sockmodel: error: cannot read PATH: REASON" and counts as one error. */
size_t scn_parse_path(const char *path, FILE *errs, scn_file **out);

void scn_file_free(scn_file *f);

/* ---- running ----------------------------------------------------------- */

typedef enum scn_cell_kind {
    SCN_CELL_SKIPPED = 0, /* a guard left the step out under this profile;
                           * with a message: the host profile could not
                           * reproduce it quickly (docs/host-profile.md) */
    SCN_CELL_CALL,        /* a call: r holds the result */
    SCN_CELL_CHECK,       /* an expect statement: observed holds the value */
    SCN_CELL_FAILED       /* the step could not be done (message says why) */
} scn_cell_kind;

/* A decision the engine made during a step besides its result (sm_event):
 * --explain prints it under the step, --json lists it in the outcome. */
typedef struct scn_event {
    sm_event_kind kind;
    uint64_t time_ns;
    const char *sock; /* the socket's scenario name, or NULL */
    uint32_t value;
    const sm_rule *rule;
} scn_event;

typedef struct scn_cell {
    /* (fields ordered by size: one per step and column) */
    sm_result r;
    const char *culprit;  /* name of r.culprit, or NULL */
    const char *observed; /* expect: what was seen */
    const char *message;  /* FAILED: why; CHECK: context */
    const char *expected; /* expected outcome / value, or NULL */
    const sm_profile *os; /* CALL on a pinned host: the profile that decided
                           * (and names the error); NULL: the column's */
    const char *os_host;  /* the pinned host's name */
    const scn_event *events; /* made during the step (model columns) */
    size_t n_events;
    scn_cell_kind kind;
    bool has_expectation;
    bool met;
    bool counted;         /* a read: the table shows "ok N" or "eof" */
} scn_cell;

typedef struct scn_row {
    const scn_stmt *st;
    scn_cell *cells; /* one per selected profile */
} scn_row;

/* One column of a run: a name, the OS profile whose rules and error names
 * it uses, and the backend that executes it (scn_backend.h).  The modelled
 * profiles run on the model backend; a name a backend registered (`host`:
 * the real kernel) runs on that backend, with the profile of the OS it is
 * (error names, sysctl keys). */
struct scn_backend;
typedef struct scn_column {
    const char *name;
    const sm_profile *profile;
    const struct scn_backend *backend;
} scn_column;

typedef struct scn_result {
    const scn_file *file;
    const scn_column *cols; /* registry order, then named backends */
    size_t n_profiles;      /* number of columns */
    scn_row *rows;
    size_t n_rows;
    scn_cell *cells; /* every row's cells, row after row */
    size_t outcomes; /* cells not skipped */
    size_t skipped;
    size_t passed, failed;
    uint64_t seed;
    scn_arena arena;
    int status;        /* 2: a column could not run at all; else 0 */
    const char *error; /* status 2: why (one line, for "sockmodel: error: ") */
} scn_result;

/* Which columns a file runs under: OVERRIDE (from --profile) when not
 * NULL, else the file's profile line, else all models.  Registry order,
 * then the named backends the patterns name literally.  Returns the count;
 * *out is malloc'ed (free()). */
size_t scn_select_columns(const scn_file *f, const scn_patlist *override,
                          scn_column **out);

/* The outcome the statement's expectation gives PROFILE: the first clause
 * whose patterns select it, or NULL. */
const char *scn_expected_outcome(const scn_stmt *st, const char *profile);

/* Runs F under the selected columns.  A step that cannot be done is a
 * FAILED cell; a column whose backend cannot start (no privilege for the
 * kernel's namespaces, a backend not built) sets status 2 and error, and
 * nothing of the run is reported. */
scn_result *scn_run_file(const scn_file *f, const scn_patlist *override,
                         uint64_t seed);

/* Callbacks around each model world (pcap output, drawings).  Columns
 * whose backend has no model world (scn_backend.no_world) never call
 * them.  P is the column's profile. */
typedef struct scn_hooks {
    void (*world_created)(void *ctx, sm_world *w, const sm_profile *p);
    void (*world_done)(void *ctx, sm_world *w, const sm_profile *p);
    /* After each step that ran under p: the statement, its cell, and the
     * engine id of every scenario socket (SM_NONE where none). */
    void (*step_done)(void *ctx, sm_world *w, const sm_profile *p,
                      const scn_stmt *st, const scn_cell *cell,
                      const sm_id *socks, size_t n_socks);
    void *ctx;
} scn_hooks;
scn_result *scn_run_file_hooks(const scn_file *f, const scn_patlist *override,
                               uint64_t seed, const scn_hooks *hooks);
void scn_result_free(scn_result *r);

/* ---- reports ----------------------------------------------------------- */

/* The table, the failure lines and the summary line of one file. */
/* Each report that allocates returns false when memory ran out under no
 * program recovery point: what it wrote is incomplete (the caller says so). */
bool scn_report_text(FILE *out, const scn_result *r, bool explain);
/* "N passed, M failed" */
void scn_report_totals(FILE *out, size_t passed, size_t failed);

/* One JSON document for all files: begin, file..., end.  Its "format" is
 * SCN_JSON_FORMAT; docs/schema/sockmodel-run-2.schema.json describes it.
 * A change a consumer could trip over is a new format version. */
#define SCN_JSON_FORMAT "sockmodel-run/2"
void scn_report_json_begin(FILE *out, uint64_t seed);
bool scn_report_json_file(FILE *out, const scn_result *r, bool first);
void scn_report_json_end(FILE *out, size_t passed, size_t failed);

/* An engine decision in words ("c1 entered TIME_WAIT for 60000 ms"). */
void scn_event_text(const scn_event *e, scn_buf *out);
/* The text of a cell as the table shows it ("ok :32769", "WSAEACCES!"). */
void scn_cell_text(const scn_result *r, size_t profile, const scn_cell *c,
                   scn_buf *out);
/* Why a cell came out as it did: the rule, and the culprit if any. */
void scn_cell_why(const scn_cell *c, scn_buf *out);
/* --explain's rule tag: " {ID}", or " {ID: CONFIDENCE}" below observed. */
void scn_cell_rule_tag(const scn_cell *c, scn_buf *out);

#endif /* SCN_H */
