/*
 * web/playground.c - the entry points of the browser playground (compiled
 * to WebAssembly by web/build-wasm.sh): run a scenario given as text under
 * a list of profiles and keep what `sockmodel run` would show for it -- the
 * table, the --explain table and one SVG drawing per profile -- for the
 * page's script to read.
 *
 * Nothing is modelled here: the scenario library (scenario/scn.h) parses
 * and runs, the render library (render/svg_out.h) draws.  The outputs live
 * in this module until the next pg_run().  Out of memory comes back here
 * (scn_oom_point) and is reported as status 2 with a message, as the
 * program does.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn.h"
#include "scn_backend.h"
#include "sm.h"
#include "svg_out.h"

/* What the last run left for the page. */
static struct pg_out {
    scn_buf table, explain, errors;
    size_t n_svg;
    char **svg_name, **svg;
} out;

static scn_buf profiles_text;

static void pg_clear(void)
{
    scn_buf_free(&out.table);
    scn_buf_free(&out.explain);
    scn_buf_free(&out.errors);
    for (size_t i = 0; i < out.n_svg; i++) {
        free(out.svg_name[i]);
        free(out.svg[i]);
    }
    free(out.svg_name);
    free(out.svg);
    memset(&out, 0, sizeof out);
}

/* The bytes a FILE * written by the report functions collected. */
static void pg_report(scn_buf *b, const scn_result *r, bool explain)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    if (!f) {
        scn_buf_puts(b, "playground: cannot open a memory stream\n");
        return;
    }
    scn_report_text(f, r, explain);
    scn_report_totals(f, r->passed, r->failed);
    fclose(f);
    scn_buf_add(b, s, n);
    free(s);
}

static void hook_created(void *ctx, sm_world *w, const sm_profile *p)
{
    scn_svg_world_created(ctx, w, p, NULL, NULL);
}

static void hook_step(void *ctx, sm_world *w, const sm_profile *p,
                      const scn_stmt *st, const scn_cell *cell,
                      const sm_id *socks, size_t n_socks)
{
    scn_svg_step_done(ctx, w, p, st, cell, socks, n_socks);
}

static void hook_done(void *ctx, sm_world *w, const sm_profile *p)
{
    scn_svg_world_done(ctx, w, p);
}

/* Parses with the run's file name; parse errors go to out.errors. */
static scn_file *pg_parse(const char *text)
{
    char *s = NULL;
    size_t n = 0;
    scn_file *f = NULL;
    FILE *errs = open_memstream(&s, &n);
    scn_parse_buffer("playground.scn", text, strlen(text), errs, &f);
    if (errs)
        fclose(errs);
    if (s)
        scn_buf_add(&out.errors, s, n);
    free(s);
    return f;
}

static jmp_buf oom;

/* Runs TEXT under PROFILES (a --profile argument; "" or NULL: the file's
 * profile line, else every model).  Returns the status `sockmodel run`
 * would: 0 every expectation met, 1 one not met, 2 an error (pg_errors()
 * says which). */
int pg_run(const char *text, const char *profiles, unsigned seed)
{
    /* volatile: set before and read after a longjmp back here */
    scn_file *volatile f = NULL;
    scn_result *volatile r = NULL;
    scn_svg *volatile s = NULL;
    scn_column *volatile cols = NULL;
    const sm_profile **volatile drawn = NULL;
    scn_arena arena = {0};
    int status = 2;

    pg_clear();
    if (setjmp(oom)) {
        scn_buf_puts(&out.errors, "sockmodel: error: out of memory\n");
        goto done;
    }
    scn_oom_point(&oom);
    f = pg_parse(text);
    if (!f)
        goto done;
    scn_patlist pl, *override = NULL;
    if (profiles && *profiles) {
        scn_buf err = {0};
        if (!scn_patlist_parse_arg(&arena, profiles, &pl, &err)) {
            scn_buf_printf(&out.errors, "sockmodel: error: %s\n",
                           err.s ? err.s : "bad --profile");
            scn_buf_free(&err);
            goto done;
        }
        override = &pl;
    }
    scn_column *c;
    size_t n = scn_select_columns(f, override, &c), k = 0;
    cols = c;
    drawn = scn_xmalloc((n + 1) * sizeof *drawn);
    for (size_t i = 0; i < n; i++)
        if (!cols[i].backend->no_world)
            drawn[k++] = cols[i].profile;
    char err[512];
    s = scn_svg_new(f, drawn, NULL, k, err, sizeof err);
    if (!s) {
        scn_buf_printf(&out.errors, "sockmodel: error: %s\n", err);
        goto done;
    }
    scn_hooks hooks = {hook_created, hook_done, hook_step, s};
    r = scn_run_file_hooks(f, override, seed, &hooks);
    if (r->status == 2) {
        scn_buf_printf(&out.errors, "sockmodel: error: %s\n", r->error);
        goto done;
    }
    pg_report(&out.table, r, false);
    pg_report(&out.explain, r, true);
    out.svg_name = scn_xmalloc((k + 1) * sizeof *out.svg_name);
    out.svg = scn_xmalloc((k + 1) * sizeof *out.svg);
    for (size_t i = 0; i < k; i++) {
        scn_buf b = {0};
        if (!scn_svg_draw(s, r, drawn[i], &b))
            continue;
        const char *name = sm_profile_name(drawn[i]);
        out.svg_name[out.n_svg] = scn_xmalloc(strlen(name) + 1);
        strcpy(out.svg_name[out.n_svg], name);
        scn_buf_add(&b, "", 0); /* allocated and NUL-terminated even when empty */
        out.svg[out.n_svg++] = b.s;
    }
    status = r->failed ? 1 : 0;
done:
    scn_oom_point(NULL);
    if (r)
        scn_result_free(r);
    scn_svg_free(s);
    free(drawn);
    free(cols);
    scn_arena_free(&arena);
    if (f)
        scn_file_free(f);
    return status;
}

static const char *pg_text(const scn_buf *b) { return b->s ? b->s : ""; }

const char *pg_table(void) { return pg_text(&out.table); }
const char *pg_explain(void) { return pg_text(&out.explain); }
const char *pg_errors(void) { return pg_text(&out.errors); }
size_t pg_svg_count(void) { return out.n_svg; }
const char *pg_svg_name(size_t i) { return i < out.n_svg ? out.svg_name[i] : ""; }
const char *pg_svg(size_t i) { return i < out.n_svg ? out.svg[i] : ""; }

/* Every model profile, one "NAME\tSUMMARY" a line (the page's picker). */
const char *pg_profiles(void)
{
    if (!profiles_text.s)
        for (size_t i = 0; i < sm_profile_count(); i++) {
            const sm_profile *p = sm_profile_at(i);
            scn_buf_printf(&profiles_text, "%s\t%s\n", sm_profile_name(p),
                           sm_profile_summary(p));
        }
    return pg_text(&profiles_text);
}
