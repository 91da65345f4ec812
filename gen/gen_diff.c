/*
 * gen_diff.c - the differential check of `sockmodel gen --check` (issue 4):
 * generated scenarios (gen_scn.c) run under two profiles (a model and the
 * real kernel's `host` profile, or two models), compared step by step; any
 * difference is shrunk by delta debugging to the smallest scenario in which
 * the same step still differs, and printed with both answers.
 *
 * What is compared, per step: for a call, its outcome (ok or the portable
 * error name; the port an OS picked is not compared); for an `expect`, the
 * observed value, with port numbers of 10000 and above (ephemeral ports,
 * random on a real kernel) written as "*".  A step skipped or not done
 * (a FAILED cell) under either profile is not compared, only counted.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen_scn.h"

/* A scenario as lines; each line remembers its index in the generated
 * scenario, so that "the same step" can be followed while shrinking. */
typedef struct lines {
    const char **v;
    unsigned *orig;
    size_t n;
} lines;

typedef struct dctx {
    const scn_diff_opts *o;
    scn_patlist pats;
    scn_arena arena;
    unsigned runs; /* runs in the current shrink */
    bool fatal;    /* a profile could not run at all (host without a
                      network namespace): stop */
    char *fatal_msg; /* why (malloc'ed) */
} dctx;

/* The outcome of comparing one candidate. */
typedef struct cmp {
    bool parsed;
    size_t compared, uncompared;
    long first;        /* orig index of the first differing step, -1 */
    bool target_diff;  /* the wanted step differs */
    scn_buf desc;      /* "line L: A says X, B says Y" and the rules */
} cmp;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void join(const lines *l, scn_buf *b)
{
    b->len = 0;
    for (size_t i = 0; i < l->n; i++) {
        scn_buf_puts(b, l->v[i]);
        scn_buf_puts(b, "\n");
    }
}

/* The observed value of a check with ephemeral ports hidden. */
static void norm_observed(const char *s, scn_buf *b)
{
    b->len = 0;
    scn_buf_puts(b, s ? s : "");
    char *colon = b->s ? strrchr(b->s, ':') : NULL;
    if (!colon || colon[1] == '\0')
        return;
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end == '\0' && port >= 10000) {
        b->len = (size_t)(colon - b->s) + 1;
        scn_buf_puts(b, "*");
    }
}

static void cell_value(const scn_cell *c, scn_buf *b)
{
    b->len = 0;
    if (c->kind == SCN_CELL_CALL)
        scn_buf_puts(b, sm_err_name(c->r.err));
    else if (c->kind == SCN_CELL_CHECK)
        norm_observed(c->observed, b);
    else if (c->kind == SCN_CELL_FAILED)
        scn_buf_puts(b, "error");
    else
        scn_buf_puts(b, "-");
}

/* Do two cells differ?  *comparable says whether they could be compared. */
static bool cells_differ(const scn_cell *a, const scn_cell *b, bool *comparable,
                         scn_buf *ta, scn_buf *tb)
{
    *comparable = a->kind != SCN_CELL_SKIPPED && b->kind != SCN_CELL_SKIPPED &&
                  a->kind != SCN_CELL_FAILED && b->kind != SCN_CELL_FAILED;
    if (!*comparable)
        return false;
    if (a->kind != b->kind)
        return true;
    if (a->kind == SCN_CELL_CALL)
        return a->r.err != b->r.err;
    cell_value(a, ta);
    cell_value(b, tb);
    return strcmp(ta->s ? ta->s : "", tb->s ? tb->s : "") != 0;
}

static void describe(const scn_result *r, const scn_row *row, cmp *c)
{
    scn_buf ta = {0}, tb = {0}, why = {0};
    cell_value(&row->cells[0], &ta);
    cell_value(&row->cells[1], &tb);
    scn_buf_printf(&c->desc, "line %u: %s says %s, %s says %s\n", row->st->line,
                   r->cols[0].name, ta.s ? ta.s : "",
                   r->cols[1].name, tb.s ? tb.s : "");
    for (size_t j = 0; j < 2; j++) {
        why.len = 0;
        scn_cell_why(&row->cells[j], &why);
        if (why.len)
            scn_buf_printf(&c->desc, "    %s: %s\n",
                           r->cols[j].name, why.s);
    }
    scn_buf_free(&ta);
    scn_buf_free(&tb);
    scn_buf_free(&why);
}

