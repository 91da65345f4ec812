#!/bin/sh
# fuzz-findings.sh - every regression input of fuzz/regress/ (each file
# says what went wrong, or its name does) and of tests/regress/*.scn, and
# the fuzz targets' seed corpora, run through the fuzz target that found it
# (fuzz/once_X: the target with a plain main, built by `make`; it aborts on
# a broken invariant), and the packetdrill scripts and strace logs also
# through sockmodel.  Each run must end within 20 s with exit 0 (a target)
# or 0, 1 or 2 (sockmodel), never a signal, a hang or (in the sanitizer
# build) a report.  A directory of fuzz/regress/ with no target is a
# failure: no finding goes unrun.  `make fuzz-regress` runs the same inputs
# through the libFuzzer builds.
set -u
: "${SOCKMODEL:?}"
: "${TESTS_DIR:?}"
: "${FUZZ_ONCE_DIR:?}"
fuzzdir=$TESTS_DIR/../fuzz
regress=$fuzzdir/regress
fails=0 n=0
check() { # RC WHAT OK-STATUSES
    case " $3 " in
    *" $1 "*) ;;
    *)
        if [ "$1" = 124 ]; then
            echo "FAIL (hang): $2"
        else
            echo "FAIL (exit $1): $2"; head -5 "$tmp"
        fi
        fails=$((fails + 1)) ;;
    esac
    if grep -q "runtime error\|Sanitizer" "$tmp"; then
        echo "FAIL (sanitizer): $2"; head -5 "$tmp"; fails=$((fails + 1))
    fi
}
run() {
    n=$((n + 1))
    timeout 20 "$SOCKMODEL" "$@" >/dev/null 2>"$tmp"
    check $? "sockmodel $*" "0 1 2"
}
target() { # SET FILE
    n=$((n + 1))
    timeout 20 "$FUZZ_ONCE_DIR/once_$1" "$2" >/dev/null 2>"$tmp"
    check $? "fuzz/once_$1 $2" "0"
}
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
for f in "$regress"/pkt/*.pkt; do
    [ -f "$f" ] && run pkt --profile all --verbose "$f"
done
for f in "$regress"/trace/*.strace; do
    [ -f "$f" ] && run trace "$f"
done
nreg=0
for d in "$regress"/*/; do
    set=$(basename "$d")
    if [ ! -x "$FUZZ_ONCE_DIR/once_$set" ]; then
        if [ -f "$fuzzdir/fuzz_$set.c" ] && [ -n "${SM_NOT_BUILT:-}" ]; then
            echo "skip: fuzz/regress/$set (fuzz/once_$set not built: $SM_NOT_BUILT)"
            continue
        fi
        echo "FAIL: fuzz/regress/$set has no target fuzz/once_$set"; fails=$((fails + 1))
        continue
    fi
    for f in "$d"*; do
        [ -f "$f" ] && { target "$set" "$f"; nreg=$((nreg + 1)); }
    done
done
for f in "$TESTS_DIR"/regress/*.scn; do
    [ -f "$f" ] && { target scenario "$f"; nreg=$((nreg + 1)); }
done
nseed=0
for d in "$fuzzdir"/corpus/*/; do
    set=$(basename "$d")
    [ -x "$FUZZ_ONCE_DIR/once_$set" ] || continue
    for f in "$d"*; do
        [ -f "$f" ] && { target "$set" "$f"; nseed=$((nseed + 1)); }
    done
done
echo "$n runs ($nreg regression inputs and $nseed seeds through the targets), $fails failed"
[ $fails = 0 ]
