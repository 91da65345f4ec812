/*
 * cli_opt.h - command-line helpers shared by the subcommands: options
 * written "--opt VALUE" or "--opt=VALUE", numbers, and the error line
 * that goes with exit status 2.
 */
#ifndef SOCKMODEL_CLI_OPT_H
#define SOCKMODEL_CLI_OPT_H

#include <stdbool.h>
#include <stdint.h>

/* a is the option name, alone or as "name=VALUE". */
bool cli_is_opt(const char *a, const char *name);
/* The value of option argv[*i] (named name): after its '=', else the next
 * argument (*i moves past it); NULL when there is none. */
const char *cli_opt_value(int argc, char **argv, int *i, const char *name);
/* A decimal number that fits 64 bits: digits only, no sign, no spaces. */
bool cli_parse_u64(const char *s, uint64_t *out);
/* Prints "sockmodel: error: MESSAGE" then hint (where to look for the
 * usage, or "") and a newline to stderr; returns 2, the exit status of
 * a wrong command line. */
int cli_error(const char *hint, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
