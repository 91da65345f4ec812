/*
 * cmd_replay.c - `sockmodel replay`: reads a capture (replay/pkt_read.c),
 * drives the replay model (replay/track.c) under one or more OS profiles,
 * and reports what each OS's socket layer went through: per connection
 * (endpoints, who opened and who closed first, each side's final state
 * per profile, a Zeek conn_state summary), per host (TIME_WAIT entries
 * over time, client ports in use per destination) and the events that
 * differ between OSes (SYN or RST into TIME_WAIT, 4-tuple reuse, port
 * exhaustion).  Output: text, --json, --timeline CSV, --svg plot.
 *
 * Connections are reported when their record closes (the order their
 * records closed; each carries its first-seen number), so the output
 * streams and memory stays bounded by what is live.  Everything is
 * deterministic: the same capture and options give the same bytes, with
 * or without the reader's read-ahead thread (--threads) and the helper
 * that formats host sections at the end of the capture (hostwork).
 */
#define _POSIX_C_SOURCE 200809L /* sysconf */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_opt.h"
#include "cmds.h"
#include "smu_ip.h"
#include "smu_text.h"
#include "pkt.h"
#include "scn.h"
#include "track.h"

#define MAX_OVR 64

typedef struct opts {
    const char *profile;
    const char *scenario;
    const char *timeline;
    const char *svg;
    const char *file;
    bool json;
    bool no_conns;
    bool timing;
    bool verify_csum;
    int threads; /* 0: by the number of cores */
    uint64_t interval_ns;
    uint64_t max_events;
    sm_addr ovr_addr[MAX_OVR];
    const sm_profile *ovr_prof[MAX_OVR];
    size_t novr;
} opts;

/* A text of at most sizeof s - 1 bytes, copied whole (a copy of constant
 * size is a few moves; one of the text's length was a library call): the
 * bytes past n land where the line goes on, so the buffer needs that much
 * room past the line's end. */
typedef struct piece {
    char s[80];
    size_t n;
} piece;

typedef struct out_ctx {
    FILE *out;
    const opts *o;
    size_t nconn_out;
    uint64_t first_ns;
    bool first_ns_known;
    const rp_tracker *t;
    char run_name[RP_MAX_RUNS][64]; /* run_name(): "" until asked */
    /* The text report's lines are formatted straight into this buffer and
     * written a buffer at a time (an fwrite per line was a tenth of the
     * report under --profile all); ob_flush before any other write to out. */
    char *ob, *op, *oend;
    bool eager;     /* out is a terminal: each connection shows as it closes */
    bool werr;      /* a write of the buffer failed */
    /* A text kept in memory (one run's host lines formatted ahead) in a
     * list of chunks, the buffer being the last: when it is full, a new
     * chunk instead of a write; oom: there was none, and the text is
     * incomplete. */
    bool grow, oom;
    struct chunk *kept, *cur;
    /* the fixed parts of a connection's per-run lines (pieces_init) */
    bool pieces;
    piece run_pre[RP_MAX_RUNS];     /* "    %-16s client " */
    piece st_client[SM_STATE_COUNT]; /* "%-11s server " */
    piece st_server[SM_STATE_COUNT]; /* "%-11s" */
    piece tw_tail[RP_TW_OWN_RST + 1]; /* "s (%s)" */
} out_ctx;

/* A piece of a text kept in memory: n bytes at b. */
typedef struct chunk {
    struct chunk *next;
    size_t n;
    char b[];
} chunk;
#define KEEP_CHUNK (64u * 1024u) /* (from the heap, where freed ones are reused) */

/* Room for n more bytes at x->op (n <= the buffer's size). */
static char *ob_room(out_ctx *x, size_t n);
static void ob_flush(out_ctx *x);

/* A connection's text record: its first line (two endpoints, times and
 * counts: under 400 bytes) and a line per run (a name of at most 63 bytes,
 * two states, two TIME_WAIT notes: under 250 bytes). */
#define CONN_LINE_MAX (400 + RP_MAX_RUNS * 250)
/* A connection's JSON object under one run: about 430 bytes of names and
 * punctuation, a run name of at most 63, two endpoints of at most 64, ten
 * numbers, eight short names: under 1,000. */
#define JSON_CONN_MAX 1280

#define usage_error(...) cli_error(" (see 'sockmodel replay --help')", __VA_ARGS__)

static void usage(FILE *f)
{
    fputs("usage: sockmodel replay [--profile PATTERNS] [--host ADDR=PROFILE]...\n"
          "                        [--scenario FILE] [--json] [--timeline FILE.csv]\n"
          "                        [--svg FILE.svg] [--interval DURATION]\n"
          "                        [--verify-checksums] [--no-connections]\n"
          "                        [--max-events N] [--threads 1|2] [--timing] CAPTURE\n"
          "\n"
          "Feeds a pcap/pcapng capture through the model and says what each OS's\n"
          "socket layer would have done with it: per connection, the final state\n"
          "of each side, who closed first and a Zeek conn_state summary; per host,\n"
          "TIME_WAIT entries over time and client ports in use per destination;\n"
          "and events (SYN or RST into TIME_WAIT, 4-tuple reuse, port exhaustion).\n"
          "\n"
          "  --profile PATTERNS   profiles to compare (default linux), e.g. linux,windows\n"
          "  --host ADDR=PROFILE  this address is a host of that OS in every run\n"
          "  --scenario FILE      declarations of the capture's hosts: listeners,\n"
          "                       sysctls, socket options (see replay/README.md)\n"
          "  --json               JSON instead of text (format sockmodel-replay/1)\n"
          "  --timeline FILE      CSV: time_s,profile,host,time_wait,time_wait_max\n"
          "  --svg FILE           TIME_WAIT count per host over time, per profile\n"
          "  --interval DURATION  timeline resolution (default 1s; e.g. 100ms)\n"
          "  --verify-checksums   check IP/TCP/UDP checksums (slower; counted)\n"
          "  --no-connections     leave out the per-connection list\n"
          "  --max-events N       events listed per profile (default 100000;\n"
          "                       counts stay exact)\n"
          "  --threads 1|2        2: a second thread reads and decodes the capture\n"
          "                       while the model runs, then formats host sections\n"
          "                       while the last records close (default when the\n"
          "                       machine has 2 or more cores); the output is the same\n"
          "  --timing             then where the time went, on standard error: each\n"
          "                       phase's wall time and each thread's share (ms)\n"
          "Exit status: 0 done, 2 bad command line or unreadable capture.\n",
          f);
}

/* "1.5s", "100ms", "2m" -> ns */
static bool parse_duration(const char *s, uint64_t *out)
{
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (e == s || errno || !(v > 0))
        return false;
    double mul;
    if (strcmp(e, "ms") == 0)
        mul = 1e6;
    else if (strcmp(e, "s") == 0)
        mul = 1e9;
    else if (strcmp(e, "m") == 0)
        mul = 60e9;
    else if (strcmp(e, "us") == 0)
        mul = 1e3;
    else
        return false;
    double ns = v * mul;
    if (ns < 1 || ns > 1e18)
        return false;
    *out = (uint64_t)ns;
    return true;
}

/* ---- JSON and text helpers --------------------------------------------------- */

/* Direct formatting for the lines the report writes once per host and
 * per (client, destination): a large capture has 10^5 of them, and
 * printf's parsing dominated the report's time.  Each appends at p and
 * returns the new end; the text is that of the printf formats they
 * replace. */
static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

/* "00" "01" ... "99": two digits per division (the report writes a few
 * numbers per connection and per destination) */
static const char digits2[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

static char *put_u64(char *p, uint64_t v)
{
    /* the digits written from the end backwards, in place: copying them
     * from a scratch array was a memcpy call of variable length per number */
    int n = 1;
    for (uint64_t x = v; x >= 10; x /= 10)
        n++;
    char *e = p + n, *q = e;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        q -= 2;
        memcpy(q, digits2 + 2 * r, 2);
    }
    if (v >= 10)
        memcpy(q - 2, digits2 + 2 * v, 2);
    else
        q[-1] = (char)('0' + v);
    return e;
}

/* seconds with microseconds: "%llu.%06llu" of ns / 1e9 and ns % 1e9 / 1e3 */
static char *put_secs(char *p, uint64_t ns)
{
    p = put_u64(p, ns / 1000000000u);
    *p++ = '.';
    unsigned us = (unsigned)(ns % 1000000000u / 1000u);
    memcpy(p, digits2 + 2 * (us / 10000), 2);
    memcpy(p + 2, digits2 + 2 * (us / 100 % 100), 2);
    memcpy(p + 4, digits2 + 2 * (us % 100), 2);
    return p + 6;
}

/* sm_addr_format / sm_endpoint_format's text, written in place (p has
 * room for SMU_IP_STRLEN bytes: the formatter ends with a NUL) */
static char *put_addr(char *p, const sm_addr *a)
{
    return p + (a->family == 6 ? smu_ip6_format(a->b, p) : smu_ip4_format(a->b, p));
}

static char *put_endpoint(char *p, const sm_endpoint *e)
{
    if (e->addr.family == 6)
        *p++ = '[';
    p = put_addr(p, &e->addr);
    if (e->addr.family == 6)
        *p++ = ']';
    *p++ = ':';
    return put_u64(p, e->port);
}

/* s, then spaces up to width w: printf's "%-Ws" */
static char *put_padded(char *p, const char *s, size_t w)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    p += n;
    while (n++ < w)
        *p++ = ' ';
    return p;
}

