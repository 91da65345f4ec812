#!/bin/sh
# Each tests/bad/*.scn starts with "# expect-error: LINE" giving the exact
# first line sockmodel must print on stderr (the file named by its base
# name, as run from tests/bad/).  The run must exit with status 2 and print
# nothing on stdout: a bad file runs nothing.
set -u
: "${SOCKMODEL:?}" "${TESTS_DIR:?}"
cd "$TESTS_DIR/bad" || exit 1
status=0 n=0
for f in *.scn; do
    n=$((n + 1))
    want=$(sed -n '1s/^# expect-error: //p' "$f")
    out=$("$SOCKMODEL" run "$f" 2>/tmp/sm-bad-$$.err)
    rc=$?
    got=$(head -1 /tmp/sm-bad-$$.err)
    if [ "$rc" -ne 2 ] || [ "$got" != "$want" ] || [ -n "$out" ]; then
        echo "FAIL $f: exit $rc"
        echo "  want: $want"
        echo "  got:  $got"
        [ -z "$out" ] || echo "  stdout was not empty"
        status=1
    else
        echo "ok   $f"
    fi
done
rm -f /tmp/sm-bad-$$.err
[ "$n" -gt 0 ] || { echo "no bad-input cases"; exit 1; }
exit $status
