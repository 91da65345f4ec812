"""A portability layer's choices per OS, asserted against the model.

The layer under test is the one CPython's socketserver and asyncio use for
a server socket: on POSIX set SO_REUSEADDR before bind() so a restarted
server can take its port back while the old connections sit in TIME_WAIT;
on Windows set nothing (SO_REUSEADDR there would let another socket take
the port outright) and rely on Windows letting a bind through TIME_WAIT.
"""
import errno
import os
import pathlib

import pytest

import sockmodel

PORT = 8080


def server_socket(world, os_family):
    """The layer: what it does before bind() on each OS."""
    s = world.socket(sockmodel.AF_INET, sockmodel.SOCK_STREAM)
    if os_family != "windows":
        s.setsockopt("SO_REUSEADDR", 1)
    s.bind(("0.0.0.0", PORT))
    s.listen()
    return s


def leave_time_wait(world, srv):
    """A client connects, the server closes its side first (so the server
    end of the connection enters TIME_WAIT), and the listener goes away."""
    c = world.socket()
    c.connect(("192.0.2.1", PORT))
    conn, _ = srv.accept()
    conn.close()
    c.close()
    srv.close()
    world.advance(0.5)
    assert world.time_wait_count() >= 1


@pytest.mark.parametrize("profile,family", [
    # (bsd is left out: FreeBSD keeps no TIME_WAIT for a connection to the
    # host's own address, and this world has one host.)
    ("linux", "posix"), ("macos", "posix"),
    ("solaris", "posix"), ("windows", "windows"),
    ("windows-classic", "windows"),
])
def test_restart_over_time_wait(profile, family):
    with sockmodel.World(profile=profile, seed=1) as w:
        leave_time_wait(w, server_socket(w, family))
        again = server_socket(w, family)  # must not raise
        assert again.state == "LISTEN"


@pytest.mark.parametrize("profile", ["linux", "macos", "solaris"])
def test_posix_needs_reuseaddr(profile):
    """Without the layer's SO_REUSEADDR, POSIX refuses the restart."""
    with sockmodel.World(profile=profile, seed=1) as w:
        leave_time_wait(w, server_socket(w, "posix"))
        s = w.socket()
        with pytest.raises(OSError) as ei:
            s.bind(("0.0.0.0", PORT))
        assert ei.value.errno == errno.EADDRINUSE
        assert ei.value.sm_errname == "EADDRINUSE"
        assert ei.value.sm_rule
        # The rule's stable ID names the OS family that decided.
        family = {"linux": "linux", "macos": "xnu", "solaris": "solaris"}[profile]
        assert ei.value.sm_rule_id.startswith(family + ".bind.")
        assert ei.value.sm_confidence in ("source", "test", "observed",
                                          "documented", "inferred", "unverified")


def test_windows_reuseaddr_steals_a_port():
    """Why the layer sets nothing on Windows: there SO_REUSEADDR lets a
    second socket bind a port a listener holds; Linux refuses it."""
    errors = {}
    for profile in ("linux", "windows"):
        with sockmodel.World(profile=profile) as w:
            server_socket(w, "posix")
            thief = w.socket(user="mallory")
            thief.setsockopt("SO_REUSEADDR", 1)
            try:
                thief.bind(("0.0.0.0", PORT))
                errors[profile] = None
            except OSError as e:
                errors[profile] = e.sm_errname
    assert errors == {"linux": "EADDRINUSE", "windows": None}


def test_windows_error_names():
    with sockmodel.World(profile="windows") as w:
        a = w.socket()
        a.bind(("0.0.0.0", PORT))
        b = w.socket()
        with pytest.raises(OSError) as ei:
            b.bind(("0.0.0.0", PORT))
        assert ei.value.sm_errname == "WSAEADDRINUSE"
        assert ei.value.sm_portable == "EADDRINUSE"
        assert isinstance(ei.value, OSError)


def test_unknown_profile_and_option():
    with pytest.raises(ValueError):
        sockmodel.World(profile="plan9")
    with sockmodel.World() as w:
        with pytest.raises(ValueError):
            w.socket().setsockopt("SO_NOSUCH", 1)
    assert "linux" in sockmodel.profiles()


def test_run_scenario_results_as_objects():
    top = pathlib.Path(os.environ.get("SCENARIO_DIR", pathlib.Path(
        __file__).resolve().parents[2] / "scenarios"))
    scn = top / "portability" / "cpython-asyncio-udp-reuse.scn"
    rep = sockmodel.run_scenario(scn, profile="linux,windows")
    assert rep["exit_status"] == 0
    (f,) = rep["files"]
    assert f["profiles"] == ["linux", "windows"]
    bind = [s for s in f["steps"] if s["text"] == "bind u2 0.0.0.0:5353"][0]
    assert bind["outcomes"]["linux"]["result"] == "ok"
    assert bind["outcomes"]["windows"]["native"] == "WSAEADDRINUSE"
    assert rep["format"] == sockmodel.RUN_FORMAT
    win = bind["outcomes"]["windows"]
    assert win["rule_id"].startswith("windows.bind.")
    assert win["confidence"] in ("source", "test", "observed", "documented",
                                 "inferred", "unverified")
