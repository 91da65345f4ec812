/*
 * scn_lex.h - the lexical layer of scenario files (internal to libscn):
 * splitting a buffer into lines, checking each line (length, NUL bytes,
 * UTF-8), cutting off comments, and splitting a range of a line into
 * words with their 1-based columns.
 */
#ifndef SCN_LEX_H
#define SCN_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* A word of a line.  col counts characters (UTF-8 code points), from 1. */
typedef struct scn_tok {
    const char *s;
    size_t len;
    unsigned col;
} scn_tok;

/* Walks a buffer line by line. */
typedef struct scn_reader {
    const char *p, *end;
    unsigned lineno;
} scn_reader;

void scn_reader_init(scn_reader *r, const char *text, size_t len);
/* Next line without its "\n" or "\r\n"; false at the end of the buffer. */
bool scn_reader_next(scn_reader *r, const char **line, size_t *len);

/* Checks one line.  Returns true if it is valid; else *off is the byte
 * offset of the problem and *what says what it is. */
bool scn_line_check(const char *line, size_t len, size_t *off,
                    const char **what);

/* Length of the line without its comment and trailing blanks. */
size_t scn_line_code_len(const char *line, size_t len);

/* Column of byte offset OFF of a valid UTF-8 line. */
unsigned scn_col(const char *line, size_t off);
/* Number of characters in S[0..len). */
unsigned scn_chars(const char *s, size_t len);

/* Splits line[from..to) into words separated by blanks; each character of
 * PUNCT is a word by itself.  OUT needs room for (to - from + 1) words.
 * Returns the number of words. */
size_t scn_split(const char *line, size_t from, size_t to, const char *punct,
                 scn_tok *out);

/* scn_split from column COL of line[from], with the column where it
 * stopped in *stop_col and the offset in *stop: TO, or with ARROW the
 * first "=>" (which ends the words; the arrow is not one). */
size_t scn_split_at(const char *line, size_t from, size_t to,
                    const char *punct, unsigned col, bool arrow,
                    scn_tok *out, size_t *stop, unsigned *stop_col);

/* Inline, so that the length of a literal word is a constant (the parser
 * tries a token against keyword after keyword). */
static inline bool scn_tok_is(const scn_tok *t, const char *word)
{
    size_t n = strlen(word);
    return t->len == n && memcmp(t->s, word, n) == 0;
}

/* Offset of the first "=>" in line[from..to), or to. */
size_t scn_find_arrow(const char *line, size_t from, size_t to);

/* Offset just past the ']' that closes the '[' at line[from], counting
 * nested brackets (character classes); 0 if it is not closed. */
size_t scn_find_guard_end(const char *line, size_t from, size_t to);

#endif /* SCN_LEX_H */