static char *put_piece(char *p, const piece *pc)
{
    memcpy(p, pc->s, sizeof pc->s);
    return p + pc->n;
}

static void piece_set(piece *pc, const char *a, size_t w, const char *b)
{
    char *e = put_padded(pc->s, a, w);
    pc->n = (size_t)(put_str(e, b) - pc->s);
}

/* The name of run r, as rp_track_run_name gives it into a 64-byte buffer;
 * made once per run (the connection report asks for it on every line). */
static const char *run_name(out_ctx *x, const rp_tracker *t, size_t r)
{
    if (!x->run_name[r][0])
        rp_track_run_name(t, r, x->run_name[r], sizeof x->run_name[r]);
    return x->run_name[r];
}

/* The pieces of the per-run lines, made at the first connection. */
static void pieces_init(out_ctx *x, const rp_tracker *t)
{
    char pre[80];
    for (size_t r = 0; r < rp_track_nruns(t); r++) {
        /* a run name has at most 63 bytes: "    " + 63 + " client " fits */
        *put_padded(put_str(pre, "    "), run_name(x, t, r), 16) = '\0';
        piece_set(&x->run_pre[r], pre, 0, " client ");
    }
    for (int st = 0; st < SM_STATE_COUNT; st++) {
        piece_set(&x->st_client[st], sm_state_name((sm_tcp_state)st), 11, " server ");
        piece_set(&x->st_server[st], sm_state_name((sm_tcp_state)st), 11, "");
    }
    for (int e = 0; e <= RP_TW_OWN_RST; e++) {
        piece_set(&x->tw_tail[e], "s (", 0, rp_tw_end_name((rp_tw_end)e));
        x->tw_tail[e].s[x->tw_tail[e].n++] = ')';
    }
    x->pieces = true;
}

/* put_secs into buf (n >= 1), NUL-terminated */
static void fmt_secs(char *buf, size_t n, uint64_t ns)
{
    char t[32];
    *put_secs(t, ns) = '\0';
    snprintf(buf, n, "%s", t);
}

/* enum sm_tw_data, for JSON and for text */
static const char *data_action_name(int a)
{
    return a == SM_TW_DATA_RST ? "rst" : a == SM_TW_DATA_DROP ? "drop" : "ack";
}

static const char *data_action_text(int a)
{
    return a == SM_TW_DATA_RST    ? "reset the connection (no TIME_WAIT left)"
           : a == SM_TW_DATA_DROP ? "drop it unanswered (keep TIME_WAIT)"
                                  : "acknowledge it (keep TIME_WAIT)";
}

static const char *action_name(int a)
{
    switch (a) {
    case SM_TW_SYN_ACCEPT:
        return "accept";
    case SM_TW_SYN_ACK:
        return "ack";
    case SM_TW_SYN_RST:
        return "rst";
    case SM_TW_SYN_DROP:
        return "drop";
    default:
        return "?";
    }
}

static const char *observed_name(int o)
{
    static const char *const n[] = {"unknown", "syn-ack", "rst", "no answer", "ack"};
    return o >= 0 && o < 5 ? n[o] : "unknown";
}

/* ---- connections ------------------------------------------------------------- */

static void on_conn(void *ctx, const rp_tracker *t, const rp_conn_info *c)
{
    out_ctx *x = ctx;
    if (x->o->no_conns)
        return;
    char cl[SM_EP_STRLEN + 8], sv[SM_EP_STRLEN + 8], st[32], en[32];
    *put_endpoint(cl, &c->client) = '\0';
    *put_endpoint(sv, &c->server) = '\0';
    uint64_t base = rp_track_first_ns(t);
    *put_secs(st, c->first_ns - base) = '\0';
    *put_secs(en, c->last_ns - base) = '\0';
    size_t nr = rp_track_nruns(t);
    if (x->o->json) {
        /* one object per run, formatted as the text record is (printf
         * was most of a JSON report's time): the text of the format
         * "{\"id\": %llu, \"profile\": \"%s\", ... \"record\": \"%s\"}" */
        for (size_t r = 0; r < nr; r++) {
            const rp_side_run *sr = c->run[r];
            char *q = ob_room(x, JSON_CONN_MAX);
            q = put_str(q, x->nconn_out++ ? ",\n  {\"id\": " : "\n  {\"id\": ");
            q = put_u64(q, c->id);
            q = put_str(q, ", \"profile\": \"");
            q = put_str(q, run_name(x, t, r));
            q = put_str(q, "\", \"client\": \"");
            q = put_str(q, cl);
            q = put_str(q, "\", \"server\": \"");
            q = put_str(q, sv);
            q = put_str(q, "\", \"client_state\": \"");
            q = put_str(q, sm_state_name(sr[0].state));
            q = put_str(q, "\", \"server_state\": \"");
            q = put_str(q, sm_state_name(sr[1].state));
            q = put_str(q, "\", \"summary\": \"");
            q = put_str(q, rp_zeek_name(c->summary));
            q = put_str(q, "\", \"opened_by\": \"");
            q = put_str(q, c->opened_by);
            q = put_str(q, "\", \"closed_first_by\": \"");
            q = put_str(q, c->closed_first_by);
            q = put_str(q, "\", \"close\": \"");
            q = put_str(q, c->close_kind);
            q = put_str(q, "\", \"client_time_wait_ms\": ");
            q = put_u64(q, sr[0].tw_ms);
            q = put_str(q, ", \"client_time_wait_end\": \"");
            q = put_str(q, rp_tw_end_name(sr[0].tw_end));
            q = put_str(q, "\", \"server_time_wait_ms\": ");
            q = put_u64(q, sr[1].tw_ms);
            q = put_str(q, ", \"server_time_wait_end\": \"");
            q = put_str(q, rp_tw_end_name(sr[1].tw_end));
            q = put_str(q, "\", \"observed_client_state\": \"");
            q = put_str(q, sm_state_name(c->observed[0]));
            q = put_str(q, "\", \"observed_server_state\": \"");
            q = put_str(q, sm_state_name(c->observed[1]));
            q = put_str(q, "\", \"first_frame\": ");
            q = put_u64(q, c->first_frame);
            q = put_str(q, ", \"start\": ");
            q = put_str(q, st);
            q = put_str(q, ", \"end\": ");
            q = put_str(q, en);
            q = put_str(q, ", \"packets\": [");
            q = put_u64(q, c->packets[0]);
            q = put_str(q, ", ");
            q = put_u64(q, c->packets[1]);
            q = put_str(q, "], \"bytes\": [");
            q = put_u64(q, c->bytes[0]);
            q = put_str(q, ", ");
            q = put_u64(q, c->bytes[1]);
            q = put_str(q, "], \"record\": \"");
            q = put_str(q, c->ended);
            q = put_str(q, "\"}");
            x->op = q;
        }
        if (x->eager)
            ob_flush(x);
        return;
    }
    static const char head[] =
        "\nconnections (listed as their records close; #N = order first seen):\n";
    char *q = ob_room(x, sizeof head + CONN_LINE_MAX);
    if (x->nconn_out++ == 0)
        q = put_str(q, head);
    /* One record per connection: built with the direct formatters and
     * written at once (printf's parsing was most of the report's time on a
     * capture of short connections).  The text is that of the formats
     * "#%llu %s -> %s %s first-close=%s/%s +%s..+%s pkts=%llu/%llu",
     * "    %-16s client %-11s server %-11s", " %s: no TIME_WAIT kept" and
     * " %s TIME_WAIT %llu.%03llus (%s)". */
    *q++ = '#';
    q = put_u64(q, c->id);
    *q++ = ' ';
    q = put_str(q, cl);
    q = put_str(q, " -> ");
    q = put_str(q, sv);
    *q++ = ' ';
    q = put_str(q, rp_zeek_name(c->summary));
    q = put_str(q, " first-close=");
    q = put_str(q, c->closed_first_by);
    *q++ = '/';
    q = put_str(q, c->close_kind);
    q = put_str(q, " +");
    q = put_str(q, st);
    q = put_str(q, "..+");
    q = put_str(q, en);
    q = put_str(q, " pkts=");
    q = put_u64(q, c->packets[0]);
    *q++ = '/';
    q = put_u64(q, c->packets[1]);
    if (c->opened_by[0] == 'u')
        q = put_str(q, " (mid-stream)");
    *q++ = '\n';
    if (!x->pieces)
        pieces_init(x, t);
    for (size_t r = 0; r < nr; r++) {
        q = put_piece(q, &x->run_pre[r]);
        q = put_piece(q, &x->st_client[c->run[r][0].state]);
        q = put_piece(q, &x->st_server[c->run[r][1].state]);
        for (int s = 0; s < 2; s++) {
            const rp_side_run *sr = &c->run[r][s];
            if (sr->tw_end == RP_TW_NONE)
                continue;
            *q++ = ' ';
            q = put_str(q, s ? "server" : "client");
            if (sr->tw_end == RP_TW_NOT_KEPT) {
                q = put_str(q, ": no TIME_WAIT kept");
                continue;
            }
            q = put_str(q, " TIME_WAIT ");
            q = put_u64(q, sr->tw_ms / 1000);
            *q++ = '.';
            uint64_t ms = sr->tw_ms % 1000;
            *q++ = (char)('0' + ms / 100);
            *q++ = (char)('0' + ms / 10 % 10);
            *q++ = (char)('0' + ms % 10);
            q = put_piece(q, &x->tw_tail[sr->tw_end]);
        }
        *q++ = '\n';
    }
    x->op = q;
    if (x->eager)
        ob_flush(x);
}

