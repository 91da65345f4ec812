/*
 * smu_csum.c - the Internet checksum (see smu_csum.h): a wide sum with
 * end-around carries over two 64-bit lanes, folded at the end.
 */
#include "smu_csum.h"

#include <stdbool.h>
#include <string.h>

static bool little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static uint16_t swap16(uint16_t v)
{
    return (uint16_t)(v << 8 | v >> 8);
}

uint64_t smu_csum_add(uint64_t sum, const void *data, size_t n)
{
    const unsigned char *p = data;
    if (n >= 16) {
        /* two 64-bit lanes with end-around carries: 2^64 and 2^32 are both
         * 1 modulo 0xffff, so the halves and the carries just add up */
        uint64_t s0 = 0, s1 = 0, carries = 0;
        while (n >= 16) {
            uint64_t w[2];
            memcpy(w, p, 16);
            s0 += w[0];
            carries += s0 < w[0];
            s1 += w[1];
            carries += s1 < w[1];
            p += 16;
            n -= 16;
        }
        sum += (s0 & 0xffffffffu) + (s0 >> 32) + (s1 & 0xffffffffu) + (s1 >> 32) + carries;
    }
    while (n >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        sum += w;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        sum += w;
        p += 2;
        n -= 2;
    }
    if (n) { /* the odd byte, padded with a zero byte (RFC 1071) */
        unsigned char t[2] = {p[0], 0};
        uint16_t w;
        memcpy(&w, t, 2);
        sum += w;
    }
    return sum;
}

uint64_t smu_csum_add_word(uint64_t sum, uint16_t v)
{
    return sum + (little_endian() ? swap16(v) : v);
}

uint16_t smu_csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)sum;
}

uint16_t smu_csum_field(uint64_t sum)
{
    uint16_t c = (uint16_t)~smu_csum_fold(sum);
    return little_endian() ? swap16(c) : c;
}
