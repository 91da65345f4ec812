/*
 * cmd_replay.c - placeholder while `sockmodel replay` is being written (session 3);
 * replaced by its implementation before it is committed.
 */
#include <stdio.h>

#include "cmds.h"

int scn_cmd_replay(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("sockmodel: error: 'replay' is not available in this build\n", stderr);
    return 2;
}
