/*
 * smu_alloc.h - the allocator of big tables (hash slots, record arrays):
 * zero-filled, 64-byte aligned, and on Linux, from a size of
 * SMU_BIG_PAGE up, a mapping of its own on huge pages.
 *
 * Why a mapping of its own: freeing it gives the memory back at once (a
 * table freed inside the malloc heap would stay resident), growing it
 * moves page tables instead of copying (mremap), fresh pages are already
 * zero, and with huge pages a random probe costs a cache miss but rarely
 * a TLB miss as well.  Below that size, and on other systems, the C
 * library's aligned_alloc.
 *
 * Every call reports failure by returning NULL (the old block, if any,
 * is then unchanged); the caller decides what exhaustion means.
 */
#ifndef SMU_ALLOC_H
#define SMU_ALLOC_H

#include <stddef.h>

/* The huge-page size: tables this big or bigger get their own mapping. */
#define SMU_BIG_PAGE ((size_t)2 << 20)

/* n zeroed bytes, 64-byte aligned; smu_big_free takes the same n. */
void *smu_big_alloc(size_t n);
/* p (of old_n bytes, or NULL with old_n 0) made n >= old_n bytes long;
 * the bytes past old_n are zero.  NULL on failure, p still valid. */
void *smu_big_resize(void *p, size_t old_n, size_t n);
void smu_big_free(void *p, size_t n);
/* Gives back the memory of [p, p + len) of a big table that will not be
 * read again before it is freed (p and len multiples of SMU_BIG_PAGE
 * inside a table of at least SMU_BIG_PAGE bytes); a hint only. */
void smu_big_discard(void *p, size_t len);

#endif
