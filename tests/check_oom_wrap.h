/*
 * check_oom_wrap.h - allocation counting for the malloc-failure loops
 * (pkt/tests/check_pkt_oom.c, tests/check_scenario_oom.c): malloc, calloc,
 * realloc, aligned_alloc and free are wrapped at link time
 * (-Wl,--wrap=..., with the static libraries), so every allocation the
 * libraries make goes through here with no hook in them.  While `armed`,
 * the allocation after `fail_after` more fails once (`hit` says it did),
 * and `live` counts the blocks allocated and not yet freed.
 * Include it in one file of a test program only.
 */
#ifndef CHECK_OOM_WRAP_H
#define CHECK_OOM_WRAP_H

#include <stdbool.h>
#include <stddef.h>

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

static bool armed;       /* count and fail only around the code under test */
static long fail_after;  /* allocations left before the one that fails; <0: none */
static bool hit;         /* an allocation was refused */
static long live;        /* blocks allocated and not freed while armed */

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
        live++;
    return p;
}

void *__wrap_calloc(size_t n, size_t m)
{
    if (refuse())
        return NULL;
    void *p = __real_calloc(n, m);
    if (p && armed)
        live++;
    return p;
}

void *__wrap_aligned_alloc(size_t a, size_t n)
{
    if (refuse())
        return NULL;
    void *p = __real_aligned_alloc(a, n);
    if (p && armed)
        live++;
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    if (refuse())
        return NULL;
    void *q = __real_realloc(p, n);
    if (q && !p && armed)
        live++;
    return q;
}

void __wrap_free(void *p)
{
    if (p && armed)
        live--;
    __real_free(p);
}

#endif
