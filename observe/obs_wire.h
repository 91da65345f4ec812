/*
 * obs_wire.h - the record the preload shim (exec/sm_preload.c) writes for
 * each socket call a program makes, and that the launcher reads back.
 *
 * One record is one call as the kernel answered it: who (pid, tid), when
 * (CLOCK_REALTIME, ns), which call and in which spelling, the descriptor,
 * up to three integer arguments, up to two socket addresses, the return
 * value and errno.  Records are fixed-size and smaller than PIPE_BUF, so
 * writes from many processes and threads into one FIFO never interleave.
 * This header is shared by the shim (which links nothing of sockmodel) and
 * the observe library; it has no functions.
 */
#ifndef OBS_WIRE_H
#define OBS_WIRE_H

#include <stdint.h>

/* What happened (obs_wire.call and obs_event.call). */
enum obs_call {
    OBS_NONE = 0,
    OBS_START,     /* a process image began: a1 = parent pid; name = argv[0];
                    * a2 = effective uid when a3 is 1 (0 from strace: unknown) */
    OBS_FORK,      /* this process was forked: a1 = parent pid; a2, a3 as START */
    OBS_EXIT,      /* the process ends (a1 = status, or -signal) */
    OBS_SOCKET,    /* a1 = domain, a2 = type (with flags), a3 = protocol */
    OBS_SETSOCKOPT,/* a1 = level, a2 = optname, a3 = int value (linger: onoff), a4 = linger secs */
    OBS_GETSOCKOPT,/* a1 = level, a2 = optname, a3 = int value returned */
    OBS_BIND,      /* addr_a = address; port 0: addr_b = the local address
                    * after it (its port: the one this machine picked) */
    OBS_LISTEN,    /* a1 = backlog */
    OBS_CONNECT,   /* addr_b = destination, addr_a = local address after it (if known) */
    OBS_ACCEPT,    /* fd = listener, ret = new fd, a1 = flags, addr_a = local, addr_b = peer */
    OBS_CLOSE,
    OBS_SHUTDOWN,  /* a1 = how */
    OBS_SEND,      /* a1 = bytes asked; ret = bytes sent; addr_b = sendto address;
                    * datagram sockets: addr_a = the local address it sent from */
    OBS_RECV,      /* a1 = bytes asked; ret = bytes read (0: end of stream);
                    * addr_b = where recvfrom/recvmsg's datagram came from */
    OBS_NONBLOCK,  /* a1 = 1 on, 0 off */
    OBS_CLOEXEC,   /* a1 = 1 on, 0 off */
    OBS_DUP,       /* fd = old, ret = new, a1 = 1 if the new fd is close-on-exec */
    OBS_EXEC,      /* the process replaces its image (logged after success) */
    OBS_CALL_COUNT
};

/* The spelling the program used (obs_wire.variant), for the report. */
enum obs_variant {
    OBSV_DEFAULT = 0,
    OBSV_ACCEPT4, OBSV_READ, OBSV_WRITE, OBSV_RECVFROM, OBSV_SENDTO,
    OBSV_RECVMSG, OBSV_SENDMSG, OBSV_FCNTL, OBSV_IOCTL, OBSV_DUP2, OBSV_DUP3,
    OBSV_FDUPFD, OBSV_SOCK_FLAG, OBSV_VARIANT_COUNT
};

/* A socket address as the program gave or got it (family 0: none). */
typedef struct obs_wire_addr {
    uint8_t family; /* 4 or 6 */
    uint8_t pad;
    uint16_t port;  /* host byte order */
    uint8_t b[16];
} obs_wire_addr;

typedef struct obs_wire {
    uint32_t magic;   /* OBS_WIRE_MAGIC */
    uint32_t pid, tid;
    uint8_t call, variant, pad[2];
    uint64_t t_ns;
    int32_t fd;
    int32_t err;      /* errno when ret < 0 */
    int64_t ret;
    int64_t a1, a2, a3, a4;
    obs_wire_addr addr_a, addr_b;
    char name[16];    /* OBS_START: the program's name */
} obs_wire;

#define OBS_WIRE_MAGIC 0x736d6f62u /* "bosm" */

/* Each process's records (but start, fork and exit, which go through the
 * FIFO) go to a file of its own next to the FIFO, "ring.PID.N", mapped
 * shared: an obs_ring_head in the first record's place, then up to
 * OBS_RING_RECORDS records.  A record is complete once its magic is set. */
typedef struct obs_ring_head {
    uint64_t count; /* records claimed (may exceed the capacity) */
    uint8_t pad[sizeof(obs_wire) - sizeof(uint64_t)];
} obs_ring_head;

#define OBS_RING_BYTES ((uint64_t)64 << 20)
#define OBS_RING_RECORDS (OBS_RING_BYTES / sizeof(obs_wire) - 1)

/* Linux's option numbers (include/uapi/linux/in.h), for C libraries
 * that lack them. */
#define OBS_IP_BIND_ADDRESS_NO_PORT 24
#define OBS_IP_LOCAL_PORT_RANGE 51

/* The environment the launcher gives the program. */
#define OBS_ENV_FIFO "SOCKMODEL_EXEC_FIFO"
#define OBS_ENV_PRELOAD "SOCKMODEL_EXEC_PRELOAD"

#endif
