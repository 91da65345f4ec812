/*
 * pktdrill.h - packetdrill scripts on the model (issue 18): the parsed form of a
 * script (pkt_parse.c) and the runner that plays it under one OS profile
 * (pkt_run.c).
 *
 * A packetdrill script is a list of timed events: system calls made on the
 * socket under test, `<` segments a scripted peer sends, `>` segments the
 * stack must send back, back-quoted shell commands, and %{ }% code blocks.
 * The parser is our own, written from packetdrill's documented syntax; it
 * keeps every event with its line and column so that a mismatch can be
 * reported as SCRIPT:LINE: PROFILE: ....
 *
 * This library sits on libsockmodel (engine/sm.h) only.  Public prefix:
 * pkt_.
 */
#ifndef PKTDRILL_H
#define PKTDRILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the parsed script ----------------------------------------------- */

typedef enum pkt_kind {
    PKT_IN,    /* < a segment from the peer */
    PKT_OUT,   /* > a segment the stack must send */
    PKT_CALL,  /* a system call */
    PKT_SHELL, /* `command` */
    PKT_CODE   /* %{ code }% */
} pkt_kind;

typedef enum pkt_tkind {
    PKT_T_ABS, /* 1.5 */
    PKT_T_REL, /* +0.1: after the previous event */
    PKT_T_ANY  /* *: any time (outbound segments) */
} pkt_tkind;

/* An event's time, in microseconds.  A range (a~b) allows any time in it;
 * a blocking call's end time (start...end) says when it returns. */
typedef struct pkt_time {
    pkt_tkind kind;
    int64_t us;
    bool range;
    int64_t range_end_us;  /* a~b: b (relative if kind is PKT_T_REL) */
    bool blocking;         /* start...end */
    bool end_rel;          /* the end carries a '+' */
    int64_t end_us;
} pkt_time;

/* TCP options as a script writes them. */
enum {
    PKT_OPT_EOL = 0, PKT_OPT_NOP = 1, PKT_OPT_MSS = 2, PKT_OPT_WSCALE = 3,
    PKT_OPT_SACKOK = 4, PKT_OPT_SACK = 5, PKT_OPT_TS = 8
};
#define PKT_MAX_OPTS 40

typedef struct pkt_tcpopt {
    uint8_t kind;
    uint32_t a, b; /* mss / wscale value; TS val and ecr */
} pkt_tcpopt;

/* Flag bits beyond the SM_TH_* ones: ECE and CWR (E, W), URG (U). */
#define PKT_TH_URG 0x20u
#define PKT_TH_ECE 0x40u
#define PKT_TH_CWR 0x80u

typedef struct pkt_seg {
    uint8_t flags;       /* SM_TH_* | PKT_TH_* */
    bool seq_any;        /* ...(len): any sequence number */
    uint32_t seq, end;   /* start:end, relative to the sender's ISN */
    uint32_t len;
    bool has_ack;
    uint32_t ack;
    bool has_win;
    uint32_t win;
    int opts;            /* 0: none stated, 1: the list, 2: <...> (any) */
    pkt_tcpopt opt[PKT_MAX_OPTS];
    size_t nopt;
} pkt_seg;

/* A system call argument or result expression. */
typedef enum pkt_xkind {
    PKT_X_ANY,    /* ... */
    PKT_X_NUM,    /* 3, 0x02, -1 */
    PKT_X_SYM,    /* SOCK_STREAM, ECONNRESET */
    PKT_X_STR,    /* "text" */
    PKT_X_LIST,   /* [65536], [1, 2] */
    PKT_X_OR,     /* O_RDWR | O_NONBLOCK */
    PKT_X_BRACE   /* {...}: kept as text, not interpreted */
} pkt_xkind;

typedef struct pkt_expr {
    pkt_xkind kind;
    int64_t num;
    const char *text;        /* SYM, STR, BRACE */
    struct pkt_expr *kid;    /* LIST, OR: nkid items */
    size_t nkid;
} pkt_expr;

typedef struct pkt_call {
    const char *name;
    pkt_expr *arg;
    size_t narg;
    pkt_expr ret;            /* a number (or ... : any) */
    const char *err;         /* errno name, or NULL */
} pkt_call;

typedef struct pkt_guard {
    const char *name;
    bool defined;            /* #ifdef (true) or #ifndef (false) */
} pkt_guard;
#define PKT_MAX_GUARDS 4

typedef struct pkt_event {
    pkt_kind kind;
    int line, col;
    pkt_time t;
    pkt_seg seg;             /* PKT_IN, PKT_OUT */
    pkt_call call;           /* PKT_CALL */
    const char *text;        /* PKT_SHELL, PKT_CODE */
    pkt_guard guard[PKT_MAX_GUARDS];
    size_t nguard;
} pkt_event;

typedef struct pkt_option {
    const char *name;        /* without the leading -- */
    const char *value;       /* NULL: a flag */
    int line;
} pkt_option;

typedef struct pkt_script pkt_script;
struct pkt_script {
    const char *path;
    pkt_option *opt;
    size_t nopt;
    pkt_event *ev;
    size_t nev;
    void *arena_;            /* every byte of the script lives here */
};

/* What a script may hold (a hostile one cannot make the parser take more
 * than about 1 GiB): its size, and its events and option lines. */
#define PKT_MAX_BYTES ((size_t)64 << 20)
#define PKT_MAX_EVENTS 1000000

/* Parses TEXT (LEN bytes) read from PATH.  On error returns NULL and
 * writes "PATH:LINE:COL: message" into err (ERRLEN bytes). */
pkt_script *pkt_parse(const char *path, const char *text, size_t len, char *err,
                      size_t errlen);
/* Reads and parses the file PATH ("PATH: cannot read" on error). */
pkt_script *pkt_load(const char *path, char *err, size_t errlen);
void pkt_script_free(pkt_script *s);

/* ---- running ---------------------------------------------------------- */

typedef enum pkt_verdict {
    PKT_PASS = 0,
    PKT_FAIL,        /* a segment or a call differs from the script */
    PKT_CANNOT,      /* the script needs something the runner cannot do */
    PKT_ERROR        /* the model could not go on (out of memory, a cap):
                      * no verdict on the script; why says what */
} pkt_verdict;

typedef struct pkt_run_opts {
    bool lenient;    /* option and window differences are reported only */
    bool verbose;    /* also list ignored commands and unchecked values */
    FILE *out;       /* messages (mismatches, notes); NULL: none */
    uint64_t seed;
} pkt_run_opts;

typedef struct pkt_outcome {
    pkt_verdict verdict;
    int line;             /* the event that decided a FAIL/CANNOT */
    char why[256];        /* one line: what differed, or what is missing */
    unsigned unchecked;   /* values the model cannot give (noted, not failed) */
    unsigned ignored;     /* commands with no model counterpart */
    unsigned lenient;     /* differences --lenient let through */
} pkt_outcome;

/* Plays script S under profile P. */
void pkt_run(const pkt_script *s, const sm_profile *p, const pkt_run_opts *o,
             pkt_outcome *out);

const char *pkt_verdict_name(pkt_verdict v);

#ifdef __cplusplus
}
#endif
#endif /* PKTDRILL_H */