/* Parses and runs L under the two profiles; TARGET: orig index of the step
 * that must differ (or -1: find the first difference). */
static void run_cmp(dctx *d, const lines *l, long target, cmp *c)
{
    scn_buf text = {0}, ta = {0}, tb = {0};
    c->parsed = false;
    c->compared = c->uncompared = 0;
    c->first = -1;
    c->target_diff = false;
    c->desc.len = 0;
    join(l, &text);
    scn_file *f = NULL;
    d->runs++;
    if (scn_parse_buffer("gen.scn", text.s ? text.s : "", text.len, NULL, &f) != 0) {
        scn_buf_free(&text);
        return;
    }
    c->parsed = true;
    scn_result *r = scn_run_file(f, &d->pats, d->o->run_seed);
    if (r->status == 2 && !d->fatal) {
        d->fatal = true;
        size_t n = strlen(r->error) + 1;
        d->fatal_msg = scn_xmalloc(n);
        memcpy(d->fatal_msg, r->error, n);
    }
    for (size_t i = 0; i < r->n_rows && r->n_profiles == 2 && r->status == 0;
         i++) {
        const scn_row *row = &r->rows[i];
        bool comparable;
        bool differ = cells_differ(&row->cells[0], &row->cells[1], &comparable,
                                   &ta, &tb);
        if (comparable)
            c->compared++;
        else
            c->uncompared++;
        if (!differ)
            continue;
        long orig = (long)l->orig[row->st->line - 1];
        bool want = target < 0 ? c->first < 0 : orig == target;
        if (c->first < 0)
            c->first = orig;
        if (want) {
            c->target_diff = true;
            describe(r, row, c);
        }
    }
    scn_result_free(r);
    scn_file_free(f);
    scn_buf_free(&text);
    scn_buf_free(&ta);
    scn_buf_free(&tb);
}

/* Does candidate L still show the difference at TARGET? */
static bool still_differs(dctx *d, const lines *l, long target, cmp *c)
{
    if (d->runs >= d->o->max_runs || d->fatal)
        return false;
    run_cmp(d, l, target, c);
    return c->parsed && c->target_diff;
}

/* CAND = CUR without the lines whose flag is set in DROP. */
static void without(const lines *cur, const bool *drop, lines *cand)
{
    cand->n = 0;
    for (size_t i = 0; i < cur->n; i++) {
        if (drop[i])
            continue;
        cand->v[cand->n] = cur->v[i];
        cand->orig[cand->n] = cur->orig[i];
        cand->n++;
    }
}

static void copy_lines(const lines *from, lines *to)
{
    to->n = from->n;
    memcpy(to->v, from->v, from->n * sizeof *from->v);
    memcpy(to->orig, from->orig, from->n * sizeof *from->orig);
}

/* Drops whole sockets: every line that names one. */
static bool shrink_sockets(dctx *d, lines *cur, lines *cand, bool *drop,
                           long target, cmp *c)
{
    bool any = false;
    scn_buf text = {0};
    for (size_t k = 0;; k++) {
        join(cur, &text);
        scn_file *f = NULL;
        if (scn_parse_buffer("gen.scn", text.s ? text.s : "", text.len, NULL, &f) != 0)
            break;
        if (k >= f->n_socks) {
            scn_file_free(f);
            break;
        }
        memset(drop, 0, cur->n * sizeof *drop);
        bool hits_target = false;
        for (size_t i = 0; i < f->n_stmts; i++) {
            const scn_stmt *st = &f->stmts[i];
            if (st->sock != (int)k && st->new_sock != (int)k)
                continue;
            size_t li = st->line - 1;
            drop[li] = true;
            if ((long)cur->orig[li] == target)
                hits_target = true;
        }
        scn_file_free(f);
        if (hits_target)
            continue;
        without(cur, drop, cand);
        if (still_differs(d, cand, target, c)) {
            copy_lines(cand, cur);
            any = true;
            k--; /* socket k is gone: the next one has its index */
        }
    }
    scn_buf_free(&text);
    return any;
}

