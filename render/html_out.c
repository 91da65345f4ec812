/*
 * html_out.c - writes the one-file HTML report of a run: a table of
 * outcomes (a row per step, a column per profile) whose differing rows
 * are highlighted and whose cells carry their explanation, then every
 * profile's drawing inlined side by side.  What the page promises
 * (self-contained, projector, print) is said in html_out.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html_out.h"
#include "scn_backend.h"

static void esc(scn_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': scn_buf_puts(b, "&lt;"); break;
        case '>': scn_buf_puts(b, "&gt;"); break;
        case '&': scn_buf_puts(b, "&amp;"); break;
        case '"': scn_buf_puts(b, "&quot;"); break;
        default: scn_buf_add(b, s, 1);
        }
    }
}

/* The outcome without the " :PORT" of a port picked: a different port is
 * no different outcome. */
static size_t outcome_len(const char *t)
{
    size_t n = strcspn(t, ":");
    while (n && t[n - 1] == ' ')
        n--;
    return n;
}

/* Do the profiles that ran row i disagree? */
static bool row_differs(const scn_result *r, size_t i)
{
    const char *first = NULL;
    size_t first_len = 0;
    bool differ = false;
    scn_buf *t = scn_xmalloc((r->n_profiles + 1) * sizeof *t);
    memset(t, 0, (r->n_profiles + 1) * sizeof *t);
    for (size_t j = 0; j < r->n_profiles; j++) {
        const scn_cell *c = &r->rows[i].cells[j];
        if (c->kind == SCN_CELL_SKIPPED)
            continue;
        scn_cell_text(r, j, c, &t[j]);
        const char *s = t[j].s ? t[j].s : "";
        size_t n = outcome_len(s);
        if (!first) {
            first = s;
            first_len = n;
        } else if (n != first_len || strncmp(s, first, n) != 0)
            differ = true;
    }
    for (size_t j = 0; j < r->n_profiles; j++)
        scn_buf_free(&t[j]);
    free(t);
    return differ;
}

static const char *style =
    "<style>\n"
    "body{font:18px/1.4 'DejaVu Sans',Verdana,sans-serif;margin:1.2em;"
    "color:#111;background:#fff}\n"
    "h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.25em;margin:1.2em 0 .4em}\n"
    "p.note{color:#444;margin:.3em 0}\n"
    ".tablewrap{overflow-x:auto;border:1px solid #ccc}\n"
    "table{border-collapse:collapse}\n"
    "th,td{border:1px solid #c8c8c8;padding:.25em .5em;vertical-align:top;"
    "text-align:left}\n"
    "th{background:#eee;white-space:nowrap}\n"
    "td.line{color:#666;text-align:right}\n"
    "td.step{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;"
    "white-space:nowrap}\n"
    "td.out{white-space:nowrap}\n"
    "td.ok{color:#145214}td.err{color:#8a1f11;font-weight:bold}"
    "td.skip{color:#aaa}\n"
    "tr.diff td{background:#fff1c9}tr.diff td.step{font-weight:bold}\n"
    "td.bad{outline:3px solid #c00;outline-offset:-3px}\n"
    ".why{display:none;font-size:.72em;color:#333;font-weight:normal;"
    "white-space:normal;max-width:26em}\n"
    "#why:checked~.tablewrap .why{display:block}\n"
    "label.toggle{display:inline-block;margin:.4em 0;font-size:.9em}\n"
    ".drawings{display:grid;grid-template-columns:repeat(auto-fill,"
    "minmax(640px,1fr));gap:1em}\n"
    "figure{margin:0;border:1px solid #ccc;overflow:auto;max-height:92vh}\n"
    "figcaption{font-weight:bold;padding:.3em .5em;background:#eee;"
    "position:sticky;top:0;left:0}\n"
    "figure svg{display:block;width:100%;height:auto}\n"
    "@media print{body{font-size:10pt;margin:0}"
    ".tablewrap{overflow:visible;border:0}"
    "input,label.toggle{display:none}"
    "tr.diff .why{display:block}"
    "tr{break-inside:avoid}"
    ".drawings{display:block}"
    "figure{break-before:page;max-height:none;overflow:visible;border:0}"
    "figcaption{position:static}}\n"
    "</style>\n";

/* The drawing of one profile, inlined: without its XML declaration, its
 * marker ids made unique in the page. */
static void inline_svg(scn_buf *o, const char *svg, size_t k)
{
    const char *p = svg;
    if (strncmp(p, "<?xml", 5) == 0) {
        p = strchr(p, '\n');
        p = p ? p + 1 : svg;
    }
    static const char *const from[] = {"id=\"ahr\"", "id=\"ah\"", "url(#ahr)",
                                       "url(#ah)"};
    while (*p) {
        size_t m = 0;
        while (m < 4 && strncmp(p, from[m], strlen(from[m])) != 0)
            m++;
        if (m == 4) {
            scn_buf_add(o, p, 1);
            p++;
            continue;
        }
        const char *name = m == 0 || m == 2 ? "ahr" : "ah";
        if (m < 2)
            scn_buf_printf(o, "id=\"%s%zu\"", name, k);
        else
            scn_buf_printf(o, "url(#%s%zu)", name, k);
        p += strlen(from[m]);
    }
}