#define OBUF_SIZE (256u * 1024u)

/* A kept text's next chunk, which becomes its buffer; false (oom set):
 * no memory for it. */
static bool keep_chunk(out_ctx *x)
{
    chunk *c = malloc(sizeof *c + KEEP_CHUNK);
    if (!c) {
        x->oom = true;
        return false;
    }
    c->next = NULL;
    c->n = 0;
    if (x->cur) {
        x->cur->n = (size_t)(x->op - x->ob);
        x->cur->next = c;
    } else {
        x->kept = c;
    }
    x->cur = c;
    x->ob = x->op = c->b;
    x->oend = c->b + KEEP_CHUNK;
    return true;
}

static void kept_free(out_ctx *x)
{
    for (chunk *c = x->kept, *nx; c; c = nx) {
        nx = c->next;
        free(c);
    }
    x->kept = x->cur = NULL;
    x->ob = x->op = x->oend = NULL;
}

static char *ob_room(out_ctx *x, size_t n)
{
    if (!x->ob) { /* (a text kept in memory comes with its buffer) */
        static char mem[OBUF_SIZE];
        x->ob = x->op = mem;
        x->oend = mem + sizeof mem;
    }
    if ((size_t)(x->oend - x->op) >= n)
        return x->op;
    if (!x->grow) {
        ob_flush(x);
        return x->op;
    }
    if (!x->oom && keep_chunk(x))
        return x->op;
    x->op = x->ob; /* incomplete anyway: the rest goes over it */
    return x->op;
}

/* n bytes at p to out's file descriptor, after what stdio holds; false
 * (werr set) if a write failed. */
