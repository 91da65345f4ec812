/*
 * pcap_none.c - `run --pcap` in a build without libpcap (configure found
 * none): the writer of pcap_out.h cannot exist, so opening a capture
 * fails with a message that says why and what to install; nothing is
 * ever written.
 */
#include <stdio.h>

#include "pcap_out.h"

scn_pcap *scn_pcap_open(const char *path, char *err, size_t errlen)
{
    if (errlen)
        snprintf(err, errlen,
                 "cannot write %s: pcap output needs libpcap, and this sockmodel "
                 "was built without it (install it, e.g. Debian libpcap-dev, and "
                 "rebuild)",
                 path);
    return NULL;
}

/* Never reached: no scn_pcap is ever opened. */
void scn_pcap_segment(void *ctx, const sm_segment *seg)
{
    (void)ctx;
    (void)seg;
}

uint64_t scn_pcap_count(const scn_pcap *p)
{
    (void)p;
    return 0;
}

uint64_t scn_pcap_capped(const scn_pcap *p)
{
    (void)p;
    return 0;
}

int scn_pcap_close(scn_pcap *p, char *err, size_t errlen)
{
    (void)p;
    (void)err;
    (void)errlen;
    return 0;
}
