/*
 * sm_names.c - names of errors, TCP states and socket options.
 *
 * The portable spellings used by scenarios and output ("EADDRINUSE",
 * "TIME_WAIT", "SO_REUSEADDR") and their parsers.  Native (Windows) error
 * names belong to the profiles, not here.
 */
#include "sm.h"

#include <string.h>

static const char *const err_names[SM_ERR_COUNT] = {
    [SM_OK] = "ok",
    [SM_EADDRINUSE] = "EADDRINUSE",
    [SM_EADDRNOTAVAIL] = "EADDRNOTAVAIL",
    [SM_EACCES] = "EACCES",
    [SM_EINVAL] = "EINVAL",
    [SM_EISCONN] = "EISCONN",
    [SM_ENOTCONN] = "ENOTCONN",
    [SM_ENOPROTOOPT] = "ENOPROTOOPT",
    [SM_EOPNOTSUPP] = "EOPNOTSUPP",
    [SM_ECONNREFUSED] = "ECONNREFUSED",
    [SM_ECONNRESET] = "ECONNRESET",
    [SM_ECONNABORTED] = "ECONNABORTED",
    [SM_EINPROGRESS] = "EINPROGRESS",
    [SM_EALREADY] = "EALREADY",
    [SM_EWOULDBLOCK] = "EWOULDBLOCK",
    [SM_ENOBUFS] = "ENOBUFS",
    [SM_EAFNOSUPPORT] = "EAFNOSUPPORT",
    [SM_ETIMEDOUT] = "ETIMEDOUT",
    [SM_EPIPE] = "EPIPE",
    [SM_EBADF] = "EBADF",
    [SM_EPERM] = "EPERM",
    [SM_ENETUNREACH] = "ENETUNREACH",
    [SM_EFAULT] = "EFAULT",
    [SM_EPROTO] = "EPROTO",
    [SM_ENOSYS] = "ENOSYS",
    [SM_ENOMEM] = "ENOMEM",
};

const char *sm_err_name(sm_err e)
{
    if ((unsigned)e >= SM_ERR_COUNT)
        return "E?";
    return err_names[e];
}

bool sm_err_parse(const char *name, sm_err *out)
{
    if (strcmp(name, "EAGAIN") == 0) { /* the same value on every POSIX OS */
        *out = SM_EWOULDBLOCK;
        return true;
    }
    for (int i = 0; i < SM_ERR_COUNT; i++) {
        if (strcmp(name, err_names[i]) == 0) {
            *out = (sm_err)i;
            return true;
        }
    }
    return false;
}

static const char *const state_names[SM_STATE_COUNT] = {
    [SM_CLOSED] = "CLOSED",           [SM_LISTEN] = "LISTEN",
    [SM_SYN_SENT] = "SYN_SENT",       [SM_SYN_RECEIVED] = "SYN_RECEIVED",
    [SM_ESTABLISHED] = "ESTABLISHED", [SM_FIN_WAIT_1] = "FIN_WAIT_1",
    [SM_FIN_WAIT_2] = "FIN_WAIT_2",   [SM_CLOSE_WAIT] = "CLOSE_WAIT",
    [SM_CLOSING] = "CLOSING",         [SM_LAST_ACK] = "LAST_ACK",
    [SM_TIME_WAIT] = "TIME_WAIT",
};

const char *sm_state_name(sm_tcp_state s)
{
    if ((unsigned)s >= SM_STATE_COUNT)
        return "?";
    return state_names[s];
}

bool sm_state_parse(const char *name, sm_tcp_state *out)
{
    for (int i = 0; i < SM_STATE_COUNT; i++) {
        if (strcmp(name, state_names[i]) == 0) {
            *out = (sm_tcp_state)i;
            return true;
        }
    }
    return false;
}

static const char *const option_names[SM_OPT_COUNT] = {
    [SM_SO_REUSEADDR] = "SO_REUSEADDR",
    [SM_SO_REUSEPORT] = "SO_REUSEPORT",
    [SM_SO_REUSEPORT_LB] = "SO_REUSEPORT_LB",
    [SM_SO_EXCLUSIVEADDRUSE] = "SO_EXCLUSIVEADDRUSE",
    [SM_SO_EXCLBIND] = "SO_EXCLBIND",
    [SM_IPV6_V6ONLY] = "IPV6_V6ONLY",
    [SM_SO_LINGER] = "SO_LINGER",
    [SM_O_NONBLOCK] = "O_NONBLOCK",
    [SM_SO_LINGER_SEC] = "SO_LINGER_SEC",
    [SM_IP_BIND_ADDRESS_NO_PORT] = "IP_BIND_ADDRESS_NO_PORT",
    [SM_IP_LOCAL_PORT_RANGE] = "IP_LOCAL_PORT_RANGE",
    [SM_SO_REUSE_UNICASTPORT] = "SO_REUSE_UNICASTPORT",
};

const char *sm_option_name(sm_option o)
{
    if ((unsigned)o >= SM_OPT_COUNT)
        return "?";
    return option_names[o];
}

bool sm_option_parse(const char *name, sm_option *out)
{
    for (int i = 0; i < SM_OPT_COUNT; i++) {
        if (strcmp(name, option_names[i]) == 0) {
            *out = (sm_option)i;
            return true;
        }
    }
    return false;
}

int sm_option_arity(sm_option o)
{
    return o == SM_SO_LINGER || o == SM_SO_LINGER_SEC || o == SM_IP_LOCAL_PORT_RANGE ? 2 : 1;
}
