"""sockmodel: a deterministic model of OS socket semantics, from Python.

A socket-module-shaped API over libsockmodel (through ctypes):

    >>> import sockmodel
    >>> w = sockmodel.World(profile="windows", seed=1)
    >>> s = w.socket(sockmodel.AF_INET, sockmodel.SOCK_STREAM)
    >>> s.bind(("0.0.0.0", 8080))

Each call is decided by the chosen OS profile; a call that fails raises
OSError whose errno is the host Python's number for the portable error
(errno.EADDRINUSE...), whose strerror gives the profile's own name for it
(WSAEADDRINUSE under Windows) and the rule that decided, and which carries
the attributes sm_errname (the profile's name), sm_portable (the POSIX
name), sm_rule (the rule as a sentence with its source), sm_rule_id (its
stable dotted ID, docs/rules.md) and sm_confidence ("source", "test",
"observed", "documented", "inferred" or "unverified").  run_scenario() runs a scenario file through the
sockmodel program and returns its --json report as Python objects.
"""
import ctypes
import errno as _errno
import json
import os
import shutil
import subprocess

from . import _lib

_c, LIBRARY_PATH = _lib.load()

AF_INET = 2
AF_INET6 = 10
SOCK_STREAM = 1
SOCK_DGRAM = 2
_FAMILY = {AF_INET: 4, AF_INET6: 6}
# sm_proto has no name functions in the library; these two mirror
# SM_TCP and SM_UDP in engine/sm.h.
_PROTO = {SOCK_STREAM: 0, SOCK_DGRAM: 1}

__all__ = ["World", "Socket", "profiles", "run_scenario", "ScenarioError",
           "AF_INET", "AF_INET6", "SOCK_STREAM", "SOCK_DGRAM", "LIBRARY_PATH"]


def _s(b):
    return b.decode() if b is not None else None


def _rule(r):
    """(line, id, confidence) of a result's rule: the line is the text with
    its source in brackets, as the command line's --explain shows it."""
    if not r.rule:
        return None, None, None
    rec = r.rule.contents
    text, src = _s(rec.text), _s(rec.source)
    line = "%s [%s]" % (text, src) if src else text
    return line, _s(rec.id), _s(_c.sm_confidence_name(rec.confidence))


def profiles():
    """The names of every profile the library has, in its order."""
    return [_s(_c.sm_profile_name(_c.sm_profile_at(i)))
            for i in range(_c.sm_profile_count())]


def _option(name):
    v = ctypes.c_int()
    if not _c.sm_option_parse(name.encode(), ctypes.byref(v)):
        raise ValueError("sockmodel: unknown socket option %r" % name)
    return v.value


def _endpoint(address, family):
    host, port = address[0], address[1]
    if host in ("", None):
        host = "0.0.0.0" if family == 4 else "::"
    ep = _lib.Endpoint()
    h = host.encode()
    if not _c.sm_addr_parse(h, len(h), ctypes.byref(ep.addr)):
        raise OSError(_errno.EINVAL, "sockmodel: not an address: %r" % host)
    if not 0 <= int(port) <= 65535:
        raise OverflowError("port must be 0-65535")
    ep.port = int(port)
    return ep


def _address(ep):
    """A Python-style address tuple of an sm_endpoint."""
    buf = ctypes.create_string_buffer(_lib.SM_EP_STRLEN)
    _c.sm_endpoint_format(ctypes.byref(ep), buf, len(buf))
    text = buf.value.decode()
    host = text[:text.rindex(":")].strip("[]")
    return (host, ep.port)


class World:
    """One modelled world under one OS profile: a host named "local" (with
    127.0.0.1, ::1 and the ADDRESSES given), users and processes."""

    def __init__(self, profile="linux", seed=1,
                 addresses=("192.0.2.1", "192.0.2.2", "2001:db8::1")):
        self._p = _c.sm_profile_find(profile.encode())
        if not self._p:
            raise ValueError("sockmodel: no profile %r (have: %s)"
                             % (profile, ", ".join(profiles())))
        self.profile = _s(_c.sm_profile_name(self._p))
        self._w = _c.sm_world_new(self._p, seed)
        if not self._w:
            raise MemoryError("sockmodel: sm_world_new failed")
        self._host = _c.sm_host_add(self._w, b"local")
        for a in addresses:
            addr = _lib.Addr()
            t = a.encode()
            if not _c.sm_addr_parse(t, len(t), ctypes.byref(addr)):
                raise ValueError("sockmodel: not an address: %r" % a)
            _c.sm_host_add_addr(self._w, self._host, ctypes.byref(addr))
        self._names = 0

    def __del__(self):
        w = getattr(self, "_w", None)
        if w:
            _c.sm_world_free(w)
            self._w = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.__del__()

    def _raise_if(self, r):
        if r.err == 0:
            return r
        portable = _s(_c.sm_err_name(r.err))
        native = _s(_c.sm_profile_err_name(self._p, r.err))
        rule, rule_id, confidence = _rule(r)
        rule = rule or ""
        e = OSError(getattr(_errno, portable, _errno.EIO),
                    "%s: %s" % (native, rule) if rule else native)
        e.sm_errname, e.sm_portable, e.sm_rule = native, portable, rule
        e.sm_rule_id, e.sm_confidence = rule_id, confidence
        raise e

    def _name(self):
        self._names += 1
        return "s%d" % self._names

    def socket(self, family=AF_INET, type=SOCK_STREAM, proto=0, *,
               user="user", process="main"):
        """A new socket, created by PROCESS of USER on the host."""
        if family not in _FAMILY:
            raise OSError(_errno.EAFNOSUPPORT, "address family not supported")
        if type not in _PROTO:
            raise OSError(_errno.EPROTONOSUPPORT, "socket type not supported")
        uid = _c.sm_user_get(self._w, user.encode())
        proc = _c.sm_proc_get(self._w, self._host,
                              ("%s@%s" % (process, user)).encode(), uid)
        out = ctypes.c_uint32(_lib.SM_NONE)
        name = self._name()
        self._raise_if(_c.sm_socket(self._w, proc, _PROTO[type],
                                    _FAMILY[family], name.encode(),
                                    ctypes.byref(out)))
        return Socket(self, out.value, family, type, name)

    def advance(self, seconds):
        """Run the virtual clock forward (segments delivered, timers fired)."""
        _c.sm_advance(self._w, int(round(seconds * 1e9)))

    @property
    def now(self):
        """Virtual time in seconds since the world began."""
        return _c.sm_now(self._w) / 1e9

    def time_wait_count(self):
        """TIME_WAIT entries alive on the host now."""
        return _c.sm_host_time_wait(self._w, self._host)


