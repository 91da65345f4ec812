/*
 * obs.h - observed programs: the event log of what a real program's
 * socket calls returned, its mirror into one model world per profile, and
 * the report of where each OS would have answered differently.
 *
 * The log comes from the preload shim (exec/) or from an strace log
 * (trace/); both produce the same events (obs_wire records).  The mirror
 * replays them in time order on the model through the public engine API
 * (engine/sm.h), compares each call's observed result with each
 * profile's, marks calls after a process diverged, and can write what the
 * program did as a scenario file.
 */
#ifndef OBS_H
#define OBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "obs_wire.h"
#include "sm.h"

typedef struct obs_event {
    obs_wire w;
    uint32_t line; /* trace: the log line; exec: the record's number */
} obs_event;

typedef struct obs_log {
    obs_event *ev;
    size_t n, cap;
    char *command;  /* what was run, for the report (owned) */
    char *source;   /* the log's path (trace) or NULL */
} obs_log;

/* Appends a copy of *w; false when out of memory. */
bool obs_log_add(obs_log *log, const obs_wire *w, uint32_t line);
void obs_log_set_command(obs_log *log, int argc, char *const *argv);
void obs_log_free(obs_log *log);

/* One call whose result a profile gives differently. */
typedef struct obs_div {
    size_t ev;        /* index into the (time-sorted) log */
    sm_result pred;   /* what the profile returned */
    bool after;       /* the process had already diverged */
    bool has_value;   /* getsockopt: both succeeded with other values */
    int64_t value, value2; /* the profile's value (SO_LINGER: on, time) */
} obs_div;

typedef struct obs_profile_result {
    const sm_profile *profile;
    obs_div *divs;
    size_t n_divs;
    size_t n_first;   /* divergences that are not "after divergence" */
} obs_profile_result;

typedef struct obs_result {
    const obs_log *log;          /* sorted in place by obs_analyse */
    obs_profile_result *prof;
    size_t n_prof;
    size_t n_calls;              /* calls mirrored and compared */
    size_t n_procs, n_threads;
    char **ev_proc;              /* per event: the process's name (or NULL) */
} obs_result;

/* Mirrors the log (sorted by time in place) under each profile.  When scn
 * is not NULL the calls made on the model are written to it as a scenario.
 * Returns NULL (and a message in why) when out of memory. */
obs_result *obs_analyse(obs_log *log, const sm_profile *const *profiles,
                        size_t n_profiles, uint64_t seed, FILE *scn,
                        const char **why);
void obs_result_free(obs_result *r);
/* The mirror's own rule records (getsockopt values), for the reference. */
extern const sm_rule_set sm__rules_obs_mirror;

/* True when some profile diverges. */
bool obs_result_diverges(const obs_result *r);

void obs_report_text(FILE *out, const obs_result *r);
void obs_report_json(FILE *out, const obs_result *r);

/* The call as the program wrote it ("bind(3, 127.0.0.1:8765)"). */
void obs_format_call(const obs_event *e, char *buf, size_t n);
/* The observed outcome ("ok", "ok 78", "eof", "EADDRINUSE"; getsockopt:
 * "ok 1", "ok {1, 5}", "ok ECONNREFUSED"). */
void obs_format_observed(const obs_event *e, char *buf, size_t n);
/* A getsockopt value as the report writes it (SO_ERROR: the errno name). */
void obs_format_optval(const obs_wire *w, int64_t v, int64_t v2, char *buf,
                       size_t n);

#endif
