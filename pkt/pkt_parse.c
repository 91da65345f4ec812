/*
 * pkt_parse.c - the parser of packetdrill scripts (our own, written from the
 * language's documentation; no packetdrill code).
 *
 * What it reads: option lines (--name=value), #ifdef/#ifndef/#else/#endif
 * guards, // and block comments, and one event per line (a %{ }% block
 * may span lines): a time (absolute, +relative, a~b range, start...end of
 * a blocking call, * for any), then a packet (< or >, flags,
 * start:end(len) or ...(len), ack, win, <options>), a system call
 * (name(args) = result [ERRNO] [(comment)]), a back-quoted shell command
 * or a %{ code }% block.  Every event keeps its line and column.
 *
 * Errors are "PATH:LINE:COL: message"; the parser never exits.
 */
#include "pktdrill.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- an arena: every byte of one script -------------------------------- */

typedef struct blk {
    struct blk *next;
    size_t used, cap;
    max_align_t data[];
} blk;

typedef struct arena {
    blk *head;
} arena;

static void *arena_alloc(arena *a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        blk *b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = (char *)a->head->data + a->head->used;
    a->head->used += n;
    memset(p, 0, n);
    return p;
}

static void arena_free(arena *a)
{
    for (blk *b = a->head, *nx; b; b = nx) {
        nx = b->next;
        free(b);
    }
    a->head = NULL;
}

/* ---- the parser state -------------------------------------------------- */

typedef struct parser {
    arena *a;
    const char *path;
    const char *line;  /* start of the current line */
    const char *p;     /* cursor */
    int lineno;
    char *err;
    size_t errlen;
    bool failed;
    pkt_event *ev;
    size_t nev, evcap;
    pkt_option *opt;
    size_t nopt, optcap;
    pkt_guard guard[PKT_MAX_GUARDS];
    bool in_else[PKT_MAX_GUARDS];
    size_t nguard;
    unsigned nest;     /* '[' lists open around the cursor */
} parser;

