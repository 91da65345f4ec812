/*
 * rules_doc.c - docs/rules.md from the rule records, and the check that
 * keeps it true.
 *
 * Every verdict the engine, the socket layer, the scenario runner, the
 * kernel backend and each profile return points to a static rule record
 * (engine/sm.h, sm_rule); each file lists its records in a rule set, and
 * each profile names the sets its methods draw from (sm_profile.rule_sets).
 * This program walks those sets and
 *   - checks that every ID is well formed (lowercase, dotted, at least two
 *     parts) and unique, that every record has a text and a confidence the
 *     spec knows, and that every profile names its sets;
 *   - writes the reference page (`--write FILE`), or, run as a test with
 *     no argument, compares it with the checked-in docs/rules.md and fails
 *     when they differ (regenerate with `make rules-doc`);
 *   - `--ids` prints every ID, one per line (tests/rule-ids.sh).
 */
#include "config.h"

#include "sm_prof.h"
#include "sm_profile.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SM_RULES_DOC
#define SM_RULES_DOC "docs/rules.md"
#endif

extern const sm_rule_set sm__rules_scn_model, sm__rules_scn_run;
extern const sm_rule_set sm__rules_obs_mirror;
#ifdef HAVE_HOSTKERNEL
extern const sm_rule_set sm__rules_hk_kernel;
#endif

/* The sets outside the profiles, with who returns their rules. */
typedef struct tool_set {
    const sm_rule_set *set;
    const char *who;
} tool_set;

static size_t tool_sets(tool_set *out)
{
    size_t n = 0;
    for (size_t i = 0; sm__engine_rule_sets[i]; i++)
        out[n++] = (tool_set){sm__engine_rule_sets[i], "all (engine)"};
    out[n++] = (tool_set){&sm__rules_sm_sockapi, "all (socket layer)"};
    out[n++] = (tool_set){&sm__rules_scn_model, "all (scenario runner)"};
    out[n++] = (tool_set){&sm__rules_scn_run, "all (scenario runner)"};
    out[n++] = (tool_set){&sm__rules_obs_mirror, "all (exec/trace mirror)"};
#ifdef HAVE_HOSTKERNEL
    out[n++] = (tool_set){&sm__rules_hk_kernel, "host (the real kernel)"};
#endif
    return n;
}

/* ---- a growing text buffer ---------------------------------------------- */

typedef struct buf {
    char *s;
    size_t len, cap;
} buf;

static void put(buf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *t = realloc(b->s, cap);
        if (!t) {
            fprintf(stderr, "rules_doc: out of memory\n");
            exit(99);
        }
        b->s = t;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
}

static void putf(buf *b, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put(b, tmp);
}

/* A table cell: '|' escaped, nothing else touched. */
static void cell(buf *b, const char *s)
{
    char tmp[2];
    tmp[1] = 0;
    for (; *s; s++) {
        if (*s == '|')
            put(b, "\\|");
        else {
            tmp[0] = *s;
            put(b, tmp);
        }
    }
}

/* ---- the checks ---------------------------------------------------------- */

static bool well_formed(const char *id)
{
    /* part ("." part)+, each part [a-z0-9][a-z0-9-]* */
    size_t parts = 0;
    const char *p = id;
    for (;;) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            return false;
        while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')
            p++;
        parts++;
        if (*p == 0)
            break;
        if (*p != '.')
            return false;
        p++;
    }
    return parts >= 2 && p[-1] != '-';
}

typedef struct seen {
    const char **ids;
    const sm_rule **recs;
    size_t n, cap;
} seen;

/* Records each distinct record once; the same record reached through two
 * profiles is fine, two records with one ID are not. */
