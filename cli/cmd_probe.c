/*
 * cmd_probe.c - `sockmodel probe` (issue 4): the bind matrix a user would
 * otherwise write a test program for.  Two sockets on one port: protocol
 * (tcp, udp) x reuse options on the first and on the second socket (none,
 * SO_REUSEADDR, SO_REUSEPORT, both) x a pair of addresses (wildcard or
 * specific, same or different, IPv4, IPv6, dual-stack, V6ONLY, v4-mapped)
 * x the first socket bound or listening (TCP).  Each cell is the outcome of
 * the second socket's bind, under every selected profile side by side: the
 * models, and the real kernel (`host`, in a private network namespace).
 *
 * All cells are one scenario, each cell on its own port, run once under
 * all profiles (so the host profile needs one namespace).
 *
 *   sockmodel probe [--markdown | --json] [--full] [--other-user] [--profile PATTERNS]
 *
 * --json writes format sockmodel-probe/1 (docs/schema/sockmodel-probe-1.schema.json).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "scn.h"
#include "smu_text.h"

static const char usage[] =
    "usage: sockmodel probe [--markdown | --json] [--full] [--other-user] [--profile PATTERNS]\n"
    "\n"
    "The outcome of binding a second socket to the port of a first one, for\n"
    "each protocol, reuse options on each socket, pair of addresses, and\n"
    "the first socket bound or listening; one column per profile.\n"
    "  --markdown     a Markdown table instead of text\n"
    "  --json         one JSON document instead of text (format sockmodel-probe/1)\n"
    "  --full         all 16 option pairs (default: 8 of them)\n"
    "  --other-user   the second socket belongs to another user\n"
    "  --profile P    the profiles (default: every model, and host when root;\n"
    "                 name `host` to add the real kernel: --profile all,host)\n";

/* Reuse options of one socket. */
enum { O_NONE, O_RA, O_RP, O_BOTH };
static const char *const opt_name[] = {"-", "RA", "RP", "RA+RP"};

/* The default, readable subset of option pairs (first, second). */
static const int subset[][2] = {
    {O_NONE, O_NONE}, {O_NONE, O_RA}, {O_RA, O_NONE}, {O_RA, O_RA},
    {O_NONE, O_RP},   {O_RP, O_NONE}, {O_RP, O_RP},   {O_BOTH, O_BOTH},
};

/* Address pairs: family and address of each socket; v6only: set
 * IPV6_V6ONLY 1 on the first socket. */
typedef struct apair {
    int fam1;
    const char *a1;
    bool v6only;
    int fam2;
    const char *a2;
    const char *what;
} apair;

static const apair pairs[] = {
    {4, "0.0.0.0", false, 4, "0.0.0.0", "same wildcard"},
    {4, "0.0.0.0", false, 4, "127.0.0.1", "wildcard, then specific"},
    {4, "127.0.0.1", false, 4, "0.0.0.0", "specific, then wildcard"},
    {4, "127.0.0.1", false, 4, "127.0.0.1", "same specific"},
    {4, "127.0.0.1", false, 4, "192.0.2.1", "different specific"},
    {6, "::", false, 6, "::", "same wildcard (v6)"},
    {6, "::1", false, 6, "::1", "same specific (v6)"},
    {6, "::", false, 4, "0.0.0.0", "dual-stack [::], then v4 wildcard"},
    {4, "0.0.0.0", false, 6, "::", "v4 wildcard, then [::]"},
    {6, "::", true, 4, "0.0.0.0", "V6ONLY [::], then v4 wildcard"},
    {6, "::ffff:127.0.0.1", false, 4, "127.0.0.1", "v4-mapped, then same v4"},
};
#define N_PAIRS (sizeof pairs / sizeof pairs[0])

typedef struct pcell {
    bool tcp, listening;
    int o1, o2;
    size_t pair;
    size_t first_row;  /* rows of the first bind, and of the second */
    size_t second_row;
    size_t opt_rows[8]; /* setsockopt rows (both sockets) */
    size_t n_opt;
    size_t listen_row;
} pcell;

