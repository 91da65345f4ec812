#!/bin/sh
# trace-logs.sh - `sockmodel trace` on the strace logs in tests/data/strace
# (real logs of small Python programs, cut to their socket lines), with
# what this machine did known from the log itself:
#
#  - reuse-after-close.strace (-yy): a listener bound to 127.0.0.1 port 0,
#    a connect to the port the kernel picked, accept4, closes, then a new
#    socket binds that port.  The linux profiles agree on every call; no
#    profile predicts that the accept blocks forever (the mirror once
#    bound the listener to a port of its own choosing, so the connect went
#    to an invented peer listener and the accept waited for nobody).
#  - dual-stack-port0.strace (-yy): a dual-stack [::] listener on port 0,
#    then a SO_REUSEADDR bind of 127.0.0.1 to its port: EADDRINUSE here
#    (Linux: the dual-stack wildcard holds the port for IPv4 too), which
#    linux and linux-3.8 predict; FreeBSD lets SO_REUSEADDR share it with
#    another address (rule bsd.bind.reuse-no-exact: only an exact-address
#    match is looked at), so bsd diverges on that bind only.
#  - port0-no-annotations.strace (no -yy): the port picked at bind is read
#    from getsockname; the scenario written binds that port.
#  - port-options.strace (-yy, tests/programs/prog_portopt 7101 7102
#    41239): two clients with IP_BIND_ADDRESS_NO_PORT and
#    IP_LOCAL_PORT_RANGE 41239..41239 bind 127.0.0.1:0 and connect to two
#    listeners, both from port 41239; a bind of 41239 is then EADDRINUSE,
#    and so is a bind to port 0 in that one-port range.  linux agrees on
#    every call (the options are mirrored, and each accept is matched with
#    the connect to its own listener); linux-3.8 refuses the first option
#    (ENOPROTOOPT: it arrived in 4.2).
#  - udp-sendto.strace (-yy): two UDP sockets trade datagrams with sendto
#    and recvfrom, then one connects, sends, and sends with sendto to
#    another port.  Each sendto is the model's (the receiver reads what was
#    sent; the sender keeps the port it got); linux agrees on every call,
#    bsd refuses the sendto on the connected socket (EISCONN).
#  - listen-race.strace (-yy, written by hand with the interleaving a
#    loaded machine gives curl polling a restarting server): the server's
#    listen starts, a non-blocking connect to its port returns EINPROGRESS
#    before the listen returns, and SO_ERROR then says ECONNREFUSED (the
#    kernel answered the SYN before the listen took effect); the retry
#    gets through.  A record ordered by when the call started (strace) or
#    a listen stamped when it started (exec) puts the listen first; the
#    refusal tells the kernel's order, and every profile but the Windows
#    ones (WSAEWOULDBLOCK) agrees on every call, the SO_ERROR included.
set -u
: "${SOCKMODEL:?}" "${TESTS_DIR:?}"
d=$TESTS_DIR/data/strace
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$SOCKMODEL" trace --profile all "$d/reuse-after-close.strace" >"$tmp/r1" 2>&1
rc=$?
[ $rc = 0 ] || { fail "reuse-after-close: exit $rc, expected 0 (no profile diverges)"; cat "$tmp/r1"; }
! grep -q "block forever" "$tmp/r1" || fail "reuse-after-close: an accept predicted to block forever"
[ "$(grep -c 'same results as observed' "$tmp/r1")" = 12 ] ||
    fail "reuse-after-close: not all 12 profiles agree"

"$SOCKMODEL" trace --profile linux,linux-3.8,bsd "$d/dual-stack-port0.strace" >"$tmp/r2" 2>&1
rc=$?
[ $rc = 1 ] || fail "dual-stack-port0: exit $rc, expected 1"
grep -q '^linux: same results as observed' "$tmp/r2" || fail "dual-stack-port0: linux diverges"
grep -q '^linux-3.8: same results as observed' "$tmp/r2" || fail "dual-stack-port0: linux-3.8 diverges"
grep -q '^bsd: 1 call would differ (0 after divergence)' "$tmp/r2" ||
    fail "dual-stack-port0: bsd should differ on the one bind"
grep -A2 'bind(4, 127.0.0.1:47165)' "$tmp/r2" | grep -q 'predicted: *ok' ||
    fail "dual-stack-port0: bsd should let the bind share the port"
