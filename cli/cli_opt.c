/*
 * cli_opt.c - command-line helpers (see cli_opt.h).
 */
#include "cli_opt.h"
#include "cmds.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool cli_is_opt(const char *a, const char *name)
{
    size_t n = strlen(name);
    return strncmp(a, name, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

const char *cli_opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) == 0 && a[n] == '=')
        return a + n + 1;
    if (*i + 1 < argc)
        return argv[++*i];
    return NULL;
}

bool cli_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static int verror(const char *hint, const char *fmt, va_list ap)
{
    fputs("sockmodel: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(hint, stderr);
    fputc('\n', stderr);
    return 2;
}

int cli_error(const char *hint, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int st = verror(hint, fmt, ap);
    va_end(ap);
    return st;
}

int cmdline_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int st = verror("", fmt, ap);
    va_end(ap);
    return st;
}
