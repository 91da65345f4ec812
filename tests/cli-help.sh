#!/bin/sh
# cli-help.sh - every subcommand's --help prints its own usage on standard
# output and exits 0, and command-line errors name what is wrong once
# (issue 15: `check --help` printed run's usage, `profiles --help` failed,
# probe's --profile error repeated its prefix).
set -u
: "${SOCKMODEL:?}"
status=0
expect_usage() { # SUBCOMMAND: --help prints "usage: sockmodel SUBCOMMAND", exit 0
    out=$("$SOCKMODEL" "$1" --help 2>&1); rc=$?
    first=$(printf '%s\n' "$out" | head -1)
    case $first in
        "usage: sockmodel $1"*) [ "$rc" -eq 0 ] && { echo "ok   $1 --help"; return; } ;;
    esac
    echo "FAIL $1 --help: exit $rc, first line: $first"; status=1
}
for c in run check profiles gen probe replay; do expect_usage "$c"; done

err=$("$SOCKMODEL" probe --profile nosuch 2>&1 >/dev/null); rc=$?
n=$(printf '%s\n' "$err" | grep -o -- '--profile:' | wc -l)
if [ "$rc" -eq 2 ] && [ "$n" -eq 1 ]; then echo "ok   probe --profile error names --profile once"
else echo "FAIL probe --profile nosuch: exit $rc, '$err'"; status=1; fi

err=$("$SOCKMODEL" check --bogus 2>&1 >/dev/null); rc=$?
case $err in
    *"sockmodel check --help"*) [ "$rc" -eq 2 ] && echo "ok   check's errors point at check --help" ;;
    *) echo "FAIL check --bogus: exit $rc, '$err'"; status=1 ;;
esac
exit $status
