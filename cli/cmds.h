/*
 * cmds.h - the sockmodel subcommands that live outside main.c.  Each takes
 * the arguments after its own name and returns the exit status (0, 1, or
 * 2 for bad input or a wrong command line).
 */
#ifndef SOCKMODEL_CMDS_H
#define SOCKMODEL_CMDS_H

/* "sockmodel: error: ..." on stderr; returns 2 (cli/main.c). */
int cmdline_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* sockmodel replay: a capture through the model (cli/cmd_replay.c). */
int scn_cmd_replay(int argc, char **argv);
/* sockmodel gen: random scenarios, and the differential check (cli/cmd_gen.c). */
int scn_cmd_gen(int argc, char **argv);
/* sockmodel probe: the reuse matrix, host kernel and models (cli/cmd_probe.c). */
int scn_cmd_probe(int argc, char **argv);

/* sockmodel exec / trace: a real program observed, or its strace log,
 * mirrored under each profile (cli/cmd_exec.c). */
int scn_cmd_exec(int argc, char **argv);
int scn_cmd_trace(int argc, char **argv);
/* sockmodel pkt: packetdrill scripts under each profile (cli/cmd_pkt.c). */
int scn_cmd_pkt(int argc, char **argv);

#endif
