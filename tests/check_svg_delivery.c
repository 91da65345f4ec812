/*
 * check_svg_delivery.c - the drawing never contradicts the engine: every
 * segment arrow of `run --svg` ends at the socket the engine delivered the
 * segment to.
 *
 * For each scenario below and each profile, the run is drawn while this
 * test records the engine's own deliveries (sm_world_set_delivery_tap,
 * passed on by the drawing); the SVG is then read back: the column heads
 * give each column's centre and name, the arrows (in the order sent) their
 * end points.  The column an arrow ends at must be the one named as the
 * engine names the receiving socket ("(stack)" when no socket took it,
 * "(nowhere)" for an address no host has).  The two teaching lessons also
 * check their point: under windows-classic the client's SYN ends at the
 * thief, under windows at the victim; under linux the six SYNs of
 * reuseport-spread reach both listeners.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scn.h"
#include "sm.h"
#include "svg_out.h"

#define HALF 50 /* half a state band: where an arrow meets a socket column */
#define PSEUDO 4 /* where it meets a (stack) / (nowhere) column */

typedef struct rec {
    uint32_t no;
    sm_id to;
    char name[96];
} rec;

typedef struct obs {
    scn_svg *svg;
    rec *r;
    size_t n, cap;
    size_t sent, nowhere;
    uint32_t *nowhere_no;
} obs;

static void on_sent(void *ctx, const sm_segment *g)
{
    obs *o = ctx;
    o->sent++;
    if (g->dst_host == SM_NONE) {
        o->nowhere_no = realloc(o->nowhere_no, (o->nowhere + 1) * sizeof *o->nowhere_no);
        o->nowhere_no[o->nowhere++] = g->no;
    }
}

static void on_delivered(void *ctx, const sm_segment *g, sm_id to)
{
    obs *o = ctx;
    if (o->n == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 64;
        o->r = realloc(o->r, o->cap * sizeof *o->r);
    }
    o->r[o->n].no = g->no;
    o->r[o->n].to = to;
    o->r[o->n].name[0] = '\0';
    o->n++;
}

static void h_created(void *ctx, sm_world *w, const sm_profile *p)
{
    obs *o = ctx;
    scn_svg_world_created(o->svg, w, p, on_sent, o);
}

static void h_done(void *ctx, sm_world *w, const sm_profile *p)
{
    obs *o = ctx;
    /* The engine's names as they are at the end (an accepted socket is
     * named by accept, as the drawing names its column). */
    for (size_t i = 0; i < o->n; i++)
        snprintf(o->r[i].name, sizeof o->r[i].name, "%s",
                 o->r[i].to == SM_NONE ? "(stack)" : sm_sock_name(w, o->r[i].to));
    scn_svg_world_done(o->svg, w, p);
}

static void h_step(void *ctx, sm_world *w, const sm_profile *p, const scn_stmt *st,
                   const scn_cell *cell, const sm_id *socks, size_t n)
{
    obs *o = ctx;
    scn_svg_step_done(o->svg, w, p, st, cell, socks, n);
}

typedef struct col {
    long x;
    char name[96];
    bool pseudo;
} col;

