/*
 * scn_parse.c - the grammar of scenario files (shared/spec/
 * scenario-language.md): statements, guards "[PATTERNS]", expectations
 * "=> OUTCOME" / "=> PATTERNS: OUTCOME; ...", and the static checks that
 * can be made before anything runs (socket names created once and known
 * before use, hosts declared before "on", profile patterns that match a
 * profile, outcomes that name an error, sysctl keys some profile knows).
 *
 * The parser works line by line and never recurses.  Each bad line gives
 * one message "FILE:LINE:COL: error: expected WHAT, got 'WORD'" and the
 * parser goes on with the next line, so one run shows many mistakes.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "scn.h"
#include "scn_backend.h"
#include "scn_lex.h"
#include "sm_profile.h"

/* ---- parser state ------------------------------------------------------ */

/* A sequence of words being read, and what to say when it runs out. */
typedef struct cursor {
    const scn_tok *t;
    size_t n, pos;
    unsigned end_col;     /* where "end of line" is */
    const char *end_what; /* "end of line", "'=>'", "']'" */
} cursor;

typedef struct pctx {
    scn_file *f;
    FILE *errs;
    size_t n_errors;
    unsigned line;
    bool stop;
    size_t stmt_cap, sock_cap;
    scn_map socks;      /* socket name -> index */
    unsigned *sock_line; /* line that created each socket */
    scn_map hosts;      /* declared hosts */
    scn_map host_os;    /* pinned hosts -> index of their profile */
    unsigned profile_line;
    scn_tok *tok;       /* word buffer, room for a whole line */
    scn_buf what;       /* scratch: what was expected */
    scn_buf quote;      /* scratch: the quoted word */
    uint64_t waited;    /* the waits so far, in ns (at most SM_CLOCK_MAX) */
    /* repeat N ... end: the block being read, then expanded */
    bool in_repeat;
    unsigned repeat_line;
    uint64_t repeat_n;
    struct body_line {
        const char *s;
        size_t n;
        unsigned line;
    } *body;
    size_t n_body, body_cap;
    /* While an expanded line is parsed: where `{i}` stood (expanded
     * columns) and how many digits replaced it, to report columns of the
     * line as written. */
    unsigned *sub_col;
    size_t n_sub;
    unsigned sub_digits;
} pctx;

#define STATEMENTS                                                         \
    "host, on, as, proc, sysctl, profile, NAME = socket, setsockopt, "     \
    "bind, listen, connect, NAME = accept, send, recv, shutdown, close, "  \
    "exit, wait, delay, expect, sendto, recvfrom, repeat"

/* ---- messages ---------------------------------------------------------- */

static void perr(pctx *c, unsigned col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The column of the line as written, for column COL of an expanded
 * repeat line (each `{i}` became sub_digits digits). */
static unsigned unexpand(const pctx *c, unsigned col)
{
    int shift = 0;
    for (size_t k = 0; k < c->n_sub; k++) {
        unsigned at = c->sub_col[k];
        if (col < at)
            break;
        if (col < at + c->sub_digits)
            return (unsigned)((int)at - shift);
        shift += (int)c->sub_digits - 3;
    }
    return (unsigned)((int)col - shift);
}

static void perr(pctx *c, unsigned col, const char *fmt, ...)
{
    col = unexpand(c, col);
    c->n_errors++;
    if (!c->errs || c->n_errors > SCN_MAX_ERRORS)
        return;
    fprintf(c->errs, "%s:%u:%u: error: ", c->f->path, c->line, col);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->errs, fmt, ap);
    va_end(ap);
    fputc('\n', c->errs);
}

/* 'WORD', with control characters escaped and long words shortened. */
static const char *quote(pctx *c, const scn_tok *t)
{
    scn_buf *b = &c->quote;
    b->len = 0;
    scn_buf_puts(b, "'");
    size_t n = t->len, shown = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)t->s[i];
        if (shown >= 40 && (ch & 0xC0) != 0x80) {
            scn_buf_puts(b, "...");
            break;
        }
        if (ch < 0x20 || ch == 0x7F)
            scn_buf_printf(b, "\\x%02X", ch);
        else
            scn_buf_add(b, (const char *)&t->s[i], 1);
        if ((ch & 0xC0) != 0x80)
            shown++;
    }
    scn_buf_puts(b, "'");
    return b->s;
}

/* "expected WHAT, got 'WORD'" (or "got end of line" when T is NULL). */
static bool expected(pctx *c, const cursor *k, const scn_tok *t,
                     const char *what)
{
    if (t)
        perr(c, t->col, "expected %s, got %s", what, quote(c, t));
    else
        perr(c, k->end_col, "expected %s, got %s", what, k->end_what);
    return false;
}

/* ---- words ------------------------------------------------------------- */

static const scn_tok *cur_next(cursor *k)
{
    return k->pos < k->n ? &k->t[k->pos++] : NULL;
}

static const scn_tok *cur_peek(const cursor *k)
{
    return k->pos < k->n ? &k->t[k->pos] : NULL;
}

static char *tok_dup(pctx *c, const scn_tok *t)
{
    return scn_strndup(&c->f->arena, t->s, t->len);
}

/* [A-Za-z_][A-Za-z0-9_.-]*: a byte's class, 1 may start a name, 2 may
 * follow (one lookup per byte: every socket operand is checked). */
#define NC_LETTERS(b)                                                      \
    [b] = 3, [b + 1] = 3, [b + 2] = 3, [b + 3] = 3, [b + 4] = 3,           \
    [b + 5] = 3, [b + 6] = 3, [b + 7] = 3, [b + 8] = 3, [b + 9] = 3,       \
    [b + 10] = 3, [b + 11] = 3, [b + 12] = 3, [b + 13] = 3, [b + 14] = 3,  \
    [b + 15] = 3, [b + 16] = 3, [b + 17] = 3, [b + 18] = 3, [b + 19] = 3,  \
    [b + 20] = 3, [b + 21] = 3, [b + 22] = 3, [b + 23] = 3, [b + 24] = 3,  \
    [b + 25] = 3
static const unsigned char name_class[256] = {
    NC_LETTERS('A'), NC_LETTERS('a'), ['_'] = 3,
    ['0'] = 2, ['1'] = 2, ['2'] = 2, ['3'] = 2, ['4'] = 2, ['5'] = 2,
    ['6'] = 2, ['7'] = 2, ['8'] = 2, ['9'] = 2, ['.'] = 2, ['-'] = 2,
};
#undef NC_LETTERS

static bool name_chars_ok(const scn_tok *t)
{
    if (t->len == 0)
        return false;
    const unsigned char *s = (const unsigned char *)t->s;
    unsigned ok = name_class[s[0]] & 1;
    for (size_t i = 1; i < t->len; i++)
        ok &= name_class[s[i]] >> 1;
    return ok;
}

/* Checks that T is a name; WHAT says which kind ("a socket name"). */
static bool check_name(pctx *c, const cursor *k, const scn_tok *t,
                       const char *what)
{
    if (!t || !name_chars_ok(t))
        return expected(c, k, t, what);
    if (t->len > SCN_MAX_NAME && scn_chars(t->s, t->len) > SCN_MAX_NAME) {
        c->what.len = 0;
        scn_buf_printf(&c->what, "%s (at most %d characters)", what,
                       SCN_MAX_NAME);
        return expected(c, k, t, c->what.s);
    }
    return true;
}

static bool take_name(pctx *c, cursor *k, const char *what, const char **out)
{
    const scn_tok *t = cur_next(k);
    if (!check_name(c, k, t, what))
        return false;
    *out = tok_dup(c, t);
    return true;
}