class Socket:
    """A modelled socket; methods mirror the socket module's."""

    def __init__(self, world, sid, family, type, name):
        self._world, self._id = world, sid
        self.family, self.type, self.name = family, type, name
        self._fam = _FAMILY[family]
        self.last_rule = None
        self.last_rule_id = None

    def _do(self, r):
        self._world._raise_if(r)
        self.last_rule, self.last_rule_id, _ = _rule(r)
        return r

    def setsockopt(self, optname, value, value2=0):
        """OPTNAME is the option's name ("SO_REUSEADDR"); SO_LINGER takes
        (onoff, seconds) as VALUE, or VALUE and VALUE2."""
        if isinstance(value, (tuple, list)):
            value, value2 = value
        self._do(_c.sm_setsockopt(self._world._w, self._id, _option(optname),
                                  int(value), int(value2)))

    def bind(self, address):
        self._do(_c.sm_bind(self._world._w, self._id,
                            ctypes.byref(_endpoint(address, self._fam))))

    def listen(self, backlog=128):
        self._do(_c.sm_listen(self._world._w, self._id, backlog))

    def connect(self, address):
        self._do(_c.sm_connect(self._world._w, self._id,
                               ctypes.byref(_endpoint(address, self._fam))))

    def connect_ex(self, address):
        try:
            self.connect(address)
        except OSError as e:
            return e.errno
        return 0

    def accept(self):
        out = ctypes.c_uint32(_lib.SM_NONE)
        name = self._world._name()
        self._do(_c.sm_accept(self._world._w, self._id, name.encode(),
                              ctypes.byref(out)))
        s = Socket(self._world, out.value, self.family, self.type, name)
        return s, s.getpeername()

    def send(self, data):
        n = data if isinstance(data, int) else len(data)
        return self._do(_c.sm_send(self._world._w, self._id, n)).bytes

    sendall = send

    def recv(self, bufsize):
        """Payload is not modelled: returns as many zero bytes as arrived."""
        return bytes(self._do(_c.sm_recv(self._world._w, self._id,
                                         bufsize)).bytes)

    def shutdown(self, how):
        self._do(_c.sm_shutdown(self._world._w, self._id,
                                how in (0, 2), how in (1, 2)))

    def close(self):
        self._do(_c.sm_close(self._world._w, self._id))

    def getsockname(self):
        ep = _lib.Endpoint()
        _c.sm_sock_local(self._world._w, self._id, ctypes.byref(ep))
        return _address(ep)

    def getpeername(self):
        ep = _lib.Endpoint()
        if not _c.sm_sock_remote(self._world._w, self._id, ctypes.byref(ep)):
            raise OSError(_errno.ENOTCONN, "not connected")
        return _address(ep)

    @property
    def state(self):
        """The TCP state name ("LISTEN", "TIME_WAIT"...)."""
        return _s(_c.sm_state_name(_c.sm_sock_state(self._world._w, self._id)))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class ScenarioError(Exception):
    """The sockmodel program rejected the scenario (exit 2) or failed."""


def _program():
    env = os.environ.get("SOCKMODEL")
    if env:
        return env
    top = _lib._checkout_top()
    intree = os.path.join(top, "cli", "sockmodel")
    if os.access(intree, os.X_OK):
        return intree
    return shutil.which("sockmodel") or "sockmodel"


# The `run --json` format this package reads (docs/schema/sockmodel-run-2.schema.json).
RUN_FORMAT = "sockmodel-run/2"


def run_scenario(path, profile=None, seed=None, program=None):
    """Runs scenario file PATH with `sockmodel run --json` and returns the
    report as Python objects (dicts and lists), with "exit_status" added
    (0: every expectation met, 1: some not met).  Raises ScenarioError on a
    bad file or a failing program."""
    cmd = [program or _program(), "run", "--json"]
    if profile:
        cmd += ["--profile", profile]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    cmd.append(os.fspath(path))
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise ScenarioError("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                                 p.stderr.strip()))
    report = json.loads(p.stdout)
    if report.get("format") != RUN_FORMAT:
        raise ScenarioError("%s: JSON format %r, this package reads %s" % (
            " ".join(cmd), report.get("format"), RUN_FORMAT))
    report["exit_status"] = p.returncode
    return report
