/*
 * cmd_probe.c - placeholder while `sockmodel probe` is being written (session 3);
 * replaced by its implementation before it is committed.
 */
#include <stdio.h>

#include "cmds.h"

int scn_cmd_probe(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("sockmodel: error: 'probe' is not available in this build\n", stderr);
    return 2;
}