typedef struct probe {
    scn_buf text;
    size_t rows;
    pcell *cells;
    size_t n;
} probe;

static void step(probe *p, const char *s)
{
    scn_buf_puts(&p->text, s);
    scn_buf_puts(&p->text, "\n");
    p->rows++;
}

static void ep(char *buf, size_t n, int fam, const char *a, unsigned port)
{
    if (fam == 4)
        snprintf(buf, n, "%s:%u", a, port);
    else
        snprintf(buf, n, "[%s]:%u", a, port);
}

static void options(probe *p, pcell *c, const char *name, int o)
{
    char b[96];
    if (o == O_RA || o == O_BOTH) {
        snprintf(b, sizeof b, "setsockopt %s SO_REUSEADDR 1", name);
        c->opt_rows[c->n_opt++] = p->rows;
        step(p, b);
    }
    if (o == O_RP || o == O_BOTH) {
        snprintf(b, sizeof b, "setsockopt %s SO_REUSEPORT 1", name);
        c->opt_rows[c->n_opt++] = p->rows;
        step(p, b);
    }
}

/* Writes the statements of cell C on PORT. */
static void emit(probe *p, pcell *c, unsigned port, bool other_user)
{
    const apair *a = &pairs[c->pair];
    const char *proto = c->tcp ? "tcp" : "udp";
    char b[128], e[80], n1[32], n2[32];
    snprintf(n1, sizeof n1, "f%u", port);
    snprintf(n2, sizeof n2, "s%u", port);
    if (other_user)
        scn_buf_puts(&p->text, "as alice\n");
    snprintf(b, sizeof b, "%s = socket %s%d", n1, proto, a->fam1);
    step(p, b);
    if (a->v6only) {
        snprintf(b, sizeof b, "setsockopt %s IPV6_V6ONLY 1", n1);
        c->opt_rows[c->n_opt++] = p->rows;
        step(p, b);
    }
    options(p, c, n1, c->o1);
    ep(e, sizeof e, a->fam1, a->a1, port);
    snprintf(b, sizeof b, "bind %s %s", n1, e);
    c->first_row = p->rows;
    step(p, b);
    c->listen_row = (size_t)-1;
    if (c->listening) {
        snprintf(b, sizeof b, "listen %s", n1);
        c->listen_row = p->rows;
        step(p, b);
    }
    if (other_user)
        scn_buf_puts(&p->text, "as bob\n");
    snprintf(b, sizeof b, "%s = socket %s%d", n2, proto, a->fam2);
    step(p, b);
    options(p, c, n2, c->o2);
    ep(e, sizeof e, a->fam2, a->a2, port);
    snprintf(b, sizeof b, "bind %s %s", n2, e);
    c->second_row = p->rows;
    step(p, b);
}

static void build(probe *p, bool full, bool other_user)
{
    size_t npairs = full ? 16 : sizeof subset / sizeof subset[0];
    size_t max = 3 * npairs * N_PAIRS;
    p->cells = scn_xmalloc(max * sizeof *p->cells);
    memset(p->cells, 0, max * sizeof *p->cells);
    scn_buf_puts(&p->text, "# sockmodel probe: one cell per port\n");
    for (int kind = 0; kind < 3; kind++) { /* tcp bound, tcp listening, udp */
        for (size_t op = 0; op < npairs; op++) {
            for (size_t ap = 0; ap < N_PAIRS; ap++) {
                pcell *c = &p->cells[p->n];
                c->tcp = kind < 2;
                c->listening = kind == 1;
                c->o1 = full ? (int)(op / 4) : subset[op][0];
                c->o2 = full ? (int)(op % 4) : subset[op][1];
                c->pair = ap;
                emit(p, c, 20000u + (unsigned)p->n, other_user);
                p->n++;
            }
        }
    }
}