[ $fails = 0 ] || cat "$tmp/r2"

"$SOCKMODEL" trace --profile linux --scenario-out "$tmp/s3.scn" "$d/port0-no-annotations.strace" >"$tmp/r3" 2>&1 ||
    { fail "port0-no-annotations: linux diverges"; cat "$tmp/r3"; }
grep -q '^bind proc_fd3 127.0.0.1:44613 => linux: ok' "$tmp/s3.scn" ||
    { fail "port0-no-annotations: the listener is not bound to the port getsockname read"; cat "$tmp/s3.scn"; }
"$SOCKMODEL" run "$tmp/s3.scn" >/dev/null 2>&1 || fail "port0-no-annotations: the scenario does not reproduce the run"

"$SOCKMODEL" trace --profile linux,linux-3.8,windows --scenario-out "$tmp/s4.scn" "$d/port-options.strace" >"$tmp/r4" 2>&1
grep -q '^linux: same results as observed' "$tmp/r4" || { fail "port-options: linux diverges"; cat "$tmp/r4"; }
grep -A2 'port-options.strace:10  setsockopt(5, SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)$' "$tmp/r4" |
    grep -q 'predicted: *ENOPROTOOPT' || fail "port-options: linux-3.8 should refuse IP_BIND_ADDRESS_NO_PORT"
grep -q 'setsockopt(5, SOL_IP, IP_LOCAL_PORT_RANGE, {41239, 41239})' "$tmp/r4" ||
    fail "port-options: IP_LOCAL_PORT_RANGE not reported by name"
grep -q '^setsockopt proc_fd7 IP_LOCAL_PORT_RANGE 41239 41239 => linux: ok' "$tmp/s4.scn" ||
    fail "port-options: the range is not in the scenario"
grep -q '^bind proc_fd9 127.0.0.1:41239 => linux: EADDRINUSE' "$tmp/s4.scn" ||
    fail "port-options: the bind of the shared port is not EADDRINUSE in the scenario"
"$SOCKMODEL" run "$tmp/s4.scn" >/dev/null 2>&1 || fail "port-options: the scenario does not reproduce the run"

"$SOCKMODEL" trace --profile linux,bsd --scenario-out "$tmp/s5.scn" "$d/udp-sendto.strace" >"$tmp/r5" 2>&1
grep -q '^linux: same results as observed' "$tmp/r5" || { fail "udp-sendto: linux diverges"; cat "$tmp/r5"; }
grep -q '^bsd: 1 call would differ (0 after divergence)' "$tmp/r5" &&
    grep -A2 'udp-sendto.strace:11  sendto(4, 1, 127.0.0.1:7031)$' "$tmp/r5" | grep -q 'predicted: *EISCONN' ||
    { fail "udp-sendto: bsd should refuse only the sendto on the connected socket"; cat "$tmp/r5"; }
grep -q '^sendto proc_fd4 127.0.0.1:7030 4 => linux: ok' "$tmp/s5.scn" || fail "udp-sendto: the sendto is not in the scenario"
grep -q '^bind proc_fd4 0.0.0.0:59608  # the port this machine gave it at sendto' "$tmp/s5.scn" ||
    fail "udp-sendto: the sending socket does not keep the port it got"
! grep -q 'peer_udp' "$tmp/s5.scn" || fail "udp-sendto: a datagram the program sent came from an invented peer"
"$SOCKMODEL" run "$tmp/s5.scn" >/dev/null 2>&1 || fail "udp-sendto: the scenario does not reproduce the run"

"$SOCKMODEL" trace --profile all --scenario-out "$tmp/s6.scn" "$d/listen-race.strace" >"$tmp/r6" 2>&1
[ "$(grep -c 'same results as observed' "$tmp/r6")" = 10 ] &&
    ! grep -q 'SO_ERROR' "$tmp/r6" ||
    { fail "listen-race: a profile predicts another SO_ERROR than the refusal"; cat "$tmp/r6"; }
"$SOCKMODEL" run "$tmp/s6.scn" >/dev/null 2>&1 || fail "listen-race: the scenario does not reproduce the run"

[ $fails = 0 ] && echo "trace logs: all cases passed"
[ $fails = 0 ]