static void table(scn_buf *o, const scn_result *r)
{
    scn_buf_puts(o, "<input type=\"checkbox\" id=\"why\">"
                    "<label class=\"toggle\" for=\"why\"> show the rule "
                    "behind every outcome (hover a cell to see one)</label>\n"
                    "<div class=\"tablewrap\"><table>\n<thead><tr><th>line</th>"
                    "<th>step</th>");
    for (size_t j = 0; j < r->n_profiles; j++) {
        scn_buf_puts(o, "<th>");
        esc(o, r->cols[j].name);
        scn_buf_puts(o, "</th>");
    }
    scn_buf_puts(o, "</tr></thead>\n<tbody>\n");
    scn_buf t = {0}, why = {0};
    for (size_t i = 0; i < r->n_rows; i++) {
        const scn_row *row = &r->rows[i];
        scn_buf_printf(o, "<tr%s><td class=\"line\">%u</td><td class=\"step\">",
                       row_differs(r, i) ? " class=\"diff\"" : "", row->st->line);
        esc(o, row->st->text ? row->st->text : "");
        scn_buf_puts(o, "</td>");
        for (size_t j = 0; j < r->n_profiles; j++) {
            const scn_cell *c = &row->cells[j];
            t.len = 0;
            why.len = 0;
            scn_cell_text(r, j, c, &t);
            scn_cell_why(c, &why);
            const char *s = t.s ? t.s : "";
            const char *kind = c->kind == SCN_CELL_SKIPPED ? "skip"
                               : strncmp(s, "ok", 2) == 0 ? "ok"
                               : c->kind == SCN_CELL_CHECK ? "ok" : "err";
            bool bad = c->has_expectation && !c->met;
            scn_buf_printf(o, "<td class=\"out %s%s\"", kind, bad ? " bad" : "");
            if (why.len) {
                scn_buf_puts(o, " title=\"");
                esc(o, why.s);
                scn_buf_puts(o, "\"");
            }
            scn_buf_puts(o, ">");
            esc(o, s);
            if (bad && c->expected) {
                scn_buf_puts(o, " <small>(expected ");
                esc(o, c->expected);
                scn_buf_puts(o, ")</small>");
            }
            if (why.len) {
                scn_buf_puts(o, "<span class=\"why\">");
                esc(o, why.s);
                scn_buf_puts(o, "</span>");
            }
            scn_buf_puts(o, "</td>");
        }
        scn_buf_puts(o, "</tr>\n");
    }
    scn_buf_free(&t);
    scn_buf_free(&why);
    scn_buf_puts(o, "</tbody></table></div>\n");
}

static int html_write(const char *path, const scn_result *r, scn_svg *s, char *err,
                      size_t errlen)
{
    scn_buf o = {0};
    const char *name = r->file->path ? r->file->path : "-";
    scn_buf_puts(&o, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
                     "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
                     "content=\"width=device-width,initial-scale=1\">\n<title>");
    esc(&o, name);
    scn_buf_puts(&o, " \xe2\x80\x94 sockmodel</title>\n");
    scn_buf_puts(&o, style);
    scn_buf_puts(&o, "</head><body>\n<h1>");
    esc(&o, name);
    scn_buf_puts(&o, "</h1>\n");
    size_t differ = 0;
    for (size_t i = 0; i < r->n_rows; i++)
        differ += row_differs(r, i);
    scn_buf_printf(&o, "<p class=\"note\">%zu step%s under %zu profile%s; "
                       "highlighted: the %zu step%s where the profiles "
                       "disagree. A framed cell did not meet its "
                       "expectation (%zu met, %zu not met).</p>\n",
                   r->n_rows, r->n_rows == 1 ? "" : "s", r->n_profiles,
                   r->n_profiles == 1 ? "" : "s", differ, differ == 1 ? "" : "s",
                   r->passed, r->failed);
    scn_buf_puts(&o, "<h2>Outcomes</h2>\n");
    table(&o, r);
    scn_buf_puts(&o, "<h2>The runs drawn</h2>\n<p class=\"note\">Time runs "
                     "down; arrows are segments, ending at the socket the "
                     "model delivered them to; a red dashed arrow is a "
                     "refused bind, pointing at the socket it clashed "
                     "with.</p>\n<div class=\"drawings\">\n");
    for (size_t j = 0; j < r->n_profiles; j++) {
        scn_buf svg = {0};
        /* a column with no model world (host) has no drawing */
        if (!r->cols[j].backend->no_world &&
            scn_svg_draw(s, r, r->cols[j].profile, &svg)) {
            scn_buf_puts(&o, "<figure><figcaption>");
            esc(&o, r->cols[j].name);
            scn_buf_puts(&o, "</figcaption>\n");
            inline_svg(&o, svg.s ? svg.s : "", j);
            scn_buf_puts(&o, "</figure>\n");
        }
        scn_buf_free(&svg);
    }
    scn_buf_puts(&o, "</div>\n</body></html>\n");

    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(o.s, 1, o.len, f) == o.len;
    if (f)
        ok = fclose(f) == 0 && ok;
    scn_buf_free(&o);
    if (!ok) {
        if (errlen)
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

typedef struct html_args {
    const char *path;
    const scn_result *r;
    scn_svg *s;
    char *err;
    size_t errlen;
    int rc;
} html_args;

static void guarded_write(void *ctx)
{
    html_args *a = ctx;
    a->rc = html_write(a->path, a->r, a->s, a->err, a->errlen);
}

/* Under the program's recovery point, or its own (scn__guarded): out of
 * memory is then an error like a failed write. */
int scn_html_write(const char *path, const scn_result *r, scn_svg *s, char *err,
                   size_t errlen)
{
    html_args a = {path, r, s, err, errlen, 0};
    if (!scn__guarded(guarded_write, &a)) {
        if (errlen)
            snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    return a.rc;
}
