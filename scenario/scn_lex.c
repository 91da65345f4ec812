/*
 * scn_lex.c - lexical rules of scenario files: lines end in "\n" or
 * "\r\n", must be valid UTF-8 without NUL bytes and at most SCN_MAX_LINE
 * bytes long; '#' starts a comment; words are separated by spaces or tabs.
 * Columns in messages count characters, not bytes.
 */
#include <stdint.h>
#include <string.h>

#include "scn.h"
#include "scn_lex.h"
#include "smu_text.h"

void scn_reader_init(scn_reader *r, const char *text, size_t len)
{
    r->p = text;
    r->end = text + len;
    r->lineno = 0;
    /* A UTF-8 byte order mark at the start is not part of the text. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        r->p += 3;
}

bool scn_reader_next(scn_reader *r, const char **line, size_t *len)
{
    if (r->p >= r->end)
        return false;
    const char *start = r->p;
    const char *nl = memchr(start, '\n', (size_t)(r->end - start));
    const char *stop = nl ? nl : r->end;
    r->p = nl ? nl + 1 : r->end;
    if (stop > start && stop[-1] == '\r')
        stop--;
    *line = start;
    *len = (size_t)(stop - start);
    r->lineno++;
    return true;
}

bool scn_line_check(const char *line, size_t len, size_t *off,
                    const char **what)
{
    const unsigned char *s = (const unsigned char *)line;
    if (len > SCN_MAX_LINE) {
        *off = SCN_MAX_LINE;
        *what = "line is longer than 4096 bytes";
        return false;
    }
    size_t i = 0;
    while (i < len) {
        /* ASCII without NUL, the usual text: eight bytes at a time, and
         * a tail shorter than eight as the line's last eight bytes */
        if (len >= 8) {
            size_t at = len - i >= 8 ? i : len - 8;
            uint64_t v;
            memcpy(&v, s + at, 8);
            uint64_t zero = (v - 0x0101010101010101u) & ~v;
            if (((v | zero) & 0x8080808080808080u) == 0) {
                i = at + 8;
                continue;
            }
        }
        if (s[i] == 0) {
            *off = i;
            *what = "NUL byte in the text";
            return false;
        }
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = smu_utf8_seq(line + i, len - i);
        if (n == 0) {
            *off = i;
            *what = "invalid UTF-8";
            return false;
        }
        i += n;
    }
    return true;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

size_t scn_line_code_len(const char *line, size_t len)
{
    const char *hash = memchr(line, '#', len);
    size_t n = hash ? (size_t)(hash - line) : len;
    while (n > 0 && is_blank(line[n - 1]))
        n--;
    return n;
}

