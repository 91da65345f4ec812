/*
 * scn_lex.c - lexical rules of scenario files: lines end in "\n" or
 * "\r\n", must be valid UTF-8 without NUL bytes and at most SCN_MAX_LINE
 * bytes long; '#' starts a comment; words are separated by spaces or tabs.
 * Columns in messages count characters, not bytes.
 */
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
        if (s[i] == 0) {
            *off = i;
            *what = "NUL byte in the text";
            return false;
        }
        if (s[i] < 0x80) { /* ASCII, the usual text: no call per byte */
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

size_t scn_split(const char *line, size_t from, size_t to, const char *punct,
                 scn_tok *out)
{
    size_t n = 0;
    size_t i = from;
    unsigned col = scn_col(line, from);
    /* punct as a table: one strchr per character was a tenth of the
     * parse's time */
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
    return n;
}

size_t scn_find_arrow(const char *line, size_t from, size_t to)
{
    for (size_t i = from; i + 1 < to; i++)
        if (line[i] == '=' && line[i + 1] == '>')
            return i;
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