static bool parse_u64(const scn_tok *t, uint64_t max, uint64_t *out)
{
    if (t->len == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < t->len; i++) {
        if (t->s[i] < '0' || t->s[i] > '9')
            return false;
        unsigned d = (unsigned)(t->s[i] - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool take_u64(pctx *c, cursor *k, const char *what, uint64_t max,
                     uint64_t *out)
{
    const scn_tok *t = cur_next(k);
    if (!t || !parse_u64(t, max, out)) {
        c->what.len = 0;
        scn_buf_printf(&c->what, "%s (a whole number from 0 to %llu)", what,
                       (unsigned long long)max);
        return expected(c, k, t, c->what.s);
    }
    return true;
}

static bool take_int(pctx *c, cursor *k, const char *what, int max, int *out)
{
    uint64_t v;
    if (!take_u64(c, k, what, (uint64_t)max, &v))
        return false;
    *out = (int)v;
    return true;
}

static bool take_endpoint(pctx *c, cursor *k, sm_endpoint *ep)
{
    const scn_tok *t = cur_next(k);
    const char *why = NULL;
    if (!t || !sm_endpoint_parse(t->s, t->len, ep, &why))
        return expected(c, k, t, "an endpoint ADDR:PORT or [ADDR]:PORT");
    return true;
}

static long find_sock(pctx *c, const char *s, size_t n)
{
    return scn_map_find(&c->socks, s, n);
}

/* An endpoint whose port may be `$S`: the port socket S holds (or held
 * last) when the step runs; S must be created on an earlier line. */
static bool take_endpoint_ref(pctx *c, cursor *k, scn_stmt *st)
{
    const scn_tok *t = cur_peek(k);
    const char *dollar = t ? memchr(t->s, '$', t->len) : NULL;
    if (!dollar || dollar == t->s || dollar[-1] != ':')
        return take_endpoint(c, k, &st->ep);
    k->pos++;
    size_t head = (size_t)(dollar - t->s); /* "ADDR:" */
    scn_tok name = {dollar + 1, t->len - head - 1,
                    t->col + scn_chars(t->s, head + 1)};
    const char *why = NULL;
    c->what.len = 0;
    scn_buf_add(&c->what, t->s, head);
    scn_buf_puts(&c->what, "0");
    if (!sm_endpoint_parse(c->what.s, c->what.len, &st->ep, &why))
        return expected(c, k, t, "an endpoint ADDR:PORT, [ADDR]:PORT or "
                                 "ADDR:$SOCKET");
    long i = name_chars_ok(&name) ? find_sock(c, name.s, name.len) : -1;
    if (i < 0)
        return expected(c, k, &name, "a socket created on an earlier line "
                                     "after '$' (its port)");
    st->port_ref = (int)i;
    return true;
}

/* ---- sockets and hosts ------------------------------------------------- */

static bool take_sock(pctx *c, cursor *k, int *out)
{
    const scn_tok *t = cur_next(k);
    /* a declared socket's name was checked where it was declared */
    long i = t ? scn_map_find(&c->socks, t->s, t->len) : -1;
    if (i < 0 && !check_name(c, k, t, "a socket name"))
        return false;
    if (i < 0)
        return expected(c, k, t,
                        "a socket created on an earlier line (NAME = socket ...)");
    *out = (int)i;
    return true;
}

/* Adds socket T to the file.  False (with a message) if it exists. */
static bool declare_sock(pctx *c, const cursor *k, const scn_tok *t, int *out)
{
    if (!check_name(c, k, t, "a name for the new socket"))
        return false;
    long old = scn_map_find(&c->socks, t->s, t->len);
    if (old >= 0) {
        c->what.len = 0;
        scn_buf_printf(&c->what,
                       "a new socket name ('%.*s' was created on line %u; "
                       "each socket is created once)",
                       (int)t->len, t->s, c->sock_line[old]);
        return expected(c, k, t, c->what.s);
    }
    scn_file *f = c->f;
    if (f->n_socks == c->sock_cap) {
        c->sock_cap = c->sock_cap ? c->sock_cap * 2 : 16;
        f->socks = scn_xrealloc(f->socks, c->sock_cap * sizeof *f->socks);
        c->sock_line =
            scn_xrealloc(c->sock_line, c->sock_cap * sizeof *c->sock_line);
    }
    const char *name = tok_dup(c, t);
    f->socks[f->n_socks] = name;
    c->sock_line[f->n_socks] = c->line;
    scn_map_put(&c->socks, name, (unsigned)f->n_socks);
    *out = (int)f->n_socks++;
    return true;
}

static void declare_host(pctx *c, const char *name)
{
    if (scn_map_find(&c->hosts, name, strlen(name)) < 0)
        scn_map_put(&c->hosts, name, c->line);
}

/* ---- profile patterns -------------------------------------------------- */

static bool pat_char_ok(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (ch >= '0' && ch <= '9') || strchr("_.-*?[]!^", ch) != NULL;
}

/* Shape of a glob: allowed characters, brackets closed and not nested,
 * '!' / '^' only right after '['. */
static bool pat_shape_ok(const char *s, size_t n)
{
    bool in_class = false;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '\0' || !pat_char_ok(ch))
            return false;
        if (ch == '[') {
            if (in_class)
                return false;
            in_class = true;
        } else if (ch == ']') {
            if (!in_class)
                return false;
            in_class = false;
        } else if ((ch == '!' || ch == '^') && !(i > 0 && s[i - 1] == '[')) {
            return false;
        }
    }
    return !in_class;
}

static bool pat_matches_some_profile(const char *glob)
{
    /* "host": the real kernel (a named backend, scn_backend.c). */
    if (strcmp(glob, "all") == 0 || scn_backend_reserved(glob))
        return true;
    for (size_t i = 0; i < sm_profile_count(); i++)
        if (scn_glob(glob, sm_profile_name(sm_profile_at(i))))
            return true;
    return false;
}

/* Checks one pattern word.  On error *what says what was expected. */
static bool pat_word(scn_arena *a, const char *s, size_t n, scn_pat *out,
                     scn_buf *what)
{
    bool neg = n > 0 && s[0] == '!';
    const char *body = s + neg;
    size_t blen = n - neg;
    what->len = 0;
    if (!pat_shape_ok(body, blen)) {
        scn_buf_puts(what, "a profile name or pattern (such as linux, "
                           "windows* or !bsd)");
        return false;
    }
    out->glob = scn_strndup(a, body, blen);
    out->neg = neg;
    if (pat_matches_some_profile(out->glob))
        return true;
    scn_buf_puts(what, scn_has_glob(out->glob)
                           ? "a pattern that matches a profile ("
                           : "a profile name (");
    for (size_t i = 0; i < sm_profile_count(); i++) {
        scn_buf_puts(what, i ? ", " : "");
        scn_buf_puts(what, sm_profile_name(sm_profile_at(i)));
    }
    scn_buf_puts(what, ") or 'all'");
    return false;
}

/* PAT (',' PAT)*, up to a ':' or the end.  Stores the list in the arena. */
static bool parse_patlist(pctx *c, cursor *k, scn_patlist *out)
{
    size_t start = k->pos, count = 0;
    for (;;) {
        const scn_tok *t = cur_next(k);
        if (!t || scn_tok_is(t, ",") || scn_tok_is(t, ":") ||
            scn_tok_is(t, ";"))
            return expected(c, k, t, "a profile name or pattern");
        scn_pat tmp;
        if (!pat_word(&c->f->arena, t->s, t->len, &tmp, &c->what))
            return expected(c, k, t, c->what.s);
        count++;
        const scn_tok *sep = cur_peek(k);
        if (!sep || !scn_tok_is(sep, ","))
            break;
        k->pos++;
    }
    out->n = count;
    out->v = scn_alloc(&c->f->arena, count * sizeof *out->v);
    for (size_t i = 0, j = start; i < count; i++, j += 2) {
        const scn_tok *t = &k->t[j];
        pat_word(&c->f->arena, t->s, t->len, &out->v[i], &c->what);
    }
    return true;
}

static bool patlist_selects_any(const scn_patlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (!l->v[i].neg && scn_backend_reserved(l->v[i].glob))
            return true;
    for (size_t i = 0; i < sm_profile_count(); i++)
        if (scn_patlist_match(l, sm_profile_name(sm_profile_at(i))))
            return true;
    return false;
}

/* Reports a --profile error: "expected WHAT, got 'WORD'". */
static bool arg_error(scn_buf *err, const char *what, const scn_tok *t)
{
    if (t)
        scn_buf_printf(err, "--profile: expected %s, got '%.*s'", what,
                       (int)t->len, t->s);
    else
        scn_buf_printf(err, "--profile: expected %s, got nothing", what);
    return false;
}

bool scn_patlist_parse_arg(scn_arena *a, const char *text, scn_patlist *out,
                           scn_buf *err)
{
    size_t len = strlen(text);
    scn_tok *t = scn_xmalloc((len + 1) * sizeof *t);
    size_t nt = scn_split(text, 0, len, ",", t);
    scn_buf what = {0};
    bool ok = true;
    out->n = 0;
    out->v = scn_alloc(a, (nt + 1) * sizeof *out->v);
    for (size_t i = 0; ok && i < nt; i++) {
        bool want_pat = (i % 2 == 0);
        bool comma = scn_tok_is(&t[i], ",");
        if (want_pat && !comma) {
            ok = pat_word(a, t[i].s, t[i].len, &out->v[out->n], &what);
            if (ok)
                out->n++;
            else
                arg_error(err, what.s, &t[i]);
        } else if (want_pat || !comma) {
            ok = arg_error(err, want_pat ? "a profile name or pattern" : "','",
                           &t[i]);
        }
    }
    if (ok && nt == 0)
        ok = arg_error(err, "a profile name or pattern", NULL);
    else if (ok && nt % 2 == 0)
        ok = arg_error(err, "a profile name or pattern after the last ','",
                       NULL);
    if (ok && !patlist_selects_any(out)) {
        scn_buf_printf(err, "--profile: '%s' selects no profile", text);
        ok = false;
    }
    free(t);
    scn_buf_free(&what);
    return ok;
}

/* ---- outcomes ---------------------------------------------------------- */

static bool outcome_known(const char *name)
{
    sm_err e;
    if (strcmp(name, "ok") == 0 || sm_err_parse(name, &e))
        return true;
    for (size_t i = 0; i < sm_profile_count(); i++)
        for (int j = 0; j < SM_ERR_COUNT; j++)
            if (sm_profile_err_matches(sm_profile_at(i), (sm_err)j, name))
                return true;
    return false;
}

static bool all_digits(const scn_tok *t)
{
    if (!t || t->len == 0 || t->len > 19)
        return false;
    for (size_t i = 0; i < t->len; i++)
        if (t->s[i] < '0' || t->s[i] > '9')
            return false;
    return true;
}

/* Reads-with-a-count: the calls whose outcome may be "ok N" or "eof". */
static bool counts_bytes(scn_kind k)
{
    return k == SCN_RECV || k == SCN_RECVFROM;
}

/* OUTCOME: "ok", "ok N" and "eof" (recv, recvfrom), "error" (any failure)
 * or an error name. */
static bool take_outcome(pctx *c, cursor *k, scn_kind kind, const char **out)
{
    const scn_tok *t = cur_next(k);
    const char *what = counts_bytes(kind)
        ? "an outcome ('ok', 'ok N', 'eof', 'error' or an error name such "
          "as ECONNRESET)"
        : "an outcome ('ok', 'error' or an error name such as EADDRINUSE)";
    if (!t || !name_chars_ok(t) || t->len > SCN_MAX_NAME)
        return expected(c, k, t, what);
    bool ok = scn_tok_is(t, "ok");
    if (ok && all_digits(cur_peek(k))) {
        const scn_tok *n = cur_next(k);
        if (!counts_bytes(kind))
            return expected(c, k, n, "';' or end of line ('ok N' counts the "
                                     "bytes of recv and recvfrom only)");
        uint64_t v;
        if (!parse_u64(n, UINT64_MAX, &v))
            return expected(c, k, n, "a number of bytes");
        c->what.len = 0;
        scn_buf_printf(&c->what, "ok %" PRIu64, v);
        *out = scn_strndup(&c->f->arena, c->what.s, c->what.len);
        return true;
    }
    if (scn_tok_is(t, "eof") && !counts_bytes(kind))
        return expected(c, k, t, "an outcome ('ok', 'error' or an error "
                                 "name; 'eof' is for recv and recvfrom)");
    *out = tok_dup(c, t);
    if (!ok && !scn_tok_is(t, "eof") && !scn_tok_is(t, "error") &&
        !outcome_known(*out))
        return expected(c, k, t, what);
    return true;
}

static bool has_colon(const cursor *k)
{
    for (size_t i = k->pos; i < k->n; i++)
        if (scn_tok_is(&k->t[i], ":"))
            return true;
    return false;
}

/* "=> OUTCOME" or "=> PATTERNS: OUTCOME; PATTERNS: OUTCOME ..." */
static bool parse_expectation(pctx *c, cursor *k, scn_stmt *st)
{
    scn_arena *a = &c->f->arena;
    if (!has_colon(k)) {
        bool counted = k->n - k->pos == 2 && scn_tok_is(&k->t[k->pos], "ok") &&
                       all_digits(&k->t[k->pos + 1]);
        if (k->n - k->pos >= 2 && !counted)
            return expected(c, k, &k->t[k->pos + 1],
                            "':' after the profile patterns "
                            "(=> PATTERNS: OUTCOME)");
        st->clauses = scn_alloc(a, sizeof *st->clauses);
        st->n_clauses = 1;
        if (!take_outcome(c, k, st->kind, &st->clauses[0].outcome))
            return false;
        return true;
    }
    size_t cap = 0;
    for (;;) {
        if (st->n_clauses == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            scn_clause *v = scn_alloc(a, ncap * sizeof *v);
            if (cap)
                memcpy(v, st->clauses, cap * sizeof *v);
            st->clauses = v;
            cap = ncap;
        }
        scn_clause *cl = &st->clauses[st->n_clauses++];
        if (!parse_patlist(c, k, &cl->pats))
            return false;
        const scn_tok *t = cur_next(k);
        if (!t || !scn_tok_is(t, ":"))
            return expected(c, k, t, "',' or ':' after the profile patterns");
        if (!take_outcome(c, k, st->kind, &cl->outcome))
            return false;
        t = cur_next(k);
        if (!t)
            return true;
        if (!scn_tok_is(t, ";"))
            return expected(c, k, t, "';' or end of line");
        if (!cur_peek(k))
            return true; /* a trailing ';' */
    }
}

/* ---- statements -------------------------------------------------------- */

static bool p_profile(pctx *c, cursor *k, scn_stmt *st)
{
    if (c->profile_line) {
        c->what.len = 0;
        scn_buf_printf(&c->what, "one profile line per file (the first "
                                 "is on line %u)", c->profile_line);
        return expected(c, k, &k->t[0], c->what.s);
    }
    if (!parse_patlist(c, k, &c->f->profile))
        return false;
    if (!patlist_selects_any(&c->f->profile)) {
        perr(c, k->t[1].col, "expected patterns that select a profile, "
                             "got ones that select none");
        return false;
    }
    (void)st;
    c->profile_line = c->line;
    c->f->has_profile = true;
    return true;
}

static bool take_addr(pctx *c, cursor *k, sm_addr *out)
{
    const scn_tok *t = cur_next(k);
    if (!t)
        return expected(c, k, t, "an IPv4 or IPv6 address");
    const char *s = t->s;
    size_t n = t->len;
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
    }
    if (!sm_addr_parse(s, n, out))
        return expected(c, k, t, "an IPv4 or IPv6 address");
    return true;
}

