/*
 * scn_util.c - small helpers of the scenario tools: checked allocation, a
 * bump arena, a growable string and a shell-style glob matcher (used for
 * profile patterns such as "linux*" or "windows-[a-z]*").
 *
 * Allocation failure never ends the process here: control goes back to
 * the recovery point the program set (scn_oom_point), or the one a library
 * entry point set for itself when the program set none (scn__oom_need),
 * and whoever set it reports the error.  With no point at all, the
 * building blocks fail as malloc does: NULL, a failed buffer, false.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "scn.h"

/* ---- allocation -------------------------------------------------------- */

static jmp_buf *oom_point;

jmp_buf *scn_oom_point(jmp_buf *point)
{
    jmp_buf *old = oom_point;
    oom_point = point;
    return old;
}

bool scn__oom_need(void)
{
    return oom_point == NULL;
}

bool scn__guarded(void (*fn)(void *ctx), void *ctx)
{
    if (!scn__oom_need()) {
        fn(ctx);
        return true;
    }
    jmp_buf own;
    if (setjmp(own)) {
        scn_oom_point(NULL);
        return false;
    }
    scn_oom_point(&own);
    fn(ctx);
    scn_oom_point(NULL);
    return true;
}

/* Jumps to the recovery point; returns only when there is none (the
 * caller then fails as malloc does). */
static void out_of_memory(void)
{
    if (oom_point)
        longjmp(*oom_point, 1);
}

void *scn_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory();
    return p;
}

void *scn_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory();
    return p;
}

void *scn_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        out_of_memory();
    return q;
}

/* ---- arena ------------------------------------------------------------- */

struct scn_chunk {
    struct scn_chunk *next;
    size_t used, size;
    max_align_t data[]; /* aligned storage */
};

#define CHUNK_DEFAULT 16384u
#define ALIGN_UP(n) (((n) + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1))

/* N bytes of the arena, not zeroed; ALIGNED: at an address fit for any
 * object, else anywhere (a text: no padding between a churn's 100,000
 * statement texts). */
static void *arena_take(scn_arena *a, size_t n, bool aligned)
{
    n = n ? n : 1;
    struct scn_chunk *c = a->head;
    size_t at = !c ? 0 : aligned ? ALIGN_UP(c->used) : c->used;
    if (!c || at > c->size || c->size - at < n) {
        if (n > SIZE_MAX - sizeof *c - sizeof(max_align_t)) {
            out_of_memory();
            return NULL;
        }
        size_t size = n > CHUNK_DEFAULT ? ALIGN_UP(n) : CHUNK_DEFAULT;
        c = scn_xmalloc(sizeof *c + size);
        if (!c)
            return NULL;
        c->used = 0;
        c->size = size;
        c->next = a->head;
        a->head = c;
        at = 0;
    }
    void *p = (char *)c->data + at;
    c->used = at + n;
    return p;
}

void *scn_alloc(scn_arena *a, size_t n)
{
    void *p = arena_take(a, n, true);
    if (p)
        memset(p, 0, n);
    return p;
}

char *scn_strndup(scn_arena *a, const char *s, size_t n)
{
    char *p = arena_take(a, n + 1, false); /* every byte is written */
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void scn_arena_free(scn_arena *a)
{
    struct scn_chunk *c = a->head;
    while (c) {
        struct scn_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}

/* ---- growable string --------------------------------------------------- */

/* false: no room (out of memory with no recovery point; b->failed) */
bool scn_buf_reserve(scn_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->cap - b->len > extra)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len <= extra)
        cap *= 2;
    char *s = scn_xrealloc(b->s, cap);
    if (!s) {
        b->failed = true;
        return false;
    }
    b->s = s;
    b->cap = cap;
    return true;
}

