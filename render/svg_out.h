/*
 * svg_out.h - draw a scenario run as an SVG sequence diagram ("teaching
 * view", `sockmodel run --svg FILE`).
 *
 * One drawing per profile.  Time runs down the page; each scenario socket
 * is a column (grouped by host) showing its TCP state as coloured bands
 * with the state's name; every segment the world's network carries is an
 * arrow from the sending socket's column (at its send time) to the
 * receiving socket's column (at its arrival time), labelled with its flags
 * (SYN, SYN,ACK, FIN,ACK, RST, ...) and payload length.  On the left, each
 * step of the scenario with this profile's outcome and, where other
 * profiles of the run got something else, theirs.
 *
 * Time is not to scale: every step and every event gets a row, and the
 * space between rows grows with the logarithm of the real gap, so a 60 s
 * TIME_WAIT does not dwarf a 1 ms handshake; real times are written on the
 * left.  The output is deterministic (same run, same bytes).
 *
 * What the drawing infers (the engine is only observed through sm.h):
 * - States are read after every step and whenever a segment is sent; a
 *   change seen then is drawn at the latest arrival of a segment at that
 *   socket since the previous reading, or at the reading itself.  A change
 *   made by a timer inside a long `wait` with no segment shows at the end
 *   of that step.
 * - Every arrow ends at the socket the engine delivered the segment to
 *   (its delivery tap: a SYN at the listener the profile chose, a segment
 *   for a TIME_WAIT entry at the socket that entered it); a segment no
 *   socket took ends in the host's "(stack)" column, one sent to an address
 *   no host has in a "(nowhere)" column.  A socket that segments reached
 *   but no scenario name holds at the end (a connection never accepted, a
 *   socket whose name was given to another) gets a column of its own, named
 *   as the engine names it ("g1/2").  A TCP segment's sender is the
 *   socket that took the last segment of its connection the other way (the
 *   next one, when that went to a listener: the new connection's socket);
 *   without such a delivery, the sender is matched by host and endpoints.
 *   An accepted socket's column starts at its first segment;
 *   until `accept` returns it is drawn as "not accepted yet".
 * - Bind lessons: a successful bind writes the address and port bound on
 *   the socket's column, a setsockopt that succeeded the option as written;
 *   a bind refused because of another socket is a red dashed arrow to that
 *   socket (the engine's culprit), labelled with the error and the rule
 *   (all of it in the arrow's <title>).
 * - A run without segments and more than 8 sockets is drawn as a grid: a
 *   socket's column covers only the rows where it takes part (created,
 *   operated on, named as a culprit) and is reused afterwards, its name
 *   written at its top.
 *
 * Use: scn_svg_new() before the run (opens every file, so a bad path fails
 * before anything runs), the three hook functions from scn_hooks, then
 * scn_svg_write() with the run's result (needed to compare profiles).
 */
#ifndef SVG_OUT_H
#define SVG_OUT_H

#include <stddef.h>

#include "scn.h"
#include "sm.h"

typedef struct scn_svg scn_svg;

/* Opens (creates or truncates) paths[i] for profiles[i], i < n.  On failure
 * returns NULL (nothing left open) with a message naming the path in err.
 * paths NULL: no files; the drawings are had with scn_svg_draw. */
scn_svg *scn_svg_new(const scn_file *f, const sm_profile *const *profiles,
                     const char *const *paths, size_t n, char *err,
                     size_t errlen);

/* Hook bodies (they allocate: call them from the hooks of
 * scn_run_file_hooks, whose recovery point covers them, or under the
 * program's; the entry points around them - new, draw, write - set their
 * own when the program set none, and out of memory is their error).
 * world_created installs the drawing's tap on w; every
 * segment is passed on to chain(chain_ctx, seg) first when chain is not
 * NULL (a world has one tap: this is how --pcap and --svg share it). */
void scn_svg_world_created(scn_svg *s, sm_world *w, const sm_profile *p,
                           sm_tap_fn chain, void *chain_ctx);
void scn_svg_step_done(scn_svg *s, sm_world *w, const sm_profile *p,
                       const scn_stmt *st, const scn_cell *cell,
                       const sm_id *socks, size_t n_socks);
/* Every delivery the engine reports is passed on to fn(ctx, ...) first
 * (before the next world_created; a world has one delivery tap). */
void scn_svg_chain_delivery(scn_svg *s, sm_delivery_fn fn, void *ctx);
void scn_svg_world_done(scn_svg *s, sm_world *w, const sm_profile *p);

/* Writes and closes every file (none if made without paths).  r is the result of the run the hooks
 * saw.  Returns 0, or -1 with a message in err if a write failed. */
int scn_svg_write(scn_svg *s, const scn_result *r, char *err, size_t errlen);

/* Draws profile p's run (r: the result of the run the hooks saw) into out;
 * false if s did not record p. */
bool scn_svg_draw(scn_svg *s, const scn_result *r, const sm_profile *p,
                  scn_buf *out);

/* Frees s, closing any file still open (NULL is accepted). */
void scn_svg_free(scn_svg *s);

#endif /* SVG_OUT_H */