/* The cell text of profile J for probe cell C: the outcome of the second
 * bind; "*" when an option was refused (the OS lacks it); "(first: E)"
 * when the first socket could not be put in place. */
static void cell_text(const scn_result *r, const pcell *c, size_t j, scn_buf *b)
{
    b->len = 0;
    const scn_cell *first = &r->rows[c->first_row].cells[j];
    const scn_cell *lis = c->listen_row != (size_t)-1 ? &r->rows[c->listen_row].cells[j]
                                                      : NULL;
    if (first->kind != SCN_CELL_CALL) {
        scn_buf_puts(b, "?");
        return;
    }
    if (first->r.err != SM_OK || (lis && lis->kind == SCN_CELL_CALL && lis->r.err)) {
        scn_buf_printf(b, "(first: %s)",
                       sm_err_name(first->r.err != SM_OK ? first->r.err : lis->r.err));
        return;
    }
    const scn_cell *second = &r->rows[c->second_row].cells[j];
    if (second->kind != SCN_CELL_CALL) {
        scn_buf_puts(b, second->kind == SCN_CELL_SKIPPED ? "-" : "error");
        return;
    }
    scn_buf_puts(b, sm_err_name(second->r.err));
    for (size_t k = 0; k < c->n_opt; k++) {
        const scn_cell *o = &r->rows[c->opt_rows[k]].cells[j];
        if (o->kind == SCN_CELL_CALL && o->r.err != SM_OK) {
            scn_buf_puts(b, "*");
            break;
        }
    }
}

static long profile_index(const scn_result *r, const char *name)
{
    for (size_t j = 0; j < r->n_profiles; j++)
        if (strcmp(r->cols[j].name, name) == 0)
            return (long)j;
    return -1;
}

static void print(const probe *p, const scn_result *r, bool md, bool other_user, FILE *out)
{
    static const char *const head[] = {"proto", "first", "second", "first is",
                                       "options"};
    size_t nh = 5, np = r->n_profiles, ncol = nh + np + 1;
    long li = profile_index(r, "linux"), hi = profile_index(r, "host");
    /* all texts first, for the widths */
    size_t ntext = (p->n + 1) * ncol;
    char **t = scn_xmalloc(ntext * sizeof *t);
    size_t *w = scn_xmalloc(ncol * sizeof *w);
    memset(w, 0, ncol * sizeof *w);
    scn_buf b = {0}, e = {0};
    for (size_t k = 0; k < ncol; k++) {
        const char *h = k < nh ? head[k] : k < nh + np ? r->cols[k - nh].name
                                                     : "note";
        t[k] = strdup(h);
    }
    size_t ndiff = 0;
    for (size_t i = 0; i < p->n; i++) {
        const pcell *c = &p->cells[i];
        const apair *a = &pairs[c->pair];
        char **row = t + (i + 1) * ncol;
        row[0] = strdup(c->tcp ? "tcp" : "udp");
        b.len = 0;
        scn_buf_printf(&b, "%s%s%s%s", a->fam1 == 6 ? "[" : "", a->a1, a->fam1 == 6 ? "]" : "",
                       a->v6only ? " v6only" : "");
        row[1] = strdup(b.s);
        b.len = 0;
        scn_buf_printf(&b, "%s%s%s", a->fam2 == 6 ? "[" : "", a->a2, a->fam2 == 6 ? "]" : "");
        row[2] = strdup(b.s);
        row[3] = strdup(c->listening ? "listening" : "bound");
        b.len = 0;
        scn_buf_printf(&b, "%s / %s", opt_name[c->o1], opt_name[c->o2]);
        row[4] = strdup(b.s);
        for (size_t j = 0; j < np; j++) {
            cell_text(r, c, j, &b);
            row[nh + j] = strdup(b.s ? b.s : "");
        }
        const char *note = "";
        if (li >= 0 && hi >= 0) {
            cell_text(r, c, (size_t)li, &b);
            cell_text(r, c, (size_t)hi, &e);
            if (strcmp(b.s, e.s) != 0) {
                note = "host differs from linux";
                ndiff++;
            }
        }
        row[ncol - 1] = strdup(note);
    }
    for (size_t i = 0; i < ntext; i++) {
        if (!t[i]) {
            fputs("sockmodel: error: out of memory\n", stderr);
            exit(2);
        }
        size_t len = strlen(t[i]);
        if (len > w[i % ncol])
            w[i % ncol] = len;
    }
    bool has_note = li >= 0 && hi >= 0;
    size_t shown = has_note ? ncol : ncol - 1;
    fprintf(out, "Binding a second socket to the port of a first one%s: the outcome "
                 "of the second bind.\n",
            other_user ? " (the second belongs to another user)" : "");
    fprintf(out, "Options: RA = SO_REUSEADDR, RP = SO_REUSEPORT, set before bind, on "
                 "the first / the second socket; * = the OS refused an option "
                 "(it lacks it); (first: E) = the first socket could not be "
                 "put in place.\n\n");
    for (size_t i = 0; i <= p->n; i++) {
        char **row = t + i * ncol;
        if (md) {
            fputs("|", out);
            for (size_t k = 0; k < shown; k++) {
                bool bold = k == ncol - 1 && row[k][0] && i > 0;
                fprintf(out, " %s%s%s |", bold ? "**" : "", row[k], bold ? "**" : "");
            }
            fputs("\n", out);
            if (i == 0) {
                fputs("|", out);
                for (size_t k = 0; k < shown; k++)
                    fputs("---|", out);
                fputs("\n", out);
            }
        } else {
            b.len = 0;
            for (size_t k = 0; k < shown; k++)
                scn_buf_printf(&b, "%-*s  ", (int)w[k], row[k]);
            while (b.len && b.s[b.len - 1] == ' ')
                b.len--;
            fwrite(b.s, 1, b.len, out);
            fputs("\n", out);
        }
    }
    if (has_note)
        fprintf(out, "\n%zu of %zu cells: host differs from linux\n", ndiff, p->n);
    for (size_t i = 0; i < ntext; i++)
        free(t[i]);
    free(t);
    free(w);
    scn_buf_free(&b);
    scn_buf_free(&e);
}