/* The profile host NAME is pinned to (os PROFILE), or NULL. */
static const sm_profile *pinned_os(const pctx *c, const char *name)
{
    long i = scn_map_find(&c->host_os, name, strlen(name));
    return i < 0 ? NULL : sm_profile_at((size_t)i);
}

/* "os PROFILE" after `host NAME [addr ...]`: one profile of the model, by
 * its exact name, given where the host is first declared (a host runs one
 * OS for the whole scenario; `local` runs the column's). */
static bool p_host_os(pctx *c, cursor *k, scn_stmt *st, bool first)
{
    const scn_tok *t = cur_next(k);
    if (!t)
        return expected(c, k, NULL, "a profile name");
    if (scn_backend_reserved(tok_dup(c, t))) {
        perr(c, t->col, "'os %.*s' is not allowed: the real kernel runs whole "
                        "scenarios only (pin hosts to modelled profiles)",
             (int)t->len, t->s);
        return false;
    }
    size_t idx = 0;
    while (idx < sm_profile_count() &&
           !scn_tok_is(t, sm_profile_name(sm_profile_at(idx))))
        idx++;
    if (idx == sm_profile_count())
        return expected(c, k, t, "a profile name (see 'sockmodel profiles')");
    const sm_profile *p = sm_profile_at(idx);
    const sm_profile *had = pinned_os(c, st->name);
    if (strcmp(st->name, "local") == 0) {
        perr(c, t->col, "host 'local' runs the column's profile and cannot be "
                        "pinned; declare another host with 'os %s'", p->name);
        return false;
    }
    if (had && had != p) {
        perr(c, t->col, "host '%s' is already pinned to os %s", st->name,
             had->name);
        return false;
    }
    if (!had && !first) {
        perr(c, t->col, "host '%s' was declared without 'os' on line %ld; a "
                        "host is pinned where it is first declared",
             st->name, scn_map_find(&c->hosts, st->name, strlen(st->name)));
        return false;
    }
    scn_map_put(&c->host_os, st->name, idx);
    st->os = p;
    return true;
}