static bool ob_write(out_ctx *x, const char *p, size_t n)
{
    if (fflush(x->out) != 0) {
        x->werr = true;
        return false;
    }
    int fd = fileno(x->out);
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            /* through stdio after all, so that the stream has the error
             * the program's end reports */
            fwrite(p, 1, n, x->out);
            x->werr = true;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Straight to the file descriptor, after what stdio holds: through stdio
 * every byte of the report was copied once more (52 MB under --profile all
 * on 20k connections). */
static void ob_flush(out_ctx *x)
{
    size_t n = (size_t)(x->op - x->ob);
    const char *p = x->ob;
    x->op = x->ob;
    if (n == 0 || x->werr)
        return;
    (void)ob_write(x, p, n);
}

/* ---- hosts and events ----------------------------------------------------------- */

static const char *event_text(const rp_event *e, char *buf, size_t n)
{
    char h[SM_EP_STRLEN], p[SM_EP_STRLEN];
    sm_endpoint_format(&e->host, h, sizeof h);
    sm_endpoint_format(&e->peer, p, sizeof p);
    switch (e->kind) {
    case RP_EV_TW_SYN:
        snprintf(buf, n,
                 "SYN from %s reached %s in TIME_WAIT (%llu ms left): this OS would %s%s; "
                 "the capture shows %s",
                 p, h, (unsigned long long)e->value, action_name(e->action),
                 e->action == SM_TW_SYN_ACCEPT ? " it (new connection)"
                 : e->action == SM_TW_SYN_ACK  ? " (answer with an ACK of the old connection)"
                 : e->action == SM_TW_SYN_RST  ? " (answer RST, keep TIME_WAIT)"
                                               : " it silently (keep TIME_WAIT)",
                 observed_name(e->observed));
        break;
    case RP_EV_TW_OWN_REUSE:
        snprintf(buf, n, "%s opened the 4-tuple to %s while it still held it in TIME_WAIT "
                         "(%llu ms left under this OS)",
                 h, p, (unsigned long long)e->value);
        break;
    case RP_EV_TW_RST_KILL:
        snprintf(buf, n, "RST from %s ended the TIME_WAIT of %s (%llu ms early)", p, h,
                 (unsigned long long)e->value);
        break;
    case RP_EV_TW_RST_IGNORED:
        snprintf(buf, n, "RST from %s reached the TIME_WAIT of %s and was ignored (%s)", p, h,
                 e->action == 1 ? "RFC 1337 protection" : "not the expected sequence number");
        break;
    case RP_EV_REUSE_ALIVE:
        snprintf(buf, n, "%s opened the 4-tuple to %s again while the previous connection on it "
                         "was still open",
                 h, p);
        break;
    case RP_EV_PORTS_EXHAUSTED:
        if (e->action == 1)
            snprintf(buf, n, "%s needed %llu client ports at once (the last toward %s); this OS "
                             "gives a port to one connection whatever the destination, and its "
                             "ephemeral range has %llu",
                     h, (unsigned long long)e->value, p, (unsigned long long)e->limit);
        else
            snprintf(buf, n,
                     "%s needed %llu client ports toward %s; this OS's ephemeral range has %llu",
                     h, (unsigned long long)e->value, p, (unsigned long long)e->limit);
        break;
    case RP_EV_TW_OVERFLOW:
        snprintf(buf, n, "%s reached its TIME_WAIT cap (%llu): new TIME_WAITs are not kept", h,
                 (unsigned long long)e->value);
        break;
    case RP_EV_TW_DATA:
        snprintf(buf, n,
                 "new data from %s reached %s in TIME_WAIT (%llu ms left): this OS would %s; "
                 "the capture shows %s",
                 p, h, (unsigned long long)e->value, data_action_text(e->action),
                 e->observed == 2 ? "a RST from it (it held no TIME_WAIT)" : "no RST from it");
        break;
    default:
        snprintf(buf, n, "?");
    }
    return buf;
}

/* Under several runs the hosts, and each host's destinations, come in the
 * same order in every run's section, and part of their lines does not
 * depend on the run (a host's address; "    to ENDPOINT: N connections,
 * ports in use peak "): the first run keeps those texts in order, each
 * after its length byte, and the others copy them instead of formatting
 * the addresses again (under --profile all that was a fifth of the
 * report).  A text is at most TC_MAX bytes; copies are of TC_MAX bytes. */
#define TC_MAX 128

typedef struct textcache {
    char *buf;
    size_t n, cap, pos;
    bool kept;   /* a run's texts are kept: the next runs copy them */
    bool failed; /* a text too long, or out of memory: every run formats */
} textcache;

/* After the first run's text [from, to) is written: keep it. */
static void tc_keep(textcache *c, const char *from, const char *to)
{
    size_t len = (size_t)(to - from);
    if (c->failed || len >= TC_MAX) {
        c->failed = true;
        return;
    }
    if (c->n + 1 + TC_MAX > c->cap) {
        size_t nc = c->cap ? 2 * c->cap : 64 * 1024;
        char *nb = realloc(c->buf, nc);
        if (!nb) {
            c->failed = true;
            return;
        }
        c->buf = nb;
        c->cap = nc;
    }
    c->buf[c->n] = (char)len;
    memcpy(c->buf + c->n + 1, from, len);
    c->n += 1 + len;
}

/* A later run's copy of the next kept text, at p. */
static char *tc_put(textcache *c, char *p)
{
    size_t len = (unsigned char)c->buf[c->pos];
    memcpy(p, c->buf + c->pos + 1, TC_MAX);
    c->pos += 1 + len;
    return p + len;
}

/* Every destination of host ID under run R, into *BUF grown as needed
 * (a host may have any number: none is left out of the report);
 * (size_t)-1 when there is no memory for them. */
static size_t host_dests(const rp_tracker *t, uint32_t id, size_t r, rp_dest_info **buf,
                         size_t *cap)
{
    size_t n = rp_track_host_ndests(t, id);
    if (n > *cap) {
        rp_dest_info *nb = realloc(*buf, n * sizeof **buf);
        if (!nb)
            return (size_t)-1;
        *buf = nb;
        *cap = n;
    }
    return rp_track_dests(t, id, r, *buf, *cap);
}

/* Run r's host section ("== NAME: hosts ==" and every host's lines) into
 * x, which may be the report itself or a text kept in memory.  It reads
 * only the host queries that rp_track_finish_hosts readied, so it may run
 * while another thread closes the records.  tc: the texts that are the
 * same under every run (addresses, destinations), kept from the first
 * run formatted with it and copied into the others.  false (x->oom set):
 * out of memory. */
static bool host_block(out_ctx *x, const rp_tracker *t, size_t r, textcache *tc,
                       rp_dest_info **dests, size_t *dcap)
{
    size_t nh = rp_track_nhosts(t);
    uint64_t base = rp_track_first_ns(t);
    bool keep = !tc->kept && !tc->failed, copy = tc->kept && !tc->failed;
    tc->pos = 0;
    char pn[64];
    rp_track_run_name(t, r, pn, sizeof pn);
    char *e = ob_room(x, 128);
    e = put_str(e, "\n== ");
    e = put_str(e, pn);
    e = put_str(e, ": hosts ==\n");
    x->op = e;
    for (size_t i = 0; i < nh; i++) {
        uint32_t id;
        const sm_addr *ad = rp_track_host_addr(t, i, &id);
        const rp_host_run *h = rp_track_host_run(t, id, r);
        /* (a line: at most ~330 bytes: an address, a profile name, six
         * numbers; a destination's line: under 200) */
        e = ob_room(x, 512);
        if (copy) {
            e = tc_put(tc, e);
        } else {
            char *from = e;
            e = put_addr(e, ad);
            if (keep)
                tc_keep(tc, from, e);
        }
        e = put_str(e, " (");
        e = put_str(e, h->profile->name);
        e = put_str(e, ")\n  TIME_WAIT: ");
        e = put_u64(e, h->tw_total);
        e = put_str(e, " entries, peak ");
        e = put_u64(e, h->tw_peak);
        e = put_str(e, " at +");
        e = put_secs(e, h->tw_peak_ns ? h->tw_peak_ns - base : 0);
        e = put_str(e, "s, ");
        e = put_u64(e, h->tw_now);
        e = put_str(e, " at the end, length ");
        e = put_u64(e, h->tw_ms);
        e = put_str(e, " ms");
        if (h->tw_not_kept) {
            e = put_str(e, ", ");
            e = put_u64(e, h->tw_not_kept);
            e = put_str(e, " not kept");
        }
        *e++ = '\n';
        if (h->ports_peak) {
            e = put_str(e, "  client ports in use: peak ");
            e = put_u64(e, h->ports_peak);
            e = put_str(e, " at +");
            e = put_secs(e, h->ports_peak_ns ? h->ports_peak_ns - base : 0);
            e = put_str(e, "s (ephemeral range ");
            e = put_u64(e, h->port_range);
            e = put_str(e, ")\n");
        }
        x->op = e;
        size_t nd = host_dests(t, id, r, dests, dcap);
        if (nd == (size_t)-1) {
            x->oom = true;
            return false;
        }
        for (size_t k = 0; k < nd; k++) {
            const rp_dest_info *d = &(*dests)[k];
            e = ob_room(x, 256);
            if (copy) {
                e = tc_put(tc, e);
            } else {
                char *from = e;
                e = put_str(e, "    to ");
                e = put_endpoint(e, &d->dest);
                e = put_str(e, ": ");
                e = put_u64(e, d->conns);
                e = put_str(e, " connections, ports in use peak ");
                if (keep)
                    tc_keep(tc, from, e);
            }
            e = put_u64(e, d->peak[r]);
            e = put_str(e, " at +");
            e = put_secs(e, d->peak_ns[r] ? d->peak_ns[r] - base : 0);
            *e++ = 's';
            if (d->exhausted_ns[r]) {
                e = put_str(e, ", RAN OUT at +");
                e = put_secs(e, d->exhausted_ns[r] - 1 - base);
                *e++ = 's';
            }
            *e++ = '\n';
            x->op = e;
        }
        /* "  events: KIND N, KIND N" */
        bool any = false;
        for (int k = 0; k < RP_EV_KIND_COUNT; k++)
            if (h->ev[k]) {
                e = ob_room(x, 128);
                e = put_str(e, any ? ", " : "  events: ");
                e = put_str(e, rp_ev_kind_name((rp_ev_kind)k));
                *e++ = ' ';
                e = put_u64(e, h->ev[k]);
                x->op = e;
                any = true;
            }
        if (any) {
            e = ob_room(x, 1);
            *e++ = '\n';
            x->op = e;
        }
    }
    if (keep)
        tc->kept = true;
    return !x->oom;
}

/* ---- the host sections on two threads ---------------------------------------------
 *
 * Once the capture is read, the report is the connections still held
 * (closed in order by rp_track_finish, on the caller's thread) and then
 * every run's host section, which does not depend on those closes.  With
 * two threads, a helper formats host sections into memory while the
 * caller closes the records; then the caller takes the runs nobody has
 * taken yet, in turn with the helper, writing each in order (the
 * helper's when they are complete, its own straight to the report).  The
 * bytes are the same as one thread's. */

typedef struct hostwork {
    const rp_tracker *t;
    size_t nr;
    out_ctx *blk;        /* run r's section, when the helper formats it */
    bool *done;          /* blk[r] is complete (under mu) */
    atomic_size_t next;  /* the next run that nobody formats yet */
    bool timing;
    double busy_ms;      /* --timing: from its start to its last section (wall) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
} hostwork;

static void *host_ahead(void *arg)
{
    hostwork *w = arg;
    textcache tc = {.failed = w->nr < 2};
    rp_dest_info *dests = NULL;
    size_t dcap = 0;
    double t0 = w->timing ? rp_clock_ms(false) : 0;
    for (size_t r; (r = atomic_fetch_add(&w->next, 1)) < w->nr;) {
        (void)host_block(&w->blk[r], w->t, r, &tc, &dests, &dcap);
        pthread_mutex_lock(&w->mu);
        w->done[r] = true;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
    free(dests);
    free(tc.buf);
    if (w->timing) /* (read by the caller after pthread_join) */
        w->busy_ms = rp_clock_ms(false) - t0;
    return NULL;
}

/* Starts the helper on t's host sections (rp_track_finish_hosts done);
 * NULL if it could not start: the caller then formats them all. */
static hostwork *host_ahead_start(const rp_tracker *t, FILE *out, bool timing)
{
    size_t nr = rp_track_nruns(t);
    hostwork *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->t = t;
    w->nr = nr;
    w->timing = timing;
    w->blk = calloc(nr, sizeof *w->blk);
    w->done = calloc(nr, sizeof *w->done);
    if (!w->blk || !w->done)
        goto fail;
    for (size_t r = 0; r < nr; r++) {
        out_ctx *b = &w->blk[r];
        b->out = out;
        b->grow = true;
        if (!keep_chunk(b))
            goto fail;
    }
    atomic_init(&w->next, 0);
    if (pthread_mutex_init(&w->mu, NULL) != 0)
        goto fail;
    if (pthread_cond_init(&w->cv, NULL) != 0) {
        pthread_mutex_destroy(&w->mu);
        goto fail;
    }
    if (pthread_create(&w->th, NULL, host_ahead, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        goto fail;
    }
    return w;
fail:
    for (size_t r = 0; w->blk && r < nr; r++)
        kept_free(&w->blk[r]);
    free(w->blk);
    free(w->done);
    free(w);
    return NULL;
}

/* Run r's kept text, written after what x holds, then freed.  false: it
 * is incomplete (no memory to keep it). */
static bool kept_write(out_ctx *x, hostwork *w, size_t r)
{
    out_ctx *b = &w->blk[r];
    if (b->oom)
        return false;
    ob_flush(x);
    b->cur->n = (size_t)(b->op - b->ob);
    for (const chunk *c = b->kept; c && !x->werr; c = c->next)
        (void)ob_write(x, c->b, c->n);
    kept_free(b);
    return true;
}

/* Waits for run r's section (the helper's); its text, written after what
 * x holds.  false: it is incomplete. */
static bool host_ahead_write(out_ctx *x, hostwork *w, size_t r)
{
    pthread_mutex_lock(&w->mu);
    while (!w->done[r])
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    return kept_write(x, w, r);
}

/* Run r's section is formatted (by either thread). */
static bool host_ahead_done(hostwork *w, size_t r)
{
    pthread_mutex_lock(&w->mu);
    bool d = w->done[r];
    pthread_mutex_unlock(&w->mu);
    return d;
}

/* Joins the helper; its busy time (ms) into *busy when not NULL. */
static void host_ahead_end(hostwork *w, double *busy)
{
    if (!w)
        return;
    pthread_join(w->th, NULL);
    if (busy)
        *busy = w->busy_ms;
    for (size_t r = 0; r < w->nr; r++)
        kept_free(&w->blk[r]);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->blk);
    free(w->done);
    free(w);
}

/* Run r's events section. */
static void events_text(out_ctx *x, const rp_tracker *t, size_t r)
{
    FILE *f = x->out;
    uint64_t base = rp_track_first_ns(t);
    char b[32], pn[64];
    rp_track_run_name(t, r, pn, sizeof pn);
    size_t ne;
    uint64_t dropped;
    const rp_event *ev = rp_track_events(t, r, &ne, &dropped);
    ob_flush(x);
    fprintf(f, "\n== %s: events (%zu%s) ==\n", pn, ne, dropped ? " listed" : "");
    for (size_t k = 0; k < ne; k++) {
        char txt[600];
        fmt_secs(b, sizeof b, ev[k].ns - base);
        fprintf(f, "+%ss frame %llu #%llu %s: %s\n", b, (unsigned long long)ev[k].frame,
                (unsigned long long)ev[k].conn, rp_ev_kind_name(ev[k].kind),
                event_text(&ev[k], txt, sizeof txt));
        if (ev[k].rule) {
            const sm_rule *rl = ev[k].rule;
            fprintf(f, "    rule: %s {%s", sm_rule_line(rl, txt, sizeof txt), rl->id);
            if (rl->confidence > SM_CONF_OBSERVED)
                fprintf(f, ": %s", sm_confidence_name(rl->confidence));
            fputs("}\n", f);
        }
    }
    if (dropped)
        fprintf(f, "(%llu more not listed; see --max-events)\n", (unsigned long long)dropped);
}

/* The text report's end: every run's hosts and events, then the summary.
 * w: the helper formatting host sections ahead, or NULL.  false: out of
 * memory for the report. */
static bool report_text_end(out_ctx *x, const rp_tracker *t, const rp_counts *rc,
                            const char *path, const char *link, hostwork *w)
{
    FILE *f = x->out;
    size_t nr = rp_track_nruns(t);
    uint64_t base = rp_track_first_ns(t);
    char b[32];
    size_t dcap = 0;
    rp_dest_info *dests = NULL;
    textcache tc = {.failed = nr < 2};
    bool ok = true;
    /* r: the next run to write.  With the helper, this thread writes the
     * sections that are complete, in order; takes the next run nobody
     * has taken: formats it straight into the report when every run
     * before it is written, else into memory (rather than wait for the
     * helper's); and waits only when no run is left to take. */
    for (size_t r = 0; r < nr && ok;) {
        if (!w) {
            ok = host_block(x, t, r, &tc, &dests, &dcap);
            if (ok)
                events_text(x, t, r);
            r++;
            continue;
        }
        if (host_ahead_done(w, r)) {
            ok = kept_write(x, w, r);
        } else {
            size_t m = atomic_fetch_add(&w->next, 1);
            if (m >= nr) {
                ok = host_ahead_write(x, w, r);
            } else if (m == r) {
                ok = host_block(x, t, r, &tc, &dests, &dcap);
            } else {
                ok = host_block(&w->blk[m], t, m, &tc, &dests, &dcap);
                pthread_mutex_lock(&w->mu);
                w->done[m] = true;
                pthread_mutex_unlock(&w->mu);
                continue; /* (r is not written yet) */
            }
        }
        if (ok)
            events_text(x, t, r);
        r++;
    }
    free(dests);
    free(tc.buf);
    if (!ok)
        return false;
    fmt_secs(b, sizeof b, rp_track_last_ns(t) - base);
    ob_flush(x);
    fprintf(f, "\nsummary: %s (%s): %llu records, %llu TCP, %llu UDP, %llu skipped; "
               "%llu connections over %ss (at most %llu records held at once)\n",
            path, link, (unsigned long long)rc->records,
            (unsigned long long)(rc->tcp4 + rc->tcp6), (unsigned long long)(rc->udp4 + rc->udp6),
            (unsigned long long)rp_counts_skipped(rc),
            (unsigned long long)rp_track_connections(t), b,
            (unsigned long long)rp_track_peak_live(t));
    return true;
}

static void json_counts(FILE *f, const rp_counts *c)
{
    /* the same names rp_counts_print uses, non-zero ones only */
    fprintf(f, "{\"records\": %llu, \"tcp\": %llu, \"udp\": %llu, \"skipped\": %llu",
            (unsigned long long)c->records, (unsigned long long)(c->tcp4 + c->tcp6),
            (unsigned long long)(c->udp4 + c->udp6), (unsigned long long)rp_counts_skipped(c));
#define JC(name)                                                                           \
    if (c->name)                                                                           \
        fprintf(f, ", \"" #name "\": %llu", (unsigned long long)c->name);
    JC(subframes) JC(arp) JC(llc) JC(other_ethertype) JC(other_family) JC(link_unsupported) JC(icmp4)
    JC(icmp6) JC(ip_other) JC(ip6_esp) JC(ip6_no_next) JC(frag4) JC(frag6) JC(trunc_link)
    JC(trunc_ip) JC(trunc_l4) JC(bad_ip_version) JC(bad_ip_hlen) JC(bad_ip_len)
    JC(bad_tcp_hlen) JC(bad_udp_len) JC(vlan_tagged) JC(ip6_ext) JC(bad_ip_csum)
    JC(bad_l4_csum) JC(csum_unchecked) JC(payload_cut) JC(len_clipped) JC(len_from_frame)
    JC(bad_tcp_opt) JC(tunneled) JC(frag_first) JC(reassembled) JC(frag_reassembled)
    JC(frag_given_up) JC(ts_backwards) JC(ts_jumps)
    JC(file_truncated)
#undef JC
    fputc('}', f);
}

/* The JSON report's end: hosts (formatted directly, as the text report's
 * lines are), events, counts.  false: out of memory for the report. */
static bool report_json_end(out_ctx *x, const rp_tracker *t, const rp_counts *rc)
{
    FILE *f = x->out;
    size_t nr = rp_track_nruns(t), nh = rp_track_nhosts(t);
    uint64_t base = rp_track_first_ns(t);
    char b[32];
    size_t dcap = 0;
    rp_dest_info *dests = NULL;
    char *e = ob_room(x, 32);
    e = put_str(e, "\n],\n\"hosts\": [");
    x->op = e;
    size_t nout = 0;
    for (size_t r = 0; r < nr; r++) {
        const char *pn = run_name(x, t, r);
        for (size_t i = 0; i < nh; i++) {
            uint32_t id;
            const sm_addr *ad = rp_track_host_addr(t, i, &id);
            const rp_host_run *h = rp_track_host_run(t, id, r);
            /* "{\"profile\": \"%s\", \"host\": \"%s\", ... \"events\": {...}, \"destinations\": [" */
            e = ob_room(x, 1024);
            e = put_str(e, nout++ ? ",\n  {\"profile\": \"" : "\n  {\"profile\": \"");
            e = put_str(e, pn);
            e = put_str(e, "\", \"host\": \"");
            e = put_addr(e, ad);
            e = put_str(e, "\", \"host_profile\": \"");
            e = put_str(e, h->profile->name);
            e = put_str(e, "\", \"time_wait_ms\": ");
            e = put_u64(e, h->tw_ms);
            e = put_str(e, ", \"time_wait_total\": ");
            e = put_u64(e, h->tw_total);
            e = put_str(e, ", \"time_wait_peak\": ");
            e = put_u64(e, h->tw_peak);
            e = put_str(e, ", \"time_wait_peak_at\": ");
            e = put_secs(e, h->tw_peak_ns ? h->tw_peak_ns - base : 0);
            e = put_str(e, ", \"time_wait_at_end\": ");
            e = put_u64(e, h->tw_now);
            e = put_str(e, ", \"time_wait_not_kept\": ");
            e = put_u64(e, h->tw_not_kept);
            e = put_str(e, ", \"client_ports_peak\": ");
            e = put_u64(e, h->ports_peak);
            e = put_str(e, ", \"client_ports_peak_at\": ");
            e = put_secs(e, h->ports_peak_ns ? h->ports_peak_ns - base : 0);
            e = put_str(e, ", \"port_range\": ");
            e = put_u64(e, h->port_range);
            e = put_str(e, ", \"events\": {");
            for (int k = 0; k < RP_EV_KIND_COUNT; k++) {
                if (k)
                    e = put_str(e, ", ");
                *e++ = '"';
                e = put_str(e, rp_ev_kind_name((rp_ev_kind)k));
                e = put_str(e, "\": ");
                e = put_u64(e, h->ev[k]);
            }
            e = put_str(e, "}, \"destinations\": [");
            x->op = e;
            size_t nd = host_dests(t, id, r, &dests, &dcap);
            if (nd == (size_t)-1) {
                free(dests);
                return false;
            }
            for (size_t k = 0; k < nd; k++) {
                const rp_dest_info *d = &dests[k];
                e = ob_room(x, 256);
                e = put_str(e, k ? ", {\"dest\": \"" : "{\"dest\": \"");
                e = put_endpoint(e, &d->dest);
                e = put_str(e, "\", \"connections\": ");
                e = put_u64(e, d->conns);
                e = put_str(e, ", \"ports_peak\": ");
                e = put_u64(e, d->peak[r]);
                e = put_str(e, ", \"ports_peak_at\": ");
                e = put_secs(e, d->peak_ns[r] ? d->peak_ns[r] - base : 0);
                e = put_str(e, ", \"exhausted_at\": ");
                if (d->exhausted_ns[r])
                    e = put_secs(e, d->exhausted_ns[r] - 1 - base);
                else
                    e = put_str(e, "null");
                *e++ = '}';
                x->op = e;
            }
            e = ob_room(x, 4);
            e = put_str(e, "]}");
            x->op = e;
        }
    }
    free(dests);
    ob_flush(x);
    fputs("\n],\n\"events\": [", f);
    nout = 0;
    for (size_t r = 0; r < nr; r++) {
        char pn[64];
        rp_track_run_name(t, r, pn, sizeof pn);
        size_t ne;
        uint64_t dropped;
        const rp_event *ev = rp_track_events(t, r, &ne, &dropped);
        for (size_t k = 0; k < ne; k++) {
            char h[SM_EP_STRLEN], p[SM_EP_STRLEN], txt[600];
            sm_endpoint_format(&ev[k].host, h, sizeof h);
            sm_endpoint_format(&ev[k].peer, p, sizeof p);
            fmt_secs(b, sizeof b, ev[k].ns - base);
            fputs(nout++ ? ",\n  " : "\n  ", f);
            fprintf(f, "{\"profile\": \"%s\", \"kind\": \"%s\", \"time\": %s, \"frame\": %llu, "
                       "\"connection\": %llu, \"host\": \"%s\", \"peer\": \"%s\"",
                    pn, rp_ev_kind_name(ev[k].kind), b, (unsigned long long)ev[k].frame,
                    (unsigned long long)ev[k].conn, h, p);
            if (ev[k].kind == RP_EV_TW_SYN)
                fprintf(f, ", \"action\": \"%s\", \"observed\": \"%s\"",
                        action_name(ev[k].action), observed_name(ev[k].observed));
            if (ev[k].kind == RP_EV_TW_DATA)
                fprintf(f, ", \"action\": \"%s\", \"observed\": \"%s\"",
                        data_action_name(ev[k].action), ev[k].observed == 2 ? "rst" : "none");
            if (ev[k].kind == RP_EV_PORTS_EXHAUSTED)
                fprintf(f, ", \"ports_needed\": %llu, \"port_range\": %llu%s",
                        (unsigned long long)ev[k].value, (unsigned long long)ev[k].limit,
                        ev[k].action == 1 ? ", \"counted\": \"host\"" : "");
            else if (ev[k].kind != RP_EV_REUSE_ALIVE)
                fprintf(f, ", \"value\": %llu", (unsigned long long)ev[k].value);
            fputs(", \"text\": ", f);
            smu_json_str(f, event_text(&ev[k], txt, sizeof txt));
            fputs(", \"rule\": ", f);
            smu_json_str(f, ev[k].rule ? sm_rule_line(ev[k].rule, txt, sizeof txt) : NULL);
            fputs(", \"rule_id\": ", f);
            smu_json_str(f, ev[k].rule ? ev[k].rule->id : NULL);
            fputs(", \"source\": ", f);
            smu_json_str(f, ev[k].rule ? ev[k].rule->source : NULL);
            fputs(", \"confidence\": ", f);
            smu_json_str(f, ev[k].rule ? sm_confidence_name(ev[k].rule->confidence) : NULL);
            fputc('}', f);
        }
    }
    fputs("\n],\n\"events_not_listed\": {", f);
    for (size_t r = 0; r < nr; r++) {
        char pn[64];
        size_t ne;
        uint64_t dropped;
        rp_track_events(t, r, &ne, &dropped);
        fprintf(f, "%s\"%s\": %llu", r ? ", " : "", rp_track_run_name(t, r, pn, sizeof pn),
                (unsigned long long)dropped);
    }
    fputs("},\n\"counts\": ", f);
    json_counts(f, rc);
    fmt_secs(b, sizeof b, rp_track_last_ns(t) - base);
    fprintf(f, ",\n\"connection_count\": %llu, \"duration\": %s, \"records_held_peak\": %llu\n}\n",
            (unsigned long long)rp_track_connections(t), b,
            (unsigned long long)rp_track_peak_live(t));
    return true;
}

/* ---- timeline and SVG ------------------------------------------------------------ */

static bool write_timeline(const char *path, const rp_tracker *t)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    size_t n;
    const rp_tl_point *pt = rp_track_timeline(t, &n);
    fputs("time_s,profile,host,time_wait,time_wait_max\n", f);
    for (size_t i = 0; i < n; i++) {
        char a[SM_EP_STRLEN], b[32], pn[64];
        sm_addr_format(rp_track_host_by_id(t, pt[i].host), a, sizeof a);
        fmt_secs(b, sizeof b, pt[i].ns);
        fprintf(f, "%s,%s,%s,%u,%u\n", b, rp_track_run_name(t, pt[i].run, pn, sizeof pn), a,
                pt[i].count, pt[i].max);
    }
    return fclose(f) == 0;
}

#define SVG_W 900
#define SVG_PH 260 /* panel height */
#define SVG_ML 70
#define SVG_MR 230
#define SVG_MT 40
#define SVG_TOP 8 /* hosts drawn per profile */

static const char *const palette[SVG_TOP] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                             "#9467bd", "#8c564b", "#e377c2", "#17becf"};

