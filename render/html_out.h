/*
 * html_out.h - the one-file HTML report of a run (`sockmodel run --html
 * FILE`), for teaching: the per-OS table with the steps where the
 * profiles disagree highlighted, on every cell the explanation the
 * engine gave (the rule that decided, its source, the socket it clashed
 * with), and the drawing of every profile (svg_out) side by side.
 *
 * One self-contained file: no script, no font, no image, no style sheet
 * outside it, so it opens offline and from file://.  Large type and a
 * table that scrolls sideways for a projector; print CSS for paper (the
 * explanations of the differing steps printed under their cells, one
 * drawing a page).  Deterministic: the same run gives the same bytes.
 */
#ifndef HTML_OUT_H
#define HTML_OUT_H

#include <stddef.h>

#include "scn.h"
#include "svg_out.h"

/* Writes the report of run r (the run whose hooks fed s) to path.
 * Returns 0, or -1 with a message naming the path in err. */
int scn_html_write(const char *path, const scn_result *r, scn_svg *s,
                   char *err, size_t errlen);

#endif /* HTML_OUT_H */
