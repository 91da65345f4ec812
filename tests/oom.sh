#!/bin/sh
# oom.sh - running out of memory is an error the program reports: the
# scenario library never exits or aborts; it returns to sockmodel, which
# prints "sockmodel: error: out of memory" and exits 2.  A scenario of many
# sockets is checked under shrinking address-space limits (ulimit -v): each
# run must succeed or end with exactly that message and status 2 (never a
# signal), and at least one must run out.  Skips (77) where ulimit -v does
# not work (sanitizer builds reserve terabytes of address space) or where
# no limit tried makes the parser run out.
set -u
: "${SOCKMODEL:?}"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
i=0
while [ $i -lt 60000 ]; do echo "s$i = socket tcp4"; i=$((i + 1)); done >"$tmp/big.scn"
if ! (ulimit -v 4000000 && "$SOCKMODEL" check "$tmp/big.scn") >/dev/null 2>"$tmp/err"; then
    echo "SKIP: sockmodel does not run under ulimit -v here: $(head -1 "$tmp/err")"
    exit 77
fi
ran_out=0 status=0
for kb in 6000 8000 10000 16000 24000 40000 64000; do
    (ulimit -v $kb && "$SOCKMODEL" check "$tmp/big.scn") >/dev/null 2>"$tmp/err"
    rc=$?
    if [ $rc -eq 127 ] && grep -q "error while loading shared libraries" "$tmp/err"; then
        echo "--   ulimit -v $kb: too small for the loader to start sockmodel"
    elif [ $rc -eq 0 ]; then
        echo "ok   ulimit -v $kb: enough memory"
    elif [ $rc -eq 2 ] && [ "$(cat "$tmp/err")" = "sockmodel: error: out of memory" ]; then
        echo "ok   ulimit -v $kb: out of memory, reported, exit 2"
        ran_out=1
    else
        echo "FAIL ulimit -v $kb: exit $rc, stderr: $(head -3 "$tmp/err")"
        status=1
    fi
done
if [ $status -eq 0 ] && [ $ran_out -eq 0 ]; then
    echo "SKIP: no limit tried made sockmodel run out of memory"
    exit 77
fi
exit $status