typedef struct hpeak {
    uint32_t host;
    uint32_t peak;
} hpeak;

static bool write_svg(const char *path, const rp_tracker *t)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    size_t n, nr = rp_track_nruns(t), nh = rp_track_nhosts(t);
    const rp_tl_point *pt = rp_track_timeline(t, &n);
    uint64_t dur = rp_track_last_ns(t) - rp_track_first_ns(t);
    if (dur == 0)
        dur = 1;
    uint32_t ymax = 1;
    for (size_t i = 0; i < n; i++)
        if (pt[i].max > ymax)
            ymax = pt[i].max;
    /* y axis: whole numbers - one line per entry up to 4, else 4 lines
     * and the top rounded up to a multiple of 4 */
    uint32_t yticks = ymax < 4 ? ymax : 4;
    if (ymax >= 4)
        ymax = (uint32_t)(((uint64_t)ymax + 3) / 4 * 4);
    int H = SVG_MT + (int)nr * (SVG_PH + 40) + 20;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
               "<text x=\"%d\" y=\"22\" font-size=\"15\">TIME_WAIT entries per host "
               "(sockmodel replay)</text>\n",
               SVG_W, H, SVG_W, H, SVG_ML);
    int pw = SVG_W - SVG_ML - SVG_MR;
    hpeak *hp = malloc((nh + 1) * sizeof *hp);
    if (!hp) {
        fclose(f);
        return false;
    }
    for (size_t r = 0; r < nr; r++) {
        char pn[64];
        rp_track_run_name(t, r, pn, sizeof pn);
        int y0 = SVG_MT + (int)r * (SVG_PH + 40) + 20; /* panel top */
        /* the hosts with the highest peaks, ties by address order */
        size_t m = 0;
        for (size_t i = 0; i < nh; i++) {
            uint32_t id;
            rp_track_host_addr(t, i, &id);
            const rp_host_run *h = rp_track_host_run(t, id, r);
            if (h->tw_peak) {
                hp[m].host = id;
                hp[m++].peak = (uint32_t)h->tw_peak;
            }
        }
        /* stable selection: a simple insertion sort by peak, descending */
        for (size_t i = 1; i < m; i++) {
            hpeak k = hp[i];
            size_t j = i;
            while (j > 0 && hp[j - 1].peak < k.peak) {
                hp[j] = hp[j - 1];
                j--;
            }
            hp[j] = k;
        }
        size_t shown = m < SVG_TOP ? m : SVG_TOP;
        fprintf(f, "<g>\n<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s</text>\n", SVG_ML,
                y0 - 6, pn);
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                   "stroke=\"#888\"/>\n",
                SVG_ML, y0, pw, SVG_PH);
        for (uint32_t k = 0; k <= yticks; k++) {
            int y = y0 + SVG_PH - (int)(k * SVG_PH / yticks);
            fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>"
                       "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%llu</text>\n",
                    SVG_ML, y, SVG_ML + pw, y, SVG_ML - 6, y + 4,
                    (unsigned long long)ymax * k / yticks);
        }
        for (int k = 0; k <= 4; k++) {
            char b[32];
            uint64_t tx = dur / 4u * (unsigned)k;
            fmt_secs(b, sizeof b, tx);
            fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%.*ss</text>\n",
                    SVG_ML + k * pw / 4, y0 + SVG_PH + 16, (int)(strchr(b, '.') - b) + 3, b);
        }
        for (size_t s = 0; s < shown; s++) {
            fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%d,%d",
                    palette[s], SVG_ML, y0 + SVG_PH);
            double prev = y0 + SVG_PH; /* no TIME_WAIT before its first point */
            for (size_t i = 0; i < n; i++) {
                if (pt[i].run != r || pt[i].host != hp[s].host)
                    continue;
                double x = SVG_ML + (double)pw * (double)pt[i].ns / (double)dur;
                double yv = y0 + SVG_PH - (double)SVG_PH * pt[i].max / ymax;
                fprintf(f, " %.1f,%.1f %.1f,%.1f", x, prev, x, yv);
                prev = y0 + SVG_PH - (double)SVG_PH * pt[i].count / ymax;
                fprintf(f, " %.1f,%.1f", x, prev);
            }
            fprintf(f, " %d,%.1f\"/>\n", SVG_ML + pw, prev);
            char a[SM_EP_STRLEN];
            sm_addr_format(rp_track_host_by_id(t, hp[s].host), a, sizeof a);
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"3\" fill=\"%s\"/>"
                       "<text x=\"%d\" y=\"%d\">%s (peak %u)</text>\n",
                    SVG_ML + pw + 12, y0 + 10 + (int)s * 18, palette[s], SVG_ML + pw + 30,
                    y0 + 14 + (int)s * 18, a, hp[s].peak);
        }
        if (m > shown)
            fprintf(f, "<text x=\"%d\" y=\"%d\">%zu more hosts not drawn</text>\n",
                    SVG_ML + pw + 12, y0 + 14 + (int)shown * 18, m - shown);
        if (m == 0)
            fprintf(f, "<text x=\"%d\" y=\"%d\">no TIME_WAIT under this profile</text>\n",
                    SVG_ML + 10, y0 + 20);
        fputs("</g>\n", f);
    }
    free(hp);
    fputs("</svg>\n", f);
    return fclose(f) == 0;
}