static int note(seen *s, const sm_rule *r, const char *where)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->recs[i] == r)
            return 0;
        if (strcmp(s->ids[i], r->id) == 0) {
            fprintf(stderr, "rules_doc: %s: ID %s is used by two records\n", where, r->id);
            return 1;
        }
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 512;
        s->ids = realloc(s->ids, s->cap * sizeof *s->ids);
        s->recs = realloc(s->recs, s->cap * sizeof *s->recs);
        if (!s->ids || !s->recs) {
            fprintf(stderr, "rules_doc: out of memory\n");
            exit(99);
        }
    }
    s->ids[s->n] = r->id;
    s->recs[s->n++] = r;
    int bad = 0;
    if (!well_formed(r->id)) {
        fprintf(stderr, "rules_doc: %s: ID \"%s\" is not lowercase dotted words\n", where,
                r->id);
        bad = 1;
    }
    if (!r->text || !r->text[0] || !r->source) {
        fprintf(stderr, "rules_doc: %s: %s has no text or no source field\n", where, r->id);
        bad = 1;
    }
    if ((unsigned)r->confidence > (unsigned)SM_CONF_UNVERIFIED) {
        fprintf(stderr, "rules_doc: %s: %s has no known confidence\n", where, r->id);
        bad = 1;
    }
    return bad;
}

/* ---- the page ------------------------------------------------------------ */

/* The profiles whose rule_sets include set, as "a, b". */
static void users_of(const sm_rule_set *set, buf *b)
{
    bool first = true;
    for (size_t i = 0; i < sm__n_profiles; i++) {
        const sm_profile *p = sm__profiles[i];
        for (size_t k = 0; p->rule_sets && p->rule_sets[k]; k++)
            if (p->rule_sets[k] == set) {
                putf(b, "%s%s", first ? "" : ", ", p->name);
                first = false;
            }
    }
}

static void set_table(buf *b, const sm_rule_set *set, const char *who)
{
    putf(b, "\n### %s\n\nReturned by: %s.\n\n", set->name, who);
    put(b, "| ID | OS | what it decides | source | confidence |\n");
    put(b, "|----|----|-----------------|--------|------------|\n");
    for (size_t i = 0; i < set->n; i++) {
        const sm_rule *r = set->rules[i];
        put(b, "| `");
        put(b, r->id);
        put(b, "` | ");
        cell(b, who);
        put(b, " | ");
        cell(b, r->text);
        put(b, " | ");
        cell(b, r->source[0] ? r->source : "sockmodel");
        put(b, " | ");
        put(b, sm_confidence_name(r->confidence));
        put(b, " |\n");
    }
}

static void counts_row(buf *b, const char *name, const sm_rule_set *const *sets, size_t nsets)
{
    size_t by[SM_CONF_UNVERIFIED + 1] = {0}, total = 0;
    seen s = {0};
    for (size_t k = 0; k < nsets; k++)
        for (size_t i = 0; i < sets[k]->n; i++) {
            const sm_rule *r = sets[k]->rules[i];
            size_t before = s.n;
            note(&s, r, name);
            if (s.n > before) {
                by[r->confidence]++;
                total++;
            }
        }
    putf(b, "| %s | %zu |", name, total);
    for (int c = 0; c <= SM_CONF_UNVERIFIED; c++)
        putf(b, " %zu |", by[c]);
    put(b, "\n");
    free(s.ids);
    free(s.recs);
}