/* The rule that decided the second bind in column j (NULL: none ran). */
static const sm_rule *cell_rule(const scn_result *r, const pcell *c, size_t j)
{
    const scn_cell *second = &r->rows[c->second_row].cells[j];
    return second->kind == SCN_CELL_CALL ? second->r.rule : NULL;
}

static void print_json(const probe *p, const scn_result *r, bool other_user, FILE *out)
{
    long li = profile_index(r, "linux"), hi = profile_index(r, "host");
    scn_buf b = {0}, e = {0};
    size_t ndiff = 0;
    fprintf(out, "{\"format\": \"sockmodel-probe/1\", \"other_user\": %s, \"profiles\": [",
            other_user ? "true" : "false");
    for (size_t j = 0; j < r->n_profiles; j++) {
        fputs(j ? ", " : "", out);
        smu_json_str(out, r->cols[j].name);
    }
    fputs("],\n\"cells\": [", out);
    for (size_t i = 0; i < p->n; i++) {
        const pcell *c = &p->cells[i];
        const apair *a = &pairs[c->pair];
        fprintf(out, "%s\n  {\"proto\": \"%s\", \"first\": ", i ? "," : "",
                c->tcp ? "tcp" : "udp");
        smu_json_str(out, a->a1);
        fprintf(out, ", \"first_v6only\": %s, \"second\": ", a->v6only ? "true" : "false");
        smu_json_str(out, a->a2);
        fprintf(out, ", \"addresses\": ");
        smu_json_str(out, a->what);
        fprintf(out, ", \"first_is\": \"%s\", \"options\": [\"%s\", \"%s\"], \"outcomes\": {",
                c->listening ? "listening" : "bound", opt_name[c->o1], opt_name[c->o2]);
        for (size_t j = 0; j < r->n_profiles; j++) {
            cell_text(r, c, j, &b);
            const sm_rule *rule = cell_rule(r, c, j);
            fputs(j ? ", " : "", out);
            smu_json_str(out, r->cols[j].name);
            fputs(": {\"result\": ", out);
            smu_json_str(out, b.s ? b.s : "");
            fputs(", \"rule_id\": ", out);
            smu_json_str(out, rule ? rule->id : NULL);
            fputs(", \"source\": ", out);
            smu_json_str(out, rule ? rule->source : NULL);
            fputs(", \"confidence\": ", out);
            smu_json_str(out, rule ? sm_confidence_name(rule->confidence) : NULL);
            fputc('}', out);
        }
        fputs("}, \"host_differs_from_linux\": ", out);
        if (li >= 0 && hi >= 0) {
            cell_text(r, c, (size_t)li, &b);
            cell_text(r, c, (size_t)hi, &e);
            bool d = strcmp(b.s, e.s) != 0;
            ndiff += d;
            fputs(d ? "true" : "false", out);
        } else {
            fputs("null", out);
        }
        fputc('}', out);
    }
    fputs("\n],\n\"host_differs_count\": ", out);
    if (li >= 0 && hi >= 0)
        fprintf(out, "%zu", ndiff);
    else
        fputs("null", out);
    fputs("}\n", out);
    scn_buf_free(&b);
    scn_buf_free(&e);
}

