/*
 * smu_alloc.c - the big-table allocator (see smu_alloc.h): huge-page
 * mappings on Linux for large tables, aligned heap blocks otherwise.
 */
#define _GNU_SOURCE /* mremap (Linux), madvise and MAP_ANONYMOUS */
#include "smu_alloc.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#if defined(__linux__) && defined(MAP_ANONYMOUS) && defined(MREMAP_MAYMOVE)
#define SMU_MAPPED 1
#else
#define SMU_MAPPED 0
#endif

#define LINE ((size_t)64)

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) & ~(to - 1);
}

/* Heap block of n bytes (n > 0), 64-byte aligned, not initialised. */
static void *heap_alloc(size_t n)
{
    return aligned_alloc(LINE, round_up(n ? n : 1, LINE));
}

#if SMU_MAPPED
static bool is_mapped(size_t n)
{
    return n >= SMU_BIG_PAGE;
}

/* A fresh mapping of round_up(n, SMU_BIG_PAGE) bytes aligned to a huge
 * page (mapped one page larger, the ends trimmed), advised to use huge
 * pages; reads as zeros. */
static void *map_new(size_t n)
{
    size_t size = round_up(n, SMU_BIG_PAGE);
    char *m = mmap(NULL, size + SMU_BIG_PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    uintptr_t a = ((uintptr_t)m + SMU_BIG_PAGE - 1) & ~(uintptr_t)(SMU_BIG_PAGE - 1);
    char *al = (char *)a;
    if (al > m)
        munmap(m, (size_t)(al - m));
    if (al + size < m + size + SMU_BIG_PAGE)
        munmap(al + size, (size_t)(m + size + SMU_BIG_PAGE - (al + size)));
#ifdef MADV_HUGEPAGE
    (void)madvise(al, size, MADV_HUGEPAGE); /* only advice */
#endif
    return al;
}
#endif

void *smu_big_alloc(size_t n)
{
#if SMU_MAPPED
    if (is_mapped(n))
        return map_new(n);
#endif
    void *p = heap_alloc(n);
    if (p)
        memset(p, 0, round_up(n ? n : 1, LINE));
    return p;
}

void *smu_big_resize(void *p, size_t old_n, size_t n)
{
    if (!p)
        return smu_big_alloc(n);
    if (n < old_n)
        n = old_n;
#if SMU_MAPPED
    if (is_mapped(old_n)) {
        size_t from = round_up(old_n, SMU_BIG_PAGE), to = round_up(n, SMU_BIG_PAGE);
        if (to == from)
            return p;
        void *q = mremap(p, from, to, MREMAP_MAYMOVE); /* new pages read as zeros */
        if (q == MAP_FAILED)
            return NULL;
#ifdef MADV_HUGEPAGE
        (void)madvise(q, to, MADV_HUGEPAGE);
#endif
        return q;
    }
#endif
    void *q = smu_big_alloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, old_n);
    smu_big_free(p, old_n);
    return q;
}

void smu_big_free(void *p, size_t n)
{
    if (!p)
        return;
#if SMU_MAPPED
    if (is_mapped(n)) {
        munmap(p, round_up(n, SMU_BIG_PAGE));
        return;
    }
#else
    (void)n;
#endif
    free(p);
}

void smu_big_discard(void *p, size_t len)
{
#if SMU_MAPPED && defined(MADV_DONTNEED)
    (void)madvise(p, len, MADV_DONTNEED);
#else
    (void)p;
    (void)len;
#endif
}