static bool p_host(pctx *c, cursor *k, scn_stmt *st)
{
    if (!take_name(c, k, "a host name", &st->name))
        return false;
    bool first = scn_map_find(&c->hosts, st->name, strlen(st->name)) < 0;
    declare_host(c, st->name);
    st->os = pinned_os(c, st->name);
    const scn_tok *t = cur_next(k);
    if (!t)
        return true;
    if (scn_tok_is(t, "os"))
        return p_host_os(c, k, st, first) &&
               (k->pos == k->n || expected(c, k, cur_next(k), "end of line"));
    if (!scn_tok_is(t, "addr"))
        return expected(c, k, t, "'addr', 'os' or end of line");
    size_t n = 0;
    while (k->pos + n < k->n && !scn_tok_is(&k->t[k->pos + n], "os"))
        n++;
    if (n == 0)
        return expected(c, k, cur_next(k), "an IPv4 or IPv6 address");
    st->addrs = scn_alloc(&c->f->arena, n * sizeof *st->addrs);
    for (size_t i = 0; i < n; i++)
        if (!take_addr(c, k, &st->addrs[i]))
            return false;
    st->n_addrs = n;
    if (k->pos == k->n)
        return true;
    cur_next(k); /* "os" */
    return p_host_os(c, k, st, first) &&
           (k->pos == k->n || expected(c, k, cur_next(k), "end of line"));
}

static bool p_on(pctx *c, cursor *k, scn_stmt *st)
{
    const scn_tok *t = cur_peek(k);
    if (!take_name(c, k, "a host name", &st->name))
        return false;
    if (strcmp(st->name, "local") != 0 &&
        scn_map_find(&c->hosts, st->name, strlen(st->name)) < 0)
        return expected(c, k, t, "a host declared on an earlier line "
                                 "(host NAME) or 'local'");
    st->os = pinned_os(c, st->name);
    return true;
}

static bool p_as(pctx *c, cursor *k, scn_stmt *st)
{
    return take_name(c, k, "a user name", &st->name);
}

static bool p_proc(pctx *c, cursor *k, scn_stmt *st)
{
    return take_name(c, k, "a process name", &st->name);
}

/* A sysctl key is accepted if some profile knows it with that many values;
 * under a profile that does not know it, the step fails at run time. */
static bool sysctl_known(const char *key, size_t nvalues, int *want)
{
    bool known = false;
    for (size_t i = 0; i < sm_profile_count(); i++) {
        const sm_profile *p = sm_profile_at(i);
        for (size_t j = 0; j < p->n_sysctls; j++) {
            if (strcmp(p->sysctls[j].key, key) != 0)
                continue;
            known = true;
            *want = p->sysctls[j].nvalues;
            if ((size_t)p->sysctls[j].nvalues == nvalues)
                return true;
        }
    }
    if (!known)
        *want = 0;
    return false;
}

static bool int_word(const scn_tok *t)
{
    size_t i = (t->len > 1 && t->s[0] == '-') ? 1 : 0;
    if (t->len - i == 0 || t->len - i > 19)
        return false;
    for (; i < t->len; i++)
        if (t->s[i] < '0' || t->s[i] > '9')
            return false;
    return true;
}

static bool p_sysctl(pctx *c, cursor *k, scn_stmt *st)
{
    const scn_tok *key = cur_peek(k);
    if (!take_name(c, k, "a sysctl key", &st->name))
        return false;
    size_t n = k->n - k->pos;
    st->vals = scn_alloc(&c->f->arena, (n + 1) * sizeof *st->vals);
    for (size_t i = 0; i < n; i++) {
        const scn_tok *t = cur_next(k);
        if (!int_word(t))
            return expected(c, k, t, "an integer value");
        st->vals[i] = tok_dup(c, t);
    }
    st->n_vals = n;
    int want = 0;
    if (sysctl_known(st->name, n, &want))
        return true;
    if (want == 0)
        return expected(c, k, key, "a sysctl key that a profile knows");
    c->what.len = 0;
    scn_buf_printf(&c->what, "%d value%s for %s", want, want == 1 ? "" : "s",
                   st->name);
    return expected(c, k, n > (size_t)want ? &k->t[k->n - n + (size_t)want]
                                           : NULL,
                    c->what.s);
}

static bool p_socket(pctx *c, cursor *k, scn_stmt *st)
{
    static const struct {
        const char *word;
        sm_proto proto;
        int family;
    } types[] = {{"tcp4", SM_TCP, 4}, {"tcp6", SM_TCP, 6},
                 {"udp4", SM_UDP, 4}, {"udp6", SM_UDP, 6}};
    const scn_tok *t = cur_next(k);
    for (size_t i = 0; t && i < sizeof types / sizeof types[0]; i++) {
        if (scn_tok_is(t, types[i].word)) {
            st->proto = types[i].proto;
            st->family = types[i].family;
            return true;
        }
    }
    return expected(c, k, t, "a socket type tcp4, tcp6, udp4 or udp6");
}

static bool take_option(pctx *c, cursor *k, sm_option *out)
{
    const scn_tok *t = cur_next(k);
    if (t && t->len <= SCN_MAX_NAME && name_chars_ok(t)) {
        char buf[SCN_MAX_NAME + 1];
        memcpy(buf, t->s, t->len);
        buf[t->len] = '\0';
        if (sm_option_parse(buf, out))
            return true;
    }
    c->what.len = 0;
    scn_buf_puts(&c->what, "a socket option (");
    for (int i = 0; i < SM_OPT_COUNT; i++) {
        scn_buf_puts(&c->what, i ? ", " : "");
        scn_buf_puts(&c->what, sm_option_name((sm_option)i));
    }
    scn_buf_puts(&c->what, ")");
    return expected(c, k, t, c->what.s);
}

static bool take_bool(pctx *c, cursor *k, int *out)
{
    const scn_tok *t = cur_next(k);
    if (t && (scn_tok_is(t, "0") || scn_tok_is(t, "1"))) {
        *out = t->s[0] - '0';
        return true;
    }
    return expected(c, k, t, "0 or 1");
}

static bool p_setsockopt(pctx *c, cursor *k, scn_stmt *st)
{
    if (!take_sock(c, k, &st->sock) || !take_option(c, k, &st->opt))
        return false;
    if (st->opt == SM_IP_LOCAL_PORT_RANGE) /* LO HI, 0: that bound unset */
        return take_int(c, k, "the lowest port (0 to 65535)", 65535, &st->v1) &&
               take_int(c, k, "the highest port (0 to 65535)", 65535, &st->v2);
    if (!take_bool(c, k, &st->v1))
        return false;
    if (sm_option_arity(st->opt) >= 2)
        return take_int(c, k, "a number of seconds", INT_MAX, &st->v2);
    return true;
}