/* ddmin-like: drop chunks of lines, halving the chunk size. */
static void shrink_lines(dctx *d, lines *cur, lines *cand, bool *drop,
                         long target, cmp *c)
{
    size_t chunk = cur->n / 2 ? cur->n / 2 : 1;
    for (;;) {
        bool progress = false;
        for (size_t start = 0; start < cur->n;) {
            memset(drop, 0, cur->n * sizeof *drop);
            bool any = false;
            for (size_t i = start; i < start + chunk && i < cur->n; i++)
                if ((long)cur->orig[i] != target)
                    drop[i] = any = true;
            if (any) {
                without(cur, drop, cand);
                if (still_differs(d, cand, target, c)) {
                    copy_lines(cand, cur);
                    progress = true;
                    continue; /* same start, now other lines */
                }
            }
            start += chunk;
        }
        if (d->runs >= d->o->max_runs)
            return;
        if (chunk == 1 && !progress)
            return;
        if (!progress)
            chunk /= 2;
    }
}

static void split_lines(char *text, lines *l)
{
    l->n = 0;
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        l->v[l->n] = p;
        l->orig[l->n] = (unsigned)l->n;
        l->n++;
        if (!nl)
            break;
        p = nl + 1;
    }
}

/* A difference was found in scenario INDEX: shrink it, print it. */
static void report(dctx *d, char *text, uint64_t index, long target, FILE *out,
                   size_t nth)
{
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == '\n';
    lines cur = {scn_xmalloc(cap * sizeof(char *)), scn_xmalloc(cap * sizeof(unsigned)), 0};
    lines cand = {scn_xmalloc(cap * sizeof(char *)), scn_xmalloc(cap * sizeof(unsigned)), 0};
    bool *drop = scn_xmalloc(cap * sizeof *drop);
    split_lines(text, &cur);
    size_t n0 = cur.n;
    cmp c = {0};
    d->runs = 0;
    shrink_sockets(d, &cur, &cand, drop, target, &c);
    shrink_lines(d, &cur, &cand, drop, target, &c);
    shrink_sockets(d, &cur, &cand, drop, target, &c);
    shrink_lines(d, &cur, &cand, drop, target, &c);
    run_cmp(d, &cur, target, &c); /* the description of the final one */
    fprintf(out, "difference %zu: scenario %" PRIu64 " of seed %" PRIu64
                 " (sockmodel gen --seed %" PRIu64 " --first %" PRIu64
                 " --count 1), shrunk from %zu to %zu lines in %u runs:\n",
            nth, index, d->o->seed, d->o->seed, index, n0, cur.n, d->runs);
    for (size_t i = 0; i < cur.n; i++)
        fprintf(out, "    %s\n", cur.v[i]);
    fputs(c.desc.s ? c.desc.s : "(the difference did not repeat)\n", out);
    fflush(out);
    scn_buf_free(&c.desc);
    free(cur.v);
    free(cur.orig);
    free(cand.v);
    free(cand.orig);
    free(drop);
}

/* How many profiles does the --profile argument select? */
static bool check_profiles(dctx *d, FILE *err)
{
    scn_buf e = {0};
    if (!scn_patlist_parse_arg(&d->arena, d->o->profiles, &d->pats, &e)) {
        fprintf(err, "sockmodel: error: --profile: %s\n", e.s ? e.s : "bad patterns");
        scn_buf_free(&e);
        return false;
    }
    scn_buf_free(&e);
    static const char probe[] = "a = socket tcp4\n";
    scn_file *f = NULL;
    if (scn_parse_buffer("probe.scn", probe, sizeof probe - 1, err, &f) != 0)
        return false;
    scn_column *ps = NULL;
    size_t n = scn_select_columns(f, &d->pats, &ps);
    free(ps);
    scn_file_free(f);
    if (n != 2) {
        fprintf(err, "sockmodel: error: gen --check compares two profiles; "
                     "'%s' selects %zu\n", d->o->profiles, n);
        return false;
    }
    return true;
}

