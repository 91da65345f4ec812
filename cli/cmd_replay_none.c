/*
 * cmd_replay_none.c - `sockmodel replay` in a build without libpcap
 * (configure found none): reading a capture needs it, so the command
 * says so and exits 2.
 */
#include "cli_opt.h"
#include "cmds.h"

int scn_cmd_replay(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("", "replay: this sockmodel was built without libpcap, which "
                         "reading a capture needs (install it, e.g. Debian "
                         "libpcap-dev, and rebuild)");
}