/* ---- the scenario's declarations --------------------------------------------------- */

typedef struct shost {
    const char *name;
    sm_addr addrs[32];
    size_t n;
} shost;

typedef struct ssock {
    int host;
    bool bound;
    sm_endpoint ep;
    sm_opts o;
} ssock;

static int shost_find(shost *hs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(hs[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void shost_add_addr(shost *h, const sm_addr *a)
{
    for (size_t i = 0; i < h->n; i++)
        if (sm_addr_equal(&h->addrs[i], a))
            return;
    if (h->n < 32)
        h->addrs[h->n++] = *a;
}

static int load_scenario(const char *path, rp_tracker *t, const rp_config *cfg, bool quiet)
{
    scn_file *sf = NULL;
    if (scn_parse_path(path, stderr, &sf) != 0 || !sf)
        return 2;
    shost *hs = calloc(sf->n_stmts + 1, sizeof *hs);
    ssock *ss = calloc(sf->n_socks + 1, sizeof *ss);
    if (!hs || !ss)
        exit(2);
    size_t nh = 1;
    hs[0].name = "local";
    static const char *const local_addrs[] = {"127.0.0.1", "::1", "192.0.2.1", "192.0.2.2",
                                              "2001:db8::1", "2001:db8::2"};
    for (size_t i = 0; i < 6; i++) {
        sm_addr a;
        if (sm_addr_parse(local_addrs[i], strlen(local_addrs[i]), &a))
            shost_add_addr(&hs[0], &a);
    }
    int cur = 0;
    for (size_t i = 0; i < sf->n_stmts; i++) {
        const scn_stmt *st = &sf->stmts[i];
        switch (st->kind) {
        case SCN_HOST: {
            int h = shost_find(hs, nh, st->name);
            if (h < 0) {
                h = (int)nh++;
                hs[h].name = st->name;
            }
            for (size_t k = 0; k < st->n_addrs; k++)
                shost_add_addr(&hs[h], &st->addrs[k]);
            cur = h;
            break;
        }
        case SCN_ON: {
            int h = shost_find(hs, nh, st->name);
            if (h >= 0)
                cur = h;
            break;
        }
        case SCN_SOCKET:
            if (st->new_sock >= 0)
                ss[st->new_sock].host = cur;
            break;
        case SCN_SETSOCKOPT:
            if (st->sock >= 0) {
                sm_opts *o = &ss[st->sock].o;
                switch (st->opt) {
                case SM_SO_REUSEADDR: o->reuseaddr = st->v1 != 0; break;
                case SM_SO_REUSEPORT: o->reuseport = st->v1 != 0; break;
                case SM_SO_REUSEPORT_LB: o->reuseport_lb = st->v1 != 0; break;
                case SM_SO_EXCLUSIVEADDRUSE: o->exclusiveaddruse = st->v1 != 0; break;
                case SM_SO_EXCLBIND: o->exclbind = st->v1 != 0; break;
                case SM_IPV6_V6ONLY: o->v6only = st->v1 != 0; break;
                case SM_SO_LINGER:
                    o->linger_on = st->v1 != 0;
                    o->linger_s = st->v2 > 0 ? (uint32_t)st->v2 : 0;
                    break;
                default: break;
                }
            }
            break;
        case SCN_BIND:
            if (st->sock >= 0) {
                ss[st->sock].bound = true;
                ss[st->sock].ep = st->ep;
            }
            break;
        case SCN_LISTEN:
            if (st->sock >= 0 && ss[st->sock].bound && ss[st->sock].ep.port) {
                const ssock *s = &ss[st->sock];
                if (sm_addr_is_any(&s->ep.addr)) {
                    for (size_t k = 0; k < hs[s->host].n; k++)
                        rp_track_listener(t, &hs[s->host].addrs[k], s->ep.port);
                } else {
                    rp_track_listener(t, &s->ep.addr, s->ep.port);
                }
            }
            break;
        case SCN_SYSCTL: {
            /* under the runs its guard selects */
            unsigned mask = 0;
            for (size_t r = 0; r < cfg->nruns; r++)
                if (!st->guarded || scn_patlist_match(&st->guard, cfg->run[r]->name))
                    mask |= 1u << r;
            for (size_t k = 0; k < hs[cur].n; k++)
                rp_track_sysctl(t, &hs[cur].addrs[k], st->name, st->vals, st->n_vals, mask,
                                k == 0 && !quiet ? stderr : NULL);
            break;
        }
        default:
            break;
        }
    }
    for (size_t i = 0; i < sf->n_socks; i++)
        if (ss[i].bound)
            rp_track_sockopts(t, &ss[i].ep, &ss[i].o);
    free(hs);
    free(ss);
    scn_file_free(sf);
    return 0;
}

/* ---- main ---------------------------------------------------------------------------- */

/* A read error or warning, named by file and record, saying what was
 * replayed before it. */
static void read_problem(const char *file, const rp_reader *rd, const char *kind,
                         const char *what)
{
    uint64_t rec = rp_error_record(rd), before = rec ? rec - 1 : 0;
    char done[96];
    if (before == 0)
        snprintf(done, sizeof done, "no record came before it");
    else if (before == 1)
        snprintf(done, sizeof done, "the record before it was replayed");
    else
        snprintf(done, sizeof done, "the %llu records before it were replayed",
                 (unsigned long long)before);
    /* libpcap (1.10, and its source to this day) stops at a pcapng
     * interface whose link type or snapshot length differs from the first
     * interface's: a limit of the library every pcap read goes through */
    const char *e = rp_error(rd);
    const char *hint =
        strstr(e, "different from the type of the first interface")
            ? "; libpcap reads no pcapng file whose interfaces differ in link type"
        : strstr(e, "different from the snapshot length of the first interface")
            ? "; libpcap reads no pcapng file whose interfaces differ in snapshot length"
            : "";
    fprintf(stderr, "sockmodel: %s: %s: record %llu: %s%s (%s%s)\n", file, kind,
            (unsigned long long)rec, what, rp_error(rd), done, hint);
}

/* The reader's first clock jump (pkt.h RP_A_TS_JUMP), named by record. */
static void warn_ts_jump(const char *file, const rp_reader *rd, uint64_t n)
{
    uint64_t from, to;
    uint64_t frame = rp_ts_jump(rd, &from, &to);
    char how[64];
    if (to >= UINT64_MAX - 999999999u)
        snprintf(how, sizeof how, "lies beyond 2^64 ns (after the year 2554)");
    else
        snprintf(how, sizeof how, "jumps %s by %.1f years", to >= from ? "ahead" : "back",
                 (double)(to >= from ? to - from : from - to) / 1e9 / 86400 / 365.25);
    fprintf(stderr,
            "sockmodel: %s: warning: record %llu: the timestamp %s; the replay's clock "
            "does not follow it (%llu record%s like this)\n",
            file, (unsigned long long)frame, how, (unsigned long long)n, n == 1 ? "" : "s");
}

static int parse_args(int argc, char **argv, opts *o)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--no-connections") == 0) {
            o->no_conns = true;
        } else if (strcmp(a, "--timing") == 0) {
            o->timing = true;
        } else if (strcmp(a, "--verify-checksums") == 0) {
            o->verify_csum = true;
        } else if (cli_is_opt(a, "--profile") || strcmp(a, "-p") == 0) {
            if (!(o->profile = cli_opt_value(argc, argv, &i, "--profile")) || !*o->profile)
                return usage_error("--profile needs a list of profiles");
        } else if (cli_is_opt(a, "--scenario")) {
            if (!(o->scenario = cli_opt_value(argc, argv, &i, "--scenario")) || !*o->scenario)
                return usage_error("--scenario needs a file name");
        } else if (cli_is_opt(a, "--timeline")) {
            if (!(o->timeline = cli_opt_value(argc, argv, &i, "--timeline")) || !*o->timeline)
                return usage_error("--timeline needs a file name");
        } else if (cli_is_opt(a, "--svg")) {
            if (!(o->svg = cli_opt_value(argc, argv, &i, "--svg")) || !*o->svg)
                return usage_error("--svg needs a file name");
        } else if (cli_is_opt(a, "--interval")) {
            const char *v = cli_opt_value(argc, argv, &i, "--interval");
            if (!v || !parse_duration(v, &o->interval_ns))
                return usage_error("--interval needs a duration such as 1s or 100ms");
        } else if (cli_is_opt(a, "--max-events")) {
            const char *v = cli_opt_value(argc, argv, &i, "--max-events");
            char *e;
            if (!v || !*v || (o->max_events = strtoull(v, &e, 10), *e) || o->max_events == 0)
                return usage_error("--max-events needs a positive number");
        } else if (cli_is_opt(a, "--threads")) {
            const char *v = cli_opt_value(argc, argv, &i, "--threads");
            if (!v || (strcmp(v, "1") != 0 && strcmp(v, "2") != 0))
                return usage_error("--threads needs 1 or 2");
            o->threads = v[0] - '0';
        } else if (cli_is_opt(a, "--host")) {
            const char *v = cli_opt_value(argc, argv, &i, "--host");
            const char *eq = v ? strchr(v, '=') : NULL;
            if (!eq)
                return usage_error("--host needs ADDR=PROFILE");
            if (o->novr >= MAX_OVR)
                return usage_error("too many --host options (at most %d)", MAX_OVR);
            if (!sm_addr_parse(v, (size_t)(eq - v), &o->ovr_addr[o->novr]))
                return usage_error("--host %s: not an IPv4 or IPv6 address", v);
            if (!(o->ovr_prof[o->novr] = sm_profile_find(eq + 1)))
                return usage_error("--host %s: unknown profile '%s' (see 'sockmodel profiles')",
                                   v, eq + 1);
            o->novr++;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option '%s'", a);
        } else {
            if (o->file)
                return usage_error("one capture file at a time ('%s' and '%s')", o->file, a);
            o->file = a;
        }
    }
    if (!o->file)
        return usage_error("no capture file given");
    return -1;
}

