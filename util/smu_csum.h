/*
 * smu_csum.h - the Internet checksum (RFC 1071) of IPv4 headers and of
 * TCP/UDP segments with their pseudo-header: one implementation for the
 * capture reader (verification) and the capture writers.
 *
 * A sum is accumulated unfolded in a uint64_t, from bytes read as 16-bit
 * words in the machine's byte order (RFC 1071 2(B): the result is the
 * same up to a byte swap, which smu_csum_field undoes).  Usage:
 *   s = smu_csum_add(0, pseudo_or_header, n); s = smu_csum_add_word(s, 6);
 *   write_be16(field, smu_csum_field(s));      -- a writer
 *   ok = smu_csum_fold(s) == 0xffff;           -- a reader, over the data
 *                                                 with its checksum
 */
#ifndef SMU_CSUM_H
#define SMU_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* sum + the n bytes at p (any alignment). */
uint64_t smu_csum_add(uint64_t sum, const void *p, size_t n);
/* sum + a 16-bit value as it stands in a header (big-endian on the wire:
 * a protocol number, a length). */
uint64_t smu_csum_add_word(uint64_t sum, uint16_t v);
/* The sum folded to 16 bits (machine order): 0xffff when the data,
 * checksum field included, verify. */
uint16_t smu_csum_fold(uint64_t sum);
/* The checksum field for data summed with the field at zero, as a
 * number to be stored big-endian. */
uint16_t smu_csum_field(uint64_t sum);

#endif
