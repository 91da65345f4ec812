#!/bin/sh
# fuzz-findings.sh - the fuzzers' findings in packetdrill scripts and
# strace logs (fuzz/regress/pkt, fuzz/regress/trace; each file says what
# went wrong) run through sockmodel: each must end within 20 s with exit
# 0, 1 or 2, never a signal, a hang or (in the sanitizer build) a report.
# `make fuzz-regress` runs them through the fuzz targets too.
set -u
: "${SOCKMODEL:?}"
: "${TESTS_DIR:?}"
regress=$TESTS_DIR/../fuzz/regress
fails=0 n=0
run() {
    n=$((n + 1))
    timeout 20 "$SOCKMODEL" "$@" >/dev/null 2>"$tmp"
    rc=$?
    case $rc in
    0 | 1 | 2) ;;
    124) echo "FAIL (hang): sockmodel $*"; fails=$((fails + 1)) ;;
    *) echo "FAIL (exit $rc): sockmodel $*"; head -5 "$tmp"; fails=$((fails + 1)) ;;
    esac
    if grep -q "runtime error\|Sanitizer" "$tmp"; then
        echo "FAIL (sanitizer): sockmodel $*"; head -5 "$tmp"; fails=$((fails + 1))
    fi
}
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
for f in "$regress"/pkt/*.pkt; do
    [ -f "$f" ] && run pkt --profile all --verbose "$f"
done
for f in "$regress"/trace/*.strace; do
    [ -f "$f" ] && run trace "$f"
done
echo "$n findings replayed, $fails failed"
[ $fails = 0 ]