void scn_buf_add(scn_buf *b, const char *s, size_t n)
{
    if (!scn_buf_reserve(b, n))
        return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void scn_buf_puts(scn_buf *b, const char *s)
{
    scn_buf_add(b, s, strlen(s));
}

/* Formats once into the room the buffer has, and again only when the text
 * did not fit (measuring first doubled the cost of every call: the text
 * report formats a few cells per step). */
void scn_buf_printf(scn_buf *b, const char *fmt, ...)
{
    va_list ap;
    if (b->failed)
        return;
    size_t room = b->cap - b->len;
    va_start(ap, fmt);
    int n = vsnprintf(room ? b->s + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n <= 0) {
        if (room)
            b->s[b->len] = '\0';
        return;
    }
    if ((size_t)n >= room) {
        if (!scn_buf_reserve(b, (size_t)n))
            return;
        va_start(ap, fmt);
        vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

void scn_buf_free(scn_buf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

/* ---- glob -------------------------------------------------------------- */

bool scn_has_glob(const char *pat)
{
    return strpbrk(pat, "*?[") != NULL;
}

/* Matches one bracket expression at *pp against c.  Advances *pp past the
 * closing ']'.  An unclosed '[' is taken as a literal '['. */
static void match_class(const char **pp, char c, bool *ok)
{
    const char *p = *pp + 1;
    bool negate = (*p == '!' || *p == '^');
    if (negate)
        p++;
    bool hit = false;
    bool first = true;
    while (*p && (first || *p != ']')) {
        char lo = *p;
        char hi = lo;
        if (p[1] == '-' && p[2] && p[2] != ']') {
            hi = p[2];
            p += 3;
        } else {
            p++;
        }
        if (c >= lo && c <= hi)
            hit = true;
        first = false;
    }
    if (*p != ']') { /* unclosed: literal '[' */
        *ok = (c == '[');
        *pp += 1;
        return;
    }
    *pp = p + 1;
    *ok = (hit != negate);
}

/* Classic two-pointer matcher: remembers the last '*' and retries from
 * there, so it needs no recursion and runs in O(len(pat) * len(s)). */
bool scn_glob(const char *pat, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*pat == '*') {
            while (*pat == '*')
                pat++;
            if (!*pat)
                return true;
            star = pat;
            resume = s;
            continue;
        }
        bool ok = false;
        const char *next = pat;
        if (*pat == '?') {
            ok = true;
            next = pat + 1;
        } else if (*pat == '[') {
            match_class(&next, *s, &ok);
        } else if (*pat) {
            ok = (*pat == *s);
            next = pat + 1;
        }
        if (ok) {
            pat = next;
            s++;
        } else if (star) {
            pat = star;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* ---- pattern lists ----------------------------------------------------- */

static bool pat_matches(const scn_pat *p, const char *name)
{
    return strcmp(p->glob, "all") == 0 || scn_glob(p->glob, name);
}

bool scn_patlist_match(const scn_patlist *l, const char *name)
{
    bool any_positive = false, hit = false;
    for (size_t i = 0; i < l->n; i++) {
        bool m = pat_matches(&l->v[i], name);
        if (l->v[i].neg) {
            if (m)
                return false;
        } else {
            any_positive = true;
            hit = hit || m;
        }
    }
    return any_positive ? hit : true;
}

/* ---- name map ---------------------------------------------------------- */

/* FNV-1a; its low bits pick the slot (they vary with every byte), and
 * the whole hash is kept per slot: a slot whose hash differs is passed
 * over without reading its key. */
static uint64_t name_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h;
}

static long map_slot(const scn_map *m, const char *k, size_t n, uint64_t h)
{
    size_t i = (size_t)h & (m->cap - 1);
    while (m->key[i]) {
        if (m->hash[i] == h && memcmp(m->key[i], k, n) == 0 &&
            m->key[i][n] == '\0')
            return (long)i;
        i = (i + 1) & (m->cap - 1);
    }
    return -1 - (long)i; /* not there: -1 - the free slot */
}

long scn_map_find(const scn_map *m, const char *k, size_t n)
{
    if (!m->cap)
        return -1;
    long i = map_slot(m, k, n, name_hash(k, n));
    return i >= 0 ? (long)m->val[i] : -1;
}

static void map_insert(scn_map *m, char *k, uint64_t h, size_t v)
{
    size_t i = (size_t)h & (m->cap - 1);
    while (m->key[i])
        i = (i + 1) & (m->cap - 1);
    m->key[i] = k;
    m->hash[i] = h;
    m->val[i] = v;
    m->n++;
}

static bool map_grow(scn_map *m)
{
    scn_map old = *m;
    size_t cap = old.cap ? old.cap * 2 : 64;
    char **key = scn_xcalloc(cap, sizeof *key);
    size_t *val = key ? scn_xmalloc(cap * sizeof *val) : NULL;
    uint64_t *hash = val ? scn_xmalloc(cap * sizeof *hash) : NULL;
    if (!hash) {
        free(key);
        free(val);
        return false;
    }
    m->cap = cap;
    m->key = key;
    m->val = val;
    m->hash = hash;
    m->n = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.key[i])
            map_insert(m, old.key[i], old.hash[i], old.val[i]);
    free(old.key);
    free(old.val);
    free(old.hash);
    return true;
}

bool scn_map_put(scn_map *m, const char *k, size_t v)
{
    size_t n = strlen(k);
    uint64_t h = name_hash(k, n);
    if (m->cap) {
        long i = map_slot(m, k, n, h);
        if (i >= 0) {
            m->val[i] = v;
            return true;
        }
    }
    if ((m->n + 1) * 2 > m->cap && !map_grow(m))
        return false;
    char *copy = scn_strndup(&m->keys, k, n);
    if (!copy)
        return false;
    map_insert(m, copy, h, v);
    return true;
}

void scn_map_free(scn_map *m)
{
    scn_arena_free(&m->keys);
    free(m->key);
    free(m->val);
    free(m->hash);
    memset(m, 0, sizeof *m);
}