static bool p_bind(pctx *c, cursor *k, scn_stmt *st)
{
    return take_sock(c, k, &st->sock) && take_endpoint_ref(c, k, st);
}

/* connect S ENDPOINT | connect S unspec (AF_UNSPEC) */
static bool p_connect(pctx *c, cursor *k, scn_stmt *st)
{
    if (!take_sock(c, k, &st->sock))
        return false;
    const scn_tok *t = cur_peek(k);
    if (t && scn_tok_is(t, "unspec")) {
        k->pos++;
        st->unspec = true;
        return true;
    }
    if (t && !memchr(t->s, ':', t->len))
        return expected(c, k, t, "an endpoint ADDR:PORT or [ADDR]:PORT, or "
                                 "'unspec'");
    return take_endpoint_ref(c, k, st);
}

#define DEFAULT_BACKLOG 128

static bool p_listen(pctx *c, cursor *k, scn_stmt *st)
{
    if (!take_sock(c, k, &st->sock))
        return false;
    st->v1 = DEFAULT_BACKLOG;
    if (!cur_peek(k))
        return true;
    return take_int(c, k, "a backlog", INT_MAX, &st->v1);
}

static bool p_accept(pctx *c, cursor *k, scn_stmt *st)
{
    return take_sock(c, k, &st->sock);
}

static bool p_data(pctx *c, cursor *k, scn_stmt *st)
{
    return take_sock(c, k, &st->sock) &&
           take_u64(c, k, "a number of bytes", UINT64_MAX, &st->n);
}

/* sendto S ENDPOINT BYTES */
static bool p_sendto(pctx *c, cursor *k, scn_stmt *st)
{
    return take_sock(c, k, &st->sock) && take_endpoint_ref(c, k, st) &&
           take_u64(c, k, "a number of bytes", UINT64_MAX, &st->n);
}

static bool p_shutdown(pctx *c, cursor *k, scn_stmt *st)
{
    if (!take_sock(c, k, &st->sock))
        return false;
    const scn_tok *t = cur_next(k);
    st->rd = t && (scn_tok_is(t, "rd") || scn_tok_is(t, "rdwr"));
    st->wr = t && (scn_tok_is(t, "wr") || scn_tok_is(t, "rdwr"));
    if (!st->rd && !st->wr)
        return expected(c, k, t, "rd, wr or rdwr");
    return true;
}

static bool p_close(pctx *c, cursor *k, scn_stmt *st)
{
    return take_sock(c, k, &st->sock);
}

static bool p_exit(pctx *c, cursor *k, scn_stmt *st)
{
    if (!cur_peek(k))
        return true;
    return take_name(c, k, "a process name or end of line", &st->name);
}

/* A decimal number read exactly: whole + frac / 10^fdigits. */
typedef struct decimal {
    uint64_t whole, frac;
    unsigned fdigits;
} decimal;

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* DIGITS[.DIGITS] at the start of S; the bytes used, or 0.  Trailing
 * zeros of the fraction are dropped; other digits past 18 are refused. */
static size_t parse_decimal(const char *s, size_t n, decimal *d)
{
    size_t i = 0;
    memset(d, 0, sizeof *d);
    for (; i < n && is_digit(s[i]); i++) {
        if (d->whole > (UINT64_MAX - 9) / 10)
            return 0;
        d->whole = d->whole * 10 + (uint64_t)(s[i] - '0');
    }
    if (i == 0)
        return 0;
    if (i == n || s[i] != '.')
        return i;
    size_t f0 = ++i;
    for (; i < n && is_digit(s[i]); i++) {
        if (d->fdigits == 18 && s[i] != '0')
            return 0;
        if (d->fdigits < 18) {
            d->frac = d->frac * 10 + (uint64_t)(s[i] - '0');
            d->fdigits++;
        }
    }
    if (i == f0)
        return 0;
    while (d->fdigits > 0 && d->frac % 10 == 0) {
        d->frac /= 10;
        d->fdigits--;
    }
    return i;
}

static uint64_t pow10u(unsigned e)
{
    uint64_t v = 1;
    while (e--)
        v *= 10;
    return v;
}

/* D * base * 10^zeros, if that is a whole number that fits in 64 bits. */
static bool scale_exact(const decimal *d, uint64_t base, unsigned zeros,
                        uint64_t *out)
{
    uint64_t unit = base * pow10u(zeros), part;
    if (d->fdigits <= zeros) {
        part = d->frac * base * pow10u(zeros - d->fdigits); /* < unit */
    } else {
        uint64_t num = d->frac * base, div = pow10u(d->fdigits - zeros);
        if (num % div != 0)
            return false; /* finer than the smallest step */
        part = num / div;
    }
    if (d->whole > (UINT64_MAX - part) / unit)
        return false;
    *out = d->whole * unit + part;
    return true;
}

/* DIGITS[.DIGITS](ms|s|m) in nanoseconds, exactly: no floating point. */
static bool parse_duration(const scn_tok *t, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t base; /* ns per unit = base * 10^zeros */
        unsigned zeros;
    } units[] = {{"us", 1, 3}, {"ms", 1, 6}, {"s", 1, 9}, {"m", 6, 10}};
    decimal d;
    size_t used = parse_decimal(t->s, t->len, &d);
    if (used == 0)
        return false;
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        size_t ul = strlen(units[u].unit);
        if (t->len - used == ul && memcmp(t->s + used, units[u].unit, ul) == 0)
            return scale_exact(&d, units[u].base, units[u].zeros, out);
    }
    return false;
}

static bool p_wait(pctx *c, cursor *k, scn_stmt *st)
{
    const scn_tok *t = cur_next(k);
    if (!t || !parse_duration(t, &st->n))
        return expected(c, k, t, "a duration such as 500ms, 1.5s or 2m "
                                 "(whole nanoseconds, at most 584 years)");
    /* The virtual clock ends at SM_CLOCK_MAX: a wait that would pass it is
     * refused here rather than cut short by the engine. */
    if (st->n > SM_CLOCK_MAX - c->waited) {
        perr(c, t->col, "the waits so far would move the virtual clock past its "
                        "end (2^63 ns, about 292 years): at most %" PRIu64 "ms more",
             (SM_CLOCK_MAX - c->waited) / 1000000u);
        return false;
    }
    c->waited += st->n;
    return true;
}

/* delay [loopback] DURATION: the network's one-way delay (extension). */
static bool p_delay(pctx *c, cursor *k, scn_stmt *st)
{
    const scn_tok *t = cur_next(k);
    if (t && scn_tok_is(t, "loopback")) {
        st->rd = true;
        t = cur_next(k);
    }
    if (!t || !parse_duration(t, &st->n))
        return expected(c, k, t, "'loopback' or a duration such as 1ms or 50us"
                                 " (whole nanoseconds)");
    return true;
}

static bool take_state(pctx *c, cursor *k, sm_tcp_state *out)
{
    const scn_tok *t = cur_next(k);
    if (t && t->len <= SCN_MAX_NAME && name_chars_ok(t)) {
        char buf[SCN_MAX_NAME + 1];
        memcpy(buf, t->s, t->len);
        buf[t->len] = '\0';
        if (sm_state_parse(buf, out))
            return true;
    }
    c->what.len = 0;
    scn_buf_puts(&c->what, "a TCP state (");
    for (int i = 0; i < SM_STATE_COUNT; i++) {
        scn_buf_puts(&c->what, i ? ", " : "");
        scn_buf_puts(&c->what, sm_state_name((sm_tcp_state)i));
    }
    scn_buf_puts(&c->what, ")");
    return expected(c, k, t, c->what.s);
}