static int diff_check(const scn_diff_opts *o, FILE *out, FILE *err)
{
    dctx d;
    memset(&d, 0, sizeof d);
    d.o = o;
    if (!check_profiles(&d, err)) {
        scn_arena_free(&d.arena);
        return 2;
    }
    double t0 = now_s();
    size_t steps = 0, uncompared = 0, ndiff = 0;
    uint64_t done = 0;
    int status = 0;
    scn_buf text = {0};
    cmp c = {0};
    for (uint64_t k = 0; k < o->count; k++) {
        uint64_t index = o->first + k;
        text.len = 0;
        scn_gen_scenario(o->seed, index, !o->include_open, &text);
        size_t cap = 1;
        for (size_t i = 0; i < text.len; i++)
            cap += text.s[i] == '\n';
        lines l = {scn_xmalloc(cap * sizeof(char *)), scn_xmalloc(cap * sizeof(unsigned)), 0};
        char *copy = scn_xmalloc(text.len + 1);
        memcpy(copy, text.s, text.len);
        copy[text.len] = '\0';
        split_lines(copy, &l);
        run_cmp(&d, &l, -1, &c);
        if (d.fatal) {
            fprintf(err, "sockmodel: error: %s\n", d.fatal_msg);
            free(l.v);
            free(l.orig);
            free(copy);
            status = 2;
            break;
        }
        if (!c.parsed) {
            fprintf(err, "sockmodel: error: generated scenario %" PRIu64
                         " of seed %" PRIu64 " does not parse:\n", index, o->seed);
            scn_file *f = NULL;
            scn_parse_buffer("gen.scn", text.s, text.len, err, &f);
            scn_file_free(f);
            free(l.v);
            free(l.orig);
            free(copy);
            status = 2;
            break;
        }
        done++;
        steps += c.compared;
        uncompared += c.uncompared;
        if (c.first >= 0) {
            ndiff++;
            status = 1;
            /* report() works on its own copy of the lines. */
            char *copy2 = scn_xmalloc(text.len + 1);
            memcpy(copy2, text.s, text.len);
            copy2[text.len] = '\0';
            report(&d, copy2, index, c.first, out, ndiff);
            free(copy2);
        }
        free(l.v);
        free(l.orig);
        free(copy);
        if (status == 1 && !o->all) {
            fprintf(out, "stopped at the first difference (--all goes on)\n");
            break;
        }
        if (!o->quiet && (k + 1) % 500 == 0 && k + 1 < o->count)
            fprintf(err, "gen: %" PRIu64 " of %" PRIu64 " scenarios, %zu "
                         "differences so far\n", k + 1, o->count, ndiff);
    }
    if (status != 2) {
        fprintf(out, "%" PRIu64 " scenarios, %zu steps compared, %zu difference%s "
                     "(%.1f s)\n", done, steps, ndiff, ndiff == 1 ? "" : "s",
                now_s() - t0);
        if (uncompared)
            fprintf(out, "%zu steps not compared (skipped or not done under "
                         "one profile)\n", uncompared);
    }
    scn_buf_free(&c.desc);
    scn_buf_free(&text);
    scn_arena_free(&d.arena);
    free(d.fatal_msg);
    return status;
}

typedef struct diff_args {
    const scn_diff_opts *o;
    FILE *out, *err;
    int rc;
} diff_args;

static void guarded_check(void *ctx)
{
    diff_args *a = ctx;
    a->rc = diff_check(a->o, a->out, a->err);
}

/* Under the program's recovery point, or its own (scn__guarded): out of
 * memory is then status 2 with a message. */
int scn_diff_check(const scn_diff_opts *o, FILE *out, FILE *err)
{
    diff_args a = {o, out, err, 0};
    if (!scn__guarded(guarded_check, &a)) {
        fputs("sockmodel gen: error: out of memory\n", err);
        return 2;
    }
    return a.rc;
}
