/*
 * scn_report.c - prints what a scenario run recorded: the table (one row
 * per step, one column per profile), the --explain lines (the rule that
 * decided, grouped by profiles that agree), one "FILE:LINE: PROFILE:
 * expected X, got Y" block per expectation not met, the summary line of
 * each file, and the JSON document of --json.  Plain ASCII, no colour,
 * column widths from the content; the same run prints the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scn.h"
#include "scn_lex.h"
#include "scn_report_ci.h"
#include "smu_text.h"

#define WHY_INDENT "    "

/* Appends N bytes of S: in place when there is room (a row or a JSON step
 * is many short pieces), else through scn_buf_add.  Inline, so that the length of
 * a literal is a constant. */
static inline void put(scn_buf *b, const char *s, size_t n)
{
    if (!b->failed && b->cap - b->len > n) {
        memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = '\0';
    } else {
        scn_buf_add(b, s, n);
    }
}

static inline void put_str(scn_buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* V in decimal, written backwards to END: returns where it starts (two
 * digits at a time: a line number per row, several numbers per JSON step). */
static char *decimal_at(char *end, uint64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    char *p = end;
    while (v >= 100) {
        uint64_t q = v / 100;
        p -= 2;
        memcpy(p, pairs + 2 * (v - 100 * q), 2);
        v = q;
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, pairs + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    return p;
}


/* ---- cell texts -------------------------------------------------------- */

/* The outcome without the failure marker: "ok", "ok 100" / "eof" for a
 * read, "WSAEACCES", "n/a".  An error on a pinned host is named by that
 * host's OS. */
static void outcome_text(const sm_profile *p, const scn_cell *c, scn_buf *b)
{
    if (c->os)
        p = c->os;
    switch (c->kind) {
    case SCN_CELL_SKIPPED: /* with a message: the host profile's time rule */
        put_str(b, c->message ? "skip" : "-");
        break;
    case SCN_CELL_CHECK:
        put_str(b, c->observed);
        break;
    case SCN_CELL_FAILED:
        put_str(b, "error");
        break;
    case SCN_CELL_CALL:
        if (c->r.err == SM_ENOSYS)
            put_str(b, "n/a");
        else if (c->r.err == SM_OK && c->counted && c->r.bytes == 0)
            put_str(b, "eof");
        else if (c->r.err == SM_OK && c->counted)
            scn_buf_printf(b, "ok %llu", (unsigned long long)c->r.bytes);
        else if (c->r.err == SM_OK)
            put_str(b, "ok");
        else
            put_str(b, sm_profile_err_name(p, c->r.err));
        break;
    }
}

void scn_cell_text(const scn_result *r, size_t profile, const scn_cell *c,
                   scn_buf *out)
{
    outcome_text(r->cols[profile].profile, c, out);
    if (c->kind == SCN_CELL_CALL && c->r.err == SM_OK && c->r.port)
        scn_buf_printf(out, " :%u", (unsigned)c->r.port);
    if (c->has_expectation && !c->met)
        scn_buf_puts(out, "!");
}

void scn_cell_why(const scn_cell *c, scn_buf *out)
{
    if (c->kind == SCN_CELL_FAILED || c->kind == SCN_CELL_CHECK ||
        c->kind == SCN_CELL_SKIPPED) {
        if (c->message)
            scn_buf_puts(out, c->message);
        return;
    }
    if (c->kind != SCN_CELL_CALL)
        return;
    size_t start = out->len;
    if (c->os) /* a pinned host's OS decided, whatever the column */
        scn_buf_printf(out, "host %s runs %s: ", c->os_host,
                       sm_profile_name(c->os));
    size_t base = out->len;
    char line[1024];
    const char *rule = c->r.rule ? sm_rule_line(c->r.rule, line, sizeof line) : NULL;
    if (c->r.err == SM_ENOSYS &&
        (!rule || strncmp(rule, "not modelled yet", 16) != 0))
        scn_buf_puts(out, "not modelled yet");
    if (rule) {
        if (out->len > base)
            scn_buf_puts(out, ": ");
        scn_buf_puts(out, rule);
    }
    if (c->culprit && c->r.culprit_tw)
        scn_buf_printf(out, " (conflicts with the TIME_WAIT entry of %s)",
                       c->culprit);
    else if (c->culprit)
        scn_buf_printf(out, " (conflicts with socket %s)", c->culprit);
    if (out->len == base) /* no reason to attribute */
        out->len = start;
}

static void rule_tag(const sm_rule *r, scn_buf *out)
{
    /* The confidence is shown when it is below observed (or source). */
    if (r->confidence > SM_CONF_OBSERVED)
        scn_buf_printf(out, " {%s: %s}", r->id, sm_confidence_name(r->confidence));
    else
        scn_buf_printf(out, " {%s}", r->id);
}

void scn_cell_rule_tag(const scn_cell *c, scn_buf *out)
{
    if (c->kind != SCN_CELL_CALL || !c->r.rule)
        return;
    rule_tag(c->r.rule, out);
}

/* What an engine decision was, in words (the rule comes separately). */
void scn_event_text(const scn_event *e, scn_buf *out)
{
    const char *s = e->sock ? e->sock : "a socket that is gone";
    switch (e->kind) {
    case SM_EV_LISTENER:
        scn_buf_printf(out, "%s took the connection", s);
        break;
    case SM_EV_TW_ENTER:
        scn_buf_printf(out, "%s entered TIME_WAIT for %u ms", s, (unsigned)e->value);
        break;
    case SM_EV_TW_SKIP:
        scn_buf_printf(out, "%s closed without TIME_WAIT", s);
        break;
    case SM_EV_TW_END:
        scn_buf_printf(out, "the TIME_WAIT entry of %s %s", s,
                       e->value ? "expired" : "ended early");
        break;
    case SM_EV_TIMER:
        if (e->value)
            scn_buf_printf(out, "%s's timer fired: SYN sent again (retry %u)", s,
                           (unsigned)e->value);
        else
            scn_buf_printf(out, "%s's timer fired", s);
        break;
    case SM_EV_PORT:
        scn_buf_printf(out, "%s was given ephemeral port %u", s, (unsigned)e->value);
        break;
    default:
        scn_buf_puts(out, sm_event_kind_name(e->kind));
        break;
    }
}

/* ---- the table --------------------------------------------------------- */

typedef struct layout {
    size_t w_line, w_step;
    size_t *w_prof;
    size_t width;     /* a row at its widest: every column and gap */
    scn_buf cells;    /* the text of every cell, row after row */
    size_t *cell_end; /* where each ends in cells */
} layout;

static size_t digits(unsigned v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static size_t step_width(const scn_stmt *st)
{
    size_t n = strlen(st->text);
    return n <= SCN_STEP_WIDTH ? n : SCN_STEP_WIDTH;
}

/* scn_cell_text, with the usual cell ("ok") written without formatting */
static void cell_text(const scn_result *r, size_t j, const scn_cell *c,
                      scn_buf *out)
{
    if (c->kind == SCN_CELL_CALL && c->r.err == SM_OK && !c->counted &&
        !c->r.port && !(c->has_expectation && !c->met)) {
        if (scn_buf_reserve(out, 2)) {
            memcpy(out->s + out->len, "ok", 3);
            out->len += 2;
        }
        return;
    }
    scn_cell_text(r, j, c, out);
}

/* The column widths, and each cell's text (formatted once, for the
 * widths and then the rows). */
static void measure(const scn_result *r, layout *l)
{
    size_t np = r->n_profiles;
    l->w_line = strlen("LINE");
    l->w_step = strlen("STEP");
    for (size_t j = 0; j < np; j++)
        l->w_prof[j] = strlen(r->cols[j].name);
    l->cells = (scn_buf){0};
    l->cell_end = scn_xmalloc((r->n_rows * np + 1) * sizeof *l->cell_end);
    unsigned last = 0; /* the highest line number */
    for (size_t i = 0; i < r->n_rows; i++) {
        const scn_row *row = &r->rows[i];
        if (row->st->line > last)
            last = row->st->line;
        if (step_width(row->st) > l->w_step)
            l->w_step = step_width(row->st);
        for (size_t j = 0; j < np; j++) {
            size_t start = l->cells.len;
            cell_text(r, j, &row->cells[j], &l->cells);
            l->cell_end[i * np + j] = l->cells.len;
            if (l->cells.len - start > l->w_prof[j])
                l->w_prof[j] = l->cells.len - start;
        }
    }
    if (digits(last) > l->w_line)
        l->w_line = digits(last);
    l->width = l->w_line + 2 + l->w_step + 2;
    for (size_t j = 0; j < np; j++)
        l->width += l->w_prof[j] + 2;
}

static void pad(scn_buf *b, size_t have, size_t width)
{
    /* in runs, not a call per space (a table pads every cell) */
    static const char spaces[] = "                                "; /* 32 */
    while (have < width) {
        size_t k = width - have < sizeof spaces - 1 ? width - have : sizeof spaces - 1;
        scn_buf_add(b, spaces, k);
        have += k;
    }
}

/* Appends one column (left-aligned) and the gap after it. */
static void column(scn_buf *line, const char *s, size_t n, size_t width)
{
    scn_buf_add(line, s, n);
    pad(line, n, width);
    scn_buf_add(line, "  ", 2);
}

static void emit_line(FILE *out, scn_buf *line)
{
    while (line->len > 0 && line->s[line->len - 1] == ' ')
        line->len--;
    fwrite(line->s ? line->s : "", 1, line->len, out);
    fputc('\n', out);
    line->len = 0;
}

static void print_header(FILE *out, const scn_result *r, const layout *l,
                         scn_buf *line)
{
    pad(line, 4, l->w_line);
    column(line, "LINE", 4, 0);
    column(line, "STEP", 4, l->w_step);
    for (size_t j = 0; j < r->n_profiles; j++) {
        const char *name = r->cols[j].name;
        column(line, name, strlen(name), l->w_prof[j]);
    }
    emit_line(out, line);
}

/* Column text S of N bytes at P, padded to WIDTH, and the gap. */
static char *put_column(char *p, const char *s, size_t n, size_t width)
{
    memcpy(p, s, n);
    memset(p + n, ' ', width - n + 2);
    return p + width + 2;
}

/* Appends row I to OUT, written straight into its room (a row is at most
 * l->width bytes and its newline). */
static void put_row(const scn_result *r, size_t i, const layout *l,
                    scn_buf *out)
{
    const scn_row *row = &r->rows[i];
    if (out->cap - out->len < l->width + 2) {
        out->cap = out->len + l->width + 2 + (1u << 16);
        out->s = scn_xrealloc(out->s, out->cap);
    }
    char *line = out->s + out->len, *p = line;
    /* "%*u  " of the line number, without printf (once per row) */
    char num[16];
    const char *digits_at = decimal_at(num + sizeof num, row->st->line);
    size_t nd = (size_t)(num + sizeof num - digits_at);
    memset(p, ' ', l->w_line - nd);
    p += l->w_line - nd;
    p = put_column(p, digits_at, nd, nd);
    size_t n = strlen(row->st->text);
    if (n <= SCN_STEP_WIDTH) {
        p = put_column(p, row->st->text, n, l->w_step);
    } else {
        memcpy(p, row->st->text, SCN_STEP_WIDTH - 3);
        p = put_column(p + SCN_STEP_WIDTH - 3, "...", 3, l->w_step - (SCN_STEP_WIDTH - 3));
    }
    size_t np = r->n_profiles, k = i * np;
    size_t from = k ? l->cell_end[k - 1] : 0;
    for (size_t j = 0; j < np; j++) {
        size_t to = l->cell_end[k + j];
        if (j + 1 < np) {
            p = put_column(p, l->cells.s + from, to - from, l->w_prof[j]);
        } else { /* the last column: its padding would be cut off */
            memcpy(p, l->cells.s + from, to - from);
            p += to - from;
        }
        from = to;
    }
    while (p > line && p[-1] == ' ')
        p--;
    *p++ = '\n';
    out->len += (size_t)(p - line);
    out->s[out->len] = '\0';
}

static void flush(FILE *out, scn_buf *b)
{
    fwrite(b->s ? b->s : "", 1, b->len, out);
    b->len = 0;
}

/* Profiles k >= j that give the same reason as j ("all" if every one). */
static void group_label(const scn_result *r, const scn_buf *why, size_t j,
                        bool *done, scn_buf *line)
{
    size_t n = r->n_profiles, members = 0, start = line->len;
    for (size_t k = j; k < n; k++) {
        if (done[k] || why[k].len == 0 || strcmp(why[k].s, why[j].s) != 0)
            continue;
        done[k] = true;
        scn_buf_puts(line, members ? ", " : "");
        scn_buf_puts(line, r->cols[k].name);
        members++;
    }
    if (members == n) {
        line->len = start;
        scn_buf_puts(line, "all");
    }
}

/* The line of event k of cell c: "[KIND] TEXT: RULE {ID}". */
static void event_line(const scn_cell *c, size_t k, scn_buf *b)
{
    const scn_event *e = &c->events[k];
    b->len = 0;
    scn_buf_printf(b, "[%s] ", sm_event_kind_name(e->kind));
    scn_event_text(e, b);
    if (e->rule) {
        char rl[1024];
        scn_buf_printf(b, ": %s", sm_rule_line(e->rule, rl, sizeof rl));
        rule_tag(e->rule, b);
    }
}

/* --explain: the decisions the step caused below the calls, one line per
 * distinct decision with the profiles that made it. */
static void print_events(FILE *out, const scn_result *r, const scn_row *row,
                         const layout *l, scn_buf *line)
{
    size_t n = r->n_profiles, any = 0;
    for (size_t j = 0; j < n; j++)
        any += row->cells[j].n_events;
    if (!any)
        return;
    scn_buf a = {0}, b = {0};
    for (size_t j = 0; j < n; j++)
        for (size_t k = 0; k < row->cells[j].n_events; k++) {
            event_line(&row->cells[j], k, &a);
            /* printed already with an earlier profile? */
            bool seen = false;
            for (size_t jj = 0; jj < j && !seen; jj++)
                for (size_t kk = 0; kk < row->cells[jj].n_events && !seen; kk++) {
                    event_line(&row->cells[jj], kk, &b);
                    seen = strcmp(a.s, b.s) == 0;
                }
            if (seen)
                continue;
            size_t members = 0, start;
            pad(line, 0, l->w_line + 4);
            start = line->len;
            for (size_t jj = j; jj < n; jj++) {
                bool has = false;
                for (size_t kk = 0; kk < row->cells[jj].n_events && !has; kk++) {
                    event_line(&row->cells[jj], kk, &b);
                    has = strcmp(a.s, b.s) == 0;
                }
                if (!has)
                    continue;
                scn_buf_puts(line, members++ ? ", " : "");
                scn_buf_puts(line, r->cols[jj].name);
            }
            if (members == n) {
                line->len = start;
                scn_buf_puts(line, "all");
            }
            scn_buf_printf(line, ": %s", a.s);
            emit_line(out, line);
        }
    scn_buf_free(&a);
    scn_buf_free(&b);
}

/* --explain: one line per group of profiles that give the same reason. */
static void print_explain(FILE *out, const scn_result *r, const scn_row *row,
                          const layout *l, scn_buf *line)
{
    size_t n = r->n_profiles;
    scn_buf *why = scn_xmalloc((n + 1) * sizeof *why);
    bool *done = scn_xmalloc((n + 1) * sizeof *done);
    memset(why, 0, (n + 1) * sizeof *why);
    memset(done, 0, (n + 1) * sizeof *done);
    for (size_t j = 0; j < n; j++) {
        scn_cell_why(&row->cells[j], &why[j]);
        if (why[j].len)
            scn_cell_rule_tag(&row->cells[j], &why[j]);
    }
    for (size_t j = 0; j < n; j++) {
        if (done[j] || why[j].len == 0)
            continue;
        pad(line, 0, l->w_line + 4);
        group_label(r, why, j, done, line);
        scn_buf_printf(line, ": %s", why[j].s);
        emit_line(out, line);
    }
    for (size_t j = 0; j < n; j++)
        scn_buf_free(&why[j]);
    free(why);
    free(done);
    print_events(out, r, row, l, line);
}

/* ---- failures and summary ---------------------------------------------- */

static const char *check_word(scn_kind k)
{
    switch (k) {
    case SCN_EXPECT_STATE:
        return "state ";
    case SCN_EXPECT_LOCAL:
        return "local ";
    case SCN_EXPECT_PENDING:
        return "pending ";
    case SCN_EXPECT_ERROR:
        return "error ";
    case SCN_EXPECT_PEER:
        return "peer ";
    case SCN_EXPECT_READABLE:
        return "readable ";
    case SCN_EXPECT_WRITABLE:
        return "writable ";
    default:
        return "";
    }
}

void scn_failure_text(const scn_result *r, const scn_row *row, size_t j,
                      scn_buf *head, scn_buf *why)
{
    const scn_cell *c = &row->cells[j];
    const char *word = c->kind == SCN_CELL_CHECK ? check_word(row->st->kind)
                                                 : "";
    scn_buf got = {0};
    outcome_text(r->cols[j].profile, c, &got);
    head->len = why->len = 0;
    scn_buf_printf(head, "%s:%u: %s: expected %s%s, got %s", r->file->path,
                   row->st->line, r->cols[j].name, word,
                   c->expected, got.s);
    scn_buf_free(&got);
    scn_cell_why(c, why);
}

static void print_failure(FILE *out, const scn_result *r, const scn_row *row,
                          size_t j, scn_buf *tmp)
{
    scn_buf why = {0};
    scn_failure_text(r, row, j, tmp, &why);
    fprintf(out, "%s\n", tmp->s);
    if (why.len)
        fprintf(out, WHY_INDENT "%s\n", why.s);
    scn_buf_free(&why);
}

static void print_failures(FILE *out, const scn_result *r, scn_buf *tmp,
                           bool quiet)
{
    if (r->failed && !quiet)
        fputc('\n', out);
    for (size_t i = 0; i < r->n_rows; i++)
        for (size_t j = 0; j < r->n_profiles; j++)
            if (r->rows[i].cells[j].has_expectation &&
                !r->rows[i].cells[j].met)
                print_failure(out, r, &r->rows[i], j, tmp);
}

/* The first step of each column that could not be reproduced quickly
 * (host profile), with why: the steps after it are skipped too.  The
 * message starts with the profile's name. */
static void print_time_skips(FILE *out, const scn_result *r)
{
    for (size_t j = 0; j < r->n_profiles; j++)
        for (size_t i = 0; i < r->n_rows; i++) {
            const scn_cell *c = &r->rows[i].cells[j];
            if (c->kind != SCN_CELL_SKIPPED || !c->message)
                continue;
            fprintf(out, "%s:%u: %s\n", r->file->path,
                    r->rows[i].st->line, c->message);
            break;
        }
}

static void print_summary(FILE *out, const scn_result *r)
{
    fprintf(out, "%s: %zu step%s x %zu profile%s: %zu outcome%s", r->file->path,
            r->n_rows, r->n_rows == 1 ? "" : "s", r->n_profiles,
            r->n_profiles == 1 ? "" : "s", r->outcomes,
            r->outcomes == 1 ? "" : "s");
    if (r->skipped)
        fprintf(out, " (%zu skipped)", r->skipped);
    fprintf(out, ", %zu expectation%s met, %zu not met\n", r->passed,
            r->passed == 1 ? "" : "s", r->failed);
}

/* The arguments of a report run under scn__guarded. */
typedef struct report_args {
    FILE *out;
    const scn_result *r;
    bool flag;
} report_args;

static void report_failures(void *ctx)
{
    const report_args *a = ctx;
    scn_buf tmp = {0};
    print_failures(a->out, a->r, &tmp, true);
    scn_buf_free(&tmp);
}

bool scn_report_failures(FILE *out, const scn_result *r)
{
    report_args a = {out, r, false};
    return scn__guarded(report_failures, &a);
}

/* A mixed-OS world: which hosts run one OS in every column (each pinned
 * host once, where it is first declared). */
static void print_pinned(FILE *out, const scn_file *f)
{
    for (size_t i = 0; i < f->n_stmts; i++) {
        const scn_stmt *st = &f->stmts[i];
        if (st->kind != SCN_HOST || !st->os)
            continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = f->stmts[j].kind == SCN_HOST && f->stmts[j].os &&
                   strcmp(f->stmts[j].name, st->name) == 0;
        if (!seen)
            fprintf(out, "host %s runs %s in every column (line %u)\n", st->name,
                    sm_profile_name(st->os), st->line);
    }
}

static void report_text(void *ctx)
{
    const report_args *a = ctx;
    FILE *out = a->out;
    const scn_result *r = a->r;
    bool explain = a->flag;
    scn_buf line = {0}, tmp = {0};
    layout l;
    l.w_prof = scn_xmalloc((r->n_profiles + 1) * sizeof *l.w_prof);
    measure(r, &l);
    fprintf(out, "%s\n", r->file->path);
    print_pinned(out, r->file);
    print_header(out, r, &l, &line);
    /* the rows go out in blocks of 64 KiB, not a write each */
    scn_buf rows = {0};
    for (size_t i = 0; i < r->n_rows; i++) {
        put_row(r, i, &l, &rows);
        if (explain) {
            flush(out, &rows);
            print_explain(out, r, &r->rows[i], &l, &line);
        } else if (rows.len >= (1u << 16)) {
            flush(out, &rows);
        }
    }
    flush(out, &rows);
    scn_buf_free(&rows);
    print_failures(out, r, &tmp, false);
    print_time_skips(out, r);
    print_summary(out, r);
    fputc('\n', out);
    free(l.w_prof);
    free(l.cell_end);
    scn_buf_free(&l.cells);
    scn_buf_free(&line);
    scn_buf_free(&tmp);
}

bool scn_report_text(FILE *out, const scn_result *r, bool explain)
{
    report_args a = {out, r, explain};
    return scn__guarded(report_text, &a);
}

void scn_report_totals(FILE *out, size_t passed, size_t failed)
{
    fprintf(out, "%zu passed, %zu failed\n", passed, failed);
}

/* ---- JSON -------------------------------------------------------------- */

/* The JSON document is built in memory, a step at a time, and written in
 * one call per step (a stdio call per piece was most of --json's time). */

/* S as a JSON string literal (smu_json_escape: the one escaping every
 * report uses); NULL is null. */
static void json_str(scn_buf *out, const char *s)
{
    if (!s) {
        put(out, "null", 4);
        return;
    }
    size_t n = strlen(s);
    if ((out->failed || out->cap - out->len <= SMU_JSON_ROOM(n) + 2) &&
        !scn_buf_reserve(out, SMU_JSON_ROOM(n) + 2))
        return;
    char *p = out->s + out->len;
    *p++ = '"';
    p = smu_json_escape(p, s, n);
    *p++ = '"';
    out->len = (size_t)(p - out->s);
    *p = '\0';
}

static void json_uint(scn_buf *out, uint64_t v)
{
    char num[24];
    const char *at = decimal_at(num + sizeof num, v);
    put(out, at, (size_t)(num + sizeof num - at));
}

/* A key of the format (a literal, nothing to escape): ,"KEY": */
static inline void json_key(scn_buf *out, const char *key, bool first)
{
    size_t n = strlen(key);
    if ((out->failed || out->cap - out->len <= n + 4) &&
        !scn_buf_reserve(out, n + 4))
        return;
    char *p = out->s + out->len;
    if (!first)
        *p++ = ',';
    *p++ = '"';
    memcpy(p, key, n);
    p += n;
    *p++ = '"';
    *p++ = ':';
    out->len = (size_t)(p - out->s);
    *p = '\0';
}

static void json_met(scn_buf *out, const scn_cell *c)
{
    json_key(out, "expected", false);
    json_str(out, c->has_expectation ? c->expected : NULL);
    json_key(out, "met", false);
    put_str(out, !c->has_expectation ? "null" : c->met ? "true" : "false");
}

/* The three facts of a rule every outcome carries (null: no rule decided:
 * a skipped step, a state check). */
static void json_rule(scn_buf *out, const sm_rule *rule)
{
    json_key(out, "rule_id", false);
    json_str(out, rule ? rule->id : NULL);
    json_key(out, "source", false);
    json_str(out, rule ? rule->source : NULL);
    json_key(out, "confidence", false);
    json_str(out, rule ? sm_confidence_name(rule->confidence) : NULL);
}

static void json_events(scn_buf *out, const scn_cell *c, scn_buf *tmp)
{
    json_key(out, "events", false);
    put(out, "[", 1);
    for (size_t k = 0; k < c->n_events; k++) {
        const scn_event *e = &c->events[k];
        put_str(out, k ? ",{" : "{");
        json_key(out, "kind", true);
        json_str(out, sm_event_kind_name(e->kind));
        json_key(out, "time_ns", false);
        json_uint(out, e->time_ns);
        json_key(out, "socket", false);
        json_str(out, e->sock);
        if (e->kind == SM_EV_PORT) {
            json_key(out, "port", false);
            json_uint(out, (unsigned)e->value);
        }
        json_key(out, "text", false);
        tmp->len = 0;
        scn_event_text(e, tmp);
        json_str(out, tmp->s);
        json_key(out, "rule", false);
        char line[1024];
        json_str(out, e->rule ? sm_rule_line(e->rule, line, sizeof line) : NULL);
        json_rule(out, e->rule);
        put(out, "}", 1);
    }
    put(out, "]", 1);
}

/* The four facts of the rules met so far, as JSON ("rule", "rule_id",
 * "source", "confidence"): a run uses a few rules many times. */
#define JSON_RULE_SLOTS 64
typedef struct json_cache {
    const sm_rule *rule[JSON_RULE_SLOTS];
    bool used[JSON_RULE_SLOTS];
    scn_buf text[JSON_RULE_SLOTS];
    scn_buf cols;    /* each column's name as a key: "NAME": */
    size_t *col_end; /* where each ends in cols */
} json_cache;

static void json_rule_facts(scn_buf *out, const sm_rule *rule, json_cache *jc)
{
    /* open addressing from a multiplicative hash of the address (rule
     * records lie at fixed distances: a plain modulo put two of a churn's
     * rules in one slot, formatted again at every step) */
    size_t home = (size_t)(((uint64_t)(uintptr_t)rule * 0x9E3779B97F4A7C15u) >> 58);
    size_t k = home;
    while (jc->used[k] && jc->rule[k] != rule) {
        k = (k + 1) % JSON_RULE_SLOTS;
        if (k == home) /* full: this slot is formatted again */
            break;
    }
    scn_buf *t = &jc->text[k];
    if (!jc->used[k] || jc->rule[k] != rule) {
        char line[1024];
        t->len = 0;
        json_key(t, "rule", false);
        json_str(t, rule ? sm_rule_line(rule, line, sizeof line) : NULL);
        json_rule(t, rule);
        jc->rule[k] = rule;
        jc->used[k] = true;
    }
    put(out, t->s, t->len);
}

static void json_cell(scn_buf *out, const scn_result *r, size_t j,
                      const scn_cell *c, scn_kind row_kind, scn_buf *tmp,
                      json_cache *jc)
{
    const sm_profile *p = r->cols[j].profile;
    put(out, "{", 1);
    if (c->kind == SCN_CELL_SKIPPED) {
        put_str(out, "\"skipped\":true");
        if (c->message) { /* host: could not be reproduced quickly */
            json_key(out, "message", false);
            json_str(out, c->message);
        }
        json_rule(out, NULL);
        json_events(out, c, tmp);
        put(out, "}", 1);
        return;
    }
    tmp->len = 0;
    outcome_text(p, c, tmp);
    json_key(out, "result", true);
    if (c->kind == SCN_CELL_CALL && c->r.err != SM_ENOSYS)
        json_str(out, sm_err_name(c->r.err));
    else
        json_str(out, tmp->s);
    if (c->kind == SCN_CELL_CALL) {
        json_key(out, "native", false);
        json_str(out, tmp->s);
        json_rule_facts(out, c->r.rule, jc);
        json_key(out, "culprit", false);
        json_str(out, c->culprit);
        json_key(out, "culprit_time_wait", false);
        put_str(out, c->culprit && c->r.culprit_tw ? "true" : "false");
        json_key(out, "port", false);
        json_uint(out, (unsigned)c->r.port);
        if (c->os) { /* the call ran on a pinned host: its OS decided */
            json_key(out, "host", false);
            json_str(out, c->os_host);
            json_key(out, "os", false);
            json_str(out, sm_profile_name(c->os));
        }
    } else {
        if (c->kind == SCN_CELL_CHECK) {
            json_key(out, "check", false);
            tmp->len = 0;
            scn_buf_puts(tmp, check_word(row_kind));
            if (tmp->len > 0) /* "state " -> "state"; a kind with no word: null */
                tmp->s[tmp->len - 1] = '\0';
            json_str(out, tmp->len > 0 ? tmp->s : NULL);
        }
        json_key(out, "message", false);
        json_str(out, c->message);
        json_rule(out, NULL);
    }
    json_met(out, c);
    json_events(out, c, tmp);
    put(out, "}", 1);
}

static void json_step(scn_buf *out, const scn_result *r, const scn_row *row,
                      bool first, scn_buf *tmp, json_cache *jc)
{
    put_str(out, first ? "\n" : ",\n");
    put_str(out, "{\"line\":");
    json_uint(out, row->st->line);
    put_str(out, ",\"text\":");
    json_str(out, row->st->text);
    put_str(out, ",\"outcomes\":{");
    for (size_t j = 0; j < r->n_profiles; j++) {
        if (j)
            put(out, ",", 1);
        size_t from = j ? jc->col_end[j - 1] : 0;
        put(out, jc->cols.s + from, jc->col_end[j] - from);
        json_cell(out, r, j, &row->cells[j], row->st->kind, tmp, jc);
    }
    put_str(out, "}}");
}

void scn_report_json_begin(FILE *out, uint64_t seed)
{
    fprintf(out, "{\"format\":\"" SCN_JSON_FORMAT "\",\"seed\":%llu,\"files\":[",
            (unsigned long long)seed);
}

static void report_json_file(void *ctx)
{
    const report_args *a = ctx;
    FILE *out = a->out;
    const scn_result *r = a->r;
    bool first = a->flag;
    scn_buf tmp = {0};
    fputs(first ? "\n" : ",\n", out);
    fputs("{\"file\":", out);
    smu_json_str(out, r->file->path);
    fputs(",\"profiles\":[", out);
    for (size_t j = 0; j < r->n_profiles; j++) {
        if (j)
            fputc(',', out);
        smu_json_str(out, r->cols[j].name);
    }
    fputs("],\"steps\":[", out);
    scn_buf steps = {0};
    json_cache jc;
    memset(&jc, 0, sizeof jc);
    /* a profile's name: escaped as any text, once per column */
    jc.col_end = scn_xmalloc((r->n_profiles + 1) * sizeof *jc.col_end);
    for (size_t j = 0; j < r->n_profiles; j++) {
        json_str(&jc.cols, r->cols[j].name);
        put(&jc.cols, ":", 1);
        jc.col_end[j] = jc.cols.len;
    }
    for (size_t i = 0; i < r->n_rows; i++) {
        json_step(&steps, r, &r->rows[i], i == 0, &tmp, &jc);
        if (steps.len >= (1u << 16)) {
            fwrite(steps.s, 1, steps.len, out);
            steps.len = 0;
        }
    }
    fwrite(steps.s ? steps.s : "", 1, steps.len, out);
    scn_buf_free(&steps);
    for (size_t k = 0; k < JSON_RULE_SLOTS; k++)
        scn_buf_free(&jc.text[k]);
    scn_buf_free(&jc.cols);
    free(jc.col_end);
    fprintf(out, "],\"passed\":%zu,\"failed\":%zu}", r->passed, r->failed);
    scn_buf_free(&tmp);
}

bool scn_report_json_file(FILE *out, const scn_result *r, bool first)
{
    report_args a = {out, r, first};
    return scn__guarded(report_json_file, &a);
}

void scn_report_json_end(FILE *out, size_t passed, size_t failed)
{
    fprintf(out, "\n],\"passed\":%zu,\"failed\":%zu}\n", passed, failed);
}
