/*
 * check_oom_wrap.h - allocation counting for the malloc-failure loops
 * (pkt/tests/check_pkt_oom.c, tests/check_scenario_oom.c,
 * tests/check_trace_oom.c): malloc, calloc,
 * realloc, aligned_alloc and free (and strdup where the program asks) are
 * wrapped at link time
 * (-Wl,--wrap=..., with the static libraries), so every allocation the
 * libraries make goes through here with no hook in them.  While `armed`,
 * the allocation after `fail_after` more fails once (`hit` says it did),
 * and `live` counts the blocks allocated and not yet freed.  The blocks
 * themselves are kept too: a run abandoned at a recovery point leaves its
 * blocks to the process's exit by design, and oom_release_abandoned()
 * stands for that exit, so the leak checkers of the sanitizer and valgrind
 * builds see only leaks the design does not intend.
 * Include it in one file of a test program only.
 */
#ifndef CHECK_OOM_WRAP_H
#define CHECK_OOM_WRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);

static bool armed;       /* count and fail only around the code under test */
static long fail_after;  /* allocations left before the one that fails; <0: none */
static bool hit;         /* an allocation was refused */
static long live;        /* blocks allocated and not freed while armed */

#define OOM_MAX_BLOCKS 65536
static void *blocks[OOM_MAX_BLOCKS]; /* allocated while armed, not freed */
static size_t nblocks;

static inline void block_add(void *p)
{
    if (nblocks < OOM_MAX_BLOCKS)
        blocks[nblocks++] = p;
}

static inline bool block_del(void *p)
{
    for (size_t i = nblocks; i-- > 0;)
        if (blocks[i] == p) {
            blocks[i] = blocks[--nblocks];
            return true;
        }
    return false;
}

/* Frees what a run abandoned (call it with `armed` false). */
static inline void oom_release_abandoned(void)
{
    while (nblocks > 0)
        __real_free(blocks[--nblocks]);
    live = 0;
}

static bool refuse(void)
{
    if (!armed || fail_after < 0)
        return false;
    if (fail_after == 0) {
        hit = true;
        fail_after = -1; /* one failure; later allocations succeed again */
        return true;
    }
    fail_after--;
    return false;
}

void *__wrap_malloc(size_t n)
{
    if (refuse())
        return NULL;
    void *p = __real_malloc(n);
    if (p && armed)
        live++, block_add(p);
    return p;
}

void *__wrap_calloc(size_t n, size_t m)
{
    if (refuse())
        return NULL;
    void *p = __real_calloc(n, m);
    if (p && armed)
        live++, block_add(p);
    return p;
}

void *__wrap_aligned_alloc(size_t a, size_t n)
{
    if (refuse())
        return NULL;
    void *p = __real_aligned_alloc(a, n);
    if (p && armed)
        live++, block_add(p);
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    if (refuse())
        return NULL;
    void *q = __real_realloc(p, n);
    if (q && !p && armed)
        live++, block_add(q);
    else if (q && p && block_del(p))
        block_add(q);
    return q;
}

/* libc's strdup allocates inside libc, out of --wrap's reach: a program
 * that links with --wrap=strdup gets this one, counted and failed like
 * malloc. */
char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = __wrap_malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void __wrap_free(void *p)
{
    if (p && armed)
        live--;
    if (p)
        block_del(p);
    __real_free(p);
}

#endif
