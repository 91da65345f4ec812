#!/bin/sh
# lang2.sh - the language's second edition at run time (shared/spec/
# scenario-language.md, "Additions"): what a parse cannot catch.
#   - a `$S` reference to a socket that never had a port is an error at
#     that step (exit 1, the cell says "error" and why), under every
#     profile;
#   - every scenarios/lang/*.scn meets its expectations under `linux,host`
#     (the real kernel in private network namespaces), where root and
#     namespaces are available; that part is skipped with the reason
#     otherwise (the model part still counts).
set -u
: "${SOCKMODEL:?}" "${SCENARIO_DIR:?}"
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-lang2.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

printf 'a = socket tcp4\nb = socket tcp4\nbind b 127.0.0.1:$a\n' >"$tmp/ref.scn"
out=$("$SOCKMODEL" run --profile all "$tmp/ref.scn" 2>&1)
rc=$?
[ $rc -eq 1 ] || { echo "$out"; fail "\$a without a port: exit $rc, expected 1"; }
n=$(printf '%s\n' "$out" | grep -c 'socket a never had a port under this profile')
np=$("$SOCKMODEL" profiles | wc -l)
[ "$n" -eq "$np" ] || { echo "$out"; fail "\$a without a port: $n profiles said why, expected $np"; }
echo "ok   \$S without a port is an error at its step under every profile"

if [ "$(id -u)" != 0 ]; then
    echo "SKIP (host part): the host profile needs root (network namespaces)"
    exit 0
fi
if ! command -v unshare >/dev/null 2>&1 || ! unshare -n true 2>/dev/null; then
    echo "SKIP (host part): cannot create a network namespace here"
    exit 0
fi
status=0
for f in "$SCENARIO_DIR"/lang/*.scn; do
    out=$("$SOCKMODEL" run --profile linux,host "$f" 2>&1)
    rc=$?
    if [ $rc -ne 0 ]; then
        printf '%s\n' "$out" | grep -E ': (expected|error)|^    ' | head -20
        echo "FAIL ${f#"$SCENARIO_DIR"/} under linux,host (exit $rc)"
        status=1
    else
        echo "ok   ${f#"$SCENARIO_DIR"/} under linux,host: $(printf '%s\n' "$out" | tail -1)"
    fi
done
exit $status