static bool p_expect(pctx *c, cursor *k, scn_stmt *st)
{
    if (!take_sock(c, k, &st->sock))
        return false;
    const scn_tok *t = cur_next(k);
    if (t && scn_tok_is(t, "state")) {
        st->kind = SCN_EXPECT_STATE;
        return take_state(c, k, &st->state);
    }
    if (t && scn_tok_is(t, "local")) {
        st->kind = SCN_EXPECT_LOCAL;
        return take_endpoint_ref(c, k, st);
    }
    if (t && scn_tok_is(t, "pending")) {
        st->kind = SCN_EXPECT_PENDING;
        return take_u64(c, k, "a number of connections", INT_MAX, &st->n);
    }
    if (t && scn_tok_is(t, "error")) {
        /* the error name as written (a native name matches under its OS) */
        st->kind = SCN_EXPECT_ERROR;
        const scn_tok *e = cur_next(k);
        const char *what = "an error name (such as ECONNREFUSED) or 'none'";
        if (!e || !name_chars_ok(e) || e->len > SCN_MAX_NAME)
            return expected(c, k, e, what);
        st->name = tok_dup(c, e);
        if (strcmp(st->name, "none") != 0 &&
            (strcmp(st->name, "ok") == 0 || !outcome_known(st->name)))
            return expected(c, k, e, what);
        return true;
    }
    if (t && scn_tok_is(t, "peer")) {
        st->kind = SCN_EXPECT_PEER;
        return take_endpoint_ref(c, k, st);
    }
    if (t && (scn_tok_is(t, "readable") || scn_tok_is(t, "writable"))) {
        st->kind = scn_tok_is(t, "readable") ? SCN_EXPECT_READABLE
                                             : SCN_EXPECT_WRITABLE;
        const scn_tok *y = cur_next(k);
        if (y && (scn_tok_is(y, "yes") || scn_tok_is(y, "no"))) {
            st->n = scn_tok_is(y, "yes");
            return true;
        }
        return expected(c, k, y, "yes or no");
    }
    return expected(c, k, t, "'state', 'local', 'pending', 'error', 'peer', "
                             "'readable' or 'writable'");
}

typedef bool (*stmt_fn)(pctx *, cursor *, scn_stmt *);

/* The verbs, by name: find_verb() picks the candidates by first letter. */
enum {
    V_NONE, /* 0: no verb (verbs[V_NONE] is empty) */
    V_PROFILE, V_HOST, V_ON, V_AS, V_PROC, V_SYSCTL, V_SETSOCKOPT, V_BIND,
    V_LISTEN, V_CONNECT, V_SEND, V_RECV, V_SENDTO, V_RECVFROM, V_SHUTDOWN,
    V_CLOSE, V_EXIT, V_WAIT, V_DELAY, V_EXPECT, N_VERBS
};

#define VERB(v, w, k, f) [v] = {w, sizeof w - 1, k, f}
static const struct verb {
    const char *word;
    size_t len;
    scn_kind kind;
    stmt_fn fn;
} verbs[N_VERBS] = {
    VERB(V_PROFILE, "profile", SCN_PROFILE, p_profile),
    VERB(V_HOST, "host", SCN_HOST, p_host),
    VERB(V_ON, "on", SCN_ON, p_on),
    VERB(V_AS, "as", SCN_AS, p_as),
    VERB(V_PROC, "proc", SCN_PROC, p_proc),
    VERB(V_SYSCTL, "sysctl", SCN_SYSCTL, p_sysctl),
    VERB(V_SETSOCKOPT, "setsockopt", SCN_SETSOCKOPT, p_setsockopt),
    VERB(V_BIND, "bind", SCN_BIND, p_bind),
    VERB(V_LISTEN, "listen", SCN_LISTEN, p_listen),
    VERB(V_CONNECT, "connect", SCN_CONNECT, p_connect),
    VERB(V_SEND, "send", SCN_SEND, p_data),
    VERB(V_RECV, "recv", SCN_RECV, p_data),
    VERB(V_SENDTO, "sendto", SCN_SENDTO, p_sendto),
    VERB(V_RECVFROM, "recvfrom", SCN_RECVFROM, p_data),
    VERB(V_SHUTDOWN, "shutdown", SCN_SHUTDOWN, p_shutdown),
    VERB(V_CLOSE, "close", SCN_CLOSE, p_close),
    VERB(V_EXIT, "exit", SCN_EXIT, p_exit),
    VERB(V_WAIT, "wait", SCN_WAIT, p_wait),
    VERB(V_DELAY, "delay", SCN_DELAY, p_delay),
    VERB(V_EXPECT, "expect", SCN_EXPECT_STATE, p_expect),
};
#undef VERB

/* The verb T names, or NULL.  Every line's first word is looked up: only
 * the verbs with its first letter are compared. */
static const struct verb *find_verb(const scn_tok *t)
{
    static const unsigned char cand[26][5] = {
        /* per first letter: the verbs that start with it (V_NONE: no more) */
        ['a' - 'a'] = {V_AS},
        ['b' - 'a'] = {V_BIND},
        ['c' - 'a'] = {V_CONNECT, V_CLOSE},
        ['d' - 'a'] = {V_DELAY},
        ['e' - 'a'] = {V_EXIT, V_EXPECT},
        ['h' - 'a'] = {V_HOST},
        ['l' - 'a'] = {V_LISTEN},
        ['o' - 'a'] = {V_ON},
        ['p' - 'a'] = {V_PROFILE, V_PROC},
        ['r' - 'a'] = {V_RECV, V_RECVFROM},
        ['s' - 'a'] = {V_SYSCTL, V_SETSOCKOPT, V_SEND, V_SENDTO, V_SHUTDOWN},
        ['w' - 'a'] = {V_WAIT},
    };
    if (t->len == 0)
        return NULL;
    unsigned ch = (unsigned char)t->s[0] - (unsigned)'a';
    if (ch >= 26)
        return NULL;
    for (size_t i = 0; i < sizeof cand[0] && cand[ch][i] != V_NONE; i++) {
        const struct verb *v = &verbs[cand[ch][i]];
        if (t->len == v->len && memcmp(t->s, v->word, t->len) == 0)
            return v;
    }
    return NULL;
}

bool scn_kind_is_step(scn_kind k)
{
    return k >= SCN_SYSCTL;
}

bool scn_kind_is_check(scn_kind k)
{
    return k >= SCN_EXPECT_STATE;
}

/* Calls may carry "=> ..."; declarations, sysctl and expect may not. */
static bool takes_expectation(scn_kind k)
{
    return k >= SCN_SOCKET && !scn_kind_is_check(k);
}

/* "NAME = socket TYPE" or "NAME = accept S". */
static bool parse_assign(pctx *c, cursor *k, scn_stmt *st)
{
    const scn_tok *name = cur_next(k);
    k->pos++; /* '=' */
    const scn_tok *verb = cur_next(k);
    bool is_socket = verb && scn_tok_is(verb, "socket");
    bool is_accept = verb && scn_tok_is(verb, "accept");
    if (!declare_sock(c, k, name, &st->new_sock))
        return false;
    if (!is_socket && !is_accept)
        return expected(c, k, verb, "'socket' or 'accept' after '='");
    st->kind = is_socket ? SCN_SOCKET : SCN_ACCEPT;
    return is_socket ? p_socket(c, k, st) : p_accept(c, k, st);
}

static bool parse_stmt(pctx *c, cursor *k, scn_stmt *st)
{
    const scn_tok *t0 = cur_peek(k);
    if (!t0)
        return expected(c, k, NULL, "a statement");
    bool ok;
    if (k->n >= 2 && scn_tok_is(&k->t[1], "=")) {
        ok = parse_assign(c, k, st);
    } else {
        const struct verb *v = find_verb(t0);
        if (!v && (scn_tok_is(t0, "socket") || scn_tok_is(t0, "accept")))
            return expected(c, k, t0, "a statement (a new socket is "
                                      "written NAME = socket TYPE)");
        if (!v)
            return expected(c, k, t0, "a statement (" STATEMENTS ")");
        k->pos = 1;
        st->kind = v->kind;
        ok = v->fn(c, k, st);
    }
    if (!ok)
        return false;
    const scn_tok *extra = cur_next(k);
    if (extra)
        return expected(c, k, extra, takes_expectation(st->kind)
                                         ? "'=>' or end of line"
                                         : "end of line");
    return true;
}

