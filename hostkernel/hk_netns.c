/*
 * hk_netns.c - private network namespaces: unshare(CLONE_NEWNET), lo up
 * (SIOCSIFFLAGS), addresses on lo (rtnetlink RTM_NEWADDR), setns() back
 * and forth.  What it models: nothing; it isolates real sockets so that a
 * run never touches this machine's own network.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "hk_netns.h"

static bool lo_up(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return false;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    bool ok = ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
    ifr.ifr_flags |= IFF_UP;
    ok = ok && ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
    close(s);
    return ok;
}

/* RTM_NEWADDR on lo; IPv6 with IFA_F_NODAD so it is usable at once. */
static bool addr_add(int nl, const sm_addr *a)
{
    struct {
        struct nlmsghdr nh;
        struct ifaddrmsg ifa;
        char attrs[64];
    } req;
    memset(&req, 0, sizeof req);
    size_t alen = a->family == 4 ? 4 : 16;
    req.nh.nlmsg_type = RTM_NEWADDR;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    req.nh.nlmsg_seq = 1;
    req.ifa.ifa_family = a->family == 4 ? AF_INET : AF_INET6;
    req.ifa.ifa_prefixlen = (unsigned char)(alen * 8);
    req.ifa.ifa_flags = a->family == 6 ? IFA_F_NODAD : 0;
    req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    req.ifa.ifa_index = if_nametoindex("lo");
    size_t off = NLMSG_ALIGN(NLMSG_LENGTH(sizeof req.ifa));
    unsigned short types[2] = {IFA_LOCAL, IFA_ADDRESS};
    for (int i = 0; i < 2; i++) {
        struct rtattr *rta = (struct rtattr *)((char *)&req + off);
        rta->rta_type = types[i];
        rta->rta_len = (unsigned short)RTA_LENGTH(alen);
        memcpy(RTA_DATA(rta), a->b, alen);
        off += RTA_ALIGN(rta->rta_len);
    }
    req.nh.nlmsg_len = (unsigned)off;
    if (send(nl, &req, off, 0) < 0)
        return false;
    char buf[512];
    ssize_t n = recv(nl, buf, sizeof buf, 0);
    if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)))
        return false;
    const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
    if (h->nlmsg_type != NLMSG_ERROR)
        return false;
    const struct nlmsgerr *e = NLMSG_DATA(h);
    return e->error == 0 || e->error == -EEXIST;
}

/* Waits (at most about 2 s) until a datagram sent to IPv6 address A comes
 * back: the kernel installs an address's local route from a work queue
 * after RTM_NEWADDR returns, and until then a datagram to it is routed out
 * of lo and dropped.  Under load that took more than the first steps of a
 * scenario. */
static void addr6_settle(const sm_addr *a)
{
    int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return;
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof sa);
    sa.sin6_family = AF_INET6;
    memcpy(&sa.sin6_addr, a->b, 16);
    socklen_t len = sizeof sa;
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(s, (struct sockaddr *)&sa, &len) != 0) {
        close(s);
        return;
    }
    for (int i = 0; i < 2000; i++) {
        char b = 0;
        if (sendto(s, &b, 1, 0, (struct sockaddr *)&sa, sizeof sa) == 1) {
            struct pollfd p = {s, POLLIN, 0};
            if (poll(&p, 1, 1) == 1 && recv(s, &b, 1, 0) == 1)
                break;
        } else {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    close(s);
}

int hk_netns_current(void)
{
    return open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
}

int hk_netns_enter(int fd)
{
    return setns(fd, CLONE_NEWNET) == 0 ? 0 : errno;
}

const char *hk_netns_new(const sm_addr *addrs, size_t n, int *fd, int *err)
{
    *fd = -1;
    *err = 0;
    if (unshare(CLONE_NEWNET) != 0) {
        *err = errno;
        return "unshare";
    }
    int ns = hk_netns_current();
    if (ns < 0) {
        *err = errno;
        return "/proc/self/ns/net";
    }
    if (!lo_up()) {
        close(ns);
        return "cannot bring lo up in the new network namespace";
    }
    int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (nl < 0) {
        close(ns);
        return "cannot open an rtnetlink socket in the new network namespace";
    }
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++)
        ok = addr_add(nl, &addrs[i]);
    close(nl);
    for (size_t i = 0; ok && i < n; i++)
        if (addrs[i].family == 6)
            addr6_settle(&addrs[i]);
    if (!ok) {
        close(ns);
        return "cannot add the scenario's addresses to lo in the new "
               "network namespace";
    }
    *fd = ns;
    return NULL;
}
