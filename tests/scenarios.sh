#!/bin/sh
# Runs every scenario under scenarios/ with its expectations (each file
# under the profiles its `profile` line names, all of them by default).
# Fails if any expectation is not met or any file does not parse.
set -u
: "${SOCKMODEL:?}" "${SCENARIO_DIR:?}"
files=$(find "$SCENARIO_DIR" -name '*.scn' | LC_ALL=C sort)
[ -n "$files" ] || { echo "no scenario files under $SCENARIO_DIR"; exit 1; }
status=0
for f in $files; do
    out=$("$SOCKMODEL" run "$f" 2>&1)
    rc=$?
    summary=$(printf '%s\n' "$out" | tail -1)
    if [ "$rc" -ne 0 ]; then
        echo "FAIL ${f#"$SCENARIO_DIR"/} (exit $rc)"
        printf '%s\n' "$out" | grep -E ': (expected|error)|^    ' | head -40
        status=1
    else
        echo "ok   ${f#"$SCENARIO_DIR"/}: $summary"
    fi
done
exit $status