int scn_cmd_probe(int argc, char **argv)
{
    bool json = false;
    bool md = false, full = false, other_user = false;
    const char *profiles = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--markdown") == 0) {
            md = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--full") == 0) {
            full = true;
        } else if (strcmp(argv[i], "--other-user") == 0) {
            other_user = true;
        } else if ((strcmp(argv[i], "--profile") == 0 || strcmp(argv[i], "-p") == 0) &&
                   i + 1 < argc) {
            profiles = argv[++i];
        } else {
            fprintf(stderr, "sockmodel: error: probe: unknown or incomplete argument "
                            "'%s'\n(sockmodel probe --help for usage)\n", argv[i]);
            return 2;
        }
    }
    if (md && json) {
        fputs("sockmodel: error: probe: --markdown and --json are alternatives\n", stderr);
        return 2;
    }
    bool default_host = !profiles && geteuid() == 0;
    if (!profiles)
        profiles = default_host ? "all,host" : "all";
    probe p;
    memset(&p, 0, sizeof p);
    build(&p, full, other_user);
    scn_arena arena = {0};
    scn_patlist pats;
    scn_buf err = {0};
    int status = 0;
    if (!scn_patlist_parse_arg(&arena, profiles, &pats, &err)) {
        fprintf(stderr, "sockmodel: error: %s\n", err.s ? err.s : "--profile: bad patterns");
        status = 2;
        goto done;
    }
    scn_file *f = NULL;
    if (scn_parse_buffer("probe.scn", p.text.s, p.text.len, stderr, &f) != 0) {
        status = 2;
        goto done;
    }
    scn_result *r = scn_run_file(f, &pats, 1);
    if (r->status == 2)
        fprintf(stderr, "sockmodel: error: %s\n", r->error);
    if (r->status == 2 && default_host) {
        /* No namespace: the models alone (the reason is on stderr). */
        scn_result_free(r);
        if (!scn_patlist_parse_arg(&arena, "all", &pats, &err)) {
            status = 2;
            scn_file_free(f);
            goto done;
        }
        fputs("sockmodel: probe: without the host column\n", stderr);
        r = scn_run_file(f, &pats, 1);
    }
    if (r->status == 2)
        status = 2;
    else if (json)
        print_json(&p, r, other_user, stdout);
    else
        print(&p, r, md, other_user, stdout);
    scn_result_free(r);
    scn_file_free(f);
done:
    scn_buf_free(&err);
    scn_buf_free(&p.text);
    free(p.cells);
    scn_arena_free(&arena);
    if (fflush(stdout) != 0)
        return 2;
    return status;
}