/* What the drawing shows: its columns and, in order, each arrow's end. */
typedef struct drawing {
    col *c;
    size_t nc;
    long *end_x;
    bool *end_left; /* the arrow comes from the right */
    bool *loop;
    size_t na;
} drawing;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    ck_assert(fread(s, 1, (size_t)n, f) == (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static void read_drawing(const char *path, drawing *d)
{
    memset(d, 0, sizeof *d);
    char *text = slurp(path);
    size_t cap = 0, acap = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        long x, y, x1, y1, x2, y2;
        int off = 0;
        bool head = sscanf(line, "<text x=\"%ld\" y=\"%ld\" font-weight=\"bold\" "
                                 "text-anchor=\"middle\" class=\"mono\">%n", &x, &y, &off) == 2 && off;
        bool pseudo = !head && sscanf(line, "<text x=\"%ld\" y=\"%ld\" fill=\"#666\" "
                                            "text-anchor=\"middle\">%n", &x, &y, &off) == 2 && off;
        if (head || pseudo) {
            char *end = strstr(line + off, "</text>");
            if (!end)
                continue;
            if (d->nc == cap) {
                cap = cap ? 2 * cap : 16;
                d->c = realloc(d->c, cap * sizeof *d->c);
            }
            col *c = &d->c[d->nc++];
            c->x = x;
            c->pseudo = pseudo;
            snprintf(c->name, sizeof c->name, "%.*s", (int)(end - (line + off)), line + off);
            continue;
        }
        if (!strstr(line, "marker-end") || strstr(line, "class=\"conflict\""))
            continue; /* not a segment (a refused bind's arrow) */
        bool loop = false;
        if (sscanf(line, "<line x1=\"%ld\" y1=\"%ld\" x2=\"%ld\" y2=\"%ld\"", &x1, &y1, &x2, &y2) != 4) {
            long c1, c2, c3, c4;
            if (sscanf(line, "<path d=\"M%ld,%ld C%ld,%ld %ld,%ld %ld,%ld\"", &x1, &y1, &c1, &c2,
                       &c3, &c4, &x2, &y2) != 8)
                continue;
            loop = true;
        }
        if (d->na == acap) {
            acap = acap ? 2 * acap : 64;
            d->end_x = realloc(d->end_x, acap * sizeof *d->end_x);
            d->end_left = realloc(d->end_left, acap * sizeof *d->end_left);
            d->loop = realloc(d->loop, acap * sizeof *d->loop);
        }
        d->end_x[d->na] = x2;
        d->end_left[d->na] = x2 < x1;
        d->loop[d->na++] = loop;
    }
    free(text);
}

/* The column arrow k ends at, or NULL. */
static const col *arrow_column(const drawing *d, size_t k)
{
    for (size_t i = 0; i < d->nc; i++) {
        const col *c = &d->c[i];
        long half = c->pseudo ? PSEUDO : HALF;
        long centre = d->loop[k] ? d->end_x[k] - HALF
                      : d->end_left[k] ? d->end_x[k] - half : d->end_x[k] + half;
        if (c->x == centre)
            return c;
    }
    return NULL;
}

static void drawing_free(drawing *d)
{
    free(d->c);
    free(d->end_x);
    free(d->end_left);
    free(d->loop);
}

/* Runs scenario rel under profile p with the drawing and checks every
 * arrow; the drawing and the record are left in *d and *o. */
static void draw_and_check(const char *rel, const sm_profile *p, drawing *d, obs *o)
{
    const char *dir = getenv("SCENARIO_DIR");
    char path[1024], svg[64];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "scenarios", rel);
    snprintf(svg, sizeof svg, "check_svg_delivery.%d.svg", (int)getpid());
    scn_file *f = NULL;
    scn_parse_path(path, stderr, &f);
    ck_assert_msg(f != NULL, "cannot parse %s", path);
    scn_arena arena = {0};
    scn_patlist only;
    scn_buf err = {0};
    ck_assert(scn_patlist_parse_arg(&arena, sm_profile_name(p), &only, &err));
    const char *paths[1] = {svg};
    char e[256];
    memset(o, 0, sizeof *o);
    o->svg = scn_svg_new(f, &p, paths, 1, e, sizeof e);
    ck_assert_msg(o->svg != NULL, "%s", e);
    scn_svg_chain_delivery(o->svg, on_delivered, o);
    scn_hooks hooks = {h_created, h_done, h_step, o};
    scn_result *r = scn_run_file_hooks(f, &only, 1, &hooks);
    ck_assert(scn_svg_write(o->svg, r, e, sizeof e) == 0);
    scn_svg_free(o->svg);
    scn_result_free(r);
    scn_file_free(f);
    scn_arena_free(&arena);
    scn_buf_free(&err);

    read_drawing(svg, d);
    remove(svg);
    ck_assert_msg(d->na == o->sent, "%s under %s: %zu arrows for %zu segments", rel,
                  sm_profile_name(p), d->na, o->sent);
    /* Arrow k is segment number k + 1; no segment is delivered twice here. */
    for (size_t i = 0; i < o->n; i++) {
        size_t k = o->r[i].no - 1;
        ck_assert(k < d->na);
        const col *c = arrow_column(d, k);
        ck_assert_msg(c != NULL, "%s under %s: segment %u ends at no column", rel,
                      sm_profile_name(p), o->r[i].no);
        ck_assert_msg(strcmp(c->name, o->r[i].name) == 0,
                      "%s under %s: segment %u drawn into %s, delivered to %s", rel,
                      sm_profile_name(p), o->r[i].no, c->name, o->r[i].name);
    }
    for (size_t i = 0; i < o->nowhere; i++) {
        const col *c = arrow_column(d, o->nowhere_no[i] - 1);
        ck_assert(c != NULL && strcmp(c->name, "(nowhere)") == 0);
    }
}