static void page(buf *b, const tool_set *tools, size_t ntools)
{
    put(b, "# Rule reference\n\n"
           "<!-- Generated by tests/rules_doc.c from the rule records; do not edit.\n"
           "     `make rules-doc` writes it again; `make check` fails when it is stale. -->\n\n"
           "Every decision sockmodel reports names the rule that made it: a stable\n"
           "ID, the rule in plain English, where it comes from, and how sure the\n"
           "model is of it.  `run --explain` shows the ID after the rule as\n"
           "`{ID}`, and `{ID: CONFIDENCE}` when the confidence is below `observed`;\n"
           "`run --json` gives `rule_id`, `source` and `confidence` in every outcome.\n"
           "IDs are never reworded once released: a rule that changes meaning gets a\n"
           "new ID.\n\n"
           "## Naming\n\n"
           "`FAMILY.AREA.NAME`, lowercase words joined by `-`:\n\n"
           "- **FAMILY** is who owns the record.  A rule in a file several profiles\n"
           "  share is named after the OS family: `linux.` (linux_common: linux-3.8\n"
           "  and linux), `bsd.` (bsd.c and bsd_common: bsd and freebsd-13), `xnu.`\n"
           "  (macos and ios), `windows.` (windows_common: windows-classic and\n"
           "  windows), `solaris.` (solaris.c: solaris and solaris-11.4).  A rule\n"
           "  only one profile's own file returns is named after that profile, dots\n"
           "  made dashes: `freebsd-13.`, `windows-classic.`, `solaris-11-4.`,\n"
           "  `netbsd.`, `openbsd.`.  Rules of the model itself are `sm.` (the\n"
           "  engine: facts every OS shares, the model's limits, `sm.contract.` for\n"
           "  a profile that breaks the profile interface), `sm.sys.` (the socket\n"
           "  layer), `sm.scenario.` (the runner); `host.` is the real-kernel column.\n"
           "- **AREA** is the call or mechanism: `bind`, `listen`, `port` (bind(0) and\n"
           "  autobind), `connect`, `sockopt`, `listener` (which listener gets a\n"
           "  connection), `tw` (TIME_WAIT), `close`, `linger`, `exit`, and for `sm.`\n"
           "  also `socket`, `accept`, `send`, `recv`, `shutdown`, `conn`, `limit`,\n"
           "  `timer` (what a timer did when it fired).\n"
           "- **NAME** says what the rule decides.  The same slot has the same name\n"
           "  in every family: `X.bind.free`, `X.connect.tuple-in-use`,\n"
           "  `X.tw.syn-accept`, `X.linger.timeout`, `X.listener.choice`...\n"
           "  Microsoft's bind tables are one record per cell:\n"
           "  `windows.bind.same-user.ex-w.def-s` (existing bind's options and\n"
           "  address kind, then the new bind's).\n\n"
           "## Confidence\n\n"
           "The reference notes tag every fact: [S] read in the OS's source (`source`),\n"
           "[T] asserted by an upstream test (`test`), [O] measured on the real OS\n"
           "(`observed`), [D] vendor documentation (`documented`), [I] `inferred`,\n"
           "[U] `unverified`.  A record carries its rule's tag.  Where the rule's own\n"
           "text had no tag letter, the tag is the kind of source it cites (a kernel\n"
           "function: source; a vendor page or KB article: documented; a test run on\n"
           "the real OS: test; a citation that says \"inferred\" or \"assumed\":\n"
           "inferred).  A rule tagged with two letters (S/I) takes the weaker.  The\n"
           "model's own rules (`sm.`) are `source`: sockmodel's code is what they\n"
           "state.\n\n"
           "## Counts\n\n"
           "| profile | rules | source | test | observed | documented | inferred | unverified |\n"
           "|---------|-------|--------|------|----------|------------|----------|------------|\n");
    for (size_t i = 0; i < sm__n_profiles; i++) {
        const sm_profile *p = sm__profiles[i];
        size_t n = 0;
        while (p->rule_sets && p->rule_sets[n])
            n++;
        counts_row(b, p->name, p->rule_sets, n);
    }
    const sm_rule_set *ts[64];
    for (size_t i = 0; i < ntools; i++)
        ts[i] = tools[i].set;
    counts_row(b, "(model and tools)", ts, ntools);

    put(b, "\n## The rules, file by file\n");
    /* Each profile set once, in the order the profiles first name it. */
    const sm_rule_set *done[64];
    size_t ndone = 0;
    for (size_t i = 0; i < sm__n_profiles; i++) {
        const sm_profile *p = sm__profiles[i];
        for (size_t k = 0; p->rule_sets && p->rule_sets[k]; k++) {
            const sm_rule_set *set = p->rule_sets[k];
            bool dup = false;
            for (size_t j = 0; j < ndone; j++)
                dup = dup || done[j] == set;
            if (dup || ndone == 64)
                continue;
            done[ndone++] = set;
            buf who = {0};
            users_of(set, &who);
            set_table(b, set, who.s);
            free(who.s);
        }
    }
    for (size_t i = 0; i < ntools; i++)
        set_table(b, tools[i].set, tools[i].who);
}

