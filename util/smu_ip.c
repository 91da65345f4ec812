/*
 * smu_ip.c - address text (see smu_ip.h): the dotted quad, RFC 5952 IPv6
 * with glibc's embedded-IPv4 forms, and their parsers.
 */
#include "smu_ip.h"

#include <string.h>

static const char hexdig[] = "0123456789abcdef";

/* "0" .. "255" in four bytes each, NUL padded: a dotted quad is written
 * a few hundred thousand times in a large replay report, and dividing was
 * most of it. */
static const char octet_txt[256 * 4 + 1] =
    "0\0\0\0" "1\0\0\0" "2\0\0\0" "3\0\0\0" "4\0\0\0" "5\0\0\0" "6\0\0\0" "7\0\0\0"
    "8\0\0\0" "9\0\0\0" "10\0\0" "11\0\0" "12\0\0" "13\0\0" "14\0\0" "15\0\0"
    "16\0\0" "17\0\0" "18\0\0" "19\0\0" "20\0\0" "21\0\0" "22\0\0" "23\0\0"
    "24\0\0" "25\0\0" "26\0\0" "27\0\0" "28\0\0" "29\0\0" "30\0\0" "31\0\0"
    "32\0\0" "33\0\0" "34\0\0" "35\0\0" "36\0\0" "37\0\0" "38\0\0" "39\0\0"
    "40\0\0" "41\0\0" "42\0\0" "43\0\0" "44\0\0" "45\0\0" "46\0\0" "47\0\0"
    "48\0\0" "49\0\0" "50\0\0" "51\0\0" "52\0\0" "53\0\0" "54\0\0" "55\0\0"
    "56\0\0" "57\0\0" "58\0\0" "59\0\0" "60\0\0" "61\0\0" "62\0\0" "63\0\0"
    "64\0\0" "65\0\0" "66\0\0" "67\0\0" "68\0\0" "69\0\0" "70\0\0" "71\0\0"
    "72\0\0" "73\0\0" "74\0\0" "75\0\0" "76\0\0" "77\0\0" "78\0\0" "79\0\0"
    "80\0\0" "81\0\0" "82\0\0" "83\0\0" "84\0\0" "85\0\0" "86\0\0" "87\0\0"
    "88\0\0" "89\0\0" "90\0\0" "91\0\0" "92\0\0" "93\0\0" "94\0\0" "95\0\0"
    "96\0\0" "97\0\0" "98\0\0" "99\0\0" "100\0" "101\0" "102\0" "103\0"
    "104\0" "105\0" "106\0" "107\0" "108\0" "109\0" "110\0" "111\0"
    "112\0" "113\0" "114\0" "115\0" "116\0" "117\0" "118\0" "119\0"
    "120\0" "121\0" "122\0" "123\0" "124\0" "125\0" "126\0" "127\0"
    "128\0" "129\0" "130\0" "131\0" "132\0" "133\0" "134\0" "135\0"
    "136\0" "137\0" "138\0" "139\0" "140\0" "141\0" "142\0" "143\0"
    "144\0" "145\0" "146\0" "147\0" "148\0" "149\0" "150\0" "151\0"
    "152\0" "153\0" "154\0" "155\0" "156\0" "157\0" "158\0" "159\0"
    "160\0" "161\0" "162\0" "163\0" "164\0" "165\0" "166\0" "167\0"
    "168\0" "169\0" "170\0" "171\0" "172\0" "173\0" "174\0" "175\0"
    "176\0" "177\0" "178\0" "179\0" "180\0" "181\0" "182\0" "183\0"
    "184\0" "185\0" "186\0" "187\0" "188\0" "189\0" "190\0" "191\0"
    "192\0" "193\0" "194\0" "195\0" "196\0" "197\0" "198\0" "199\0"
    "200\0" "201\0" "202\0" "203\0" "204\0" "205\0" "206\0" "207\0"
    "208\0" "209\0" "210\0" "211\0" "212\0" "213\0" "214\0" "215\0"
    "216\0" "217\0" "218\0" "219\0" "220\0" "221\0" "222\0" "223\0"
    "224\0" "225\0" "226\0" "227\0" "228\0" "229\0" "230\0" "231\0"
    "232\0" "233\0" "234\0" "235\0" "236\0" "237\0" "238\0" "239\0"
    "240\0" "241\0" "242\0" "243\0" "244\0" "245\0" "246\0" "247\0"
    "248\0" "249\0" "250\0" "251\0" "252\0" "253\0" "254\0" "255\0";

/* Decimal 0..255 at p; returns the new end.  Writes 4 bytes: the padding
 * lands where the rest of the text (or its NUL) goes, within the room an
 * address of the longest form needs. */
static char *put_octet(char *p, unsigned v)
{
    memcpy(p, octet_txt + 4 * v, 4);
    return p + 1 + (v >= 10) + (v >= 100);
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