/* --timing's lines (standard error): tm[k]..tm[k + 1] is phase k's wall
 * time; model_cpu the caller's CPU time over the reading. */
static void print_timing(const double *tm, double model_cpu, const rp_timing *rt, bool helper,
                         double helper_ms)
{
    fprintf(stderr,
            "sockmodel replay: timing (ms, this run): setup %.1f, reading %.1f, hosts readied "
            "%.1f, records closed %.1f, report %.1f, teardown %.1f; total %.1f from the "
            "command's start\n",
            tm[1] - tm[0], tm[2] - tm[1], tm[3] - tm[2], tm[4] - tm[3], tm[5] - tm[4],
            tm[6] - tm[5], tm[6] - tm[0]);
    if (rt->depth)
        fprintf(stderr,
                "sockmodel replay: timing (ms): reading on two threads: the read-ahead thread "
                "(libpcap and the decoder) CPU %.1f, waiting for room %.1f (%lu times); the "
                "model's thread CPU %.1f, waiting for packets %.1f (%lu times, spinning at first); "
                "ring depth %u batches at the end\n",
                rt->thread_cpu_ms, rt->thread_wait_ms, rt->thread_waits, model_cpu,
                rt->caller_wait_ms, rt->caller_waits, rt->depth);
    else
        fprintf(stderr, "sockmodel replay: timing (ms): reading on one thread: CPU %.1f\n",
                model_cpu);
    if (helper)
        fprintf(stderr,
                "sockmodel replay: timing (ms): a second thread formatted host sections for "
                "%.1f from the hosts' readiness\n",
                helper_ms);
}

