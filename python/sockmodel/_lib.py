"""Loading libsockmodel and declaring the C functions used (ctypes).

Responsible for: finding the shared library (SOCKMODEL_LIB, else the build
tree of the checkout the package was installed from or sits in, else the
system's libsockmodel.so.0) and the argument/result types of the engine's
public functions (engine/sm.h).  Enumerations are never written here as
numbers: names go through the library's own parse/name functions.  The
structures below mirror sm_addr, sm_endpoint, sm_rule and sm_result in
engine/sm.h.
"""
import ctypes
import ctypes.util
import os

SM_NONE = 0xFFFFFFFF
SM_EP_STRLEN = 56


class Addr(ctypes.Structure):
    _fields_ = [("family", ctypes.c_uint8), ("b", ctypes.c_uint8 * 16)]


class Endpoint(ctypes.Structure):
    _fields_ = [("addr", Addr), ("port", ctypes.c_uint16)]


class Rule(ctypes.Structure):
    _fields_ = [
        ("id", ctypes.c_char_p),
        ("text", ctypes.c_char_p),
        ("source", ctypes.c_char_p),
        ("confidence", ctypes.c_int),
    ]


class Result(ctypes.Structure):
    _fields_ = [
        ("err", ctypes.c_int),
        ("rule", ctypes.POINTER(Rule)),
        ("culprit", ctypes.c_uint32),
        ("culprit_tw", ctypes.c_bool),
        ("port", ctypes.c_uint16),
        ("bytes", ctypes.c_uint64),
    ]


def _checkout_top():
    """The top of the source tree: recorded at install, or where we sit."""
    try:
        from . import _checkout  # written by setup.py at install time
        return _checkout.TOP
    except ImportError:
        return os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))


def library_candidates():
    env = os.environ.get("SOCKMODEL_LIB")
    if env:
        return [env]
    top = _checkout_top()
    cands = [os.path.join(top, ".libs", "libsockmodel.so")]
    found = ctypes.util.find_library("sockmodel")
    cands.append(found or "libsockmodel.so.0")
    return cands


def load():
    errors = []
    for path in library_candidates():
        if os.sep in path and not os.path.exists(path):
            errors.append("%s: no such file" % path)
            continue
        try:
            return _declare(ctypes.CDLL(path)), path
        except OSError as e:
            errors.append(str(e))
    raise ImportError("sockmodel: cannot load libsockmodel (set SOCKMODEL_LIB "
                      "to its path): " + "; ".join(errors))


def _fn(lib, name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)


def _declare(lib):
    c = ctypes
    P = c.c_void_p
    _fn(lib, "sm_err_name", c.c_char_p, c.c_int)
    _fn(lib, "sm_err_parse", c.c_bool, c.c_char_p, c.POINTER(c.c_int))
    _fn(lib, "sm_option_parse", c.c_bool, c.c_char_p, c.POINTER(c.c_int))
    _fn(lib, "sm_option_arity", c.c_int, c.c_int)
    _fn(lib, "sm_state_name", c.c_char_p, c.c_int)
    _fn(lib, "sm_confidence_name", c.c_char_p, c.c_int)
    _fn(lib, "sm_addr_parse", c.c_bool, c.c_char_p, c.c_size_t, c.POINTER(Addr))
    _fn(lib, "sm_endpoint_format", c.c_size_t, c.POINTER(Endpoint), c.c_char_p,
        c.c_size_t)
    _fn(lib, "sm_profile_count", c.c_size_t)
    _fn(lib, "sm_profile_at", P, c.c_size_t)
    _fn(lib, "sm_profile_find", P, c.c_char_p)
    _fn(lib, "sm_profile_name", c.c_char_p, P)
    _fn(lib, "sm_profile_summary", c.c_char_p, P)
    _fn(lib, "sm_profile_err_name", c.c_char_p, P, c.c_int)
    _fn(lib, "sm_world_new", P, P, c.c_uint64)
    _fn(lib, "sm_world_free", None, P)
    _fn(lib, "sm_host_add", c.c_uint32, P, c.c_char_p)
    _fn(lib, "sm_host_find", c.c_uint32, P, c.c_char_p)
    _fn(lib, "sm_host_add_addr", c.c_bool, P, c.c_uint32, c.POINTER(Addr))
    _fn(lib, "sm_host_time_wait", c.c_uint64, P, c.c_uint32)
    _fn(lib, "sm_user_get", c.c_uint32, P, c.c_char_p)
    _fn(lib, "sm_proc_get", c.c_uint32, P, c.c_uint32, c.c_char_p, c.c_uint32)
    _fn(lib, "sm_socket", Result, P, c.c_uint32, c.c_int, c.c_int, c.c_char_p,
        c.POINTER(c.c_uint32))
    _fn(lib, "sm_setsockopt", Result, P, c.c_uint32, c.c_int, c.c_int, c.c_int)
    _fn(lib, "sm_bind", Result, P, c.c_uint32, c.POINTER(Endpoint))
    _fn(lib, "sm_listen", Result, P, c.c_uint32, c.c_int)
    _fn(lib, "sm_close", Result, P, c.c_uint32)
    _fn(lib, "sm_connect", Result, P, c.c_uint32, c.POINTER(Endpoint))
    _fn(lib, "sm_accept", Result, P, c.c_uint32, c.c_char_p,
        c.POINTER(c.c_uint32))
    _fn(lib, "sm_send", Result, P, c.c_uint32, c.c_uint64)
    _fn(lib, "sm_recv", Result, P, c.c_uint32, c.c_uint64)
    _fn(lib, "sm_shutdown", Result, P, c.c_uint32, c.c_bool, c.c_bool)
    _fn(lib, "sm_now", c.c_uint64, P)
    _fn(lib, "sm_advance", None, P, c.c_uint64)
    _fn(lib, "sm_sock_state", c.c_int, P, c.c_uint32)
    _fn(lib, "sm_sock_local", c.c_bool, P, c.c_uint32, c.POINTER(Endpoint))
    _fn(lib, "sm_sock_remote", c.c_bool, P, c.c_uint32, c.POINTER(Endpoint))
    return lib
