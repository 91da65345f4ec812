/*
 * sm_addr.c - IPv4/IPv6 addresses and endpoints.
 *
 * Parsing and printing of the scenario forms (a.b.c.d:P, [v6]:P), through
 * util's own address text (RFC 5952 for IPv6; never the C library's, so
 * the bytes are the same on every system), and the address classes every OS rule needs: wildcard, v4-mapped, loopback,
 * multicast.  Which classes overlap for a bind is an OS rule and lives in
 * the profiles.
 */
#include "sm_profile.h"

#include "smu_ip.h"

#include <stdio.h>
#include <string.h>

bool sm_addr_parse(const char *s, size_t len, sm_addr *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0 || memchr(s, '\0', len))
        return false;
    if (memchr(s, ':', len)) {
        if (!smu_ip6_parse(s, len, out->b))
            return false;
        out->family = 6;
        return true;
    }
    if (!smu_ip4_parse(s, len, out->b))
        return false;
    out->family = 4;
    return true;
}

static bool parse_port(const char *s, size_t len, uint16_t *out)
{
    if (len == 0 || len > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

bool sm_endpoint_parse(const char *s, size_t len, sm_endpoint *out,
                       const char **why)
{
    const char *colon;
    sm_addr a;
    memset(out, 0, sizeof *out);
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close) {
            *why = "missing ']' after the IPv6 address";
            return false;
        }
        if (!sm_addr_parse(s + 1, (size_t)(close - s - 1), &a) ||
            a.family != 6) {
            *why = "not an IPv6 address inside [ ]";
            return false;
        }
        colon = close + 1;
        if (colon >= s + len || *colon != ':') {
            *why = "missing ':PORT' after ']'";
            return false;
        }
    } else {
        colon = NULL;
        for (size_t i = len; i > 0; i--) {
            if (s[i - 1] == ':') {
                colon = s + i - 1;
                break;
            }
        }
        if (!colon) {
            *why = "missing ':PORT'";
            return false;
        }
        if (memchr(s, ':', (size_t)(colon - s))) {
            *why = "an IPv6 address must be written in brackets: [ADDR]:PORT";
            return false;
        }
        if (!sm_addr_parse(s, (size_t)(colon - s), &a) || a.family != 4) {
            *why = "not an IPv4 address";
            return false;
        }
    }
    if (!parse_port(colon + 1, (size_t)(s + len - colon - 1), &out->port)) {
        *why = "the port must be a number from 0 to 65535";
        return false;
    }
    out->addr = a;
    return true;
}

size_t sm_addr_format(const sm_addr *a, char *buf, size_t n)
{
    char tmp[SMU_IP_STRLEN];
    size_t k = a->family == 6 ? smu_ip6_format(a->b, tmp) : smu_ip4_format(a->b, tmp);
    if (n) { /* snprintf's contract: truncated, NUL-terminated, full length returned */
        size_t c = k < n ? k : n - 1;
        memcpy(buf, tmp, c);
        buf[c] = '\0';
    }
    return k;
}

size_t sm_endpoint_format(const sm_endpoint *ep, char *buf, size_t n)
{
    char tmp[SMU_IP_STRLEN];
    sm_addr_format(&ep->addr, tmp, sizeof tmp);
    int k = ep->addr.family == 6 ? snprintf(buf, n, "[%s]:%u", tmp, ep->port)
                                 : snprintf(buf, n, "%s:%u", tmp, ep->port);
    return k < 0 ? 0 : (size_t)k;
}

bool sm_addr_equal(const sm_addr *a, const sm_addr *b) { return sm__addr_eq(a, b); }

bool sm_addr_is_v4mapped(const sm_addr *a) { return sm__addr_is_v4mapped(a); }

bool sm_addr_is_any(const sm_addr *a) { return sm__addr_is_any(a); }

bool sm_addr_v4(const sm_addr *a, uint32_t *out) { return sm__addr_v4(a, out); }

sm_addr sm_addr_unmapped(const sm_addr *a) { return sm__addr_unmapped(a); }

sm_addr sm_addr_mapped(const sm_addr *a) { return sm__addr_mapped(a); }

bool sm_addr_is_loopback(const sm_addr *a)
{
    static const uint8_t v6lo[16] = {[15] = 1};
    uint32_t v4;
    if (sm_addr_v4(a, &v4))
        return (v4 >> 24) == 127;
    return memcmp(a->b, v6lo, 16) == 0;
}

bool sm_addr_is_multicast(const sm_addr *a)
{
    uint32_t v4;
    if (sm_addr_v4(a, &v4))
        return (v4 >> 28) == 0xe;
    return a->b[0] == 0xff;
}

sm_addr sm_addr_any(int family) { return sm__addr_any(family); }