int scn_cmd_replay(int argc, char **argv)
{
    double t_start = rp_clock_ms(false);
    opts o;
    memset(&o, 0, sizeof o);
    int st = parse_args(argc, argv, &o);
    if (st >= 0)
        return st;

    /* profiles, in registry order */
    rp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    scn_arena arena = {0};
    scn_patlist pats;
    scn_buf err = {0};
    if (!scn_patlist_parse_arg(&arena, o.profile ? o.profile : "linux", &pats, &err)) {
        st = usage_error("%s", err.s ? err.s : "bad --profile");
        scn_buf_free(&err);
        scn_arena_free(&arena);
        return st;
    }
    for (size_t i = 0; i < sm_profile_count(); i++) {
        const sm_profile *p = sm_profile_at(i);
        if (scn_patlist_match(&pats, sm_profile_name(p))) {
            if (cfg.nruns >= RP_MAX_RUNS) {
                scn_arena_free(&arena);
                return usage_error("at most %d profiles at once", RP_MAX_RUNS);
            }
            cfg.run[cfg.nruns++] = p;
        }
    }
    scn_arena_free(&arena);
    if (cfg.nruns == 0)
        return usage_error("--profile %s matches no profile (see 'sockmodel profiles')",
                           o.profile);
    cfg.ovr_addr = o.ovr_addr;
    cfg.ovr_prof = o.ovr_prof;
    cfg.novr = o.novr;
    cfg.interval_ns = o.interval_ns;
    cfg.no_timeline = !o.timeline && !o.svg; /* only they draw it */
    cfg.max_events = o.max_events;

    char errbuf[512];
    if (o.threads == 0)
        o.threads = sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1;
    unsigned ropts = (o.verify_csum ? 0 : RP_OPT_NO_CSUM) | (o.threads == 2 ? RP_OPT_THREAD : 0) |
                     (o.timing ? RP_OPT_TIMING : 0);
    rp_reader *rd = rp_open(o.file, ropts, errbuf, sizeof errbuf);
    if (!rd) {
        fprintf(stderr, "sockmodel: %s: error: not a readable pcap/pcapng capture: %s\n", o.file,
                errbuf);
        return 2;
    }
    if (!rp_linktype_supported(rp_linktype(rd)))
        fprintf(stderr, "sockmodel: %s: warning: link type %d (%s) is not one the reader "
                        "decodes; every record will be skipped\n",
                o.file, rp_linktype(rd), rp_linktype_name(rd));

    out_ctx x;
    memset(&x, 0, sizeof x);
    x.out = stdout;
    x.o = &o;
    cfg.on_conn = o.no_conns ? NULL : on_conn;
    cfg.ctx = &x;
    rp_tracker *t = rp_track_new(&cfg);
    if (!t) {
        rp_close(rd);
        if (cfg.nruns == 0 || cfg.nruns > RP_MAX_RUNS)
            return usage_error("bad profile selection");
        fprintf(stderr, "sockmodel: error: %s: out of memory\n", o.file);
        return 2;
    }
    x.t = t;
    if (o.scenario && load_scenario(o.scenario, t, &cfg, o.json) != 0) {
        rp_track_free(t);
        rp_close(rd);
        return 2;
    }
    if (rp_track_failed(t)) {
        fprintf(stderr, "sockmodel: error: %s: out of memory\n", o.scenario);
        rp_track_free(t);
        rp_close(rd);
        return 2;
    }

    FILE *f = stdout;
    /* The report is a few hundred bytes per connection: written to a file
     * or a pipe, a 64 KiB buffer instead of stdio's page makes it 16 times
     * fewer write() calls.  A terminal keeps its line buffering. */
    static char outbuf[64 * 1024];
    x.eager = isatty(fileno(f));
    if (!x.eager)
        (void)setvbuf(f, outbuf, _IOFBF, sizeof outbuf);
    if (o.json) {
        /* docs/schema/sockmodel-replay-1.schema.json */
        fputs("{\"format\": \"sockmodel-replay/1\", \"tool\": \"sockmodel replay\", \"file\": ", f);
        smu_json_str(f, o.file);
        fprintf(f, ", \"link_type\": \"%s\", \"profiles\": [", rp_linktype_name(rd));
        for (size_t r = 0; r < cfg.nruns; r++)
            fprintf(f, "%s\"%s\"", r ? ", " : "", cfg.run[r]->name);
        fprintf(f, "], \"checksums_verified\": %s,\n\"connections\": [",
                o.verify_csum ? "true" : "false");
    } else {
        fprintf(f, "sockmodel replay: %s (%s), profiles:", o.file, rp_linktype_name(rd));
        for (size_t r = 0; r < cfg.nruns; r++)
            fprintf(f, " %s", cfg.run[r]->name);
        fputc('\n', f);
    }

    /* --timing: the phases' ends (wall), the caller's CPU over the reading */
    enum { T_SETUP, T_READ, T_HOSTS, T_CLOSED, T_REPORT, T_END, T_N };
    double tm[T_N + 1] = {0}, cpu0 = 0, cpu1 = 0, helper_ms = 0;
    if (o.timing) {
        tm[T_SETUP + 1] = rp_clock_ms(false);
        cpu0 = rp_clock_ms(true);
    }
    const rp_pkt *p;
    size_t n, done;
    int rc;
    while ((rc = rp_next_batch(rd, &p, &n)) == 1)
        if ((done = rp_track_packets(t, p, n)) < n) {
            /* no report: what was printed so far is not the capture's */
            fprintf(stderr, "sockmodel: error: %s: out of memory at record %llu\n", o.file,
                    (unsigned long long)p[done].frame);
            ob_flush(&x);
            fflush(f);
            rp_track_free(t);
            rp_close(rd);
            return 2;
        }
    if (o.timing) {
        tm[T_READ + 1] = rp_clock_ms(false);
        cpu1 = rp_clock_ms(true);
    }
    int status = 0;
    if (rc < 0) {
        read_problem(o.file, rd, "error", "");
        status = 2;
    } else if (rp_error(rd)[0]) {
        read_problem(o.file, rd, "warning", "the file ends inside it: ");
    }
    /* with two threads, the host sections are formatted while the records
     * close (host_ahead_start) */
    hostwork *hw = NULL;
    bool fin = rp_track_finish_hosts(t);
    if (fin && !o.json && o.threads == 2 && rp_track_nhosts(t) > 0)
        hw = host_ahead_start(t, f, o.timing);
    if (o.timing)
        tm[T_HOSTS + 1] = rp_clock_ms(false);
    if (!fin || !rp_track_finish(t)) {
        host_ahead_end(hw, NULL);
        fprintf(stderr, "sockmodel: error: %s: out of memory at the end of the capture\n",
                o.file);
        ob_flush(&x);
        fflush(f);
        rp_track_free(t);
        rp_close(rd);
        return 2;
    }
    if (o.timing)
        tm[T_CLOSED + 1] = rp_clock_ms(false);
    const rp_counts *cnt = rp_get_counts(rd);
    if (cnt->ts_jumps)
        warn_ts_jump(o.file, rd, cnt->ts_jumps);
    if (o.json) {
        if (!report_json_end(&x, t, cnt)) {
            fprintf(stderr, "sockmodel: error: %s: out of memory for the report\n", o.file);
            ob_flush(&x);
            fflush(f);
            rp_track_free(t);
            rp_close(rd);
            return 2;
        }
    } else {
        bool ok = report_text_end(&x, t, cnt, o.file, rp_linktype_name(rd), hw);
        host_ahead_end(hw, &helper_ms);
        if (!ok) {
            fprintf(stderr, "sockmodel: error: %s: out of memory for the report\n", o.file);
            ob_flush(&x);
            fflush(f);
            rp_track_free(t);
            rp_close(rd);
            return 2;
        }
        if (rp_counts_skipped(cnt) || cnt->ts_backwards || cnt->ts_jumps || cnt->bad_l4_csum ||
            cnt->bad_ip_csum || cnt->file_truncated) {
            fputs("\nreader counts:\n", f);
            rp_counts_print(f, cnt);
        }
        if (!o.verify_csum)
            fputs("(checksums not verified; --verify-checksums counts bad ones)\n", f);
    }
    if (o.timeline && !write_timeline(o.timeline, t)) {
        fprintf(stderr, "sockmodel: error: cannot write %s: %s\n", o.timeline, strerror(errno));
        status = 2;
    }
    if (o.svg && !write_svg(o.svg, t)) {
        fprintf(stderr, "sockmodel: error: cannot write %s: %s\n", o.svg, strerror(errno));
        status = 2;
    }
    ob_flush(&x);
    if (fflush(f) != 0 || x.werr)
        status = 2;
    rp_timing rt;
    rp_get_timing(rd, &rt);
    if (o.timing)
        tm[T_REPORT + 1] = rp_clock_ms(false);
    rp_track_free(t);
    rp_close(rd);
    if (o.timing) {
        tm[T_END + 1] = rp_clock_ms(false);
        tm[0] = t_start;
        print_timing(tm, cpu1 - cpu0, &rt, hw != NULL, helper_ms);
    }
    return status;
}