static bool fail_at(parser *ps, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail_at(parser *ps, const char *at, const char *fmt, ...)
{
    if (ps->failed)
        return false;
    ps->failed = true;
    int n = snprintf(ps->err, ps->errlen, "%s:%d:%d: ", ps->path, ps->lineno,
                     (int)(at - ps->line) + 1);
    if (n >= 0 && (size_t)n < ps->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return false;
}

static char *dup_n(parser *ps, const char *s, size_t n)
{
    char *d = arena_alloc(ps->a, n + 1);
    if (!d) {
        fail_at(ps, ps->p, "out of memory");
        return NULL;
    }
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static void skip_ws(parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r')
        ps->p++;
}

static bool at_end(parser *ps)
{
    skip_ws(ps);
    return *ps->p == 0;
}

static bool eat(parser *ps, const char *s)
{
    skip_ws(ps);
    size_t n = strlen(s);
    if (strncmp(ps->p, s, n) != 0)
        return false;
    ps->p += n;
    return true;
}

static bool is_ident_start(int c) { return isalpha(c) || c == '_'; }
static bool is_ident(int c) { return isalnum(c) || c == '_'; }

/* An identifier at the cursor (NULL if none). */
static const char *ident(parser *ps)
{
    skip_ws(ps);
    if (!is_ident_start((unsigned char)*ps->p))
        return NULL;
    const char *s = ps->p;
    while (is_ident((unsigned char)*ps->p))
        ps->p++;
    return dup_n(ps, s, (size_t)(ps->p - s));
}

/* An unsigned or signed integer, decimal or 0x hex. */
static bool integer(parser *ps, int64_t *out, const char *what)
{
    skip_ws(ps);
    const char *s = ps->p;
    bool neg = false;
    if (*ps->p == '-') {
        neg = true;
        ps->p++;
    }
    if (!isdigit((unsigned char)*ps->p))
        return fail_at(ps, s, "expected %s", what);
    errno = 0;
    char *e;
    unsigned long long v = strtoull(ps->p, &e, 0);
    if (errno || v > (unsigned long long)INT64_MAX)
        return fail_at(ps, s, "%s out of range", what);
    ps->p = e;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

static bool u32(parser *ps, uint32_t *out, const char *what)
{
    const char *s = ps->p;
    int64_t v;
    if (!integer(ps, &v, what))
        return false;
    if (v < 0 || v > (int64_t)UINT32_MAX)
        return fail_at(ps, s, "%s out of range", what);
    *out = (uint32_t)v;
    return true;
}

/* Seconds with up to six decimals, as microseconds. */
static bool seconds(parser *ps, int64_t *us)
{
    const char *s = ps->p;
    if (!isdigit((unsigned char)*ps->p) && *ps->p != '.')
        return fail_at(ps, s, "expected a time in seconds");
    int64_t whole = 0, frac = 0;
    int digits = 0;
    while (isdigit((unsigned char)*ps->p)) {
        if (whole > INT64_MAX / 10000000)
            return fail_at(ps, s, "time out of range");
        whole = whole * 10 + (*ps->p++ - '0');
    }
    if (*ps->p == '.') {
        ps->p++;
        while (isdigit((unsigned char)*ps->p)) {
            if (digits < 6) {
                frac = frac * 10 + (*ps->p - '0');
                digits++;
            }
            ps->p++;
        }
    }
    while (digits++ < 6)
        frac *= 10;
    *us = whole * 1000000 + frac;
    return true;
}

/* ---- times ----------------------------------------------------------------- */

static bool parse_time(parser *ps, pkt_time *t)
{
    skip_ws(ps);
    memset(t, 0, sizeof *t);
    if (*ps->p == '*') {
        ps->p++;
        t->kind = PKT_T_ANY;
        return true;
    }
    t->kind = PKT_T_ABS;
    if (*ps->p == '+') {
        t->kind = PKT_T_REL;
        ps->p++;
        skip_ws(ps);
    }
    if (!seconds(ps, &t->us))
        return false;
    if (*ps->p == '~') {
        ps->p++;
        if (*ps->p == '+')
            ps->p++;
        t->range = true;
        if (!seconds(ps, &t->range_end_us))
            return false;
    }
    if (strncmp(ps->p, "...", 3) == 0) {
        ps->p += 3;
        t->blocking = true;
        if (*ps->p == '+') {
            t->end_rel = true;
            ps->p++;
        }
        if (!seconds(ps, &t->end_us))
            return false;
    }
    if (*ps->p && *ps->p != ' ' && *ps->p != '\t')
        return fail_at(ps, ps->p, "expected a blank after the time");
    return true;
}

/* ---- packets --------------------------------------------------------------- */

static bool parse_options(parser *ps, pkt_seg *g)
{
    /* after '<' */
    if (eat(ps, "...")) {
        if (!eat(ps, ">"))
            return fail_at(ps, ps->p, "expected '>' after '<...'");
        g->opts = 2;
        return true;
    }
    g->opts = 1;
    if (eat(ps, ">"))
        return true;
    for (;;) {
        skip_ws(ps);
        const char *at = ps->p;
        const char *name = ident(ps);
        if (!name)
            return fail_at(ps, at, "expected a TCP option (mss, nop, eol, wscale, sackOK, sack, TS)");
        if (g->nopt == PKT_MAX_OPTS)
            return fail_at(ps, at, "too many TCP options");
        pkt_tcpopt *o = &g->opt[g->nopt++];
        if (strcmp(name, "nop") == 0)
            o->kind = PKT_OPT_NOP;
        else if (strcmp(name, "eol") == 0)
            o->kind = PKT_OPT_EOL;
        else if (strcmp(name, "sackOK") == 0)
            o->kind = PKT_OPT_SACKOK;
        else if (strcmp(name, "mss") == 0) {
            o->kind = PKT_OPT_MSS;
            if (!u32(ps, &o->a, "an MSS value"))
                return false;
        } else if (strcmp(name, "wscale") == 0) {
            o->kind = PKT_OPT_WSCALE;
            if (!u32(ps, &o->a, "a window scale"))
                return false;
        } else if (strcmp(name, "TS") == 0) {
            o->kind = PKT_OPT_TS;
            const char *v = ident(ps);
            if (!v || strcmp(v, "val") != 0)
                return fail_at(ps, ps->p, "expected 'val' after TS");
            if (!u32(ps, &o->a, "a TS value"))
                return false;
            const char *e = ident(ps);
            if (!e || strcmp(e, "ecr") != 0)
                return fail_at(ps, ps->p, "expected 'ecr' after the TS value");
            if (!u32(ps, &o->b, "a TS echo reply"))
                return false;
        } else if (strcmp(name, "sack") == 0) {
            /* sack a:b c:d ...: the blocks are not modelled; counted */
            o->kind = PKT_OPT_SACK;
            skip_ws(ps);
            while (isdigit((unsigned char)*ps->p)) {
                uint32_t x, y;
                if (!u32(ps, &x, "a SACK block start") || !eat(ps, ":") ||
                    !u32(ps, &y, "a SACK block end"))
                    return fail_at(ps, ps->p, "expected a SACK block start:end");
                o->a++;
                skip_ws(ps);
            }
        } else
            return fail_at(ps, at, "unknown TCP option '%s'", name);
        if (eat(ps, ","))
            continue;
        if (eat(ps, ">"))
            return true;
        return fail_at(ps, ps->p, "expected ',' or '>' in the option list");
    }
}

static bool parse_packet(parser *ps, pkt_event *e)
{
    pkt_seg *g = &e->seg;
    skip_ws(ps);
    const char *fl = ps->p;
    while (*ps->p && strchr("SFRP.UEWC", *ps->p)) {
        switch (*ps->p) {
        case 'S': g->flags |= SM_TH_SYN; break;
        case 'F': g->flags |= SM_TH_FIN; break;
        case 'R': g->flags |= SM_TH_RST; break;
        case 'P': g->flags |= SM_TH_PSH; break;
        case '.': g->flags |= SM_TH_ACK; break;
        case 'U': g->flags |= PKT_TH_URG; break;
        case 'E': g->flags |= PKT_TH_ECE; break;
        case 'W': g->flags |= PKT_TH_CWR; break;
        case 'C': g->flags |= PKT_TH_CWR; break;
        }
        ps->p++;
    }
    if (ps->p == fl)
        return fail_at(ps, fl, "expected TCP flags (S, F, R, P, ., U, E, W)");
    skip_ws(ps);
    const char *sq = ps->p;
    if (strncmp(ps->p, "...", 3) == 0) {
        ps->p += 3;
        g->seq_any = true;
    } else {
        if (!u32(ps, &g->seq, "a start sequence number") )
            return false;
        if (*ps->p != ':')
            return fail_at(ps, ps->p, "expected ':' between start and end sequence numbers");
        ps->p++;
        if (!u32(ps, &g->end, "an end sequence number"))
            return false;
    }
    if (*ps->p != '(')
        return fail_at(ps, ps->p, "expected '(length)' after the sequence numbers");
    ps->p++;
    if (!u32(ps, &g->len, "a payload length"))
        return false;
    if (*ps->p != ')')
        return fail_at(ps, ps->p, "expected ')'");
    ps->p++;
    if (!g->seq_any && g->end - g->seq != g->len)
        return fail_at(ps, sq, "start:end does not span the length (%u:%u(%u))", g->seq, g->end,
                       g->len);
    for (;;) {
        skip_ws(ps);
        if (!*ps->p)
            return true;
        const char *at = ps->p;
        if (*ps->p == '<') {
            ps->p++;
            if (!parse_options(ps, g))
                return false;
            continue;
        }
        const char *kw = ident(ps);
        if (!kw)
            return fail_at(ps, at, "unexpected '%c' in a packet", *at);
        if (strcmp(kw, "ack") == 0) {
            g->has_ack = true;
            if (!u32(ps, &g->ack, "an acknowledgement number"))
                return false;
        } else if (strcmp(kw, "win") == 0) {
            g->has_win = true;
            if (!u32(ps, &g->win, "a window"))
                return false;
            if (g->win > 65535)
                return fail_at(ps, at, "window %u does not fit 16 bits", g->win);
        } else if (strcmp(kw, "urg") == 0) {
            uint32_t u;
            if (!u32(ps, &u, "an urgent pointer"))
                return false;
        } else
            return fail_at(ps, at, "unknown packet keyword '%s'", kw);
    }
}

/* ---- system calls ---------------------------------------------------------- */

static bool parse_expr(parser *ps, pkt_expr *x);

/* Deeper lists than any system call takes (packetdrill's deepest are
 * iovecs and msghdrs, three levels) are refused, not followed down the
 * stack: each level is a recursion. */
#define PKT_MAX_NEST 16

static bool parse_list_items(parser *ps, pkt_expr *x, char close);

static bool parse_list(parser *ps, pkt_expr *x, char close)
{
    if (ps->nest >= PKT_MAX_NEST)
        return fail_at(ps, ps->p - 1, "lists nested deeper than %d",
                       PKT_MAX_NEST);
    ps->nest++;
    bool ok = parse_list_items(ps, x, close);
    ps->nest--;
    return ok;
}

static bool parse_list_items(parser *ps, pkt_expr *x, char close)
{
    /* after the opening bracket */
    x->kind = PKT_X_LIST;
    pkt_expr items[16];
    size_t n = 0;
    skip_ws(ps);
    if (*ps->p != close) {
        for (;;) {
            if (n == 16)
                return fail_at(ps, ps->p, "too many items in a list");
            if (!parse_expr(ps, &items[n++]))
                return false;
            if (eat(ps, ","))
                continue;
            break;
        }
    }
    skip_ws(ps);
    if (*ps->p != close)
        return fail_at(ps, ps->p, "expected '%c'", close);
    ps->p++;
    x->nkid = n;
    x->kid = arena_alloc(ps->a, (n ? n : 1) * sizeof *x->kid);
    if (!x->kid)
        return fail_at(ps, ps->p, "out of memory");
    memcpy(x->kid, items, n * sizeof *items);
    return true;
}

static bool parse_primary(parser *ps, pkt_expr *x)
{
    skip_ws(ps);
    memset(x, 0, sizeof *x);
    const char *at = ps->p;
    if (strncmp(ps->p, "...", 3) == 0) {
        ps->p += 3;
        x->kind = PKT_X_ANY;
        return true;
    }
    if (*ps->p == '[') {
        ps->p++;
        return parse_list(ps, x, ']');
    }
    if (*ps->p == '{') {
        int depth = 0;
        do {
            if (*ps->p == '{')
                depth++;
            else if (*ps->p == '}')
                depth--;
            else if (!*ps->p)
                return fail_at(ps, at, "unterminated '{'");
            ps->p++;
        } while (depth > 0);
        x->kind = PKT_X_BRACE;
        x->text = dup_n(ps, at, (size_t)(ps->p - at));
        return x->text != NULL;
    }
    if (*ps->p == '"') {
        ps->p++;
        const char *s = ps->p;
        while (*ps->p && *ps->p != '"')
            ps->p += ps->p[0] == '\\' && ps->p[1] ? 2 : 1;
        if (!*ps->p)
            return fail_at(ps, at, "unterminated string");
        x->kind = PKT_X_STR;
        x->text = dup_n(ps, s, (size_t)(ps->p - s));
        ps->p++;
        return x->text != NULL;
    }
    if (isdigit((unsigned char)*ps->p) || *ps->p == '-') {
        x->kind = PKT_X_NUM;
        return integer(ps, &x->num, "a number");
    }
    const char *id = ident(ps);
    if (!id)
        return fail_at(ps, at, "expected an argument");
    x->kind = PKT_X_SYM;
    x->text = id;
    return true;
}

static bool parse_expr(parser *ps, pkt_expr *x)
{
    if (!parse_primary(ps, x))
        return false;
    skip_ws(ps);
    if (*ps->p != '|')
        return true;
    pkt_expr items[16];
    size_t n = 0;
    items[n++] = *x;
    while (eat(ps, "|")) {
        if (n == 16)
            return fail_at(ps, ps->p, "too many '|' terms");
        if (!parse_primary(ps, &items[n++]))
            return false;
    }
    memset(x, 0, sizeof *x);
    x->kind = PKT_X_OR;
    x->nkid = n;
    x->kid = arena_alloc(ps->a, n * sizeof *x->kid);
    if (!x->kid)
        return fail_at(ps, ps->p, "out of memory");
    memcpy(x->kid, items, n * sizeof *items);
    return true;
}

static bool parse_call(parser *ps, pkt_event *e)
{
    pkt_call *c = &e->call;
    const char *at = ps->p;
    c->name = ident(ps);
    if (!c->name)
        return fail_at(ps, at, "expected a system call, a packet, a `command` or %%{ code }%%");
    if (!eat(ps, "("))
        return fail_at(ps, ps->p, "expected '(' after %s", c->name);
    pkt_expr list;
    if (!parse_list(ps, &list, ')'))
        return false;
    c->arg = list.kid;
    c->narg = list.nkid;
    if (!eat(ps, "="))
        return fail_at(ps, ps->p, "expected '= result' after the call");
    if (!parse_primary(ps, &c->ret))
        return false;
    if (c->ret.kind != PKT_X_NUM && c->ret.kind != PKT_X_ANY)
        return fail_at(ps, ps->p, "a call's result is a number or ...");
    skip_ws(ps);
    if (is_ident_start((unsigned char)*ps->p)) {
        const char *ea = ps->p;
        c->err = ident(ps);
        if (c->err && c->err[0] != 'E')
            return fail_at(ps, ea, "expected an errno name, not '%s'", c->err);
    }
    skip_ws(ps);
    if (*ps->p == '(') { /* a comment: (Operation now in progress), (flags O_RDWR) */
        int depth = 0;
        const char *cs = ps->p;
        do {
            if (*ps->p == '(')
                depth++;
            else if (*ps->p == ')')
                depth--;
            else if (!*ps->p)
                return fail_at(ps, cs, "unterminated '('");
            ps->p++;
        } while (depth > 0);
    }
    if (!at_end(ps))
        return fail_at(ps, ps->p, "unexpected text after the call");
    return true;
}

/* ---- lines ----------------------------------------------------------------- */

static pkt_event *new_event(parser *ps)
{
    if (ps->nev == PKT_MAX_EVENTS) {
        fail_at(ps, ps->p, "more than %d events in one script", PKT_MAX_EVENTS);
        return NULL;
    }
    if (ps->nev == ps->evcap) {
        size_t nc = ps->evcap ? ps->evcap * 2 : 64;
        pkt_event *n = realloc(ps->ev, nc * sizeof *n);
        if (!n) {
            fail_at(ps, ps->p, "out of memory");
            return NULL;
        }
        ps->ev = n;
        ps->evcap = nc;
    }
    pkt_event *e = &ps->ev[ps->nev++];
    memset(e, 0, sizeof *e);
    e->line = ps->lineno;
    e->col = (int)(ps->p - ps->line) + 1;
    memcpy(e->guard, ps->guard, ps->nguard * sizeof *ps->guard);
    e->nguard = ps->nguard;
    return e;
}

static bool parse_directive(parser *ps)
{
    const char *at = ps->p;
    ps->p++; /* '#' */
    const char *d = ident(ps);
    if (!d)
        return fail_at(ps, at, "expected #ifdef, #ifndef, #else or #endif");
    if (strcmp(d, "ifdef") == 0 || strcmp(d, "ifndef") == 0) {
        if (ps->nguard == PKT_MAX_GUARDS)
            return fail_at(ps, at, "#ifdef nested too deep");
        const char *name = ident(ps);
        if (!name)
            return fail_at(ps, ps->p, "expected a name after #%s", d);
        ps->guard[ps->nguard].name = name;
        ps->guard[ps->nguard].defined = d[2] == 'd';
        ps->in_else[ps->nguard] = false;
        ps->nguard++;
    } else if (strcmp(d, "else") == 0) {
        if (!ps->nguard || ps->in_else[ps->nguard - 1])
            return fail_at(ps, at, "#else without #ifdef");
        ps->guard[ps->nguard - 1].defined = !ps->guard[ps->nguard - 1].defined;
        ps->in_else[ps->nguard - 1] = true;
    } else if (strcmp(d, "endif") == 0) {
        if (!ps->nguard)
            return fail_at(ps, at, "#endif without #ifdef");
        ps->nguard--;
    } else
        return fail_at(ps, at, "unknown directive #%s", d);
    if (!at_end(ps))
        return fail_at(ps, ps->p, "unexpected text after #%s", d);
    return true;
}

static bool parse_option_line(parser *ps)
{
    ps->p += 2;
    const char *s = ps->p;
    while (is_ident((unsigned char)*ps->p) || *ps->p == '-')
        ps->p++;
    if (ps->p == s)
        return fail_at(ps, s, "expected an option name after --");
    if (ps->nopt == PKT_MAX_EVENTS)
        return fail_at(ps, s, "more than %d option lines in one script", PKT_MAX_EVENTS);
    if (ps->nopt == ps->optcap) {
        size_t nc = ps->optcap ? ps->optcap * 2 : 8;
        pkt_option *n = realloc(ps->opt, nc * sizeof *n);
        if (!n)
            return fail_at(ps, s, "out of memory");
        ps->opt = n;
        ps->optcap = nc;
    }
    pkt_option *o = &ps->opt[ps->nopt++];
    o->line = ps->lineno;
    o->name = dup_n(ps, s, (size_t)(ps->p - s));
    o->value = NULL;
    if (*ps->p == '=') {
        const char *v = ++ps->p;
        while (*ps->p && *ps->p != ' ' && *ps->p != '\t' && *ps->p != '\r')
            ps->p++;
        o->value = dup_n(ps, v, (size_t)(ps->p - v));
    }
    if (!at_end(ps))
        return fail_at(ps, ps->p, "unexpected text after the option");
    return !ps->failed;
}

/* One event; LINE holds it (a %{ }% block: several lines joined). */
static bool parse_event(parser *ps)
{
    pkt_event *e = new_event(ps);
    if (!e)
        return false;
    if (!parse_time(ps, &e->t))
        return false;
    skip_ws(ps);
    e->col = (int)(ps->p - ps->line) + 1;
    char c = *ps->p;
    if (c == '<' || c == '>') {
        e->kind = c == '<' ? PKT_IN : PKT_OUT;
        ps->p++;
        if (e->kind == PKT_IN && e->t.kind == PKT_T_ANY)
            return fail_at(ps, ps->p - 1, "an inbound packet needs a time ('*' is for '>' only)");
        return parse_packet(ps, e);
    }
    if (e->t.kind == PKT_T_ANY)
        return fail_at(ps, ps->p, "'*' (any time) is for outbound packets only");
    if (c == '`') {
        const char *s = ++ps->p;
        const char *q = strchr(s, '`');
        if (!q)
            return fail_at(ps, s - 1, "unterminated `command`");
        e->kind = PKT_SHELL;
        e->text = dup_n(ps, s, (size_t)(q - s));
        ps->p = q + 1;
        if (!at_end(ps))
            return fail_at(ps, ps->p, "unexpected text after the `command`");
        return e->text != NULL;
    }
    if (c == '%' && ps->p[1] == '{') {
        const char *s = ps->p + 2;
        const char *q = strstr(s, "}%");
        if (!q)
            return fail_at(ps, ps->p, "unterminated %%{ code }%%");
        e->kind = PKT_CODE;
        e->text = dup_n(ps, s, (size_t)(q - s));
        ps->p = q + 2;
        if (!at_end(ps))
            return fail_at(ps, ps->p, "unexpected text after }%%");
        return e->text != NULL;
    }
    if (e->t.blocking && !is_ident_start((unsigned char)c))
        return fail_at(ps, ps->p, "only a system call has an end time (...)");
    e->kind = PKT_CALL;
    return parse_call(ps, e);
}

/* Removes comments from BUF in place (// to the end of a line, block
 * comments across lines), keeping line breaks and columns.  Back-quoted
 * commands, strings and %{ }% blocks are left alone. */
static void strip_comments(char *buf)
{
    bool in_block = false;
    char quote = 0;
    bool in_code = false;
    for (char *p = buf; *p; p++) {
        if (in_block) {
            if (p[0] == '*' && p[1] == '/') {
                p[0] = p[1] = ' ';
                p++;
                in_block = false;
            } else if (*p != '\n')
                *p = ' ';
            continue;
        }
        if (in_code) {
            if (p[0] == '}' && p[1] == '%')
                in_code = false, p++;
            continue;
        }
        if (quote) {
            if (*p == quote || *p == '\n')
                quote = 0;
            continue;
        }
        if (*p == '`' || *p == '"')
            quote = *p;
        else if (p[0] == '%' && p[1] == '{')
            in_code = true, p++;
        else if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n')
                *p++ = ' ';
            if (!*p)
                break;
        } else if (p[0] == '/' && p[1] == '*') {
            p[0] = p[1] = ' ';
            p++;
            in_block = true;
        }
    }
}

pkt_script *pkt_parse(const char *path, const char *text, size_t len, char *err,
                      size_t errlen)
{
    arena a = {NULL};
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.a = &a;
    ps.path = path;
    ps.err = err;
    ps.errlen = errlen;
    if (errlen)
        err[0] = 0;
    if (len > PKT_MAX_BYTES) {
        snprintf(err, errlen, "%s: the script is larger than %zu MiB", path, PKT_MAX_BYTES >> 20);
        return NULL;
    }
    char *buf = malloc(len + 1);
    pkt_script *s = NULL;
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    memcpy(buf, text, len);
    buf[len] = 0;
    if (memchr(buf, 0, len)) {
        snprintf(err, errlen, "%s:1:1: the script holds a NUL byte", path);
        goto out;
    }
    strip_comments(buf);
    char *p = buf;
    int lineno = 0;
    bool no_close = false;
    while (*p && !ps.failed) {
        char *nl = strchr(p, '\n');
        char *next = nl ? nl + 1 : p + strlen(p);
        lineno++;
        ps.lineno = lineno;
        ps.line = ps.p = p;
        /* A %{ block that spans lines: join them (line breaks as blanks).
         * Only this line is searched for its start, and once a search for
         * an end has failed none is made again (none can succeed later):
         * the whole loop stays linear in the script's size. */
        char *open = NULL;
        for (char *q = p; *q && q != nl; q++)
            if (q[0] == '%' && q[1] == '{') {
                open = q;
                break;
            }
        if (open && !no_close) {
            char *close = strstr(open, "}%");
            if (!close)
                no_close = true; /* not closed: the line fails below */
            if (close) {
                int extra = 0;
                for (char *q = p; q < close; q++)
                    if (*q == '\n') {
                        *q = ' ';
                        extra++;
                    }
                nl = strchr(close, '\n');
                next = nl ? nl + 1 : close + strlen(close);
                if (nl)
                    *nl = 0;
                skip_ws(&ps);
                if (*ps.p && !parse_event(&ps))
                    break;
                lineno += extra;
                p = next;
                continue;
            }
        }
        if (nl)
            *nl = 0;
        skip_ws(&ps);
        if (!*ps.p) {
            /* blank */
        } else if (*ps.p == '#') {
            parse_directive(&ps);
        } else if (ps.p[0] == '-' && ps.p[1] == '-') {
            if (ps.nev)
                fail_at(&ps, ps.p, "option lines come before the first event");
            else
                parse_option_line(&ps);
        } else
            parse_event(&ps);
        p = next;
    }
    if (!ps.failed && ps.nguard) {
        ps.lineno = lineno;
        ps.line = ps.p = "";
        fail_at(&ps, ps.p, "#ifdef %s without #endif", ps.guard[ps.nguard - 1].name);
    }
    if (ps.failed)
        goto out;
    s = arena_alloc(&a, sizeof *s);
    char *pathcopy = s ? arena_alloc(&a, strlen(path) + 1) : NULL;
    pkt_event *ev = arena_alloc(&a, (ps.nev ? ps.nev : 1) * sizeof *ev);
    pkt_option *op = arena_alloc(&a, (ps.nopt ? ps.nopt : 1) * sizeof *op);
    if (!s || !pathcopy || !ev || !op) {
        snprintf(err, errlen, "%s: out of memory", path);
        s = NULL;
        goto out;
    }
    strcpy(pathcopy, path);
    if (ps.nev)
        memcpy(ev, ps.ev, ps.nev * sizeof *ev);
    if (ps.nopt)
        memcpy(op, ps.opt, ps.nopt * sizeof *op);
    s->path = pathcopy;
    s->ev = ev;
    s->nev = ps.nev;
    s->opt = op;
    s->nopt = ps.nopt;
    blk *keep = a.head;
    a.head = NULL;
    s->arena_ = keep;
out:
    free(ps.ev);
    free(ps.opt);
    free(buf);
    arena_free(&a);
    return s;
}

pkt_script *pkt_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap || n > PKT_MAX_BYTES)
            break; /* the end, or too long: pkt_parse says so */
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    bool bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        snprintf(err, errlen, "%s: cannot read%s", path, buf ? "" : ": out of memory");
        free(buf);
        return NULL;
    }
    pkt_script *s = pkt_parse(path, buf, n, err, errlen);
    free(buf);
    return s;
}

void pkt_script_free(pkt_script *s)
{
    if (!s)
        return;
    arena a = {s->arena_};
    arena_free(&a);
}