/* After an error, still declare the socket or host the line names, so
 * that later lines do not repeat the error as "unknown socket". */
static void salvage_names(pctx *c, const cursor *k)
{
    if (k->n >= 3 && scn_tok_is(&k->t[1], "=") && name_chars_ok(&k->t[0]) &&
        k->t[0].len <= SCN_MAX_NAME &&
        scn_map_find(&c->socks, k->t[0].s, k->t[0].len) < 0) {
        int idx;
        size_t saved = c->n_errors;
        declare_sock(c, k, &k->t[0], &idx);
        c->n_errors = saved;
    }
    if (k->n >= 2 && scn_tok_is(&k->t[0], "host") && name_chars_ok(&k->t[1]) &&
        k->t[1].len <= SCN_MAX_NAME)
        declare_host(c, tok_dup(c, &k->t[1]));
}

/* ---- lines ------------------------------------------------------------- */

static void set_cursor(cursor *k, const scn_tok *t, size_t n, unsigned end_col,
                       const char *end_what)
{
    k->t = t;
    k->n = n;
    k->pos = 0;
    k->end_col = end_col;
    k->end_what = end_what;
}

/* The statement as shown in reports: blanks collapsed to one space. */
static const char *stmt_text(pctx *c, const char *line, size_t from,
                             size_t to)
{
    while (to > from && (line[to - 1] == ' ' || line[to - 1] == '\t'))
        to--;
    char *s = scn_alloc(&c->f->arena, to - from + 1);
    size_t n = 0;
    for (size_t i = from; i < to; i++) {
        bool blank = line[i] == ' ' || line[i] == '\t';
        if (blank && n > 0 && s[n - 1] == ' ')
            continue;
        s[n++] = blank ? ' ' : line[i];
    }
    s[n] = '\0';
    return s;
}

/* The same from the words of a line without a guard: the words with one
 * space where blanks stood between two. */
static const char *words_text(pctx *c, const cursor *k)
{
    if (k->n == 0)
        return stmt_text(c, "", 0, 0);
    const scn_tok *t = k->t;
    const char *from = t[0].s, *to = t[k->n - 1].s + t[k->n - 1].len;
    bool plain = true; /* every gap one space: the text as written */
    for (size_t i = 1; i < k->n && plain; i++) {
        const char *gap = t[i - 1].s + t[i - 1].len;
        plain = gap == t[i].s || (gap + 1 == t[i].s && *gap == ' ');
    }
    if (plain)
        return scn_strndup(&c->f->arena, from, (size_t)(to - from));
    return stmt_text(c, from, 0, (size_t)(to - from));
}

static bool parse_guard(pctx *c, const char *line, size_t start, size_t code,
                        size_t *body, scn_stmt *st)
{
    size_t end = scn_find_guard_end(line, start, code);
    cursor k;
    if (!end) {
        set_cursor(&k, NULL, 0, scn_col(line, code), "end of line");
        return expected(c, &k, NULL, "']' to close the guard");
    }
    size_t n = scn_split(line, start + 1, end - 1, ",", c->tok);
    set_cursor(&k, c->tok, n, scn_col(line, end - 1), "']'");
    *body = end;
    st->guarded = true;
    if (!parse_patlist(c, &k, &st->guard))
        return false;
    if (cur_peek(&k))
        return expected(c, &k, cur_peek(&k), "',' or ']'");
    return true;
}

/* Room for the next statement, parsed in place (not copied in). */
static scn_stmt *next_stmt(pctx *c)
{
    scn_file *f = c->f;
    if (f->n_stmts == c->stmt_cap) {
        c->stmt_cap = c->stmt_cap ? c->stmt_cap * 2 : 64;
        f->stmts = scn_xrealloc(f->stmts, c->stmt_cap * sizeof *f->stmts);
    }
    return &f->stmts[f->n_stmts];
}

/* Guard, statement, expectation: stops at the first error of the line. */
static bool parse_parts(pctx *c, const char *line, size_t start, size_t code,
                        scn_stmt *st)
{
    cursor stmt, *k = &stmt;
    size_t body = start;
    bool ok = true;
    if (line[start] == '[')
        ok = parse_guard(c, line, start, code, &body, st);
    /* one pass: the words up to "=>", where the arrow is, its column */
    size_t arrow;
    unsigned arrow_col;
    unsigned body_col = body == start ? (unsigned)start + 1 /* blanks */
                                      : scn_col(line, body);
    size_t n = scn_split_at(line, body, code, "=,", body_col, true, c->tok,
                            &arrow, &arrow_col);
    bool has_arrow = arrow < code;
    set_cursor(k, c->tok, n, arrow_col, has_arrow ? "'=>'" : "end of line");
    if (!ok)
        return false;
    st->text = body == start ? words_text(c, k) : stmt_text(c, line, start, arrow);
    if (!parse_stmt(c, k, st))
        return false;
    if (st->kind == SCN_PROFILE && st->guarded) {
        perr(c, scn_col(line, start), "expected 'profile' without a guard "
                                      "(it applies to the whole file)");
        return false;
    }
    if (!has_arrow)
        return true;
    if (!takes_expectation(st->kind)) {
        perr(c, arrow_col, "expected end of line, got '=>' "
                           "(only calls take an expectation)");
        return false;
    }
    /* The statement's words are no longer needed: reuse the buffer. */
    size_t stop;
    unsigned code_col;
    size_t m = scn_split_at(line, arrow + 2, code, ",:;", arrow_col + 2,
                            false, c->tok, &stop, &code_col);
    cursor e;
    set_cursor(&e, c->tok, m, code_col, "end of line");
    return parse_expectation(c, &e, st);
}

static void parse_line(pctx *c, const char *line, size_t len)
{
    size_t off;
    const char *what;
    if (!scn_line_check(line, len, &off, &what)) {
        perr(c, scn_col(line, off), "%s", what);
        return;
    }
    size_t code = scn_line_code_len(line, len);
    size_t start = 0;
    while (start < code && (line[start] == ' ' || line[start] == '\t'))
        start++;
    if (start >= code)
        return;
    if (c->f->n_stmts >= SCN_MAX_STMTS) {
        perr(c, scn_col(line, start), "more than %d statements in one file",
             SCN_MAX_STMTS);
        c->stop = true;
        return;
    }
    scn_stmt *st = next_stmt(c);
    memset(st, 0, sizeof *st);
    st->line = c->line;
    st->sock = st->new_sock = st->port_ref = -1;
    if (parse_parts(c, line, start, code, st)) {
        c->f->n_stmts++;
        return;
    }
    /* Re-read the statement's words (the buffer may hold others now). */
    size_t body = start;
    if (line[start] == '[' &&
        (body = scn_find_guard_end(line, start, code)) == 0)
        return;
    size_t arrow = scn_find_arrow(line, body, code);
    cursor k;
    set_cursor(&k, c->tok, scn_split(line, body, arrow, "=,", c->tok), 0, "");
    salvage_names(c, &k);
}

/* ---- repeat blocks ----------------------------------------------------- */

/* The first two words of a line's code and how many it has: enough to
 * tell `repeat N` and `end` from other statements. */
static size_t block_words(pctx *c, const char *line, size_t len, scn_tok *w)
{
    /* Only a line whose first word is `repeat` or `end` can be one: look
     * at that word before checking and splitting the whole line. */
    size_t b = 0;
    while (b < len && (line[b] == ' ' || line[b] == '\t'))
        b++;
    size_t j = b;
    if (b == len || (line[b] != 'r' && line[b] != 'e'))
        return 0;
    while (j < len && line[j] != ' ' && line[j] != '\t' && line[j] != '#')
        j++;
    if (!(j - b == 6 && memcmp(line + b, "repeat", 6) == 0) &&
        !(j - b == 3 && memcmp(line + b, "end", 3) == 0))
        return 0;
    size_t off;
    const char *what;
    if (!scn_line_check(line, len, &off, &what))
        return 0;
    size_t code = scn_line_code_len(line, len);
    size_t n = scn_split(line, 0, code, "", c->tok);
    for (size_t i = 0; i < n && i < 2; i++)
        w[i] = c->tok[i];
    return n;
}