/* ---- main ---------------------------------------------------------------- */

static int check_all(const tool_set *tools, size_t ntools, seen *s)
{
    int bad = 0;
    for (size_t i = 0; i < ntools; i++)
        for (size_t k = 0; k < tools[i].set->n; k++)
            bad |= note(s, tools[i].set->rules[k], tools[i].set->name);
    for (size_t i = 0; i < sm__n_profiles; i++) {
        const sm_profile *p = sm__profiles[i];
        if (!p->rule_sets || !p->rule_sets[0]) {
            fprintf(stderr, "rules_doc: profile %s names no rule sets\n", p->name);
            bad = 1;
            continue;
        }
        for (size_t k = 0; p->rule_sets[k]; k++)
            for (size_t j = 0; j < p->rule_sets[k]->n; j++) {
                const sm_rule *r = p->rule_sets[k]->rules[j];
                bad |= note(s, r, p->rule_sets[k]->name);
                /* The public lookup finds it (engine/sm.h). */
                if (sm_rule_find(r->id) != r) {
                    fprintf(stderr, "rules_doc: sm_rule_find(\"%s\") misses it\n", r->id);
                    bad = 1;
                }
            }
        /* The rules a profile hands the engine as values. */
        const sm_rule *vals[] = {
            p->select_listener_rule, p->tcp->unread_close_rule,
            p->tcp->linger_timeout_rule, p->tcp->linger_nonblock_rule, p->tcp->exit_rule,
            p->tcp->tw_overflow_rule, p->tcp->no_local_tw_rule,
            p->tcp->connect_on_listener_rule, p->tcp->rst_in_tw_rule,
        };
        for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++) {
            bool found = false;
            for (size_t k = 0; !found && p->rule_sets[k]; k++)
                for (size_t j = 0; !found && j < p->rule_sets[k]->n; j++)
                    found = p->rule_sets[k]->rules[j] == vals[v];
            if (vals[v] && !found) {
                fprintf(stderr, "rules_doc: profile %s: rule %s is not in its rule sets\n",
                        p->name, vals[v]->id);
                bad = 1;
            }
        }
    }
    return bad;
}

/* What main builds, freed at exit (the leak checker of a sanitizer build
 * runs after this, and would otherwise cut the --ids output short). */
static seen s;
static buf b, old;

static void free_all(void)
{
    free(s.ids);
    free(s.recs);
    free(b.s);
    free(old.s);
}

int main(int argc, char **argv)
{
    atexit(free_all);
    tool_set tools[64];
    size_t ntools = tool_sets(tools);
    int bad = check_all(tools, ntools, &s);
    if (argc == 2 && strcmp(argv[1], "--ids") == 0) {
        for (size_t i = 0; i < s.n; i++)
            printf("%s\n", s.ids[i]);
        return bad;
    }
    page(&b, tools, ntools);
    if (argc == 3 && strcmp(argv[1], "--write") == 0) {
        FILE *f = fopen(argv[2], "w");
        if (!f || fputs(b.s, f) < 0 || fclose(f) != 0) {
            perror(argv[2]);
            return 2;
        }
        return bad;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: rules_doc [--write FILE | --ids]\n");
        return 2;
    }
#ifndef HAVE_HOSTKERNEL
    printf("SKIP: built without the host backend: its rules are not in the page\n");
    return bad ? 1 : 77;
#else
    FILE *f = fopen(SM_RULES_DOC, "r");
    if (!f) {
        perror(SM_RULES_DOC);
        return 1;
    }
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk - 1, f)) > 0) {
        chunk[n] = 0;
        put(&old, chunk);
    }
    fclose(f);
    if (!old.s || strcmp(old.s, b.s) != 0) {
        fprintf(stderr, "rules_doc: %s is stale: run `make rules-doc` and commit it\n",
                SM_RULES_DOC);
        bad = 1;
    }
    printf("%zu rule records, IDs unique and well formed; %s %s\n", s.n, SM_RULES_DOC,
           bad ? "differs" : "is current");
    return bad;
#endif
}
