/*
 * gen_scn.h - random but meaningful scenarios for differential testing
 * (`sockmodel gen`, issue 4), and the differential check that runs them
 * under two profiles and shrinks any difference to a few lines.
 *
 * The generator is deterministic: scenario INDEX of SEED is always the same
 * text, whatever else is generated before or after it (its own splitmix64
 * stream; no rand(), no clock).
 */
#ifndef GEN_SCN_H
#define GEN_SCN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "scn.h"

/* A splitmix64 stream. */
typedef struct scn_rng {
    uint64_t s;
} scn_rng;

void scn_rng_seed(scn_rng *r, uint64_t seed, uint64_t stream);
uint64_t scn_rng_next(scn_rng *r);
/* Uniform in [0, n); n > 0. */
unsigned scn_rng_below(scn_rng *r, unsigned n);
/* True with probability pct/100. */
bool scn_rng_pct(scn_rng *r, unsigned pct);

/* Appends the statements of scenario INDEX of SEED to OUT, one per line,
 * each ending in '\n', no comments (callers add a header).
 *
 * AVOID_OPEN leaves out the constructs behind the open differences between
 * the linux model and the real kernel (docs/gen-probe.md), until the model
 * is fixed.  None is open at present (O1 to O6 are fixed): the flag is kept
 * for the next one found. */
/* Out of memory with no recovery point set (scn.h): out->failed. */
void scn_gen_scenario(uint64_t seed, uint64_t index, bool avoid_open, scn_buf *out);

/* ---- the differential check (gen_diff.c) -------------------------------- */

typedef struct scn_diff_opts {
    const char *profiles; /* the --profile argument: must select 2 profiles */
    uint64_t seed;        /* generator seed */
    uint64_t first;       /* first scenario index */
    uint64_t count;       /* number of scenarios */
    uint64_t run_seed;    /* seed given to scn_run_file */
    bool all;             /* go on after a difference */
    bool quiet;           /* no progress lines */
    bool include_open;    /* generate the open differences too */
    unsigned max_runs;    /* shrinking budget per difference (runs) */
} scn_diff_opts;

/* Runs the check, prints differences (shrunk) and the summary on OUT,
 * progress on ERR.  Returns 0 (no difference), 1 (differences), 2 (bad
 * command line or a generated scenario that does not parse). */
int scn_diff_check(const scn_diff_opts *o, FILE *out, FILE *err);

#endif /* GEN_SCN_H */
