/*
 * smu_text.c - UTF-8 validation and JSON string literals (see smu_text.h).
 */
#include "smu_text.h"

#include <string.h>

size_t smu_utf8_seq(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned c = s[0];
    size_t need;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    unsigned cp = c & (0x7Fu >> need);
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

/* The bytes written as they are: printable ASCII but '"' and '\\'. */
#define JP(c) ((c) >= 0x20 && (c) < 0x7F && (c) != '"' && (c) != '\\')
#define JP4(c) JP(c), JP((c) + 1), JP((c) + 2), JP((c) + 3)
#define JP16(c) JP4(c), JP4((c) + 4), JP4((c) + 8), JP4((c) + 12)
#define JP64(c) JP16(c), JP16((c) + 16), JP16((c) + 32), JP16((c) + 48)
static const unsigned char json_plain[256] = {JP64(0), JP64(64)};
#undef JP64
#undef JP16
#undef JP4
#undef JP

char *smu_json_escape(char *p, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned ch = (unsigned char)s[i];
        if (json_plain[ch]) { /* a run of them, copied at once */
            size_t j = i + 1;
            while (j < n && json_plain[(unsigned char)s[j]])
                j++;
            memcpy(p, s + i, j - i);
            p += j - i;
            i = j;
        } else if (ch == '"' || ch == '\\') {
            *p++ = '\\';
            *p++ = (char)ch;
            i++;
        } else if (ch < 0x20 || ch == 0x7F) {
            static const char hex[] = "0123456789abcdef";
            memcpy(p, "\\u00", 4);
            p[4] = hex[ch >> 4];
            p[5] = hex[ch & 15];
            p += 6;
            i++;
        } else {
            size_t len = smu_utf8_seq(s + i, n - i);
            if (len == 0) {
                memcpy(p, "\\ufffd", 6);
                p += 6;
                len = 1;
            } else {
                memcpy(p, s + i, len);
                p += len;
            }
            i += len;
        }
    }
    return p;
}

void smu_json_str(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    /* escaped a piece at a time through a buffer on the stack.  A piece
     * ends before a byte that is not a continuation byte (no sequence
     * that began before it can reach past it), or, when the four bytes
     * before its end are all continuation bytes, at its full length (no
     * lead byte lies in the three before it, and a sequence is at most
     * four bytes): each sequence is judged whole, as in one pass. */
    enum { PIECE = 256 };
    char buf[SMU_JSON_ROOM(PIECE)];
    size_t n = strlen(s);
    fputc('"', out);
    while (n > 0) {
        size_t k = n < PIECE ? n : PIECE;
        if (k < n) {
            size_t end = k;
            while (k > end - 4 && ((unsigned char)s[k] & 0xC0) == 0x80)
                k--;
            if (((unsigned char)s[k] & 0xC0) == 0x80)
                k = end; /* s[end - 3 .. end] are all continuation bytes */
        }
        char *e = smu_json_escape(buf, s, k);
        fwrite(buf, 1, (size_t)(e - buf), out);
        s += k;
        n -= k;
    }
    fputc('"', out);
}
