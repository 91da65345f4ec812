#!/bin/sh
# host-profile.sh - the host profile (hostkernel/hk_kernel.c): runs
# tests/host/basics.scn and scenarios/teaching/server-cannot-rebind.scn
# under `linux,host` as root in private network namespaces and checks that
# every expectation is met, that the table has a host column and that the
# TIME_WAIT wait is reported as skipped, that --pcap/--svg say the host
# column is not captured/drawn; then checks that a run without
# the privilege to create a namespace exits 2 with the message that says
# so, and that a file with a host pinned to a modelled OS is refused (exit
# 2).  Skips (77) when not root or when network namespaces are unavailable.
set -u
SM=${SOCKMODEL:-./cli/sockmodel}
T=${TESTS_DIR:-tests}
S=${SCENARIO_DIR:-scenarios}
fail() { echo "FAIL: $*"; exit 1; }

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: the host profile needs root (network namespaces)"; exit 77
fi
if ! command -v unshare >/dev/null 2>&1 || ! unshare -n true 2>/dev/null; then
    echo "SKIP: cannot create a network namespace here (unshare -n failed)"
    exit 77
fi

out=$("$SM" run --profile linux,host "$T/host/basics.scn" 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || fail "basics.scn: exit $rc, expected 0"
echo "$out" | grep -q '^LINE  STEP .* linux  *host$' || fail "no host column"
echo "$out" | grep -q 'host: cannot reproduce `wait 61s` quickly (a connection is in TIME_WAIT' \
    || fail "the 61 s wait was not reported as skipped"
echo "$out" | grep -q ' 0 not met' || fail "an expectation was not met"

out=$("$SM" run --profile linux,host "$S/teaching/server-cannot-rebind.scn" 2>&1)
rc=$?
[ $rc -eq 0 ] || { echo "$out"; fail "server-cannot-rebind.scn: exit $rc"; }

# A mixed-OS world (a host pinned with `os`) is refused by the host column:
# the real kernel runs whole scenarios only.  Exit 2, naming the line.
out=$("$SM" run --profile linux,host "$S/teaching/mixed-windows-server-time-wait.scn" 2>&1)
rc=$?
[ $rc -eq 2 ] || { echo "$out"; fail "mixed-OS file under host: exit $rc, expected 2"; }
echo "$out" | grep -q 'mixed-windows-server-time-wait.scn:52: host win is pinned to os windows, but the host profile (the real kernel) runs whole scenarios only' ||
    { echo "$out"; fail "mixed-OS file under host: no message naming the pinned host"; }

# JSON carries the skip message.
"$SM" run --json --profile host "$T/host/basics.scn" 2>&1 |
    grep -q '"skipped":true,"message":"host: cannot reproduce' ||
    fail "JSON has no skip message"

# --pcap and --svg: the host column has no model world; it is named on
# stderr as not captured / not drawn, the linux column's files are written
# under their two-column names, and no file is made for host.
pd=$(mktemp -d "${TMPDIR:-/tmp}/sm-host-out.XXXXXX") || exit 99
"$SM" run --profile linux,host --pcap "$pd/c.pcap" --svg "$pd/d.svg" \
    "$S/teaching/server-cannot-rebind.scn" >/dev/null 2>"$pd/err"
rc=$?
grep -q '^sockmodel: note: --pcap: the host column is not captured: ' "$pd/err" &&
grep -q '^sockmodel: note: --svg: the host column is not drawn: ' "$pd/err" &&
[ -s "$pd/c.linux.pcap" ] && [ -s "$pd/d.linux.svg" ] &&
[ ! -e "$pd/c.host.pcap" ] && [ ! -e "$pd/d.host.svg" ] && [ $rc -eq 0 ] ||
    { cat "$pd/err"; ls "$pd"; rm -rf "$pd"; fail "--pcap/--svg with host (exit $rc)"; }
rm -rf "$pd"

# Without the privilege: exit 2 and the message.
if command -v setpriv >/dev/null 2>&1; then
    # the scenario goes to a directory that user can read: the checkout may
    # sit under a directory only root may enter (mktemp -d makes them 0700)
    pub=$(mktemp -d "${TMPDIR:-/tmp}/sm-host-unpriv.XXXXXX") || exit 99
    chmod 755 "$pub" && cp "$T/host/basics.scn" "$pub/" && chmod 644 "$pub/basics.scn" || exit 99
    err=$(setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all \
          "$SM" run --profile host "$pub/basics.scn" 2>&1 >/dev/null)
    rc=$?
    rm -rf "$pub"
    echo "$err" | grep -q 'the host profile needs to create a network namespace: run as root (unshare(CLONE_NEWNET): Operation not permitted)' ||
        fail "unprivileged run: message missing, got: $err"
    [ $rc -eq 2 ] || fail "unprivileged run: exit $rc, expected 2"
else
    echo "note: setpriv missing, the unprivileged run is not checked"
fi
echo "PASS"
