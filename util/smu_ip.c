/*
 * smu_ip.c - address text (see smu_ip.h): the dotted quad, RFC 5952 IPv6
 * with glibc's embedded-IPv4 forms, and their parsers.
 */
#include "smu_ip.h"

#include <string.h>

static const char hexdig[] = "0123456789abcdef";

/* Decimal 0..255 at p; returns the new end. */
static char *put_octet(char *p, unsigned v)
{
    if (v >= 100)
        *p++ = (char)('0' + v / 100);
    if (v >= 10)
        *p++ = (char)('0' + v / 10 % 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

static char *put_quad(char *p, const uint8_t b[4])
{
    for (int i = 0; i < 4; i++) {
        if (i)
            *p++ = '.';
        p = put_octet(p, b[i]);
    }
    return p;
}

size_t smu_ip4_format(const uint8_t b[4], char *out)
{
    char *p = put_quad(out, b);
    *p = '\0';
    return (size_t)(p - out);
}

size_t smu_ip6_format(const uint8_t b[16], char *out)
{
    unsigned w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
    /* the longest run of zero groups, the leftmost of equal ones */
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (w[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && w[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    if (best_len < 2)
        best = -1;
    char *p = out;
    for (int i = 0; i < 8; i++) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best)
                *p++ = ':';
            continue;
        }
        if (i)
            *p++ = ':';
        /* v4-compatible (::a.b.c.d) and v4-mapped (::ffff:a.b.c.d) */
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
            p = put_quad(p, b + 12);
            *p = '\0';
            return (size_t)(p - out);
        }
        bool lead = true;
        for (int sh = 12; sh >= 0; sh -= 4) {
            unsigned d = (w[i] >> sh) & 0xf;
            if (lead && d == 0 && sh)
                continue;
            lead = false;
            *p++ = hexdig[d];
        }
    }
    if (best >= 0 && best + best_len == 8)
        *p++ = ':';
    *p = '\0';
    return (size_t)(p - out);
}

bool smu_ip4_parse(const char *s, size_t len, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            v = v * 10 + (unsigned)(s[i] - '0');
            if (v > 255)
                return false;
            i++;
        }
        if (i == start || (i - start > 1 && s[start] == '0'))
            return false;
        out[part] = (uint8_t)v;
    }
    return i == len;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool smu_ip6_parse(const char *s, size_t len, uint8_t out[16])
{
    uint8_t b[16] = {0};
    size_t n = 0;   /* bytes written to b */
    int gap = -1;   /* where "::" stands, as a byte offset */
    size_t i = 0;
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    } else if (len >= 1 && s[0] == ':') {
        return false;
    }
    while (i < len) {
        size_t start = i;
        unsigned v = 0;
        while (i < len && hexval(s[i]) >= 0 && i - start < 5) {
            v = v << 4 | (unsigned)hexval(s[i]);
            i++;
        }
        if (i < len && s[i] == '.') { /* a dotted quad: the last 32 bits */
            if (n + 4 > 16 || !smu_ip4_parse(s + start, len - start, b + n))
                return false;
            n += 4;
            i = len;
            break;
        }
        if (i == start || i - start > 4 || n + 2 > 16)
            return false;
        b[n++] = (uint8_t)(v >> 8);
        b[n++] = (uint8_t)v;
        if (i == len)
            break;
        if (s[i] != ':')
            return false;
        i++;
        if (i < len && s[i] == ':') {
            if (gap >= 0)
                return false;
            gap = (int)n;
            i++;
        } else if (i == len) {
            return false; /* a trailing single ':' */
        }
    }
    if (gap >= 0) {
        if (n == 16)
            return false; /* "::" must stand for at least one group */
        size_t tail = n - (size_t)gap;
        memmove(b + 16 - tail, b + gap, tail);
        memset(b + gap, 0, 16 - n);
    } else if (n != 16) {
        return false;
    }
    memcpy(out, b, 16);
    return true;
}
