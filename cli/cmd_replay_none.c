/*
 * cmd_replay_none.c - `sockmodel replay` in a build without libpcap
 * (configure found none): reading a capture needs it, so the command
 * says so and exits 2 (--help: the usage line and the same note, exit 0).
 */
#include <stdio.h>
#include <string.h>

#include "cli_opt.h"
#include "cmds.h"

#define WHY "this sockmodel was built without libpcap, which reading a capture needs " \
            "(install it, e.g. Debian libpcap-dev, and rebuild)"

int scn_cmd_replay(int argc, char **argv)
{
    if (argc >= 1 && (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0)) {
        printf("usage: sockmodel replay [OPTIONS] CAPTURE\n"
               "Not available: %s.\n", WHY);
        return 0;
    }
    return cli_error("", "replay: %s", WHY);
}