static void obs_free(obs *o)
{
    free(o->r);
    free(o->nowhere_no);
}

static const char *const scenarios[] = {
    "teaching/port-hijack.scn", "teaching/reuseport-spread.scn", "tcp/close-orders.scn",
    "replay/reuse.scn", "teaching/server-cannot-rebind.scn",
};

START_TEST(every_arrow_ends_at_the_receiver)
{
    size_t checked = 0;
    for (size_t s = 0; s < sizeof scenarios / sizeof scenarios[0]; s++)
        for (size_t i = 0; i < sm_profile_count(); i++) {
            const sm_profile *p = sm_profile_at(i);
            if (strcmp(sm_profile_name(p), "host") == 0)
                continue;
            drawing d;
            obs o;
            draw_and_check(scenarios[s], p, &d, &o);
            checked += o.n;
            drawing_free(&d);
            obs_free(&o);
        }
    ck_assert_uint_gt(checked, 100);
}
END_TEST

/* Segments delivered to socket name and drawn into its column. */
static size_t syns_into(const char *rel, const char *profile, const char *name)
{
    drawing d;
    obs o;
    draw_and_check(rel, sm_profile_find(profile), &d, &o);
    /* Deliveries the engine made to the socket called name that the
     * drawing ends in its column (for a listener: the SYNs it took). */
    size_t n = 0;
    for (size_t i = 0; i < o.n; i++)
        if (strcmp(o.r[i].name, name) == 0) {
            const col *c = arrow_column(&d, o.r[i].no - 1);
            n += c && strcmp(c->name, name) == 0;
        }
    drawing_free(&d);
    obs_free(&o);
    return n;
}

START_TEST(hijack_lesson)
{
    /* windows-classic: the thief's specific bind takes the connection. */
    ck_assert_uint_gt(syns_into("teaching/port-hijack.scn", "windows-classic", "evil"), 0);
    ck_assert_uint_eq(syns_into("teaching/port-hijack.scn", "windows-classic", "srv"), 0);
    /* windows: the thief's bind was refused; the victim gets it. */
    ck_assert_uint_eq(syns_into("teaching/port-hijack.scn", "windows", "evil"), 0);
    ck_assert_uint_gt(syns_into("teaching/port-hijack.scn", "windows", "srv"), 0);
}
END_TEST

START_TEST(reuseport_lesson)
{
    /* linux: both listeners receive SYNs (3 each with the default seed). */
    ck_assert_uint_eq(syns_into("teaching/reuseport-spread.scn", "linux", "g1"), 3);
    ck_assert_uint_eq(syns_into("teaching/reuseport-spread.scn", "linux", "g2"), 3);
    /* linux-3.8: g2 never bound; all six go to g1. */
    ck_assert_uint_eq(syns_into("teaching/reuseport-spread.scn", "linux-3.8", "g1"), 6);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("svg_delivery");
    TCase *tc = tcase_create("delivery");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_arrow_ends_at_the_receiver);
    tcase_add_test(tc, hijack_lesson);
    tcase_add_test(tc, reuseport_lesson);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
