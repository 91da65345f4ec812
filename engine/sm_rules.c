/*
 * sm_rules.c - rule records: the confidence names, the prose line of a
 * record, and the engine's own rule sets (facts every OS shares, the
 * model's limits, the profile contract).  The lookup by ID over every
 * profile's rules lives with the profile registry (profiles/registry.c).
 */
#include "sm_prof.h"
#include "sm_world.h"

#include <stdio.h>

const char *sm_confidence_name(sm_confidence c)
{
    static const char *const names[] = {"source", "test", "observed",
                                        "documented", "inferred", "unverified"};
    return (unsigned)c < sizeof names / sizeof names[0] ? names[c] : "unverified";
}

const char *sm_rule_line(const sm_rule *r, char *buf, size_t n)
{
    if (n == 0)
        return buf;
    if (!r)
        buf[0] = '\0';
    else if (r->source && r->source[0])
        snprintf(buf, n, "%s [%s]", r->text, r->source);
    else
        snprintf(buf, n, "%s", r->text);
    return buf;
}

/* The engine files' sets (each file defines its own). */
extern const sm_rule_set sm__rules_sm_usrreq, sm__rules_sm_timewait, sm__rules_sm_world,
    sm__rules_sm_demux, sm__rules_sm_timer;

const sm_rule_set *const sm__engine_rule_sets[] = {
    &sm__rules_sm_usrreq, &sm__rules_sm_timewait, &sm__rules_sm_world,
    &sm__rules_sm_demux, &sm__rules_sm_timer,
    &sm__rules_prof, NULL,
};
