/*
 * scn_backend.c - the backend registry and the choice of a run's columns.
 *
 * Every profile of the OS registry is a column on the model backend.  A
 * reserved name (`host`, the real kernel) is a column on the backend the
 * program registered under it; it is selected only when the patterns name
 * it literally.  When nothing was registered (a build without the kernel
 * backend), the column opens to an error saying so.
 */
#include <stdlib.h>
#include <string.h>

#include "scn_backend.h"

typedef struct named {
    const char *name;
    const char *absent; /* the error when no backend was registered */
    const scn_backend *b;
    const sm_profile *os;
} named;

static named named_backends[] = {
    {SCN_KERNEL_NAME,
     "the host profile needs the real-kernel backend, which this build of "
     "sockmodel does not have (it is built on Linux only)",
     NULL, NULL},
};

#define N_NAMED (sizeof named_backends / sizeof named_backends[0])

static named *named_find(const char *name)
{
    for (size_t i = 0; i < N_NAMED; i++)
        if (strcmp(named_backends[i].name, name) == 0)
            return &named_backends[i];
    return NULL;
}

bool scn_backend_register(const char *name, const scn_backend *b,
                          const sm_profile *os)
{
    named *n = named_find(name);
    if (!n || !b || !os)
        return false;
    n->b = b;
    n->os = os;
    return true;
}

const scn_backend *scn_backend_find(const char *name)
{
    const named *n = named_find(name);
    return n ? n->b : NULL;
}

bool scn_backend_reserved(const char *name)
{
    return named_find(name) != NULL;
}

sm_result scn_result_ok(const sm_rule *rule)
{
    sm_result r;
    memset(&r, 0, sizeof r);
    r.culprit = SM_NONE;
    r.rule = rule;
    return r;
}

/* ---- a backend that is not there --------------------------------------- */

static scn_exec *absent_open(const scn_open_args *a, scn_buf *why)
{
    const named *n = named_find(a->col->name);
    scn_buf_puts(why, n ? n->absent : "no backend runs this column");
    return NULL;
}

static const scn_backend absent_backend = {
    .no_world = "it is not run in this build",
    .open = absent_open,
};

/* ---- columns ----------------------------------------------------------- */

bool scn_patlist_names(const scn_patlist *l, const char *name)
{
    for (size_t i = 0; l && i < l->n; i++)
        if (!l->v[i].neg && strcmp(l->v[i].glob, name) == 0)
            return true;
    return false;
}

size_t scn_select_columns(const scn_file *f, const scn_patlist *override,
                          scn_column **out)
{
    const scn_patlist *sel = override;
    if (!sel && f && f->has_profile)
        sel = &f->profile;
    size_t n = 0, total = sm_profile_count();
    *out = scn_xmalloc((total + N_NAMED + 1) * sizeof **out);
    for (size_t i = 0; i < total; i++) {
        const sm_profile *p = sm_profile_at(i);
        if (!sel || scn_patlist_match(sel, sm_profile_name(p)))
            (*out)[n++] =
                (scn_column){sm_profile_name(p), p, &scn_model_backend};
    }
    for (size_t i = 0; sel && i < N_NAMED; i++) {
        const named *nb = &named_backends[i];
        if (scn_patlist_names(sel, nb->name))
            (*out)[n++] = (scn_column){nb->name, nb->os,
                                       nb->b ? nb->b : &absent_backend};
    }
    return n;
}
