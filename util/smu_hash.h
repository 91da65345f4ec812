/*
 * smu_hash.h - the hash of a TCP/UDP 4-tuple as the capture reader keys
 * it (two 16-byte addresses, two ports, the family), and the multiply-fold
 * it is built from.  Inline: every decoded segment hashes its tuple.
 *
 * Two 64x64->128 multiply-folds and a final avalanche (wyhash-style):
 * cheap, and every key bit reaches the low bits used as a table index.
 * Unkeyed: it indexes tables of recorded traffic, never of attacker-chosen
 * live input (the engine's demux keys its own hash with a seeded secret).
 */
#ifndef SMU_HASH_H
#define SMU_HASH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t smu_mulfold(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
#else /* no 128-bit type: a 64-bit multiply and shift-xor, a little weaker */
    uint64_t r = (a ^ (b >> 29)) * (b | 1);
    return r ^ (r >> 32);
#endif
}

/* The tuple (lo, plo) - (hi, phi) of family fam; lo and hi are 16 bytes
 * each (an IPv4 address zero-padded). */
static inline uint64_t smu_tuple_hash(const uint8_t *lo, const uint8_t *hi, uint16_t plo,
                                      uint16_t phi, uint8_t fam)
{
    uint64_t w[4];
    memcpy(w, lo, 16);
    memcpy(w + 2, hi, 16);
    uint64_t p = (uint64_t)plo << 32 | (uint64_t)phi << 16 | fam;
    uint64_t h = smu_mulfold(w[0] ^ 0xa0761d6478bd642full, w[1] ^ 0xe7037ed1a0b428dbull);
    h ^= smu_mulfold(w[2] ^ 0x8ebc6af09c88c6e3ull, w[3] ^ p ^ 0x589965cc75374cc3ull);
    return smu_mulfold(h, 0x1d8e4e27c47d124full);
}

/* Two 16-byte strings equal (addresses), without a call to memcmp. */
static inline bool smu_eq16(const uint8_t *a, const uint8_t *b)
{
    uint64_t x[2], y[2];
    memcpy(x, a, 16);
    memcpy(y, b, 16);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

#endif
