/*
 * cmd_gen.c - placeholder while `sockmodel gen` is being written (session 3);
 * replaced by its implementation before it is committed.
 */
#include <stdio.h>

#include "cmds.h"

int scn_cmd_gen(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("sockmodel: error: 'gen' is not available in this build\n", stderr);
    return 2;
}