unsigned scn_chars(const char *s, size_t len)
{
    unsigned n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

unsigned scn_col(const char *line, size_t off)
{
    return scn_chars(line, off) + 1;
}

/* Byte classes: blank, UTF-8 continuation byte, and the punctuation that
 * scn_split can be asked to treat as words of their own. */
enum { C_BLANK = 1, C_CONT = 2, C_EQ = 4, C_COMMA = 8, C_COLON = 16,
       C_SEMI = 32 };

static const unsigned char cls[256] = {
    [' '] = C_BLANK, [9] = C_BLANK, ['='] = C_EQ, [','] = C_COMMA,
    [':'] = C_COLON, [';'] = C_SEMI,
#define CONT4(b) [b] = C_CONT, [b + 1] = C_CONT, [b + 2] = C_CONT, [b + 3] = C_CONT
#define CONT16(b) CONT4(b), CONT4(b + 4), CONT4(b + 8), CONT4(b + 12)
    CONT16(0x80), CONT16(0x90), CONT16(0xA0), CONT16(0xB0),
#undef CONT16
#undef CONT4
};

/* The class bits of PUNCT's characters; 0 and *other set when one has no
 * class of its own. */
static unsigned punct_mask(const char *punct, bool *other)
{
    unsigned m = 0;
    *other = false;
    for (const char *p = punct; *p; p++) {
        unsigned k = cls[(unsigned char)*p];
        if (!(k & (C_EQ | C_COMMA | C_COLON | C_SEMI)))
            *other = true;
        m |= k;
    }
    return m;
}

/* The general form, for punctuation outside the classes (a table built
 * per call). */
static size_t split_any(const char *line, size_t from, size_t to,
                        const char *punct, unsigned col, scn_tok *out,
                        unsigned *end_col)
{
    size_t n = 0;
    size_t i = from;
    bool is_punct[256] = {false};
    for (const char *p = punct; *p; p++)
        is_punct[(unsigned char)*p] = true;
    while (i < to) {
        char c = line[i];
        if (is_blank(c)) {
            i++;
            col++;
            continue;
        }
        size_t start = i;
        unsigned start_col = col;
        if (is_punct[(unsigned char)c]) {
            i++;
            col++;
        } else {
            while (i < to && !is_blank(line[i]) && !is_punct[(unsigned char)line[i]]) {
                if (((unsigned char)line[i] & 0xC0) != 0x80)
                    col++;
                i++;
            }
        }
        out[n].s = line + start;
        out[n].len = i - start;
        out[n].col = start_col;
        n++;
    }
    *end_col = col;
    return n;
}

size_t scn_split_at(const char *line, size_t from, size_t to,
                    const char *punct, unsigned col, bool arrow,
                    scn_tok *out, size_t *stop, unsigned *stop_col)
{
    bool other;
    unsigned pm = punct_mask(punct, &other);
    if (other || (arrow && !(pm & C_EQ))) {
        size_t end = arrow ? scn_find_arrow(line, from, to) : to;
        *stop = end;
        return split_any(line, from, end, punct, col, out, stop_col);
    }
    const unsigned char *s = (const unsigned char *)line;
    unsigned word_end = C_BLANK | pm;
    size_t n = 0;
    size_t i = from;
    while (i < to) {
        unsigned k = cls[s[i]];
        if (k & C_BLANK) {
            i++;
            col++;
            continue;
        }
        if (s[i] == '=' && arrow && i + 1 < to && s[i + 1] == '>')
            break;
        size_t start = i;
        unsigned start_col = col;
        if (k & pm) {
            i++;
            col++;
        } else {
            /* a word: it ends at a blank or a punctuation mark ('=' is
             * one when ARROW is asked for, so "=>" is never inside) */
            size_t conts = 0; /* the word's first byte is never one */
            for (i++; i < to; i++) {
                k = cls[s[i]];
                if (!k) /* the usual byte: no class at all */
                    continue;
                if (k & word_end)
                    break;
                conts += (k & C_CONT) / C_CONT;
            }
            col += (unsigned)(i - start - conts);
        }
        out[n].s = line + start;
        out[n].len = i - start;
        out[n].col = start_col;
        n++;
    }
    *stop = i;
    *stop_col = col;
    return n;
}

size_t scn_split(const char *line, size_t from, size_t to, const char *punct,
                 scn_tok *out)
{
    size_t stop;
    unsigned end_col;
    return scn_split_at(line, from, to, punct, scn_col(line, from), false, out,
                        &stop, &end_col);
}

size_t scn_find_arrow(const char *line, size_t from, size_t to)
{
    size_t i = from;
    while (i + 1 < to) {
        const char *eq = memchr(line + i, '=', to - 1 - i);
        if (!eq)
            break;
        i = (size_t)(eq - line);
        if (line[i + 1] == '>')
            return i;
        i++;
    }
    return to;
}

size_t scn_find_guard_end(const char *line, size_t from, size_t to)
{
    unsigned depth = 0;
    for (size_t i = from; i < to; i++) {
        if (line[i] == '[') {
            depth++;
        } else if (line[i] == ']') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return 0;
}
