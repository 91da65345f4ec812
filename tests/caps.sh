#!/bin/sh
# caps.sh - what a hostile input can make sockmodel hold is capped, with an
# error naming the place and exit 2, and the inputs just under each cap
# work (generated files; each cap is far above real inputs):
#  - a packetdrill script: 1000000 events parse (in linear time: a script
#    of a million lines once took minutes), one more is
#    SCRIPT:LINE:COL: more than 1000000 events;
#  - an strace log: 16384 processes are read, one more is
#    LOG:LINE: error: more than 16384 processes.
# (A million hosts in one world: tests/check_engine; the scenario's
# statement cap, SCN_MAX_STMTS: the scenario tests.)
set -u
: "${SOCKMODEL:?}"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect_error RC-FILE ERR-FILE PATTERN WHAT
expect_error() {
    if [ "$1" != 2 ]; then
        fail "$4: exit $1, expected 2"
    elif ! grep -q "$3" "$2"; then
        fail "$4: no '$3' in: $(head -2 "$2")"
    else
        echo "ok   $4: $(head -1 "$2")"
    fi
}

awk 'BEGIN { print "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3";
             for (i = 1; i < 1000000; i++) print "+0 close(3) = 0" }' >"$tmp/max.pkt"
"$SOCKMODEL" pkt --parse-only "$tmp/max.pkt" >"$tmp/out" 2>&1 && echo "ok   pkt: 1000000 events parse" ||
    fail "pkt: 1000000 events: $(head -2 "$tmp/out")"
echo "+0 close(3) = 0" >>"$tmp/max.pkt"
"$SOCKMODEL" pkt --parse-only "$tmp/max.pkt" >/dev/null 2>"$tmp/err"
expect_error $? "$tmp/err" "max.pkt:1000001:1: more than 1000000 events" "pkt: 1000001 events"

awk 'BEGIN { for (i = 1; i <= 16384; i++)
                 printf "%d 12:00:00.%06d socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3\n", i, i }' \
    >"$tmp/max.strace"
"$SOCKMODEL" trace --profile linux "$tmp/max.strace" >"$tmp/out" 2>&1 &&
    echo "ok   trace: 16384 processes read" || fail "trace: 16384 processes: $(head -2 "$tmp/out")"
echo "16385 12:00:01.000000 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3" >>"$tmp/max.strace"
"$SOCKMODEL" trace --profile linux "$tmp/max.strace" >/dev/null 2>"$tmp/err"
expect_error $? "$tmp/err" "max.strace:16385: error: more than 16384 processes" "trace: 16385 processes"

[ $fails = 0 ]