#define SCN_MAX_REPEAT 100000

/* `repeat N`: opens a block (not nested).  False: not a repeat line. */
static bool repeat_open(pctx *c, const scn_tok *w, size_t n)
{
    if (n == 0 || !scn_tok_is(&w[0], "repeat"))
        return false;
    if (c->in_repeat) {
        perr(c, w[0].col, "expected 'end' before another 'repeat' (the "
                          "block opened on line %u is still open; blocks "
                          "may not nest)", c->repeat_line);
        return true;
    }
    uint64_t v = 0;
    if (n != 2 || !parse_u64(&w[1], SCN_MAX_REPEAT, &v) || v == 0) {
        if (n >= 2)
            perr(c, w[1].col, "expected a number of iterations from 1 to %d "
                              "and end of line, got '%.*s'", SCN_MAX_REPEAT,
                 (int)w[1].len, w[1].s);
        else
            perr(c, w[0].col + 6, "expected a number of iterations from 1 "
                                  "to %d, got end of line", SCN_MAX_REPEAT);
    }
    c->in_repeat = true;
    c->repeat_line = c->line;
    c->repeat_n = v;
    c->n_body = 0;
    return true;
}

static void parse_line(pctx *c, const char *line, size_t len);

/* Parses LINE with every `{i}` replaced by I. */
static void parse_expanded(pctx *c, const struct body_line *b, uint64_t i)
{
    char num[24];
    int nd = snprintf(num, sizeof num, "%llu", (unsigned long long)i);
    scn_buf e = {0};
    c->n_sub = 0;
    c->sub_digits = (unsigned)nd;
    for (size_t k = 0; k < b->n;) {
        if (k + 3 <= b->n && memcmp(b->s + k, "{i}", 3) == 0) {
            c->sub_col = scn_xrealloc(c->sub_col,
                                      (c->n_sub + 1) * sizeof *c->sub_col);
            c->sub_col[c->n_sub++] =
                scn_chars(e.s ? e.s : "", e.len) + 1;
            scn_buf_add(&e, num, (size_t)nd);
            k += 3;
        } else {
            scn_buf_add(&e, b->s + k, 1);
            k++;
        }
    }
    c->line = b->line;
    parse_line(c, e.s ? e.s : "", e.len);
    c->n_sub = 0;
    scn_buf_free(&e);
}

/* `end`: runs the block's lines N times. */
static bool repeat_close(pctx *c, const scn_tok *w, size_t n)
{
    if (n == 0 || !scn_tok_is(&w[0], "end"))
        return false;
    if (!c->in_repeat) {
        perr(c, w[0].col, "expected a statement, got 'end' (no repeat "
                          "block is open)");
        return true;
    }
    if (n > 1)
        perr(c, w[1].col, "expected end of line after 'end', got '%.*s'",
             (int)w[1].len, w[1].s);
    unsigned end_line = c->line;
    c->in_repeat = false;
    for (uint64_t i = 0; i < c->repeat_n && !c->stop; i++) {
        size_t before = c->n_errors;
        for (size_t j = 0; j < c->n_body && !c->stop; j++)
            parse_expanded(c, &c->body[j], i);
        if (c->n_errors != before)
            break; /* each mistake once, not once per iteration */
    }
    c->line = end_line;
    return true;
}

/* A line of the file: a block line, kept for later, or a statement. */
static void read_line(pctx *c, const char *line, size_t len)
{
    scn_tok w[2];
    size_t n = block_words(c, line, len, w);
    if (repeat_open(c, w, n) || repeat_close(c, w, n))
        return;
    if (!c->in_repeat) {
        parse_line(c, line, len);
        return;
    }
    if (c->n_body == c->body_cap) {
        c->body_cap = c->body_cap ? c->body_cap * 2 : 16;
        c->body = scn_xrealloc(c->body, c->body_cap * sizeof *c->body);
    }
    c->body[c->n_body++] = (struct body_line){line, len, c->line};
}

/* ---- files ------------------------------------------------------------- */

static size_t parse_buffer(const char *path, const char *text, size_t len,
                           FILE *errs, scn_file **out)
{
    scn_file *f = scn_xmalloc(sizeof *f);
    memset(f, 0, sizeof *f);
    f->path = scn_strndup(&f->arena, path, strlen(path));
    pctx c;
    memset(&c, 0, sizeof c);
    c.f = f;
    c.errs = errs;
    c.tok = scn_xmalloc((SCN_MAX_LINE + 2) * sizeof *c.tok);
    scn_reader r;
    scn_reader_init(&r, text, len);
    const char *line;
    size_t n;
    while (!c.stop && scn_reader_next(&r, &line, &n)) {
        c.line = r.lineno;
        read_line(&c, line, n);
    }
    if (c.in_repeat && !c.stop) {
        c.line = c.repeat_line;
        perr(&c, 1, "expected 'end' to close the repeat block opened here, "
                    "got end of file");
    }
    if (errs && c.n_errors > SCN_MAX_ERRORS)
        fprintf(errs, "%s: error: %zu more errors not shown\n", path,
                c.n_errors - SCN_MAX_ERRORS);
    scn_map_free(&c.socks);
    scn_map_free(&c.hosts);
    scn_map_free(&c.host_os);
    free(c.sock_line);
    free(c.tok);
    free(c.body);
    free(c.sub_col);
    scn_buf_free(&c.what);
    scn_buf_free(&c.quote);
    if (c.n_errors) {
        scn_file_free(f);
        f = NULL;
    }
    *out = f;
    return c.n_errors;
}

void scn_file_free(scn_file *f)
{
    if (!f)
        return;
    free(f->stmts);
    free(f->socks);
    scn_arena_free(&f->arena);
    free(f);
}

/* Reads all of PATH ("-": standard input) into a malloc'ed buffer. */
static bool read_all(const char *path, char **out, size_t *len,
                     const char **why)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
    if (!fp) {
        *why = strerror(errno);
        return false;
    }
    size_t cap = 65536, n = 0;
    char *buf = scn_xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap > SCN_MAX_FILE) {
                *why = "file is larger than 64 MiB";
                break;
            }
            cap *= 2;
            buf = scn_xrealloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    bool ok = !ferror(fp) && n <= SCN_MAX_FILE;
    if (ferror(fp))
        *why = strerror(errno);
    else if (n > SCN_MAX_FILE)
        *why = "file is larger than 64 MiB";
    if (!is_stdin)
        fclose(fp);
    if (!ok) {
        free(buf);
        return false;
    }
    *out = buf;
    *len = n;
    return true;
}

/* The entry point: under the program's recovery point as it is, or under
 * one of its own (scn_oom_point), whose jump is an error like any other. */
size_t scn_parse_buffer(const char *path, const char *text, size_t len,
                        FILE *errs, scn_file **out)
{
    if (!scn__oom_need())
        return parse_buffer(path, text, len, errs, out);
    jmp_buf own;
    *out = NULL;
    if (setjmp(own)) {
        scn_oom_point(NULL);
        *out = NULL; /* what was built is abandoned */
        if (errs)
            fprintf(errs, "%s: error: out of memory\n", path);
        return 1;
    }
    scn_oom_point(&own);
    size_t n = parse_buffer(path, text, len, errs, out);
    scn_oom_point(NULL);
    return n;
}

size_t scn_parse_path(const char *path, FILE *errs, scn_file **out)
{
    char *text = NULL;
    size_t len = 0;
    const char *why = "unknown error";
    *out = NULL;
    if (!read_all(path, &text, &len, &why)) {
        if (errs)
            fprintf(errs, "sockmodel: error: cannot read %s: %s\n", path, why);
        return 1;
    }
    const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;
    size_t n = scn_parse_buffer(shown, text, len, errs, out);
    free(text);
    return n;
}
